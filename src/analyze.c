/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the analysis engine: decode, flows, counters for each frame
 *
 * The path of a frame, one named step each (wp_engine_packet() reads as
 * the list, in the order of docs/design.md, "The path of a packet"):
 * count_frame() counts it in the totals and runs idle expiry on its clock;
 * wp_decode() gives a view of its headers and count_status() counts why a
 * header was cut or invalid; frames without an IP header go to
 * account_non_ip(); later fragments to account_later_fragment(), which
 * finds their flow through the fragment table; packets of a port transport
 * whose ports are unknown to account_unattributed(); everything else gets
 * its flow from flow_for_packet() (a one-entry cache, the index, and for a
 * new flow make_room(), the insert and new_flow_init()) and update_flow()
 * adds the frame to it. Port, host and tunnel aggregates are built from
 * flows when they are evicted or when a report is made; an aggregate
 * update lost for lack of memory is counted in agg_dropped. */

#include <stdlib.h>
#include <string.h>

#include "wp/analyze.h"
#include "wp/decode.h"
#include "wp/proctab.h"
#include "wp/outcome.h"
#include "wp/timeline.h"

struct wp_engine {
    struct wp_engine_opts o;
    struct wp_flow_table *flows;
    struct wp_agg *agg;          /* evicted flows, unattributed packets, tunnels */
    struct wp_timeline *tl;      /* port rows' packets by time (timeline.h) */
    struct wp_totals t;
    struct wp_flow *last;        /* one-entry lookup cache */
    int64_t next_expire_ns;
    bool any_timeout;
    uint32_t linktypes[WP_MAX_LINKTYPES];
    size_t n_linktypes;
    bool finalized;              /* live flows already folded into agg */
    struct wp_names *names;      /* DNS answers and reassembly; NULL without a name table */
    struct wp_procstate *ps;     /* processes named by the records (proctab.h) */
    int64_t clock_ns;            /* the latest time wp_engine_expire() was given */
    uint64_t flows_unlisted;     /* --merge: flows a report counted but did not list */
};

/* The flow's process (the row it will have in the processes table) may
 * have changed: its process series in the timeline follows. */
static void proc_check(struct wp_engine *e, struct wp_flow *f)
{
    const struct wp_proctab *t = wp_procstate_table(e->ps);
    uint16_t carrier;
    const struct wp_proc_entry *pe = wp_proctab_get(t, wp_flow_app(t, f, &carrier));
    bool timed = (f->bits & WP_FB_TIME) != 0; /* else none of its packets is in a bucket */
    wp_timeline_proc_moved(e->tl, f, pe != NULL ? pe->group : 0, f->first_ns, f->last_ns,
                           timed ? f->pkts[0] + f->pkts[1] : 0,
                           timed ? f->bytes[0] + f->bytes[1] : 0);
}

/* The Apple service of a flow (wp_apple_classify_flow); when it changes,
 * what the flow has is moved to its new service's timeline. */
static void apple_changed(struct wp_engine *e, const struct wp_flow *f, uint8_t old)
{
    if (f->bits & WP_FB_TIME)
        wp_timeline_apple_moved(e->tl, f, old, f->first_ns, f->last_ns, f->pkts[0] + f->pkts[1],
                                f->bytes[0] + f->bytes[1]);
}

static inline void apple_classify(struct wp_engine *e, struct wp_flow *f)
{
    if (e->o.applesvc == NULL)
        return;
    uint8_t old = f->apple_svc;
    wp_apple_classify_flow(e->o.applesvc, e->o.prefixes, e->o.nametab, f);
    if (WP_UNLIKELY(f->apple_svc != old))
        apple_changed(e, f, old);
}

struct wp_engine *wp_engine_new(const struct wp_engine_opts *opts)
{
    struct wp_engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->o = *opts;
    e->flows = wp_flow_table_new(opts->max_flows);
    e->agg = wp_agg_new();
    e->tl = wp_timeline_new(opts->bucket_ns);
    e->ps = wp_procstate_new(opts->proctab);
    if (e->ps != NULL)
        wp_procstate_set_filter(e->ps, opts->processes, opts->n_processes);
    if (opts->nametab != NULL)
        e->names = wp_names_new(opts->nametab);
    if (e->flows == NULL || e->agg == NULL || e->tl == NULL || e->ps == NULL ||
        (opts->nametab != NULL && e->names == NULL)) {
        wp_engine_free(e);
        return NULL;
    }
    for (int i = 0; i < WP_FC_COUNT; i++)
        e->any_timeout = e->any_timeout || opts->timeout_ns[i] > 0;
    return e;
}

void wp_engine_free(struct wp_engine *e)
{
    if (e == NULL)
        return;
    wp_flow_table_free(e->flows);
    wp_agg_free(e->agg);
    wp_timeline_free(e->tl);
    wp_names_free(e->names);
    wp_procstate_free(e->ps);
    free(e);
}

const struct wp_totals *wp_engine_totals(const struct wp_engine *e)
{
    return &e->t;
}

struct wp_totals *wp_engine_totals_mut(struct wp_engine *e)
{
    return &e->t;
}

