/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: baseline comparison: what a capture has that a capture without the app lacked
 *
 * The baseline is four sorted tables (service ports, server addresses,
 * names, process names), each entry with its bytes; a report row is looked
 * up by binary search and compared by bytes per second, so captures of
 * different lengths compare fairly.
 */

#include <stdlib.h>
#include <string.h>

#include "wp/baseline.h"

struct ent {
    uint8_t key[20];             /* port key, or family + address */
    char *s;                     /* name or process name (owned) */
    uint64_t bytes;
};

struct table {
    struct ent *v;
    size_t n, cap;
};

struct wp_baseline {
    double seconds;
    struct table ports, hosts, names, procs;
};

struct wp_baseline *wp_baseline_new(double seconds)
{
    struct wp_baseline *b = calloc(1, sizeof(*b));
    if (b != NULL)
        b->seconds = seconds < 1.0 ? 1.0 : seconds;
    return b;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].s);
    free(t->v);
}

void wp_baseline_free(struct wp_baseline *b)
{
    if (b == NULL)
        return;
    table_free(&b->ports);
    table_free(&b->hosts);
    table_free(&b->names);
    table_free(&b->procs);
    free(b);
}

static int add(struct table *t, const uint8_t *key, const char *s, uint64_t bytes)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        struct ent *nv = realloc(t->v, nc * sizeof(*nv));
        if (nv == NULL)
            return -1;
        t->v = nv;
        t->cap = nc;
    }
    struct ent *e = &t->v[t->n];
    memset(e, 0, sizeof(*e));
    if (key != NULL)
        memcpy(e->key, key, sizeof(e->key));
    if (s != NULL && (e->s = strdup(s)) == NULL)
        return -1;
    e->bytes = bytes;
    t->n++;
    return 0;
}

static void port_bytes(uint8_t out[20], const struct wp_port_key *k)
{
    memset(out, 0, 20);
    out[0] = k->proto;
    out[1] = k->has_port;
    out[2] = (uint8_t)(k->port >> 8);
    out[3] = (uint8_t)k->port;
}

static void host_bytes(uint8_t out[20], uint8_t family, const uint8_t *addr)
{
    memset(out, 0, 20);
    out[0] = family;
    memcpy(out + 1, addr, family == 4 ? 4 : 16);
}

int wp_baseline_add_port(struct wp_baseline *b, const struct wp_port_key *k, uint64_t bytes)
{
    uint8_t key[20];
    port_bytes(key, k);
    return add(&b->ports, key, NULL, bytes);
}

int wp_baseline_add_host(struct wp_baseline *b, uint8_t family, const uint8_t *addr,
                         uint64_t bytes)
{
    uint8_t key[20];
    host_bytes(key, family, addr);
    return add(&b->hosts, key, NULL, bytes);
}

int wp_baseline_add_name(struct wp_baseline *b, const char *name, uint64_t bytes)
{
    return add(&b->names, NULL, name, bytes);
}

int wp_baseline_add_process(struct wp_baseline *b, const char *name, uint64_t bytes)
{
    return add(&b->procs, NULL, name, bytes);
}

static int cmp_ent(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    if (x->s != NULL || y->s != NULL)
        return strcmp(x->s ? x->s : "", y->s ? y->s : "");
    return memcmp(x->key, y->key, sizeof(x->key));
}

/* Sort and fold equal keys into one entry (bytes add). */
static void seal(struct table *t)
{
    if (t->n == 0)
        return;
    qsort(t->v, t->n, sizeof(t->v[0]), cmp_ent);
    size_t k = 0;
    for (size_t i = 1; i < t->n; i++) {
        if (cmp_ent(&t->v[k], &t->v[i]) == 0) {
            t->v[k].bytes += t->v[i].bytes;
            free(t->v[i].s);
        } else {
            t->v[++k] = t->v[i];
        }
    }
    t->n = k + 1;
}

void wp_baseline_seal(struct wp_baseline *b)
{
    seal(&b->ports);
    seal(&b->hosts);
    seal(&b->names);
    seal(&b->procs);
}

static struct wp_bl_mark mark(const struct wp_baseline *b, const struct table *t,
                              const struct ent *probe, uint64_t bytes, double seconds)
{
    struct wp_bl_mark m = {WP_BL_NEW, 0, 0.0};
    const struct ent *e = t->n ? bsearch(probe, t->v, t->n, sizeof(t->v[0]), cmp_ent) : NULL;
    if (e == NULL)
        return m;
    m.baseline_bytes = e->bytes;
    if (seconds < 1.0)
        seconds = 1.0;
    double here = (double)bytes / seconds;
    double there = (double)e->bytes / b->seconds;
    m.ratio = there > 0 ? here / there : 0.0;
    m.status = (there > 0 && m.ratio >= WP_BASELINE_GROWN) ? WP_BL_GROWN : WP_BL_SEEN;
    return m;
}

struct wp_bl_mark wp_baseline_port(const struct wp_baseline *b, const struct wp_port_key *k,
                                   uint64_t bytes, double seconds)
{
    struct ent p;
    memset(&p, 0, sizeof(p));
    port_bytes(p.key, k);
    return mark(b, &b->ports, &p, bytes, seconds);
}

struct wp_bl_mark wp_baseline_host(const struct wp_baseline *b, uint8_t family,
                                   const uint8_t *addr, uint64_t bytes, double seconds)
{
    struct ent p;
    memset(&p, 0, sizeof(p));
    host_bytes(p.key, family, addr);
    return mark(b, &b->hosts, &p, bytes, seconds);
}

struct wp_bl_mark wp_baseline_name(const struct wp_baseline *b, const char *name, uint64_t bytes,
                                   double seconds)
{
    struct ent p;
    memset(&p, 0, sizeof(p));
    p.s = (char *)(uintptr_t)name;
    return mark(b, &b->names, &p, bytes, seconds);
}

struct wp_bl_mark wp_baseline_process(const struct wp_baseline *b, const char *name,
                                      uint64_t bytes, double seconds)
{
    struct ent p;
    memset(&p, 0, sizeof(p));
    p.s = (char *)(uintptr_t)name;
    return mark(b, &b->procs, &p, bytes, seconds);
}

const char *wp_bl_status_name(enum wp_bl_status s)
{
    return s == WP_BL_NEW ? "new" : s == WP_BL_GROWN ? "grown" : "seen";
}

double wp_baseline_seconds(const struct wp_baseline *b)
{
    return b->seconds;
}
