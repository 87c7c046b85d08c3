/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests for the name parsers (src/dns.c, src/tls.c, src/http.c, src/quic.c)
 *
 * DNS messages, ClientHellos and HTTP requests are built byte by byte below.
 * QUIC Initial packets are built by an encoder written here, whose key
 * derivation is coded independently of src/quic.c (HKDF from HMAC-SHA256
 * with OpenSSL's HMAC(), RFC 5869) and checked against the RFC 9001 A.1 and
 * RFC 9369 A.1 key vectors; only AES-GCM and AES-ECB come from OpenSSL's EVP
 * layer, as in the code under test.
 *
 * Every parser call reads from an exact-size heap copy of its input, so that
 * AddressSanitizer reports a read of even one byte past the end. Sweeps over
 * every prefix length or every bit flip count as one test point each and
 * name the first failing position. */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tap.h"
#include "wp/names_parse.h"

/* ---- helpers -------------------------------------------------------------- */

/* Exact-size heap copy of b[0..n) (released by the next call or dup_free). */
static uint8_t *g_dup;

static const uint8_t *dup_n(const uint8_t *b, size_t n)
{
    free(g_dup);
    g_dup = malloc(n ? n : 1);
    if (g_dup == NULL)
        abort();
    if (n)
        memcpy(g_dup, b, n);
    return g_dup;
}

static void dup_free(void)
{
    free(g_dup);
    g_dup = NULL;
}

/* A small deterministic PRNG (xorshift64*), for the fuzz loops. */
static uint64_t g_rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (uint32_t)((g_rng * 0x2545f4914f6cdd1du) >> 32);
}

/* True when s is printable ASCII and at most WP_NAME_MAX characters. */
static bool presentable(const char *s)
{
    size_t n = strlen(s);
    if (n > WP_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

/* ---- DNS message builder -------------------------------------------------- */

struct mb {
    uint8_t b[8192];
    size_t n;
};

static void put8(struct mb *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void put16(struct mb *m, unsigned v)
{
    put8(m, (v >> 8) & 0xff);
    put8(m, v & 0xff);
}

static void put32(struct mb *m, uint32_t v)
{
    put16(m, (unsigned)(v >> 16));
    put16(m, (unsigned)(v & 0xffff));
}

static void putbytes(struct mb *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void putlabel(struct mb *m, const void *p, size_t n)
{
    put8(m, (unsigned)n);
    putbytes(m, p, n);
}

/* Dotted name to labels, ending with the root label unless `ptr` >= 0, in
 * which case a compression pointer to `ptr` ends it. Returns its offset. */
static size_t putname_ptr(struct mb *m, const char *dotted, int ptr)
{
    size_t at = m->n;
    const char *s = dotted;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        putlabel(m, s, n);
        s += n;
        if (*s == '.')
            s++;
    }
    if (ptr >= 0)
        put16(m, 0xc000u | (unsigned)ptr);
    else
        put8(m, 0);
    return at;
}

static size_t putname(struct mb *m, const char *dotted)
{
    return putname_ptr(m, dotted, -1);
}

static void putptr(struct mb *m, size_t off)
{
    put16(m, 0xc000u | (unsigned)off);
}

static void dns_hdr(struct mb *m, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                    unsigned ar)
{
    m->n = 0;
    put16(m, 0x1234);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

/* After an owner name: type, class, TTL and a placeholder rdlength. Returns
 * where the rdlength is, for rr_end. */
static size_t rr_begin(struct mb *m, unsigned type, unsigned cls)
{
    put16(m, type);
    put16(m, cls);
    put32(m, 300);
    size_t at = m->n;
    put16(m, 0);
    return at;
}

static void rr_end(struct mb *m, size_t at)
{
    size_t len = m->n - at - 2;
    m->b[at] = (uint8_t)(len >> 8);
    m->b[at + 1] = (uint8_t)len;
}

static void rr_a(struct mb *m, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    size_t at = rr_begin(m, 1, 1);
    put8(m, a);
    put8(m, b);
    put8(m, c);
    put8(m, d);
    rr_end(m, at);
}

/* Collected callbacks. */
struct got {
    char name[WP_NAME_SIZE];
    uint8_t family;
    uint8_t addr[16];
};

struct dnsres {
    struct got g[256];
    int n;
    bool bad_name; /* a name that is not presentable was handed out */
};

static void dns_cb(void *ctx, const char *name, uint8_t family, const uint8_t addr[16])
{
    struct dnsres *r = ctx;
    if (!presentable(name) || (family != 4 && family != 6))
        r->bad_name = true;
    if (r->n < 256) {
        struct got *g = &r->g[r->n];
        snprintf(g->name, sizeof g->name, "%s", name);
        g->family = family;
        memcpy(g->addr, addr, 16);
    }
    r->n++;
}

static int dns_run(const struct mb *m, size_t n, struct dnsres *r)
{
    memset(r, 0, sizeof *r);
    return wp_dns_answers(dup_n(m->b, n), n, dns_cb, r);
}

static bool is_v4(const struct got *g, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    static const uint8_t zero[12];
    return g->family == 4 && g->addr[0] == a && g->addr[1] == b && g->addr[2] == c &&
           g->addr[3] == d && memcmp(g->addr + 4, zero, 12) == 0;
}

/* ---- DNS tests -------------------------------------------------------------- */

static void test_dns_basic(void)
{
    struct mb m;
    struct dnsres r;
    int ret;

    /* example.com A 93.184.216.34, the owner a pointer to the question. */
    dns_hdr(&m, 0x8180, 1, 1, 0, 0);
    putname(&m, "example.com");
    put16(&m, 1);
    put16(&m, 1);
    putptr(&m, 12);
    rr_a(&m, 93, 184, 216, 34);
    ret = dns_run(&m, m.n, &r);
    TAP_EQ(ret, 1, "dns: one A record reported");
    TAP_OK(r.n == 1 && strcmp(r.g[0].name, "example.com") == 0 && is_v4(&r.g[0], 93, 184, 216, 34),
           "dns: A record name and address");

    /* The same message as a query (QR = 0) is ignored. */
    m.b[2] = 0x01;
    m.b[3] = 0x00;
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 0 && r.n == 0, "dns: a query is ignored");
    /* A response to another opcode (NOTIFY = 4) is ignored too. */
    m.b[2] = 0x80 | (4 << 3);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 0 && r.n == 0, "dns: a NOTIFY response is ignored");

    /* AAAA 2001:db8::1 for IPV6.Example.NET (case folded). */
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    dns_hdr(&m, 0x8180, 1, 1, 0, 0);
    putname(&m, "IPV6.Example.NET");
    put16(&m, 28);
    put16(&m, 1);
    putptr(&m, 12);
    size_t at = rr_begin(&m, 28, 1);
    putbytes(&m, v6, 16);
    rr_end(&m, at);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 1 && r.n == 1 && r.g[0].family == 6 && memcmp(r.g[0].addr, v6, 16) == 0 &&
               strcmp(r.g[0].name, "ipv6.example.net") == 0,
           "dns: AAAA record, name lowercased");

    /* An A record with 5 bytes of rdata makes the message malformed. */
    dns_hdr(&m, 0x8180, 1, 1, 0, 0);
    putname(&m, "example.com");
    put16(&m, 1);
    put16(&m, 1);
    putptr(&m, 12);
    at = rr_begin(&m, 1, 1);
    putbytes(&m, "\1\2\3\4\5", 5);
    rr_end(&m, at);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns: A with rdlength 5 is malformed");
    /* ... but in class CH it is not ours to judge. */
    m.b[12 + 13 + 4 + 2 + 2 + 1] = 3;
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 0 && r.n == 0, "dns: class CH A record skipped, message fine");

    /* Shorter than a header. */
    ret = wp_dns_answers(dup_n(m.b, 11), 11, dns_cb, &r);
    TAP_EQ(ret + 1, 0, "dns: 11 bytes is malformed");
    TAP_EQ(wp_dns_answers(NULL, 0, NULL, NULL) + 1, 0, "dns: NULL message is malformed");
}

/* Question GateWay.iCloud.COM, CNAME chain through two names, two A records
 * for the last one, and one unrelated A record. `reverse` puts the A records
 * before the CNAMEs. */
static size_t build_cname(struct mb *m, bool reverse)
{
    size_t t1 = 0, t2 = 0, at;

    dns_hdr(m, 0x8180, 1, 5, 0, 0);
    putname(m, "GateWay.iCloud.COM");
    put16(m, 1);
    put16(m, 1);
    if (!reverse) {
        putptr(m, 12);
        at = rr_begin(m, 5, 1);
        t1 = putname(m, "gateway.fe.apple-dns.net");
        rr_end(m, at);
        putptr(m, t1);
        at = rr_begin(m, 5, 1);
        /* gateway.fe2 + pointer to "apple-dns.net" inside t1 */
        t2 = putname_ptr(m, "gateway.fe2", (int)(t1 + 8 + 3));
        rr_end(m, at);
        putptr(m, t2);
        rr_a(m, 17, 248, 1, 1);
        putptr(m, t2);
        rr_a(m, 17, 248, 1, 2);
    } else {
        /* The A records first, their owner written out in full. */
        t2 = putname(m, "Gateway.FE2.apple-dns.net");
        rr_a(m, 17, 248, 1, 1);
        putptr(m, t2);
        rr_a(m, 17, 248, 1, 2);
        putptr(m, 12);
        at = rr_begin(m, 5, 1);
        t1 = putname(m, "gateway.fe.apple-dns.net");
        rr_end(m, at);
        putptr(m, t1);
        at = rr_begin(m, 5, 1);
        putptr(m, t2);
        rr_end(m, at);
    }
    putname(m, "other.example");
    rr_a(m, 10, 0, 0, 1);
    return m->n;
}

