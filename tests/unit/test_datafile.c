/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of the data-file tokenizer and file reader */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "wp/datafile.h"

/* A test point for a known defect in src/: printed with the TAP "TODO"
 * directive, so that it is reported (and flagged when it starts passing)
 * without failing the suite. */
__attribute__((unused)) static void tap_todo(int ok, const char *descr, const char *why)
{
    tap_n++;
    printf("%s %d - %s # TODO %s\n", ok ? "ok" : "not ok", tap_n, descr, why);
}

/* Tokenize a NUL-terminated text: the next record into f[], its count. */
static int next_of(struct wp_datafile *df, char *f[WP_DATAFILE_MAX_FIELDS], char *why,
                   size_t whylen)
{
    why[0] = '\0';
    return wp_datafile_next(df, f, why, whylen);
}

static void test_fields(void)
{
    static const char text[] = "alpha beta\tgamma\n"
                               "  \t lead and trail  \t \n"
                               "one\t\ttwo   three\n";
    struct wp_datafile df;
    char *f[WP_DATAFILE_MAX_FIELDS];
    char why[128];
    wp_datafile_init(&df, text, strlen(text));

    int n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 3, "line 1: three fields split on a space and a tab");
    if (n == 3) {
        TAP_OK(strcmp(f[0], "alpha") == 0, "line 1 field 1 is 'alpha'");
        TAP_OK(strcmp(f[1], "beta") == 0, "line 1 field 2 is 'beta'");
        TAP_OK(strcmp(f[2], "gamma") == 0, "line 1 field 3 is 'gamma'");
    }
    TAP_EQ(wp_datafile_line(&df), 1, "line number 1");

    n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 3, "line 2: leading and trailing blanks ignored");
    if (n == 3) {
        TAP_OK(strcmp(f[0], "lead") == 0 && strcmp(f[1], "and") == 0 && strcmp(f[2], "trail") == 0,
               "line 2 fields are lead/and/trail");
    }
    TAP_EQ(wp_datafile_line(&df), 2, "line number 2");

    n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 3, "line 3: runs of tabs and spaces are one separator");
    if (n == 3) {
        TAP_OK(strcmp(f[0], "one") == 0 && strcmp(f[1], "two") == 0 && strcmp(f[2], "three") == 0,
               "line 3 fields are one/two/three");
    }
    TAP_EQ(next_of(&df, f, why, sizeof(why)), 0, "end of text returns 0");
    TAP_EQ(next_of(&df, f, why, sizeof(why)), 0, "end of text returns 0 again");
}

static void test_quotes_comments_lines(void)
{
    static const char text[] = "# a whole-line comment\n"          /* 1 */
                               "\n"                                /* 2 */
                               "tcp 443 \"HTTPS over TLS\" x\n"    /* 3 */
                               "   \t  \n"                         /* 4 */
                               "   # indented comment\n"           /* 5 */
                               "a b # trailing comment c d\n"      /* 6 */
                               "\"\" \"#not a comment\"\n"         /* 7 */
                               "q\"x\"#c\n"                        /* 8 */
                               "\"quoted\"# comment right after\n" /* 9 */
                               "\n\n"                              /* 10, 11 */
                               "crlf line\r\n"                     /* 12 */
                               "last-without-newline";             /* 13 */
    struct wp_datafile df;
    char *f[WP_DATAFILE_MAX_FIELDS];
    char why[128];
    wp_datafile_init(&df, text, strlen(text));

    int n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 4, "comment and blank lines skipped; quoted field counts once");
    if (n == 4) {
        TAP_OK(strcmp(f[0], "tcp") == 0 && strcmp(f[1], "443") == 0,
               "fields before the quoted one");
        TAP_OK(strcmp(f[2], "HTTPS over TLS") == 0, "quoted field keeps its spaces, no quotes");
        TAP_OK(strcmp(f[3], "x") == 0, "field after the quoted one");
    }
    TAP_EQ(wp_datafile_line(&df), 3, "line number 3 after a comment and a blank line");

    n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 2, "trailing comment dropped");
    if (n == 2)
        TAP_OK(strcmp(f[0], "a") == 0 && strcmp(f[1], "b") == 0, "fields a b");
    TAP_EQ(wp_datafile_line(&df), 6, "line number 6 after blank and comment lines");

    n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 2, "empty quoted field and quoted '#'");
    if (n == 2) {
        TAP_OK(f[0][0] == '\0', "\"\" is an empty field");
        TAP_OK(strcmp(f[1], "#not a comment") == 0, "'#' inside quotes is text");
    }
    TAP_EQ(wp_datafile_line(&df), 7, "line number 7");

    n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 1, "'#' inside an unquoted field is text");
    if (n == 1)
        TAP_OK(strcmp(f[0], "q\"x\"#c") == 0, "field is q\"x\"#c verbatim");

    n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 1, "comment right after a closing quote");
    if (n == 1)
        TAP_OK(strcmp(f[0], "quoted") == 0, "field 'quoted'");
    TAP_EQ(wp_datafile_line(&df), 9, "line number 9");

    n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 2, "CR before LF is a blank");
    if (n == 2)
        TAP_OK(strcmp(f[0], "crlf") == 0 && strcmp(f[1], "line") == 0,
               "no CR left in the last field");
    TAP_EQ(wp_datafile_line(&df), 12, "line number 12 after two blank lines");

    n = next_of(&df, f, why, sizeof(why));
    TAP_EQ(n, 1, "a last line without newline is a record");
    if (n == 1)
        TAP_OK(strcmp(f[0], "last-without-newline") == 0, "its field");
    TAP_EQ(wp_datafile_line(&df), 13, "line number 13");
    TAP_EQ(next_of(&df, f, why, sizeof(why)), 0, "then the end");
}

