/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the CSV report (RFC 4180): one view per run, a header row */

#include <inttypes.h>
#include <string.h>

#include "wp/decode.h"
#include "wp/escape.h"
#include "wp/report.h"
#include "wp/report_proc.h"
#include "wp/report_baseline.h"
#include "wp/report_outcome.h"
#include "wp/util.h"

static void field(FILE *fp, const char *s, bool first)
{
    if (!first)
        fputc(',', fp);
    wp_csv_field(fp, s ? s : "");
}

static void num(FILE *fp, uint64_t v)
{
    fprintf(fp, ",%" PRIu64, v);
}

/* A name-count list as one field: the names, most frequent first, joined
 * by spaces (names never contain blanks). */
static void names_field(FILE *fp, const struct wp_report *r, const struct wp_name_count *v,
                        size_t n)
{
    struct wp_name_count sorted[WP_ROW_NAMES];
    if (n > WP_ROW_NAMES)
        n = WP_ROW_NAMES;
    size_t k = wp_report_sort_names(r, v, n, sorted);
    char buf[WP_ROW_NAMES * 260];
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k && off + 258 < sizeof(buf); i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "",
                                wp_nametab_get(r->names, sorted[i].id));
    field(fp, buf, false);
}

/* Live reports carry the end of their interval as a first column. */
static void lead(FILE *fp, const struct wp_report *r)
{
    if (r->has_interval) {
        char b[48];
        wp_csv_field(fp, wp_fmt_time(b, sizeof(b), r->interval_end_ns, r->nanos));
        fputc(',', fp);
    }
}

static void ports(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    if (o->csv_header)
        fprintf(fp,
                "%stransport,port,service,label,apple_service,packets,bytes,"
                "to_service_packets,to_service_bytes,from_service_packets,from_service_bytes,"
                "unattributed_packets,unattributed_bytes,flows,clients,servers,"
                "apple_packets,apple_bytes,apple_flows,apple_server_flows,names%s\r\n",
                r->has_interval ? "time," : "", wp_outcome_csv_row_head);
    for (size_t i = 0; i < r->n_ports; i++) {
        const struct wp_port_row *p = r->ports[i];
        char t[16], pt[8];
        const struct wp_service *asvc;
        const struct wp_service *svc = wp_report_port_service(r, p, &asvc);
        lead(fp, r);
        field(fp, wp_fmt_transport(t, sizeof(t), p->key.proto), true);
        if (p->key.has_port)
            snprintf(pt, sizeof(pt), "%u", p->key.port);
        else
            pt[0] = '\0';
        field(fp, pt, false);
        field(fp, svc ? svc->name : NULL, false);
        field(fp, svc ? svc->label : NULL, false);
        field(fp, asvc ? asvc->name : NULL, false);
        num(fp, p->to_service.packets + p->from_service.packets + p->unattributed.packets);
        num(fp, p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes);
        num(fp, p->to_service.packets);
        num(fp, p->to_service.bytes);
        num(fp, p->from_service.packets);
        num(fp, p->from_service.bytes);
        num(fp, p->unattributed.packets);
        num(fp, p->unattributed.bytes);
        num(fp, p->flows);
        num(fp, p->clients);
        num(fp, p->servers);
        num(fp, p->apple.packets);
        num(fp, p->apple.bytes);
        num(fp, p->apple_flows);
        num(fp, p->server_apple_flows);
        names_field(fp, r, p->names, p->n_names);
        wp_outcome_csv_row(fp, &p->outcomes);
        fputs("\r\n", fp);
    }
}

