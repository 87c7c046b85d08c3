/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: CRYPTO frames of QUIC client Initial packets (decryption with OpenSSL)
 *
 * A client's Initial packets are protected with keys that anyone can derive
 * from the Destination Connection ID of its first Initial, so a passive
 * observer can read the ClientHello they carry. This file parses the long
 * header, derives the keys with OpenSSL's HKDF, removes header protection
 * with AES-128-ECB, decrypts the payload with AES-128-GCM and walks the
 * frames. No cryptographic primitive is implemented here.
 *
 * The HKDF and AES algorithms are fetched from OpenSSL once per process
 * (pthread_once) and then only read; every context is created and freed
 * within the call, and all other state is on the stack (the plaintext
 * buffer is WP_QUIC_MAX_PAYLOAD bytes), so the functions are thread-safe.
 * Offsets are compared with lengths, never pointers with an end pointer.
 *
 * References: RFC 9000 16 (variable-length integers), 17.2 (long header),
 * 17.2.2 (Initial), 12.2 (coalesced packets), 19 (frames); RFC 9001 5.2
 * (Initial secrets, salt, labels), 5.3 (AEAD, nonce), 5.4 (header
 * protection, sample), A.1 (key vectors); RFC 9369 3 (QUIC v2: version,
 * salt, labels, packet type bits), A.1 (v2 key vectors); RFC 8446 7.1
 * (HKDF-Expand-Label); draft-ietf-quic-tls-29 5.2 (draft-29 salt).
 */

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/opensslv.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "whichports needs OpenSSL 3.0 or later (EVP_KDF, EVP_CIPHER_fetch)"
#endif

#include "wp/names_parse.h"

enum {
    LT_INITIAL,
    LT_0RTT,
    LT_HANDSHAKE,
    LT_RETRY,
};

struct qversion {
    uint32_t version;
    uint8_t salt[20];
    const char *key_label;
    const char *iv_label;
    const char *hp_label;
    uint8_t types[4]; /* long packet type bits -> LT_* */
};

static const struct qversion versions[] = {
    {WP_QUIC_V1,
     {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
     "quic key",
     "quic iv",
     "quic hp",
     {LT_INITIAL, LT_0RTT, LT_HANDSHAKE, LT_RETRY}},
    {WP_QUIC_V2,
     {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
     "quicv2 key",
     "quicv2 iv",
     "quicv2 hp",
     {LT_RETRY, LT_INITIAL, LT_0RTT, LT_HANDSHAKE}},
    {WP_QUIC_DRAFT29,
     {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99},
     "quic key",
     "quic iv",
     "quic hp",
     {LT_INITIAL, LT_0RTT, LT_HANDSHAKE, LT_RETRY}},
};

static const struct qversion *find_version(uint32_t v)
{
    for (size_t i = 0; i < WP_ARRAY_LEN(versions); i++)
        if (versions[i].version == v)
            return &versions[i];
    return NULL;
}

/* ---- key derivation ------------------------------------------------------- */

/* The algorithms are fetched once per process (pthread_once) and shared
 * read-only by all threads; contexts are created per call. */
static EVP_KDF *g_hkdf;
static EVP_CIPHER *g_ecb, *g_gcm;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fetch_algorithms(void)
{
    g_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    g_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
    g_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
}

static bool algorithms(void)
{
    return pthread_once(&g_once, fetch_algorithms) == 0 && g_hkdf != NULL && g_ecb != NULL &&
           g_gcm != NULL;
}

/* One HKDF step with SHA-256 (RFC 5869) on context c: extract (salt, ikm =
 * key) or expand (prk = key, info); at most 32 bytes of each input. */
static bool hkdf(EVP_KDF_CTX *c, int mode, const uint8_t *key, size_t keylen, const uint8_t *salt,
                 size_t saltlen, const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
    /* OSSL_PARAM wants writable buffers: the inputs are copied. */
    uint8_t k[32], sa[32], in[64];
    char md[] = "SHA256";
    OSSL_PARAM params[6], *p = params;

    if (keylen > sizeof k || saltlen > sizeof sa || infolen > sizeof in)
        return false;
    if (keylen > 0)
        memcpy(k, key, keylen);
    if (saltlen > 0)
        memcpy(sa, salt, saltlen);
    if (infolen > 0)
        memcpy(in, info, infolen);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md, 0);
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k, keylen);
    if (saltlen > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, sa, saltlen);
    if (infolen > 0)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, in, infolen);
    *p = OSSL_PARAM_construct_end();
    bool ok = EVP_KDF_derive(c, out, outlen, params) > 0;
    memset(k, 0, sizeof k);
    return ok;
}

