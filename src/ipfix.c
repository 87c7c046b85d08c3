/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: IPFIX (RFC 7011) message encoder: biflow records (RFC 5103) */

#include <string.h>

#include "wp/ipfix.h"

#define IPFIX_VERSION        10
#define SET_TEMPLATE         2
#define SET_OPTIONS_TEMPLATE 3
#define PEN_REVERSE          29305u /* RFC 5103 reverse Information Elements */
#define VARLEN               0xffff
#define APP_ENGINE_IANA_L4   3 /* RFC 6759 classification engine */

/* One template field: IANA element ID, length, enterprise number (0 none). */
struct field {
    uint16_t ie, len;
    uint32_t pen;
};

/* The biflow template; IPv6 replaces the address IEs 8/12 by 27/28, the
 * ICMP templates destinationTransportPort 11 by icmpTypeCodeIPv4 32 or
 * icmpTypeCodeIPv6 139 (nfdump reads them into its destination port). */
static const struct field rec_fields[] = {
    {152, 8, 0},           /* flowStartMilliseconds */
    {153, 8, 0},           /* flowEndMilliseconds */
    {8, 4, 0},             /* sourceIPv4Address (27 for IPv6) */
    {12, 4, 0},            /* destinationIPv4Address (28 for IPv6) */
    {7, 2, 0},             /* sourceTransportPort */
    {11, 2, 0},            /* destinationTransportPort */
    {4, 1, 0},             /* protocolIdentifier */
    {239, 1, 0},           /* biflowDirection */
    {136, 1, 0},           /* flowEndReason */
    {58, 2, 0},            /* vlanId */
    {2, 8, 0},             /* packetDeltaCount */
    {1, 8, 0},             /* octetDeltaCount */
    {352, 8, 0},           /* layer2OctetDeltaCount */
    {2, 8, PEN_REVERSE},   /* reversePacketDeltaCount */
    {1, 8, PEN_REVERSE},   /* reverseOctetDeltaCount */
    {352, 8, PEN_REVERSE}, /* reverseLayer2OctetDeltaCount */
    {6, 1, 0},             /* tcpControlBits (reduced-size encoding, RFC 7011 6.2) */
    {6, 1, PEN_REVERSE},   /* reverseTcpControlBits */
    {95, 3, 0},            /* applicationId */
    {460, VARLEN, 0},      /* httpRequestHost */
};
#define REC_NFIELDS (sizeof rec_fields / sizeof rec_fields[0])

