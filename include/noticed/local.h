#pragma once
/* Local delivery: a rendered message into a Maildir or through sendmail(8).
 *
 * Both are synchronous and quick (a few file operations, or one short-lived child); network
 * transports, which are neither, are driven by the event loop instead.  A call returns 0 and a
 * short reply for the ledger ("maildir: new/NAME", "sendmail: exit 0"), or -errno and a reply
 * that says what went wrong.  Nothing here logs; the caller knows which reminder it was. */

#include <stddef.h>

/* The sendmail binary; NOTICED_SENDMAIL in the environment overrides it (tests, odd systems). */
#define LOCAL_SENDMAIL "/usr/sbin/sendmail"

/* Writes the message to DIR/tmp, fsyncs it and renames it into DIR/new, as the Maildir
 * convention says; creates DIR and its tmp/, new/, cur/ (mode 0700) when missing.  key (hex
 * digits, or NULL) goes into the file's unique name, "TIME.MusecPpidQnRkey.HOST", so that
 * local_maildir_find() can tell later whether this message is there. */
int local_maildir(const char *dir, const char *data, size_t size, const char *key,
                  char **ret_reply);

/* Is a message delivered with this key in DIR/new or DIR/cur (where a reader moves it, keeping
 * the name up to ':')?  1 and "new/NAME" or "cur/NAME" in *ret_where (malloc'd); 0 when it is
 * not, as seen by a scan during which neither directory changed; -EAGAIN when they kept
 * changing through every scan (a reader at work: ask again later), or -errno.  Only 0 means
 * that writing the message cannot make a second copy. */
int local_maildir_find(const char *dir, const char *key, char **ret_where);

/* Pipes the message (CRLF turned into the local LF) to `sendmail -t -oi`; a non-zero exit
 * status, or a sendmail that did not read the whole message, is a failure (-EIO), with the
 * status and sendmail's first line of stderr in the reply.  The caller ignores SIGPIPE. */
int local_sendmail(const char *data, size_t size, char **ret_reply);
