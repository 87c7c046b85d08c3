/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: names for the protocol numbers the decoder and the reports use
 *
 * One place for every number that identifies a protocol on the wire: IP
 * protocol numbers (IANA "Assigned Internet Protocol Numbers"), ethertypes
 * (IEEE 802 numbers), PPP protocol fields (RFC 1661), ICMP/ICMPv6 types
 * (RFC 792, 4443, 4861), the address families of BSD loopback captures and
 * the UDP ports of the tunnels the decoder opens. Nothing here allocates or
 * depends on another module. */
#ifndef WP_PROTO_H
#define WP_PROTO_H

#include "wp/common.h"

/* IP protocol numbers (the IPv4 protocol field, the IPv6 next header). */
enum {
    WP_IPPROTO_HOPOPTS = 0, /* IPv6 hop-by-hop options */
    WP_IPPROTO_ICMP = 1,
    WP_IPPROTO_IGMP = 2,
    WP_IPPROTO_IPIP = 4, /* IPv4 in IP */
    WP_IPPROTO_TCP = 6,
    WP_IPPROTO_UDP = 17,
    WP_IPPROTO_DCCP = 33,
    WP_IPPROTO_IPV6 = 41,     /* IPv6 in IP */
    WP_IPPROTO_ROUTING = 43,  /* IPv6 routing header */
    WP_IPPROTO_FRAGMENT = 44, /* IPv6 fragment header */
    WP_IPPROTO_RSVP = 46,
    WP_IPPROTO_GRE = 47,
    WP_IPPROTO_ESP = 50,
    WP_IPPROTO_AH = 51,
    WP_IPPROTO_ICMPV6 = 58,
    WP_IPPROTO_NONE = 59,    /* IPv6 no next header */
    WP_IPPROTO_DSTOPTS = 60, /* IPv6 destination options */
    WP_IPPROTO_EIGRP = 88,
    WP_IPPROTO_OSPF = 89,
    WP_IPPROTO_PIM = 103,
    WP_IPPROTO_VRRP = 112,
    WP_IPPROTO_L2TP = 115,
    WP_IPPROTO_SCTP = 132,
    WP_IPPROTO_MOBILITY = 135, /* IPv6 mobility header (RFC 6275) */
    WP_IPPROTO_UDPLITE = 136,
    WP_IPPROTO_HIP = 139,   /* Host Identity Protocol (RFC 7401) */
    WP_IPPROTO_SHIM6 = 140, /* RFC 5533 */
};

/* Ethertypes. Values below WP_ETHERTYPE_MIN are 802.3 length fields. */
enum {
    WP_ETHERTYPE_MIN = 0x0600,
    WP_ETHERTYPE_IPV4 = 0x0800,
    WP_ETHERTYPE_ERSPAN3 = 0x22eb, /* ERSPAN type III, inside GRE */
    WP_ETHERTYPE_TEB = 0x6558,     /* transparent Ethernet bridging (GRE, Geneve) */
    WP_ETHERTYPE_VLAN = 0x8100,    /* 802.1Q */
    WP_ETHERTYPE_IPV6 = 0x86dd,
    WP_ETHERTYPE_PPP = 0x880b, /* PPP inside PPTP's enhanced GRE (RFC 2637) */
    WP_ETHERTYPE_MPLS_UC = 0x8847,
    WP_ETHERTYPE_MPLS_MC = 0x8848,
    WP_ETHERTYPE_PPPOE_SESS = 0x8864,
    WP_ETHERTYPE_QINQ = 0x88a8,      /* 802.1ad */
    WP_ETHERTYPE_ERSPAN = 0x88be,    /* ERSPAN type I and II, inside GRE */
    WP_ETHERTYPE_QINQ_9100 = 0x9100, /* pre-802.1ad stacked tags */
    WP_ETHERTYPE_QINQ_9200 = 0x9200,
};

/* TCP flag bits as on the wire (RFC 9293). */
enum {
    WP_TCP_FIN = 0x01,
    WP_TCP_SYN = 0x02,
    WP_TCP_RST = 0x04,
    WP_TCP_PSH = 0x08,
    WP_TCP_ACK = 0x10,
    WP_TCP_URG = 0x20,
    WP_TCP_ECE = 0x40,
    WP_TCP_CWR = 0x80,
};

/* PPP protocol field (RFC 1661, 1332, 5072). */
enum {
    WP_PPP_IP = 0x0021,
    WP_PPP_IPV6 = 0x0057,
};

/* ICMP (RFC 792, 950) and ICMPv6 (RFC 4443, 4861) message types that tell a
 * request from its reply. */
enum {
    WP_ICMP_ECHOREPLY = 0,
    WP_ICMP_ECHO = 8,
    WP_ICMP_TSTAMP = 13,
    WP_ICMP_TSTAMPREPLY = 14,
    WP_ICMP_IREQ = 15,
    WP_ICMP_IREQREPLY = 16,
    WP_ICMP_MASKREQ = 17,
    WP_ICMP_MASKREPLY = 18,
};
enum {
    WP_ICMP6_ECHO_REQUEST = 128,
    WP_ICMP6_ECHO_REPLY = 129,
    WP_ICMP6_ROUTER_SOLICIT = 133,
    WP_ICMP6_ROUTER_ADVERT = 134,
    WP_ICMP6_NEIGHBOR_SOLICIT = 135,
    WP_ICMP6_NEIGHBOR_ADVERT = 136,
};

/* Address families as written by the capturing system: BSD loopback
 * (LINKTYPE_NULL, LINKTYPE_LOOP) and NFLOG headers. AF_INET is 2
 * everywhere; AF_INET6 differs by system. */
enum {
    WP_AF_INET = 2,
    WP_AF_INET6_LINUX = 10,
    WP_AF_INET6_BSD = 24, /* OpenBSD, NetBSD */
    WP_AF_INET6_FREEBSD = 28,
    WP_AF_INET6_DARWIN = 30,
};

/* UDP ports of the tunnels the decoder opens. */
enum {
    WP_PORT_GTPU = 2152,   /* 3GPP TS 29.281 */
    WP_PORT_VXLAN = 4789,  /* RFC 7348 */
    WP_PORT_GENEVE = 6081, /* RFC 8926 */
};

/* True when IP protocol `proto` starts with a source and a destination port
 * (TCP, UDP, UDP-Lite, SCTP, DCCP), so flows are keyed by port. */
static inline bool wp_proto_has_ports(uint8_t proto)
{
    return proto == WP_IPPROTO_TCP || proto == WP_IPPROTO_UDP || proto == WP_IPPROTO_UDPLITE ||
           proto == WP_IPPROTO_SCTP || proto == WP_IPPROTO_DCCP;
}

/* Name of an IP protocol ("tcp", "udp", "icmp", ...), or NULL when unnamed.
 * The returned string is static. */
const char *wp_ip_proto_name(unsigned proto);

/* PKTAP (macOS, xnu bsd/net/pktap.h): the flags word at offset 36 of both
 * header versions has this bit for a v2 header, whose fixed part is 40
 * bytes (its length is then its first byte). */
#define WP_PKTAP_FLAG_V2  0x80000u
#define WP_PKTAP_V2_FIXED 40u

#endif
