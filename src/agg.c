/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: aggregates: per service port, per server host, per tunnel
 *
 * Flows are folded into these tables when they leave the flow table
 * (eviction) and, for a report, into a copy together with the live flows.
 * Because folding happens per flow rather than per packet, a flow whose
 * server side is decided late (a SYN seen after other packets) is still
 * counted entirely under its final service port. */

#include <stdlib.h>
#include <string.h>

#include "wp/agg.h"
#include "wp/applesvc.h"
#include "wp/hash.h"
#include "wp/hll.h"

#define PEERS_MAX (1u << 18)    /* distinct (port, role, address) entries kept */
#define SKETCH_ROWS 256u          /* port rows that get HyperLogLog sketches past PEERS_MAX */
#define HOSTS_MAX (1u << 16)    /* server hosts kept individually */
#define TUNNELS_MAX (1u << 16)  /* tunnel rows kept individually */

struct port_ent {
    struct wp_port_row row;
    UT_hash_handle hh;
};

struct host_key {
    uint8_t family;
    uint8_t addr[16];
    uint8_t pad[3];
};
_Static_assert(sizeof(struct host_key) == 20, "host_key must not contain padding");

struct host_ent {
    struct host_key key;
    struct wp_host_row row;
    UT_hash_handle hh;
};

struct peer_key {
    struct wp_port_key port;
    uint8_t role;       /* 0 client, 1 server */
    uint8_t family;
    uint16_t pad;
    uint8_t addr[16];
};
_Static_assert(sizeof(struct peer_key) == 24, "peer_key must not contain padding");

/* The distinct (port, role, address) set: keys stored inline in an
 * open-addressing array (linear probing, at most half full), so an entry
 * costs its 24 bytes plus the empty slots: no allocation per entry, no
 * hash handle. An all-zero key marks an empty slot; a real key always has
 * family 4 or 6, so it is never all zero. */
struct peer_set {
    struct peer_key *slots;
    size_t mask;        /* slots - 1; 0 when not allocated */
};

/* IPv4 entries of the same set, packed exactly into 64 bits (bit 63 set,
 * proto << 50, has_port << 49, role << 48, port << 32, address): a third of
 * the memory of a peer_key, so a flood of IPv4 clients stays in cache
 * longer. 0 marks an empty slot. */
struct peer_set4 {
    uint64_t *slots;
    size_t mask;
};

static uint64_t peer4_key(const struct wp_port_key *pk, uint8_t role, const uint8_t *addr)
{
    uint32_t a;
    memcpy(&a, addr, 4);
    return UINT64_C(1) << 63 | (uint64_t)pk->proto << 50 | (uint64_t)(pk->has_port != 0) << 49 |
           (uint64_t)(role & 1) << 48 | (uint64_t)pk->port << 32 | a;
}

static struct wp_port_key peer4_port(uint64_t k)
{
    struct wp_port_key pk;
    memset(&pk, 0, sizeof(pk));
    pk.proto = (uint8_t)(k >> 50);
    pk.has_port = (uint8_t)((k >> 49) & 1);
    pk.port = (uint16_t)(k >> 32);
    return pk;
}

struct tun_key {
    uint8_t kind, family, proto, pad;
    uint16_t port[2];
    uint8_t addr[2][16];
};
_Static_assert(sizeof(struct tun_key) == 40, "tun_key must not contain padding");

struct tun_ent {
    struct tun_key key;
    struct wp_tunnel_row row;
    UT_hash_handle hh;
};

struct apple_key {
    struct wp_port_key port;
    int32_t svc;
};
_Static_assert(sizeof(struct apple_key) == 8, "apple_key must not contain padding");

struct apple_ent {
    struct apple_key key;
    struct wp_apple_row row;
    UT_hash_handle hh;
};

#define MAX_APPLE_SVCS WP_APPLESVC_MAX

struct wp_agg {
    struct apple_ent *apple;
    size_t n_apple;
    struct wp_apple_svc_info svcs[MAX_APPLE_SVCS]; /* by service index */
    struct port_ent *ports;
    struct host_ent *hosts;
    struct peer_set peers;   /* IPv6 (and any family but 4) */
    struct peer_set4 peers4; /* IPv4 */
    struct tun_ent *tunnels;
    size_t n_ports, n_hosts, n_peers, n_tunnels;
    size_t n_peers4; /* of n_peers, in peers4 */
    size_t host_port_bytes;
    bool peers_capped;
    struct wp_host_row hosts_other;     /* hosts beyond HOSTS_MAX, summed */
    struct wp_tunnel_row tunnels_other; /* tunnels beyond TUNNELS_MAX, summed */
    size_t fail_after;     /* tests: fail the n-th row allocation from now (0: never) */
    uint64_t *host_filter; /* made when the host table is full: its hosts' bits */
    bool sketching;        /* past PEERS_MAX: new peers go to the rows' sketches */
    bool peers_loaded;     /* counts from merged reports are lower bounds (--merge) */
    size_t n_sketches;     /* rows with sketches (at most SKETCH_ROWS) */
};

