/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the flow table: bidirectional flows keyed without padding
 *
 * Flows are carved from chunks of 1024 with a free list (no per-flow malloc
 * header; a flood of short flows reuses memory instead of fragmenting it)
 * and found through an open-addressing index: an array of 64-bit slots,
 * each holding a flow's 32-bit hash and its 32-bit number, probed linearly
 * and kept at most half full. A lookup reads one slot run (usually one cache
 * line) and the one flow whose hash matches: no chains to walk, and no
 * 56-byte hash handle in every flow. Removal shifts the following slots
 * back, so the index never holds tombstones.
 *
 * Each flow is also on one of three LRU lists (open TCP, closed TCP,
 * other), most recent first, so that idle flows of each class are found at
 * the list tails in O(1) and the least recently seen flow overall is one of
 * three tails.
 *
 * The fragment table is small and rare: uthash, with entries recycled. */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wp/flow.h"
#include "wp/hash.h"

#define CHUNK_FLOWS 1024u
#define INDEX_MIN   1024u

struct entry {
    struct wp_flow f;
    uint32_t idx;      /* flow number: chunk * CHUNK_FLOWS + position */
    uint32_t hash;
};
/* docs/design.md (Memory) states this size: a change to struct wp_flow
 * that grows it must be weighed there (and in the flood test's bytes per
 * flow). */
_Static_assert(sizeof(struct entry) == 168, "a flow entry is 168 bytes");

struct chunk {
    struct entry e[CHUNK_FLOWS];
};

/* Chunks are carved from blocks of 2 MiB, aligned, that the kernel may
 * back with one huge page each (MADV_HUGEPAGE): a flood of a million flows
 * then takes about 80 page faults instead of 40,000 (measured: the faults
 * were a sixth of the time on the 1M-flow flood, docs/performance.md). */
#define BLOCK_BYTES      (2u << 20)
#define CHUNKS_PER_BLOCK (BLOCK_BYTES / sizeof(struct chunk))
_Static_assert(CHUNKS_PER_BLOCK >= 1, "a block holds a chunk");

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
    struct wp_link lru; /* LRU, most recent first; lru.next links the free list */
    UT_hash_handle hh;
};

#define FRAG_MAX    16384u
#define FRAG_TTL_NS (60 * WP_NS_PER_S)

struct wp_flow_table {
    uint64_t *slots;           /* 0: empty; else hash << 32 | (idx + 1) */
    size_t mask;               /* number of slots - 1 */
    size_t count;
    size_t max;
    struct wp_list lru[WP_FC_COUNT];
    struct chunk **chunks;
    size_t n_chunks, cap_chunks;
    void **blocks; /* BLOCK_BYTES each; chunks are carved from the last */
    size_t n_blocks, block_used;
    struct entry *free_list;   /* linked through f.lru.next */
    size_t fail_after;         /* tests: fail the n-th allocation from now (0: never) */

    struct frag_entry *frags;  /* uthash */
    struct wp_list frag_lru;
    struct frag_entry *frag_free; /* linked through lru.next */
    struct frag_entry **frag_chunks;
    size_t n_frag_chunks;
    size_t n_frags, n_frag_allocs;
};

#define FRAG_CHUNK 1024u

static struct entry *entry_of(struct wp_flow *f)
{
    return (struct entry *)(void *)((char *)f - offsetof(struct entry, f));
}

/* The entry whose flow's link is `l` (NULL for NULL): the free list. */
static struct entry *entry_of_link(struct wp_link *l)
{
    return WP_LIST_ITEM(l, struct entry, f.lru);
}

static struct entry *entry_at(const struct wp_flow_table *t, uint32_t idx)
{
    return &t->chunks[idx / CHUNK_FLOWS]->e[idx % CHUNK_FLOWS];
}

/* `bytes` (a multiple of BLOCK_BYTES) of zeroed memory aligned on
 * BLOCK_BYTES, from the kernel, advised to be backed by huge pages: mapped
 * directly (not through malloc, whose alignment slack and debugging fills
 * would be resident too) and untouched until used. NULL when out of memory.
 * Freed with huge_free(p, bytes). */
static void *huge_alloc(size_t bytes)
{
    size_t len = bytes + BLOCK_BYTES;
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    size_t head = (BLOCK_BYTES - (uintptr_t)p % BLOCK_BYTES) % BLOCK_BYTES;
    if (head > 0)
        (void)munmap(p, head);
    (void)munmap(p + head + bytes, BLOCK_BYTES - head); /* the slack after */
#ifdef MADV_HUGEPAGE
    (void)madvise(p + head, bytes, MADV_HUGEPAGE);
#endif
    return p + head;
}

