/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: addresses and the names asked for them, from DNS responses
 *
 * A message is parsed in two passes. The first walks every section with
 * length checks only (offsets are compared with the message length, never
 * pointers with an end pointer), validates each name, and remembers up to
 * WP_DNS_MAX_RECORDS questions and address-carrying records per section as
 * offsets into the message. Only when the whole message is well formed does
 * the second pass resolve CNAME chains back to the question and call the
 * callback. Nothing is allocated; the record tables live on the stack
 * (about 10 KiB).
 *
 * Names are compared without decoding them: two label iterators walk both
 * names at once (ASCII case-insensitively, RFC 4343), after a quick check of
 * a hash computed in the first pass.
 *
 * References: RFC 1035 (messages, names, compression 4.1.4, TCP 4.2.2),
 * RFC 3596 (AAAA), RFC 4343 (case), RFC 6762 (mDNS: cache-flush bit, no
 * question in responses), RFC 7766 (DNS over TCP), RFC 9460 (SVCB/HTTPS,
 * ipv4hint = key 4, ipv6hint = key 6).
 */

#include <string.h>

#include "wp/names_parse.h"

enum {
    DNS_HDR = 12,
    MAX_JUMPS = 64, /* compression pointers followed per name */
    MAX_WIRE = 255, /* RFC 1035 2.3.4: octets of a name on the wire */
    T_A = 1,
    T_CNAME = 5,
    T_AAAA = 28,
    T_SVCB = 64,
    T_HTTPS = 65,
    C_IN = 1,
    SVC_IPV4HINT = 4,
    SVC_IPV6HINT = 6,
};

/* ---- names ---------------------------------------------------------------- */

/* Walks the labels of one name, following compression pointers. */
struct labels {
    const uint8_t *msg;
    size_t len;
    size_t pos;  /* offset of the next length byte */
    size_t end;  /* offset just after the name where it starts (set at the end) */
    size_t wire; /* wire octets so far (length bytes included) */
    unsigned jumps;
    bool jumped;
};

static void labels_init(struct labels *it, const uint8_t *msg, size_t len, size_t off)
{
    it->msg = msg;
    it->len = len;
    it->pos = off;
    it->end = 0;
    it->wire = 0;
    it->jumps = 0;
    it->jumped = false;
}

/* The next label: 1 with *lab and *n (> 0) set, 0 at the root label (it->end
 * is then the offset after the name's in-place part), -1 when the name is
 * malformed (out of the message, reserved label type, pointer loop, longer
 * than 255 octets). */
