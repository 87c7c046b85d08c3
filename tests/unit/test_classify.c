/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the prefix table, the port registry and the
 * service-side rule */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/classify.h"

/* ---- helpers ------------------------------------------------------------ */

static struct wp_prefixes *parse_prefixes(const char *text, const char *name, char *errbuf)
{
    struct wp_prefixes *p = NULL;
    errbuf[0] = '\0';
    if (wp_prefixes_parse(&p, text, strlen(text), name, errbuf) != 0)
        return NULL;
    return p;
}

static struct wp_services *parse_services(const char *text, const char *name, char *errbuf)
{
    struct wp_services *s = NULL;
    errbuf[0] = '\0';
    if (wp_services_parse(&s, text, strlen(text), name, errbuf) != 0)
        return NULL;
    return s;
}

/* The prefix matching the text address `a`, or NULL (also for a bad address). */
static const struct wp_prefix *match(const struct wp_prefixes *p, const char *a)
{
    uint8_t buf[16];
    memset(buf, 0, sizeof(buf));
    if (strchr(a, ':') != NULL) {
        if (inet_pton(AF_INET6, a, buf) != 1)
            return NULL;
        return wp_prefixes_match(p, 6, buf);
    }
    if (inet_pton(AF_INET, a, buf) != 1)
        return NULL;
    return wp_prefixes_match(p, 4, buf);
}

/* `a` matches a prefix of length `len` whose description is `desc`. */
static void expect_match(const struct wp_prefixes *p, const char *a, unsigned len, const char *desc)
{
    const struct wp_prefix *px = match(p, a);
    if (!TAP_OK(px != NULL && px->len == len && strcmp(px->desc, desc) == 0, "%s matches /%u (%s)",
                a, len, desc)) {
        if (px != NULL)
            printf("#   matched /%u (%s)\n", px->len, px->desc);
        else
            printf("#   no match\n");
    }
}

static void expect_nomatch(const struct wp_prefixes *p, const char *a)
{
    const struct wp_prefix *px = match(p, a);
    if (!TAP_OK(px == NULL, "%s matches nothing", a))
        printf("#   matched /%u (%s)\n", px->len, px->desc);
}

/* Parsing `text` fails with a message that begins with `prefix` and contains
 * `needle`. */
static void expect_prefix_error(const char *text, const char *prefix, const char *needle,
                                const char *what)
{
    char errbuf[WP_ERRBUF_SIZE];
    struct wp_prefixes *p = parse_prefixes(text, "pfx.txt", errbuf);
    TAP_OK(p == NULL, "prefixes: %s: rejected", what);
    wp_prefixes_free(p);
    if (!TAP_OK(strncmp(errbuf, prefix, strlen(prefix)) == 0 && strstr(errbuf, needle) != NULL,
                "prefixes: %s: message '%s...%s'", what, prefix, needle))
        printf("#   message was '%s'\n", errbuf);
}

static void expect_service_error(const char *text, const char *prefix, const char *needle,
                                 const char *what)
{
    char errbuf[WP_ERRBUF_SIZE];
    struct wp_services *s = parse_services(text, "svc.txt", errbuf);
    TAP_OK(s == NULL, "services: %s: rejected", what);
    wp_services_free(s);
    if (!TAP_OK(strncmp(errbuf, prefix, strlen(prefix)) == 0 && strstr(errbuf, needle) != NULL,
                "services: %s: message '%s...%s'", what, prefix, needle))
        printf("#   message was '%s'\n", errbuf);
}

/* ---- prefixes ----------------------------------------------------------- */

static const char prefix_text[] =
    "# test prefixes\n"
    "\n"
    "ipv4 17.0.0.0/8          apple       current    \"slash8\"     S1\n"
    "ipv4 17.57.144.0/22      apple,apns  current    \"slash22\"    S2\n"
    "ipv4 10.64.0.0/18        x           current    \"slash18\"\n"
    "ipv4 57.102.0.0/15       x           announced  \"slash15\"\n"
    "ipv4 192.0.2.77/32       x           current    \"host32\"\n"
    "ipv6 2620:149::/32       apple       announced  \"v6slash32\"\n"
    "ipv6 2620:149:a44::/48   apple,apns  current    \"v6slash48\"\n"
    "ipv6 2001:db8:8000::/33  x           current    \"v6slash33\"\n"
    "ipv6 2001:db8:1::1/128   x           current    \"v6host\"\n"
    "ipv4 198.51.100.0/24     x           thirdparty \"third\"\n"
    "ipv4 203.0.113.0/24      x           historic   \"hist\"\n"
    "ipv4 100.64.0.0/10       x           unverified \"unver\"\n"
    "ipv6 2001:db8:ffff::/48  x           historic   \"hist6\"\n"
    "ipv4 11.0.0.0/8          x           current\n";

