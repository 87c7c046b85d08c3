/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the timeline (timeline.h): buckets worked out by hand */

#include <string.h>

#include "tap.h"
#include "wp/timeline.h"

#define MS 1000000LL
#define T0 1700000000000000000LL

static struct wp_flow flow(uint8_t proto, uint16_t sport, uint16_t dport)
{
    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    f.key.family = 4;
    f.key.proto = proto;
    f.key.port[0] = sport;
    f.key.port[1] = dport;
    f.server = 1;
    return f;
}

/* The view's series of (proto, port), or NULL. */
static const struct wp_tl_series *find(const struct wp_tl_view *v, uint8_t proto, uint16_t port)
{
    for (size_t i = 0; i < v->n_series; i++)
        if (!v->series[i].other && v->series[i].key.proto == proto && v->series[i].key.port == port)
            return &v->series[i];
    return NULL;
}

static void fixed_buckets(void)
{
    struct wp_timeline *tl = wp_timeline_new(1000 * MS);
    struct wp_flow f = flow(6, 40000, 443);
    wp_timeline_start(tl, T0);
    wp_timeline_add(tl, &f, T0 + 100 * MS, 100);   /* bucket 0 */
    wp_timeline_add(tl, &f, T0 + 999 * MS, 10);    /* bucket 0 */
    wp_timeline_add(tl, &f, T0 + 1000 * MS, 1);    /* bucket 1: [1 s, 2 s) */
    wp_timeline_add(tl, &f, T0 + 4500 * MS, 1000); /* bucket 4 */
    struct wp_tl_view v;
    TAP_OK(wp_timeline_view(tl, 10, &v) == 0, "view");
    TAP_EQ(v.n_buckets, 5, "buckets up to the last with a packet");
    TAP_EQ(v.bucket_ns, 1000 * MS, "the bucket given");
    TAP_OK(v.start_ns == T0, "bucket 0 starts at the first frame");
    const struct wp_tl_series *s = find(&v, 6, 443);
    TAP_OK(s != NULL, "tcp/443 series");
    if (s != NULL) {
        TAP_EQ(s->pkts[0], 2, "bucket 0 packets");
        TAP_EQ(s->byts[0], 110, "bucket 0 bytes");
        TAP_EQ(s->pkts[1], 1, "bucket 1");
        TAP_EQ(s->pkts[2] + s->pkts[3], 0, "buckets 2 and 3 empty");
        TAP_EQ(s->byts[4], 1000, "bucket 4 bytes");
        TAP_EQ(s->packets, 4, "series packets");
        TAP_EQ(s->bytes, 1111, "series bytes");
    }
    wp_timeline_view_release(&v);
    wp_timeline_free(tl);
}

static void automatic_doubling(void)
{
    struct wp_timeline *tl = wp_timeline_new(0);
    struct wp_flow f = flow(17, 5000, 53);
    wp_timeline_start(tl, T0);
    /* one packet per ms for 1000 ms: 1 ms -> 2 -> 4 ms buckets (250 of them) */
    for (int i = 0; i < 1000; i++)
        wp_timeline_add(tl, &f, T0 + i * MS, 60);
    struct wp_tl_view v;
    TAP_OK(wp_timeline_view(tl, 10, &v) == 0, "view");
    TAP_EQ(v.bucket_ns, 4 * MS, "the bucket doubled twice");
    TAP_EQ(v.n_buckets, 250, "250 buckets of 4 ms");
    const struct wp_tl_series *s = find(&v, 17, 53);
    int each4 = 1;
    for (size_t i = 0; s != NULL && i < v.n_buckets; i++)
        each4 = each4 && s->pkts[i] == 4 && s->byts[i] == 240;
    TAP_OK(s != NULL && each4, "every bucket holds its 4 packets");
    wp_timeline_view_release(&v);

    /* a packet 10 s before the first: bucket 0 moves back, old buckets kept */
    wp_timeline_add(tl, &f, T0 - 10000 * MS, 7);
    TAP_OK(wp_timeline_view(tl, 10, &v) == 0, "view after an earlier packet");
    s = find(&v, 17, 53);
    TAP_OK(v.n_buckets <= WP_TL_BUCKETS && v.n_buckets >= WP_TL_BUCKETS / 2, "128..256 buckets");
    TAP_OK(s != NULL && s->packets == 1001 && s->bytes == 60007, "nothing lost");
    TAP_OK(s != NULL && s->pkts[0] == 1 && s->byts[0] == 7, "the earlier packet in bucket 0");
    TAP_OK(v.start_ns <= T0 - 10000 * MS && v.start_ns > T0 - 10000 * MS - v.bucket_ns,
           "bucket 0 holds the earlier packet's time");
    wp_timeline_view_release(&v);
    wp_timeline_free(tl);
}

