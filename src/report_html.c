/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the HTML report: one self-contained page (docs/output.md)
 *
 * No external resource: the style and the small script are written here,
 * the chart is inline SVG (svgchart.c), and a Content-Security-Policy
 * allows nothing else (no fetch, no image, no font, only this script by
 * its SHA-256). Everything that came from a capture or a record (names,
 * addresses, process names, file names, filters) goes through the HTML
 * escaping functions of escape.c: wp_html_text in element content,
 * wp_html_attr in attribute values, wp_script_json_string in the JSON
 * data block. No value from a capture is ever written into an href, a
 * style, an event attribute or the script itself. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "wp/decode.h"
#include "wp/escape.h"
#include "wp/report.h"
#include "wp/report_proc.h"
#include "wp/svgchart.h"
#include "wp/util.h"

/* Sorting by a click on a column header (numbers by their data-v value,
 * descending first; text ascending first; a second click reverses), the
 * copy buttons of the display filters, and ?wp-click=TABLE:COL,... which
 * clicks column headers once the page is loaded (tests, links). */
static const char script_js[] =
    "(function(){'use strict';\n"
    "function val(td,num){var v=td.getAttribute('data-v');if(num)return v===null?-1:Number(v);"
    "return(v===null?td.textContent:v).toLowerCase();}\n"
    "function sortBy(th){var tr=th.parentNode,table=tr.parentNode.parentNode,"
    "tb=table.tBodies[0],col=Array.prototype.indexOf.call(tr.cells,th),"
    "num=th.getAttribute('data-type')==='num',cur=th.getAttribute('aria-sort'),"
    "dir=cur?(cur==='ascending'?-1:1):(num?-1:1);\n"
    "Array.prototype.forEach.call(tr.cells,function(c){c.removeAttribute('aria-sort');});\n"
    "th.setAttribute('aria-sort',dir>0?'ascending':'descending');\n"
    "var rows=Array.prototype.slice.call(tb.rows);\n"
    "rows.sort(function(a,b){var x=val(a.cells[col],num),y=val(b.cells[col],num);"
    "if(x<y)return -dir;if(x>y)return dir;return "
    "a.getAttribute('data-i')-b.getAttribute('data-i');});\n"
    "rows.forEach(function(r){tb.appendChild(r);});}\n"
    "Array.prototype.forEach.call(document.querySelectorAll('table.wp-sort thead th'),function(th){"
    "th.addEventListener('click',function(){sortBy(th);});"
    "th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();"
    "sortBy(th);}});});\n"
    "Array.prototype.forEach.call(document.querySelectorAll('button.wp-copy'),function(b){"
    "b.addEventListener('click',function(){var "
    "c=document.getElementById(b.getAttribute('data-for'));"
    "var t=c.textContent;function done(){b.textContent='copied';}\n"
    "if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(t).then("
    "done,"
    "function(){});}else{var "
    "s=window.getSelection(),g=document.createRange();g.selectNodeContents(c);"
    "s.removeAllRanges();s.addRange(g);try{document.execCommand('copy');done();}catch(e){}}});});\n"
    "var m=/[?&]wp-click=([A-Za-z0-9:,_-]+)/.exec(location.search);\n"
    "if(m)m[1].split(',').forEach(function(k){var p=k.split(':'),t=document.getElementById(p[0]);"
    "if(t&&t.tHead){var th=t.tHead.rows[0].cells[Number(p[1])];if(th)th.click();}});\n"
    "document.documentElement.setAttribute('data-wp-script','ran');\n"
    "})();\n";

/* Port rows in the page at most (a scan can make 131,072); the rest are
 * counted, and CSV and JSON list them all. */
#define HTML_MAX_PORTS 2000

static size_t port_rows(const struct wp_report *r)
{
    return r->n_ports < HTML_MAX_PORTS ? r->n_ports : HTML_MAX_PORTS;
}

