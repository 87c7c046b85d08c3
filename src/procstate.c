/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the engine's process state: per-packet votes, --process, evicted flows
 *
 * One per engine, over the shared process table (proctab.c): a record's
 * process view becomes a pair id through a small direct-mapped cache
 * (validated against the table), then a vote in the flow's two candidates;
 * flows that leave the table are folded into a processes aggregate
 * (agg_proc.c); --process patterns select flows.
 */

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "wp/proctab.h"
#include "wp/agg_proc.h"

#define CACHE 64u

struct cache_ent {
    uint64_t h;
    uint16_t pair;
};

struct wp_procstate {
    struct wp_proctab *tab;
    bool own_tab;
    struct wp_proc_counts c;
    struct wp_aggproc *gone; /* evicted flows, created on first use */
    const char *const *patterns;
    size_t n_patterns;
    struct cache_ent cache[CACHE];
    bool set_live; /* a flow's process was set by wp_procstate_set_flow */
};

struct wp_procstate *wp_procstate_new(struct wp_proctab *tab)
{
    struct wp_procstate *ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        return NULL;
    ps->tab = tab;
    if (tab == NULL) {
        ps->tab = wp_proctab_new();
        ps->own_tab = true;
        if (ps->tab == NULL) {
            free(ps);
            return NULL;
        }
    }
    return ps;
}

void wp_procstate_free(struct wp_procstate *ps)
{
    if (ps == NULL)
        return;
    if (ps->own_tab)
        wp_proctab_free(ps->tab);
    wp_aggproc_free(ps->gone);
    free(ps);
}

void wp_procstate_bad(struct wp_procstate *ps, wp_proc_bad bad)
{
    for (unsigned i = 0; i < WP_PMAL_COUNT; i++)
        if (bad & (1u << i))
            ps->c.malformed[i]++;
}

/* The pair id of a view, through the cache. */
static uint16_t view_pair(struct wp_procstate *ps, const struct wp_proc_view *v)
{
    uint64_t h = wp_proctab_view_hash(v);
    struct cache_ent *ce = &ps->cache[h % CACHE];
    if (ce->pair != 0 && ce->h == h && wp_proctab_pair_is_view(ps->tab, ce->pair, v))
        return ce->pair;
    uint16_t pair = wp_proctab_view_pair(ps->tab, v);
    if (pair != 0) {
        ce->h = h;
        ce->pair = pair;
    }
    return pair;
}

void wp_procstate_packet(struct wp_procstate *ps, struct wp_flow *f, unsigned sender,
                         const struct wp_record *rec)
{
    const struct wp_proc_view *v = rec->proc;
    struct wp_proc_view tmp;
    if (v == NULL) {
        if (!wp_proc_linktype(rec->linktype))
            return;
        wp_proc_bad bad = 0;
        bool ok = wp_proc_pktap(rec->data, rec->caplen, &tmp, &bad);
        if (bad)
            wp_procstate_bad(ps, bad);
        if (!ok || (!tmp.has_proc && !tmp.has_eproc))
            return;
        v = &tmp;
    }
    if (v->dir != WP_PDIR_UNKNOWN) {
        unsigned local = v->dir == WP_PDIR_OUT ? sender : 1u - sender;
        f->pbits =
            (uint8_t)((f->pbits & ~WP_FP_LOCAL1) | WP_FP_LOCAL_KNOWN | (local ? WP_FP_LOCAL1 : 0));
    }
    ps->c.packets++;
    uint16_t pair = view_pair(ps, v);
    if (pair == 0) {
        ps->c.malformed[WP_PMAL_processes_dropped]++;
        return;
    }
    wp_flow_proc_vote(f, pair, 1);
}

void wp_procstate_set_filter(struct wp_procstate *ps, const char *const *patterns, size_t n)
{
    ps->patterns = patterns;
    ps->n_patterns = n;
}

bool wp_procstate_filtering(const struct wp_procstate *ps)
{
    return ps->n_patterns > 0;
}

