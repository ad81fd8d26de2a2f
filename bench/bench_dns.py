#!/usr/bin/env python3
"""bench_dns - `crosswatch dns` beside Unbound, both measured by dnsperf in one run.

Not a test: it prints figures (docs/performance.md, "DNS", keeps them).

One run:
  1. generates a 1M-name RPZ (malicious-looking names: DGA-like, phishing, C2 on
     dynamic-DNS-like zones, look-alike subdomains; --wildcard-pct of them written as
     `*.name`; every rule `CNAME .` = NXDOMAIN), an empty RPZ (SOA + NS only), a small
     authoritative zone `example.` (--auth-names owners with A and AAAA) for NSD, and
     the dnsperf query files:
       cached  - every owner of the auth zone once, shuffled, 85% A / 15% AAAA;
       blocked - --blocked-queries names under the RPZ: exact rules as written, and
                 for wildcard rules a random label in front (`k3x9.bad.example.`);
  2. starts NSD (the one upstream of both servers) on 127.0.0.1;
  3. memory: starts each server with the empty RPZ, reads VmRSS once it answers,
     stops it; starts it with the 1M-name RPZ, times the load (start until a
     blocked name is answered NXDOMAIN), reads VmRSS. Bytes per policy name =
     (RSS with 1M names - RSS with the empty RPZ) / names;
  4. warms both caches (dnsperf -n 1 over the cached file, twice), then for each
     workload (cached, blocked), --rounds times, each server in turn (the order
     alternates by round): dnsperf for --seconds with the same query file and
     settings (rate unlimited, --clients, --outstanding); the median round is shown.
     QPS and average latency are dnsperf's summary; the server's own CPU time over
     the run is read from /proc/<pid>/stat (utime + stime), so QPS per server
     CPU-second is printed too (it is the fair figure if dnsperf, not the server,
     was the limit). As root the rounds are repeated with the server's loop thread and
     dnsperf in SCHED_FIFO 10 (--no-rt skips them): at normal priority a server that
     sleeps between bursts waits, at each wake-up, for the scheduler to take its core
     back from other sessions' jobs, and in this closed loop (-q outstanding) that
     wait, not the server's work, sets the QPS;
  5. p50/p99 latency: dnsperf 2.10 has no latency histogram, so a second dnsperf
     run per server and workload at a fixed moderate rate (--latency-qps, -Q) with
     -v, which prints every answer with its latency; the percentiles are computed
     from those lines (dnsperf's own timing, not a Python client). Twice: at the
     timed runs' priority (nice), and with the server's loop thread and dnsperf in
     SCHED_FIFO 10 (as root; --no-rt skips it), so that other jobs on a shared
     machine cannot put their time slices into the tail;
  6. optional (--perf): `perf record -p <server>` during an extra, untimed cached
     and blocked run of each server; the kernel/user split (by dso) and, for
     crosswatch, the top functions are printed.

Pinning: with 2+ CPUs each server runs alone on --server-cpu (taskset; the two
servers are measured one after the other, never at once) and dnsperf, NSD and this
script on --client-cpu; servers, NSD and dnsperf run at nice --nice (-10 as root)
so that other jobs on a shared machine disturb less. Both servers: one thread, UDP,
no query logging, no telemetry (crosswatch without --center).

Usage: bench/bench_dns.py CROSSWATCH [--names 1000000] [--seconds 10] [--perf] ...
"""
import argparse
import os
import platform
import random
import resource
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

PROCS = []


def die(msg):
    print("bench_dns: " + msg, file=sys.stderr)
    sys.exit(1)


def _pdeathsig():
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


NICE = 0
RT = False


def prefix(cpu):
    """taskset/nice in front of a command (both exec, so the pid is the command's)."""
    p = ["chrt", "-f", "10"] if RT else (["nice", "-n", str(NICE)] if NICE else [])
    return p + (["taskset", "-c", str(cpu)] if cpu is not None else [])


