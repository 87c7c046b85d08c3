/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the view by Apple service: observed ports against documented ones
 *
 * For each Apple service seen (APNs, Messages/FaceTime identity, FaceTime
 * media, iCloud, ...): the ports its flows used with packets and bytes, the
 * names and servers, and the comparison with the ports Apple documents for
 * it (data/apple-services.txt): observed and documented, observed but not
 * documented, documented but not seen. This is the direct answer to "which
 * ports does the Messages app use?". */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wp/escape.h"
#include "wp/report.h"
#include "wp/report_proc.h"
#include "wp/report_outcome.h"
#include "wp/util.h"

static int cmp_server(const void *a, const void *b)
{
    const uint8_t *x = a, *y = b;
    return memcmp(x, y, 17);
}

/* The documented port line of service `svc` covering a row's port, or NULL. */
static const struct wp_applesvc_port *documented(const struct wp_report *r, int svc,
                                                 const struct wp_port_key *k)
{
    const struct wp_applesvc_port *p;
    size_t n = wp_applesvc_ports(r->applesvc, svc, &p);
    const struct wp_applesvc_port *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (k->has_port && p[i].proto == k->proto && k->port >= p[i].lo && k->port <= p[i].hi &&
            (best == NULL || p[i].hi - p[i].lo < best->hi - best->lo))
            best = &p[i];
    return best;
}

/* True when some observed row of `svc` falls in the documented range. */
static bool seen(const struct wp_report *r, size_t first, size_t end,
                 const struct wp_applesvc_port *p)
{
    for (size_t i = first; i < end; i++) {
        const struct wp_port_key *k = &r->apple_rows[i]->port;
        if (k->has_port && k->proto == p->proto && k->port >= p->lo && k->port <= p->hi)
            return true;
    }
    return false;
}

static char *range_str(char *buf, size_t n, const struct wp_applesvc_port *p)
{
    const char *t = p->proto == WP_IPPROTO_TCP ? "tcp" : "udp";
    if (p->lo == p->hi)
        snprintf(buf, n, "%s/%u", t, p->lo);
    else
        snprintf(buf, n, "%s/%u-%u", t, p->lo, p->hi);
    return buf;
}

/* Packets, bytes and flows of rows [first, end). */
static void group_sums(const struct wp_report *r, size_t first, size_t end, uint64_t *pk,
                       uint64_t *by, uint64_t *fl)
{
    *pk = *by = *fl = 0;
    for (size_t i = first; i < end; i++) {
        *pk += r->apple_rows[i]->packets;
        *by += r->apple_rows[i]->bytes;
        *fl += r->apple_rows[i]->flows;
    }
}

/* Rows [first, end) of one service. Returns end. */
static size_t group_end(const struct wp_report *r, size_t first)
{
    size_t end = first;
    while (end < r->n_apple_rows && r->apple_rows[end]->svc == r->apple_rows[first]->svc)
        end++;
    return end;
}

