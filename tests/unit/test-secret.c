/* Secrets: systemd credentials and owner-only files, read from a fresh temporary directory.
 *
 * Written from secret.h.  One edge is wrapped: free() (-Wl,--wrap=free, pass-through), so that
 * the test can look at a secret's bytes at the moment secret_done() hands them back and prove
 * they were wiped.  The tests run as root under make check, so a mode is checked by what the
 * module says about it, never by whether open(2) happens to fail. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/secret.h"

/* ---- free(), watched ---- */

void __real_free(void *p);
void __wrap_free(void *p);

static const char *watched; /* the secret whose release is awaited */
static size_t watched_size;
static int watched_freed; /* 1 freed wiped, -1 freed with a byte left */

void __wrap_free(void *p) {
        if (p && p == watched) {
                watched_freed = 1;
                for (size_t i = 0; i < watched_size; i++)
                        if (watched[i] != 0)
                                watched_freed = -1;
                watched = NULL;
        }
        __real_free(p);
}

/* ---- a temporary directory per test ---- */

typedef struct Fixture {
        char dir[PATH_MAX];
        char path[PATH_MAX + 32]; /* the last file write_file() wrote */
} Fixture;

static int setup(void **state) {
        const char *tmp = getenv("TMPDIR");
        Fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        if (!tmp || !*tmp)
                tmp = "/tmp";
        (void) snprintf(f->dir, sizeof(f->dir), "%s/test-secret.XXXXXX", tmp);
        if (!mkdtemp(f->dir)) {
                free(f);
                return -1;
        }
        *state = f;
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st, (void) type, (void) ftw;
        return remove(path);
}

static int teardown(void **state) {
        Fixture *f = *state;
        int r;

        r = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        (void) unsetenv("CREDENTIALS_DIRECTORY");
        free(f);
        return r;
}

/* dir/name with these size bytes and this mode (set explicitly: the umask plays no part). */
static const char *write_file(Fixture *f, const char *name, const void *data, size_t size,
                              mode_t mode) {
        int fd;

        (void) snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
        (void) unlink(f->path); /* a mode 0400 file of an earlier call cannot be rewritten */
        fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t) size);
        assert_int_equal(fchmod(fd, mode), 0);
        assert_int_equal(close(fd), 0);
        return f->path;
}

static const char *write_string(Fixture *f, const char *name, const char *s, mode_t mode) {
        return write_file(f, name, s, strlen(s), mode);
}

static void use_credentials(const Fixture *f) {
        assert_int_equal(setenv("CREDENTIALS_DIRECTORY", f->dir, 1), 0);
}

#define assert_secret_equal(s, expected)                                                           \
        do {                                                                                       \
                assert_int_equal((s).size, strlen(expected));                                      \
                assert_memory_equal((s).data, (expected), (s).size);                               \
                assert_int_equal((s).data[(s).size], '\0');                                        \
        } while (0)

/* ---- credentials ---- */

static void test_secret_read_credential_reads_the_file(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        use_credentials(f);
        (void) write_string(f, "smtp-password", "correct horse battery staple\n", 0400);
        assert_int_equal(secret_read_credential("smtp-password", &s), 0);
        assert_secret_equal(s, "correct horse battery staple");
        secret_done(&s);
}

static void test_secret_read_credential_does_not_judge_the_mode(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        /* systemd sets a credential's mode; ImportCredential= or a container manager may choose
         * another, and that is not noticed's concern. */
        use_credentials(f);
        (void) write_string(f, "teams-secret", "k", 0644);
        assert_int_equal(secret_read_credential("teams-secret", &s), 0);
        assert_secret_equal(s, "k");
        secret_done(&s);
}

