/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: an intrusive doubly linked list, kept in least-recently-used order
 *
 * The item embeds a struct wp_link and the list holds the two ends, so
 * moving an item costs no allocation and finding the oldest item is one
 * read. The tables use it most recent first: wp_list_push() puts an item at
 * the head, wp_list_touch() moves a seen item back there, and the tail is
 * the item seen least recently (the next to expire or evict).
 * WP_LIST_ITEM() turns a link back into its item. Nothing here allocates
 * or locks. */
#ifndef WP_LIST_H
#define WP_LIST_H

#include "wp/common.h"

struct wp_link {
    struct wp_link *prev, *next; /* towards the head, towards the tail */
};

struct wp_list {
    struct wp_link *head, *tail; /* most and least recently used; NULL when empty */
};

/* The item of type `type` whose member `member` is the link `l`, or NULL
 * when `l` is NULL. `l` is evaluated twice. */
#define WP_LIST_ITEM(l, type, member)                                                              \
    ((l) != NULL ? (type *)(void *)((char *)(l)-offsetof(type, member)) : (type *)NULL)

/* Put `n`, which is on no list, at the head of `l`. */
static inline void wp_list_push(struct wp_list *l, struct wp_link *n)
{
    n->prev = NULL;
    n->next = l->head;
    if (l->head != NULL)
        l->head->prev = n;
    l->head = n;
    if (l->tail == NULL)
        l->tail = n;
}

/* Take `n` off `l`, which holds it; its links are left NULL. */
static inline void wp_list_unlink(struct wp_list *l, struct wp_link *n)
{
    if (n->prev != NULL)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next != NULL)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

/* Move `n`, which `l` holds, to the head of `l` (most recently used). */
static inline void wp_list_touch(struct wp_list *l, struct wp_link *n)
{
    if (l->head == n)
        return;
    wp_list_unlink(l, n);
    wp_list_push(l, n);
}

#endif
