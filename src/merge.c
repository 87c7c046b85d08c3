/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: --merge: whichports JSON reports read back into engines
 *
 * Every value is checked: a member that a report of this schema always
 * has and that is missing or of the wrong kind is an error naming it, so a
 * damaged or foreign file is refused rather than merged as zeros. What the
 * report counted without listing flows is found by subtracting the listed
 * flows from its rows (the residue), and loaded as counts. */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/merge.h"
#include "wp/agg.h"
#include "wp/agg_proc.h"
#include "wp/applesvc.h"
#include "wp/capture.h"
#include "wp/classify.h"
#include "wp/decode.h"
#include "wp/json_read.h"
#include "wp/names.h"
#include "wp/outcome.h"
#include "wp/proc.h"
#include "wp/proctab.h"
#include "wp/timeline.h"
#include "wp/util.h"

struct ld {
    struct wp_engine *e;
    const struct wp_engine_opts *o;
    const char *what;
    char *err;
    bool failed;
};

static int bad(struct ld *L, const char *fmt, ...) WP_PRINTF(2, 3);

/* Fail the load with a message (the first one stands). Returns -1. */
static int bad(struct ld *L, const char *fmt, ...)
{
    if (!L->failed) {
        char m[WP_ERRBUF_SIZE / 2];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof(m), fmt, ap);
        va_end(ap);
        snprintf(L->err, WP_ERRBUF_SIZE, "%.200s: %s", L->what, m);
    }
    L->failed = true;
    return -1;
}

/* a += b, failing the load when it overflows */
static void add(struct ld *L, uint64_t *a, uint64_t b)
{
    if (__builtin_add_overflow(*a, b, a))
        bad(L, "%s", "counts too large to add up: the report is inconsistent");
}

static const struct wp_jval *need(struct ld *L, const struct wp_jval *o, const char *k,
                                  enum wp_jtype t)
{
    const struct wp_jval *v = wp_json_get(o, k);
    if (v == NULL || v->type != t) {
        bad(L, "member \"%s\" is missing or of the wrong type: not a whole whichports report", k);
        return NULL;
    }
    return v;
}

static uint64_t u64(struct ld *L, const struct wp_jval *o, const char *k)
{
    uint64_t x = 0;
    if (!wp_json_u64(wp_json_get(o, k), &x))
        bad(L, "member \"%s\" is missing or not a count", k);
    return x;
}

static struct wp_counts counts(struct ld *L, const struct wp_jval *o, const char *k)
{
    struct wp_counts c = {0, 0};
    const struct wp_jval *v = need(L, o, k, WP_J_OBJ);
    if (v != NULL) {
        c.packets = u64(L, v, "packets");
        c.bytes = u64(L, v, "bytes");
    }
    return c;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "2026-11-23T22:37:21.850680Z" (any fraction up to 9 digits) to ns. */
static int parse_time(const char *s, int64_t *ns, bool *nanos)
{
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 0)
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    int digits = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
            frac = frac * 10 + (*p - '0');
        if (digits == 0)
            return -1;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    if (digits > 6)
        *nanos = true;
    for (int i = digits; i < 9; i++)
        frac *= 10;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    /* a time whichports prints fits in int64 nanoseconds; others are refused */
    if (__builtin_mul_overflow(secs, INT64_C(1000000000), ns) ||
        __builtin_add_overflow(*ns, frac, ns))
        return -1;
    return 0;
}

static int time_of(struct ld *L, const struct wp_jval *v, int64_t *ns, bool *nanos)
{
    const char *s = wp_json_str(v);
    if (s == NULL || parse_time(s, ns, nanos) != 0)
        return bad(L, "a time is not of the form 2026-01-02T03:04:05.678Z: %s", s ? s : "?");
    return 0;
}

static int addr_of(struct ld *L, const char *s, uint8_t *family, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (s != NULL && inet_pton(AF_INET, s, addr) == 1) {
        *family = 4;
        return 0;
    }
    if (s != NULL && inet_pton(AF_INET6, s, addr) == 1) {
        *family = 6;
        return 0;
    }
    return bad(L, "not an IP address: %s", s ? s : "(none)");
}

static int proto_of(struct ld *L, const char *s, uint8_t *proto)
{
    char b[16];
    for (unsigned p = 0; s != NULL && p < 256; p++) {
        if (strcmp(wp_fmt_transport(b, sizeof(b), (uint8_t)p), s) == 0) {
            *proto = (uint8_t)p;
            return 0;
        }
    }
    return bad(L, "not a transport: %s", s ? s : "(none)");
}

/* The index of `s` among names(0..n), or -1. */
static int index_of(const char *s, const char *(*names)(unsigned), unsigned n)
{
    for (unsigned i = 0; s != NULL && i < n; i++) {
        const char *x = names(i);
        if (x != NULL && strcmp(x, s) == 0)
            return (int)i;
    }
    return -1;
}

static int svc_find(const struct wp_applesvc *a, const char *key)
{
    for (size_t i = 0; key != NULL && i < wp_applesvc_count(a); i++)
        if (strcmp(wp_applesvc_key(a, (int)i), key) == 0)
            return (int)i;
    return -1;
}

static const char *src_name(unsigned i)
{
    return wp_proc_source_name((enum wp_proc_source)i);
}

static int port_of(struct ld *L, const struct wp_jval *v, uint16_t *port)
{
    uint64_t x;
    if (v != NULL && v->type == WP_J_NULL) {
        *port = 0;
        return 0;
    }
    if (!wp_json_u64(v, &x) || x > 65535)
        return bad(L, "%s", "a port is not a number from 0 to 65535");
    *port = (uint16_t)x;
    return 0;
}

static uint16_t vlan_of(struct ld *L, const struct wp_jval *v)
{
    uint64_t x;
    if (v == NULL || v->type == WP_J_NULL)
        return WP_VLAN_NONE;
    if (!wp_json_u64(v, &x) || x > 4095)
        bad(L, "%s", "a VLAN id is not a number from 0 to 4095");
    return (uint16_t)x;
}

static const char *opt_str(const struct wp_jval *o, const char *k)
{
    return wp_json_str(wp_json_get(o, k));
}