static void test_prefixes(void)
{
    char errbuf[WP_ERRBUF_SIZE];
    struct wp_prefixes *p = parse_prefixes(prefix_text, "pfx.txt", errbuf);
    if (!TAP_OK(p != NULL, "prefix table parses")) {
        printf("#   %s\n", errbuf);
        return;
    }
    /* 14 rows, of which 4 have a status other than current/announced */
    TAP_EQ(wp_prefixes_count(p), 10, "10 of 14 rows loaded (current and announced only)");
    TAP_OK(wp_prefixes_at(p, 10) == NULL, "wp_prefixes_at past the end is NULL");
    bool sorted = true;
    for (size_t i = 1; i < wp_prefixes_count(p); i++)
        sorted = sorted && wp_prefixes_at(p, i - 1)->len >= wp_prefixes_at(p, i)->len;
    TAP_OK(sorted, "rows ordered longest prefix first");

    /* longest-prefix match, /8 vs /22 */
    expect_match(p, "17.57.144.20", 22, "slash22");
    expect_match(p, "17.1.2.3", 8, "slash8");
    expect_nomatch(p, "18.0.0.1");
    expect_nomatch(p, "16.255.255.255");
    /* /22 boundaries: 17.57.144.0 - 17.57.147.255 */
    expect_match(p, "17.57.144.0", 22, "slash22");
    expect_match(p, "17.57.147.255", 22, "slash22");
    expect_match(p, "17.57.148.0", 8, "slash8");
    expect_match(p, "17.57.143.255", 8, "slash8");
    expect_match(p, "17.255.255.255", 8, "slash8");
    expect_match(p, "17.0.0.0", 8, "slash8");
    /* /18 boundaries: 10.64.0.0 - 10.64.63.255 */
    expect_match(p, "10.64.0.0", 18, "slash18");
    expect_match(p, "10.64.63.255", 18, "slash18");
    expect_nomatch(p, "10.64.64.0");
    expect_nomatch(p, "10.63.255.255");
    /* /15 boundaries: 57.102.0.0 - 57.103.255.255 */
    expect_match(p, "57.102.0.0", 15, "slash15");
    expect_match(p, "57.103.255.255", 15, "slash15");
    expect_nomatch(p, "57.104.0.0");
    expect_nomatch(p, "57.101.255.255");
    /* /32 */
    expect_match(p, "192.0.2.77", 32, "host32");
    expect_nomatch(p, "192.0.2.76");
    expect_nomatch(p, "192.0.2.78");
    /* a row without a description is loaded, with an empty one */
    expect_match(p, "11.22.33.44", 8, "");

    /* IPv6 nesting */
    expect_match(p, "2620:149:a44::20", 48, "v6slash48");
    expect_match(p, "2620:149:a44:ffff:ffff:ffff:ffff:ffff", 48, "v6slash48");
    expect_match(p, "2620:149:a45::", 32, "v6slash32");
    expect_match(p, "2620:149:a43:ffff:ffff:ffff:ffff:ffff", 32, "v6slash32");
    expect_match(p, "2620:149:ffff:ffff:ffff:ffff:ffff:ffff", 32, "v6slash32");
    expect_nomatch(p, "2620:14a::");
    expect_nomatch(p, "2620:148:ffff:ffff:ffff:ffff:ffff:ffff");
    /* IPv6 /33: 2001:db8:8000:: - 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff */
    expect_match(p, "2001:db8:8000::", 33, "v6slash33");
    expect_match(p, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 33, "v6slash33");
    expect_nomatch(p, "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff");
    expect_nomatch(p, "2001:db9::");
    /* /128 */
    expect_match(p, "2001:db8:1::1", 128, "v6host");
    expect_nomatch(p, "2001:db8:1::2");
    expect_nomatch(p, "2001:db8:1::");

    /* statuses thirdparty, historic, unverified are not loaded */
    expect_nomatch(p, "198.51.100.7");
    expect_nomatch(p, "203.0.113.1");
    expect_nomatch(p, "100.64.0.1");
    /* 2001:db8:ffff::1 is inside the historic /48 but also inside the /33 */
    expect_match(p, "2001:db8:ffff::1", 33, "v6slash33");

    /* a family mismatch does not match: 17.0.0.0 as the first 4 bytes of IPv6 */
    {
        uint8_t a[16] = {17, 57, 144, 20};
        TAP_OK(wp_prefixes_match(p, 6, a) == NULL, "IPv4 bytes queried as IPv6: no match");
        uint8_t b[16] = {0x26, 0x20, 0x01, 0x49};
        TAP_OK(wp_prefixes_match(p, 4, b) == NULL, "IPv6 bytes queried as IPv4: no match");
    }
    /* fields are kept */
    {
        const struct wp_prefix *px = match(p, "17.57.144.20");
        TAP_OK(px != NULL && px->family == 4 && strcmp(px->tags, "apple,apns") == 0 &&
                   strcmp(px->status, "current") == 0,
               "family, tags and status kept");
        static const uint8_t net[4] = {17, 57, 144, 0};
        TAP_OK(px != NULL && memcmp(px->addr, net, 4) == 0, "network address 17.57.144.0");
        px = match(p, "57.102.1.1");
        TAP_OK(px != NULL && strcmp(px->status, "announced") == 0, "status 'announced' kept");
    }
    wp_prefixes_free(p);

    /* /0 matches every address of its family only */
    p = parse_prefixes("ipv4 0.0.0.0/0 all current \"all\"\n", "zero.txt", errbuf);
    if (TAP_OK(p != NULL, "a /0 prefix parses")) {
        expect_match(p, "0.0.0.0", 0, "all");
        expect_match(p, "255.255.255.255", 0, "all");
        expect_nomatch(p, "::1");
        wp_prefixes_free(p);
    }
    /* a table that loads no row (no qsort of an empty array: UB) */
    p = parse_prefixes("# nothing\n", "empty.txt", errbuf);
    if (TAP_OK(p != NULL, "a table of comments parses")) {
        TAP_EQ(wp_prefixes_count(p), 0, "and is empty");
        expect_nomatch(p, "17.0.0.1");
        wp_prefixes_free(p);
    }
    p = parse_prefixes("ipv4 17.0.0.0/8 x historic\n", "hist.txt", errbuf);
    TAP_OK(p != NULL && wp_prefixes_count(p) == 0, "a table of historic rows loads empty");
    wp_prefixes_free(p);
    /* the first-byte buckets: a prefix shorter than /8 is in every bucket
     * it spans, and the longest match wins within a bucket */
    p = parse_prefixes("ipv4 16.0.0.0/7 x current \"wide\"\n"
                       "ipv4 17.1.0.0/16 x current \"narrow\"\n"
                       "ipv6 2600::/7 x current \"wide6\"\n"
                       "ipv6 2620:149::/32 x current \"narrow6\"\n",
                       "buckets.txt", errbuf);
    if (TAP_OK(p != NULL, "prefixes across first-byte buckets parse")) {
        expect_match(p, "16.5.5.5", 7, "wide");
        expect_match(p, "17.2.2.2", 7, "wide");
        expect_match(p, "17.1.2.3", 16, "narrow");
        expect_nomatch(p, "18.0.0.1");
        expect_nomatch(p, "15.255.255.255");
        expect_match(p, "2700::1", 7, "wide6");
        expect_match(p, "2620:149::1", 32, "narrow6");
        expect_nomatch(p, "2800::1");
        wp_prefixes_free(p);
    }
}

