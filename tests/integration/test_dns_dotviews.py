#!/usr/bin/env python3
"""test_dns_dotviews - views picked by DoT client certificates (--view-dot-cert).

NSD on loopback serves example.test; crosswatch dns forwards to it with DoT on a
server certificate made by openssl here. Two client certificates are made: A is
pinned (SHA-256 of its DER, computed here by Python from the DER openssl writes) to
view member-a, B is pinned nowhere. View member-b covers the client's address
(127.0.0.1/32). Each view has its own list (EDE 17 Filtered when it blocks):
  - kdig +tls with certificate A: member-a's list applies (its block, not member-b's),
    although the address is member-b's;
  - kdig +tls with certificate B (unknown) and without a certificate: the address
    view, member-b;
  - plain UDP from the same address: member-b;
  - one TLS connection (Python ssl, certificate A) carrying two pipelined queries:
    the view decided at the handshake holds for both;
  - a pin that is not 64 hex digits is refused at start with a message.
"""
import os
import re
import shutil
import signal
import socket
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


def main():
    args = cwtest.parse_args()
    kdig, openssl = shutil.which("kdig"), shutil.which("openssl")
    nsd = cwtest.nsd_binary()
    if not kdig or not nsd or not openssl:
        print("test_dns_dotviews: needs kdig, nsd and openssl")
        sys.exit(1)
    with cwtest.TestEnv("test_dns_dotviews", keep=args.keep) as env:
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

        ra = write("a.rpz", view_rpz("member-a", "ablock.example.test"))
        rb = write("b.rpz", view_rpz("member-b", "bblock.example.test"))
        port, dot_port = cwtest.free_port(), cwtest.free_port()
        base = [args.binary, "dns", "--listen", "127.0.0.1:%d" % port,
                "--forward", "127.0.0.1:%d" % nsd_port,
                "--tls-listen", "127.0.0.1:%d" % dot_port, "--tls-cert", scert, "--tls-key", skey,
                "--view", "member-a=203.0.113.0/24", "--view", "member-b=127.0.0.1/32",
                "--view-rpz", "member-a=" + ra, "--view-rpz", "member-b=" + rb]
        r = cwtest.run(base + ["--view-dot-cert", "member-a=" + afp[:60]], timeout=30)
        ck.check(r.returncode != 0 and b"--view-dot-cert" in r.stderr,
                 "a pin that is not 64 hex digits is refused", r.stderr.decode(errors="replace"))
        log = env.path("dns.log")
        dns = cwtest.spawn(base + ["--view-dot-cert", "member-a=" + afp.upper(), "--verbose"],
                           log, env=cwtest.env_for_children())
        deadline = time.monotonic() + 30
        while b"status:" not in cwtest.run([kdig, "@127.0.0.1", "-p", str(port), "www.example.test",
                                            "+tcp", "+retry=0", "+timeout=2"], timeout=10).stdout:
            ck.require(dns.poll() is None and time.monotonic() < deadline,
                       "crosswatch dns starts", cwtest.tail(log))
            time.sleep(0.2)

        def kq(name, *extra):
            r = cwtest.run([kdig, "@127.0.0.1", "-p", str(dot_port), name, "A", "+edns",
                            "+retry=0", "+timeout=5"] + list(extra), timeout=30)
            t = r.stdout.decode("utf-8", "replace")
            st = re.search(r"status: (\w+)", t)
            ede = re.search(r"EDE: (\d+) \([^)]*\)(?:: '([^']*)')?", t)
            return (st.group(1) if st else None, int(ede.group(1)) if ede else None,
                    ede.group(2) if ede else None), t

        with_a = ["+tls", "+tls-certfile=" + acert, "+tls-keyfile=" + akey]
        with_b = ["+tls", "+tls-certfile=" + bcert, "+tls-keyfile=" + bkey]
        a, t = kq("ablock.example.test", *with_a)
        ck.eq(a, ("NXDOMAIN", 17, "member-a.rpz ablock.example.test"),
              "certificate A: member-a's own list applies (EDE 17)")
        ck.check("TLS session" in t, "over DoT", t[:200])
        a, _ = kq("bblock.example.test", *with_a)
        ck.eq(a[0], "NOERROR", "certificate A: member-b's list (the address view) does not")
        a, _ = kq("www.example.test", *with_a)
        ck.eq(a[0], "NOERROR", "certificate A: other names resolve")
        for what, extra in (("an unknown certificate", with_b), ("no certificate", ["+tls"])):
            a, _ = kq("bblock.example.test", *extra)
            ck.eq(a, ("NXDOMAIN", 17, "member-b.rpz bblock.example.test"),
                  "%s: the address view (member-b) applies" % what)
            a, _ = kq("ablock.example.test", *extra)
            ck.eq(a[0], "NOERROR", "%s: member-a's list does not" % what)
        r = cwtest.run([kdig, "@127.0.0.1", "-p", str(port), "bblock.example.test", "+edns",
                        "+retry=0", "+timeout=5"], timeout=30)
        ck.check(b"status: NXDOMAIN" in r.stdout and b"EDE: 17" in r.stdout,
                 "plain UDP from the same address: member-b", r.stdout.decode(errors="replace"))

        # one connection, two pipelined queries: the handshake's view holds for both
        ctx = ssl.create_default_context(cafile=scert)
        ctx.check_hostname = False
        ctx.load_cert_chain(acert, akey)
        with socket.create_connection(("127.0.0.1", dot_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="dns.test") as tls:
                msgs = b""
                for qid, name in ((1, "ablock.example.test"), (2, "www.example.test")):
                    m = wire_query(qid, name)
                    msgs += struct.pack(">H", len(m)) + m
                tls.sendall(msgs)
                got = {}
                buf = b""
                while len(got) < 2:
                    chunk = tls.recv(65535)
                    if not chunk:
                        break
                    buf += chunk
                    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                        n = struct.unpack(">H", buf[:2])[0]
                        m, buf = buf[2:2 + n], buf[2 + n:]
                        got[struct.unpack(">H", m[:2])[0]] = m[3] & 0x0f
        ck.eq(got, {1: 3, 2: 0}, "one connection with certificate A: NXDOMAIN for member-a's "
              "block, NOERROR for a clean name")
        dns.send_signal(signal.SIGTERM)
        dns.wait(30)
        ck.eq(dns.returncode, 0, "stops cleanly")
        nsd_p.send_signal(signal.SIGTERM)
        nsd_p.wait(30)


if __name__ == "__main__":
    main()
