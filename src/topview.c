/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the live top view: a screen made from the report model
 *
 * See topview.h. Everything here is plain text into a buffer so that the
 * unit tests can check a screen line by line; topterm.c draws it. */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/escape.h"
#include "wp/flow.h"
#include "wp/proctab.h"
#include "wp/proto.h"
#include "wp/topview.h"
#include "wp/util.h"

static uint64_t row_bytes(const struct wp_port_row *p)
{
    return p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes;
}

static bool key_eq(const struct wp_port_key *a, const struct wp_port_key *b)
{
    return a->proto == b->proto && a->has_port == b->has_port && a->port == b->port;
}

void wp_topview_init(struct wp_topview *t, const char *iface, int64_t start_ns, bool utf8)
{
    memset(t, 0, sizeof(*t));
    t->iface = iface;
    t->start_ns = start_ns;
    t->last_ns = start_ns;
    t->utf8 = utf8;
}

static ptrdiff_t find_index(const struct wp_topview *t, const struct wp_port_key *key)
{
    for (size_t i = 0; i < t->n_hist; i++)
        if (key_eq(&t->hist[i].key, key))
            return (ptrdiff_t)i;
    return -1;
}

const struct wp_topview_hist *wp_topview_find(const struct wp_topview *t,
                                              const struct wp_port_key *key)
{
    ptrdiff_t i = find_index(t, key);
    return i < 0 ? NULL : &t->hist[i];
}

void wp_topview_sample(struct wp_topview *t, const struct wp_report *r, int64_t now_ns)
{
    if (now_ns <= t->last_ns)
        return;
    int64_t dt = now_ns - t->last_ns;
    bool *seen = calloc(WP_TOPVIEW_PORTS, sizeof(*seen));
    for (size_t i = 0; i < r->n_ports; i++) {
        const struct wp_port_row *p = r->ports[i];
        ptrdiff_t at = find_index(t, &p->key);
        struct wp_topview_hist *h = at < 0 ? NULL : &t->hist[at];
        if (h == NULL) {
            if (t->n_hist >= WP_TOPVIEW_PORTS)
                continue;
            h = &t->hist[t->n_hist++];
            memset(h, 0, sizeof(*h));
            h->key = p->key;
        }
        uint64_t by = row_bytes(p);
        uint64_t grew = by >= h->last_bytes ? by - h->last_bytes : 0;
        h->rate = (uint64_t)((double)grew * (double)WP_NS_PER_S / (double)dt);
        h->last_bytes = by;
        h->ring[h->n % WP_TOPVIEW_HIST] = h->rate;
        h->n++;
        if (seen != NULL)
            seen[h - t->hist] = true;
    }
    /* ports absent from this report (a filtered view): no traffic */
    for (size_t i = 0; seen != NULL && i < t->n_hist; i++) {
        if (seen[i])
            continue;
        struct wp_topview_hist *h = &t->hist[i];
        h->rate = 0;
        h->ring[h->n % WP_TOPVIEW_HIST] = 0;
        h->n++;
    }
    free(seen);
    t->last_ns = now_ns;
}

size_t wp_topview_spark(const struct wp_topview_hist *h, unsigned width, bool utf8, char *out,
                        size_t cap)
{
    static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                          "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[8] = {'.', '_', '-', '=', '+', '*', '#', '@'};
    if (width > WP_TOPVIEW_HIST)
        width = WP_TOPVIEW_HIST;
    size_t len = 0;
    if (cap == 0)
        return 0;
    uint64_t have = h->n < width ? h->n : width;
    uint64_t max = 0;
    for (uint64_t i = 0; i < have; i++) {
        uint64_t v = h->ring[(h->n - 1 - i) % WP_TOPVIEW_HIST];
        if (v > max)
            max = v;
    }
    for (unsigned c = 0; c < width; c++) {
        /* column c shows the sample (width - 1 - c) ago */
        uint64_t ago = width - 1 - c;
        const char *s = " ";
        char one[2] = {0, 0};
        if (ago < have) {
            uint64_t v = h->ring[(h->n - 1 - ago) % WP_TOPVIEW_HIST];
            if (v > 0 && max > 0) {
                unsigned level = (unsigned)(((double)v * 8.0 + (double)max - 1.0) / (double)max);
                if (level < 1)
                    level = 1;
                if (level > 8)
                    level = 8;
                if (utf8) {
                    s = blocks[level - 1];
                } else {
                    one[0] = ascii[level - 1];
                    s = one;
                }
            }
        }
        size_t sl = strlen(s);
        if (len + sl + 1 > cap)
            break;
        memcpy(out + len, s, sl);
        len += sl;
    }
    out[len] = '\0';
    return len;
}

