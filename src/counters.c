/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: names and descriptions of the malformed and truncated counters
 * (the lists are in include/wp/counters.h) */

#include "wp/counters.h"

const char *const wp_malformed_name[WP_MAL_COUNT] = {
#define WP_X(id, d) #id,
    WP_MALFORMED_LIST(WP_X)
#undef WP_X
};
const char *const wp_malformed_desc[WP_MAL_COUNT] = {
#define WP_X(id, d) d,
    WP_MALFORMED_LIST(WP_X)
#undef WP_X
};
const char *const wp_truncated_name[WP_TRUNC_COUNT] = {
#define WP_X(id, d) #id,
    WP_TRUNCATED_LIST(WP_X)
#undef WP_X
};
const char *const wp_truncated_desc[WP_TRUNC_COUNT] = {
#define WP_X(id, d) d,
    WP_TRUNCATED_LIST(WP_X)
#undef WP_X
};
