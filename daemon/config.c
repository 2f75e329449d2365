/* Reading noticed.conf into a Model.
 *
 * The loader walks libconfig's tree once, key by key, and records every problem with its line
 * instead of stopping at the first: an administrator who runs `noticectl check` after an edit
 * sees the whole list.  Values that fail are left at their defaults so the walk can continue;
 * when anything failed the half-built model is thrown away.  libconfig's own parser still stops
 * at the first syntax error, which is then the only error reported. */

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/secret.h"
#include "noticed/template.h"
#include "noticed/validate.h"

typedef struct Loader {
        const char *path;
        const char *include_dir; /* where libconfig resolved relative @include names */
        ConfigErrors *errors;
        size_t errors_allocated;
        bool out_of_memory;
        Model *model;
        size_t *recipients_by_id; /* indices into model->recipients, sorted by id */
        bool recipients_unusable; /* 'recipients' itself is broken: skip follow-on errors */
} Loader;

typedef enum ValueType {
        VALUE_STRING,
        VALUE_INTEGER,
        VALUE_NUMBER, /* integer or float */
        VALUE_BOOL,
        VALUE_GROUP,
        VALUE_LIST,         /* a list ( ... ) of groups */
        VALUE_STRING_ARRAY, /* [ "a", "b" ] or ( "a", "b" ) */
} ValueType;

static const char *value_type_name(ValueType t) {
        static const char *const names[] = {
                [VALUE_STRING] = "a string",
                [VALUE_INTEGER] = "an integer",
                [VALUE_NUMBER] = "a number",
                [VALUE_BOOL] = "true or false",
                [VALUE_GROUP] = "a group { ... }",
                [VALUE_LIST] = "a list ( { ... }, ... )",
                [VALUE_STRING_ARRAY] = "an array of strings [ \"...\", ... ]",
        };
        return names[t];
}

static unsigned setting_line(const config_setting_t *s) {
        for (; s; s = config_setting_parent(s))
                if (config_setting_source_line(s) > 0)
                        return config_setting_source_line(s);
        return 0;
}

/* The file a setting came from.  libconfig records an @include name as written; a relative
 * one is reported with the directory it was found in, so that FILE:LINE can be opened. */
static const char *setting_file(const Loader *ld, const config_setting_t *s, char **owned) {
        *owned = NULL;
        for (; s; s = config_setting_parent(s)) {
                const char *f = config_setting_source_file(s);
                if (!f)
                        continue;
                if (f[0] != '/' && ld->include_dir &&
                    asprintf(owned, "%s/%s", ld->include_dir, f) >= 0)
                        return *owned;
                *owned = NULL;
                return f;
        }
        return ld->path;
}

static void add_error(Loader *ld, const char *file, unsigned line, char *message) {
        ConfigErrors *e = ld->errors;
        char *f = message ? strdup(file) : NULL;

        if (!f) {
                free(message);
                ld->out_of_memory = true;
                return;
        }
        if (e->n == ld->errors_allocated) {
                size_t n = ld->errors_allocated ? ld->errors_allocated * 2 : 16;
                ConfigError *items = realloc(e->items, n * sizeof(*items));
                if (!items) {
                        free(f);
                        free(message);
                        ld->out_of_memory = true;
                        return;
                }
                e->items = items;
                ld->errors_allocated = n;
        }
        e->items[e->n++] = (ConfigError){.file = f, .line = line, .message = message};
}

__attribute__((format(printf, 3, 4))) static void fail(Loader *ld, const config_setting_t *s,
                                                       const char *format, ...) {
        char *message, *owned;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        add_error(ld, setting_file(ld, s, &owned), setting_line(s), r < 0 ? NULL : message);
        free(owned);
}

static char *copy_string(Loader *ld, const char *s) {
        char *copy;

        if (!s)
                return NULL;
        copy = strdup(s);
        if (!copy)
                ld->out_of_memory = true;
        return copy;
}

static void *allocate_array(Loader *ld, size_t n, size_t size) {
        void *p = calloc(n ? n : 1, size);

        if (!p)
                ld->out_of_memory = true;
        return p;
}

static bool type_matches(const config_setting_t *s, ValueType t) {
        int type = config_setting_type(s);

        switch (t) {
        case VALUE_STRING:
                return type == CONFIG_TYPE_STRING;
        case VALUE_INTEGER:
                return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
        case VALUE_NUMBER:
                return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64 ||
                       type == CONFIG_TYPE_FLOAT;
        case VALUE_BOOL:
                return type == CONFIG_TYPE_BOOL;
        case VALUE_GROUP:
                return type == CONFIG_TYPE_GROUP;
        case VALUE_LIST:
                if (type != CONFIG_TYPE_LIST)
                        return false;
                for (int i = 0; i < config_setting_length(s); i++)
                        if (config_setting_type(config_setting_get_elem(s, (unsigned) i)) !=
                            CONFIG_TYPE_GROUP)
                                return false;
                return true;
        case VALUE_STRING_ARRAY:
                if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
                        return false;
                for (int i = 0; i < config_setting_length(s); i++)
                        if (config_setting_type(config_setting_get_elem(s, (unsigned) i)) !=
                            CONFIG_TYPE_STRING)
                                return false;
                return true;
        }
        return false;
}

/* The member `key` of `group` if present and of type t; NULL when absent (reported if required)
 * or of another type (always reported).  `what` names the group in messages. */
static const config_setting_t *member(Loader *ld, const config_setting_t *group, const char *key,
                                      ValueType t, bool required, const char *what) {
        const config_setting_t *s = config_setting_get_member(group, key);

        if (!s) {
                if (required)
                        fail(ld, group, "%s: missing '%s'", what, key);
                return NULL;
        }
        if (!type_matches(s, t)) {
                fail(ld, s, "'%s' must be %s", key, value_type_name(t));
                return NULL;
        }
        return s;
}

static int setting_length(const config_setting_t *s) {
        return s ? config_setting_length(s) : 0;
}

static const char *member_string(Loader *ld, const config_setting_t *group, const char *key,
                                 bool required, const char *what) {
        const config_setting_t *s = member(ld, group, key, VALUE_STRING, required, what);
        return s ? config_setting_get_string(s) : NULL;
}

static void check_keys(Loader *ld, const config_setting_t *group, const char *const *allowed,
                       const char *what) {
        for (int i = 0; i < config_setting_length(group); i++) {
                const config_setting_t *s = config_setting_get_elem(group, (unsigned) i);
                const char *name = config_setting_name(s);
                bool known = false;

                for (const char *const *a = allowed; *a && !known; a++)
                        known = strcmp(*a, name) == 0;
                if (!known)
                        fail(ld, s, "unknown key '%s' in %s", name, what);
        }
}

/* Every string in the file, wherever it sits, must be safe to put in a mail header. */
static void check_strings(Loader *ld, const config_setting_t *s) {
        if (config_setting_type(s) == CONFIG_TYPE_STRING) {
                if (!validate_header_text(config_setting_get_string(s)))
                        fail(ld, s,
                             "string contains a control character (CR, LF, TAB, ...) or "
                             "invalid UTF-8; it could reach a mail header");
                return;
        }
        if (config_setting_is_aggregate(s))
                for (int i = 0; i < config_setting_length(s); i++)
                        check_strings(ld, config_setting_get_elem(s, (unsigned) i));
}

