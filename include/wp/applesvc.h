/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: Apple services: the names that identify them, their documented ports */
#ifndef WP_APPLESVC_H
#define WP_APPLESVC_H

#include "wp/common.h"
#include "wp/flow.h"

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
 * `host` is lowercase, without a trailing dot. A name that no pattern
 * matches but that ends in a `cdn` suffix of the table (edgekey.net, ...)
 * is matched again without that suffix. */
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

/* ---- the Apple service of a flow ----------------------------------------- */

/* Which rule gave a flow its Apple service; kept in the flow's bits
 * (WP_FB_APPLE_BY_*). */
enum wp_apple_by {
    WP_APPLE_BY_NONE = 0, /* no Apple service */
    WP_APPLE_BY_NAME,     /* the flow's own name: TLS SNI, QUIC SNI, HTTP Host */
    WP_APPLE_BY_DNS,      /* a DNS name of the server address, whose service uses the port */
    WP_APPLE_BY_PORT,     /* an Apple server, on a port that identifies a service */
    WP_APPLE_BY_PREFIX,   /* an Apple server in a range tagged with a service using the port */
    WP_APPLE_BY_FALLBACK, /* the fallback service "apple" */
    WP_APPLE_BY_COUNT
};

/* Why a flow with an Apple address has no Apple service. */
enum wp_apple_doubt {
    WP_APPLE_DOUBT_NONE = 0,
    WP_APPLE_DOUBT_BOTH_ENDS, /* both ends in Apple's space, no Apple name: private use? */
    WP_APPLE_DOUBT_NO_REPLY,  /* one side never answered, no Apple name, no identifying port */
    WP_APPLE_DOUBT_COUNT
};

/* What the decision looks at; every pointer may be NULL. */
struct wp_apple_facts {
    const char *own_name; /* the flow's own name (SNI, QUIC SNI, HTTP Host) */
    const char *dns_name; /* the name a DNS answer gave the server's address */
    uint8_t proto;        /* IP protocol */
    bool has_ports;
    uint16_t server_port;
    bool server_apple, client_apple; /* each end in Apple's address space */
    const char *server_tags;         /* tags of the longest Apple prefix holding the server */
    bool both_sent;                  /* both ends sent at least one packet */
};

struct wp_apple_verdict {
    int svc; /* service index, or -1 */
    enum wp_apple_by by;
    enum wp_apple_doubt doubt;
    bool apple_name; /* own_name or dns_name is an Apple service's */
};

/* Decide the Apple service of a flow, by the first rule that applies:
 *   1. its own name matches a service's pattern (by NAME);
 *   2. its DNS name matches a service that documents (proto, port) (DNS);
 *   -  with no Apple name and both ends Apple's: none (doubt BOTH_ENDS);
 *   3. an Apple server and a port that identifies a service (PORT);
 *   -  with no Apple name and one side silent: none (doubt NO_REPLY);
 *   4. an Apple server whose prefix has a tag that is a service's key (not
 *      the fallback's) and that service documents the port (PREFIX);
 *   5. an Apple server or an Apple name: the fallback service (FALLBACK).
 * Otherwise none (an Apple client alone gives no service). */
void wp_applesvc_decide(const struct wp_applesvc *a, const struct wp_apple_facts *in,
                        struct wp_apple_verdict *out);

struct wp_prefixes;
struct wp_nametab;

/* Decide flow f's Apple service (wp_applesvc_decide) from its state: its
 * name (f->name_src says whether its own or a DNS answer's, read from
 * `names`), its Apple address bits, the tags of the server's prefix in
 * `prefixes`, and whether both ends have sent. Sets f->apple_svc, the
 * rule in f->bits and WP_FB_APPLE_NAME. `prefixes` and `names` may be
 * NULL. */
void wp_apple_classify_flow(const struct wp_applesvc *a, const struct wp_prefixes *prefixes,
                            struct wp_nametab *names, struct wp_flow *f);

/* "name", "dns", "port", "prefix", "fallback"; NULL for none. */
const char *wp_apple_by_name(unsigned by);

/* "both-ends", "no-reply"; NULL for none. */
const char *wp_apple_doubt_name(unsigned doubt);

/* The rule kept in a flow's bits. */
static inline enum wp_apple_by wp_flow_apple_by(const struct wp_flow *f)
{
    return (enum wp_apple_by)((f->bits & WP_FB_APPLE_BY_MASK) >> WP_FB_APPLE_BY_SHIFT);
}

/* Why a flow with an Apple address got no service, from its state as last
 * classified (the same conditions as wp_applesvc_decide). */
enum wp_apple_doubt wp_flow_apple_doubt(const struct wp_flow *f);

#endif