const char *wp_topview_sort_name(enum wp_topview_sort s)
{
    static const char *const names[WP_TOPVIEW_SORT_COUNT] = {"now", "average", "total", "port"};
    return (unsigned)s < WP_TOPVIEW_SORT_COUNT ? names[s] : "?";
}

/* ---- the screen buffer: lines cut at cols code points ---------------- */

struct screen {
    char *buf;
    size_t cap, len;
    unsigned rows, cols, lines;
};

/* Append one line (printf format), cut at s->cols code points; nothing
 * once s->rows lines are written. */
__attribute__((format(printf, 2, 3))) static void line(struct screen *s, const char *fmt, ...);
static void line(struct screen *s, const char *fmt, ...)
{
    if (s->lines >= s->rows)
        return;
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    size_t i = 0;
    unsigned cps = 0;
    while (tmp[i] != '\0') {
        if (((unsigned char)tmp[i] & 0xC0) != 0x80) {
            if (cps == s->cols)
                break;
            cps++;
        }
        i++;
    }
    while (i > 0 && tmp[i - 1] == ' ') /* no trailing blanks */
        i--;
    if (s->len + i + 2 > s->cap)
        return;
    memcpy(s->buf + s->len, tmp, i);
    s->len += i;
    s->buf[s->len++] = '\n';
    s->buf[s->len] = '\0';
    s->lines++;
}

struct port_view {
    const struct wp_port_row *row;
    const struct wp_topview_hist *h;
    uint64_t bytes, avg;
};

static enum wp_topview_sort sort_by;

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

static int cmp_port_key(const struct wp_port_key *a, const struct wp_port_key *b)
{
    if (a->proto != b->proto)
        return a->proto < b->proto ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return 0;
}

static int cmp_ports(const void *pa, const void *pb)
{
    const struct port_view *a = pa, *b = pb;
    int c = 0;
    switch (sort_by) {
    case WP_TOPVIEW_SORT_RATE:
        c = cmp_u64(a->h ? a->h->rate : 0, b->h ? b->h->rate : 0);
        break;
    case WP_TOPVIEW_SORT_AVG:
        c = cmp_u64(a->avg, b->avg);
        break;
    case WP_TOPVIEW_SORT_BYTES:
        c = cmp_u64(a->bytes, b->bytes);
        break;
    default:
        break;
    }
    if (c == 0 && sort_by != WP_TOPVIEW_SORT_PORT)
        c = cmp_u64(a->bytes, b->bytes);
    return c != 0 ? c : cmp_port_key(&a->row->key, &b->row->key);
}

static int cmp_flows(const void *pa, const void *pb)
{
    const struct wp_flow *a = *(const struct wp_flow *const *)pa;
    const struct wp_flow *b = *(const struct wp_flow *const *)pb;
    int c = cmp_u64(a->bytes[0] + a->bytes[1], b->bytes[0] + b->bytes[1]);
    if (c == 0)
        c = memcmp(&a->key, &b->key, sizeof(a->key));
    return c;
}

static const char *proto_name(unsigned proto, char *buf, size_t n)
{
    const char *s = wp_ip_proto_name(proto);
    if (s == NULL) {
        snprintf(buf, n, "%u", proto);
        return buf;
    }
    return s;
}

