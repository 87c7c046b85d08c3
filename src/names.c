/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: names seen in the capture: DNS answers, TLS and QUIC SNI, HTTP Host
 *
 * Three bounded tables: interned names (at most 1,000,000 names or 64 MiB),
 * DNS answers by address (65,536 addresses, least recently answered
 * forgotten first), and reassembly buffers for clients' first flights
 * (1,024 flows at once, 16 KiB each). A flow whose name cannot be found
 * within those bounds is counted, never guessed. */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wp/hash.h"
#include "wp/list.h"
#include "wp/names.h"
#include "wp/names_parse.h"

#define MAX_NAMES       1000000u
#define MAX_NAME_BYTES  (64u << 20)
#define MAX_DNS         65536u
#define MAX_REASM       1024u
#define REASM_PACKETS   64u      /* client packets to wait for a whole ClientHello */

enum { ST_NEW = 0, ST_TLS, ST_QUIC, ST_DONE };

struct name_ent {
    char *s;
    uint32_t id;
    UT_hash_handle hh;
};

struct dns_key {
    uint8_t family;
    uint8_t addr[16];
    uint8_t pad[3];
};
_Static_assert(sizeof(struct dns_key) == 20, "dns_key must not contain padding");

struct dns_ent {
    struct dns_key key;
    uint32_t name_id;
    struct wp_link lru; /* most recently answered first */
    UT_hash_handle hh;
};

struct reasm {
    struct wp_flow_key key;
    uint32_t base_seq;           /* TCP: sequence number of the first client byte */
    uint32_t packets;
    uint8_t odcid[WP_QUIC_MAX_CID]; /* QUIC: DCID of the client's first Initial */
    size_t odcid_len;
    struct wp_crypto_buf buf;
    UT_hash_handle hh;
};

struct wp_nametab {
    pthread_mutex_t lock;
    struct name_ent *by_text;
    char **by_id;                /* by_id[id - 1] */
    uint32_t n_names, cap_names;
    size_t name_bytes;
    uint64_t dropped;
};

struct wp_names {
    struct wp_nametab *tab;      /* shared, borrowed */
    struct dns_ent *dns;
    struct wp_list dns_lru;
    size_t n_dns;
    struct reasm *reasm;
    size_t n_reasm;
    struct wp_name_counts *counts; /* during wp_names_packet */
};

struct wp_nametab *wp_nametab_new(void)
{
    struct wp_nametab *t = calloc(1, sizeof(*t));
    if (t != NULL && pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        t = NULL;
    }
    return t;
}

