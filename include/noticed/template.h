#pragma once
/* Template: the one engine that expands every text noticed writes, built-in or the
 * administrator's (noticed.conf(5) "Templates").
 *
 * "${name}" is a placeholder and "$$" one '$'; a line whose placeholder is empty is left out, so
 * that a template needs no conditionals for a missing cost or reference.  A message template is
 * "Subject: ..." on line 1, an empty line 2 and the body.  The values are strings by
 * TemplateVar, NULL or "" where empty.  Pure: returns 0 or -errno and never logs. */

#include <stddef.h>

#include "noticed/model.h"

/* The placeholders, "${recipient}" to "${undecided}" (noticed.conf(5) lists what each says). */
typedef enum TemplateVar {
        VAR_RECIPIENT,
        VAR_COMMITMENT,
        VAR_TITLE,
        VAR_KIND,
        VAR_DEADLINE,
        VAR_DATE,
        VAR_DAYS_LEFT,
        VAR_REMAINING,
        VAR_NOTICE,
        VAR_NOTICE_BY,
        VAR_TERM_END,
        VAR_RENEWAL_END,
        VAR_TERMINATED,
        VAR_COST,
        VAR_REFERENCE,
        VAR_COUNTERPARTY,
        VAR_CONTACT,
        /* Sentences, expanded in this order from the phrases of words.h. */
        VAR_MILESTONE,
        VAR_ACTION,
        VAR_CONSEQUENCE,
        VAR_UNDECIDED,
        VAR_COUNT,
} TemplateVar;

/* Checks a template's text as config_load() reads it from a file: valid UTF-8 without control
 * characters other than newline and tab, "Subject: ..." on line 1, line 2 empty, and only known
 * ${placeholders}.  Returns 0; -EINVAL with the 1-based line and a message (malloc'd) naming the
 * problem; -ENOMEM. */
int template_check(const char *text, size_t size, unsigned *ret_line, char **ret_message);

/* A multi-line text expanded: a line with an empty placeholder is left out, and so is an empty
 * line that would then follow another empty line.  Returns 0 and the text (malloc'd), or
 * -ENOMEM. */
int template_expand(const char *text, char *const values[VAR_COUNT], char **ret);
/* A message template expanded into its subject (the rest of line 1, where an empty placeholder
 * is just empty) and its body.  Returns 0, -ENOMEM, or -EINVAL for a template without
 * "Subject: " (which template_check() refuses). */
int template_expand_message(const char *text, char *const values[VAR_COUNT], char **ret_subject,
                            char **ret_body);

/* The built-in message template (words.h), for a language without a file of its own. */
const char *template_builtin(Language language, MessageKind kind);