static bool parse_date_setting(Loader *ld, const config_setting_t *s, Date *ret) {
        const char *v = config_setting_get_string(s);

        if (date_parse(v, ret) < 0) {
                fail(ld, s, "'%s' is not a date (YYYY-MM-DD, a real calendar day)", v);
                return false;
        }
        return true;
}

static bool member_date(Loader *ld, const config_setting_t *group, const char *key, bool required,
                        const char *what, Date *ret) {
        const config_setting_t *s = member(ld, group, key, VALUE_STRING, required, what);
        return s && parse_date_setting(ld, s, ret);
}

static bool member_duration(Loader *ld, const config_setting_t *group, const char *key,
                            bool required, const char *what, Duration *ret) {
        const config_setting_t *s = member(ld, group, key, VALUE_STRING, required, what);

        if (!s)
                return false;
        if (duration_parse(config_setting_get_string(s), false, ret) < 0) {
                fail(ld, s,
                     "'%s' = \"%s\" is not a duration (a positive count and d, w, m or y: "
                     "\"90d\", \"6w\", \"6m\", \"2y\")",
                     key, config_setting_get_string(s));
                return false;
        }
        return true;
}

static bool member_id(Loader *ld, const config_setting_t *group, const char *what, char **ret) {
        const char *id = member_string(ld, group, "id", true, what);

        if (!id)
                return false;
        if (!validate_id(id)) {
                fail(ld, config_setting_get_member(group, "id"),
                     "id '%s' must be 1-64 letters, digits, '.', '_' or '-', starting with a "
                     "letter or digit",
                     id);
                return false;
        }
        *ret = copy_string(ld, id);
        return *ret != NULL;
}

/* ---- top level: time zone, language, holidays ---- */

static void load_timezone(Loader *ld, const config_setting_t *root) {
        const char *name = member_string(ld, root, "timezone", false, "the config");
        int r;

        if (!name)
                name = "Europe/Amsterdam";
        r = tz_load(name, &ld->model->tz);
        if (r == -ENOMEM)
                ld->out_of_memory = true;
        else if (r == -EINVAL)
                fail(ld, config_setting_get_member(root, "timezone"),
                     "'%s' is not a time zone name (IANA, e.g. \"Europe/Amsterdam\")", name);
        else if (r < 0)
                fail(ld, config_setting_get_member(root, "timezone"),
                     "unknown time zone '%s' (not a zone of the installed IANA database)", name);
}

static void load_language(Loader *ld, const config_setting_t *group, const char *what,
                          Language *ret) {
        const config_setting_t *s = member(ld, group, "language", VALUE_STRING, false, what);

        if (s && language_from_string(config_setting_get_string(s), ret) < 0)
                fail(ld, s, "language '%s' is not supported (\"nl\" or \"en\")",
                     config_setting_get_string(s));
}

static void load_shift(Loader *ld, const config_setting_t *group, const char *what, Shift *ret) {
        const config_setting_t *s = member(ld, group, "deadline_shift", VALUE_STRING, false, what);

        if (s && shift_from_string(config_setting_get_string(s), ret) < 0)
                fail(ld, s, "deadline_shift '%s' must be \"earlier\", \"later\" or \"none\"",
                     config_setting_get_string(s));
}

static void load_holidays(Loader *ld, const config_setting_t *root) {
        static const char *const keys[] = {"calendar", "extra", NULL};
        const config_setting_t *h = member(ld, root, "holidays", VALUE_GROUP, false, "the config");
        const config_setting_t *s;
        CalendarKind kind = CALENDAR_NL;
        Date *extra = NULL;
        size_t n = 0;

        if (h) {
                check_keys(ld, h, keys, "holidays");
                s = member(ld, h, "calendar", VALUE_STRING, false, "holidays");
                if (s && calendar_kind_from_string(config_setting_get_string(s), &kind) < 0)
                        fail(ld, s, "holiday calendar '%s' is not known (\"nl\" or \"none\")",
                             config_setting_get_string(s));
                s = member(ld, h, "extra", VALUE_STRING_ARRAY, false, "holidays");
                if (s &&
                    (extra = allocate_array(ld, (size_t) config_setting_length(s), sizeof(Date))))
                        for (int i = 0; i < config_setting_length(s); i++)
                                if (parse_date_setting(ld, config_setting_get_elem(s, (unsigned) i),
                                                       &extra[n]))
                                        n++;
        }
        if (calendar_new(kind, extra, n, &ld->model->calendar) < 0)
                ld->out_of_memory = true;
        free(extra);
}

/* ---- policy ---- */

typedef struct PolicySettings {
        bool has_offsets, has_send_time, has_working_days_only;
        Policy policy;
} PolicySettings;

static int duration_compare_desc(const void *a, const void *b) {
        /* Longest first; months and years are compared by their average length, which orders
         * any two distinct durations the same way as the dates they produce nearly always do. */
        const Duration *x = a, *y = b;
        static const int per_unit[256] = {['d'] = 100, ['w'] = 700, ['m'] = 3044, ['y'] = 36525};
        int64_t dx = (int64_t) x->count * per_unit[(unsigned char) x->unit];
        int64_t dy = (int64_t) y->count * per_unit[(unsigned char) y->unit];

        if (dx != dy)
                return (dx < dy) - (dx > dy);
        /* "7d" and "1w": the larger unit first, so which one names a reminder is defined. */
        return (per_unit[(unsigned char) x->unit] < per_unit[(unsigned char) y->unit]) -
               (per_unit[(unsigned char) x->unit] > per_unit[(unsigned char) y->unit]);
}

