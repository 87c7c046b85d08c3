/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the report model: building it from an engine, sorting, service
 * lookups shared by every writer */

#include <stdlib.h>
#include <string.h>

#include "wp/capture.h"
#include "wp/report_model.h"
#include "wp/report_model_proc.h"
#include "wp/util.h"

static uint64_t port_bytes(const struct wp_port_row *r)
{
    return r->to_service.bytes + r->from_service.bytes + r->unattributed.bytes;
}

static uint64_t port_packets(const struct wp_port_row *r)
{
    return r->to_service.packets + r->from_service.packets + r->unattributed.packets;
}

static int cmp_port(const void *a, const void *b)
{
    const struct wp_port_row *x = *(const struct wp_port_row *const *)a;
    const struct wp_port_row *y = *(const struct wp_port_row *const *)b;
    uint64_t bx = port_bytes(x), by = port_bytes(y);
    if (bx != by)
        return bx > by ? -1 : 1;
    uint64_t px = port_packets(x), py = port_packets(y);
    if (px != py)
        return px > py ? -1 : 1;
    if (x->key.proto != y->key.proto)
        return x->key.proto < y->key.proto ? -1 : 1;
    if (x->key.has_port != y->key.has_port)
        return x->key.has_port > y->key.has_port ? -1 : 1;
    return (int)x->key.port - (int)y->key.port;
}

