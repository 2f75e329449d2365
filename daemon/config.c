/* Reading noticed.conf into a Model: the file as a whole, and its top-level keys.
 *
 * The loader walks libconfig's tree once, key by key, and records every problem with its line
 * instead of stopping at the first: an administrator who runs `noticectl check` after an edit
 * sees the whole list.  Values that fail are left at their defaults so the walk can continue;
 * when anything failed the half-built model is thrown away.  libconfig's own parser still stops
 * at the first syntax error, which is then the only error reported.  The walker is
 * config-schema.c; the transports, recipients and commitments have files of their own. */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "noticed/macro.h"
#include "noticed/template.h"
#include "noticed/validate.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose)

/* ---- top level: time zone, holidays ---- */

static void load_timezone(Loader *ld, const config_setting_t *root) {
        const char *name = loader_member_string(ld, root, "timezone", false, "the config");
        int r;

        if (!name)
                name = "Europe/Amsterdam";
        r = tz_load(name, &ld->model->tz);
        if (r == -ENOMEM)
                ld->out_of_memory = true;
        else if (r == -EINVAL)
                loader_fail(ld, config_setting_get_member(root, "timezone"),
                            "'%s' is not a time zone name (IANA, e.g. \"Europe/Amsterdam\")", name);
        else if (r < 0)
                loader_fail(ld, config_setting_get_member(root, "timezone"),
                            "unknown time zone '%s' (not a zone of the installed IANA database)",
                            name);
}

static void load_holidays(Loader *ld, const config_setting_t *root) {
        static const char *const keys[] = {"calendar", "extra", NULL};
        const config_setting_t *h =
                loader_member(ld, root, "holidays", VALUE_GROUP, false, "the config");
        const config_setting_t *s;
        CalendarKind kind = CALENDAR_NL;
        Date *extra = NULL;
        size_t n = 0;

        if (h) {
                loader_check_keys(ld, h, keys, "holidays");
                s = loader_member(ld, h, "calendar", VALUE_STRING, false, "holidays");
                if (s && calendar_kind_from_string(config_setting_get_string(s), &kind) < 0)
                        loader_fail(ld, s,
                                    "holiday calendar '%s' is not known (\"nl\" or \"none\")",
                                    config_setting_get_string(s));
                s = loader_member(ld, h, "extra", VALUE_STRING_ARRAY, false, "holidays");
                if (s && (extra = loader_allocate_array(ld, (size_t) config_setting_length(s),
                                                        sizeof(Date))))
                        for (int i = 0; i < config_setting_length(s); i++)
                                if (loader_parse_date(ld, config_setting_get_elem(s, (unsigned) i),
                                                      &extra[n]))
                                        n++;
        }
        if (calendar_new(kind, extra, n, &ld->model->calendar) < 0)
                ld->out_of_memory = true;
        free(extra);
}

/* ---- message templates ---- */

#define TEMPLATE_SIZE_MAX 65536

/* Reads and checks one template file; errors inside it are reported with its own name and
 * line, errors in reaching it with the config's. */