static void put8(uint8_t *p, uint8_t v)
{
    p[0] = v;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

void wp_ipfix_init(struct wp_ipfix *x, uint32_t odid, size_t mtu)
{
    if (mtu == 0)
        mtu = WP_IPFIX_MTU_DEFAULT;
    if (mtu < WP_IPFIX_MTU_MIN)
        mtu = WP_IPFIX_MTU_MIN;
    if (mtu > 65535)
        mtu = 65535;
    x->odid = odid;
    x->seq = 0;
    x->pen = 0;
    x->mtu = mtu;
}

bool wp_ipfix_msg_begin(const struct wp_ipfix *x, struct wp_ipfix_msg *m, uint8_t *buf, size_t cap,
                        uint32_t export_s)
{
    if (cap < WP_IPFIX_MTU_MIN)
        return false;
    m->buf = buf;
    m->cap = cap < x->mtu ? cap : x->mtu;
    m->len = WP_IPFIX_MSG_HDR;
    m->set_off = 0;
    m->set_id = 0;
    m->nrec = 0;
    m->pen = x->pen;
    put16(buf, IPFIX_VERSION);
    put16(buf + 2, 0); /* length: at the end */
    put32(buf + 4, export_s);
    put32(buf + 8, x->seq);
    put32(buf + 12, x->odid);
    return true;
}

/* Close the open set, if any, writing its length. */
static void set_close(struct wp_ipfix_msg *m)
{
    if (m->set_off != 0)
        put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
    m->set_off = 0;
    m->set_id = 0;
}

/* Make room for `need` octets of a record in a set `id`, opening the set
 * when another (or none) is open. Returns the write position or NULL when
 * it does not fit (nothing changed then). */
static uint8_t *set_reserve(struct wp_ipfix_msg *m, uint16_t id, size_t need)
{
    size_t extra = m->set_id == id ? 0 : WP_IPFIX_SET_HDR;
    if (m->len + extra + need > m->cap)
        return NULL;
    if (extra != 0) {
        set_close(m);
        m->set_off = m->len;
        m->set_id = id;
        put16(m->buf + m->len, id);
        put16(m->buf + m->len + 2, 0);
        m->len += WP_IPFIX_SET_HDR;
    }
    uint8_t *p = m->buf + m->len;
    m->len += need;
    return p;
}

/* Write one field specifier; returns the octets written. */
static size_t put_field(uint8_t *p, uint16_t ie, uint16_t len, uint32_t pen)
{
    if (pen == 0) {
        put16(p, ie);
        put16(p + 2, len);
        return 4;
    }
    put16(p, (uint16_t)(ie | 0x8000));
    put16(p + 2, len);
    put32(p + 4, pen);
    return 8;
}

/* The enterprise elements (IDs WP_IPFIX_ENT_BASE + 1...), in record
 * order: RFC 5610 data type, semantics, name, description. */
static const struct ent {
    uint16_t len;
    uint8_t type, semantics;
    const char *name, *descr;
} ent_fields[WP_IPFIX_ENT_COUNT] = {
    {VARLEN, 13, 0, "wpServerName", "server name: TLS or QUIC SNI, HTTP Host, or DNS name"},
    {1, 1, 4, "wpNameSource", "where the name came from: 1 DNS, 2 HTTP, 3 QUIC, 4 TLS"},
    {1, 11, 0, "wpApple", "the flow is Apple's, by address or by name"},
    {VARLEN, 13, 0, "wpAppleService", "the Apple service of the flow"},
    {VARLEN, 13, 0, "wpServerRule", "the rule that decided the server side"},
    {VARLEN, 13, 0, "wpOutcome", "connection outcome"},
    {VARLEN, 13, 0, "wpProcessName", "the process of the flow, when the capture names it"},
    {4, 3, 4, "wpProcessId", "the process id of wpProcessName; 0 when none is known"},
};

static size_t template_size(uint32_t pen)
{
    size_t n = 4;
    for (size_t i = 0; i < REC_NFIELDS; i++)
        n += rec_fields[i].pen ? 8 : 4;
    return n + (pen ? 8 * WP_IPFIX_ENT_COUNT : 0);
}

static size_t put_template(uint8_t *p, uint16_t tid, int family, bool icmp, uint32_t pen)
{
    size_t o = 0;
    put16(p, tid);
    put16(p + 2, (uint16_t)(REC_NFIELDS + (pen ? WP_IPFIX_ENT_COUNT : 0)));
    o = 4;
    for (size_t i = 0; i < REC_NFIELDS; i++) {
        struct field f = rec_fields[i];
        if (family == 6 && f.pen == 0 && (f.ie == 8 || f.ie == 12)) {
            f.ie = f.ie == 8 ? 27 : 28;
            f.len = 16;
        }
        if (icmp && f.pen == 0 && f.ie == 11)
            f.ie = family == 6 ? 139 : 32;
        o += put_field(p + o, f.ie, f.len, f.pen);
    }
    for (unsigned i = 0; pen != 0 && i < WP_IPFIX_ENT_COUNT; i++)
        o += put_field(p + o, (uint16_t)(WP_IPFIX_ENT_BASE + 1 + i), ent_fields[i].len, pen);
    return o;
}

bool wp_ipfix_msg_add_templates(struct wp_ipfix_msg *m)
{
    size_t tsize = 4 * template_size(m->pen);
    size_t osize = 6 + 4 + 4; /* header with scope count, 95, 96 */
    if (m->pen != 0)
        osize += 6 + 9 * 4; /* the RFC 5610 type template */
    if (m->len + WP_IPFIX_SET_HDR + tsize + WP_IPFIX_SET_HDR + osize > m->cap)
        return false;
    uint8_t *p = set_reserve(m, SET_TEMPLATE, tsize);
    size_t o = put_template(p, WP_IPFIX_TID_V4, 4, false, m->pen);
    o += put_template(p + o, WP_IPFIX_TID_V6, 6, false, m->pen);
    o += put_template(p + o, WP_IPFIX_TID_ICMP4, 4, true, m->pen);
    put_template(p + o, WP_IPFIX_TID_ICMP6, 6, true, m->pen);
    set_close(m);
    p = set_reserve(m, SET_OPTIONS_TEMPLATE, osize);
    put16(p, WP_IPFIX_TID_APPS);
    put16(p + 2, 2); /* field count */
    put16(p + 4, 1); /* scope field count */
    put_field(p + 6, 95, 3, 0);
    put_field(p + 10, 96, VARLEN, 0);
    if (m->pen != 0) {
        /* RFC 5610: scope privateEnterpriseNumber, informationElementId;
         * data type, semantics, units, range low/high, name, description */
        static const struct field tf[9] = {{346, 4, 0}, {303, 2, 0},      {339, 1, 0},
                                           {344, 1, 0}, {345, 2, 0},      {342, 8, 0},
                                           {343, 8, 0}, {341, VARLEN, 0}, {340, VARLEN, 0}};
        p += 14;
        put16(p, WP_IPFIX_TID_TYPES);
        put16(p + 2, 9);
        put16(p + 4, 2);
        for (unsigned i = 0; i < 9; i++)
            put_field(p + 6 + 4 * i, tf[i].ie, tf[i].len, 0);
    }
    set_close(m);
    return true;
}

bool wp_ipfix_msg_add_types(struct wp_ipfix_msg *m)
{
    if (m->pen == 0)
        return true;
    size_t need = 0;
    for (unsigned i = 0; i < WP_IPFIX_ENT_COUNT; i++)
        need += 4 + 2 + 1 + 1 + 2 + 8 + 8 + 1 + strlen(ent_fields[i].name) + 1 +
                strlen(ent_fields[i].descr);
    size_t extra = m->set_id == WP_IPFIX_TID_TYPES ? 0 : WP_IPFIX_SET_HDR;
    if (m->len + extra + need > m->cap)
        return false;
    for (unsigned i = 0; i < WP_IPFIX_ENT_COUNT; i++) {
        const struct ent *e = &ent_fields[i];
        size_t nl = strlen(e->name), dl = strlen(e->descr);
        uint8_t *p = set_reserve(m, WP_IPFIX_TID_TYPES, 28 + nl + dl);
        put32(p, m->pen);
        put16(p + 4, (uint16_t)(WP_IPFIX_ENT_BASE + 1 + i));
        put8(p + 6, e->type);
        put8(p + 7, e->semantics);
        put16(p + 8, 0);
        put64(p + 10, 0);
        put64(p + 18, 0);
        put8(p + 26, (uint8_t)nl);
        memcpy(p + 27, e->name, nl);
        put8(p + 27 + nl, (uint8_t)dl);
        memcpy(p + 28 + nl, e->descr, dl);
        m->nrec++;
    }
    return true;
}

/* Octets of a short variable-length string: at most 254, so the one-octet
 * length form always applies. */
static size_t str_len(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n > 254 ? 254 : n;
}

static void put_app_id(uint8_t *p, uint16_t port)
{
    put8(p, APP_ENGINE_IANA_L4);
    put16(p + 1, port);
}

bool wp_ipfix_msg_add_app(struct wp_ipfix_msg *m, uint16_t port, const char *name)
{
    size_t n = str_len(name);
    uint8_t *p = set_reserve(m, WP_IPFIX_TID_APPS, 3 + 1 + n);
    if (p == NULL)
        return false;
    put_app_id(p, port);
    put8(p + 3, (uint8_t)n);
    if (n != 0)
        memcpy(p + 4, name, n);
    m->nrec++;
    return true;
}

bool wp_ipfix_msg_add_rec(struct wp_ipfix_msg *m, const struct wp_ipfix_rec *r)
{
    size_t alen = r->family == 6 ? 16 : 4;
    size_t hn = str_len(r->http_host);
    size_t need = 8 + 8 + 2 * alen + 2 + 2 + 1 + 1 + 1 + 2 + 6 * 8 + 2 + 3 + 1 + hn;
    /* the enterprise strings in record order: IDs 101, 104, 105, 106, 107 */
    const char *es[5] = {r->server_name, r->apple_service, r->rule, r->outcome, r->process};
    size_t el[5] = {0, 0, 0, 0, 0};
    if (m->pen != 0) {
        need += 5 + 2 + 4;
        for (unsigned i = 0; i < 5; i++) {
            el[i] = str_len(es[i]);
            need += el[i];
        }
    }
    bool icmp = r->proto == 1 || r->proto == 58;
    uint16_t tid = r->family == 6 ? (icmp ? WP_IPFIX_TID_ICMP6 : WP_IPFIX_TID_V6)
                                  : (icmp ? WP_IPFIX_TID_ICMP4 : WP_IPFIX_TID_V4);
    uint8_t *p = set_reserve(m, tid, need);
    if (p == NULL)
        return false;
    put64(p, r->start_ms);
    put64(p + 8, r->end_ms);
    p += 16;
    memcpy(p, r->src, alen);
    memcpy(p + alen, r->dst, alen);
    p += 2 * alen;
    put16(p, r->sport);
    put16(p + 2, icmp ? r->icmp_type_code : r->dport);
    put8(p + 4, r->proto);
    put8(p + 5, 1); /* biflowDirection: initiator (source is the client) */
    put8(p + 6, r->end_reason);
    put16(p + 7, r->vlan);
    p += 9;
    for (unsigned d = 0; d < 2; d++) {
        put64(p, r->pkts[d]);
        put64(p + 8, r->ip_octets[d]);
        put64(p + 16, r->l2_octets[d]);
        p += 24;
    }
    put8(p, r->tcp_flags[0]);
    put8(p + 1, r->tcp_flags[1]);
    p += 2;
    put_app_id(p, r->app_port);
    put8(p + 3, (uint8_t)hn);
    if (hn != 0)
        memcpy(p + 4, r->http_host, hn);
    p += 4 + hn;
    if (m->pen != 0) {
        for (unsigned i = 0; i < 5; i++) {
            put8(p, (uint8_t)el[i]);
            if (el[i] != 0)
                memcpy(p + 1, es[i], el[i]);
            p += 1 + el[i];
            if (i == 0) { /* after the server name: name source, Apple flag */
                put8(p, r->name_source);
                put8(p + 1, r->apple);
                p += 2;
            }
        }
        put32(p, r->pid);
    }
    m->nrec++;
    return true;
}

size_t wp_ipfix_msg_end(struct wp_ipfix *x, struct wp_ipfix_msg *m)
{
    set_close(m);
    put16(m->buf + 2, (uint16_t)m->len);
    x->seq += m->nrec; /* modulo 2^32 */
    return m->len;
}
