/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: outcomes in the reports: JSON members, CSV fields, the text column */

#include <inttypes.h>
#include <string.h>

#include "wp/escape.h"
#include "wp/flow.h"
#include "wp/names.h"
#include "wp/report_outcome.h"

/* Outcomes that say the traffic got through, and those that say it did not. */
static bool is_ok(unsigned o)
{
    return o == WP_OUT_ESTABLISHED || o == WP_OUT_CLOSED || o == WP_OUT_RESET ||
           o == WP_OUT_ANSWERED;
}

void wp_outcome_json_flow(FILE *fp, const struct wp_report *r, const struct wp_flow *f)
{
    fputs(", \"outcome\": ", fp);
    wp_json_string(fp, wp_outcome_name(wp_outcome_of(f)));
    fputs(", \"zeek_state\": ", fp);
    wp_json_string(fp, wp_zeek_state_name(wp_outcome_zeek(f)));
    bool v6, by_server;
    uint8_t code;
    uint32_t from;
    fputs(", \"blocked_by\": ", fp);
    if (!wp_outcome_blocked_by(f, &v6, &code, &by_server, &from)) {
        fputs("null", fp);
        return;
    }
    char b[96];
    fprintf(fp,
            "{\"icmp\": %s, \"type\": %u, \"code\": %u, \"text\": ", v6 ? "\"icmp6\"" : "\"icmp\"",
            v6 ? 1u : 3u, (unsigned)code);
    wp_json_string(fp, wp_unreach_text(b, sizeof(b), v6, code));
    fputs(", \"from\": ", fp);
    const char *a = r->names && from ? wp_nametab_get(r->names, from) : NULL;
    if (a != NULL)
        wp_json_string(fp, a);
    else
        fputs("null", fp);
    fprintf(fp, ", \"sent_by\": \"%s\"}", by_server ? "server" : "path");
}

/* "icmp 3/13 administratively prohibited; icmp6 1/1 ..." (with `names`), or
 * "icmp 3/13, icmp6 1/1" (without), "+" when there were more. */
static char *row_blk_text(char *buf, size_t n, const struct wp_oc_row *o, bool names)
{
    size_t off = 0;
    buf[0] = '\0';
    for (uint8_t i = 0; i < o->n_blk && off < n; i++) {
        char b[96];
        wp_unreach_text(b, sizeof(b), o->blk[i].v6, o->blk[i].code);
        if (!names) {
            char *sp = strchr(b, ' ');
            sp = sp ? strchr(sp + 1, ' ') : NULL;
            if (sp != NULL)
                *sp = '\0';
        }
        int k = snprintf(buf + off, n - off, "%s%s", i ? (names ? "; " : ", ") : "", b);
        off = k < 0 ? off : off + (size_t)k;
    }
    if (o->blk_more && off < n)
        snprintf(buf + off, n - off, "%s", names ? "; more" : ", ...");
    return buf;
}

void wp_outcome_json_row(FILE *fp, const struct wp_oc_row *o)
{
    fputs(", \"outcomes\": {", fp);
    for (unsigned i = 0; i < WP_OUT_COUNT; i++)
        fprintf(fp, "%s\"%s\": %" PRIu64, i ? ", " : "", wp_outcome_name(i), o->n[i]);
    fputs("}, \"blocked_by\": [", fp);
    for (uint8_t i = 0; i < o->n_blk; i++) {
        char b[96];
        fputs(i ? ", " : "", fp);
        wp_json_string(fp, wp_unreach_text(b, sizeof(b), o->blk[i].v6, o->blk[i].code));
    }
    fputs("]", fp);
}

void wp_outcome_json_totals(FILE *fp, const struct wp_oc_counts *c)
{
    const char *sep = "";
    fputs(", \"icmp_errors\": {", fp);
#define WP_X(field, name, desc)                                                                    \
    fprintf(fp, "%s\"" name "\": %" PRIu64, sep, c->field);                                        \
    sep = ", ";
    WP_ICMP_ERROR_COUNTS_LIST(WP_X)
#undef WP_X
    fputc('}', fp);
}

const char wp_outcome_csv_row_head[] =
    ",established,refused,unanswered,blocked,reset,closed,mid_stream,one_way,answered,pending,"
    "icmp_error,blocked_by";

void wp_outcome_csv_row(FILE *fp, const struct wp_oc_row *o)
{
    for (unsigned i = 0; i < WP_OUT_COUNT; i++)
        fprintf(fp, ",%" PRIu64, o->n[i]);
    fputc(',', fp);
    char b[256];
    if (o->n_blk > 0)
        wp_csv_field(fp, row_blk_text(b, sizeof(b), o, true));
}

