/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: Apple services: the names that identify them, their documented ports
 *
 * A few dozen services and patterns, consulted once per named flow: linear
 * scans are enough. Patterns are exact names or "*.suffix" (the suffix and
 * everything below it, matched at a label boundary); the longest matching
 * pattern wins. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/applesvc.h"
#include "wp/datafile.h"
#include "wp/proto.h"

extern const char wp_builtin_apple_services[];
extern const unsigned long wp_builtin_apple_services_len;

struct svc {
    char key[32];
    char label[96];
    struct wp_applesvc_port *ports;
    size_t n_ports;
};

struct pattern {
    char text[128];     /* without the "*." */
    bool wildcard;
    int svc;
};

struct wp_applesvc {
    struct svc *svcs;
    size_t n_svcs;
    struct pattern *pats;
    size_t n_pats;
};

static int find_svc(const struct wp_applesvc *a, const char *key)
{
    for (size_t i = 0; i < a->n_svcs; i++)
        if (strcmp(a->svcs[i].key, key) == 0)
            return (int)i;
    return -1;
}

static bool valid_key(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 31)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool valid_host_pattern(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 127)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || (c == '*' && i == 0 && s[1] == '.')))
            return false;
    }
    return s[n - 1] != '.';
}

static bool parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
    char *end;
    unsigned long a = strtoul(s, &end, 10);
    if (end == s || a > 65535)
        return false;
    unsigned long b = a;
    if (*end == '-') {
        const char *t = end + 1;
        b = strtoul(t, &end, 10);
        if (end == t || b > 65535 || b < a)
            return false;
    }
    if (*end != '\0' || s[0] < '0' || s[0] > '9')
        return false;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return true;
}

int wp_applesvc_parse(struct wp_applesvc **out, const char *text, size_t len, const char *name,
                      char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    struct wp_applesvc *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", name);
        return -1;
    }
    struct wp_datafile df;
    wp_datafile_init(&df, text, len);
    char *f[WP_DATAFILE_MAX_FIELDS];
    char why[160];
    int nf;
    while ((nf = wp_datafile_next(&df, f, why, sizeof(why))) != 0) {
        if (nf < 0)
            goto bad;
        if (strcmp(f[0], "service") == 0) {
            if (nf != 3 || !valid_key(f[1]) || strlen(f[2]) >= sizeof(a->svcs[0].label)) {
                snprintf(why, sizeof(why), "expected 'service KEY \"label\"' with KEY of [a-z0-9-]");
                goto bad;
            }
            if (find_svc(a, f[1]) >= 0) {
                snprintf(why, sizeof(why), "service '%s' declared twice", f[1]);
                goto bad;
            }
            if (a->n_svcs >= WP_APPLESVC_MAX) {
                snprintf(why, sizeof(why), "more than %d services", WP_APPLESVC_MAX);
                goto bad;
            }
            struct svc *ns = realloc(a->svcs, (a->n_svcs + 1) * sizeof(*ns));
            if (ns == NULL) {
                snprintf(why, sizeof(why), "out of memory");
                goto bad;
            }
            a->svcs = ns;
            struct svc *s = &a->svcs[a->n_svcs++];
            memset(s, 0, sizeof(*s));
            snprintf(s->key, sizeof(s->key), "%s", f[1]);
            snprintf(s->label, sizeof(s->label), "%s", f[2]);
        } else if (strcmp(f[0], "name") == 0) {
            if (nf != 3) {
                snprintf(why, sizeof(why), "expected 'name KEY PATTERN'");
                goto bad;
            }
            int si = find_svc(a, f[1]);
            if (si < 0) {
                snprintf(why, sizeof(why), "service '%.31s' not declared before", f[1]);
                goto bad;
            }
            if (!valid_host_pattern(f[2])) {
                snprintf(why, sizeof(why),
                         "bad pattern '%.60s' (lowercase name, or *.name)", f[2]);
                goto bad;
            }
            struct pattern *np = realloc(a->pats, (a->n_pats + 1) * sizeof(*np));
            if (np == NULL) {
                snprintf(why, sizeof(why), "out of memory");
                goto bad;
            }
            a->pats = np;
            struct pattern *p = &a->pats[a->n_pats++];
            p->wildcard = f[2][0] == '*';
            snprintf(p->text, sizeof(p->text), "%s", p->wildcard ? f[2] + 2 : f[2]);
            p->svc = si;
        } else if (strcmp(f[0], "port") == 0) {
            if (nf != 5 && nf != 6) {
                snprintf(why, sizeof(why), "expected 'port KEY tcp|udp PORTS STATUS [identifies]'");
                goto bad;
            }
            int si = find_svc(a, f[1]);
            if (si < 0) {
                snprintf(why, sizeof(why), "service '%.31s' not declared before", f[1]);
                goto bad;
            }
            struct wp_applesvc_port pt;
            memset(&pt, 0, sizeof(pt));
            if (strcmp(f[2], "tcp") == 0)
                pt.proto = WP_IPPROTO_TCP;
            else if (strcmp(f[2], "udp") == 0)
                pt.proto = WP_IPPROTO_UDP;
            else {
                snprintf(why, sizeof(why), "transport must be tcp or udp");
                goto bad;
            }
            if (!parse_range(f[3], &pt.lo, &pt.hi)) {
                snprintf(why, sizeof(why), "bad port or range '%.20s'", f[3]);
                goto bad;
            }
            if (strcmp(f[4], "current") != 0 && strcmp(f[4], "legacy") != 0 &&
                strcmp(f[4], "thirdparty") != 0 && strcmp(f[4], "unverified") != 0) {
                snprintf(why, sizeof(why),
                         "status must be current, legacy, thirdparty or unverified");
                goto bad;
            }
            snprintf(pt.status, sizeof(pt.status), "%s", f[4]);
            if (nf == 6) {
                if (strcmp(f[5], "identifies") != 0) {
                    snprintf(why, sizeof(why), "the last field may only be 'identifies'");
                    goto bad;
                }
                pt.identifies = true;
            }
            if (pt.identifies) {
                for (size_t o = 0; o < a->n_svcs; o++)
                    for (size_t k = 0; k < a->svcs[o].n_ports; k++) {
                        const struct wp_applesvc_port *q = &a->svcs[o].ports[k];
                        if (q->identifies && q->proto == pt.proto && q->lo <= pt.hi &&
                            pt.lo <= q->hi) {
                            snprintf(why, sizeof(why),
                                     "%s %s is already identified by service '%s'", f[2], f[3],
                                     a->svcs[o].key);
                            goto bad;
                        }
                    }
            }
            struct svc *s = &a->svcs[si];
            struct wp_applesvc_port *np = realloc(s->ports, (s->n_ports + 1) * sizeof(*np));
            if (np == NULL) {
                snprintf(why, sizeof(why), "out of memory");
                goto bad;
            }
            s->ports = np;
            s->ports[s->n_ports++] = pt;
        } else {
            snprintf(why, sizeof(why), "unknown record '%.20s' (service, name or port)", f[0]);
            goto bad;
        }
    }
    *out = a;
    return 0;