void wp_report_apple_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    (void)o;
    fputs("\nAPPLE SERVICES", fp);
    if (r->applesvc == NULL || r->n_apple_rows == 0) {
        fputs("\n  no traffic to Apple's addresses or names\n", fp);
        return;
    }
    fputc('\n', fp);
    for (size_t first = 0; first < r->n_apple_rows;) {
        size_t end = group_end(r, first);
        int svc = r->apple_rows[first]->svc;
        uint64_t pk, by, fl;
        group_sums(r, first, end, &pk, &by, &fl);
        char b[48];
        fputc('\n', fp);
        wp_text_string(fp, wp_applesvc_key(r->applesvc, svc));
        fputs(": ", fp);
        wp_text_string(fp, wp_applesvc_label(r->applesvc, svc));
        fprintf(fp, "\n  %" PRIu64 " flows, %" PRIu64 " packets, %s\n", fl, pk,
                wp_fmt_bytes(b, sizeof(b), by));
        fprintf(fp, "  %-12s %9s %10s %6s  %-19s  %s\n", "PORT", "PACKETS", "BYTES", "FLOWS",
                "DOCUMENTED BY APPLE", "WHAT HAPPENED");
        for (size_t i = first; i < end; i++) {
            const struct wp_apple_row *a = r->apple_rows[i];
            char pk_s[32];
            const struct wp_applesvc_port *d = documented(r, svc, &a->port);
            char doc[48];
            if (d != NULL)
                snprintf(doc, sizeof(doc), "yes (%s)", d->status);
            else
                snprintf(doc, sizeof(doc), "no");
            char what[200];
            fprintf(fp, "  %-12s %9" PRIu64 " %10s %6" PRIu64 "  %-19s  %s\n",
                    wp_fmt_port_key(pk_s, sizeof(pk_s), &a->port), a->packets,
                    wp_fmt_bytes(b, sizeof(b), a->bytes), a->flows, doc,
                    wp_outcome_apple_line(what, sizeof(what), &a->outcomes));
        }
        const struct wp_applesvc_port *dp;
        size_t nd = wp_applesvc_ports(r->applesvc, svc, &dp);
        bool any = false;
        for (size_t k = 0; k < nd; k++) {
            if (seen(r, first, end, &dp[k]))
                continue;
            char rs[32];
            fprintf(fp, "%s%s (%s)", any ? ", " : "  documented, not seen: ",
                    range_str(rs, sizeof(rs), &dp[k]), dp[k].status);
            any = true;
        }
        if (any)
            fputc('\n', fp);
        const struct wp_apple_svc_info *si = r->agg ? wp_agg_apple_svc(r->agg, svc) : NULL;
        struct wp_name_count nv[WP_ROW_NAMES];
        size_t nn = si ? wp_report_sort_names(r, si->names, si->n_names, nv) : 0;
        if (nn > 0) {
            fputs("  names:", fp);
            for (size_t k = 0; k < nn; k++) {
                fputc(' ', fp);
                wp_text_string(fp, wp_nametab_get(r->names, nv[k].id));
                fprintf(fp, " (%" PRIu64 ")", nv[k].flows);
            }
            fputc('\n', fp);
        }
        if (si != NULL && si->n_servers > 0) {
            struct wp_apple_svc_info sorted = *si;
            qsort(sorted.servers, sorted.n_servers, sizeof(sorted.servers[0]), cmp_server);
            fputs("  servers:", fp);
            for (uint8_t k = 0; k < sorted.n_servers; k++) {
                char a[64];
                fprintf(fp, " %s", wp_fmt_addr(a, sizeof(a), sorted.servers[k].family,
                                               sorted.servers[k].addr));
            }
            fputs(si->servers_truncated ? " ...\n" : "\n", fp);
        }
        wp_report_proc_text_apple(fp, r, svc);
        first = end;
    }
}

void wp_report_apple_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    if (o->csv_header)
        fprintf(fp, "%sservice,label,transport,ports,observed,packets,bytes,flows,documented,"
                    "status\r\n",
                r->has_interval ? "time," : "");
    if (r->applesvc == NULL)
        return;
    char tb[48];
    const char *lead = r->has_interval ? wp_fmt_time(tb, sizeof(tb), r->interval_end_ns, r->nanos)
                                       : NULL;
    for (size_t first = 0; first < r->n_apple_rows;) {
        size_t end = group_end(r, first);
        int svc = r->apple_rows[first]->svc;
        const char *key = wp_applesvc_key(r->applesvc, svc);
        const char *label = wp_applesvc_label(r->applesvc, svc);
        for (size_t i = first; i < end; i++) {
            const struct wp_apple_row *a = r->apple_rows[i];
            const struct wp_applesvc_port *d = documented(r, svc, &a->port);
            char t[16], ps[16];
            if (lead) {
                wp_csv_field(fp, lead);
                fputc(',', fp);
            }
            wp_csv_field(fp, key);
            fputc(',', fp);
            wp_csv_field(fp, label);
            fprintf(fp, ",%s,", wp_fmt_transport(t, sizeof(t), a->port.proto));
            if (a->port.has_port) {
                snprintf(ps, sizeof(ps), "%u", a->port.port);
                wp_csv_field(fp, ps);
            }
            fprintf(fp, ",true,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s\r\n", a->packets,
                    a->bytes, a->flows, d ? "true" : "false", d ? d->status : "");
        }
        const struct wp_applesvc_port *dp;
        size_t nd = wp_applesvc_ports(r->applesvc, svc, &dp);
        for (size_t k = 0; k < nd; k++) {
            if (seen(r, first, end, &dp[k]))
                continue;
            if (lead) {
                wp_csv_field(fp, lead);
                fputc(',', fp);
            }
            wp_csv_field(fp, key);
            fputc(',', fp);
            wp_csv_field(fp, label);
            if (dp[k].lo == dp[k].hi)
                fprintf(fp, ",%s,%u", dp[k].proto == WP_IPPROTO_TCP ? "tcp" : "udp", dp[k].lo);
            else
                fprintf(fp, ",%s,%u-%u", dp[k].proto == WP_IPPROTO_TCP ? "tcp" : "udp", dp[k].lo,
                        dp[k].hi);
            fprintf(fp, ",false,0,0,0,true,%s\r\n", dp[k].status);
        }
        first = end;
    }
}

