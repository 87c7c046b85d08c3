/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the JSON report (schema whichports/4, docs/output.md) */

#include <inttypes.h>
#include <string.h>

#include "wp/decode.h"
#include "wp/escape.h"
#include "wp/report.h"
#include "wp/report_proc.h"
#include "wp/report_baseline.h"
#include "wp/report_outcome.h"
#include "wp/util.h"

struct jw {
    FILE *fp;
    const char *nl;   /* "\n" pretty, "" for JSON Lines */
};

static void key(const struct jw *w, const char *k)
{
    wp_json_string(w->fp, k);
    fputs(": ", w->fp);
}

static void u64(FILE *fp, uint64_t v)
{
    fprintf(fp, "%" PRIu64, v);
}

static void counts(const struct jw *w, const char *k, const struct wp_counts *c)
{
    key(w, k);
    fprintf(w->fp, "{\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", c->packets, c->bytes);
}

static void str_or_null(FILE *fp, const char *s)
{
    if (s == NULL)
        fputs("null", fp);
    else
        wp_json_string(fp, s);
}

static void time_or_null(FILE *fp, bool have, int64_t ns, bool nanos)
{
    if (!have) {
        fputs("null", fp);
        return;
    }
    char b[48];
    wp_json_string(fp, wp_fmt_time(b, sizeof(b), ns, nanos));
}

/* {"key": n, ...} for an array of counters named by names[]. */
static void counter_object(const struct jw *w, const uint64_t *v, size_t n,
                           const char *const *names)
{
    fputc('{', w->fp);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", w->fp);
        key(w, names[i]);
        u64(w->fp, v[i]);
    }
    fputc('}', w->fp);
}

