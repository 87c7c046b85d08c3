/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests for the Apple services table and the service rules */
#include <string.h>

#include "tap.h"
#include "wp/applesvc.h"
#include "wp/classify.h"

static const char table[] = "service apns \"APNs\"\n"
                            "name apns *.push.apple.com\n"
                            "port apns tcp 5223 current identifies\n"
                            "port apns tcp 443 current\n"
                            "service facetime \"FaceTime\"\n"
                            "port facetime udp 3478-3497 legacy identifies\n"
                            "service ids \"IDS\"\n"
                            "name ids *.ess.apple.com\n"
                            "port ids tcp 443 current\n"
                            "service captive \"captive\"\n"
                            "name captive captive.apple.com\n"
                            "port captive tcp 80 current\n"
                            "service apple \"Apple\"\n"
                            "name apple *.apple.com\n"
                            "name apple *.apple\n"
                            "port apple tcp 443 current\n"
                            "cdn edgekey.net \"Akamai\"\n";

static int key(const struct wp_applesvc *a, const char *k)
{
    for (size_t i = 0; i < wp_applesvc_count(a); i++)
        if (strcmp(wp_applesvc_key(a, (int)i), k) == 0)
            return (int)i;
    return -2;
}

static void expect(const struct wp_applesvc *a, const struct wp_apple_facts *in, const char *svc,
                   enum wp_apple_by by, enum wp_apple_doubt doubt, const char *what)
{
    struct wp_apple_verdict v;
    wp_applesvc_decide(a, in, &v);
    TAP_OK(v.svc == (svc ? key(a, svc) : -1) && v.by == by && v.doubt == doubt,
           "%s: %s by %s, doubt %s (got %s by %s, doubt %s)", what, svc ? svc : "none",
           wp_apple_by_name(by) ? wp_apple_by_name(by) : "-",
           wp_apple_doubt_name(doubt) ? wp_apple_doubt_name(doubt) : "-",
           v.svc >= 0 ? wp_applesvc_key(a, v.svc) : "none",
           wp_apple_by_name(v.by) ? wp_apple_by_name(v.by) : "-",
           wp_apple_doubt_name(v.doubt) ? wp_apple_doubt_name(v.doubt) : "-");
}

static struct wp_apple_facts facts(uint8_t proto, uint16_t port, bool srv, bool cli)
{
    struct wp_apple_facts f;
    memset(&f, 0, sizeof(f));
    f.proto = proto;
    f.has_ports = true;
    f.server_port = port;
    f.server_apple = srv;
    f.client_apple = cli;
    f.both_sent = true;
    return f;
}