void wp_report_apple_json(FILE *fp, const struct wp_report *r, const char *nl, const char *ind)
{
    fprintf(fp, ",%s%s\"apple\": [", nl[0] ? nl : " ", ind);
    bool first_svc = true;
    for (size_t first = 0; r->applesvc != NULL && first < r->n_apple_rows;) {
        size_t end = group_end(r, first);
        int svc = r->apple_rows[first]->svc;
        uint64_t pk, by, fl;
        group_sums(r, first, end, &pk, &by, &fl);
        fprintf(fp, "%s%s%s{\"service\": ", first_svc ? "" : ",", nl[0] ? nl : (first_svc ? "" : " "),
                nl[0] ? "    " : "");
        first_svc = false;
        wp_json_string(fp, wp_applesvc_key(r->applesvc, svc));
        fputs(", \"label\": ", fp);
        wp_json_string(fp, wp_applesvc_label(r->applesvc, svc));
        fprintf(fp, ", \"flows\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
                    ", \"ports\": [",
                fl, pk, by);
        for (size_t i = first; i < end; i++) {
            const struct wp_apple_row *a = r->apple_rows[i];
            const struct wp_applesvc_port *d = documented(r, svc, &a->port);
            char t[16];
            fprintf(fp, "%s{\"transport\": \"%s\", \"port\": ", i > first ? ", " : "",
                    wp_fmt_transport(t, sizeof(t), a->port.proto));
            if (a->port.has_port)
                fprintf(fp, "%u", a->port.port);
            else
                fputs("null", fp);
            fprintf(fp, ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"flows\": %" PRIu64
                        ", \"documented\": %s, \"status\": ",
                    a->packets, a->bytes, a->flows, d ? "true" : "false");
            if (d)
                wp_json_string(fp, d->status);
            else
                fputs("null", fp);
            wp_outcome_json_row(fp, &a->outcomes);
            fputs("}", fp);
        }
        fputs("], \"documented_not_seen\": [", fp);
        const struct wp_applesvc_port *dp;
        size_t nd = wp_applesvc_ports(r->applesvc, svc, &dp);
        bool any = false;
        for (size_t k = 0; k < nd; k++) {
            if (seen(r, first, end, &dp[k]))
                continue;
            fprintf(fp, "%s{\"transport\": \"%s\", \"first\": %u, \"last\": %u, \"status\": ",
                    any ? ", " : "", dp[k].proto == WP_IPPROTO_TCP ? "tcp" : "udp", dp[k].lo,
                    dp[k].hi);
            wp_json_string(fp, dp[k].status);
            fputs("}", fp);
            any = true;
        }
        fputs("], \"names\": [", fp);
        const struct wp_apple_svc_info *si = r->agg ? wp_agg_apple_svc(r->agg, svc) : NULL;
        struct wp_name_count nv[WP_ROW_NAMES];
        size_t nn = si ? wp_report_sort_names(r, si->names, si->n_names, nv) : 0;
        for (size_t k = 0; k < nn; k++) {
            fputs(k ? ", {\"name\": " : "{\"name\": ", fp);
            wp_json_string(fp, wp_nametab_get(r->names, nv[k].id));
            fprintf(fp, ", \"flows\": %" PRIu64 "}", nv[k].flows);
        }
        fputs("], \"servers\": [", fp);
        struct wp_apple_svc_info sorted;
        if (si != NULL) {
            sorted = *si;
            qsort(sorted.servers, sorted.n_servers, sizeof(sorted.servers[0]), cmp_server);
        }
        for (uint8_t k = 0; si != NULL && k < sorted.n_servers; k++) {
            char a[64];
            fputs(k ? ", " : "", fp);
            wp_json_string(fp, wp_fmt_addr(a, sizeof(a), sorted.servers[k].family,
                                           sorted.servers[k].addr));
        }
        fprintf(fp, "], \"servers_truncated\": %s",
                si != NULL && si->servers_truncated ? "true" : "false");
        wp_report_proc_json_apple(fp, r, svc);
        fputs("}", fp);
        first = end;
    }
    fprintf(fp, "%s%s]", !first_svc && nl[0] ? nl : "", !first_svc && nl[0] ? ind : "");
}
