/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: names seen in the capture: DNS answers, TLS and QUIC SNI, HTTP Host
 *
 * whichports never sends a lookup of its own (no reverse DNS, ever): every
 * name comes from the packets. This module holds the state the name
 * parsers (names_parse.h) need across packets, all of it bounded:
 *   - interned names (a flow, port or host refers to a name by a small id);
 *   - the addresses DNS answers gave for names;
 *   - per-flow reassembly of a client's first flight (TLS ClientHello over
 *     several TCP segments, QUIC CRYPTO frames over several datagrams), at
 *     most 16 KiB per flow and a bounded number of flows at once. */
#ifndef WP_NAMES_H
#define WP_NAMES_H

#include "wp/common.h"
#include "wp/counters.h"
#include "wp/decode.h"
#include "wp/flow.h"

/* How a flow's name was learnt; stored in wp_flow.name_src. */
enum wp_name_src {
    WP_NAME_NONE = 0,
    WP_NAME_DNS,      /* a DNS answer for the server's address */
    WP_NAME_HTTP,     /* the HTTP/1.x Host header */
    WP_NAME_QUIC,     /* the SNI of a QUIC Initial's ClientHello */
    WP_NAME_SNI,      /* the SNI of a TLS ClientHello */
};

/* Name-extraction counters, reported in totals.names. */
struct wp_name_counts {
#define WP_X(field, desc) uint64_t field;
    WP_NAME_COUNTS_LIST(WP_X) /* counters.h */
#undef WP_X
};

/* The table of interned names, shared by every engine of a run (threads
 * of -j included: it has its own lock), so that a name id means the same
 * name everywhere. At most 1,000,000 names or 64 MiB. */
struct wp_nametab;

struct wp_nametab *wp_nametab_new(void);
void wp_nametab_free(struct wp_nametab *t);

/* Intern `s` (printable ASCII): its id (>= 1), or 0 when the table is full
 * or `s` is empty. */
uint32_t wp_nametab_intern(struct wp_nametab *t, const char *s);

/* The text of a name id, or NULL for 0 or an unknown id. The text stays
 * valid until the table is freed. */
const char *wp_nametab_get(struct wp_nametab *t, uint32_t id);

/* Names refused because the table was full; heap bytes held. */
uint64_t wp_nametab_dropped(struct wp_nametab *t);
size_t wp_nametab_bytes(struct wp_nametab *t);

/* Per-engine state: DNS answers and reassembly buffers. */
struct wp_names;

/* A new, empty state interning into `tab` (borrowed); NULL when out of
 * memory. */
struct wp_names *wp_names_new(struct wp_nametab *tab);
void wp_names_free(struct wp_names *n);

/* The name a DNS answer gave for this address (4 or 16 bytes), or 0. */
uint32_t wp_names_dns_lookup(const struct wp_names *n, uint8_t family, const uint8_t *addr);

/* Look at one packet of flow `f`, sent by endpoint `sender`, for names: DNS
 * answers (any flow with port 53 or 5353), and for flows not yet named by
 * their own traffic, the client's TLS ClientHello, QUIC Initial or HTTP
 * request. Sets f->name_id and f->name_src when a name is found (the
 * flow's own SNI, QUIC SNI or Host outranks a DNS answer). */
void wp_names_packet(struct wp_names *n, struct wp_flow *f, const struct wp_packet *p,
                     unsigned sender, struct wp_name_counts *counts);

/* Give a flow without a name the DNS name of its server address, if any. */
void wp_names_from_dns(const struct wp_names *n, struct wp_flow *f);

/* Add the DNS answers `src` has seen to `dst`, as if dst had seen them
 * after its own (both intern into the same name table). */
void wp_names_merge(struct wp_names *dst, const struct wp_names *src);

/* Forget the reassembly state of a flow that leaves the table. */
void wp_names_flow_gone(struct wp_names *n, const struct wp_flow *f);

/* "dns", "http", "quic", "sni", or NULL. */
const char *wp_name_src_name(unsigned src);

/* Heap bytes held (an estimate). */
size_t wp_names_bytes(const struct wp_names *n);

#endif
