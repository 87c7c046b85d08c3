/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: pure parsers that extract server names from packets (DNS, TLS, HTTP, QUIC)
 *
 * Everything here is stateless and allocation-free (the QUIC functions use
 * OpenSSL contexts created and freed within the call), reads only within the
 * bytes it is given, and is safe to call from several threads at once.
 *
 * Names are always handed out in one "presented" form, so that a capture
 * cannot smuggle control characters or look-alike text into a report:
 * ASCII letters are lowercased; the bytes a-z, 0-9, '-' and '_' are kept
 * (and '.' as the label separator); every other byte is written as a
 * backslash and three decimal digits, as dig does ("\000", "\046" for a dot
 * inside a DNS label, "\092" for a backslash). The result is printable
 * ASCII, at most WP_NAME_MAX characters, NUL-terminated.
 */
#ifndef WP_NAMES_PARSE_H
#define WP_NAMES_PARSE_H

#include "wp/common.h"

#define WP_NAME_MAX  253               /* characters of a presented name */
#define WP_NAME_SIZE (WP_NAME_MAX + 1) /* buffer size that holds any presented name */

/* Present the bytes src[0..n) as a host name (the rule above; '.' is kept).
 * `also` lists extra characters that are kept as they are (NULL for none;
 * the HTTP parser passes "[]:" for an IPv6 literal). Writes at most
 * min(cap - 1, WP_NAME_MAX) characters and a NUL into dst; when the name does
 * not fit, it is cut before the first character or escape that would not
 * fit (an escape is never split) and *truncated is set to true (else false;
 * `truncated` may be NULL). Returns the number of characters written. With
 * cap == 0 nothing is written and 0 is returned. */
size_t wp_name_present(char *dst, size_t cap, const uint8_t *src, size_t n, const char *also,
                       bool *truncated);

/* ---- DNS (RFC 1035, RFC 3596 AAAA, RFC 9460 SVCB/HTTPS, RFC 6762 mDNS) -- */

/* Called once per address: `name` is the presented name the client asked
 * for (NUL-terminated, valid only during the call), `family` is 4 or 6, and
 * addr holds 4 (family 4, the other 12 bytes zero) or 16 address bytes. */
typedef void (*wp_dns_cb)(void *ctx, const char *name, uint8_t family, const uint8_t addr[16]);

#define WP_DNS_MAX_RECORDS 64 /* records looked at per section; later ones are skipped */

/* Report the addresses in one DNS message msg[0..len) (a UDP payload, or a
 * TCP message without its 2-byte length prefix).
 *
 * Only standard-query responses (QR = 1, opcode 0) are looked at; anything
 * else returns 0 without a call. For every A and AAAA record of class IN,
 * and every ipv4hint/ipv6hint address of an SVCB or HTTPS record, in the
 * answer and additional sections, cb is called with the name the client
 * asked for: when the record's owner is the question name or is reached
 * from it through CNAME records of the answer section, the question name;
 * otherwise (mDNS responses without a question, unrelated glue) the
 * record's own owner name. A record whose name cannot be presented within
 * WP_NAME_MAX characters is skipped. Only the first WP_DNS_MAX_RECORDS
 * records of each section (and questions) are used; the others are still
 * walked over to check the message's structure.
 *
 * Compression pointers may point anywhere in the message (backwards or
 * forwards); a name may take at most 64 pointer jumps and 255 wire bytes,
 * so loops end as malformed.
 *
 * The message is checked completely before any call: a malformed or
 * truncated message (bad label, pointer out of range or looping, a record
 * or rdata running past the end, an A record not 4 bytes long, ...)
 * returns -1 and reports nothing. Otherwise returns the number of calls
 * made (>= 0). cb may be NULL (then only the count is returned). */
int wp_dns_answers(const uint8_t *msg, size_t len, wp_dns_cb cb, void *ctx);

/* DNS over TCP (RFC 1035 4.2.2, RFC 7766): stream[0..len) must start at a
 * message boundary (the first bytes of a segment payload of a DNS server's
 * side) and holds length-prefixed messages. Every complete message is given
 * to wp_dns_answers; a partial message at the end is ignored; a zero length
 * prefix ends the walk as malformed. Returns the total number of addresses
 * reported, or -1 when one of the complete messages was malformed (the
 * addresses of the other messages have still been reported through cb). */
int wp_dns_tcp_answers(const uint8_t *stream, size_t len, wp_dns_cb cb, void *ctx);

/* ---- TLS ClientHello server name (RFC 8446, RFC 6066) ------------------- */

