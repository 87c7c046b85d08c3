/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: reader for saved captures: pcap and pcapng, either byte order
 *
 * whichports reads capture files itself rather than through libpcap because
 * libpcap refuses pcapng files whose interfaces have different link types,
 * and because a damaged record must leave everything read before it usable.
 * The reader fills a large buffer with read(2) and hands out pointers into
 * it: no per-packet copy or allocation.
 *
 * Formats: pcap (https://www.tcpdump.org/manpages/pcap-savefile.5.html and
 * draft-ietf-opsawg-pcap), pcapng (draft-ietf-opsawg-pcapng).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wp/decode.h"
#include "wp/savefile.h"

#define BUF_INITIAL   (1u << 20)          /* 1 MiB, grown for large blocks */
#define MAX_BLOCK     (16u << 20)         /* largest pcapng block accepted */
#define MAX_IFACES    4096u
#define MAX_DPIB      16384u /* Darwin process blocks kept per section */
#define MAX_PIB       4096u  /* Wireshark process blocks kept per section */
#define PNAME_MAX     64u
#define PPATH_MAX     256u
#define PUSER_MAX     64u

enum fmt { FMT_PCAP, FMT_PCAPNG };

struct iface {
    uint32_t linktype;
    uint32_t snaplen;
    uint8_t tsresol;      /* exponent */
    bool tsresol_bin;     /* power of two rather than of ten */
    int64_t tsoffset;     /* seconds */
};

/* A process block, copied out of the buffer (blocks are consumed before
 * the packets that refer to them). Longer strings are cut. */
struct proc_ent {
    int64_t pid;
    uint64_t start_ns; /* Wireshark PIB start time, 0 when absent */
    uint8_t source;
    uint16_t name_len, path_len, user_len;
    char name[PNAME_MAX];
    char path[PPATH_MAX];
    char user[PUSER_MAX];
};

struct proc_tab {
    struct proc_ent *v;
    uint32_t n, cap; /* entries kept */
    uint32_t seen;   /* blocks seen in the section (Darwin: the next index) */
};

struct wp_savefile {
    char name[256];
    int fd;               /* -1 for memory */
    bool own_fd;
    uint8_t *buf;         /* owned unless memory-backed */
    size_t cap;
    size_t start, end;    /* unread bytes are buf[start..end) */
    bool eof;
    bool membacked;
    uint64_t consumed;    /* file offset of buf[start] */
    uint64_t size;

    enum fmt fmt;
    bool swap;            /* file byte order differs from little-endian reading */
    bool big;             /* file (or section) is big-endian */
    bool nanos;
    bool ns_seen;
    size_t rec_hdr_len;   /* pcap: 16, or 24 for the modified format */
    uint32_t linktype;    /* pcap */
    uint32_t snaplen;     /* pcap */
    uint64_t nrec;        /* records returned so far */

    struct iface *ifaces; /* pcapng, current section */
    uint32_t n_ifaces;
    uint32_t cap_ifaces;
    int64_t last_ts;

    struct proc_tab dpib;     /* Darwin process blocks of the section, by index */
    struct proc_tab pib;      /* Wireshark process blocks of the section, by pid */
    struct proc_tab droid;    /* PCAPdroid UID maps of the section, by uid (in pid) */
    struct wp_proc_view view; /* the current record's process, when any */
    wp_proc_bad pending_bad;  /* malformed process blocks since the last record */
    char droid_uid[24];       /* the current record's PCAPdroid UID, as text */
};

__attribute__((always_inline)) static inline uint16_t rd16(const struct wp_savefile *sf,
                                                          const uint8_t *b)
{
    return sf->big ? wp_be16(b) : wp_le16(b);
}

__attribute__((always_inline)) static inline uint32_t rd32(const struct wp_savefile *sf,
                                                          const uint8_t *b)
{
    return sf->big ? wp_be32(b) : wp_le32(b);
}

/* Make at least `n` unread bytes available. Returns the number available,
 * which is less than `n` only at end of input, or (size_t)-1 on a read
 * error (errno set). */