const char wp_outcome_csv_flow_head[] =
    ",outcome,zeek_state,blocked_by,blocked_from,blocked_sent_by";

void wp_outcome_csv_flow(FILE *fp, const struct wp_report *r, const struct wp_flow *f)
{
    fprintf(fp, ",%s,%s,", wp_outcome_name(wp_outcome_of(f)),
            wp_zeek_state_name(wp_outcome_zeek(f)));
    bool v6, by_server;
    uint8_t code;
    uint32_t from;
    if (!wp_outcome_blocked_by(f, &v6, &code, &by_server, &from)) {
        fputs(",,", fp);
        return;
    }
    char b[96];
    wp_csv_field(fp, wp_unreach_text(b, sizeof(b), v6, code));
    fputc(',', fp);
    const char *a = r->names && from ? wp_nametab_get(r->names, from) : NULL;
    if (a != NULL)
        wp_csv_field(fp, a);
    fprintf(fp, ",%s", by_server ? "server" : "path");
}

static size_t add(char *buf, size_t n, size_t off, uint64_t v, const char *what)
{
    if (off >= n)
        return off;
    int k = snprintf(buf + off, n - off, "%s%" PRIu64 "%s", off ? ", " : "", v, what);
    return k < 0 ? off : off + (size_t)k;
}

char *wp_outcome_glance(char *buf, size_t n, const struct wp_oc_row *o)
{
    uint64_t ok = 0, total = 0;
    for (unsigned i = 0; i < WP_OUT_COUNT; i++) {
        total += o->n[i];
        if (is_ok(i))
            ok += o->n[i];
    }
    size_t off = 0;
    buf[0] = '\0';
    if (total == 0) {
        snprintf(buf, n, "-");
        return buf;
    }
    if (ok == total) {
        snprintf(buf, n, "ok");
        return buf;
    }
    if (ok > 0)
        off = add(buf, n, off, ok, " ok");
    if (o->n[WP_OUT_REFUSED])
        off = add(buf, n, off, o->n[WP_OUT_REFUSED], " refused");
    if (o->n[WP_OUT_BLOCKED]) {
        char b[128], w[144];
        snprintf(w, sizeof(w), " blocked (%s)", row_blk_text(b, sizeof(b), o, false));
        off = add(buf, n, off, o->n[WP_OUT_BLOCKED], o->n_blk ? w : " blocked");
    }
    if (o->n[WP_OUT_UNANSWERED])
        off = add(buf, n, off, o->n[WP_OUT_UNANSWERED], " no answer");
    if (o->n[WP_OUT_PENDING])
        off = add(buf, n, off, o->n[WP_OUT_PENDING], " pending");
    if (o->n[WP_OUT_MIDSTREAM])
        off = add(buf, n, off, o->n[WP_OUT_MIDSTREAM], " mid-stream");
    if (o->n[WP_OUT_ONEWAY])
        off = add(buf, n, off, o->n[WP_OUT_ONEWAY], " one-way");
    if (o->n[WP_OUT_ICMP_ERROR])
        off = add(buf, n, off, o->n[WP_OUT_ICMP_ERROR], " icmp errors");
    return buf;
}

char *wp_outcome_apple_line(char *buf, size_t n, const struct wp_oc_row *o)
{
    uint64_t total = 0, ok = 0;
    if (o != NULL)
        for (unsigned i = 0; i < WP_OUT_COUNT; i++) {
            total += o->n[i];
            if (is_ok(i))
                ok += o->n[i];
        }
    if (total == 0) {
        snprintf(buf, n, "not tried");
        return buf;
    }
    char g[128];
    wp_outcome_glance(g, sizeof(g), o);
    const char *hint = "";
    if (ok == 0 && o->n[WP_OUT_UNANSWERED] > 0 && o->n[WP_OUT_REFUSED] == 0 &&
        o->n[WP_OUT_BLOCKED] == 0)
        hint = ": blocked on the path?";
    else if (ok == 0 && o->n[WP_OUT_BLOCKED] > 0)
        hint = ": blocked by a firewall";
    else if (ok == 0 && o->n[WP_OUT_REFUSED] > 0)
        hint = ": refused";
    snprintf(buf, n, "%" PRIu64 " tried, %s%s", total, g, hint);
    return buf;
}
