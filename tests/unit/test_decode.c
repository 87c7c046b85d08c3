/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests for the frame decoder (src/decode.c)
 *
 * Every frame below is written out byte by byte with its fields named, and
 * every expected value is worked out by hand from those bytes. Frames are
 * decoded from an exact-size heap copy so that AddressSanitizer reports a
 * read one byte past the captured data. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/counters.h"
#include "wp/decode.h"

/* ---- helpers ------------------------------------------------------------- */

static uint8_t *g_buf; /* exact-size copy of the frame last decoded */

static void release(void)
{
    free(g_buf);
    g_buf = NULL;
}

/* Decode `n` captured bytes of a frame `wl` bytes long, from an exact-size
 * heap copy that stays alive until the next decode (pointers in *p refer to
 * it). */
static void decode_wl(uint32_t lt, const uint8_t *f, size_t n, size_t wl, bool tun,
                      struct wp_packet *p)
{
    release();
    g_buf = malloc(n ? n : 1);
    if (g_buf == NULL)
        abort();
    if (n)
        memcpy(g_buf, f, n);
    wp_decode(lt, g_buf, (uint32_t)n, (uint32_t)wl, tun, p);
}

static void decode_n(uint32_t lt, const uint8_t *f, size_t n, bool tun, struct wp_packet *p)
{
    decode_wl(lt, f, n, n, tun, p);
}

#define DECODE(lt, arr, tun, p) decode_n((lt), (arr), sizeof(arr), (tun), (p))

static const char *status_name(unsigned st)
{
    static const char *const names[] = {"OK", "NON_IP", "UNSUPPORTED", "TRUNCATED",
                                        "MALFORMED"};
    return st < WP_ARRAY_LEN(names) ? names[st] : "?";
}

static const char *reason_name(unsigned st, unsigned reason)
{
    if (st == WP_DEC_TRUNCATED)
        return reason < WP_TRUNC_COUNT ? wp_truncated_name[reason] : "?";
    if (st == WP_DEC_MALFORMED)
        return reason < WP_MAL_COUNT ? wp_malformed_name[reason] : "?";
    return "-";
}

/* Status, and the reason when the status carries one. */
static void expect_status(const struct wp_packet *p, enum wp_dec_status st, unsigned reason,
                          const char *name)
{
    bool ok = p->status == st;
    if (st == WP_DEC_TRUNCATED || st == WP_DEC_MALFORMED)
        ok = ok && p->reason == reason;
    if (!TAP_OK(ok, "%s: status %s %s", name, status_name(st), reason_name(st, reason)))
        printf("#   got %s %s\n", status_name(p->status), reason_name(p->status, p->reason));
}

static bool same_bytes(const uint8_t *got, const uint8_t *want, size_t n)
{
    return got != NULL && memcmp(got, want, n) == 0;
}

/* Network layer: family, protocol and both addresses. */
static void expect_ip(const struct wp_packet *p, unsigned family, unsigned proto,
                      const uint8_t *src, const uint8_t *dst, const char *name)
{
    size_t n = family == 4 ? 4 : 16;
    TAP_EQ(p->family, family, "%s: family %u", name, family);
    TAP_EQ(p->proto, proto, "%s: proto %u", name, proto);
    if (p->family == family) {
        TAP_OK(same_bytes(p->src, src, n), "%s: source address", name);
        TAP_OK(same_bytes(p->dst, dst, n), "%s: destination address", name);
    } else {
        TAP_OK(0, "%s: source address (wrong family)", name);
        TAP_OK(0, "%s: destination address (wrong family)", name);
    }
}

static void expect_ports(const struct wp_packet *p, unsigned sport, unsigned dport,
                         const char *name)
{
    TAP_OK(p->has_ports, "%s: has ports", name);
    TAP_EQ(p->sport, sport, "%s: source port %u", name, sport);
    TAP_EQ(p->dport, dport, "%s: destination port %u", name, dport);
}

static void expect_no_ports(const struct wp_packet *p, const char *name)
{
    TAP_OK(!p->has_ports, "%s: no ports", name);
}

static void expect_vlan(const struct wp_packet *p, unsigned vlan, unsigned inner, unsigned depth,
                        const char *name)
{
    TAP_EQ(p->vlan, vlan, "%s: vlan", name);
    TAP_EQ(p->vlan_inner, inner, "%s: vlan_inner", name);
    TAP_EQ(p->vlan_depth, depth, "%s: vlan_depth", name);
}

static void expect_no_tunnel(const struct wp_packet *p, const char *name)
{
    TAP_EQ(p->tunnel_kind, WP_TUN_NONE, "%s: no tunnel", name);
    TAP_EQ(p->tunnel_depth, 0, "%s: tunnel depth 0", name);
    TAP_EQ(p->outer_family, 0, "%s: no outer family", name);
}

/* The outermost tunnel: kind, depth and the outer IP header and ports
 * (outer_family 0 means no outer IP: the addresses must then be NULL). */
static void expect_outer(const struct wp_packet *p, unsigned kind, unsigned depth,
                         unsigned ofamily, const uint8_t *osrc, const uint8_t *odst,
                         unsigned oproto, unsigned osport, unsigned odport, const char *name)
{
    TAP_EQ(p->tunnel_kind, kind, "%s: tunnel kind %s", name, wp_tunnel_kind_name(kind));
    TAP_EQ(p->tunnel_depth, depth, "%s: tunnel depth %u", name, depth);
    TAP_EQ(p->outer_family, ofamily, "%s: outer family %u", name, ofamily);
    if (ofamily == 0) {
        TAP_OK(p->outer_src == NULL && p->outer_dst == NULL, "%s: no outer addresses", name);
    } else {
        size_t n = ofamily == 4 ? 4 : 16;
        TAP_OK(same_bytes(p->outer_src, osrc, n), "%s: outer source address", name);
        TAP_OK(same_bytes(p->outer_dst, odst, n), "%s: outer destination address", name);
    }
    TAP_EQ(p->outer_proto, oproto, "%s: outer proto %u", name, oproto);
    TAP_EQ(p->outer_sport, osport, "%s: outer source port %u", name, osport);
    TAP_EQ(p->outer_dport, odport, "%s: outer destination port %u", name, odport);
}

/* A regression point for a bug these tests found (now fixed). Until the fix, TAP's
 * "# TODO" directive marks it: a failure is expected and does not fail the
 * run; once the bug is fixed the point passes (meson reports an unexpected
 * pass) and its TODO should be removed. */
static void todo_ok(bool ok, const char *what, const char *bug)
{
    /* every bug marked so far has been fixed: the points are now regressions */
    TAP_OK(ok, "%s (was: %s)", what, bug);
}

/* ---- addresses and reusable header bytes --------------------------------- */

static const uint8_t A4_SRC[4] = {192, 0, 2, 1};     /* 192.0.2.1 */
static const uint8_t A4_DST[4] = {198, 51, 100, 2};  /* 198.51.100.2 */
static const uint8_t I4_SRC[4] = {10, 0, 0, 1};      /* 10.0.0.1: inner */
static const uint8_t I4_DST[4] = {10, 0, 0, 2};      /* 10.0.0.2: inner */
static const uint8_t A6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t A6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t I6_SRC[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t I6_DST[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* Ethernet destination 00:11:22:33:44:55, source 02:00:00:00:00:01 (12). */
#define ETH_MACS 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01
/* Inner Ethernet (inside VXLAN, Geneve) 02:00:00:00:00:02 <- :03 (12). */
#define ETH_MACS_IN 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03
/* IPv4 source 192.0.2.1, destination 198.51.100.2 (8). */
#define V4_ADDRS 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02
/* IPv4 source 10.0.0.1, destination 10.0.0.2 (8). */
#define V4_INNER 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02
/* IPv6 source 2001:db8::1, destination 2001:db8::2 (32). */
#define V6_ADDRS                                                                        \
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,                      \
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02
/* IPv6 source fd00::1, destination fd00::2 (32). */
#define V6_INNER                                                                        \
    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,                               \
    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02
/* TCP 1234 -> 80, seq 1, ack 0, data offset 5, flags SYN, window 65535 (20). */
#define TCP_SYN                                                                         \
    0x04, 0xd2, 0x00, 0x50,  /* ports 1234 -> 80 */                                     \
    0x00, 0x00, 0x00, 0x01,  /* sequence number */                                      \
    0x00, 0x00, 0x00, 0x00,  /* acknowledgment number */                                \
    0x50, 0x02,              /* data offset 5 words, flags SYN */                       \
    0xff, 0xff,              /* window */                                               \
    0x00, 0x00, 0x00, 0x00   /* checksum (not verified), urgent pointer */
/* IPv4 header, 20 bytes, id 0x1234, DF, TTL 64, inner addresses, carrying
 * TCP_SYN (total length 40). */
#define V4_TCP_INNER                                                                    \
    0x45, 0x00, 0x00, 0x28,  /* version 4, IHL 5, TOS, total length 40 */               \
    0x00, 0x01, 0x00, 0x00,  /* id 1, no fragmentation */                               \
    0x40, 0x06, 0x00, 0x00,  /* TTL 64, proto 6 TCP, checksum */                        \
    V4_INNER, TCP_SYN
/* IPv6 header inner addresses carrying TCP_SYN (payload length 20) (60). */
#define V6_TCP_INNER                                                                    \
    0x60, 0x00, 0x00, 0x00,  /* version 6, class, flow label */                         \
    0x00, 0x14, 0x06, 0x40,  /* payload length 20, next header 6 TCP, hop limit 64 */  \
    V6_INNER, TCP_SYN
/* An ARP request body (28). */
#define ARP_BODY                                                                        \
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, /* Ethernet, IPv4, 6, 4, request */ \
    0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x0a, 0x00, 0x00, 0x01, /* sender */            \
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02  /* target */

/* ---- Ethernet, IPv4, transports ------------------------------------------ */

/* Ethernet / IPv4 / TCP SYN: 14 + 20 + 20 = 54 bytes. */
static const uint8_t F_ETH_TCP[] = {
    ETH_MACS, 0x08, 0x00,                     /* ethertype IPv4 */
    0x45, 0x00, 0x00, 0x28,                   /* v4, IHL 5, TOS 0, total length 40 */
    0x12, 0x34, 0x40, 0x00,                   /* id 0x1234, DF, offset 0 */
    0x40, 0x06, 0x00, 0x00,                   /* TTL 64, proto TCP, checksum */
    V4_ADDRS,
    TCP_SYN,
};
_Static_assert(sizeof(F_ETH_TCP) == 54, "F_ETH_TCP size");

/* Ethernet / IPv4 / UDP 40000 -> 53 with 4 payload bytes, padded with 14
 * zero bytes to the 60-byte Ethernet minimum: IP total 32, frame 60. */
static const uint8_t F_ETH_UDP_PAD[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x20,                   /* total length 32 = 20 + 8 + 4 */
    0x00, 0x02, 0x00, 0x00,                   /* id 2 */
    0x40, 0x11, 0x00, 0x00,                   /* TTL 64, proto UDP */
    V4_ADDRS,
    0x9c, 0x40, 0x00, 0x35,                   /* UDP 40000 -> 53 */
    0x00, 0x0c, 0x00, 0x00,                   /* UDP length 12, checksum */
    'a', 'b', 'c', 'd',                       /* payload */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* Ethernet padding (14) */
};
_Static_assert(sizeof(F_ETH_UDP_PAD) == 60, "F_ETH_UDP_PAD size");

/* Ethernet / IPv4 / ICMP echo request id 1 seq 1: IP total 28, frame 42. */
static const uint8_t F_ETH_ICMP[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x1c,                   /* total length 28 */
    0x00, 0x03, 0x00, 0x00,
    0x40, 0x01, 0x00, 0x00,                   /* proto 1 ICMP */
    V4_ADDRS,
    0x08, 0x00, 0x00, 0x00,                   /* type 8 echo, code 0, checksum */
    0x00, 0x01, 0x00, 0x01,                   /* identifier 1, sequence 1 */
};
_Static_assert(sizeof(F_ETH_ICMP) == 42, "F_ETH_ICMP size");

/* Ethernet / IPv4 IHL 6 (4 bytes of options) / UDP with 2 payload bytes:
 * IP total 24 + 8 + 2 = 34, frame 48. */
static const uint8_t F_ETH_IPOPT[] = {
    ETH_MACS, 0x08, 0x00,
    0x46, 0x00, 0x00, 0x22,                   /* v4, IHL 6, total length 34 */
    0x00, 0x04, 0x00, 0x00,
    0x40, 0x11, 0x00, 0x00,                   /* proto UDP */
    V4_ADDRS,
    0x01, 0x01, 0x01, 0x00,                   /* options: NOP NOP NOP EOL */
    0x9c, 0x40, 0x00, 0x35,                   /* UDP 40000 -> 53 */
    0x00, 0x0a, 0x00, 0x00,                   /* UDP length 10 */
    'h', 'i',
};
_Static_assert(sizeof(F_ETH_IPOPT) == 48, "F_ETH_IPOPT size");

/* Ethernet / IPv4 IHL 15 (40 bytes of NOP options) / TCP: total 80, frame 94. */
static const uint8_t F_ETH_IHL15[] = {
    ETH_MACS, 0x08, 0x00,
    0x4f, 0x00, 0x00, 0x50,                   /* v4, IHL 15, total length 80 */
    0x00, 0x05, 0x00, 0x00,
    0x40, 0x06, 0x00, 0x00,
    V4_ADDRS,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 NOP options */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    TCP_SYN,
};
_Static_assert(sizeof(F_ETH_IHL15) == 94, "F_ETH_IHL15 size");

static void test_ethernet_ipv4(void)
{
    struct wp_packet p;

    DECODE(WP_LT_EN10MB, F_ETH_TCP, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "eth/ipv4/tcp");
    expect_ip(&p, 4, 6, A4_SRC, A4_DST, "eth/ipv4/tcp");
    expect_ports(&p, 1234, 80, "eth/ipv4/tcp");
    TAP_EQ(p.tcp_flags, WP_TCP_SYN, "eth/ipv4/tcp: flags SYN");
    TAP_OK(p.has_l4, "eth/ipv4/tcp: has_l4");
    TAP_EQ(p.ethertype, 0x0800, "eth/ipv4/tcp: ethertype");
    TAP_EQ(p.frag, WP_FRAG_NONE, "eth/ipv4/tcp: DF is not a fragment");
    TAP_EQ(p.frag_id, 0x1234, "eth/ipv4/tcp: identification");
    TAP_EQ(p.payload_len, 0, "eth/ipv4/tcp: no payload");
    TAP_EQ(p.caplen, 54, "eth/ipv4/tcp: caplen");
    TAP_EQ(p.wirelen, 54, "eth/ipv4/tcp: wirelen");
    TAP_EQ(p.ip_len, 40, "eth/ipv4/tcp: IP length is the total length");
    TAP_OK(p.src == g_buf + 26 && p.dst == g_buf + 30, "eth/ipv4/tcp: addresses point into the frame");
    expect_vlan(&p, WP_VLAN_NONE, WP_VLAN_NONE, 0, "eth/ipv4/tcp");
    expect_no_tunnel(&p, "eth/ipv4/tcp");

    /* wirelen larger than caplen (snaplen-cut payload is not a header) */
    decode_wl(WP_LT_EN10MB, F_ETH_TCP, sizeof(F_ETH_TCP), 1514, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "eth/ipv4/tcp wirelen 1514");
    TAP_EQ(p.wirelen, 1514, "eth/ipv4/tcp wirelen 1514: wirelen kept");

    DECODE(WP_LT_EN10MB, F_ETH_UDP_PAD, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "eth/ipv4/udp padded");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "eth/ipv4/udp padded");
    expect_ports(&p, 40000, 53, "eth/ipv4/udp padded");
    TAP_EQ(p.tcp_flags, 0, "eth/ipv4/udp padded: no TCP flags");
    TAP_EQ(p.payload_len, 4, "eth/ipv4/udp padded: payload is the IP payload, not the padding");
    TAP_EQ(p.ip_len, 32, "eth/ipv4/udp padded: IP length 32 without the 14 bytes of padding");
    TAP_OK(p.payload == g_buf + 42 && memcmp(p.payload, "abcd", 4) == 0,
           "eth/ipv4/udp padded: payload bytes");

    DECODE(WP_LT_EN10MB, F_ETH_ICMP, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "eth/ipv4/icmp");
    expect_ip(&p, 4, 1, A4_SRC, A4_DST, "eth/ipv4/icmp");
    expect_no_ports(&p, "eth/ipv4/icmp");
    TAP_OK(p.has_l4, "eth/ipv4/icmp: has_l4");
    TAP_EQ(p.icmp_type, 8, "eth/ipv4/icmp: echo request");
    TAP_EQ(p.payload_len, 4, "eth/ipv4/icmp: payload after the 4-byte header");
    TAP_EQ(p.ip_len, 28, "eth/ipv4/icmp: IP length 28");
    {
        uint8_t un[sizeof(F_ETH_ICMP)];
        memcpy(un, F_ETH_ICMP, sizeof(un));
        un[34] = 3;  /* destination unreachable */
        un[35] = 13; /* communication administratively prohibited */
        decode_wl(WP_LT_EN10MB, un, sizeof(un), sizeof(un), false, &p);
        TAP_OK(p.has_l4 && p.icmp_type == 3 && p.icmp_code == 13,
               "eth/ipv4/icmp: type 3 code 13 (%u/%u)", p.icmp_type, p.icmp_code);
    }

    DECODE(WP_LT_EN10MB, F_ETH_IPOPT, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "eth/ipv4 IHL 6/udp");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "eth/ipv4 IHL 6/udp");
    expect_ports(&p, 40000, 53, "eth/ipv4 IHL 6/udp");
    TAP_EQ(p.payload_len, 2, "eth/ipv4 IHL 6/udp: payload length");
    TAP_OK(p.payload == g_buf + 46, "eth/ipv4 IHL 6/udp: payload after the options");

    DECODE(WP_LT_EN10MB, F_ETH_IHL15, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "eth/ipv4 IHL 15/tcp");
    expect_ip(&p, 4, 6, A4_SRC, A4_DST, "eth/ipv4 IHL 15/tcp");
    expect_ports(&p, 1234, 80, "eth/ipv4 IHL 15/tcp");
}