static void top_and_other(void)
{
    struct wp_timeline *tl = wp_timeline_new(1000 * MS);
    wp_timeline_start(tl, T0);
    for (uint16_t p = 1; p <= 12; p++) {
        struct wp_flow f = flow(6, 50000, p);
        for (int k = 0; k < p; k++)
            wp_timeline_add(tl, &f, T0, 100); /* port p: p packets */
    }
    struct wp_tl_view v;
    TAP_OK(wp_timeline_view(tl, 10, &v) == 0, "view");
    TAP_EQ(v.n_series, 11, "top 10 and other");
    TAP_OK(v.series[0].key.port == 12 && v.series[9].key.port == 3, "sorted by bytes");
    TAP_OK(v.series[10].other && v.series[10].packets == 3, "ports 1 and 2 in other");
    wp_timeline_view_release(&v);
    wp_timeline_free(tl);
}

static void late_syn_moves(void)
{
    struct wp_timeline *tl = wp_timeline_new(1000 * MS);
    struct wp_flow f = flow(6, 443, 40000); /* server 1: port 40000 at first */
    wp_timeline_start(tl, T0);
    f.bits |= WP_FB_TIME;
    f.first_ns = f.last_ns = T0 + 10 * MS;
    wp_timeline_add(tl, &f, T0 + 10 * MS, 50);
    f.pkts[0] = 1;
    f.bytes[0] = 50;
    f.server = 0; /* a SYN says the server is port 443 */
    wp_timeline_flow_moved(tl, &f, 1, 50);
    wp_timeline_add(tl, &f, T0 + 20 * MS, 60);
    struct wp_tl_view v;
    TAP_OK(wp_timeline_view(tl, 10, &v) == 0, "view");
    const struct wp_tl_series *s = find(&v, 6, 443);
    TAP_OK(s != NULL && s->packets == 2 && s->bytes == 110, "both packets under tcp/443");
    TAP_OK(find(&v, 6, 40000) == NULL, "nothing left under tcp/40000");
    TAP_EQ(v.moved_packets, 0, "exact: the moved packet's bucket was known");
    wp_timeline_view_release(&v);
    wp_timeline_free(tl);
}

static void merge(void)
{
    struct wp_timeline *a = wp_timeline_new(0), *b = wp_timeline_new(0);
    struct wp_flow f = flow(6, 40000, 443), g = flow(17, 40000, 443);
    wp_timeline_start(a, T0);
    wp_timeline_add(a, &f, T0, 10);
    wp_timeline_add(a, &f, T0 + 100 * MS, 10);
    wp_timeline_start(b, T0 + 50 * MS);
    for (int i = 0; i < 600; i++) /* b grows to 4 ms buckets */
        wp_timeline_add(b, &g, T0 + 50 * MS + i * MS, 1);
    TAP_OK(wp_timeline_merge(a, b) == 0, "merge");
    struct wp_tl_view v;
    TAP_OK(wp_timeline_view(a, 10, &v) == 0, "view");
    TAP_EQ(v.bucket_ns, 4 * MS, "the coarser bucket");
    TAP_OK(v.start_ns == T0, "the earlier start");
    const struct wp_tl_series *s = find(&v, 6, 443), *u = find(&v, 17, 443);
    TAP_OK(s && s->packets == 2 && s->pkts[0] == 1 && s->pkts[25] == 1,
           "a's packets at 0 and 100 ms");
    TAP_OK(u && u->packets == 600 && u->bytes == 600, "b's packets all there");
    /* b's buckets start at 50 + 4i ms, across a's 4 ms buckets: each goes
     * whole into the bucket where it starts, and is counted as moved */
    TAP_OK(u && u->pkts[12] == 4 && u->pkts[13] == 4, "b's bucket [50,54) in a's bucket 12");
    TAP_EQ(v.moved_packets, 600, "b's packets counted as moved");
    wp_timeline_view_release(&v);
    wp_timeline_free(a);
    wp_timeline_free(b);
}

int main(void)
{
    fixed_buckets();
    automatic_doubling();
    top_and_other();
    late_syn_moves();
    merge();
    return tap_done();
}