static void flows(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    if (o->csv_header)
        fprintf(fp,
                "%stransport,client,client_port,server,server_port,vlan,vlan_inner,apple,"
                "server_apple,service,how,to_server_packets,to_server_bytes,"
                "to_client_packets,to_client_bytes,first,last,tcp_flags,name,name_source,"
                "apple_by,apple_service,apple_doubt%s," WP_REPORT_PROC_CSV_FLOW_HEAD "\r\n",
                r->has_interval ? "time," : "", wp_outcome_csv_flow_head);
    for (size_t i = 0; i < r->n_flows; i++) {
        const struct wp_flow *f = r->flows[i];
        unsigned s = f->server, c = 1u - f->server;
        char t[16], a[64], pt[8];
        bool ports = wp_proto_has_ports(f->key.proto);
        lead(fp, r);
        field(fp, wp_fmt_transport(t, sizeof(t), f->key.proto), true);
        field(fp, wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[c]), false);
        snprintf(pt, sizeof(pt), "%u", f->key.port[c]);
        field(fp, ports ? pt : NULL, false);
        field(fp, wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[s]), false);
        snprintf(pt, sizeof(pt), "%u", f->key.port[s]);
        field(fp, ports ? pt : NULL, false);
        snprintf(pt, sizeof(pt), "%u", f->key.vlan);
        field(fp, f->key.vlan != WP_VLAN_NONE ? pt : NULL, false);
        snprintf(pt, sizeof(pt), "%u", f->key.vlan_inner);
        field(fp, f->key.vlan_inner != WP_VLAN_NONE ? pt : NULL, false);
        field(fp, wp_flow_apple(f) ? "true" : "false", false);
        field(fp, wp_flow_server_apple(f) ? "true" : "false", false);
        const struct wp_service *svc = wp_report_flow_service(r, f);
        field(fp, svc ? svc->name : NULL, false);
        field(fp, wp_how_name(f->how), false);
        num(fp, f->pkts[c]);
        num(fp, f->bytes[c]);
        num(fp, f->pkts[s]);
        num(fp, f->bytes[s]);
        bool have = (f->bits & WP_FB_TIME) != 0;
        char tb[48];
        field(fp, have ? wp_fmt_time(tb, sizeof(tb), f->first_ns, r->nanos) : NULL, false);
        field(fp, have ? wp_fmt_time(tb, sizeof(tb), f->last_ns, r->nanos) : NULL, false);
        char fl[12];
        field(fp,
              f->key.proto == WP_IPPROTO_TCP ? wp_fmt_tcp_flags(fl, sizeof(fl), f->tcp_flags)
                                             : NULL,
              false);
        field(fp, r->names ? wp_nametab_get(r->names, f->name_id) : NULL, false);
        field(fp, f->name_id ? wp_name_src_name(f->name_src) : NULL, false);
        field(fp, f->apple_svc ? wp_apple_by_name(wp_flow_apple_by(f)) : NULL, false);
        field(fp,
              r->applesvc && f->apple_svc ? wp_applesvc_key(r->applesvc, f->apple_svc - 1) : NULL,
              false);
        field(fp, wp_apple_doubt_name(wp_flow_apple_doubt(f)), false);
        wp_outcome_csv_flow(fp, r, f);
        wp_report_proc_csv_flow(fp, r, f);
        fputs("\r\n", fp);
    }
}

static void hosts(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    if (o->csv_header)
        fprintf(fp, "%saddr,apple,packets,bytes,flows,ports,names\r\n",
                r->has_interval ? "time," : "");
    for (size_t i = 0; i < r->n_hosts; i++) {
        const struct wp_host_row *h = r->hosts[i];
        char a[64], list[WP_HOST_MAX_PORTS * 16 + 8];
        lead(fp, r);
        field(fp, wp_fmt_addr(a, sizeof(a), h->family, h->addr), true);
        field(fp, h->apple ? "true" : "false", false);
        num(fp, h->packets);
        num(fp, h->bytes);
        num(fp, h->flows);
        size_t off = 0;
        list[0] = '\0';
        for (uint16_t k = 0; k < h->n_ports && off + 20 < sizeof(list); k++) {
            char pk[32];
            off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", k ? " " : "",
                                    wp_fmt_port_key(pk, sizeof(pk), &h->ports[k]));
        }
        field(fp, list, false);
        struct wp_name_count hv[WP_HOST_NAMES];
        for (uint8_t k = 0; k < h->n_names; k++) {
            hv[k].id = h->names[k];
            hv[k].flows = 0;
        }
        names_field(fp, r, hv, h->n_names);
        fputs("\r\n", fp);
    }
}

static void tunnels(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    if (o->csv_header)
        fprintf(fp, "%skind,transport,a,a_port,b,b_port,packets,bytes\r\n",
                r->has_interval ? "time," : "");
    for (size_t i = 0; i < r->n_tunnels; i++) {
        const struct wp_tunnel_row *t = r->tunnels[i];
        char a[64], tp[16], pt[8];
        bool ip = t->family != 0, ports = ip && wp_proto_has_ports(t->proto);
        lead(fp, r);
        field(fp, wp_tunnel_kind_name(t->kind), true);
        field(fp, ip ? wp_fmt_transport(tp, sizeof(tp), t->proto) : NULL, false);
        for (int k = 0; k < 2; k++) {
            field(fp, ip ? wp_fmt_addr(a, sizeof(a), t->family, t->addr[k]) : NULL, false);
            snprintf(pt, sizeof(pt), "%u", t->port[k]);
            field(fp, ports ? pt : NULL, false);
        }
        num(fp, t->packets);
        num(fp, t->bytes);
        fputs("\r\n", fp);
    }
}

/* One row per counter: the totals of the JSON report, flattened with '.'. */
static void counter(FILE *fp, const struct wp_report *r, const char *name, uint64_t v)
{
    lead(fp, r);
    wp_csv_field(fp, name);
    fprintf(fp, ",%" PRIu64 "\r\n", v);
}