void wp_nametab_free(struct wp_nametab *t)
{
    if (t == NULL)
        return;
    struct name_ent *e, *et;
    HASH_ITER(hh, t->by_text, e, et) {
        HASH_DEL(t->by_text, e);
        free(e->s);
        free(e);
    }
    free(t->by_id);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

struct wp_names *wp_names_new(struct wp_nametab *tab)
{
    struct wp_names *n = calloc(1, sizeof(struct wp_names));
    if (n != NULL)
        n->tab = tab;
    return n;
}

void wp_names_free(struct wp_names *n)
{
    if (n == NULL)
        return;
    struct dns_ent *d, *dt;
    HASH_ITER(hh, n->dns, d, dt) {
        HASH_DEL(n->dns, d);
        free(d);
    }
    struct reasm *r, *rt;
    HASH_ITER(hh, n->reasm, r, rt) {
        HASH_DEL(n->reasm, r);
        free(r);
    }
    free(n);
}

/* Intern under the table's lock. */
static uint32_t intern_locked(struct wp_nametab *t, const char *s, size_t len)
{
    struct name_ent *e;
    HASH_FIND(hh, t->by_text, s, len, e);
    if (e != NULL)
        return e->id;
    if (t->n_names >= MAX_NAMES || t->name_bytes + len > MAX_NAME_BYTES)
        return 0;
    if (t->n_names == t->cap_names) {
        uint32_t nc = t->cap_names ? t->cap_names * 2 : 256;
        char **nb = realloc(t->by_id, nc * sizeof(*nb));
        if (nb == NULL)
            return 0;
        t->by_id = nb;
        t->cap_names = nc;
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return 0;
    e->s = malloc(len + 1);
    if (e->s == NULL) {
        free(e);
        return 0;
    }
    memcpy(e->s, s, len + 1);
    e->id = t->n_names + 1;
    WP_HASH_ADD_OR_FAIL(hh, t->by_text, e->s, len, e, {
        free(e->s);
        free(e);
        return 0;
    });
    t->by_id[t->n_names++] = e->s;
    t->name_bytes += len + 1 + sizeof(*e);
    return e->id;
}

uint32_t wp_nametab_intern(struct wp_nametab *t, const char *s)
{
    size_t len = strlen(s);
    if (len == 0)
        return 0;
    pthread_mutex_lock(&t->lock);
    uint32_t id = intern_locked(t, s, len);
    if (id == 0)
        t->dropped++;
    pthread_mutex_unlock(&t->lock);
    return id;
}

const char *wp_nametab_get(struct wp_nametab *t, uint32_t id)
{
    const char *s = NULL;
    pthread_mutex_lock(&t->lock);
    if (id != 0 && id <= t->n_names)
        s = t->by_id[id - 1];
    pthread_mutex_unlock(&t->lock);
    return s;
}

uint64_t wp_nametab_dropped(struct wp_nametab *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t d = t->dropped;
    pthread_mutex_unlock(&t->lock);
    return d;
}

size_t wp_nametab_bytes(struct wp_nametab *t)
{
    pthread_mutex_lock(&t->lock);
    size_t b = sizeof(*t) + t->name_bytes + t->cap_names * sizeof(char *);
    pthread_mutex_unlock(&t->lock);
    return b;
}

static uint32_t intern(struct wp_names *n, const char *s)
{
    uint32_t id = wp_nametab_intern(n->tab, s);
    if (id == 0 && n->counts != NULL)
        n->counts->names_dropped++;
    return id;
}

const char *wp_name_src_name(unsigned src)
{
    switch (src) {
    case WP_NAME_DNS: return "dns";
    case WP_NAME_HTTP: return "http";
    case WP_NAME_QUIC: return "quic";
    case WP_NAME_SNI: return "sni";
    default: return NULL;
    }
}

/* ---- DNS answers ---------------------------------------------------------- */

static void dns_key_make(struct dns_key *k, uint8_t family, const uint8_t *addr)
{
    memset(k, 0, sizeof(*k));
    k->family = family;
    memcpy(k->addr, addr, family == 4 ? 4 : 16);
}

static void dns_put(struct wp_names *n, uint8_t family, const uint8_t *addr, uint32_t id);

static void on_dns_answer(void *ctx, const char *name, uint8_t family, const uint8_t addr[16])
{
    struct wp_names *n = ctx;
    uint32_t id = intern(n, name);
    if (id == 0)
        return;
    n->counts->dns_answers++;
    dns_put(n, family, addr, id);
}

/* Remember that `addr` has the name `id`: the latest answer wins. */
static void dns_put(struct wp_names *n, uint8_t family, const uint8_t *addr, uint32_t id)
{
    struct dns_key k;
    dns_key_make(&k, family, addr);
    struct dns_ent *d;
    HASH_FIND(hh, n->dns, &k, sizeof(k), d);
    if (d != NULL) {
        d->name_id = id; /* the latest answer wins */
        wp_list_touch(&n->dns_lru, &d->lru);
        return;
    }
    if (n->n_dns >= MAX_DNS && n->dns_lru.tail != NULL) {
        d = WP_LIST_ITEM(n->dns_lru.tail, struct dns_ent, lru);
        wp_list_unlink(&n->dns_lru, &d->lru);
        HASH_DEL(n->dns, d);
        n->n_dns--;
    } else {
        d = malloc(sizeof(*d));
        if (d == NULL)
            return;
    }
    memset(d, 0, sizeof(*d));
    d->key = k;
    d->name_id = id;
    WP_HASH_ADD_OR_FAIL(hh, n->dns, &d->key, sizeof(d->key), d, {
        free(d);
        return;
    });
    wp_list_push(&n->dns_lru, &d->lru);
    n->n_dns++;
}

void wp_names_merge(struct wp_names *dst, const struct wp_names *src)
{
    /* oldest first, so that the newest answer for an address wins */
    for (struct wp_link *l = src->dns_lru.tail; l != NULL; l = l->prev) {
        const struct dns_ent *d = WP_LIST_ITEM(l, struct dns_ent, lru);
        dns_put(dst, d->key.family, d->key.addr, d->name_id);
    }
}

uint32_t wp_names_dns_lookup(const struct wp_names *n, uint8_t family, const uint8_t *addr)
{
    struct dns_key k;
    dns_key_make(&k, family, addr);
    struct dns_ent *d;
    HASH_FIND(hh, n->dns, &k, sizeof(k), d);
    return d != NULL ? d->name_id : 0;
}

void wp_names_from_dns(const struct wp_names *n, struct wp_flow *f)
{
    if (f->name_id != 0)
        return;
    uint32_t id = wp_names_dns_lookup(n, f->key.family, f->key.addr[f->server]);
    if (id != 0) {
        f->name_id = id;
        f->name_src = WP_NAME_DNS;
    }
}

/* ---- reassembly --------------------------------------------------------------- */

static struct reasm *reasm_find(struct wp_names *n, const struct wp_flow *f)
{
    struct reasm *r;
    HASH_FIND(hh, n->reasm, &f->key, sizeof(f->key), r);
    return r;
}

static struct reasm *reasm_new(struct wp_names *n, const struct wp_flow *f)
{
    if (n->n_reasm >= MAX_REASM)
        return NULL;
    struct reasm *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->key = f->key;
    WP_HASH_ADD_OR_FAIL(hh, n->reasm, &r->key, sizeof(r->key), r, {
        free(r);
        return NULL;
    });
    n->n_reasm++;
    return r;
}

static void reasm_drop(struct wp_names *n, struct reasm *r)
{
    HASH_DEL(n->reasm, r);
    free(r);
    n->n_reasm--;
}

void wp_names_flow_gone(struct wp_names *n, const struct wp_flow *f)
{
    if (f->name_state != ST_TLS && f->name_state != ST_QUIC)
        return;
    struct reasm *r = reasm_find(n, f);
    if (r != NULL)
        reasm_drop(n, r);
}

/* Name the flow and stop looking at its payload. */
static void named(struct wp_names *n, struct wp_flow *f, const char *name, uint8_t src)
{
    uint32_t id = intern(n, name);
    if (id != 0) {
        f->name_id = id;
        f->name_src = src;
    }
}

static void done(struct wp_names *n, struct wp_flow *f)
{
    if (f->name_state == ST_TLS || f->name_state == ST_QUIC) {
        struct reasm *r = reasm_find(n, f);
        if (r != NULL)
            reasm_drop(n, r);
    }
    f->name_state = ST_DONE;
}

/* Act on a TLS parse result; returns true when the flow is finished. */
static bool tls_outcome(struct wp_names *n, struct wp_flow *f, enum wp_tls_result r,
                        const char *sni, uint8_t src)
{
    switch (r) {
    case WP_TLS_SNI:
        if (src == WP_NAME_QUIC)
            n->counts->quic_sni++;
        else
            n->counts->tls_sni++;
        named(n, f, sni, src);
        return true;
    case WP_TLS_NO_SNI:
        n->counts->tls_no_sni++;
        return true;
    case WP_TLS_MALFORMED:
        n->counts->tls_given_up++;
        return true;
    case WP_TLS_NOT_TLS:
        return true;
    default:
        return false; /* need more */
    }
}

static void tcp_client(struct wp_names *n, struct wp_flow *f, const struct wp_packet *p)
{
    char name[WP_NAME_SIZE];
    size_t need = 0;
    if (f->name_state == ST_NEW) {
        if (wp_http_host(p->payload, p->payload_len, name, sizeof(name))) {
            n->counts->http_host++;
            named(n, f, name, WP_NAME_HTTP);
            done(n, f);
            return;
        }
        enum wp_tls_result r = wp_tls_sni_records(p->payload, p->payload_len, name,
                                                  sizeof(name), &need);
        if (tls_outcome(n, f, r, name, WP_NAME_SNI)) {
            done(n, f);
            return;
        }
        struct reasm *ra = reasm_new(n, f);
        if (ra == NULL) {
            n->counts->tls_given_up++;
            done(n, f);
            return;
        }
        ra->base_seq = p->tcp_seq;
        ra->packets = 1;
        (void)wp_crypto_buf_add(&ra->buf, 0, p->payload, p->payload_len);
        f->name_state = ST_TLS;
        return;
    }
    struct reasm *ra = reasm_find(n, f);
    if (ra == NULL) {
        done(n, f);
        return;
    }
    size_t before = ra->buf.have;
    uint32_t off = p->tcp_seq - ra->base_seq; /* modulo 2^32, as TCP */
    if (off < WP_CRYPTO_BUF_SIZE)
        (void)wp_crypto_buf_add(&ra->buf, off, p->payload, p->payload_len);
    size_t have = ra->buf.have;
    if (have > before) {
        enum wp_tls_result r = wp_tls_sni_records(ra->buf.data, have, name,
                                                  sizeof(name), &need);
        if (tls_outcome(n, f, r, name, WP_NAME_SNI)) {
            done(n, f);
            return;
        }
    }
    if (++ra->packets > REASM_PACKETS || have >= WP_CRYPTO_BUF_SIZE) {
        n->counts->tls_given_up++;
        done(n, f);
    }
}

struct quic_ctx {
    struct wp_crypto_buf *buf;
};

static void on_crypto(void *ctx, uint64_t offset, const uint8_t *data, size_t len)
{
    struct quic_ctx *q = ctx;
    if (offset < WP_CRYPTO_BUF_SIZE)
        (void)wp_crypto_buf_add(q->buf, offset, data, len);
}

static void udp_client(struct wp_names *n, struct wp_flow *f, const struct wp_packet *p)
{
    char name[WP_NAME_SIZE];
    size_t need = 0;
    if (f->name_state == ST_NEW) {
        if (p->payload_len < 1 || (p->payload[0] & 0xc0) != 0xc0) {
            done(n, f); /* not a QUIC long header: no name from this flow */
            return;
        }
        uint32_t version;
        uint8_t dcid[WP_QUIC_MAX_CID];
        size_t dcid_len;
        if (!wp_quic_dcid(p->payload, p->payload_len, &version, dcid, &dcid_len)) {
            done(n, f); /* not a QUIC Initial of a version we can read */
            return;
        }
        struct reasm *ra = reasm_new(n, f);
        if (ra == NULL) {
            n->counts->tls_given_up++;
            done(n, f);
            return;
        }
        memcpy(ra->odcid, dcid, dcid_len);
        ra->odcid_len = dcid_len;
        f->name_state = ST_QUIC;
    }
    struct reasm *ra = reasm_find(n, f);
    if (ra == NULL) {
        done(n, f);
        return;
    }
    struct quic_ctx q = {&ra->buf};
    /* later client Initials go to the server's connection ID but keep the
     * keys of the first one */
    int r = wp_quic_initial_crypto_odcid(p->payload, p->payload_len, ra->odcid, ra->odcid_len,
                                         on_crypto, &q);
    if (r == WP_QUIC_UNDECRYPTABLE) {
        n->counts->quic_undecryptable++;
        done(n, f);
        return;
    }
    if (r < 0 && ra->packets == 0) {
        n->counts->tls_given_up++;
        done(n, f);
        return;
    }
    size_t have = ra->buf.have;
    if (have > 0) {
        enum wp_tls_result tr = wp_tls_sni_handshake(ra->buf.data, have, name,
                                                     sizeof(name), &need);
        if (tls_outcome(n, f, tr, name, WP_NAME_QUIC)) {
            done(n, f);
            return;
        }
    }
    if (++ra->packets > REASM_PACKETS) {
        n->counts->tls_given_up++;
        done(n, f);
    }
}

void wp_names_packet(struct wp_names *n, struct wp_flow *f, const struct wp_packet *p,
                     unsigned sender, struct wp_name_counts *counts)
{
    n->counts = counts;
    if (p->payload_len == 0 || !p->has_ports)
        return;
    /* DNS answers, whichever flow carries them */
    if (p->proto == WP_IPPROTO_UDP && (p->sport == 53 || p->sport == 5353 || p->dport == 5353)) {
        if (wp_dns_answers(p->payload, p->payload_len, on_dns_answer, n) < 0)
            counts->dns_malformed++;
    } else if (p->proto == WP_IPPROTO_TCP && p->sport == 53) {
        (void)wp_dns_tcp_answers(p->payload, p->payload_len, on_dns_answer, n);
    }
    if (f->name_state == ST_DONE || sender == f->server)
        return;
    if (f->name_src > WP_NAME_DNS) {
        done(n, f);
        return;
    }
    if (p->proto == WP_IPPROTO_TCP)
        tcp_client(n, f, p);
    else if (p->proto == WP_IPPROTO_UDP)
        udp_client(n, f, p);
    else
        done(n, f);
}

size_t wp_names_bytes(const struct wp_names *n)
{
    return sizeof(*n) + n->n_dns * sizeof(struct dns_ent) + n->n_reasm * sizeof(struct reasm);
}
