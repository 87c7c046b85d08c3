/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: live attribution: sock_diag, /proc, a helper thread (proclive.h)
 *
 * Two single-producer single-consumer rings join the threads: requests
 * from the capture thread to the helper, answers back. Each ring has one
 * writer per index (C11 atomics, acquire/release), so neither side takes a
 * lock; the capture thread only wakes the helper with a semaphore. The
 * host's addresses are read by the helper and handed over as a whole new
 * table through an atomic pointer, which the capture thread picks up when
 * it polls.
 *
 * The helper owns the caches: socket inode -> pid (from /proc/PID/fd,
 * rebuilt on a miss, newest processes first), and answers per 5-tuple for
 * cache_ns. */

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wp/proclive.h"

const char *wp_proclive_status_name(enum wp_proclive_status s)
{
    switch (s) {
    case WP_PL_OK:
        return "ok";
    case WP_PL_GONE:
        return "gone";
    case WP_PL_NOT_LOCAL:
        return "not local";
    case WP_PL_NO_PERMISSION:
        return "no permission";
    case WP_PL_DROPPED:
        return "queue full";
    case WP_PL_ERROR:
        return "lookup failed";
    case WP_PL_STATUS_COUNT:
        break;
    }
    return "?";
}

/* ---- parsers ------------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* `ndig` hex digits at *p into *v; advances *p. */
static int hex_u32(const char **p, int ndig, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < ndig; i++) {
        int h = hexval((*p)[i]);
        if (h < 0)
            return -1;
        x = (x << 4) | (uint32_t)h;
    }
    *p += ndig;
    *v = x;
    return 0;
}

