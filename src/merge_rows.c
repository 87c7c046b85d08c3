/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: --merge: what a report counted beyond the flows it listed (the
 * residues of its port, host, Apple, tunnel and process rows), and the
 * identities a report must keep before it is merged (merge_int.h) */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/merge.h"
#include "wp/agg.h"
#include "wp/agg_proc.h"
#include "wp/applesvc.h"
#include "wp/capture.h"
#include "wp/classify.h"
#include "wp/decode.h"
#include "wp/json_read.h"
#include "wp/names.h"
#include "wp/outcome.h"
#include "wp/proc.h"
#include "wp/proctab.h"
#include "wp/timeline.h"
#include "wp/util.h"

#include "merge_int.h"

/* The port row of `key` in the flows-only aggregate, or a zero row. */
static const struct wp_port_row *snap_port(const struct wp_agg *snap, const struct wp_port_key *k)
{
    static const struct wp_port_row zero;
    const struct wp_port_row *r = snap ? wp_agg_port(snap, k) : NULL;
    return r != NULL ? r : &zero;
}

/* Port rows less what the listed flows gave them. */
void mld_load_port_residue(struct ld *L, const struct wp_jval *ports, const struct wp_agg *snap)
{
    struct wp_agg *a = wp_engine_agg(L->e);
    size_t seen = 0; /* rows of ports the listed flows used */
    for (size_t i = 0; ports != NULL && i < ports->n && !L->failed; i++) {
        const struct wp_jval *j = &ports->items[i];
        struct wp_port_row r;
        memset(&r, 0, sizeof(r));
        if (mld_proto_of(L, mld_opt_str(j, "transport"), &r.key.proto) != 0)
            return;
        const struct wp_jval *pv = wp_json_get(j, "port");
        r.key.has_port = pv != NULL && pv->type != WP_J_NULL;
        if (mld_port_of(L, pv, &r.key.port) != 0)
            return;
        const struct wp_port_row *s = snap_port(snap, &r.key);
        struct wp_counts to = mld_counts(L, j, "to_service"), fr = mld_counts(L, j, "from_service");
        r.to_service.packets = mld_sub(L, to.packets, s->to_service.packets);
        r.to_service.bytes = mld_sub(L, to.bytes, s->to_service.bytes);
        r.from_service.packets = mld_sub(L, fr.packets, s->from_service.packets);
        r.from_service.bytes = mld_sub(L, fr.bytes, s->from_service.bytes);
        r.unattributed = mld_counts(L, j, "unattributed");
        r.flows = mld_sub(L, mld_u64(L, j, "flows"), s->flows);
        const struct wp_jval *ap = mld_need(L, j, "apple", WP_J_OBJ);
        r.apple.packets = mld_sub(L, mld_u64(L, ap, "packets"), s->apple.packets);
        r.apple.bytes = mld_sub(L, mld_u64(L, ap, "bytes"), s->apple.bytes);
        r.apple_flows = mld_sub(L, mld_u64(L, ap, "flows"), s->apple_flows);
        r.server_apple_flows = mld_sub(L, mld_u64(L, ap, "server_flows"), s->server_apple_flows);
        mld_load_outcomes(L, j, &r.outcomes, &s->outcomes);
        mld_load_names(L, wp_json_get(j, "names"), r.names, &r.n_names, &r.names_truncated,
                       s->names, s->n_names);
        if (r.flows > 0) {
            r.clients = mld_u64(L, j, "clients");
            r.servers = mld_u64(L, j, "servers");
        }
        bool flowish = r.to_service.packets || r.from_service.packets || r.flows ||
                       r.to_service.bytes || r.from_service.bytes || r.apple.packets ||
                       r.apple_flows || r.server_apple_flows;
        if (L->whole && flowish) {
            mld_bad(L, "%s",
                    "a port row counts more than its flows, and the report lists "
                    "every flow: the report is inconsistent");
            return;
        }
        if (s->flows > 0)
            seen++;
        bool any = flowish || r.unattributed.packets || r.unattributed.bytes;
        if (!L->failed && any && wp_agg_load_port(a, &r) != 0)
            mld_bad(L, "%s", "out of memory");
    }
    /* every port the listed flows used must have its row */
    size_t n = 0;
    struct wp_port_row **rows = snap ? wp_agg_ports(snap, &n) : NULL;
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += rows[i]->flows > 0;
    free(rows);
    if (!L->failed && seen != want)
        mld_bad(L, "%s",
                "a port of the listed flows has no row in \"ports\": the report is "
                "inconsistent");
}

