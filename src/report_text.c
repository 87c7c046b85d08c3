/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the text report: a totals header and aligned tables */

#include <inttypes.h>
#include <string.h>

#include "wp/decode.h"
#include "wp/escape.h"
#include "wp/report.h"
#include "wp/report_proc.h"
#include "wp/report_baseline.h"
#include "wp/report_outcome.h"
#include "wp/util.h"

#define MAXCOLS 11

/* A table whose column widths are the widest cell, right-aligned unless the
 * column is marked left. Cells are formatted first, then printed. */
struct cell {
    char s[160];
};

struct table {
    size_t ncols;
    const char *head[MAXCOLS];
    bool left[MAXCOLS];
    size_t width[MAXCOLS];
    size_t max_last;      /* display width allowed for the last column, 0: any */
};

static void table_init(struct table *t, size_t ncols, const char *const *head, const bool *left)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        t->head[i] = head[i];
        t->left[i] = left[i];
        t->width[i] = strlen(head[i]);
    }
}

static size_t display_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            w++;
    return w;
}

static void table_measure(struct table *t, const struct cell *row)
{
    for (size_t i = 0; i < t->ncols; i++) {
        size_t w = display_width(row[i].s);
        if (w > t->width[i])
            t->width[i] = w;
    }
}

static void print_cell(FILE *fp, const char *s, size_t width, bool left, bool last)
{
    size_t w = display_width(s);
    size_t pad = width > w ? width - w : 0;
    if (!left)
        for (size_t i = 0; i < pad; i++)
            fputc(' ', fp);
    wp_text_string(fp, s);
    if (left && !last)
        for (size_t i = 0; i < pad; i++)
            fputc(' ', fp);
}

/* Cut `s` in place to at most `max` characters, ending in "..." when cut. */
static void ellipsize(char *s, size_t max)
{
    if (max < 4 || display_width(s) <= max)
        return;
    size_t chars = 0, i = 0;
    while (s[i] != '\0' && chars < max - 3) {
        i++;
        while ((s[i] & 0xc0) == 0x80)
            i++;
        chars++;
    }
    memcpy(s + i, "...", 4);
}

static void table_row(FILE *fp, const struct table *t, const struct cell *row)
{
    size_t n = t->ncols;
    while (n > 1 && row[n - 1].s[0] == '\0' && t->left[n - 1])
        n--; /* no trailing blanks */
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs("  ", fp);
        if (i + 1 == t->ncols && t->max_last > 0) {
            char cut[sizeof(row[i].s)];
            memcpy(cut, row[i].s, sizeof(cut));
            ellipsize(cut, t->max_last);
            print_cell(fp, cut, t->width[i], t->left[i], true);
        } else {
            print_cell(fp, row[i].s, t->width[i], t->left[i], i + 1 == n);
        }
    }
    fputc('\n', fp);
}

/* Let the last column use what is left of `cols` columns (at least 16). */
static void table_fit(struct table *t, size_t cols)
{
    size_t used = 0;
    for (size_t i = 0; i + 1 < t->ncols; i++)
        used += t->width[i] + 2;
    t->max_last = used + 16 < cols ? cols - used : 16;
}

static void table_head(FILE *fp, const struct table *t)
{
    struct cell row[MAXCOLS];
    for (size_t i = 0; i < t->ncols; i++)
        snprintf(row[i].s, sizeof(row[i].s), "%s", t->head[i]);
    table_row(fp, t, row);
}

