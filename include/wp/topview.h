/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the live top view: a screen made from the report model
 *
 * Pure rendering, no terminal and no clock: wp_topview_sample() takes the port
 * rows of each periodic report into a small per-port history (bytes per
 * second of each interval, for the rate and the spark line), and
 * wp_topview_render() lays out a screen of at most `rows` lines of at most
 * `cols` characters into a buffer. The terminal part (raw mode, keys,
 * drawing) is topterm.h. */
#ifndef WP_TOPVIEW_H
#define WP_TOPVIEW_H

#include "wp/common.h"
#include "wp/report_model.h"

#define WP_TOPVIEW_HIST  120 /* samples kept per port: two minutes at 1 s */
#define WP_TOPVIEW_PORTS 256 /* ports with a history; later ones show no rate */

/* The sort column, cycled by the `s` key. */
enum wp_topview_sort {
    WP_TOPVIEW_SORT_RATE = 0, /* bytes per second in the last interval */
    WP_TOPVIEW_SORT_AVG,      /* bytes per second since the start */
    WP_TOPVIEW_SORT_BYTES,    /* bytes since the start */
    WP_TOPVIEW_SORT_PORT,     /* transport, then port number */
    WP_TOPVIEW_SORT_COUNT
};

/* A port's history. ring[(n - 1 - i) % WP_TOPVIEW_HIST] is the rate i samples
 * ago, where n is the number of samples taken since the port was added. */
struct wp_topview_hist {
    struct wp_port_key key;
    uint64_t last_bytes; /* the port's bytes at the previous sample */
    uint64_t rate;       /* bytes per second in the last interval */
    uint64_t n;          /* samples taken */
    uint64_t ring[WP_TOPVIEW_HIST];
};

struct wp_topview {
    const char *iface;
    int64_t start_ns; /* wall clock of the capture's start */
    int64_t last_ns;  /* wall clock of the previous sample */
    enum wp_topview_sort sort;
    bool paused;
    bool utf8; /* spark lines in Unicode blocks; else ASCII */
    size_t n_hist;
    struct wp_topview_hist hist[WP_TOPVIEW_PORTS];
};

/* Initialize *t (zeroed first) for a capture on `iface` (borrowed) started
 * at start_ns. */
void wp_topview_init(struct wp_topview *t, const char *iface, int64_t start_ns, bool utf8);

/* Take the port rows of `r` (cumulative since the start) as the sample at
 * now_ns: each tracked port's rate becomes its byte growth since the
 * previous sample divided by the time since then (a port new in this
 * sample grew from 0). Ports beyond WP_TOPVIEW_PORTS are not tracked. A sample
 * at or before the previous one is ignored. */
void wp_topview_sample(struct wp_topview *t, const struct wp_report *r, int64_t now_ns);

/* The history of `key`, or NULL when it is not tracked. */
const struct wp_topview_hist *wp_topview_find(const struct wp_topview *t,
                                              const struct wp_port_key *key);

/* Write the spark line of the last `width` samples of h (oldest left, one
 * character per sample, blank before the port's first sample) into out
 * (capacity cap >= width * 3 + 1, NUL-terminated). Heights are scaled to
 * the largest rate of those samples: 0 is a blank, any other rate one of 8
 * levels, level = ceil(rate * 8 / max). UTF-8: U+2581..U+2588; ASCII:
 * "._-=+*#@". Returns the bytes written. */
size_t wp_topview_spark(const struct wp_topview_hist *h, unsigned width, bool utf8, char *out,
                        size_t cap);

/* Render the screen of report `r` at now_ns into buf (capacity cap,
 * NUL-terminated, lines ended by '\n', no escape sequences; text from the
 * network sanitized): a title line, totals and drop counters, the service
 * ports sorted by t->sort (rate now, average rate, total bytes, flows, and
 * the spark line; bytes in the report's binary units, wp_fmt_bytes), the top flows by bytes and the
 * processes when a record named one, and a line of keys. At most `rows` lines (at least 4 are
 * needed) of at most `cols` characters (counted as UTF-8 code points).
 * Returns the length, or -1 when memory ran out. */
int wp_topview_render(const struct wp_topview *t, const struct wp_report *r, int64_t now_ns,
                      unsigned rows, unsigned cols, char *buf, size_t cap);

/* The name of a sort column, as the title line shows it. */
const char *wp_topview_sort_name(enum wp_topview_sort s);

#endif
