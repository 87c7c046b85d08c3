/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: process information carried by capture records and blocks
 *
 * Several capture formats say which process sent or received a packet
 * (layouts and meanings: docs/processes.md):
 *   - the PKTAP link type (258, and 149 in older macOS files): v1 headers
 *     of 108 or 156 bytes and the v2 header, with pid, command name,
 *     effective pid and name, direction and delegation flags;
 *   - Apple pcapng: Darwin Process Information Blocks (0x80000001), indexed
 *     per section by the EPB options 0x8001 (process) and 0x8003 (effective
 *     process), with 0x8002 (service class) and 0x8005 (flow id);
 *   - the standard EPB option epb_processid_threadid (8) and Wireshark's
 *     process information (custom block, PEN 32622, entry type 3), matched
 *     by pid;
 *   - EPB comments: ptcpdump ("PID: n\nCmd: path..."), pymobiledevice3
 *     ("PID: n, ProcName: x, EPID: n, EProcName: y"), etl2pcapng
 *     ("PID=n TID=m") and rustnet ("rustnet process=x pid=n ...").
 *
 * The parsers here are pure: no allocation, no I/O, no global state. They
 * read only bytes they were given and return views (pointer + length) into
 * them. Every malformed case has a named reason (WP_PROC_MALFORMED_LIST in
 * wp/counters.h).
 */
#ifndef WP_PROC_H
#define WP_PROC_H

#include "wp/common.h"
#include "wp/counters.h"

/* Where a flow's process came from (JSON "source"). */
enum wp_proc_source {
    WP_PSRC_NONE = 0,
    WP_PSRC_PKTAP,         /* "pktap": PKTAP link-type header */
    WP_PSRC_PCAPNG_DARWIN, /* "pcapng-darwin": Apple process information block */
    WP_PSRC_PCAPNG_PIB,    /* "pcapng-pib": epb_processid_threadid / Wireshark PIB */
    WP_PSRC_COMMENT,       /* "comment": a packet comment (ptcpdump, pymobiledevice3, ...) */
    WP_PSRC_LIVE,          /* "live": the live attribution module */
    WP_PSRC_TRAILER,       /* "trailer": a PCAPdroid trailer ending the frame */
    WP_PSRC_COUNT
};

/* The JSON name of a source ("pktap", ...); "none" for WP_PSRC_NONE. */
const char *wp_proc_source_name(enum wp_proc_source s);

/* A string view: `len` bytes at `p`, not NUL-terminated; len 0 = absent. */
struct wp_proc_str {
    const char *p;
    uint16_t len;
};

/* One process as a record (or the live module) names it. All strings are
 * views; wp_engine_set_flow_process() and the process table copy what they
 * keep, so the views need only live for the duration of the call. */
struct wp_proc_desc {
    int64_t pid;                  /* -1: unknown */
    struct wp_proc_str name;      /* command name (e.g. "apsd"), may be absent */
    struct wp_proc_str path;      /* executable path, may be absent */
    struct wp_proc_str user;      /* user name or numeric uid, may be absent */
    struct wp_proc_str container; /* container (cgroup) name, may be absent */
    uint8_t source;               /* enum wp_proc_source */
};

/* Packet direction as the record states it. */
enum { WP_PDIR_UNKNOWN = 0, WP_PDIR_IN = 1, WP_PDIR_OUT = 2 };

/* The process information of one packet record. */
struct wp_proc_view {
    struct wp_proc_desc proc;  /* the process that used the socket (valid when has_proc) */
    struct wp_proc_desc eproc; /* the process it acted for (valid when has_eproc) */
    bool has_proc, has_eproc;
    bool delegated; /* PKTAP: the socket was delegated (flag 0x4) */
    uint8_t dir;    /* WP_PDIR_* */
    bool has_svc, has_flow_id;
    uint32_t svc;     /* Apple service class (0, 100, ... 900) */
    uint32_t flow_id; /* Apple kernel flow hash */
};

/* Bits of `bad` out-parameters: 1u << WP_PMAL_<reason>. */
typedef uint32_t wp_proc_bad;
_Static_assert(WP_PMAL_COUNT <= 32, "process malformed reasons must fit in 32 bits");

/* ---- PKTAP ---------------------------------------------------------------- */