static bool parse_send_time(const char *s, int32_t *ret) {
        int h, m, sec = 0;
        size_t n = strlen(s);

        if ((n != 5 && n != 8) || s[2] != ':' || (n == 8 && s[5] != ':'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
                        return false;
        h = (s[0] - '0') * 10 + (s[1] - '0');
        m = (s[3] - '0') * 10 + (s[4] - '0');
        if (n == 8)
                sec = (s[6] - '0') * 10 + (s[7] - '0');
        if (h > 23 || m > 59 || sec > 59)
                return false;
        *ret = h * 3600 + m * 60 + sec;
        return true;
}

static void load_offsets(Loader *ld, const config_setting_t *s, PolicySettings *p) {
        size_t n = (size_t) config_setting_length(s), kept = 0;
        Duration *offsets;
        bool ok = true;

        if (n == 0 || n > POLICY_MAX_OFFSETS) {
                fail(ld, s, "'offsets' must list 1 to %d durations", POLICY_MAX_OFFSETS);
                return;
        }
        offsets = allocate_array(ld, n, sizeof(Duration));
        if (!offsets)
                return;
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                if (duration_parse(config_setting_get_string(e), true, &offsets[i]) < 0) {
                        fail(ld, e,
                             "offset \"%s\" is not a duration (\"90d\", \"2w\", \"1m\", "
                             "\"0d\" for the day itself)",
                             config_setting_get_string(e));
                        ok = false;
                }
        }
        if (!ok) {
                free(offsets);
                return;
        }
        qsort(offsets, n, sizeof(Duration), duration_compare_desc);
        for (size_t i = 0; i < n; i++)
                if (kept == 0 || offsets[kept - 1].count != offsets[i].count ||
                    offsets[kept - 1].unit != offsets[i].unit)
                        offsets[kept++] = offsets[i];
        free(p->policy.offsets);
        p->policy.offsets = offsets;
        p->policy.n_offsets = kept;
        p->has_offsets = true;
}

static void load_policy(Loader *ld, const config_setting_t *group, const char *what,
                        PolicySettings *p) {
        static const char *const keys[] = {"offsets", "send_time", "working_days_only", NULL};
        const config_setting_t *pol = member(ld, group, "policy", VALUE_GROUP, false, what);
        const config_setting_t *s;

        if (!pol)
                return;
        check_keys(ld, pol, keys, "policy");
        s = member(ld, pol, "offsets", VALUE_STRING_ARRAY, false, "policy");
        if (s)
                load_offsets(ld, s, p);
        s = member(ld, pol, "send_time", VALUE_STRING, false, "policy");
        if (s) {
                if (parse_send_time(config_setting_get_string(s), &p->policy.send_time))
                        p->has_send_time = true;
                else
                        fail(ld, s, "send_time \"%s\" must be local time \"HH:MM\" or \"HH:MM:SS\"",
                             config_setting_get_string(s));
        }
        s = member(ld, pol, "working_days_only", VALUE_BOOL, false, "policy");
        if (s) {
                p->policy.working_days_only = config_setting_get_bool(s);
                p->has_working_days_only = true;
        }
}

/* The commitment's own keys win, one by one; the rest come from the global policy. */
static void merge_policy(Loader *ld, const PolicySettings *global, PolicySettings *own,
                         Policy *ret) {
        const Policy *offsets_from = own->has_offsets ? &own->policy : &global->policy;

        *ret = (Policy){
                .send_time = own->has_send_time ? own->policy.send_time : global->policy.send_time,
                .working_days_only = own->has_working_days_only ? own->policy.working_days_only
                                                                : global->policy.working_days_only,
        };
        ret->offsets = allocate_array(ld, offsets_from->n_offsets, sizeof(Duration));
        if (ret->offsets) {
                memcpy(ret->offsets, offsets_from->offsets,
                       offsets_from->n_offsets * sizeof(Duration));
                ret->n_offsets = offsets_from->n_offsets;
        }
}

/* ---- transports ---- */

/* Sets the kind from the scheme; false when the URL is missing or its scheme unknown (reported),
 * so that no key is then said not to apply to a kind the transport may not have. */
static bool load_transport_url(Loader *ld, const config_setting_t *group, Transport *t) {
        const config_setting_t *s = member(ld, group, "url", VALUE_STRING, true, "transport");
        char host[256];
        const char *url;

        if (!s)
                return false;
        url = config_setting_get_string(s);
        t->url = copy_string(ld, url);
        if (strncmp(url, "maildir:", 8) == 0) {
                t->kind = TRANSPORT_MAILDIR;
                if (url[8] != '/')
                        fail(ld, s, "maildir path in '%s' must be absolute (maildir:/path)", url);
                return true;
        }
        if (strncmp(url, "sendmail:", 9) == 0) {
                t->kind = TRANSPORT_SENDMAIL;
                if (url[9] != '\0')
                        fail(ld, s,
                             "'%s': write just \"sendmail:\" (it pipes to "
                             "/usr/sbin/sendmail -t -oi)",
                             url);
                return true;
        }
        if (strncmp(url, "smtp://", 7) == 0)
                t->kind = TRANSPORT_SMTP;
        else if (strncmp(url, "smtps://", 8) == 0)
                t->kind = TRANSPORT_SMTPS;
        else if (strncmp(url, "http://", 7) == 0)
                t->kind = TRANSPORT_HTTP;
        else if (strncmp(url, "https://", 8) == 0)
                t->kind = TRANSPORT_HTTPS;
        else {
                fail(ld, s,
                     "unsupported transport URL '%s' (smtp://, smtps://, maildir:PATH, "
                     "sendmail:, http:// or https://)",
                     url);
                return false;
        }
        if (!validate_url_host(url, host, sizeof(host)))
                fail(ld, s, "malformed URL '%s' (scheme://host[:port][/path], no user info)", url);
        else if (t->kind == TRANSPORT_SMTP && t->tls == TLS_NONE &&
                 !validate_host_is_loopback(host))
                fail(ld, s,
                     "plaintext smtp:// to '%s' is refused: tls = \"none\" is only for a "
                     "loopback host; use STARTTLS (drop tls) or smtps://",
                     host);
        return true;
}

#define KIND(k)       (1u << (k))
#define KINDS_SMTP    (KIND(TRANSPORT_SMTP) | KIND(TRANSPORT_SMTPS))
#define KINDS_WEBHOOK (KIND(TRANSPORT_HTTP) | KIND(TRANSPORT_HTTPS))

/* The transport's member `key` of type `type` when it applies to the transport's kind, one of
 * `kinds` (named by `which` in the message); NULL when absent, of another type or not for this
 * kind (both reported).  With the kind unknown the member is taken as it is. */
static const config_setting_t *transport_member(Loader *ld, const config_setting_t *group,
                                                const Transport *t, bool kind_known,
                                                const char *key, ValueType type, unsigned kinds,
                                                const char *which) {
        const config_setting_t *s = member(ld, group, key, type, false, "transport");

        if (s && kind_known && !(kinds & KIND(t->kind))) {
                fail(ld, s, "'%s' applies only to %s", key, which);
                return NULL;
        }
        return s;
}

/* A password_file or secret_file, checked by secret_check_file(): an absolute path to a regular
 * file without permissions for group or others.  Only its name goes into the model; the daemon
 * reads the secret when it needs it, and checks again then.  The mode in the message is looked
 * up once the check has refused it, for the message alone. */
static void load_secret_file(Loader *ld, const config_setting_t *s, const char *key, char **ret) {
        const char *path = config_setting_get_string(s);
        struct stat st;
        int r;

        *ret = copy_string(ld, path);
        if (path[0] != '/') {
                fail(ld, s, "%s '%s' must be an absolute path", key, path);
                return;
        }
        r = secret_check_file(path);
        if (r == -EPERM && stat(path, &st) < 0)
                r = -errno; /* gone since */
        if (r == -EBADFD)
                fail(ld, s, "%s '%s' is not a regular file", key, path);
        else if (r == -EPERM)
                fail(ld, s, "%s '%s' is %s group or others (mode %04o); chmod 600 it", key, path,
                     st.st_mode & 044 ? "readable by" : "open to", (unsigned) (st.st_mode & 07777));
        else if (r < 0)
                fail(ld, s, "cannot use %s '%s': %s", key, path, strerror(-r));
}

/* A CA bundle in place of the system's trust store: an absolute path to a regular file this
 * process can read.  It is opened only once stat() has shown a regular file, so that a device
 * named by mistake is never opened, and non-blocking, so that a FIFO swapped in cannot hang a
 * reload.  Its contents are for the TLS library to judge when it connects. */
static void load_ca_file(Loader *ld, const config_setting_t *s, char **ret) {
        const char *path = config_setting_get_string(s);
        struct stat st;
        int fd;

        *ret = copy_string(ld, path);
        if (path[0] != '/')
                fail(ld, s, "ca_file '%s' must be an absolute path", path);
        else if (stat(path, &st) < 0)
                fail(ld, s, "cannot read ca_file '%s': %s", path, strerror(errno));
        else if (!S_ISREG(st.st_mode))
                fail(ld, s, "ca_file '%s' is not a regular file", path);
        else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
                fail(ld, s, "cannot read ca_file '%s': %s", path, strerror(errno));
        else
                (void) close(fd);
}

/* username and the password or webhook secret, each from a credential or a file, never both. */
static void load_transport_credentials(Loader *ld, const config_setting_t *group, Transport *t,
                                       bool kind_known) {
        const config_setting_t *s;
        const char *v;

        s = member(ld, group, "username", VALUE_STRING, false, "transport");
        if (s)
                t->username = copy_string(ld, config_setting_get_string(s));
        for (int i = 0; i < 2; i++) {
                const char *key = i == 0 ? "password_credential" : "secret_credential";
                char **target = i == 0 ? &t->password_credential : &t->secret_credential;
                s = member(ld, group, key, VALUE_STRING, false, "transport");
                if (!s)
                        continue;
                v = config_setting_get_string(s);
                if (!validate_id(v))
                        fail(ld, s,
                             "%s '%s' must be a credential name (letters, digits, '.', "
                             "'_', '-'), not a path",
                             key, v);
                *target = copy_string(ld, v);
        }
        s = transport_member(ld, group, t, kind_known, "password_file", VALUE_STRING, KINDS_SMTP,
                             "smtp:// and smtps:// transports");
        if (s)
                load_secret_file(ld, s, "password_file", &t->password_file);
        s = transport_member(ld, group, t, kind_known, "secret_file", VALUE_STRING, KINDS_WEBHOOK,
                             "webhooks (http://, https://)");
        if (s)
                load_secret_file(ld, s, "secret_file", &t->secret_file);
        if (t->password_credential && t->password_file)
                fail(ld, group,
                     "transport '%s': set password_credential or password_file, not both: "
                     "there is one password",
                     t->id);
        if (t->secret_credential && t->secret_file)
                fail(ld, group,
                     "transport '%s': set secret_credential or secret_file, not both: there is "
                     "one secret",
                     t->id);
        if (!kind_known)
                return;
        if ((t->username || t->password_credential) && !(KINDS_SMTP & KIND(t->kind)))
                fail(ld, group,
                     "transport '%s': username and password_credential "
                     "apply only to smtp:// and smtps://",
                     t->id);
        if (t->password_credential && !t->username)
                fail(ld, group, "transport '%s': password_credential needs a username", t->id);
        if (t->password_file && !t->username)
                fail(ld, group, "transport '%s': password_file needs a username", t->id);
        if (t->secret_credential && !(KINDS_WEBHOOK & KIND(t->kind)))
                fail(ld, group,
                     "transport '%s': secret_credential applies only to "
                     "webhooks (http://, https://)",
                     t->id);
}

/* How the network transports connect: trust, parallelism and, for webhooks, the body. */
static void load_transport_connections(Loader *ld, const config_setting_t *group, Transport *t,
                                       bool kind_known) {
        const config_setting_t *s;
        const char *v;

        s = transport_member(ld, group, t, kind_known, "ca_file", VALUE_STRING,
                             KINDS_SMTP | KIND(TRANSPORT_HTTPS),
                             "transports that use TLS: smtp://, smtps:// and https://");
        if (s)
                load_ca_file(ld, s, &t->ca_file);
        s = transport_member(ld, group, t, kind_known, "max_connections", VALUE_INTEGER,
                             KINDS_SMTP | KINDS_WEBHOOK,
                             "network transports: smtp://, smtps://, http:// and https://");
        if (s) {
                long long n = config_setting_get_int64(s);
                if (n < 1 || n > TRANSPORT_MAX_CONNECTIONS_MAX)
                        fail(ld, s, "max_connections %lld must be between 1 and %d", n,
                             TRANSPORT_MAX_CONNECTIONS_MAX);
                else
                        t->max_connections = (uint32_t) n;
        }
        s = transport_member(ld, group, t, kind_known, "format", VALUE_STRING, KINDS_WEBHOOK,
                             "webhooks (http://, https://)");
        if (s) {
                v = config_setting_get_string(s);
                if (strcmp(v, "slack") == 0)
                        t->format = WEBHOOK_FORMAT_SLACK;
                else if (strcmp(v, "json") != 0)
                        fail(ld, s, "format \"%s\" must be \"json\" (the default) or \"slack\"", v);
        }
}

static void load_transport(Loader *ld, const config_setting_t *group, Transport *t) {
        static const char *const keys[] = {"url",
                                           "from",
                                           "envelope_from",
                                           "username",
                                           "password_credential",
                                           "password_file",
                                           "secret_credential",
                                           "secret_file",
                                           "ca_file",
                                           "tls",
                                           "max_connections",
                                           "format",
                                           NULL};
        const config_setting_t *s;
        const char *v;
        bool kind_known;

        t->max_connections = TRANSPORT_MAX_CONNECTIONS_DEFAULT;
        t->id = copy_string(ld, config_setting_name(group));
        if (!validate_id(config_setting_name(group)))
                fail(ld, group, "transport name '%s' must be 1-64 letters, digits, '.', '_' or '-'",
                     config_setting_name(group));
        if (!type_matches(group, VALUE_GROUP)) {
                fail(ld, group, "transport '%s' must be a group { url = ...; }",
                     config_setting_name(group));
                return;
        }
        check_keys(ld, group, keys, "transport");
        s = member(ld, group, "tls", VALUE_STRING, false, "transport");
        if (s) {
                v = config_setting_get_string(s);
                if (strcmp(v, "none") == 0)
                        t->tls = TLS_NONE;
                else if (strcmp(v, "starttls") != 0)
                        fail(ld, s, "tls \"%s\" must be \"starttls\" (the default) or \"none\"", v);
        }
        kind_known = load_transport_url(ld, group, t);
        if (s && t->url && t->kind != TRANSPORT_SMTP)
                fail(ld, s, "'tls' applies only to smtp:// transports");

        s = member(ld, group, "from", VALUE_STRING, false, "transport");
        if (s) {
                v = config_setting_get_string(s);
                if (!validate_mailbox(v))
                        fail(ld, s, "from \"%s\" must be \"address\" or \"Name <address>\"", v);
                t->from = copy_string(ld, v);
        }
        s = transport_member(ld, group, t, kind_known, "envelope_from", VALUE_STRING, KINDS_SMTP,
                             "smtp:// and smtps:// transports");
        if (s) {
                v = config_setting_get_string(s);
                if (!validate_mail_address(v))
                        fail(ld, s,
                             "envelope_from \"%s\" must be a bare address, local@domain (no "
                             "name, no <>)",
                             v);
                t->envelope_from = copy_string(ld, v);
        }
        load_transport_credentials(ld, group, t, kind_known);
        if (t->from && kind_known && !transport_kind_carries_mail(t->kind))
                fail(ld, group, "transport '%s': 'from' applies only to mail transports", t->id);
        load_transport_connections(ld, group, t, kind_known);
}

static void load_transports(Loader *ld, const config_setting_t *root) {
        const config_setting_t *g =
                member(ld, root, "transports", VALUE_GROUP, false, "the config");
        const config_setting_t *s;
        Model *m = ld->model;

        if (g) {
                m->transports =
                        allocate_array(ld, (size_t) config_setting_length(g), sizeof(Transport));
                if (!m->transports)
                        return;
                for (int i = 0; i < config_setting_length(g); i++)
                        load_transport(ld, config_setting_get_elem(g, (unsigned) i),
                                       &m->transports[m->n_transports++]);
        }
        s = member(ld, root, "mail_via", VALUE_STRING, false, "the config");
        if (s) {
                size_t t;
                if (model_find_transport(m, config_setting_get_string(s), &t) < 0)
                        fail(ld, s, "mail_via names unknown transport '%s'",
                             config_setting_get_string(s));
                else if (!transport_kind_carries_mail(m->transports[t].kind))
                        fail(ld, s,
                             "mail_via transport '%s' cannot carry mail (smtp://, "
                             "smtps://, maildir: or sendmail:)",
                             config_setting_get_string(s));
                else if (!m->transports[t].from)
                        fail(ld, s, "mail_via transport '%s' needs a 'from' address",
                             config_setting_get_string(s));
                else {
                        m->has_mail_via = true;
                        m->mail_via = t;
                }
        }
}

/* ---- recipients ---- */

static void load_recipient(Loader *ld, const config_setting_t *g, Recipient *r) {
        static const char *const keys[] = {"id",   "name",     "population", "language",
                                           "mail", "webhooks", NULL};
        const config_setting_t *s;
        const char *v;

        r->population = -1;
        r->language = ld->model->language;
        check_keys(ld, g, keys, "recipient");
        (void) member_id(ld, g, "recipient", &r->id);
        v = member_string(ld, g, "name", true, r->id ? r->id : "recipient");
        r->name = copy_string(ld, v);
        s = member(ld, g, "population", VALUE_INTEGER, false, "recipient");
        if (s) {
                long long p = config_setting_get_int64(s);
                if (p < 0 || p > 1000000000)
                        fail(ld, s, "population %lld must be between 0 and 1000000000", p);
                else
                        r->population = p;
        }
        load_language(ld, g, "recipient", &r->language);

        s = member(ld, g, "mail", VALUE_STRING_ARRAY, false, "recipient");
        if (s && (r->mail = allocate_array(ld, (size_t) config_setting_length(s), sizeof(char *))))
                for (int i = 0; i < config_setting_length(s); i++) {
                        const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                        v = config_setting_get_string(e);
                        if (!validate_mail_address(v))
                                fail(ld, e, "'%s' is not a mail address (local@domain, ASCII)", v);
                        r->mail[r->n_mail++] = copy_string(ld, v);
                }
        s = member(ld, g, "webhooks", VALUE_STRING_ARRAY, false, "recipient");
        if (s &&
            (r->webhooks = allocate_array(ld, (size_t) config_setting_length(s), sizeof(size_t))))
                for (int i = 0; i < config_setting_length(s); i++) {
                        const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                        size_t t;
                        if (model_find_transport(ld->model, config_setting_get_string(e), &t) < 0)
                                fail(ld, e, "unknown webhook transport '%s'",
                                     config_setting_get_string(e));
                        else if (ld->model->transports[t].kind != TRANSPORT_HTTP &&
                                 ld->model->transports[t].kind != TRANSPORT_HTTPS)
                                fail(ld, e,
                                     "transport '%s' is not a webhook (http:// or "
                                     "https://)",
                                     config_setting_get_string(e));
                        else
                                r->webhooks[r->n_webhooks++] = t;
                }
        /* Counted as written, so an unknown webhook is reported once, as unknown. */
        if (setting_length(config_setting_get_member(g, "mail")) == 0 &&
            setting_length(config_setting_get_member(g, "webhooks")) == 0)
                fail(ld, g,
                     "recipient '%s' has no mail address and no webhook: nothing could "
                     "reach it",
                     r->id ? r->id : "?");
}

static int compare_recipient_ids(const void *a, const void *b, void *userdata) {
        const Model *m = userdata;
        const char *x = m->recipients[*(const size_t *) a].id;
        const char *y = m->recipients[*(const size_t *) b].id;
        return strcmp(x ? x : "", y ? y : "");
}

static int compare_commitment_ids(const void *a, const void *b, void *userdata) {
        const Model *m = userdata;
        const char *x = m->commitments[*(const size_t *) a].id;
        const char *y = m->commitments[*(const size_t *) b].id;
        return strcmp(x ? x : "", y ? y : "");
}

/* Sorts indices 0..n-1 by id and reports each id that occurs again. */
static size_t *index_by_id(Loader *ld, const config_setting_t *list, size_t n,
                           int (*compare)(const void *, const void *, void *),
                           const char *(*id_of)(const Model *, size_t), const char *what) {
        size_t *index = allocate_array(ld, n, sizeof(size_t));

        if (!index)
                return NULL;
        for (size_t i = 0; i < n; i++)
                index[i] = i;
        qsort_r(index, n, sizeof(size_t), compare, ld->model); /* glibc's, with a context */
        for (size_t i = 1; i < n; i++) {
                const char *a = id_of(ld->model, index[i - 1]), *b = id_of(ld->model, index[i]);
                if (a && b && strcmp(a, b) == 0) {
                        size_t later = index[i] > index[i - 1] ? index[i] : index[i - 1];
                        fail(ld, config_setting_get_elem(list, (unsigned) later),
                             "duplicate %s id '%s'", what, b);
                }
        }
        return index;
}

static const char *recipient_id(const Model *m, size_t i) {
        return m->recipients[i].id;
}

static const char *commitment_id(const Model *m, size_t i) {
        return m->commitments[i].id;
}

static void load_recipients(Loader *ld, const config_setting_t *root) {
        const config_setting_t *list =
                member(ld, root, "recipients", VALUE_LIST, true, "the config");
        Model *m = ld->model;
        size_t n;

        if (!list) {
                ld->recipients_unusable = true;
                return;
        }
        n = (size_t) config_setting_length(list);
        m->recipients = allocate_array(ld, n, sizeof(Recipient));
        if (!m->recipients)
                return;
        for (size_t i = 0; i < n; i++)
                load_recipient(ld, config_setting_get_elem(list, (unsigned) i),
                               &m->recipients[m->n_recipients++]);
        ld->recipients_by_id =
                index_by_id(ld, list, n, compare_recipient_ids, recipient_id, "recipient");
        for (size_t i = 0; ld->recipients_by_id && i < n; i++)
                m->recipients[ld->recipients_by_id[i]].rank = (uint32_t) i;
        for (size_t i = 0; i < n && !m->has_mail_via; i++)
                if (m->recipients[i].n_mail > 0 && !config_setting_get_member(root, "mail_via")) {
                        fail(ld, config_setting_get_elem(list, (unsigned) i),
                             "recipient '%s' has mail addresses but no mail_via transport is set",
                             m->recipients[i].id ? m->recipients[i].id : "?");
                        break;
                }
}

static ssize_t find_recipient(const Loader *ld, const char *id) {
        const Model *m = ld->model;
        size_t lo = 0, hi = m->n_recipients;

        if (!ld->recipients_by_id)
                return -1;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const char *mid_id = m->recipients[ld->recipients_by_id[mid]].id;
                int c = strcmp(mid_id ? mid_id : "", id);
                if (c == 0)
                        return (ssize_t) ld->recipients_by_id[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

/* ---- commitments ---- */

static void load_recipient_list(Loader *ld, const config_setting_t *g, const char *key,
                                bool required, const char *what, size_t **ret, size_t *ret_n) {
        const config_setting_t *s = member(ld, g, key, VALUE_STRING_ARRAY, required, what);
        size_t n;

        if (!s)
                return;
        n = (size_t) config_setting_length(s);
        if (n == 0 && required) {
                fail(ld, s, "'%s' must name at least one recipient", key);
                return;
        }
        *ret = allocate_array(ld, n, sizeof(size_t));
        if (!*ret)
                return;
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *id = config_setting_get_string(e);
                ssize_t r = find_recipient(ld, id);
                bool duplicate = false;

                if (r < 0) {
                        if (!ld->recipients_unusable)
                                fail(ld, e, "%s: unknown recipient '%s'", key, id);
                        continue;
                }
                for (size_t j = 0; j < *ret_n; j++)
                        duplicate = duplicate || (*ret)[j] == (size_t) r;
                if (duplicate)
                        fail(ld, e, "%s: recipient '%s' is listed twice", key, id);
                else
                        (*ret)[(*ret_n)++] = (size_t) r;
        }
}

static bool number_to_micro(Loader *ld, const config_setting_t *s, int64_t *ret) {
        double v = config_setting_type(s) == CONFIG_TYPE_FLOAT
                           ? config_setting_get_float(s)
                           : (double) config_setting_get_int64(s);

        if (!(v >= 0 && v <= 1000)) {
                fail(ld, s, "per_inhabitant rate must be between 0 and 1000");
                return false;
        }
        *ret = llround(v * 1e6);
        return true;
}

static void load_cost(Loader *ld, const config_setting_t *g, Commitment *c) {
        static const char *const keys[] = {"per_inhabitant", "currency", "from", NULL};
        const config_setting_t *cost = member(ld, g, "cost", VALUE_GROUP, false, "commitment");
        const config_setting_t *s;
        const char *cur;
        bool ok = true;

        if (!cost)
                return;
        check_keys(ld, cost, keys, "cost");
        s = config_setting_get_member(cost, "per_inhabitant");
        if (!s) {
                fail(ld, cost, "cost: missing 'per_inhabitant'");
                ok = false;
        } else if (type_matches(s, VALUE_NUMBER)) {
                ok = number_to_micro(ld, s, &c->cost.rate_min_micro);
                c->cost.rate_max_micro = c->cost.rate_min_micro;
        } else if (config_setting_type(s) == CONFIG_TYPE_ARRAY &&
                   (config_setting_length(s) == 1 || config_setting_length(s) == 2) &&
                   type_matches(config_setting_get_elem(s, 0), VALUE_NUMBER)) {
                int last = config_setting_length(s) - 1;
                ok = number_to_micro(ld, config_setting_get_elem(s, 0), &c->cost.rate_min_micro) &&
                     number_to_micro(ld, config_setting_get_elem(s, (unsigned) last),
                                     &c->cost.rate_max_micro);
                if (ok && c->cost.rate_min_micro > c->cost.rate_max_micro) {
                        fail(ld, s, "per_inhabitant range [min, max] has min above max");
                        ok = false;
                }
        } else {
                fail(ld, s, "'per_inhabitant' must be a number or a range [min, max]");
                ok = false;
        }
        cur = member_string(ld, cost, "currency", true, "cost");
        if (cur && (strlen(cur) != 3 || strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)) {
                fail(ld, config_setting_get_member(cost, "currency"),
                     "currency '%s' must be an ISO 4217 code such as \"EUR\"", cur);
                cur = NULL;
        }
        c->cost.from = c->start;
        if (config_setting_get_member(cost, "from") &&
            !member_date(ld, cost, "from", false, "cost", &c->cost.from))
                ok = false;
        if (ok && cur) {
                memcpy(c->cost.currency, cur, 4);
                c->cost.set = true;
        }
}

static void load_deadlines(Loader *ld, const config_setting_t *g, Commitment *c) {
        static const char *const keys[] = {"id", "date", "title", NULL};
        const config_setting_t *list = member(ld, g, "deadlines", VALUE_LIST, false, "commitment");
        size_t n;

        if (!list)
                return;
        n = (size_t) config_setting_length(list);
        c->deadlines = allocate_array(ld, n, sizeof(OneOffDeadline));
        if (!c->deadlines)
                return;
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *d = config_setting_get_elem(list, (unsigned) i);
                OneOffDeadline *dl = &c->deadlines[c->n_deadlines++];

                check_keys(ld, d, keys, "deadline");
                if (member_id(ld, d, "deadline", &dl->id))
                        for (size_t j = 0; j + 1 < c->n_deadlines; j++)
                                if (c->deadlines[j].id && strcmp(c->deadlines[j].id, dl->id) == 0)
                                        fail(ld, config_setting_get_member(d, "id"),
                                             "duplicate deadline id '%s' in commitment '%s'",
                                             dl->id, c->id ? c->id : "?");
                (void) member_date(ld, d, "date", true, "deadline", &dl->date);
                dl->title = copy_string(ld, member_string(ld, d, "title", true, "deadline"));
        }
}

static void load_terms(Loader *ld, const config_setting_t *g, Commitment *c) {
        const config_setting_t *s;
        const char *what = c->id ? c->id : "commitment";

        (void) member_date(ld, g, "start", true, what, &c->start);
        (void) member_duration(ld, g, "term", true, what, &c->term);
        s = member(ld, g, "renewal", VALUE_STRING, true, what);
        if (s) {
                const char *v = config_setting_get_string(s);
                if (strcmp(v, "tacit") == 0)
                        c->renewal = RENEWAL_TACIT;
                else if (strcmp(v, "indefinite") == 0)
                        c->renewal = RENEWAL_INDEFINITE;
                else if (strcmp(v, "none") == 0)
                        c->renewal = RENEWAL_NONE;
                else
                        fail(ld, s, "renewal '%s' must be \"none\", \"tacit\" or \"indefinite\"",
                             v);
        }
        c->renewal_term = c->term;
        s = config_setting_get_member(g, "renewal_term");
        if (s) {
                if (c->renewal != RENEWAL_TACIT)
                        fail(ld, s, "'renewal_term' applies only with renewal = \"tacit\"");
                (void) member_duration(ld, g, "renewal_term", false, what, &c->renewal_term);
        }
        c->has_notice =
                member_duration(ld, g, "notice", c->renewal != RENEWAL_NONE, what, &c->notice);
        c->decision_lead = (Duration){.count = 0, .unit = DURATION_DAYS};
        s = config_setting_get_member(g, "decision_lead");
        if (s) {
                if (!config_setting_get_member(g, "notice"))
                        fail(ld, s, "'decision_lead' needs a 'notice' period to count back from");
                (void) member_duration(ld, g, "decision_lead", false, what, &c->decision_lead);
        }
        c->has_review = member_duration(ld, g, "review_every", false, what, &c->review_every);
        c->has_terminated = member_date(ld, g, "terminated", false, what, &c->terminated);
}

static void load_commitment(Loader *ld, const config_setting_t *g, const PolicySettings *global,
                            Shift default_shift, Commitment *c) {
        static const char *const keys[] = {
                "id",           "title",        "counterparty", "reference",      "start",
                "term",         "renewal",      "renewal_term", "notice",         "decision_lead",
                "review_every", "participants", "reviewers",    "escalate_to",    "cost",
                "deadlines",    "terminated",   "policy",       "deadline_shift", NULL};
        PolicySettings own = {0};
        const char *what;

        check_keys(ld, g, keys, "commitment");
        (void) member_id(ld, g, "commitment", &c->id);
        what = c->id ? c->id : "commitment";
        c->title = copy_string(ld, member_string(ld, g, "title", true, what));
        c->counterparty = copy_string(ld, member_string(ld, g, "counterparty", false, what));
        c->reference = copy_string(ld, member_string(ld, g, "reference", false, what));
        load_terms(ld, g, c);
        c->deadline_shift = default_shift;
        load_shift(ld, g, what, &c->deadline_shift);
        load_policy(ld, g, what, &own);
        merge_policy(ld, global, &own, &c->policy);
        free(own.policy.offsets);
        load_recipient_list(ld, g, "participants", true, what, &c->participants,
                            &c->n_participants);
        load_recipient_list(ld, g, "reviewers", false, what, &c->reviewers, &c->n_reviewers);
        load_recipient_list(ld, g, "escalate_to", false, what, &c->escalate_to, &c->n_escalate_to);
        load_cost(ld, g, c);
        load_deadlines(ld, g, c);
}

static void load_commitments(Loader *ld, const config_setting_t *root, const PolicySettings *global,
                             Shift shift) {
        const config_setting_t *list =
                member(ld, root, "commitments", VALUE_LIST, true, "the config");
        Model *m = ld->model;
        size_t *index, n;

        if (!list)
                return;
        n = (size_t) config_setting_length(list);
        m->commitments = allocate_array(ld, n, sizeof(Commitment));
        if (!m->commitments)
                return;
        for (size_t i = 0; i < n; i++)
                load_commitment(ld, config_setting_get_elem(list, (unsigned) i), global, shift,
                                &m->commitments[m->n_commitments++]);
        index = index_by_id(ld, list, n, compare_commitment_ids, commitment_id, "commitment");
        for (size_t i = 0; index && i < n; i++)
                m->commitments[index[i]].rank = (uint32_t) i;
        free(index);
}

/* ---- message templates ---- */

#define TEMPLATE_SIZE_MAX 65536

/* Reads and checks one template file; errors inside it are reported with its own name and
 * line, errors in reaching it with the config's. */
static void load_template_file(Loader *ld, const config_setting_t *s, char **ret) {
        const char *path = config_setting_get_string(s);
        char *text = NULL, *message;
        struct stat st;
        unsigned line;
        size_t n;
        FILE *f;
        int fd, r;

        if (path[0] != '/') {
                fail(ld, s, "template \"%s\" must be an absolute path", path);
                return;
        }
        /* Non-blocking, so that a FIFO named by mistake is refused instead of hanging a reload;
         * reads of a regular file are not affected. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        f = fd >= 0 ? fdopen(fd, "r") : NULL;
        if (!f) {
                fail(ld, s, "cannot read template \"%s\": %s", path, strerror(errno));
                if (fd >= 0)
                        (void) close(fd);
                return;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                fail(ld, s, "template \"%s\" is not a regular file", path);
        else if (st.st_size > TEMPLATE_SIZE_MAX)
                fail(ld, s, "template \"%s\" is larger than %d bytes", path, TEMPLATE_SIZE_MAX);
        else if (!(text = malloc(TEMPLATE_SIZE_MAX + 2)))
                ld->out_of_memory = true;
        if (!text)
                goto finish;
        /* One byte more than allowed, so that a file that grew since fstat() is noticed. */
        n = fread(text, 1, TEMPLATE_SIZE_MAX + 1, f);
        if (ferror(f))
                fail(ld, s, "cannot read template \"%s\": %s", path, strerror(EIO));
        else if (n > TEMPLATE_SIZE_MAX)
                fail(ld, s, "template \"%s\" is larger than %d bytes", path, TEMPLATE_SIZE_MAX);
        else {
                char *shrunk = realloc(text, n + 1); /* the model keeps it */
                if (shrunk)
                        text = shrunk;
                text[n] = '\0';
                r = template_check(text, n, &line, &message);
                if (r == -ENOMEM)
                        ld->out_of_memory = true;
                else if (r < 0)
                        add_error(ld, path, line, message);
                else {
                        free(*ret);
                        *ret = text;
                        text = NULL;
                }
        }
finish:
        free(text);
        (void) fclose(f);
}

static void load_templates(Loader *ld, const config_setting_t *root) {
        static const struct {
                const char *key;
                Language language;
                MessageKind kind;
        } files[] = {
                {"nl", LANGUAGE_NL, MESSAGE_REMINDER},
                {"en", LANGUAGE_EN, MESSAGE_REMINDER},
                {"nl_overdue", LANGUAGE_NL, MESSAGE_OVERDUE},
                {"en_overdue", LANGUAGE_EN, MESSAGE_OVERDUE},
        };
        static const char *const keys[] = {"nl", "en", "nl_overdue", "en_overdue", NULL};
        const config_setting_t *g = member(ld, root, "templates", VALUE_GROUP, false, "the config");

        if (!g)
                return;
        check_keys(ld, g, keys, "templates");
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                const config_setting_t *s =
                        member(ld, g, files[i].key, VALUE_STRING, false, "templates");
                if (s)
                        load_template_file(ld, s,
                                           &ld->model->templates[files[i].language][files[i].kind]);
        }
}

