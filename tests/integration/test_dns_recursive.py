#!/usr/bin/env python3
"""test_dns_recursive - `crosswatch dns --recursive`: libunbound recursion, no internet.

Two NSD instances on loopback play the DNS tree: a fake root (127.10.0.1:53, zone ".",
delegating "example." with glue) and the "example." zone (127.10.0.2:53). The test
writes a root hints file naming the fake root and starts the resolver with
--recursive --root-hints FILE --trust-anchor none --unbound-option
'do-not-query-localhost: no' and an RPZ file. kdig asks it:
  - a name two delegations down is resolved (the answer's address, RA set);
  - a missing name is NXDOMAIN (libunbound's answer relayed);
  - an RPZ QNAME rule blocks before recursion (EDE 15), and an RPZ-IP rule blocks a
    recursive answer by its address (policy on libunbound's answer packet);
  - the second query of a name is a cache hit (metrics), answered with NSD stopped;
  - with the tree gone, a new name is SERVFAIL within the recursive timeout.
Needs root (the fake root must listen on port 53: root hints carry no port).
"""
import os
import re
import shutil
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

ROOT_ADDR, CHILD_ADDR = "127.10.0.1", "127.10.0.2"
ROOT_ZONE = """$TTL 3600
.            IN SOA ns.root. admin.root. 1 3600 600 86400 60
.            IN NS  ns.root.
ns.root.     IN A   %s
example.     IN NS  ns.example.
ns.example.  IN A   %s
""" % (ROOT_ADDR, CHILD_ADDR)
CHILD_ZONE = """$TTL 300
@        IN SOA ns.example. admin.example. 1 3600 600 86400 60
@        IN NS  ns
ns       IN A   %s
www      IN A   192.0.2.10
mail     IN A   192.0.2.11
bad      IN A   192.0.2.12
badip    IN A   198.51.100.66
""" % CHILD_ADDR
HINTS = """.          3600000 IN NS ns.root.
ns.root.   3600000 IN A  %s
""" % ROOT_ADDR
RPZ = """$ORIGIN rpz.test.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
bad.example            CNAME .
32.66.100.51.198.rpz-ip CNAME .
"""
NSD_CONF = """server:
  ip-address: {addr}@53
  port: 53
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
zone:
  name: "{zone}"
  zonefile: {zonefile}
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
        self.a = re.findall(r"\sA\s+(\d+\.\d+\.\d+\.\d+)", text.split("ANSWER SECTION")[-1]) \
            if "ANSWER SECTION" in text else []

    def __repr__(self):
        return "<%s %s ede=%s %s>" % (self.status, self.flags, self.ede, self.a)


def main():
    args = cwtest.parse_args()
    kdig = shutil.which("kdig")
    nsd = cwtest.nsd_binary()
    if not kdig or not nsd:
        print("test_dns_recursive: needs kdig (knot-dnsutils) and nsd")
        sys.exit(1)
    if os.geteuid() != 0:
        print("test_dns_recursive: needs root (a fake root server on port 53)")
        sys.exit(1)
    with cwtest.TestEnv("test_dns_recursive", keep=args.keep) as env:
        ck = env.c
        d = env.dir
        for name, text in (("root.zone", ROOT_ZONE), ("example.zone", CHILD_ZONE),
                           ("root.hints", HINTS), ("rpz.zone", RPZ)):
            with open(env.path(name), "w") as f:
                f.write(text)
        nsds = []
        for name, addr, zone, zf in (("root", ROOT_ADDR, ".", "root.zone"),
                                     ("child", CHILD_ADDR, "example", "example.zone")):
            with open(env.path("nsd-%s.conf" % name), "w") as f:
                f.write(NSD_CONF.format(addr=addr, dir=d, name=name, zone=zone, zonefile=zf))

        def start_nsds():
            ps = []
            for name, addr in (("root", ROOT_ADDR), ("child", CHILD_ADDR)):
                p = cwtest.spawn([nsd, "-d", "-c", env.path("nsd-%s.conf" % name)],
                                 env.path("nsd-%s.out" % name))
                probe = "example" if name == "root" else "www.example"
                deadline = time.monotonic() + 30
                while True:
                    r = cwtest.run([kdig, "@" + addr, probe, "NS" if name == "root" else "A",
                                    "+retry=0", "+timeout=1", "+norec"], timeout=10)
                    if b"status: NOERROR" in r.stdout:
                        break
                    ck.require(p.poll() is None and time.monotonic() < deadline,
                               "nsd %s starts" % name, cwtest.tail(env.path("nsd-%s.log" % name)))
                    time.sleep(0.1)
                ps.append(p)
            return ps

        nsds = start_nsds()
        dns_port = cwtest.free_port()
        met_port = cwtest.free_port()
        log = env.path("dns.log")
        dns = cwtest.spawn([args.binary, "dns", "--listen", "127.0.0.1:%d" % dns_port,
                            "--recursive", "--root-hints", env.path("root.hints"),
                            "--trust-anchor", "none",
                            "--unbound-option", "do-not-query-localhost: no",
                            "--recursive-timeout", "3s", "--rpz", env.path("rpz.zone"),
                            "--metrics", "127.0.0.1:%d" % met_port, "--verbose"],
                           log, env=cwtest.env_for_children())

        def q(name, qtype="A"):
            r = cwtest.run([kdig, "@127.0.0.1", "-p", str(dns_port), name, qtype, "+edns",
                            "+retry=0", "+timeout=6"], timeout=30)
            return Answer(r.stdout.decode("utf-8", "replace"))

        deadline = time.monotonic() + 60
        while True:
            a = q("www.example")
            if a.status == "NOERROR":
                break
            ck.require(dns.poll() is None and time.monotonic() < deadline,
                       "crosswatch dns --recursive starts and resolves", cwtest.tail(log))
            time.sleep(0.3)
        ck.eq(a.a, ["192.0.2.10"], "www.example resolved from the fake root down")
        ck.check("ra" in a.flags and "aa" not in a.flags, "RA set, AA cleared", repr(a.flags))
        a = q("mail.example")
        ck.eq((a.status, a.a), ("NOERROR", ["192.0.2.11"]), "a second name (delegation cached)")
        a = q("nosuch.example")
        ck.eq(a.status, "NXDOMAIN", "a missing name is NXDOMAIN")
        ck.eq(a.ede, None, "a resolved NXDOMAIN carries no EDE")
        a = q("bad.example")
        ck.eq((a.status, a.ede, a.ede_text), ("NXDOMAIN", 15, "rpz.test bad.example"),
              "RPZ QNAME block before recursion")
        a = q("badip.example")
        ck.eq((a.status, a.ede, a.ede_text),
              ("NXDOMAIN", 15, "rpz.test 32.66.100.51.198.rpz-ip"),
              "RPZ-IP block on the recursive answer's address")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % met_port, timeout=10) as r:
            met = r.read().decode()
        hits0 = int(re.search(r"^crosswatch_dns_cache_hits_total (\d+)", met, re.M).group(1))

        print("[the tree stops: cache, then SERVFAIL]")
        for p in nsds:
            cwtest.kill9(p)
        a = q("www.example")
        ck.eq((a.status, a.a), ("NOERROR", ["192.0.2.10"]), "cached answer with NSD stopped")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % met_port, timeout=10) as r:
            met = r.read().decode()
        hits1 = int(re.search(r"^crosswatch_dns_cache_hits_total (\d+)", met, re.M).group(1))
        ck.eq(hits1, hits0 + 1, "that answer was a cache hit")
        t0 = time.monotonic()
        a = q("other.example")
        dt = time.monotonic() - t0
        ck.eq(a.status, "SERVFAIL", "a new name with the tree gone is SERVFAIL")
        ck.check(dt < 6, "within the recursive timeout (3 s) plus slack", "%.1f s" % dt)
        dns.send_signal(signal.SIGTERM)
        dns.wait(30)
        ck.eq(dns.returncode, 0, "stops cleanly")


if __name__ == "__main__":
    main()