static void totals(const struct jw *w, const struct wp_report *r)
{
    FILE *fp = w->fp;
    const struct wp_totals *t = r->totals;
    key(w, "totals");
    fputc('{', fp);
    const char *sep = "";
#define WP_X(field, name)                                                                          \
    fputs(sep, fp);                                                                                \
    key(w, name);                                                                                  \
    u64(fp, t->field);                                                                             \
    sep = ", ";
#define WP_A(field, name, n, names)                                                                \
    fputs(sep, fp);                                                                                \
    key(w, name);                                                                                  \
    counter_object(w, t->field, n, names);                                                         \
    sep = ", ";
    WP_TOTALS_LIST(WP_X, WP_A)
#undef WP_X
#undef WP_A
    fputs(", \"first\": ", fp);
    time_or_null(fp, t->have_ts, t->first_ns, r->nanos);
    fputs(", \"last\": ", fp);
    time_or_null(fp, t->have_ts, t->last_ns, r->nanos);
    fputs(", \"dropped\": ", fp);
    if (t->dropped_known)
        u64(fp, t->dropped);
    else
        fputs("null", fp);
    fputs(", \"dropped_interface\": ", fp);
    if (t->dropped_known)
        u64(fp, t->ifdropped);
    else
        fputs("null", fp);
    const struct wp_attr_counts *ac = &t->attr;
    if (ac->state != WP_ATTR_NONE) { /* live captures only */
        fprintf(fp, ", \"process_attribution\": {\"state\": \"%s\", \"reason\": ",
                ac->state == WP_ATTR_ON ? "on" : "off");
        if (ac->state == WP_ATTR_OFF && ac->off_reason != NULL)
            wp_json_string(fp, ac->off_reason);
        else
            fputs("null", fp);
#define WP_X(field, name) fprintf(fp, ", \"" name "\": %" PRIu64, ac->field);
        WP_ATTR_TOP_LIST(WP_X)
        fputs(", \"unknown\": {", fp);
        const char *asep = "";
#define WP_Y(field, name)                                                                          \
    fprintf(fp, "%s\"" name "\": %" PRIu64, asep, ac->field);                                      \
    asep = ", ";
        WP_ATTR_UNKNOWN_LIST(WP_Y)
#undef WP_Y
        fputc('}', fp);
        WP_ATTR_LATE_LIST(WP_X)
#undef WP_X
        fputc('}', fp);
    }
    fputs(", \"names\": {", fp);
    sep = "";
#define WP_X(field, desc)                                                                          \
    fputs(sep, fp);                                                                                \
    key(w, #field);                                                                                \
    u64(fp, t->names.field);                                                                       \
    sep = ", ";
    WP_NAME_COUNTS_LIST(WP_X)
#undef WP_X
    fputs("}", fp);
    wp_outcome_json_totals(fp, &t->outcome);
    fputs("}", fp);
}

/* "names": [{"name": ..., "flows": N}, ...] from a bounded count list. */
static void name_counts(FILE *fp, const struct wp_report *r, const struct wp_name_count *v,
                        uint8_t n)
{
    struct wp_name_count sorted[WP_ROW_NAMES];
    size_t k = wp_report_sort_names(r, v, n, sorted);
    fputs(", \"names\": [", fp);
    for (size_t i = 0; i < k; i++) {
        fputs(i ? ", {\"name\": " : "{\"name\": ", fp);
        wp_json_string(fp, wp_nametab_get(r->names, sorted[i].id));
        fprintf(fp, ", \"flows\": %" PRIu64 "}", sorted[i].flows);
    }
    fputs("]", fp);
}

static void port_row(const struct jw *w, const struct wp_report *r, const struct wp_port_row *p)
{
    FILE *fp = w->fp;
    char t[16];
    const struct wp_service *asvc;
    const struct wp_service *svc = wp_report_port_service(r, p, &asvc);
    fputs("{", fp);
    key(w, "transport");
    wp_json_string(fp, wp_fmt_transport(t, sizeof(t), p->key.proto));
    fputs(", \"port\": ", fp);
    if (p->key.has_port)
        fprintf(fp, "%u", p->key.port);
    else
        fputs("null", fp);
    fputs(", \"service\": ", fp);
    str_or_null(fp, svc ? svc->name : NULL);
    fputs(", \"label\": ", fp);
    str_or_null(fp, svc ? svc->label : NULL);
    fputs(", \"apple_service\": ", fp);
    str_or_null(fp, asvc ? asvc->name : NULL);
    uint64_t pk = p->to_service.packets + p->from_service.packets + p->unattributed.packets;
    uint64_t by = p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes;
    fprintf(fp, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", ", pk, by);
    counts(w, "to_service", &p->to_service);
    fputs(", ", fp);
    counts(w, "from_service", &p->from_service);
    fputs(", ", fp);
    counts(w, "unattributed", &p->unattributed);
    fprintf(fp, ", \"flows\": %" PRIu64 ", \"clients\": %" PRIu64 ", \"servers\": %" PRIu64,
            p->flows, p->clients, p->servers);
    fprintf(fp, ", \"apple\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
                ", \"flows\": %" PRIu64 ", \"server_flows\": %" PRIu64 "}",
            p->apple.packets, p->apple.bytes, p->apple_flows, p->server_apple_flows);
    wp_outcome_json_row(fp, &p->outcomes);
    name_counts(fp, r, p->names, p->n_names);
    wp_report_proc_json_port(fp, r, p);
    wp_report_baseline_json_port(fp, r, p);
    fputs("}", fp);
}

static void flow_row(const struct jw *w, const struct wp_report *r, const struct wp_flow *f,
                     bool nanos)
{
    FILE *fp = w->fp;
    char t[16], a[64];
    unsigned s = f->server, c = 1u - f->server;
    const struct wp_service *svc = wp_report_flow_service(r, f);
    bool ports = wp_proto_has_ports(f->key.proto);
    fputs("{", fp);
    key(w, "transport");
    wp_json_string(fp, wp_fmt_transport(t, sizeof(t), f->key.proto));
    fputs(", \"client\": ", fp);
    wp_json_string(fp, wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[c]));
    fputs(", \"client_port\": ", fp);
    if (ports)
        fprintf(fp, "%u", f->key.port[c]);
    else
        fputs("null", fp);
    fputs(", \"server\": ", fp);
    wp_json_string(fp, wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[s]));
    fputs(", \"server_port\": ", fp);
    if (ports)
        fprintf(fp, "%u", f->key.port[s]);
    else
        fputs("null", fp);
    fputs(", \"vlan\": ", fp);
    if (f->key.vlan != WP_VLAN_NONE)
        fprintf(fp, "%u", f->key.vlan);
    else
        fputs("null", fp);
    fputs(", \"vlan_inner\": ", fp);
    if (f->key.vlan_inner != WP_VLAN_NONE)
        fprintf(fp, "%u", f->key.vlan_inner);
    else
        fputs("null", fp);
    /* Apple's by address or by name, as port rows count it (apple_by says which) */
    fprintf(fp, ", \"apple\": %s, \"server_apple\": %s", wp_flow_apple(f) ? "true" : "false",
            wp_flow_server_apple(f) ? "true" : "false");
    fputs(", \"service\": ", fp);
    str_or_null(fp, svc ? svc->name : NULL);
    fputs(", \"how\": ", fp);
    wp_json_string(fp, wp_how_name(f->how));
    fprintf(fp, ", \"to_server\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
            f->pkts[c], f->bytes[c]);
    fprintf(fp, ", \"to_client\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
            f->pkts[s], f->bytes[s]);
    bool have = (f->bits & WP_FB_TIME) != 0;
    fputs(", \"first\": ", fp);
    time_or_null(fp, have, f->first_ns, nanos);
    fputs(", \"last\": ", fp);
    time_or_null(fp, have, f->last_ns, nanos);
    fputs(", \"tcp_flags\": ", fp);
    if (f->key.proto == WP_IPPROTO_TCP) {
        char fl[12];
        wp_json_string(fp, wp_fmt_tcp_flags(fl, sizeof(fl), f->tcp_flags));
    } else {
        fputs("null", fp);
    }
    fputs(", \"name\": ", fp);
    str_or_null(fp, r->names ? wp_nametab_get(r->names, f->name_id) : NULL);
    fputs(", \"name_source\": ", fp);
    str_or_null(fp, f->name_id ? wp_name_src_name(f->name_src) : NULL);
    fputs(", \"apple_by\": ", fp);
    str_or_null(fp, f->apple_svc ? wp_apple_by_name(wp_flow_apple_by(f)) : NULL);
    fputs(", \"apple_service\": ", fp);
    str_or_null(fp, r->applesvc && f->apple_svc ? wp_applesvc_key(r->applesvc, f->apple_svc - 1)
                                                : NULL);
    fputs(", \"apple_doubt\": ", fp);
    str_or_null(fp, wp_apple_doubt_name(wp_flow_apple_doubt(f)));
    wp_outcome_json_flow(fp, r, f);
    wp_report_proc_json_flow(fp, r, f);
    /* opaque: what --merge needs to combine this flow with another part of it */
    fprintf(fp, ", \"state\": \"%02x%02x%02x%02x%02x\"}", f->oc.ep, f->oc.seen, f->oc.st,
            f->oc.code, f->pbits);
}

