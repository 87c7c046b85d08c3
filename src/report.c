/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: reports: the registry of writers and dispatch to one
 *
 * The only file that knows every format; no writer calls back into it. */

#include <errno.h>
#include <string.h>

#include "wp/report.h"

static const struct wp_report_writer writers[WP_FMT_COUNT] = {
    [WP_FMT_TEXT] = {"text", wp_report_text},
    [WP_FMT_JSON] = {"json", wp_report_json},
    [WP_FMT_CSV] = {"csv", wp_report_csv},
    [WP_FMT_HTML] = {"html", wp_report_html},
};

const struct wp_report_writer *wp_report_writer_find(const char *name, enum wp_format *fmt)
{
    for (size_t i = 0; i < WP_FMT_COUNT; i++)
        if (strcmp(writers[i].name, name) == 0) {
            *fmt = (enum wp_format)i;
            return &writers[i];
        }
    return NULL;
}

int wp_report_write(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o)
{
    const struct wp_report_writer *w =
        (unsigned)o->format < WP_FMT_COUNT ? &writers[o->format] : &writers[WP_FMT_TEXT];
    w->write(fp, r, o);
    if (fflush(fp) != 0 || ferror(fp)) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}
