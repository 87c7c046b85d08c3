/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the analysis engine: decode, flows, counters for each frame */
#ifndef WP_ANALYZE_H
#define WP_ANALYZE_H

#include "wp/common.h"
#include "wp/counters.h"
#include "wp/savefile.h"
#include "wp/flow.h"
#include "wp/agg.h"
#include "wp/classify.h"
#include "wp/applesvc.h"
#include "wp/names.h"
#include "wp/proctab.h"
#include "wp/outcome.h"

/* Why the engine forgets a flow before the end of input (on_flow_end). */
enum wp_flow_end {
    WP_FLOW_END_IDLE = 1, /* its timeout passed without a packet */
    WP_FLOW_END_NO_ROOM,  /* --max-flows: the oldest flow made room */
};

struct wp_engine_opts {
    bool tunnels;                        /* decapsulate tunnels (default on) */
    size_t max_flows;                    /* 0: no limit */
    int64_t timeout_ns[WP_FC_COUNT];     /* idle timeouts; 0: never */
    const struct wp_prefixes *prefixes;  /* borrowed, must outlive the engine */
    const struct wp_services *services;  /* borrowed */
    struct wp_nametab *nametab;          /* borrowed, shared; NULL: no names */
    const struct wp_applesvc *applesvc;  /* borrowed; NULL: no Apple services */
    struct wp_proctab *proctab;          /* borrowed, shared; NULL: the engine has its own */
    const char *const *processes; /* --process patterns (borrowed); report only their flows */
    size_t n_processes;
    /* Called once for each new flow, after its server side is decided,
     * with the capture time of its first packet (live attribution,
     * proclive.h); NULL: none. Must not touch the engine. Returns why the
     * flow has no process yet (WP_PU_unanswered: looked up; WP_PU_NONE:
     * nothing to say), kept in the flow until its process is known. */
    enum wp_proc_unknown (*on_new_flow)(void *ctx, const struct wp_flow *f, int64_t ts_ns);
    void *on_new_flow_ctx;
    /* Called for each flow the engine evicts, with why, before it is
     * forgotten (ipfix_export.h); NULL: none. May run in a -j worker. */
    void (*on_flow_end)(void *ctx, const struct wp_flow *f, enum wp_flow_end why);
    void *on_flow_end_ctx;
    /* Active timeout (IPFIX): called, with on_flow_end_ctx, at a flow's
     * first packet (capture time ts_ns, not yet counted) that falls in a
     * later multiple of active_ns since the flow's first packet than the
     * packet before it; NULL or active_ns 0: never. May run in a -j worker. */
    void (*on_flow_active)(void *ctx, const struct wp_flow *f, int64_t ts_ns);
    int64_t active_ns;
    int64_t bucket_ns;         /* the timeline's bucket (timeline.h); 0: automatic */
    int64_t answer_timeout_ns; /* a flow without an answer is unanswered this long
                                * after its first packet (live); 0: at once (files) */
};

/* Live process attribution (live.c, proclive.h), for the report. */
enum wp_attr_state {
    WP_ATTR_NONE = 0, /* not a live capture: nothing said */
    WP_ATTR_ON,       /* looked up */
    WP_ATTR_OFF,      /* not looked up: `off_reason` says why */
};

struct wp_attr_counts {
    uint8_t state;          /* enum wp_attr_state */
    const char *off_reason; /* static text, for WP_ATTR_OFF */
#define WP_X(field, name) uint64_t field;
    WP_ATTR_TOP_LIST(WP_X) WP_ATTR_UNKNOWN_LIST(WP_X) WP_ATTR_LATE_LIST(WP_X) /* counters.h */
#undef WP_X
};

/* Every frame lands in exactly one of: a port row (packets of flows, or
 * unattributed under a transport), other_packets (not IP, or a link type
 * not supported), undecodable_packets (truncated or malformed before an IP
 * header). So ports + other + undecodable = packets, and the same for bytes. */
struct wp_totals {
#define WP_X(field, name)           uint64_t field;
#define WP_A(field, name, n, names) uint64_t field[n];
    WP_TOTALS_LIST(WP_X, WP_A) /* counters.h */
#undef WP_X
#undef WP_A
    int64_t first_ns, last_ns;
    bool have_ts;
    bool dropped_known;                                /* live capture statistics */
    uint64_t dropped, ifdropped;
    struct wp_name_counts names;                       /* names.h */
    struct wp_attr_counts attr;                        /* live process attribution */
    struct wp_oc_counts outcome;                       /* ICMP errors (outcome.h) */
};

