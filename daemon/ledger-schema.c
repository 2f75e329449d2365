/* The ledger's file: created with mode 0600, switched to WAL, migrated forward, its statements
 * prepared once.  The schema's whole history is here (migrations[], append only), and every
 * statement the ledger runs, so that one place says what SQL touches the file. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger-internal.h"

#define BUSY_TIMEOUT_MSEC 5000

/* Migration k takes user_version k-1 to k and sets the version itself, so that the change and
 * the bump commit together.  Append only: a shipped migration is never edited. */
static const char *const migrations[] = {
        "CREATE TABLE reminders ("
        "  id TEXT NOT NULL, channel TEXT NOT NULL,"
        "  commitment TEXT NOT NULL, kind TEXT NOT NULL, cycle INTEGER NOT NULL,"
        "  milestone TEXT NOT NULL, offset_ TEXT NOT NULL, recipient TEXT NOT NULL,"
        "  due_usec INTEGER NOT NULL,"
        "  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),"
        "  attempts INTEGER NOT NULL CHECK (attempts >= 0),"
        "  created_usec INTEGER NOT NULL, updated_usec INTEGER NOT NULL,"
        "  reply TEXT, message_id TEXT,"
        "  PRIMARY KEY (id, channel)"
        ") WITHOUT ROWID;"
        "CREATE INDEX reminders_by_commitment ON reminders (commitment, due_usec);"
        "CREATE TABLE decisions ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  commitment TEXT NOT NULL, cycle INTEGER NOT NULL, participant TEXT NOT NULL,"
        "  decision TEXT NOT NULL CHECK (decision IN ('continue', 'terminate')),"
        "  note TEXT, user TEXT NOT NULL, at_usec INTEGER NOT NULL"
        ");"
        "PRAGMA user_version = 1;",
        /* 2: the outbox.  A reminder handed to a transport waits here, pending in reminders,
         * with the exact bytes to send (so every attempt sends the same message) until it is
         * sent or given up. */
        "CREATE TABLE outbox ("
        "  id TEXT NOT NULL, channel TEXT NOT NULL,"
        "  transport TEXT NOT NULL, recipients TEXT, payload BLOB NOT NULL, message_id TEXT,"
        "  key TEXT, escalate INTEGER NOT NULL CHECK (escalate IN (0, 1)),"
        "  next_usec INTEGER NOT NULL, deadline_usec INTEGER NOT NULL,"
        "  inflight INTEGER NOT NULL DEFAULT 0 CHECK (inflight IN (0, 1)),"
        "  interrupted INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1)),"
        "  PRIMARY KEY (id, channel)"
        ") WITHOUT ROWID;"
        "CREATE INDEX outbox_by_next ON outbox (inflight, transport, next_usec);"
        /* A reminder's group (milestone, recipient, channel) is looked up for every reminder
         * queued: by recipient first, or a burst to thousands of participants of one milestone
         * scans them all each time. */
        "CREATE INDEX reminders_by_recipient ON reminders (recipient, commitment);"
        "PRAGMA user_version = 2;",
        /* 3: a reminder's identity in columns (identity.h), so that group look-ups compare
         * columns and nothing parses the id: the one-off deadline's id, and for an escalation
         * the failed reminder's kind, deadline, recipient and channel.  The rows already there
         * get them from their ids, here, once: "commitment/deadline:ID/..." and
         * "commitment/escalation/cycle/milestone/KIND:OFFSET:RECIPIENT:CHANNEL/TO", where KIND
         * may be "deadline:ID" and CHANNEL "webhook:NAME".  Ids have no ':' (validate.c), so the
         * parts are cut from the left: KIND ("deadline:" and the id up to the next ':', or up
         * to the first ':'), then OFFSET, whose length the offset_ column gives (a deadline may
         * be called "30d" too: searching for the offset could cut inside KIND), then
         * RECIPIENT up to the next ':', and CHANNEL is the rest. */
        "ALTER TABLE reminders ADD COLUMN deadline TEXT;"
        "ALTER TABLE reminders ADD COLUMN failed_kind TEXT;"
        "ALTER TABLE reminders ADD COLUMN failed_deadline TEXT;"
        "ALTER TABLE reminders ADD COLUMN failed_recipient TEXT;"
        "ALTER TABLE reminders ADD COLUMN failed_channel TEXT;"
        "UPDATE reminders SET deadline = substr(id, length(commitment) + 11, "
        "  instr(substr(id, length(commitment) + 11), '/') - 1) "
        "WHERE kind = 'deadline' AND substr(id, length(commitment) + 2, 9) = 'deadline:';"
        "CREATE TEMP TABLE migration3 AS SELECT id, channel, k, "
        "  substr(part, length(k) + length(offset_) + 3) AS t "
        "FROM (SELECT id, channel, offset_, part, "
        "  CASE WHEN substr(part, 1, 9) = 'deadline:' "
        "    THEN substr(part, 1, 8 + instr(substr(part, 10), ':')) "
        "    ELSE substr(part, 1, instr(part, ':') - 1) END AS k "
        "  FROM (SELECT id, channel, offset_, "
        "    substr(id, length(commitment) + length(cycle) + length(milestone) + 15, "
        "      length(id) - length(commitment) - length(cycle) - length(milestone) - 15 "
        "      - length(recipient)) AS part "
        "    FROM reminders WHERE kind = 'escalation'));"
        "UPDATE reminders SET "
        "  failed_kind = (SELECT CASE WHEN instr(k, ':') > 0 THEN substr(k, 1, instr(k, ':') - 1) "
        "    ELSE k END FROM migration3 m "
        "    WHERE m.id = reminders.id AND m.channel = reminders.channel),"
        "  failed_deadline = (SELECT CASE WHEN instr(k, ':') > 0 THEN substr(k, instr(k, ':') + 1) "
        "    END FROM migration3 m WHERE m.id = reminders.id AND m.channel = reminders.channel),"
        "  failed_recipient = (SELECT substr(t, 1, instr(t, ':') - 1) "
        "    FROM migration3 m WHERE m.id = reminders.id AND m.channel = reminders.channel),"
        "  failed_channel = (SELECT substr(t, instr(t, ':') + 1) "
        "    FROM migration3 m WHERE m.id = reminders.id AND m.channel = reminders.channel) "
        "WHERE kind = 'escalation';"
        "DROP TABLE migration3;"
        "PRAGMA user_version = 3;",
        /* 4: revocations.  A decision recorded by mistake is revoked by appending a row whose
         * decision is 'revoke', so that the trail stays one append-only sequence in the order of
         * recording.  SQLite cannot alter a CHECK, so the table is rebuilt with the new value
         * allowed, ids and all (the order of recording is the order of ids).  RENAME carries
         * the AUTOINCREMENT counter in sqlite_sequence over to the new name; no row was ever
         * deleted, so the counter is the largest id copied.  The index serves the look-up of
         * the revocations of one decision. */
        "CREATE TABLE decisions4 ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  commitment TEXT NOT NULL, cycle INTEGER NOT NULL, participant TEXT NOT NULL,"
        "  decision TEXT NOT NULL CHECK (decision IN ('continue', 'terminate', 'revoke')),"
        "  note TEXT, user TEXT NOT NULL, at_usec INTEGER NOT NULL"
        ");"
        "INSERT INTO decisions4 (id, commitment, cycle, participant, decision, note, user, "
        "  at_usec) SELECT id, commitment, cycle, participant, decision, note, user, at_usec "
        "  FROM decisions ORDER BY id;"
        "DROP TABLE decisions;"
        "ALTER TABLE decisions4 RENAME TO decisions;"
        "CREATE INDEX decisions_by_participant ON decisions (commitment, cycle, participant, id);"
        "PRAGMA user_version = 4;",
};
_Static_assert(ELEMENTSOF(migrations) == LEDGER_SCHEMA_VERSION, "one migration per version");

