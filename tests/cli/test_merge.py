# SPDX-License-Identifier: BSD-3-Clause
"""--merge: reports merged equal one -j analysis of all their captures.

The reference is whichports itself run with -j over the same captures in
the same order (what docs/scale.md promises), compared field by field on
the JSON report, and in the text and CSV formats. The captures are the
bundled ones plus, when SHARED_PCAPS exists, a sample of public captures
with processes, tunnels, VLANs, IPv6 extension headers and fragments.
The one documented difference, timeline.moved_packets (packets placed in
a neighbouring bucket, which depends on the bucket width when they were
moved), is checked to be no smaller than -j's, not equal.

Reports made with --no-flows: every counter equals -j's; distinct clients
and servers are lower bounds (at most -j's, at least each report's), and
peers_exact is false. Inputs that are not whichports reports of this
schema give exit 1 and a message naming the file.

usage: test_merge.py WHICHPORTS SOURCE_ROOT [SHARED_PCAPS]
"""

import json
import os
import subprocess
import sys
import tempfile

SHARED = ['process/ptcpdump/curl-user.pcapng',
          'process/apple-tcpdump/radar-79792659.pcapng',
          'nDPI/tests/cfgs/default/pcap/iphone.pcap',
          'tcpdump/tests/vxlan.pcap',
          'arkime/tests/pcap/gtp-iphone.pcap',
          'zeek/testing/btest/Traces/mixed-vlan-mpls.pcap',
          'packets/ipv6_fragments.pcapng',
          'tcpdump/tests/ipv6-routing-header.pcap',
          'nDPI/tests/cfgs/default/pcap/mpeg.pcap']

n_test = 0
failed = 0


def ok(cond, msg):
    global n_test, failed
    n_test += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', n_test, msg))
    if not cond:
        failed += 1
    return cond


def run(wp, args, stdin=None):
    return subprocess.run([wp] + args, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)


def diff(a, b, path='', out=None, skip=()):
    """Every path where JSON values a and b differ (list of strings)."""
    if out is None:
        out = []
    if path in skip:
        return out
    if type(a) is not type(b):
        out.append('%s: %.60r != %.60r' % (path, a, b))
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append('%s.%s: only in %s' % (path, k, 'second' if k not in a else 'first'))
            else:
                diff(a[k], b[k], path + '.' + k, out, skip)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append('%s: %d items != %d' % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, '%s[%d]' % (path, i), out, skip)
    elif a != b:
        out.append('%s: %.60r != %.60r' % (path, a, b))
    return out


def report(wp, args, label):
    p = run(wp, args + ['-T', 'json', '-q'])
    if not ok(p.returncode in (0, 3), '%s: whichports runs (%d %s)' %
              (label, p.returncode, p.stderr.decode(errors='replace').strip()[:200])):
        return None
    return json.loads(p.stdout)


def same_report(merged, ref, label):
    """Field by field; moved_packets may only grow (documented)."""
    d = diff(ref, merged, skip=('.timeline.moved_packets',))
    ok(not d, '%s: the merged report equals -j field by field%s' %
       (label, ('; ' + '; '.join(d[:6])) if d else ''))
    ok(merged['timeline']['moved_packets'] >= ref['timeline']['moved_packets'],
       '%s: moved_packets %d >= -j %d' % (label, merged['timeline']['moved_packets'],
                                          ref['timeline']['moved_packets']))


def rfiles(files):
    out = []
    for f in files:
        out += ['-r', f]
    return out


