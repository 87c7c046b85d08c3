/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: classification: Apple's address space, the port registry, the
 * service side of a flow */
#ifndef WP_CLASSIFY_H
#define WP_CLASSIFY_H

#include "wp/common.h"
#include "wp/flow.h"

/* ---- Apple address prefixes -------------------------------------------- */

struct wp_prefix {
    uint8_t family;       /* 4 or 6 */
    uint8_t len;          /* prefix length in bits */
    uint8_t addr[16];     /* network address, host bits zero */
    char tags[64];
    char status[16];
    char desc[128];
};

struct wp_prefixes;

/* Parse a prefix table (format: data/apple-prefixes.txt) from `text`. Only
 * rows whose status is `current` or `announced` are kept. `name` is used in
 * messages. Returns 0 and *out, or -1 with "NAME:LINE: reason" in errbuf. */
WP_NODISCARD int wp_prefixes_parse(struct wp_prefixes **out, const char *text, size_t len,
                                   const char *name, char errbuf[WP_ERRBUF_SIZE]);

/* Load from a file. Errors as wp_prefixes_parse, or "FILE: reason". */
WP_NODISCARD int wp_prefixes_load(struct wp_prefixes **out, const char *path,
                                  char errbuf[WP_ERRBUF_SIZE]);

/* The built-in table (data/apple-prefixes.txt compiled in). */
WP_NODISCARD int wp_prefixes_builtin(struct wp_prefixes **out, char errbuf[WP_ERRBUF_SIZE]);

/* The longest prefix containing `addr` (4 or 16 bytes per `family`), or NULL. */
const struct wp_prefix *wp_prefixes_match(const struct wp_prefixes *p, uint8_t family,
                                          const uint8_t *addr);

size_t wp_prefixes_count(const struct wp_prefixes *p);
const struct wp_prefix *wp_prefixes_at(const struct wp_prefixes *p, size_t i);
void wp_prefixes_free(struct wp_prefixes *p);

/* ---- port registry ------------------------------------------------------ */

struct wp_service {
    uint8_t proto;        /* 6 or 17 */
    bool apple;           /* scope apple: applies only when the server is Apple's */
    uint16_t lo, hi;      /* inclusive port range */
    char name[32];
    char label[64];
};

struct wp_services;

/* Parse a registry (format: data/services.txt). Errors as for prefixes. */
WP_NODISCARD int wp_services_parse(struct wp_services **out, const char *text, size_t len,
                                   const char *name, char errbuf[WP_ERRBUF_SIZE]);
WP_NODISCARD int wp_services_load(struct wp_services **out, const char *path,
                                  char errbuf[WP_ERRBUF_SIZE]);
WP_NODISCARD int wp_services_builtin(struct wp_services **out, char errbuf[WP_ERRBUF_SIZE]);

/* True when some line of either scope names (proto, port). */
bool wp_services_known(const struct wp_services *s, uint8_t proto, uint16_t port);

/* The name for (proto, port) on a server that is (or is not) in Apple's
 * space: the narrowest apple-scope line when server_apple, else the
 * narrowest any-scope line; NULL when none. */
const struct wp_service *wp_services_lookup(const struct wp_services *s, uint8_t proto,
                                            uint16_t port, bool server_apple);

size_t wp_services_count(const struct wp_services *s);
void wp_services_free(struct wp_services *s);

/* ---- service side -------------------------------------------------------- */

/* True when `port` lies in an ephemeral range (IANA 49152-65535 or Linux
 * 32768-60999). */
bool wp_port_ephemeral(uint16_t port);

/* Decide which endpoint of a flow with ports p[0], p[1] offers the service,
 * without TCP handshake evidence: registry, then ephemeral ranges, then the
 * lower port. Returns 0 or 1 and sets *how; returns -1 when the ports are
 * equal (the caller then uses the first packet's destination). */
int wp_service_side(const struct wp_services *s, uint8_t proto, const uint16_t p[2],
                    enum wp_how *how);

/* The service side said by the first packet's own header, where its
 * protocol says it: NTP (UDP, a port 123; mode 3 client, 4 server, 5
 * broadcast) and DNS (UDP, a port 53; the QR bit). `payload` holds the
 * captured UDP payload of a packet from port sport to dport. Returns 1
 * when the sender is the server, 0 when the receiver is, -1 when the
 * packet does not say (other protocols, symmetric NTP, too short). */
int wp_service_side_payload(uint8_t proto, uint16_t sport, uint16_t dport, const uint8_t *payload,
                            size_t len);

/* Name of a rule ("syn", "registry", ...). */
const char *wp_how_name(unsigned how);

#endif
