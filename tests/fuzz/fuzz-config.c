/* libFuzzer harness: arbitrary bytes as noticed.conf, then the plan of what loaded.
 *
 * config_load() is the one place that reads input an administrator typed by hand; whatever it
 * accepts goes on to plan, whose loops (cycles, reviews, working-day walks) must end for any
 * model the loader lets through.  Build and run with `make fuzz` (clang's libFuzzer). */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "noticed/config.h"
#include "noticed/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char path[64];
        ConfigErrors errors;
        Model *m = NULL;
        int fd = memfd_create("noticed-fuzz", MFD_CLOEXEC);

        if (fd < 0)
                return 0;
        if (write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return 0;
        }
        (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (config_load(path, &m, &errors) == 0) {
                Milestone *ms = NULL;
                Reminder *rs = NULL;
                size_t n;
                Date from, to;

                /* Two windows: around the founding case and far ahead. */
                (void) date_parse("2019-01-01", &from);
                (void) date_parse("2021-12-31", &to);
                if (plan_milestones(m, from, to, &ms, &n) == 0)
                        free(ms);
                if (plan_reminders(m, from, from + 62, NULL, NULL, &rs, &n) == 0)
                        free(rs);
                (void) date_parse("9999-11-01", &from);
                (void) date_parse("9999-12-31", &to);
                if (plan_reminders(m, from, to, NULL, NULL, &rs, &n) == 0)
                        free(rs);
        }
        config_errors_done(&errors);
        model_free(m);
        close(fd);
        return 0;
}
