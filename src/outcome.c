/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: connection outcomes per flow, Zeek's conn_state, ICMP unreachables
 *
 * Zeek's conn_state comes from two endpoint states (originator and
 * responder), each moved by the packets its side sends, as Zeek's TCP
 * session adapter does (UpdateInactiveState, UpdateSYN_SentState,
 * UpdateEstablishedState, UpdateClosedState), and the conn_state function
 * of Zeek's base/protocols/conn/main.zeek reading them at the end. What
 * is not kept: sequence numbers (Zeek's REJ test on payload sizes uses
 * "payload seen" instead; the SYN/SYN-ACK reversal that makes Zeek flip
 * roles is not detected), and a SYN after a closed or reset connection
 * starts a new attempt in the same flow, where Zeek starts a new
 * connection. The originator is the flow's client (wp_flow.server is the
 * responder), which is Zeek's choice whenever a SYN was seen.
 *
 * ICMP quotes are parsed here, bounds-checked on the captured bytes the
 * decoder handed over: RFC 792 (the IPv4 header plus 64 bits of the
 * original datagram) and RFC 4443 (as much of the invoking packet as fits). */

#include <stdio.h>
#include <string.h>

#include "wp/outcome.h"
#include "wp/flow.h"
#include "wp/names.h"
#include "wp/util.h"

/* Zeek's TCP endpoint states (TCP_ENDPOINT_*), 3 bits. */
enum {
    EP_INACTIVE = 0,
    EP_SYN_SENT,
    EP_SYN_ACK_SENT,
    EP_PARTIAL,
    EP_ESTABLISHED,
    EP_CLOSED,
    EP_RESET
};

/* wp_oc.seen: what each side sent (TCP); for other transports only
 * WP_OCS_ICMPERR is used. */
enum {
    WP_OCS_CSYN = 0x01,    /* client sent a SYN without ACK */
    WP_OCS_SSYNACK = 0x02, /* server sent a SYN-ACK */
    WP_OCS_CDATA = 0x04,   /* client sent payload */
    WP_OCS_SDATA = 0x08,   /* server sent payload */
    WP_OCS_CFIN = 0x10,
    WP_OCS_SFIN = 0x20,
    WP_OCS_CRST = 0x40,
    WP_OCS_SRST = 0x80,
    WP_OCS_ICMPERR = 0x01, /* non-TCP: the flow carries ICMP error messages */
};

/* wp_oc.st */
enum {
    WP_OCT_ANY = 0x01,     /* a packet was seen */
    WP_OCT_FIRST_S = 0x02, /* the first packet was the client's pure SYN (Zeek 'S') */
    WP_OCT_ORIG_R = 0x04,  /* the client sent a RST (Zeek 'R') */
    WP_OCT_DISQ = 0x08,    /* before it, the client sent H, A, F, I or Q */
    WP_OCT_DECIDED = 0x10, /* no answer and no more waiting: unanswered */
    WP_OCT_BLOCKED = 0x20, /* an ICMP unreachable quoted the flow */
    WP_OCT_BLK_V6 = 0x40,  /* ... an ICMPv6 one */
    WP_OCT_BLK_SRV = 0x80, /* ... sent by the flow's server itself */
};

static unsigned ep_get(const struct wp_oc *o, unsigned side)
{
    return side ? (o->ep >> 3) & 7u : o->ep & 7u;
}

static void ep_set(struct wp_oc *o, unsigned side, unsigned st)
{
    if (side)
        o->ep = (uint8_t)((o->ep & ~0x38u) | (st << 3));
    else
        o->ep = (uint8_t)((o->ep & ~0x07u) | st);
}

/* bit 6 (client) or 7 (server): the endpoint went from CLOSED to RESET */
static bool ep_rst_after_close(const struct wp_oc *o, unsigned side)
{
    return (o->ep & (side ? 0x80u : 0x40u)) != 0;
}

static void ep_set_rst_after_close(struct wp_oc *o, unsigned side, bool v)
{
    uint8_t b = side ? 0x80u : 0x40u;
    o->ep = (uint8_t)(v ? (o->ep | b) : (o->ep & ~b));
}