struct wp_port_key wp_flow_port_key(const struct wp_flow *f)
{
    struct wp_port_key k;
    memset(&k, 0, sizeof(k));
    k.proto = f->key.proto;
    if (wp_proto_has_ports(f->key.proto)) {
        k.has_port = 1;
        k.port = wp_flow_server_port(f);
    }
    return k;
}

struct wp_agg *wp_agg_new(void)
{
    return calloc(1, sizeof(struct wp_agg));
}

void wp_agg_free(struct wp_agg *a)
{
    if (a == NULL)
        return;
    struct port_ent *pe, *pt;
    HASH_ITER(hh, a->ports, pe, pt) {
        HASH_DEL(a->ports, pe);
        free(pe->row.sketch[0]);
        free(pe->row.sketch[1]);
        free(pe);
    }
    struct host_ent *he, *ht;
    HASH_ITER(hh, a->hosts, he, ht) {
        HASH_DEL(a->hosts, he);
        free(he->row.ports);
        free(he);
    }
    free(a->peers.slots);
    free(a->peers4.slots);
    free(a->host_filter);
    struct tun_ent *te, *tt;
    HASH_ITER(hh, a->tunnels, te, tt) {
        HASH_DEL(a->tunnels, te);
        free(te);
    }
    struct apple_ent *ae, *at;
    HASH_ITER(hh, a->apple, ae, at) {
        HASH_DEL(a->apple, ae);
        free(ae);
    }
    free(a);
}

void wp_agg_fail_alloc(struct wp_agg *a, size_t n)
{
    a->fail_after = n;
}

/* A zeroed table entry of `n` bytes, or NULL when out of memory. */
static void *ent_alloc(struct wp_agg *a, size_t n)
{
    if (a->fail_after != 0 && --a->fail_after == 0)
        return NULL; /* injected failure */
    return calloc(1, n);
}

