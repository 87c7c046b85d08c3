/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: IPFIX (RFC 7011) message encoder: biflow records (RFC 5103) */
#ifndef WP_IPFIX_H
#define WP_IPFIX_H

#include "wp/common.h"

/* Template IDs this encoder defines. */
enum {
    WP_IPFIX_TID_V4 = 256,    /* biflow record, IPv4 addresses */
    WP_IPFIX_TID_V6 = 257,    /* biflow record, IPv6 addresses */
    WP_IPFIX_TID_APPS = 258,  /* options: applicationId -> applicationName */
    WP_IPFIX_TID_TYPES = 259, /* options: RFC 5610 type records of enterprise IEs */
    WP_IPFIX_TID_ICMP4 = 260, /* biflow record of an ICMP flow: icmpTypeCodeIPv4 for the port */
    WP_IPFIX_TID_ICMP6 = 261, /* ... of an ICMPv6 flow: icmpTypeCodeIPv6 */
};

/* IANA flowEndReason values (IE 136). */
enum {
    WP_IPFIX_END_IDLE = 1,
    WP_IPFIX_END_ACTIVE = 2,
    WP_IPFIX_END_FIN = 3,
    WP_IPFIX_END_FORCED = 4,
    WP_IPFIX_END_NO_RESOURCES = 5,
};

/* Fixed-size octets of a message header and of a set header. */
#define WP_IPFIX_MSG_HDR 16
#define WP_IPFIX_SET_HDR 4
/* Default maximum message size (octets), below a 1500-octet path MTU. */
#define WP_IPFIX_MTU_DEFAULT 1400
/* Smallest message size the encoder accepts: a header, the templates. */
#define WP_IPFIX_MTU_MIN 512

/* One biflow record, from the client's side: index 0 of the arrays is the
 * forward direction (client -> server), 1 the reverse (RFC 5103). */
struct wp_ipfix_rec {
    uint8_t family;          /* 4 or 6 */
    uint8_t proto;           /* IP protocol */
    uint8_t end_reason;      /* WP_IPFIX_END_* */
    uint8_t src[16];         /* client address (IPv4: first 4 octets) */
    uint8_t dst[16];         /* server address */
    uint16_t sport, dport;   /* client port, service port (0 without ports) */
    uint16_t vlan;           /* outer VLAN id, 0 when none */
    uint64_t start_ms;       /* flowStartMilliseconds (Unix epoch) */
    uint64_t end_ms;         /* flowEndMilliseconds */
    uint64_t pkts[2];        /* packetDeltaCount, reversePacketDeltaCount */
    uint64_t ip_octets[2];   /* octetDeltaCount and its reverse: IP total lengths */
    uint64_t l2_octets[2];   /* layer2OctetDeltaCount and its reverse: frame bytes */
    uint8_t tcp_flags[2];    /* tcpControlBits and its reverse: OR of the flags seen */
    uint16_t icmp_type_code; /* ICMP (proto 1 or 58) only: type * 256 + code of the
                              * client's first message; the record then uses the
                              * ICMP template, with it in place of dport */
    uint16_t app_port;       /* applicationId selector (IANA-L4 engine): service port */
    const char *http_host;   /* httpRequestHost, NULL or "" when none */
    /* enterprise elements, only when the encoder has a PEN (strings: NULL
     * or "" when none; at most 254 octets used) */
    const char *server_name;   /* 1: TLS/QUIC SNI, HTTP Host or DNS name */
    uint8_t name_source;       /* 2: enum wp_name_src (names.h) */
    uint8_t apple;             /* 3: 1 when the flow is Apple's */
    const char *apple_service; /* 4: Apple service key */
    const char *rule;          /* 5: the rule that decided the server side */
    const char *outcome;       /* 6: connection outcome */
    const char *process;       /* 7: the flow's process name */
    uint32_t pid;              /* 8: its process id; 0 when none is known */
};

/* Enterprise element IDs (under the user's PEN): base + the numbers above. */
#define WP_IPFIX_ENT_BASE  100
#define WP_IPFIX_ENT_COUNT 8

/* Encoder state of one transport session and Observation Domain: the
 * sequence number (RFC 7011 section 3.1) and the message size limit. */
struct wp_ipfix {
    uint32_t odid; /* Observation Domain ID */
    uint32_t pen;  /* private enterprise number of the extra elements; 0: none */
    uint32_t seq;  /* data records sent before the next message */
    size_t mtu;    /* maximum message size in octets */
};

/* One message being built into a caller buffer. */
struct wp_ipfix_msg {
    uint8_t *buf;
    size_t cap;      /* min(buffer size, mtu) */
    size_t len;      /* octets written, header included */
    size_t set_off;  /* offset of the open set's header; 0 when none */
    uint16_t set_id; /* the open set's ID */
    uint32_t nrec;   /* data records in this message (options data included) */
    uint32_t pen;    /* the encoder's */
};

/* Initialise an encoder (no PEN: set x->pen after to add the enterprise
 * elements): sequence 0, `mtu` clamped to at least
 * WP_IPFIX_MTU_MIN and at most 65535 (0 means WP_IPFIX_MTU_DEFAULT). */
void wp_ipfix_init(struct wp_ipfix *x, uint32_t odid, size_t mtu);

/* Start a message in `buf` (size `cap`; at least WP_IPFIX_MTU_MIN) with
 * export time `export_s` (Unix seconds). The sequence number written is the
 * encoder's current one. Returns false when `cap` is too small. */
bool wp_ipfix_msg_begin(const struct wp_ipfix *x, struct wp_ipfix_msg *m, uint8_t *buf, size_t cap,
                        uint32_t export_s);

/* Append the template set (the four biflow templates) and the options template
 * set (applicationId scope; with a PEN also the RFC 5610 type template). Returns false, leaving `m`
 * unchanged, when they do not fit. */
bool wp_ipfix_msg_add_templates(struct wp_ipfix_msg *m);

/* Append one options data record mapping service port `port` (as an
 * IANA-L4 applicationId) to `name` (applicationName, at most 255 octets
 * used). Returns false, leaving `m` unchanged, when it does not fit. */
bool wp_ipfix_msg_add_app(struct wp_ipfix_msg *m, uint16_t port, const char *name);

/* With a PEN: append the RFC 5610 type records describing the enterprise
 * elements (one data record each). Returns false, leaving `m` unchanged,
 * when they do not fit. */
bool wp_ipfix_msg_add_types(struct wp_ipfix_msg *m);

/* Append one biflow data record (its set opened or continued). Returns
 * false, leaving `m` unchanged, when it does not fit the message. */
bool wp_ipfix_msg_add_rec(struct wp_ipfix_msg *m, const struct wp_ipfix_rec *r);

/* Close the message: write the set and message lengths, advance the
 * encoder's sequence number by the message's data records. Returns the
 * message length in octets. A message with no set is still valid (16). */
size_t wp_ipfix_msg_end(struct wp_ipfix *x, struct wp_ipfix_msg *m);

#endif