/* A process object to its interned id (0: null). */
static uint16_t proc_of(struct ld *L, const struct wp_jval *v, struct wp_proctab *t)
{
    if (v == NULL || v->type == WP_J_NULL)
        return 0;
    if (v->type != WP_J_OBJ) {
        bad(L, "%s", "a process is not an object");
        return 0;
    }
    struct wp_proc_desc d;
    memset(&d, 0, sizeof(d));
    int64_t pid = -1;
    const struct wp_jval *pv = wp_json_get(v, "pid");
    if (pv != NULL && pv->type != WP_J_NULL && !wp_json_i64(pv, &pid))
        bad(L, "%s", "a process's pid is not a number");
    d.pid = pid;
    const char *s;
#define STR(field)                                                                                 \
    if ((s = opt_str(v, #field)) != NULL) {                                                        \
        d.field.p = s;                                                                             \
        d.field.len = (uint16_t)(strlen(s) > 65535 ? 65535 : strlen(s));                           \
    }
    STR(name)
    STR(path)
    STR(user)
    STR(container)
#undef STR
    int src = index_of(opt_str(v, "source"), src_name, WP_PSRC_COUNT);
    if (src <= 0) {
        bad(L, "%s", "a process's source is not one whichports writes");
        return 0;
    }
    d.source = (uint8_t)src;
    return wp_proctab_intern(t, &d);
}

static void tcp_flags_of(struct ld *L, const char *s, uint8_t *out)
{
    *out = 0;
    for (const char *p = s; p != NULL && *p; p++) {
        bool found = false;
        for (unsigned b = 0; b < 8; b++) {
            char fb[12];
            wp_fmt_tcp_flags(fb, sizeof(fb), (uint8_t)(1u << b));
            if (fb[0] == *p && fb[1] == '\0') {
                *out |= (uint8_t)(1u << b);
                found = true;
            }
        }
        if (!found) {
            bad(L, "not TCP flags: %s", s);
            return;
        }
    }
}

static int hexbyte(const char *s)
{
    int v = 0;
    for (int i = 0; i < 2; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else
            return -1;
    }
    return v;
}

struct loaded {
    struct wp_flow f;
    uint16_t group;
};

/* One flow of the report into *out (not yet in the engine). */
static int parse_flow(struct ld *L, const struct wp_jval *j, struct loaded *out)
{
    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    uint8_t proto = 0, fc = 0, fs = 0, ca[16], sa[16];
    uint16_t cp = 0, sp = 0;
    if (j->type != WP_J_OBJ)
        return bad(L, "%s", "a flow is not an object");
    if (proto_of(L, opt_str(j, "transport"), &proto) != 0 ||
        addr_of(L, opt_str(j, "client"), &fc, ca) != 0 ||
        addr_of(L, opt_str(j, "server"), &fs, sa) != 0 ||
        port_of(L, wp_json_get(j, "client_port"), &cp) != 0 ||
        port_of(L, wp_json_get(j, "server_port"), &sp) != 0)
        return -1;
    if (fc != fs)
        return bad(L, "%s", "a flow's client and server are of different families");
    size_t n = fc == 4 ? 4 : 16;
    int c = memcmp(ca, sa, n);
    if (c == 0)
        c = (int)cp - (int)sp;
    unsigned cli = c <= 0 ? 0 : 1, srv = 1 - cli;
    memcpy(f.key.addr[cli], ca, n);
    memcpy(f.key.addr[srv], sa, n);
    f.key.port[cli] = cp;
    f.key.port[srv] = sp;
    f.key.vlan = vlan_of(L, wp_json_get(j, "vlan"));
    f.key.vlan_inner = vlan_of(L, wp_json_get(j, "vlan_inner"));
    f.key.proto = proto;
    f.key.family = fc;
    f.server = (uint8_t)srv;
    int how = index_of(opt_str(j, "how"), wp_how_name, WP_HOW_COUNT);
    if (how < 0)
        return bad(L, "a flow's \"how\" is not a rule whichports has: %s",
                   opt_str(j, "how") ? opt_str(j, "how") : "(none)");
    f.how = (uint8_t)how;
    if (how == WP_HOW_SYN)
        f.bits |= WP_FB_SYN;
    struct wp_counts ts = counts(L, j, "to_server"), tc = counts(L, j, "to_client");
    f.pkts[cli] = ts.packets;
    f.bytes[cli] = ts.bytes;
    f.pkts[srv] = tc.packets;
    f.bytes[srv] = tc.bytes;
    if (f.pkts[0] + f.pkts[1] == 0 || f.pkts[0] + f.pkts[1] < f.pkts[0])
        return bad(L, "%s", "a flow without packets");
    const struct wp_jval *first = wp_json_get(j, "first"), *last = wp_json_get(j, "last");
    bool nanos = false;
    if (first != NULL && first->type != WP_J_NULL) {
        if (time_of(L, first, &f.first_ns, &nanos) != 0 ||
            time_of(L, last, &f.last_ns, &nanos) != 0)
            return -1;
        f.bits |= WP_FB_TIME;
    }
    const char *fl = opt_str(j, "tcp_flags");
    if (fl != NULL)
        tcp_flags_of(L, fl, &f.tcp_flags);
    if (L->o->prefixes != NULL) {
        for (int i = 0; i < 2; i++)
            if (wp_prefixes_match(L->o->prefixes, fc, f.key.addr[i]) != NULL)
                f.bits |= (uint8_t)(i ? WP_FB_APPLE1 : WP_FB_APPLE0);
    }
    const char *name = opt_str(j, "name");
    if (name != NULL && L->o->nametab != NULL) {
        int src = index_of(opt_str(j, "name_source"), wp_name_src_name, 8);
        if (src <= 0)
            return bad(L, "%s", "a flow's name_source is not one whichports writes");
        f.name_id = wp_nametab_intern(L->o->nametab, name);
        f.name_src = f.name_id ? (uint8_t)src : 0;
    }
    const char *st = opt_str(j, "state");
    int b[5];
    if (st == NULL || strlen(st) != 10)
        return bad(L, "%s", "a flow has no \"state\" (made by an older whichports?)");
    for (int i = 0; i < 5; i++)
        if ((b[i] = hexbyte(st + 2 * i)) < 0)
            return bad(L, "a flow's state is not hexadecimal: %s", st);
    f.oc.ep = (uint8_t)b[0];
    f.oc.seen = (uint8_t)b[1];
    f.oc.st = (uint8_t)b[2];
    f.oc.code = (uint8_t)b[3];
    f.pbits = (uint8_t)b[4];
    const struct wp_jval *blk = wp_json_get(j, "blocked_by");
    const char *from = blk != NULL ? opt_str(blk, "from") : NULL;
    if (from != NULL && L->o->nametab != NULL)
        f.oc.from_id = wp_nametab_intern(L->o->nametab, from);
    /* the process: one candidate carrying the flow's packets */
    struct wp_procstate *ps = wp_engine_procstate(L->e);
    struct wp_proctab *pt = wp_procstate_table(ps);
    uint16_t p = proc_of(L, wp_json_get(j, "process"), pt);
    uint16_t ep = proc_of(L, wp_json_get(j, "effective_process"), pt);
    uint16_t group = 0;
    if (p != 0 || ep != 0) {
        uint64_t tot = f.pkts[0] + f.pkts[1];
        f.proc_pair[0] = wp_proctab_pair(pt, p, ep);
        f.proc_n[0] = (uint16_t)(tot > 65535 ? 65535 : tot == 0 ? 1 : tot);
        uint64_t others = 0;
        wp_json_u64(wp_json_get(j, "process_others"), &others);
        if (f.pbits & WP_FP_MIXED)
            f.proc_n[1] = (uint16_t)(others > 65535 ? 65535 : others);
        uint16_t carrier;
        const struct wp_proc_entry *pe = wp_proctab_get(pt, wp_flow_app(pt, &f, &carrier));
        group = pe != NULL ? pe->group : 0;
    }
    if (L->failed)
        return -1;
    if (L->o->applesvc != NULL)
        wp_apple_classify_flow(L->o->applesvc, L->o->prefixes, L->o->nametab, &f);
    out->f = f;
    out->group = group;
    return 0;
}

/* The order of the engine's flow table: class by class (open TCP, closed
 * TCP, others), least recently seen first; so rows that keep only some
 * names keep the ones the analysis kept. */
static int flow_rank(const struct wp_flow *f)
{
    if (f->key.proto != WP_IPPROTO_TCP)
        return 2;
    return (f->tcp_flags & (WP_TCP_FIN | WP_TCP_RST)) ? 1 : 0;
}

static int cmp_loaded(const void *pa, const void *pb)
{
    const struct wp_flow *a = &((const struct loaded *)pa)->f, *b = &((const struct loaded *)pb)->f;
    int ra = flow_rank(a), rb = flow_rank(b);
    if (ra != rb)
        return ra - rb;
    if (a->last_ns != b->last_ns)
        return a->last_ns < b->last_ns ? -1 : 1;
    if (a->first_ns != b->first_ns)
        return a->first_ns < b->first_ns ? -1 : 1;
    return memcmp(&a->key, &b->key, sizeof(a->key));
}

static void load_flows(struct ld *L, const struct wp_jval *flows)
{
    struct loaded *v = flows->n ? calloc(flows->n, sizeof(*v)) : NULL;
    if (flows->n && v == NULL) {
        bad(L, "%s", "out of memory");
        return;
    }
    for (size_t i = 0; i < flows->n && !L->failed; i++)
        parse_flow(L, &flows->items[i], &v[i]);
    if (!L->failed)
        qsort(v, flows->n, sizeof(*v), cmp_loaded);
    for (size_t i = 0; i < flows->n && !L->failed; i++)
        if (wp_engine_load_flow(L->e, &v[i].f, v[i].group) == NULL)
            bad(L, "%s", "a flow is listed twice, or memory ran out");
    free(v);
}

static void load_totals(struct ld *L, const struct wp_jval *t, struct wp_merge_input *in)
{
    struct wp_totals *d = wp_engine_totals_mut(L->e);
#define WP_X(field, name) d->field = u64(L, t, name);
#define WP_A(field, name, n, names)                                                                \
    {                                                                                              \
        const struct wp_jval *o = need(L, t, name, WP_J_OBJ);                                      \
        for (size_t i = 0; o != NULL && i < (n); i++)                                              \
            d->field[i] = u64(L, o, names[i]);                                                     \
    }
    WP_TOTALS_LIST(WP_X, WP_A)
#undef WP_X
#undef WP_A
    const struct wp_jval *nm = need(L, t, "names", WP_J_OBJ);
#define WP_X(field, desc) d->names.field = u64(L, nm, #field);
    WP_NAME_COUNTS_LIST(WP_X)
#undef WP_X
    const struct wp_jval *ie = need(L, t, "icmp_errors", WP_J_OBJ);
#define WP_X(field, name, desc) d->outcome.field = u64(L, ie, name);
    WP_ICMP_ERROR_COUNTS_LIST(WP_X)
#undef WP_X
    const struct wp_jval *dr = wp_json_get(t, "dropped");
    if (dr != NULL && dr->type != WP_J_NULL) {
        uint64_t x = u64(L, t, "dropped"), y = u64(L, t, "dropped_interface");
        in->dropped_known = true;
        add(L, &in->dropped, x);
        add(L, &in->ifdropped, y);
    }
    const struct wp_jval *pa = wp_json_get(t, "process_attribution");
    if (pa != NULL && pa->type == WP_J_OBJ) {
        const char *st = opt_str(pa, "state");
        const struct wp_jval *unk = need(L, pa, "unknown", WP_J_OBJ);
        struct wp_attr_counts *c = &in->attr;
        if (st != NULL && strcmp(st, "on") == 0)
            c->state = WP_ATTR_ON;
        else if (c->state != WP_ATTR_ON)
            c->state = WP_ATTR_OFF;
#define WP_X(field, name) add(L, &c->field, u64(L, pa, name));
#define WP_Y(field, name) add(L, &c->field, u64(L, unk, name));
        WP_ATTR_TOP_LIST(WP_X)
        WP_ATTR_UNKNOWN_LIST(WP_Y)
        WP_ATTR_LATE_LIST(WP_X)
#undef WP_X
#undef WP_Y
    }
    const struct wp_jval *first = wp_json_get(t, "first");
    if (first != NULL && first->type != WP_J_NULL) {
        if (time_of(L, first, &d->first_ns, &in->nanos) == 0 &&
            time_of(L, wp_json_get(t, "last"), &d->last_ns, &in->nanos) == 0)
            d->have_ts = true;
    }
}

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c != NULL)
        memcpy(c, s, n);
    return c;
}

