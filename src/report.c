/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: reports: sorting, service names, dispatch to a writer */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wp/report.h"
#include "wp/util.h"

static uint64_t port_bytes(const struct wp_port_row *r)
{
    return r->to_service.bytes + r->from_service.bytes + r->unattributed.bytes;
}

static uint64_t port_packets(const struct wp_port_row *r)
{
    return r->to_service.packets + r->from_service.packets + r->unattributed.packets;
}

static int cmp_port(const void *a, const void *b)
{
    const struct wp_port_row *x = *(const struct wp_port_row *const *)a;
    const struct wp_port_row *y = *(const struct wp_port_row *const *)b;
    uint64_t bx = port_bytes(x), by = port_bytes(y);
    if (bx != by)
        return bx > by ? -1 : 1;
    uint64_t px = port_packets(x), py = port_packets(y);
    if (px != py)
        return px > py ? -1 : 1;
    if (x->key.proto != y->key.proto)
        return x->key.proto < y->key.proto ? -1 : 1;
    if (x->key.has_port != y->key.has_port)
        return x->key.has_port > y->key.has_port ? -1 : 1;
    return (int)x->key.port - (int)y->key.port;
}

static int cmp_host(const void *a, const void *b)
{
    const struct wp_host_row *x = *(const struct wp_host_row *const *)a;
    const struct wp_host_row *y = *(const struct wp_host_row *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->packets != y->packets)
        return x->packets > y->packets ? -1 : 1;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    return memcmp(x->addr, y->addr, 16);
}

static int cmp_tunnel(const void *a, const void *b)
{
    const struct wp_tunnel_row *x = *(const struct wp_tunnel_row *const *)a;
    const struct wp_tunnel_row *y = *(const struct wp_tunnel_row *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = memcmp(x->addr, y->addr, sizeof(x->addr));
    if (c != 0)
        return c;
    return memcmp(x->port, y->port, sizeof(x->port));
}

static int cmp_flow(const void *a, const void *b)
{
    const struct wp_flow *x = *(const struct wp_flow *const *)a;
    const struct wp_flow *y = *(const struct wp_flow *const *)b;
    uint64_t bx = x->bytes[0] + x->bytes[1], by = y->bytes[0] + y->bytes[1];
    if (bx != by)
        return bx > by ? -1 : 1;
    return memcmp(&x->key, &y->key, sizeof(x->key));
}

void wp_report_sort(struct wp_report *r)
{
    if (r->n_ports > 1)
        qsort(r->ports, r->n_ports, sizeof(*r->ports), cmp_port);
    if (r->n_hosts > 1)
        qsort(r->hosts, r->n_hosts, sizeof(*r->hosts), cmp_host);
    if (r->n_tunnels > 1)
        qsort(r->tunnels, r->n_tunnels, sizeof(*r->tunnels), cmp_tunnel);
    if (r->n_flows > 1)
        qsort(r->flows, r->n_flows, sizeof(*r->flows), cmp_flow);
}

const struct wp_service *wp_report_port_service(const struct wp_report *r,
                                                const struct wp_port_row *row,
                                                const struct wp_service **apple_svc)
{
    *apple_svc = NULL;
    if (!row->key.has_port || r->services == NULL)
        return NULL;
    const struct wp_service *general =
        wp_services_lookup(r->services, row->key.proto, row->key.port, false);
    const struct wp_service *a =
        wp_services_lookup(r->services, row->key.proto, row->key.port, true);
    if (a != NULL && !a->apple)
        a = NULL;
    if (a != NULL && row->server_apple_flows > 0)
        *apple_svc = a;
    if (a != NULL && row->flows > 0 && row->server_apple_flows == row->flows)
        return a;
    return general;
}

const struct wp_service *wp_report_flow_service(const struct wp_report *r,
                                                const struct wp_flow *f)
{
    if (r->services == NULL || !wp_proto_has_ports(f->key.proto))
        return NULL;
    bool srv_apple = (f->bits & (f->server ? WP_FB_APPLE1 : WP_FB_APPLE0)) != 0;
    return wp_services_lookup(r->services, f->key.proto, f->key.port[f->server], srv_apple);
}

char *wp_report_port_filter(char *buf, size_t n, const struct wp_port_row *row)
{
    char t[16];
    wp_fmt_transport(t, sizeof(t), row->key.proto);
    if (!row->key.has_port) {
        switch (row->key.proto) {
        case 1: snprintf(buf, n, "icmp"); break;
        case 58: snprintf(buf, n, "icmpv6"); break;
        case 6: snprintf(buf, n, "tcp && !tcp.srcport"); break;
        case 17: snprintf(buf, n, "udp && !udp.srcport"); break;
        default: snprintf(buf, n, "ip.proto == %u || ipv6.nxt == %u", row->key.proto,
                          row->key.proto); break;
        }
        return buf;
    }
    snprintf(buf, n, "%s.port == %u", t, row->key.port);
    return buf;
}

int wp_report_write(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    switch (o->format) {
    case WP_FMT_JSON:
        wp_report_json(fp, r, o);
        break;
    case WP_FMT_CSV:
        wp_report_csv(fp, r, o);
        break;
    default:
        wp_report_text(fp, r, o);
        break;
    }
    if (fflush(fp) != 0 || ferror(fp)) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}