size_t wp_engine_linktypes(const struct wp_engine *e, const uint32_t **out)
{
    *out = e->linktypes;
    return e->n_linktypes;
}

static void note_linktype(struct wp_engine *e, uint32_t lt)
{
    for (size_t i = 0; i < e->n_linktypes; i++)
        if (e->linktypes[i] == lt)
            return;
    if (e->n_linktypes < WP_MAX_LINKTYPES)
        e->linktypes[e->n_linktypes++] = lt;
}

/* Count an aggregate update (wp_agg_add_*: rc -1) that memory did not
 * allow, in whole or in part. */
static void agg_result(struct wp_engine *e, int rc)
{
    if (WP_UNLIKELY(rc != 0))
        e->t.agg_dropped++;
}

/* Fold a flow into the aggregate and forget it. */
static void evict(struct wp_engine *e, struct wp_flow *f, enum wp_flow_end why)
{
    if (e->names != NULL)
        wp_names_flow_gone(e->names, f);
    if (e->last == f)
        e->last = NULL;
    apple_classify(e, f); /* final: whether both ends answered is known now */
    wp_outcome_settle(f, 0, 0, true);
    wp_procstate_flow_gone(e->ps, f);
    if (e->o.on_flow_end != NULL)
        e->o.on_flow_end(e->o.on_flow_end_ctx, f, why);
    if (wp_procstate_selected(e->ps, f))
        agg_result(e, wp_agg_add_flow(e->agg, f));
    wp_flow_remove(e->flows, f);
    e->t.flows_evicted++;
}

/* With the table at its limit (--max-flows), evict the least recently
 * seen flow of any class so that one more fits. Inline: it runs for every
 * new flow, and usually finds room. */
static inline void make_room(struct wp_engine *e)
{
    size_t lim = wp_flow_limit(e->flows);
    if (lim == 0 || wp_flow_count(e->flows) < lim)
        return;
    struct wp_flow *old = wp_flow_oldest(e->flows, WP_FC_COUNT);
    if (old != NULL) {
        evict(e, old, WP_FLOW_END_NO_ROOM);
        wp_flow_prefetch_oldest(e->flows);
    }
}

void wp_engine_expire(struct wp_engine *e, int64_t now_ns)
{
    if (now_ns > e->clock_ns)
        e->clock_ns = now_ns; /* live: the wall clock, even with no packet */
    for (int c = 0; c < WP_FC_COUNT; c++) {
        int64_t to = e->o.timeout_ns[c];
        if (to <= 0)
            continue;
        struct wp_flow *f;
        while ((f = wp_flow_oldest(e->flows, (enum wp_flow_class)c)) != NULL &&
               now_ns - f->last_ns > to)
            evict(e, f, WP_FLOW_END_IDLE);
    }
}

static bool apple_addr(const struct wp_engine *e, uint8_t family, const uint8_t *a)
{
    return e->o.prefixes != NULL && wp_prefixes_match(e->o.prefixes, family, a) != NULL;
}

static bool icmp_request(uint8_t proto, uint8_t type)
{
    if (proto == WP_IPPROTO_ICMP)
        return type == WP_ICMP_ECHO || type == WP_ICMP_TSTAMP || type == WP_ICMP_IREQ ||
               type == WP_ICMP_MASKREQ;
    return type == WP_ICMP6_ECHO_REQUEST || type == WP_ICMP6_ROUTER_SOLICIT ||
           type == WP_ICMP6_NEIGHBOR_SOLICIT;
}

static bool icmp_reply(uint8_t proto, uint8_t type)
{
    if (proto == WP_IPPROTO_ICMP)
        return type == WP_ICMP_ECHOREPLY || type == WP_ICMP_TSTAMPREPLY ||
               type == WP_ICMP_IREQREPLY || type == WP_ICMP_MASKREPLY;
    return type == WP_ICMP6_ECHO_REPLY || type == WP_ICMP6_ROUTER_ADVERT ||
           type == WP_ICMP6_NEIGHBOR_ADVERT;
}

/* Decide the server side of a new flow from its first packet, sent by
 * endpoint `sender`. */
static void decide_new(struct wp_engine *e, struct wp_flow *f, const struct wp_packet *p,
                       unsigned sender)
{
    unsigned receiver = 1u - sender;
    if (p->proto == WP_IPPROTO_TCP && p->has_l4 && (p->tcp_flags & WP_TCP_SYN)) {
        f->server = (uint8_t)((p->tcp_flags & WP_TCP_ACK) ? sender : receiver);
        f->how = WP_HOW_SYN;
        f->bits |= WP_FB_SYN;
        return;
    }
    if ((p->proto == WP_IPPROTO_ICMP || p->proto == WP_IPPROTO_ICMPV6) && p->has_l4) {
        if (icmp_request(p->proto, p->icmp_type)) {
            f->server = (uint8_t)receiver;
            f->how = WP_HOW_ICMP;
            return;
        }
        if (icmp_reply(p->proto, p->icmp_type)) {
            f->server = (uint8_t)sender;
            f->how = WP_HOW_ICMP;
            return;
        }
    }
    int said = p->has_ports ? wp_service_side_payload(p->proto, p->sport, p->dport, p->payload,
                                                      p->payload_len)
                            : -1;
    if (said >= 0) {
        f->server = (uint8_t)(said ? sender : receiver);
        f->how = WP_HOW_PROTOCOL;
        return;
    }
    if (p->has_ports && e->o.services != NULL) {
        enum wp_how how;
        int side = wp_service_side(e->o.services, p->proto, f->key.port, &how);
        if (side >= 0) {
            f->server = (uint8_t)side;
            f->how = (uint8_t)how;
            return;
        }
    } else if (p->has_ports && f->key.port[0] != f->key.port[1]) {
        f->server = f->key.port[0] < f->key.port[1] ? 0 : 1;
        f->how = WP_HOW_LOWER;
        return;
    }
    f->server = (uint8_t)receiver;
    f->how = WP_HOW_FIRST;
}

