/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the process table and a flow's process candidates
 *
 * The table interns processes (pid, name, path, user, container, source)
 * and (process, effective process) pairs into 16-bit ids. Entries live in
 * fixed chunks that never move, so a reader holding an id reads its entry
 * without the lock; interning takes the lock. Bounded at WP_PROC_MAX.
 *
 * A flow keeps two (process, effective process) candidates with their
 * packet counts (space-saving with k = 2); procstate.c votes per packet.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wp/proctab.h"
#include "wp/hash.h"

#define CHUNK    256u
#define NCHUNKS  256u /* CHUNK * NCHUNKS > WP_PROC_MAX */
#define NAME_CAP 64u
#define PATH_CAP 512u
#define USER_CAP 64u
#define CONT_CAP 128u

struct slot {
    struct wp_proc_entry e;
    char *mem; /* owns the entry's strings */
};

struct wp_proctab {
    pthread_mutex_t lock;
    struct slot *chunks[NCHUNKS];
    uint32_t *pchunks[NCHUNKS]; /* pairs: proc << 16 | eproc */
    uint32_t n, npairs;         /* ids in use: 1..n, 1..npairs */
    uint16_t *ix;               /* open addressing over process ids */
    uint32_t ix_mask;
    uint16_t *pix; /* over pair ids */
    uint32_t pix_mask;
    uint16_t *gix; /* over group ids (by name or pid) */
    uint32_t gix_mask;
};

