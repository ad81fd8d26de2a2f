#!/usr/bin/env python3
"""test_dnstap - `crosswatch dns --dnstap-file / --dnstap-socket`: the dnstap
(https://dnstap.info) stream of real queries through the resolver, against a real
NSD on 127.0.0.1.

The Frame Streams file is read here (its control frames and content type) and every
dnstap protobuf is decoded by a small wire-format reader written here - not by the
code under test. Checked, for queries sent from sockets of this script (so their
source ports are known):
  - a UDP miss: CLIENT_QUERY (UDP, client address and port, the resolver's address
    and port, the exact query bytes), FORWARDER_QUERY to NSD's address and port,
    FORWARDER_RESPONSE with NSD's answer, CLIENT_RESPONSE whose answer carries the
    client's id and NSD's address; identity = the host name, version;
  - the same name again: a cache hit, no forwarder messages;
  - a TCP query for AAAA: protocol TCP, qtype AAAA;
  - a blocked name: NXDOMAIN in CLIENT_RESPONSE and no forwarder messages;
  - frames counted in crosswatch_dns_dnstap_frames_total{result="queued"} equal
    the frames in the file, none dropped;
  - --dnstap-socket to fstrm_capture (fstrm-bin): the same messages arrive over the
    unix socket; with no reader on the socket, queries are still answered.
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402
from test_dns import ZONE, RPZ1  # noqa: E402
from test_dns_tls import wire_query, parse_answer  # noqa: E402

CLIENT_QUERY, CLIENT_RESPONSE, FORWARDER_QUERY, FORWARDER_RESPONSE = 5, 6, 7, 8
UDP, TCP = 1, 2


def read_fstrm(path):
    """(content type, [data frame payloads]) of a Frame Streams file."""
    data = open(path, "rb").read()
    off, ctype, frames, stopped = 0, None, [], False
    while off + 4 <= len(data):
        n = struct.unpack(">I", data[off:off + 4])[0]
        off += 4
        if n == 0:  # control frame
            clen = struct.unpack(">I", data[off:off + 4])[0]
            ctrl = data[off + 4:off + 4 + clen]
            off += 4 + clen
            kind = struct.unpack(">I", ctrl[:4])[0]
            if kind == 2:  # START: fields
                p = 4
                while p + 8 <= len(ctrl):
                    ft, fl = struct.unpack(">II", ctrl[p:p + 8])
                    if ft == 1:
                        ctype = ctrl[p + 8:p + 8 + fl].decode()
                    p += 8 + fl
            elif kind == 3:
                stopped = True
        else:
            frames.append(data[off:off + n])
            off += n
    return ctype, frames, stopped


def pb_decode(buf):
    """Protobuf wire format -> {field number: [values]} (bytes for length-delimited)."""
    out, off = {}, 0

    def varint():
        nonlocal off
        v, shift = 0, 0
        while True:
            b = buf[off]
            off += 1
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
    while off < len(buf):
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            v = varint()
        elif wt == 1:
            v = struct.unpack("<Q", buf[off:off + 8])[0]
            off += 8
        elif wt == 2:
            n = varint()
            v = buf[off:off + n]
            off += n
        elif wt == 5:
            v = struct.unpack("<I", buf[off:off + 4])[0]
            off += 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


class Tap:
    """One dnstap message, decoded."""

    def __init__(self, frame):
        d = pb_decode(frame)
        self.identity = d.get(1, [b""])[0]
        self.version = d.get(2, [b""])[0]
        self.dtype = d.get(15, [0])[0]
        m = pb_decode(d.get(14, [b""])[0])
        g = lambda n, dflt=None: m.get(n, [dflt])[0]  # noqa: E731
        self.type, self.family, self.proto = g(1), g(2), g(3)
        self.qaddr, self.raddr, self.qport, self.rport = g(4), g(5), g(6), g(7)
        self.qtime, self.rtime = g(8), g(12)
        self.qmsg, self.rmsg = g(10), g(14)

    def qname_qtype(self):
        m = self.qmsg or self.rmsg
        off, labels = 12, []
        while m[off]:
            labels.append(m[off + 1:off + 1 + m[off]].decode())
            off += 1 + m[off]
        return ".".join(labels) + ".", struct.unpack(">H", m[off + 1:off + 3])[0]


def main():
    args = cwtest.parse_args()
    kdig = shutil.which("kdig")
    nsd = cwtest.nsd_binary()
    capture = shutil.which("fstrm_capture")
    if not kdig or not nsd or not capture:
        print("test_dnstap: needs kdig, nsd and fstrm_capture: apt-get install knot-dnsutils nsd fstrm-bin")
        sys.exit(1)
    with cwtest.TestEnv("test_dnstap", keep=args.keep) as env:
        ck = env.c
        d = env.dir
        nsd_port, port, met, port2 = (cwtest.free_udp_tcp_port() for _ in range(4))
        with open(env.path("example.test.zone"), "w") as f:
            f.write(ZONE)
        with open(env.path("nsd.conf"), "w") as f:
            f.write(cwtest.nsd_conf(nsd_port, d, "example.test"))
        rpz1 = env.path("rpz1.zone")
        with open(rpz1, "w") as f:
            f.write(RPZ1)
        nsd_proc = cwtest.spawn([nsd, "-d", "-c", env.path("nsd.conf")], env.path("nsd.out.log"))
        deadline = time.monotonic() + 30
        while True:
            r = cwtest.run([kdig, "@127.0.0.1", "-p", str(nsd_port), "www.example.test",
                            "+retry=0", "+timeout=1"], timeout=10)
            if b"status: NOERROR" in r.stdout:
                break
            if nsd_proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("nsd did not start:\n" + cwtest.tail(env.path("nsd.log")))
            time.sleep(0.1)

        def start(port, tap_args, log, metrics=None):
            argv = [args.binary, "dns", "--listen", "127.0.0.1:%d" % port,
                    "--forward", "127.0.0.1:%d" % nsd_port, "--rpz", rpz1, "--upstream-timeout", "500ms",
                    "--state-dir", env.path("state-%d" % port), "--verbose"] + tap_args
            if metrics:
                argv += ["--metrics", "127.0.0.1:%d" % metrics]
            p = cwtest.spawn(argv, log, env=cwtest.env_for_children())
            deadline = time.monotonic() + 60
            while True:
                r = cwtest.run([kdig, "@127.0.0.1", "-p", str(port), "ns.example.test", "+retry=0",
                                "+timeout=1"], timeout=10)
                if b"status: NOERROR" in r.stdout:
                    return p
                if p.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("crosswatch dns did not start:\n" + cwtest.tail(log))
                time.sleep(0.2)

        def udp_query(port, qid, name, qtype=1):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.settimeout(5)
            q = wire_query(qid, name, qtype)
            s.sendto(q, ("127.0.0.1", port))
            a = s.recv(65535)
            sport = s.getsockname()[1]
            s.close()
            return q, a, sport

        def tcp_query(port, qid, name, qtype=1):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            q = wire_query(qid, name, qtype)
            s.sendall(struct.pack(">H", len(q)) + q)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                buf += s.recv(65535)
            sport = s.getsockname()[1]
            s.close()
            return q, buf[2:], sport

        # ------------------------------------------------------------ --dnstap-file
        tapfile = env.path("dns.tap")
        t_start = int(time.time())
        dns = start(port, ["--dnstap-file", tapfile], env.path("dns.log"), met)
        q1, a1, p1 = udp_query(port, 0x1111, "www.example.test")
        q2, a2, p2 = udp_query(port, 0x2222, "www.example.test")
        q3, a3, p3 = tcp_query(port, 0x3333, "www.example.test", 28)
        q4, a4, p4 = udp_query(port, 0x4444, "bad.example.test")
        ck.eq((parse_answer(a1)[2], parse_answer(a4)[2]), (0, 3), "answers: www NOERROR, bad NXDOMAIN")
        mt = cwtest.http_request(met, "GET", "/metrics").text()
        dns.send_signal(15)
        ck.eq(dns.wait(timeout=60), 0, "resolver: clean exit on SIGTERM (flushes dnstap)")
        t_end = int(time.time()) + 1
        ctype, frames, stopped = read_fstrm(tapfile)
        ck.eq(ctype, "protobuf:dnstap.Dnstap", "Frame Streams content type")
        ck.check(stopped, "the file ends with a STOP control frame")
        taps = [Tap(f) for f in frames]
        ck.check(all(t.dtype == 1 and t.identity == socket.gethostname().encode()
                     and t.version == b"crosswatch dns" for t in taps),
                 "every frame: type MESSAGE, identity = host name, version", len(taps))
        # the readiness probe (ns.example.test via kdig) comes first; ours follow
        mine = [t for t in taps if t.qname_qtype()[0] != "ns.example.test."]
        lo = socket.inet_aton("127.0.0.1")

        def find(ttype, qport=None, name=None):
            return [t for t in mine if t.type == ttype and (qport is None or t.qport == qport)
                    and (name is None or t.qname_qtype()[0] == name)]
        cq = find(CLIENT_QUERY, p1)
        ck.check(len(cq) == 1 and cq[0].proto == UDP and cq[0].family == 1 and cq[0].qaddr == lo
                 and cq[0].raddr == lo and cq[0].rport == port and cq[0].qmsg == q1
                 and t_start <= cq[0].qtime <= t_end,
                 "UDP miss: CLIENT_QUERY with client/listener addresses, ports, time and the exact query",
                 [vars(t) for t in cq])
        fq = find(FORWARDER_QUERY, name="www.example.test.")
        fr = find(FORWARDER_RESPONSE, name="www.example.test.")
        ck.check(len(fq) == 2 and all(t.raddr == lo and t.rport == nsd_port and t.proto == UDP for t in fq),
                 "forwarded: FORWARDER_QUERY to NSD (A miss, then AAAA miss)", [(t.raddr, t.rport) for t in fq])
        ck.check(len(fr) == 2 and sorted(t.qname_qtype()[1] for t in fr) == [1, 28]
                 and all(t.rmsg and t.rmsg[2] & 0x80 for t in fr),
                 "forwarded: FORWARDER_RESPONSE with NSD's answers (A and AAAA)")
        a_fr = [t for t in fr if t.qname_qtype()[1] == 1]
        ck.check(a_fr and b"\xc0\x00\x02\x0a" in a_fr[0].rmsg, "FORWARDER_RESPONSE: NSD's A 192.0.2.10")
        cr = find(CLIENT_RESPONSE, p1)
        ck.check(len(cr) == 1 and cr[0].rmsg == a1 and cr[0].qmsg == q1 and cr[0].rtime >= t_start,
                 "CLIENT_RESPONSE: the exact answer the client got, with its query")
        ck.check(len(find(CLIENT_QUERY, p2)) == 1 and len(find(CLIENT_RESPONSE, p2)) == 1
                 and find(CLIENT_RESPONSE, p2)[0].rmsg == a2,
                 "cache hit: CLIENT_QUERY and CLIENT_RESPONSE, no third forwarder query")
        tq = find(CLIENT_QUERY, p3)
        ck.check(len(tq) == 1 and tq[0].proto == TCP and tq[0].qname_qtype() == ("www.example.test.", 28)
                 and len(find(CLIENT_RESPONSE, p3)) == 1 and find(CLIENT_RESPONSE, p3)[0].rmsg == a3,
                 "TCP: protocol TCP, qtype AAAA, the answer sent")
        bq, br = find(CLIENT_QUERY, p4), find(CLIENT_RESPONSE, p4)
        ck.check(len(bq) == 1 and len(br) == 1 and br[0].rmsg[3] & 0x0F == 3
                 and not find(FORWARDER_QUERY, name="bad.example.test."),
                 "blocked: NXDOMAIN in CLIENT_RESPONSE, nothing forwarded")
        m = re.search(r'crosswatch_dns_dnstap_frames_total\{result="queued"\} (\d+)', mt)
        dropped = re.search(r'crosswatch_dns_dnstap_frames_total\{result="dropped"\} (\d+)', mt)
        ck.check(m and int(m.group(1)) == len(frames) and dropped and dropped.group(1) == "0",
                 "metrics: frames queued = frames in the file (%d), none dropped" % len(frames),
                 re.findall(r".*dnstap.*", mt))

        # ------------------------------------------------------------ --dnstap-socket
        sock = env.path("tap.sock")
        capfile = env.path("capture.tap")
        cap = cwtest.spawn([capture, "-t", "protobuf:dnstap.Dnstap", "-u", sock, "-w", capfile],
                           env.path("capture.log"))
        deadline = time.monotonic() + 30
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.1)
        dns = start(port2, ["--dnstap-socket", sock], env.path("dns2.log"))
        q5, a5, p5 = udp_query(port2, 0x5555, "a.evil.example.test")
        q6, a6, p6 = udp_query(port2, 0x6666, "www.example.test", 28)
        time.sleep(1.5)  # fstrm's I/O thread flushes at least once a second
        dns.send_signal(15)
        ck.eq(dns.wait(timeout=60), 0, "resolver with --dnstap-socket: clean exit")
        time.sleep(0.5)
        cap.send_signal(2)
        try:
            cap.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cwtest.kill9(cap)
        ctype, frames, _ = read_fstrm(capfile) if os.path.exists(capfile) else (None, [], False)
        got = [(t.type, t.qport, t.qname_qtype()) for t in map(Tap, frames)]
        ck.check((CLIENT_QUERY, p5, ("a.evil.example.test.", 1)) in got
                 and (CLIENT_RESPONSE, p5, ("a.evil.example.test.", 1)) in got
                 and (CLIENT_QUERY, p6, ("www.example.test.", 28)) in got
                 and any(t == FORWARDER_QUERY and n == ("www.example.test.", 28) for t, _, n in got),
                 "fstrm_capture on the unix socket received the messages", got)
        # no reader at all on the socket: answers still flow
        dns = start(port2, ["--dnstap-socket", env.path("nobody.sock")], env.path("dns3.log"))
        t0 = time.monotonic()
        ok = all(parse_answer(udp_query(port2, 0x7000 + i, "www.example.test")[1])[2] == 0 for i in range(50))
        ck.check(ok, "no dnstap reader: 50 queries answered (%.2f s)" % (time.monotonic() - t0))
        dns.send_signal(15)
        ck.eq(dns.wait(timeout=60), 0, "resolver without a dnstap reader: clean exit")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")


if __name__ == "__main__":
    main()
