/* The config's transports: their URLs, credentials and connection settings, and mail_via.
 *
 * Most of the checks here are about which keys apply to which kind of transport, decided by
 * the URL's scheme; and about the security of the result: no plaintext SMTP beyond loopback, no
 * secret file others may read, no CA bundle that is not a regular file. */

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "noticed/secret.h"
#include "noticed/validate.h"

/* Sets the kind from the scheme; false when the URL is missing or its scheme unknown (reported),
 * so that no key is then said not to apply to a kind the transport may not have. */
static bool load_transport_url(Loader *ld, const config_setting_t *group, Transport *t) {
        const config_setting_t *s =
                loader_member(ld, group, "url", VALUE_STRING, true, "transport");
        char host[256];
        const char *url;

        if (!s)
                return false;
        url = config_setting_get_string(s);
        t->url = loader_copy_string(ld, url);
        if (strncmp(url, "maildir:", 8) == 0) {
                t->kind = TRANSPORT_MAILDIR;
                if (url[8] != '/')
                        loader_fail(ld, s, "maildir path in '%s' must be absolute (maildir:/path)",
                                    url);
                return true;
        }
        if (strncmp(url, "sendmail:", 9) == 0) {
                t->kind = TRANSPORT_SENDMAIL;
                if (url[9] != '\0')
                        loader_fail(ld, s,
                                    "'%s': write just \"sendmail:\" (it pipes to "
                                    "/usr/sbin/sendmail -t -oi)",
                                    url);
                return true;
        }
        if (strncmp(url, "smtp://", 7) == 0)
                t->kind = TRANSPORT_SMTP;
        else if (strncmp(url, "smtps://", 8) == 0)
                t->kind = TRANSPORT_SMTPS;
        else if (strncmp(url, "http://", 7) == 0)
                t->kind = TRANSPORT_HTTP;
        else if (strncmp(url, "https://", 8) == 0)
                t->kind = TRANSPORT_HTTPS;
        else {
                loader_fail(ld, s,
                            "unsupported transport URL '%s' (smtp://, smtps://, maildir:PATH, "
                            "sendmail:, http:// or https://)",
                            url);
                return false;
        }
        if (!validate_url_host(url, host, sizeof(host)))
                loader_fail(ld, s, "malformed URL '%s' (scheme://host[:port][/path], no user info)",
                            url);
        else if (t->kind == TRANSPORT_SMTP && t->tls == TLS_NONE &&
                 !validate_host_is_loopback(host))
                loader_fail(ld, s,
                            "plaintext smtp:// to '%s' is refused: tls = \"none\" is only for a "
                            "loopback host; use STARTTLS (drop tls) or smtps://",
                            host);
        return true;
}

#define KIND(k)       (1u << (k))
#define KINDS_SMTP    (KIND(TRANSPORT_SMTP) | KIND(TRANSPORT_SMTPS))
#define KINDS_WEBHOOK (KIND(TRANSPORT_HTTP) | KIND(TRANSPORT_HTTPS))

/* The transport's member `key` of type `type` when it applies to the transport's kind, one of
 * `kinds` (named by `which` in the message); NULL when absent, of another type or not for this
 * kind (both reported).  With the kind unknown the member is taken as it is. */
static const config_setting_t *transport_member(Loader *ld, const config_setting_t *group,
                                                const Transport *t, bool kind_known,
                                                const char *key, ValueType type, unsigned kinds,
                                                const char *which) {
        const config_setting_t *s = loader_member(ld, group, key, type, false, "transport");

        if (s && kind_known && !(kinds & KIND(t->kind))) {
                loader_fail(ld, s, "'%s' applies only to %s", key, which);
                return NULL;
        }
        return s;
}

/* A password_file or secret_file, checked by secret_check_file(): an absolute path to a regular
 * file without permissions for group or others.  Only its name goes into the model; the daemon
 * reads the secret when it needs it, and checks again then.  The mode in the message is looked
 * up once the check has refused it, for the message alone. */
static void load_secret_file(Loader *ld, const config_setting_t *s, const char *key, char **ret) {
        const char *path = config_setting_get_string(s);
        struct stat st;
        int r;

        *ret = loader_copy_string(ld, path);
        if (path[0] != '/') {
                loader_fail(ld, s, "%s '%s' must be an absolute path", key, path);
                return;
        }
        r = secret_check_file(path);
        if (r == -EPERM && stat(path, &st) < 0)
                r = -errno; /* gone since */
        if (r == -EBADFD)
                loader_fail(ld, s, "%s '%s' is not a regular file", key, path);
        else if (r == -EPERM)
                loader_fail(ld, s, "%s '%s' is %s group or others (mode %04o); chmod 600 it", key,
                            path, st.st_mode & 044 ? "readable by" : "open to",
                            (unsigned) (st.st_mode & 07777));
        else if (r < 0)
                loader_fail(ld, s, "cannot use %s '%s': %s", key, path, strerror(-r));
}

