/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the IPFIX encoder, read back by a separate reader */

#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "wp/ipfix.h"

/* ---- a minimal, independent IPFIX reader (RFC 7011 section 3) ---------- */

static unsigned rd16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}
static unsigned long rd32(const uint8_t *p)
{
    return (unsigned long)rd16(p) << 16 | rd16(p + 2);
}

struct tfield {
    unsigned ie, len;
    unsigned long pen;
};
struct tmpl {
    unsigned id, n, scope;
    struct tfield f[32];
};
static struct tmpl tmpls[8];
static int ntmpl;

/* A decoded data record: up to 32 fields, each a pointer and length. */
struct rec {
    unsigned tid, n;
    struct tfield f[32];
    const uint8_t *v[32];
    unsigned vlen[32];
};
static struct rec recs[64];
static int nrecs;

static const struct tmpl *find_tmpl(unsigned id)
{
    for (int i = 0; i < ntmpl; i++)
        if (tmpls[i].id == id)
            return &tmpls[i];
    return NULL;
}

/* Read one message; returns 0 when well formed (lengths exact, no padding,
 * every data set has a template), else a line number. */
static int read_msg(const uint8_t *b, size_t n, unsigned long *seq, unsigned long *odid)
{
    if (n < 16 || rd16(b) != 10 || rd16(b + 2) != n)
        return __LINE__;
    *seq = rd32(b + 8);
    *odid = rd32(b + 12);
    size_t o = 16;
    while (o < n) {
        if (o + 4 > n)
            return __LINE__;
        unsigned sid = rd16(b + o), slen = rd16(b + o + 2);
        if (slen < 4 || o + slen > n)
            return __LINE__;
        const uint8_t *s = b + o + 4, *end = b + o + slen;
        if (sid == 2 || sid == 3) {
            while (s < end) {
                struct tmpl *t = &tmpls[ntmpl++];
                t->id = rd16(s);
                t->n = rd16(s + 2);
                s += 4;
                t->scope = 0;
                if (sid == 3) {
                    t->scope = rd16(s);
                    s += 2;
                }
                for (unsigned i = 0; i < t->n; i++) {
                    unsigned ie = rd16(s);
                    t->f[i].ie = ie & 0x7fff;
                    t->f[i].len = rd16(s + 2);
                    t->f[i].pen = 0;
                    s += 4;
                    if (ie & 0x8000) {
                        t->f[i].pen = rd32(s);
                        s += 4;
                    }
                }
            }
            if (s != end)
                return __LINE__;
        } else if (sid >= 256) {
            const struct tmpl *t = find_tmpl(sid);
            if (t == NULL)
                return __LINE__;
            while (s < end) {
                struct rec *r = &recs[nrecs++];
                r->tid = sid;
                r->n = t->n;
                for (unsigned i = 0; i < t->n; i++) {
                    unsigned len = t->f[i].len;
                    if (len == 0xffff) {
                        len = *s++;
                        if (len == 255) {
                            len = rd16(s);
                            s += 2;
                        }
                    }
                    if (s + len > end)
                        return __LINE__;
                    r->f[i] = t->f[i];
                    r->v[i] = s;
                    r->vlen[i] = len;
                    s += len;
                }
            }
            if (s != end) /* padding or overrun */
                return __LINE__;
        } else {
            return __LINE__;
        }
        o += slen;
    }
    return 0;
}

/* The value of element (pen, ie) of a record as an unsigned number, or
 * ~0 when absent. */
static unsigned long long val(const struct rec *r, unsigned long pen, unsigned ie)
{
    for (unsigned i = 0; i < r->n; i++)
        if (r->f[i].ie == ie && r->f[i].pen == pen) {
            unsigned long long v = 0;
            for (unsigned k = 0; k < r->vlen[i]; k++)
                v = v << 8 | r->v[i][k];
            return v;
        }
    return ~0ULL;
}

static const uint8_t *bytes(const struct rec *r, unsigned long pen, unsigned ie, unsigned *len)
{
    for (unsigned i = 0; i < r->n; i++)
        if (r->f[i].ie == ie && r->f[i].pen == pen) {
            *len = r->vlen[i];
            return r->v[i];
        }
    return NULL;
}

