#!/usr/bin/env python3
"""test_dns_doh2 - `crosswatch dns` DNS over HTTPS on HTTP/2 (RFC 8484 over RFC 9113),
against a real NSD on 127.0.0.1, with a certificate made here by openssl.

  - `kdig +https` (POST) and `kdig +https-get` (GET) with the certificate verified:
    kdig reports an HTTP/2 session; an answer from NSD; an RPZ block (NXDOMAIN with
    EDE 15 and the list and rule); local data;
  - /dns-query/<token> with kdig: the token's view (its own allow list and block
    with EDE 17) instead of the client address's;
  - curl --http2 POST: the exact answer bytes, content type, Cache-Control max-age;
    curl --http1.1 on the same port: ALPN falls back to HTTP/1.1 (libmicrohttpd);
  - hostile requests over HTTP/2 (curl): bad base64url, a missing parameter, a
    response instead of a query, wrong content type, oversized body (413), wrong
    method / path / token, request headers over 8 KiB (431);
  - hostile frames from a raw HTTP/2 client written here (HPACK literals only):
    more streams than SETTINGS_MAX_CONCURRENT_STREAMS, a frame larger than
    SETTINGS_MAX_FRAME_SIZE, a header flood across CONTINUATION frames, garbage
    instead of the connection preface, a stream reset before its answer; a
    connection over --doh-max-conns is closed at once; a silent connection is
    closed after the idle timeout with GOAWAY;
  - while all that goes on, UDP and HTTP/2 clients are still answered; SIGTERM
    exits cleanly; no sanitizer reports.
No wall-clock assertions except "closed within a generous deadline".
"""
import hashlib
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
from test_dns import ZONE, RPZ1, VIEW_RPZ, Answer  # noqa: E402
from test_dns_tls import wire_query, parse_answer  # noqa: E402

# HTTP/2 frame types and error codes (RFC 9113)
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
PROTOCOL_ERROR, FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL = 1, 6, 7, 8


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def hpack_int(v, prefix_bits, first=0):
    lim = (1 << prefix_bits) - 1
    if v < lim:
        return bytes([first | v])
    out = [first | lim]
    v -= lim
    while v >= 128:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def lit(name, value):
    """A header field as 'literal without indexing, new name', no Huffman."""
    name, value = name.encode(), value.encode() if isinstance(value, str) else value
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def request_block(method, path, extra=()):
    b = lit(":method", method) + lit(":scheme", "https") + lit(":authority", "dns.test") + lit(":path", path)
    for n, v in extra:
        b += lit(n, v)
    return b


class H2:
    """A raw HTTP/2 client connection over verified TLS with ALPN h2."""

    def __init__(self, port, cafile, preface=True):
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.s = ctx.wrap_socket(raw, server_hostname="dns.test")
        self.alpn = self.s.selected_alpn_protocol()
        self.buf = b""
        if preface:
            self.s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0))

    def send(self, data):
        self.s.sendall(data)

    def read_frame(self, timeout=15):
        """(type, flags, stream, payload), or None at EOF / connection reset."""
        self.s.settimeout(timeout)
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            try:
                d = self.s.recv(65536)
            except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
                return None
            if not d:
                return None
            self.buf += d
        n = int.from_bytes(self.buf[:3], "big")
        f = (self.buf[3], self.buf[4], int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF, self.buf[9:9 + n])
        self.buf = self.buf[9 + n:]
        if f[0] == SETTINGS and not f[1] & ACK:
            self.send(frame(SETTINGS, ACK, 0))
        return f

    def frames_until(self, stop, timeout=15):
        """Frames until stop(frame) is true or EOF; returns (frames, eof)."""
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            f = self.read_frame(max(0.1, deadline - time.monotonic()))
            if f is None:
                return out, True
            out.append(f)
            if stop(f):
                return out, False
        return out, False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def goaway_code(frames):
    for t, _, _, p in frames:
        if t == GOAWAY and len(p) >= 8:
            return struct.unpack(">I", p[4:8])[0]
    return None


