/* noticed: the daemon's main() — arguments, then the Manager.
 *
 * Under systemd (Type=notify) it runs in the foreground and says READY=1 when the start-up pass
 * is done.  Started by hand without --foreground it detaches the classic way, but the parent
 * waits until the config has been read: a broken config still ends in exit status 78 on the
 * terminal, not in a silent child. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/daemon.h"
#include "noticed/ledger.h"
#include "noticed/log.h"
#include "noticed/macro.h"

typedef struct Arguments {
        const char *config;
        bool foreground;
} Arguments;

static void help(void) {
        printf("Usage: noticed [-c FILE] [--foreground] [--log-level LEVEL]\n"
               "\n"
               "Reminds the people who must act of the deadlines in noticed.conf(5).\n"
               "\n"
               "  -c, --config FILE      the config (default " CONFIG_DEFAULT_PATH ")\n"
               "      --foreground       do not detach (systemd runs it so)\n"
               "      --log-level LEVEL  err, warning, notice, info (default) or debug\n"
               "  -h, --help             show this help\n"
               "  -V, --version          show the version\n"
               "\n"
               "State: $STATE_DIRECTORY or /var/lib/noticed.  Signals: HUP reloads, TERM stops.\n"
               "See noticed(8).\n");
}

/* Returns 0 to go on, 1 to exit 0 (help, version), or an exit status > 1. */
static int parse_arguments(int argc, char *argv[], Arguments *a) {
        enum { ARG_FOREGROUND = 0x100, ARG_LOG_LEVEL };
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"foreground", no_argument, NULL, ARG_FOREGROUND},
                {"log-level", required_argument, NULL, ARG_LOG_LEVEL},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {},
        };
        int c, level;

        while ((c = getopt_long(argc, argv, "c:hV", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        a->config = optarg;
                        break;
                case ARG_FOREGROUND:
                        a->foreground = true;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0) {
                                fprintf(stderr,
                                        "noticed: unknown log level '%s' "
                                        "(err, warning, notice, info, debug)\n",
                                        optarg);
                                return EX_USAGE;
                        }
                        log_set_max_level(level);
                        break;
                case 'h':
                        help();
                        return 1;
                case 'V':
                        printf("noticed " NOTICED_VERSION "\n");
                        return 1;
                default:
                        fprintf(stderr, "Try 'noticed --help'.\n");
                        return EX_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "noticed: unexpected argument '%s'\nTry 'noticed --help'.\n",
                        argv[optind]);
                return EX_USAGE;
        }
        return 0;
}

/* Forks; the parent waits for the child to report that the config is loaded (one byte on the
 * pipe) or to exit, and exits with the child's verdict.  Returns the write end in the child. */
static int detach(void) {
        int fds[2], status;
        char ok;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0) {
                (void) close(fds[1]);
                if (read(fds[0], &ok, 1) == 1)
                        _exit(EXIT_SUCCESS);
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR)
                                _exit(EX_SOFTWARE);
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : EX_SOFTWARE);
        }
        (void) close(fds[0]);
        (void) setsid();
        return fds[1];
}

static void finish_detaching(int fd) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null >= 0) {
                (void) dup2(null, STDIN_FILENO);
                (void) dup2(null, STDOUT_FILENO);
                (void) dup2(null, STDERR_FILENO);
                (void) close(null);
        }
        log_open_journal();
        (void) chdir("/");
        (void) write(fd, "", 1);
        (void) close(fd);
}

static int run(int argc, char *argv[]) {
        Arguments a = {.config = CONFIG_DEFAULT_PATH};
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *absolute = NULL;
        int r, ready_fd = -1;

        log_open();
        r = parse_arguments(argc, argv, &a);
        if (r != 0)
                return r == 1 ? EXIT_SUCCESS : r;
        /* systemd waits for READY=1 from this very process: never detach under it. */
        if (!a.foreground && !getenv("NOTIFY_SOCKET")) {
                /* The detached daemon works from "/": a reload must find the same file. */
                absolute = realpath(a.config, NULL);
                if (absolute)
                        a.config = absolute;
                ready_fd = detach();
                if (ready_fd < 0) {
                        (void) log_error_errno(ready_fd, "Failed to detach: %m");
                        return EX_OSERR;
                }
        }
        r = manager_new(a.config, &m); /* the manager keeps a copy of the path */
        if (r < 0)
                return r == -ENOMEM ? EX_OSERR : EX_CONFIG;
        r = manager_open_ledger(m, ledger_state_directory());
        if (r < 0)
                return r == -ENOMEM ? EX_OSERR : EX_CANTCREAT;
        if (ready_fd >= 0)
                finish_detaching(ready_fd);
        r = manager_run(m);
        return r < 0 ? EX_SOFTWARE : EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        return run(argc, argv);
}