static size_t fill(struct wp_savefile *sf, size_t n)
{
    size_t avail = sf->end - sf->start;
    if (avail >= n || sf->membacked || sf->eof)
        return avail;
    if (n > sf->cap) {
        size_t ncap = sf->cap;
        while (ncap < n)
            ncap *= 2;
        if (sf->start > 0) {
            memmove(sf->buf, sf->buf + sf->start, avail);
            sf->start = 0;
            sf->end = avail;
        }
        uint8_t *nb = realloc(sf->buf, ncap);
        if (nb == NULL) {
            errno = ENOMEM;
            return (size_t)-1;
        }
        sf->buf = nb;
        sf->cap = ncap;
    } else if (sf->start + n > sf->cap || sf->start > sf->cap / 2) {
        memmove(sf->buf, sf->buf + sf->start, avail);
        sf->start = 0;
        sf->end = avail;
    }
    while (sf->end - sf->start < n) {
        ssize_t r = read(sf->fd, sf->buf + sf->end, sf->cap - sf->end);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return (size_t)-1;
        }
        if (r == 0) {
            sf->eof = true;
            break;
        }
        sf->end += (size_t)r;
    }
    return sf->end - sf->start;
}

static void consume(struct wp_savefile *sf, size_t n)
{
    sf->start += n;
    sf->consumed += n;
}

static int open_common(struct wp_savefile *sf, char errbuf[WP_ERRBUF_SIZE]);

int wp_savefile_open(struct wp_savefile **out, const char *path, char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    struct wp_savefile *sf = calloc(1, sizeof(*sf));
    if (sf == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", path);
        return -1;
    }
    if (strcmp(path, "-") == 0) {
        snprintf(sf->name, sizeof(sf->name), "(standard input)");
        sf->fd = STDIN_FILENO;
    } else {
        snprintf(sf->name, sizeof(sf->name), "%s", path);
        sf->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (sf->fd < 0) {
            snprintf(errbuf, WP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
            free(sf);
            return -1;
        }
        sf->own_fd = true;
        struct stat st;
        if (fstat(sf->fd, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                snprintf(errbuf, WP_ERRBUF_SIZE, "%s: is a directory", path);
                close(sf->fd);
                free(sf);
                return -1;
            }
            if (S_ISREG(st.st_mode))
                sf->size = (uint64_t)st.st_size;
        }
#ifdef POSIX_FADV_SEQUENTIAL
        (void)posix_fadvise(sf->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    sf->cap = BUF_INITIAL;
    sf->buf = malloc(sf->cap);
    if (sf->buf == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", sf->name);
        wp_savefile_close(sf);
        return -1;
    }
    if (open_common(sf, errbuf) != 0) {
        wp_savefile_close(sf);
        return -1;
    }
    *out = sf;
    return 0;
}

int wp_savefile_open_mem(struct wp_savefile **out, const uint8_t *buf, size_t len,
                         const char *name, char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    struct wp_savefile *sf = calloc(1, sizeof(*sf));
    if (sf == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", name);
        return -1;
    }
    snprintf(sf->name, sizeof(sf->name), "%s", name);
    sf->fd = -1;
    sf->membacked = true;
    sf->buf = (uint8_t *)(uintptr_t)buf; /* never written when memory-backed */
    sf->cap = len;
    sf->end = len;
    sf->eof = true;
    sf->size = len;
    if (open_common(sf, errbuf) != 0) {
        wp_savefile_close(sf);
        return -1;
    }
    *out = sf;
    return 0;
}

void wp_savefile_close(struct wp_savefile *sf)
{
    if (sf == NULL)
        return;
    if (sf->own_fd)
        close(sf->fd);
    if (!sf->membacked)
        free(sf->buf);
    free(sf->ifaces);
    free(sf->dpib.v);
    free(sf->pib.v);
    free(sf->droid.v);
    free(sf);
}

const char *wp_savefile_format(const struct wp_savefile *sf)
{
    return sf->fmt == FMT_PCAPNG ? "pcapng" : "pcap";
}

bool wp_savefile_nanoseconds(const struct wp_savefile *sf)
{
    return sf->nanos || sf->ns_seen;
}

uint64_t wp_savefile_offset(const struct wp_savefile *sf)
{
    return sf->consumed;
}

uint64_t wp_savefile_size(const struct wp_savefile *sf)
{
    return sf->size;
}

/* ---- pcap --------------------------------------------------------------- */

static int open_pcap(struct wp_savefile *sf, uint32_t magic_le, char errbuf[WP_ERRBUF_SIZE])
{
    switch (magic_le) {
    case 0xa1b2c3d4u: case 0xa1b23c4du: case 0xa1b2cd34u:
    case 0xd4c3b2a1u: case 0x4d3cb2a1u: case 0x34cdb2a1u:
        break;
    default:
        return -1; /* not pcap: the caller says so */
    }
    size_t avail = fill(sf, 24);
    if (avail == (size_t)-1) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: %s", sf->name, strerror(errno));
        return -1;
    }
    if (avail < 24) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: not a complete capture: the pcap file header is cut short (%zu of 24 bytes)",
                 sf->name, avail);
        return -1;
    }
    switch (magic_le) {
    case 0xa1b2c3d4u: sf->big = false; sf->rec_hdr_len = 16; break;
    case 0xa1b23c4du: sf->big = false; sf->rec_hdr_len = 16; sf->nanos = true; break;
    case 0xa1b2cd34u: sf->big = false; sf->rec_hdr_len = 24; break;
    case 0xd4c3b2a1u: sf->big = true; sf->rec_hdr_len = 16; break;
    case 0x4d3cb2a1u: sf->big = true; sf->rec_hdr_len = 16; sf->nanos = true; break;
    case 0x34cdb2a1u: sf->big = true; sf->rec_hdr_len = 24; break;
    default: return -1;
    }
    const uint8_t *h = sf->buf + sf->start;
    uint16_t vmaj = rd16(sf, h + 4);
    uint16_t vmin = rd16(sf, h + 6);
    if (vmaj != 2) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: unsupported pcap version %u.%u (only 2.x is defined)",
                 sf->name, vmaj, vmin);
        return -1;
    }
    sf->snaplen = rd32(sf, h + 16);
    uint32_t lt = rd32(sf, h + 20);
    if (lt & 0x03ff0000u) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: invalid pcap file header: reserved bits of the link-type field are not zero "
                 "(0x%08x)", sf->name, lt);
        return -1;
    }
    sf->linktype = lt & 0xffffu;
    sf->fmt = FMT_PCAP;
    consume(sf, 24);
    return 0;
}

