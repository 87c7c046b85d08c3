/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: zero-copy, bounds-checked decoder from link layer to transport
 *
 * The decoder walks one frame with a cursor that knows two lengths: the bytes
 * captured (`len`) and the bytes the enclosing header says exist (`wlen`,
 * the wire length or an IP payload length). A header that does not fit in
 * `wlen` is malformed; one that fits in `wlen` but not in `len` is truncated
 * (the capture stopped early). Every read is preceded by a length comparison
 * (never a pointer comparison), nothing is allocated, and no state survives
 * the call: the decoder is pure and can be fed any byte sequence.
 *
 * References: IEEE 802.1Q/802.1ad (VLAN), RFC 791 (IPv4), RFC 8200 (IPv6),
 * RFC 9293 (TCP), RFC 768 (UDP), RFC 792/4443 (ICMP), RFC 2784/2890 (GRE),
 * RFC 2637 (PPTP enhanced GRE), RFC 7348 (VXLAN), RFC 8926 (Geneve),
 * 3GPP TS 29.281 (GTP-U), RFC 3032 (MPLS), RFC 2516 (PPPoE),
 * tcpdump.org link-type list (NULL, LOOP, SLL, SLL2, PKTAP).
 */

#include <string.h>

#include "wp/decode.h"

struct cursor {
    const uint8_t *p;
    size_t len;  /* captured bytes left */
    size_t wlen; /* bytes the enclosing header says are left (>= len) */
};

enum take_result { TAKE_OK, TAKE_TRUNC, TAKE_EXCEEDS };

/* Take `n` bytes from the cursor: TAKE_OK and *out set, or why not. */
static inline enum take_result take(struct cursor *c, size_t n, const uint8_t **out)
{
    if (n > c->wlen)
        return TAKE_EXCEEDS;
    if (n > c->len)
        return TAKE_TRUNC;
    *out = c->p;
    c->p += n;
    c->len -= n;
    c->wlen -= n;
    return TAKE_OK;
}

/* Skip `n` bytes already proven captured by have(). */
static inline void advance(struct cursor *c, size_t n)
{
    c->p += n;
    c->len -= n;
    c->wlen -= n;
}

/* True when `n` bytes are captured at the cursor (no consumption). */
static inline bool have(const struct cursor *c, size_t n)
{
    return n <= c->len;
}

static void set_truncated(struct wp_packet *pkt, enum wp_truncated why)
{
    if (pkt->status == WP_DEC_OK || pkt->status == WP_DEC_MALFORMED) {
        pkt->status = WP_DEC_TRUNCATED;
        pkt->reason = (uint16_t)why;
    }
}

static void set_malformed(struct wp_packet *pkt, enum wp_malformed why)
{
    if (pkt->status == WP_DEC_OK) {
        pkt->status = WP_DEC_MALFORMED;
        pkt->reason = (uint16_t)why;
    }
}

/* A header that did not fit: truncated when the capture cut it, malformed
 * when the enclosing length says it cannot be there. */
static void set_short(struct wp_packet *pkt, enum take_result r, enum wp_truncated t,
                      enum wp_malformed m)
{
    if (r == TAKE_TRUNC)
        set_truncated(pkt, t);
    else
        set_malformed(pkt, m);
}

struct ctx {
    bool tunnels;
    unsigned depth; /* decapsulations so far */
};

static void decode_link(struct ctx *x, uint32_t lt, struct cursor *c, struct wp_packet *pkt);
static void decode_ethertype(struct ctx *x, uint16_t type, struct cursor *c, struct wp_packet *pkt);
static void decode_ip_by_version(struct ctx *x, struct cursor *c, struct wp_packet *pkt, int want);
static void decode_ethernet(struct ctx *x, struct cursor *c, struct wp_packet *pkt);

/* ---- tunnels ----------------------------------------------------------- */

/* Clear the network and transport fields before decoding an inner packet. */
static void clear_l3(struct wp_packet *pkt)
{
    pkt->family = 0;
    pkt->proto = 0;
    pkt->frag = WP_FRAG_NONE;
    pkt->src = pkt->dst = NULL;
    pkt->frag_id = 0;
    pkt->has_ports = pkt->has_l4 = false;
    pkt->sport = pkt->dport = 0;
    pkt->tcp_flags = 0;
    pkt->icmp_type = pkt->icmp_code = 0;
    pkt->ip_len = 0;
    pkt->payload = NULL;
    pkt->payload_len = 0;
}

/* Decapsulate: `inner` decodes what the tunnel carries. When the inner frame
 * does not reach an IP header (not IP, truncated, malformed), the frame stays
 * counted under the outer transport: the outer fields are restored and any
 * truncation or malformation of the inner part is kept as the status. */
typedef void (*inner_fn)(struct ctx *x, uint32_t arg, struct cursor *c, struct wp_packet *pkt);

static void decap(struct ctx *x, unsigned kind, inner_fn inner, uint32_t arg, struct cursor *c,
                  struct wp_packet *pkt)
{
    if (x->depth >= WP_MAX_TUNNEL_DEPTH) {
        set_malformed(pkt, WP_MAL_tunnel_too_deep);
        return;
    }
    struct wp_packet saved = *pkt;
    if (pkt->tunnel_kind == WP_TUN_NONE) {
        pkt->tunnel_kind = (uint8_t)kind;
        pkt->outer_family = pkt->family;
        pkt->outer_src = pkt->src;
        pkt->outer_dst = pkt->dst;
        pkt->outer_proto = pkt->proto;
        pkt->outer_sport = pkt->sport;
        pkt->outer_dport = pkt->dport;
    }
    pkt->tunnel_depth++;
    x->depth++;
    clear_l3(pkt);
    inner(x, arg, c, pkt);
    x->depth--;
    if (pkt->family == 0) {
        enum wp_dec_status st = pkt->status;
        uint16_t why = pkt->reason;
        *pkt = saved;
        if (st == WP_DEC_TRUNCATED || st == WP_DEC_MALFORMED) {
            pkt->status = saved.status == WP_DEC_OK ? st : saved.status;
            pkt->reason = saved.status == WP_DEC_OK ? why : saved.reason;
        } else if (pkt->family == 0 && pkt->status == WP_DEC_OK) {
            /* MPLS or PPPoE at the link layer carrying something else than
             * IP (PPP LCP, a non-IP pseudowire): the frame is not IP */
            pkt->status = WP_DEC_NON_IP;
        }
    }
}

