/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: escaping of text for JSON, CSV, terminals and HTML */
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

/* HTML (report_html.c, svgchart.c). Each keeps valid UTF-8 as is and
 * replaces invalid UTF-8 and control characters (C0 other than tab and
 * line feed, DEL, C1) by U+FFFD, so that nothing from a capture can open
 * markup, close an element or end an attribute. */

/* Write `s` as HTML text (element content, SVG <text> and <title>
 * included): & < > " ' become character references. */
void wp_html_text(FILE *fp, const char *s);

/* Write `s` as the value of a double-quoted HTML attribute: every ASCII
 * character other than letters, digits, space and , . - _ : / becomes a
 * character reference (&#xHH;), so the value stays one quoted value
 * whatever the attribute (never use it for href or on* attributes). */
void wp_html_attr(FILE *fp, const char *s);

/* Write `s` as a JSON string that is safe inside an HTML <script> element
 * (as JSON data, type="application/json"): wp_json_string with < > & '
 * also written as \u003c \u003e \u0026 \u0027 and U+2028, U+2029 as
 * \u2028, \u2029, so `</script>` and `<!--` cannot appear. */
void wp_script_json_string(FILE *fp, const char *s);

#endif
