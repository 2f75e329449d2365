/* noticed: the daemon's main() — arguments, then the Manager; or, with --dry-run, what the
 * start-up pass would do, printed, against a copy of the ledger.
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

#include "noticed/clock.h"
#include "noticed/config.h"
#include "noticed/daemon.h"
#include "noticed/ledger.h"
#include "noticed/log.h"
#include "noticed/macro.h"
#include "noticed/pass.h"
#include "noticed/tz.h"

/* How far ahead --dry-run looks for a missed reminder's later send_time: it waits at most for
 * the next working day's, a holiday break away. */
#define DRY_RUN_DAYS 31

typedef struct Arguments {
        const char *config;
        bool foreground;
        bool dry_run;
} Arguments;

static void help(void) {
        printf("Usage: noticed [-c FILE] [--foreground] [--log-level LEVEL]\n"
               "       noticed [-c FILE] --dry-run\n"
               "\n"
               "Reminds the people who must act of the deadlines in noticed.conf(5).\n"
               "\n"
               "  -c, --config FILE      the config (default " CONFIG_DEFAULT_PATH ")\n"
               "      --foreground       do not detach (systemd runs it so)\n"
               "      --dry-run          print what the start-up pass would queue, skip and\n"
               "                         leave, against the ledger, and write nothing\n"
               "      --log-level LEVEL  err, warning, notice, info (default) or debug\n"
               "  -h, --help             show this help\n"
               "  -V, --version          show the version\n"
               "\n"
               "State: $STATE_DIRECTORY or /var/lib/noticed.  Signals: HUP reloads, TERM stops.\n"
               "See noticed(8).\n");
}

/* Returns 0 to go on, 1 to exit 0 (help, version), or an exit status > 1. */
static int parse_arguments(int argc, char *argv[], Arguments *a) {
        enum { ARG_FOREGROUND = 0x100, ARG_LOG_LEVEL, ARG_DRY_RUN };
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"foreground", no_argument, NULL, ARG_FOREGROUND},
                {"dry-run", no_argument, NULL, ARG_DRY_RUN},
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
                case ARG_DRY_RUN:
                        a->dry_run = true;
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

/* --- --dry-run ----------------------------------------------------------------------------
 * What the start-up pass would do now, one line each, against a snapshot of the ledger
 * (ledger_open_snapshot(): read-only, copied into memory), without the daemon's lock, so that
 * it can run beside a running daemon and before a first start. */

typedef struct DryRun {
        const Model *model;
        usec_t now;
        unsigned now_n, later, skip, left;
} DryRun;

/* "2026-12-04 09:00 CET" */
static const char *format_local(const Model *m, usec_t usec, char buf[static 64]) {
        char date[DATE_STRING_MAX], zone[TZ_ABBREVIATION_MAX];
        int64_t t = (int64_t) (usec / USEC_PER_SEC);
        int32_t seconds, offset;
        Date d;

        tz_unix_to_local(m->tz, t, &d, &seconds, &offset);
        (void) snprintf(buf, 64, "%s %02d:%02d %s", date_format(d, date), (int) (seconds / 3600),
                        (int) (seconds / 60 % 60), tz_abbreviation(m->tz, t, zone));
        return buf;
}

