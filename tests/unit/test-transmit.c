/* Transmit through a Maildir on a real file system: what an interrupted attempt left decides
 * whether the message is written, and not knowing is never a reason to write it again.
 *
 * local_maildir_find() is wrapped (passing through unless a test sets `find_fails`) for the
 * failures a file system cannot be made to produce on demand: out of memory, and a Maildir
 * whose reader kept moving messages through every scan. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/local.h"
#include "noticed/macro.h"
#include "noticed/transmit.h"

static const char message[] = "From: a@x.example\r\nTo: b@x.example\r\nSubject: t\r\n\r\nbody\r\n";
static const char key[] = "4bef4dbbc4f1f58dfaada501ad7a504f";

int __real_local_maildir_find(const char *dir, const char *k, char **ret_where);
int __wrap_local_maildir_find(const char *dir, const char *k, char **ret_where);

static int find_fails; /* 0: pass through; else what local_maildir_find() returns */

int __wrap_local_maildir_find(const char *dir, const char *k, char **ret_where) {
        if (find_fails) {
                *ret_where = NULL;
                return find_fails;
        }
        return __real_local_maildir_find(dir, k, ret_where);
}

typedef struct Fixture {
        char dir[64];      /* the test's temporary directory */
        char maildir[128]; /* dir/outbox */
        char url[160];     /* "maildir:" maildir */
        Transport transport;
} Fixture;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        (void) snprintf(f->dir, sizeof(f->dir), "/tmp/noticed-test-transmit-XXXXXX");
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        (void) snprintf(f->maildir, sizeof(f->maildir), "%s/outbox", f->dir);
        (void) snprintf(f->url, sizeof(f->url), "maildir:%s", f->maildir);
        f->transport = (Transport){.id = "local", .kind = TRANSPORT_MAILDIR, .url = f->url};
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        find_fails = 0;
        (void) nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

/* The files in maildir/sub, other than . and .. */
static int count_files(const Fixture *f, const char *sub) {
        char path[256];
        struct dirent *e;
        DIR *d;
        int n = 0;

        (void) snprintf(path, sizeof(path), "%s/%s", f->maildir, sub);
        d = opendir(path);
        assert_non_null(d);
        while ((e = readdir(d)))
                n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
        (void) closedir(d);
        return n;
}

/* transmit() of the test message with its key, as the attempt after an interrupted one. */
static TransmitLocal transmit_interrupted(const Fixture *f) {
        TransmitRequest req = {.transport = &f->transport,
                               .data = message,
                               .size = strlen(message),
                               .key = key,
                               .interrupted = true};
        TransmitLocal local = {0};

        assert_int_equal(transmit(NULL, &req, NULL, NULL, &local), 1);
        assert_non_null(local.reply);
        return local;
}

static void
test_transmit_maildir_does_not_write_what_the_interrupted_attempt_delivered(void **state) {
        Fixture *f = *state;
        char *reply = NULL;
        TransmitLocal local;

        assert_int_equal(local_maildir(f->maildir, message, strlen(message), key, &reply), 0);
        free(reply);
        local = transmit_interrupted(f);
        assert_int_equal(local.outcome, NET_OK);
        assert_non_null(strstr(local.reply, "delivered by the interrupted attempt"));
        assert_int_equal(count_files(f, "new"), 1);
        free(local.reply);
}

static void
test_transmit_maildir_writes_what_the_interrupted_attempt_did_not_deliver(void **state) {
        Fixture *f = *state;
        TransmitLocal local;

        local = transmit_interrupted(f);
        assert_int_equal(local.outcome, NET_OK);
        assert_true(strncmp(local.reply, "maildir: new/", 13) == 0);
        assert_int_equal(count_files(f, "new"), 1);
        free(local.reply);
}

/* cur/ is a file, so that opendir() fails with ENOTDIR: as root too, where no permission bit
 * would stop the search. */
static void test_transmit_maildir_fails_for_now_when_it_cannot_look(void **state) {
        Fixture *f = *state;
        char path[256], *reply = NULL;
        TransmitLocal local;
        FILE *file;

        assert_int_equal(local_maildir(f->maildir, message, strlen(message), NULL, &reply), 0);
        free(reply);
        assert_int_equal(count_files(f, "new"), 1); /* another message, not this one */
        (void) snprintf(path, sizeof(path), "%s/cur", f->maildir);
        assert_int_equal(rmdir(path), 0);
        file = fopen(path, "w");
        assert_non_null(file);
        (void) fclose(file);

        local = transmit_interrupted(f);
        assert_int_equal(local.outcome, NET_TEMPORARY);
        assert_non_null(strstr(local.reply, f->maildir));
        assert_non_null(strstr(local.reply, strerror(ENOTDIR)));
        assert_int_equal(count_files(f, "new"), 1); /* not written a second time */
        free(local.reply);
}

static void test_transmit_maildir_fails_for_now_when_the_search_does(void **state) {
        static const int errors[] = {-ENOMEM, -EACCES, -EAGAIN};
        Fixture *f = *state;
        char *reply = NULL;

        assert_int_equal(local_maildir(f->maildir, message, strlen(message), NULL, &reply), 0);
        free(reply);
        for (size_t i = 0; i < ELEMENTSOF(errors); i++) {
                TransmitLocal local;

                find_fails = errors[i];
                local = transmit_interrupted(f);
                assert_int_equal(local.outcome, NET_TEMPORARY);
                assert_non_null(strstr(local.reply, f->maildir));
                assert_int_equal(count_files(f, "new"), 1);
                free(local.reply);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        test_transmit_maildir_does_not_write_what_the_interrupted_attempt_delivered,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_transmit_maildir_writes_what_the_interrupted_attempt_did_not_deliver,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_transmit_maildir_fails_for_now_when_it_cannot_look, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_transmit_maildir_fails_for_now_when_the_search_does, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
