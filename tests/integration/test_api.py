#!/usr/bin/env python3
"""test_api.py - the center's ingest and admin API against a real `crosswatch serve`.

Starts one center with small limits (--max-body 256k, --max-line 512) and checks, with
exact numbers: authentication and roles (401/403, revocation at once), format and
encoding errors (400/415), gzip and zstd bodies, truncated and oversized bodies and
decompression bombs (400/413, nothing stored), idempotent retries (stored once), lines
rejected one by one with their line numbers, that a body cannot choose its member,
member/sensor administration (409/404), hostile admin bodies, HTML in names, unknown
paths and methods (404/405), the `crosswatch admin` CLI, `--help` of every command,
a clean SIGTERM stop (exit 0) and that everything is still there after a restart.
"""
import json
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

MAX_BODY = 256 * 1024
MAX_LINE = 512
FORMATS = ["ndjson", "eve", "combined", "common", "nginx-json", "syslog"]


def nd(i, path="/p", **extra):
    """One valid crosswatch NDJSON record line (str, no newline)."""
    d = {"ts": "2024-05-01T12:00:%02d.000000Z" % (i % 60), "kind": "http",
         "src_ip": "192.0.2.%d" % (i % 250 + 1), "http.path": "%s/%d" % (path, i)}
    d.update(extra)
    return json.dumps(d, separators=(",", ":"))


def nd_body(n, path="/p", start=0):
    return "".join(nd(start + i, path) + "\n" for i in range(n))


def eve(i, et="dns"):
    return json.dumps({"timestamp": "2024-05-01T12:00:%02d.000000+0000" % (i % 60),
                       "flow_id": 1000 + i, "event_type": et, "src_ip": "10.0.0.%d" % (i + 1),
                       "src_port": 40000 + i, "dest_ip": "10.0.0.53", "dest_port": 53,
                       "proto": "UDP", "dns": {"type": "query", "id": i,
                                               "rrname": "host%d.example.jp" % i,
                                               "rrtype": "A"}},
                      separators=(",", ":"))


