#!/usr/bin/env python3
"""test_dns_batch - `crosswatch dns` answers bursts of UDP queries as it answers them one by one.

The resolver drains a UDP socket with recvmmsg (up to 32 datagrams per call) and sends
the answers made for a batch with one sendmmsg; a cached answer remembers, under the
policy's generation, that the policy had no rule for its name, so later hits skip the
policy walk. This test, against NSD on loopback:
  - oracle: every query of a mixed set (cached A/AAAA, upstream NXDOMAIN, QNAME exact
    and wildcard blocks, a CLIENT-IP block, with and without EDNS, a truncated large
    answer, FORMERR from a header-only query, a runt that gets no answer) is sent alone,
    twice, and its answer kept (id and TTLs masked);
  - burst: 12 sockets on two client addresses each send 60 queries drawn from that set
    without reading, so that the server's socket holds 720 datagrams (full batches,
    several rounds); every socket must get exactly one answer per query it sent (the
    runt: none), each equal to the oracle's for the same query and client address;
  - the remembered "no rule" follows the policy: a cached name blocked by a reload is
    NXDOMAIN after SIGHUP, answered again after the rule is removed; and a CLIENT-IP
    rule in force makes the same cached name NXDOMAIN for that client only, also in a
    burst (the verdict then depends on the client, so nothing is remembered).
No wall-clock assertions: waits poll with generous deadlines.
"""
import os
import random
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

ZONE = """$TTL 300
@        IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
@        IN NS  ns
ns       IN A   127.0.0.1
""" + "".join("w%d IN A 192.0.2.%d\nw%d IN AAAA 2001:db8::%x\n" % (i, i + 1, i, i + 1)
              for i in range(40))
ZONE += "".join('big IN TXT "%s"\n' % (("%02d" % i) * 50) for i in range(40))

RPZ_HEAD = """$ORIGIN rpz.test.
$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
"""
RPZ = RPZ_HEAD + """bad.example.test CNAME .
*.evil.example.test CNAME .
"""
# CLIENT-IP 127.0.0.3/32: every query of that client is NXDOMAIN
CLIENT_RULE = "32.3.0.0.127.rpz-client-ip CNAME .\n"



def wire_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\x00"


def make_query(qid, name, qtype, edns):
    if name is None:   # special packets: "formerr" = header only with QDCOUNT 1, "runt" = 5 bytes
        return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) if qtype == "formerr" else b"\x12\x34\x01\x00\x00"
    m = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    m += wire_name(name) + struct.pack(">HH", qtype, 1)
    if edns:
        m += b"\x00" + struct.pack(">HHIH", 41, edns, 0, 0)
    return m


def skip_name(p, o):
    while True:
        if o >= len(p):
            raise ValueError("name runs past the end")
        b = p[o]
        if b == 0:
            return o + 1
        if b & 0xC0 == 0xC0:
            return o + 2
        o += 1 + b


def normalise(p):
    """The answer with its id and every RR's TTL zeroed (cached TTLs decay)."""
    if len(p) < 12:
        return p
    b = bytearray(p)
    b[0:2] = b"\x00\x00"
    qd, an, ns, ar = struct.unpack(">HHHH", p[4:12])
    o = 12
    for _ in range(qd):
        o = skip_name(p, o) + 4
    for _ in range(an + ns + ar):
        o = skip_name(p, o)
        rtype = struct.unpack(">H", p[o:o + 2])[0]
        if rtype != 41:   # OPT's TTL field holds flags: kept
            b[o + 4:o + 8] = b"\x00\x00\x00\x00"
        rdlen = struct.unpack(">H", p[o + 8:o + 10])[0]
        o += 10 + rdlen
    if o != len(p):
        raise ValueError("trailing bytes")
    return bytes(b)


def rcode(p):
    return p[3] & 0x0F if len(p) >= 4 else None


