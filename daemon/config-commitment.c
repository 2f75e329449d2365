/* The config's commitments and the reminder policy, global or a commitment's own.
 *
 * A commitment's terms (start, term, renewal, notice, review), its people (participants,
 * reviewers, escalate_to: ids resolved against the recipients), its cost and one-off
 * deadlines.  Its policy is the global one overridden key by key. */

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "noticed/macro.h"

/* ---- policy ---- */

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
                loader_fail(ld, s, "'offsets' must list 1 to %d durations", POLICY_MAX_OFFSETS);
                return;
        }
        offsets = loader_allocate_array(ld, n, sizeof(Duration));
        if (!offsets)
                return;
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                int r = duration_parse(config_setting_get_string(e), true, &offsets[i]);

                if (r == -EDOM)
                        loader_fail(ld, e,
                                    "offset \"%s\" is the day itself: write \"0d\" (only \"0d\" "
                                    "names it, so that a reminder has one identity)",
                                    config_setting_get_string(e));
                else if (r < 0)
                        loader_fail(ld, e,
                                    "offset \"%s\" is not a duration (\"90d\", \"2w\", \"1m\", "
                                    "\"0d\" for the day itself)",
                                    config_setting_get_string(e));
                ok = ok && r >= 0;
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

void config_load_policy(Loader *ld, const config_setting_t *group, const char *what,
                        PolicySettings *p) {
        static const char *const keys[] = {"offsets", "send_time", "working_days_only", NULL};
        const config_setting_t *pol = loader_member(ld, group, "policy", VALUE_GROUP, false, what);
        const config_setting_t *s;

        if (!pol)
                return;
        loader_check_keys(ld, pol, keys, "policy");
        s = loader_member(ld, pol, "offsets", VALUE_STRING_ARRAY, false, "policy");
        if (s)
                load_offsets(ld, s, p);
        s = loader_member(ld, pol, "send_time", VALUE_STRING, false, "policy");
        if (s) {
                if (parse_send_time(config_setting_get_string(s), &p->policy.send_time))
                        p->has_send_time = true;
                else
                        loader_fail(ld, s,
                                    "send_time \"%s\" must be local time \"HH:MM\" or \"HH:MM:SS\"",
                                    config_setting_get_string(s));
        }
        s = loader_member(ld, pol, "working_days_only", VALUE_BOOL, false, "policy");
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
        ret->offsets = loader_allocate_array(ld, offsets_from->n_offsets, sizeof(Duration));
        if (ret->offsets) {
                memcpy(ret->offsets, offsets_from->offsets,
                       offsets_from->n_offsets * sizeof(Duration));
                ret->n_offsets = offsets_from->n_offsets;
        }
}

/* ---- commitments ---- */

static void load_recipient_list(Loader *ld, const config_setting_t *g, const char *key,
                                bool required, const char *what, size_t **ret, size_t *ret_n) {
        const config_setting_t *s = loader_member(ld, g, key, VALUE_STRING_ARRAY, required, what);
        size_t n;

        if (!s)
                return;
        n = (size_t) config_setting_length(s);
        if (n == 0 && required) {
                loader_fail(ld, s, "'%s' must name at least one recipient", key);
                return;
        }
        *ret = loader_allocate_array(ld, n, sizeof(size_t));
        if (!*ret)
                return;
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *id = config_setting_get_string(e);
                bool duplicate = false;
                size_t r;

                if (config_find_recipient(ld, id, &r) < 0) {
                        if (!ld->recipients_unusable)
                                loader_fail(ld, e, "%s: unknown recipient '%s'", key, id);
                        continue;
                }
                for (size_t j = 0; j < *ret_n; j++)
                        duplicate = duplicate || (*ret)[j] == r;
                if (duplicate)
                        loader_fail(ld, e, "%s: recipient '%s' is listed twice", key, id);
                else
                        (*ret)[(*ret_n)++] = r;
        }
}

