/* The config loader's walker: the Loader, its list of errors with FILE:LINE, and the checks of
 * a setting's type and shape that every section of the file shares (config-internal.h).
 *
 * Each helper that finds a problem records it with loader_fail() and carries on, so that one
 * walk reports everything; out of memory is recorded once, in the Loader, and config_load()
 * returns -ENOMEM at the end. */

#include <assert.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "noticed/macro.h"
#include "noticed/validate.h"

/* ---- errors ---- */

/* The origin a loader-made setting carries, NULL for a setting libconfig read. */
static const SettingOrigin *setting_origin(const config_setting_t *s) {
        return config_setting_get_hook(s);
}

static unsigned setting_line(const config_setting_t *s) {
        for (; s; s = config_setting_parent(s)) {
                if (setting_origin(s))
                        return setting_origin(s)->line;
                if (config_setting_source_line(s) > 0)
                        return config_setting_source_line(s);
        }
        return 0;
}

const char *loader_file_name(const Loader *ld, const char *file, char **owned) {
        *owned = NULL;
        if (!file)
                return ld->path;
        if (file[0] != '/' && ld->include_dir &&
            asprintf(owned, "%s/%s", ld->include_dir, file) >= 0)
                return *owned;
        *owned = NULL;
        return file;
}

/* The file a setting came from: its own, or that of the nearest parent that has one. */
static const char *setting_file(const Loader *ld, const config_setting_t *s, char **owned) {
        *owned = NULL;
        for (; s; s = config_setting_parent(s)) {
                if (setting_origin(s))
                        return setting_origin(s)->file ? setting_origin(s)->file : ld->path;
                if (config_setting_source_file(s))
                        break;
        }
        return loader_file_name(ld, s ? config_setting_source_file(s) : NULL, owned);
}

const char *loader_setting_position(const Loader *ld, const config_setting_t *s, char **owned,
                                    unsigned *ret_line) {
        *ret_line = setting_line(s);
        return setting_file(ld, s, owned);
}

void loader_add_error(Loader *ld, const char *file, unsigned line, char *message) {
        _cleanup_free_ char *m = message, *f = message ? strdup(file) : NULL;
        ConfigErrors *e = ld->errors;

        assert(file);
        if (!f) {
                ld->out_of_memory = true;
                return;
        }
        if (e->n == ld->errors_allocated) {
                size_t n = ld->errors_allocated ? ld->errors_allocated * 2 : 16;
                ConfigError *items = realloc(e->items, n * sizeof(*items));
                if (!items) {
                        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): freed by _cleanup_ */
                        ld->out_of_memory = true;
                        return;
                }
                e->items = items;
                ld->errors_allocated = n;
        }
        e->items[e->n++] = (ConfigError){.file = TAKE_PTR(f), .line = line, .message = TAKE_PTR(m)};
}

__attribute__((format(printf, 3, 4))) void loader_fail(Loader *ld, const config_setting_t *s,
                                                       const char *format, ...) {
        _cleanup_free_ char *owned = NULL;
        char *message;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        loader_add_error(ld, setting_file(ld, s, &owned), setting_line(s), r < 0 ? NULL : message);
}

/* ---- memory ---- */

char *loader_copy_string(Loader *ld, const char *s) {
        char *copy;

        if (!s)
                return NULL;
        copy = strdup(s);
        if (!copy)
                ld->out_of_memory = true;
        return copy;
}

char *loader_copy_substring(Loader *ld, const char *s, size_t n) {
        char *copy = strndup(s, n);

        if (!copy)
                ld->out_of_memory = true;
        return copy;
}

void *loader_allocate_array(Loader *ld, size_t n, size_t size) {
        void *p = calloc(n ? n : 1, size);

        if (!p)
                ld->out_of_memory = true;
        return p;
}

/* ---- settings ---- */

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
        assert((size_t) t < ELEMENTSOF(names));
        return names[t];
}