/* A PCAPdroid trailer ending a classic-pcap record (proc.h): the app as the
 * record's process, the UID as its user, the trailer kept from the decoder. */
static void pcapdroid_trailer(struct wp_savefile *sf, struct wp_record *rec)
{
    int64_t uid;
    struct wp_proc_view *v = &sf->view;
    if (wp_proc_pcapdroid_trailer(rec->data, rec->caplen, rec->wirelen, v, &uid, &rec->trailer,
                                  &rec->proc_bad) != 1 ||
        !v->has_proc)
        return;
    int n = snprintf(sf->droid_uid, sizeof(sf->droid_uid), "%lld", (long long)uid);
    v->proc.user.p = sf->droid_uid;
    v->proc.user.len = (uint16_t)n;
    rec->proc = v;
}

static enum wp_sf_result next_pcap(struct wp_savefile *sf, struct wp_record *rec,
                                   char errbuf[WP_ERRBUF_SIZE])
{
    size_t hl = sf->rec_hdr_len;
    size_t avail = fill(sf, hl);
    if (avail == (size_t)-1) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: read error after %llu records: %s", sf->name,
                 (unsigned long long)sf->nrec, strerror(errno));
        return WP_SF_DAMAGED;
    }
    if (avail == 0)
        return WP_SF_EOF;
    if (avail < hl) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: cut short in the middle of record %llu: %zu of %zu header bytes",
                 sf->name, (unsigned long long)sf->nrec + 1, avail, hl);
        return WP_SF_DAMAGED;
    }
    const uint8_t *h = sf->buf + sf->start;
    uint32_t sec = rd32(sf, h);
    uint32_t frac = rd32(sf, h + 4);
    uint32_t caplen = rd32(sf, h + 8);
    uint32_t len = rd32(sf, h + 12);
    if (caplen > WP_MAX_CAPLEN) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: record %llu claims %u captured bytes, more than the maximum of %u: the "
                 "file is damaged", sf->name, (unsigned long long)sf->nrec + 1, caplen,
                 WP_MAX_CAPLEN);
        return WP_SF_DAMAGED;
    }
    avail = fill(sf, hl + caplen);
    if (avail == (size_t)-1) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: read error in record %llu: %s", sf->name,
                 (unsigned long long)sf->nrec + 1, strerror(errno));
        return WP_SF_DAMAGED;
    }
    if (avail < hl + caplen) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: cut short in the middle of record %llu: %zu of %u packet bytes",
                 sf->name, (unsigned long long)sf->nrec + 1, avail - hl, caplen);
        return WP_SF_DAMAGED;
    }
    h = sf->buf + sf->start;
    rec->data = h + hl;
    rec->caplen = caplen;
    rec->wirelen = len;
    rec->linktype = sf->linktype;
    rec->snaplen = sf->snaplen;
    rec->has_ts = true;
    /* An out-of-range fraction is kept as it is, as Wireshark shows it. */
    rec->ts_ns = (int64_t)sec * WP_NS_PER_S + (int64_t)frac * (sf->nanos ? 1 : 1000);
    rec->proc = NULL;
    rec->proc_bad = 0;
    rec->trailer = 0;
    if (sf->linktype == WP_LT_EN10MB && wp_proc_pcapdroid_maybe(rec->data, caplen))
        pcapdroid_trailer(sf, rec);
    consume(sf, hl + caplen);
    sf->nrec++;
    return WP_SF_RECORD;
}