void mld_load_tunnels(struct ld *L, const struct wp_jval *root)
{
    struct wp_agg *a = wp_engine_agg(L->e);
    const struct wp_jval *tun = mld_need(L, root, "tunnels", WP_J_ARR);
    for (size_t i = 0; tun != NULL && i < tun->n && !L->failed; i++) {
        const struct wp_jval *j = &tun->items[i];
        struct wp_tunnel_row t;
        memset(&t, 0, sizeof(t));
        int kind = mld_index_of(mld_opt_str(j, "kind"), wp_tunnel_kind_name, 64);
        if (kind < 0 || kind == 0xff) {
            mld_bad(L, "not a tunnel kind: %s",
                    mld_opt_str(j, "kind") ? mld_opt_str(j, "kind") : "?");
            return;
        }
        t.kind = (uint8_t)kind;
        const char *tr = mld_opt_str(j, "transport");
        if (tr != NULL) {
            uint8_t fam = 0, fb = 0;
            if (mld_proto_of(L, tr, &t.proto) != 0 ||
                mld_addr_of(L, mld_opt_str(j, "a"), &fam, t.addr[0]) ||
                mld_addr_of(L, mld_opt_str(j, "b"), &fb, t.addr[1]) ||
                mld_port_of(L, wp_json_get(j, "a_port"), &t.port[0]) ||
                mld_port_of(L, wp_json_get(j, "b_port"), &t.port[1]))
                return;
            t.family = fam;
        }
        t.packets = mld_u64(L, j, "packets");
        t.bytes = mld_u64(L, j, "bytes");
        if (!L->failed && wp_agg_load_tunnel(a, &t) != 0)
            mld_bad(L, "%s", "out of memory");
    }
    const struct wp_jval *other = mld_need(L, root, "tunnels_other", WP_J_OBJ);
    if (other != NULL) {
        struct wp_tunnel_row t;
        memset(&t, 0, sizeof(t));
        t.kind = 0xff;
        t.packets = mld_u64(L, other, "packets");
        t.bytes = mld_u64(L, other, "bytes");
        if (!L->failed && (t.packets || t.bytes) && wp_agg_load_tunnel(a, &t) != 0)
            mld_bad(L, "%s", "out of memory");
    }
}

