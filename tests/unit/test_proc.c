/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests for the process-information parsers, the process
 * table and the per-flow majority, with truncation sweeps over every
 * parser (each prefix copied into an exact-size buffer, so that a read past
 * the end is caught by AddressSanitizer). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/analyze.h"
#include "wp/proc.h"
#include "wp/proctab.h"

static void put32(uint8_t *b, uint32_t v, bool big)
{
    for (int i = 0; i < 4; i++)
        b[big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *b, uint16_t v, bool big)
{
    b[big ? 1 : 0] = (uint8_t)v;
    b[big ? 0 : 1] = (uint8_t)(v >> 8);
}

static bool str_is(struct wp_proc_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static uint8_t *dup_n(const uint8_t *b, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (n)
        memcpy(c, b, n);
    return c;
}

/* ---- PKTAP ---------------------------------------------------------------- */

static size_t pktap_v1(uint8_t *h, uint32_t len, uint32_t flags)
{
    memset(h, 0, 156);
    put32(h, len, false);
    put32(h + 4, 1, false);
    put32(h + 8, 1, false);
    memcpy(h + 12, "en0", 3);
    put32(h + 36, flags, false);
    put32(h + 52, 301, false);
    memcpy(h + 56, "apsd", 4);
    put32(h + 76, 900, false);
    put32(h + 84, 2048, false);
    memcpy(h + 88, "Messages", 8);
    if (len >= 156)
        put32(h + 108, 0xbe0d3d08u, false);
    return len;
}

static void test_pktap(void)
{
    uint8_t h[156];
    struct wp_proc_view v;
    wp_proc_bad bad = 0;
    size_t n = pktap_v1(h, 108, 0x2 | 0x4);
    TAP_OK(wp_proc_pktap(h, n, &v, &bad), "pktap v1 108 read");
    TAP_EQ(v.proc.pid, 301, "pid");
    TAP_OK(str_is(v.proc.name, "apsd"), "comm");
    TAP_EQ(v.eproc.pid, 2048, "epid");
    TAP_OK(str_is(v.eproc.name, "Messages"), "ecomm");
    TAP_OK(v.delegated && v.dir == WP_PDIR_OUT, "delegated, outbound");
    TAP_OK(v.has_svc && v.svc == 900 && !v.has_flow_id, "svc, no flow id in 108 bytes");
    TAP_EQ(v.proc.source, WP_PSRC_PKTAP, "source");
    TAP_EQ(bad, 0, "nothing malformed");

    n = pktap_v1(h, 156, 0x1);
    TAP_OK(wp_proc_pktap(h, n, &v, &bad), "pktap v1 156 read");
    TAP_OK(v.has_flow_id && v.flow_id == 0xbe0d3d08u, "flow id");
    TAP_OK(!v.delegated && v.dir == WP_PDIR_IN, "inbound, not delegated");

    /* a 17-byte name fills its field without a NUL: it stops at 17 */
    memset(h + 56, 'x', 20);
    TAP_OK(wp_proc_pktap(h, n, &v, &bad), "long comm read");
    TAP_EQ(v.proc.name.len, 17, "comm cut at 17 bytes");

    /* pid -1 and an empty name: no process */
    pktap_v1(h, 108, 0x2);
    put32(h + 52, 0xffffffffu, false);
    memset(h + 56, 0, 17);
    put32(h + 84, 0xffffffffu, false);
    memset(h + 88, 0, 17);
    TAP_OK(wp_proc_pktap(h, 108, &v, &bad), "unknown process read");
    TAP_OK(!v.has_proc && !v.has_eproc, "pid -1, no name: no process");

    /* the decoder's cases: header length below 108 sets no process reason */
    pktap_v1(h, 100, 0);
    bad = 0;
    TAP_OK(!wp_proc_pktap(h, 156, &v, &bad) && bad == 0, "length 100: decoder's business");

    /* truncation sweep */
    n = pktap_v1(h, 156, 0x2);
    int ok_short = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = dup_n(h, k);
        bad = 0;
        bool r = wp_proc_pktap(c, k, &v, &bad);
        if (r == (k >= 108) && bad == 0)
            ok_short++;
        free(c);
    }
    TAP_EQ(ok_short, n, "pktap v1: every prefix below 108 refused, none malformed");

    /* v2: fixed 40 bytes, then comm and ecomm located by offset */
    uint8_t v2[64];
    memset(v2, 0, sizeof(v2));
    v2[0] = 40 + 5 + 9;
    v2[4] = 40;
    v2[5] = 45;
    put32(v2 + 20, 700, false);
    put32(v2 + 24, 77, false);
    put32(v2 + 28, 554, false);
    put32(v2 + 32, 0xffffffffu, false);
    put32(v2 + 36, 0x80000u | 0x2, false);
    memcpy(v2 + 40, "curl", 5);
    memcpy(v2 + 45, "launchd", 8);
    bad = 0;
    TAP_OK(wp_proc_pktap(v2, 54, &v, &bad), "pktap v2 read");
    TAP_OK(v.proc.pid == 554 && str_is(v.proc.name, "curl"), "v2 pid and comm");
    TAP_OK(v.eproc.pid == -1 && str_is(v.eproc.name, "launchd"), "v2 ecomm without epid");
    TAP_OK(v.svc == 700 && v.flow_id == 77 && v.dir == WP_PDIR_OUT, "v2 svc, flow id, dir");
    v2[5] = 60; /* beyond the header length */
    bad = 0;
    TAP_OK(!wp_proc_pktap(v2, 64, &v, &bad), "v2 offset beyond the header refused");
    TAP_EQ(bad, 1u << WP_PMAL_pktap_v2_bad_offset, "counted as pktap_v2_bad_offset");
    v2[5] = 45;
    int sweep = 0;
    for (size_t k = 0; k < 54; k++) {
        uint8_t *c = dup_n(v2, k);
        bad = 0;
        bool r = wp_proc_pktap(c, k, &v, &bad);
        if (!r && (k < 40 ? bad == 0 : bad == (1u << WP_PMAL_pktap_v2_bad_offset)))
            sweep++;
        free(c);
    }
    TAP_EQ(sweep, 54, "pktap v2: every prefix refused, counted once past the fixed part");
}

/* ---- pcapng blocks -------------------------------------------------------- */

static size_t opt_put(uint8_t *b, uint16_t code, const void *val, uint16_t len, bool big)
{
    put16(b, code, big);
    put16(b + 2, len, big);
    memcpy(b + 4, val, len);
    size_t p = ((size_t)len + 3) & ~(size_t)3;
    memset(b + 4 + len, 0, p - len);
    return 4 + p;
}

static void test_dpib(void)
{
    for (int big = 0; big < 2; big++) {
        uint8_t b[64];
        size_t n = 0;
        put32(b, 224, big);
        n = 4;
        n += opt_put(b + n, 2, "acwebsecagent\0", 14, big); /* old Apple: NUL counted */
        n += opt_put(b + n, 4, "0123456789abcdef", 16, big);
        put32(b + n, 0, big); /* opt_endofopt */
        n += 4;
        struct wp_proc_desc d;
        wp_proc_bad bad = 0;
        TAP_OK(wp_proc_dpib(b, n, big, &d, &bad), "dpib read (%s)", big ? "BE" : "LE");
        TAP_OK(d.pid == 224 && str_is(d.name, "acwebsecagent"), "dpib pid, name without NUL");
        TAP_EQ(d.source, WP_PSRC_PCAPNG_DARWIN, "dpib source");
        int sweep = 0;
        for (size_t k = 0; k < n; k++) {
            uint8_t *c = dup_n(b, k);
            bad = 0;
            bool r = wp_proc_dpib(c, k, big, &d, &bad);
            /* a cut at an option boundary is a shorter, valid block */
            bool boundary = k == 4 || k == 4 + 20 || k == 4 + 20 + 20;
            if (k < 4      ? (!r && bad == (1u << WP_PMAL_dpib_too_short))
                : boundary ? r && bad == 0
                           : (r && bad == 0) || (!r && bad == (1u << WP_PMAL_dpib_bad_option)))
                sweep++;
            free(c);
        }
        TAP_EQ(sweep, n, "dpib: every prefix refused or read within bounds");
    }
}

static size_t ws_pib(uint8_t *b, bool big, uint32_t pen, uint32_t type)
{
    uint8_t e[96];
    size_t en = 0;
    put32(e, 1234, false);
    en = 4;
    en += opt_put(e + en, 2, "curl", 4, false);
    en += opt_put(e + en, 3, "/usr/bin/curl", 13, false);
    en += opt_put(e + en, 7, "alice", 5, false);
    uint8_t st[8];
    put32(st, 5, false);
    put32(st + 4, 1, false);
    en += opt_put(e + en, 9, st, 8, false);
    put32(b, pen, big);
    put32(b + 4, type, false);
    put32(b + 8, (uint32_t)en, false);
    memcpy(b + 12, e, en);
    return 12 + en;
}

static void test_wireshark_pib(void)
{
    for (int big = 0; big < 2; big++) {
        uint8_t b[128];
        size_t n = ws_pib(b, big, 32622, 3);
        struct wp_proc_desc d;
        uint64_t start;
        wp_proc_bad bad = 0;
        TAP_EQ(wp_proc_wireshark_pib(b, n, big, &d, &start, &bad), 1, "PIB read (%s)",
               big ? "BE" : "LE");
        TAP_OK(d.pid == 1234 && str_is(d.name, "curl") && str_is(d.path, "/usr/bin/curl") &&
                   str_is(d.user, "alice"),
               "PIB pid, name, path, user");
        TAP_OK(start == ((UINT64_C(1) << 32) | 5), "PIB start time");
        TAP_EQ(d.source, WP_PSRC_PCAPNG_PIB, "PIB source");
        n = ws_pib(b, big, 62652, 3);
        TAP_EQ(wp_proc_wireshark_pib(b, n, big, &d, &start, &bad), 0, "other PEN ignored");
        n = ws_pib(b, big, 32622, 99);
        TAP_EQ(wp_proc_wireshark_pib(b, n, big, &d, &start, &bad), 0, "other entry ignored");
        TAP_EQ(bad, 0, "nothing malformed so far");
        n = ws_pib(b, big, 32622, 3);
        int sweep = 0;
        for (size_t k = 0; k < n; k++) {
            uint8_t *c = dup_n(b, k);
            bad = 0;
            int r = wp_proc_wireshark_pib(c, k, big, &d, &start, &bad);
            if (k < 4 ? r == 0 && bad == 0 : r == -1 && bad != 0)
                sweep++;
            free(c);
        }
        TAP_EQ(sweep, n, "PIB: every prefix ignored or counted malformed");
    }
}

static void test_pcapdroid(void)
{
    for (int big = 0; big < 2; big++) {
        uint8_t b[64];
        put32(b, 62652, big);
        put16(b + 4, 1, big);
        b[6] = 1;
        b[7] = 0;
        put32(b + 8, 10123, big);
        b[12] = 15;
        b[13] = 7;
        memcpy(b + 14, "com.example.app", 15);
        memcpy(b + 29, "Example", 7);
        size_t n = 36;
        struct wp_proc_desc d;
        int64_t uid;
        wp_proc_bad bad = 0;
        TAP_EQ(wp_proc_pcapdroid_map(b, n, big, &uid, &d, &bad), 1, "PCAPdroid map (%s)",
               big ? "BE" : "LE");
        TAP_OK(uid == 10123 && str_is(d.name, "Example") && str_is(d.path, "com.example.app"),
               "uid, app name, package");
        int sweep = 0;
        for (size_t k = 0; k < n; k++) {
            uint8_t *c = dup_n(b, k);
            bad = 0;
            int r = wp_proc_pcapdroid_map(c, k, big, &uid, &d, &bad);
            if (k < 4 ? r == 0 : r == -1 && bad == (1u << WP_PMAL_pcapdroid_bad_map))
                sweep++;
            free(c);
        }
        TAP_EQ(sweep, n, "PCAPdroid map: every prefix ignored or counted");
    }
    int64_t uid = 0;
    TAP_OK(wp_proc_pcapdroid_comment("u-10123", 7, &uid) && uid == 10123, "u-UID comment");
    TAP_OK(wp_proc_pcapdroid_comment("u--1", 4, &uid) && uid == -1, "u--1: unknown");
    TAP_OK(!wp_proc_pcapdroid_comment("u-12a", 5, &uid), "u-12a is not one");
}

static void test_epb_options(void)
{
    for (int big = 0; big < 2; big++) {
        uint8_t b[160], v4[4], v8[8];
        size_t n = 0;
        put32(v4, 2, big);
        n += opt_put(b + n, 2, v4, 4, big);
        put32(v4, 3, big);
        n += opt_put(b + n, 0x8001, v4, 4, big);
        put32(v4, 5, big);
        n += opt_put(b + n, 0x8003, v4, 4, big);
        put32(v4, 700, big);
        n += opt_put(b + n, 0x8002, v4, 4, big);
        put32(v4, 42, big);
        n += opt_put(b + n, 0x8005, v4, 4, big);
        put32(v8, 1234, big);
        put32(v8 + 4, 5678, big);
        n += opt_put(b + n, 8, v8, 8, big);
        n += opt_put(b + n, 1, "PID=9 TID=1", 11, big);
        struct wp_proc_epb ep;
        wp_proc_bad bad = 0;
        TAP_OK(wp_proc_epb_options(b, n, big, &ep, &bad), "EPB options (%s)", big ? "BE" : "LE");
        TAP_OK(ep.dir == WP_PDIR_OUT && ep.has_pib && ep.pib == 3 && ep.has_epib && ep.epib == 5,
               "direction and process indices");
        TAP_OK(ep.has_svc && ep.svc == 700 && ep.has_flow_id && ep.flow_id == 42, "svc, flow id");
        TAP_OK(ep.has_pid && ep.pid == 1234 && ep.tid == 5678, "option 8");
        TAP_OK(ep.n_comments == 1 && str_is(ep.comments[0], "PID=9 TID=1"), "comment");
        TAP_EQ(bad, 0, "nothing malformed");
        n = opt_put(b, 8, v4, 4, big);
        TAP_OK(wp_proc_epb_options(b, n, big, &ep, &bad) && !ep.has_pid, "option 8 of 4 bytes");
        TAP_EQ(bad, 1u << WP_PMAL_epb_bad_option_length, "counted as epb_bad_option_length");
        put16(b + 2, 200, big);
        bad = 0;
        TAP_OK(!wp_proc_epb_options(b, n, big, &ep, &bad), "option past the block refused");
        TAP_EQ(bad, 1u << WP_PMAL_epb_bad_option, "counted as epb_bad_option");
    }
}

/* ---- comments ------------------------------------------------------------- */

static bool comment(const char *s, struct wp_proc_view *v, wp_proc_bad *bad)
{
    wp_proc_view_init(v, WP_PSRC_COMMENT);
    *bad = 0;
    return wp_proc_comment(s, strlen(s), v, bad);
}

static void test_comments(void)
{
    struct wp_proc_view v;
    wp_proc_bad bad;
    TAP_OK(comment("PID: 99722\nCmd: /usr/bin/curl\nArgs: curl https://kernel.org", &v, &bad),
           "ptcpdump recognised");
    TAP_OK(v.has_proc && v.proc.pid == 99722 && str_is(v.proc.name, "curl") &&
               str_is(v.proc.path, "/usr/bin/curl"),
           "ptcpdump pid, name from Cmd, path");
    TAP_OK(wp_proc_comment("UserId: 1000", 12, &v, &bad) && str_is(v.proc.user, "1000"),
           "ptcpdump user from a second comment");
    const char *cn = "ContainerName: web\nContainerId: abc";
    TAP_OK(wp_proc_comment(cn, strlen(cn), &v, &bad) && str_is(v.proc.container, "web"),
           "ptcpdump container");
    TAP_OK(v.proc.pid == 99722, "later comments complete, not replace");

    TAP_OK(comment("PID: 301, ProcName: apsd, EPID: 2048, EProcName: Messages, SVC: BE", &v, &bad),
           "pymobiledevice3 recognised");
    TAP_OK(v.proc.pid == 301 && str_is(v.proc.name, "apsd") && v.eproc.pid == 2048 &&
               str_is(v.eproc.name, "Messages") && v.has_eproc,
           "pymobiledevice3 pid, name, epid, ename");
    TAP_OK(comment("PID: 301, ProcName: apsd, EPID: 4294967295, EProcName: , SVC: BE", &v, &bad) &&
               !v.has_eproc,
           "pymobiledevice3 without an effective process");
    TAP_OK(comment("PID=4 TID=88 VlanId=0", &v, &bad) && v.proc.pid == 4 && v.proc.name.len == 0,
           "etl2pcapng pid");
    TAP_OK(
        comment("rustnet process=firefox pid=4242 ppid=1 uid=1000 direction=outgoing", &v, &bad) &&
            v.proc.pid == 4242 && str_is(v.proc.name, "firefox") && v.dir == WP_PDIR_OUT,
        "rustnet");
    TAP_OK(!comment("just a note", &v, &bad) && !v.has_proc && bad == 0, "other comment");
    TAP_OK(!comment("PID: 12x\nCmd: /bin/sh", &v, &bad), "ptcpdump bad pid refused");
    TAP_EQ(bad, 1u << WP_PMAL_comment_bad_pid, "counted as comment_bad_pid");
    TAP_OK(!comment("PID=99999999999 TID=1", &v, &bad) && bad != 0, "etl2pcapng pid too large");
    /* sweep: every prefix of each convention, exact-size copies */
    const char *all[] = {"PID: 99722\nCmd: /usr/bin/curl\nArgs: x",
                         "PID: 301, ProcName: apsd, EPID: 2048, EProcName: Messages, SVC: BE",
                         "PID=4 TID=88", "rustnet process=a pid=1 uid=2"};
    int fine = 0, total = 0;
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(all[i]);
        for (size_t k = 0; k <= n; k++, total++) {
            char *c = (char *)dup_n((const uint8_t *)all[i], k);
            wp_proc_view_init(&v, WP_PSRC_COMMENT);
            bad = 0;
            (void)wp_proc_comment(c, k, &v, &bad);
            bool in = (v.proc.name.len == 0 ||
                       (v.proc.name.p >= c && v.proc.name.p + v.proc.name.len <= c + k));
            fine += in;
            free(c);
        }
    }
    TAP_EQ(fine, total, "comments: every prefix read within bounds");
}

