#!/usr/bin/env python3
"""test_web_api.py - the watch floor's back end (docs/web.md) at a real center.

A center on loopback with a web folder (index.html + a hashed asset), two members (acme,
beta), a coordinator analyst and one member user each, signing in through
POST /api/v1/session as a browser would (cookies, X-CSRF-Token, Origin). Checks:
  - static files: index and assets served with the CSP / X-Frame-Options / Referrer-Policy
    headers, traversal and dot files 404; without a web folder a plain "not installed" page;
  - sessions: cookie flags (HttpOnly + SameSite=Strict + Path=/ on cw_session, cw_csrf
    readable, Secure only under TLS), /me by cookie, logout revokes the token and clears
    the cookies; CSRF: a cookie POST without / with a wrong token is 403, with the right
    one passes; a foreign Origin is 403 for cookie and bearer alike;
  - the per-address sign-in limiter: after 10 failed sign-ins the 11th answers 429 with
    Retry-After, even for a correct password (last, it blocks this address);
  - data ingested here (EVE alerts over two days, with HTML/script in every field):
    series (records, detections + noise, events; hour/day/month; JSON == CSV) and
    summaries against counts computed from what the test sent; member scoping of both;
  - hostile strings (record lines, notice title/text, answers) come back from the API as
    JSON text equal to what was sent, with nosniff + CSP on every answer;
  - the event queue (newest first, cursor paging, state=open, q, since/until) and the
    event page (paged detections, timeline summing to the event's detections); another
    member's event by URL is 404;
  - notices/stats per month and fiscal year (April-March), acknowledged counted;
  - attachments: sha256, download bytes and headers, 413 above 5 MiB, 400 for a bad name,
    404 for the other member (upload, list, download);
  - sensors' health: spool_bytes from a real `crosswatch ship` (X-Spool-Bytes), errors =
    rejected lines of the last hour, records_per_min, silent for a never-seen sensor;
  - live counters (SSE): first message at once, the next within 3 s, scoped (acme sees
    acme's records, beta beta's); API calls stay fast with streams open; live_max_streams
    answers 503 + Retry-After beyond the limit and frees slots when streams close.
"""
import base64
import collections
import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

PW = "correct horse battery staple"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'")
SIG = "ET EXPLOIT Ivanti Connect Secure Command Injection Attempt"
HOSTILE_HOST = 'vpn"><script>alert(1)</script>.acme.example'
HOSTILE_URL = "/<img src=x onerror=alert(2)>/'\"&amp;"
HOSTILE_TITLE = "<b>notice</b><script>alert('t')</script>"
HOSTILE_ANSWER = "</textarea><svg onload=alert(3)> 対応済み"


def alert(day, i, src, dst, host, url, status=200):
    return json.dumps({
        "timestamp": "2024-05-%02dT%02d:%02d:00.000000+0000" % (day, 10 + i % 3, i % 60),
        "flow_id": 9000 + day * 100 + i, "event_type": "alert", "src_ip": src,
        "src_port": 40000 + i, "dest_ip": dst, "dest_port": 443, "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2050100, "rev": 2,
                  "signature": SIG, "category": "Attempted Administrator Privilege Gain",
                  "severity": 1},
        "http": {"hostname": host, "url": url, "http_method": "GET", "status": status,
                 "http_user_agent": "<script>ua()</script>"}}, separators=(",", ":"))


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def h(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def hreq(port, method, path, body=None, headers=None, tls=False, timeout=60):
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        try:
            if body:
                conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = conn.getresponse()
        return Resp(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


class Browser:
    """A signed-in browser: the cookies the center set, the CSRF token, own Origin."""

    def __init__(self, port, tls=False):
        self.port, self.tls = port, tls
        self.cookies = {}
        self.csrf = None
        self.origin = "%s://127.0.0.1:%d" % ("https" if tls else "http", port)

    def login(self, name, password=PW):
        r = hreq(self.port, "POST", "/api/v1/session", json.dumps(
            {"name": name, "password": password}), {"Content-Type": "application/json",
                                                    "Origin": self.origin}, tls=self.tls)
        for sc in r.all("Set-Cookie"):
            k, v = sc.split(";")[0].split("=", 1)
            self.cookies[k.strip()] = v
        if r.status == 200:
            self.csrf = r.json()["csrf"]
        return r

    def req(self, method, path, body=None, csrf=True, origin=True, headers=None,
            content_type="application/json", timeout=60):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items() if kv[1])
        if csrf is True and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        elif isinstance(csrf, str):
            h["X-CSRF-Token"] = csrf
        if origin is True:
            h["Origin"] = self.origin
        elif isinstance(origin, str):
            h["Origin"] = origin
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if body is not None and content_type:
            h.setdefault("Content-Type", content_type)
        return hreq(self.port, method, path, body, h, tls=self.tls, timeout=timeout)

    def get(self, path):
        r = self.req("GET", path)
        if r.status != 200:
            raise AssertionError("GET %s -> %r" % (path, r))
        return r.json()


def cookie_attrs(set_cookie):
    parts = [p.strip() for p in set_cookie.split(";")]
    name, value = parts[0].split("=", 1)
    return name, value, {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else True)
                         for p in parts[1:]}