static const char style_css[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
    "margin:1.5em auto;max-width:1200px;padding:0 1em}\n"
    "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.6em 0 .4em;"
    "border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;margin:.3em 0;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:.2em .6em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}\n"
    "td.n,th.n{text-align:right}td.t{white-space:nowrap;font-size:12px}\n"
    "table.wp-sort thead th{cursor:pointer;background:#f3f3f3;user-select:none}\n"
    "table.wp-sort thead th[aria-sort=ascending]::after{content:' \\25b2'}\n"
    "table.wp-sort thead th[aria-sort=descending]::after{content:' \\25bc'}\n"
    "td.names,td.f{max-width:28em;overflow-wrap:anywhere}\n"
    "code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f6f6f6;padding:0 .2em}\n"
    "button.wp-copy{font-size:11px;margin-left:.4em}\n"
    ".note{color:#666}.warn{color:#a40}\n"
    "nav a{margin-right:1em}\n"
    "svg.wp-chart{max-width:100%;height:auto}svg.wp-chart text{fill:#333}\n"
    "@media print{body{max-width:none;margin:0;font-size:10pt}nav,button.wp-copy{display:none}"
    "h2{break-after:avoid}tr{break-inside:avoid}table.wp-sort thead th{background:none}"
    "a{color:inherit;text-decoration:none}}\n";

/* The CSP source of the script: 'sha256-BASE64'. */
static void script_hash(char *out, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    if (EVP_Digest(script_js, sizeof(script_js) - 1, md, &len, EVP_sha256(), NULL) != 1) {
        snprintf(out, n, "'none'");
        return;
    }
    EVP_EncodeBlock(b64, md, (int)len);
    snprintf(out, n, "'sha256-%s'", (const char *)b64);
}

/* An exact count with thousands separators. */
static void num(FILE *fp, uint64_t v)
{
    char d[24];
    int n = snprintf(d, sizeof(d), "%" PRIu64, v);
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            fputc(',', fp);
        fputc(d[i], fp);
    }
}

static void td_num(FILE *fp, uint64_t v)
{
    fprintf(fp, "<td class=\"n\" data-v=\"%" PRIu64 "\">", v);
    num(fp, v);
    fputs("</td>", fp);
}

static void td_text(FILE *fp, const char *s)
{
    fputs("<td>", fp);
    if (s != NULL)
        wp_html_text(fp, s);
    fputs("</td>", fp);
}

/* A port cell: numeric sort, empty when the transport has no ports. */
static void td_port(FILE *fp, bool has, unsigned port)
{
    if (has)
        fprintf(fp, "<td class=\"n\" data-v=\"%u\">%u</td>", port, port);
    else
        fputs("<td class=\"n\" data-v=\"-1\"></td>", fp);
}

/* A sortable table's head: cols[i] is "label" (text) or "#label" (number). */
static void table_head(FILE *fp, const char *id, const char *const *cols, size_t n)
{
    fprintf(fp, "<table class=\"wp-sort\" id=\"%s\"><thead><tr>", id);
    for (size_t i = 0; i < n; i++) {
        bool isnum = cols[i][0] == '#';
        fprintf(fp, "<th tabindex=\"0\" data-type=\"%s\"%s>%s</th>", isnum ? "num" : "text",
                isnum ? " class=\"n\"" : "", cols[i] + isnum);
    }
    fputs("</tr></thead>\n<tbody>\n", fp);
}

static void time_text(FILE *fp, bool have, int64_t ns, bool nanos)
{
    char b[48];
    if (have)
        wp_html_text(fp, wp_fmt_time(b, sizeof(b), ns, nanos));
}