/* "HEXADDR:PORT" at *p: address words in host order, port in hex. */
static int parse_endpoint(const char **p, uint8_t family, uint8_t addr[16], uint16_t *port)
{
    memset(addr, 0, 16);
    int words = family == 4 ? 1 : 4;
    for (int w = 0; w < words; w++) {
        uint32_t v;
        if (hex_u32(p, 8, &v) != 0)
            return -1;
        memcpy(addr + 4 * w, &v, 4); /* host order word: its bytes are the wire bytes */
    }
    if (**p != ':')
        return -1;
    (*p)++;
    uint32_t pv;
    if (hex_u32(p, 4, &pv) != 0)
        return -1;
    *port = (uint16_t)pv;
    return 0;
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static const char *skip_field(const char *p)
{
    p = skip_spaces(p);
    while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    return p;
}

static int parse_u64(const char **p, uint64_t *out)
{
    const char *s = skip_spaces(*p);
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

int wp_proclive_parse_netline(const char *line, uint8_t family, struct wp_proclive_netsock *out)
{
    if (family != 4 && family != 6)
        return -1;
    memset(out, 0, sizeof(*out));
    out->family = family;
    const char *p = skip_spaces(line);
    /* "sl" ends with a colon: "0:" */
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p != ':' || p == skip_spaces(line))
        return -1;
    p = skip_spaces(p + 1);
    if (parse_endpoint(&p, family, out->local, &out->lport) != 0)
        return -1;
    p = skip_spaces(p);
    if (parse_endpoint(&p, family, out->remote, &out->rport) != 0)
        return -1;
    p = skip_spaces(p);
    uint32_t st;
    if (hex_u32(&p, 2, &st) != 0)
        return -1;
    out->state = (uint8_t)st;
    p = skip_field(p); /* tx_queue:rx_queue */
    p = skip_field(p); /* tr:tm->when */
    p = skip_field(p); /* retrnsmt */
    uint64_t uid, timeout, inode;
    if (parse_u64(&p, &uid) != 0 || parse_u64(&p, &timeout) != 0 || parse_u64(&p, &inode) != 0)
        return -1;
    out->uid = uid > INT64_MAX ? -1 : (int64_t)uid;
    out->inode = inode;
    return 0;
}

uint64_t wp_proclive_parse_socket_link(const char *link, size_t len)
{
    static const char pre[] = "socket:[";
    size_t np = sizeof(pre) - 1;
    if (len < np + 2 || memcmp(link, pre, np) != 0 || link[len - 1] != ']')
        return 0;
    uint64_t v = 0;
    for (size_t i = np; i < len - 1; i++) {
        if (link[i] < '0' || link[i] > '9')
            return 0;
        unsigned d = (unsigned)(link[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return v;
}

int64_t wp_proclive_parse_status_uid(const char *text)
{
    const char *p = text;
    while (p != NULL && *p != '\0') {
        if (strncmp(p, "Uid:", 4) == 0) {
            const char *q = p + 4;
            uint64_t v;
            if (parse_u64(&q, &v) != 0 || v > INT64_MAX)
                return -1;
            return (int64_t)v;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

static bool is_hex_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0)
            return false;
    return true;
}

/* The first run of at least 12 hex digits in [s, e) (a container id), or NULL. */
static const char *find_id(const char *s, const char *e)
{
    for (const char *p = s; p + 12 <= e; p++) {
        if (is_hex_run(p, 12) && (p == s || hexval(p[-1]) < 0))
            return p;
    }
    return NULL;
}

static size_t put(char *out, size_t n, const char *tag, const char *v, size_t vlen)
{
    if (n == 0)
        return 0;
    size_t tl = strlen(tag);
    size_t len = 0;
    for (size_t i = 0; i < tl && len + 1 < n; i++)
        out[len++] = tag[i];
    for (size_t i = 0; i < vlen && len + 1 < n; i++)
        out[len++] = v[i];
    out[len] = '\0';
    return len;
}

/* Container from one cgroup path [s, e). */
static size_t cgroup_path(const char *s, const char *e, char *out, size_t n)
{
    /* the last path component */
    const char *last = e;
    while (last > s && last[-1] != '/')
        last--;
    const char *id;
    struct {
        const char *needle, *tag;
    } ids[] = {
        {"kubepods", "kubepods:"}, {"cri-containerd-", "containerd:"}, {"docker", "docker:"},
        {"libpod", "podman:"},     {"containerd", "containerd:"},
    };
    for (size_t i = 0; i < WP_ARRAY_LEN(ids); i++) {
        size_t nl = strlen(ids[i].needle);
        for (const char *p = s; p + nl <= e; p++) {
            if (memcmp(p, ids[i].needle, nl) != 0)
                continue;
            /* the id in the last component, else after the name */
            id = find_id(last, e);
            if (id == NULL)
                id = find_id(p, e);
            if (id != NULL)
                return put(out, n, ids[i].tag, id, 12);
            break;
        }
    }
    /* LXC: /lxc/NAME/... or /lxc.payload.NAME/... */
    for (const char *p = s; p < e; p++) {
        size_t rest = (size_t)(e - p);
        const char *name = NULL;
        if (rest > 5 && memcmp(p, "/lxc/", 5) == 0)
            name = p + 5;
        else if (rest > 13 && memcmp(p, "/lxc.payload.", 13) == 0)
            name = p + 13;
        if (name != NULL) {
            const char *q = name;
            while (q < e && *q != '/')
                q++;
            if (q > name)
                return put(out, n, "lxc:", name, (size_t)(q - name));
        }
    }
    /* systemd-nspawn: /machine.slice/machine-NAME.scope[/...] */
    for (const char *p = s; p + 9 < e; p++) {
        if (memcmp(p, "/machine-", 9) != 0)
            continue;
        const char *name = p + 9, *q = name;
        while (q < e && *q != '/')
            q++;
        if (q - name > 6 && memcmp(q - 6, ".scope", 6) == 0)
            return put(out, n, "machine:", name, (size_t)(q - name - 6));
    }
    if (n > 0)
        out[0] = '\0';
    return 0;
}

size_t wp_proclive_parse_cgroup(const char *text, char *out, size_t n)
{
    if (n > 0)
        out[0] = '\0';
    /* lines "ID:CONTROLLERS:PATH"; the cgroup v2 line "0::PATH" first,
     * then any other */
    for (int pass = 0; pass < 2; pass++) {
        const char *p = text;
        while (*p != '\0') {
            const char *eol = strchr(p, '\n');
            if (eol == NULL)
                eol = p + strlen(p);
            const char *c1 = memchr(p, ':', (size_t)(eol - p));
            const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
            if (c2 != NULL) {
                bool v2 = c1 == p + 1 && p[0] == '0' && c2 == c1 + 1;
                if (v2 == (pass == 0)) {
                    size_t len = cgroup_path(c2 + 1, eol, out, n);
                    if (len > 0)
                        return len;
                }
            }
            p = *eol != '\0' ? eol + 1 : eol;
        }
    }
    return 0;
}

/* ---- the platform part ---------------------------------------------------------- */

#ifndef __linux__

int wp_proclive_start(struct wp_proclive **out, const struct wp_proclive_opts *o,
                      char errbuf[WP_ERRBUF_SIZE])
{
    (void)o;
    *out = NULL;
    snprintf(errbuf, WP_ERRBUF_SIZE, "live process attribution is not supported on this system");
    return -1;
}

enum wp_proclive_status wp_proclive_request(struct wp_proclive *pl, const struct wp_flow_key *k,
                                            unsigned client, int64_t ts_ns)
{
    (void)pl, (void)k, (void)client, (void)ts_ns;
    return WP_PL_NOT_LOCAL;
}

size_t wp_proclive_poll(struct wp_proclive *pl,
                        void (*fn)(void *ctx, const struct wp_proclive_answer *a), void *ctx)
{
    (void)pl, (void)fn, (void)ctx;
    return 0;
}

size_t wp_proclive_drain(struct wp_proclive *pl, int timeout_ms,
                         void (*fn)(void *ctx, const struct wp_proclive_answer *a), void *ctx)
{
    (void)pl, (void)timeout_ms, (void)fn, (void)ctx;
    return 0;
}

const struct wp_proclive_stats *wp_proclive_stats(const struct wp_proclive *pl)
{
    (void)pl;
    static const struct wp_proclive_stats none;
    return &none;
}

bool wp_proclive_is_local(const struct wp_proclive *pl, uint8_t family, const uint8_t *addr)
{
    (void)pl, (void)family, (void)addr;
    return false;
}

void wp_proclive_stop(struct wp_proclive *pl)
{
    (void)pl;
}

int wp_proclive_watch_open(void **out, const char *iface, char errbuf[WP_ERRBUF_SIZE])
{
    (void)iface;
    *out = NULL;
    snprintf(errbuf, WP_ERRBUF_SIZE, "live process attribution is not supported on this system");
    return -1;
}

void wp_proclive_watch_close(void *w)
{
    (void)w;
}

int wp_proclive_keep_caps(char errbuf[WP_ERRBUF_SIZE])
{
    snprintf(errbuf, WP_ERRBUF_SIZE, "capabilities are not supported on this system");
    return -1;
}

int wp_proclive_limit_caps(char errbuf[WP_ERRBUF_SIZE])
{
    snprintf(errbuf, WP_ERRBUF_SIZE, "capabilities are not supported on this system");
    return -1;
}

int wp_proclive_drop_caps(char errbuf[WP_ERRBUF_SIZE])
{
    (void)errbuf;
    return 0;
}

#else /* __linux__ */

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef WP_HAVE_LIBCAP
#include <sys/capability.h>
#endif

#include <pcap/pcap.h>

#include "wp/decode.h"
#include "wp/hash.h"

/* ---- rings ------------------------------------------------------------------------- */

struct request {
    struct wp_flow_key k;
    uint8_t client; /* endpoint that started the flow */
    uint8_t local;  /* bit i: endpoint i is local */
    int64_t ts_ns;
};

/* Single producer, single consumer; `cap` is a power of two. */
struct ring {
    _Atomic size_t head; /* written by the producer */
    char pad1[64 - sizeof(size_t)];
    _Atomic size_t tail; /* written by the consumer */
    char pad2[64 - sizeof(size_t)];
    size_t cap, elt;
    unsigned char *slots;
};

static int ring_init(struct ring *r, size_t cap, size_t elt)
{
    size_t c = 1;
    while (c < cap)
        c <<= 1;
    r->slots = calloc(c, elt);
    if (r->slots == NULL)
        return -1;
    r->cap = c;
    r->elt = elt;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

static bool ring_push(struct ring *r, const void *item)
{
    size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h - t >= r->cap)
        return false;
    memcpy(r->slots + (h & (r->cap - 1)) * r->elt, item, r->elt);
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return true;
}

/* The next item in place (valid until ring_pop), or NULL. */
static const void *ring_peek(struct ring *r)
{
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (t == h)
        return NULL;
    return r->slots + (t & (r->cap - 1)) * r->elt;
}

static void ring_pop(struct ring *r)
{
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

/* ---- the host's addresses ---------------------------------------------------------- */

struct localtab {
    size_t n;
    struct {
        uint8_t family;
        uint8_t addr[16];
    } e[];
};

static struct localtab *read_local(void)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0)
        return NULL;
    size_t n = 0;
    for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next)
        n++;
    struct localtab *t = calloc(1, sizeof(*t) + n * sizeof(t->e[0]));
    if (t != NULL) {
        for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
            if (i->ifa_addr == NULL)
                continue;
            if (i->ifa_addr->sa_family == AF_INET) {
                const struct sockaddr_in *s = (const void *)i->ifa_addr;
                t->e[t->n].family = 4;
                memcpy(t->e[t->n].addr, &s->sin_addr, 4);
                t->n++;
            } else if (i->ifa_addr->sa_family == AF_INET6) {
                const struct sockaddr_in6 *s = (const void *)i->ifa_addr;
                t->e[t->n].family = 6;
                memcpy(t->e[t->n].addr, &s->sin6_addr, 16);
                t->n++;
            }
        }
    }
    freeifaddrs(ifa);
    return t;
}

/* Is `addr` one of the table's, or a loopback address? */
static bool local_in(const struct localtab *t, uint8_t family, const uint8_t *addr)
{
    if (t == NULL)
        return false;
    if (family == 4 && addr[0] == 127)
        return true;
    if (family == 6) {
        static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        if (memcmp(addr, lo6, 16) == 0)
            return true;
    }
    size_t n = family == 4 ? 4 : 16;
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].family == family && memcmp(t->e[i].addr, addr, n) == 0)
            return true;
    return false;
}

static bool loopback(uint8_t family, const uint8_t *addr)
{
    static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return family == 4 ? addr[0] == 127 : memcmp(addr, lo6, 16) == 0;
}

/* Which ends of a flow are this host's (bit 0: a0, bit 1: a1). A loopback
 * address counts only facing another: with any other address it is a
 * forged or martian source (a flood of random sources has 1 in 256 in
 * 127/8), which no socket of this host can own. */