static void test_dns_cname(void)
{
    struct mb m;
    struct dnsres r;
    int ret;

    for (int rev = 0; rev < 2; rev++) {
        size_t n = build_cname(&m, rev != 0);
        ret = dns_run(&m, n, &r);
        TAP_EQ(ret, 3, "dns: CNAME chain%s: 3 addresses", rev ? " (A records first)" : "");
        bool ok = r.n == 3;
        int seen = 0;
        for (int i = 0; ok && i < 3; i++) {
            if (strcmp(r.g[i].name, "gateway.icloud.com") == 0 && is_v4(&r.g[i], 17, 248, 1, 1))
                seen |= 1;
            else if (strcmp(r.g[i].name, "gateway.icloud.com") == 0 &&
                     is_v4(&r.g[i], 17, 248, 1, 2))
                seen |= 2;
            else if (strcmp(r.g[i].name, "other.example") == 0 && is_v4(&r.g[i], 10, 0, 0, 1))
                seen |= 4;
        }
        TAP_OK(ok && seen == 7,
               "dns: CNAME chain%s: addresses under the question name, unrelated one under its "
               "owner",
               rev ? " (A records first)" : "");
    }

    /* Every prefix of the message is malformed and reports nothing. */
    size_t n = build_cname(&m, false);
    size_t bad = 0;
    bool fail = false;
    for (size_t k = 0; k < n; k++) {
        ret = dns_run(&m, k, &r);
        if (ret != -1 || r.n != 0) {
            fail = true;
            bad = k;
            break;
        }
    }
    TAP_OK(!fail, "dns: all %zu truncations of the CNAME message are malformed (first bad %zu)", n,
           bad);
}

static void test_dns_pointers(void)
{
    struct mb m;
    struct dnsres r;
    int ret;

    /* A question whose name is a pointer to itself. */
    dns_hdr(&m, 0x8180, 1, 0, 0, 0);
    putptr(&m, 12);
    put16(&m, 1);
    put16(&m, 1);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns: self-pointer loop is malformed");

    /* Two pointers pointing at each other. */
    dns_hdr(&m, 0x8180, 1, 0, 0, 0);
    putptr(&m, 14);
    putptr(&m, 12);
    put16(&m, 1);
    put16(&m, 1);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns: two-pointer loop is malformed");

    /* A label followed by a pointer back to it: grows until 255 octets. */
    dns_hdr(&m, 0x8180, 1, 0, 0, 0);
    putlabel(&m, "abc", 3);
    putptr(&m, 12);
    put16(&m, 1);
    put16(&m, 1);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns: label+pointer loop is malformed");

    /* A pointer past the end of the message. */
    dns_hdr(&m, 0x8180, 1, 0, 0, 0);
    putptr(&m, 200);
    put16(&m, 1);
    put16(&m, 1);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1, "dns: pointer beyond the message is malformed");

    /* Reserved label types 01 and 10. */
    dns_hdr(&m, 0x8180, 1, 0, 0, 0);
    put8(&m, 0x41);
    put8(&m, 0);
    put16(&m, 1);
    put16(&m, 1);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1, "dns: extended label type 0x41 is malformed");

    /* A forward pointer: the question points at the answer's owner name,
     * written out in full after it. */
    dns_hdr(&m, 0x8180, 1, 1, 0, 0);
    putptr(&m, 18);
    put16(&m, 1);
    put16(&m, 1);
    size_t owner = putname(&m, "fwd.Example");
    TAP_EQ(owner, 18, "dns: builder put the forward target at 18");
    rr_a(&m, 192, 0, 2, 7);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 1 && r.n == 1 && strcmp(r.g[0].name, "fwd.example") == 0 &&
               is_v4(&r.g[0], 192, 0, 2, 7),
           "dns: forward pointer followed");

    /* A chain of 60 pointers is fine; 70 is too many. */
    for (int jumps = 60; jumps <= 70; jumps += 10) {
        dns_hdr(&m, 0x8180, 1, 1, 0, 0);
        /* question: pointer to the first link of the chain below */
        size_t q = m.n;
        put16(&m, 0);
        put16(&m, 1);
        put16(&m, 1);
        size_t target = putname(&m, "deep.example");
        rr_a(&m, 192, 0, 2, 9); /* owner "deep.example" in full */
        /* the chain lives in the additional-less tail: link i points at i-1 */
        size_t prev = target;
        for (int i = 0; i < jumps - 1; i++) {
            size_t here = m.n;
            putptr(&m, prev);
            prev = here;
        }
        m.b[q] = (uint8_t)(0xc0 | (prev >> 8));
        m.b[q + 1] = (uint8_t)prev;
        ret = dns_run(&m, m.n, &r);
        if (jumps == 60)
            TAP_OK(ret == 1 && r.n == 1 && strcmp(r.g[0].name, "deep.example") == 0,
                   "dns: 60 pointer jumps followed");
        else
            TAP_OK(ret == -1 && r.n == 0, "dns: 70 pointer jumps are malformed");
    }
}

static void test_dns_escapes(void)
{
    struct mb m;
    struct dnsres r;
    int ret;
    static const uint8_t l1[] = {'a', '.', 'b'};
    static const uint8_t l2[] = {0x00, 0x1b, 0xff};
    static const uint8_t l3[] = {'S', 'p', ' ', 'a', 'c', 'e', '\\', '_', '-', '9'};

    dns_hdr(&m, 0x8180, 1, 1, 0, 0);
    putlabel(&m, l1, sizeof l1);
    putlabel(&m, l2, sizeof l2);
    putlabel(&m, l3, sizeof l3);
    putname(&m, "COM");
    put16(&m, 1);
    put16(&m, 1);
    putptr(&m, 12);
    rr_a(&m, 1, 2, 3, 4);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 1 && r.n == 1, "dns: escaped name reported");
    TAP_OK(r.n == 1 && strcmp(r.g[0].name, "a\\046b.\\000\\027\\255.sp\\032ace\\092_-9.com") == 0,
           "dns: dot, NUL, ESC, 0xff, space and backslash in labels escaped as \\DDD (got %s)",
           r.n ? r.g[0].name : "-");

    /* The root name as owner is presented as ".". */
    dns_hdr(&m, 0x8180, 0, 1, 0, 0);
    put8(&m, 0);
    rr_a(&m, 1, 2, 3, 4);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 1 && r.n == 1 && strcmp(r.g[0].name, ".") == 0, "dns: root owner shown as \".\"");

    /* 63+63+63+61 letters: 253 characters, 255 wire octets: fine. */
    char lab[64];
    memset(lab, 'a', sizeof lab);
    dns_hdr(&m, 0x8180, 1, 1, 0, 0);
    putlabel(&m, lab, 63);
    putlabel(&m, lab, 63);
    putlabel(&m, lab, 63);
    putlabel(&m, lab, 61);
    put8(&m, 0);
    put16(&m, 1);
    put16(&m, 1);
    putptr(&m, 12);
    rr_a(&m, 1, 2, 3, 4);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 1 && r.n == 1 && strlen(r.g[0].name) == 253, "dns: 253-character name reported");

    /* 256 wire octets: malformed. */
    dns_hdr(&m, 0x8180, 1, 1, 0, 0);
    putlabel(&m, lab, 63);
    putlabel(&m, lab, 63);
    putlabel(&m, lab, 63);
    putlabel(&m, lab, 62);
    put8(&m, 0);
    put16(&m, 1);
    put16(&m, 1);
    putptr(&m, 12);
    rr_a(&m, 1, 2, 3, 4);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns: 256-octet name is malformed");

    /* 253 wire octets that need 254 characters (one \001): that record is
     * skipped, another record in the message is still reported. */
    dns_hdr(&m, 0x8180, 1, 2, 0, 0);
    putlabel(&m, lab, 63);
    putlabel(&m, lab, 63);
    putlabel(&m, lab, 63);
    lab[58] = 1;
    putlabel(&m, lab, 59);
    lab[58] = 'a';
    put8(&m, 0);
    put16(&m, 1);
    put16(&m, 1);
    putptr(&m, 12);
    rr_a(&m, 1, 2, 3, 4);
    putname(&m, "ok.example");
    rr_a(&m, 5, 6, 7, 8);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 1 && r.n == 1 && strcmp(r.g[0].name, "ok.example") == 0 &&
               is_v4(&r.g[0], 5, 6, 7, 8),
           "dns: name needing 254 characters skipped, other record kept");

    /* Four labels of 60 bytes 0xff: 960+ characters: skipped. */
    uint8_t ff[60];
    memset(ff, 0xff, sizeof ff);
    dns_hdr(&m, 0x8180, 0, 1, 0, 0);
    for (int i = 0; i < 4; i++)
        putlabel(&m, ff, sizeof ff);
    put8(&m, 0);
    rr_a(&m, 1, 2, 3, 4);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 0 && r.n == 0, "dns: name of 0xff bytes too long to present: skipped");
}