static void test_empty(void)
{
    struct wp_datafile df;
    char *f[WP_DATAFILE_MAX_FIELDS];
    char why[128];
    wp_datafile_init(&df, "", 0);
    TAP_EQ(next_of(&df, f, why, sizeof(why)), 0, "empty text: no record");
    static const char only[] = "# c\n\n   \n";
    wp_datafile_init(&df, only, strlen(only));
    TAP_EQ(next_of(&df, f, why, sizeof(why)), 0, "comments and blanks only: no record");
}

/* Expect wp_datafile_next to fail on `text` (len bytes) at line `line` with a
 * reason containing `needle`. */
static void expect_error(const char *text, size_t len, unsigned line, const char *needle,
                         const char *what)
{
    struct wp_datafile df;
    char *f[WP_DATAFILE_MAX_FIELDS];
    char why[128];
    wp_datafile_init(&df, text, len);
    int n;
    while ((n = next_of(&df, f, why, sizeof(why))) > 0)
        ;
    TAP_EQ((unsigned long long)(long long)n, (unsigned long long)-1LL, "%s: returns -1", what);
    TAP_EQ(wp_datafile_line(&df), line, "%s: error on line %u", what, line);
    if (!TAP_OK(strstr(why, needle) != NULL, "%s: reason mentions '%s'", what, needle))
        printf("#   reason was '%s'\n", why);
}

static void test_errors(void)
{
    static const char unterminated[] = "ok 1\n# c\nbad \"no end\n";
    expect_error(unterminated, strlen(unterminated), 3, "unterminated", "unterminated quote");

    static const char nul[] = "ok 1\nab\0cd\n";
    expect_error(nul, sizeof(nul) - 1, 2, "NUL", "NUL byte");

    static const char after[] = "\n\"quoted\"text\n";
    expect_error(after, strlen(after), 2, "after a closing quote", "text after a closing quote");

    static const char nine[] = "1 2 3 4 5 6 7 8 9\n";
    expect_error(nine, strlen(nine), 1, "more than 8 fields", "nine fields");

    /* exactly eight fields are fine */
    {
        static const char eight[] = "1 2 3 4 5 6 7 8\n";
        struct wp_datafile df;
        char *f[WP_DATAFILE_MAX_FIELDS];
        char why[128];
        wp_datafile_init(&df, eight, strlen(eight));
        int n = next_of(&df, f, why, sizeof(why));
        TAP_EQ(n, 8, "eight fields accepted");
        if (n == 8)
            TAP_OK(strcmp(f[7], "8") == 0, "eighth field is '8'");
    }
    /* eight fields and a trailing comment are fine too */
    {
        static const char eightc[] = "1 2 3 4 5 6 7 8 # 9 10\n";
        struct wp_datafile df;
        char *f[WP_DATAFILE_MAX_FIELDS];
        char why[128];
        wp_datafile_init(&df, eightc, strlen(eightc));
        TAP_EQ(next_of(&df, f, why, sizeof(why)), 8, "eight fields plus a comment accepted");
    }

    /* line lengths: 1023 bytes accepted, 1024 rejected (the newline excluded) */
    char *big = malloc(3000);
    if (big == NULL) {
        TAP_OK(0, "malloc");
        return;
    }
    memcpy(big, "first\n", 6);
    memset(big + 6, 'x', 1023);
    big[6 + 1023] = '\n';
    {
        struct wp_datafile df;
        char *f[WP_DATAFILE_MAX_FIELDS];
        char why[128];
        wp_datafile_init(&df, big, 6 + 1024);
        TAP_EQ(next_of(&df, f, why, sizeof(why)), 1, "line 1 read");
        int n = next_of(&df, f, why, sizeof(why));
        TAP_EQ(n, 1, "a 1023-byte line is accepted");
        if (n == 1)
            TAP_EQ(strlen(f[0]), 1023, "its field has 1023 bytes");
    }
    memset(big + 6, 'y', 1024);
    big[6 + 1024] = '\n';
    expect_error(big, 6 + 1025, 2, "line longer than 1023", "1024-byte line");
    /* also without a final newline */
    expect_error(big, 6 + 1024, 2, "line longer than 1023", "1024-byte last line");
    /* a very long line */
    memset(big, 'z', 3000);
    expect_error(big, 3000, 1, "line longer", "3000-byte line");
    free(big);
}

static char *make_temp(const void *data, size_t len, char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/wp-test-datafile-XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w <= 0) {
            close(fd);
            unlink(path);
            return NULL;
        }
        p += w;
        left -= (size_t)w;
    }
    close(fd);
    return path;
}