/* ---- tests ------------------------------------------------------------- */

static struct wp_ipfix_rec sample4(void)
{
    struct wp_ipfix_rec r;
    memset(&r, 0, sizeof r);
    r.family = 4;
    r.proto = 6;
    r.end_reason = WP_IPFIX_END_FIN;
    const uint8_t s[4] = {192, 168, 2, 17}, d[4] = {17, 253, 105, 202};
    memcpy(r.src, s, 4);
    memcpy(r.dst, d, 4);
    r.sport = 50578;
    r.dport = 443;
    r.vlan = 12;
    r.start_ms = 1582454598000ULL;
    r.end_ms = 1582454600300ULL;
    r.pkts[0] = 12;
    r.pkts[1] = 8;
    r.l2_octets[0] = 1613;
    r.l2_octets[1] = 5283;
    r.ip_octets[0] = 1613 - 12 * 14;
    r.ip_octets[1] = 5283 - 8 * 14;
    r.tcp_flags[0] = 0x1b; /* SYN FIN PSH ACK */
    r.tcp_flags[1] = 0x16; /* SYN RST ACK */
    r.app_port = 443;
    return r;
}

static void test_header_bytes(void)
{
    struct wp_ipfix x;
    struct wp_ipfix_msg m;
    uint8_t buf[2000];
    wp_ipfix_init(&x, 7, 0);
    TAP_OK(x.mtu == 1400, "default message size 1400");
    TAP_OK(wp_ipfix_msg_begin(&x, &m, buf, sizeof buf, 0x5e524b46u), "begin");
    size_t n = wp_ipfix_msg_end(&x, &m);
    /* worked out by hand: version 10, length 16, time, sequence 0, ODID 7 */
    const uint8_t want[16] = {0, 10, 0, 16, 0x5e, 0x52, 0x4b, 0x46, 0, 0, 0, 0, 0, 0, 0, 7};
    TAP_OK(n == 16 && memcmp(buf, want, 16) == 0, "empty message header bytes");
}