def spawn(argv, log, cpu=None):
    argv = prefix(cpu) + argv
    out = open(log, "ab")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         preexec_fn=_pdeathsig)
    out.close()
    PROCS.append(p)
    return p


def stop(p):
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()


def free_port():
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
            u.close()


# -- a tiny DNS client (readiness checks only) -----------------------------------
def query(port, name, qtype=1, timeout=0.5):
    """rcode of one UDP query, or None on timeout."""
    qid = random.randrange(65536)
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    pkt = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(pkt, ("127.0.0.1", port))
        while True:
            data = s.recv(4096)
            if len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid:
                return data[3] & 0xF
    except OSError:
        return None
    finally:
        s.close()


def wait_rcode(port, name, want, proc, deadline_s, log):
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if query(port, name) == want:
            return time.monotonic() - t0
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(log, "rb") as f:
        tail = f.read()[-3000:].decode("utf-8", "replace")
    die("%s: no rcode %d for %s after %.0fs:\n%s" % (log, want, name, deadline_s, tail))


# -- /proc ----------------------------------------------------------------------
def server_pid(p):
    """The server's pid: taskset execs, so Popen's pid is the server's."""
    return p.pid


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1))
    hwm = int(re.search(r"VmHWM:\s+(\d+)", st).group(1))
    return rss, hwm


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        f_ = f.read().rsplit(")", 1)[1].split()
    return (int(f_[11]) + int(f_[12])) / os.sysconf("SC_CLK_TCK")


# -- data -----------------------------------------------------------------------
TLDS = ["com", "net", "org", "info", "biz", "xyz", "top", "ru", "cn", "online", "site",
        "club", "icu", "shop", "live", "io", "cc", "tk", "ml", "ga", "pw", "su", "ws"]
BRANDS = ["paypal", "apple", "microsoft", "office365", "outlook", "amazon", "netflix",
          "chase", "wellsfargo", "dhl", "fedex", "ups", "docusign", "dropbox", "adobe",
          "google", "facebook", "instagram", "whatsapp", "binance", "coinbase", "metamask",
          "steam", "linkedin", "bankofamerica", "hsbc", "barclays", "santander", "irs",
          "gov-refund", "usps", "royalmail", "ebay", "walmart", "yahoo", "icloud"]
WORDS = ["secure", "login", "verify", "account", "update", "support", "signin", "auth",
         "billing", "wallet", "recovery", "service", "confirm", "alert", "help", "id",
         "portal", "online", "web", "mail", "cloud", "pay", "invoice", "track", "delivery",
         "unlock", "reset", "session", "client", "my", "app", "check", "notice", "claim"]
DYN = ["duckdns.org", "no-ip.biz", "ddns.net", "hopto.org", "zapto.org", "servehttp.com",
       "dynu.net", "freedns.afraid.org", "3utilities.com", "sytes.net", "myftp.biz"]
C2 = ["cdn", "api", "upd", "sync", "telemetry", "stat", "img", "static", "gate", "panel",
      "node", "srv", "proxy", "relay", "beacon", "task", "cmd", "data"]
ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def bad_name(r):
    k = r.random()
    if k < 0.35:   # DGA-like
        n = r.randint(8, 22)
        return "".join(r.choice(LETTERS if r.random() < 0.8 else ALNUM) for _ in range(n)) + \
            "." + r.choice(TLDS)
    if k < 0.65:   # phishing
        b, w1, w2 = r.choice(BRANDS), r.choice(WORDS), r.choice(WORDS)
        form = r.randrange(4)
        if form == 0:
            s = "%s-%s-%s%d" % (b, w1, w2, r.randrange(10000))
        elif form == 1:
            s = "%s-%s%d" % (w1, b, r.randrange(100000))
        elif form == 2:
            s = "%s.%s-%s%d" % (w1, b, w2, r.randrange(10000))
        else:
            s = "%s%d-%s" % (b, r.randrange(1000), w1)
        return s + "." + r.choice(TLDS)
    if k < 0.85:   # C2 on dynamic DNS
        return "%s%d.%s%d.%s" % (r.choice(C2), r.randrange(100), r.choice(WORDS),
                                 r.randrange(100000), r.choice(DYN))
    # look-alike subdomain of a throwaway domain
    return "%s.com.%s-%s.%s%d.%s" % (r.choice(BRANDS), r.choice(WORDS), r.choice(WORDS),
                                       "".join(r.choice(ALNUM) for _ in range(6)),
                                       r.randrange(100), r.choice(TLDS))