static void header(FILE *fp, const struct wp_report *r)
{
    const struct wp_totals *t = r->totals;
    fputs("<h1>whichports report</h1>\n<p id=\"sources\">", fp);
    fputs(r->n_sources == 1 ? "Source: " : "Sources: ", fp);
    for (size_t i = 0; i < r->n_sources; i++) {
        fputs(i ? ", <code class=\"src\" data-source=\"" : "<code class=\"src\" data-source=\"",
              fp);
        wp_html_attr(fp, r->sources[i]);
        fputs("\">", fp);
        wp_html_text(fp, r->sources[i]);
        fputs("</code>", fp);
    }
    fputs(" (", fp);
    wp_html_text(fp, r->mode);
    for (size_t i = 0; i < r->n_link_types; i++) {
        fputs(i ? ", " : "; ", fp);
        wp_html_text(fp, r->link_types[i]);
    }
    fputs(")", fp);
    if (r->filter != NULL) {
        fputs("<br>Filter: <code>", fp);
        wp_html_text(fp, r->filter);
        fputs("</code>", fp);
    }
    if (t->have_ts) {
        fputs("<br>From ", fp);
        time_text(fp, true, t->first_ns, r->nanos);
        fputs(" to ", fp);
        time_text(fp, true, t->last_ns, r->nanos);
    }
    fputs("</p>\n", fp);
    if (!r->complete) {
        fputs("<p class=\"warn\">Incomplete: ", fp);
        for (size_t i = 0; i < r->n_errors; i++) {
            fputs(i ? "; " : "", fp);
            wp_html_text(fp, r->errors[i]);
        }
        fputs("</p>\n", fp);
    }
    fputs(
        "<nav><a href=\"#chart\">chart</a><a href=\"#ports\">ports</a><a href=\"#flows\">flows</a>"
        "<a href=\"#servers\">servers</a><a href=\"#apple\">Apple</a><a href=\"#names\">names</a>"
        "<a href=\"#processes\">processes</a><a href=\"#totals\">totals</a></nav>\n",
        fp);
    /* the headline numbers */
    fputs("<table class=\"wp-head\" id=\"head\"><tr>", fp);
    static const char *const heads[] = {"packets",  "bytes", "IP packets",
                                        "IP bytes", "flows", "other packets"};
    uint64_t v[] = {t->packets, t->bytes, t->ip_packets, t->ip_bytes, t->flows, t->other_packets};
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        fprintf(fp, "<th>%s</th>", heads[i]);
    fputs("</tr><tr>", fp);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        td_num(fp, v[i]);
    fputs("</tr></table>\n", fp);
}