/* A reminder's group (ledger_latest_settled()) is ?1 to ?8, by recipient and commitment first:
 * left to itself, SQLite takes reminders_by_commitment for MAX(due_usec), and a burst to
 * thousands of participants of one commitment would read them all for each reminder. */
#define GROUP_INDEX "INDEXED BY reminders_by_recipient "
#define GROUP_WHERE                                                                                \
        "WHERE recipient = ?1 AND commitment = ?2 AND kind = ?3 AND deadline IS ?4 "               \
        "AND cycle = ?5 AND milestone = ?6 AND channel = ?7 AND (offset_ = 'overdue') = ?8 "
/* A pending row with an outbox row is reported as queued. */
#define ENTRY_SELECT                                                                               \
        "SELECT " IDENTITY_COLUMNS ", "                                                            \
        "CASE WHEN state = 'pending' AND EXISTS (SELECT 1 FROM outbox o WHERE o.id = r.id AND "    \
        "o.channel = r.channel) THEN 'queued' ELSE state END, "                                    \
        "attempts, due_usec, created_usec, updated_usec, reply, r.message_id FROM reminders r "
#define QUEUED_SELECT                                                                              \
        "SELECT " IDENTITY_COLUMNS ", "                                                            \
        "attempts, due_usec, reply, transport, recipients, payload, o.message_id, key, escalate, " \
        "next_usec, deadline_usec, interrupted FROM outbox o JOIN reminders r "                    \
        "ON r.id = o.id AND r.channel = o.channel "
