/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: baseline comparison: what a capture has that a capture without the app lacked
 *
 * `--baseline FILE` reads captures taken without the app. Every port,
 * server, name and process of the report is then marked: `new` (absent
 * from the baseline), `grown` (its bytes per second at least
 * WP_BASELINE_GROWN times the baseline's) or `seen`.
 */
#ifndef WP_BASELINE_H
#define WP_BASELINE_H

#include "wp/common.h"
#include "wp/agg.h"
#include "wp/flow.h"
#include "wp/names.h"

#define WP_BASELINE_GROWN 4.0

enum wp_bl_status { WP_BL_NEW = 0, WP_BL_GROWN, WP_BL_SEEN };

struct wp_bl_mark {
    enum wp_bl_status status;
    uint64_t baseline_bytes;     /* 0 when new */
    double ratio;                /* bytes per second here / in the baseline; 0 when new */
};

struct wp_baseline;

/* An empty baseline spanning `seconds` of capture (at least 1 is used). */
struct wp_baseline *wp_baseline_new(double seconds);
void wp_baseline_free(struct wp_baseline *b);

/* Record what the baseline capture had (bytes add up when repeated).
 * Return -1 when memory ran out. */
int wp_baseline_add_port(struct wp_baseline *b, const struct wp_port_key *k, uint64_t bytes);
int wp_baseline_add_host(struct wp_baseline *b, uint8_t family, const uint8_t *addr,
                         uint64_t bytes);
int wp_baseline_add_name(struct wp_baseline *b, const char *name, uint64_t bytes);
int wp_baseline_add_process(struct wp_baseline *b, const char *name, uint64_t bytes);

/* Sort the tables; call once after the adds, before the lookups. */
void wp_baseline_seal(struct wp_baseline *b);

/* Marks for a row of the report that has `bytes` over `seconds`. */
struct wp_bl_mark wp_baseline_port(const struct wp_baseline *b, const struct wp_port_key *k,
                                   uint64_t bytes, double seconds);
struct wp_bl_mark wp_baseline_host(const struct wp_baseline *b, uint8_t family,
                                   const uint8_t *addr, uint64_t bytes, double seconds);
struct wp_bl_mark wp_baseline_name(const struct wp_baseline *b, const char *name, uint64_t bytes,
                                   double seconds);
struct wp_bl_mark wp_baseline_process(const struct wp_baseline *b, const char *name,
                                      uint64_t bytes, double seconds);

/* "new", "grown" or "seen". */
const char *wp_bl_status_name(enum wp_bl_status s);

/* The baseline's duration in seconds (at least 1). */
double wp_baseline_seconds(const struct wp_baseline *b);

#endif
