/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: IPFIX export of whichports flows into a file (RFC 5655) */

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wp/decode.h"
#include "wp/hash.h"
#include "wp/ipfix.h"
#include "wp/ipfix_export.h"
#include "wp/outcome.h"

/* The bounded queue of encoded messages between the exporter (capture
 * side) and the sender thread. */
struct queue {
    pthread_mutex_t lock;
    pthread_cond_t nonempty, nonfull;
    uint8_t *slots; /* cap slots of mtu octets */
    uint32_t *len, *nrec;
    unsigned cap, head, count;
    bool closing;
};

/* What the active timeout exported of one flow so far: the counts of the
 * records sent, by endpoint of the flow key, and where the next record
 * starts (the first packet after the last export). Keyed by the flow key
 * and the flow's first packet. */
struct act {
    struct wp_flow_key key;
    uint32_t state; /* ACT_EMPTY, ACT_USED, ACT_DEAD */
    int64_t first_ns;
    int64_t next_ns;
    uint64_t pkts[2], bytes[2], ip[2];
};
enum { ACT_EMPTY = 0, ACT_USED, ACT_DEAD };

/* Open addressing, linear probing, a power of two of slots; only flows
 * that outlived one active timeout are in it. */
struct acttab {
    struct act *a;
    size_t cap, used, dead;
};

struct wp_ipfix_exp {
    pthread_mutex_t lock;
    struct acttab act; /* under lock */
    FILE *fp;          /* file sink; NULL for a network sink */
    /* network sink */
    bool net, tcp, block;
    struct addrinfo *ai;
    int sock;
    struct queue q;
    pthread_t thread;
    bool thread_started;
    uint64_t dropped; /* data records lost (under q.lock) */
    unsigned refresh_secs, refresh_msgs, since_tmpl;
    time_t last_tmpl;

    const struct wp_services *services;
    const struct wp_applesvc *applesvc;
    const struct wp_proctab *proctab;
    struct wp_nametab *names;
    struct wp_ipfix enc;
    struct wp_ipfix_msg msg;
    bool open;   /* msg holds a message being built */
    bool failed; /* a write failed */
    int err;     /* its errno */
    uint64_t records;
    uint64_t last_ms; /* latest flowEndMilliseconds exported */
    uint8_t buf[65536];
    const char *app_name[65536]; /* service port -> name, first seen */
    uint16_t app_port[65536];    /* the ports with a name, in order first seen */
    unsigned n_app;
};

/* The export time of a message: the capture time (the latest flow end
 * exported so far, in seconds), not the wall clock, so that a file is the
 * same on every run. */
static uint32_t export_time(const struct wp_ipfix_exp *x)
{
    return (uint32_t)(x->last_ms / 1000);
}

/* Queue a message for the sender; a full queue drops it (counted) unless
 * the exporter blocks. */
static void enqueue(struct wp_ipfix_exp *x, const uint8_t *m, size_t n, uint32_t nrec)
{
    struct queue *q = &x->q;
    pthread_mutex_lock(&q->lock);
    while (x->block && x->sock >= 0 && q->count == q->cap && !q->closing)
        pthread_cond_wait(&q->nonfull, &q->lock);
    if (q->count == q->cap) {
        x->dropped += nrec;
    } else {
        unsigned i = (q->head + q->count) % q->cap;
        memcpy(q->slots + (size_t)i * x->enc.mtu, m, n);
        q->len[i] = (uint32_t)n;
        q->nrec[i] = nrec;
        q->count++;
        pthread_cond_signal(&q->nonempty);
    }
    pthread_mutex_unlock(&q->lock);
}

static void write_msg(struct wp_ipfix_exp *x)
{
    uint32_t nrec = x->msg.nrec;
    size_t n = wp_ipfix_msg_end(&x->enc, &x->msg);
    x->open = false;
    if (x->net) {
        enqueue(x, x->buf, n, nrec);
        return;
    }
    if (!x->failed && fwrite(x->buf, 1, n, x->fp) != n) {
        x->failed = true;
        x->err = errno;
    }
}