RPZ_HEAD = """$ORIGIN rpz.bench.
$TTL 300
@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 300
@ IN NS localhost.
"""


def write_data(d, names, wildcard_pct, auth_names, blocked_q, seed):
    r = random.Random(seed)
    rules = []   # (name, is_wildcard)
    seen = set()
    while len(rules) < names:
        n = bad_name(r)
        if n in seen:
            continue
        seen.add(n)
        rules.append((n, r.random() * 100 < wildcard_pct))
    del seen
    rpz = os.path.join(d, "rpz-1m.zone")
    with open(rpz, "w") as f:
        f.write(RPZ_HEAD)
        for n, w in rules:
            f.write("%s%s CNAME .\n" % ("*." if w else "", n))
    empty = os.path.join(d, "rpz-empty.zone")
    with open(empty, "w") as f:
        f.write(RPZ_HEAD)
    blk = os.path.join(d, "q-blocked.txt")
    with open(blk, "w") as f:
        for _ in range(blocked_q):
            n, w = r.choice(rules)
            if w:
                n = "".join(r.choice(ALNUM) for _ in range(r.randint(3, 10))) + "." + n
            f.write("%s A\n" % n)
    # the authoritative zone: benign-looking owners under example.
    owners = set()
    kinds = ["www", "cdn", "api", "mail", "img", "static", "login", "m", "app", "news"]
    while len(owners) < auth_names:
        owners.add("%s.%s%d" % (r.choice(kinds), r.choice(["shop", "news", "bank", "media",
                                                            "school", "city", "travel", "game"]),
                                r.randrange(100000)))
    owners = sorted(owners)
    zone = os.path.join(d, "example.zone")
    with open(zone, "w") as f:
        f.write("$ORIGIN example.\n$TTL 86400\n"
                "@ IN SOA ns.example. hostmaster.example. 1 3600 600 86400 3600\n"
                "@ IN NS ns\nns IN A 127.0.0.1\n")
        for i, o in enumerate(owners):
            f.write("%s IN A 198.18.%d.%d\n%s IN AAAA 2001:db8::%x\n"
                    % (o, (i >> 8) & 255, i & 255, o, i + 1))
    cached = os.path.join(d, "q-cached.txt")
    qs = ["%s.example %s" % (o, "A" if r.random() < 0.85 else "AAAA") for o in owners]
    r.shuffle(qs)
    with open(cached, "w") as f:
        f.write("\n".join(qs) + "\n")
    probe_blocked = rules[0][0] if not rules[0][1] else "x." + rules[0][0]
    return rpz, empty, zone, cached, blk, probe_blocked, owners[0] + ".example"


NSD_CONF = """server:
  ip-address: 127.0.0.1@{port}
  port: {port}
  zonesdir: "{dir}"
  database: ""
  pidfile: "{dir}/nsd.pid"
  username: ""
  chroot: ""
  logfile: "{dir}/nsd.log"
  xfrdfile: "{dir}/xfrd.state"
  zonelistfile: "{dir}/zone.list"
  server-count: 1
  verbosity: 0
remote-control:
  control-enable: no
zone:
  name: example.
  zonefile: example.zone
"""

