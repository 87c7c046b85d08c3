/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: running an analysis: tables, inputs, engine, report, exit code */
#ifndef WP_RUN_H
#define WP_RUN_H

#include <signal.h>
#include <stdio.h>

#include "wp/analyze.h"
#include "wp/cli.h"
#include "wp/report.h"

/* State shared by the offline and live runners. */
struct wp_run_ctx {
    const struct wp_cli *cli;
    struct wp_prefixes *prefixes;
    struct wp_services *services;
    struct wp_applesvc *applesvc;
    struct wp_nametab *nametab;
    struct wp_proctab *proctab;   /* processes named by the records, shared by the engines */
    struct wp_baseline *baseline; /* --baseline: what the captures without the app had */
    struct wp_engine_opts opts;
    FILE *out;
    bool quiet;
    bool nanos;
    bool progress_shown;
    char **errors;       /* messages about damaged input, for the report */
    size_t n_errors;
    /* When set, wp_run_report() gives the built report to this instead of
     * a writer (the live top view, topterm.h); returns 0 or -1. */
    int (*report_hook)(void *ctx, const struct wp_report *r);
    void *report_hook_ctx;
};

struct wp_run_interval {
    int64_t start_ns, end_ns;
};

struct wp_ipfix_exp;
struct wp_engine;

/* Open the --ipfix or --ipfix-file exporter (ipfix_export.h), if any, and
 * hook it into rc->opts so that evicted flows are exported; `block`: a full
 * queue waits (files) rather than drops (live). *out is NULL when neither
 * option is given. Returns 0, or -1 after printing the error. */
int wp_run_ipfix_open(struct wp_run_ctx *rc, bool block, struct wp_ipfix_exp **out);

/* Export the flows still in the engines es[0..n_es) (flowEndReason 3 for
 * a TCP flow ended by FIN or RST, else 4: end of input or capture), close
 * the exporter, add its losses to es[0]'s totals.export_dropped with a
 * warning. Returns 0, or -1 after printing the error (a file that could
 * not be written). */
int wp_run_ipfix_finish(const struct wp_run_ctx *rc, struct wp_ipfix_exp *x,
                        struct wp_engine *const *es, size_t n_es);

/* Set by SIGINT/SIGTERM; a second signal exits at once with status 130. */
extern volatile sig_atomic_t wp_stop_requested;

/* Install the SIGINT/SIGTERM handlers (and ignore SIGPIPE). */
void wp_run_install_signals(void);

/* Load the tables and engine options from the command line. Returns 0, or
 * -1 after printing the error (exit status 1). */
int wp_run_ctx_init(struct wp_run_ctx *rc, const struct wp_cli *cli);
void wp_run_ctx_free(struct wp_run_ctx *rc);
void wp_run_add_error(struct wp_run_ctx *rc, const char *msg);

/* Check that the -o file can be written without truncating it. Returns 0
 * or -1 after printing. */
int wp_run_check_output(struct wp_run_ctx *rc);

/* Open the -o file (or standard output). Returns 0 or -1 after printing. */
int wp_run_open_output(struct wp_run_ctx *rc);

/* Report options from the command line. */
void wp_run_report_opts(const struct wp_cli *cli, struct wp_report_opts *ro);

/* Build and write a report of everything the engine has seen. `final`: the
 * last report, made without copying the tables (the engine then takes no
 * more packets). Returns 0, or -1 after printing the error. */
int wp_run_report(struct wp_run_ctx *rc, struct wp_engine *e, const char *mode,
                  const char *const *sources, size_t n_sources, bool complete, bool final,
                  const struct wp_report_opts *ro, const struct wp_run_interval *iv);

/* Messages on standard error; control characters replaced. */
void wp_warn(const struct wp_run_ctx *rc, const char *msg);
void wp_error(const char *msg);

/* Run on the -r files. Returns the exit status. */
int wp_run_files(const struct wp_cli *cli);

/* --merge: read the whichports JSON reports cli->files ("-": standard
 * input, which may hold several reports one after another), merge them as
 * -j merges engines, and write one report. Exit status as wp_run_files:
 * WP_EXIT_DAMAGED when a report said its input was damaged, WP_EXIT_ERROR
 * (with a message) for a file that is not a report of this schema. */
int wp_run_merge(const struct wp_cli *cli);

/* Run a live capture (-i) or list interfaces (-D). Returns the exit status. */
int wp_run_live(const struct wp_cli *cli);
int wp_run_list_interfaces(void);

#endif