static enum wp_flow_class class_of(const struct wp_flow *f)
{
    if (f->key.proto != WP_IPPROTO_TCP)
        return WP_FC_OTHER;
    return (f->tcp_flags & (WP_TCP_FIN | WP_TCP_RST)) ? WP_FC_TCP_CLOSED : WP_FC_TCP;
}

/* memcmp() order of two addresses of `n` (4 or 16) bytes, without a call. */
static inline int addr_cmp(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n == 4) {
        uint32_t x = wp_be32(a), y = wp_be32(b);
        return (x > y) - (x < y);
    }
    uint64_t x = ((uint64_t)wp_be32(a) << 32) | wp_be32(a + 4);
    uint64_t y = ((uint64_t)wp_be32(b) << 32) | wp_be32(b + 4);
    if (x == y) {
        x = ((uint64_t)wp_be32(a + 8) << 32) | wp_be32(a + 12);
        y = ((uint64_t)wp_be32(b + 8) << 32) | wp_be32(b + 12);
    }
    return (x > y) - (x < y);
}

/* Build the canonical key of a packet; *sender is the endpoint that sent it. */
static void make_key(const struct wp_packet *p, struct wp_flow_key *k, unsigned *sender)
{
    memset(k, 0, sizeof(*k));
    size_t n = p->family == 4 ? 4 : 16;
    uint16_t sp = p->has_ports ? p->sport : 0, dp = p->has_ports ? p->dport : 0;
    int c = addr_cmp(p->src, p->dst, n);
    if (c == 0)
        c = (int)sp - (int)dp;
    const uint8_t *lo = c <= 0 ? p->src : p->dst, *hi = c <= 0 ? p->dst : p->src;
    if (n == 4) {
        memcpy(k->addr[0], lo, 4);
        memcpy(k->addr[1], hi, 4);
    } else {
        memcpy(k->addr[0], lo, 16);
        memcpy(k->addr[1], hi, 16);
    }
    if (c <= 0) {
        k->port[0] = sp;
        k->port[1] = dp;
        *sender = 0;
    } else {
        k->port[0] = dp;
        k->port[1] = sp;
        *sender = 1;
    }
    k->vlan = p->vlan;
    k->vlan_inner = p->vlan_inner;
    k->proto = p->proto;
    k->family = p->family;
}

static void account(struct wp_engine *e, struct wp_flow *f, unsigned sender,
                    const struct wp_packet *p, const struct wp_record *rec)
{
    f->pkts[sender]++;
    f->bytes[sender] += p->wirelen;
    f->ip_bytes[sender] += p->ip_len;
    if (WP_UNLIKELY(!rec->has_ts))
        wp_timeline_untimed(e->tl, p->wirelen);
    if (rec->has_ts) {
        wp_timeline_add(e->tl, f, rec->ts_ns, p->wirelen);
        if (!(f->bits & WP_FB_TIME)) {
            f->first_ns = f->last_ns = rec->ts_ns;
            f->bits |= WP_FB_TIME;
        } else {
            if (rec->ts_ns < f->first_ns)
                f->first_ns = rec->ts_ns;
            if (rec->ts_ns > f->last_ns)
                f->last_ns = rec->ts_ns;
        }
    }
}

static void count_tunnel(struct wp_engine *e, const struct wp_packet *p)
{
    struct wp_tunnel_row t;
    memset(&t, 0, sizeof(t));
    t.kind = p->tunnel_kind;
    t.family = p->outer_family;
    t.proto = p->outer_proto;
    if (p->outer_family != 0) {
        size_t n = p->outer_family == 4 ? 4 : 16;
        int c = memcmp(p->outer_src, p->outer_dst, n);
        if (c == 0)
            c = (int)p->outer_sport - (int)p->outer_dport;
        const uint8_t *a0 = c <= 0 ? p->outer_src : p->outer_dst;
        const uint8_t *a1 = c <= 0 ? p->outer_dst : p->outer_src;
        memcpy(t.addr[0], a0, n);
        memcpy(t.addr[1], a1, n);
        t.port[0] = c <= 0 ? p->outer_sport : p->outer_dport;
        t.port[1] = c <= 0 ? p->outer_dport : p->outer_sport;
    }
    e->t.tunneled++;
    agg_result(e, wp_agg_add_tunnel(e->agg, &t, p->wirelen));
}

