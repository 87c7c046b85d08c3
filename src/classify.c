/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: classification: Apple's address space, the port registry, the
 * service side of a flow
 *
 * Both tables are small (tens to a few hundred rows) and consulted once per
 * flow, not per packet, so a sorted array scanned linearly is enough for
 * prefixes (sorted longest first, the first hit is the longest match) and a
 * bitmap answers "is this port known" in O(1) for the service-side rule. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/classify.h"
#include "wp/datafile.h"
#include "wp/proto.h"

extern const char wp_builtin_apple_prefixes[];
extern const unsigned long wp_builtin_apple_prefixes_len;
extern const char wp_builtin_services[];
extern const unsigned long wp_builtin_services_len;

/* ---- prefixes ----------------------------------------------------------- */

struct wp_prefixes {
    struct wp_prefix *v;
    size_t n, cap;
    /* Buckets by family (0: IPv4, 1: IPv6) and first byte b: the indexes
     * in v of the prefixes that can contain an address starting with b,
     * longest first, are idx[start[f][b] .. start[f][b + 1]). A lookup
     * tests only those: a few, whatever the number of prefixes. */
    uint32_t *idx;
    uint32_t start[2][257];
};

/* The first bytes prefix px can start with: [*lo, *hi]. */
static void first_bytes(const struct wp_prefix *px, unsigned *lo, unsigned *hi)
{
    unsigned span = px->len >= 8 ? 1u : 1u << (8 - px->len);
    *lo = px->addr[0];
    *hi = *lo + span - 1 > 255 ? 255 : *lo + span - 1;
}

/* Fill idx and start from v (sorted longest first). Returns -1 when out of
 * memory. */
static int buckets(struct wp_prefixes *p)
{
    size_t total = 0;
    for (size_t i = 0; i < p->n; i++) {
        unsigned lo, hi;
        first_bytes(&p->v[i], &lo, &hi);
        total += hi - lo + 1;
    }
    p->idx = malloc((total ? total : 1) * sizeof(*p->idx));
    if (p->idx == NULL)
        return -1;
    uint32_t k = 0;
    for (int fam = 0; fam < 2; fam++) {
        for (unsigned b = 0; b < 256; b++) {
            p->start[fam][b] = k;
            for (size_t i = 0; i < p->n; i++) {
                unsigned lo, hi;
                first_bytes(&p->v[i], &lo, &hi);
                if ((p->v[i].family == 4 ? 0 : 1) == fam && b >= lo && b <= hi)
                    p->idx[k++] = (uint32_t)i;
            }
        }
        p->start[fam][256] = k;
    }
    return 0;
}

static int cmp_prefix(const void *a, const void *b)
{
    const struct wp_prefix *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return memcmp(x->addr, y->addr, 16);
}

static bool copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

