/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: replay driver for the fuzz targets when built without libFuzzer
 *
 * usage: fuzz_TARGET PATH...
 *
 * Calls LLVMFuzzerTestOneInput once on the bytes of each file named, and of
 * each regular file inside each directory named (not recursive, in name
 * order, hidden files skipped). Each input is copied into a malloc'd buffer
 * of exactly its size, as libFuzzer does, so a sanitizer build catches an
 * over-read by one byte. Arguments that start with '-' (libFuzzer flags such
 * as -runs=0) are ignored, so the same test command works in both builds.
 * Exit status 0 when every input ran; 1 when a path could not be read. A
 * finding aborts (and the sanitizers report) as under libFuzzer. */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

/* The input being run, named when it crashes (signal or sanitizer). */
static const char *current;

static void say_current(void)
{
    if (current == NULL)
        return;
    static const char msg[] = "\nfuzz_main: the input that failed: ";
    ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    r = write(STDERR_FILENO, current, strlen(current));
    r = write(STDERR_FILENO, "\n", 1);
    (void)r;
}

static void on_crash(int sig)
{
    say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

#if defined(__GNUC__)
/* Present when a sanitizer runtime is linked in. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
#endif

static int run_file(const char *path, size_t *count)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *tmp = malloc(cap);
    for (;;) {
        if (tmp == NULL) {
            fprintf(stderr, "%s: out of memory\n", path);
            fclose(fp);
            return -1;
        }
        size_t r = fread(tmp + len, 1, cap - len, fp);
        len += r;
        if (r == 0)
            break;
        if (len == cap) {
            cap *= 2;
            uint8_t *n = realloc(tmp, cap);
            if (n == NULL)
                free(tmp);
            tmp = n;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        fprintf(stderr, "%s: read error\n", path);
        free(tmp);
        return -1;
    }
    /* exactly `len` bytes, so that one byte more is out of bounds */
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        free(tmp);
        return -1;
    }
    memcpy(buf, tmp, len);
    free(tmp);
    current = path;
    LLVMFuzzerTestOneInput(buf, len);
    current = NULL;
    free(buf);
    (*count)++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (nn == NULL) {
                rc = -1;
                break;
            }
            names = nn;
        }
        size_t l = strlen(dir) + strlen(de->d_name) + 2;
        names[n] = malloc(l);
        if (names[n] == NULL) {
            rc = -1;
            break;
        }
        snprintf(names[n], l, "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode) &&
            run_file(names[i], count) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
#if defined(__GNUC__)
    if (__sanitizer_set_death_callback != NULL)
        __sanitizer_set_death_callback(say_current);
#endif
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            rc = 1;
            continue;
        }
        if ((S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i], &count)) != 0)
            rc = 1;
    }
    printf("%s: %zu inputs replayed\n", argc > 0 ? argv[0] : "fuzz", count);
    return rc;
}
