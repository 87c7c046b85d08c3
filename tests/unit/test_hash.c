/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of WP_HASH_ADD_OR_FAIL: out of memory inside uthash */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* uthash allocates its table and buckets through uthash_malloc: fail it on
 * demand, as when memory runs out. */
static int fail_from = -1; /* fail every allocation from this one on; -1 never */
static int n_allocs;
static void *test_malloc(size_t n)
{
    if (fail_from >= 0 && n_allocs++ >= fail_from)
        return NULL;
    return malloc(n);
}
#define uthash_malloc(sz) test_malloc(sz)

#include "wp/hash.h"

struct ent {
    uint32_t key;
    UT_hash_handle hh;
};

/* Add key k; 1 when added, 0 when on_fail ran. */
static int add(struct ent **head, uint32_t k)
{
    struct ent *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return 0;
    e->key = k;
    WP_HASH_ADD_OR_FAIL(hh, *head, &e->key, sizeof(e->key), e, {
        free(e);
        return 0;
    });
    return 1;
}

static int add_byhash(struct ent **head, uint32_t k)
{
    struct ent *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return 0;
    e->key = k;
    uint32_t hv = wp_hash_bytes(&e->key, sizeof(e->key));
    WP_HASH_ADD_BYHASH_OR_FAIL(hh, *head, &e->key, sizeof(e->key), hv, e, {
        free(e);
        return 0;
    });
    return 1;
}

static void clear(struct ent **head)
{
    struct ent *e, *t;
    HASH_ITER (hh, *head, e, t) {
        HASH_DEL(*head, e);
        free(e);
    }
}

/* Add keys 0..n-1 with allocations failing from the `from`-th on; check
 * that exactly the keys reported added are found, and wp_hash_oom is
 * clear after each add. */
static void run(const char *what, int (*addfn)(struct ent **, uint32_t), int from, uint32_t n)
{
    struct ent *head = NULL;
    unsigned added = 0, failed = 0, wrong = 0, oom_left = 0;
    static uint8_t was_added[5000];
    fail_from = from;
    n_allocs = 0;
    for (uint32_t k = 0; k < n; k++) {
        was_added[k] = (uint8_t)addfn(&head, k);
        added += was_added[k];
        failed += !was_added[k];
        oom_left += wp_hash_oom != 0;
    }
    fail_from = -1;
    for (uint32_t k = 0; k < n; k++) {
        struct ent *e;
        HASH_FIND(hh, head, &k, sizeof(k), e);
        if ((e != NULL) != (was_added[k] != 0))
            wrong++;
    }
    TAP_EQ(HASH_COUNT(head), added, "%s, fail from %d: the table holds the items added", what,
           from);
    TAP_EQ(wrong, 0, "%s, fail from %d: exactly the added keys are found", what, from);
    TAP_EQ(oom_left, 0, "%s, fail from %d: wp_hash_oom is cleared", what, from);
    if (from == 0)
        TAP_EQ(failed, n, "%s: no table could be made, every add failed", what);
    else if (from < 0)
        TAP_EQ(failed, 0, "%s: no failure injected, every add succeeded", what);
    else
        TAP_OK(failed > 0 && added > 0, "%s, fail from %d: some adds succeeded, later ones failed",
               what, from);
    /* the table still works once memory is back */
    uint32_t k = n + 1;
    TAP_EQ(addfn(&head, k), 1, "%s, fail from %d: an add succeeds after the failures", what, from);
    clear(&head);
}

int main(void)
{
    wp_hash_seed(1, 2);
    run("add", add, -1, 5000);
    run("add", add, 0, 50);
    run("add", add, 2, 5000); /* the table and its first buckets, then no expansion */
    run("add by hash", add_byhash, -1, 5000);
    run("add by hash", add_byhash, 0, 50);
    run("add by hash", add_byhash, 2, 5000);
    return tap_done();
}