static void test_dns_mdns_https(void)
{
    struct mb m;
    struct dnsres r;
    int ret;
    size_t at;
    static const uint8_t fe80[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t db8[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};

    /* mDNS response (RFC 6762): no question, cache-flush class 0x8001. */
    dns_hdr(&m, 0x8400, 0, 2, 0, 1);
    size_t owner = putname(&m, "MyMac.local");
    rr_begin(&m, 1, 0x8001);
    m.b[m.n - 1] = 4;
    putbytes(&m, "\xc0\xa8\x01\x14", 4);
    putptr(&m, owner);
    at = rr_begin(&m, 28, 0x8001);
    putbytes(&m, fe80, 16);
    rr_end(&m, at);
    putname(&m, "Printer.local");
    rr_a(&m, 192, 168, 1, 30);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 3 && r.n == 3, "dns: mDNS response: 3 addresses");
    TAP_OK(r.n == 3 && strcmp(r.g[0].name, "mymac.local") == 0 && is_v4(&r.g[0], 192, 168, 1, 20) &&
               strcmp(r.g[1].name, "mymac.local") == 0 && r.g[1].family == 6 &&
               memcmp(r.g[1].addr, fe80, 16) == 0 && strcmp(r.g[2].name, "printer.local") == 0 &&
               is_v4(&r.g[2], 192, 168, 1, 30),
           "dns: mDNS records under their owner names (answer and additional)");

    /* HTTPS record reached through a CNAME, with alpn, ipv4hint (2
     * addresses) and ipv6hint (1). */
    dns_hdr(&m, 0x8180, 1, 2, 0, 0);
    putname(&m, "svc.example");
    put16(&m, 65);
    put16(&m, 1);
    putptr(&m, 12);
    at = rr_begin(&m, 5, 1);
    size_t cdn = putname(&m, "cdn.example");
    rr_end(&m, at);
    putptr(&m, cdn);
    at = rr_begin(&m, 65, 1);
    put16(&m, 1); /* SvcPriority */
    put8(&m, 0);  /* TargetName "." */
    put16(&m, 1); /* alpn */
    put16(&m, 3);
    putbytes(&m, "\x02h2", 3);
    put16(&m, 4); /* ipv4hint */
    put16(&m, 8);
    putbytes(&m, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    put16(&m, 6); /* ipv6hint */
    put16(&m, 16);
    putbytes(&m, db8, 16);
    rr_end(&m, at);
    size_t https_end = m.n;
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 3 && r.n == 3 && strcmp(r.g[0].name, "svc.example") == 0 &&
               is_v4(&r.g[0], 1, 2, 3, 4) && strcmp(r.g[1].name, "svc.example") == 0 &&
               is_v4(&r.g[1], 5, 6, 7, 8) && strcmp(r.g[2].name, "svc.example") == 0 &&
               r.g[2].family == 6 && memcmp(r.g[2].addr, db8, 16) == 0,
           "dns: HTTPS ipv4hint and ipv6hint under the question name");

    /* The same record as SVCB (64). */
    m.b[cdn + 13 + 2 + 1] = 64; /* type low byte after the owner pointer */
    ret = dns_run(&m, https_end, &r);
    TAP_OK(ret == 3 && r.n == 3, "dns: SVCB record hints reported too");
    m.b[cdn + 13 + 2 + 1] = 65;

    /* An ipv4hint of 6 bytes (well framed) is malformed. */
    dns_hdr(&m, 0x8180, 0, 1, 0, 0);
    putname(&m, "h6.example");
    at = rr_begin(&m, 65, 1);
    put16(&m, 1);
    put8(&m, 0);
    put16(&m, 4);
    put16(&m, 6);
    putbytes(&m, "\x01\x02\x03\x04\x05\x06", 6);
    rr_end(&m, at);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns: ipv4hint not a multiple of 4 is malformed");
    /* A parameter running past the rdata. */
    m.b[m.n - 7] = 7;
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns: SvcParam longer than the rdata is malformed");
    /* AliasMode with a compressed target and no parameters: no address. */
    dns_hdr(&m, 0x8180, 0, 1, 0, 0);
    size_t own = putname(&m, "alias.example");
    at = rr_begin(&m, 65, 1);
    put16(&m, 0);
    putptr(&m, own);
    rr_end(&m, at);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 0 && r.n == 0, "dns: HTTPS AliasMode without hints: nothing");
    (void)https_end;
}

static void test_dns_sections(void)
{
    struct mb m;
    struct dnsres r;
    int ret;
    size_t at;

    /* NS referral with glue in the additional section. */
    dns_hdr(&m, 0x8100, 1, 0, 1, 2);
    putname(&m, "example.org");
    put16(&m, 2);
    put16(&m, 1);
    putptr(&m, 12);
    at = rr_begin(&m, 2, 1);
    size_t ns1 = putname_ptr(&m, "ns1", 12);
    rr_end(&m, at);
    putptr(&m, ns1);
    rr_a(&m, 10, 0, 0, 53);
    put8(&m, 0); /* OPT pseudo-record */
    put16(&m, 41);
    put16(&m, 1232);
    put32(&m, 0);
    put16(&m, 0);
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 1 && r.n == 1 && strcmp(r.g[0].name, "ns1.example.org") == 0 &&
               is_v4(&r.g[0], 10, 0, 0, 53),
           "dns: glue A in the additional section under its owner");

    /* 70 A records: the first 64 are reported. */
    dns_hdr(&m, 0x8180, 1, 70, 0, 0);
    putname(&m, "many.example");
    put16(&m, 1);
    put16(&m, 1);
    for (int i = 0; i < 70; i++) {
        putptr(&m, 12);
        rr_a(&m, 10, 1, 0, (uint8_t)i);
    }
    ret = dns_run(&m, m.n, &r);
    TAP_OK(ret == 64 && r.n == 64 && is_v4(&r.g[63], 10, 1, 0, 63),
           "dns: at most 64 answer records used");
    /* ... but the rest is still checked. */
    ret = dns_run(&m, m.n - 1, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns: record 70 cut: malformed");
}

static void test_dns_tcp(void)
{
    struct mb a, b, s;
    struct dnsres r;

    dns_hdr(&a, 0x8180, 1, 1, 0, 0);
    putname(&a, "one.example");
    put16(&a, 1);
    put16(&a, 1);
    putptr(&a, 12);
    rr_a(&a, 10, 0, 0, 1);
    dns_hdr(&b, 0x8180, 1, 2, 0, 0);
    putname(&b, "two.example");
    put16(&b, 1);
    put16(&b, 1);
    putptr(&b, 12);
    rr_a(&b, 10, 0, 0, 2);
    putptr(&b, 12);
    rr_a(&b, 10, 0, 0, 3);

    s.n = 0;
    put16(&s, (unsigned)a.n);
    putbytes(&s, a.b, a.n);
    put16(&s, (unsigned)b.n);
    putbytes(&s, b.b, b.n);
    size_t two = s.n;
    put16(&s, (unsigned)a.n);
    putbytes(&s, a.b, 10); /* third message, partial */
    memset(&r, 0, sizeof r);
    int ret = wp_dns_tcp_answers(dup_n(s.b, s.n), s.n, dns_cb, &r);
    TAP_OK(ret == 3 && r.n == 3 && strcmp(r.g[0].name, "one.example") == 0 &&
               strcmp(r.g[2].name, "two.example") == 0 && is_v4(&r.g[2], 10, 0, 0, 3),
           "dns/tcp: two messages and a partial third: 3 addresses");

    /* Every prefix: never more than the complete messages give. */
    bool ok = true;
    size_t bad = 0;
    for (size_t k = 0; k <= s.n && ok; k++) {
        memset(&r, 0, sizeof r);
        ret = wp_dns_tcp_answers(dup_n(s.b, k), k, dns_cb, &r);
        int want = k >= two ? 3 : k >= 2 + a.n ? 1 : 0;
        if (ret != want || r.n != want) {
            ok = false;
            bad = k;
        }
    }
    TAP_OK(ok, "dns/tcp: every prefix reports the complete messages only (first bad %zu)", bad);

    /* A malformed message between two good ones: -1, the good ones reported. */
    s.n = 0;
    put16(&s, (unsigned)a.n);
    putbytes(&s, a.b, a.n);
    put16(&s, 5);
    putbytes(&s, "\x00\x01\x81\x80\x00", 5);
    put16(&s, (unsigned)b.n);
    putbytes(&s, b.b, b.n);
    memset(&r, 0, sizeof r);
    ret = wp_dns_tcp_answers(dup_n(s.b, s.n), s.n, dns_cb, &r);
    TAP_OK(ret == -1 && r.n == 3, "dns/tcp: malformed middle message: -1, others reported");

    /* A zero length prefix. */
    s.n = 0;
    put16(&s, 0);
    put16(&s, (unsigned)a.n);
    putbytes(&s, a.b, a.n);
    memset(&r, 0, sizeof r);
    ret = wp_dns_tcp_answers(dup_n(s.b, s.n), s.n, dns_cb, &r);
    TAP_OK(ret == -1 && r.n == 0, "dns/tcp: zero length prefix is malformed");
}

static void test_dns_fuzz(void)
{
    struct mb m;
    struct dnsres r;
    bool ok = true;
    unsigned long reported = 0;

    /* Random messages shaped like responses. */
    for (int it = 0; it < 30000 && ok; it++) {
        size_t n = 12 + rnd() % 200;
        for (size_t i = 0; i < n; i++)
            m.b[i] = (uint8_t)rnd();
        m.b[2] = (uint8_t)((m.b[2] | 0x80) & ~0x78);
        for (int i = 4; i < 12; i += 2) {
            m.b[i] = 0;
            m.b[i + 1] = (uint8_t)(m.b[i + 1] % 6);
        }
        int ret = dns_run(&m, n, &r);
        if (ret < -1 || r.bad_name || (ret >= 0 && ret != r.n) || (ret < 0 && r.n != 0))
            ok = false;
        if (ret > 0)
            reported += (unsigned long)ret;
    }
    TAP_OK(ok, "dns: 30000 random responses: -1 or a count matching the calls, names presentable");

    /* Mutations of a valid message: random bytes replaced. */
    ok = true;
    for (int it = 0; it < 30000 && ok; it++) {
        size_t n = build_cname(&m, it & 1);
        int flips = 1 + (int)(rnd() % 4);
        for (int f = 0; f < flips; f++)
            m.b[rnd() % n] = (uint8_t)rnd();
        int ret = dns_run(&m, n, &r);
        if (ret < -1 || r.bad_name || (ret >= 0 && ret != r.n) || (ret < 0 && r.n != 0))
            ok = false;
        if (ret > 0)
            reported += (unsigned long)ret;
    }
    TAP_OK(ok, "dns: 30000 mutated messages: never inconsistent (%lu addresses seen)", reported);
}

/* ---- TLS ---------------------------------------------------------------------- */

/* A ClientHello handshake message (header included) into out; returns its
 * length. sni NULL: no server_name; exts false: no extensions at all. */
