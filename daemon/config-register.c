/* Commitments from contract registers: the CSV files that `registers` names.
 *
 * Municipalities keep their contracts in a spreadsheet; each row of its CSV export is one
 * commitment.  A row is read by the streaming reader of csv.c and made into a small libconfig
 * group of its own (never the whole file into one tree): its cells, and the register's defaults
 * for the keys the row leaves out or empty.  That group then goes through the very code that
 * loads a commitment of the config, so that every value is checked exactly as the same key is
 * there.  Its settings carry a SettingOrigin as their hook: a cell's errors name the register
 * and the line its row starts on, a default's the config's line of that default. */

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "noticed/csv.h"
#include "noticed/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CsvReader *, csv_reader_free)

/* The keys a column may have: the commitment keys that are one string or a list of ids.  The
 * groups (cost, policy, deadlines) have no flat form; a register's defaults may hold them. */
static const struct {
        const char *key;
        bool ids; /* a list of recipient ids, separated by spaces in a cell */
} columns[] = {
        {"id", false},           {"title", false},
        {"counterparty", false}, {"reference", false},
        {"start", false},        {"term", false},
        {"renewal", false},      {"renewal_term", false},
        {"notice", false},       {"decision_lead", false},
        {"review_every", false}, {"participants", true},
        {"reviewers", true},     {"escalate_to", true},
        {"terminated", false},   {"deadline_shift", false},
};

#define REGISTER_READ_SIZE 65536

typedef struct Register {
        Loader *ld;
        const PolicySettings *global;
        Shift shift;
        const char *path;                 /* as errors name it */
        const config_setting_t *defaults; /* NULL: none */
        SettingOrigin *default_origins;   /* one per setting under defaults, in walk order */
        int *column_of;                   /* each header field's index into columns[], -1 */
        size_t n_columns;
        bool header_read, header_bad;
} Register;

/* ---- the defaults ---- */

static size_t count_settings(const config_setting_t *s) {
        size_t n = 1;

        if (config_setting_is_aggregate(s))
                for (int i = 0; i < config_setting_length(s); i++)
                        n += count_settings(config_setting_get_elem(s, (unsigned) i));
        return n;
}

/* Each setting's place in the config, in the order copy_setting() walks them. */
static void note_origins(Register *rg, const config_setting_t *s, size_t *k) {
        _cleanup_free_ char *owned = NULL;
        const char *file =
                loader_setting_position(rg->ld, s, &owned, &rg->default_origins[*k].line);

        /* The file's name outlives the register in the Loader's list of them. */
        rg->default_origins[*k].file = loader_add_file_name(rg->ld, file);
        (*k)++;
        if (config_setting_is_aggregate(s))
                for (int i = 0; i < config_setting_length(s); i++)
                        note_origins(rg, config_setting_get_elem(s, (unsigned) i), k);
}

/* A copy of from as a member (or element) of parent, its origin the original's. */
static int copy_setting(Register *rg, const config_setting_t *from, config_setting_t *parent,
                        size_t *k) {
        int type = config_setting_type(from);
        config_setting_t *to = config_setting_add(
                parent,
                config_setting_type(parent) == CONFIG_TYPE_GROUP ? config_setting_name(from) : NULL,
                type);

        if (!to)
                return -ENOMEM;
        config_setting_set_hook(to, &rg->default_origins[(*k)++]);
        switch (type) {
        case CONFIG_TYPE_INT:
                (void) config_setting_set_int(to, config_setting_get_int(from));
                break;
        case CONFIG_TYPE_INT64:
                (void) config_setting_set_int64(to, config_setting_get_int64(from));
                break;
        case CONFIG_TYPE_FLOAT:
                (void) config_setting_set_float(to, config_setting_get_float(from));
                break;
        case CONFIG_TYPE_BOOL:
                (void) config_setting_set_bool(to, config_setting_get_bool(from));
                break;
        case CONFIG_TYPE_STRING:
                if (!config_setting_set_string(to, config_setting_get_string(from)))
                        return -ENOMEM;
                break;
        default:
                for (int i = 0; i < config_setting_length(from); i++)
                        if (copy_setting(rg, config_setting_get_elem(from, (unsigned) i), to, k) <
                            0)
                                return -ENOMEM;
        }
        return 0;
}

/* ---- a row ---- */

/* A list cell: ids separated by one or more spaces. */
static int add_id_list(config_setting_t *row, const char *key, const char *cell) {
        config_setting_t *a = config_setting_add(row, key, CONFIG_TYPE_ARRAY);

        if (!a)
                return -ENOMEM;
        for (const char *p = cell; *p;) {
                size_t n;
                char *id;

                p += strspn(p, " ");
                n = strcspn(p, " ");
                if (n == 0)
                        break;
                id = strndup(p, n);
                if (!id || !config_setting_set_string_elem(a, -1, id)) {
                        free(id);
                        return -ENOMEM;
                }
                free(id);
                p += n;
        }
        return 0;
}

