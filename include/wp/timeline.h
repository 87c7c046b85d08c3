/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the timeline: packets and bytes per time bucket per service port
 *
 * The engine adds every frame it counts under a service-port row (a flow's
 * port row, or the row without a port of an unattributed packet) into the
 * timeline: one bucket array per series, one addition per packet once the
 * flow knows its series (the index is kept in the flow, wp_flow.tl_series).
 *
 * Bounded: at most WP_TL_BUCKETS buckets and WP_TL_MAX_SERIES port series;
 * ports first seen after that are summed in one `other` series. The bucket
 * is fixed (--bucket) or automatic: it starts at 1 ms and doubles (adjacent
 * buckets summed in pairs) whenever a packet falls past the last bucket, so
 * a capture of any duration ends with between WP_TL_BUCKETS / 2 and
 * WP_TL_BUCKETS buckets (fewer only for captures shorter than
 * WP_TL_BUCKETS ms). Bucket 0 starts at the first frame's time, as in
 * tshark's -z io,stat.
 *
 * A flow with an Apple service (wp_flow.apple_svc) is also counted in its
 * service's series; when the service of a flow changes (a name learnt
 * later), what it has is moved as for a late SYN below, so the sums of a
 * service equal its Apple rows.
 *
 * Exact: the bucket sums of a port equal its row's packets and bytes. A
 * packet goes to the bucket of its own time, with two exceptions, each
 * counted in `moved_packets`: a flow whose server side is decided late (a
 * SYN after other packets) has its earlier packets moved to its new port
 * in the bucket of its first packet; timelines merged (-j) whose first
 * packets are not a whole number of buckets apart place the later one's
 * packets in the bucket where their bucket starts. */
#ifndef WP_TIMELINE_H
#define WP_TIMELINE_H

#include "wp/common.h"
#include "wp/agg.h"
#include "wp/flow.h"
#include "wp/applesvc.h"

#define WP_TL_BUCKETS    256
#define WP_TL_MAX_SERIES 256
#define WP_TL_START_NS   1000000 /* the first automatic bucket: 1 ms */
#define WP_TL_MAX_PROCS  64      /* process series; later processes in `other` */
/* Packets whose time is 2^62 ns (about 146 years) or more from 1970 are
 * counted as untimed: differences of such times could overflow. */
#define WP_TL_TIME_LIMIT (INT64_C(1) << 62)
/* The widest --bucket (a year); buckets double from it (or from 1 ms) only
 * while 256 of them do not span the time limits, so no bucket is ever
 * wider than WP_TL_TIME_LIMIT / 64 (2^56 ns). */
#define WP_TL_BUCKET_MAX_NS (INT64_C(31536000) * 1000000000)

struct wp_timeline;

/* A new, empty timeline with buckets of `bucket_ns` (0: automatic). NULL
 * when out of memory. */
struct wp_timeline *wp_timeline_new(int64_t bucket_ns);
void wp_timeline_free(struct wp_timeline *tl);

/* Start bucket 0 at ts_ns (the first frame's time) unless a packet came
 * before. */
void wp_timeline_start(struct wp_timeline *tl, int64_t ts_ns);

/* A series' bucket arrays. */
struct wp_tl_arr {
    struct wp_port_key key;
    uint64_t *pkts, *bytes; /* WP_TL_BUCKETS each; NULL: not made */
};

/* The first member of struct wp_timeline: what the inline per-packet step
 * reads. Not to be used elsewhere. */
struct wp_tl_hot {
    int64_t lo, hi; /* the span of bucket `cur`, the last packet's; lo == hi: none */
    size_t cur;
    struct wp_tl_arr s[WP_TL_MAX_SERIES + 1];
    struct wp_tl_arr apple[WP_APPLESVC_MAX];    /* by Apple service index; NULL: none yet */
    struct wp_tl_arr proc[WP_TL_MAX_PROCS + 1]; /* [0] other processes; made when used */
};

/* wp_timeline_add() for a flow with an Apple service or a process: add to
 * their series in bucket b. */
void wp_timeline_add_extra(struct wp_timeline *tl, const struct wp_flow *f, size_t b,
                           uint32_t bytes);

/* wp_timeline_add() when the packet is not in the last packet's bucket or
 * the flow has no series yet. */
void wp_timeline_add_slow(struct wp_timeline *tl, struct wp_flow *f, int64_t ts_ns, uint32_t bytes);

/* Add a packet of `bytes` at ts_ns to flow f's series (given it at the
 * flow's first packet, by its port key then). Inline: one comparison of
 * the time and one addition each for packets and bytes in the common case. */
static inline void wp_timeline_add(struct wp_timeline *tl, struct wp_flow *f, int64_t ts_ns,
                                   uint32_t bytes)
{
    struct wp_tl_hot *h = (struct wp_tl_hot *)(void *)tl;
    if (WP_LIKELY(f->tl_series != 0 && ts_ns >= h->lo && ts_ns < h->hi)) {
        struct wp_tl_arr *a = &h->s[f->tl_series - 1u];
        a->pkts[h->cur]++;
        a->bytes[h->cur] += bytes;
        if ((f->apple_svc | f->tl_proc) != 0)
            wp_timeline_add_extra(tl, f, h->cur, bytes);
        return;
    }
    wp_timeline_add_slow(tl, f, ts_ns, bytes);
}

/* Count a packet without a time (a pcapng Simple Packet Block), or with a
 * time out of range: in no bucket, in `untimed`. */
void wp_timeline_untimed(struct wp_timeline *tl, uint32_t bytes);

/* Add a packet without a flow to the series of `key`. */
void wp_timeline_add_key(struct wp_timeline *tl, const struct wp_port_key *key, int64_t ts_ns,
                         uint32_t bytes);

