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

#include "merge_int.h"

/* A process object to its interned id (0: null). */
static uint16_t proc_of(struct ld *L, const struct wp_jval *v, struct wp_proctab *t)
{
    if (v == NULL || v->type == WP_J_NULL)
        return 0;
    if (v->type != WP_J_OBJ) {
        mld_bad(L, "%s", "a process is not an object");
        return 0;
    }
    struct wp_proc_desc d;
    memset(&d, 0, sizeof(d));
    int64_t pid = -1;
    const struct wp_jval *pv = wp_json_get(v, "pid");
    if (pv != NULL && pv->type != WP_J_NULL && !wp_json_i64(pv, &pid))
        mld_bad(L, "%s", "a process's pid is not a number");
    d.pid = pid;
    const char *s;
#define STR(field)                                                                                 \
    if ((s = mld_opt_str(v, #field)) != NULL) {                                                    \
        d.field.p = s;                                                                             \
        d.field.len = (uint16_t)(strlen(s) > 65535 ? 65535 : strlen(s));                           \
    }
    STR(name)
    STR(path)
    STR(user)
    STR(container)
#undef STR
    int src = mld_index_of(mld_opt_str(v, "source"), mld_src_name, WP_PSRC_COUNT);
    if (src <= 0) {
        mld_bad(L, "%s", "a process's source is not one whichports writes");
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
            mld_bad(L, "not TCP flags: %s", s);
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
        return mld_bad(L, "%s", "a flow is not an object");
    if (mld_proto_of(L, mld_opt_str(j, "transport"), &proto) != 0 ||
        mld_addr_of(L, mld_opt_str(j, "client"), &fc, ca) != 0 ||
        mld_addr_of(L, mld_opt_str(j, "server"), &fs, sa) != 0 ||
        mld_port_of(L, wp_json_get(j, "client_port"), &cp) != 0 ||
        mld_port_of(L, wp_json_get(j, "server_port"), &sp) != 0)
        return -1;
    if (fc != fs)
        return mld_bad(L, "%s", "a flow's client and server are of different families");
    size_t n = fc == 4 ? 4 : 16;
    int c = memcmp(ca, sa, n);
    if (c == 0)
        c = (int)cp - (int)sp;
    unsigned cli = c <= 0 ? 0 : 1, srv = 1 - cli;
    memcpy(f.key.addr[cli], ca, n);
    memcpy(f.key.addr[srv], sa, n);
    f.key.port[cli] = cp;
    f.key.port[srv] = sp;
    f.key.vlan = mld_vlan_of(L, wp_json_get(j, "vlan"));
    f.key.vlan_inner = mld_vlan_of(L, wp_json_get(j, "vlan_inner"));
    f.key.proto = proto;
    f.key.family = fc;
    f.server = (uint8_t)srv;
    int how = mld_index_of(mld_opt_str(j, "how"), wp_how_name, WP_HOW_COUNT);
    if (how < 0)
        return mld_bad(L, "a flow's \"how\" is not a rule whichports has: %s",
                       mld_opt_str(j, "how") ? mld_opt_str(j, "how") : "(none)");
    f.how = (uint8_t)how;
    if (how == WP_HOW_SYN)
        f.bits |= WP_FB_SYN;
    struct wp_counts ts = mld_counts(L, j, "to_server"), tc = mld_counts(L, j, "to_client");
    f.pkts[cli] = ts.packets;
    f.bytes[cli] = ts.bytes;
    f.pkts[srv] = tc.packets;
    f.bytes[srv] = tc.bytes;
    if (f.pkts[0] + f.pkts[1] == 0 || f.pkts[0] + f.pkts[1] < f.pkts[0])
        return mld_bad(L, "%s", "a flow without packets");
    const struct wp_jval *first = wp_json_get(j, "first"), *last = wp_json_get(j, "last");
    bool nanos = false;
    if (first != NULL && first->type != WP_J_NULL) {
        if (mld_time_of(L, first, &f.first_ns, &nanos) != 0 ||
            mld_time_of(L, last, &f.last_ns, &nanos) != 0)
            return -1;
        if (f.first_ns > f.last_ns)
            return mld_bad(L, "%s", "a flow ends before it starts");
        f.bits |= WP_FB_TIME;
    }
    const char *fl = mld_opt_str(j, "tcp_flags");
    if (fl != NULL)
        tcp_flags_of(L, fl, &f.tcp_flags);
    if (L->o->prefixes != NULL) {
        for (int i = 0; i < 2; i++)
            if (wp_prefixes_match(L->o->prefixes, fc, f.key.addr[i]) != NULL)
                f.bits |= (uint8_t)(i ? WP_FB_APPLE1 : WP_FB_APPLE0);
    }
    const char *name = mld_opt_str(j, "name");
    if (name != NULL && L->o->nametab != NULL) {
        int src = mld_index_of(mld_opt_str(j, "name_source"), wp_name_src_name, 8);
        if (src <= 0)
            return mld_bad(L, "%s", "a flow's name_source is not one whichports writes");
        f.name_id = wp_nametab_intern(L->o->nametab, name);
        f.name_src = f.name_id ? (uint8_t)src : 0;
    }
    const char *st = mld_opt_str(j, "state");
    int b[5];
    if (st == NULL || strlen(st) != 10)
        return mld_bad(L, "%s", "a flow has no \"state\" (made by an older whichports?)");
    for (int i = 0; i < 5; i++)
        if ((b[i] = hexbyte(st + 2 * i)) < 0)
            return mld_bad(L, "a flow's state is not hexadecimal: %s", st);
    f.oc.ep = (uint8_t)b[0];
    f.oc.seen = (uint8_t)b[1];
    f.oc.st = (uint8_t)b[2];
    f.oc.code = (uint8_t)b[3];
    f.pbits = (uint8_t)b[4];
    const struct wp_jval *blk = wp_json_get(j, "blocked_by");
    const char *from = blk != NULL ? mld_opt_str(blk, "from") : NULL;
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
        mld_bad(L, "%s", "out of memory");
        return;
    }
    for (size_t i = 0; i < flows->n && !L->failed; i++)
        parse_flow(L, &flows->items[i], &v[i]);
    if (!L->failed)
        qsort(v, flows->n, sizeof(*v), cmp_loaded);
    for (size_t i = 0; i < flows->n && !L->failed; i++)
        if (wp_engine_load_flow(L->e, &v[i].f, v[i].group) == NULL)
            mld_bad(L, "%s", "a flow is listed twice, or memory ran out");
    free(v);
}

static void load_totals(struct ld *L, const struct wp_jval *t, struct wp_merge_input *in)
{
    struct wp_totals *d = wp_engine_totals_mut(L->e);
#define WP_X(field, name) d->field = mld_u64(L, t, name);
#define WP_A(field, name, n, names)                                                                \
    {                                                                                              \
        const struct wp_jval *o = mld_need(L, t, name, WP_J_OBJ);                                  \
        for (size_t i = 0; o != NULL && i < (n); i++)                                              \
            d->field[i] = mld_u64(L, o, names[i]);                                                 \
    }
    WP_TOTALS_LIST(WP_X, WP_A)
#undef WP_X
#undef WP_A
    const struct wp_jval *nm = mld_need(L, t, "names", WP_J_OBJ);
#define WP_X(field, desc) d->names.field = mld_u64(L, nm, #field);
    WP_NAME_COUNTS_LIST(WP_X)
#undef WP_X
    const struct wp_jval *ie = mld_need(L, t, "icmp_errors", WP_J_OBJ);
#define WP_X(field, name, desc) d->outcome.field = mld_u64(L, ie, name);
    WP_ICMP_ERROR_COUNTS_LIST(WP_X)
#undef WP_X
    const struct wp_jval *dr = wp_json_get(t, "dropped");
    if (dr != NULL && dr->type != WP_J_NULL) {
        uint64_t x = mld_u64(L, t, "dropped"), y = mld_u64(L, t, "dropped_interface");
        in->dropped_known = true;
        mld_add(L, &in->dropped, x);
        mld_add(L, &in->ifdropped, y);
    }
    const struct wp_jval *pa = wp_json_get(t, "process_attribution");
    if (pa != NULL && pa->type == WP_J_OBJ) {
        const char *st = mld_opt_str(pa, "state");
        const struct wp_jval *unk = mld_need(L, pa, "unknown", WP_J_OBJ);
        struct wp_attr_counts *c = &in->attr;
        if (st != NULL && strcmp(st, "on") == 0)
            c->state = WP_ATTR_ON;
        else if (c->state != WP_ATTR_ON)
            c->state = WP_ATTR_OFF;
#define WP_X(field, name) mld_add(L, &c->field, mld_u64(L, pa, name));
#define WP_Y(field, name) mld_add(L, &c->field, mld_u64(L, unk, name));
        WP_ATTR_TOP_LIST(WP_X)
        WP_ATTR_UNKNOWN_LIST(WP_Y)
        WP_ATTR_LATE_LIST(WP_X)
#undef WP_X
#undef WP_Y
    }
    const struct wp_jval *first = wp_json_get(t, "first");
    if (first != NULL && first->type != WP_J_NULL) {
        if (mld_time_of(L, first, &d->first_ns, &in->nanos) == 0 &&
            mld_time_of(L, wp_json_get(t, "last"), &d->last_ns, &in->nanos) == 0)
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
    const struct wp_jval *src = mld_need(L, inp, "sources", WP_J_ARR);
    for (size_t i = 0; src != NULL && i < src->n; i++) {
        const char *s = wp_json_str(&src->items[i]);
        if (s == NULL || push(&in->sources, &in->n_sources, s) != 0)
            mld_bad(L, "%s", "input.sources holds something other than names");
    }
    const struct wp_jval *lts = mld_need(L, inp, "link_types", WP_J_ARR);
    for (size_t i = 0; lts != NULL && i < lts->n; i++) {
        const char *s = wp_json_str(&lts->items[i]);
        uint32_t lt = s != NULL ? linktype_of(s) : UINT32_MAX;
        if (lt == UINT32_MAX)
            mld_bad(L, "not a link type: %s", s ? s : "?");
        else
            wp_engine_load_linktype(L->e, lt);
    }
    const struct wp_jval *cp = mld_need(L, inp, "complete", WP_J_BOOL);
    if (cp != NULL && !cp->b)
        in->complete = false;
    const struct wp_jval *er = mld_need(L, inp, "errors", WP_J_ARR);
    for (size_t i = 0; er != NULL && i < er->n; i++) {
        const char *s = wp_json_str(&er->items[i]);
        if (s == NULL || push(&in->errors, &in->n_errors, s) != 0)
            mld_bad(L, "%s", "input.errors holds something other than messages");
        in->complete = false; /* a report that names damage is not whole */
    }
    /* the BPF filter: reports of different filters count different things */
    const struct wp_jval *fv = wp_json_get(inp, "filter");
    const char *f = wp_json_str(fv);
    if (fv == NULL || (fv->type != WP_J_NULL && f == NULL)) {
        mld_bad(L, "%s", "input.filter is missing or not a string");
        return;
    }
    if (!in->have_filter) {
        in->have_filter = true;
        if (f != NULL && (in->filter = dup(f)) == NULL)
            mld_bad(L, "%s", "out of memory");
    } else if ((f == NULL) != (in->filter == NULL) || (f != NULL && strcmp(f, in->filter) != 0)) {
        mld_bad(L,
                "made with the filter %.100s, another report with %.100s: reports of "
                "different filters count different traffic and do not merge",
                f ? f : "(none)", in->filter ? in->filter : "(none)");
    }
}

static void load_arr(struct ld *L, const struct wp_jval *s, struct wp_tl_arr *a, size_t n)
{
    const struct wp_jval *bp = mld_need(L, s, "bucket_packets", WP_J_ARR);
    const struct wp_jval *bb = mld_need(L, s, "bucket_bytes", WP_J_ARR);
    if (bp == NULL || bb == NULL)
        return;
    if (bp->n != n || bb->n != n) {
        mld_bad(L, "%s", "a timeline series does not have one count per bucket");
        return;
    }
    if (a == NULL)
        return; /* memory ran out: the series stays short (series_dropped) */
    for (size_t i = 0; i < n; i++) {
        uint64_t x, y;
        if (!wp_json_u64(&bp->items[i], &x) || !wp_json_u64(&bb->items[i], &y)) {
            mld_bad(L, "%s", "a timeline bucket is not a count");
            return;
        }
        a->pkts[i] += x;
        a->bytes[i] += y;
    }
}

static void load_timeline(struct ld *L, const struct wp_jval *t)
{
    struct wp_timeline *tl = wp_engine_timeline_mut(L->e);
    uint64_t n = mld_u64(L, t, "buckets");
    int64_t width = 0, start = 0;
    bool nanos = false;
    if (!wp_json_i64(wp_json_get(t, "bucket_ns"), &width))
        mld_bad(L, "%s", "timeline.bucket_ns is not a number");
    const struct wp_jval *sv = wp_json_get(t, "start");
    if (n > 0 && mld_time_of(L, sv, &start, &nanos) != 0)
        return;
    struct wp_counts untimed = mld_counts(L, t, "untimed");
    if (L->failed)
        return;
    if (wp_timeline_load(tl, start, width, (size_t)n, mld_u64(L, t, "moved_packets"), &untimed,
                         mld_u64(L, t, "series_dropped")) != 0) {
        mld_bad(L, "%s", "the timeline has a width or number of buckets no report has");
        return;
    }
    const struct wp_jval *series = mld_need(L, t, "series", WP_J_ARR);
    for (size_t i = 0; series != NULL && i < series->n && !L->failed; i++) {
        const struct wp_jval *s = &series->items[i];
        const struct wp_jval *other = mld_need(L, s, "other", WP_J_BOOL);
        if (other == NULL)
            return;
        struct wp_port_key k = {0, 0, 0};
        if (!other->b) {
            if (mld_proto_of(L, mld_opt_str(s, "transport"), &k.proto) != 0)
                return;
            const struct wp_jval *pv = wp_json_get(s, "port");
            k.has_port = pv != NULL && pv->type != WP_J_NULL;
            if (mld_port_of(L, pv, &k.port) != 0)
                return;
        }
        load_arr(L, s, wp_timeline_load_port(tl, other->b ? NULL : &k), (size_t)n);
    }
    const struct wp_jval *apple = mld_need(L, t, "apple", WP_J_ARR);
    for (size_t i = 0; apple != NULL && i < apple->n && !L->failed; i++) {
        const struct wp_jval *s = &apple->items[i];
        int svc = L->o->applesvc ? mld_svc_find(L->o->applesvc, mld_opt_str(s, "service")) : -1;
        if (svc < 0) {
            mld_bad(L, "not an Apple service whichports knows: %s",
                    mld_opt_str(s, "service") ? mld_opt_str(s, "service") : "?");
            return;
        }
        load_arr(L, s, wp_timeline_load_apple(tl, (uint8_t)(svc + 1)), (size_t)n);
    }
    const struct wp_jval *procs = mld_need(L, t, "processes", WP_J_ARR);
    struct wp_proctab *pt = wp_procstate_table(wp_engine_procstate(L->e));
    for (size_t i = 0; procs != NULL && i < procs->n && !L->failed; i++) {
        const struct wp_jval *s = &procs->items[i];
        const struct wp_jval *other = mld_need(L, s, "other", WP_J_BOOL);
        if (other == NULL)
            return;
        uint16_t group = 0;
        if (!other->b) {
            /* the group of the first process of that name (or pid) in the table */
            const char *name = mld_opt_str(s, "name");
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
                mld_bad(L, "a timeline process names no process of the flows: %s",
                        name ? name : "?");
                return;
            }
        }
        load_arr(L, s, wp_timeline_load_proc(tl, group), (size_t)n);
    }
}

static void load_proc_info(struct ld *L, const struct wp_jval *root, bool live)
{
    const struct wp_jval *pi = mld_need(L, root, "process_info", WP_J_OBJ);
    if (pi == NULL)
        return;
    struct wp_proc_counts c;
    memset(&c, 0, sizeof(c));
    c.packets = mld_u64(L, pi, "packets");
    const struct wp_jval *m = mld_need(L, pi, "malformed", WP_J_OBJ);
    for (size_t i = 0; m != NULL && i < WP_PMAL_COUNT; i++)
        c.malformed[i] = mld_u64(L, m, wp_proc_malformed_name[i]);
    wp_procstate_load(wp_engine_procstate(L->e), &c, live);
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
    free(in->filter);
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
    struct ld L = {e, opts, what, err, false, false};
    const struct wp_jval *root = wp_json_root(j);
    const char *schema = mld_opt_str(root, "schema");
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
    const struct wp_jval *inp = mld_need(&L, root, "input", WP_J_OBJ);
    const struct wp_jval *tot = mld_need(&L, root, "totals", WP_J_OBJ);
    const struct wp_jval *ports = mld_need(&L, root, "ports", WP_J_ARR);
    if (inp != NULL && tot != NULL && ports != NULL) {
        const char *mode = mld_opt_str(inp, "mode");
        if (mode == NULL || (strcmp(mode, "file") != 0 && strcmp(mode, "live") != 0))
            mld_bad(&L, "input.mode is %s, not file or live", mode ? mode : "missing");
        else if (strcmp(mode, "live") == 0)
            in->live = true;
        /* a live report (every one has an interval) counts everything
         * since its capture started: merge the last of a run (scale.md) */
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
            mld_bad(&L, "%s", "\"flows\" is not an array");
        } else {
            load_flows(&L, flows);
            for (size_t i = 0; i < flows->n && !L.failed; i++) {
                const struct wp_jval *p = wp_json_get(&flows->items[i], "process");
                const char *src = p != NULL ? mld_opt_str(p, "source") : NULL;
                live_procs = live_procs || (src != NULL && strcmp(src, "live") == 0);
            }
            listed = flows->n;
        }
    }
    if (!L.failed) {
        const struct wp_totals *t = wp_engine_totals(e);
        uint64_t evicted = t->flows_evicted;
        if (t->flows < listed + evicted)
            mld_bad(&L, "%s",
                    "totals.flows is less than the flows listed: the report is inconsistent");
        else
            wp_engine_load_unlisted(e, t->flows - listed - evicted);
        L.whole = flows != NULL && t->flows == listed && evicted == 0;
        const struct wp_jval *pe = wp_json_get(root, "peers_exact");
        if (flows == NULL || t->flows > listed || (pe != NULL && pe->type == WP_J_BOOL && !pe->b))
            in->peers_inexact = true;
    }
    if (!L.failed)
        load_proc_info(&L, root, live_procs);
    if (!L.failed)
        mld_load_proc_residue(&L, root);
    const struct wp_jval *tl = mld_need(&L, root, "timeline", WP_J_OBJ);
    if (!L.failed)
        load_timeline(&L, tl);
    if (!L.failed) {
        /* what the rows have beyond the listed flows */
        struct wp_agg *snap = wp_engine_snapshot(e);
        if (snap == NULL) {
            mld_bad(&L, "%s", "out of memory");
        } else {
            mld_load_port_residue(&L, ports, snap);
            if (!L.failed)
                mld_load_host_residue(&L, root, snap);
            if (!L.failed)
                mld_load_apple_residue(&L, root, snap);
            wp_agg_free(snap);
        }
    }
    if (!L.failed)
        mld_load_tunnels(&L, root);
    if (!L.failed)
        mld_verify(&L);
    wp_json_free(j);
    return L.failed ? -1 : 0;
}
