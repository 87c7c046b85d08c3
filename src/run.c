/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: running an analysis: tables, inputs, engine, report, exit code */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wp/rules.h"
#include "wp/ipfix.h"
#include "wp/ipfix_export.h"
#include "wp/analyze.h"
#include "wp/capture.h"
#include "wp/classify.h"
#include "wp/cli.h"
#include "wp/escape.h"
#include "wp/hash.h"
#include "wp/report.h"
#include "wp/agg_proc.h"
#include "wp/report_proc.h"
#include "wp/report_baseline.h"
#include "wp/run.h"
#include "wp/savefile.h"

volatile sig_atomic_t wp_stop_requested;
static volatile sig_atomic_t interrupts;

static void on_signal(int sig)
{
    (void)sig;
    wp_stop_requested = 1;
    if (++interrupts >= 2)
        _exit(130); /* a second Ctrl-C: leave at once */
    wp_capture_break();
}

void wp_run_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* stdio must not see EINTR mid-report */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGUSR1, SIG_IGN); /* a report-now request means nothing here; live sets its own */
}

void wp_warn(const struct wp_run_ctx *rc, const char *msg)
{
    if (rc != NULL && rc->quiet)
        return;
    fputs("whichports: warning: ", stderr);
    wp_text_string(stderr, msg);
    fputc('\n', stderr);
}

void wp_error(const char *msg)
{
    fputs("whichports: ", stderr);
    wp_text_string(stderr, msg);
    fputc('\n', stderr);
}

static int load_baseline(struct wp_run_ctx *rc);

int wp_run_ctx_init(struct wp_run_ctx *rc, const struct wp_cli *cli)
{
    char err[WP_ERRBUF_SIZE];
    memset(rc, 0, sizeof(*rc));
    rc->cli = cli;
    rc->quiet = cli->quiet;
    wp_hash_select_env();
    if (wp_hash_seed_random() != 0)
        wp_warn(rc, "no random source: the flow hash uses a fixed key");
    int r = cli->prefixes_path ? wp_prefixes_load(&rc->prefixes, cli->prefixes_path, err)
                               : wp_prefixes_builtin(&rc->prefixes, err);
    if (r != 0) {
        wp_error(err);
        return -1;
    }
    r = cli->services_path ? wp_services_load(&rc->services, cli->services_path, err)
                           : wp_services_builtin(&rc->services, err);
    if (r != 0) {
        wp_error(err);
        return -1;
    }
    r = cli->apple_services_path ? wp_applesvc_load(&rc->applesvc, cli->apple_services_path, err)
                                 : wp_applesvc_builtin(&rc->applesvc, err);
    if (r != 0) {
        wp_error(err);
        return -1;
    }
    if (!cli->no_names) {
        rc->nametab = wp_nametab_new();
        if (rc->nametab == NULL) {
            wp_error("out of memory");
            return -1;
        }
    }
    rc->opts.nametab = rc->nametab;
    rc->proctab = wp_proctab_new();
    if (rc->proctab == NULL) {
        wp_error("out of memory");
        return -1;
    }
    rc->opts.proctab = rc->proctab;
    rc->opts.processes = cli->processes;
    rc->opts.n_processes = cli->n_processes;
    rc->opts.applesvc = rc->applesvc;
    rc->opts.tunnels = cli->tunnels;
    rc->opts.max_flows = (size_t)cli->max_flows;
    rc->opts.bucket_ns = cli->bucket_ns;
    rc->opts.prefixes = rc->prefixes;
    rc->opts.services = rc->services;
    if (cli->timeouts_given)
        memcpy(rc->opts.timeout_ns, cli->timeout_ns, sizeof(rc->opts.timeout_ns));
    return load_baseline(rc);
}

void wp_run_ctx_free(struct wp_run_ctx *rc)
{
    wp_prefixes_free(rc->prefixes);
    wp_services_free(rc->services);
    wp_applesvc_free(rc->applesvc);
    wp_nametab_free(rc->nametab);
    wp_proctab_free(rc->proctab);
    wp_baseline_free(rc->baseline);
    for (size_t i = 0; i < rc->n_errors; i++)
        free(rc->errors[i]);
    free(rc->errors);
    if (rc->out != NULL && rc->out != stdout)
        fclose(rc->out);
}