/* Host rows less what the listed flows gave them. */
void mld_load_host_residue(struct ld *L, const struct wp_jval *root, const struct wp_agg *snap)
{
    struct wp_agg *a = wp_engine_agg(L->e);
    size_t n_snap = 0;
    struct wp_host_row **sh = snap ? wp_agg_hosts(snap, &n_snap) : NULL;
    const struct wp_jval *hosts = mld_need(L, root, "hosts", WP_J_ARR);
    for (size_t i = 0; hosts != NULL && i < hosts->n && !L->failed; i++) {
        const struct wp_jval *j = &hosts->items[i];
        struct wp_host_row h;
        memset(&h, 0, sizeof(h));
        if (mld_addr_of(L, mld_opt_str(j, "addr"), &h.family, h.addr) != 0)
            break;
        const struct wp_host_row *s = NULL;
        for (size_t k = 0; k < n_snap && s == NULL; k++)
            if (sh[k]->family == h.family && memcmp(sh[k]->addr, h.addr, 16) == 0)
                s = sh[k];
        h.packets = mld_sub(L, mld_u64(L, j, "packets"), s ? s->packets : 0);
        h.bytes = mld_sub(L, mld_u64(L, j, "bytes"), s ? s->bytes : 0);
        h.flows = mld_sub(L, mld_u64(L, j, "flows"), s ? s->flows : 0);
        if (h.flows == 0 && h.packets == 0)
            continue;
        if (L->whole) {
            mld_bad(L, "%s",
                    "a host counts more than the flows to it, and the report lists "
                    "every flow: the report is inconsistent");
            break;
        }
        const struct wp_jval *ap = wp_json_get(j, "apple");
        h.apple = ap != NULL && ap->type == WP_J_BOOL && ap->b;
        const struct wp_jval *tr = wp_json_get(j, "ports_truncated");
        h.ports_truncated = tr != NULL && tr->type == WP_J_BOOL && tr->b;
        struct wp_port_key pk[WP_HOST_MAX_PORTS];
        const struct wp_jval *ports = mld_need(L, j, "ports", WP_J_ARR);
        for (size_t k = 0; ports != NULL && k < ports->n && h.n_ports < WP_HOST_MAX_PORTS; k++) {
            const char *ps = wp_json_str(&ports->items[k]);
            char tb[16] = "";
            unsigned port = 0;
            struct wp_port_key key = {0, 0, 0};
            if (ps != NULL && sscanf(ps, "%15[^/]/%u", tb, &port) == 2 && port < 65536) {
                key.has_port = 1;
                key.port = (uint16_t)port;
            } else if (ps != NULL) {
                snprintf(tb, sizeof(tb), "%s", ps);
            }
            if (mld_proto_of(L, tb, &key.proto) != 0)
                break;
            pk[h.n_ports++] = key;
        }
        h.ports = pk;
        const struct wp_jval *names = wp_json_get(j, "names");
        for (size_t k = 0; names != NULL && k < names->n && h.n_names < WP_HOST_NAMES; k++) {
            const char *nm = wp_json_str(&names->items[k]);
            if (nm != NULL && L->o->nametab != NULL)
                h.names[h.n_names++] = wp_nametab_intern(L->o->nametab, nm);
        }
        if (!L->failed && wp_agg_load_host(a, &h) != 0)
            mld_bad(L, "%s", "out of memory");
    }
    free(sh);
    const struct wp_jval *other = mld_need(L, root, "hosts_other", WP_J_OBJ);
    if (other != NULL && !L->failed) {
        struct wp_host_row h;
        memset(&h, 0, sizeof(h));
        const struct wp_host_row *s = snap ? wp_agg_hosts_other(snap) : NULL;
        h.packets = mld_sub(L, mld_u64(L, other, "packets"), s ? s->packets : 0);
        h.bytes = mld_sub(L, mld_u64(L, other, "bytes"), s ? s->bytes : 0);
        h.flows = mld_sub(L, mld_u64(L, other, "flows"), s ? s->flows : 0);
        if (h.packets || h.flows)
            wp_agg_load_host(a, &h);
    }
}

