/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: escaping of text for JSON, CSV and terminals */
#ifndef WP_ESCAPE_H
#define WP_ESCAPE_H

#include <stdio.h>

#include "wp/common.h"

/* Write `s` as a JSON string (RFC 8259), quotes included. Control
 * characters become \uXXXX (or \n, \t, ...), '"' and '\' are escaped, and
 * invalid UTF-8 bytes become U+FFFD so that the output is always valid. */
void wp_json_string(FILE *fp, const char *s);

/* Write `s` as one CSV field (RFC 4180): quoted when it contains a comma,
 * quote, CR or LF (or begins with a blank), with quotes doubled. Control
 * characters other than CR and LF become '?'. */
void wp_csv_field(FILE *fp, const char *s);

/* Write `s` for a terminal: control characters (C0, DEL, C1) and invalid
 * UTF-8 are replaced by '?', so a capture cannot emit escape sequences. */
void wp_text_string(FILE *fp, const char *s);

/* Copy `s` into dst (capacity cap, always NUL-terminated) with the same
 * replacements as wp_text_string. Returns dst. */
char *wp_text_sanitize(char *dst, size_t cap, const char *s);

#endif