static int next_label(struct labels *it, const uint8_t **lab, size_t *n)
{
    for (;;) {
        if (it->pos >= it->len)
            return -1;
        uint8_t l = it->msg[it->pos];
        if ((l & 0xc0) == 0xc0) {
            if (it->len - it->pos < 2)
                return -1;
            size_t target = ((size_t)(l & 0x3f) << 8) | it->msg[it->pos + 1];
            if (!it->jumped) {
                it->end = it->pos + 2;
                it->jumped = true;
            }
            if (++it->jumps > MAX_JUMPS || target >= it->len)
                return -1;
            it->pos = target;
            continue;
        }
        if (l & 0xc0)
            return -1; /* 01 and 10: reserved (RFC 6891 obsoleted extended labels) */
        it->wire += 1u + l;
        if (it->wire > MAX_WIRE)
            return -1;
        if (l == 0) {
            if (!it->jumped)
                it->end = it->pos + 1;
            return 0;
        }
        if (it->len - it->pos - 1 < l)
            return -1;
        *lab = it->msg + it->pos + 1;
        *n = l;
        it->pos += 1u + l;
        return 1;
    }
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Validate the name at `off`: true with *end (offset after its in-place part)
 * and its hash, false when malformed. */
static bool name_walk(const uint8_t *msg, size_t len, size_t off, size_t *end, uint64_t *hash)
{
    struct labels it;
    const uint8_t *lab = NULL;
    size_t n = 0;
    uint64_t h = 0xcbf29ce484222325u;
    int r;

    labels_init(&it, msg, len, off);
    while ((r = next_label(&it, &lab, &n)) == 1) {
        h = (h ^ n) * 0x100000001b3u;
        for (size_t i = 0; i < n; i++)
            h = (h ^ lower(lab[i])) * 0x100000001b3u;
    }
    if (r < 0)
        return false;
    *end = it.end;
    if (hash != NULL)
        *hash = h;
    return true;
}

/* True when the (already validated) names at offsets a and b are equal. */
static bool names_equal(const uint8_t *msg, size_t len, size_t a, size_t b)
{
    struct labels ia, ib;
    labels_init(&ia, msg, len, a);
    labels_init(&ib, msg, len, b);
    for (;;) {
        const uint8_t *la = NULL, *lb = NULL;
        size_t na = 0, nb = 0;
        int ra = next_label(&ia, &la, &na);
        int rb = next_label(&ib, &lb, &nb);
        if (ra < 0 || rb < 0 || ra != rb)
            return false;
        if (ra == 0)
            return true;
        if (na != nb)
            return false;
        for (size_t i = 0; i < na; i++)
            if (lower(la[i]) != lower(lb[i]))
                return false;
    }
}

/* Present the (validated) name at `off` into out[WP_NAME_SIZE]: lowercase,
 * dotted, no trailing dot, "." for the root, bytes outside [a-z0-9-_]
 * (the dot included) as \DDD. False when it needs more than WP_NAME_MAX
 * characters or is malformed. */
static bool name_present(const uint8_t *msg, size_t len, size_t off, char out[WP_NAME_SIZE])
{
    struct labels it;
    const uint8_t *lab = NULL;
    size_t n = 0, o = 0;
    int r;

    labels_init(&it, msg, len, off);
    while ((r = next_label(&it, &lab, &n)) == 1) {
        if (o > 0) {
            if (o + 1 > WP_NAME_MAX)
                return false;
            out[o++] = '.';
        }
        for (size_t i = 0; i < n; i++) {
            uint8_t c = lower(lab[i]);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
                if (o + 1 > WP_NAME_MAX)
                    return false;
                out[o++] = (char)c;
            } else {
                if (o + 4 > WP_NAME_MAX)
                    return false;
                out[o++] = '\\';
                out[o++] = (char)('0' + c / 100);
                out[o++] = (char)('0' + c / 10 % 10);
                out[o++] = (char)('0' + c % 10);
            }
        }
    }
    if (r < 0)
        return false;
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return true;
}

/* ---- records --------------------------------------------------------------- */

/* A record of the answer or additional section that can lead to addresses. */
struct rec {
    size_t owner; /* offset of the owner name */
    uint64_t owner_hash;
    size_t rdata;  /* offset of the rdata */
    size_t target; /* CNAME: offset of the target name */
    uint64_t target_hash;
    uint16_t type;
    uint16_t rdlen;
};

struct question {
    size_t name;
    uint64_t hash;
};

struct msgview {
    const uint8_t *msg;
    size_t len;
    struct question q[WP_DNS_MAX_RECORDS];
    unsigned nq;
    struct rec an[WP_DNS_MAX_RECORDS];
    unsigned nan;
    struct rec ar[WP_DNS_MAX_RECORDS];
    unsigned nar;
};

/* Check the SvcParams of SVCB/HTTPS rdata rd[0..n) (RFC 9460 2.2): after
 * SvcPriority and TargetName, key-length-value triples that fill the rdata
 * exactly, with hints a whole number of addresses. `params` is the offset of
 * the first parameter within rd. */
static bool svc_params_ok(const uint8_t *rd, size_t n, size_t params)
{
    size_t p = params;
    while (p < n) {
        if (n - p < 4)
            return false;
        uint16_t key = wp_be16(rd + p);
        size_t vlen = wp_be16(rd + p + 2);
        p += 4;
        if (n - p < vlen)
            return false;
        if (key == SVC_IPV4HINT && (vlen == 0 || vlen % 4 != 0))
            return false;
        if (key == SVC_IPV6HINT && (vlen == 0 || vlen % 16 != 0))
            return false;
        p += vlen;
    }
    return true;
}

/* Parse one resource record at *off. `keep` receives it when it is of class
 * IN and of a type that matters (A, AAAA, CNAME, SVCB, HTTPS), and its
 * rdata is then checked; `keep` NULL only walks over it. Returns -1 when
 * malformed, 1 when kept, 0 otherwise. */
