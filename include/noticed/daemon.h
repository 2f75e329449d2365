#pragma once
/* The daemon: one Manager owns the config, the ledger and every event source.
 *
 * Each "pass" reads the clock once, delivers what is due (catch-up rules included), then arms
 * one absolute CLOCK_REALTIME timer for the earliest reminder not yet settled.  A pass runs at
 * start (before READY=1), when that timer fires, when the clock is set or the machine resumes,
 * and after a reload.  Between passes the process sleeps; nothing polls. */

#include <stdbool.h>

#include "noticed/macro.h"

typedef struct Manager Manager;

/* Loads the config and the secrets of its transports: every problem is logged (the config's
 * as FILE:LINE) and -EINVAL returned, whatever the cause; -ENOMEM. */
int manager_new(const char *config_path, Manager **ret);
/* Opens the ledger in state_dir (created, mode 0700, when missing); logs and returns -errno. */
int manager_open_ledger(Manager *m, const char *state_dir);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free)

/* Event sources, the first pass, READY=1, the loop, STOPPING=1.  Returns 0 after SIGTERM or
 * SIGINT, or a negative errno when the loop could not run. */
int manager_run(Manager *m);