UNBOUND_CONF = """server:
  interface: 127.0.0.1@{port}
  port: {port}
  num-threads: 1
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "{dir}"
  pidfile: "{dir}/unbound.pid"
  logfile: ""
  use-syslog: no
  verbosity: 0
  log-queries: no
  log-replies: no
  statistics-interval: 0
  extended-statistics: no
  access-control: 127.0.0.0/8 allow
  do-ip6: no
  do-not-query-localhost: no
  module-config: "respip iterator"
  qname-minimisation: no
  auto-trust-anchor-file: ""
  trust-anchor-file: ""
  root-hints: ""
  msg-cache-size: 64m
  rrset-cache-size: 128m
  so-rcvbuf: 4m
  so-sndbuf: 4m
remote-control:
  control-enable: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@{nsd}
rpz:
  name: rpz.bench.
  zonefile: "{rpz}"
  rpz-log: no
"""


# -- dnsperf --------------------------------------------------------------------
def dnsperf(args, port, qfile, extra, cpu, verbose=False):
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-T", "1"] + extra
    if args.edns:
        argv.append("-e")
    if verbose:
        argv.append("-v")
    argv = prefix(cpu) + argv
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.monotonic()
    # Output to a file, not a pipe: with -v dnsperf writes a line per answer, and a
    # SCHED_FIFO dnsperf sharing its CPU with this script must never wait for the
    # script to be scheduled to drain a pipe (a run once spun for minutes so).
    with tempfile.TemporaryFile() as f:
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
        limit = 60 + 2 * max([int(extra[i + 1]) for i, a in enumerate(extra[:-1]) if a == "-l"] or [0])
        try:
            p.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            die("dnsperf did not finish within %d s: %s" % (limit, " ".join(argv)))
        f.seek(0)
        out = f.read()
    w1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = out.decode("utf-8", "replace")
    if p.returncode != 0:
        die("dnsperf failed (%d):\n%s" % (p.returncode, out[-3000:]))
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return out, cpu / (w1 - w0)


def rcodes(out):
    m = re.search(r"Response codes:(.*)", out)
    return dict((k, int(v)) for k, v in re.findall(r"([A-Z]+) (\d+) \(", m.group(1))) if m else {}


def parse_summary(out):
    def g(pat, conv=float):
        m = re.search(pat, out)
        return conv(m.group(1)) if m else None
    return {
        "sent": g(r"Queries sent:\s+(\d+)", int),
        "completed": g(r"Queries completed:\s+(\d+)", int),
        "lost": g(r"Queries lost:\s+(\d+)", int),
        "qps": g(r"Queries per second:\s+([\d.]+)"),
        "avg": g(r"Average Latency \(s\):\s+([\d.]+)"),
        "max": g(r"Average Latency \(s\):\s+[\d.]+ \(min [\d.]+, max ([\d.]+)\)"),
        "sd": g(r"Latency StdDev \(s\):\s+([\d.]+)"),
        "rcodes": rcodes(out),
    }


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def latencies(out):
    # -v lines: "> NOERROR www.x.example A 0.000123"
    v = [float(m) for m in re.findall(r"^> \S+ .* ([\d.]+)$", out, re.M)]
    v.sort()
    return v


def latency_run(args, srv, qf, ccpu, rt):
    """p50/p99 from dnsperf -v at a fixed rate; rt: server and dnsperf SCHED_FIFO 10 for
    the run (other jobs on the machine cannot delay them), back to SCHED_OTHER after."""
    pid = server_pid(srv[0])
    extra = ["-l", str(args.latency_seconds), "-c", str(args.clients), "-Q", str(args.latency_qps)]
    if rt:
        subprocess.run(["chrt", "-f", "-p", "10", str(pid)], check=True)
        global RT
        RT = True
    try:
        out, _ = dnsperf(args, srv[1], qf, extra, ccpu, verbose=True)
    finally:
        if rt:
            RT = False
            subprocess.run(["chrt", "-o", "-p", "0", str(pid)], check=True)
    lat = latencies(out)
    sm = parse_summary(out)
    return {"n": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99), "p999": pct(lat, 99.9),
            "qps": sm["qps"], "lost": sm["lost"]}


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            model = m.group(1).strip() if m else "?"
    except OSError:
        pass
    return "%d online CPUs, %s, Linux %s" % (os.cpu_count(), model, platform.release())


