/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: Wireshark display filters for the port rows of a report */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/report_filter.h"
#include "wp/proto.h"
#include "wp/util.h"

/* ---- Wireshark display filters (--filters; docs/wireshark.md) ---------------
 *
 * A row's filter selects exactly the row's packets when that can be said in
 * Wireshark's filter language (4.0 or later, for the layer operator "#"):
 *
 *   - a port row is "T.port == P" when no flow uses P as a client port;
 *     otherwise the row's servers are named: "(T.srcport == P && (ip.src ==
 *     S || ...)) || (T.dstport == P && (ip.dst == S || ...))", excluding the
 *     flows in which a server of P is a client from port P;
 *   - "&& !icmp" ("&& !icmpv6") when the capture has ICMP: an ICMP error
 *     quotes the headers of the packet it is about, and Wireshark's fields
 *     see the quoted ports, while whichports counts the frame under ICMP;
 *   - "&& !(ip.dst#2 || ipv6.dst#2 || (ip.dst && ipv6.dst))" when a tunnel
 *     has this transport and port on its outer header: the tunnelled frames
 *     belong to the rows of their inner packets; those whose inner IP
 *     header was cut before its destination stay here;
 *   - rows without a port select their later fragments by protocol; on a
 *     cut capture the ICMP row also selects the frames whose dissection
 *     ends in a short ICMP header; a row of an IPv6 extension header's
 *     number selects the chains that end in that header.
 *
 * Otherwise the filter is the nearest one and *note says what differs:
 * later fragments (no ports), evicted flows (servers unknown), too many
 * servers to list, TCP headers cut by the snaplen. */

struct fx_ent {
    uint8_t proto, port_hi, port_lo, role; /* role 0: server endpoint, 1: client */
    uint8_t family;
    uint8_t addr[16];
    const struct wp_flow *f;
};

struct wp_filter_index {
    struct fx_ent *v; /* two per flow with ports, sorted by fx_cmp */
    size_t n;
    uint32_t *tun; /* outer (proto << 16 | port) of the tunnels, sorted */
    size_t n_tun;
    uint8_t tun_proto[32]; /* bit set: outer protocols of the tunnels */
    bool icmp, icmpv6;     /* the report has an ICMP, an ICMPv6 row */
};

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int fx_cmp(const void *a, const void *b)
{
    const struct fx_ent *x = a, *y = b;
    int c = memcmp(x, y, 5); /* proto, port (big endian), role */
    if (c != 0)
        return c;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return memcmp(x->addr, y->addr, 16);
}

struct wp_filter_index *wp_report_filter_index(const struct wp_report *r)
{
    struct wp_filter_index *ix = calloc(1, sizeof(*ix));
    if (ix == NULL)
        return NULL;
    if (r->n_flows > 0) {
        ix->v = calloc(r->n_flows * 2, sizeof(*ix->v));
        if (ix->v == NULL) {
            free(ix);
            return NULL;
        }
    }
    for (size_t i = 0; i < r->n_flows; i++) {
        const struct wp_flow *f = r->flows[i];
        if (!wp_proto_has_ports(f->key.proto))
            continue;
        for (unsigned side = 0; side < 2; side++) {
            struct fx_ent *e = &ix->v[ix->n++];
            e->proto = f->key.proto;
            e->port_hi = (uint8_t)(f->key.port[side] >> 8);
            e->port_lo = (uint8_t)(f->key.port[side] & 0xff);
            e->role = side == f->server ? 0 : 1;
            e->family = f->key.family;
            memcpy(e->addr, f->key.addr[side], 16);
            e->f = f;
        }
    }
    if (ix->n > 1)
        qsort(ix->v, ix->n, sizeof(*ix->v), fx_cmp);
    if (r->n_tunnels > 0) {
        ix->tun = calloc(r->n_tunnels * 2, sizeof(*ix->tun));
        if (ix->tun == NULL) {
            wp_report_filter_index_free(ix);
            return NULL;
        }
    }
    for (size_t i = 0; i < r->n_tunnels; i++) {
        const struct wp_tunnel_row *t = r->tunnels[i];
        if (t->family == 0)
            continue;
        ix->tun_proto[t->proto / 8] |= (uint8_t)(1u << (t->proto % 8));
        if (wp_proto_has_ports(t->proto))
            for (int k = 0; k < 2; k++)
                ix->tun[ix->n_tun++] = (uint32_t)t->proto << 16 | t->port[k];
    }
    if (ix->n_tun > 1)
        qsort(ix->tun, ix->n_tun, sizeof(*ix->tun), u32_cmp);
    for (size_t i = 0; i < r->n_ports; i++) {
        ix->icmp = ix->icmp || r->ports[i]->key.proto == WP_IPPROTO_ICMP;
        ix->icmpv6 = ix->icmpv6 || r->ports[i]->key.proto == WP_IPPROTO_ICMPV6;
    }
    return ix;
}