static size_t build_ch(uint8_t *out, const uint8_t *sni, size_t sni_len, bool exts)
{
    struct mb *m = malloc(sizeof *m);
    if (m == NULL)
        abort();
    m->n = 0;
    put8(m, 1);
    put8(m, 0);
    put16(m, 0); /* 24-bit length, patched below */
    put16(m, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(m, (unsigned)(0x11 + i));
    put8(m, 32);
    for (int i = 0; i < 32; i++)
        put8(m, (unsigned)(0xa0 + i));
    put16(m, 6);
    put16(m, 0x1301);
    put16(m, 0x1302);
    put16(m, 0x1303);
    put8(m, 1);
    put8(m, 0);
    if (exts) {
        size_t el = m->n;
        put16(m, 0);
        put16(m, 0x002b); /* supported_versions */
        put16(m, 3);
        put8(m, 2);
        put16(m, 0x0304);
        if (sni != NULL) {
            put16(m, 0x0000);
            put16(m, (unsigned)(sni_len + 5));
            put16(m, (unsigned)(sni_len + 3));
            put8(m, 0);
            put16(m, (unsigned)sni_len);
            putbytes(m, sni, sni_len);
        }
        put16(m, 0x0010); /* ALPN h2 */
        put16(m, 5);
        put16(m, 3);
        putbytes(m, "\x02h2", 3);
        put16(m, 0x0015); /* padding */
        put16(m, 40);
        for (int i = 0; i < 40; i++)
            put8(m, 0);
        size_t len = m->n - el - 2;
        m->b[el] = (uint8_t)(len >> 8);
        m->b[el + 1] = (uint8_t)len;
    }
    size_t body = m->n - 4;
    m->b[1] = (uint8_t)(body >> 16);
    m->b[2] = (uint8_t)(body >> 8);
    m->b[3] = (uint8_t)body;
    size_t n = m->n;
    memcpy(out, m->b, n);
    free(m);
    return n;
}

/* Wrap hs[0..n) in records, cutting after each offset in cuts[] (ascending). */
static size_t wrap(uint8_t *out, const uint8_t *hs, size_t n, const size_t *cuts, size_t ncuts)
{
    size_t o = 0, from = 0;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t to = c < ncuts ? cuts[c] : n;
        size_t l = to - from;
        out[o++] = 22;
        out[o++] = 3;
        out[o++] = c == 0 ? 1 : 3;
        out[o++] = (uint8_t)(l >> 8);
        out[o++] = (uint8_t)l;
        memcpy(out + o, hs + from, l);
        o += l;
        from = to;
    }
    return o;
}

static enum wp_tls_result tls_rec(const uint8_t *d, size_t n, char *sni, size_t cap, size_t *need)
{
    return wp_tls_sni_records(dup_n(d, n), n, sni, cap, need);
}

static void test_tls_basic(void)
{
    uint8_t hs[2048], st[2048];
    char sni[WP_NAME_SIZE];
    size_t need = 0;
    const char *host = "WWW.Example.com";
    size_t hn = build_ch(hs, (const uint8_t *)host, strlen(host), true);
    size_t n = wrap(st, hs, hn, NULL, 0);

    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_SNI, "tls: one record: SNI");
    TAP_OK(strcmp(sni, "www.example.com") == 0, "tls: SNI lowercased (%s)", sni);

    /* Every split of the stream into two segments. */
    bool ok = true;
    size_t bad = 0;
    for (size_t k = 0; k < n && ok; k++) {
        enum wp_tls_result res = tls_rec(st, k, sni, sizeof sni, &need);
        size_t want = k < 9 ? 9 : n;
        if (res != WP_TLS_NEED_MORE || need != want || sni[0] != '\0') {
            ok = false;
            bad = k;
        }
    }
    TAP_OK(ok, "tls: all %zu prefixes: NEED_MORE with need 9, then the stream length (bad %zu)", n,
           bad);

    /* Trailing bytes after the ClientHello are ignored. */
    memcpy(st + n, "\x14\x03\x03\x00\x01\x01", 6);
    TAP_EQ(tls_rec(st, n + 6, sni, sizeof sni, &need), WP_TLS_SNI,
           "tls: bytes after the ClientHello ignored");

    /* Over two records, at every cut position. */
    ok = true;
    bad = 0;
    for (size_t cut = 1; cut < hn && ok; cut++) {
        size_t m = wrap(st, hs, hn, &cut, 1);
        if (tls_rec(st, m, sni, sizeof sni, &need) != WP_TLS_SNI ||
            strcmp(sni, "www.example.com") != 0) {
            ok = false;
            bad = cut;
            break;
        }
        for (size_t k = 0; k < m; k++) {
            enum wp_tls_result res = tls_rec(st, k, sni, sizeof sni, &need);
            /* need is exact once the handshake header has been seen */
            size_t hdr_seen = cut >= 4 ? 9 : 5 + cut + 5 + (4 - cut);
            if (res != WP_TLS_NEED_MORE || need <= k || need > m || (k >= hdr_seen && need != m)) {
                ok = false;
                bad = cut * 10000 + k;
                break;
            }
        }
    }
    TAP_OK(ok, "tls: ClientHello over two records, every cut and prefix (bad %zu)", bad);

    /* Three records with the handshake header itself split 1+2+rest. */
    size_t cuts[2] = {1, 3};
    size_t m = wrap(st, hs, hn, cuts, 2);
    TAP_EQ(tls_rec(st, m, sni, sizeof sni, &need), WP_TLS_SNI,
           "tls: handshake header split over three records");

    /* Raw handshake (QUIC CRYPTO data). */
    TAP_EQ(wp_tls_sni_handshake(dup_n(hs, hn), hn, sni, sizeof sni, &need), WP_TLS_SNI,
           "tls/hs: SNI from a bare handshake message");
    ok = true;
    for (size_t k = 0; k < hn && ok; k++) {
        enum wp_tls_result res = wp_tls_sni_handshake(dup_n(hs, k), k, sni, sizeof sni, &need);
        if (res != WP_TLS_NEED_MORE || need != (k < 4 ? 4 : hn)) {
            ok = false;
            bad = k;
        }
    }
    TAP_OK(ok, "tls/hs: every prefix NEED_MORE with need 4, then the message length (bad %zu)",
           bad);
    TAP_EQ(wp_tls_sni_handshake(dup_n((const uint8_t *)"\x02\x00\x00\x01", 4), 4, sni, sizeof sni,
                                &need),
           WP_TLS_NOT_TLS, "tls/hs: ServerHello type: NOT_TLS");
}

static void test_tls_names(void)
{
    uint8_t hs[2048], st[2048];
    char sni[WP_NAME_SIZE];
    size_t need, hn, n;

    hn = build_ch(hs, NULL, 0, true);
    n = wrap(st, hs, hn, NULL, 0);
    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_NO_SNI, "tls: no server_name: NO_SNI");
    hn = build_ch(hs, NULL, 0, false);
    n = wrap(st, hs, hn, NULL, 0);
    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_NO_SNI, "tls: no extensions: NO_SNI");

    static const uint8_t ctl[] = {'a', 0x01, 'B', 0x1b, '.', 'c', 0x7f, 0xc3, 0xa9, '\\', ' '};
    hn = build_ch(hs, ctl, sizeof ctl, true);
    n = wrap(st, hs, hn, NULL, 0);
    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_SNI, "tls: SNI with control characters");
    TAP_OK(strcmp(sni, "a\\001b\\027.c\\127\\195\\169\\092\\032") == 0,
           "tls: control characters, DEL, UTF-8, backslash and space escaped (%s)", sni);

    uint8_t longname[300];
    memset(longname, 'a', sizeof longname);
    hn = build_ch(hs, longname, sizeof longname, true);
    n = wrap(st, hs, hn, NULL, 0);
    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_SNI, "tls: 300-byte SNI");
    TAP_EQ(strlen(sni), 253, "tls: 300-byte SNI truncated to 253 characters");
    char small[10];
    TAP_EQ(tls_rec(st, n, small, sizeof small, &need), WP_TLS_SNI, "tls: small buffer");
    TAP_OK(strcmp(small, "aaaaaaaaa") == 0, "tls: SNI truncated to cap - 1 (%s)", small);
    memset(longname, 0x01, sizeof longname);
    hn = build_ch(hs, longname, sizeof longname, true);
    n = wrap(st, hs, hn, NULL, 0);
    tls_rec(st, n, sni, sizeof sni, &need);
    TAP_OK(strlen(sni) == 252 && strncmp(sni + 248, "\\001", 4) == 0,
           "tls: 300 escaped bytes cut at a whole escape: 63 escapes, 252 characters");

    /* Empty host name is malformed (HostName<1..2^16-1>). */
    hn = build_ch(hs, (const uint8_t *)"", 0, true);
    n = wrap(st, hs, hn, NULL, 0);
    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_MALFORMED, "tls: empty host_name");

    /* wp_name_present directly. */
    bool trunc;
    char out[8];
    size_t w = wp_name_present(out, sizeof out, (const uint8_t *)"ab\x01xy", 5, NULL, &trunc);
    TAP_OK(w == 7 && trunc && strcmp(out, "ab\\001x") == 0, "name_present: cut before y (%s)", out);
    w = wp_name_present(out, sizeof out, (const uint8_t *)"abcd\x01", 5, NULL, &trunc);
    TAP_OK(w == 4 && trunc && strcmp(out, "abcd") == 0, "name_present: escape never split");
    w = wp_name_present(out, sizeof out, (const uint8_t *)"[::1]", 5, "[]:", &trunc);
    TAP_OK(w == 5 && !trunc && strcmp(out, "[::1]") == 0, "name_present: extra characters kept");
    TAP_EQ(wp_name_present(out, 0, (const uint8_t *)"a", 1, NULL, NULL), 0,
           "name_present: cap 0 writes nothing");
}