static void test_templates_and_records(void)
{
    struct wp_ipfix x;
    struct wp_ipfix_msg m;
    uint8_t buf[1400];
    unsigned long seq, odid;
    ntmpl = nrecs = 0;
    wp_ipfix_init(&x, 1, 0);
    wp_ipfix_msg_begin(&x, &m, buf, sizeof buf, 0);
    TAP_OK(wp_ipfix_msg_add_templates(&m), "templates fit");
    TAP_OK(wp_ipfix_msg_add_app(&m, 443, "https"), "app 443");
    TAP_OK(wp_ipfix_msg_add_app(&m, 53, "domain"), "app 53");
    size_t n = wp_ipfix_msg_end(&x, &m);
    TAP_OK(read_msg(buf, n, &seq, &odid) == 0, "message 1 reads back");
    TAP_OK(seq == 0 && odid == 1, "message 1 sequence 0, odid 1");
    TAP_OK(ntmpl == 5, "five templates (%d)", ntmpl);
    const struct tmpl *t4 = find_tmpl(256), *t6 = find_tmpl(257), *to = find_tmpl(258);
    const struct tmpl *i4 = find_tmpl(260), *i6 = find_tmpl(261);
    TAP_OK(t4 && t6 && to && i4 && i6, "template ids 256, 257, 258, 260, 261");
    if (!(t4 && t6 && to && i4 && i6))
        return;
    TAP_OK(t4->n == 20 && t6->n == 20 && i4->n == 20 && i6->n == 20,
           "20 fields per biflow template");
    TAP_OK(t4->f[5].ie == 11 && i4->f[5].ie == 32 && i4->f[5].len == 2 && i6->f[5].ie == 139 &&
               i6->f[2].ie == 27,
           "ICMP templates: icmpTypeCodeIPv4 32 / icmpTypeCodeIPv6 139 for the port");
    TAP_OK(t4->f[11].ie == 1 && t4->f[11].pen == 0 && t4->f[14].ie == 1 && t4->f[14].pen == 29305 &&
               t4->f[16].ie == 6 && t4->f[16].len == 1 && t4->f[17].ie == 6 &&
               t4->f[17].pen == 29305,
           "octetDeltaCount, tcpControlBits and their reverse");
    TAP_OK(t4->f[2].ie == 8 && t4->f[2].len == 4 && t6->f[2].ie == 27 && t6->f[2].len == 16,
           "source address IE 8 / 27");
    TAP_OK(t4->f[13].ie == 2 && t4->f[13].pen == 29305 && t4->f[13].len == 8,
           "reversePacketDeltaCount is 29305/2");
    TAP_OK(to->scope == 1 && to->f[0].ie == 95 && to->f[1].ie == 96 && to->f[1].len == 0xffff,
           "options template: scope applicationId, applicationName varlen");
    TAP_OK(nrecs == 2, "two options records");
    unsigned len = 0;
    const uint8_t *nm = bytes(&recs[0], 0, 96, &len);
    TAP_OK(val(&recs[0], 0, 95) == 0x0301bbULL && nm && len == 5 && memcmp(nm, "https", 5) == 0,
           "options record 443 -> https (applicationId 03 01 bb)");
    TAP_OK(x.seq == 2, "options data records count in the sequence (%lu)", (unsigned long)x.seq);

    /* message 2: one IPv4 and one IPv6 record */
    nrecs = 0;
    struct wp_ipfix_rec r = sample4(), r6 = sample4();
    r.http_host = "captive.apple.com";
    r6.family = 6;
    memset(r6.src, 0, 16);
    memset(r6.dst, 0, 16);
    r6.src[0] = 0x20;
    r6.src[1] = 0x01;
    r6.src[15] = 0x17;
    r6.dst[0] = 0x20;
    r6.dst[15] = 0x43;
    r6.proto = 17;
    r6.pkts[0] = 0x0102030405060708ULL;
    wp_ipfix_msg_begin(&x, &m, buf, sizeof buf, 0);
    TAP_OK(wp_ipfix_msg_add_rec(&m, &r) && wp_ipfix_msg_add_rec(&m, &r6), "two records fit");
    n = wp_ipfix_msg_end(&x, &m);
    /* by hand: 16 header + (4 + 86 + 17 octets of host + 1) + (4 + 110 + 1) */
    TAP_OK(n == 16 + 4 + 86 + 18 + 4 + 111, "message 2 length %zu", n);
    TAP_OK(read_msg(buf, n, &seq, &odid) == 0 && seq == 2, "message 2 reads back, sequence 2");
    TAP_OK(nrecs == 2, "two records");
    const struct rec *a = &recs[0], *b = &recs[1];
    TAP_OK(a->tid == 256 && b->tid == 257, "set ids 256 then 257");
    TAP_OK(val(a, 0, 152) == 1582454598000ULL && val(a, 0, 153) == 1582454600300ULL, "times");
    TAP_OK(val(a, 0, 8) == 0xc0a80211ULL && val(a, 0, 12) == 0x11fd69caULL, "addresses");
    TAP_OK(val(a, 0, 7) == 50578 && val(a, 0, 11) == 443 && val(a, 0, 4) == 6, "ports, proto");
    TAP_OK(val(a, 0, 239) == 1 && val(a, 0, 136) == 3 && val(a, 0, 58) == 12,
           "biflowDirection 1, flowEndReason 3, vlan 12");
    TAP_OK(val(a, 0, 2) == 12 && val(a, 0, 352) == 1613, "forward counts");
    TAP_OK(val(a, 29305, 2) == 8 && val(a, 29305, 352) == 5283, "reverse counts");
    TAP_OK(val(a, 0, 1) == 1613 - 168 && val(a, 29305, 1) == 5283 - 112, "IP-layer octets");
    TAP_OK(val(a, 0, 6) == 0x1b && val(a, 29305, 6) == 0x16, "TCP flags both ways");
    nm = bytes(a, 0, 460, &len);
    TAP_OK(nm && len == 17 && memcmp(nm, "captive.apple.com", 17) == 0, "httpRequestHost");
    unsigned alen = 0;
    const uint8_t *ad = bytes(b, 0, 27, &alen);
    TAP_OK(ad && alen == 16 && ad[0] == 0x20 && ad[15] == 0x17, "IPv6 source");
    TAP_OK(val(b, 0, 2) == 0x0102030405060708ULL && val(b, 0, 4) == 17, "IPv6 counts, proto");
    nm = bytes(b, 0, 460, &len);
    TAP_OK(nm && len == 0, "empty httpRequestHost");
    TAP_OK(x.seq == 4, "sequence 4 after two more records");

    /* message 3: an ICMP echo flow and an ICMPv6 one */
    nrecs = 0;
    struct wp_ipfix_rec ic = sample4(), ic6 = r6;
    ic.proto = 1;
    ic.sport = ic.dport = ic.app_port = 0;
    ic.icmp_type_code = 0x0800; /* echo request */
    ic6.proto = 58;
    ic6.sport = ic6.dport = ic6.app_port = 0;
    ic6.icmp_type_code = 0x8000; /* echo request */
    wp_ipfix_msg_begin(&x, &m, buf, sizeof buf, 0);
    TAP_OK(wp_ipfix_msg_add_rec(&m, &ic) && wp_ipfix_msg_add_rec(&m, &ic6), "ICMP records fit");
    n = wp_ipfix_msg_end(&x, &m);
    TAP_OK(read_msg(buf, n, &seq, &odid) == 0 && seq == 4 && nrecs == 2, "message 3 reads back");
    TAP_OK(recs[0].tid == 260 && recs[1].tid == 261, "set ids 260 then 261");
    TAP_OK(val(&recs[0], 0, 32) == 0x0800 && val(&recs[1], 0, 139) == 0x8000,
           "icmpTypeCode: type * 256 + code");
}

