/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the live top view's screen (topview.h)
 *
 * A report model made by hand (two ports, one flow), sampled twice; every
 * expected number below is worked out in the comments. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/proctab.h"
#include "wp/topview.h"

#define S WP_NS_PER_S

static void str_eq(const char *got, const char *want, const char *what)
{
    if (!TAP_OK(strcmp(got, want) == 0, "%s", what))
        printf("#   got      '%s'\n#   expected '%s'\n", got, want);
}

/* Line i (0-based) of a rendered screen, or "" past the end. */
static const char *line_of(const char *scr, unsigned i, char *out, size_t cap)
{
    const char *p = scr;
    for (unsigned k = 0; k < i && p != NULL; k++) {
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    out[0] = '\0';
    if (p == NULL)
        return out;
    const char *nl = strchr(p, '\n');
    size_t l = nl ? (size_t)(nl - p) : strlen(p);
    if (l >= cap)
        l = cap - 1;
    memcpy(out, p, l);
    out[l] = '\0';
    return out;
}

static unsigned count_lines(const char *s)
{
    unsigned n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The most code points on one line. */
static unsigned widest(const char *s)
{
    unsigned best = 0, cur = 0;
    for (; *s; s++) {
        if (*s == '\n') {
            cur = 0;
            continue;
        }
        if (((unsigned char)*s & 0xC0) != 0x80 && ++cur > best)
            best = cur;
    }
    return best;
}

int main(void)
{
    /* udp/40123: 3000 bytes after 1 s, 7000 after 3 s; tcp/40124: 500
     * bytes after 1 s and no more. */
    struct wp_port_row udp, tcp;
    memset(&udp, 0, sizeof(udp));
    memset(&tcp, 0, sizeof(tcp));
    udp.key = (struct wp_port_key){17, 1, 40123};
    tcp.key = (struct wp_port_key){6, 1, 40124};
    udp.to_service.bytes = 2000;
    udp.from_service.bytes = 1000;
    udp.flows = 1;
    tcp.to_service.bytes = 300;
    tcp.from_service.bytes = 200;
    tcp.flows = 2;
    struct wp_port_row *rows[2] = {&udp, &tcp};
    struct wp_totals tot;
    memset(&tot, 0, sizeof(tot));
    tot.packets = 10;
    tot.bytes = 3500;
    tot.flows = 3;
    tot.dropped_known = true;
    tot.dropped = 4;
    tot.ifdropped = 5;
    struct wp_report r;
    memset(&r, 0, sizeof(r));
    r.totals = &tot;
    r.ports = rows;
    r.n_ports = 2;

    struct wp_topview *t = malloc(sizeof(*t));
    wp_topview_init(t, "lo\033[2J", 0, false);
    wp_topview_sample(t, &r, 1 * S);
    const struct wp_topview_hist *hu = wp_topview_find(t, &udp.key);
    const struct wp_topview_hist *ht = wp_topview_find(t, &tcp.key);
    TAP_OK(hu != NULL && ht != NULL, "both ports tracked");
    if (hu == NULL || ht == NULL)
        return tap_done();
    TAP_EQ(hu->rate, 3000, "udp: 3000 bytes in the first second");
    TAP_EQ(ht->rate, 500, "tcp: 500 bytes in the first second");

    udp.to_service.bytes = 6000; /* 7000 in all: 4000 more in 2 s */
    tot.packets = 20;
    tot.bytes = 7500;
    wp_topview_sample(t, &r, 3 * S);
    TAP_EQ(hu->rate, 2000, "udp: 4000 bytes in 2 s = 2000/s");
    TAP_EQ(ht->rate, 0, "tcp: nothing more");
    wp_topview_sample(t, &r, 3 * S);
    TAP_EQ(hu->n, 2, "a sample at the same time is ignored");

    /* spark, 4 columns: two samples, so two blanks first; max 3000: 3000
     * -> level 8, 2000 -> ceil(16000/3000) = 6, 0 -> blank */
    char sp[64];
    wp_topview_spark(hu, 4, false, sp, sizeof(sp));
    str_eq(sp, "  @*", "udp spark, ASCII");
    wp_topview_spark(hu, 4, true, sp, sizeof(sp));
    str_eq(sp, "  \u2588\u2586", "udp spark, UTF-8");
    wp_topview_spark(ht, 4, false, sp, sizeof(sp));
    str_eq(sp, "  @ ", "tcp spark: 500 then nothing");

    /* 100 columns: spark 20 wide. Average over 3 s: udp 7000/3 = 2333/s,
     * tcp 500/3 = 166/s. */
    char scr[8192], ln[512];
    int n = wp_topview_render(t, &r, 3 * S, 20, 100, scr, sizeof(scr));
    TAP_OK(n > 0 && (size_t)n == strlen(scr), "rendered");
    str_eq(line_of(scr, 0, ln, sizeof(ln)), "whichports on lo?[2J  up 0:00:03  sort: now",
           "title: escape sanitized, uptime, sort");
    str_eq(line_of(scr, 1, ln, sizeof(ln)),
           "packets 20  bytes 7.32 KiB  flows 3  evicted 0  not stored 0",
           "totals: 7500 / 1024 = 7.32 KiB");
    str_eq(line_of(scr, 2, ln, sizeof(ln)), "dropped: kernel 4  interface 5", "drops");
    str_eq(line_of(scr, 3, ln, sizeof(ln)),
           "PORT         SERVICE            NOW/s     AVG/s     TOTAL  FLOWS  HISTORY", "header");
    /* 2000/1024 = 1.953, 2333/1024 = 2.278, 7000/1024 = 6.836 */
    str_eq(line_of(scr, 4, ln, sizeof(ln)),
           "udp/40123    -               1.95 KiB  2.28 KiB  6.84 KiB      1                    @*",
           "udp first by current rate");
    str_eq(line_of(scr, 5, ln, sizeof(ln)),
           "tcp/40124    -                    0 B     166 B     500 B      2                    @",
           "tcp second");
    TAP_OK(strstr(scr, "q quit") != NULL, "keys line");
    TAP_OK(count_lines(scr) <= 20, "at most 20 lines");

    t->sort = WP_TOPVIEW_SORT_PORT; /* tcp (6) before udp (17) */
    wp_topview_render(t, &r, 3 * S, 20, 100, scr, sizeof(scr));
    TAP_OK(strncmp(line_of(scr, 4, ln, sizeof(ln)), "tcp/40124", 9) == 0, "sort by port: tcp");
    TAP_OK(strstr(line_of(scr, 0, ln, sizeof(ln)), "sort: port") != NULL, "title names the sort");
    t->sort = WP_TOPVIEW_SORT_BYTES;
    wp_topview_render(t, &r, 3 * S, 20, 100, scr, sizeof(scr));
    TAP_OK(strncmp(line_of(scr, 4, ln, sizeof(ln)), "udp/40123", 9) == 0, "sort by total: udp");

    /* tcp ahead by total now (9000 > 7000), udp still ahead by rate */
    tcp.to_service.bytes = 8800;
    wp_topview_render(t, &r, 3 * S, 20, 100, scr, sizeof(scr));
    TAP_OK(strncmp(line_of(scr, 4, ln, sizeof(ln)), "tcp/40124", 9) == 0, "sort by total: tcp");
    t->sort = WP_TOPVIEW_SORT_RATE;
    wp_topview_render(t, &r, 3 * S, 20, 100, scr, sizeof(scr));
    TAP_OK(strncmp(line_of(scr, 4, ln, sizeof(ln)), "udp/40123", 9) == 0, "sort by rate: udp");
    t->paused = true;
    wp_topview_render(t, &r, 3 * S, 20, 100, scr, sizeof(scr));
    TAP_OK(strstr(line_of(scr, 0, ln, sizeof(ln)), "[paused]") != NULL, "pause shown");
    t->paused = false;

    /* a flow: 10.0.0.1:5555 (client) -> 10.0.0.2:40123, 2000 + 1000 bytes */
    struct wp_flow f;
    memset(&f, 0, sizeof(f));
    f.key.family = 4;
    f.key.proto = 17;
    memcpy(f.key.addr[0], "\x0a\x00\x00\x01", 4);
    memcpy(f.key.addr[1], "\x0a\x00\x00\x02", 4);
    f.key.port[0] = 5555;
    f.key.port[1] = 40123;
    f.server = 1;
    f.bytes[0] = 2000;
    f.bytes[1] = 1000;
    struct wp_flow *fl[1] = {&f};
    r.flows = fl;
    r.n_flows = 1;
    wp_topview_render(t, &r, 3 * S, 20, 100, scr, sizeof(scr));
    TAP_OK(strstr(scr, "udp   10.0.0.1:5555") != NULL && strstr(scr, "10.0.0.2:40123") != NULL &&
               strstr(scr, " 2.93 KiB") != NULL,
           "the flow: client, server, 3000 / 1024 = 2.93 KiB");

    /* a process (its name with an escape character, sanitized): 2048
     * bytes sent, 1024 received, one flow */
    struct wp_proctab *pt = wp_proctab_new();
    struct wp_proc_desc d;
    memset(&d, 0, sizeof(d));
    d.pid = 42;
    d.name = (struct wp_proc_str){"iperf\033x", 7};
    d.source = WP_PSRC_LIVE;
    struct wp_proc_row pr;
    memset(&pr, 0, sizeof(pr));
    pr.group = pt != NULL ? wp_proctab_intern(pt, &d) : 0;
    pr.out.bytes = 2048;
    pr.in.bytes = 1024;
    pr.flows = 1;
    struct wp_proc_row *prs[1] = {&pr};
    r.proctab = pt;
    r.procs = prs;
    r.n_procs = 1;
    wp_topview_render(t, &r, 3 * S, 30, 100, scr, sizeof(scr));
    TAP_OK(strstr(scr, "\nPROCESS                       SENT  RECEIVED  FLOWS\n") != NULL,
           "the processes' header");
    TAP_OK(strstr(scr, "\niperf?x                   2.00 KiB  1.00 KiB      1\n") != NULL,
           "the process: name sanitized, 2048 B sent = 2.00 KiB, 1024 B received");
    r.n_procs = 0;

    /* small terminals: never more lines or columns than there are */
    for (unsigned rws = 4; rws <= 12; rws += 4)
        for (unsigned cls = 20; cls <= 120; cls += 50) {
            wp_topview_render(t, &r, 3 * S, rws, cls, scr, sizeof(scr));
            TAP_OK(count_lines(scr) <= rws && widest(scr) <= cls, "%ux%u fits", rws, cls);
        }
    free(t);
    wp_proctab_free(pt);
    return tap_done();
}