void wp_run_add_error(struct wp_run_ctx *rc, const char *msg)
{
    char **ne = realloc(rc->errors, (rc->n_errors + 1) * sizeof(*ne));
    char *copy = strdup(msg);
    if (ne == NULL || copy == NULL) {
        free(copy);
        if (ne != NULL)
            rc->errors = ne;
        return;
    }
    rc->errors = ne;
    rc->errors[rc->n_errors++] = copy;
}

int wp_run_check_output(struct wp_run_ctx *rc)
{
    const char *path = rc->cli->output;
    if (path == NULL || strcmp(path, "-") == 0)
        return 0;
    char msg[WP_ERRBUF_SIZE];
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno == ENOENT) {
        /* the file would be created: its directory must exist and be writable */
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash == NULL)
            snprintf(dir, sizeof(dir), ".");
        else if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
        if (access(dir, W_OK | X_OK) == 0)
            return 0;
    }
    snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
    wp_error(msg);
    return -1;
}

int wp_run_open_output(struct wp_run_ctx *rc)
{
    if (rc->cli->output == NULL || strcmp(rc->cli->output, "-") == 0) {
        rc->out = stdout;
        return 0;
    }
    rc->out = fopen(rc->cli->output, "w");
    if (rc->out == NULL) {
        char msg[WP_ERRBUF_SIZE];
        snprintf(msg, sizeof(msg), "%s: %s", rc->cli->output, strerror(errno));
        wp_error(msg);
        return -1;
    }
    return 0;
}

int wp_run_report(struct wp_run_ctx *rc, struct wp_engine *e, const char *mode,
                  const char *const *sources, size_t n_sources, bool complete, bool final,
                  const struct wp_report_opts *ro, const struct wp_run_interval *iv)
{
    if (rc->out == NULL && wp_run_open_output(rc) != 0)
        return -1;
    struct wp_report_src src = {
        .mode = mode,
        .filter = rc->cli->filter,
        .count = rc->cli->count,
        .sources = sources,
        .n_sources = n_sources,
        .nanos = rc->nanos,
        .complete = complete,
        .errors = (const char *const *)rc->errors,
        .n_errors = rc->n_errors,
        .services = rc->services,
        .names = rc->nametab,
        .applesvc = rc->applesvc,
        .has_interval = iv != NULL,
        .interval_start_ns = iv != NULL ? iv->start_ns : 0,
        .interval_end_ns = iv != NULL ? iv->end_ns : 0,
        .flows = wp_report_wants_flows(ro),
        .baseline = rc->baseline,
        .baseline_files = rc->cli->baselines,
        .n_baseline_files = rc->cli->n_baselines,
        .new_only = ro->new_only,
        /* the formats for scripts list every port series (--merge reads them) */
        .tl_top = ro->format == WP_FMT_JSON || ro->format == WP_FMT_CSV ? WP_TL_MAX_SERIES : 0,
    };
    struct wp_report r;
    if (wp_report_build(&r, e, &src, final) != 0) {
        wp_error("out of memory while building the report");
        return -1;
    }
    if (rc->report_hook != NULL) {
        int hr = rc->report_hook(rc->report_hook_ctx, &r);
        wp_report_release(&r);
        return hr;
    }
    int rcode = ro->rules >= 0 ? wp_rules_write(rc->out, &r, (enum wp_rules_format)ro->rules,
                                                ro->apple, ro->rules_documented)
                               : wp_report_write(rc->out, &r, ro);
    if (rcode != 0) {
        char msg[WP_ERRBUF_SIZE];
        snprintf(msg, sizeof(msg), "%s: %s",
                 rc->cli->output ? rc->cli->output : "(standard output)", strerror(errno));
        wp_error(msg);
    }
    wp_report_release(&r);
    return rcode;
}