/* ---- VLAN ------------------------------------------------------------------ */

/* 802.1Q tag PCP 7, VID 100 / IPv4 / UDP: 14 + 4 + 28 = 46. */
static const uint8_t F_VLAN[] = {
    ETH_MACS, 0x81, 0x00,                     /* TPID 802.1Q */
    0xe0, 0x64, 0x08, 0x00,                   /* TCI: PCP 7, VID 100; ethertype IPv4 */
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x06, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, /* UDP 40000 -> 53, length 8 */
};
_Static_assert(sizeof(F_VLAN) == 46, "F_VLAN size");

/* 802.1ad VID 200 then 802.1Q VID 300 (QinQ) / IPv4 / UDP: 50. */
static const uint8_t F_QINQ[] = {
    ETH_MACS, 0x88, 0xa8,                     /* TPID 802.1ad */
    0x00, 0xc8, 0x81, 0x00,                   /* VID 200; next TPID 802.1Q */
    0x01, 0x2c, 0x08, 0x00,                   /* VID 300; ethertype IPv4 */
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x06, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
_Static_assert(sizeof(F_QINQ) == 50, "F_QINQ size");

/* Eight stacked 802.1Q tags, VIDs 1..8 / IPv4 / UDP: 14 + 32 + 28 = 74. */
static const uint8_t F_VLAN8[] = {
    ETH_MACS, 0x81, 0x00,
    0x00, 0x01, 0x81, 0x00, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03, 0x81, 0x00,
    0x00, 0x04, 0x81, 0x00, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06, 0x81, 0x00,
    0x00, 0x07, 0x81, 0x00, 0x00, 0x08, 0x08, 0x00, /* 8th tag, then IPv4 */
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x06, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
_Static_assert(sizeof(F_VLAN8) == 74, "F_VLAN8 size");

/* Nine stacked tags, VIDs 1..9 / IPv4 / UDP: 78. */
static const uint8_t F_VLAN9[] = {
    ETH_MACS, 0x81, 0x00,
    0x00, 0x01, 0x81, 0x00, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03, 0x81, 0x00,
    0x00, 0x04, 0x81, 0x00, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06, 0x81, 0x00,
    0x00, 0x07, 0x81, 0x00, 0x00, 0x08, 0x81, 0x00, 0x00, 0x09, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x06, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
_Static_assert(sizeof(F_VLAN9) == 78, "F_VLAN9 size");

static void test_vlan(void)
{
    struct wp_packet p;

    DECODE(WP_LT_EN10MB, F_VLAN, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "802.1Q");
    expect_vlan(&p, 100, WP_VLAN_NONE, 1, "802.1Q");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "802.1Q");
    expect_ports(&p, 40000, 53, "802.1Q");
    TAP_EQ(p.ethertype, 0x0800, "802.1Q: ethertype after the tag");

    DECODE(WP_LT_EN10MB, F_QINQ, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "QinQ");
    expect_vlan(&p, 200, 300, 2, "QinQ");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "QinQ");
    expect_ports(&p, 40000, 53, "QinQ");

    DECODE(WP_LT_EN10MB, F_VLAN8, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "8 VLAN tags");
    expect_vlan(&p, 1, 2, 8, "8 VLAN tags");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "8 VLAN tags");

    DECODE(WP_LT_EN10MB, F_VLAN9, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_vlan_too_deep, "9 VLAN tags");
    TAP_EQ(p.family, 0, "9 VLAN tags: no IP decoded");
    expect_no_ports(&p, "9 VLAN tags");
}

/* ---- other link types ------------------------------------------------------ */

/* IPv4 / UDP 40000 -> 53, no payload (28): used after the link headers. */
#define V4_UDP_28                                                                       \
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x07, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,   \
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00
/* IPv6 / TCP SYN 1234 -> 80 (60). */
#define V6_TCP_60                                                                       \
    0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40, /* payload 20, TCP, hop limit 64 */ \
    V6_ADDRS, TCP_SYN
/* IPv4 / TCP SYN 1234 -> 80 (40), outer addresses. */
#define V4_TCP_40                                                                       \
    0x45, 0x00, 0x00, 0x28, 0x00, 0x08, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, V4_ADDRS,   \
    TCP_SYN

static const uint8_t F_RAW4[] = {V4_UDP_28};
static const uint8_t F_RAW4_TCP[] = {V4_TCP_40};
static const uint8_t F_RAW6[] = {V6_TCP_60};
_Static_assert(sizeof(F_RAW4) == 28 && sizeof(F_RAW4_TCP) == 40 && sizeof(F_RAW6) == 60,
               "raw sizes");

/* Linux cooked v1: 16-byte header then IPv4/UDP (44). */
static const uint8_t F_SLL[] = {
    0x00, 0x00,                               /* packet type: to us */
    0x00, 0x01,                               /* ARPHRD_ETHER */
    0x00, 0x06,                               /* address length */
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00, /* address, padded to 8 */
    0x08, 0x00,                               /* protocol IPv4 */
    V4_UDP_28,
};
_Static_assert(sizeof(F_SLL) == 44, "F_SLL size");

/* Linux cooked v1 with ARPHRD_NETLINK (824): the protocol is not an ethertype. */
static const uint8_t F_SLL_NETLINK[] = {
    0x00, 0x00, 0x03, 0x38,                   /* type, ARPHRD 824 netlink */
    0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,       /* address length 0, address */
    0x08, 0x00,                               /* protocol field (netlink family) */
    V4_UDP_28,
};

/* Linux cooked v2: 20-byte header then IPv4/ICMP echo (48). */
static const uint8_t F_SLL2[] = {
    0x08, 0x00,                               /* protocol IPv4 */
    0x00, 0x00,                               /* reserved */
    0x00, 0x00, 0x00, 0x02,                   /* interface index 2 */
    0x00, 0x01,                               /* ARPHRD_ETHER */
    0x00,                                     /* packet type */
    0x06,                                     /* address length */
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00, /* address */
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x03, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, V4_ADDRS,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, /* ICMP echo request */
};
_Static_assert(sizeof(F_SLL2) == 48, "F_SLL2 size");

/* BSD loopback, AF_INET (2) in little- and big-endian order (32). */
static const uint8_t F_NULL_LE[] = {0x02, 0x00, 0x00, 0x00, V4_UDP_28};
static const uint8_t F_NULL_BE[] = {0x00, 0x00, 0x00, 0x02, V4_UDP_28};
/* Loopback carrying IPv6; the family byte (offset 3 or 0) is patched (64). */
static const uint8_t F_LOOP6[] = {0x00, 0x00, 0x00, 0x00, V6_TCP_60};
_Static_assert(sizeof(F_NULL_LE) == 32 && sizeof(F_LOOP6) == 64, "null sizes");

/* PKTAP header (108 bytes, little-endian): pth_length 108, pth_type_next 1
 * (packet), pth_dlt 1 (Ethernet), pth_ifname "en0", the rest zero. */
#define PKTAP_HDR(len, type, dlt)                                                       \
    len, 0x00, 0x00, 0x00,   /* pth_length */                                           \
    type, 0x00, 0x00, 0x00,  /* pth_type_next */                                        \
    dlt, 0x00, 0x00, 0x00,   /* pth_dlt */                                              \
    'e', 'n', '0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       \
    /* pth_flags onwards: 72 zero bytes, to 108 */                                      \
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             \
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             \
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

/* PKTAP / Ethernet / IPv4 / UDP 40000 -> 53 with 4 payload bytes: 154. */
#define PKTAP_INNER                                                                     \
    ETH_MACS, 0x08, 0x00,                                                               \
    0x45, 0x00, 0x00, 0x20, 0x00, 0x09, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,   \
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'm', 'd', 'n', 's'
static const uint8_t F_PKTAP[] = {PKTAP_HDR(0x6c, 0x01, 0x01), PKTAP_INNER};
static const uint8_t F_PKTAP_LEN20[] = {PKTAP_HDR(0x14, 0x01, 0x01), PKTAP_INNER};
static const uint8_t F_PKTAP_TYPE0[] = {PKTAP_HDR(0x6c, 0x00, 0x01), PKTAP_INNER};
static const uint8_t F_PKTAP_NESTED[] = {PKTAP_HDR(0x6c, 0x01, 0x95), PKTAP_INNER};
static const uint8_t F_PKTAP_HUGE[] = {PKTAP_HDR(0xff, 0x01, 0x01), PKTAP_INNER};
_Static_assert(sizeof(F_PKTAP) == 108 + 46, "F_PKTAP size: 108-byte header + 46");

/* PKTAP v2 header (xnu pktap_v2_hdr, little-endian): pth_length (one byte),
 * five string offsets (comm at 40), dlt 1 (Ethernet) at 6, pid 4242 at 28,
 * flags 0x80002 (v2 header, outbound) at 36, then the comm "curl" padded to
 * `len` bytes. */
#define PKTAP_V2_HDR(len)                                                                          \
    len, 0, 0, 0, 40, 0, 0x01, 0x00,              /* length, offsets, dlt */                       \
        0, 0, 0, 0, 0, 0, 0, 0,                   /* pre, post, iftype, ipproto */                 \
        2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       /* family, svc, flowid */                        \
        0x92, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff, /* pid 4242, epid -1 */                          \
        0x02, 0x00, 0x08, 0x00,                   /* flags: V2_HDR | DIR_OUT */                    \
        'c', 'u', 'r', 'l', 0, 0, 0, 0
static const uint8_t F_PKTAP_V2[] = {PKTAP_V2_HDR(48), PKTAP_INNER};
static const uint8_t F_PKTAP_V2_SHORT[] = {PKTAP_V2_HDR(39), PKTAP_INNER};
_Static_assert(sizeof(F_PKTAP_V2) == 48 + 46, "F_PKTAP_V2 size: 48-byte v2 header + 46");