static char *pct(char *buf, size_t n, uint64_t part, uint64_t whole)
{
    if (part == 0 || whole == 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.0f%%", 100.0 * (double)part / (double)whole);
    return buf;
}

static void header(FILE *fp, const struct wp_report *r)
{
    const struct wp_totals *t = r->totals;
    char b1[48], b2[48];
    fprintf(fp, "whichports %s: ", WP_VERSION);
    for (size_t i = 0; i < r->n_sources && i < 3; i++) {
        fputs(i ? ", " : "", fp);
        wp_text_string(fp, r->sources[i]);
    }
    if (r->n_sources > 3)
        fprintf(fp, " and %zu more", r->n_sources - 3);
    if (r->n_link_types > 0) {
        fputs(" (", fp);
        for (size_t i = 0; i < r->n_link_types; i++) {
            fputs(i ? ", " : "", fp);
            wp_text_string(fp, r->link_types[i]);
        }
        fputs(")", fp);
    }
    fputc('\n', fp);
    if (r->filter != NULL) {
        fputs("  filter: ", fp);
        wp_text_string(fp, r->filter);
        fputc('\n', fp);
    }
    if (r->count)
        fprintf(fp, "  at most %" PRIu64 " packets (-c)\n", r->count);
    if (r->has_interval) {
        fprintf(fp, "  interval %s -> %s\n",
                wp_fmt_time(b1, sizeof(b1), r->interval_start_ns, false),
                wp_fmt_time(b2, sizeof(b2), r->interval_end_ns, false));
    }
    fprintf(fp, "  %" PRIu64 " packets, %s", t->packets, wp_fmt_bytes(b1, sizeof(b1), t->bytes));
    if (t->have_ts) {
        double secs = (double)(t->last_ns - t->first_ns) / (double)WP_NS_PER_S;
        fprintf(fp, " in %.1f s\n  %s to %s", secs,
                wp_fmt_time(b1, sizeof(b1), t->first_ns, false),
                wp_fmt_time(b2, sizeof(b2), t->last_ns, false));
    }
    fputc('\n', fp);
    fprintf(fp, "  IP %" PRIu64 ", other %" PRIu64 ", undecodable %" PRIu64 ", truncated %" PRIu64
                ", fragments %" PRIu64 " (%" PRIu64 " unattributed)\n",
            t->ip_packets, t->other_packets, t->undecodable_packets, t->truncated, t->fragments,
            t->fragments_unattributed);
    uint64_t mal = 0;
    for (int i = 0; i < WP_MAL_COUNT; i++)
        mal += t->malformed[i];
    fprintf(fp, "  flows %" PRIu64, t->flows);
    if (t->flows_evicted)
        fprintf(fp, " (%" PRIu64 " evicted)", t->flows_evicted);
    if (t->flows_dropped)
        fprintf(fp, " (%" PRIu64 " not stored: out of memory)", t->flows_dropped);
    if (t->agg_dropped)
        fprintf(fp, " (%" PRIu64 " aggregate updates lost: out of memory)", t->agg_dropped);
    if (t->tunneled)
        fprintf(fp, ", tunnelled packets %" PRIu64, t->tunneled);
    fprintf(fp, ", malformed %" PRIu64, mal);
    if (t->dropped_known)
        fprintf(fp, ", dropped by kernel %" PRIu64 ", by interface %" PRIu64, t->dropped,
                t->ifdropped);
    fputc('\n', fp);
    const struct wp_attr_counts *ac = &t->attr;
    if (ac->state == WP_ATTR_ON)
        fprintf(fp,
                "  processes: %" PRIu64 " new flows, %" PRIu64 " attributed; unknown: %" PRIu64
                " not local, %" PRIu64 " gone, %" PRIu64 " no permission, %" PRIu64
                " queue full, %" PRIu64 " lookup failed\n",
                ac->requested, ac->attributed, ac->not_local, ac->gone, ac->no_permission,
                ac->queue_full, ac->failed);
    else if (ac->state == WP_ATTR_OFF) {
        fputs("  processes: not looked up: ", fp);
        wp_text_string(fp, ac->off_reason != NULL ? ac->off_reason : "");
        fputc('\n', fp);
    }
    if (mal) {
        fputs("  malformed:", fp);
        for (int i = 0; i < WP_MAL_COUNT; i++)
            if (t->malformed[i])
                fprintf(fp, " %s %" PRIu64, wp_malformed_name[i], t->malformed[i]);
        fputc('\n', fp);
    }
    if (t->truncated) {
        fputs("  truncated in:", fp);
        for (int i = 0; i < WP_TRUNC_COUNT; i++)
            if (t->truncated_at[i])
                fprintf(fp, " %s %" PRIu64, wp_truncated_name[i], t->truncated_at[i]);
        fputc('\n', fp);
        bool cs = false;
        for (int i = 0; i < WP_TRUNC_COUNT; i++)
            if (t->captured_short[i]) {
                fputs(cs ? "" : "  of which counted under their flow (captured short):", fp);
                fprintf(fp, " %s %" PRIu64, wp_truncated_name[i], t->captured_short[i]);
                cs = true;
            }
        if (cs)
            fputc('\n', fp);
    }
    for (size_t i = 0; i < r->n_errors; i++) {
        fputs("  WARNING: ", fp);
        wp_text_string(fp, r->errors[i]);
        fputc('\n', fp);
    }
}

/* The PROCESS cell of a port row: the process that used it most, then
 * " +N" for the N others, the name cut so that the cell fits `width`. */
static void proc_cell(const struct wp_report *r, const struct wp_port_row *p, char *buf, size_t n,
                      size_t width)
{
    char b[64], more[24] = "";
    size_t others;
    const char *name = wp_report_proc_port_top(r, p, b, sizeof(b), &others);
    buf[0] = '\0';
    if (name == NULL)
        return;
    if (others > 0)
        snprintf(more, sizeof(more), " +%zu", others);
    snprintf(buf, n, "%.64s", name);
    ellipsize(buf, width > strlen(more) + 4 ? width - strlen(more) : 4);
    snprintf(buf + strlen(buf), n - strlen(buf), "%s", more);
}

static void ports_table(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    static const char *const head[] = {"PORT",  "PACKETS", "BYTES",   "FLOWS",  "CLI/SRV",
                                       "APPLE", "OUTCOME", "PROCESS", "SERVICE"};
    static const bool left[] = {true, false, false, false, false, false, true, true, true};
    /* PROCESS (column 7) when any record named a process: the top process
     * and "+N" others, cut to what 80 columns leave beside the other
     * columns and the widest service name (PROC_MIN to PROC_MAX
     * characters); SERVICE stays last, so its label goes first */
    enum { PROC_MIN = 12, PROC_MAX = 20 };
    size_t proc_w = PROC_MAX, svc_name_w = 0;
    bool procs = r->n_procs > 0;
    size_t ncol = procs ? 9 : 8, sv = ncol - 1;
    const char *hd[9];
    bool lf[9];
    for (size_t i = 0, j = 0; i < 9; i++)
        if (procs || i != 7) {
            hd[j] = head[i];
            lf[j++] = left[i];
        }
    struct table t;
    table_init(&t, ncol, hd, lf);
    /* flows by port, for the display filters (NULL: filters without servers) */
    struct wp_filter_index *fix = o->filters ? wp_report_filter_index(r) : NULL;
    fprintf(fp, "\nSERVICE PORTS (%zu)\n", r->n_ports);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && procs) {
            size_t used = 2 * sv + (svc_name_w < 16 ? svc_name_w : 16);
            for (size_t i = 0; i < 7; i++)
                used += t.width[i];
            proc_w = used + PROC_MIN < 80 ? 80 - used : PROC_MIN;
            proc_w = proc_w > PROC_MAX ? PROC_MAX : proc_w;
            t.width[7] = t.width[7] > proc_w ? proc_w : t.width[7];
            if (t.width[7] < strlen(hd[7]))
                t.width[7] = strlen(hd[7]);
        }
        if (pass == 1) {
            table_fit(&t, 80);
            table_head(fp, &t);
        }
        for (size_t i = 0; i < r->n_ports; i++) {
            const struct wp_port_row *p = r->ports[i];
            struct cell c[9];
            uint64_t pk = p->to_service.packets + p->from_service.packets + p->unattributed.packets;
            uint64_t by = p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes;
            const struct wp_service *asvc;
            const struct wp_service *svc = wp_report_port_service(r, p, &asvc);
            wp_fmt_port_key(c[0].s, sizeof(c[0].s), &p->key);
            snprintf(c[1].s, sizeof(c[1].s), "%" PRIu64, pk);
            wp_fmt_bytes(c[2].s, sizeof(c[2].s), by);
            snprintf(c[3].s, sizeof(c[3].s), "%" PRIu64, p->flows);
            snprintf(c[4].s, sizeof(c[4].s), "%" PRIu64 "/%" PRIu64, p->clients, p->servers);
            pct(c[5].s, sizeof(c[5].s), p->apple.bytes, by);
            wp_outcome_glance(c[6].s, sizeof(c[6].s), &p->outcomes);
            /* name, then the label when it fits in 80 columns */
            const char *nm = svc ? svc->name : asvc ? asvc->name : NULL;
            const char *lb = svc && (!asvc || asvc == svc) ? svc->label
                             : asvc                       ? "Apple servers"
                                                          : NULL;
            if (svc != NULL && asvc != NULL && asvc != svc)
                lb = NULL;
            c[sv].s[0] = '\0';
            if (nm != NULL) {
                size_t need = strlen(nm) + (lb ? strlen(lb) + 3 : 0);
                if (lb != NULL && (pass == 0 || t.max_last == 0 || need <= t.max_last))
                    snprintf(c[sv].s, sizeof(c[sv].s), "%s (%s)", nm, lb);
                else
                    snprintf(c[sv].s, sizeof(c[sv].s), "%s", nm);
                if (svc != NULL && asvc != NULL && asvc != svc && strlen(c[sv].s) + 24 < 80)
                    snprintf(c[sv].s + strlen(c[sv].s), sizeof(c[sv].s) - strlen(c[sv].s),
                             ", Apple: %s", asvc->name);
            } else if (!p->key.has_port && p->flows == 0) {
                snprintf(c[sv].s, sizeof(c[sv].s), "(no port: fragments, cut headers)");
            }
            if (procs)
                proc_cell(r, p, c[7].s, sizeof(c[7].s), proc_w);
            if (nm != NULL && display_width(nm) > svc_name_w)
                svc_name_w = display_width(nm);
            if (pass == 0) {
                table_measure(&t, c);
            } else {
                table_row(fp, &t, c);
                if (o->filters) {
                    char f[WP_FILTER_MAX];
                    const char *note;
                    wp_report_port_filter(f, sizeof(f), r, fix, p, &note);
                    fputs("    wireshark", fp);
                    if (note != NULL) {
                        fputs(" (not exact: ", fp);
                        wp_text_string(fp, note);
                        fputc(')', fp);
                    }
                    fputs(": ", fp);
                    wp_text_string(fp, f);
                    fputc('\n', fp);
                }
            }
        }
    }
    wp_report_filter_index_free(fix);
}