/* Step 1: count the frame in the totals (packets, bytes = wire length,
 * first and last timestamp, link types, snapped), and once per second of
 * capture time evict the flows idle past their timeout. */
static void count_frame(struct wp_engine *e, const struct wp_record *rec)
{
    struct wp_totals *t = &e->t;
    t->packets++;
    t->bytes += rec->wirelen;
    if (rec->has_ts) {
        if (!t->have_ts) {
            t->first_ns = t->last_ns = rec->ts_ns;
            t->have_ts = true;
            wp_timeline_start(e->tl, rec->ts_ns); /* bucket 0 starts at the first frame */
        } else {
            if (rec->ts_ns < t->first_ns)
                t->first_ns = rec->ts_ns;
            if (rec->ts_ns > t->last_ns)
                t->last_ns = rec->ts_ns;
        }
        if (e->any_timeout && rec->ts_ns >= e->next_expire_ns) {
            wp_engine_expire(e, rec->ts_ns);
            e->next_expire_ns = rec->ts_ns + WP_NS_PER_S;
        }
    }
    if (e->n_linktypes == 0 || e->linktypes[e->n_linktypes - 1] != rec->linktype)
        note_linktype(e, rec->linktype);
    if (rec->caplen < rec->wirelen)
        t->snapped++;
    if (WP_UNLIKELY(rec->proc_bad != 0))
        wp_procstate_bad(e->ps, rec->proc_bad);
}

/* Step 2, after wp_decode(): the named reason of a truncated or malformed
 * frame (counters.h); a truncated frame whose ports were read is also
 * "captured short" and goes on to its flow. */
static void count_status(struct wp_totals *t, const struct wp_packet *p)
{
    if (p->status == WP_DEC_TRUNCATED) {
        t->truncated++;
        t->truncated_at[p->reason]++;
        if (p->has_ports) /* cut after its flow's fields: counted under its flow */
            t->captured_short[p->reason]++;
    } else if (p->status == WP_DEC_MALFORMED) {
        t->malformed[p->reason]++;
    }
}

/* Step 3: a frame without an IP header: "other" (not IP, or a link type
 * not decoded) or "undecodable" (cut or invalid before IP). */
static void account_non_ip(struct wp_totals *t, const struct wp_packet *p,
                           const struct wp_record *rec)
{
    if (p->status == WP_DEC_NON_IP || p->status == WP_DEC_UNSUPPORTED) {
        t->other_packets++;
        t->other_bytes += rec->wirelen;
        if (p->status == WP_DEC_UNSUPPORTED) {
            t->unsupported_packets++;
            t->unsupported_bytes += rec->wirelen;
        }
    } else {
        t->undecodable_packets++;
        t->undecodable_bytes += rec->wirelen;
    }
}

/* Step 4: an IP frame: the IP totals, and its tunnel row when it was
 * decapsulated. */
static void count_ip(struct wp_engine *e, const struct wp_packet *p, const struct wp_record *rec)
{
    e->t.ip_packets++;
    e->t.ip_bytes += rec->wirelen;
    if (p->tunnel_kind != WP_TUN_NONE)
        count_tunnel(e, p);
}

/* A frame with no flow, counted under its transport's port-less row. */
static void account_unattributed(struct wp_engine *e, const struct wp_packet *p,
                                 const struct wp_record *rec)
{
    agg_result(e, wp_agg_add_unattributed(e->agg, p->proto, rec->wirelen));
    if (rec->has_ts) {
        struct wp_port_key k = {p->proto, 0, 0};
        wp_timeline_add_key(e->tl, &k, rec->ts_ns, rec->wirelen);
    } else {
        wp_timeline_untimed(e->tl, rec->wirelen);
    }
}

/* Step 5: a later IP fragment (no ports of its own) goes to the flow of
 * its datagram's first fragment, found through the fragment table, or is
 * counted as an unattributed fragment. */
static void account_later_fragment(struct wp_engine *e, const struct wp_packet *p,
                                   const struct wp_record *rec)
{
    e->t.fragments++;
    const struct wp_flow_key *fk =
        wp_frag_lookup(e->flows, p->family, p->proto, p->src, p->dst, p->frag_id, rec->ts_ns);
    struct wp_flow *f = fk != NULL ? wp_flow_find(e->flows, fk) : NULL;
    if (f == NULL) {
        e->t.fragments_unattributed++;
        account_unattributed(e, p, rec);
        return;
    }
    size_t n = p->family == 4 ? 4 : 16;
    unsigned sender =
        memcmp(f->key.addr[0], p->src, n) == 0 &&
                !(memcmp(f->key.addr[1], p->src, n) == 0 && memcmp(f->key.addr[0], p->dst, n) != 0)
            ? 0
            : 1;
    account(e, f, sender, p, rec);
    if (WP_UNLIKELY(rec->proc != NULL || wp_proc_linktype(rec->linktype))) {
        wp_procstate_packet(e->ps, f, sender, rec);
        proc_check(e, f);
    }
    wp_flow_touch(e->flows, f, class_of(f));
}

