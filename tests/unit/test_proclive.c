/* SPDX-License-Identifier: BSD-3-Clause */
/* \summary: unit tests of live attribution: /proc parsers on fixture text,
 * and on Linux the helper thread attributing this test's own sockets */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wp/proclive.h"

static const uint8_t LO4[4] = {127, 0, 0, 1};

static void test_netline(void)
{
    struct wp_proclive_netsock s;
    /* header line */
    TAP_OK(wp_proclive_parse_netline("  sl  local_address rem_address   st tx_queue rx_queue tr "
                                     "tm->when retrnsmt   uid  timeout inode\n",
                                     4, &s) != 0,
           "header line rejected");
    /* a listener on 127.0.0.1:631: 0100007F is 127.0.0.1 read as a
     * little-endian word, 0277 = 631, state 0A = LISTEN */
    int r = wp_proclive_parse_netline("   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 "
                                      "00:00000000 00000000     0        0 23154 1 "
                                      "0000000000000000 100 0 0 10 0\n",
                                      4, &s);
    TAP_EQ(r, 0, "tcp listener line parsed");
    TAP_OK(memcmp(s.local, LO4, 4) == 0, "local address 127.0.0.1");
    TAP_EQ(s.lport, 631, "local port 631");
    TAP_EQ(s.rport, 0, "remote port 0");
    TAP_EQ(s.state, 10, "state LISTEN (0x0A)");
    TAP_EQ(s.uid, 0, "uid 0");
    TAP_EQ(s.inode, 23154, "inode 23154");

    /* an established connection 10.0.2.15:54321 -> 93.184.216.34:443, uid
     * 1000 (0F02000A = 10.0.2.15, 22D8B85D = 93.184.216.34, D431 = 54321) */
    r = wp_proclive_parse_netline("  12: 0F02000A:D431 22D8B85D:01BB 01 00000000:00000000 "
                                  "02:00000A5F 00000000  1000        0 987654 2 "
                                  "0000000000000000 20 4 30 10 -1",
                                  4, &s);
    TAP_EQ(r, 0, "tcp established line parsed");
    static const uint8_t a1[4] = {10, 0, 2, 15}, a2[4] = {93, 184, 216, 34};
    TAP_OK(memcmp(s.local, a1, 4) == 0, "local 10.0.2.15");
    TAP_OK(memcmp(s.remote, a2, 4) == 0, "remote 93.184.216.34");
    TAP_EQ(s.lport, 54321, "local port 54321");
    TAP_EQ(s.rport, 443, "remote port 443");
    TAP_EQ(s.uid, 1000, "uid 1000");
    TAP_EQ(s.inode, 987654, "inode 987654");

    /* IPv6: four words, each in host order. ::ffff:127.0.0.1 port 40000
     * to ::1 port 53 */
    r = wp_proclive_parse_netline("   1: 0000000000000000FFFF00000100007F:9C40 "
                                  "00000000000000000000000001000000:0035 01 00000000:00000000 "
                                  "00:00000000 00000000   101        0 45678 2 0000000000000000",
                                  6, &s);
    TAP_EQ(r, 0, "tcp6 line parsed");
    static const uint8_t m6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
    static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    TAP_OK(memcmp(s.local, m6, 16) == 0, "local ::ffff:127.0.0.1");
    TAP_OK(memcmp(s.remote, lo6, 16) == 0, "remote ::1");
    TAP_EQ(s.lport, 40000, "port 40000");
    TAP_EQ(s.rport, 53, "port 53");
    TAP_EQ(s.uid, 101, "uid 101");
    TAP_EQ(s.inode, 45678, "inode 45678");

    /* an unconnected UDP socket on 0.0.0.0:68 */
    r = wp_proclive_parse_netline("  123: 00000000:0044 00000000:0000 07 00000000:00000000 "
                                  "00:00000000 00000000     0        0 17123 2 "
                                  "0000000000000000 0\n",
                                  4, &s);
    TAP_EQ(r, 0, "udp line parsed");
    TAP_EQ(s.lport, 68, "udp port 68");
    TAP_EQ(s.state, 7, "udp state 07");
    TAP_EQ(s.inode, 17123, "udp inode");

    /* malformed: short address, bad hex, missing inode, v6 text read as v4 */
    TAP_OK(wp_proclive_parse_netline("   0: 0100007:0277 00000000:0000 0A", 4, &s) != 0,
           "short address rejected");
    TAP_OK(wp_proclive_parse_netline("   0: 0100007G:0277 00000000:0000 0A 0:0 0:0 0 0 0 1", 4,
                                     &s) != 0,
           "bad hex rejected");
    TAP_OK(wp_proclive_parse_netline("   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 "
                                     "00:00000000 00000000     0        0",
                                     4, &s) != 0,
           "missing inode rejected");
    TAP_OK(wp_proclive_parse_netline("   1: 0000000000000000FFFF00000100007F:9C40 "
                                     "00000000000000000000000001000000:0035 01",
                                     4, &s) != 0,
           "IPv6 line read as IPv4 rejected");
    TAP_OK(wp_proclive_parse_netline("", 4, &s) != 0, "empty line rejected");
    TAP_OK(wp_proclive_parse_netline("   0: 0100007F:0277", 5, &s) != 0, "family 5 rejected");
    TAP_OK(wp_proclive_parse_netline("   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 "
                                     "00:00000000 00000000     0        0 "
                                     "99999999999999999999999",
                                     4, &s) != 0,
           "inode overflow rejected");
}

