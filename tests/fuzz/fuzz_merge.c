/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: fuzz target: --merge on a JSON report
 *
 * The input is a whichports JSON report (or any bytes). It is read with
 * wp_merge_load() into an engine, as `whichports --merge` reads each file;
 * a report it accepts is merged into a second engine (as the runner does)
 * and written in every format, and the numbers must add up
 * (fuzz_common.c): the merge verifies a report's identities before it
 * accepts it, so an accepted report never gives a report that does not add
 * up. A refused one must leave a message naming the input. Size bit 2: the
 * input is read as a stream (several reports one after another). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/analyze.h"
#include "wp/merge.h"

#include "fuzz_common.h"

static const char name[] = "fuzz.json";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    struct wp_engine_opts o;
    fuzz_engine_opts(&o, true, 0, 0);
    struct wp_engine *total = wp_engine_new(&o);
    if (total == NULL)
        abort();
    struct wp_merge_input in;
    wp_merge_input_init(&in);
    bool stream = (size & 4) != 0;
    size_t off = 0;
    do {
        struct wp_engine *e = wp_engine_new(&o);
        if (e == NULL)
            abort();
        char err[WP_ERRBUF_SIZE];
        err[0] = '\0';
        size_t used = 0;
        int rc = wp_merge_load(e, &o, (const char *)data + off, size - off, stream ? &used : NULL,
                               name, &in, err);
        if (rc != 0) {
            FUZZ_ASSERT(strncmp(err, name, sizeof(name) - 1) == 0,
                        "merge error does not name the input: '%s'", err);
            wp_engine_free(e);
            break;
        }
        FUZZ_ASSERT(!stream || (used > 0 && used <= size - off), "stream took %zu of %zu", used,
                    size - off);
        FUZZ_ASSERT(wp_engine_merge(total, e) == 0, "merge ran out of memory");
        wp_engine_free(e);
        off += stream ? used : size - off;
    } while (stream && off < size);
    fuzz_report(total, in.complete, (const char *const *)in.errors, in.n_errors, FUZZ_REPORT_SOME);
    wp_merge_input_free(&in);
    wp_engine_free(total);
    fuzz_input_end();
    return 0;
}
