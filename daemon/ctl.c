/* noticectl's shared ground: its help, its usage errors, the config every command reads.
 *
 * What each command needs before it does its own job: the one help text (every command's
 * --help prints it), the "noticectl: ...\nTry 'noticectl --help'." form of a usage error, the
 * date of an option, the model with today in its zone, and the check that stdout took it all.
 * Prints on stdout and stderr; returns exit statuses (sysexits.h), never -errno. */

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/ctl.h"
#include "noticed/macro.h"

void ctl_help(void) {
        printf("Usage: noticectl [-c FILE] [--today DATE] COMMAND [OPTIONS]\n"
               "\n"
               "Check the commitments in noticed's config and show their dates.\n"
               "\n"
               "Commands:\n"
               "  check                            validate the config (errors: FILE:LINE: ...)\n"
               "  list [--from D] [--to D] [--json]\n"
               "                                   milestones and the period of each one's cycle\n"
               "                                   (default: today to today + 2y)\n"
               "  simulate --from D --to D [--json]\n"
               "                                   reminders that would go out\n"
               "  upcoming [--recipient ID] [--commitment ID] [--days N] [--json]\n"
               "                                   what will really go out (ledger, decisions)\n"
               "  history [--commitment ID] [--recipient ID] [--state STATE] [--since D] [--json]\n"
               "                                   what was sent, skipped, failed and decided;\n"
               "                                   STATE: sent, failed, skipped, queued, pending,\n"
               "                                   decided\n"
               "  decide COMMITMENT CYCLE PARTICIPANT continue|terminate [--note TEXT] [--force]\n"
               "                                   record a participant's decision\n"
               "  revoke COMMITMENT CYCLE PARTICIPANT [--note TEXT]\n"
               "                                   take a decision back (appends a revocation)\n"
               "  export-ics [COMMITMENT] [--from D] [--to D]\n"
               "                                   milestones as an iCalendar file\n"
               "  test-send RECIPIENT              a test message through each of its channels\n"
               "\n"
               "Options:\n"
               "  -c, --config FILE  config file (default " CONFIG_DEFAULT_PATH ")\n"
               "      --today DATE   plan as if today were DATE (YYYY-MM-DD)\n"
               "  -h, --help         show this help\n"
               "  -V, --version      show the version\n"
               "\n"
               "Exit status: 0 ok, 64 usage, 65 bad data, 69 unavailable, 73 can't create,\n"
               "77 no permission, 78 config error.\n"
               "The ledger: $STATE_DIRECTORY or /var/lib/noticed.\n"
               "See noticectl(1), noticed(8) and noticed.conf(5).\n");
}

int ctl_usage_error(const char *format, ...) {
        va_list ap;

        fputs("noticectl: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputs("\nTry 'noticectl --help'.\n", stderr);
        return EX_USAGE;
}

int ctl_parse_date(const char *option, const char *value, Date *ret) {
        if (date_parse(value, ret) < 0) {
                fprintf(stderr, "noticectl: %s '%s' is not a date (YYYY-MM-DD)\n", option, value);
                return EX_USAGE;
        }
        return 0;
}

int ctl_load_model(Context *ctx) {
        ConfigErrors errors;
        int r;

        assert(!ctx->model); /* one command, one config */
        r = config_load(ctx->config_path, &ctx->model, &errors);

        for (size_t i = 0; i < errors.n; i++) {
                _cleanup_free_ char *line = config_error_to_string(&errors.items[i]);

                fprintf(stderr, "%s\n", line ? line : "noticectl: out of memory");
        }
        config_errors_done(&errors);
        if (r == -ENOMEM) {
                fprintf(stderr, "noticectl: out of memory reading %s\n", ctx->config_path);
                return EX_UNAVAILABLE;
        }
        if (r < 0)
                return EX_CONFIG;
        if (!ctx->have_today) {
                int32_t seconds, offset;
                tz_unix_to_local(ctx->model->tz, (int64_t) time(NULL), &ctx->today, &seconds,
                                 &offset);
        }
        return 0;
}

int ctl_finish_output(void) {
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "noticectl: writing output failed: %s\n", strerror(errno));
                return EX_CANTCREAT;
        }
        return 0;
}

int ctl_open_ledger(bool must_exist, Ledger **ret) {
        _cleanup_free_ char *path = ledger_path_in(ledger_state_directory());
        int r;

        *ret = NULL;
        if (!path) {
                fprintf(stderr, "noticectl: out of memory\n");
                return EX_UNAVAILABLE;
        }
        /* systemd's StateDirectory= makes it for the daemon; decide may come first. */
        if (!must_exist && mkdir(ledger_state_directory(), 0700) < 0 && errno != EEXIST) {
                int e = errno;
                fprintf(stderr, "noticectl: cannot create the state directory %s: %s\n",
                        ledger_state_directory(), strerror(e));
                return e == EACCES || e == EPERM || e == EROFS ? EX_NOPERM : EX_CANTCREAT;
        }
        if (must_exist && access(path, F_OK) < 0 && errno == ENOENT) {
                fprintf(stderr,
                        "noticectl: no ledger at %s yet (noticed has not run with this "
                        "state directory; set STATE_DIRECTORY to use another)\n",
                        path);
                return 0;
        }
        r = ledger_open(path, ret);
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot open the ledger %s: %s\n", path,
                        r == -EPROTONOSUPPORT ? "it was written by a newer noticed" : strerror(-r));
                return r == -EACCES || r == -EPERM || r == -EROFS ? EX_NOPERM : EX_UNAVAILABLE;
        }
        return 0;
}

void ctl_join_channels(const json_t *channels, char *buf, size_t size) {
        size_t i, used = 0;
        json_t *v;

        buf[0] = '\0';
        json_array_foreach(channels, i, v) {
                int n = snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                                 json_string_value(v));
                if (n < 0 || (size_t) n >= size - used)
                        break; /* a table cell may be cut; the JSON never is */
                used += (size_t) n;
        }
}