void wp_run_report_opts(const struct wp_cli *cli, struct wp_report_opts *ro)
{
    memset(ro, 0, sizeof(*ro));
    ro->format = cli->format;
    ro->view = cli->view;
    ro->top = cli->top;
    ro->no_flows = cli->no_flows;
    ro->filters = cli->filters;
    ro->apple = cli->apple_view;
    ro->processes = cli->processes;
    ro->n_processes = cli->n_processes;
    ro->new_only = cli->new_only;
    ro->csv_header = true;
    ro->rules = cli->rules ? wp_rules_format_of(cli->rules) : -1;
    ro->rules_documented = cli->rules_documented;
}

/* ---- offline ------------------------------------------------------------ */

int wp_run_ipfix_open(struct wp_run_ctx *rc, bool block, struct wp_ipfix_exp **out)
{
    const struct wp_cli *cli = rc->cli;
    *out = NULL;
    if (cli->ipfix_file == NULL && cli->ipfix == NULL)
        return 0;
    char err[WP_ERRBUF_SIZE];
    struct wp_ipfix_net_opts no = {
        .mtu = cli->ipfix_mtu,
        .block = block,
        .refresh_secs = cli->ipfix_refresh_secs,
        .refresh_msgs = cli->ipfix_refresh_msgs,
        .pen = cli->ipfix_pen,
        .applesvc = rc->applesvc,
        .proctab = rc->proctab,
    };
    struct wp_ipfix_exp *x =
        cli->ipfix_file != NULL
            ? wp_ipfix_exp_open_file(cli->ipfix_file, rc->services, rc->nametab, 1, &no, err)
            : wp_ipfix_exp_open_net(cli->ipfix, rc->services, rc->nametab, 1, &no, err);
    if (x == NULL) {
        wp_error(err);
        return -1;
    }
    rc->opts.on_flow_end = wp_ipfix_exp_on_flow_end;
    rc->opts.on_flow_end_ctx = x;
    rc->opts.on_flow_active = wp_ipfix_exp_on_flow_active;
    rc->opts.active_ns = (int64_t)cli->ipfix_active_secs * 1000000000;
    *out = x;
    return 0;
}

