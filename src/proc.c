/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: process information out of capture records, blocks and comments
 *
 * Pure parsers (no allocation, no I/O): every read is preceded by a length
 * check against the bytes given, and the results are views into them.
 * Layouts: xnu bsd/net/pktap.h (PKTAP v1 and v2), Apple libpcap
 * pcap/pcap-ng.h (Darwin Process Information Block, EPB options
 * 0x8001-0x800A), draft-ietf-opsawg-pcapng (epb_processid_threadid),
 * Wireshark wiretap/pcapng-wireshark-custom.c (PEN 32622 entry 3), and the
 * comment conventions of ptcpdump, pymobiledevice3, etl2pcapng and rustnet
 * (docs/processes.md).
 */

#include <string.h>

#include "wp/proc.h"
#include "wp/proto.h"

const char *const wp_proc_malformed_name[WP_PMAL_COUNT] = {
#define WP_X(id, d) #id,
    WP_PROC_MALFORMED_LIST(WP_X)
#undef WP_X
};

const char *const wp_proc_malformed_desc[WP_PMAL_COUNT] = {
#define WP_X(id, d) d,
    WP_PROC_MALFORMED_LIST(WP_X)
#undef WP_X
};

#define BAD(r) (1u << WP_PMAL_##r)

const char *wp_proc_source_name(enum wp_proc_source s)
{
    switch (s) {
    case WP_PSRC_PKTAP:
        return "pktap";
    case WP_PSRC_PCAPNG_DARWIN:
        return "pcapng-darwin";
    case WP_PSRC_PCAPNG_PIB:
        return "pcapng-pib";
    case WP_PSRC_COMMENT:
        return "comment";
    case WP_PSRC_LIVE:
        return "live";
    case WP_PSRC_TRAILER:
        return "trailer";
    default:
        return "none";
    }
}

static inline uint32_t rd32(bool big, const uint8_t *b)
{
    return big ? wp_be32(b) : wp_le32(b);
}

static inline uint16_t rd16(bool big, const uint8_t *b)
{
    return big ? wp_be16(b) : wp_le16(b);
}

/* A string of at most `max` bytes at `p`, ending at the first NUL. */
static struct wp_proc_str cstr(const uint8_t *p, size_t max)
{
    size_t n = 0;
    while (n < max && p[n] != 0)
        n++;
    struct wp_proc_str s = {(const char *)p, (uint16_t)n};
    return s;
}

/* A string option value with trailing NULs stripped. */
static struct wp_proc_str ostr(const uint8_t *p, size_t len)
{
    while (len > 0 && p[len - 1] == 0)
        len--;
    if (len > UINT16_MAX)
        len = UINT16_MAX;
    struct wp_proc_str s = {(const char *)p, (uint16_t)len};
    return s;
}

static void desc_init(struct wp_proc_desc *d, uint8_t source)
{
    memset(d, 0, sizeof(*d));
    d->pid = -1;
    d->source = source;
}

/* ---- PCAPdroid trailer ---------------------------------------------------- */

uint32_t wp_proc_crc32(const uint8_t *d, size_t len)
{
    /* one entry per 4-bit value: the register after shifting it out */
    static const uint32_t nib[16] = {0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu,
                                     0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
                                     0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
                                     0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= d[i];
        c = (c >> 4) ^ nib[c & 15u];
        c = (c >> 4) ^ nib[c & 15u];
    }
    return ~c;
}

int wp_proc_pcapdroid_trailer(const uint8_t *d, size_t caplen, size_t wirelen,
                              struct wp_proc_view *v, int64_t *uid, uint32_t *trailer,
                              wp_proc_bad *bad)
{
    wp_proc_view_init(v, WP_PSRC_TRAILER);
    *uid = -1;
    *trailer = 0;
    if (!wp_proc_pcapdroid_maybe(d, caplen))
        return 0;
    /* the IP packet's own length: IPv4 total length, IPv6 40 + payload */
    uint16_t et = wp_be16(d + 12);
    unsigned ver = d[14] >> 4;
    size_t iplen;
    if (et == WP_ETHERTYPE_IPV4 && ver == 4)
        iplen = wp_be16(d + 16);
    else if (et == WP_ETHERTYPE_IPV6 && ver == 6)
        iplen = 40u + wp_be16(d + 18);
    else
        iplen = 0;
    size_t framed = 14 + iplen, pad = (4u - framed % 4u) % 4u;
    bool fits = iplen >= 20 && caplen == wirelen && caplen - WP_PCAPDROID_TRAILER >= framed &&
                caplen - WP_PCAPDROID_TRAILER - framed == pad;
    for (size_t i = 0; fits && i < pad; i++)
        fits = d[framed + i] == 0;
    if (!fits) {
        *bad |= BAD(pcapdroid_trailer_bad_layout);
        return 0;
    }
    *trailer = (uint32_t)(pad + WP_PCAPDROID_TRAILER);
    const uint8_t *t = d + caplen - WP_PCAPDROID_TRAILER;
    uint32_t crc = wp_proc_crc32(d, caplen - 4);
    if (crc != wp_le32(t + 28) && crc != wp_be32(t + 28)) {
        *bad |= BAD(pcapdroid_trailer_bad_fcs);
        return -1;
    }
    *uid = (int32_t)wp_be32(t + 4);
    if (*uid >= 0) {
        v->proc.name = cstr(t + 8, 20);
        v->has_proc = true;
    }
    return 1;
}