/* Apple rows (service x port) and per-service facts less the listed flows'. */
void mld_load_apple_residue(struct ld *L, const struct wp_jval *root, const struct wp_agg *snap)
{
    if (L->o->applesvc == NULL)
        return;
    struct wp_agg *a = wp_engine_agg(L->e);
    size_t n_snap = 0;
    struct wp_apple_row **sr = snap ? wp_agg_apple_rows(snap, &n_snap) : NULL;
    const struct wp_jval *apple = mld_need(L, root, "apple", WP_J_ARR);
    for (size_t i = 0; apple != NULL && i < apple->n && !L->failed; i++) {
        const struct wp_jval *j = &apple->items[i];
        int svc = mld_svc_find(L->o->applesvc, mld_opt_str(j, "service"));
        if (svc < 0) {
            mld_bad(L, "not an Apple service whichports knows: %s",
                    mld_opt_str(j, "service") ? mld_opt_str(j, "service") : "?");
            break;
        }
        const struct wp_apple_svc_info *ss = snap ? wp_agg_apple_svc(snap, svc) : NULL;
        struct wp_apple_svc_info si;
        memset(&si, 0, sizeof(si));
        si.svc = svc;
        si.flows = mld_sub(L, mld_u64(L, j, "flows"), ss ? ss->flows : 0);
        const struct wp_jval *ports = mld_need(L, j, "ports", WP_J_ARR);
        for (size_t k = 0; ports != NULL && k < ports->n && !L->failed; k++) {
            const struct wp_jval *pj = &ports->items[k];
            struct wp_apple_row r;
            memset(&r, 0, sizeof(r));
            r.svc = svc;
            if (mld_proto_of(L, mld_opt_str(pj, "transport"), &r.port.proto) != 0)
                break;
            const struct wp_jval *pv = wp_json_get(pj, "port");
            r.port.has_port = pv != NULL && pv->type != WP_J_NULL;
            if (mld_port_of(L, pv, &r.port.port) != 0)
                break;
            const struct wp_apple_row *s = NULL;
            for (size_t m = 0; m < n_snap && s == NULL; m++)
                if (sr[m]->svc == svc && memcmp(&sr[m]->port, &r.port, sizeof(r.port)) == 0)
                    s = sr[m];
            static const struct wp_oc_row zero_oc;
            r.packets = mld_sub(L, mld_u64(L, pj, "packets"), s ? s->packets : 0);
            r.bytes = mld_sub(L, mld_u64(L, pj, "bytes"), s ? s->bytes : 0);
            r.flows = mld_sub(L, mld_u64(L, pj, "flows"), s ? s->flows : 0);
            mld_load_outcomes(L, pj, &r.outcomes, s ? &s->outcomes : &zero_oc);
            if (!L->failed && (r.flows || r.packets) && wp_agg_load_apple(a, &r) != 0)
                mld_bad(L, "%s", "out of memory");
        }
        if (si.flows > 0) {
            mld_load_names(L, wp_json_get(j, "names"), si.names, &si.n_names, &si.names_truncated,
                           ss ? ss->names : NULL, ss ? ss->n_names : 0);
            const struct wp_jval *sv = wp_json_get(j, "servers");
            for (size_t k = 0; sv != NULL && k < sv->n && si.n_servers < WP_APPLE_SERVERS; k++) {
                uint8_t fam;
                if (mld_addr_of(L, wp_json_str(&sv->items[k]), &fam, si.servers[si.n_servers].addr))
                    break;
                si.servers[si.n_servers++].family = fam;
            }
            wp_agg_load_svc(a, &si);
        }
    }
    free(sr);
}

/* The group of a process named in a processes row (name, or "pid N"). */
static uint16_t proc_group_of(struct ld *L, const char *name, int64_t pid, uint8_t source)
{
    struct wp_proctab *pt = wp_procstate_table(wp_engine_procstate(L->e));
    struct wp_proc_desc d;
    memset(&d, 0, sizeof(d));
    d.pid = pid;
    d.source = source ? source : WP_PSRC_PCAPNG_PIB;
    if (name != NULL) {
        d.name.p = name;
        d.name.len = (uint16_t)(strlen(name) > 64 ? 64 : strlen(name));
    }
    const struct wp_proc_entry *pe = wp_proctab_get(pt, wp_proctab_intern(pt, &d));
    return pe != NULL ? pe->group : 0;
}