/* id last: one recipient may have two reminders due at one instant; the order stays stable. */
#define ENTRY_ORDER " ORDER BY due_usec, commitment, recipient, channel, id"

static const char *const statement_sql[_STMT_MAX] = {
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
        /* Inside a batch each change is a savepoint: a refused one leaves the others alone. */
        [STMT_SAVEPOINT] = "SAVEPOINT one",
        [STMT_RELEASE] = "RELEASE one",
        [STMT_ROLLBACK_TO] = "ROLLBACK TO one",
        [STMT_GET_STATE] = "SELECT state FROM reminders WHERE id = ?1 AND channel = ?2",
        [STMT_INSERT_REMINDER] =
                "INSERT INTO reminders (id, channel, commitment, kind, deadline, cycle, milestone, "
                "offset_, recipient, failed_kind, failed_deadline, failed_recipient, "
                "failed_channel, due_usec, state, attempts, created_usec, updated_usec, reply) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                "?17, ?17, ?18)",
        [STMT_RETRY] = "UPDATE reminders SET attempts = attempts + 1, updated_usec = ?3 "
                       "WHERE id = ?1 AND channel = ?2",
        [STMT_SETTLE] = "UPDATE reminders SET state = ?3, updated_usec = ?4, reply = ?5, "
                        "message_id = ?6 WHERE id = ?1 AND channel = ?2",
        [STMT_INSERT_DECISION] = "INSERT INTO decisions (commitment, cycle, participant, "
                                 "decision, note, user, at_usec) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        /* The order of recording, not at_usec: a clock set back must not reorder the trail. */
        [STMT_DECISIONS] = "SELECT commitment, cycle, participant, decision, note, user, at_usec "
                           "FROM decisions ORDER BY id",
        [STMT_HISTORY_ALL] = ENTRY_SELECT ENTRY_ORDER,
        [STMT_HISTORY_OF] = ENTRY_SELECT "WHERE commitment = ?1" ENTRY_ORDER,
        [STMT_PENDING] =
                ENTRY_SELECT "WHERE state = 'pending' AND NOT EXISTS (SELECT 1 FROM "
                             "outbox o WHERE o.id = r.id AND o.channel = r.channel)" ENTRY_ORDER,
        [STMT_LATEST_SETTLED] = "SELECT MAX(due_usec) FROM reminders " GROUP_INDEX GROUP_WHERE
                                "AND (state != 'pending' OR EXISTS (SELECT 1 FROM outbox o "
                                "WHERE o.id = reminders.id AND o.channel = reminders.channel))",
        [STMT_IS_QUEUED] = "SELECT 1 FROM outbox WHERE id = ?1 AND channel = ?2",
        [STMT_OUTBOX_INSERT] = "INSERT INTO outbox (id, channel, transport, recipients, payload, "
                               "message_id, key, escalate, next_usec, deadline_usec, interrupted) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        [STMT_OUTBOX_DELETE] = "DELETE FROM outbox WHERE id = ?1 AND channel = ?2",
        [STMT_OUTBOX_BEGIN] = "UPDATE outbox SET inflight = 1 "
                              "WHERE id = ?1 AND channel = ?2 AND inflight = 0",
        [STMT_OUTBOX_RETRY] = "UPDATE outbox SET inflight = 0, interrupted = 0, next_usec = ?3 "
                              "WHERE id = ?1 AND channel = ?2",
        [STMT_OUTBOX_RETRY_REPLY] = "UPDATE reminders SET updated_usec = ?3, reply = ?4 "
                                    "WHERE id = ?1 AND channel = ?2",
        [STMT_OUTBOX_TRANSPORTS] = "SELECT DISTINCT transport FROM outbox "
                                   "WHERE inflight = 0 AND next_usec <= ?1 ORDER BY transport",
        /* o.id, not r.id (the same value): the order must come from outbox_by_next, or every
         * call reads and sorts the whole outbox, payloads and all, to return a few rows. */
        [STMT_OUTBOX_DUE] = QUEUED_SELECT "WHERE inflight = 0 AND transport = ?1 "
                                          "AND next_usec <= ?2 ORDER BY next_usec, o.id LIMIT ?3",
        [STMT_OUTBOX_NEXT] = "SELECT MIN(next_usec) FROM outbox WHERE inflight = 0",
        [STMT_OUTBOX_INFLIGHT] = QUEUED_SELECT "WHERE inflight = 1 ORDER BY next_usec, r.id",
        [STMT_OUTBOX_RECOVER] = "UPDATE outbox SET inflight = 0, interrupted = 1 "
                                "WHERE inflight = 1",
        /* The older reminders of a group (as STMT_LATEST_SETTLED has it) still waiting. */
        [STMT_OUTBOX_SUPERSEDE] =
                "UPDATE reminders " GROUP_INDEX "SET state = 'skipped', updated_usec = ?10, "
                "reply = ?11 " GROUP_WHERE "AND due_usec < ?9 AND state = 'pending' "
                "AND EXISTS (SELECT 1 FROM outbox o WHERE o.id = reminders.id "
                "AND o.channel = reminders.channel AND o.inflight = 0)",
        [STMT_OUTBOX_SKIP_DECIDED] =
                "UPDATE reminders SET state = 'skipped', updated_usec = ?4, reply = ?5 "
                "WHERE commitment = ?1 AND cycle = ?2 AND recipient = ?3 "
                "AND kind IN ('decision', 'notice') AND (?6 OR offset_ != 'overdue') "
                "AND state = 'pending' AND EXISTS (SELECT 1 "
                "FROM outbox o WHERE o.id = reminders.id AND o.channel = reminders.channel AND "
                "o.inflight = 0)",
        /* In flight too: the outcome of an attempt through the old transport brings it back to
         * wait, and then it must follow the new one. */
        [STMT_OUTBOX_RETARGET] = "UPDATE outbox SET transport = ?2 "
                                 "WHERE channel = ?1 AND transport != ?2",
        [STMT_OUTBOX_DROP_SKIPPED] = "DELETE FROM outbox WHERE inflight = 0 AND EXISTS (SELECT 1 "
                                     "FROM reminders r WHERE r.id = outbox.id AND r.channel = "
                                     "outbox.channel AND r.state = 'skipped')",
