#pragma once
/* The audit trail: decisions people recorded and what the ledger says about every reminder.
 *
 * `noticectl decide` and `noticectl history` are thin shells around this module: it checks a
 * decision against the config before the ledger records it, names who recorded it, and prints
 * the trail, filtered, as a table that fits HISTORY_COLUMNS in the config's language or as JSON
 * (one element per line, oldest first, everything kept).  Never logs. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "noticed/ledger.h"
#include "noticed/model.h"
#include "noticed/tz.h"
#include "noticed/words.h"

#define HISTORY_COLUMNS 100 /* the table's width; only --json keeps every byte of a reply */

/* What --state takes: the ledger's states (ledger_state_to_string()) and "decided", the rows of
 * the decision trail (revocations too). */
#define HISTORY_STATE_ANY     (-1)
#define HISTORY_STATE_DECIDED _LEDGER_STATE_MAX
#define HISTORY_STATE_NAMES   "sent, failed, skipped, queued, pending, decided"
/* 0 and *ret a LedgerState or HISTORY_STATE_DECIDED, or -EINVAL. */
int history_state_from_string(const char *s, int *ret);

/* Which rows history shows; every filter set must hold. */
typedef struct HistoryFilter {
        const char *commitment; /* its rows and decisions; NULL: every commitment */
        const char *recipient;  /* rows to it and decisions of it as participant; NULL: all */
        int state;              /* HISTORY_STATE_ANY, a LedgerState or HISTORY_STATE_DECIDED */
        usec_t since_usec;      /* rows settled and decisions recorded at or after it; 0: all */
} HistoryFilter;

/* Is this a decision the config can have: a known commitment, a cycle it has (only 1 unless
 * the renewal is tacit, none after the one `terminated` ends), one of its participants?  0, or
 * -EINVAL with *ret_error set to a static message. */
int history_check_decision(const Model *m, const char *commitment, uint32_t cycle,
                           const char *participant, const char **ret_error);

/* Who runs this: the login of the real user id, with the user sudo was run by when there was
 * one ("root (sudo by alice)").  Malloc'd; 0 or -ENOMEM. */
int history_invoking_user(char **ret);

/* Prints the decisions and reminder rows that pass filter in the order they happened, local
 * times in zone tz and labels and states in words w (the config's; it needs nothing else of the
 * config, so that the trail can be read when the config is broken).  The table's details are
 * wrapped, and shortened with "…" past three lines, to fit HISTORY_COLUMNS; a one-off
 * deadline's rows name the deadline ("deadline:ID").  0, or -errno (the ledger, -ENOMEM). */
int history_print(FILE *out, Ledger *l, const Tz *tz, const Words *w, const HistoryFilter *filter,
                  bool json);
