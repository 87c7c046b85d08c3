/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: --merge: the typed, checked reads of a report's values (merge_int.h) */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/merge.h"
#include "wp/agg.h"
#include "wp/agg_proc.h"
#include "wp/applesvc.h"
#include "wp/capture.h"
#include "wp/classify.h"
#include "wp/decode.h"
#include "wp/json_read.h"
#include "wp/names.h"
#include "wp/outcome.h"
#include "wp/proc.h"
#include "wp/proctab.h"
#include "wp/timeline.h"
#include "wp/util.h"

#include "merge_int.h"

/* Fail the load with a message (the first one stands). Returns -1. */
int mld_bad(struct ld *L, const char *fmt, ...)
{
    if (!L->failed) {
        char m[WP_ERRBUF_SIZE / 2];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof(m), fmt, ap);
        va_end(ap);
        snprintf(L->err, WP_ERRBUF_SIZE, "%.200s: %s", L->what, m);
    }
    L->failed = true;
    return -1;
}

/* a += b, failing the load when it overflows */
void mld_add(struct ld *L, uint64_t *a, uint64_t b)
{
    if (__builtin_add_overflow(*a, b, a))
        mld_bad(L, "%s", "counts too large to add up: the report is inconsistent");
}

const struct wp_jval *mld_need(struct ld *L, const struct wp_jval *o, const char *k,
                               enum wp_jtype t)
{
    const struct wp_jval *v = wp_json_get(o, k);
    if (v == NULL || v->type != t) {
        mld_bad(L, "member \"%s\" is missing or of the wrong type: not a whole whichports report",
                k);
        return NULL;
    }
    return v;
}

uint64_t mld_u64(struct ld *L, const struct wp_jval *o, const char *k)
{
    uint64_t x = 0;
    if (!wp_json_u64(wp_json_get(o, k), &x))
        mld_bad(L, "member \"%s\" is missing or not a count", k);
    return x;
}

struct wp_counts mld_counts(struct ld *L, const struct wp_jval *o, const char *k)
{
    struct wp_counts c = {0, 0};
    const struct wp_jval *v = mld_need(L, o, k, WP_J_OBJ);
    if (v != NULL) {
        c.packets = mld_u64(L, v, "packets");
        c.bytes = mld_u64(L, v, "bytes");
    }
    return c;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "2026-11-23T22:37:21.850680Z" (any fraction up to 9 digits) to ns. */
static int parse_time(const char *s, int64_t *ns, bool *nanos)
{
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
        return -1;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59 || y < 0)
        return -1;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    int digits = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
            frac = frac * 10 + (*p - '0');
        if (digits == 0)
            return -1;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    if (digits > 6)
        *nanos = true;
    for (int i = digits; i < 9; i++)
        frac *= 10;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    /* a time whichports prints fits in int64 nanoseconds; others are refused */
    if (__builtin_mul_overflow(secs, INT64_C(1000000000), ns) ||
        __builtin_add_overflow(*ns, frac, ns))
        return -1;
    return 0;
}

int mld_time_of(struct ld *L, const struct wp_jval *v, int64_t *ns, bool *nanos)
{
    const char *s = wp_json_str(v);
    if (s == NULL || parse_time(s, ns, nanos) != 0)
        return mld_bad(L, "a time is not of the form 2026-01-02T03:04:05.678Z: %s", s ? s : "?");
    return 0;
}

int mld_addr_of(struct ld *L, const char *s, uint8_t *family, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (s != NULL && inet_pton(AF_INET, s, addr) == 1) {
        *family = 4;
        return 0;
    }
    if (s != NULL && inet_pton(AF_INET6, s, addr) == 1) {
        *family = 6;
        return 0;
    }
    return mld_bad(L, "not an IP address: %s", s ? s : "(none)");
}

int mld_proto_of(struct ld *L, const char *s, uint8_t *proto)
{
    char b[16];
    for (unsigned p = 0; s != NULL && p < 256; p++) {
        if (strcmp(wp_fmt_transport(b, sizeof(b), (uint8_t)p), s) == 0) {
            *proto = (uint8_t)p;
            return 0;
        }
    }
    return mld_bad(L, "not a transport: %s", s ? s : "(none)");
}