/* Every total counter, as JSON names it. */
static void totals(FILE *fp, const struct wp_report *r)
{
    const struct wp_totals *t = r->totals;
    fputs("<h2 id=\"totals\">Totals</h2>\n<table id=\"totals-table\"><tbody>\n", fp);
#define WP_X(field, name)                                                                          \
    fputs("<tr><th>" name "</th>", fp);                                                            \
    td_num(fp, t->field);                                                                          \
    fputs("</tr>\n", fp);
#define WP_A(field, name, n, names)
    WP_TOTALS_LIST(WP_X, WP_A)
#undef WP_X
#undef WP_A
    if (t->dropped_known) {
        fputs("<tr><th>dropped</th>", fp);
        td_num(fp, t->dropped);
        fputs("</tr>\n<tr><th>dropped_interface</th>", fp);
        td_num(fp, t->ifdropped);
        fputs("</tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
}

/* The chart section: the timeline's bytes per bucket by service port
 * (timeline.h; the top WP_REPORT_TL_TOP ports, then `other`), stacked, the
 * largest series at the bottom. A report without a packet says so. */
static void chart(FILE *fp, const struct wp_report *r)
{
    const struct wp_tl_view *v = &r->timeline;
    fputs("<h2 id=\"chart\">Bytes over time by service port</h2>\n", fp);
    if (v->n_series == 0 || v->n_buckets == 0) {
        fputs("<p class=\"note\" id=\"chart-none\">No packet to draw.</p>\n", fp);
        return;
    }
    size_t ns = v->n_series, nb = v->n_buckets;
    double *values = calloc(ns * nb, sizeof(double));
    char(*names)[96] = calloc(ns, sizeof(*names));
    const char **np = calloc(ns, sizeof(*np));
    if (values == NULL || names == NULL || np == NULL) {
        fputs("<p class=\"note\" id=\"chart-none\">Out of memory for the chart.</p>\n", fp);
        free(values);
        free(names);
        free(np);
        return;
    }
    for (size_t i = 0; i < ns; i++) {
        const struct wp_tl_series *s = &v->series[i];
        if (s->other) {
            snprintf(names[i], sizeof(names[i]), "other ports");
        } else {
            char pk[32];
            const struct wp_service *asvc = NULL, *svc = NULL;
            const struct wp_port_row *row = r->agg ? wp_agg_port(r->agg, &s->key) : NULL;
            if (row != NULL)
                svc = wp_report_port_service(r, row, &asvc);
            if (svc == NULL)
                svc = asvc;
            snprintf(names[i], sizeof(names[i]), "%s%s%s", wp_fmt_port_key(pk, sizeof(pk), &s->key),
                     svc ? " " : "", svc ? svc->name : "");
        }
        np[i] = names[i];
        for (size_t b = 0; b < nb; b++)
            values[i * nb + b] = (double)s->byts[b];
    }
    fprintf(fp,
            "<p class=\"note\">%zu buckets of %g s from the first packet; the %zu series are "
            "the ports with the most bytes",
            nb, (double)v->bucket_ns / 1e9, ns);
    fputs(v->series[ns - 1].other ? ", the other ports summed.</p>\n" : ".</p>\n", fp);
    struct wp_svgchart c = {"Bytes per time bucket by service port",
                            np,
                            ns,
                            values,
                            nb,
                            v->start_ns,
                            v->bucket_ns,
                            0,
                            0,
                            NULL};
    if (wp_svgchart_write(fp, &c) != 0)
        fputs("<p class=\"note\" id=\"chart-none\">Out of memory for the chart.</p>\n", fp);
    free(values);
    free(names);
    free(np);
}

/* A chart of n series (names, per-bucket bytes) under a heading with id
 * `id`; paths of class `cls`. */
static void series_chart(FILE *fp, const struct wp_report *r, const char *id, const char *title,
                         const char *cls, const char *const *names, const uint64_t *const *byts,
                         size_t n)
{
    const struct wp_tl_view *v = &r->timeline;
    size_t nb = v->n_buckets;
    double *values = calloc(n * nb, sizeof(double));
    if (values == NULL) {
        fputs("<p class=\"note\">Out of memory for a chart.</p>\n", fp);
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < nb; b++)
            values[i * nb + b] = (double)byts[i][b];
    fprintf(fp, "<h2 id=\"%s\">", id);
    wp_html_text(fp, title);
    fputs("</h2>\n", fp);
    struct wp_svgchart c = {title, names, n, values, nb, v->start_ns, v->bucket_ns, 0, 0, cls};
    if (wp_svgchart_write(fp, &c) != 0)
        fputs("<p class=\"note\">Out of memory for a chart.</p>\n", fp);
    free(values);
}

/* The same chart by Apple service and by process, when flows had them. */
static void more_charts(FILE *fp, const struct wp_report *r)
{
    const struct wp_tl_view *v = &r->timeline;
    const char
        *names[WP_TL_MAX_PROCS + 1 > WP_APPLESVC_MAX ? WP_TL_MAX_PROCS + 1 : WP_APPLESVC_MAX];
    const uint64_t *byts[sizeof(names) / sizeof(names[0])];
    if (v->n_buckets == 0)
        return;
    if (v->n_apple > 0 && r->applesvc != NULL) {
        for (size_t i = 0; i < v->n_apple; i++) {
            names[i] = wp_applesvc_key(r->applesvc, v->apple[i].svc);
            byts[i] = v->apple[i].byts;
        }
        series_chart(fp, r, "chart-apple", "Bytes over time by Apple service", "wp-apple-series",
                     names, byts, v->n_apple);
    }
    if (v->n_procs > 0 && r->proctab != NULL) {
        char buf[WP_TL_MAX_PROCS + 1][64];
        for (size_t i = 0; i < v->n_procs; i++) {
            struct wp_proc_row row;
            memset(&row, 0, sizeof(row));
            row.group = v->procs[i].group;
            names[i] = v->procs[i].group
                           ? wp_proc_row_name(r->proctab, &row, buf[i], sizeof(buf[i]))
                           : "other processes";
            byts[i] = v->procs[i].byts;
        }
        series_chart(fp, r, "chart-processes", "Bytes over time by process", "wp-proc-series",
                     names, byts, v->n_procs);
    }
}

static void port_names(FILE *fp, const struct wp_report *r, const struct wp_name_count *v,
                       uint8_t n)
{
    struct wp_name_count sorted[WP_ROW_NAMES];
    size_t k = r->names ? wp_report_sort_names(r, v, n, sorted) : 0;
    fputs("<td class=\"names\">", fp);
    for (size_t i = 0; i < k; i++) {
        fputs(i ? ", " : "", fp);
        wp_html_text(fp, wp_nametab_get(r->names, sorted[i].id));
    }
    fputs("</td>", fp);
}

static void ports(FILE *fp, const struct wp_report *r)
{
    static const char *const cols[] = {"transport", "#port",           "service",  "#packets",
                                       "#bytes",    "#flows",          "#clients", "#servers",
                                       "names",     "Wireshark filter"};
    struct wp_filter_index *fix = wp_report_filter_index(r);
    size_t shown = port_rows(r);
    fprintf(fp,
            "<h2 id=\"ports\">Service ports</h2>\n<p class=\"note\">%zu port rows. Click a "
            "column header to sort.</p>\n",
            r->n_ports);
    table_head(fp, "ports-table", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < shown; i++) {
        const struct wp_port_row *p = r->ports[i];
        char t[16], f[WP_FILTER_MAX];
        const struct wp_service *asvc;
        const struct wp_service *svc = wp_report_port_service(r, p, &asvc);
        uint64_t pk = p->to_service.packets + p->from_service.packets + p->unattributed.packets;
        uint64_t by = p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes;
        fprintf(fp, "<tr data-i=\"%zu\">", i);
        td_text(fp, wp_fmt_transport(t, sizeof(t), p->key.proto));
        td_port(fp, p->key.has_port, p->key.port);
        fputs("<td>", fp);
        if (svc != NULL) {
            wp_html_text(fp, svc->name);
            if (svc->label[0] != '\0') {
                fputs(" <span class=\"note\">", fp);
                wp_html_text(fp, svc->label);
                fputs("</span>", fp);
            }
        }
        if (asvc != NULL && asvc != svc) {
            fputs(" (Apple: ", fp);
            wp_html_text(fp, asvc->name);
            fputs(")", fp);
        }
        fputs("</td>", fp);
        td_num(fp, pk);
        td_num(fp, by);
        td_num(fp, p->flows);
        td_num(fp, p->clients);
        td_num(fp, p->servers);
        port_names(fp, r, p->names, p->n_names);
        const char *note = NULL;
        wp_report_port_filter(f, sizeof(f), r, fix, p, &note);
        fprintf(fp, "<td class=\"f\"><code id=\"filter-%zu\">", i);
        wp_html_text(fp, f);
        fprintf(fp,
                "</code><button type=\"button\" class=\"wp-copy\" data-for=\"filter-%zu\">copy"
                "</button>",
                i);
        if (note != NULL) {
            fputs("<br><span class=\"note\">", fp);
            wp_html_text(fp, note);
            fputs("</span>", fp);
        }
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
    wp_report_filter_index_free(fix);
    uint64_t rp = 0, rb = 0;
    for (size_t i = shown; i < r->n_ports; i++) {
        const struct wp_port_row *p = r->ports[i];
        rp += p->to_service.packets + p->from_service.packets + p->unattributed.packets;
        rb += p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes;
    }
    fprintf(fp,
            "<p class=\"note\" id=\"ports-rest\" data-ports=\"%zu\" data-packets=\"%" PRIu64
            "\" data-bytes=\"%" PRIu64 "\">",
            r->n_ports - shown, rp, rb);
    if (shown < r->n_ports) {
        fprintf(fp, "The %zu largest port rows are shown; the other ", shown);
        num(fp, r->n_ports - shown);
        fputs(" carried ", fp);
        num(fp, rp);
        fputs(" packets, ", fp);
        num(fp, rb);
        fputs(" bytes. For every row: <code>-T csv</code> or <code>-T json</code>.", fp);
    }
    fputs("</p>\n", fp);
}

static size_t limit(size_t n, unsigned top)
{
    return top == 0 || top > n ? n : top;
}

static void flows(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    static const char *const cols[] = {"transport",    "client",  "#client port", "server",
                                       "#server port", "service", "name",         "process",
                                       "#packets",     "#bytes",  "first",        "last"};
    size_t shown = limit(r->n_flows, o->top);
    fputs("<h2 id=\"flows\">Flows</h2>\n", fp);
    table_head(fp, "flows-table", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < shown; i++) {
        const struct wp_flow *f = r->flows[i];
        char t[16], a[64], pc[256];
        unsigned s = f->server, c = 1u - f->server;
        bool ports = wp_proto_has_ports(f->key.proto);
        const struct wp_service *svc = wp_report_flow_service(r, f);
        bool have = (f->bits & WP_FB_TIME) != 0;
        fprintf(fp, "<tr data-i=\"%zu\">", i);
        td_text(fp, wp_fmt_transport(t, sizeof(t), f->key.proto));
        td_text(fp, wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[c]));
        td_port(fp, ports, f->key.port[c]);
        /* the server's cell: its address, and its name on hover */
        const char *fname = r->names && f->name_id ? wp_nametab_get(r->names, f->name_id) : NULL;
        if (fname != NULL) {
            fputs("<td title=\"", fp);
            wp_html_attr(fp, fname);
            fputs("\">", fp);
            wp_html_text(fp, wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[s]));
            fputs("</td>", fp);
        } else {
            td_text(fp, wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[s]));
        }
        td_port(fp, ports, f->key.port[s]);
        td_text(fp, svc ? svc->name : NULL);
        td_text(fp, r->names && f->name_id ? wp_nametab_get(r->names, f->name_id) : NULL);
        wp_report_proc_flow_cell(r, f, pc, sizeof(pc));
        td_text(fp, pc);
        td_num(fp, f->pkts[0] + f->pkts[1]);
        td_num(fp, f->bytes[0] + f->bytes[1]);
        fputs("<td class=\"t\">", fp);
        time_text(fp, have, f->first_ns, r->nanos);
        fputs("</td><td class=\"t\">", fp);
        time_text(fp, have, f->last_ns, r->nanos);
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
    uint64_t rp = 0, rb = 0;
    for (size_t i = shown; i < r->n_flows; i++) {
        rp += r->flows[i]->pkts[0] + r->flows[i]->pkts[1];
        rb += r->flows[i]->bytes[0] + r->flows[i]->bytes[1];
    }
    fprintf(fp,
            "<p class=\"note\" id=\"flows-rest\" data-flows=\"%zu\" data-packets=\"%" PRIu64
            "\" data-bytes=\"%" PRIu64 "\">",
            r->n_flows - shown, rp, rb);
    if (shown < r->n_flows) {
        fprintf(fp, "The %zu largest of ", shown);
        num(fp, r->n_flows);
        fputs(" flows are shown (--top N; 0: all). The other ", fp);
        num(fp, r->n_flows - shown);
        fputs(" flows carried ", fp);
        num(fp, rp);
        fputs(" packets, ", fp);
        num(fp, rb);
        fputs(" bytes. For every flow: <code>-T csv --view flows</code> or <code>-T json</code>.",
              fp);
    } else {
        fprintf(fp, "All %zu flows are shown.", r->n_flows);
    }
    fputs("</p>\n", fp);
}

static void servers(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    static const char *const cols[] = {"server", "Apple", "#packets", "#bytes",
                                       "#flows", "ports", "names"};
    size_t shown = limit(r->n_hosts, o->top);
    fputs("<h2 id=\"servers\">Servers</h2>\n", fp);
    table_head(fp, "servers-table", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < shown; i++) {
        const struct wp_host_row *h = r->hosts[i];
        char a[64], pk[32];
        fprintf(fp, "<tr data-i=\"%zu\">", i);
        td_text(fp, wp_fmt_addr(a, sizeof(a), h->family, h->addr));
        td_text(fp, h->apple ? "yes" : "");
        td_num(fp, h->packets);
        td_num(fp, h->bytes);
        td_num(fp, h->flows);
        fputs("<td>", fp);
        for (uint16_t k = 0; k < h->n_ports; k++) {
            fputs(k ? ", " : "", fp);
            wp_html_text(fp, wp_fmt_port_key(pk, sizeof(pk), &h->ports[k]));
        }
        if (h->ports_truncated)
            fputs(", ...", fp);
        fputs("</td><td class=\"names\">", fp);
        struct wp_name_count hv[WP_HOST_NAMES], sorted[WP_HOST_NAMES];
        for (uint8_t k = 0; k < h->n_names; k++) {
            hv[k].id = h->names[k];
            hv[k].flows = 0;
        }
        size_t k = r->names ? wp_report_sort_names(r, hv, h->n_names, sorted) : 0;
        for (size_t j = 0; j < k; j++) {
            fputs(j ? ", " : "", fp);
            wp_html_text(fp, wp_nametab_get(r->names, sorted[j].id));
        }
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
    uint64_t rp = 0, rb = 0, rf = 0;
    for (size_t i = shown; i < r->n_hosts; i++) {
        rp += r->hosts[i]->packets;
        rb += r->hosts[i]->bytes;
        rf += r->hosts[i]->flows;
    }
    if (r->hosts_other != NULL) {
        rp += r->hosts_other->packets;
        rb += r->hosts_other->bytes;
        rf += r->hosts_other->flows;
    }
    fprintf(fp,
            "<p class=\"note\" id=\"servers-rest\" data-packets=\"%" PRIu64
            "\" data-bytes=\"%" PRIu64 "\" data-flows=\"%" PRIu64 "\">",
            rp, rb, rf);
    if (shown < r->n_hosts || r->hosts_other != NULL) {
        fprintf(fp, "%zu of %zu servers are shown; the others carried ", shown, r->n_hosts);
        num(fp, rb);
        fputs(" bytes in ", fp);
        num(fp, rf);
        fputs(" flows.", fp);
    } else {
        fprintf(fp, "All %zu servers are shown.", r->n_hosts);
    }
    fputs("</p>\n", fp);
}

static void apple(FILE *fp, const struct wp_report *r)
{
    static const char *const cols[] = {"Apple service", "key",    "transport", "#port",
                                       "#packets",      "#bytes", "#flows"};
    fputs("<h2 id=\"apple\">Apple services</h2>\n", fp);
    if (r->n_apple_rows == 0 || r->applesvc == NULL) {
        fputs("<p class=\"note\">No flow of an Apple service.</p>\n", fp);
        return;
    }
    table_head(fp, "apple-table", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_apple_rows; i++) {
        const struct wp_apple_row *a = r->apple_rows[i];
        char t[16];
        fprintf(fp, "<tr data-i=\"%zu\">", i);
        td_text(fp, wp_applesvc_label(r->applesvc, a->svc));
        td_text(fp, wp_applesvc_key(r->applesvc, a->svc));
        td_text(fp, wp_fmt_transport(t, sizeof(t), a->port.proto));
        td_port(fp, a->port.has_port, a->port.port);
        td_num(fp, a->packets);
        td_num(fp, a->bytes);
        td_num(fp, a->flows);
        fputs("</tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
}

/* Names by port row: each name a port's flows carried (SNI, DNS, HTTP
 * Host, ...), with the flows that named it. */
static void names(FILE *fp, const struct wp_report *r)
{
    static const char *const cols[] = {"name", "transport", "#port", "#flows"};
    fputs("<h2 id=\"names\">Names</h2>\n", fp);
    if (r->names == NULL) {
        fputs("<p class=\"note\">Names were not collected (--no-names).</p>\n", fp);
        return;
    }
    table_head(fp, "names-table", cols, sizeof(cols) / sizeof(cols[0]));
    size_t row = 0;
    for (size_t i = 0; i < port_rows(r); i++) {
        const struct wp_port_row *p = r->ports[i];
        struct wp_name_count sorted[WP_ROW_NAMES];
        size_t k = wp_report_sort_names(r, p->names, p->n_names, sorted);
        char t[16];
        for (size_t j = 0; j < k; j++) {
            fprintf(fp, "<tr data-i=\"%zu\">", row++);
            td_text(fp, wp_nametab_get(r->names, sorted[j].id));
            td_text(fp, wp_fmt_transport(t, sizeof(t), p->key.proto));
            td_port(fp, p->key.has_port, p->key.port);
            td_num(fp, sorted[j].flows);
            fputs("</tr>\n", fp);
        }
    }
    fputs("</tbody></table>\n", fp);
}

static void processes(FILE *fp, const struct wp_report *r)
{
    static const char *const cols[] = {"process",           "#flows",
                                       "#packets sent",     "#bytes sent",
                                       "#packets received", "#bytes received"};
    fputs("<h2 id=\"processes\">Processes</h2>\n", fp);
    if (r->n_procs == 0) {
        fputs("<p class=\"note\">No record named a process (live capture with process "
              "attribution, or a pcapng file with process comments).</p>\n",
              fp);
        return;
    }
    table_head(fp, "processes-table", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_procs; i++) {
        const struct wp_proc_row *p = r->procs[i];
        char b[256];
        fprintf(fp, "<tr data-i=\"%zu\">", i);
        td_text(fp, wp_proc_row_name(r->proctab, p, b, sizeof(b)));
        td_num(fp, p->flows);
        td_num(fp, p->out.packets);
        td_num(fp, p->out.bytes);
        td_num(fp, p->in.packets);
        td_num(fp, p->in.bytes);
        fputs("</tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
    if (r->procs_without != NULL)
        fprintf(fp,
                "<p class=\"note\">Flows without a process: %" PRIu64 " (%" PRIu64 " bytes).</p>\n",
                r->procs_without->flows, r->procs_without->bytes);
}

/* The machine-readable summary, for scripts reading the page: JSON in a
 * non-executed script element, every string through wp_script_json_string. */
static void data_block(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    const struct wp_totals *t = r->totals;
    fprintf(fp,
            "<script type=\"application/json\" id=\"wp-data\">{\"schema\": \"%s\", "
            "\"sources\": [",
            WP_SCHEMA);
    for (size_t i = 0; i < r->n_sources; i++) {
        fputs(i ? ", " : "", fp);
        wp_script_json_string(fp, r->sources[i]);
    }
    fprintf(fp,
            "], \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"flows\": %zu, "
            "\"flows_shown\": %zu, \"ports\": %zu, \"names\": [",
            t->packets, t->bytes, r->n_flows, limit(r->n_flows, o->top), r->n_ports);
    const char *sep = "";
    for (size_t i = 0; r->names != NULL && i < port_rows(r); i++) {
        struct wp_name_count sorted[WP_ROW_NAMES];
        size_t k = wp_report_sort_names(r, r->ports[i]->names, r->ports[i]->n_names, sorted);
        for (size_t j = 0; j < k; j++) {
            fputs(sep, fp);
            wp_script_json_string(fp, wp_nametab_get(r->names, sorted[j].id));
            sep = ", ";
        }
    }
    fputs("]}</script>\n", fp);
}

void wp_report_html(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    char hash[128];
    script_hash(hash, sizeof(hash));
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", fp);
    fprintf(fp,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src %s; base-uri 'none'; form-action "
            "'none'\">\n",
            hash);
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"whichports " WP_VERSION "\">\n<title>whichports: ",
          fp);
    for (size_t i = 0; i < r->n_sources; i++) {
        fputs(i ? ", " : "", fp);
        wp_html_text(fp, r->sources[i]);
    }
    fprintf(fp, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style_css);
    header(fp, r);
    chart(fp, r);
    more_charts(fp, r);
    ports(fp, r);
    flows(fp, r, o);
    servers(fp, r, o);
    apple(fp, r);
    names(fp, r);
    processes(fp, r);
    totals(fp, r);
    data_block(fp, r, o);
    fprintf(fp,
            "<p class=\"note\">Made by whichports %s. Bytes are frame lengths on the wire, "
            "as Wireshark's frame.len.</p>\n",
            WP_VERSION);
    fprintf(fp, "<script>%s</script>\n</body>\n</html>\n", script_js);
}
