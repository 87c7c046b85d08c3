/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: the Host of an HTTP/1.x request
 *
 * Looks at the first bytes a client sent: a request line with a known
 * method, then header lines up to the empty line. Only complete lines (ended
 * by LF) are trusted, so a capture cut inside the Host line yields nothing
 * rather than a shortened name. Offsets are compared with the length, never
 * pointers; nothing is allocated.
 *
 * References: RFC 9112 3 (request line), 2.2 (bare LF may be accepted as a
 * line terminator), 5 (field lines, OWS), RFC 9110 7.2 (Host = uri-host
 * [":" port]), RFC 3986 3.2.2 (IP-literal in brackets).
 */

#include <string.h>

#include "wp/names_parse.h"

static const char *const methods[] = {
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
};

/* Offset of the first LF at or after `from`, or `len` when there is none. */
static size_t find_lf(const uint8_t *d, size_t len, size_t from)
{
    const uint8_t *p = from < len ? memchr(d + from, '\n', len - from) : NULL;
    return p != NULL ? (size_t)(p - d) : len;
}

/* True when s[0..n) contains the string `pat`. */
static bool contains(const uint8_t *s, size_t n, const char *pat)
{
    size_t m = strlen(pat);
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (memcmp(s + i, pat, m) == 0)
            return true;
    return false;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Present the Host field value v[0..n) (already trimmed) into host. */
static bool host_value(const uint8_t *v, size_t n, char *host, size_t cap)
{
    if (n > 0 && v[0] == '[') {
        const uint8_t *close = memchr(v, ']', n);
        if (close == NULL)
            return false;
        n = (size_t)(close - v) + 1; /* "[...]", the port after it dropped */
        if (n < 3)
            return false;
        return wp_name_present(host, cap, v, n, "[]:", NULL) > 0;
    }
    const uint8_t *colon = memchr(v, ':', n);
    if (colon != NULL)
        n = (size_t)(colon - v);
    if (n == 0)
        return false;
    return wp_name_present(host, cap, v, n, NULL, NULL) > 0;
}

bool wp_http_host(const uint8_t *data, size_t len, char *host, size_t cap)
{
    size_t i, m, lf, pos;

    if (host != NULL && cap > 0)
        host[0] = '\0';
    if (data == NULL || host == NULL || cap < 2)
        return false;

    /* Request line: method SP request-target SP HTTP/1.x (CR)LF */
    for (i = 0; i < WP_ARRAY_LEN(methods); i++) {
        m = strlen(methods[i]);
        if (len > m && memcmp(data, methods[i], m) == 0 && data[m] == ' ')
            break;
    }
    if (i == WP_ARRAY_LEN(methods))
        return false;
    lf = find_lf(data, len, 0);
    if (lf == len || !contains(data, lf, " HTTP/1."))
        return false;

    /* Header field lines up to the empty line. */
    for (pos = lf + 1; pos < len; pos = lf + 1) {
        lf = find_lf(data, len, pos);
        if (lf == len)
            return false; /* incomplete line: the capture or segment ends here */
        size_t end = lf;
        if (end > pos && data[end - 1] == '\r')
            end--;
        if (end == pos)
            return false; /* the empty line: no Host */
        const uint8_t *line = data + pos;
        size_t n = end - pos;
        if (is_ows(line[0]))
            continue; /* obs-fold continuation of the previous field */
        const uint8_t *colon = memchr(line, ':', n);
        if (colon == NULL)
            continue;
        size_t nl = (size_t)(colon - line);
        while (nl > 0 && is_ows(line[nl - 1]))
            nl--;
        if (nl != 4 || lower(line[0]) != 'h' || lower(line[1]) != 'o' || lower(line[2]) != 's' ||
            lower(line[3]) != 't')
            continue;
        size_t vs = (size_t)(colon - line) + 1, ve = n;
        while (vs < ve && is_ows(line[vs]))
            vs++;
        while (ve > vs && is_ows(line[ve - 1]))
            ve--;
        if (!host_value(line + vs, ve - vs, host, cap)) {
            host[0] = '\0';
            return false;
        }
        return true;
    }
    return false;
}
