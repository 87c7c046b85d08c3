#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The live top view, driven in tmux.

whichports captures on one end of a veth pair between two network
namespaces made here; a client in the other sends UDP to port 40123 and TCP
to port 40124. One whichports runs in a tmux pane (a terminal: the top
view), another at the same time with its output in a file (no terminal:
the plain final report, as before the view existed). The test checks:
the screen shows both ports; `s` cycles the sort (by total: UDP first, it
carries more; by port: tcp before udp); `p` freezes the screen across
intervals while traffic goes on; `q` leaves with the final report, whose
port rows equal those of the SIGINT run for the same traffic; the terminal
is back in canonical mode with echo afterwards; Ctrl-C in the view also
gives the final report and restores the terminal; with -j 2 (two capture
threads) the view shows the ports and q quits with the report; a paused
view redraws at once when the window grows (the HISTORY column appears past
80 columns); Ctrl-Z gives the terminal back (canonical mode, normal screen)
before whichports stops, and fg brings the view back in raw mode.

Needs root and tmux. Exits 77 (skipped) when either is missing or
namespaces cannot be made.

usage: test_topview_live.py WHICHPORTS SOURCE_ROOT
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import remove, sh, veth_pair  # noqa: E402

TAG = f"i14top{os.getpid() % 10000}"
NS_A, NS_B = f"{TAG}a", f"{TAG}b"
IF_A, IF_B = f"{TAG}x", f"{TAG}y"
ADDR_A, ADDR_B = "10.214.0.1", "10.214.0.2"
UDP_PORT, TCP_PORT = 40123, 40124
FILTER = f"udp port {UDP_PORT} or tcp port {TCP_PORT}"
TMUX = ["tmux", "-L", TAG]

failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)
    return cond


def setup():
    veth_pair(NS_A, IF_A, NS_B, IF_B, [ADDR_A + "/24"], [ADDR_B + "/24"])


def teardown():
    sh(*TMUX, "kill-server", check=False)
    remove(NS_A, NS_B)


SERVER = f"""
import socket, threading
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("{ADDR_B}", {UDP_PORT}))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("{ADDR_B}", {TCP_PORT}))
t.listen(8)
def udp():
    while True:
        _, peer = u.recvfrom(65536)
        u.sendto(b"k", peer)
def conn(c):
    while c.recv(65536):
        pass
    c.close()
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
while True:
    c, _ = t.accept()
    threading.Thread(target=conn, args=(c,), daemon=True).start()
"""

CLIENT = f"""
import socket, sys, time
n, size, tcp_bytes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("{ADDR_A}", 50123))
for i in range(n):
    u.sendto(b"u" * size, ("{ADDR_B}", {UDP_PORT}))
    time.sleep(0.01)
c = socket.create_connection(("{ADDR_B}", {TCP_PORT}))
c.sendall(b"t" * tcp_bytes)
c.shutdown(socket.SHUT_WR)
c.recv(1)
c.close()
"""


def exited():
    """whichports has exited and the shell has printed the terminal mode."""
    t = pane(True)
    return "WPEXIT=" in t and "echo" in t[t.index("WPEXIT="):]


def traffic(n, size, tcp_bytes):
    sh("ip", "netns", "exec", NS_A, sys.executable, "-c", CLIENT, str(n), str(size),
       str(tcp_bytes))


def pane(history=False):
    args = [*TMUX, "capture-pane", "-p", "-t", "top"]
    if history:
        args += ["-S", "-500"]
    return sh(*args).stdout


def keys(*k):
    sh(*TMUX, "send-keys", "-t", "top", *k)


def wait_for(pred, secs, step=0.2):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def port_rows(text):
    """The rows of the SERVICE PORTS table, split into fields."""
    rows, inside = [], False
    for ln in text.splitlines():
        if ln.startswith("SERVICE PORTS"):
            inside = True
            continue
        if inside:
            if not ln.strip():
                break
            if not ln.startswith("PORT"):
                rows.append(ln.split())
    return rows


def screen_rows(scr):
    """The port labels of the top view, top to bottom."""
    return [ln.split()[0] for ln in scr.splitlines()
            if ln.startswith("udp/") or ln.startswith("tcp/")]