int wp_prefixes_parse(struct wp_prefixes **out, const char *text, size_t len, const char *name,
                      char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    struct wp_prefixes *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", name);
        return -1;
    }
    struct wp_datafile df;
    wp_datafile_init(&df, text, len);
    char *f[WP_DATAFILE_MAX_FIELDS];
    int nf;
    char why[128];
    while ((nf = wp_datafile_next(&df, f, why, sizeof(why))) != 0) {
        if (nf < 0)
            goto bad;
        if (nf < 4 || nf > 6) {
            snprintf(why, sizeof(why), "expected 'family prefix tags status \"description\" "
                                       "sources', found %d fields", nf);
            goto bad;
        }
        struct wp_prefix px;
        memset(&px, 0, sizeof(px));
        if (strcmp(f[0], "ipv4") == 0)
            px.family = 4;
        else if (strcmp(f[0], "ipv6") == 0)
            px.family = 6;
        else {
            snprintf(why, sizeof(why), "family must be ipv4 or ipv6, not '%.40s'", f[0]);
            goto bad;
        }
        char *slash = strchr(f[1], '/');
        if (slash == NULL) {
            snprintf(why, sizeof(why), "prefix '%.60s' has no /length", f[1]);
            goto bad;
        }
        *slash = '\0';
        char *end;
        errno = 0;
        long plen = strtol(slash + 1, &end, 10);
        int maxlen = px.family == 4 ? 32 : 128;
        if (*end != '\0' || end == slash + 1 || plen < 0 || plen > maxlen || errno != 0) {
            snprintf(why, sizeof(why), "bad prefix length '/%.20s'", slash + 1);
            goto bad;
        }
        if (inet_pton(px.family == 4 ? AF_INET : AF_INET6, f[1], px.addr) != 1) {
            snprintf(why, sizeof(why), "bad %s address '%.60s'", f[0], f[1]);
            goto bad;
        }
        px.len = (uint8_t)plen;
        for (int bit = (int)plen; bit < maxlen; bit++) {
            if (px.addr[bit / 8] & (0x80 >> (bit % 8))) {
                snprintf(why, sizeof(why), "prefix %.60s/%ld has host bits set", f[1], plen);
                goto bad;
            }
        }
        if (!copy_field(px.tags, sizeof(px.tags), f[2]) ||
            !copy_field(px.status, sizeof(px.status), f[3])) {
            snprintf(why, sizeof(why), "tags or status too long");
            goto bad;
        }
        static const char *const statuses[] = {"current", "announced", "thirdparty", "historic",
                                               "unverified"};
        bool ok = false;
        for (size_t i = 0; i < WP_ARRAY_LEN(statuses); i++)
            ok = ok || strcmp(f[3], statuses[i]) == 0;
        if (!ok) {
            snprintf(why, sizeof(why),
                     "status must be current, announced, thirdparty, historic or unverified, "
                     "not '%.30s'", f[3]);
            goto bad;
        }
        if (nf >= 5 && !copy_field(px.desc, sizeof(px.desc), f[4])) {
            snprintf(why, sizeof(why), "description longer than %zu bytes", sizeof(px.desc) - 1);
            goto bad;
        }
        if (strcmp(px.status, "current") != 0 && strcmp(px.status, "announced") != 0)
            continue;
        if (p->n == p->cap) {
            size_t nc = p->cap ? p->cap * 2 : 32;
            struct wp_prefix *nv = realloc(p->v, nc * sizeof(*nv));
            if (nv == NULL) {
                snprintf(why, sizeof(why), "out of memory");
                goto bad;
            }
            p->v = nv;
            p->cap = nc;
        }
        p->v[p->n++] = px;
    }
    if (p->n > 1)
        qsort(p->v, p->n, sizeof(*p->v), cmp_prefix);
    if (buckets(p) != 0) {
        snprintf(why, sizeof(why), "out of memory");
        goto bad;
    }
    *out = p;
    return 0;
bad:
    snprintf(errbuf, WP_ERRBUF_SIZE, "%s:%u: %s", name, wp_datafile_line(&df), why);
    wp_prefixes_free(p);
    return -1;
}

int wp_prefixes_load(struct wp_prefixes **out, const char *path, char errbuf[WP_ERRBUF_SIZE])
{
    char *text;
    size_t len;
    *out = NULL;
    if (wp_datafile_read(path, &text, &len, errbuf) != 0)
        return -1;
    int r = wp_prefixes_parse(out, text, len, path, errbuf);
    free(text);
    return r;
}

int wp_prefixes_builtin(struct wp_prefixes **out, char errbuf[WP_ERRBUF_SIZE])
{
    return wp_prefixes_parse(out, wp_builtin_apple_prefixes, wp_builtin_apple_prefixes_len,
                             "(built-in apple-prefixes.txt)", errbuf);
}

const struct wp_prefix *wp_prefixes_match(const struct wp_prefixes *p, uint8_t family,
                                          const uint8_t *addr)
{
    int fam = family == 4 ? 0 : 1;
    for (uint32_t k = p->start[fam][addr[0]], end = p->start[fam][addr[0] + 1]; k < end; k++) {
        const struct wp_prefix *px = &p->v[p->idx[k]];
        unsigned full = px->len / 8, rest = px->len % 8;
        if (memcmp(px->addr, addr, full) != 0)
            continue;
        if (rest != 0) {
            uint8_t mask = (uint8_t)(0xff << (8 - rest));
            if ((addr[full] & mask) != px->addr[full])
                continue;
        }
        return px;
    }
    return NULL;
}

size_t wp_prefixes_count(const struct wp_prefixes *p)
{
    return p->n;
}

const struct wp_prefix *wp_prefixes_at(const struct wp_prefixes *p, size_t i)
{
    return i < p->n ? &p->v[i] : NULL;
}

