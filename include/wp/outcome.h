/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: connection outcomes: did the traffic get through?
 *
 * Every flow carries a compact state (struct wp_oc, 8 bytes inside struct
 * wp_flow) updated once per packet from the TCP flags and the direction of
 * the packet (client to server or back). From it come:
 *   - the flow's outcome (enum wp_outcome): established, refused,
 *     unanswered, blocked, reset, closed, mid-stream, one-way for TCP;
 *     answered, unanswered, blocked, one-way for UDP and the rest;
 *   - Zeek's conn_state (S0, S1, SF, REJ, ...), by the endpoint state
 *     machine Zeek documents and implements (the originator is the
 *     flow's client);
 *   - blocked_by: an ICMP or ICMPv6 destination unreachable (any code)
 *     that quoted the flow's packet, with the address that sent it.
 *
 * A flow that asked and got no answer is not called unanswered at once:
 * offline it is decided at the end of the capture, live once the answer
 * timeout (--answer-timeout) has passed since its first packet; before that
 * its outcome is "pending". The module is pure: no allocation, no I/O. */
#ifndef WP_OUTCOME_H
#define WP_OUTCOME_H

#include "wp/common.h"
#include "wp/decode.h"

struct wp_flow;
struct wp_flow_table;
struct wp_nametab;

/* The per-flow state. Zeroed with the flow; 8 bytes. */
struct wp_oc {
    uint8_t ep;       /* Zeek endpoint states: client bits 0-2, server bits 3-5;
                       * bit 6/7: client/server went CLOSED -> RESET */
    uint8_t seen;     /* WP_OCS_*: what each side sent */
    uint8_t st;       /* WP_OCT_*: history and decision bits */
    uint8_t code;     /* ICMP code of blocked_by (WP_OCT_BLOCKED) */
    uint32_t from_id; /* name-table id of the ICMP sender's address text; 0 unknown */
};

/* The outcome of a flow. */
enum wp_outcome {
    WP_OUT_ESTABLISHED = 0, /* TCP: SYN-ACK seen, or data both ways after a SYN */
    WP_OUT_REFUSED,         /* TCP: SYN answered by RST */
    WP_OUT_UNANSWERED,      /* SYN (or a datagram) and nothing back, decided */
    WP_OUT_BLOCKED,         /* an ICMP/ICMPv6 unreachable quoted it, no answer */
    WP_OUT_RESET,           /* TCP: established, then reset by either side */
    WP_OUT_CLOSED,          /* TCP: established, FIN from both sides */
    WP_OUT_MIDSTREAM,       /* TCP: no handshake seen, both directions */
    WP_OUT_ONEWAY,          /* no handshake (TCP) or no request seen, one direction */
    WP_OUT_ANSWERED,        /* UDP and others: both directions */
    WP_OUT_PENDING,         /* live: no answer yet, the answer timeout has not passed */
    WP_OUT_ICMP_ERROR,      /* the flow of ICMP error messages themselves */
    WP_OUT_COUNT
};

/* Zeek conn_state values. */
enum wp_zeek_state {
    WP_ZS_S0 = 0,
    WP_ZS_S1,
    WP_ZS_SF,
    WP_ZS_REJ,
    WP_ZS_S2,
    WP_ZS_S3,
    WP_ZS_RSTO,
    WP_ZS_RSTR,
    WP_ZS_RSTOS0,
    WP_ZS_RSTRH,
    WP_ZS_SH,
    WP_ZS_SHR,
    WP_ZS_OTH,
    WP_ZS_COUNT
};

/* Outcomes of the flows of one row (a service port, an Apple service on a
 * port): flows by outcome, and the (at most two) unreachables that blocked
 * them. */
struct wp_oc_row {
    uint64_t n[WP_OUT_COUNT];
    uint8_t n_blk; /* distinct unreachables kept in blk (0-2) */
    bool blk_more; /* blocked flows got more than two different ones */
    struct {
        bool v6;
        uint8_t code;
    } blk[2];
};

/* Count flow `f` (settled) in row `r`. */
void wp_oc_row_add(struct wp_oc_row *r, const struct wp_flow *f);

/* Add row `s` to row `d`. */
void wp_oc_row_merge(struct wp_oc_row *d, const struct wp_oc_row *s);

/* Counters of ICMP errors, by what became of them (totals.outcome). */
struct wp_oc_counts {
#define WP_X(field, name, desc) uint64_t field;
    WP_ICMP_ERROR_COUNTS_LIST(WP_X) /* counters.h */
#undef WP_X
};

/* The state after one packet of `f` sent by endpoint `sender` (0 or 1 of
 * the flow key), with TCP flags `flags` (0 for other transports) and
 * `payload_len` bytes of transport payload. Call after the flow's server
 * side has been decided for this packet. `is_icmp_error` marks a packet
 * that is itself an ICMP error message. */
void wp_outcome_packet(struct wp_flow *f, unsigned sender, uint8_t flags, uint32_t payload_len,
                       bool is_icmp_error);

/* True when packet `p` (decoded, has_l4) is an ICMP or ICMPv6 error
 * message (destination unreachable, packet too big, time exceeded,
 * parameter problem): these quote another packet. */
bool wp_outcome_is_icmp_error(const struct wp_packet *p);

/* Handle an ICMP/ICMPv6 error message `p`: parse the quoted IP header and
 * the first 8 bytes of its transport header (p->payload + 4), find the
 * flow it quotes in `t` (same VLAN ids as the message) and, for a
 * destination unreachable, record blocked_by on it with the sender's
 * address interned in `names` (NULL: address not kept). Counts what
 * happened in `c`; a quote that cannot be parsed or matched changes no
 * flow. Returns the flow marked, or NULL. */
struct wp_flow *wp_outcome_icmp(struct wp_flow_table *t, const struct wp_packet *p,
                                struct wp_nametab *names, struct wp_oc_counts *c);

/* Decide a flow that is still waiting for an answer: with `final` (end of
 * an offline capture, eviction), or once `now_ns` is at least
 * `timeout_ns` past its first packet. */
void wp_outcome_settle(struct wp_flow *f, int64_t now_ns, int64_t timeout_ns, bool final);

/* The outcome of a flow now. */
enum wp_outcome wp_outcome_of(const struct wp_flow *f);

/* Zeek's conn_state of a flow now (OTH for transports Zeek reports so). */
enum wp_zeek_state wp_outcome_zeek(const struct wp_flow *f);

/* True when an ICMP unreachable quoted the flow; *v6, *code, *by_server
 * (sent by the flow's server itself rather than a router or firewall on
 * the path) and *from_id (the sender's address in the name table, 0 when
 * not kept) describe it. */
bool wp_outcome_blocked_by(const struct wp_flow *f, bool *v6, uint8_t *code, bool *by_server,
                           uint32_t *from_id);

/* Combine the state of the same flow read by another engine (-j):
 * bits add, each endpoint keeps the further of its two states. */
void wp_outcome_merge(struct wp_flow *dst, const struct wp_flow *src);

/* Names: "established", ..., and "S0", ... ; NULL when out of range. */
const char *wp_outcome_name(unsigned o);
const char *wp_zeek_state_name(unsigned z);

/* "administratively prohibited", ... for an unreachable code; NULL when
 * the code has no name. */
const char *wp_unreach_code_name(bool v6, uint8_t code);

/* Write "icmp 3/13 administratively prohibited" (or "icmp6 1/1 ...") into
 * buf (n bytes, 64 is enough). Returns buf. */
char *wp_unreach_text(char *buf, size_t n, bool v6, uint8_t code);

#endif