/* ---- pcapng ------------------------------------------------------------- */

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 0x00000001u
#define BT_PB  0x00000002u
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u

/* Parse the options of an Interface Description Block into `ifc`.
 * Returns false when an option runs past the block. */
static bool idb_options(const struct wp_savefile *sf, const uint8_t *o, size_t len,
                        struct iface *ifc)
{
    while (len >= 4) {
        uint16_t code = rd16(sf, o);
        uint16_t olen = rd16(sf, o + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        if (padded > len - 4)
            return false;
        const uint8_t *v = o + 4;
        if (code == 0)
            break; /* opt_endofopt */
        if (code == 9 && olen >= 1) { /* if_tsresol */
            ifc->tsresol_bin = (v[0] & 0x80) != 0;
            ifc->tsresol = v[0] & 0x7f;
        } else if (code == 14 && olen >= 8) { /* if_tsoffset */
            uint64_t hi = rd32(sf, v), lo = rd32(sf, v + 4);
            /* The 64-bit value is stored in the section's byte order. */
            uint64_t off = sf->big ? (hi << 32) | lo : (lo << 32) | hi;
            ifc->tsoffset = (int64_t)off;
        }
        o += 4 + padded;
        len -= 4 + padded;
    }
    return true;
}

/* True when all options in [o, o+len) are well formed. */
static bool options_ok(const struct wp_savefile *sf, const uint8_t *o, size_t len)
{
    while (len >= 4) {
        uint16_t code = rd16(sf, o);
        uint16_t olen = rd16(sf, o + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        if (padded > len - 4)
            return false;
        if (code == 0)
            return true;
        o += 4 + padded;
        len -= 4 + padded;
    }
    return true;
}

__extension__ typedef unsigned __int128 wp_u128;

/* Convert a pcapng timestamp in interface units to nanoseconds. */
static int64_t ts_to_ns(const struct iface *ifc, uint64_t ts)
{
    /* The timestamp is unsigned: compute in 128 bits and clamp, so that a
     * value past the limit stays late instead of wrapping to a negative. */
    wp_u128 v;
    if (ifc->tsresol_bin) {
        unsigned k = ifc->tsresol > 63 ? 63 : ifc->tsresol;
        uint64_t sec = ts >> k;
        uint64_t frac = ts & ((UINT64_C(1) << k) - 1);
        v = (wp_u128)sec * WP_NS_PER_S + (((wp_u128)frac * WP_NS_PER_S) >> k);
    } else {
        unsigned k = ifc->tsresol;
        if (k <= 9) {
            uint64_t mul = 1;
            for (unsigned i = k; i < 9; i++)
                mul *= 10;
            v = (wp_u128)ts * mul;
        } else {
            uint64_t div = 1;
            for (unsigned i = 9; i < k && i < 28; i++)
                div *= 10;
            v = ts / div;
        }
    }
    int64_t ns = v > (wp_u128)WP_TS_LIMIT ? WP_TS_LIMIT : (int64_t)v;
    int64_t off, sum;
    if (__builtin_mul_overflow(ifc->tsoffset, (int64_t)WP_NS_PER_S, &off) ||
        __builtin_add_overflow(ns, off, &sum))
        return ifc->tsoffset < 0 ? -WP_TS_LIMIT : WP_TS_LIMIT; /* beyond any real clock */
    if (sum > WP_TS_LIMIT)
        return WP_TS_LIMIT;
    if (sum < -WP_TS_LIMIT)
        return -WP_TS_LIMIT;
    return sum;
}

/* Read a Section Header Block at the buffer start. `first` selects the
 * message style: a bad first block means "not a capture". */
static int read_shb(struct wp_savefile *sf, size_t blen, char errbuf[WP_ERRBUF_SIZE])
{
    const uint8_t *b = sf->buf + sf->start;
    uint16_t vmaj = rd16(sf, b + 12);
    uint16_t vmin = rd16(sf, b + 14);
    if (vmaj != 1 || (vmin != 0 && vmin != 2)) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: unsupported pcapng version %u.%u", sf->name, vmaj,
                 vmin);
        return -1;
    }
    if (!options_ok(sf, b + 24, blen - 28)) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: invalid pcapng section header: an option runs past the end of the block",
                 sf->name);
        return -1;
    }
    sf->n_ifaces = 0;
    sf->dpib.n = sf->dpib.seen = 0;
    sf->pib.n = sf->pib.seen = 0;
    sf->droid.n = sf->droid.seen = 0;
    return 0;
}

