/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the flow table: bidirectional flows keyed without padding
 *
 * Flows live in a uthash table keyed by struct wp_flow_key. Each flow is
 * also on one of three LRU lists (open TCP, closed TCP, other), most recent
 * first, so that idle flows of each class can be found from the list tails
 * in O(1) and the least recently seen flow overall is one of three tails.
 * Flows are carved from chunks with a free list: no per-flow malloc header,
 * and a flood of short flows reuses memory instead of fragmenting it. */

#include <stdlib.h>
#include <string.h>

#include "wp/flow.h"
#include "wp/hash.h"

#define CHUNK_FLOWS 1024u

struct entry {
    struct wp_flow f;
    UT_hash_handle hh;
};

struct chunk {
    struct chunk *next;
    struct entry e[CHUNK_FLOWS];
};

struct lru {
    struct wp_flow *head, *tail;
};

struct frag_key {
    uint8_t src[16];
    uint8_t dst[16];
    uint32_t id;
    uint8_t family;
    uint8_t proto;
    uint16_t zero;
};
_Static_assert(sizeof(struct frag_key) == 40, "frag_key must not contain padding");

struct frag_entry {
    struct frag_key key;
    struct wp_flow_key flow;
    int64_t ts_ns;
    struct frag_entry *prev, *next; /* LRU, most recent first */
    UT_hash_handle hh;
};

#define FRAG_MAX 65536u
#define FRAG_TTL_NS (60LL * 1000000000LL)

struct wp_flow_table {
    struct entry *head;        /* uthash */
    size_t count;
    size_t max;
    struct lru lru[WP_FC_COUNT];
    struct chunk *chunks;
    size_t n_chunks;
    struct entry *free_list;   /* linked through f.lru_next */

    struct frag_entry *frags;  /* uthash */
    struct frag_entry *frag_head, *frag_tail;
    size_t n_frags;
};

static struct entry *entry_of(struct wp_flow *f)
{
    return (struct entry *)(void *)((char *)f - offsetof(struct entry, f));
}

struct wp_flow_table *wp_flow_table_new(size_t max_flows)
{
    struct wp_flow_table *t = calloc(1, sizeof(*t));
    if (t != NULL)
        t->max = max_flows;
    return t;
}

void wp_flow_table_free(struct wp_flow_table *t)
{
    if (t == NULL)
        return;
    HASH_CLEAR(hh, t->head);
    struct chunk *c = t->chunks;
    while (c != NULL) {
        struct chunk *n = c->next;
        free(c);
        c = n;
    }
    struct frag_entry *fe, *tmp;
    HASH_ITER(hh, t->frags, fe, tmp) {
        HASH_DEL(t->frags, fe);
        free(fe);
    }
    free(t);
}

