/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: formatting helpers: addresses, times, sizes, names */
#ifndef WP_UTIL_H
#define WP_UTIL_H

#include "wp/common.h"
#include "wp/agg.h"

/* Each writes a NUL-terminated string into buf (capacity n) and returns buf. */

/* An IPv4 (family 4) or IPv6 (family 6) address in its usual text form. */
char *wp_fmt_addr(char *buf, size_t n, uint8_t family, const uint8_t *addr);

/* A timestamp as ISO 8601 UTC: 2026-11-23T19:45:01.123456Z, or with nine
 * fraction digits when `nanos`. */
char *wp_fmt_time(char *buf, size_t n, int64_t ns, bool nanos);

/* A byte count with binary units: "512 B", "37.4 KiB", "1.2 GiB". */
char *wp_fmt_bytes(char *buf, size_t n, uint64_t bytes);

/* A count with SI suffix when large: "999", "12.3k", "4.5M". */
char *wp_fmt_count(char *buf, size_t n, uint64_t v);

/* The transport name of an IP protocol ("tcp", "icmpv6"), or its number. */
char *wp_fmt_transport(char *buf, size_t n, uint8_t proto);

/* A port key: "tcp/5223", "icmp", or "tcp" for TCP packets without a port. */
char *wp_fmt_port_key(char *buf, size_t n, const struct wp_port_key *k);

/* TCP flags seen, in the order S A F P R U E C. */
char *wp_fmt_tcp_flags(char *buf, size_t n, uint8_t flags);

/* Parse a duration or count option ("300", "1.5"): seconds as nanoseconds.
 * Returns 0, or -1 when `s` is not a non-negative number. */
int wp_parse_seconds(const char *s, int64_t *ns);

/* Parse an unsigned decimal integer with no junk. Returns 0 or -1. */
int wp_parse_u64(const char *s, uint64_t *v);

#endif
