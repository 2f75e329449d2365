/* The Manager: config, ledger, event sources, and when to run a pass.
 *
 * Shaped after systemd-timesyncd's manager: one object owns every event source, errors are
 * logged once where they are handled.  What a pass decides is pass.c's business, and how
 * its messages are sent outbox.c's; this file decides when a pass runs (start, the timer, a
 * clock change, a reload), when the daemon stops, and tells systemd. */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "noticed/clock.h"
#include "noticed/config.h"
#include "noticed/daemon.h"
#include "noticed/date.h"
#include "noticed/ledger.h"
#include "noticed/log.h"
#include "noticed/macro.h"
#include "noticed/outbox.h"
#include "noticed/pass.h"
#include "noticed/tz.h"

/* A pass that failed (the ledger was busy or the disk full) is tried again this much later. */
#define PASS_RETRY_USEC USEC_PER_MINUTE

struct Manager {
        sd_event *event;
        char *config_path;
        Model *model;
        Ledger *ledger;
        sd_event_source *timer;       /* the next reminder, CLOCK_REALTIME, absolute */
        sd_event_source *time_change; /* the clock was set */
        int time_change_fd;
        int lock_fd; /* flock()ed: one daemon per state directory */
        Pass *pass;
        Outbox *outbox;
        Secret *secrets; /* read at start, for the outbox it is handed to */
        char *outlook;   /* the last pass's "next: ..." for STATUS= */
        uint64_t passes;
        bool watchdog;      /* WATCHDOG_USEC was set for us */
        bool ready;         /* READY=1 was sent */
        usec_t last_ping;   /* CLOCK_MONOTONIC µs of keep_systemd_informed()'s last message */
        char *reload_error; /* the last failed reload, for STATUS; NULL after a good one */
        bool counts_failed; /* the ledger could not be counted for STATUS=, and that was logged */
        bool stopping;
        bool in_pass;
};

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        (void) sd_event_source_disable_unref(m->timer);
        (void) sd_event_source_disable_unref(m->time_change);
        if (m->time_change_fd >= 0)
                (void) close(m->time_change_fd);
        if (m->lock_fd >= 0)
                (void) close(m->lock_fd);
        (void) outbox_free(m->outbox);
        (void) sd_event_unref(m->event);
        (void) pass_free(m->pass);
        secrets_free(m->secrets, m->model ? m->model->n_transports : 0);
        free(m->outlook);
        (void) ledger_close(m->ledger);
        (void) model_free(m->model);
        free(m->config_path);
        free(m->reload_error);
        free(m);
        return NULL;
}

/* Each error as "FILE:LINE: message", tagged with message_id (NULL: none). */
static void log_config_errors(const ConfigErrors *errors, const char *message_id) {
        LogFields f = LOG_FIELDS_NONE;

        f.message_id = message_id;
        for (size_t i = 0; i < errors->n; i++) {
                _cleanup_free_ char *line = config_error_to_string(&errors->items[i]);

                (void) log_full(LOG_ERR, 0, &f, "%s", line ? line : "out of memory");
        }
}

/* The first error, and whether more follow, in one line; malloc'd, NULL when out of memory. */
static char *describe_config_errors(const ConfigErrors *errors) {
        _cleanup_free_ char *first =
                errors->n > 0 ? config_error_to_string(&errors->items[0]) : NULL;
        char *s;

        if (errors->n > 0 && !first)
                return NULL;
        if (asprintf(&s, "%s%s", first ? first : "?: ?",
                     errors->n > 1 ? " (and more, see the log)" : "") < 0)
                return NULL;
        return s;
}

/* The config at path and the secrets of its transports, read together so that a start and a
 * reload accept and refuse the same things.  Every problem is logged, tagged with message_id
 * (NULL: none): the config's errors as FILE:LINE, a secret that cannot be read as "FILE:
 * transport ...: why".  Then, when ret_reason is not NULL, *ret_reason is the first problem in
 * one line, for STATUS= (malloc'd; NULL when out of memory).  Returns 0 with the model and one
 * secret per transport; -EINVAL for a config or a secret that cannot be used, whatever the
 * cause (the file missing, unreadable, wrong); -ENOMEM. */
