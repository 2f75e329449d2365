#pragma once
/* Validators for strings that leave the process: mail headers, addresses, URLs, identifiers.
 *
 * Every string from the config passes validate_header_text() before it can reach a mail header,
 * a URL or a JSON body (STYLE rule 8); the others check the shape of one kind of value.  They
 * return true or false (validate_time_span(), which also converts, 0 or -errno) and never log:
 * the caller knows the file and line to report.  Pure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Valid UTF-8 without control characters (C0 including CR, LF and TAB, DEL, C1). */
bool validate_header_text(const char *s);
/* An identifier used in reminder identities, Message-IDs, file names and credential names
 * ($CREDENTIALS_DIRECTORY/NAME): 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit, so
 * never a path and never hidden. */
bool validate_id(const char *s);
/* An addr-spec "local@domain" in ASCII: dot-atom local part, domain of letters, digits, '-' and
 * dots (no empty labels), or a bracketed IP literal. */
bool validate_mail_address(const char *s);
/* A mailbox split into its parts, pointing into the string it was parsed from. */
typedef struct Mailbox {
        const char *name; /* the display name without the spaces around it; NULL without one */
        size_t name_len;
        const char *address; /* the addr-spec */
        size_t address_len;
} Mailbox;
/* "addr" or "Display Name <addr>" as written in a From header; the display name may be any header
 * text without '<', '>' or '"' (mail.c quotes or encodes it).  The one parser of a mailbox: with
 * ret not NULL, its parts go there. */
bool validate_mailbox(const char *s, Mailbox *ret);

/* The host of "scheme://host[:port][/path]" with a valid port (1..65535) and no user info,
 * spaces or control characters.  Copies the host (without IPv6 brackets) into host and returns
 * true; false when the URL is malformed or the host does not fit. */
bool validate_url_host(const char *url, char *host, size_t host_size);
/* localhost, 127.0.0.0/8 or ::1. */
bool validate_host_is_loopback(const char *host);

/* A time span such as "30s", "1m", "2h" or "7d": a count without sign, spaces or leading zeros
 * and one unit, s seconds, m MINUTES, h hours or d days.  Not a calendar duration (date.h),
 * where m means months.  Returns 0 and the span in microseconds, -EINVAL for anything else
 * (empty, a fraction, no or an unknown unit), -ERANGE when it does not fit in 64 bits.  The
 * caller checks the bounds, including whether 0 is allowed. */
int validate_time_span(const char *s, uint64_t *ret_usec);
