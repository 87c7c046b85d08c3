/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: reader for saved captures: pcap and pcapng, either byte order */
#ifndef WP_SAVEFILE_H
#define WP_SAVEFILE_H

#include "wp/common.h"
#include "wp/proc.h"

/* One packet record. `data` points into the reader's buffer and stays valid
 * until the next call to wp_savefile_next() or wp_savefile_close(). */
struct wp_record {
    const uint8_t *data;
    uint32_t caplen;     /* bytes present in `data` */
    uint32_t wirelen;    /* length on the wire (pcap `len`, Wireshark frame.len) */
    int64_t ts_ns;       /* nanoseconds since 1970-01-01 UTC */
    bool has_ts;         /* false for pcapng Simple Packet Blocks */
    uint32_t linktype;   /* LINKTYPE_* of the record's interface */
    uint32_t snaplen;    /* snapshot length of the record's interface */
    /* The process information of a pcapng record (Darwin process blocks and
     * EPB options, Wireshark process blocks, option 8, comments), or NULL.
     * Owned by the reader, valid as long as `data`. PKTAP headers are not
     * read here (they are part of `data`; the engine reads them). */
    const struct wp_proc_view *proc;
    /* Malformed process information met since the previous record
     * (blocks in between and this record's options): bits 1u << WP_PMAL_*. */
    wp_proc_bad proc_bad;
    /* Bytes at the end of `data` that belong to no layer of the frame (a
     * PCAPdroid trailer and its pad): the decoder is not shown them, the
     * byte counts (wire length) keep them, as Wireshark's frame.len does. */
    uint32_t trailer;
};

enum wp_sf_result {
    WP_SF_RECORD = 1,    /* *rec filled */
    WP_SF_EOF = 0,       /* clean end of file */
    WP_SF_DAMAGED = -1,  /* the file is damaged here; errbuf says how; stop reading */
};

struct wp_savefile;

/* Open `path` ("-" is standard input) and read its file header. The format
 * is recognised by content: pcap (micro- or nanosecond, either byte order,
 * and the 24-byte-record variant) or pcapng.
 *
 * Returns 0 and sets *out, or -1 with a message naming the file and the
 * reason in errbuf (missing, unreadable, empty, gzip, unknown format or
 * version); nothing is then allocated. */
WP_NODISCARD int wp_savefile_open(struct wp_savefile **out, const char *path,
                                  char errbuf[WP_ERRBUF_SIZE]);

/* Same, over `len` bytes of memory owned by the caller, which must outlive
 * the reader. `name` is used in messages. */
WP_NODISCARD int wp_savefile_open_mem(struct wp_savefile **out, const uint8_t *buf, size_t len,
                                      const char *name, char errbuf[WP_ERRBUF_SIZE]);

/* Read the next packet record. Blocks that carry no packet (pcapng
 * statistics, name resolution, comments, custom blocks) are skipped.
 * On WP_SF_DAMAGED, errbuf names the file, the record number and the fault. */
WP_NODISCARD enum wp_sf_result wp_savefile_next(struct wp_savefile *sf, struct wp_record *rec,
                                                char errbuf[WP_ERRBUF_SIZE]);

/* "pcap" or "pcapng". */
const char *wp_savefile_format(const struct wp_savefile *sf);

/* True when timestamps have finer than microsecond resolution. */
bool wp_savefile_nanoseconds(const struct wp_savefile *sf);

/* Bytes consumed so far and the file size (0 when unknown, e.g. a pipe). */
uint64_t wp_savefile_offset(const struct wp_savefile *sf);
uint64_t wp_savefile_size(const struct wp_savefile *sf);

/* Close the reader and release everything it owns (NULL is accepted). */
void wp_savefile_close(struct wp_savefile *sf);

/* Record times are clamped to +-(2^62 - 1) ns (about 146 years either side
 * of 1970), so that any difference or small sum of two times fits in 64
 * bits; a pcapng file can state any 64-bit time. */
#define WP_TS_LIMIT (INT64_C(0x3fffffffffffffff))

/* The largest packet record accepted (as Wireshark and libpcap do). */
#define WP_MAX_CAPLEN 262144u

#endif
