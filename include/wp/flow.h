/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the flow table: bidirectional flows keyed without padding */
#ifndef WP_FLOW_H
#define WP_FLOW_H

#include "wp/common.h"
#include "wp/counters.h"
#include "wp/list.h"
#include "wp/outcome.h"

/* A flow key. Endpoint 0 is the lower (address, port) pair, so both
 * directions of a conversation share one key. IPv4 addresses occupy the
 * first 4 bytes of addr[i], the rest zero. The key has no implicit padding
 * (asserted below) and is always built from a zeroed struct. */
struct wp_flow_key {
    uint8_t addr[2][16];
    uint16_t port[2];       /* host order; 0 for transports without ports */
    uint16_t vlan;          /* outer VLAN id or WP_VLAN_NONE */
    uint16_t vlan_inner;    /* inner VLAN id or WP_VLAN_NONE */
    uint8_t proto;          /* IP protocol */
    uint8_t family;         /* 4 or 6 */
    uint16_t zero;          /* explicit padding, always 0 */
};
_Static_assert(sizeof(struct wp_flow_key) == 44, "wp_flow_key must not contain padding");

/* True when two keys are equal (no padding, so byte equality). */
static inline bool wp_flow_key_eq(const struct wp_flow_key *a, const struct wp_flow_key *b)
{
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    uint64_t d = 0;
    for (size_t i = 0; i < 40; i += 8) {
        uint64_t u, v;
        __builtin_memcpy(&u, x + i, 8);
        __builtin_memcpy(&v, y + i, 8);
        d |= u ^ v;
    }
    uint32_t u4, v4;
    __builtin_memcpy(&u4, x + 40, 4);
    __builtin_memcpy(&v4, y + 40, 4);
    return (d | (u4 ^ v4)) == 0;
}

/* Which rule decided the service (server) side of a flow. */
enum wp_how {
    WP_HOW_SYN = 0,   /* the side that answered (or was sent) a TCP SYN */
    WP_HOW_REGISTRY,  /* the only port the service registry knows */
    WP_HOW_EPHEMERAL, /* the only port outside the ephemeral ranges */
    WP_HOW_LOWER,     /* the lower port */
    WP_HOW_FIRST,     /* equal ports or no ports: the first packet's destination */
    WP_HOW_ICMP,      /* ICMP/ICMPv6 echo or other request: its destination */
    WP_HOW_PROTOCOL,  /* the first packet's own header says (NTP mode, DNS QR bit) */
    WP_HOW_COUNT
};

/* Eviction classes, each with its own idle timeout and LRU list. */
enum wp_flow_class {
    WP_FC_TCP = 0,      /* TCP, open */
    WP_FC_TCP_CLOSED,   /* TCP after FIN or RST */
    WP_FC_OTHER,        /* UDP and everything else */
    WP_FC_COUNT
};

enum {
    WP_FB_APPLE0 = 0x01, /* endpoint 0 is in Apple's address space */
    WP_FB_APPLE1 = 0x02,
    WP_FB_SYN = 0x04,         /* a SYN decided the server side */
    WP_FB_TIME = 0x08,        /* first_ns and last_ns are set */
    WP_FB_APPLE_NAME = 0x10,  /* the flow's name is an Apple service's */
    WP_FB_APPLE_BY_SHIFT = 5, /* bits 5-7: enum wp_apple_by (applesvc.h) */
    WP_FB_APPLE_BY_MASK = 0xe0,
};

/* Process facts of a flow (wp_flow.pbits). */
enum {
    WP_FP_MIXED = 0x01,       /* its packets named more than one process (proctab.h) */
    WP_FP_LOCAL_KNOWN = 0x02, /* a record's direction told which endpoint is local */
    WP_FP_LOCAL1 = 0x04,      /* ... and it is endpoint 1 (else 0) */
    WP_FP_UNKNOWN_SHIFT = 3,  /* bits 3-5: enum wp_proc_unknown */
    WP_FP_UNKNOWN_MASK = 0x38,
};

/* Why a flow has no process (JSON "process_unknown", docs/output.md): the
 * live attribution's reasons, named as its totals counters are
 * (WP_ATTR_UNKNOWN_LIST, counters.h), "unanswered" (queued, no answer yet)
 * and "not_named" (the capture names processes, but none of this flow's
 * records did; decided by the report, never stored). Kept in 3 bits of
 * wp_flow.pbits. */
