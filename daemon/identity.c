/* A reminder's identity: built once from its parts, rendered to its id once (see identity.h).
 *
 * The id's spelling is a contract: it is the ledger's key, so a changed byte would make every
 * reminder in a ledger new again and send it twice. */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/identity.h"
#include "noticed/macro.h"

void identity_done(ReminderIdentity *x) {
        if (!x)
                return;
        free(x->commitment);
        free(x->kind);
        free(x->deadline);
        free(x->milestone);
        free(x->offset);
        free(x->recipient);
        free(x->channel);
        free(x->failed_kind);
        free(x->failed_deadline);
        free(x->failed_recipient);
        free(x->failed_channel);
        free(x->id);
        *x = (ReminderIdentity){0};
}

/* A copy of s, or of NULL; false only when out of memory. */
static bool copy(const char *s, char **ret) {
        *ret = s ? strdup(s) : NULL;
        return !s || *ret;
}

/* The id: the one place that spells it. */
static char *render_id(const ReminderIdentity *x) {
        const char *colon = x->deadline ? ":" : "", *deadline = x->deadline ? x->deadline : "";
        char *id;
        int r;

        if (identity_is_escalation(x))
                r = asprintf(&id, "%s/%s/%" PRIu32 "/%s/%s%s%s:%s:%s:%s/%s", x->commitment, x->kind,
                             x->cycle, x->milestone, x->failed_kind, x->failed_deadline ? ":" : "",
                             x->failed_deadline ? x->failed_deadline : "", x->offset,
                             x->failed_recipient, x->failed_channel, x->recipient);
        else
                r = asprintf(&id, "%s/%s%s%s/%" PRIu32 "/%s/%s/%s", x->commitment, x->kind, colon,
                             deadline, x->cycle, x->milestone, x->offset, x->recipient);
        return r < 0 ? NULL : id;
}

/* x with copies of the parts (escalations: but failed_*), its id not rendered yet. */
static int copy_parts(const char *commitment, const char *kind, const char *deadline,
                      uint32_t cycle, const char *milestone, const char *offset,
                      const char *recipient, const char *channel, ReminderIdentity *x) {
        *x = (ReminderIdentity){.cycle = cycle};
        if (!commitment || !kind || !milestone || !offset || !recipient || !channel)
                return -EINVAL;
        if (!copy(commitment, &x->commitment) || !copy(kind, &x->kind) ||
            !copy(deadline, &x->deadline) || !copy(milestone, &x->milestone) ||
            !copy(offset, &x->offset) || !copy(recipient, &x->recipient) ||
            !copy(channel, &x->channel)) {
                identity_done(x);
                return -ENOMEM;
        }
        return 0;
}

int identity_make(const char *commitment, const char *kind, const char *deadline, uint32_t cycle,
                  const char *milestone, const char *offset, const char *recipient,
                  const char *channel, ReminderIdentity *ret) {
        ReminderIdentity x;
        int r;

        /* An escalation's id needs the failed reminder: identity_escalation(). */
        if (!ret || (kind && strcmp(kind, IDENTITY_ESCALATION) == 0))
                return -EINVAL;
        r = copy_parts(commitment, kind, deadline, cycle, milestone, offset, recipient, channel,
                       &x);
        if (r < 0)
                return r;
        x.id = render_id(&x);
        if (!x.id) {
                identity_done(&x);
                return -ENOMEM;
        }
        *ret = x;
        return 0;
}

char *identity_offset(const Reminder *r, char buf[static DURATION_STRING_MAX]) {
        Duration d = r->offset;

        if (r->overdue) {
                (void) snprintf(buf, DURATION_STRING_MAX, "%s", IDENTITY_OVERDUE);
                return buf;
        }
        /* "1w" and "7d" are one offset: a config edited from one to the other must not make
         * the same reminder new again. */
        if (d.unit == DURATION_WEEKS)
                d = (Duration){.count = d.count * 7, .unit = DURATION_DAYS};
        return duration_format(d, buf);
}

char *identity_channel(const Model *m, const Recipient *rc, uint32_t channel) {
        char *s;

        assert(channel == 0 || channel - 1 < rc->n_webhooks);
        if (channel == 0)
                return strdup("mail");
        if (asprintf(&s, "webhook:%s", m->transports[rc->webhooks[channel - 1]].id) < 0)
                return NULL;
        return s;
}

int identity_from_reminder(const Model *m, const Reminder *r, uint32_t channel,
                           ReminderIdentity *ret) {
        const Commitment *c = &m->commitments[r->milestone.commitment];
        const Milestone *ms = &r->milestone;
        const Recipient *rc = &m->recipients[r->recipient];
        char date[DATE_STRING_MAX], offset[DURATION_STRING_MAX];
        _cleanup_free_ char *name = identity_channel(m, rc, channel);
        int k;

        if (!name)
                return -ENOMEM;
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): _cleanup_ frees name */
        k = identity_make(c->id, milestone_kind_to_string(ms->kind),
                          ms->kind == MILESTONE_DEADLINE && ms->deadline >= 0
                                  ? c->deadlines[ms->deadline].id
                                  : NULL,
                          ms->cycle, date_format(ms->date, date), identity_offset(r, offset),
                          rc->id, name, ret);
        return k == -EINVAL ? -ENOMEM : k;
}

int identity_escalation(const ReminderIdentity *failed, const char *to, const char *channel,
                        ReminderIdentity *ret) {
        ReminderIdentity x;
        int r;

        if (!failed || identity_is_escalation(failed) || !failed->kind || !failed->recipient ||
            !failed->channel)
                return -EINVAL;
        r = copy_parts(failed->commitment, IDENTITY_ESCALATION, NULL, failed->cycle,
                       failed->milestone, failed->offset, to, channel, &x);
        if (r < 0)
                return r;
        if (!copy(failed->kind, &x.failed_kind) || !copy(failed->deadline, &x.failed_deadline) ||
            !copy(failed->recipient, &x.failed_recipient) ||
            !copy(failed->channel, &x.failed_channel) || !(x.id = render_id(&x))) {
                identity_done(&x);
                return -ENOMEM;
        }
        *ret = x;
        return 0;
}