/* ARP over Ethernet (42). */
static const uint8_t F_ARP[] = {ETH_MACS, 0x08, 0x06, ARP_BODY};
_Static_assert(sizeof(F_ARP) == 42, "F_ARP size");

/* 802.3 with an LLC header (length field 0x26 = 38), padded to 60. */
static const uint8_t F_8023[] = {
    ETH_MACS, 0x00, 0x26,                     /* length 38: not an ethertype */
    0x42, 0x42, 0x03,                         /* LLC: STP SAPs, UI */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
_Static_assert(sizeof(F_8023) == 60, "F_8023 size");

static void test_link_types(void)
{
    struct wp_packet p;
    uint8_t f[sizeof(F_LOOP6)];

    DECODE(WP_LT_LINUX_SLL, F_SLL, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "SLL");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "SLL");
    expect_ports(&p, 40000, 53, "SLL");

    DECODE(WP_LT_LINUX_SLL, F_SLL_NETLINK, false, &p);
    expect_status(&p, WP_DEC_NON_IP, 0, "SLL netlink");
    TAP_EQ(p.family, 0, "SLL netlink: no IP");

    DECODE(WP_LT_LINUX_SLL2, F_SLL2, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "SLL2");
    expect_ip(&p, 4, 1, A4_SRC, A4_DST, "SLL2");
    TAP_EQ(p.icmp_type, 8, "SLL2: ICMP echo");

    DECODE(WP_LT_NULL, F_NULL_LE, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "NULL AF 2 little-endian");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "NULL AF 2 little-endian");
    expect_ports(&p, 40000, 53, "NULL AF 2 little-endian");

    DECODE(WP_LT_NULL, F_NULL_BE, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "NULL AF 2 big-endian");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "NULL AF 2 big-endian");

    DECODE(WP_LT_LOOP, F_NULL_BE, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "LOOP AF 2");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "LOOP AF 2");

    static const uint8_t af6[] = {10, 24, 28, 30};
    for (size_t i = 0; i < WP_ARRAY_LEN(af6); i++) {
        char name[64];
        memcpy(f, F_LOOP6, sizeof(f));
        f[3] = af6[i]; /* network order */
        snprintf(name, sizeof(name), "LOOP AF %u big-endian", af6[i]);
        decode_n(WP_LT_LOOP, f, sizeof(f), false, &p);
        expect_status(&p, WP_DEC_OK, 0, name);
        expect_ip(&p, 6, 6, A6_SRC, A6_DST, name);
        expect_ports(&p, 1234, 80, name);

        memcpy(f, F_LOOP6, sizeof(f));
        f[0] = af6[i]; /* host order of a little-endian writer */
        snprintf(name, sizeof(name), "NULL AF %u little-endian", af6[i]);
        decode_n(WP_LT_NULL, f, sizeof(f), false, &p);
        expect_status(&p, WP_DEC_OK, 0, name);
        expect_ip(&p, 6, 6, A6_SRC, A6_DST, name);
    }
    memcpy(f, F_LOOP6, sizeof(f));
    f[3] = 7; /* AF 7: not IP anywhere */
    decode_n(WP_LT_LOOP, f, sizeof(f), false, &p);
    expect_status(&p, WP_DEC_NON_IP, 0, "LOOP AF 7");
    TAP_EQ(p.family, 0, "LOOP AF 7: no IP");
    memcpy(f, F_LOOP6, sizeof(f));
    f[0] = 17; /* AF 17 little-endian */
    decode_n(WP_LT_NULL, f, sizeof(f), false, &p);
    expect_status(&p, WP_DEC_NON_IP, 0, "NULL AF 17");

    static const uint32_t raw_lts[] = {WP_LT_RAW, WP_LT_DLT_RAW12, WP_LT_DLT_RAW14, WP_LT_IPV4};
    for (size_t i = 0; i < WP_ARRAY_LEN(raw_lts); i++) {
        char name[64];
        snprintf(name, sizeof(name), "link type %u IPv4", raw_lts[i]);
        DECODE(raw_lts[i], F_RAW4, false, &p);
        expect_status(&p, WP_DEC_OK, 0, name);
        expect_ip(&p, 4, 17, A4_SRC, A4_DST, name);
        expect_ports(&p, 40000, 53, name);
        /* 228 (IPV4) carrying IPv6 decodes as IPv6, like Wireshark */
        snprintf(name, sizeof(name), "link type %u IPv6", raw_lts[i]);
        DECODE(raw_lts[i], F_RAW6, false, &p);
        expect_status(&p, WP_DEC_OK, 0, name);
        expect_ip(&p, 6, 6, A6_SRC, A6_DST, name);
        expect_ports(&p, 1234, 80, name);
    }

    DECODE(WP_LT_IPV6, F_RAW6, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPV6 link type");
    expect_ip(&p, 6, 6, A6_SRC, A6_DST, "IPV6 link type");
    DECODE(WP_LT_IPV6, F_RAW4_TCP, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ipv6_bad_version, "IPV6 link type with IPv4");
    TAP_EQ(p.family, 0, "IPV6 link type with IPv4: no IP");

    {
        uint8_t v5[sizeof(F_RAW4)];
        memcpy(v5, F_RAW4, sizeof(v5));
        v5[0] = 0x55; /* version 5 */
        decode_n(WP_LT_RAW, v5, sizeof(v5), false, &p);
        expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ip_bad_version, "RAW version 5");
    }

    DECODE(WP_LT_PKTAP, F_PKTAP, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "PKTAP 258");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "PKTAP 258");
    expect_ports(&p, 40000, 53, "PKTAP 258");
    TAP_EQ(p.payload_len, 4, "PKTAP 258: payload");
    DECODE(WP_LT_USER2, F_PKTAP, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "PKTAP 149");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "PKTAP 149");
    expect_ports(&p, 40000, 53, "PKTAP 149");
    DECODE(WP_LT_PKTAP, F_PKTAP_V2, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "PKTAP v2");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "PKTAP v2");
    expect_ports(&p, 40000, 53, "PKTAP v2");
    TAP_EQ(p.payload_len, 4, "PKTAP v2: payload");
    DECODE(WP_LT_PKTAP, F_PKTAP_V2_SHORT, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_pktap_bad_header_length,
                  "PKTAP v2 length 39, below the 40 fixed bytes");
    DECODE(WP_LT_PKTAP, F_PKTAP_LEN20, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_pktap_bad_header_length, "PKTAP length 20");
    TAP_EQ(p.family, 0, "PKTAP length 20: no IP");
    DECODE(WP_LT_PKTAP, F_PKTAP_HUGE, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_pktap_bad_header_length,
                  "PKTAP length 255 beyond a 154-byte frame");
    DECODE(WP_LT_PKTAP, F_PKTAP_TYPE0, false, &p);
    expect_status(&p, WP_DEC_NON_IP, 0, "PKTAP record type 0");
    TAP_EQ(p.family, 0, "PKTAP record type 0: no IP");
    DECODE(WP_LT_PKTAP, F_PKTAP_NESTED, false, &p);
    expect_status(&p, WP_DEC_UNSUPPORTED, 0, "PKTAP inside PKTAP (inner DLT 149)");

    DECODE(WP_LT_EN10MB, F_ARP, false, &p);
    expect_status(&p, WP_DEC_NON_IP, 0, "ARP");
    TAP_EQ(p.ethertype, 0x0806, "ARP: ethertype");
    TAP_EQ(p.family, 0, "ARP: no IP");
    expect_no_ports(&p, "ARP");

    DECODE(WP_LT_EN10MB, F_8023, false, &p);
    expect_status(&p, WP_DEC_NON_IP, 0, "802.3 length field");
    TAP_EQ(p.family, 0, "802.3: no IP");

    DECODE(147, F_ETH_TCP, false, &p);
    expect_status(&p, WP_DEC_UNSUPPORTED, 0, "link type 147");
    TAP_EQ(p.family, 0, "link type 147: no IP");
    TAP_OK(!wp_decode_linktype_supported(147), "link type 147 not supported");
    static const uint32_t sup[] = {0, 1, 12, 14, 101, 108, 113, 149, 228, 229, 258, 276};
    bool all = true;
    for (size_t i = 0; i < WP_ARRAY_LEN(sup); i++)
        all = all && wp_decode_linktype_supported(sup[i]);
    TAP_OK(all, "the 12 documented link types are supported");
}

/* ---- IPv6 extension headers and fragments ------------------------------- */

/* Ethernet / IPv6 / hop-by-hop (16) / destination options (8) / routing (8)
 * / UDP 546 -> 547 with 4 payload bytes: payload length 44, frame 98. */
static const uint8_t F_V6_EXT[] = {
    ETH_MACS, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00,
    0x00, 0x2c, 0x00, 0x40,                   /* payload length 44, next HBH, hop 64 */
    V6_ADDRS,
    0x3c, 0x01, 0x01, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* HBH: next 60, len 1 (16 bytes), PadN */
    0x2b, 0x00, 0x01, 0x04, 0, 0, 0, 0,       /* dest opts: next 43, 8 bytes, PadN */
    0x11, 0x00, 0x00, 0x00, 0, 0, 0, 0,       /* routing: next 17, 8 bytes, type 0, segleft 0 */
    0x02, 0x22, 0x02, 0x23, 0x00, 0x0c, 0x00, 0x00, /* UDP 546 -> 547, length 12 */
    'w', 'x', 'y', 'z',
};
_Static_assert(sizeof(F_V6_EXT) == 98, "F_V6_EXT size");

/* IPv6 with 8 (then 9) destination-options headers before UDP. */
#define DST8 0x3c, 0x00, 0x01, 0x04, 0, 0, 0, 0 /* next 60, 8 bytes, PadN */
static const uint8_t F_V6_EXT8[] = {
    ETH_MACS, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x48, 0x3c, 0x40, /* payload 72, next 60 */
    V6_ADDRS,
    DST8, DST8, DST8, DST8, DST8, DST8, DST8,
    0x11, 0x00, 0x01, 0x04, 0, 0, 0, 0,       /* 8th: next 17 */
    0x02, 0x22, 0x02, 0x23, 0x00, 0x08, 0x00, 0x00,
};
_Static_assert(sizeof(F_V6_EXT8) == 14 + 40 + 72, "F_V6_EXT8 size");
static const uint8_t F_V6_EXT9[] = {
    ETH_MACS, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x50, 0x3c, 0x40, /* payload 80, next 60 */
    V6_ADDRS,
    DST8, DST8, DST8, DST8, DST8, DST8, DST8, DST8,
    0x11, 0x00, 0x01, 0x04, 0, 0, 0, 0,       /* 9th: next 17 */
    0x02, 0x22, 0x02, 0x23, 0x00, 0x08, 0x00, 0x00,
};
_Static_assert(sizeof(F_V6_EXT9) == 14 + 40 + 80, "F_V6_EXT9 size");

/* IPv6 / fragment header / UDP 5000 -> 6000: payload 20, frame 74. */
#define V6_FRAG(offm_hi, offm_lo, ulen_lo)                                              \
    ETH_MACS, 0x86, 0xdd,                                                               \
    0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x2c, 0x40, /* payload 20, next 44 fragment */  \
    V6_ADDRS,                                                                           \
    0x11, 0x00, offm_hi, offm_lo,  /* next 17, reserved, offset and M flag */           \
    0xde, 0xad, 0xbe, 0xef,        /* identification */                                 \
    0x13, 0x88, 0x17, 0x70, 0x00, ulen_lo, 0x00, 0x00, /* UDP 5000 -> 6000 */           \
    'f', 'r', 'a', 'g'
static const uint8_t F_V6_FRAG_FIRST[] = {V6_FRAG(0x00, 0x01, 0x64)}; /* off 0, M=1; UDP len 100 */
static const uint8_t F_V6_FRAG_LATER[] = {V6_FRAG(0x00, 0xb9, 0x00)}; /* off 23 (184 bytes), M=1 */
static const uint8_t F_V6_FRAG_ATOMIC[] = {V6_FRAG(0x00, 0x00, 0x0c)}; /* off 0, M=0 */
_Static_assert(sizeof(F_V6_FRAG_FIRST) == 74, "F_V6_FRAG size");

/* IPv4 fragments, id 0xabcd, UDP 5000 -> 6000: total 36, frame 50. */
static const uint8_t F_V4_FRAG_FIRST[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x24, 0xab, 0xcd, 0x20, 0x00, /* total 36, id 0xabcd, MF, offset 0 */
    0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x13, 0x88, 0x17, 0x70, 0x00, 0x64, 0x00, 0x00, /* UDP 5000 -> 6000, length 100 */
    'f', 'i', 'r', 's', 't', '.', '.', '.',
};
static const uint8_t F_V4_FRAG_LATER[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x24, 0xab, 0xcd, 0x00, 0xb9, /* offset 185 (1480 bytes), last */
    0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x13, 0x88, 0x17, 0x70, 0x00, 0x64, 0x00, 0x00, /* data that looks like UDP */
    'l', 'a', 't', 'e', 'r', '.', '.', '.',
};
_Static_assert(sizeof(F_V4_FRAG_FIRST) == 50 && sizeof(F_V4_FRAG_LATER) == 50, "v4 frag size");