/* Step 6: a packet of a port transport whose header was cut or invalid. */
static bool ports_unknown(const struct wp_packet *p)
{
    return wp_proto_has_ports(p->proto) && !p->has_ports;
}

/* A new flow's facts from its first packet: Apple flags of its addresses,
 * its server side, a name already answered by DNS, its Apple service. */
static void new_flow_init(struct wp_engine *e, struct wp_flow *f, const struct wp_packet *p,
                          unsigned sender)
{
    if (apple_addr(e, p->family, f->key.addr[0]))
        f->bits |= WP_FB_APPLE0;
    if (apple_addr(e, p->family, f->key.addr[1]))
        f->bits |= WP_FB_APPLE1;
    decide_new(e, f, p, sender);
    if (e->names != NULL)
        wp_names_from_dns(e->names, f);
    apple_classify(e, f);
}

/* Step 7: the packet's flow, and in *sender the endpoint that sent it:
 * the one-entry cache, else the index (the key hashed once for find and
 * insert), else a new flow (room made at the limit). NULL when memory
 * runs out: the flow is counted in flows_dropped and the packet as
 * unattributed. */
static struct wp_flow *flow_for_packet(struct wp_engine *e, const struct wp_packet *p,
                                       const struct wp_record *rec, unsigned *sender)
{
    struct wp_flow_key key;
    make_key(p, &key, sender);
    struct wp_flow *f = e->last;
    if (f != NULL && wp_flow_key_eq(&f->key, &key))
        return f;
    uint32_t h = wp_flow_hash(&key);
    f = wp_flow_find_h(e->flows, &key, h);
    if (f == NULL) {
        make_room(e);
        f = wp_flow_insert_h(e->flows, &key, h,
                             p->proto == WP_IPPROTO_TCP ? WP_FC_TCP : WP_FC_OTHER);
        if (f == NULL) {
            e->t.flows_dropped++;
            account_unattributed(e, p, rec);
            return NULL;
        }
        e->t.flows++;
        new_flow_init(e, f, p, *sender);
        if (e->o.on_new_flow != NULL)
            wp_flow_set_proc_unknown(f, e->o.on_new_flow(e->o.on_new_flow_ctx, f, rec->ts_ns));
    }
    e->last = f;
    return f;
}

/* Both endpoints are the same address and port (a ping to oneself): the
 * ICMP message type says which way the packet went. */
static unsigned self_ping_sender(const struct wp_flow *f, const struct wp_packet *p,
                                 unsigned sender)
{
    if (f->key.port[0] == f->key.port[1] &&
        memcmp(f->key.addr[0], f->key.addr[1], sizeof(f->key.addr[0])) == 0 &&
        (p->proto == WP_IPPROTO_ICMP || p->proto == WP_IPPROTO_ICMPV6) && p->has_l4) {
        if (icmp_request(p->proto, p->icmp_type))
            return 1u - f->server;
        if (icmp_reply(p->proto, p->icmp_type))
            return f->server;
    }
    return sender;
}

/* Step 8: add the packet to its flow: the direction of a ping to oneself,
 * a SYN seen late deciding the server side, TCP flags (per direction) or
 * the first ICMP type and code of each side, the active timeout hook (before
 * the packet is counted), per-direction counters, names from the payload,
 * and the flow's LRU class. */
static void update_flow(struct wp_engine *e, struct wp_flow *f, const struct wp_packet *p,
                        const struct wp_record *rec, unsigned sender)
{
    sender = self_ping_sender(f, p, sender);
    if (p->proto == WP_IPPROTO_TCP && (p->tcp_flags & WP_TCP_SYN) && !(f->bits & WP_FB_SYN)) {
        uint8_t was = f->server;
        f->server = (uint8_t)((p->tcp_flags & WP_TCP_ACK) ? sender : 1u - sender);
        f->how = WP_HOW_SYN;
        f->bits |= WP_FB_SYN;
        if (f->server != was)
            wp_timeline_flow_moved(e->tl, f, f->pkts[0] + f->pkts[1], f->bytes[0] + f->bytes[1]);
        apple_classify(e, f);
    }
    f->tcp_flags |= p->tcp_flags;
    if (p->proto == WP_IPPROTO_TCP) {
        f->l4.tcp_flags[sender] |= p->tcp_flags;
    } else if ((p->proto == WP_IPPROTO_ICMP || p->proto == WP_IPPROTO_ICMPV6) && p->has_l4 &&
               f->pkts[sender] == 0) {
        f->l4.icmp[sender][0] = p->icmp_type;
        f->l4.icmp[sender][1] = p->icmp_code;
    }
    if (WP_UNLIKELY(e->o.active_ns > 0) && e->o.on_flow_active != NULL && rec->has_ts &&
        (f->bits & WP_FB_TIME) && rec->ts_ns > f->last_ns &&
        (rec->ts_ns - f->first_ns) / e->o.active_ns != (f->last_ns - f->first_ns) / e->o.active_ns)
        e->o.on_flow_active(e->o.on_flow_end_ctx, f, rec->ts_ns);
    account(e, f, sender, p, rec);
    wp_outcome_packet(f, sender, p->tcp_flags, p->payload_len, wp_outcome_is_icmp_error(p));
    if (p->proto == WP_IPPROTO_ICMP || p->proto == WP_IPPROTO_ICMPV6)
        (void)wp_outcome_icmp(e->flows, p, e->o.nametab, &e->t.outcome);
    if (WP_UNLIKELY(rec->proc != NULL || wp_proc_linktype(rec->linktype))) {
        wp_procstate_packet(e->ps, f, sender, rec);
        proc_check(e, f);
    }
    if (e->names != NULL && p->payload_len > 0 && p->has_ports) {
        uint32_t before = f->name_id;
        wp_names_packet(e->names, f, p, sender, &e->t.names);
        if (f->name_id != before)
            apple_classify(e, f);
    }
    enum wp_flow_class cls = class_of(f);
    if (cls == WP_FC_TCP_CLOSED && (p->tcp_flags & (WP_TCP_SYN | WP_TCP_ACK)) == WP_TCP_SYN)
        cls = WP_FC_TCP; /* a new connection on the same ports */
    wp_flow_touch(e->flows, f, cls);
}

