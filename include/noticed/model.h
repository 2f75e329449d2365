#pragma once
/* The model: a validated configuration as plain data.
 *
 * config_load() builds it from the config file; plan, render and the tools only read it.  Ids
 * are resolved to indices at load time, so nothing downstream looks names up or meets a dangling
 * reference.  Every string here has passed the header-safety check (no CR, LF or other control
 * characters).  Strings and arrays are owned by the model; model_free() releases everything. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noticed/calendar.h"
#include "noticed/date.h"
#include "noticed/tz.h"

typedef enum Language {
        LANGUAGE_NL,
        LANGUAGE_EN,
} Language;

#define LANGUAGE_COUNT 2

/* The two messages a recipient can get about a milestone, each with its own template. */
typedef enum MessageKind {
        MESSAGE_REMINDER, /* before the milestone */
        MESSAGE_OVERDUE,  /* after a decision or notice milestone passed undecided */
} MessageKind;

#define MESSAGE_KIND_COUNT 2

typedef enum Renewal {
        RENEWAL_NONE,
        RENEWAL_TACIT,
        RENEWAL_INDEFINITE,
} Renewal;

typedef enum TransportKind {
        TRANSPORT_SMTP,     /* smtp://, STARTTLS unless tls = "none" to a loopback host */
        TRANSPORT_SMTPS,    /* smtps://, implicit TLS */
        TRANSPORT_MAILDIR,  /* maildir:PATH */
        TRANSPORT_SENDMAIL, /* sendmail: */
        TRANSPORT_HTTP,     /* http:// webhook */
        TRANSPORT_HTTPS,    /* https:// webhook */
} TransportKind;

typedef enum TlsMode {
        TLS_DEFAULT, /* STARTTLS required for smtp://, implicit for smtps://, per URL for HTTP */
        TLS_NONE,    /* plaintext smtp://, only to a loopback host */
} TlsMode;

#define POLICY_MAX_OFFSETS 32

typedef struct Policy {
        Duration *offsets; /* 1..POLICY_MAX_OFFSETS, sorted longest first, unique */
        size_t n_offsets;
        int32_t send_time; /* seconds after local midnight */
        bool working_days_only;
} Policy;

typedef enum WebhookFormat {
        WEBHOOK_FORMAT_JSON,  /* noticed's own JSON body (noticed(8) "WEBHOOKS") */
        WEBHOOK_FORMAT_SLACK, /* {"text": ...} for Slack/Mattermost-style incoming webhooks */
} WebhookFormat;

#define TRANSPORT_MAX_CONNECTIONS_DEFAULT 4
#define TRANSPORT_MAX_CONNECTIONS_MAX     64

typedef struct Transport {
        char *id;
        TransportKind kind;
        char *url;
        char *from;                /* NULL unless set; required on the mail_via transport */
        char *from_name;           /* from's display name, NULL when it has none */
        char *from_address;        /* from's address; NULL exactly when from is */
        char *envelope_from;       /* the SMTP envelope sender (MAIL FROM), a bare address;
                                    * NULL: from_address */
        char *username;            /* NULL unless set */
        char *password_credential; /* NULL unless set; at most one of these two */
        char *password_file;       /* NULL unless set; an absolute path */
        char *secret_credential;   /* NULL unless set; at most one of these two */
        char *secret_file;         /* NULL unless set; an absolute path */
        char *ca_file;             /* NULL: the system's trust store; else an absolute path */
        TlsMode tls;
        WebhookFormat format;     /* webhooks only */
        uint32_t max_connections; /* 1..TRANSPORT_MAX_CONNECTIONS_MAX, default 4 */
} Transport;

typedef struct Recipient {
        char *id;
        char *name;
        int64_t population; /* -1 when not given */
        Language language;
        char **mail;
        size_t n_mail;
        size_t *webhooks; /* indices into Model.transports */
        size_t n_webhooks;
        uint32_t rank; /* position in id order: sorting by rank sorts by id */
} Recipient;