static void inner_ethertype(struct ctx *x, uint32_t type, struct cursor *c, struct wp_packet *pkt)
{
    decode_ethertype(x, (uint16_t)type, c, pkt);
}

static void inner_ethernet(struct ctx *x, uint32_t arg, struct cursor *c, struct wp_packet *pkt)
{
    (void)arg;
    decode_ethernet(x, c, pkt);
}

static void inner_ip(struct ctx *x, uint32_t want, struct cursor *c, struct wp_packet *pkt)
{
    decode_ip_by_version(x, c, pkt, (int)want);
}

/* PPP protocol field (RFC 1661), possibly compressed to one byte (PFC). */
static void inner_ppp(struct ctx *x, uint32_t arg, struct cursor *c, struct wp_packet *pkt)
{
    (void)arg;
    const uint8_t *b;
    if (have(c, 1) && c->p[0] == 0xff) {
        /* 0xff is the address field (RFC 1662), never a compressed protocol */
        if (!have(c, 2)) {
            set_truncated(pkt, WP_TRUNC_tunnel);
            return;
        }
        if (c->p[1] == 0x03)
            advance(c, 2); /* address and control */
    }
    if (!have(c, 1)) {
        set_truncated(pkt, WP_TRUNC_tunnel);
        return;
    }
    uint16_t proto;
    if (c->p[0] & 1) {
        proto = c->p[0];
        advance(c, 1);
    } else {
        enum take_result r = take(c, 2, &b);
        if (r != TAKE_OK) {
            set_truncated(pkt, WP_TRUNC_tunnel);
            return;
        }
        proto = wp_be16(b);
    }
    if (proto == WP_PPP_IP)
        decode_ip_by_version(x, c, pkt, 4);
    else if (proto == WP_PPP_IPV6)
        decode_ip_by_version(x, c, pkt, 6);
    else
        pkt->status = pkt->status == WP_DEC_OK ? WP_DEC_NON_IP : pkt->status;
}

/* GRE flag bits (RFC 2784, 2890; RFC 1701 routing; RFC 2637 acknowledgment). */
enum {
    GRE_F_CSUM = 0x8000,
    GRE_F_ROUTING = 0x4000,
    GRE_F_KEY = 0x2000,
    GRE_F_SEQ = 0x1000,
    GRE_F_ACK = 0x0080,
};

/* The length of the optional fields after the 4-byte GRE header that
 * `flags` announce, or -1 when the header is not understood: routing
 * present (RFC 1701), version 1 that is not PPTP's, versions 2 to 7. */
static int gre_options_len(uint16_t flags, uint16_t proto)
{
    int extra = 0;
    switch (flags & 7u) {
    case 0:
        if (flags & GRE_F_ROUTING)
            return -1;
        if (flags & GRE_F_CSUM)
            extra += 4; /* checksum + reserved */
        if (flags & GRE_F_KEY)
            extra += 4; /* key */
        if (flags & GRE_F_SEQ)
            extra += 4; /* sequence number */
        return extra;
    case 1:
        if (!(flags & GRE_F_KEY) || proto != WP_ETHERTYPE_PPP)
            return -1;
        extra = 4; /* payload length + call id */
        if (flags & GRE_F_SEQ)
            extra += 4; /* sequence */
        if (flags & GRE_F_ACK)
            extra += 4; /* acknowledgment */
        return extra;
    default:
        return -1;
    }
}

/* Take the ERSPAN header that follows GRE protocol `proto`: type I (no
 * header) or II (8 bytes, announced by the GRE sequence flag) for
 * WP_ETHERTYPE_ERSPAN, type III (12 bytes, plus 8 when the O flag is set)
 * for WP_ETHERTYPE_ERSPAN3. Returns false, status set, when it does not fit. */
static bool erspan_header(struct cursor *c, uint16_t proto, uint16_t flags, struct wp_packet *pkt)
{
    size_t hl;
    if (proto == WP_ETHERTYPE_ERSPAN) {
        hl = (flags & GRE_F_SEQ) ? 8 : 0;
    } else {
        if (!have(c, 12)) {
            set_truncated(pkt, WP_TRUNC_tunnel);
            return false;
        }
        hl = (c->p[11] & 1) ? 20 : 12;
    }
    const uint8_t *skip;
    enum take_result r = take(c, hl, &skip);
    if (r != TAKE_OK) {
        set_short(pkt, r, WP_TRUNC_tunnel, WP_MAL_gre_bad_header);
        return false;
    }
    return true;
}

/* GRE (RFC 2784, 2890) and PPTP's enhanced GRE (RFC 2637, version 1). */
static void decode_gre(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h;
    enum take_result r = take(c, 4, &h);
    if (r != TAKE_OK) {
        set_short(pkt, r, WP_TRUNC_tunnel, WP_MAL_transport_exceeds_payload);
        return;
    }
    uint16_t flags = wp_be16(h);
    uint16_t proto = wp_be16(h + 2);
    int extra = gre_options_len(flags, proto);
    if (extra < 0) {
        set_malformed(pkt, WP_MAL_gre_bad_header);
        return;
    }
    const uint8_t *skip;
    r = take(c, (size_t)extra, &skip);
    if (r != TAKE_OK) {
        set_short(pkt, r, WP_TRUNC_tunnel, WP_MAL_gre_bad_header);
        return;
    }
    if ((flags & 7u) == 1) {
        if (c->wlen == 0)
            return; /* acknowledgment only */
        decap(x, WP_TUN_GRE, inner_ppp, 0, c, pkt);
        return;
    }
    switch (proto) {
    case WP_ETHERTYPE_IPV4:
    case WP_ETHERTYPE_IPV6:
    case WP_ETHERTYPE_TEB:
    case WP_ETHERTYPE_MPLS_UC:
    case WP_ETHERTYPE_MPLS_MC:
        decap(x, WP_TUN_GRE, inner_ethertype, proto, c, pkt);
        break;
    case WP_ETHERTYPE_ERSPAN:
    case WP_ETHERTYPE_ERSPAN3:
        if (erspan_header(c, proto, flags, pkt))
            decap(x, WP_TUN_ERSPAN, inner_ethernet, 0, c, pkt);
        break;
    default:
        break; /* counted under GRE */
    }
}

