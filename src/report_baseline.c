/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the baseline comparison in the reports (docs/output.md 2.12)
 *
 * Each port, server, name and process of the report is compared with the
 * --baseline captures by bytes per second (baseline.c); the writers call
 * the hooks here.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wp/escape.h"
#include "wp/report_baseline.h"
#include "wp/util.h"

double wp_report_seconds(const struct wp_report *r)
{
    const struct wp_totals *t = r->totals;
    double s = t != NULL && t->have_ts ? (double)(t->last_ns - t->first_ns) / 1e9 : 0.0;
    return s < 1.0 ? 1.0 : s;
}

static void json_mark(FILE *fp, struct wp_bl_mark m)
{
    fputs(", \"baseline\": {\"status\": ", fp);
    wp_json_string(fp, wp_bl_status_name(m.status));
    fprintf(fp, ", \"baseline_bytes\": %" PRIu64 ", \"ratio\": ", m.baseline_bytes);
    if (m.status == WP_BL_NEW)
        fputs("null}", fp);
    else
        fprintf(fp, "%.3g}", m.ratio);
}

static uint64_t port_bytes(const struct wp_port_row *p)
{
    return p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes;
}

static struct wp_bl_mark mark_port(const struct wp_report *r, const struct wp_port_row *p)
{
    return wp_baseline_port(r->baseline, &p->key, port_bytes(p), wp_report_seconds(r));
}

static struct wp_bl_mark mark_host(const struct wp_report *r, const struct wp_host_row *h)
{
    return wp_baseline_host(r->baseline, h->family, h->addr, h->bytes, wp_report_seconds(r));
}

static struct wp_bl_mark mark_proc(const struct wp_report *r, const struct wp_proc_row *p,
                                   const char **name)
{
    static char buf[64]; /* reports are written by one thread */
    *name = wp_proc_row_name(r->proctab, p, buf, sizeof(buf));
    return wp_baseline_process(r->baseline, *name, p->out.bytes + p->in.bytes,
                               wp_report_seconds(r));
}

void wp_report_baseline_json_port(FILE *fp, const struct wp_report *r, const struct wp_port_row *p)
{
    if (r->baseline != NULL)
        json_mark(fp, mark_port(r, p));
}

void wp_report_baseline_json_host(FILE *fp, const struct wp_report *r, const struct wp_host_row *h)
{
    if (r->baseline != NULL)
        json_mark(fp, mark_host(r, h));
}

void wp_report_baseline_json_process(FILE *fp, const struct wp_report *r,
                                     const struct wp_proc_row *p)
{
    const char *name;
    if (r->baseline != NULL)
        json_mark(fp, mark_proc(r, p, &name));
}

void wp_report_baseline_json(FILE *fp, const struct wp_report *r, const char *nl, const char *ind)
{
    if (r->baseline == NULL)
        return;
    fprintf(fp, ",%s%s\"baseline\": {\"files\": [", nl[0] ? nl : " ", ind);
    for (size_t i = 0; i < r->n_baseline_files; i++) {
        fputs(i ? ", " : "", fp);
        wp_json_string(fp, r->baseline_files[i]);
    }
    fprintf(fp, "], \"seconds\": %.3f, \"grown_factor\": %.1f, \"names\": [",
            wp_baseline_seconds(r->baseline), WP_BASELINE_GROWN);
    for (size_t i = 0; i < r->n_bl_names; i++) {
        const struct wp_bl_name *n = &r->bl_names[i];
        fputs(i ? ", {\"name\": " : "{\"name\": ", fp);
        wp_json_string(fp, n->name);
        fprintf(fp, ", \"flows\": %" PRIu64 ", \"bytes\": %" PRIu64, n->flows, n->bytes);
        json_mark(fp, wp_baseline_name(r->baseline, n->name, n->bytes, wp_report_seconds(r)));
        fputs("}", fp);
    }
    fputs("]}", fp);
}

static void text_mark(FILE *fp, struct wp_bl_mark m)
{
    if (m.status == WP_BL_NEW)
        fputs("new", fp);
    else
        fprintf(fp, "grown x%.1f", m.ratio);
}

void wp_report_baseline_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    (void)o;
    if (r->baseline == NULL)
        return;
    char b[64], bb[32];
    fprintf(fp, "\nNEW OR GROWN SINCE THE BASELINE (%zu file%s, %.1f s; grown: %.0f x its bytes "
                "per second)\n",
            r->n_baseline_files, r->n_baseline_files == 1 ? "" : "s",
            wp_baseline_seconds(r->baseline), WP_BASELINE_GROWN);
    size_t shown = 0;
    for (size_t i = 0; i < r->n_ports; i++) {
        struct wp_bl_mark m = mark_port(r, r->ports[i]);
        if (m.status == WP_BL_SEEN)
            continue;
        fprintf(fp, "  port    %-24s %10s  ", wp_fmt_port_key(b, sizeof(b), &r->ports[i]->key),
                wp_fmt_bytes(bb, sizeof(bb), port_bytes(r->ports[i])));
        text_mark(fp, m);
        fputc('\n', fp);
        shown++;
    }
    for (size_t i = 0; i < r->n_hosts; i++) {
        const struct wp_host_row *h = r->hosts[i];
        struct wp_bl_mark m = mark_host(r, h);
        if (m.status == WP_BL_SEEN)
            continue;
        fprintf(fp, "  server  %-24s %10s  ", wp_fmt_addr(b, sizeof(b), h->family, h->addr),
                wp_fmt_bytes(bb, sizeof(bb), h->bytes));
        text_mark(fp, m);
        fputc('\n', fp);
        shown++;
    }
    for (size_t i = 0; i < r->n_bl_names; i++) {
        const struct wp_bl_name *n = &r->bl_names[i];
        struct wp_bl_mark m = wp_baseline_name(r->baseline, n->name, n->bytes, wp_report_seconds(r));
        if (m.status == WP_BL_SEEN)
            continue;
        char nm[80];
        wp_text_sanitize(nm, sizeof(nm), n->name);
        fprintf(fp, "  name    %-24s %10s  ", nm, wp_fmt_bytes(bb, sizeof(bb), n->bytes));
        text_mark(fp, m);
        fputc('\n', fp);
        shown++;
    }
    for (size_t i = 0; i < r->n_procs; i++) {
        const char *name;
        struct wp_bl_mark m = mark_proc(r, r->procs[i], &name);
        if (m.status == WP_BL_SEEN)
            continue;
        char nm[80];
        wp_text_sanitize(nm, sizeof(nm), name);
        fprintf(fp, "  process %-24s %10s  ", nm,
                wp_fmt_bytes(bb, sizeof(bb), r->procs[i]->out.bytes + r->procs[i]->in.bytes));
        text_mark(fp, m);
        fputc('\n', fp);
        shown++;
    }
    if (shown == 0)
        fputs("  nothing: every port, server, name and process was in the baseline\n", fp);
}

