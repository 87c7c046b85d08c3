/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the processes table: per process name, what its flows used */
#ifndef WP_AGG_PROC_H
#define WP_AGG_PROC_H

#include "wp/common.h"
#include "wp/agg.h"
#include "wp/flow.h"
#include "wp/proctab.h"

#define WP_PROC_PIDS     16   /* pids listed per process */
#define WP_PROC_PORTS    32   /* service ports per process */
#define WP_PROC_SERVERS  16   /* servers per process */
#define WP_PROC_APPLE    8    /* Apple services per process */
#define WP_PROC_CARRIERS 4    /* daemons that carried its traffic */
#define WP_PROC_ROWS     4096 /* rows kept; flows of further processes go to `other` */

struct wp_proc_port {
    struct wp_port_key key;
    uint64_t flows, packets, bytes;
};

struct wp_proc_server {
    uint8_t family;
    uint8_t addr[16];
    uint64_t flows;
};

/* One process (all processes of one name; nameless ones by pid). */
struct wp_proc_row {
    uint16_t group;  /* proctab id whose name (or pid) keys the row */
    uint8_t sources; /* bit (1 << enum wp_proc_source) of each source seen */
    uint64_t flows;
    uint64_t flows_mixed;     /* flows whose packets also named other processes */
    struct wp_counts out, in; /* sent / received by the process's host */
    uint8_t n_pids;
    bool pids_truncated;
    int64_t pids[WP_PROC_PIDS]; /* ascending after wp_aggproc_rows() */
    uint8_t n_ports;
    bool ports_truncated;
    struct wp_proc_port ports[WP_PROC_PORTS];
    uint8_t n_servers;
    bool servers_truncated;
    struct wp_proc_server servers[WP_PROC_SERVERS];
    uint8_t n_names;
    bool names_truncated;
    struct wp_name_count names[WP_ROW_NAMES];
    uint8_t n_apple;
    struct {
        int svc;
        uint64_t flows;
    } apple[WP_PROC_APPLE];
    uint8_t n_carriers;
    struct {
        uint16_t group;
        uint64_t flows;
    } carriers[WP_PROC_CARRIERS];
};

struct wp_aggproc;

struct wp_aggproc *wp_aggproc_new(void);
void wp_aggproc_free(struct wp_aggproc *a);

/* Fold a flow in: under its app's row (wp_flow_app), or in the
 * without-process counts (the engine folds only flows with a process; the
 * report derives the flows without one from the port rows). -1 when memory
 * ran out (then counted in `other`). */
int wp_aggproc_add_flow(struct wp_aggproc *a, const struct wp_proctab *t, const struct wp_flow *f);

/* Add `src` to `dst`; -1 when memory ran out. */
int wp_aggproc_merge(struct wp_aggproc *dst, const struct wp_aggproc *src);

/* --merge (merge.h): add a row a report gave (no flows behind it) to the
 * row of its group; -1 when memory ran out. */
int wp_aggproc_load_row(struct wp_aggproc *a, const struct wp_proc_row *r);

/* The rows sorted by bytes (out + in) descending, then name; the array is
 * the caller's to free, the rows the aggregate's. NULL, *n = 0 when none. */
struct wp_proc_row **wp_aggproc_rows(const struct wp_aggproc *a, const struct wp_proctab *t,
                                     size_t *n);

/* Flows, packets and bytes of flows without a process, and of processes
 * beyond WP_PROC_ROWS. */
struct wp_proc_rest {
    uint64_t flows, packets, bytes;
};
const struct wp_proc_rest *wp_aggproc_without(const struct wp_aggproc *a);
const struct wp_proc_rest *wp_aggproc_other(const struct wp_aggproc *a);

/* The display name of a row: the process name, or "pid N" when nameless
 * (written in buf). */
const char *wp_proc_row_name(const struct wp_proctab *t, const struct wp_proc_row *r, char *buf,
                             size_t n);

size_t wp_aggproc_bytes(const struct wp_aggproc *a);

#endif