static void test_tls_bad(void)
{
    uint8_t hs[2048], st[2048];
    char sni[WP_NAME_SIZE];
    size_t need, hn, n;
    const char *host = "www.example.com";

    TAP_EQ(tls_rec((const uint8_t *)"GET / HTTP/1.1\r\n", 16, sni, sizeof sni, &need),
           WP_TLS_NOT_TLS, "tls: HTTP request: NOT_TLS");
    TAP_EQ(tls_rec((const uint8_t *)"\x16\x02", 2, sni, sizeof sni, &need), WP_TLS_NOT_TLS,
           "tls: major version 2: NOT_TLS");
    TAP_EQ(tls_rec((const uint8_t *)"\x16\x03\x05", 3, sni, sizeof sni, &need), WP_TLS_NOT_TLS,
           "tls: version 3.5: NOT_TLS");
    TAP_EQ(tls_rec((const uint8_t *)"\x17\x03\x03\x00\x10", 5, sni, sizeof sni, &need),
           WP_TLS_NOT_TLS, "tls: application data record: NOT_TLS");
    TAP_EQ(tls_rec((const uint8_t *)"\x16", 1, sni, sizeof sni, &need), WP_TLS_NEED_MORE,
           "tls: one byte 0x16: NEED_MORE");

    /* A record claiming 20000 bytes. */
    TAP_EQ(
        tls_rec((const uint8_t *)"\x16\x03\x01\x4e\x20\x01\x00\x4e\x1c", 9, sni, sizeof sni, &need),
        WP_TLS_MALFORMED, "tls: record of 20000 bytes: MALFORMED");
    /* A ClientHello claiming 20000 bytes in a small record. */
    TAP_EQ(
        tls_rec((const uint8_t *)"\x16\x03\x01\x00\x04\x01\x00\x4e\x20", 9, sni, sizeof sni, &need),
        WP_TLS_MALFORMED, "tls: ClientHello of 20000 bytes: MALFORMED");
    /* A ClientHello claiming 16384 bytes is still waited for. */
    TAP_EQ(
        tls_rec((const uint8_t *)"\x16\x03\x01\x40\x00\x01\x00\x40\x00", 9, sni, sizeof sni, &need),
        WP_TLS_NEED_MORE, "tls: ClientHello of 16384 bytes: NEED_MORE");
    TAP_EQ(need, 5 + 4 + 16384 + 5, "tls: ... needing two records");
    /* An empty record. */
    TAP_EQ(tls_rec((const uint8_t *)"\x16\x03\x01\x00\x00", 5, sni, sizeof sni, &need),
           WP_TLS_MALFORMED, "tls: empty record: MALFORMED");
    /* A ServerHello. */
    TAP_EQ(
        tls_rec((const uint8_t *)"\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9, sni, sizeof sni, &need),
        WP_TLS_MALFORMED, "tls: ServerHello first: MALFORMED");

    /* Alert record between the two parts of a ClientHello. */
    hn = build_ch(hs, (const uint8_t *)host, strlen(host), true);
    size_t cut = 50;
    n = wrap(st, hs, hn, &cut, 1);
    st[5 + cut] = 21;
    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_MALFORMED,
           "tls: other content type inside the ClientHello: MALFORMED");

    /* Extensions length one too long / short. */
    n = wrap(st, hs, hn, NULL, 0);
    size_t extlen_at = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2;
    st[extlen_at + 1]++;
    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_MALFORMED,
           "tls: extensions length too long: MALFORMED");
    st[extlen_at + 1] = (uint8_t)(st[extlen_at + 1] - 2);
    TAP_EQ(tls_rec(st, n, sni, sizeof sni, &need), WP_TLS_MALFORMED,
           "tls: extensions length too short: MALFORMED");

    /* Random garbage, and garbage behind a valid record header. */
    bool ok = true;
    for (int it = 0; it < 20000 && ok; it++) {
        size_t len = rnd() % 600;
        for (size_t i = 0; i < len; i++)
            st[i] = (uint8_t)rnd();
        if ((it & 1) && len >= 9) {
            memcpy(st, "\x16\x03\x01", 3);
            st[3] = (uint8_t)(rnd() % 3);
            st[5] = 1;
            st[6] = 0;
        }
        need = 0;
        enum wp_tls_result res = tls_rec(st, len, sni, sizeof sni, &need);
        if (res == WP_TLS_SNI && !presentable(sni))
            ok = false;
        if (res == WP_TLS_NEED_MORE && need <= len)
            ok = false;
        if (!(it & 1) && len >= 3 && res != WP_TLS_NOT_TLS &&
            !(st[0] == 22 && st[1] == 3 && st[2] >= 1 && st[2] <= 4))
            ok = false;
    }
    TAP_OK(ok, "tls: 20000 random streams: consistent results, never a crash");

    /* Mutations of a valid two-record stream. */
    ok = true;
    int sni_seen = 0;
    for (int it = 0; it < 20000 && ok; it++) {
        size_t c = 1 + rnd() % (hn - 1);
        n = wrap(st, hs, hn, &c, 1);
        int flips = 1 + (int)(rnd() % 3);
        for (int f = 0; f < flips; f++)
            st[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
        enum wp_tls_result res = tls_rec(st, n, sni, sizeof sni, &need);
        if (res == WP_TLS_SNI) {
            sni_seen++;
            if (!presentable(sni))
                ok = false;
        }
        if (res == WP_TLS_NEED_MORE && need <= n)
            ok = false;
    }
    TAP_OK(ok, "tls: 20000 mutated streams: consistent results (%d still SNI)", sni_seen);
}

/* ---- HTTP ------------------------------------------------------------------------ */

static bool http(const char *req, char *host, size_t cap)
{
    size_t n = strlen(req);
    return wp_http_host(dup_n((const uint8_t *)req, n), n, host, cap);
}

static void test_http(void)
{
    char host[WP_NAME_SIZE];
    static const struct {
        const char *req;
        const char *host; /* NULL: false expected */
        const char *what;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: Example.COM\r\nAccept: */*\r\n\r\n", "example.com", "GET"},
        {"POST /x HTTP/1.0\r\nUser-Agent: t\r\nhost:example.com\r\n\r\n", "example.com",
         "lowercase name, no space, POST"},
        {"HEAD / HTTP/1.1\r\nHOST: \t example.com \t\r\n\r\n", "example.com", "OWS around value"},
        {"GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", "example.com", "port stripped"},
        {"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", "[::1]", "IPv6 literal with port"},
        {"GET / HTTP/1.1\r\nHost: [2001:DB8::1]\r\n\r\n", "[2001:db8::1]", "IPv6 literal"},
        {"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", NULL, "unclosed IPv6 literal"},
        {"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", NULL, "no Host"},
        {"GET / HTTP/1.1\r\nAccept: */*\r\n\r\nHost: body.example\r\n", NULL, "Host after headers"},
        {"GET / HTTP/1.1\r\nHostname: a\r\nX-Host: b\r\n\r\n", NULL, "similar names"},
        {"GET / HTTP/1.1\r\nHost: \r\n\r\n", NULL, "empty Host"},
        {"GET / HTTP/1.1\r\nHost: :80\r\n\r\n", NULL, "port only"},
        {"GET / HTTP/1.1\nHost: lf.example\n\n", "lf.example", "bare LF lines"},
        {"GET / HTTP/1.1\r\nHost : ws.example\r\n\r\n", "ws.example", "space before colon"},
        {"GET / HTTP/1.1\r\nHost: ex\x01"
         "ample.com\r\n\r\n",
         "ex\\001ample.com", "control character escaped"},
        {"GET / HTTP/1.1\r\nHost: a b\\c\r\n\r\n", "a\\032b\\092c", "space and backslash"},
        {"OPTIONS * HTTP/1.1\r\nHost: o.example\r\n", "o.example", "OPTIONS, no blank line yet"},
        {"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", "a.example", "CONNECT"},
        {"PUT / HTTP/1.1\r\nHost: p.example\r\n\r\n", "p.example", "PUT"},
        {"DELETE / HTTP/1.1\r\nHost: d.example\r\n\r\n", "d.example", "DELETE"},
        {"PATCH / HTTP/1.1\r\nHost: pa.example\r\n\r\n", "pa.example", "PATCH"},
        {"TRACE / HTTP/1.1\r\nHost: t.example\r\n\r\n", "t.example", "TRACE"},
        {"GET / HTTP/1.1", NULL, "request line without CRLF"},
        {"GET / HTTP/1.1\r\nHost: exam", NULL, "Host line cut"},
        {"GET / HTTP/2.0\r\nHost: x.example\r\n\r\n", NULL, "HTTP/2.0 request line"},
        {"GET /\r\nHost: x.example\r\n\r\n", NULL, "HTTP/0.9 style line"},
        {"get / HTTP/1.1\r\nHost: x.example\r\n\r\n", NULL, "lowercase method"},
        {"GETX / HTTP/1.1\r\nHost: x.example\r\n\r\n", NULL, "unknown method"},
        {"HELLO world\r\n", NULL, "not HTTP"},
        {"\x16\x03\x01\x00\x10", NULL, "TLS"},
        {"", NULL, "empty"},
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(cases); i++) {
        bool r = http(cases[i].req, host, sizeof host);
        if (cases[i].host != NULL)
            TAP_OK(r && strcmp(host, cases[i].host) == 0, "http: %s (%s)", cases[i].what, host);
        else
            TAP_OK(!r && host[0] == '\0', "http: %s: false", cases[i].what);
    }

    /* A long Host is cut at 253 characters. */
    char req[1024];
    int k = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: ");
    memset(req + k, 'h', 300);
    memcpy(req + k + 300, "\r\n\r\n", 5);
    TAP_OK(http(req, host, sizeof host) && strlen(host) == 253, "http: 300-character Host cut");
    TAP_OK(!http("GET / HTTP/1.1\r\nHost: x\r\n\r\n", host, 1), "http: cap 1 is too small");

    /* Every prefix: true exactly when the Host line is complete. */
    const char *full = "GET /index.html HTTP/1.1\r\nAccept: */*\r\nHost: pre.example:81\r\n\r\n";
    size_t n = strlen(full), host_end = (size_t)(strstr(full, ":81\r\n") - full) + 5;
    bool ok = true;
    size_t bad = 0;
    for (size_t j = 0; j <= n && ok; j++) {
        bool r = wp_http_host(dup_n((const uint8_t *)full, j), j, host, sizeof host);
        if (r != (j >= host_end) || (r && strcmp(host, "pre.example") != 0)) {
            ok = false;
            bad = j;
        }
    }
    TAP_OK(ok, "http: every prefix gives the Host only once its line is complete (bad %zu)", bad);

    /* Random bytes after a method. */
    uint8_t buf[512];
    ok = true;
    for (int it = 0; it < 20000 && ok; it++) {
        size_t len = 4 + rnd() % 400;
        memcpy(buf, "GET ", 4);
        for (size_t j = 4; j < len; j++) {
            uint32_t x = rnd() % 16;
            buf[j] = x == 0 ? '\n' : x == 1 ? ':' : x == 2 ? '\r' : (uint8_t)rnd();
        }
        if (wp_http_host(dup_n(buf, len), len, host, sizeof host) && !presentable(host))
            ok = false;
    }
    TAP_OK(ok, "http: 20000 random requests: names always presentable");
}

