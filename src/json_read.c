/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: a strict JSON reader (RFC 8259) into a tree, for --merge */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/json_read.h"

#define MAX_DEPTH 64
#define BLOCK     (64 * 1024)

struct block {
    struct block *next;
    size_t used, size;
    max_align_t data[];
};

struct wp_json {
    struct block *blocks;
    struct wp_jval root;
};

struct parser {
    const char *p, *start, *end;
    struct wp_json *j;
    char *err;
    bool failed;
};

static void *arena(struct wp_json *j, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct block *b = j->blocks;
    if (b == NULL || b->size - b->used < n) {
        size_t size = n > BLOCK ? n : BLOCK;
        b = malloc(sizeof(*b) + size);
        if (b == NULL)
            return NULL;
        b->next = j->blocks;
        b->used = 0;
        b->size = size;
        j->blocks = b;
    }
    void *r = (char *)b->data + b->used;
    b->used += n;
    return r;
}

static void fail(struct parser *ps, const char *what)
{
    if (ps->failed)
        return;
    ps->failed = true;
    size_t line = 1, col = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(ps->err, WP_ERRBUF_SIZE, "not valid JSON at line %zu, column %zu: %s", line, col,
             what);
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(struct parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4) {
        fail(ps, "short \\u escape");
        return -1;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else {
            fail(ps, "bad \\u escape");
            return -1;
        }
        v = v * 16 + d;
    }
    ps->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The length of a valid UTF-8 sequence at s (of at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned cp = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A string starting at the opening quote; the unescaped text in *out. */
static int parse_string(struct parser *ps, const char **out, size_t *out_len)
{
    ps->p++; /* the quote */
    const char *s = ps->p;
    /* find the end first: the unescaped text is never longer than the raw */
    while (s < ps->end && *s != '"') {
        if (*s == '\\')
            s++;
        s++;
    }
    if (s >= ps->end) {
        fail(ps, "string without its closing quote");
        return -1;
    }
    char *o = arena(ps->j, (size_t)(s - ps->p) + 1);
    if (o == NULL) {
        fail(ps, "out of memory");
        return -1;
    }
    size_t n = 0;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            fail(ps, "control character in a string");
            return -1;
        }
        if (c >= 0x80) {
            size_t l = utf8_seq((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
            if (l == 0) {
                fail(ps, "invalid UTF-8 in a string");
                return -1;
            }
            memcpy(o + n, ps->p, l);
            n += l;
            ps->p += l;
            continue;
        }
        if (c != '\\') {
            o[n++] = (char)c;
            ps->p++;
            continue;
        }
        ps->p++;
        char e = *ps->p++;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = e != '\0' ? strchr(from, e) : NULL;
        if (hit != NULL) {
            o[n++] = to[hit - from];
            continue;
        }
        if (e != 'u') {
            ps->p--;
            fail(ps, "bad escape in a string");
            return -1;
        }
        unsigned cp;
        if (hex4(ps, &cp) != 0)
            return -1;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned lo;
            if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                fail(ps, "lone surrogate in a \\u escape");
                return -1;
            }
            ps->p += 2;
            if (hex4(ps, &lo) != 0)
                return -1;
            if (lo < 0xdc00 || lo > 0xdfff) {
                fail(ps, "lone surrogate in a \\u escape");
                return -1;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail(ps, "lone surrogate in a \\u escape");
            return -1;
        } else if (cp == 0) {
            fail(ps, "U+0000 in a string");
            return -1;
        }
        n += put_utf8(o + n, cp);
    }
    ps->p++; /* the closing quote */
    o[n] = '\0';
    *out = o;
    *out_len = n;
    return 0;
}

/* One or more digits (of a fraction or an exponent). */
static int digits(struct parser *ps)
{
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        fail(ps, "bad number");
        return -1;
    }
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    return 0;
}

static int parse_number(struct parser *ps, struct wp_jval *v)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        fail(ps, "bad number");
        return -1;
    }
    if (*ps->p == '0') {
        ps->p++;
    } else {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (digits(ps) != 0)
            return -1;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (digits(ps) != 0)
            return -1;
    }
    size_t n = (size_t)(ps->p - s);
    char *o = arena(ps->j, n + 1);
    if (o == NULL) {
        fail(ps, "out of memory");
        return -1;
    }
    memcpy(o, s, n);
    o[n] = '\0';
    v->type = WP_J_NUM;
    v->s = o;
    v->len = n;
    return 0;
}

static bool literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static int parse_value(struct parser *ps, struct wp_jval *v, int depth);