static void port_label(const struct wp_port_key *k, char *buf, size_t n)
{
    char pb[8];
    const char *p = proto_name(k->proto, pb, sizeof(pb));
    if (k->has_port)
        snprintf(buf, n, "%s/%u", p, k->port);
    else
        snprintf(buf, n, "%s", p);
}

static void endpoint(const struct wp_flow *f, unsigned i, char *buf, size_t n)
{
    char a[64];
    wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[i]);
    bool ports = f->key.port[0] != 0 || f->key.port[1] != 0;
    if (!ports)
        snprintf(buf, n, "%s", a);
    else if (f->key.family == 6)
        snprintf(buf, n, "[%s]:%u", a, f->key.port[i]);
    else
        snprintf(buf, n, "%s:%u", a, f->key.port[i]);
}

int wp_topview_render(const struct wp_topview *t, const struct wp_report *r, int64_t now_ns,
                      unsigned rows, unsigned cols, char *buf, size_t cap)
{
    struct screen s = {buf, cap, 0, rows, cols, 0};
    if (cap == 0)
        return -1;
    buf[0] = '\0';
    const struct wp_totals *tot = r->totals;
    int64_t up_ns = now_ns > t->start_ns ? now_ns - t->start_ns : 0;
    int64_t up = up_ns / WP_NS_PER_S;
    char iface[64];
    wp_text_sanitize(iface, sizeof(iface), t->iface ? t->iface : "?");
    line(&s, "whichports on %s  up %lld:%02lld:%02lld  sort: %s%s", iface, (long long)(up / 3600),
         (long long)(up / 60 % 60), (long long)(up % 60), wp_topview_sort_name(t->sort),
         t->paused ? "  [paused]" : "");
    char b1[16];
    line(&s, "packets %llu  bytes %s  flows %llu  evicted %llu  not stored %llu",
         (unsigned long long)tot->packets, wp_fmt_bytes(b1, sizeof(b1), tot->bytes),
         (unsigned long long)tot->flows, (unsigned long long)tot->flows_evicted,
         (unsigned long long)tot->flows_dropped);
    if (tot->dropped_known)
        line(&s, "dropped: kernel %llu  interface %llu", (unsigned long long)tot->dropped,
             (unsigned long long)tot->ifdropped);
    else
        line(&s, "dropped: unknown");

    /* rows left for the tables, less the keys line: ports get half (at
     * least 3), flows and processes share the rest */
    unsigned left = rows > s.lines + 1 ? rows - s.lines - 1 : 0;
    bool procs = r->n_procs > 0;
    unsigned port_rows = left / 2 > 3 ? left / 2 : 3;
    unsigned rest = left > port_rows + 1 ? left - port_rows - 1 : 0;
    unsigned proc_rows = procs ? rest / 2 : 0;
    unsigned flow_rows = rest > proc_rows ? rest - proc_rows : 0;
    unsigned spark_w = cols > 80 ? cols - 80 : 0;
    if (spark_w > 60)
        spark_w = 60;

    struct port_view *pv = calloc(r->n_ports ? r->n_ports : 1, sizeof(*pv));
    if (pv == NULL)
        return -1;
    double secs = (double)up_ns / (double)WP_NS_PER_S;
    for (size_t i = 0; i < r->n_ports; i++) {
        pv[i].row = r->ports[i];
        pv[i].h = wp_topview_find(t, &r->ports[i]->key);
        pv[i].bytes = row_bytes(r->ports[i]);
        pv[i].avg = secs > 0 ? (uint64_t)((double)pv[i].bytes / secs) : 0;
    }
    sort_by = t->sort;
    qsort(pv, r->n_ports, sizeof(*pv), cmp_ports);
    line(&s, "%-12s %-14s %9s %9s %9s %6s  %s", "PORT", "SERVICE", "NOW/s", "AVG/s", "TOTAL",
         "FLOWS", spark_w ? "HISTORY" : "");
    size_t shown = r->n_ports < port_rows - 1 ? r->n_ports : port_rows - 1;
    for (size_t i = 0; i < shown; i++) {
        char lab[24], now[16], avg[16], total[16], spark[WP_TOPVIEW_HIST * 3 + 1] = "";
        port_label(&pv[i].row->key, lab, sizeof(lab));
        const struct wp_service *apple = NULL;
        const struct wp_service *svc = wp_report_port_service(r, pv[i].row, &apple);
        if (pv[i].h != NULL)
            wp_fmt_bytes(now, sizeof(now), pv[i].h->rate);
        else
            snprintf(now, sizeof(now), "-");
        if (pv[i].h != NULL && spark_w)
            wp_topview_spark(pv[i].h, spark_w, t->utf8, spark, sizeof(spark));
        line(&s, "%-12s %-14.14s %9s %9s %9s %6llu  %s", lab, svc ? svc->name : "-", now,
             wp_fmt_bytes(avg, sizeof(avg), pv[i].avg),
             wp_fmt_bytes(total, sizeof(total), pv[i].bytes), (unsigned long long)pv[i].row->flows,
             spark);
    }
    if (r->n_ports > shown && shown < port_rows) /* room for the summary line */
        line(&s, "... %zu more ports", r->n_ports - shown);
    free(pv);

    if (flow_rows >= 2) {
        const struct wp_flow **fv = calloc(r->n_flows ? r->n_flows : 1, sizeof(*fv));
        if (fv == NULL)
            return -1;
        for (size_t i = 0; i < r->n_flows; i++)
            fv[i] = r->flows[i];
        qsort(fv, r->n_flows, sizeof(*fv), cmp_flows);
        line(&s, "%-5s %-30s %-30s %9s  %s", "PROTO", "CLIENT", "SERVER", "BYTES", "NAME");
        size_t nf = r->n_flows < flow_rows - 1 ? r->n_flows : flow_rows - 1;
        for (size_t i = 0; i < nf; i++) {
            const struct wp_flow *f = fv[i];
            char cl[80], sv[80], pb[8], by[16], name[128] = "";
            endpoint(f, 1u - f->server, cl, sizeof(cl));
            endpoint(f, f->server, sv, sizeof(sv));
            const char *nm = f->name_id && r->names ? wp_nametab_get(r->names, f->name_id) : NULL;
            if (nm != NULL)
                wp_text_sanitize(name, sizeof(name), nm);
            line(&s, "%-5s %-30s %-30s %9s  %s", proto_name(f->key.proto, pb, sizeof(pb)), cl, sv,
                 wp_fmt_bytes(by, sizeof(by), f->bytes[0] + f->bytes[1]), name);
        }
        free(fv);
    }
    if (proc_rows >= 2 && r->proctab != NULL) {
        line(&s, "%-24s %9s %9s %6s", "PROCESS", "SENT", "RECEIVED", "FLOWS");
        size_t np = r->n_procs < proc_rows - 1 ? r->n_procs : proc_rows - 1;
        for (size_t i = 0; i < np; i++) {
            const struct wp_proc_row *p = r->procs[i];
            const struct wp_proc_entry *e = wp_proctab_get(r->proctab, p->group);
            char name[96] = "?", o[16], in[16];
            if (e != NULL && e->name != NULL)
                wp_text_sanitize(name, sizeof(name), e->name);
            else if (e != NULL)
                snprintf(name, sizeof(name), "pid %lld", (long long)e->pid);
            line(&s, "%-24.24s %9s %9s %6llu", name, wp_fmt_bytes(o, sizeof(o), p->out.bytes),
                 wp_fmt_bytes(in, sizeof(in), p->in.bytes), (unsigned long long)p->flows);
        }
    }
    line(&s, "q quit (final report)  p pause  s sort");
    return (int)s.len;
}