/* Read the process information of a PKTAP record (`d`, `caplen` bytes
 * captured). v1 (pth_length >= 108; bytes 108.. of the 156-byte header are
 * not needed) and v2 (flag 0x80000) headers, always little-endian.
 * pid -1 (0xffffffff) and an empty name mean unknown.
 * Returns true and fills *v when the header is complete; false (leaving *v
 * with has_proc = has_eproc = false) when it is cut or malformed, and then
 * ORs the reason into *bad (a header shorter than its minimum is already
 * counted by the decoder and sets nothing here). */
bool wp_proc_pktap(const uint8_t *d, size_t caplen, struct wp_proc_view *v, wp_proc_bad *bad);

/* ---- PCAPdroid's classic-pcap trailer -------------------------------------- */

/* PCAPdroid (Android) in pcap mode with its "extensions" writes link type 1
 * (Ethernet) records laid out as (app/src/main/jni/core/pcap_dump.c,
 * docs/processes.md):
 *
 *   +------------------+-----------+---------+---------------------------+
 *   | Ethernet, 14 B:  | IP packet | pad 0-3 | trailer, 32 B:            |
 *   | both MACs zero,  | (whole,   | zero    |  0 magic 0x01072021 (BE)  |
 *   | type 0x0800 or   |  never    | bytes   |  4 uid, int32 BE, -1 none |
 *   | 0x86DD           |  cut)     |         |  8 app name, 20 B, NUL-   |
 *   |                  |           |         |    padded                 |
 *   |                  |           |         | 28 CRC-32 of everything   |
 *   |                  |           |         |    before it, host order  |
 *   +------------------+-----------+---------+---------------------------+
 *
 * The pad makes 14 + IP length + pad a multiple of 4; the record's captured
 * and wire lengths both count all of it (so Wireshark's frame.len does). */
#define WP_PCAPDROID_TRAILER 32u
#define WP_PCAPDROID_MAGIC   0x01072021u

/* Cheap test of a record's first and last bytes (`caplen` captured): both
 * MACs zero and the magic where the trailer would start. False for nearly
 * every other Ethernet frame after comparing 12 bytes. */
static inline bool wp_proc_pcapdroid_maybe(const uint8_t *d, size_t caplen)
{
    uint64_t macs8;
    uint32_t macs4;
    if (caplen < 14 + 20 + WP_PCAPDROID_TRAILER)
        return false;
    __builtin_memcpy(&macs8, d, 8); /* unaligned loads, no aliasing */
    __builtin_memcpy(&macs4, d + 8, 4);
    if ((macs8 | macs4) != 0)
        return false;
    return wp_be32(d + caplen - WP_PCAPDROID_TRAILER) == WP_PCAPDROID_MAGIC;
}

/* Read the trailer of a link-type-1 record (`d`, `caplen` captured,
 * `wirelen` on the wire) for which wp_proc_pcapdroid_maybe() is true.
 * Returns 1 when it is a PCAPdroid trailer: *trailer = the bytes after the
 * IP packet (pad + 32; not part of the frame's layers), *uid = the UID
 * (-1: unknown), and *v filled (source WP_PSRC_TRAILER; has_proc when the
 * UID is known: the app name as name, a view into `d`; pid -1; the caller
 * gives the user, the UID in decimal). Returns 0 when the frame does not
 * have the layout (not an IP packet of the ethertype, lengths that do not
 * add up, cut, non-zero pad: WP_PMAL_pcapdroid_trailer_bad_layout), and -1
 * when the CRC-32 matches in neither byte order
 * (WP_PMAL_pcapdroid_trailer_bad_fcs; *trailer is still set, as the layout
 * holds, but *v names no process). */
int wp_proc_pcapdroid_trailer(const uint8_t *d, size_t caplen, size_t wirelen,
                              struct wp_proc_view *v, int64_t *uid, uint32_t *trailer,
                              wp_proc_bad *bad);

/* The CRC-32 of ISO 3309 / IEEE 802.3 (reflected, polynomial 0xEDB88320,
 * initial and final value all ones) of `len` bytes: zlib's crc32(0, d, len). */
uint32_t wp_proc_crc32(const uint8_t *d, size_t len);

/* ---- pcapng --------------------------------------------------------------- */

/* A PCAPdroid UID map (custom block, PEN 62652, version 1, type 1; host
 * order, which is little-endian on Android, taken as the section's): fills
 * *uid and the package and app name views (the desc's path and name; pid
 * -1, source WP_PSRC_COMMENT, since packets name it by their "u-UID"
 * comment). Returns 1 when it is one, 0 for any other custom block, -1
 * with the reason in *bad when malformed. */
