#!/usr/bin/env python3
"""test_dns - `crosswatch dns` against a real authoritative server (NSD) on 127.0.0.1.

The test writes a zone and its NSD config, two RPZ files (global lists, in precedence
order) and one view list, starts NSD, a center and `crosswatch dns` forwarding to
NSD with telemetry to the center, and queries with kdig:
  - allowed names are answered as NSD answers them (RA set, AA cleared);
  - every RPZ action: QNAME exact and wildcard NXDOMAIN, NODATA, PASSTHRU (and
    precedence across lists: the first list's PASSTHRU beats the second's block),
    DROP (no answer), TCP-ONLY (TC over UDP, answered over TCP), local data (block
    page address), RPZ-IP on the answer's address;
  - EDE 15 Blocked (global lists) / 17 Filtered (a view's own list) with EXTRA-TEXT
    "<list> <rule>"; a view's allow list beats a global block;
  - TCP (+tcp), and TC for a large answer (upstream over TCP, client retried over TCP);
  - malformed packets over a raw socket: FORMERR or dropped, the next query answered;
  - SIGHUP reload of a changed RPZ file;
  - metrics endpoint;
  - cache (NSD stopped: still answered) and serve-stale (expired TTL, NSD stopped);
  - telemetry: the center's export holds exactly the queries made, as kind "dns"
    with policy fields, also across a center stop/restart (ship's spool).
No wall-clock assertions: waits poll with generous deadlines.
"""
import collections
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

ZONE = """$TTL 300
@        IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
@        IN NS  ns
ns       IN A   127.0.0.1
www      IN A   192.0.2.10
www      IN AAAA 2001:db8::10
short 2  IN A   192.0.2.20
bad      IN A   192.0.2.66
a.evil   IN A   192.0.2.67
nodata   IN A   192.0.2.68
pass     IN A   192.0.2.69
drop     IN A   192.0.2.70
tcponly  IN A   192.0.2.71
redirect IN A   192.0.2.72
badip    IN A   198.51.100.66
allowed  IN A   192.0.2.73
viewblock IN A  192.0.2.74
reload   IN A   192.0.2.80
"""
# 40 TXT strings of 100 bytes: ~4.4 KB, more than any UDP answer here
ZONE += "".join('big IN TXT "%s"\n' % (("%02d" % i) * 50) for i in range(40))

RPZ1 = """$ORIGIN rpz-one.test.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
bad.example.test       CNAME .
*.evil.example.test    CNAME .
nodata.example.test    CNAME *.
pass.example.test      CNAME rpz-passthru.
drop.example.test      CNAME rpz-drop.
tcponly.example.test   CNAME rpz-tcp-only.
redirect.example.test  A 192.0.2.250
allowed.example.test   CNAME .
32.66.100.51.198.rpz-ip CNAME .
"""
RPZ2 = """$ORIGIN rpz-two.test.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
pass.example.test      CNAME .
"""
VIEW_RPZ = """$ORIGIN member-a.rpz.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
allowed.example.test   CNAME rpz-passthru.
viewblock.example.test CNAME .
"""


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
        self.answers = []   # (name, ttl, type, rdata)
        sec = None
        for ln in text.splitlines():
            if ln.startswith(";; ANSWER SECTION"):
                sec = "an"
                continue
            if ln.startswith(";;") or not ln.strip():
                if ln.startswith(";; ") and "SECTION" in ln:
                    sec = None
                continue
            if sec == "an":
                f = ln.split(None, 4)
                if len(f) == 5:
                    self.answers.append((f[0], int(f[1]), f[3], f[4]))
        self.timed_out = self.status is None

    def rdata(self, rtype):
        return [a[3] for a in self.answers if a[2] == rtype]

    def __repr__(self):
        return "<%s %s ede=%s %s>" % (self.status, self.flags, self.ede, self.answers)


