/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the libpcap side: BPF filters, link-type names, live capture
 *
 * The only file that includes <pcap/pcap.h>. Saved files are read by
 * savefile.c; libpcap compiles and runs BPF filters (pcap_offline_filter
 * needs no open capture) and captures live traffic. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

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

static pcap_t *volatile active_handle;

void wp_capture_break(void)
{
    pcap_t *p = active_handle;
    if (p != NULL)
        pcap_breakloop(p);
}
