#!/usr/bin/env python3
"""test_dns_nstrig - RPZ NSDNAME and NSIP triggers on live answers (src/dns/dnsd_nsinfo.c).

crosswatch dns finds the name servers of a query's zone with auxiliary NS (and A/AAAA)
queries through its own upstream path, and feeds them to the policy. Here:

Forward mode, NSD on loopback as the upstream (authoritative for every test zone):
  - Unbound's replay tests rpz_nsdname.rpl and rpz_nsip.rpl (read in place from
    ../shared/data/rpz): their policy zone is loaded as is, the zones their scripted
    servers play (gotham.aa ... gotham.com: NS names, server addresses, A data) are
    served by NSD, and every STEP QUERY / CHECK_ANSWER pair of the file is asked with
    kdig and compared (rcode, TC, the answer's addresses) - every action: NXDOMAIN,
    NODATA, local data, TCP-ONLY (TC over UDP, answered over TCP), PASSTHRU; DROP
    (gotham.cc, no step in the file) is checked too: no answer;
  - a zone delegated to ns1.bad-hoster.test: a wildcard NSDNAME rule blocks the apex
    and names below it (the zone found from the SOA of a NODATA answer), with EDE 15
    and the rule in the EXTRA-TEXT; a zone whose server's address is only known from
    an A query (another zone) is blocked by NSIP; a clean zone resolves;
  - precedence: within one list QNAME beats NSDNAME (a PASSTHRU for one name of a
    blocked zone), across lists the first list's NSDNAME beats the second's QNAME;
  - the NS cache: a second name of a known zone costs one NS query, a repeated name
    none (the resolver's debug log lists every auxiliary query);
  - zero cost without NS rules: a resolver whose lists have none sends no auxiliary
    query at all;
  - an upstream that never answers NS queries: the client still gets an answer
    within the bounded wait (fail-open), and other clients are answered meanwhile.
Recursive mode (libunbound; needs root for a fake root on port 53): the same
bad-hoster delegation under "example." (libunbound serves "test." itself, RFC 6761)
resolved from a fake root down, blocked by NSDNAME and NSIP.
"""
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

NSD_CONF_HEAD = """server:
{ips}  port: {port}
  zonesdir: "{dir}"
  database: ""
  pidfile: "{dir}/nsd-{name}.pid"
  username: ""
  chroot: ""
  logfile: "{dir}/nsd-{name}.log"
  xfrdfile: "{dir}/xfrd-{name}.state"
  zonelistfile: "{dir}/zone-{name}.list"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
"""

# own zones: a zone hosted by a blocked hoster, a zone whose server's address is in
# a blocked range (known only through an A query into another zone), a clean zone
OWN_ZONES = {
    "hosted.test": """@ NS ns1.bad-hoster.test.
@ A 192.0.2.40
www A 192.0.2.41
www2 A 192.0.2.42
ok A 192.0.2.43
""",
    "bad-hoster.test": """@ NS ns1
ns1 A 203.0.113.53
""",
    "iphosted.test": """@ NS ns.other.test.
www A 192.0.2.50
""",
    "other.test": """@ NS ns
ns A 198.51.100.53
""",
    "clean.test": """@ NS ns
ns A 198.18.0.60
www A 192.0.2.61
""",
    # the replay files name gotham.cc (rpz-drop rules) without serving it
    "gotham.cc": """@ NS ns1
@ A 192.0.2.2
ns1 A 192.0.2.1
""",
}
OWN_RPZ1 = """$ORIGIN rpz-first.test.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
*.bad-hoster.test.rpz-nsdname CNAME .
24.0.100.51.198.rpz-nsip      CNAME .
ok.hosted.test                CNAME rpz-passthru.
"""
OWN_RPZ2 = """$ORIGIN rpz-second.test.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
www.hosted.test A 10.9.9.9
"""
PLAIN_RPZ = """$ORIGIN plain.test.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
blocked.clean.test CNAME .
"""


