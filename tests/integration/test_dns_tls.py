#!/usr/bin/env python3
"""test_dns_tls - `crosswatch dns` over TLS and HTTPS, response rate limiting and
telemetry privacy, against a real NSD on 127.0.0.1 and a real center.

Resolver "A" (member-a's sensor) listens on UDP/TCP, DNS over TLS and DNS over
HTTPS with a self-signed certificate made by the openssl command here, and
truncates client addresses in its records:
  - DoT with `kdig +tls-ca +tls-hostname` (verified) and `+tls`: allowed and
    blocked names (EDE 15 with the list and rule), several queries on one
    connection; a TCP client that never finishes its handshake is closed;
    garbage instead of a ClientHello is refused; metrics count both;
  - DoH GET (?dns=base64url) and POST (application/dns-message) with Python's
    http.client over TLS (certificate verified): the answer bytes, the content
    type, Cache-Control max-age = the answer's smallest TTL; `kdig +https` when
    kdig can speak to it (it needs HTTP/2, see docs/dns.md);
  - DoH hostile requests: bad base64url, a missing dns parameter, a wrong content
    type, an oversized body, a response instead of a query, a wrong path/method;
  - DoH tokens: /dns-query/<token> puts the client in the token's view.
Resolver "B" (member-b's sensor) listens on UDP only, with response rate limiting
(--rrl-rate 5, --rrl-slip 2), --sample 3 and --redact-clients hash:
  - a burst of 40 UDP queries from 127.0.0.1 gets some answers dropped and some
    slipped (TC=1, empty) - exactly as many as the metrics count - while a client
    in another /24 (127.0.1.1) is still answered;
  - of 9 unblocked queries exactly 3 become records, every blocked one does;
  - the client address in B's records is the keyed BLAKE2b pseudonym computed
    here from the same secret, and A's are truncated to /24.
No wall-clock assertions: waits poll with generous deadlines.
"""
import base64
import collections
import hashlib
import http.client
import ipaddress
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402
from test_dns import ZONE, RPZ1, Answer  # noqa: E402


def wire_query(qid, name, qtype=1, edns=True):
    qn = b"".join(bytes([len(x)]) + x.encode() for x in name.rstrip(".").split(".")) + b"\x00"
    m = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0) + qn + struct.pack(">HH", qtype, 1)
    if edns:
        m += b"\x00" + struct.pack(">HHIH", 41, 1232, 0, 0)
    return m


def parse_answer(m):
    """(id, flags, rcode, [(type, ttl, rdata bytes)] of the answer section)."""
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", m[:12])
    off = 12

    def skip_name(o):
        while True:
            ln = m[o]
            if ln == 0:
                return o + 1
            if ln & 0xC0 == 0xC0:
                return o + 2
            o += 1 + ln
    for _ in range(qd):
        off = skip_name(off) + 4
    rrs = []
    for _ in range(an):
        off = skip_name(off)
        t, _c, ttl, rdl = struct.unpack(">HHIH", m[off:off + 10])
        rrs.append((t, ttl, m[off + 10:off + 10 + rdl]))
        off += 10 + rdl
    return qid, flags, flags & 0x0F, rrs