/* GTP-U (3GPP TS 29.281): only G-PDUs (type 255) carry user packets. */
static void decode_gtpu(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    if (c->wlen < 8)
        return; /* too short to be GTP-U: stays UDP 2152 */
    if (!have(c, 8)) {
        set_truncated(pkt, WP_TRUNC_tunnel);
        return;
    }
    uint8_t fl = c->p[0];
    if ((fl >> 5) != 1 || !(fl & 0x10) || c->p[1] != 0xff)
        return; /* not GTPv1-U user data: stays UDP 2152 */
    const uint8_t *h;
    (void)take(c, 8, &h);
    if (fl & 0x07) {
        const uint8_t *o;
        enum take_result r = take(c, 4, &o);
        if (r != TAKE_OK) {
            set_short(pkt, r, WP_TRUNC_tunnel, WP_MAL_transport_exceeds_payload);
            return;
        }
        uint8_t next = o[3];
        unsigned guard = 0;
        while ((fl & 0x04) && next != 0) {
            if (++guard > 16) {
                set_malformed(pkt, WP_MAL_tunnel_too_deep);
                return;
            }
            if (!have(c, 1)) {
                set_truncated(pkt, WP_TRUNC_tunnel);
                return;
            }
            size_t elen = (size_t)c->p[0] * 4;
            if (elen == 0) {
                set_malformed(pkt, WP_MAL_transport_exceeds_payload);
                return;
            }
            r = take(c, elen, &o);
            if (r != TAKE_OK) {
                set_short(pkt, r, WP_TRUNC_tunnel, WP_MAL_transport_exceeds_payload);
                return;
            }
            next = o[elen - 1];
        }
    }
    if (c->wlen == 0)
        return;
    decap(x, WP_TUN_GTPU, inner_ip, 0, c, pkt);
}

/* VXLAN (RFC 7348): 8-byte header, then an Ethernet frame. */
static void decode_vxlan(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    if (c->wlen < 8)
        return; /* too short to be VXLAN: stays UDP 4789 */
    const uint8_t *h;
    enum take_result r = take(c, 8, &h);
    if (r != TAKE_OK) {
        set_short(pkt, r, WP_TRUNC_tunnel, WP_MAL_transport_exceeds_payload);
        return;
    }
    if (!(h[0] & 0x08))
        return; /* VNI flag not set: not VXLAN data */
    decap(x, WP_TUN_VXLAN, inner_ethernet, 0, c, pkt);
}

/* Geneve (RFC 8926): 8-byte header plus options, protocol is an ethertype. */
static void decode_geneve(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    if (c->wlen < 8)
        return; /* too short to be Geneve: stays UDP 6081 */
    if (!have(c, 8)) {
        set_truncated(pkt, WP_TRUNC_tunnel);
        return;
    }
    if ((c->p[0] >> 6) != 0)
        return; /* unknown version: stays UDP 6081 */
    size_t hl = 8 + (size_t)(c->p[0] & 0x3f) * 4;
    uint16_t proto = wp_be16(c->p + 2);
    const uint8_t *h;
    enum take_result r = take(c, hl, &h);
    if (r != TAKE_OK) {
        set_short(pkt, r, WP_TRUNC_tunnel, WP_MAL_transport_exceeds_payload);
        return;
    }
    decap(x, WP_TUN_GENEVE, inner_ethertype, proto, c, pkt);
}

/* ---- transport ---------------------------------------------------------- */

/* Each decode_<transport>() takes its header from the cursor and fills the
 * packet's transport fields: true, or false with the status set. */

/* TCP (RFC 9293): the data offset gives the header length. The flow's
 * fields (ports, sequence number, flags) are read once the first
 * WP_TCP_FLOW_BYTES bytes were captured, as Wireshark places a frame in its
 * TCP stream from that point: a header cut after them (its options, or the
 * window onward) leaves the status truncated/tcp with has_ports set, so the
 * frame still counts under its flow ("captured short"), without payload. */
static bool decode_tcp(struct cursor *c, struct wp_packet *pkt)
{
    if (!have(c, 13) || c->wlen < 20) {
        set_short(pkt, c->wlen < 20 ? TAKE_EXCEEDS : TAKE_TRUNC, WP_TRUNC_tcp,
                  WP_MAL_transport_exceeds_payload);
        return false;
    }
    size_t doff = (size_t)(c->p[12] >> 4) * 4;
    if (doff < 20) {
        set_malformed(pkt, WP_MAL_tcp_bad_data_offset);
        return false;
    }
    if (doff > c->wlen) {
        set_malformed(pkt, WP_MAL_tcp_data_offset_exceeds_segment);
        return false;
    }
    if (!have(c, WP_TCP_FLOW_BYTES)) {
        set_truncated(pkt, WP_TRUNC_tcp);
        return false;
    }
    const uint8_t *h = c->p;
    pkt->sport = wp_be16(h);
    pkt->dport = wp_be16(h + 2);
    pkt->tcp_flags = h[13];
    pkt->tcp_seq = wp_be32(h + 4);
    pkt->has_ports = pkt->has_l4 = true;
    if (take(c, doff, &h) != TAKE_OK) {
        set_truncated(pkt, WP_TRUNC_tcp);
        return false;
    }
    return true;
}

