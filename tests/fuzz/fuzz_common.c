/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: shared by the fuzz targets: tables, engine options, reports,
 * and the invariants every input must keep
 *
 * A crash or a sanitizer report is one kind of finding; a report whose
 * numbers do not add up is another ("never lies"). fuzz_report() checks the
 * accounting identities of docs/design.md on every snapshot and aborts when
 * one fails, so libFuzzer saves the input like any crash. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/capture.h"
#include "wp/classify.h"
#include "wp/hash.h"
#include "wp/report.h"
#include "wp/rules.h"
#if FUZZ_HAVE_NAMES
#include "wp/names.h"
#endif

#include "fuzz_common.h"

static struct wp_prefixes *prefixes;
static struct wp_services *services;
static struct wp_applesvc *applesvc;
static FILE *devnull;
#if FUZZ_HAVE_NAMES
/* The name table of the input being run (names.h), made by
 * fuzz_engine_opts() and freed by fuzz_input_end(), so that names of one
 * input never leak into the next. */
static struct wp_nametab *nametab;
#endif

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n==FUZZ INVARIANT== %s:%d: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void fuzz_mismatch(const char *id, const char *file, int line, const char *cond, const char *fmt,
                   ...)
{
    const char *tol = getenv("WP_FUZZ_TOLERATE");
    size_t n = strlen(id);
    for (const char *p = tol; p != NULL && *p != '\0';
         p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, id, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return;
    va_list ap;
    fprintf(stderr, "\n==FUZZ INVARIANT== [%s] %s:%d: %s: ", id, file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void fuzz_init(void)
{
    if (devnull != NULL)
        return;
    char err[WP_ERRBUF_SIZE];
    if (wp_prefixes_builtin(&prefixes, err) != 0 || wp_services_builtin(&services, err) != 0 ||
        wp_applesvc_builtin(&applesvc, err) != 0) {
        fprintf(stderr, "fuzz: built-in tables: %s\n", err);
        abort();
    }
    wp_hash_seed(UINT64_C(0x0706050403020100), UINT64_C(0x0f0e0d0c0b0a0908));
    devnull = fopen("/dev/null", "w");
    if (devnull == NULL) {
        perror("fuzz: /dev/null");
        abort();
    }
}

void fuzz_engine_opts(struct wp_engine_opts *o, bool tunnels, size_t max_flows, int64_t timeout_ns)
{
    fuzz_init();
    memset(o, 0, sizeof(*o));
    o->tunnels = tunnels;
    o->max_flows = max_flows;
    for (int i = 0; i < WP_FC_COUNT; i++)
        o->timeout_ns[i] = timeout_ns;
    o->prefixes = prefixes;
    o->services = services;
    o->applesvc = applesvc;
#if FUZZ_HAVE_NAMES
    if (nametab == NULL)
        nametab = wp_nametab_new();
    if (nametab == NULL)
        abort();
    o->nametab = nametab;
#endif
}

void fuzz_input_end(void)
{
#if FUZZ_HAVE_NAMES
    wp_nametab_free(nametab);
    nametab = NULL;
#endif
}

/* The accounting identities: every frame is in exactly one place, every
 * flow in exactly one port row and one server host. */
static void check(const struct wp_report *r, size_t live_flows, uint64_t unlisted)
{
    const struct wp_totals *t = r->totals;
    uint64_t pk = 0, by = 0, flow_pk = 0, flows = 0;
    for (size_t i = 0; i < r->n_ports; i++) {
        const struct wp_port_row *p = r->ports[i];
        pk += p->to_service.packets + p->from_service.packets + p->unattributed.packets;
        by += p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes;
        flow_pk += p->to_service.packets + p->from_service.packets;
        flows += p->flows;
        FUZZ_EXPECT("rows", p->apple_flows <= p->flows && p->server_apple_flows <= p->apple_flows,
                    "port row %u/%u: apple flows %llu, server apple %llu, flows %llu", p->key.proto,
                    p->key.port, (unsigned long long)p->apple_flows,
                    (unsigned long long)p->server_apple_flows, (unsigned long long)p->flows);
        FUZZ_EXPECT("rows", p->clients <= p->flows && p->servers <= p->flows,
                    "port row %u/%u: clients %llu servers %llu flows %llu", p->key.proto,
                    p->key.port, (unsigned long long)p->clients, (unsigned long long)p->servers,
                    (unsigned long long)p->flows);
        FUZZ_EXPECT("rows", p->key.has_port || p->flows == 0 || !wp_proto_has_ports(p->key.proto),
                    "flows of port transport %u counted without a port", p->key.proto);
    }
    FUZZ_EXPECT("accounting", pk + t->other_packets + t->undecodable_packets == t->packets,
                "ports %llu + other %llu + undecodable %llu != packets %llu",
                (unsigned long long)pk, (unsigned long long)t->other_packets,
                (unsigned long long)t->undecodable_packets, (unsigned long long)t->packets);
    FUZZ_EXPECT("accounting", by + t->other_bytes + t->undecodable_bytes == t->bytes,
                "ports %llu + other %llu + undecodable %llu != bytes %llu", (unsigned long long)by,
                (unsigned long long)t->other_bytes, (unsigned long long)t->undecodable_bytes,
                (unsigned long long)t->bytes);
    FUZZ_EXPECT("accounting", pk == t->ip_packets && by == t->ip_bytes,
                "port rows %llu/%llu != IP packets/bytes %llu/%llu", (unsigned long long)pk,
                (unsigned long long)by, (unsigned long long)t->ip_packets,
                (unsigned long long)t->ip_bytes);
    FUZZ_EXPECT("accounting", t->unsupported_packets <= t->other_packets,
                "unsupported %llu > other %llu", (unsigned long long)t->unsupported_packets,
                (unsigned long long)t->other_packets);
    uint64_t tr = 0;
    for (int i = 0; i < WP_TRUNC_COUNT; i++)
        tr += t->truncated_at[i];
    FUZZ_EXPECT("accounting", tr == t->truncated, "truncated_at sums to %llu, truncated %llu",
                (unsigned long long)tr, (unsigned long long)t->truncated);
    FUZZ_EXPECT("accounting", t->fragments_unattributed <= t->fragments,
                "unattributed fragments %llu > %llu", (unsigned long long)t->fragments_unattributed,
                (unsigned long long)t->fragments);
    FUZZ_EXPECT("accounting", flows == t->flows, "port rows hold %llu flows, totals say %llu",
                (unsigned long long)flows, (unsigned long long)t->flows);
    FUZZ_EXPECT("accounting", t->flows - t->flows_evicted - unlisted == live_flows,
                "flows %llu - evicted %llu != %zu live flows", (unsigned long long)t->flows,
                (unsigned long long)t->flows_evicted, live_flows);
    uint64_t hpk = 0, hflows = 0;
    for (size_t i = 0; i < r->n_hosts; i++) {
        hpk += r->hosts[i]->packets;
        hflows += r->hosts[i]->flows;
    }
    FUZZ_EXPECT("accounting", hpk == flow_pk && hflows == t->flows,
                "server hosts hold %llu packets / %llu flows, port rows %llu / %llu",
                (unsigned long long)hpk, (unsigned long long)hflows, (unsigned long long)flow_pk,
                (unsigned long long)t->flows);
    uint64_t tun = 0;
    for (size_t i = 0; i < r->n_tunnels; i++)
        tun += r->tunnels[i]->packets;
    FUZZ_EXPECT("accounting", tun == t->tunneled, "tunnel rows hold %llu packets, tunneled %llu",
                (unsigned long long)tun, (unsigned long long)t->tunneled);
    for (size_t i = 0; i < r->n_flows; i++) {
        const struct wp_flow *f = r->flows[i];
        FUZZ_ASSERT(f->server <= 1 && f->how < WP_HOW_COUNT && f->cls < WP_FC_COUNT,
                    "flow with server %u how %u class %u", f->server, f->how, f->cls);
        FUZZ_ASSERT(f->key.family == 4 || f->key.family == 6, "flow of family %u", f->key.family);
        FUZZ_ASSERT(f->pkts[0] + f->pkts[1] > 0, "flow without packets");
    }
}

void fuzz_report(struct wp_engine *e, bool complete, const char *const *errors, size_t n_errors,
                 int which)
{
    fuzz_init();
    static const char *const sources[] = {"fuzz-input"};
    struct wp_report_src src = {
        .mode = "file",
        .sources = sources,
        .n_sources = 1,
        .complete = complete,
        .errors = errors,
        .n_errors = n_errors,
        .services = services,
#if FUZZ_HAVE_NAMES
        .names = nametab,
#endif
        .applesvc = applesvc,
        .flows = true,
    };
    struct wp_report r;
    FUZZ_ASSERT(wp_report_build(&r, e, &src, false) == 0, "snapshot failed");
    check(&r, r.n_flows, wp_engine_unlisted(e));

    struct wp_report_opts o;
    memset(&o, 0, sizeof(o));
    o.rules = -1;
    o.csv_header = true;
    if (which == FUZZ_REPORT_SOME) {
        o.format = WP_FMT_TEXT;
        (void)wp_report_write(devnull, &r, &o);
        o.format = WP_FMT_JSON;
        (void)wp_report_write(devnull, &r, &o);
        o.format = WP_FMT_CSV;
        o.view = WP_VIEW_FLOWS;
        (void)wp_report_write(devnull, &r, &o);
    } else if (which == FUZZ_REPORT_ALL) {
        o.format = WP_FMT_TEXT;
        (void)wp_report_write(devnull, &r, &o);
        o.filters = true;
        o.top = 3;
        r.nanos = true;
        (void)wp_report_write(devnull, &r, &o);
        o.filters = false;
        o.apple = true;
        (void)wp_report_write(devnull, &r, &o);
        o.apple = false;
        o.format = WP_FMT_JSON;
        (void)wp_report_write(devnull, &r, &o);
        o.no_flows = true;
        o.json_lines = true;
        (void)wp_report_write(devnull, &r, &o);
        o.format = WP_FMT_CSV;
        for (int v = WP_VIEW_PORTS; v <= WP_VIEW_BASELINE; v++) {
            o.view = (enum wp_view)v;
            (void)wp_report_write(devnull, &r, &o);
        }
        /* The firewall rules from the same model, in every format. */
        for (int fmt = WP_RULES_NFT; fmt <= WP_RULES_LSRULES; fmt++) {
            (void)wp_rules_write(devnull, &r, (enum wp_rules_format)fmt, false, true);
            (void)wp_rules_write(devnull, &r, (enum wp_rules_format)fmt, true, false);
        }
        o.apple = true;
        (void)wp_report_write(devnull, &r, &o);
        o.apple = false;
        /* A live-style report: interval column and no header. */
        r.has_interval = true;
        r.interval_start_ns = r.totals->first_ns;
        r.interval_end_ns = r.totals->last_ns;
        o.csv_header = false;
        o.view = WP_VIEW_FLOWS;
        (void)wp_report_write(devnull, &r, &o);
        o.view = WP_VIEW_TOTALS;
        (void)wp_report_write(devnull, &r, &o);
    }
    wp_report_release(&r);
}