void wp_report_filter_index_free(struct wp_filter_index *ix)
{
    if (ix != NULL) {
        free(ix->v);
        free(ix->tun);
        free(ix);
    }
}

/* A bounded string builder: `over` records that something did not fit. */
struct sbuf {
    char *p;
    size_t n, len;
    bool over;
};

WP_PRINTF(2, 3) static void sb_add(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->len, b->n - b->len, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= b->n - b->len) {
        b->over = true;
        b->p[b->len] = '\0';
        return;
    }
    b->len += (size_t)k;
}

/* "ip.src == a || ipv6.src == b ..." for the distinct addresses of v[0..m). */
static void sb_addrs(struct sbuf *b, const struct fx_ent *v, size_t m, const char *dir)
{
    char a[64];
    const struct fx_ent *prev = NULL;
    bool first = true;
    for (size_t i = 0; i < m; i++) {
        if (prev != NULL && prev->family == v[i].family && memcmp(prev->addr, v[i].addr, 16) == 0)
            continue;
        prev = &v[i];
        sb_add(b, "%s%s.%s == %s", first ? "" : " || ", v[i].family == 4 ? "ip" : "ipv6", dir,
               wp_fmt_addr(a, sizeof(a), v[i].family, v[i].addr));
        first = false;
    }
}

static bool fx_has_addr(const struct fx_ent *v, size_t m, uint8_t family, const uint8_t *addr)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = v[mid].family != family ? (v[mid].family < family ? -1 : 1)
                                        : memcmp(v[mid].addr, addr, 16);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* The index entries of (proto, port): servers first, then clients. */
