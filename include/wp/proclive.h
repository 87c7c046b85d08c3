/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: live attribution: the process behind each new local flow
 *
 * Off the packet path. The capture thread hands each new TCP or UDP flow to
 * wp_proclive_request(), which keeps it only when one end is an address of
 * this host and puts it in a bounded queue; it never waits and never makes
 * a system call beyond waking the helper. A helper thread takes the queue,
 * finds the socket by its addresses and ports (netlink sock_diag, exact
 * lookup; /proc/net/{tcp,udp}{,6} when netlink is not available), maps the
 * socket's inode to the process holding it (a cache built from
 * /proc/PID/fd, refreshed when an inode is missing, never rescanned per
 * packet), reads the process's name, executable, user and container, and
 * queues the answer. The capture thread collects answers with
 * wp_proclive_poll() between packet batches.
 *
 * Sockets and /proc/net are those of the network namespace whichports runs
 * in: run it in the namespace of the processes to attribute.
 *
 * Linux only: elsewhere wp_proclive_start() fails with "not supported". The
 * parsers of /proc text below are pure functions and exist everywhere. */
#ifndef WP_PROCLIVE_H
#define WP_PROCLIVE_H

#include <stdio.h>

#include "wp/common.h"
#include "wp/flow.h"

/* Why a flow has no process. */
enum wp_proclive_status {
    WP_PL_OK = 0,        /* attributed */
    WP_PL_GONE,          /* no socket or no process any more when looked up */
    WP_PL_NOT_LOCAL,     /* neither end is an address of this host */
    WP_PL_NO_PERMISSION, /* the socket exists but its process cannot be read */
    WP_PL_DROPPED,       /* not looked up: the queue was full */
    WP_PL_ERROR,         /* the lookup itself failed (netlink and /proc/net) */
    WP_PL_STATUS_COUNT
};

/* A short name for a status: "ok", "gone", "not local", "no permission",
 * "queue full", "lookup failed". */
const char *wp_proclive_status_name(enum wp_proclive_status s);

#define WP_PL_COMM_MAX      16  /* the kernel's TASK_COMM_LEN, with the NUL */
#define WP_PL_PATH_MAX      256 /* longer executable paths are cut */
#define WP_PL_USER_MAX      33
#define WP_PL_CONTAINER_MAX 80

/* One answer: the flow it is for and its process (or why none). Strings are
 * NUL-terminated, possibly empty (unknown), and may hold any bytes but NUL:
 * escape them for output. */
struct wp_proclive_answer {
    struct wp_flow_key flow; /* as given to wp_proclive_request */
    uint8_t status;          /* enum wp_proclive_status */
    uint8_t local;           /* the endpoint of `flow` that is local (0 or 1) */
    int32_t pid;             /* 0 unless status == WP_PL_OK */
    int64_t uid;             /* socket owner; -1 unknown */
    char comm[WP_PL_COMM_MAX];
    char exe[WP_PL_PATH_MAX];
    char user[WP_PL_USER_MAX];
    char container[WP_PL_CONTAINER_MAX];
};

struct wp_proclive_opts {
    size_t queue_len;   /* requests waiting at most; 0: 4096 */
    int64_t cache_ns;   /* an answer kept per 5-tuple serves a request for a
                         * flow that began within cache_ns of the packet
                         * it was looked up for (ports are reused later);
                         * 0: 2 s */
    bool proc_net_only; /* tests: skip netlink, read /proc/net */
    void *watch;        /* from wp_proclive_watch_open (taken over), or NULL */
};

/* Counters kept by the capture thread (requests, and answers as polled). */
struct wp_proclive_stats {
    uint64_t requested;                     /* new TCP/UDP flows handed in */
    uint64_t queued;                        /* with a local end, queued for lookup */
    uint64_t answered;                      /* answers polled */
    uint64_t by_status[WP_PL_STATUS_COUNT]; /* answers and not-local/dropped requests */
    uint64_t cache_hits;                    /* answers given from the 5-tuple cache */
};

struct wp_proclive;

/* Start the helper thread (call after any privilege drop: the thread keeps
 * the calling thread's capabilities). Reads the host's addresses now.
 * Returns 0 and *out, or -1 with a message in errbuf (not Linux; no
 * thread; out of memory). */
WP_NODISCARD int wp_proclive_start(struct wp_proclive **out, const struct wp_proclive_opts *o,
                                   char errbuf[WP_ERRBUF_SIZE]);

/* Capture thread: a new flow `k` seen at capture time `ts_ns`. `client` is
 * the endpoint of k that started it (tried first when both ends are local).
 * Never blocks. Returns WP_PL_OK when queued (an answer will follow),
 * WP_PL_NOT_LOCAL or WP_PL_DROPPED when no answer will come. Flows
 * other than TCP and UDP return WP_PL_NOT_LOCAL without counting. */