static void host_row(const struct jw *w, const struct wp_report *r, const struct wp_host_row *h)
{
    FILE *fp = w->fp;
    char a[64], pk[32];
    fputs("{\"addr\": ", fp);
    wp_json_string(fp, wp_fmt_addr(a, sizeof(a), h->family, h->addr));
    fprintf(fp, ", \"apple\": %s, \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
                ", \"flows\": %" PRIu64 ", \"ports\": [",
            h->apple ? "true" : "false", h->packets, h->bytes, h->flows);
    for (uint16_t i = 0; i < h->n_ports; i++) {
        fputs(i ? ", " : "", fp);
        wp_json_string(fp, wp_fmt_port_key(pk, sizeof(pk), &h->ports[i]));
    }
    fprintf(fp, "], \"ports_truncated\": %s, \"names\": [", h->ports_truncated ? "true" : "false");
    struct wp_name_count hv[WP_HOST_NAMES], sorted[WP_HOST_NAMES];
    for (uint8_t i = 0; i < h->n_names; i++) {
        hv[i].id = h->names[i];
        hv[i].flows = 0;
    }
    size_t k = wp_report_sort_names(r, hv, h->n_names, sorted);
    for (size_t i = 0; i < k; i++) {
        fputs(i ? ", " : "", fp);
        wp_json_string(fp, wp_nametab_get(r->names, sorted[i].id));
    }
    fputs("]", fp);
    wp_report_baseline_json_host(fp, r, h);
    fputs("}", fp);
}

