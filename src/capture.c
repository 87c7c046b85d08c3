/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the libpcap side: BPF filters, link-type names, live capture
 *
 * The only file that includes <pcap/pcap.h>. Saved files are read by
 * savefile.c; libpcap compiles and runs BPF filters (pcap_offline_filter
 * needs no open capture) and captures live traffic. */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#ifdef __linux__
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <unistd.h>
#endif

#include "wp/capture.h"
#include "wp/decode.h"

#define MAX_PROGS 16

struct prog {
    uint32_t linktype;
    struct bpf_program bpf;
};

struct wp_filter {
    char *expr;
    struct prog progs[MAX_PROGS];
    size_t n;
    uint32_t last_lt;     /* cache of the last link type matched */
    size_t last_i;
};

/* The DLT value libpcap's compiler expects for a file link type. */
static int dlt_of(uint32_t linktype)
{
    switch (linktype) {
    case WP_LT_RAW:
        return DLT_RAW;
    default:
        return (int)linktype;
    }
}

static int compile(const char *expr, uint32_t linktype, struct bpf_program *bpf, char *why,
                   size_t whylen)
{
    pcap_t *p = pcap_open_dead(dlt_of(linktype), 262144);
    if (p == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    int r = pcap_compile(p, bpf, expr, 1, PCAP_NETMASK_UNKNOWN);
    if (r != 0)
        snprintf(why, whylen, "%s", pcap_geterr(p));
    pcap_close(p);
    return r == 0 ? 0 : -1;
}

int wp_filter_new(struct wp_filter **out, const char *expr, char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    struct wp_filter *f = calloc(1, sizeof(*f));
    if (f == NULL || (f->expr = strdup(expr)) == NULL) {
        free(f);
        snprintf(errbuf, WP_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    /* Syntax check: the expression must compile for at least one of the
     * common link types (some primitives exist only on some of them). */
    static const uint32_t probe[] = {WP_LT_EN10MB, WP_LT_LINUX_SLL, WP_LT_RAW, WP_LT_NULL};
    char why[PCAP_ERRBUF_SIZE + 64], first[PCAP_ERRBUF_SIZE + 64];
    first[0] = '\0';
    for (size_t i = 0; i < WP_ARRAY_LEN(probe); i++) {
        struct bpf_program bpf;
        if (compile(expr, probe[i], &bpf, why, sizeof(why)) == 0) {
            pcap_freecode(&bpf);
            *out = f;
            return 0;
        }
        if (first[0] == '\0')
            snprintf(first, sizeof(first), "%s", why);
    }
    snprintf(errbuf, WP_ERRBUF_SIZE, "filter '%s': %s", expr, first);
    wp_filter_free(f);
    return -1;
}

int wp_filter_prepare(struct wp_filter *f, uint32_t linktype, char errbuf[WP_ERRBUF_SIZE])
{
    for (size_t i = 0; i < f->n; i++)
        if (f->progs[i].linktype == linktype)
            return 0;
    char lt[48];
    if (f->n == MAX_PROGS) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "filter '%s': too many different link types", f->expr);
        return -1;
    }
    char why[PCAP_ERRBUF_SIZE + 64];
    if (compile(f->expr, linktype, &f->progs[f->n].bpf, why, sizeof(why)) != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "filter '%s' does not compile for link type %s: %s",
                 f->expr, wp_linktype_name(linktype, lt, sizeof(lt)), why);
        return -1;
    }
    f->progs[f->n].linktype = linktype;
    f->n++;
    return 0;
}

bool wp_filter_match(const struct wp_filter *f, const struct wp_record *rec)
{
    const struct bpf_program *bpf = NULL;
    for (size_t i = 0; i < f->n; i++) {
        if (f->progs[i].linktype == rec->linktype) {
            bpf = &f->progs[i].bpf;
            break;
        }
    }
    if (bpf == NULL)
        return false;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.caplen = rec->caplen;
    h.len = rec->wirelen;
    return pcap_offline_filter(bpf, &h, rec->data) != 0;
}

const char *wp_filter_expr(const struct wp_filter *f)
{
    return f->expr;
}

void wp_filter_free(struct wp_filter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++)
        pcap_freecode(&f->progs[i].bpf);
    free(f->expr);
    free(f);
}

