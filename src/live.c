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
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wp/analyze.h"
#include "wp/capture.h"
#include "wp/proc.h"
#include "wp/proclive.h"
#include "wp/proto.h"
#include "wp/ipfix_export.h"
#include "wp/run.h"
#include "wp/topterm.h"

static volatile sig_atomic_t report_requested;

static void on_usr1(int sig)
{
    (void)sig;
    report_requested = 1;
    wp_capture_break();
}

/* How many periodic reports are due at monotonic time `mono`: one asked for
 * by SIGUSR1, one when the --interval deadline *next (0: none) has passed,
 * which then moves past mono by steps of `step`. */
static int reports_due(int64_t mono, int64_t *next, int64_t step)
{
    int due = 0;
    if (report_requested) {
        report_requested = 0;
        due++;
    }
    if (*next && mono >= *next) {
        due++;
        while (*next <= mono)
            *next += step;
    }
    return due;
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
    struct wp_topterm *top; /* the top view on a terminal (topterm.h), or NULL */
    bool top_redraw;        /* this report redraws after a key: not a sample */
    int64_t top_now;
    int64_t interval_ns; /* --interval, or 1 s for the top view; 0: none */
    /* -j N: one capture handle and engine for each worker thread */
    struct worker *w;
    size_t n_workers;
};

/* -j N live: a capture thread with its own handle (one of a fanout group)
 * and its own engine. The main thread pauses them all to merge the engines
 * for a report. */
struct worker {
    struct live *lv;
    struct wp_live *cap;
    struct wp_engine *e;
    pthread_t th;
    bool started;
    bool failed;
    char err[WP_ERRBUF_SIZE];
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool pause;          /* main: stop between batches */
    bool stop;           /* main: leave */
    size_t paused;       /* workers waiting */
    atomic_ullong taken; /* -c: packets accepted so far, all threads */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 0, 0};

/* The top view in place of the text writer, for the reports before the last. */
static int top_hook(void *ctx, const struct wp_report *r)
{
    struct live *lv = ctx;
    return wp_topterm_show(lv->top, r, lv->top_now, !lv->top_redraw);
}

static void on_record(void *ctx, const struct wp_record *rec)
{
    struct live *lv = ctx;
    wp_engine_packet(lv->e, rec);
}

/* The flow's reason (flow.h) for a status of the live attribution. */
static enum wp_proc_unknown unknown_reason(enum wp_proclive_status s)
{
    switch (s) {
    case WP_PL_OK:
        return WP_PU_unanswered; /* queued: the answer will tell */
    case WP_PL_GONE:
        return WP_PU_gone;
    case WP_PL_NOT_LOCAL:
        return WP_PU_not_local;
    case WP_PL_NO_PERMISSION:
        return WP_PU_no_permission;
    case WP_PL_DROPPED:
        return WP_PU_queue_full;
    case WP_PL_ERROR:
    case WP_PL_STATUS_COUNT:
        break;
    }
    return WP_PU_failed;
}

/* Capture thread, for each new flow: ask for its process. TCP and UDP only
 * are looked up; other flows get no reason. */