def main():
    args = cwtest.parse_args()
    kdig = shutil.which("kdig")
    nsd = cwtest.nsd_binary()
    openssl = shutil.which("openssl")
    if not kdig or not nsd or not openssl:
        print("test_dns_tls: needs kdig, nsd and openssl: apt-get install knot-dnsutils nsd openssl")
        sys.exit(1)
    with cwtest.TestEnv("test_dns_tls", keep=args.keep) as env:
        ck = env.c
        d = env.dir
        nsd_port, a_port, dot_port, doh_port, b_port, met_a, met_b = (cwtest.free_udp_tcp_port() for _ in range(7))
        with open(env.path("example.test.zone"), "w") as f:
            f.write(ZONE)
        with open(env.path("nsd.conf"), "w") as f:
            f.write(cwtest.nsd_conf(nsd_port, d, "example.test"))
        rpz1 = env.path("rpz1.zone")
        with open(rpz1, "w") as f:
            f.write(RPZ1)
        cert, key = env.path("cert.pem"), env.path("key.pem")
        r, _ = cwtest.self_signed_cert(openssl, cert, key, "dns.test", "DNS:dns.test,IP:127.0.0.1")
        ck.require(r.returncode == 0, "self-signed certificate made", r.stderr.decode(errors="replace"))
        nsd_proc = cwtest.spawn([nsd, "-d", "-c", env.path("nsd.conf")], env.path("nsd.out.log"))
        if not cwtest.wait_noerror(kdig, nsd_port, "www.example.test", nsd_proc):
            raise AssertionError("nsd did not start:\n" + cwtest.tail(env.path("nsd.log")))

        c = env.center(args.binary)
        mem_a, mem_b = c.add_member("member-a"), c.add_member("member-b")
        keys = {}
        for m in ("member-a", "member-b"):
            keys[m] = env.path(m + ".key")
            with open(keys[m], "w") as f:
                f.write(c.add_sensor(m, "pdns")["key"] + "\n")
        secret = env.path("redact.secret")
        with open(secret, "wb") as f:
            f.write(b"0123456789abcdef0123456789abcdef")
        token = "tok-" + os.urandom(8).hex()
        token_hash = hashlib.blake2b(token.encode(), digest_size=32).hexdigest()

        common = ["--forward", "127.0.0.1:%d" % nsd_port, "--rpz", rpz1, "--center", c.url,
                  "--flush-interval", "200ms", "--upstream-timeout", "500ms", "--verbose"]
        a_log = env.path("dns-a.log")
        a_argv = [args.binary, "dns", "--listen", "127.0.0.1:%d" % a_port,
                  "--tls-listen", "127.0.0.1:%d" % dot_port, "--tls-cert", cert, "--tls-key", key,
                  "--tls-handshake-timeout", "1s",
                  "--doh-listen", "127.0.0.1:%d" % doh_port,
                  "--view", "member-x=192.0.2.0/24", "--view-doh-token", "member-x=" + token_hash,
                  "--redact-clients", "truncate", "--metrics", "127.0.0.1:%d" % met_a,
                  "--key-file", keys["member-a"], "--state-dir", env.path("state-a")] + common
        dns_a = cwtest.spawn(a_argv, a_log, env=cwtest.env_for_children())
        b_log = env.path("dns-b.log")
        b_argv = [args.binary, "dns", "--listen", "127.0.0.1:%d" % b_port,
                  "--rrl-rate", "5", "--rrl-slip", "2", "--sample", "3",
                  "--redact-clients", "hash", "--redact-key-file", secret,
                  "--metrics", "127.0.0.1:%d" % met_b,
                  "--key-file", keys["member-b"], "--state-dir", env.path("state-b")] + common
        dns_b = cwtest.spawn(b_argv,
                             b_log, env=cwtest.env_for_children())
        expected_a = []  # (qname, qtype, rcode, policy, view)

        def wait_up(port, proc, log):
            deadline = time.monotonic() + 60
            while True:
                r = cwtest.run([kdig, "@127.0.0.1", "-p", str(port), "ns.example.test", "+tcp",
                                "+retry=0", "+timeout=1"], timeout=10)
                if b"status: NOERROR" in r.stdout:
                    return
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("crosswatch dns did not start:\n" + cwtest.tail(log))
                time.sleep(0.2)
        wait_up(a_port, dns_a, a_log)
        expected_a.append(("ns.example.test.", "A", "NOERROR", None, "default"))

        def kq(port, name, qtype="A", *extra):
            argv = [kdig, "@127.0.0.1", "-p", str(port), name, qtype, "+edns", "+retry=0",
                    "+timeout=3"] + list(extra)
            r = cwtest.run(argv, timeout=30)
            return Answer(r.stdout.decode("utf-8", "replace"))

        # ---------------------------------------------------------------- DNS over TLS
        verified = ["+tls-ca=" + cert, "+tls-hostname=dns.test"]
        a = kq(dot_port, "www.example.test", "A", *verified)
        ck.eq((a.status, a.rdata("A")), ("NOERROR", ["192.0.2.10"]), "DoT (verified): allowed name")
        ck.check("TLS session" in a.text, "DoT: kdig reports the TLS session", a.text[:300])
        expected_a.append(("www.example.test.", "A", "NOERROR", None, "default"))
        a = kq(dot_port, "bad.example.test", "A", *verified)
        ck.eq((a.status, a.ede, a.ede_text), ("NXDOMAIN", 15, "rpz-one.test bad.example.test"),
              "DoT: blocked name with EDE 15 and the list and rule")
        expected_a.append(("bad.example.test.", "A", "NXDOMAIN", "nxdomain", "default"))
        a = kq(dot_port, "www.example.test", "AAAA", "+tls")
        ck.eq(a.rdata("AAAA"), ["2001:db8::10"], "DoT (+tls, opportunistic): AAAA")
        expected_a.append(("www.example.test.", "AAAA", "NOERROR", None, "default"))
        a = kq(dot_port, "big.example.test", "TXT", "+tls")
        ck.eq(len(a.rdata("TXT")), 40, "DoT: a 4 KB answer whole (no truncation over TLS)")
        expected_a.append(("big.example.test.", "TXT", "NOERROR", None, "default"))
        # pipelined queries on one TLS connection, answered by id
        ctx = ssl.create_default_context(cafile=cert)
        raw = socket.create_connection(("127.0.0.1", dot_port), timeout=10)
        t = ctx.wrap_socket(raw, server_hostname="dns.test")
        names = [("www.example.test", 1, 0, None), ("bad.example.test", 1, 3, "nxdomain"),
                 ("www.example.test", 28, 0, None), ("redirect.example.test", 1, 0, "local-data"),
                 ("nosuch.example.test", 1, 3, None)] * 2
        t.sendall(b"".join(struct.pack(">H", len(m)) + m for m in
                           (wire_query(0x200 + i, n[0], n[1]) for i, n in enumerate(names))))
        buf, got = b"", {}
        while len(got) < len(names):
            chunk = t.recv(65535)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                n = struct.unpack(">H", buf[:2])[0]
                m, buf = buf[2:2 + n], buf[2 + n:]
                got[struct.unpack(">H", m[:2])[0]] = m[3] & 0x0F
        t.close()
        ck.eq(got, {0x200 + i: n[2] for i, n in enumerate(names)},
              "DoT: 10 pipelined queries on one connection, every one answered")
        for n in names:
            expected_a.append((n[0] + ".", {1: "A", 28: "AAAA"}[n[1]],
                               {0: "NOERROR", 3: "NXDOMAIN"}[n[2]], n[3], "default"))
        # a client that connects and never sends a ClientHello is closed by the server
        idle = socket.create_connection(("127.0.0.1", dot_port), timeout=30)
        try:
            closed = idle.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            closed = False
        idle.close()
        ck.check(closed, "DoT: a silent client is closed after --tls-handshake-timeout")
        junk = socket.create_connection(("127.0.0.1", dot_port), timeout=30)
        junk.sendall(b"\x00\x1c" + wire_query(0x77, "www.example.test")[:28])  # plain DNS, no TLS
        try:
            rest = junk.recv(65535)
            refused = not rest or rest[:1] == b"\x15"  # closed, or a TLS alert record
        except ConnectionResetError:
            refused = True
        junk.close()
        ck.check(refused, "DoT: plain DNS on the TLS port gets no DNS answer")
        a = kq(dot_port, "www.example.test", "A", *verified)
        ck.eq(a.rdata("A"), ["192.0.2.10"], "DoT: answered after the hostile connections")
        expected_a.append(("www.example.test.", "A", "NOERROR", None, "default"))
        mt = cwtest.http_request(met_a, "GET", "/metrics").text()
        ck.check(re.search(r'crosswatch_dns_tls_handshakes_total\{result="timeout"\} 1\b', mt),
                 "metrics: the handshake timeout counted")
        ck.check(re.search(r'crosswatch_dns_tls_handshakes_total\{result="failed"\} 1\b', mt),
                 "metrics: the failed handshake counted")
        ck.check(re.search(r'crosswatch_dns_queries_total\{transport="tls"\} 15\b', mt),
                 "metrics: 15 queries over TLS", re.findall(r".*transport.*", mt))

        def finish():
            for p in (dns_a, dns_b):
                p.send_signal(15)
            for p, n in ((dns_a, "A"), (dns_b, "B")):
                try:
                    rc = p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    rc = None
                ck.eq(rc, 0, "resolver %s: clean exit on SIGTERM" % n)
            ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")

        # ---------------------------------------------------------------- DNS over HTTPS
        tctx = ssl.create_default_context(cafile=cert)  # verifies the name 127.0.0.1 too

        def doh(method, path, body=None, headers=None):
            h = http.client.HTTPSConnection("127.0.0.1", doh_port, context=tctx, timeout=30)
            h.request(method, path, body=body, headers=headers or {})
            r = h.getresponse()
            out = (r.status, r.getheader("Content-Type"), r.getheader("Cache-Control"), r.read())
            h.close()
            return out

        def b64(m):
            return base64.urlsafe_b64encode(m).decode().rstrip("=")

        st, ct, cc, body = doh("GET", "/dns-query?dns=" + b64(wire_query(0, "www.example.test")))
        ck.eq((st, ct), (200, "application/dns-message"), "DoH GET: 200 application/dns-message")
        qid, flags, rcode, rrs = parse_answer(body)
        ck.eq((qid, rcode, [(t, rd) for t, _, rd in rrs]), (0, 0, [(1, bytes([192, 0, 2, 10]))]),
              "DoH GET: the answer (id 0 as sent)")
        ck.eq(cc, "max-age=%d" % min(ttl for _, ttl, _ in rrs), "DoH GET: max-age = the answer's TTL")
        expected_a.append(("www.example.test.", "A", "NOERROR", None, "default"))
        st, ct, cc, body = doh("POST", "/dns-query", wire_query(0x4242, "bad.example.test"),
                               {"Content-Type": "application/dns-message"})
        qid, flags, rcode, rrs = parse_answer(body)
        ck.eq((st, qid, rcode, rrs, cc), (200, 0x4242, 3, [], "max-age=0"),
              "DoH POST: blocked name NXDOMAIN, nothing to cache")
        ck.check(b"rpz-one.test bad.example.test" in body, "DoH POST: EDE text in the answer")
        expected_a.append(("bad.example.test.", "A", "NXDOMAIN", "nxdomain", "default"))
        st, ct, cc, body = doh("POST", "/dns-query", wire_query(7, "redirect.example.test", edns=False),
                               {"Content-Type": "application/dns-message"})
        qid, flags, rcode, rrs = parse_answer(body)
        ck.eq((st, rcode, rrs, cc), (200, 0, [(1, 60, bytes([192, 0, 2, 250]))], "max-age=60"),
              "DoH POST: local data, max-age from its TTL")
        expected_a.append(("redirect.example.test.", "A", "NOERROR", "local-data", "default"))
        # hostile requests
        resp = wire_query(9, "www.example.test")
        resp = resp[:2] + bytes([resp[2] | 0x80]) + resp[3:]
        odd = b64(wire_query(1, "www.example.test"))
        while len(odd) % 4 != 1:
            odd += "A"
        hostile = [
            ("bad base64url", "GET", "/dns-query?dns=!!!!", None, None, 400),
            ("base64url of an impossible length", "GET", "/dns-query?dns=" + odd, None, None, 400),
            ("base64url with padding inside", "GET", "/dns-query?dns=" + b64(wire_query(1, "www.example.test"))[:8]
             + "==" + b64(wire_query(1, "www.example.test"))[8:], None, None, 400),
            ("missing dns parameter", "GET", "/dns-query", None, None, 400),
            ("other parameter only", "GET", "/dns-query?name=www.example.test", None, None, 400),
            ("shorter than a header", "GET", "/dns-query?dns=AAAA", None, None, 400),
            ("a response, not a query", "GET", "/dns-query?dns=" + b64(resp), None, None, 400),
            ("wrong content type", "POST", "/dns-query", wire_query(1, "www.example.test"),
             {"Content-Type": "text/plain"}, 415),
            ("no content type", "POST", "/dns-query", wire_query(1, "www.example.test"), {}, 415),
            ("oversized body", "POST", "/dns-query", b"\0" * 70000,
             {"Content-Type": "application/dns-message"}, 413),
            ("empty body", "POST", "/dns-query", b"", {"Content-Type": "application/dns-message"}, 400),
            ("wrong method", "PUT", "/dns-query", b"x", {"Content-Type": "application/dns-message"}, 405),
            ("wrong path", "GET", "/resolve?dns=" + b64(wire_query(1, "www.example.test")), None, None, 404),
            ("unknown token", "GET", "/dns-query/not-a-token?dns=" + b64(wire_query(1, "www.example.test")),
             None, None, 403),
        ]
        for what, method, path, body, headers, want in hostile:
            st = doh(method, path, body, headers)[0]
            ck.eq(st, want, "DoH hostile: " + what)
        st, ct, cc, body = doh("GET", "/dns-query/%s?dns=%s" % (token, b64(wire_query(0, "allowed.example.test"))))
        ck.eq((st, parse_answer(body)[2]), (200, 3), "DoH with a token: answered (view member-x)")
        expected_a.append(("allowed.example.test.", "A", "NXDOMAIN", "nxdomain", "member-x"))
        # kdig speaks DoH over HTTP/2 only (ALPN h2, dnsd_doh2.c; test_dns_doh2 tests it)
        r = cwtest.run([kdig, "@127.0.0.1", "-p", str(doh_port), "+https", "www.example.test",
                        "+retry=0", "+timeout=3"], timeout=30)
        ck.check(b"status: NOERROR" in r.stdout and b"HTTP/2" in r.stdout, "kdig +https answered over HTTP/2",
                 (r.stdout + r.stderr).decode(errors="replace")[-300:])
        expected_a.append(("www.example.test.", "A", "NOERROR", None, "default"))
        a = kq(a_port, "www.example.test", "A")
        ck.eq(a.rdata("A"), ["192.0.2.10"], "UDP still answered after the DoH requests")
        expected_a.append(("www.example.test.", "A", "NOERROR", None, "default"))
        mt = cwtest.http_request(met_a, "GET", "/metrics").text()
        ck.check(re.search(r'crosswatch_dns_queries_total\{transport="https"\} 5\b', mt),
                 "metrics: 5 queries over HTTPS", re.findall(r".*transport.*", mt))

        # ---------------------------------------------------------------- rate limiting (B)
        wait_up(b_port, dns_b, b_log)
        unblocked_b, blocked_b = 1, 0   # the start probe (TCP)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        u.settimeout(1.5)
        burst = 40
        for i in range(burst):
            u.sendto(wire_query(0x1000 + i, "www.example.test"), ("127.0.0.1", b_port))
        ok = tc = 0
        while True:
            try:
                m = u.recv(65535)
            except socket.timeout:
                break
            _, flags, rcode, rrs = parse_answer(m)
            if flags & 0x0200:
                ck.check(rrs == [], "a slipped answer is empty", repr(rrs))
                tc += 1
            else:
                ok += 1
        u.close()
        dropped = burst - ok - tc
        unblocked_b += ok
        ck.check(ok >= 5 and dropped >= 1 and tc >= 1,
                 "RRL: a burst of %d from one client: %d answered, %d slipped, %d dropped"
                 % (burst, ok, tc, dropped))
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.1.1", 0))
        other.settimeout(5)
        other.sendto(wire_query(0x2000, "www.example.test"), ("127.0.0.1", b_port))
        m = other.recv(65535)
        other.close()
        ck.eq(parse_answer(m)[1:3], (0x8180 | (parse_answer(m)[1] & 0x0400), 0),
              "RRL: a client in another /24 is still answered in full")
        unblocked_b += 1
        mt = cwtest.http_request(met_b, "GET", "/metrics").text()
        ck.check('crosswatch_dns_rrl_total{action="drop"} %d\n' % dropped in mt and
                 'crosswatch_dns_rrl_total{action="slip"} %d\n' % tc in mt,
                 "RRL: metrics count exactly the dropped and slipped answers",
                 re.findall(r".*rrl.*", mt))
        # sampling: TCP is never rate limited
        for i in range(9):
            a = kq(b_port, "www.example.test", "A", "+tcp")
            ck.require(a.rdata("A") == ["192.0.2.10"], "B over TCP answered", repr(a))
        unblocked_b += 9
        for i in range(3):
            a = kq(b_port, "bad.example.test", "A", "+tcp")
            ck.require(a.status == "NXDOMAIN", "B blocks", repr(a))
        blocked_b += 3

        # ---------------------------------------------------------------- records at the center
        def records(member):
            return [x for x in c.export_records(member=member["id"]) if x.get("kind") == "dns"]

        want_b = (unblocked_b + 2) // 3 + blocked_b
        deadline = time.monotonic() + 120
        while True:
            got_a, got_b = records(mem_a), records(mem_b)
            if (len(got_a) >= len(expected_a) and len(got_b) >= want_b) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        time.sleep(1.0)  # anything extra would show up now
        got_a, got_b = records(mem_a), records(mem_b)
        key = lambda x: (x.get("dns.qname"), x.get("dns.qtype"), x.get("dns.rcode"),
                         x.get("dns.policy"), x.get("dns.view"))
        gotc, wantc = collections.Counter(key(x) for x in got_a), collections.Counter(expected_a)
        ck.check(gotc == wantc, "A: records are exactly the %d queries made over UDP, TCP, TLS and HTTPS"
                 % len(expected_a), "(missing %r, unexpected %r)" % (dict(wantc - gotc), dict(gotc - wantc)))
        ck.eq(sorted(set(x.get("src_ip") for x in got_a)), ["127.0.0.0"],
              "A: --redact-clients truncate: client addresses cut to /24")
        ck.check(all(not x.get("src_port") for x in got_a), "A: no client ports in redacted records")
        ck.eq(len(got_b), want_b, "B: --sample 3: 1 in 3 of %d unblocked answers + all %d blocked"
              % (unblocked_b, blocked_b))
        ck.eq(sum(1 for x in got_b if x.get("dns.policy") == "nxdomain"), blocked_b,
              "B: every blocked answer is a record")
        with open(secret, "rb") as f:
            sk = f.read()

        def pseudonym(ip):
            packed = socket.inet_aton(ip)
            h = hashlib.blake2b(bytes([4]) + packed, digest_size=16, key=sk).digest()
            return str(ipaddress.IPv6Address(b"\xfd" + h[:15]))
        srcs = set(str(ipaddress.ip_address(x.get("src_ip"))) for x in got_b)
        ck.check(srcs <= {pseudonym("127.0.0.1"), pseudonym("127.0.1.1")} and
                 pseudonym("127.0.0.1") in srcs,
                 "B: --redact-clients hash: keyed BLAKE2b pseudonyms, no address", repr(srcs))
        mt = cwtest.http_request(met_b, "GET", "/metrics").text()
        ck.check("crosswatch_dns_telemetry_sampled_out_total %d\n" % (unblocked_b - (unblocked_b + 2) // 3) in mt,
                 "B: metrics count the answers sampled out", re.findall(r".*sampled.*", mt))
        finish()

if __name__ == "__main__":
    main()