enum wp_proclive_status wp_proclive_request(struct wp_proclive *pl, const struct wp_flow_key *k,
                                            unsigned client, int64_t ts_ns);

/* Capture thread: call fn for each answer ready now (none may be). Never
 * blocks. Returns the number of answers handed out. */
size_t wp_proclive_poll(struct wp_proclive *pl,
                        void (*fn)(void *ctx, const struct wp_proclive_answer *a), void *ctx);

/* Capture thread: wait up to `timeout_ms` for the requests queued so far to
 * be answered, handing answers to fn as wp_proclive_poll does (for the last
 * report). Returns the number of requests still unanswered. */
size_t wp_proclive_drain(struct wp_proclive *pl, int timeout_ms,
                         void (*fn)(void *ctx, const struct wp_proclive_answer *a), void *ctx);

/* The counters so far (capture thread). */
const struct wp_proclive_stats *wp_proclive_stats(const struct wp_proclive *pl);

/* Is `addr` (family 4 or 6) an address of this host as last read?
 * Capture thread. */
bool wp_proclive_is_local(const struct wp_proclive *pl, uint8_t family, const uint8_t *addr);

/* Stop the helper thread and free everything (NULL is accepted). */
void wp_proclive_stop(struct wp_proclive *pl);

/* Open the watch capture on `iface` (before any privilege drop: it needs
 * the right to capture): a second, small capture in immediate mode that
 * sees only the first packets of flows (TCP SYN, UDP), read by the helper
 * thread, which looks their sockets up at once and keeps the answers for
 * the requests to come. The main capture delivers packets in batches (its
 * buffer timeout), too late for sockets that live a few milliseconds; this
 * one does not slow it down. Returns 0 and *out (for
 * wp_proclive_opts.watch), or -1 with a message. */
int wp_proclive_watch_open(void **out, const char *iface, char errbuf[WP_ERRBUF_SIZE]);

/* Close a watch capture not handed to wp_proclive_start (NULL accepted). */
void wp_proclive_watch_close(void *w);

/* ---- privileges ------------------------------------------------------------ */

/* Before giving up root for another user: ask the kernel to keep the
 * permitted capabilities across the change of user. Returns 0, or -1 with a
 * message (no libcap in this build, not Linux). */
int wp_proclive_keep_caps(char errbuf[WP_ERRBUF_SIZE]);

/* After the change of user: keep exactly CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH (reading other users' /proc/PID/fd and exe), permitted
 * and effective, and nothing else. Returns 0, or -1 with a message. */
int wp_proclive_limit_caps(char errbuf[WP_ERRBUF_SIZE]);

/* Give up every capability (after wp_proclive_keep_caps, when
 * wp_proclive_limit_caps failed). Returns 0, or -1 with a message. */
int wp_proclive_drop_caps(char errbuf[WP_ERRBUF_SIZE]);

/* ---- parsers (pure) ---------------------------------------------------------- */

/* One socket as /proc/net/{tcp,udp}{,6} lists it. */
struct wp_proclive_netsock {
    uint8_t family;                /* 4 or 6 */
    uint8_t local[16], remote[16]; /* network order; IPv4 in the first 4 bytes */
    uint16_t lport, rport;         /* host order */
    uint8_t state; /* the kernel's TCP state number (UDP: 7 unconnected, 1 connected) */
    int64_t uid;
    uint64_t inode;
};

/* Parse one data line of /proc/net/tcp (family 4) or tcp6 (family 6), the
 * same for udp. Addresses are hex of 32-bit words in host order. Returns 0,
 * or -1 for the header line or anything malformed. */
int wp_proclive_parse_netline(const char *line, uint8_t family, struct wp_proclive_netsock *out);

/* The inode of a socket link text "socket:[12345]", 0 for anything else. */
uint64_t wp_proclive_parse_socket_link(const char *link, size_t len);

/* The real uid from /proc/PID/status text ("Uid:\t1000\t1000\t..."), -1
 * when absent. */
int64_t wp_proclive_parse_status_uid(const char *text);

/* The container of a process from /proc/PID/cgroup text, into out (size n):
 * "docker:<12 hex>", "podman:<12 hex>", "containerd:<12 hex>",
 * "kubepods:<12 hex>", "lxc:NAME", "machine:NAME" (systemd-nspawn), or ""
 * when the cgroup is none of these. Returns the length written. */
size_t wp_proclive_parse_cgroup(const char *text, char *out, size_t n);

#endif