static void csv_row(FILE *fp, const char *kind, const char *key, uint64_t bytes,
                    struct wp_bl_mark m)
{
    fprintf(fp, "%s,", kind);
    wp_csv_field(fp, key);
    fprintf(fp, ",%s,%" PRIu64 ",%" PRIu64 ",", wp_bl_status_name(m.status), bytes,
            m.baseline_bytes);
    if (m.status != WP_BL_NEW)
        fprintf(fp, "%.3g", m.ratio);
    fputs("\r\n", fp);
}

void wp_report_baseline_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    char b[64];
    if (o->csv_header)
        fputs("kind,key,status,bytes,baseline_bytes,ratio\r\n", fp);
    if (r->baseline == NULL)
        return;
    for (size_t i = 0; i < r->n_ports; i++)
        csv_row(fp, "port", wp_fmt_port_key(b, sizeof(b), &r->ports[i]->key),
                port_bytes(r->ports[i]), mark_port(r, r->ports[i]));
    for (size_t i = 0; i < r->n_hosts; i++)
        csv_row(fp, "server", wp_fmt_addr(b, sizeof(b), r->hosts[i]->family, r->hosts[i]->addr),
                r->hosts[i]->bytes, mark_host(r, r->hosts[i]));
    for (size_t i = 0; i < r->n_bl_names; i++)
        csv_row(fp, "name", r->bl_names[i].name, r->bl_names[i].bytes,
                wp_baseline_name(r->baseline, r->bl_names[i].name, r->bl_names[i].bytes,
                                 wp_report_seconds(r)));
    for (size_t i = 0; i < r->n_procs; i++) {
        const char *name;
        struct wp_bl_mark m = mark_proc(r, r->procs[i], &name);
        csv_row(fp, "process", name, r->procs[i]->out.bytes + r->procs[i]->in.bytes, m);
    }
}

static int cmp_bl_name(const void *a, const void *b)
{
    const struct wp_bl_name *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_flow_name(const void *a, const void *b)
{
    const struct wp_flow *x = *(const struct wp_flow *const *)a;
    const struct wp_flow *y = *(const struct wp_flow *const *)b;
    return (x->name_id > y->name_id) - (x->name_id < y->name_id);
}

struct wp_bl_name *wp_report_bl_names(struct wp_flow **flows, size_t n, struct wp_nametab *t,
                                      size_t *out)
{
    *out = 0;
    if (t == NULL || n == 0)
        return NULL;
    qsort(flows, n, sizeof(*flows), cmp_flow_name);
    struct wp_bl_name *v = calloc(n, sizeof(*v));
    if (v == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct wp_flow *f = flows[i];
        const char *name = f->name_id ? wp_nametab_get(t, f->name_id) : NULL;
        if (name == NULL)
            continue;
        if (k == 0 || i == 0 || flows[i - 1]->name_id != f->name_id) {
            v[k].name = name;
            k++;
        }
        v[k - 1].flows++;
        v[k - 1].bytes += f->bytes[0] + f->bytes[1];
    }
    qsort(v, k, sizeof(*v), cmp_bl_name);
    *out = k;
    return v;
}

void wp_report_baseline_new_only(struct wp_report *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_ports; i++)
        if (mark_port(r, r->ports[i]).status == WP_BL_NEW)
            r->ports[k++] = r->ports[i];
    r->n_ports = k;
    k = 0;
    for (size_t i = 0; i < r->n_hosts; i++)
        if (mark_host(r, r->hosts[i]).status == WP_BL_NEW)
            r->hosts[k++] = r->hosts[i];
    r->n_hosts = k;
    k = 0;
    for (size_t i = 0; i < r->n_bl_names; i++)
        if (wp_baseline_name(r->baseline, r->bl_names[i].name, r->bl_names[i].bytes,
                             wp_report_seconds(r)).status == WP_BL_NEW)
            r->bl_names[k++] = r->bl_names[i];
    r->n_bl_names = k;
    k = 0;
    for (size_t i = 0; i < r->n_procs; i++) {
        const char *name;
        if (mark_proc(r, r->procs[i], &name).status == WP_BL_NEW)
            r->procs[k++] = r->procs[i];
    }
    r->n_procs = k;
}
