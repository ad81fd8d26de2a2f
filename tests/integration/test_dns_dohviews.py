#!/usr/bin/env python3
"""test_dns_dohviews - views picked by TLS client certificates on the DoH listener
(--view-tls-cert, the same pins as DoT), and their precedence with DoH tokens.

NSD on loopback serves example.test; crosswatch dns forwards to it with DoH and DoT
on a server certificate made by openssl here. Client certificate A is pinned (SHA-256
of its DER, computed here by Python from the DER openssl writes) to view member-a, B
is pinned nowhere. View member-b covers the client's address (127.0.0.1/32), view
member-c has a DoH token. Each view has its own list (EDE 17 Filtered):
  - kdig +https (HTTP/2) with certificate A: member-a's list, although the address
    is member-b's; with certificate B and without one: member-b (the address view);
  - a token plus certificate A: the token's view (member-c) wins; an unknown token
    with certificate A is still refused (403);
  - one HTTP/2 connection (curl, two URLs) with certificate A: both requests in
    member-a; one HTTP/1.1 keep-alive connection (Python ssl + http.client) with
    certificate A: three requests, all in member-a; without a certificate: member-b;
  - DoT with certificate A: member-a (one set of pins for both listeners);
  - a --view-tls-cert pin that is not 64 hex digits is refused at start.
"""
import base64
import hashlib
import http.client
import os
import re
import shutil
import signal
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

ZONE = """$ORIGIN example.test.
$TTL 300
@ SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
www A 192.0.2.10
ablock A 192.0.2.11
bblock A 192.0.2.12
cblock A 192.0.2.13
"""


def view_rpz(name, blocked):
    return ("$ORIGIN %s.rpz.\n$TTL 60\n@ SOA localhost. root.localhost. 1 3600 600 86400 60\n"
            "@ NS localhost.\n%s CNAME .\n" % (name, blocked))


def wire_query(qid, name):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    return q + b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)


def b64(m):
    return base64.urlsafe_b64encode(m).rstrip(b"=").decode()


