#pragma once
/* The config loader's private surface, shared by config.c and its family (config-schema.c,
 * config-transport.c, config-recipient.c, config-commitment.c); include/noticed/config.h stays
 * the public one.
 *
 * A Loader is one walk over one file and the registers it names (config-register.c).  Every helper
 * that meets a problem records it, with the file and line of the setting, through loader_fail() and
 * goes on; a value that failed is left at its default.  Out of memory is remembered in the Loader,
 * never returned: config_load() checks it once at the end.  Nothing here logs. */

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "noticed/config.h"

/* Where a commitment was written: the config's list element or a register's row. */
typedef struct CommitmentOrigin {
        const char *file; /* one of Loader.file_names */
        unsigned line;
} CommitmentOrigin;

/* The place a setting that the loader made itself stands for, set as its libconfig hook
 * (config_setting_set_hook()): a register's row is built as a small tree of its own, and its
 * errors must name the register's line, or the config's line of a default it took. */
typedef struct SettingOrigin {
        const char *file; /* NULL: the config file itself */
        unsigned line;
} SettingOrigin;

typedef struct Loader {
        const char *path;
        const char *include_dir; /* where libconfig resolved relative @include names */
        ConfigErrors *errors;
        size_t errors_allocated;
        bool out_of_memory;
        Model *model;
        size_t *recipients_by_id; /* indices into model->recipients, sorted by id */
        bool recipients_unusable; /* 'recipients' itself is broken: skip follow-on errors */
        size_t commitments_allocated;
        CommitmentOrigin *origins; /* one per model->commitments */
        char **file_names;         /* the files commitments came from, each once */
        size_t n_file_names;
} Loader;

/* The types a setting is checked against, named in messages as the file spells them. */
typedef enum ValueType {
        VALUE_STRING,
        VALUE_INTEGER,
        VALUE_NUMBER, /* integer or float */
        VALUE_BOOL,
        VALUE_GROUP,
        VALUE_LIST,         /* a list ( ... ) of groups */
        VALUE_STRING_ARRAY, /* [ "a", "b" ] or ( "a", "b" ) */
} ValueType;

/* ---- errors (config-schema.c) ---- */

/* The name to report for a file libconfig names (NULL: the config file itself).  libconfig
 * records an @include name as written; a relative one is given with the directory it was found
 * in, so that FILE:LINE can be opened: then *owned holds the name (malloc'd), else NULL. */
const char *loader_file_name(const Loader *ld, const char *file, char **owned);
/* Records an error; takes message (malloc'd; NULL records out of memory instead). */
void loader_add_error(Loader *ld, const char *file, unsigned line, char *message);
/* Records an error at setting s: its file (with the include directory where libconfig kept a
 * relative @include name) and line, or its parent's. */
__attribute__((format(printf, 3, 4))) void loader_fail(Loader *ld, const config_setting_t *s,
                                                       const char *format, ...);

/* The file and line loader_fail() would report for s; *owned as for loader_file_name(). */
const char *loader_setting_position(const Loader *ld, const config_setting_t *s, char **owned,
                                    unsigned *ret_line);

/* ---- memory ---- */

/* A copy of s, NULL for NULL; NULL and out_of_memory set when the copy fails. */
char *loader_copy_string(Loader *ld, const char *s);
/* A copy of the n bytes at s, likewise. */
char *loader_copy_substring(Loader *ld, const char *s, size_t n);
/* calloc() of n (at least one) elements; NULL and out_of_memory set when it fails. */
void *loader_allocate_array(Loader *ld, size_t n, size_t size);

/* ---- settings ---- */

bool setting_type_matches(const config_setting_t *s, ValueType t);
/* The number of elements of s; 0 for NULL. */
int setting_length(const config_setting_t *s);
/* The member `key` of `group` if present and of type t; NULL when absent (reported if required)
 * or of another type (always reported).  `what` names the group in messages. */