/* ---- delivery timing ---- */

typedef enum SpanSetting {
        SPAN_ABSENT,
        SPAN_SET,
        SPAN_BAD, /* reported */
} SpanSetting;

/* The top-level time span `key`, between min and max inclusive (written as time spans so that
 * messages show the bounds the way the file does).  *ret keeps its default unless SPAN_SET. */
static SpanSetting load_time_span(Loader *ld, const config_setting_t *root, const char *key,
                                  const char *min, const char *max, uint64_t *ret) {
        const config_setting_t *s = config_setting_get_member(root, key);
        uint64_t usec, min_usec = 0, max_usec = 0;
        const char *v;
        int r;

        if (!s)
                return SPAN_ABSENT;
        if (!member(ld, root, key, VALUE_STRING, false, "the config"))
                return SPAN_BAD;
        v = config_setting_get_string(s);
        r = validate_time_span(v, &usec);
        if (r == -EINVAL) {
                fail(ld, s,
                     "%s \"%s\": a time span is a number and s, m (minutes), h or d, e.g. "
                     "\"30s\", \"1m\"",
                     key, v);
                return SPAN_BAD;
        }
        (void) validate_time_span(min, &min_usec);
        (void) validate_time_span(max, &max_usec);
        if (r < 0 || usec < min_usec || usec > max_usec) {
                fail(ld, s, "%s \"%s\" must be between %s and %s", key, v, min, max);
                return SPAN_BAD;
        }
        *ret = usec;
        return SPAN_SET;
}

