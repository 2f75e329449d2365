/* Logging to the journal with fields, or to stderr.
 *
 * The journal is only used when stderr already goes there (systemd sets JOURNAL_STREAM to the
 * device and inode of that stream): a daemon started by hand or by a test writes plain lines a
 * person or a test can read, and nothing is lost when journald is not running.
 * NOTICED_LOG_TARGET=journal|console overrides the choice, so that a test suite can keep every
 * program off the machine's journal, and an administrator can force it on. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "noticed/log.h"

static int max_level = LOG_INFO;
static bool to_journal;

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        char *end;

        /* "DEVICE:INODE" of the journal's stream, in decimal (systemd.exec(5)). */
        if (!e)
                return false;
        errno = 0;
        dev = strtoull(e, &end, 10);
        if (errno != 0 || end == e || *end != ':')
                return false;
        e = end + 1;
        ino = strtoull(e, &end, 10);
        if (errno != 0 || end == e || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_CONSOLE,
        LOG_TARGET_INVALID,
} LogTarget;

/* NOTICED_LOG_TARGET, read at every open: a test sets it for the programs it starts. */
static LogTarget log_target(void) {
        const char *e = getenv(LOG_TARGET_ENV);

        if (!e || !*e || strcmp(e, "auto") == 0)
                return LOG_TARGET_AUTO;
        if (strcmp(e, "journal") == 0)
                return LOG_TARGET_JOURNAL;
        if (strcmp(e, "console") == 0)
                return LOG_TARGET_CONSOLE;
        return LOG_TARGET_INVALID;
}

/* preferred: the journal, as auto would choose it; the variable has the last word. */
static void log_choose(bool preferred) {
        LogTarget target = log_target();

        to_journal = target == LOG_TARGET_JOURNAL ||
                     ((target == LOG_TARGET_AUTO || target == LOG_TARGET_INVALID) && preferred);
        if (target == LOG_TARGET_INVALID)
                (void) log_warning("%s=%s is not auto, journal or console, ignoring",
                                   LOG_TARGET_ENV, getenv(LOG_TARGET_ENV));
}

void log_open(void) {
        log_choose(stderr_is_journal());
}

void log_open_journal(void) {
        log_choose(true);
}

void log_set_max_level(int level) {
        max_level = level;
}

LogFields log_fields_of(const ReminderIdentity *x) {
        return (LogFields){.commitment = x->commitment,
                           .milestone = x->milestone,
                           .cycle = x->cycle,
                           .recipient = x->recipient,
                           .channel = x->channel,
                           .reminder_id = x->id};
}

int log_level_from_string(const char *s) {
        static const char *const names[] = {"emerg",   "alert",  "crit", "err",
                                            "warning", "notice", "info", "debug"};

        for (int i = 0; i < (int) (sizeof(names) / sizeof(names[0])); i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        if (strcmp(s, "error") == 0)
                return LOG_ERR;
        return -EINVAL;
}

/* Up to 13 fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, ERRNO, MESSAGE_ID, the reminder's and
 * OBJECT_SYSTEMD_UNIT. */
#define LOG_MAX_FIELDS 13

typedef struct FieldList {
        struct iovec iov[LOG_MAX_FIELDS];
        char *owned[LOG_MAX_FIELDS];
        size_t n;
} FieldList;

static void field_add(FieldList *f, const char *name, const char *value) {
        char *s;

        if (!value || f->n >= LOG_MAX_FIELDS || asprintf(&s, "%s=%s", name, value) < 0)
                return; /* a field lost to memory pressure is better than no line at all */
        f->owned[f->n] = s;
        f->iov[f->n++] = (struct iovec){.iov_base = s, .iov_len = strlen(s)};
}

static void send_to_journal(const char *file, int line, const char *func, int level, int error,
                            const LogFields *fields, const char *message) {
        char code_file[256], code_line[32], number[24];
        FieldList f = {.n = 0};

        field_add(&f, "MESSAGE", message);
        (void) snprintf(number, sizeof(number), "%d", level);
        field_add(&f, "PRIORITY", number);
        field_add(&f, "SYSLOG_IDENTIFIER", program_invocation_short_name);
        if (error != 0) {
                (void) snprintf(number, sizeof(number), "%d", abs(error));
                field_add(&f, "ERRNO", number);
        }
        if (fields) {
                field_add(&f, "MESSAGE_ID", fields->message_id);
                field_add(&f, "COMMITMENT", fields->commitment);
                field_add(&f, "MILESTONE", fields->milestone);
                if (fields->cycle >= 0) {
                        (void) snprintf(number, sizeof(number), "%" PRId64, fields->cycle);
                        field_add(&f, "CYCLE", number);
                }
                field_add(&f, "RECIPIENT", fields->recipient);
                field_add(&f, "CHANNEL", fields->channel);
                field_add(&f, "REMINDER_ID", fields->reminder_id);
                field_add(&f, "OBJECT_SYSTEMD_UNIT", fields->unit);
        }
        (void) snprintf(code_file, sizeof(code_file), "CODE_FILE=%s", file);
        (void) snprintf(code_line, sizeof(code_line), "CODE_LINE=%d", line);
        if (f.n > 0)
                (void) sd_journal_sendv_with_location(code_file, code_line, func, f.iov, (int) f.n);
        for (size_t i = 0; i < f.n; i++)
                free(f.owned[i]);
}

int log_internal(const char *file, int line, const char *func, int level, int error,
                 const LogFields *fields, const char *format, ...) {
        static const char *const prefix[] = {
                "emergency: ", "alert: ", "critical: ", "error: ", "warning: ", "", "", "debug: "};
        int saved_errno = errno;
        char *message = NULL;
        va_list ap;

        if (level > max_level)
                goto out;
        errno = abs(error); /* for %m */
        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);
        if (!message)
                goto out;
        if (to_journal)
                send_to_journal(file, line, func, level, error, fields, message);
        else
                (void) fprintf(stderr, "%s%s\n", prefix[level & 7], message);
        free(message);
out:
        errno = saved_errno;
        return error == 0 ? 0 : -abs(error);
}