static void test_mtu(void)
{
    struct wp_ipfix x;
    struct wp_ipfix_msg m;
    uint8_t buf[4000];
    unsigned long seq, odid;
    struct wp_ipfix_rec r = sample4();
    wp_ipfix_init(&x, 1, 10);
    TAP_OK(x.mtu == WP_IPFIX_MTU_MIN, "mtu raised to the minimum");
    wp_ipfix_msg_begin(&x, &m, buf, sizeof buf, 0);
    /* by hand: 16 + 4 + 5 * 87 = 455 <= 512 < 455 + 87 */
    unsigned fit = 0;
    while (wp_ipfix_msg_add_rec(&m, &r))
        fit++;
    TAP_OK(fit == 5 && m.len == 455, "five records fill 512 octets (%u, %zu)", fit, m.len);
    TAP_OK(!wp_ipfix_msg_add_templates(&m) && m.len == 455 && m.nrec == 5,
           "templates do not fit, message unchanged");
    wp_ipfix_init(&x, 1, 1400);
    unsigned total = 0, msgs = 0;
    unsigned long want_seq = 0;
    int ok = 1;
    ntmpl = 0;
    wp_ipfix_msg_begin(&x, &m, buf, sizeof buf, 0);
    wp_ipfix_msg_add_templates(&m);
    wp_ipfix_msg_end(&x, &m);
    read_msg(buf, m.len, &seq, &odid);
    while (total < 100) {
        wp_ipfix_msg_begin(&x, &m, buf, sizeof buf, 0);
        unsigned k = 0;
        while (total < 100 && wp_ipfix_msg_add_rec(&m, &r))
            k++, total++;
        size_t n = wp_ipfix_msg_end(&x, &m);
        nrecs = 0;
        if (n > 1400 || read_msg(buf, n, &seq, &odid) != 0 || seq != want_seq || nrecs != (int)k ||
            k == 0)
            ok = 0;
        want_seq += k;
        msgs++;
    }
    /* by hand: (1400 - 16 - 4) / 87 = 15 records a message */
    TAP_OK(ok && msgs == 7, "100 records in 7 messages of <= 1400 octets, exact sequence");
}

int main(void)
{
    test_header_bytes();
    test_templates_and_records();
    test_mtu();
    return tap_done();
}