static int push(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (nv == NULL)
        return -1;
    *v = nv;
    if ((nv[*n] = dup(s)) == NULL)
        return -1;
    (*n)++;
    return 0;
}

static uint32_t linktype_of(const char *s)
{
    char b[48];
    for (uint32_t lt = 0; lt < 65536; lt++)
        if (strcmp(wp_linktype_name(lt, b, sizeof(b)), s) == 0)
            return lt;
    return UINT32_MAX;
}

static void load_input(struct ld *L, const struct wp_jval *inp, struct wp_merge_input *in)
{
    const struct wp_jval *src = need(L, inp, "sources", WP_J_ARR);
    for (size_t i = 0; src != NULL && i < src->n; i++) {
        const char *s = wp_json_str(&src->items[i]);
        if (s == NULL || push(&in->sources, &in->n_sources, s) != 0)
            bad(L, "%s", "input.sources holds something other than names");
    }
    const struct wp_jval *lts = need(L, inp, "link_types", WP_J_ARR);
    for (size_t i = 0; lts != NULL && i < lts->n; i++) {
        const char *s = wp_json_str(&lts->items[i]);
        uint32_t lt = s != NULL ? linktype_of(s) : UINT32_MAX;
        if (lt == UINT32_MAX)
            bad(L, "not a link type: %s", s ? s : "?");
        else
            wp_engine_load_linktype(L->e, lt);
    }
    const struct wp_jval *cp = need(L, inp, "complete", WP_J_BOOL);
    if (cp != NULL && !cp->b)
        in->complete = false;
    const struct wp_jval *er = need(L, inp, "errors", WP_J_ARR);
    for (size_t i = 0; er != NULL && i < er->n; i++) {
        const char *s = wp_json_str(&er->items[i]);
        if (s == NULL || push(&in->errors, &in->n_errors, s) != 0)
            bad(L, "%s", "input.errors holds something other than messages");
    }
}

static void load_arr(struct ld *L, const struct wp_jval *s, struct wp_tl_arr *a, size_t n)
{
    const struct wp_jval *bp = need(L, s, "bucket_packets", WP_J_ARR);
    const struct wp_jval *bb = need(L, s, "bucket_bytes", WP_J_ARR);
    if (bp == NULL || bb == NULL)
        return;
    if (bp->n != n || bb->n != n) {
        bad(L, "%s", "a timeline series does not have one count per bucket");
        return;
    }
    if (a == NULL)
        return; /* memory ran out: the series stays short (series_dropped) */
    for (size_t i = 0; i < n; i++) {
        uint64_t x, y;
        if (!wp_json_u64(&bp->items[i], &x) || !wp_json_u64(&bb->items[i], &y)) {
            bad(L, "%s", "a timeline bucket is not a count");
            return;
        }
        a->pkts[i] += x;
        a->bytes[i] += y;
    }
}