static int cmp_host(const void *a, const void *b)
{
    const struct wp_host_row *x = *(const struct wp_host_row *const *)a;
    const struct wp_host_row *y = *(const struct wp_host_row *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return memcmp(x->addr, y->addr, 16);
}

static int cmp_tunnel(const void *a, const void *b)
{
    const struct wp_tunnel_row *x = *(const struct wp_tunnel_row *const *)a;
    const struct wp_tunnel_row *y = *(const struct wp_tunnel_row *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = memcmp(x->addr, y->addr, sizeof(x->addr));
    if (c != 0)
        return c;
    return memcmp(x->port, y->port, sizeof(x->port));
}

static int cmp_flow(const void *a, const void *b)
{
    const struct wp_flow *x = *(const struct wp_flow *const *)a;
    const struct wp_flow *y = *(const struct wp_flow *const *)b;
    uint64_t bx = x->bytes[0] + x->bytes[1], by = y->bytes[0] + y->bytes[1];
    if (bx != by)
        return bx > by ? -1 : 1;
    return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int cmp_port_key(const void *a, const void *b)
{
    const struct wp_port_key *x = a, *y = b;
    if (x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    if (x->has_port != y->has_port)
        return x->has_port < y->has_port ? -1 : 1;
    return (int)x->port - (int)y->port;
}

void wp_report_sort(struct wp_report *r)
{
    /* a host's ports in transport and port order, not in the order its
     * flows happened to be folded */
    for (size_t i = 0; i < r->n_hosts; i++) {
        /* at most WP_HOST_MAX_PORTS items: an insertion sort, no allocation */
        struct wp_port_key *v = r->hosts[i]->ports;
        for (uint16_t j = 1; j < r->hosts[i]->n_ports; j++) {
            struct wp_port_key k = v[j];
            uint16_t m = j;
            while (m > 0 && cmp_port_key(&v[m - 1], &k) > 0) {
                v[m] = v[m - 1];
                m--;
            }
            v[m] = k;
        }
    }
    if (r->n_ports > 1)
        qsort(r->ports, r->n_ports, sizeof(*r->ports), cmp_port);
    if (r->n_hosts > 1)
        qsort(r->hosts, r->n_hosts, sizeof(*r->hosts), cmp_host);
    if (r->n_tunnels > 1)
        qsort(r->tunnels, r->n_tunnels, sizeof(*r->tunnels), cmp_tunnel);
    if (r->n_flows > 1)
        qsort(r->flows, r->n_flows, sizeof(*r->flows), cmp_flow);
}

const struct wp_service *wp_report_port_service(const struct wp_report *r,
                                                const struct wp_port_row *row,
                                                const struct wp_service **apple_svc)
{
    *apple_svc = NULL;
    if (!row->key.has_port || r->services == NULL)
        return NULL;
    const struct wp_service *general =
        wp_services_lookup(r->services, row->key.proto, row->key.port, false);
    const struct wp_service *a =
        wp_services_lookup(r->services, row->key.proto, row->key.port, true);
    if (a != NULL && !a->apple)
        a = NULL;
    if (a != NULL && row->server_apple_flows > 0)
        *apple_svc = a;
    if (a != NULL && row->flows > 0 && row->server_apple_flows == row->flows)
        return a;
    return general;
}

const struct wp_service *wp_report_flow_service(const struct wp_report *r, const struct wp_flow *f)
{
    if (r->services == NULL || !wp_proto_has_ports(f->key.proto))
        return NULL;
    return wp_services_lookup(r->services, f->key.proto, wp_flow_server_port(f),
                              wp_flow_server_apple(f));
}

/* A name count with its name resolved once, so the comparator needs no
 * table. */
struct named_count {
    const char *name;
    struct wp_name_count c;
};

static int cmp_names(const void *a, const void *b)
{
    const struct named_count *x = a, *y = b;
    if (x->c.flows != y->c.flows)
        return x->c.flows > y->c.flows ? -1 : 1;
    return strcmp(x->name, y->name);
}

size_t wp_report_sort_names(const struct wp_report *r, const struct wp_name_count *v, size_t n,
                            struct wp_name_count *out)
{
    struct named_count tmp[255];
    size_t k = 0;
    if (r->names == NULL)
        return 0;
    if (n > sizeof(tmp) / sizeof(tmp[0]))
        n = sizeof(tmp) / sizeof(tmp[0]);
    for (size_t i = 0; i < n; i++) {
        const char *s = wp_nametab_get(r->names, v[i].id);
        if (s != NULL) {
            tmp[k].name = s;
            tmp[k].c = v[i];
            k++;
        }
    }
    qsort(tmp, k, sizeof(*tmp), cmp_names);
    for (size_t i = 0; i < k; i++)
        out[i] = tmp[i].c;
    return k;
}

static int cmp_apple(const void *a, const void *b)
{
    const struct wp_apple_row *x = *(const struct wp_apple_row *const *)a;
    const struct wp_apple_row *y = *(const struct wp_apple_row *const *)b;
    if (x->svc != y->svc)
        return x->svc < y->svc ? -1 : 1;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->port.proto != y->port.proto)
        return x->port.proto < y->port.proto ? -1 : 1;
    return (int)x->port.port - (int)y->port.port;
}

void wp_report_sort_apple(struct wp_report *r)
{
    if (r->n_apple_rows > 1)
        qsort(r->apple_rows, r->n_apple_rows, sizeof(*r->apple_rows), cmp_apple);
}

bool wp_report_wants_flows(const struct wp_report_opts *o)
{
    return o->format == WP_FMT_TEXT || o->format == WP_FMT_HTML ||
           (o->format == WP_FMT_JSON && !o->no_flows) ||
           (o->format == WP_FMT_CSV && o->view == WP_VIEW_FLOWS) || o->rules >= 0;
}

/* The processes of the report (when any record named one: evicted flows
 * plus the live ones), what flows without a process carried, the
 * processes of each port, and the --baseline names and --new-only cut.
 * Returns 0, or -1 when memory ran out. */
static int build_processes(struct wp_report *r, struct wp_engine *e,
                           const struct wp_report_src *src)
{
    struct wp_procstate *ps = wp_engine_procstate(e);
    struct wp_proc_rest *without = &r->own_without;
    r->proctab = wp_procstate_table(ps);
    r->proc_counts = wp_procstate_counts(ps);
    r->proc_filter = wp_procstate_filtering(ps);
    for (size_t i = 0; i < r->n_ports; i++) {
        const struct wp_port_row *p = r->ports[i];
        without->flows += p->flows;
        without->packets += p->to_service.packets + p->from_service.packets;
        without->bytes += p->to_service.bytes + p->from_service.bytes;
    }
    if (wp_procstate_any(ps)) {
        size_t nf;
        struct wp_flow **fl = wp_engine_flows(e, &nf);
        r->own_procs = wp_procstate_snapshot(ps, fl, nf);
        free(fl);
        if (r->own_procs == NULL)
            return -1;
        r->procs = wp_aggproc_rows(r->own_procs, r->proctab, &r->n_procs);
        r->procs_other = wp_aggproc_other(r->own_procs);
        for (size_t i = 0; i < r->n_procs; i++) {
            const struct wp_proc_row *p = r->procs[i];
            without->flows -= p->flows;
            without->packets -= p->out.packets + p->in.packets;
            without->bytes -= p->out.bytes + p->in.bytes;
        }
        without->flows -= r->procs_other->flows;
        without->packets -= r->procs_other->packets;
        without->bytes -= r->procs_other->bytes;
    }
    r->procs_without = without;
    if (src->baseline != NULL) {
        size_t nf;
        r->baseline = src->baseline;
        r->baseline_files = src->baseline_files;
        r->n_baseline_files = src->n_baseline_files;
        struct wp_flow **all = wp_engine_flows(e, &nf);
        r->bl_names = wp_report_bl_names(all, nf, src->names, &r->n_bl_names);
        free(all);
        if (src->new_only)
            wp_report_baseline_new_only(r);
    }
    r->proc_ports = wp_report_proc_port_index(r, &r->n_proc_ports);
    return 0;
}

int wp_report_build(struct wp_report *r, struct wp_engine *e, const struct wp_report_src *src,
                    bool final)
{
    memset(r, 0, sizeof(*r));
    struct wp_agg *agg = final ? wp_engine_finalize(e) : wp_engine_snapshot(e);
    if (agg == NULL)
        return -1;
    if (!final)
        r->own_agg = agg;
    const uint32_t *lts;
    size_t n_lt = wp_engine_linktypes(e, &lts);
    if (n_lt > WP_MAX_LINKTYPES)
        n_lt = WP_MAX_LINKTYPES;
    for (size_t i = 0; i < n_lt; i++)
        r->link_type_ptr[i] =
            wp_linktype_name(lts[i], r->link_type_buf[i], sizeof(r->link_type_buf[i]));

    r->mode = src->mode;
    r->filter = src->filter;
    r->count = src->count;
    r->sources = src->sources;
    r->n_sources = src->n_sources;
    r->link_types = r->link_type_ptr;
    r->n_link_types = n_lt;
    r->nanos = src->nanos;
    r->complete = src->complete;
    r->errors = src->errors;
    r->n_errors = src->n_errors;
    r->totals = wp_engine_totals(e);
    r->has_interval = src->has_interval;
    r->interval_start_ns = src->interval_start_ns;
    r->interval_end_ns = src->interval_end_ns;
    r->services = src->services;
    r->peers_capped = wp_agg_peers_capped(agg);
    r->peers_estimated = wp_agg_peers_estimated(agg);
    r->peers_loaded = wp_agg_peers_loaded(agg);
    r->names = src->names;
    r->applesvc = src->applesvc;
    r->agg = agg;
    r->ports = wp_agg_ports(agg, &r->n_ports);
    r->hosts = wp_agg_hosts(agg, &r->n_hosts);
    r->tunnels = wp_agg_tunnels(agg, &r->n_tunnels);
    r->hosts_other = wp_agg_hosts_other(agg);
    r->tunnels_other = wp_agg_tunnels_other(agg);
    r->apple_rows = wp_agg_apple_rows(agg, &r->n_apple_rows);
    wp_report_sort_apple(r);
    if (build_processes(r, e, src) != 0) {
        wp_report_release(r);
        return -1;
    }
    if (src->flows)
        r->flows = wp_engine_flows(e, &r->n_flows);
    if (r->flows != NULL && r->proc_filter) {
        struct wp_procstate *ps = wp_engine_procstate(e);
        size_t k = 0;
        for (size_t i = 0; i < r->n_flows; i++)
            if (wp_procstate_selected(ps, r->flows[i]))
                r->flows[k++] = r->flows[i];
        r->n_flows = k;
    }
    if (wp_timeline_view(wp_engine_timeline(e), src->tl_top ? src->tl_top : WP_REPORT_TL_TOP,
                         &r->timeline) != 0) {
        wp_report_release(r);
        return -1;
    }
    wp_report_sort(r);
    return 0;
}

void wp_report_release(struct wp_report *r)
{
    free(r->ports);
    free(r->hosts);
    free(r->tunnels);
    free(r->flows);
    free(r->apple_rows);
    free(r->procs);
    free(r->proc_ports);
    free(r->bl_names);
    wp_timeline_view_release(&r->timeline);
    wp_aggproc_free(r->own_procs);
    wp_agg_free(r->own_agg);
    memset(r, 0, sizeof(*r));
}
