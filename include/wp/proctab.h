/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the process table and the per-flow process of the engine
 *
 * Processes named by packets are interned into one table shared by every
 * engine of a run (like the name table), so that ids mean the same in all
 * of them and merging engines needs no translation. A flow keeps two
 * candidates, each an interned (process, effective process) pair with a
 * packet count; its process is the candidate that carried most of its
 * packets (exact when at most two distinct pairs occur in the flow; with
 * more, the space-saving estimate).
 */
#ifndef WP_PROCTAB_H
#define WP_PROCTAB_H

#include "wp/common.h"
#include "wp/proc.h"
#include "wp/flow.h"
#include "wp/savefile.h"

/* ---- the table ------------------------------------------------------------ */

#define WP_PROC_MAX 65535u /* processes (and pairs) kept; ids 1..WP_PROC_MAX */

/* An interned process. Strings are NUL-terminated copies (cut at 64 bytes
 * for name and user, 512 for path, 128 for container), or NULL when absent. */
struct wp_proc_entry {
    int64_t pid;    /* -1: unknown */
    uint8_t source; /* enum wp_proc_source */
    uint16_t group; /* id of the first process with this name (or, nameless,
                       this pid): the processes table's row */
    const char *name, *path, *user, *container;
};

struct wp_proctab;

/* A new empty table, or NULL when out of memory. Thread-safe: interning
 * takes a lock; reading an entry by an id already obtained does not. */
struct wp_proctab *wp_proctab_new(void);
void wp_proctab_free(struct wp_proctab *t);

/* The id of the process `d` (added when new); 0 when the table is full or
 * memory ran out. */
uint16_t wp_proctab_intern(struct wp_proctab *t, const struct wp_proc_desc *d);

/* The id of the pair (proc, eproc) (either may be 0: none); 0 when full. */
uint16_t wp_proctab_pair(struct wp_proctab *t, uint16_t proc, uint16_t eproc);

/* The entry of process id `id`, or NULL for 0 or an unknown id. */
const struct wp_proc_entry *wp_proctab_get(const struct wp_proctab *t, uint16_t id);

/* The two process ids of pair `pair` (0, 0 for pair 0). */
void wp_proctab_pair_get(const struct wp_proctab *t, uint16_t pair, uint16_t *proc,
                         uint16_t *eproc);

/* Number of processes interned. */
size_t wp_proctab_count(const struct wp_proctab *t);

/* ---- a flow's process ----------------------------------------------------- */

/* The flow's process and effective process ids (0: none), its winning
 * candidate's. */
void wp_flow_process(const struct wp_proctab *t, const struct wp_flow *f, uint16_t *proc,
                     uint16_t *eproc);

/* The process under which the processes table counts a flow (the
 * effective process when known, else the process; 0: none), and the
 * process that carried it for that one (the real process when it is a
 * different program, else 0). */
uint16_t wp_flow_app(const struct wp_proctab *t, const struct wp_flow *f, uint16_t *carrier);

/* The endpoint (0 or 1) on the host of the flow's process: the one the
 * records said sent outbound packets, else the client. */
unsigned wp_flow_local(const struct wp_flow *f);

/* The JSON name of a reason why a flow has no process ("not_local", ...,
 * as the totals counters name them); NULL for WP_PU_NONE or out of range. */
const char *wp_proc_unknown_name(enum wp_proc_unknown u);

/* Add `n` packets of pair `pair` to the flow's candidates. */
void wp_flow_proc_vote(struct wp_flow *f, uint16_t pair, uint32_t n);

/* Add the candidates of `src` (another reader's part of the same flow) to `dst`. */
void wp_flow_proc_merge(struct wp_flow *dst, const struct wp_flow *src);

/* ---- the engine's part ---------------------------------------------------- */

struct wp_aggproc;

/* Counters of process information. */
struct wp_proc_counts {
    uint64_t packets;                  /* frames in a flow whose record named a process */
    uint64_t malformed[WP_PMAL_COUNT]; /* wp/counters.h WP_PROC_MALFORMED_LIST */
};