static void load_template_file(Loader *ld, const config_setting_t *s, char **ret) {
        const char *path = config_setting_get_string(s);
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *text = NULL;
        char *message, *shrunk;
        struct stat st;
        unsigned line;
        size_t n;
        int fd, r;

        if (path[0] != '/') {
                loader_fail(ld, s, "template \"%s\" must be an absolute path", path);
                return;
        }
        /* Non-blocking, so that a FIFO named by mistake is refused instead of hanging a reload;
         * reads of a regular file are not affected. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        f = fd >= 0 ? fdopen(fd, "r") : NULL;
        if (!f) {
                loader_fail(ld, s, "cannot read template \"%s\": %s", path, strerror(errno));
                if (fd >= 0)
                        (void) close(fd);
                return;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                loader_fail(ld, s, "template \"%s\" is not a regular file", path);
                return;
        }
        if (st.st_size > TEMPLATE_SIZE_MAX) {
                loader_fail(ld, s, "template \"%s\" is larger than %d bytes", path,
                            TEMPLATE_SIZE_MAX);
                return;
        }
        text = malloc(TEMPLATE_SIZE_MAX + 2);
        if (!text) {
                ld->out_of_memory = true;
                return;
        }
        /* One byte more than allowed, so that a file that grew since fstat() is noticed. */
        n = fread(text, 1, TEMPLATE_SIZE_MAX + 1, f);
        if (ferror(f)) {
                loader_fail(ld, s, "cannot read template \"%s\": %s", path, strerror(EIO));
                return;
        }
        if (n > TEMPLATE_SIZE_MAX) {
                loader_fail(ld, s, "template \"%s\" is larger than %d bytes", path,
                            TEMPLATE_SIZE_MAX);
                return;
        }
        shrunk = realloc(text, n + 1); /* the model keeps it */
        if (shrunk)
                text = shrunk;
        text[n] = '\0';
        r = template_check(text, n, &line, &message);
        if (r == -ENOMEM)
                /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees text */
                ld->out_of_memory = true;
        else if (r < 0)
                loader_add_error(ld, path, line, message);
        else {
                free(*ret);
                *ret = TAKE_PTR(text);
        }
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
        const config_setting_t *g =
                loader_member(ld, root, "templates", VALUE_GROUP, false, "the config");

        if (!g)
                return;
        loader_check_keys(ld, g, keys, "templates");
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                const config_setting_t *s =
                        loader_member(ld, g, files[i].key, VALUE_STRING, false, "templates");
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
        if (!loader_member(ld, root, key, VALUE_STRING, false, "the config"))
                return SPAN_BAD;
        v = config_setting_get_string(s);
        r = validate_time_span(v, &usec);
        if (r == -EINVAL) {
                loader_fail(ld, s,
                            "%s \"%s\": a time span is a number and s, m (minutes), h or d, e.g. "
                            "\"30s\", \"1m\"",
                            key, v);
                return SPAN_BAD;
        }
        (void) validate_time_span(min, &min_usec);
        (void) validate_time_span(max, &max_usec);
        if (r < 0 || usec < min_usec || usec > max_usec) {
                loader_fail(ld, s, "%s \"%s\" must be between %s and %s", key, v, min, max);
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
                loader_fail(ld, max_setting, "retry_max \"%s\" is shorter than retry_base \"%s\"",
                            config_setting_get_string(max_setting),
                            config_setting_get_string(base_setting));
        else if (max == SPAN_SET)
                loader_fail(ld, max_setting,
                            "retry_max \"%s\" is shorter than retry_base, 1m when not set",
                            config_setting_get_string(max_setting));
        else
                loader_fail(ld, base_setting,
                            "retry_base \"%s\" is longer than retry_max, 1h when not set",
                            config_setting_get_string(base_setting));
}

static void load_root(Loader *ld, const config_setting_t *root) {
        static const char *const keys[] = {
                "timezone",   "language",  "deadline_shift", "holidays",    "policy",
                "transports", "mail_via",  "recipients",     "commitments", "templates",
                "retry_base", "retry_max", "stop_timeout",   "registers",   NULL};
        PolicySettings global = {
                .policy = {.send_time = 9 * 3600, .working_days_only = true},
        };
        static const Duration default_offsets[] = {{90, DURATION_DAYS}, {30, DURATION_DAYS},
                                                   {14, DURATION_DAYS}, {7, DURATION_DAYS},
                                                   {1, DURATION_DAYS},  {0, DURATION_DAYS}};
        Shift shift = SHIFT_EARLIER;

        loader_check_keys(ld, root, keys, "the config");
        loader_check_strings(ld, root);
        load_timezone(ld, root);
        loader_member_language(ld, root, "the config", &ld->model->language);
        loader_member_shift(ld, root, "the config", &shift);
        load_holidays(ld, root);
        config_load_policy(ld, root, "the config", &global);
        if (!global.has_offsets &&
            (global.policy.offsets = loader_allocate_array(ld, 6, sizeof(Duration)))) {
                memcpy(global.policy.offsets, default_offsets, sizeof(default_offsets));
                global.policy.n_offsets = 6;
        }
        config_load_transports(ld, root);
        config_load_recipients(ld, root);
        /* A config whose commitments all come from registers need not list any itself. */
        config_load_commitments(ld, root, &global, shift,
                                !config_setting_get_member(root, "registers"));
        config_load_registers(ld, root, &global, shift);
        config_rank_commitments(ld);
        load_templates(ld, root);
        load_delivery_timing(ld, root);
        free(global.policy.offsets);
}

/* ---- the whole file ---- */

void loader_done(Loader *ld) {
        free(ld->recipients_by_id);
        free(ld->origins);
        for (size_t i = 0; i < ld->n_file_names; i++)
                free(ld->file_names[i]);
        free(ld->file_names);
}

/* By file and line; errors on one line keep the order they were found in (the index breaks
 * ties, as qsort() is not stable). */
typedef struct NumberedError {
        ConfigError e;
        size_t found;
} NumberedError;

static int compare_errors(const void *a, const void *b) {
        const NumberedError *x = a, *y = b;
        int c = strcmp(x->e.file, y->e.file);

        if (c != 0)
                return c;
        if (x->e.line != y->e.line)
                return (x->e.line > y->e.line) - (x->e.line < y->e.line);
        return (x->found > y->found) - (x->found < y->found);
}

static bool same_error(const ConfigError *a, const ConfigError *b) {
        return a->line == b->line && strcmp(a->file, b->file) == 0 &&
               strcmp(a->message, b->message) == 0;
}

/* Sorted, and each error that is reported more than once (a register's default that every row
 * takes) kept once.  -ENOMEM leaves them as found. */
static int sort_errors(ConfigErrors *errors) {
        _cleanup_free_ NumberedError *n = NULL;
        size_t kept = 0;

        if (errors->n < 2)
                return 0;
        n = calloc(errors->n, sizeof(*n));
        if (!n)
                return -ENOMEM;
        for (size_t i = 0; i < errors->n; i++)
                n[i] = (NumberedError){.e = errors->items[i], .found = i};
        qsort(n, errors->n, sizeof(*n), compare_errors);
        for (size_t i = 0; i < errors->n; i++) {
                /* Equal errors are adjacent: the same file and line, and found in order. */
                bool again = false;
                for (size_t j = kept; j > 0 && !again; j--) {
                        const ConfigError *p = &errors->items[j - 1];
                        if (p->line != n[i].e.line || strcmp(p->file, n[i].e.file) != 0)
                                break;
                        again = same_error(p, &n[i].e);
                }
                if (again) {
                        free(n[i].e.file);
                        free(n[i].e.message);
                } else
                        errors->items[kept++] = n[i].e;
        }
        errors->n = kept;
        return 0;
}

/* libconfig stops at the first syntax error: the one error then reported. */
static void add_syntax_error(Loader *ld, const config_t *cfg) {
        _cleanup_free_ char *owned = NULL;
        char *message;

        if (asprintf(&message, "syntax error: %s", config_error_text(cfg)) < 0)
                message = NULL;
        loader_add_error(ld, loader_file_name(ld, config_error_file(cfg), &owned),
                         (unsigned) config_error_line(cfg), message);
}

/* The model of a file libconfig has parsed: -ENOMEM, -EINVAL when it has errors, or 0. */
static int load_model(Loader *ld, const config_setting_t *root) {
        assert(!ld->model);
        ld->model = calloc(1, sizeof(Model));
        if (!ld->model || !(ld->model->path = strdup(ld->path)))
                return -ENOMEM;
        load_root(ld, root);
        if (ld->out_of_memory)
                return -ENOMEM;
        return ld->errors->n > 0 ? -EINVAL : 0;
}

int config_load(const char *path, Model **ret, ConfigErrors *errors) {
        Loader ld = {.path = path, .errors = errors};
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *include_dir = NULL;
        struct stat st;
        config_t cfg;
        char *slash;
        int r;

        *errors = (ConfigErrors){0};
        f = fopen(path, "re");
        if (!f) {
                r = -errno;
                loader_add_error(&ld, path, 0, strdup(strerror(-r)));
                return ld.out_of_memory ? -ENOMEM : r;
        }
        /* libconfig's flex scanner calls exit(2) when a read fails, as reading a directory
         * does: refuse one here, with the usual message. */
        if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
                loader_add_error(&ld, path, 0, strdup(strerror(EISDIR)));
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
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees include_dir */
        if (config_read(&cfg, f))
                r = load_model(&ld, config_root_setting(&cfg));
        else {
                add_syntax_error(&ld, &cfg);
                r = -EINVAL;
        }
        config_destroy(&cfg);
        loader_done(&ld);
        if (sort_errors(errors) < 0)
                ld.out_of_memory = true;
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