enum wp_tls_result {
    WP_TLS_NOT_TLS,   /* cannot be the start of a TLS handshake: stop trying */
    WP_TLS_NEED_MORE, /* consistent so far; *need says how many bytes to wait for */
    WP_TLS_SNI,       /* a ClientHello with a host_name: copied to sni */
    WP_TLS_NO_SNI,    /* a complete ClientHello without a server_name host_name */
    WP_TLS_MALFORMED, /* a TLS handshake that breaks the rules (or is too big) */
};

#define WP_TLS_MAX_HELLO 16384 /* largest ClientHello body accepted (bytes) */

/* Find the server name in the start of a client's TCP stream data[0..len):
 * TLS records of content type 22 (handshake), record version 3.1 to 3.4,
 * carrying a ClientHello that may be split over several records (each at
 * most 2^14 bytes, none empty) and over several segments that the caller
 * has concatenated.
 *
 * NOT_TLS: the first bytes are not a handshake record header (type, major
 * version 3, minor 1..4). NEED_MORE: everything present is consistent but
 * the ClientHello is not complete; *need is set to the smallest stream
 * length that could complete it given the headers seen so far (always
 * > len; at least 9 when not even the first handshake header is known). It
 * may be called again with more bytes. MALFORMED: a record header is
 * invalid (length 0 or > 2^14, another content type before the ClientHello
 * is complete), the first handshake message is not a ClientHello, the
 * ClientHello claims more than WP_TLS_MAX_HELLO bytes, or its fields do not
 * add up. SNI: sni receives the first host_name (type 0) of the
 * server_name extension, presented with wp_name_present (truncated to
 * cap - 1 or WP_NAME_MAX characters; use a WP_NAME_SIZE buffer). NO_SNI:
 * a well-formed ClientHello without it (including an SSLv3-style hello
 * without extensions). `sni` is written only with SNI (and set to "" for
 * the others when cap > 0); `need` (may be NULL) only with NEED_MORE.
 * Bytes after the ClientHello are ignored. */
enum wp_tls_result wp_tls_sni_records(const uint8_t *data, size_t len, char *sni, size_t cap,
                                      size_t *need);

/* The same on handshake messages without the record layer (the contents of
 * QUIC CRYPTO frames, RFC 9001 4.1.3): hs[0..len) starts with the
 * handshake header (type 1, 24-bit length). NOT_TLS when the first byte is
 * not 1 (ClientHello); NEED_MORE with *need = 4 + body length (or 4 while
 * the header is incomplete). */
enum wp_tls_result wp_tls_sni_handshake(const uint8_t *hs, size_t len, char *sni, size_t cap,
                                        size_t *need);

/* ---- HTTP/1.x Host (RFC 9112, RFC 9110 7.2) ------------------------------ */

/* True when data[0..len), the start of a client's payload, is an HTTP/1.x
 * request with a Host header: the request line starts with a known method
 * (GET, POST, HEAD, PUT, DELETE, OPTIONS, PATCH, CONNECT, TRACE) and a space,
 * contains " HTTP/1." and ends with LF (CRLF or a bare LF) within the
 * captured bytes; the header lines that follow, each complete (ended by LF),
 * are searched up to the empty line or the end of the bytes for the first
 * "Host" field (name case-insensitive, optional whitespace around the
 * value). The value without its ":port" (an IPv6 literal "[...]" is kept
 * whole, brackets included) is presented into host (wp_name_present, with
 * '[', ']' and ':' kept inside a literal; truncated to cap - 1 or
 * WP_NAME_MAX characters). False, with host set to "" when cap > 0, when
 * any of this fails or the value is empty. */
bool wp_http_host(const uint8_t *data, size_t len, char *host, size_t cap);

/* ---- QUIC Initial packets (RFC 9000, RFC 9001, RFC 9369, draft-29) ------- */

#define WP_QUIC_V1      0x00000001u
#define WP_QUIC_V2      0x6b3343cfu
#define WP_QUIC_DRAFT29 0xff00001du

#define WP_QUIC_MAX_CID     20    /* connection ID length limit of these versions */
#define WP_QUIC_MAX_PAYLOAD 16384 /* largest protected payload decrypted */

/* Return codes of wp_quic_initial_crypto besides counts. */
enum {
    WP_QUIC_MALFORMED = -1,     /* an Initial whose header or frames do not add up, or too big */
    WP_QUIC_UNDECRYPTABLE = -2, /* the AEAD tag did not verify (wrong keys or damage) */
};

/* Called for each CRYPTO frame: `data` (valid only during the call) holds
 * `len` bytes of the handshake stream at `offset`. */