const char *wp_linktype_name(uint32_t linktype, char *buf, size_t n)
{
    const char *name = NULL;
    switch (linktype) {
    case WP_LT_RAW:
    case WP_LT_DLT_RAW12:
    case WP_LT_DLT_RAW14:
        name = "RAW";
        break;
    case WP_LT_USER2:
        name = "PKTAP";
        break;
    case WP_LT_IPV4:
        name = "IPV4";
        break;
    case WP_LT_IPV6:
        name = "IPV6";
        break;
    default:
        name = pcap_datalink_val_to_name((int)linktype);
        break;
    }
    if (name != NULL)
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "LINKTYPE_%u", linktype);
    return buf;
}

const char *wp_pcap_version(void)
{
    return pcap_lib_version();
}

/* ---- live capture --------------------------------------------------------- */

struct wp_live {
    pcap_t *p;
    uint32_t linktype;
    bool nanos;
    uint32_t last_drop, last_ifdrop;   /* libpcap's 32-bit counters, last read */
    uint64_t drop, ifdrop;             /* widened */
    int fd;                            /* selectable descriptor, or -1 */
    int timeout_ms;
    wp_live_cb cb;
    void *ctx;
};

/* The open handles, for wp_capture_break() from a signal handler. */
static pcap_t *volatile active_handles[WP_LIVE_MAX_HANDLES];

void wp_capture_break(void)
{
    for (size_t i = 0; i < WP_LIVE_MAX_HANDLES; i++) {
        pcap_t *p = active_handles[i];
        if (p != NULL)
            pcap_breakloop(p);
    }
}

static void set_active(pcap_t *old, pcap_t *p)
{
    for (size_t i = 0; i < WP_LIVE_MAX_HANDLES; i++) {
        if (active_handles[i] == old) {
            active_handles[i] = p;
            return;
        }
    }
}

static void activation_error(char errbuf[WP_ERRBUF_SIZE], const char *iface, int rc, pcap_t *p)
{
    const char *detail = pcap_geterr(p);
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        snprintf(errbuf, WP_ERRBUF_SIZE, "interface '%s': no such device (%s); see whichports -D",
                 iface, detail);
        break;
    case PCAP_ERROR_PERM_DENIED:
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "interface '%s': permission denied (%s); run as root, or give the program "
                 "CAP_NET_RAW and CAP_NET_ADMIN", iface, detail);
        break;
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "interface '%s': no permission for promiscuous mode (%s); try -p", iface,
                 detail);
        break;
    case PCAP_ERROR_IFACE_NOT_UP:
        snprintf(errbuf, WP_ERRBUF_SIZE, "interface '%s': the interface is down", iface);
        break;
    default:
        snprintf(errbuf, WP_ERRBUF_SIZE, "interface '%s': %s", iface,
                 detail[0] ? detail : pcap_statustostr(rc));
        break;
    }
}

int wp_live_open(struct wp_live **out, const struct wp_live_opts *o, char errbuf[WP_ERRBUF_SIZE])
{
    *out = NULL;
    char eb[PCAP_ERRBUF_SIZE];
    eb[0] = '\0';
    pcap_t *p = pcap_create(o->iface, eb);
    if (p == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "interface '%s': %s", o->iface, eb);
        return -1;
    }
    (void)pcap_set_snaplen(p, (int)o->snaplen);
    (void)pcap_set_promisc(p, o->promisc ? 1 : 0);
    (void)pcap_set_timeout(p, o->timeout_ms > 0 ? o->timeout_ms : 100);
    if (o->buffer_kib > 0)
        (void)pcap_set_buffer_size(p, (int)(o->buffer_kib * 1024u));
    bool nanos = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int rc = pcap_activate(p);
    if (rc < 0) {
        activation_error(errbuf, o->iface, rc, p);
        pcap_close(p);
        return -1;
    }
    if (o->filter != NULL) {
        struct bpf_program bpf;
        if (pcap_compile(p, &bpf, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(errbuf, WP_ERRBUF_SIZE, "filter '%s': %s", o->filter, pcap_geterr(p));
            pcap_close(p);
            return -1;
        }
        if (pcap_setfilter(p, &bpf) != 0) {
            snprintf(errbuf, WP_ERRBUF_SIZE, "filter '%s': %s", o->filter, pcap_geterr(p));
            pcap_freecode(&bpf);
            pcap_close(p);
            return -1;
        }
        pcap_freecode(&bpf);
    }
    struct wp_live *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "out of memory");
        pcap_close(p);
        return -1;
    }
    l->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 100;
    l->p = p;
    /* Non-blocking reads and our own poll(): on Linux (TPACKET_V3) the
     * buffer timeout only starts with the first packet, so a blocking read
     * on a quiet interface would never return to look at the clock. */
    l->fd = pcap_get_selectable_fd(p);
    if (l->fd >= 0 && pcap_setnonblock(p, 1, eb) != 0)
        l->fd = -1;
    l->linktype = (uint32_t)pcap_datalink(p);
    l->nanos = nanos && pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    set_active(NULL, p);
    *out = l;
    return 0;
}