/* ---- table and flows ------------------------------------------------------ */

static struct wp_proc_desc desc(int64_t pid, const char *name)
{
    struct wp_proc_desc d;
    memset(&d, 0, sizeof(d));
    d.pid = pid;
    d.name.p = name;
    d.name.len = (uint16_t)(name ? strlen(name) : 0);
    d.source = WP_PSRC_COMMENT;
    return d;
}

static void test_table_and_votes(void)
{
    struct wp_proctab *t = wp_proctab_new();
    struct wp_proc_desc a = desc(1, "apsd"), b = desc(2, "apsd"), c = desc(3, "curl");
    uint16_t ia = wp_proctab_intern(t, &a), ib = wp_proctab_intern(t, &b);
    uint16_t ic = wp_proctab_intern(t, &c);
    TAP_OK(ia && ib && ic && ia != ib, "distinct pids are distinct processes");
    TAP_EQ(wp_proctab_intern(t, &a), ia, "interning twice gives the same id");
    TAP_EQ(wp_proctab_get(t, ib)->group, ia, "same name, same group");
    TAP_EQ(wp_proctab_get(t, ic)->group, ic, "other name, own group");
    TAP_OK(strcmp(wp_proctab_get(t, ia)->name, "apsd") == 0, "name kept");
    uint16_t pa = wp_proctab_pair(t, ia, 0), pc = wp_proctab_pair(t, ic, ia);
    TAP_OK(pa && pc && pa != pc && wp_proctab_pair(t, ia, 0) == pa, "pairs interned");
    uint16_t x, y;
    wp_proctab_pair_get(t, pc, &x, &y);
    TAP_OK(x == ic && y == ia, "pair read back");

    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    for (int i = 0; i < 10; i++)
        wp_flow_proc_vote(&f, i % 4 == 3 ? pc : pa, 1);
    TAP_OK(f.proc_pair[0] == pa && f.proc_n[0] == 8 && f.proc_n[1] == 2, "majority 8 to 2");
    TAP_OK(f.pbits & WP_FP_MIXED, "mixed");
    uint16_t carrier;
    TAP_EQ(wp_flow_app(t, &f, &carrier), ia, "app of a plain flow is its process");
    struct wp_flow g;
    memset(&g, 0, sizeof(g));
    wp_flow_proc_vote(&g, pc, 20);
    TAP_EQ(wp_flow_app(t, &g, &carrier), ia, "app is the effective process");
    TAP_EQ(carrier, ic, "carried by the real one");
    wp_flow_proc_merge(&f, &g);
    TAP_OK(f.proc_pair[0] == pc && f.proc_n[0] == 22, "merge: the later majority wins");
    memset(&g, 0, sizeof(g));
    wp_flow_proc_vote(&g, pa, 70000);
    wp_flow_proc_vote(&g, pc, 1);
    TAP_OK(g.proc_pair[0] == pa && g.proc_n[0] >= 32768, "saturation keeps the leader");
    wp_proctab_free(t);
}