static void test_prefix_errors(void)
{
    expect_prefix_error("# c\n\nipv5 1.2.3.0/24 x current\n", "pfx.txt:3: ", "family",
                        "bad family");
    expect_prefix_error("ipv4 1.0.0.0/8 x current\nipv4 1.2.3.0 x current\n",
                        "pfx.txt:2: ", "/length", "missing /len");
    expect_prefix_error("ipv4 1.2.3.0/ x current\n", "pfx.txt:1: ", "prefix length", "empty /len");
    expect_prefix_error("\n\n\n\nipv4 1.2.3.0/33 x current\n", "pfx.txt:5: ", "prefix length",
                        "/33 on ipv4");
    expect_prefix_error("ipv6 2001:db8::/129 x current\n", "pfx.txt:1: ", "prefix length",
                        "/129 on ipv6");
    expect_prefix_error("ipv4 1.2.3.0/-1 x current\n", "pfx.txt:1: ", "prefix length",
                        "negative /len");
    expect_prefix_error("ipv4 1.2.3.0/2x x current\n", "pfx.txt:1: ", "prefix length",
                        "junk after /len");
    expect_prefix_error("# a\nipv4 1.2.3.1/24 x current\n", "pfx.txt:2: ", "host bits",
                        "host bits set (/24)");
    expect_prefix_error("ipv4 17.57.146.0/22 x current\n", "pfx.txt:1: ", "host bits",
                        "host bits set (/22)");
    expect_prefix_error("ipv6 2620:149:a44::1/48 x current\n", "pfx.txt:1: ", "host bits",
                        "host bits set (ipv6 /48)");
    expect_prefix_error("ipv4 1.0.0.0/0 x current\n", "pfx.txt:1: ", "host bits",
                        "host bits set (/0)");
    expect_prefix_error("ipv4 2001:db8::/32 x current\n", "pfx.txt:1: ", "address",
                        "ipv6 address in an ipv4 row");
    expect_prefix_error("ipv4 1.2.3.256/32 x current\n", "pfx.txt:1: ", "address", "octet 256");
    expect_prefix_error("ipv4 1.2.3.0/24 x\n", "pfx.txt:1: ", "found 3 fields", "three fields");
    expect_prefix_error("ipv4 1.2.3.0/24 x current \"d\" s extra\n",
                        "pfx.txt:1: ", "found 7 fields", "seven fields");
    expect_prefix_error("\nipv4 1.2.3.0/24 x bogus \"d\"\n", "pfx.txt:2: ", "status", "bad status");
    expect_prefix_error("ipv4 1.2.3.0/24 x Current\n", "pfx.txt:1: ", "status",
                        "status is case-sensitive");
    expect_prefix_error("ipv4 1.2.3.0/24 x current\nipv4 1.2.4.0/24 x current \"open\n",
                        "pfx.txt:2: ", "unterminated", "unterminated quote");
}