uint32_t wp_live_linktype(const struct wp_live *l)
{
    return l->linktype;
}

bool wp_live_nanos(const struct wp_live *l)
{
    return l->nanos;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct wp_live *l = (struct wp_live *)(void *)user;
    struct wp_record rec;
    rec.data = bytes;
    rec.caplen = h->caplen;
    rec.wirelen = h->len;
    rec.ts_ns =
        (int64_t)h->ts.tv_sec * WP_NS_PER_S + (int64_t)h->ts.tv_usec * (l->nanos ? 1 : 1000);
    rec.has_ts = true;
    rec.linktype = l->linktype;
    rec.snaplen = h->caplen;
    rec.proc = NULL;
    rec.proc_bad = 0;
    rec.trailer = 0;
    l->cb(l->ctx, &rec);
}

int wp_live_dispatch(struct wp_live *l, int max, wp_live_cb cb, void *ctx,
                     char errbuf[WP_ERRBUF_SIZE])
{
    l->cb = cb;
    l->ctx = ctx;
    int n = pcap_dispatch(l->p, max > 0 ? max : -1, on_packet, (u_char *)(void *)l);
    if (n == 0 && l->fd >= 0) {
        struct pollfd pfd = {l->fd, POLLIN, 0};
        (void)poll(&pfd, 1, l->timeout_ms); /* EINTR: the caller looks at its flags */
        n = pcap_dispatch(l->p, max > 0 ? max : -1, on_packet, (u_char *)(void *)l);
    }
    if (n == PCAP_ERROR_BREAK)
        return -2;
    if (n < 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s", pcap_geterr(l->p));
        return -1;
    }
    return n;
}

int wp_live_stats(struct wp_live *l, uint64_t *dropped, uint64_t *ifdropped)
{
    struct pcap_stat st;
    if (pcap_stats(l->p, &st) != 0)
        return -1;
    /* unsigned differences are exact across one wrap-around of 32 bits */
    l->drop += (uint32_t)(st.ps_drop - l->last_drop);
    l->ifdrop += (uint32_t)(st.ps_ifdrop - l->last_ifdrop);
    l->last_drop = st.ps_drop;
    l->last_ifdrop = st.ps_ifdrop;
    *dropped = l->drop;
    *ifdropped = l->ifdrop;
    return 0;
}

void wp_live_close(struct wp_live *l)
{
    if (l == NULL)
        return;
    set_active(l->p, NULL);
    pcap_close(l->p);
    free(l);
}

/* ---- several handles in one fanout group ------------------------------------ */

#ifdef __linux__
static int set_filter(struct wp_live *l, const char *expr, char errbuf[WP_ERRBUF_SIZE])
{
    struct bpf_program bpf;
    if (pcap_compile(l->p, &bpf, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "filter '%s': %s", expr, pcap_geterr(l->p));
        return -1;
    }
    int r = pcap_setfilter(l->p, &bpf);
    if (r != 0)
        snprintf(errbuf, WP_ERRBUF_SIZE, "filter '%s': %s", expr, pcap_geterr(l->p));
    pcap_freecode(&bpf);
    return r;
}

static void discard(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    (void)user;
    (void)h;
    (void)bytes;
}

/* Join the socket of `l` to fanout group *id (PACKET_FANOUT_HASH: the kernel
 * hashes the flow symmetrically, so both directions of a flow reach the same
 * handle). With *id < 0, a new group with an id unique on the system
 * (PACKET_FANOUT_FLAG_UNIQUEID, Linux 4.3) or else one made of the process
 * id; *id is then set. Returns 0, or -1 with the reason. */