/* A decision stands until a revocation of its commitment, cycle and participant is
 * recorded after it. */
#define DECISION_STANDS                                                                            \
        "d.decision != 'revoke' AND NOT EXISTS (SELECT 1 FROM decisions v "                        \
        "WHERE v.commitment = d.commitment AND v.cycle = d.cycle AND "                             \
        "v.participant = d.participant AND v.decision = 'revoke' AND v.id > d.id)"
        [STMT_DECISIONS_STANDING] =
                "SELECT commitment, cycle, participant, decision, note, "
                "user, at_usec FROM decisions d WHERE " DECISION_STANDS " ORDER BY id",
        [STMT_DECISION_STANDS] =
                "SELECT 1 FROM decisions d WHERE d.commitment = ?1 AND "
                "d.cycle = ?2 AND d.participant = ?3 AND " DECISION_STANDS " LIMIT 1",
        /* One pass over reminders; COUNT(*) of the outbox reads outbox_by_next, not the rows
         * with their payloads.  A row's day is that of its last change (settled: sent, failed,
         * skipped). */
        [STMT_COUNTS] =
                "SELECT COALESCE(SUM(state = 'sent'), 0), COALESCE(SUM(state = 'failed'), 0), "
                "COALESCE(SUM(state = 'sent' AND updated_usec >= ?1 AND updated_usec < ?2), 0), "
                "COALESCE(SUM(state = 'failed' AND updated_usec >= ?1 AND updated_usec < ?2), 0), "
                "COALESCE(SUM(state = 'skipped' AND updated_usec >= ?1 AND updated_usec < ?2), 0), "
                "(SELECT COUNT(*) FROM outbox) FROM reminders",
        /* A group's settled and queued rows (as STMT_LATEST_SETTLED), and when one was last
         * sent (marked so). */
        [STMT_GROUP_SETTLED] = "SELECT MAX(due_usec), MAX(CASE state WHEN 'sent' THEN updated_usec "
                               "END) FROM reminders " GROUP_INDEX
                                       GROUP_WHERE "AND (state != 'pending' OR EXISTS (SELECT 1 "
                                                   "FROM outbox o WHERE o.id = reminders.id AND "
                                                   "o.channel = reminders.channel))",
        [STMT_OUTBOX_GET] = "SELECT r.attempts, o.next_usec FROM outbox o JOIN reminders r "
                            "ON r.id = o.id AND r.channel = o.channel "
                            "WHERE o.id = ?1 AND o.channel = ?2",
};

