#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""--ipfix-file against tshark's reading of the file and whichports' JSON.

For pcaps/apple-session.pcap and a sample of public captures in
SHARED_PCAPS (when the folder exists): whichports writes the JSON report
and an IPFIX file (RFC 5655) in one run; tshark decodes the file (its cflow
dissector, an independent decoder). Every JSON flow must appear exactly
once as a biflow record, from the client's side (source = client,
destination = server and service port), with packets and frame bytes in
both directions equal, start and end equal to first and last (in whole
milliseconds), and sequence numbers without gap (each message's number is
the previous one plus the previous message's data records). Two runs give
the same file.

With nfcapd and nfdump installed (Debian package nfdump), the same
captures go over UDP with --ipfix to an nfcapd on 127.0.0.1: every flow
arrives once with packets both ways, first and last and the service port
as destination port; its log shows no sequence error and no error line
except the known nfdump 1.7.1 quirk named below.

usage: test_ipfix.py WHICHPORTS SOURCE_ROOT [SHARED_PCAPS]
"""

import datetime
import functools
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SAMPLE = ['nDPI/tests/cfgs/default/pcap/iphone.pcap',
          'nDPI/tests/cfgs/default/pcap/1kxun.pcap',
          'nDPI/tests/cfgs/default/pcap/tls_certificate_too_long.pcap',
          'nDPI/tests/cfgs/default/pcap/dns_ambiguous_names.pcap']
# captures whose packets name their process (ptcpdump comments, Darwin blocks)
PROCESS_PCAPS = ['process/ptcpdump/curl-user.pcapng', 'process/ptcpdump/icmp.pcapng',
                 'process/apple-tcpdump/radar-101007576-iperf.pcapng']
PROTO = {'tcp': 6, 'udp': 17, 'icmp': 1, 'icmpv6': 58, 'sctp': 132}

n_test = 0
failed = 0


def ok(cond, msg):
    global n_test, failed
    n_test += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', n_test, msg))
    if not cond:
        failed += 1
    return cond


def iso_ms(s):
    """JSON time (ISO 8601, micro- or nanoseconds, Z) -> whole milliseconds."""
    whole, frac = s.rstrip('Z').split('.')
    t = datetime.datetime.strptime(whole, '%Y-%m-%dT%H:%M:%S').replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000 + int(frac[:3])


def tshark_records(path, extra=()):
    """(messages [(sequence, data records)], flow records [dict]) as tshark
    decodes the file."""
    out = subprocess.run(['tshark', '-r', path, '-T', 'pdml'] + list(extra), check=True,
                         capture_output=True).stdout
    root = ET.fromstring(out)
    msgs, recs = [], []
    for pkt in root.iter('packet'):
        for proto in pkt.iter('proto'):
            if proto.get('name') != 'cflow':
                continue
            seq = None
            nrec = 0
            for f in proto.iter('field'):
                if f.get('name') == 'cflow.sequence':
                    seq = int(f.get('show'))
            for s in proto:
                show = s.get('show') or ''
                if not show.startswith('Set ') or '[id=' not in show:
                    continue
                sid = int(show.split('[id=')[1].split(']')[0])
                if sid < 256:
                    continue
                for fl in s:
                    if not (fl.get('show') or '').startswith('Flow '):
                        continue
                    nrec += 1
                    if sid in (258, 259):  # options: application names, RFC 5610 types
                        continue
                    r = {}
                    for c in fl.iter('field'):
                        n = c.get('name')
                        if n in ('cflow.abstimestart', 'cflow.abstimeend'):
                            r[n] = int(c.get('value'), 16)
                        elif n == 'cflow.enterprise_private_entry':
                            sn = c.get('showname') or ''
                            if 'Documentation Use' in sn and 'Type ' in sn:
                                t = int(sn.split('Type ')[1].split(':')[0])
                                r.setdefault('pen', {})[t] = bytes.fromhex(c.get('value') or '')
                        elif n and n.startswith('cflow.') and c.get('show') is not None:
                            r.setdefault(n, []).append(c.get('show'))
                    recs.append(r)
            msgs.append((seq, nrec))
    return msgs, recs


L3_FIELDS = ['ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'ip.len', 'ipv6.plen', 'tcp.srcport',
             'tcp.dstport', 'udp.srcport', 'udp.dstport', 'tcp.flags', 'icmp.type', 'icmp.code',
             'icmpv6.type', 'icmpv6.code', 'vlan.id']


def tshark_l3(pcap):
    """What tshark says of each packet of the original capture, summed by
    direction (src, sport, dst, dport, proto, outer vlan): IP-layer octets
    (IPv4 total length, IPv6 40 + payload length), the OR of the TCP flags
    (low 8 bits), and the type and code of the first ICMP message. Only
    TCP, UDP, ICMP and ICMPv6 packets; ICMP errors count under ICMP (the
    ports tshark shows for them are the quoted packet's)."""
    cmd = ['tshark', '-r', pcap, '-T', 'fields', '-E', 'occurrence=f', '-E', 'separator=|',
           '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE']
    for f in L3_FIELDS:
        cmd += ['-e', f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    agg = {}
    for line in out.splitlines():
        v = dict(zip(L3_FIELDS, line.split('|')))
        if v['ip.src']:
            src, dst, ln = v['ip.src'], v['ip.dst'], int(v['ip.len'] or 0)
        elif v['ipv6.src']:
            src, dst, ln = v['ipv6.src'], v['ipv6.dst'], 40 + int(v['ipv6.plen'] or 0)
        else:
            continue
        sp = dp = 0
        tc = None
        if v['icmp.type']:
            proto, tc = 1, (int(v['icmp.type']), int(v['icmp.code'] or 0))
        elif v['icmpv6.type']:
            proto, tc = 58, (int(v['icmpv6.type']), int(v['icmpv6.code'] or 0))
        elif v['tcp.srcport']:
            proto, sp, dp = 6, int(v['tcp.srcport']), int(v['tcp.dstport'])
        elif v['udp.srcport']:
            proto, sp, dp = 17, int(v['udp.srcport']), int(v['udp.dstport'])
        else:
            continue
        k = (str(ipaddress.ip_address(src)), sp, str(ipaddress.ip_address(dst)), dp, proto,
             int(v['vlan.id'] or 0))
        a = agg.setdefault(k, {'octets': 0, 'flags': 0, 'icmp': tc})
        a['octets'] += ln
        a['flags'] |= int(v['tcp.flags'] or '0', 16) & 0xff
    return agg


def check(wp, pcap, tmp, label):
    js, fx = os.path.join(tmp, 'o.json'), os.path.join(tmp, 'o.ipfix')
    p = subprocess.run([wp, '-q', '-r', pcap, '-T', 'json', '-o', js, '--ipfix-file', fx],
                       capture_output=True, text=True)
    if not ok(p.returncode in (0, 3), '%s: whichports runs (%d %s)' %
              (label, p.returncode, p.stderr.strip()[:200])):
        return
    flows = json.load(open(js))['flows']
    msgs, recs = tshark_records(fx)
    gaps = [i for i in range(1, len(msgs))
            if msgs[i][0] != msgs[i - 1][0] + msgs[i - 1][1]]
    ok(msgs and msgs[0][0] == 0 and not gaps,
       '%s: %d messages, sequence numbers without gap %s' % (label, len(msgs), gaps[:3]))
    want = {}
    for f in flows:
        if f['first'] is None:
            continue
        k = (str(ipaddress.ip_address(f['client'])), f['client_port'] or 0,
             str(ipaddress.ip_address(f['server'])), f['server_port'] or 0,
             PROTO.get(f['transport']), f['vlan'] or 0)
        want.setdefault(k, []).append(f)
    got = {}
    for r in recs:
        src = (r.get('cflow.srcaddr') or r.get('cflow.srcaddrv6'))[0]
        dst = (r.get('cflow.dstaddr') or r.get('cflow.dstaddrv6'))[0]
        k = (str(ipaddress.ip_address(src)), int(r['cflow.srcport'][0]),
             str(ipaddress.ip_address(dst)), int(r.get('cflow.dstport', ['0'])[0]),
             int(r['cflow.protocol'][0]), int(r['cflow.vlanid'][0]))
        got.setdefault(k, []).append(r)
    ok(len(recs) == sum(len(v) for v in want.values()),
       '%s: %d records for %d flows' % (label, len(recs), sum(len(v) for v in want.values())))
    bad = []
    for k, fl in want.items():
        rs = got.get(k, [])
        if k[4] is None:  # a transport without a protocol number in the map
            rs = [r for kk, v in got.items() if kk[:4] == k[:4] for r in v]
        if len(rs) != len(fl):
            bad.append((k, 'records %d flows %d' % (len(rs), len(fl))))
            continue
        pairs = sorted((iso_ms(f['first']), id(f), f) for f in fl)
        rsort = sorted(rs, key=lambda r: r['cflow.abstimestart'])
        for (_, _, f), r in zip(pairs, rsort):
            exp = ([str(f['to_server']['packets']), str(f['to_client']['packets'])],
                   [str(f['to_server']['bytes']), str(f['to_client']['bytes'])],
                   iso_ms(f['first']), iso_ms(f['last']))
            have = (r.get('cflow.packets'), r.get('cflow.layer2_octet_delta_count'),
                    r['cflow.abstimestart'], r['cflow.abstimeend'])
            if exp != have:
                bad.append((k, exp, have))
    ok(not bad, '%s: every flow once, counts both ways and times equal %s' %
       (label, bad[:3]))
    # IP-layer octets, TCP flags both ways and ICMP type/code against
    # tshark's reading of the capture itself, summed over the records of a
    # key (a key's flows see the same packets in tshark)
    ref = tshark_l3(pcap)
    bad, n = [], 0
    for k, rs in got.items():
        if k[4] not in (1, 6, 17, 58):
            continue
        fwd, rev = ref.get(k, {}), ref.get((k[2], k[3], k[0], k[1], k[4], k[5]), {})
        n += 1
        have = [sum(int(r['cflow.octets'][0]) for r in rs),
                sum(int(r['cflow.octets'][1]) for r in rs)]
        exp = [fwd.get('octets', 0), rev.get('octets', 0)]
        if k[4] == 6:
            have += [functools.reduce(lambda a, r: a | int(r['cflow.tcpflags'][i], 16), rs, 0)
                     for i in (0, 1)]
            exp += [fwd.get('flags', 0), rev.get('flags', 0)]
        elif k[4] in (1, 58):
            r0 = min(rs, key=lambda r: r['cflow.abstimestart'])
            if k[4] == 1:
                tc = int(r0['cflow.icmp_type_code_ipv4'][0], 16)
                have.append((tc >> 8, tc & 0xff))
            else:
                have.append((int(r0['cflow.icmp_ipv6_type'][0]),
                             int(r0['cflow.icmp_ipv6_code'][0])))
            exp.append(fwd.get('icmp'))
        if have != exp:
            bad.append((k, exp, have))
    ok(n > 0 and not bad, '%s: octetDeltaCount (IP layer), tcpControlBits both ways, ICMP '
       'type/code equal tshark on the capture (%d keys) %s' % (label, n, bad[:3]))
    return fx


def rec_key(r):
    src = (r.get('cflow.srcaddr') or r.get('cflow.srcaddrv6'))[0]
    dst = (r.get('cflow.dstaddr') or r.get('cflow.dstaddrv6'))[0]
    return (str(ipaddress.ip_address(src)), int(r['cflow.srcport'][0]),
            str(ipaddress.ip_address(dst)), int(r.get('cflow.dstport', ['0'])[0]),
            int(r['cflow.protocol'][0]), int(r['cflow.vlanid'][0]))


def check_active(wp, pcap, tmp, label, secs=2):
    """--ipfix-active SECS on a capture: long flows are exported as delta
    records (flowEndReason 2, activeTimeout) then the remainder at their
    end; the deltas of a key add up, in packets, frame and IP octets both
    ways, to the JSON flows' counts; more records than flows; the same file
    on every run (times come from the capture)."""
    js, fx = os.path.join(tmp, 'a.json'), os.path.join(tmp, 'a.ipfix')
    files = []
    for _ in range(2):
        p = subprocess.run([wp, '-q', '-r', pcap, '-T', 'json', '-o', js, '--ipfix-file', fx,
                            '--ipfix-active', str(secs)], capture_output=True, text=True)
        ok(p.returncode == 0, '%s: --ipfix-active %d runs (%s)' % (label, secs, p.stderr[:200]))
        files.append(open(fx, 'rb').read())
    ok(files[0] == files[1], '%s: --ipfix-active: the same file on every run' % label)
    flows = [f for f in json.load(open(js))['flows'] if f['first'] is not None]
    msgs, recs = tshark_records(fx)
    gaps = [i for i in range(1, len(msgs)) if msgs[i][0] != msgs[i - 1][0] + msgs[i - 1][1]]
    want, got = {}, {}
    for f in flows:
        k = (str(ipaddress.ip_address(f['client'])), f['client_port'] or 0,
             str(ipaddress.ip_address(f['server'])), f['server_port'] or 0,
             PROTO.get(f['transport']), f['vlan'] or 0)
        w = want.setdefault(k, [0] * 4)
        w[0] += f['to_server']['packets']
        w[1] += f['to_client']['packets']
        w[2] += f['to_server']['bytes']
        w[3] += f['to_client']['bytes']
    n_active = 0
    for r in recs:
        g = got.setdefault(rec_key(r), [0] * 6)
        for i in range(2):
            g[i] += int(r['cflow.packets'][i])
            g[2 + i] += int(r['cflow.layer2_octet_delta_count'][i])
            g[4 + i] += int(r['cflow.octets'][i])
        n_active += r['cflow.flow_end_reason'][0] == '2'
    bad = [(k, w, got.get(k)) for k, w in want.items() if k[4] and w != got.get(k, [0] * 6)[:4]]
    ok(not bad and not gaps, '%s: --ipfix-active %d: per flow, the deltas add up to the JSON '
       'counts (packets, frame bytes both ways) %s %s' % (label, secs, bad[:2], gaps[:2]))
    # the IP-layer octets against tshark's reading of the capture
    ref = tshark_l3(pcap)
    bad = []
    for k, g in got.items():
        if k[4] not in (1, 6, 17, 58):
            continue
        exp = [ref.get(k, {}).get('octets', 0),
               ref.get((k[2], k[3], k[0], k[1], k[4], k[5]), {}).get('octets', 0)]
        if g[4:] != exp:
            bad.append((k, exp, g[4:]))
    ok(not bad, '%s: --ipfix-active %d: IP-layer octet deltas add up to tshark\'s %s'
       % (label, secs, bad[:2]))
    ok(n_active > 0 and len(recs) == len(flows) + n_active,
       '%s: --ipfix-active %d: %d records = %d flows + %d active timeout records'
       % (label, secs, len(recs), len(flows), n_active))


def check_active_many(wp, tmp, n=700):
    """A capture made here: `n` concurrent UDP flows 10.1.x.y:40000+i ->
    192.0.2.1:5000, each three 100-byte IP packets at 0, 1.5 and 3 s (all
    flows interleaved). With --ipfix-active 1 every flow gives three
    records of one packet and 100 IP octets each: two active timeout
    records (its packets at 1.5 and 3 s cross the 1 s and 3 s marks) and
    the last one; all the flows are in the exporter's table at once."""
    import struct
    path = os.path.join(tmp, 'many.pcap')
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t_us in (0, 1500000, 3000000):
            for i in range(n):
                ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 100, i, 0, 64, 17, 0,
                                 bytes([10, 1, i >> 8, i & 0xff]), bytes([192, 0, 2, 1]))
                udp = struct.pack('>HHHH', 40000 + i % 20000, 5000, 80, 0) + bytes(72)
                fr = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b'\x08\x00' + ip + udp
                ts = 1700000000 * 1000000 + t_us + i
                f.write(struct.pack('<IIII', ts // 1000000, ts % 1000000, len(fr), len(fr)) + fr)
    fx = os.path.join(tmp, 'many.ipfix')
    p = subprocess.run([wp, '-q', '-r', path, '-o', os.devnull, '--ipfix-file', fx,
                        '--ipfix-active', '1'], capture_output=True, text=True)
    _, recs = tshark_records(fx)
    per = {}
    for r in recs:
        k = rec_key(r)
        per.setdefault(k, []).append((int(r['cflow.packets'][0]), int(r['cflow.octets'][0]),
                                      r['cflow.flow_end_reason'][0]))
    bad = [(k, v) for k, v in per.items()
           if sorted(v) != [(1, 100, '2'), (1, 100, '2'), (1, 100, '4')]]
    ok(p.returncode == 0 and len(per) == n and not bad,
       '%d concurrent flows, --ipfix-active 1: three one-packet records each (two active) %s'
       % (n, bad[:2]))


# nfdump 1.7.1 reads applicationName in the options records only as a
# fixed-length field (fixed in 1.7.2); RFC 7011 allows variable length.
NFCAPD_QUIRKS = ['nbar option size error']


def collector_env():
    """The environment of a collector: without meson's MALLOC_PERTURB_,
    under which nfcapd 1.7.1 stores no flow for some values (it reads
    memory it did not initialise; seen with 26)."""
    return {k: v for k, v in os.environ.items() if k != 'MALLOC_PERTURB_'}


def free_udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


NAME_SRC = {None: 0, 'dns': 1, 'http': 2, 'quic': 3, 'sni': 4}


def check_pen(wp, pcap, tmp, label):
    """--ipfix-pen 32473 (RFC 5612, documentation): the enterprise elements
    of each record equal the JSON flow's name, name_source, apple,
    apple_service, how and outcome."""
    js, fx = os.path.join(tmp, 'p.json'), os.path.join(tmp, 'p.ipfix')
    p = subprocess.run([wp, '-q', '-r', pcap, '-T', 'json', '-o', js, '--ipfix-file', fx,
                        '--ipfix-pen', '32473'], capture_output=True, text=True)
    ok(p.returncode == 0, '%s: --ipfix-pen runs (%s)' % (label, p.stderr.strip()[:200]))
    flows = json.load(open(js))['flows']
    _, recs = tshark_records(fx)
    want = {}
    for f in flows:
        k = (f['client'], f['client_port'] or 0, f['server_port'] or 0)
        pr = f['process'] or {}
        want[k] = {101: (f['name'] or '').encode(), 102: bytes([NAME_SRC[f['name_source']]]),
                   103: bytes([1 if f['apple'] else 0]),
                   104: (f['apple_service'] or '').encode(), 105: f['how'].encode(),
                   106: (f['outcome'] or '').encode(), 107: (pr.get('name') or '').encode(),
                   108: max(pr.get('pid', 0), 0).to_bytes(4, 'big')}
    bad = []
    for r in recs:
        src = (r.get('cflow.srcaddr') or r.get('cflow.srcaddrv6'))[0]
        k = (str(ipaddress.ip_address(src)), int(r['cflow.srcport'][0]),
             int(r.get('cflow.dstport', ['0'])[0]))
        w = want.get(k)
        got = r.get('pen', {})
        # tshark leaves out empty variable-length values
        if w is None or any(got.get(t, b'') != v for t, v in w.items()):
            bad.append((k, w, got))
    ok(recs and not bad, '%s: enterprise elements (PEN 32473) equal the JSON flows (%d records, '
       '%d with a process) %s' % (label, len(recs), sum(1 for f in flows if f['process']),
                                  bad[:1]))


def check_nfacctd(wp, pcap, tmp, label):
    """pmacct's nfacctd with custom primitives (aggregate_primitives) keeps
    the enterprise elements of PEN 32473 intact."""
    import time
    d = tempfile.mkdtemp(dir=tmp)
    port = free_udp_port()
    prim = [('sname', 101, 'vlen', 'str'), ('nsrc', 102, '1', 'u_int'),
            ('apple', 103, '1', 'u_int'), ('asvc', 104, 'vlen', 'str'),
            ('rule', 105, 'vlen', 'str'), ('outc', 106, 'vlen', 'str'),
            ('pname', 107, 'vlen', 'str'), ('pid', 108, '4', 'u_int')]
    with open(os.path.join(d, 'prim.lst'), 'w') as f:
        for n, i, ln, sem in prim:
            f.write('name=%s\tfield_type=32473:%d\tlen=%s\tsemantics=%s\n' % (n, i, ln, sem))
    out = os.path.join(d, 'flows.json')
    with open(os.path.join(d, 'nfacctd.conf'), 'w') as f:
        f.write('daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: %d\n'
                'aggregate_primitives: %s\nplugins: print[p]\n'
                'aggregate[p]: src_host, dst_host, src_port, dst_port, proto, %s\n'
                'print_output[p]: json\nprint_output_file[p]: %s\nprint_refresh_time[p]: 1\n'
                % (port, os.path.join(d, 'prim.lst'), ', '.join(p[0] for p in prim), out))
    log = open(os.path.join(d, 'log'), 'w')
    nf = subprocess.Popen(['nfacctd', '-f', os.path.join(d, 'nfacctd.conf')], stdout=log,
                          stderr=subprocess.STDOUT, env=collector_env())
    try:
        for _ in range(100):
            if subprocess.run(['ss', '-Hlun', 'sport = :%d' % port], capture_output=True,
                              text=True).stdout.strip():
                break
            time.sleep(0.05)
        js = os.path.join(d, 'o.json')
        p = subprocess.run([wp, '-q', '-r', pcap, '-T', 'json', '-o', js, '--ipfix',
                            '127.0.0.1:%d' % port, '--ipfix-pen', '32473'],
                           capture_output=True, text=True)
        time.sleep(2.5)
    finally:
        nf.send_signal(2)
        nf.wait()
        log.close()
    flows = json.load(open(js))['flows']
    want = {}
    for f in flows:
        k = (str(ipaddress.ip_address(f['client'])), f['client_port'] or 0,
             str(ipaddress.ip_address(f['server'])), f['server_port'] or 0)
        want.setdefault(k, set()).add(
            (f['name'] or '', str(NAME_SRC[f['name_source']]), '1' if f['apple'] else '0',
             f['apple_service'] or '', f['how'], f['outcome'] or '',
             (f['process'] or {}).get('name') or '', str(max((f['process'] or {}).get('pid', 0), 0))))
    rows = [json.loads(l) for l in open(out)] if os.path.exists(out) else []
    bad = []
    seen = set()
    for r in rows:
        k = (str(ipaddress.ip_address(r['ip_src'])), r['port_src'],
             str(ipaddress.ip_address(r['ip_dst'])), r['port_dst'])
        seen.add(k)
        v = (r['sname'], r['nsrc'], r['apple'], r['asvc'], r['rule'], r['outc'], r['pname'],
             r['pid'])
        if v not in want.get(k, set()):
            bad.append((k, v, want.get(k)))
    ok(rows and not bad and seen == set(want),
       '%s: nfacctd custom primitives: names, Apple flag and service, rule, outcome, process '
       'intact (%d rows, %d keys) %s %s' % (label, len(rows), len(want), bad[:1],
                                     list(set(want) ^ seen)[:2]))


def check_udp_stream(wp, pcap, tmp, label):
    """The UDP export captured on the loopback (tcpdump) and decoded by
    tshark (-d udp.port==N,cflow): no sequence gap, every JSON flow once."""
    import socket
    import time
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(('127.0.0.1', 0))
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    port = sink.getsockname()[1]
    cap = os.path.join(tmp, 'udp.pcap')
    td = subprocess.Popen(['tcpdump', '-i', 'lo', '--immediate-mode', '-U', '-w', cap, 'udp port %d' % port],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    js = os.path.join(tmp, 'udp.json')
    p = run_offline(wp, pcap, js, '127.0.0.1:%d' % port)
    time.sleep(0.5)
    td.terminate()
    td.wait()
    sink.close()
    msgs, recs = tshark_records(cap, ['-d', 'udp.port==%d,cflow' % port])
    gaps = [i for i in range(1, len(msgs)) if msgs[i][0] != msgs[i - 1][0] + msgs[i - 1][1]]
    flows = [f for f in json.load(open(js))['flows'] if f['first'] is not None]
    ok(p.returncode == 0 and msgs and not gaps and len(recs) == len(flows),
       '%s: tshark decodes the UDP export: %d messages, no sequence gap %s, %d records for '
       '%d flows' % (label, len(msgs), gaps[:3], len(recs), len(flows)))


def check_tcp(wp, pcap, tmp, label):
    """--ipfix tcp:HOST:PORT: the byte stream a TCP listener receives is a
    sequence of messages, so written to a file it is an RFC 5655 file that
    tshark reads: templates first, every JSON flow once, no sequence gap."""
    import socket
    import threading
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    data = []

    def accept():
        c, _ = srv.accept()
        while True:
            b = c.recv(65536)
            if not b:
                break
            data.append(b)
        c.close()
    th = threading.Thread(target=accept)
    th.start()
    js = os.path.join(tmp, 'tcp.json')
    p = run_offline(wp, pcap, js, 'tcp:127.0.0.1:%d' % port)
    th.join(10)
    srv.close()
    fx = os.path.join(tmp, 'tcp.ipfix')
    with open(fx, 'wb') as f:
        f.write(b''.join(data))
    msgs, recs = tshark_records(fx)
    gaps = [i for i in range(1, len(msgs)) if msgs[i][0] != msgs[i - 1][0] + msgs[i - 1][1]]
    rep = json.load(open(js))
    flows = [f for f in rep['flows'] if f['first'] is not None]
    ok(p.returncode == 0 and msgs and not gaps and len(recs) == len(flows) and
       rep['totals']['export_dropped'] == 0,
       '%s: TCP export: %d messages, no sequence gap %s, %d records for %d flows' %
       (label, len(msgs), gaps[:3], len(recs), len(flows)))


def run_offline(wp, pcap, js, dest):
    return subprocess.run([wp, '-q', '-r', pcap, '-T', 'json', '-o', js, '--ipfix', dest],
                          capture_output=True, text=True)


def run_live_j2(wp, pcap, js, dest):
    return run_live(wp, pcap, js, dest, ['-j', '2'])


def run_live_active(wp, pcap, js, dest):
    """Replay at the capture's own pace (16 s) with a 1 s active timeout."""
    return run_live(wp, pcap, js, dest, ['--ipfix-active', '1'], duration=21,
                    speed=['--multiplier', '1'])


def run_live(wp, pcap, js, dest, extra=(), duration=5, speed=('--topspeed',), during=None):
    """Replay `pcap` on a veth pair into a network namespace made for the
    test; whichports captures the host side live and exports over UDP."""
    import time
    ns, a, b = 'wpipfix%d' % os.getpid(), 'wpx%da' % (os.getpid() % 100000), \
        'wpx%db' % (os.getpid() % 100000)
    sh = lambda *c: subprocess.run(list(c), check=True, capture_output=True)
    sh('ip', 'netns', 'add', ns)
    try:
        sh('ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b)
        sh('ip', 'link', 'set', b, 'netns', ns)
        # no IPv6 neighbour discovery or MLD from the replay side
        sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.%s.disable_ipv6=1' % b)
        sh('ip', 'link', 'set', a, 'up')
        sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', b, 'up')
        sh('sysctl', '-qw', 'net.ipv6.conf.%s.disable_ipv6=1' % a)
        w = subprocess.Popen([wp, '-q', '-i', a, '--duration', str(duration), '--no-process',
                              '-T', 'json',
                              '-o', js, '--ipfix', dest] + list(extra), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        if during is not None:  # called while the replay runs
            import threading
            threading.Timer(during[0], during[1]).start()
        sh('ip', 'netns', 'exec', ns, 'tcpreplay', '-q', '-i', b, *speed, pcap)
        out, err = w.communicate(timeout=60)
        with open(js) as f:  # live JSON is JSON Lines: the final report is the last
            last = f.read().splitlines()[-1]
        with open(js, 'w') as f:
            f.write(last)
        return subprocess.CompletedProcess(w.args, w.returncode, out, err)
    finally:
        subprocess.run(['ip', 'link', 'del', a], capture_output=True)
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)


def check_nfcapd(wp, pcap, tmp, label, run=run_offline):
    import time
    nf = tempfile.mkdtemp(dir=tmp)
    port = free_udp_port()
    log = open(os.path.join(nf, 'nfcapd.log'), 'w')
    cap = subprocess.Popen(['nfcapd', '-b', '127.0.0.1', '-p', str(port), '-w', nf, '-t', '3600'],
                           stdout=log, stderr=subprocess.STDOUT, env=collector_env())
    try:
        for _ in range(100):
            if subprocess.run(['ss', '-Hlun', 'sport = :%d' % port], capture_output=True,
                              text=True).stdout.strip():
                break
            time.sleep(0.05)
        js = os.path.join(nf, 'o.json')
        p = run(wp, pcap, js, '127.0.0.1:%d' % port)
        ok(p.returncode in (0, 3), '%s: whichports --ipfix runs (%s)' % (label, p.stderr.strip()[:200]))
        time.sleep(0.3)
    finally:
        cap.terminate()
        cap.wait()
        log.close()
    rep = json.load(open(js))
    ok(rep['totals'].get('export_dropped') == 0, '%s: export_dropped 0' % label)
    text = open(os.path.join(nf, 'nfcapd.log')).read()
    errs = [l for l in text.splitlines() if 'error' in l.lower() and 'Sequence Errors' not in l
            and not any(q in l for q in NFCAPD_QUIRKS)]
    ok('Sequence Errors: 0' in text and not errs, '%s: nfcapd: no sequence or other error %s'
       % (label, errs[:2]))
    out = subprocess.run(['nfdump', '-6', '-R', nf, '-q', '-o',
                          'fmt:%ts|%te|%pr|%sa|%sp|%da|%dp|%ipkt|%opkt|%bfd|%ibyt|%obyt'],
                         capture_output=True, text=True, check=True).stdout
    got, octets = {}, {}
    for line in out.splitlines():
        c = [x.strip() for x in line.split('|')]
        if len(c) < 10:
            print('# nfdump: %r' % line)
            continue
        # ICMP: nfdump shows icmpTypeCode as the destination port, type.code;
        # the JSON's server port is 0
        dp = 0 if c[2] in ('ICMP', 'ICMP6') else int(c[6])
        k = (str(ipaddress.ip_address(c[3])), int(c[4]), str(ipaddress.ip_address(c[5])), dp)
        got.setdefault(k, []).append((c[0], c[1], int(c[7]), int(c[8])))
        pr = {'TCP': 6, 'UDP': 17, 'ICMP': 1, 'ICMP6': 58}.get(c[2], 0)
        o = octets.setdefault(k + (pr,), [0, 0])
        o[0] += int(c[10])
        o[1] += int(c[11])
    def fmt(ms):
        t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
        return t.strftime('%Y-%m-%d %H:%M:%S.') + '%03d' % (ms % 1000)
    want = {}
    for f in rep['flows']:
        if f['first'] is None:
            continue
        k = (str(ipaddress.ip_address(f['client'])), f['client_port'] or 0,
             str(ipaddress.ip_address(f['server'])), f['server_port'] or 0)
        want.setdefault(k, []).append((fmt(iso_ms(f['first'])), fmt(iso_ms(f['last'])),
                                       f['to_server']['packets'], f['to_client']['packets']))
    bad = [(k, v, got.get(k)) for k, v in want.items() if sorted(v) != sorted(got.get(k, []))]
    extra = [k for k in got if k not in want]
    ok(not bad and not extra, '%s: nfdump: every flow once, packets both ways, times %s %s'
       % (label, bad[:2], extra[:2]))
    # nfdump's bytes are octetDeltaCount: the IP-layer octets tshark reads
    ref = tshark_l3(pcap)
    bad = [(k, v, [ref.get(k + (0,), {}).get('octets', 0),
                   ref.get((k[2], k[3], k[0], k[1], k[4], 0), {}).get('octets', 0)])
           for k, v in octets.items() if k[4] in (1, 6, 17, 58)]
    bad = [b for b in bad if b[1] != b[2]]
    ok(octets and not bad, '%s: nfdump: bytes both ways (octetDeltaCount) equal tshark\'s IP '
       'octets %s' % (label, bad[:2]))


def check_live_active(wp, pcap, tmp, label):
    """Live, a 1 s active timeout, the capture replayed at its own pace into
    nfcapd: flows of 2 s send active timeout records; per flow key the
    exported packets (both ways) add up to the final report's, the IP
    octets (both ways) to tshark's reading of the capture; records = flows
    + active records; nothing lost."""
    import time
    nf = tempfile.mkdtemp(dir=tmp)
    port = free_udp_port()
    log = open(os.path.join(nf, 'nfcapd.log'), 'w')
    cap = subprocess.Popen(['nfcapd', '-b', '127.0.0.1', '-p', str(port), '-w', nf, '-t', '3600'],
                           stdout=log, stderr=subprocess.STDOUT, env=collector_env())
    try:
        for _ in range(100):
            if subprocess.run(['ss', '-Hlun', 'sport = :%d' % port], capture_output=True,
                              text=True).stdout.strip():
                break
            time.sleep(0.05)
        js = os.path.join(nf, 'o.json')
        p = run_live_active(wp, pcap, js, '127.0.0.1:%d' % port)
        time.sleep(0.3)
    finally:
        cap.terminate()
        cap.wait()
        log.close()
    rep = json.load(open(js))
    out = subprocess.run(['nfdump', '-6', '-R', nf, '-q', '-o',
                          'fmt:%pr|%sa|%sp|%da|%dp|%ipkt|%opkt|%ibyt|%obyt|%end'],
                         capture_output=True, text=True, check=True).stdout
    got, n_rec, n_act = {}, 0, 0
    for line in out.splitlines():
        c = [x.strip() for x in line.split('|')]
        if len(c) < 10:
            continue
        pr = {'TCP': 6, 'UDP': 17, 'ICMP': 1, 'ICMP6': 58}.get(c[0], 0)
        dp = 0 if pr in (1, 58) else int(c[4])
        k = (str(ipaddress.ip_address(c[1])), int(c[2]), str(ipaddress.ip_address(c[3])), dp, pr)
        g = got.setdefault(k, [0, 0, 0, 0])
        for i in range(4):
            g[i] += int(c[5 + i])
        n_rec += 1
        n_act += c[9] in ('2', 'active')
    want = {}
    flows = [f for f in rep['flows'] if f['first'] is not None]
    for f in flows:
        k = (str(ipaddress.ip_address(f['client'])), f['client_port'] or 0,
             str(ipaddress.ip_address(f['server'])), f['server_port'] or 0,
             PROTO.get(f['transport'], 0))
        w = want.setdefault(k, [0, 0])
        w[0] += f['to_server']['packets']
        w[1] += f['to_client']['packets']
    ref = tshark_l3(pcap)
    bad = []
    for k, w in want.items():
        g = got.get(k, [0, 0, 0, 0])
        exp = w + [ref.get(k + (0,), {}).get('octets', 0),
                   ref.get((k[2], k[3], k[0], k[1], k[4], 0), {}).get('octets', 0)]
        if g != exp:
            bad.append((k, exp, g))
    ok(p.returncode == 0 and rep['totals']['export_dropped'] == 0 and not bad and
       set(got) == set(want),
       '%s: live --ipfix-active 1: per flow the exported deltas add up to the final report\'s '
       'packets and to tshark\'s IP octets, both ways %s' % (label, bad[:2]))
    ok(n_act > 0 and n_rec == len(flows) + n_act,
       '%s: live --ipfix-active 1: %d records = %d flows + %d active timeout records'
       % (label, n_rec, len(flows), n_act))


def count_apps(wp, pcap, tmp):
    """The applicationId options records an export of `pcap` ends with, as
    tshark counts them in an --ipfix-file of it."""
    fx = os.path.join(tmp, 'apps.ipfix')
    subprocess.run([wp, '-q', '-r', pcap, '-o', os.devnull, '--ipfix-file', fx], check=True)
    msgs, recs = tshark_records(fx)
    return sum(n for _, n in msgs) - len(recs)


def check_collector_stops(wp, pcap, tmp, label, tcp):
    """Live, the capture replayed at its own pace (16 s) with --max-flows 5,
    so that flows are evicted, hence exported, all along; the collector
    (nfcapd over UDP, a TCP listener written here) is stopped after 8 s.
    whichports exits 0, the capture's counts equal an offline analysis of
    the file, and the data records (RFC 7011: flow records and options
    records, the unit of totals.export_dropped) that the collector received
    plus export_dropped equal the records sent: one per flow created
    (totals.flows) plus the applicationId records (tshark on a file). The
    TCP collector reads what reached it before it closes (records its
    kernel took but it never read would be lost unseen: IPFIX over TCP has
    no acknowledgement)."""
    import socket
    import threading
    import time
    d = tempfile.mkdtemp(dir=tmp)
    port = free_udp_port()
    received = [0]
    if tcp:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(('127.0.0.1', 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        stop = threading.Event()
        data = bytearray()

        def collect():
            srv.settimeout(0.2)
            c = None
            while not stop.is_set():
                try:
                    if c is None:
                        c, _ = srv.accept()
                        c.settimeout(0.2)
                    b = c.recv(65536)
                    if not b:
                        c.close()
                        c = None
                    data.extend(b)
                except OSError:
                    pass
            if c is not None:  # what arrived before the stop is read
                c.setblocking(False)
                try:
                    while True:
                        b = c.recv(65536)
                        if not b:
                            break
                        data.extend(b)
                except OSError:
                    pass
                c.close()
            srv.close()
        th = threading.Thread(target=collect)
        th.start()
        dest = 'tcp:127.0.0.1:%d' % port

        def halt():
            stop.set()
    else:
        nfd = tempfile.mkdtemp(dir=d)
        log = open(os.path.join(d, 'nfcapd.log'), 'w')
        cap = subprocess.Popen(['nfcapd', '-b', '127.0.0.1', '-p', str(port), '-w', nfd, '-t',
                                '3600'], stdout=log, stderr=subprocess.STDOUT, env=collector_env())
        for _ in range(100):
            if subprocess.run(['ss', '-Hlun', 'sport = :%d' % port], capture_output=True,
                              text=True).stdout.strip():
                break
            time.sleep(0.05)
        dest = '127.0.0.1:%d' % port

        def halt():
            cap.terminate()
            cap.wait()
    js = os.path.join(d, 'live.json')
    p = run_live(wp, pcap, js, dest, ['--max-flows', '5', '--ipfix-active', '0'], duration=21,
                 speed=['--multiplier', '1'], during=(8.0, halt))
    if tcp:
        th.join(10)
        fx = os.path.join(d, 'tcp.ipfix')
        # complete messages only
        o = 0
        while o + 4 <= len(data):
            n = int.from_bytes(data[o + 2:o + 4], 'big')
            if n < 16 or o + n > len(data):
                break
            o += n
        with open(fx, 'wb') as f:
            f.write(bytes(data[:o]))
        msgs, _ = tshark_records(fx) if o else ([], [])
        received[0] = sum(n for _, n in msgs)
    else:
        log.close()
        out = subprocess.run(['nfdump', '-6', '-R', nfd, '-q', '-o', 'fmt:%pr|%sa'],
                             capture_output=True, text=True).stdout
        received[0] = sum(1 for l in out.splitlines() if '|' in l)
    rep = json.load(open(js))
    off = os.path.join(d, 'off.json')
    subprocess.run([wp, '-q', '-r', pcap, '-T', 'json', '-o', off, '--max-flows', '5'],
                   check=True)
    offr = json.load(open(off))
    tot = lambda r: (r['totals']['packets'], r['totals']['bytes'],
                     sorted((x['port'] or 0, x['transport'], x['packets'], x['bytes'])
                            for x in r['ports']))
    sent = rep['totals']['flows'] + count_apps(wp, pcap, d)
    dropped = rep['totals']['export_dropped']
    what = 'TCP' if tcp else 'UDP'
    ok(p.returncode == 0 and tot(rep) == tot(offr),
       '%s: %s collector stopped halfway: exit %d, capture counts equal the offline analysis'
       % (label, what, p.returncode))
    exact = received[0] + dropped == sent
    ok(received[0] > 0 and dropped > 0 and exact,
       '%s: %s collector stopped halfway: %d data records received + %d export_dropped == %d '
       'sent' % (label, what, received[0], dropped, sent))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    wp, src = sys.argv[1], sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else ''
    if shutil.which('tshark') is None:
        print('1..0 # SKIP tshark is not installed')
        return 77
    pcaps = [('apple-session', os.path.join(src, 'pcaps', 'apple-session.pcap'))]
    if shared and os.path.isdir(shared):
        pcaps += [(os.path.basename(s), os.path.join(shared, s)) for s in SAMPLE
                  if os.path.exists(os.path.join(shared, s))]
    with tempfile.TemporaryDirectory() as tmp:
        for label, pcap in pcaps:
            fx = check(wp, pcap, tmp, label)
            if label == 'apple-session':
                check_pen(wp, pcap, tmp, label)
        check_active_many(wp, tmp)
        for label, pcap in pcaps:
            if label in ('iphone.pcap', '1kxun.pcap'):  # flows of minutes
                check_active(wp, pcap, tmp, label)
        for s in PROCESS_PCAPS:  # the process as enterprise elements
            if shared and os.path.exists(os.path.join(shared, s)):
                check_pen(wp, os.path.join(shared, s), tmp, os.path.basename(s))
            if label == 'apple-session' and fx:
                first = open(fx, 'rb').read()
                check(wp, pcap, tmp, label + ' again')
                ok(open(fx, 'rb').read() == first, 'the same file on every run')
        if shutil.which('nfcapd') and shutil.which('nfdump'):
            for label, pcap in pcaps:
                check_nfcapd(wp, pcap, tmp, label)
            check_tcp(wp, pcaps[0][1], tmp, pcaps[0][0])
            if shutil.which('nfacctd'):
                check_nfacctd(wp, pcaps[0][1], tmp, pcaps[0][0])
                for s in PROCESS_PCAPS[:1]:
                    if shared and os.path.exists(os.path.join(shared, s)):
                        check_nfacctd(wp, os.path.join(shared, s), tmp, os.path.basename(s))
            # a collector that is not there: losses counted and warned, capture exact
            pcap = pcaps[0][1]
            for dest in ('127.0.0.1:%d' % free_udp_port(), 'tcp:127.0.0.1:%d' % free_udp_port()):
                js = os.path.join(tmp, 'down.json')
                p = subprocess.run([wp, '-r', pcap, '-T', 'json', '-o', js, '--ipfix', dest],
                                   capture_output=True, text=True)
                rep = json.load(open(js))
                sent = rep['totals']['flows'] + count_apps(wp, pcap, tmp)
                ok(p.returncode == 0 and rep['totals']['export_dropped'] == sent and
                   'totals.export_dropped' in p.stderr and rep['totals']['flows'] == 50,
                   'collector down (%s): exit 0, all %d records sent counted lost (%d), warned' %
                   (dest, sent, rep['totals']['export_dropped']))
            if os.geteuid() == 0 and shutil.which('tcpdump'):
                check_udp_stream(wp, pcaps[0][1], tmp, pcaps[0][0])
            if os.geteuid() == 0 and shutil.which('tcpreplay') and shutil.which('ip'):
                check_nfcapd(wp, pcaps[0][1], tmp, 'live ' + pcaps[0][0], run_live)
                check_nfcapd(wp, pcaps[0][1], tmp, 'live -j 2 ' + pcaps[0][0], run_live_j2)
                check_live_active(wp, pcaps[0][1], tmp, pcaps[0][0])
                check_collector_stops(wp, pcaps[0][1], tmp, pcaps[0][0], False)
                check_collector_stops(wp, pcaps[0][1], tmp, pcaps[0][0], True)
            else:
                print('# not root or no tcpreplay: the live export is not checked')
        else:
            print('# nfcapd/nfdump not installed: the UDP export is not checked')
    print('1..%d' % n_test)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