void wp_engine_packet(struct wp_engine *e, const struct wp_record *rec)
{
    struct wp_packet p;
    unsigned sender;

    count_frame(e, rec);
    /* a trailer (PCAPdroid) is no layer of the frame: bytes count it, the
     * decoder never sees it */
    wp_decode(rec->linktype, rec->data, rec->caplen - rec->trailer, rec->wirelen, e->o.tunnels, &p);
    count_status(&e->t, &p);
    if (p.family == 0) {
        account_non_ip(&e->t, &p, rec);
        return;
    }
    count_ip(e, &p, rec);
    if (p.frag == WP_FRAG_LATER) {
        account_later_fragment(e, &p, rec);
        return;
    }
    if (ports_unknown(&p)) {
        account_unattributed(e, &p, rec);
        return;
    }
    struct wp_flow *f = flow_for_packet(e, &p, rec, &sender);
    if (f == NULL)
        return;
    update_flow(e, f, &p, rec, sender);
    if (p.frag == WP_FRAG_FIRST) /* step 9: later fragments will find the flow */
        wp_frag_remember(e->flows, p.family, p.proto, p.src, p.dst, p.frag_id, &f->key,
                         rec->ts_ns);
}

struct snap_ctx {
    struct wp_agg *agg;
    int rc;
    struct wp_engine *e;
};

static void snap_one(void *ctx, struct wp_flow *f)
{
    struct snap_ctx *s = ctx;
    if (s->e != NULL)
        wp_outcome_settle(f, s->e->t.last_ns > s->e->clock_ns ? s->e->t.last_ns : s->e->clock_ns,
                          s->e->o.answer_timeout_ns, false);
    if (s->e != NULL && s->e->names != NULL && f->name_id == 0)
        wp_names_from_dns(s->e->names, f);
    if (s->e != NULL)
        apple_classify(s->e, f); /* final: whether both ends answered is known now */
    if (s->e != NULL && !wp_procstate_selected(s->e->ps, f))
        return;
    if (wp_agg_add_flow(s->agg, f) != 0)
        s->rc = -1;
}

struct wp_agg *wp_engine_snapshot(struct wp_engine *e)
{
    struct wp_agg *a = wp_agg_new();
    if (a == NULL)
        return NULL;
    struct snap_ctx s = {a, 0, e};
    if (wp_agg_merge(a, e->agg) != 0)
        s.rc = -1;
    if (!e->finalized)
        wp_flow_foreach(e->flows, snap_one, &s);
    if (s.rc != 0) {
        wp_agg_free(a);
        return NULL;
    }
    wp_agg_count_peers(a);
    return a;
}

struct wp_agg *wp_engine_finalize(struct wp_engine *e)
{
    if (!e->finalized) {
        struct snap_ctx s = {e->agg, 0, e};
        wp_flow_foreach(e->flows, snap_one, &s);
        e->finalized = true;
        if (s.rc != 0)
            return NULL;
        wp_agg_count_peers(e->agg);
    }
    return e->agg;
}

struct collect_ctx {
    struct wp_flow **v;
    size_t n;
};

static void collect_one(void *ctx, struct wp_flow *f)
{
    struct collect_ctx *c = ctx;
    c->v[c->n++] = f;
}

struct wp_flow **wp_engine_flows(const struct wp_engine *e, size_t *n)
{
    *n = 0;
    size_t cnt = wp_flow_count(e->flows);
    if (cnt == 0)
        return NULL;
    struct collect_ctx c = {malloc(cnt * sizeof(struct wp_flow *)), 0};
    if (c.v == NULL)
        return NULL;
    wp_flow_foreach(e->flows, collect_one, &c);
    *n = c.n;
    return c.v;
}

struct merge_ctx {
    struct wp_engine *dst;
    const struct wp_engine *src;
    int rc;
};