int main(void)
{
    char err[WP_ERRBUF_SIZE];
    struct wp_applesvc *a;
    if (!TAP_OK(wp_applesvc_parse(&a, table, sizeof(table) - 1, "t", err) == 0, "parses")) {
        printf("#   %s\n", err);
        return tap_done();
    }
    /* names, and names under a CDN suffix */
    TAP_OK(wp_applesvc_by_name(a, "1-courier.push.apple.com") == key(a, "apns"), "wildcard");
    TAP_OK(wp_applesvc_by_name(a, "captive.apple.com") == key(a, "captive"), "exact");
    TAP_OK(wp_applesvc_by_name(a, "captive.apple.com.edgekey.net") == key(a, "captive"),
           "an Apple name under edgekey.net");
    TAP_OK(wp_applesvc_by_name(a, "e7279.dsce9.edgekey.net") == -1,
           "a CDN name alone is not Apple's");
    TAP_OK(wp_applesvc_by_name(a, "edgekey.net") == -1, "the suffix alone is not Apple's");
    TAP_OK(wp_applesvc_by_name(a, "tether.edge.apple") == key(a, "apple"), "the .apple TLD");
    TAP_OK(wp_applesvc_by_name(a, "notapple") == -1, "not a label boundary");

    /* part 2: a DNS name's service versus the port */
    struct wp_apple_facts f = facts(17, 3478, true, false);
    f.dns_name = "courier.push.apple.com";
    expect(a, &f, "facetime", WP_APPLE_BY_PORT, WP_APPLE_DOUBT_NONE,
           "DNS apns name, UDP 3478 to an Apple server");
    f = facts(6, 5223, true, false);
    f.dns_name = "courier.push.apple.com";
    expect(a, &f, "apns", WP_APPLE_BY_DNS, WP_APPLE_DOUBT_NONE, "DNS apns name, TCP 5223");
    f = facts(6, 443, true, false);
    f.dns_name = "query.ess.apple.com";
    expect(a, &f, "ids", WP_APPLE_BY_DNS, WP_APPLE_DOUBT_NONE, "DNS ids name, TCP 443");
    f = facts(17, 3478, false, false);
    f.dns_name = "courier.push.apple.com";
    expect(a, &f, "apple", WP_APPLE_BY_FALLBACK, WP_APPLE_DOUBT_NONE,
           "DNS apns name, UDP 3478, not an Apple server: only the fallback");
    f = facts(17, 3478, true, false);
    f.own_name = "courier.push.apple.com";
    expect(a, &f, "apns", WP_APPLE_BY_NAME, WP_APPLE_DOUBT_NONE, "the flow's own name decides");
    f = facts(1, 0, true, false);
    f.has_ports = false;
    f.dns_name = "query.ess.apple.com";
    expect(a, &f, "apple", WP_APPLE_BY_FALLBACK, WP_APPLE_DOUBT_NONE,
           "no ports: the DNS name decides nothing");

    /* part 3 */
    f = facts(6, 1720, true, true);
    expect(a, &f, NULL, WP_APPLE_BY_NONE, WP_APPLE_DOUBT_BOTH_ENDS, "both ends Apple's");
    f = facts(17, 3478, true, true);
    expect(a, &f, NULL, WP_APPLE_BY_NONE, WP_APPLE_DOUBT_BOTH_ENDS,
           "both ends Apple's, even on an identifying port");
    f = facts(6, 443, true, true);
    f.own_name = "gateway.push.apple.com";
    expect(a, &f, "apns", WP_APPLE_BY_NAME, WP_APPLE_DOUBT_NONE, "both ends, with a name");
    f = facts(17, 19000, true, false);
    f.both_sent = false;
    expect(a, &f, NULL, WP_APPLE_BY_NONE, WP_APPLE_DOUBT_NO_REPLY, "Apple server never answered");
    f = facts(17, 19000, false, true);
    f.both_sent = false;
    expect(a, &f, NULL, WP_APPLE_BY_NONE, WP_APPLE_DOUBT_NO_REPLY, "Apple client, no reply");
    f = facts(17, 19000, false, true);
    expect(a, &f, NULL, WP_APPLE_BY_NONE, WP_APPLE_DOUBT_NONE, "Apple client alone: no service");
    f = facts(6, 5223, true, false);
    f.both_sent = false;
    expect(a, &f, "apns", WP_APPLE_BY_PORT, WP_APPLE_DOUBT_NONE,
           "an identifying port needs no reply");
    f = facts(6, 443, true, false);
    f.server_tags = "apple,apns";
    expect(a, &f, "apns", WP_APPLE_BY_PREFIX, WP_APPLE_DOUBT_NONE, "TCP 443 to a push range");
    f = facts(17, 443, true, false);
    f.server_tags = "apple,apns";
    expect(a, &f, "apple", WP_APPLE_BY_FALLBACK, WP_APPLE_DOUBT_NONE,
           "UDP 443 to a push range: apns does not document it");
    f = facts(6, 443, true, false);
    f.server_tags = "apple";
    expect(a, &f, "apple", WP_APPLE_BY_FALLBACK, WP_APPLE_DOUBT_NONE,
           "the tag 'apple' names no service");

    /* the doubt of a flow, from its state */
    struct wp_flow fl;
    memset(&fl, 0, sizeof(fl));
    fl.bits = WP_FB_APPLE0 | WP_FB_APPLE1;
    fl.pkts[0] = fl.pkts[1] = 1;
    TAP_OK(wp_flow_apple_doubt(&fl) == WP_APPLE_DOUBT_BOTH_ENDS, "flow: both ends");
    fl.bits = WP_FB_APPLE1;
    fl.pkts[1] = 0;
    TAP_OK(wp_flow_apple_doubt(&fl) == WP_APPLE_DOUBT_NO_REPLY, "flow: one way");
    fl.apple_svc = 1;
    TAP_OK(wp_flow_apple_doubt(&fl) == WP_APPLE_DOUBT_NONE, "flow with a service: no doubt");
    fl.apple_svc = 0;
    fl.bits = WP_FB_APPLE1 | WP_FB_APPLE_NAME;
    TAP_OK(wp_flow_apple_doubt(&fl) == WP_APPLE_DOUBT_NONE, "flow with an Apple name: no doubt");
    fl.bits = (uint8_t)(WP_FB_APPLE1 | (WP_APPLE_BY_PREFIX << WP_FB_APPLE_BY_SHIFT));
    TAP_OK(wp_flow_apple_by(&fl) == WP_APPLE_BY_PREFIX, "the rule is kept in the bits");
    TAP_OK(wp_apple_by_name(WP_APPLE_BY_NONE) == NULL && wp_apple_doubt_name(0) == NULL,
           "no names for none");

    /* a bad cdn record */
    struct wp_applesvc *b;
    static const char bad[] = "cdn *.edgekey.net \"x\"\n";
    TAP_OK(wp_applesvc_parse(&b, bad, sizeof(bad) - 1, "bad", err) != 0 &&
               strstr(err, "bad:1:") != NULL,
           "cdn suffix with a wildcard is refused");
    wp_applesvc_free(a);

    /* the built-in table parses and has the new labels */
    if (TAP_OK(wp_applesvc_builtin(&a, err) == 0, "built-in table parses")) {
        static const char *const names[][2] = {
            {"gspe35-ssl.ls.apple.com", "maps"},
            {"gs-loc.apple.com", "maps"},
            {"iphone-ld.apple.com", "maps"},
            {"cl4.apple.com", "maps"},
            {"captive.apple.com", "captive"},
            {"amp-api.music.apple.com", "music"},
            {"configuration.apple.com", "config"},
            {"gsas.apple.com", "account"},
            {"tether.edge.apple", "apple"},
            {"captive.g.aaplimg.com", "cdn"},
            {"gsa.apple.com.akadns.net", "account"},
            {"play.itunes.apple.com.edgesuite.net", "store"},
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            TAP_OK(wp_applesvc_by_name(a, names[i][0]) == key(a, names[i][1]), "%s is %s",
                   names[i][0], names[i][1]);
        TAP_OK(wp_applesvc_by_port(a, 6, 993) == key(a, "icloud") &&
                   wp_applesvc_by_port(a, 6, 587) == key(a, "icloud"),
               "993 and 587 identify icloud");
        wp_applesvc_free(a);
    }
    return tap_done();
}