static void load_timeline(struct ld *L, const struct wp_jval *t)
{
    struct wp_timeline *tl = wp_engine_timeline_mut(L->e);
    uint64_t n = u64(L, t, "buckets");
    int64_t width = 0, start = 0;
    bool nanos = false;
    if (!wp_json_i64(wp_json_get(t, "bucket_ns"), &width))
        bad(L, "%s", "timeline.bucket_ns is not a number");
    const struct wp_jval *sv = wp_json_get(t, "start");
    if (n > 0 && time_of(L, sv, &start, &nanos) != 0)
        return;
    struct wp_counts untimed = counts(L, t, "untimed");
    if (L->failed)
        return;
    if (wp_timeline_load(tl, start, width, (size_t)n, u64(L, t, "moved_packets"), &untimed,
                         u64(L, t, "series_dropped")) != 0) {
        bad(L, "%s", "the timeline has a width or number of buckets no report has");
        return;
    }
    const struct wp_jval *series = need(L, t, "series", WP_J_ARR);
    for (size_t i = 0; series != NULL && i < series->n && !L->failed; i++) {
        const struct wp_jval *s = &series->items[i];
        const struct wp_jval *other = need(L, s, "other", WP_J_BOOL);
        if (other == NULL)
            return;
        struct wp_port_key k = {0, 0, 0};
        if (!other->b) {
            if (proto_of(L, opt_str(s, "transport"), &k.proto) != 0)
                return;
            const struct wp_jval *pv = wp_json_get(s, "port");
            k.has_port = pv != NULL && pv->type != WP_J_NULL;
            if (port_of(L, pv, &k.port) != 0)
                return;
        }
        load_arr(L, s, wp_timeline_load_port(tl, other->b ? NULL : &k), (size_t)n);
    }
    const struct wp_jval *apple = need(L, t, "apple", WP_J_ARR);
    for (size_t i = 0; apple != NULL && i < apple->n && !L->failed; i++) {
        const struct wp_jval *s = &apple->items[i];
        int svc = L->o->applesvc ? svc_find(L->o->applesvc, opt_str(s, "service")) : -1;
        if (svc < 0) {
            bad(L, "not an Apple service whichports knows: %s",
                opt_str(s, "service") ? opt_str(s, "service") : "?");
            return;
        }
        load_arr(L, s, wp_timeline_load_apple(tl, (uint8_t)(svc + 1)), (size_t)n);
    }
    const struct wp_jval *procs = need(L, t, "processes", WP_J_ARR);
    struct wp_proctab *pt = wp_procstate_table(wp_engine_procstate(L->e));
    for (size_t i = 0; procs != NULL && i < procs->n && !L->failed; i++) {
        const struct wp_jval *s = &procs->items[i];
        const struct wp_jval *other = need(L, s, "other", WP_J_BOOL);
        if (other == NULL)
            return;
        uint16_t group = 0;
        if (!other->b) {
            /* the group of the first process of that name (or pid) in the table */
            const char *name = opt_str(s, "name");
            for (uint16_t id = 1; name != NULL && id <= wp_proctab_count(pt); id++) {
                const struct wp_proc_entry *pe = wp_proctab_get(pt, id);
                char b[64];
                struct wp_proc_row row;
                memset(&row, 0, sizeof(row));
                row.group = pe->group;
                if (strcmp(wp_proc_row_name(pt, &row, b, sizeof(b)), name) == 0) {
                    group = pe->group;
                    break;
                }
            }
            if (group == 0) {
                bad(L, "a timeline process names no process of the flows: %s", name ? name : "?");
                return;
            }
        }
        load_arr(L, s, wp_timeline_load_proc(tl, group), (size_t)n);
    }
}

/* The port row of `key` in the flows-only aggregate, or a zero row. */
static const struct wp_port_row *snap_port(const struct wp_agg *snap, const struct wp_port_key *k)
{
    static const struct wp_port_row zero;
    const struct wp_port_row *r = snap ? wp_agg_port(snap, k) : NULL;
    return r != NULL ? r : &zero;
}

static uint64_t sub(struct ld *L, uint64_t a, uint64_t b)
{
    if (a < b) {
        bad(L, "%s",
            "a row counts less than the flows listed under it: the report is inconsistent");
        return 0;
    }
    return a - b;
}

static void load_names(struct ld *L, const struct wp_jval *arr, struct wp_name_count *v, uint8_t *n,
                       bool *trunc, const struct wp_name_count *minus, uint8_t n_minus)
{
    *n = 0;
    for (size_t i = 0; arr != NULL && i < arr->n && *n < WP_ROW_NAMES; i++) {
        const char *name = opt_str(&arr->items[i], "name");
        uint64_t fl = u64(L, &arr->items[i], "flows");
        if (name == NULL || L->o->nametab == NULL)
            continue;
        uint32_t id = wp_nametab_intern(L->o->nametab, name);
        for (uint8_t k = 0; k < n_minus; k++)
            if (minus[k].id == id)
                fl = fl >= minus[k].flows ? fl - minus[k].flows : 0;
        if (fl > 0 && id != 0) {
            v[*n].id = id;
            v[*n].flows = fl;
            (*n)++;
        }
    }
    if (arr != NULL && arr->n > WP_ROW_NAMES)
        *trunc = true;
}

static void load_outcomes(struct ld *L, const struct wp_jval *o, struct wp_oc_row *r,
                          const struct wp_oc_row *minus)
{
    const struct wp_jval *oc = need(L, o, "outcomes", WP_J_OBJ);
    for (unsigned i = 0; oc != NULL && i < WP_OUT_COUNT; i++)
        r->n[i] = sub(L, u64(L, oc, wp_outcome_name(i)), minus->n[i]);
    if (r->n[WP_OUT_BLOCKED] == 0)
        return;
    /* "icmp 3/13 administratively prohibited", "icmp6 1/1 ..." */
    const struct wp_jval *bl = need(L, o, "blocked_by", WP_J_ARR);
    for (size_t i = 0; bl != NULL && i < bl->n && r->n_blk < 2; i++) {
        const char *t = wp_json_str(&bl->items[i]);
        unsigned type, code;
        char fam[8];
        if (t == NULL || sscanf(t, "%7s %u/%u", fam, &type, &code) != 3 || code > 255 ||
            (strcmp(fam, "icmp") != 0 && strcmp(fam, "icmp6") != 0)) {
            bad(L, "not an ICMP unreachable: %s", t ? t : "?");
            return;
        }
        r->blk[r->n_blk].v6 = fam[4] == '6';
        r->blk[r->n_blk++].code = (uint8_t)code;
    }
}

