/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the view by Apple service, in every format: called by the
 * writers, reads the report model only */
#ifndef WP_REPORT_APPLE_H
#define WP_REPORT_APPLE_H

#include <stdio.h>

#include "wp/report_model.h"

/* The view by Apple service (--apple), and the "apple" section of JSON
 * (called by the writers). */
void wp_report_apple_text(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
void wp_report_apple_csv(FILE *fp, const struct wp_report *r, const struct wp_report_opts *o);
void wp_report_apple_json(FILE *fp, const struct wp_report *r, const char *nl, const char *ind);

#endif
