/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: escaping of text for JSON, CSV, terminals and HTML
 *
 * Everything printed that did not come from whichports itself (file names,
 * interface names, and later names taken from packets) passes through one
 * of these functions. */

#include <string.h>

#include "wp/escape.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0;
        if (c == 0xf4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

/* True for the C1 control U+0080..U+009F (encoded c2 80..c2 9f). */
static bool is_c1(const unsigned char *s, size_t n)
{
    return n == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

/* Length of the prefix of s made of printable ASCII other than " and \
 * (and, for a script, < > & '). */
static size_t plain_run(const unsigned char *s, bool script)
{
    size_t n = 0;
    while (s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"' && s[n] != '\\' &&
           !(script && (s[n] == '<' || s[n] == '>' || s[n] == '&' || s[n] == '\'')))
        n++;
    return n;
}

/* A JSON string; `script`: also safe inside an HTML <script> element (<,
 * >, &, ' and U+2028/U+2029 as \uXXXX). */
static void json_escape(FILE *fp, const char *str, bool script)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', fp);
    while (*s) {
        size_t run = plain_run(s, script);
        if (run > 0) {
            fwrite(s, 1, run, fp);
            s += run;
            continue;
        }
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', fp);
            fputc((int)c, fp);
            s++;
        } else if (script && (c == '<' || c == '>' || c == '&' || c == '\'')) {
            fprintf(fp, "\\u%04x", c);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': fputs("\\n", fp); break;
            case '\r': fputs("\\r", fp); break;
            case '\t': fputs("\\t", fp); break;
            case '\b': fputs("\\b", fp); break;
            case '\f': fputs("\\f", fp); break;
            default: fprintf(fp, "\\u%04x", c); break;
            }
            s++;
        } else if (c < 0x80) {
            fputc((int)c, fp);
            s++;
        } else {
            size_t n = utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", fp);
                s++;
            } else if (is_c1(s, n)) {
                fprintf(fp, "\\u%04x", (unsigned)s[1]);
                s += n;
            } else if (script && n == 3 && s[0] == 0xe2 && s[1] == 0x80 &&
                       (s[2] == 0xa8 || s[2] == 0xa9)) {
                fprintf(fp, "\\u%04x", s[2] == 0xa8 ? 0x2028u : 0x2029u);
                s += n;
            } else {
                fwrite(s, 1, n, fp);
                s += n;
            }
        }
    }
    fputc('"', fp);
}

void wp_json_string(FILE *fp, const char *str)
{
    json_escape(fp, str, false);
}

void wp_csv_field(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    bool quote = s[0] == ' ' || s[0] == '\t' || strpbrk(str, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', fp);
    while (*s) {
        unsigned c = *s;
        if (c == '"') {
            fputs("\"\"", fp);
            s++;
        } else if (c == '\r' || c == '\n') {
            fputc((int)c, fp);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            fputc('?', fp);
            s++;
        } else if (c < 0x80) {
            fputc((int)c, fp);
            s++;
        } else {
            size_t n = utf8_len(s);
            if (n == 0 || is_c1(s, n)) {
                fputc('?', fp);
                s += n ? n : 1;
            } else {
                fwrite(s, 1, n, fp);
                s += n;
            }
        }
    }
    if (quote)
        fputc('"', fp);
}

char *wp_text_sanitize(char *dst, size_t cap, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t o = 0;
    if (cap == 0)
        return dst;
    while (*s && o + 1 < cap) {
        unsigned c = *s;
        if (c < 0x20 || c == 0x7f) {
            dst[o++] = '?';
            s++;
        } else if (c < 0x80) {
            dst[o++] = (char)c;
            s++;
        } else {
            size_t n = utf8_len(s);
            if (n == 0 || is_c1(s, n)) {
                dst[o++] = '?';
                s += n ? n : 1;
            } else if (o + n < cap) {
                memcpy(dst + o, s, n);
                o += n;
                s += n;
            } else {
                break;
            }
        }
    }
    dst[o] = '\0';
    return dst;
}

void wp_text_string(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        if (c < 0x20 || c == 0x7f) {
            fputc('?', fp);
            s++;
        } else if (c < 0x80) {
            fputc((int)c, fp);
            s++;
        } else {
            size_t n = utf8_len(s);
            if (n == 0 || is_c1(s, n)) {
                fputc('?', fp);
                s += n ? n : 1;
            } else {
                fwrite(s, 1, n, fp);
                s += n;
            }
        }
    }
}

/* The next character of s for HTML: its length in *n, and false when it
 * must be replaced by U+FFFD (invalid UTF-8, C0 other than tab and line
 * feed, DEL, C1). */
static bool html_char(const unsigned char *s, size_t *n)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *n = 1;
        return !((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f);
    }
    size_t k = utf8_len(s);
    *n = k ? k : 1;
    return k != 0 && !is_c1(s, k);
}

static const char html_fffd[] = "\xef\xbf\xbd";

void wp_html_text(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        size_t n;
        bool ok = html_char(s, &n);
        if (!ok)
            fputs(html_fffd, fp);
        else if (*s == '&')
            fputs("&amp;", fp);
        else if (*s == '<')
            fputs("&lt;", fp);
        else if (*s == '>')
            fputs("&gt;", fp);
        else if (*s == '"')
            fputs("&quot;", fp);
        else if (*s == '\'')
            fputs("&#39;", fp);
        else
            fwrite(s, 1, n, fp);
        s += n;
    }
}

/* True for the ASCII characters an attribute value keeps as they are. */
static bool attr_plain(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == ',' || c == '.' || c == '-' || c == '_' || c == ':' || c == '/';
}

void wp_html_attr(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        size_t n;
        bool ok = html_char(s, &n);
        if (!ok)
            fputs(html_fffd, fp);
        else if (n > 1 || attr_plain(*s))
            fwrite(s, 1, n, fp);
        else
            fprintf(fp, "&#x%02x;", (unsigned)*s);
        s += n;
    }
}

void wp_script_json_string(FILE *fp, const char *str)
{
    json_escape(fp, str, true);
}
