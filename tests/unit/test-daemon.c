/* The Manager's start: a config and its secrets, or a refusal that says why.
 *
 * Written from daemon.h.  manager_new() is run on a config in a fresh temporary directory, with
 * stderr (where the log goes outside the journal) captured in a file.  One edge is wrapped:
 * secrets_load() (-Wl,--wrap=secrets_load, pass-through unless a test says otherwise), so that a
 * failure without a message of its own (out of memory) can be provoked.  Integration tests
 * (tests/integration/daemon.py) start the real daemon; these cover what they cannot reach. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noticed/daemon.h"
#include "noticed/secret.h"

#include "fixture.h"

/* ---- secrets_load(), wrapped ---- */

int __real_secrets_load(const Model *model, Secret **ret, char **ret_error);
int __wrap_secrets_load(const Model *model, Secret **ret, char **ret_error);

static int secrets_load_fails_with; /* 0: pass through; else this -errno, without a message */

int __wrap_secrets_load(const Model *model, Secret **ret, char **ret_error) {
        if (secrets_load_fails_with == 0)
                return __real_secrets_load(model, ret, ret_error);
        *ret = NULL;
        *ret_error = NULL;
        return secrets_load_fails_with;
}

/* ---- a temporary directory per test ---- */

typedef struct Fixture {
        char dir[PATH_MAX];
        char config[PATH_MAX + 16];
        char log[PATH_MAX + 16];
} Fixture;

static int setup(void **state) {
        const char *tmp = getenv("TMPDIR");
        Fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        if (!tmp || !*tmp)
                tmp = "/tmp";
        (void) snprintf(f->dir, sizeof(f->dir), "%s/test-daemon.XXXXXX", tmp);
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        (void) snprintf(f->config, sizeof(f->config), "%s/noticed.conf", f->dir);
        (void) snprintf(f->log, sizeof(f->log), "%s/stderr", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        (void) unlink(f->config);
        (void) unlink(f->log);
        (void) rmdir(f->dir);
        (void) unsetenv("CREDENTIALS_DIRECTORY");
        secrets_load_fails_with = 0;
        free(f);
        return 0;
}

/* A whole config whose one transport takes its password from the credential "relay.pw". */
static void write_config(const Fixture *f) {
        static const char text[] =
                "timezone = \"UTC\";\n"
                "holidays = { calendar = \"none\"; };\n"
                "transports = {\n"
                "  relay = { url = \"smtp://127.0.0.1:2525\"; tls = \"none\";\n"
                "            from = \"n@x.example\"; username = \"n\";\n"
                "            password_credential = \"relay.pw\"; };\n"
                "};\n"
                "mail_via = \"relay\";\n"
                "recipients = ( { id = \"a\"; name = \"A\"; mail = [\"a@x.example\"]; } );\n"
                "commitments = ( { id = \"c1\"; title = \"C\"; start = \"2020-01-01\";\n"
                "  term = \"1y\"; renewal = \"none\"; participants = [\"a\"]; } );\n";
        FILE *file = fopen(f->config, "w");

        assert_non_null(file);
        assert_int_equal(fputs(text, file) >= 0, 1);
        assert_int_equal(fclose(file), 0);
}

/* manager_new() with stderr in f->log; returns its result and the log (malloc'd). */
static int manager_new_logged(const Fixture *f, char **ret_log) {
        Manager *m = NULL;
        char log[4096];
        ssize_t n;
        int saved, fd, r;

        assert_int_equal(fflush(stderr), 0);
        saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        fd = open(f->log, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);
        r = manager_new(f->config, &m);
        (void) fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        (void) close(saved);
        n = pread(fd, log, sizeof(log) - 1, 0);
        assert_true(n >= 0);
        log[n] = '\0';
        (void) close(fd);
        manager_free(m);
        *ret_log = strdup(log);
        assert_non_null(*ret_log);
        return r;
}

static void test_manager_new_names_the_transport_whose_secret_it_cannot_read(void **state) {
        Fixture *f = *state;
        char *log = NULL;

        write_config(f);
        (void) unsetenv("CREDENTIALS_DIRECTORY");
        assert_int_equal(manager_new_logged(f, &log), -EINVAL);
        assert_contains(log, f->config);
        assert_contains(log, "transport relay: cannot read the credential relay.pw");
        assert_contains(log, "$CREDENTIALS_DIRECTORY is not set");
        free(log);
}

/* Out of memory while reading secrets leaves no message of the module's own: the log line says
 * what the error is, not "%m". */
static void test_manager_new_says_why_when_secrets_load_fails_without_a_message(void **state) {
        Fixture *f = *state;
        char *log = NULL;

        write_config(f);
        secrets_load_fails_with = -ENOMEM;
        assert_int_equal(manager_new_logged(f, &log), -ENOMEM);
        assert_contains(log, f->config);
        assert_contains(log, strerror(ENOMEM));
        assert_null(strstr(log, "%m"));
        free(log);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                        test_manager_new_names_the_transport_whose_secret_it_cannot_read, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_manager_new_says_why_when_secrets_load_fails_without_a_message, setup,
                        teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