int wp_run_ipfix_finish(const struct wp_run_ctx *rc, struct wp_ipfix_exp *x,
                        struct wp_engine *const *es, size_t n_es)
{
    const char *path = rc->cli->ipfix_file ? rc->cli->ipfix_file : rc->cli->ipfix;
    for (size_t k = 0; k < n_es; k++) {
        size_t n = 0;
        struct wp_flow **fl = wp_engine_flows(es[k], &n);
        if (fl == NULL && n != 0) {
            wp_error("out of memory");
            wp_ipfix_exp_close(x, NULL);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            wp_ipfix_exp_flow(
                x, fl[i], fl[i]->cls == WP_FC_TCP_CLOSED ? WP_IPFIX_END_FIN : WP_IPFIX_END_FORCED);
        free(fl);
    }
    uint64_t dropped = 0;
    if (wp_ipfix_exp_close(x, &dropped) != 0) {
        char msg[WP_ERRBUF_SIZE];
        snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
        wp_error(msg);
        return -1;
    }
    wp_engine_totals_mut(es[0])->export_dropped += dropped;
    if (dropped > 0) {
        char msg[WP_ERRBUF_SIZE];
        snprintf(msg, sizeof(msg),
                 "IPFIX export to %s lost %llu data records (totals.export_dropped)", path,
                 (unsigned long long)dropped);
        wp_warn(rc, msg);
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / (double)WP_NS_PER_S;
}

struct file_job {
    const char *path;
    struct wp_engine *engine;
    char error[WP_ERRBUF_SIZE];    /* damage, reported with exit 3 */
    char fatal[WP_ERRBUF_SIZE];    /* filter failure: exit 1 */
    bool damaged, failed, nanos;
};

/* Read one file into job->engine. Progress goes to stderr when `progress`. */
static void read_file(struct wp_run_ctx *rc, struct file_job *job, bool progress,
                      uint64_t *budget)
{
    char err[WP_ERRBUF_SIZE];
    struct wp_savefile *sf;
    if (wp_savefile_open(&sf, job->path, err) != 0) {
        snprintf(job->fatal, sizeof(job->fatal), "%s", err);
        job->failed = true;
        return;
    }
    job->nanos = wp_savefile_nanoseconds(sf);
    struct wp_filter *filter = NULL;
    if (rc->cli->filter != NULL && wp_filter_new(&filter, rc->cli->filter, err) != 0) {
        snprintf(job->fatal, sizeof(job->fatal), "%s", err);
        job->failed = true;
        wp_savefile_close(sf);
        return;
    }
    uint32_t prepared_lt = UINT32_MAX;
    struct wp_record rec;
    enum wp_sf_result r;
    uint64_t n = 0;
    double next_progress = progress ? now_s() + 1.0 : 0;
    while ((r = wp_savefile_next(sf, &rec, err)) == WP_SF_RECORD) {
        if (filter != NULL) {
            if (rec.linktype != prepared_lt) {
                if (wp_filter_prepare(filter, rec.linktype, err) != 0) {
                    snprintf(job->fatal, sizeof(job->fatal), "%s", err);
                    job->failed = true;
                    break;
                }
                prepared_lt = rec.linktype;
            }
            if (!wp_filter_match(filter, &rec))
                continue;
        }
        wp_engine_packet(job->engine, &rec);
        if (budget != NULL && *budget != 0 && --*budget == 0)
            break;
        if ((++n & 0xffff) == 0) {
            if (wp_stop_requested)
                break;
            if (progress && now_s() >= next_progress) {
                uint64_t size = wp_savefile_size(sf);
                if (size > 0)
                    fprintf(stderr, "\rwhichports: %s: %3.0f%%, %llu packets ", job->path,
                            100.0 * (double)wp_savefile_offset(sf) / (double)size,
                            (unsigned long long)n);
                else
                    fprintf(stderr, "\rwhichports: %s: %llu packets ", job->path,
                            (unsigned long long)n);
                next_progress = now_s() + 0.5;
                rc->progress_shown = true;
            }
        }
    }
    if (r == WP_SF_DAMAGED) {
        snprintf(job->error, sizeof(job->error), "%s", err);
        job->damaged = true;
    }
    if (wp_savefile_nanoseconds(sf))
        job->nanos = true;
    wp_filter_free(filter);
    wp_savefile_close(sf);
}

/* Read the --baseline captures into an engine of their own (the BPF filter
 * applies, --process does not) and keep their ports, servers, names and
 * processes with their bytes. Returns 0, or -1 after a message. */
static int load_baseline(struct wp_run_ctx *rc)
{
    const struct wp_cli *cli = rc->cli;
    if (cli->n_baselines == 0)
        return 0;
    struct wp_engine_opts o = rc->opts;
    o.processes = NULL;
    o.n_processes = 0;
    struct wp_engine *e = wp_engine_new(&o);
    if (e == NULL) {
        wp_error("out of memory");
        return -1;
    }
    for (size_t i = 0; i < cli->n_baselines; i++) {
        struct file_job job;
        memset(&job, 0, sizeof(job));
        job.path = cli->baselines[i];
        job.engine = e;
        read_file(rc, &job, false, NULL);
        if (job.failed) {
            wp_error(job.fatal);
            wp_engine_free(e);
            return -1;
        }
        if (job.damaged)
            wp_warn(rc, job.error);
    }
    struct wp_agg *agg = wp_engine_finalize(e);
    const struct wp_totals *t = wp_engine_totals(e);
    rc->baseline = wp_baseline_new(t->have_ts ? (double)(t->last_ns - t->first_ns) / 1e9 : 0);
    int bad = agg == NULL || rc->baseline == NULL;
    size_t n;
    struct wp_port_row **ports = bad ? NULL : wp_agg_ports(agg, &n);
    for (size_t i = 0; ports != NULL && i < n; i++)
        bad |= wp_baseline_add_port(rc->baseline, &ports[i]->key,
                                    ports[i]->to_service.bytes + ports[i]->from_service.bytes +
                                        ports[i]->unattributed.bytes) != 0;
    free(ports);
    struct wp_host_row **hosts = bad ? NULL : wp_agg_hosts(agg, &n);
    for (size_t i = 0; hosts != NULL && i < n; i++)
        bad |= wp_baseline_add_host(rc->baseline, hosts[i]->family, hosts[i]->addr,
                                    hosts[i]->bytes) != 0;
    free(hosts);
    struct wp_flow **flows = bad ? NULL : wp_engine_flows(e, &n);
    size_t nn = 0;
    struct wp_bl_name *names = flows ? wp_report_bl_names(flows, n, rc->nametab, &nn) : NULL;
    for (size_t i = 0; i < nn; i++)
        bad |= wp_baseline_add_name(rc->baseline, names[i].name, names[i].bytes) != 0;
    free(names);
    struct wp_procstate *ps = wp_engine_procstate(e);
    struct wp_aggproc *pa = flows ? wp_procstate_snapshot(ps, flows, n) : NULL;
    size_t np = 0;
    struct wp_proc_row **procs = pa ? wp_aggproc_rows(pa, wp_procstate_table(ps), &np) : NULL;
    for (size_t i = 0; i < np; i++) {
        char b[64];
        const char *name = wp_proc_row_name(wp_procstate_table(ps), procs[i], b, sizeof(b));
        bad |= wp_baseline_add_process(rc->baseline, name,
                                       procs[i]->out.bytes + procs[i]->in.bytes) != 0;
    }
    free(procs);
    wp_aggproc_free(pa);
    free(flows);
    wp_engine_free(e);
    if (bad) {
        wp_error("out of memory while reading the baseline");
        return -1;
    }
    wp_baseline_seal(rc->baseline);
    return 0;
}

struct pool {
    struct wp_run_ctx *rc;
    struct file_job *jobs;
    size_t n;
    size_t next;
    pthread_mutex_t lock;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t i = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n || wp_stop_requested)
            return NULL;
        read_file(p->rc, &p->jobs[i], false, NULL);
    }
}

