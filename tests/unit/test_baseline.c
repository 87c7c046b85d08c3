/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests for the baseline comparison (new, grown, seen by bytes per second) */

#include <string.h>

#include "tap.h"
#include "wp/baseline.h"

int main(void)
{
    struct wp_baseline *b = wp_baseline_new(10.0);
    struct wp_port_key k443 = {6, 1, 443}, k53 = {17, 1, 53}, k5223 = {6, 1, 5223};
    uint8_t a[16] = {17, 57, 144, 20};
    TAP_OK(wp_baseline_add_port(b, &k443, 1000) == 0, "add a port");
    TAP_OK(wp_baseline_add_port(b, &k443, 1000) == 0, "add it again (another file)");
    TAP_OK(wp_baseline_add_port(b, &k53, 500) == 0, "add another");
    TAP_OK(wp_baseline_add_host(b, 4, a, 700) == 0, "add a host");
    TAP_OK(wp_baseline_add_name(b, "gateway.icloud.com", 300) == 0, "add a name");
    TAP_OK(wp_baseline_add_process(b, "apsd", 900) == 0, "add a process");
    wp_baseline_seal(b);
    struct wp_bl_mark m = wp_baseline_port(b, &k443, 2000, 10.0);
    TAP_OK(m.status == WP_BL_SEEN && m.baseline_bytes == 2000 && m.ratio > 0.99 && m.ratio < 1.01,
           "same rate: seen, the two files' bytes summed");
    m = wp_baseline_port(b, &k443, 8000, 10.0);
    TAP_OK(m.status == WP_BL_GROWN && m.ratio > 3.99, "4 x the rate: grown");
    m = wp_baseline_port(b, &k443, 7900, 10.0);
    TAP_EQ(m.status, WP_BL_SEEN, "just under 4 x: seen");
    m = wp_baseline_port(b, &k443, 2000, 2.5);
    TAP_EQ(m.status, WP_BL_GROWN, "the same bytes in a quarter of the time: grown");
    m = wp_baseline_port(b, &k5223, 10, 10.0);
    TAP_OK(m.status == WP_BL_NEW && m.baseline_bytes == 0 && m.ratio == 0.0, "absent: new");
    uint8_t other[16] = {17, 57, 144, 21};
    TAP_EQ(wp_baseline_host(b, 4, a, 700, 10.0).status, WP_BL_SEEN, "host seen");
    TAP_EQ(wp_baseline_host(b, 4, other, 1, 10.0).status, WP_BL_NEW, "other host new");
    TAP_EQ(wp_baseline_host(b, 6, a, 1, 10.0).status, WP_BL_NEW, "other family new");
    TAP_EQ(wp_baseline_name(b, "gateway.icloud.com", 300, 10.0).status, WP_BL_SEEN, "name seen");
    TAP_EQ(wp_baseline_name(b, "query.ess.apple.com", 1, 10.0).status, WP_BL_NEW, "name new");
    TAP_EQ(wp_baseline_process(b, "apsd", 9000, 10.0).status, WP_BL_GROWN, "process grown");
    TAP_EQ(wp_baseline_process(b, "imagent", 1, 10.0).status, WP_BL_NEW, "process new");
    TAP_OK(strcmp(wp_bl_status_name(WP_BL_GROWN), "grown") == 0, "status names");
    wp_baseline_free(b);
    b = wp_baseline_new(0.0);
    TAP_OK(wp_baseline_seconds(b) == 1.0, "a baseline of one packet counts as 1 s");
    wp_baseline_seal(b);
    TAP_EQ(wp_baseline_port(b, &k443, 1, 1.0).status, WP_BL_NEW, "empty baseline: new");
    wp_baseline_free(b);
    return tap_done();
}
