/* SPDX-License-Identifier: BSD-3-Clause */
/* The floor of the benchmark: the least work any libpcap-based tool must do
 * to look at every packet of a capture. It opens the file with libpcap,
 * calls pcap_next_ex() until the end, counts the records and sums their
 * captured and wire lengths, and prints the totals (so the loop cannot be
 * optimised away).
 *
 * Build: cc -O2 -o floor bench/floor.c -lpcap
 * Use:   floor FILE
 */

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[1], errbuf);
    if (p == NULL) {
        fprintf(stderr, "%s\n", errbuf);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t n = 0, caplen = 0, wirelen = 0, x = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        n++;
        caplen += h->caplen;
        wirelen += h->len;
        if (h->caplen > 0)
            x += data[0]; /* touch the packet, as any reader must */
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(p));
        pcap_close(p);
        return 3;
    }
    pcap_close(p);
    printf("%" PRIu64 " packets, %" PRIu64 " bytes captured, %" PRIu64 " bytes on the wire (%" PRIu64 ")\n",
           n, caplen, wirelen, x);
    return 0;
}
