/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: fuzz target: the whole offline pipeline on a capture file
 *
 * The input is a capture file (pcap or pcapng, any variant). It is read
 * with wp_savefile_open_mem(), every record goes through a wp_engine, and
 * the report is written as text, JSON and CSV to /dev/null, as whichports
 * -r would (fuzz_common.c also checks that the numbers add up). The size of
 * the input picks the engine options, so that both eviction and idle
 * timeouts run: size & 4: at most 8 flows; size & 8: idle timeouts of 1 s. (Bits
 * 2 and 3, not 0 and 1, so that a pcapng file, whose blocks are multiples
 * of 4 bytes, can select them with a skipped block.) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp/analyze.h"
#include "wp/savefile.h"

#include "fuzz_common.h"

static const char name[] = "fuzz.pcap";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    char err[WP_ERRBUF_SIZE];
    err[0] = '\0';
    struct wp_savefile *sf;
    if (wp_savefile_open_mem(&sf, data, size, name, err) != 0) {
        FUZZ_ASSERT(sf == NULL, "failed open left a reader");
        FUZZ_ASSERT(strncmp(err, name, sizeof(name) - 1) == 0,
                    "open error does not name the file: '%s'", err);
        return 0;
    }
    FUZZ_ASSERT(sf != NULL, "open succeeded without a reader");

    struct wp_engine_opts o;
    fuzz_engine_opts(&o, true, (size & 4) ? 8 : 0, (size & 8) ? 1000000000LL : 0);
    struct wp_engine *e = wp_engine_new(&o);
    if (e == NULL)
        abort();

    struct wp_record rec;
    enum wp_sf_result r;
    uint64_t n = 0;
    while ((r = wp_savefile_next(sf, &rec, err)) == WP_SF_RECORD) {
        FUZZ_ASSERT(rec.caplen <= WP_MAX_CAPLEN, "record of %u bytes", rec.caplen);
        FUZZ_ASSERT((uintptr_t)rec.data >= (uintptr_t)data &&
                        (uintptr_t)rec.data - (uintptr_t)data <= size &&
                        rec.caplen <= size - ((uintptr_t)rec.data - (uintptr_t)data),
                    "record %llu (%u bytes) outside the input", (unsigned long long)n + 1,
                    rec.caplen);
        FUZZ_ASSERT(rec.trailer <= rec.caplen, "trailer of %u bytes in a record of %u", rec.trailer,
                    rec.caplen);
        FUZZ_ASSERT(wp_savefile_offset(sf) <= size, "offset %llu beyond size %zu",
                    (unsigned long long)wp_savefile_offset(sf), size);
        wp_engine_packet(e, &rec);
        n++;
    }
    FUZZ_ASSERT(r == WP_SF_EOF || r == WP_SF_DAMAGED, "reader returned %d", (int)r);
    bool complete = r == WP_SF_EOF;
    const char *errors[1] = {err};
    if (!complete)
        FUZZ_ASSERT(strncmp(err, name, sizeof(name) - 1) == 0,
                    "damage message does not name the file: '%s'", err);
    FUZZ_ASSERT(wp_engine_totals(e)->packets == n, "engine counted %llu of %llu records",
                (unsigned long long)wp_engine_totals(e)->packets, (unsigned long long)n);
    (void)wp_savefile_format(sf);
    (void)wp_savefile_nanoseconds(sf);
    fuzz_report(e, complete, errors, complete ? 0 : 1, FUZZ_REPORT_ALL);
    wp_engine_free(e);
    fuzz_input_end();
    wp_savefile_close(sf);
    return 0;
}
