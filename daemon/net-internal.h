#pragma once
/* Net's private surface, shared by net.c (curl driven by sd-event) and net-outcome.c (what a
 * finished transfer's codes mean); include/noticed/net.h stays the public one. */

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "noticed/net.h"

/* The reply handed to callbacks: at most 511 bytes and its NUL. */
#define NET_REPLY_MAX 512

/* Copies at most NET_REPLY_MAX - 1 bytes of src, without its line end, each byte outside
 * printable ASCII replaced by '?': the reply goes to the journal, the ledger and JSON output,
 * and a server decides what it contains. */
void net_reply_copy(char dst[static NET_REPLY_MAX], const char *src, size_t size);

/* Fills res->outcome, res->code and res->reply (NET_REPLY_MAX bytes, the caller's) for a
 * transfer that ended with result, the server's last reply code (0: none), its last reply line
 * or HTTP status line, and curl's error text ("" when none of either). */
void net_outcome_of(bool smtp, CURLcode result, long code, const char *line, const char *error,
                    NetResult *res);

/* Fills res for an SMTP transfer that net stopped because the configured login was not used:
 * the server offered no AUTH (starttls_offered: it offered STARTTLS, which the transfer did not
 * use, and perhaps AUTH after it).  Permanent, as a refused login is. */
void net_outcome_login_unused(bool starttls_offered, NetResult *res);
