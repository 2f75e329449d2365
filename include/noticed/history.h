#pragma once
/* The audit trail: decisions people recorded and what the ledger says about every reminder.
 *
 * `noticectl decide` and `noticectl history` are thin shells around this module: it checks a
 * decision against the config before the ledger records it, names who recorded it, and prints
 * the trail as a table or as JSON (one element per line, oldest first).  Never logs. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "noticed/ledger.h"
#include "noticed/model.h"
#include "noticed/tz.h"

/* Is this a decision the config can have: a known commitment, a cycle it has (only 1 unless
 * the renewal is tacit, none after the one `terminated` ends), one of its participants?  0, or
 * -EINVAL with *ret_error set to a static message. */
int history_check_decision(const Model *m, const char *commitment, uint32_t cycle,
                           const char *participant, const char **ret_error);

/* Who runs this: the login of the real user id, with the user sudo was run by when there was
 * one ("root (sudo by alice)").  Malloc'd; 0 or -ENOMEM. */
int history_invoking_user(char **ret);

/* Prints decisions and reminder rows (of one commitment, or all when NULL) in the order they
 * happened, local times in zone tz (the config's; it needs nothing else of the config, so that
 * the trail can be read when the config is broken).  0, or -errno (the ledger, -ENOMEM). */
int history_print(FILE *out, Ledger *l, const Tz *tz, const char *commitment, bool json);
