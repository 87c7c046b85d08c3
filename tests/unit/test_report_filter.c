/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests for the Wireshark display filters of port rows
 *
 * Each expected filter was worked out by hand from the flows of a small
 * report, in Wireshark's display filter syntax (docs/wireshark.md): the
 * packets it selects are exactly the row's packets, or the note says what
 * differs. */

#include <stdio.h>
#include <string.h>

#include "wp/decode.h"
#include "wp/report_filter.h"
#include "tap.h"

static void addr4(uint8_t *a, unsigned x0, unsigned x1, unsigned x2, unsigned x3)
{
    memset(a, 0, 16);
    a[0] = (uint8_t)x0;
    a[1] = (uint8_t)x1;
    a[2] = (uint8_t)x2;
    a[3] = (uint8_t)x3;
}

static void addr6(uint8_t *a, unsigned last)
{
    static const uint8_t pfx[4] = {0x20, 0x01, 0x0d, 0xb8}; /* 2001:db8::/32 */
    memset(a, 0, 16);
    memcpy(a, pfx, 4);
    a[15] = (uint8_t)last;
}

/* A flow: endpoint 0 the client, endpoint 1 the server. */
static void flow(struct wp_flow *f, uint8_t family, uint8_t proto, const uint8_t *cli,
                 uint16_t cport, const uint8_t *srv, uint16_t sport)
{
    memset(f, 0, sizeof(*f));
    f->key.family = family;
    f->key.proto = proto;
    memcpy(f->key.addr[0], cli, 16);
    memcpy(f->key.addr[1], srv, 16);
    f->key.port[0] = cport;
    f->key.port[1] = sport;
    f->key.vlan = f->key.vlan_inner = WP_VLAN_NONE;
    f->server = 1;
    f->pkts[0] = f->pkts[1] = 1;
}

static void row(struct wp_port_row *p, uint8_t proto, bool has_port, uint16_t port)
{
    memset(p, 0, sizeof(*p));
    p->key.proto = proto;
    p->key.has_port = has_port;
    p->key.port = port;
    p->to_service.packets = 1;
}

/* The filter of row `p` (n bytes of buffer), compared with `want` and the
 * expected note (NULL: exact). */
static void check(const struct wp_report *r, const struct wp_filter_index *ix,
                  const struct wp_port_row *p, size_t n, const char *want, const char *want_note)
{
    char buf[WP_FILTER_MAX];
    const char *note = "unset";
    wp_report_port_filter(buf, n, r, ix, p, &note);
    if (!TAP_OK(strcmp(buf, want) == 0, "filter of %u/%u", p->key.proto, p->key.port))
        printf("#   got      %s\n#   expected %s\n", buf, want);
    bool same = (note == NULL && want_note == NULL) ||
                (note != NULL && want_note != NULL && strcmp(note, want_note) == 0);
    if (!TAP_OK(same, "note of %u/%u", p->key.proto, p->key.port))
        printf("#   got      %s\n#   expected %s\n", note ? note : "(none)",
               want_note ? want_note : "(none)");
}

/* Servers named when a server of the port is also a client from it; ICMP
 * rows exclude the quoted headers of ICMP errors. */
