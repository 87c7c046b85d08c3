/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: firewall rules from what was seen succeeding: nft, pf, lsrules
 *
 * Formats:
 *   nft      an nftables table "inet whichports" with named sets of
 *            (address . port) per transport and family, and an output
 *            chain (policy drop) accepting loopback, established traffic,
 *            ICMPv6 neighbour discovery and the sets; `nft -f FILE`
 *            replaces the table (nft(8));
 *   pf       rules for a pf anchor (pf.conf(5)): block out, then one
 *            "pass out quick ... keep state" per destination;
 *   lsrules  a Little Snitch rule group (.lsrules JSON): one "allow"
 *            rule per destination, "remote-hosts" where a name was seen.
 * Comments and notes hold only validated names, numbers and times. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wp/escape.h"
#include "wp/flow.h"
#include "wp/names.h"
#include "wp/outcome.h"
#include "wp/rules.h"
#include "wp/util.h"

struct rule {
    uint8_t proto, family;
    uint8_t addr[16];
    uint16_t lo, hi;
    uint32_t name_id; /* a valid name, 0 none */
    uint64_t pkts, bytes, flows;
    int64_t first, last;
    bool have_time;
    bool documented; /* from --rules-documented, not seen */
    int svc;         /* Apple service (documented entries), -1 none */
};

int wp_rules_format_of(const char *s)
{
    if (strcmp(s, "nft") == 0)
        return WP_RULES_NFT;
    if (strcmp(s, "pf") == 0)
        return WP_RULES_PF;
    if (strcmp(s, "lsrules") == 0)
        return WP_RULES_LSRULES;
    return -1;
}

bool wp_rules_valid_name(const char *s)
{
    if (s == NULL || s[0] == '\0' || s[0] == '-' || s[0] == '.')
        return false;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok || n >= 253)
            return false;
    }
    return true;
}

static bool got_through(const struct wp_flow *f)
{
    enum wp_outcome o = wp_outcome_of(f);
    return o == WP_OUT_ESTABLISHED || o == WP_OUT_CLOSED || o == WP_OUT_RESET ||
           o == WP_OUT_ANSWERED;
}

static int cmp_rule(const void *a, const void *b)
{
    const struct rule *x = a, *y = b;
    if (x->documented != y->documented)
        return x->documented ? 1 : -1;
    if (x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    int c = memcmp(x->addr, y->addr, 16);
    if (c != 0)
        return c;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : x->hi > y->hi;
}

struct vec {
    struct rule *v;
    size_t n, cap;
};

static struct rule *push(struct vec *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 64;
        struct rule *nv = realloc(v->v, nc * sizeof(*nv));
        if (nv == NULL)
            return NULL;
        v->v = nv;
        v->cap = nc;
    }
    struct rule *r = &v->v[v->n++];
    memset(r, 0, sizeof(*r));
    r->svc = -1;
    return r;
}

/* Sort and merge entries with the same key (seen entries add their counts;
 * documented ranges of one destination that overlap or touch become one). */
static void merge(struct vec *v)
{
    if (v->n == 0)
        return;
    qsort(v->v, v->n, sizeof(v->v[0]), cmp_rule);
    size_t w = 0;
    for (size_t i = 1; i < v->n; i++) {
        struct rule *d = &v->v[w], *s = &v->v[i];
        bool same_dest = d->documented == s->documented && d->proto == s->proto &&
                         d->family == s->family && memcmp(d->addr, s->addr, 16) == 0;
        bool same =
            same_dest && (s->documented ? (uint32_t)s->lo <= (uint32_t)d->hi + 1 : d->lo == s->lo);
        if (same) {
            if (s->hi > d->hi)
                d->hi = s->hi;
            d->pkts += s->pkts;
            d->bytes += s->bytes;
            d->flows += s->flows;
            if (s->have_time) {
                if (!d->have_time || s->first < d->first)
                    d->first = s->first;
                if (!d->have_time || s->last > d->last)
                    d->last = s->last;
                d->have_time = true;
            }
            if (d->name_id == 0)
                d->name_id = s->name_id;
            if (d->svc != s->svc)
                d->svc = d->svc < 0 ? s->svc : d->svc;
        } else {
            v->v[++w] = *s;
        }
    }
    v->n = w + 1;
}