/* The index of `s` among names(0..n), or -1. */
int mld_index_of(const char *s, const char *(*names)(unsigned), unsigned n)
{
    for (unsigned i = 0; s != NULL && i < n; i++) {
        const char *x = names(i);
        if (x != NULL && strcmp(x, s) == 0)
            return (int)i;
    }
    return -1;
}

int mld_svc_find(const struct wp_applesvc *a, const char *key)
{
    for (size_t i = 0; key != NULL && i < wp_applesvc_count(a); i++)
        if (strcmp(wp_applesvc_key(a, (int)i), key) == 0)
            return (int)i;
    return -1;
}

const char *mld_src_name(unsigned i)
{
    return wp_proc_source_name((enum wp_proc_source)i);
}

int mld_port_of(struct ld *L, const struct wp_jval *v, uint16_t *port)
{
    uint64_t x;
    if (v != NULL && v->type == WP_J_NULL) {
        *port = 0;
        return 0;
    }
    if (!wp_json_u64(v, &x) || x > 65535)
        return mld_bad(L, "%s", "a port is not a number from 0 to 65535");
    *port = (uint16_t)x;
    return 0;
}

uint16_t mld_vlan_of(struct ld *L, const struct wp_jval *v)
{
    uint64_t x;
    if (v == NULL || v->type == WP_J_NULL)
        return WP_VLAN_NONE;
    if (!wp_json_u64(v, &x) || x > 4095)
        mld_bad(L, "%s", "a VLAN id is not a number from 0 to 4095");
    return (uint16_t)x;
}

const char *mld_opt_str(const struct wp_jval *o, const char *k)
{
    return wp_json_str(wp_json_get(o, k));
}

uint64_t mld_sub(struct ld *L, uint64_t a, uint64_t b)
{
    if (a < b) {
        mld_bad(L, "%s",
                "a row counts less than the flows listed under it: the report is inconsistent");
        return 0;
    }
    return a - b;
}

void mld_load_names(struct ld *L, const struct wp_jval *arr, struct wp_name_count *v, uint8_t *n,
                    bool *trunc, const struct wp_name_count *minus, uint8_t n_minus)
{
    *n = 0;
    for (size_t i = 0; arr != NULL && i < arr->n && *n < WP_ROW_NAMES; i++) {
        const char *name = mld_opt_str(&arr->items[i], "name");
        uint64_t fl = mld_u64(L, &arr->items[i], "flows");
        if (name == NULL || L->o->nametab == NULL)
            continue;
        uint32_t id = wp_nametab_intern(L->o->nametab, name);
        for (uint8_t k = 0; k < n_minus; k++)
            if (minus[k].id == id)
                fl = fl >= minus[k].flows ? fl - minus[k].flows : 0;
        if (fl > 0 && id != 0) {
            v[*n].id = id;
            v[*n].flows = fl;
            (*n)++;
        }
    }
    if (arr != NULL && arr->n > WP_ROW_NAMES)
        *trunc = true;
}

void mld_load_outcomes(struct ld *L, const struct wp_jval *o, struct wp_oc_row *r,
                       const struct wp_oc_row *minus)
{
    const struct wp_jval *oc = mld_need(L, o, "outcomes", WP_J_OBJ);
    for (unsigned i = 0; oc != NULL && i < WP_OUT_COUNT; i++)
        r->n[i] = mld_sub(L, mld_u64(L, oc, wp_outcome_name(i)), minus->n[i]);
    if (r->n[WP_OUT_BLOCKED] == 0)
        return;
    /* "icmp 3/13 administratively prohibited", "icmp6 1/1 ..." */
    const struct wp_jval *bl = mld_need(L, o, "blocked_by", WP_J_ARR);
    for (size_t i = 0; bl != NULL && i < bl->n && r->n_blk < 2; i++) {
        const char *t = wp_json_str(&bl->items[i]);
        unsigned type, code;
        char fam[8];
        if (t == NULL || sscanf(t, "%7s %u/%u", fam, &type, &code) != 3 || code > 255 ||
            (strcmp(fam, "icmp") != 0 && strcmp(fam, "icmp6") != 0)) {
            mld_bad(L, "not an ICMP unreachable: %s", t ? t : "?");
            return;
        }
        r->blk[r->n_blk].v6 = fam[4] == '6';
        r->blk[r->n_blk++].code = (uint8_t)code;
    }
}
