/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: tokenizer for the whitespace-separated data files */
#ifndef WP_DATAFILE_H
#define WP_DATAFILE_H

#include "wp/common.h"

#define WP_DATAFILE_MAX_FIELDS 8
#define WP_DATAFILE_MAX_LINE 1024

/* An iterator over the records of a data file held in memory. Fields are
 * separated by blanks; a field in double quotes may hold blanks; `#` at the
 * start of a field begins a comment that runs to the end of the line. */
struct wp_datafile {
    const char *text;
    size_t len, pos;
    unsigned line;                      /* number of the line last returned */
    char buf[WP_DATAFILE_MAX_LINE];
};

void wp_datafile_init(struct wp_datafile *df, const char *text, size_t len);

/* Return the fields of the next non-empty record in f[] (pointers into the
 * iterator's buffer, valid until the next call) and their number; 0 at the
 * end; -1 with a reason in why[] for a malformed line (too long, a NUL byte,
 * an unterminated quote, more than WP_DATAFILE_MAX_FIELDS fields). */
int wp_datafile_next(struct wp_datafile *df, char *f[WP_DATAFILE_MAX_FIELDS], char *why,
                     size_t whylen);

/* The line number of the record last returned (1-based). */
unsigned wp_datafile_line(const struct wp_datafile *df);

/* Read a whole file (at most 16 MiB) into a new NUL-terminated buffer.
 * Returns 0, or -1 with "PATH: reason" in errbuf. The caller frees *text. */
WP_NODISCARD int wp_datafile_read(const char *path, char **text, size_t *len,
                                  char errbuf[WP_ERRBUF_SIZE]);

#endif
