/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the processes table: per process name, what its flows used
 *
 * Flows are folded in when they leave the flow table or when a report is
 * made, like the port and host aggregates (agg.c). A flow counts under its
 * app (the effective process when the records name one, else the process);
 * when a different program carried it (a daemon acting for the app), that
 * program is listed as a carrier. Every per-row list is bounded; a full
 * list keeps its first entries and says it was cut.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/agg_proc.h"

struct wp_aggproc {
    struct wp_proc_row **by_group; /* indexed by group id */
    size_t cap_group;
    struct wp_proc_row **rows;
    size_t n_rows, cap_rows;
    struct wp_proc_rest without, other;
};

struct wp_aggproc *wp_aggproc_new(void)
{
    return calloc(1, sizeof(struct wp_aggproc));
}

void wp_aggproc_free(struct wp_aggproc *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n_rows; i++)
        free(a->rows[i]);
    free(a->rows);
    free(a->by_group);
    free(a);
}

static struct wp_proc_row *row_for(struct wp_aggproc *a, uint16_t group)
{
    if (group < a->cap_group && a->by_group[group] != NULL)
        return a->by_group[group];
    if (a->n_rows >= WP_PROC_ROWS)
        return NULL;
    if (group >= a->cap_group) {
        size_t nc = a->cap_group ? a->cap_group : 64;
        while (nc <= group)
            nc *= 2;
        struct wp_proc_row **nb = realloc(a->by_group, nc * sizeof(*nb));
        if (nb == NULL)
            return NULL;
        memset(nb + a->cap_group, 0, (nc - a->cap_group) * sizeof(*nb));
        a->by_group = nb;
        a->cap_group = nc;
    }
    if (a->n_rows == a->cap_rows) {
        size_t nc = a->cap_rows ? a->cap_rows * 2 : 16;
        struct wp_proc_row **nr = realloc(a->rows, nc * sizeof(*nr));
        if (nr == NULL)
            return NULL;
        a->rows = nr;
        a->cap_rows = nc;
    }
    struct wp_proc_row *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->group = group;
    a->rows[a->n_rows++] = r;
    a->by_group[group] = r;
    return r;
}

static void add_pid(struct wp_proc_row *r, int64_t pid)
{
    if (pid < 0)
        return;
    for (unsigned i = 0; i < r->n_pids; i++)
        if (r->pids[i] == pid)
            return;
    if (r->n_pids < WP_PROC_PIDS)
        r->pids[r->n_pids++] = pid;
    else
        r->pids_truncated = true;
}

static void add_port(struct wp_proc_row *r, struct wp_port_key k, uint64_t flows, uint64_t pk,
                     uint64_t by)
{
    for (unsigned i = 0; i < r->n_ports; i++)
        if (memcmp(&r->ports[i].key, &k, sizeof(k)) == 0) {
            r->ports[i].flows += flows;
            r->ports[i].packets += pk;
            r->ports[i].bytes += by;
            return;
        }
    if (r->n_ports >= WP_PROC_PORTS) {
        r->ports_truncated = true;
        return;
    }
    struct wp_proc_port *p = &r->ports[r->n_ports++];
    p->key = k;
    p->flows = flows;
    p->packets = pk;
    p->bytes = by;
}

static void add_server(struct wp_proc_row *r, uint8_t family, const uint8_t *addr, uint64_t flows)
{
    for (unsigned i = 0; i < r->n_servers; i++)
        if (r->servers[i].family == family && memcmp(r->servers[i].addr, addr, 16) == 0) {
            r->servers[i].flows += flows;
            return;
        }
    if (r->n_servers >= WP_PROC_SERVERS) {
        r->servers_truncated = true;
        return;
    }
    r->servers[r->n_servers].family = family;
    memcpy(r->servers[r->n_servers].addr, addr, 16);
    r->servers[r->n_servers++].flows = flows;
}

static void add_name(struct wp_proc_row *r, uint32_t id, uint64_t flows)
{
    if (id == 0)
        return;
    for (unsigned i = 0; i < r->n_names; i++)
        if (r->names[i].id == id) {
            r->names[i].flows += flows;
            return;
        }
    if (r->n_names >= WP_ROW_NAMES) {
        r->names_truncated = true;
        return;
    }
    r->names[r->n_names].id = id;
    r->names[r->n_names++].flows = flows;
}

