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

#include "wp/agg.h"
#include "wp/applesvc.h"
#include "wp/classify.h"
#include "wp/datafile.h"
#include "wp/proto.h"
#include "wp/names.h"

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

struct cdn {
    char suffix[128];
};

struct wp_applesvc {
    struct svc *svcs;
    size_t n_svcs;
    struct pattern *pats;
    size_t n_pats;
    struct cdn *cdns;
    size_t n_cdns;
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
        } else if (strcmp(f[0], "cdn") == 0) {
            if (nf != 3 || !valid_host_pattern(f[1]) || f[1][0] == '*') {
                snprintf(why, sizeof(why), "expected 'cdn SUFFIX \"label\"' with a lowercase name");
                goto bad;
            }
            struct cdn *nc = realloc(a->cdns, (a->n_cdns + 1) * sizeof(*nc));
            if (nc == NULL) {
                snprintf(why, sizeof(why), "out of memory");
                goto bad;
            }
            a->cdns = nc;
            snprintf(a->cdns[a->n_cdns++].suffix, sizeof(nc->suffix), "%s", f[1]);
        } else {
            snprintf(why, sizeof(why), "unknown record '%.20s' (service, name, port or cdn)", f[0]);
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
    free(a->cdns);
    free(a);
}

static int match_patterns(const struct wp_applesvc *a, const char *host, size_t hl)
{
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

int wp_applesvc_by_name(const struct wp_applesvc *a, const char *host)
{
    size_t hl = strlen(host);
    int best = match_patterns(a, host, hl);
    /* an Apple name under a CDN's suffix: the name without the suffix */
    for (size_t i = 0; best < 0 && i < a->n_cdns; i++) {
        size_t sl = strlen(a->cdns[i].suffix);
        if (hl > sl + 1 && host[hl - sl - 1] == '.' &&
            memcmp(host + hl - sl, a->cdns[i].suffix, sl) == 0)
            best = match_patterns(a, host, hl - sl - 1);
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

/* ---- the Apple service of a flow ------------------------------------------ */

/* The service named by one of the comma-separated `tags` (never the
 * fallback "apple") that documents (proto, port), or -1. */
static int svc_by_tags(const struct wp_applesvc *a, const char *tags, uint8_t proto, uint16_t port)
{
    int fb = wp_applesvc_fallback(a);
    for (const char *t = tags; *t != '\0';) {
        const char *e = strchr(t, ',');
        size_t n = e ? (size_t)(e - t) : strlen(t);
        char key[32];
        if (n > 0 && n < sizeof(key)) {
            memcpy(key, t, n);
            key[n] = '\0';
            int si = find_svc(a, key);
            if (si >= 0 && si != fb && wp_applesvc_documents(a, si, proto, port))
                return si;
        }
        if (e == NULL)
            break;
        t = e + 1;
    }
    return -1;
}

void wp_applesvc_decide(const struct wp_applesvc *a, const struct wp_apple_facts *in,
                        struct wp_apple_verdict *out)
{
    out->svc = -1;
    out->by = WP_APPLE_BY_NONE;
    out->doubt = WP_APPLE_DOUBT_NONE;
    int own = in->own_name ? wp_applesvc_by_name(a, in->own_name) : -1;
    int dns = in->dns_name ? wp_applesvc_by_name(a, in->dns_name) : -1;
    out->apple_name = own >= 0 || dns >= 0;
    if (own >= 0) {
        out->svc = own;
        out->by = WP_APPLE_BY_NAME;
        return;
    }
    if (dns >= 0 && in->has_ports && wp_applesvc_documents(a, dns, in->proto, in->server_port)) {
        out->svc = dns;
        out->by = WP_APPLE_BY_DNS;
        return;
    }
    if (!out->apple_name && in->server_apple && in->client_apple) {
        out->doubt = WP_APPLE_DOUBT_BOTH_ENDS;
        return;
    }
    if (in->server_apple && in->has_ports) {
        int p = wp_applesvc_by_port(a, in->proto, in->server_port);
        if (p >= 0) {
            out->svc = p;
            out->by = WP_APPLE_BY_PORT;
            return;
        }
    }
    if (!out->apple_name && (in->server_apple || in->client_apple) && !in->both_sent) {
        out->doubt = WP_APPLE_DOUBT_NO_REPLY;
        return;
    }
    if (in->server_apple && in->has_ports && in->server_tags != NULL) {
        int t = svc_by_tags(a, in->server_tags, in->proto, in->server_port);
        if (t >= 0) {
            out->svc = t;
            out->by = WP_APPLE_BY_PREFIX;
            return;
        }
    }
    if (in->server_apple || out->apple_name) {
        out->svc = wp_applesvc_fallback(a);
        if (out->svc >= 0)
            out->by = WP_APPLE_BY_FALLBACK;
    }
}

const char *wp_apple_by_name(unsigned by)
{
    static const char *const names[WP_APPLE_BY_COUNT] = {
        NULL, "name", "dns", "port", "prefix", "fallback",
    };
    return by < WP_APPLE_BY_COUNT ? names[by] : NULL;
}

const char *wp_apple_doubt_name(unsigned doubt)
{
    static const char *const names[WP_APPLE_DOUBT_COUNT] = {NULL, "both-ends", "no-reply"};
    return doubt < WP_APPLE_DOUBT_COUNT ? names[doubt] : NULL;
}

enum wp_apple_doubt wp_flow_apple_doubt(const struct wp_flow *f)
{
    if (f->apple_svc != 0 || (f->bits & WP_FB_APPLE_NAME))
        return WP_APPLE_DOUBT_NONE;
    bool a0 = (f->bits & WP_FB_APPLE0) != 0, a1 = (f->bits & WP_FB_APPLE1) != 0;
    if (a0 && a1)
        return WP_APPLE_DOUBT_BOTH_ENDS;
    if ((a0 || a1) && (f->pkts[0] == 0 || f->pkts[1] == 0))
        return WP_APPLE_DOUBT_NO_REPLY;
    return WP_APPLE_DOUBT_NONE;
}

void wp_apple_classify_flow(const struct wp_applesvc *a, const struct wp_prefixes *prefixes,
                            struct wp_nametab *names, struct wp_flow *f)
{
    uint8_t keep = (uint8_t)(f->bits & ~(WP_FB_APPLE_NAME | WP_FB_APPLE_BY_MASK));
    unsigned s = f->server;
    bool srv_apple = (f->bits & (s ? WP_FB_APPLE1 : WP_FB_APPLE0)) != 0;
    bool cli_apple = (f->bits & (s ? WP_FB_APPLE0 : WP_FB_APPLE1)) != 0;
    const char *name = f->name_id != 0 && names != NULL ? wp_nametab_get(names, f->name_id) : NULL;
    if (name == NULL && !srv_apple && !cli_apple) {
        /* the common case: nothing Apple about the flow */
        f->bits = keep;
        f->apple_svc = 0;
        return;
    }
    struct wp_apple_facts in;
    memset(&in, 0, sizeof(in));
    in.own_name = f->name_src != WP_NAME_DNS ? name : NULL;
    in.dns_name = f->name_src == WP_NAME_DNS ? name : NULL;
    in.proto = f->key.proto;
    in.has_ports = wp_proto_has_ports(f->key.proto);
    in.server_port = f->key.port[s];
    in.server_apple = srv_apple;
    in.client_apple = cli_apple;
    if (srv_apple && prefixes != NULL) {
        const struct wp_prefix *px = wp_prefixes_match(prefixes, f->key.family, f->key.addr[s]);
        in.server_tags = px != NULL ? px->tags : NULL;
    }
    in.both_sent = f->pkts[0] != 0 && f->pkts[1] != 0;
    struct wp_apple_verdict v;
    wp_applesvc_decide(a, &in, &v);
    f->bits = (uint8_t)(keep | (v.apple_name ? WP_FB_APPLE_NAME : 0) |
                        ((unsigned)v.by << WP_FB_APPLE_BY_SHIFT));
    f->apple_svc = v.svc >= 0 && v.svc < 255 ? (uint8_t)(v.svc + 1) : 0;
}
