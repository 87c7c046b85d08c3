/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the timeline: packets and bytes per time bucket per service port */

#include <stdlib.h>
#include <string.h>

#include "wp/timeline.h"

#define SLOTS 1024 /* open addressing, a power of two above 2 * WP_TL_MAX_SERIES */
#define OTHER 0    /* series 0 is `other`; port series from 1 */

struct wp_timeline {
    struct wp_tl_hot h; /* first: what wp_timeline_add() reads inline */
    bool started, fixed;
    int64_t origin, width;
    size_t used;     /* buckets up to the last with a packet */
    size_t n_series; /* including `other` */
    uint64_t moved;
    uint64_t apple_dropped; /* packets of an Apple series that could not be made */
    struct wp_counts untimed;
    uint32_t slot_key[SLOTS]; /* packed port key + 1; 0 empty */
    uint16_t slot_idx[SLOTS];
    uint16_t proc_group[WP_TL_MAX_PROCS + 1]; /* the group of each process series */
    size_t n_procs;                           /* process series given, `other` included */
    uint32_t last_key;                        /* the last key found, and its series + 1 */
    uint16_t last_idx;
};

/* Times the buckets can hold: within about 146 years of 1970, so that no
 * difference of two overflows. Others count as untimed. */
static bool in_range(int64_t t)
{
    return t > -WP_TL_TIME_LIMIT && t < WP_TL_TIME_LIMIT;
}

static uint64_t sum(const uint64_t *a, size_t n)
{
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += a[i];
    return t;
}

static uint32_t pack(const struct wp_port_key *k)
{
    return ((uint32_t)k->proto << 17 | (uint32_t)(k->has_port != 0) << 16 | k->port) + 1;
}

static int make_series(struct wp_tl_arr *s)
{
    s->pkts = calloc(2 * WP_TL_BUCKETS, sizeof(uint64_t));
    if (s->pkts == NULL)
        return -1;
    s->bytes = s->pkts + WP_TL_BUCKETS;
    return 0;
}

struct wp_timeline *wp_timeline_new(int64_t bucket_ns)
{
    struct wp_timeline *tl = calloc(1, sizeof(*tl));
    if (tl == NULL)
        return NULL;
    tl->fixed = bucket_ns > 0;
    tl->width = bucket_ns > 0 ? bucket_ns : WP_TL_START_NS;
    if (make_series(&tl->h.s[OTHER]) != 0) {
        wp_timeline_free(tl);
        return NULL;
    }
    tl->n_series = 1;
    tl->n_procs = 1; /* [0]: other processes */
    return tl;
}

void wp_timeline_free(struct wp_timeline *tl)
{
    if (tl == NULL)
        return;
    for (size_t i = 0; i < tl->n_series; i++)
        free(tl->h.s[i].pkts);
    for (size_t i = 0; i < WP_APPLESVC_MAX; i++)
        free(tl->h.apple[i].pkts);
    for (size_t i = 0; i <= WP_TL_MAX_PROCS; i++)
        free(tl->h.proc[i].pkts);
    free(tl);
}

uint16_t wp_timeline_series_of(struct wp_timeline *tl, const struct wp_port_key *key)
{
    uint32_t k = pack(key);
    if (k == tl->last_key) /* a run of new flows to one port */
        return tl->last_idx;
    uint32_t h = (k * 2654435761u) >> 22; /* 10 bits: SLOTS */
    for (;; h = (h + 1) & (SLOTS - 1)) {
        if (tl->slot_key[h] == k) {
            tl->last_key = k;
            tl->last_idx = (uint16_t)(tl->slot_idx[h] + 1);
            return tl->last_idx;
        }
        if (tl->slot_key[h] == 0)
            break;
    }
    if (tl->n_series > WP_TL_MAX_SERIES)
        return OTHER + 1; /* full: not remembered, so a later lookup probes again */
    struct wp_tl_arr *s = &tl->h.s[tl->n_series];
    if (make_series(s) != 0)
        return OTHER + 1;
    s->key = *key;
    tl->slot_key[h] = k;
    tl->slot_idx[h] = (uint16_t)tl->n_series;
    return (uint16_t)(++tl->n_series);
}

uint16_t wp_timeline_map(struct wp_timeline *dst, const struct wp_timeline *src,
                         uint16_t src_series)
{
    if (src_series <= OTHER + 1u || src_series > src->n_series)
        return src_series == 0 ? 0 : OTHER + 1;
    return wp_timeline_series_of(dst, &src->h.s[src_series - 1u].key);
}