static void flows_table(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    static const char *const head[] = {"TRANSPORT", "SERVER",  "PORT", "CLIENT", "PACKETS", "BYTES",
                                       "APPLE",     "SERVICE", "HOW",  "NAME",   "PROCESS"};
    static const bool left[] = {true, true, false, true, false, false,
                                true, true, true,  true, true};
    size_t ncol = r->n_procs > 0 ? 11 : 10; /* PROCESS when any record named a process */
    size_t n = r->n_flows;
    if (o->top && n > o->top)
        n = o->top;
    struct table t;
    table_init(&t, ncol, head, left);
    fprintf(fp, "\nTOP FLOWS (%zu of %zu)\n", n, r->n_flows);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            table_head(fp, &t);
        for (size_t i = 0; i < n; i++) {
            const struct wp_flow *f = r->flows[i];
            unsigned s = f->server, cl = 1u - f->server;
            struct cell c[11];
            bool ports = wp_proto_has_ports(f->key.proto);
            wp_fmt_transport(c[0].s, sizeof(c[0].s), f->key.proto);
            wp_fmt_addr(c[1].s, sizeof(c[1].s), f->key.family, f->key.addr[s]);
            if (ports)
                snprintf(c[2].s, sizeof(c[2].s), "%u", f->key.port[s]);
            else
                snprintf(c[2].s, sizeof(c[2].s), "-");
            char a[64];
            wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[cl]);
            if (ports)
                snprintf(c[3].s, sizeof(c[3].s), f->key.family == 6 ? "[%s]:%u" : "%s:%u", a,
                         f->key.port[cl]);
            else
                snprintf(c[3].s, sizeof(c[3].s), "%s", a);
            snprintf(c[4].s, sizeof(c[4].s), "%" PRIu64, f->pkts[0] + f->pkts[1]);
            wp_fmt_bytes(c[5].s, sizeof(c[5].s), f->bytes[0] + f->bytes[1]);
            snprintf(c[6].s, sizeof(c[6].s), "%s",
                     wp_flow_apple_doubt(f)    ? "doubtful"
                     : wp_flow_server_apple(f) ? "yes"
                     : wp_flow_name_apple(f)   ? "name"
                     : wp_flow_any_apple(f)    ? "client"
                                               : "");
            const struct wp_service *svc = wp_report_flow_service(r, f);
            snprintf(c[7].s, sizeof(c[7].s), "%s", svc ? svc->name : "");
            snprintf(c[8].s, sizeof(c[8].s), "%s", wp_how_name(f->how));
            const char *nm = r->names ? wp_nametab_get(r->names, f->name_id) : NULL;
            snprintf(c[9].s, sizeof(c[9].s), "%.100s", nm ? nm : "");
            ellipsize(c[9].s, 64); /* the whole name is in the JSON and CSV reports */
            if (ncol == 11)
                wp_report_proc_flow_cell(r, f, c[10].s, sizeof(c[10].s));
            if (pass == 0)
                table_measure(&t, c);
            else
                table_row(fp, &t, c);
        }
    }
}

