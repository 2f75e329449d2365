/* noticectl: the administrator's tool — the global options and the command table.
 *
 * The commands live in the ctl family (ctl.h): what the config plans in ctl-plan.c, the ledger
 * in ctl-ledger.c, test-send in ctl-testsend.c, and what they share in ctl.c.  This file reads
 * -c and --today, picks the command and hands it the rest of the arguments. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "noticed/config.h"
#include "noticed/ctl.h"
#include "noticed/macro.h"

static const struct {
        const char *name;
        int (*run)(Context *ctx, int argc, char **argv);
} commands[] = {
        {"check", cmd_check},         {"list", cmd_list},     {"simulate", cmd_simulate},
        {"history", cmd_history},     {"decide", cmd_decide}, {"export-ics", cmd_export_ics},
        {"test-send", cmd_test_send},
        {"revoke", cmd_revoke},       {"upcoming", cmd_upcoming},
};

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"today", required_argument, NULL, 'T'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {},
        };
        Context ctx = {.config_path = CONFIG_DEFAULT_PATH};
        const char *command;
        int c, r;

        while ((c = getopt_long(argc, argv, "+c:hV", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        ctx.config_path = optarg;
                        break;
                case 'T':
                        if ((r = ctl_parse_date("--today", optarg, &ctx.today)))
                                return r;
                        ctx.have_today = true;
                        break;
                case 'h':
                        ctl_help();
                        return EX_OK;
                case 'V':
                        printf("noticectl %s\n", NOTICED_VERSION);
                        return EX_OK;
                default:
                        fprintf(stderr, "Try 'noticectl --help'.\n");
                        return EX_USAGE;
                }
        }
        if (optind >= argc)
                return ctl_usage_error("no command given");
        command = argv[optind];
        argc -= optind;
        argv += optind;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(command, commands[i].name) == 0) {
                        r = commands[i].run(&ctx, argc, argv);
                        model_free(ctx.model);
                        return r;
                }
        return ctl_usage_error("unknown command '%s'", command);
}