static int collect(const struct wp_report *r, bool apple_only, bool documented, struct vec *v)
{
    for (size_t i = 0; i < r->n_flows; i++) {
        const struct wp_flow *f = r->flows[i];
        if ((f->key.proto != 6 && f->key.proto != 17) || !got_through(f))
            continue;
        if (apple_only && f->apple_svc == 0)
            continue;
        struct rule *e = push(v);
        if (e == NULL)
            return -1;
        unsigned s = f->server;
        e->proto = f->key.proto;
        e->family = f->key.family;
        memcpy(e->addr, f->key.addr[s], 16);
        e->lo = e->hi = f->key.port[s];
        const char *nm = r->names ? wp_nametab_get(r->names, f->name_id) : NULL;
        e->name_id = wp_rules_valid_name(nm) ? f->name_id : 0;
        e->pkts = f->pkts[0] + f->pkts[1];
        e->bytes = f->bytes[0] + f->bytes[1];
        e->flows = 1;
        e->have_time = (f->bits & WP_FB_TIME) != 0;
        e->first = f->first_ns;
        e->last = f->last_ns;
        e->svc = f->apple_svc ? f->apple_svc - 1 : -1;
    }
    if (!documented || r->applesvc == NULL)
        return 0;
    /* Apple's documented ports of each Apple service seen, to its servers seen */
    size_t n_seen = v->n;
    for (size_t i = 0; i < n_seen; i++) {
        if (v->v[i].svc < 0)
            continue;
        const struct wp_applesvc_port *dp;
        size_t nd = wp_applesvc_ports(r->applesvc, v->v[i].svc, &dp);
        for (size_t k = 0; k < nd; k++) {
            struct rule *e = push(v);
            if (e == NULL)
                return -1;
            const struct rule *src = &v->v[i];
            e->proto = dp[k].proto;
            e->family = src->family;
            memcpy(e->addr, src->addr, 16);
            e->lo = dp[k].lo;
            e->hi = dp[k].hi;
            e->documented = true;
            e->svc = src->svc;
        }
    }
    return 0;
}

/* A comment: counts and times, or the Apple service a documented entry
 * comes from. Only digits, letters and safe punctuation. */
static char *comment(char *buf, size_t n, const struct wp_report *r, const struct rule *e)
{
    if (e->documented) {
        const char *key = r->applesvc && e->svc >= 0 ? wp_applesvc_key(r->applesvc, e->svc) : NULL;
        snprintf(buf, n, "documented by Apple for %s, not seen",
                 wp_rules_valid_name(key) ? key : "an Apple service");
        return buf;
    }
    char t1[48] = "-", t2[48] = "-";
    if (e->have_time) {
        wp_fmt_time(t1, sizeof(t1), e->first, false);
        wp_fmt_time(t2, sizeof(t2), e->last, false);
    }
    const char *nm = e->name_id && r->names ? wp_nametab_get(r->names, e->name_id) : NULL;
    snprintf(buf, n, "%" PRIu64 " flows, %" PRIu64 " packets, %" PRIu64 " bytes, %s to %s%s%s",
             e->flows, e->pkts, e->bytes, t1, t2, nm ? ", " : "", nm ? nm : "");
    return buf;
}

/* A source name for a comment line: printable ASCII without quotes or
 * backslashes, others replaced by '?'. */
static void safe_text(FILE *fp, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?', fp);
    }
}

static void header(FILE *fp, const struct wp_report *r, const char *fmt, size_t n)
{
    fprintf(fp, "# whichports %s --rules %s: %zu destinations seen succeeding in ", WP_VERSION, fmt,
            n);
    for (size_t i = 0; i < r->n_sources && i < 3; i++) {
        fputs(i ? ", " : "", fp);
        safe_text(fp, r->sources[i]);
    }
    if (r->n_sources > 3)
        fprintf(fp, " and %zu more", r->n_sources - 3);
    fputc('\n', fp);
}