static void add_apple(struct wp_proc_row *r, int svc, uint64_t flows)
{
    if (svc < 0)
        return;
    for (unsigned i = 0; i < r->n_apple; i++)
        if (r->apple[i].svc == svc) {
            r->apple[i].flows += flows;
            return;
        }
    if (r->n_apple < WP_PROC_APPLE) {
        r->apple[r->n_apple].svc = svc;
        r->apple[r->n_apple++].flows = flows;
    }
}

static void add_carrier(struct wp_proc_row *r, uint16_t group, uint64_t flows)
{
    if (group == 0)
        return;
    for (unsigned i = 0; i < r->n_carriers; i++)
        if (r->carriers[i].group == group) {
            r->carriers[i].flows += flows;
            return;
        }
    if (r->n_carriers < WP_PROC_CARRIERS) {
        r->carriers[r->n_carriers].group = group;
        r->carriers[r->n_carriers++].flows = flows;
    }
}

int wp_aggproc_add_flow(struct wp_aggproc *a, const struct wp_proctab *t, const struct wp_flow *f)
{
    uint64_t pk = f->pkts[0] + f->pkts[1], by = f->bytes[0] + f->bytes[1];
    uint16_t carrier;
    uint16_t app = wp_flow_app(t, f, &carrier);
    const struct wp_proc_entry *e = wp_proctab_get(t, app);
    if (e == NULL) {
        a->without.flows++;
        a->without.packets += pk;
        a->without.bytes += by;
        return 0;
    }
    struct wp_proc_row *r = row_for(a, e->group);
    if (r == NULL) {
        a->other.flows++;
        a->other.packets += pk;
        a->other.bytes += by;
        return a->n_rows >= WP_PROC_ROWS ? 0 : -1;
    }
    unsigned local = wp_flow_local(f);
    r->flows++;
    if (f->pbits & WP_FP_MIXED)
        r->flows_mixed++;
    r->out.packets += f->pkts[local];
    r->out.bytes += f->bytes[local];
    r->in.packets += f->pkts[1 - local];
    r->in.bytes += f->bytes[1 - local];
    r->sources |= (uint8_t)(1u << e->source);
    add_pid(r, e->pid);
    add_port(r, wp_flow_port_key(f), 1, pk, by);
    add_server(r, f->key.family, f->key.addr[f->server], 1);
    add_name(r, f->name_id, 1);
    add_apple(r, (int)f->apple_svc - 1, 1);
    const struct wp_proc_entry *c = wp_proctab_get(t, carrier);
    if (c != NULL)
        add_carrier(r, c->group, 1);
    return 0;
}

/* Add row s to its group's row of dst; -1 when dst has no room for it. */
static int row_add(struct wp_aggproc *dst, const struct wp_proc_row *s)
{
    struct wp_proc_row *r = row_for(dst, s->group);
    if (r == NULL) {
        dst->other.flows += s->flows;
        dst->other.packets += s->out.packets + s->in.packets;
        dst->other.bytes += s->out.bytes + s->in.bytes;
        return dst->n_rows < WP_PROC_ROWS ? -1 : 0;
    }
    r->flows += s->flows;
    r->flows_mixed += s->flows_mixed;
    r->out.packets += s->out.packets;
    r->out.bytes += s->out.bytes;
    r->in.packets += s->in.packets;
    r->in.bytes += s->in.bytes;
    r->sources |= s->sources;
    for (unsigned k = 0; k < s->n_pids; k++)
        add_pid(r, s->pids[k]);
    r->pids_truncated |= s->pids_truncated;
    for (unsigned k = 0; k < s->n_ports; k++)
        add_port(r, s->ports[k].key, s->ports[k].flows, s->ports[k].packets, s->ports[k].bytes);
    r->ports_truncated |= s->ports_truncated;
    for (unsigned k = 0; k < s->n_servers; k++)
        add_server(r, s->servers[k].family, s->servers[k].addr, s->servers[k].flows);
    r->servers_truncated |= s->servers_truncated;
    for (unsigned k = 0; k < s->n_names; k++)
        add_name(r, s->names[k].id, s->names[k].flows);
    r->names_truncated |= s->names_truncated;
    for (unsigned k = 0; k < s->n_apple; k++)
        add_apple(r, s->apple[k].svc, s->apple[k].flows);
    for (unsigned k = 0; k < s->n_carriers; k++)
        add_carrier(r, s->carriers[k].group, s->carriers[k].flows);
    return 0;
}