static bool number_to_micro(Loader *ld, const config_setting_t *s, int64_t *ret) {
        double v = config_setting_type(s) == CONFIG_TYPE_FLOAT
                           ? config_setting_get_float(s)
                           : (double) config_setting_get_int64(s);

        if (!(v >= 0 && v <= 1000)) {
                loader_fail(ld, s, "per_inhabitant rate must be between 0 and 1000");
                return false;
        }
        *ret = llround(v * 1e6);
        return true;
}

static void load_cost(Loader *ld, const config_setting_t *g, Commitment *c) {
        static const char *const keys[] = {"per_inhabitant", "currency", "from", NULL};
        const config_setting_t *cost =
                loader_member(ld, g, "cost", VALUE_GROUP, false, "commitment");
        const config_setting_t *s;
        const char *cur;
        bool ok = true;

        if (!cost)
                return;
        loader_check_keys(ld, cost, keys, "cost");
        s = config_setting_get_member(cost, "per_inhabitant");
        if (!s) {
                loader_fail(ld, cost, "cost: missing 'per_inhabitant'");
                ok = false;
        } else if (setting_type_matches(s, VALUE_NUMBER)) {
                ok = number_to_micro(ld, s, &c->cost.rate_min_micro);
                c->cost.rate_max_micro = c->cost.rate_min_micro;
        } else if (config_setting_type(s) == CONFIG_TYPE_ARRAY &&
                   (config_setting_length(s) == 1 || config_setting_length(s) == 2) &&
                   setting_type_matches(config_setting_get_elem(s, 0), VALUE_NUMBER)) {
                int last = config_setting_length(s) - 1;
                ok = number_to_micro(ld, config_setting_get_elem(s, 0), &c->cost.rate_min_micro) &&
                     number_to_micro(ld, config_setting_get_elem(s, (unsigned) last),
                                     &c->cost.rate_max_micro);
                if (ok && c->cost.rate_min_micro > c->cost.rate_max_micro) {
                        loader_fail(ld, s, "per_inhabitant range [min, max] has min above max");
                        ok = false;
                }
        } else {
                loader_fail(ld, s, "'per_inhabitant' must be a number or a range [min, max]");
                ok = false;
        }
        cur = loader_member_string(ld, cost, "currency", true, "cost");
        if (cur && (strlen(cur) != 3 || strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)) {
                loader_fail(ld, config_setting_get_member(cost, "currency"),
                            "currency '%s' must be an ISO 4217 code such as \"EUR\"", cur);
                cur = NULL;
        }
        c->cost.from = c->start;
        if (config_setting_get_member(cost, "from") &&
            !loader_member_date(ld, cost, "from", false, "cost", &c->cost.from))
                ok = false;
        if (ok && cur) {
                memcpy(c->cost.currency, cur, 4);
                c->cost.set = true;
        }
}

static void load_deadlines(Loader *ld, const config_setting_t *g, Commitment *c) {
        static const char *const keys[] = {"id", "date", "title", NULL};
        const config_setting_t *list =
                loader_member(ld, g, "deadlines", VALUE_LIST, false, "commitment");
        size_t n;

        if (!list)
                return;
        n = (size_t) config_setting_length(list);
        c->deadlines = loader_allocate_array(ld, n, sizeof(OneOffDeadline));
        if (!c->deadlines)
                return;
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *d = config_setting_get_elem(list, (unsigned) i);
                OneOffDeadline *dl = &c->deadlines[c->n_deadlines++];

                loader_check_keys(ld, d, keys, "deadline");
                if (loader_member_id(ld, d, "deadline", &dl->id))
                        for (size_t j = 0; j + 1 < c->n_deadlines; j++)
                                if (c->deadlines[j].id && strcmp(c->deadlines[j].id, dl->id) == 0)
                                        loader_fail(ld, config_setting_get_member(d, "id"),
                                                    "duplicate deadline id '%s' in commitment '%s'",
                                                    dl->id, c->id ? c->id : "?");
                (void) loader_member_date(ld, d, "date", true, "deadline", &dl->date);
                dl->title = loader_copy_string(
                        ld, loader_member_string(ld, d, "title", true, "deadline"));
        }
}

/* decision_lead: the one duration of a commitment that may be zero, "0d", its default: the
 * decision is then due on the notice deadline itself. */