static bool proc_matches(const struct wp_procstate *ps, uint16_t id)
{
    const struct wp_proc_entry *e = wp_proctab_get(ps->tab, id);
    if (e == NULL)
        return false;
    for (size_t i = 0; i < ps->n_patterns; i++) {
        const char *pat = ps->patterns[i];
        char *end;
        long long pid = strtoll(pat, &end, 10);
        if (*pat != '\0' && *end == '\0') {
            if (e->pid == pid)
                return true;
            continue;
        }
        if (e->name != NULL && e->name[0] != '\0' && fnmatch(pat, e->name, 0) == 0)
            return true;
    }
    return false;
}

bool wp_procstate_selected(const struct wp_procstate *ps, const struct wp_flow *f)
{
    if (ps->n_patterns == 0)
        return true;
    uint16_t p, e;
    wp_flow_process(ps->tab, f, &p, &e);
    return proc_matches(ps, p) || proc_matches(ps, e);
}

void wp_procstate_flow_gone(struct wp_procstate *ps, const struct wp_flow *f)
{
    if (f->proc_n[0] == 0 || !wp_procstate_selected(ps, f))
        return; /* flows without a process are counted from the port rows */
    if (ps->gone == NULL && (ps->gone = wp_aggproc_new()) == NULL)
        return;
    (void)wp_aggproc_add_flow(ps->gone, ps->tab, f);
}

int wp_procstate_merge(struct wp_procstate *dst, const struct wp_procstate *src)
{
    dst->c.packets += src->c.packets;
    for (unsigned i = 0; i < WP_PMAL_COUNT; i++)
        dst->c.malformed[i] += src->c.malformed[i];
    if (src->gone == NULL)
        return 0;
    if (dst->gone == NULL && (dst->gone = wp_aggproc_new()) == NULL)
        return -1;
    return wp_aggproc_merge(dst->gone, src->gone);
}

int wp_procstate_load_row(struct wp_procstate *ps, const struct wp_proc_row *r)
{
    if (ps->gone == NULL && (ps->gone = wp_aggproc_new()) == NULL)
        return -1;
    return wp_aggproc_load_row(ps->gone, r);
}

void wp_procstate_load(struct wp_procstate *ps, const struct wp_proc_counts *c, bool live)
{
    ps->c.packets += c->packets;
    for (size_t i = 0; i < WP_PMAL_COUNT; i++)
        ps->c.malformed[i] += c->malformed[i];
    ps->set_live = ps->set_live || live;
}

bool wp_procstate_any(const struct wp_procstate *ps)
{
    return ps->c.packets > 0 || ps->gone != NULL || ps->set_live;
}

const struct wp_proc_counts *wp_procstate_counts(const struct wp_procstate *ps)
{
    return &ps->c;
}

struct wp_proctab *wp_procstate_table(const struct wp_procstate *ps)
{
    return ps->tab;
}

struct wp_aggproc *wp_procstate_snapshot(const struct wp_procstate *ps,
                                         struct wp_flow *const *flows, size_t n)
{
    struct wp_aggproc *a = wp_aggproc_new();
    if (a == NULL)
        return NULL;
    if (ps->gone != NULL && wp_aggproc_merge(a, ps->gone) != 0) {
        wp_aggproc_free(a);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (flows[i]->proc_n[0] != 0 && wp_procstate_selected(ps, flows[i]))
            (void)wp_aggproc_add_flow(a, ps->tab, flows[i]);
    return a;
}

size_t wp_procstate_bytes(const struct wp_procstate *ps)
{
    return sizeof(*ps) + (ps->gone ? wp_aggproc_bytes(ps->gone) : 0);
}

int wp_procstate_set_flow(struct wp_procstate *ps, struct wp_flow *f,
                          const struct wp_proc_desc *proc)
{
    uint16_t id = wp_proctab_intern(ps->tab, proc);
    uint16_t pair = id != 0 ? wp_proctab_pair(ps->tab, id, 0) : 0;
    if (pair == 0) {
        ps->c.malformed[WP_PMAL_processes_dropped]++;
        return -1;
    }
    f->proc_pair[0] = pair;
    f->proc_n[0] = 0xffffu;
    f->proc_pair[1] = 0;
    f->proc_n[1] = 0;
    f->pbits &= (uint8_t)~WP_FP_MIXED;
    wp_flow_set_proc_unknown(f, WP_PU_NONE);
    ps->set_live = true;
    return 0;
}
