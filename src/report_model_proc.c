/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the process and baseline parts of the report model
 *
 * Built by wp_report_build() (report_model.c) and read by the writers'
 * process and baseline sections (report_proc.c, report_baseline.c): the
 * processes of each port, the names with their bytes, the baseline marks
 * and the --new-only cut. Calls no writer and nothing of report_model.c. */

#include <stdlib.h>
#include <string.h>

#include "wp/report_model_proc.h"

double wp_report_seconds(const struct wp_report *r)
{
    const struct wp_totals *t = r->totals;
    double s = t != NULL && t->have_ts ? (double)(t->last_ns - t->first_ns) / 1e9 : 0.0;
    return s < 1.0 ? 1.0 : s;
}

uint64_t wp_report_bl_port_bytes(const struct wp_port_row *p)
{
    return p->to_service.bytes + p->from_service.bytes + p->unattributed.bytes;
}

struct wp_bl_mark wp_report_bl_mark_port(const struct wp_report *r, const struct wp_port_row *p)
{
    return wp_baseline_port(r->baseline, &p->key, wp_report_bl_port_bytes(p), wp_report_seconds(r));
}

struct wp_bl_mark wp_report_bl_mark_host(const struct wp_report *r, const struct wp_host_row *h)
{
    return wp_baseline_host(r->baseline, h->family, h->addr, h->bytes, wp_report_seconds(r));
}

struct wp_bl_mark wp_report_bl_mark_proc(const struct wp_report *r, const struct wp_proc_row *p,
                                         char *buf, size_t n, const char **name)
{
    *name = wp_proc_row_name(r->proctab, p, buf, n);
    return wp_baseline_process(r->baseline, *name, p->out.bytes + p->in.bytes,
                               wp_report_seconds(r));
}

static int cmp_ref(const void *a, const void *b)
{
    const struct wp_proc_port_ref *x = a, *y = b;
    int c = memcmp(&x->key, &y->key, sizeof(x->key));
    if (c != 0)
        return c;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

struct wp_proc_port_ref *wp_report_proc_port_index(const struct wp_report *r, size_t *n)
{
    size_t total = 0;
    *n = 0;
    for (size_t i = 0; i < r->n_procs; i++)
        total += r->procs[i]->n_ports;
    if (total == 0)
        return NULL;
    struct wp_proc_port_ref *v = malloc(total * sizeof(*v));
    if (v == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < r->n_procs; i++)
        for (unsigned j = 0; j < r->procs[i]->n_ports; j++) {
            const struct wp_proc_port *pp = &r->procs[i]->ports[j];
            v[k].key = pp->key;
            v[k].row = (uint32_t)i;
            v[k].flows = pp->flows;
            v[k].bytes = pp->bytes;
            k++;
        }
    qsort(v, k, sizeof(*v), cmp_ref);
    *n = k;
    return v;
}

static int cmp_bl_name(const void *a, const void *b)
{
    const struct wp_bl_name *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_flow_name(const void *a, const void *b)
{
    const struct wp_flow *x = *(const struct wp_flow *const *)a;
    const struct wp_flow *y = *(const struct wp_flow *const *)b;
    return (x->name_id > y->name_id) - (x->name_id < y->name_id);
}

struct wp_bl_name *wp_report_bl_names(struct wp_flow **flows, size_t n, struct wp_nametab *t,
                                      size_t *out)
{
    *out = 0;
    if (t == NULL || n == 0)
        return NULL;
    qsort(flows, n, sizeof(*flows), cmp_flow_name);
    struct wp_bl_name *v = calloc(n, sizeof(*v));
    if (v == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct wp_flow *f = flows[i];
        const char *name = f->name_id ? wp_nametab_get(t, f->name_id) : NULL;
        if (name == NULL)
            continue;
        if (k == 0 || i == 0 || flows[i - 1]->name_id != f->name_id) {
            v[k].name = name;
            k++;
        }
        v[k - 1].flows++;
        v[k - 1].bytes += f->bytes[0] + f->bytes[1];
    }
    qsort(v, k, sizeof(*v), cmp_bl_name);
    *out = k;
    return v;
}

void wp_report_baseline_new_only(struct wp_report *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_ports; i++)
        if (wp_report_bl_mark_port(r, r->ports[i]).status == WP_BL_NEW)
            r->ports[k++] = r->ports[i];
    r->n_ports = k;
    k = 0;
    for (size_t i = 0; i < r->n_hosts; i++)
        if (wp_report_bl_mark_host(r, r->hosts[i]).status == WP_BL_NEW)
            r->hosts[k++] = r->hosts[i];
    r->n_hosts = k;
    k = 0;
    for (size_t i = 0; i < r->n_bl_names; i++)
        if (wp_baseline_name(r->baseline, r->bl_names[i].name, r->bl_names[i].bytes,
                             wp_report_seconds(r))
                .status == WP_BL_NEW)
            r->bl_names[k++] = r->bl_names[i];
    r->n_bl_names = k;
    k = 0;
    for (size_t i = 0; i < r->n_procs; i++) {
        const char *name;
        char buf[64];
        if (wp_report_bl_mark_proc(r, r->procs[i], buf, sizeof(buf), &name).status == WP_BL_NEW)
            r->procs[k++] = r->procs[i];
    }
    r->n_procs = k;
}