static unsigned local_ends(const struct localtab *t, uint8_t family, const uint8_t *a0,
                           const uint8_t *a1)
{
    bool lo0 = loopback(family, a0), lo1 = loopback(family, a1);
    if (lo0 != lo1)
        return lo0 ? (local_in(t, family, a1) ? 2u : 0u) : (local_in(t, family, a0) ? 1u : 0u);
    return (local_in(t, family, a0) ? 1u : 0u) | (local_in(t, family, a1) ? 2u : 0u);
}

/* ---- caches (helper thread) ------------------------------------------------------- */

struct inode_ent {
    uint64_t inode;
    int32_t pid;
    UT_hash_handle hh;
};

/* 5-tuple key of the answer cache: no padding. */
struct tuple {
    uint8_t local[16], remote[16];
    uint16_t lport, rport;
    uint8_t family, proto;
    uint16_t zero;
};
_Static_assert(sizeof(struct tuple) == 40, "tuple must not contain padding");

struct answer_ent {
    struct tuple key;
    int64_t ts_ns;
    struct wp_proclive_answer a;
    UT_hash_handle hh;
};

#define ANSWER_CACHE_MAX 4096

struct wp_proclive {
    /* shared */
    struct ring req, ans;
    int wake;             /* eventfd: the capture thread wakes the helper */
    _Atomic bool waiting; /* the helper waits for requests: wake it */
    _Atomic bool stop;
    _Atomic(struct localtab *) pending_local;
    pthread_t thread;
    bool thread_started;
    struct wp_proclive_opts o;

    /* capture thread */
    struct localtab *local;
    struct wp_proclive_stats st;

    /* helper thread: the watch capture (see wp_proclive_watch_open) */
    pcap_t *watch;
    int watch_fd;
    int watch_linktype;
    struct localtab *hlocal; /* the helper's copy of the addresses */
    int64_t watch_second;    /* token bucket: lookups in this second */
    unsigned watch_budget;
    bool watch_paused;       /* budget spent: a filter that takes nothing */
    int64_t watch_resume_ns; /* until then (monotonic) */
    int64_t req_second;      /* token bucket: requests served this second */
    unsigned req_budget;

    /* helper thread */
    int nl; /* NETLINK_SOCK_DIAG socket, -1 none */
    uint32_t seq;
    struct inode_ent *inodes;
    int32_t *pids; /* pids of the last /proc listing, sorted */
    size_t n_pids;
    bool scan_denied;     /* some /proc/PID/fd could not be read */
    int64_t last_full_ns; /* when every process was last scanned */
    bool privileged;      /* may read every /proc/PID/fd: a refusal
                           * then means the process is exiting */
    struct {
        int64_t uid;
        char name[WP_PL_USER_MAX];
    } users[16]; /* uid -> name, most recent first */
    struct answer_ent *answers;
    size_t n_answers;
    int64_t last_local_ns;
    struct unused_port {
        int64_t until_ns; /* 0: empty */
        uint16_t port;
        uint8_t family;
    } unused[64]; /* UNUSED_SLOTS (netlink_lookup) */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- socket lookup ------------------------------------------------------------------ */

struct sockinfo {
    uint64_t inode;
    int64_t uid;
};

enum { FOUND = 0, NOT_FOUND = 1, FAILED = -1 };

static void fill_addr(__be32 dst[4], uint8_t family, const uint8_t *a)
{
    memset(dst, 0, 16);
    memcpy(dst, a, family == 4 ? 4 : 16);
}

/* One sock_diag request; the replies go to match(). Returns FOUND,
 * NOT_FOUND, or FAILED (netlink unusable). */
static int diag_query(struct wp_proclive *pl, uint8_t family, uint8_t proto, bool dump,
                      const struct inet_diag_sockid *id,
                      bool (*match)(const struct inet_diag_msg *m, void *ctx), void *ctx)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof(req));
    req.nlh.nlmsg_len = sizeof(req);
    req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nlh.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0));
    req.nlh.nlmsg_seq = ++pl->seq;
    req.r.sdiag_family = family == 4 ? AF_INET : AF_INET6;
    req.r.sdiag_protocol = proto;
    req.r.idiag_states = ~0u;
    req.r.id = *id;
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    if (sendto(pl->nl, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return FAILED;
    static _Thread_local unsigned char buf[8192];
    int result = NOT_FOUND;
    for (;;) {
        ssize_t n = recv(pl->nl, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return FAILED;
        }
        size_t len = (size_t)n, off = 0;
        /* messages copied out: no cast to a more aligned type */
        while (len - off >= sizeof(struct nlmsghdr)) {
            struct nlmsghdr h;
            memcpy(&h, buf + off, sizeof(h));
            if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
                return FAILED;
            const unsigned char *data = buf + off + NLMSG_HDRLEN;
            size_t dlen = h.nlmsg_len > NLMSG_HDRLEN ? h.nlmsg_len - NLMSG_HDRLEN : 0;
            off += NLMSG_ALIGN(h.nlmsg_len);
            if (off > len)
                off = len;
            if (h.nlmsg_seq != pl->seq)
                continue;
            if (h.nlmsg_type == NLMSG_DONE)
                return result;
            if (h.nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr e;
                if (dlen < sizeof(e))
                    return FAILED;
                memcpy(&e, data, sizeof(e));
                if (e.error == -ENOENT)
                    return result;
                return e.error == 0 ? result : FAILED;
            }
            if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && dlen >= sizeof(struct inet_diag_msg)) {
                struct inet_diag_msg m;
                memcpy(&m, data, sizeof(m));
                if (match(&m, ctx))
                    result = FOUND;
                if (!dump)
                    return result;
            }
        }
    }
}

struct want {
    uint8_t family;
    uint8_t local[16], remote[16];
    uint16_t lport, rport;
    bool wildcard;  /* UDP: accept sockets not connected to remote */
    bool port_seen; /* a dump listed some socket on lport */
    struct sockinfo *out;
};

static bool addr_is_zero(const uint8_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != 0)
            return false;
    return true;
}

/* For IPv4 flows also sockets in the IPv6 table with mapped addresses. */
static bool addr_match(const __be32 *sock, uint8_t sfam, const uint8_t *want, uint8_t wfam)
{
    const uint8_t *s = (const uint8_t *)sock;
    if (sfam == wfam)
        return memcmp(s, want, wfam == 4 ? 4 : 16) == 0;
    if (sfam == 6 && wfam == 4) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return memcmp(s, mapped, 12) == 0 && memcmp(s + 12, want, 4) == 0;
    }
    return false;
}

static bool exact_match(const struct inet_diag_msg *m, void *ctx)
{
    struct want *w = ctx;
    if (m->idiag_inode == 0)
        return false; /* time-wait: no socket left */
    w->out->inode = m->idiag_inode;
    w->out->uid = m->idiag_uid;
    return true;
}