def start_view(wp, tmp, name, lang="C.UTF-8", extra="", width=160):
    """Run whichports in a tmux pane from a bash script. The script has job
    control (set -m), so Ctrl-Z stops whichports as in a login shell; then
    it prints WPSTOPPED, waits for a line (read: only in canonical mode)
    and brings whichports back with fg."""
    err = os.path.join(tmp, name + ".err")
    script = os.path.join(tmp, name + ".sh")
    with open(script, "w") as f:
        f.write(f"set -m\n"
                f"LC_ALL= LC_CTYPE= LANG={lang} ip netns exec {NS_B} {wp} -i {IF_B} "
                f"-f '{FILTER}' --no-process {extra} 2>{err}\n"
                f"st=$?\n"
                f"if [ $st -eq 148 ]; then echo WPSTOPPED; read x; fg; st=$?; fi\n"
                f"echo WPEXIT=$st\n"
                f"stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon\\|-\\?echo'\n"
                f"sleep 600\n")
    # After kill-session of the last session the server exits; a new
    # session started meanwhile meets the exiting server ("server exited
    # unexpectedly"): try again once it is gone.
    for attempt in range(10):
        try:
            sh(*TMUX, "new-session", "-d", "-s", "top", "-x", str(width), "-y", "50",
               "bash " + script)
            break
        except RuntimeError:
            if attempt == 9:
                raise
            time.sleep(0.3)
    return wait_for(lambda: "whichports on" in pane(), 10)