def raw_chunked(port, path, headers, chunks):
    """POST with Transfer-Encoding: chunked over a raw socket (no Content-Length), so
    the center only learns the size while reading. Returns (status, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n" % path
        for k, v in headers.items():
            head += "%s: %s\r\n" % (k, v)
        head += "Connection: close\r\n\r\n"
        s.sendall(head.encode())
        try:
            for c in chunks:
                s.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            data += b
    finally:
        s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return status, body


class Expect:
    """What the center must have stored, tracked while the test ingests."""

    def __init__(self):
        self.records = 0
        self.batches = 0
        self.rejected = 0
        self.duplicates = 0
        self.raws = []  # raw lines of every accepted record, in order


def main():
    args = cwtest.parse_args()
    B = args.binary
    with cwtest.TestEnv("test_api", keep=args.keep) as env:
        c = env.center(B, extra_args=["--max-body", "256k", "--max-line", str(MAX_LINE),
                                      "--threads", "2"])
        ck = env.c
        X = Expect()

        def stats_are(what):
            st = c.stats()
            ok = ck.eq((st["records"], st["batches"], st["rejected"], st["duplicates"]),
                       (X.records, X.batches, X.rejected, X.duplicates),
                       "stats (records, batches, rejected, duplicates) %s" % what)
            return ok

        def good_ingest(key, body, fmt="ndjson", raws=None, headers=None, what=""):
            r = c.ingest(key, body, fmt, headers)
            ck.require(r.status == 200, "ingest %s -> 200" % what, repr(r))
            a = r.json()
            return a

        # ------------------------------------------------------------ health, setup
        print("[health and setup]")
        r = cwtest.http_request(c.port, "GET", "/api/v1/health")
        ck.eq((r.status, r.json()), (200, {"status": "ok"}), "GET /health without credential")
        token_mode = os.stat(os.path.join(c.data_dir, "admin.token")).st_mode & 0o777
        ck.eq(oct(token_mode), oct(0o600), "admin.token file mode")
        ck.check(c.token.startswith("cwa_"), "admin token starts with cwa_")
        alpha = c.add_member("alpha")
        beta = c.add_member("beta")
        ck.eq((alpha["name"], beta["name"]), ("alpha", "beta"), "members created")
        ck.check(alpha["id"] != beta["id"], "member ids differ")
        s_a = c.add_sensor("alpha", "gw")
        s_b = c.add_sensor(beta["id"], "gw")  # by id; same sensor name in another member
        ck.check(s_a["key"].startswith("cwk_") and s_b["key"].startswith("cwk_"),
                 "sensor keys start with cwk_")
        ck.eq((s_a["member"], s_b["member"]), ("alpha", "beta"), "sensor members")
        ck.check(s_a["key"] != s_b["key"], "two sensors get different keys")
        ka, kb = s_a["key"], s_b["key"]
        listed = c.sensors()
        ck.check(all("key" not in s for s in listed), "sensor list never shows keys")
        ck.check(ka not in c.req("GET", "/api/v1/sensors").text(), "clear key not in sensor list")

        # ------------------------------------------------------------ authentication, roles
        print("[authentication and roles]")
        r = c.ingest(None, nd_body(1))
        ck.eq(r.status, 401, "ingest without Authorization")
        ck.check("bearer" in r.headers.get("www-authenticate", "").lower(),
                 "401 carries WWW-Authenticate: Bearer")
        r = c.ingest("cwk_" + "0" * 40, nd_body(1))
        ck.eq(r.status, 401, "ingest with an unknown key")
        r = c.ingest(ka[:-1] + ("A" if ka[-1] != "A" else "B"), nd_body(1))
        ck.eq(r.status, 401, "ingest with a key differing in the last character")
        r = c.req("POST", "/api/v1/ingest?format=ndjson", nd_body(1),
                  {"Authorization": "Basic " + ka}, token=None)
        ck.eq(r.status, 401, "ingest with a non-Bearer scheme")
        r = c.ingest(c.token, nd_body(1))
        ck.eq(r.status, 403, "ingest with the admin token")
        for m, p in [("GET", "/api/v1/members"), ("POST", "/api/v1/members"),
                     ("GET", "/api/v1/sensors"), ("POST", "/api/v1/sensors"),
                     ("GET", "/api/v1/stats"), ("GET", "/api/v1/records"),
                     ("POST", "/api/v1/sensors/%d/revoke" % s_a["id"])]:
            r = c.req(m, p, '{"name":"x","member":"alpha"}' if m == "POST" else None, token=ka)
            ck.eq(r.status, 403, "%s %s with a sensor key" % (m, p))
            r = c.req(m, p, None, token=None)
            ck.eq(r.status, 401, "%s %s without credential" % (m, p))
        stats_are("after refused requests (nothing stored)")
        ck.eq(len(c.members()), 2, "members after refused requests")
        ck.eq(sorted(s["name"] for s in c.sensors()), ["gw", "gw"], "sensors unchanged")

        # ------------------------------------------------------------ formats, encodings
        print("[formats and encodings]")
        r = c.ingest(ka, nd_body(1), fmt=None)
        ck.eq(r.status, 400, "ingest without ?format=")
        msg = r.json().get("error", "")
        ck.check(all(f in msg for f in FORMATS), "missing-format message lists every format",
                 msg)
        r = c.ingest(ka, nd_body(1), fmt="xml")
        ck.eq(r.status, 400, "ingest with ?format=xml")
        msg = r.json().get("error", "")
        ck.check("xml" in msg and all(f in msg for f in FORMATS),
                 "unknown-format message names it and lists every format", msg)
        for enc in ["br", "deflate", "gzip, br", "compress"]:
            r = c.ingest(ka, nd_body(1), headers={"Content-Encoding": enc})
            ck.eq(r.status, 415, "Content-Encoding: %s" % enc)
        stats_are("after format/encoding errors")

        body = nd_body(3, "/plain")
        a = good_ingest(ka, body, what="plain ndjson 3 lines")
        ck.eq((a["accepted"], a["rejected"], a["rejected_count"], a["duplicate"]),
              (3, [], 0, False), "plain answer (accepted, rejected, rejected_count, duplicate)")
        X.records += 3
        X.batches += 1
        X.raws += body.splitlines()

        body = nd_body(5, "/gzip")
        a = good_ingest(ka, cwtest.gz(body), headers={"Content-Encoding": "gzip"}, what="gzip")
        ck.eq((a["accepted"], a["rejected_count"]), (5, 0), "gzip body: 5 accepted")
        X.records += 5
        X.batches += 1
        X.raws += body.splitlines()

        if cwtest.zstd_tool():
            body = nd_body(4, "/zstd")
            a = good_ingest(ka, cwtest.zstd_compress(body.encode()),
                            headers={"Content-Encoding": "zstd"}, what="zstd")
            ck.eq((a["accepted"], a["rejected_count"]), (4, 0), "zstd body: 4 accepted")
            X.records += 4
            X.batches += 1
            X.raws += body.splitlines()
            # a zstd bomb: small frame, far more than max-body once decoded
            bomb = cwtest.zstd_compress(b"\n" * (MAX_BODY * 8))
            ck.check(len(bomb) < MAX_BODY, "zstd bomb is smaller than max-body (%d bytes)" %
                     len(bomb))
            r = c.ingest(ka, bomb, headers={"Content-Encoding": "zstd"})
            ck.eq(r.status, 413, "zstd bomb expanding past max-body")
            trunc = cwtest.zstd_compress(nd_body(200, "/ztrunc").encode())
            r = c.ingest(ka, trunc[: len(trunc) // 2], headers={"Content-Encoding": "zstd"})
            ck.eq(r.status, 400, "truncated zstd body")
        else:
            ck.check(False, "the zstd command-line tool is installed (Debian package zstd)")

        full = cwtest.gz(nd_body(300, "/trunc"))
        r = c.ingest(ka, full[:-12], headers={"Content-Encoding": "gzip"})
        ck.eq(r.status, 400, "truncated gzip body")
        err = r.json().get("error", "") if r.status == 400 else ""
        ck.check("gzip" in err and ("truncated" in err or "corrupt" in err),
                 "truncated gzip answer gives a reason", repr(err))
        r = c.ingest(ka, b"this is not gzip at all", headers={"Content-Encoding": "gzip"})
        ck.eq(r.status, 400, "a body that is not gzip at all with Content-Encoding: gzip")

        big = (nd_body(3000, "/big" + "x" * 60)).encode()
        ck.check(len(big) > MAX_BODY, "oversized body is over max-body (%d bytes)" % len(big))
        r = c.ingest(ka, big)
        ck.eq(r.status, 413, "plain body over --max-body (Content-Length)")
        st, _ = raw_chunked(c.port, "/api/v1/ingest?format=ndjson",
                            {"Authorization": "Bearer " + ka},
                            [big[i:i + 16384] for i in range(0, len(big), 16384)])
        ck.eq(st, 413, "chunked body over --max-body (no Content-Length)")
        bomb = cwtest.gz(b"\n" * (MAX_BODY * 40))
        ck.check(len(bomb) < MAX_BODY, "gzip bomb is smaller than max-body (%d bytes)" %
                 len(bomb))
        r = c.ingest(ka, bomb, headers={"Content-Encoding": "gzip"})
        ck.eq(r.status, 413, "gzip bomb expanding past max-body")
        # just under the limit once decoded: accepted
        body = nd_body(1, "/edge")
        pad = MAX_BODY - len(body) - 10
        a = good_ingest(ka, cwtest.gz(body + "\n" * pad), headers={"Content-Encoding": "gzip"},
                        what="gzip just under max-body decoded")
        ck.eq(a["accepted"], 1, "gzip body decoding to just under max-body: 1 accepted")
        X.records += 1
        X.batches += 1
        X.raws += body.splitlines()
        stats_are("after encoded bodies (nothing stored from refused ones)")

        # ------------------------------------------------------------ idempotency
        print("[idempotency]")
        body = nd_body(6, "/idem")
        h = {"Idempotency-Key": "batch-0001"}
        a1 = good_ingest(ka, body, headers=h, what="first send with Idempotency-Key")
        ck.eq((a1["accepted"], a1["duplicate"]), (6, False), "first send: 6 accepted, new")
        a2 = good_ingest(ka, body, headers=h, what="retry with the same Idempotency-Key")
        ck.eq((a2["accepted"], a2["rejected"], a2["rejected_count"], a2["duplicate"]),
              (6, [], 0, True), "retry: same counts, duplicate:true")
        a3 = good_ingest(ka, cwtest.gz(body), headers=dict(h, **{"Content-Encoding": "gzip"}),
                         what="retry gzip-encoded")
        ck.eq((a3["accepted"], a3["duplicate"]), (6, True), "gzip retry: duplicate:true")
        X.records += 6
        X.batches += 1
        X.duplicates += 2
        X.raws += body.splitlines()
        # a retry with rejects: the answer lists the same rejects
        body = nd(1, "/idemrej") + "\n{bad json\n" + nd(2, "/idemrej") + "\n"
        h = {"Idempotency-Key": "batch-0002"}
        a1 = good_ingest(ka, body, headers=h, what="batch with a reject, keyed")
        a2 = good_ingest(ka, body, headers=h, what="its retry")
        ck.eq((a1["accepted"], a1["rejected_count"], a1["duplicate"]), (2, 1, False),
              "keyed batch with a reject: first answer")
        ck.eq((a2["accepted"], a2["rejected"], a2["rejected_count"], a2["duplicate"]),
              (2, a1["rejected"], 1, True), "its retry repeats counts and rejects")
        X.records += 2
        X.batches += 1
        X.rejected += 1
        X.duplicates += 1
        X.raws += [nd(1, "/idemrej"), nd(2, "/idemrej")]
        # the same key from another sensor is another batch
        body_b = nd_body(2, "/idem-beta")
        a = good_ingest(kb, body_b, headers={"Idempotency-Key": "batch-0001"},
                        what="same key from another sensor")
        ck.eq((a["accepted"], a["duplicate"]), (2, False),
              "same Idempotency-Key from another sensor is a new batch")
        X.records += 2
        X.batches += 1
        X.raws += body_b.splitlines()
        for bad in ["", "x" * 129, "has space", "caf\u00e9", "tab\there"]:
            r = c.ingest(ka, nd_body(1, "/badidem"), headers={"Idempotency-Key": bad})
            ck.eq(r.status, 400, "Idempotency-Key %r" % (bad[:20] + ("..." if len(bad) > 20
                                                                      else "")))
        a = good_ingest(ka, nd_body(1, "/idem128"), headers={"Idempotency-Key": "k" * 128},
                        what="128-character Idempotency-Key")
        ck.eq(a["duplicate"], False, "128-character Idempotency-Key accepted")
        X.records += 1
        X.batches += 1
        X.raws += nd_body(1, "/idem128").splitlines()
        stats_are("after idempotent retries")

        # concurrent retries of one keyed batch (a retry racing the original)
        body = nd_body(5, "/race")
        answers = []

        def send():
            r = c.ingest(ka, body, headers={"Idempotency-Key": "race-0001"})
            answers.append((r.status, r.json().get("accepted"), r.json().get("duplicate")))
        ts = [threading.Thread(target=send) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        ck.eq(sorted(answers), [(200, 5, False)] + [(200, 5, True)] * 7,
              "8 concurrent sends of one keyed batch: one new, 7 duplicates")
        X.records += 5
        X.batches += 1
        X.duplicates += 7
        X.raws += body.splitlines()
        stats_are("after concurrent retries")

        # ------------------------------------------------------------ line-level rejects
        print("[good and bad lines in one batch]")
        long_line = eve(2)[:-1] + ',"pad":"' + "y" * MAX_LINE + '"}'
        lines = [
            eve(1),                                   # 1 good
            long_line,                                # 2 too long (valid JSON otherwise)
            eve(3),                                   # 3 good
            eve(4)[:20] + "\x00" + eve(4)[20:],       # 4 NUL byte
            "",                                       # 5 empty: skipped, still counted
            '{"timestamp":"2024-05-01T12:00:00Z","event_type":"dns",',  # 6 truncated JSON
            eve(7),                                   # 7 good
            "not json at all",                        # 8 invalid JSON
            json.dumps({"timestamp": "2024-05-01T12:00:00Z", "event_type": "stats",
                        "stats": {"uptime": 1}}),     # 9 stats: not a record
            json.dumps({"event_type": "dns"}),        # 10 no timestamp
            eve(11)[:-1] + "\r",                      # 11 CRLF but truncated -> invalid
            eve(12) + "\r",                           # 12 good with CRLF
        ]
        body = "\n".join(lines)                       # last line without LF counts too
        a = good_ingest(ka, body, fmt="eve", what="eve batch mixing good and bad lines")
        rej = {x["line"]: x["reason"] for x in a["rejected"]}
        ck.eq(a["accepted"], 4, "mixed batch: accepted")
        ck.eq(a["rejected_count"], 7, "mixed batch: rejected_count")
        ck.eq(sorted(rej), [2, 4, 6, 8, 9, 10, 11], "mixed batch: rejected line numbers")
        ck.eq(rej.get(2), "line too long", "line 2 reason")
        ck.eq(rej.get(4), "NUL byte in line", "line 4 reason")
        ck.check("JSON" in rej.get(6, ""), "line 6 reason mentions JSON", repr(rej.get(6)))
        ck.check("JSON" in rej.get(8, ""), "line 8 reason mentions JSON", repr(rej.get(8)))
        ck.check("stat" in rej.get(9, ""), "line 9 (stats) reason", repr(rej.get(9)))
        ck.check("timestamp" in rej.get(10, ""), "line 10 reason names the timestamp",
                 repr(rej.get(10)))
        ck.check(all(isinstance(v, str) and v for v in rej.values()), "every reason non-empty")
        X.records += 4
        X.batches += 1
        X.rejected += 7
        X.raws += [lines[0], lines[2], lines[6], lines[11][:-1]]
        # exactly max-line is fine, one more byte is not
        base = nd(0, "/len")
        exact = base[:-1] + ',"pad":"' + "z" * (MAX_LINE - len(base) - 9) + '"}'
        ck.eq(len(exact), MAX_LINE, "constructed line length")
        a = good_ingest(ka, exact + "\n" + exact[:-2] + 'zz"}' + "\n", what="max-line edge")
        ck.eq((a["accepted"], [x["line"] for x in a["rejected"]]), (1, [2]),
              "a line of exactly --max-line is accepted, one byte more rejected")
        X.records += 1
        X.batches += 1
        X.rejected += 1
        X.raws.append(exact)
        # many rejects: the count is exact even if the list is capped
        body = "\n".join(["garbage %d" % i for i in range(1500)] + [nd(9, "/after-garbage")])
        a = good_ingest(ka, body, what="1500 bad lines and 1 good")
        ck.eq((a["accepted"], a["rejected_count"]), (1, 1500),
              "1500 bad lines: exact rejected_count")
        ck.check(1 <= len(a["rejected"]) <= 1500 and a["rejected"][0]["line"] == 1,
                 "rejected list starts at line 1 (%d listed)" % len(a["rejected"]))
        X.records += 1
        X.batches += 1
        X.rejected += 1500
        X.raws.append(nd(9, "/after-garbage"))
        stats_are("after line-level rejects")

        # ------------------------------------------------------------ member from the key
        print("[the key decides member and sensor]")
        spoof = nd(77, "/spoof", member=beta["id"], sensor=s_b["id"])
        spoof2 = nd(78, "/spoof", member="beta", sensor="gw")
        a = good_ingest(ka, spoof + "\n" + spoof2 + "\n", what="body claiming member beta")
        ck.eq(a["accepted"], 2, "records claiming another member are accepted")
        X.records += 2
        X.batches += 1
        X.raws += [spoof, spoof2]

        # ------------------------------------------------------------ export matches
        print("[records export]")
        recs = c.export_records(page_batches=3)
        ck.eq(len(recs), X.records, "exported record count")
        ck.eq(len(recs), c.stats()["records"], "exported count == stats records")
        ck.eq([r.get("raw") for r in recs], X.raws, "exported raw lines, in arrival order")
        ck.check(all(r.get("member") in (alpha["id"], beta["id"]) for r in recs),
                 "every record has a member")
        spoofed = [r for r in recs if r.get("http.path", "").startswith("/spoof/")]
        ck.eq([(r["member"], r["sensor"]) for r in spoofed],
              [(alpha["id"], s_a["id"])] * 2, "spoofed records carry the key's member/sensor")
        by_member = {}
        for r in recs:
            by_member[r["member"]] = by_member.get(r["member"], 0) + 1
        recs_b = c.export_records(member="beta")
        ck.eq(len(recs_b), by_member.get(beta["id"], 0), "export ?member=beta count")
        ck.check(all(r["member"] == beta["id"] for r in recs_b), "export ?member=beta only beta")
        ml = {m["name"]: m for m in c.members()}
        ck.eq((ml["alpha"]["records"], ml["beta"]["records"]),
              (by_member.get(alpha["id"], 0), by_member.get(beta["id"], 0)),
              "member list record counts == export")
        r = c.req("GET", "/api/v1/records?after=-1")
        ck.eq(r.status, 400, "records ?after=-1")
        r = c.req("GET", "/api/v1/records?batches=0")
        ck.eq(r.status, 400, "records ?batches=0")
        r = c.req("GET", "/api/v1/records?member=nosuch")
        ck.eq(r.status, 404, "records ?member=nosuch")

        # ------------------------------------------------------------ revocation
        print("[revocation]")
        s_r = c.add_sensor("beta", "to-revoke")
        kr = s_r["key"]
        a = good_ingest(kr, nd_body(2, "/before-revoke"), what="before revoke")
        X.records += 2
        X.batches += 1
        X.raws += nd_body(2, "/before-revoke").splitlines()
        r = c.req("POST", "/api/v1/sensors/%d/revoke" % s_r["id"])
        ck.eq((r.status, r.json()), (200, {"id": s_r["id"], "revoked": True}), "revoke answer")
        r = c.ingest(kr, nd_body(1, "/after-revoke"))
        ck.eq(r.status, 401, "revoked key refused on the next request")
        r = c.ingest(kb, nd_body(1, "/other-sensor"))
        ck.eq(r.status, 200, "another sensor of the same member still works")
        X.records += 1
        X.batches += 1
        X.raws += nd_body(1, "/other-sensor").splitlines()
        sl = {s["id"]: s for s in c.sensors("beta")}
        ck.eq((sl[s_r["id"]]["revoked"], sl[s_b["id"]]["revoked"]), (True, False),
              "sensor list shows revoked state")
        ck.eq((sl[s_r["id"]]["records"], sl[s_r["id"]]["batches"]), (2, 1),
              "revoked sensor keeps its counters")
        r = c.req("POST", "/api/v1/sensors/999999/revoke")
        ck.eq(r.status, 404, "revoke unknown sensor id")
        r = c.req("POST", "/api/v1/sensors/%d/revoke" % s_r["id"])
        ck.eq(r.status, 200, "revoking twice is harmless")

        # ------------------------------------------------------------ admin members/sensors
        print("[admin: members and sensors]")
        r = c.req("POST", "/api/v1/members", '{"name":"alpha"}')
        ck.eq(r.status, 409, "add existing member")
        r = c.req("POST", "/api/v1/sensors", '{"member":"alpha","name":"gw"}')
        ck.eq(r.status, 409, "add existing sensor name to the same member")
        r = c.req("POST", "/api/v1/sensors", '{"member":"nosuch","name":"gw"}')
        ck.eq(r.status, 404, "add sensor to an unknown member")
        r = c.req("POST", "/api/v1/sensors", '{"member":99999,"name":"gw"}')
        ck.eq(r.status, 404, "add sensor to an unknown member id")
        r = c.req("GET", "/api/v1/sensors?member=nosuch")
        ck.eq(r.status, 404, "sensor list of an unknown member")
        sa = {s["name"]: s for s in c.sensors("alpha")}
        ck.eq(sorted(sa), ["gw"], "sensors of alpha")
        ck.eq(sa["gw"]["records"], sum(1 for x in recs if x["sensor"] == s_a["id"]),
              "sensor records counter == exported records of that sensor")
        ck.check(sa["gw"]["last_seen"] is not None, "last_seen set after ingest")
        ck.eq(sa["gw"]["rejected"], X.rejected, "alpha/gw rejected counter")
        members_before = c.members()
        sensors_before = c.sensors()

        print("[hostile admin bodies]")
        hostile = [
            ("invalid JSON", b'{"name":'),
            ("not an object", b'["x"]'),
            ("empty body", b""),
            ("empty name", b'{"name":""}'),
            ("name of 101 bytes", json.dumps({"name": "n" * 101}).encode()),
            ("name of 200k", json.dumps({"name": "n" * 200000}).encode()),
            ("control char", json.dumps({"name": "a\u0001b"}).encode()),
            ("newline", json.dumps({"name": "a\nb"}).encode()),
            ("DEL", json.dumps({"name": "a\u007fb"}).encode()),
            ("escaped NUL", b'{"name":"a\\u0000b"}'),
            ("raw NUL", b'{"name":"a\x00b"}'),
            ("invalid UTF-8", b'{"name":"a\xff\xfeb"}'),
            ("digits only", b'{"name":"12345"}'),
            ("number", b'{"name":12345}'),
            ("array name", b'{"name":["x"]}'),
            ("object name", b'{"name":{"a":1}}'),
            ("null name", b'{"name":null}'),
            ("boolean name", b'{"name":true}'),
            ("float name", b'{"name":1.5e3}'),
            ("missing name", b'{"nome":"x"}'),
            ("trailing garbage", b'{"name":"ok-name"} trailing'),
            ("deep nesting", b'{"name":"x","a":' + b"[" * 5000 + b"]" * 5000 + b"}"),
            ("many keys", ("{" + ",".join('"k%d":1' % i for i in range(5000)) +
                           ',"name":"x"}').encode()),
        ]
        for what, body in hostile:
            r = c.req("POST", "/api/v1/members", body, {"Content-Type": "application/json"})
            ck.eq(r.status, 400, "member add with %s" % what)
            ck.check("error" in r.json() if r.body.startswith(b"{") else False,
                     "  ... answered with a JSON error", repr(r))
        for what, body in [("invalid JSON", b'{"member":"alpha","name":'),
                           ("missing member", b'{"name":"x"}'),
                           ("control char", json.dumps({"member": "alpha",
                                                        "name": "s\u001bx"}).encode()),
                           ("long name", json.dumps({"member": "alpha",
                                                     "name": "s" * 101}).encode()),
                           ("boolean name", b'{"member":"alpha","name":false}')]:
            r = c.req("POST", "/api/v1/sensors", body)
            ck.eq(r.status, 400, "sensor add with %s" % what)
        ck.eq([m["name"] for m in c.members()], [m["name"] for m in members_before],
              "members unchanged by hostile bodies (names)")
        ck.eq(c.members(), members_before, "members unchanged by hostile bodies (counters)")
        ck.eq([(x["member"], x["name"]) for x in c.sensors()],
              [(x["member"], x["name"]) for x in sensors_before],
              "sensors unchanged by hostile bodies (member, name)")
        n100 = "m" * 100
        r = c.req("POST", "/api/v1/members", json.dumps({"name": n100}))
        ck.eq(r.status, 201, "member name of exactly 100 bytes")

        print("[HTML and Unicode in names]")
        evil = "<script>alert('x')</script>&\"\\ \u65e5\u672c"
        r = c.req("POST", "/api/v1/members", json.dumps({"name": evil}))
        ck.eq(r.status, 201, "member with HTML/script/quotes/Unicode in the name")
        ck.eq(r.json().get("name"), evil, "name returned exactly")
        r = c.req("GET", "/api/v1/members")
        ck.check(r.headers.get("content-type", "").startswith("application/json"),
                 "member list Content-Type is application/json")
        ck.eq(r.headers.get("x-content-type-options"), "nosniff", "X-Content-Type-Options")
        names = [m["name"] for m in r.json()["members"]]
        ck.check(evil in names, "member list returns the name as data, JSON-escaped")
        ck.check(b'&\\"\\\\' in r.body, "quote and backslash escaped in the JSON text")
        se = c.add_sensor(evil, "<b>s</b>")
        ck.eq((se["member"], se["name"]), (evil, "<b>s</b>"), "sensor under that member")

        # ------------------------------------------------------------ routing
        print("[routing]")
        # "/" is the web UI (or a page saying it is not installed): HTML, never the API
        r = c.req("GET", "/")
        ck.eq(r.status, 200, "GET / serves the web UI's page")
        ck.check(r.headers.get("content-type", "").startswith("text/html"), "GET / is HTML")
        for p in ["/api/v1", "/api/v1/nope", "/api/v2/ingest", "/api/v1/ingest/x",
                  "/api/v1/sensors/abc/revoke", "/api/v1/sensors/12345678901/revoke",
                  "/api/v1/sensors//revoke", "/../etc/passwd", "/api/v1/members/"]:
            r = c.req("GET", p)
            ck.eq(r.status, 404, "GET %s" % p)
        for m, p in [("GET", "/api/v1/ingest"), ("PUT", "/api/v1/ingest"),
                     ("DELETE", "/api/v1/members"), ("PUT", "/api/v1/stats"),
                     ("POST", "/api/v1/health"), ("GET", "/api/v1/sensors/1/revoke"),
                     ("PATCH", "/api/v1/sensors")]:
            r = c.req(m, p)
            ck.eq(r.status, 405, "%s %s" % (m, p))
        stats_are("after routing errors")

        # ------------------------------------------------------------ admin CLI
        print("[crosswatch admin]")
        tf = os.path.join(c.data_dir, "admin.token")
        base = [B, "admin", "--center", c.url, "--token-file", tf]

        def adm(*a, **kw):
            return cwtest.run(list(base) + list(a), **kw)

        p = adm("member", "add", "gamma")
        ck.eq(p.returncode, 0, "admin member add gamma: exit")
        ck.eq(json.loads(p.stdout).get("name"), "gamma", "admin member add prints the member")
        p = adm("member", "list")
        out = p.stdout.decode()
        ck.eq(p.returncode, 0, "admin member list: exit")
        ck.check(out.splitlines()[0].split()[:2] == ["id", "name"], "member list table header",
                 out[:200])
        rows = {ln.split()[1]: ln.split() for ln in out.splitlines()[1:] if ln.strip()}
        ck.check("gamma" in rows and "alpha" in rows, "member list table has rows for gamma, alpha")
        ck.eq(rows.get("alpha", [None] * 4)[3], str(ml["alpha"]["records"]),
              "table shows alpha's record count")
        p = adm("--json", "member", "list")
        ck.eq(p.returncode, 0, "admin --json member list: exit")
        js = json.loads(p.stdout)
        ck.eq(sorted(m["name"] for m in js["members"]),
              sorted(m["name"] for m in c.members()), "--json member list == API member list")
        ck.check({"alpha", "beta", "gamma", n100, evil} <= set(m["name"] for m in js["members"]),
                 "--json member list has every member added")
        p = adm("sensor", "add", "gamma", "gw1")
        ck.eq(p.returncode, 0, "admin sensor add: exit")
        sg = json.loads(p.stdout)
        ck.check(sg.get("key", "").startswith("cwk_"), "admin sensor add prints the key")
        ck.check(b"shown once" in p.stderr, "admin sensor add warns that the key is shown once")
        r = c.ingest(sg["key"], nd_body(1, "/cli-key"))
        ck.eq(r.status, 200, "the key printed by the CLI works")
        X.records += 1
        X.batches += 1
        p = adm("sensor", "list", "--member", "gamma")
        out = p.stdout.decode()
        ck.eq(p.returncode, 0, "admin sensor list --member gamma: exit")
        body_lines = [ln for ln in out.splitlines()[1:] if ln.strip()]
        ck.eq(len(body_lines), 1, "sensor list --member gamma: one row")
        ck.check(body_lines and "gw1" in body_lines[0] and "active" in body_lines[0],
                 "row shows gw1 active", out)
        p = adm("--json", "sensor", "list")
        ck.eq(len(json.loads(p.stdout)["sensors"]), len(c.sensors()), "--json sensor list count")
        p = adm("sensor", "revoke", str(sg["id"]))
        ck.eq(p.returncode, 0, "admin sensor revoke: exit")
        ck.eq(c.ingest(sg["key"], nd_body(1)).status, 401, "CLI-revoked key refused")
        p = adm("sensor", "list", "--member", "gamma")
        ck.check("REVOKED" in p.stdout.decode(), "table shows REVOKED")
        p = adm("stats")
        ck.eq(p.returncode, 0, "admin stats: exit")
        ck.eq(json.loads(p.stdout)["records"], X.records, "admin stats records")
        p = adm("records", "--batches", "10000")
        ck.eq(p.returncode, 0, "admin records: exit")
        ck.eq(len([ln for ln in p.stdout.splitlines() if ln.strip()]), X.records,
              "admin records prints every record")
        p = adm("member", "add", "gamma")
        ck.eq(p.returncode, 1, "admin member add duplicate: exit 1")
        ck.check(b"409" in p.stderr, "duplicate error shows the status", p.stderr.decode())
        p = adm("sensor", "add", "nosuch", "x")
        ck.eq(p.returncode, 1, "admin sensor add to unknown member: exit 1")
        ck.check(b"404" in p.stderr and b"nosuch" in p.stderr, "404 message names the member",
                 p.stderr.decode())
        p = adm("sensor", "revoke", "999999")
        ck.eq(p.returncode, 1, "admin sensor revoke unknown id: exit 1")
        for a in [[], ["member"], ["member", "frobnicate"], ["member", "add"],
                  ["member", "add", "a", "b"], ["sensor", "revoke", "abc"], ["frobnicate"],
                  ["--no-such-option", "stats"]]:
            p = adm(*a)
            ck.eq(p.returncode, 2, "admin %s: usage error exit 2" % " ".join(a))
            ck.check(p.stderr.strip() != b"", "  ... with a message on stderr")
        down = "http://127.0.0.1:%d" % cwtest.free_port()
        p = cwtest.run([B, "admin", "--center", down, "--token-file", tf, "member", "list"])
        ck.eq(p.returncode, 1, "admin with the center down: exit 1")
        ck.check(b"cannot reach the center" in p.stderr, "clear message when the center is down",
                 p.stderr.decode())
        p = cwtest.run([B, "admin", "--center", c.url, "--token", "cwa_wrong", "stats"])
        ck.eq(p.returncode, 1, "admin with a wrong token: exit 1")
        ck.check(b"401" in p.stderr, "wrong token: 401 shown", p.stderr.decode())
        p = cwtest.run([B, "admin", "--center", c.url, "--token-file",
                        env.path("no-such-file"), "stats"])
        ck.eq(p.returncode, 1, "admin with a missing token file: exit 1")
        ck.check(b"no admin token" in p.stderr, "missing token file explained",
                 p.stderr.decode())
        e = cwtest.env_for_children()
        e["CROSSWATCH_TOKEN"] = c.token
        p = cwtest.run([B, "admin", "--center", c.url, "stats"], env=e)
        ck.eq(p.returncode, 0, "admin with $CROSSWATCH_TOKEN: exit 0")

        print("[--help of every command]")
        for sub in [[], ["serve"], ["ship"], ["admin"], ["demo"]]:
            p = cwtest.run([B] + sub + ["--help"])
            ck.eq(p.returncode, 0, "crosswatch %s --help exit" % " ".join(sub))
            ck.check(len(p.stdout) > 40 and b"crosswatch" in p.stdout,
                     "  ... prints help on stdout")
        p = cwtest.run([B, "serve", "--no-such-option"])
        ck.eq(p.returncode, 2, "serve with an unknown option: exit 2")
        p = cwtest.run([B])
        ck.eq(p.returncode, 2, "crosswatch without a command: exit 2")
        p = cwtest.run([B, "frobnicate"])
        ck.eq(p.returncode, 2, "crosswatch frobnicate: exit 2")

        # ------------------------------------------------------------ stop, restart, persist
        print("[clean stop and restart]")
        stats_are("before stop")
        st_before = c.stats()
        rc = c.stop()
        ck.eq(rc, 0, "SIGTERM: the center exits 0 (no sanitizer/leak report)")
        c.start()
        ck.eq(c.stats(), st_before, "stats identical after restart")
        ck.eq(len(c.export_records()), X.records, "every record still exported after restart")
        ck.eq(c.ingest(kr, nd_body(1)).status, 401, "revocation survives the restart")
        ck.eq(c.ingest(ka, nd_body(6, "/idem"), headers={"Idempotency-Key": "batch-0001"}
                       ).json().get("duplicate"), True,
              "idempotency key remembered across restart")
        with open(c.log, "rb") as f:
            log = f.read()
        ck.check(ka.encode() not in log and c.token.encode() not in log,
                 "no key or token in the center's log")
        ck.eq(c.stop(), 0, "second SIGTERM stop: exit 0")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports in the center's log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
