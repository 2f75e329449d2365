#pragma once
/* Messages that are not reminders: the escalation of a delivery that failed, and the test
 * message of `noticectl test-send`.
 *
 * An escalation tells an escalate_to recipient that a reminder (or overdue message) could not be
 * delivered: to whom, by which channel, about which milestone, how often it was tried and what
 * the server said last.  It describes the failed reminder by the ledger's record of it rather
 * than by the plan, so that it can be written after a reload that removed the commitment.  The
 * words are Dutch or English, the recipient's language.  Pure: values in, UTF-8 text with LF
 * line endings out; returns 0 or -errno and never logs. */

#include <stdint.h>

#include "noticed/identity.h"
#include "noticed/model.h"

/* The failed reminder, as the ledger knows it. */
typedef struct Escalation {
        const ReminderIdentity *failed; /* its identity, complete */
        const char *reply;              /* the last reply or error; NULL (or "") when none */
        unsigned attempts;
} Escalation;

/* Subject and body of an escalation for a recipient who reads language.  The commitment's title
 * and the failed recipient's name come from the model when it still has them (ids otherwise).
 * The subject starts with "Niet afgeleverd:" / "Not delivered:" and passes
 * validate_header_text(); the reply is quoted on one line, control characters as spaces, cut
 * after 500 bytes.  Returns 0, -ENOMEM, or -EINVAL when a required part is NULL. */
int message_escalation_text(const Model *m, const Escalation *e, Language language,
                            char **ret_subject, char **ret_body);

/* Subject and body of the test message for recipient rc, sent by channel ("mail",
 * "webhook:NAME") at now (Unix seconds; the text shows it in the model's zone), in rc's
 * language.  The subject starts with "[noticed] Testbericht" / "[noticed] Test message" and the
 * body says plainly that nothing needs to be done.  Returns 0, -ENOMEM, -EINVAL (rc or channel
 * NULL). */
int message_test_text(const Model *m, const Recipient *rc, const char *channel, int64_t now,
                      char **ret_subject, char **ret_body);
