/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of connection outcomes, Zeek conn_state and ICMP quotes
 *
 * Frames are raw IPv4/IPv6 (LINKTYPE_RAW) built here byte by byte and fed
 * through the engine. The expected conn_state of each TCP exchange is
 * worked out by hand from Zeek's documented rules (base/protocols/conn
 * main.zeek: "S0: Connection attempt seen, no reply", "RSTOS0: Originator
 * sent a SYN followed by a RST, we never saw a SYN-ACK from the
 * responder", ...), not taken from the tool. */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/analyze.h"
#include "wp/decode.h"
#include "wp/outcome.h"

#define NS_PER_S 1000000000LL
#define T0       (1700000000LL * NS_PER_S)

static const char C4[] = "10.0.0.1", S4[] = "10.0.0.2", R4[] = "10.0.0.254";
static const char C6[] = "fd00::1", S6[] = "fd00::2";

struct eng {
    struct wp_engine *e;
    struct wp_nametab *names;
    int64_t now;
};

static void eng_init(struct eng *g, int64_t answer_timeout_ns)
{
    struct wp_engine_opts o;
    memset(&o, 0, sizeof(o));
    o.tunnels = true;
    g->names = wp_nametab_new();
    o.nametab = g->names;
    o.answer_timeout_ns = answer_timeout_ns;
    g->e = wp_engine_new(&o);
    g->now = T0;
}

static void eng_free(struct eng *g)
{
    wp_engine_free(g->e);
    wp_nametab_free(g->names);
}

static void feed(struct eng *g, const uint8_t *b, size_t n)
{
    struct wp_record r = {b, (uint32_t)n, (uint32_t)n, g->now, true, 101, 65535, NULL, 0, 0};
    wp_engine_packet(g->e, &r);
    g->now += NS_PER_S / 10;
}

/* IPv4 or IPv6 header + TCP/UDP, written into b; returns the length. */
static size_t ip_hdr(uint8_t *b, int fam, const char *src, const char *dst, uint8_t proto,
                     size_t l4len)
{
    if (fam == 4) {
        memset(b, 0, 20);
        b[0] = 0x45;
        b[2] = (uint8_t)((20 + l4len) >> 8);
        b[3] = (uint8_t)(20 + l4len);
        b[8] = 64;
        b[9] = proto;
        inet_pton(AF_INET, src, b + 12);
        inet_pton(AF_INET, dst, b + 16);
        return 20;
    }
    memset(b, 0, 40);
    b[0] = 0x60;
    b[4] = (uint8_t)(l4len >> 8);
    b[5] = (uint8_t)l4len;
    b[6] = proto;
    b[7] = 64;
    inet_pton(AF_INET6, src, b + 8);
    inet_pton(AF_INET6, dst, b + 24);
    return 40;
}

static size_t tcp_pkt(uint8_t *b, int fam, const char *src, const char *dst, uint16_t sp,
                      uint16_t dp, uint8_t flags, size_t payload)
{
    size_t h = ip_hdr(b, fam, src, dst, 6, 20 + payload);
    uint8_t *t = b + h;
    memset(t, 0, 20 + payload);
    t[0] = (uint8_t)(sp >> 8);
    t[1] = (uint8_t)sp;
    t[2] = (uint8_t)(dp >> 8);
    t[3] = (uint8_t)dp;
    t[7] = 1;
    t[12] = 0x50;
    t[13] = flags;
    return h + 20 + payload;
}

static size_t udp_pkt(uint8_t *b, int fam, const char *src, const char *dst, uint16_t sp,
                      uint16_t dp, size_t payload)
{
    size_t h = ip_hdr(b, fam, src, dst, 17, 8 + payload);
    uint8_t *u = b + h;
    memset(u, 0, 8 + payload);
    u[0] = (uint8_t)(sp >> 8);
    u[1] = (uint8_t)sp;
    u[2] = (uint8_t)(dp >> 8);
    u[3] = (uint8_t)dp;
    u[5] = (uint8_t)(8 + payload);
    return h + 8 + payload;
}

/* An ICMP(v6) error of type/code from `src` to `dst` quoting `q` (qlen bytes). */
static size_t icmp_err(uint8_t *b, int fam, const char *src, const char *dst, uint8_t type,
                       uint8_t code, const uint8_t *q, size_t qlen)
{
    size_t h = ip_hdr(b, fam, src, dst, fam == 4 ? 1 : 58, 8 + qlen);
    memset(b + h, 0, 8);
    b[h] = type;
    b[h + 1] = code;
    memcpy(b + h + 8, q, qlen);
    return h + 8 + qlen;
}

