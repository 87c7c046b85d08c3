/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: --merge, inside: the load state and the helpers shared by
 * merge.c (the report's flows, totals, timeline), merge_read.c (typed reads
 * of its values) and merge_rows.c (its rows beyond the listed flows) */
#ifndef WP_MERGE_INT_H
#define WP_MERGE_INT_H

#include "wp/agg.h"
#include "wp/analyze.h"
#include "wp/applesvc.h"
#include "wp/json_read.h"
#include "wp/outcome.h"

/* One report being loaded into an engine. The first error stands. */
struct ld {
    struct wp_engine *e;
    const struct wp_engine_opts *o;
    const char *what; /* the report's name, first in every message */
    char *err;        /* WP_ERRBUF_SIZE bytes */
    bool failed;
    bool whole; /* the report lists every flow it counted: no residue allowed */
};

/* ---- merge_read.c: each read checks its value and fails the load (with a
 * message naming the member) when it is missing or of the wrong kind */

/* Fail the load with a message; returns -1. */
int mld_bad(struct ld *L, const char *fmt, ...) WP_PRINTF(2, 3);
/* *a += b, failing the load on overflow. */
void mld_add(struct ld *L, uint64_t *a, uint64_t b);
/* Member k of o, of type t; NULL (load failed) when missing or another type. */
const struct wp_jval *mld_need(struct ld *L, const struct wp_jval *o, const char *k,
                               enum wp_jtype t);
/* A count (0 .. 2^64-1), a {packets, bytes} object. */
uint64_t mld_u64(struct ld *L, const struct wp_jval *o, const char *k);
struct wp_counts mld_counts(struct ld *L, const struct wp_jval *o, const char *k);
/* a - b; fails (a report inconsistent with its own flows) when a < b. */
uint64_t mld_sub(struct ld *L, uint64_t a, uint64_t b);
/* A time as whichports writes it (2026-01-02T03:04:05.678Z) to ns since
 * 1970; *nanos set when it has more than 6 decimals. */
int mld_time_of(struct ld *L, const struct wp_jval *v, int64_t *ns, bool *nanos);
int mld_addr_of(struct ld *L, const char *s, uint8_t *family, uint8_t addr[16]);
int mld_proto_of(struct ld *L, const char *s, uint8_t *proto);
/* A port (null: 0), a VLAN id (null: WP_VLAN_NONE). */
int mld_port_of(struct ld *L, const struct wp_jval *v, uint16_t *port);
uint16_t mld_vlan_of(struct ld *L, const struct wp_jval *v);
/* A member's string, or NULL (no failure: optional members). */
const char *mld_opt_str(const struct wp_jval *o, const char *k);
/* The index of s among names(0 .. n-1), or -1. */
int mld_index_of(const char *s, const char *(*names)(unsigned), unsigned n);
/* The Apple service of key `key`, or -1. */
int mld_svc_find(const struct wp_applesvc *a, const char *key);
/* wp_proc_source_name as an index_of table. */
const char *mld_src_name(unsigned i);
/* A names array ([{name, flows}]) into v (at most WP_ROW_NAMES), less the
 * flows of the same names in minus[0 .. n_minus). */
void mld_load_names(struct ld *L, const struct wp_jval *arr, struct wp_name_count *v, uint8_t *n,
                    bool *trunc, const struct wp_name_count *minus, uint8_t n_minus);
/* o's "outcomes" (and "blocked_by") into r, less minus. */
void mld_load_outcomes(struct ld *L, const struct wp_jval *o, struct wp_oc_row *r,
                       const struct wp_oc_row *minus);

/* ---- merge_rows.c: `snap` is the aggregate of the flows already loaded */
void mld_load_port_residue(struct ld *L, const struct wp_jval *ports, const struct wp_agg *snap);
void mld_load_host_residue(struct ld *L, const struct wp_jval *root, const struct wp_agg *snap);
void mld_load_apple_residue(struct ld *L, const struct wp_jval *root, const struct wp_agg *snap);
void mld_load_tunnels(struct ld *L, const struct wp_jval *root);
void mld_load_proc_residue(struct ld *L, const struct wp_jval *root);
/* The identities of the loaded report (ports + other + undecodable =
 * packets, hosts = ports, tunnels = tunneled, ...); fails the load when one
 * does not hold. */
void mld_verify(struct ld *L);

#endif