/* Read the byte-order magic and total length of an SHB at the buffer start. */
static int shb_header(struct wp_savefile *sf, size_t *blen, char errbuf[WP_ERRBUF_SIZE])
{
    size_t avail = fill(sf, 28);
    if (avail == (size_t)-1) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: %s", sf->name, strerror(errno));
        return -1;
    }
    if (avail < 28) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: pcapng section header cut short (%zu of 28 bytes)",
                 sf->name, avail);
        return -1;
    }
    const uint8_t *b = sf->buf + sf->start;
    uint32_t bom = wp_le32(b + 8);
    if (bom == 0x1a2b3c4du)
        sf->big = false;
    else if (bom == 0x4d3c2b1au)
        sf->big = true;
    else {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: invalid pcapng byte-order magic 0x%08x", sf->name,
                 bom);
        return -1;
    }
    uint32_t tl = rd32(sf, b + 4);
    if (tl < 28 || (tl & 3) || tl > MAX_BLOCK) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: invalid pcapng section header length %u", sf->name,
                 tl);
        return -1;
    }
    *blen = tl;
    return 0;
}

static int open_pcapng(struct wp_savefile *sf, char errbuf[WP_ERRBUF_SIZE])
{
    size_t blen;
    if (shb_header(sf, &blen, errbuf) != 0)
        return -1;
    size_t avail = fill(sf, blen);
    if (avail == (size_t)-1 || avail < blen) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: pcapng section header cut short", sf->name);
        return -1;
    }
    if (rd32(sf, sf->buf + sf->start + blen - 4) != (uint32_t)blen) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: invalid pcapng section header: its trailing length differs", sf->name);
        return -1;
    }
    if (read_shb(sf, blen, errbuf) != 0)
        return -1;
    sf->fmt = FMT_PCAPNG;
    consume(sf, blen);
    return 0;
}

static enum wp_sf_result damaged(struct wp_savefile *sf, char errbuf[WP_ERRBUF_SIZE],
                                 const char *what)
{
    snprintf(errbuf, WP_ERRBUF_SIZE, "%s: damaged after %llu records (byte offset %llu): %s",
             sf->name, (unsigned long long)sf->nrec, (unsigned long long)sf->consumed, what);
    return WP_SF_DAMAGED;
}

/* ---- process information (wp/proc.h) ------------------------------------ */

#define BT_DPIB      0x80000001u /* Apple Darwin Process Information Block */
#define BT_CB_COPY   0x00000BADu /* custom block, copyable */
#define BT_CB_NOCOPY 0x40000BADu /* custom block, do not copy */

static void copy_str(char *dst, size_t cap, uint16_t *dlen, struct wp_proc_str s)
{
    size_t n = s.len < cap ? s.len : cap;
    if (n > 0)
        memcpy(dst, s.p, n);
    *dlen = (uint16_t)n;
}

/* Keep a process block; false when out of memory. */
static bool keep_proc(struct proc_tab *t, uint32_t max, const struct wp_proc_desc *d,
                      uint64_t start_ns, wp_proc_bad *bad)
{
    t->seen++;
    if (t->n >= max) {
        *bad |= 1u << WP_PMAL_proc_blocks_table_full;
        return true;
    }
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 16;
        struct proc_ent *nv = realloc(t->v, (size_t)nc * sizeof(*nv));
        if (nv == NULL)
            return false;
        t->v = nv;
        t->cap = nc;
    }
    struct proc_ent *e = &t->v[t->n++];
    e->pid = d->pid;
    e->start_ns = start_ns;
    e->source = d->source;
    copy_str(e->name, sizeof(e->name), &e->name_len, d->name);
    copy_str(e->path, sizeof(e->path), &e->path_len, d->path);
    copy_str(e->user, sizeof(e->user), &e->user_len, d->user);
    return true;
}