static void test_prefixes_builtin(void)
{
    char errbuf[WP_ERRBUF_SIZE];
    struct wp_prefixes *p = NULL;
    errbuf[0] = '\0';
    int r = wp_prefixes_builtin(&p, errbuf);
    if (!TAP_OK(r == 0 && p != NULL, "built-in prefix table loads")) {
        printf("#   %s\n", errbuf);
        return;
    }
    TAP_OK(wp_prefixes_count(p) > 0, "built-in table is not empty");
    const struct wp_prefix *px = match(p, "17.57.144.20");
    TAP_OK(px != NULL && px->len == 22, "built-in: 17.57.144.20 matches the APNs /22");
    px = match(p, "17.1.2.3");
    TAP_OK(px != NULL && px->len == 8, "built-in: 17.1.2.3 matches 17.0.0.0/8");
    px = match(p, "2620:149:a44::20");
    TAP_OK(px != NULL && px->len == 48, "built-in: 2620:149:a44::20 matches the /48");
    expect_nomatch(p, "198.51.100.7");
    expect_nomatch(p, "2001:db8::7");
    expect_nomatch(p, "10.0.0.1");
    /* thirdparty rows of the data file are not loaded: 17.248.128.0/18 is
     * only covered by the /8 */
    px = match(p, "17.248.128.1");
    TAP_OK(px != NULL && px->len == 8, "built-in: thirdparty /18 inside 17/8 not loaded");
    /* historic and unverified rows are not loaded */
    expect_nomatch(p, "209.14.80.1");
    expect_nomatch(p, "192.35.50.1");
    /* announced rows are */
    px = match(p, "57.103.0.1");
    TAP_OK(px != NULL && px->len == 15, "built-in: announced 57.102.0.0/15 loaded");
    wp_prefixes_free(p);

    p = (struct wp_prefixes *)1;
    r = wp_prefixes_load(&p, "/nonexistent-wp-test/prefixes.txt", errbuf);
    TAP_OK(r == -1 && p == NULL, "wp_prefixes_load of a missing file fails");
    TAP_OK(strncmp(errbuf, "/nonexistent-wp-test/prefixes.txt: ", 35) == 0,
           "and the message begins with 'FILE: '");
}

/* ---- services ----------------------------------------------------------- */

static const char service_text[] =
    "# test registry\n"
    "tcp 100-200   wide          any    \"wide range\"\n"
    "tcp 150-160   narrow        any    \"narrow range\"\n"
    "tcp 155       single        any    \"single port\"\n"
    "tcp 155       apple-single  apple  \"apple single\"\n"
    "tcp 140-170   apple-mid     apple  \"apple mid\"\n"
    "tcp 300-400   apple-only    apple  \"apple only\"\n"
    "udp 155       udp-one       any    \"udp one\"\n"
    "udp 50000     high.udp+x_y  any    \"an ephemeral-range port\"\n"
    "tcp 0         zero          any    \"port zero\"\n"
    "tcp 65535     top           any    \"port 65535\"\n";

static const char *lookup_name(const struct wp_services *s, uint8_t proto, uint16_t port,
                               bool apple)
{
    const struct wp_service *sv = wp_services_lookup(s, proto, port, apple);
    return sv != NULL ? sv->name : "(none)";
}

static void expect_lookup(const struct wp_services *s, uint8_t proto, uint16_t port, bool apple,
                          const char *want)
{
    const char *got = lookup_name(s, proto, port, apple);
    if (!TAP_OK(strcmp(got, want) == 0, "lookup(%u, %u, %s) is %s", proto, port,
                apple ? "apple" : "any", want))
        printf("#   got %s\n", got);
}