/* ---- QUIC ------------------------------------------------------------------------ */

/* An independent key derivation: HKDF (RFC 5869) from HMAC-SHA256. */
static void t_extract(const uint8_t *salt, size_t sl, const uint8_t *ikm, size_t il,
                      uint8_t prk[32])
{
    unsigned int n = 32;
    static const uint8_t none[1];
    if (HMAC(EVP_sha256(), salt, (int)sl, il ? ikm : none, il, prk, &n) == NULL || n != 32)
        abort();
}

static void t_expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t outlen)
{
    uint8_t info[64], t[32];
    size_t ll = strlen(label), n = 0;
    unsigned int tl = 32;
    info[n++] = 0;
    info[n++] = (uint8_t)outlen;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0;
    info[n++] = 1; /* HKDF-Expand counter for T(1); outlen <= 32 */
    if (HMAC(EVP_sha256(), secret, 32, info, n, t, &tl) == NULL)
        abort();
    memcpy(out, t, outlen);
}

struct tver {
    uint32_t version;
    const char *salt_hex;
    const char *prefix; /* "quic" or "quicv2" */
    unsigned initial_bits;
    unsigned handshake_bits;
};

static const struct tver tv1 = {0x00000001, "38762cf7f55934b34d179ae6a4c80cadccbb7f0a", "quic", 0,
                                2};
static const struct tver tv2 = {0x6b3343cf, "0dede3def700a6db819381be6e269dcbf9bd2ed9", "quicv2", 1,
                                3};
static const struct tver td29 = {0xff00001d, "afbfec289993d24c9e9786f19c6111e04390a899", "quic", 0,
                                 2};

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1)
            abort();
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void t_keys(const struct tver *v, const uint8_t *dcid, size_t dl, uint8_t key[16],
                   uint8_t iv[12], uint8_t hp[16])
{
    uint8_t salt[20], init[32], client[32];
    char label[32];
    unhex(v->salt_hex, salt);
    t_extract(salt, sizeof salt, dcid, dl, init);
    t_expand_label(init, "client in", client, 32);
    snprintf(label, sizeof label, "%s key", v->prefix);
    t_expand_label(client, label, key, 16);
    snprintf(label, sizeof label, "%s iv", v->prefix);
    t_expand_label(client, label, iv, 12);
    snprintf(label, sizeof label, "%s hp", v->prefix);
    t_expand_label(client, label, hp, 16);
}

static void aes_ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    if (c == NULL || EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) <= 0 ||
        EVP_CIPHER_CTX_set_padding(c, 0) <= 0 || EVP_EncryptUpdate(c, out, &n, in, 16) <= 0 ||
        n != 16)
        abort();
    EVP_CIPHER_CTX_free(c);
}

/* Seal a long-header packet (type bits `tbits`) with the keys for `kdcid`:
 * header fields, packet number `pn` on `pnlen` bytes, frames[0..fl) padded
 * with PADDING to `padto` payload bytes. Appends to out at *o. */
struct pktspec {
    const struct tver *v;
    unsigned tbits;
    const uint8_t *dcid;
    size_t dcid_len;
    const uint8_t *kdcid; /* the CID the keys come from (NULL: dcid) */
    size_t kdcid_len;
    const uint8_t *token;
    size_t token_len;
    uint32_t pn;
    size_t pnlen;
    const uint8_t *frames;
    size_t fl;
    size_t padto;
};

static void seal(const struct pktspec *s, uint8_t *out, size_t *o)
{
    uint8_t key[16], iv[12], hp[16], nonce[12], mask[16], tag[16];
    static const uint8_t scid[5] = {0x51, 0x52, 0x53, 0x54, 0x55};
    size_t start = *o, p = start;
    size_t plen = s->fl > s->padto ? s->fl : s->padto;
    size_t length = s->pnlen + plen + 16;
    uint8_t *pt = calloc(1, plen + 1);

    if (pt == NULL)
        abort();
    memcpy(pt, s->frames, s->fl);
    t_keys(s->v, s->kdcid ? s->kdcid : s->dcid, s->kdcid ? s->kdcid_len : s->dcid_len, key, iv, hp);
    out[p++] = (uint8_t)(0xc0 | (s->tbits << 4) | (s->pnlen - 1));
    out[p++] = (uint8_t)(s->v->version >> 24);
    out[p++] = (uint8_t)(s->v->version >> 16);
    out[p++] = (uint8_t)(s->v->version >> 8);
    out[p++] = (uint8_t)s->v->version;
    out[p++] = (uint8_t)s->dcid_len;
    memcpy(out + p, s->dcid, s->dcid_len);
    p += s->dcid_len;
    out[p++] = sizeof scid;
    memcpy(out + p, scid, sizeof scid);
    p += sizeof scid;
    if (s->tbits == s->v->initial_bits) {
        out[p++] = (uint8_t)s->token_len; /* < 64: one-byte varint */
        if (s->token_len > 0)
            memcpy(out + p, s->token, s->token_len);
        p += s->token_len;
    }
    out[p++] = (uint8_t)(0x40 | (length >> 8)); /* two-byte varint */
    out[p++] = (uint8_t)length;
    size_t pn_off = p;
    for (size_t i = 0; i < s->pnlen; i++)
        out[p++] = (uint8_t)(s->pn >> (8 * (s->pnlen - 1 - i)));
    memcpy(nonce, iv, 12);
    for (size_t i = 0; i < 4; i++)
        nonce[11 - i] ^= (uint8_t)(s->pn >> (8 * i));

    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    if (c == NULL || EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce) <= 0 ||
        EVP_EncryptUpdate(c, NULL, &n, out + start, (int)(p - start)) <= 0 ||
        EVP_EncryptUpdate(c, out + p, &n, pt, (int)plen) <= 0 ||
        EVP_EncryptFinal_ex(c, out + p + plen, &n) <= 0 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) <= 0)
        abort();
    EVP_CIPHER_CTX_free(c);
    p += plen;
    memcpy(out + p, tag, 16);
    p += 16;
    /* Header protection (RFC 9001 5.4). */
    aes_ecb(hp, out + pn_off + 4, mask);
    out[start] ^= mask[0] & 0x0f;
    for (size_t i = 0; i < s->pnlen; i++)
        out[pn_off + i] ^= mask[1 + i];
    free(pt);
    *o = p;
}

/* A CRYPTO frame (offset, data) appended to f at *n. */
static void crypto_frame(uint8_t *f, size_t *n, size_t off, const uint8_t *d, size_t len)
{
    f[(*n)++] = 0x06;
    f[(*n)++] = (uint8_t)(0x40 | (off >> 8));
    f[(*n)++] = (uint8_t)off;
    f[(*n)++] = (uint8_t)(0x40 | (len >> 8));
    f[(*n)++] = (uint8_t)len;
    memcpy(f + *n, d, len);
    *n += len;
}

struct qres {
    int frames;
    struct wp_crypto_buf *buf;
    uint64_t offsets[16];
};

static void quic_cb(void *ctx, uint64_t offset, const uint8_t *data, size_t len)
{
    struct qres *r = ctx;
    if (r->frames < 16)
        r->offsets[r->frames] = offset;
    r->frames++;
    if (r->buf != NULL)
        wp_crypto_buf_add(r->buf, offset, data, len);
}

static int quic_run(const uint8_t *d, size_t n, struct qres *r)
{
    r->frames = 0;
    return wp_quic_initial_crypto(dup_n(d, n), n, quic_cb, r);
}

static bool hexeq(const uint8_t *b, size_t n, const char *hex)
{
    uint8_t want[64];
    return unhex(hex, want) == n && memcmp(b, want, n) == 0;
}

static void test_quic_keys(void)
{
    static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
    uint8_t key[16], iv[12], hp[16], k2[16], i2[12], h2[16];

    TAP_EQ(wp_quic_client_keys(WP_QUIC_V1, dcid, 8, key, iv, hp), 0, "quic: v1 keys derived");
    TAP_OK(hexeq(key, 16, "1f369613dd76d5467730efcbe3b1a22d"), "quic: RFC 9001 A.1 client key");
    TAP_OK(hexeq(iv, 12, "fa044b2f42a3fd3b46fb255c"), "quic: RFC 9001 A.1 client iv");
    TAP_OK(hexeq(hp, 16, "9f50449e04a0e810283a1e9933adedd2"), "quic: RFC 9001 A.1 client hp");
    TAP_EQ(wp_quic_client_keys(WP_QUIC_V2, dcid, 8, key, iv, hp), 0, "quic: v2 keys derived");
    TAP_OK(hexeq(key, 16, "8b1a0bc121284290a29e0971b5cd045d"), "quic: RFC 9369 A.1 client key");
    TAP_OK(hexeq(iv, 12, "91f73e2351d8fa91660e909f"), "quic: RFC 9369 A.1 client iv");
    TAP_OK(hexeq(hp, 16, "45b95e15235d6f45a6b19cbcb0294ba9"), "quic: RFC 9369 A.1 client hp");

    /* The test's own derivation gives the same vectors ... */
    t_keys(&tv1, dcid, 8, k2, i2, h2);
    TAP_OK(hexeq(k2, 16, "1f369613dd76d5467730efcbe3b1a22d") &&
               hexeq(i2, 12, "fa044b2f42a3fd3b46fb255c") &&
               hexeq(h2, 16, "9f50449e04a0e810283a1e9933adedd2"),
           "quic: test encoder's HMAC-based derivation matches RFC 9001 A.1");
    t_keys(&tv2, dcid, 8, k2, i2, h2);
    TAP_OK(hexeq(k2, 16, "8b1a0bc121284290a29e0971b5cd045d") &&
               hexeq(i2, 12, "91f73e2351d8fa91660e909f") &&
               hexeq(h2, 16, "45b95e15235d6f45a6b19cbcb0294ba9"),
           "quic: test encoder's HMAC-based derivation matches RFC 9369 A.1");
    /* ... and agrees with OpenSSL for draft-29 and other CIDs. */
    bool ok = true;
    for (size_t dl = 0; dl <= 20; dl++) {
        uint8_t c[20];
        for (size_t i = 0; i < dl; i++)
            c[i] = (uint8_t)(i * 37 + dl);
        const struct tver *vs[3] = {&tv1, &tv2, &td29};
        for (int v = 0; v < 3; v++) {
            if (wp_quic_client_keys(vs[v]->version, c, dl, key, iv, hp) != 0)
                ok = false;
            t_keys(vs[v], c, dl, k2, i2, h2);
            if (memcmp(key, k2, 16) || memcmp(iv, i2, 12) || memcmp(hp, h2, 16))
                ok = false;
        }
    }
    TAP_OK(ok,
           "quic: v1, v2, draft-29 keys agree with the HMAC derivation for CIDs of 0..20 bytes");
    TAP_EQ(wp_quic_client_keys(0x00000002, dcid, 8, key, iv, hp) + 1, 0,
           "quic: unknown version: -1");
    uint8_t big[21] = {0};
    TAP_EQ(wp_quic_client_keys(WP_QUIC_V1, big, 21, key, iv, hp) + 1, 0, "quic: 21-byte CID: -1");
}