/* Check every named file before reading any, so that a typo in the last of
 * many files fails at once rather than after the work. */
static int precheck(const struct wp_cli *cli)
{
    char err[WP_ERRBUF_SIZE];
    for (size_t i = 0; i < cli->n_files; i++) {
        if (strcmp(cli->files[i], "-") == 0)
            continue;
        struct stat si, sj;
        for (size_t j = 0; j < i && stat(cli->files[i], &si) == 0; j++) {
            if (strcmp(cli->files[j], "-") != 0 && stat(cli->files[j], &sj) == 0 &&
                si.st_dev == sj.st_dev && si.st_ino == sj.st_ino && !cli->quiet) {
                fprintf(stderr, "whichports: warning: ");
                wp_text_string(stderr, cli->files[i]);
                fputs(" is given twice: its packets are counted twice\n", stderr);
                break;
            }
        }
        struct wp_savefile *sf;
        if (wp_savefile_open(&sf, cli->files[i], err) != 0) {
            wp_error(err);
            return -1;
        }
        wp_savefile_close(sf);
    }
    return 0;
}

int wp_run_files(const struct wp_cli *cli)
{
    struct wp_run_ctx rc;
    int status = WP_EXIT_ERROR;
    struct file_job *jobs = NULL;
    struct wp_engine *total = NULL;
    struct wp_ipfix_exp *ipfix = NULL;
    if (wp_run_ctx_init(&rc, cli) != 0)
        goto out;
    if (precheck(cli) != 0)
        goto out;
    if (cli->filter != NULL) {
        char err[WP_ERRBUF_SIZE];
        struct wp_filter *f;
        if (wp_filter_new(&f, cli->filter, err) != 0) {
            wp_error(err);
            goto out;
        }
        wp_filter_free(f);
    }
    /* The -o file is only checked now and written once the input is read,
     * so that a run that fails leaves an earlier report in place. */
    if (wp_run_check_output(&rc) != 0)
        goto out;
    if (wp_run_ipfix_open(&rc, true, &ipfix) != 0)
        goto out;
    wp_run_install_signals();

    jobs = calloc(cli->n_files, sizeof(*jobs));
    total = wp_engine_new(&rc.opts);
    if (jobs == NULL || total == NULL) {
        wp_error("out of memory");
        goto out;
    }
    bool progress = !cli->quiet && isatty(STDERR_FILENO);
    unsigned jobs_n = cli->jobs;
    for (size_t i = 0; i < cli->n_files; i++)
        if (strcmp(cli->files[i], "-") == 0)
            jobs_n = 1; /* standard input is read in order */
    uint64_t budget = cli->count;

    if (jobs_n <= 1 || cli->n_files <= 1 || cli->count != 0) {
        for (size_t i = 0; i < cli->n_files && !wp_stop_requested; i++) {
            jobs[i].path = cli->files[i];
            jobs[i].engine = total;
            read_file(&rc, &jobs[i], progress, cli->count ? &budget : NULL);
            if (jobs[i].failed || (cli->count && budget == 0))
                break;
        }
    } else {
        struct pool pool = {&rc, jobs, cli->n_files, 0, PTHREAD_MUTEX_INITIALIZER};
        for (size_t i = 0; i < cli->n_files; i++) {
            jobs[i].path = cli->files[i];
            jobs[i].engine = wp_engine_new(&rc.opts);
            if (jobs[i].engine == NULL) {
                wp_error("out of memory");
                goto out;
            }
        }
        size_t nt = jobs_n < cli->n_files ? jobs_n : cli->n_files;
        pthread_t *th = calloc(nt, sizeof(*th));
        if (th == NULL) {
            wp_error("out of memory");
            goto out;
        }
        size_t started = 0;
        for (; started < nt; started++)
            if (pthread_create(&th[started], NULL, worker, &pool) != 0)
                break;
        if (started == 0)
            worker(&pool);
        for (size_t i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        free(th);
        /* merge in file order, so the result equals a sequential run */
        for (size_t i = 0; i < cli->n_files; i++) {
            if (wp_engine_merge(total, jobs[i].engine) != 0)
                wp_warn(&rc, "out of memory while merging: some counts may be missing");
            wp_engine_free(jobs[i].engine);
            jobs[i].engine = NULL;
        }
    }
    if (rc.progress_shown)
        fputs("\r\033[K", stderr);

    bool complete = true;
    for (size_t i = 0; i < cli->n_files; i++) {
        if (jobs[i].failed) {
            wp_error(jobs[i].fatal);
            goto out;
        }
        if (jobs[i].nanos)
            rc.nanos = true;
        if (jobs[i].damaged) {
            complete = false;
            wp_warn(&rc, jobs[i].error);
            wp_run_add_error(&rc, jobs[i].error);
        }
    }
    if (wp_stop_requested) {
        complete = false;
        wp_warn(&rc, "interrupted: the report covers the packets read so far");
        wp_run_add_error(&rc, "interrupted before the end of the input");
    }
    if (wp_engine_totals(total)->unsupported_packets > 0) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "%llu frames of a link type whichports does not decode are counted as other "
                 "packets (see input.link_types)",
                 (unsigned long long)wp_engine_totals(total)->unsupported_packets);
        wp_warn(&rc, msg);
    }
    if (ipfix != NULL && wp_run_ipfix_finish(&rc, ipfix, &total, 1) != 0)
        goto out;
    ipfix = NULL;
    struct wp_report_opts ro;
    wp_run_report_opts(cli, &ro);
    if (wp_run_report(&rc, total, "file", cli->files, cli->n_files, complete, true, &ro, NULL) !=
        0)
        goto out;
    status = complete ? WP_EXIT_OK : WP_EXIT_DAMAGED;
out:
    if (jobs != NULL) {
        for (size_t i = 0; i < cli->n_files; i++)
            if (jobs[i].engine != NULL && jobs[i].engine != total)
                wp_engine_free(jobs[i].engine);
        free(jobs);
    }
    wp_engine_free(total);
    if (ipfix != NULL)
        wp_ipfix_exp_close(ipfix, NULL);
    wp_run_ctx_free(&rc);
    return status;
}