/* The made array after index *j (start at 0), or NULL. */
static struct wp_tl_arr *next_arr(struct wp_timeline *tl, size_t *j)
{
    while (*j < tl->n_series + WP_APPLESVC_MAX + WP_TL_MAX_PROCS + 1) {
        size_t i = (*j)++;
        struct wp_tl_arr *a;
        if (i < tl->n_series)
            a = &tl->h.s[i];
        else if (i < tl->n_series + WP_APPLESVC_MAX)
            a = &tl->h.apple[i - tl->n_series];
        else
            a = &tl->h.proc[i - tl->n_series - WP_APPLESVC_MAX];
        if (a->pkts != NULL)
            return a;
    }
    return NULL;
}

/* Sum adjacent buckets in pairs: the bucket doubles. */
static void compact(struct wp_timeline *tl)
{
    size_t it = 0;
    for (struct wp_tl_arr *ar; (ar = next_arr(tl, &it)) != NULL;) {
        uint64_t *a[2] = {ar->pkts, ar->bytes};
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; i < WP_TL_BUCKETS / 2; i++)
                a[k][i] = a[k][2 * i] + a[k][2 * i + 1];
            memset(a[k] + WP_TL_BUCKETS / 2, 0, WP_TL_BUCKETS / 2 * sizeof(uint64_t));
        }
    }
    tl->width *= 2;
    tl->used = (tl->used + 1) / 2;
    tl->h.hi = tl->h.lo; /* empty: recomputed at the next packet */
}

/* Make bucket 0 start at or before t (whole buckets earlier). */
static void reach_back(struct wp_timeline *tl, int64_t t)
{
    for (;;) {
        /* Unsigned: the two ends may lie 2^63 apart. */
        uint64_t gap = (uint64_t)tl->origin - (uint64_t)t;
        size_t k = (size_t)((gap + (uint64_t)tl->width - 1) / (uint64_t)tl->width);
        if (k == 0)
            return;
        if (tl->used + k <= WP_TL_BUCKETS) {
            size_t it = 0;
            for (struct wp_tl_arr *ar; (ar = next_arr(tl, &it)) != NULL;) {
                uint64_t *a[2] = {ar->pkts, ar->bytes};
                for (int m = 0; m < 2; m++) {
                    memmove(a[m] + k, a[m], tl->used * sizeof(uint64_t));
                    memset(a[m], 0, k * sizeof(uint64_t));
                }
            }
            /* unsigned: k buckets may pass 2^63 ns; the result, within a
             * bucket before t, does not */
            tl->origin = (int64_t)((uint64_t)tl->origin - k * (uint64_t)tl->width);
            tl->used += k;
            tl->h.hi = tl->h.lo;
            return;
        }
        compact(tl);
    }
}

/* The bucket of time t, the timeline grown or coarsened to hold it. */
static size_t bucket(struct wp_timeline *tl, int64_t t)
{
    if (t >= tl->h.lo && t < tl->h.hi)
        return tl->h.cur;
    if (!tl->started) {
        tl->started = true;
        tl->origin = t;
    }
    if (t < tl->origin)
        reach_back(tl, t);
    int64_t b; /* t >= origin, the difference taken unsigned as it may pass 2^63 */
    while ((b = (int64_t)(((uint64_t)t - (uint64_t)tl->origin) / (uint64_t)tl->width)) >=
           WP_TL_BUCKETS)
        compact(tl);
    tl->h.cur = (size_t)b;
    tl->h.lo = (int64_t)((uint64_t)tl->origin + (uint64_t)b * (uint64_t)tl->width);
    tl->h.hi = tl->h.lo + tl->width;
    if (tl->h.cur >= tl->used)
        tl->used = tl->h.cur + 1;
    return tl->h.cur;
}

void wp_timeline_start(struct wp_timeline *tl, int64_t ts_ns)
{
    if (!tl->started && in_range(ts_ns)) {
        tl->started = true;
        tl->origin = ts_ns;
    }
}

void wp_timeline_untimed(struct wp_timeline *tl, uint32_t bytes)
{
    tl->untimed.packets++;
    tl->untimed.bytes += bytes;
}

/* The series of Apple service `svc` (index + 1), made when first needed;
 * NULL when memory ran out. */
