/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the aggregates (agg.c) built from hand-made flows
 *
 * Every flow below is written out field by field, and every expected number
 * is the sum of those fields worked out by hand in the comment next to the
 * check: the port row of a flow is its transport and its server's port, the
 * client's packets count "to the service", the server's "from the service". */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/agg.h"
#include "wp/hash.h"

/* A flow from endpoint `cli` to server endpoint `srv` (IPv4 a.b.c.d given
 * as 32-bit numbers). Endpoint 0 holds the client unless `srv_first`. */
static struct wp_flow mkflow(uint8_t proto, uint32_t cli, uint16_t cport, uint32_t srv,
                             uint16_t sport, bool srv_first, uint64_t cpk, uint64_t cby,
                             uint64_t spk, uint64_t sby)
{
    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    f.key.family = 4;
    f.key.proto = proto;
    unsigned s = srv_first ? 0 : 1, c = 1 - s;
    for (int i = 0; i < 4; i++) {
        f.key.addr[c][i] = (uint8_t)(cli >> (24 - 8 * i));
        f.key.addr[s][i] = (uint8_t)(srv >> (24 - 8 * i));
    }
    f.key.port[c] = cport;
    f.key.port[s] = sport;
    f.server = (uint8_t)s;
    f.pkts[c] = cpk;
    f.bytes[c] = cby;
    f.pkts[s] = spk;
    f.bytes[s] = sby;
    return f;
}

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static struct wp_port_key pkey(uint8_t proto, uint16_t port)
{
    struct wp_port_key k;
    memset(&k, 0, sizeof(k));
    k.proto = proto;
    k.has_port = wp_proto_has_ports(proto);
    k.port = k.has_port ? port : 0;
    return k;
}

static const struct wp_host_row *find_host(const struct wp_agg *a, uint32_t ip)
{
    size_t n;
    struct wp_host_row **v = wp_agg_hosts(a, &n);
    const struct wp_host_row *r = NULL;
    uint8_t want[16] = {0};
    for (int i = 0; i < 4; i++)
        want[i] = (uint8_t)(ip >> (24 - 8 * i));
    for (size_t i = 0; i < n; i++)
        if (v[i]->family == 4 && memcmp(v[i]->addr, want, 16) == 0)
            r = v[i];
    free(v);
    return r;
}

static bool host_has_port(const struct wp_host_row *h, struct wp_port_key k)
{
    for (uint16_t i = 0; i < h->n_ports; i++)
        if (memcmp(&h->ports[i], &k, sizeof(k)) == 0)
            return true;
    return false;
}

static uint64_t name_flows(const struct wp_port_row *r, uint32_t id)
{
    for (uint8_t i = 0; i < r->n_names; i++)
        if (r->names[i].id == id)
            return r->names[i].flows;
    return 0;
}

static void test_keys(void)
{
    TAP_OK(wp_proto_has_ports(6) && wp_proto_has_ports(17) && wp_proto_has_ports(33) &&
               wp_proto_has_ports(132) && wp_proto_has_ports(136),
           "TCP, UDP, DCCP, SCTP and UDP-Lite carry ports");
    TAP_OK(!wp_proto_has_ports(1) && !wp_proto_has_ports(58) && !wp_proto_has_ports(47) &&
               !wp_proto_has_ports(50),
           "ICMP, ICMPv6, GRE and ESP carry no ports");

    struct wp_flow f = mkflow(6, IP4(10, 0, 0, 1), 50000, IP4(17, 1, 2, 3), 443, false, 1, 1, 1, 1);
    struct wp_port_key k = wp_flow_port_key(&f);
    TAP_OK(k.proto == 6 && k.has_port == 1 && k.port == 443, "port key: tcp/443 (server is 1)");
    f = mkflow(17, IP4(10, 0, 0, 1), 40000, IP4(10, 0, 0, 53), 53, true, 1, 1, 1, 1);
    k = wp_flow_port_key(&f);
    TAP_OK(k.proto == 17 && k.has_port == 1 && k.port == 53, "port key: udp/53 (server is 0)");
    f = mkflow(1, IP4(10, 0, 0, 1), 0, IP4(10, 0, 0, 9), 0, false, 1, 1, 1, 1);
    f.key.port[0] = 8; /* an ICMP flow keeps no port in the row, whatever the key says */
    k = wp_flow_port_key(&f);
    TAP_OK(k.proto == 1 && k.has_port == 0 && k.port == 0, "port key: icmp has no port");
}