static void merge_flow(void *ctx, struct wp_flow *sf)
{
    struct merge_ctx *m = ctx;
    struct wp_engine *d = m->dst;
    struct wp_flow *f = wp_flow_find(d->flows, &sf->key);
    if (f == NULL) {
        make_room(d);
        f = wp_flow_insert(d->flows, &sf->key, (enum wp_flow_class)sf->cls);
        if (f == NULL) {
            if (wp_agg_add_flow(d->agg, sf) != 0)
                m->rc = -1;
            return;
        }
        struct wp_link lru = f->lru;
        uint8_t cls = f->cls;
        *f = *sf;
        f->lru = lru;
        f->cls = cls;
        f->tl_series = wp_timeline_map(d->tl, m->src->tl, sf->tl_series);
        f->tl_proc = wp_timeline_proc_map(d->tl, m->src->tl, sf->tl_proc);
        /* as a sequential read would have: a DNS answer from an earlier
         * input names the flow when it starts */
        if (f->name_id == 0 && d->names != NULL) {
            wp_names_from_dns(d->names, f);
            if (f->name_id != 0)
                apple_classify(d, f);
        }
        return;
    }
    /* The earlier reader's decision stands unless only the later one saw a SYN. */
    if (!(f->bits & WP_FB_SYN) && (sf->bits & WP_FB_SYN)) {
        if (f->server != sf->server) {
            f->server = sf->server;
            wp_timeline_flow_moved(d->tl, f, f->pkts[0] + f->pkts[1], f->bytes[0] + f->bytes[1]);
        }
        f->how = sf->how;
        f->bits |= WP_FB_SYN;
    }
    /* src counted its packets under its own decision: now under f's */
    if (f->tl_series != 0 && (sf->bits & WP_FB_TIME))
        wp_timeline_move(d->tl, wp_timeline_map(d->tl, m->src->tl, sf->tl_series), f->tl_series,
                         sf->first_ns, sf->last_ns, sf->pkts[0] + sf->pkts[1],
                         sf->bytes[0] + sf->bytes[1]);
    /* the Apple service timeline: each side's packets are under its own
     * service; moved below to the merged flow's */
    uint8_t f_svc = f->apple_svc;
    uint64_t f_pk = f->pkts[0] + f->pkts[1], f_by = f->bytes[0] + f->bytes[1];
    int64_t f_first = f->first_ns, f_last = f->last_ns;
    bool f_time = (f->bits & WP_FB_TIME) != 0;
    for (int i = 0; i < 2; i++) {
        if (f->key.proto == WP_IPPROTO_TCP) {
            f->l4.tcp_flags[i] |= sf->l4.tcp_flags[i];
        } else if (f->pkts[i] == 0 && sf->pkts[i] != 0) { /* ICMP: the first message's */
            f->l4.icmp[i][0] = sf->l4.icmp[i][0];
            f->l4.icmp[i][1] = sf->l4.icmp[i][1];
        }
        f->pkts[i] += sf->pkts[i];
        f->bytes[i] += sf->bytes[i];
        f->ip_bytes[i] += sf->ip_bytes[i];
    }
    f->tcp_flags |= sf->tcp_flags;
    wp_flow_proc_merge(f, sf);
    wp_outcome_merge(f, sf);
    if (sf->name_src > f->name_src) {
        f->name_id = sf->name_id;
        f->name_src = sf->name_src;
        f->apple_svc = sf->apple_svc;
        f->bits = (uint8_t)((f->bits & ~(WP_FB_APPLE_NAME | WP_FB_APPLE_BY_MASK)) |
                            (sf->bits & (WP_FB_APPLE_NAME | WP_FB_APPLE_BY_MASK)));
    }
    if (sf->bits & WP_FB_TIME) {
        if (!(f->bits & WP_FB_TIME) || sf->first_ns < f->first_ns)
            f->first_ns = sf->first_ns;
        if (!(f->bits & WP_FB_TIME) || sf->last_ns > f->last_ns)
            f->last_ns = sf->last_ns;
        f->bits |= WP_FB_TIME;
    }
    if (f_time)
        wp_timeline_apple_moved(d->tl, f, f_svc, f_first, f_last, f_pk, f_by);
    /* and its process series: f's part, then src's, to the merged flow's */
    {
        const struct wp_proctab *t = wp_procstate_table(d->ps);
        uint16_t carrier;
        const struct wp_proc_entry *pe = wp_proctab_get(t, wp_flow_app(t, f, &carrier));
        uint16_t group = pe != NULL ? pe->group : 0;
        uint8_t sf_proc = wp_timeline_proc_map(d->tl, m->src->tl, sf->tl_proc);
        if (f_time)
            wp_timeline_proc_moved(d->tl, f, group, f_first, f_last, f_pk, f_by);
        if (sf->bits & WP_FB_TIME) {
            f->tl_proc = sf_proc;
            wp_timeline_proc_moved(d->tl, f, group, sf->first_ns, sf->last_ns,
                                   sf->pkts[0] + sf->pkts[1], sf->bytes[0] + sf->bytes[1]);
        }
    }
    if (sf->bits & WP_FB_TIME)
        wp_timeline_apple_moved(d->tl, f, sf->apple_svc, sf->first_ns, sf->last_ns,
                                sf->pkts[0] + sf->pkts[1], sf->bytes[0] + sf->bytes[1]);
    wp_flow_touch(d->flows, f, class_of(f));
}