void wp_prefixes_free(struct wp_prefixes *p)
{
    if (p == NULL)
        return;
    free(p->v);
    free(p->idx);
    free(p);
}

/* ---- services ----------------------------------------------------------- */

struct wp_services {
    struct wp_service *v;
    size_t n, cap;
    uint8_t known[2][65536 / 8]; /* [0] tcp, [1] udp */
};

static int proto_slot(uint8_t proto)
{
    if (proto == WP_IPPROTO_TCP)
        return 0;
    if (proto == WP_IPPROTO_UDP)
        return 1;
    return -1;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 31)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '.' || c == '+' || c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

static bool parse_port(const char *s, const char **end, uint16_t *out)
{
    unsigned long v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535)
            return false;
        p++;
    }
    *end = p;
    *out = (uint16_t)v;
    return true;
}

int wp_services_parse(struct wp_services **out, const char *text, size_t len, const char *name,
                      char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    struct wp_services *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", name);
        return -1;
    }
    struct wp_datafile df;
    wp_datafile_init(&df, text, len);
    char *f[WP_DATAFILE_MAX_FIELDS];
    int nf;
    char why[128];
    while ((nf = wp_datafile_next(&df, f, why, sizeof(why))) != 0) {
        if (nf < 0)
            goto bad;
        if (nf != 5) {
            snprintf(why, sizeof(why),
                     "expected 'transport ports name scope \"label\"', found %d fields", nf);
            goto bad;
        }
        struct wp_service sv;
        memset(&sv, 0, sizeof(sv));
        if (strcmp(f[0], "tcp") == 0)
            sv.proto = WP_IPPROTO_TCP;
        else if (strcmp(f[0], "udp") == 0)
            sv.proto = WP_IPPROTO_UDP;
        else {
            snprintf(why, sizeof(why), "transport must be tcp or udp, not '%.30s'", f[0]);
            goto bad;
        }
        const char *e;
        if (!parse_port(f[1], &e, &sv.lo)) {
            snprintf(why, sizeof(why), "bad port '%.30s'", f[1]);
            goto bad;
        }
        sv.hi = sv.lo;
        if (*e == '-') {
            if (!parse_port(e + 1, &e, &sv.hi) || sv.hi < sv.lo) {
                snprintf(why, sizeof(why), "bad port range '%.30s'", f[1]);
                goto bad;
            }
        }
        if (*e != '\0') {
            snprintf(why, sizeof(why), "bad port '%.30s'", f[1]);
            goto bad;
        }
        if (!valid_name(f[2])) {
            snprintf(why, sizeof(why),
                     "bad service name '%.40s' (lowercase letters, digits, . + _ -; at most 31)",
                     f[2]);
            goto bad;
        }
        memcpy(sv.name, f[2], strlen(f[2]) + 1);
        if (strcmp(f[3], "apple") == 0)
            sv.apple = true;
        else if (strcmp(f[3], "any") != 0) {
            snprintf(why, sizeof(why), "scope must be any or apple, not '%.30s'", f[3]);
            goto bad;
        }
        if (!copy_field(sv.label, sizeof(sv.label), f[4])) {
            snprintf(why, sizeof(why), "label longer than %zu bytes", sizeof(sv.label) - 1);
            goto bad;
        }
        for (size_t i = 0; i < s->n; i++) {
            const struct wp_service *o = &s->v[i];
            if (o->proto == sv.proto && o->apple == sv.apple && o->lo == sv.lo && o->hi == sv.hi) {
                snprintf(why, sizeof(why), "duplicate of an earlier line for %s %s (%s)", f[0],
                         f[1], f[3]);
                goto bad;
            }
        }
        if (s->n == s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 256;
            struct wp_service *nv = realloc(s->v, nc * sizeof(*nv));
            if (nv == NULL) {
                snprintf(why, sizeof(why), "out of memory");
                goto bad;
            }
            s->v = nv;
            s->cap = nc;
        }
        s->v[s->n++] = sv;
        int slot = proto_slot(sv.proto);
        for (unsigned p = sv.lo; p <= sv.hi; p++)
            s->known[slot][p / 8] = (uint8_t)(s->known[slot][p / 8] | (1u << (p % 8)));
    }
    *out = s;
    return 0;