static void test_set_flow_process(void)
{
    struct wp_engine_opts o;
    memset(&o, 0, sizeof(o));
    o.tunnels = true;
    struct wp_engine *e = wp_engine_new(&o);
    /* one IPv4/UDP packet over raw IP (link type 101) */
    uint8_t pkt[28] = {0x45, 0, 0,  28, 0, 0, 0,    0,    64, 17, 0, 0, 10, 0,
                       0,    1, 10, 0,  0, 2, 0x30, 0x39, 0,  53, 0, 8, 0,  0};
    struct wp_record r;
    memset(&r, 0, sizeof(r));
    r.data = pkt;
    r.caplen = r.wirelen = sizeof(pkt);
    r.linktype = 101;
    wp_engine_packet(e, &r);
    struct wp_flow_key k;
    memset(&k, 0, sizeof(k));
    uint8_t a0[4] = {10, 0, 0, 1}, a1[4] = {10, 0, 0, 2};
    memcpy(k.addr[0], a0, 4);
    memcpy(k.addr[1], a1, 4);
    k.port[0] = 12345;
    k.port[1] = 53;
    k.vlan = k.vlan_inner = WP_VLAN_NONE;
    k.proto = 17;
    k.family = 4;
    struct wp_proc_desc d = desc(777, "dig");
    d.source = WP_PSRC_LIVE;
    TAP_EQ(wp_engine_set_flow_process(e, &k, &d), 0, "set_flow_process finds the flow");
    struct wp_flow *f = wp_flow_find(wp_engine_flow_table(e), &k);
    struct wp_proctab *t = wp_procstate_table(wp_engine_procstate(e));
    uint16_t p, q;
    wp_flow_process(t, f, &p, &q);
    TAP_OK(p != 0 && q == 0 && wp_proctab_get(t, p)->pid == 777 &&
               wp_proctab_get(t, p)->source == WP_PSRC_LIVE,
           "the flow's process is the live one");
    k.port[1] = 54;
    TAP_EQ((unsigned)(wp_engine_set_flow_process(e, &k, &d) + 1), 0, "unknown flow: -1");
    wp_engine_free(e);
}

