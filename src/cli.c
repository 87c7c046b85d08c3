/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the command line: options and their parsing
 *
 * Flags follow tcpdump where they mean the same thing (-r, -i, -D, -s, -p,
 * -B, -c, -Z, -F, a filter as trailing words), tshark's -T for the output
 * format, and long options for everything specific to whichports. */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/cli.h"
#include "wp/datafile.h"
#include "wp/timeline.h"
#include "wp/util.h"

void wp_cli_usage(FILE *fp)
{
    fputs("Usage: whichports [-r FILE]... [options] [FILTER]\n"
          "       whichports -i IFACE [options] [FILTER]\n"
          "       whichports -D\n"
          "       whichports --merge [REPORT.json]... [options]\n"
          "\n"
          "Report which service ports and servers a capture's traffic used, how many\n"
          "packets and bytes each carried, and which of it went to Apple.\n"
          "\n"
          "Input:\n"
          "  -r FILE            read a pcap or pcapng file ('-' for standard input);\n"
          "                     repeat for several files, analysed as one\n"
          "  -i IFACE           capture live on IFACE ('any' for all); stop with Ctrl-C\n"
          "  -D                 list the interfaces that can be captured on\n"
          "  --merge            read whichports JSON reports (files named after the\n"
          "                     options, or standard input) and write one report, as\n"
          "                     -j would give for all their captures (docs/scale.md)\n"
          "  -f EXPR            BPF capture filter (same as trailing FILTER words)\n"
          "  -F FILE            read the BPF filter from FILE\n"
          "  -s SNAPLEN         live: bytes to capture per packet (default 262144;\n"
          "                     128 is enough for counting)\n"
          "  -p                 live: do not put the interface in promiscuous mode\n"
          "  -B KIB             live: kernel capture buffer size in KiB (default 32768)\n"
          "  -c COUNT           stop after COUNT packets\n"
          "  --duration SECS    live: stop after SECS seconds\n"
          "  --interval SECS    live: print a report every SECS seconds\n"
          "  -Z USER            live: drop privileges to USER once the capture is open\n"
          "  --no-process       live: do not look up the process of each local flow\n"
          "                     (Linux; on by default with -i)\n"
          "\n"
          "Analysis:\n"
          "  --prefixes FILE    Apple address prefixes (default: built in)\n"
          "  --services FILE    port registry (default: built in)\n"
          "  --apple-services FILE  Apple services, their names and documented ports\n"
          "                     (default: built in)\n"
          "  --no-names         do not take names from DNS, TLS, QUIC and HTTP\n"
          "  --no-tunnels       count tunnels (GRE, VXLAN, ...) under their outer ports\n"
          "  --max-flows N      keep at most N flows, evicting the least recently seen\n"
          "                     (default live: 1000000; files: no limit)\n"
          "  --idle-timeout T   evict idle flows: SECS, or tcp=S,fin=S,other=S\n"
          "                     (default live: tcp=300,fin=30,other=60; files: never)\n"
          "  -j N               analyse the -r files in N threads; live (Linux): N capture\n"
          "                     threads, the flows spread by the kernel (fanout)\n"
          "  --answer-timeout SECS  live: a flow that asked and got nothing back is\n"
          "                     unanswered after SECS (default 5; files: at the end)\n"
          "  --ipfix-file FILE  files: also write every flow as IPFIX biflow records\n"
          "                     (RFC 5655 file; docs/ipfix.md)\n"
          "  --ipfix [tcp:]HOST:PORT  export every flow to an IPFIX collector\n"
          "                     (UDP unless tcp:; docs/ipfix.md)\n"
          "  --ipfix-refresh SECS  UDP: resend IPFIX templates every SECS (default 600)\n"
          "  --ipfix-refresh-msgs N  UDP: ... and every N messages (default 16)\n"
          "  --ipfix-pen N      IPFIX: also names, Apple service, rule and outcome as\n"
          "                     enterprise elements of YOUR enterprise number N\n"
          "  --ipfix-mtu N      IPFIX messages of at most N octets (default 1400)\n"
          "  --ipfix-active SECS  IPFIX: a flow that lasts sends its counts every SECS\n"
          "                     as delta records (capture time; default 60, 0: at end only)\n"
          "  --baseline FILE    a capture without the app: mark ports, servers, names and\n"
          "                     processes new or grown; repeatable\n"
          "  --new-only         with --baseline: leave out what the baseline had\n"
          "  --process NAME|PID report only the flows of this process (real or effective;\n"
          "                     shell patterns on the name); repeatable\n"
          "\n",
          fp);
    fputs("Output:\n"
          "  -T, --format FMT   text (default), json, csv or html (one page with\n"
          "                     sortable tables and a chart; use with -o FILE)\n"
          "  --view VIEW        csv: ports (default), flows, hosts, tunnels, processes,\n"
          "                     baseline, timeline (a row per time bucket and series)\n"
          "                     or totals (every counter, malformed reasons included)\n"
          "  --bucket SECS      the timeline's time bucket (default: from the duration,\n"
          "                     128 to 256 buckets; doubled if a capture outgrows 256)\n"
          "  --top N            text, html: show N flows and servers (default 10, 0: all)\n"
          "  --no-flows         json: leave out the flows array\n"
          "  --filters          text: show a Wireshark display filter for each port\n"
          "  --apple            text, csv: the view by Apple service: the ports each\n"
          "                     service used, its names and servers, and Apple's\n"
          "                     documented ports seen and not seen\n"
          "  --rules FMT        write firewall rules allowing what was seen to succeed,\n"
          "                     instead of the report: nft, pf or lsrules\n"
          "  --rules-documented with --rules: add Apple's documented ports of the\n"
          "                     Apple services seen\n"
          "  -o FILE            write the report to FILE instead of standard output\n"
          "  -q                 no progress or warnings on standard error\n"
          "  -h, --help         show this help;  -V, --version  show the version\n"
          "\n"
          "Signals (live): SIGINT or SIGTERM stop the capture and print the report (a\n"
          "second SIGINT exits at once); SIGUSR1 prints a report and goes on.\n"
          "\n"
          "Exit status:\n"
          "  0  report written\n"
          "  1  could not run: a file missing, unreadable or not a capture, a filter\n"
          "     that does not compile, an interface that cannot be opened\n"
          "  2  usage error\n"
          "  3  report written, but incomplete: an input was damaged or cut short,\n"
          "     or the capture stopped on an error\n"
          "\n"
          "Bytes are frame lengths on the wire, as Wireshark's frame.len.\n"
          "See whichports(1) and docs/output.md for the report formats.\n",
          fp);
}