/* A CA bundle in place of the system's trust store: an absolute path to a regular file this
 * process can read.  It is opened only once stat() has shown a regular file, so that a device
 * named by mistake is never opened, and non-blocking, so that a FIFO swapped in cannot hang a
 * reload.  Its contents are for the TLS library to judge when it connects. */
static void load_ca_file(Loader *ld, const config_setting_t *s, char **ret) {
        const char *path = config_setting_get_string(s);
        struct stat st;
        int fd = -1;

        *ret = loader_copy_string(ld, path);
        if (path[0] != '/') {
                loader_fail(ld, s, "ca_file '%s' must be an absolute path", path);
                return;
        }
        if (stat(path, &st) == 0) {
                if (!S_ISREG(st.st_mode)) {
                        loader_fail(ld, s, "ca_file '%s' is not a regular file", path);
                        return;
                }
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        }
        if (fd < 0) /* stat() or open() failed, and errno says why */
                loader_fail(ld, s, "cannot read ca_file '%s': %s", path, strerror(errno));
        else
                (void) close(fd);
}

/* username and the password or webhook secret, each from a credential or a file, never both. */
static void load_transport_credentials(Loader *ld, const config_setting_t *group, Transport *t,
                                       bool kind_known) {
        const config_setting_t *s;
        const char *v;

        s = loader_member(ld, group, "username", VALUE_STRING, false, "transport");
        if (s)
                t->username = loader_copy_string(ld, config_setting_get_string(s));
        for (int i = 0; i < 2; i++) {
                const char *key = i == 0 ? "password_credential" : "secret_credential";
                char **target = i == 0 ? &t->password_credential : &t->secret_credential;
                s = loader_member(ld, group, key, VALUE_STRING, false, "transport");
                if (!s)
                        continue;
                v = config_setting_get_string(s);
                if (!validate_id(v))
                        loader_fail(ld, s,
                                    "%s '%s' must be a credential name (letters, digits, '.', "
                                    "'_', '-'), not a path",
                                    key, v);
                *target = loader_copy_string(ld, v);
        }
        s = transport_member(ld, group, t, kind_known, "password_file", VALUE_STRING, KINDS_SMTP,
                             "smtp:// and smtps:// transports");
        if (s)
                load_secret_file(ld, s, "password_file", &t->password_file);
        s = transport_member(ld, group, t, kind_known, "secret_file", VALUE_STRING, KINDS_WEBHOOK,
                             "webhooks (http://, https://)");
        if (s)
                load_secret_file(ld, s, "secret_file", &t->secret_file);
        if (t->password_credential && t->password_file)
                loader_fail(ld, group,
                            "transport '%s': set password_credential or password_file, not both: "
                            "there is one password",
                            t->id);
        if (t->secret_credential && t->secret_file)
                loader_fail(
                        ld, group,
                        "transport '%s': set secret_credential or secret_file, not both: there is "
                        "one secret",
                        t->id);
        if (!kind_known)
                return;
        if ((t->username || t->password_credential) && !(KINDS_SMTP & KIND(t->kind)))
                loader_fail(ld, group,
                            "transport '%s': username and password_credential "
                            "apply only to smtp:// and smtps://",
                            t->id);
        if (t->password_credential && !t->username)
                loader_fail(ld, group, "transport '%s': password_credential needs a username",
                            t->id);
        if (t->password_file && !t->username)
                loader_fail(ld, group, "transport '%s': password_file needs a username", t->id);
        if (t->secret_credential && !(KINDS_WEBHOOK & KIND(t->kind)))
                loader_fail(ld, group,
                            "transport '%s': secret_credential applies only to "
                            "webhooks (http://, https://)",
                            t->id);
}

/* How the network transports connect: trust, parallelism and, for webhooks, the body. */
static void load_transport_connections(Loader *ld, const config_setting_t *group, Transport *t,
                                       bool kind_known) {
        const config_setting_t *s;
        const char *v;

        s = transport_member(ld, group, t, kind_known, "ca_file", VALUE_STRING,
                             KINDS_SMTP | KIND(TRANSPORT_HTTPS),
                             "transports that use TLS: smtp://, smtps:// and https://");
        if (s)
                load_ca_file(ld, s, &t->ca_file);
        s = transport_member(ld, group, t, kind_known, "max_connections", VALUE_INTEGER,
                             KINDS_SMTP | KINDS_WEBHOOK,
                             "network transports: smtp://, smtps://, http:// and https://");
        if (s) {
                long long n = config_setting_get_int64(s);
                if (n < 1 || n > TRANSPORT_MAX_CONNECTIONS_MAX)
                        loader_fail(ld, s, "max_connections %lld must be between 1 and %d", n,
                                    TRANSPORT_MAX_CONNECTIONS_MAX);
                else
                        t->max_connections = (uint32_t) n;
        }
        s = transport_member(ld, group, t, kind_known, "format", VALUE_STRING, KINDS_WEBHOOK,
                             "webhooks (http://, https://)");
        if (s) {
                v = config_setting_get_string(s);
                if (strcmp(v, "slack") == 0)
                        t->format = WEBHOOK_FORMAT_SLACK;
                else if (strcmp(v, "json") != 0)
                        loader_fail(ld, s,
                                    "format \"%s\" must be \"json\" (the default) or \"slack\"", v);
        }
}