static void lru_unlink(struct lru *l, struct wp_flow *f)
{
    if (f->lru_prev != NULL)
        f->lru_prev->lru_next = f->lru_next;
    else
        l->head = f->lru_next;
    if (f->lru_next != NULL)
        f->lru_next->lru_prev = f->lru_prev;
    else
        l->tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_push(struct lru *l, struct wp_flow *f)
{
    f->lru_prev = NULL;
    f->lru_next = l->head;
    if (l->head != NULL)
        l->head->lru_prev = f;
    l->head = f;
    if (l->tail == NULL)
        l->tail = f;
}

struct wp_flow *wp_flow_find(struct wp_flow_table *t, const struct wp_flow_key *key)
{
    struct entry *e;
    HASH_FIND(hh, t->head, key, sizeof(*key), e);
    return e != NULL ? &e->f : NULL;
}

static struct entry *alloc_entry(struct wp_flow_table *t)
{
    if (t->free_list == NULL) {
        struct chunk *c = malloc(sizeof(*c));
        if (c == NULL)
            return NULL;
        c->next = t->chunks;
        t->chunks = c;
        t->n_chunks++;
        for (size_t i = CHUNK_FLOWS; i-- > 0;) {
            c->e[i].f.lru_next = t->free_list ? &t->free_list->f : NULL;
            t->free_list = &c->e[i];
        }
    }
    struct entry *e = t->free_list;
    t->free_list = e->f.lru_next ? entry_of(e->f.lru_next) : NULL;
    return e;
}

static void free_entry(struct wp_flow_table *t, struct entry *e)
{
    e->f.lru_next = t->free_list ? &t->free_list->f : NULL;
    t->free_list = e;
}

uint32_t wp_flow_hash(const struct wp_flow_key *key)
{
    return wp_hash_bytes(key, sizeof(*key));
}

struct wp_flow *wp_flow_find_h(struct wp_flow_table *t, const struct wp_flow_key *key,
                               uint32_t hash)
{
    struct entry *e;
    HASH_FIND_BYHASHVALUE(hh, t->head, key, sizeof(*key), hash, e);
    return e != NULL ? &e->f : NULL;
}

struct wp_flow *wp_flow_insert(struct wp_flow_table *t, const struct wp_flow_key *key,
                               enum wp_flow_class cls)
{
    return wp_flow_insert_h(t, key, wp_flow_hash(key), cls);
}

struct wp_flow *wp_flow_insert_h(struct wp_flow_table *t, const struct wp_flow_key *key,
                                 uint32_t hash, enum wp_flow_class cls)
{
    struct entry *e = alloc_entry(t);
    if (e == NULL)
        return NULL;
    memset(e, 0, sizeof(*e));
    e->f.key = *key;
    e->f.cls = (uint8_t)cls;
    wp_hash_oom = 0;
    HASH_ADD_BYHASHVALUE(hh, t->head, f.key, sizeof(e->f.key), hash, e);
    if (wp_hash_oom) {
        wp_hash_oom = 0;
        free_entry(t, e);
        return NULL;
    }
    lru_push(&t->lru[cls], &e->f);
    t->count++;
    return &e->f;
}

void wp_flow_touch(struct wp_flow_table *t, struct wp_flow *f, enum wp_flow_class cls)
{
    struct lru *from = &t->lru[f->cls];
    if (from->head == f && f->cls == (uint8_t)cls)
        return;
    lru_unlink(from, f);
    f->cls = (uint8_t)cls;
    lru_push(&t->lru[cls], f);
}

void wp_flow_remove(struct wp_flow_table *t, struct wp_flow *f)
{
    struct entry *e = entry_of(f);
    lru_unlink(&t->lru[f->cls], f);
    HASH_DELETE(hh, t->head, e);
    t->count--;
    free_entry(t, e);
}

size_t wp_flow_count(const struct wp_flow_table *t)
{
    return t->count;
}

size_t wp_flow_limit(const struct wp_flow_table *t)
{
    return t->max;
}

struct wp_flow *wp_flow_oldest(const struct wp_flow_table *t, enum wp_flow_class cls)
{
    if (cls != WP_FC_COUNT)
        return t->lru[cls].tail;
    struct wp_flow *best = NULL;
    for (int i = 0; i < WP_FC_COUNT; i++) {
        struct wp_flow *f = t->lru[i].tail;
        if (f != NULL && (best == NULL || f->last_ns < best->last_ns))
            best = f;
    }
    return best;
}

void wp_flow_foreach(const struct wp_flow_table *t, void (*fn)(void *ctx, struct wp_flow *f),
                     void *ctx)
{
    for (struct entry *e = t->head; e != NULL; e = e->hh.next)
        fn(ctx, &e->f);
}

size_t wp_flow_table_bytes(const struct wp_flow_table *t)
{
    size_t b = sizeof(*t) + t->n_chunks * sizeof(struct chunk);
    if (t->head != NULL)
        b += t->head->hh.tbl->num_buckets * sizeof(UT_hash_bucket) + sizeof(UT_hash_table);
    b += t->n_frags * sizeof(struct frag_entry);
    return b;
}

/* ---- fragments ---------------------------------------------------------- */

static void frag_key_make(struct frag_key *k, uint8_t family, uint8_t proto, const uint8_t *src,
                          const uint8_t *dst, uint32_t id)
{
    memset(k, 0, sizeof(*k));
    size_t n = family == 4 ? 4 : 16;
    memcpy(k->src, src, n);
    memcpy(k->dst, dst, n);
    k->id = id;
    k->family = family;
    k->proto = proto;
}

static void frag_unlink(struct wp_flow_table *t, struct frag_entry *fe)
{
    if (fe->prev != NULL)
        fe->prev->next = fe->next;
    else
        t->frag_head = fe->next;
    if (fe->next != NULL)
        fe->next->prev = fe->prev;
    else
        t->frag_tail = fe->prev;
    fe->prev = fe->next = NULL;
}

static void frag_push(struct wp_flow_table *t, struct frag_entry *fe)
{
    fe->next = t->frag_head;
    fe->prev = NULL;
    if (t->frag_head != NULL)
        t->frag_head->prev = fe;
    t->frag_head = fe;
    if (t->frag_tail == NULL)
        t->frag_tail = fe;
}

static void frag_drop(struct wp_flow_table *t, struct frag_entry *fe)
{
    frag_unlink(t, fe);
    HASH_DEL(t->frags, fe);
    free(fe);
    t->n_frags--;
}

static void frag_expire(struct wp_flow_table *t, int64_t now_ns)
{
    while (t->frag_tail != NULL &&
           (t->n_frags >= FRAG_MAX || now_ns - t->frag_tail->ts_ns > FRAG_TTL_NS))
        frag_drop(t, t->frag_tail);
}

void wp_frag_remember(struct wp_flow_table *t, uint8_t family, uint8_t proto, const uint8_t *src,
                      const uint8_t *dst, uint32_t id, const struct wp_flow_key *fk,
                      int64_t now_ns)
{
    struct frag_key k;
    frag_key_make(&k, family, proto, src, dst, id);
    struct frag_entry *fe;
    HASH_FIND(hh, t->frags, &k, sizeof(k), fe);
    if (fe != NULL) {
        fe->flow = *fk;
        fe->ts_ns = now_ns;
        frag_unlink(t, fe);
        frag_push(t, fe);
        return;
    }
    frag_expire(t, now_ns);
    fe = calloc(1, sizeof(*fe));
    if (fe == NULL)
        return; /* later fragments will count as unattributed */
    fe->key = k;
    fe->flow = *fk;
    fe->ts_ns = now_ns;
    wp_hash_oom = 0;
    HASH_ADD(hh, t->frags, key, sizeof(fe->key), fe);
    if (wp_hash_oom) {
        wp_hash_oom = 0;
        free(fe);
        return;
    }
    frag_push(t, fe);
    t->n_frags++;
}

const struct wp_flow_key *wp_frag_lookup(struct wp_flow_table *t, uint8_t family, uint8_t proto,
                                         const uint8_t *src, const uint8_t *dst, uint32_t id,
                                         int64_t now_ns)
{
    struct frag_key k;
    frag_key_make(&k, family, proto, src, dst, id);
    struct frag_entry *fe;
    HASH_FIND(hh, t->frags, &k, sizeof(k), fe);
    if (fe == NULL)
        return NULL;
    if (now_ns - fe->ts_ns > FRAG_TTL_NS) {
        frag_drop(t, fe);
        return NULL;
    }
    return &fe->flow;
}