/* One packet through Zeek's endpoint state machine. side 0 = originator. */
static void zeek_step(struct wp_oc *o, unsigned side, uint8_t fl, uint32_t len)
{
    bool syn = fl & WP_TCP_SYN, ack = fl & WP_TCP_ACK, fin = fl & WP_TCP_FIN, rst = fl & WP_TCP_RST;
    unsigned peer = 1u - side;
    unsigned es = ep_get(o, side), ps = ep_get(o, peer);
    bool is_orig = side == 0;

    switch (es) {
    case EP_INACTIVE:
        if (syn) {
            if (is_orig) {
                es = ack ? EP_SYN_ACK_SENT : EP_SYN_SENT;
            } else {
                if (ps == EP_SYN_SENT)
                    ps = EP_ESTABLISHED;
                es = EP_ESTABLISHED;
            }
        }
        if (fin)
            es = EP_CLOSED;
        if (rst)
            es = EP_RESET;
        if (es == EP_INACTIVE) {
            if (!is_orig && len == 0 && ep_get(o, 0) == EP_SYN_SENT)
                ; /* an ACK of the SYN before the SYN-ACK */
            else if (ack && ps == EP_ESTABLISHED)
                es = EP_ESTABLISHED; /* the SYN was missed, the SYN-ACK seen */
            else
                es = EP_PARTIAL;
        }
        break;
    case EP_SYN_SENT:
    case EP_SYN_ACK_SENT:
        if (fin)
            es = EP_CLOSED;
        if (rst)
            es = EP_RESET;
        break;
    case EP_ESTABLISHED:
    case EP_PARTIAL:
        if (syn && es == EP_PARTIAL && ps == EP_INACTIVE && !ack)
            es = EP_SYN_SENT;
        if (fin && !rst) {
            es = EP_CLOSED;
            if (ps == EP_RESET && ep_rst_after_close(o, peer)) {
                ps = EP_CLOSED; /* the peer's FIN then RST was a normal close */
                ep_set_rst_after_close(o, peer, false);
            }
        }
        if (rst)
            es = EP_RESET;
        break;
    case EP_CLOSED:
        if (rst && ps != EP_CLOSED) {
            es = EP_RESET;
            ep_set_rst_after_close(o, side, true);
        }
        break;
    default:
        break;
    }
    ep_set(o, side, es);
    ep_set(o, peer, ps);
}

/* The letter Zeek's history would get for this originator packet is one of
 * H, A, F, I, Q (which keep a later R from making RSTOS0). */
static bool disqualifies(uint8_t fl, uint32_t len)
{
    int n = !!(fl & WP_TCP_SYN) + !!(fl & WP_TCP_FIN) + !!(fl & WP_TCP_RST);
    if (n > 1)
        return true; /* I or Q */
    if (n == 1)
        return (fl & WP_TCP_FIN) || ((fl & WP_TCP_SYN) && (fl & WP_TCP_ACK));
    return len == 0 && (fl & WP_TCP_ACK);
}

static bool only_rst(uint8_t fl)
{
    return (fl & (WP_TCP_SYN | WP_TCP_FIN | WP_TCP_RST)) == WP_TCP_RST;
}

void wp_outcome_packet(struct wp_flow *f, unsigned sender, uint8_t flags, uint32_t payload_len,
                       bool is_icmp_error)
{
    struct wp_oc *o = &f->oc;
    if (f->key.proto != 6) {
        if (is_icmp_error)
            o->seen |= WP_OCS_ICMPERR;
        o->st |= WP_OCT_ANY;
        return;
    }
    unsigned side = sender == f->server ? 1u : 0u; /* 0: client (Zeek's originator) */
    bool syn = flags & WP_TCP_SYN, ack = flags & WP_TCP_ACK;

    /* A new SYN from the client after a finished attempt starts again. */
    if (side == 0 && syn && !ack && (o->st & WP_OCT_ANY)) {
        unsigned cs = ep_get(o, 0), ss = ep_get(o, 1);
        if (cs == EP_CLOSED || cs == EP_RESET || ss == EP_CLOSED || ss == EP_RESET) {
            uint8_t keep = o->st & (WP_OCT_BLOCKED | WP_OCT_BLK_V6 | WP_OCT_BLK_SRV);
            o->ep = 0;
            o->seen = 0;
            o->st = keep;
        }
    }

    if (!(o->st & WP_OCT_ANY)) {
        o->st |= WP_OCT_ANY;
        if (side == 0 && syn && !ack && !(flags & (WP_TCP_FIN | WP_TCP_RST)))
            o->st |= WP_OCT_FIRST_S;
    }
    if (side == 0 && !(o->st & WP_OCT_ORIG_R)) {
        if (only_rst(flags))
            o->st |= WP_OCT_ORIG_R;
        else if (disqualifies(flags, payload_len))
            o->st |= WP_OCT_DISQ;
    }

    if (side == 0) {
        if (syn && !ack)
            o->seen |= WP_OCS_CSYN;
        if (payload_len > 0 && !(flags & WP_TCP_RST))
            o->seen |= WP_OCS_CDATA;
        if (flags & WP_TCP_FIN)
            o->seen |= WP_OCS_CFIN;
        if (flags & WP_TCP_RST)
            o->seen |= WP_OCS_CRST;
    } else {
        if (syn && ack)
            o->seen |= WP_OCS_SSYNACK;
        if (payload_len > 0 && !(flags & WP_TCP_RST))
            o->seen |= WP_OCS_SDATA;
        if (flags & WP_TCP_FIN)
            o->seen |= WP_OCS_SFIN;
        if (flags & WP_TCP_RST)
            o->seen |= WP_OCS_SRST;
    }
    zeek_step(o, side, flags, payload_len);
}