/* `from` as written, for the texts that name it, and its parts, parsed here once for the From
 * header and the envelope sender. */
static void load_from(Loader *ld, const config_setting_t *s, Transport *t) {
        const char *v = config_setting_get_string(s);
        Mailbox mailbox;

        t->from = loader_copy_string(ld, v);
        if (!validate_mailbox(v, &mailbox)) {
                loader_fail(ld, s, "from \"%s\" must be \"address\" or \"Name <address>\"", v);
                return;
        }
        if (mailbox.name)
                t->from_name = loader_copy_substring(ld, mailbox.name, mailbox.name_len);
        t->from_address = loader_copy_substring(ld, mailbox.address, mailbox.address_len);
}

static void load_transport(Loader *ld, const config_setting_t *group, Transport *t) {
        static const char *const keys[] = {"url",
                                           "from",
                                           "envelope_from",
                                           "username",
                                           "password_credential",
                                           "password_file",
                                           "secret_credential",
                                           "secret_file",
                                           "ca_file",
                                           "tls",
                                           "max_connections",
                                           "format",
                                           NULL};
        const config_setting_t *s;
        const char *v;
        bool kind_known;

        t->max_connections = TRANSPORT_MAX_CONNECTIONS_DEFAULT;
        t->id = loader_copy_string(ld, config_setting_name(group));
        if (!validate_id(config_setting_name(group)))
                loader_fail(ld, group,
                            "transport name '%s' must be 1-64 letters, digits, '.', '_' or '-'",
                            config_setting_name(group));
        if (!setting_type_matches(group, VALUE_GROUP)) {
                loader_fail(ld, group, "transport '%s' must be a group { url = ...; }",
                            config_setting_name(group));
                return;
        }
        loader_check_keys(ld, group, keys, "transport");
        s = loader_member(ld, group, "tls", VALUE_STRING, false, "transport");
        if (s) {
                v = config_setting_get_string(s);
                if (strcmp(v, "none") == 0)
                        t->tls = TLS_NONE;
                else if (strcmp(v, "starttls") != 0)
                        loader_fail(ld, s,
                                    "tls \"%s\" must be \"starttls\" (the default) or \"none\"", v);
        }
        kind_known = load_transport_url(ld, group, t);
        if (s && t->url && t->kind != TRANSPORT_SMTP)
                loader_fail(ld, s, "'tls' applies only to smtp:// transports");

        s = loader_member(ld, group, "from", VALUE_STRING, false, "transport");
        if (s)
                load_from(ld, s, t);
        s = transport_member(ld, group, t, kind_known, "envelope_from", VALUE_STRING, KINDS_SMTP,
                             "smtp:// and smtps:// transports");
        if (s) {
                v = config_setting_get_string(s);
                if (!validate_mail_address(v))
                        loader_fail(ld, s,
                                    "envelope_from \"%s\" must be a bare address, local@domain (no "
                                    "name, no <>)",
                                    v);
                t->envelope_from = loader_copy_string(ld, v);
        }
        load_transport_credentials(ld, group, t, kind_known);
        if (t->from && kind_known && !transport_kind_carries_mail(t->kind))
                loader_fail(ld, group, "transport '%s': 'from' applies only to mail transports",
                            t->id);
        load_transport_connections(ld, group, t, kind_known);
}

void config_load_transports(Loader *ld, const config_setting_t *root) {
        const config_setting_t *g =
                loader_member(ld, root, "transports", VALUE_GROUP, false, "the config");
        const config_setting_t *s;
        Model *m = ld->model;

        if (g) {
                m->transports = loader_allocate_array(ld, (size_t) config_setting_length(g),
                                                      sizeof(Transport));
                if (!m->transports)
                        return;
                for (int i = 0; i < config_setting_length(g); i++)
                        load_transport(ld, config_setting_get_elem(g, (unsigned) i),
                                       &m->transports[m->n_transports++]);
        }
        s = loader_member(ld, root, "mail_via", VALUE_STRING, false, "the config");
        if (s) {
                size_t t;
                if (model_find_transport(m, config_setting_get_string(s), &t) < 0)
                        loader_fail(ld, s, "mail_via names unknown transport '%s'",
                                    config_setting_get_string(s));
                else if (!transport_kind_carries_mail(m->transports[t].kind))
                        loader_fail(ld, s,
                                    "mail_via transport '%s' cannot carry mail (smtp://, "
                                    "smtps://, maildir: or sendmail:)",
                                    config_setting_get_string(s));
                else if (!m->transports[t].from)
                        loader_fail(ld, s, "mail_via transport '%s' needs a 'from' address",
                                    config_setting_get_string(s));
                else {
                        m->has_mail_via = true;
                        m->mail_via = t;
                }
        }
}