enum { S = WP_TCP_SYN, A = WP_TCP_ACK, F = WP_TCP_FIN, R = WP_TCP_RST, P = WP_TCP_PSH };

/* The only flow with server port `port` (any transport), or NULL. */
static const struct wp_flow *flow_on(struct eng *g, uint8_t proto, uint16_t port)
{
    (void)wp_engine_finalize(g->e);
    size_t n;
    struct wp_flow **v = wp_engine_flows(g->e, &n);
    const struct wp_flow *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i]->key.proto == proto && v[i]->key.port[v[i]->server] == port)
            found = v[i];
    free(v);
    return found;
}

/* One TCP exchange: steps as (from_client, flags, payload) triples. */
struct step {
    int from_client;
    uint8_t flags;
    size_t payload;
};

static void tcp_case(const char *what, const struct step *st, size_t n, const char *outcome,
                     const char *zeek)
{
    struct eng g;
    eng_init(&g, 0);
    uint8_t b[256];
    for (size_t i = 0; i < n; i++) {
        size_t len = st[i].from_client
                         ? tcp_pkt(b, 4, C4, S4, 40000, 443, st[i].flags, st[i].payload)
                         : tcp_pkt(b, 4, S4, C4, 443, 40000, st[i].flags, st[i].payload);
        feed(&g, b, len);
    }
    const struct wp_flow *f = flow_on(&g, 6, 443);
    TAP_OK(f != NULL, "%s: the flow exists", what);
    if (f != NULL) {
        const char *o = wp_outcome_name(wp_outcome_of(f));
        const char *z = wp_zeek_state_name(wp_outcome_zeek(f));
        TAP_OK(strcmp(o, outcome) == 0, "%s: outcome %s (got %s)", what, outcome, o);
        TAP_OK(strcmp(z, zeek) == 0, "%s: zeek_state %s (got %s)", what, zeek, z);
    }
    eng_free(&g);
}

#define CASE(what, outcome, zeek, ...)                                                             \
    do {                                                                                           \
        static const struct step st_[] = {__VA_ARGS__};                                            \
        tcp_case(what, st_, sizeof(st_) / sizeof(st_[0]), outcome, zeek);                          \
    } while (0)

static void test_tcp_states(void)
{
    /* worked out by hand from Zeek's conn_state rules */
    CASE("SYN only", "unanswered", "S0", {1, S, 0});
    CASE("SYN retransmitted", "unanswered", "S0", {1, S, 0}, {1, S, 0}, {1, S, 0});
    CASE("SYN, RST-ACK", "refused", "REJ", {1, S, 0}, {0, R | A, 0});
    CASE("handshake only", "established", "S1", {1, S, 0}, {0, S | A, 0}, {1, A, 0});
    CASE("handshake, data, FIN both", "closed", "SF", {1, S, 0}, {0, S | A, 0}, {1, A, 0},
         {1, P | A, 10}, {0, P | A, 20}, {1, F | A, 0}, {0, F | A, 0}, {1, A, 0});
    CASE("FIN from client only", "established", "S2", {1, S, 0}, {0, S | A, 0}, {1, A, 0},
         {1, F | A, 0});
    CASE("FIN from server only", "established", "S3", {1, S, 0}, {0, S | A, 0}, {1, A, 0},
         {0, F | A, 0});
    CASE("client resets", "reset", "RSTO", {1, S, 0}, {0, S | A, 0}, {1, A, 0}, {1, P | A, 5},
         {1, R | A, 0});
    CASE("server resets", "reset", "RSTR", {1, S, 0}, {0, S | A, 0}, {1, A, 0}, {1, P | A, 5},
         {0, R | A, 0});
    CASE("SYN then client RST", "unanswered", "RSTOS0", {1, S, 0}, {1, R, 0});
    CASE("SYN, FIN, no answer", "unanswered", "SH", {1, S, 0}, {1, F, 0});
    CASE("SYN-ACK then RST, no SYN", "reset", "RSTRH", {0, S | A, 0}, {0, R, 0});
    CASE("SYN-ACK then FIN, no SYN", "established", "SHR", {0, S | A, 0}, {0, F | A, 0});
    CASE("mid-stream both ways", "mid-stream", "OTH", {1, P | A, 10}, {0, P | A, 10});
    CASE("mid-stream one way", "one-way", "OTH", {1, P | A, 10}, {1, P | A, 10});
    CASE("mid-stream closed", "mid-stream", "SF", {1, P | A, 10}, {0, P | A, 10}, {1, F | A, 0},
         {0, F | A, 0});
    CASE("data both ways after SYN, SYN-ACK missed", "established", "OTH", {1, S, 0},
         {1, P | A, 10}, {0, P | A, 10});
}

