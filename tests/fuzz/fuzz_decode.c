/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: fuzz target: the decoder and the engine on raw frames
 *
 * Input layout (tests/fuzz/README.md):
 *   byte 0   link type: index (modulo their number) into the supported
 *            link types of the list below
 *   byte 1   flags: bit 0 decapsulate tunnels; bit 1 the frames were cut
 *            (wire length = captured + 1000); bit 2 a flow table of 2 flows
 *            (eviction); bit 3 idle timeouts of 1 s with frames 0.7 s
 *            apart (expiry); bit 4 also read the frames as two "files"
 *            into two engines, merge them, and compare with one engine
 *   rest     one frame, or several separated by the 4 bytes A5 57 50 5A
 *            ("\xa5WPZ", in decode.dict)
 *
 * Each frame is copied into a malloc'd buffer of exactly its size, so that
 * AddressSanitizer catches a read one byte past the capture. The decoded
 * view is checked (every pointer inside the frame, every undecodable frame
 * with a named reason), then the frame goes through a wp_engine; at the end
 * (and once midway) a snapshot is checked, and at the end reported as text,
 * JSON and CSV to /dev/null (fuzz_common.c; fuzz_pcap writes every report
 * variant). The engine lives for one input only. At most 64 frames. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/analyze.h"
#include "wp/decode.h"

#include "fuzz_common.h"

/* Byte 0 indexes this list, restricted to the link types the decoder
 * supports (wp_decode_linktype_supported): the first eleven are the ones
 * named by the issue and keep their index; later additions are appended. */
static const uint32_t candidates[] = {
    WP_LT_EN10MB, WP_LT_NULL,      WP_LT_LOOP,      WP_LT_RAW,        WP_LT_DLT_RAW12,
    WP_LT_IPV4,   WP_LT_IPV6,      WP_LT_LINUX_SLL, WP_LT_LINUX_SLL2, WP_LT_PKTAP,
    WP_LT_USER2,  239 /* NFLOG */, WP_LT_DLT_RAW14,
};
static uint32_t linktypes[sizeof(candidates) / sizeof(candidates[0])];
static size_t n_linktypes;

static void init_linktypes(void)
{
    if (n_linktypes != 0)
        return;
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (wp_decode_linktype_supported(candidates[i]))
            linktypes[n_linktypes++] = candidates[i];
    if (n_linktypes == 0)
        abort();
}

enum {
    F_TUNNELS = 0x01,
    F_SNAPPED = 0x02,
    F_EVICT = 0x04,
    F_TIMEOUT = 0x08,
    F_MERGE = 0x10,
};

static const uint8_t sep[4] = {0xa5, 0x57, 0x50, 0x5a};

#define MAX_FRAMES 64

static bool inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
    return p != NULL && (uintptr_t)p >= (uintptr_t)buf && n <= len &&
           (uintptr_t)p - (uintptr_t)buf <= len - n;
}

/* What the decoder promises about its view (include/wp/decode.h). */
static void check_packet(const struct wp_packet *p, const uint8_t *buf, size_t len,
                         uint32_t wirelen)
{
    FUZZ_ASSERT(p->caplen == len && p->wirelen == wirelen, "lengths %u/%u, want %zu/%u", p->caplen,
                p->wirelen, len, wirelen);
    FUZZ_ASSERT(p->status <= WP_DEC_MALFORMED, "status %d", (int)p->status);
    if (p->status == WP_DEC_TRUNCATED)
        FUZZ_ASSERT(p->reason < WP_TRUNC_COUNT, "truncation reason %u", p->reason);
    if (p->status == WP_DEC_MALFORMED)
        FUZZ_ASSERT(p->reason < WP_MAL_COUNT, "malformation reason %u", p->reason);
    FUZZ_ASSERT(p->family == 0 || p->family == 4 || p->family == 6, "family %u", p->family);
    /* An undecodable frame is always counted under a named reason. */
    FUZZ_EXPECT("nonip-status", p->family != 0 || p->status != WP_DEC_OK,
                "no IP header but status OK (ethertype 0x%04x): counted as undecodable "
                "without a reason",
                p->ethertype);
    if (p->family != 0) {
        size_t n = p->family == 4 ? 4 : 16;
        FUZZ_ASSERT(inside(p->src, n, buf, len) && inside(p->dst, n, buf, len),
                    "addresses outside the frame");
    }
    FUZZ_ASSERT(p->frag <= WP_FRAG_LATER, "frag %u", p->frag);
    FUZZ_ASSERT(!p->has_ports || p->has_l4, "ports without a transport header");
    FUZZ_ASSERT(!p->has_l4 || p->family != 0, "transport header without IP");
    if (p->payload != NULL)
        FUZZ_ASSERT(inside(p->payload, p->payload_len, buf, len),
                    "payload of %u bytes outside the frame", p->payload_len);
    else
        FUZZ_ASSERT(p->payload_len == 0, "payload length %u without payload", p->payload_len);
    FUZZ_ASSERT(p->vlan_depth <= WP_MAX_VLAN_DEPTH, "vlan depth %u", p->vlan_depth);
    FUZZ_ASSERT(p->tunnel_kind < WP_TUN_COUNT && p->tunnel_depth <= WP_MAX_TUNNEL_DEPTH,
                "tunnel kind %u depth %u", p->tunnel_kind, p->tunnel_depth);
    FUZZ_ASSERT((p->tunnel_kind == WP_TUN_NONE) == (p->tunnel_depth == 0),
                "tunnel kind %u with depth %u", p->tunnel_kind, p->tunnel_depth);
    if (p->outer_family != 0) {
        size_t n = p->outer_family == 4 ? 4 : 16;
        FUZZ_ASSERT(p->outer_family == 4 || p->outer_family == 6, "outer family %u",
                    p->outer_family);
        FUZZ_ASSERT(inside(p->outer_src, n, buf, len) && inside(p->outer_dst, n, buf, len),
                    "outer addresses outside the frame");
    }
}

