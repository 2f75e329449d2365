/* Local delivery on a real file system: Maildir, and sendmail(8) played by a small script. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "noticed/local.h"

static const char message[] = "From: a@x.example\r\nTo: b@x.example\r\nSubject: t\r\n\r\nbody\r\n";

/* opendir() passes through, except while `racing` is set: then a mail reader moves the message
 * out of each directory just before local_maildir_find() opens it (new/ to cur/, cur/ back to
 * new/), so that every scan misses it and sees both directories change.  With `coarse_clock`
 * the directories keep the times they had, as with a clock that has not ticked since the last
 * change (a kernel before 6.13 stamps directories with the time of its last tick). */
DIR *__real_opendir(const char *path);
DIR *__wrap_opendir(const char *path);

static struct {
        bool on, coarse_clock;
        char new[1024], cur[1024];
        unsigned moves;
} racing;

static void racing_move(const char *from, const char *to) {
        char dirs[2][1024];
        struct timespec times[2][2];
        struct stat st;

        for (int i = 0; i < 2; i++) {
                (void) snprintf(dirs[i], sizeof(dirs[i]), "%s", i ? to : from);
                *strrchr(dirs[i], '/') = '\0';
                assert_int_equal(stat(dirs[i], &st), 0);
                times[i][0] = st.st_atim;
                times[i][1] = st.st_mtim;
        }
        if (rename(from, to) < 0)
                return;
        racing.moves++;
        for (int i = 0; racing.coarse_clock && i < 2; i++)
                assert_int_equal(utimensat(AT_FDCWD, dirs[i], times[i], 0), 0);
}

