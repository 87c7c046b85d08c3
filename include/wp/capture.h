/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the libpcap side: BPF filters, link-type names, live capture */
#ifndef WP_CAPTURE_H
#define WP_CAPTURE_H

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

/* Stop a live capture in progress (async-signal-safe; no-op otherwise). */
void wp_capture_break(void);

/* The libpcap version string. */
const char *wp_pcap_version(void);

#endif