/* How long retries wait and how long a stopping daemon waits: durations of the process, not of
 * the calendar, so they have units of their own (m is minutes here). */
static void load_delivery_timing(Loader *ld, const config_setting_t *root) {
        const config_setting_t *base_setting = config_setting_get_member(root, "retry_base");
        const config_setting_t *max_setting = config_setting_get_member(root, "retry_max");
        Model *m = ld->model;
        SpanSetting base, max;

        m->retry_base_usec = MODEL_RETRY_BASE_DEFAULT_USEC;
        m->retry_max_usec = MODEL_RETRY_MAX_DEFAULT_USEC;
        m->stop_timeout_usec = MODEL_STOP_TIMEOUT_DEFAULT_USEC;
        base = load_time_span(ld, root, "retry_base", "1s", "1d", &m->retry_base_usec);
        max = load_time_span(ld, root, "retry_max", "1s", "7d", &m->retry_max_usec);
        (void) load_time_span(ld, root, "stop_timeout", "0s", "5m", &m->stop_timeout_usec);
        if (base == SPAN_BAD || max == SPAN_BAD || m->retry_max_usec >= m->retry_base_usec)
                return;
        /* On the line of retry_max when it is written, else on retry_base's; a default is named
         * as one, so that the fix is plain. */
        if (max == SPAN_SET && base == SPAN_SET)
                fail(ld, max_setting, "retry_max \"%s\" is shorter than retry_base \"%s\"",
                     config_setting_get_string(max_setting),
                     config_setting_get_string(base_setting));
        else if (max == SPAN_SET)
                fail(ld, max_setting,
                     "retry_max \"%s\" is shorter than retry_base, 1m when not set",
                     config_setting_get_string(max_setting));
        else
                fail(ld, base_setting,
                     "retry_base \"%s\" is longer than retry_max, 1h when not set",
                     config_setting_get_string(base_setting));
}