def main():
    args = cwtest.parse_args()
    kdig = shutil.which("kdig")
    curl = shutil.which("curl")
    nsd = cwtest.nsd_binary()
    openssl = shutil.which("openssl")
    if not kdig or not nsd or not openssl or not curl:
        print("test_dns_doh2: needs kdig, nsd, curl and openssl: "
              "apt-get install knot-dnsutils nsd curl openssl")
        sys.exit(1)
    with cwtest.TestEnv("test_dns_doh2", keep=args.keep) as env:
        ck = env.c
        d = env.dir
        nsd_port, port, doh_port, met = (cwtest.free_udp_tcp_port() for _ in range(4))
        with open(env.path("example.test.zone"), "w") as f:
            f.write(ZONE)
        with open(env.path("nsd.conf"), "w") as f:
            f.write(cwtest.nsd_conf(nsd_port, d, "example.test"))
        rpz1, view_rpz = env.path("rpz1.zone"), env.path("view.zone")
        with open(rpz1, "w") as f:
            f.write(RPZ1)
        with open(view_rpz, "w") as f:
            f.write(VIEW_RPZ)
        cert, key = env.path("cert.pem"), env.path("key.pem")
        r, _ = cwtest.self_signed_cert(openssl, cert, key, "dns.test", "DNS:dns.test,IP:127.0.0.1")
        ck.require(r.returncode == 0, "self-signed certificate made", r.stderr.decode(errors="replace"))
        nsd_proc = cwtest.spawn([nsd, "-d", "-c", env.path("nsd.conf")], env.path("nsd.out.log"))
        if not cwtest.wait_noerror(kdig, nsd_port, "www.example.test", nsd_proc):
            raise AssertionError("nsd did not start:\n" + cwtest.tail(env.path("nsd.log")))

        token = "tok-" + os.urandom(8).hex()
        token_hash = hashlib.blake2b(token.encode(), digest_size=32).hexdigest()
        log = env.path("dns.log")
        max_conns = 12
        argv = [args.binary, "dns", "--listen", "127.0.0.1:%d" % port,
                "--doh-listen", "127.0.0.1:%d" % doh_port, "--tls-cert", cert, "--tls-key", key,
                "--doh-max-conns", str(max_conns),
                "--view", "member-a=192.0.2.0/24", "--view-rpz", "member-a=" + view_rpz,
                "--view-doh-token", "member-a=" + token_hash,
                "--forward", "127.0.0.1:%d" % nsd_port, "--rpz", rpz1, "--upstream-timeout", "500ms",
                "--metrics", "127.0.0.1:%d" % met, "--state-dir", env.path("state"), "--verbose"]
        dns = cwtest.spawn(argv, log, env=cwtest.env_for_children())
        deadline = time.monotonic() + 60
        while True:
            r = cwtest.run([kdig, "@127.0.0.1", "-p", str(port), "ns.example.test", "+retry=0",
                            "+timeout=1"], timeout=10)
            if b"status: NOERROR" in r.stdout:
                break
            if dns.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("crosswatch dns did not start:\n" + cwtest.tail(log))
            time.sleep(0.2)
        https_queries = 0  # requests that reach the resolver (metrics queries_total{https})

        # a silent HTTP/2 connection, opened first: closed by the idle timeout later
        idle = H2(doh_port, cert)

        def kh(name, *extra, get=False, path=None):
            opt = "+https" + ("=" + path if path else "")
            argv = [kdig, "@127.0.0.1", "-p", str(doh_port), opt, "+tls-ca=" + cert,
                    "+tls-hostname=dns.test", name, "A", "+edns", "+retry=0", "+timeout=5"]
            if get:
                argv.append("+https-get")
            r = cwtest.run(argv + list(extra), timeout=30)
            a = Answer((r.stdout + r.stderr).decode(errors="replace"))
            m = re.search(r"opcode: \w+; status: (\w+)", a.text)  # not the HTTP session's status
            a.status = m.group(1) if m else None
            return a

        # ------------------------------------------------------------ kdig over HTTP/2
        a = kh("www.example.test")
        ck.check("(HTTP/2-POST)" in a.text, "kdig +https: an HTTP/2 POST session", a.text[:400])
        ck.eq((a.status, [x[3] for x in a.answers]), ("NOERROR", ["192.0.2.10"]),
              "kdig +https: NSD's answer through the resolver")
        a = kh("www.example.test", get=True)
        ck.check("(HTTP/2-GET)" in a.text, "kdig +https-get: an HTTP/2 GET session", a.text[:400])
        ck.eq((a.status, [x[3] for x in a.answers]), ("NOERROR", ["192.0.2.10"]),
              "kdig +https-get: the answer (from the cache)")
        a = kh("bad.example.test")
        ck.eq((a.status, a.ede, a.ede_text), ("NXDOMAIN", 15, "rpz-one.test bad.example.test"),
              "kdig +https: RPZ block, EDE 15 Blocked with list and rule")
        a = kh("x.a.evil.example.test", get=True)
        ck.eq((a.status, a.ede, a.ede_text), ("NXDOMAIN", 15, "rpz-one.test *.evil.example.test"),
              "kdig +https-get: wildcard block, EDE 15 with the wildcard rule")
        a = kh("redirect.example.test")
        ck.eq((a.status, a.answers), ("NOERROR", [("redirect.example.test.", 60, "A", "192.0.2.250")]),
              "kdig +https: local data")
        https_queries += 5
        # the token's view: its own allow list lets allowed.example.test through, its
        # own list blocks viewblock with EDE 17; without the token, the global list blocks
        a = kh("allowed.example.test", path="/dns-query/" + token)
        ck.eq((a.status, [x[3] for x in a.answers]), ("NOERROR", ["192.0.2.73"]),
              "kdig +https=/dns-query/<token>: the view's allow list applies")
        a = kh("viewblock.example.test", path="/dns-query/" + token, get=True)
        ck.eq((a.status, a.ede), ("NXDOMAIN", 17), "kdig +https-get with the token: the view's block, EDE 17")
        a = kh("allowed.example.test")
        ck.eq((a.status, a.ede), ("NXDOMAIN", 15), "kdig +https without the token: the global block")
        https_queries += 3
        a = kh("www.example.test", path="/dns-query/not-" + token)
        ck.check("403" in a.text and a.status is None, "kdig +https with an unknown token: HTTP 403",
                 a.text[-300:])

        # ------------------------------------------------------------ curl: HTTP/2 and HTTP/1.1
        qfile = env.path("q.bin")
        with open(qfile, "wb") as f:
            f.write(wire_query(0x4242, "www.example.test"))

        def curl_req(version, path, data=None, headers=(), method=None):
            out, hdr = env.path("curl.out"), env.path("curl.hdr")
            argv = [curl, "-s", "--" + version, "--cacert", cert, "-o", out, "-D", hdr,
                    "-w", "%{http_version} %{http_code}", "--max-time", "20"]
            if data is not None:
                argv += ["--data-binary", "@" + data]
            for h in headers:
                argv += ["-H", h]
            if method:
                argv += ["-X", method]
            r = cwtest.run(argv + ["https://127.0.0.1:%d%s" % (doh_port, path)], timeout=60)
            ver, code = (r.stdout.decode().split() + ["", ""])[:2]
            body = open(out, "rb").read() if os.path.exists(out) else b""
            hdrs = open(hdr, "r", errors="replace").read().lower() if os.path.exists(hdr) else ""
            for p in (out, hdr):
                if os.path.exists(p):
                    os.unlink(p)
            return ver, int(code or 0), hdrs, body

        ver, code, hdrs, body = curl_req("http2", "/dns-query", qfile, ["content-type: application/dns-message"])
        qid, flags, rcode, rrs = parse_answer(body) if len(body) >= 12 else (None, 0, None, [])
        ck.eq((ver, code, qid, rcode, [(t, rd) for t, _, rd in rrs]),
              ("2", 200, 0x4242, 0, [(1, bytes([192, 0, 2, 10]))]),
              "curl --http2 POST: 200 over HTTP/2, the answer with the id sent")
        ck.check("content-type: application/dns-message" in hdrs, "curl --http2: application/dns-message")
        ck.check(rrs and ("cache-control: max-age=%d" % min(ttl for _, ttl, _ in rrs)) in hdrs,
                 "curl --http2: max-age = the answer's smallest TTL", hdrs)
        ver, code, hdrs, body = curl_req("http1.1", "/dns-query", qfile, ["content-type: application/dns-message"])
        ck.eq((ver, code, parse_answer(body)[0] if len(body) >= 12 else None), ("1.1", 200, 0x4242),
              "curl --http1.1 on the same port: ALPN http/1.1, answered by the HTTP/1.1 handler")
        https_queries += 2

        import base64

        def b64(m):
            return base64.urlsafe_b64encode(m).decode().rstrip("=")
        resp = wire_query(9, "www.example.test")
        resp = resp[:2] + bytes([resp[2] | 0x80]) + resp[3:]
        big = env.path("big.bin")
        with open(big, "wb") as f:
            f.write(b"\0" * 70000)
        textq = env.path("textq.bin")
        with open(textq, "wb") as f:
            f.write(wire_query(1, "www.example.test"))
        good = b64(wire_query(1, "www.example.test"))
        hostile = [
            ("bad base64url", "/dns-query?dns=!!!!", None, (), None, 400),
            ("base64url with padding inside", "/dns-query?dns=" + good[:8] + "==" + good[8:], None, (), None, 400),
            ("bad percent escape", "/dns-query?dns=%zz" + good, None, (), None, 400),
            ("missing dns parameter", "/dns-query", None, (), None, 400),
            ("a response, not a query", "/dns-query?dns=" + b64(resp), None, (), None, 400),
            ("shorter than a header", "/dns-query?dns=AAAA", None, (), None, 400),
            ("wrong content type", "/dns-query", textq, ("content-type: text/plain",), None, 415),
            ("oversized body", "/dns-query", big, ("content-type: application/dns-message",), None, 413),
            ("wrong method", "/dns-query", None, (), "PUT", 405),
            ("wrong path", "/resolve?dns=" + good, None, (), None, 404),
            ("unknown token", "/dns-query/nope?dns=" + good, None, (), None, 403),
            ("request headers over 8 KiB", "/dns-query?dns=" + good, None, ("x-big: " + "a" * 9000,), None, 431),
        ]
        for what, path, data, headers, method, want in hostile:
            ver, code, _, _ = curl_req("http2", path, data, headers, method)
            ck.eq((ver, code), ("2", want), "HTTP/2 hostile: %s -> %d" % (what, want))

        # ------------------------------------------------------------ raw HTTP/2 frames
        h = H2(doh_port, cert)
        ck.eq(h.alpn, "h2", "raw client: ALPN h2 selected")
        fr, eof = h.frames_until(lambda f: f[0] == SETTINGS and not f[1] & ACK)
        settings = {}
        for t, fl, sid, p in fr:
            if t == SETTINGS and not fl & ACK:
                for i in range(0, len(p), 6):
                    settings[struct.unpack(">H", p[i:i + 2])[0]] = struct.unpack(">I", p[i + 2:i + 6])[0]
        ck.eq(settings.get(3), 100, "server SETTINGS: MAX_CONCURRENT_STREAMS 100")
        # a GET answered on stream 1: HEADERS then DATA with the DNS answer
        h.send(frame(HEADERS, END_STREAM | END_HEADERS, 1,
                     request_block("GET", "/dns-query?dns=" + b64(wire_query(0, "bad.example.test")))))
        fr, eof = h.frames_until(lambda f: f[0] == DATA and f[2] == 1 and f[1] & END_STREAM)
        data = b"".join(p for t, _, sid, p in fr if t == DATA and sid == 1)
        ck.check(not eof and len(data) >= 12 and parse_answer(data)[2] == 3,
                 "raw client: GET on stream 1 answered (NXDOMAIN)", fr)
        https_queries += 1
        # a stream reset right after its request: the answer finds no stream, the
        # connection carries on
        h.send(frame(HEADERS, END_STREAM | END_HEADERS, 3,
                     request_block("GET", "/dns-query?dns=" + b64(wire_query(0, "www.example.test"))))
               + frame(RST_STREAM, 0, 3, struct.pack(">I", CANCEL))
               + frame(HEADERS, END_STREAM | END_HEADERS, 5,
                       request_block("GET", "/dns-query?dns=" + b64(wire_query(5, "www.example.test")))))
        fr, eof = h.frames_until(lambda f: f[0] == DATA and f[2] == 5 and f[1] & END_STREAM)
        ck.check(not eof and any(t == DATA and sid == 5 for t, _, sid, _ in fr)
                 and not any(sid == 3 and t in (HEADERS, DATA) for t, _, sid, _ in fr),
                 "raw client: a reset stream gets nothing, the next one is answered", fr)
        https_queries += 2
        # more streams than allowed: POSTs whose bodies never come keep 100 streams
        # open; stream 101 is refused (RST_STREAM REFUSED_STREAM or GOAWAY)
        blk = b""
        sids = list(range(7, 7 + 2 * 110, 2))
        for sid in sids:
            blk += frame(HEADERS, END_HEADERS, sid,
                         request_block("POST", "/dns-query", [("content-type", "application/dns-message")]))
        h.send(blk)
        fr, eof = h.frames_until(lambda f: f[0] == GOAWAY or (f[0] == RST_STREAM and f[2] == sids[-1]), 15)
        refused = [sid for t, _, sid, p in fr if t == RST_STREAM and struct.unpack(">I", p)[0] == REFUSED_STREAM]
        ck.check(goaway_code(fr) == PROTOCOL_ERROR or (refused and min(refused) == sids[100]),
                 "raw client: streams beyond 100 refused (REFUSED_STREAM from stream %d, or GOAWAY "
                 "PROTOCOL_ERROR)" % sids[100], [(t, sid) for t, _, sid, _ in fr][-5:])
        # ... and meanwhile other clients are answered
        a = kh("www.example.test")
        ck.eq(a.status, "NOERROR", "kdig +https answered while a client holds 100 open streams")
        r = cwtest.run([kdig, "@127.0.0.1", "-p", str(port), "www.example.test", "+retry=0", "+timeout=3"])
        ck.check(b"status: NOERROR" in r.stdout, "UDP answered while a client holds 100 open streams")
        https_queries += 1
        h.close()

        # a frame larger than SETTINGS_MAX_FRAME_SIZE (16384): FRAME_SIZE_ERROR
        h = H2(doh_port, cert)
        h.frames_until(lambda f: f[0] == SETTINGS and not f[1] & ACK)
        h.send(frame(HEADERS, END_HEADERS, 1,
                     request_block("POST", "/dns-query", [("content-type", "application/dns-message")]))
               + frame(DATA, 0, 1, b"\0" * 20000))
        fr, eof = h.frames_until(lambda f: f[0] == GOAWAY)
        ck.eq(goaway_code(fr), FRAME_SIZE_ERROR, "raw client: a 20000-byte frame -> GOAWAY FRAME_SIZE_ERROR")
        h.close()

        # a header flood over CONTINUATION frames (more than 32 KiB of fields): the
        # connection is dropped
        h = H2(doh_port, cert)
        h.frames_until(lambda f: f[0] == SETTINGS and not f[1] & ACK)
        h.send(frame(HEADERS, 0, 1, request_block("GET", "/dns-query?dns=" + good)))
        t0 = time.monotonic()
        closed = False
        try:
            for i in range(200):
                h.send(frame(CONTINUATION, 0, 1, b"".join(lit("x-flood-%d" % (i * 20 + k), "v" * 200)
                                                          for k in range(20))))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            closed = True
        if not closed:
            fr, closed = h.frames_until(lambda f: False, 15)
            closed = closed or goaway_code(fr) is not None
        ck.check(closed, "raw client: a CONTINUATION header flood closes the connection (%.1f s)"
                 % (time.monotonic() - t0))
        h.close()

        # garbage instead of the connection preface
        h = H2(doh_port, cert, preface=False)
        h.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"\0" * 64)
        fr, eof = h.frames_until(lambda f: False, 15)
        ck.check(eof, "raw client: a bad connection preface is closed", fr)
        h.close()

        # connection limit: max_conns TLS connections held, one more is closed at once
        held = []
        for _ in range(max_conns - 1):  # the idle connection is the max_conns-th
            held.append(H2(doh_port, cert))
        over_closed = False
        try:
            extra = H2(doh_port, cert)
            over_closed = extra.read_frame(10) is None
            extra.close()
        except (ssl.SSLError, ConnectionResetError, OSError):
            over_closed = True
        ck.check(over_closed, "--doh-max-conns %d: one more connection is closed" % max_conns)
        for x in held:
            x.close()
        time.sleep(0.5)
        a = kh("www.example.test")
        ck.eq(a.status, "NOERROR", "kdig +https answered after the held connections went away")
        https_queries += 1

        # the silent connection opened at the start: GOAWAY and closed after the idle timeout
        fr, eof = idle.frames_until(lambda f: False, 30)
        ck.check(eof and goaway_code(fr) == 0, "a silent HTTP/2 connection: GOAWAY NO_ERROR, then closed",
                 [(t, sid) for t, _, sid, _ in fr])
        idle.close()

        mt = cwtest.http_request(met, "GET", "/metrics").text()
        ck.check(re.search(r'crosswatch_dns_queries_total\{transport="https"\} %d\b' % https_queries, mt),
                 "metrics: %d queries over HTTPS" % https_queries, re.findall(r".*transport.*", mt))
        dns.send_signal(15)
        try:
            rc = dns.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        ck.eq(rc, 0, "clean exit on SIGTERM")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")


if __name__ == "__main__":
    main()
