/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: aggregates: per service port, per server host, per tunnel */
#ifndef WP_AGG_H
#define WP_AGG_H

#include "wp/common.h"
#include "wp/flow.h"
#include "wp/proto.h"
#include "wp/outcome.h"

/* A service-port row: transport plus port, or transport alone (has_port 0)
 * for transports without ports and for packets whose ports are unknown. */
struct wp_port_key {
    uint8_t proto;
    uint8_t has_port;
    uint16_t port;
};
_Static_assert(sizeof(struct wp_port_key) == 4, "wp_port_key must not contain padding");

struct wp_counts {
    uint64_t packets;
    uint64_t bytes;
};

/* A name and the number of flows that carried it. */
struct wp_name_count {
    uint32_t id;        /* names.h name id */
    uint64_t flows;
};

#define WP_ROW_NAMES 8   /* names kept per port row and per Apple service */
#define WP_HOST_NAMES 4  /* names kept per host */

struct wp_port_row {
    struct wp_port_key key;
    struct wp_counts to_service;    /* sent by clients */
    struct wp_counts from_service;  /* sent by servers */
    struct wp_counts unattributed;  /* no flow: fragments without their first, cut transport */
    uint64_t flows;
    uint64_t apple_flows;
    struct wp_counts apple;         /* packets and bytes of flows with an Apple endpoint */
    uint64_t server_apple_flows;    /* flows whose server side is Apple's */
    uint64_t clients, servers;      /* distinct addresses; set by wp_agg_count_peers */
    uint64_t clients_min, servers_min; /* lower bounds from merged reports (--merge) */
    struct wp_hll *sketch[2];          /* clients, servers past the exact set's limit (hll.h) */
    struct wp_oc_row outcomes;         /* flows by outcome (outcome.h) */
    uint8_t n_names;                /* most frequent names (approximate past WP_ROW_NAMES) */
    bool names_truncated;
    struct wp_name_count names[WP_ROW_NAMES];
};

#define WP_HOST_MAX_PORTS 64

struct wp_host_row {
    uint8_t family;
    uint8_t addr[16];
    bool apple;
    uint64_t packets, bytes, flows;
    uint16_t n_ports;               /* distinct service ports, at most WP_HOST_MAX_PORTS kept */
    bool ports_truncated;           /* more ports were seen than kept */
    struct wp_port_key *ports;
    uint8_t n_names;                /* distinct names of its flows, first WP_HOST_NAMES */
    uint32_t names[WP_HOST_NAMES];
};

/* An Apple service (applesvc.h index) on one port: what the --apple view
 * shows. */
struct wp_apple_row {
    int svc;
    struct wp_port_key port;
    uint64_t packets, bytes, flows;
    struct wp_oc_row outcomes; /* flows by outcome (outcome.h) */
};

#define WP_APPLE_SERVERS 16

/* Per Apple service: its names and servers. */
struct wp_apple_svc_info {
    int svc;
    uint64_t flows;
    uint8_t n_names;
    bool names_truncated;
    struct wp_name_count names[WP_ROW_NAMES];
    uint8_t n_servers;
    bool servers_truncated;
    struct {
        uint8_t family;
        uint8_t addr[16];
    } servers[WP_APPLE_SERVERS];
};

struct wp_tunnel_row {
    uint8_t kind;                   /* enum wp_tunnel_kind */
    uint8_t family;                 /* 0 when the tunnel has no outer IP */
    uint8_t proto;                  /* outer IP protocol */
    uint8_t addr[2][16];
    uint16_t port[2];
    uint64_t packets, bytes;
};

struct wp_agg;

/* A new, empty aggregate, or NULL when out of memory. */
struct wp_agg *wp_agg_new(void);
void wp_agg_free(struct wp_agg *a);

/* Fold a flow into the aggregate: its port row (by its server side), its
 * server host, and the distinct clients and servers of the port. Returns
 * -1 when memory ran out (the counts that could be added were added). */