static void test_services(void)
{
    char errbuf[WP_ERRBUF_SIZE];
    struct wp_services *s = parse_services(service_text, "svc.txt", errbuf);
    if (!TAP_OK(s != NULL, "registry parses")) {
        printf("#   %s\n", errbuf);
        return;
    }
    TAP_EQ(wp_services_count(s), 10, "10 lines");

    /* narrowest range within a scope */
    expect_lookup(s, 6, 155, false, "single");
    expect_lookup(s, 6, 150, false, "narrow");
    expect_lookup(s, 6, 160, false, "narrow");
    expect_lookup(s, 6, 149, false, "wide");
    expect_lookup(s, 6, 161, false, "wide");
    expect_lookup(s, 6, 100, false, "wide");
    expect_lookup(s, 6, 200, false, "wide");
    expect_lookup(s, 6, 99, false, "(none)");
    expect_lookup(s, 6, 201, false, "(none)");
    /* apple scope only when the server is Apple's */
    expect_lookup(s, 6, 155, true, "apple-single");
    expect_lookup(s, 6, 150, true, "apple-mid");
    expect_lookup(s, 6, 140, true, "apple-mid");
    expect_lookup(s, 6, 170, true, "apple-mid");
    expect_lookup(s, 6, 350, true, "apple-only");
    expect_lookup(s, 6, 350, false, "(none)");
    expect_lookup(s, 6, 300, false, "(none)");
    /* no apple-scope line: the any-scope name applies to an Apple server too */
    expect_lookup(s, 6, 171, true, "wide");
    expect_lookup(s, 6, 110, true, "wide");
    /* transports are separate */
    expect_lookup(s, 17, 155, false, "udp-one");
    expect_lookup(s, 17, 156, false, "(none)");
    expect_lookup(s, 17, 350, true, "(none)");
    expect_lookup(s, 1, 155, false, "(none)");
    expect_lookup(s, 6, 0, false, "zero");
    expect_lookup(s, 6, 65535, false, "top");
    expect_lookup(s, 17, 50000, false, "high.udp+x_y");
    {
        const struct wp_service *sv = wp_services_lookup(s, 6, 155, true);
        TAP_OK(sv != NULL && sv->proto == 6 && sv->apple && sv->lo == 155 && sv->hi == 155 &&
                   strcmp(sv->label, "apple single") == 0,
               "fields of the apple-single line");
        sv = wp_services_lookup(s, 6, 100, false);
        TAP_OK(sv != NULL && !sv->apple && sv->lo == 100 && sv->hi == 200 &&
                   strcmp(sv->label, "wide range") == 0,
               "fields of the wide line");
    }

    /* known: any line of either scope */
    TAP_OK(wp_services_known(s, 6, 100), "tcp 100 known (range start)");
    TAP_OK(wp_services_known(s, 6, 200), "tcp 200 known (range end)");
    TAP_OK(!wp_services_known(s, 6, 99), "tcp 99 unknown");
    TAP_OK(!wp_services_known(s, 6, 201), "tcp 201 unknown");
    TAP_OK(wp_services_known(s, 6, 300), "tcp 300 known (apple scope only)");
    TAP_OK(wp_services_known(s, 6, 400), "tcp 400 known (apple scope only)");
    TAP_OK(!wp_services_known(s, 6, 401), "tcp 401 unknown");
    TAP_OK(wp_services_known(s, 17, 155), "udp 155 known");
    TAP_OK(!wp_services_known(s, 17, 300), "udp 300 unknown (only tcp has it)");
    TAP_OK(!wp_services_known(s, 1, 155), "icmp never known");
    TAP_OK(!wp_services_known(s, 132, 155), "sctp never known");
    TAP_OK(wp_services_known(s, 6, 0) && wp_services_known(s, 6, 65535), "tcp 0 and 65535 known");
    TAP_OK(!wp_services_known(s, 6, 65534) && !wp_services_known(s, 6, 1),
           "tcp 1 and 65534 unknown");
    wp_services_free(s);

    /* the whole port space */
    s = parse_services("udp 0-65535 all any \"all\"\n", "all.txt", errbuf);
    if (TAP_OK(s != NULL, "range 0-65535 parses")) {
        TAP_OK(wp_services_known(s, 17, 0) && wp_services_known(s, 17, 65535) &&
                   wp_services_known(s, 17, 32768),
               "all UDP ports known");
        TAP_OK(!wp_services_known(s, 6, 1), "but no TCP port");
        wp_services_free(s);
    }

    /* limits that are accepted: 31-character name, 63-byte label */
    s = parse_services("tcp 1 abcdefghijklmnopqrstuvwxyz01234 any "
                       "\"123456789012345678901234567890123456789012345678901234567890123\"\n",
                       "max.txt", errbuf);
    if (TAP_OK(s != NULL, "31-character name and 63-byte label accepted")) {
        const struct wp_service *sv = wp_services_lookup(s, 6, 1, false);
        TAP_OK(sv != NULL && strlen(sv->name) == 31 && strlen(sv->label) == 63, "both kept whole");
        wp_services_free(s);
    } else {
        printf("#   %s\n", errbuf);
    }
    /* an empty registry */
    s = parse_services("# nothing\n\n", "empty.txt", errbuf);
    if (TAP_OK(s != NULL, "a registry of comments parses")) {
        TAP_EQ(wp_services_count(s), 0, "and is empty");
        TAP_OK(!wp_services_known(s, 6, 443) && wp_services_lookup(s, 6, 443, true) == NULL,
               "an empty registry knows no port");
        wp_services_free(s);
    }
    /* the same range in both scopes is not a duplicate */
    s = parse_services("tcp 80 http any \"a\"\ntcp 80 apple-http apple \"b\"\n", "two.txt", errbuf);
    TAP_OK(s != NULL, "same port in scopes any and apple accepted");
    wp_services_free(s);
}

