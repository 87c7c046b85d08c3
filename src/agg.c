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

#define PEERS_MAX (1u << 18)    /* distinct (port, role, address) entries kept */
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
    struct peer_set peers;
    struct tun_ent *tunnels;
    size_t n_ports, n_hosts, n_peers, n_tunnels;
    size_t host_port_bytes;
    bool peers_capped;
    struct wp_host_row hosts_other;     /* hosts beyond HOSTS_MAX, summed */
    struct wp_tunnel_row tunnels_other; /* tunnels beyond TUNNELS_MAX, summed */
    size_t fail_after; /* tests: fail the n-th row allocation from now (0: never) */
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
        free(pe);
    }
    struct host_ent *he, *ht;
    HASH_ITER(hh, a->hosts, he, ht) {
        HASH_DEL(a->hosts, he);
        free(he->row.ports);
        free(he);
    }
    free(a->peers.slots);
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

static struct wp_host_row *host_get(struct wp_agg *a, uint8_t family, const uint8_t *addr)
{
    struct host_key k;
    memset(&k, 0, sizeof(k));
    k.family = family;
    memcpy(k.addr, addr, 16);
    struct host_ent *e;
    HASH_FIND(hh, a->hosts, &k, sizeof(k), e);
    if (e != NULL)
        return &e->row;
    if (a->n_hosts >= HOSTS_MAX)
        return &a->hosts_other;
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

static int peer_add(struct wp_agg *a, const struct wp_port_key *pk, uint8_t role, uint8_t family,
                    const uint8_t *addr)
{
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
        return 0;
    }
    if ((a->n_peers + 1) * 2 > ps->mask + 1) {
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

    if (peer_add(a, &pk, 0, f->key.family, f->key.addr[cli]) != 0)
        rc = -1;
    if (peer_add(a, &pk, 1, f->key.family, f->key.addr[srv]) != 0)
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
    memset(&k, 0, sizeof(k));
    k.kind = t->kind;
    k.family = t->family;
    k.proto = t->proto;
    memcpy(k.addr, t->addr, sizeof(k.addr));
    memcpy(k.port, t->port, sizeof(k.port));
    struct wp_tunnel_row *r = tunnel_get(a, &k);
    if (r == NULL)
        return -1;
    r->packets++;
    r->bytes += wirelen;
    return 0;
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
        const struct wp_port_row *s = &e->row;
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
        wp_oc_row_merge(&r->outcomes, &s->outcomes);
        for (uint8_t i = 0; i < s->n_names; i++)
            name_count(r->names, &r->n_names, &r->names_truncated, s->names[i].id,
                       s->names[i].flows);
        r->names_truncated = r->names_truncated || s->names_truncated;
    }
    for (const struct host_ent *e = src->hosts; e != NULL; e = e->hh.next) {
        struct wp_host_row *h = host_get(dst, e->row.family, e->row.addr);
        if (h == NULL) {
            rc = -1;
            continue;
        }
        h->packets += e->row.packets;
        h->bytes += e->row.bytes;
        h->flows += e->row.flows;
        h->apple = h->apple || e->row.apple;
        h->ports_truncated = h->ports_truncated || e->row.ports_truncated;
        for (uint8_t i = 0; i < e->row.n_names; i++)
            host_name(h, e->row.names[i]);
        for (uint16_t i = 0; i < e->row.n_ports; i++)
            if (host_add_port(dst, h, &e->row.ports[i]) != 0)
                rc = -1;
    }
    for (size_t i = 0; src->peers.mask && i <= src->peers.mask; i++) {
        const struct peer_key *k = &src->peers.slots[i];
        if (!peer_empty(k) && peer_add(dst, &k->port, k->role, k->family, k->addr) != 0)
            rc = -1;
    }
    dst->peers_capped = dst->peers_capped || src->peers_capped;
    for (const struct apple_ent *e = src->apple; e != NULL; e = e->hh.next) {
        struct wp_apple_row *r = apple_get(dst, e->key.svc, &e->key.port);
        if (r == NULL) {
            rc = -1;
            continue;
        }
        r->packets += e->row.packets;
        r->bytes += e->row.bytes;
        r->flows += e->row.flows;
        wp_oc_row_merge(&r->outcomes, &e->row.outcomes);
    }
    for (int i = 0; i < MAX_APPLE_SVCS; i++) {
        const struct wp_apple_svc_info *s = &src->svcs[i];
        struct wp_apple_svc_info *d = &dst->svcs[i];
        if (s->flows == 0)
            continue;
        d->svc = i;
        d->flows += s->flows;
        for (uint8_t k = 0; k < s->n_names; k++)
            name_count(d->names, &d->n_names, &d->names_truncated, s->names[k].id,
                       s->names[k].flows);
        d->names_truncated = d->names_truncated || s->names_truncated;
        for (uint8_t k = 0; k < s->n_servers; k++)
            svc_server(d, s->servers[k].family, s->servers[k].addr);
        d->servers_truncated = d->servers_truncated || s->servers_truncated;
    }
    dst->hosts_other.packets += src->hosts_other.packets;
    dst->hosts_other.bytes += src->hosts_other.bytes;
    dst->hosts_other.flows += src->hosts_other.flows;
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

void wp_agg_count_peers(struct wp_agg *a)
{
    for (struct port_ent *e = a->ports; e != NULL; e = e->hh.next)
        e->row.clients = e->row.servers = 0;
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
}

bool wp_agg_peers_capped(const struct wp_agg *a)
{
    return a->peers_capped;
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
           a->n_hosts * sizeof(struct host_ent) + (a->peers.mask ? a->peers.mask + 1 : 0) * sizeof(struct peer_key) +
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
