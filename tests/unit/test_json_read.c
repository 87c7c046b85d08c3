/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the strict JSON reader (json_read.h), values by hand */

#include <string.h>

#include "tap.h"
#include "wp/json_read.h"

/* Parse s whole; the tree or NULL (with the message in err). */
static struct wp_json *parse(const char *s, char *err)
{
    struct wp_json *j = NULL;
    if (wp_json_parse(&j, s, strlen(s), NULL, err) != 0)
        return NULL;
    return j;
}

static bool refused(const char *s, const char *why)
{
    char err[WP_ERRBUF_SIZE] = "";
    struct wp_json *j = parse(s, err);
    wp_json_free(j);
    return j == NULL && strstr(err, why) != NULL;
}

static void values(void)
{
    char err[WP_ERRBUF_SIZE];
    struct wp_json *j = parse(" {\"a\": [1, -2, 3.5e2, true, false, null], \"s\": \"x\\ty\","
                              " \"big\": 18446744073709551615, \"e\": {}} ",
                              err);
    if (!TAP_OK(j != NULL, "an object with every kind of value parses"))
        return;
    const struct wp_jval *r = wp_json_root(j);
    TAP_EQ(r->type, WP_J_OBJ, "the root is an object");
    TAP_EQ(r->n, 4, "with 4 members");
    const struct wp_jval *a = wp_json_get(r, "a");
    TAP_OK(a != NULL && a->type == WP_J_ARR && a->n == 6, "a is an array of 6");
    uint64_t u = 0;
    int64_t i = 0;
    double d = 0;
    TAP_OK(wp_json_u64(&a->items[0], &u) && u == 1, "1 is a count");
    TAP_OK(!wp_json_u64(&a->items[1], &u), "-2 is not a count");
    TAP_OK(wp_json_i64(&a->items[1], &i) && i == -2, "-2 is a signed integer");
    TAP_OK(!wp_json_u64(&a->items[2], &u), "3.5e2 is not a count");
    TAP_OK(wp_json_f64(&a->items[2], &d) && d == 350.0, "3.5e2 is 350");
    TAP_OK(a->items[3].type == WP_J_BOOL && a->items[3].b, "true");
    TAP_OK(a->items[4].type == WP_J_BOOL && !a->items[4].b, "false");
    TAP_OK(a->items[5].type == WP_J_NULL, "null");
    TAP_OK(strcmp(wp_json_str(wp_json_get(r, "s")), "x\ty") == 0, "\\t unescaped");
    TAP_OK(wp_json_u64(wp_json_get(r, "big"), &u) && u == UINT64_MAX, "2^64-1 is a count");
    TAP_OK(wp_json_get(r, "e") != NULL && wp_json_get(r, "e")->n == 0, "an empty object");
    TAP_OK(wp_json_get(r, "missing") == NULL, "a missing member is NULL");
    TAP_OK(wp_json_get(a, "a") == NULL, "members of a non-object are NULL");
    TAP_OK(wp_json_str(a) == NULL, "an array has no string");
    wp_json_free(j);

    j = parse("18446744073709551616", err);
    TAP_OK(j != NULL && !wp_json_u64(wp_json_root(j), &u), "2^64 parses but is not a count");
    wp_json_free(j);
}