bool wp_outcome_is_icmp_error(const struct wp_packet *p)
{
    if (!p->has_l4)
        return false;
    if (p->proto == 1)
        return p->icmp_type == 3 || p->icmp_type == 11 || p->icmp_type == 12 || p->icmp_type == 4 ||
               p->icmp_type == 5;
    if (p->proto == 58)
        return p->icmp_type >= 1 && p->icmp_type <= 4;
    return false;
}

static bool has_ports(uint8_t proto)
{
    return proto == 6 || proto == 17 || proto == 136 || proto == 132 || proto == 33;
}

/* The quoted packet of an ICMP error: family, protocol, addresses, ports.
 * Returns 0, or a pointer to the counter saying why not. */
struct quoted {
    uint8_t proto;
    const uint8_t *src, *dst;
    uint16_t sport, dport;
};

static uint64_t *parse_quote(const struct wp_packet *p, struct quoted *q, struct wp_oc_counts *c)
{
    /* after the ICMP type, code, checksum (4 bytes, before payload) come 4
     * bytes (unused, pointer, or MTU), then the quote */
    if (p->payload == NULL || p->payload_len < 4)
        return &c->quote_truncated;
    const uint8_t *b = p->payload + 4;
    size_t n = p->payload_len - 4, off;
    memset(q, 0, sizeof(*q));
    if (p->family == 4) {
        if (n < 1)
            return &c->quote_truncated;
        if ((b[0] >> 4) != 4)
            return &c->quote_garbage;
        size_t ihl = (size_t)(b[0] & 15) * 4;
        if (ihl < 20)
            return &c->quote_garbage;
        if (n < ihl)
            return &c->quote_truncated;
        if ((wp_be16(b + 6) & 0x1fff) != 0)
            return &c->quote_unsupported; /* a later fragment: no transport header */
        q->proto = b[9];
        q->src = b + 12;
        q->dst = b + 16;
        off = ihl;
    } else {
        if (n < 1)
            return &c->quote_truncated;
        if ((b[0] >> 4) != 6)
            return &c->quote_garbage;
        if (n < 40)
            return &c->quote_truncated;
        q->src = b + 8;
        q->dst = b + 24;
        uint8_t nh = b[6];
        off = 40;
        for (int i = 0; i < 8; i++) {
            if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
                if (n < off + 2)
                    return &c->quote_truncated;
                size_t l = nh == 51 ? ((size_t)b[off + 1] + 2) * 4 : ((size_t)b[off + 1] + 1) * 8;
                nh = b[off];
                off += l;
            } else if (nh == 44) {
                if (n < off + 8)
                    return &c->quote_truncated;
                if ((wp_be16(b + off + 2) & 0xfff8) != 0)
                    return &c->quote_unsupported;
                nh = b[off];
                off += 8;
            } else {
                break;
            }
        }
        if (nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 44)
            return &c->quote_unsupported; /* more extension headers than we walk */
        q->proto = nh;
    }
    if (has_ports(q->proto)) {
        /* RFC 792: at least 64 bits of the original transport header */
        if (n < off + 8)
            return &c->quote_truncated;
        q->sport = wp_be16(b + off);
        q->dport = wp_be16(b + off + 2);
    }
    return NULL;
}

/* The canonical key (as the engine builds it: lower address first, then
 * lower port). */
