/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the intrusive LRU list (include/wp/list.h) */

#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "wp/list.h"

struct item {
    int id;
    struct wp_link lru;
    int guard; /* the link is not the first member: WP_LIST_ITEM must subtract */
};

/* Whether `l`, read head to tail and back, holds exactly the ids `want`. */
static int holds(const struct wp_list *l, const int *want, size_t n)
{
    size_t i = 0;
    const struct wp_link *prev = NULL;
    for (struct wp_link *k = l->head; k != NULL; k = k->next, i++) {
        const struct item *it = WP_LIST_ITEM(k, struct item, lru);
        if (i >= n || it->id != want[i] || k->prev != prev || it->guard != 7)
            return 0;
        prev = k;
    }
    if (i != n || l->tail != prev)
        return 0;
    i = n;
    for (struct wp_link *k = l->tail; k != NULL; k = k->prev)
        if (i == 0 || WP_LIST_ITEM(k, struct item, lru)->id != want[--i])
            return 0;
    return i == 0;
}

int main(void)
{
    struct item it[5];
    memset(it, 0, sizeof(it));
    for (int i = 0; i < 5; i++) {
        it[i].id = i;
        it[i].guard = 7;
    }
    struct wp_list l = {NULL, NULL};
    TAP_OK(holds(&l, NULL, 0), "empty list: no head, no tail");
    TAP_OK(WP_LIST_ITEM(l.tail, struct item, lru) == NULL, "item of a NULL link is NULL");

    wp_list_push(&l, &it[0].lru);
    TAP_OK(holds(&l, (const int[]){0}, 1), "one item is head and tail");
    for (int i = 1; i < 5; i++)
        wp_list_push(&l, &it[i].lru);
    TAP_OK(holds(&l, (const int[]){4, 3, 2, 1, 0}, 5), "push puts the newest at the head");
    TAP_OK(WP_LIST_ITEM(l.tail, struct item, lru) == &it[0], "the tail is the oldest item");

    wp_list_touch(&l, &it[0].lru);
    TAP_OK(holds(&l, (const int[]){0, 4, 3, 2, 1}, 5), "touching the tail moves it to the head");
    wp_list_touch(&l, &it[3].lru);
    TAP_OK(holds(&l, (const int[]){3, 0, 4, 2, 1}, 5),
           "touching a middle item moves it to the head");
    wp_list_touch(&l, &it[3].lru);
    TAP_OK(holds(&l, (const int[]){3, 0, 4, 2, 1}, 5), "touching the head changes nothing");

    wp_list_unlink(&l, &it[4].lru);
    TAP_OK(holds(&l, (const int[]){3, 0, 2, 1}, 4), "unlink from the middle");
    TAP_OK(it[4].lru.prev == NULL && it[4].lru.next == NULL, "an unlinked item's links are NULL");
    wp_list_unlink(&l, &it[3].lru);
    TAP_OK(holds(&l, (const int[]){0, 2, 1}, 3), "unlink the head");
    wp_list_unlink(&l, &it[1].lru);
    TAP_OK(holds(&l, (const int[]){0, 2}, 2), "unlink the tail");
    wp_list_unlink(&l, &it[0].lru);
    wp_list_unlink(&l, &it[2].lru);
    TAP_OK(holds(&l, NULL, 0), "unlinking every item empties the list");
    wp_list_push(&l, &it[4].lru);
    TAP_OK(holds(&l, (const int[]){4}, 1), "an emptied list takes items again");
    return tap_done();
}