def main():
    wp, root = sys.argv[1], sys.argv[2]
    shared = sys.argv[3] if len(sys.argv) > 3 else ''
    caps = [os.path.join(root, 'pcaps', c) for c in
            ('apple-session.pcap', 'apple-cases.pcap', 'outcomes.pcap', 'hostile-names.pcap')]
    if shared and os.path.isdir(shared):
        caps += [os.path.join(shared, s) for s in SHARED if os.path.exists(os.path.join(shared, s))]
    print('# %d captures' % len(caps))
    tmp = tempfile.mkdtemp(prefix='wp-merge-')
    jn = ['-j', str(len(caps))]
    ref = report(wp, jn + rfiles(caps), '-j over all')
    if ref is None:
        return

    # 1. one report per capture
    per = []
    for i, c in enumerate(caps):
        path = os.path.join(tmp, 'r%d.json' % i)
        p = run(wp, ['-r', c, '-T', 'json', '-q', '-o', path])
        ok(p.returncode in (0, 3), '%s: report written' % os.path.basename(c))
        per.append(path)
    merged = report(wp, ['--merge'] + per, 'merge of one report per capture')
    if merged is not None:
        same_report(merged, ref, 'one report per capture')
        ok(merged['totals']['packets'] == sum(json.load(open(p))['totals']['packets']
                                              for p in per),
           'packets are the sum of the reports\' packets')

    # 2. split in two halves, each analysed with -j 2 (or one file)
    half = len(caps) // 2
    parts = []
    for k, group in enumerate((caps[:half], caps[half:])):
        path = os.path.join(tmp, 'half%d.json' % k)
        run(wp, ['-j', '2'] + rfiles(group) + ['-T', 'json', '-q', '-o', path])
        parts.append(path)
    merged = report(wp, ['--merge'] + parts, 'merge of two halves')
    if merged is not None:
        # -j merges engines one by one: grouped otherwise, the timeline's
        # buckets may align differently and rows that keep 8 of more names
        # may keep others (docs/scale.md); everything else is equal
        def strip(r):
            r = json.loads(json.dumps(r))
            del r['timeline']
            for row in r['ports']:
                del row['names']
            return r
        d = diff(strip(ref), strip(merged))
        ok(not d, 'two halves made with -j 2: equal to -j but for the timeline buckets and '
           'names of rows with more than 8 (%s)' % '; '.join(d[:4]))
        for sec in ('series', 'apple', 'processes'):
            tot = lambda r: sorted(repr((s.get('transport'), s.get('port'), s.get('service'),
                                         s.get('name'), s['packets'], s['bytes']))
                                   for s in r['timeline'][sec])
            ok(tot(ref) == tot(merged), 'two halves: timeline %s sums equal -j' % sec)

    # 3. standard input: the reports one after another (JSON Lines too)
    stream = b''.join(open(p, 'rb').read() for p in per)
    p = run(wp, ['--merge', '-T', 'json', '-q'], stdin=stream)
    if ok(p.returncode in (0, 3), 'merge from standard input runs'):
        same_report(json.loads(p.stdout), ref, 'standard input, reports one after another')
    # one report on a line each, no white space between
    lines = b''.join(json.dumps(json.load(open(x))).encode() for x in per[:3])
    p = run(wp, ['--merge', '-T', 'json', '-q'], stdin=lines)
    r3 = report(wp, ['-j', '3'] + rfiles(caps[:3]), '-j over three')
    if ok(p.returncode in (0, 3), 'merge of compact reports from standard input runs') and r3:
        same_report(json.loads(p.stdout), r3, 'compact reports on standard input')

    # 4. the other formats agree as well
    for fmt in (['-T', 'text', '--top', '0'], ['-T', 'text', '--apple'],
                ['-T', 'csv'], ['-T', 'csv', '--view', 'flows'], ['-T', 'csv', '--view', 'hosts'],
                ['-T', 'csv', '--view', 'processes'], ['-T', 'csv', '--view', 'totals'],
                ['-T', 'csv', '--view', 'timeline']):
        a = run(wp, jn + rfiles(caps) + fmt + ['-q']).stdout
        b = run(wp, ['--merge'] + per + fmt + ['-q']).stdout
        if fmt[-1] == 'totals':  # moved_packets is the one documented difference
            a = b'\n'.join(x for x in a.split(b'\n') if b'moved' not in x)
            b = b'\n'.join(x for x in b.split(b'\n') if b'moved' not in x)
        ok(a == b and len(a) > 0, '%s: the merged report equals -j (%d bytes)' % (' '.join(fmt), len(a)))

    # 5. reports without flows: counters exact, distinct counts lower bounds
    nof = []
    for i, c in enumerate(caps):
        path = os.path.join(tmp, 'n%d.json' % i)
        run(wp, ['-r', c, '-T', 'json', '--no-flows', '-q', '-o', path])
        nof.append(path)
    p = run(wp, ['--merge'] + nof + ['-T', 'json'])
    ok(p.returncode in (0, 3) and b'lower bounds' in p.stderr,
       '--no-flows reports: merged, with a warning that distinct counts are lower bounds')
    m = json.loads(p.stdout) if p.stdout else {}
    ok(m.get('peers_exact') is False, '--no-flows: peers_exact is false')
    d = diff(ref['totals'], m.get('totals', {}))
    ok(not d, '--no-flows: totals equal -j (%s)' % '; '.join(d[:4]))
    inputs = [json.load(open(x)) for x in nof]
    refports = {(r['transport'], r['port']): r for r in ref['ports']}
    mports = {(r['transport'], r['port']): r for r in m.get('ports', [])}
    ok(set(refports) == set(mports), '--no-flows: the same port rows as -j')
    bad_counts, bad_bounds = [], []
    for k, r in refports.items():
        x = mports.get(k)
        if x is None:
            continue
        # a row keeps 8 names: past that its names are approximate (docs/output.md)
        names = set(n['name'] for inp in inputs for row in inp['ports']
                    if (row['transport'], row['port']) == k for n in row['names'])
        skip = ('clients', 'servers') + (('names',) if len(names) >= 8 else ())
        d = diff({a: b for a, b in r.items() if a not in skip},
                 {a: b for a, b in x.items() if a not in skip})
        if d:
            bad_counts.append('%s: %s' % (k, d[0]))
        for role in ('clients', 'servers'):
            floor = max([row[role] for inp in inputs for row in inp['ports']
                         if (row['transport'], row['port']) == k] or [0])
            if not (floor <= x[role] <= r[role]):
                bad_bounds.append('%s %s %d not in [%d, %d]' % (k, role, x[role], floor, r[role]))
    ok(not bad_counts, '--no-flows: every port row counter equals -j (%s)' % '; '.join(bad_counts[:3]))
    ok(not bad_bounds, '--no-flows: clients and servers between the largest report and -j (%s)'
       % '; '.join(bad_bounds[:3]))
    for sec in ('hosts', 'hosts_other', 'apple', 'tunnels', 'tunnels_other', 'processes',
                'process_info'):
        d = diff(ref[sec], m.get(sec))
        ok(not d, '--no-flows: %s equal -j (%s)' % (sec, '; '.join(d[:3])))
    d = diff(ref['timeline'], m.get('timeline'), skip=('.moved_packets',))
    ok(not d, '--no-flows: the timeline equals -j (%s)' % '; '.join(d[:3]))
    # mixed: some reports with flows, some without
    p = run(wp, ['--merge', per[0], nof[1]] + per[2:] + ['-T', 'json', '-q'])
    m = json.loads(p.stdout) if p.stdout else {}
    d = diff(ref['totals'], m.get('totals', {}))
    ok(p.returncode in (0, 3) and not d, 'reports with and without flows: totals equal -j')

    # the same BPF filter on every report: kept, and equal to -j with it
    fl = []
    for k, c in enumerate(caps[:3]):
        path = os.path.join(tmp, 'f%d.json' % k)
        run(wp, ['-r', c, '-T', 'json', '-q', '-o', path, 'tcp or icmp'])
        fl.append(path)
    m = report(wp, ['--merge'] + fl, 'merge of filtered reports')
    r = report(wp, ['-j', '3'] + rfiles(caps[:3]) + ['tcp or icmp'], '-j with the filter')
    if m is not None and r is not None:
        same_report(m, r, 'reports made with the filter "tcp or icmp"')
        ok(m['input']['filter'] == 'tcp or icmp', 'the merged report names the filter')

    # live reports: drop counts summed, the mode says live
    lv = []
    for k, path in enumerate(per[:2]):
        r = json.load(open(path))
        r['input']['mode'] = 'live'
        r['totals']['dropped'] = 3 + k
        r['totals']['dropped_interface'] = 10 * (k + 1)
        lp = os.path.join(tmp, 'live%d.json' % k)
        json.dump(r, open(lp, 'w'))
        lv.append(lp)
    m = report(wp, ['--merge'] + lv, 'merge of live reports')
    if m is not None:
        ok(m['input']['mode'] == 'live' and m['totals']['dropped'] == 7 and
           m['totals']['dropped_interface'] == 30,
           'live reports: mode live, drops summed (%s %s %s)' % (
               m['input']['mode'], m['totals']['dropped'], m['totals']['dropped_interface']))

    # 6. what is refused: exit 1, a message naming the file
    good = json.load(open(per[0]))
    cases = {}
    cases['a capture file'] = open(caps[0], 'rb').read()
    cases['JSON of something else'] = b'{"hello": "world"}'
    cases['not JSON'] = b'ports,packets\ntcp/443,3\n'
    cases['a report cut short'] = open(per[0], 'rb').read()[:5000]
    old = dict(good)
    old['schema'] = 'whichports/3'
    cases['another schema version'] = json.dumps(old).encode()
    nt = dict(good)
    del nt['totals']
    cases['a report without totals'] = json.dumps(nt).encode()
    cases['a report of another BPF filter'] = run(wp, ['-r', caps[0], '-T', 'json', '-q',
                                                        'tcp']).stdout
    ser = json.loads(json.dumps(good))
    ser['timeline']['series'][0]['bucket_packets'][0] += 7
    ser['timeline']['series'][0]['packets'] += 7
    cases['a timeline series that is not its port row'] = json.dumps(ser).encode()
    port = json.loads(json.dumps(good))
    port['ports'][0]['to_service']['packets'] += 1
    port['ports'][0]['packets'] += 1
    port['totals']['packets'] += 1
    port['totals']['ip_packets'] += 1
    cases['a port row larger than its flows when every flow is listed'] = json.dumps(port).encode()
    noports = json.loads(json.dumps(good))
    noports['ports'] = []
    cases['no port rows for the listed flows'] = json.dumps(noports).encode()
    order = json.loads(json.dumps(good))
    order['flows'][0]['first'], order['flows'][0]['last'] = (order['flows'][0]['last'],
                                                             '1999-01-01T00:00:00.000000Z')
    cases['a flow that ends before it starts'] = json.dumps(order).encode()
    feb = json.loads(json.dumps(good))
    feb['flows'][0]['first'] = '2021-02-30T00:00:00.000000Z'
    cases['the 30th of February'] = json.dumps(feb).encode()
    inc = json.loads(json.dumps(good))
    inc['ports'][0]['to_service']['packets'] = 0
    inc['ports'][0]['from_service']['packets'] = 0
    cases['a row smaller than its flows'] = json.dumps(inc).encode()
    neg = json.loads(json.dumps(good))
    neg['totals']['packets'] = -5
    cases['a negative count'] = json.dumps(neg).encode()
    more = json.loads(json.dumps(good))
    more['totals']['packets'] += 1
    cases['totals that do not add up'] = json.dumps(more).encode()
    host = json.loads(json.dumps(good))
    host['hosts'][0]['packets'] += 1
    cases['hosts that do not add up'] = json.dumps(host).encode()
    far = json.loads(json.dumps(good))
    far['flows'][0]['first'] = '9999-12-31T23:59:59.999999Z'
    cases['a time past 2262'] = json.dumps(far).encode()
    nost = json.loads(json.dumps(good))
    for f in nost['flows']:
        del f['state']
    cases['flows without state'] = json.dumps(nost).encode()
    for label, data in cases.items():
        path = os.path.join(tmp, 'bad.json')
        open(path, 'wb').write(data)
        p = run(wp, ['--merge', per[1], path, '-T', 'json'])
        err = p.stderr.decode(errors='replace')
        ok(p.returncode == 1 and 'bad.json' in err and not p.stdout,
           '%s: exit 1, nothing written, the message names the file (%d: %s)'
           % (label, p.returncode, err.strip()[:150]))
    p = run(wp, ['--merge', os.path.join(tmp, 'missing.json')])
    ok(p.returncode == 1 and b'missing.json' in p.stderr, 'a missing file: exit 1')
    p = run(wp, ['--merge', '-i', 'lo'])
    ok(p.returncode == 2, '--merge with -i is a usage error (exit 2)')

    print('1..%d' % n_test)
    if failed:
        print('# %d of %d failed' % (failed, n_test))
    sys.exit(1 if failed else 0)


main()