def zone_text(origin, body):
    o = origin.strip(".") + "." if origin.strip(".") else "."
    soa = "ns.%s admin.%s" % (o, o) if o != "." else "ns.root. admin.root."
    return "$ORIGIN %s\n$TTL 300\n@ SOA %s 1 3600 600 86400 60\n" % (o, soa) + body


def rpl_parts(path):
    """(policy zone text, {zone: [(owner, type, rdata)]}, [(qname, qtype, tcp, expect)])
    from an Unbound replay file; expect = (rcode, tc, [addresses])."""
    text = open(path).read()
    m = re.search(r"TEMPFILE_CONTENTS \S+\n(.*?)TEMPFILE_END", text, re.S)
    policy = m.group(1)
    head, _, steps = text.partition("\nSTEP ")
    zones = {}
    for owner, typ, rdata in re.findall(
            r"^(\S*gotham\.\w+\.)\s+IN\s+(NS|A)\s+(\S+)\s*$", head, re.M):
        apex = re.search(r"(gotham\.\w+\.)$", owner).group(1)
        rec = (owner, typ, rdata)
        if rec not in zones.setdefault(apex, []):
            zones[apex].append(rec)
    cases = []
    blocks = re.split(r"^STEP \d+ ", "STEP " + steps, flags=re.M)
    pending = None
    for b in blocks:
        if b.startswith("QUERY"):
            q = re.search(r"SECTION QUESTION\n(\S+)\s+IN\s+(\S+)", b)
            pending = (q.group(1), q.group(2), "MATCH TCP" in b)
        elif b.startswith("CHECK_ANSWER") and pending:
            reply = re.search(r"REPLY ([^\n]*)", b).group(1).split()
            rcode = [w for w in reply if w in ("NOERROR", "NXDOMAIN", "SERVFAIL")][0]
            an = b.split("SECTION ANSWER", 1)[1] if "SECTION ANSWER" in b else ""
            addrs = re.findall(r"\sIN\s+A\s+(\S+)", an)
            cases.append(pending + ((rcode, "TC" in reply, addrs),))
            pending = None
    return policy, zones, cases


class Answer:
    def __init__(self, text):
        self.text = text
        m = re.search(r"status: (\w+)", text)
        self.status = m.group(1) if m else None
        m = re.search(r";; Flags: ([^;]*);", text)
        self.flags = m.group(1).split() if m else []
        m = re.search(r"EDE: (\d+) \([^)]*\)(?:: '([^']*)')?", text)
        self.ede = int(m.group(1)) if m else None
        self.ede_text = m.group(2) if m else None
        an = text.split("ANSWER SECTION:")[1].split("\n\n")[0] if "ANSWER SECTION:" in text \
            else ""
        self.a = re.findall(r"\sA\s+(\d+\.\d+\.\d+\.\d+)", an)

    def __repr__(self):
        return "<%s %s ede=%s %s %s>" % (self.status, self.flags, self.ede, self.ede_text,
                                         self.a)


def aux_count(log):
    with open(log, errors="replace") as f:
        return len(re.findall(r"ns lookup: ask ", f.read()))


