/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the flow table, its LRU lists and the fragment table */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/flow.h"

#define NS_PER_S 1000000000LL

/* An IPv4 TCP/UDP key from a zeroed struct: 10.a.b.c:sp <-> 192.0.2.1:dp. */
static struct wp_flow_key key4(uint32_t n, uint16_t sp, uint16_t dp, uint8_t proto)
{
    struct wp_flow_key k;
    memset(&k, 0, sizeof(k));
    k.addr[0][0] = 10;
    k.addr[0][1] = (uint8_t)(n >> 16);
    k.addr[0][2] = (uint8_t)(n >> 8);
    k.addr[0][3] = (uint8_t)n;
    k.addr[1][0] = 192;
    k.addr[1][1] = 0;
    k.addr[1][2] = 2;
    k.addr[1][3] = 1;
    k.port[0] = sp;
    k.port[1] = dp;
    k.vlan = 0xffff;
    k.vlan_inner = 0xffff;
    k.proto = proto;
    k.family = 4;
    return k;
}

static void count_one(void *ctx, struct wp_flow *f)
{
    (void)f;
    (*(size_t *)ctx)++;
}

struct sum_ctx {
    size_t n;
    uint64_t sum;
};

static void sum_pkts(void *ctx, struct wp_flow *f)
{
    struct sum_ctx *s = ctx;
    s->n++;
    s->sum += f->pkts[0];
}