static bool wildcard_match(const struct inet_diag_msg *m, void *ctx)
{
    struct want *w = ctx;
    uint8_t sfam = m->idiag_family == AF_INET ? 4 : 6;
    if (ntohs(m->id.idiag_sport) == w->lport)
        w->port_seen = true;
    if (m->idiag_inode == 0 || ntohs(m->id.idiag_sport) != w->lport)
        return false;
    size_t sn = sfam == 4 ? 4 : 16;
    bool local_ok = addr_is_zero((const uint8_t *)m->id.idiag_src, sn) ||
                    addr_match(m->id.idiag_src, sfam, w->local, w->family);
    bool remote_any = m->id.idiag_dport == 0 && addr_is_zero((const uint8_t *)m->id.idiag_dst, sn);
    bool remote_ok = remote_any || (ntohs(m->id.idiag_dport) == w->rport &&
                                    addr_match(m->id.idiag_dst, sfam, w->remote, w->family));
    if (!local_ok || !remote_ok)
        return false;
    if (w->out->inode != 0 && remote_any)
        return true; /* keep a connected match found before */
    w->out->inode = m->idiag_inode;
    w->out->uid = m->idiag_uid;
    return true;
}

/* A UDP port of the family that the last dumps showed unused, for
 * UNUSED_NS: a flood of datagrams to a port nobody listens on then costs
 * one dump, not four netlink queries per flow. Direct-mapped by port. */
#define UNUSED_SLOTS     64
#define UNUSED_NS        (50 * 1000000LL)

static bool udp_port_unused(const struct wp_proclive *pl, uint8_t family, uint16_t port)
{
    const struct unused_port *u = &pl->unused[port % UNUSED_SLOTS];
    return u->until_ns != 0 && u->family == family && u->port == port && mono_ns() < u->until_ns;
}

static int netlink_lookup(struct wp_proclive *pl, uint8_t proto, struct want *w)
{
    struct inet_diag_sockid id;
    if (proto == IPPROTO_UDP && udp_port_unused(pl, w->family, w->lport))
        return NOT_FOUND;
    /* The kernel's UDP lookup by id takes the remote end as "src" (the
     * view of its receive path; TCP takes the socket's own view): for UDP
     * try that first, then the socket's view. */
    int r = NOT_FOUND;
    int first = proto == IPPROTO_UDP ? 1 : 0;
    for (int i = 0; i < (proto == IPPROTO_UDP ? 2 : 1) && r == NOT_FOUND; i++) {
        int swap = i ^ first;
        const uint8_t *src = swap ? w->remote : w->local, *dst = swap ? w->local : w->remote;
        memset(&id, 0, sizeof(id));
        id.idiag_sport = htons(swap ? w->rport : w->lport);
        id.idiag_dport = htons(swap ? w->lport : w->rport);
        fill_addr(id.idiag_src, w->family, src);
        fill_addr(id.idiag_dst, w->family, dst);
        id.idiag_cookie[0] = id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
        r = diag_query(pl, w->family, proto, false, &id, exact_match, w);
    }
    if (r != NOT_FOUND || proto != IPPROTO_UDP)
        return r;
    /* UDP: sockets bound to the local port but not connected to this
     * remote. The dump lists every UDP socket of the family; IPv4 flows
     * may also belong to dual-stack IPv6 sockets. */
    memset(&id, 0, sizeof(id));
    id.idiag_cookie[0] = id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    w->port_seen = false;
    r = diag_query(pl, w->family, proto, true, &id, wildcard_match, w);
    if (r == NOT_FOUND && w->family == 4)
        r = diag_query(pl, 6, proto, true, &id, wildcard_match, w);
    if (r == NOT_FOUND && !w->port_seen) {
        struct unused_port *u = &pl->unused[w->lport % UNUSED_SLOTS];
        u->family = w->family;
        u->port = w->lport;
        u->until_ns = mono_ns() + UNUSED_NS;
    }
    return r;
}

/* /proc/net/{tcp,udp}{,6}: an exact match, or for UDP a socket bound to the
 * local port with no remote. */
static int procnet_lookup(uint8_t proto, struct want *w)
{
    const char *base = proto == IPPROTO_TCP ? "tcp" : "udp";
    int result = FAILED;
    struct sockinfo wild = {0, -1};
    for (int fam = 4; fam <= 6; fam += 2) {
        if (fam == 4 && w->family == 6)
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/net/%s%s", base, fam == 6 ? "6" : "");
        FILE *f = fopen(path, "re");
        if (f == NULL)
            continue;
        if (result == FAILED)
            result = NOT_FOUND;
        char line[512];
        while (fgets(line, sizeof(line), f) != NULL) {
            struct wp_proclive_netsock s;
            if (wp_proclive_parse_netline(line, (uint8_t)fam, &s) != 0 || s.inode == 0 ||
                s.lport != w->lport)
                continue;
            __be32 la[4], ra[4];
            memcpy(la, s.local, 16);
            memcpy(ra, s.remote, 16);
            size_t sn = fam == 4 ? 4 : 16;
            bool local_ok = addr_match(la, (uint8_t)fam, w->local, w->family);
            bool remote_ok =
                s.rport == w->rport && addr_match(ra, (uint8_t)fam, w->remote, w->family);
            if (local_ok && remote_ok) {
                w->out->inode = s.inode;
                w->out->uid = s.uid;
                fclose(f);
                return FOUND;
            }
            if (proto == IPPROTO_UDP && wild.inode == 0 && s.rport == 0 &&
                addr_is_zero(s.remote, sn) && (local_ok || addr_is_zero(s.local, sn))) {
                wild.inode = s.inode;
                wild.uid = s.uid;
            }
        }
        fclose(f);
    }
    if (wild.inode != 0) {
        *w->out = wild;
        return FOUND;
    }
    return result;
}

/* ---- inode -> pid -------------------------------------------------------------------- */

static int cmp_pid_desc(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x < y) - (x > y);
}

static bool pid_known(const struct wp_proclive *pl, int32_t pid)
{
    size_t lo = 0, hi = pl->n_pids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pl->pids[mid] == pid)
            return true;
        if (pl->pids[mid] > pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static void inode_put(struct wp_proclive *pl, uint64_t inode, int32_t pid)
{
    struct inode_ent *e;
    HASH_FIND(hh, pl->inodes, &inode, sizeof(inode), e);
    if (e != NULL) {
        e->pid = pid;
        return;
    }
    e = malloc(sizeof(*e));
    if (e == NULL)
        return;
    e->inode = inode;
    e->pid = pid;
    HASH_ADD(hh, pl->inodes, inode, sizeof(e->inode), e);
    if (wp_hash_oom) {
        wp_hash_oom = 0;
        free(e);
    }
}

static void inodes_clear(struct wp_proclive *pl)
{
    struct inode_ent *e, *tmp;
    HASH_ITER (hh, pl->inodes, e, tmp) {
        HASH_DEL(pl->inodes, e);
        free(e);
    }
}

/* Add the sockets of one process to the cache. Returns true when `want`
 * was among them. */
static bool scan_pid(struct wp_proclive *pl, int32_t pid, uint64_t want, bool cache)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if ((errno == EACCES || errno == EPERM) && !pl->privileged)
            pl->scan_denied = true;
        return false;
    }
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return false;
    }
    bool found = false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char link[64];
        ssize_t n = readlinkat(dfd, de->d_name, link, sizeof(link));
        if (n < 0) {
            if ((errno == EACCES || errno == EPERM) && !pl->privileged)
                pl->scan_denied = true;
            continue;
        }
        uint64_t ino = wp_proclive_parse_socket_link(link, (size_t)n);
        if (ino == 0)
            continue;
        if (cache)
            inode_put(pl, ino, pid);
        if (ino == want) {
            found = true;
            if (!cache)
                break;
        }
    }
    closedir(d);
    return found;
}