/* Five flows on three port rows, one unattributed packet, then peers. */
static void test_flows(void)
{
    struct wp_agg *a = wp_agg_new();
    TAP_OK(a != NULL, "new aggregate");

    /* F1: 10.0.0.1 -> 17.1.2.3:443, client 3 pk / 300 B, server 5 / 5000,
     * Apple server, name 7. */
    struct wp_flow f1 =
        mkflow(6, IP4(10, 0, 0, 1), 50000, IP4(17, 1, 2, 3), 443, false, 3, 300, 5, 5000);
    f1.bits = WP_FB_APPLE1;
    f1.name_id = 7;
    /* F2: 10.0.0.2 -> 17.1.2.3:443 with the server as endpoint 0: client
     * 2 / 200, server 4 / 4000, Apple server, no name. */
    struct wp_flow f2 =
        mkflow(6, IP4(10, 0, 0, 2), 50001, IP4(17, 1, 2, 3), 443, true, 2, 200, 4, 4000);
    f2.bits = WP_FB_APPLE0;
    /* F3: 10.0.0.1 -> 93.184.216.34:443, 1 / 60 each way, Apple only by
     * its name (client side not Apple), name 9. */
    struct wp_flow f3 =
        mkflow(6, IP4(10, 0, 0, 1), 50002, IP4(93, 184, 216, 34), 443, false, 1, 60, 1, 60);
    f3.bits = WP_FB_APPLE_NAME;
    f3.name_id = 9;
    /* F4: 10.0.0.3 -> 10.0.0.53:53 UDP, 1 / 80 and 1 / 120. */
    struct wp_flow f4 =
        mkflow(17, IP4(10, 0, 0, 3), 40000, IP4(10, 0, 0, 53), 53, true, 1, 80, 1, 120);
    /* F5: ICMP echo 10.0.0.1 -> 10.0.0.9, 2 / 196 each way. */
    struct wp_flow f5 = mkflow(1, IP4(10, 0, 0, 1), 0, IP4(10, 0, 0, 9), 0, false, 2, 196, 2, 196);
    TAP_EQ(wp_agg_add_flow(a, &f1), 0, "add F1");
    TAP_EQ(wp_agg_add_flow(a, &f2), 0, "add F2");
    TAP_EQ(wp_agg_add_flow(a, &f3), 0, "add F3");
    TAP_EQ(wp_agg_add_flow(a, &f4), 0, "add F4");
    TAP_EQ(wp_agg_add_flow(a, &f5), 0, "add F5");
    TAP_EQ(wp_agg_add_unattributed(a, 17, 100), 0, "add an unattributed UDP fragment");
    wp_agg_count_peers(a);

    size_t n;
    struct wp_port_row **rows = wp_agg_ports(a, &n);
    TAP_EQ(n, 4, "four port rows: tcp/443, udp/53, icmp, udp (no port)");
    free(rows);

    struct wp_port_key k443 = pkey(6, 443);
    const struct wp_port_row *r = wp_agg_port(a, &k443);
    TAP_OK(r != NULL, "tcp/443 row");
    if (r != NULL) {
        TAP_EQ(r->to_service.packets, 3 + 2 + 1, "tcp/443 to_service packets");
        TAP_EQ(r->to_service.bytes, 300 + 200 + 60, "tcp/443 to_service bytes");
        TAP_EQ(r->from_service.packets, 5 + 4 + 1, "tcp/443 from_service packets");
        TAP_EQ(r->from_service.bytes, 5000 + 4000 + 60, "tcp/443 from_service bytes");
        TAP_EQ(r->unattributed.packets, 0, "tcp/443 nothing unattributed");
        TAP_EQ(r->flows, 3, "tcp/443 flows");
        TAP_EQ(r->apple_flows, 3, "tcp/443 Apple flows: two by address, one by name");
        TAP_EQ(r->apple.packets, 8 + 6 + 2, "tcp/443 Apple packets");
        TAP_EQ(r->apple.bytes, 5300 + 4200 + 120, "tcp/443 Apple bytes");
        TAP_EQ(r->server_apple_flows, 2, "tcp/443 flows whose server is Apple's");
        TAP_EQ(r->clients, 2, "tcp/443 clients: 10.0.0.1 and 10.0.0.2");
        TAP_EQ(r->servers, 2, "tcp/443 servers: 17.1.2.3 and 93.184.216.34");
        TAP_EQ(r->n_names, 2, "tcp/443 names: 7 and 9");
        TAP_EQ(name_flows(r, 7), 1, "tcp/443 name 7 on one flow");
        TAP_EQ(name_flows(r, 9), 1, "tcp/443 name 9 on one flow");
        TAP_OK(!r->names_truncated, "tcp/443 names not truncated");
    }
    struct wp_port_key k53 = pkey(17, 53);
    r = wp_agg_port(a, &k53);
    TAP_OK(r != NULL && r->to_service.packets == 1 && r->to_service.bytes == 80 &&
               r->from_service.packets == 1 && r->from_service.bytes == 120 && r->flows == 1 &&
               r->clients == 1 && r->servers == 1 && r->apple_flows == 0,
           "udp/53: client 1 / 80 B, server 1 / 120 B, server as endpoint 0");
    struct wp_port_key kicmp = pkey(1, 0);
    r = wp_agg_port(a, &kicmp);
    TAP_OK(r != NULL && r->to_service.packets == 2 && r->from_service.bytes == 196 && r->flows == 1,
           "icmp: one row without a port");
    struct wp_port_key kudp = pkey(17, 0);
    kudp.has_port = 0;
    r = wp_agg_port(a, &kudp);
    TAP_OK(r != NULL && r->unattributed.packets == 1 && r->unattributed.bytes == 100 &&
               r->flows == 0 && r->clients == 0,
           "udp without a port: the unattributed packet, no flow");

    const struct wp_host_row *h = find_host(a, IP4(17, 1, 2, 3));
    TAP_OK(h != NULL, "host 17.1.2.3");
    if (h != NULL) {
        TAP_EQ(h->packets, 8 + 6, "17.1.2.3 packets");
        TAP_EQ(h->bytes, 5300 + 4200, "17.1.2.3 bytes");
        TAP_EQ(h->flows, 2, "17.1.2.3 flows");
        TAP_OK(h->apple, "17.1.2.3 is Apple's");
        TAP_OK(h->n_ports == 1 && host_has_port(h, k443), "17.1.2.3 ports: tcp/443");
        TAP_OK(h->n_names == 1 && h->names[0] == 7, "17.1.2.3 names: 7");
    }
    h = find_host(a, IP4(93, 184, 216, 34));
    TAP_OK(h != NULL && !h->apple && h->packets == 2 && h->bytes == 120,
           "93.184.216.34: Apple by name only does not make the host Apple's");
    TAP_OK(find_host(a, IP4(10, 0, 0, 1)) == NULL, "clients are not server hosts");
    size_t nh;
    free(wp_agg_hosts(a, &nh));
    TAP_EQ(nh, 4, "four server hosts");
    TAP_EQ(wp_agg_hosts_other(a)->packets, 0, "hosts_other empty below the limit");
    TAP_OK(!wp_agg_peers_capped(a), "peers not capped");
    wp_agg_free(a);
}