static void test_links(void)
{
    const char *l = "socket:[12345]";
    TAP_EQ(wp_proclive_parse_socket_link(l, strlen(l)), 12345, "socket link");
    l = "socket:[18446744073709551615]";
    TAP_EQ(wp_proclive_parse_socket_link(l, strlen(l)), UINT64_MAX, "largest inode");
    const char *bad[] = {"pipe:[1]",
                         "socket:[]",
                         "socket:[12a]",
                         "/dev/null",
                         "socket:[1",
                         "socket:[18446744073709551616]",
                         "anon_inode:[eventfd]",
                         ""};
    for (size_t i = 0; i < WP_ARRAY_LEN(bad); i++)
        TAP_EQ(wp_proclive_parse_socket_link(bad[i], strlen(bad[i])), 0, "not a socket: '%s'",
               bad[i]);
    /* readlink gives no NUL: the length bounds the text */
    TAP_EQ(wp_proclive_parse_socket_link("socket:[77]xyz", 11), 77, "length respected");
}

static void test_status(void)
{
    const char *st = "Name:\tcurl\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n"
                     "Pid:\t4242\nPPid:\t1\nTracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\n"
                     "Gid:\t100\t100\t100\t100\n";
    TAP_EQ(wp_proclive_parse_status_uid(st), 1000, "real uid from status");
    TAP_EQ(wp_proclive_parse_status_uid("Name:\tx\nGid:\t0\n") + 1, 0, "no Uid line: -1");
    TAP_EQ(wp_proclive_parse_status_uid("Uid:\tabc\n") + 1, 0, "bad Uid: -1");
    TAP_EQ(wp_proclive_parse_status_uid("Uid:\t0\t0\t0\t0"), 0, "uid 0 at the start, no newline");
}

static void cg(const char *text, const char *want)
{
    char out[WP_PL_CONTAINER_MAX];
    size_t n = wp_proclive_parse_cgroup(text, out, sizeof(out));
    TAP_OK(strcmp(out, want) == 0 && n == strlen(want), "cgroup -> '%s' (got '%s')", want, out);
}

static void test_cgroup(void)
{
    cg("0::/system.slice/docker-4f6c1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f."
       "scope\n",
       "docker:4f6c1a2b3c4d");
    cg("12:pids:/docker/abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n"
       "11:cpu,cpuacct:/docker/abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n"
       "0::/system.slice/containerd.service\n",
       "docker:abcdef012345");
    cg("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice/"
       "cri-containerd-0123456789abcdef0123456789abcdef.scope\n",
       "kubepods:0123456789ab");
    cg("0::/user.slice/user-1000.slice/user@1000.service/user.slice/"
       "libpod-9f8e7d6c5b4a39281706f5e4d3c2b1a0.scope/container\n",
       "podman:9f8e7d6c5b4a");
    cg("0::/user.slice/user-1000.slice/user@1000.service/user.slice/"
       "libpod-9f8e7d6c5b4a39281706f5e4d3c2b1a0.scope\n",
       "podman:9f8e7d6c5b4a");
    cg("0::/lxc.payload.web1/system.slice/nginx.service\n", "lxc:web1");
    cg("4:memory:/lxc/db2/init.scope\n", "lxc:db2");
    cg("0::/machine.slice/machine-debian.scope/payload/system.slice/cron.service\n",
       "machine:debian");
    cg("0::/user.slice/user-1000.slice/session-2.scope\n", "");
    cg("0::/\n", "");
    cg("", "");
    cg("garbage without colons\n", "");
    /* a short id is not a container id */
    cg("0::/system.slice/docker-abc.scope\n", "");
    /* cut to the buffer */
    char small[8];
    wp_proclive_parse_cgroup("0::/lxc/averyveryverylongname\n", small, sizeof(small));
    TAP_OK(strcmp(small, "lxc:ave") == 0, "cut to the buffer ('%s')", small);
}

#ifdef __linux__
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct wp_proclive_answer last;
static size_t n_answers;