static void ent_desc(const struct proc_ent *e, struct wp_proc_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->pid = e->pid;
    d->source = e->source;
    d->name.p = e->name;
    d->name.len = e->name_len;
    d->path.p = e->path;
    d->path.len = e->path_len;
    d->user.p = e->user;
    d->user.len = e->user_len;
}

/* The Wireshark process block for `pid` at time `ts`: among blocks with a
 * start time, the latest that started at or before `ts`, else the earliest;
 * blocks without one: the last. */
static const struct proc_ent *pib_find(const struct proc_tab *t, int64_t pid, int64_t ts)
{
    const struct proc_ent *best = NULL, *earliest = NULL, *last_nostart = NULL;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct proc_ent *e = &t->v[i];
        if (e->pid != pid)
            continue;
        if (e->start_ns == 0) {
            last_nostart = e;
            continue;
        }
        if (earliest == NULL || e->start_ns < earliest->start_ns)
            earliest = e;
        if (ts >= 0 && e->start_ns <= (uint64_t)ts &&
            (best == NULL || e->start_ns >= best->start_ns))
            best = e;
    }
    if (best != NULL)
        return best;
    return earliest != NULL ? earliest : last_nostart;
}

/* Fill rec->proc from the options of an EPB. */
static void epb_proc(struct wp_savefile *sf, const uint8_t *o, size_t len, struct wp_record *rec)
{
    struct wp_proc_epb ep;
    wp_proc_bad bad = 0;
    (void)wp_proc_epb_options(o, len, sf->big, &ep, &bad);
    struct wp_proc_view *v = &sf->view;
    wp_proc_view_init(v, WP_PSRC_COMMENT);
    if (ep.has_pib) {
        if (ep.pib < sf->dpib.n) {
            ent_desc(&sf->dpib.v[ep.pib], &v->proc);
            v->has_proc = true;
        } else if (ep.pib >= sf->dpib.seen) {
            bad |= 1u << WP_PMAL_epb_bad_process_index;
        }
    }
    if (ep.has_epib) {
        if (ep.epib < sf->dpib.n) {
            ent_desc(&sf->dpib.v[ep.epib], &v->eproc);
            v->has_eproc = true;
        } else if (ep.epib >= sf->dpib.seen) {
            bad |= 1u << WP_PMAL_epb_bad_process_index;
        }
    }
    if (!v->has_proc && ep.has_pid && ep.pid != 0) {
        const struct proc_ent *e = pib_find(&sf->pib, ep.pid, rec->ts_ns);
        if (e != NULL) {
            ent_desc(e, &v->proc);
        } else {
            v->proc.pid = ep.pid == 0xffffffffu ? -1 : (int64_t)ep.pid;
            v->proc.source = WP_PSRC_PCAPNG_PIB;
        }
        v->has_proc = v->proc.pid >= 0;
    }
    if (!v->has_proc) {
        for (unsigned i = 0; i < ep.n_comments; i++) {
            int64_t uid;
            if (wp_proc_pcapdroid_comment(ep.comments[i].p, ep.comments[i].len, &uid)) {
                /* PCAPdroid: the app of this UID, from the section's map */
                for (uint32_t k = sf->droid.n; k-- > 0;)
                    if (sf->droid.v[k].pid == uid) {
                        ent_desc(&sf->droid.v[k], &v->proc);
                        v->proc.pid = -1;
                        v->has_proc = true;
                        break;
                    }
                continue;
            }
            (void)wp_proc_comment(ep.comments[i].p, ep.comments[i].len, v, &bad);
        }
    }
    if (ep.dir != WP_PDIR_UNKNOWN)
        v->dir = ep.dir;
    if (ep.has_svc) {
        v->has_svc = true;
        v->svc = ep.svc;
    }
    if (ep.has_flow_id) {
        v->has_flow_id = true;
        v->flow_id = ep.flow_id;
    }
    if (v->has_proc || v->has_eproc)
        rec->proc = v;
    rec->proc_bad |= bad;
}