def ask(port, pkt, src="127.0.0.1", timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    try:
        s.sendto(pkt, ("127.0.0.1", port))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def burst(port, plan, nsock, per_sock, srcs, seed):
    """plan: list of (key, name, qtype, edns). Each socket sends per_sock queries with
    distinct ids before anyone reads. Returns [(src, {id: key}, {id: [answers]})]."""
    r = random.Random(seed)
    socks = []
    for i in range(nsock):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((srcs[i % len(srcs)], 0))
        socks.append((srcs[i % len(srcs)], s, {}, {}))
    for k in range(per_sock):
        for src, s, sent, _ in socks:
            key, name, qtype, edns = r.choice(plan)
            qid = 1000 + k
            sent[qid] = key
            s.sendto(make_query(qid, name, qtype, edns), ("127.0.0.1", port))
    deadline = time.monotonic() + 20
    for src, s, sent, got in socks:
        want = sum(1 for k in sent.values() if k != "runt")
        n = 0
        s.settimeout(0.3)
        while n < want:
            try:
                a = s.recv(65535)
            except socket.timeout:
                if time.monotonic() > deadline:
                    break
                continue
            qid = struct.unpack(">H", a[:2])[0] if len(a) >= 2 else None
            got.setdefault(qid, []).append(a)
            n += 1
        # anything more (a duplicate, an answer to the runt) arrives within a moment
        s.settimeout(0.5)
        try:
            while True:
                a = s.recv(65535)
                got.setdefault(struct.unpack(">H", a[:2])[0], []).append(a)
        except socket.timeout:
            pass
        s.close()
    return [(src, sent, got) for src, _, sent, got in socks]


def main():
    args = cwtest.parse_args()
    nsd = cwtest.nsd_binary()
    if not nsd:
        print("test_dns_batch: needs nsd: apt-get install nsd")
        sys.exit(1)
    with cwtest.TestEnv("test_dns_batch", keep=args.keep) as env:
        ck = env.c
        nsd_port, dns_port = cwtest.free_udp_tcp_port(), cwtest.free_udp_tcp_port()
        with open(env.path("example.test.zone"), "w") as f:
            f.write(ZONE)
        with open(env.path("nsd.conf"), "w") as f:
            f.write(cwtest.nsd_conf(nsd_port, env.dir, "example.test"))
        rpz = env.path("rpz.zone")

        def write_rpz(text):
            with open(rpz + ".new", "w") as f:
                f.write(text)
            os.rename(rpz + ".new", rpz)

        write_rpz(RPZ)
        nsd_proc = cwtest.spawn([nsd, "-d", "-c", env.path("nsd.conf")], env.path("nsd.out.log"))
        probe = make_query(1, "w0.example.test", 1, 1232)
        deadline = time.monotonic() + 30
        while not ask(nsd_port, probe, timeout=0.5):
            if nsd_proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("nsd did not start:\n" + cwtest.tail(env.path("nsd.log")))
        dns_log = env.path("dns.log")
        dns = cwtest.spawn([args.binary, "dns", "--listen", "127.0.0.1:%d" % dns_port,
                            "--forward", "127.0.0.1:%d" % nsd_port, "--rpz", rpz,
                            "--state-dir", env.path("dns-state"), "--verbose"],
                           dns_log, env=cwtest.env_for_children())
        deadline = time.monotonic() + 60
        while not ask(dns_port, probe, timeout=0.5):
            if dns.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("crosswatch dns did not start:\n" + cwtest.tail(dns_log))

        def reload(text, what):
            with open(dns_log, "rb") as f:
                before = f.read().count(b"policy reloaded")
            write_rpz(text)
            dns.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 60
            while True:
                with open(dns_log, "rb") as f:
                    if f.read().count(b"policy reloaded") > before:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError("no reload (%s):\n%s" % (what, cwtest.tail(dns_log)))
                time.sleep(0.1)

        # -- the query set and its oracle (each query alone, twice: the second from the cache)
        plan = [("w%d/%s/%s" % (i, t, e), "w%d.example.test" % i, t, e)
                for i in range(0, 40, 3) for t in (1, 28) for e in (1232, 0)]
        plan += [("nx%d" % i, "nx%d.example.test" % i, 1, 1232) for i in range(4)]
        plan += [("bad", "bad.example.test", 1, 1232), ("bad/noedns", "bad.example.test", 1, 0),
                 ("evil", "x.evil.example.test", 28, 1232), ("big", "big.example.test", 16, 1232),
                 ("formerr", None, "formerr", 0), ("runt", None, "runt", 0)]
        srcs = ["127.0.0.1", "127.0.0.3"]
        oracle = {}
        for src in srcs:
            for key, name, qtype, edns in plan:
                ask(dns_port, make_query(7, name, qtype, edns), src)
                a = ask(dns_port, make_query(7, name, qtype, edns), src)
                oracle[(src, key)] = normalise(a) if a else None
        ck.eq(rcode(oracle[("127.0.0.1", "w3/1/1232")]), 0, "oracle: a cached name is NOERROR")
        ck.eq(rcode(oracle[("127.0.0.1", "bad")]), 3, "oracle: a blocked name is NXDOMAIN")
        ck.eq(rcode(oracle[("127.0.0.1", "nx1")]), 3, "oracle: an unknown name is NXDOMAIN")
        ck.check(oracle[("127.0.0.1", "big")] and oracle[("127.0.0.1", "big")][2] & 0x02,
                 "oracle: the large answer is truncated (TC)")
        ck.eq(rcode(oracle[("127.0.0.1", "formerr")]), 1, "oracle: header-only query is FORMERR")
        ck.eq(oracle[("127.0.0.1", "runt")], None, "oracle: a 5-byte packet gets no answer")

        def check_burst(what, seed, expect):
            res = burst(dns_port, plan, 12, 60, srcs, seed)
            bad = []
            for src, sent, got in res:
                for qid, key in sent.items():
                    answers = got.pop(qid, [])
                    want = expect(src, key)
                    if want is None:
                        if answers:
                            bad.append("%s %s: answered %d times, expected none" % (src, key, len(answers)))
                        continue
                    if len(answers) != 1:
                        bad.append("%s %s id %d: %d answers" % (src, key, qid, len(answers)))
                    elif normalise(answers[0]) != want:
                        bad.append("%s %s: answer differs from the one sent alone" % (src, key))
                if got:
                    bad.append("%s: answers to ids it never sent: %s" % (src, sorted(got)))
            ck.eq(bad[:5], [], "%s: every socket gets exactly the answers it asked for" % what)

        check_burst("burst", 1, lambda src, key: oracle[(src, key)])

        # -- "no rule" remembered with a cached answer follows the policy
        w6 = make_query(9, "w6.example.test", 1, 1232)
        ck.eq(rcode(ask(dns_port, w6)), 0, "w6 answered (and cached) before the reload")
        reload(RPZ + "w6.example.test CNAME .\n", "block w6")
        ck.eq(rcode(ask(dns_port, w6)), 3, "a cached name blocked by a reload is NXDOMAIN at once")
        reload(RPZ, "unblock w6")
        a = ask(dns_port, w6)
        ck.eq((rcode(a), normalise(a) if a else None), (0, oracle[("127.0.0.1", "w6/1/1232")]),
              "the rule removed: the cached answer again")

        # -- a CLIENT-IP rule: the verdict depends on the client, nothing is remembered
        reload(RPZ + CLIENT_RULE, "client-ip rule")
        ck.eq(rcode(ask(dns_port, w6)), 0, "CLIENT-IP rule: another client still gets w6")
        ck.eq(rcode(ask(dns_port, w6, src="127.0.0.3")), 3,
              "CLIENT-IP rule: 127.0.0.3 gets NXDOMAIN for the cached name")
        ck.eq(rcode(ask(dns_port, w6)), 0, "CLIENT-IP rule: and the other client w6 again")

        res = burst(dns_port, plan, 12, 60, srcs, 2)
        bad = []
        for src, sent, got in res:
            for qid, key in sent.items():
                answers = got.pop(qid, [])
                if key == "runt":
                    if answers:
                        bad.append("%s runt answered" % src)
                    continue
                if len(answers) != 1:
                    bad.append("%s %s: %d answers" % (src, key, len(answers)))
                    continue
                if src == "127.0.0.1" or key == "formerr":
                    if normalise(answers[0]) != oracle[("127.0.0.1", key)]:
                        bad.append("%s %s: answer differs from the one sent alone" % (src, key))
                elif rcode(answers[0]) != 3:
                    bad.append("%s %s: rcode %d, expected NXDOMAIN (CLIENT-IP)" % (src, key, rcode(answers[0])))
        ck.eq(bad[:5], [], "burst with a CLIENT-IP rule: per-client answers")
        ck.check(dns.poll() is None, "crosswatch dns still running")
        dns.send_signal(signal.SIGTERM)
        ck.eq(dns.wait(timeout=60), 0, "SIGTERM: clean exit")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")


if __name__ == "__main__":
    main()