def view_pid():
    """The pid of the whichports of the view (its command line names IF_B)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                if f.read().strip() != "whichports":
                    continue
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if IF_B.encode() in f.read().split(b"\0"):
                    return int(d)
        except OSError:
            continue
    return None


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def tty_mode():
    """icanon and echo of the pane's terminal, as stty prints them."""
    tty = sh(*TMUX, "display", "-p", "-t", "top", "#{pane_tty}").stdout.strip()
    words = sh("stty", "-a", "-F", tty).stdout.replace(";", " ").split()
    return [w for w in words if w.lstrip("-") in ("icanon", "echo")]


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    wp = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        return 77
    if shutil.which("tmux") is None:
        print("SKIP: tmux is not installed")
        return 77
    try:
        setup()
    except RuntimeError as e:
        teardown()
        print(f"SKIP: cannot make network namespaces: {e}")
        return 77
    tmp = tempfile.mkdtemp(prefix="wp-topview-")
    server = ref = None
    try:
        server = subprocess.Popen(["ip", "netns", "exec", NS_B, sys.executable, "-c", SERVER],
                                  stdout=subprocess.PIPE, text=True)
        check(server.stdout.readline().strip() == "ready", "server ready")

        # the run without a terminal: output to a file, stopped by SIGINT
        ref_out, ref_err = os.path.join(tmp, "ref.txt"), os.path.join(tmp, "ref.err")
        ref = subprocess.Popen(["ip", "netns", "exec", NS_B, wp, "-i", IF_B, "-f", FILTER,
                                "--no-process", "-o", ref_out],
                               stderr=open(ref_err, "w"), stdout=subprocess.DEVNULL)
        check(wait_for(lambda: "listening" in open(ref_err).read(), 10), "file run listening")
        check(start_view(wp, tmp, "view"), "the top view appears in tmux")
        time.sleep(0.5)

        # 200 datagrams of 1000 bytes (about 1.2 MB with headers) and 20000
        # bytes of TCP: UDP carries more
        traffic(200, 1000, 20000)
        time.sleep(2.5)
        scr = pane()
        print(scr)
        check(f"udp/{UDP_PORT}" in scr, "the screen shows the UDP port")
        check(f"tcp/{TCP_PORT}" in scr, "the screen shows the TCP port")
        check("sort: now" in scr, "sorted by the current rate at first")
        check("PORT" in scr and "NOW/s" in scr and "AVG/s" in scr, "the port table's header")
        check(any(ch in scr for ch in "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"),
              "a spark line in Unicode blocks (UTF-8 locale)")

        keys("s")
        check(wait_for(lambda: "sort: average" in pane(), 3), "s: sort by average")
        keys("s")
        check(wait_for(lambda: "sort: total" in pane(), 3), "s: sort by total")
        rows = screen_rows(pane())
        check(rows[:2] == [f"udp/{UDP_PORT}", f"tcp/{TCP_PORT}"],
              f"by total: udp first ({rows})")
        keys("s")
        check(wait_for(lambda: "sort: port" in pane(), 3), "s: sort by port")
        rows = screen_rows(pane())
        check(rows[:2] == [f"tcp/{TCP_PORT}", f"udp/{UDP_PORT}"],
              f"by port: tcp (6) first ({rows})")

        keys("p")
        check(wait_for(lambda: "[paused]" in pane(), 3), "p: the title says paused")
        time.sleep(0.3)
        frozen = pane()
        traffic(50, 1000, 5000)
        time.sleep(2.5)
        check(pane() == frozen, "p: the screen stays the same across intervals with traffic")
        keys("p")
        check(wait_for(lambda: "[paused]" not in pane(), 3), "p again: redraws")
        time.sleep(1.5)

        # q to the view and SIGINT to the file run at the same moment
        keys("q")
        ref.send_signal(signal.SIGINT)
        check(wait_for(exited, 10), "q: whichports exits")
        after = pane(True)
        ref.wait(timeout=15)
        ref_text = open(ref_out).read()
        check("WPEXIT=0" in after, "q: exit status 0")
        check("\033" not in ref_text and "whichports on" not in ref_text,
              "without a terminal: no screen, the plain report")
        got, want = port_rows(after), port_rows(ref_text)
        print("after q:", got)
        print("SIGINT: ", want)
        check(len(want) == 2 and got == want,
              "the final report after q has the port rows of the SIGINT run")
        check(want and want[0][0] == f"udp/{UDP_PORT}" and want[1][0] == f"tcp/{TCP_PORT}",
              "the SIGINT run saw both ports")
        tail = after[after.index("WPEXIT="):]
        check("\nicanon" in tail and "\necho" in tail and "-icanon" not in tail,
              "the terminal is restored (icanon, echo)")

        # Ctrl-C in the view: the final report too, and the terminal restored
        sh(*TMUX, "kill-session", "-t", "top")
        check(start_view(wp, tmp, "view2", "C"), "a second view appears (LANG=C)")
        traffic(20, 500, 1000)
        time.sleep(1.5)
        scr = pane()
        check(f"udp/{UDP_PORT}" in scr and not any(ord(ch) > 127 for ch in scr),
              "LANG=C: the screen is ASCII")
        keys("C-c")
        check(wait_for(exited, 10), "Ctrl-C: whichports exits")
        after = pane(True)
        check("SERVICE PORTS" in after and f"udp/{UDP_PORT}" in after,
              "Ctrl-C: the final report")
        check("WPEXIT=0" in after, "Ctrl-C: exit status 0")
        tail = after[after.index("WPEXIT="):]
        check("\nicanon" in tail and "-icanon" not in tail, "Ctrl-C: the terminal is restored")

        # -j 2: two capture threads, the same view
        sh(*TMUX, "kill-session", "-t", "top")
        check(start_view(wp, tmp, "view3", extra="-j 2"), "-j 2: the view appears")
        traffic(20, 500, 1000)
        check(wait_for(lambda: f"udp/{UDP_PORT}" in pane() and f"tcp/{TCP_PORT}" in pane(), 5),
              "-j 2: the screen shows both ports")
        keys("s")
        check(wait_for(lambda: "sort: average" in pane(), 3), "-j 2: s: sort by average")
        keys("q")
        check(wait_for(exited, 10), "-j 2: q: whichports exits")
        after = pane(True)
        check("WPEXIT=0" in after and "SERVICE PORTS" in after, "-j 2: the final report")

        # resize and Ctrl-Z
        sh(*TMUX, "kill-session", "-t", "top")
        check(start_view(wp, tmp, "view4", width=80), "an 80-column view appears")
        traffic(20, 500, 1000)
        check(wait_for(lambda: f"udp/{UDP_PORT}" in pane(), 5), "80 columns: the port shows")
        check("HISTORY" not in pane(), "80 columns: no HISTORY column")
        keys("p")
        check(wait_for(lambda: "[paused]" in pane(), 3), "80 columns: paused")
        sh(*TMUX, "resize-window", "-t", "top", "-x", "160")
        check(wait_for(lambda: "HISTORY" in pane(), 3),
              "paused, grown to 160 columns: redrawn at once with the HISTORY column")
        pid = view_pid()
        check(pid is not None, "the view's process found")
        if pid is not None:
            check(tty_mode() == ["-icanon", "-echo"], f"raw mode in the view ({tty_mode()})")
            keys("C-z")
            check(wait_for(lambda: proc_state(pid) == "T", 5), "Ctrl-Z: whichports stops")
            check(tty_mode() == ["icanon", "echo"],
                  f"Ctrl-Z: the terminal is given back ({tty_mode()})")
            check(wait_for(lambda: "WPSTOPPED" in pane(), 3) and "whichports on" not in pane(),
                  "Ctrl-Z: the view's screen is left, the shell runs")
            keys("Enter")  # read returns, fg continues whichports
            check(wait_for(lambda: "whichports on" in pane(), 5), "fg: the view is back")
            check(tty_mode() == ["-icanon", "-echo"], f"fg: raw mode again ({tty_mode()})")
            keys("q")
            check(wait_for(exited, 10), "after the stop: q exits")
            after = pane(True)
            check("WPEXIT=0" in after and f"udp/{UDP_PORT}" in after,
                  "after the stop: the final report")
    finally:
        if ref is not None and ref.poll() is None:
            ref.kill()
        if server is not None:
            server.kill()
        teardown()
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