static void test_basic(void)
{
    struct wp_flow_table *t = wp_flow_table_new(0);
    if (!TAP_OK(t != NULL, "table created"))
        return;
    TAP_EQ(wp_flow_count(t), 0, "new table is empty");
    TAP_EQ(wp_flow_limit(t), 0, "no limit");
    TAP_OK(wp_flow_oldest(t, WP_FC_COUNT) == NULL, "no oldest flow in an empty table");
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == NULL, "no oldest TCP flow in an empty table");

    struct wp_flow_key ka = key4(1, 40000, 443, 6);
    struct wp_flow_key kb = key4(2, 40000, 443, 6);
    struct wp_flow_key kc = key4(3, 40000, 443, 6);
    TAP_OK(wp_flow_find(t, &ka) == NULL, "find in an empty table is NULL");

    struct wp_flow *a = wp_flow_insert(t, &ka, WP_FC_TCP);
    struct wp_flow *b = wp_flow_insert(t, &kb, WP_FC_TCP);
    struct wp_flow *c = wp_flow_insert(t, &kc, WP_FC_TCP);
    if (!TAP_OK(a != NULL && b != NULL && c != NULL, "three flows inserted")) {
        wp_flow_table_free(t);
        return;
    }
    TAP_EQ(wp_flow_count(t), 3, "count 3");
    TAP_OK(wp_flow_find(t, &ka) == a && wp_flow_find(t, &kb) == b && wp_flow_find(t, &kc) == c,
           "each key finds its flow");
    TAP_OK(memcmp(&a->key, &ka, sizeof(ka)) == 0, "the flow holds its key");
    TAP_OK(a->pkts[0] == 0 && a->pkts[1] == 0 && a->bytes[0] == 0 && a->bytes[1] == 0 &&
               a->server == 0 && a->how == 0 && a->bits == 0 && a->first_ns == 0 &&
               a->last_ns == 0 && a->name_id == 0,
           "a new flow is zeroed");
    TAP_EQ(a->cls, WP_FC_TCP, "a new flow has its class");

    /* keys that differ in one field are different flows */
    struct wp_flow_key k = ka;
    k.vlan = 7;
    TAP_OK(wp_flow_find(t, &k) == NULL, "a different VLAN is a different key");
    k = ka;
    k.proto = 17;
    TAP_OK(wp_flow_find(t, &k) == NULL, "a different protocol is a different key");
    k = ka;
    k.port[1] = 444;
    TAP_OK(wp_flow_find(t, &k) == NULL, "a different port is a different key");
    k = ka;
    k.family = 6;
    TAP_OK(wp_flow_find(t, &k) == NULL, "a different family is a different key");
    k = ka;
    k.addr[1][15] = 1;
    TAP_OK(wp_flow_find(t, &k) == NULL, "a byte after the IPv4 address matters");

    /* LRU within a class: A, B, C inserted, A touched -> B is the oldest */
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == a, "oldest TCP flow is A (first inserted)");
    wp_flow_touch(t, a, WP_FC_TCP);
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == b, "after touching A, the oldest is B");
    wp_flow_touch(t, a, WP_FC_TCP); /* A is the head: no change */
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == b, "touching the newest keeps B oldest");
    wp_flow_touch(t, b, WP_FC_TCP);
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == c, "after touching B, the oldest is C");
    TAP_OK(wp_flow_oldest(t, WP_FC_OTHER) == NULL, "class OTHER is empty");
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP_CLOSED) == NULL, "class TCP_CLOSED is empty");
    /* TCP list, newest first: B A C */

    /* moving C to another class */
    wp_flow_touch(t, c, WP_FC_TCP_CLOSED);
    TAP_EQ(c->cls, WP_FC_TCP_CLOSED, "C moved to TCP_CLOSED");
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP_CLOSED) == c, "C is the oldest TCP_CLOSED flow");
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == a, "A is now the oldest TCP flow");
    TAP_EQ(wp_flow_count(t), 3, "moving keeps the count");
    TAP_OK(wp_flow_find(t, &kc) == c, "a moved flow is still found");
    wp_flow_touch(t, a, WP_FC_OTHER);
    TAP_OK(wp_flow_oldest(t, WP_FC_OTHER) == a, "A moved to OTHER");
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == b, "B alone in TCP");

    /* oldest across classes: the smallest last_ns among the class tails */
    a->last_ns = 300;
    b->last_ns = 100;
    c->last_ns = 200;
    TAP_OK(wp_flow_oldest(t, WP_FC_COUNT) == b, "across classes: B (last_ns 100)");
    b->last_ns = 400;
    TAP_OK(wp_flow_oldest(t, WP_FC_COUNT) == c, "across classes: C (last_ns 200)");
    c->last_ns = 500;
    TAP_OK(wp_flow_oldest(t, WP_FC_COUNT) == a, "across classes: A (last_ns 300)");

    /* back to the same class: the moved flow is the most recent */
    wp_flow_touch(t, c, WP_FC_TCP);
    wp_flow_touch(t, a, WP_FC_TCP);
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP_CLOSED) == NULL && wp_flow_oldest(t, WP_FC_OTHER) == NULL,
           "classes emptied by moving back");
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == b, "TCP list B C A: B oldest");

    /* removal */
    wp_flow_remove(t, c); /* the middle of the list */
    TAP_EQ(wp_flow_count(t), 2, "count 2 after removing C");
    TAP_OK(wp_flow_find(t, &kc) == NULL, "C no longer found");
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == b, "B still oldest");
    wp_flow_remove(t, b); /* the tail */
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == a, "after removing B, A is oldest");
    TAP_OK(wp_flow_find(t, &ka) == a, "A still found");
    wp_flow_remove(t, a); /* the only one */
    TAP_EQ(wp_flow_count(t), 0, "count 0");
    TAP_OK(wp_flow_oldest(t, WP_FC_TCP) == NULL && wp_flow_oldest(t, WP_FC_COUNT) == NULL,
           "no oldest after removing everything");

    /* re-insertion after removal */
    a = wp_flow_insert(t, &ka, WP_FC_OTHER);
    TAP_OK(a != NULL && wp_flow_find(t, &ka) == a && wp_flow_count(t) == 1,
           "a removed key can be inserted again");
    TAP_OK(a != NULL && a->pkts[0] == 0 && a->last_ns == 0 && a->cls == WP_FC_OTHER,
           "the reinserted flow is zeroed");

    size_t n = 0;
    wp_flow_foreach(t, count_one, &n);
    TAP_EQ(n, 1, "foreach visits one flow");
    TAP_OK(wp_flow_table_bytes(t) > 0, "table bytes reported");
    wp_flow_table_free(t);
    wp_flow_table_free(NULL);
    TAP_OK(1, "wp_flow_table_free(NULL) is harmless");

    t = wp_flow_table_new(5);
    TAP_OK(t != NULL && wp_flow_limit(t) == 5, "limit reported");
    wp_flow_table_free(t);
}