static void test_ipv6_and_fragments(void)
{
    struct wp_packet p;

    DECODE(WP_LT_EN10MB, F_V6_EXT, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 HBH+DST+RT/UDP");
    expect_ip(&p, 6, 17, A6_SRC, A6_DST, "IPv6 HBH+DST+RT/UDP");
    expect_ports(&p, 546, 547, "IPv6 HBH+DST+RT/UDP");
    TAP_EQ(p.payload_len, 4, "IPv6 HBH+DST+RT/UDP: payload");
    TAP_OK(p.payload == g_buf + 94, "IPv6 HBH+DST+RT/UDP: payload offset 94");
    TAP_EQ(p.frag, WP_FRAG_NONE, "IPv6 HBH+DST+RT/UDP: not a fragment");
    TAP_EQ(p.ethertype, 0x86dd, "IPv6 HBH+DST+RT/UDP: ethertype");

    DECODE(WP_LT_EN10MB, F_V6_EXT8, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 8 extension headers");
    expect_ip(&p, 6, 17, A6_SRC, A6_DST, "IPv6 8 extension headers");
    expect_ports(&p, 546, 547, "IPv6 8 extension headers");

    /* Wireshark decodes long chains (it gives up near 256 layers): so does
     * whichports, up to WP_MAX_IPV6_EXT headers. */
    DECODE(WP_LT_EN10MB, F_V6_EXT9, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 9 extension headers");
    expect_ports(&p, 546, 547, "IPv6 9 extension headers");
    {
        /* WP_MAX_IPV6_EXT + 1 destination-options headers of 8 bytes, then UDP */
        enum { N = WP_MAX_IPV6_EXT + 1 };
        static uint8_t big[14 + 40 + N * 8 + 8];
        memcpy(big, F_V6_EXT9, 14 + 40);
        size_t plen = N * 8 + 8;
        big[14 + 4] = (uint8_t)(plen >> 8);
        big[14 + 5] = (uint8_t)plen;
        big[14 + 6] = 60;
        for (size_t i = 0; i < N; i++) {
            uint8_t *h = big + 14 + 40 + i * 8;
            memset(h, 0, 8);
            h[0] = i + 1 < N ? 60 : 17; /* next header */
            h[2] = 1;                   /* PadN option covering the rest */
            h[3] = 4;
        }
        uint8_t *u = big + 14 + 40 + N * 8;
        u[0] = 0x02, u[1] = 0x22, u[2] = 0x02, u[3] = 0x23, u[4] = 0, u[5] = 8;
        DECODE(WP_LT_EN10MB, big, false, &p);
        expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ipv6_ext_chain_too_long,
                      "IPv6 with one extension header past the limit");
        TAP_EQ(p.family, 6, "IPv6 past the extension limit: family 6");
        expect_no_ports(&p, "IPv6 past the extension limit");
    }

    DECODE(WP_LT_EN10MB, F_V6_FRAG_FIRST, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 first fragment");
    expect_ip(&p, 6, 17, A6_SRC, A6_DST, "IPv6 first fragment");
    TAP_EQ(p.frag, WP_FRAG_FIRST, "IPv6 first fragment: frag FIRST");
    TAP_EQ(p.frag_id, 0xdeadbeefu, "IPv6 first fragment: id");
    expect_ports(&p, 5000, 6000, "IPv6 first fragment");

    DECODE(WP_LT_EN10MB, F_V6_FRAG_LATER, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 later fragment");
    expect_ip(&p, 6, 17, A6_SRC, A6_DST, "IPv6 later fragment");
    TAP_EQ(p.frag, WP_FRAG_LATER, "IPv6 later fragment: frag LATER");
    TAP_EQ(p.frag_id, 0xdeadbeefu, "IPv6 later fragment: id");
    expect_no_ports(&p, "IPv6 later fragment");
    TAP_OK(!p.has_l4, "IPv6 later fragment: no transport header");

    DECODE(WP_LT_EN10MB, F_V6_FRAG_ATOMIC, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 atomic fragment");
    expect_ip(&p, 6, 17, A6_SRC, A6_DST, "IPv6 atomic fragment");
    TAP_EQ(p.frag, WP_FRAG_NONE, "IPv6 atomic fragment: frag NONE");
    expect_ports(&p, 5000, 6000, "IPv6 atomic fragment");

    DECODE(WP_LT_EN10MB, F_V4_FRAG_FIRST, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv4 first fragment");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "IPv4 first fragment");
    TAP_EQ(p.frag, WP_FRAG_FIRST, "IPv4 first fragment: frag FIRST");
    TAP_EQ(p.frag_id, 0xabcd, "IPv4 first fragment: id");
    expect_ports(&p, 5000, 6000, "IPv4 first fragment");

    DECODE(WP_LT_EN10MB, F_V4_FRAG_LATER, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv4 later fragment");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "IPv4 later fragment");
    TAP_EQ(p.frag, WP_FRAG_LATER, "IPv4 later fragment: frag LATER");
    TAP_EQ(p.frag_id, 0xabcd, "IPv4 later fragment: id");
    expect_no_ports(&p, "IPv4 later fragment");
}

/* ---- malformed headers ------------------------------------------------------ */

static const uint8_t F_IHL4[] = {
    ETH_MACS, 0x08, 0x00,
    0x44, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, /* IHL 4 */
    0x40, 0x06, 0x00, 0x00, V4_ADDRS, TCP_SYN,
};
static const uint8_t F_TOTAL19[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x13, 0x00, 0x01, 0x00, 0x00, /* total length 19 < 20 */
    0x40, 0x06, 0x00, 0x00, V4_ADDRS, TCP_SYN,
};
static const uint8_t F_IHL6_TOTAL20[] = {
    ETH_MACS, 0x08, 0x00,
    0x46, 0x00, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, /* IHL 6 (24) but total length 20 */
    0x40, 0x06, 0x00, 0x00, V4_ADDRS, 0x01, 0x01, 0x01, 0x00, TCP_SYN,
};
/* Total length 100 in a 46-byte frame (IP part 32). */
static const uint8_t F_TOTAL_BIG[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x64, 0x00, 0x01, 0x00, 0x00, /* total length 100 */
    0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'a', 'b', 'c', 'd',
};
_Static_assert(sizeof(F_TOTAL_BIG) == 46, "F_TOTAL_BIG size");
/* Total length 0 (TSO / BIG TCP): TCP with 6 payload bytes, frame 60. */
static const uint8_t F_TOTAL0[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* total length 0 */
    0x40, 0x06, 0x00, 0x00, V4_ADDRS, TCP_SYN, 'b', 'i', 'g', 't', 'c', 'p',
};
_Static_assert(sizeof(F_TOTAL0) == 60, "F_TOTAL0 size");
static const uint8_t F_TCP_DOFF4[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, V4_ADDRS,
    0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
    0x40, 0x02,                               /* data offset 4 words */
    0xff, 0xff, 0, 0, 0, 0,
};
static const uint8_t F_TCP_DOFF15[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, V4_ADDRS,
    0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
    0xf0, 0x02,                               /* data offset 15 words (60) > segment 20 */
    0xff, 0xff, 0, 0, 0, 0,
};
static const uint8_t F_UDP_LEN7[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x07, 0x00, 0x00, /* UDP length 7 */
};
static const uint8_t F_V4_VER6[] = {
    ETH_MACS, 0x08, 0x00,                     /* ethertype IPv4, but ... */
    0x65, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0x9c, 0x40, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, /* ... version 6 */
};
/* IPv6 payload length 100 in a frame with 20 bytes of payload. */
static const uint8_t F_V6_PLEN_BIG[] = {
    ETH_MACS, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x64, 0x06, 0x40, V6_ADDRS, TCP_SYN,
};
/* An ICMP header cut by the IP total length (24: 4 bytes of IP payload is
 * fine; 22: 2 bytes is not). */
static const uint8_t F_ICMP_SHORT[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x16, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, V4_ADDRS,
    0x08, 0x00, 0x00, 0x00, /* the IP datagram ends after 2 of these; 2 bytes padding */
};

static void test_malformed(void)
{
    struct wp_packet p;

    DECODE(WP_LT_EN10MB, F_IHL4, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ipv4_bad_ihl, "IHL 4");
    TAP_EQ(p.family, 0, "IHL 4: no IP");

    DECODE(WP_LT_EN10MB, F_TOTAL19, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ipv4_bad_total_length, "total length 19");
    TAP_EQ(p.family, 0, "total length 19: no IP");
    DECODE(WP_LT_EN10MB, F_IHL6_TOTAL20, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ipv4_bad_total_length, "IHL 6, total length 20");

    DECODE(WP_LT_EN10MB, F_TOTAL_BIG, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ipv4_total_length_exceeds_frame, "total length 100 > 32");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "total length 100 > 32 (still decoded)");
    expect_ports(&p, 40000, 53, "total length 100 > 32 (still decoded)");
    TAP_EQ(p.payload_len, 4, "total length 100 > 32: payload is what the frame holds");

    DECODE(WP_LT_EN10MB, F_TOTAL0, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "total length 0 (TSO)");
    expect_ip(&p, 4, 6, A4_SRC, A4_DST, "total length 0 (TSO)");
    expect_ports(&p, 1234, 80, "total length 0 (TSO)");
    TAP_EQ(p.payload_len, 6, "total length 0 (TSO): payload up to the frame end");

    DECODE(WP_LT_EN10MB, F_TCP_DOFF4, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_tcp_bad_data_offset, "TCP data offset 4");
    TAP_EQ(p.family, 4, "TCP data offset 4: family 4");
    TAP_EQ(p.proto, 6, "TCP data offset 4: proto 6");
    expect_no_ports(&p, "TCP data offset 4");

    DECODE(WP_LT_EN10MB, F_TCP_DOFF15, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_tcp_data_offset_exceeds_segment,
                  "TCP data offset 15 in a 20-byte segment");
    expect_no_ports(&p, "TCP data offset 15");

    DECODE(WP_LT_EN10MB, F_UDP_LEN7, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_udp_bad_length, "UDP length 7");
    TAP_EQ(p.family, 4, "UDP length 7: family 4");
    expect_no_ports(&p, "UDP length 7");

    /* Wireshark reads a version-6 header under ethertype IPv4 as IPv6: so
     * does whichports; these 28 bytes are too short for one. */
    DECODE(WP_LT_EN10MB, F_V4_VER6, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ip_header_exceeds_length,
                  "ethertype IPv4, version 6: read as IPv6, too short");

    DECODE(WP_LT_EN10MB, F_V6_PLEN_BIG, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ipv6_payload_length_exceeds_frame,
                  "IPv6 payload length 100 > 20");
    expect_ip(&p, 6, 6, A6_SRC, A6_DST, "IPv6 payload length 100 > 20 (still decoded)");
    expect_ports(&p, 1234, 80, "IPv6 payload length 100 > 20 (still decoded)");

    DECODE(WP_LT_EN10MB, F_ICMP_SHORT, false, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_transport_exceeds_payload,
                  "ICMP header beyond the IP total length");
    TAP_EQ(p.family, 4, "ICMP beyond total length: family 4");
}

/* ---- tunnels --------------------------------------------------------------- */

/* GRE with key and sequence (flags 0x3000), protocol IPv4: outer total 72, frame 86. */
static const uint8_t F_GRE[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x48, 0x12, 0x34, 0x00, 0x00, /* total 72 = 20 + 12 + 40 */
    0x40, 0x2f, 0x00, 0x00, V4_ADDRS,         /* proto 47 GRE */
    0x30, 0x00, 0x08, 0x00,                   /* K and S set, version 0; protocol IPv4 */
    0x00, 0x00, 0x00, 0x2a,                   /* key 42 */
    0x00, 0x00, 0x00, 0x01,                   /* sequence 1 */
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_GRE) == 86, "F_GRE size");

/* PPTP enhanced GRE (version 1, K and S) carrying PPP ff03 0021 IPv4/UDP:
 * GRE 12, PPP 4, inner 28; outer total 64, frame 78. */
#define V4_UDP_INNER                                                                    \
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_INNER,   \
    0x13, 0x88, 0x17, 0x70, 0x00, 0x08, 0x00, 0x00 /* UDP 5000 -> 6000 */
static const uint8_t F_PPTP[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x00, V4_ADDRS,
    0x30, 0x01, 0x88, 0x0b,                   /* K, S, version 1; protocol PPP */
    0x00, 0x20, 0x00, 0x07,                   /* payload length 32, call id 7 */
    0x00, 0x00, 0x00, 0x05,                   /* sequence 5 */
    0xff, 0x03, 0x00, 0x21,                   /* PPP address, control, protocol IPv4 */
    V4_UDP_INNER,
};
_Static_assert(sizeof(F_PPTP) == 78, "F_PPTP size");
/* The same without the ff03 address and control: total 62, frame 76. */
static const uint8_t F_PPTP_NOAC[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x3e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x00, V4_ADDRS,
    0x30, 0x01, 0x88, 0x0b, 0x00, 0x1e, 0x00, 0x07, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x21,                               /* PPP protocol IPv4 */
    V4_UDP_INNER,
};
_Static_assert(sizeof(F_PPTP_NOAC) == 76, "F_PPTP_NOAC size");
/* With a compressed (1-byte, RFC 1661 PFC) protocol: total 61, frame 75. */
static const uint8_t F_PPTP_PFC[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x3d, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x00, V4_ADDRS,
    0x30, 0x01, 0x88, 0x0b, 0x00, 0x1d, 0x00, 0x07, 0x00, 0x00, 0x00, 0x05,
    0x21,                                     /* PPP protocol 0x21 compressed */
    V4_UDP_INNER,
};
_Static_assert(sizeof(F_PPTP_PFC) == 75, "F_PPTP_PFC size");

/* VXLAN: UDP 54321 -> 4789, VNI 100, inner Ethernet/IPv4/TCP:
 * UDP 8 + 8 + 14 + 40 = 70, outer total 90, frame 104. */
static const uint8_t F_VXLAN[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x5a, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0xd4, 0x31, 0x12, 0xb5, 0x00, 0x46, 0x00, 0x00, /* UDP 54321 -> 4789, length 70 */
    0x08, 0x00, 0x00, 0x00,                   /* flags I, reserved */
    0x00, 0x00, 0x64, 0x00,                   /* VNI 100, reserved */
    ETH_MACS_IN, 0x08, 0x00,
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_VXLAN) == 104, "F_VXLAN size");
/* VXLAN whose inner frame is ARP: UDP length 58, total 78, frame 92. */
static const uint8_t F_VXLAN_ARP[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x4e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0xd4, 0x31, 0x12, 0xb5, 0x00, 0x3a, 0x00, 0x00, /* UDP 54321 -> 4789, length 58 */
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00,
    ETH_MACS_IN, 0x08, 0x06, ARP_BODY,
};
_Static_assert(sizeof(F_VXLAN_ARP) == 92, "F_VXLAN_ARP size");

/* Geneve: UDP 54321 -> 6081, option length 1 word, protocol 0x6558
 * (Ethernet), one 4-byte option, inner Ethernet/IPv4/TCP:
 * UDP 8 + 12 + 14 + 40 = 74, total 94, frame 108. */
static const uint8_t F_GENEVE[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0xd4, 0x31, 0x17, 0xc1, 0x00, 0x4a, 0x00, 0x00, /* UDP 54321 -> 6081, length 74 */
    0x01, 0x00, 0x65, 0x58,                   /* version 0, opt len 1; protocol Ethernet */
    0x00, 0x00, 0x0a, 0x00,                   /* VNI 10 */
    0x01, 0x02, 0x03, 0x00,                   /* option class 0x0102, type 3, length 0 */
    ETH_MACS_IN, 0x08, 0x00,
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_GENEVE) == 108, "F_GENEVE size");

/* GTP-U G-PDU without optional fields (flags 0x30): UDP 8 + 8 + 40 = 56,
 * total 76, frame 90. */
static const uint8_t F_GTPU[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x4c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0xd4, 0x31, 0x08, 0x68, 0x00, 0x38, 0x00, 0x00, /* UDP 54321 -> 2152, length 56 */
    0x30, 0xff, 0x00, 0x28,                   /* version 1, PT; G-PDU; length 40 */
    0x00, 0x00, 0x00, 0x01,                   /* TEID 1 */
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_GTPU) == 90, "F_GTPU size");
/* GTP-U with E and S flags (0x36), sequence, N-PDU, next extension 0x85
 * (PDU session container, 1 word): GTP 16 bytes, UDP 64, total 84, frame 98. */
static const uint8_t F_GTPU_EXT[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x54, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0xd4, 0x31, 0x08, 0x68, 0x00, 0x40, 0x00, 0x00, /* UDP 54321 -> 2152, length 64 */
    0x36, 0xff, 0x00, 0x30,                   /* version 1, PT, E, S; G-PDU; length 48 */
    0x00, 0x00, 0x00, 0x01,                   /* TEID 1 */
    0x00, 0x01, 0x00, 0x85,                   /* sequence 1, N-PDU 0, next ext 0x85 */
    0x01, 0x00, 0x09, 0x00,                   /* ext length 1 word, content, next ext 0 */
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_GTPU_EXT) == 98, "F_GTPU_EXT size");

/* IP in IP. 4in4: total 60, frame 74. */
static const uint8_t F_4IN4[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x04, 0x00, 0x00, V4_ADDRS,
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_4IN4) == 74, "F_4IN4 size");
/* 6in4: total 80, frame 94. */
static const uint8_t F_6IN4[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x50, 0x00, 0x01, 0x00, 0x00, 0x40, 0x29, 0x00, 0x00, V4_ADDRS,
    V6_TCP_INNER,
};
_Static_assert(sizeof(F_6IN4) == 94, "F_6IN4 size");
/* 4in6: payload length 40, frame 94. */
static const uint8_t F_4IN6[] = {
    ETH_MACS, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x04, 0x40, V6_ADDRS, /* next header 4 */
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_4IN6) == 94, "F_4IN6 size");
/* 6in6: payload length 60, frame 114. */
static const uint8_t F_6IN6[] = {
    ETH_MACS, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x29, 0x40, V6_ADDRS, /* next header 41 */
    V6_TCP_INNER,
};
_Static_assert(sizeof(F_6IN6) == 114, "F_6IN6 size");