static struct wp_tl_arr *apple_arr(struct wp_timeline *tl, uint8_t svc)
{
    struct wp_tl_arr *a = &tl->h.apple[svc - 1u];
    if (a->pkts == NULL && make_series(a) != 0)
        return NULL;
    return a;
}

static void add(struct wp_timeline *tl, size_t idx, int64_t ts_ns, uint32_t bytes)
{
    if (WP_UNLIKELY(!in_range(ts_ns))) {
        wp_timeline_untimed(tl, bytes);
        return;
    }
    size_t b = bucket(tl, ts_ns);
    tl->h.s[idx].pkts[b]++;
    tl->h.s[idx].bytes[b] += bytes;
}

void wp_timeline_add_slow(struct wp_timeline *tl, struct wp_flow *f, int64_t ts_ns, uint32_t bytes)
{
    if (f->tl_series == 0) {
        struct wp_port_key k = wp_flow_port_key(f);
        f->tl_series = wp_timeline_series_of(tl, &k);
    }
    size_t b = tl->h.cur;
    if (ts_ns < tl->h.lo || ts_ns >= tl->h.hi) {
        if (WP_UNLIKELY(!in_range(ts_ns))) {
            wp_timeline_untimed(tl, bytes);
            return;
        }
        b = bucket(tl, ts_ns);
    }
    struct wp_tl_arr *a = &tl->h.s[f->tl_series - 1u];
    a->pkts[b]++;
    a->bytes[b] += bytes;
    if ((f->apple_svc | f->tl_proc) != 0)
        wp_timeline_add_extra(tl, f, b, bytes);
}

void wp_timeline_add_extra(struct wp_timeline *tl, const struct wp_flow *f, size_t b,
                           uint32_t bytes)
{
    struct wp_tl_arr *a;
    if (f->apple_svc != 0 && f->apple_svc <= WP_APPLESVC_MAX) {
        a = apple_arr(tl, f->apple_svc);
        if (a != NULL) {
            a->pkts[b]++;
            a->bytes[b] += bytes;
        } else {
            tl->apple_dropped++;
        }
    }
    if (f->tl_proc != 0) {
        a = &tl->h.proc[f->tl_proc - 1u];
        a->pkts[b]++;
        a->bytes[b] += bytes;
    }
}

void wp_timeline_add_key(struct wp_timeline *tl, const struct wp_port_key *key, int64_t ts_ns,
                         uint32_t bytes)
{
    add(tl, wp_timeline_series_of(tl, key) - 1u, ts_ns, bytes);
}

/* Move pkts and bytes from array a to array z: they lie in the buckets
 * from first_ns to last_ns; take them there, earliest first (exact when
 * they share one bucket). */
static void move_arr(struct wp_timeline *tl, struct wp_tl_arr *a, struct wp_tl_arr *z,
                     int64_t first_ns, int64_t last_ns, uint64_t pkts, uint64_t bytes)
{
    size_t lo = 0, hi = tl->used ? tl->used - 1 : 0;
    if (in_range(first_ns) && in_range(last_ns)) {
        lo = bucket(tl, first_ns);
        hi = bucket(tl, last_ns);
    }
    if (lo != hi)
        tl->moved += pkts;
    for (size_t i = lo; i <= hi && (pkts > 0 || bytes > 0); i++) {
        uint64_t p = a->pkts[i] < pkts ? a->pkts[i] : pkts;
        uint64_t b = a->bytes[i] < bytes ? a->bytes[i] : bytes;
        a->pkts[i] -= p;
        a->bytes[i] -= b;
        z->pkts[i] += p;
        z->bytes[i] += b;
        pkts -= p;
        bytes -= b;
    }
}

void wp_timeline_move(struct wp_timeline *tl, uint16_t from, uint16_t to, int64_t first_ns,
                      int64_t last_ns, uint64_t pkts, uint64_t bytes)
{
    if (from == to || from == 0 || to == 0 || pkts == 0 || !tl->started)
        return;
    move_arr(tl, &tl->h.s[from - 1u], &tl->h.s[to - 1u], first_ns, last_ns, pkts, bytes);
}

/* Move a flow's pkts and bytes from series a to series z of a grouping
 * (Apple services, processes). a NULL: the flow had none, so they are
 * taken from a copy of its port's series (the port keeps them); z NULL:
 * it has none now, so they are dropped. */