static void hosts_table(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    static const char *const head[] = {"SERVER", "PACKETS", "BYTES", "FLOWS", "APPLE", "NAME",
                                       "PORTS"};
    static const bool left[] = {true, false, false, false, true, true, true};
    size_t n = r->n_hosts;
    if (o->top && n > o->top)
        n = o->top;
    struct table t;
    table_init(&t, 7, head, left);
    fprintf(fp, "\nTOP SERVERS (%zu of %zu)\n", n, r->n_hosts);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            table_fit(&t, 80);
            table_head(fp, &t);
        }
        for (size_t i = 0; i < n; i++) {
            const struct wp_host_row *h = r->hosts[i];
            struct cell c[7];
            wp_fmt_addr(c[0].s, sizeof(c[0].s), h->family, h->addr);
            snprintf(c[1].s, sizeof(c[1].s), "%" PRIu64, h->packets);
            wp_fmt_bytes(c[2].s, sizeof(c[2].s), h->bytes);
            snprintf(c[3].s, sizeof(c[3].s), "%" PRIu64, h->flows);
            snprintf(c[4].s, sizeof(c[4].s), "%s", h->apple ? "yes" : "");
            size_t off = 0;
            c[6].s[0] = '\0';
            /* whole items only: what does not fit becomes "+N" */
            size_t room = pass == 1 && t.max_last > 0 ? t.max_last : sizeof(c[6].s) - 1;
            if (room > sizeof(c[6].s) - 1)
                room = sizeof(c[6].s) - 1;
            uint16_t shown = 0;
            for (; shown < h->n_ports; shown++) {
                char pk[32];
                wp_fmt_port_key(pk, sizeof(pk), &h->ports[shown]);
                size_t need = strlen(pk) + (shown ? 1 : 0);
                bool more = shown + 1 < h->n_ports || h->ports_truncated;
                if (off + need + (more ? 5 : 0) > room && shown > 0)
                    break;
                off += (size_t)snprintf(c[6].s + off, sizeof(c[6].s) - off, "%s%s",
                                        shown ? " " : "", pk);
            }
            if (shown < h->n_ports || h->ports_truncated)
                snprintf(c[6].s + off, sizeof(c[6].s) - off, " +%u%s",
                         (unsigned)(h->n_ports - shown), h->ports_truncated ? "..." : "");
            off = 0;
            c[5].s[0] = '\0';
            struct wp_name_count hv[WP_HOST_NAMES], hs[WP_HOST_NAMES];
            for (uint8_t k = 0; k < h->n_names; k++) {
                hv[k].id = h->names[k];
                hv[k].flows = 0;
            }
            if (wp_report_sort_names(r, hv, h->n_names, hs) > 0) {
                const char *nm = wp_nametab_get(r->names, hs[0].id);
                snprintf(c[5].s, sizeof(c[5].s), h->n_names > 1 ? "%s +%u" : "%s", nm ? nm : "",
                         (unsigned)(h->n_names - 1));
                ellipsize(c[5].s, 32);
            }
            if (pass == 0)
                table_measure(&t, c);
            else
                table_row(fp, &t, c);
        }
    }
}