static int join_fanout(struct wp_live *l, int *id, char why[WP_ERRBUF_SIZE])
{
    int fd = pcap_get_selectable_fd(l->p);
    if (fd < 0) {
        snprintf(why, WP_ERRBUF_SIZE, "no socket to join a fanout group");
        return -1;
    }
    int arg;
    if (*id < 0) {
#ifdef PACKET_FANOUT_FLAG_UNIQUEID
        arg = (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
        if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) == 0) {
            socklen_t len = sizeof(arg);
            if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) == 0) {
                *id = arg & 0xffff;
                return 0;
            }
        }
#endif
        *id = (int)((unsigned)getpid() & 0xffffu);
    }
    arg = *id | (PACKET_FANOUT_HASH << 16);
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
        snprintf(why, WP_ERRBUF_SIZE, "PACKET_FANOUT: %s", strerror(errno));
        return -1;
    }
    return 0;
}
#endif

int wp_live_open_fanout(struct wp_live **out, size_t n, const struct wp_live_opts *o,
                        char why[WP_ERRBUF_SIZE], char errbuf[WP_ERRBUF_SIZE])
{
    why[0] = '\0';
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    if (n > WP_LIVE_MAX_HANDLES)
        n = WP_LIVE_MAX_HANDLES;
#ifdef __linux__
    if (n > 1 && strcmp(o->iface, "any") == 0) {
        snprintf(why, WP_ERRBUF_SIZE, "the 'any' device has no fanout");
        n = 1;
    }
#else
    if (n > 1)
        snprintf(why, WP_ERRBUF_SIZE, "capture fanout needs Linux (PACKET_FANOUT)");
    n = 1;
#endif
    if (n <= 1)
        return wp_live_open(&out[0], o, errbuf) == 0 ? 1 : -1;
#ifdef __linux__
    /* Each handle drops everything until all have joined the group: until
     * it joins, a socket sees every packet, which another handle counts. */
    struct wp_live_opts first = *o;
    first.filter = NULL;
    if (wp_live_open(&out[0], &first, errbuf) != 0)
        return -1;
    size_t opened = 1;
    bool single = false;
    int id = -1;
    for (size_t i = 0; i < n && !single; i++) {
        if (i > 0 && wp_live_open(&out[i], &first, errbuf) != 0)
            goto fail;
        opened = i + 1;
        if (set_filter(out[i], "less 0", errbuf) != 0)
            goto fail;
        while (pcap_dispatch(out[i]->p, -1, discard, NULL) > 0)
            ; /* what came in before the drop-all filter */
        if (join_fanout(out[i], &id, why) != 0) {
            single = true;
            break;
        }
    }
    if (single) { /* one handle, as if -j 1 */
        for (size_t i = 1; i < opened; i++) {
            wp_live_close(out[i]);
            out[i] = NULL;
        }
        wp_live_close(out[0]);
        out[0] = NULL;
        if (wp_live_open(&out[0], o, errbuf) != 0)
            return -1;
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (set_filter(out[i], o->filter != NULL ? o->filter : "", errbuf) != 0)
            goto fail;
    return (int)n;
fail:
    for (size_t i = 0; i < opened; i++) {
        wp_live_close(out[i]);
        out[i] = NULL;
    }
    return -1;
#else
    return -1; /* not reached: n is 1 here */
#endif
}

int wp_live_list(FILE *fp, char errbuf[WP_ERRBUF_SIZE])
{
    pcap_if_t *all;
    char eb[PCAP_ERRBUF_SIZE];
    if (pcap_findalldevs(&all, eb) != 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "cannot list interfaces: %s", eb);
        return -1;
    }
    int i = 0;
    for (pcap_if_t *d = all; d != NULL; d = d->next) {
        fprintf(fp, "%d.%s", ++i, d->name);
        if (d->description != NULL)
            fprintf(fp, " (%s)", d->description);
        fputs(" [", fp);
        const char *sep = "";
        if (d->flags & PCAP_IF_UP) {
            fprintf(fp, "%sUp", sep);
            sep = ", ";
        }
        if (d->flags & PCAP_IF_RUNNING) {
            fprintf(fp, "%sRunning", sep);
            sep = ", ";
        }
        if (d->flags & PCAP_IF_LOOPBACK)
            fprintf(fp, "%sLoopback", sep);
        fputs("]\n", fp);
    }
    pcap_freealldevs(all);
    if (i == 0) {
        snprintf(errbuf, WP_ERRBUF_SIZE,
                 "no interfaces found (capturing may need root or CAP_NET_RAW)");
        return -1;
    }
    return 0;
}