static const uint8_t g_dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

/* One client Initial datagram of 1200 bytes carrying the whole ClientHello. */
static size_t one_initial(const struct tver *v, const uint8_t *ch, size_t chn, uint8_t *out)
{
    uint8_t frames[2048];
    size_t fl = 0, o = 0;
    crypto_frame(frames, &fl, 0, ch, chn);
    struct pktspec s = {.v = v,
                        .tbits = v->initial_bits,
                        .dcid = g_dcid,
                        .dcid_len = 8,
                        .pn = 2,
                        .pnlen = 4,
                        .frames = frames,
                        .fl = fl,
                        .padto = 1162};
    seal(&s, out, &o);
    return o;
}

static void test_quic_versions(void)
{
    uint8_t ch[1024], dg[4096];
    const char *host = "QUIC.Example.ORG";
    size_t chn = build_ch(ch, (const uint8_t *)host, strlen(host), true);
    const struct tver *vs[3] = {&tv1, &tv2, &td29};
    const char *names[3] = {"v1", "v2", "draft-29"};
    char sni[WP_NAME_SIZE];
    size_t need;

    for (int i = 0; i < 3; i++) {
        struct wp_crypto_buf *b = calloc(1, sizeof *b);
        struct qres r = {.buf = b};
        size_t n = one_initial(vs[i], ch, chn, dg);
        int ret = quic_run(dg, n, &r);
        TAP_OK(ret == 1 && r.frames == 1, "quic %s: Initial of %zu bytes: 1 CRYPTO frame (%d)",
               names[i], n, ret);
        TAP_OK(b->have == chn && memcmp(b->data, ch, chn) == 0,
               "quic %s: CRYPTO data is the ClientHello", names[i]);
        TAP_OK(wp_tls_sni_handshake(b->data, b->have, sni, sizeof sni, &need) == WP_TLS_SNI &&
                   strcmp(sni, "quic.example.org") == 0,
               "quic %s: SNI found (%s)", names[i], sni);
        uint32_t ver = 0;
        uint8_t dc[WP_QUIC_MAX_CID];
        size_t dl = 0;
        TAP_OK(wp_quic_dcid(dg, n, &ver, dc, &dl) == 1 && ver == vs[i]->version && dl == 8 &&
                   memcmp(dc, g_dcid, 8) == 0,
               "quic %s: wp_quic_dcid", names[i]);
        free(b);
    }

    /* The v1 packet's type bits mean 0-RTT in v2; a v2 Initial with v1 type
     * bits is therefore not an Initial. */
    size_t n = one_initial(&tv2, ch, chn, dg);
    dg[0] = (uint8_t)((dg[0] & 0xcf) | (0 << 4));
    struct qres r = {0};
    TAP_EQ(quic_run(dg, n, &r), 0, "quic v2: Retry type bits (0b00) first: 0");
}

static void test_quic_split(void)
{
    uint8_t ch[1024], dg[8192], frames[2048];
    const char *host = "www.google.de";
    size_t chn = build_ch(ch, (const uint8_t *)host, strlen(host), true);
    char sni[WP_NAME_SIZE];
    size_t need, fl, o;
    struct wp_crypto_buf *b = calloc(1, sizeof *b);
    struct qres r = {.buf = b};
    int ret;

    /* Two datagrams, second half first: ACK, PING, CRYPTO(off 100..), then
     * CRYPTO(0..100). */
    fl = 0;
    frames[fl++] = 0x02; /* ACK: largest 0, delay 0, 1 range, first 0, gap 0 len 0 */
    memcpy(frames + fl, "\x00\x00\x01\x00\x00\x00", 6);
    fl += 6;
    frames[fl++] = 0x01;
    frames[fl++] = 0x03; /* ACK_ECN with three counts */
    memcpy(frames + fl, "\x05\x00\x00\x01\x01\x02\x03", 7);
    fl += 7;
    crypto_frame(frames, &fl, 100, ch + 100, chn - 100);
    o = 0;
    struct pktspec s = {.v = &tv1,
                        .tbits = 0,
                        .dcid = g_dcid,
                        .dcid_len = 8,
                        .pn = 1,
                        .pnlen = 1,
                        .frames = frames,
                        .fl = fl,
                        .padto = 1100};
    seal(&s, dg, &o);
    ret = quic_run(dg, o, &r);
    TAP_OK(ret == 1 && b->have == 0, "quic: second half first: 1 frame, nothing contiguous");
    TAP_EQ(wp_tls_sni_handshake(b->data, b->have, sni, sizeof sni, &need), WP_TLS_NEED_MORE,
           "quic: NEED_MORE before the first half");
    fl = 0;
    crypto_frame(frames, &fl, 0, ch, 100);
    frames[fl++] = 0x1c; /* CONNECTION_CLOSE: the walk stops here */
    crypto_frame(frames, &fl, 0, (const uint8_t *)"garbage", 7);
    o = 0;
    s.pn = 0;
    s.fl = fl;
    s.pnlen = 2;
    seal(&s, dg, &o);
    ret = quic_run(dg, o, &r);
    TAP_OK(ret == 1 && b->have == chn, "quic: first half: contiguous, frame after 0x1c ignored");
    TAP_OK(wp_tls_sni_handshake(b->data, b->have, sni, sizeof sni, &need) == WP_TLS_SNI &&
               strcmp(sni, "www.google.de") == 0,
           "quic: SNI after out-of-order reassembly (%s)", sni);

    /* Coalesced: Initial (first part) + Initial (second part) + Handshake
     * (skipped by its length) + Initial (a third CRYPTO frame) in one
     * datagram, with a token in the first. */
    memset(b, 0, sizeof *b);
    o = 0;
    fl = 0;
    crypto_frame(frames, &fl, 0, ch, 60);
    struct pktspec a = {.v = &tv1,
                        .tbits = 0,
                        .dcid = g_dcid,
                        .dcid_len = 8,
                        .token = (const uint8_t *)"tok-en",
                        .token_len = 6,
                        .pn = 0,
                        .pnlen = 1,
                        .frames = frames,
                        .fl = fl,
                        .padto = 0};
    seal(&a, dg, &o);
    uint8_t frames2[2048];
    size_t fl2 = 0;
    crypto_frame(frames2, &fl2, 60, ch + 60, chn - 60);
    a.frames = frames2;
    a.fl = fl2;
    a.pn = 1;
    a.token_len = 0;
    seal(&a, dg, &o);
    struct pktspec h = {.v = &tv1,
                        .tbits = 2,
                        .dcid = g_dcid,
                        .dcid_len = 8,
                        .pn = 0,
                        .pnlen = 1,
                        .frames = (const uint8_t *)"\x01",
                        .fl = 1,
                        .padto = 30};
    seal(&h, dg, &o);
    a.frames = frames;
    a.fl = fl;
    a.pn = 2;
    a.padto = 600;
    seal(&a, dg, &o);
    ret = quic_run(dg, o, &r);
    TAP_OK(ret == 3 && b->have == chn, "quic: coalesced Initial+Initial+Handshake+Initial: 3 (%d)",
           ret);
    TAP_OK(wp_tls_sni_handshake(b->data, b->have, sni, sizeof sni, &need) == WP_TLS_SNI &&
               strcmp(sni, "www.google.de") == 0,
           "quic: SNI from coalesced packets");
    /* A short-header packet after the Initials ends the walk. */
    size_t o2 = o;
    dg[o2++] = 0x40;
    memset(dg + o2, 0xaa, 40);
    o2 += 40;
    TAP_EQ(quic_run(dg, o2, &r), 3, "quic: short header after coalesced packets: walk ends");
    /* Trailing garbage that claims to be an Initial with a bad length. */
    memcpy(dg + o, "\xc0\x00\x00\x00\x01\x08", 6);
    TAP_EQ(quic_run(dg, o + 6, &r) + 1, 0, "quic: cut coalesced Initial: -1");

    /* Later Initials to the server's CID use the first DCID's keys. */
    static const uint8_t server_cid[5] = {9, 8, 7, 6, 5};
    fl = 0;
    crypto_frame(frames, &fl, 0, ch, chn);
    o = 0;
    struct pktspec l = {.v = &tv1,
                        .tbits = 0,
                        .dcid = server_cid,
                        .dcid_len = 5,
                        .kdcid = g_dcid,
                        .kdcid_len = 8,
                        .pn = 3,
                        .pnlen = 1,
                        .frames = frames,
                        .fl = fl,
                        .padto = 1100};
    seal(&l, dg, &o);
    TAP_EQ(quic_run(dg, o, &r) + 2, 0, "quic: Initial to the server's CID: -2 with its own CID");
    r.frames = 0;
    ret = wp_quic_initial_crypto_odcid(dup_n(dg, o), o, g_dcid, 8, quic_cb, &r);
    TAP_EQ(ret, 1, "quic: ... 1 frame with the original DCID");
    free(b);
}