static void tunnel_row(const struct jw *w, const struct wp_tunnel_row *t)
{
    FILE *fp = w->fp;
    char a[64], tr[16];
    fputs("{\"kind\": ", fp);
    wp_json_string(fp, wp_tunnel_kind_name(t->kind));
    if (t->family != 0) {
        bool ports = wp_proto_has_ports(t->proto);
        fputs(", \"transport\": ", fp);
        wp_json_string(fp, wp_fmt_transport(tr, sizeof(tr), t->proto));
        for (int i = 0; i < 2; i++) {
            fprintf(fp, ", \"%s\": ", i ? "b" : "a");
            wp_json_string(fp, wp_fmt_addr(a, sizeof(a), t->family, t->addr[i]));
            fprintf(fp, ", \"%s_port\": ", i ? "b" : "a");
            if (ports)
                fprintf(fp, "%u", t->port[i]);
            else
                fputs("null", fp);
        }
    } else {
        fputs(", \"transport\": null, \"a\": null, \"a_port\": null, \"b\": null, "
              "\"b_port\": null", fp);
    }
    fprintf(fp, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", t->packets, t->bytes);
}

/* [n,n,...]: digits by hand into a buffer written once, as the timeline's
 * arrays hold thousands of numbers, most of them 0. */
static void u64_array(FILE *fp, const uint64_t *v, size_t n)
{
    char buf[4096];
    size_t len = 0;
    buf[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (len > sizeof(buf) - 24) {
            fwrite(buf, 1, len, fp);
            len = 0;
        }
        if (i)
            buf[len++] = ',';
        char b[24], *p = b + sizeof(b);
        uint64_t x = v[i];
        do {
            *--p = (char)('0' + x % 10);
            x /= 10;
        } while (x != 0);
        memcpy(buf + len, p, (size_t)(b + sizeof(b) - p));
        len += (size_t)(b + sizeof(b) - p);
    }
    buf[len++] = ']';
    fwrite(buf, 1, len, fp);
}

/* The end of a timeline series object: its totals, its arrays, '}'. */
static void series_counts(FILE *fp, uint64_t packets, uint64_t bytes, const uint64_t *pkts,
                          const uint64_t *byts, size_t n)
{
    fprintf(fp, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"bucket_packets\": ", packets,
            bytes);
    u64_array(fp, pkts, n);
    fputs(", \"bucket_bytes\": ", fp);
    u64_array(fp, byts, n);
    fputc('}', fp);
}

/* "timeline": the report's timeline view (timeline.h), docs/output.md 2.9. */
static void timeline(const struct jw *w, const struct wp_report *r, const char *ind)
{
    FILE *fp = w->fp;
    const struct wp_tl_view *v = &r->timeline;
    const char *nl = w->nl;
    fprintf(fp, ",%s%s\"timeline\": {\"start\": ", nl[0] ? nl : " ", ind);
    time_or_null(fp, v->n_buckets > 0, v->start_ns, r->nanos);
    fprintf(fp, ", \"bucket_ns\": %lld, \"buckets\": %zu, \"moved_packets\": %" PRIu64 ", ",
            (long long)v->bucket_ns, v->n_buckets, v->moved_packets);
    counts(w, "untimed", &v->untimed);
    fprintf(fp, ", \"series_dropped\": %" PRIu64, v->apple_dropped);
    fputs(", \"series\": [", fp);
    for (size_t i = 0; i < v->n_series; i++) {
        const struct wp_tl_series *s = &v->series[i];
        fprintf(fp, "%s%s%s{", i ? "," : "", nl[0] ? nl : (i ? " " : ""), nl[0] ? "    " : "");
        char t[16];
        const struct wp_service *svc = NULL, *asvc = NULL;
        fprintf(fp, "\"other\": %s, \"transport\": ", s->other ? "true" : "false");
        if (s->other) {
            fputs("null, \"port\": null", fp);
        } else {
            wp_json_string(fp, wp_fmt_transport(t, sizeof(t), s->key.proto));
            fputs(", \"port\": ", fp);
            if (s->key.has_port)
                fprintf(fp, "%u", s->key.port);
            else
                fputs("null", fp);
            const struct wp_port_row *row = wp_agg_port(r->agg, &s->key);
            if (row != NULL)
                svc = wp_report_port_service(r, row, &asvc);
        }
        fputs(", \"service\": ", fp);
        str_or_null(fp, svc ? svc->name : NULL);
        fputs(", \"apple_service\": ", fp);
        str_or_null(fp, asvc ? asvc->name : NULL);
        series_counts(fp, s->packets, s->bytes, s->pkts, s->byts, v->n_buckets);
    }
    fprintf(fp, "%s%s], \"apple\": [", v->n_series && nl[0] ? nl : "",
            v->n_series && nl[0] ? ind : "");
    for (size_t i = 0; i < v->n_apple; i++) {
        const struct wp_tl_apple *a = &v->apple[i];
        fprintf(fp, "%s%s%s{\"service\": ", i ? "," : "", nl[0] ? nl : (i ? " " : ""),
                nl[0] ? "    " : "");
        str_or_null(fp, r->applesvc ? wp_applesvc_key(r->applesvc, a->svc) : NULL);
        series_counts(fp, a->packets, a->bytes, a->pkts, a->byts, v->n_buckets);
    }
    fprintf(fp, "%s%s], \"processes\": [", v->n_apple && nl[0] ? nl : "",
            v->n_apple && nl[0] ? ind : "");
    for (size_t i = 0; i < v->n_procs; i++) {
        const struct wp_tl_proc *p = &v->procs[i];
        fprintf(fp, "%s%s%s{\"other\": %s, \"name\": ", i ? "," : "", nl[0] ? nl : (i ? " " : ""),
                nl[0] ? "    " : "", p->group ? "false" : "true");
        if (p->group != 0 && r->proctab != NULL) {
            struct wp_proc_row row;
            memset(&row, 0, sizeof(row));
            row.group = p->group;
            char b[64];
            wp_json_string(fp, wp_proc_row_name(r->proctab, &row, b, sizeof(b)));
        } else {
            fputs("null", fp);
        }
        series_counts(fp, p->packets, p->bytes, p->pkts, p->byts, v->n_buckets);
    }
    fprintf(fp, "%s%s]}", v->n_procs && nl[0] ? nl : "", v->n_procs && nl[0] ? ind : "");
}

void wp_report_json(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    struct jw w = {fp, o->json_lines ? "" : "\n"};
    const char *nl = w.nl;
    const char *ind = o->json_lines ? "" : "  ";
    fprintf(fp, "{\"schema\": \"%s\", \"version\": \"%s\",%s%s", WP_SCHEMA, WP_VERSION,
            nl[0] ? nl : " ", ind);
    key(&w, "input");
    fputs("{\"mode\": ", fp);
    wp_json_string(fp, r->mode);
    fputs(", \"sources\": [", fp);
    for (size_t i = 0; i < r->n_sources; i++) {
        fputs(i ? ", " : "", fp);
        wp_json_string(fp, r->sources[i]);
    }
    fputs("], \"link_types\": [", fp);
    for (size_t i = 0; i < r->n_link_types; i++) {
        fputs(i ? ", " : "", fp);
        wp_json_string(fp, r->link_types[i]);
    }
    fputs("], \"filter\": ", fp);
    str_or_null(fp, r->filter);
    fputs(", \"count\": ", fp);
    if (r->count)
        u64(fp, r->count);
    else
        fputs("null", fp);
    fprintf(fp, ", \"complete\": %s, \"errors\": [", r->complete ? "true" : "false");
    for (size_t i = 0; i < r->n_errors; i++) {
        fputs(i ? ", " : "", fp);
        wp_json_string(fp, r->errors[i]);
    }
    fputs("]}", fp);
    if (r->has_interval) {
        char b[48];
        fprintf(fp, ",%s%s\"interval\": {\"start\": ", nl[0] ? nl : " ", ind);
        wp_json_string(fp, wp_fmt_time(b, sizeof(b), r->interval_start_ns, r->nanos));
        fputs(", \"end\": ", fp);
        wp_json_string(fp, wp_fmt_time(b, sizeof(b), r->interval_end_ns, r->nanos));
        fputs("}", fp);
    }
    fprintf(fp, ",%s%s", nl[0] ? nl : " ", ind);
    totals(&w, r);

    fprintf(fp, ",%s%s\"ports\": [", nl[0] ? nl : " ", ind);
    for (size_t i = 0; i < r->n_ports; i++) {
        fprintf(fp, "%s%s%s", i ? "," : "", nl[0] ? nl : (i ? " " : ""), nl[0] ? "    " : "");
        port_row(&w, r, r->ports[i]);
    }
    fprintf(fp, "%s%s]", r->n_ports && nl[0] ? nl : "", r->n_ports && nl[0] ? ind : "");

    fprintf(fp, ",%s%s\"peers_exact\": %s, \"peers_estimated\": %s", nl[0] ? nl : " ", ind,
            r->peers_capped ? "false" : "true", r->peers_estimated ? "true" : "false");

    if (!o->no_flows) {
        fprintf(fp, ",%s%s\"flows\": [", nl[0] ? nl : " ", ind);
        for (size_t i = 0; i < r->n_flows; i++) {
            fprintf(fp, "%s%s%s", i ? "," : "", nl[0] ? nl : (i ? " " : ""),
                    nl[0] ? "    " : "");
            flow_row(&w, r, r->flows[i], r->nanos);
        }
        fprintf(fp, "%s%s]", r->n_flows && nl[0] ? nl : "", r->n_flows && nl[0] ? ind : "");
    }

    fprintf(fp, ",%s%s\"hosts\": [", nl[0] ? nl : " ", ind);
    for (size_t i = 0; i < r->n_hosts; i++) {
        fprintf(fp, "%s%s%s", i ? "," : "", nl[0] ? nl : (i ? " " : ""), nl[0] ? "    " : "");
        host_row(&w, r, r->hosts[i]);
    }
    fprintf(fp, "%s%s]", r->n_hosts && nl[0] ? nl : "", r->n_hosts && nl[0] ? ind : "");

    if (r->hosts_other != NULL)
        fprintf(fp, ",%s%s\"hosts_other\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
                    ", \"flows\": %" PRIu64 "}",
                nl[0] ? nl : " ", ind, r->hosts_other->packets, r->hosts_other->bytes,
                r->hosts_other->flows);

    fprintf(fp, ",%s%s\"tunnels\": [", nl[0] ? nl : " ", ind);
    for (size_t i = 0; i < r->n_tunnels; i++) {
        fprintf(fp, "%s%s%s", i ? "," : "", nl[0] ? nl : (i ? " " : ""), nl[0] ? "    " : "");
        tunnel_row(&w, r->tunnels[i]);
    }
    fprintf(fp, "%s%s]", r->n_tunnels && nl[0] ? nl : "", r->n_tunnels && nl[0] ? ind : "");
    if (r->tunnels_other != NULL)
        fprintf(fp, ",%s%s\"tunnels_other\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
                nl[0] ? nl : " ", ind, r->tunnels_other->packets, r->tunnels_other->bytes);
    timeline(&w, r, ind);
    wp_report_apple_json(fp, r, nl, ind);
    wp_report_proc_json(fp, r, o, nl, ind);
    wp_report_baseline_json(fp, r, nl, ind);
    fputs("}\n", fp);
}