struct frame {
    uint8_t *buf;
    size_t len;
};

static void feed(struct wp_engine *e, const struct frame *fr, uint32_t lt, uint32_t wirelen_add,
                 int64_t ts)
{
    struct wp_record rec;
    memset(&rec, 0, sizeof(rec));
    rec.data = fr->buf;
    rec.caplen = (uint32_t)fr->len;
    rec.wirelen = (uint32_t)fr->len + wirelen_add;
    rec.ts_ns = ts;
    rec.has_ts = true;
    rec.linktype = lt;
    rec.snaplen = 65535;
    wp_engine_packet(e, &rec);
}

/* Compare two aggregates row by row (the merged run against the sequential
 * one, docs/design.md "Threads"). */
static void compare_engines(struct wp_engine *seq, struct wp_engine *par)
{
    const struct wp_totals *a = wp_engine_totals(seq), *b = wp_engine_totals(par);
    FUZZ_EXPECT("merge",
                a->packets == b->packets && a->bytes == b->bytes &&
                    a->ip_packets == b->ip_packets && a->other_packets == b->other_packets &&
                    a->undecodable_packets == b->undecodable_packets &&
                    a->truncated == b->truncated && a->tunneled == b->tunneled &&
                    a->flows == b->flows,
                "merged totals differ from sequential: packets %llu/%llu ip %llu/%llu flows "
                "%llu/%llu",
                (unsigned long long)a->packets, (unsigned long long)b->packets,
                (unsigned long long)a->ip_packets, (unsigned long long)b->ip_packets,
                (unsigned long long)a->flows, (unsigned long long)b->flows);
    for (int i = 0; i < WP_MAL_COUNT; i++)
        FUZZ_EXPECT("merge", a->malformed[i] == b->malformed[i], "merged malformed.%s differs",
                    wp_malformed_name[i]);
    struct wp_agg *x = wp_engine_snapshot(seq), *y = wp_engine_snapshot(par);
    FUZZ_ASSERT(x != NULL && y != NULL, "snapshot failed");
    size_t nx, ny;
    struct wp_port_row **rx = wp_agg_ports(x, &nx);
    struct wp_port_row **ry = wp_agg_ports(y, &ny);
    FUZZ_EXPECT("merge", nx == ny, "sequential run has %zu port rows, merged run %zu", nx, ny);
    for (size_t i = 0; i < nx; i++) {
        const struct wp_port_row *p = rx[i];
        const struct wp_port_row *q = wp_agg_port(y, &p->key);
        FUZZ_EXPECT("merge", q != NULL, "port row %u/%u missing after merge", p->key.proto,
                    p->key.port);
        FUZZ_EXPECT("merge",
                    p->to_service.packets == q->to_service.packets &&
                        p->to_service.bytes == q->to_service.bytes &&
                        p->from_service.packets == q->from_service.packets &&
                        p->from_service.bytes == q->from_service.bytes &&
                        p->unattributed.packets == q->unattributed.packets &&
                        p->flows == q->flows && p->apple_flows == q->apple_flows &&
                        p->server_apple_flows == q->server_apple_flows &&
                        p->clients == q->clients && p->servers == q->servers,
                    "port row %u/%u differs after merge: to %llu/%llu from %llu/%llu "
                    "unattributed %llu/%llu flows %llu/%llu clients %llu/%llu",
                    p->key.proto, p->key.port, (unsigned long long)p->to_service.packets,
                    (unsigned long long)q->to_service.packets,
                    (unsigned long long)p->from_service.packets,
                    (unsigned long long)q->from_service.packets,
                    (unsigned long long)p->unattributed.packets,
                    (unsigned long long)q->unattributed.packets, (unsigned long long)p->flows,
                    (unsigned long long)q->flows, (unsigned long long)p->clients,
                    (unsigned long long)q->clients);
    }
    free(rx);
    free(ry);
    wp_agg_free(x);
    wp_agg_free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fuzz_init();
    init_linktypes();
    uint32_t lt = linktypes[data[0] % n_linktypes];
    uint8_t flags = data[1];
    bool tunnels = (flags & F_TUNNELS) != 0;
    uint32_t wadd = (flags & F_SNAPPED) ? 1000u : 0u;
    data += 2;
    size -= 2;

    /* Split into frames, each in its own exact-size buffer. */
    struct frame frames[MAX_FRAMES];
    size_t nf = 0, start = 0;
    for (;;) {
        size_t end = size;
        if (nf < MAX_FRAMES - 1)
            for (size_t i = start; i + sizeof(sep) <= size; i++)
                if (memcmp(data + i, sep, sizeof(sep)) == 0) {
                    end = i;
                    break;
                }
        size_t len = end - start;
        uint8_t *buf = malloc(len);
        if (buf == NULL && len != 0)
            abort();
        if (len != 0)
            memcpy(buf, data + start, len);
        frames[nf].buf = buf;
        frames[nf].len = len;
        nf++;
        if (end == size)
            break;
        start = end + sizeof(sep);
    }

    /* The decoder alone, both settings of the tunnel flag. */
    bool self_icmp = false; /* ICMP from an address to itself: a -j exception */
    for (size_t i = 0; i < nf; i++) {
        struct wp_packet p;
        uint32_t wl = (uint32_t)frames[i].len + wadd;
        wp_decode(lt, frames[i].buf, (uint32_t)frames[i].len, wl, tunnels, &p);
        check_packet(&p, frames[i].buf, frames[i].len, wl);
        if (p.family != 0 && (p.proto == WP_IPPROTO_ICMP || p.proto == WP_IPPROTO_ICMPV6) &&
            memcmp(p.src, p.dst, p.family == 4 ? 4u : 16u) == 0)
            self_icmp = true;
        wp_decode(lt, frames[i].buf, (uint32_t)frames[i].len, wl, !tunnels, &p);
        check_packet(&p, frames[i].buf, frames[i].len, wl);
    }

    /* The engine. */
    struct wp_engine_opts o;
    int64_t step = (flags & F_TIMEOUT) ? 700000000LL : 1000000LL;
    fuzz_engine_opts(&o, tunnels, (flags & F_EVICT) ? 2 : 0,
                     (flags & F_TIMEOUT) ? 1000000000LL : 0);
    struct wp_engine *e = wp_engine_new(&o);
    if (e == NULL)
        abort();
    const int64_t t0 = 1700000000LL * 1000000000LL;
    for (size_t i = 0; i < nf; i++) {
        feed(e, &frames[i], lt, wadd, t0 + (int64_t)i * step);
        if (i == 3 && nf > 6)
            fuzz_report(e, true, NULL, 0, FUZZ_REPORT_NONE); /* flows still live */
    }
    fuzz_report(e, true, NULL, 0, FUZZ_REPORT_SOME);

    /* Two engines merged, as -j does with two files; the result must equal
     * the sequential run unless fragments, eviction or a host's ICMP with
     * itself make them differ by design (docs/design.md). */
    if ((flags & F_MERGE) && nf >= 2) {
        struct wp_engine *a = wp_engine_new(&o), *b = wp_engine_new(&o);
        if (a == NULL || b == NULL)
            abort();
        for (size_t i = 0; i < nf; i++)
            feed(i < nf / 2 ? a : b, &frames[i], lt, wadd, t0 + (int64_t)i * step);
        if (wp_engine_merge(a, b) != 0)
            abort();
        fuzz_report(a, true, NULL, 0, FUZZ_REPORT_NONE);
        const struct wp_totals *t = wp_engine_totals(e);
        if (t->fragments == 0 && !self_icmp && !(flags & (F_EVICT | F_TIMEOUT)))
            compare_engines(e, a);
        wp_engine_free(a);
        wp_engine_free(b);
    }
    wp_engine_free(e);
    fuzz_input_end();
    for (size_t i = 0; i < nf; i++)
        free(frames[i].buf);
    return 0;
}