static void test_udp_and_timeout(void)
{
    uint8_t b[256];
    struct eng g;
    eng_init(&g, 0);
    feed(&g, b, udp_pkt(b, 4, C4, S4, 40000, 53, 20));
    feed(&g, b, udp_pkt(b, 4, S4, C4, 53, 40000, 40));
    feed(&g, b, udp_pkt(b, 4, C4, S4, 40001, 5353, 20)); /* never answered */
    const struct wp_flow *f = flow_on(&g, 17, 53);
    TAP_OK(f && wp_outcome_of(f) == WP_OUT_ANSWERED, "udp both ways: answered");
    TAP_OK(f && wp_outcome_zeek(f) == WP_ZS_SF, "udp both ways: SF");
    f = flow_on(&g, 17, 5353);
    TAP_OK(f && wp_outcome_of(f) == WP_OUT_UNANSWERED, "udp one datagram, file: unanswered");
    TAP_OK(f && wp_outcome_zeek(f) == WP_ZS_S0, "udp one datagram: S0");
    eng_free(&g);

    /* live: not unanswered before the answer timeout, unanswered after it */
    eng_init(&g, 5 * NS_PER_S);
    feed(&g, b, tcp_pkt(b, 4, C4, S4, 40000, 443, S, 0));
    struct wp_agg *a = wp_engine_snapshot(g.e);
    size_t n;
    struct wp_flow **v = wp_engine_flows(g.e, &n);
    TAP_OK(n == 1 && wp_outcome_of(v[0]) == WP_OUT_PENDING, "live, 0.1 s after the SYN: pending");
    free(v);
    wp_agg_free(a);
    g.now += 6 * NS_PER_S;
    feed(&g, b, udp_pkt(b, 4, C4, S4, 40002, 9999, 1)); /* time passes in the capture */
    a = wp_engine_snapshot(g.e);
    const struct wp_flow *t = flow_on(&g, 6, 443);
    TAP_OK(t && wp_outcome_of(t) == WP_OUT_UNANSWERED, "live, 6 s after the SYN: unanswered");
    wp_agg_free(a);
    eng_free(&g);
}