static void nft_set(FILE *fp, const struct wp_report *r, const struct vec *v, uint8_t proto,
                    uint8_t family, bool doc)
{
    const char *tn = proto == 6 ? "tcp" : "udp";
    bool any = false;
    for (size_t i = 0; i < v->n; i++)
        any = any ||
              (v->v[i].proto == proto && v->v[i].family == family && v->v[i].documented == doc);
    fprintf(fp, "\tset %s%c%s {\n\t\ttype %s . inet_service\n%s", tn, family == 4 ? '4' : '6',
            doc ? "_documented" : "", family == 4 ? "ipv4_addr" : "ipv6_addr",
            doc ? "\t\tflags interval\n" : "");
    if (any) {
        fputs("\t\telements = {\n", fp);
        for (size_t i = 0; i < v->n; i++) {
            const struct rule *e = &v->v[i];
            if (e->proto != proto || e->family != family || e->documented != doc)
                continue;
            char a[64], c[256];
            wp_fmt_addr(a, sizeof(a), family, e->addr);
            if (e->lo == e->hi)
                fprintf(fp, "\t\t\t%s . %u", a, e->lo);
            else
                fprintf(fp, "\t\t\t%s . %u-%u", a, e->lo, e->hi);
            /* nft limits comments to 128 bytes */
            comment(c, 128, r, e);
            fprintf(fp, " comment \"%s\",\n", c);
        }
        fputs("\t\t}\n", fp);
    }
    fputs("\t}\n", fp);
}

static void write_nft(FILE *fp, const struct wp_report *r, const struct vec *v, bool documented)
{
    header(fp, r, "nft", v->n);
    fputs("# Load with: nft -f FILE (replaces the table inet whichports). The output chain's\n"
          "# policy is drop: only loopback, replies, neighbour discovery and these\n"
          "# destinations may be reached.\n"
          "table inet whichports\n"
          "delete table inet whichports\n"
          "table inet whichports {\n",
          fp);
    static const uint8_t protos[2] = {6, 17}, fams[2] = {4, 6};
    for (int d = 0; d < (documented ? 2 : 1); d++)
        for (int p = 0; p < 2; p++)
            for (int f = 0; f < 2; f++)
                nft_set(fp, r, v, protos[p], fams[f], d == 1);
    fputs("\tchain output {\n"
          "\t\ttype filter hook output priority filter; policy drop;\n"
          "\t\toifname \"lo\" accept\n"
          "\t\tct state established,related accept\n"
          "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, "
          "mld2-listener-report } accept\n",
          fp);
    for (int d = 0; d < (documented ? 2 : 1); d++)
        for (int p = 0; p < 2; p++)
            for (int f = 0; f < 2; f++) {
                const char *tn = protos[p] == 6 ? "tcp" : "udp";
                fprintf(fp, "\t\t%s daddr . %s dport @%s%c%s accept\n", fams[f] == 4 ? "ip" : "ip6",
                        tn, tn, fams[f] == 4 ? '4' : '6', d ? "_documented" : "");
            }
    fputs("\t}\n}\n", fp);
}

static void write_pf(FILE *fp, const struct wp_report *r, const struct vec *v)
{
    header(fp, r, "pf", v->n);
    fputs("# Rules for a pf anchor (pf.conf(5)): pfctl -a whichports -f FILE, with\n"
          "# 'anchor \"whichports\"' in the main ruleset. Everything else going out is blocked.\n"
          "block out all\n"
          "pass out quick on lo0 all\n",
          fp);
    for (size_t i = 0; i < v->n; i++) {
        const struct rule *e = &v->v[i];
        char a[64], c[256];
        wp_fmt_addr(a, sizeof(a), e->family, e->addr);
        fprintf(fp, "# %s\n", comment(c, sizeof(c), r, e));
        fprintf(fp, "pass out quick %s proto %s from any to %s port ",
                e->family == 4 ? "inet" : "inet6", e->proto == 6 ? "tcp" : "udp", a);
        if (e->lo == e->hi)
            fprintf(fp, "%u", e->lo);
        else
            fprintf(fp, "%u:%u", e->lo, e->hi);
        fputs(" keep state\n", fp);
    }
}