static void move_flow(struct wp_timeline *tl, const struct wp_flow *f, struct wp_tl_arr *a,
                      struct wp_tl_arr *z, int64_t first_ns, int64_t last_ns, uint64_t pkts,
                      uint64_t bytes)
{
    uint64_t scratch[2 * WP_TL_BUCKETS];
    struct wp_tl_arr tmp = {{0, 0, 0}, scratch, scratch + WP_TL_BUCKETS};
    if (a == NULL && z == NULL)
        return;
    if (a == NULL) {
        if (f->tl_series == 0)
            return;
        const struct wp_tl_arr *port = &tl->h.s[f->tl_series - 1u];
        memcpy(scratch, port->pkts, WP_TL_BUCKETS * sizeof(uint64_t));
        memcpy(scratch + WP_TL_BUCKETS, port->bytes, WP_TL_BUCKETS * sizeof(uint64_t));
        a = &tmp;
    } else if (z == NULL) {
        memset(scratch, 0, sizeof(scratch));
        z = &tmp;
    }
    move_arr(tl, a, z, first_ns, last_ns, pkts, bytes);
}

void wp_timeline_apple_moved(struct wp_timeline *tl, const struct wp_flow *f, uint8_t old,
                             int64_t first_ns, int64_t last_ns, uint64_t pkts, uint64_t bytes)
{
    uint8_t now = f->apple_svc;
    if (old == now || pkts == 0 || !tl->started || old > WP_APPLESVC_MAX || now > WP_APPLESVC_MAX)
        return;
    struct wp_tl_arr *a = NULL, *z = NULL;
    if (old != 0) {
        a = &tl->h.apple[old - 1u];
        if (a->pkts == NULL)
            return; /* nothing was counted there (memory ran out) */
    }
    if (now != 0) {
        z = apple_arr(tl, now);
        if (z == NULL)
            tl->apple_dropped += pkts;
    }
    move_flow(tl, f, a, z, first_ns, last_ns, pkts, bytes);
}

void wp_timeline_flow_moved(struct wp_timeline *tl, struct wp_flow *f, uint64_t pkts,
                            uint64_t bytes)
{
    if (f->tl_series == 0)
        return;
    struct wp_port_key k = wp_flow_port_key(f);
    uint16_t from = f->tl_series;
    f->tl_series = wp_timeline_series_of(tl, &k);
    if (f->bits & WP_FB_TIME)
        wp_timeline_move(tl, from, f->tl_series, f->first_ns, f->last_ns, pkts, bytes);
}

/* Add src's array a into dst's array z, bucket by bucket (dst already
 * covers src's span, with a bucket at least as wide). */
static void merge_arr(struct wp_timeline *dst, const struct wp_timeline *src,
                      const struct wp_tl_arr *a, struct wp_tl_arr *z)
{
    for (size_t i = 0; i < src->used; i++) {
        if (a->pkts[i] == 0 && a->bytes[i] == 0)
            continue;
        /* dst->origin <= this bucket's start, which may lie 2^63 past it */
        int64_t lo =
            (int64_t)((uint64_t)src->origin + i * (uint64_t)src->width - (uint64_t)dst->origin);
        size_t b = (size_t)(lo / dst->width);
        if (lo % dst->width + src->width > dst->width)
            dst->moved += a->pkts[i]; /* straddles two of dst's buckets */
        z->pkts[b] += a->pkts[i];
        z->bytes[b] += a->bytes[i];
        if (b >= dst->used)
            dst->used = b + 1;
    }
}

/* The process series of `group` (index + 1; 1: other), made when new; 0
 * when memory ran out. */
static uint8_t proc_of(struct wp_timeline *tl, uint16_t group)
{
    for (size_t i = 1; group != 0 && i < tl->n_procs; i++)
        if (tl->proc_group[i] == group)
            return (uint8_t)(i + 1);
    size_t i = group != 0 && tl->n_procs <= WP_TL_MAX_PROCS ? tl->n_procs : 0;
    struct wp_tl_arr *a = &tl->h.proc[i];
    if (a->pkts == NULL && make_series(a) != 0)
        return 0;
    if (i != 0) {
        tl->proc_group[i] = group;
        tl->n_procs++;
    }
    return (uint8_t)(i + 1);
}