/* ---- PKTAP ---------------------------------------------------------------- */

#define PTH_FLAG_DIR_IN    0x1u
#define PTH_FLAG_DIR_OUT   0x2u
#define PTH_FLAG_DELEGATED 0x4u
#define PKTAP_V1_MIN       108u
#define COMM_MAX           17u /* MAXCOMLEN + 1 */

static int64_t pid_of(uint32_t raw)
{
    return raw == 0xffffffffu ? -1 : (int64_t)raw;
}

/* A v2 string at offset `off` (0: absent) within the header of `hl` bytes. */
static bool v2_str(const uint8_t *d, size_t hl, uint8_t off, size_t max, struct wp_proc_str *out)
{
    out->p = NULL;
    out->len = 0;
    if (off == 0)
        return true;
    if (off < WP_PKTAP_V2_FIXED || off >= hl)
        return false;
    size_t room = hl - off;
    *out = cstr(d + off, room < max ? room : max);
    return true;
}

bool wp_proc_pktap(const uint8_t *d, size_t caplen, struct wp_proc_view *v, wp_proc_bad *bad)
{
    wp_proc_view_init(v, WP_PSRC_PKTAP);
    if (caplen < WP_PKTAP_V2_FIXED)
        return false; /* the decoder counts the truncation */
    uint32_t flags = wp_le32(d + 36);
    uint32_t pid, epid;
    if (flags & WP_PKTAP_FLAG_V2) {
        size_t hl = d[0];
        if (hl < WP_PKTAP_V2_FIXED || hl > caplen) {
            *bad |= BAD(pktap_v2_bad_offset);
            return false;
        }
        if (!v2_str(d, hl, d[4], COMM_MAX, &v->proc.name) ||
            !v2_str(d, hl, d[5], COMM_MAX, &v->eproc.name)) {
            *bad |= BAD(pktap_v2_bad_offset);
            v->proc.name.len = v->eproc.name.len = 0;
            return false;
        }
        v->svc = wp_le32(d + 20);
        v->has_svc = true;
        v->flow_id = wp_le32(d + 24);
        v->has_flow_id = v->flow_id != 0;
        pid = wp_le32(d + 28);
        epid = wp_le32(d + 32);
    } else {
        uint32_t hl = wp_le32(d);
        if (hl < PKTAP_V1_MIN || caplen < PKTAP_V1_MIN)
            return false; /* the decoder counts it (malformed or truncated) */
        pid = wp_le32(d + 52);
        v->proc.name = cstr(d + 56, COMM_MAX);
        v->svc = wp_le32(d + 76);
        v->has_svc = true;
        epid = wp_le32(d + 84);
        v->eproc.name = cstr(d + 88, COMM_MAX);
        if (hl >= 112 && caplen >= 112) {
            v->flow_id = wp_le32(d + 108);
            v->has_flow_id = v->flow_id != 0;
        }
    }
    v->proc.pid = pid_of(pid);
    v->eproc.pid = pid_of(epid);
    v->has_proc = v->proc.pid >= 0 || v->proc.name.len > 0;
    v->has_eproc = v->eproc.pid >= 0 || v->eproc.name.len > 0;
    v->delegated = (flags & PTH_FLAG_DELEGATED) != 0;
    v->dir = (flags & PTH_FLAG_DIR_OUT)  ? WP_PDIR_OUT
             : (flags & PTH_FLAG_DIR_IN) ? WP_PDIR_IN
                                         : WP_PDIR_UNKNOWN;
    return true;
}

/* ---- pcapng blocks -------------------------------------------------------- */