const char *ledger_state_directory(void) {
        static char first[PATH_MAX];
        const char *e = getenv("STATE_DIRECTORY");
        size_t n;

        if (!e || !*e)
                return LEDGER_STATE_DIRECTORY_DEFAULT;
        /* systemd lists several directories separated by ':'; ours is the first. */
        n = strcspn(e, ":");
        if (n >= sizeof(first))
                return LEDGER_STATE_DIRECTORY_DEFAULT;
        memcpy(first, e, n);
        first[n] = '\0';
        return first;
}

char *ledger_path_in(const char *state_dir) {
        char *p;

        if (asprintf(&p, "%s/%s", state_dir, LEDGER_FILE) < 0)
                return NULL;
        return p;
}

/* A missing file is created here, not by SQLite, so that it gets mode 0600 whatever the umask
 * (SQLite gives its -wal and -shm files the same mode).  The descriptor is closed before SQLite
 * opens the file: closing any descriptor of a file drops every POSIX lock the process holds on
 * it, SQLite's included. */
static int ensure_regular_file(const char *path) {
        struct stat st;
        int fd, r = 0;

        /* O_NONBLOCK: opening a FIFO must not hang before it is refused. */
        fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!S_ISREG(st.st_mode))
                r = -EBADFD;
        (void) close(fd);
        return r;
}

/* The first column of the first row of a PRAGMA.  Only open runs these, so they are prepared on
 * the spot.  ret_text must be at least 8 bytes; either may be NULL. */
static int pragma(Ledger *l, const char *sql, int *ret_int, char *ret_text) {
        sqlite3_stmt *s;
        const char *text;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
        if (rc != SQLITE_OK)
                return ledger_fail(l, rc);
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
                r = ledger_fail(l, rc);
        else if (ret_int)
                *ret_int = sqlite3_column_int(s, 0);
        else {
                text = (const char *) sqlite3_column_text(s, 0);
                (void) snprintf(ret_text, 8, "%s", text ? text : "");
        }
        (void) sqlite3_finalize(s);
        return r;
}

/* user_version; a file from a newer noticed is refused. */
static int schema_version(Ledger *l, int *ret) {
        int r;

        *ret = 0;
        r = pragma(l, "PRAGMA user_version", ret, NULL);
        if (r >= 0 && (*ret < 0 || *ret > LEDGER_SCHEMA_VERSION)) {
                ledger_set_error(l, "the ledger was written by a newer version of noticed");
                r = -EPROTONOSUPPORT;
        }
        return r;
}