/* UDP (RFC 768) and UDP-Lite (RFC 3828): 8 bytes with a length field. */
static bool decode_udp(struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h;
    enum take_result r = take(c, 8, &h);
    if (r != TAKE_OK) {
        set_short(pkt, r, WP_TRUNC_udp, WP_MAL_transport_exceeds_payload);
        return false;
    }
    uint16_t ulen = wp_be16(h + 4);
    /* UDP length 0 is legal for IPv6 jumbograms (RFC 2675) and means
     * "whole datagram" for UDP-Lite coverage. */
    if (ulen < 8 && !(ulen == 0 && (pkt->family == 6 || pkt->proto == WP_IPPROTO_UDPLITE))) {
        set_malformed(pkt, WP_MAL_udp_bad_length);
        return false;
    }
    pkt->sport = wp_be16(h);
    pkt->dport = wp_be16(h + 2);
    pkt->has_ports = pkt->has_l4 = true;
    return true;
}

/* A transport whose `hl`-byte header starts with the two ports and is not
 * otherwise read: SCTP's common header (12), DCCP's generic header (16). */
static bool decode_ports_only(struct cursor *c, struct wp_packet *pkt, size_t hl)
{
    const uint8_t *h;
    enum take_result r = take(c, hl, &h);
    if (r != TAKE_OK) {
        set_short(pkt, r, WP_TRUNC_udp, WP_MAL_transport_exceeds_payload);
        return false;
    }
    pkt->sport = wp_be16(h);
    pkt->dport = wp_be16(h + 2);
    pkt->has_ports = pkt->has_l4 = true;
    return true;
}

/* ICMP (RFC 792) and ICMPv6 (RFC 4443): type, code, checksum. */
static bool decode_icmp(struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h;
    enum take_result r = take(c, 4, &h);
    if (r != TAKE_OK) {
        set_short(pkt, r, pkt->proto == WP_IPPROTO_ICMP ? WP_TRUNC_icmp : WP_TRUNC_icmpv6,
                  WP_MAL_transport_exceeds_payload);
        return false;
    }
    pkt->icmp_type = h[0];
    pkt->icmp_code = h[1];
    pkt->has_l4 = true;
    return true;
}

/* The transport of protocol pkt->proto, then the tunnel it may carry. */
static void decode_transport(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    bool ok;
    switch (pkt->proto) {
    case WP_IPPROTO_TCP:
        ok = decode_tcp(c, pkt);
        break;
    case WP_IPPROTO_UDP:
    case WP_IPPROTO_UDPLITE:
        ok = decode_udp(c, pkt);
        break;
    case WP_IPPROTO_SCTP:
        ok = decode_ports_only(c, pkt, 12);
        break;
    case WP_IPPROTO_DCCP:
        ok = decode_ports_only(c, pkt, 16);
        break;
    case WP_IPPROTO_ICMP:
    case WP_IPPROTO_ICMPV6:
        ok = decode_icmp(c, pkt);
        break;
    case WP_IPPROTO_GRE:
        if (x->tunnels)
            decode_gre(x, c, pkt);
        return;
    case WP_IPPROTO_IPIP:
    case WP_IPPROTO_IPV6:
        if (x->tunnels && c->wlen > 0)
            decap(x, WP_TUN_IPIP, inner_ip, pkt->proto == WP_IPPROTO_IPIP ? 4 : 6, c, pkt);
        return;
    default:
        return; /* counted under the protocol number */
    }
    if (!ok)
        return;

    pkt->payload = c->p;
    pkt->payload_len = (uint32_t)c->len;

    if (x->tunnels && pkt->proto == WP_IPPROTO_UDP && pkt->frag == WP_FRAG_NONE) {
        if (pkt->dport == WP_PORT_VXLAN || pkt->sport == WP_PORT_VXLAN)
            decode_vxlan(x, c, pkt);
        else if (pkt->dport == WP_PORT_GENEVE || pkt->sport == WP_PORT_GENEVE)
            decode_geneve(x, c, pkt);
        else if (pkt->dport == WP_PORT_GTPU || pkt->sport == WP_PORT_GTPU)
            decode_gtpu(x, c, pkt);
    }
}

/* ---- network ------------------------------------------------------------ */

/* The fixed part of an IP header, `hl` bytes at the cursor: it must fit in
 * the enclosing length, be captured and carry version `v`. Returns it (not
 * consumed), or NULL with the status set. */
static const uint8_t *ip_fixed_header(const struct cursor *c, struct wp_packet *pkt, size_t hl,
                                      unsigned v, enum wp_truncated trunc,
                                      enum wp_malformed bad_version)
{
    if (c->wlen < hl) {
        set_malformed(pkt, WP_MAL_ip_header_exceeds_length);
        return NULL;
    }
    if (!have(c, hl)) {
        set_truncated(pkt, trunc);
        return NULL;
    }
    if ((c->p[0] >> 4) != v) {
        set_malformed(pkt, bad_version);
        return NULL;
    }
    return c->p;
}

/* The `wlen` bytes that follow the first `off` captured bytes at the cursor,
 * as a cursor of their own: the captured length is clamped to `wlen`, so
 * what follows (Ethernet padding, the next TLV) is never read as payload.
 * The caller has checked that `off` bytes are captured. */
static struct cursor sub_cursor(const struct cursor *c, size_t off, size_t wlen)
{
    struct cursor in = {c->p + off, c->len - off, wlen};
    if (in.len > wlen)
        in.len = wlen;
    return in;
}

