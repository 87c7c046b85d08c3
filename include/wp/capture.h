/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the libpcap side: BPF filters, link-type names, live capture */
#ifndef WP_CAPTURE_H
#define WP_CAPTURE_H

#include <stdio.h>

#include "wp/common.h"
#include "wp/savefile.h"

/* ---- BPF filters --------------------------------------------------------- */

struct wp_filter;

/* Prepare the filter `expr` (tcpdump syntax). The expression is compiled for
 * each link type when first needed. Checks the syntax now: returns 0 and
 * *out, or -1 with "filter 'EXPR': reason" in errbuf. */
WP_NODISCARD int wp_filter_new(struct wp_filter **out, const char *expr,
                               char errbuf[WP_ERRBUF_SIZE]);

/* Compile for `linktype` unless already done. Returns 0, or -1 with a
 * message naming the filter and the link type. */
WP_NODISCARD int wp_filter_prepare(struct wp_filter *f, uint32_t linktype,
                                   char errbuf[WP_ERRBUF_SIZE]);

/* True when the record passes (wp_filter_prepare must have succeeded for
 * its link type). */
bool wp_filter_match(const struct wp_filter *f, const struct wp_record *rec);

const char *wp_filter_expr(const struct wp_filter *f);
void wp_filter_free(struct wp_filter *f);

/* ---- names ---------------------------------------------------------------- */

/* The name of a link type as tcpdump prints it ("EN10MB", "LINUX_SLL2"),
 * or "LINKTYPE_<n>" when libpcap has none. */
const char *wp_linktype_name(uint32_t linktype, char *buf, size_t n);

/* ---- live capture ----------------------------------------------------------- */

struct wp_live_opts {
    const char *iface;       /* "any" for all interfaces */
    uint32_t snaplen;
    bool promisc;
    uint32_t buffer_kib;     /* 0: libpcap's default */
    const char *filter;      /* NULL: none */
    int timeout_ms;          /* packet buffer timeout: how long a read may wait */
};

struct wp_live;

/* Open and activate a capture on o->iface and install the filter. Returns 0
 * and *out, or -1 with a message naming the interface (or the filter) and
 * the reason, e.g. no such device, or permission denied. */
WP_NODISCARD int wp_live_open(struct wp_live **out, const struct wp_live_opts *o,
                              char errbuf[WP_ERRBUF_SIZE]);

/* The most handles wp_live_open_fanout opens. */
#define WP_LIVE_MAX_HANDLES 256

/* The kernel buffer of each live handle when -B is not given: 32 MiB, not
 * libpcap's 2 MiB. An analysis that keeps state per flow falls behind in
 * bursts (a flood of new flows fills fresh pages of the flow table, a
 * report is written) that a larger ring absorbs (docs/performance.md). */
#define WP_LIVE_BUFFER_KIB 32768u

/* Open `n` captures on o->iface as one PACKET_FANOUT group (Linux): the
 * kernel spreads the packets over them by a symmetric hash of the flow, so
 * that each flow, both directions, reaches one handle only; a packet goes
 * to exactly one handle. Returns the number of handles in out[] (n), or 1
 * with the reason in `why` when fanout is not available (other systems,
 * the "any" device, the kernel refused): one ordinary capture then. -1 with
 * a message in errbuf when no capture could be opened. */
WP_NODISCARD int wp_live_open_fanout(struct wp_live **out, size_t n, const struct wp_live_opts *o,
                                     char why[WP_ERRBUF_SIZE], char errbuf[WP_ERRBUF_SIZE]);

/* The link type of the capture (DLT value; equal to the file LINKTYPE except
 * for DLT_RAW, which the decoder accepts as such). */
uint32_t wp_live_linktype(const struct wp_live *l);

/* True when timestamps have nanosecond resolution. */
bool wp_live_nanos(const struct wp_live *l);

typedef void (*wp_live_cb)(void *ctx, const struct wp_record *rec);

/* Process the packets available now (waiting at most the buffer timeout),
 * calling cb for each, at most `max` (0: no limit). Returns the number
 * processed (>= 0), -2 when stopped by wp_capture_break(), or -1 on an
 * error such as the interface going down (message in errbuf). The callback
 * must not keep rec->data. */
int wp_live_dispatch(struct wp_live *l, int max, wp_live_cb cb, void *ctx,
                     char errbuf[WP_ERRBUF_SIZE]);

/* Packets dropped so far by the kernel (ps_drop) and by the interface
 * (ps_ifdrop), widened to 64 bits across wrap-arounds of libpcap's 32-bit
 * counters. Returns 0, or -1 when the platform has no statistics. */
int wp_live_stats(struct wp_live *l, uint64_t *dropped, uint64_t *ifdropped);

/* Close the capture (NULL is accepted). */
void wp_live_close(struct wp_live *l);

/* Print the capturable interfaces as tcpdump -D does. Returns 0, or -1 with
 * a message. */
int wp_live_list(FILE *fp, char errbuf[WP_ERRBUF_SIZE]);

/* Stop a live capture in progress (async-signal-safe; no-op otherwise). */
void wp_capture_break(void);

/* The libpcap version string. */
const char *wp_pcap_version(void);

#endif