class LiveStream:
    """GET /api/v1/live on a raw socket; reads counters messages as they come."""

    def __init__(self, port, cookies=None, token=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        h = "GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port
        if cookies:
            h += "Cookie: %s\r\n" % "; ".join("%s=%s" % kv for kv in cookies.items() if kv[1])
        if token:
            h += "Authorization: Bearer %s\r\n" % token
        self.sock.sendall((h + "\r\n").encode())
        self.buf = b""
        self.status = None
        self.headers = ""

    def _fill(self, deadline):
        self.sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not d:
            raise EOFError("stream closed")
        self.buf += d
        return True

    def head(self, timeout=5):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf and time.monotonic() < deadline:
            self._fill(deadline)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = "\n".join(lines[1:]).lower()
        return self.status

    def message(self, timeout=5):
        """The next counters message (dict), or None on timeout. Chunked framing is
        skipped by looking for the SSE lines themselves."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.buf.decode("utf-8", "replace")
            i = text.find("event: counters\ndata: ")
            if i >= 0:
                j = text.find("\n\n", i)
                if j >= 0:
                    data = text[i + len("event: counters\ndata: "):j]
                    self.buf = text[j + 2:].encode()
                    return json.loads(data)
            self._fill(deadline)
        return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_web_api", keep=args.keep) as env:
        ck = env.c
        web = env.path("webroot")
        os.makedirs(os.path.join(web, "assets"))
        INDEX = b"<!doctype html><html><head><script type=module src=/assets/app-3f9a.js>" \
                b"</script></head><body></body></html>\n"
        with open(os.path.join(web, "index.html"), "wb") as f:
            f.write(INDEX)
        with open(os.path.join(web, "assets", "app-3f9a.js"), "wb") as f:
            f.write(b"export const x = 1;\n")
        with open(os.path.join(web, "assets", ".hidden.js"), "wb") as f:
            f.write(b"secret\n")
        conf = env.path("serve.conf")
        with open(conf, "w") as f:
            f.write("[serve]\nweb_dir = %s\nlive_max_streams = 4\nsensor_silent_after = 3s\n"
                    % web)
        c = env.center(args.binary, extra_args=["--config", conf, "--threads", "4"])
        P = c.port

        # ------------------------------------------------------------ static files
        print("[static files]")
        r = hreq(P, "GET", "/")
        ck.eq((r.status, r.body), (200, INDEX), "GET / is index.html")
        ck.eq(r.h("Content-Type"), "text/html; charset=utf-8", "index content type")
        for name, want in [("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"),
                           ("Referrer-Policy", "no-referrer"),
                           ("X-Content-Type-Options", "nosniff")]:
            ck.eq(r.h(name), want, "index: " + name)
        r = hreq(P, "GET", "/assets/app-3f9a.js")
        ck.eq((r.status, r.h("Content-Type"), r.body),
              (200, "text/javascript; charset=utf-8", b"export const x = 1;\n"), "asset")
        ck.check("immutable" in (r.h("Cache-Control") or ""), "hashed asset cached immutable")
        ck.eq(r.h("Content-Security-Policy"), CSP, "asset: CSP")
        for bad in ["/assets/.hidden.js", "/assets/../serve.conf", "/assets/%2e%2e/serve.conf",
                    "/assets//app-3f9a.js", "/serve.conf", "/etc/passwd", "/assets/",
                    "/assets/app-3f9a.js/..", "/index.html/../serve.conf"]:
            ck.eq(hreq(P, "GET", bad).status, 404, "GET %s" % bad)
        r = hreq(P, "GET", "/api/v1/health")
        ck.eq((r.status, r.h("Content-Security-Policy"), r.h("X-Frame-Options")),
              (200, CSP, "DENY"), "API answers carry the same headers")

        # ------------------------------------------------------------ setup
        print("[setup: members, sensors, people, data]")
        for m in ("acme", "beta"):
            c.add_member(m)
        sa, sb = c.add_sensor("acme", "acme-gw"), c.add_sensor("beta", "beta-gw")
        sq = c.add_sensor("acme", "acme-quiet")
        for u, role, m in [("floor-analyst", "coordinator_analyst", None),
                           ("acme-user", "member_user", "acme"),
                           ("beta-user", "member_user", "beta")]:
            body = {"name": u, "role": role, "password": PW}
            if m:
                body["member"] = m
            c.admin_json("POST", "/api/v1/users", body)
        # acme: day 1 x5 (one failed 404), day 2 x3; beta: day 2 x2
        acme_lines = [alert(1, i, "198.51.100.%d" % (10 + i), "10.1.1.10", HOSTILE_HOST,
                            HOSTILE_URL, status=404 if i == 4 else 200) for i in range(5)]
        acme_lines += [alert(2, i, "198.51.100.%d" % (30 + i), "10.1.1.10", HOSTILE_HOST,
                             HOSTILE_URL) for i in range(3)]
        beta_lines = [alert(2, i, "203.0.113.%d" % (70 + i), "172.16.9.9", "vpn.beta.example",
                            "/x") for i in range(2)]
        r = c.ingest(sa["key"], "".join(ln + "\n" for ln in acme_lines), "eve",
                     headers={"X-Spool-Bytes": "12345"})
        ck.require(r.status == 200 and r.json()["accepted"] == 8, "acme ingests 8 alerts", repr(r))
        r = c.ingest(sb["key"], "".join(ln + "\n" for ln in beta_lines) + "{bad\nnot json\n",
                     "eve")
        ck.require(r.status == 200 and r.json()["accepted"] == 2 and
                   r.json()["rejected_count"] == 2, "beta ingests 2 alerts, 2 bad lines", repr(r))
        per_day = {"acme": collections.Counter({"2024-05-01": 5, "2024-05-02": 3}),
                   "beta": collections.Counter({"2024-05-02": 2})}

        # ------------------------------------------------------------ sessions
        print("[sessions: cookies, CSRF, Origin]")
        coord = Browser(P)
        r = coord.login("floor-analyst")
        ck.require(r.status == 200, "coordinator signs in", repr(r))
        j = r.json()
        ck.eq((j["name"], j["role"], j["member_id"], j["member"]),
              ("floor-analyst", "coordinator_analyst", 0, None), "session answer")
        cookies = {cookie_attrs(sc)[0]: cookie_attrs(sc) for sc in r.all("Set-Cookie")}
        ck.eq(sorted(cookies), ["cw_csrf", "cw_session"], "two cookies set")
        _, sval, sat = cookies["cw_session"]
        _, cval, cat = cookies["cw_csrf"]
        ck.check(sval.startswith("cwu_"), "the session cookie holds a person's token")
        ck.eq((sat.get("httponly"), sat.get("samesite"), sat.get("path"), "secure" in sat),
              (True, "Strict", "/", False), "cw_session: HttpOnly, SameSite=Strict, Path=/, "
              "no Secure over plain HTTP")
        ck.eq(("httponly" in cat, cat.get("samesite"), cval), (False, "Strict", j["csrf"]),
              "cw_csrf: readable by JS, SameSite=Strict, equals the answer's csrf")
        ck.eq(coord.get("/api/v1/me")["name"], "floor-analyst", "/me by cookie")
        r = Browser(P).login("floor-analyst", "wrong password!!")
        ck.eq((r.status, r.all("Set-Cookie")), (401, []), "wrong password: 401, no cookie")
        acme = Browser(P)
        ck.require(acme.login("acme-user").status == 200, "acme user signs in")
        beta = Browser(P)
        ck.require(beta.login("beta-user").status == 200, "beta user signs in")
        ck.eq(acme.login("acme-user").json()["member"], "acme", "member name in the answer")

        ev_acme = coord.get("/api/v1/events?member=acme")["events"]
        ev_beta = coord.get("/api/v1/events?member=beta")["events"]
        ck.require(ev_acme and ev_beta, "events for both members")
        e1 = ev_acme[0]["id"]
        body = {"state": "investigating", "reason": "triage from the floor"}
        r = coord.req("POST", "/api/v1/events/%d/state" % e1, body, csrf=False)
        ck.eq((r.status, r.json().get("error")), (403, "missing or wrong CSRF token"),
              "cookie POST without X-CSRF-Token")
        r = coord.req("POST", "/api/v1/events/%d/state" % e1, body, csrf="A" * 43)
        ck.eq(r.status, 403, "cookie POST with a wrong X-CSRF-Token")
        r = coord.req("POST", "/api/v1/events/%d/state" % e1, body, csrf=acme.csrf)
        ck.eq(r.status, 403, "cookie POST with another session's X-CSRF-Token")
        r = coord.req("POST", "/api/v1/events/%d/state" % e1, body,
                      origin="http://evil.example")
        ck.eq((r.status, r.json().get("error")), (403, "cross-origin request refused"),
              "cookie POST from a foreign Origin")
        r = coord.req("POST", "/api/v1/events/%d/state" % e1, body, origin="null")
        ck.eq(r.status, 403, "Origin: null")
        r = c.req("GET", "/api/v1/stats", headers={"Origin": "http://evil.example"})
        ck.eq(r.status, 403, "bearer request from a foreign Origin")
        r = coord.req("POST", "/api/v1/events/%d/state" % e1, body)
        ck.eq((r.status, r.json().get("state")), (200, "investigating"),
              "cookie POST with the right token and Origin changes the state")
        r = c.req("POST", "/api/v1/events/%d/assign" % e1, json.dumps({"assignee": "floor-analyst"}),
                  {"Content-Type": "application/json"})
        ck.eq(r.status, 200, "bearer POST needs no CSRF token")
        r = hreq(P, "GET", "/api/v1/me", headers={"Cookie": "cw_session=cwa_0123456789abcdef_x"})
        ck.eq(r.status, 401, "a cookie holding a non-person credential is refused")

        # ------------------------------------------------------------ hostile strings
        print("[hostile strings come back as JSON text]")
        ev = acme.req("GET", "/api/v1/events/%d" % e1)
        ck.eq((ev.status, ev.h("Content-Type"), ev.h("Content-Security-Policy"),
               ev.h("X-Content-Type-Options")), (200, "application/json", CSP, "nosniff"),
              "event page: JSON with CSP and nosniff")
        evj = ev.json()
        raws = [s["record"].get("raw", "") for s in evj["samples"]]
        ck.check(raws and all(json.loads(x)["http"]["hostname"] == HOSTILE_HOST and
                              "<script>ua()</script>" in x for x in raws),
                 "sample records keep the raw line with its HTML as text", repr(raws[:1]))
        ck.check(any(json.loads(x)["http"]["url"] == HOSTILE_URL for x in raws),
                 "raw line round-trips exactly")
        ck.check(all(s["record"].get("http.host") in (HOSTILE_HOST, None) for s in evj["samples"]),
                 "parsed host field equals the hostile string", repr(evj["samples"][0]["record"]))

        # ------------------------------------------------------------ event queue and page
        print("[event queue and event page]")
        allev = coord.get("/api/v1/events?limit=1000")["events"]
        ids = sorted(e["id"] for e in allev)
        page = coord.get("/api/v1/events?order=newest&limit=2")
        ck.eq([e["id"] for e in page["events"]], ids[::-1][:2], "newest first")
        seen, after, pages = [], None, 0
        while pages < 50:
            q = "/api/v1/events?order=newest&limit=2" + ("&after=%d" % after if after else "")
            pg = coord.get(q)
            seen += [e["id"] for e in pg["events"]]
            pages += 1
            if pg["next"] is None:
                break
            after = pg["next"]
        ck.eq(seen, ids[::-1], "cursor paging newest first visits every event once")
        ck.eq(sorted(e["id"] for e in coord.get("/api/v1/events?state=open&limit=1000")["events"]),
              sorted(e["id"] for e in allev if e["state"] in ("new", "investigating", "notified")),
              "state=open")
        src = ev_beta[0]["sources"][0]
        ck.eq([e["id"] for e in coord.get("/api/v1/events?q=%s" % src)["events"]],
              [e["id"] for e in allev if src in e["sources"]], "q finds an event by source")
        ck.eq(coord.get("/api/v1/events?q=%d" % e1)["events"][0]["id"], e1, "q finds by id")
        ck.eq(coord.get("/api/v1/events?since=2030-01-01T00:00:00Z")["events"], [],
              "since after everything: none")
        ck.eq(len(coord.get("/api/v1/events?until=2024-05-01T00:00:00Z")["events"]), 0,
              "until before everything: none")
        ck.eq(acme.get("/api/v1/events?attack_class=edge_exploit&limit=1000")["events"],
              acme.get("/api/v1/events?class=edge_exploit&limit=1000")["events"],
              "attack_class= is class=")
        ck.eq(acme.req("GET", "/api/v1/events?order=sideways").status, 400, "bad order: 400")
        dets = coord.get("/api/v1/detections?event=%d&limit=1000" % e1)["detections"]
        p1 = coord.get("/api/v1/events/%d?det_limit=1" % e1)["detections"]
        ck.eq(len(p1["items"]), 1, "det_limit=1: one detection")
        ck.check(len(dets) < 2 or p1["next"] == p1["items"][0]["id"], "next cursor", repr(p1))
        allp = coord.get("/api/v1/events/%d?det_limit=1000" % e1)
        ck.eq(sorted(d["id"] for d in allp["detections"]["items"]), sorted(d["id"] for d in dets),
              "event page detections = the event's detections")
        ck.eq(sum(t["count"] for t in allp["timeline"]), len(dets), "timeline sums to them")
        ck.eq(beta.req("GET", "/api/v1/events/%d" % e1).status, 404,
              "beta cannot open acme's event by URL")
        ck.eq(acme.req("GET", "/api/v1/events/%d" % ev_beta[0]["id"]).status, 404,
              "acme cannot open beta's event by URL")

        # ------------------------------------------------------------ series and summary
        print("[series and summary against what was ingested]")
        RANGE = "&from=2024-04-30T00:00:00Z&to=2024-05-04T00:00:00Z"

        def points(b, q):
            return {(p["t"][:10], p.get("reason")): p["value"] for p in
                    b.get("/api/v1/series?" + q + RANGE)["points"]}

        want_all = per_day["acme"] + per_day["beta"]
        got = points(coord, "metric=records&bucket=day")
        ck.eq({k[0]: v for k, v in got.items()}, dict(want_all), "records per day (all)")
        got = points(acme, "metric=records&bucket=day")
        ck.eq({k[0]: v for k, v in got.items()}, dict(per_day["acme"]), "records per day (acme)")
        got = points(beta, "metric=records&bucket=day&member=beta")
        ck.eq({k[0]: v for k, v in got.items()}, dict(per_day["beta"]), "records per day (beta)")
        ck.eq(acme.req("GET", "/api/v1/series?metric=records&member=beta" + RANGE).status, 404,
              "acme asking for beta's series: 404")
        kept = points(coord, "metric=detections&bucket=day")
        noise = points(coord, "metric=noise&bucket=day")
        tot = collections.Counter()
        for (d, _), v in list(kept.items()) + list(noise.items()):
            tot[d] += v
        ck.eq(dict(tot), dict(want_all), "detections + noise per day = alerts per day")
        ck.check(all(k[1] for k in noise), "noise points carry a reason", repr(noise))
        ck.eq(sum(noise.values()), sum(coord.get("/api/v1/noise")["totals"][r] for r in
                                       ("suppressed", "blocked", "failed", "not_applicable",
                                        "recon")),
              "noise series total = /noise totals")
        hours = coord.get("/api/v1/series?metric=records&bucket=hour" + RANGE)["points"]
        ck.eq(sum(p["value"] for p in hours), sum(want_all.values()), "hourly records sum")
        ck.check(all(p["t"].endswith(":00:00Z") or ":00:00." in p["t"] for p in hours),
                 "hour buckets start on the hour", repr(hours[:2]))
        months = coord.get("/api/v1/series?metric=records&bucket=month"
                           "&from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z")["points"]
        ck.eq([(p["t"][:10], p["value"]) for p in months], [("2024-05-01", 10)], "month bucket")
        evs = coord.get("/api/v1/series?metric=events&bucket=day" + RANGE)["points"]
        ck.eq(sum(p["value"] for p in evs), len(allev), "events series counts every event")
        r = coord.req("GET", "/api/v1/series?metric=records&bucket=day&format=csv" + RANGE)
        ck.eq(r.h("Content-Type"), "text/csv; charset=utf-8", "CSV content type")
        rows = r.text().strip().split("\n")
        ck.eq(rows[0], "t,value", "CSV header")
        js = coord.get("/api/v1/series?metric=records&bucket=day" + RANGE)["points"]
        ck.eq([ln.split(",") for ln in rows[1:]], [[p["t"], str(p["value"])] for p in js],
              "CSV rows = JSON points")
        for bad in ["metric=nope", "metric=records&bucket=week", "metric=records&from=yesterday",
                    "metric=records&bucket=hour&from=2000-01-01T00:00:00Z",
                    "metric=records&format=xml"]:
            ck.eq(coord.req("GET", "/api/v1/series?" + bad).status, 400, "series?%s" % bad)

        def summary(b, group, extra=""):
            return {x["key"]: x["count"] for x in
                    b.get("/api/v1/summary?group=%s%s" % (group, extra))["rows"]}
        ck.eq(summary(coord, "attack_class"),
              dict(collections.Counter(e["attack_class"] for e in allev)), "summary by class")
        ck.eq(summary(coord, "severity"),
              dict(collections.Counter(str(e["severity"]) for e in allev)), "summary by severity")
        ck.eq(summary(coord, "state"), dict(collections.Counter(e["state"] for e in allev)),
              "summary by state")
        ck.eq(summary(coord, "member"), {"1": len(ev_acme), "2": len(ev_beta)},
              "summary by member")
        ck.eq(summary(acme, "member"), {"1": len(ev_acme)}, "acme's summary by member: acme only")
        ck.eq(sum(summary(coord, "noise_reason").values()), sum(noise.values()),
              "summary by noise reason = noise series total")
        r = coord.req("GET", "/api/v1/summary?group=attack_class&format=csv")
        lines = r.text().strip().split("\n")
        ck.eq(lines[0], "key,label,count", "summary CSV header")
        ck.eq(sum(int(ln.rsplit(",", 1)[1]) for ln in lines[1:]), len(allev), "summary CSV sum")
        ck.eq(coord.req("GET", "/api/v1/summary?group=colour").status, 400, "bad group: 400")

        # ------------------------------------------------------------ notices
        print("[notices: hostile texts, acknowledge, answer, stats]")
        r = coord.req("POST", "/api/v1/notices", {
            "member": "acme", "events": [e1], "title": HOSTILE_TITLE, "what": HOSTILE_URL,
            "why": "<i>why</i>", "action": "patch & check", "answer_by": "2099-01-01T00:00:00Z"})
        ck.require(r.status == 201, "coordinator sends a notice by cookie session", repr(r))
        nid = r.json()["id"]
        n = acme.get("/api/v1/notices/%d" % nid)
        ck.eq((n["title"], n["what"]), (HOSTILE_TITLE, HOSTILE_URL),
              "the member reads the notice's HTML as text")
        ck.eq(acme.req("POST", "/api/v1/notices/%d/ack" % nid, {}).status, 200,
              "the member acknowledges")
        ck.eq(acme.req("POST", "/api/v1/notices/%d/answer" % nid, {"text": HOSTILE_ANSWER}).status,
              200, "the member answers")
        n = coord.get("/api/v1/notices/%d" % nid)
        ck.check(any(a.get("text") == HOSTILE_ANSWER for a in n.get("answers", [])),
                 "the answer comes back as the same text", repr(n.get("answers")))
        ck.eq(beta.req("GET", "/api/v1/notices/%d" % nid).status, 404, "beta: acme's notice 404")
        now = time.gmtime()
        month = "%04d-%02d" % (now.tm_year, now.tm_mon)
        fy = now.tm_year if now.tm_mon >= 4 else now.tm_year - 1
        st = acme.get("/api/v1/notices/stats")
        ck.eq(st, {"months": [{"month": month, "sent": 1, "acknowledged": 1}],
                   "fiscal_years": [{"fy": fy, "sent": 1, "acknowledged": 1}]},
              "notice stats: this month and fiscal year (April-March)")
        ck.eq(beta.get("/api/v1/notices/stats"), {"months": [], "fiscal_years": []},
              "beta's notice stats are empty")
        r = coord.req("GET", "/api/v1/notices/stats?format=csv")
        ck.eq(r.text(), "month,sent,acknowledged\n%s,1,1\n\nfiscal_year,sent,acknowledged\n"
                        "%d,1,1\n" % (month, fy), "notice stats CSV")

        # ------------------------------------------------------------ attachments
        print("[attachments]")
        data = os.urandom(3000) + "<script>x</script>".encode()
        r = acme.req("POST", "/api/v1/notices/%d/attachments?name=%s" %
                     (nid, "evidence%20%E8%A8%BC%E6%8B%A0.pcap"), data,
                     content_type="application/octet-stream")
        ck.require(r.status == 201, "acme attaches a file to its notice", repr(r))
        att = r.json()
        ck.eq((att["size"], att["sha256"], att["name"]),
              (len(data), hashlib.sha256(data).hexdigest(), "evidence 証拠.pcap"),
              "attachment size, sha256, name")
        lst = coord.get("/api/v1/notices/%d/attachments" % nid)["attachments"]
        ck.eq([a["id"] for a in lst], [att["id"]], "the coordinator lists it")
        r = coord.req("GET", "/api/v1/attachments/%d" % att["id"])
        ck.eq((r.status, r.body, r.h("Content-Type")), (200, data, "application/octet-stream"),
              "download: the same bytes as octet-stream")
        cd = r.h("Content-Disposition") or ""
        ck.check(cd.startswith("attachment;") and "filename*=UTF-8''evidence%20%E8%A8%BC" in cd,
                 "Content-Disposition: attachment with the UTF-8 name", cd)
        ck.eq(beta.req("GET", "/api/v1/attachments/%d" % att["id"]).status, 404,
              "beta cannot download acme's attachment")
        ck.eq(beta.req("GET", "/api/v1/notices/%d/attachments" % nid).status, 404,
              "beta cannot list acme's attachments")
        ck.eq(beta.req("POST", "/api/v1/notices/%d/attachments?name=x.txt" % nid, b"x",
                       content_type="application/octet-stream").status, 404,
              "beta cannot attach to acme's notice")
        big = b"\0" * (5 * 1024 * 1024 + 1)
        ck.eq(acme.req("POST", "/api/v1/notices/%d/attachments?name=big.bin" % nid, big,
                       content_type="application/octet-stream").status, 413, "5 MiB + 1: 413")
        for bad in ["../x", "a%2Fb", "", "a%0Ab"]:
            ck.eq(acme.req("POST", "/api/v1/notices/%d/attachments?name=%s" % (nid, bad), b"x",
                           content_type="application/octet-stream").status, 400,
                  "attachment name %r: 400" % bad)
        ck.eq(acme.req("POST", "/api/v1/notices/%d/attachments?name=x.txt" % nid, b"x",
                       csrf=False, content_type="application/octet-stream").status, 403,
              "upload without CSRF token: 403")

        # ------------------------------------------------------------ sensors' health
        print("[sensors' health, spool bytes from a real ship]")
        logf = env.path("access.log")
        with open(logf, "w") as f:
            for i in range(6):
                f.write('203.0.113.9 - - [01/May/2024:12:00:%02d +0000] "GET /i%d HTTP/1.1" '
                        '200 10 "-" "curl"\n' % (i, i))
        keyf = env.path("acme.key")
        with open(keyf, "w") as f:
            f.write(sa["key"] + "\n")
        os.chmod(keyf, 0o600)
        r = cwtest.run([args.binary, "ship", "--center", c.url, "--key-file", keyf,
                        "--state-dir", env.path("ship-state"), "--file", "combined:" + logf,
                        "--once"], timeout=120)
        ck.require(r.returncode == 0, "ship --once sends the file", r.stderr[-800:])
        sens = {s["name"]: s for s in c.sensors()}
        a, b, q = sens["acme-gw"], sens["beta-gw"], sens["acme-quiet"]
        ck.check(isinstance(a["spool_bytes"], int) and a["spool_bytes"] > 0,
                 "acme's spool_bytes reported by ship (X-Spool-Bytes)", repr(a))
        ck.eq(b["spool_bytes"], None, "beta never reported a spool size")
        ck.eq((a["errors"], b["errors"]), (0, 2), "errors: rejected lines of the last hour")
        ck.eq((a["records_per_min"], b["records_per_min"]), ((8 + 6) // 10, 2 // 10),
              "records_per_min over the last 10 minutes")
        ck.eq((a["silent"], q["silent"]), (False, True),
              "silent: a sensor that just sent is not, one never seen is")
        r = acme.req("GET", "/api/v1/sensors")
        ck.eq(r.status, 200, "a member's people see their sensors' health")
        ck.eq(sorted(x["name"] for x in r.json()["sensors"]), ["acme-gw", "acme-quiet"],
              "... only their own member's sensors")

        # ------------------------------------------------------------ live counters
        print("[live counters (SSE)]")
        acme_recs = sum(s["records"] for s in c.sensors("acme"))
        beta_recs = sum(s["records"] for s in c.sensors("beta"))
        t0 = time.monotonic()
        la = LiveStream(P, cookies=acme.cookies)
        ck.eq(la.head(), 200, "acme's live stream opens")
        ck.check("text/event-stream" in la.headers, "event-stream content type", la.headers)
        m1 = la.message(timeout=3)
        ck.check(m1 is not None and time.monotonic() - t0 < 2.5, "first message at once")
        m1 = m1 or {}
        ck.eq(m1.get("records_in"), acme_recs, "acme's records_in is acme's")
        open_acme = [e for e in acme.get("/api/v1/events?state=open&limit=1000")["events"]]
        ck.eq(sum(m1.get("open_events", {}).values()), len(open_acme), "acme's open events")
        ck.eq(m1.get("sensors_silent"), 1, "acme's silent sensors (acme-quiet)")
        ck.eq(sorted(m1.get("noise_dropped", {})),
              sorted(["suppressed", "blocked", "failed", "not_applicable", "recon"]),
              "noise_dropped by reason")
        lb = LiveStream(P, cookies=beta.cookies)
        lb.head()
        mb = lb.message(timeout=3) or {}
        ck.eq(mb.get("records_in"), beta_recs, "beta's records_in is beta's")
        lc = LiveStream(P, cookies=coord.cookies)
        lc.head()
        mc = lc.message(timeout=3) or {}
        ck.eq(mc.get("records_in"), acme_recs + beta_recs, "the coordinator sees every member")
        ck.eq(mc.get("notices_overdue"), 0, "no notice overdue")
        t1 = time.monotonic()
        m2 = la.message(timeout=4)
        ck.check(m2 is not None and time.monotonic() - t1 < 3.5, "the next message within 3 s")
        # three streams open: API calls are still served at once
        lat = []
        for i in range(20):
            ts = time.monotonic()
            r = coord.req("GET", "/api/v1/events?order=newest&limit=50")
            lat.append(time.monotonic() - ts)
            ck.require(r.status == 200, "API call with streams open")
        ck.check(max(lat) < 2.0, "API calls with 3 live streams open: max %.0f ms" %
                 (max(lat) * 1000))
        ld = LiveStream(P, token=c.token)
        ck.eq(ld.head(), 200, "4th stream (live_max_streams = 4) opens")
        le = LiveStream(P, token=c.token)
        ck.eq(le.head(), 503, "5th stream: 503")
        ck.check("retry-after: 5" in le.headers, "503 with Retry-After", le.headers)
        le.close()
        for s in (la, lb, lc, ld):
            s.close()
        ok = False
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not ok:
            lf = LiveStream(P, token=c.token)
            ok = lf.head() == 200
            lf.close()
            time.sleep(0.3)
        ck.check(ok, "closed streams free their slots")
        r = coord.req("GET", "/api/v1/live?once=1")
        ck.check(r.status == 200 and r.text().count("event: counters") == 1,
                 "?once=1: one message, then the stream ends", repr(r))

        def live_time(b):
            t = b.req("GET", "/api/v1/live?once=1").text()
            return json.loads(t.split("data: ", 1)[1].split("\n", 1)[0])["time"]
        # a first message built for the same scope in the last 2 s is reused (many
        # dashboards opening at once cost one query per scope); an older one is not
        time.sleep(2.2)
        t1 = live_time(coord)
        t2 = live_time(coord)
        ck.eq(t2, t1, "a second first message within 2 s is the same message")
        time.sleep(2.2)
        ck.check(live_time(coord) > t1, "after 2 s a new message is built")

        # ------------------------------------------------------------ logout
        print("[logout]")
        old = dict(acme.cookies)
        r = acme.req("POST", "/api/v1/session/logout", {})
        ck.eq(r.status, 200, "logout")
        ck.check(all("Max-Age=0" in sc for sc in r.all("Set-Cookie")) and
                 len(r.all("Set-Cookie")) == 2, "logout clears both cookies", repr(r.all("Set-Cookie")))
        acme.cookies = old
        ck.eq(acme.req("GET", "/api/v1/me").status, 401, "the old session cookie no longer works")

        # ------------------------------------------------------------ TLS: Secure cookies
        print("[TLS: Secure cookies, https Origin]")
        cert, key = env.path("cert.pem"), env.path("key.pem")
        g = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                            key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        ck.require(g.returncode == 0, "openssl makes a test certificate")
        empty = env.path("empty-web")
        os.makedirs(empty)
        tconf = env.path("tls.conf")
        with open(tconf, "w") as f:
            f.write("[serve]\nweb_dir = %s\n" % empty)
        tc = cwtest.Center(args.binary, env.dir, "tls-center",
                           ["--config", tconf, "--tls-cert", cert, "--tls-key", key])
        env.centers.append(tc)
        os.makedirs(tc.data_dir, exist_ok=True)
        tc.proc = cwtest.spawn([args.binary, "serve", "--listen", "127.0.0.1:%d" % tc.port,
                                "--data-dir", tc.data_dir] + tc.extra_args, tc.log,
                               env=cwtest.env_for_children())
        deadline = time.monotonic() + 60
        while True:
            try:
                if hreq(tc.port, "GET", "/api/v1/health", tls=True, timeout=5).status == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            ck.require(time.monotonic() < deadline and tc.proc.poll() is None,
                       "TLS center starts", cwtest.tail(tc.log))
            time.sleep(0.2)
        with open(os.path.join(tc.data_dir, "admin.token")) as f:
            ttok = f.read().strip()
        r = hreq(tc.port, "POST", "/api/v1/users", json.dumps(
            {"name": "tls-analyst", "role": "coordinator_analyst", "password": PW}),
            {"Authorization": "Bearer " + ttok, "Content-Type": "application/json"}, tls=True)
        ck.require(r.status == 201, "TLS center: a user", repr(r))
        tb = Browser(tc.port, tls=True)
        r = tb.login("tls-analyst")
        ck.require(r.status == 200, "sign in over TLS", repr(r))
        ck.check(all("secure" in cookie_attrs(sc)[2] for sc in r.all("Set-Cookie")),
                 "both cookies are Secure under TLS", repr(r.all("Set-Cookie")))
        ck.eq(tb.get("/api/v1/me")["name"], "tls-analyst", "cookie works over TLS")
        r = tb.req("POST", "/api/v1/session/logout", {},
                   origin="http://127.0.0.1:%d" % tc.port)
        ck.eq(r.status, 403, "http:// Origin at an https center is foreign")
        r = hreq(tc.port, "GET", "/", tls=True)
        ck.check(r.status == 200 and b"not installed" in r.body and
                 r.h("Content-Security-Policy") == CSP,
                 "no web folder: a plain page says the UI is not installed", repr(r))
        tc.stop()

        # ------------------------------------------------------------ sign-in limiter (last)
        print("[per-address sign-in limiter]")
        # one failed sign-in happened above; one token comes back every 6 s
        t_lim = time.monotonic()
        codes = []

        def token_login(name, password):  # the older POST /api/v1/login (bearer token)
            return hreq(P, "POST", "/api/v1/login", json.dumps({"name": name, "password": password}),
                        {"Content-Type": "application/json"})
        # failures at /api/v1/session and /api/v1/login alternately: one limiter for both
        while len(codes) < 20 and (not codes or codes[-1] == 401):
            r = (Browser(P).login if len(codes) % 2 else token_login)(
                "nobody-%d" % len(codes), "wrong password!!")
            codes.append(r.status)
        n401 = codes.count(401)
        ck.check(9 <= n401 <= 11 + int((time.monotonic() - t_lim) / 6) and codes[-1] == 429,
                 "about 10 failed sign-ins from one address over both routes, then 429",
                 repr(codes))
        rt = token_login("floor-analyst", PW)
        ck.check(rt.status == 429 and (rt.h("Retry-After") or "").isdigit(),
                 "POST /api/v1/login from this address waits too (Retry-After)", repr(rt))
        ra = r.h("Retry-After")
        ck.check(ra is not None and ra.isdigit() and 1 <= int(ra) <= 60, "Retry-After", repr(ra))
        ck.check("try again" in r.json().get("error", ""), "the message says when to retry",
                 repr(r))
        ck.eq(Browser(P).login("floor-analyst").status, 429,
              "a correct password from this address waits too")
        ck.eq(c.req("GET", "/api/v1/stats").status, 200, "bearer API calls are not limited")

        c.stop()
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports in the center logs")


if __name__ == "__main__":
    main()