def main():
    args = cwtest.parse_args()
    kdig = shutil.which("kdig")
    nsd = cwtest.nsd_binary()
    if not kdig or not nsd:
        print("test_dns: needs kdig (knot-dnsutils) and nsd: apt-get install knot-dnsutils nsd")
        sys.exit(1)
    with cwtest.TestEnv("test_dns", keep=args.keep) as env:
        ck = env.c
        d = env.dir
        nsd_port, dns_port, met_port = (cwtest.free_udp_tcp_port() for _ in range(3))
        with open(env.path("example.test.zone"), "w") as f:
            f.write(ZONE)
        with open(env.path("nsd.conf"), "w") as f:
            f.write(cwtest.nsd_conf(nsd_port, d, "example.test"))
        rpz1, rpz2, vrpz = env.path("rpz1.zone"), env.path("rpz2.zone"), env.path("view.zone")
        for p, t in ((rpz1, RPZ1), (rpz2, RPZ2), (vrpz, VIEW_RPZ)):
            with open(p, "w") as f:
                f.write(t)

        def start_nsd():
            p = cwtest.spawn([nsd, "-d", "-c", env.path("nsd.conf")], env.path("nsd.out.log"))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                r = cwtest.run([kdig, "@127.0.0.1", "-p", str(nsd_port), "www.example.test",
                                "+retry=0", "+timeout=1"], timeout=10)
                if b"status: NOERROR" in r.stdout:
                    return p
                if p.poll() is not None:
                    break
                time.sleep(0.1)
            raise AssertionError("nsd did not start:\n" + cwtest.tail(env.path("nsd.out.log")) +
                                 cwtest.tail(env.path("nsd.log")))

        nsd_proc = start_nsd()
        c = env.center(args.binary)
        member = c.add_member("member-a")
        sensor = c.add_sensor("member-a", "pdns")
        keyfile = env.path("sensor.key")
        with open(keyfile, "w") as f:
            f.write(sensor["key"] + "\n")
        state = env.path("dns-state")
        dns_log = env.path("dns.log")
        dns_argv = [args.binary, "dns", "--listen", "127.0.0.1:%d" % dns_port,
                    "--forward", "127.0.0.1:%d" % nsd_port, "--rpz", rpz1, "--rpz", rpz2,
                    "--view", "member-a=127.0.0.2/32", "--view-rpz", "member-a=" + vrpz,
                    "--metrics", "127.0.0.1:%d" % met_port, "--center", c.url,
                    "--key-file", keyfile, "--state-dir", state, "--flush-interval", "200ms",
                    "--upstream-timeout", "500ms", "--tcp-pipeline", "4", "--verbose"]
        dns = cwtest.spawn(dns_argv, dns_log, env=cwtest.env_for_children())
        expected = []  # (qname, qtype, rcode, policy, view) per telemetry record

        def q(name, qtype="A", *extra, src=None, rec=None):
            argv = [kdig, "@127.0.0.1", "-p", str(dns_port), name, qtype, "+edns",
                    "+retry=0", "+timeout=2"] + list(extra)
            if src:
                argv += ["-b", src]
            r = cwtest.run(argv, timeout=30)
            a = Answer(r.stdout.decode("utf-8", "replace"))
            for rr in (rec if rec is not None else [(a.status, None)]):
                expected.append((name.rstrip(".") + ".", qtype, rr[0], rr[1],
                                 "member-a" if src == "127.0.0.2" else "default"))
            return a

        deadline = time.monotonic() + 60
        while True:
            r = cwtest.run([kdig, "@127.0.0.1", "-p", str(dns_port), "ns.example.test",
                            "+retry=0", "+timeout=1"], timeout=10)
            if b"status: NOERROR" in r.stdout:
                expected.append(("ns.example.test.", "A", "NOERROR", None, "default"))
                break
            if dns.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("crosswatch dns did not start:\n" + cwtest.tail(dns_log))
            time.sleep(0.2)

        # -- allowed names
        a = q("www.example.test")
        ck.eq(a.status, "NOERROR", "www A status")
        ck.eq(a.rdata("A"), ["192.0.2.10"], "www A answer")
        ck.check("ra" in a.flags and "aa" not in a.flags, "RA set, AA cleared", repr(a.flags))
        a = q("www.example.test", "AAAA")
        ck.eq(a.rdata("AAAA"), ["2001:db8::10"], "www AAAA answer")
        a = q("nosuch.example.test")
        ck.eq(a.status, "NXDOMAIN", "a name that does not exist (upstream NXDOMAIN)")
        ck.eq(a.ede, None, "an upstream NXDOMAIN carries no EDE")

        # -- RPZ actions
        a = q("bad.example.test", rec=[("NXDOMAIN", "nxdomain")])
        ck.eq((a.status, a.answers), ("NXDOMAIN", []), "QNAME exact -> NXDOMAIN")
        ck.eq(a.ede, 15, "blocked answer EDE code")
        ck.eq(a.ede_text, "rpz-one.test bad.example.test", "EDE EXTRA-TEXT list and rule")
        a = q("a.evil.example.test", rec=[("NXDOMAIN", "nxdomain")])
        ck.eq((a.status, a.ede, a.ede_text), ("NXDOMAIN", 15, "rpz-one.test *.evil.example.test"),
              "QNAME wildcard -> NXDOMAIN")
        a = q("nodata.example.test", rec=[("NOERROR", "nodata")])
        ck.eq((a.status, a.answers, a.ede), ("NOERROR", [], 15), "NODATA")
        a = q("pass.example.test", rec=[("NOERROR", "passthru")])
        ck.eq((a.status, a.rdata("A"), a.ede), ("NOERROR", ["192.0.2.69"], None),
              "PASSTHRU in the first list beats the second list's block")
        a = q("drop.example.test", rec=[("DROP", "drop")])
        ck.check(a.timed_out, "DROP: no answer", repr(a))
        a = q("tcponly.example.test", "A", "+ignore", rec=[("NOERROR", "tcp-only")])
        ck.check("tc" in a.flags and not a.answers, "TCP-ONLY over UDP: TC, no answer", repr(a))
        a = q("tcponly.example.test", "A", "+tcp", rec=[("NOERROR", None)])
        ck.eq(a.rdata("A"), ["192.0.2.71"], "TCP-ONLY over TCP: answered")
        a = q("redirect.example.test", rec=[("NOERROR", "local-data")])
        ck.eq((a.status, a.rdata("A"), a.ede), ("NOERROR", ["192.0.2.250"], 15),
              "local data: the block page address")
        a = q("badip.example.test", rec=[("NXDOMAIN", "nxdomain")])
        ck.eq((a.status, a.answers, a.ede), ("NXDOMAIN", [], 15), "RPZ-IP on the answer address")
        ck.eq(a.ede_text, "rpz-one.test 32.66.100.51.198.rpz-ip", "RPZ-IP EDE text")
        # views
        a = q("allowed.example.test", rec=[("NXDOMAIN", "nxdomain")])
        ck.eq(a.status, "NXDOMAIN", "globally blocked name, default view")
        a = q("allowed.example.test", src="127.0.0.2", rec=[("NOERROR", "passthru")])
        ck.eq(a.rdata("A"), ["192.0.2.73"], "the member's allow list beats the global block")
        a = q("viewblock.example.test", src="127.0.0.2", rec=[("NXDOMAIN", "nxdomain")])
        ck.eq((a.status, a.ede, a.ede_text), ("NXDOMAIN", 17, "member-a.rpz viewblock.example.test"),
              "the member's own block list: EDE 17 Filtered")
        a = q("viewblock.example.test")
        ck.eq(a.rdata("A"), ["192.0.2.74"], "another view is not affected by that list")

        # -- TCP, and TC for a large answer
        a = q("www.example.test", "A", "+tcp")
        ck.eq(a.rdata("A"), ["192.0.2.10"], "+tcp answer")
        a = q("big.example.test", "TXT", "+ignore", "+bufsize=1232", rec=[("NOERROR", None)])
        ck.check("tc" in a.flags, "large answer over UDP is truncated (TC)", repr(a.flags))
        a = q("big.example.test", "TXT", "+bufsize=1232", rec=[("NOERROR", None), ("NOERROR", None)])
        ck.eq(len(a.rdata("TXT")), 40, "large answer complete after the client's TCP retry")

        # -- pipelined TCP: 10 queries in one write, more than --tcp-pipeline 4 in flight
        def wire_query(qid, name, qtype):
            qn = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\x00"
            return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qn + struct.pack(">HH", qtype, 1)

        names = [("www.example.test", 1, "NOERROR", None), ("bad.example.test", 1, "NXDOMAIN", "nxdomain"),
                 ("www.example.test", 28, "NOERROR", None)] + [("p%d.example.test" % i, 1, "NXDOMAIN", None)
                                                           for i in range(7)]  # upstream each
        t = socket.create_connection(("127.0.0.1", dns_port), timeout=10)
        t.sendall(b"".join(struct.pack(">H", len(m)) + m for m in
                           (wire_query(0x100 + i, n[0], n[1]) for i, n in enumerate(names))))
        buf, answers = b"", {}
        while len(answers) < len(names):
            chunk = t.recv(65535)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                n = struct.unpack(">H", buf[:2])[0]
                m, buf = buf[2:2 + n], buf[2 + n:]
                answers[struct.unpack(">H", m[:2])[0]] = m[3] & 0x0F
        t.close()
        want = {0x100 + i: {"NOERROR": 0, "NXDOMAIN": 3}[n[2]] for i, n in enumerate(names)}
        ck.eq(answers, want, "pipelined TCP: every query answered, by id")
        for n in names:
            expected.append((n[0] + ".", {1: "A", 28: "AAAA"}[n[1]], n[2], n[3], "default"))

        # -- malformed packets on a raw socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1.0)

        def raw(pkt):
            s.sendto(pkt, ("127.0.0.1", dns_port))
            try:
                return s.recv(65535)
            except socket.timeout:
                return None

        qn = b"\x03www\x07example\x04test\x00"
        bad = {
            "short header": b"\x12\x34\x01",
            "question count without a question": struct.pack(">HHHHHH", 0x1111, 0x0100, 1, 0, 0, 0),
            "compression loop": struct.pack(">HHHHHH", 0x2222, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01",
            "label length 70": struct.pack(">HHHHHH", 0x3333, 0x0100, 1, 0, 0, 0) + b"\x46" + b"a" * 70 + b"\x00\x00\x01\x00\x01",
            "truncated RR": struct.pack(">HHHHHH", 0x4444, 0x0100, 1, 0, 0, 1) + qn + b"\x00\x01\x00\x01\x00\x00\x29",
            "a response, not a query": struct.pack(">HHHHHH", 0x5555, 0x8180, 1, 0, 0, 0) + qn + b"\x00\x01\x00\x01",
        }
        for what, pkt in bad.items():
            rep = raw(pkt)
            if rep is None:
                ck.check(what in ("short header", "a response, not a query"),
                         "malformed (%s): dropped" % what)
            else:
                rcode = rep[3] & 0x0F if len(rep) >= 4 else -1
                ck.eq(rcode, 1, "malformed (%s): FORMERR" % what)
                ck.eq(rep[:2], pkt[:2], "malformed (%s): id echoed" % what)
        s.close()
        a = q("www.example.test")
        ck.eq(a.rdata("A"), ["192.0.2.10"], "a good query after the malformed ones")
        ck.check(dns.poll() is None, "crosswatch dns still running")

        # -- SIGHUP reload
        a = q("reload.example.test")
        ck.eq(a.rdata("A"), ["192.0.2.80"], "before the reload: answered")
        with open(rpz1 + ".new", "w") as f:
            f.write(RPZ1 + "reload.example.test CNAME .\n")
        os.rename(rpz1 + ".new", rpz1)
        dns.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while True:
            with open(dns_log, "rb") as f:
                if b"policy reloaded" in f.read():
                    break
            if time.monotonic() > deadline:
                raise AssertionError("no reload:\n" + cwtest.tail(dns_log))
            time.sleep(0.1)
        a = q("reload.example.test", rec=[("NXDOMAIN", "nxdomain")])
        ck.eq((a.status, a.ede_text), ("NXDOMAIN", "rpz-one.test reload.example.test"),
              "after SIGHUP: the new rule applies")

        # -- metrics
        r = cwtest.http_request(met_port, "GET", "/metrics")
        mt = r.text()
        ck.eq(r.status, 200, "metrics endpoint")
        ck.check('crosswatch_dns_blocks_total{list="rpz-one.test",view="default"}' in mt,
                 "blocks by list and view")
        ck.check('crosswatch_dns_blocks_total{list="member-a.rpz",view="member-a"} 1' in mt,
                 "blocks of the member's list")
        ck.check(re.search(r"crosswatch_dns_upstream_tc_fallbacks_total [1-9]", mt) is not None,
                 "upstream TCP fallback counted")
        ck.check('crosswatch_dns_policy_reloads_total{result="ok"} 1' in mt, "reload counted")
        ck.check(re.search(r"crosswatch_dns_malformed_total [4-9]", mt) is not None,
                 "malformed queries counted")

        # -- cache and serve-stale
        a = q("short.example.test")
        ck.eq(a.rdata("A"), ["192.0.2.20"], "short-TTL name answered")
        cwtest.kill9(nsd_proc)
        a = q("www.example.test")
        ck.eq(a.rdata("A"), ["192.0.2.10"], "upstream stopped: answered from the cache")
        ck.check(0 < a.answers[0][1] <= 300, "cached TTL decays, never above the original",
                 repr(a.answers))
        time.sleep(3)  # let the 2 s TTL expire (waiting, not asserting on time)
        a = q("short.example.test")
        ck.eq((a.status, a.rdata("A")), ("NOERROR", ["192.0.2.20"]),
              "expired answer served stale while the upstream is down")
        ck.eq([x[1] for x in a.answers], [30], "stale answer TTL is 30 (RFC 8767)")
        a = q("neverseen.example.test")
        ck.eq(a.status, "SERVFAIL", "nothing cached and no upstream: SERVFAIL")
        nsd_proc = start_nsd()

        # -- telemetry across a center restart
        def dns_records():
            return [x for x in c.export_records() if x.get("kind") == "dns"]

        def wait_records(n):
            deadline = time.monotonic() + 120
            while True:
                got = dns_records()
                if len(got) >= n or time.monotonic() > deadline:
                    return got
                time.sleep(0.3)

        got = wait_records(len(expected))
        ck.eq(len(got), len(expected), "records at the center before its restart")
        c.stop()
        for i in range(10):
            a = q("www.example.test")
        a = q("bad.example.test", rec=[("NXDOMAIN", "nxdomain")])
        time.sleep(0.6)  # the batch reaches the spool while the center is away
        spooled = os.listdir(os.path.join(state, "spool"))
        ck.check(any(n.endswith(".batch") for n in spooled), "records spooled while the center is away",
                 repr(spooled))
        c.start()
        got = wait_records(len(expected))
        ck.eq(len(got), len(expected), "every query is a record after the center restart")
        key = lambda x: (x.get("dns.qname"), x.get("dns.qtype"), x.get("dns.rcode"),
                         x.get("dns.policy"), x.get("dns.view"))
        gotc, wantc = collections.Counter(key(x) for x in got), collections.Counter(expected)
        ck.check(gotc == wantc, "records are exactly the %d queries made" % len(expected),
                 "(missing %r, unexpected %r)" % (dict(wantc - gotc), dict(gotc - wantc)))
        blocked = [x for x in got if x.get("dns.qname") == "bad.example.test."]
        ck.check(blocked and all(x.get("dns.policy_zone") == "rpz-one.test" and
                                 x.get("dns.indicator") == "bad.example.test" and
                                 x.get("dns.policy_trigger") == "qname" and
                                 x.get("src_ip") == "127.0.0.1" and
                                 x.get("member") == member["id"] for x in blocked),
                 "policy fields of a blocked query", repr(blocked[:1]))
        www = [x for x in got if x.get("dns.qname") == "www.example.test." and
               x.get("dns.qtype") == "A"]
        ck.check(all(x.get("dns.answers") == "192.0.2.10" for x in www), "answers field",
                 repr(www[:1]))
        ck.check(any(x.get("dns.cache") == "hit" for x in www) and
                 any(x.get("dns.cache") == "miss" for x in www), "cache field")
        # graceful shutdown
        dns.send_signal(signal.SIGTERM)
        try:
            rc = dns.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        ck.eq(rc, 0, "SIGTERM: clean exit")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")


if __name__ == "__main__":
    main()