/* IPv4 (RFC 791). The cursor's wire length bounds the datagram. */
static void decode_ipv4(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h = ip_fixed_header(c, pkt, 20, 4, WP_TRUNC_ipv4, WP_MAL_ipv4_bad_version);
    if (h == NULL)
        return;
    size_t ihl = (size_t)(h[0] & 0x0f) * 4;
    if (ihl < 20) {
        set_malformed(pkt, WP_MAL_ipv4_bad_ihl);
        return;
    }
    size_t total = wp_be16(h + 2);
    if (total == 0) {
        total = c->wlen; /* TSO / BIG TCP: the length is the frame's */
    } else if (total < ihl) {
        set_malformed(pkt, WP_MAL_ipv4_bad_total_length);
        return;
    } else if (total > c->wlen) {
        /* Decode what is there, as Wireshark does, and say so. */
        set_malformed(pkt, WP_MAL_ipv4_total_length_exceeds_frame);
        total = c->wlen;
    }
    if (ihl > total) {
        set_malformed(pkt, WP_MAL_ipv4_bad_total_length);
        return;
    }
    if (!have(c, ihl)) {
        set_truncated(pkt, WP_TRUNC_ipv4);
        return;
    }
    pkt->family = 4;
    pkt->ip_len = (uint32_t)total;
    pkt->proto = h[9];
    pkt->src = h + 12;
    pkt->dst = h + 16;
    pkt->frag_id = wp_be16(h + 4);
    uint16_t fo = wp_be16(h + 6);
    if (fo & 0x1fff)
        pkt->frag = WP_FRAG_LATER;
    else if (fo & 0x2000)
        pkt->frag = WP_FRAG_FIRST;

    struct cursor in = sub_cursor(c, ihl, total - ihl);
    if (pkt->frag == WP_FRAG_LATER)
        return;
    /* Authentication Headers (RFC 4302) are skipped, as in IPv6 and as
     * Wireshark does: the transport after them is the packet's. Each is at
     * least 8 bytes, so the loop ends with the payload. */
    while (pkt->proto == WP_IPPROTO_AH) {
        const uint8_t *ah;
        if (!have(&in, 2) || in.wlen < 2) {
            set_short(pkt, in.wlen < 2 ? TAKE_EXCEEDS : TAKE_TRUNC, WP_TRUNC_ipv6_ext,
                      WP_MAL_transport_exceeds_payload);
            return;
        }
        enum take_result r = take(&in, ((size_t)in.p[1] + 2) * 4, &ah);
        if (r != TAKE_OK) {
            set_short(pkt, r, WP_TRUNC_ipv6_ext, WP_MAL_transport_exceeds_payload);
            return;
        }
        pkt->proto = ah[0];
    }
    decode_transport(x, &in, pkt);
}

/* The transport's peer addresses are the ones of its pseudo-header (RFC 8200
 * section 8.1), which is also how Wireshark keys conversations: a routing
 * header with segments left names the final destination, a Home Address
 * destination option (RFC 6275) the source. `e` holds the extension header,
 * `el` bytes captured (all of it, or the part a snap length left, at least
 * 4 bytes): an address not captured whole is not used. */
static void routing_final_dst(const uint8_t *e, size_t el, struct wp_packet *pkt)
{
    if (e[3] == 0)
        return;                  /* segments left 0: the destination address is the final one */
    size_t n = (size_t)e[1] / 2; /* 16-byte addresses after the 8-byte start */
    switch (e[2]) {
    case 0: /* RFC 2460 type 0: the last address listed */
        if (n > 0 && 8 + n * 16 <= el)
            pkt->dst = e + 8 + (n - 1) * 16;
        break;
    case 2: /* RFC 6275 type 2: the home address */
    case 4: /* RFC 8754 segment routing: Segment List[0] */
        if (n > 0 && 8 + 16 <= el)
            pkt->dst = e + 8;
        break;
    default: /* RPL (type 3) compresses its addresses: not followed */
        break;
    }
}

#define IP6OPT_HOME_ADDRESS 0xc9 /* RFC 6275 section 6.3 */

static void home_address(const uint8_t *e, size_t el, struct wp_packet *pkt)
{
    size_t i = 2;
    while (i < el) {
        uint8_t type = e[i];
        if (type == 0) { /* Pad1 */
            i++;
            continue;
        }
        if (el - i < 2)
            return;
        size_t olen = e[i + 1];
        if (el - i - 2 < olen)
            return;
        if (type == IP6OPT_HOME_ADDRESS && olen == 16)
            pkt->src = e + i + 2;
        i += 2 + olen;
    }
}

/* The protocols that RFC 8200 chains as extension headers, AH included. */
static bool is_ipv6_ext(uint8_t nh)
{
    switch (nh) {
    case WP_IPPROTO_HOPOPTS:
    case WP_IPPROTO_ROUTING:
    case WP_IPPROTO_DSTOPTS:
    case WP_IPPROTO_FRAGMENT:
    case WP_IPPROTO_MOBILITY:
    case WP_IPPROTO_HIP:
    case WP_IPPROTO_SHIM6:
    case WP_IPPROTO_AH:
        return true;
    default:
        return false;
    }
}

/* Take the IPv6 extension header `nh` from the cursor and note what it says
 * about the addresses and fragmentation. Returns its next header, or -1
 * when the chain stops here: the header did not fit (status set) or it is
 * the fragment header of a later fragment (pkt->proto set). */
