/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: zero-copy, bounds-checked decoder from link layer to transport */
#ifndef WP_DECODE_H
#define WP_DECODE_H

#include "wp/common.h"
#include "wp/counters.h"
#include "wp/proto.h"

/* Link types as written in capture files (LINKTYPE_* values, tcpdump.org).
 * Live captures report DLT_* values; they equal these except DLT_RAW, which
 * is 12 (14 on OpenBSD): the decoder accepts both. */
enum {
    WP_LT_NULL = 0,
    WP_LT_EN10MB = 1,
    WP_LT_DLT_RAW12 = 12,
    WP_LT_DLT_RAW14 = 14,
    WP_LT_RAW = 101,
    WP_LT_LOOP = 108,
    WP_LT_LINUX_SLL = 113,
    WP_LT_USER2 = 149,     /* DLT_PKTAP on Darwin, written by older macOS tcpdump */
    WP_LT_NFLOG = 239,
    WP_LT_IPV4 = 228,
    WP_LT_IPV6 = 229,
    WP_LT_PKTAP = 258,
    WP_LT_LINUX_SLL2 = 276,
};

/* How far decoding got. */
enum wp_dec_status {
    WP_DEC_OK = 0,          /* decoded down to the transport (or as deep as it goes) */
    WP_DEC_NON_IP,          /* link layer fine, payload is not IP (ARP, LLDP, ...) */
    WP_DEC_UNSUPPORTED,     /* link type not supported */
    WP_DEC_TRUNCATED,       /* frame ended inside a header: see .reason (enum wp_truncated) */
    WP_DEC_MALFORMED,       /* a header is invalid: see .reason (enum wp_malformed) */
};

enum wp_frag {
    WP_FRAG_NONE = 0,
    WP_FRAG_FIRST,      /* offset 0, more fragments follow: carries the transport header */
    WP_FRAG_LATER,      /* offset > 0: no transport header */
};

enum wp_tunnel_kind {
    WP_TUN_NONE = 0,
    WP_TUN_GRE,
    WP_TUN_IPIP,        /* 4in4, 6in4, 4in6, 6in6 */
    WP_TUN_VXLAN,
    WP_TUN_GENEVE,
    WP_TUN_GTPU,
    WP_TUN_MPLS,
    WP_TUN_PPPOE,
    WP_TUN_ERSPAN,
    WP_TUN_COUNT
};

/* Bytes of a TCP header that identify its flow (ports, sequence number,
 * acknowledgement, offset and flags, window): with these captured, a frame
 * cut inside the rest of its header keeps status WP_DEC_TRUNCATED (reason
 * tcp) but has its ports, flags and sequence number set. */
#define WP_TCP_FLOW_BYTES 16

#define WP_VLAN_NONE 0xffffu
#define WP_MAX_VLAN_DEPTH 8
#define WP_MAX_IPV6_EXT 250 /* Wireshark gives up at 256 protocol layers in a frame */
#define WP_MAX_TUNNEL_DEPTH 4

/* A decoded frame: a view into the caller's buffer. Pointers are valid only
 * as long as that buffer is; nothing here is allocated. Fields below
 * `family` are meaningful only when family != 0. */
struct wp_packet {
    uint32_t caplen;          /* bytes captured */
    uint32_t wirelen;         /* bytes on the wire (counters use this) */

    enum wp_dec_status status;
    uint16_t reason;          /* enum wp_truncated or wp_malformed, per status */
    uint16_t ethertype;       /* last ethertype / protocol seen at the link layer */

    uint16_t vlan;            /* outermost VLAN id, or WP_VLAN_NONE */
    uint16_t vlan_inner;      /* second VLAN id, or WP_VLAN_NONE */
    uint8_t vlan_depth;

    uint8_t family;           /* 0 (no IP header decoded), 4 or 6 */
    uint8_t proto;            /* IP protocol number after IPv6 extension headers */
    uint8_t frag;             /* enum wp_frag */
    const uint8_t *src;       /* 4 or 16 bytes inside the frame */
    const uint8_t *dst;
    uint32_t frag_id;         /* IPv4 identification or IPv6 fragment id */

    bool has_ports; /* sport/dport valid (TCP, UDP, SCTP, UDP-Lite, DCCP); also
                       set on a TCP frame truncated after WP_TCP_FLOW_BYTES */
    bool has_l4;    /* the transport header was decoded (TCP: its flow fields) */
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint8_t icmp_type; /* ICMP or ICMPv6 type when has_l4 */
    uint8_t icmp_code; /* ICMP or ICMPv6 code when has_l4 */
    uint32_t ip_len;   /* the IP packet's length on the wire: IPv4 total length,
                        * IPv6 40 + payload length (both clamped to the frame) */
    uint32_t tcp_seq;  /* TCP sequence number when has_l4 */

    const uint8_t *payload;   /* transport payload, captured bytes only */
    uint32_t payload_len;

    /* Tunnels: the outermost encapsulation (kind WP_TUN_NONE when none). */
    uint8_t tunnel_kind;      /* enum wp_tunnel_kind */
    uint8_t tunnel_depth;
    uint8_t outer_family;     /* 0 when the tunnel has no outer IP (MPLS, PPPoE) */
    const uint8_t *outer_src;
    const uint8_t *outer_dst;
    uint8_t outer_proto;      /* outer IP protocol (47 GRE, 17 UDP, 4/41 IP-in-IP) */
    uint16_t outer_sport, outer_dport;
};

/* Decode one frame of link type `linktype`.
 *
 * `data` holds `caplen` captured bytes of a frame that was `wirelen` bytes on
 * the wire. The decoder reads only within data[0..caplen), never allocates,
 * never fails: the outcome is in pkt->status and pkt->reason, and every
 * field is set (zeroed when not applicable). `decap_tunnels` enables the
 * decapsulation of GRE, IP-in-IP, VXLAN, Geneve, GTP-U, MPLS and PPPoE. */
void wp_decode(uint32_t linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
               bool decap_tunnels, struct wp_packet *pkt);

/* True when the decoder understands link type `linktype`. */
bool wp_decode_linktype_supported(uint32_t linktype);

/* Name of a tunnel kind ("gre", "vxlan", ...). */
const char *wp_tunnel_kind_name(unsigned kind);

#endif