static void huge_free(void *p, size_t bytes)
{
    if (p != NULL)
        (void)munmap(p, bytes);
}

/* Index arrays of 2 MiB and more come from huge_alloc. */
#define INDEX_HUGE(n) ((n) * sizeof(uint64_t) >= BLOCK_BYTES)

/* A zeroed index of n slots (a power of two). */
static uint64_t *new_index(size_t n)
{
    if (!INDEX_HUGE(n))
        return calloc(n, sizeof(uint64_t));
    return huge_alloc(n * sizeof(uint64_t));
}

static void free_index(uint64_t *v, size_t n)
{
    if (INDEX_HUGE(n))
        huge_free(v, n * sizeof(uint64_t));
    else
        free(v);
}

struct wp_flow_table *wp_flow_table_new(size_t max_flows)
{
    struct wp_flow_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->slots = calloc(INDEX_MIN, sizeof(*t->slots));
    if (t->slots == NULL) {
        free(t);
        return NULL;
    }
    t->mask = INDEX_MIN - 1;
    t->max = max_flows;
    return t;
}

void wp_flow_table_free(struct wp_flow_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_blocks; i++)
        huge_free(t->blocks[i], BLOCK_BYTES);
    free(t->blocks);
    free(t->chunks);
    free_index(t->slots, t->mask + 1);
    HASH_CLEAR(hh, t->frags);
    for (size_t i = 0; i < t->n_frag_chunks; i++)
        free(t->frag_chunks[i]);
    free(t->frag_chunks);
    free(t);
}

uint32_t wp_flow_hash(const struct wp_flow_key *key)
{
    return wp_hash_bytes(key, sizeof(*key));
}

struct wp_flow *wp_flow_find_h(struct wp_flow_table *t, const struct wp_flow_key *key,
                               uint32_t hash)
{
    size_t i = hash & t->mask;
    for (;;) {
        uint64_t s = t->slots[i];
        if (s == 0)
            return NULL;
        if ((uint32_t)(s >> 32) == hash) {
            struct entry *e = entry_at(t, (uint32_t)s - 1);
            if (wp_flow_key_eq(&e->f.key, key))
                return &e->f;
        }
        i = (i + 1) & t->mask;
    }
}

struct wp_flow *wp_flow_find(struct wp_flow_table *t, const struct wp_flow_key *key)
{
    return wp_flow_find_h(t, key, wp_flow_hash(key));
}

/* Double the index. Returns false, leaving it as it was, when out of memory. */
static bool grow_index(struct wp_flow_table *t)
{
    size_t n = (t->mask + 1) * 2;
    uint64_t *ns = new_index(n);
    if (ns == NULL)
        return false;
    for (size_t i = 0; i <= t->mask; i++) {
        uint64_t s = t->slots[i];
        if (s == 0)
            continue;
        size_t j = (uint32_t)(s >> 32) & (n - 1);
        while (ns[j] != 0)
            j = (j + 1) & (n - 1);
        ns[j] = s;
    }
    free_index(t->slots, t->mask + 1);
    t->slots = ns;
    t->mask = n - 1;
    return true;
}

void wp_flow_table_fail_alloc(struct wp_flow_table *t, size_t n)
{
    t->fail_after = n;
}

/* A chunk from the current block, or from a new one. NULL when out of memory. */
static struct chunk *new_chunk(struct wp_flow_table *t)
{
    if (t->n_blocks == 0 || t->block_used == CHUNKS_PER_BLOCK) {
        void **v = realloc(t->blocks, (t->n_blocks + 1) * sizeof(*v));
        if (v == NULL)
            return NULL;
        t->blocks = v;
        void *b = huge_alloc(BLOCK_BYTES);
        if (b == NULL)
            return NULL;
        t->blocks[t->n_blocks++] = b;
        t->block_used = 0;
    }
    return (struct chunk *)t->blocks[t->n_blocks - 1] + t->block_used++;
}