/* Members of an array or object into the arena. */
static int parse_compound(struct parser *ps, struct wp_jval *v, int depth, bool obj)
{
    if (depth >= MAX_DEPTH) {
        fail(ps, "nested deeper than 64");
        return -1;
    }
    ps->p++; /* [ or { */
    size_t cap = 0, n = 0;
    struct wp_jval *items = NULL;
    const char **keys = NULL;
    int rc = -1;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
        ps->p++;
        rc = 0;
        goto done;
    }
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct wp_jval *ni = realloc(items, nc * sizeof(*ni));
            if (ni == NULL) {
                fail(ps, "out of memory");
                goto done;
            }
            items = ni;
            if (obj) {
                const char **nk = realloc(keys, nc * sizeof(*nk));
                if (nk == NULL) {
                    fail(ps, "out of memory");
                    goto done;
                }
                keys = nk;
            }
            cap = nc;
        }
        skip_ws(ps);
        if (obj) {
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a member name");
                goto done;
            }
            size_t kl;
            if (parse_string(ps, &keys[n], &kl) != 0)
                goto done;
            /* duplicate keys are refused: a report never writes them */
            for (size_t i = 0; i < n && n < 256; i++) {
                if (strcmp(keys[i], keys[n]) == 0) {
                    fail(ps, "duplicate member name");
                    goto done;
                }
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                fail(ps, "expected ':'");
                goto done;
            }
            ps->p++;
        }
        memset(&items[n], 0, sizeof(items[n]));
        if (parse_value(ps, &items[n], depth + 1) != 0)
            goto done;
        n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
            ps->p++;
            rc = 0;
            break;
        }
        fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        goto done;
    }
done:
    if (rc == 0) {
        v->type = obj ? WP_J_OBJ : WP_J_ARR;
        v->n = n;
        if (n > 0) {
            v->items = arena(ps->j, n * sizeof(*items));
            if (obj)
                v->keys = arena(ps->j, n * sizeof(*keys));
            if (v->items == NULL || (obj && v->keys == NULL)) {
                fail(ps, "out of memory");
                rc = -1;
            } else {
                memcpy(v->items, items, n * sizeof(*items));
                if (obj)
                    memcpy(v->keys, keys, n * sizeof(*keys));
            }
        }
    }
    free(items);
    free(keys);
    return rc;
}

static int parse_value(struct parser *ps, struct wp_jval *v, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return -1;
    }
    switch (*ps->p) {
    case '{':
        return parse_compound(ps, v, depth, true);
    case '[':
        return parse_compound(ps, v, depth, false);
    case '"':
        v->type = WP_J_STR;
        return parse_string(ps, &v->s, &v->len);
    case 't':
    case 'f':
        if (literal(ps, "true")) {
            v->type = WP_J_BOOL;
            v->b = true;
            return 0;
        }
        if (literal(ps, "false")) {
            v->type = WP_J_BOOL;
            return 0;
        }
        break;
    case 'n':
        if (literal(ps, "null")) {
            v->type = WP_J_NULL;
            return 0;
        }
        break;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps, v);
        break;
    }
    fail(ps, "unexpected character");
    return -1;
}

void wp_json_free(struct wp_json *j)
{
    if (j == NULL)
        return;
    for (struct block *b = j->blocks, *nb; b != NULL; b = nb) {
        nb = b->next;
        free(b);
    }
    free(j);
}

int wp_json_parse(struct wp_json **out, const char *text, size_t len, size_t *used, char *err)
{
    *out = NULL;
    struct wp_json *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        snprintf(err, WP_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    struct parser ps = {text, text, text + len, j, err, false};
    if (parse_value(&ps, &j->root, 0) == 0) {
        skip_ws(&ps);
        if (used != NULL)
            *used = (size_t)(ps.p - text);
        else if (ps.p < ps.end)
            fail(&ps, "more after the value");
    } else if (!ps.failed) {
        fail(&ps, "unexpected input");
    }
    if (ps.failed) {
        wp_json_free(j);
        return -1;
    }
    *out = j;
    return 0;
}

const struct wp_jval *wp_json_root(const struct wp_json *j)
{
    return &j->root;
}

const struct wp_jval *wp_json_get(const struct wp_jval *v, const char *key)
{
    if (v == NULL || v->type != WP_J_OBJ)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return &v->items[i];
    return NULL;
}

static bool integer_text(const struct wp_jval *v)
{
    if (v == NULL || v->type != WP_J_NUM)
        return false;
    return strpbrk(v->s, ".eE") == NULL;
}

bool wp_json_u64(const struct wp_jval *v, uint64_t *out)
{
    if (!integer_text(v) || v->s[0] == '-')
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v->s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (uint64_t)x;
    return true;
}

bool wp_json_i64(const struct wp_jval *v, int64_t *out)
{
    if (!integer_text(v))
        return false;
    errno = 0;
    char *end;
    long long x = strtoll(v->s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (int64_t)x;
    return true;
}

bool wp_json_f64(const struct wp_jval *v, double *out)
{
    if (v == NULL || v->type != WP_J_NUM)
        return false;
    *out = strtod(v->s, NULL);
    return true;
}

const char *wp_json_str(const struct wp_jval *v)
{
    return v != NULL && v->type == WP_J_STR ? v->s : NULL;
}
