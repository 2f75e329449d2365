/* Validate: the shapes of addresses and mailboxes as the config may write them, and the parts
 * of a mailbox as the From header and the envelope sender take them. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "noticed/validate.h"

static void test_validate_mail_address_takes_dot_atoms_and_domains(void **state) {
        static const char *const good[] = {
                "n@x.example",   "bounces+noticed@x.example", "a.b-c_d!#$%&'*/=?^`{|}~@x-y.example",
                "b@[192.0.2.1]", "b@[IPv6:2001:db8::1]",      "n@localhost",
        };
        static const char *const bad[] = {
                "",
                "n",
                "@x.example",
                "n@",
                ".n@x.example",
                "n.@x.example",
                "n..m@x.example",
                "n@x..example",
                "n@.x.example",
                "n@x.example.",
                "n@x_y.example",
                "n@@x.example",
                "n@x@y.example",
                "n m@x.example",
                "\"n\"@x.example",
                "n@[192.0.2.1",
                "Name <n@x.example>",
        };
        (void) state;

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                if (!validate_mail_address(good[i]))
                        fail_msg("refused: %s", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (validate_mail_address(bad[i]))
                        fail_msg("accepted: %s", bad[i]);
}

static void test_validate_mail_address_bounds_local_part_and_domain(void **state) {
        char s[400];
        (void) state;

        memset(s, 'a', 64);
        strcpy(s + 64, "@x.example");
        assert_true(validate_mail_address(s));
        memset(s, 'a', 65);
        strcpy(s + 65, "@x.example");
        assert_false(validate_mail_address(s));
        strcpy(s, "n@");
        memset(s + 2, 'a', 253);
        s[255] = '\0';
        assert_true(validate_mail_address(s));
        strcpy(s + 255, "a");
        assert_false(validate_mail_address(s));
}

static void assert_mailbox(const char *s, const char *name, const char *address) {
        Mailbox m;

        assert_true(validate_mailbox(s, &m));
        if (name) {
                assert_non_null(m.name);
                assert_int_equal(m.name_len, strlen(name));
                assert_memory_equal(m.name, name, m.name_len);
        } else {
                assert_null(m.name);
                assert_int_equal(m.name_len, 0);
        }
        assert_int_equal(m.address_len, strlen(address));
        assert_memory_equal(m.address, address, m.address_len);
}

static void test_validate_mailbox_splits_name_and_address(void **state) {
        (void) state;

        assert_mailbox("n@x.example", NULL, "n@x.example");
        assert_mailbox("Noticed <n@x.example>", "Noticed", "n@x.example");
        assert_mailbox("  Gemeente  Hof van Twente  <n@x.example>", "Gemeente  Hof van Twente",
                       "n@x.example");
        assert_mailbox("Hof<n@x.example>", "Hof", "n@x.example");
        assert_mailbox("<n@x.example>", NULL, "n@x.example");
        assert_mailbox("   <n@x.example>", NULL, "n@x.example");
        assert_mailbox("Regio Twente – Burgernet <n@x.example>", "Regio Twente – Burgernet",
                       "n@x.example");
        assert_true(validate_mailbox("Noticed <n@x.example>", NULL));
}

static void test_validate_mailbox_refuses_what_a_header_cannot_carry(void **state) {
        static const char *const bad[] = {
                "",
                "Noticed",
                "Noticed <n@x.example",
                "Noticed n@x.example>",
                "Noticed <n@x.example> x",
                "No<ticed <n@x.example>",
                "No>ticed <n@x.example>",
                "\"Noticed\" <n@x.example>",
                "Noticed <<n@x.example>>",
                "Noticed <n@x.example>\r\nBcc: x@y.example",
                "Noticed\t<n@x.example>",
                "Noticed <not an address>",
                "Noticed <>",
        };
        (void) state;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (validate_mailbox(bad[i], NULL))
                        fail_msg("accepted: %s", bad[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_validate_mail_address_takes_dot_atoms_and_domains),
                cmocka_unit_test(test_validate_mail_address_bounds_local_part_and_domain),
                cmocka_unit_test(test_validate_mailbox_splits_name_and_address),
                cmocka_unit_test(test_validate_mailbox_refuses_what_a_header_cannot_carry),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