static void test_quic_bad(void)
{
    uint8_t ch[1024], dg[20000];
    const char *host = "bad.example";
    size_t chn = build_ch(ch, (const uint8_t *)host, strlen(host), true);
    struct qres r = {0};
    size_t n = one_initial(&tv1, ch, chn, dg);

    /* Corrupted tag, ciphertext and DCID. */
    dg[n - 1] ^= 1;
    TAP_EQ(quic_run(dg, n, &r) + 2, 0, "quic: corrupted tag: -2");
    TAP_EQ(r.frames, 0, "quic: ... no frame reported");
    dg[n - 1] ^= 1;
    dg[n - 100] ^= 0x80;
    TAP_EQ(quic_run(dg, n, &r) + 2, 0, "quic: corrupted ciphertext: -2");
    dg[n - 100] ^= 0x80;
    dg[7] ^= 1;
    TAP_EQ(quic_run(dg, n, &r) + 2, 0, "quic: corrupted DCID: -2");
    dg[7] ^= 1;
    TAP_EQ(quic_run(dg, n, &r), 1, "quic: restored packet decrypts");

    /* Every truncation. */
    bool ok = true;
    size_t bad = 0;
    for (size_t k = 0; k < n && ok; k++) {
        int ret = quic_run(dg, k, &r);
        if (ret != (k < 5 ? 0 : -1) || r.frames != 0) {
            ok = false;
            bad = k;
        }
    }
    TAP_OK(ok, "quic: all %zu truncations: 0 before the version, -1 after (bad %zu)", n, bad);

    /* Every single-bit flip: never a frame reported, never a crash. */
    ok = true;
    int counts[3] = {0, 0, 0};
    for (size_t k = 0; k < n * 8 && ok; k++) {
        dg[k / 8] ^= (uint8_t)(1u << (k % 8));
        int ret = quic_run(dg, n, &r);
        dg[k / 8] ^= (uint8_t)(1u << (k % 8));
        if (ret > 0 || r.frames != 0 || ret < -2) {
            ok = false;
            bad = k;
        } else {
            counts[-ret]++;
        }
    }
    TAP_OK(ok, "quic: %zu bit flips: none decrypts (0: %d, -1: %d, -2: %d; bad %zu)", n * 8,
           counts[0], counts[1], counts[2], bad);

    /* Not Initials. */
    TAP_EQ(quic_run((const uint8_t *)"\x41\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10, &r), 0,
           "quic: short header: 0");
    TAP_EQ(quic_run((const uint8_t *)"\xc0\x00\x00\x00\x00\x08\x01\x02", 8, &r), 0,
           "quic: Version Negotiation: 0");
    TAP_EQ(quic_run((const uint8_t *)"\xc0\x00\x00\x00\x02\x08\x01\x02", 8, &r), 0,
           "quic: unknown version: 0");
    TAP_EQ(quic_run((const uint8_t *)"\xe0\x00\x00\x00\x01\x08\x01\x02", 8, &r), 0,
           "quic: v1 Handshake first: 0");
    TAP_EQ(quic_run((const uint8_t *)"\xf0\x00\x00\x00\x01\x08\x01\x02", 8, &r), 0,
           "quic: v1 Retry: 0");
    TAP_EQ(quic_run((const uint8_t *)"\xc0\x00\x00\x00\x01\x15", 6, &r) + 1, 0,
           "quic: DCID length 21: -1");
    TAP_EQ(quic_run((const uint8_t *)"", 0, &r), 0, "quic: empty datagram: 0");
    TAP_EQ(wp_quic_dcid((const uint8_t *)"\x41\x00\x00\x00\x01\x00", 6, NULL, NULL, NULL), 0,
           "quic: wp_quic_dcid on a short header: 0");

    /* An Initial whose payload exceeds 16 KiB: -1. */
    size_t o = 0;
    memcpy(dg, "\xc0\x00\x00\x00\x01\x08", 6);
    o = 6;
    memcpy(dg + o, g_dcid, 8);
    o += 8;
    dg[o++] = 0; /* SCID */
    dg[o++] = 0; /* token */
    size_t plen = 17000, lenat = o;
    dg[o++] = 0x80; /* four-byte varint */
    dg[o++] = 0;
    dg[o++] = (uint8_t)(plen >> 8);
    dg[o++] = (uint8_t)plen;
    memset(dg + o, 0x5a, plen);
    o += plen;
    TAP_EQ(quic_run(dg, o, &r) + 1, 0, "quic: 17000-byte Initial payload: -1");
    /* Too short for the header protection sample. */
    dg[lenat + 2] = 0;
    dg[lenat + 3] = 19;
    TAP_EQ(quic_run(dg, lenat + 4 + 19, &r) + 1, 0, "quic: 19-byte payload: -1");
    dg[lenat + 3] = 20;
    TAP_EQ(quic_run(dg, lenat + 4 + 20, &r) + 2, 0, "quic: 20-byte payload of junk: -2");

    /* Random datagrams that start like v1/v2 Initials. */
    ok = true;
    for (int it = 0; it < 3000 && ok; it++) {
        size_t len = rnd() % 1400;
        for (size_t i = 0; i < len; i++)
            dg[i] = (uint8_t)rnd();
        if (len > 6) {
            dg[0] = (uint8_t)(0xc0 | (dg[0] & 0x0f) | ((it & 1) ? 0x10 : 0));
            memcpy(dg + 1, (it & 1) ? "\x6b\x33\x43\xcf" : "\x00\x00\x00\x01", 4);
            dg[5] = (uint8_t)(dg[5] % 21);
        }
        int ret = quic_run(dg, len, &r);
        if (ret > 0 || ret < -2 || r.frames != 0)
            ok = false;
    }
    TAP_OK(ok, "quic: 3000 random Initial-looking datagrams: 0, -1 or -2");
}

/* Several threads decrypting at once (whichports -j reads files in threads). */
struct tjob {
    const uint8_t *dg;
    size_t n;
    const uint8_t *ch;
    size_t chn;
    int bad;
};

static void *thread_main(void *arg)
{
    struct tjob *j = arg;
    for (int i = 0; i < 150; i++) {
        struct wp_crypto_buf *b = calloc(1, sizeof *b);
        struct qres r = {.buf = b};
        if (b == NULL)
            abort();
        if (wp_quic_initial_crypto(j->dg, j->n, quic_cb, &r) != 1 || b->have != j->chn ||
            memcmp(b->data, j->ch, j->chn) != 0)
            j->bad++;
        free(b);
    }
    return NULL;
}

static void test_quic_threads(void)
{
    static uint8_t ch[1024], dg[4][4096];
    const struct tver *vs[4] = {&tv1, &tv2, &td29, &tv1};
    struct tjob jobs[4];
    pthread_t th[4];
    const char *host = "threads.example";
    size_t chn = build_ch(ch, (const uint8_t *)host, strlen(host), true);
    bool ok = true;

    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct tjob){dg[i], one_initial(vs[i], ch, chn, dg[i]), ch, chn, 0};
        if (pthread_create(&th[i], NULL, thread_main, &jobs[i]) != 0)
            ok = false;
    }
    for (int i = 0; i < 4; i++)
        if (pthread_join(th[i], NULL) != 0 || jobs[i].bad != 0)
            ok = false;
    TAP_OK(ok, "quic: 4 threads x 150 decryptions (v1, v2, draft-29) all correct");
}

static void test_crypto_buf(void)
{
    struct wp_crypto_buf *b = calloc(1, sizeof *b);
    if (b == NULL)
        abort();
    TAP_EQ(wp_crypto_buf_add(b, 5, (const uint8_t *)"fghij", 5), 0, "cbuf: gap at 0: have 0");
    TAP_EQ(wp_crypto_buf_add(b, 0, (const uint8_t *)"abc", 3), 3, "cbuf: 0..3: have 3");
    TAP_EQ(wp_crypto_buf_add(b, 2, (const uint8_t *)"XYZ", 3), 10, "cbuf: overlap fills the gap");
    TAP_OK(memcmp(b->data, "abcYZfghij", 10) == 0, "cbuf: earlier bytes kept, gap filled");
    TAP_EQ(wp_crypto_buf_add(b, 16380, (const uint8_t *)"0123456789", 10), 10,
           "cbuf: past the end: have unchanged");
    TAP_OK(b->clipped && memcmp(b->data + 16380, "0123", 4) == 0, "cbuf: clipped, prefix stored");
    b->clipped = false;
    TAP_EQ(wp_crypto_buf_add(b, (uint64_t)1 << 40, (const uint8_t *)"x", 1), 10,
           "cbuf: huge offset ignored");
    TAP_OK(b->clipped, "cbuf: ... and noted");
    static uint8_t fill[WP_CRYPTO_BUF_SIZE];
    memset(fill, 'q', sizeof fill);
    TAP_EQ(wp_crypto_buf_add(b, 0, fill, sizeof fill), WP_CRYPTO_BUF_SIZE,
           "cbuf: full buffer: have 16384");
    TAP_EQ(wp_crypto_buf_add(b, 0, NULL, 0), WP_CRYPTO_BUF_SIZE, "cbuf: empty add");
    free(b);
}

int main(void)
{
    test_dns_basic();
    test_dns_cname();
    test_dns_pointers();
    test_dns_escapes();
    test_dns_mdns_https();
    test_dns_sections();
    test_dns_tcp();
    test_dns_fuzz();
    test_tls_basic();
    test_tls_names();
    test_tls_bad();
    test_http();
    test_quic_keys();
    test_quic_versions();
    test_quic_split();
    test_quic_bad();
    test_quic_threads();
    test_crypto_buf();
    dup_free();
    return tap_done();
}
