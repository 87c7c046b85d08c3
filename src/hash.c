/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: keyed hashes for the hash tables
 *
 * Two hashes keyed with a per-run random seed:
 *  - the default, a multiply-mix hash: each 16 bytes of key are folded
 *    with a 64x64->128-bit multiply whose halves are xored ("mum", the
 *    construction of wyhash), with the seed mixed into every step;
 *  - SipHash (Aumasson and Bernstein, 2012) with one compression round and
 *    three finalisation rounds, written from the paper's description.
 * uthash's own Jenkins hash (unkeyed) can be selected for benchmarks. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#include "wp/hash.h"

_Thread_local int wp_hash_oom;

static enum wp_hash_kind hash_kind = WP_HASH_FAST;

static uint64_t key0 = 0x736f6d6570736575ULL ^ 0x0706050403020100ULL;
static uint64_t key1 = 0x646f72616e646f6dULL ^ 0x0f0e0d0c0b0a0908ULL;

void wp_hash_seed(uint64_t k0, uint64_t k1)
{
    key0 = k0;
    key1 = k1;
}

int wp_hash_seed_random(void)
{
    uint64_t k[2];
    size_t got = 0;
#if defined(__linux__)
    while (got < sizeof(k)) {
        ssize_t r = getrandom((uint8_t *)k + got, sizeof(k) - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
#endif
    if (got < sizeof(k)) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        got = 0;
        while (got < sizeof(k)) {
            ssize_t r = read(fd, (uint8_t *)k + got, sizeof(k) - got);
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                close(fd);
                return -1;
            }
            got += (size_t)r;
        }
        close(fd);
    }
    wp_hash_seed(k[0], k[1]);
    return 0;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);              \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                 \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                 \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);              \
    } while (0)

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint64_t wp_siphash(const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ key0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ key1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ key0;
    uint64_t v3 = 0x7465646279746573ULL ^ key1;
    size_t left = len & 7;
    const uint8_t *end = in + (len - left);
    for (; in != end; in += 8) {
        uint64_t m = load_le64(in);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < left; i++)
        b |= (uint64_t)in[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

__extension__ typedef unsigned __int128 u128;

static inline uint64_t mum(uint64_t a, uint64_t b)
{
    u128 r = (u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

#define P0 0xa0761d6478bd642fULL
#define P1 0xe7037ed1a0b428dbULL
#define P2 0x8ebc6af09c88c6e3ULL
#define P3 0x589965cc75374cc3ULL

uint64_t wp_fasthash(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = key0 ^ mum(key1 ^ P0, (uint64_t)len ^ P1);
    size_t n = len;
    while (n > 16) {
        h = mum(load_le64(p) ^ key1 ^ P1, load_le64(p + 8) ^ h ^ P2);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = load_le64(p);
        b = load_le64(p + n - 8);
    } else if (n >= 4) {
        a = load_le32(p);
        b = load_le32(p + n - 4);
    } else if (n > 0) {
        a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
    }
    h = mum(a ^ key1 ^ P2, b ^ h ^ P3);
    return mum(h ^ key0 ^ P0, (uint64_t)len ^ P1);
}

/* uthash's Jenkins hash, unkeyed: only to measure what the keyed hashes cost. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wconversion"
static uint32_t jenkins(const void *data, size_t len)
{
    unsigned hashv;
    HASH_JEN(data, len, hashv);
    return hashv;
}
#pragma GCC diagnostic pop

void wp_hash_select(enum wp_hash_kind kind)
{
    hash_kind = kind;
}

void wp_hash_select_env(void)
{
    const char *e = getenv("WHICHPORTS_HASH");
    if (e == NULL)
        return;
    if (strcmp(e, "siphash") == 0)
        hash_kind = WP_HASH_SIPHASH;
    else if (strcmp(e, "jenkins") == 0)
        hash_kind = WP_HASH_JENKINS;
    else
        hash_kind = WP_HASH_FAST;
}

uint32_t wp_hash_bytes(const void *data, size_t len)
{
    switch (hash_kind) {
    case WP_HASH_SIPHASH:
        return (uint32_t)wp_siphash(data, len);
    case WP_HASH_JENKINS:
        return jenkins(data, len);
    default:
        return (uint32_t)wp_fasthash(data, len);
    }
}
