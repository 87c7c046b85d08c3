/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the live runner: capture loop, periodic reports, privileges
 *
 * The capture runs in pcap_dispatch() batches with a short buffer timeout,
 * so that between batches the loop can look at the clock (intervals,
 * --duration, idle-flow eviction) and at the flags the signal handlers set.
 * The per-packet path is the callback alone: decode and count, no
 * allocation and no system call. */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wp/analyze.h"
#include "wp/capture.h"
#include "wp/run.h"

static volatile sig_atomic_t report_requested;

static void on_usr1(int sig)
{
    (void)sig;
    report_requested = 1;
    wp_capture_break();
}

int wp_run_list_interfaces(void)
{
    char err[WP_ERRBUF_SIZE];
    if (wp_live_list(stdout, err) != 0) {
        wp_error(err);
        return WP_EXIT_ERROR;
    }
    return WP_EXIT_OK;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Give up root for `user`, as tcpdump -Z does: supplementary groups, group,
 * then user. Returns 0, or -1 with a message. */
static int drop_privileges(const char *user, char err[WP_ERRBUF_SIZE])
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        snprintf(err, WP_ERRBUF_SIZE, "-Z %s: no such user", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(err, WP_ERRBUF_SIZE, "-Z %s: cannot change to this user: %s", user,
                 strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(err, WP_ERRBUF_SIZE, "-Z %s: privileges could be regained; refusing to run",
                 user);
        return -1;
    }
    return 0;
}

struct live {
    struct wp_run_ctx rc;
    struct wp_engine *e;
    struct wp_report_opts ro;
    const char *sources[1];
    int64_t start_ns;       /* wall clock */
    int64_t last_report_ns;
    bool tty;
    unsigned reports;
};

static void on_record(void *ctx, const struct wp_record *rec)
{
    struct live *lv = ctx;
    wp_engine_packet(lv->e, rec);
}

static int report(struct live *lv, struct wp_live *cap, bool final, bool complete)
{
    uint64_t d, ifd;
    struct wp_totals *t = wp_engine_totals_mut(lv->e);
    if (wp_live_stats(cap, &d, &ifd) == 0) {
        t->dropped_known = true;
        t->dropped = d;
        t->ifdropped = ifd;
    }
    int64_t now = clock_ns(CLOCK_REALTIME);
    struct wp_run_interval iv = {lv->last_report_ns, now};
    bool periodic = lv->rc.cli->interval_ns > 0 || lv->reports > 0;
    if (lv->ro.format == WP_FMT_TEXT && periodic && lv->tty && !final)
        fputs("\033[H\033[2J", lv->rc.out); /* redraw in place */
    /* Live JSON is always JSON Lines: one object per report, so that a
     * SIGUSR1 report and the final one stay separable. */
    lv->ro.json_lines = true;
    int r = wp_run_report(&lv->rc, lv->e, "live", lv->sources, 1, complete, final, &lv->ro, &iv);
    if (lv->ro.format == WP_FMT_TEXT && periodic && !final && !lv->tty)
        fputc('\n', lv->rc.out);
    fflush(lv->rc.out);
    lv->ro.csv_header = false;
    lv->last_report_ns = now;
    lv->reports++;
    return r;
}

int wp_run_live(const struct wp_cli *cli)
{
    struct live lv;
    memset(&lv, 0, sizeof(lv));
    struct wp_live *cap = NULL;
    int status = WP_EXIT_ERROR;
    char err[WP_ERRBUF_SIZE];

    if (wp_run_ctx_init(&lv.rc, cli) != 0)
        goto out;
    if (!cli->timeouts_given) {
        lv.rc.opts.timeout_ns[WP_FC_TCP] = 300LL * 1000000000;
        lv.rc.opts.timeout_ns[WP_FC_TCP_CLOSED] = 30LL * 1000000000;
        lv.rc.opts.timeout_ns[WP_FC_OTHER] = 60LL * 1000000000;
    }
    lv.rc.opts.answer_timeout_ns = cli->answer_timeout_ns;
    if (cli->max_flows == 0)
        lv.rc.opts.max_flows = 1000000; /* bounded by default: about 200 MB of flows */

    struct wp_live_opts lo = {cli->iface, cli->snaplen, !cli->no_promisc, cli->buffer_kib,
                              cli->filter, 100};
    if (wp_live_open(&cap, &lo, err) != 0) {
        wp_error(err);
        goto out;
    }
    if (cli->user != NULL && drop_privileges(cli->user, err) != 0) {
        wp_error(err);
        goto out;
    }
    if (wp_run_open_output(&lv.rc) != 0)
        goto out;
    lv.e = wp_engine_new(&lv.rc.opts);
    if (lv.e == NULL) {
        wp_error("out of memory");
        goto out;
    }
    lv.rc.nanos = wp_live_nanos(cap);
    lv.sources[0] = cli->iface;
    lv.tty = isatty(fileno(lv.rc.out)) != 0;
    wp_run_report_opts(cli, &lv.ro);

    wp_run_install_signals();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* stdio must not see EINTR mid-report */
    sigaction(SIGUSR1, &sa, NULL);

    if (!cli->quiet) {
        char lt[48];
        fprintf(stderr, "whichports: listening on %s, link-type %s, snapshot length %u bytes\n",
                cli->iface, wp_linktype_name(wp_live_linktype(cap), lt, sizeof(lt)),
                cli->snaplen);
    }

    lv.start_ns = clock_ns(CLOCK_REALTIME);
    lv.last_report_ns = lv.start_ns;
    int64_t mono0 = clock_ns(CLOCK_MONOTONIC);
    int64_t next_interval = cli->interval_ns ? mono0 + cli->interval_ns : 0;
    int64_t next_expire = mono0 + 1000000000LL;
    bool failed = false;

    for (;;) {
        int max = 0;
        if (cli->count) {
            uint64_t done = wp_engine_totals(lv.e)->packets;
            if (done >= cli->count)
                break;
            uint64_t left = cli->count - done;
            max = left > 1000000 ? 1000000 : (int)left;
        }
        int n = wp_live_dispatch(cap, max, on_record, &lv, err);
        if (n == -1) {
            failed = true;
            break;
        }
        if (wp_stop_requested)
            break;
        int64_t mono = clock_ns(CLOCK_MONOTONIC);
        if (cli->duration_ns && mono - mono0 >= cli->duration_ns)
            break;
        if (report_requested) {
            report_requested = 0;
            if (report(&lv, cap, false, true) != 0)
                goto out;
        }
        if (next_interval && mono >= next_interval) {
            if (report(&lv, cap, false, true) != 0)
                goto out;
            while (next_interval <= mono)
                next_interval += cli->interval_ns;
        }
        if (mono >= next_expire) {
            wp_engine_expire(lv.e, clock_ns(CLOCK_REALTIME));
            next_expire = mono + 1000000000LL;
        }
    }

    if (failed) {
        char msg[WP_ERRBUF_SIZE + 64];
        snprintf(msg, sizeof(msg), "capture on '%s' stopped: %s", cli->iface, err);
        wp_warn(&lv.rc, msg);
        wp_run_add_error(&lv.rc, msg);
    }
    if (report(&lv, cap, true, !failed) != 0)
        goto out;
    const struct wp_totals *t = wp_engine_totals(lv.e);
    if (t->dropped_known && (t->dropped || t->ifdropped)) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "%llu packets dropped by the kernel and %llu by the interface: the counts are "
                 "lower than the traffic (try -B for a larger buffer, -s 128, or a filter)",
                 (unsigned long long)t->dropped, (unsigned long long)t->ifdropped);
        wp_warn(&lv.rc, msg);
    }
    status = failed ? WP_EXIT_DAMAGED : WP_EXIT_OK;
out:
    wp_live_close(cap);
    wp_engine_free(lv.e);
    wp_run_ctx_free(&lv.rc);
    return status;
}