static void test_secret_read_credential_follows_a_symlink(void **state) {
        Fixture *f = *state;
        char link[PATH_MAX + 32];
        Secret s = {0};

        use_credentials(f);
        (void) write_string(f, "real", "behind a link", 0400);
        (void) snprintf(link, sizeof(link), "%s/teams-secret", f->dir);
        assert_int_equal(symlink("real", link), 0);
        assert_int_equal(secret_read_credential("teams-secret", &s), 0);
        assert_secret_equal(s, "behind a link");
        secret_done(&s);
}

static void test_secret_read_credential_needs_the_environment(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        (void) write_string(f, "smtp-password", "pw", 0400);
        assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
        assert_int_equal(secret_read_credential("smtp-password", &s), -ENXIO);
        assert_int_equal(setenv("CREDENTIALS_DIRECTORY", "", 1), 0);
        assert_int_equal(secret_read_credential("smtp-password", &s), -ENXIO);
        assert_null(s.data);
}

static void test_secret_read_credential_refuses_names_that_are_not_file_names(void **state) {
        Fixture *f = *state;
        char long_name[NAME_MAX + 2];
        Secret s = {0};

        use_credentials(f);
        (void) write_string(f, "pw", "pw", 0400);
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        assert_int_equal(secret_read_credential("", &s), -EINVAL);
        assert_int_equal(secret_read_credential(".", &s), -EINVAL);
        assert_int_equal(secret_read_credential("..", &s), -EINVAL);
        assert_int_equal(secret_read_credential("../pw", &s), -EINVAL);
        assert_int_equal(secret_read_credential("sub/pw", &s), -EINVAL);
        assert_int_equal(secret_read_credential("/etc/passwd", &s), -EINVAL);
        assert_int_equal(secret_read_credential(long_name, &s), -EINVAL);
        assert_null(s.data);
}

static void test_secret_read_credential_missing(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        use_credentials(f);
        assert_int_equal(secret_read_credential("smtp-password", &s), -ENOENT);
        assert_null(s.data);
}

static void test_secret_read_credential_empty_or_too_big(void **state) {
        Fixture *f = *state;
        char big[SECRET_SIZE_MAX + 1];
        Secret s = {0};

        use_credentials(f);
        memset(big, 'x', sizeof(big));
        (void) write_string(f, "empty", "", 0400);
        (void) write_string(f, "newline", "\n", 0400);
        (void) write_file(f, "big", big, sizeof(big), 0400);
        assert_int_equal(secret_read_credential("empty", &s), -ENODATA);
        assert_int_equal(secret_read_credential("newline", &s), -ENODATA);
        assert_int_equal(secret_read_credential("big", &s), -EFBIG);
        assert_null(s.data);
}

static void test_secret_read_credential_refuses_a_directory(void **state) {
        Fixture *f = *state;
        char dir[PATH_MAX + 32];
        Secret s = {0};

        use_credentials(f);
        (void) snprintf(dir, sizeof(dir), "%s/sub", f->dir);
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(secret_read_credential("sub", &s), -EBADFD);
        assert_null(s.data);
}

/* ---- files ---- */

static void test_secret_read_file_strips_one_trailing_newline(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        assert_int_equal(secret_read_file(write_string(f, "a", "pw\n\n", 0600), &s), 0);
        assert_secret_equal(s, "pw\n");
        secret_done(&s);
        assert_int_equal(secret_read_file(write_string(f, "b", "pw", 0600), &s), 0);
        assert_secret_equal(s, "pw");
        secret_done(&s);
        assert_int_equal(secret_read_file(write_string(f, "c", "pw\r\n", 0600), &s), 0);
        assert_secret_equal(s, "pw\r");
        secret_done(&s);
        assert_int_equal(secret_read_file(write_string(f, "d", "\npw\n", 0600), &s), 0);
        assert_secret_equal(s, "\npw");
        secret_done(&s);
}

static void test_secret_read_file_keeps_nul_bytes(void **state) {
        Fixture *f = *state;
        static const char key[] = {'k', '\0', 'e', '\0', 'y', '\n'};
        Secret s = {0};

        assert_int_equal(secret_read_file(write_file(f, "key", key, sizeof(key), 0600), &s), 0);
        assert_int_equal(s.size, 5);
        assert_memory_equal(s.data, key, 5);
        assert_int_equal(s.data[5], '\0');
        secret_done(&s);
}