static void tunnels_table(FILE *fp, const struct wp_report *r)
{
    static const char *const head[] = {"TUNNEL", "OUTER A", "OUTER B", "PACKETS", "BYTES"};
    static const bool left[] = {true, true, true, false, false};
    struct table t;
    table_init(&t, 5, head, left);
    fprintf(fp, "\nTUNNELS (%zu; their packets are counted above under the inner ports)\n",
            r->n_tunnels);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            table_head(fp, &t);
        for (size_t i = 0; i < r->n_tunnels; i++) {
            const struct wp_tunnel_row *tr = r->tunnels[i];
            struct cell c[5];
            char a[64], tp[16];
            snprintf(c[0].s, sizeof(c[0].s), "%s", wp_tunnel_kind_name(tr->kind));
            for (int k = 0; k < 2; k++) {
                if (tr->family == 0) {
                    snprintf(c[1 + k].s, sizeof(c[1 + k].s), "-");
                    continue;
                }
                wp_fmt_addr(a, sizeof(a), tr->family, tr->addr[k]);
                if (wp_proto_has_ports(tr->proto))
                    snprintf(c[1 + k].s, sizeof(c[1 + k].s),
                             tr->family == 6 ? "%s [%s]:%u" : "%s %s:%u",
                             wp_fmt_transport(tp, sizeof(tp), tr->proto), a, tr->port[k]);
                else
                    snprintf(c[1 + k].s, sizeof(c[1 + k].s), "%s", a);
            }
            snprintf(c[3].s, sizeof(c[3].s), "%" PRIu64, tr->packets);
            wp_fmt_bytes(c[4].s, sizeof(c[4].s), tr->bytes);
            if (pass == 0)
                table_measure(&t, c);
            else
                table_row(fp, &t, c);
        }
    }
}