static void test_service_errors(void)
{
    expect_service_error("# c\nsctp 80 x any \"l\"\n", "svc.txt:2: ", "transport", "bad transport");
    expect_service_error("TCP 80 x any \"l\"\n", "svc.txt:1: ", "transport",
                         "transport is case-sensitive");
    expect_service_error("tcp 65536 x any \"l\"\n", "svc.txt:1: ", "port", "port 65536");
    expect_service_error("tcp 1-65536 x any \"l\"\n", "svc.txt:1: ", "port",
                         "range ending at 65536");
    expect_service_error("\n\ntcp 10-5 x any \"l\"\n", "svc.txt:3: ", "range", "range 10-5");
    expect_service_error("tcp 10- x any \"l\"\n", "svc.txt:1: ", "port", "range without end");
    expect_service_error("tcp -10 x any \"l\"\n", "svc.txt:1: ", "port", "negative port");
    expect_service_error("tcp 8o x any \"l\"\n", "svc.txt:1: ", "port", "junk in port");
    expect_service_error("tcp 80 Http any \"l\"\n", "svc.txt:1: ", "service name",
                         "uppercase in name");
    expect_service_error("tcp 80 -http any \"l\"\n", "svc.txt:1: ", "service name",
                         "name starting with '-'");
    expect_service_error("tcp 80 ht/tp any \"l\"\n", "svc.txt:1: ", "service name", "'/' in name");
    expect_service_error("tcp 80 abcdefghijklmnopqrstuvwxyz012345 any \"l\"\n",
                         "svc.txt:1: ", "service name", "32-character name");
    expect_service_error("tcp 80 x world \"l\"\n", "svc.txt:1: ", "scope", "bad scope");
    expect_service_error("tcp 80 x Any \"l\"\n", "svc.txt:1: ", "scope", "scope is case-sensitive");
    expect_service_error("tcp 80 a any \"l\"\n# c\ntcp 80 b any \"m\"\n",
                         "svc.txt:3: ", "duplicate", "duplicate line");
    expect_service_error("udp 10-20 a apple \"l\"\nudp 10-20 b apple \"m\"\n",
                         "svc.txt:2: ", "duplicate", "duplicate apple range");
    expect_service_error("tcp 80 x any "
                         "\"1234567890123456789012345678901234567890123456789012345678901234\"\n",
                         "svc.txt:1: ", "label", "64-byte label");
    expect_service_error("tcp 80 x any\n", "svc.txt:1: ", "found 4 fields", "four fields");
    expect_service_error("tcp 80 x any \"l\" extra\n", "svc.txt:1: ", "found 6 fields",
                         "six fields");
    expect_service_error("tcp 80 x any \"l\n", "svc.txt:1: ", "unterminated", "unterminated quote");
}