/* Port rows less what the listed flows gave them. */
static void load_port_residue(struct ld *L, const struct wp_jval *ports, const struct wp_agg *snap)
{
    struct wp_agg *a = wp_engine_agg(L->e);
    for (size_t i = 0; ports != NULL && i < ports->n && !L->failed; i++) {
        const struct wp_jval *j = &ports->items[i];
        struct wp_port_row r;
        memset(&r, 0, sizeof(r));
        if (proto_of(L, opt_str(j, "transport"), &r.key.proto) != 0)
            return;
        const struct wp_jval *pv = wp_json_get(j, "port");
        r.key.has_port = pv != NULL && pv->type != WP_J_NULL;
        if (port_of(L, pv, &r.key.port) != 0)
            return;
        const struct wp_port_row *s = snap_port(snap, &r.key);
        struct wp_counts to = counts(L, j, "to_service"), fr = counts(L, j, "from_service");
        r.to_service.packets = sub(L, to.packets, s->to_service.packets);
        r.to_service.bytes = sub(L, to.bytes, s->to_service.bytes);
        r.from_service.packets = sub(L, fr.packets, s->from_service.packets);
        r.from_service.bytes = sub(L, fr.bytes, s->from_service.bytes);
        r.unattributed = counts(L, j, "unattributed");
        r.flows = sub(L, u64(L, j, "flows"), s->flows);
        const struct wp_jval *ap = need(L, j, "apple", WP_J_OBJ);
        r.apple.packets = sub(L, u64(L, ap, "packets"), s->apple.packets);
        r.apple.bytes = sub(L, u64(L, ap, "bytes"), s->apple.bytes);
        r.apple_flows = sub(L, u64(L, ap, "flows"), s->apple_flows);
        r.server_apple_flows = sub(L, u64(L, ap, "server_flows"), s->server_apple_flows);
        load_outcomes(L, j, &r.outcomes, &s->outcomes);
        load_names(L, wp_json_get(j, "names"), r.names, &r.n_names, &r.names_truncated, s->names,
                   s->n_names);
        if (r.flows > 0) {
            r.clients = u64(L, j, "clients");
            r.servers = u64(L, j, "servers");
        }
        bool any = r.to_service.packets || r.from_service.packets || r.unattributed.packets ||
                   r.flows || r.to_service.bytes || r.from_service.bytes || r.unattributed.bytes;
        if (!L->failed && any && wp_agg_load_port(a, &r) != 0)
            bad(L, "%s", "out of memory");
    }
}

static void load_tunnels(struct ld *L, const struct wp_jval *root)
{
    struct wp_agg *a = wp_engine_agg(L->e);
    const struct wp_jval *tun = need(L, root, "tunnels", WP_J_ARR);
    for (size_t i = 0; tun != NULL && i < tun->n && !L->failed; i++) {
        const struct wp_jval *j = &tun->items[i];
        struct wp_tunnel_row t;
        memset(&t, 0, sizeof(t));
        int kind = index_of(opt_str(j, "kind"), wp_tunnel_kind_name, 64);
        if (kind < 0 || kind == 0xff) {
            bad(L, "not a tunnel kind: %s", opt_str(j, "kind") ? opt_str(j, "kind") : "?");
            return;
        }
        t.kind = (uint8_t)kind;
        const char *tr = opt_str(j, "transport");
        if (tr != NULL) {
            uint8_t fam = 0, fb = 0;
            if (proto_of(L, tr, &t.proto) != 0 || addr_of(L, opt_str(j, "a"), &fam, t.addr[0]) ||
                addr_of(L, opt_str(j, "b"), &fb, t.addr[1]) ||
                port_of(L, wp_json_get(j, "a_port"), &t.port[0]) ||
                port_of(L, wp_json_get(j, "b_port"), &t.port[1]))
                return;
            t.family = fam;
        }
        t.packets = u64(L, j, "packets");
        t.bytes = u64(L, j, "bytes");
        if (!L->failed && wp_agg_load_tunnel(a, &t) != 0)
            bad(L, "%s", "out of memory");
    }
    const struct wp_jval *other = need(L, root, "tunnels_other", WP_J_OBJ);
    if (other != NULL) {
        struct wp_tunnel_row t;
        memset(&t, 0, sizeof(t));
        t.kind = 0xff;
        t.packets = u64(L, other, "packets");
        t.bytes = u64(L, other, "bytes");
        if (!L->failed && (t.packets || t.bytes) && wp_agg_load_tunnel(a, &t) != 0)
            bad(L, "%s", "out of memory");
    }
}

/* Host rows less what the listed flows gave them. */
static void load_host_residue(struct ld *L, const struct wp_jval *root, const struct wp_agg *snap)
{
    struct wp_agg *a = wp_engine_agg(L->e);
    size_t n_snap = 0;
    struct wp_host_row **sh = snap ? wp_agg_hosts(snap, &n_snap) : NULL;
    const struct wp_jval *hosts = need(L, root, "hosts", WP_J_ARR);
    for (size_t i = 0; hosts != NULL && i < hosts->n && !L->failed; i++) {
        const struct wp_jval *j = &hosts->items[i];
        struct wp_host_row h;
        memset(&h, 0, sizeof(h));
        if (addr_of(L, opt_str(j, "addr"), &h.family, h.addr) != 0)
            break;
        const struct wp_host_row *s = NULL;
        for (size_t k = 0; k < n_snap && s == NULL; k++)
            if (sh[k]->family == h.family && memcmp(sh[k]->addr, h.addr, 16) == 0)
                s = sh[k];
        h.packets = sub(L, u64(L, j, "packets"), s ? s->packets : 0);
        h.bytes = sub(L, u64(L, j, "bytes"), s ? s->bytes : 0);
        h.flows = sub(L, u64(L, j, "flows"), s ? s->flows : 0);
        if (h.flows == 0 && h.packets == 0)
            continue;
        const struct wp_jval *ap = wp_json_get(j, "apple");
        h.apple = ap != NULL && ap->type == WP_J_BOOL && ap->b;
        const struct wp_jval *tr = wp_json_get(j, "ports_truncated");
        h.ports_truncated = tr != NULL && tr->type == WP_J_BOOL && tr->b;
        struct wp_port_key pk[WP_HOST_MAX_PORTS];
        const struct wp_jval *ports = need(L, j, "ports", WP_J_ARR);
        for (size_t k = 0; ports != NULL && k < ports->n && h.n_ports < WP_HOST_MAX_PORTS; k++) {
            const char *ps = wp_json_str(&ports->items[k]);
            char tb[16] = "";
            unsigned port = 0;
            struct wp_port_key key = {0, 0, 0};
            if (ps != NULL && sscanf(ps, "%15[^/]/%u", tb, &port) == 2 && port < 65536) {
                key.has_port = 1;
                key.port = (uint16_t)port;
            } else if (ps != NULL) {
                snprintf(tb, sizeof(tb), "%s", ps);
            }
            if (proto_of(L, tb, &key.proto) != 0)
                break;
            pk[h.n_ports++] = key;
        }
        h.ports = pk;
        const struct wp_jval *names = wp_json_get(j, "names");
        for (size_t k = 0; names != NULL && k < names->n && h.n_names < WP_HOST_NAMES; k++) {
            const char *nm = wp_json_str(&names->items[k]);
            if (nm != NULL && L->o->nametab != NULL)
                h.names[h.n_names++] = wp_nametab_intern(L->o->nametab, nm);
        }
        if (!L->failed && wp_agg_load_host(a, &h) != 0)
            bad(L, "%s", "out of memory");
    }
    free(sh);
    const struct wp_jval *other = need(L, root, "hosts_other", WP_J_OBJ);
    if (other != NULL && !L->failed) {
        struct wp_host_row h;
        memset(&h, 0, sizeof(h));
        const struct wp_host_row *s = snap ? wp_agg_hosts_other(snap) : NULL;
        h.packets = sub(L, u64(L, other, "packets"), s ? s->packets : 0);
        h.bytes = sub(L, u64(L, other, "bytes"), s ? s->bytes : 0);
        h.flows = sub(L, u64(L, other, "flows"), s ? s->flows : 0);
        if (h.packets || h.flows)
            wp_agg_load_host(a, &h);
    }
}

