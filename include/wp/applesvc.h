/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: Apple services: the names that identify them, their documented ports */
#ifndef WP_APPLESVC_H
#define WP_APPLESVC_H

#include "wp/common.h"

struct wp_applesvc_port {
    uint8_t proto;          /* 6 or 17 */
    uint16_t lo, hi;
    bool identifies;        /* Apple address + this port = this service */
    char status[16];        /* current, legacy, thirdparty, unverified */
};

struct wp_applesvc;

#define WP_APPLESVC_MAX 64  /* services in a table */

/* Parse the table (format: data/apple-services.txt). Returns 0 and *out,
 * or -1 with "NAME:LINE: reason" in errbuf. */
WP_NODISCARD int wp_applesvc_parse(struct wp_applesvc **out, const char *text, size_t len,
                                   const char *name, char errbuf[WP_ERRBUF_SIZE]);
WP_NODISCARD int wp_applesvc_load(struct wp_applesvc **out, const char *path,
                                  char errbuf[WP_ERRBUF_SIZE]);
WP_NODISCARD int wp_applesvc_builtin(struct wp_applesvc **out, char errbuf[WP_ERRBUF_SIZE]);
void wp_applesvc_free(struct wp_applesvc *a);

/* The service whose name pattern matches `host` most specifically, or -1.
 * `host` is lowercase, without a trailing dot. */
int wp_applesvc_by_name(const struct wp_applesvc *a, const char *host);

/* The service that a port identifies on its own (its "identifies" line),
 * or -1. */
int wp_applesvc_by_port(const struct wp_applesvc *a, uint8_t proto, uint16_t port);

/* The fallback service (key "apple"), or -1 when the table has none. */
int wp_applesvc_fallback(const struct wp_applesvc *a);

size_t wp_applesvc_count(const struct wp_applesvc *a);
const char *wp_applesvc_key(const struct wp_applesvc *a, int i);
const char *wp_applesvc_label(const struct wp_applesvc *a, int i);

/* The documented ports of service i. */
size_t wp_applesvc_ports(const struct wp_applesvc *a, int i, const struct wp_applesvc_port **out);

/* True when service i documents (proto, port). */
bool wp_applesvc_documents(const struct wp_applesvc *a, int i, uint8_t proto, uint16_t port);

#endif