typedef void (*wp_quic_crypto_cb)(void *ctx, uint64_t offset, const uint8_t *data, size_t len);

/* Derive the client's Initial packet protection keys (RFC 9001 5.2, RFC
 * 9369 3.3.1) for `version` (WP_QUIC_V1, WP_QUIC_V2 or WP_QUIC_DRAFT29) from
 * the Destination Connection ID of the client's first Initial packet
 * (dcid_len <= WP_QUIC_MAX_CID; dcid may be NULL when dcid_len is 0).
 * Returns 0 with key, iv and hp filled, or -1 (unsupported version, CID too
 * long, OpenSSL failure; the outputs are then zeroed). */
int wp_quic_client_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, uint8_t key[16],
                        uint8_t iv[12], uint8_t hp[16]);

/* When dgram[0..len) (a UDP payload) starts with a long-header Initial
 * packet of a supported version, store its version and Destination
 * Connection ID and return 1; otherwise return 0 (outputs untouched). A
 * caller that remembers the DCID of a client's first Initial can pass it to
 * wp_quic_initial_crypto_odcid for the client's later Initials, which carry
 * the server's connection ID but are protected with the first one's keys. */
int wp_quic_dcid(const uint8_t *dgram, size_t len, uint32_t *version, uint8_t dcid[WP_QUIC_MAX_CID],
                 size_t *dcid_len);

/* Decrypt the client Initial packets of one UDP datagram and report their
 * CRYPTO frames. The first packet must be a long-header Initial of a
 * supported version; it and every further long-header packet coalesced
 * behind it (RFC 9000 12.2) are walked: Initials are decrypted, 0-RTT and
 * Handshake packets skipped by their Length, and the walk stops at a short
 * header, a Retry or another version. The keys come from each packet's own
 * Destination Connection ID. In each decrypted payload the frames PADDING,
 * PING, ACK and CRYPTO are walked and cb (may be NULL) is called for every
 * CRYPTO frame; the walk of a payload ends quietly at any other frame type.
 *
 * Returns the number of CRYPTO frames reported; 0 when the datagram does not
 * start with an Initial of a supported version (short header, other
 * version, Version Negotiation, Handshake, ...); WP_QUIC_MALFORMED (-1) when
 * an Initial's header, length or frames do not add up or its payload exceeds
 * WP_QUIC_MAX_PAYLOAD; WP_QUIC_UNDECRYPTABLE (-2) when the AEAD tag does
 * not verify: a damaged packet, a server's Initial (protected with keys
 * this function cannot know: call it on client-to-server datagrams only),
 * or a later client Initial sent to the server's connection ID. On a
 * negative return, CRYPTO frames of earlier packets in the datagram have
 * already been reported. Contexts are created per call: thread-safe. */
int wp_quic_initial_crypto(const uint8_t *dgram, size_t len, wp_quic_crypto_cb cb, void *ctx);

/* The same, with the keys derived from `odcid` (the Destination Connection
 * ID of the client's first Initial, odcid_len <= WP_QUIC_MAX_CID) instead
 * of each packet's DCID. odcid == NULL means "each packet's own DCID". */
int wp_quic_initial_crypto_odcid(const uint8_t *dgram, size_t len, const uint8_t *odcid,
                                 size_t odcid_len, wp_quic_crypto_cb cb, void *ctx);

/* ---- CRYPTO stream reassembly -------------------------------------------- */

#define WP_CRYPTO_BUF_SIZE 16384

/* The first WP_CRYPTO_BUF_SIZE bytes of a CRYPTO stream, received in pieces
 * at any offset and in any order. Zero it (memset or = {0}) before use. */
struct wp_crypto_buf {
    uint8_t data[WP_CRYPTO_BUF_SIZE];
    uint8_t got[WP_CRYPTO_BUF_SIZE / 8]; /* bitmap of the bytes received */
    size_t have;                         /* data[0..have) is complete */
    bool clipped;                        /* bytes beyond the buffer were dropped */
};

/* Store data[0..len) at stream `offset`. Bytes already received keep their
 * first value (a retransmission cannot change them); bytes at or beyond
 * WP_CRYPTO_BUF_SIZE are dropped and set b->clipped. Returns b->have (as an
 * int: at most WP_CRYPTO_BUF_SIZE), the length of the complete prefix, ready for
 * wp_tls_sni_handshake(b->data, b->have, ...). */
int wp_crypto_buf_add(struct wp_crypto_buf *b, uint64_t offset, const uint8_t *data, size_t len);

#endif