void wp_timeline_proc_moved(struct wp_timeline *tl, struct wp_flow *f, uint16_t group,
                            int64_t first_ns, int64_t last_ns, uint64_t pkts, uint64_t bytes)
{
    uint8_t to = group != 0 ? proc_of(tl, group) : 0; /* group 0: no process */
    uint8_t from = f->tl_proc;
    if (to == from)
        return;
    if (group != 0 && to == 0) {
        tl->apple_dropped += pkts; /* memory ran out: the series stays short */
        return;
    }
    f->tl_proc = to;
    if (pkts == 0 || !tl->started)
        return;
    move_flow(tl, f, from ? &tl->h.proc[from - 1u] : NULL, to ? &tl->h.proc[to - 1u] : NULL,
              first_ns, last_ns, pkts, bytes);
}

uint8_t wp_timeline_proc_map(struct wp_timeline *dst, const struct wp_timeline *src, uint8_t idx)
{
    if (idx == 0)
        return 0;
    return proc_of(dst, idx == 1 ? 0 : src->proc_group[idx - 1u]); /* 0: other */
}

int wp_timeline_merge(struct wp_timeline *dst, const struct wp_timeline *src)
{
    dst->untimed.packets += src->untimed.packets;
    dst->untimed.bytes += src->untimed.bytes;
    if (!src->started)
        return 0;
    while (dst->width < src->width)
        compact(dst);
    if (!dst->started) {
        dst->started = true;
        dst->origin = src->origin;
    }
    if (src->origin < dst->origin)
        reach_back(dst, src->origin);
    /* unsigned: the span may pass 2^63 ns; dst->origin <= src->origin */
    uint64_t end = (uint64_t)src->origin + src->used * (uint64_t)src->width;
    while ((end - 1 - (uint64_t)dst->origin) / (uint64_t)dst->width >= WP_TL_BUCKETS)
        compact(dst);
    for (size_t j = 0; j < src->n_series; j++) {
        const struct wp_tl_arr *a = &src->h.s[j];
        /* ports past dst's 256 series go to `other`, as when reading */
        size_t d = j == OTHER ? OTHER : wp_timeline_series_of(dst, &a->key) - 1u;
        merge_arr(dst, src, a, &dst->h.s[d]);
    }
    for (uint8_t j = 1; j <= WP_APPLESVC_MAX; j++) {
        const struct wp_tl_arr *a = &src->h.apple[j - 1u];
        if (a->pkts == NULL)
            continue;
        struct wp_tl_arr *z = apple_arr(dst, j);
        if (z != NULL)
            merge_arr(dst, src, a, z);
        else
            dst->apple_dropped += sum(a->pkts, src->used);
    }
    dst->apple_dropped += src->apple_dropped;
    for (uint8_t j = 1; j <= src->n_procs; j++) {
        const struct wp_tl_arr *a = &src->h.proc[j - 1u];
        if (a->pkts == NULL)
            continue;
        uint8_t d = wp_timeline_proc_map(dst, src, j);
        if (d != 0)
            merge_arr(dst, src, a, &dst->h.proc[d - 1u]);
        else
            dst->apple_dropped += sum(a->pkts, src->used);
    }
    dst->moved += src->moved;
    dst->h.hi = dst->h.lo;
    return 0;
}

int wp_timeline_load(struct wp_timeline *tl, int64_t start_ns, int64_t bucket_ns, size_t n,
                     uint64_t moved, const struct wp_counts *untimed, uint64_t dropped)
{
    /* An analysis never makes a bucket wider than WP_TL_TIME_LIMIT / 64
     * (timeline.h), nor one starting or ending past the time limits by
     * more than a bucket. 128 bits: 256 buckets of 2^56 ns pass 2^63. */
    __extension__ typedef __int128 i128;
    i128 end = (i128)start_ns + (i128)n * bucket_ns;
    if (n > WP_TL_BUCKETS || (n > 0 && bucket_ns <= 0) || bucket_ns < 0 ||
        bucket_ns > WP_TL_TIME_LIMIT / 64 || start_ns < -WP_TL_TIME_LIMIT - bucket_ns ||
        end > (i128)WP_TL_TIME_LIMIT + bucket_ns)
        return -1;
    if (n > 0) {
        tl->started = true;
        tl->origin = start_ns;
    }
    if (bucket_ns > 0)
        tl->width = bucket_ns;
    tl->used = n;
    tl->moved += moved;
    tl->untimed.packets += untimed->packets;
    tl->untimed.bytes += untimed->bytes;
    tl->apple_dropped += dropped;
    tl->h.hi = tl->h.lo;
    return 0;
}

