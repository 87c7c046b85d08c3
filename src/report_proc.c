/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the processes in the reports: JSON, text and CSV (docs/output.md)
 *
 * Called from the writers with small hooks: a flow's process fields, the
 * "processes" section, the PROCESSES table and the CSV processes view.
 * Everything printed from a record (names, paths, users) goes through the
 * escaping functions of escape.c.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wp/applesvc.h"
#include "wp/escape.h"
#include "wp/report.h"
#include "wp/report_proc.h"
#include "wp/report_baseline.h"
#include "wp/util.h"

static void str_or_null(FILE *fp, const char *s)
{
    if (s == NULL)
        fputs("null", fp);
    else
        wp_json_string(fp, s);
}

static void proc_object(FILE *fp, const struct wp_report *r, uint16_t id)
{
    const struct wp_proc_entry *e = r->proctab ? wp_proctab_get(r->proctab, id) : NULL;
    if (e == NULL) {
        fputs("null", fp);
        return;
    }
    fputs("{\"pid\": ", fp);
    if (e->pid >= 0)
        fprintf(fp, "%lld", (long long)e->pid);
    else
        fputs("null", fp);
    fputs(", \"name\": ", fp);
    str_or_null(fp, e->name);
    fputs(", \"path\": ", fp);
    str_or_null(fp, e->path);
    fputs(", \"user\": ", fp);
    str_or_null(fp, e->user);
    fputs(", \"container\": ", fp);
    str_or_null(fp, e->container);
    fputs(", \"source\": ", fp);
    wp_json_string(fp, wp_proc_source_name((enum wp_proc_source)e->source));
    fputs("}", fp);
}

void wp_report_proc_json_flow(FILE *fp, const struct wp_report *r, const struct wp_flow *f)
{
    uint16_t p = 0, e = 0;
    if (r->proctab != NULL)
        wp_flow_process(r->proctab, f, &p, &e);
    fputs(", \"process\": ", fp);
    proc_object(fp, r, p);
    fputs(", \"effective_process\": ", fp);
    proc_object(fp, r, e);
    fprintf(fp, ", \"process_others\": %u", (f->pbits & WP_FP_MIXED) ? f->proc_n[1] : 0u);
    if (p != 0 || e != 0)
        return;
    /* why not: the live attribution's reason, else "not_named" when the
     * capture's records name processes but none of this flow's did */
    enum wp_proc_unknown u = wp_flow_proc_unknown(f);
    if (u == WP_PU_NONE && r->proc_counts != NULL && r->proc_counts->packets > 0)
        u = WP_PU_not_named;
    const char *why = wp_proc_unknown_name(u);
    if (why != NULL)
        fprintf(fp, ", \"process_unknown\": \"%s\"", why);
}

static const char *row_name(const struct wp_report *r, const struct wp_proc_row *p, char *b,
                            size_t n)
{
    return wp_proc_row_name(r->proctab, p, b, n);
}

static void rest(FILE *fp, const char *k, const struct wp_proc_rest *x)
{
    static const struct wp_proc_rest zero;
    if (x == NULL)
        x = &zero;
    fprintf(fp,
            "\"%s\": {\"flows\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", k,
            x->flows, x->packets, x->bytes);
}