/* HKDF-Expand-Label(secret, label, "", outlen) of RFC 8446 7.1. */
static bool expand_label(EVP_KDF_CTX *c, const uint8_t secret[32], const char *label, uint8_t *out,
                         size_t outlen)
{
    uint8_t info[2 + 1 + 6 + 32 + 1];
    size_t ll = strlen(label), n = 0;

    if (ll > 32)
        return false;
    info[n++] = (uint8_t)(outlen >> 8);
    info[n++] = (uint8_t)outlen;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0; /* empty context */
    return hkdf(c, EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, 32, NULL, 0, info, n, out, outlen);
}

static int client_keys(const struct qversion *v, const uint8_t *dcid, size_t dcid_len,
                       uint8_t key[16], uint8_t iv[12], uint8_t hp[16])
{
    uint8_t initial[32], client[32];
    EVP_KDF_CTX *c = algorithms() ? EVP_KDF_CTX_new(g_hkdf) : NULL;
    bool ok = c != NULL &&
              hkdf(c, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, dcid, dcid_len, v->salt, sizeof v->salt, NULL,
                   0, initial, sizeof initial) &&
              expand_label(c, initial, "client in", client, sizeof client) &&
              expand_label(c, client, v->key_label, key, 16) &&
              expand_label(c, client, v->iv_label, iv, 12) &&
              expand_label(c, client, v->hp_label, hp, 16);
    EVP_KDF_CTX_free(c);
    memset(initial, 0, sizeof initial);
    memset(client, 0, sizeof client);
    if (!ok) {
        memset(key, 0, 16);
        memset(iv, 0, 12);
        memset(hp, 0, 16);
        return -1;
    }
    return 0;
}

int wp_quic_client_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, uint8_t key[16],
                        uint8_t iv[12], uint8_t hp[16])
{
    const struct qversion *v = find_version(version);
    if (v == NULL || dcid_len > WP_QUIC_MAX_CID || (dcid == NULL && dcid_len != 0)) {
        memset(key, 0, 16);
        memset(iv, 0, 12);
        memset(hp, 0, 16);
        return -1;
    }
    return client_keys(v, dcid, dcid_len, key, iv, hp);
}

/* ---- packet protection ---------------------------------------------------- */

/* mask[0..5) = AES-128-ECB(hp, sample)[0..5) (RFC 9001 5.4.3). */
static bool hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok;

    if (c == NULL)
        return false;
    ok = EVP_EncryptInit_ex(c, g_ecb, NULL, hp, NULL) > 0 && EVP_CIPHER_CTX_set_padding(c, 0) > 0 &&
         EVP_EncryptUpdate(c, mask, &n, sample, 16) > 0 && n == 16;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* AES-128-GCM open (RFC 9001 5.3): the associated data is the header with
 * protection removed, given in three parts (first byte, the bytes up to the
 * packet number, the packet number). ct[0..ctlen) is followed by the tag. */
static bool aead_open(const uint8_t key[16], const uint8_t nonce[12], const uint8_t *aad1,
                      size_t aad1len, const uint8_t *aad2, size_t aad2len, const uint8_t *aad3,
                      size_t aad3len, const uint8_t *ct, size_t ctlen, const uint8_t tagin[16],
                      uint8_t *pt)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    uint8_t tag[16];
    int n = 0;
    bool ok;

    if (c == NULL)
        return false;
    memcpy(tag, tagin, sizeof tag);
    ok = EVP_DecryptInit_ex(c, g_gcm, NULL, NULL, NULL) > 0 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) > 0 &&
         EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) > 0 &&
         EVP_DecryptUpdate(c, NULL, &n, aad1, (int)aad1len) > 0 &&
         (aad2len == 0 || EVP_DecryptUpdate(c, NULL, &n, aad2, (int)aad2len) > 0) &&
         EVP_DecryptUpdate(c, NULL, &n, aad3, (int)aad3len) > 0 &&
         (ctlen == 0 || (EVP_DecryptUpdate(c, pt, &n, ct, (int)ctlen) > 0 && (size_t)n == ctlen)) &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) > 0 &&
         EVP_DecryptFinal_ex(c, pt + ctlen, &n) > 0;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* ---- parsing ---------------------------------------------------------------- */

/* A variable-length integer (RFC 9000 16) at b[*pos], within n bytes. */
static bool varint(const uint8_t *b, size_t n, size_t *pos, uint64_t *v)
{
    if (*pos >= n)
        return false;
    size_t l = (size_t)1 << (b[*pos] >> 6);
    if (n - *pos < l)
        return false;
    uint64_t x = b[*pos] & 0x3f;
    for (size_t i = 1; i < l; i++)
        x = (x << 8) | b[*pos + i];
    *pos += l;
    *v = x;
    return true;
}

