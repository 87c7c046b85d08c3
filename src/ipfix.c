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

/* The biflow template; IPv6 replaces the address IEs 8/12 by 27/28. */
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
    {352, 8, 0},           /* layer2OctetDeltaCount */
    {2, 8, PEN_REVERSE},   /* reversePacketDeltaCount */
    {352, 8, PEN_REVERSE}, /* reverseLayer2OctetDeltaCount */
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

static size_t template_size(void)
{
    size_t n = 4;
    for (size_t i = 0; i < REC_NFIELDS; i++)
        n += rec_fields[i].pen ? 8 : 4;
    return n;
}

static size_t put_template(uint8_t *p, uint16_t tid, int family)
{
    size_t o = 0;
    put16(p, tid);
    put16(p + 2, (uint16_t)REC_NFIELDS);
    o = 4;
    for (size_t i = 0; i < REC_NFIELDS; i++) {
        struct field f = rec_fields[i];
        if (family == 6 && f.pen == 0 && (f.ie == 8 || f.ie == 12)) {
            f.ie = f.ie == 8 ? 27 : 28;
            f.len = 16;
        }
        o += put_field(p + o, f.ie, f.len, f.pen);
    }
    return o;
}

bool wp_ipfix_msg_add_templates(struct wp_ipfix_msg *m)
{
    size_t tsize = 2 * template_size();
    size_t osize = 6 + 4 + 4; /* header with scope count, 95, 96 */
    if (m->len + WP_IPFIX_SET_HDR + tsize + WP_IPFIX_SET_HDR + osize > m->cap)
        return false;
    uint8_t *p = set_reserve(m, SET_TEMPLATE, tsize);
    size_t o = put_template(p, WP_IPFIX_TID_V4, 4);
    put_template(p + o, WP_IPFIX_TID_V6, 6);
    set_close(m);
    p = set_reserve(m, SET_OPTIONS_TEMPLATE, osize);
    put16(p, WP_IPFIX_TID_APPS);
    put16(p + 2, 2); /* field count */
    put16(p + 4, 1); /* scope field count */
    put_field(p + 6, 95, 3, 0);
    put_field(p + 10, 96, VARLEN, 0);
    set_close(m);
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
    size_t need = 8 + 8 + 2 * alen + 2 + 2 + 1 + 1 + 1 + 2 + 4 * 8 + 3 + 1 + hn;
    uint16_t tid = r->family == 6 ? WP_IPFIX_TID_V6 : WP_IPFIX_TID_V4;
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
    put16(p + 2, r->dport);
    put8(p + 4, r->proto);
    put8(p + 5, 1); /* biflowDirection: initiator (source is the client) */
    put8(p + 6, r->end_reason);
    put16(p + 7, r->vlan);
    p += 9;
    put64(p, r->pkts[0]);
    put64(p + 8, r->l2_octets[0]);
    put64(p + 16, r->pkts[1]);
    put64(p + 24, r->l2_octets[1]);
    p += 32;
    put_app_id(p, r->app_port);
    put8(p + 3, (uint8_t)hn);
    if (hn != 0)
        memcpy(p + 4, r->http_host, hn);
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