static int configure(Ledger *l) {
        char mode[8];
        int version, rc, r;

        /* The first read of the file: one that is not a database, or is from a newer noticed, is
         * refused before anything is written to it. */
        r = schema_version(l, &version);
        if (r < 0)
                return r;
        r = pragma(l, "PRAGMA journal_mode = WAL", NULL, mode);
        if (r < 0)
                return r;
        if (strcmp(mode, "wal") != 0) {
                ledger_set_error(l, "the ledger cannot be switched to WAL mode");
                return sqlite3_db_readonly(l->db, "main") == 1 ? -EROFS : -EOPNOTSUPP;
        }
        /* In WAL mode, synchronous=NORMAL keeps the file consistent but may lose the last commits
         * on power loss, and a lost "sent" mark means a reminder sent twice.  FULL syncs the WAL
         * at every commit: one fsync per delivery, nothing at our rate. */
        rc = sqlite3_exec(l->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", NULL, NULL,
                          NULL);
        return rc == SQLITE_OK ? 0 : ledger_fail(l, rc);
}

/* Each step runs in its own write transaction and reads the version again under the write
 * lock: the daemon and noticectl may open a new file at once, and only one may apply a step. */
static int migrate(Ledger *l) {
        int version, rc, r;

        for (;;) {
                r = schema_version(l, &version);
                if (r < 0 || version == LEDGER_SCHEMA_VERSION)
                        return r;
                r = ledger_execute(l, STMT_BEGIN, "");
                if (r < 0)
                        return r;
                r = schema_version(l, &version);
                if (r >= 0 && version < LEDGER_SCHEMA_VERSION) {
                        rc = sqlite3_exec(l->db, migrations[version], NULL, NULL, NULL);
                        if (rc != SQLITE_OK)
                                r = ledger_fail(l, rc);
                }
                r = ledger_transaction_end(l, r);
                if (r < 0)
                        return r;
        }
}

static int prepare(Ledger *l, Statement from, Statement to) {
        int rc;

        for (Statement i = from; i < to; i++) {
                rc = sqlite3_prepare_v3(l->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                        &l->statements[i], NULL);
                if (rc != SQLITE_OK)
                        return ledger_fail(l, rc);
        }
        return 0;
}

/* The end of every open, once the connection is configured: the statements transactions need,
 * the migrations, then the rest, which need the tables.  Hands l over to *ret, or closes it. */
static int ledger_ready(Ledger *l, Ledger **ret) {
        int r = prepare(l, 0, _STMT_NEED_SCHEMA);

        if (r >= 0)
                r = migrate(l);
        if (r >= 0)
                r = prepare(l, _STMT_NEED_SCHEMA, _STMT_MAX);
        if (r < 0) {
                (void) ledger_close(l);
                return r;
        }
        l->error[0] = '\0';
        *ret = l;
        return 0;
}

int ledger_open(const char *path, Ledger **ret) {
        Ledger *l;
        int rc, r;

        if (!path || !*path || !ret)
                return -EINVAL;
        /* Debian builds SQLite with SQLITE_USE_URI: a name that starts with "file:" would be read
         * as a URI, not as the file created below. */
        if (strncmp(path, "file:", 5) == 0)
                return -EINVAL;
        r = ensure_regular_file(path);
        if (r < 0)
                return r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MSEC);
        if (rc != SQLITE_OK) {
                r = l->db ? ledger_fail(l, rc) : -ENOMEM;
                goto fail;
        }
        r = configure(l);
        if (r >= 0)
                return ledger_ready(l, ret);
fail:
        (void) ledger_close(l);
        return r;
}

Ledger *ledger_close(Ledger *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                (void) sqlite3_finalize(l->statements[i]);
        (void) sqlite3_close_v2(l->db);
        free(l);
        return NULL;
}

/* --- a snapshot, for noticed --dry-run ----------------------------------------------------
 * The real file opened read-only and copied, with SQLite's backup API, into a database in
 * memory, which is migrated and queried as the real one would be.  Read-only, SQLite neither
 * checkpoints nor deletes the WAL on close, and a migration or a new row touches only the copy:
 * the file and its -wal keep every byte, whoever else has them open.  A ledger the size of
 * years of reminders is a few MB: copying it is cheaper than a second set of read-only
 * statements that could drift from the real ones. */

/* "file:PATH?immutable=1", PATH percent-encoded (RFC 3986 unreserved characters and '/' as
 * they are); malloc'd, NULL when out of memory. */
