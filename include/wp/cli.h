/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the command line: options and their parsing */
#ifndef WP_CLI_H
#define WP_CLI_H

#include "wp/common.h"
#include "wp/flow.h"
#include "wp/report.h"

struct wp_cli {
    /* input */
    const char **files;           /* -r, in order */
    size_t n_files;
    char *filter;                 /* -f, -F FILE or trailing words; NULL when none */
    const char *filter_file;      /* -F: read by wp_cli_load_filter_file */
    const char *iface;            /* -i */
    bool list_ifaces;             /* -D */
    uint32_t snaplen;             /* -s */
    bool no_promisc;              /* -p */
    uint32_t buffer_kib;          /* -B, 0: libpcap default */
    uint64_t count;               /* -c, 0: no limit */
    int64_t duration_ns;          /* --duration, 0: no limit */
    int64_t interval_ns;          /* --interval, 0: final report only */
    const char *user;             /* -Z */
    bool no_process;              /* --no-process: no live process attribution */

    /* analysis */
    bool tunnels;                 /* --no-tunnels turns off */
    uint64_t max_flows;           /* --max-flows */
    int64_t bucket_ns;            /* --bucket; 0: automatic */
    int64_t timeout_ns[WP_FC_COUNT];
    bool timeouts_given;          /* --idle-timeout */
    const char *prefixes_path;    /* --prefixes */
    const char *services_path;    /* --services */
    const char *apple_services_path; /* --apple-services */
    bool no_names;                /* --no-names */
    unsigned jobs;                /* -j */
    const char **processes;       /* --process, in order */
    size_t n_processes;
    const char **baselines; /* --baseline, in order */
    size_t n_baselines;
    bool new_only;             /* --new-only */
    int64_t answer_timeout_ns; /* --answer-timeout (live), default 5 s */

    /* output */
    enum wp_format format;
    bool format_given; /* -T given: no live top view */
    enum wp_view view;
    unsigned top;
    bool no_flows;
    bool merge; /* --merge: files are whichports JSON reports */
    bool filters;
    bool apple_view;              /* --apple */
    const char *output;           /* -o */
    bool quiet;                   /* -q */
    const char *rules;            /* --rules: "nft", "pf", "lsrules"; NULL: the report */
    bool rules_documented;        /* --rules-documented */
    const char *ipfix_file;       /* --ipfix-file: IPFIX records of the flows (files) */
    uint32_t ipfix_mtu;           /* --ipfix-mtu, 0: default */
    uint32_t ipfix_pen;           /* --ipfix-pen N: enterprise elements, 0: none */
    const char *ipfix;            /* --ipfix [tcp:]HOST:PORT */
    uint32_t ipfix_refresh_secs;  /* --ipfix-refresh SECS (UDP templates), 0: 600 */
    uint32_t ipfix_refresh_msgs;  /* --ipfix-refresh-msgs N, 0: 16 */
    uint32_t ipfix_active_secs;   /* --ipfix-active SECS: active timeout, 0: none */
};

/* Parse argv. Returns 0 to run, 1 when --help or --version was printed
 * (exit 0), or -1 after printing a usage error to stderr (exit 2). The
 * caller frees with wp_cli_free. */
int wp_cli_parse(struct wp_cli *cli, int argc, char **argv);
void wp_cli_free(struct wp_cli *cli);

/* Read the -F file, if any, into cli->filter. Returns 0, or -1 with
 * "FILE: reason" in errbuf (exit status 1). */
int wp_cli_load_filter_file(struct wp_cli *cli, char errbuf[WP_ERRBUF_SIZE]);

/* Print the usage text to `fp`. */
void wp_cli_usage(FILE *fp);

#endif