static void json_row(FILE *fp, const struct wp_report *r, const struct wp_proc_row *p)
{
    char b[64], t[64];
    fputs("{\"name\": ", fp);
    const struct wp_proc_entry *ge = wp_proctab_get(r->proctab, p->group);
    str_or_null(fp, ge != NULL ? ge->name : NULL);
    fputs(", \"pids\": [", fp);
    for (unsigned i = 0; i < p->n_pids; i++)
        fprintf(fp, "%s%lld", i ? ", " : "", (long long)p->pids[i]);
    fprintf(fp, "], \"pids_truncated\": %s, \"sources\": [", p->pids_truncated ? "true" : "false");
    bool first = true;
    for (unsigned s = 1; s < WP_PSRC_COUNT; s++)
        if (p->sources & (1u << s)) {
            fputs(first ? "" : ", ", fp);
            wp_json_string(fp, wp_proc_source_name((enum wp_proc_source)s));
            first = false;
        }
    fprintf(fp, "], \"flows\": %" PRIu64 ", \"flows_mixed\": %" PRIu64, p->flows, p->flows_mixed);
    fprintf(fp, ", \"sent\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", p->out.packets,
            p->out.bytes);
    fprintf(fp, ", \"received\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", p->in.packets,
            p->in.bytes);
    fputs(", \"ports\": [", fp);
    for (unsigned i = 0; i < p->n_ports; i++) {
        const struct wp_proc_port *q = &p->ports[i];
        fprintf(fp, "%s{\"transport\": ", i ? ", " : "");
        wp_json_string(fp, wp_fmt_transport(t, sizeof(t), q->key.proto));
        if (q->key.has_port)
            fprintf(fp, ", \"port\": %u", q->key.port);
        else
            fputs(", \"port\": null", fp);
        fprintf(fp, ", \"flows\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
                q->flows, q->packets, q->bytes);
    }
    fprintf(fp, "], \"ports_truncated\": %s, \"servers\": [",
            p->ports_truncated ? "true" : "false");
    for (unsigned i = 0; i < p->n_servers; i++) {
        fprintf(fp, "%s{\"address\": ", i ? ", " : "");
        wp_json_string(fp, wp_fmt_addr(b, sizeof(b), p->servers[i].family, p->servers[i].addr));
        fprintf(fp, ", \"flows\": %" PRIu64 "}", p->servers[i].flows);
    }
    fprintf(fp, "], \"servers_truncated\": %s, \"names\": [",
            p->servers_truncated ? "true" : "false");
    struct wp_name_count sorted[WP_ROW_NAMES];
    size_t nn = wp_report_sort_names(r, p->names, p->n_names, sorted);
    for (size_t i = 0; i < nn; i++) {
        fputs(i ? ", {\"name\": " : "{\"name\": ", fp);
        wp_json_string(fp, wp_nametab_get(r->names, sorted[i].id));
        fprintf(fp, ", \"flows\": %" PRIu64 "}", sorted[i].flows);
    }
    fputs("], \"apple_services\": [", fp);
    for (unsigned i = 0; i < p->n_apple; i++) {
        fputs(i ? ", {\"service\": " : "{\"service\": ", fp);
        str_or_null(fp, r->applesvc ? wp_applesvc_key(r->applesvc, p->apple[i].svc) : NULL);
        fprintf(fp, ", \"flows\": %" PRIu64 "}", p->apple[i].flows);
    }
    fputs("], \"carried_by\": [", fp);
    for (unsigned i = 0; i < p->n_carriers; i++) {
        const struct wp_proc_entry *c = wp_proctab_get(r->proctab, p->carriers[i].group);
        fputs(i ? ", {\"name\": " : "{\"name\": ", fp);
        if (c != NULL && c->name != NULL)
            wp_json_string(fp, c->name);
        else {
            snprintf(b, sizeof(b), "pid %lld", c ? (long long)c->pid : -1LL);
            wp_json_string(fp, b);
        }
        fprintf(fp, ", \"flows\": %" PRIu64 "}", p->carriers[i].flows);
    }
    fputs("]", fp);
    wp_report_baseline_json_process(fp, r, p);
    fputs("}", fp);
    (void)row_name;
}

void wp_report_proc_json(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o,
                         const char *nl, const char *ind)
{
    fprintf(fp, ",%s%s\"processes\": [", nl[0] ? nl : " ", ind);
    for (size_t i = 0; i < r->n_procs; i++) {
        fprintf(fp, "%s%s%s", i ? "," : "", nl[0] ? nl : (i ? " " : ""), nl[0] ? "    " : "");
        json_row(fp, r, r->procs[i]);
    }
    fprintf(fp, "%s%s]", r->n_procs && nl[0] ? nl : "", r->n_procs && nl[0] ? ind : "");
    fprintf(fp, ",%s%s\"process_info\": {\"packets\": %" PRIu64 ", ", nl[0] ? nl : " ", ind,
            r->proc_counts ? r->proc_counts->packets : 0);
    rest(fp, "without_process", r->procs_without);
    fputs(", ", fp);
    rest(fp, "other", r->procs_other);
    fputs(", \"filter\": ", fp);
    if (o->processes != NULL && o->n_processes > 0) {
        fputs("[", fp);
        for (size_t i = 0; i < o->n_processes; i++) {
            fputs(i ? ", " : "", fp);
            wp_json_string(fp, o->processes[i]);
        }
        fputs("]", fp);
    } else {
        fputs("null", fp);
    }
    fputs(", \"malformed\": {", fp);
    for (unsigned i = 0; i < WP_PMAL_COUNT; i++)
        fprintf(fp, "%s\"%s\": %" PRIu64, i ? ", " : "", wp_proc_malformed_name[i],
                r->proc_counts ? r->proc_counts->malformed[i] : 0);
    fputs("}}", fp);
}