/* MPLS: labels 100 and 200 (bottom of stack), IPv4/TCP: frame 62. */
static const uint8_t F_MPLS[] = {
    ETH_MACS, 0x88, 0x47,
    0x00, 0x06, 0x40, 0x40,                   /* label 100, TC 0, S 0, TTL 64 */
    0x00, 0x0c, 0x81, 0x40,                   /* label 200, TC 0, S 1, TTL 64 */
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_MPLS) == 62, "F_MPLS size");

/* PPPoE session (0x8864), PPP protocol IPv4, IPv4/TCP: frame 62. */
static const uint8_t F_PPPOE[] = {
    ETH_MACS, 0x88, 0x64,
    0x11, 0x00,                               /* version 1, type 1; code 0 (session) */
    0x00, 0x01, 0x00, 0x2a,                   /* session id 1, length 42 */
    0x00, 0x21,                               /* PPP protocol IPv4 */
    V4_TCP_INNER,
};
_Static_assert(sizeof(F_PPPOE) == 62, "F_PPPOE size");

/* Write an IPv4 header of 20 bytes: version 4, IHL 5, total length `total`,
 * id 1, TTL 64, protocol `proto`, addresses 10.0.`lvl`.1 -> 10.0.`lvl`.2. */
static size_t put_ipv4(uint8_t *b, uint16_t total, uint8_t proto, uint8_t lvl)
{
    const uint8_t h[20] = {
        0x45, 0x00, (uint8_t)(total >> 8), (uint8_t)total, 0x00, 0x01, 0x00, 0x00,
        0x40, proto, 0x00, 0x00, 10, 0, lvl, 1, 10, 0, lvl, 2,
    };
    memcpy(b, h, sizeof(h));
    return sizeof(h);
}

/* Ethernet, then `n_ip` IPv4 headers each carrying the next (protocol 4),
 * the last carrying TCP_SYN. Level i (0 = outermost) has addresses
 * 10.0.i.1 -> 10.0.i.2 and total length 20 * (n_ip - i) + 20. */
static size_t build_nested_4in4(uint8_t *b, unsigned n_ip)
{
    static const uint8_t eth[14] = {ETH_MACS, 0x08, 0x00};
    static const uint8_t tcp[20] = {TCP_SYN};
    size_t n = 0;
    memcpy(b, eth, sizeof(eth));
    n += sizeof(eth);
    for (unsigned i = 0; i < n_ip; i++)
        n += put_ipv4(b + n, (uint16_t)(20 * (n_ip - i) + 20), i + 1 == n_ip ? 6 : 4,
                      (uint8_t)i);
    memcpy(b + n, tcp, sizeof(tcp));
    n += sizeof(tcp);
    return n;
}

static void test_tunnels(void)
{
    struct wp_packet p;

    DECODE(WP_LT_EN10MB, F_GRE, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "GRE key+seq");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "GRE key+seq inner");
    expect_ports(&p, 1234, 80, "GRE key+seq inner");
    TAP_EQ(p.tcp_flags, WP_TCP_SYN, "GRE key+seq inner: SYN");
    expect_outer(&p, WP_TUN_GRE, 1, 4, A4_SRC, A4_DST, 47, 0, 0, "GRE key+seq");
    DECODE(WP_LT_EN10MB, F_GRE, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "GRE, no decap");
    expect_ip(&p, 4, 47, A4_SRC, A4_DST, "GRE, no decap");
    expect_no_ports(&p, "GRE, no decap");
    expect_no_tunnel(&p, "GRE, no decap");

    DECODE(WP_LT_EN10MB, F_PPTP, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "PPTP GRE ff03");
    expect_ip(&p, 4, 17, I4_SRC, I4_DST, "PPTP GRE ff03 inner");
    expect_ports(&p, 5000, 6000, "PPTP GRE ff03 inner");
    expect_outer(&p, WP_TUN_GRE, 1, 4, A4_SRC, A4_DST, 47, 0, 0, "PPTP GRE ff03");
    DECODE(WP_LT_EN10MB, F_PPTP_NOAC, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "PPTP GRE no ff03");
    expect_ip(&p, 4, 17, I4_SRC, I4_DST, "PPTP GRE no ff03 inner");
    expect_ports(&p, 5000, 6000, "PPTP GRE no ff03 inner");
    expect_outer(&p, WP_TUN_GRE, 1, 4, A4_SRC, A4_DST, 47, 0, 0, "PPTP GRE no ff03");
    DECODE(WP_LT_EN10MB, F_PPTP_PFC, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "PPTP GRE PFC");
    expect_ip(&p, 4, 17, I4_SRC, I4_DST, "PPTP GRE PFC inner");
    expect_ports(&p, 5000, 6000, "PPTP GRE PFC inner");

    DECODE(WP_LT_EN10MB, F_VXLAN, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "VXLAN");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "VXLAN inner");
    expect_ports(&p, 1234, 80, "VXLAN inner");
    expect_outer(&p, WP_TUN_VXLAN, 1, 4, A4_SRC, A4_DST, 17, 54321, 4789, "VXLAN");
    DECODE(WP_LT_EN10MB, F_VXLAN, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "VXLAN, no decap");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "VXLAN, no decap");
    expect_ports(&p, 54321, 4789, "VXLAN, no decap");
    TAP_EQ(p.payload_len, 62, "VXLAN, no decap: UDP payload 8 + 14 + 40");
    expect_no_tunnel(&p, "VXLAN, no decap");

    DECODE(WP_LT_EN10MB, F_VXLAN_ARP, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "VXLAN carrying ARP");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "VXLAN carrying ARP: outer kept");
    expect_ports(&p, 54321, 4789, "VXLAN carrying ARP: outer kept");
    TAP_EQ(p.payload_len, 50, "VXLAN carrying ARP: outer UDP payload");
    expect_no_tunnel(&p, "VXLAN carrying ARP");

    DECODE(WP_LT_EN10MB, F_GENEVE, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "Geneve");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "Geneve inner");
    expect_ports(&p, 1234, 80, "Geneve inner");
    expect_outer(&p, WP_TUN_GENEVE, 1, 4, A4_SRC, A4_DST, 17, 54321, 6081, "Geneve");
    DECODE(WP_LT_EN10MB, F_GENEVE, false, &p);
    expect_ports(&p, 54321, 6081, "Geneve, no decap");
    expect_no_tunnel(&p, "Geneve, no decap");

    DECODE(WP_LT_EN10MB, F_GTPU, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "GTP-U");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "GTP-U inner");
    expect_ports(&p, 1234, 80, "GTP-U inner");
    expect_outer(&p, WP_TUN_GTPU, 1, 4, A4_SRC, A4_DST, 17, 54321, 2152, "GTP-U");
    DECODE(WP_LT_EN10MB, F_GTPU_EXT, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "GTP-U E+S");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "GTP-U E+S inner");
    expect_ports(&p, 1234, 80, "GTP-U E+S inner");
    expect_outer(&p, WP_TUN_GTPU, 1, 4, A4_SRC, A4_DST, 17, 54321, 2152, "GTP-U E+S");
    DECODE(WP_LT_EN10MB, F_GTPU, false, &p);
    expect_ports(&p, 54321, 2152, "GTP-U, no decap");
    expect_no_tunnel(&p, "GTP-U, no decap");

    DECODE(WP_LT_EN10MB, F_4IN4, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "4in4");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "4in4 inner");
    expect_ports(&p, 1234, 80, "4in4 inner");
    expect_outer(&p, WP_TUN_IPIP, 1, 4, A4_SRC, A4_DST, 4, 0, 0, "4in4");
    DECODE(WP_LT_EN10MB, F_4IN4, false, &p);
    expect_ip(&p, 4, 4, A4_SRC, A4_DST, "4in4, no decap");
    expect_no_tunnel(&p, "4in4, no decap");

    DECODE(WP_LT_EN10MB, F_6IN4, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "6in4");
    expect_ip(&p, 6, 6, I6_SRC, I6_DST, "6in4 inner");
    expect_ports(&p, 1234, 80, "6in4 inner");
    expect_outer(&p, WP_TUN_IPIP, 1, 4, A4_SRC, A4_DST, 41, 0, 0, "6in4");

    DECODE(WP_LT_EN10MB, F_4IN6, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "4in6");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "4in6 inner");
    expect_ports(&p, 1234, 80, "4in6 inner");
    expect_outer(&p, WP_TUN_IPIP, 1, 6, A6_SRC, A6_DST, 4, 0, 0, "4in6");

    DECODE(WP_LT_EN10MB, F_6IN6, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "6in6");
    expect_ip(&p, 6, 6, I6_SRC, I6_DST, "6in6 inner");
    expect_ports(&p, 1234, 80, "6in6 inner");
    expect_outer(&p, WP_TUN_IPIP, 1, 6, A6_SRC, A6_DST, 41, 0, 0, "6in6");
    DECODE(WP_LT_EN10MB, F_6IN6, false, &p);
    expect_ip(&p, 6, 41, A6_SRC, A6_DST, "6in6, no decap");

    DECODE(WP_LT_EN10MB, F_MPLS, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "MPLS");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "MPLS inner");
    expect_ports(&p, 1234, 80, "MPLS inner");
    expect_outer(&p, WP_TUN_MPLS, 1, 0, NULL, NULL, 0, 0, 0, "MPLS");
    DECODE(WP_LT_EN10MB, F_MPLS, false, &p);
    expect_status(&p, WP_DEC_NON_IP, 0, "MPLS, no decap");
    TAP_EQ(p.family, 0, "MPLS, no decap: no IP");

    DECODE(WP_LT_EN10MB, F_PPPOE, true, &p);
    expect_status(&p, WP_DEC_OK, 0, "PPPoE");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "PPPoE inner");
    expect_ports(&p, 1234, 80, "PPPoE inner");
    expect_outer(&p, WP_TUN_PPPOE, 1, 0, NULL, NULL, 0, 0, 0, "PPPoE");
    DECODE(WP_LT_EN10MB, F_PPPOE, false, &p);
    expect_status(&p, WP_DEC_NON_IP, 0, "PPPoE, no decap");

    /* Nesting: 5 IPv4 headers are 4 decapsulations, the limit; a 6th is one too many. */
    {
        uint8_t b[14 + 6 * 20 + 20];
        size_t n = build_nested_4in4(b, 5);
        static const uint8_t l4s[4] = {10, 0, 4, 1}, l4d[4] = {10, 0, 4, 2};
        static const uint8_t l0s[4] = {10, 0, 0, 1}, l0d[4] = {10, 0, 0, 2};
        decode_n(WP_LT_EN10MB, b, n, true, &p);
        expect_status(&p, WP_DEC_OK, 0, "4 nested 4in4 tunnels");
        expect_ip(&p, 4, 6, l4s, l4d, "4 nested 4in4 tunnels: innermost");
        expect_ports(&p, 1234, 80, "4 nested 4in4 tunnels");
        expect_outer(&p, WP_TUN_IPIP, 4, 4, l0s, l0d, 4, 0, 0, "4 nested 4in4 tunnels");

        n = build_nested_4in4(b, 6);
        TAP_EQ(n, sizeof(b), "6-level frame size");
        decode_n(WP_LT_EN10MB, b, n, true, &p);
        expect_status(&p, WP_DEC_MALFORMED, WP_MAL_tunnel_too_deep, "5 nested 4in4 tunnels");
        expect_no_ports(&p, "5 nested 4in4 tunnels");
        TAP_EQ(p.tunnel_depth, WP_MAX_TUNNEL_DEPTH, "5 nested: stopped at the limit");
    }

    TAP_OK(strcmp(wp_tunnel_kind_name(WP_TUN_VXLAN), "vxlan") == 0, "tunnel name vxlan");
    TAP_OK(strcmp(wp_tunnel_kind_name(99), "unknown") == 0, "tunnel name out of range");
    TAP_OK(strcmp(wp_ip_proto_name(17), "udp") == 0 && wp_ip_proto_name(253) == NULL,
           "IP protocol names");
}