enum {
    OPT_FORMAT = 1000,
    OPT_VIEW,
    OPT_TOP,
    OPT_NO_FLOWS,
    OPT_MERGE,
    OPT_FILTERS,
    OPT_PREFIXES,
    OPT_SERVICES,
    OPT_NO_TUNNELS,
    OPT_MAX_FLOWS,
    OPT_BUCKET,
    OPT_IDLE,
    OPT_DURATION,
    OPT_INTERVAL,
    OPT_APPLE,
    OPT_APPLE_SERVICES,
    OPT_NO_NAMES,
    OPT_NO_PROCESS,
    OPT_PROCESS,
    OPT_BASELINE,
    OPT_NEW_ONLY,
    OPT_ANSWER_TIMEOUT,
    OPT_RULES,
    OPT_RULES_DOC,
    OPT_IPFIX_FILE,
    OPT_IPFIX_MTU,
    OPT_IPFIX,
    OPT_IPFIX_REFRESH,
    OPT_IPFIX_REFRESH_MSGS,
    OPT_IPFIX_PEN,
    OPT_IPFIX_ACTIVE,
};

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'T'},
    {"view", required_argument, NULL, OPT_VIEW},
    {"top", required_argument, NULL, OPT_TOP},
    {"no-flows", no_argument, NULL, OPT_NO_FLOWS},
    {"merge", no_argument, NULL, OPT_MERGE},
    {"filters", no_argument, NULL, OPT_FILTERS},
    {"prefixes", required_argument, NULL, OPT_PREFIXES},
    {"services", required_argument, NULL, OPT_SERVICES},
    {"no-tunnels", no_argument, NULL, OPT_NO_TUNNELS},
    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
    {"bucket", required_argument, NULL, OPT_BUCKET},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"apple", no_argument, NULL, OPT_APPLE},
    {"apple-services", required_argument, NULL, OPT_APPLE_SERVICES},
    {"no-names", no_argument, NULL, OPT_NO_NAMES},
    {"no-process", no_argument, NULL, OPT_NO_PROCESS},
    {"process", required_argument, NULL, OPT_PROCESS},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"new-only", no_argument, NULL, OPT_NEW_ONLY},
    {"answer-timeout", required_argument, NULL, OPT_ANSWER_TIMEOUT},
    {"rules", required_argument, NULL, OPT_RULES},
    {"rules-documented", no_argument, NULL, OPT_RULES_DOC},
    {"ipfix-file", required_argument, NULL, OPT_IPFIX_FILE},
    {"ipfix-mtu", required_argument, NULL, OPT_IPFIX_MTU},
    {"ipfix", required_argument, NULL, OPT_IPFIX},
    {"ipfix-refresh", required_argument, NULL, OPT_IPFIX_REFRESH},
    {"ipfix-refresh-msgs", required_argument, NULL, OPT_IPFIX_REFRESH_MSGS},
    {"ipfix-pen", required_argument, NULL, OPT_IPFIX_PEN},
    {"ipfix-active", required_argument, NULL, OPT_IPFIX_ACTIVE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

WP_PRINTF(1, 2) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("whichports: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'whichports --help' for more information.\n", stderr);
    return -1;
}