const config_setting_t *loader_member(Loader *ld, const config_setting_t *group, const char *key,
                                      ValueType t, bool required, const char *what);
const char *loader_member_string(Loader *ld, const config_setting_t *group, const char *key,
                                 bool required, const char *what);
/* Reports each member of group whose name is not in allowed (NULL-terminated). */
void loader_check_keys(Loader *ld, const config_setting_t *group, const char *const *allowed,
                       const char *what);
/* Reports each string in s, wherever it sits, that could not go into a mail header. */
void loader_check_strings(Loader *ld, const config_setting_t *s);
/* The string setting s as a date; false when it is none (reported). */
bool loader_parse_date(Loader *ld, const config_setting_t *s, Date *ret);
/* The members of these kinds: true and *ret set, or false when absent or wrong (reported). */
bool loader_member_date(Loader *ld, const config_setting_t *group, const char *key, bool required,
                        const char *what, Date *ret);
bool loader_member_duration(Loader *ld, const config_setting_t *group, const char *key,
                            bool required, const char *what, Duration *ret);
/* The required member "id", a copy in *ret. */
bool loader_member_id(Loader *ld, const config_setting_t *group, const char *what, char **ret);
/* "language" and "deadline_shift": *ret keeps its value unless the member is set and valid. */
void loader_member_language(Loader *ld, const config_setting_t *group, const char *what,
                            Language *ret);
void loader_member_shift(Loader *ld, const config_setting_t *group, const char *what, Shift *ret);
/* Indices 0..n-1 sorted by the id that id_of() gives for each (malloc'd; NULL when out of
 * memory), each id that occurs again reported at its later element of list. */
size_t *loader_index_by_id(Loader *ld, const config_setting_t *list, size_t n,
                           const char *(*id_of)(const Model *, size_t), const char *what);

/* ---- the sections ---- */

/* A policy as written: which keys were set, so that a commitment's own override the global
 * policy one by one. */
typedef struct PolicySettings {
        bool has_offsets, has_send_time, has_working_days_only;
        Policy policy;
} PolicySettings;

/* The "policy" group of group, if any, into p (config-commitment.c). */
void config_load_policy(Loader *ld, const config_setting_t *group, const char *what,
                        PolicySettings *p);
/* "transports" and "mail_via" (config-transport.c). */
void config_load_transports(Loader *ld, const config_setting_t *root);
/* "recipients", after the transports their webhooks name (config-recipient.c). */
void config_load_recipients(Loader *ld, const config_setting_t *root);
/* The recipient with this id: 0 and its index, or -ENOENT. */
int config_find_recipient(const Loader *ld, const char *id, size_t *ret);
/* The commitment keys of noticed.conf(5), NULL-terminated. */
extern const char *const config_commitment_keys[];
/* The Loader's copy of a file name, one per file however often it is asked for; NULL when out
 * of memory (recorded).  It lives until config_load() returns. */
const char *loader_add_file_name(Loader *ld, const char *file);
/* A new, zeroed commitment at the end of the model, written at file:line (a copy of file is kept
 * in the Loader); NULL when out of memory (recorded). */
Commitment *loader_add_commitment(Loader *ld, const char *file, unsigned line);
/* One commitment group into c, with the global policy and deadline_shift. */
void config_load_commitment(Loader *ld, const config_setting_t *g, const PolicySettings *global,
                            Shift default_shift, Commitment *c);
/* "commitments", after the recipients; optional when registers names some (config.c says). */
void config_load_commitments(Loader *ld, const config_setting_t *root, const PolicySettings *global,
                             Shift shift, bool required);
/* "registers": the commitments of each CSV file it names (config-register.c). */
void config_load_registers(Loader *ld, const config_setting_t *root, const PolicySettings *global,
                           Shift shift);
/* After every commitment is loaded: each one's rank, and each id that occurs again reported
 * where it occurs with where it occurred first. */
void config_rank_commitments(Loader *ld);
/* What config_load() frees of the Loader's own. */
void loader_done(Loader *ld);