/* ---- truncation sweep ------------------------------------------------------- */

/* Ethernet / IPv4 / TCP with 12 option bytes (data offset 8) / 5 payload
 * bytes: IP total 57, frame 71. Headers end at 14, 34, 66. */
static const uint8_t S_ETH_TCPOPT[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x39, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, V4_ADDRS,
    0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
    0x80, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, /* data offset 8 (32 bytes), SYN */
    0x02, 0x04, 0x05, 0xb4,                   /* MSS 1460 */
    0x01, 0x01, 0x04, 0x02,                   /* NOP NOP SACK-permitted */
    0x01, 0x03, 0x03, 0x07,                   /* NOP window scale 7 */
    'h', 'e', 'l', 'l', 'o',
};
_Static_assert(sizeof(S_ETH_TCPOPT) == 71, "S_ETH_TCPOPT size");

/* QinQ / IPv6 / HBH (16) / DST (8) / UDP 546 -> 547 / 3 bytes: payload
 * length 35, frame 97. Headers end at 14, 22, 62, 86, 94. */
static const uint8_t S_QINQ_V6[] = {
    ETH_MACS, 0x88, 0xa8, 0x00, 0xc8, 0x81, 0x00, 0x01, 0x2c, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x23, 0x00, 0x40, V6_ADDRS, /* payload 35, next HBH */
    0x3c, 0x01, 0x01, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* HBH next 60, 16 bytes */
    0x11, 0x00, 0x01, 0x04, 0, 0, 0, 0,       /* DST next 17, 8 bytes */
    0x02, 0x22, 0x02, 0x23, 0x00, 0x0b, 0x00, 0x00, /* UDP length 11 */
    'x', 'y', 'z',
};
_Static_assert(sizeof(S_QINQ_V6) == 97, "S_QINQ_V6 size");

/* SLL2 / IPv4 / ICMP echo with 4 data bytes: total 32, frame 52. Headers end
 * at 20, 40, 44. */
static const uint8_t S_SLL2_ICMP[] = {
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x06,
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00,
    0x45, 0x00, 0x00, 0x20, 0x00, 0x03, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, V4_ADDRS,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'p', 'i', 'n', 'g',
};
_Static_assert(sizeof(S_SLL2_ICMP) == 52, "S_SLL2_ICMP size");

/* NULL (AF 30 little-endian) / IPv6 / TCP / 2 bytes: payload length 22,
 * frame 66. Headers end at 4, 44, 64. */
static const uint8_t S_NULL_V6_TCP[] = {
    0x1e, 0x00, 0x00, 0x00,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x16, 0x06, 0x40, V6_ADDRS,
    TCP_SYN, 'o', 'k',
};
_Static_assert(sizeof(S_NULL_V6_TCP) == 66, "S_NULL_V6_TCP size");

/* Ethernet / IPv4 / GRE with key / IPv4 / TCP: outer total 68, frame 82.
 * Headers end at 14, 34, 42 (GRE), 62, 82. */
static const uint8_t S_GRE[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x44, 0x12, 0x34, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x00, V4_ADDRS,
    0x20, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x2a, /* K; protocol IPv4; key 42 */
    V4_TCP_INNER,
};
_Static_assert(sizeof(S_GRE) == 82, "S_GRE size");

struct bound {
    size_t end;           /* prefixes shorter than this ... */
    enum wp_truncated why;/* ... are truncated in this header */
};

struct sweep {
    const char *name;
    uint32_t lt;
    const uint8_t *frame;
    size_t len;
    bool tunnels;
    bool strict_ports;    /* a truncated frame reports ports only from ports_from on */
    size_t payload_at;    /* when OK, payload_len is prefix - payload_at (0: not checked) */
    const struct bound *b;
    size_t nb;
    size_t todo_len;      /* a prefix length hit by a known decoder bug, or SIZE_MAX */
    const char *todo_why;
    size_t ports_from; /* TCP: its header start + 16 (WP_TCP_FLOW_BYTES), or 0 */
};

static void run_sweep(const struct sweep *s)
{
    struct wp_packet whole;
    decode_wl(s->lt, s->frame, s->len, s->len, s->tunnels, &whole);
    for (size_t len = 0; len <= s->len; len++) {
        enum wp_dec_status st = WP_DEC_OK;
        unsigned why = 0;
        for (size_t i = 0; i < s->nb; i++) {
            if (len < s->b[i].end) {
                st = WP_DEC_TRUNCATED;
                why = s->b[i].why;
                break;
            }
        }
        struct wp_packet p;
        decode_wl(s->lt, s->frame, len, s->len, s->tunnels, &p);
        bool ok = p.status == st && (st != WP_DEC_TRUNCATED || p.reason == why);
        if (st == WP_DEC_TRUNCATED && s->strict_ports)
            ok = ok && p.has_ports == (s->ports_from != 0 && len >= s->ports_from);
        if (st == WP_DEC_TRUNCATED && p.has_ports && s->strict_ports)
            ok = ok && p.sport == whole.sport && p.dport == whole.dport &&
                 p.tcp_flags == whole.tcp_flags && p.tcp_seq == whole.tcp_seq &&
                 p.payload == NULL && p.payload_len == 0;
        if (st == WP_DEC_OK && s->payload_at != 0)
            ok = ok && p.payload_len == len - s->payload_at;
        if (len == s->todo_len) {
            char what[160];
            snprintf(what, sizeof(what), "sweep %s: prefix %zu of %zu -> %s %s", s->name, len,
                     s->len, status_name(st), reason_name(st, why));
            todo_ok(ok, what, s->todo_why);
            continue;
        }
        if (!TAP_OK(ok, "sweep %s: prefix %zu of %zu -> %s %s", s->name, len, s->len,
                    status_name(st), reason_name(st, why)))
            printf("#   got %s %s, has_ports %d, payload_len %u\n", status_name(p.status),
                   reason_name(p.status, p.reason), p.has_ports, p.payload_len);
    }
}

/* VXLAN: headers end at 14, 34 (IPv4), 42 (UDP), 50 (VXLAN), 64 (inner
 * Ethernet), 84 (inner IPv4), 104 (TCP). */
static const struct bound B_VXLAN[] = {
    {14, WP_TRUNC_link}, {34, WP_TRUNC_ipv4}, {42, WP_TRUNC_udp}, {50, WP_TRUNC_tunnel},
    {64, WP_TRUNC_link}, {84, WP_TRUNC_ipv4}, {104, WP_TRUNC_tcp},
};

static void test_truncation_sweep(void)
{
    static const struct bound b_eth_tcp[] = {
        {14, WP_TRUNC_link}, {34, WP_TRUNC_ipv4}, {66, WP_TRUNC_tcp}};
    static const struct bound b_qinq[] = {
        {14, WP_TRUNC_link}, {22, WP_TRUNC_vlan}, {62, WP_TRUNC_ipv6},
        {86, WP_TRUNC_ipv6_ext}, {94, WP_TRUNC_udp}};
    static const struct bound b_sll2[] = {
        {20, WP_TRUNC_link}, {40, WP_TRUNC_ipv4}, {44, WP_TRUNC_icmp}};
    static const struct bound b_null[] = {
        {4, WP_TRUNC_link}, {44, WP_TRUNC_ipv6}, {64, WP_TRUNC_tcp}};
    static const struct bound b_pktap[] = {
        {108, WP_TRUNC_pktap}, {122, WP_TRUNC_link}, {142, WP_TRUNC_ipv4}, {150, WP_TRUNC_udp}};
    static const struct bound b_gre[] = {
        {14, WP_TRUNC_link}, {34, WP_TRUNC_ipv4}, {42, WP_TRUNC_tunnel},
        {62, WP_TRUNC_ipv4}, {82, WP_TRUNC_tcp}};
    /* MPLS: 14 Ethernet, labels end at 22; with no byte after the stack the
     * payload type is unknown (tunnel), then IPv4 to 42, TCP to 62. */
    static const struct bound b_mpls[] = {
        {14, WP_TRUNC_link}, {23, WP_TRUNC_tunnel}, {42, WP_TRUNC_ipv4}, {62, WP_TRUNC_tcp}};
    /* PPPoE: 14 Ethernet, 20 PPPoE header, 22 PPP protocol, 42, 62. */
    static const struct bound b_pppoe[] = {
        {14, WP_TRUNC_link}, {22, WP_TRUNC_tunnel}, {42, WP_TRUNC_ipv4}, {62, WP_TRUNC_tcp}};
    /* GTP-U E+S: 14, 34, 42 UDP, 50 GTP, 54 optional fields, 58 extension,
     * then the inner IPv4 to 78 and TCP to 98. */
    static const struct bound b_gtpu[] = {
        {14, WP_TRUNC_link}, {34, WP_TRUNC_ipv4}, {42, WP_TRUNC_udp}, {58, WP_TRUNC_tunnel},
        {78, WP_TRUNC_ipv4}, {98, WP_TRUNC_tcp}};
    /* PPTP: 14, 34, 46 GRE (12), 50 PPP (4), 70 inner IPv4, 78 UDP. */
    static const struct bound b_pptp[] = {
        {14, WP_TRUNC_link}, {34, WP_TRUNC_ipv4}, {50, WP_TRUNC_tunnel},
        {70, WP_TRUNC_ipv4}, {78, WP_TRUNC_udp}};

    const struct sweep sweeps[] = {
        {"eth/ipv4/tcp+options", WP_LT_EN10MB, S_ETH_TCPOPT, sizeof(S_ETH_TCPOPT), true, true, 66,
         b_eth_tcp, WP_ARRAY_LEN(b_eth_tcp), SIZE_MAX, NULL, 50},
        {"qinq/ipv6+ext/udp", WP_LT_EN10MB, S_QINQ_V6, sizeof(S_QINQ_V6), true, true, 94, b_qinq,
         WP_ARRAY_LEN(b_qinq), SIZE_MAX, NULL, 0},
        {"sll2/ipv4/icmp", WP_LT_LINUX_SLL2, S_SLL2_ICMP, sizeof(S_SLL2_ICMP), true, true, 44,
         b_sll2, WP_ARRAY_LEN(b_sll2), SIZE_MAX, NULL, 0},
        {"null/ipv6/tcp", WP_LT_NULL, S_NULL_V6_TCP, sizeof(S_NULL_V6_TCP), true, true, 64, b_null,
         WP_ARRAY_LEN(b_null), SIZE_MAX, NULL, 60},
        {"pktap/eth/ipv4/udp", WP_LT_PKTAP, F_PKTAP, sizeof(F_PKTAP), true, true, 150, b_pktap,
         WP_ARRAY_LEN(b_pktap), SIZE_MAX, NULL, 0},
        {"eth/ipv4/gre/ipv4/tcp", WP_LT_EN10MB, S_GRE, sizeof(S_GRE), true, true, 82, b_gre,
         WP_ARRAY_LEN(b_gre), SIZE_MAX, NULL, 78},
        /* UDP tunnels: a frame cut inside the tunnel stays counted under the
         * outer UDP ports (by design, see decap() in src/decode.c), so ports
         * are not checked there. */
        {"vxlan", WP_LT_EN10MB, F_VXLAN, sizeof(F_VXLAN), true, false, 104, B_VXLAN,
         WP_ARRAY_LEN(B_VXLAN), SIZE_MAX, NULL, 0},
        {"gtpu E+S", WP_LT_EN10MB, F_GTPU_EXT, sizeof(F_GTPU_EXT), true, false, 98, b_gtpu,
         WP_ARRAY_LEN(b_gtpu), SIZE_MAX, NULL, 0},
        {"mpls", WP_LT_EN10MB, F_MPLS, sizeof(F_MPLS), true, true, 62, b_mpls, WP_ARRAY_LEN(b_mpls),
         SIZE_MAX, NULL, 58},
        {"pppoe", WP_LT_EN10MB, F_PPPOE, sizeof(F_PPPOE), true, true, 62, b_pppoe,
         WP_ARRAY_LEN(b_pppoe), SIZE_MAX, NULL, 58},
        {"pptp", WP_LT_EN10MB, F_PPTP, sizeof(F_PPTP), true, true, 78, b_pptp, WP_ARRAY_LEN(b_pptp),
         47,
         "decode.c inner_ppp: a lone captured 0xff (PPP address) is taken for a compressed "
         "protocol 0xff, so the cut frame is reported OK",
         0},
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(sweeps); i++)
        run_sweep(&sweeps[i]);

    /* The first five again without tunnel decapsulation: same outcome. */
    for (size_t i = 0; i < 5; i++) {
        struct sweep s = sweeps[i];
        s.tunnels = false;
        run_sweep(&s);
    }
    /* GRE without decapsulation: only the outer headers count. */
    static const struct bound b_gre_outer[] = {{14, WP_TRUNC_link}, {34, WP_TRUNC_ipv4}};
    struct sweep gre_outer = sweeps[5]; /* eth/ipv4/gre/ipv4/tcp */
    gre_outer.name = "eth/ipv4/gre no decap";
    gre_outer.tunnels = false;
    gre_outer.payload_at = 0;
    gre_outer.b = b_gre_outer;
    gre_outer.nb = WP_ARRAY_LEN(b_gre_outer);
    gre_outer.ports_from = 0;
    run_sweep(&gre_outer);
}