/* Processes rows less what the listed flows gave them. */
void mld_load_proc_residue(struct ld *L, const struct wp_jval *root)
{
    const struct wp_jval *procs = mld_need(L, root, "processes", WP_J_ARR);
    if (procs == NULL || procs->n == 0)
        return;
    struct wp_procstate *ps = wp_engine_procstate(L->e);
    struct wp_proctab *pt = wp_procstate_table(ps);
    size_t nf = 0, ns = 0;
    struct wp_flow **fl = wp_engine_flows(L->e, &nf);
    struct wp_aggproc *snap = wp_procstate_snapshot(ps, fl, nf);
    free(fl);
    struct wp_proc_row **sr = snap ? wp_aggproc_rows(snap, pt, &ns) : NULL;
    for (size_t i = 0; i < procs->n && !L->failed; i++) {
        const struct wp_jval *j = &procs->items[i];
        struct wp_proc_row r;
        memset(&r, 0, sizeof(r));
        const struct wp_jval *srcs = mld_need(L, j, "sources", WP_J_ARR);
        uint8_t first_src = 0;
        for (size_t k = 0; srcs != NULL && k < srcs->n; k++) {
            int sx = mld_index_of(wp_json_str(&srcs->items[k]), mld_src_name, WP_PSRC_COUNT);
            if (sx <= 0) {
                mld_bad(L, "%s", "a process's source is not one whichports writes");
                break;
            }
            r.sources |= (uint8_t)(1u << sx);
            if (first_src == 0)
                first_src = (uint8_t)sx;
        }
        const struct wp_jval *pids = mld_need(L, j, "pids", WP_J_ARR);
        int64_t pid0 = -1;
        for (size_t k = 0; pids != NULL && k < pids->n && r.n_pids < WP_PROC_PIDS; k++) {
            int64_t pid;
            if (!wp_json_i64(&pids->items[k], &pid)) {
                mld_bad(L, "%s", "a pid is not a number");
                break;
            }
            if (k == 0)
                pid0 = pid;
            r.pids[r.n_pids++] = pid;
        }
        const char *name = mld_opt_str(j, "name");
        r.group = proc_group_of(L, name, name ? -1 : pid0, first_src);
        if (r.group == 0 || L->failed)
            break;
        const struct wp_proc_row *s = NULL;
        for (size_t k = 0; k < ns && s == NULL; k++)
            if (sr[k]->group == r.group)
                s = sr[k];
        static const struct wp_proc_row zero;
        if (s == NULL)
            s = &zero;
        r.flows = mld_sub(L, mld_u64(L, j, "flows"), s->flows);
        r.flows_mixed = mld_sub(L, mld_u64(L, j, "flows_mixed"), s->flows_mixed);
        struct wp_counts out = mld_counts(L, j, "sent"), in = mld_counts(L, j, "received");
        r.out.packets = mld_sub(L, out.packets, s->out.packets);
        r.out.bytes = mld_sub(L, out.bytes, s->out.bytes);
        r.in.packets = mld_sub(L, in.packets, s->in.packets);
        r.in.bytes = mld_sub(L, in.bytes, s->in.bytes);
        if (r.flows == 0 && r.out.packets == 0 && r.in.packets == 0)
            continue;
        const struct wp_jval *ports = mld_need(L, j, "ports", WP_J_ARR);
        for (size_t k = 0; ports != NULL && k < ports->n && r.n_ports < WP_PROC_PORTS; k++) {
            const struct wp_jval *q = &ports->items[k];
            struct wp_proc_port pp;
            memset(&pp, 0, sizeof(pp));
            if (mld_proto_of(L, mld_opt_str(q, "transport"), &pp.key.proto) != 0)
                break;
            const struct wp_jval *pv = wp_json_get(q, "port");
            pp.key.has_port = pv != NULL && pv->type != WP_J_NULL;
            if (mld_port_of(L, pv, &pp.key.port) != 0)
                break;
            pp.flows = mld_u64(L, q, "flows");
            pp.packets = mld_u64(L, q, "packets");
            pp.bytes = mld_u64(L, q, "bytes");
            for (unsigned m = 0; m < s->n_ports; m++) {
                if (memcmp(&s->ports[m].key, &pp.key, sizeof(pp.key)) == 0) {
                    pp.flows = mld_sub(L, pp.flows, s->ports[m].flows);
                    pp.packets = mld_sub(L, pp.packets, s->ports[m].packets);
                    pp.bytes = mld_sub(L, pp.bytes, s->ports[m].bytes);
                }
            }
            if (pp.flows || pp.packets)
                r.ports[r.n_ports++] = pp;
        }
        const struct wp_jval *sv = mld_need(L, j, "servers", WP_J_ARR);
        for (size_t k = 0; sv != NULL && k < sv->n && r.n_servers < WP_PROC_SERVERS; k++) {
            struct wp_proc_server ps1;
            memset(&ps1, 0, sizeof(ps1));
            if (mld_addr_of(L, mld_opt_str(&sv->items[k], "address"), &ps1.family, ps1.addr) != 0)
                break;
            ps1.flows = mld_u64(L, &sv->items[k], "flows");
            for (unsigned m = 0; m < s->n_servers; m++)
                if (s->servers[m].family == ps1.family &&
                    memcmp(s->servers[m].addr, ps1.addr, 16) == 0)
                    ps1.flows = mld_sub(L, ps1.flows, s->servers[m].flows);
            if (ps1.flows)
                r.servers[r.n_servers++] = ps1;
        }
        mld_load_names(L, wp_json_get(j, "names"), r.names, &r.n_names, &r.names_truncated,
                       s->names, s->n_names);
        const struct wp_jval *ap = mld_need(L, j, "apple_services", WP_J_ARR);
        for (size_t k = 0; ap != NULL && k < ap->n && r.n_apple < WP_PROC_APPLE; k++) {
            int svc = L->o->applesvc
                          ? mld_svc_find(L->o->applesvc, mld_opt_str(&ap->items[k], "service"))
                          : -1;
            uint64_t f = mld_u64(L, &ap->items[k], "flows");
            for (unsigned m = 0; m < s->n_apple; m++)
                if (s->apple[m].svc == svc)
                    f = mld_sub(L, f, s->apple[m].flows);
            if (svc >= 0 && f > 0) {
                r.apple[r.n_apple].svc = svc;
                r.apple[r.n_apple++].flows = f;
            }
        }
        const struct wp_jval *cb = mld_need(L, j, "carried_by", WP_J_ARR);
        for (size_t k = 0; cb != NULL && k < cb->n && r.n_carriers < WP_PROC_CARRIERS; k++) {
            const char *cn = mld_opt_str(&cb->items[k], "name");
            int64_t cpid = -1;
            if (cn != NULL && strncmp(cn, "pid ", 4) == 0)
                cpid = strtoll(cn + 4, NULL, 10);
            uint16_t g = proc_group_of(L, cpid >= 0 ? NULL : cn, cpid, first_src);
            uint64_t f = mld_u64(L, &cb->items[k], "flows");
            for (unsigned m = 0; m < s->n_carriers; m++)
                if (s->carriers[m].group == g)
                    f = mld_sub(L, f, s->carriers[m].flows);
            if (g != 0 && f > 0) {
                r.carriers[r.n_carriers].group = g;
                r.carriers[r.n_carriers++].flows = f;
            }
        }
        if (!L->failed && wp_procstate_load_row(ps, &r) != 0)
            mld_bad(L, "%s", "out of memory");
    }
    free(sr);
    wp_aggproc_free(snap);
}