/* ---- the whole file ---- */

/* Stable (insertion) sort by file and line: errors on one line keep the order they were found
 * in, and a config has few enough errors that the quadratic worst case does not matter. */
static void sort_errors(ConfigErrors *errors) {
        for (size_t i = 1; i < errors->n; i++) {
                ConfigError e = errors->items[i];
                size_t j = i;
                while (j > 0) {
                        const ConfigError *p = &errors->items[j - 1];
                        int c = strcmp(p->file, e.file);
                        if (c < 0 || (c == 0 && p->line <= e.line))
                                break;
                        errors->items[j] = *p;
                        j--;
                }
                errors->items[j] = e;
        }
}

static void load_root(Loader *ld, const config_setting_t *root) {
        static const char *const keys[] = {
                "timezone",   "language",  "deadline_shift", "holidays",    "policy",
                "transports", "mail_via",  "recipients",     "commitments", "templates",
                "retry_base", "retry_max", "stop_timeout",   NULL};
        PolicySettings global = {
                .policy = {.send_time = 9 * 3600, .working_days_only = true},
        };
        static const Duration default_offsets[] = {{90, DURATION_DAYS}, {30, DURATION_DAYS},
                                                   {14, DURATION_DAYS}, {7, DURATION_DAYS},
                                                   {1, DURATION_DAYS},  {0, DURATION_DAYS}};
        Shift shift = SHIFT_EARLIER;

        check_keys(ld, root, keys, "the config");
        check_strings(ld, root);
        load_timezone(ld, root);
        load_language(ld, root, "the config", &ld->model->language);
        load_shift(ld, root, "the config", &shift);
        load_holidays(ld, root);
        load_policy(ld, root, "the config", &global);
        if (!global.has_offsets &&
            (global.policy.offsets = allocate_array(ld, 6, sizeof(Duration)))) {
                memcpy(global.policy.offsets, default_offsets, sizeof(default_offsets));
                global.policy.n_offsets = 6;
        }
        load_transports(ld, root);
        load_recipients(ld, root);
        load_commitments(ld, root, &global, shift);
        load_templates(ld, root);
        load_delivery_timing(ld, root);
        free(global.policy.offsets);
}