static void test_servers_and_icmp(void)
{
    uint8_t c1[16], c2[16], dns[16], apple[16], other[16];
    addr4(c1, 10, 0, 0, 1);
    addr4(c2, 10, 0, 0, 2);
    addr4(dns, 10, 0, 0, 53);
    addr4(apple, 17, 253, 1, 1);
    addr4(other, 10, 0, 0, 9);
    struct wp_flow f[4];
    flow(&f[0], 4, 6, c1, 50000, apple, 443);
    flow(&f[1], 4, 17, c1, 40000, dns, 53);
    flow(&f[2], 4, 17, dns, 53, other, 5000); /* the DNS server is a client from port 53 */
    flow(&f[3], 4, 17, c2, 53, dns, 53);      /* port 53 on both sides: row 53 anyway */
    struct wp_flow *fl[4] = {&f[0], &f[1], &f[2], &f[3]};
    struct wp_port_row p[4];
    row(&p[0], 6, true, 443);
    row(&p[1], 17, true, 53);
    row(&p[2], 17, true, 5000);
    row(&p[3], 1, false, 0);
    struct wp_port_row *pr[4] = {&p[0], &p[1], &p[2], &p[3]};
    struct wp_totals t;
    memset(&t, 0, sizeof(t));
    struct wp_report r;
    memset(&r, 0, sizeof(r));
    r.totals = &t;
    r.flows = fl;
    r.n_flows = 4;
    r.ports = pr;
    r.n_ports = 4;
    struct wp_filter_index *ix = wp_report_filter_index(&r);
    TAP_OK(ix != NULL, "index built");

    /* No flow uses 443 as a client port: the port alone. */
    check(&r, ix, &p[0], WP_FILTER_MAX, "tcp.port == 443 && !icmp", NULL);
    /* 10.0.0.53 serves 53 and is a client from 53 to 10.0.0.9:5000: name the
     * server, exclude that conversation. 10.0.0.2:53 -> 10.0.0.53:53 is in
     * the row (its server port is 53) and stays selected. */
    check(&r, ix, &p[1], WP_FILTER_MAX,
          "((udp.srcport == 53 && (ip.src == 10.0.0.53)) || "
          "(udp.dstport == 53 && (ip.dst == 10.0.0.53))) && "
          "!(ip.addr == 10.0.0.9 && ip.addr == 10.0.0.53 && udp.port == 5000 && udp.port == 53) "
          "&& !icmp",
          NULL);
    check(&r, ix, &p[2], WP_FILTER_MAX, "udp.port == 5000 && !icmp", NULL);
    check(&r, ix, &p[3], WP_FILTER_MAX, "icmp", NULL);
    /* Cut by a snap length: Wireshark has no `icmp` field for an ICMP
     * header of 4 or 5 captured bytes (tshark 4.0), the frame's protocols
     * still end in icmp. */
    t.snapped = 1;
    check(&r, ix, &p[3], WP_FILTER_MAX, "icmp || frame.protocols matches \":icmp$\"", NULL);
    t.snapped = 0;

    /* Too small for the servers: the port alone, said in the note. */
    check(&r, ix, &p[1], 32, "udp.port == 53 && !icmp",
          "also selects the flows that use the port as a client port "
          "(too many servers to list)");
    /* Too small even for the exclusions: cut short. */
    check(&r, ix, &p[1], 16, "udp.port == 53", "the filter did not fit and is cut short");
    /* Without the index: every use of the port. */
    check(&r, NULL, &p[0], WP_FILTER_MAX, "tcp.port == 443 && !icmp",
          "out of memory for the flows' index: selects every use of the port");
    /* Evicted flows: the servers are not all known. */
    t.flows_evicted = 1;
    check(&r, ix, &p[0], WP_FILTER_MAX, "tcp.port == 443 && !icmp",
          "flows were evicted: which addresses use the port as a client is not known");
    wp_report_filter_index_free(ix);
}

/* IPv6 servers: ipv6 fields, and only an ICMPv6 row excludes. */
static void test_ipv6(void)
{
    uint8_t a1[16], a2[16], a3[16];
    addr6(a1, 1);
    addr6(a2, 2);
    addr6(a3, 3);
    struct wp_flow f[2];
    flow(&f[0], 6, 6, a1, 50000, a2, 443);
    flow(&f[1], 6, 6, a2, 443, a3, 8080);
    struct wp_flow *fl[2] = {&f[0], &f[1]};
    struct wp_port_row p[3];
    row(&p[0], 6, true, 443);
    row(&p[1], 1, false, 0);
    row(&p[2], 58, false, 0);
    struct wp_port_row *pr[3] = {&p[0], &p[1], &p[2]};
    struct wp_totals t;
    memset(&t, 0, sizeof(t));
    struct wp_report r;
    memset(&r, 0, sizeof(r));
    r.totals = &t;
    r.flows = fl;
    r.n_flows = 2;
    r.ports = pr;
    r.n_ports = 3;
    struct wp_filter_index *ix = wp_report_filter_index(&r);
    check(&r, ix, &p[0], WP_FILTER_MAX,
          "((tcp.srcport == 443 && (ipv6.src == 2001:db8::2)) || "
          "(tcp.dstport == 443 && (ipv6.dst == 2001:db8::2))) && "
          "!(ipv6.addr == 2001:db8::3 && ipv6.addr == 2001:db8::2 && tcp.port == 8080 && "
          "tcp.port == 443) && !icmpv6",
          NULL);
    check(&r, ix, &p[2], WP_FILTER_MAX, "icmpv6", NULL);
    wp_report_filter_index_free(ix);
}

