#pragma once
/* noticectl's commands: the Context they share, the helpers they all use, and each command.
 *
 * One header for one family, as curl's vtls_int.h is for vtls/: ctl.c (the shared helpers),
 * ctl-plan.c (check, list, simulate, export-ics), ctl-history.c (history), ctl-ledger.c
 * (decide, revoke), ctl-upcoming.c (upcoming) and ctl-testsend.c (test-send).  They share the
 * Context and the helpers, and noticectl.c's command table needs every cmd_*: headers of their
 * own would each repeat the Context or include this one.  Everything here prints (results on
 * stdout, "noticectl: ..." on stderr) and returns an exit status (sysexits.h), never -errno. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "noticed/date.h"
#include "noticed/ledger.h"
#include "noticed/model.h"

/* What the global options say, and the model once a command has loaded it. */
typedef struct Context {
        const char *config_path;
        bool have_today; /* --today given; else ctl_load_model() sets today */
        Date today;
        Model *model; /* NULL until ctl_load_model(); main() frees it */
} Context;

/* noticectl --help, which every command's --help prints too. */
void ctl_help(void);
/* "noticectl: " format "\nTry 'noticectl --help'." on stderr; returns EX_USAGE. */
int ctl_usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* A YYYY-MM-DD option value into *ret: 0, or EX_USAGE after saying so. */
int ctl_parse_date(const char *option, const char *value, Date *ret);
/* Loads ctx->config_path into ctx->model, its errors printed as FILE:LINE; sets ctx->today from
 * the clock in the config's zone unless --today was given.  0, EX_CONFIG or EX_UNAVAILABLE. */
int ctl_load_model(Context *ctx);
/* Opens the ledger the daemon uses (ledger.h says where).  With must_exist, a missing file is
 * reported on stderr (0, *ret NULL) rather than created: reading must not leave an empty ledger
 * behind; without it the state directory is made when missing.  0, or an exit status after
 * saying why. */
int ctl_open_ledger(bool must_exist, Ledger **ret);
/* "mail,webhook:teams": a JSON array of channel names joined for a table cell, cut (never
 * overrun) when it does not fit in size bytes; the JSON itself is never cut. */
void ctl_join_channels(const json_t *channels, char *buf, size_t size);
/* Flushes stdout: 0, or EX_CANTCREAT after saying that writing failed. */
int ctl_finish_output(void);

/* The commands: argv[0] is the command's name, argv[1...] its arguments. */
int cmd_check(Context *ctx, int argc, char **argv);
int cmd_list(Context *ctx, int argc, char **argv);
int cmd_simulate(Context *ctx, int argc, char **argv);
int cmd_export_ics(Context *ctx, int argc, char **argv);
int cmd_history(Context *ctx, int argc, char **argv);
int cmd_decide(Context *ctx, int argc, char **argv);
int cmd_revoke(Context *ctx, int argc, char **argv);
int cmd_test_send(Context *ctx, int argc, char **argv);
int cmd_upcoming(Context *ctx, int argc, char **argv);