static enum wp_proc_unknown on_new_flow(void *ctx, const struct wp_flow *f, int64_t ts_ns)
{
    struct live *lv = ctx;
    if (lv->pl == NULL || (f->key.proto != WP_IPPROTO_TCP && f->key.proto != WP_IPPROTO_UDP))
        return WP_PU_NONE;
    return unknown_reason(wp_proclive_request(lv->pl, &f->key, 1u - f->server, ts_ns));
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
    if (a->status != WP_PL_OK) {
        (void)wp_engine_set_flow_unknown(lv->e, &a->flow,
                                         unknown_reason((enum wp_proclive_status)a->status));
        return;
    }
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

/* The kernel drops of every handle, summed into `t`. */
static void drop_totals(struct live *lv, struct wp_live *cap, struct wp_totals *t)
{
    uint64_t d, ifd;
    if (lv->n_workers == 0) {
        if (wp_live_stats(cap, &d, &ifd) == 0) {
            t->dropped_known = true;
            t->dropped = d;
            t->ifdropped = ifd;
        }
        return;
    }
    t->dropped_known = true;
    t->dropped = t->ifdropped = 0;
    for (size_t i = 0; i < lv->n_workers; i++) {
        if (wp_live_stats(lv->w[i].cap, &d, &ifd) != 0) {
            t->dropped_known = false;
            continue;
        }
        t->dropped += d;
        t->ifdropped += ifd;
    }
}

static int report(struct live *lv, struct wp_live *cap, bool final, bool complete)
{
    struct wp_totals *t = wp_engine_totals_mut(lv->e);
    if (lv->pl != NULL) {
        if (final) /* the last answers: wait briefly for those in flight */
            (void)wp_proclive_drain(lv->pl, 1000, on_answer, lv);
        else
            (void)wp_proclive_poll(lv->pl, on_answer, lv);
        attr_totals(lv);
    }
    drop_totals(lv, cap, t);
    int64_t now = clock_ns(CLOCK_REALTIME);
    lv->top_now = now;
    struct wp_run_interval iv = {lv->last_report_ns, now};
    bool periodic = lv->rc.cli->interval_ns > 0 || lv->reports > 0;
    if (lv->ro.format == WP_FMT_TEXT && periodic && lv->tty && !final && lv->top == NULL)
        fputs("\033[H\033[2J", lv->rc.out); /* redraw in place */
    /* Live JSON is always JSON Lines: one object per report, so that a
     * SIGUSR1 report and the final one stay separable. */
    lv->ro.json_lines = true;
    /* -j N: lv->e is a merge made for this report alone, finalized at once */
    int r = wp_run_report(&lv->rc, lv->e, "live", lv->sources, 1, complete,
                          final || lv->n_workers > 0, &lv->ro, &iv);
    if (lv->ro.format == WP_FMT_TEXT && periodic && !final && !lv->tty)
        fputc('\n', lv->rc.out);
    fflush(lv->rc.out);
    if (lv->top_redraw)
        return r;
    lv->ro.csv_header = false;
    lv->last_report_ns = now;
    lv->reports++;
    return r;
}

static int report_merged(struct live *lv, bool final, bool complete);

/* Redraw the top view now, without a sample. Returns 0 or -1. */
static int top_redraw(struct live *lv, struct wp_live *cap)
{
    lv->top_redraw = true;
    int r = lv->n_workers > 0 ? report_merged(lv, false, true) : report(lv, cap, false, true);
    lv->top_redraw = false;
    return r;
}

/* A key of the top view: quit (1), redraw now, or nothing. Returns 0, 1 or
 * -1 after an error. */
static int top_keys(struct live *lv, struct wp_live *cap)
{
    enum wp_topterm_key k = wp_topterm_keys(lv->top);
    if (k == WP_TK_QUIT)
        return 1;
    if (k != WP_TK_REDRAW)
        return 0;
    return top_redraw(lv, cap);
}

/* ---- -j N: capture threads --------------------------------------------------- */

static void on_record_worker(void *ctx, const struct wp_record *rec)
{
    struct worker *w = ctx;
    uint64_t count = w->lv->rc.cli->count;
    if (count != 0 && atomic_fetch_add(&pool.taken, 1) >= count)
        return;
    wp_engine_packet(w->e, rec);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int64_t next_expire = clock_ns(CLOCK_MONOTONIC) + WP_NS_PER_S;
    for (;;) {
        pthread_mutex_lock(&pool.lock);
        if (pool.pause && !pool.stop) {
            pool.paused++;
            pthread_cond_broadcast(&pool.cond);
            while (pool.pause && !pool.stop)
                pthread_cond_wait(&pool.cond, &pool.lock);
            pool.paused--;
        }
        bool stop = pool.stop;
        pthread_mutex_unlock(&pool.lock);
        if (stop)
            break;
        if (wp_live_dispatch(w->cap, 0, on_record_worker, w, w->err) == -1) {
            w->failed = true;
            break;
        }
        int64_t mono = clock_ns(CLOCK_MONOTONIC);
        if (mono >= next_expire) {
            wp_engine_expire(w->e, clock_ns(CLOCK_REALTIME));
            next_expire = mono + WP_NS_PER_S;
        }
    }
    /* gone: counts as paused for good */
    pthread_mutex_lock(&pool.lock);
    pool.paused++;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Report on the merge of every worker's engine, the workers paused between
 * batches meanwhile: the same as -j with files. */
static int report_merged(struct live *lv, bool final, bool complete)
{
    pthread_mutex_lock(&pool.lock);
    pool.pause = true;
    while (pool.paused < lv->n_workers)
        pthread_cond_wait(&pool.cond, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    int r = -1;
    struct wp_engine_opts mo = lv->rc.opts;
    mo.on_flow_end = NULL; /* a copy for the report: its flows are exported by the workers */
    struct wp_engine *m = wp_engine_new(&mo);
    if (m == NULL) {
        wp_error("out of memory");
    } else {
        for (size_t i = 0; i < lv->n_workers; i++)
            if (wp_engine_merge(m, lv->w[i].e) != 0)
                wp_warn(&lv->rc, "out of memory while merging: some counts may be missing");
        wp_engine_expire(m, clock_ns(CLOCK_REALTIME));
        wp_engine_totals_mut(m)->attr = wp_engine_totals(lv->e)->attr;
        struct wp_engine *keep = lv->e;
        lv->e = m;
        r = report(lv, NULL, final, complete);
        lv->e = keep;
        if (final) { /* the totals for the drop warning */
            *wp_engine_totals_mut(keep) = *wp_engine_totals(m);
        }
        wp_engine_free(m);
    }
    pthread_mutex_lock(&pool.lock);
    pool.pause = false;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    return r;
}

/* The main thread with -j N: start the workers, then watch the clock and
 * the signals, and report. Returns 0, or -1 when a report failed; *failed
 * with the first capture error in err. */
static int run_workers(struct live *lv, bool *failed, char err[WP_ERRBUF_SIZE])
{
    const struct wp_cli *cli = lv->rc.cli;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the signals go to this thread */
    for (size_t i = 0; i < lv->n_workers; i++) {
        if (pthread_create(&lv->w[i].th, NULL, worker_main, &lv->w[i]) != 0) {
            pthread_mutex_lock(&pool.lock);
            pool.paused++; /* never started: counts as gone */
            pthread_mutex_unlock(&pool.lock);
            continue;
        }
        lv->w[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int64_t mono0 = clock_ns(CLOCK_MONOTONIC);
    int64_t next_interval = lv->interval_ns ? mono0 + lv->interval_ns : 0;
    int rc = 0;
    for (;;) {
        struct timespec tick = {0, 50 * 1000 * 1000};
        nanosleep(&tick, NULL); /* EINTR: a signal, looked at below */
        for (size_t i = 0; i < lv->n_workers && !*failed; i++) {
            if (lv->w[i].failed) {
                *failed = true;
                snprintf(err, WP_ERRBUF_SIZE, "%s", lv->w[i].err);
            }
        }
        if (*failed || wp_stop_requested)
            break;
        if (cli->count && atomic_load(&pool.taken) >= cli->count)
            break;
        int64_t mono = clock_ns(CLOCK_MONOTONIC);
        if (cli->duration_ns && mono - mono0 >= cli->duration_ns)
            break;
        for (int due = reports_due(mono, &next_interval, lv->interval_ns); due > 0 && rc == 0;
             due--)
            rc = report_merged(lv, false, true);
        if (rc != 0)
            break;
        if (lv->top != NULL) {
            int k = top_keys(lv, NULL);
            if (k != 0) {
                rc = k < 0 ? k : 0;
                break;
            }
        }
    }
    /* the last batches, then the final report */
    pthread_mutex_lock(&pool.lock);
    pool.stop = true;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    wp_capture_break();
    for (size_t i = 0; i < lv->n_workers; i++)
        if (lv->w[i].started)
            pthread_join(lv->w[i].th, NULL);
    return rc;
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

    uint32_t kib = cli->buffer_kib ? cli->buffer_kib : WP_LIVE_BUFFER_KIB;
    struct wp_live_opts lo = {cli->iface, cli->snaplen, !cli->no_promisc, kib, cli->filter, 100};
    /* -j N: N handles in one fanout group, each with a thread and an engine */
    size_t n_caps = cli->jobs > 1 ? cli->jobs : 1;
    struct wp_live *caps[WP_LIVE_MAX_HANDLES];
    char why[WP_ERRBUF_SIZE] = "";
    int got = wp_live_open_fanout(caps, n_caps, &lo, why, err);
    if (got < 0) {
        wp_error(err);
        goto out;
    }
    cap = caps[0];
    if (n_caps > 1 && got == 1) {
        char msg[WP_ERRBUF_SIZE + 64];
        snprintf(msg, sizeof(msg), "-j %u: one capture thread only: %s", cli->jobs, why);
        wp_warn(&lv.rc, msg);
    }
    if (got > 1) {
        lv.w = calloc((size_t)got, sizeof(*lv.w));
        if (lv.w == NULL) {
            for (int i = 1; i < got; i++)
                wp_live_close(caps[i]);
            wp_error("out of memory");
            goto out;
        }
        lv.n_workers = (size_t)got;
        for (size_t i = 0; i < lv.n_workers; i++) {
            lv.w[i].lv = &lv;
            lv.w[i].cap = caps[i];
        }
    }
    /* Process attribution: on by default, off with --no-process; with -Z
     * it keeps two capabilities or stops (never full root). */
    bool attr = !cli->no_process;
    static char attr_off[WP_ERRBUF_SIZE + 64];
    why[0] = '\0';
    if (!attr)
        snprintf(attr_off, sizeof(attr_off), "--no-process");
    if (attr && lv.n_workers > 0) {
        attr = false;
        snprintf(attr_off, sizeof(attr_off), "not with several capture threads (-j)");
    }
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
    for (size_t i = 0; i < lv.n_workers; i++) {
        lv.w[i].e = wp_engine_new(&lv.rc.opts);
        if (lv.w[i].e == NULL) {
            wp_error("out of memory");
            goto out;
        }
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
        fprintf(stderr, "whichports: listening on %s, link-type %s, snapshot length %u bytes",
                cli->iface, wp_linktype_name(wp_live_linktype(cap), lt, sizeof(lt)), cli->snaplen);
        if (lv.n_workers > 0)
            fprintf(stderr, ", %zu capture threads", lv.n_workers);
        fputc('\n', stderr);
    }
    /* On a terminal without -T: the top view, redrawn every interval (1 s
     * unless --interval) */
    int64_t interval_ns = cli->interval_ns;
    lv.interval_ns = interval_ns;
    if (wp_topterm_wanted(lv.rc.out, cli->format_given) && cli->rules == NULL) {
        lv.top = wp_topterm_start(lv.rc.out, cli->iface, clock_ns(CLOCK_REALTIME));
        if (lv.top != NULL) {
            lv.rc.report_hook = top_hook;
            lv.rc.report_hook_ctx = &lv;
            if (interval_ns == 0)
                interval_ns = WP_NS_PER_S;
            lv.interval_ns = interval_ns;
            /* the screen at once, not after 1 s (-j N: once the threads run) */
            if (lv.n_workers == 0 && top_redraw(&lv, cap) != 0)
                goto out;
        }
    }

    lv.start_ns = clock_ns(CLOCK_REALTIME);
    lv.last_report_ns = lv.start_ns;
    int64_t mono0 = clock_ns(CLOCK_MONOTONIC);
    int64_t next_interval = interval_ns ? mono0 + interval_ns : 0;
    int64_t next_expire = mono0 + WP_NS_PER_S;
    bool failed = false;

    if (lv.n_workers > 0) {
        if (run_workers(&lv, &failed, err) != 0)
            goto out;
    }
    for (; lv.n_workers == 0;) {
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
        if (lv.top != NULL) {
            int k = top_keys(&lv, cap);
            if (k < 0)
                goto out;
            if (k > 0)
                break;
        }
        int64_t mono = clock_ns(CLOCK_MONOTONIC);
        if (cli->duration_ns && mono - mono0 >= cli->duration_ns)
            break;
        for (int due = reports_due(mono, &next_interval, interval_ns); due > 0; due--)
            if (report(&lv, cap, false, true) != 0)
                goto out;
        if (mono >= next_expire) {
            wp_engine_expire(lv.e, clock_ns(CLOCK_REALTIME));
            next_expire = mono + WP_NS_PER_S;
        }
    }

    if (lv.top != NULL) { /* back to the normal screen before any message */
        wp_topterm_stop(lv.top);
        lv.top = NULL;
        lv.rc.report_hook = NULL;
    }
    if (failed) {
        char msg[WP_ERRBUF_SIZE + 64];
        snprintf(msg, sizeof(msg), "capture on '%s' stopped: %s", cli->iface, err);
        wp_warn(&lv.rc, msg);
        wp_run_add_error(&lv.rc, msg);
    }
    struct wp_ipfix_exp *x = ipfix;
    ipfix = NULL;
    if (x != NULL) {
        /* the flows left: each capture thread's engine (-j), or the one */
        struct wp_engine *one[1] = {lv.e};
        struct wp_engine **es = one;
        size_t n = 1;
        if (lv.n_workers > 0) {
            es = calloc(lv.n_workers, sizeof(*es));
            for (size_t i = 0; es != NULL && i < lv.n_workers; i++)
                es[i] = lv.w[i].e;
            n = es != NULL ? lv.n_workers : 1;
            if (es == NULL)
                es = one;
        }
        int rx = wp_run_ipfix_finish(&lv.rc, x, es, n);
        if (es != one)
            free(es);
        if (rx != 0)
            goto out;
    }
    if (lv.n_workers > 0 ? report_merged(&lv, true, !failed) != 0
                         : report(&lv, cap, true, !failed) != 0)
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
    wp_topterm_stop(lv.top);
    wp_proclive_stop(lv.pl);
    if (lv.n_workers == 0)
        wp_live_close(cap);
    for (size_t i = 0; i < lv.n_workers; i++) {
        wp_live_close(lv.w[i].cap);
        wp_engine_free(lv.w[i].e);
    }
    free(lv.w);
    wp_engine_free(lv.e);
    if (ipfix != NULL)
        wp_ipfix_exp_close(ipfix, NULL);
    wp_run_ctx_free(&lv.rc);
    return status;
}