/* Merge: port rows add up, distinct peers stay distinct, host ports join. */
static void test_merge(void)
{
    struct wp_agg *a = wp_agg_new(), *b = wp_agg_new();
    /* a: 10.0.0.1 -> 17.1.2.3:443, 3 / 300 and 5 / 5000, name 7. */
    struct wp_flow f =
        mkflow(6, IP4(10, 0, 0, 1), 50000, IP4(17, 1, 2, 3), 443, false, 3, 300, 5, 5000);
    f.name_id = 7;
    wp_agg_add_flow(a, &f);
    /* b: the same client and server again (another source port), 1 / 100
     * and 1 / 1000, name 7; a new client 10.0.0.2 to the same server, 2 /
     * 20 and 2 / 40, name 8; and 10.0.0.1 -> 17.1.2.3:80, 1 / 10 each. */
    f = mkflow(6, IP4(10, 0, 0, 1), 50001, IP4(17, 1, 2, 3), 443, false, 1, 100, 1, 1000);
    f.name_id = 7;
    wp_agg_add_flow(b, &f);
    f = mkflow(6, IP4(10, 0, 0, 2), 50002, IP4(17, 1, 2, 3), 443, false, 2, 20, 2, 40);
    f.name_id = 8;
    wp_agg_add_flow(b, &f);
    f = mkflow(6, IP4(10, 0, 0, 1), 50003, IP4(17, 1, 2, 3), 80, false, 1, 10, 1, 10);
    wp_agg_add_flow(b, &f);
    wp_agg_add_unattributed(b, 6, 54);

    TAP_EQ(wp_agg_merge(a, b), 0, "merge b into a");
    wp_agg_count_peers(a);
    struct wp_port_key k443 = pkey(6, 443), k80 = pkey(6, 80);
    const struct wp_port_row *r = wp_agg_port(a, &k443);
    TAP_OK(r != NULL, "merged tcp/443 row");
    if (r != NULL) {
        TAP_EQ(r->to_service.packets, 3 + 1 + 2, "merged to_service packets");
        TAP_EQ(r->to_service.bytes, 300 + 100 + 20, "merged to_service bytes");
        TAP_EQ(r->from_service.packets, 5 + 1 + 2, "merged from_service packets");
        TAP_EQ(r->from_service.bytes, 5000 + 1000 + 40, "merged from_service bytes");
        TAP_EQ(r->flows, 3, "merged flows");
        TAP_EQ(r->clients, 2, "merged clients: 10.0.0.1 (in both) counted once, 10.0.0.2");
        TAP_EQ(r->servers, 1, "merged servers: 17.1.2.3 once");
        TAP_EQ(name_flows(r, 7), 2, "name 7: one flow in each");
        TAP_EQ(name_flows(r, 8), 1, "name 8: one flow");
    }
    r = wp_agg_port(a, &k80);
    TAP_OK(r != NULL && r->flows == 1 && r->to_service.bytes == 10 && r->clients == 1,
           "tcp/80 row comes from b");
    struct wp_port_key ktcp = pkey(6, 0);
    ktcp.has_port = 0;
    r = wp_agg_port(a, &ktcp);
    TAP_OK(r != NULL && r->unattributed.packets == 1 && r->unattributed.bytes == 54,
           "unattributed tcp comes from b");
    const struct wp_host_row *h = find_host(a, IP4(17, 1, 2, 3));
    TAP_OK(h != NULL, "merged host 17.1.2.3");
    if (h != NULL) {
        TAP_EQ(h->packets, 8 + 2 + 4 + 2, "merged host packets");
        TAP_EQ(h->bytes, 5300 + 1100 + 60 + 20, "merged host bytes");
        TAP_EQ(h->flows, 4, "merged host flows");
        TAP_OK(h->n_ports == 2 && host_has_port(h, k443) && host_has_port(h, k80),
               "merged host ports: tcp/443 and tcp/80, each once");
        TAP_OK(h->n_names == 2, "merged host names: 7 and 8");
    }
    wp_agg_free(a);
    wp_agg_free(b);
}

