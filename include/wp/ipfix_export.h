/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: IPFIX export of whichports flows into a file (RFC 5655) */
#ifndef WP_IPFIX_EXPORT_H
#define WP_IPFIX_EXPORT_H

#include "wp/common.h"
#include "wp/classify.h"
#include "wp/flow.h"
#include "wp/names.h"

struct wp_ipfix_exp;

/* Open an IPFIX file exporter writing to `path` ("-" is not accepted):
 * messages of at most `mtu` octets (0: the default), Observation Domain
 * `odid`. `services` and `names` are borrowed and must outlive it (names
 * may be NULL). Returns NULL with "PATH: reason" in errbuf. */
struct wp_ipfix_exp *wp_ipfix_exp_open_file(const char *path, const struct wp_services *services,
                                            struct wp_nametab *names, uint32_t odid, size_t mtu,
                                            char errbuf[WP_ERRBUF_SIZE]);

/* Export one flow as a biflow record from the client's side, with
 * flowEndReason `reason` (WP_IPFIX_END_*, ipfix.h). Safe to call from
 * several threads. Flows without time (no packet) are skipped. */
void wp_ipfix_exp_flow(struct wp_ipfix_exp *x, const struct wp_flow *f, int reason);

/* The engine hook (wp_engine_opts.on_flow_end): `ctx` is the exporter. */
void wp_ipfix_exp_on_flow_end(void *ctx, const struct wp_flow *f, int reason);

/* Flush, write the applicationId -> applicationName records, close and
 * free. Returns 0, or -1 after a write error (errno set). NULL is accepted. */
int wp_ipfix_exp_close(struct wp_ipfix_exp *x);

/* Records exported so far. */
uint64_t wp_ipfix_exp_records(const struct wp_ipfix_exp *x);

#endif