/* Fragments: rows without a port select later fragments by protocol. */
static void test_fragments(void)
{
    struct wp_port_row p[2];
    row(&p[0], 17, false, 0);
    row(&p[1], 17, true, 53);
    struct wp_port_row *pr[2] = {&p[0], &p[1]};
    struct wp_totals t;
    memset(&t, 0, sizeof(t));
    t.fragments = 3;
    t.fragments_unattributed = 1;
    struct wp_report r;
    memset(&r, 0, sizeof(r));
    r.totals = &t;
    r.ports = pr;
    r.n_ports = 2;
    struct wp_filter_index *ix = wp_report_filter_index(&r);
    check(&r, ix, &p[0], WP_FILTER_MAX,
          "(udp && (!udp.checksum || (udp.length < 8 && !(ipv6 && udp.length == 0)))) || "
          "(ip.proto == 17 && ip.frag_offset > 0) || "
          "(ipv6.fraghdr.nxt == 17 && ipv6.fraghdr.offset > 0)",
          "also selects later fragments counted in port rows");
    check(&r, ix, &p[1], WP_FILTER_MAX, "udp.port == 53",
          "later fragments counted in the row have no ports and are not selected");
    wp_report_filter_index_free(ix);
}

/* Tunnels: frames with two IP headers belong to their inner rows. */
static void test_tunnels(void)
{
    struct wp_tunnel_row tr[2];
    memset(tr, 0, sizeof(tr));
    tr[0].family = 4;
    tr[0].proto = 47; /* GRE */
    addr4(tr[0].addr[0], 192, 0, 2, 1);
    addr4(tr[0].addr[1], 192, 0, 2, 2);
    tr[1].family = 4;
    tr[1].proto = 17; /* VXLAN */
    tr[1].port[0] = 50000;
    tr[1].port[1] = 4789;
    struct wp_tunnel_row *tp[2] = {&tr[0], &tr[1]};
    struct wp_port_row p[3];
    row(&p[0], 47, false, 0);
    row(&p[1], 17, true, 4789);
    row(&p[2], 17, true, 53);
    struct wp_port_row *pr[3] = {&p[0], &p[1], &p[2]};
    struct wp_totals t;
    memset(&t, 0, sizeof(t));
    struct wp_report r;
    memset(&r, 0, sizeof(r));
    r.totals = &t;
    r.ports = pr;
    r.n_ports = 3;
    r.tunnels = tp;
    r.n_tunnels = 2;
    struct wp_filter_index *ix = wp_report_filter_index(&r);
    check(&r, ix, &p[0], WP_FILTER_MAX,
          "(ip.proto == 47 || ipv6.nxt == 47 || ipv6.hopopts.nxt == 47 || ipv6.routing.nxt == 47 "
          "|| ipv6.fraghdr.nxt == 47 || ipv6.dstopts.nxt == 47) && !(ip.dst#2 || ipv6.dst#2 || "
          "(ip.dst && ipv6.dst))",
          NULL);
    check(&r, ix, &p[1], WP_FILTER_MAX,
          "udp.port == 4789 && !(ip.dst#2 || ipv6.dst#2 || (ip.dst && ipv6.dst))", NULL);
    check(&r, ix, &p[2], WP_FILTER_MAX, "udp.port == 53", NULL);
    /* The same answers without the index (the slow path). */
    check(&r, NULL, &p[0], WP_FILTER_MAX,
          "(ip.proto == 47 || ipv6.nxt == 47 || ipv6.hopopts.nxt == 47 || ipv6.routing.nxt == 47 "
          "|| ipv6.fraghdr.nxt == 47 || ipv6.dstopts.nxt == 47) && !(ip.dst#2 || ipv6.dst#2 || "
          "(ip.dst && ipv6.dst))",
          NULL);
    t.malformed[WP_MAL_tunnel_too_deep] = 1;
    check(&r, ix, &p[1], WP_FILTER_MAX,
          "udp.port == 4789 && !(ip.dst#2 || ipv6.dst#2 || (ip.dst && ipv6.dst))",
          "tunnels nested beyond the decapsulation limit are not selected");
    wp_report_filter_index_free(ix);
}

