/* noticectl test-send: one marked message through each of a recipient's channels, now.
 *
 * The command around testsend_run() (testsend.c): it finds the recipient, prints one line per
 * channel with what its server answered and a count, and exits 69 when any channel failed. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "noticed/ctl.h"
#include "noticed/testsend.h"

static const char *outcome_name(NetOutcome o) {
        return o == NET_OK ? "sent" : o == NET_TEMPORARY ? "FAILED (temporary)" : "FAILED";
}

int cmd_test_send(Context *ctx, int argc, char **argv) {
        TestSendResult *results = NULL;
        size_t n = 0, failed = 0, index;
        int r;

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: noticectl test-send RECIPIENT\n"
                       "Sends one clearly marked test message through each of the recipient's\n"
                       "channels, now, and says what each server answered.  Nothing is recorded;\n"
                       "nothing is retried.  Exit status 69 when any channel failed.\n");
                return EX_OK;
        }
        if (argc != 2)
                return ctl_usage_error("test-send takes one RECIPIENT");
        if (argv[1][0] == '-')
                return ctl_usage_error("test-send: unknown option '%s'", argv[1]);
        if ((r = ctl_load_model(ctx)))
                return r;
        if (model_find_recipient(ctx->model, argv[1], &index) < 0) {
                fprintf(stderr, "noticectl: no recipient '%s' in %s\n", argv[1], ctx->config_path);
                return EX_DATAERR;
        }
        r = testsend_run(ctx->model, &ctx->model->recipients[index], (int64_t) time(NULL), &results,
                         &n);
        if (r < 0) {
                fprintf(stderr, "noticectl: cannot send: %s\n", strerror(-r));
                return EX_UNAVAILABLE;
        }
        if (n == 0) {
                fprintf(stderr, "noticectl: recipient '%s' has no channel to test\n", argv[1]);
                return EX_DATAERR;
        }
        for (size_t i = 0; i < n; i++) {
                printf("%s via %s (%s): %s: %s\n", results[i].channel, results[i].transport->id,
                       results[i].transport->url, outcome_name(results[i].outcome),
                       results[i].reply);
                failed += results[i].outcome != NET_OK;
        }
        printf("%zu of %zu channel%s failed\n", failed, n, n == 1 ? "" : "s");
        testsend_results_free(results, n);
        r = ctl_finish_output();
        return r ? r : failed > 0 ? EX_UNAVAILABLE : EX_OK;
}