static char *immutable_uri(const char *path) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(path);
        char *uri, *p;

        if (n > (SIZE_MAX - 32) / 3)
                return NULL;
        uri = malloc(3 * n + 32);
        if (!uri)
                return NULL;
        p = stpcpy(uri, "file:");
        for (const unsigned char *c = (const unsigned char *) path; *c; c++)
                if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || strchr("/-._~", *c))
                        *p++ = (char) *c;
                else {
                        *p++ = '%';
                        *p++ = hex[*c >> 4];
                        *p++ = hex[*c & 15];
                }
        memcpy(p, "?immutable=1", sizeof("?immutable=1"));
        return uri;
}

/* Opens the file read-only.  Without a -wal (no daemon has it open, and the last one closed
 * it cleanly) as immutable, which reads the file alone and creates no -wal or -shm: a plain
 * read-only open of a WAL database leaves both behind, owned by whoever ran the preview.  With
 * a -wal, read-only, so that its commits are seen; the -wal and -shm exist already. */
static int snapshot_open_source(const char *path, sqlite3 **ret) {
        char *wal, *uri;
        bool has_wal;
        int rc;

        if (asprintf(&wal, "%s-wal", path) < 0)
                return SQLITE_NOMEM;
        has_wal = access(wal, F_OK) == 0 || errno != ENOENT;
        free(wal);
        if (has_wal)
                return sqlite3_open_v2(path, ret, SQLITE_OPEN_READONLY, NULL);
        uri = immutable_uri(path);
        if (!uri)
                return SQLITE_NOMEM;
        rc = sqlite3_open_v2(uri, ret, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        free(uri);
        return rc;
}

/* The file's schema version, before anything is copied: a newer one is refused. */
static int snapshot_check(sqlite3 *source) {
        Ledger probe = {.db = source};
        int version;

        return schema_version(&probe, &version);
}

static int snapshot_copy(Ledger *l, const char *path) {
        sqlite3 *source = NULL;
        sqlite3_backup *b;
        struct stat st;
        int rc, r;

        if (strncmp(path, "file:", 5) == 0)
                return -EINVAL;
        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (access(path, R_OK) < 0)
                return -errno;
        rc = snapshot_open_source(path, &source);
        if (rc == SQLITE_OK)
                rc = sqlite3_busy_timeout(source, BUSY_TIMEOUT_MSEC);
        if (rc != SQLITE_OK) {
                r = source ? ledger_fail(&(Ledger){.db = source}, rc) : -ENOMEM;
                if (source)
                        ledger_set_error(l, sqlite3_errmsg(source));
                (void) sqlite3_close_v2(source);
                return r;
        }
        r = snapshot_check(source);
        if (r < 0)
                ledger_set_error(l, r == -EPROTONOSUPPORT
                                            ? "the ledger was written by a newer version of noticed"
                                            : sqlite3_errmsg(source));
        if (r >= 0) {
                b = sqlite3_backup_init(l->db, "main", source, "main");
                if (!b)
                        r = ledger_fail(l, sqlite3_errcode(l->db));
                else {
                        rc = sqlite3_backup_step(b, -1);
                        (void) sqlite3_backup_finish(b);
                        if (rc != SQLITE_DONE) {
                                ledger_set_error(l, sqlite3_errstr(rc));
                                r = rc == SQLITE_NOMEM ? -ENOMEM
                                    : rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY
                                    : rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? -EBADMSG
                                                                                  : -EIO;
                        }
                }
        }
        (void) sqlite3_close_v2(source);
        return r;
}

int ledger_open_snapshot(const char *path, Ledger **ret) {
        Ledger *l;
        int rc, r;

        if (!ret || (path && !*path))
                return -EINVAL;
        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        rc = sqlite3_open_v2(":memory:", &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        if (rc != SQLITE_OK) {
                r = l->db ? ledger_fail(l, rc) : -ENOMEM;
                goto fail;
        }
        r = path ? snapshot_copy(l, path) : 0;
        if (r >= 0) {
                rc = sqlite3_exec(l->db, "PRAGMA foreign_keys = ON;", NULL, NULL, NULL);
                r = rc == SQLITE_OK ? 0 : ledger_fail(l, rc);
        }
        if (r >= 0)
                return ledger_ready(l, ret);
fail:
        (void) ledger_close(l);
        return r;
}