static int parse_rr(const uint8_t *msg, size_t len, size_t *off, struct rec *keep)
{
    size_t start = *off, p = start, end;
    uint64_t h;
    if (!name_walk(msg, len, p, &end, &h))
        return -1;
    p = end;
    if (len - p < 10)
        return -1;
    uint16_t type = wp_be16(msg + p);
    uint16_t cls = wp_be16(msg + p + 2);
    uint16_t rdlen = wp_be16(msg + p + 8);
    p += 10;
    if (len - p < rdlen)
        return -1;
    size_t rd = p;
    *off = p + rdlen;
    if (keep == NULL || (cls & 0x7fff) != C_IN) /* mDNS: top bit is cache-flush */
        return 0;

    struct rec r = {.owner = start, .owner_hash = h, .rdata = rd, .type = type, .rdlen = rdlen};
    switch (type) {
    case T_A:
        if (rdlen != 4)
            return -1;
        break;
    case T_AAAA:
        if (rdlen != 16)
            return -1;
        break;
    case T_CNAME:
        /* The target may use compression pointers into the rest of the
         * message, but its in-place part must end exactly with the rdata. */
        if (!name_walk(msg, len, rd, &end, &r.target_hash) || end != rd + rdlen)
            return -1;
        r.target = rd;
        break;
    case T_SVCB:
    case T_HTTPS:
        if (rdlen < 3)
            return -1;
        if (!name_walk(msg, len, rd + 2, &end, NULL) || end > rd + rdlen)
            return -1;
        if (!svc_params_ok(msg + rd, rdlen, end - rd))
            return -1;
        break;
    default: return 0;
    }
    *keep = r;
    return 1;
}

/* Pass 1: check the whole message and fill the view. 0 or -1 (malformed). */
static int scan(struct msgview *v)
{
    const uint8_t *msg = v->msg;
    size_t len = v->len;
    unsigned qd = wp_be16(msg + 4), an = wp_be16(msg + 6), ns = wp_be16(msg + 8),
             ar = wp_be16(msg + 10);
    size_t off = DNS_HDR, end;

    for (unsigned i = 0; i < qd; i++) {
        uint64_t h;
        if (!name_walk(msg, len, off, &end, &h) || len - end < 4)
            return -1;
        if (i < WP_DNS_MAX_RECORDS) {
            v->q[v->nq].name = off;
            v->q[v->nq].hash = h;
            v->nq++;
        }
        off = end + 4;
    }
    for (unsigned i = 0; i < an; i++) {
        struct rec *keep = i < WP_DNS_MAX_RECORDS ? &v->an[v->nan] : NULL;
        int r = parse_rr(msg, len, &off, keep);
        if (r < 0)
            return -1;
        if (r > 0)
            v->nan++;
    }
    for (unsigned i = 0; i < ns; i++)
        if (parse_rr(msg, len, &off, NULL) < 0)
            return -1;
    for (unsigned i = 0; i < ar; i++) {
        struct rec *keep = i < WP_DNS_MAX_RECORDS ? &v->ar[v->nar] : NULL;
        int r = parse_rr(msg, len, &off, keep);
        if (r < 0)
            return -1;
        if (r > 0)
            v->nar++;
    }
    return 0; /* bytes after the last record are tolerated */
}

/* Names reached from the questions: a question's name or a CNAME target
 * chained to it, with the question it came from. */
struct reached {
    size_t name;
    uint64_t hash;
    unsigned q;
};

/* Index of the question from which the name (off, hash) is reached, or -1. */
static int reached_from(const struct msgview *v, const struct reached *set, unsigned n, size_t off,
                        uint64_t hash)
{
    for (unsigned i = 0; i < n; i++)
        if (set[i].hash == hash && names_equal(v->msg, v->len, set[i].name, off))
            return (int)set[i].q;
    return -1;
}