/* The identities every report keeps (docs/output.md): every frame in one
 * place, every flow in one port row and one server host. A report that
 * breaks one was edited or damaged: refused, not merged into wrong sums. */
void mld_verify(struct ld *L)
{
    const struct wp_totals *t = wp_engine_totals(L->e);
    struct wp_agg *a = wp_engine_snapshot(L->e);
    if (a == NULL) {
        mld_bad(L, "%s", "out of memory");
        return;
    }
    size_t n = 0;
    struct wp_port_row **ports = wp_agg_ports(a, &n);
    uint64_t pk = 0, by = 0, flow_pk = 0, flows = 0, x = 0;
    for (size_t i = 0; i < n; i++) {
        const struct wp_port_row *r = ports[i];
        mld_add(L, &pk, r->to_service.packets);
        mld_add(L, &pk, r->from_service.packets);
        mld_add(L, &pk, r->unattributed.packets);
        mld_add(L, &by, r->to_service.bytes);
        mld_add(L, &by, r->from_service.bytes);
        mld_add(L, &by, r->unattributed.bytes);
        mld_add(L, &flow_pk, r->to_service.packets);
        mld_add(L, &flow_pk, r->from_service.packets);
        mld_add(L, &flows, r->flows);
        if (r->apple_flows > r->flows || r->server_apple_flows > r->apple_flows ||
            r->clients > r->flows || r->servers > r->flows)
            mld_bad(L, "%s", "a port row has more Apple flows, clients or servers than flows");
    }
    free(ports);
    uint64_t whole = pk, whole_by = by;
    mld_add(L, &whole, t->other_packets);
    mld_add(L, &whole, t->undecodable_packets);
    mld_add(L, &whole_by, t->other_bytes);
    mld_add(L, &whole_by, t->undecodable_bytes);
    if (!L->failed &&
        (whole != t->packets || whole_by != t->bytes || pk != t->ip_packets || by != t->ip_bytes))
        mld_bad(L, "%s", "ports, other and undecodable packets do not add up to the totals");
    for (int i = 0; i < WP_TRUNC_COUNT; i++)
        mld_add(L, &x, t->truncated_at[i]);
    if (!L->failed &&
        (x != t->truncated || flows != t->flows || t->fragments_unattributed > t->fragments ||
         t->unsupported_packets > t->other_packets || t->flows_evicted > t->flows))
        mld_bad(L, "%s", "the totals do not add up (truncated, flows, fragments)");
    struct wp_host_row **hosts = wp_agg_hosts(a, &n);
    uint64_t hpk = 0, hfl = 0;
    for (size_t i = 0; i < n; i++) {
        mld_add(L, &hpk, hosts[i]->packets);
        mld_add(L, &hfl, hosts[i]->flows);
    }
    free(hosts);
    mld_add(L, &hpk, wp_agg_hosts_other(a)->packets);
    mld_add(L, &hfl, wp_agg_hosts_other(a)->flows);
    if (!L->failed && (hpk != flow_pk || hfl != flows))
        mld_bad(L, "%s", "the server hosts do not add up to the port rows");
    struct wp_tunnel_row **tun = wp_agg_tunnels(a, &n);
    uint64_t tpk = 0;
    for (size_t i = 0; i < n; i++)
        mld_add(L, &tpk, tun[i]->packets);
    free(tun);
    mld_add(L, &tpk, wp_agg_tunnels_other(a)->packets);
    if (!L->failed && tpk != t->tunneled)
        mld_bad(L, "%s", "the tunnel rows do not add up to totals.tunneled");
    /* the timeline: each port series is its row, all of them and untimed
     * are the port rows, and its buckets cover the capture's times */
    struct wp_tl_view v;
    if (!L->failed && wp_timeline_view(wp_engine_timeline(L->e), WP_TL_MAX_SERIES, &v) == 0) {
        uint64_t sp = v.untimed.packets, sb = v.untimed.bytes;
        for (size_t i = 0; i < v.n_series && !L->failed; i++) {
            const struct wp_tl_series *ser = &v.series[i];
            mld_add(L, &sp, ser->packets);
            mld_add(L, &sb, ser->bytes);
            const struct wp_port_row *r = ser->other ? NULL : wp_agg_port(a, &ser->key);
            uint64_t rp =
                r ? r->to_service.packets + r->from_service.packets + r->unattributed.packets : 0;
            uint64_t rb =
                r ? r->to_service.bytes + r->from_service.bytes + r->unattributed.bytes : 0;
            if (!ser->other && (rp != ser->packets || rb != ser->bytes))
                mld_bad(L, "%s", "a timeline series does not equal its port row");
        }
        if (!L->failed && (sp != pk || sb != by))
            mld_bad(L, "%s", "the timeline's series do not add up to the port rows");
        if (!L->failed && v.n_buckets > 0 && t->have_ts && v.untimed.packets == 0 &&
            (v.start_ns > t->first_ns ||
             (t->last_ns - v.start_ns) / v.bucket_ns >= (int64_t)v.n_buckets))
            mld_bad(L, "%s",
                    "the timeline's buckets do not cover the capture's first and last "
                    "times");
        wp_timeline_view_release(&v);
    }
    wp_agg_free(a);
}