static int parse_timeouts(struct wp_cli *cli, const char *s)
{
    int64_t ns;
    if (wp_parse_seconds(s, &ns) == 0) {
        for (int i = 0; i < WP_FC_COUNT; i++)
            cli->timeout_ns[i] = ns;
        return 0;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL) {
            rc = -1;
            break;
        }
        *eq = '\0';
        if (wp_parse_seconds(eq + 1, &ns) != 0) {
            rc = -1;
            break;
        }
        if (strcmp(tok, "tcp") == 0)
            cli->timeout_ns[WP_FC_TCP] = ns;
        else if (strcmp(tok, "fin") == 0)
            cli->timeout_ns[WP_FC_TCP_CLOSED] = ns;
        else if (strcmp(tok, "other") == 0 || strcmp(tok, "udp") == 0)
            cli->timeout_ns[WP_FC_OTHER] = ns;
        else {
            rc = -1;
            break;
        }
    }
    free(copy);
    return rc;
}

static int append_filter(struct wp_cli *cli, const char *word)
{
    size_t old = cli->filter ? strlen(cli->filter) : 0;
    size_t add = strlen(word);
    char *nf = realloc(cli->filter, old + add + 2);
    if (nf == NULL)
        return -1;
    if (old > 0)
        nf[old++] = ' ';
    memcpy(nf + old, word, add + 1);
    cli->filter = nf;
    return 0;
}

