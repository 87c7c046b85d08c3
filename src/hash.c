/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: SipHash-1-3 keyed per run, for the hash tables
 *
 * SipHash (Aumasson and Bernstein, 2012) with one compression round and
 * three finalisation rounds, as used by several language runtimes for hash
 * tables exposed to untrusted keys. Written from the paper's description. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#include "wp/hash.h"

_Thread_local int wp_hash_oom;

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
