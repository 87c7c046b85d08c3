/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the named counters: why a frame was malformed or truncated */
#ifndef WP_COUNTERS_H
#define WP_COUNTERS_H

/* Malformed: a header field makes the rest of the frame undecodable. Every
 * reason is reported by name in every output format, zero or not.
 * X(identifier, "description") */
#define WP_MALFORMED_LIST(X)                                                              \
    X(vlan_too_deep, "more than 8 stacked 802.1Q/802.1ad tags")                           \
    X(pktap_bad_header_length, "PKTAP header length below 108 or beyond the frame")       \
    X(nflog_bad_tlv, "NFLOG TLV length below 4 or beyond the frame")                      \
    X(ip_bad_version, "IP expected but the version is neither 4 nor 6")                   \
    X(ip_header_exceeds_length, "IP header longer than the frame or the tunnel payload")  \
    X(ipv4_bad_version, "IPv4 expected but the version field is not 4")                   \
    X(ipv4_bad_ihl, "IPv4 header length (IHL) below 5 words")                             \
    X(ipv4_bad_total_length, "IPv4 total length shorter than its header")                 \
    X(ipv4_total_length_exceeds_frame, "IPv4 total length beyond the end of the frame")   \
    X(ipv6_bad_version, "IPv6 expected but the version field is not 6")                   \
    X(ipv6_payload_length_exceeds_frame, "IPv6 payload length beyond the end of the frame") \
    X(ipv6_ext_chain_too_long, "more than 250 IPv6 extension headers")                    \
    X(ipv6_ext_exceeds_payload, "IPv6 extension header beyond the payload length")        \
    X(tcp_bad_data_offset, "TCP data offset below 5 words")                               \
    X(tcp_data_offset_exceeds_segment, "TCP header length beyond the segment")            \
    X(udp_bad_length, "UDP length field below 8")                                         \
    X(transport_exceeds_payload, "transport header beyond the IP payload length")         \
    X(tunnel_too_deep, "tunnels nested deeper than the decapsulation limit")              \
    X(gre_bad_header, "GRE version or flags not understood")                              \
    X(mpls_too_deep, "MPLS label stack deeper than 8 labels")

/* Truncated: the frame, as captured, ended inside this header. */
#define WP_TRUNCATED_LIST(X)                                                              \
    X(link, "link-layer header")                                                          \
    X(vlan, "802.1Q/802.1ad tag")                                                         \
    X(pktap, "PKTAP header")                                                              \
    X(ipv4, "IPv4 header")                                                                \
    X(ipv6, "IPv6 header")                                                                \
    X(ipv6_ext, "IPv6 extension header (or IPv4 Authentication Header)")                  \
    X(tcp, "TCP header")                                                                  \
    X(udp, "UDP header")                                                                  \
    X(icmp, "ICMP header")                                                                \
    X(icmpv6, "ICMPv6 header")                                                            \
    X(tunnel, "tunnel header (GRE, VXLAN, Geneve, GTP-U, MPLS, PPPoE)")

/* Malformed process information (wp/proc.h): a block, option or comment
 * that names a process but cannot be read. The packet itself is still
 * counted; only its process is unknown. Reported by name in every format.
 * X(identifier, "description") */
#define WP_PROC_MALFORMED_LIST(X)                                                         \
    X(pktap_v2_bad_offset, "PKTAP v2 string offset or header length beyond the header")   \
    X(dpib_too_short, "Darwin process information block shorter than its pid")            \
    X(dpib_bad_option, "Darwin process information block option runs past the block")    \
    X(proc_blocks_table_full, "more process information blocks in a section than kept")   \
    X(epb_bad_option, "packet block option runs past the block")                          \
    X(epb_bad_option_length, "process option (0x8001-0x8005, 8) of the wrong length")     \
    X(epb_bad_process_index, "process index naming no Darwin process information block")  \
    X(pib_bad_entry, "Wireshark process information entry too short or beyond its block") \
    X(pib_bad_option, "Wireshark process information option runs past the entry")         \
    X(comment_bad_pid, "process comment whose PID is not a number")                       \
    X(pcapdroid_bad_map, "PCAPdroid UID map block of another version or past its block")  \
    X(processes_dropped, "process table full: process not kept")

enum wp_malformed {
#define WP_X(id, d) WP_MAL_##id,
    WP_MALFORMED_LIST(WP_X)
#undef WP_X
    WP_MAL_COUNT
};

enum wp_truncated {
#define WP_X(id, d) WP_TRUNC_##id,
    WP_TRUNCATED_LIST(WP_X)
#undef WP_X
    WP_TRUNC_COUNT
};

/* Names and descriptions, indexed by the enums above. */
enum wp_proc_malformed {
#define WP_X(id, d) WP_PMAL_##id,
    WP_PROC_MALFORMED_LIST(WP_X)
#undef WP_X
    WP_PMAL_COUNT
};

extern const char *const wp_malformed_name[WP_MAL_COUNT];
extern const char *const wp_malformed_desc[WP_MAL_COUNT];
extern const char *const wp_truncated_name[WP_TRUNC_COUNT];
extern const char *const wp_truncated_desc[WP_TRUNC_COUNT];
extern const char *const wp_proc_malformed_name[WP_PMAL_COUNT];
extern const char *const wp_proc_malformed_desc[WP_PMAL_COUNT];

#endif