/* Walk the frames of a decrypted Initial payload p[0..n). Returns the
 * number of CRYPTO frames reported, or -1 when a frame runs past the end. */
static int walk_frames(const uint8_t *p, size_t n, wp_quic_crypto_cb cb, void *ctx)
{
    size_t pos = 0;
    int count = 0;
    uint64_t type, a, b;

    while (pos < n) {
        if (!varint(p, n, &pos, &type))
            return -1;
        switch (type) {
        case 0x00: /* PADDING */
        case 0x01: /* PING */ break;
        case 0x02: /* ACK */
        case 0x03: /* ACK with ECN counts */
            /* Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range */
            if (!varint(p, n, &pos, &a) || !varint(p, n, &pos, &a) || !varint(p, n, &pos, &b) ||
                !varint(p, n, &pos, &a))
                return -1;
            if (b > (n - pos) / 2) /* each range takes at least two bytes */
                return -1;
            for (uint64_t i = 0; i < b; i++)
                if (!varint(p, n, &pos, &a) || !varint(p, n, &pos, &a))
                    return -1;
            if (type == 0x03 &&
                (!varint(p, n, &pos, &a) || !varint(p, n, &pos, &a) || !varint(p, n, &pos, &a)))
                return -1;
            break;
        case 0x06: /* CRYPTO: Offset, Length, Crypto Data */
            if (!varint(p, n, &pos, &a) || !varint(p, n, &pos, &b))
                return -1;
            if (b > n - pos || a > ((uint64_t)1 << 62) - 1 - b)
                return -1;
            if (cb != NULL)
                cb(ctx, a, p + pos, (size_t)b);
            pos += (size_t)b;
            count++;
            break;
        default: return count; /* CONNECTION_CLOSE or anything else: stop here */
        }
    }
    return count;
}

/* The parsed long header of one packet at dgram[start..). */
struct longhdr {
    const struct qversion *v;
    int type;    /* LT_* */
    size_t dcid; /* offset of the DCID */
    size_t dcid_len;
    size_t pn;  /* offset of the packet number (Initial, 0-RTT, Handshake) */
    size_t end; /* offset just after the packet */
};

/* Parse the long header at dgram[start..len). Returns 1 when parsed, 0 when
 * it is not a long header of a supported version (or a Retry, which has no
 * Length), -1 when it is one but its fields do not fit. */
static int long_header(const uint8_t *d, size_t len, size_t start, struct longhdr *h)
{
    size_t pos = start;
    uint64_t tlen, plen;

    if (len - start < 5 || !(d[start] & 0x80))
        return 0;
    h->v = find_version(wp_be32(d + start + 1));
    if (h->v == NULL)
        return 0;
    h->type = h->v->types[(d[start] >> 4) & 3];
    if (h->type == LT_RETRY)
        return 0;
    pos += 5;
    if (pos >= len || d[pos] > WP_QUIC_MAX_CID)
        return -1;
    h->dcid_len = d[pos++];
    h->dcid = pos;
    if (len - pos < h->dcid_len + 1)
        return -1;
    pos += h->dcid_len;
    size_t scid_len = d[pos++];
    if (scid_len > WP_QUIC_MAX_CID || len - pos < scid_len)
        return -1;
    pos += scid_len;
    if (h->type == LT_INITIAL) {
        if (!varint(d, len, &pos, &tlen) || tlen > len - pos)
            return -1;
        pos += (size_t)tlen;
    }
    if (!varint(d, len, &pos, &plen) || plen > len - pos)
        return -1;
    h->pn = pos;
    h->end = pos + (size_t)plen;
    return 1;
}

/* Remove the protection of the Initial packet described by h and walk its
 * frames. Returns the CRYPTO frame count, -1 or -2. */