bad:
    snprintf(errbuf, WP_ERRBUF_SIZE, "%s:%u: %s", name, wp_datafile_line(&df), why);
    wp_applesvc_free(a);
    return -1;
}

int wp_applesvc_load(struct wp_applesvc **out, const char *path, char errbuf[WP_ERRBUF_SIZE])
{
    char *text;
    size_t len;
    *out = NULL;
    if (wp_datafile_read(path, &text, &len, errbuf) != 0)
        return -1;
    int r = wp_applesvc_parse(out, text, len, path, errbuf);
    free(text);
    return r;
}

int wp_applesvc_builtin(struct wp_applesvc **out, char errbuf[WP_ERRBUF_SIZE])
{
    return wp_applesvc_parse(out, wp_builtin_apple_services, wp_builtin_apple_services_len,
                             "(built-in apple-services.txt)", errbuf);
}

void wp_applesvc_free(struct wp_applesvc *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n_svcs; i++)
        free(a->svcs[i].ports);
    free(a->svcs);
    free(a->pats);
    free(a);
}

int wp_applesvc_by_name(const struct wp_applesvc *a, const char *host)
{
    size_t hl = strlen(host);
    size_t best_len = 0;
    int best = -1;
    for (size_t i = 0; i < a->n_pats; i++) {
        const struct pattern *p = &a->pats[i];
        size_t pl = strlen(p->text);
        bool hit;
        if (hl == pl)
            hit = memcmp(host, p->text, pl) == 0;
        else
            hit = p->wildcard && hl > pl && host[hl - pl - 1] == '.' &&
                  memcmp(host + hl - pl, p->text, pl) == 0;
        /* an exact pattern outranks a wildcard of the same text */
        size_t rank = pl * 2 + (p->wildcard ? 0 : 1);
        if (hit && rank > best_len) {
            best_len = rank;
            best = p->svc;
        }
    }
    return best;
}

int wp_applesvc_by_port(const struct wp_applesvc *a, uint8_t proto, uint16_t port)
{
    for (size_t i = 0; i < a->n_svcs; i++)
        for (size_t k = 0; k < a->svcs[i].n_ports; k++) {
            const struct wp_applesvc_port *p = &a->svcs[i].ports[k];
            if (p->identifies && p->proto == proto && port >= p->lo && port <= p->hi)
                return (int)i;
        }
    return -1;
}

int wp_applesvc_fallback(const struct wp_applesvc *a)
{
    return find_svc(a, "apple");
}

size_t wp_applesvc_count(const struct wp_applesvc *a)
{
    return a->n_svcs;
}

const char *wp_applesvc_key(const struct wp_applesvc *a, int i)
{
    return i >= 0 && (size_t)i < a->n_svcs ? a->svcs[i].key : NULL;
}

const char *wp_applesvc_label(const struct wp_applesvc *a, int i)
{
    return i >= 0 && (size_t)i < a->n_svcs ? a->svcs[i].label : NULL;
}

size_t wp_applesvc_ports(const struct wp_applesvc *a, int i, const struct wp_applesvc_port **out)
{
    if (i < 0 || (size_t)i >= a->n_svcs) {
        *out = NULL;
        return 0;
    }
    *out = a->svcs[i].ports;
    return a->svcs[i].n_ports;
}

bool wp_applesvc_documents(const struct wp_applesvc *a, int i, uint8_t proto, uint16_t port)
{
    const struct wp_applesvc_port *p;
    size_t n = wp_applesvc_ports(a, i, &p);
    for (size_t k = 0; k < n; k++)
        if (p[k].proto == proto && port >= p[k].lo && port <= p[k].hi)
            return true;
    return false;
}