static enum wp_sf_result next_pcapng(struct wp_savefile *sf, struct wp_record *rec,
                                     char errbuf[WP_ERRBUF_SIZE])
{
    for (;;) {
        size_t avail = fill(sf, 12);
        if (avail == (size_t)-1)
            return damaged(sf, errbuf, strerror(errno));
        if (avail == 0)
            return WP_SF_EOF;
        if (avail < 12) 
            return damaged(sf, errbuf, "the file ends in the middle of a block header");
        const uint8_t *b = sf->buf + sf->start;
        uint32_t type = wp_le32(b); /* SHB type is a palindrome */
        size_t blen;
        if (type == BT_SHB) {
            if (shb_header(sf, &blen, errbuf) != 0)
                return damaged(sf, errbuf, "invalid section header block");
        } else {
            type = rd32(sf, b);
            blen = rd32(sf, b + 4);
            if (blen < 12 || (blen & 3) || blen > MAX_BLOCK)
                return damaged(sf, errbuf, "invalid block length");
        }
        avail = fill(sf, blen);
        if (avail == (size_t)-1)
            return damaged(sf, errbuf, strerror(errno));
        if (avail < blen)
            return damaged(sf, errbuf, "the file ends in the middle of a block");
        b = sf->buf + sf->start;
        if (rd32(sf, b + blen - 4) != (uint32_t)blen)
            return damaged(sf, errbuf, "block trailer length differs from its header");

        const uint8_t *body = b + 8;
        size_t bl = blen - 12;
        switch (type) {
        case BT_SHB: {
            char tmp[WP_ERRBUF_SIZE];
            if (read_shb(sf, blen, tmp) != 0)
                return damaged(sf, errbuf, "invalid section header block");
            break;
        }
        case BT_IDB: {
            if (bl < 8)
                return damaged(sf, errbuf, "interface description block too short");
            if (sf->n_ifaces >= MAX_IFACES)
                return damaged(sf, errbuf, "more than 4096 interfaces in one section");
            if (sf->n_ifaces == sf->cap_ifaces) {
                uint32_t nc = sf->cap_ifaces ? sf->cap_ifaces * 2 : 8;
                struct iface *ni = realloc(sf->ifaces, nc * sizeof(*ni));
                if (ni == NULL)
                    return damaged(sf, errbuf, "out of memory");
                sf->ifaces = ni;
                sf->cap_ifaces = nc;
            }
            struct iface *ifc = &sf->ifaces[sf->n_ifaces];
            memset(ifc, 0, sizeof(*ifc));
            ifc->linktype = rd16(sf, body);
            ifc->snaplen = rd32(sf, body + 4);
            ifc->tsresol = 6;
            if (!idb_options(sf, body + 8, bl - 8, ifc))
                return damaged(sf, errbuf, "an interface option runs past its block");
            if (ifc->tsresol_bin ? ifc->tsresol > 19 : ifc->tsresol > 6)
                sf->ns_seen = true;
            sf->n_ifaces++;
            break;
        }
        case BT_EPB:
        case BT_PB: {
            if (bl < 20)
                return damaged(sf, errbuf, "packet block too short");
            uint32_t ifid = type == BT_EPB ? rd32(sf, body) : rd16(sf, body);
            uint64_t ts = ((uint64_t)rd32(sf, body + 4) << 32) | rd32(sf, body + 8);
            uint32_t caplen = rd32(sf, body + 12);
            uint32_t len = rd32(sf, body + 16);
            if (ifid >= sf->n_ifaces)
                return damaged(sf, errbuf, "packet block names an interface that was not described");
            if (caplen > bl - 20 || caplen > WP_MAX_CAPLEN)
                return damaged(sf, errbuf, "packet block captured length exceeds the block");
            const struct iface *ifc = &sf->ifaces[ifid];
            rec->data = body + 20;
            rec->caplen = caplen;
            rec->wirelen = len;
            rec->linktype = ifc->linktype;
            rec->snaplen = ifc->snaplen;
            rec->ts_ns = ts_to_ns(ifc, ts);
            rec->has_ts = true;
            sf->last_ts = rec->ts_ns;
            rec->proc = NULL;
            rec->proc_bad = sf->pending_bad;
            rec->trailer = 0;
            sf->pending_bad = 0;
            size_t padded = ((size_t)caplen + 3) & ~(size_t)3;
            if (type == BT_EPB && padded < bl - 20)
                epb_proc(sf, body + 20 + padded, bl - 20 - padded, rec);
            consume(sf, blen);
            sf->nrec++;
            return WP_SF_RECORD;
        }
        case BT_SPB: {
            if (bl < 4)
                return damaged(sf, errbuf, "simple packet block too short");
            if (sf->n_ifaces == 0)
                return damaged(sf, errbuf, "simple packet block before any interface");
            const struct iface *ifc = &sf->ifaces[0];
            uint32_t len = rd32(sf, body);
            uint32_t caplen = len;
            if (ifc->snaplen != 0 && caplen > ifc->snaplen)
                caplen = ifc->snaplen;
            if (caplen > bl - 4)
                caplen = (uint32_t)(bl - 4);
            if (caplen > WP_MAX_CAPLEN)
                return damaged(sf, errbuf, "simple packet block larger than the maximum");
            rec->data = body + 4;
            rec->caplen = caplen;
            rec->wirelen = len;
            rec->linktype = ifc->linktype;
            rec->snaplen = ifc->snaplen;
            rec->ts_ns = sf->last_ts;
            rec->has_ts = false;
            rec->proc = NULL;
            rec->proc_bad = sf->pending_bad;
            rec->trailer = 0;
            sf->pending_bad = 0;
            consume(sf, blen);
            sf->nrec++;
            return WP_SF_RECORD;
        }
        case BT_DPIB: {
            struct wp_proc_desc d;
            if (wp_proc_dpib(body, bl, sf->big, &d, &sf->pending_bad)) {
                if (!keep_proc(&sf->dpib, MAX_DPIB, &d, 0, &sf->pending_bad))
                    return damaged(sf, errbuf, "out of memory");
            } else {
                sf->dpib.seen++; /* it still takes an index */
            }
            break;
        }
        case BT_CB_COPY:
        case BT_CB_NOCOPY: {
            struct wp_proc_desc d;
            uint64_t start;
            int64_t uid;
            if (wp_proc_wireshark_pib(body, bl, sf->big, &d, &start, &sf->pending_bad) == 1) {
                if (!keep_proc(&sf->pib, MAX_PIB, &d, start, &sf->pending_bad))
                    return damaged(sf, errbuf, "out of memory");
            } else if (wp_proc_pcapdroid_map(body, bl, sf->big, &uid, &d, &sf->pending_bad) == 1) {
                char u[24];
                int n = snprintf(u, sizeof(u), "%lld", (long long)uid);
                d.pid = uid; /* the table's key; packets get pid -1 */
                d.user.p = u;
                d.user.len = (uint16_t)n;
                if (!keep_proc(&sf->droid, MAX_PIB, &d, 0, &sf->pending_bad))
                    return damaged(sf, errbuf, "out of memory");
            }
            break;
        }
        default:
            break; /* statistics, names, comments, other custom blocks */
        }
        consume(sf, blen);
    }
}