/* The thread group (process) of task `tid`, 0 when gone. */
static int32_t tgid_of(int32_t tid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = strstr(buf, "\nTgid:");
    if (p == NULL)
        return 0;
    long v = strtol(p + 6, NULL, 10);
    return v > 0 && v <= INT32_MAX ? (int32_t)v : 0;
}

/* The quick way for a socket of a program that has just started: the 64
 * most recently created tasks (the kernel's last pid, from /proc/loadavg,
 * downwards), without listing /proc. A task id may be a thread's, whose
 * /proc/TID/fd is its process's table: the answer is its thread group.
 * Nothing is cached (the full scan does that). 0 when not found. */
static int32_t newest_holder(struct wp_proclive *pl, uint64_t inode)
{
    char buf[128];
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *last = strrchr(buf, ' ');
    long top = last != NULL ? strtol(last + 1, NULL, 10) : 0;
    for (long id = top; id > 0 && id > top - 64; id--) {
        if (scan_pid(pl, (int32_t)id, inode, false)) {
            int32_t tg = tgid_of((int32_t)id);
            if (tg != 0)
                inode_put(pl, inode, tg);
            return tg;
        }
    }
    return 0;
}

/* List /proc: the pids, newest (highest) first. */
static int32_t *list_pids(size_t *n)
{
    *n = 0;
    DIR *d = opendir("/proc");
    if (d == NULL)
        return NULL;
    size_t cap = 512, len = 0;
    int32_t *v = malloc(cap * sizeof(*v));
    struct dirent *de;
    while (v != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        long pid = strtol(de->d_name, NULL, 10);
        if (pid <= 0 || pid > INT32_MAX)
            continue;
        if (len == cap) {
            int32_t *nv = realloc(v, 2 * cap * sizeof(*v));
            if (nv == NULL)
                break;
            v = nv;
            cap *= 2;
        }
        v[len++] = (int32_t)pid;
    }
    closedir(d);
    if (v != NULL)
        qsort(v, len, sizeof(*v), cmp_pid_desc);
    *n = len;
    return v;
}

/* The pid holding socket `inode`: the cache; on a miss, first the
 * processes that appeared since the last listing (a short-lived client is
 * new), then every process, rebuilding the cache (at most every 20 ms:
 * the helper waits for that).
 * 0 when none holds it. */
static int32_t inode_pid(struct wp_proclive *pl, uint64_t inode)
{
    struct inode_ent *e;
    HASH_FIND(hh, pl->inodes, &inode, sizeof(inode), e);
    if (e != NULL)
        return e->pid;
    int32_t fast = newest_holder(pl, inode);
    if (fast != 0)
        return fast;
    size_t n;
    int32_t *pids = list_pids(&n);
    if (pids == NULL)
        return 0;
    pl->scan_denied = false;
    int32_t found = 0;
    for (size_t i = 0; i < n && found == 0 && inode != 0; i++)
        if (!pid_known(pl, pids[i]) && scan_pid(pl, pids[i], inode, true))
            found = pids[i];
    /* Every process at most every 20 ms: a burst of flows whose sockets
     * are gone (or not ours) must not keep the helper scanning /proc. The
     * helper waits for its turn instead (requests queue up meanwhile). */
    if (found == 0) {
        int64_t wait = pl->last_full_ns + 20000000 - mono_ns();
        if (inode != 0 && wait > 0) {
            struct timespec d = {0, (long)wait};
            nanosleep(&d, NULL);
        }
        pl->last_full_ns = mono_ns();
        inodes_clear(pl);
        pl->scan_denied = false;
        for (size_t i = 0; i < n; i++)
            if (scan_pid(pl, pids[i], inode, true) && found == 0)
                found = pids[i];
    }
    free(pl->pids);
    pl->pids = pids;
    pl->n_pids = n;
    return found;
}

/* ---- process details ----------------------------------------------------------------- */

/* Read a small /proc file into buf (NUL-terminated). Returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < n) {
        ssize_t r = read(fd, buf + len, n - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* The user name of `uid` (or the number), remembered for the 16 most
 * recent uids. */
static void user_name(struct wp_proclive *pl, int64_t uid, char *out, size_t n)
{
    out[0] = '\0';
    if (uid < 0)
        return;
    size_t nu = WP_ARRAY_LEN(pl->users), i;
    for (i = 0; i < nu; i++)
        if (pl->users[i].uid == uid)
            break;
    if (i == nu) {
        i = nu - 1;
        pl->users[i].uid = uid;
        struct passwd pw, *res = NULL;
        char buf[1024];
        if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
            snprintf(pl->users[i].name, sizeof(pl->users[i].name), "%s", res->pw_name);
        else
            snprintf(pl->users[i].name, sizeof(pl->users[i].name), "%lld", (long long)uid);
    }
    if (i > 0) { /* move to the front */
        __typeof__(pl->users[0]) u = pl->users[i];
        memmove(&pl->users[1], &pl->users[0], i * sizeof(pl->users[0]));
        pl->users[0] = u;
    }
    snprintf(out, n, "%s", pl->users[0].name);
}

/* Fill the process fields of `a` for a->pid. Returns false when the
 * process is gone. */
static bool read_process(struct wp_proclive *pl, struct wp_proclive_answer *a)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)a->pid);
    ssize_t n = read_small(path, buf, sizeof(buf));
    if (n < 0)
        return false;
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    size_t cl = (size_t)n < sizeof(a->comm) - 1 ? (size_t)n : sizeof(a->comm) - 1;
    memcpy(a->comm, buf, cl);
    a->comm[cl] = '\0';

    snprintf(path, sizeof(path), "/proc/%d/exe", (int)a->pid);
    n = readlink(path, a->exe, sizeof(a->exe) - 1);
    a->exe[n > 0 ? n : 0] = '\0';

    snprintf(path, sizeof(path), "/proc/%d/status", (int)a->pid);
    if (read_small(path, buf, sizeof(buf)) > 0) {
        int64_t uid = wp_proclive_parse_status_uid(buf);
        if (uid >= 0)
            a->uid = uid;
    }
    user_name(pl, a->uid, a->user, sizeof(a->user));

    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)a->pid);
    if (read_small(path, buf, sizeof(buf)) > 0)
        wp_proclive_parse_cgroup(buf, a->container, sizeof(a->container));
    return true;
}

/* ---- the helper thread --------------------------------------------------------------- */

static void tuple_of(const struct wp_flow_key *k, unsigned local, struct tuple *t)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->local, k->addr[local], 16);
    memcpy(t->remote, k->addr[1 - local], 16);
    t->lport = k->port[local];
    t->rport = k->port[1 - local];
    t->family = k->family;
    t->proto = k->proto;
}

