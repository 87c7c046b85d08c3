/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: shared by the fuzz targets: tables, engine options, reports,
 * and the invariants every input must keep */
#ifndef WP_FUZZ_COMMON_H
#define WP_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "wp/analyze.h"

/* The libFuzzer entry point, defined by each target. Without libFuzzer,
 * fuzz_main.c calls it on every file named on the command line. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Load the built-in Apple prefixes, service registry and Apple services
 * (once per process; they stay allocated and reachable until exit) and fix
 * the hash key so a run is reproducible. Aborts when the built-in tables
 * do not parse. */
void fuzz_init(void);

/* Engine options over the built-in tables: tunnels as given, flow limit,
 * idle timeouts (all three classes) or none; and, when the engine has
 * them (FUZZ_HAVE_NAMES, set by meson.build), a name table for the input,
 * so that the DNS, TLS, QUIC and HTTP name parsers run too. */
void fuzz_engine_opts(struct wp_engine_opts *o, bool tunnels, size_t max_flows, int64_t timeout_ns);

/* Free what fuzz_engine_opts() made for this input (after its engines). */
void fuzz_input_end(void);

/* Which reports fuzz_report() writes to /dev/null. */
enum {
    FUZZ_REPORT_NONE = 0, /* snapshot and checks only */
    FUZZ_REPORT_SOME = 1, /* text, JSON with flows, CSV flows */
    FUZZ_REPORT_ALL = 2,  /* text (plain, with filters, by Apple service), JSON, JSON
                           * Lines, every CSV view and the CSV Apple view, and live-style
                           * CSV flows and totals with an interval column */
};

/* Build a snapshot, check that its numbers add up (the invariants of
 * docs/design.md: every frame in exactly one place, every flow in one port
 * row and one host; aborts otherwise, see FUZZ_EXPECT) and write the
 * reports selected by `which` to /dev/null. `errors` are messages shown
 * as damaged-input warnings. */
void fuzz_report(struct wp_engine *e, bool complete, const char *const *errors, size_t n_errors,
                 int which);

/* Abort with a message on stderr: a finding. */
#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                     \
    } while (0)

/* A wrong number rather than a memory error: aborts as well, unless `id`
 * is listed in the environment variable WP_FUZZ_TOLERATE (comma-separated),
 * which lets a long fuzzing run go on past a finding already reported.
 * Ids: nonip-status, accounting, rows, merge. */
#define FUZZ_EXPECT(id, cond, ...)                                                                 \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_mismatch(id, __FILE__, __LINE__, #cond, __VA_ARGS__);                             \
    } while (0)

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...);

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
void fuzz_mismatch(const char *id, const char *file, int line, const char *cond,
                   const char *fmt, ...);

#endif
