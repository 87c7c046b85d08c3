/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: live capture runner (see issue: live capture that runs for days) */

#include "wp/run.h"

int wp_run_live(const struct wp_cli *cli)
{
    (void)cli;
    wp_error("live capture is not available in this build yet");
    return WP_EXIT_ERROR;
}

int wp_run_list_interfaces(void)
{
    wp_error("listing interfaces is not available in this build yet");
    return WP_EXIT_ERROR;
}
