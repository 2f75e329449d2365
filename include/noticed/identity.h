#pragma once
/* A reminder's identity (DESIGN.md "Identity"): what makes one reminder on one channel the same
 * reminder whatever the config says next, and what keeps an escalation of it apart.
 *
 * The identity is one value, built once: from the plan (identity_from_reminder()), for an
 * escalation from the failed reminder's identity (identity_escalation()), or read back from the
 * ledger's columns.  It travels whole, through the ledger, the outbox and escalations; its id,
 * the string that is the ledger's key (with the channel), the Message-ID's hash and the
 * Idempotency-Key, is rendered by identity_make() alone and never parsed back.  Pure: values
 * in, values out; returns 0 or -errno and never logs. */

#include <stdbool.h>
#include <stdint.h>

#include "noticed/date.h"
#include "noticed/model.h"
#include "noticed/plan.h"

#define IDENTITY_OVERDUE    "overdue"
#define IDENTITY_ESCALATION "escalation"

/* Every string is owned (identity_done() frees it).  An escalation is kind "escalation", to
 * recipient by channel; its commitment, cycle, milestone and offset are the failed reminder's,
 * and failed_* say the rest of it (NULL for any other kind). */
typedef struct ReminderIdentity {
        char *commitment; /* its id */
        char *kind;       /* the milestone's kind ("decision", "deadline", ...) or "escalation" */
        char *deadline;   /* the one-off deadline's id when kind is "deadline"; NULL otherwise */
        uint32_t cycle;
        char *milestone; /* YYYY-MM-DD */
        char *offset;    /* "30d" (weeks in days) before the milestone, or "overdue" */
        char *recipient; /* its id */
        char *channel;   /* "mail" or "webhook:NAME" */
        char *failed_kind, *failed_deadline, *failed_recipient, *failed_channel;
        /* "commitment/kind/cycle/milestone/offset/recipient", a deadline's kind "deadline:ID";
         * an escalation's "commitment/escalation/cycle/milestone/KIND:OFFSET:RECIPIENT:CHANNEL/TO"
         * (the failed reminder's kind, offset, recipient, channel; TO who is told). */
        char *id;
} ReminderIdentity;

/* The identity from its parts: copies them and renders the id.  deadline may be NULL.  0,
 * -EINVAL when a required part is NULL or kind is "escalation" (identity_escalation() makes
 * those), or -ENOMEM. */
int identity_make(const char *commitment, const char *kind, const char *deadline, uint32_t cycle,
                  const char *milestone, const char *offset, const char *recipient,
                  const char *channel, ReminderIdentity *ret);
/* Channel 0 of recipient rc, "mail", or 1 + i, its webhook i: "webhook:NAME".  Malloc'd, NULL
 * when out of memory. */
char *identity_channel(const Model *m, const Recipient *rc, uint32_t channel);
/* The identity of reminder r of the plan on channel: 0 for mail, 1 + i for the recipient's
 * webhook i ("webhook:NAME").  0 or -ENOMEM. */
int identity_from_reminder(const Model *m, const Reminder *r, uint32_t channel,
                           ReminderIdentity *ret);
/* The identity of the escalation of failed to recipient to by channel.  0, -EINVAL (failed is
 * an escalation itself, or a string is NULL), or -ENOMEM. */
int identity_escalation(const ReminderIdentity *failed, const char *to, const char *channel,
                        ReminderIdentity *ret);
/* Frees the strings and zeroes x; NULL-safe. */
void identity_done(ReminderIdentity *x);

/* The offset as the identity spells it: "30d" (weeks in days: "1w" is "7d"), or "overdue". */
char *identity_offset(const Reminder *r, char buf[static DURATION_STRING_MAX]);

static inline bool identity_is_overdue(const ReminderIdentity *x) {
        return x->offset && __builtin_strcmp(x->offset, IDENTITY_OVERDUE) == 0;
}

static inline bool identity_is_escalation(const ReminderIdentity *x) {
        return x->kind && __builtin_strcmp(x->kind, IDENTITY_ESCALATION) == 0;
}
