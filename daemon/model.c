/* The model's lifetime and the little arithmetic that belongs to the data itself. */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/model.h"

static void transport_done(Transport *t) {
        free(t->id);
        free(t->url);
        free(t->from);
        free(t->from_name);
        free(t->from_address);
        free(t->envelope_from);
        free(t->username);
        free(t->password_credential);
        free(t->password_file);
        free(t->secret_credential);
        free(t->secret_file);
        free(t->ca_file);
}

static void recipient_done(Recipient *r) {
        free(r->id);
        free(r->name);
        for (size_t i = 0; i < r->n_mail; i++)
                free(r->mail[i]);
        free(r->mail);
        free(r->webhooks);
}

static void commitment_done(Commitment *c) {
        free(c->id);
        free(c->title);
        free(c->counterparty);
        free(c->reference);
        free(c->policy.offsets);
        free(c->participants);
        free(c->reviewers);
        free(c->escalate_to);
        for (size_t i = 0; i < c->n_deadlines; i++) {
                free(c->deadlines[i].id);
                free(c->deadlines[i].title);
        }
        free(c->deadlines);
}

Model *model_free(Model *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_transports; i++)
                transport_done(&m->transports[i]);
        free(m->transports);
        for (size_t i = 0; i < m->n_recipients; i++)
                recipient_done(&m->recipients[i]);
        free(m->recipients);
        for (size_t i = 0; i < m->n_commitments; i++)
                commitment_done(&m->commitments[i]);
        free(m->commitments);
        for (size_t i = 0; i < LANGUAGE_COUNT; i++)
                for (size_t j = 0; j < MESSAGE_KIND_COUNT; j++)
                        free(m->templates[i][j]);
        calendar_free(m->calendar);
        tz_free(m->tz);
        free(m->path);
        free(m);
        return NULL;
}

int language_from_string(const char *s, Language *ret) {
        if (strcmp(s, "nl") == 0)
                *ret = LANGUAGE_NL;
        else if (strcmp(s, "en") == 0)
                *ret = LANGUAGE_EN;
        else
                return -EINVAL;
        return 0;
}

bool transport_kind_carries_mail(TransportKind kind) {
        return kind == TRANSPORT_SMTP || kind == TRANSPORT_SMTPS || kind == TRANSPORT_MAILDIR ||
               kind == TRANSPORT_SENDMAIL;
}

/* population × rate: rates are in millionths, so the product is in millionths of the unit and
 * cents are that divided by 10,000, rounded half up.  config_load() bounds populations at 10^9
 * and rates at 1,000 a head (10^9 millionths), so the product stays below 10^18 < INT64_MAX. */
static int64_t micro_to_cents(int64_t population, int64_t rate_micro) {
        assert(population >= 0 && population <= 1000000000);
        assert(rate_micro >= 0 && rate_micro <= 1000000000);
        return (population * rate_micro + 5000) / 10000;
}

bool model_yearly_cost_cents(const Commitment *c, const Recipient *r, int64_t *ret_min,
                             int64_t *ret_max) {
        if (!c->cost.set || r->population < 0)
                return false;
        *ret_min = micro_to_cents(r->population, c->cost.rate_min_micro);
        *ret_max = micro_to_cents(r->population, c->cost.rate_max_micro);
        return true;
}

int model_find_commitment(const Model *m, const char *id, size_t *ret) {
        for (size_t i = 0; i < m->n_commitments; i++)
                if (strcmp(m->commitments[i].id, id) == 0) {
                        *ret = i;
                        return 0;
                }
        return -ENOENT;
}

int model_find_recipient(const Model *m, const char *id, size_t *ret) {
        for (size_t i = 0; i < m->n_recipients; i++)
                if (strcmp(m->recipients[i].id, id) == 0) {
                        *ret = i;
                        return 0;
                }
        return -ENOENT;
}

/* A transport's id is NULL only in a model config_load() is still building and ran out of memory
 * for; it names nothing. */
int model_find_transport(const Model *m, const char *id, size_t *ret) {
        for (size_t i = 0; i < m->n_transports; i++)
                if (m->transports[i].id && strcmp(m->transports[i].id, id) == 0) {
                        *ret = i;
                        return 0;
                }
        return -ENOENT;
}

char *recipient_address_lines(const Recipient *rc) {
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < rc->n_mail; i++)
                (void) fprintf(f, "%s%s", i ? "\n" : "", rc->mail[i]);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}