/* A PCAPdroid frame: bogus Ethernet, a 29-byte IPv4/UDP packet (pad 1 to
 * 44), the trailer with `uid` and `app`, the CRC-32 stored little-endian
 * (or big-endian). Returns its length. */
static size_t droid_frame(uint8_t *b, int32_t uid, const char *app, bool crc_big)
{
    static const uint8_t ip[29] = {0x45, 0,  0, 29, 0, 1, 0,  0,    64,   17, 0, 0, 10, 0,  0,
                                   1,    10, 0, 0,  2, 0, 53, 0x30, 0x39, 0,  9, 0, 0,  'x'};
    memset(b, 0, 128);
    b[12] = 0x08;
    memcpy(b + 14, ip, sizeof(ip));
    size_t n = 44; /* 14 + 29 + 1 pad */
    b[n] = 0x01;
    b[n + 1] = 0x07;
    b[n + 2] = 0x20;
    b[n + 3] = 0x21;
    for (int i = 0; i < 4; i++)
        b[n + 4 + i] = (uint8_t)((uint32_t)uid >> (24 - 8 * i));
    memcpy(b + n + 8, app, strlen(app));
    uint32_t c = wp_proc_crc32(b, n + 28);
    for (int i = 0; i < 4; i++)
        b[n + 28 + i] = (uint8_t)(crc_big ? c >> (24 - 8 * i) : c >> (8 * i));
    return n + 32;
}