DIR *__wrap_opendir(const char *path) {
        size_t n = strlen(path);

        if (racing.on && n >= 4 && strcmp(path + n - 4, "/new") == 0)
                racing_move(racing.new, racing.cur);
        else if (racing.on && n >= 4 && strcmp(path + n - 4, "/cur") == 0)
                racing_move(racing.cur, racing.new);
        return __real_opendir(path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static int setup(void **state) {
        char *dir = strdup("/tmp/noticed-test-deliver-XXXXXX");

        if (!dir || !mkdtemp(dir))
                return -1;
        *state = dir;
        return 0;
}

static int teardown(void **state) {
        racing.on = racing.coarse_clock = false;
        (void) nftw(*state, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(*state);
        unsetenv("NOTICED_SENDMAIL");
        return 0;
}

/* The names in dir, other than . and .., as a count; *ret_name gets the last one. */
static int count_files(const char *dir, char *ret_name, size_t size) {
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        assert_non_null(d);
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                        n++;
                        if (ret_name)
                                (void) snprintf(ret_name, size, "%s", e->d_name);
                }
        closedir(d);
        return n;
}

static char *slurp(const char *path, size_t *ret_size) {
        FILE *f = fopen(path, "rb");
        char *buf = calloc(1, 4096);
        size_t n;

        assert_non_null(f);
        assert_non_null(buf);
        n = fread(buf, 1, 4095, f);
        fclose(f);
        *ret_size = n;
        return buf;
}

static void test_local_maildir_writes_the_message_into_new(void **state) {
        char maildir[512], path[1024], name[256], *reply = NULL, *data;
        struct stat st;
        size_t size;

        snprintf(maildir, sizeof(maildir), "%s/outbox", (char *) *state);
        assert_int_equal(local_maildir(maildir, message, strlen(message), NULL, &reply), 0);
        snprintf(path, sizeof(path), "%s/new", maildir);
        assert_int_equal(count_files(path, name, sizeof(name)), 1);
        snprintf(path, sizeof(path), "%s/tmp", maildir);
        assert_int_equal(count_files(path, NULL, 0), 0); /* nothing left half-written */
        assert_non_null(reply);
        assert_true(strncmp(reply, "maildir: new/", 13) == 0);
        assert_string_equal(reply + 13, name);

        snprintf(path, sizeof(path), "%s/new/%s", maildir, name);
        data = slurp(path, &size);
        assert_int_equal(size, strlen(message));
        assert_memory_equal(data, message, size);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        snprintf(path, sizeof(path), "%s/cur", maildir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        free(data);
        free(reply);
}

static void test_local_maildir_gives_each_message_its_own_name(void **state) {
        char maildir[512], path[1024], *reply = NULL;

        snprintf(maildir, sizeof(maildir), "%s/outbox", (char *) *state);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(local_maildir(maildir, message, strlen(message), NULL, &reply), 0);
                free(reply);
        }
        snprintf(path, sizeof(path), "%s/new", maildir);
        assert_int_equal(count_files(path, NULL, 0), 3);
}

static void test_local_maildir_reports_an_unwritable_directory(void **state) {
        char blocker[512], maildir[1024], *reply = NULL;
        FILE *f;

        /* A file where the Maildir's parent should be: mkdir fails with ENOTDIR as root too. */
        snprintf(blocker, sizeof(blocker), "%s/file", (char *) *state);
        f = fopen(blocker, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(maildir, sizeof(maildir), "%s/outbox", blocker);
        assert_int_equal(local_maildir(maildir, message, strlen(message), NULL, &reply), -ENOTDIR);
        assert_non_null(reply);
        assert_non_null(strstr(reply, maildir));
        free(reply);
}

static void test_local_maildir_find_knows_a_message_by_its_key(void **state) {
        char maildir[512], from[1024], to[1024], *reply = NULL, *where = NULL;
        const char *key = "4bef4dbbc4f1f58dfaada501ad7a504f";

        snprintf(maildir, sizeof(maildir), "%s/outbox", (char *) *state);
        assert_int_equal(local_maildir_find(maildir, key, &where), 0); /* no Maildir yet */
        assert_int_equal(local_maildir(maildir, message, strlen(message), key, &reply), 0);
        assert_non_null(strstr(reply, "R4bef4dbbc4f1f58dfaada501ad7a504f."));
        assert_int_equal(local_maildir_find(maildir, key, &where), 1);
        assert_string_equal(where, reply + strlen("maildir: "));
        free(where);
        assert_int_equal(local_maildir_find(maildir, "4bef4dbbc4f1f58d", &where), 0);

        /* A reader moves it to cur/ and adds flags: still found. */
        snprintf(from, sizeof(from), "%s/%s", maildir, reply + strlen("maildir: "));
        snprintf(to, sizeof(to), "%s/cur/%s:2,S", maildir, reply + strlen("maildir: new/"));
        assert_int_equal(rename(from, to), 0);
        assert_int_equal(local_maildir_find(maildir, key, &where), 1);
        assert_true(strncmp(where, "cur/", 4) == 0);
        free(where);
        free(reply);
        assert_int_equal(local_maildir(maildir, message, strlen(message), "../x", &reply), -EINVAL);
        free(reply);
}

static void maildir_find_races_a_reader(const char *dir, bool coarse_clock) {
        char maildir[512], *reply = NULL, *where = NULL;
        const char *key = "4bef4dbbc4f1f58dfaada501ad7a504f";

        snprintf(maildir, sizeof(maildir), "%s/outbox", dir);
        assert_int_equal(local_maildir(maildir, message, strlen(message), key, &reply), 0);
        snprintf(racing.new, sizeof(racing.new), "%s/%s", maildir, reply + strlen("maildir: "));
        snprintf(racing.cur, sizeof(racing.cur), "%s/cur/%s:2,S", maildir,
                 reply + strlen("maildir: new/"));
        free(reply);
        racing.on = true;
        racing.coarse_clock = coarse_clock;
        racing.moves = 0;
        /* It is there all along: "absent" would have it written a second time. */
        assert_int_equal(local_maildir_find(maildir, key, &where), -EAGAIN);
        racing.on = false;
        assert_null(where);
        assert_true(racing.moves >= 2);
        /* Once the reader rests, it is found. */
        assert_int_equal(local_maildir_find(maildir, key, &where), 1);
        free(where);
}

static void test_local_maildir_find_fails_when_every_scan_races_a_reader(void **state) {
        maildir_find_races_a_reader(*state, false);
}

/* The directories' times alone cannot tell that a scan raced with the reader. */
static void
test_local_maildir_find_fails_when_every_scan_races_a_reader_within_a_tick(void **state) {
        maildir_find_races_a_reader(*state, true);
}

#define RESTLESS_CALLS 300

/* A mail reader that keeps moving the message from new/ to cur/, marking it seen and moving it
 * back, until it is killed; it writes one byte on `started` once it is under way. */
static pid_t start_restless_reader(const char *maildir, const char *name, int started) {
        char spots[3][1024];
        pid_t pid;

        snprintf(spots[0], sizeof(spots[0]), "%s/new/%s", maildir, name);
        snprintf(spots[1], sizeof(spots[1]), "%s/cur/%s:2,", maildir, name);
        snprintf(spots[2], sizeof(spots[2]), "%s/cur/%s:2,S", maildir, name);
        pid = fork();
        assert_true(pid >= 0);
        if (pid > 0)
                return pid;
        for (unsigned long i = 0;; i++) {
                if (rename(spots[i % 3], spots[(i + 1) % 3]) < 0)
                        _exit(1);
                if (i == 0 && write(started, "x", 1) != 1)
                        _exit(1);
        }
}

static void test_local_maildir_find_never_says_absent_while_the_message_moves(void **state) {
        char maildir[512], name[256], *reply = NULL, *where = NULL;
        const char *key = "4bef4dbbc4f1f58dfaada501ad7a504f";
        unsigned found = 0, unsure = 0, absent = 0;
        int started[2], status;
        pid_t reader;
        char byte;

        snprintf(maildir, sizeof(maildir), "%s/outbox", (char *) *state);
        assert_int_equal(local_maildir(maildir, message, strlen(message), key, &reply), 0);
        snprintf(name, sizeof(name), "%s", reply + strlen("maildir: new/"));
        free(reply);
        assert_int_equal(pipe(started), 0);
        reader = start_restless_reader(maildir, name, started[1]);
        close(started[1]); /* so that a reader that failed at once is an end of file here */
        assert_int_equal(read(started[0], &byte, 1), 1);

        /* Any scan may miss the message: each call must say found, or that it cannot tell.  Each
         * call costs milliseconds against a reader that renames without pause (inotify sees
         * every move); the wrapped-opendir tests above are what proves the race is handled. */
        for (int i = 0; i < RESTLESS_CALLS; i++) {
                int r = local_maildir_find(maildir, key, &where);

                if (r == 1)
                        found++;
                else if (r == -EAGAIN)
                        unsure++;
                else if (r == 0)
                        absent++;
                free(where);
        }
        assert_int_equal(kill(reader, SIGKILL), 0);
        assert_int_equal(waitpid(reader, &status, 0), reader);
        assert_true(WIFSIGNALED(status)); /* it kept moving the message until the end */
        close(started[0]);
        assert_int_equal(absent, 0);
        assert_int_equal(found + unsure, RESTLESS_CALLS);
}

/* A sendmail that keeps its arguments and input in the test directory and exits `status`. */
/* DIR/sendmail, the shell script `script`, becomes the sendmail local_sendmail() runs. */
static void install_sendmail(const char *dir, const char *script) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/sendmail", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(script, f);
        fclose(f);
        assert_int_equal(chmod(path, 0700), 0);
        assert_int_equal(setenv("NOTICED_SENDMAIL", path, 1), 0);
}

static void fake_sendmail(const char *dir, int status) {
        char *script;

        assert_true(asprintf(&script,
                             "#!/bin/sh\n"
                             "echo \"$@\" > '%s/args'\n"
                             "cat > '%s/input'\n"
                             "[ %d -eq 0 ] || echo 'sendmail: queue file write error' >&2\n"
                             "exit %d\n",
                             dir, dir, status, status) > 0);
        install_sendmail(dir, script);
        free(script);
}

static void test_local_sendmail_pipes_the_message_with_local_newlines(void **state) {
        const char *dir = *state;
        char path[512], *reply = NULL, *data;
        size_t size;

        fake_sendmail(dir, 0);
        assert_int_equal(local_sendmail(message, strlen(message), &reply), 0);
        assert_string_equal(reply, "sendmail: exit 0");
        snprintf(path, sizeof(path), "%s/input", dir);
        data = slurp(path, &size);
        assert_string_equal(data, "From: a@x.example\nTo: b@x.example\nSubject: t\n\nbody\n");
        free(data);
        snprintf(path, sizeof(path), "%s/args", dir);
        data = slurp(path, &size);
        assert_string_equal(data, "-t -oi\n");
        free(data);
        free(reply);
}

static void test_local_sendmail_fails_on_a_non_zero_exit(void **state) {
        char *reply = NULL;

        fake_sendmail(*state, 75);
        assert_int_equal(local_sendmail(message, strlen(message), &reply), -EIO);
        assert_non_null(reply);
        assert_non_null(strstr(reply, "exit 75"));
        assert_non_null(strstr(reply, "queue file write error"));
        free(reply);
}

static void test_local_sendmail_fails_when_sendmail_is_missing(void **state) {
        char path[512], *reply = NULL;

        snprintf(path, sizeof(path), "%s/no-such-sendmail", (char *) *state);
        assert_int_equal(setenv("NOTICED_SENDMAIL", path, 1), 0);
        assert_int_equal(local_sendmail(message, strlen(message), &reply), -EIO);
        assert_non_null(strstr(reply, "exit 127"));
        free(reply);
}

static void test_local_sendmail_ends_when_sendmail_exits_not_when_its_stderr_closes(void **state) {
        const char *dir = *state;
        char path[512], pid[64] = "", *reply = NULL;
        FILE *f;

        /* It takes the message, leaves a child behind on its stderr (as a queue runner might)
         * and exits 0: that is success, not a timeout 30 seconds later. */
        snprintf(path, sizeof(path), "%s/sendmail", dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "#!/bin/sh\ncat > /dev/null\nsleep 40 >&2 &\necho $! > '%s/lingering'\nexit 0\n",
                dir);
        fclose(f);
        assert_int_equal(chmod(path, 0700), 0);
        assert_int_equal(setenv("NOTICED_SENDMAIL", path, 1), 0);

        assert_int_equal(local_sendmail(message, strlen(message), &reply), 0);
        assert_string_equal(reply, "sendmail: exit 0");
        free(reply);

        snprintf(path, sizeof(path), "%s/lingering", dir);
        f = fopen(path, "r");
        assert_non_null(f);
        if (fgets(pid, sizeof(pid), f))
                (void) kill((pid_t) atoi(pid), SIGKILL);
        fclose(f);
}

static void test_local_sendmail_fails_when_sendmail_does_not_take_the_whole_message(void **state) {
        const char *dir = *state;
        char *reply = NULL, *big;
        size_t size = 1 << 20; /* far more than a pipe holds */

        install_sendmail(dir, "#!/bin/sh\nexit 0\n"); /* reads nothing, says all is well */
        big = malloc(size);
        assert_non_null(big);
        memset(big, 'x', size);
        assert_int_equal(local_sendmail(big, size, &reply), -EIO);
        assert_non_null(strstr(reply, "did not take the whole message"));
        free(reply);
        free(big);
}

/* One that fails before it has read the message (sendmail missing is one: exit 127) is
 * reported by its status, whether or not the write of the message noticed it first. */
static void test_local_sendmail_reports_the_status_of_one_that_fails_before_reading(void **state) {
        const char *dir = *state;
        char *reply = NULL, *big;
        size_t size = 1 << 20; /* far more than a pipe holds: the write sees it go */

        install_sendmail(dir, "#!/bin/sh\necho 'sendmail: no queue' >&2\nexit 75\n");
        big = malloc(size);
        assert_non_null(big);
        memset(big, 'x', size);
        assert_int_equal(local_sendmail(big, size, &reply), -EIO);
        assert_non_null(strstr(reply, "exit 75: sendmail: no queue"));
        free(reply);
        free(big);
}

int main(void) {
        /* As noticed does (deliver.h): a sendmail that exits early must not kill the caller. */
        (void) signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_local_maildir_writes_the_message_into_new,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_local_maildir_gives_each_message_its_own_name,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_local_maildir_reports_an_unwritable_directory,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_local_maildir_find_knows_a_message_by_its_key,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_local_maildir_find_fails_when_every_scan_races_a_reader, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_local_maildir_find_fails_when_every_scan_races_a_reader_within_a_tick,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_local_maildir_find_never_says_absent_while_the_message_moves, setup,
                        teardown),
                cmocka_unit_test_setup_teardown(
                        test_local_sendmail_pipes_the_message_with_local_newlines, setup, teardown),
                cmocka_unit_test_setup_teardown(test_local_sendmail_fails_on_a_non_zero_exit, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_local_sendmail_fails_when_sendmail_is_missing,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_local_sendmail_ends_when_sendmail_exits_not_when_its_stderr_closes,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_local_sendmail_fails_when_sendmail_does_not_take_the_whole_message,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_local_sendmail_reports_the_status_of_one_that_fails_before_reading,
                        setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