int wp_engine_merge(struct wp_engine *dst, struct wp_engine *src)
{
    struct merge_ctx m = {dst, src, 0};
    if (wp_timeline_merge(dst->tl, src->tl) != 0)
        m.rc = -1;
    wp_flow_foreach(src->flows, merge_flow, &m);
    if (dst->names != NULL && src->names != NULL)
        wp_names_merge(dst->names, src->names);
    if (wp_agg_merge(dst->agg, src->agg) != 0)
        m.rc = -1;
    if (wp_procstate_merge(dst->ps, src->ps) != 0)
        m.rc = -1;
    struct wp_totals *d = &dst->t;
    const struct wp_totals *s = &src->t;
    /* flows is recounted below */
#define WP_X(field, name) d->field += s->field;
#define WP_A(field, name, n, names)                                                                \
    for (size_t i = 0; i < (n); i++)                                                               \
        d->field[i] += s->field[i];
    WP_TOTALS_LIST(WP_X, WP_A)
#undef WP_X
#undef WP_A
#define WP_X(field, desc) d->names.field += s->names.field;
    WP_NAME_COUNTS_LIST(WP_X)
#undef WP_X
#define WP_X(field, name, desc) d->outcome.field += s->outcome.field;
    WP_ICMP_ERROR_COUNTS_LIST(WP_X)
#undef WP_X
    if (s->have_ts) {
        if (!d->have_ts || s->first_ns < d->first_ns)
            d->first_ns = s->first_ns;
        if (!d->have_ts || s->last_ns > d->last_ns)
            d->last_ns = s->last_ns;
        d->have_ts = true;
    }
    for (size_t i = 0; i < src->n_linktypes; i++)
        note_linktype(dst, src->linktypes[i]);
    /* flows: distinct keys after merging (a flow seen by both counts once) */
    dst->flows_unlisted += src->flows_unlisted;
    d->flows = wp_flow_count(dst->flows) + d->flows_evicted + dst->flows_unlisted;
    return m.rc;
}

struct wp_flow *wp_engine_load_flow(struct wp_engine *e, const struct wp_flow *src,
                                    uint16_t proc_group)
{
    if (wp_flow_find(e->flows, &src->key) != NULL)
        return NULL;
    struct wp_flow *f = wp_flow_insert(e->flows, &src->key, class_of(src));
    if (f == NULL)
        return NULL;
    struct wp_link lru = f->lru;
    uint8_t cls = f->cls;
    *f = *src;
    f->lru = lru;
    f->cls = cls;
    f->tl_proc = 0;
    struct wp_port_key pk = wp_flow_port_key(f);
    f->tl_series = wp_timeline_series_of(e->tl, &pk);
    /* gives the flow its process series, moving nothing */
    wp_timeline_proc_moved(e->tl, f, proc_group, 0, 0, 0, 0);
    e->last = NULL;
    return f;
}

void wp_engine_load_linktype(struct wp_engine *e, uint32_t lt)
{
    note_linktype(e, lt);
}

void wp_engine_load_unlisted(struct wp_engine *e, uint64_t flows)
{
    e->flows_unlisted += flows;
}

uint64_t wp_engine_unlisted(const struct wp_engine *e)
{
    return e->flows_unlisted;
}

struct wp_timeline *wp_engine_timeline_mut(struct wp_engine *e)
{
    return e->tl;
}

size_t wp_engine_bytes(const struct wp_engine *e)
{
    return sizeof(*e) + wp_flow_table_bytes(e->flows) + wp_agg_bytes(e->agg) +
           wp_timeline_bytes(e->tl) + wp_procstate_bytes(e->ps);
}

const struct wp_timeline *wp_engine_timeline(const struct wp_engine *e)
{
    return e->tl;
}

struct wp_flow_table *wp_engine_flow_table(struct wp_engine *e)
{
    return e->flows;
}

struct wp_agg *wp_engine_agg(struct wp_engine *e)
{
    return e->agg;
}

struct wp_procstate *wp_engine_procstate(const struct wp_engine *e)
{
    return e->ps;
}

int wp_engine_set_flow_unknown(struct wp_engine *e, const struct wp_flow_key *key,
                               enum wp_proc_unknown u)
{
    struct wp_flow *f = wp_flow_find(e->flows, key);
    if (f == NULL)
        return -1;
    if (f->proc_n[0] == 0)
        wp_flow_set_proc_unknown(f, u);
    return 0;
}

int wp_engine_set_flow_process(struct wp_engine *e, const struct wp_flow_key *key,
                               const struct wp_proc_desc *proc)
{
    struct wp_flow *f = wp_flow_find(e->flows, key);
    if (f == NULL)
        return -1;
    int rc = wp_procstate_set_flow(e->ps, f, proc);
    proc_check(e, f);
    return rc;
}
