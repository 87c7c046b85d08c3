/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: firewall rules from what was seen succeeding (--rules)
 *
 * The rules allow, from the client side, exactly the traffic of the
 * report's flows whose outcome says it got through (established, closed,
 * reset, answered): one entry per destination (address, or name where the
 * format can use one), transport and service port, each with a comment
 * saying what it was derived from (packets, bytes, first and last seen).
 * Everything taken from the network is validated before it is written: a
 * name is used only when it is a plain host name (letters, digits, '-',
 * '_', '.'), so that no name can break out of a string or a comment. */
#ifndef WP_RULES_H
#define WP_RULES_H

#include <stdio.h>

#include "wp/common.h"
#include "wp/report.h"

enum wp_rules_format { WP_RULES_NFT = 0, WP_RULES_PF, WP_RULES_LSRULES };

/* The format named `s` ("nft", "pf", "lsrules"), or -1. */
int wp_rules_format_of(const char *s);

/* Write rules in format `fmt` for the flows of `r` (r->flows; with
 * `apple_only`, only flows of an Apple service). With `documented`, also
 * allow Apple's documented ports of each Apple service seen, to the
 * servers seen for it. Returns 0, or -1 when memory ran out or writing
 * failed. */
int wp_rules_write(FILE *fp, const struct wp_report *r, enum wp_rules_format fmt, bool apple_only,
                   bool documented);

/* True when `s` is a host name safe to write in any rule format:
 * 1-253 characters of letters, digits, '-', '_' and '.', not starting
 * with '-' or '.'. */
bool wp_rules_valid_name(const char *s);

#endif