static int print_preview(void *userdata, const PassPreview *p) {
        DryRun *run = userdata;
        char at[64], planned[64];
        usec_t when = p->at_usec > run->now ? p->at_usec : run->now;

        (void) format_local(run->model, when, at);
        (void) format_local(run->model, (usec_t) p->reminder->at * USEC_PER_SEC, planned);
        switch (p->fate) {
        case PASS_FATE_DUE:
                if (p->at_usec <= run->now) {
                        run->now_n++;
                        printf("queue now       %s  %s %s%s%s%s\n", at, p->identity->id,
                               p->identity->channel, p->catch_up ? " (missed " : "",
                               p->catch_up ? planned : "", p->catch_up ? ")" : "");
                } else if (p->catch_up) {
                        run->later++;
                        printf("queue later     %s  %s %s (missed %s; catch-up at send_time)\n", at,
                               p->identity->id, p->identity->channel, planned);
                }
                /* A reminder planned ahead is not the start-up pass's business. */
                return 0;
        case PASS_FATE_SKIP:
                /* One ahead of now is recorded when its instant comes, not by this pass. */
                if (p->at_usec > run->now)
                        return 0;
                run->skip++;
                printf("skip            %s  %s %s: %s\n", at, p->identity->id, p->identity->channel,
                       p->reason);
                return 0;
        case PASS_FATE_QUEUED:
        case PASS_FATE_RETRYING:
                run->left++;
                printf("leave %-9s %s  %s %s (next attempt%s%u%s)\n",
                       p->fate == PASS_FATE_QUEUED ? "queued" : "retrying", at, p->identity->id,
                       p->identity->channel, p->attempts > 0 ? "; " : "", p->attempts,
                       p->attempts > 0 ? " attempt(s) so far" : "");
                return 0;
        }
        return 0;
}

/* The snapshot of the ledger in the state directory; an empty one before a first start. */
static int open_ledger_snapshot(Ledger **ret) {
        _cleanup_free_ char *path = ledger_path_in(ledger_state_directory());
        int r;

        if (!path)
                return log_error_errno(-ENOMEM, "Out of memory");
        r = ledger_open_snapshot(path, ret);
        if (r == -ENOENT) {
                printf("# no ledger at %s yet: a first start\n", path);
                r = ledger_open_snapshot(NULL, ret);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read ledger %s: %s", path,
                                       r == -EPROTONOSUPPORT ? "written by a newer noticed"
                                                             : strerror(-r));
        return 0;
}

/* The preview of the start-up pass under model, printed; an exit status. */
static int dry_run_model(const Model *model) {
        Ledger *ledger = NULL;
        Pass *pass = NULL;
        DryRun run = {.model = model, .now = clock_now_usec(CLOCK_REALTIME)};
        int32_t seconds, offset;
        Date today;
        int r;

        if (open_ledger_snapshot(&ledger) < 0)
                return EX_UNAVAILABLE;
        r = pass_new(ledger, &pass);
        if (r < 0) {
                (void) ledger_close(ledger);
                (void) log_error_errno(r, "Out of memory");
                return EX_OSERR;
        }
        tz_unix_to_local(model->tz, (int64_t) (run.now / USEC_PER_SEC), &today, &seconds, &offset);
        r = pass_load_decisions(pass, model);
        if (r < 0)
                (void) log_error_errno(r, "Failed to read decisions from the ledger: %s",
                                       ledger_error(ledger));
        else
                r = pass_preview(pass, model, run.now, today, today + DRY_RUN_DAYS, print_preview,
                                 &run);
        (void) pass_free(pass);
        (void) ledger_close(ledger);
        if (r < 0)
                return EX_UNAVAILABLE; /* logged */
        printf("noticed --dry-run: %u to queue now, %u to queue later, %u to skip, %u left in the "
               "outbox; nothing was written\n",
               run.now_n, run.later, run.skip, run.left);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EX_IOERR;
}

static int dry_run(const char *config_path) {
        Model *model = NULL;
        ConfigErrors errors;
        int r;

        r = config_load(config_path, &model, &errors);
        for (size_t i = 0; i < errors.n; i++) {
                _cleanup_free_ char *line = config_error_to_string(&errors.items[i]);
                log_error("%s", line ? line : "out of memory");
        }
        config_errors_done(&errors);
        if (r < 0)
                return r == -ENOMEM ? EX_OSERR : EX_CONFIG;
        r = dry_run_model(model);
        (void) model_free(model);
        return r;
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
        if (a.dry_run)
                return dry_run(a.config);
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