static void test_secret_read_file_empty(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        assert_int_equal(secret_read_file(write_string(f, "empty", "", 0600), &s), -ENODATA);
        assert_int_equal(secret_read_file(write_string(f, "newline", "\n", 0600), &s), -ENODATA);
        assert_null(s.data);
}

static void test_secret_read_file_size_limit(void **state) {
        Fixture *f = *state;
        char buf[SECRET_SIZE_MAX + 2];
        Secret s = {0};

        memset(buf, 'x', sizeof(buf));
        /* The limit is on the secret: SECRET_SIZE_MAX bytes, with or without their newline. */
        assert_int_equal(secret_read_file(write_file(f, "max", buf, SECRET_SIZE_MAX, 0600), &s), 0);
        assert_int_equal(s.size, SECRET_SIZE_MAX);
        secret_done(&s);
        buf[SECRET_SIZE_MAX] = '\n';
        assert_int_equal(
                secret_read_file(write_file(f, "max-nl", buf, SECRET_SIZE_MAX + 1, 0600), &s), 0);
        assert_int_equal(s.size, SECRET_SIZE_MAX);
        secret_done(&s);
        buf[SECRET_SIZE_MAX] = 'x';
        assert_int_equal(
                secret_read_file(write_file(f, "over", buf, SECRET_SIZE_MAX + 1, 0600), &s),
                -EFBIG);
        buf[SECRET_SIZE_MAX + 1] = '\n';
        assert_int_equal(
                secret_read_file(write_file(f, "over-nl", buf, SECRET_SIZE_MAX + 2, 0600), &s),
                -EFBIG);
        assert_int_equal(secret_read_file(write_file(f, "huge", buf, sizeof(buf), 0600), &s),
                         -EFBIG);
        assert_null(s.data);
}

static void test_secret_read_file_mode_0600_and_0400(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        assert_int_equal(secret_read_file(write_string(f, "rw", "one", 0600), &s), 0);
        assert_secret_equal(s, "one");
        secret_done(&s);
        assert_int_equal(secret_read_file(write_string(f, "r", "two", 0400), &s), 0);
        assert_secret_equal(s, "two");
        secret_done(&s);
}

static void test_secret_read_file_refuses_group_or_other_permissions(void **state) {
        static const mode_t modes[] = {0640, 0604, 0620, 0602, 0610, 0601, 0660, 0644, 0666};
        Fixture *f = *state;
        Secret s = {0};

        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
                const char *path = write_string(f, "pw", "pw", modes[i]);
                if (secret_read_file(path, &s) != -EPERM)
                        fail_msg("mode %04o accepted", (unsigned) modes[i]);
        }
        assert_null(s.data);
}

static void test_secret_read_file_refuses_a_relative_path(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        (void) write_string(f, "pw", "pw", 0600);
        assert_int_equal(chdir(f->dir), 0);
        assert_int_equal(secret_read_file("pw", &s), -EINVAL);
        assert_int_equal(secret_read_file("./pw", &s), -EINVAL);
        assert_int_equal(secret_read_file("", &s), -EINVAL);
        assert_int_equal(chdir("/"), 0);
        assert_null(s.data);
}