static void test_icmp(void)
{
    uint8_t syn[128], b[512], q[128];
    struct eng g;
    eng_init(&g, 0);
    /* TCP 8004 v4 blocked by a router, 3/13 */
    size_t n = tcp_pkt(syn, 4, C4, S4, 40000, 8004, S, 0);
    feed(&g, syn, n);
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, syn, 28)); /* IP header + 8 bytes */
    /* TCP 8005 v6 refused by the server with icmp6 1/4 */
    n = tcp_pkt(syn, 6, C6, S6, 40000, 8005, S, 0);
    feed(&g, syn, n);
    feed(&g, b, icmp_err(b, 6, S6, C6, 1, 4, syn, n));
    /* UDP 8006 v4 port unreachable from the server */
    n = udp_pkt(syn, 4, C4, S4, 40001, 8006, 4);
    feed(&g, syn, n);
    feed(&g, b, icmp_err(b, 4, S4, C4, 3, 3, syn, n));
    /* time exceeded about a TCP SYN to 8007: not a block */
    n = tcp_pkt(syn, 4, C4, S4, 40002, 8007, S, 0);
    feed(&g, syn, n);
    feed(&g, b, icmp_err(b, 4, R4, C4, 11, 0, syn, 28));
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 4, syn, 28)); /* fragmentation needed: PMTU */
    /* hostile and damaged quotes, none may change any flow */
    n = tcp_pkt(q, 4, C4, S4, 40003, 8008, S, 0);
    feed(&g, q, n);
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, q, 24)); /* cut inside the 8 bytes */
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, q, 10)); /* cut inside the IP header */
    uint8_t junk[28];
    memset(junk, 0xa5, sizeof(junk));
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, junk, 28)); /* not IP */
    n = tcp_pkt(syn, 4, C4, S4, 40009, 9999, S, 0);       /* a flow never seen */
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, syn, n));
    n = tcp_pkt(syn, 6, C6, S6, 40003, 8008, S, 0); /* IPv6 quote in ICMPv4 */
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, syn, n));
    uint8_t bad[28];
    memcpy(bad, q, 28);
    bad[0] = 0x44; /* IHL 4: invalid */
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, bad, 28));
    memcpy(bad, q, 28);
    bad[6] = 0x00;
    bad[7] = 0x10; /* a later fragment */
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, bad, 28));
    feed(&g, b, icmp_err(b, 4, R4, C4, 3, 13, q, 0)); /* no quote at all */

    const struct wp_flow *f = flow_on(&g, 6, 8004);
    bool v6, srv;
    uint8_t code;
    uint32_t from;
    TAP_OK(f && wp_outcome_of(f) == WP_OUT_BLOCKED, "tcp 8004: blocked");
    TAP_OK(f && wp_outcome_zeek(f) == WP_ZS_S0, "tcp 8004: Zeek S0 (Zeek ignores ICMP here)");
    TAP_OK(f && wp_outcome_blocked_by(f, &v6, &code, &srv, &from) && !v6 && code == 13 && !srv,
           "tcp 8004: icmp 3/13 from the path");
    TAP_OK(f && strcmp(wp_nametab_get(g.names, from), R4) == 0, "tcp 8004: sent by %s", R4);
    f = flow_on(&g, 6, 8005);
    TAP_OK(f && wp_outcome_of(f) == WP_OUT_BLOCKED, "tcp 8005 v6: blocked");
    TAP_OK(f && wp_outcome_blocked_by(f, &v6, &code, &srv, &from) && v6 && code == 4 && srv,
           "tcp 8005 v6: icmp6 1/4 from the server");
    f = flow_on(&g, 17, 8006);
    TAP_OK(f && wp_outcome_of(f) == WP_OUT_BLOCKED, "udp 8006: blocked");
    TAP_OK(f && wp_outcome_blocked_by(f, &v6, &code, &srv, &from) && code == 3 && srv,
           "udp 8006: icmp 3/3 from the server");
    f = flow_on(&g, 6, 8007);
    TAP_OK(f && wp_outcome_of(f) == WP_OUT_UNANSWERED, "tcp 8007 after time exceeded: unanswered");
    TAP_OK(f && !wp_outcome_blocked_by(f, &v6, &code, &srv, &from), "time exceeded is not a block");
    f = flow_on(&g, 6, 8008);
    TAP_OK(f && wp_outcome_of(f) == WP_OUT_UNANSWERED, "tcp 8008, only damaged quotes: unanswered");

    const struct wp_oc_counts *c = &wp_engine_totals(g.e)->outcome;
    TAP_EQ(c->icmp_unreach, 11, "unreachables counted");
    TAP_EQ(c->matched, 3, "matched");
    TAP_EQ(c->ignored_other, 2, "time exceeded and fragmentation needed: not a block");
    TAP_EQ(c->quote_truncated, 3, "truncated quotes (cut in the 8 bytes, in the header, none)");
    TAP_EQ(c->quote_garbage, 3, "garbage quotes (not IP, wrong version, bad IHL)");
    TAP_EQ(c->no_flow, 1, "quote of a flow never seen");
    TAP_EQ(c->quote_unsupported, 1, "quote of a later fragment");
    eng_free(&g);
}

static void test_names(void)
{
    char b[96];
    TAP_OK(strcmp(wp_unreach_text(b, sizeof(b), false, 13),
                  "icmp 3/13 administratively prohibited") == 0,
           "text of 3/13");
    TAP_OK(strcmp(wp_unreach_text(b, sizeof(b), true, 1),
                  "icmp6 1/1 administratively prohibited") == 0,
           "text of icmp6 1/1");
    TAP_OK(strcmp(wp_unreach_text(b, sizeof(b), false, 99), "icmp 3/99") == 0, "unnamed code");
    TAP_OK(wp_outcome_name(WP_OUT_COUNT) == NULL && wp_zeek_state_name(WP_ZS_COUNT) == NULL,
           "names out of range are NULL");
    TAP_OK(sizeof(struct wp_oc) == 8, "outcome state is 8 bytes");
}

int main(void)
{
    test_tcp_states();
    test_udp_and_timeout();
    test_icmp();
    test_names();
    return tap_done();
}
