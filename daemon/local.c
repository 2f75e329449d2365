/* Local delivery: Maildir and sendmail(8), for machines without a mail relay.
 *
 * Maildir gives the one guarantee the ledger needs: a message is either wholly in new/ or not
 * there at all, because it is written and fsynced in tmp/ first and renamed into new/ (a
 * rename within one file system is atomic), then new/ itself is fsynced so the rename survives
 * a power cut.  sendmail's guarantee is its exit status: 0 means it took the message. */

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "noticed/clock.h"
#include "noticed/local.h"
#include "noticed/macro.h"

/* How long sendmail may take before it is killed; it normally hands over in milliseconds.  Half
 * the unit's WatchdogSec=60s: the event loop waits meanwhile, and a watchdog kill would leave
 * the reminder pending, to be sent again at restart. */
#define SENDMAIL_TIMEOUT_USEC (30 * USEC_PER_SEC)

/* Scans of new/ and cur/ local_maildir_find() makes before it gives up on a Maildir whose reader
 * keeps moving messages; one is enough when nothing moves. */
#define MAILDIR_FIND_SCANS 5

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

static void closep(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
}

/* Closes both ends of a pipe that are still open (-1 is closed). */
static void close_pipe(int (*fds)[2]) {
        for (int i = 0; i < 2; i++)
                if ((*fds)[i] >= 0)
                        (void) close((*fds)[i]);
}

static int reply(char **ret_reply, int r, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

static int reply(char **ret_reply, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        if (vasprintf(ret_reply, format, ap) < 0)
                *ret_reply = NULL;
        va_end(ap);
        if (!*ret_reply && r == 0)
                return -ENOMEM;
        return r;
}

static int mkdir_exists_ok(const char *path) {
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int maildir_prepare(const char *dir) {
        static const char *const subdirs[] = {"tmp", "new", "cur"};
        char path[PATH_MAX];
        int r;

        if ((r = mkdir_exists_ok(dir)) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]) >= sizeof(path))
                        return -ENAMETOOLONG;
                if ((r = mkdir_exists_ok(path)) < 0)
                        return r;
        }
        return 0;
}

/* "time.MusecPpidQn.host" as the Maildir convention names files; '/' and ':' in the host name
 * would break the name, so they are written as the convention's octal escapes. */
static int maildir_name(const char *key, char *buf, size_t size) {
        static unsigned long counter;
        char host[256], safe[256 * 4 + 1];
        struct timeval tv;
        size_t j = 0;

        if (gethostname(host, sizeof(host)) < 0)
                (void) snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        for (size_t i = 0; host[i] && j + 5 < sizeof(safe); i++) {
                if (host[i] == '/')
                        j += (size_t) snprintf(safe + j, sizeof(safe) - j, "\\057");
                else if (host[i] == ':')
                        j += (size_t) snprintf(safe + j, sizeof(safe) - j, "\\072");
                else
                        safe[j++] = host[i];
        }
        safe[j] = '\0';
        (void) gettimeofday(&tv, NULL);
        if ((size_t) snprintf(buf, size, "%lld.M%ldP%ldQ%lu%s%s.%s", (long long) tv.tv_sec,
                              (long) tv.tv_usec, (long) getpid(), ++counter, key ? "R" : "",
                              key ? key : "", safe) >= size)
                return -ENAMETOOLONG;
        return 0;
}

static int write_all(int fd, const char *data, size_t size) {
        while (size > 0) {
                ssize_t n = write(fd, data, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                size -= (size_t) n;
        }
        return 0;
}

static int fsync_path(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                r = -errno;
        (void) close(fd);
        return r;
}

int local_maildir(const char *dir, const char *data, size_t size, const char *key,
                  char **ret_reply) {
        char name[512], tmp[PATH_MAX], new[PATH_MAX], newdir[PATH_MAX];
        int fd, r;

        *ret_reply = NULL;
        if ((r = maildir_prepare(dir)) < 0)
                return reply(ret_reply, r, "maildir: cannot create %s: %s", dir, strerror(-r));
        if (key && (strlen(key) > 64 || strspn(key, "0123456789abcdef") != strlen(key)))
                return reply(ret_reply, -EINVAL, "maildir: key '%s' is not hex digits", key);
        if (maildir_name(key, name, sizeof(name)) < 0 ||
            (size_t) snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name) >= sizeof(tmp) ||
            (size_t) snprintf(new, sizeof(new), "%s/new/%s", dir, name) >= sizeof(new) ||
            (size_t) snprintf(newdir, sizeof(newdir), "%s/new", dir) >= sizeof(newdir))
                return reply(ret_reply, -ENAMETOOLONG, "maildir: path too long under %s", dir);

        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return reply(ret_reply, -errno, "maildir: cannot create %s: %m", tmp);
        r = write_all(fd, data, size);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, new) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return reply(ret_reply, r, "maildir: cannot write %s: %s", tmp, strerror(-r));
        }
        if ((r = fsync_path(newdir)) < 0)
                return reply(ret_reply, r, "maildir: cannot sync %s: %s", newdir, strerror(-r));
        return reply(ret_reply, 0, "maildir: new/%s", name);
}