int config_load(const char *path, Model **ret, ConfigErrors *errors) {
        Loader ld = {.path = path, .errors = errors};
        char *include_dir = NULL, *slash;
        struct stat st;
        config_t cfg;
        FILE *f;
        int r = 0;

        *errors = (ConfigErrors){0};
        f = fopen(path, "re");
        if (!f) {
                r = -errno;
                add_error(&ld, path, 0, strdup(strerror(-r)));
                return ld.out_of_memory ? -ENOMEM : r;
        }
        /* libconfig's flex scanner calls exit(2) when a read fails, as reading a directory
         * does: refuse one here, with the usual message. */
        if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
                (void) fclose(f);
                add_error(&ld, path, 0, strdup(strerror(EISDIR)));
                return ld.out_of_memory ? -ENOMEM : -EISDIR;
        }
        config_init(&cfg);
        /* @include names are relative to the config file's directory, not the cwd. */
        include_dir = strdup(path);
        slash = include_dir ? strrchr(include_dir, '/') : NULL;
        if (slash) {
                slash[slash == include_dir] = '\0'; /* "/noticed.conf" keeps "/" */
                config_set_include_dir(&cfg, include_dir);
                ld.include_dir = include_dir;
        }
        if (!config_read(&cfg, f)) {
                const char *file = config_error_file(&cfg);
                char *message, *owned = NULL;
                if (asprintf(&message, "syntax error: %s", config_error_text(&cfg)) < 0)
                        message = NULL;
                if (file && file[0] != '/' && ld.include_dir &&
                    asprintf(&owned, "%s/%s", ld.include_dir, file) < 0)
                        owned = NULL;
                add_error(&ld,
                          owned  ? owned
                          : file ? file
                                 : path,
                          (unsigned) config_error_line(&cfg), message);
                free(owned);
                r = -EINVAL;
                goto finish;
        }
        ld.model = calloc(1, sizeof(Model));
        if (!ld.model || !(ld.model->path = strdup(path))) {
                r = -ENOMEM;
                goto finish;
        }
        load_root(&ld, config_root_setting(&cfg));
        if (ld.out_of_memory)
                r = -ENOMEM;
        else if (errors->n > 0)
                r = -EINVAL;
finish:
        (void) fclose(f);
        config_destroy(&cfg);
        free(include_dir);
        free(ld.recipients_by_id);
        sort_errors(errors);
        if (r < 0) {
                model_free(ld.model);
                return ld.out_of_memory ? -ENOMEM : r;
        }
        *ret = ld.model;
        return 0;
}

char *config_error_to_string(const ConfigError *e) {
        char *s;

        if ((e->line > 0 ? asprintf(&s, "%s:%u: %s", e->file, e->line, e->message)
                         : asprintf(&s, "%s: %s", e->file, e->message)) < 0)
                return NULL;
        return s;
}

void config_errors_done(ConfigErrors *errors) {
        for (size_t i = 0; i < errors->n; i++) {
                free(errors->items[i].file);
                free(errors->items[i].message);
        }
        free(errors->items);
        *errors = (ConfigErrors){0};
}