/* Report the addresses of one record under `name`. Returns the count. */
static int report(const struct msgview *v, const struct rec *r, const char *name, wp_dns_cb cb,
                  void *ctx)
{
    uint8_t addr[16];
    const uint8_t *rd = v->msg + r->rdata;
    int count = 0;

    memset(addr, 0, sizeof addr);
    if (r->type == T_A || r->type == T_AAAA) {
        memcpy(addr, rd, r->rdlen);
        if (cb != NULL)
            cb(ctx, name, r->type == T_A ? 4 : 6, addr);
        return 1;
    }
    /* SVCB/HTTPS: skip SvcPriority and TargetName (checked in pass 1). */
    size_t end;
    if (!name_walk(v->msg, v->len, r->rdata + 2, &end, NULL) || end > r->rdata + r->rdlen)
        return 0;
    size_t p = end - r->rdata;
    while (r->rdlen - p >= 4) {
        uint16_t key = wp_be16(rd + p);
        size_t vlen = wp_be16(rd + p + 2);
        p += 4;
        if (r->rdlen - p < vlen)
            break;
        size_t step = key == SVC_IPV4HINT ? 4 : key == SVC_IPV6HINT ? 16 : 0;
        for (size_t a = 0; step != 0 && a + step <= vlen; a += step) {
            memset(addr, 0, sizeof addr);
            memcpy(addr, rd + p + a, step);
            if (cb != NULL)
                cb(ctx, name, step == 4 ? 4 : 6, addr);
            count++;
        }
        p += vlen;
    }
    return count;
}

int wp_dns_answers(const uint8_t *msg, size_t len, wp_dns_cb cb, void *ctx)
{
    struct msgview v;
    struct reached set[2 * WP_DNS_MAX_RECORDS];
    bool chained[WP_DNS_MAX_RECORDS];
    char name[WP_NAME_SIZE];
    unsigned nset = 0;
    int count = 0;

    if (msg == NULL || len < DNS_HDR)
        return -1;
    if (!(msg[2] & 0x80) || ((msg[2] >> 3) & 0x0f) != 0)
        return 0; /* a query, or not a standard query's response */
    v.msg = msg;
    v.len = len;
    v.nq = v.nan = v.nar = 0;
    if (scan(&v) < 0)
        return -1;

    /* Follow CNAME chains of the answer section from the questions. Each
     * round adds at least one CNAME or ends, so at most nan + 1 rounds. */
    for (unsigned i = 0; i < v.nq; i++)
        set[nset++] = (struct reached){v.q[i].name, v.q[i].hash, i};
    memset(chained, 0, sizeof chained);
    for (bool grew = true; grew;) {
        grew = false;
        for (unsigned i = 0; i < v.nan; i++) {
            const struct rec *r = &v.an[i];
            if (r->type != T_CNAME || chained[i])
                continue;
            int q = reached_from(&v, set, nset, r->owner, r->owner_hash);
            if (q < 0)
                continue;
            chained[i] = true;
            set[nset++] = (struct reached){r->target, r->target_hash, (unsigned)q};
            grew = true;
        }
    }

    for (unsigned s = 0; s < 2; s++) {
        const struct rec *recs = s == 0 ? v.an : v.ar;
        unsigned n = s == 0 ? v.nan : v.nar;
        for (unsigned i = 0; i < n; i++) {
            const struct rec *r = &recs[i];
            if (r->type == T_CNAME)
                continue;
            int q = reached_from(&v, set, nset, r->owner, r->owner_hash);
            size_t at = q >= 0 ? v.q[q].name : r->owner;
            if (!name_present(msg, len, at, name))
                continue; /* not presentable in WP_NAME_MAX characters */
            count += report(&v, r, name, cb, ctx);
        }
    }
    return count;
}

int wp_dns_tcp_answers(const uint8_t *stream, size_t len, wp_dns_cb cb, void *ctx)
{
    size_t off = 0;
    int total = 0;
    bool bad = false;

    if (stream == NULL)
        return len == 0 ? 0 : -1;
    while (len - off >= 2) {
        size_t mlen = wp_be16(stream + off);
        if (mlen == 0)
            return -1;
        if (len - off - 2 < mlen)
            break; /* the rest of this message is in a later segment */
        int r = wp_dns_answers(stream + off + 2, mlen, cb, ctx);
        if (r < 0)
            bad = true;
        else
            total += r;
        off += 2 + mlen;
    }
    return bad ? -1 : total;
}