bool wp_proc_dpib(const uint8_t *body, size_t len, bool big, struct wp_proc_desc *out,
                  wp_proc_bad *bad)
{
    desc_init(out, WP_PSRC_PCAPNG_DARWIN);
    if (len < 4) {
        *bad |= BAD(dpib_too_short);
        return false;
    }
    out->pid = pid_of(rd32(big, body));
    const uint8_t *o = body + 4;
    size_t ol = len - 4;
    while (ol >= 4) {
        uint16_t code = rd16(big, o), olen = rd16(big, o + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        if (padded > ol - 4) {
            *bad |= BAD(dpib_bad_option);
            return false;
        }
        if (code == 0)
            break;
        if (code == 2)
            out->name = ostr(o + 4, olen);
        else if (code == 3)
            out->path = ostr(o + 4, olen);
        o += 4 + padded;
        ol -= 4 + padded;
    }
    return true;
}

#define WS_PEN       32622u
#define WS_ENTRY_PIB 3u

int wp_proc_wireshark_pib(const uint8_t *body, size_t len, bool big, struct wp_proc_desc *out,
                          uint64_t *start_ns, wp_proc_bad *bad)
{
    desc_init(out, WP_PSRC_PCAPNG_PIB);
    *start_ns = 0;
    if (len < 4 || rd32(big, body) != WS_PEN)
        return 0;
    if (len < 12) {
        *bad |= BAD(pib_bad_entry);
        return -1;
    }
    if (wp_le32(body + 4) != WS_ENTRY_PIB)
        return 0;
    uint32_t elen = wp_le32(body + 8);
    if (elen < 4 || elen > len - 12) {
        *bad |= BAD(pib_bad_entry);
        return -1;
    }
    const uint8_t *e = body + 12;
    out->pid = pid_of(wp_le32(e));
    const uint8_t *o = e + 4;
    size_t ol = elen - 4;
    while (ol >= 4) {
        uint16_t code = wp_le16(o), olen = wp_le16(o + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        /* the last option's padding may fall outside the entry length */
        if (olen > ol - 4) {
            *bad |= BAD(pib_bad_option);
            return -1;
        }
        const uint8_t *val = o + 4;
        if (code == 0)
            break;
        if (code == 2)
            out->name = ostr(val, olen);
        else if (code == 3)
            out->path = ostr(val, olen);
        else if (code == 7)
            out->user = ostr(val, olen);
        else if (code == 9 && olen == 8)
            *start_ns = (uint64_t)wp_le32(val) | ((uint64_t)wp_le32(val + 4) << 32);
        if (padded >= ol - 4)
            break;
        o += 4 + padded;
        ol -= 4 + padded;
    }
    return 1;
}

#define PCAPDROID_PEN 62652u

static bool number(const char *s, size_t len, size_t *i, int64_t *out);

int wp_proc_pcapdroid_map(const uint8_t *body, size_t len, bool big, int64_t *uid,
                          struct wp_proc_desc *out, wp_proc_bad *bad)
{
    desc_init(out, WP_PSRC_COMMENT);
    if (len < 4 || rd32(big, body) != PCAPDROID_PEN)
        return 0;
    if (len < 14 || rd16(big, body + 4) != 1 || body[6] != 1) {
        *bad |= BAD(pcapdroid_bad_map);
        return -1;
    }
    *uid = (int32_t)rd32(big, body + 8);
    size_t pl = body[12], al = body[13];
    if (pl + al > len - 14) {
        *bad |= BAD(pcapdroid_bad_map);
        return -1;
    }
    out->path = ostr(body + 14, pl);
    out->name = ostr(body + 14 + pl, al);
    if (out->name.len == 0)
        out->name = out->path;
    return 1;
}

bool wp_proc_pcapdroid_comment(const char *s, size_t len, int64_t *uid)
{
    if (len < 3 || s[0] != 'u' || s[1] != '-')
        return false;
    size_t i = 2;
    int64_t v;
    if (!number(s, len, &i, &v) || i != len)
        return false;
    *uid = v;
    return true;
}

bool wp_proc_epb_options(const uint8_t *o, size_t len, bool big, struct wp_proc_epb *out,
                         wp_proc_bad *bad)
{
    memset(out, 0, sizeof(*out));
    while (len >= 4) {
        uint16_t code = rd16(big, o), olen = rd16(big, o + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        if (padded > len - 4) {
            *bad |= BAD(epb_bad_option);
            return false;
        }
        const uint8_t *v = o + 4;
        switch (code) {
        case 0:
            return true;
        case 1: /* opt_comment */
            if (out->n_comments < WP_PROC_MAX_COMMENTS) {
                struct wp_proc_str s = ostr(v, olen);
                out->comments[out->n_comments++] = s;
            }
            break;
        case 2: /* epb_flags: bits 0-1 direction */
            if (olen == 4) {
                uint32_t fl = rd32(big, v) & 3u;
                out->dir = fl == 1 ? WP_PDIR_IN : fl == 2 ? WP_PDIR_OUT : WP_PDIR_UNKNOWN;
            }
            break;
        case 8: /* epb_processid_threadid */
            if (olen != 8) {
                *bad |= BAD(epb_bad_option_length);
                break;
            }
            out->pid = rd32(big, v);
            out->tid = rd32(big, v + 4);
            out->has_pid = true;
            break;
        case 0x8001:
        case 0x8002:
        case 0x8003:
        case 0x8005:
            if (olen != 4) {
                *bad |= BAD(epb_bad_option_length);
                break;
            }
            if (code == 0x8001) {
                out->pib = rd32(big, v);
                out->has_pib = true;
            } else if (code == 0x8003) {
                out->epib = rd32(big, v);
                out->has_epib = true;
            } else if (code == 0x8002) {
                out->svc = rd32(big, v);
                out->has_svc = out->svc != 0xffffffffu;
            } else {
                out->flow_id = rd32(big, v);
                out->has_flow_id = true;
            }
            break;
        default:
            break;
        }
        o += 4 + padded;
        len -= 4 + padded;
    }
    return true;
}

/* ---- comments ------------------------------------------------------------- */

/* Does [s, s+len) start with the NUL-terminated `pfx`? */
static bool starts(const char *s, size_t len, const char *pfx)
{
    size_t n = strlen(pfx);
    return len >= n && memcmp(s, pfx, n) == 0;
}

/* A decimal number (optionally negative) at s[*i]; advances *i. Returns
 * false when there are no digits or it exceeds 32 bits. 4294967295 and -1
 * both give -1 (unknown). */
static bool number(const char *s, size_t len, size_t *i, int64_t *out)
{
    bool neg = false;
    if (*i < len && s[*i] == '-') {
        neg = true;
        (*i)++;
    }
    size_t start = *i;
    uint64_t v = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (uint64_t)(s[*i] - '0');
        if (v > 0xffffffffu)
            return false;
        (*i)++;
    }
    if (*i == start)
        return false;
    if (neg)
        *out = v == 1 ? -1 : -(int64_t)v;
    else
        *out = v == 0xffffffffu ? -1 : (int64_t)v;
    if (*out < -1)
        return false;
    return true;
}

static struct wp_proc_str view(const char *p, size_t n)
{
    if (n > UINT16_MAX)
        n = UINT16_MAX;
    struct wp_proc_str s = {p, (uint16_t)n};
    return s;
}

/* The last path component of a view (the whole view when it has no '/'). */
static struct wp_proc_str basename_of(struct wp_proc_str s)
{
    size_t i = s.len;
    while (i > 0 && s.p[i - 1] != '/')
        i--;
    return view(s.p + i, (size_t)s.len - i);
}

/* ptcpdump: "Key: value" lines. */
static bool ptcpdump_comment(const char *s, size_t len, struct wp_proc_view *v, wp_proc_bad *bad)
{
    bool any = false;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && s[e] != '\n')
            e++;
        const char *l = s + i;
        size_t ll = e - i;
        size_t c = 0;
        while (c < ll && l[c] != ':')
            c++;
        if (c < ll) {
            size_t vs = c + 1;
            while (vs < ll && l[vs] == ' ')
                vs++;
            struct wp_proc_str val = view(l + vs, ll - vs);
            if (c == 3 && memcmp(l, "PID", 3) == 0) {
                size_t k = vs;
                int64_t pid;
                if (!number(l, ll, &k, &pid) || k != ll) {
                    *bad |= BAD(comment_bad_pid);
                    return false;
                }
                v->proc.pid = pid;
                v->has_proc = true;
                any = true;
            } else if ((c == 3 && memcmp(l, "Cmd", 3) == 0) ||
                       (c == 7 && memcmp(l, "Command", 7) == 0)) {
                if (v->proc.path.len == 0 && val.len > 0) {
                    v->proc.path = val;
                    v->proc.name = basename_of(val);
                }
                any = true;
            } else if (c == 6 && memcmp(l, "UserId", 6) == 0) {
                if (v->proc.user.len == 0)
                    v->proc.user = val;
                any = true;
            } else if (c == 13 && memcmp(l, "ContainerName", 13) == 0) {
                if (v->proc.container.len == 0)
                    v->proc.container = val;
                any = true;
            } else if ((c == 9 && memcmp(l, "ParentPID", 9) == 0) ||
                       (c == 8 && memcmp(l, "ThreadId", 8) == 0) ||
                       (c == 11 && memcmp(l, "ContainerId", 11) == 0) ||
                       (c == 7 && memcmp(l, "PodName", 7) == 0)) {
                any = true; /* ptcpdump context we do not keep */
            }
        }
        i = e + 1;
    }
    return any;
}