/* ---- captures cut by a snap length -------------------------------------- */

/* Ethernet / IPv6 2001:db8::1 -> 2001:db8::2 / segment routing header
 * (type 4, 2 segments: header length 4 = 40 bytes, segments left 1, Segment
 * List[0] fd00::2, the final destination) / UDP 546 -> 547, length 8.
 * Offsets: IPv6 at 14, routing header at 54, Segment List[0] at 62..77,
 * UDP at 94; frame 102. */
static const uint8_t F_V6_SRH_UDP[] = {
    ETH_MACS, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x30, 0x2b, 0x40, /* payload 48, next header
                                                                             43 */
    V6_ADDRS, 0x11, 0x04, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, /* next 17, length 4, type 4, left 1
                                                               */
    0xfd,     0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,        0,    0,    0x02, /* Segment List[0] */
    0xfd,     0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,        0,    0,    0x01,                         /* Segment List[1] */
    0x02,     0x22, 0x02, 0x23, 0x00, 0x08, 0x00, 0x00, /* UDP 546 -> 547, length 8 */
};
_Static_assert(sizeof(F_V6_SRH_UDP) == 102, "F_V6_SRH_UDP size");

/* Ethernet / IPv6 / destination options with a Home Address option
 * (RFC 6275: type 0xc9, length 16, fd00::1) and a 4-byte PadN: header
 * length 2 = 24 bytes / UDP 546 -> 547. Offsets: options at 54, the home
 * address at 58..73, UDP at 78; frame 86. */
static const uint8_t F_V6_HOA_UDP[] = {
    ETH_MACS, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3c, 0x40, /* payload 32, next header
                                                                             60 */
    V6_ADDRS, 0x11, 0x02, 0xc9, 0x10, /* next 17, length 2, HAO, 16 */
    0xfd,     0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,        0,    0,    0x01,                         /* home address */
    0x01,     0x02, 0x00, 0x00,                         /* PadN */
    0x02,     0x22, 0x02, 0x23, 0x00, 0x08, 0x00, 0x00, /* UDP 546 -> 547, length 8 */
};
_Static_assert(sizeof(F_V6_HOA_UDP) == 86, "F_V6_HOA_UDP size");

/* Ethernet / IPv6 2001:db8::1 -> 2001:db8::2, payload 24 / Authentication
 * Header (RFC 4302: next header 58, length 2 = (2 + 2) * 4 = 16 bytes, SPI
 * 0x100, sequence 1, 4-byte ICV) / ICMPv6 echo request (type 128, code 0,
 * id 1, sequence 1). Offsets: AH at 54..69, ICMPv6 at 70..77; frame 78. */
static const uint8_t F_V6_AH_ICMP6[] = {
    ETH_MACS, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x33, 0x40, /* payload 24, AH */
    V6_ADDRS, 0x3a, 0x02, 0x00, 0x00,                   /* next 58, length 2, reserved */
    0x00,     0x00, 0x01, 0x00,                         /* SPI */
    0x00,     0x00, 0x00, 0x01,                         /* sequence number */
    0xaa,     0xbb, 0xcc, 0xdd,                         /* ICV */
    0x80,     0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, /* echo request, id 1, sequence 1 */
};
_Static_assert(sizeof(F_V6_AH_ICMP6) == 78, "F_V6_AH_ICMP6 size");

/* Ethernet / IPv4 192.0.2.1 -> 198.51.100.2, total length 44, id 1, MF set,
 * offset 0 (a first fragment of 24 bytes) / TCP 1234 -> 80 SYN whose data
 * offset is 10 (40 bytes), of which the fragment holds the fixed 20 and an
 * MSS option (1460). Offsets: TCP at 34, its byte 12 at 46; frame 58. */
static const uint8_t F_V4_FRAG_TCP40[] = {
    ETH_MACS, 0x08, 0x00, 0x45, 0x00, 0x00, 0x2c, /* IHL 5, total length 44 */
    0x00,     0x01, 0x20, 0x00,                   /* id 1, MF, offset 0 */
    0x40,     0x06, 0x00, 0x00,                   /* TTL 64, TCP, checksum */
    V4_ADDRS, 0x04, 0xd2, 0x00, 0x50,             /* ports 1234 -> 80 */
    0x00,     0x00, 0x03, 0xe8,                   /* sequence number 1000 */
    0x00,     0x00, 0x00, 0x00,                   /* acknowledgment number */
    0xa0,     0x02, 0x20, 0x00,                   /* data offset 10 words, SYN, window */
    0x00,     0x00, 0x00, 0x00,                   /* checksum, urgent pointer */
    0x02,     0x04, 0x05, 0xb4,                   /* MSS 1460 */
};
_Static_assert(sizeof(F_V4_FRAG_TCP40) == 58, "F_V4_FRAG_TCP40 size");

/* NFLOG (little-endian TLVs): header family 2 (IPv4), version 0, resource
 * 20 / NFULA_PACKET_HDR (length 8, type 1: hardware protocol 0x0800, hook
 * 1, pad) / NFULA_PAYLOAD (length 32, type 9): IPv4 192.0.2.1 ->
 * 198.51.100.2, total length 28 / UDP 53 -> 40000, length 8. Offsets: the
 * payload TLV at 12, IPv4 at 16, UDP at 36..43; frame 44. */
static const uint8_t F_NFLOG_UDP[] = {
    0x02,     0x00, 0x00, 0x14,                         /* family, version, resource id */
    0x08,     0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, /* NFULA_PACKET_HDR */
    0x20,     0x00, 0x09, 0x00,                         /* NFULA_PAYLOAD, length 32 */
    0x45,     0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, /* IPv4, total length 28 */
    0x40,     0x11, 0x00, 0x00,                         /* TTL 64, UDP */
    V4_ADDRS,                                           /* addresses */
    0x00,     0x35, 0x9c, 0x40, 0x00, 0x08, 0x00, 0x00, /* UDP 53 -> 40000, length 8 */
};
_Static_assert(sizeof(F_NFLOG_UDP) == 44, "F_NFLOG_UDP size");

/* A tunnel's inner packet cut by the snap length, and IPv6 extension headers
 * cut by it: where the frame counts, as Wireshark places it
 * (docs/wireshark.md, "Captures cut by a snap length"). */
static void test_snap_cuts(void)
{
    struct wp_packet p;
    char nm[64];

    /* VXLAN (F_VXLAN: inner Ethernet ends at 64, inner IPv4 at 84, TCP at
     * 104). Up to 83 bytes the inner IPv4 header lacks its destination:
     * Wireshark has no inner conversation, the frame stays in the outer UDP
     * one, and so it does here, with the inner IPv4 named as cut. */
    static const size_t outer_cuts[] = {64, 65, 76, 80, 83};
    for (size_t i = 0; i < WP_ARRAY_LEN(outer_cuts); i++) {
        snprintf(nm, sizeof(nm), "VXLAN cut at %zu", outer_cuts[i]);
        decode_wl(WP_LT_EN10MB, F_VXLAN, outer_cuts[i], sizeof(F_VXLAN), true, &p);
        expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_ipv4, nm);
        TAP_EQ(p.tunnel_kind, WP_TUN_NONE, "%s: not decapsulated", nm);
        expect_ip(&p, 4, 17, A4_SRC, A4_DST, nm);
        expect_ports(&p, 54321, 4789, nm);
    }
    /* 84: the inner IPv4 header is whole, its TCP header not there: the
     * inner packet counts (Wireshark: inner ip.dst, no tcp.stream), with no
     * port (transport-cut). */
    decode_wl(WP_LT_EN10MB, F_VXLAN, 84, sizeof(F_VXLAN), true, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_tcp, "VXLAN cut at 84");
    TAP_EQ(p.tunnel_kind, WP_TUN_VXLAN, "VXLAN cut at 84: decapsulated");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "VXLAN cut at 84");
    expect_no_ports(&p, "VXLAN cut at 84");
    /* 99: 15 bytes of TCP, one short of its flow's fields: no port. */
    decode_wl(WP_LT_EN10MB, F_VXLAN, 99, sizeof(F_VXLAN), true, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_tcp, "VXLAN cut at 99");
    expect_no_ports(&p, "VXLAN cut at 99");
    /* 100: the first 16 bytes of TCP: the inner flow 1234 -> 80, captured
     * short, without payload. */
    decode_wl(WP_LT_EN10MB, F_VXLAN, 100, sizeof(F_VXLAN), true, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_tcp, "VXLAN cut at 100");
    TAP_EQ(p.tunnel_kind, WP_TUN_VXLAN, "VXLAN cut at 100: decapsulated");
    expect_ip(&p, 4, 6, I4_SRC, I4_DST, "VXLAN cut at 100");
    expect_ports(&p, 1234, 80, "VXLAN cut at 100");
    TAP_EQ(p.payload_len, 0, "VXLAN cut at 100: no payload");

    /* Segment routing header cut: up to 77 bytes Segment List[0] is not
     * whole, the destination is the IPv6 header's; from 78 it is fd00::2
     * (Wireshark shows ipv6.routing.srh.addr and uses it). The chain stops
     * at the routing header (43) until it is whole at 94. */
    static const struct {
        size_t cut;
        const uint8_t *dst;
    } srh[] = {{55, A6_DST}, {58, A6_DST}, {62, A6_DST}, {77, A6_DST}, {78, I6_DST}, {93, I6_DST}};
    for (size_t i = 0; i < WP_ARRAY_LEN(srh); i++) {
        snprintf(nm, sizeof(nm), "IPv6 SRH cut at %zu", srh[i].cut);
        decode_wl(WP_LT_EN10MB, F_V6_SRH_UDP, srh[i].cut, sizeof(F_V6_SRH_UDP), false, &p);
        expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_ipv6_ext, nm);
        expect_ip(&p, 6, WP_IPPROTO_ROUTING, A6_SRC, srh[i].dst, nm);
        expect_no_ports(&p, nm);
    }
    /* 94: the routing header whole, UDP not there; 101: UDP cut by one. */
    decode_wl(WP_LT_EN10MB, F_V6_SRH_UDP, 94, sizeof(F_V6_SRH_UDP), false, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_udp, "IPv6 SRH cut at 94");
    expect_ip(&p, 6, 17, A6_SRC, I6_DST, "IPv6 SRH cut at 94");
    expect_no_ports(&p, "IPv6 SRH cut at 94");
    decode_wl(WP_LT_EN10MB, F_V6_SRH_UDP, 101, sizeof(F_V6_SRH_UDP), false, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_udp, "IPv6 SRH cut at 101");
    expect_no_ports(&p, "IPv6 SRH cut at 101");
    DECODE(WP_LT_EN10MB, F_V6_SRH_UDP, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 SRH whole");
    expect_ip(&p, 6, 17, A6_SRC, I6_DST, "IPv6 SRH whole");
    expect_ports(&p, 546, 547, "IPv6 SRH whole");

    /* Home Address option cut: the source is fd00::1 once its 16 bytes are
     * captured (74), the IPv6 header's before. */
    static const struct {
        size_t cut;
        const uint8_t *src;
    } hoa[] = {{56, A6_SRC}, {60, A6_SRC}, {73, A6_SRC}, {74, I6_SRC}, {77, I6_SRC}};
    for (size_t i = 0; i < WP_ARRAY_LEN(hoa); i++) {
        snprintf(nm, sizeof(nm), "IPv6 HAO cut at %zu", hoa[i].cut);
        decode_wl(WP_LT_EN10MB, F_V6_HOA_UDP, hoa[i].cut, sizeof(F_V6_HOA_UDP), false, &p);
        expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_ipv6_ext, nm);
        expect_ip(&p, 6, WP_IPPROTO_DSTOPTS, hoa[i].src, A6_DST, nm);
    }
    decode_wl(WP_LT_EN10MB, F_V6_HOA_UDP, 86, sizeof(F_V6_HOA_UDP), false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 HAO whole");
    expect_ip(&p, 6, 17, I6_SRC, A6_DST, "IPv6 HAO whole");
    expect_ports(&p, 546, 547, "IPv6 HAO whole");

    /* Authentication Header cut: up to 69 bytes (the AH not whole) the
     * chain stops at it, counted as ah (51), as Wireshark's frame ends in
     * `ah` ("AH truncated") whatever ah.next_header says; from 70 the
     * ICMPv6 after it (Wireshark: `icmpv6` from 0 bytes), its type from 74. */
    static const size_t ah_cuts[] = {54, 55, 60, 64, 68, 69};
    for (size_t i = 0; i < WP_ARRAY_LEN(ah_cuts); i++) {
        snprintf(nm, sizeof(nm), "IPv6 AH cut at %zu", ah_cuts[i]);
        decode_wl(WP_LT_EN10MB, F_V6_AH_ICMP6, ah_cuts[i], sizeof(F_V6_AH_ICMP6), false, &p);
        expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_ipv6_ext, nm);
        expect_ip(&p, 6, WP_IPPROTO_AH, A6_SRC, A6_DST, nm);
        TAP_OK(!p.has_l4, "%s: no transport", nm);
    }
    decode_wl(WP_LT_EN10MB, F_V6_AH_ICMP6, 70, sizeof(F_V6_AH_ICMP6), false, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_icmpv6, "IPv6 AH cut at 70");
    expect_ip(&p, 6, WP_IPPROTO_ICMPV6, A6_SRC, A6_DST, "IPv6 AH cut at 70");
    decode_wl(WP_LT_EN10MB, F_V6_AH_ICMP6, 74, sizeof(F_V6_AH_ICMP6), false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 AH cut at 74");
    expect_ip(&p, 6, WP_IPPROTO_ICMPV6, A6_SRC, A6_DST, "IPv6 AH cut at 74");
    TAP_EQ(p.icmp_type, 128, "IPv6 AH cut at 74: echo request");
    DECODE(WP_LT_EN10MB, F_V6_AH_ICMP6, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "IPv6 AH whole");
    expect_ip(&p, 6, WP_IPPROTO_ICMPV6, A6_SRC, A6_DST, "IPv6 AH whole");

    /* NFLOG payload TLV cut: the packet in it is decoded as far as it was
     * captured (Wireshark dissects it only when the whole TLV was captured:
     * rule nflog-cut), by the same rules as any IP packet. */
    decode_wl(WP_LT_NFLOG, F_NFLOG_UDP, 35, sizeof(F_NFLOG_UDP), false, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_ipv4, "NFLOG cut at 35");
    decode_wl(WP_LT_NFLOG, F_NFLOG_UDP, 36, sizeof(F_NFLOG_UDP), false, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_udp, "NFLOG cut at 36");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "NFLOG cut at 36");
    expect_no_ports(&p, "NFLOG cut at 36");
    decode_wl(WP_LT_NFLOG, F_NFLOG_UDP, 43, sizeof(F_NFLOG_UDP), false, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_udp, "NFLOG cut at 43");
    expect_no_ports(&p, "NFLOG cut at 43");
    DECODE(WP_LT_NFLOG, F_NFLOG_UDP, false, &p);
    expect_status(&p, WP_DEC_OK, 0, "NFLOG whole");
    expect_ip(&p, 4, 17, A4_SRC, A4_DST, "NFLOG whole");
    expect_ports(&p, 53, 40000, "NFLOG whole");

    /* A first fragment whose TCP data offset (40) passes its 24-byte
     * payload: malformed from the moment the data offset is captured (47
     * bytes), whatever the snap length, as in the whole frame (Wireshark:
     * no tcp.len, out of its Conversations table; "TCP truncated" when cut
     * at 54, "Unreassembled Packet" whole). Before that, TCP is cut. */
    decode_wl(WP_LT_EN10MB, F_V4_FRAG_TCP40, 46, sizeof(F_V4_FRAG_TCP40), false, &p);
    expect_status(&p, WP_DEC_TRUNCATED, WP_TRUNC_tcp, "first fragment, TCP cut at 46");
    expect_no_ports(&p, "first fragment, TCP cut at 46");
    static const size_t frag_cuts[] = {47, 50, 54, 58};
    for (size_t i = 0; i < WP_ARRAY_LEN(frag_cuts); i++) {
        snprintf(nm, sizeof(nm), "first fragment, TCP data offset 10, cut at %zu", frag_cuts[i]);
        decode_wl(WP_LT_EN10MB, F_V4_FRAG_TCP40, frag_cuts[i], sizeof(F_V4_FRAG_TCP40), false, &p);
        expect_status(&p, WP_DEC_MALFORMED, WP_MAL_tcp_data_offset_exceeds_segment, nm);
        expect_ip(&p, 4, 6, A4_SRC, A4_DST, nm);
        TAP_EQ(p.frag, WP_FRAG_FIRST, "%s: first fragment", nm);
        expect_no_ports(&p, nm);
    }
}

