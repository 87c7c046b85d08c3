/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: IPFIX export of whichports flows into a file (RFC 5655) */
#ifndef WP_IPFIX_EXPORT_H
#define WP_IPFIX_EXPORT_H

#include "wp/common.h"
#include "wp/analyze.h"
#include "wp/applesvc.h"
#include "wp/classify.h"
#include "wp/flow.h"
#include "wp/names.h"
#include "wp/proctab.h"

struct wp_ipfix_exp;

/* Options of an exporter. */
struct wp_ipfix_net_opts {
    size_t mtu;            /* message size limit; 0: default */
    unsigned queue;        /* network: messages the queue holds; 0: 1024 */
    bool block;            /* network: a full queue waits (files) instead of dropping (live) */
    unsigned refresh_secs; /* UDP: resend templates after this many seconds; 0: 600 */
    unsigned refresh_msgs; /* UDP: ... and every this many messages; 0: 16 */
    uint32_t pen;          /* --ipfix-pen: enterprise elements under it; 0: none
                            * (then mtu must be at least 1024) */
    const struct wp_applesvc *applesvc; /* borrowed, for the Apple service; may be NULL */
    const struct wp_proctab *proctab;   /* borrowed, for the process; may be NULL */
};

/* Open an IPFIX file exporter writing to `path`: messages of at most
 * o->mtu octets, Observation Domain `odid`, enterprise elements under
 * o->pen (the other options are for the network). `services` and `names`
 * are borrowed and must outlive it (names may be NULL). Returns NULL with
 * "PATH: reason" in errbuf. */
struct wp_ipfix_exp *wp_ipfix_exp_open_file(const char *path, const struct wp_services *services,
                                            struct wp_nametab *names, uint32_t odid,
                                            const struct wp_ipfix_net_opts *o,
                                            char errbuf[WP_ERRBUF_SIZE]);

/* Open a network exporter to `dest`: "HOST:PORT" (UDP) or "tcp:HOST:PORT"
 * ("[v6]:PORT" for an IPv6 literal). A sender thread sends the messages of
 * a bounded queue, so the caller never waits on the network unless
 * `block`; what cannot be queued or sent is counted
 * (wp_ipfix_exp_dropped). TCP connects in the thread and reconnects with
 * backoff (1 s doubling to 30 s), sending the templates first on each
 * connection. Returns NULL with "DEST: reason" in errbuf when `dest` does
 * not parse or resolve. */
struct wp_ipfix_exp *wp_ipfix_exp_open_net(const char *dest, const struct wp_services *services,
                                           struct wp_nametab *names, uint32_t odid,
                                           const struct wp_ipfix_net_opts *o,
                                           char errbuf[WP_ERRBUF_SIZE]);

/* Data records lost so far: queue full, send failed, collector down. */
uint64_t wp_ipfix_exp_dropped(struct wp_ipfix_exp *x);

/* Export one flow as a biflow record from the client's side, with
 * flowEndReason `reason` (WP_IPFIX_END_*, ipfix.h): its counts, less what
 * active timeout records of it already carried. Safe to call from
 * several threads. Flows without time (no packet) are skipped. */
void wp_ipfix_exp_flow(struct wp_ipfix_exp *x, const struct wp_flow *f, int reason);

/* The engine's active timeout hook (wp_engine_opts.on_flow_active): export
 * the counts of flow `f` since its previous record (or its start) with
 * flowEndReason activeTimeout; the next record of the flow starts at
 * `ts_ns`, the packet that crossed the timeout (not yet counted). The
 * exporter remembers what it sent (by flow key and first packet), so that
 * the flow's last record (wp_ipfix_exp_flow) carries only the remainder:
 * the records of a flow always add up to its counts. TCP flags are the OR
 * since the flow's start. Out of memory, no active record is sent. */
void wp_ipfix_exp_on_flow_active(void *ctx, const struct wp_flow *f, int64_t ts_ns);

/* The engine hook (wp_engine_opts.on_flow_end): `ctx` is the exporter; the
 * engine's reason becomes the IANA flowEndReason. */
void wp_ipfix_exp_on_flow_end(void *ctx, const struct wp_flow *f, enum wp_flow_end why);

/* Flush, write the applicationId -> applicationName records, close and
 * free (a network exporter first sends what is queued, waiting at most
 * 5 s). Returns 0, or -1 after a file write error (errno set); a network
 * exporter's losses are counted, not an error. `dropped`, when not NULL,
 * receives the final wp_ipfix_exp_dropped. NULL is accepted. */
int wp_ipfix_exp_close(struct wp_ipfix_exp *x, uint64_t *dropped);

/* Records exported so far. */
uint64_t wp_ipfix_exp_records(const struct wp_ipfix_exp *x);

#endif