static struct entry *alloc_entry(struct wp_flow_table *t)
{
    if (t->fail_after != 0 && --t->fail_after == 0)
        return NULL; /* injected failure */
    if (t->free_list == NULL) {
        if (t->n_chunks == t->cap_chunks) {
            size_t nc = t->cap_chunks ? t->cap_chunks * 2 : 16;
            struct chunk **v = realloc(t->chunks, nc * sizeof(*v));
            if (v == NULL)
                return NULL;
            t->chunks = v;
            t->cap_chunks = nc;
        }
        if (t->n_chunks >= UINT32_MAX / CHUNK_FLOWS - 1)
            return NULL;
        struct chunk *c = new_chunk(t);
        if (c == NULL)
            return NULL;
        uint32_t base = (uint32_t)(t->n_chunks * CHUNK_FLOWS);
        t->chunks[t->n_chunks++] = c;
        for (size_t i = CHUNK_FLOWS; i-- > 0;) {
            c->e[i].idx = base + (uint32_t)i;
            c->e[i].f.lru.next = t->free_list ? &t->free_list->f.lru : NULL;
            t->free_list = &c->e[i];
        }
    }
    struct entry *e = t->free_list;
    t->free_list = entry_of_link(e->f.lru.next);
    return e;
}

static void free_entry(struct wp_flow_table *t, struct entry *e)
{
    e->f.lru.next = t->free_list ? &t->free_list->f.lru : NULL;
    t->free_list = e;
}

struct wp_flow *wp_flow_insert(struct wp_flow_table *t, const struct wp_flow_key *key,
                               enum wp_flow_class cls)
{
    return wp_flow_insert_h(t, key, wp_flow_hash(key), cls);
}

struct wp_flow *wp_flow_insert_h(struct wp_flow_table *t, const struct wp_flow_key *key,
                                 uint32_t hash, enum wp_flow_class cls)
{
    if ((t->count + 1) * 2 > t->mask + 1 && !grow_index(t))
        return NULL;
    struct entry *e = alloc_entry(t);
    if (e == NULL)
        return NULL;
    uint32_t idx = e->idx;
    memset(e, 0, sizeof(*e));
    e->idx = idx;
    e->hash = hash;
    e->f.key = *key;
    e->f.cls = (uint8_t)cls;
    size_t i = hash & t->mask;
    while (t->slots[i] != 0)
        i = (i + 1) & t->mask;
    t->slots[i] = ((uint64_t)hash << 32) | ((uint64_t)idx + 1);
    wp_list_push(&t->lru[cls], &e->f.lru);
    t->count++;
    return &e->f;
}

void wp_flow_touch(struct wp_flow_table *t, struct wp_flow *f, enum wp_flow_class cls)
{
    struct wp_list *from = &t->lru[f->cls];
    if (from->head == &f->lru && f->cls == (uint8_t)cls)
        return;
    wp_list_unlink(from, &f->lru);
    f->cls = (uint8_t)cls;
    wp_list_push(&t->lru[cls], &f->lru);
}

/* Remove slot i and shift back the slots that probed past it. */
static void index_remove(struct wp_flow_table *t, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        uint64_t s = t->slots[j];
        if (s == 0)
            break;
        size_t home = (uint32_t)(s >> 32) & t->mask;
        /* move s into the hole at i unless its home lies in (i, j] */
        bool in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_between) {
            t->slots[i] = s;
            i = j;
        }
    }
    t->slots[i] = 0;
}

void wp_flow_remove(struct wp_flow_table *t, struct wp_flow *f)
{
    struct entry *e = entry_of(f);
    uint64_t want = ((uint64_t)e->hash << 32) | ((uint64_t)e->idx + 1);
    size_t i = e->hash & t->mask;
    while (t->slots[i] != want)
        i = (i + 1) & t->mask;
    index_remove(t, i);
    wp_list_unlink(&t->lru[f->cls], &f->lru);
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
        return WP_LIST_ITEM(t->lru[cls].tail, struct wp_flow, lru);
    struct wp_flow *best = NULL;
    for (int i = 0; i < WP_FC_COUNT; i++) {
        struct wp_flow *f = WP_LIST_ITEM(t->lru[i].tail, struct wp_flow, lru);
        if (f != NULL && (best == NULL || f->last_ns < best->last_ns))
            best = f;
    }
    return best;
}

void wp_flow_prefetch_oldest(const struct wp_flow_table *t)
{
    for (int c = 0; c < WP_FC_COUNT; c++) {
        struct wp_link *tail = t->lru[c].tail;
        if (tail == NULL)
            continue;
        /* the next victim: its entry was prefetched by the call before,
         * so reading its hash is cheap; fetch its index slot now */
        const struct entry *v = entry_of(WP_LIST_ITEM(tail, struct wp_flow, lru));
        __builtin_prefetch(&t->slots[v->hash & t->mask]);
        /* the one after it: its whole entry (three cache lines) */
        if (tail->prev != NULL) {
            const char *n = (const char *)entry_of(WP_LIST_ITEM(tail->prev, struct wp_flow, lru));
            __builtin_prefetch(n);
            __builtin_prefetch(n + 64);
            __builtin_prefetch(n + 128);
        }
    }
}