static void test_services_builtin(void)
{
    char errbuf[WP_ERRBUF_SIZE];
    struct wp_services *s = NULL;
    errbuf[0] = '\0';
    int r = wp_services_builtin(&s, errbuf);
    if (!TAP_OK(r == 0 && s != NULL, "built-in registry loads")) {
        printf("#   %s\n", errbuf);
        return;
    }
    TAP_OK(wp_services_count(s) > 0, "built-in registry is not empty");
    TAP_OK(wp_services_known(s, 6, 5223), "built-in: tcp 5223 known");
    TAP_OK(wp_services_lookup(s, 6, 5223, false) == NULL,
           "built-in: tcp 5223 has no any-scope name");
    expect_lookup(s, 6, 5223, true, "apns");
    expect_lookup(s, 17, 16393, true, "facetime-media");
    expect_lookup(s, 17, 16402, true, "facetime-media");
    expect_lookup(s, 17, 16392, true, "messages-av");
    expect_lookup(s, 17, 16393, false, "(none)");
    expect_lookup(s, 6, 443, false, "https");
    expect_lookup(s, 6, 443, true, "apple-https");
    expect_lookup(s, 17, 443, false, "https");
    expect_lookup(s, 17, 3480, true, "facetime-nat");
    expect_lookup(s, 17, 3478, true, "facetime-nat");
    expect_lookup(s, 17, 3478, false, "stun");
    expect_lookup(s, 6, 22, true, "ssh");
    TAP_OK(!wp_services_known(s, 6, 8888), "built-in: tcp 8888 unknown");
    TAP_OK(!wp_services_known(s, 6, 7777), "built-in: tcp 7777 unknown");
    TAP_OK(!wp_services_known(s, 17, 40001) && !wp_services_known(s, 17, 50002),
           "built-in: udp 40001 and 50002 unknown");
    wp_services_free(s);

    s = (struct wp_services *)1;
    r = wp_services_load(&s, "/nonexistent-wp-test/services.txt", errbuf);
    TAP_OK(r == -1 && s == NULL, "wp_services_load of a missing file fails");
    TAP_OK(strncmp(errbuf, "/nonexistent-wp-test/services.txt: ", 35) == 0,
           "and the message begins with 'FILE: '");
}

/* ---- service side ------------------------------------------------------- */

static void expect_side(const struct wp_services *s, uint8_t proto, uint16_t a, uint16_t b,
                        int want, enum wp_how want_how)
{
    uint16_t p[2] = {a, b};
    enum wp_how how = WP_HOW_COUNT;
    int side = wp_service_side(s, proto, p, &how);
    if (!TAP_OK(side == want && how == want_how, "side(%u, %u/%u) is %d by %s", proto, a, b, want,
                wp_how_name(want_how)))
        printf("#   got %d by %s\n", side, wp_how_name(how));
}

static void test_side(void)
{
    TAP_OK(!wp_port_ephemeral(0), "port 0 not ephemeral");
    TAP_OK(!wp_port_ephemeral(1023), "port 1023 not ephemeral");
    TAP_OK(!wp_port_ephemeral(32767), "port 32767 not ephemeral");
    TAP_OK(wp_port_ephemeral(32768), "port 32768 ephemeral");
    TAP_OK(wp_port_ephemeral(49151), "port 49151 ephemeral (Linux range)");
    TAP_OK(wp_port_ephemeral(49152), "port 49152 ephemeral");
    TAP_OK(wp_port_ephemeral(60999), "port 60999 ephemeral");
    TAP_OK(wp_port_ephemeral(61000), "port 61000 ephemeral (IANA range)");
    TAP_OK(wp_port_ephemeral(65535), "port 65535 ephemeral");

    char errbuf[WP_ERRBUF_SIZE];
    struct wp_services *s = NULL;
    if (!TAP_OK(wp_services_builtin(&s, errbuf) == 0, "built-in registry for the side rule"))
        return;
    /* equal ports */
    expect_side(s, 6, 5223, 5223, -1, WP_HOW_FIRST);
    expect_side(s, 17, 40000, 40000, -1, WP_HOW_FIRST);
    /* exactly one known */
    expect_side(s, 6, 51000, 443, 1, WP_HOW_REGISTRY);
    expect_side(s, 6, 443, 51000, 0, WP_HOW_REGISTRY);
    expect_side(s, 6, 5223, 51000, 0, WP_HOW_REGISTRY);   /* apple-scope line counts */
    expect_side(s, 17, 16393, 40000, 0, WP_HOW_REGISTRY); /* udp apple-scope range */
    expect_side(s, 6, 8888, 443, 1, WP_HOW_REGISTRY);     /* beats the lower-port rule */
    /* neither known, one ephemeral */
    expect_side(s, 6, 40000, 7777, 1, WP_HOW_EPHEMERAL);
    expect_side(s, 6, 7777, 40000, 0, WP_HOW_EPHEMERAL);
    expect_side(s, 17, 32768, 32767, 1, WP_HOW_EPHEMERAL);
    expect_side(s, 17, 32767, 32768, 0, WP_HOW_EPHEMERAL);
    /* neither known, neither ephemeral: lower port */
    expect_side(s, 6, 7777, 8888, 0, WP_HOW_LOWER);
    expect_side(s, 6, 8888, 7777, 1, WP_HOW_LOWER);
    /* both known: lower port */
    expect_side(s, 6, 443, 80, 1, WP_HOW_LOWER);
    /* both ephemeral: lower port */
    expect_side(s, 17, 40001, 50002, 0, WP_HOW_LOWER);
    expect_side(s, 17, 50002, 40001, 1, WP_HOW_LOWER);
    /* a transport the registry does not cover */
    expect_side(s, 132, 40000, 7777, 1, WP_HOW_EPHEMERAL);
    wp_services_free(s);

    /* the registry beats the ephemeral rule: a known port in the ephemeral range */
    s = parse_services("udp 50000 high any \"h\"\n", "hi.txt", errbuf);
    if (TAP_OK(s != NULL, "registry with an ephemeral-range port")) {
        expect_side(s, 17, 50000, 7777, 0, WP_HOW_REGISTRY);
        expect_side(s, 17, 7777, 50000, 1, WP_HOW_REGISTRY);
        wp_services_free(s);
    }

    TAP_OK(strcmp(wp_how_name(WP_HOW_SYN), "syn") == 0 &&
               strcmp(wp_how_name(WP_HOW_REGISTRY), "registry") == 0 &&
               strcmp(wp_how_name(WP_HOW_EPHEMERAL), "ephemeral") == 0 &&
               strcmp(wp_how_name(WP_HOW_LOWER), "lower") == 0 &&
               strcmp(wp_how_name(WP_HOW_FIRST), "first") == 0 &&
               strcmp(wp_how_name(WP_HOW_ICMP), "icmp") == 0,
           "rule names");
    TAP_OK(strcmp(wp_how_name(WP_HOW_COUNT), "unknown") == 0, "out-of-range rule name");
}