/* ---- processes by port and by Apple service ------------------------------- */

/* The first (port, process) pair of port row `p` in r->proc_ports (sorted
 * by port, then bytes descending), and in *n how many pairs the port has. */
static size_t port_procs(const struct wp_report *r, const struct wp_port_row *p, size_t *n)
{
    size_t lo = 0, hi = r->n_proc_ports;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(&r->proc_ports[mid].key, &p->key, sizeof(p->key)) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < r->n_proc_ports && memcmp(&r->proc_ports[end].key, &p->key, sizeof(p->key)) == 0)
        end++;
    *n = end - lo;
    return lo;
}

const char *wp_report_proc_port_top(const struct wp_report *r, const struct wp_port_row *p,
                                    char *buf, size_t n, size_t *others)
{
    size_t k;
    size_t i = port_procs(r, p, &k);
    *others = k > 0 ? k - 1 : 0;
    return k > 0 ? row_name(r, r->procs[r->proc_ports[i].row], buf, n) : NULL;
}

void wp_report_proc_json_port(FILE *fp, const struct wp_report *r, const struct wp_port_row *p)
{
    if (r->n_procs == 0)
        return;
    fputs(", \"processes\": [", fp);
    size_t np;
    size_t lo = port_procs(r, p, &np);
    char b[64];
    for (size_t k = 0; k < np && k < 4; k++) {
        const struct wp_proc_port_ref *x = &r->proc_ports[lo + k];
        fputs(k ? ", {\"name\": " : "{\"name\": ", fp);
        wp_json_string(fp, row_name(r, r->procs[x->row], b, sizeof(b)));
        fprintf(fp, ", \"flows\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", x->flows, x->bytes);
    }
    fputs("]", fp);
}

void wp_report_proc_json_apple(FILE *fp, const struct wp_report *r, int svc)
{
    if (r->n_procs == 0)
        return;
    fputs(", \"processes\": [", fp);
    char b[64];
    bool first = true;
    for (size_t i = 0; i < r->n_procs; i++)
        for (unsigned k = 0; k < r->procs[i]->n_apple; k++)
            if (r->procs[i]->apple[k].svc == svc) {
                fputs(first ? "{\"name\": " : ", {\"name\": ", fp);
                wp_json_string(fp, row_name(r, r->procs[i], b, sizeof(b)));
                fprintf(fp, ", \"flows\": %" PRIu64 "}", r->procs[i]->apple[k].flows);
                first = false;
            }
    fputs("]", fp);
}

void wp_report_proc_text_apple(FILE *fp, const struct wp_report *r, int svc)
{
    char b[64];
    bool first = true;
    for (size_t i = 0; i < r->n_procs; i++)
        for (unsigned k = 0; k < r->procs[i]->n_apple; k++)
            if (r->procs[i]->apple[k].svc == svc) {
                fputs(first ? "  processes:" : ",", fp);
                fputc(' ', fp);
                wp_text_string(fp, row_name(r, r->procs[i], b, sizeof(b)));
                fprintf(fp, " (%" PRIu64 ")", r->procs[i]->apple[k].flows);
                first = false;
            }
    if (!first)
        fputc('\n', fp);
}

/* ---- text ----------------------------------------------------------------- */

void wp_report_proc_flow_cell(const struct wp_report *r, const struct wp_flow *f, char *buf,
                              size_t n)
{
    buf[0] = '\0';
    if (r->proctab == NULL)
        return;
    uint16_t carrier;
    uint16_t app = wp_flow_app(r->proctab, f, &carrier);
    const struct wp_proc_entry *e = wp_proctab_get(r->proctab, app);
    if (e == NULL)
        return;
    if (e->name != NULL && e->pid >= 0)
        snprintf(buf, n, "%.40s:%lld", e->name, (long long)e->pid);
    else if (e->name != NULL)
        snprintf(buf, n, "%.40s", e->name);
    else
        snprintf(buf, n, "pid %lld", (long long)e->pid);
    const struct wp_proc_entry *c = wp_proctab_get(r->proctab, carrier);
    if (c != NULL && c->name != NULL) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, " via %.24s", c->name);
    }
}