static void test_read(void)
{
    char path[512];
    char errbuf[WP_ERRBUF_SIZE];
    char *text;
    size_t len;

    static const char content[] = "tcp 1 a any \"x\"\n\0tail";
    size_t clen = sizeof(content) - 1; /* includes the embedded NUL */
    if (make_temp(content, clen, path, sizeof(path)) == NULL) {
        TAP_OK(0, "mkstemp: %s", strerror(errno));
        return;
    }
    int r = wp_datafile_read(path, &text, &len, errbuf);
    TAP_EQ(r, 0, "read a temporary file");
    if (r == 0) {
        TAP_EQ(len, clen, "length is the file size (%zu)", clen);
        TAP_OK(memcmp(text, content, clen) == 0, "content is byte-identical");
        TAP_EQ(text[len], 0, "buffer is NUL terminated");
        free(text);
    }
    unlink(path);

    /* empty file */
    if (make_temp("", 0, path, sizeof(path)) != NULL) {
        r = wp_datafile_read(path, &text, &len, errbuf);
        TAP_EQ(r, 0, "read an empty file");
        if (r == 0) {
            TAP_EQ(len, 0, "empty file: length 0");
            TAP_EQ(text[0], 0, "empty file: NUL terminated");
            free(text);
        }
        unlink(path);
    }

    /* larger than the initial 64 KiB buffer, and exactly 64 KiB */
    static const size_t sizes[] = {65535, 65536, 65537, 200003};
    char *blob = malloc(200003);
    if (blob == NULL) {
        TAP_OK(0, "malloc");
        return;
    }
    for (size_t i = 0; i < 200003; i++)
        blob[i] = (char)('a' + (char)(i % 26));
    for (size_t k = 0; k < WP_ARRAY_LEN(sizes); k++) {
        if (make_temp(blob, sizes[k], path, sizeof(path)) == NULL) {
            TAP_OK(0, "mkstemp");
            continue;
        }
        r = wp_datafile_read(path, &text, &len, errbuf);
        TAP_EQ(r, 0, "read a %zu-byte file", sizes[k]);
        if (r == 0) {
            TAP_EQ(len, sizes[k], "%zu-byte file: length", sizes[k]);
            TAP_OK(memcmp(text, blob, sizes[k]) == 0 && text[len] == '\0',
                   "%zu-byte file: content and NUL", sizes[k]);
            free(text);
        }
        unlink(path);
    }
    free(blob);

    /* the 16 MiB limit: 16 MiB - 1 and 16 MiB accepted ("at most"), one more rejected */
    const size_t mib16 = (size_t)16 << 20;
    char *huge = calloc(1, mib16 + 1);
    if (huge == NULL) {
        TAP_OK(0, "calloc 16 MiB");
        return;
    }
    memset(huge, '#', mib16 + 1);
    if (make_temp(huge, mib16 - 1, path, sizeof(path)) != NULL) {
        r = wp_datafile_read(path, &text, &len, errbuf);
        TAP_EQ(r, 0, "a file of 16 MiB - 1 bytes is read");
        if (r == 0) {
            TAP_EQ(len, mib16 - 1, "its length");
            free(text);
        }
        unlink(path);
    }
    if (make_temp(huge, mib16, path, sizeof(path)) != NULL) {
        r = wp_datafile_read(path, &text, &len, errbuf);
        TAP_OK(r == 0, "a file of exactly 16 MiB is read (\"at most 16 MiB\")");
        if (r == 0)
            free(text);
        unlink(path);
    }
    if (make_temp(huge, mib16 + 1, path, sizeof(path)) != NULL) {
        text = (char *)1;
        r = wp_datafile_read(path, &text, &len, errbuf);
        TAP_EQ((unsigned long long)(long long)r, (unsigned long long)-1LL,
               "a file of 16 MiB + 1 bytes is rejected");
        TAP_OK(strstr(errbuf, path) != NULL && strstr(errbuf, "16 MiB") != NULL,
               "message names the file and the limit");
        TAP_OK(text == NULL, "*text is NULL after an error");
        unlink(path);
    }
    free(huge);

    /* a missing file */
    const char *missing = "/nonexistent-dir-wp-test/no-such-file.txt";
    text = (char *)1;
    len = 99;
    errbuf[0] = '\0';
    r = wp_datafile_read(missing, &text, &len, errbuf);
    TAP_EQ((unsigned long long)(long long)r, (unsigned long long)-1LL, "missing file: -1");
    if (!TAP_OK(strstr(errbuf, missing) != NULL, "missing file: message contains the path"))
        printf("#   message was '%s'\n", errbuf);
    TAP_OK(strncmp(errbuf, missing, strlen(missing)) == 0 && errbuf[strlen(missing)] == ':',
           "missing file: message is 'PATH: reason'");
    TAP_OK(text == NULL && len == 0, "missing file: *text NULL and *len 0");
}

int main(void)
{
    test_fields();
    test_quotes_comments_lines();
    test_empty();
    test_errors();
    test_read();
    return tap_done();
}