/* Bounded lists: 64 ports per host, 8 names per row. */
static void test_row_caps(void)
{
    struct wp_agg *a = wp_agg_new();
    for (uint16_t p = 1; p <= 70; p++) {
        struct wp_flow f =
            mkflow(17, IP4(10, 0, 0, 1), 40000, IP4(10, 0, 0, 2), p, false, 1, 1, 0, 0);
        wp_agg_add_flow(a, &f);
    }
    const struct wp_host_row *h = find_host(a, IP4(10, 0, 0, 2));
    TAP_OK(h != NULL && h->n_ports == WP_HOST_MAX_PORTS && h->ports_truncated && h->flows == 70 &&
               h->packets == 70,
           "a host on 70 ports keeps 64, says so, and counts all 70 flows");

    /* Names 1..8 on udp/9, name 1 twice; then name 9: it replaces the
     * least frequent (name 2, the first with one flow) and inherits its
     * count plus one: 2 flows. */
    struct wp_agg *b = wp_agg_new();
    for (uint32_t id = 1; id <= 9; id++) {
        for (int rep = 0; rep < (id == 1 ? 2 : 1); rep++) {
            struct wp_flow f = mkflow(17, IP4(10, 0, 1, 1), (uint16_t)(1000 + id * 2 + rep),
                                      IP4(10, 0, 1, 2), 9, false, 1, 1, 0, 0);
            f.name_id = id;
            wp_agg_add_flow(b, &f);
        }
    }
    struct wp_port_key k9 = pkey(17, 9);
    const struct wp_port_row *r = wp_agg_port(b, &k9);
    TAP_OK(r != NULL && r->n_names == WP_ROW_NAMES && r->names_truncated,
           "nine names on a row: eight kept, truncated");
    if (r != NULL) {
        TAP_EQ(name_flows(r, 1), 2, "name 1: 2 flows");
        TAP_EQ(name_flows(r, 2), 0, "name 2 replaced");
        TAP_EQ(name_flows(r, 9), 2, "name 9: 1 inherited + 1 (an upper bound)");
        TAP_EQ(r->flows, 10, "row flows stay exact");
    }
    h = find_host(b, IP4(10, 0, 1, 2));
    TAP_OK(h != NULL && h->n_names == WP_HOST_NAMES && h->names[0] == 1 && h->names[3] == 4,
           "a host keeps its first four names");
    wp_agg_free(a);
    wp_agg_free(b);
}