/* pymobiledevice3: "PID: n, ProcName: x, EPID: n, EProcName: y, SVC: z". */
static bool pymobile_comment(const char *s, size_t len, struct wp_proc_view *v, wp_proc_bad *bad)
{
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && !(s[e] == ',' && e + 1 < len && s[e + 1] == ' '))
            e++;
        const char *f = s + i;
        size_t fl = e - i;
        size_t k;
        int64_t n;
        if (starts(f, fl, "PID: ")) {
            k = 5;
            if (!number(f, fl, &k, &n) || k != fl) {
                *bad |= BAD(comment_bad_pid);
                return false;
            }
            v->proc.pid = n;
        } else if (starts(f, fl, "EPID: ")) {
            k = 6;
            if (!number(f, fl, &k, &n) || k != fl) {
                *bad |= BAD(comment_bad_pid);
                return false;
            }
            v->eproc.pid = n;
        } else if (starts(f, fl, "ProcName: ")) {
            v->proc.name = view(f + 10, fl - 10);
        } else if (starts(f, fl, "EProcName: ")) {
            v->eproc.name = view(f + 11, fl - 11);
        }
        i = e + 2;
    }
    v->has_proc = v->proc.pid >= 0 || v->proc.name.len > 0;
    v->has_eproc = v->eproc.pid >= 0 || v->eproc.name.len > 0;
    return true;
}