static void begin(struct wp_ipfix_exp *x)
{
    if (x->open)
        return;
    uint32_t t = export_time(x);
    time_t now = 0;
    if (x->net)
        now = time(NULL), t = (uint32_t)now; /* on the wire: when it leaves */
    wp_ipfix_msg_begin(&x->enc, &x->msg, x->buf, sizeof(x->buf), t);
    x->open = true;
    /* UDP: templates again every refresh_msgs messages and refresh_secs
     * seconds (RFC 7011 section 8.4); TCP sends them on connecting. */
    if (x->net && !x->tcp) {
        if (x->since_tmpl >= x->refresh_msgs || now - x->last_tmpl >= (time_t)x->refresh_secs) {
            /* in a message of their own: nfacctd 1.7.7 lost the data
             * records that shared a message with the templates and the
             * type records */
            wp_ipfix_msg_add_templates(&x->msg);
            wp_ipfix_msg_add_types(&x->msg); /* fits: the CLI asks 1024 octets with a PEN */
            x->since_tmpl = 0;
            x->last_tmpl = now;
            write_msg(x);
            wp_ipfix_msg_begin(&x->enc, &x->msg, x->buf, sizeof(x->buf), t);
            x->open = true;
        }
        x->since_tmpl++;
    }
}

static struct wp_ipfix_exp *exp_new(const struct wp_services *services, struct wp_nametab *names,
                                    uint32_t odid, const struct wp_ipfix_net_opts *o)
{
    struct wp_ipfix_exp *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return NULL;
    pthread_mutex_init(&x->lock, NULL);
    x->services = services;
    x->names = names;
    x->sock = -1;
    wp_ipfix_init(&x->enc, odid, o->mtu);
    x->enc.pen = o->pen;
    x->applesvc = o->applesvc;
    x->proctab = o->proctab;
    return x;
}

struct wp_ipfix_exp *wp_ipfix_exp_open_file(const char *path, const struct wp_services *services,
                                            struct wp_nametab *names, uint32_t odid,
                                            const struct wp_ipfix_net_opts *o,
                                            char errbuf[WP_ERRBUF_SIZE])
{
    struct wp_ipfix_exp *x = exp_new(services, names, odid, o);
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
    begin(x);
    wp_ipfix_msg_add_templates(&x->msg); /* fits: mtu >= WP_IPFIX_MTU_MIN */
    if (!wp_ipfix_msg_add_types(&x->msg)) {
        write_msg(x);
        begin(x);
        wp_ipfix_msg_add_types(&x->msg); /* fits: the CLI asks 1024 octets with a PEN */
    }
    write_msg(x);
    return x;
}

/* ---- network sink ------------------------------------------------------ */

static int connect_sock(struct wp_ipfix_exp *x)
{
    int fd = socket(x->ai->ai_family, x->tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, x->ai->ai_addr, x->ai->ai_addrlen) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send all of a message; false when the connection failed (errno set). */
static bool send_all(int fd, const uint8_t *m, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, m, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            errno = EPIPE;
        if (k <= 0)
            return false;
        m += k;
        n -= (size_t)k;
    }
    return true;
}

/* TCP: the collector closed or reset the connection (a FIN or RST has
 * arrived). Checked before each message: the first write after the peer
 * closed would succeed locally and its records be lost unseen. */
static bool peer_closed(int fd)
{
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, 0) <= 0)
        return false;
    if (pf.revents & (POLLHUP | POLLERR))
        return true;
    uint8_t b[512]; /* a collector does not talk: read and ignore it */
    ssize_t k = recv(fd, b, sizeof(b), MSG_DONTWAIT);
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* TCP: a new connection starts with the templates. */
static bool send_templates(struct wp_ipfix_exp *x, int fd, uint32_t seq)
{
    uint8_t b[WP_IPFIX_MTU_MIN * 2];
    struct wp_ipfix enc = x->enc;
    struct wp_ipfix_msg m;
    enc.seq = seq;
    wp_ipfix_msg_begin(&enc, &m, b, sizeof(b), (uint32_t)time(NULL));
    wp_ipfix_msg_add_templates(&m);
    size_t n = wp_ipfix_msg_end(&enc, &m);
    return send_all(fd, b, n);
}