static int add_cells(Register *rg, const CsvRow *row, config_setting_t *group) {
        for (size_t i = 0; i < row->n; i++) {
                const char *key = columns[rg->column_of[i]].key;
                config_setting_t *s;

                if (row->fields[i][0] == '\0')
                        continue; /* an empty cell is as if the column were not there */
                if (columns[rg->column_of[i]].ids) {
                        if (add_id_list(group, key, row->fields[i]) < 0)
                                return -ENOMEM;
                        continue;
                }
                s = config_setting_add(group, key, CONFIG_TYPE_STRING);
                if (!s || !config_setting_set_string(s, row->fields[i]))
                        return -ENOMEM;
        }
        return 0;
}

static int add_defaults(Register *rg, config_setting_t *group) {
        size_t k = 1; /* default_origins[0] is the defaults group itself */

        for (int i = 0; i < setting_length(rg->defaults); i++) {
                const config_setting_t *d = config_setting_get_elem(rg->defaults, (unsigned) i);

                if (config_setting_get_member(group, config_setting_name(d))) {
                        k += count_settings(d);
                        continue;
                }
                if (copy_setting(rg, d, group, &k) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int load_row(Register *rg, const CsvRow *row) {
        SettingOrigin origin = {.file = rg->path, .line = row->line};
        config_setting_t *group;
        Commitment *c;
        config_t cfg;
        int r = 0;

        config_init(&cfg);
        group = config_root_setting(&cfg);
        config_setting_set_hook(group, &origin);
        if (add_cells(rg, row, group) < 0)
                r = -ENOMEM;
        else {
                /* The strings of the defaults were checked where they are written. */
                loader_check_strings(rg->ld, group);
                if (add_defaults(rg, group) < 0)
                        r = -ENOMEM;
                else if ((c = loader_add_commitment(rg->ld, rg->path, row->line)))
                        config_load_commitment(rg->ld, group, rg->global, rg->shift, c);
        }
        config_destroy(&cfg);
        if (r < 0)
                rg->ld->out_of_memory = true;
        return rg->ld->out_of_memory ? -ENOMEM : 0;
}

static int read_header(Register *rg, const CsvRow *row) {
        rg->column_of = loader_allocate_array(rg->ld, row->n, sizeof(int));
        if (!rg->column_of)
                return -ENOMEM;
        rg->n_columns = row->n;
        for (size_t i = 0; i < row->n; i++) {
                const char *name = row->fields[i];
                char *message = NULL;

                rg->column_of[i] = -1;
                for (size_t k = 0; k < ELEMENTSOF(columns); k++)
                        if (strcmp(columns[k].key, name) == 0)
                                rg->column_of[i] = (int) k;
                for (size_t j = 0; j < i && rg->column_of[i] >= 0; j++)
                        if (rg->column_of[j] == rg->column_of[i]) {
                                if (asprintf(&message, "column '%s' is named twice", name) < 0)
                                        message = NULL;
                                break;
                        }
                if (rg->column_of[i] >= 0 && !message)
                        continue;
                if (!message && asprintf(&message,
                                         "unknown column '%s' (a column is named by a commitment "
                                         "key of noticed.conf(5); cost, policy and deadlines "
                                         "only in the register's defaults)",
                                         name) < 0)
                        message = NULL;
                loader_add_error(rg->ld, rg->path, row->line, message);
                rg->header_bad = true;
        }
        return rg->ld->out_of_memory ? -ENOMEM : 0;
}

static int on_row(const CsvRow *row, void *userdata) {
        Register *rg = userdata;
        char *message;

        if (!rg->header_read) {
                rg->header_read = true;
                return read_header(rg, row);
        }
        if (rg->header_bad)
                return 0; /* the columns cannot be trusted: the header's errors are enough */
        if (row->n != rg->n_columns) {
                if (asprintf(&message, "row has %zu fields, the header has %zu", row->n,
                             rg->n_columns) < 0)
                        message = NULL;
                loader_add_error(rg->ld, rg->path, row->line, message);
                return rg->ld->out_of_memory ? -ENOMEM : 0;
        }
        return load_row(rg, row);
}

static int on_error(unsigned line, const char *message, void *userdata) {
        Register *rg = userdata;

        loader_add_error(rg->ld, rg->path, line, loader_copy_string(rg->ld, message));
        return rg->ld->out_of_memory ? -ENOMEM : 0;
}

/* ---- the file ---- */

/* Opens the register, which must be a regular file: a FIFO would hang a reload, a device or a
 * directory is a mistake.  An fd, or -1 with the reason reported at the `file` setting. */
static int open_register(Loader *ld, const config_setting_t *file, const char *path) {
        struct stat st;
        int fd;

        /* Non-blocking, so that opening a FIFO does not wait for a writer. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                loader_fail(ld, file, "cannot read register \"%s\": %s", path, strerror(errno));
                return -1;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                loader_fail(ld, file, "register \"%s\" is not a regular file", path);
                (void) close(fd);
                return -1;
        }
        return fd;
}

static void read_register(Register *rg, const config_setting_t *file, char delimiter) {
        CsvHandler handler = {.row = on_row, .error = on_error, .userdata = rg};
        _cleanup_(csv_reader_freep) CsvReader *reader = NULL;
        _cleanup_free_ char *buffer = NULL;
        int fd, r;

        fd = open_register(rg->ld, file, rg->path);
        if (fd < 0)
                return;
        buffer = malloc(REGISTER_READ_SIZE);
        r = buffer ? csv_reader_new(delimiter, &handler, &reader) : -ENOMEM;
        while (r >= 0) {
                ssize_t n = read(fd, buffer, REGISTER_READ_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        loader_fail(rg->ld, file, "cannot read register \"%s\": %s", rg->path,
                                    strerror(errno));
                        break;
                }
                r = n == 0 ? csv_reader_finish(reader)
                           : csv_reader_feed(reader, buffer, (size_t) n);
                if (n == 0)
                        break;
        }
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees buffer */
        if (r == -ENOMEM)
                rg->ld->out_of_memory = true;
        (void) close(fd);
}

/* The register's file name as errors show it: relative to the config's directory. */
static char *register_path(Loader *ld, const char *file) {
        char *path;

        if (file[0] == '/' || !ld->include_dir)
                return loader_copy_string(ld, file);
        if (asprintf(&path, "%s/%s", ld->include_dir, file) < 0) {
                ld->out_of_memory = true;
                return NULL;
        }
        return path;
}

static bool load_delimiter(Loader *ld, const config_setting_t *g, char *ret) {
        const config_setting_t *s =
                loader_member(ld, g, "delimiter", VALUE_STRING, false, "register");
        const char *v;

        *ret = ',';
        if (!s)
                return true;
        v = config_setting_get_string(s);
        if (strlen(v) != 1 || strchr("\"\r\n", v[0])) {
                loader_fail(ld, s, "delimiter \"%s\" must be one character, not a quote", v);
                return false;
        }
        *ret = v[0];
        return true;
}

static void load_defaults(Register *rg, const config_setting_t *g) {
        const config_setting_t *d =
                loader_member(rg->ld, g, "defaults", VALUE_GROUP, false, "register");
        size_t k = 0;

        if (!d)
                return;
        /* Every commitment key but the id, which is each row's own. */
        loader_check_keys(rg->ld, d, config_commitment_keys + 1, "the register's defaults");
        rg->default_origins =
                loader_allocate_array(rg->ld, count_settings(d), sizeof(SettingOrigin));
        if (!rg->default_origins)
                return;
        note_origins(rg, d, &k);
        rg->defaults = d;
}

static void load_register(Loader *ld, const config_setting_t *g, const PolicySettings *global,
                          Shift shift) {
        static const char *const keys[] = {"file", "delimiter", "defaults", NULL};
        const config_setting_t *file;
        _cleanup_free_ char *path = NULL;
        Register rg = {.ld = ld, .global = global, .shift = shift};
        char delimiter;
        bool ok;

        loader_check_keys(ld, g, keys, "register");
        ok = load_delimiter(ld, g, &delimiter);
        load_defaults(&rg, g);
        file = loader_member(ld, g, "file", VALUE_STRING, true, "register");
        if (file && ok && !ld->out_of_memory &&
            (path = register_path(ld, config_setting_get_string(file)))) {
                rg.path = loader_add_file_name(ld, path);
                if (rg.path)
                        read_register(&rg, file, delimiter);
        }
        free(rg.default_origins);
        free(rg.column_of);
}

void config_load_registers(Loader *ld, const config_setting_t *root, const PolicySettings *global,
                           Shift shift) {
        const config_setting_t *list =
                loader_member(ld, root, "registers", VALUE_LIST, false, "the config");

        for (int i = 0; i < setting_length(list) && !ld->out_of_memory; i++)
                load_register(ld, config_setting_get_elem(list, (unsigned) i), global, shift);
}