/* Rows of IPv6 chains: the protocol after extension headers is named by
 * the last one; a row named after an extension header counts the chains
 * that stop in it (cut), which Wireshark's dissection ends with. */
static void test_ipv6_ext_rows(void)
{
    struct wp_port_row p[2];
    row(&p[0], 43, false, 0);
    row(&p[1], 59, false, 0);
    struct wp_port_row *pr[2] = {&p[0], &p[1]};
    struct wp_totals t;
    memset(&t, 0, sizeof(t));
    struct wp_report r;
    memset(&r, 0, sizeof(r));
    r.totals = &t;
    r.ports = pr;
    r.n_ports = 2;
    struct wp_filter_index *ix = wp_report_filter_index(&r);
    check(&r, ix, &p[0], WP_FILTER_MAX,
          "ip.proto == 43 || frame.protocols matches \":ipv6[.]routing$\"", NULL);
    check(&r, ix, &p[1], WP_FILTER_MAX,
          "ip.proto == 59 || ipv6.nxt == 59 || ipv6.hopopts.nxt == 59 || "
          "ipv6.routing.nxt == 59 || ipv6.fraghdr.nxt == 59 || ipv6.dstopts.nxt == 59",
          NULL);
    wp_report_filter_index_free(ix);
}

/* Cut and malformed transport headers; UDP-Lite. */
static void test_transport_damage(void)
{
    struct wp_port_row p[4];
    row(&p[0], 6, true, 80);
    row(&p[1], 6, false, 0);
    row(&p[2], 136, true, 9);
    row(&p[3], 17, true, 53);
    struct wp_port_row *pr[4] = {&p[0], &p[1], &p[2], &p[3]};
    struct wp_totals t;
    memset(&t, 0, sizeof(t));
    t.truncated_at[WP_TRUNC_tcp] = 1;
    t.malformed[WP_MAL_tcp_bad_data_offset] = 1;
    t.malformed[WP_MAL_udp_bad_length] = 1;
    struct wp_report r;
    memset(&r, 0, sizeof(r));
    r.totals = &t;
    r.ports = pr;
    r.n_ports = 4;
    struct wp_filter_index *ix = wp_report_filter_index(&r);
    check(&r, ix, &p[0], WP_FILTER_MAX, "tcp.port == 80 && tcp.len && tcp.hdr_len >= 20",
          "also selects packets whose transport header the snaplen cut "
          "(counted without a port)");
    check(&r, ix, &p[1], WP_FILTER_MAX, "(tcp && (!tcp.len || tcp.hdr_len < 20))",
          "TCP headers cut by the snaplen are not all selected");
    check(&r, ix, &p[2], WP_FILTER_MAX,
          "udplite && udp.port == 9 && !(udp.length < 8 && !(ipv6 && udp.length == 0))", NULL);
    check(&r, ix, &p[3], WP_FILTER_MAX,
          "udp.port == 53 && !(udp.length < 8 && !(ipv6 && udp.length == 0))", NULL);
    wp_report_filter_index_free(ix);
}

int main(void)
{
    test_servers_and_icmp();
    test_ipv6_ext_rows();
    test_ipv6();
    test_fragments();
    test_tunnels();
    test_transport_damage();
    return tap_done();
}