enum wp_proc_unknown {
    WP_PU_NONE = 0,
#define WP_X(field, name) WP_PU_##field,
    WP_ATTR_UNKNOWN_LIST(WP_X)
#undef WP_X
        WP_PU_unanswered,
    WP_PU_not_named,
    WP_PU_COUNT
};
_Static_assert(WP_PU_COUNT <= 8, "the unknown reasons must fit in 3 bits");

struct wp_flow_table;

struct wp_flow {
    struct wp_flow_key key;
    uint8_t server;          /* endpoint index (0 or 1) offering the service */
    uint8_t how;             /* enum wp_how */
    uint8_t tcp_flags;       /* OR of the TCP flags seen, both directions */
    uint8_t bits;            /* WP_FB_* */
    uint8_t cls;             /* enum wp_flow_class */
    uint8_t name_src;        /* enum wp_name_src: how name_id was learnt */
    uint8_t name_state;      /* names.c: still looking at the client's payload? */
    uint8_t apple_svc;       /* Apple service index + 1 (applesvc.h); 0 none */
    uint32_t name_id;        /* the flow's name (names.h), 0 none */
    uint16_t proc_pair[2];   /* process candidates (proctab.h pairs), [0] leads; 0 none */
    uint16_t proc_n[2];      /* packets of each candidate (halved together at 65535) */
    uint8_t pbits;           /* WP_FP_*: process facts */
    uint8_t tl_proc;         /* timeline.h process series + 1; 0 none */
    uint16_t tl_series;      /* timeline.h series + 1, given at the first packet; 0 none */
    struct wp_oc oc;         /* outcome state (outcome.h), 8 bytes */
    union {
        uint8_t tcp_flags[2]; /* TCP: OR of the flags sent by endpoint i */
        uint8_t icmp[2][2];   /* ICMP, ICMPv6: type and code of endpoint i's first message */
    } l4;
    uint64_t pkts[2];     /* sent by endpoint i */
    uint64_t bytes[2];    /* frame bytes (wire length) sent by endpoint i */
    uint64_t ip_bytes[2]; /* IP-layer bytes sent by endpoint i (IP total lengths) */
    int64_t first_ns, last_ns;
    struct wp_link lru; /* owned by the table: its LRU list, or its free list */
};
/* The flow's size sets the memory per flow (docs/design.md, the flood test):
 * a change must be deliberate. */
_Static_assert(sizeof(struct wp_flow) == 160, "struct wp_flow is 160 bytes");

/* ---- facts about a flow: one accessor each, used everywhere ------------- */

/* The endpoint index (0 or 1 of the key) of the service (server) side,
 * and of the client side. */
static inline unsigned wp_flow_server_ep(const struct wp_flow *f)
{
    return f->server;
}

static inline unsigned wp_flow_client_ep(const struct wp_flow *f)
{
    return 1u - f->server;
}

/* The service (server) side's port; 0 for transports without ports. */
static inline uint16_t wp_flow_server_port(const struct wp_flow *f)
{
    return f->key.port[f->server];
}

/* The client side's port; 0 for transports without ports. */
static inline uint16_t wp_flow_client_port(const struct wp_flow *f)
{
    return f->key.port[1u - f->server];
}

/* The server's address is in Apple's address space. */
static inline bool wp_flow_server_apple(const struct wp_flow *f)
{
    return (f->bits & (f->server ? WP_FB_APPLE1 : WP_FB_APPLE0)) != 0;
}

/* Either endpoint's address is in Apple's address space. */
static inline bool wp_flow_any_apple(const struct wp_flow *f)
{
    return (f->bits & (WP_FB_APPLE0 | WP_FB_APPLE1)) != 0;
}

/* The flow's name is an Apple service's. */
static inline bool wp_flow_name_apple(const struct wp_flow *f)
{
    return (f->bits & WP_FB_APPLE_NAME) != 0;
}

/* The flow is Apple's, by address or by name: what port rows count as
 * Apple's and the reports call "apple". */
static inline bool wp_flow_apple(const struct wp_flow *f)
{
    return wp_flow_any_apple(f) || wp_flow_name_apple(f);
}

/* The stored reason why the flow has no process (WP_PU_NONE: none). */
static inline enum wp_proc_unknown wp_flow_proc_unknown(const struct wp_flow *f)
{
    return (enum wp_proc_unknown)((f->pbits & WP_FP_UNKNOWN_MASK) >> WP_FP_UNKNOWN_SHIFT);
}

