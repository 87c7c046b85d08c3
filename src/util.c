/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: formatting helpers: addresses, times, sizes, names */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wp/proto.h"
#include "wp/util.h"

char *wp_fmt_addr(char *buf, size_t n, uint8_t family, const uint8_t *addr)
{
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)n) == NULL)
        snprintf(buf, n, "?");
    return buf;
}

char *wp_fmt_time(char *buf, size_t n, int64_t ns, bool nanos)
{
    int64_t sec = ns / WP_NS_PER_S;
    int64_t frac = ns % WP_NS_PER_S;
    if (frac < 0) {
        frac += WP_NS_PER_S;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(buf, n, "?");
        return buf;
    }
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    if (nanos)
        snprintf(buf, n, "%s.%09lldZ", date, (long long)frac);
    else
        snprintf(buf, n, "%s.%06lldZ", date, (long long)(frac / 1000));
    return buf;
}

char *wp_fmt_bytes(char *buf, size_t n, uint64_t b)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (b < 1024) {
        snprintf(buf, n, "%llu B", (unsigned long long)b);
        return buf;
    }
    double v = (double)b;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < WP_ARRAY_LEN(units)) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, n, v < 10.0 ? "%.2f %s" : v < 100.0 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

char *wp_fmt_count(char *buf, size_t n, uint64_t v)
{
    if (v < 100000)
        snprintf(buf, n, "%llu", (unsigned long long)v);
    else if (v < 100000000)
        snprintf(buf, n, "%.1fk", (double)v / 1e3);
    else if (v < 100000000000ULL)
        snprintf(buf, n, "%.1fM", (double)v / 1e6);
    else
        snprintf(buf, n, "%.1fG", (double)v / 1e9);
    return buf;
}

char *wp_fmt_transport(char *buf, size_t n, uint8_t proto)
{
    const char *name = wp_ip_proto_name(proto);
    if (name != NULL)
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "%u", proto);
    return buf;
}

char *wp_fmt_port_key(char *buf, size_t n, const struct wp_port_key *k)
{
    char t[16];
    wp_fmt_transport(t, sizeof(t), k->proto);
    if (k->has_port)
        snprintf(buf, n, "%s/%u", t, k->port);
    else
        snprintf(buf, n, "%s", t);
    return buf;
}

char *wp_fmt_tcp_flags(char *buf, size_t n, uint8_t f)
{
    static const struct {
        uint8_t bit;
        char c;
    } order[] = {
        {WP_TCP_SYN, 'S'}, {WP_TCP_ACK, 'A'}, {WP_TCP_FIN, 'F'}, {WP_TCP_PSH, 'P'},
        {WP_TCP_RST, 'R'}, {WP_TCP_URG, 'U'}, {WP_TCP_ECE, 'E'}, {WP_TCP_CWR, 'C'},
    };
    size_t o = 0;
    for (size_t i = 0; i < WP_ARRAY_LEN(order) && o + 1 < n; i++)
        if (f & order[i].bit)
            buf[o++] = order[i].c;
    if (n > 0)
        buf[o] = '\0';
    return buf;
}

int wp_parse_u64(const char *s, uint64_t *v)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long r = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *v = r;
    return 0;
}

int wp_parse_seconds(const char *s, int64_t *ns)
{
    if (s == NULL || ((*s < '0' || *s > '9') && *s != '.'))
        return -1;
    errno = 0;
    char *end;
    double d = strtod(s, &end);
    if (errno != 0 || *end != '\0' || d < 0 || d > 1e9)
        return -1;
    *ns = (int64_t)(d * (double)WP_NS_PER_S + 0.5);
    return 0;
}