struct wp_procstate;

/* The engine's process state over the shared table `tab` (borrowed; NULL:
 * the state owns a table of its own). NULL when out of memory. */
struct wp_procstate *wp_procstate_new(struct wp_proctab *tab);
void wp_procstate_free(struct wp_procstate *ps);

/* True when a record of link type `lt` carries a PKTAP header. */
static inline bool wp_proc_linktype(uint32_t lt)
{
    return lt == 258 || lt == 149;
}

/* Count the malformed process information of a record (rec->proc_bad). */
void wp_procstate_bad(struct wp_procstate *ps, wp_proc_bad bad);

/* The packet `rec`, sent by endpoint `sender` of flow `f`, was just
 * counted: vote for its process (from rec->proc, or its PKTAP header). */
void wp_procstate_packet(struct wp_procstate *ps, struct wp_flow *f, unsigned sender,
                         const struct wp_record *rec);

/* Restrict reports to flows whose process or effective process matches
 * one of `patterns` (fnmatch(3) on the name, or a decimal pid); borrowed
 * strings. n = 0: no restriction. */
void wp_procstate_set_filter(struct wp_procstate *ps, const char *const *patterns, size_t n);

/* True when the flow passes the --process restriction (always without one). */
bool wp_procstate_selected(const struct wp_procstate *ps, const struct wp_flow *f);

/* True when a --process restriction is set. */
bool wp_procstate_filtering(const struct wp_procstate *ps);

/* A flow leaves the table: fold it into the evicted-process aggregate
 * (flows without a process are left out: the report counts them from the
 * port rows). */
void wp_procstate_flow_gone(struct wp_procstate *ps, const struct wp_flow *f);

/* Add src's counters and evicted aggregate to dst. -1 when memory ran out. */
int wp_procstate_merge(struct wp_procstate *dst, const struct wp_procstate *src);

const struct wp_proc_counts *wp_procstate_counts(const struct wp_procstate *ps);

/* A record's process view against the table: its hash (for a cache), whether
 * pair id `pair` is that view's (process, effective process), and the pair
 * id of the view, interning both (0 when the table is full). */
uint64_t wp_proctab_view_hash(const struct wp_proc_view *v);
bool wp_proctab_pair_is_view(const struct wp_proctab *t, uint16_t pair,
                             const struct wp_proc_view *v);
uint16_t wp_proctab_view_pair(struct wp_proctab *t, const struct wp_proc_view *v);

/* Set flow f's process to `proc` (interned into the table), replacing its
 * candidates: the live attribution's answer. Returns 0, or -1 when the
 * table is full (counted as processes_dropped). */
int wp_procstate_set_flow(struct wp_procstate *ps, struct wp_flow *f,
                          const struct wp_proc_desc *proc);

/* --merge (merge.h): add counters a report gave; `live`: its flows have
 * processes from live attribution. */
void wp_procstate_load(struct wp_procstate *ps, const struct wp_proc_counts *c, bool live);
/* --merge: a processes row a report counted without listing its flows,
 * kept with the processes of evicted flows. -1 when memory ran out. */
struct wp_proc_row;
int wp_procstate_load_row(struct wp_procstate *ps, const struct wp_proc_row *r);

/* True when any record read so far named a process (the report then has a
 * processes section to build). */
bool wp_procstate_any(const struct wp_procstate *ps);
struct wp_proctab *wp_procstate_table(const struct wp_procstate *ps);

/* A new aggregate of the processes of the evicted flows plus `flows`
 * (the live ones); the caller frees it (wp_aggproc_free). NULL when out of
 * memory. */
struct wp_aggproc *wp_procstate_snapshot(const struct wp_procstate *ps,
                                         struct wp_flow *const *flows, size_t n);

/* Heap bytes held (an estimate). */
size_t wp_procstate_bytes(const struct wp_procstate *ps);

/* The engine's process state (analyze.c). */
struct wp_engine;
struct wp_procstate *wp_engine_procstate(const struct wp_engine *e);

#endif
