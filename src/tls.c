/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the server name (SNI) of a TLS ClientHello, and name presentation
 *
 * The ClientHello is found either behind the TLS record layer (the start of
 * a TCP stream) or as a bare handshake message (QUIC CRYPTO frames). When it
 * spans several records, its fragments are gathered into a stack buffer of
 * WP_TLS_MAX_HELLO + 4 bytes; within one record it is parsed in place. All
 * reads go through a cursor that compares lengths, never pointers.
 *
 * References: RFC 8446 4.1.2 (ClientHello), 5.1 (record layer: fragments of
 * at most 2^14 bytes, no zero-length handshake fragments, no interleaving
 * with other content types), RFC 5246 7.4.1.2 (extensions optional),
 * RFC 6066 3 (server_name), RFC 9001 4.1.3 (QUIC carries handshake
 * messages without records).
 */

#include <string.h>

#include "wp/names_parse.h"

enum {
    REC_HDR = 5,
    HS_HDR = 4,
    CT_HANDSHAKE = 22,
    HS_CLIENT_HELLO = 1,
    EXT_SERVER_NAME = 0,
    SNI_HOST_NAME = 0,
    MAX_FRAGMENT = 16384, /* RFC 8446 5.1: 2^14 */
};

/* ---- presentation ------------------------------------------------------- */

size_t wp_name_present(char *dst, size_t cap, const uint8_t *src, size_t n, const char *also,
                       bool *truncated)
{
    size_t o = 0, max;
    bool cut = false;

    if (truncated != NULL)
        *truncated = false;
    if (dst == NULL || cap == 0)
        return 0;
    max = cap - 1 < WP_NAME_MAX ? cap - 1 : WP_NAME_MAX;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = src[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + ('a' - 'A'));
        bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.' || (c != 0 && also != NULL && strchr(also, c) != NULL);
        size_t w = keep ? 1 : 4;
        if (max - o < w) {
            cut = true;
            break;
        }
        if (keep) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '\\';
            dst[o++] = (char)('0' + c / 100);
            dst[o++] = (char)('0' + c / 10 % 10);
            dst[o++] = (char)('0' + c % 10);
        }
    }
    dst[o] = '\0';
    if (truncated != NULL)
        *truncated = cut;
    return o;
}

/* ---- cursor --------------------------------------------------------------- */

struct cur {
    const uint8_t *p;
    size_t len; /* bytes left */
};

static bool take(struct cur *c, size_t n, const uint8_t **out)
{
    if (n > c->len)
        return false;
    if (out != NULL)
        *out = c->p;
    c->p += n;
    c->len -= n;
    return true;
}

static bool u8(struct cur *c, size_t *v)
{
    const uint8_t *b;
    if (!take(c, 1, &b))
        return false;
    *v = b[0];
    return true;
}

static bool u16(struct cur *c, size_t *v)
{
    const uint8_t *b;
    if (!take(c, 2, &b))
        return false;
    *v = wp_be16(b);
    return true;
}

/* Split `n` bytes off c into sub (a vector with a length prefix). */
static bool sub(struct cur *c, size_t n, struct cur *s)
{
    const uint8_t *b;
    if (!take(c, n, &b))
        return false;
    s->p = b;
    s->len = n;
    return true;
}

/* ---- ClientHello ---------------------------------------------------------- */

/* Parse a complete ClientHello body body[0..n) (after the 4-byte header). */
static enum wp_tls_result client_hello(const uint8_t *body, size_t n, char *sni, size_t cap)
{
    struct cur c = {body, n}, exts, e, list, name;
    size_t v, type, elen;
    const uint8_t *ver;

    if (!take(&c, 2, &ver) || ver[0] != 3) /* legacy_version: 3.x */
        return WP_TLS_MALFORMED;
    if (!take(&c, 32, NULL)) /* random */
        return WP_TLS_MALFORMED;
    if (!u8(&c, &v) || v > 32 || !take(&c, v, NULL)) /* legacy_session_id<0..32> */
        return WP_TLS_MALFORMED;
    if (!u16(&c, &v) || v < 2 || v % 2 != 0 || !take(&c, v, NULL)) /* cipher_suites<2..> */
        return WP_TLS_MALFORMED;
    if (!u8(&c, &v) || v < 1 || !take(&c, v, NULL)) /* legacy_compression_methods<1..> */
        return WP_TLS_MALFORMED;
    if (c.len == 0)
        return WP_TLS_NO_SNI; /* no extensions (RFC 5246 7.4.1.2) */
    if (!u16(&c, &v) || !sub(&c, v, &exts) || c.len != 0)
        return WP_TLS_MALFORMED;

    bool found = false;
    enum wp_tls_result res = WP_TLS_NO_SNI;
    while (exts.len > 0) {
        if (!u16(&exts, &type) || !u16(&exts, &elen) || !sub(&exts, elen, &e))
            return WP_TLS_MALFORMED;
        if (type != EXT_SERVER_NAME || found)
            continue;
        found = true;
        /* ServerNameList server_name_list<1..2^16-1> */
        if (!u16(&e, &v) || v < 1 || !sub(&e, v, &list) || e.len != 0)
            return WP_TLS_MALFORMED;
        while (list.len > 0) {
            size_t nt;
            if (!u8(&list, &nt) || !u16(&list, &v) || !sub(&list, v, &name))
                return WP_TLS_MALFORMED;
            if (nt != SNI_HOST_NAME || res == WP_TLS_SNI)
                continue;
            if (name.len == 0) /* HostName<1..2^16-1> */
                return WP_TLS_MALFORMED;
            wp_name_present(sni, cap, name.p, name.len, NULL, NULL);
            res = WP_TLS_SNI;
        }
    }
    return res;
}