#define WP_MAX_LINKTYPES 32

struct wp_engine;

/* A new engine, or NULL when out of memory. */
struct wp_engine *wp_engine_new(const struct wp_engine_opts *opts);
void wp_engine_free(struct wp_engine *e);

/* Account one frame. Never fails: a frame that cannot be stored in a flow
 * is still counted (totals and port rows stay exact). */
void wp_engine_packet(struct wp_engine *e, const struct wp_record *rec);

/* Evict flows idle longer than their timeout at capture time `now_ns`. The
 * engine also keeps `now_ns` as its clock: live, where it is the wall clock,
 * a report then decides a flow that waited --answer-timeout for an answer
 * even when no packet has come since. */
void wp_engine_expire(struct wp_engine *e, int64_t now_ns);

/* Live attribution found no process for the flow with key `key`: keep why
 * (`u`), unless the flow has a process by now. Same thread rule as
 * wp_engine_set_flow_process() (proc.h). Returns 0, or -1 when no such
 * flow is in the table. */
int wp_engine_set_flow_unknown(struct wp_engine *e, const struct wp_flow_key *key,
                               enum wp_proc_unknown u);

const struct wp_totals *wp_engine_totals(const struct wp_engine *e);
struct wp_totals *wp_engine_totals_mut(struct wp_engine *e);

/* Link types seen, in order of first appearance. */
size_t wp_engine_linktypes(const struct wp_engine *e, const uint32_t **out);

/* A new aggregate of everything so far: evicted flows plus live flows,
 * with distinct clients and servers counted. NULL when out of memory.
 * The caller frees it with wp_agg_free. */
struct wp_agg *wp_engine_snapshot(struct wp_engine *e);

/* For the last report: fold the live flows into the engine's own
 * aggregate (they stay in the flow table for listing) and return it,
 * borrowed: no copy, so the report costs no extra memory. After this the
 * engine must take no more packets. NULL when out of memory. */
struct wp_agg *wp_engine_finalize(struct wp_engine *e);

/* The live flows as a new array of pointers (caller frees the array). */
struct wp_flow **wp_engine_flows(const struct wp_engine *e, size_t *n);

/* Merge `src` into `dst` as if dst had also read src's packets afterwards:
 * counters add, flows with the same key combine. `src` is left as it was
 * (free it afterwards). Returns -1 when memory ran out. The result equals
 * one engine reading both inputs in order unless flows were evicted (idle
 * timeouts, --max-flows) or a datagram's fragments span the two inputs. */
int wp_engine_merge(struct wp_engine *dst, struct wp_engine *src);

/* The engine's timeline (timeline.h): packets and bytes per time bucket per
 * service port, of every packet counted in a port row. */
const struct wp_timeline *wp_engine_timeline(const struct wp_engine *e);

/* ---- --merge (merge.h): an engine filled from a report, not from packets */

/* Add a copy of flow `src` (its key not yet in the table; its timeline
 * series and process series are given here, `proc_group` being the proctab
 * group of its process, 0 none). Returns the engine's flow, or NULL when
 * the key is already there or memory ran out. Counts nothing in totals. */
struct wp_flow *wp_engine_load_flow(struct wp_engine *e, const struct wp_flow *src,
                                    uint16_t proc_group);
/* Note a link type the report's input had. */
void wp_engine_load_linktype(struct wp_engine *e, uint32_t lt);
/* Flows a report counted but did not list (--no-flows, evicted): kept in
 * totals.flows after merging. */
void wp_engine_load_unlisted(struct wp_engine *e, uint64_t flows);
/* Those flows, merged engines' included: totals.flows = live flows +
 * flows_evicted + this. */
uint64_t wp_engine_unlisted(const struct wp_engine *e);
/* The engine's timeline, to be loaded (wp_timeline_load). */
struct wp_timeline *wp_engine_timeline_mut(struct wp_engine *e);

/* Tests only: the engine's flow table (to inject allocation failures). */
struct wp_flow_table *wp_engine_flow_table(struct wp_engine *e);

/* The engine's own aggregate: tests (to inject allocation failures) and
 * --merge (rows a report gave without flows, wp_agg_load_port). */
struct wp_agg *wp_engine_agg(struct wp_engine *e);

/* Heap bytes held by flows and aggregates (an estimate). */
size_t wp_engine_bytes(const struct wp_engine *e);

#endif