static void load_decision_lead(Loader *ld, const config_setting_t *g, const char *what,
                               Commitment *c) {
        const config_setting_t *s;
        const char *v;
        int r;

        c->decision_lead = (Duration){.count = 0, .unit = DURATION_DAYS};
        s = loader_member(ld, g, "decision_lead", VALUE_STRING, false, what);
        if (!s)
                return;
        if (!config_setting_get_member(g, "notice"))
                loader_fail(ld, s, "'decision_lead' needs a 'notice' period to count back from");
        v = config_setting_get_string(s);
        r = duration_parse(v, true, &c->decision_lead);
        if (r == -EDOM)
                loader_fail(ld, s,
                            "'decision_lead' = \"%s\" is zero: write \"0d\" (only \"0d\" names "
                            "the notice deadline itself)",
                            v);
        else if (r < 0)
                loader_fail(ld, s,
                            "'decision_lead' = \"%s\" is not a duration (a count and d, w, m or y: "
                            "\"6w\", \"30d\", \"0d\" for none)",
                            v);
}

static void load_terms(Loader *ld, const config_setting_t *g, Commitment *c) {
        const config_setting_t *s;
        const char *what = c->id ? c->id : "commitment";

        (void) loader_member_date(ld, g, "start", true, what, &c->start);
        (void) loader_member_duration(ld, g, "term", true, what, &c->term);
        s = loader_member(ld, g, "renewal", VALUE_STRING, true, what);
        if (s) {
                const char *v = config_setting_get_string(s);
                if (strcmp(v, "tacit") == 0)
                        c->renewal = RENEWAL_TACIT;
                else if (strcmp(v, "indefinite") == 0)
                        c->renewal = RENEWAL_INDEFINITE;
                else if (strcmp(v, "none") == 0)
                        c->renewal = RENEWAL_NONE;
                else
                        loader_fail(ld, s,
                                    "renewal '%s' must be \"none\", \"tacit\" or \"indefinite\"",
                                    v);
        }
        c->renewal_term = c->term;
        s = config_setting_get_member(g, "renewal_term");
        if (s) {
                if (c->renewal != RENEWAL_TACIT)
                        loader_fail(ld, s, "'renewal_term' applies only with renewal = \"tacit\"");
                (void) loader_member_duration(ld, g, "renewal_term", false, what, &c->renewal_term);
        }
        c->has_notice = loader_member_duration(ld, g, "notice", c->renewal != RENEWAL_NONE, what,
                                               &c->notice);
        load_decision_lead(ld, g, what, c);
        c->has_review =
                loader_member_duration(ld, g, "review_every", false, what, &c->review_every);
        c->has_terminated = loader_member_date(ld, g, "terminated", false, what, &c->terminated);
}

const char *const config_commitment_keys[] = {
        "id",           "title",        "counterparty", "reference",      "start",
        "term",         "renewal",      "renewal_term", "notice",         "decision_lead",
        "review_every", "participants", "reviewers",    "escalate_to",    "cost",
        "deadlines",    "terminated",   "policy",       "deadline_shift", NULL};

void config_load_commitment(Loader *ld, const config_setting_t *g, const PolicySettings *global,
                            Shift default_shift, Commitment *c) {
        PolicySettings own = {0};
        const char *what;

        loader_check_keys(ld, g, config_commitment_keys, "commitment");
        (void) loader_member_id(ld, g, "commitment", &c->id);
        what = c->id ? c->id : "commitment";
        c->title = loader_copy_string(ld, loader_member_string(ld, g, "title", true, what));
        c->counterparty =
                loader_copy_string(ld, loader_member_string(ld, g, "counterparty", false, what));
        c->reference =
                loader_copy_string(ld, loader_member_string(ld, g, "reference", false, what));
        load_terms(ld, g, c);
        c->deadline_shift = default_shift;
        loader_member_shift(ld, g, what, &c->deadline_shift);
        config_load_policy(ld, g, what, &own);
        merge_policy(ld, global, &own, &c->policy);
        free(own.policy.offsets);
        load_recipient_list(ld, g, "participants", true, what, &c->participants,
                            &c->n_participants);
        load_recipient_list(ld, g, "reviewers", false, what, &c->reviewers, &c->n_reviewers);
        load_recipient_list(ld, g, "escalate_to", false, what, &c->escalate_to, &c->n_escalate_to);
        load_cost(ld, g, c);
        load_deadlines(ld, g, c);
}