bad:
    snprintf(errbuf, WP_ERRBUF_SIZE, "%s:%u: %s", name, wp_datafile_line(&df), why);
    wp_services_free(s);
    return -1;
}

int wp_services_load(struct wp_services **out, const char *path, char errbuf[WP_ERRBUF_SIZE])
{
    char *text;
    size_t len;
    *out = NULL;
    if (wp_datafile_read(path, &text, &len, errbuf) != 0)
        return -1;
    int r = wp_services_parse(out, text, len, path, errbuf);
    free(text);
    return r;
}

int wp_services_builtin(struct wp_services **out, char errbuf[WP_ERRBUF_SIZE])
{
    return wp_services_parse(out, wp_builtin_services, wp_builtin_services_len,
                             "(built-in services.txt)", errbuf);
}

bool wp_services_known(const struct wp_services *s, uint8_t proto, uint16_t port)
{
    int slot = proto_slot(proto);
    if (slot < 0)
        return false;
    return (s->known[slot][port / 8] >> (port % 8)) & 1;
}

const struct wp_service *wp_services_lookup(const struct wp_services *s, uint8_t proto,
                                            uint16_t port, bool server_apple)
{
    const struct wp_service *best = NULL;
    for (int pass = server_apple ? 0 : 1; pass < 2 && best == NULL; pass++) {
        bool want_apple = pass == 0;
        for (size_t i = 0; i < s->n; i++) {
            const struct wp_service *sv = &s->v[i];
            if (sv->proto != proto || sv->apple != want_apple || port < sv->lo || port > sv->hi)
                continue;
            if (best == NULL || sv->hi - sv->lo < best->hi - best->lo)
                best = sv;
        }
    }
    return best;
}

size_t wp_services_count(const struct wp_services *s)
{
    return s->n;
}

void wp_services_free(struct wp_services *s)
{
    if (s == NULL)
        return;
    free(s->v);
    free(s);
}

/* ---- service side ------------------------------------------------------- */

bool wp_port_ephemeral(uint16_t port)
{
    return port >= 32768; /* union of 32768-60999 (Linux) and 49152-65535 (IANA) */
}

int wp_service_side(const struct wp_services *s, uint8_t proto, const uint16_t p[2],
                    enum wp_how *how)
{
    if (p[0] == p[1]) {
        *how = WP_HOW_FIRST;
        return -1;
    }
    bool k0 = wp_services_known(s, proto, p[0]);
    bool k1 = wp_services_known(s, proto, p[1]);
    if (k0 != k1) {
        *how = WP_HOW_REGISTRY;
        return k0 ? 0 : 1;
    }
    bool e0 = wp_port_ephemeral(p[0]);
    bool e1 = wp_port_ephemeral(p[1]);
    if (e0 != e1) {
        *how = WP_HOW_EPHEMERAL;
        return e0 ? 1 : 0;
    }
    *how = WP_HOW_LOWER;
    return p[0] < p[1] ? 0 : 1;
}

int wp_service_side_payload(uint8_t proto, uint16_t sport, uint16_t dport, const uint8_t *payload,
                            size_t len)
{
    if (proto != 17 || payload == NULL)
        return -1;
    if ((sport == 123 || dport == 123) && len >= 48) {
        /* RFC 5905 7.3: LI (2 bits), VN (3), Mode (3); an NTP packet has a
         * 48-byte header; versions 1-4 share the layout */
        unsigned vn = (payload[0] >> 3) & 7u, mode = payload[0] & 7u;
        if (vn >= 1 && vn <= 4) {
            if (mode == 3)
                return 0;
            if (mode == 4 || mode == 5)
                return 1;
        }
        return -1;
    }
    if ((sport == 53 || dport == 53) && len >= 12) {
        /* RFC 1035 4.1.1: QR is the top bit of the third byte; one
         * question at most in practice (QDCOUNT 0 or 1) */
        unsigned qd = ((unsigned)payload[4] << 8) | payload[5];
        if (qd > 1)
            return -1;
        return (payload[2] & 0x80) ? 1 : 0;
    }
    return -1;
}

const char *wp_how_name(unsigned how)
{
    static const char *const names[WP_HOW_COUNT] = {
        "syn", "registry", "ephemeral", "lower", "first", "icmp", "protocol",
    };
    return how < WP_HOW_COUNT ? names[how] : "unknown";
}