static void test_secret_read_file_refuses_a_directory_and_a_fifo(void **state) {
        Fixture *f = *state;
        char path[PATH_MAX + 32];
        Secret s = {0};

        (void) snprintf(path, sizeof(path), "%s/dir", f->dir);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(secret_read_file(path, &s), -EBADFD);
        /* Without a writer, a FIFO opened for reading would block forever. */
        (void) snprintf(path, sizeof(path), "%s/fifo", f->dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(secret_read_file(path, &s), -EBADFD);
        assert_null(s.data);
}

static void test_secret_read_file_missing(void **state) {
        Fixture *f = *state;
        char path[PATH_MAX + 32];
        Secret s = {0};

        (void) snprintf(path, sizeof(path), "%s/missing", f->dir);
        assert_int_equal(secret_read_file(path, &s), -ENOENT);
        assert_null(s.data);
}

static void test_secret_read_file_checks_the_file_a_symlink_leads_to(void **state) {
        Fixture *f = *state;
        char link[PATH_MAX + 32];
        Secret s = {0};

        (void) snprintf(link, sizeof(link), "%s/link", f->dir);
        assert_int_equal(symlink("target", link), 0);
        (void) write_string(f, "target", "pw", 0600);
        assert_int_equal(secret_read_file(link, &s), 0);
        assert_secret_equal(s, "pw");
        secret_done(&s);
        (void) write_string(f, "target", "pw", 0644);
        assert_int_equal(secret_read_file(link, &s), -EPERM);
        assert_null(s.data);
}

/* ---- checking without reading ---- */

static void test_secret_check_file_accepts_an_owner_only_file(void **state) {
        Fixture *f = *state;

        assert_int_equal(secret_check_file(write_string(f, "pw", "pw\n", 0600)), 0);
        assert_int_equal(secret_check_file(write_string(f, "pw", "pw\n", 0400)), 0);
        /* Not read: neither write-only nor empty is its concern. */
        assert_int_equal(secret_check_file(write_string(f, "pw", "pw\n", 0200)), 0);
        assert_int_equal(secret_check_file(write_string(f, "pw", "", 0600)), 0);
}

static void test_secret_check_file_refuses_what_reading_refuses(void **state) {
        Fixture *f = *state;
        char path[PATH_MAX + 32];

        assert_int_equal(secret_check_file(write_string(f, "pw", "pw", 0640)), -EPERM);
        assert_int_equal(secret_check_file(write_string(f, "pw", "pw", 0604)), -EPERM);
        assert_int_equal(secret_check_file("pw"), -EINVAL);
        assert_int_equal(secret_check_file(""), -EINVAL);
        (void) snprintf(path, sizeof(path), "%s/dir", f->dir);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(secret_check_file(path), -EBADFD);
        (void) snprintf(path, sizeof(path), "%s/fifo", f->dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(secret_check_file(path), -EBADFD);
        (void) snprintf(path, sizeof(path), "%s/missing", f->dir);
        assert_int_equal(secret_check_file(path), -ENOENT);
}

/* ---- release ---- */

static void test_secret_done_wipes_and_is_safe_twice(void **state) {
        Fixture *f = *state;
        Secret s = {0};

        secret_done(&s); /* a zeroed struct */
        assert_int_equal(secret_read_file(write_string(f, "pw", "hunter2\n", 0600), &s), 0);
        watched = s.data;
        watched_size = s.size;
        watched_freed = 0;
        secret_done(&s);
        assert_int_equal(watched_freed, 1);
        assert_null(s.data);
        assert_int_equal(s.size, 0);
        secret_done(&s);
        assert_null(s.data);
        assert_int_equal(s.size, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_secret_read_credential_reads_the_file, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_credential_does_not_judge_the_mode,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_credential_follows_a_symlink,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_credential_needs_the_environment,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_secret_read_credential_refuses_names_that_are_not_file_names, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_credential_missing, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_credential_empty_or_too_big, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_credential_refuses_a_directory,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_file_strips_one_trailing_newline,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_file_keeps_nul_bytes, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_file_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_file_size_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_file_mode_0600_and_0400, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        test_secret_read_file_refuses_group_or_other_permissions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_file_refuses_a_relative_path,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_secret_read_file_refuses_a_directory_and_a_fifo, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_read_file_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_secret_read_file_checks_the_file_a_symlink_leads_to, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_check_file_accepts_an_owner_only_file,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_check_file_refuses_what_reading_refuses,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_done_wipes_and_is_safe_twice, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