/* Tables beyond 65,536 hosts and tunnels, and 262,144 distinct peers:
 * the rest is summed into hosts_other / tunnels_other, totals stay exact. */
static void test_table_caps(void)
{
    const uint32_t N = 140000; /* distinct servers, each with its own client */
    const uint32_t HOSTS = 65536;
    struct wp_agg *a = wp_agg_new();
    int rc = 0;
    for (uint32_t i = 0; i < N; i++) {
        /* client 10.x.y.z, server 20.x.y.z; 1 / 10 B and 1 / 20 B */
        struct wp_flow f =
            mkflow(6, (10u << 24) | i, 40000, (20u << 24) | i, 443, false, 1, 10, 1, 20);
        rc |= wp_agg_add_flow(a, &f);
    }
    TAP_EQ(rc, 0, "140,000 flows added");
    size_t nh;
    struct wp_host_row **hv = wp_agg_hosts(a, &nh);
    TAP_EQ(nh, HOSTS, "65,536 hosts kept individually");
    uint64_t pk = 0;
    for (size_t i = 0; i < nh; i++)
        pk += hv[i]->packets;
    free(hv);
    const struct wp_host_row *o = wp_agg_hosts_other(a);
    TAP_EQ(o->flows, N - HOSTS, "hosts_other: 74,464 flows");
    TAP_EQ(o->packets, 2ull * (N - HOSTS), "hosts_other: 2 packets per flow");
    TAP_EQ(o->bytes, 30ull * (N - HOSTS), "hosts_other: 30 bytes per flow");
    TAP_EQ(o->n_ports, 0, "hosts_other lists no ports");
    TAP_EQ(pk + o->packets, 2ull * N, "hosts + hosts_other = every packet");

    /* 280,000 (port, role, address) entries against a limit of 262,144:
     * past it, tcp/443 counts its peers in HyperLogLog sketches (hll.h),
     * which start with the exact set: 140,000 clients and 140,000 servers,
     * estimated within 5 % (three standard errors of 1.6 %). */
    TAP_OK(wp_agg_peers_capped(a), "peers capped");
    TAP_OK(wp_agg_peers_estimated(a), "peers estimated past the limit");
    wp_agg_count_peers(a);
    struct wp_port_key k443 = pkey(6, 443);
    const struct wp_port_row *r = wp_agg_port(a, &k443);
    TAP_OK(r != NULL && r->flows == N, "tcp/443: flows exact");
    TAP_OK(r != NULL && r->clients * 100 > (uint64_t)N * 95 && r->clients <= N,
           "tcp/443: clients estimated %llu of 140,000", (unsigned long long)(r ? r->clients : 0));
    TAP_OK(r != NULL && r->servers * 100 > (uint64_t)N * 95 && r->servers <= N,
           "tcp/443: servers estimated %llu of 140,000", (unsigned long long)(r ? r->servers : 0));

    /* Merging into an empty aggregate keeps the same totals. */
    struct wp_agg *m = wp_agg_new();
    TAP_EQ(wp_agg_merge(m, a), 0, "merge a capped aggregate");
    hv = wp_agg_hosts(m, &nh);
    pk = 0;
    for (size_t i = 0; i < nh; i++)
        pk += hv[i]->packets;
    free(hv);
    TAP_EQ(nh, HOSTS, "merged: 65,536 hosts");
    TAP_EQ(wp_agg_hosts_other(m)->flows, N - HOSTS, "merged: hosts_other flows");
    TAP_EQ(pk + wp_agg_hosts_other(m)->packets, 2ull * N, "merged: every packet once");
    TAP_OK(wp_agg_peers_capped(m), "merged: peers still capped");
    wp_agg_count_peers(m);
    r = wp_agg_port(m, &k443);
    TAP_OK(r != NULL && r->clients * 100 > (uint64_t)N * 95 && r->clients <= N,
           "merged: clients estimated %llu of 140,000", (unsigned long long)(r ? r->clients : 0));
    TAP_OK(r != NULL && r->to_service.packets == N && r->from_service.bytes == 20ull * N,
           "merged: tcp/443 counts");
    /* Merging a second time into the full aggregate: the known hosts add
     * up in place, nothing is lost. */
    TAP_EQ(wp_agg_merge(m, a), 0, "merge again");
    hv = wp_agg_hosts(m, &nh);
    pk = 0;
    for (size_t i = 0; i < nh; i++)
        pk += hv[i]->packets;
    free(hv);
    TAP_EQ(pk + wp_agg_hosts_other(m)->packets, 4ull * N, "merged twice: every packet twice");
    wp_agg_count_peers(m);
    r = wp_agg_port(m, &k443);
    TAP_OK(r != NULL && r->clients * 100 > (uint64_t)N * 95 && r->clients <= N,
           "merged twice: the same peers are not counted twice (%llu)",
           (unsigned long long)(r ? r->clients : 0));
    wp_agg_free(m);
    wp_agg_free(a);

    /* Tunnels: two frames on one tunnel, one on another; then 65,536 + 2
     * distinct tunnels, of which the last 2 go to tunnels_other. */
    struct wp_agg *t = wp_agg_new();
    struct wp_tunnel_row k;
    memset(&k, 0, sizeof(k));
    k.kind = 1;
    k.family = 4;
    k.proto = 17;
    k.addr[0][0] = 192;
    k.addr[1][0] = 198;
    k.port[0] = 4789;
    k.port[1] = 50000;
    wp_agg_add_tunnel(t, &k, 150);
    wp_agg_add_tunnel(t, &k, 110);
    k.port[1] = 50001;
    wp_agg_add_tunnel(t, &k, 90);
    size_t nt;
    struct wp_tunnel_row **tv = wp_agg_tunnels(t, &nt);
    uint64_t tb = 0, tp = 0;
    for (size_t i = 0; i < nt; i++) {
        tb += tv[i]->bytes;
        tp += tv[i]->packets;
    }
    free(tv);
    TAP_OK(nt == 2 && tp == 3 && tb == 350, "two tunnel rows, 3 frames, 350 bytes");
    for (uint32_t i = 0; i < 65536; i++) {
        k.addr[0][1] = (uint8_t)(i >> 8);
        k.addr[0][2] = (uint8_t)i;
        k.addr[0][3] = 1;
        wp_agg_add_tunnel(t, &k, 100);
    }
    tv = wp_agg_tunnels(t, &nt);
    free(tv);
    TAP_EQ(nt, 65536, "65,536 tunnel rows kept");
    TAP_EQ(wp_agg_tunnels_other(t)->packets, 2, "tunnels_other: the last 2 tunnels");
    TAP_EQ(wp_agg_tunnels_other(t)->bytes, 200, "tunnels_other bytes");
    wp_agg_free(t);
}