/* ---- random robustness ------------------------------------------------------ */

static uint64_t g_rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g_rng >> 33);
}

static bool within(const uint8_t *ptr, size_t n, const uint8_t *buf, size_t len)
{
    uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)buf;
    return p >= b && p - b <= len && n <= len - (p - b);
}

/* The invariants every decode must satisfy; returns a description of the
 * first one broken, or NULL. */
static const char *check_invariants(const struct wp_packet *p, const uint8_t *buf, size_t len,
                                    size_t wl, bool tun)
{
    if (p->status > WP_DEC_MALFORMED)
        return "status out of range";
    if (p->status == WP_DEC_TRUNCATED && p->reason >= WP_TRUNC_COUNT)
        return "truncated reason out of range";
    if (p->status == WP_DEC_MALFORMED && p->reason >= WP_MAL_COUNT)
        return "malformed reason out of range";
    if (p->caplen != len || p->wirelen != wl)
        return "caplen/wirelen not echoed";
    if (p->family != 0 && p->family != 4 && p->family != 6)
        return "family out of range";
    if (p->family != 0) {
        size_t n = p->family == 4 ? 4 : 16;
        if (!within(p->src, n, buf, len) || !within(p->dst, n, buf, len))
            return "address outside the captured bytes";
    }
    if (p->payload != NULL && !within(p->payload, p->payload_len, buf, len))
        return "payload outside the captured bytes";
    if (p->payload == NULL && p->payload_len != 0)
        return "payload length without payload";
    if (p->status != WP_DEC_TRUNCATED && p->status != WP_DEC_MALFORMED && p->reason != 0)
        return "reason set without TRUNCATED or MALFORMED";
    if (p->has_ports && !p->has_l4)
        return "ports without a transport header";
    if (p->has_ports && p->family == 0)
        return "ports without IP";
    if (p->vlan_depth > WP_MAX_VLAN_DEPTH)
        return "vlan depth beyond the limit";
    if (p->tunnel_kind >= WP_TUN_COUNT || p->tunnel_depth > WP_MAX_TUNNEL_DEPTH)
        return "tunnel kind or depth out of range";
    if (!tun && (p->tunnel_kind != WP_TUN_NONE || p->tunnel_depth != 0))
        return "tunnel reported with decapsulation off";
    /* A TCP header cut after its flow's fields keeps its ports
     * (WP_TCP_FLOW_BYTES); any other truncated frame has none. */
    if (!tun && p->status == WP_DEC_TRUNCATED && p->has_ports &&
        !(p->proto == WP_IPPROTO_TCP && p->reason == WP_TRUNC_tcp))
        return "truncated frame with ports";
    if (p->status == WP_DEC_TRUNCATED && p->has_ports && p->proto == WP_IPPROTO_TCP &&
        p->reason == WP_TRUNC_tcp && (p->payload != NULL || p->payload_len != 0))
        return "captured-short TCP frame with a payload";
    if (p->tunnel_kind != WP_TUN_NONE && p->outer_family != 0 &&
        (!within(p->outer_src, p->outer_family == 4 ? 4 : 16, buf, len) ||
         !within(p->outer_dst, p->outer_family == 4 ? 4 : 16, buf, len)))
        return "outer address outside the captured bytes";
    return NULL;
}

struct seed {
    const uint8_t *f;
    size_t n;
};

static void test_random(void)
{
    static const uint32_t lts[] = {0, 1, 12, 14, 101, 108, 113, 149, 228, 229, 258, 276, 147};
    const struct seed eth_seeds[] = {
        {F_ETH_TCP, sizeof(F_ETH_TCP)},   {F_QINQ, sizeof(F_QINQ)},
        {F_V6_EXT, sizeof(F_V6_EXT)},     {F_V6_FRAG_FIRST, sizeof(F_V6_FRAG_FIRST)},
        {F_GRE, sizeof(F_GRE)},           {F_PPTP, sizeof(F_PPTP)},
        {F_VXLAN, sizeof(F_VXLAN)},       {F_GENEVE, sizeof(F_GENEVE)},
        {F_GTPU_EXT, sizeof(F_GTPU_EXT)}, {F_6IN4, sizeof(F_6IN4)},
        {F_4IN6, sizeof(F_4IN6)},         {F_MPLS, sizeof(F_MPLS)},
        {F_PPPOE, sizeof(F_PPPOE)},       {S_ETH_TCPOPT, sizeof(S_ETH_TCPOPT)},
        {S_GRE, sizeof(S_GRE)},           {F_VXLAN_ARP, sizeof(F_VXLAN_ARP)},
    };
    const struct seed raw_seeds[] = {{F_RAW4, sizeof(F_RAW4)}, {F_RAW6, sizeof(F_RAW6)}};
    const struct seed null_seeds[] = {{S_NULL_V6_TCP, sizeof(S_NULL_V6_TCP)},
                                      {F_NULL_BE, sizeof(F_NULL_BE)}};
    const struct seed sll_seeds[] = {{F_SLL, sizeof(F_SLL)}};
    const struct seed sll2_seeds[] = {{S_SLL2_ICMP, sizeof(S_SLL2_ICMP)}};
    const struct seed pktap_seeds[] = {{F_PKTAP, sizeof(F_PKTAP)}};

    for (size_t li = 0; li < WP_ARRAY_LEN(lts); li++) {
        uint32_t lt = lts[li];
        const struct seed *seeds = eth_seeds;
        size_t nseeds = WP_ARRAY_LEN(eth_seeds);
        if (lt == 0 || lt == 108) {
            seeds = null_seeds;
            nseeds = WP_ARRAY_LEN(null_seeds);
        } else if (lt == 12 || lt == 14 || lt == 101 || lt == 228 || lt == 229) {
            seeds = raw_seeds;
            nseeds = WP_ARRAY_LEN(raw_seeds);
        } else if (lt == 113) {
            seeds = sll_seeds;
            nseeds = 1;
        } else if (lt == 276) {
            seeds = sll2_seeds;
            nseeds = 1;
        } else if (lt == 149 || lt == 258) {
            seeds = pktap_seeds;
            nseeds = 1;
        }
        unsigned long bad = 0;
        const char *first = NULL;
        unsigned long counts[5] = {0, 0, 0, 0, 0};
        for (unsigned it = 0; it < 20000; it++) {
            uint8_t tmp[200];
            size_t len = rnd() % 201;
            if (it % 2 == 0) {
                /* pure noise */
                for (size_t i = 0; i < len; i++)
                    tmp[i] = (uint8_t)rnd();
            } else {
                /* a valid frame, cut or extended with noise, with a few bytes changed */
                const struct seed *s = &seeds[rnd() % nseeds];
                for (size_t i = 0; i < len; i++)
                    tmp[i] = i < s->n ? s->f[i] : (uint8_t)rnd();
                unsigned flips = rnd() % 4;
                for (unsigned k = 0; k < flips && len > 0; k++)
                    tmp[rnd() % len] = (uint8_t)rnd();
            }
            size_t wl = (rnd() % 4 == 0) ? len + rnd() % 100 : len;
            for (int tun = 0; tun < 2; tun++) {
                struct wp_packet p;
                decode_wl(lt, tmp, len, wl, tun != 0, &p);
                const char *why = check_invariants(&p, g_buf, len, wl, tun != 0);
                if (p.status <= WP_DEC_MALFORMED)
                    counts[p.status]++;
                if (why != NULL) {
                    if (first == NULL) {
                        first = why;
                        printf("# link type %u, iteration %u, length %zu: %s\n", lt, it, len,
                               why);
                    }
                    bad++;
                }
            }
        }
        if (!TAP_OK(bad == 0, "random frames, link type %u: 40000 decodes keep the invariants",
                    lt))
            printf("#   %lu broke them, first: %s\n", bad, first);
        printf("#   link type %u: OK %lu, NON_IP %lu, UNSUPPORTED %lu, TRUNCATED %lu, "
               "MALFORMED %lu\n",
               lt, counts[0], counts[1], counts[2], counts[3], counts[4]);
    }
}

/* ---- regressions of fixed bugs (were TODO points) ---------------------------------------------------- */

/* A complete UDP datagram to port 2152 whose 4-byte payload is not GTP-U:
 * total 32, frame 46, nothing cut. */
static const uint8_t F_UDP2152_SHORT[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0xd4, 0x31, 0x08, 0x68, 0x00, 0x0c, 0x00, 0x00, /* UDP 54321 -> 2152, length 12 */
    0x01, 0x02, 0x03, 0x04,
};
/* A complete, empty UDP datagram to port 6081: total 28, frame 42. */
static const uint8_t F_UDP6081_EMPTY[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, V4_ADDRS,
    0xd4, 0x31, 0x17, 0xc1, 0x00, 0x08, 0x00, 0x00, /* UDP 54321 -> 6081, length 8 */
};
/* GRE (protocol IPv4) whose outer IPv4 total length (34) leaves only 10
 * bytes for the inner IPv4 header; the frame is complete (48 bytes). */
static const uint8_t F_GRE_SHORT_INNER[] = {
    ETH_MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x22, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x00, V4_ADDRS,
    0x00, 0x00, 0x08, 0x00,                   /* GRE, protocol IPv4 */
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, /* 10 of 20 bytes */
};
_Static_assert(sizeof(F_GRE_SHORT_INNER) == 48, "F_GRE_SHORT_INNER size");

static void test_known_bugs(void)
{
    struct wp_packet p;

    /* The capture is complete, so nothing may be reported TRUNCATED. */
    DECODE(WP_LT_EN10MB, F_UDP2152_SHORT, true, &p);
    todo_ok(p.status == WP_DEC_OK && p.has_ports && p.dport == 2152,
            "complete UDP -> 2152 with a 4-byte payload stays OK UDP 2152",
            "decode.c decode_gtpu: !have(c, 8) reports TRUNCATED tunnel even when the UDP "
            "payload itself is short");
    DECODE(WP_LT_EN10MB, F_UDP6081_EMPTY, true, &p);
    todo_ok(p.status == WP_DEC_OK && p.has_ports && p.dport == 6081,
            "complete empty UDP -> 6081 stays OK UDP 6081",
            "decode.c decode_geneve: !have(c, 8) reports TRUNCATED tunnel for a short payload");
    DECODE(WP_LT_EN10MB, F_GRE_SHORT_INNER, true, &p);
    expect_status(&p, WP_DEC_MALFORMED, WP_MAL_ip_header_exceeds_length,
                  "GRE inner IPv4 longer than the outer payload");
    todo_ok(p.status != WP_DEC_TRUNCATED,
            "GRE inner IPv4 cut by the outer total length (not by the capture) is not TRUNCATED",
            "decode.c decode_ipv4/decode_ipv6: !have(c, 20/40) is TRUNCATED even when the "
            "enclosing length, not the capture, is short");
}

int main(void)
{
    test_ethernet_ipv4();
    test_vlan();
    test_link_types();
    test_ipv6_and_fragments();
    test_malformed();
    test_tunnels();
    test_truncation_sweep();
    test_snap_cuts();
    test_random();
    test_known_bugs();
    release();
    return tap_done();
}