/* The row's ports as "tcp/443 (3), udp/53 (2)" cut to `width`. */
static void ports_cell(const struct wp_proc_row *p, char *buf, size_t n, size_t width)
{
    size_t l = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < p->n_ports; i++) {
        char k[32], item[64];
        wp_fmt_port_key(k, sizeof(k), &p->ports[i].key);
        snprintf(item, sizeof(item), "%s%s (%" PRIu64 ")", i ? ", " : "", k, p->ports[i].flows);
        if (l + strlen(item) > width || l + strlen(item) + 1 > n) {
            snprintf(buf + l, n - l, "%s", l + 5 < n ? ", ..." : "");
            return;
        }
        memcpy(buf + l, item, strlen(item) + 1);
        l += strlen(item);
    }
}

void wp_report_proc_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    if (r->n_procs == 0)
        return;
    size_t n = r->n_procs;
    if (o->top && n > o->top)
        n = o->top;
    fprintf(fp, "\nPROCESSES (%zu of %zu)\n", n, r->n_procs);
    fprintf(fp, "%-18s %-12s %9s %9s %5s  %s\n", "PROCESS", "PIDS", "SENT", "RECEIVED", "FLOWS",
            "PORTS (FLOWS)");
    for (size_t i = 0; i < n; i++) {
        const struct wp_proc_row *p = r->procs[i];
        char nb[64], pids[64], s1[32], s2[32], ports[160];
        const char *name = row_name(r, p, nb, sizeof(nb));
        size_t l = 0;
        pids[0] = '\0';
        for (unsigned k = 0; k < p->n_pids && l + 12 < sizeof(pids); k++)
            l += (size_t)snprintf(pids + l, sizeof(pids) - l, "%s%lld", k ? "," : "",
                                  (long long)p->pids[k]);
        if (p->pids_truncated && l + 4 < sizeof(pids))
            snprintf(pids + l, sizeof(pids) - l, ",...");
        ports_cell(p, ports, sizeof(ports), 40);
        char nm[80];
        wp_text_sanitize(nm, sizeof(nm), name);
        fprintf(fp, "%-18.40s %-12s %9s %9s %5" PRIu64 "  %s\n", nm, pids,
                wp_fmt_bytes(s1, sizeof(s1), p->out.bytes),
                wp_fmt_bytes(s2, sizeof(s2), p->in.bytes), p->flows, ports);
        for (unsigned k = 0; k < p->n_carriers; k++) {
            const struct wp_proc_entry *c = wp_proctab_get(r->proctab, p->carriers[k].group);
            if (c == NULL || c->name == NULL)
                continue;
            fputs("    carried by ", fp);
            wp_text_string(fp, c->name);
            fprintf(fp, " (%" PRIu64 " flows)\n", p->carriers[k].flows);
        }
        if (p->n_apple > 0 && r->applesvc != NULL) {
            fputs("    Apple:", fp);
            for (unsigned k = 0; k < p->n_apple; k++) {
                fputs(k ? ", " : " ", fp);
                wp_text_string(fp, wp_applesvc_key(r->applesvc, p->apple[k].svc));
            }
            fputc('\n', fp);
        }
    }
    if (r->procs_without != NULL && r->procs_without->flows > 0)
        fprintf(fp, "  (no process named: %" PRIu64 " flows, %" PRIu64 " packets)\n",
                r->procs_without->flows, r->procs_without->packets);
}

/* ---- CSV ------------------------------------------------------------------ */

static void csv_proc(FILE *fp, const struct wp_report *r, uint16_t id)
{
    const struct wp_proc_entry *e = r->proctab ? wp_proctab_get(r->proctab, id) : NULL;
    if (e != NULL && e->pid >= 0)
        fprintf(fp, ",%lld,", (long long)e->pid);
    else
        fputs(",,", fp);
    if (e != NULL && e->name != NULL)
        wp_csv_field(fp, e->name);
}

