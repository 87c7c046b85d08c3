/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: whichports: which ports and servers does this traffic use? */

#include <locale.h>
#include <signal.h>
#include <stdlib.h>

#include "wp/common.h"

#include "wp/cli.h"
#include "wp/run.h"

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "C");
    signal(SIGUSR1, SIG_IGN); /* until live capture installs its handler */
    struct wp_cli cli;
    int r = wp_cli_parse(&cli, argc, argv);
    if (r != 0) {
        wp_cli_free(&cli);
        return r > 0 ? WP_EXIT_OK : WP_EXIT_USAGE;
    }
    char err[WP_ERRBUF_SIZE];
    if (wp_cli_load_filter_file(&cli, err) != 0) {
        wp_error(err);
        wp_cli_free(&cli);
        return WP_EXIT_ERROR;
    }
    int status;
    if (cli.list_ifaces)
        status = wp_run_list_interfaces();
    else if (cli.merge)
        status = wp_run_merge(&cli);
    else if (cli.iface != NULL)
        status = wp_run_live(&cli);
    else
        status = wp_run_files(&cli);
    wp_cli_free(&cli);
    return status;
}