void wp_flow_foreach(const struct wp_flow_table *t, void (*fn)(void *ctx, struct wp_flow *f),
                     void *ctx)
{
    /* The LRU lists, oldest first, not the index: the index's order depends
     * on the per-run hash key, and what callers fold in this order (bounded
     * name lists, merged tables) must not change from run to run. */
    for (int c = 0; c < WP_FC_COUNT; c++) {
        struct wp_link *l = t->lru[c].tail;
        while (l != NULL) {
            struct wp_link *prev = l->prev;
            fn(ctx, &entry_of_link(l)->f);
            l = prev;
        }
    }
}

size_t wp_flow_table_bytes(const struct wp_flow_table *t)
{
    return sizeof(*t) + t->n_blocks * BLOCK_BYTES + (t->mask + 1) * sizeof(uint64_t) +
           t->cap_chunks * sizeof(struct chunk *) + t->n_frag_allocs * sizeof(struct frag_entry);
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

/* Put an entry that is on no list and in no table on the free list. */
static void frag_free_push(struct wp_flow_table *t, struct frag_entry *fe)
{
    fe->lru.next = t->frag_free != NULL ? &t->frag_free->lru : NULL;
    t->frag_free = fe;
}

static void frag_drop(struct wp_flow_table *t, struct frag_entry *fe)
{
    wp_list_unlink(&t->frag_lru, &fe->lru);
    HASH_DEL(t->frags, fe);
    frag_free_push(t, fe);
    t->n_frags--;
}

static void frag_expire(struct wp_flow_table *t, int64_t now_ns)
{
    struct frag_entry *old;
    while ((old = WP_LIST_ITEM(t->frag_lru.tail, struct frag_entry, lru)) != NULL &&
           (t->n_frags >= FRAG_MAX || now_ns - old->ts_ns > FRAG_TTL_NS))
        frag_drop(t, old);
}

void wp_frag_remember(struct wp_flow_table *t, uint8_t family, uint8_t proto, const uint8_t *src,
                      const uint8_t *dst, uint32_t id, const struct wp_flow_key *fk,
                      int64_t now_ns)
{
    struct frag_key k;
    frag_key_make(&k, family, proto, src, dst, id);
    unsigned hv = wp_hash_bytes(&k, sizeof(k));
    struct frag_entry *fe;
    HASH_FIND_BYHASHVALUE(hh, t->frags, &k, sizeof(k), hv, fe);
    if (fe != NULL) {
        fe->flow = *fk;
        fe->ts_ns = now_ns;
        wp_list_touch(&t->frag_lru, &fe->lru);
        return;
    }
    frag_expire(t, now_ns);
    if (t->frag_free == NULL) {
        /* entries come in chunks: one allocation per 1024 datagrams */
        struct frag_entry **v = realloc(t->frag_chunks, (t->n_frag_chunks + 1) * sizeof(*v));
        if (v == NULL)
            return; /* later fragments will count as unattributed */
        t->frag_chunks = v;
        struct frag_entry *c = malloc(FRAG_CHUNK * sizeof(*c));
        if (c == NULL)
            return;
        t->frag_chunks[t->n_frag_chunks++] = c;
        for (size_t i = 0; i + 1 < FRAG_CHUNK; i++)
            c[i].lru.next = &c[i + 1].lru;
        c[FRAG_CHUNK - 1].lru.next = NULL; /* the free list was empty */
        t->frag_free = &c[0];
        t->n_frag_allocs += FRAG_CHUNK;
    }
    fe = t->frag_free;
    t->frag_free = WP_LIST_ITEM(fe->lru.next, struct frag_entry, lru);
    memset(fe, 0, sizeof(*fe));
    fe->key = k;
    fe->flow = *fk;
    fe->ts_ns = now_ns;
    WP_HASH_ADD_BYHASH_OR_FAIL(hh, t->frags, &fe->key, sizeof(fe->key), hv, fe, {
        frag_free_push(t, fe);
        return;
    });
    wp_list_push(&t->frag_lru, &fe->lru);
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

size_t wp_frag_count(const struct wp_flow_table *t)
{
    return t->n_frags;
}
