#pragma once
/* Logging: to the journal with structured fields, or plain lines on stderr.
 *
 * Under systemd, stderr is connected to the journal (JOURNAL_STREAM names it); then every line
 * goes through sd_journal_send() with PRIORITY=, MESSAGE_ID= for the events administrators
 * search for, and the reminder's fields (COMMITMENT=, MILESTONE=, CYCLE=, RECIPIENT=,
 * CHANNEL=, REMINDER_ID=), so that `journalctl MESSAGE_ID=... COMMITMENT=...` finds them.
 * Otherwise (a terminal, a test) each message is one line on stderr.  Levels are syslog's. */

#include <stdint.h>
#include <syslog.h>

#include "noticed/identity.h"

/* MESSAGE_ID= of each event type; fixed forever, documented in noticed(8). */
#define LOG_MESSAGE_SENT          "0fa10a37602f49ffb6cea0838f00ca64"
#define LOG_MESSAGE_FAILED        "5aa1135fb76741c38384578e741dcde3"
#define LOG_MESSAGE_SKIPPED       "9815dedfd27f41ea891f02d507cd90c1"
#define LOG_MESSAGE_OVERDUE       "87e8f2673ff844f89ac12cdcbb47beb9"
#define LOG_MESSAGE_RELOAD_FAILED "fce5c2a21d4b444fb14d0cdb62abc6d4"
#define LOG_MESSAGE_DECIDED       "e3de3a8d279c42869b2f547f4aa74b0a"
#define LOG_MESSAGE_REVOKED       "6c087fda24124aedaa80ca45812a3d1a"

/* The unit whose records `journalctl -u` shows: noticectl names it in OBJECT_SYSTEMD_UNIT=,
 * which journalctl matches (with _UID=0) for records that another process logs about a unit. */
#define LOG_UNIT "noticed.service"

/* auto (default: the journal when stderr is the journal's stream, or after log_open_journal()),
 * journal (always), console (always stderr). */
#define LOG_TARGET_ENV "NOTICED_LOG_TARGET"

/* The fields of one log line; every member may be NULL (cycle: < 0) when it does not apply. */
typedef struct LogFields {
        const char *message_id;
        const char *commitment;
        const char *milestone; /* the milestone's date */
        int64_t cycle;
        const char *recipient;
        const char *channel;
        const char *reminder_id;
        const char *unit; /* OBJECT_SYSTEMD_UNIT=: the unit the record is about */
} LogFields;

#define LOG_FIELDS_NONE ((LogFields){.cycle = -1})

/* The fields of a line about one reminder (or escalation); they point into x. */
LogFields log_fields_of(const ReminderIdentity *x);

/* Chooses journal or stderr (from JOURNAL_STREAM); call once at start.  A process that has
 * detached from its terminal, or whose records belong in the journal, calls log_open_journal()
 * instead.  NOTICED_LOG_TARGET (LOG_TARGET_ENV) overrides both; a value other than auto, journal
 * or console is logged and taken as auto. */
void log_open(void);
void log_open_journal(void);
/* Messages above level are dropped.  Default LOG_INFO. */
void log_set_max_level(int level);
/* "err", "warning", "notice", "info", "debug" (and syslog's other names) -> level, or -EINVAL */
int log_level_from_string(const char *s);

/* Logs one message; `%m` in format is strerror(error).  Returns -|error| (or 0 when error is 0),
 * so that `return log_error_errno(r, ...)` reads as it should.  The journal's CODE_FILE=,
 * CODE_LINE= and CODE_FUNC= name the caller, hence the macro. */
int log_internal(const char *file, int line, const char *func, int level, int error,
                 const LogFields *fields, const char *format, ...)
        __attribute__((format(printf, 7, 8)));
#define log_full(level, error, fields, ...)                                                        \
        log_internal(__FILE__, __LINE__, __func__, (level), (error), (fields), __VA_ARGS__)

#define log_debug(...)                log_full(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...)                 log_full(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...)               log_full(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...)              log_full(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...)                log_full(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full(LOG_WARNING, (error), NULL, __VA_ARGS__)
#define log_error_errno(error, ...)   log_full(LOG_ERR, (error), NULL, __VA_ARGS__)
