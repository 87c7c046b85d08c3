/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: a strict JSON reader (RFC 8259) into a tree, for --merge */
#ifndef WP_JSON_READ_H
#define WP_JSON_READ_H

#include "wp/common.h"

enum wp_jtype { WP_J_NULL = 0, WP_J_BOOL, WP_J_NUM, WP_J_STR, WP_J_ARR, WP_J_OBJ };

/* A value. Strings are unescaped to UTF-8 and NUL-terminated (a string
 * holding U+0000 is refused, so `s` is never cut short); numbers keep their
 * text in `s`. Arrays and objects have `n` members in `items`; an object's
 * keys are in `keys` (same order as written; a key repeated among the first
 * 256 members is refused). */
struct wp_jval {
    uint8_t type; /* enum wp_jtype */
    bool b;       /* WP_J_BOOL */
    const char *s;
    size_t len; /* bytes of s */
    size_t n;
    struct wp_jval *items;
    const char **keys;
};

struct wp_json;

/* Parse one JSON value at the start of text[0..len) (white space around it
 * allowed). With `used` NULL nothing may follow it; else *used is set to
 * the bytes taken (value and white space after it), so that a stream of
 * values can be read one by one. Returns 0 and *out, or -1 with a message
 * naming the line and column in err (WP_ERRBUF_SIZE bytes). Bounded:
 * nesting deeper than 64 is refused. The caller frees *out with
 * wp_json_free. */
int wp_json_parse(struct wp_json **out, const char *text, size_t len, size_t *used, char *err);
void wp_json_free(struct wp_json *j);
const struct wp_jval *wp_json_root(const struct wp_json *j);

/* The member `key` of object `v`; NULL when v is NULL, not an object, or
 * has no such member. */
const struct wp_jval *wp_json_get(const struct wp_jval *v, const char *key);

/* Typed reads; each returns false (leaving *out alone) when v is NULL or
 * not of the kind asked for. u64: an integer 0..2^64-1 written without
 * fraction or exponent; i64 likewise, signed; f64: any number. */
bool wp_json_u64(const struct wp_jval *v, uint64_t *out);
bool wp_json_i64(const struct wp_jval *v, int64_t *out);
bool wp_json_f64(const struct wp_jval *v, double *out);
/* A string's text, or NULL when v is NULL or not a string. */
const char *wp_json_str(const struct wp_jval *v);

#endif