/* One look through DIR/new and DIR/cur. */
static int maildir_scan(const char *dir, const char *needle, char **ret_where) {
        static const char *const subdirs[] = {"new", "cur"};
        char path[PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                _cleanup_(closedirp) DIR *d = NULL;
                struct dirent *e;

                if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]) >= sizeof(path))
                        return -ENAMETOOLONG;
                d = opendir(path);
                if (!d) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                while ((e = readdir(d)))
                        if (strstr(e->d_name, needle)) {
                                if (asprintf(ret_where, "%s/%s", subdirs[i], e->d_name) < 0) {
                                        *ret_where = NULL; /* asprintf() leaves it undefined */
                                        return -ENOMEM;
                                }
                                return 1;
                        }
        }
        return 0;
}

/* An inotify descriptor watching new/ and cur/ (those that exist) for names that come and go,
 * or -errno.  Their times alone miss a change made within the clock tick of the one before (a
 * kernel before 6.13 stamps a directory with the time of its last tick); inotify alone misses
 * one made by another machine (NFS).  local_maildir_find() asks both. */
static int maildir_watch(const char *dir) {
        static const char *const subdirs[] = {"new", "cur"};
        const uint32_t events = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        char path[PATH_MAX];

        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                int r = 0;

                if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]) >= sizeof(path))
                        r = -ENAMETOOLONG;
                else if (inotify_add_watch(fd, path, events) < 0 && errno != ENOENT)
                        r = -errno;
                if (r < 0) {
                        (void) close(fd);
                        return r;
                }
        }
        return fd;
}

/* Whether the watch reported anything since it was last asked (an overflow of its queue is a
 * report too); it is emptied. */
static bool maildir_watch_changed(int fd) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool changed = false;

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n <= 0)
                        return changed || !(n < 0 && errno == EAGAIN);
                changed = true;
        }
}

/* When new/ and cur/ were last changed, to tell whether a scan raced with a reader. */
static void maildir_stamp(const char *dir, struct timespec stamp[2]) {
        char path[PATH_MAX];
        struct stat st;

        for (int i = 0; i < 2; i++) {
                stamp[i] = (struct timespec){0};
                if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, i ? "cur" : "new") <
                            sizeof(path) &&
                    stat(path, &st) == 0)
                        stamp[i] = st.st_mtim;
        }
}

int local_maildir_find(const char *dir, const char *key, char **ret_where) {
        _cleanup_(closep) int watch = -1;
        char needle[64];
        int r;

        assert(dir);
        assert(key);
        *ret_where = NULL;
        if ((size_t) snprintf(needle, sizeof(needle), "R%s.", key) >= sizeof(needle))
                return -EINVAL;
        watch = maildir_watch(dir);
        if (watch < 0)
                return watch;
        /* readdir() may miss a file a mail reader renames meanwhile (new/ to cur/, or a change
         * of flags): look again while the directories keep changing under the scan.  "Absent"
         * only from a scan during which neither changed: said wrongly, it has the message
         * written a second time. */
        for (int attempt = 0; attempt < MAILDIR_FIND_SCANS; attempt++) {
                struct timespec before[2], after[2];

                (void) maildir_watch_changed(watch); /* what came before this scan */
                maildir_stamp(dir, before);
                r = maildir_scan(dir, needle, ret_where);
                if (r != 0)
                        return r;
                maildir_stamp(dir, after);
                if (!maildir_watch_changed(watch) && before[0].tv_sec == after[0].tv_sec &&
                    before[0].tv_nsec == after[0].tv_nsec && before[1].tv_sec == after[1].tv_sec &&
                    before[1].tv_nsec == after[1].tv_nsec)
                        return 0;
        }
        return -EAGAIN;
}

/* The child: a clean signal state (the daemon blocks the signals sd-event handles, and a
 * blocked mask survives exec), the pipes on stdin and stderr, then sendmail. */
static void exec_sendmail(const char *program, int in, int err) {
        sigset_t none;

        (void) sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) signal(SIGPIPE, SIG_DFL);
        if (dup2(in, STDIN_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0 ||
            dup2(err, STDOUT_FILENO) < 0)
                _exit(EX_OSERR);
        execl(program, "sendmail", "-t", "-oi", (char *) NULL);
        _exit(127);
}

/* sendmail(8) reads lines ending in the local newline. */
static char *crlf_to_lf(const char *data, size_t size, size_t *ret_size) {
        char *out = malloc(size + 1);
        size_t n = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < size; i++)
                if (!(data[i] == '\r' && i + 1 < size && data[i + 1] == '\n'))
                        out[n++] = data[i];
        *ret_size = n;
        return out;
}