static void quote_key(const struct wp_packet *p, const struct quoted *q, struct wp_flow_key *k)
{
    size_t n = p->family == 4 ? 4 : 16;
    memset(k, 0, sizeof(*k));
    int cmp = memcmp(q->src, q->dst, n);
    if (cmp == 0)
        cmp = (int)q->sport - (int)q->dport;
    memcpy(k->addr[0], cmp <= 0 ? q->src : q->dst, n);
    memcpy(k->addr[1], cmp <= 0 ? q->dst : q->src, n);
    k->port[0] = cmp <= 0 ? q->sport : q->dport;
    k->port[1] = cmp <= 0 ? q->dport : q->sport;
    k->vlan = p->vlan;
    k->vlan_inner = p->vlan_inner;
    k->proto = q->proto;
    k->family = p->family;
}

struct wp_flow *wp_outcome_icmp(struct wp_flow_table *t, const struct wp_packet *p,
                                struct wp_nametab *names, struct wp_oc_counts *c)
{
    if (!wp_outcome_is_icmp_error(p))
        return NULL;
    bool v6 = p->proto == 58;
    bool unreach = v6 ? p->icmp_type == 1 : p->icmp_type == 3;
    /* ICMP 3/4 "fragmentation needed" is IPv4's packet too big: path MTU
     * discovery, not a block (the code is the byte after the type) */
    if (unreach && !v6 && p->payload != NULL && p->payload[-3] == 4)
        unreach = false;
    if (!unreach) {
        c->ignored_other++;
        return NULL;
    }
    c->icmp_unreach++;
    if ((p->family == 4) == v6) {
        c->quote_garbage++; /* ICMPv6 over IPv4 or ICMP over IPv6 */
        return NULL;
    }
    struct quoted q;
    uint64_t *why = parse_quote(p, &q, c);
    if (why != NULL) {
        (*why)++;
        return NULL;
    }
    struct wp_flow_key k;
    quote_key(p, &q, &k);
    struct wp_flow *f = wp_flow_find(t, &k);
    if (f == NULL) {
        c->no_flow++;
        return NULL;
    }
    c->matched++;
    struct wp_oc *o = &f->oc;
    if (o->st & WP_OCT_BLOCKED)
        return f; /* the first one stands */
    /* the code: the byte after the type, just before the checksum */
    o->code = p->payload[-3];
    o->st |= WP_OCT_BLOCKED;
    if (v6)
        o->st |= WP_OCT_BLK_V6;
    size_t n = v6 ? 16 : 4;
    if (memcmp(p->src, f->key.addr[f->server], n) == 0)
        o->st |= WP_OCT_BLK_SRV;
    if (names != NULL) {
        char a[64];
        wp_fmt_addr(a, sizeof(a), p->family, p->src);
        o->from_id = wp_nametab_intern(names, a);
    }
    return f;
}

/* Waiting for an answer: the server sent nothing. */
static bool waiting(const struct wp_flow *f)
{
    return f->pkts[f->server] == 0 && f->pkts[1u - f->server] > 0;
}

void wp_outcome_settle(struct wp_flow *f, int64_t now_ns, int64_t timeout_ns, bool final)
{
    if (!waiting(f))
        return;
    if (final || ((f->bits & WP_FB_TIME) && now_ns - f->first_ns >= timeout_ns))
        f->oc.st |= WP_OCT_DECIDED;
}

enum wp_outcome wp_outcome_of(const struct wp_flow *f)
{
    const struct wp_oc *o = &f->oc;
    unsigned srv = f->server, cli = 1u - srv;
    bool blocked = (o->st & WP_OCT_BLOCKED) != 0;
    if (f->key.proto != 6) {
        if (o->seen & WP_OCS_ICMPERR)
            return WP_OUT_ICMP_ERROR;
        if (f->pkts[srv] > 0 && f->pkts[cli] > 0)
            return WP_OUT_ANSWERED;
        if (blocked && f->pkts[srv] == 0)
            return WP_OUT_BLOCKED;
        if (f->pkts[srv] > 0)
            return WP_OUT_ONEWAY;
        return (o->st & WP_OCT_DECIDED) ? WP_OUT_UNANSWERED : WP_OUT_PENDING;
    }
    uint8_t s = o->seen;
    bool est =
        (s & WP_OCS_SSYNACK) || ((s & WP_OCS_CSYN) && (s & WP_OCS_CDATA) && (s & WP_OCS_SDATA));
    if (est) {
        if ((s & WP_OCS_CFIN) && (s & WP_OCS_SFIN))
            return WP_OUT_CLOSED;
        if (s & (WP_OCS_CRST | WP_OCS_SRST))
            return WP_OUT_RESET;
        return WP_OUT_ESTABLISHED;
    }
    if (s & WP_OCS_CSYN) {
        if (s & WP_OCS_SRST)
            return WP_OUT_REFUSED;
        if (blocked && f->pkts[srv] == 0)
            return WP_OUT_BLOCKED;
        if (f->pkts[srv] == 0)
            return (o->st & WP_OCT_DECIDED) ? WP_OUT_UNANSWERED : WP_OUT_PENDING;
        return WP_OUT_MIDSTREAM; /* an answer that was neither SYN-ACK nor RST */
    }
    if (blocked && f->pkts[srv] == 0)
        return WP_OUT_BLOCKED;
    if (f->pkts[srv] > 0 && f->pkts[cli] > 0)
        return WP_OUT_MIDSTREAM;
    return WP_OUT_ONEWAY;
}