static void clear(char *sni, size_t cap)
{
    if (sni != NULL && cap > 0)
        sni[0] = '\0';
}

enum wp_tls_result wp_tls_sni_handshake(const uint8_t *hs, size_t len, char *sni, size_t cap,
                                        size_t *need)
{
    clear(sni, cap);
    if (len == 0 || hs == NULL) {
        if (need != NULL)
            *need = HS_HDR;
        return WP_TLS_NEED_MORE;
    }
    if (hs[0] != HS_CLIENT_HELLO)
        return WP_TLS_NOT_TLS;
    if (len < HS_HDR) {
        if (need != NULL)
            *need = HS_HDR;
        return WP_TLS_NEED_MORE;
    }
    size_t body = ((size_t)hs[1] << 16) | ((size_t)hs[2] << 8) | hs[3];
    if (body > WP_TLS_MAX_HELLO)
        return WP_TLS_MALFORMED;
    if (len - HS_HDR < body) {
        if (need != NULL)
            *need = HS_HDR + body;
        return WP_TLS_NEED_MORE;
    }
    return client_hello(hs + HS_HDR, body, sni, cap);
}

/* Can data[0..len) (len <= 5) begin a handshake record? */
static bool record_start_ok(const uint8_t *d, size_t len)
{
    if (len >= 1 && d[0] != CT_HANDSHAKE)
        return false;
    if (len >= 2 && d[1] != 3)
        return false;
    if (len >= 3 && (d[2] < 1 || d[2] > 4))
        return false;
    return true;
}

enum wp_tls_result wp_tls_sni_records(const uint8_t *data, size_t len, char *sni, size_t cap,
                                      size_t *need)
{
    uint8_t buf[HS_HDR + WP_TLS_MAX_HELLO]; /* handshake bytes gathered from records */
    size_t got = 0;                         /* handshake bytes gathered */
    size_t total = 0; /* 4 + ClientHello length, once the handshake header is known */
    size_t off = 0;

    clear(sni, cap);
    if (data == NULL)
        len = 0;
    if (!record_start_ok(data, len < 3 ? len : 3))
        return WP_TLS_NOT_TLS;

    for (;;) {
        /* Handshake bytes still missing (a lower bound while the header is
         * not complete). */
        size_t missing = total != 0 ? total - got : HS_HDR - got;
        if (len - off < REC_HDR) {
            if (off > 0 && !record_start_ok(data + off, len - off < 3 ? len - off : 3))
                return WP_TLS_MALFORMED;
            if (need != NULL)
                *need = off + REC_HDR + missing;
            return WP_TLS_NEED_MORE;
        }
        const uint8_t *h = data + off;
        if (!record_start_ok(h, 3))
            return off == 0 ? WP_TLS_NOT_TLS : WP_TLS_MALFORMED;
        size_t rlen = wp_be16(h + 3);
        if (rlen == 0 || rlen > MAX_FRAGMENT)
            return WP_TLS_MALFORMED;
        size_t avail = len - off - REC_HDR;
        if (avail > rlen)
            avail = rlen;

        /* Single record holding the whole ClientHello: parse in place. */
        if (off == 0 && avail >= HS_HDR) {
            const uint8_t *hs = h + REC_HDR;
            if (hs[0] != HS_CLIENT_HELLO)
                return WP_TLS_MALFORMED;
            size_t body = ((size_t)hs[1] << 16) | ((size_t)hs[2] << 8) | hs[3];
            if (body > WP_TLS_MAX_HELLO)
                return WP_TLS_MALFORMED;
            if (HS_HDR + body <= avail)
                return client_hello(hs + HS_HDR, body, sni, cap);
        }

        /* Gather this record's bytes (only what the ClientHello needs). */
        size_t use = avail;
        if (total != 0 && use > total - got)
            use = total - got;
        memcpy(buf + got, h + REC_HDR, use < sizeof buf - got ? use : sizeof buf - got);
        got += use < sizeof buf - got ? use : sizeof buf - got;
        if (got >= 1 && buf[0] != HS_CLIENT_HELLO)
            return WP_TLS_MALFORMED;
        if (total == 0 && got >= HS_HDR) {
            size_t body = ((size_t)buf[1] << 16) | ((size_t)buf[2] << 8) | buf[3];
            if (body > WP_TLS_MAX_HELLO)
                return WP_TLS_MALFORMED;
            total = HS_HDR + body;
            if (got > total)
                got = total; /* other handshake messages followed in the record */
        }
        if (total != 0 && got >= total)
            return client_hello(buf + HS_HDR, total - HS_HDR, sni, cap);

        missing = total != 0 ? total - got : HS_HDR - got;
        if (avail < rlen) {
            /* This record is cut: the rest of it, then maybe more records. */
            size_t left = rlen - avail;
            if (need != NULL)
                *need = missing <= left ? len + missing : len + left + REC_HDR + (missing - left);
            return WP_TLS_NEED_MORE;
        }
        off += REC_HDR + rlen;
    }
}