static void strings(void)
{
    char err[WP_ERRBUF_SIZE];
    /* U+00E9, U+20AC and U+1F600 (a surrogate pair), escaped and raw */
    struct wp_json *j = parse("[\"\\u00e9\\u20ac\\ud83d\\ude00\", \"\xc3\xa9\xe2\x82\xac\","
                              " \"\\\"\\\\\\/\\b\\f\\n\\r\"]",
                              err);
    if (!TAP_OK(j != NULL, "escapes and UTF-8 parse (%s)", j ? "" : err))
        return;
    const struct wp_jval *r = wp_json_root(j);
    TAP_OK(strcmp(r->items[0].s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0,
           "\\u escapes become UTF-8, the pair one code point");
    TAP_EQ(r->items[0].len, 9, "9 bytes");
    TAP_OK(strcmp(r->items[1].s, "\xc3\xa9\xe2\x82\xac") == 0, "raw UTF-8 is kept");
    TAP_OK(strcmp(r->items[2].s, "\"\\/\b\f\n\r") == 0, "the short escapes");
    wp_json_free(j);
    TAP_OK(refused("\"\\ud83d\"", "lone surrogate"), "a lone high surrogate is refused");
    TAP_OK(refused("\"\\ude00\"", "lone surrogate"), "a lone low surrogate is refused");
    TAP_OK(refused("\"\\u0000\"", "U+0000"), "U+0000 is refused (strings are C strings)");
    TAP_OK(refused("\"a\nb\"", "control character"), "a raw newline in a string is refused");
    TAP_OK(refused("\"\xc3\"", "invalid UTF-8"), "a cut UTF-8 sequence is refused");
    TAP_OK(refused("\"\xc0\xaf\"", "invalid UTF-8"), "an overlong sequence is refused");
    TAP_OK(refused("\"\xed\xa0\x80\"", "invalid UTF-8"), "a raw surrogate is refused");
    TAP_OK(refused("\"\\x41\"", "bad escape"), "an unknown escape is refused");
    TAP_OK(refused("\"\\u12G4\"", "bad \\u"), "a bad hex digit is refused");
    TAP_OK(refused("\"abc", "closing quote"), "an unterminated string is refused");
}

static void refusals(void)
{
    TAP_OK(refused("", "end of input"), "empty input");
    TAP_OK(refused("{\"a\": 1,}", "member name"), "a trailing comma in an object");
    TAP_OK(refused("[1,]", "unexpected"), "a trailing comma in an array");
    TAP_OK(refused("{\"a\" 1}", "':'"), "a missing colon");
    TAP_OK(refused("{\"a\": 1, \"a\": 2}", "duplicate"), "a duplicate member");
    TAP_OK(refused("[1] [2]", "more after"), "two values where one is asked for");
    TAP_OK(refused("01", "more after"), "a leading zero");
    TAP_OK(refused("1.", "bad number"), "a fraction without digits");
    TAP_OK(refused("-", "bad number"), "a lone minus");
    TAP_OK(refused("1e", "bad number"), "an exponent without digits");
    TAP_OK(refused("tru", "unexpected"), "a cut literal");
    TAP_OK(refused("NaN", "unexpected"), "NaN");
    char deep[200];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    TAP_OK(refused(deep, "deeper than 64"), "65 nested arrays");
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    char err[WP_ERRBUF_SIZE];
    struct wp_json *j = parse(deep, err);
    TAP_OK(j != NULL, "64 nested arrays parse");
    wp_json_free(j);
    err[0] = '\0';
    TAP_OK(parse("{\n  \"a\": x}", err) == NULL && strstr(err, "line 2, column 8") != NULL,
           "the message names line and column (%s)", err);
}

static void stream(void)
{
    const char *s = "{\"n\": 1}\n{\"n\": 2}{\"n\": 3}  ";
    size_t len = strlen(s), off = 0, used;
    uint64_t want = 1;
    char err[WP_ERRBUF_SIZE];
    while (off < len) {
        struct wp_json *j;
        if (!TAP_OK(wp_json_parse(&j, s + off, len - off, &used, err) == 0, "value %llu parses",
                    (unsigned long long)want))
            return;
        uint64_t n = 0;
        TAP_OK(wp_json_u64(wp_json_get(wp_json_root(j), "n"), &n) && n == want,
               "value %llu in order", (unsigned long long)want);
        wp_json_free(j);
        off += used;
        want++;
    }
    TAP_EQ(want, 4, "three values read one by one");
    TAP_EQ(off, len, "trailing white space taken with the last value");
}

int main(void)
{
    values();
    strings();
    refusals();
    stream();
    return tap_done();
}