/* The Loader's copy of a file name, made once per file however many commitments it holds. */
const char *loader_add_file_name(Loader *ld, const char *file) {
        char **names;

        for (size_t i = 0; i < ld->n_file_names; i++)
                if (strcmp(ld->file_names[i], file) == 0)
                        return ld->file_names[i];
        names = realloc(ld->file_names, (ld->n_file_names + 1) * sizeof(char *));
        if (!names) {
                ld->out_of_memory = true;
                return NULL;
        }
        ld->file_names = names;
        names[ld->n_file_names] = loader_copy_string(ld, file);
        return names[ld->n_file_names] ? names[ld->n_file_names++] : NULL;
}

Commitment *loader_add_commitment(Loader *ld, const char *file, unsigned line) {
        Model *m = ld->model;
        const char *name = loader_add_file_name(ld, file);

        if (!name)
                return NULL;
        if (m->n_commitments == ld->commitments_allocated) {
                size_t n = ld->commitments_allocated ? ld->commitments_allocated * 2 : 16;
                Commitment *c = realloc(m->commitments, n * sizeof(Commitment));
                CommitmentOrigin *o = c ? realloc(ld->origins, n * sizeof(CommitmentOrigin)) : NULL;

                if (c)
                        m->commitments = c;
                if (!o) {
                        ld->out_of_memory = true;
                        return NULL;
                }
                ld->origins = o;
                ld->commitments_allocated = n;
        }
        ld->origins[m->n_commitments] = (CommitmentOrigin){.file = name, .line = line};
        m->commitments[m->n_commitments] = (Commitment){0};
        return &m->commitments[m->n_commitments++];
}

void config_load_commitments(Loader *ld, const config_setting_t *root, const PolicySettings *global,
                             Shift shift, bool required) {
        const config_setting_t *list =
                loader_member(ld, root, "commitments", VALUE_LIST, required, "the config");

        for (int i = 0; i < setting_length(list); i++) {
                const config_setting_t *g = config_setting_get_elem(list, (unsigned) i);
                _cleanup_free_ char *owned = NULL;
                const char *file;
                unsigned line;
                Commitment *c;

                file = loader_setting_position(ld, g, &owned, &line);
                c = loader_add_commitment(ld, file, line);
                if (!c)
                        return;
                config_load_commitment(ld, g, global, shift, c);
        }
}

/* By id, then by place (the order they were loaded in); a missing id (out of memory) as "". */
static int compare_commitments(const void *a, const void *b, void *userdata) {
        const Model *m = userdata;
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        const char *ix = m->commitments[x].id, *iy = m->commitments[y].id;
        int c = strcmp(ix ? ix : "", iy ? iy : "");

        return c != 0 ? c : (x > y) - (x < y);
}

void config_rank_commitments(Loader *ld) {
        Model *m = ld->model;
        size_t n = m->n_commitments;
        _cleanup_free_ size_t *index = n ? loader_allocate_array(ld, n, sizeof(size_t)) : NULL;

        if (!index)
                return;
        for (size_t i = 0; i < n; i++)
                index[i] = i;
        qsort_r(index, n, sizeof(size_t), compare_commitments, m); /* glibc's, with a context */
        for (size_t i = 0, first = 0; i < n; i++) {
                const char *id = m->commitments[index[i]].id;
                const CommitmentOrigin *o = &ld->origins[index[i]], *f;
                char *message;

                m->commitments[index[i]].rank = (uint32_t) i;
                if (i == 0 || !id || !m->commitments[index[first]].id ||
                    strcmp(m->commitments[index[first]].id, id) != 0) {
                        first = i;
                        continue;
                }
                f = &ld->origins[index[first]];
                if (asprintf(&message, "duplicate commitment id '%s' (first at %s:%u)", id, f->file,
                             f->line) < 0)
                        message = NULL;
                loader_add_error(ld, o->file, o->line, message);
        }
}