static void totals(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    const struct wp_totals *t = r->totals;
    char name[96];
    if (o->csv_header)
        fprintf(fp, "%scounter,value\r\n", r->has_interval ? "time," : "");
#define WP_X(field, nm) counter(fp, r, nm, t->field);
#define WP_A(field, nm, n, names)                                                                  \
    for (size_t i = 0; i < (n); i++) {                                                             \
        snprintf(name, sizeof(name), "%s.%s", nm, names[i]);                                       \
        counter(fp, r, name, t->field[i]);                                                         \
    }
    WP_TOTALS_LIST(WP_X, WP_A)
#undef WP_X
#undef WP_A
    if (t->dropped_known) {
        counter(fp, r, "dropped", t->dropped);
        counter(fp, r, "dropped_interface", t->ifdropped);
    }
    if (t->attr.state == WP_ATTR_ON) {
#define WP_X(field, name) counter(fp, r, "process_attribution." name, t->attr.field);
        WP_ATTR_TOP_LIST(WP_X) WP_ATTR_UNKNOWN_LIST(WP_X) WP_ATTR_LATE_LIST(WP_X)
#undef WP_X
    }
#define WP_X(field, name, desc) counter(fp, r, "icmp_errors." name, t->outcome.field);
    WP_ICMP_ERROR_COUNTS_LIST(WP_X)
#undef WP_X
#define WP_X(field, desc) counter(fp, r, "names." #field, t->names.field);
    WP_NAME_COUNTS_LIST(WP_X)
#undef WP_X
    counter(fp, r, "complete", r->complete ? 1 : 0);
}

/* One row per time bucket and series of the timeline (timeline.h). */
/* One row of the timeline view. */
static void tl_row(FILE *fp, const struct wp_report *r, const char *ts, const char *kind,
                   const char *transport, const char *port, uint64_t pk, uint64_t by,
                   const char *name)
{
    const struct wp_tl_view *v = &r->timeline;
    lead(fp, r);
    field(fp, ts, true);
    fprintf(fp, ",%lld.%09lld", (long long)(v->bucket_ns / WP_NS_PER_S),
            (long long)(v->bucket_ns % WP_NS_PER_S));
    field(fp, kind, false);
    field(fp, transport, false);
    field(fp, port, false);
    num(fp, pk);
    num(fp, by);
    field(fp, name, false);
    fputs("\r\n", fp);
}

/* One row per time bucket and series of the timeline (timeline.h): the
 * port series, then the Apple services', then the processes'. */
static void timeline(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    const struct wp_tl_view *v = &r->timeline;
    if (o->csv_header)
        fprintf(fp, "%sbucket_start,bucket_seconds,series,transport,port,packets,bytes,name\r\n",
                r->has_interval ? "time," : "");
    for (size_t i = 0; i < v->n_buckets; i++) {
        char ts[48], t[16], pt[8], nb[64];
        wp_fmt_time(ts, sizeof(ts), (int64_t)((uint64_t)v->start_ns + i * (uint64_t)v->bucket_ns),
                    r->nanos); /* unsigned: i buckets may pass 2^63 ns */
        for (size_t j = 0; j < v->n_series; j++) {
            const struct wp_tl_series *s = &v->series[j];
            if (s->other) {
                tl_row(fp, r, ts, "other", NULL, NULL, s->pkts[i], s->byts[i], NULL);
                continue;
            }
            wp_fmt_transport(t, sizeof(t), s->key.proto);
            snprintf(pt, sizeof(pt), "%u", s->key.port);
            tl_row(fp, r, ts, "port", t, s->key.has_port ? pt : NULL, s->pkts[i], s->byts[i], NULL);
        }
        for (size_t j = 0; j < v->n_apple && r->applesvc != NULL; j++)
            tl_row(fp, r, ts, "apple", NULL, NULL, v->apple[j].pkts[i], v->apple[j].byts[i],
                   wp_applesvc_key(r->applesvc, v->apple[j].svc));
        for (size_t j = 0; j < v->n_procs && r->proctab != NULL; j++) {
            const char *name = NULL;
            if (v->procs[j].group != 0) {
                struct wp_proc_row row;
                memset(&row, 0, sizeof(row));
                row.group = v->procs[j].group;
                name = wp_proc_row_name(r->proctab, &row, nb, sizeof(nb));
            }
            tl_row(fp, r, ts, name ? "process" : "other-processes", NULL, NULL, v->procs[j].pkts[i],
                   v->procs[j].byts[i], name);
        }
    }
}

void wp_report_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    if (o->apple) {
        wp_report_apple_csv(fp, r, o);
        return;
    }
    switch (o->view) {
    case WP_VIEW_FLOWS:
        flows(fp, r, o);
        break;
    case WP_VIEW_HOSTS:
        hosts(fp, r, o);
        break;
    case WP_VIEW_TOTALS:
        totals(fp, r, o);
        break;
    case WP_VIEW_TUNNELS:
        tunnels(fp, r, o);
        break;
    case WP_VIEW_PROCESSES:
        wp_report_proc_csv(fp, r, o);
        break;
    case WP_VIEW_BASELINE:
        wp_report_baseline_csv(fp, r, o);
        break;
    case WP_VIEW_TIMELINE:
        timeline(fp, r, o);
        break;
    default:
        ports(fp, r, o);
        break;
    }
}