/* LRU order over many flows in one class: oldest-first removal gives the
 * insertion order with touched flows moved to the end. */
static void test_lru_order(void)
{
    struct wp_flow_table *t = wp_flow_table_new(0);
    if (t == NULL)
        return;
    struct wp_flow *f[8];
    for (uint32_t i = 0; i < 8; i++) {
        struct wp_flow_key k = key4(i, 1000, 2000, 17);
        f[i] = wp_flow_insert(t, &k, WP_FC_OTHER);
        if (f[i] == NULL) {
            TAP_OK(0, "insert");
            wp_flow_table_free(t);
            return;
        }
        f[i]->pkts[0] = i; /* identifies the flow */
    }
    wp_flow_touch(t, f[2], WP_FC_OTHER);
    wp_flow_touch(t, f[0], WP_FC_OTHER);
    wp_flow_remove(t, f[5]);
    /* expected oldest-first: 1 3 4 6 7 2 0 */
    static const uint64_t want[] = {1, 3, 4, 6, 7, 2, 0};
    bool ok = true;
    for (size_t i = 0; i < WP_ARRAY_LEN(want); i++) {
        struct wp_flow *o = wp_flow_oldest(t, WP_FC_OTHER);
        if (o == NULL || o->pkts[0] != want[i]) {
            ok = false;
            printf("#   position %zu: got %lld, expected %llu\n", i,
                   o != NULL ? (long long)o->pkts[0] : -1LL, (unsigned long long)want[i]);
            break;
        }
        wp_flow_remove(t, o);
    }
    TAP_OK(ok, "oldest-first order after touches and a removal: 1 3 4 6 7 2 0");
    TAP_EQ(wp_flow_count(t), 0, "all removed");
    wp_flow_table_free(t);
}

static void test_many(void)
{
    const uint32_t n = 100000;
    struct wp_flow_table *t = wp_flow_table_new(0);
    if (t == NULL)
        return;
    size_t empty_bytes = wp_flow_table_bytes(t);
    bool ok = true;
    for (uint32_t i = 0; i < n && ok; i++) {
        struct wp_flow_key k = key4(i, (uint16_t)(i & 0xffff), 443, 6);
        struct wp_flow *f = wp_flow_insert(t, &k, (enum wp_flow_class)(i % 3));
        ok = f != NULL;
        if (ok)
            f->pkts[0] = i;
    }
    TAP_OK(ok, "100000 inserts succeed");
    TAP_EQ(wp_flow_count(t), n, "count 100000");
    TAP_OK(wp_flow_table_bytes(t) > empty_bytes + (size_t)n * sizeof(struct wp_flow),
           "table bytes grow with the flows");

    bool found = true;
    for (uint32_t i = 0; i < n; i++) {
        struct wp_flow_key k = key4(i, (uint16_t)(i & 0xffff), 443, 6);
        struct wp_flow *f = wp_flow_find(t, &k);
        if (f == NULL || f->pkts[0] != i || f->cls != i % 3) {
            found = false;
            break;
        }
    }
    TAP_OK(found, "every flow found with its data and class");

    struct sum_ctx s = {0, 0};
    wp_flow_foreach(t, sum_pkts, &s);
    TAP_EQ(s.n, n, "foreach visits 100000 flows");
    TAP_EQ(s.sum, (uint64_t)n * (n - 1) / 2, "foreach visits each flow once (sum of ids)");

    /* remove every other flow, then the rest */
    bool removed = true;
    for (uint32_t i = 0; i < n; i += 2) {
        struct wp_flow_key k = key4(i, (uint16_t)(i & 0xffff), 443, 6);
        struct wp_flow *f = wp_flow_find(t, &k);
        if (f == NULL) {
            removed = false;
            break;
        }
        wp_flow_remove(t, f);
    }
    TAP_EQ(wp_flow_count(t), n / 2, "count 50000 after removing the even ones");
    for (uint32_t i = 1; i < n && removed; i += 2) {
        struct wp_flow_key k = key4(i, (uint16_t)(i & 0xffff), 443, 6);
        struct wp_flow *f = wp_flow_find(t, &k);
        if (f == NULL) {
            removed = false;
            break;
        }
        wp_flow_remove(t, f);
    }
    TAP_OK(removed, "every flow found again for removal");
    TAP_EQ(wp_flow_count(t), 0, "count back to 0");
    TAP_OK(wp_flow_oldest(t, WP_FC_COUNT) == NULL, "no oldest flow left");
    struct wp_flow_key k0 = key4(0, 0, 443, 6);
    TAP_OK(wp_flow_find(t, &k0) == NULL, "a removed key is not found");

    /* the memory is reused, and flows left in the table are freed with it */
    ok = true;
    for (uint32_t i = 0; i < 5000 && ok; i++) {
        struct wp_flow_key k = key4(i, 7, 8, 17);
        ok = wp_flow_insert(t, &k, WP_FC_OTHER) != NULL;
    }
    TAP_OK(ok && wp_flow_count(t) == 5000, "5000 flows inserted after emptying");
    /* remove oldest-first through the LRU */
    uint32_t i = 0;
    for (struct wp_flow *o; (o = wp_flow_oldest(t, WP_FC_OTHER)) != NULL && i < 1000; i++) {
        struct wp_flow_key k = key4(i, 7, 8, 17);
        if (memcmp(&o->key, &k, sizeof(k)) != 0)
            break;
        wp_flow_remove(t, o);
    }
    TAP_EQ(i, 1000, "the oldest 1000 come out in insertion order");
    TAP_EQ(wp_flow_count(t), 4000, "4000 left; freed with the table");
    wp_flow_table_free(t);
}

