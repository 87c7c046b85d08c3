/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of JSON, CSV and terminal escaping */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/escape.h"

typedef void (*writer_fn)(FILE *fp, const char *s);

/* Run `fn` on `in` into a memory stream; return the bytes written (caller
 * frees) and their number in *len. */
static char *capture(writer_fn fn, const char *in, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&buf, &n);
    if (fp == NULL)
        return NULL;
    fn(fp, in);
    if (fclose(fp) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Print a byte string with non-printables as \xNN, for diagnostics. */
static void show(const char *label, const char *s, size_t n)
{
    printf("#   %s: \"", label);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("\"\n");
}

/* The output of fn(in) must be exactly `want`. */
static void expect(writer_fn fn, const char *fname, const char *in, const char *want,
                   const char *what)
{
    size_t n = 0;
    char *got = capture(fn, in, &n);
    size_t wl = strlen(want);
    bool ok = got != NULL && n == wl && memcmp(got, want, wl) == 0;
    if (!TAP_OK(ok, "%s: %s", fname, what)) {
        if (got != NULL)
            show("got", got, n);
        show("want", want, wl);
    }
    free(got);
}

/* A minimal RFC 8259 string validator: one string token, nothing after it,
 * no raw control characters, only the defined escapes, \u with 4 hex
 * digits, and valid UTF-8 elsewhere. */
static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static size_t utf8_valid_len(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    unsigned cp = c & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static bool json_string_valid(const char *s, size_t n)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return false;
    size_t i = 1;
    while (i < n - 1) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20)
            return false;
        if (c == '"')
            return false; /* unescaped quote before the end */
        if (c == '\\') {
            if (i + 1 >= n - 1)
                return false;
            char e = s[i + 1];
            if (e == 'u') {
                if (i + 5 > n - 2)
                    return false;
                for (size_t k = 2; k < 6; k++)
                    if (!is_hex(s[i + k]))
                        return false;
                i += 6;
            } else if (e != '\0' && strchr("\"\\/bfnrt", e) != NULL) {
                i += 2;
            } else {
                return false;
            }
            continue;
        }
        size_t l = utf8_valid_len((const unsigned char *)s + i, n - 1 - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

static void expect_json(const char *in, const char *want, const char *what)
{
    expect(wp_json_string, "json", in, want, what);
    size_t n = 0;
    char *got = capture(wp_json_string, in, &n);
    TAP_OK(got != NULL && json_string_valid(got, n), "json: %s: output is a valid JSON string",
           what);
    free(got);
}

static void test_json(void)
{
    expect_json("", "\"\"", "empty string");
    expect_json("plain text 123", "\"plain text 123\"", "plain ASCII unchanged");
    expect_json("a\"b", "\"a\\\"b\"", "double quote escaped");
    expect_json("a\\b", "\"a\\\\b\"", "backslash escaped");
    expect_json("/", "\"/\"", "solidus not escaped");
    expect_json("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"", "short escapes \\n \\r \\t \\b \\f");
    expect_json("\x01", "\"\\u0001\"", "U+0001 as \\u0001");
    expect_json("\x1f", "\"\\u001f\"", "U+001F as \\u001f");
    expect_json("\x0b", "\"\\u000b\"", "vertical tab as \\u000b");
    expect_json("x\x7fy", "\"x\\u007fy\"", "DEL as \\u007f");
    expect_json(" ~", "\" ~\"", "0x20 and 0x7e printed");
    expect_json("caf\xc3\xa9", "\"caf\xc3\xa9\"", "2-byte UTF-8 (e-acute) passed through");
    expect_json("\xe2\x82\xac", "\"\xe2\x82\xac\"", "3-byte UTF-8 (euro) passed through");
    expect_json("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"", "4-byte UTF-8 (emoji) passed through");
    expect_json("\xc2\xa0", "\"\xc2\xa0\"", "U+00A0 (first after C1) passed through");
    expect_json("\xef\xbf\xbd", "\"\xef\xbf\xbd\"", "U+FFFD itself passed through");
    expect_json("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"", "U+10FFFF passed through");
    expect_json("a\xff"
                "b",
                "\"a\\ufffdb\"", "lone 0xff -> \\ufffd");
    expect_json("\x80", "\"\\ufffd\"", "lone continuation byte -> \\ufffd");
    /* truncated 3-byte sequence followed by ASCII: each stray byte replaced */
    expect_json("\xe2\x82"
                "A",
                "\"\\ufffd\\ufffdA\"", "truncated sequence e2 82 -> \\ufffd x2");
    expect_json("\xe2\x82", "\"\\ufffd\\ufffd\"", "truncated sequence at end of string");
    expect_json("\xc3", "\"\\ufffd\"", "lead byte at end of string");
    expect_json("\xc0\x80", "\"\\ufffd\\ufffd\"", "overlong c0 80 -> \\ufffd x2");
    expect_json("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"", "overlong e0 80 af -> \\ufffd x3");
    expect_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "surrogate ed a0 80 -> \\ufffd x3");
    expect_json("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"",
                "above U+10FFFF -> \\ufffd x4");
    expect_json("\xc2\x9b", "\"\\u009b\"", "C1 CSI (c2 9b) -> \\u009b");
    expect_json("\xc2\x80", "\"\\u0080\"", "C1 U+0080 -> \\u0080");
    expect_json("\xc2\x9f", "\"\\u009f\"", "C1 U+009F -> \\u009f");
    expect_json("\x1b[2J", "\"\\u001b[2J\"", "ESC [ 2 J -> \\u001b[2J");
    expect_json("\x1b]0;title\x07", "\"\\u001b]0;title\\u0007\"", "OSC title sequence escaped");

    /* a long name, with escapes, copied exactly */
    char *big = malloc(10001);
    char *want = malloc(2 * 10000 + 3);
    if (big == NULL || want == NULL) {
        TAP_OK(0, "malloc");
        free(big);
        free(want);
        return;
    }
    size_t w = 0;
    want[w++] = '"';
    for (size_t i = 0; i < 10000; i++) {
        if (i % 100 == 99) {
            big[i] = '"';
            want[w++] = '\\';
            want[w++] = '"';
        } else {
            big[i] = (char)('a' + (char)(i % 26));
            want[w++] = big[i];
        }
    }
    big[10000] = '\0';
    want[w++] = '"';
    want[w] = '\0';
    expect_json(big, want, "10000-byte name with 100 quotes");
    free(big);
    free(want);
}

static void test_csv(void)
{
    expect(wp_csv_field, "csv", "", "", "empty field");
    expect(wp_csv_field, "csv", "plain", "plain", "plain field unquoted");
    expect(wp_csv_field, "csv", "a b", "a b", "inner space not quoted");
    expect(wp_csv_field, "csv", "a,b", "\"a,b\"", "comma -> quoted");
    expect(wp_csv_field, "csv", "say \"hi\"", "\"say \"\"hi\"\"\"",
           "quote -> doubled, whole field quoted");
    expect(wp_csv_field, "csv", "\"", "\"\"\"\"", "lone quote -> \"\"\"\"");
    expect(wp_csv_field, "csv", "a\nb", "\"a\nb\"", "LF kept inside quotes");
    expect(wp_csv_field, "csv", "a\r\nb", "\"a\r\nb\"", "CR LF kept inside quotes");
    expect(wp_csv_field, "csv", " lead", "\" lead\"", "leading space -> quoted");
    expect(wp_csv_field, "csv", "\tlead", "\"?lead\"", "leading tab -> quoted, tab -> '?'");
    expect(wp_csv_field, "csv", "trail ", "trail ", "trailing space not quoted");
    expect(wp_csv_field, "csv",
           "a\tb\x01"
           "c\x7f",
           "a?b?c?", "tab, U+0001, DEL -> '?'");
    expect(wp_csv_field, "csv", "\x1b[2J", "?[2J", "ESC -> '?'");
    expect(wp_csv_field, "csv", "x\xc2\x9by", "x?y", "C1 CSI -> one '?'");
    expect(wp_csv_field, "csv", "x\xffy", "x?y", "invalid byte -> '?'");
    expect(wp_csv_field, "csv", "caf\xc3\xa9", "caf\xc3\xa9", "valid UTF-8 kept");
    expect(wp_csv_field, "csv", "\xe2\x82\xac,1", "\"\xe2\x82\xac,1\"", "UTF-8 and comma");
}

static void test_text_string(void)
{
    expect(wp_text_string, "text", "", "", "empty");
    expect(wp_text_string, "text", "en0 \"x\" \\", "en0 \"x\" \\", "printable ASCII kept");
    expect(wp_text_string, "text", "\x1b[2J", "?[2J", "ESC -> '?'");
    expect(wp_text_string, "text", "a\nb\rc\td", "a?b?c?d", "LF CR TAB -> '?'");
    expect(wp_text_string, "text", "\x7f", "?", "DEL -> '?'");
    expect(wp_text_string, "text",
           "x\xc2\x9b"
           "2J",
           "x?2J", "C1 CSI -> one '?'");
    expect(wp_text_string, "text", "\xc2\x85", "?", "C1 NEL -> '?'");
    expect(wp_text_string, "text",
           "a\xff"
           "b",
           "a?b", "lone 0xff -> '?'");
    expect(wp_text_string, "text", "\xc0\x80", "??", "overlong c0 80 -> two '?'");
    expect(wp_text_string, "text", "\xed\xa0\x80", "???", "surrogate -> three '?'");
    expect(wp_text_string, "text", "\xe2\x82", "??", "truncated sequence -> two '?'");
    expect(wp_text_string, "text", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "valid 2-, 3-, 4-byte UTF-8 kept");
}

/* wp_text_sanitize into a buffer of capacity `cap` (with a guard after it). */
static void expect_sanitize(const char *in, size_t cap, const char *want, const char *what)
{
    char buf[64];
    memset(buf, 0x55, sizeof(buf));
    char *r = wp_text_sanitize(buf, cap, in);
    size_t wl = strlen(want);
    bool ok = r == buf && memchr(buf, '\0', cap) != NULL && strlen(buf) == wl &&
              memcmp(buf, want, wl) == 0;
    if (!TAP_OK(ok, "sanitize cap %zu: %s", cap, what)) {
        size_t n = memchr(buf, '\0', cap) != NULL ? strlen(buf) : cap;
        show("got", buf, n);
        show("want", want, wl);
    }
    bool guard = true;
    for (size_t i = cap; i < sizeof(buf); i++)
        guard = guard && (unsigned char)buf[i] == 0x55;
    TAP_OK(guard, "sanitize cap %zu: %s: nothing written past the capacity", cap, what);
}

static void test_sanitize(void)
{
    expect_sanitize("hello", 32, "hello", "fits");
    expect_sanitize("hello", 6, "hello", "exactly fits with the NUL");
    expect_sanitize("hello", 5, "hell", "one short: truncated, NUL terminated");
    expect_sanitize("hello", 1, "", "capacity 1: empty string");
    expect_sanitize("\x1b[2J\xc2\x9b\xff", 32, "?[2J??", "ESC, C1, invalid -> '?'");
    expect_sanitize("caf\xc3\xa9", 32, "caf\xc3\xa9", "valid UTF-8 kept");
    /* "ab" + euro (3 bytes): needs 6 bytes with the NUL */
    expect_sanitize("ab\xe2\x82\xac", 6, "ab\xe2\x82\xac", "3-byte sequence just fits");
    expect_sanitize("ab\xe2\x82\xac", 5, "ab", "3-byte sequence not split (cap 5)");
    expect_sanitize("ab\xe2\x82\xac", 4, "ab", "3-byte sequence not split (cap 4)");
    expect_sanitize("ab\xe2\x82\xac"
                    "cd",
                    5, "ab", "stops at the sequence, not after it");
    expect_sanitize("\xf0\x9f\x98\x80", 4, "", "4-byte sequence in cap 4 -> empty");
    expect_sanitize("\xf0\x9f\x98\x80", 5, "\xf0\x9f\x98\x80", "4-byte sequence in cap 5");
    expect_sanitize("x\xc3\xa9", 3, "x", "2-byte sequence not split (cap 3)");
    expect_sanitize("\xff\xff\xff", 3, "??", "replacements truncated too");

    {
        char one = 'Z';
        char *r = wp_text_sanitize(&one, 0, "abc");
        TAP_OK(r == &one && one == 'Z', "sanitize cap 0: nothing written");
    }

    /* a 10000-byte name of 2-byte characters into a 255-byte buffer */
    char *big = malloc(10001);
    char *dst = malloc(300);
    if (big == NULL || dst == NULL) {
        TAP_OK(0, "malloc");
        free(big);
        free(dst);
        return;
    }
    for (size_t i = 0; i < 10000; i += 2) {
        big[i] = (char)0xc3;
        big[i + 1] = (char)0xa9;
    }
    big[10000] = '\0';
    memset(dst, 0x55, 300);
    wp_text_sanitize(dst, 255, big);
    /* 254 bytes are available before the NUL: 127 whole characters */
    TAP_EQ(strlen(dst), 254, "long name: 254 bytes kept in a 255-byte buffer");
    bool pairs = true;
    for (size_t i = 0; i + 1 < 254; i += 2)
        pairs = pairs && (unsigned char)dst[i] == 0xc3 && (unsigned char)dst[i + 1] == 0xa9;
    TAP_OK(pairs, "long name: only whole characters");
    TAP_OK((unsigned char)dst[255] == 0x55, "long name: nothing past the buffer");
    memset(dst, 0x55, 300);
    wp_text_sanitize(dst, 256, big);
    TAP_EQ(strlen(dst), 254, "long name: 255 free bytes hold 127 characters, not half of one");
    TAP_OK((unsigned char)dst[256] == 0x55, "long name: nothing past the 256-byte buffer");

    /* the same name through the stream writers */
    size_t n = 0;
    char *got = capture(wp_text_string, big, &n);
    TAP_OK(got != NULL && n == 10000 && memcmp(got, big, 10000) == 0,
           "long name: wp_text_string copies 10000 bytes");
    free(got);
    got = capture(wp_csv_field, big, &n);
    TAP_OK(got != NULL && n == 10000 && memcmp(got, big, 10000) == 0,
           "long name: wp_csv_field copies 10000 bytes");
    free(got);
    got = capture(wp_json_string, big, &n);
    TAP_OK(got != NULL && n == 10002 && got[0] == '"' && got[10001] == '"' &&
               memcmp(got + 1, big, 10000) == 0,
           "long name: wp_json_string copies 10000 bytes in quotes");
    free(got);
    free(big);
    free(dst);
}

/* Every '&' in s starts a character reference: &name; or &#xHH..; */
static bool refs_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '&')
            continue;
        size_t j = i + 1;
        if (j < n && s[j] == '#') {
            j++;
            if (j < n && s[j] == 'x')
                j++;
        }
        size_t k = j;
        while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9')))
            k++;
        if (k == j || k >= n || s[k] != ';')
            return false;
    }
    return true;
}

/* True when s[0..n) is valid UTF-8 throughout. */
static bool all_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_valid_len((const unsigned char *)s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* Hostile inputs: none of the markup characters survives, references are
 * well formed and the output is valid UTF-8. */
static void test_html_hostile(void)
{
    static const char *const hostile[] = {
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "'onmouseover='alert(1)",
        "</svg><script>x</script>",
        "javascript:alert(1)",
        "a\x01\x1b[31m\x7f\xc2\x85z",
        "\xff\xfe<\xc3",
        "\xe2\x80\xa8</script><!--",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
    };
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        size_t n, m, k;
        char *t = capture(wp_html_text, hostile[i], &n);
        char *a = capture(wp_html_attr, hostile[i], &m);
        char *j = capture(wp_script_json_string, hostile[i], &k);
        bool tok = t && memchr(t, '<', n) == NULL && memchr(t, '>', n) == NULL &&
                   memchr(t, '"', n) == NULL && memchr(t, '\'', n) == NULL && refs_valid(t, n) &&
                   all_utf8(t, n);
        bool aok = a && memchr(a, '<', m) == NULL && memchr(a, '>', m) == NULL &&
                   memchr(a, '"', m) == NULL && memchr(a, '\'', m) == NULL &&
                   memchr(a, '=', m) == NULL && memchr(a, '`', m) == NULL && refs_valid(a, m) &&
                   all_utf8(a, m);
        bool jok = j && json_string_valid(j, k) && memchr(j, '<', k) == NULL &&
                   memchr(j, '>', k) == NULL && memchr(j, '&', k) == NULL &&
                   memchr(j, '\'', k) == NULL && strstr(j, "\xe2\x80\xa8") == NULL;
        TAP_OK(tok, "html text: hostile input %zu has no markup", i);
        TAP_OK(aok, "html attr: hostile input %zu has no markup", i);
        TAP_OK(jok, "script json: hostile input %zu is valid JSON without < > & '", i);
        free(t);
        free(a);
        free(j);
    }
}

static void test_html(void)
{
    expect(wp_html_text, "html_text", "", "", "empty");
    expect(wp_html_text, "html_text", "www.apple.com", "www.apple.com", "plain name kept");
    expect(wp_html_text, "html_text", "<script>a&b</script>",
           "&lt;script&gt;a&amp;b&lt;/script&gt;", "markup escaped");
    expect(wp_html_text, "html_text", "\"x'", "&quot;x&#39;", "quotes escaped");
    expect(wp_html_text, "html_text", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9", "UTF-8 kept");
    expect(wp_html_text, "html_text",
           "a\x1b"
           "b\xff"
           "c",
           "a\xef\xbf\xbd"
           "b\xef\xbf\xbd"
           "c",
           "control and invalid byte become U+FFFD");
    expect(wp_html_text, "html_text", "a\tb\nc", "a\tb\nc", "tab and line feed kept");
    expect(wp_html_attr, "html_attr", "tcp.port == 443", "tcp.port &#x3d;&#x3d; 443", "= escaped");
    expect(wp_html_attr, "html_attr", "a\"b'c<d>e`f", "a&#x22;b&#x27;c&#x3c;d&#x3e;e&#x60;f",
           "quotes, markup and backtick escaped");
    expect(wp_html_attr, "html_attr", "javascript:x(1)", "javascript:x&#x28;1&#x29;",
           "parentheses escaped");
    expect(wp_script_json_string, "script_json", "</script><!--",
           "\"\\u003c/script\\u003e\\u003c!--\"", "script end and comment escaped");
    expect(wp_script_json_string, "script_json", "a&'\"\\", "\"a\\u0026\\u0027\\\"\\\\\"",
           "& ' \" \\ escaped");
    expect(wp_script_json_string, "script_json", "x\xe2\x80\xa8y\xe2\x80\xa9z",
           "\"x\\u2028y\\u2029z\"", "line and paragraph separators escaped");
    expect(wp_script_json_string, "script_json", "\xff", "\"\\ufffd\"", "invalid byte");
    test_html_hostile();
}

int main(void)
{
    test_json();
    test_csv();
    test_text_string();
    test_sanitize();
    test_html();
    return tap_done();
}
