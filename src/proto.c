/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: names of IP protocols (see include/wp/proto.h) */

#include "wp/proto.h"

const char *wp_ip_proto_name(unsigned proto)
{
    switch (proto) {
    case WP_IPPROTO_HOPOPTS:
        return "hopopt";
    case WP_IPPROTO_ICMP:
        return "icmp";
    case WP_IPPROTO_IGMP:
        return "igmp";
    case WP_IPPROTO_IPIP:
        return "ipip";
    case WP_IPPROTO_TCP:
        return "tcp";
    case WP_IPPROTO_UDP:
        return "udp";
    case WP_IPPROTO_DCCP:
        return "dccp";
    case WP_IPPROTO_IPV6:
        return "ipv6";
    case WP_IPPROTO_ROUTING:
        return "ipv6-route";
    case WP_IPPROTO_FRAGMENT:
        return "ipv6-frag";
    case WP_IPPROTO_RSVP:
        return "rsvp";
    case WP_IPPROTO_GRE:
        return "gre";
    case WP_IPPROTO_ESP:
        return "esp";
    case WP_IPPROTO_AH:
        return "ah";
    case WP_IPPROTO_ICMPV6:
        return "icmpv6";
    case WP_IPPROTO_NONE:
        return "ipv6-nonxt";
    case WP_IPPROTO_DSTOPTS:
        return "ipv6-opts";
    case WP_IPPROTO_EIGRP:
        return "eigrp";
    case WP_IPPROTO_OSPF:
        return "ospf";
    case WP_IPPROTO_PIM:
        return "pim";
    case WP_IPPROTO_VRRP:
        return "vrrp";
    case WP_IPPROTO_L2TP:
        return "l2tp";
    case WP_IPPROTO_SCTP:
        return "sctp";
    case WP_IPPROTO_UDPLITE:
        return "udplite";
    default:
        return NULL;
    }
}