static int open_initial(const uint8_t *d, size_t start, const struct longhdr *h,
                        const uint8_t *odcid, size_t odcid_len, wp_quic_crypto_cb cb, void *ctx)
{
    uint8_t key[16], iv[12], hp[16], mask[16], first, pnb[4], nonce[12];
    uint8_t pt[WP_QUIC_MAX_PAYLOAD];
    size_t plen = h->end - h->pn;
    int r;

    /* The sample starts 4 bytes after the packet number's start (5.4.2);
     * the smallest packet has a 1-byte number, no payload, and the tag. */
    if (plen < 4 + 16 || plen > WP_QUIC_MAX_PAYLOAD)
        return WP_QUIC_MALFORMED;
    if (odcid == NULL) {
        odcid = d + h->dcid;
        odcid_len = h->dcid_len;
    }
    if (client_keys(h->v, odcid, odcid_len, key, iv, hp) < 0 || !hp_mask(hp, d + h->pn + 4, mask))
        return WP_QUIC_UNDECRYPTABLE;

    first = (uint8_t)(d[start] ^ (mask[0] & 0x0f));
    size_t pnlen = (size_t)(first & 0x03) + 1;
    uint64_t pn = 0;
    for (size_t i = 0; i < pnlen; i++) {
        pnb[i] = (uint8_t)(d[h->pn + i] ^ mask[1 + i]);
        pn = (pn << 8) | pnb[i];
    }
    /* The truncated number is used as is: Initial packet numbers stay
     * small, and the largest one received is not known here. */
    memcpy(nonce, iv, sizeof nonce);
    for (size_t i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));

    size_t ctlen = plen - pnlen - 16;
    const uint8_t *ct = d + h->pn + pnlen;
    if (!aead_open(key, nonce, &first, 1, d + start + 1, h->pn - start - 1, pnb, pnlen, ct, ctlen,
                   ct + ctlen, pt))
        r = WP_QUIC_UNDECRYPTABLE;
    else
        r = walk_frames(pt, ctlen, cb, ctx);
    memset(key, 0, sizeof key);
    return r;
}

int wp_quic_initial_crypto_odcid(const uint8_t *dgram, size_t len, const uint8_t *odcid,
                                 size_t odcid_len, wp_quic_crypto_cb cb, void *ctx)
{
    struct longhdr h;
    size_t off = 0;
    int count = 0;

    if (dgram == NULL)
        return 0;
    if (odcid != NULL && odcid_len > WP_QUIC_MAX_CID)
        return WP_QUIC_MALFORMED;
    while (off < len) {
        int r = long_header(dgram, len, off, &h);
        if (off == 0 && (r == 0 || (r > 0 && h.type != LT_INITIAL)))
            return 0; /* not an Initial: nothing for us */
        if (r < 0 && off == 0 && h.type != LT_INITIAL)
            return 0;
        if (r < 0)
            return WP_QUIC_MALFORMED;
        if (r == 0)
            break; /* a short header, Retry or other version follows */
        if (h.type == LT_INITIAL) {
            r = open_initial(dgram, off, &h, odcid, odcid_len, cb, ctx);
            if (r < 0)
                return r;
            count += r;
        }
        off = h.end;
    }
    return count;
}

int wp_quic_initial_crypto(const uint8_t *dgram, size_t len, wp_quic_crypto_cb cb, void *ctx)
{
    return wp_quic_initial_crypto_odcid(dgram, len, NULL, 0, cb, ctx);
}

int wp_quic_dcid(const uint8_t *dgram, size_t len, uint32_t *version, uint8_t dcid[WP_QUIC_MAX_CID],
                 size_t *dcid_len)
{
    const struct qversion *v;
    size_t n;

    if (dgram == NULL || len < 6 || !(dgram[0] & 0x80))
        return 0;
    v = find_version(wp_be32(dgram + 1));
    if (v == NULL || v->types[(dgram[0] >> 4) & 3] != LT_INITIAL)
        return 0;
    n = dgram[5];
    if (n > WP_QUIC_MAX_CID || len - 6 < n)
        return 0;
    if (version != NULL)
        *version = v->version;
    if (dcid != NULL && n > 0)
        memcpy(dcid, dgram + 6, n);
    if (dcid_len != NULL)
        *dcid_len = n;
    return 1;
}

/* ---- CRYPTO stream reassembly ---------------------------------------------- */

int wp_crypto_buf_add(struct wp_crypto_buf *b, uint64_t offset, const uint8_t *data, size_t len)
{
    if (b == NULL)
        return 0;
    if (data == NULL)
        len = 0;
    if (offset >= WP_CRYPTO_BUF_SIZE) {
        if (len > 0)
            b->clipped = true;
        return (int)b->have;
    }
    size_t start = (size_t)offset, n = len;
    if (n > WP_CRYPTO_BUF_SIZE - start) {
        n = WP_CRYPTO_BUF_SIZE - start;
        b->clipped = true;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = start + i;
        uint8_t bit = (uint8_t)(1u << (at & 7));
        if (!(b->got[at >> 3] & bit)) {
            b->data[at] = data[i];
            b->got[at >> 3] |= bit;
        }
    }
    while (b->have < WP_CRYPTO_BUF_SIZE && (b->got[b->have >> 3] & (1u << (b->have & 7))))
        b->have++;
    return (int)b->have;
}