static int ipv6_ext(struct cursor *in, uint8_t nh, struct wp_packet *pkt)
{
    size_t el = 8; /* the fragment header's fixed size */
    enum take_result r = TAKE_OK;
    if (nh != WP_IPPROTO_FRAGMENT) {
        /* the length is in the second byte: in 4-byte units minus 2 for AH
         * (RFC 4302), in 8-byte units minus 1 for the others */
        if (in->wlen < 2)
            r = TAKE_EXCEEDS;
        else if (!have(in, 2))
            r = TAKE_TRUNC;
        else
            el = nh == WP_IPPROTO_AH ? ((size_t)in->p[1] + 2) * 4 : ((size_t)in->p[1] + 1) * 8;
    }
    const uint8_t *e;
    if (r == TAKE_OK)
        r = take(in, el, &e);
    if (r == TAKE_TRUNC && el <= in->wlen && have(in, 4)) {
        /* cut by the snap length: the addresses it names that were
         * captured still give the peers, as Wireshark shows them */
        if (nh == WP_IPPROTO_ROUTING)
            routing_final_dst(in->p, in->len, pkt);
        else if (nh == WP_IPPROTO_DSTOPTS)
            home_address(in->p, in->len, pkt);
    }
    if (r != TAKE_OK) {
        set_short(pkt, r, WP_TRUNC_ipv6_ext, WP_MAL_ipv6_ext_exceeds_payload);
        return -1;
    }
    if (nh == WP_IPPROTO_ROUTING) {
        routing_final_dst(e, el, pkt);
    } else if (nh == WP_IPPROTO_DSTOPTS) {
        home_address(e, el, pkt);
    } else if (nh == WP_IPPROTO_FRAGMENT) {
        uint16_t offm = wp_be16(e + 2);
        pkt->frag_id = wp_be32(e + 4);
        if (offm & 0xfff8) {
            pkt->frag = WP_FRAG_LATER;
            pkt->proto = e[0];
            return -1;
        }
        if (offm & 1)
            pkt->frag = WP_FRAG_FIRST;
        /* offset 0 and M clear: an atomic fragment, a whole datagram */
    }
    return e[0];
}

/* IPv6 (RFC 8200) with its extension-header chain. */
static void decode_ipv6(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h = ip_fixed_header(c, pkt, 40, 6, WP_TRUNC_ipv6, WP_MAL_ipv6_bad_version);
    if (h == NULL)
        return;
    size_t plen = wp_be16(h + 4);
    uint8_t nh = h[6];
    size_t avail = c->wlen - 40;
    if (plen == 0 && nh == WP_IPPROTO_HOPOPTS) {
        plen = avail; /* jumbogram or BIG TCP: the hop-by-hop header carries the length */
    } else if (plen > avail) {
        set_malformed(pkt, WP_MAL_ipv6_payload_length_exceeds_frame);
        plen = avail;
    }
    pkt->family = 6;
    pkt->ip_len = (uint32_t)(40 + plen);
    pkt->src = h + 8;
    pkt->dst = h + 24;
    struct cursor in = sub_cursor(c, 40, plen);

    unsigned n_ext = 0;
    while (is_ipv6_ext(nh)) {
        pkt->proto = nh; /* the protocol where the chain stops, if it stops here */
        if (++n_ext > WP_MAX_IPV6_EXT) {
            set_malformed(pkt, WP_MAL_ipv6_ext_chain_too_long);
            return;
        }
        int next = ipv6_ext(&in, nh, pkt);
        if (next < 0)
            return;
        nh = (uint8_t)next;
    }
    pkt->proto = nh;
    decode_transport(x, &in, pkt);
}

/* IP whose version is given by `want` (4 or 6) or by its first nibble (0).
 * Where IPv4 is announced (ethertype 0x0800, PPP 0x0021, IP protocol 4), a
 * version-6 header is decoded as IPv6, as Wireshark's IP dissector does; an
 * announced IPv6 header must be version 6 (Wireshark's IPv6 dissector). */
static void decode_ip_by_version(struct ctx *x, struct cursor *c, struct wp_packet *pkt, int want)
{
    if (!have(c, 1)) {
        set_truncated(pkt, want == 6 ? WP_TRUNC_ipv6 : WP_TRUNC_ipv4);
        return;
    }
    unsigned v = c->p[0] >> 4;
    if (want == 4 && v == 6)
        decode_ipv6(x, c, pkt);
    else if (want == 4 || (want == 0 && v == 4))
        decode_ipv4(x, c, pkt);
    else if (want == 6 || (want == 0 && v == 6))
        decode_ipv6(x, c, pkt);
    else
        set_malformed(pkt, WP_MAL_ip_bad_version);
}

/* ---- link ---------------------------------------------------------------- */

/* MPLS label stack (RFC 3032), then IPv4, IPv6 or a pseudowire Ethernet
 * frame after a zero control word (RFC 4448). */
static void inner_mpls(struct ctx *x, uint32_t arg, struct cursor *c, struct wp_packet *pkt)
{
    (void)arg;
    const uint8_t *l;
    unsigned n = 0;
    for (;;) {
        enum take_result r = take(c, 4, &l);
        if (r != TAKE_OK) {
            set_truncated(pkt, WP_TRUNC_tunnel);
            return;
        }
        if (++n > 8) {
            set_malformed(pkt, WP_MAL_mpls_too_deep);
            return;
        }
        if (l[2] & 1)
            break; /* bottom of stack */
    }
    if (!have(c, 1)) {
        set_truncated(pkt, WP_TRUNC_tunnel);
        return;
    }
    unsigned v = c->p[0] >> 4;
    if (v == 4 || v == 6) {
        decode_ip_by_version(x, c, pkt, (int)v);
    } else if (v == 0) {
        (void)take(c, 4, &l);
        if (c->len < 4) {
            set_truncated(pkt, WP_TRUNC_tunnel);
            return;
        }
        decode_ethernet(x, c, pkt);
    } else {
        pkt->status = pkt->status == WP_DEC_OK ? WP_DEC_NON_IP : pkt->status;
    }
}

/* PPPoE session stage (RFC 2516): 6-byte header, then a PPP protocol. */
static void inner_pppoe(struct ctx *x, uint32_t arg, struct cursor *c, struct wp_packet *pkt)
{
    (void)arg;
    const uint8_t *h;
    if (take(c, 6, &h) != TAKE_OK) {
        set_truncated(pkt, WP_TRUNC_tunnel);
        return;
    }
    if (h[0] != 0x11 || h[1] != 0x00) {
        pkt->status = pkt->status == WP_DEC_OK ? WP_DEC_NON_IP : pkt->status;
        return;
    }
    /* The PPP protocol is never compressed in PPPoE (RFC 2516 section 7). */
    const uint8_t *pp;
    if (take(c, 2, &pp) != TAKE_OK) {
        set_truncated(pkt, WP_TRUNC_tunnel);
        return;
    }
    uint16_t proto = wp_be16(pp);
    if (proto == WP_PPP_IP)
        decode_ip_by_version(x, c, pkt, 4);
    else if (proto == WP_PPP_IPV6)
        decode_ip_by_version(x, c, pkt, 6);
    else
        pkt->status = pkt->status == WP_DEC_OK ? WP_DEC_NON_IP : pkt->status;
}