/* Feeds the message to the child while collecting what it says on stderr, so that neither side
 * can block the other on a full pipe, until the child has exited (its pidfd is readable) or the
 * one deadline for the whole exchange passes.  The child's exit ends it, not the end of its
 * stderr: a grandchild may keep that open.  Returns 0, -ETIMEDOUT or -errno. */
static int converse(int in, int err, int pidfd, const char *data, size_t size, char *said,
                    size_t said_size) {
        struct pollfd p[3] = {{.fd = in, .events = POLLOUT},
                              {.fd = err, .events = POLLIN},
                              {.fd = pidfd, .events = POLLIN}};
        usec_t deadline = clock_now_usec(CLOCK_MONOTONIC) + SENDMAIL_TIMEOUT_USEC;
        size_t written = 0, heard = 0;
        bool exited = false;
        int r = 0;

        while (!exited && (p[0].fd >= 0 || p[1].fd >= 0 || p[2].fd >= 0)) {
                usec_t now = clock_now_usec(CLOCK_MONOTONIC);
                int n = now < deadline ? poll(p, 3, (int) ((deadline - now) / USEC_PER_MSEC)) : 0;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n == 0 ? -ETIMEDOUT : -errno;
                        break;
                }
                if (p[0].fd >= 0 && p[0].revents) {
                        ssize_t w = write(in, data + written, size - written);
                        if (w < 0 && errno != EINTR && errno != EAGAIN) {
                                r = -errno; /* EPIPE: it exited early; its status says why */
                                written = size;
                        } else if (w > 0)
                                written += (size_t) w;
                        if (written == size) {
                                (void) close(in);
                                p[0].fd = -1;
                        }
                }
                /* Read what it said before looking at whether it exited: it says it, then goes. */
                while (p[1].fd >= 0 && (p[1].revents || exited || p[2].revents)) {
                        char buf[512];
                        ssize_t got = read(err, buf, sizeof(buf));
                        if (got < 0 && errno == EINTR)
                                continue;
                        if (got <= 0) {
                                if (got == 0 || errno != EAGAIN)
                                        p[1].fd = -1;
                                break;
                        }
                        for (ssize_t i = 0; i < got && heard + 1 < said_size; i++)
                                said[heard++] = buf[i];
                        said[heard] = '\0';
                }
                if (p[2].fd >= 0 && p[2].revents)
                        exited = true;
        }
        if (p[0].fd >= 0)
                (void) close(in);
        return r;
}

static const char *first_line(char *s) {
        s[strcspn(s, "\n")] = '\0';
        return s;
}

int local_sendmail(const char *data, size_t size, char **ret_reply) {
        const char *program = getenv("NOTICED_SENDMAIL") ?: LOCAL_SENDMAIL;
        _cleanup_(close_pipe) int in[2] = {-1, -1}, err[2] = {-1, -1};
        _cleanup_free_ char *lf = NULL;
        int pidfd, status, r;
        char said[512] = "";
        size_t lf_size;
        pid_t pid;

        *ret_reply = NULL;
        lf = crlf_to_lf(data, size, &lf_size);
        if (!lf)
                return -ENOMEM;
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees lf */
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                exec_sendmail(program, in[0], err[1]);
        (void) close(in[0]);
        (void) close(err[1]);
        in[0] = err[1] = -1;
        (void) fcntl(in[1], F_SETFL, O_NONBLOCK);
        (void) fcntl(err[0], F_SETFL, O_NONBLOCK);
        /* Without a pidfd (a kernel before 5.3) the end of its stderr has to do. */
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        r = converse(in[1], err[0], pidfd, lf, lf_size, said, sizeof(said));
        in[1] = -1; /* converse closed it */
        if (pidfd >= 0)
                (void) close(pidfd);
        if (r == -ETIMEDOUT)
                (void) kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r == -ETIMEDOUT)
                return reply(ret_reply, r, "sendmail: %s timed out after %d s, killed", program,
                             (int) (SENDMAIL_TIMEOUT_USEC / USEC_PER_SEC));
        /* It did not read the whole message: not sent, whatever its status; a failing status
         * says why, and is reported whether or not the write noticed first. */
        if (r < 0 && !(WIFEXITED(status) && WEXITSTATUS(status) != 0))
                return reply(ret_reply, -EIO, "sendmail: %s did not take the whole message: %s",
                             program, strerror(-r));
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return reply(ret_reply, 0, "sendmail: exit 0");
        if (WIFEXITED(status))
                return reply(ret_reply, -EIO, "sendmail: %s exit %d%s%s", program,
                             WEXITSTATUS(status), said[0] ? ": " : "", first_line(said));
        return reply(ret_reply, -EIO, "sendmail: %s killed by signal %d", program,
                     WTERMSIG(status));
}