/* The service side from NTP's mode and DNS's QR bit (RFC 5905 7.3, RFC 1035
 * 4.1.1), on hand-built payloads. */
static void test_side_payload(void)
{
    uint8_t ntp[48] = {0};
    ntp[0] = (uint8_t)((4u << 3) | 3u); /* LI 0, VN 4, mode 3: client */
    TAP_EQ(wp_service_side_payload(17, 123, 123, ntp, sizeof(ntp)), 0,
           "NTP mode 3 (client): the receiver is the server");
    ntp[0] = (uint8_t)((4u << 3) | 4u);
    TAP_EQ(wp_service_side_payload(17, 123, 123, ntp, sizeof(ntp)), 1,
           "NTP mode 4 (server): the sender is the server");
    ntp[0] = (uint8_t)((3u << 3) | 5u);
    TAP_EQ(wp_service_side_payload(17, 123, 40000, ntp, sizeof(ntp)), 1,
           "NTPv3 mode 5 (broadcast): the sender is the server");
    ntp[0] = (uint8_t)((4u << 3) | 1u);
    TAP_EQ(wp_service_side_payload(17, 123, 123, ntp, sizeof(ntp)), -1,
           "NTP mode 1 (symmetric active): no side");
    ntp[0] = (uint8_t)((0u << 3) | 4u);
    TAP_EQ(wp_service_side_payload(17, 123, 123, ntp, sizeof(ntp)), -1, "NTP version 0: no side");
    ntp[0] = (uint8_t)((4u << 3) | 4u);
    TAP_EQ(wp_service_side_payload(17, 123, 123, ntp, 47), -1, "NTP shorter than 48 bytes");
    TAP_EQ(wp_service_side_payload(6, 123, 123, ntp, sizeof(ntp)), -1, "NTP over TCP: no side");
    TAP_EQ(wp_service_side_payload(17, 1000, 2000, ntp, sizeof(ntp)), -1, "not port 123");

    uint8_t dns[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    TAP_EQ(wp_service_side_payload(17, 40000, 53, dns, sizeof(dns)), 0,
           "DNS query (QR 0): the receiver is the server");
    dns[2] = 0x81;
    TAP_EQ(wp_service_side_payload(17, 53, 53, dns, sizeof(dns)), 1,
           "DNS response (QR 1): the sender is the server");
    dns[5] = 2;
    TAP_EQ(wp_service_side_payload(17, 53, 53, dns, sizeof(dns)), -1,
           "DNS with two questions: no side");
    dns[5] = 1;
    TAP_EQ(wp_service_side_payload(17, 53, 53, dns, 11), -1, "DNS shorter than its header");
    TAP_EQ(wp_service_side_payload(17, 53, 53, NULL, 0), -1, "no payload");
    TAP_OK(strcmp(wp_how_name(WP_HOW_PROTOCOL), "protocol") == 0, "how name 'protocol'");
}

int main(void)
{
    test_prefixes();
    test_prefix_errors();
    test_prefixes_builtin();
    test_services();
    test_service_errors();
    test_services_builtin();
    test_side();
    test_side_payload();
    return tap_done();
}