/* Look up one local end. */
static enum wp_proclive_status lookup_end(struct wp_proclive *pl, const struct wp_flow_key *k,
                                          unsigned local, struct wp_proclive_answer *a)
{
    struct sockinfo si = {0, -1};
    struct want w;
    memset(&w, 0, sizeof(w));
    w.family = k->family;
    memcpy(w.local, k->addr[local], 16);
    memcpy(w.remote, k->addr[1 - local], 16);
    w.lport = k->port[local];
    w.rport = k->port[1 - local];
    w.out = &si;
    int r = FAILED;
    if (pl->nl >= 0) {
        r = netlink_lookup(pl, k->proto, &w);
        if (r == FAILED) {
            close(pl->nl); /* unusable here: /proc/net from now on */
            pl->nl = -1;
        }
    }
    if (r == FAILED)
        r = procnet_lookup(k->proto, &w);
    if (r == FAILED)
        return WP_PL_ERROR;
    if (r == NOT_FOUND)
        return WP_PL_GONE;
    a->uid = si.uid;
    a->pid = inode_pid(pl, si.inode);
    if (a->pid == 0)
        return pl->scan_denied ? WP_PL_NO_PERMISSION : WP_PL_GONE;
    if (!read_process(pl, a)) {
        a->pid = 0;
        return WP_PL_GONE;
    }
    return WP_PL_OK;
}

static void answer_cache_put(struct wp_proclive *pl, const struct tuple *t, int64_t ts,
                             const struct wp_proclive_answer *a)
{
    struct answer_ent *e;
    HASH_FIND(hh, pl->answers, t, sizeof(*t), e);
    if (e != NULL) {
        e->ts_ns = ts;
        e->a = *a;
        return;
    }
    if (pl->n_answers >= ANSWER_CACHE_MAX && pl->answers != NULL) {
        struct answer_ent *old = pl->answers; /* insertion order: the oldest */
        HASH_DEL(pl->answers, old);
        free(old);
        pl->n_answers--;
    }
    e = malloc(sizeof(*e));
    if (e == NULL)
        return;
    e->key = *t;
    e->ts_ns = ts;
    e->a = *a;
    HASH_ADD(hh, pl->answers, key, sizeof(e->key), e);
    if (wp_hash_oom) {
        wp_hash_oom = 0;
        free(e);
        return;
    }
    pl->n_answers++;
}

static void handle(struct wp_proclive *pl, const struct request *rq, struct wp_proclive_answer *a)
{
    memset(a, 0, sizeof(*a));
    a->flow = rq->k;
    a->uid = -1;
    /* the client end first when both are local */
    unsigned order[2] = {rq->client & 1u, 1u - (rq->client & 1u)};
    enum wp_proclive_status best = WP_PL_NOT_LOCAL;
    for (int i = 0; i < 2; i++) {
        unsigned end = order[i];
        if (!(rq->local & (1u << end)))
            continue;
        struct tuple t;
        tuple_of(&rq->k, end, &t);
        struct answer_ent *c;
        HASH_FIND(hh, pl->answers, &t, sizeof(t), c);
        /* an answer for a flow with these addresses and ports that began
         * at about the same time: this flow (ports are reused later) */
        if (c != NULL && c->ts_ns - rq->ts_ns <= pl->o.cache_ns &&
            rq->ts_ns - c->ts_ns <= pl->o.cache_ns) {
            *a = c->a;
            a->flow = rq->k;
            a->comm[sizeof(a->comm) - 1] = '\0';
            a->status = WP_PL_OK;
            a->local = (uint8_t)(end | 0x80); /* 0x80: from the cache */
            return;
        }
        struct wp_proclive_answer tmp;
        memset(&tmp, 0, sizeof(tmp));
        tmp.flow = rq->k;
        tmp.uid = -1;
        tmp.local = (uint8_t)end;
        enum wp_proclive_status s = lookup_end(pl, &rq->k, end, &tmp);
        tmp.status = (uint8_t)s;
        if (s == WP_PL_OK) {
            answer_cache_put(pl, &t, rq->ts_ns, &tmp);
            *a = tmp;
            return;
        }
        /* keep the most telling failure: no permission > gone > error */
        if (best == WP_PL_NOT_LOCAL || s == WP_PL_NO_PERMISSION ||
            (s == WP_PL_GONE && best == WP_PL_ERROR)) {
            best = s;
            *a = tmp;
        }
    }
    a->status = (uint8_t)best;
}

/* The first packets of flows: TCP SYNs (IPv4; IPv6 without extension
 * headers) and UDP. (pcap filters give "and" and "or" the same precedence.) */
#define WATCH_FIRST                                                                                \
    "((tcp and tcp[13] & 2 != 0) or (ip6 and ip6[6] == 6 and ip6[53] & 2 != 0) or udp)"

static void watch_filter(struct wp_proclive *pl);

static bool localtab_eq(const struct localtab *a, const struct localtab *b)
{
    return a != NULL && b != NULL && a->n == b->n &&
           memcmp(a->e, b->e, a->n * sizeof(a->e[0])) == 0;
}

static void refresh_local(struct wp_proclive *pl)
{
    struct localtab *t = read_local();
    if (t == NULL)
        return;
    struct localtab *old = atomic_exchange(&pl->pending_local, t);
    free(old); /* never seen by the capture thread */
    struct localtab *h = read_local();
    if (h != NULL) {
        bool same = localtab_eq(h, pl->hlocal);
        free(pl->hlocal);
        pl->hlocal = h;
        if (!same)
            watch_filter(pl);
    }
    pl->last_local_ns = mono_ns();
}

/* Restrict the watch capture to the host's addresses, so that the kernel
 * drops everything else (routed or mirrored traffic, a replayed flood)
 * before it reaches the helper. Beyond 64 addresses, no restriction.
 * Also ends a pause (watch_pause). */
