/* The audit trail: decisions and deliveries, as people and programs read them. */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noticed/history.h"
#include "noticed/macro.h"
#include "noticed/output.h"
#include "noticed/plan.h"
#include "noticed/tz.h"

int history_check_decision(const Model *m, const char *commitment, uint32_t cycle,
                           const char *participant, const char **ret_error) {
        const Commitment *c;
        PlanCycle previous;
        size_t index;

        if (model_find_commitment(m, commitment, &index) < 0) {
                *ret_error = "no such commitment in the config";
                return -EINVAL;
        }
        c = &m->commitments[index];
        if (!c->has_notice) {
                *ret_error = "the commitment has no notice period, so there is nothing to decide";
                return -EINVAL;
        }
        if (cycle < 1 || (c->renewal != RENEWAL_TACIT && cycle != 1)) {
                *ret_error = c->renewal == RENEWAL_TACIT
                                     ? "the cycle must be 1 or more"
                                     : "the commitment does not renew: its only cycle is 1";
                return -EINVAL;
        }
        /* A cycle exists when the one before it renews tacitly: `terminated` ends the chain. */
        if (cycle > 1 &&
            (plan_cycle(m, index, cycle - 1, &previous) < 0 || !previous.tacitly_renewed)) {
                *ret_error = "the commitment has no such cycle (it ends before it)";
                return -EINVAL;
        }
        for (size_t i = 0; i < c->n_participants; i++)
                if (strcmp(m->recipients[c->participants[i]].id, participant) == 0)
                        return 0;
        *ret_error = "not a participant of the commitment";
        return -EINVAL;
}

static char *login_of(uid_t uid) {
        struct passwd *pw = getpwuid(uid);
        char *s;

        if (pw && pw->pw_name)
                return strdup(pw->pw_name);
        if (asprintf(&s, "uid %u", (unsigned) uid) < 0)
                return NULL;
        return s;
}

int history_invoking_user(char **ret) {
        const char *sudo = getenv("SUDO_USER");
        char *login = login_of(getuid()), *s;

        if (!login)
                return -ENOMEM;
        if (!sudo || !*sudo || strcmp(sudo, login) == 0) {
                *ret = login;
                return 0;
        }
        if (asprintf(&s, "%s (sudo by %s)", login, sudo) < 0)
                s = NULL;
        free(login);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* RFC 3339 local time of a CLOCK_REALTIME µs value. */
static char *format_usec(const Tz *tz, usec_t usec, char buf[static TZ_TIMESTAMP_MAX]) {
        int64_t unix_time = (int64_t) (usec / USEC_PER_SEC);
        int32_t seconds, offset;
        Date d;

        tz_unix_to_local(tz, unix_time, &d, &seconds, &offset);
        return tz_format_rfc3339(unix_time, offset, buf);
}

static json_t *decision_json(const Tz *m, const LedgerDecision *d) {
        char at[TZ_TIMESTAMP_MAX];

        return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s*, s:s}", "type", "decision", "at",
                         format_usec(m, d->at_usec, at), "commitment", d->commitment, "cycle",
                         (json_int_t) d->cycle, "participant", d->participant, "decision",
                         decision_to_string(d->decision), "note", d->note, "user", d->user);
}

static json_t *entry_json(const Tz *m, const LedgerEntry *e) {
        const ReminderIdentity *x = &e->identity;
        char at[TZ_TIMESTAMP_MAX], due[TZ_TIMESTAMP_MAX];

        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, "
                         "s:s*, s:s*}",
                         "type", "reminder", "at", format_usec(m, e->updated_usec, at), "state",
                         ledger_state_to_string(e->state), "id", x->id, "commitment", x->commitment,
                         "cycle", (json_int_t) x->cycle, "kind", x->kind, "milestone", x->milestone,
                         "offset", x->offset, "recipient", x->recipient, "channel", x->channel,
                         "attempts", (json_int_t) e->attempts, "due",
                         format_usec(m, e->due_usec, due), "reply", e->reply, "message_id",
                         e->message_id);
}

static void print_decision_row(FILE *out, const Tz *m, const LedgerDecision *d) {
        char at[TZ_TIMESTAMP_MAX];

        fprintf(out, "%-25s  %-8s  %-22s %-10s %-5" PRIu32 " %-16s %s by %s%s%s\n",
                format_usec(m, d->at_usec, at), "decided", d->commitment, "", d->cycle,
                d->participant, decision_to_string(d->decision), d->user, d->note ? ": " : "",
                d->note ? d->note : "");
}

static void print_entry_row(FILE *out, const Tz *m, const LedgerEntry *e) {
        const ReminderIdentity *x = &e->identity;
        char at[TZ_TIMESTAMP_MAX];

        fprintf(out, "%-25s  %-8s  %-22s %-10s %-5" PRIu32 " %-16s %s %s %s (%u attempt%s)%s%s\n",
                format_usec(m, e->updated_usec, at), ledger_state_to_string(e->state),
                x->commitment, x->kind, x->cycle, x->recipient, x->milestone, x->offset, x->channel,
                e->attempts, e->attempts == 1 ? "" : "s", e->reply ? ": " : "",
                e->reply ? e->reply : "");
}

static int compare_updated(const void *a, const void *b) {
        const LedgerEntry *x = a, *y = b;
        int r;

        if (x->updated_usec != y->updated_usec)
                return x->updated_usec < y->updated_usec ? -1 : 1;
        if (x->due_usec != y->due_usec)
                return x->due_usec < y->due_usec ? -1 : 1;
        r = strcmp(x->identity.id, y->identity.id);
        return r != 0 ? r : strcmp(x->identity.channel, y->identity.channel);
}

int history_print(FILE *out, Ledger *l, const Tz *m, const char *commitment, bool json) {
        LedgerDecision *d = NULL;
        LedgerEntry *e = NULL;
        size_t n_d = 0, n_e = 0, i = 0, j = 0, shown_d = 0;
        bool first = true;
        int r;

        if ((r = ledger_decision_trail(l, &d, &n_d)) < 0)
                return r;
        if ((r = ledger_history(l, commitment, &e, &n_e)) < 0)
                goto finish;
        if (!json)
                fprintf(out, "%-25s  %-8s  %-22s %-10s %-5s %-16s %s\n", "WHEN", "STATE",
                        "COMMITMENT", "KIND", "CYCLE", "RECIPIENT", "DETAILS");
        /* Decisions come oldest first; reminders are put in the order they were settled (then by
         * due time and identity); the two merge by time. */
        if (n_e > 1)
                qsort(e, n_e, sizeof(*e), compare_updated);
        while (i < n_d || j < n_e) {
                bool take_decision;

                if (i < n_d && commitment && strcmp(d[i].commitment, commitment) != 0) {
                        i++;
                        continue;
                }
                take_decision = i < n_d && (j >= n_e || d[i].at_usec <= e[j].updated_usec);
                if (json)
                        r = output_json_element(
                                out, take_decision ? decision_json(m, &d[i]) : entry_json(m, &e[j]),
                                &first);
                else if (take_decision)
                        print_decision_row(out, m, &d[i]);
                else
                        print_entry_row(out, m, &e[j]);
                if (r < 0)
                        goto finish;
                if (take_decision) {
                        i++;
                        shown_d++;
                } else
                        j++;
        }
        if (json)
                output_json_end(out, first);
        else
                fprintf(out, "%zu reminder row%s, %zu decision%s\n", n_e, n_e == 1 ? "" : "s",
                        shown_d, shown_d == 1 ? "" : "s");
finish:
        ledger_decisions_free(d, n_d);
        ledger_entries_free(e, n_e);
        return r;
}