/* Apple services: a row per (service, port), names and servers per service. */
static void test_apple(void)
{
    struct wp_agg *a = wp_agg_new();
    struct wp_flow f =
        mkflow(6, IP4(10, 0, 0, 1), 50000, IP4(17, 57, 144, 20), 5223, false, 3, 300, 2, 200);
    f.bits = WP_FB_APPLE1;
    f.apple_svc = 1; /* service index 0 */
    f.name_id = 5;
    wp_agg_add_flow(a, &f);
    f = mkflow(6, IP4(10, 0, 0, 2), 50001, IP4(17, 57, 144, 21), 5223, false, 1, 100, 1, 100);
    f.bits = WP_FB_APPLE1;
    f.apple_svc = 1;
    f.name_id = 5;
    wp_agg_add_flow(a, &f);
    f = mkflow(6, IP4(10, 0, 0, 2), 50002, IP4(17, 57, 144, 21), 443, false, 1, 50, 1, 50);
    f.apple_svc = 1;
    wp_agg_add_flow(a, &f);
    size_t n;
    struct wp_apple_row **v = wp_agg_apple_rows(a, &n);
    TAP_EQ(n, 2, "two Apple rows: service 0 on tcp/5223 and on tcp/443");
    for (size_t i = 0; i < n; i++) {
        if (v[i]->port.port == 5223)
            TAP_OK(v[i]->svc == 0 && v[i]->flows == 2 && v[i]->packets == 7 && v[i]->bytes == 700,
                   "service 0 on tcp/5223: 2 flows, 7 packets, 700 bytes");
    }
    free(v);
    const struct wp_apple_svc_info *s = wp_agg_apple_svc(a, 0);
    TAP_OK(s != NULL && s->flows == 3 && s->n_names == 1 && s->names[0].id == 5 &&
               s->names[0].flows == 2 && s->n_servers == 2,
           "service 0: 3 flows, name 5 on 2, two servers");
    TAP_OK(wp_agg_apple_svc(a, 1) == NULL, "service 1 unseen: NULL");
    wp_agg_free(a);
}

int main(void)
{
    wp_hash_seed(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
    test_keys();
    test_flows();
    test_merge();
    test_row_caps();
    test_table_caps();
    test_apple();
    return tap_done();
}