def main():
    args = cwtest.parse_args()
    kdig, openssl, curl = shutil.which("kdig"), shutil.which("openssl"), shutil.which("curl")
    nsd = cwtest.nsd_binary()
    if not kdig or not nsd or not openssl or not curl:
        print("test_dns_dohviews: needs kdig, nsd, curl and openssl")
        sys.exit(1)
    with cwtest.TestEnv("test_dns_dohviews", keep=args.keep) as env:
        ck = env.c

        def write(name, text):
            with open(env.path(name), "w") as f:
                f.write(text)
            return env.path(name)

        def mkcert(name, cn):
            cert, key = env.path(name + ".pem"), env.path(name + ".key")
            r, fp = cwtest.self_signed_cert(openssl, cert, key, cn)
            ck.require(fp is not None, "certificate %s made" % name,
                       r.stderr.decode(errors="replace"))
            return cert, key, fp

        scert, skey, _ = mkcert("server", "dns.test")
        acert, akey, afp = mkcert("client-a", "member-a")
        bcert, bkey, bfp = mkcert("client-b", "stranger")
        ck.check(afp != bfp, "two different client certificates")

        write("example.test.zone", ZONE)
        nsd_port = cwtest.free_port()
        write("nsd.conf", cwtest.nsd_conf(nsd_port, env.dir, "example.test"))
        nsd_p = cwtest.spawn([nsd, "-d", "-c", env.path("nsd.conf")], env.path("nsd.out"))
        ck.require(cwtest.wait_noerror(kdig, nsd_port, "www.example.test", nsd_p), "nsd starts",
                   cwtest.tail(env.path("nsd.log")))

        token = "tok-" + os.urandom(8).hex()
        token_hash = hashlib.blake2b(token.encode(), digest_size=32).hexdigest()
        rpz = {v: write(v + ".rpz", view_rpz("member-" + v, v + "block.example.test"))
               for v in ("a", "b", "c")}
        port, dot_port, doh_port = (cwtest.free_port() for _ in range(3))
        base = [args.binary, "dns", "--listen", "127.0.0.1:%d" % port,
                "--forward", "127.0.0.1:%d" % nsd_port,
                "--tls-listen", "127.0.0.1:%d" % dot_port,
                "--doh-listen", "127.0.0.1:%d" % doh_port, "--tls-cert", scert, "--tls-key", skey,
                "--view", "member-a=203.0.113.0/24", "--view", "member-b=127.0.0.1/32",
                "--view", "member-c=198.51.100.0/24",
                "--view-doh-token", "member-c=" + token_hash]
        for v in ("a", "b", "c"):
            base += ["--view-rpz", "member-%s=%s" % (v, rpz[v])]
        r = cwtest.run(base + ["--view-tls-cert", "member-a=" + afp[:60]], timeout=30)
        ck.check(r.returncode != 0 and b"--view-tls-cert" in r.stderr,
                 "a pin that is not 64 hex digits is refused", r.stderr.decode(errors="replace"))
        log = env.path("dns.log")
        dns = cwtest.spawn(base + ["--view-tls-cert", "member-a=" + afp, "--verbose"],
                           log, env=cwtest.env_for_children())
        deadline = time.monotonic() + 30
        while b"status:" not in cwtest.run([kdig, "@127.0.0.1", "-p", str(port), "www.example.test",
                                            "+tcp", "+retry=0", "+timeout=2"], timeout=10).stdout:
            ck.require(dns.poll() is None and time.monotonic() < deadline,
                       "crosswatch dns starts", cwtest.tail(log))
            time.sleep(0.2)

        def kq(qport, name, *extra):
            r = cwtest.run([kdig, "@127.0.0.1", "-p", str(qport), name, "A", "+edns",
                            "+retry=0", "+timeout=5"] + list(extra), timeout=30)
            t = (r.stdout + r.stderr).decode("utf-8", "replace")
            st = re.search(r"opcode: \w+; status: (\w+)", t)
            ede = re.search(r"EDE: (\d+) \([^)]*\)(?:: '([^']*)')?", t)
            return (st.group(1) if st else None, int(ede.group(1)) if ede else None,
                    ede.group(2) if ede else None), t

        https, tok = "+https", "+https=/dns-query/" + token
        cert_a = ["+tls-certfile=" + acert, "+tls-keyfile=" + akey]
        cert_b = ["+tls-certfile=" + bcert, "+tls-keyfile=" + bkey]

        # ------------------------------------------------------- kdig over HTTP/2
        a, t = kq(doh_port, "ablock.example.test", https, *cert_a)
        ck.check("HTTP/2" in t, "kdig +https: an HTTP/2 session", t[:300])
        ck.eq(a, ("NXDOMAIN", 17, "member-a.rpz ablock.example.test"),
              "DoH with certificate A: member-a's own list applies (EDE 17)")
        a, _ = kq(doh_port, "bblock.example.test", https, *cert_a)
        ck.eq(a[0], "NOERROR", "DoH with certificate A: the address view's list does not")
        for what, extra in (("an unknown certificate", cert_b), ("no certificate", [])):
            a, _ = kq(doh_port, "bblock.example.test", https, *extra)
            ck.eq(a, ("NXDOMAIN", 17, "member-b.rpz bblock.example.test"),
                  "DoH with %s: the address view (member-b)" % what)
            a, _ = kq(doh_port, "ablock.example.test", https, *extra)
            ck.eq(a[0], "NOERROR", "DoH with %s: member-a's list does not apply" % what)

        # a token and certificate A: the token (the most specific credential) wins
        a, _ = kq(doh_port, "cblock.example.test", tok, *cert_a)
        ck.eq(a, ("NXDOMAIN", 17, "member-c.rpz cblock.example.test"),
              "DoH token + certificate A: the token's view (member-c)")
        a, _ = kq(doh_port, "ablock.example.test", tok, *cert_a)
        ck.eq(a[0], "NOERROR", "DoH token + certificate A: member-a's list does not apply")
        a, t = kq(doh_port, "ablock.example.test", "+https=/dns-query/not-" + token, *cert_a)
        ck.check("403" in t and a[0] is None, "an unknown token with certificate A: still 403",
                 t[-300:])

        # DoT with the same pin: one set of pins for both TLS listeners
        a, _ = kq(dot_port, "ablock.example.test", "+tls", *cert_a)
        ck.eq(a, ("NXDOMAIN", 17, "member-a.rpz ablock.example.test"),
              "DoT with certificate A: member-a (the same --view-tls-cert pin)")

        # ------------------------------- two requests on one HTTP/2 connection (curl)
        out1, out2 = env.path("h2-1.bin"), env.path("h2-2.bin")
        url = "https://127.0.0.1:%d/dns-query?dns=%s"
        r = cwtest.run([curl, "-sS", "--http2", "-k", "--cert", acert, "--key", akey,
                        "-w", "%{http_version} %{num_connects} %{http_code}\\n",
                        "-o", out1, url % (doh_port, b64(wire_query(0, "ablock.example.test"))),
                        "-o", out2, url % (doh_port, b64(wire_query(0, "bblock.example.test")))],
                       timeout=60)
        lines = r.stdout.decode(errors="replace").split()
        ck.eq(lines, ["2", "1", "200", "2", "0", "200"],
              "curl: two HTTP/2 requests, the second on the first one's connection")
        rc = []
        for p in (out1, out2):
            with open(p, "rb") as f:
                m = f.read()
            rc.append(m[3] & 0x0f if len(m) >= 12 else None)
        ck.eq(rc, [3, 0], "one HTTP/2 connection with certificate A: NXDOMAIN for member-a's "
              "block, NOERROR for member-b's (both requests in member-a)")

        # ------------------------- HTTP/1.1 keep-alive (relayed to libmicrohttpd)
        def h1(names, cert):
            ctx = ssl.create_default_context(cafile=scert)
            ctx.check_hostname = False
            ctx.set_alpn_protocols(["http/1.1"])
            if cert:
                ctx.load_cert_chain(*cert)
            c = http.client.HTTPSConnection("127.0.0.1", doh_port, context=ctx, timeout=10)
            got, socks = [], set()
            for name in names:
                c.request("POST", "/dns-query", body=wire_query(7, name),
                          headers={"Content-Type": "application/dns-message",
                                   "Accept": "application/dns-message"})
                resp = c.getresponse()
                body = resp.read()
                socks.add(id(c.sock))
                got.append((resp.status, body[3] & 0x0f if len(body) >= 12 else None))
            c.close()
            return got, len(socks)

        got, nsock = h1(["ablock.example.test", "bblock.example.test", "ablock.example.test"],
                        (acert, akey))
        ck.eq((got, nsock), ([(200, 3), (200, 0), (200, 3)], 1),
              "HTTP/1.1, one keep-alive connection with certificate A: every request in member-a")
        got, nsock = h1(["bblock.example.test", "ablock.example.test"], None)
        ck.eq((got, nsock), ([(200, 3), (200, 0)], 1),
              "HTTP/1.1 without a certificate: the address view (member-b)")

        dns.send_signal(signal.SIGTERM)
        dns.wait(30)
        ck.eq(dns.returncode, 0, "stops cleanly")
        nsd_p.send_signal(signal.SIGTERM)
        nsd_p.wait(30)


if __name__ == "__main__":
    main()
