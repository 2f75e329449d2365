/* Secrets from systemd credentials and owner-only files (see secret.h).
 *
 * Every check is made on the open file, never on the path before opening it, so a file swapped
 * between the check and the read cannot slip through.  Symbolic links are followed on purpose:
 * systemd's credentials may be links, and a secret_file that is a link to a file elsewhere (a
 * mounted secrets volume) is checked as the file it leads to, which is the one whose mode
 * matters.  Opening uses O_NONBLOCK so that a FIFO put where a secret should be is refused
 * instead of blocking the daemon until something writes to it.  The bytes pass through one
 * stack buffer, wiped before returning. */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "noticed/secret.h"

/* A name that names a file in one directory and nothing else. */
static bool is_plain_file_name(const char *name) {
        size_t n = strlen(name);

        return n > 0 && n <= NAME_MAX && !strchr(name, '/') && strcmp(name, ".") != 0 &&
               strcmp(name, "..") != 0;
}

/* Opens path without reading it (O_PATH: no read permission needed, nothing blocks) or for
 * reading, and checks what it opened: a regular file, and with owner_only no permission bits
 * for group or others.  The fd, or -errno. */
static int open_checked(const char *path, bool for_reading, bool owner_only) {
        struct stat st;
        int fd = open(path, (for_reading ? O_RDONLY | O_NONBLOCK | O_NOCTTY : O_PATH) | O_CLOEXEC);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode))
                r = -EBADFD;
        else if (owner_only && (st.st_mode & (S_IRWXG | S_IRWXO)))
                r = -EPERM;
        if (r < 0) {
                (void) close(fd);
                return r;
        }
        return fd;
}

/* Reads the whole file (at most one byte more than a secret with its newline may have, so that
 * a bigger one is recognised), strips one trailing newline, and copies what is left into a
 * buffer of its own size. */
static int read_secret(int fd, Secret *ret) {
        char buf[SECRET_SIZE_MAX + 2];
        size_t size = 0;
        char *data;
        int r = 0;

        while (size < sizeof(buf)) {
                ssize_t n = read(fd, buf + size, sizeof(buf) - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        goto finish;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (size > 0 && buf[size - 1] == '\n')
                size--;
        if (size > SECRET_SIZE_MAX) {
                r = -EFBIG;
                goto finish;
        }
        if (size == 0) {
                r = -ENODATA;
                goto finish;
        }
        data = malloc(size + 1);
        if (!data) {
                r = -ENOMEM;
                goto finish;
        }
        memcpy(data, buf, size);
        data[size] = '\0';
        *ret = (Secret){.data = data, .size = size};
finish:
        explicit_bzero(buf, sizeof(buf));
        return r;
}

/* open_checked() for reading, then read_secret(). */
static int read_checked(const char *path, bool owner_only, Secret *ret) {
        int fd = open_checked(path, true, owner_only), r;

        if (fd < 0)
                return fd;
        r = read_secret(fd, ret);
        (void) close(fd);
        return r;
}

int secret_read_credential(const char *name, Secret *ret) {
        const char *directory = getenv("CREDENTIALS_DIRECTORY");
        char path[PATH_MAX];

        if (!directory || !directory[0])
                return -ENXIO;
        if (!is_plain_file_name(name))
                return -EINVAL;
        if ((size_t) snprintf(path, sizeof(path), "%s/%s", directory, name) >= sizeof(path))
                return -ENAMETOOLONG;
        /* systemd makes credentials readable by the service alone; their mode is not ours to
         * judge (an ImportCredential= or a container manager may choose another). */
        return read_checked(path, false, ret);
}

int secret_read_file(const char *path, Secret *ret) {
        if (path[0] != '/')
                return -EINVAL;
        return read_checked(path, true, ret);
}

int secret_check_file(const char *path) {
        int fd;

        if (path[0] != '/')
                return -EINVAL;
        fd = open_checked(path, false, true);
        if (fd < 0)
                return fd;
        (void) close(fd);
        return 0;
}

void secret_done(Secret *s) {
        if (s->data) {
                explicit_bzero(s->data, s->size);
                free(s->data);
        }
        *s = (Secret){0};
}

int secret_read_transport(const Transport *t, Secret *ret, char **ret_error) {
        const char *credential =
                t->password_credential ? t->password_credential : t->secret_credential;
        const char *file = t->password_file ? t->password_file : t->secret_file;
        const char *why;
        int r;

        assert(ret && ret_error);
        if (credential)
                r = secret_read_credential(credential, ret);
        else if (file)
                r = secret_read_file(file, ret);
        else
                return 0;
        if (r >= 0)
                return r;
        why = r == -ENXIO   ? "$CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit "
                              "provides it)"
              : r == -EPERM ? "group or others may read it (chmod 600 it)"
                            : strerror(-r);
        if (asprintf(ret_error, "transport %s: cannot read the %s %s: %s", t->id,
                     credential ? "credential" : "file", credential ? credential : file, why) < 0)
                *ret_error = NULL;
        return r;
}

int secrets_load(const Model *model, Secret **ret, char **ret_error) {
        Secret *secrets = NULL;
        int r = 0;

        assert(model && ret && ret_error);
        *ret_error = NULL;
        *ret = NULL;
        if (model->n_transports == 0)
                return 0;
        secrets = calloc(model->n_transports, sizeof(*secrets));
        if (!secrets)
                return -ENOMEM;
        for (size_t i = 0; i < model->n_transports && r >= 0; i++)
                r = secret_read_transport(&model->transports[i], &secrets[i], ret_error);
        if (r < 0) {
                secrets_free(secrets, model->n_transports);
                return r;
        }
        *ret = secrets;
        return 0;
}

void secrets_free(Secret *secrets, size_t n) {
        for (size_t i = 0; secrets && i < n; i++)
                secret_done(&secrets[i]);
        free(secrets);
}