/* ---- common ------------------------------------------------------------- */

static int open_common(struct wp_savefile *sf, char errbuf[WP_ERRBUF_SIZE])
{
    size_t avail = fill(sf, 4);
    if (avail == (size_t)-1) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: %s", sf->name, strerror(errno));
        return -1;
    }
    if (avail == 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: empty file, not a capture", sf->name);
        return -1;
    }
    const uint8_t *b = sf->buf + sf->start;
    if (avail >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: gzip-compressed; decompress it first (gunzip -c FILE | whichports -r -)",
                 sf->name);
        return -1;
    }
    if (avail < 4) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: too short to be a capture (%zu bytes)", sf->name,
                 avail);
        return -1;
    }
    uint32_t magic = wp_le32(b);
    if (magic == BT_SHB)
        return open_pcapng(sf, errbuf);
    errbuf[0] = '\0';
    if (open_pcap(sf, magic, errbuf) == 0)
        return 0;
    if (errbuf[0] == '\0')
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "%s: not a pcap or pcapng capture (unknown magic number 0x%08x)", sf->name,
                 wp_be32(b));
    return -1;
}

enum wp_sf_result wp_savefile_next(struct wp_savefile *sf, struct wp_record *rec,
                                   char errbuf[WP_ERRBUF_SIZE])
{
    return sf->fmt == FMT_PCAPNG ? next_pcapng(sf, rec, errbuf) : next_pcap(sf, rec, errbuf);
}