int wp_aggproc_merge(struct wp_aggproc *dst, const struct wp_aggproc *src)
{
    int rc = 0;
    dst->without.flows += src->without.flows;
    dst->without.packets += src->without.packets;
    dst->without.bytes += src->without.bytes;
    dst->other.flows += src->other.flows;
    dst->other.packets += src->other.packets;
    dst->other.bytes += src->other.bytes;
    for (size_t i = 0; i < src->n_rows; i++)
        if (row_add(dst, src->rows[i]) != 0)
            rc = -1;
    return rc;
}

int wp_aggproc_load_row(struct wp_aggproc *a, const struct wp_proc_row *r)
{
    return row_add(a, r);
}

static const struct wp_proctab *sort_tab;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_port(const void *a, const void *b)
{
    const struct wp_proc_port *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->key.proto != y->key.proto)
        return x->key.proto < y->key.proto ? -1 : 1;
    return (x->key.port > y->key.port) - (x->key.port < y->key.port);
}

static int cmp_server(const void *a, const void *b)
{
    const struct wp_proc_server *x = a, *y = b;
    if (x->flows != y->flows)
        return x->flows > y->flows ? -1 : 1;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return memcmp(x->addr, y->addr, 16);
}

static int cmp_row(const void *a, const void *b)
{
    const struct wp_proc_row *x = *(const struct wp_proc_row *const *)a;
    const struct wp_proc_row *y = *(const struct wp_proc_row *const *)b;
    uint64_t bx = x->out.bytes + x->in.bytes, by = y->out.bytes + y->in.bytes;
    if (bx != by)
        return bx > by ? -1 : 1;
    char n1[64], n2[64];
    int c = strcmp(wp_proc_row_name(sort_tab, x, n1, sizeof(n1)),
                   wp_proc_row_name(sort_tab, y, n2, sizeof(n2)));
    if (c != 0)
        return c;
    return (x->group > y->group) - (x->group < y->group);
}

struct wp_proc_row **wp_aggproc_rows(const struct wp_aggproc *a, const struct wp_proctab *t,
                                     size_t *n)
{
    *n = 0;
    if (a == NULL || a->n_rows == 0)
        return NULL;
    struct wp_proc_row **v = malloc(a->n_rows * sizeof(*v));
    if (v == NULL)
        return NULL;
    memcpy(v, a->rows, a->n_rows * sizeof(*v));
    for (size_t i = 0; i < a->n_rows; i++) {
        struct wp_proc_row *r = v[i];
        qsort(r->pids, r->n_pids, sizeof(r->pids[0]), cmp_i64);
        qsort(r->ports, r->n_ports, sizeof(r->ports[0]), cmp_port);
        qsort(r->servers, r->n_servers, sizeof(r->servers[0]), cmp_server);
    }
    sort_tab = t; /* qsort has no context argument; reports run on one thread */
    qsort(v, a->n_rows, sizeof(*v), cmp_row);
    sort_tab = NULL;
    *n = a->n_rows;
    return v;
}

const struct wp_proc_rest *wp_aggproc_without(const struct wp_aggproc *a)
{
    return &a->without;
}

const struct wp_proc_rest *wp_aggproc_other(const struct wp_aggproc *a)
{
    return &a->other;
}

const char *wp_proc_row_name(const struct wp_proctab *t, const struct wp_proc_row *r, char *buf,
                             size_t n)
{
    const struct wp_proc_entry *e = wp_proctab_get(t, r->group);
    if (e != NULL && e->name != NULL)
        return e->name;
    snprintf(buf, n, "pid %lld", e != NULL ? (long long)e->pid : -1LL);
    return buf;
}

size_t wp_aggproc_bytes(const struct wp_aggproc *a)
{
    return sizeof(*a) + a->cap_group * sizeof(void *) + a->cap_rows * sizeof(void *) +
           a->n_rows * sizeof(struct wp_proc_row);
}