void wp_report_proc_csv_flow(FILE *fp, const struct wp_report *r, const struct wp_flow *f)
{
    uint16_t p = 0, e = 0;
    if (r->proctab != NULL)
        wp_flow_process(r->proctab, f, &p, &e);
    csv_proc(fp, r, p);
    csv_proc(fp, r, e);
}

void wp_report_proc_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    if (o->csv_header)
        fputs("process,pids,sources,flows,flows_mixed,sent_packets,sent_bytes,received_packets,"
              "received_bytes,ports,servers,names,apple_services,carried_by\r\n",
              fp);
    for (size_t i = 0; i < r->n_procs; i++) {
        const struct wp_proc_row *p = r->procs[i];
        char nb[64], b[64];
        char cell[2048];
        size_t l;
        wp_csv_field(fp, row_name(r, p, nb, sizeof(nb)));
        fputc(',', fp);
        l = 0;
        cell[0] = '\0';
        for (unsigned k = 0; k < p->n_pids && l + 24 < sizeof(cell); k++)
            l += (size_t)snprintf(cell + l, sizeof(cell) - l, "%s%lld", k ? " " : "",
                                  (long long)p->pids[k]);
        wp_csv_field(fp, cell);
        fputc(',', fp);
        l = 0;
        cell[0] = '\0';
        for (unsigned s = 1; s < WP_PSRC_COUNT; s++)
            if (p->sources & (1u << s))
                l += (size_t)snprintf(cell + l, sizeof(cell) - l, "%s%s", l ? " " : "",
                                      wp_proc_source_name((enum wp_proc_source)s));
        wp_csv_field(fp, cell);
        fprintf(fp, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
                p->flows, p->flows_mixed, p->out.packets, p->out.bytes, p->in.packets, p->in.bytes);
        l = 0;
        cell[0] = '\0';
        for (unsigned k = 0; k < p->n_ports && l + 48 < sizeof(cell); k++) {
            char pk[32];
            wp_fmt_port_key(pk, sizeof(pk), &p->ports[k].key);
            l += (size_t)snprintf(cell + l, sizeof(cell) - l, "%s%s:%" PRIu64, k ? " " : "", pk,
                                  p->ports[k].flows);
        }
        wp_csv_field(fp, cell);
        fputc(',', fp);
        l = 0;
        cell[0] = '\0';
        for (unsigned k = 0; k < p->n_servers && l + 64 < sizeof(cell); k++)
            l += (size_t)snprintf(
                cell + l, sizeof(cell) - l, "%s%s", k ? " " : "",
                wp_fmt_addr(b, sizeof(b), p->servers[k].family, p->servers[k].addr));
        wp_csv_field(fp, cell);
        fputc(',', fp);
        l = 0;
        cell[0] = '\0';
        struct wp_name_count sorted[WP_ROW_NAMES];
        size_t nn = wp_report_sort_names(r, p->names, p->n_names, sorted);
        for (size_t k = 0; k < nn && l + 260 < sizeof(cell); k++)
            l += (size_t)snprintf(cell + l, sizeof(cell) - l, "%s%.250s", k ? " " : "",
                                  wp_nametab_get(r->names, sorted[k].id));
        wp_csv_field(fp, cell);
        fputc(',', fp);
        l = 0;
        cell[0] = '\0';
        for (unsigned k = 0; k < p->n_apple && r->applesvc != NULL && l + 64 < sizeof(cell); k++)
            l += (size_t)snprintf(cell + l, sizeof(cell) - l, "%s%.60s", k ? " " : "",
                                  wp_applesvc_key(r->applesvc, p->apple[k].svc));
        wp_csv_field(fp, cell);
        fputc(',', fp);
        l = 0;
        cell[0] = '\0';
        for (unsigned k = 0; k < p->n_carriers && l + 80 < sizeof(cell); k++) {
            const struct wp_proc_entry *c = wp_proctab_get(r->proctab, p->carriers[k].group);
            if (c != NULL && c->name != NULL)
                l += (size_t)snprintf(cell + l, sizeof(cell) - l, "%s%.64s", l ? " " : "", c->name);
        }
        wp_csv_field(fp, cell);
        fputs("\r\n", fp);
    }
}
