/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: --merge: the runner that reads reports instead of captures
 *
 * Each report becomes one engine (merge.h), merged in the order given,
 * exactly as -j merges one engine per capture file; the result is written
 * by the same report path as any analysis. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/merge.h"
#include "wp/run.h"

/* The whole of `path` ("-": standard input) in *text. Returns 0, or -1
 * with a message in err. */
static int slurp(const char *path, char **text, size_t *len, char *err)
{
    bool std = strcmp(path, "-") == 0;
    FILE *fp = std ? stdin : fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, WP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (b == NULL) {
            snprintf(err, WP_ERRBUF_SIZE, "%s: out of memory", path);
            break;
        }
        size_t got = fread(b + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                snprintf(err, WP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
                free(b);
                b = NULL;
            }
            break;
        }
        if (n == cap) {
            char *nb = cap < SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
            if (nb == NULL)
                free(b);
            b = nb;
            cap *= 2;
        }
    }
    if (!std)
        fclose(fp);
    if (b == NULL)
        return -1;
    *text = b;
    *len = n;
    return 0;
}

int wp_run_merge(const struct wp_cli *cli)
{
    struct wp_run_ctx rc;
    int status = WP_EXIT_ERROR;
    struct wp_engine *total = NULL;
    struct wp_merge_input in;
    wp_merge_input_init(&in);
    if (wp_run_ctx_init(&rc, cli) != 0)
        goto out;
    if (wp_run_check_output(&rc) != 0)
        goto out;
    total = wp_engine_new(&rc.opts);
    if (total == NULL) {
        wp_error("out of memory");
        goto out;
    }
    for (size_t i = 0; i < cli->n_files; i++) {
        char *text, err[WP_ERRBUF_SIZE];
        size_t len, off = 0;
        if (slurp(cli->files[i], &text, &len, err) != 0) {
            wp_error(err);
            goto out;
        }
        const char *what = strcmp(cli->files[i], "-") == 0 ? "(standard input)" : cli->files[i];
        bool stream = strcmp(cli->files[i], "-") == 0;
        size_t n_reports = 0;
        do {
            struct wp_engine *e = wp_engine_new(&rc.opts);
            size_t used = 0;
            if (e == NULL) {
                wp_error("out of memory");
                free(text);
                goto out;
            }
            char name[64];
            if (stream) /* which report of the stream, for the message */
                snprintf(name, sizeof(name), "(standard input, report %zu)", n_reports + 1);
            if (wp_merge_load(e, &rc.opts, text + off, len - off, stream ? &used : NULL,
                              stream ? name : what, &in, err) != 0) {
                wp_error(err);
                wp_engine_free(e);
                free(text);
                goto out;
            }
            off += stream ? used : len;
            n_reports++;
            const struct wp_totals *a = wp_engine_totals(total), *b = wp_engine_totals(e);
            uint64_t sum;
            if (__builtin_add_overflow(a->packets, b->packets, &sum) ||
                __builtin_add_overflow(a->bytes, b->bytes, &sum)) {
                fprintf(stderr,
                        "whichports: %s: its counts and the reports' before it add up "
                        "past 2^64\n",
                        what);
                wp_engine_free(e);
                free(text);
                goto out;
            }
            if (wp_engine_merge(total, e) != 0)
                wp_warn(&rc, "out of memory while merging: some counts may be missing");
            wp_engine_free(e);
        } while (stream && off < len);
        free(text);
        if (n_reports == 0) {
            fprintf(stderr, "whichports: %s: no report\n", what);
            goto out;
        }
    }
    rc.nanos = in.nanos;
    struct wp_totals *t = wp_engine_totals_mut(total);
    t->dropped_known = in.dropped_known;
    t->dropped = in.dropped;
    t->ifdropped = in.ifdropped;
    t->attr = in.attr;
    for (size_t i = 0; i < in.n_errors; i++)
        wp_run_add_error(&rc, in.errors[i]);
    if (in.peers_inexact)
        wp_warn(&rc, "a report listed no flows (or not all): distinct clients and servers "
                     "are lower bounds");
    /* the reports' own filter (they all had it) is the merged report's */
    struct wp_cli mcli = *cli;
    mcli.filter = in.filter;
    rc.cli = &mcli;
    struct wp_report_opts ro;
    wp_run_report_opts(cli, &ro);
    if (wp_run_report(&rc, total, in.live ? "live" : "file", (const char *const *)in.sources,
                      in.n_sources, in.complete, true, &ro, NULL) != 0)
        goto out;
    status = in.complete ? WP_EXIT_OK : WP_EXIT_DAMAGED;
out:
    rc.cli = cli;
    wp_engine_free(total);
    wp_merge_input_free(&in);
    wp_run_ctx_free(&rc);
    return status;
}