bool setting_type_matches(const config_setting_t *s, ValueType t) {
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
const config_setting_t *loader_member(Loader *ld, const config_setting_t *group, const char *key,
                                      ValueType t, bool required, const char *what) {
        const config_setting_t *s = config_setting_get_member(group, key);

        if (!s) {
                if (required)
                        loader_fail(ld, group, "%s: missing '%s'", what, key);
                return NULL;
        }
        if (!setting_type_matches(s, t)) {
                loader_fail(ld, s, "'%s' must be %s", key, value_type_name(t));
                return NULL;
        }
        return s;
}

int setting_length(const config_setting_t *s) {
        return s ? config_setting_length(s) : 0;
}

const char *loader_member_string(Loader *ld, const config_setting_t *group, const char *key,
                                 bool required, const char *what) {
        const config_setting_t *s = loader_member(ld, group, key, VALUE_STRING, required, what);
        return s ? config_setting_get_string(s) : NULL;
}

void loader_check_keys(Loader *ld, const config_setting_t *group, const char *const *allowed,
                       const char *what) {
        for (int i = 0; i < config_setting_length(group); i++) {
                const config_setting_t *s = config_setting_get_elem(group, (unsigned) i);
                const char *name = config_setting_name(s);
                bool known = false;

                for (const char *const *a = allowed; *a && !known; a++)
                        known = strcmp(*a, name) == 0;
                if (!known)
                        loader_fail(ld, s, "unknown key '%s' in %s", name, what);
        }
}

/* Every string in the file, wherever it sits, must be safe to put in a mail header. */
void loader_check_strings(Loader *ld, const config_setting_t *s) {
        if (config_setting_type(s) == CONFIG_TYPE_STRING) {
                if (!validate_header_text(config_setting_get_string(s)))
                        loader_fail(ld, s,
                                    "string contains a control character (CR, LF, TAB, ...) or "
                                    "invalid UTF-8; it could reach a mail header");
                return;
        }
        if (config_setting_is_aggregate(s))
                for (int i = 0; i < config_setting_length(s); i++)
                        loader_check_strings(ld, config_setting_get_elem(s, (unsigned) i));
}

bool loader_parse_date(Loader *ld, const config_setting_t *s, Date *ret) {
        const char *v = config_setting_get_string(s);

        if (date_parse(v, ret) < 0) {
                loader_fail(ld, s, "'%s' is not a date (YYYY-MM-DD, a real calendar day)", v);
                return false;
        }
        return true;
}

bool loader_member_date(Loader *ld, const config_setting_t *group, const char *key, bool required,
                        const char *what, Date *ret) {
        const config_setting_t *s = loader_member(ld, group, key, VALUE_STRING, required, what);
        return s && loader_parse_date(ld, s, ret);
}

bool loader_member_duration(Loader *ld, const config_setting_t *group, const char *key,
                            bool required, const char *what, Duration *ret) {
        const config_setting_t *s = loader_member(ld, group, key, VALUE_STRING, required, what);
        int r;

        if (!s)
                return false;
        r = duration_parse(config_setting_get_string(s), false, ret);
        if (r == -EDOM) {
                /* A term, renewal term, notice period or review interval of zero is none. */
                loader_fail(ld, s, "'%s' = \"%s\" is zero: it must be at least \"1d\"", key,
                            config_setting_get_string(s));
                return false;
        }
        if (r < 0) {
                loader_fail(ld, s,
                            "'%s' = \"%s\" is not a duration (a positive count and d, w, m or y: "
                            "\"90d\", \"6w\", \"6m\", \"2y\")",
                            key, config_setting_get_string(s));
                return false;
        }
        return true;
}

bool loader_member_id(Loader *ld, const config_setting_t *group, const char *what, char **ret) {
        const char *id = loader_member_string(ld, group, "id", true, what);

        if (!id)
                return false;
        if (!validate_id(id)) {
                loader_fail(
                        ld, config_setting_get_member(group, "id"),
                        "id '%s' must be 1-64 letters, digits, '.', '_' or '-', starting with a "
                        "letter or digit",
                        id);
                return false;
        }
        *ret = loader_copy_string(ld, id);
        return *ret != NULL;
}

void loader_member_language(Loader *ld, const config_setting_t *group, const char *what,
                            Language *ret) {
        const config_setting_t *s = loader_member(ld, group, "language", VALUE_STRING, false, what);

        if (s && language_from_string(config_setting_get_string(s), ret) < 0)
                loader_fail(ld, s, "language '%s' is not supported (\"nl\" or \"en\")",
                            config_setting_get_string(s));
}

void loader_member_shift(Loader *ld, const config_setting_t *group, const char *what, Shift *ret) {
        const config_setting_t *s =
                loader_member(ld, group, "deadline_shift", VALUE_STRING, false, what);

        if (s && shift_from_string(config_setting_get_string(s), ret) < 0)
                loader_fail(ld, s, "deadline_shift '%s' must be \"earlier\", \"later\" or \"none\"",
                            config_setting_get_string(s));
}

/* Sorts indices 0..n-1 by id and reports each id that occurs again. */
typedef struct IdOrder {
        const Model *model;
        const char *(*id_of)(const Model *, size_t);
} IdOrder;

/* By id, an id that is missing (out of memory) as "". */
static int compare_ids(const void *a, const void *b, void *userdata) {
        const IdOrder *o = userdata;
        const char *x = o->id_of(o->model, *(const size_t *) a);
        const char *y = o->id_of(o->model, *(const size_t *) b);
        return strcmp(x ? x : "", y ? y : "");
}

size_t *loader_index_by_id(Loader *ld, const config_setting_t *list, size_t n,
                           const char *(*id_of)(const Model *, size_t), const char *what) {
        IdOrder order = {.model = ld->model, .id_of = id_of};
        size_t *index = loader_allocate_array(ld, n, sizeof(size_t));

        if (!index)
                return NULL;
        for (size_t i = 0; i < n; i++)
                index[i] = i;
        qsort_r(index, n, sizeof(size_t), compare_ids, &order); /* glibc's, with a context */
        for (size_t i = 1; i < n; i++) {
                const char *a = id_of(ld->model, index[i - 1]), *b = id_of(ld->model, index[i]);
                if (a && b && strcmp(a, b) == 0) {
                        size_t later = index[i] > index[i - 1] ? index[i] : index[i - 1];
                        loader_fail(ld, config_setting_get_elem(list, (unsigned) later),
                                    "duplicate %s id '%s'", what, b);
                }
        }
        return index;
}