/* Flow f's port key changed (its server side was decided again): move what
 * it has so far, less the packet being counted (pkts, bytes), to the series
 * of its new key. */
void wp_timeline_flow_moved(struct wp_timeline *tl, struct wp_flow *f, uint64_t pkts,
                            uint64_t bytes);

/* Move pkts packets and bytes bytes seen from first_ns to last_ns from
 * series `from` to series `to` (tl_series values). */
void wp_timeline_move(struct wp_timeline *tl, uint16_t from, uint16_t to, int64_t first_ns,
                      int64_t last_ns, uint64_t pkts, uint64_t bytes);

/* Flow f's Apple service changed from `old` (index + 1, 0 none) to
 * f->apple_svc: move its pkts and bytes seen from first_ns to last_ns. */
void wp_timeline_apple_moved(struct wp_timeline *tl, const struct wp_flow *f, uint8_t old,
                             int64_t first_ns, int64_t last_ns, uint64_t pkts, uint64_t bytes);

/* Flow f's process is now the one of proctab group `group` (0: none):
 * move what it has (pkts, bytes, seen from first_ns to last_ns) from its
 * process series to that group's, and give f that series (tl_proc). */
void wp_timeline_proc_moved(struct wp_timeline *tl, struct wp_flow *f, uint16_t group,
                            int64_t first_ns, int64_t last_ns, uint64_t pkts, uint64_t bytes);

/* The process series of dst for src's series `idx` (a flow's tl_proc). */
uint8_t wp_timeline_proc_map(struct wp_timeline *dst, const struct wp_timeline *src, uint8_t idx);

/* Add everything in src to dst; series of the same key are summed (a port
 * past dst's WP_TL_MAX_SERIES, or whose series could not be made, goes to
 * `other`). Flows of src keep src's series indexes: call before their
 * flows join dst's table (wp_engine_merge), which gives them dst's index
 * again (wp_timeline_map). Returns 0. */
int wp_timeline_merge(struct wp_timeline *dst, const struct wp_timeline *src);

/* The series index dst uses for `key` (made when new); for flows that join
 * dst from another engine. Returns the index to store in tl_series. */
uint16_t wp_timeline_series_of(struct wp_timeline *tl, const struct wp_port_key *key);

/* The series index in dst of src's series `src_series` (a flow's
 * tl_series), for a flow that moves from src's engine to dst's. */
uint16_t wp_timeline_map(struct wp_timeline *dst, const struct wp_timeline *src,
                         uint16_t src_series);

/* --merge (merge.h): make an empty timeline (wp_timeline_new) hold what a
 * report's timeline said: bucket 0 at start_ns, buckets of bucket_ns, n of
 * them used, and its counters; the series are then filled through the
 * arrays the load functions below return (n buckets each). Returns -1 for
 * values no timeline has (n > WP_TL_BUCKETS, a width not positive, a start
 * out of range). */
int wp_timeline_load(struct wp_timeline *tl, int64_t start_ns, int64_t bucket_ns, size_t n,
                     uint64_t moved, const struct wp_counts *untimed, uint64_t dropped);
/* The arrays of the series of port `key` (NULL: `other`); a port past the
 * series limit gets `other`'s. NULL when memory ran out. */
struct wp_tl_arr *wp_timeline_load_port(struct wp_timeline *tl, const struct wp_port_key *key);
/* The arrays of Apple service `svc` (index + 1), or NULL. */
struct wp_tl_arr *wp_timeline_load_apple(struct wp_timeline *tl, uint8_t svc);
/* The arrays of the process series of proctab group `group` (0: the other
 * processes), or NULL. */
struct wp_tl_arr *wp_timeline_load_proc(struct wp_timeline *tl, uint16_t group);

/* One series of a view. */
struct wp_tl_series {
    bool other; /* the `other` series (key unused) */
    struct wp_port_key key;
    uint64_t packets, bytes; /* sums over the buckets */
    const uint64_t *pkts;    /* per bucket, n_buckets each */
    const uint64_t *byts;
};

/* What a report shows: the top `top` port series by bytes, then `other`
 * (the rest summed, present when not empty). */
/* One Apple service's series of a view. */
struct wp_tl_apple {
    int svc; /* applesvc.h index */
    uint64_t packets, bytes;
    const uint64_t *pkts, *byts;
};

/* One process's series of a view (group 0: the other processes). */
struct wp_tl_proc {
    uint16_t group; /* proctab group */
    uint64_t packets, bytes;
    const uint64_t *pkts, *byts;
};

struct wp_tl_view {
    int64_t start_ns;  /* bucket 0 starts here; 0 when no packet was added */
    int64_t bucket_ns; /* width of every bucket */
    size_t n_buckets;  /* up to the last bucket with a packet */
    struct wp_tl_series *series;
    size_t n_series;
    struct wp_tl_apple apple[WP_APPLESVC_MAX]; /* services with packets, by index */
    size_t n_apple;
    struct wp_tl_proc procs[WP_TL_MAX_PROCS + 1]; /* processes with packets; other last */
    size_t n_procs;
    uint64_t moved_packets;
    uint64_t apple_dropped;   /* Apple series short by these packets (memory ran out) */
    struct wp_counts untimed; /* packets in no bucket: they had no time */
    uint64_t *own;            /* the `other` arrays */
};

/* Fill *v from tl. Returns 0, or -1 when out of memory (*v empty). The view
 * borrows tl's arrays: release it before tl changes. */
int wp_timeline_view(const struct wp_timeline *tl, unsigned top, struct wp_tl_view *v);
void wp_timeline_view_release(struct wp_tl_view *v);

/* Approximate heap bytes held. */
size_t wp_timeline_bytes(const struct wp_timeline *tl);

#endif