static void on_answer(void *ctx, const struct wp_proclive_answer *a)
{
    (void)ctx;
    last = *a;
    n_answers++;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_in sa;
    socklen_t l = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &l);
    return ntohs(sa.sin_port);
}

static struct wp_flow_key key4(const uint8_t *a0, uint16_t p0, const uint8_t *a1, uint16_t p1,
                               uint8_t proto)
{
    struct wp_flow_key k;
    memset(&k, 0, sizeof(k));
    memcpy(k.addr[0], a0, 4);
    memcpy(k.addr[1], a1, 4);
    k.port[0] = p0;
    k.port[1] = p1;
    k.proto = proto;
    k.family = 4;
    return k;
}

/* Ask for one flow and wait for its answer. */
static bool ask(struct wp_proclive *pl, const struct wp_flow_key *k, unsigned client)
{
    size_t before = n_answers;
    if (wp_proclive_request(pl, k, client, 1) != WP_PL_OK)
        return false;
    wp_proclive_drain(pl, 5000, on_answer, NULL);
    return n_answers == before + 1;
}

static void expect_self(const char *what)
{
    char comm[32] = "";
    FILE *f = fopen("/proc/self/comm", "r");
    if (f != NULL) {
        if (fgets(comm, sizeof(comm), f) == NULL)
            comm[0] = '\0';
        fclose(f);
    }
    comm[strcspn(comm, "\n")] = '\0';
    char exe[WP_PL_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    struct passwd *pw = getpwuid(getuid());
    TAP_EQ(last.status, WP_PL_OK, "%s: attributed (%s)", what,
           wp_proclive_status_name((enum wp_proclive_status)last.status));
    TAP_EQ(last.pid, getpid(), "%s: pid is ours", what);
    TAP_OK(strcmp(last.comm, comm) == 0, "%s: comm '%s' = '%s'", what, last.comm, comm);
    TAP_OK(strcmp(last.exe, exe) == 0, "%s: exe '%s'", what, last.exe);
    TAP_OK(pw != NULL && strcmp(last.user, pw->pw_name) == 0, "%s: user '%s'", what, last.user);
    TAP_EQ(last.uid, getuid(), "%s: uid", what);
}

static void test_live(bool proc_net_only)
{
    const char *how = proc_net_only ? "/proc/net" : "sock_diag";
    struct wp_proclive *pl;
    char err[WP_ERRBUF_SIZE];
    struct wp_proclive_opts o = {0, 0, proc_net_only, NULL};
    if (!TAP_OK(wp_proclive_start(&pl, &o, err) == 0, "%s: started (%s)", how, err))
        return;
    TAP_OK(wp_proclive_is_local(pl, 4, LO4), "127.0.0.1 is local");

    /* TCP: a listener, a client, the accepted end */
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int cs = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t l = sizeof(sa);
    if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 1) != 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &l) != 0 ||
        connect(cs, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        TAP_OK(0, "%s: loopback TCP set up", how);
        return;
    }
    int as = accept(ls, NULL, NULL);
    struct wp_flow_key k = key4(LO4, port_of(cs), LO4, port_of(ls), 6);
    TAP_OK(ask(pl, &k, 0), "%s: TCP answered", how);
    expect_self("TCP client end");
    TAP_EQ(last.local, 0, "%s: the client end was looked up", how);
    /* the server end alone (client end not looked at: ask with client 1) */
    TAP_OK(ask(pl, &k, 1), "%s: TCP server end answered", how);
    expect_self("TCP server end");
    TAP_EQ(last.local, 1, "%s: the server end was looked up", how);

    /* UDP, not connected: matched by its local port */
    int us = socket(AF_INET, SOCK_DGRAM, 0);
    sa.sin_port = 0;
    if (bind(us, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        TAP_OK(0, "%s: UDP bound", how);
        return;
    }
    static const uint8_t peer[4] = {127, 0, 0, 9};
    k = key4(LO4, port_of(us), peer, 5353, 17);
    TAP_OK(ask(pl, &k, 0), "%s: unconnected UDP answered", how);
    expect_self("unconnected UDP");

    /* no socket: gone */
    close(as);
    close(cs);
    uint16_t lport = port_of(ls);
    close(ls);
    static const uint8_t far[4] = {127, 0, 0, 7};
    k = key4(LO4, lport, far, 1, 6);
    TAP_OK(ask(pl, &k, 0), "%s: closed TCP answered", how);
    TAP_EQ(last.status, WP_PL_GONE, "%s: closed socket -> gone", how);
    TAP_EQ(last.pid, 0, "%s: no pid when gone", how);

    /* not local: no answer comes */
    static const uint8_t x[4] = {192, 0, 2, 1}, y[4] = {198, 51, 100, 1};
    k = key4(x, 1000, y, 80, 6);
    TAP_EQ(wp_proclive_request(pl, &k, 0, 1), WP_PL_NOT_LOCAL, "%s: not local", how);
    k.proto = 1;
    TAP_EQ(wp_proclive_request(pl, &k, 0, 1), WP_PL_NOT_LOCAL, "%s: ICMP not looked up", how);
    /* a loopback source facing another address: forged, not this host's */
    static const uint8_t lo5[4] = {127, 0, 0, 5};
    k = key4(lo5, 1000, y, 80, 17);
    TAP_EQ(wp_proclive_request(pl, &k, 0, 1), WP_PL_NOT_LOCAL, "%s: 127/8 facing 198.51.100.1",
           how);
    k = key4(y, 80, lo5, 1000, 6);
    TAP_EQ(wp_proclive_request(pl, &k, 1, 1), WP_PL_NOT_LOCAL, "%s: and as the other end", how);

    /* a UDP port with no socket: gone, remembered for 50 ms, then looked
     * up again (a socket bound to it meanwhile is found) */
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    sa.sin_port = 0;
    if (bind(probe, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        TAP_OK(0, "%s: UDP probe bound", how);
        return;
    }
    uint16_t uport = port_of(probe);
    close(probe); /* a port that was free a moment ago, free again */
    static const uint8_t peer2[4] = {127, 0, 0, 11};
    k = key4(LO4, uport, peer2, 4444, 17);
    TAP_OK(ask(pl, &k, 0), "%s: unused UDP port answered", how);
    TAP_EQ(last.status, WP_PL_GONE, "%s: unused UDP port -> gone", how);
    int late = socket(AF_INET, SOCK_DGRAM, 0);
    sa.sin_port = htons(uport);
    if (bind(late, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        TAP_OK(0, "%s: UDP bound to the port again", how);
        return;
    }
    struct timespec wait = {0, 100 * 1000000L};
    nanosleep(&wait, NULL);
    k = key4(LO4, uport, peer2, 4445, 17);
    TAP_OK(ask(pl, &k, 0), "%s: the port, now bound, answered", how);
    expect_self("UDP port bound after a miss");
    /* found at its own end (end 1's swapped view would find it too) */
    TAP_EQ(last.local & 1, 0, "%s: found at the bound end", how);
    close(late);

    /* the 5-tuple cache: the same flow again within cache_ns */
    k = key4(LO4, port_of(us), peer, 5353, 17);
    uint64_t hits = wp_proclive_stats(pl)->cache_hits;
    TAP_OK(ask(pl, &k, 0), "%s: UDP again", how);
    TAP_EQ(wp_proclive_stats(pl)->cache_hits, hits + 1, "%s: answered from the cache", how);
    expect_self("cached UDP");
    close(us);

    const struct wp_proclive_stats *st = wp_proclive_stats(pl);
    TAP_EQ(st->queued, st->answered, "%s: every queued request answered", how);
    TAP_EQ(st->requested, st->queued + st->by_status[WP_PL_NOT_LOCAL], "%s: counts add up", how);
    wp_proclive_stop(pl);
}

/* A small queue flooded at once: what does not fit is counted, never lost. */
static void test_queue_full(void)
{
    struct wp_proclive *pl;
    char err[WP_ERRBUF_SIZE];
    struct wp_proclive_opts o = {2, 0, false, NULL};
    if (!TAP_OK(wp_proclive_start(&pl, &o, err) == 0, "small queue started"))
        return;
    for (uint16_t i = 0; i < 2000; i++) {
        struct wp_flow_key k = key4(LO4, (uint16_t)(10000 + i), LO4, 9, 6);
        (void)wp_proclive_request(pl, &k, 0, 1);
    }
    size_t left = wp_proclive_drain(pl, 20000, NULL, NULL);
    const struct wp_proclive_stats *st = wp_proclive_stats(pl);
    TAP_EQ(left, 0, "all queued requests answered");
    TAP_EQ(st->requested, 2000, "2000 requested");
    TAP_EQ(st->queued + st->by_status[WP_PL_DROPPED], 2000, "queued + dropped = requested");
    TAP_OK(st->by_status[WP_PL_DROPPED] > 0, "some dropped (%llu)",
           (unsigned long long)st->by_status[WP_PL_DROPPED]);
    TAP_EQ(st->by_status[WP_PL_GONE], st->queued, "every queued one gone (no such sockets)");
    wp_proclive_stop(pl);
}
#endif

int main(void)
{
    test_netline();
    test_links();
    test_status();
    test_cgroup();
#ifdef __linux__
    test_live(false);
    test_live(true);
    test_queue_full();
#endif
    return tap_done();
}