static struct wp_port_row *port_get(struct wp_agg *a, const struct wp_port_key *k)
{
    struct port_ent *e;
    HASH_FIND(hh, a->ports, k, sizeof(*k), e);
    if (e != NULL)
        return &e->row;
    e = ent_alloc(a, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->row.key = *k;
    WP_HASH_ADD_OR_FAIL(hh, a->ports, &e->row.key, sizeof(e->row.key), e, {
        free(e);
        return NULL;
    });
    a->n_ports++;
    return &e->row;
}

/* The host filter: once the host table is full (HOSTS_MAX), a host not
 * in it goes to hosts_other, and looking it up in the table (a chain in a
 * table of 65,536) is what a flood of new addresses would pay per flow.
 * A bit filter of the hosts kept (2^20 bits, 128 KiB, two bits of one
 * 64-bit word per host: one cache line per lookup, about 2 % false
 * positives) answers "not there" for almost all of them first. */
#define HOST_FILTER_WORDS (1u << 14)

static uint64_t host_filter_bits(uint32_t hv)
{
    uint64_t h = wp_hll_mix(hv);
    return (UINT64_C(1) << ((h >> 32) & 63)) | (UINT64_C(1) << ((h >> 40) & 63));
}

static bool host_filter_maybe(const struct wp_agg *a, uint32_t hv)
{
    uint64_t bits = host_filter_bits(hv);
    return (a->host_filter[hv & (HOST_FILTER_WORDS - 1)] & bits) == bits;
}

/* Make the filter of the hosts in the table; without memory, no filter
 * (lookups then go to the table, as before). */
static void host_filter_make(struct wp_agg *a)
{
    a->host_filter = calloc(HOST_FILTER_WORDS, sizeof(uint64_t));
    if (a->host_filter == NULL)
        return;
    for (const struct host_ent *e = a->hosts; e != NULL; e = e->hh.next)
        a->host_filter[e->hh.hashv & (HOST_FILTER_WORDS - 1)] |= host_filter_bits(e->hh.hashv);
}

static struct wp_host_row *host_get(struct wp_agg *a, uint8_t family, const uint8_t *addr)
{
    struct host_key k;
    memset(&k, 0, sizeof(k));
    k.family = family;
    memcpy(k.addr, addr, 16);
    unsigned hv;
    HASH_VALUE(&k, sizeof(k), hv);
    if (a->host_filter != NULL && !host_filter_maybe(a, hv))
        return &a->hosts_other; /* full, and certainly not in the table */
    struct host_ent *e;
    HASH_FIND_BYHASHVALUE(hh, a->hosts, &k, sizeof(k), hv, e);
    if (e != NULL)
        return &e->row;
    if (a->n_hosts >= HOSTS_MAX) {
        if (a->host_filter == NULL)
            host_filter_make(a);
        return &a->hosts_other;
    }
    e = ent_alloc(a, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->key = k;
    e->row.family = family;
    memcpy(e->row.addr, addr, 16);
    WP_HASH_ADD_OR_FAIL(hh, a->hosts, &e->key, sizeof(e->key), e, {
        free(e);
        return NULL;
    });
    a->n_hosts++;
    return &e->row;
}

static int host_add_port(struct wp_agg *a, struct wp_host_row *h, const struct wp_port_key *k)
{
    if (h == &a->hosts_other)
        return 0; /* the overflow row lists no ports */
    for (uint16_t i = 0; i < h->n_ports; i++)
        if (memcmp(&h->ports[i], k, sizeof(*k)) == 0)
            return 0;
    if (h->n_ports >= WP_HOST_MAX_PORTS) {
        h->ports_truncated = true;
        return 0;
    }
    /* grow in powers of two */
    if ((h->n_ports & (h->n_ports - 1)) == 0) {
        size_t nc = h->n_ports ? (size_t)h->n_ports * 2 : 2;
        struct wp_port_key *np = realloc(h->ports, nc * sizeof(*np));
        if (np == NULL)
            return -1;
        a->host_port_bytes += (nc - (h->n_ports ? h->n_ports : 0)) * sizeof(*np);
        h->ports = np;
    }
    h->ports[h->n_ports++] = *k;
    return 0;
}

static bool peer_empty(const struct peer_key *k)
{
    return k->family == 0;
}

/* Double the set (or create it). Returns false when out of memory. */
static bool peers_grow(struct peer_set *ps)
{
    size_t n = ps->mask ? (ps->mask + 1) * 2 : 1024;
    struct peer_key *ns = calloc(n, sizeof(*ns));
    if (ns == NULL)
        return false;
    for (size_t i = 0; ps->mask && i <= ps->mask; i++) {
        if (peer_empty(&ps->slots[i]))
            continue;
        size_t j = wp_hash_bytes(&ps->slots[i], sizeof(ps->slots[i])) & (n - 1);
        while (!peer_empty(&ns[j]))
            j = (j + 1) & (n - 1);
        ns[j] = ps->slots[i];
    }
    free(ps->slots);
    ps->slots = ns;
    ps->mask = n - 1;
    return true;
}

/* The sketch item of a peer: an unkeyed hash (hll.h), the same whether
 * the peer was first in the exact set or came after it was full. */
static uint64_t item4(uint64_t k)
{
    return wp_hll_mix(k & UINT64_C(0xffffffff));
}

static uint64_t item6(const uint8_t *addr)
{
    uint64_t a, b;
    memcpy(&a, addr, 8);
    memcpy(&b, addr + 8, 8);
    return wp_hll_mix(a ^ wp_hll_mix(b ^ UINT64_C(0x600d)));
}

/* The sketch of row r and role, made empty when it has none; NULL when
 * none can be made (SKETCH_ROWS rows have them, or out of memory). */
static struct wp_hll *sketch_of(struct wp_agg *a, struct wp_port_row *r, uint8_t role)
{
    struct wp_hll **sk = &r->sketch[role & 1];
    if (*sk == NULL) {
        if (a->n_sketches >= 2 * SKETCH_ROWS || (*sk = calloc(1, sizeof(**sk))) == NULL)
            return NULL;
        a->n_sketches++;
    }
    return *sk;
}

/* Add an item to the sketch of row r and role; false when there is none. */
static bool sketch_add(struct wp_agg *a, struct wp_port_row *r, uint8_t role, uint64_t item)
{
    struct wp_hll *sk = sketch_of(a, r, role);
    if (sk == NULL)
        return false;
    wp_hll_add(sk, item);
    return true;
}

static struct wp_port_row *port_get(struct wp_agg *a, const struct wp_port_key *k);

/* The port row of a packed IPv4 peer, or NULL. */
static struct wp_port_row *peer4_row(const struct wp_agg *a, uint64_t k)
{
    struct wp_port_key pk = peer4_port(k);
    struct port_ent *e;
    HASH_FIND(hh, a->ports, &pk, sizeof(pk), e);
    return e != NULL ? &e->row : NULL;
}

/* The exact set is full: from now on each row counts its peers in
 * sketches, which start with what the set holds. */
static void start_sketching(struct wp_agg *a)
{
    a->sketching = true;
    for (size_t i = 0; a->peers4.mask && i <= a->peers4.mask; i++) {
        uint64_t k = a->peers4.slots[i];
        struct wp_port_row *r = k != 0 ? peer4_row(a, k) : NULL;
        if (r != NULL)
            (void)sketch_add(a, r, (uint8_t)((k >> 48) & 1), item4(k));
    }
    for (size_t i = 0; a->peers.mask && i <= a->peers.mask; i++) {
        const struct peer_key *k = &a->peers.slots[i];
        if (peer_empty(k))
            continue;
        struct port_ent *e;
        HASH_FIND(hh, a->ports, &k->port, sizeof(k->port), e);
        if (e != NULL)
            (void)sketch_add(a, &e->row, k->role, item6(k->addr));
    }
}

/* Double the IPv4 set (or create it). Returns false when out of memory. */
static bool peers4_grow(struct peer_set4 *ps)
{
    size_t n = ps->mask ? (ps->mask + 1) * 2 : 1024;
    uint64_t *ns = calloc(n, sizeof(*ns));
    if (ns == NULL)
        return false;
    for (size_t i = 0; ps->mask && i <= ps->mask; i++) {
        uint64_t k = ps->slots[i];
        if (k == 0)
            continue;
        size_t j = wp_hash_bytes(&k, sizeof(k)) & (n - 1);
        while (ns[j] != 0)
            j = (j + 1) & (n - 1);
        ns[j] = k;
    }
    free(ps->slots);
    ps->slots = ns;
    ps->mask = n - 1;
    return true;
}

static int peer4_add(struct wp_agg *a, struct wp_port_row *r, uint64_t k)
{
    if (a->sketching && r != NULL && sketch_add(a, r, (uint8_t)((k >> 48) & 1), item4(k)))
        return 0; /* O(1): one register of the row's sketch */
    struct peer_set4 *ps = &a->peers4;
    if (ps->mask == 0 && !peers4_grow(ps))
        return -1;
    size_t i = wp_hash_bytes(&k, sizeof(k)) & ps->mask;
    for (uint64_t s; (s = ps->slots[i]) != 0; i = (i + 1) & ps->mask)
        if (s == k)
            return 0;
    if (a->n_peers >= PEERS_MAX) {
        a->peers_capped = true;
        if (!a->sketching) {
            start_sketching(a);
            if (r != NULL)
                (void)sketch_add(a, r, (uint8_t)((k >> 48) & 1), item4(k));
        }
        return 0;
    }
    if ((a->n_peers4 + 1) * 2 > ps->mask + 1) {
        if (!peers4_grow(ps))
            return -1;
        i = wp_hash_bytes(&k, sizeof(k)) & ps->mask;
        while (ps->slots[i] != 0)
            i = (i + 1) & ps->mask;
    }
    ps->slots[i] = k;
    a->n_peers++;
    a->n_peers4++;
    return 0;
}

static int peer_add(struct wp_agg *a, struct wp_port_row *r, const struct wp_port_key *pk,
                    uint8_t role, uint8_t family, const uint8_t *addr)
{
    if (family == 4)
        return peer4_add(a, r, peer4_key(pk, role, addr));
    if (a->sketching && r != NULL && sketch_add(a, r, role, item6(addr)))
        return 0;
    struct peer_key k;
    memset(&k, 0, sizeof(k));
    k.port = *pk;
    k.role = role;
    k.family = family;
    memcpy(k.addr, addr, 16);
    struct peer_set *ps = &a->peers;
    if (ps->mask == 0 && !peers_grow(ps))
        return -1;
    size_t i = wp_hash_bytes(&k, sizeof(k)) & ps->mask;
    while (!peer_empty(&ps->slots[i])) {
        if (wp_keycmp(&ps->slots[i], &k, sizeof(k)) == 0)
            return 0;
        i = (i + 1) & ps->mask;
    }
    if (a->n_peers >= PEERS_MAX) {
        a->peers_capped = true;
        if (!a->sketching) {
            start_sketching(a);
            if (r != NULL)
                (void)sketch_add(a, r, role, item6(addr));
        }
        return 0;
    }
    if ((a->n_peers - a->n_peers4 + 1) * 2 > ps->mask + 1) {
        if (!peers_grow(ps))
            return -1;
        i = wp_hash_bytes(&k, sizeof(k)) & ps->mask;
        while (!peer_empty(&ps->slots[i]))
            i = (i + 1) & ps->mask;
    }
    ps->slots[i] = k;
    a->n_peers++;
    return 0;
}

/* Count `flows` flows for name `id` in a bounded most-frequent list
 * (space-saving: a new name replaces the least frequent one, inheriting its
 * count plus one, so counts past the limit are upper bounds). */
static void name_count(struct wp_name_count *v, uint8_t *n, bool *truncated, uint32_t id,
                       uint64_t flows)
{
    if (id == 0)
        return;
    for (uint8_t i = 0; i < *n; i++) {
        if (v[i].id == id) {
            v[i].flows += flows;
            return;
        }
    }
    if (*n < WP_ROW_NAMES) {
        v[*n].id = id;
        v[*n].flows = flows;
        (*n)++;
        return;
    }
    uint8_t min = 0;
    for (uint8_t i = 1; i < *n; i++)
        if (v[i].flows < v[min].flows)
            min = i;
    v[min].id = id;
    v[min].flows += flows;
    *truncated = true;
}

static void host_name(struct wp_host_row *h, uint32_t id)
{
    if (id == 0)
        return;
    for (uint8_t i = 0; i < h->n_names; i++)
        if (h->names[i] == id)
            return;
    if (h->n_names < WP_HOST_NAMES)
        h->names[h->n_names++] = id;
}

static void svc_server(struct wp_apple_svc_info *s, uint8_t family, const uint8_t *addr)
{
    for (uint8_t i = 0; i < s->n_servers; i++)
        if (s->servers[i].family == family && memcmp(s->servers[i].addr, addr, 16) == 0)
            return;
    if (s->n_servers >= WP_APPLE_SERVERS) {
        s->servers_truncated = true;
        return;
    }
    s->servers[s->n_servers].family = family;
    memcpy(s->servers[s->n_servers].addr, addr, 16);
    s->n_servers++;
}

static struct wp_apple_row *apple_get(struct wp_agg *a, int svc, const struct wp_port_key *pk)
{
    struct apple_key k;
    memset(&k, 0, sizeof(k));
    k.port = *pk;
    k.svc = svc;
    struct apple_ent *e;
    HASH_FIND(hh, a->apple, &k, sizeof(k), e);
    if (e != NULL)
        return &e->row;
    e = ent_alloc(a, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->key = k;
    e->row.svc = svc;
    e->row.port = *pk;
    WP_HASH_ADD_OR_FAIL(hh, a->apple, &e->key, sizeof(e->key), e, {
        free(e);
        return NULL;
    });
    a->n_apple++;
    return &e->row;
}

int wp_agg_add_flow(struct wp_agg *a, const struct wp_flow *f)
{
    int rc = 0;
    struct wp_port_key pk = wp_flow_port_key(f);
    unsigned srv = f->server, cli = 1u - f->server;
    bool apple = wp_flow_apple(f);
    bool srv_apple = wp_flow_server_apple(f);
    uint64_t pk_tot = f->pkts[0] + f->pkts[1];
    uint64_t by_tot = f->bytes[0] + f->bytes[1];

    struct wp_port_row *r = port_get(a, &pk);
    if (r == NULL)
        return -1;
    r->to_service.packets += f->pkts[cli];
    r->to_service.bytes += f->bytes[cli];
    r->from_service.packets += f->pkts[srv];
    r->from_service.bytes += f->bytes[srv];
    r->flows++;
    wp_oc_row_add(&r->outcomes, f);
    if (apple) {
        r->apple_flows++;
        r->apple.packets += pk_tot;
        r->apple.bytes += by_tot;
    }
    if (srv_apple)
        r->server_apple_flows++;
    name_count(r->names, &r->n_names, &r->names_truncated, f->name_id, 1);

    if (f->apple_svc != 0 && f->apple_svc <= MAX_APPLE_SVCS) {
        int svc = f->apple_svc - 1;
        struct wp_apple_row *ar = apple_get(a, svc, &pk);
        if (ar == NULL)
            return -1;
        ar->packets += pk_tot;
        ar->bytes += by_tot;
        ar->flows++;
        wp_oc_row_add(&ar->outcomes, f);
        struct wp_apple_svc_info *si = &a->svcs[svc];
        si->svc = svc;
        si->flows++;
        name_count(si->names, &si->n_names, &si->names_truncated, f->name_id, 1);
        svc_server(si, f->key.family, f->key.addr[srv]);
    }

    struct wp_host_row *h = host_get(a, f->key.family, f->key.addr[srv]);
    if (h == NULL)
        return -1;
    if (h != &a->hosts_other)
        host_name(h, f->name_id);
    h->packets += pk_tot;
    h->bytes += by_tot;
    h->flows++;
    h->apple = h->apple || srv_apple;
    if (host_add_port(a, h, &pk) != 0)
        rc = -1;

    if (peer_add(a, r, &pk, 0, f->key.family, f->key.addr[cli]) != 0)
        rc = -1;
    if (peer_add(a, r, &pk, 1, f->key.family, f->key.addr[srv]) != 0)
        rc = -1;
    return rc;
}

int wp_agg_add_unattributed(struct wp_agg *a, uint8_t proto, uint32_t wirelen)
{
    struct wp_port_key k = {proto, 0, 0};
    struct wp_port_row *r = port_get(a, &k);
    if (r == NULL)
        return -1;
    r->unattributed.packets++;
    r->unattributed.bytes += wirelen;
    return 0;
}

/* The key of a tunnel row. */
static void tun_key_of(const struct wp_tunnel_row *t, struct tun_key *k)
{
    memset(k, 0, sizeof(*k));
    k->kind = t->kind;
    k->family = t->family;
    k->proto = t->proto;
    memcpy(k->addr, t->addr, sizeof(k->addr));
    memcpy(k->port, t->port, sizeof(k->port));
}

static struct wp_tunnel_row *tunnel_get(struct wp_agg *a, const struct tun_key *k)
{
    struct tun_ent *e;
    HASH_FIND(hh, a->tunnels, k, sizeof(*k), e);
    if (e != NULL)
        return &e->row;
    if (a->n_tunnels >= TUNNELS_MAX)
        return &a->tunnels_other;
    e = ent_alloc(a, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->key = *k;
    e->row.kind = k->kind;
    e->row.family = k->family;
    e->row.proto = k->proto;
    memcpy(e->row.addr, k->addr, sizeof(k->addr));
    memcpy(e->row.port, k->port, sizeof(k->port));
    WP_HASH_ADD_OR_FAIL(hh, a->tunnels, &e->key, sizeof(e->key), e, {
        free(e);
        return NULL;
    });
    a->n_tunnels++;
    return &e->row;
}

int wp_agg_add_tunnel(struct wp_agg *a, const struct wp_tunnel_row *t, uint32_t wirelen)
{
    struct tun_key k;
    tun_key_of(t, &k);
    struct wp_tunnel_row *r = tunnel_get(a, &k);
    if (r == NULL)
        return -1;
    r->packets++;
    r->bytes += wirelen;
    return 0;
}

static void port_add_row(struct wp_port_row *r, const struct wp_port_row *s)
{
    r->to_service.packets += s->to_service.packets;
    r->to_service.bytes += s->to_service.bytes;
    r->from_service.packets += s->from_service.packets;
    r->from_service.bytes += s->from_service.bytes;
    r->unattributed.packets += s->unattributed.packets;
    r->unattributed.bytes += s->unattributed.bytes;
    r->flows += s->flows;
    r->apple_flows += s->apple_flows;
    r->apple.packets += s->apple.packets;
    r->apple.bytes += s->apple.bytes;
    r->server_apple_flows += s->server_apple_flows;
    if (s->clients_min > r->clients_min)
        r->clients_min = s->clients_min;
    if (s->servers_min > r->servers_min)
        r->servers_min = s->servers_min;
    wp_oc_row_merge(&r->outcomes, &s->outcomes);
    for (uint8_t i = 0; i < s->n_names; i++)
        name_count(r->names, &r->n_names, &r->names_truncated, s->names[i].id, s->names[i].flows);
    r->names_truncated = r->names_truncated || s->names_truncated;
}

static int host_add_row(struct wp_agg *a, struct wp_host_row *h, const struct wp_host_row *s)
{
    int rc = 0;
    h->packets += s->packets;
    h->bytes += s->bytes;
    h->flows += s->flows;
    h->apple = h->apple || s->apple;
    h->ports_truncated = h->ports_truncated || s->ports_truncated;
    if (h == &a->hosts_other)
        return 0;
    for (uint8_t i = 0; i < s->n_names; i++)
        host_name(h, s->names[i]);
    for (uint16_t i = 0; i < s->n_ports; i++)
        if (host_add_port(a, h, &s->ports[i]) != 0)
            rc = -1;
    return rc;
}

static void apple_add_row(struct wp_apple_row *r, const struct wp_apple_row *s)
{
    r->packets += s->packets;
    r->bytes += s->bytes;
    r->flows += s->flows;
    wp_oc_row_merge(&r->outcomes, &s->outcomes);
}

static void svc_add(struct wp_agg *a, const struct wp_apple_svc_info *s, int i)
{
    struct wp_apple_svc_info *d = &a->svcs[i];
    d->svc = i;
    d->flows += s->flows;
    for (uint8_t k = 0; k < s->n_names; k++)
        name_count(d->names, &d->n_names, &d->names_truncated, s->names[k].id, s->names[k].flows);
    d->names_truncated = d->names_truncated || s->names_truncated;
    for (uint8_t k = 0; k < s->n_servers; k++)
        svc_server(d, s->servers[k].family, s->servers[k].addr);
    d->servers_truncated = d->servers_truncated || s->servers_truncated;
}

int wp_agg_merge(struct wp_agg *dst, const struct wp_agg *src)
{
    int rc = 0;
    for (const struct port_ent *e = src->ports; e != NULL; e = e->hh.next) {
        struct wp_port_row *r = port_get(dst, &e->row.key);
        if (r == NULL) {
            rc = -1;
            continue;
        }
        port_add_row(r, &e->row);
    }
    for (const struct host_ent *e = src->hosts; e != NULL; e = e->hh.next) {
        struct wp_host_row *h = host_get(dst, e->row.family, e->row.addr);
        if (h == NULL || host_add_row(dst, h, &e->row) != 0)
            rc = -1;
    }
    for (size_t i = 0; src->peers4.mask && i <= src->peers4.mask; i++)
        if (src->peers4.slots[i] != 0) {
            struct wp_port_key pk = peer4_port(src->peers4.slots[i]);
            struct wp_port_row *r = port_get(dst, &pk);
            if (peer4_add(dst, r, src->peers4.slots[i]) != 0)
                rc = -1;
        }
    for (size_t i = 0; src->peers.mask && i <= src->peers.mask; i++) {
        const struct peer_key *k = &src->peers.slots[i];
        if (!peer_empty(k) &&
            peer_add(dst, port_get(dst, &k->port), &k->port, k->role, k->family, k->addr) != 0)
            rc = -1;
    }
    dst->peers_capped = dst->peers_capped || src->peers_capped;
    dst->peers_loaded = dst->peers_loaded || src->peers_loaded;
    /* src's sketches: dst counts in sketches too from now on */
    for (const struct port_ent *e = src->ports; e != NULL && src->sketching; e = e->hh.next) {
        if (!dst->sketching)
            start_sketching(dst);
        struct wp_port_row *r = port_get(dst, &e->row.key);
        for (int role = 0; r != NULL && role < 2; role++) {
            const struct wp_hll *s = e->row.sketch[role];
            if (s == NULL)
                continue;
            struct wp_hll *d = sketch_of(dst, r, (uint8_t)role);
            if (d != NULL)
                wp_hll_merge(d, s);
        }
    }
    for (const struct apple_ent *e = src->apple; e != NULL; e = e->hh.next) {
        struct wp_apple_row *r = apple_get(dst, e->key.svc, &e->key.port);
        if (r == NULL) {
            rc = -1;
            continue;
        }
        apple_add_row(r, &e->row);
    }
    for (int i = 0; i < MAX_APPLE_SVCS; i++)
        if (src->svcs[i].flows != 0)
            svc_add(dst, &src->svcs[i], i);
    host_add_row(dst, &dst->hosts_other, &src->hosts_other);
    dst->tunnels_other.packets += src->tunnels_other.packets;
    dst->tunnels_other.bytes += src->tunnels_other.bytes;
    for (const struct tun_ent *e = src->tunnels; e != NULL; e = e->hh.next) {
        struct wp_tunnel_row *r = tunnel_get(dst, &e->key);
        if (r == NULL) {
            rc = -1;
            continue;
        }
        r->packets += e->row.packets;
        r->bytes += e->row.bytes;
    }
    return rc;
}

int wp_agg_load_port(struct wp_agg *a, const struct wp_port_row *s)
{
    struct wp_port_row *r = port_get(a, &s->key);
    if (r == NULL)
        return -1;
    port_add_row(r, s);
    if (s->clients > r->clients_min)
        r->clients_min = s->clients;
    if (s->servers > r->servers_min)
        r->servers_min = s->servers;
    if (s->flows > 0)
        a->peers_capped = a->peers_loaded = true;
    return 0;
}

int wp_agg_load_host(struct wp_agg *a, const struct wp_host_row *s)
{
    struct wp_host_row *h = s->family == 0 ? &a->hosts_other : host_get(a, s->family, s->addr);
    if (h == NULL)
        return -1;
    return host_add_row(a, h, s);
}

int wp_agg_load_apple(struct wp_agg *a, const struct wp_apple_row *s)
{
    if (s->svc < 0 || s->svc >= MAX_APPLE_SVCS)
        return 0;
    struct wp_apple_row *r = apple_get(a, s->svc, &s->port);
    if (r == NULL)
        return -1;
    apple_add_row(r, s);
    return 0;
}

void wp_agg_load_svc(struct wp_agg *a, const struct wp_apple_svc_info *s)
{
    if (s->svc >= 0 && s->svc < MAX_APPLE_SVCS)
        svc_add(a, s, s->svc);
}

int wp_agg_load_tunnel(struct wp_agg *a, const struct wp_tunnel_row *t)
{
    struct wp_tunnel_row *r;
    if (t->kind == 0xff) {
        r = &a->tunnels_other;
    } else {
        struct tun_key k;
        tun_key_of(t, &k);
        r = tunnel_get(a, &k);
    }
    if (r == NULL)
        return -1;
    r->packets += t->packets;
    r->bytes += t->bytes;
    return 0;
}

void wp_agg_count_peers(struct wp_agg *a)
{
    for (struct port_ent *e = a->ports; e != NULL; e = e->hh.next)
        e->row.clients = e->row.servers = 0;
    for (size_t i = 0; a->peers4.mask && i <= a->peers4.mask; i++) {
        uint64_t k = a->peers4.slots[i];
        struct wp_port_row *r = k != 0 ? peer4_row(a, k) : NULL;
        if (r == NULL)
            continue;
        if ((k >> 48) & 1)
            r->servers++;
        else
            r->clients++;
    }
    for (size_t i = 0; a->peers.mask && i <= a->peers.mask; i++) {
        const struct peer_key *pk = &a->peers.slots[i];
        if (peer_empty(pk))
            continue;
        struct port_ent *e;
        HASH_FIND(hh, a->ports, &pk->port, sizeof(pk->port), e);
        if (e == NULL)
            continue;
        if (pk->role == 0)
            e->row.clients++;
        else
            e->row.servers++;
    }
    for (struct port_ent *e = a->ports; e != NULL; e = e->hh.next) {
        uint64_t *c[2] = {&e->row.clients, &e->row.servers};
        for (int role = 0; role < 2; role++) {
            if (e->row.sketch[role] == NULL)
                continue;
            uint64_t est = wp_hll_estimate(e->row.sketch[role]);
            if (est > *c[role]) /* the exact part is a lower bound */
                *c[role] = est;
            if (*c[role] > e->row.flows) /* no more peers than flows */
                *c[role] = e->row.flows;
        }
        if (e->row.clients_min > e->row.clients)
            e->row.clients = e->row.clients_min;
        if (e->row.servers_min > e->row.servers)
            e->row.servers = e->row.servers_min;
    }
}

bool wp_agg_peers_capped(const struct wp_agg *a)
{
    return a->peers_capped;
}

bool wp_agg_peers_loaded(const struct wp_agg *a)
{
    return a->peers_loaded;
}

bool wp_agg_peers_estimated(const struct wp_agg *a)
{
    return a->n_sketches > 0;
}

const struct wp_port_row *wp_agg_port(const struct wp_agg *a, const struct wp_port_key *key)
{
    struct port_ent *e;
    HASH_FIND(hh, a->ports, key, sizeof(*key), e);
    return e != NULL ? &e->row : NULL;
}

/* The row getters (agg.h): an array of pointers to the `row` of every
 * entry of one table, in no order; NULL with *n = 0 when the table is
 * empty or memory runs out. Written once, defined four times. */
#define ROW_GETTER(fn, row_type, ent_type, head, count)                                            \
    row_type **fn(const struct wp_agg *a, size_t *n)                                               \
    {                                                                                              \
        *n = 0;                                                                                    \
        if (a->count == 0)                                                                         \
            return NULL;                                                                           \
        row_type **v = malloc(a->count * sizeof(*v));                                              \
        if (v == NULL)                                                                             \
            return NULL;                                                                           \
        for (ent_type *e = a->head; e != NULL; e = e->hh.next)                                     \
            v[(*n)++] = &e->row;                                                                   \
        return v;                                                                                  \
    }

ROW_GETTER(wp_agg_ports, struct wp_port_row, struct port_ent, ports, n_ports)
ROW_GETTER(wp_agg_hosts, struct wp_host_row, struct host_ent, hosts, n_hosts)
ROW_GETTER(wp_agg_tunnels, struct wp_tunnel_row, struct tun_ent, tunnels, n_tunnels)
ROW_GETTER(wp_agg_apple_rows, struct wp_apple_row, struct apple_ent, apple, n_apple)

size_t wp_agg_bytes(const struct wp_agg *a)
{
    return sizeof(*a) + a->n_ports * sizeof(struct port_ent) +
           a->n_hosts * sizeof(struct host_ent) +
           (a->peers.mask ? a->peers.mask + 1 : 0) * sizeof(struct peer_key) +
           (a->peers4.mask ? a->peers4.mask + 1 : 0) * sizeof(uint64_t) +
           a->n_sketches * sizeof(struct wp_hll) +
           (a->host_filter ? HOST_FILTER_WORDS * sizeof(uint64_t) : 0) +
           a->n_tunnels * sizeof(struct tun_ent) + a->host_port_bytes;
}

const struct wp_host_row *wp_agg_hosts_other(const struct wp_agg *a)
{
    return &a->hosts_other;
}

const struct wp_tunnel_row *wp_agg_tunnels_other(const struct wp_agg *a)
{
    return &a->tunnels_other;
}

const struct wp_apple_svc_info *wp_agg_apple_svc(const struct wp_agg *a, int svc)
{
    if (svc < 0 || svc >= MAX_APPLE_SVCS || a->svcs[svc].flows == 0)
        return NULL;
    return &a->svcs[svc];
}