/* Apple rows (service x port) and per-service facts less the listed flows'. */
static void load_apple_residue(struct ld *L, const struct wp_jval *root, const struct wp_agg *snap)
{
    if (L->o->applesvc == NULL)
        return;
    struct wp_agg *a = wp_engine_agg(L->e);
    size_t n_snap = 0;
    struct wp_apple_row **sr = snap ? wp_agg_apple_rows(snap, &n_snap) : NULL;
    const struct wp_jval *apple = need(L, root, "apple", WP_J_ARR);
    for (size_t i = 0; apple != NULL && i < apple->n && !L->failed; i++) {
        const struct wp_jval *j = &apple->items[i];
        int svc = svc_find(L->o->applesvc, opt_str(j, "service"));
        if (svc < 0) {
            bad(L, "not an Apple service whichports knows: %s",
                opt_str(j, "service") ? opt_str(j, "service") : "?");
            break;
        }
        const struct wp_apple_svc_info *ss = snap ? wp_agg_apple_svc(snap, svc) : NULL;
        struct wp_apple_svc_info si;
        memset(&si, 0, sizeof(si));
        si.svc = svc;
        si.flows = sub(L, u64(L, j, "flows"), ss ? ss->flows : 0);
        const struct wp_jval *ports = need(L, j, "ports", WP_J_ARR);
        for (size_t k = 0; ports != NULL && k < ports->n && !L->failed; k++) {
            const struct wp_jval *pj = &ports->items[k];
            struct wp_apple_row r;
            memset(&r, 0, sizeof(r));
            r.svc = svc;
            if (proto_of(L, opt_str(pj, "transport"), &r.port.proto) != 0)
                break;
            const struct wp_jval *pv = wp_json_get(pj, "port");
            r.port.has_port = pv != NULL && pv->type != WP_J_NULL;
            if (port_of(L, pv, &r.port.port) != 0)
                break;
            const struct wp_apple_row *s = NULL;
            for (size_t m = 0; m < n_snap && s == NULL; m++)
                if (sr[m]->svc == svc && memcmp(&sr[m]->port, &r.port, sizeof(r.port)) == 0)
                    s = sr[m];
            static const struct wp_oc_row zero_oc;
            r.packets = sub(L, u64(L, pj, "packets"), s ? s->packets : 0);
            r.bytes = sub(L, u64(L, pj, "bytes"), s ? s->bytes : 0);
            r.flows = sub(L, u64(L, pj, "flows"), s ? s->flows : 0);
            load_outcomes(L, pj, &r.outcomes, s ? &s->outcomes : &zero_oc);
            if (!L->failed && (r.flows || r.packets) && wp_agg_load_apple(a, &r) != 0)
                bad(L, "%s", "out of memory");
        }
        if (si.flows > 0) {
            load_names(L, wp_json_get(j, "names"), si.names, &si.n_names, &si.names_truncated,
                       ss ? ss->names : NULL, ss ? ss->n_names : 0);
            const struct wp_jval *sv = wp_json_get(j, "servers");
            for (size_t k = 0; sv != NULL && k < sv->n && si.n_servers < WP_APPLE_SERVERS; k++) {
                uint8_t fam;
                if (addr_of(L, wp_json_str(&sv->items[k]), &fam, si.servers[si.n_servers].addr))
                    break;
                si.servers[si.n_servers++].family = fam;
            }
            wp_agg_load_svc(a, &si);
        }
    }
    free(sr);
}

/* The group of a process named in a processes row (name, or "pid N"). */
static uint16_t proc_group_of(struct ld *L, const char *name, int64_t pid, uint8_t source)
{
    struct wp_proctab *pt = wp_procstate_table(wp_engine_procstate(L->e));
    struct wp_proc_desc d;
    memset(&d, 0, sizeof(d));
    d.pid = pid;
    d.source = source ? source : WP_PSRC_PCAPNG_PIB;
    if (name != NULL) {
        d.name.p = name;
        d.name.len = (uint16_t)(strlen(name) > 64 ? 64 : strlen(name));
    }
    const struct wp_proc_entry *pe = wp_proctab_get(pt, wp_proctab_intern(pt, &d));
    return pe != NULL ? pe->group : 0;
}