static void test_pcapdroid_trailer(void)
{
    /* the CRC catalogue's check value of CRC-32/ISO-HDLC */
    TAP_EQ(wp_proc_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u, "CRC-32 check value");
    TAP_EQ(wp_proc_crc32((const uint8_t *)"", 0), 0u, "CRC-32 of nothing");

    uint8_t b[128];
    struct wp_proc_view v;
    int64_t uid;
    uint32_t tr;
    wp_proc_bad bad = 0;
    size_t n = droid_frame(b, 10123, "com.example.app", false);
    TAP_EQ(n, 76, "frame of 76 bytes");
    TAP_OK(wp_proc_pcapdroid_maybe(b, n), "maybe: yes");
    TAP_EQ(wp_proc_pcapdroid_trailer(b, n, n, &v, &uid, &tr, &bad), 1, "a trailer");
    TAP_OK(tr == 33 && uid == 10123 && v.has_proc && !v.has_eproc && bad == 0,
           "pad 1 + 32, uid 10123, a process, nothing malformed");
    TAP_OK(v.proc.name.len == 15 && memcmp(v.proc.name.p, "com.example.app", 15) == 0 &&
               v.proc.pid == -1 && v.proc.source == WP_PSRC_TRAILER,
           "the app name, no pid, source trailer");
    n = droid_frame(b, 10001, "abcdefghijklmnopqrst", true);
    TAP_EQ(wp_proc_pcapdroid_trailer(b, n, n, &v, &uid, &tr, &bad), 1, "CRC big-endian");
    TAP_OK(v.proc.name.len == 20 && bad == 0, "a 20-byte name without NUL stops at 20");
    n = droid_frame(b, -1, "", false);
    TAP_EQ(wp_proc_pcapdroid_trailer(b, n, n, &v, &uid, &tr, &bad), 1, "UID -1");
    TAP_OK(uid == -1 && !v.has_proc && tr == 33 && bad == 0, "UID -1: no process, not malformed");

    /* damaged: named reasons, no process */
    n = droid_frame(b, 10123, "app", false);
    b[14 + 8] ^= 1;
    bad = 0;
    TAP_EQ(wp_proc_pcapdroid_trailer(b, n, n, &v, &uid, &tr, &bad), -1, "bad CRC");
    TAP_OK(bad == (1u << WP_PMAL_pcapdroid_trailer_bad_fcs) && !v.has_proc && tr == 33,
           "bad CRC: counted, trailer kept from the decoder, no process");
    n = droid_frame(b, 10123, "app", false);
    bad = 0;
    TAP_EQ(wp_proc_pcapdroid_trailer(b, n, n + 10, &v, &uid, &tr, &bad), 0, "cut record");
    TAP_OK(bad == (1u << WP_PMAL_pcapdroid_trailer_bad_layout) && tr == 0 && !v.has_proc,
           "cut record: bad layout");
    b[43] = 7;
    bad = 0;
    TAP_EQ(wp_proc_pcapdroid_trailer(b, n, n, &v, &uid, &tr, &bad), 0, "non-zero pad");
    TAP_EQ(bad, 1u << WP_PMAL_pcapdroid_trailer_bad_layout, "non-zero pad: bad layout");
    n = droid_frame(b, 10123, "app", false);
    b[17] = 31; /* IPv4 total length two more: past the pad */
    bad = 0;
    TAP_EQ(wp_proc_pcapdroid_trailer(b, n, n, &v, &uid, &tr, &bad), 0, "IP length two more");
    TAP_EQ(bad, 1u << WP_PMAL_pcapdroid_trailer_bad_layout, "IP length: bad layout");
    n = droid_frame(b, 10123, "app", false);
    b[12] = 0x86;
    b[13] = 0xdd;
    bad = 0;
    TAP_EQ(wp_proc_pcapdroid_trailer(b, n, n, &v, &uid, &tr, &bad), 0, "IPv4 as 0x86dd");
    TAP_EQ(bad, 1u << WP_PMAL_pcapdroid_trailer_bad_layout, "ethertype: bad layout");
    /* not a trailer: a MAC, the magic; no reason */
    n = droid_frame(b, 10123, "app", false);
    b[5] = 1;
    bad = 0;
    TAP_OK(!wp_proc_pcapdroid_maybe(b, n) &&
               wp_proc_pcapdroid_trailer(b, n, n, &v, &uid, &tr, &bad) == 0 && bad == 0,
           "a non-zero MAC: not one");
    n = droid_frame(b, 10123, "app", false);
    b[n - 32] = 2;
    TAP_OK(!wp_proc_pcapdroid_maybe(b, n), "another magic: not one");
    /* every prefix of a valid frame, as its own record: never read past it */
    n = droid_frame(b, 10123, "app", false);
    bool ok = true;
    for (size_t k = 0; k <= n; k++) {
        uint8_t *c = malloc(k ? k : 1);
        memcpy(c, b, k);
        bad = 0;
        int rc = wp_proc_pcapdroid_trailer(c, k, k, &v, &uid, &tr, &bad);
        if (k < n && (rc == 1 || v.has_proc))
            ok = false;
        free(c);
    }
    TAP_OK(ok, "no prefix is read as a trailer");
}

