/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the named counters: why a frame was malformed or truncated,
 * and every total, each defined once */
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

/* The plain counters of struct wp_totals (analyze.h), in the order of the
 * "totals" object of the JSON report (schema whichports/1: the order is part
 * of it) and of the CSV totals view. One line generates the field, the merge
 * of two engines (wp_engine_merge) and both outputs.
 *   X(field, "json name"): a uint64_t;
 *   A(field, "json name", count, names): uint64_t field[count], indexed by a
 *     named enum, written as an object (JSON) and as "json name.key" rows
 *     (CSV), keys from names[].
 * Kept by hand: the timestamps, the live drop counts (null when unknown) and
 * the name counts below (a nested object). */
#define WP_TOTALS_LIST(X, A)                                                                       \
    X(packets, "packets")                                                                          \
    X(bytes, "bytes")                                                                              \
    X(ip_packets, "ip_packets")                                                                    \
    X(ip_bytes, "ip_bytes")                                                                        \
    X(other_packets, "other_packets")                                                              \
    X(other_bytes, "other_bytes")                                                                  \
    X(unsupported_packets, "unsupported_link_packets") /* part of other */                         \
    X(unsupported_bytes, "unsupported_link_bytes")                                                 \
    X(undecodable_packets, "undecodable_packets")                                                  \
    X(undecodable_bytes, "undecodable_bytes")                                                      \
    X(truncated, "truncated") /* frames cut inside a needed header */                              \
    A(truncated_at, "truncated_at", WP_TRUNC_COUNT, wp_truncated_name)                             \
    /* the part of truncated_at counted under its flow: the fields that */                         \
    /* identify the flow were captured, the rest of the header was cut */                          \
    A(captured_short, "captured_short", WP_TRUNC_COUNT, wp_truncated_name)                         \
    X(snapped, "snapped") /* caplen < wirelen, counted in full */                                  \
    A(malformed, "malformed", WP_MAL_COUNT, wp_malformed_name)                                     \
    X(fragments, "fragments") /* non-first IP fragments */                                         \
    X(fragments_unattributed, "fragments_unattributed")                                            \
    X(tunneled, "tunneled") /* frames decapsulated */                                              \
    X(flows, "flows")       /* flows created */                                                    \
    X(flows_evicted, "flows_evicted")                                                              \
    X(flows_dropped, "flows_dropped")   /* not stored: out of memory */                            \
    X(agg_dropped, "agg_dropped")       /* aggregate updates lost: out of memory */                \
    X(export_dropped, "export_dropped") /* IPFIX data records lost (ipfix_export.h) */

/* The name counters (struct wp_name_counts, names.h), in output order; the
 * field is also the JSON key ("names.field" in CSV).
 * X(field, "description") */
#define WP_NAME_COUNTS_LIST(X)                                                                     \
    X(dns_answers, "addresses learnt from DNS answers")                                            \
    X(dns_malformed, "DNS responses that could not be parsed")                                     \
    X(tls_sni, "flows named by a TLS ClientHello")                                                 \
    X(tls_no_sni, "ClientHellos without a server name")                                            \
    X(tls_given_up, "first flights over 16 KiB, malformed, or no room")                            \
    X(quic_sni, "flows named by a QUIC Initial")                                                   \
    X(quic_undecryptable, "Initials whose decryption failed")                                      \
    X(http_host, "flows named by an HTTP Host header")                                             \
    X(names_dropped, "names not kept: the name table was full")

/* The live process attribution counters (struct wp_attr_counts, analyze.h),
 * in output order: JSON "process_attribution": {top..., "unknown": {...},
 * late...}; CSV "process_attribution.name" for all three lists.
 * X(field, "name") */
#define WP_ATTR_TOP_LIST(X)                                                                        \
    X(requested, "requested")   /* new TCP/UDP flows */                                            \
    X(attributed, "attributed") /* given a process */
#define WP_ATTR_UNKNOWN_LIST(X)                                                                    \
    X(not_local, "not_local")                                                                      \
    X(gone, "gone")                                                                                \
    X(no_permission, "no_permission")                                                              \
    X(queue_full, "queue_full")                                                                    \
    X(failed, "lookup_failed")
#define WP_ATTR_LATE_LIST(X)                                                                       \
    X(unanswered, "unanswered") /* still being looked up at the report */                          \
    X(flow_gone, "flow_gone")   /* answered after the flow left the table */

/* The ICMP and ICMPv6 error counters (struct wp_oc_counts, outcome.h), in
 * output order: JSON "icmp_errors": {"name": n}, CSV "icmp_errors.name".
 * X(field, "name", "description") */
#define WP_ICMP_ERROR_COUNTS_LIST(X)                                                               \
    X(icmp_unreach, "unreachable", "destination unreachable messages seen")                        \
    X(matched, "matched", "matched to the flow they quote")                                        \
    X(no_flow, "no_flow", "quote of a flow that was never seen")                                   \
    X(quote_truncated, "quote_truncated", "quote shorter than its IP header + 8 bytes")            \
    X(quote_garbage, "quote_garbage", "quote is not an IP packet of this family")                  \
    X(quote_unsupported, "quote_unsupported", "quote of a fragment or an unkeyed transport")       \
    X(ignored_other, "not_a_block", "packet too big, time exceeded, parameter problem")

/* Malformed process information (wp/proc.h): a block, option or comment
 * that names a process but cannot be read. The packet itself is still
 * counted; only its process is unknown. Reported by name in every format.
 * X(identifier, "description") */
#define WP_PROC_MALFORMED_LIST(X)                                                                  \
    X(pktap_v2_bad_offset, "PKTAP v2 string offset or header length beyond the header")            \
    X(dpib_too_short, "Darwin process information block shorter than its pid")                     \
    X(dpib_bad_option, "Darwin process information block option runs past the block")              \
    X(proc_blocks_table_full, "more process information blocks in a section than kept")            \
    X(epb_bad_option, "packet block option runs past the block")                                   \
    X(epb_bad_option_length, "process option (0x8001-0x8005, 8) of the wrong length")              \
    X(epb_bad_process_index, "process index naming no Darwin process information block")           \
    X(pib_bad_entry, "Wireshark process information entry too short or beyond its block")          \
    X(pib_bad_option, "Wireshark process information option runs past the entry")                  \
    X(comment_bad_pid, "process comment whose PID is not a number")                                \
    X(pcapdroid_bad_map, "PCAPdroid UID map block of another version or past its block")           \
    X(pcapdroid_trailer_bad_layout,                                                                \
      "PCAPdroid trailer magic, but the frame is not IP + pad + 32 bytes, or was cut")             \
    X(pcapdroid_trailer_bad_fcs, "PCAPdroid trailer whose CRC-32 does not match the frame")        \
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
