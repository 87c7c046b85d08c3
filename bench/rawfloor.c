/* SPDX-License-Identifier: BSD-3-Clause */
/* The raw floor of the benchmark: the least work any reader of a capture
 * file must do, without libpcap. It reads the file with read(2) in blocks
 * of 4 MiB, walks the record headers of a classic pcap file (either byte
 * order, micro- or nanosecond) or of a pcapng file (Enhanced, Simple and
 * obsolete Packet Blocks; other blocks skipped), touches the first byte of
 * each packet, and prints the totals, so the loop cannot be optimised away.
 * whichports reads files itself (src/savefile.c), so this, not libpcap's
 * loop (bench/floor.c), is the floor it is measured against.
 *
 * Build: cc -O2 -o rawfloor bench/rawfloor.c
 * Use:   rawfloor FILE
 */

#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (4u << 20)

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

struct buf {
    int fd;
    uint8_t *b;
    size_t cap, off, len; /* b[off..len) not yet used */
    int eof;
};

/* Make at least n bytes available at b + off; 0 when the file ends first. */
static int need(struct buf *f, size_t n)
{
    while (f->len - f->off < n) {
        if (f->eof)
            return 0;
        if (f->off > 0) {
            memmove(f->b, f->b + f->off, f->len - f->off);
            f->len -= f->off;
            f->off = 0;
        }
        if (n > f->cap) {
            uint8_t *nb = realloc(f->b, n);
            if (nb == NULL)
                return 0;
            f->b = nb;
            f->cap = n;
        }
        ssize_t r = read(f->fd, f->b + f->len, f->cap - f->len);
        if (r <= 0)
            f->eof = 1;
        else
            f->len += (size_t)r;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    struct buf f = {open(argv[1], O_RDONLY), malloc(BLOCK), BLOCK, 0, 0, 0};
    if (f.fd < 0 || f.b == NULL) {
        perror(argv[1]);
        return 1;
    }
    uint64_t n = 0, caplen = 0, wirelen = 0, x = 0;
    if (!need(&f, 24)) {
        fprintf(stderr, "%s: too short\n", argv[1]);
        return 3;
    }
    uint32_t magic;
    memcpy(&magic, f.b, 4);
    if (magic == 0x0a0d0d0a) { /* pcapng */
        int swap = -1;
        for (;;) {
            if (!need(&f, 12))
                break;
            const uint8_t *p = f.b + f.off;
            if (rd32(p, 0) == 0x0a0d0d0a) {
                uint32_t bom;
                memcpy(&bom, p + 8, 4);
                swap = bom == 0x1a2b3c4d ? 0 : 1;
            }
            uint32_t type = rd32(p, swap), len = rd32(p + 4, swap);
            if (len < 12 || len % 4 != 0 || !need(&f, len))
                break;
            p = f.b + f.off;
            if ((type == 6 || type == 2) && len >= 32) { /* EPB, obsolete packet block */
                uint32_t cl = rd32(p + 20, swap), wl = rd32(p + 24, swap);
                n++;
                caplen += cl;
                wirelen += wl;
                if (cl > 0)
                    x += p[28];
            } else if (type == 3 && len >= 16) { /* SPB */
                n++;
                caplen += len - 16;
                wirelen += rd32(p + 8, swap);
                x += p[12];
            }
            f.off += len;
        }
    } else {
        int swap;
        if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
            swap = 0;
        else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
            swap = 1;
        else {
            fprintf(stderr, "%s: not a capture file\n", argv[1]);
            return 3;
        }
        f.off = 24;
        while (need(&f, 16)) {
            const uint8_t *p = f.b + f.off;
            uint32_t cl = rd32(p + 8, swap), wl = rd32(p + 12, swap);
            if (cl > (1u << 28) || !need(&f, 16 + (size_t)cl))
                break;
            p = f.b + f.off;
            n++;
            caplen += cl;
            wirelen += wl;
            if (cl > 0)
                x += p[16];
            f.off += 16 + (size_t)cl;
        }
    }
    close(f.fd);
    free(f.b);
    printf("%" PRIu64 " packets, %" PRIu64 " bytes captured, %" PRIu64
           " bytes on the wire (%" PRIu64 ")\n",
           n, caplen, wirelen, x);
    return 0;
}