def version(argv):
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=10).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    m = re.search(r"Version ([\d.]+)|NSD version ([\d.]+)", out)
    return (m.group(1) or m.group(2)) if m else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("crosswatch")
    ap.add_argument("--names", type=int, default=1000000, help="RPZ rules (1000000)")
    ap.add_argument("--wildcard-pct", type=float, default=10.0, help="%% written as *.name (10)")
    ap.add_argument("--auth-names", type=int, default=10000, help="owners in the auth zone (10000)")
    ap.add_argument("--blocked-queries", type=int, default=100000, help="blocked query file lines")
    ap.add_argument("--seconds", type=int, default=10, help="dnsperf -l per timed run (10)")
    ap.add_argument("--clients", type=int, default=4, help="dnsperf -c (4)")
    ap.add_argument("--outstanding", type=int, default=200, help="dnsperf -q (200)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per server and workload, "
                    "alternating; the median is shown (3)")
    ap.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
                    help="nice value for servers, NSD and dnsperf (-10 as root, else 0)")
    ap.add_argument("--latency-qps", type=int, default=20000, help="dnsperf -Q for p50/p99 (20000)")
    ap.add_argument("--latency-seconds", type=int, default=5)
    ap.add_argument("--no-edns", dest="edns", action="store_false",
                    help="queries without EDNS (default: dnsperf -e)")
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--no-rt", dest="rt", action="store_false",
                    help="skip the SCHED_FIFO latency runs (they need root)")
    ap.add_argument("--perf", action="store_true", help="profile crosswatch (untimed extra runs)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", help="keep files here (default: a temporary directory)")
    args = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("chrt"):
        args.rt = False
    global NICE
    NICE = args.nice

    for tool in ("dnsperf", "unbound", "nsd"):
        if not (shutil.which(tool) or os.path.exists("/usr/sbin/" + tool)):
            die("needs %s: apt-get install dnsperf unbound nsd (make deps)" % tool)
    nsd_bin = shutil.which("nsd") or "/usr/sbin/nsd"
    unbound_bin = shutil.which("unbound") or "/usr/sbin/unbound"
    ncpu = os.cpu_count() or 1
    pin = ncpu >= 2 and shutil.which("taskset")
    scpu = args.server_cpu if pin else None
    ccpu = args.client_cpu if pin else None
    if pin:
        os.sched_setaffinity(0, {ccpu})

    d = args.workdir or tempfile.mkdtemp(prefix="bench_dns.")
    os.makedirs(d, exist_ok=True)
    t0 = time.monotonic()
    rpz, empty, _, cached_q, blocked_q, probe_blk, probe_ok = write_data(
        d, args.names, args.wildcard_pct, args.auth_names, args.blocked_queries, args.seed)
    gen_s = time.monotonic() - t0
    rpz_mb = os.path.getsize(rpz) / 1e6

    nsd_port = free_port()
    with open(os.path.join(d, "nsd.conf"), "w") as f:
        f.write(NSD_CONF.format(port=nsd_port, dir=d))
    nsd = spawn([nsd_bin, "-d", "-c", os.path.join(d, "nsd.conf")], os.path.join(d, "nsd.out"),
                ccpu)
    wait_rcode(nsd_port, probe_ok, 0, nsd, 30, os.path.join(d, "nsd.out"))

    def start(server, rpzfile, tag):
        port = free_port()
        log = os.path.join(d, "%s-%s.log" % (server, tag))
        if server == "crosswatch":
            st = os.path.join(d, "cw-state-" + tag)
            os.makedirs(st, exist_ok=True)
            argv = [args.crosswatch, "dns", "--listen", "127.0.0.1:%d" % port,
                    "--forward", "127.0.0.1:%d" % nsd_port, "--rpz", rpzfile,
                    "--state-dir", st, "--cache-size", "100000"]
        else:
            conf = os.path.join(d, "unbound-%s.conf" % tag)
            with open(conf, "w") as f:
                f.write(UNBOUND_CONF.format(port=port, dir=d, nsd=nsd_port, rpz=rpzfile))
            argv = [unbound_bin, "-d", "-c", conf]
        p = spawn(argv, log, scpu)
        # answering at all, then the policy in force (a blocked name is NXDOMAIN)
        wait_rcode(port, probe_ok, 0, p, 300, log)
        load = wait_rcode(port, probe_blk, 3, p, 300, log) if rpzfile == rpz else 0.0
        return p, port, log

    servers = ("crosswatch", "unbound")
    res = {s: {} for s in servers}
    # memory: empty policy, then the 1M-name one
    for s in servers:
        t = time.monotonic()
        p, port, _ = start(s, empty, "empty")
        time.sleep(0.5)
        res[s]["rss_empty"] = rss_kib(server_pid(p))[0]
        stop(p)
    live = {}
    for s in servers:
        t = time.monotonic()
        p, port, _ = start(s, rpz, "full")
        res[s]["load_s"] = time.monotonic() - t
        time.sleep(0.5)
        res[s]["rss_full"], res[s]["hwm_full"] = rss_kib(server_pid(p))
        res[s]["bpn"] = (res[s]["rss_full"] - res[s]["rss_empty"]) * 1024.0 / args.names
        live[s] = (p, port)

    # warm the caches
    for s in servers:
        for _ in range(2):
            out, _ = dnsperf(args, live[s][1], cached_q, ["-n", "1", "-c", "1", "-q", "20"], ccpu)
            sm = parse_summary(out)
            if sm["completed"] != args.auth_names:
                die("%s: warm-up answered %s of %d\n%s" % (s, sm["completed"], args.auth_names, out))

    load_start = os.getloadavg()
    workloads = (("cached", cached_q), ("blocked", blocked_q))
    perf_opts = ["-l", str(args.seconds), "-c", str(args.clients), "-q", str(args.outstanding)]

    def one_run(s, qf, rt):
        """One timed dnsperf run; rt: the server's loop thread and dnsperf in SCHED_FIFO 10
        (then back to SCHED_OTHER), so that jobs of other sessions on the server's core
        cannot hold a woken server back (see the FIFO rows of the report)."""
        global RT
        pid = server_pid(live[s][0])
        if rt:
            subprocess.run(["chrt", "-f", "-p", "10", str(pid)], check=True)
            RT = True
        try:
            c0, w0 = cpu_s(pid), time.monotonic()
            out, cutil = dnsperf(args, live[s][1], qf, perf_opts, ccpu)
            c1, w1 = cpu_s(pid), time.monotonic()
        finally:
            if rt:
                RT = False
                subprocess.run(["chrt", "-o", "-p", "0", str(pid)], check=True)
        sm = parse_summary(out)
        sm["client_util"] = cutil
        sm["cpu_util"] = (c1 - c0) / (w1 - w0)
        sm["qps_cpu"] = sm["completed"] / (c1 - c0) if c1 > c0 else float("nan")
        return sm

    for wl, qf in workloads:
        for rt in ((False, True) if args.rt else (False,)):
            runs = {s: [] for s in servers}
            for rnd in range(args.rounds):
                # alternate which server goes first, so drift in the machine's load is shared
                for s in (servers if rnd % 2 == 0 else servers[::-1]):
                    runs[s].append(one_run(s, qf, rt))
            for s in servers:
                rs = runs[s]
                med = dict(sorted(rs, key=lambda x: x["qps"])[len(rs) // 2])
                med["qps_all"] = [x["qps"] for x in rs]
                med["qps_cpu"] = sorted(x["qps_cpu"] for x in rs)[len(rs) // 2]
                med["qps_cpu_all"] = [x["qps_cpu"] for x in rs]
                med["lost"] = sum(x["lost"] for x in rs)
                res[s][wl + ("_rt" if rt else "")] = med
        for s in servers:
            res[s][wl + "_lat"] = latency_run(args, live[s], qf, ccpu, False)
            if args.rt:
                res[s][wl + "_rtlat"] = latency_run(args, live[s], qf, ccpu, True)
    load_end = os.getloadavg()
    for s in servers:
        res[s]["rss_end"], res[s]["hwm_end"] = rss_kib(server_pid(live[s][0]))

    prof = {}
    if args.perf and shutil.which("perf"):
        for s, wl, qf in (("crosswatch", "cached", cached_q), ("crosswatch", "blocked", blocked_q),
                          ("unbound", "cached", cached_q), ("unbound", "blocked", blocked_q)):
            data = os.path.join(d, "perf-%s-%s.data" % (s, wl))
            pr = subprocess.Popen(["perf", "record", "-o", data, "-p",
                                   str(server_pid(live[s][0])), "--", "sleep", str(args.seconds)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.2)
            dnsperf(args, live[s][1], qf, perf_opts, ccpu)
            pr.wait()
            lines = []
            for sort, lim in (("dso", "0.5"), ("dso,symbol", "1.5")):
                if s == "unbound" and sort != "dso":
                    continue  # Debian's unbound is stripped: its symbols say nothing
                rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                                      "--sort", sort, "--percent-limit", lim],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                lines += [ln.rstrip(" -") for ln in
                          rep.stdout.decode("utf-8", "replace").splitlines()
                          if ln.strip() and not ln.startswith("#")][:25]
            prof[(s, wl)] = lines

    for s in servers:
        stop(live[s][0])
    stop(nsd)

    # -- report
    cw, ub = res["crosswatch"], res["unbound"]
    print("bench_dns: crosswatch dns vs Unbound %s, upstream NSD %s, dnsperf %s"
          % (version([unbound_bin, "-V"]), version([nsd_bin, "-v"]), version(["dnsperf", "-h"])))
    print("machine: %s; load average %.2f/%.2f/%.2f before the timed runs, %.2f after"
          % (machine(), load_start[0], load_start[1], load_start[2], load_end[0]))
    print("pinning: %s" % ("servers on CPU %d (one at a time), dnsperf/NSD/script on CPU %d"
                           % (scpu, ccpu) if pin else "none (1 CPU)"))
    print("policy: %d names (%.0f%% wildcards), %.1f MB zone file, generated in %.1fs; "
          "auth zone %d owners (A+AAAA); EDNS %s"
          % (args.names, args.wildcard_pct, rpz_mb, gen_s, args.auth_names,
             "on" if args.edns else "off"))
    print("dnsperf: -T 1 -c %d -q %d -l %d, rate unlimited, %d rounds per server (median "
          "shown); latency runs -c %d -Q %d -l %d -v; nice %d"
          % (args.clients, args.outstanding, args.seconds, args.rounds, args.clients,
             args.latency_qps, args.latency_seconds, args.nice))
    print()
    hdr = "%-44s %14s %14s %9s" % ("", "crosswatch", "unbound", "cw/ub")
    print(hdr)
    print("-" * len(hdr))

    def row(label, a, b, fmt="%.0f", ratio=True):
        r = ("%.2fx" % (a / b)) if ratio and b else ""
        print("%-44s %14s %14s %9s" % (label, fmt % a, fmt % b, r))

    def throughput_rows(wl, how):
        a, b = cw[wl + how], ub[wl + how]
        t = wl + (", FIFO" if how else "")
        row("%s: QPS (dnsperf, median)" % t, a["qps"], b["qps"])
        row("%s: QPS (dnsperf, best round)" % t, max(a["qps_all"]), max(b["qps_all"]))
        print("  %s QPS of each round: crosswatch %s, unbound %s" % (
            t, " ".join("%.0f" % x for x in a["qps_all"]), " ".join("%.0f" % x for x in b["qps_all"])))
        row("%s: server CPU use (of one core)" % t, a["cpu_util"] * 100, b["cpu_util"] * 100,
            "%.0f%%", False)
        row("%s: QPS per server CPU-second (median)" % t, a["qps_cpu"], b["qps_cpu"])
        row("%s: avg latency at max rate (us)" % t, a["avg"] * 1e6, b["avg"] * 1e6, "%.0f", False)
        row("%s: lost queries (all rounds)" % t, a["lost"], b["lost"], "%d", False)
        row("%s: dnsperf CPU use" % t, a["client_util"] * 100, b["client_util"] * 100,
            "%.0f%%", False)
        print("  %s rcodes: crosswatch %s, unbound %s" % (t, a["rcodes"], b["rcodes"]))

    for wl in ("cached", "blocked"):
        for how in ("", "_rt"):
            if wl + how in cw:
                throughput_rows(wl, how)
        la, lb = cw[wl + "_lat"], ub[wl + "_lat"]
        for key, how in (("_lat", "nice"), ("_rtlat", "FIFO")):
            if wl + key not in cw:
                continue
            la, lb = cw[wl + key], ub[wl + key]
            for q in ("p50", "p99", "p999"):
                row("%s: %s latency, %d qps, %s (us)" % (wl, q, args.latency_qps, how),
                    la[q] * 1e6, lb[q] * 1e6, "%.0f", False)
            row("%s: samples / lost, %s" % (wl, how), la["n"], lb["n"], "%d", False)
            if la["lost"] or lb["lost"]:
                row("%s: lost in the latency run, %s" % (wl, how), la["lost"], lb["lost"], "%d",
                    False)
    row("policy load: start to first blocked answer (s)", cw["load_s"], ub["load_s"], "%.1f", False)
    row("RSS, empty RPZ (KiB)", cw["rss_empty"], ub["rss_empty"], "%d", False)
    row("RSS, 1M-name RPZ, after load (KiB)", cw["rss_full"], ub["rss_full"], "%d", False)
    row("peak RSS during load (KiB)", cw["hwm_full"], ub["hwm_full"], "%d", False)
    row("RSS at the end (KiB)", cw["rss_end"], ub["rss_end"], "%d", False)
    row("bytes per policy name (RSS delta / names)", cw["bpn"], ub["bpn"], "%.1f")
    print()
    def worst(field, how):
        return min(cw[wl + how][field] / ub[wl + how][field] for wl in ("cached", "blocked"))

    how = "_rt" if args.rt else ""
    g1, g2 = worst("qps", how), worst("qps_cpu", how)
    key = "_rtlat" if args.rt else "_lat"
    p99 = max(cw["cached" + key]["p99"], cw["blocked" + key]["p99"])
    print("goals: QPS >= 1.5x Unbound (%s runs): %s (worst median ratio %.2fx, worst "
          "per-CPU-second ratio %.2fx; nice runs %.2fx / %.2fx); p99 < 1 ms (%s runs): %s "
          "(%.0f us); < 100 B per policy name: %s (%.1f B)"
          % ("FIFO" if args.rt else "nice", "met" if min(g1, g2) >= 1.5 else "NOT met", g1, g2,
             worst("qps", ""), worst("qps_cpu", ""), "FIFO" if args.rt else "nice",
             "met" if p99 < 1e-3 else "NOT met", p99 * 1e6,
             "met" if cw["bpn"] < 100 else "NOT met", cw["bpn"]))
    for (sv, wl), lines in prof.items():
        print("\nperf, %s, %s run (untimed, self time by dso%s):"
              % (sv, wl, ", then by symbol" if sv == "crosswatch" else ""))
        for ln in lines:
            print("  " + ln.rstrip())
    if not args.workdir:
        shutil.rmtree(d, ignore_errors=True)
    else:
        print("\nfiles kept in " + d)


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