static void *sender(void *arg)
{
    struct wp_ipfix_exp *x = arg;
    struct queue *q = &x->q;
    unsigned backoff = 1;
    time_t next_try = 0;
    uint32_t last_sent = 0; /* UDP: data records of the last datagram sent */
    uint8_t *m = malloc(x->enc.mtu);
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->count == 0 && !q->closing)
            pthread_cond_wait(&q->nonempty, &q->lock);
        if (q->count == 0 || m == NULL)
            break;
        if (x->sock < 0) { /* TCP, not connected */
            time_t now = time(NULL);
            if (now < next_try) {
                if (q->closing)
                    break;
                struct timespec ts = {next_try, 0};
                pthread_cond_timedwait(&q->nonempty, &q->lock, &ts);
                continue;
            }
            uint32_t seq = (uint32_t)q->slots[(size_t)q->head * x->enc.mtu + 8] << 24 |
                           (uint32_t)q->slots[(size_t)q->head * x->enc.mtu + 9] << 16 |
                           (uint32_t)q->slots[(size_t)q->head * x->enc.mtu + 10] << 8 |
                           q->slots[(size_t)q->head * x->enc.mtu + 11];
            pthread_mutex_unlock(&q->lock);
            int fd = connect_sock(x);
            if (fd >= 0 && !send_templates(x, fd, seq)) {
                close(fd);
                fd = -1;
            }
            pthread_mutex_lock(&q->lock);
            if (fd < 0) {
                next_try = time(NULL) + backoff;
                backoff = backoff * 2 > 30 ? 30 : backoff * 2;
            } else {
                x->sock = fd;
                backoff = 1;
            }
            continue;
        }
        unsigned i = q->head;
        uint32_t n = q->len[i], nrec = q->nrec[i];
        memcpy(m, q->slots + (size_t)i * x->enc.mtu, n);
        q->head = (q->head + 1) % q->cap;
        q->count--;
        pthread_cond_signal(&q->nonfull);
        pthread_mutex_unlock(&q->lock);
        bool sent = !(x->tcp && peer_closed(x->sock)) && send_all(x->sock, m, n);
        uint32_t refused = 0;
        if (!sent && !x->tcp && errno == ECONNREFUSED) {
            /* UDP: the ICMP port unreachable that the kernel reports now was
             * the answer to a datagram sent before, which is lost (on the
             * path of a loopback or a near collector, the last one); this
             * datagram was not sent: send it again. */
            refused = last_sent;
            sent = send_all(x->sock, m, n);
        }
        if (sent && !x->tcp)
            last_sent = nrec;
        pthread_mutex_lock(&q->lock);
        x->dropped += refused;
        if (!sent) {
            x->dropped += nrec; /* UDP: not sent; TCP: disconnected */
            if (x->tcp) {
                close(x->sock);
                x->sock = -1;
                next_try = time(NULL) + backoff;
            }
        }
    }
    if (!x->tcp && x->sock >= 0 && last_sent != 0) {
        /* UDP: a port unreachable answering the last datagram, reported
         * within 100 ms (at once on the loopback), loses it too */
        pthread_mutex_unlock(&q->lock);
        struct pollfd pf = {x->sock, 0, 0};
        int err = 0;
        socklen_t len = sizeof(err);
        bool lost = poll(&pf, 1, 100) > 0 && (pf.revents & POLLERR) &&
                    getsockopt(x->sock, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
                    err == ECONNREFUSED;
        pthread_mutex_lock(&q->lock);
        if (lost)
            x->dropped += last_sent;
    }
    /* closing: what could not be sent is lost */
    while (q->count > 0) {
        x->dropped += q->nrec[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    pthread_cond_broadcast(&q->nonfull);
    pthread_mutex_unlock(&q->lock);
    free(m);
    return NULL;
}

struct wp_ipfix_exp *wp_ipfix_exp_open_net(const char *dest, const struct wp_services *services,
                                           struct wp_nametab *names, uint32_t odid,
                                           const struct wp_ipfix_net_opts *o,
                                           char errbuf[WP_ERRBUF_SIZE])
{
    bool tcp = strncmp(dest, "tcp:", 4) == 0;
    const char *hp = tcp ? dest + 4 : strncmp(dest, "udp:", 4) == 0 ? dest + 4 : dest;
    char host[256];
    const char *colon = strrchr(hp, ':');
    size_t hl = colon != NULL ? (size_t)(colon - hp) : 0;
    if (colon == NULL || hl == 0 || hl >= sizeof(host) || colon[1] == '\0') {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: expected HOST:PORT or tcp:HOST:PORT", dest);
        return NULL;
    }
    memcpy(host, hp, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
    int g = getaddrinfo(host, colon + 1, &hints, &ai);
    if (g != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: %s", dest, gai_strerror(g));
        return NULL;
    }
    struct wp_ipfix_exp *x = exp_new(services, names, odid, o);
    unsigned cap = o->queue ? o->queue : 1024;
    if (x != NULL) {
        x->q.slots = malloc((size_t)cap * x->enc.mtu);
        x->q.len = calloc(cap, sizeof(uint32_t));
        x->q.nrec = calloc(cap, sizeof(uint32_t));
    }
    if (x == NULL || x->q.slots == NULL || x->q.len == NULL || x->q.nrec == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", dest);
        goto fail;
    }
    x->net = true;
    x->tcp = tcp;
    x->block = o->block;
    x->ai = ai;
    x->q.cap = cap;
    x->refresh_secs = o->refresh_secs ? o->refresh_secs : 600;
    x->refresh_msgs = o->refresh_msgs ? o->refresh_msgs : 16;
    x->since_tmpl = x->refresh_msgs; /* the first message carries them */
    pthread_mutex_init(&x->q.lock, NULL);
    pthread_cond_init(&x->q.nonempty, NULL);
    pthread_cond_init(&x->q.nonfull, NULL);
    if (!tcp && (x->sock = connect_sock(x)) < 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: %s", dest, strerror(errno));
        goto fail;
    }
    if (pthread_create(&x->thread, NULL, sender, x) != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: cannot start the sender thread", dest);
        goto fail;
    }
    x->thread_started = true;
    return x;
fail:
    if (x != NULL) {
        if (x->sock >= 0)
            close(x->sock);
        free(x->q.slots);
        free(x->q.len);
        free(x->q.nrec);
        free(x);
    }
    freeaddrinfo(ai);
    return NULL;
}

uint64_t wp_ipfix_exp_dropped(struct wp_ipfix_exp *x)
{
    if (!x->net)
        return 0;
    pthread_mutex_lock(&x->q.lock);
    uint64_t d = x->dropped;
    pthread_mutex_unlock(&x->q.lock);
    return d;
}

static size_t act_slot(const struct acttab *t, const struct wp_flow_key *k)
{
    return (size_t)wp_fasthash(k, sizeof(*k)) & (t->cap - 1);
}

/* Rebuild the table with `cap` slots (dropping the dead). Returns false,
 * leaving it as it was, when out of memory. */
static bool act_rehash(struct acttab *t, size_t cap)
{
    struct act *a = calloc(cap, sizeof(*a));
    if (a == NULL)
        return false;
    struct acttab n = {a, cap, 0, 0};
    for (size_t i = 0; i < t->cap; i++) {
        if (t->a[i].state != ACT_USED)
            continue;
        size_t j = act_slot(&n, &t->a[i].key);
        while (n.a[j].state != ACT_EMPTY)
            j = (j + 1) & (cap - 1);
        n.a[j] = t->a[i];
        n.used++;
    }
    free(t->a);
    *t = n;
    return true;
}

/* The entry of flow `f` (its key and first packet), added zeroed when
 * new; NULL when out of memory. */
static struct act *act_get(struct acttab *t, const struct wp_flow *f)
{
    if ((t->used + t->dead + 1) * 10 > t->cap * 7) {
        size_t cap = t->cap < 64 ? 64 : (t->used + 1) * 10 > t->cap * 3 ? t->cap * 2 : t->cap;
        if (!act_rehash(t, cap))
            return NULL;
    }
    size_t i = act_slot(t, &f->key), tomb = SIZE_MAX;
    for (; t->a[i].state != ACT_EMPTY; i = (i + 1) & (t->cap - 1)) {
        struct act *e = &t->a[i];
        if (e->state == ACT_DEAD && tomb == SIZE_MAX)
            tomb = i;
        if (e->state == ACT_USED && e->first_ns == f->first_ns && wp_flow_key_eq(&e->key, &f->key))
            return e;
    }
    if (tomb != SIZE_MAX) {
        i = tomb;
        t->dead--;
    }
    struct act *e = &t->a[i];
    memset(e, 0, sizeof(*e));
    e->key = f->key;
    e->first_ns = f->first_ns;
    e->next_ns = f->first_ns;
    e->state = ACT_USED;
    t->used++;
    return e;
}

/* Take out the entries of flow `f` that ends now: its key, a first packet
 * within the flow's times (one entry, or one per -j reader whose part of
 * the flow was merged into it), summed into `sum` (zeroed first; next_ns
 * the latest). Returns false when there was none. */
static bool act_take(struct acttab *t, const struct wp_flow *f, struct act *sum)
{
    memset(sum, 0, sizeof(*sum));
    if (t->used == 0)
        return false;
    bool any = false;
    for (size_t i = act_slot(t, &f->key); t->a[i].state != ACT_EMPTY; i = (i + 1) & (t->cap - 1)) {
        struct act *e = &t->a[i];
        if (e->state != ACT_USED || e->first_ns < f->first_ns || e->first_ns > f->last_ns ||
            !wp_flow_key_eq(&e->key, &f->key))
            continue;
        for (int d = 0; d < 2; d++) {
            sum->pkts[d] += e->pkts[d];
            sum->bytes[d] += e->bytes[d];
            sum->ip[d] += e->ip[d];
        }
        if (!any || e->next_ns > sum->next_ns)
            sum->next_ns = e->next_ns;
        any = true;
        e->state = ACT_DEAD;
        t->used--;
        t->dead++;
    }
    return any;
}

/* Turn a record of a flow's totals into the delta since what `a` says was
 * exported (client endpoint c, server s), starting at a->next_ns. */
static void delta(struct wp_ipfix_rec *r, const struct act *a, unsigned c, unsigned s)
{
    r->pkts[0] -= a->pkts[c];
    r->pkts[1] -= a->pkts[s];
    r->l2_octets[0] -= a->bytes[c];
    r->l2_octets[1] -= a->bytes[s];
    r->ip_octets[0] -= a->ip[c];
    r->ip_octets[1] -= a->ip[s];
    r->start_ms = (uint64_t)(a->next_ns / 1000000);
}

/* Fill a record from a flow; the client is the endpoint that is not the
 * server. */
static void fill(struct wp_ipfix_exp *x, const struct wp_flow *f, int reason,
                 struct wp_ipfix_rec *r)
{
    unsigned s = wp_flow_server_ep(f), c = wp_flow_client_ep(f);
    memset(r, 0, sizeof(*r));
    r->family = f->key.family;
    r->proto = f->key.proto;
    r->end_reason = (uint8_t)reason;
    memcpy(r->src, f->key.addr[c], 16);
    memcpy(r->dst, f->key.addr[s], 16);
    r->sport = wp_flow_client_port(f);
    r->dport = wp_flow_server_port(f);
    r->vlan = f->key.vlan == WP_VLAN_NONE ? 0 : f->key.vlan;
    r->start_ms = (uint64_t)(f->first_ns / 1000000);
    r->end_ms = (uint64_t)(f->last_ns / 1000000);
    r->pkts[0] = f->pkts[c];
    r->pkts[1] = f->pkts[s];
    r->l2_octets[0] = f->bytes[c];
    r->l2_octets[1] = f->bytes[s];
    r->ip_octets[0] = f->ip_bytes[c];
    r->ip_octets[1] = f->ip_bytes[s];
    if (r->proto == WP_IPPROTO_TCP) {
        r->tcp_flags[0] = f->l4.tcp_flags[c];
        r->tcp_flags[1] = f->l4.tcp_flags[s];
    } else if (r->proto == WP_IPPROTO_ICMP || r->proto == WP_IPPROTO_ICMPV6) {
        r->icmp_type_code = (uint16_t)(f->l4.icmp[c][0] << 8 | f->l4.icmp[c][1]);
    }
    r->app_port = r->dport;
    if (f->name_src == WP_NAME_HTTP && f->name_id != 0 && x->names != NULL)
        r->http_host = wp_nametab_get(x->names, f->name_id);
    if (x->enc.pen != 0) {
        if (f->name_id != 0 && x->names != NULL)
            r->server_name = wp_nametab_get(x->names, f->name_id);
        r->name_source = f->name_src;
        r->apple = wp_flow_apple(f);
        if (f->apple_svc != 0 && x->applesvc != NULL)
            r->apple_service = wp_applesvc_key(x->applesvc, f->apple_svc - 1);
        r->rule = wp_how_name(f->how);
        r->outcome = wp_outcome_name(wp_outcome_of(f));
        uint16_t proc = 0, eproc = 0;
        if (x->proctab != NULL)
            wp_flow_process(x->proctab, f, &proc, &eproc);
        const struct wp_proc_entry *pe = wp_proctab_get(x->proctab, proc);
        if (pe != NULL) {
            r->process = pe->name;
            r->pid = pe->pid >= 0 && pe->pid <= UINT32_MAX ? (uint32_t)pe->pid : 0;
        }
    }
}

/* Add record `r` of flow `f` to the message being built (under x->lock). */
static void emit(struct wp_ipfix_exp *x, const struct wp_flow *f, const struct wp_ipfix_rec *r)
{
    if (r->app_port != 0 && x->app_name[r->app_port] == NULL && x->services != NULL) {
        const struct wp_service *sv =
            wp_services_lookup(x->services, r->proto, r->app_port, wp_flow_server_apple(f));
        if (sv != NULL) {
            x->app_name[r->app_port] = sv->name;
            x->app_port[x->n_app++] = r->app_port;
        }
    }
    if (r->end_ms > x->last_ms)
        x->last_ms = r->end_ms;
    begin(x);
    if (!wp_ipfix_msg_add_rec(&x->msg, r)) {
        write_msg(x);
        begin(x);
        wp_ipfix_msg_add_rec(&x->msg, r); /* fits an empty message */
    }
    x->records++;
}

void wp_ipfix_exp_flow(struct wp_ipfix_exp *x, const struct wp_flow *f, int reason)
{
    if (!(f->bits & WP_FB_TIME))
        return;
    struct wp_ipfix_rec r;
    struct act sent;
    pthread_mutex_lock(&x->lock);
    fill(x, f, reason, &r);
    if (act_take(&x->act, f, &sent))
        delta(&r, &sent, wp_flow_client_ep(f), wp_flow_server_ep(f));
    emit(x, f, &r);
    pthread_mutex_unlock(&x->lock);
}

void wp_ipfix_exp_on_flow_active(void *ctx, const struct wp_flow *f, int64_t ts_ns)
{
    struct wp_ipfix_exp *x = ctx;
    if (!(f->bits & WP_FB_TIME))
        return;
    struct wp_ipfix_rec r;
    pthread_mutex_lock(&x->lock);
    struct act *a = act_get(&x->act, f);
    if (a != NULL) { /* out of memory: the record at the end carries it all */
        fill(x, f, WP_IPFIX_END_ACTIVE, &r);
        delta(&r, a, wp_flow_client_ep(f), wp_flow_server_ep(f));
        for (int d = 0; d < 2; d++) {
            a->pkts[d] = f->pkts[d];
            a->bytes[d] = f->bytes[d];
            a->ip[d] = f->ip_bytes[d];
        }
        a->next_ns = ts_ns;
        emit(x, f, &r);
    }
    pthread_mutex_unlock(&x->lock);
}

void wp_ipfix_exp_on_flow_end(void *ctx, const struct wp_flow *f, enum wp_flow_end why)
{
    wp_ipfix_exp_flow(ctx, f,
                      why == WP_FLOW_END_NO_ROOM ? WP_IPFIX_END_NO_RESOURCES : WP_IPFIX_END_IDLE);
}

int wp_ipfix_exp_close(struct wp_ipfix_exp *x, uint64_t *dropped)
{
    if (x == NULL)
        return 0;
    if (x->open && x->msg.nrec > 0)
        write_msg(x);
    x->open = false;
    for (unsigned i = 0; i < x->n_app; i++) {
        uint16_t p = x->app_port[i];
        begin(x);
        if (!wp_ipfix_msg_add_app(&x->msg, p, x->app_name[p])) {
            write_msg(x);
            begin(x);
            wp_ipfix_msg_add_app(&x->msg, p, x->app_name[p]);
        }
    }
    if (x->open)
        write_msg(x);
    if (x->net) {
        /* let the sender drain the queue for at most 5 s */
        for (int i = 0; i < 500; i++) {
            pthread_mutex_lock(&x->q.lock);
            unsigned left = x->q.count;
            pthread_mutex_unlock(&x->q.lock);
            if (left == 0)
                break;
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        pthread_mutex_lock(&x->q.lock);
        x->q.closing = true;
        pthread_cond_broadcast(&x->q.nonempty);
        pthread_mutex_unlock(&x->q.lock);
        if (x->thread_started)
            pthread_join(x->thread, NULL);
        if (x->sock >= 0)
            close(x->sock);
        if (dropped != NULL)
            *dropped = x->dropped;
        free(x->q.slots);
        free(x->q.len);
        free(x->q.nrec);
        freeaddrinfo(x->ai);
        pthread_cond_destroy(&x->q.nonempty);
        pthread_cond_destroy(&x->q.nonfull);
        pthread_mutex_destroy(&x->q.lock);
    } else if (fclose(x->fp) != 0 && !x->failed) {
        x->failed = true;
        x->err = errno;
    }
    if (!x->net && dropped != NULL)
        *dropped = 0;
    free(x->act.a);
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
