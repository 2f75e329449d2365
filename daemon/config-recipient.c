/* The config's recipients: names, populations, languages, mail addresses and webhooks, and the
 * index by id that the commitments look their participants up in. */

#include <errno.h>
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "noticed/validate.h"

static void load_recipient(Loader *ld, const config_setting_t *g, Recipient *r) {
        static const char *const keys[] = {"id",   "name",     "population", "language",
                                           "mail", "webhooks", NULL};
        const config_setting_t *s;
        const char *v;

        r->population = -1;
        r->language = ld->model->language;
        loader_check_keys(ld, g, keys, "recipient");
        (void) loader_member_id(ld, g, "recipient", &r->id);
        v = loader_member_string(ld, g, "name", true, r->id ? r->id : "recipient");
        r->name = loader_copy_string(ld, v);
        s = loader_member(ld, g, "population", VALUE_INTEGER, false, "recipient");
        if (s) {
                long long p = config_setting_get_int64(s);
                if (p < 0 || p > 1000000000)
                        loader_fail(ld, s, "population %lld must be between 0 and 1000000000", p);
                else
                        r->population = p;
        }
        loader_member_language(ld, g, "recipient", &r->language);

        s = loader_member(ld, g, "mail", VALUE_STRING_ARRAY, false, "recipient");
        if (s && (r->mail = loader_allocate_array(ld, (size_t) config_setting_length(s),
                                                  sizeof(char *))))
                for (int i = 0; i < config_setting_length(s); i++) {
                        const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                        v = config_setting_get_string(e);
                        if (!validate_mail_address(v))
                                loader_fail(ld, e,
                                            "'%s' is not a mail address (local@domain, ASCII)", v);
                        r->mail[r->n_mail++] = loader_copy_string(ld, v);
                }
        s = loader_member(ld, g, "webhooks", VALUE_STRING_ARRAY, false, "recipient");
        if (s && (r->webhooks = loader_allocate_array(ld, (size_t) config_setting_length(s),
                                                      sizeof(size_t))))
                for (int i = 0; i < config_setting_length(s); i++) {
                        const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                        size_t t;
                        if (model_find_transport(ld->model, config_setting_get_string(e), &t) < 0)
                                loader_fail(ld, e, "unknown webhook transport '%s'",
                                            config_setting_get_string(e));
                        else if (ld->model->transports[t].kind != TRANSPORT_HTTP &&
                                 ld->model->transports[t].kind != TRANSPORT_HTTPS)
                                loader_fail(ld, e,
                                            "transport '%s' is not a webhook (http:// or "
                                            "https://)",
                                            config_setting_get_string(e));
                        else
                                r->webhooks[r->n_webhooks++] = t;
                }
        /* Counted as written, so an unknown webhook is reported once, as unknown. */
        if (setting_length(config_setting_get_member(g, "mail")) == 0 &&
            setting_length(config_setting_get_member(g, "webhooks")) == 0)
                loader_fail(ld, g,
                            "recipient '%s' has no mail address and no webhook: nothing could "
                            "reach it",
                            r->id ? r->id : "?");
}

static const char *recipient_id(const Model *m, size_t i) {
        return m->recipients[i].id;
}

void config_load_recipients(Loader *ld, const config_setting_t *root) {
        const config_setting_t *list =
                loader_member(ld, root, "recipients", VALUE_LIST, true, "the config");
        Model *m = ld->model;
        size_t n;

        if (!list) {
                ld->recipients_unusable = true;
                return;
        }
        n = (size_t) config_setting_length(list);
        m->recipients = loader_allocate_array(ld, n, sizeof(Recipient));
        if (!m->recipients)
                return;
        for (size_t i = 0; i < n; i++)
                load_recipient(ld, config_setting_get_elem(list, (unsigned) i),
                               &m->recipients[m->n_recipients++]);
        ld->recipients_by_id = loader_index_by_id(ld, list, n, recipient_id, "recipient");
        for (size_t i = 0; ld->recipients_by_id && i < n; i++)
                m->recipients[ld->recipients_by_id[i]].rank = (uint32_t) i;
        for (size_t i = 0; i < n && !m->has_mail_via; i++)
                if (m->recipients[i].n_mail > 0 && !config_setting_get_member(root, "mail_via")) {
                        loader_fail(ld, config_setting_get_elem(list, (unsigned) i),
                                    "recipient '%s' has mail addresses but no mail_via transport "
                                    "is set",
                                    m->recipients[i].id ? m->recipients[i].id : "?");
                        break;
                }
}

int config_find_recipient(const Loader *ld, const char *id, size_t *ret) {
        const Model *m = ld->model;
        size_t lo = 0, hi = m->n_recipients;

        if (!ld->recipients_by_id)
                return -ENOENT;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const char *mid_id = m->recipients[ld->recipients_by_id[mid]].id;
                int c = strcmp(mid_id ? mid_id : "", id);
                if (c == 0) {
                        *ret = ld->recipients_by_id[mid];
                        return 0;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -ENOENT;
}