static void watch_filter(struct wp_proclive *pl)
{
    const struct localtab *t = pl->hlocal;
    if (pl->watch == NULL)
        return;
    size_t n = t == NULL || t->n > 64 ? 0 : t->n;
    size_t cap = 256 + n * 64, len = 0;
    char *expr = malloc(cap);
    if (expr == NULL)
        return;
    if (n == 0)
        len += (size_t)snprintf(expr + len, cap - len, "%s and (ip or ip6", WATCH_FIRST);
    else
        len += (size_t)snprintf(expr + len, cap - len,
                                "%s and ((src net 127.0.0.0/8 and dst net 127.0.0.0/8) or "
                                "(src host ::1 and dst host ::1)",
                                WATCH_FIRST); /* loopback facing loopback (local_ends) */
    for (size_t i = 0; i < n; i++) {
        char a[INET6_ADDRSTRLEN];
        if (inet_ntop(t->e[i].family == 4 ? AF_INET : AF_INET6, t->e[i].addr, a, sizeof(a)) == NULL)
            continue;
        if (t->e[i].family == 6 && t->e[i].addr[0] == 0xfe && (t->e[i].addr[1] & 0xc0) == 0x80)
            continue; /* link-local: scope ids do not compile */
        if (loopback(t->e[i].family, t->e[i].addr))
            continue; /* above */
        len += (size_t)snprintf(expr + len, cap - len, " or host %s", a);
    }
    snprintf(expr + len, cap - len, ")");
    struct bpf_program prog;
    if (pcap_compile(pl->watch, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0) {
        if (pcap_setfilter(pl->watch, &prog) == 0)
            pl->watch_paused = false;
        pcap_freecode(&prog);
    }
    free(expr);
}

/* The watch budget is spent (a flood of new flows): the kernel stops
 * copying packets to the watch capture for half a second, so that the
 * helper does not read the flood a second time. */
static void watch_pause(struct wp_proclive *pl)
{
    if (pl->watch_paused)
        return;
    struct bpf_insn none = BPF_STMT(BPF_RET | BPF_K, 0);
    struct bpf_program prog = {1, &none};
    if (pcap_setfilter(pl->watch, &prog) != 0)
        return;
    pl->watch_paused = true;
    pl->watch_resume_ns = mono_ns() + 500000000;
}

/* The watch capture: the first packets of flows (TCP SYN, UDP), seen at
 * once. Each local end is looked up now and its answer kept in the
 * 5-tuple cache, where the request from the capture thread finds it: a
 * socket that lives only milliseconds is found before it closes. At most
 * 2,000 lookups a second, then a pause (watch_pause), so a flood of new
 * flows costs little. */
static void on_watch(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct wp_proclive *pl = (struct wp_proclive *)(void *)user;
    struct wp_packet p;
    wp_decode((uint32_t)pl->watch_linktype, bytes, h->caplen, h->len, false, &p);
    if (p.family == 0 || !p.has_ports || (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP))
        return;
    int64_t ts = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec * 1000;
    struct wp_flow_key k;
    memset(&k, 0, sizeof(k));
    size_t n = p.family == 4 ? 4 : 16;
    memcpy(k.addr[0], p.src, n);
    memcpy(k.addr[1], p.dst, n);
    k.port[0] = p.sport;
    k.port[1] = p.dport;
    k.proto = p.proto;
    k.family = p.family;
    k.vlan = k.vlan_inner = 0;
    unsigned ends = local_ends(pl->hlocal, k.family, k.addr[0], k.addr[1]);
    for (unsigned end = 0; end < 2; end++) {
        if (!(ends & (1u << end)))
            continue;
        struct tuple t;
        tuple_of(&k, end, &t);
        struct answer_ent *c;
        HASH_FIND(hh, pl->answers, &t, sizeof(t), c);
        if (c != NULL && ts - c->ts_ns >= 0 && ts - c->ts_ns < 1000000000)
            continue; /* looked up within the last second */
        int64_t sec = ts / 1000000000;
        if (sec != pl->watch_second) {
            pl->watch_second = sec;
            pl->watch_budget = 2000;
        }
        if (pl->watch_budget == 0) {
            watch_pause(pl);
            return;
        }
        pl->watch_budget--;
        struct wp_proclive_answer a;
        memset(&a, 0, sizeof(a));
        a.uid = -1;
        a.local = (uint8_t)end;
        if (lookup_end(pl, &k, end, &a) == WP_PL_OK) {
            a.status = WP_PL_OK;
            answer_cache_put(pl, &t, ts, &a);
        }
    }
}

/* Requests served a second at most: a flood of new local flows would
 * otherwise keep the helper busy on a core that capture needs; past it the
 * queue fills and the capture thread counts the flows as queue_full. */
#define REQ_BUDGET 20000

/* Sleep until the next second of the monotonic clock (a spent budget),
 * waking for a stop. */
static void req_pause(struct wp_proclive *pl)
{
    int64_t left = 1000000000 - mono_ns() % 1000000000;
    while (left > 0 && !atomic_load(&pl->stop)) {
        int64_t d = left < 10000000 ? left : 10000000;
        struct timespec ts = {0, (long)d};
        nanosleep(&ts, NULL);
        left -= d;
    }
}

/* Wait for a request or a watched packet (200 ms at most). The capture
 * thread writes the eventfd only while `waiting` is set; setting it, then
 * looking at the queue once more, with a full fence between (and one in
 * wp_proclive_request between its push and its look at `waiting`), means
 * that a request is either seen here or wakes the poll. */
static void helper_wait(struct wp_proclive *pl)
{
    atomic_store(&pl->waiting, true);
    atomic_thread_fence(memory_order_seq_cst);
    if (ring_peek(&pl->req) == NULL) {
        bool watch = pl->watch_fd >= 0 && !pl->watch_paused;
        struct pollfd pf[2] = {{pl->wake, POLLIN, 0}, {pl->watch_fd, POLLIN, 0}};
        (void)poll(pf, watch ? 2 : 1, 200);
    }
    atomic_store(&pl->waiting, false);
    uint64_t v;
    (void)!read(pl->wake, &v, sizeof(v)); /* non-blocking */
}

static void *helper_main(void *arg)
{
    struct wp_proclive *pl = arg;
    watch_filter(pl);
    (void)inode_pid(pl, 0); /* fill the cache before the first flow */
    while (!atomic_load(&pl->stop)) {
        if (pl->watch != NULL) {
            if (pl->watch_paused && mono_ns() >= pl->watch_resume_ns)
                watch_filter(pl);
            (void)pcap_dispatch(pl->watch, 256, on_watch, (u_char *)pl);
        }
        const struct request *rq = ring_peek(&pl->req);
        if (rq == NULL) {
            if (mono_ns() - pl->last_local_ns > 2000000000LL)
                refresh_local(pl);
            helper_wait(pl);
            continue;
        }
        int64_t sec = mono_ns() / 1000000000;
        if (sec != pl->req_second) {
            pl->req_second = sec;
            pl->req_budget = REQ_BUDGET;
        }
        if (pl->req_budget == 0) {
            req_pause(pl);
            continue;
        }
        pl->req_budget--;
        struct request copy = *rq;
        ring_pop(&pl->req);
        struct wp_proclive_answer a;
        handle(pl, &copy, &a);
        while (!ring_push(&pl->ans, &a)) {
            if (atomic_load(&pl->stop))
                return NULL;
            struct timespec d = {0, 1000000};
            nanosleep(&d, NULL);
        }
    }
    return NULL;
}

/* ---- capture-thread side --------------------------------------------------------------- */

int wp_proclive_start(struct wp_proclive **out, const struct wp_proclive_opts *o,
                      char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    struct wp_proclive *pl = calloc(1, sizeof(*pl));
    if (pl == NULL)
        goto oom;
    if (o != NULL)
        pl->o = *o;
    if (pl->o.queue_len == 0)
        pl->o.queue_len = 4096;
    if (pl->o.cache_ns == 0)
        pl->o.cache_ns = 2LL * 1000000000;
    pl->nl = -1;
    pl->wake = -1;
    pl->watch_fd = -1;
    for (size_t i = 0; i < WP_ARRAY_LEN(pl->users); i++)
        pl->users[i].uid = -1;
    pl->privileged = geteuid() == 0;
#ifdef WP_HAVE_LIBCAP
    cap_t caps = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    if (caps != NULL && cap_get_flag(caps, CAP_SYS_PTRACE, CAP_EFFECTIVE, &v) == 0 &&
        v == CAP_SET && cap_get_flag(caps, CAP_DAC_READ_SEARCH, CAP_EFFECTIVE, &v) == 0 &&
        v == CAP_SET)
        pl->privileged = true;
    if (caps != NULL)
        cap_free(caps);
#endif
    atomic_init(&pl->stop, false);
    atomic_init(&pl->waiting, false);
    atomic_init(&pl->pending_local, NULL);
    if (ring_init(&pl->req, pl->o.queue_len, sizeof(struct request)) != 0 ||
        ring_init(&pl->ans, pl->o.queue_len, sizeof(struct wp_proclive_answer)) != 0)
        goto oom;
    pl->local = read_local();
    if (pl->local == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "cannot read this host's addresses: %s", strerror(errno));
        wp_proclive_stop(pl);
        return -1;
    }
    pl->last_local_ns = mono_ns();
    if (!pl->o.proc_net_only)
        pl->nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (pl->nl >= 0) {
        struct timeval tv = {1, 0};
        (void)setsockopt(pl->nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    pl->hlocal = read_local();
    pl->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (pl->wake < 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "cannot make an eventfd: %s", strerror(errno));
        wp_proclive_stop(pl);
        return -1;
    }
    if (pl->o.watch != NULL) {
        pl->watch = (pcap_t *)pl->o.watch;
        pl->o.watch = NULL;
        pl->watch_linktype = pcap_datalink(pl->watch);
        pl->watch_fd = pcap_get_selectable_fd(pl->watch);
    }
    /* signals stay with the capture thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&pl->thread, NULL, helper_main, pl);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "cannot start the attribution thread: %s", strerror(err));
        wp_proclive_stop(pl);
        return -1;
    }
    pl->thread_started = true;
    *out = pl;
    return 0;
oom:
    snprintf(errbuf, WP_ERRBUF_SIZE, "out of memory");
    wp_proclive_stop(pl);
    return -1;
}

bool wp_proclive_is_local(const struct wp_proclive *pl, uint8_t family, const uint8_t *addr)
{
    return local_in(pl->local, family, addr);
}

enum wp_proclive_status wp_proclive_request(struct wp_proclive *pl, const struct wp_flow_key *k,
                                            unsigned client, int64_t ts_ns)
{
    if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
        return WP_PL_NOT_LOCAL;
    pl->st.requested++;
    struct request rq;
    rq.local = (uint8_t)local_ends(pl->local, k->family, k->addr[0], k->addr[1]);
    if (rq.local == 0) {
        pl->st.by_status[WP_PL_NOT_LOCAL]++;
        return WP_PL_NOT_LOCAL;
    }
    rq.k = *k;
    rq.client = (uint8_t)(client & 1u);
    rq.ts_ns = ts_ns;
    if (!ring_push(&pl->req, &rq)) {
        pl->st.by_status[WP_PL_DROPPED]++;
        return WP_PL_DROPPED;
    }
    pl->st.queued++;
    /* a system call only when the helper waits (helper_wait) */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&pl->waiting, memory_order_relaxed) &&
        atomic_exchange(&pl->waiting, false)) {
        uint64_t one = 1;
        (void)!write(pl->wake, &one, sizeof(one));
    }
    return WP_PL_OK;
}

