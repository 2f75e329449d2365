/* Shape checks for strings that reach mail headers, URLs and identities.
 *
 * Kept deliberately strict and ASCII where the wire format is ASCII (addresses, hosts): a value
 * this refuses is reported with its config line, which is far cheaper than a relay or a webhook
 * receiver refusing it on a deadline day. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "noticed/macro.h"
#include "noticed/validate.h"

static bool is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool validate_header_text(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                uint32_t cp;
                int extra;

                if (*p < 0x80) {
                        if (*p < 0x20 || *p == 0x7f)
                                return false;
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0)
                        cp = *p & 0x1f, extra = 1;
                else if ((*p & 0xf0) == 0xe0)
                        cp = *p & 0x0f, extra = 2;
                else if ((*p & 0xf8) == 0xf0)
                        cp = *p & 0x07, extra = 3;
                else
                        return false;
                p++;
                for (int i = 0; i < extra; i++, p++) {
                        if ((*p & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (*p & 0x3f);
                }
                /* Overlong forms, surrogates, beyond Unicode, and the C1 controls. */
                if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
                    (extra == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
                    cp > 0x10ffff || (cp >= 0x80 && cp <= 0x9f))
                        return false;
        }
        return true;
}

bool validate_id(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64 || !is_alnum(s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(s[i]) && !strchr("._-", s[i]))
                        return false;
        return true;
}

/* 1 to max characters in runs of letters, digits and the characters in `also`, separated by
 * single dots; no leading or trailing dot. */
static bool validate_dotted(const char *s, size_t n, size_t max, const char *also) {
        bool run_start = true;

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '.') {
                        if (run_start)
                                return false;
                        run_start = true;
                } else if (is_alnum(s[i]) || (s[i] && strchr(also, s[i]))) {
                        run_start = false;
                } else
                        return false;
        }
        return !run_start;
}

/* A domain: labels of letters, digits and '-'. */
static bool validate_domain(const char *s, size_t n) {
        return validate_dotted(s, n, 253, "-");
}

/* A local part (RFC 5322 dot-atom). */
static bool validate_dot_atom(const char *s, size_t n) {
        return validate_dotted(s, n, 64, "!#$%&'*+/=?^_`{|}~-");
}

static bool validate_address_range(const char *s, size_t n) {
        const char *at = memchr(s, '@', n);
        size_t local, domain;

        if (!at || memchr(at + 1, '@', n - (size_t) (at - s) - 1))
                return false;
        local = (size_t) (at - s);
        domain = n - local - 1;
        if (!validate_dot_atom(s, local))
                return false;
        if (domain > 2 && at[1] == '[' && s[n - 1] == ']') {
                for (size_t i = 2; i < domain; i++)
                        if (!is_alnum(at[i]) && !strchr(".:", at[i]))
                                return false;
                return true;
        }
        return validate_domain(at + 1, domain);
}

bool validate_mail_address(const char *s) {
        return validate_address_range(s, strlen(s));
}

bool validate_mailbox(const char *s, Mailbox *ret) {
        const char *lt = strchr(s, '<'), *name = s;
        size_t n = strlen(s), name_len;

        if (!validate_header_text(s))
                return false;
        if (!lt) {
                if (!validate_address_range(s, n))
                        return false;
                if (ret)
                        *ret = (Mailbox){.address = s, .address_len = n};
                return true;
        }
        if (n < 2 || s[n - 1] != '>' || strchr(lt + 1, '<') || strchr(s, '"'))
                return false;
        for (const char *p = s; p < lt; p++)
                if (*p == '>')
                        return false;
        if (!validate_address_range(lt + 1, (size_t) (s + n - 1 - lt - 1)))
                return false;
        for (name_len = (size_t) (lt - s); name_len > 0 && name[0] == ' '; name_len--)
                name++;
        while (name_len > 0 && name[name_len - 1] == ' ')
                name_len--;
        if (ret)
                *ret = (Mailbox){.name = name_len > 0 ? name : NULL,
                                 .name_len = name_len,
                                 .address = lt + 1,
                                 .address_len = (size_t) (s + n - 1 - lt - 1)};
        return true;
}

bool validate_url_host(const char *url, char *host, size_t host_size) {
        const char *p = strstr(url, "://"), *start, *end;
        size_t n;

        if (!p || !validate_header_text(url) || strchr(url, ' '))
                return false;
        start = p + 3;
        if (*start == '[') {
                end = strchr(start, ']');
                if (!end)
                        return false;
                start++;
                p = end + 1;
        } else {
                end = start + strcspn(start, ":/?#");
                p = end;
        }
        n = (size_t) (end - start);
        if (n == 0 || n >= host_size || memchr(start, '@', n))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(start[i]) && !strchr(".-:", start[i]))
                        return false;
        if (*p == ':') {
                char *port_end;
                long port = strtol(p + 1, &port_end, 10);
                if (port_end == p + 1 || port < 1 || port > 65535 ||
                    (*port_end && *port_end != '/'))
                        return false;
                p = port_end;
        }
        if (*p && *p != '/' && *p != '?')
                return false;
        memcpy(host, start, n);
        host[n] = '\0';
        return true;
}

bool validate_host_is_loopback(const char *host) {
        if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
                return true;
        if (strncmp(host, "127.", 4) == 0) {
                int parts = 2; /* "127" and the one after the first dot */
                for (const char *p = host + 4; *p; p++) {
                        if (*p == '.')
                                parts++;
                        else if (*p < '0' || *p > '9')
                                return false;
                }
                return parts == 4;
        }
        return false;
}

int validate_time_span(const char *s, uint64_t *ret_usec) {
        static const struct {
                char unit;
                uint64_t usec;
        } units[] = {
                {'s', USEC_PER_SEC},
                {'m', USEC_PER_MINUTE},
                {'h', USEC_PER_HOUR},
                {'d', USEC_PER_DAY},
        };
        size_t digits = strspn(s, "0123456789");
        uint64_t count = 0, per_unit = 0;

        if (digits == 0 || s[digits] == '\0' || s[digits + 1] != '\0' ||
            (digits > 1 && s[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (s[digits] == units[i].unit)
                        per_unit = units[i].usec;
        if (per_unit == 0)
                return -EINVAL;
        /* The shape is right; from here on only the size can be wrong. */
        for (size_t i = 0; i < digits; i++) {
                unsigned digit = (unsigned) (s[i] - '0');
                if (count > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                count = count * 10 + digit;
        }
        if (count > UINT64_MAX / per_unit)
                return -ERANGE;
        *ret_usec = count * per_unit;
        return 0;
}