struct wp_tl_arr *wp_timeline_load_port(struct wp_timeline *tl, const struct wp_port_key *key)
{
    if (key == NULL)
        return &tl->h.s[OTHER];
    return &tl->h.s[wp_timeline_series_of(tl, key) - 1u]; /* full: `other` */
}

struct wp_tl_arr *wp_timeline_load_apple(struct wp_timeline *tl, uint8_t svc)
{
    if (svc == 0 || svc > WP_APPLESVC_MAX)
        return NULL;
    return apple_arr(tl, svc);
}

struct wp_tl_arr *wp_timeline_load_proc(struct wp_timeline *tl, uint16_t group)
{
    uint8_t i = proc_of(tl, group);
    return i != 0 ? &tl->h.proc[i - 1u] : NULL;
}

static int cmp_series(const void *pa, const void *pb)
{
    const struct wp_tl_series *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    uint32_t ka = pack(&a->key), kb = pack(&b->key);
    return ka < kb ? -1 : ka > kb;
}

int wp_timeline_view(const struct wp_timeline *tl, unsigned top, struct wp_tl_view *v)
{
    memset(v, 0, sizeof(*v));
    v->bucket_ns = tl->width;
    v->moved_packets = tl->moved;
    v->untimed = tl->untimed;
    if (!tl->started)
        return 0;
    v->start_ns = tl->origin;
    v->n_buckets = tl->used;
    v->apple_dropped = tl->apple_dropped;
    for (size_t j = 1; j <= tl->n_procs; j++) {
        size_t i = j % tl->n_procs; /* the other processes ([0]) last */
        const struct wp_tl_arr *a = &tl->h.proc[i];
        if (a->pkts == NULL)
            continue;
        struct wp_tl_proc x = {i ? tl->proc_group[i] : 0, sum(a->pkts, tl->used),
                               sum(a->bytes, tl->used), a->pkts, a->bytes};
        if (x.packets > 0)
            v->procs[v->n_procs++] = x;
    }
    for (size_t j = 0; j < WP_APPLESVC_MAX; j++) {
        const struct wp_tl_arr *a = &tl->h.apple[j];
        if (a->pkts == NULL)
            continue;
        struct wp_tl_apple x = {(int)j, sum(a->pkts, tl->used), sum(a->bytes, tl->used), a->pkts,
                                a->bytes};
        if (x.packets > 0)
            v->apple[v->n_apple++] = x;
    }
    size_t n = tl->n_series;
    v->series = calloc(n, sizeof(*v->series));
    v->own = calloc(2 * (tl->used ? tl->used : 1), sizeof(uint64_t));
    if (v->series == NULL || v->own == NULL) {
        wp_timeline_view_release(v);
        return -1;
    }
    size_t k = 0;
    for (size_t j = 1; j < n; j++) {
        const struct wp_tl_arr *s = &tl->h.s[j];
        struct wp_tl_series x = {false,   s->key,  sum(s->pkts, tl->used), sum(s->bytes, tl->used),
                                 s->pkts, s->bytes};
        if (x.packets > 0)
            v->series[k++] = x;
    }
    qsort(v->series, k, sizeof(*v->series), cmp_series);
    if (top > 0 && k > top)
        k = top; /* past top: summed into other below */
    uint64_t *op = v->own, *ob = v->own + tl->used;
    for (size_t j = 0; j < n; j++) {
        const struct wp_tl_arr *s = &tl->h.s[j];
        bool shown = false;
        for (size_t i = 0; j != OTHER && i < k && !shown; i++)
            shown = v->series[i].pkts == s->pkts;
        if (shown)
            continue;
        for (size_t i = 0; i < tl->used; i++) {
            op[i] += s->pkts[i];
            ob[i] += s->bytes[i];
        }
    }
    struct wp_tl_series o = {true, {0, 0, 0}, sum(op, tl->used), sum(ob, tl->used), op, ob};
    if (o.packets > 0)
        v->series[k++] = o;
    v->n_series = k;
    return 0;
}

void wp_timeline_view_release(struct wp_tl_view *v)
{
    free(v->series);
    free(v->own);
    memset(v, 0, sizeof(*v));
}

size_t wp_timeline_bytes(const struct wp_timeline *tl)
{
    return sizeof(*tl) + tl->n_series * 2 * WP_TL_BUCKETS * sizeof(uint64_t);
}