int wp_proc_pcapdroid_map(const uint8_t *body, size_t len, bool big, int64_t *uid,
                          struct wp_proc_desc *out, wp_proc_bad *bad);

/* The UID of a PCAPdroid packet comment "u-UID" (-1 for "u--1"), or false
 * when the comment is not one. */
bool wp_proc_pcapdroid_comment(const char *s, size_t len, int64_t *uid);

/* A Darwin Process Information Block (0x80000001) body: everything after
 * the block type and length, before the trailing length (`len` bytes),
 * in the section's byte order (`big`). Fills pid and the name and path
 * views (trailing NULs stripped: older Apple writers count them). Returns
 * false, with the reason in *bad, when the body is shorter than the pid or
 * an option runs past it. */
bool wp_proc_dpib(const uint8_t *body, size_t len, bool big, struct wp_proc_desc *out,
                  wp_proc_bad *bad);

/* A custom block body (after type and length, `len` bytes, section order
 * `big`). When it is Wireshark's process information (PEN 32622, entry type
 * 3; entry little-endian) fills *out (pid, name, path, user; source
 * WP_PSRC_PCAPNG_PIB), sets *start_ns (0 when absent) and returns 1; returns
 * 0 for any other custom block; -1 with the reason in *bad when the entry is
 * malformed. */
int wp_proc_wireshark_pib(const uint8_t *body, size_t len, bool big, struct wp_proc_desc *out,
                          uint64_t *start_ns, wp_proc_bad *bad);

#define WP_PROC_MAX_COMMENTS 8

/* What the options of one Enhanced Packet Block say about its process. */
struct wp_proc_epb {
    bool has_pib, has_epib, has_pid;
    uint32_t pib, epib; /* Darwin block indices (0x8001, 0x8003) */
    uint32_t pid, tid;  /* epb_processid_threadid (8) */
    bool has_svc, has_flow_id;
    uint32_t svc, flow_id; /* 0x8002, 0x8005 */
    uint8_t dir;           /* from epb_flags (2): WP_PDIR_* */
    uint8_t n_comments;
    struct wp_proc_str comments[WP_PROC_MAX_COMMENTS];
};

/* Walk the options of an EPB (`o`, `len` bytes after the padded packet
 * data; section order `big`) and fill *out (zeroed first). Returns false,
 * with the reason in *bad, when an option runs past the block (what was
 * read before it is kept); a known option of the wrong length is skipped
 * and counted. Comments beyond WP_PROC_MAX_COMMENTS are ignored. */
bool wp_proc_epb_options(const uint8_t *o, size_t len, bool big, struct wp_proc_epb *out,
                         wp_proc_bad *bad);

/* An empty view: no process, pids -1, every desc's source `source`. */
void wp_proc_view_init(struct wp_proc_view *v, uint8_t source);

/* Read the process named by a packet comment (`s`, `len` bytes) into *v:
 * ptcpdump, pymobiledevice3, etl2pcapng and rustnet conventions. Fields
 * already set in *v are completed, not replaced (ptcpdump writes several
 * comments per packet). Returns true when the comment was recognised; a
 * recognised comment whose PID is not a number sets WP_PMAL_comment_bad_pid
 * in *bad and returns false. *v must have been set up by wp_proc_view_init
 * (source WP_PSRC_COMMENT) before the first comment of a packet. */
bool wp_proc_comment(const char *s, size_t len, struct wp_proc_view *v, wp_proc_bad *bad);

/* ---- flows ---------------------------------------------------------------- */

struct wp_engine;
struct wp_flow_key;

/* The ONE entry point for live attribution: give the flow with canonical
 * key `key` (as in wp/flow.h: endpoint 0 is the lower (address, port) pair,
 * IPv4 in the first 4 bytes of addr[i], VLAN ids, zero padding) the process
 * `proc` (its strings are copied; source should be WP_PSRC_LIVE). The
 * process replaces whatever the flow's packets named so far and wins over
 * what later packets name; the flow's effective process becomes none.
 *
 * Must be called on the thread that feeds `e` with wp_engine_packet()
 * (the engine is not thread-safe): a helper thread hands its results back
 * through a queue drained between packets.
 *
 * Returns 0 when the flow was found and set; -1 when no such flow is in the
 * table (not seen yet, or evicted: attribute it when its first packet is
 * seen), or when the process table is full (bounded; counted as
 * processes_dropped). */
int wp_engine_set_flow_process(struct wp_engine *e, const struct wp_flow_key *key,
                               const struct wp_proc_desc *proc);

#endif