static enum wp_proc_unknown hook_reason;
static unsigned hook_calls;

static enum wp_proc_unknown hook_new_flow(void *ctx, const struct wp_flow *f, int64_t ts_ns)
{
    (void)ctx;
    (void)f;
    (void)ts_ns;
    hook_calls++;
    return hook_reason;
}

/* Why a flow has no process: the names (as the totals name them, written
 * out here by hand), the bits beside the other process facts, the hook's
 * reason kept by the engine, a later answer, and a process clearing it. */
static void test_unknown_reason(void)
{
    static const char *const want[WP_PU_COUNT] = {
        NULL,         "not_local",     "gone",       "no_permission",
        "queue_full", "lookup_failed", "unanswered", "not_named"};
    for (unsigned u = 0; u < WP_PU_COUNT; u++) {
        const char *n = wp_proc_unknown_name((enum wp_proc_unknown)u);
        TAP_OK((n == NULL && want[u] == NULL) ||
                   (n != NULL && want[u] != NULL && strcmp(n, want[u]) == 0),
               "reason %u is named %s", u, want[u] ? want[u] : "(none)");
    }
    TAP_OK(wp_proc_unknown_name(WP_PU_COUNT) == NULL, "out of range: no name");

    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    f.pbits = WP_FP_MIXED | WP_FP_LOCAL_KNOWN | WP_FP_LOCAL1;
    for (unsigned u = 0; u < WP_PU_COUNT; u++) {
        wp_flow_set_proc_unknown(&f, (enum wp_proc_unknown)u);
        TAP_OK(wp_flow_proc_unknown(&f) == (enum wp_proc_unknown)u &&
                   (f.pbits & 7) == (WP_FP_MIXED | WP_FP_LOCAL_KNOWN | WP_FP_LOCAL1),
               "reason %u stored beside the other facts", u);
    }
    struct wp_flow g;
    memset(&g, 0, sizeof(g));
    wp_flow_set_proc_unknown(&g, WP_PU_gone);
    wp_flow_set_proc_unknown(&f, WP_PU_NONE);
    wp_flow_proc_merge(&f, &g);
    TAP_EQ(wp_flow_proc_unknown(&f), WP_PU_gone, "merge: a reason fills an empty one");
    wp_flow_set_proc_unknown(&g, WP_PU_not_local);
    wp_flow_proc_merge(&f, &g);
    TAP_EQ(wp_flow_proc_unknown(&f), WP_PU_gone, "merge: the first reason stays");

    struct wp_engine_opts o;
    memset(&o, 0, sizeof(o));
    o.tunnels = true;
    o.on_new_flow = hook_new_flow;
    hook_reason = WP_PU_unanswered;
    hook_calls = 0;
    struct wp_engine *e = wp_engine_new(&o);
    uint8_t pkt[28] = {0x45, 0, 0,  28, 0, 0, 0,    0,    64, 17, 0, 0, 10, 0,
                       0,    1, 10, 0,  0, 2, 0x30, 0x39, 0,  53, 0, 8, 0,  0};
    struct wp_record r;
    memset(&r, 0, sizeof(r));
    r.data = pkt;
    r.caplen = r.wirelen = sizeof(pkt);
    r.linktype = 101;
    wp_engine_packet(e, &r);
    wp_engine_packet(e, &r);
    struct wp_flow_key k;
    memset(&k, 0, sizeof(k));
    uint8_t a0[4] = {10, 0, 0, 1}, a1[4] = {10, 0, 0, 2};
    memcpy(k.addr[0], a0, 4);
    memcpy(k.addr[1], a1, 4);
    k.port[0] = 12345;
    k.port[1] = 53;
    k.vlan = k.vlan_inner = WP_VLAN_NONE;
    k.proto = 17;
    k.family = 4;
    struct wp_flow *fl = wp_flow_find(wp_engine_flow_table(e), &k);
    TAP_OK(fl != NULL && hook_calls == 1, "the hook ran once for the new flow");
    TAP_EQ(fl ? wp_flow_proc_unknown(fl) : WP_PU_COUNT, WP_PU_unanswered,
           "the hook's reason is kept");
    TAP_EQ(wp_engine_set_flow_unknown(e, &k, WP_PU_gone), 0, "an answer finds the flow");
    TAP_EQ(wp_flow_proc_unknown(fl), WP_PU_gone, "the answer's reason replaces it");
    struct wp_proc_desc d = desc(4242, "dig");
    d.source = WP_PSRC_LIVE;
    TAP_EQ(wp_engine_set_flow_process(e, &k, &d), 0, "then a process");
    TAP_EQ(wp_flow_proc_unknown(fl), WP_PU_NONE, "a process clears the reason");
    (void)wp_engine_set_flow_unknown(e, &k, WP_PU_no_permission);
    TAP_EQ(wp_flow_proc_unknown(fl), WP_PU_NONE, "a flow with a process takes no reason");
    k.port[1] = 54;
    TAP_EQ((unsigned)(wp_engine_set_flow_unknown(e, &k, WP_PU_gone) + 1), 0, "unknown flow: -1");
    wp_engine_free(e);
}

int main(void)
{
    test_pktap();
    test_dpib();
    test_wireshark_pib();
    test_epb_options();
    test_pcapdroid();
    test_comments();
    test_table_and_votes();
    test_set_flow_process();
    test_unknown_reason();
    test_pcapdroid_trailer();
    return tap_done();
}