size_t wp_proclive_poll(struct wp_proclive *pl,
                        void (*fn)(void *ctx, const struct wp_proclive_answer *a), void *ctx)
{
    struct localtab *t = atomic_exchange(&pl->pending_local, NULL);
    if (t != NULL) {
        free(pl->local);
        pl->local = t;
    }
    size_t n = 0;
    const struct wp_proclive_answer *a;
    while ((a = ring_peek(&pl->ans)) != NULL) {
        pl->st.answered++;
        if (a->status < WP_PL_STATUS_COUNT)
            pl->st.by_status[a->status]++;
        if (a->local & 0x80)
            pl->st.cache_hits++;
        struct wp_proclive_answer copy = *a;
        copy.local &= 1;
        ring_pop(&pl->ans);
        if (fn != NULL)
            fn(ctx, &copy);
        n++;
    }
    return n;
}

size_t wp_proclive_drain(struct wp_proclive *pl, int timeout_ms,
                         void (*fn)(void *ctx, const struct wp_proclive_answer *a), void *ctx)
{
    int64_t end = mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        wp_proclive_poll(pl, fn, ctx);
        if (pl->st.answered >= pl->st.queued || mono_ns() >= end)
            break;
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
    }
    return (size_t)(pl->st.queued - pl->st.answered);
}

const struct wp_proclive_stats *wp_proclive_stats(const struct wp_proclive *pl)
{
    return &pl->st;
}

void wp_proclive_stop(struct wp_proclive *pl)
{
    if (pl == NULL)
        return;

    if (pl->thread_started) {
        atomic_store(&pl->stop, true);
        uint64_t one = 1;
        (void)!write(pl->wake, &one, sizeof(one));
        pthread_join(pl->thread, NULL);
    }
    if (pl->wake >= 0)
        close(pl->wake);
    if (pl->watch != NULL)
        pcap_close(pl->watch);
    if (pl->o.watch != NULL)
        pcap_close((pcap_t *)pl->o.watch);
    free(pl->hlocal);
    if (pl->nl >= 0)
        close(pl->nl);
    inodes_clear(pl);
    struct answer_ent *e, *tmp;
    HASH_ITER (hh, pl->answers, e, tmp) {
        HASH_DEL(pl->answers, e);
        free(e);
    }
    free(pl->pids);
    free(pl->local);
    free(atomic_load(&pl->pending_local));
    free(pl->req.slots);
    free(pl->ans.slots);
    free(pl);
}

/* ---- the watch capture ------------------------------------------------------------------- */

int wp_proclive_watch_open(void **out, const char *iface, char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, perr);
    if (p == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s", perr);
        return -1;
    }
    /* the headers are enough; each packet at once; a modest ring */
    (void)pcap_set_snaplen(p, 160);
    (void)pcap_set_promisc(p, 0);
    (void)pcap_set_immediate_mode(p, 1);
    (void)pcap_set_buffer_size(p, 1 << 20);
    struct bpf_program prog;
    const char *expr = WATCH_FIRST;
    if (pcap_activate(p) < 0 || pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s", pcap_geterr(p));
        pcap_close(p);
        return -1;
    }
    int r = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (r != 0 || pcap_setnonblock(p, 1, perr) != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s", r != 0 ? pcap_geterr(p) : perr);
        pcap_close(p);
        return -1;
    }
    *out = p;
    return 0;
}

void wp_proclive_watch_close(void *w)
{
    if (w != NULL)
        pcap_close((pcap_t *)w);
}

/* ---- privileges ------------------------------------------------------------------------ */

int wp_proclive_keep_caps(char errbuf[WP_ERRBUF_SIZE])
{
#ifdef WP_HAVE_LIBCAP
    if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "cannot keep capabilities: %s", strerror(errno));
        return -1;
    }
    return 0;
#else
    snprintf(errbuf, WP_ERRBUF_SIZE, "built without libcap");
    return -1;
#endif
}

int wp_proclive_limit_caps(char errbuf[WP_ERRBUF_SIZE])
{
#ifdef WP_HAVE_LIBCAP
    (void)prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    cap_t c = cap_init(); /* everything clear */
    if (c == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    const cap_value_t keep[] = {CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH};
    int r = cap_set_flag(c, CAP_PERMITTED, 2, keep, CAP_SET);
    if (r == 0)
        r = cap_set_flag(c, CAP_EFFECTIVE, 2, keep, CAP_SET);
    if (r == 0)
        r = cap_set_proc(c);
    int e = errno;
    cap_free(c);
    if (r != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "cannot keep CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH: %s",
                 strerror(e));
        return -1;
    }
    return 0;
#else
    snprintf(errbuf, WP_ERRBUF_SIZE, "built without libcap");
    return -1;
#endif
}

int wp_proclive_drop_caps(char errbuf[WP_ERRBUF_SIZE])
{
#ifdef WP_HAVE_LIBCAP
    (void)prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    cap_t c = cap_init();
    int r = c != NULL ? cap_set_proc(c) : -1;
    int e = errno;
    if (c != NULL)
        cap_free(c);
    if (r != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "cannot give up capabilities: %s", strerror(e));
        return -1;
    }
    return 0;
#else
    (void)errbuf;
    return 0;
#endif
}

#endif /* __linux__ */