/* Processes rows less what the listed flows gave them. */
static void load_proc_residue(struct ld *L, const struct wp_jval *root)
{
    const struct wp_jval *procs = need(L, root, "processes", WP_J_ARR);
    if (procs == NULL || procs->n == 0)
        return;
    struct wp_procstate *ps = wp_engine_procstate(L->e);
    struct wp_proctab *pt = wp_procstate_table(ps);
    size_t nf = 0, ns = 0;
    struct wp_flow **fl = wp_engine_flows(L->e, &nf);
    struct wp_aggproc *snap = wp_procstate_snapshot(ps, fl, nf);
    free(fl);
    struct wp_proc_row **sr = snap ? wp_aggproc_rows(snap, pt, &ns) : NULL;
    for (size_t i = 0; i < procs->n && !L->failed; i++) {
        const struct wp_jval *j = &procs->items[i];
        struct wp_proc_row r;
        memset(&r, 0, sizeof(r));
        const struct wp_jval *srcs = need(L, j, "sources", WP_J_ARR);
        uint8_t first_src = 0;
        for (size_t k = 0; srcs != NULL && k < srcs->n; k++) {
            int sx = index_of(wp_json_str(&srcs->items[k]), src_name, WP_PSRC_COUNT);
            if (sx <= 0) {
                bad(L, "%s", "a process's source is not one whichports writes");
                break;
            }
            r.sources |= (uint8_t)(1u << sx);
            if (first_src == 0)
                first_src = (uint8_t)sx;
        }
        const struct wp_jval *pids = need(L, j, "pids", WP_J_ARR);
        int64_t pid0 = -1;
        for (size_t k = 0; pids != NULL && k < pids->n && r.n_pids < WP_PROC_PIDS; k++) {
            int64_t pid;
            if (!wp_json_i64(&pids->items[k], &pid)) {
                bad(L, "%s", "a pid is not a number");
                break;
            }
            if (k == 0)
                pid0 = pid;
            r.pids[r.n_pids++] = pid;
        }
        const char *name = opt_str(j, "name");
        r.group = proc_group_of(L, name, name ? -1 : pid0, first_src);
        if (r.group == 0 || L->failed)
            break;
        const struct wp_proc_row *s = NULL;
        for (size_t k = 0; k < ns && s == NULL; k++)
            if (sr[k]->group == r.group)
                s = sr[k];
        static const struct wp_proc_row zero;
        if (s == NULL)
            s = &zero;
        r.flows = sub(L, u64(L, j, "flows"), s->flows);
        r.flows_mixed = sub(L, u64(L, j, "flows_mixed"), s->flows_mixed);
        struct wp_counts out = counts(L, j, "sent"), in = counts(L, j, "received");
        r.out.packets = sub(L, out.packets, s->out.packets);
        r.out.bytes = sub(L, out.bytes, s->out.bytes);
        r.in.packets = sub(L, in.packets, s->in.packets);
        r.in.bytes = sub(L, in.bytes, s->in.bytes);
        if (r.flows == 0 && r.out.packets == 0 && r.in.packets == 0)
            continue;
        const struct wp_jval *ports = need(L, j, "ports", WP_J_ARR);
        for (size_t k = 0; ports != NULL && k < ports->n && r.n_ports < WP_PROC_PORTS; k++) {
            const struct wp_jval *q = &ports->items[k];
            struct wp_proc_port pp;
            memset(&pp, 0, sizeof(pp));
            if (proto_of(L, opt_str(q, "transport"), &pp.key.proto) != 0)
                break;
            const struct wp_jval *pv = wp_json_get(q, "port");
            pp.key.has_port = pv != NULL && pv->type != WP_J_NULL;
            if (port_of(L, pv, &pp.key.port) != 0)
                break;
            pp.flows = u64(L, q, "flows");
            pp.packets = u64(L, q, "packets");
            pp.bytes = u64(L, q, "bytes");
            for (unsigned m = 0; m < s->n_ports; m++) {
                if (memcmp(&s->ports[m].key, &pp.key, sizeof(pp.key)) == 0) {
                    pp.flows = sub(L, pp.flows, s->ports[m].flows);
                    pp.packets = sub(L, pp.packets, s->ports[m].packets);
                    pp.bytes = sub(L, pp.bytes, s->ports[m].bytes);
                }
            }
            if (pp.flows || pp.packets)
                r.ports[r.n_ports++] = pp;
        }
        const struct wp_jval *sv = need(L, j, "servers", WP_J_ARR);
        for (size_t k = 0; sv != NULL && k < sv->n && r.n_servers < WP_PROC_SERVERS; k++) {
            struct wp_proc_server ps1;
            memset(&ps1, 0, sizeof(ps1));
            if (addr_of(L, opt_str(&sv->items[k], "address"), &ps1.family, ps1.addr) != 0)
                break;
            ps1.flows = u64(L, &sv->items[k], "flows");
            for (unsigned m = 0; m < s->n_servers; m++)
                if (s->servers[m].family == ps1.family &&
                    memcmp(s->servers[m].addr, ps1.addr, 16) == 0)
                    ps1.flows = sub(L, ps1.flows, s->servers[m].flows);
            if (ps1.flows)
                r.servers[r.n_servers++] = ps1;
        }
        load_names(L, wp_json_get(j, "names"), r.names, &r.n_names, &r.names_truncated, s->names,
                   s->n_names);
        const struct wp_jval *ap = need(L, j, "apple_services", WP_J_ARR);
        for (size_t k = 0; ap != NULL && k < ap->n && r.n_apple < WP_PROC_APPLE; k++) {
            int svc =
                L->o->applesvc ? svc_find(L->o->applesvc, opt_str(&ap->items[k], "service")) : -1;
            uint64_t f = u64(L, &ap->items[k], "flows");
            for (unsigned m = 0; m < s->n_apple; m++)
                if (s->apple[m].svc == svc)
                    f = sub(L, f, s->apple[m].flows);
            if (svc >= 0 && f > 0) {
                r.apple[r.n_apple].svc = svc;
                r.apple[r.n_apple++].flows = f;
            }
        }
        const struct wp_jval *cb = need(L, j, "carried_by", WP_J_ARR);
        for (size_t k = 0; cb != NULL && k < cb->n && r.n_carriers < WP_PROC_CARRIERS; k++) {
            const char *cn = opt_str(&cb->items[k], "name");
            int64_t cpid = -1;
            if (cn != NULL && strncmp(cn, "pid ", 4) == 0)
                cpid = strtoll(cn + 4, NULL, 10);
            uint16_t g = proc_group_of(L, cpid >= 0 ? NULL : cn, cpid, first_src);
            uint64_t f = u64(L, &cb->items[k], "flows");
            for (unsigned m = 0; m < s->n_carriers; m++)
                if (s->carriers[m].group == g)
                    f = sub(L, f, s->carriers[m].flows);
            if (g != 0 && f > 0) {
                r.carriers[r.n_carriers].group = g;
                r.carriers[r.n_carriers++].flows = f;
            }
        }
        if (!L->failed && wp_procstate_load_row(ps, &r) != 0)
            bad(L, "%s", "out of memory");
    }
    free(sr);
    wp_aggproc_free(snap);
}

static void load_proc_info(struct ld *L, const struct wp_jval *root, bool live)
{
    const struct wp_jval *pi = need(L, root, "process_info", WP_J_OBJ);
    if (pi == NULL)
        return;
    struct wp_proc_counts c;
    memset(&c, 0, sizeof(c));
    c.packets = u64(L, pi, "packets");
    const struct wp_jval *m = need(L, pi, "malformed", WP_J_OBJ);
    for (size_t i = 0; m != NULL && i < WP_PMAL_COUNT; i++)
        c.malformed[i] = u64(L, m, wp_proc_malformed_name[i]);
    wp_procstate_load(wp_engine_procstate(L->e), &c, live);
}

/* The identities every report keeps (docs/output.md): every frame in one
 * place, every flow in one port row and one server host. A report that
 * breaks one was edited or damaged: refused, not merged into wrong sums. */