/* A space-separated "key=value" field of `s`, or an empty view. */
static struct wp_proc_str kv(const char *s, size_t len, const char *key)
{
    size_t kl = strlen(key);
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && s[e] != ' ')
            e++;
        if (e - i > kl && memcmp(s + i, key, kl) == 0 && s[i + kl] == '=')
            return view(s + i + kl + 1, e - i - kl - 1);
        i = e + 1;
    }
    return view(s, 0);
}

static bool kv_pid(struct wp_proc_str f, int64_t *pid, wp_proc_bad *bad)
{
    size_t k = 0;
    if (!number(f.p, f.len, &k, pid) || k != f.len) {
        *bad |= BAD(comment_bad_pid);
        return false;
    }
    return true;
}

void wp_proc_view_init(struct wp_proc_view *v, uint8_t source)
{
    memset(v, 0, sizeof(*v));
    desc_init(&v->proc, source);
    desc_init(&v->eproc, source);
}

bool wp_proc_comment(const char *s, size_t len, struct wp_proc_view *v, wp_proc_bad *bad)
{
    if (starts(s, len, "PID: ")) {
        size_t k = 5;
        int64_t n;
        if (number(s, len, &k, &n) && k < len && s[k] == ',')
            return pymobile_comment(s, len, v, bad);
        return ptcpdump_comment(s, len, v, bad);
    }
    if (starts(s, len, "UserId: ") || starts(s, len, "ParentPID: ") ||
        starts(s, len, "ThreadId: ") || starts(s, len, "ContainerName: ") ||
        starts(s, len, "PodName: "))
        return ptcpdump_comment(s, len, v, bad);
    if (starts(s, len, "PID=")) {
        struct wp_proc_str f = kv(s, len, "PID");
        int64_t pid;
        if (!kv_pid(f, &pid, bad))
            return false;
        v->proc.pid = pid;
        v->has_proc = pid >= 0;
        return true;
    }
    if (starts(s, len, "rustnet ")) {
        struct wp_proc_str f = kv(s, len, "pid");
        int64_t pid = -1;
        if (f.len > 0 && !kv_pid(f, &pid, bad))
            return false;
        v->proc.pid = pid;
        v->proc.name = kv(s, len, "process");
        v->proc.user = kv(s, len, "uid");
        v->proc.container = kv(s, len, "container");
        v->has_proc = pid >= 0 || v->proc.name.len > 0;
        struct wp_proc_str d = kv(s, len, "direction");
        if (d.len == 8 && memcmp(d.p, "outgoing", 8) == 0)
            v->dir = WP_PDIR_OUT;
        else if (d.len == 8 && memcmp(d.p, "incoming", 8) == 0)
            v->dir = WP_PDIR_IN;
        return true;
    }
    return false;
}