void wp_report_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    header(fp, r);
    if (o->apple) {
        wp_report_apple_text(fp, r, o);
        return;
    }
    ports_table(fp, r, o);
    wp_report_baseline_text(fp, r, o);
    wp_report_proc_text(fp, r, o);
    if (r->n_flows > 0)
        flows_table(fp, r, o);
    if (r->n_hosts > 0)
        hosts_table(fp, r, o);
    if (r->hosts_other != NULL && r->hosts_other->flows > 0)
        fprintf(fp, "  (and more servers than the table holds: %" PRIu64 " flows, %" PRIu64
                    " packets counted together)\n",
                r->hosts_other->flows, r->hosts_other->packets);
    if (r->n_tunnels > 0)
        tunnels_table(fp, r);
    if (r->peers_loaded)
        fputs("\nnote: merged reports listed no flows (or not all): CLI/SRV counts are lower "
              "bounds\n",
              fp);
    else if (r->peers_capped && r->peers_estimated)
        fputs("\nnote: too many distinct addresses to count them all; CLI/SRV counts are "
              "estimates (HyperLogLog, 1.6 % standard error) for the busiest ports, lower "
              "bounds for the others\n",
              fp);
    else if (r->peers_capped)
        fputs("\nnote: too many distinct addresses to count them all; CLI/SRV counts are "
              "lower bounds\n",
              fp);
}