static int manager_load(const char *path, const char *message_id, Model **ret_model,
                        Secret **ret_secrets, char **ret_reason) {
        LogFields f = LOG_FIELDS_NONE;
        _cleanup_free_ char *error = NULL;
        ConfigErrors errors;
        Secret *secrets = NULL;
        Model *model = NULL;
        int r;

        assert(path && ret_model && ret_secrets);
        f.message_id = message_id;
        if (ret_reason)
                *ret_reason = NULL;
        r = config_load(path, &model, &errors);
        if (r < 0) {
                log_config_errors(&errors, message_id);
                if (ret_reason)
                        *ret_reason = describe_config_errors(&errors);
        }
        config_errors_done(&errors);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL;

        r = secrets_load(model, &secrets, &error);
        if (r < 0) {
                if (error)
                        (void) log_full(LOG_ERR, r, &f, "%s: %s", path, error);
                else /* out of memory: secrets_load() had no room to say so */
                        (void) log_full(LOG_ERR, r, &f, "%s: %m", path);
                if (ret_reason &&
                    asprintf(ret_reason, "%s: %s", path, error ? error : "out of memory") < 0)
                        *ret_reason = NULL;
                model_free(model);
                return r == -ENOMEM ? r : -EINVAL;
        }
        *ret_model = model;
        *ret_secrets = secrets;
        return 0;
}