static bool is_vlan_type(uint16_t t)
{
    return t == WP_ETHERTYPE_VLAN || t == WP_ETHERTYPE_QINQ || t == WP_ETHERTYPE_QINQ_9100 ||
           t == WP_ETHERTYPE_QINQ_9200;
}

/* Dispatch on an ethertype, including stacked VLAN tags. */
static void decode_ethertype(struct ctx *x, uint16_t type, struct cursor *c, struct wp_packet *pkt)
{
    while (is_vlan_type(type)) {
        const uint8_t *t;
        enum take_result r = take(c, 4, &t);
        if (r != TAKE_OK) {
            set_truncated(pkt, WP_TRUNC_vlan);
            return;
        }
        if (pkt->vlan_depth >= WP_MAX_VLAN_DEPTH) {
            set_malformed(pkt, WP_MAL_vlan_too_deep);
            return;
        }
        uint16_t vid = wp_be16(t) & 0x0fff;
        if (pkt->vlan_depth == 0)
            pkt->vlan = vid;
        else if (pkt->vlan_depth == 1)
            pkt->vlan_inner = vid;
        pkt->vlan_depth++;
        type = wp_be16(t + 2);
    }
    pkt->ethertype = type;
    switch (type) {
    case WP_ETHERTYPE_IPV4:
        decode_ip_by_version(x, c, pkt, 4);
        return;
    case WP_ETHERTYPE_IPV6:
        decode_ipv6(x, c, pkt);
        return;
    case WP_ETHERTYPE_MPLS_UC:
    case WP_ETHERTYPE_MPLS_MC:
        if (x->tunnels)
            decap(x, WP_TUN_MPLS, inner_mpls, 0, c, pkt);
        else
            pkt->status = WP_DEC_NON_IP;
        return;
    case WP_ETHERTYPE_PPPOE_SESS:
        if (x->tunnels)
            decap(x, WP_TUN_PPPOE, inner_pppoe, 0, c, pkt);
        else
            pkt->status = WP_DEC_NON_IP;
        return;
    case WP_ETHERTYPE_TEB: /* inside GRE, Geneve */
        decode_ethernet(x, c, pkt);
        return;
    default:
        if (pkt->status == WP_DEC_OK)
            pkt->status = WP_DEC_NON_IP;
        return;
    }
}

/* Ethernet II (and 802.3, which is never IP here). */
static void decode_ethernet(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h;
    if (take(c, 14, &h) != TAKE_OK) {
        set_truncated(pkt, WP_TRUNC_link);
        return;
    }
    uint16_t type = wp_be16(h + 12);
    if (type < WP_ETHERTYPE_MIN) {
        pkt->ethertype = type;
        pkt->status = WP_DEC_NON_IP; /* 802.3 length field: LLC follows */
        return;
    }
    decode_ethertype(x, type, c, pkt);
}

/* BSD loopback: a 4-byte address family in the writer's byte order (NULL)
 * or network order (LOOP). Both are recognised by their upper 16 bits. */
static void decode_null(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h;
    if (take(c, 4, &h) != TAKE_OK) {
        set_truncated(pkt, WP_TRUNC_link);
        return;
    }
    uint32_t af = wp_le32(h);
    if (af & 0xffff0000u)
        af = wp_be32(h);
    switch (af) {
    case WP_AF_INET:
        decode_ipv4(x, c, pkt);
        return;
    case WP_AF_INET6_LINUX:
    case WP_AF_INET6_BSD:
    case WP_AF_INET6_FREEBSD:
    case WP_AF_INET6_DARWIN:
        decode_ipv6(x, c, pkt);
        return;
    default:
        pkt->status = WP_DEC_NON_IP;
        return;
    }
}

/* PKTAP (macOS): a little-endian header whose first field is its own length
 * and whose third is the link type (a DLT value) of the frame after it. A
 * v2 header (xnu's pktap_v2_hdr, flag WP_PKTAP_FLAG_V2 at offset 36) keeps
 * its length in its first byte (at least the 40 fixed bytes) and the link
 * type in a 16-bit field at offset 6; it is always a packet record. */
static void decode_pktap(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    if (!have(c, 12)) {
        set_truncated(pkt, WP_TRUNC_pktap);
        return;
    }
    uint32_t hl = wp_le32(c->p);
    uint32_t rectype = wp_le32(c->p + 4);
    uint32_t dlt = wp_le32(c->p + 8);
    uint32_t min = 108;
    if (have(c, WP_PKTAP_V2_FIXED) && (wp_le32(c->p + 36) & WP_PKTAP_FLAG_V2)) {
        hl = c->p[0];
        rectype = 1;
        dlt = wp_le16(c->p + 6);
        min = WP_PKTAP_V2_FIXED;
    }
    if (hl < min || hl > c->wlen) {
        set_malformed(pkt, WP_MAL_pktap_bad_header_length);
        return;
    }
    const uint8_t *h;
    if (take(c, hl, &h) != TAKE_OK) {
        set_truncated(pkt, WP_TRUNC_pktap);
        return;
    }
    if (rectype != 1) {
        pkt->status = WP_DEC_NON_IP; /* not a packet record */
        return;
    }
    if (dlt == WP_LT_PKTAP || dlt == WP_LT_USER2) {
        pkt->status = WP_DEC_UNSUPPORTED; /* PKTAP in PKTAP: refuse to recurse */
        return;
    }
    decode_link(x, dlt, c, pkt);
}