int wp_cli_parse(struct wp_cli *cli, int argc, char **argv)
{
    memset(cli, 0, sizeof(*cli));
    cli->ipfix_active_secs = 60;
    cli->tunnels = true;
    cli->top = 10;
    cli->jobs = 1;
    cli->snaplen = 262144;
    cli->answer_timeout_ns = 5LL * 1000000000;
    cli->files = calloc((size_t)argc + 1, sizeof(*cli->files));
    cli->processes = calloc((size_t)argc + 1, sizeof(*cli->processes));
    cli->baselines = calloc((size_t)argc + 1, sizeof(*cli->baselines));
    if (cli->files == NULL || cli->processes == NULL || cli->baselines == NULL)
        return usage_error("%s", "out of memory");

    bool have_f = false;
    uint64_t v;
    int64_t ns;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:i:Df:F:s:pB:c:Z:j:T:o:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            cli->files[cli->n_files++] = optarg;
            break;
        case 'i':
            cli->iface = optarg;
            break;
        case 'D':
            cli->list_ifaces = true;
            break;
        case 'f':
            if (have_f)
                return usage_error("%s", "only one of -f and -F may be given");
            have_f = true;
            cli->filter = strdup(optarg);
            if (cli->filter == NULL)
                return usage_error("%s", "out of memory");
            break;
        case 'F':
            if (have_f)
                return usage_error("%s", "only one of -f and -F may be given");
            have_f = true;
            cli->filter_file = optarg;
            break;
        case 's':
            if (wp_parse_u64(optarg, &v) != 0 || v > 262144)
                return usage_error("-s: snapshot length must be 0 to 262144, not '%s'", optarg);
            cli->snaplen = v == 0 ? 262144 : (uint32_t)v;
            break;
        case 'p':
            cli->no_promisc = true;
            break;
        case 'B':
            if (wp_parse_u64(optarg, &v) != 0 || v == 0 || v > 4194304)
                return usage_error("-B: buffer size must be 1 to 4194304 KiB, not '%s'", optarg);
            cli->buffer_kib = (uint32_t)v;
            break;
        case 'c':
            if (wp_parse_u64(optarg, &v) != 0 || v == 0)
                return usage_error("-c: count must be a positive integer, not '%s'", optarg);
            cli->count = v;
            break;
        case 'Z':
            cli->user = optarg;
            break;
        case 'j':
            if (wp_parse_u64(optarg, &v) != 0 || v == 0 || v > 256)
                return usage_error("-j: jobs must be 1 to 256, not '%s'", optarg);
            cli->jobs = (unsigned)v;
            break;
        case 'T':
            if (wp_report_writer_find(optarg, &cli->format) == NULL)
                return usage_error("--format: expected text, json, csv or html, not '%s'", optarg);
            cli->format_given = true;
            break;
        case OPT_VIEW:
            if (strcmp(optarg, "ports") == 0)
                cli->view = WP_VIEW_PORTS;
            else if (strcmp(optarg, "flows") == 0)
                cli->view = WP_VIEW_FLOWS;
            else if (strcmp(optarg, "hosts") == 0)
                cli->view = WP_VIEW_HOSTS;
            else if (strcmp(optarg, "tunnels") == 0)
                cli->view = WP_VIEW_TUNNELS;
            else if (strcmp(optarg, "totals") == 0)
                cli->view = WP_VIEW_TOTALS;
            else if (strcmp(optarg, "processes") == 0)
                cli->view = WP_VIEW_PROCESSES;
            else if (strcmp(optarg, "baseline") == 0)
                cli->view = WP_VIEW_BASELINE;
            else if (strcmp(optarg, "timeline") == 0)
                cli->view = WP_VIEW_TIMELINE;
            else
                return usage_error("--view: expected ports, flows, hosts, tunnels, processes, "
                                   "baseline, timeline or totals, not '%s'",
                                   optarg);
            break;
        case OPT_TOP:
            if (wp_parse_u64(optarg, &v) != 0 || v > 1000000000)
                return usage_error("--top: expected a number, not '%s'", optarg);
            cli->top = (unsigned)v;
            break;
        case OPT_PROCESS:
            if (optarg[0] == '\0')
                return usage_error("%s", "--process: expected a process name or pid");
            cli->processes[cli->n_processes++] = optarg;
            break;
        case OPT_BASELINE:
            cli->baselines[cli->n_baselines++] = optarg;
            break;
        case OPT_NEW_ONLY:
            cli->new_only = true;
            break;
        case OPT_NO_FLOWS:
            cli->no_flows = true;
            break;
        case OPT_MERGE:
            cli->merge = true;
            break;
        case OPT_FILTERS:
            cli->filters = true;
            break;
        case OPT_PREFIXES:
            cli->prefixes_path = optarg;
            break;
        case OPT_SERVICES:
            cli->services_path = optarg;
            break;
        case OPT_NO_TUNNELS:
            cli->tunnels = false;
            break;
        case OPT_APPLE:
            cli->apple_view = true;
            break;
        case OPT_APPLE_SERVICES:
            cli->apple_services_path = optarg;
            break;
        case OPT_NO_PROCESS:
            cli->no_process = true;
            break;
        case OPT_NO_NAMES:
            cli->no_names = true;
            break;
        case OPT_IPFIX_FILE:
            cli->ipfix_file = optarg;
            break;
        case OPT_IPFIX_PEN:
            if (wp_parse_u64(optarg, &v) != 0 || v == 0 || v > 0xffffffffu)
                return usage_error("--ipfix-pen: expected a private enterprise number, not '%s'",
                                   optarg);
            cli->ipfix_pen = (uint32_t)v;
            break;
        case OPT_IPFIX:
            cli->ipfix = optarg;
            break;
        case OPT_IPFIX_REFRESH:
            if (wp_parse_u64(optarg, &v) != 0 || v == 0 || v > 86400)
                return usage_error("--ipfix-refresh: expected 1 to 86400 seconds, not '%s'",
                                   optarg);
            cli->ipfix_refresh_secs = (uint32_t)v;
            break;
        case OPT_IPFIX_REFRESH_MSGS:
            if (wp_parse_u64(optarg, &v) != 0 || v == 0 || v > 1000000)
                return usage_error("--ipfix-refresh-msgs: expected 1 to 1000000, not '%s'", optarg);
            cli->ipfix_refresh_msgs = (uint32_t)v;
            break;
        case OPT_IPFIX_ACTIVE:
            if (wp_parse_u64(optarg, &v) != 0 || v > 86400)
                return usage_error("--ipfix-active: expected 0 to 86400 seconds, not '%s'", optarg);
            cli->ipfix_active_secs = (uint32_t)v;
            break;
        case OPT_IPFIX_MTU:
            if (wp_parse_u64(optarg, &v) != 0 || v < 1024 || v > 65535)
                return usage_error("--ipfix-mtu: expected 1024 to 65535 octets, not '%s'", optarg);
            cli->ipfix_mtu = (uint32_t)v;
            break;
        case OPT_ANSWER_TIMEOUT:
            if (wp_parse_seconds(optarg, &ns) != 0)
                return usage_error("--answer-timeout: expected a number of seconds, not '%s'",
                                   optarg);
            cli->answer_timeout_ns = ns;
            break;
        case OPT_RULES:
            if (strcmp(optarg, "nft") != 0 && strcmp(optarg, "pf") != 0 &&
                strcmp(optarg, "lsrules") != 0)
                return usage_error("--rules: expected nft, pf or lsrules, not '%s'", optarg);
            cli->rules = optarg;
            break;
        case OPT_RULES_DOC:
            cli->rules_documented = true;
            break;
        case OPT_BUCKET:
            if (wp_parse_seconds(optarg, &ns) != 0 || ns < 1000 || ns > WP_TL_BUCKET_MAX_NS)
                return usage_error(
                    "--bucket: expected seconds (0.000001 to 31536000, a year), not '%s'", optarg);
            cli->bucket_ns = ns;
            break;
        case OPT_MAX_FLOWS:
            if (wp_parse_u64(optarg, &v) != 0 || v == 0)
                return usage_error("--max-flows: expected a positive number, not '%s'", optarg);
            cli->max_flows = v;
            break;
        case OPT_IDLE:
            if (parse_timeouts(cli, optarg) != 0)
                return usage_error("--idle-timeout: expected SECS or tcp=S,fin=S,other=S, not '%s'",
                                   optarg);
            cli->timeouts_given = true;
            break;
        case OPT_DURATION:
            if (wp_parse_seconds(optarg, &ns) != 0 || ns == 0)
                return usage_error("--duration: expected a positive number of seconds, not '%s'",
                                   optarg);
            cli->duration_ns = ns;
            break;
        case OPT_INTERVAL:
            if (wp_parse_seconds(optarg, &ns) != 0 || ns < 1000000)
                return usage_error("--interval: expected a number of seconds (>= 0.001), not '%s'",
                                   optarg);
            cli->interval_ns = ns;
            break;
        case 'o':
            cli->output = optarg;
            break;
        case 'q':
            cli->quiet = true;
            break;
        case 'h':
            wp_cli_usage(stdout);
            return 1;
        case 'V':
            printf("whichports %s\n", WP_VERSION);
            return 1;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt != 0) {
                char o[3] = {'-', (char)optopt, '\0'};
                return usage_error("unknown option '%s'", o);
            }
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    for (int i = optind; i < argc && cli->merge; i++)
        cli->files[cli->n_files++] = argv[i]; /* the reports */
    for (int i = optind; i < argc && !cli->merge; i++) {
        if (have_f)
            return usage_error("a filter was given with -f or -F and also as words ('%s')",
                               argv[i]);
        if (append_filter(cli, argv[i]) != 0)
            return usage_error("%s", "out of memory");
    }
    if (cli->merge) {
        if (cli->n_files > (size_t)(argc - optind))
            return usage_error("%s", "--merge reads the reports named after the options; -r "
                                     "reads captures: they cannot be combined");
        if (cli->iface != NULL || cli->list_ifaces || cli->filter != NULL ||
            cli->filter_file != NULL || cli->count || cli->ipfix != NULL ||
            cli->ipfix_file != NULL || cli->n_baselines > 0 || cli->n_processes > 0 ||
            cli->new_only || cli->view == WP_VIEW_BASELINE)
            return usage_error("%s", "--merge reads reports: -i, -D, a filter (-f, -F), -c, "
                                     "--ipfix, --ipfix-file, --baseline, --new-only and "
                                     "--process apply to captures");
        if (cli->duration_ns || cli->interval_ns || cli->user || cli->snaplen != 262144 ||
            cli->no_promisc || cli->buffer_kib)
            return usage_error("%s", "-s, -p, -B, -Z, --duration and --interval apply to live "
                                     "capture (-i)");
        if (cli->n_files == 0)
            cli->files[cli->n_files++] = "-";
        return 0;
    }
    int modes = (cli->n_files > 0) + (cli->iface != NULL) + cli->list_ifaces;
    if (modes == 0)
        return usage_error("%s", "nothing to read: give -r FILE or -i IFACE (or -D)");
    if (modes > 1)
        return usage_error("%s", "-r, -i and -D cannot be combined");
    if (cli->n_files > 0 && (cli->duration_ns || cli->interval_ns || cli->user ||
                             cli->snaplen != 262144 || cli->no_promisc || cli->buffer_kib))
        return usage_error("%s", "-s, -p, -B, -Z, --duration and --interval apply to live "
                                 "capture (-i)");
    if (cli->format == WP_FMT_HTML && cli->interval_ns)
        return usage_error("%s", "--interval and -T html cannot be combined (the page is "
                                 "written once, at the end)");
    if (cli->format != WP_FMT_CSV && cli->view != WP_VIEW_PORTS)
        return usage_error("%s", "--view applies to --format csv");
    if (cli->apple_view && cli->view != WP_VIEW_PORTS)
        return usage_error("%s", "--apple and --view cannot be combined");
    if ((cli->new_only || cli->view == WP_VIEW_BASELINE) && cli->n_baselines == 0)
        return usage_error("%s", "--new-only and --view baseline need --baseline FILE");
    if (cli->filter != NULL && cli->filter[0] == '\0') {
        free(cli->filter);
        cli->filter = NULL;
    }
    return 0;
}

int wp_cli_load_filter_file(struct wp_cli *cli, char errbuf[WP_ERRBUF_SIZE])
{
    if (cli->filter_file == NULL)
        return 0;
    char *text;
    size_t len;
    if (wp_datafile_read(cli->filter_file, &text, &len, errbuf) != 0)
        return -1;
    for (size_t i = 0; i < len; i++) /* one expression: line ends become blanks */
        if (text[i] == '\n' || text[i] == '\r' || text[i] == '\t')
            text[i] = ' ';
    free(cli->filter);
    cli->filter = text;
    if (strspn(text, " ") == len) {
        free(cli->filter);
        cli->filter = NULL;
    }
    return 0;
}

void wp_cli_free(struct wp_cli *cli)
{
    free(cli->files);
    free(cli->processes);
    cli->processes = NULL;
    free(cli->baselines);
    cli->baselines = NULL;
    free(cli->filter);
    cli->files = NULL;
    cli->filter = NULL;
}
