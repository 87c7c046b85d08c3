/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: tokenizer for the whitespace-separated data files */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/datafile.h"

void wp_datafile_init(struct wp_datafile *df, const char *text, size_t len)
{
    memset(df, 0, sizeof(*df));
    df->text = text;
    df->len = len;
}

unsigned wp_datafile_line(const struct wp_datafile *df)
{
    return df->line;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int wp_datafile_next(struct wp_datafile *df, char *f[WP_DATAFILE_MAX_FIELDS], char *why,
                     size_t whylen)
{
    while (df->pos < df->len) {
        size_t start = df->pos, end = start;
        while (end < df->len && df->text[end] != '\n')
            end++;
        df->pos = end < df->len ? end + 1 : end;
        df->line++;
        size_t n = end - start;
        if (n >= sizeof(df->buf)) {
            snprintf(why, whylen, "line longer than %d bytes", WP_DATAFILE_MAX_LINE - 1);
            return -1;
        }
        if (memchr(df->text + start, '\0', n) != NULL) {
            snprintf(why, whylen, "NUL byte in line");
            return -1;
        }
        memcpy(df->buf, df->text + start, n);
        df->buf[n] = '\0';

        int nf = 0;
        char *p = df->buf;
        for (;;) {
            while (blank(*p))
                p++;
            if (*p == '\0' || *p == '#')
                break;
            if (nf == WP_DATAFILE_MAX_FIELDS) {
                snprintf(why, whylen, "more than %d fields", WP_DATAFILE_MAX_FIELDS);
                return -1;
            }
            if (*p == '"') {
                char *q = strchr(p + 1, '"');
                if (q == NULL) {
                    snprintf(why, whylen, "unterminated double quote");
                    return -1;
                }
                *q = '\0';
                f[nf++] = p + 1;
                p = q + 1;
                if (*p != '\0' && !blank(*p) && *p != '#') {
                    snprintf(why, whylen, "text right after a closing quote");
                    return -1;
                }
                continue;
            }
            f[nf++] = p;
            while (*p != '\0' && !blank(*p))
                p++;
            if (*p != '\0')
                *p++ = '\0';
        }
        if (nf > 0)
            return nf;
    }
    return 0;
}

int wp_datafile_read(const char *path, char **text, size_t *len, char errbuf[WP_ERRBUF_SIZE])
{
    *text = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t r = fread(buf + n, 1, cap - n, fp);
        n += r;
        if (r == 0)
            break;
        if (n > (16u << 20)) {
            snprintf(errbuf, WP_ERRBUF_SIZE, "%s: larger than 16 MiB", path);
            free(buf);
            fclose(fp);
            return -1;
        }
        if (n == cap) {
            if (cap > (16u << 20)) {
                snprintf(errbuf, WP_ERRBUF_SIZE, "%s: larger than 16 MiB", path);
                free(buf);
                fclose(fp);
                return -1;
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf == NULL) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: out of memory", path);
        fclose(fp);
        return -1;
    }
    if (ferror(fp)) {
        snprintf(errbuf, WP_ERRBUF_SIZE, "%s: read error", path);
        free(buf);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}