static void verify(struct ld *L)
{
    const struct wp_totals *t = wp_engine_totals(L->e);
    struct wp_agg *a = wp_engine_snapshot(L->e);
    if (a == NULL) {
        bad(L, "%s", "out of memory");
        return;
    }
    size_t n = 0;
    struct wp_port_row **ports = wp_agg_ports(a, &n);
    uint64_t pk = 0, by = 0, flow_pk = 0, flows = 0, x = 0;
    for (size_t i = 0; i < n; i++) {
        const struct wp_port_row *r = ports[i];
        add(L, &pk, r->to_service.packets);
        add(L, &pk, r->from_service.packets);
        add(L, &pk, r->unattributed.packets);
        add(L, &by, r->to_service.bytes);
        add(L, &by, r->from_service.bytes);
        add(L, &by, r->unattributed.bytes);
        add(L, &flow_pk, r->to_service.packets);
        add(L, &flow_pk, r->from_service.packets);
        add(L, &flows, r->flows);
        if (r->apple_flows > r->flows || r->server_apple_flows > r->apple_flows ||
            r->clients > r->flows || r->servers > r->flows)
            bad(L, "%s", "a port row has more Apple flows, clients or servers than flows");
    }
    free(ports);
    uint64_t whole = pk, whole_by = by;
    add(L, &whole, t->other_packets);
    add(L, &whole, t->undecodable_packets);
    add(L, &whole_by, t->other_bytes);
    add(L, &whole_by, t->undecodable_bytes);
    if (!L->failed &&
        (whole != t->packets || whole_by != t->bytes || pk != t->ip_packets || by != t->ip_bytes))
        bad(L, "%s", "ports, other and undecodable packets do not add up to the totals");
    for (int i = 0; i < WP_TRUNC_COUNT; i++)
        add(L, &x, t->truncated_at[i]);
    if (!L->failed &&
        (x != t->truncated || flows != t->flows || t->fragments_unattributed > t->fragments ||
         t->unsupported_packets > t->other_packets || t->flows_evicted > t->flows))
        bad(L, "%s", "the totals do not add up (truncated, flows, fragments)");
    struct wp_host_row **hosts = wp_agg_hosts(a, &n);
    uint64_t hpk = 0, hfl = 0;
    for (size_t i = 0; i < n; i++) {
        add(L, &hpk, hosts[i]->packets);
        add(L, &hfl, hosts[i]->flows);
    }
    free(hosts);
    add(L, &hpk, wp_agg_hosts_other(a)->packets);
    add(L, &hfl, wp_agg_hosts_other(a)->flows);
    if (!L->failed && (hpk != flow_pk || hfl != flows))
        bad(L, "%s", "the server hosts do not add up to the port rows");
    struct wp_tunnel_row **tun = wp_agg_tunnels(a, &n);
    uint64_t tpk = 0;
    for (size_t i = 0; i < n; i++)
        add(L, &tpk, tun[i]->packets);
    free(tun);
    add(L, &tpk, wp_agg_tunnels_other(a)->packets);
    if (!L->failed && tpk != t->tunneled)
        bad(L, "%s", "the tunnel rows do not add up to totals.tunneled");
    wp_agg_free(a);
}

void wp_merge_input_init(struct wp_merge_input *in)
{
    memset(in, 0, sizeof(*in));
    in->complete = true;
}

void wp_merge_input_free(struct wp_merge_input *in)
{
    for (size_t i = 0; i < in->n_sources; i++)
        free(in->sources[i]);
    for (size_t i = 0; i < in->n_errors; i++)
        free(in->errors[i]);
    free(in->sources);
    free(in->errors);
    memset(in, 0, sizeof(*in));
}

int wp_merge_load(struct wp_engine *e, const struct wp_engine_opts *opts, const char *text,
                  size_t len, size_t *used, const char *what, struct wp_merge_input *in, char *err)
{
    struct wp_json *j;
    char jerr[WP_ERRBUF_SIZE];
    if (wp_json_parse(&j, text, len, used, jerr) != 0) {
        snprintf(err, WP_ERRBUF_SIZE, "%.200s: not a whichports JSON report (%.270s)", what, jerr);
        return -1;
    }
    struct ld L = {e, opts, what, err, false};
    const struct wp_jval *root = wp_json_root(j);
    const char *schema = opt_str(root, "schema");
    if (schema == NULL || strncmp(schema, "whichports/", 11) != 0) {
        snprintf(err, WP_ERRBUF_SIZE,
                 "%s: not a whichports JSON report (no \"schema\": \"whichports/N\"; "
                 "JSON Lines and live reports are merged one report per file)",
                 what);
        wp_json_free(j);
        return -1;
    }
    if (strcmp(schema, WP_SCHEMA) != 0) {
        snprintf(err, WP_ERRBUF_SIZE,
                 "%s: a report of schema %.40s, which this whichports cannot merge (it reads %s: "
                 "make the report again with this version)",
                 what, schema, WP_SCHEMA);
        wp_json_free(j);
        return -1;
    }
    const struct wp_jval *inp = need(&L, root, "input", WP_J_OBJ);
    const struct wp_jval *tot = need(&L, root, "totals", WP_J_OBJ);
    const struct wp_jval *ports = need(&L, root, "ports", WP_J_ARR);
    if (inp != NULL && tot != NULL && ports != NULL) {
        const char *mode = opt_str(inp, "mode");
        if (mode == NULL || (strcmp(mode, "file") != 0 && strcmp(mode, "live") != 0))
            bad(&L, "input.mode is %s, not file or live", mode ? mode : "missing");
        else if (strcmp(mode, "live") == 0)
            in->live = true;
        if (wp_json_get(root, "interval") != NULL)
            bad(&L, "%s",
                "a report of one --interval of a live run: merge the run's final "
                "report instead");
    }
    if (!L.failed)
        load_input(&L, inp, in);
    if (!L.failed)
        load_totals(&L, tot, in);
    const struct wp_jval *flows = wp_json_get(root, "flows");
    bool live_procs = false;
    size_t listed = 0;
    if (!L.failed && flows != NULL) {
        if (flows->type != WP_J_ARR) {
            bad(&L, "%s", "\"flows\" is not an array");
        } else {
            load_flows(&L, flows);
            for (size_t i = 0; i < flows->n && !L.failed; i++) {
                const struct wp_jval *p = wp_json_get(&flows->items[i], "process");
                const char *src = p != NULL ? opt_str(p, "source") : NULL;
                live_procs = live_procs || (src != NULL && strcmp(src, "live") == 0);
            }
            listed = flows->n;
        }
    }
    if (!L.failed) {
        const struct wp_totals *t = wp_engine_totals(e);
        uint64_t evicted = t->flows_evicted;
        if (t->flows < listed + evicted)
            bad(&L, "%s", "totals.flows is less than the flows listed: the report is inconsistent");
        else
            wp_engine_load_unlisted(e, t->flows - listed - evicted);
        const struct wp_jval *pe = wp_json_get(root, "peers_exact");
        if (flows == NULL || t->flows > listed || (pe != NULL && pe->type == WP_J_BOOL && !pe->b))
            in->peers_inexact = true;
    }
    if (!L.failed)
        load_proc_info(&L, root, live_procs);
    if (!L.failed)
        load_proc_residue(&L, root);
    const struct wp_jval *tl = need(&L, root, "timeline", WP_J_OBJ);
    if (!L.failed)
        load_timeline(&L, tl);
    if (!L.failed) {
        /* what the rows have beyond the listed flows */
        struct wp_agg *snap = wp_engine_snapshot(e);
        if (snap == NULL) {
            bad(&L, "%s", "out of memory");
        } else {
            load_port_residue(&L, ports, snap);
            if (!L.failed)
                load_host_residue(&L, root, snap);
            if (!L.failed)
                load_apple_residue(&L, root, snap);
            wp_agg_free(snap);
        }
    }
    if (!L.failed)
        load_tunnels(&L, root);
    if (!L.failed)
        verify(&L);
    wp_json_free(j);
    return L.failed ? -1 : 0;
}
