/* The template engine (see template.h): one pass over the text, a line at a time.
 *
 * Placeholders are looked up by name in a table of VAR_COUNT entries; a template is short and
 * has few of them, so a linear search costs less than building anything better. */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/buffer.h"
#include "noticed/template.h"
#include "noticed/words.h"

static const char *const var_names[VAR_COUNT] = {
        [VAR_RECIPIENT] = "recipient",   [VAR_COMMITMENT] = "commitment",
        [VAR_TITLE] = "title",           [VAR_KIND] = "kind",
        [VAR_DEADLINE] = "deadline",     [VAR_DATE] = "date",
        [VAR_DAYS_LEFT] = "days_left",   [VAR_REMAINING] = "remaining",
        [VAR_NOTICE] = "notice",         [VAR_NOTICE_BY] = "notice_by",
        [VAR_TERM_END] = "term_end",     [VAR_RENEWAL_END] = "renewal_end",
        [VAR_TERMINATED] = "terminated", [VAR_COST] = "cost",
        [VAR_REFERENCE] = "reference",   [VAR_COUNTERPARTY] = "counterparty",
        [VAR_CONTACT] = "contact",       [VAR_MILESTONE] = "milestone",
        [VAR_ACTION] = "action",         [VAR_CONSEQUENCE] = "consequence",
        [VAR_UNDECIDED] = "undecided",
};

static int var_lookup(const char *name, size_t n) {
        for (int i = 0; i < VAR_COUNT; i++)
                if (strlen(var_names[i]) == n && memcmp(var_names[i], name, n) == 0)
                        return i;
        return -1;
}

/* Expands one line; false when a placeholder in it is empty. */
static bool expand_line(Buffer *out, const char *s, size_t n, char *const values[VAR_COUNT]) {
        bool complete = true;

        for (size_t i = 0; i < n; i++) {
                const char *close;
                int v;

                if (s[i] != '$' || i + 1 == n || (s[i + 1] != '$' && s[i + 1] != '{')) {
                        buffer_append(out, &s[i], 1);
                        continue;
                }
                if (s[++i] == '$') { /* "$$" is one '$' */
                        buffer_append(out, "$", 1);
                        continue;
                }
                close = memchr(s + i, '}', n - i);
                if (!close) { /* template_check() refuses this; it stays as written */
                        buffer_append(out, s + i - 1, n - i + 1);
                        break;
                }
                v = var_lookup(s + i + 1, (size_t) (close - s - i - 1));
                assert(v < VAR_COUNT);
                if (v >= 0 && values[v] && values[v][0])
                        buffer_puts(out, values[v]);
                else
                        complete = false;
                i = (size_t) (close - s);
        }
        return complete;
}

/* Expands a multi-line text (template_expand()). */
static void expand(Buffer *out, const char *text, char *const values[VAR_COUNT]) {
        bool last_blank = true, dropped = false;

        for (const char *line = text, *end; *line; line = *end ? end + 1 : end) {
                size_t before = out->size;
                bool blank;

                end = strchrnul(line, '\n');
                blank = end == line;
                if (blank && last_blank && dropped)
                        continue;
                if (!expand_line(out, line, (size_t) (end - line), values)) {
                        out->size = before;
                        if (out->data)
                                out->data[before] = '\0';
                        dropped = true;
                        continue;
                }
                if (*end)
                        buffer_append(out, "\n", 1);
                last_blank = blank;
                dropped = false;
        }
}

int template_check(const char *text, size_t size, unsigned *ret_line, char **ret_message) {
        const unsigned char *p = (const unsigned char *) text;
        const char *nl = memchr(text, '\n', size), *problem = NULL;
        size_t first = nl ? (size_t) (nl - text) : size;
        unsigned line = 1;
        int r;

        for (size_t i = 0, len; i < size && !problem; i += len) {
                len = utf8_char_length(p + i, size - i);
                if (len == 0)
                        problem = "invalid UTF-8";
                else if (p[i] == '\n')
                        line++;
                else if (p[i] == '\r')
                        problem = "carriage return (CR): save the file with Unix (LF) line ends";
                else if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f ||
                         (p[i] == 0xc2 && p[i + 1] < 0xa0)) /* C0, DEL, C1 */
                        problem = "control character (only newline and tab are allowed)";
        }
        if (!problem) {
                size_t spaces = 9; /* after "Subject: " */

                while (spaces < first && text[spaces] == ' ')
                        spaces++;
                line = 1;
                if (size < 9 || memcmp(text, "Subject: ", 9) != 0 || spaces == first)
                        problem = "the first line must be \"Subject: ...\"";
                else if (memchr(text, '\t', first))
                        problem = "a tab in the Subject line";
                else if (first + 1 < size && text[first + 1] != '\n') {
                        line = 2;
                        problem = "line 2 must be empty: it separates the Subject line from the "
                                  "body";
                }
        }
        for (size_t i = 0; !problem && i + 1 < size; i++) {
                const char *end, *close;

                if (text[i] == '\n')
                        line++;
                if (text[i] != '$' || (text[i + 1] != '$' && text[i + 1] != '{'))
                        continue;
                if (text[++i] == '$') /* "$$" */
                        continue;
                end = memchr(text + i, '\n', size - i);
                close = memchr(text + i, '}', (size_t) ((end ? end : text + size) - (text + i)));
                if (!close) {
                        r = asprintf(ret_message,
                                     "unterminated placeholder \"${\" (write \"$$\" for a '$')");
                        goto finish;
                }
                if (var_lookup(text + i + 1, (size_t) (close - text) - i - 1) < 0) {
                        r = asprintf(ret_message, "unknown placeholder \"$%.*s\"",
                                     (int) (close - text - (ptrdiff_t) i + 1), text + i);
                        goto finish;
                }
                i = (size_t) (close - text);
        }
        if (!problem)
                return 0;
        r = asprintf(ret_message, "%s", problem);
finish:
        *ret_line = line;
        if (r < 0) {
                *ret_message = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

int template_expand(const char *text, char *const values[VAR_COUNT], char **ret) {
        Buffer b = {0};

        expand(&b, text, values);
        *ret = buffer_take(&b, NULL);
        return *ret ? 0 : -ENOMEM;
}

int template_expand_message(const char *text, char *const values[VAR_COUNT], char **ret_subject,
                            char **ret_body) {
        Buffer subject = {0}, body = {0};
        const char *nl;
        char *s, *b;

        if (strncmp(text, "Subject: ", 9) != 0) /* template_check() refuses this */
                return -EINVAL;
        nl = strchrnul(text, '\n');
        (void) expand_line(&subject, text + 9, (size_t) (nl - text - 9), values);
        expand(&body, *nl == '\0' ? nl : nl[1] == '\n' ? nl + 2 : nl + 1, values);
        s = buffer_take(&subject, NULL);
        b = buffer_take(&body, NULL);
        if (!s || !b) {
                free(s);
                free(b);
                return -ENOMEM;
        }
        *ret_subject = s;
        *ret_body = b;
        return 0;
}

const char *template_builtin(Language language, MessageKind kind) {
        return words_of(language)->templates[kind];
}