/* NFLOG (Linux netfilter log, tcpdump.org LINKTYPE_NFLOG): a 4-byte header
 * (address family, version, resource id), then TLVs padded to 4 bytes whose
 * length (header included) and type are in the byte order of the capturing
 * host; the packet, from its IP header on, is the NFULA_PAYLOAD TLV (9).
 * The byte order is the one in which the first TLV's length fits. */
#define NFULA_PAYLOAD 9

static void decode_nflog(struct ctx *x, struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h;
    if (take(c, 4, &h) != TAKE_OK) {
        set_truncated(pkt, WP_TRUNC_link);
        return;
    }
    uint8_t family = h[0];
    bool be = false;
    if (have(c, 2)) {
        size_t le = wp_le16(c->p), bl = wp_be16(c->p);
        be = (le < 4 || le > c->wlen) && bl >= 4 && bl <= c->wlen;
    }
    for (;;) {
        if (c->wlen == 0) {
            pkt->status = WP_DEC_NON_IP; /* no payload TLV */
            return;
        }
        if (!have(c, 4)) {
            set_short(pkt, c->wlen < 4 ? TAKE_EXCEEDS : TAKE_TRUNC, WP_TRUNC_link,
                      WP_MAL_nflog_bad_tlv);
            return;
        }
        size_t len = be ? wp_be16(c->p) : wp_le16(c->p);
        unsigned type = (be ? wp_be16(c->p + 2) : wp_le16(c->p + 2)) & 0x7fffu;
        if (len < 4 || len > c->wlen) {
            set_malformed(pkt, WP_MAL_nflog_bad_tlv);
            return;
        }
        if (type == NFULA_PAYLOAD) {
            advance(c, 4);
            struct cursor in = sub_cursor(c, 0, len - 4);
            if (family == WP_AF_INET)
                decode_ip_by_version(x, &in, pkt, 4);
            else if (family == WP_AF_INET6_LINUX)
                decode_ip_by_version(x, &in, pkt, 6);
            else
                pkt->status = WP_DEC_NON_IP;
            return;
        }
        size_t padded = (len + 3) & ~(size_t)3;
        if (padded > c->wlen)
            padded = c->wlen; /* the last TLV need not be padded */
        const uint8_t *skip;
        if (take(c, padded, &skip) != TAKE_OK) {
            set_truncated(pkt, WP_TRUNC_link);
            return;
        }
    }
}

#define ARPHRD_NETLINK 824 /* SLL/SLL2 hardware type of netlink captures */

static void decode_link(struct ctx *x, uint32_t lt, struct cursor *c, struct wp_packet *pkt)
{
    const uint8_t *h;
    switch (lt) {
    case WP_LT_EN10MB:
        decode_ethernet(x, c, pkt);
        return;
    case WP_LT_NULL:
    case WP_LT_LOOP:
        decode_null(x, c, pkt);
        return;
    case WP_LT_RAW:
    case WP_LT_DLT_RAW12:
    case WP_LT_DLT_RAW14:
    case WP_LT_IPV4: /* dispatched by version, as Wireshark's IP dissector does */
        decode_ip_by_version(x, c, pkt, 0);
        return;
    case WP_LT_IPV6:
        decode_ipv6(x, c, pkt);
        return;
    case WP_LT_LINUX_SLL:
        if (take(c, 16, &h) != TAKE_OK) {
            set_truncated(pkt, WP_TRUNC_link);
            return;
        }
        if (wp_be16(h + 2) == ARPHRD_NETLINK) { /* not an ethertype */
            pkt->status = WP_DEC_NON_IP;
            return;
        }
        decode_ethertype(x, wp_be16(h + 14), c, pkt);
        return;
    case WP_LT_LINUX_SLL2:
        if (take(c, 20, &h) != TAKE_OK) {
            set_truncated(pkt, WP_TRUNC_link);
            return;
        }
        if (wp_be16(h + 8) == ARPHRD_NETLINK) {
            pkt->status = WP_DEC_NON_IP;
            return;
        }
        decode_ethertype(x, wp_be16(h), c, pkt);
        return;
    case WP_LT_PKTAP:
    case WP_LT_USER2:
        decode_pktap(x, c, pkt);
        return;
    case WP_LT_NFLOG:
        decode_nflog(x, c, pkt);
        return;
    default:
        pkt->status = WP_DEC_UNSUPPORTED;
        return;
    }
}

void wp_decode(uint32_t linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
               bool decap_tunnels, struct wp_packet *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    pkt->caplen = caplen;
    pkt->wirelen = wirelen;
    pkt->vlan = WP_VLAN_NONE;
    pkt->vlan_inner = WP_VLAN_NONE;
    struct cursor c = {data, caplen, wirelen > caplen ? wirelen : caplen};
    struct ctx x = {decap_tunnels, 0};
    decode_link(&x, linktype, &c, pkt);
}

bool wp_decode_linktype_supported(uint32_t linktype)
{
    switch (linktype) {
    case WP_LT_EN10MB:
    case WP_LT_NULL:
    case WP_LT_LOOP:
    case WP_LT_RAW:
    case WP_LT_DLT_RAW12:
    case WP_LT_DLT_RAW14:
    case WP_LT_IPV4:
    case WP_LT_IPV6:
    case WP_LT_LINUX_SLL:
    case WP_LT_LINUX_SLL2:
    case WP_LT_PKTAP:
    case WP_LT_USER2:
    case WP_LT_NFLOG:
        return true;
    default:
        return false;
    }
}

const char *wp_tunnel_kind_name(unsigned kind)
{
    static const char *const names[WP_TUN_COUNT] = {
        "none", "gre", "ipip", "vxlan", "geneve", "gtpu", "mpls", "pppoe", "erspan",
    };
    return kind < WP_TUN_COUNT ? names[kind] : "unknown";
}