struct wp_proctab *wp_proctab_new(void)
{
    struct wp_proctab *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

void wp_proctab_free(struct wp_proctab *t)
{
    if (t == NULL)
        return;
    for (uint32_t c = 0; c < NCHUNKS; c++) {
        if (t->chunks[c] != NULL) {
            for (uint32_t i = 0; i < CHUNK; i++)
                free(t->chunks[c][i].mem);
            free(t->chunks[c]);
        }
        free(t->pchunks[c]);
    }
    free(t->ix);
    free(t->pix);
    free(t->gix);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

const struct wp_proc_entry *wp_proctab_get(const struct wp_proctab *t, uint16_t id)
{
    if (id == 0)
        return NULL;
    const struct slot *c = t->chunks[id / CHUNK];
    return c != NULL ? &c[id % CHUNK].e : NULL;
}

void wp_proctab_pair_get(const struct wp_proctab *t, uint16_t pair, uint16_t *proc, uint16_t *eproc)
{
    *proc = *eproc = 0;
    if (pair == 0 || t->pchunks[pair / CHUNK] == NULL)
        return;
    uint32_t v = t->pchunks[pair / CHUNK][pair % CHUNK];
    *proc = (uint16_t)(v >> 16);
    *eproc = (uint16_t)(v & 0xffffu);
}

size_t wp_proctab_count(const struct wp_proctab *t)
{
    return t->n;
}

/* Views cut to what the table keeps. */
static struct wp_proc_str cut(struct wp_proc_str s, size_t cap)
{
    if (s.len > cap)
        s.len = (uint16_t)cap;
    return s;
}

static void normalise(const struct wp_proc_desc *d, struct wp_proc_desc *n)
{
    *n = *d;
    n->name = cut(d->name, NAME_CAP);
    n->path = cut(d->path, PATH_CAP);
    n->user = cut(d->user, USER_CAP);
    n->container = cut(d->container, CONT_CAP);
    if (n->pid < -1)
        n->pid = -1;
}

static bool str_eq(const char *kept, struct wp_proc_str s)
{
    if (kept == NULL)
        return s.len == 0;
    return strlen(kept) == s.len && memcmp(kept, s.p, s.len) == 0;
}

/* Equality of an entry and a normalised description. */
static bool entry_eq(const struct wp_proc_entry *e, const struct wp_proc_desc *d)
{
    return e->pid == d->pid && e->source == d->source && str_eq(e->name, d->name) &&
           str_eq(e->path, d->path) && str_eq(e->user, d->user) &&
           str_eq(e->container, d->container);
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

static uint64_t desc_hash(const struct wp_proc_desc *d)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    h = mix(h, &d->pid, sizeof(d->pid));
    h = mix(h, &d->source, 1);
    const struct wp_proc_str *s[4] = {&d->name, &d->path, &d->user, &d->container};
    for (int i = 0; i < 4; i++) {
        h = mix(h, &s[i]->len, sizeof(s[i]->len));
        if (s[i]->len)
            h = mix(h, s[i]->p, s[i]->len);
    }
    return h;
}

/* The group key of a description: its name, or its pid when nameless. */
static uint64_t group_hash(const struct wp_proc_str name, int64_t pid)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    if (name.len > 0)
        return mix(h, name.p, name.len);
    return mix(h ^ 1, &pid, sizeof(pid));
}

static bool group_eq(const struct wp_proc_entry *e, struct wp_proc_str name, int64_t pid)
{
    if (name.len > 0)
        return e->name != NULL && str_eq(e->name, name);
    return e->name == NULL && e->pid == pid;
}

/* Grow an index of ids (16-bit slots) to hold `need` at most half full;
 * `rehash` gives an id's hash. */
static bool ix_grow(uint16_t **ix, uint32_t *mask, uint32_t need,
                    uint64_t (*rehash)(const struct wp_proctab *, uint16_t),
                    const struct wp_proctab *t)
{
    uint32_t size = *ix ? *mask + 1 : 0;
    if (need * 2 < size)
        return true;
    uint32_t ns = size ? size * 2 : 256;
    while (need * 2 >= ns)
        ns *= 2;
    uint16_t *nx = calloc(ns, sizeof(*nx));
    if (nx == NULL)
        return false;
    for (uint32_t i = 0; i < size; i++) {
        uint16_t id = (*ix)[i];
        if (id == 0)
            continue;
        uint32_t j = (uint32_t)rehash(t, id) & (ns - 1);
        while (nx[j] != 0)
            j = (j + 1) & (ns - 1);
        nx[j] = id;
    }
    free(*ix);
    *ix = nx;
    *mask = ns - 1;
    return true;
}

static struct wp_proc_str sv(const char *s)
{
    struct wp_proc_str v = {s, (uint16_t)(s ? strlen(s) : 0)};
    return v;
}

static uint64_t rehash_proc(const struct wp_proctab *t, uint16_t id)
{
    const struct wp_proc_entry *e = wp_proctab_get(t, id);
    struct wp_proc_desc d = {e->pid,      sv(e->name),      sv(e->path),
                             sv(e->user), sv(e->container), e->source};
    return desc_hash(&d);
}

static uint64_t rehash_group(const struct wp_proctab *t, uint16_t id)
{
    const struct wp_proc_entry *e = wp_proctab_get(t, id);
    return group_hash(sv(e->name), e->pid);
}

static uint64_t pair_hash(uint32_t v)
{
    uint64_t x = v * UINT64_C(0x9e3779b97f4a7c15);
    return x ^ (x >> 29);
}

static uint64_t rehash_pair(const struct wp_proctab *t, uint16_t id)
{
    return pair_hash(t->pchunks[id / CHUNK][id % CHUNK]);
}

static char *put(char *dst, struct wp_proc_str s, const char **out)
{
    if (s.len == 0) {
        *out = NULL;
        return dst;
    }
    memcpy(dst, s.p, s.len);
    dst[s.len] = '\0';
    *out = dst;
    return dst + s.len + 1;
}

uint16_t wp_proctab_intern(struct wp_proctab *t, const struct wp_proc_desc *din)
{
    struct wp_proc_desc d;
    normalise(din, &d);
    uint64_t h = desc_hash(&d);
    uint16_t id = 0;
    pthread_mutex_lock(&t->lock);
    if (t->ix != NULL) {
        for (uint32_t j = (uint32_t)h & t->ix_mask; t->ix[j] != 0; j = (j + 1) & t->ix_mask)
            if (entry_eq(wp_proctab_get(t, t->ix[j]), &d)) {
                id = t->ix[j];
                goto out;
            }
    }
    if (t->n >= WP_PROC_MAX)
        goto out;
    if (!ix_grow(&t->ix, &t->ix_mask, t->n + 1, rehash_proc, t) ||
        !ix_grow(&t->gix, &t->gix_mask, t->n + 1, rehash_group, t))
        goto out;
    uint32_t nid = t->n + 1;
    if (t->chunks[nid / CHUNK] == NULL) {
        t->chunks[nid / CHUNK] = calloc(CHUNK, sizeof(struct slot));
        if (t->chunks[nid / CHUNK] == NULL)
            goto out;
    }
    size_t total = (size_t)d.name.len + d.path.len + d.user.len + d.container.len + 4;
    char *mem = malloc(total);
    if (mem == NULL)
        goto out;
    struct slot *sl = &t->chunks[nid / CHUNK][nid % CHUNK];
    struct wp_proc_entry *e = &sl->e;
    sl->mem = mem;
    char *p = mem;
    p = put(p, d.name, &e->name);
    p = put(p, d.path, &e->path);
    p = put(p, d.user, &e->user);
    (void)put(p, d.container, &e->container);
    e->pid = d.pid;
    e->source = d.source;
    t->n = nid;
    id = (uint16_t)nid;
    uint32_t j = (uint32_t)h & t->ix_mask;
    while (t->ix[j] != 0)
        j = (j + 1) & t->ix_mask;
    t->ix[j] = id;
    /* the group: the first process with this name (or this pid, nameless) */
    uint64_t gh = group_hash(d.name, d.pid);
    e->group = id;
    for (j = (uint32_t)gh & t->gix_mask; t->gix[j] != 0; j = (j + 1) & t->gix_mask) {
        const struct wp_proc_entry *g = wp_proctab_get(t, t->gix[j]);
        if (group_eq(g, d.name, d.pid)) {
            e->group = t->gix[j];
            break;
        }
    }
    if (t->gix[j] == 0)
        t->gix[j] = id;
out:
    pthread_mutex_unlock(&t->lock);
    return id;
}

uint16_t wp_proctab_pair(struct wp_proctab *t, uint16_t proc, uint16_t eproc)
{
    uint32_t v = (uint32_t)proc << 16 | eproc;
    uint64_t h = pair_hash(v);
    uint16_t id = 0;
    pthread_mutex_lock(&t->lock);
    if (t->pix != NULL) {
        for (uint32_t j = (uint32_t)h & t->pix_mask; t->pix[j] != 0; j = (j + 1) & t->pix_mask)
            if (t->pchunks[t->pix[j] / CHUNK][t->pix[j] % CHUNK] == v) {
                id = t->pix[j];
                goto out;
            }
    }
    if (t->npairs >= WP_PROC_MAX || !ix_grow(&t->pix, &t->pix_mask, t->npairs + 1, rehash_pair, t))
        goto out;
    uint32_t nid = t->npairs + 1;
    if (t->pchunks[nid / CHUNK] == NULL) {
        t->pchunks[nid / CHUNK] = calloc(CHUNK, sizeof(uint32_t));
        if (t->pchunks[nid / CHUNK] == NULL)
            goto out;
    }
    t->pchunks[nid / CHUNK][nid % CHUNK] = v;
    t->npairs = nid;
    id = (uint16_t)nid;
    uint32_t j = (uint32_t)h & t->pix_mask;
    while (t->pix[j] != 0)
        j = (j + 1) & t->pix_mask;
    t->pix[j] = id;
out:
    pthread_mutex_unlock(&t->lock);
    return id;
}

/* ---- flows ---------------------------------------------------------------- */

const char *wp_proc_unknown_name(enum wp_proc_unknown u)
{
    static const char *const names[WP_PU_COUNT] = {
        NULL,
#define WP_X(field, name) name,
        WP_ATTR_UNKNOWN_LIST(WP_X)
#undef WP_X
            "unanswered",
        "not_named",
    };
    return (unsigned)u < WP_PU_COUNT ? names[u] : NULL;
}

void wp_flow_process(const struct wp_proctab *t, const struct wp_flow *f, uint16_t *proc,
                     uint16_t *eproc)
{
    wp_proctab_pair_get(t, f->proc_pair[0], proc, eproc);
}

uint16_t wp_flow_app(const struct wp_proctab *t, const struct wp_flow *f, uint16_t *carrier)
{
    uint16_t p, e;
    wp_flow_process(t, f, &p, &e);
    *carrier = 0;
    if (e == 0)
        return p;
    if (p != 0) {
        const struct wp_proc_entry *pe = wp_proctab_get(t, p), *ee = wp_proctab_get(t, e);
        if (pe != NULL && ee != NULL && pe->group != ee->group)
            *carrier = p;
    }
    return e;
}

unsigned wp_flow_local(const struct wp_flow *f)
{
    if (f->pbits & WP_FP_LOCAL_KNOWN)
        return (f->pbits & WP_FP_LOCAL1) ? 1u : 0u;
    return 1u - f->server;
}

void wp_flow_proc_vote(struct wp_flow *f, uint16_t pair, uint32_t n)
{
    if (pair == 0 || n == 0)
        return;
    uint32_t add = n > 0xffffu ? 0xffffu : n;
    int slot;
    if (f->proc_pair[0] == pair || f->proc_n[0] == 0) {
        slot = 0;
    } else if (f->proc_pair[1] == pair || f->proc_n[1] == 0) {
        slot = 1;
        f->pbits |= WP_FP_MIXED;
    } else {
        /* a third process: it takes the weaker slot, inheriting its count */
        slot = 1;
        f->pbits |= WP_FP_MIXED;
    }
    f->proc_pair[slot] = pair;
    uint32_t sum = (uint32_t)f->proc_n[slot] + add;
    while (sum > 0xffffu) {
        sum = (sum + 1) / 2;
        f->proc_n[1 - slot] = (uint16_t)((f->proc_n[1 - slot] + 1u) / 2);
    }
    f->proc_n[slot] = (uint16_t)sum;
    if (f->proc_n[1] > f->proc_n[0]) {
        uint16_t p = f->proc_pair[0], c = f->proc_n[0];
        f->proc_pair[0] = f->proc_pair[1];
        f->proc_n[0] = f->proc_n[1];
        f->proc_pair[1] = p;
        f->proc_n[1] = c;
    }
}

void wp_flow_proc_merge(struct wp_flow *dst, const struct wp_flow *src)
{
    for (int i = 0; i < 2; i++)
        wp_flow_proc_vote(dst, src->proc_pair[i], src->proc_n[i]);
    if (src->pbits & WP_FP_MIXED)
        dst->pbits |= WP_FP_MIXED;
    if ((src->pbits & WP_FP_LOCAL_KNOWN) && !(dst->pbits & WP_FP_LOCAL_KNOWN))
        dst->pbits |= (uint8_t)(src->pbits & (WP_FP_LOCAL_KNOWN | WP_FP_LOCAL1));
    if (wp_flow_proc_unknown(dst) == WP_PU_NONE)
        wp_flow_set_proc_unknown(dst, wp_flow_proc_unknown(src));
}

/* ---- a record's view ------------------------------------------------------ */

uint64_t wp_proctab_view_hash(const struct wp_proc_view *v)
{
    struct wp_proc_desc p, e;
    normalise(&v->proc, &p);
    normalise(&v->eproc, &e);
    return (v->has_proc ? desc_hash(&p) : 0) * 31 + (v->has_eproc ? desc_hash(&e) : 7);
}

bool wp_proctab_pair_is_view(const struct wp_proctab *t, uint16_t pair,
                             const struct wp_proc_view *v)
{
    struct wp_proc_desc p, e;
    normalise(&v->proc, &p);
    normalise(&v->eproc, &e);
    uint16_t a, b;
    wp_proctab_pair_get(t, pair, &a, &b);
    const struct wp_proc_entry *pa = wp_proctab_get(t, a);
    const struct wp_proc_entry *pb = wp_proctab_get(t, b);
    return (v->has_proc ? pa != NULL && entry_eq(pa, &p) : pa == NULL) &&
           (v->has_eproc ? pb != NULL && entry_eq(pb, &e) : pb == NULL);
}

uint16_t wp_proctab_view_pair(struct wp_proctab *t, const struct wp_proc_view *v)
{
    struct wp_proc_desc p, e;
    normalise(&v->proc, &p);
    normalise(&v->eproc, &e);
    uint16_t a = 0, b = 0;
    if (v->has_proc && (a = wp_proctab_intern(t, &p)) == 0)
        return 0;
    if (v->has_eproc && (b = wp_proctab_intern(t, &e)) == 0)
        return 0;
    return wp_proctab_pair(t, a, b);
}