enum wp_zeek_state wp_outcome_zeek(const struct wp_flow *f)
{
    const struct wp_oc *o = &f->oc;
    unsigned srv = f->server, cli = 1u - srv;
    if (f->key.proto == 17 || f->key.proto == 136) {
        bool oa = f->pkts[cli] > 0, ra = f->pkts[srv] > 0;
        if (oa)
            return ra ? WP_ZS_SF : WP_ZS_S0;
        return ra ? WP_ZS_SHR : WP_ZS_OTH;
    }
    if (f->key.proto != 6)
        return WP_ZS_OTH;
    unsigned os = ep_get(o, 0), rs = ep_get(o, 1);
    bool o_inactive = os == EP_INACTIVE || os == EP_PARTIAL;
    bool r_inactive = rs == EP_INACTIVE || rs == EP_PARTIAL;
    bool no_payload = !(o->seen & (WP_OCS_CDATA | WP_OCS_SDATA));
    if (rs == EP_RESET) {
        if (os == EP_SYN_SENT || os == EP_SYN_ACK_SENT || (os == EP_RESET && no_payload))
            return WP_ZS_REJ;
        return o_inactive ? WP_ZS_RSTRH : WP_ZS_RSTR;
    }
    if (os == EP_RESET) {
        if (r_inactive) {
            bool s_then_r =
                (o->st & WP_OCT_FIRST_S) && (o->st & WP_OCT_ORIG_R) && !(o->st & WP_OCT_DISQ);
            return s_then_r ? WP_ZS_RSTOS0 : WP_ZS_OTH;
        }
        return WP_ZS_RSTO;
    }
    if (rs == EP_CLOSED && os == EP_CLOSED)
        return WP_ZS_SF;
    if (os == EP_CLOSED)
        return r_inactive ? WP_ZS_SH : WP_ZS_S2;
    if (rs == EP_CLOSED)
        return o_inactive ? WP_ZS_SHR : WP_ZS_S3;
    if (os == EP_SYN_SENT && rs == EP_INACTIVE)
        return WP_ZS_S0;
    if (os == EP_ESTABLISHED && rs == EP_ESTABLISHED)
        return WP_ZS_S1;
    return WP_ZS_OTH;
}

bool wp_outcome_blocked_by(const struct wp_flow *f, bool *v6, uint8_t *code, bool *by_server,
                           uint32_t *from_id)
{
    const struct wp_oc *o = &f->oc;
    if (!(o->st & WP_OCT_BLOCKED))
        return false;
    *v6 = (o->st & WP_OCT_BLK_V6) != 0;
    *code = o->code;
    *by_server = (o->st & WP_OCT_BLK_SRV) != 0;
    *from_id = o->from_id;
    return true;
}

/* Progress order of endpoint states, for merging. */
static unsigned ep_rank(unsigned s)
{
    static const uint8_t rank[8] = {0, 2, 3, 1, 4, 5, 6, 0};
    return rank[s & 7u];
}

void wp_outcome_merge(struct wp_flow *dst, const struct wp_flow *src)
{
    struct wp_oc *d = &dst->oc;
    const struct wp_oc *s = &src->oc;
    for (unsigned side = 0; side < 2; side++) {
        unsigned a = ep_get(d, side), b = ep_get(s, side);
        if (ep_rank(b) > ep_rank(a)) {
            ep_set(d, side, b);
            ep_set_rst_after_close(d, side, ep_rst_after_close(s, side));
        }
    }
    d->seen |= s->seen;
    uint8_t keep_first = (d->st & WP_OCT_ANY) ? (d->st & WP_OCT_FIRST_S) : (s->st & WP_OCT_FIRST_S);
    if (!(d->st & WP_OCT_BLOCKED) && (s->st & WP_OCT_BLOCKED)) {
        d->st |= s->st & (WP_OCT_BLOCKED | WP_OCT_BLK_V6 | WP_OCT_BLK_SRV);
        d->code = s->code;
        d->from_id = s->from_id;
    }
    d->st = (uint8_t)((d->st & ~WP_OCT_FIRST_S) | keep_first |
                      (s->st & (WP_OCT_ANY | WP_OCT_ORIG_R | WP_OCT_DISQ | WP_OCT_DECIDED)));
}