int manager_new(const char *config_path, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        assert(config_path && ret);
        m = calloc(1, sizeof(*m));
        if (!m)
                return log_error_errno(-ENOMEM, "Out of memory");
        m->time_change_fd = m->lock_fd = -1;
        m->config_path = strdup(config_path);
        if (!m->config_path)
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees m */
                return log_error_errno(-ENOMEM, "Out of memory");
        r = manager_load(m->config_path, NULL, &m->model, &m->secrets, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* One daemon per state directory: two would both see a reminder as unsettled and both send
 * it.  An flock() on a file beside the ledger, held for the life of the process and released by
 * the kernel however it ends; noticectl does not take it. */
static int lock_state_directory(Manager *m, const char *state_dir) {
        char path[PATH_MAX];

        if ((size_t) snprintf(path, sizeof(path), "%s/noticed.lock", state_dir) >= sizeof(path))
                return log_error_errno(-ENAMETOOLONG, "State directory path too long: %s",
                                       state_dir);
        m->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (m->lock_fd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", path);
        if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        return log_error_errno(-EBUSY,
                                               "Another noticed is running with the state "
                                               "directory %s; not starting a second one",
                                               state_dir);
                return log_error_errno(-errno, "Failed to lock %s: %m", path);
        }
        return 0;
}

int manager_open_ledger(Manager *m, const char *state_dir) {
        _cleanup_free_ char *ledger_path = NULL;
        int r;

        assert(m && state_dir && !m->ledger);
        if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Failed to create state directory %s: %m",
                                       state_dir);
        r = lock_state_directory(m, state_dir);
        if (r < 0)
                return r;
        ledger_path = ledger_path_in(state_dir);
        if (!ledger_path)
                return log_error_errno(-ENOMEM, "Out of memory");
        r = ledger_open(ledger_path, &m->ledger);
        if (r < 0) {
                (void) log_error_errno(r, "Failed to open ledger %s: %s", ledger_path,
                                       r == -EPROTONOSUPPORT ? "written by a newer noticed"
                                                             : strerror(-r));
                return r;
        }
        r = pass_new(m->ledger, &m->pass);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        return 0;
}

/* Between deliveries of one pass, at most once a second: the loop, which pings the watchdog
 * otherwise, is not running meanwhile, so WATCHDOG=1 when systemd asked for it; and before
 * READY=1, EXTEND_TIMEOUT_USEC= so that a long first catch-up (weeks down, thousands of
 * reminders) is not taken for a start that hangs. */
#define START_EXTENSION_USEC (30 * USEC_PER_SEC)

static bool keep_systemd_informed(void *userdata) {
        Manager *m = userdata;
        usec_t now = clock_now_usec(CLOCK_MONOTONIC);
        sigset_t pending;

        /* SIGTERM waits in the signalfd until the loop runs again: end the pass instead. */
        if (sigpending(&pending) == 0 &&
            (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1))
                return false;
        if (now - m->last_ping < USEC_PER_SEC)
                return true;
        if (!m->ready)
                (void) sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%" PRIu64, START_EXTENSION_USEC);
        if (m->watchdog)
                (void) sd_notify(0, "WATCHDOG=1");
        m->last_ping = now;
        return true;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int arm_timer(Manager *m, usec_t usec) {
        int r;

        if (!m->timer) {
                r = sd_event_add_time(m->event, &m->timer, CLOCK_REALTIME, usec, 0, on_timer, m);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(m->timer, "next-reminder");
                return 0;
        }
        r = sd_event_source_set_time(m->timer, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

/* The local date of now in tz, and the instants its first and the next day's midnight
 * (a day of 23 or 25 hours where the clocks change; a midnight that does not exist is the
 * instant the clock jumps past it). */
static void local_day(const Tz *tz, usec_t now, Date *ret_day, usec_t *ret_start, usec_t *ret_end) {
        int64_t start, end;
        int32_t seconds, offset;

        tz_unix_to_local(tz, (int64_t) (now / USEC_PER_SEC), ret_day, &seconds, &offset);
        tz_local_to_unix(tz, *ret_day, 0, &start, &offset);
        tz_local_to_unix(tz, *ret_day + 1, 0, &end, &offset);
        *ret_start = (usec_t) start * USEC_PER_SEC;
        *ret_end = (usec_t) end * USEC_PER_SEC;
}

/* The ledger's counts for STATUS=, for the local day (in the config's zone) of now: "DATE: sent
 * N, failed N, skipped N; in all: sent N, failed N; queued N[ (N in flight)]".  The day is named
 * rather than called "today", since STATUS= stands until the next one, past midnight too.  A
 * ledger that cannot be read is said so, and logged once until it can be again.  malloc'd; NULL
 * when out of memory. */
static char *describe_counts(Manager *m, usec_t now) {
        char date[DATE_STRING_MAX], flying[48] = "";
        size_t in_flight = outbox_in_flight(m->outbox);
        usec_t day_start, day_end;
        LedgerCounts c;
        Date today;
        char *s;
        int r;

        local_day(m->model->tz, now, &today, &day_start, &day_end);
        r = ledger_counts(m->ledger, day_start, day_end, &c);
        if (r < 0) {
                if (!m->counts_failed)
                        (void) log_warning_errno(r,
                                                 "Failed to count the ledger's records for "
                                                 "STATUS=, ignoring: %s",
                                                 ledger_error(m->ledger));
                m->counts_failed = true;
                if (asprintf(&s, "counts unavailable (%s)", strerror(-r)) < 0)
                        return NULL;
                return s;
        }
        m->counts_failed = false;
        if (in_flight > 0)
                (void) snprintf(flying, sizeof(flying), " (%zu in flight)", in_flight);
        if (asprintf(&s,
                     "%s: sent %" PRIu64 ", failed %" PRIu64 ", skipped %" PRIu64
                     "; in all: sent %" PRIu64 ", failed %" PRIu64 "; queued %" PRIu64 "%s",
                     date_format(today, date), c.day_sent, c.day_failed, c.day_skipped, c.sent,
                     c.failed, c.queued, flying) < 0)
                return NULL;
        return s;
}

/* STATUS= says what comes next ("next: ...", "idle: ...", "error: ..."), preceded by a failed
 * reload while its config is still refused, and followed by the ledger's counts.
 * X_NOTICED_PASS= counts passes, for whoever waits for one (the tests). */
static void notify_status(Manager *m) {
        _cleanup_free_ char *counts = describe_counts(m, clock_now_usec(CLOCK_REALTIME));

        (void) sd_notifyf(0, "STATUS=%s%s%s; %s\nX_NOTICED_PASS=%" PRIu64,
                          m->reload_error ? m->reload_error : "", m->reload_error ? "; " : "",
                          m->outlook ? m->outlook : "?", counts ? counts : "counts: out of memory",
                          m->passes);
}

/* After the outbox settled something: STATUS= counts it (a pass says so itself, at its end). */
static void on_settled(void *userdata) {
        Manager *m = userdata;

        if (!m->in_pass)
                notify_status(m);
}

/* Reads the clock once; delivers what is due; arms the timer for what comes next: the next
 * reminder, or when there is none for years, the end of that search (a wakeup per decade is
 * not a poll); after a failure (a busy ledger, a full disk), a minute from now. */
static int manager_pass(Manager *m) {
        usec_t now = clock_now_usec(CLOCK_REALTIME), next_usec = 0;
        _cleanup_free_ char *next = NULL;
        char *outlook = NULL;
        int32_t seconds, offset;
        Date today;
        int r, r2;

        if (m->stopping) /* a clock change or a reload while transfers end */
                return 0;
        m->passes++;
        tz_unix_to_local(m->model->tz, (int64_t) (now / USEC_PER_SEC), &today, &seconds, &offset);
        /* Without the decisions, reminders people stopped would go out: no pass without them. */
        r = pass_load_decisions(m->pass, m->model);
        if (r < 0)
                (void) log_error_errno(r, "Failed to read decisions from the ledger: %s",
                                       r == -ENOMEM ? "out of memory" : ledger_error(m->ledger));
        else
                r = pass_queue_due(m->pass, m->model, now, today);
        /* What the pass queued, and retries that are due: local transports deliver now. */
        m->in_pass = true;
        if (r >= 0)
                r = outbox_run(m->outbox, now);
        m->in_pass = false;
        if (r >= 0)
                r = pass_find_next(m->pass, m->model, now, today, &next_usec, &next);
        if (r > 0) {
                if (asprintf(&outlook, "next: %s", next) < 0)
                        outlook = NULL;
        } else if (r == 0) {
                next_usec = now + (usec_t) PASS_SEARCH_DAYS * USEC_PER_DAY;
                outlook = strdup("idle: no reminder ahead");
        } else {
                next_usec = now + PASS_RETRY_USEC;
                log_warning("Will try again in %d s", (int) (PASS_RETRY_USEC / USEC_PER_SEC));
                if (asprintf(&outlook, "error: the last pass failed (%s), trying again in %d s",
                             strerror(-r), (int) (PASS_RETRY_USEC / USEC_PER_SEC)) < 0)
                        outlook = NULL;
        }
        r2 = arm_timer(m, next_usec);
        if (r2 < 0)
                (void) log_error_errno(r2, "Failed to arm the timer, no more reminders will be "
                                           "sent until a reload: %m");
        free(m->outlook);
        m->outlook = outlook;
        notify_status(m);
        if (next)
                log_debug("Next: %s", next);
        return r < 0 ? r : 0;
}

/* --- event sources -------------------------------------------------------------------------- */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        (void) manager_pass(userdata);
        return 0;
}

/* A CLOCK_REALTIME timerfd that is cancelled whenever the clock is set (by hand, NTP stepping
 * it, or on resume): sd-event in libsystemd 252 has no time-change source of its own.  It is
 * armed at the end of time (as systemd's time_change_fd() does) so that it never expires; a
 * 2038 expiry would make every read succeed and the daemon re-plan in a loop. */
#define TIME_T_MAX ((time_t) INT64_MAX)

static int arm_time_change_fd(int fd) {
        static const struct itimerspec end_of_time = {.it_value = {.tv_sec = TIME_T_MAX}};

        if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &end_of_time, NULL) <
            0)
                return -errno;
        return 0;
}

static int on_time_change(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        uint64_t expirations;
        bool clock_set;
        int r;

        (void) s;
        (void) revents;
        clock_set = read(fd, &expirations, sizeof(expirations)) < 0 && errno == ECANCELED;
        r = arm_time_change_fd(fd);
        if (r < 0)
                (void) log_warning_errno(r, "Failed to re-arm the time-change timer, "
                                            "clock changes will go unnoticed: %m");
        if (!clock_set)
                return 0; /* a spurious wakeup (EAGAIN), or the end of time */
        log_info("The system clock was set; planning again");
        (void) manager_pass(m);
        return 0;
}

static int add_time_change_source(Manager *m) {
        int r;

        m->time_change_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
        if (m->time_change_fd < 0)
                return -errno;
        if ((r = arm_time_change_fd(m->time_change_fd)) < 0)
                return r;
        r = sd_event_add_io(m->event, &m->time_change, m->time_change_fd, EPOLLIN, on_time_change,
                            m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(m->time_change, "time-change");
        return 0;
}

/* SIGHUP: read the config again; swap only a config that is valid as a whole, with its
 * secrets.  A refused one leaves the running config as it was and says why in STATUS= until
 * a reload succeeds. */
static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        static const LogFields reload_failed = {.message_id = LOG_MESSAGE_RELOAD_FAILED,
                                                .cycle = -1};
        Manager *m = userdata;
        _cleanup_free_ char *reason = NULL;
        Secret *secrets = NULL;
        Model *model = NULL;
        int r;

        (void) s;
        (void) si;
        if (m->stopping) /* READY=1 after STOPPING=1 would confuse systemd */
                return 0;
        (void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=Reloading %s",
                          clock_now_usec(CLOCK_MONOTONIC), m->config_path);
        r = manager_load(m->config_path, LOG_MESSAGE_RELOAD_FAILED, &model, &secrets, &reason);
        free(m->reload_error);
        m->reload_error = NULL;
        if (r < 0) {
                (void) log_full(LOG_ERR, 0, &reload_failed,
                                "Reloading %s failed; still running the previous config",
                                m->config_path);
                if (reason &&
                    asprintf(&m->reload_error,
                             "reload failed: %s; still running the previous config", reason) < 0)
                        m->reload_error = NULL;
        } else {
                outbox_configure(m->outbox, model, secrets);
                model_free(m->model);
                m->model = model;
                log_info("Reloaded %s", m->config_path);
        }
        (void) manager_pass(m);
        (void) sd_notify(0, "READY=1");
        return 0;
}

static void on_stopped(void *userdata) {
        Manager *m = userdata;

        (void) sd_event_exit(m->event, 0);
}

/* SIGTERM, SIGINT: no new pass, no new transfer; the ones in flight get stop_timeout to end. */
static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int r;

        (void) s;
        if (m->stopping)
                return 0;
        m->stopping = true;
        log_info("Received %s, stopping", sigabbrev_np((int) si->ssi_signo));
        (void) sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
        if (m->timer)
                (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        r = outbox_stop(m->outbox, m->model->stop_timeout_usec, on_stopped, m);
        if (r < 0) {
                (void) log_error_errno(r,
                                       "Failed to wait for messages in flight, stopping now: %m");
                on_stopped(m);
        }
        return 0;
}

static int add_signal(Manager *m, int signo, sd_event_signal_handler_t handler, const char *name) {
        sd_event_source *s = NULL;
        int r;

        r = sd_event_add_signal(m->event, &s, signo, handler, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s, name);
        /* Before any other source that is pending at the same time: a stop must be seen before
         * the outbox starts more work in the same turn. */
        (void) sd_event_source_set_priority(s, SD_EVENT_PRIORITY_IMPORTANT);
        /* The event loop owns it from here: it lives as long as the loop. */
        (void) sd_event_source_set_floating(s, true);
        (void) sd_event_source_unref(s);
        return 0;
}

int manager_run(Manager *m) {
        sigset_t mask;
        int r;

        assert(m && m->pass);            /* manager_open_ledger() came first */
        (void) signal(SIGPIPE, SIG_IGN); /* a sendmail that exits early must not kill us */
        (void) sigemptyset(&mask);
        (void) sigaddset(&mask, SIGHUP);
        (void) sigaddset(&mask, SIGTERM);
        (void) sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Failed to block signals: %m");

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        if ((r = add_signal(m, SIGHUP, on_reload, "reload")) < 0 ||
            (r = add_signal(m, SIGTERM, on_stop, "sigterm")) < 0 ||
            (r = add_signal(m, SIGINT, on_stop, "sigint")) < 0)
                return log_error_errno(r, "Failed to add signal sources: %m");
        r = add_time_change_source(m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for clock changes: %m");
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                (void) log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");
        m->watchdog = r > 0;
        pass_set_progress(m->pass, keep_systemd_informed, m);
        r = outbox_new(m->event, m->ledger, &m->outbox);
        if (r < 0)
                return log_error_errno(r, "Failed to set up delivery: %m");
        outbox_configure(m->outbox, m->model, m->secrets);
        m->secrets = NULL; /* the outbox's now */
        outbox_set_hooks(m->outbox, keep_systemd_informed, on_settled, m);

        /* The start-up pass (catch-up included) runs before READY=1: a unit that is "active"
         * has already sent what it owed, or handed it to its transport. */
        (void) pass_report_interrupted(m->pass);
        (void) outbox_recover(m->outbox);
        (void) manager_pass(m);
        (void) sd_notify(0, "READY=1");
        m->ready = true;
        log_info("Started with %zu commitment(s) and %zu recipient(s) from %s",
                 m->model->n_commitments, m->model->n_recipients, m->config_path);

        r = sd_event_loop(m->event);
        (void) outbox_flush(m->outbox);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