static void fx_range(const struct wp_filter_index *ix, uint8_t proto, uint16_t port,
                     const struct fx_ent **srv, size_t *n_srv, const struct fx_ent **cli,
                     size_t *n_cli)
{
    *srv = *cli = NULL;
    *n_srv = *n_cli = 0;
    if (ix == NULL || ix->n == 0)
        return;
    struct fx_ent key;
    memset(&key, 0, sizeof(key));
    key.proto = proto;
    key.port_hi = (uint8_t)(port >> 8);
    key.port_lo = (uint8_t)(port & 0xff);
    size_t lo = 0, hi = ix->n;
    while (lo < hi) { /* first entry >= (proto, port, role 0) */
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(&ix->v[mid], &key, 4) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t i = lo;
    while (i < ix->n && memcmp(&ix->v[i], &key, 3) == 0 && ix->v[i].role == 0)
        i++;
    *srv = &ix->v[lo];
    *n_srv = i - lo;
    size_t j = i;
    while (j < ix->n && memcmp(&ix->v[j], &key, 3) == 0)
        j++;
    *cli = &ix->v[i];
    *n_cli = j - i;
}

/* True when a tunnel's outer header has this transport (and port). */
static bool tunnel_outer(const struct wp_report *r, const struct wp_filter_index *ix, uint8_t proto,
                         bool has_port, uint16_t port)
{
    if (ix != NULL) {
        if (!(ix->tun_proto[proto / 8] & (1u << (proto % 8))))
            return false;
        if (!has_port)
            return true;
        uint32_t key = (uint32_t)proto << 16 | port;
        return bsearch(&key, ix->tun, ix->n_tun, sizeof(*ix->tun), u32_cmp) != NULL;
    }
    for (size_t i = 0; i < r->n_tunnels; i++) {
        const struct wp_tunnel_row *t = r->tunnels[i];
        if (t->family == 0 || t->proto != proto)
            continue;
        if (!has_port || t->port[0] == port || t->port[1] == port)
            return true;
    }
    return false;
}

static bool has_row(const struct wp_report *r, const struct wp_filter_index *ix, uint8_t proto)
{
    if (ix != NULL)
        return proto == WP_IPPROTO_ICMP ? ix->icmp : ix->icmpv6;
    for (size_t i = 0; i < r->n_ports; i++)
        if (r->ports[i]->key.proto == proto)
            return true;
    return false;
}

/* The port clause of a port row; NULL note when exact. */
static void port_clause(struct sbuf *b, const struct wp_filter_index *ix,
                        const struct wp_port_row *row, const char *t, const char **note)
{
    unsigned p = row->key.port;
    const struct fx_ent *srv, *cli;
    size_t n_srv, n_cli;
    fx_range(ix, row->key.proto, row->key.port, &srv, &n_srv, &cli, &n_cli);
    if (ix == NULL)
        *note = "out of memory for the flows' index: selects every use of the port";
    /* A client port P in a flow whose server port is P too (mDNS, NTP
     * symmetric mode...) is in this row anyway. */
    size_t n_other = 0;
    for (size_t i = 0; i < n_cli; i++)
        if (wp_flow_server_port(cli[i].f) != p)
            n_other++;
    if (n_other == 0 || n_srv == 0) {
        sb_add(b, "%s.port == %u", t, p);
        return;
    }
    /* Flows of other rows in which a server of this row is a client from
     * port P would be selected by the server addresses: exclude them. */
    size_t start = b->len;
    sb_add(b, "((%s.srcport == %u && (", t, p);
    sb_addrs(b, srv, n_srv, "src");
    sb_add(b, ")) || (%s.dstport == %u && (", t, p);
    sb_addrs(b, srv, n_srv, "dst");
    sb_add(b, ")))");
    unsigned excluded = 0;
    for (size_t i = 0; i < n_cli && !b->over; i++) {
        const struct wp_flow *f = cli[i].f;
        if (wp_flow_server_port(f) == p || !fx_has_addr(srv, n_srv, cli[i].family, cli[i].addr))
            continue;
        char a[64], c[64];
        const char *ipf = f->key.family == 4 ? "ip" : "ipv6";
        unsigned s = f->server;
        sb_add(b, " && !(%s.addr == %s && %s.addr == %s && %s.port == %u && %s.port == %u)", ipf,
               wp_fmt_addr(a, sizeof(a), f->key.family, f->key.addr[s]), ipf,
               wp_fmt_addr(c, sizeof(c), f->key.family, f->key.addr[1u - s]), t, f->key.port[s], t,
               f->key.port[1u - s]);
        excluded++;
    }
    if (b->over) {
        b->over = false;
        b->len = start;
        b->p[start] = '\0';
        sb_add(b, "%s.port == %u", t, p);
        *note = "also selects the flows that use the port as a client port "
                "(too many servers to list)";
    }
}

/* Wireshark's protocol name, as a regular expression for frame.protocols,
 * of the IPv6 extension header `proto`, or NULL. */
static const char *ipv6_ext_proto_name(uint8_t proto)
{
    switch (proto) {
    case WP_IPPROTO_HOPOPTS:
        return "ipv6[.]hopopts";
    case WP_IPPROTO_ROUTING:
        return "ipv6[.]routing";
    case WP_IPPROTO_FRAGMENT:
        return "ipv6[.]fraghdr";
    case WP_IPPROTO_DSTOPTS:
        return "ipv6[.]dstopts";
    default:
        return NULL;
    }
}

char *wp_report_port_filter(char *buf, size_t n, const struct wp_report *r,
                            const struct wp_filter_index *ix, const struct wp_port_row *row,
                            const char **note)
{
    struct sbuf b = {buf, n, 0, false};
    const struct wp_totals *tt = r->totals;
    uint8_t proto = row->key.proto;
    bool frags = tt != NULL && tt->fragments > 0;
    bool frags_attributed = tt != NULL && tt->fragments > tt->fragments_unattributed;
    *note = NULL;
    if (n == 0)
        return buf;
    buf[0] = '\0';

    /* The main clause; `alt` when it is an alternative (needs parentheses). */
    char t[16];
    bool alt = false;
    if (row->key.has_port) {
        const char *tn =
            proto == WP_IPPROTO_UDPLITE ? "udp" : wp_fmt_transport(t, sizeof(t), proto);
        if (proto == WP_IPPROTO_UDPLITE)
            sb_add(&b, "udplite && ");
        port_clause(&b, ix, row, tn, note);
        if (tt != NULL && tt->flows_evicted > 0)
            *note = "flows were evicted: which addresses use the port as a client is not known";
        if (tt != NULL && *note == NULL &&
            ((proto == WP_IPPROTO_TCP &&
              tt->truncated_at[WP_TRUNC_tcp] > tt->captured_short[WP_TRUNC_tcp]) ||
             (proto != WP_IPPROTO_TCP && tt->truncated_at[WP_TRUNC_udp] > 0)))
            *note = "also selects packets whose transport header the snaplen cut "
                    "(counted without a port)";
        if (frags_attributed && *note == NULL)
            *note = "later fragments counted in the row have no ports and are not selected";
    } else {
        switch (proto) {
        case WP_IPPROTO_ICMP:
            /* Wireshark's ICMP dissector stops before its `icmp` field
             * when fewer than 6 bytes of the header were captured; the
             * frame still ends in "icmp" (whichports reads 4) */
            if (tt != NULL && tt->snapped > 0) {
                sb_add(&b, "icmp || frame.protocols matches \":icmp$\"");
                alt = true;
            } else {
                sb_add(&b, "icmp");
            }
            break;
        case WP_IPPROTO_ICMPV6:
            sb_add(&b, "icmpv6");
            break;
        case WP_IPPROTO_TCP:
            sb_add(&b, "(tcp && (!tcp.len || tcp.hdr_len < 20))");
            if (tt != NULL && tt->truncated_at[WP_TRUNC_tcp] > tt->captured_short[WP_TRUNC_tcp])
                *note = "TCP headers cut by the snaplen are not all selected";
            break;
        case WP_IPPROTO_UDP:
            sb_add(&b,
                   "(udp && (!udp.checksum || (udp.length < 8 && !(ipv6 && udp.length == 0))))");
            if (tt != NULL && tt->truncated_at[WP_TRUNC_udp] > 0)
                *note = "UDP headers cut by the snaplen are not all selected";
            break;
        default: {
            /* IPv6: the chain of extension headers stops at the protocol
             * (each one names the next); a row named after an extension
             * header counts the chains that stop in it, cut or too long,
             * and Wireshark's dissection ends there too */
            const char *ext = ipv6_ext_proto_name(proto);
            if (ext != NULL)
                sb_add(&b, "ip.proto == %u || frame.protocols matches \":%s$\"", proto, ext);
            else
                sb_add(&b,
                       "ip.proto == %u || ipv6.nxt == %u || ipv6.hopopts.nxt == %u || "
                       "ipv6.routing.nxt == %u || ipv6.fraghdr.nxt == %u || "
                       "ipv6.dstopts.nxt == %u",
                       proto, proto, proto, proto, proto, proto);
            alt = true;
            break;
        }
        }
        if (frags) {
            if (proto != WP_IPPROTO_ICMPV6)
                sb_add(&b, " || (ip.proto == %u && ip.frag_offset > 0)", proto);
            if (proto != WP_IPPROTO_ICMP)
                sb_add(&b, " || (ipv6.fraghdr.nxt == %u && ipv6.fraghdr.offset > 0)", proto);
            alt = true;
            if (wp_proto_has_ports(proto) && frags_attributed && *note == NULL)
                *note = "also selects later fragments counted in port rows";
        }
        if (wp_proto_has_ports(proto) && tt != NULL && tt->flows_dropped > 0 && *note == NULL)
            *note = "packets of flows not stored (out of memory) are not selected";
    }

    /* Exclusions: ICMP errors quoting this transport (only the address
     * family of the row's servers matters), tunnelled frames. */
    bool v4 = true, v6 = true;
    if (row->key.has_port && ix != NULL) {
        const struct fx_ent *srv, *cli;
        size_t n_srv, n_cli;
        fx_range(ix, proto, row->key.port, &srv, &n_srv, &cli, &n_cli);
        if (n_srv > 0) { /* sorted by family: 4 first */
            v4 = srv[0].family == 4;
            v6 = srv[n_srv - 1].family == 6;
        }
    }
    const char *ex[4];
    size_t nex = 0;
    /* Malformed transport headers have no port for whichports (they are
     * unattributed), but Wireshark shows the ports it could read. */
    if (row->key.has_port && tt != NULL) {
        uint64_t bad = tt->malformed[WP_MAL_transport_exceeds_payload];
        if (proto == WP_IPPROTO_TCP &&
            bad + tt->malformed[WP_MAL_tcp_bad_data_offset] +
                    tt->malformed[WP_MAL_tcp_data_offset_exceeds_segment] >
                0)
            ex[nex++] = "tcp.len && tcp.hdr_len >= 20";
        else if ((proto == WP_IPPROTO_UDP || proto == WP_IPPROTO_UDPLITE) &&
                 bad + tt->malformed[WP_MAL_udp_bad_length] > 0)
            ex[nex++] = "!(udp.length < 8 && !(ipv6 && udp.length == 0))";
    }
    if (proto != WP_IPPROTO_ICMP && proto != WP_IPPROTO_ICMPV6 && v4 &&
        has_row(r, ix, WP_IPPROTO_ICMP))
        ex[nex++] = "!icmp";
    if (proto != WP_IPPROTO_ICMP && proto != WP_IPPROTO_ICMPV6 && v6 &&
        has_row(r, ix, WP_IPPROTO_ICMPV6))
        ex[nex++] = "!icmpv6";
    if (tunnel_outer(r, ix, proto, row->key.has_port, row->key.port)) {
        ex[nex++] = "!(ip.dst#2 || ipv6.dst#2 || (ip.dst && ipv6.dst))";
        if (tt != NULL && tt->malformed[WP_MAL_tunnel_too_deep] > 0 && *note == NULL)
            *note = "tunnels nested beyond the decapsulation limit are not selected";
    }
    if (nex > 0 && alt && !b.over) {
        if (b.len + 3 <= n) {
            memmove(buf + 1, buf, b.len + 1);
            buf[0] = '(';
            b.len++;
            sb_add(&b, ")");
        } else {
            b.over = true;
        }
    }
    for (size_t i = 0; i < nex; i++)
        sb_add(&b, " && %s", ex[i]);
    if (b.over)
        *note = "the filter did not fit and is cut short";
    return buf;
}