typedef struct OneOffDeadline {
        char *id;
        Date date; /* as written; plan applies deadline_shift */
        char *title;
} OneOffDeadline;

typedef struct Cost {
        bool set;
        int64_t rate_min_micro; /* per inhabitant per year, in millionths of the currency unit */
        int64_t rate_max_micro;
        char currency[4]; /* ISO 4217 */
        Date from;
} Cost;

typedef struct Commitment {
        char *id;
        char *title;
        char *counterparty; /* NULL unless set */
        char *reference;    /* NULL unless set */
        Date start;
        Duration term;
        Renewal renewal;
        Duration renewal_term; /* term when not set */
        bool has_notice;       /* notice is required unless renewal = "none" */
        Duration notice;
        Duration decision_lead; /* 0d when not set */
        bool has_review;
        Duration review_every;
        Shift deadline_shift;
        Policy policy;        /* the global policy overridden key by key */
        size_t *participants; /* indices into Model.recipients */
        size_t n_participants;
        size_t *reviewers;
        size_t n_reviewers;
        size_t *escalate_to;
        size_t n_escalate_to;
        Cost cost;
        OneOffDeadline *deadlines;
        size_t n_deadlines;
        bool has_terminated;
        Date terminated; /* the day notice was served */
        uint32_t rank;   /* position in id order */
} Commitment;

typedef struct Model {
        char *path; /* the config file it came from */
        Tz *tz;
        Language language;
        Calendar *calendar;
        Transport *transports;
        size_t n_transports;
        bool has_mail_via;
        size_t mail_via;       /* index into transports when has_mail_via */
        Recipient *recipients; /* in config order */
        size_t n_recipients;
        Commitment *commitments; /* in config order */
        size_t n_commitments;
        /* The texts of the files named in `templates`, checked by template_check() at load
         * (unlike every other string here they have lines: LF and TAB are allowed); NULL where
         * the built-in text applies.  Indexed by Language and MessageKind. */
        char *templates[LANGUAGE_COUNT][MESSAGE_KIND_COUNT];
        /* Delivery over the network (noticed.conf(5)): the first retry waits retry_base, each
         * next one twice as long, up to retry_max; a stopping daemon waits stop_timeout for
         * transfers in flight.  In microseconds. */
        uint64_t retry_base_usec;   /* default 60 s */
        uint64_t retry_max_usec;    /* default 3600 s; >= retry_base_usec */
        uint64_t stop_timeout_usec; /* default 10 s */
} Model;

/* The defaults of the three spans.  USEC_PER_SEC is macro.h's, included where these are used
 * (not here: tests that include this header define an ELEMENTSOF() of their own). */
#define MODEL_RETRY_BASE_DEFAULT_USEC   (60 * USEC_PER_SEC)
#define MODEL_RETRY_MAX_DEFAULT_USEC    (3600 * USEC_PER_SEC)
#define MODEL_STOP_TIMEOUT_DEFAULT_USEC (10 * USEC_PER_SEC)

Model *model_free(Model *m);

int language_from_string(const char *s, Language *ret); /* 0 or -EINVAL */

/* The index of the commitment, recipient or transport with this id: 0 and *ret, or -ENOENT.  A
 * linear search: callers look up a handful of ids, not one per reminder. */
int model_find_commitment(const Model *m, const char *id, size_t *ret);
int model_find_recipient(const Model *m, const char *id, size_t *ret);
int model_find_transport(const Model *m, const char *id, size_t *ret);
bool transport_kind_carries_mail(TransportKind kind);
/* The recipient's mail addresses, one per line ("a@x\nb@y"), as an SMTP envelope and the
 * ledger's outbox keep them.  Malloc'd; NULL when out of memory. */
char *recipient_address_lines(const Recipient *rc);

/* The yearly amount a recipient pays under a cost, in cents, as the range [min, max].
 * Returns false when the commitment has no cost or the recipient no population. */
bool model_yearly_cost_cents(const Commitment *c, const Recipient *r, int64_t *ret_min,
                             int64_t *ret_max);