static void write_lsrules(FILE *fp, const struct wp_report *r, const struct vec *v)
{
    fputs("{\n  \"name\": \"whichports: seen succeeding\",\n  \"description\": ", fp);
    char d[512];
    size_t off =
        (size_t)snprintf(d, sizeof(d), "Allows what whichports %s saw succeed in ", WP_VERSION);
    for (size_t i = 0; i < r->n_sources && i < 3 && off < sizeof(d); i++)
        off += (size_t)snprintf(d + off, sizeof(d) - off, "%s%s", i ? ", " : "", r->sources[i]);
    wp_json_string(fp, d);
    fputs(",\n  \"rules\": [", fp);
    for (size_t i = 0; i < v->n; i++) {
        const struct rule *e = &v->v[i];
        char a[64], c[256], ports[16];
        const char *nm = e->name_id && r->names ? wp_nametab_get(r->names, e->name_id) : NULL;
        wp_fmt_addr(a, sizeof(a), e->family, e->addr);
        if (e->lo == e->hi)
            snprintf(ports, sizeof(ports), "%u", e->lo);
        else
            snprintf(ports, sizeof(ports), "%u-%u", e->lo, e->hi);
        fprintf(
            fp,
            "%s\n    {\"action\": \"allow\", \"process\": \"any\", \"direction\": \"outgoing\", "
            "\"protocol\": \"%s\", \"ports\": \"%s\", ",
            i ? "," : "", e->proto == 6 ? "tcp" : "udp", ports);
        if (nm != NULL) {
            fputs("\"remote-hosts\": ", fp);
            wp_json_string(fp, nm);
        } else {
            fputs("\"remote-addresses\": ", fp);
            wp_json_string(fp, a);
        }
        fputs(", \"notes\": ", fp);
        wp_json_string(fp, comment(c, sizeof(c), r, e));
        fputs("}", fp);
    }
    fputs("\n  ]\n}\n", fp);
}

/* lsrules: one rule per (transport, port, name-or-address): entries of
 * the same name on several addresses become one. */
static void merge_names(const struct wp_report *r, struct vec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        struct rule *d = &v->v[i];
        if (d->name_id == 0 || d->documented)
            continue;
        for (size_t j = i + 1; j < v->n;) {
            struct rule *s = &v->v[j];
            if (!s->documented && s->name_id == d->name_id && s->proto == d->proto &&
                s->lo == d->lo && s->hi == d->hi) {
                d->pkts += s->pkts;
                d->bytes += s->bytes;
                d->flows += s->flows;
                if (s->have_time && (!d->have_time || s->first < d->first))
                    d->first = s->first;
                if (s->have_time && (!d->have_time || s->last > d->last))
                    d->last = s->last;
                d->have_time = d->have_time || s->have_time;
                memmove(s, s + 1, (v->n - j - 1) * sizeof(*s));
                v->n--;
            } else {
                j++;
            }
        }
    }
    (void)r;
}

int wp_rules_write(FILE *fp, const struct wp_report *r, enum wp_rules_format fmt, bool apple_only,
                   bool documented)
{
    struct vec v = {NULL, 0, 0};
    int rc = collect(r, apple_only, documented, &v);
    if (rc == 0) {
        merge(&v);
        if (fmt == WP_RULES_NFT) {
            write_nft(fp, r, &v, documented);
        } else if (fmt == WP_RULES_PF) {
            write_pf(fp, r, &v);
        } else {
            merge_names(r, &v);
            write_lsrules(fp, r, &v);
        }
    }
    free(v.v);
    if (fflush(fp) != 0 || ferror(fp))
        rc = -1;
    return rc;
}