int wp_agg_add_flow(struct wp_agg *a, const struct wp_flow *f);

/* Count a packet that has no flow under (proto, no port). */
int wp_agg_add_unattributed(struct wp_agg *a, uint8_t proto, uint32_t wirelen);

/* Count a tunnelled frame under its outermost encapsulation. */
int wp_agg_add_tunnel(struct wp_agg *a, const struct wp_tunnel_row *key, uint32_t wirelen);

/* Add everything in `src` to `dst`. Returns -1 when memory ran out. */
int wp_agg_merge(struct wp_agg *dst, const struct wp_agg *src);

/* --merge (merge.h): add rows as a report gave them, with no flows or
 * addresses behind them. A port row adds every counter, its names and its
 * outcome counts; its clients and servers become lower bounds (the larger
 * of them and the addresses known is kept, and the peers count as capped).
 * A host row of family 0 adds to the hosts beyond the table's limit; a
 * tunnel row of kind 0xff to the tunnels beyond it. Return -1 when memory
 * ran out. */
int wp_agg_load_port(struct wp_agg *a, const struct wp_port_row *r);
int wp_agg_load_host(struct wp_agg *a, const struct wp_host_row *h);
int wp_agg_load_apple(struct wp_agg *a, const struct wp_apple_row *r);
void wp_agg_load_svc(struct wp_agg *a, const struct wp_apple_svc_info *s);
int wp_agg_load_tunnel(struct wp_agg *a, const struct wp_tunnel_row *t);

/* Fill clients and servers of every port row from the distinct-address set. */
void wp_agg_count_peers(struct wp_agg *a);

/* True when the distinct-address set hit its limit, so that clients and
 * servers are lower bounds, but for the rows with a sketch. */
bool wp_agg_peers_capped(const struct wp_agg *a);

/* True when, past that limit, the distinct clients and servers of some
 * port rows (those with packets then, up to 256 rows) went on being
 * counted in HyperLogLog sketches: their counts are estimates, within
 * WP_HLL_ERROR (hll.h) relative standard error, instead of lower bounds. */
bool wp_agg_peers_estimated(const struct wp_agg *a);

/* True when rows loaded from reports without their flows (--merge) made
 * clients and servers lower bounds (wp_agg_load_port). */
bool wp_agg_peers_loaded(const struct wp_agg *a);

/* Arrays of pointers to the rows (owned by the aggregate, valid until it
 * changes); the caller frees the array itself. NULL and *n = 0 when empty or
 * out of memory. */
struct wp_port_row **wp_agg_ports(const struct wp_agg *a, size_t *n);
struct wp_host_row **wp_agg_hosts(const struct wp_agg *a, size_t *n);
struct wp_tunnel_row **wp_agg_tunnels(const struct wp_agg *a, size_t *n);

/* Apple rows (service x port) and per-service details; arrays as above. */
struct wp_apple_row **wp_agg_apple_rows(const struct wp_agg *a, size_t *n);
const struct wp_apple_svc_info *wp_agg_apple_svc(const struct wp_agg *a, int svc);

/* The port row of `key`, or NULL. */
const struct wp_port_row *wp_agg_port(const struct wp_agg *a, const struct wp_port_key *key);

/* The port key of a flow: its transport and its server's port. */
struct wp_port_key wp_flow_port_key(const struct wp_flow *f);

/* Server hosts and tunnels beyond the table limits (65,536 each), summed
 * into one row each so that memory stays bounded while totals stay exact.
 * Zero counts when the limits were never reached. */
const struct wp_host_row *wp_agg_hosts_other(const struct wp_agg *a);
const struct wp_tunnel_row *wp_agg_tunnels_other(const struct wp_agg *a);

/* Approximate heap bytes held. */
size_t wp_agg_bytes(const struct wp_agg *a);

/* Tests only: make the aggregate's `n`-th row allocation from now fail
 * (0: never), as when memory runs out. */
void wp_agg_fail_alloc(struct wp_agg *a, size_t n);

#endif
