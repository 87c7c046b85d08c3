/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of names.c: the name table, the DNS answer cache,
 * per-flow reassembly of first flights, and the bounds of all three
 *
 * DNS responses and TLS ClientHellos are built byte by byte below and fed
 * through wp_names_packet() as a decoded packet would be; every payload is
 * an exact-size heap copy, so AddressSanitizer sees a read past its end.
 * Expected values are worked out by hand from the bounds stated in
 * include/wp/names.h and src/names.c (65,536 DNS addresses, 1,024 flows
 * reassembled at once, 16 KiB and 64 client packets per flow, 64 MiB of
 * names). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/hash.h"
#include "wp/names.h"
#include "wp/names_parse.h"

/* ---- builders ------------------------------------------------------------- */

struct buf {
    uint8_t b[20000];
    size_t n;
};

static void p8(struct buf *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void p16(struct buf *m, unsigned v)
{
    p8(m, (v >> 8) & 0xff);
    p8(m, v & 0xff);
}

static void p24(struct buf *m, unsigned v)
{
    p8(m, (v >> 16) & 0xff);
    p16(m, v & 0xffff);
}

static void pbytes(struct buf *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void pname(struct buf *m, const char *dotted)
{
    const char *s = dotted;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        p8(m, (unsigned)n);
        pbytes(m, s, n);
        s += n + (dot ? 1 : 0);
    }
    p8(m, 0);
}

/* A DNS response (RFC 1035 4.1): question `qname` type A, then `n` answers
 * owned by the question name (pointer 0xc00c), each an A record (family 4)
 * or AAAA (family 6) with the address addrs[i]. */
static void dns_response(struct buf *m, const char *qname, uint8_t family,
                         const uint8_t (*addrs)[16], size_t n)
{
    m->n = 0;
    p16(m, 0x1234); /* id */
    p16(m, 0x8180); /* QR, RD, RA, NOERROR */
    p16(m, 1);
    p16(m, (unsigned)n);
    p16(m, 0);
    p16(m, 0);
    pname(m, qname);
    p16(m, family == 4 ? 1 : 28);
    p16(m, 1);
    for (size_t i = 0; i < n; i++) {
        p16(m, 0xc00c);
        p16(m, family == 4 ? 1 : 28);
        p16(m, 1);
        p16(m, 0);
        p16(m, 60); /* TTL */
        p16(m, family == 4 ? 4 : 16);
        pbytes(m, addrs[i], family == 4 ? 4 : 16);
    }
}

/* A TLS record holding a ClientHello (RFC 8446 4.1.2) with the server_name
 * extension (RFC 6066 3) naming `sni`, padded with `pad` bytes of a padding
 * extension (RFC 7685) so that the hello can be made long. */
static void client_hello(struct buf *m, const char *sni, size_t pad)
{
    size_t L = strlen(sni);
    size_t ext = (4 + 2 + 1 + 2 + L) + (pad ? 4 + pad : 0);
    size_t body = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + ext;
    m->n = 0;
    p8(m, 22); /* handshake */
    p16(m, 0x0301);
    p16(m, (unsigned)(4 + body));
    p8(m, 1); /* ClientHello */
    p24(m, (unsigned)body);
    p16(m, 0x0303);
    for (int i = 0; i < 32; i++)
        p8(m, (unsigned)i);
    p8(m, 0);  /* session id */
    p16(m, 2); /* cipher suites */
    p16(m, 0x002f);
    p8(m, 1); /* compression methods */
    p8(m, 0);
    p16(m, (unsigned)ext);
    p16(m, 0); /* server_name */
    p16(m, (unsigned)(2 + 1 + 2 + L));
    p16(m, (unsigned)(1 + 2 + L));
    p8(m, 0); /* host_name */
    p16(m, (unsigned)L);
    pbytes(m, sni, L);
    if (pad) {
        p16(m, 21); /* padding */
        p16(m, (unsigned)pad);
        for (size_t i = 0; i < pad; i++)
            p8(m, 0);
    }
}

/* ---- packets and flows ---------------------------------------------------- */

static uint8_t *g_payload;

/* A decoded packet carrying a heap copy of data[0..n). */
static struct wp_packet pkt(uint8_t proto, uint16_t sport, uint16_t dport, const uint8_t *data,
                            size_t n, uint32_t seq)
{
    struct wp_packet p;
    memset(&p, 0, sizeof(p));
    free(g_payload);
    g_payload = malloc(n ? n : 1);
    if (g_payload == NULL)
        abort();
    memcpy(g_payload, data, n);
    p.family = 4;
    p.proto = proto;
    p.has_l4 = true;
    p.has_ports = true;
    p.sport = sport;
    p.dport = dport;
    p.tcp_seq = seq;
    p.payload = g_payload;
    p.payload_len = (uint32_t)n;
    return p;
}

/* A TCP flow from 10.0.0.1:cport (endpoint 0) to 192.0.2.1:443 (server). */
static struct wp_flow tcp_flow(uint16_t cport)
{
    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    f.key.family = 4;
    f.key.proto = 6;
    f.key.addr[0][0] = 10;
    f.key.addr[0][3] = 1;
    f.key.addr[1][0] = 192;
    f.key.addr[1][2] = 2;
    f.key.addr[1][3] = 1;
    f.key.port[0] = cport;
    f.key.port[1] = 443;
    f.server = 1;
    return f;
}

static void ip4(uint8_t out[16], uint32_t v)
{
    memset(out, 0, 16);
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Feed a DNS response from 10.0.0.53:53 into `n`. */
static void feed_dns(struct wp_names *n, const struct buf *m, struct wp_name_counts *c)
{
    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    f.key.family = 4;
    f.key.proto = 17;
    f.key.port[0] = 53;
    f.key.port[1] = 40000;
    f.server = 0;
    struct wp_packet p = pkt(17, 53, 40000, m->b, m->n, 0);
    wp_names_packet(n, &f, &p, 0, c);
}

/* ---- the name table ------------------------------------------------------- */

static void test_nametab(void)
{
    struct wp_nametab *t = wp_nametab_new();
    TAP_OK(t != NULL, "new name table");
    uint32_t a = wp_nametab_intern(t, "gateway.icloud.com");
    uint32_t b = wp_nametab_intern(t, "query.ess.apple.com");
    TAP_EQ(a, 1, "first name gets id 1");
    TAP_EQ(b, 2, "second name gets id 2");
    TAP_EQ(wp_nametab_intern(t, "gateway.icloud.com"), 1, "the same text gets the same id");
    TAP_EQ(wp_nametab_intern(t, "Gateway.icloud.com"), 3, "interning is byte-exact");
    TAP_EQ(wp_nametab_intern(t, ""), 0, "the empty name is not interned");
    TAP_OK(wp_nametab_get(t, 1) != NULL && strcmp(wp_nametab_get(t, 1), "gateway.icloud.com") == 0,
           "id 1 gives its text back");
    TAP_OK(wp_nametab_get(t, 0) == NULL && wp_nametab_get(t, 4) == NULL,
           "ids 0 and unknown give NULL");
    TAP_EQ(wp_nametab_dropped(t), 0, "nothing dropped");
    wp_nametab_free(t);

    /* 64 MiB: distinct names of 1,000 characters each cost at least 1,001
     * bytes (text and NUL) and at most 1,001 + 128 with the entry, so the
     * table holds between 64 MiB / 1,129 = 59,440 and 64 MiB / 1,001 =
     * 67,041 of them. */
    t = wp_nametab_new();
    static char s[1001];
    memset(s, 'a', 1000);
    s[1000] = 0;
    uint32_t kept = 0, first_refused = 0;
    for (uint32_t i = 0; i < 80000; i++) {
        snprintf(s, 9, "%08u", i);
        s[8] = 'a';
        uint32_t id = wp_nametab_intern(t, s);
        if (id == 0) {
            first_refused = i;
            break;
        }
        kept++;
    }
    TAP_OK(kept >= 59440 && kept <= 67041, "64 MiB of names: %u names of 1,000 bytes kept", kept);
    TAP_EQ(first_refused, kept, "the first refusal comes right after the last name kept");
    TAP_EQ(wp_nametab_dropped(t), 1, "one name dropped");
    snprintf(s, 9, "%08u", 0u);
    s[8] = 'a';
    TAP_EQ(wp_nametab_intern(t, s), 1, "a full table still finds a name it holds");
    TAP_EQ(wp_nametab_dropped(t), 1, "finding a held name drops nothing");
    TAP_OK(wp_nametab_bytes(t) >= (size_t)kept * 1001 && wp_nametab_bytes(t) <= (72u << 20),
           "bytes held: at least the text, at most 64 MiB plus the id array");
    wp_nametab_free(t);
}

/* ---- DNS answers ---------------------------------------------------------- */

static void test_dns(void)
{
    struct wp_nametab *t = wp_nametab_new();
    struct wp_names *n = wp_names_new(t);
    struct wp_name_counts c;
    memset(&c, 0, sizeof(c));
    static struct buf m;
    uint8_t addrs[3][16];
    ip4(addrs[0], 0x11fd900a); /* 17.253.144.10 */
    ip4(addrs[1], 0x11fd900b); /* 17.253.144.11 */
    dns_response(&m, "gateway.icloud.com", 4, (const uint8_t(*)[16])addrs, 2);
    feed_dns(n, &m, &c);
    TAP_EQ(c.dns_answers, 2, "two A answers counted");
    TAP_EQ(c.dns_malformed, 0, "nothing malformed");
    uint32_t id = wp_names_dns_lookup(n, 4, addrs[0]);
    TAP_OK(id != 0 && strcmp(wp_nametab_get(t, id), "gateway.icloud.com") == 0,
           "17.253.144.10 -> gateway.icloud.com");
    TAP_EQ(wp_names_dns_lookup(n, 4, addrs[1]), id, "17.253.144.11 -> the same name id");
    ip4(addrs[2], 0x11fd900c);
    TAP_EQ(wp_names_dns_lookup(n, 4, addrs[2]), 0, "an address never answered: 0");
    TAP_EQ(wp_names_dns_lookup(n, 6, addrs[0]), 0, "the same bytes as IPv6: another address");

    /* AAAA */
    uint8_t v6[1][16] = {{0x26, 0x20, 0x01, 0x49, 0x0a, 0x43, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x12}};
    dns_response(&m, "query.ess.apple.com", 6, (const uint8_t(*)[16])v6, 1);
    feed_dns(n, &m, &c);
    uint32_t id6 = wp_names_dns_lookup(n, 6, v6[0]);
    TAP_OK(id6 != 0 && strcmp(wp_nametab_get(t, id6), "query.ess.apple.com") == 0,
           "2620:149:a43::112 -> query.ess.apple.com");

    /* The latest answer for an address wins. */
    dns_response(&m, "mask.icloud.com", 4, (const uint8_t(*)[16])addrs, 1);
    feed_dns(n, &m, &c);
    id = wp_names_dns_lookup(n, 4, addrs[0]);
    TAP_OK(id != 0 && strcmp(wp_nametab_get(t, id), "mask.icloud.com") == 0,
           "a later answer replaces the name of 17.253.144.10");
    TAP_EQ(c.dns_answers, 4, "four answers counted in all");

    /* A flow to that server takes the DNS name unless it has its own. */
    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    f.key.family = 4;
    f.key.proto = 6;
    memcpy(f.key.addr[1], addrs[0], 16);
    f.server = 1;
    wp_names_from_dns(n, &f);
    TAP_OK(f.name_id == id && f.name_src == WP_NAME_DNS, "an unnamed flow takes the DNS name");
    f.name_id = 1;
    f.name_src = WP_NAME_SNI;
    wp_names_from_dns(n, &f);
    TAP_OK(f.name_id == 1 && f.name_src == WP_NAME_SNI, "a named flow keeps its own name");

    /* Garbage from port 53 is a malformed response, and teaches nothing. */
    static const uint8_t junk[5] = {1, 2, 3, 4, 5};
    struct buf j;
    j.n = 0;
    pbytes(&j, junk, sizeof(junk));
    feed_dns(n, &j, &c);
    TAP_EQ(c.dns_malformed, 1, "a 5-byte response is malformed");
    TAP_EQ(c.dns_answers, 4, "and gives no answer");

    /* Merge: dst learns src's answers, and src's win over dst's own. */
    struct wp_names *d = wp_names_new(t);
    struct wp_name_counts c2;
    memset(&c2, 0, sizeof(c2));
    dns_response(&m, "old.example", 4, (const uint8_t(*)[16])addrs, 3);
    feed_dns(d, &m, &c2);
    wp_names_merge(d, n);
    id = wp_names_dns_lookup(d, 4, addrs[0]);
    TAP_OK(id != 0 && strcmp(wp_nametab_get(t, id), "mask.icloud.com") == 0,
           "merge: src's answer for 17.253.144.10 wins");
    id = wp_names_dns_lookup(d, 4, addrs[2]);
    TAP_OK(id != 0 && strcmp(wp_nametab_get(t, id), "old.example") == 0,
           "merge: dst's own answer for 17.253.144.12 stays");
    TAP_EQ(wp_names_dns_lookup(d, 6, v6[0]), id6, "merge: the AAAA answer arrives");
    wp_names_free(d);
    wp_names_free(n);
    wp_nametab_free(t);
}

/* 65,536 addresses at most; the least recently answered is forgotten. */
static void test_dns_bound(void)
{
    struct wp_nametab *t = wp_nametab_new();
    struct wp_names *n = wp_names_new(t);
    struct wp_name_counts c;
    memset(&c, 0, sizeof(c));
    static struct buf m;
    static uint8_t addrs[64][16];
    const uint32_t base = 0x0a010000; /* 10.1.0.0 */
    /* 1,024 responses of 64 answers: 10.1.0.0 .. 10.1.255.255 = 65,536. */
    for (uint32_t r = 0; r < 1024; r++) {
        for (uint32_t i = 0; i < 64; i++)
            ip4(addrs[i], base + r * 64 + i);
        dns_response(&m, "h.example", 4, (const uint8_t(*)[16])addrs, 64);
        feed_dns(n, &m, &c);
    }
    TAP_EQ(c.dns_answers, 65536, "65,536 answers");
    uint8_t a[16];
    ip4(a, base);
    TAP_OK(wp_names_dns_lookup(n, 4, a) != 0, "the table is full, 10.1.0.0 still known");
    /* Answer 10.1.0.0 again (now the most recent), then one new address:
     * the least recent is now 10.1.0.1. */
    ip4(addrs[0], base);
    dns_response(&m, "h.example", 4, (const uint8_t(*)[16])addrs, 1);
    feed_dns(n, &m, &c);
    ip4(addrs[0], 0x0a020000);
    dns_response(&m, "h.example", 4, (const uint8_t(*)[16])addrs, 1);
    feed_dns(n, &m, &c);
    TAP_OK(wp_names_dns_lookup(n, 4, a) != 0, "10.1.0.0, answered again, is kept");
    ip4(a, base + 1);
    TAP_EQ(wp_names_dns_lookup(n, 4, a), 0, "10.1.0.1, the least recent, is forgotten");
    ip4(a, base + 2);
    TAP_OK(wp_names_dns_lookup(n, 4, a) != 0, "10.1.0.2 is kept");
    TAP_OK(wp_names_dns_lookup(n, 4, addrs[0]) != 0, "10.2.0.0, the newest, is known");
    wp_names_free(n);
    wp_nametab_free(t);
}

/* ---- reassembly ----------------------------------------------------------- */

/* Send data[0..len) of a client's first flight in segments of `seg` bytes
 * (sequence numbers from 1000). Returns the number of segments sent. */
static unsigned send_segments(struct wp_names *n, struct wp_flow *f, const uint8_t *data,
                              size_t len, size_t seg, struct wp_name_counts *c)
{
    unsigned k = 0;
    for (size_t off = 0; off < len; off += seg, k++) {
        size_t m = len - off < seg ? len - off : seg;
        struct wp_packet p = pkt(6, f->key.port[0], 443, data + off, m, 1000 + (uint32_t)off);
        wp_names_packet(n, f, &p, 0, c);
    }
    return k;
}

static void test_reassembly(void)
{
    struct wp_nametab *t = wp_nametab_new();
    struct wp_names *n = wp_names_new(t);
    struct wp_name_counts c;
    memset(&c, 0, sizeof(c));
    static struct buf m;

    /* A ClientHello in one segment. */
    client_hello(&m, "courier.push.apple.com", 0);
    struct wp_flow f = tcp_flow(50000);
    send_segments(n, &f, m.b, m.n, m.n, &c);
    TAP_OK(f.name_id != 0 && f.name_src == WP_NAME_SNI &&
               strcmp(wp_nametab_get(t, f.name_id), "courier.push.apple.com") == 0,
           "SNI from one segment");
    TAP_EQ(c.tls_sni, 1, "tls_sni counted");

    /* The same hello in 10-byte segments, and then in reverse order. */
    f = tcp_flow(50001);
    send_segments(n, &f, m.b, m.n, 10, &c);
    TAP_OK(f.name_src == WP_NAME_SNI &&
               strcmp(wp_nametab_get(t, f.name_id), "courier.push.apple.com") == 0,
           "SNI over %zu segments of 10 bytes", (m.n + 9) / 10);
    f = tcp_flow(50002);
    {
        struct wp_packet p = pkt(6, 50002, 443, m.b, 10, 1000);
        wp_names_packet(n, &f, &p, 0, &c); /* the first segment starts the flow */
        for (size_t off = (m.n - 1) / 10 * 10; off >= 10; off -= 10) {
            size_t len = m.n - off < 10 ? m.n - off : 10;
            p = pkt(6, 50002, 443, m.b + off, len, 1000 + (uint32_t)off);
            wp_names_packet(n, &f, &p, 0, &c);
        }
    }
    TAP_OK(f.name_src == WP_NAME_SNI, "SNI from segments that arrive in reverse order");
    /* A server's packet is not looked at for the client's name. */
    f = tcp_flow(50003);
    {
        struct wp_packet p = pkt(6, 443, 50003, m.b, m.n, 1000);
        wp_names_packet(n, &f, &p, 1, &c);
    }
    TAP_EQ(f.name_id, 0, "the server's bytes do not name the flow");
    TAP_EQ(c.tls_sni, 3, "three SNIs counted");

    /* 64 client packets: a record header announcing 16,384 bytes, then one
     * byte per segment. After the first segment 63 more are waited for
     * (packets 2..64); the 65th packet gives up. */
    static uint8_t flight[5 + 4 + 64];
    static const uint8_t head[9] = {22, 3, 1, 0x40, 0x00, 1, 0x00, 0x3f, 0xfc};
    memcpy(flight, head, sizeof(head)); /* ClientHello of 16,380 bytes, zeros follow */
    f = tcp_flow(50004);
    uint64_t given = c.tls_given_up;
    send_segments(n, &f, flight, 5, 5, &c);
    for (unsigned i = 0; i < 63; i++) {
        struct wp_packet p = pkt(6, 50004, 443, flight + 5 + i, 1, 1005 + i);
        wp_names_packet(n, &f, &p, 0, &c);
    }
    TAP_EQ(c.tls_given_up - given, 0, "64 client packets: still waiting");
    {
        struct wp_packet p = pkt(6, 50004, 443, flight + 5 + 63, 1, 1005 + 63);
        wp_names_packet(n, &f, &p, 0, &c);
    }
    TAP_EQ(c.tls_given_up - given, 1, "the 65th client packet gives up");
    TAP_EQ(f.name_id, 0, "and the flow has no name");

    /* 16 KiB: a ClientHello of 4 + 16,380 bytes in one record (5 + 16,384
     * bytes) never fits the 16,384-byte buffer. In segments of 1,460 bytes
     * the 12th segment fills the buffer (11 x 1,460 = 16,060 < 16,384 <=
     * 17,520) and gives up. */
    client_hello(&m, "big.example",
                 16380 - (2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 4 + 2 + 1 + 2 + 11 + 4));
    TAP_EQ(m.n, 5 + 16384, "the long hello is 16,389 bytes");
    f = tcp_flow(50006);
    given = c.tls_given_up;
    for (unsigned i = 0; i < 12; i++) {
        struct wp_packet p = pkt(6, 50006, 443, m.b + i * 1460, 1460, 1000 + i * 1460);
        wp_names_packet(n, &f, &p, 0, &c);
        if (i == 10)
            TAP_EQ(c.tls_given_up - given, 0, "11 segments in order: still waiting");
    }
    TAP_EQ(c.tls_given_up - given, 1, "the 12th segment fills 16 KiB and gives up");
    TAP_EQ(f.name_id, 0, "no name from a hello over 16 KiB");
    wp_names_free(n);
    wp_nametab_free(t);
}

/* 1,024 flows reassembled at once; a flow that leaves frees its slot. */
static void test_reassembly_bound(void)
{
    struct wp_nametab *t = wp_nametab_new();
    struct wp_names *n = wp_names_new(t);
    struct wp_name_counts c;
    memset(&c, 0, sizeof(c));
    static struct buf m;
    client_hello(&m, "slot.example", 0);
    static struct wp_flow fl[1026];
    for (unsigned i = 0; i < 1025; i++) {
        fl[i] = tcp_flow((uint16_t)(20000 + i));
        struct wp_packet p = pkt(6, fl[i].key.port[0], 443, m.b, 20, 1000);
        wp_names_packet(n, &fl[i], &p, 0, &c);
    }
    TAP_EQ(c.tls_given_up, 1, "the 1,025th flow finds no room and gives up");
    /* The rest of the hello completes flow 0. */
    {
        struct wp_packet p = pkt(6, fl[0].key.port[0], 443, m.b + 20, m.n - 20, 1020);
        wp_names_packet(n, &fl[0], &p, 0, &c);
    }
    TAP_OK(fl[0].name_src == WP_NAME_SNI, "flow 0 completes its hello");
    /* Its slot is free again: a new flow can start. */
    fl[1025] = tcp_flow(30000);
    {
        struct wp_packet p = pkt(6, 30000, 443, m.b, 20, 1000);
        wp_names_packet(n, &fl[1025], &p, 0, &c);
        TAP_EQ(c.tls_given_up, 1, "a new flow takes the freed slot");
        p = pkt(6, 30000, 443, m.b + 20, m.n - 20, 1020);
        wp_names_packet(n, &fl[1025], &p, 0, &c);
    }
    TAP_OK(fl[1025].name_src == WP_NAME_SNI, "and is named");
    /* Flow 1025 also completed, so one slot is free; wp_names_flow_gone
     * frees a second: two new flows start, the third finds no room. */
    wp_names_flow_gone(n, &fl[1]);
    for (uint16_t port = 30001; port <= 30003; port++) {
        struct wp_flow g = tcp_flow(port);
        struct wp_packet p = pkt(6, port, 443, m.b, 20, 1000);
        wp_names_packet(n, &g, &p, 0, &c);
        if (port == 30002)
            TAP_EQ(c.tls_given_up, 1,
                   "the two free slots (one left by wp_names_flow_gone) "
                   "take two new flows");
    }
    TAP_EQ(c.tls_given_up, 2, "and then the table is full again");
    TAP_OK(wp_names_bytes(n) >= 1024 * sizeof(struct wp_crypto_buf),
           "bytes held count the 1,024 buffers");
    wp_names_free(n);
    wp_nametab_free(t);
}

int main(void)
{
    wp_hash_seed(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
    TAP_OK(strcmp(wp_name_src_name(WP_NAME_SNI), "sni") == 0 &&
               strcmp(wp_name_src_name(WP_NAME_DNS), "dns") == 0 &&
               wp_name_src_name(WP_NAME_NONE) == NULL,
           "name source names");
    test_nametab();
    test_dns();
    test_dns_bound();
    test_reassembly();
    test_reassembly_bound();
    free(g_payload);
    return tap_done();
}