static void row_blk(struct wp_oc_row *r, bool v6, uint8_t code)
{
    for (uint8_t i = 0; i < r->n_blk; i++)
        if (r->blk[i].v6 == v6 && r->blk[i].code == code)
            return;
    if (r->n_blk < 2) {
        r->blk[r->n_blk].v6 = v6;
        r->blk[r->n_blk].code = code;
        r->n_blk++;
        /* kept in order (ICMP before ICMPv6, then by code): the output does
         * not depend on the order flows are folded in */
        if (r->n_blk == 2 && (r->blk[0].v6 > r->blk[1].v6 ||
                              (r->blk[0].v6 == r->blk[1].v6 && r->blk[0].code > r->blk[1].code))) {
            bool tv = r->blk[0].v6;
            uint8_t tc = r->blk[0].code;
            r->blk[0] = r->blk[1];
            r->blk[1].v6 = tv;
            r->blk[1].code = tc;
        }
    } else {
        r->blk_more = true;
    }
}

void wp_oc_row_add(struct wp_oc_row *r, const struct wp_flow *f)
{
    enum wp_outcome o = wp_outcome_of(f);
    r->n[o]++;
    if (o == WP_OUT_BLOCKED)
        row_blk(r, (f->oc.st & WP_OCT_BLK_V6) != 0, f->oc.code);
}

void wp_oc_row_merge(struct wp_oc_row *d, const struct wp_oc_row *s)
{
    for (int i = 0; i < WP_OUT_COUNT; i++)
        d->n[i] += s->n[i];
    for (uint8_t i = 0; i < s->n_blk; i++)
        row_blk(d, s->blk[i].v6, s->blk[i].code);
    d->blk_more = d->blk_more || s->blk_more;
}

const char *wp_outcome_name(unsigned o)
{
    static const char *const names[WP_OUT_COUNT] = {
        "established", "refused", "unanswered", "blocked", "reset",      "closed",
        "mid-stream",  "one-way", "answered",   "pending", "icmp-error",
    };
    return o < WP_OUT_COUNT ? names[o] : NULL;
}

const char *wp_zeek_state_name(unsigned z)
{
    static const char *const names[WP_ZS_COUNT] = {
        "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
    };
    return z < WP_ZS_COUNT ? names[z] : NULL;
}

const char *wp_unreach_code_name(bool v6, uint8_t code)
{
    /* RFC 792, RFC 1122, RFC 1812 (ICMP type 3); RFC 4443, RFC 7915 (ICMPv6 type 1) */
    static const char *const v4[16] = {
        "net unreachable",
        "host unreachable",
        "protocol unreachable",
        "port unreachable",
        "fragmentation needed",
        "source route failed",
        "destination network unknown",
        "destination host unknown",
        "source host isolated",
        "network administratively prohibited",
        "host administratively prohibited",
        "network unreachable for TOS",
        "host unreachable for TOS",
        "administratively prohibited",
        "host precedence violation",
        "precedence cutoff in effect",
    };
    static const char *const v6n[9] = {
        "no route to destination",
        "administratively prohibited",
        "beyond scope of source address",
        "address unreachable",
        "port unreachable",
        "source address failed ingress/egress policy",
        "reject route to destination",
        "error in source routing header",
        "headers too long",
    };
    if (v6)
        return code < WP_ARRAY_LEN(v6n) ? v6n[code] : NULL;
    return code < WP_ARRAY_LEN(v4) ? v4[code] : NULL;
}

char *wp_unreach_text(char *buf, size_t n, bool v6, uint8_t code)
{
    const char *name = wp_unreach_code_name(v6, code);
    snprintf(buf, n, "%s %u/%u%s%s", v6 ? "icmp6" : "icmp", v6 ? 1u : 3u, (unsigned)code,
             name ? " " : "", name ? name : "");
    return buf;
}
