/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the live top view on a terminal: raw mode, keys, redraw
 *
 * The terminal side of topview.h. wp_topterm_start() puts the terminal in
 * raw mode (no echo, no line buffering; signals still work) on the
 * alternate screen; wp_topterm_stop() gives back the terminal as it was,
 * and so do exit() and a second SIGINT/SIGTERM (the one that leaves at
 * once), so the terminal is restored on every way out. Ctrl-Z (SIGTSTP)
 * gives the terminal back before the process stops and takes it again on
 * SIGCONT; a new window size (SIGWINCH) or a continue makes the next
 * wp_topterm_keys() ask for a redraw at once. One view per process. */
#ifndef WP_TOPTERM_H
#define WP_TOPTERM_H

#include <stdio.h>

#include "wp/report_model.h"

struct wp_topterm;

/* What a key asks for. */
enum wp_topterm_key { WP_TK_NONE = 0, WP_TK_QUIT, WP_TK_REDRAW };

/* True when the live top view applies: `out` is a terminal and no -T was
 * given. */
bool wp_topterm_wanted(FILE *out, bool format_given);

/* Start the view on `out` (a terminal; keys are read from standard input
 * when it is one) for a capture on `iface` (borrowed) started at start_ns.
 * Returns NULL when out of memory (the caller falls back to text). */
struct wp_topterm *wp_topterm_start(FILE *out, const char *iface, int64_t start_ns);

/* Restore the terminal and free the view; NULL is allowed. */
void wp_topterm_stop(struct wp_topterm *tt);

/* Read the keys typed since the last call: `q` (or Q) quits, `p` toggles
 * the pause, `s` cycles the sort column (both ask for a redraw). A resize
 * or a continue after a stop since the last call also asks for a redraw. */
enum wp_topterm_key wp_topterm_keys(struct wp_topterm *tt);

/* Draw the screen of report `r` made at now_ns. `sample`: a periodic
 * report, taken into the history first and not drawn while paused;
 * otherwise a redraw after a key, drawn even when paused so that the pause
 * shows. Returns 0, or -1 when memory ran out or the terminal could not be
 * written. */
int wp_topterm_show(struct wp_topterm *tt, const struct wp_report *r, int64_t now_ns, bool sample);

#endif