def main():
    args = cwtest.parse_args()
    kdig = shutil.which("kdig")
    nsd = cwtest.nsd_binary()
    if not kdig or not nsd:
        print("test_dns_nstrig: needs kdig (knot-dnsutils) and nsd")
        sys.exit(1)
    rpl_dir = os.path.join(args.shared, "data", "rpz", "unbound-testdata", "testdata")
    with cwtest.TestEnv("test_dns_nstrig", keep=args.keep) as env:
        ck = env.c
        d = env.dir
        procs = []

        def write(name, text):
            with open(env.path(name), "w") as f:
                f.write(text)
            return env.path(name)

        # -- NSD: the replay files' zones and our own ---------------------------
        replays = {}
        zones = dict(OWN_ZONES)
        for rpl in ("rpz_nsdname", "rpz_nsip"):
            policy, rz, cases = rpl_parts(os.path.join(rpl_dir, rpl + ".rpl"))
            ck.require(len(rz) >= 4 and len(cases) >= 4, "%s.rpl: zones and steps read" % rpl,
                       "%d zones, %d steps" % (len(rz), len(cases)))
            replays[rpl] = (write(rpl + ".rpz", policy), cases)
            for apex, recs in rz.items():
                body = "".join("%s %s %s\n" % (o, t, r) for o, t, r in recs)
                if apex.rstrip(".") in zones and zones[apex.rstrip(".")] != body:
                    ck.require(False, "the two replay files agree on %s" % apex)
                zones[apex.rstrip(".")] = body
        nsd_port = cwtest.free_port()
        conf = NSD_CONF_HEAD.format(ips="  ip-address: 127.0.0.1@%d\n" % nsd_port,
                                    port=nsd_port, dir=d, name="fwd")
        for z, body in sorted(zones.items()):
            write(z + ".zone", zone_text(z, body))
            conf += "zone:\n  name: \"%s\"\n  zonefile: %s.zone\n" % (z, z)
        write("nsd-fwd.conf", conf)
        nsd_p = cwtest.spawn([nsd, "-d", "-c", env.path("nsd-fwd.conf")], env.path("nsd-fwd.out"))
        procs.append(nsd_p)
        ck.require(cwtest.wait_noerror(kdig, nsd_port, "www.clean.test", nsd_p, extra=("A",)),
                   "nsd starts", cwtest.tail(env.path("nsd-fwd.log")))

        def start_dns(name, rpz, upstream=None, extra=()):
            port = cwtest.free_port()
            log = env.path("dns-%s.log" % name)
            argv = [args.binary, "dns", "--listen", "127.0.0.1:%d" % port, "--verbose"]
            argv += ["--forward", upstream or "127.0.0.1:%d" % nsd_port]
            for f in rpz:
                argv += ["--rpz", f]
            p = cwtest.spawn(argv + list(extra), log, env=cwtest.env_for_children())
            procs.append(p)
            deadline = time.monotonic() + 30
            while True:
                r = cwtest.run([kdig, "@127.0.0.1", "-p", str(port), "ns.clean.test", "+tcp",
                                "+retry=0", "+timeout=2"], timeout=10)
                if b"status:" in r.stdout:
                    break
                ck.require(p.poll() is None and time.monotonic() < deadline,
                           "crosswatch dns (%s) starts" % name, cwtest.tail(log))
                time.sleep(0.2)
            return p, port, log

        def q(port, name, qtype="A", *extra, timeout=4):
            r = cwtest.run([kdig, "@127.0.0.1", "-p", str(port), name, qtype, "+edns",
                            "+retry=0", "+timeout=%d" % timeout] + list(extra), timeout=30)
            return Answer(r.stdout.decode("utf-8", "replace"))

        # -- 1. Unbound's nsdname / nsip replay steps --------------------------------
        for rpl, (rpz_file, cases) in sorted(replays.items()):
            p, port, log = start_dns(rpl, [rpz_file])
            for qname, qtype, tcp, (rcode, tc, addrs) in cases:
                a = q(port, qname, qtype, *(["+tcp"] if tcp else ["+ignore"]))
                got = (a.status, "tc" in a.flags, a.a)
                ck.eq(got, (rcode, tc, addrs), "%s: %s %s%s as the replay file expects"
                      % (rpl, qname, qtype, " over TCP" if tcp else ""))
            a = q(port, "gotham.cc.", "A", timeout=2)
            ck.eq(a.status, None, "%s: gotham.cc (rpz-drop rule) gets no answer" % rpl)
            p.send_signal(signal.SIGTERM)
            p.wait(30)
            ck.eq(p.returncode, 0, "%s: resolver stops cleanly" % rpl)

        # -- 2. own zones: delegation to a blocked hoster, NSIP, precedence, cache ----
        rpz1, rpz2 = write("rpz1.zone", OWN_RPZ1), write("rpz2.zone", OWN_RPZ2)
        p, port, log = start_dns("own", [rpz1, rpz2])
        n0 = aux_count(log)
        a = q(port, "hosted.test")
        ck.eq((a.status, a.ede, a.ede_text),
              ("NXDOMAIN", 15, "rpz-first.test *.bad-hoster.test.rpz-nsdname"),
              "the apex of a zone served by ns1.bad-hoster.test: NSDNAME block, EDE 15")
        a = q(port, "www2.hosted.test")
        ck.eq((a.status, a.ede), ("NXDOMAIN", 15), "a name below it (zone from the SOA)")
        n1 = aux_count(log)
        a = q(port, "www2.hosted.test", "TXT")
        ck.eq((a.status, a.ede), ("NXDOMAIN", 15), "any type of that name")
        ck.eq(aux_count(log), n1, "a known name's zone comes from the NS cache (no query)")
        a = q(port, "nosuch.hosted.test")
        ck.eq((a.status, a.ede), ("NXDOMAIN", 15), "a missing name in that zone too")
        ck.eq(aux_count(log) - n1, 1, "a new name of a known zone: one NS query")
        a = q(port, "ok.hosted.test")
        ck.eq((a.status, a.a), ("NOERROR", ["192.0.2.43"]),
              "within one list QNAME (PASSTHRU) beats NSDNAME")
        a = q(port, "www.hosted.test")
        ck.eq((a.status, a.ede_text), ("NXDOMAIN", "rpz-first.test *.bad-hoster.test.rpz-nsdname"),
              "across lists the first list's NSDNAME beats the second's QNAME rule")
        a = q(port, "www.iphosted.test")
        ck.eq((a.status, a.ede, a.ede_text),
              ("NXDOMAIN", 15, "rpz-first.test 24.0.100.51.198.rpz-nsip"),
              "NSIP: the server's address (an A query into another zone) is in a blocked range")
        a = q(port, "www.clean.test")
        ck.eq((a.status, a.a, a.ede), ("NOERROR", ["192.0.2.61"], None), "a clean zone resolves")
        a = q(port, "www.clean.test", "+tcp")
        ck.eq((a.status, a.a), ("NOERROR", ["192.0.2.61"]), "and over TCP")
        ck.check(aux_count(log) > n0, "auxiliary NS queries were made", str(aux_count(log)))
        p.send_signal(signal.SIGTERM)
        p.wait(30)
        ck.eq(p.returncode, 0, "resolver (own lists) stops cleanly")

        # -- 3. no NS rules: no auxiliary query ----------------------------------------
        p, port, log = start_dns("plain", [write("plain.zone", PLAIN_RPZ)])
        a = q(port, "www.hosted.test")
        ck.eq((a.status, a.a), ("NOERROR", ["192.0.2.41"]), "without NS rules: resolved")
        a = q(port, "blocked.clean.test")
        ck.eq(a.status, "NXDOMAIN", "QNAME rules still apply")
        ck.eq(aux_count(log), 0, "a policy without NSDNAME/NSIP rules makes no NS query")
        p.send_signal(signal.SIGTERM)
        p.wait(30)

        # -- 4. an upstream that ignores NS queries: bounded wait, others answered -----
        # a UDP relay to NSD that drops every NS question
        relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        relay.bind(("127.0.0.1", 0))
        relay_port = relay.getsockname()[1]
        stop = threading.Event()

        def relay_main():
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.settimeout(0.05)
            relay.settimeout(0.05)
            clients = {}
            while not stop.is_set():
                try:
                    data, peer = relay.recvfrom(65535)
                    qd = data[12:]
                    i = 0
                    while i < len(qd) and qd[i]:
                        i += qd[i] + 1
                    qtype = int.from_bytes(qd[i + 1:i + 3], "big") if i + 3 <= len(qd) else 0
                    if qtype != 2 or not qd[:i + 1].lower().endswith(b"\x05clean\x04test\x00"):
                        clients[data[:2]] = peer
                        up.sendto(data, ("127.0.0.1", nsd_port))
                except socket.timeout:
                    pass
                try:
                    data, _ = up.recvfrom(65535)
                    if data[:2] in clients:
                        relay.sendto(data, clients.pop(data[:2]))
                except socket.timeout:
                    pass

        t = threading.Thread(target=relay_main, daemon=True)
        t.start()
        p, port, log = start_dns("mute", [rpz1], upstream="127.0.0.1:%d" % relay_port,
                                 extra=["--upstream-timeout", "500ms"])
        result = {}

        def slow():
            t0 = time.monotonic()
            result["a"] = q(port, "www.clean.test", timeout=8)
            result["dt"] = time.monotonic() - t0

        th = threading.Thread(target=slow)
        th.start()
        time.sleep(0.1)
        t0 = time.monotonic()
        a = q(port, "www.iphosted.test")
        dt = time.monotonic() - t0
        waiting = th.is_alive()
        ck.eq((a.status, a.ede), ("NXDOMAIN", 15),
              "another client meanwhile: its zone's NS look-up answered, NSIP block")
        ck.check(waiting and dt < 1.0, "... while the first client still waits (the loop "
                 "is not blocked)", "%.2f s, first still waiting: %s" % (dt, waiting))
        th.join(20)
        ck.eq((result["a"].status, result["a"].a), ("NOERROR", ["192.0.2.61"]),
              "NS look-up timed out: resolved without NS triggers (fail-open)")
        ck.check(result["dt"] < 5, "within the bounded wait (3 x 500 ms + slack)",
                 "%.2f s" % result["dt"])
        # a TCP client that leaves while its query waits for the NS set: nothing answers
        # into its closed connection (ASan would see it), the resolver keeps going
        qn = b"\x03www\x05clean\x04test\x00"
        m = bytes([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]) + qn + bytes([0, 1, 0, 1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(len(m).to_bytes(2, "big") + m)
        time.sleep(2.5)
        a = q(port, "www.iphosted.test")
        ck.eq((a.status, a.ede), ("NXDOMAIN", 15), "the resolver answers after a client left "
              "while its query waited for an NS set")
        ck.check(p.poll() is None, "... and is still running")
        stop.set()
        t.join(5)
        p.send_signal(signal.SIGTERM)
        p.wait(30)
        ck.eq(p.returncode, 0, "resolver (mute upstream) stops cleanly")
        nsd_p.send_signal(signal.SIGTERM)
        nsd_p.wait(30)

        # -- 5. recursive mode ---------------------------------------------------------
        if os.geteuid() != 0:
            ck.note("recursive mode skipped: needs root (fake root on port 53)")
            return
        recursive(env, ck, args, kdig, nsd, q, write, [rpz1])


ROOT_ADDR, TEST_ADDR, HOST_ADDR, IPHOST_ADDR = "127.10.7.1", "127.10.7.2", "127.10.7.3", \
    "127.10.7.4"


def recursive(env, ck, args, kdig, nsd, q, write, rpz):
    root = """. NS ns.root.
ns.root. A %s
example. NS ns.example.
ns.example. A %s
""" % (ROOT_ADDR, TEST_ADDR)
    test = """@ NS ns
ns A %s
hosted NS ns1.bad-hoster
ns1.bad-hoster A %s
iphosted NS ns.iphost
ns.iphost A %s
www.clean A 192.0.2.61
""" % (TEST_ADDR, HOST_ADDR, IPHOST_ADDR)
    hosted = "@ NS ns1.bad-hoster.example.\nwww A 192.0.2.41\n"
    iphosted = "@ NS ns.iphost.example.\nwww A 192.0.2.50\n"
    # the NSIP rule of rpz1 is 198.51.100.0/24: a list of its own for the loopback server
    rpz_rec = write("rpz-rec.zone", """$ORIGIN rpz-rec.test.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
ns1.bad-hoster.example.rpz-nsdname CNAME .
32.4.7.10.127.rpz-nsip CNAME .
""")
    servers = [("root", [ROOT_ADDR], {".": root}), ("example", [TEST_ADDR], {"example": test}),
               ("hosts", [HOST_ADDR, IPHOST_ADDR], {"hosted.example": hosted,
                                                    "iphosted.example": iphosted})]
    procs = []
    for name, addrs, zs in servers:
        conf = NSD_CONF_HEAD.format(ips="".join("  ip-address: %s@53\n" % a for a in addrs),
                                    port=53, dir=env.dir, name=name)
        for z, body in zs.items():
            fn = "rec-%s.zone" % (z.strip(".") or "root")
            write(fn, zone_text(z, body))
            conf += "zone:\n  name: \"%s\"\n  zonefile: %s\n" % (z, fn)
        write("nsd-%s.conf" % name, conf)
        p = cwtest.spawn([nsd, "-d", "-c", env.path("nsd-%s.conf" % name)],
                         env.path("nsd-%s.out" % name))
        procs.append(p)
        probe = {"root": "example", "example": "example", "hosts": "hosted.example"}[name]
        deadline = time.monotonic() + 30
        while True:
            r = cwtest.run([kdig, "@" + addrs[0], probe, "NS", "+retry=0", "+timeout=1",
                            "+norec"], timeout=10)
            if b"status: NOERROR" in r.stdout:
                break
            ck.require(p.poll() is None and time.monotonic() < deadline,
                       "nsd %s starts" % name, cwtest.tail(env.path("nsd-%s.log" % name)))
            time.sleep(0.1)
    hints = write("root.hints", ".  3600000 IN NS ns.root.\nns.root. 3600000 IN A %s\n"
                  % ROOT_ADDR)
    port = cwtest.free_port()
    log = env.path("dns-rec.log")
    dns = cwtest.spawn([args.binary, "dns", "--listen", "127.0.0.1:%d" % port, "--recursive",
                        "--root-hints", hints, "--trust-anchor", "none",
                        "--unbound-option", "do-not-query-localhost: no",
                        "--recursive-timeout", "3s", "--rpz", rpz_rec, "--verbose"],
                       log, env=cwtest.env_for_children())
    deadline = time.monotonic() + 60
    while True:
        a = q(port, "www.clean.example")
        if a.status == "NOERROR":
            break
        ck.require(dns.poll() is None and time.monotonic() < deadline,
                   "crosswatch dns --recursive starts", cwtest.tail(log))
        time.sleep(0.3)
    ck.eq(a.a, ["192.0.2.61"], "recursive: a clean zone resolves")
    a = q(port, "www.hosted.example")
    ck.eq((a.status, a.ede, a.ede_text),
          ("NXDOMAIN", 15, "rpz-rec.test ns1.bad-hoster.example.rpz-nsdname"),
          "recursive: NSDNAME block of a zone delegated to ns1.bad-hoster.example")
    a = q(port, "hosted.example", "NS")
    ck.eq((a.status, a.ede), ("NXDOMAIN", 15), "recursive: its apex too")
    a = q(port, "www.iphosted.example")
    ck.eq((a.status, a.ede, a.ede_text), ("NXDOMAIN", 15, "rpz-rec.test 32.4.7.10.127.rpz-nsip"),
          "recursive: NSIP block by the server's address")
    dns.send_signal(signal.SIGTERM)
    dns.wait(30)
    ck.eq(dns.returncode, 0, "recursive resolver stops cleanly")
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(30)


if __name__ == "__main__":
    main()
