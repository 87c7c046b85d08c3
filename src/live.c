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
#include "wp/proc.h"
#include "wp/proclive.h"
#include "wp/ipfix_export.h"
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
    return (int64_t)ts.tv_sec * WP_NS_PER_S + ts.tv_nsec;
}

/* Give up root for `user`, as tcpdump -Z does: supplementary groups, group,
 * then user. With `*keep_caps`, process attribution keeps CAP_SYS_PTRACE
 * and CAP_DAC_READ_SEARCH (and nothing else) across the change; when that
 * fails, *keep_caps becomes false and `why` says why. Returns 0, or -1 with
 * a message. */
static int drop_privileges(const char *user, bool *keep_caps, char why[WP_ERRBUF_SIZE],
                           char err[WP_ERRBUF_SIZE])
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        snprintf(err, WP_ERRBUF_SIZE, "-Z %s: no such user", user);
        return -1;
    }
    if (*keep_caps && wp_proclive_keep_caps(why) != 0)
        *keep_caps = false;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(err, WP_ERRBUF_SIZE, "-Z %s: cannot change to this user: %s", user,
                 strerror(errno));
        return -1;
    }
    /* With the capabilities kept, the permitted set is still full here:
     * cut it to the two before anything else runs. */
    if (*keep_caps && wp_proclive_limit_caps(why) != 0) {
        *keep_caps = false;
        if (wp_proclive_drop_caps(err) != 0)
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
    struct wp_proclive *pl; /* NULL: no process attribution */
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

/* Capture thread, for each new flow: ask for its process. */
static void on_new_flow(void *ctx, const struct wp_flow *f, int64_t ts_ns)
{
    struct live *lv = ctx;
    if (lv->pl != NULL)
        (void)wp_proclive_request(lv->pl, &f->key, 1u - f->server, ts_ns);
}

static struct wp_proc_str view(const char *s)
{
    struct wp_proc_str v = {s, (uint16_t)strlen(s)};
    return v;
}

/* Capture thread: an answer from the helper, given to its flow. */
static void on_answer(void *ctx, const struct wp_proclive_answer *a)
{
    struct live *lv = ctx;
    if (a->status != WP_PL_OK)
        return;
    struct wp_proc_desc d;
    memset(&d, 0, sizeof(d));
    d.pid = a->pid;
    d.name = view(a->comm);
    d.path = view(a->exe);
    d.user = view(a->user);
    d.container = view(a->container);
    d.source = WP_PSRC_LIVE;
    if (wp_engine_set_flow_process(lv->e, &a->flow, &d) != 0)
        wp_engine_totals_mut(lv->e)->attr.flow_gone++;
}

/* The attribution counters into the totals, for the report. */
static void attr_totals(struct live *lv)
{
    struct wp_attr_counts *c = &wp_engine_totals_mut(lv->e)->attr;
    if (lv->pl == NULL)
        return;
    const struct wp_proclive_stats *st = wp_proclive_stats(lv->pl);
    c->requested = st->requested;
    c->attributed = st->by_status[WP_PL_OK];
    c->not_local = st->by_status[WP_PL_NOT_LOCAL];
    c->gone = st->by_status[WP_PL_GONE];
    c->no_permission = st->by_status[WP_PL_NO_PERMISSION];
    c->queue_full = st->by_status[WP_PL_DROPPED];
    c->failed = st->by_status[WP_PL_ERROR];
    c->unanswered = st->queued - st->answered;
}

static int report(struct live *lv, struct wp_live *cap, bool final, bool complete)
{
    uint64_t d, ifd;
    struct wp_totals *t = wp_engine_totals_mut(lv->e);
    if (lv->pl != NULL) {
        if (final) /* the last answers: wait briefly for those in flight */
            (void)wp_proclive_drain(lv->pl, 1000, on_answer, lv);
        else
            (void)wp_proclive_poll(lv->pl, on_answer, lv);
        attr_totals(lv);
    }
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
    struct wp_ipfix_exp *ipfix = NULL;
    int status = WP_EXIT_ERROR;
    char err[WP_ERRBUF_SIZE];

    if (wp_run_ctx_init(&lv.rc, cli) != 0)
        goto out;
    if (!cli->timeouts_given) {
        lv.rc.opts.timeout_ns[WP_FC_TCP] = 300 * WP_NS_PER_S;
        lv.rc.opts.timeout_ns[WP_FC_TCP_CLOSED] = 30 * WP_NS_PER_S;
        lv.rc.opts.timeout_ns[WP_FC_OTHER] = 60 * WP_NS_PER_S;
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
    /* Process attribution: on by default, off with --no-process; with -Z
     * it keeps two capabilities or stops (never full root). */
    bool attr = !cli->no_process;
    static char attr_off[WP_ERRBUF_SIZE + 64];
    char why[WP_ERRBUF_SIZE] = "";
    if (!attr)
        snprintf(attr_off, sizeof(attr_off), "--no-process");
    /* the watch capture needs the right to capture: open it before -Z */
    void *watch = NULL;
    char watch_err[WP_ERRBUF_SIZE] = "";
    if (attr && wp_proclive_watch_open(&watch, cli->iface, watch_err) != 0)
        watch = NULL;
    if (cli->user != NULL) {
        bool keep = attr;
        if (drop_privileges(cli->user, &keep, why, err) != 0) {
            wp_proclive_watch_close(watch);
            wp_error(err);
            goto out;
        }
        if (attr && !keep) {
            attr = false;
            snprintf(attr_off, sizeof(attr_off),
                     "stopped at -Z %s: %s (other users' processes cannot be read)", cli->user,
                     why);
        }
    }
    if (!attr) {
        wp_proclive_watch_close(watch);
        watch = NULL;
    }
    if (attr) {
        struct wp_proclive_opts po = {0, 0, false, watch};
        if (wp_proclive_start(&lv.pl, &po, err) != 0) {
            attr = false;
            snprintf(attr_off, sizeof(attr_off), "%s", err);
        } else {
            lv.rc.opts.on_new_flow = on_new_flow;
            lv.rc.opts.on_new_flow_ctx = &lv;
            if (watch == NULL && !cli->quiet) {
                char msg[WP_ERRBUF_SIZE + 96];
                snprintf(msg, sizeof(msg),
                         "process attribution: no watch capture (%s); short-lived sockets may "
                         "be missed",
                         watch_err);
                wp_warn(&lv.rc, msg);
            }
        }
    }
    if (wp_run_open_output(&lv.rc) != 0)
        goto out;
    if (wp_run_ipfix_open(&lv.rc, false, &ipfix) != 0)
        goto out;
    lv.e = wp_engine_new(&lv.rc.opts);
    if (lv.e == NULL) {
        wp_error("out of memory");
        goto out;
    }
    wp_engine_totals_mut(lv.e)->attr.state = attr ? WP_ATTR_ON : WP_ATTR_OFF;
    wp_engine_totals_mut(lv.e)->attr.off_reason = attr ? NULL : attr_off;
    if (!attr && !cli->no_process && !cli->quiet) {
        char msg[sizeof(attr_off) + 64];
        snprintf(msg, sizeof(msg), "process attribution off: %s", attr_off);
        wp_warn(&lv.rc, msg);
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
    int64_t next_expire = mono0 + WP_NS_PER_S;
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
        if (lv.pl != NULL)
            (void)wp_proclive_poll(lv.pl, on_answer, &lv);
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
            next_expire = mono + WP_NS_PER_S;
        }
    }

    if (failed) {
        char msg[WP_ERRBUF_SIZE + 64];
        snprintf(msg, sizeof(msg), "capture on '%s' stopped: %s", cli->iface, err);
        wp_warn(&lv.rc, msg);
        wp_run_add_error(&lv.rc, msg);
    }
    struct wp_ipfix_exp *x = ipfix;
    ipfix = NULL;
    if (x != NULL && wp_run_ipfix_finish(&lv.rc, x, lv.e) != 0)
        goto out;
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
    wp_proclive_stop(lv.pl);
    wp_live_close(cap);
    wp_engine_free(lv.e);
    if (ipfix != NULL)
        wp_ipfix_exp_close(ipfix, NULL);
    wp_run_ctx_free(&lv.rc);
    return status;
}
