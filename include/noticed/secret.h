#pragma once
/* Secrets: SMTP passwords and webhook signing keys, read from a systemd credential or a file.
 *
 * Secrets never live in the config; it names where they are (DESIGN.md "Files and
 * environment").  A secret is the file's bytes less one trailing newline.  A password_file or
 * secret_file readable by its group or by others is refused, as is one that is not a regular
 * file, an empty secret, or one over SECRET_SIZE_MAX.  Returns 0 or -errno and never logs; the
 * caller names the transport.  Secrets are wiped from memory when freed. */

#include <stddef.h>

#include "noticed/model.h"

#define SECRET_SIZE_MAX 4096

typedef struct Secret {
        char *data; /* NUL-terminated (the secret itself may contain NUL bytes only in webhook
                     * keys; size is authoritative) */
        size_t size;
} Secret;

/* $CREDENTIALS_DIRECTORY/name (systemd LoadCredential=/SetCredential=).  -ENXIO when
 * CREDENTIALS_DIRECTORY is unset or empty (not started by systemd with credentials), -EINVAL
 * for a name that is not a plain file name, -ENOENT when the credential is missing, -EFBIG when
 * too big, -ENODATA when empty, -EBADFD when it is not a regular file (a FIFO would block), or
 * open(2)'s error.  Its mode is not checked: systemd sets it.  A symbolic link is followed. */
int secret_read_credential(const char *name, Secret *ret);

/* An absolute path to a file only its owner can read: -EPERM when group or others have any
 * permission on it (the mode is checked on the open file, so a swap between check and read
 * cannot slip through), -EINVAL for a relative path, -EBADFD for a file that is not a regular
 * file, -EFBIG, -ENODATA, or open(2)'s error.  A symbolic link is followed and the file it leads
 * to is the one checked. */
int secret_read_file(const char *path, Secret *ret);

/* Checks a password_file or secret_file as config_load() does, without reading it: exists, a
 * regular file, no group/other permissions.  Same errors as secret_read_file() for those three
 * checks; it needs no read permission (O_PATH), so neither readability nor the size (-EFBIG,
 * -ENODATA) is checked: those surface when the secret is read. */
int secret_check_file(const char *path);

/* Wipes (explicit_bzero) and frees; safe on a zeroed struct; leaves it zeroed. */
void secret_done(Secret *s);

/* The secret of one transport (password_credential, password_file, secret_credential or
 * secret_file) into *ret, left zeroed when it names none; on failure *ret_error says which
 * transport and why (malloc'd).  0 or -errno. */
int secret_read_transport(const Transport *t, Secret *ret, char **ret_error);
/* The secrets of all the model's transports, one per transport, zeroed where there is none.
 * Read before a model is taken, so that a start or a reload can refuse a config whose secrets
 * cannot be read.  On failure *ret_error says which transport and why (malloc'd).  0 or
 * -errno. */
int secrets_load(const Model *model, Secret **ret, char **ret_error);
/* secret_done() on each of n, then frees the array; NULL is fine. */
void secrets_free(Secret *secrets, size_t n);
