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

void wp_report_baseline_json_port(FILE *fp, const struct wp_report *r, const struct wp_port_row *p)
{
    if (r->baseline != NULL)
        json_mark(fp, wp_report_bl_mark_port(r, p));
}

void wp_report_baseline_json_host(FILE *fp, const struct wp_report *r, const struct wp_host_row *h)
{
    if (r->baseline != NULL)
        json_mark(fp, wp_report_bl_mark_host(r, h));
}

void wp_report_baseline_json_process(FILE *fp, const struct wp_report *r,
                                     const struct wp_proc_row *p)
{
    const char *name;
    char pbuf[64];
    if (r->baseline != NULL)
        json_mark(fp, wp_report_bl_mark_proc(r, p, pbuf, sizeof(pbuf), &name));
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
    fprintf(fp,
            "\nNEW OR GROWN SINCE THE BASELINE (%zu file%s, %.1f s; grown: %.0f x its bytes "
            "per second)\n",
            r->n_baseline_files, r->n_baseline_files == 1 ? "" : "s",
            wp_baseline_seconds(r->baseline), WP_BASELINE_GROWN);
    size_t shown = 0;
    for (size_t i = 0; i < r->n_ports; i++) {
        struct wp_bl_mark m = wp_report_bl_mark_port(r, r->ports[i]);
        if (m.status == WP_BL_SEEN)
            continue;
        fprintf(fp, "  port    %-24s %10s  ", wp_fmt_port_key(b, sizeof(b), &r->ports[i]->key),
                wp_fmt_bytes(bb, sizeof(bb), wp_report_bl_port_bytes(r->ports[i])));
        text_mark(fp, m);
        fputc('\n', fp);
        shown++;
    }
    for (size_t i = 0; i < r->n_hosts; i++) {
        const struct wp_host_row *h = r->hosts[i];
        struct wp_bl_mark m = wp_report_bl_mark_host(r, h);
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
        struct wp_bl_mark m =
            wp_baseline_name(r->baseline, n->name, n->bytes, wp_report_seconds(r));
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
        char pbuf[64];
        struct wp_bl_mark m = wp_report_bl_mark_proc(r, r->procs[i], pbuf, sizeof(pbuf), &name);
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
                wp_report_bl_port_bytes(r->ports[i]), wp_report_bl_mark_port(r, r->ports[i]));
    for (size_t i = 0; i < r->n_hosts; i++)
        csv_row(fp, "server", wp_fmt_addr(b, sizeof(b), r->hosts[i]->family, r->hosts[i]->addr),
                r->hosts[i]->bytes, wp_report_bl_mark_host(r, r->hosts[i]));
    for (size_t i = 0; i < r->n_bl_names; i++)
        csv_row(fp, "name", r->bl_names[i].name, r->bl_names[i].bytes,
                wp_baseline_name(r->baseline, r->bl_names[i].name, r->bl_names[i].bytes,
                                 wp_report_seconds(r)));
    for (size_t i = 0; i < r->n_procs; i++) {
        const char *name;
        char pbuf[64];
        struct wp_bl_mark m = wp_report_bl_mark_proc(r, r->procs[i], pbuf, sizeof(pbuf), &name);
        csv_row(fp, "process", name, r->procs[i]->out.bytes + r->procs[i]->in.bytes, m);
    }
}