/* Store why the flow has no process (WP_PU_NONE clears it). */
static inline void wp_flow_set_proc_unknown(struct wp_flow *f, enum wp_proc_unknown u)
{
    f->pbits = (uint8_t)((f->pbits & ~WP_FP_UNKNOWN_MASK) |
                         (((unsigned)u << WP_FP_UNKNOWN_SHIFT) & WP_FP_UNKNOWN_MASK));
}

/* Which rule gave the flow its Apple service, and why an Apple address
 * got none: wp_flow_apple_by() and wp_flow_apple_doubt() in applesvc.h. */

/* Create a table that holds at most `max_flows` flows (0: no limit).
 * Returns NULL when out of memory. */
struct wp_flow_table *wp_flow_table_new(size_t max_flows);

/* Free the table and every flow in it (NULL is accepted). */
void wp_flow_table_free(struct wp_flow_table *t);

/* The flow with this key, or NULL. */
struct wp_flow *wp_flow_find(struct wp_flow_table *t, const struct wp_flow_key *key);

/* The table's hash of a key; with it, a lookup that misses and the insert
 * that follows hash the key once. */
uint32_t wp_flow_hash(const struct wp_flow_key *key);
struct wp_flow *wp_flow_find_h(struct wp_flow_table *t, const struct wp_flow_key *key,
                               uint32_t hash);
struct wp_flow *wp_flow_insert_h(struct wp_flow_table *t, const struct wp_flow_key *key,
                                 uint32_t hash, enum wp_flow_class cls);

/* Insert a new, zeroed flow with `key` (which must not be present) in
 * eviction class `cls`, most recently used. Returns NULL, leaving the table
 * unchanged, when memory runs out; the caller counts that. When the table is
 * full the caller must first make room (wp_flow_oldest + wp_flow_remove). */
struct wp_flow *wp_flow_insert(struct wp_flow_table *t, const struct wp_flow_key *key,
                               enum wp_flow_class cls);

/* Mark `f` most recently used in class `cls` (which may change). */
void wp_flow_touch(struct wp_flow_table *t, struct wp_flow *f, enum wp_flow_class cls);

/* Remove `f` from the table and free it. */
void wp_flow_remove(struct wp_flow_table *t, struct wp_flow *f);

/* Number of flows in the table, and its limit (0: none). */
size_t wp_flow_count(const struct wp_flow_table *t);
size_t wp_flow_limit(const struct wp_flow_table *t);

/* The least recently used flow of class `cls` (or of all classes when
 * cls == WP_FC_COUNT), or NULL when there is none. */
struct wp_flow *wp_flow_oldest(const struct wp_flow_table *t, enum wp_flow_class cls);

/* Prefetch what evicting the least recently used flows will read: the
 * index slot of each class's oldest flow and the entry of the one after
 * it. Called after each eviction, a flood that evicts a flow per packet
 * then finds both in cache (docs/performance.md). A hint only. */
void wp_flow_prefetch_oldest(const struct wp_flow_table *t);

/* Call fn(ctx, f) for every flow: class by class, least recently seen
 * first; an order that depends only on the input, never on the hash key.
 * `fn` must not insert, remove or touch flows of this table. */
void wp_flow_foreach(const struct wp_flow_table *t, void (*fn)(void *ctx, struct wp_flow *f),
                     void *ctx);

/* Bytes held by the table: flows plus hash buckets (an estimate of heap use). */
size_t wp_flow_table_bytes(const struct wp_flow_table *t);

/* ---- fragments ---------------------------------------------------------- */

/* Remember that the datagram (family, proto, src, dst, id) whose first
 * fragment was just seen belongs to the flow `fk`. Bounded: the oldest
 * entries are forgotten past 65,536 or after 60 s of capture time. */
void wp_frag_remember(struct wp_flow_table *t, uint8_t family, uint8_t proto, const uint8_t *src,
                      const uint8_t *dst, uint32_t id, const struct wp_flow_key *fk,
                      int64_t now_ns);

/* Tests only: make the table's next `n`-th flow allocation fail (0: never),
 * as when memory runs out. */
void wp_flow_table_fail_alloc(struct wp_flow_table *t, size_t n);

/* Datagrams remembered now. */
size_t wp_frag_count(const struct wp_flow_table *t);

/* The flow key of a later fragment's datagram, or NULL when its first
 * fragment was not seen (or was forgotten). */
const struct wp_flow_key *wp_frag_lookup(struct wp_flow_table *t, uint8_t family, uint8_t proto,
                                         const uint8_t *src, const uint8_t *dst, uint32_t id,
                                         int64_t now_ns);

#endif
