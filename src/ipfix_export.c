/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: IPFIX export of whichports flows into a file (RFC 5655) */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wp/decode.h"
#include "wp/ipfix.h"
#include "wp/ipfix_export.h"

struct wp_ipfix_exp {
    pthread_mutex_t lock;
    FILE *fp;
    const struct wp_services *services;
    struct wp_nametab *names;
    struct wp_ipfix enc;
    struct wp_ipfix_msg msg;
    bool open;       /* msg holds a message being built */
    bool failed;     /* a write failed */
    int err;         /* its errno */
    uint64_t records;
    uint64_t last_ms; /* latest flowEndMilliseconds exported */
    uint8_t buf[65536];
    const char *app_name[65536]; /* service port -> name, first seen */
};

/* The export time of a message: the capture time (the latest flow end
 * exported so far, in seconds), not the wall clock, so that a file is the
 * same on every run. */
static uint32_t export_time(const struct wp_ipfix_exp *x)
{
    return (uint32_t)(x->last_ms / 1000);
}

static void write_msg(struct wp_ipfix_exp *x)
{
    size_t n = wp_ipfix_msg_end(&x->enc, &x->msg);
    x->open = false;
    if (!x->failed && fwrite(x->buf, 1, n, x->fp) != n) {
        x->failed = true;
        x->err = errno;
    }
}

static void begin(struct wp_ipfix_exp *x)
{
    if (!x->open) {
        wp_ipfix_msg_begin(&x->enc, &x->msg, x->buf, sizeof(x->buf), export_time(x));
        x->open = true;
    }
}

struct wp_ipfix_exp *wp_ipfix_exp_open_file(const char *path, const struct wp_services *services,
                                            struct wp_nametab *names, uint32_t odid, size_t mtu,
                                            char errbuf[WP_ERRBUF_SIZE])
{
    struct wp_ipfix_exp *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", path);
        return NULL;
    }
    x->fp = fopen(path, "wb");
    if (x->fp == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        free(x);
        return NULL;
    }
    pthread_mutex_init(&x->lock, NULL);
    x->services = services;
    x->names = names;
    wp_ipfix_init(&x->enc, odid, mtu);
    begin(x);
    wp_ipfix_msg_add_templates(&x->msg); /* fits: mtu >= WP_IPFIX_MTU_MIN */
    write_msg(x);
    return x;
}

/* Fill a record from a flow; the client is the endpoint that is not the
 * server. */
static void fill(struct wp_ipfix_exp *x, const struct wp_flow *f, int reason,
                 struct wp_ipfix_rec *r)
{
    unsigned s = f->server, c = 1u - s;
    memset(r, 0, sizeof(*r));
    r->family = f->key.family;
    r->proto = f->key.proto;
    r->end_reason = (uint8_t)reason;
    memcpy(r->src, f->key.addr[c], 16);
    memcpy(r->dst, f->key.addr[s], 16);
    r->sport = f->key.port[c];
    r->dport = f->key.port[s];
    r->vlan = f->key.vlan == WP_VLAN_NONE ? 0 : f->key.vlan;
    r->start_ms = (uint64_t)(f->first_ns / 1000000);
    r->end_ms = (uint64_t)(f->last_ns / 1000000);
    r->pkts[0] = f->pkts[c];
    r->pkts[1] = f->pkts[s];
    r->l2_octets[0] = f->bytes[c];
    r->l2_octets[1] = f->bytes[s];
    r->app_port = r->dport;
    if (f->name_src == WP_NAME_HTTP && f->name_id != 0 && x->names != NULL)
        r->http_host = wp_nametab_get(x->names, f->name_id);
}

void wp_ipfix_exp_flow(struct wp_ipfix_exp *x, const struct wp_flow *f, int reason)
{
    if (!(f->bits & WP_FB_TIME))
        return;
    struct wp_ipfix_rec r;
    pthread_mutex_lock(&x->lock);
    fill(x, f, reason, &r);
    if (r.app_port != 0 && x->app_name[r.app_port] == NULL && x->services != NULL) {
        const struct wp_service *sv =
            wp_services_lookup(x->services, r.proto, r.app_port, wp_flow_server_apple(f));
        if (sv != NULL)
            x->app_name[r.app_port] = sv->name;
    }
    if (r.end_ms > x->last_ms)
        x->last_ms = r.end_ms;
    begin(x);
    if (!wp_ipfix_msg_add_rec(&x->msg, &r)) {
        write_msg(x);
        begin(x);
        wp_ipfix_msg_add_rec(&x->msg, &r); /* fits an empty message */
    }
    x->records++;
    pthread_mutex_unlock(&x->lock);
}

void wp_ipfix_exp_on_flow_end(void *ctx, const struct wp_flow *f, int reason)
{
    wp_ipfix_exp_flow(ctx, f, reason);
}

int wp_ipfix_exp_close(struct wp_ipfix_exp *x)
{
    if (x == NULL)
        return 0;
    if (x->open && x->msg.nrec > 0)
        write_msg(x);
    x->open = false;
    for (unsigned p = 1; p < 65536; p++) {
        if (x->app_name[p] == NULL)
            continue;
        begin(x);
        if (!wp_ipfix_msg_add_app(&x->msg, (uint16_t)p, x->app_name[p])) {
            write_msg(x);
            begin(x);
            wp_ipfix_msg_add_app(&x->msg, (uint16_t)p, x->app_name[p]);
        }
    }
    if (x->open)
        write_msg(x);
    if (fclose(x->fp) != 0 && !x->failed) {
        x->failed = true;
        x->err = errno;
    }
    int rc = x->failed ? -1 : 0;
    int err = x->err;
    pthread_mutex_destroy(&x->lock);
    free(x);
    if (rc != 0)
        errno = err;
    return rc;
}

uint64_t wp_ipfix_exp_records(const struct wp_ipfix_exp *x)
{
    return x->records;
}