static void test_frags(void)
{
    struct wp_flow_table *t = wp_flow_table_new(0);
    if (t == NULL)
        return;
    /* 16-byte buffers; for IPv4 only the first 4 bytes are the address */
    uint8_t src[16] = {10, 0, 0, 1}, dst[16] = {17, 57, 144, 20};
    struct wp_flow_key fk = key4(1, 51000, 5223, 17);
    struct wp_flow_key fk2 = key4(2, 51001, 5223, 17);
    const int64_t t0 = 1700000000LL * NS_PER_S;

    TAP_OK(wp_frag_lookup(t, 4, 17, src, dst, 77, t0) == NULL, "nothing remembered yet");
    wp_frag_remember(t, 4, 17, src, dst, 77, &fk, t0);
    const struct wp_flow_key *got = wp_frag_lookup(t, 4, 17, src, dst, 77, t0 + 1);
    TAP_OK(got != NULL && memcmp(got, &fk, sizeof(fk)) == 0,
           "same (family, proto, src, dst, id): the flow key");
    TAP_OK(wp_frag_lookup(t, 4, 17, src, dst, 78, t0) == NULL, "different id: not found");
    TAP_OK(wp_frag_lookup(t, 4, 6, src, dst, 77, t0) == NULL, "different proto: not found");
    TAP_OK(wp_frag_lookup(t, 4, 17, dst, src, 77, t0) == NULL, "swapped addresses: not found");
    TAP_OK(wp_frag_lookup(t, 6, 17, src, dst, 77, t0) == NULL, "different family: not found");
    {
        uint8_t src2[16] = {10, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
        got = wp_frag_lookup(t, 4, 17, src2, dst, 77, t0);
        TAP_OK(got != NULL, "IPv4: bytes after the 4-byte address are ignored");
        uint8_t src3[16] = {10, 0, 0, 2};
        TAP_OK(wp_frag_lookup(t, 4, 17, src3, dst, 77, t0) == NULL, "other source: not found");
    }

    /* time to live: 60 s of capture time */
    got = wp_frag_lookup(t, 4, 17, src, dst, 77, t0 + 60 * NS_PER_S);
    TAP_OK(got != NULL, "found 60 s later");
    got = wp_frag_lookup(t, 4, 17, src, dst, 77, t0 + 60 * NS_PER_S + 1);
    TAP_OK(got == NULL, "forgotten after more than 60 s");
    got = wp_frag_lookup(t, 4, 17, src, dst, 77, t0 + 61 * NS_PER_S);
    TAP_OK(got == NULL, "still forgotten at 61 s");

    /* remembering again refreshes the entry and may change its flow */
    wp_frag_remember(t, 4, 17, src, dst, 90, &fk, t0);
    wp_frag_remember(t, 4, 17, src, dst, 90, &fk2, t0 + 30 * NS_PER_S);
    got = wp_frag_lookup(t, 4, 17, src, dst, 90, t0 + 80 * NS_PER_S);
    TAP_OK(got != NULL && memcmp(got, &fk2, sizeof(fk2)) == 0,
           "remembered again: the newer flow key and timestamp");

    /* IPv6 uses all 16 bytes */
    {
        uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        uint8_t d6[16] = {0x26, 0x20, 0x01, 0x49, 0x0a, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20};
        struct wp_flow_key k6;
        memset(&k6, 0, sizeof(k6));
        memcpy(k6.addr[0], s6, 16);
        memcpy(k6.addr[1], d6, 16);
        k6.port[0] = 5000;
        k6.port[1] = 443;
        k6.proto = 17;
        k6.family = 6;
        wp_frag_remember(t, 6, 17, s6, d6, 0xdeadbeefu, &k6, t0);
        got = wp_frag_lookup(t, 6, 17, s6, d6, 0xdeadbeefu, t0);
        TAP_OK(got != NULL && memcmp(got, &k6, sizeof(k6)) == 0, "IPv6 32-bit id found");
        d6[15] = 0x21;
        TAP_OK(wp_frag_lookup(t, 6, 17, s6, d6, 0xdeadbeefu, t0) == NULL,
               "IPv6: the last address byte matters");
    }
    wp_flow_table_free(t);

    /* bounded: 20000 distinct ids at one instant keep only the newest 16384 */
    t = wp_flow_table_new(0);
    if (t == NULL)
        return;
    size_t base = wp_flow_table_bytes(t);
    wp_frag_remember(t, 4, 17, src, dst, 0, &fk, t0);
    size_t unit = wp_flow_table_bytes(t) - base;
    TAP_OK(unit > 0, "a remembered fragment takes table bytes");
    TAP_EQ(wp_frag_count(t), 1, "one datagram remembered");
    for (uint32_t id = 1; id < 20000; id++)
        wp_frag_remember(t, 4, 17, src, dst, id, &fk, t0);
    TAP_EQ(wp_frag_count(t), 16384, "16384 entries kept of 20000");
    /* entries come in chunks of 1024: the first remember allocated one */
    size_t held = wp_flow_table_bytes(t);
    TAP_EQ(held, base + 16 * unit, "memory for 16384 entries (16 chunks), no more");
    TAP_OK(wp_frag_lookup(t, 4, 17, src, dst, 0, t0) == NULL, "the first id is forgotten");
    TAP_OK(wp_frag_lookup(t, 4, 17, src, dst, 3615, t0) == NULL,
           "id 3615 (the 3616th, last of the oldest 20000-16384) is forgotten");
    TAP_OK(wp_frag_lookup(t, 4, 17, src, dst, 3616, t0) != NULL, "id 3616 is kept");
    TAP_OK(wp_frag_lookup(t, 4, 17, src, dst, 19999, t0) != NULL, "the last id is kept");
    bool kept = true;
    for (uint32_t id = 3616; id < 20000 && kept; id++)
        kept = wp_frag_lookup(t, 4, 17, src, dst, id, t0) != NULL;
    TAP_OK(kept, "ids 3616..19999 all kept");

    /* entries older than 60 s are dropped when new ones are remembered */
    wp_frag_remember(t, 4, 17, src, dst, 100000, &fk, t0 + 61 * NS_PER_S);
    TAP_EQ(wp_frag_count(t), 1, "a remember 61 s later drops all older entries");
    TAP_EQ(wp_flow_table_bytes(t), held, "dropped entries are kept for reuse, none added");
    TAP_OK(wp_frag_lookup(t, 4, 17, src, dst, 100000, t0 + 61 * NS_PER_S) != NULL,
           "and keeps the new one");
    wp_flow_table_free(t);
}

int main(void)
{
    test_basic();
    test_lru_order();
    test_many();
    test_frags();
    return tap_done();
}
