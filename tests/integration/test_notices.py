#!/usr/bin/env python3
"""test_notices.py - notices (通報) against a real `crosswatch serve` on loopback.

Two members (acme, beta) with sensors and users; events made by ingesting Suricata EVE
alert lines (Ivanti -> edge_exploit, "ET MALWARE" -> malware_c2). Webhook receivers run
in this process on 127.0.0.1: they verify X-Crosswatch-Signature (HMAC-SHA256 of the
body with their secret), can fail the first N deliveries with 500, and record every
request. Checked, with exact values:
  - webhook settings: who may set them (member admin of that member, coordinator
    admin), hostile bodies refused, the secret never returned or logged;
  - hostile notice bodies: 4xx with a reason, nothing created, no event changed
    (including a notice naming one good and one refused event);
  - a notice from a template: events move investigating -> notified with history;
  - inbox and isolation: the member's users see, acknowledge and answer it; another
    member's users get 404 for it (show, ack, answer, deliveries); coordinators may
    not acknowledge; states sent -> acknowledged -> answered -> closed, others 409;
  - webhook: exactly one accepted, verified delivery after two 500s, delivery log of
    3 attempts; a receiver with another secret detects a bad signature;
  - overdue listing (answer_by in the past), scoped and for the coordinator;
  - outbox: the center killed (SIGKILL) with a pending delivery delivers it after the
    restart; notices, answers and history survive;
  - a clean SIGTERM stop while a delivery is backing off; no sanitizer reports.
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

PASSWORD = "correct horse battery staple"
GOOD_SECRET = "acme-webhook-secret-0123456789"
BETA_SECRET = "beta-webhook-secret-abcdefghij"
WRONG_SECRET = "not-the-secret-the-center-has!"


class Receiver:
    """A webhook receiver: verifies signatures, fails on demand, records requests."""

    def __init__(self, secret):
        self.secret = secret.encode()
        self.fail_first = 0
        self.fail_all = False
        self.failed = 0
        self.reqs = []
        self.lock = threading.Lock()
        rec = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                sig = self.headers.get("X-Crosswatch-Signature", "")
                want = "sha256=" + hmac.new(rec.secret, body, hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(sig, want)
                with rec.lock:
                    if not valid:
                        code = 401
                    elif rec.fail_all or rec.failed < rec.fail_first:
                        rec.failed += 1
                        code = 500
                    else:
                        code = 200
                    rec.reqs.append({"path": self.path, "body": body, "sig": sig,
                                     "valid": valid, "code": code,
                                     "delivery": self.headers.get("X-Crosswatch-Delivery"),
                                     "timestamp": self.headers.get("X-Crosswatch-Timestamp"),
                                     "type": self.headers.get("Content-Type")})
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.srv.server_address[1]

    def requests(self, delivery=None):
        with self.lock:
            return [r for r in self.reqs if delivery is None or r["delivery"] == str(delivery)]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def alert(i, src, dst, sig, sid, category, status=200):
    return json.dumps({
        "timestamp": "2024-05-01T12:%02d:%02d.000000+0000" % (i // 60 % 60, i % 60),
        "flow_id": 5000 + i, "event_type": "alert", "src_ip": src, "src_port": 40000 + i,
        "dest_ip": dst, "dest_port": 443, "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                  "signature": sig, "category": category, "severity": 1},
        "app_proto": "http",
        "http": {"hostname": "vpn.example.jp", "url": "/api/v1/totp/user-backup-code/;id",
                 "http_method": "GET", "status": status, "length": 10}},
        separators=(",", ":"))


IVANTI = ("ET EXPLOIT Ivanti Connect Secure Command Injection Attempt (CVE-2024-21887)",
          2049103, "Attempted Administrator Privilege Gain")
MALWARE = ("ET MALWARE Cobalt Strike Beacon Observed", 2030001, "A Network Trojan was detected")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main():
    args = cwtest.parse_args()
    B = args.binary
    good = Receiver(GOOD_SECRET)
    wrong = Receiver(WRONG_SECRET)  # the center signs beta's deliveries with BETA_SECRET
    with cwtest.TestEnv("test_notices", keep=args.keep) as env:
        # the test receivers listen on loopback, which the SSRF guard refuses by default
        c = env.center(B, extra_args=["--threads", "4", "--webhook-allow-private"])
        ck = env.c

        def call(method, path, body=None, token="admin"):
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            h = {"Content-Type": "application/json"} if body is not None else None
            r = c.req(method, path, body, h, token=token)
            try:
                return r.status, r.json()
            except ValueError:
                return r.status, r.text()

        def err_of(got):
            return got[1].get("error", "") if isinstance(got[1], dict) else ""

        # ------------------------------------------------------------ setup
        print("[setup: members, sensors, users, events]")
        c.add_member("acme")
        c.add_member("beta")
        ka = c.add_sensor("acme", "ids1")["key"]
        kb = c.add_sensor("beta", "ids1")["key"]
        users = {"analyst1": ("coordinator_analyst", None), "acme_admin": ("member_admin", "acme"),
                 "acme_user": ("member_user", "acme"), "beta_admin": ("member_admin", "beta"),
                 "beta_user": ("member_user", "beta")}
        tok = {"admin": "admin"}
        for name, (role, member) in users.items():
            body = {"name": name, "role": role, "password": PASSWORD}
            if member:
                body["member"] = member
            c.admin_json("POST", "/api/v1/users", body)
            st, j = call("POST", "/api/v1/login", {"name": name, "password": PASSWORD}, token=None)
            ck.require(st == 200, "login %s" % name, repr(j))
            tok[name] = j["token"]

        acme_lines = [alert(i, "203.0.113.77", "10.1.0.10", *IVANTI) for i in range(3)]
        acme_lines += [alert(10 + i, "10.1.2.5", "198.51.100.9", *MALWARE) for i in range(2)]
        r = c.ingest(ka, "\n".join(acme_lines) + "\n", "eve")
        ck.require(r.status == 200 and r.json()["accepted"] == 5, "ingest acme alerts", repr(r))
        r = c.ingest(kb, alert(20, "203.0.113.88", "10.2.0.10", *IVANTI) + "\n", "eve")
        ck.require(r.status == 200 and r.json()["accepted"] == 1, "ingest beta alert", repr(r))
        st, ev = call("GET", "/api/v1/events?member=acme")
        by_class = {e["attack_class"]: e for e in ev["events"]}
        ck.eq(sorted(by_class), ["edge_exploit", "malware_c2"], "acme event classes")
        edge = by_class["edge_exploit"]["id"]
        mal = by_class["malware_c2"]["id"]
        st, ev = call("GET", "/api/v1/events?member=beta")
        ck.eq([e["attack_class"] for e in ev["events"]], ["edge_exploit"], "beta event classes")
        bev = ev["events"][0]["id"]
        for e in (edge, bev):
            st, j = call("POST", "/api/v1/events/%d/state" % e, {"state": "investigating"},
                         token=tok["analyst1"])
            ck.require(st == 200, "event %d -> investigating" % e, repr(j))

        def event_state(e):
            st, j = call("GET", "/api/v1/events/%d" % e)
            return j["state"], len(j["history"])

        # ------------------------------------------------------------ webhooks
        print("[webhook settings]")
        st, j = call("POST", "/api/v1/members/1/webhook", {"url": good.url, "secret": GOOD_SECRET},
                     token=tok["acme_admin"])
        ck.eq((st, j.get("url"), j.get("secret_set")), (200, good.url, True),
              "acme admin sets acme's webhook")
        ck.check(GOOD_SECRET not in json.dumps(j), "the answer does not contain the secret")
        st, j = call("POST", "/api/v1/members/1/webhook", {"url": wrong.url, "secret": BETA_SECRET},
                     token=tok["beta_admin"])
        ck.eq(st, 404, "beta admin setting acme's webhook")
        st, j = call("GET", "/api/v1/members/1/webhook", token=tok["beta_admin"])
        ck.eq(st, 404, "beta admin reading acme's webhook")
        st, j = call("POST", "/api/v1/members/1/webhook", {"url": wrong.url, "secret": BETA_SECRET},
                     token=tok["acme_user"])
        ck.eq(st, 403, "acme member_user setting the webhook")
        st, j = call("POST", "/api/v1/members/1/webhook", {"url": wrong.url, "secret": BETA_SECRET},
                     token=tok["analyst1"])
        ck.eq(st, 403, "coordinator analyst setting a webhook")
        hostile_hooks = [
            ("ftp URL", {"url": "ftp://127.0.0.1/x", "secret": GOOD_SECRET}),
            ("javascript URL", {"url": "javascript:alert(1)", "secret": GOOD_SECRET}),
            ("URL with a space", {"url": "http://a b/", "secret": GOOD_SECRET}),
            ("URL without host", {"url": "http:///x", "secret": GOOD_SECRET}),
            ("short secret", {"url": good.url, "secret": "short"}),
            ("missing secret", {"url": good.url}),
            ("secret with a newline", {"url": good.url, "secret": "x" * 20 + "\n"}),
            ("secret not a string", {"url": good.url, "secret": 12345678901234567890}),
            ("unknown field", {"url": good.url, "secret": GOOD_SECRET, "insecure": True}),
            ("no url", {"secret": GOOD_SECRET}),
            ("overlong URL", {"url": "http://h/" + "a" * 3000, "secret": GOOD_SECRET}),
        ]
        for what, body in hostile_hooks:
            st, j = call("POST", "/api/v1/members/1/webhook", body, token=tok["acme_admin"])
            ck.check(st == 400 and err_of((st, j)), "webhook %s -> 400 with a reason" % what,
                     repr((st, j)))
        st, j = call("POST", "/api/v1/members/1/webhook", b"{not json", token=tok["acme_admin"])
        ck.eq(st, 400, "webhook body not JSON")
        st, j = call("GET", "/api/v1/members/1/webhook", token=tok["acme_admin"])
        ck.eq((st, j.get("url"), j.get("secret_set"), j.get("updated_by")),
              (200, good.url, True, "acme_admin"), "acme webhook unchanged after hostile bodies")
        ck.check("secret" not in j or j.get("secret") is None, "GET webhook shows no secret")
        st, j = call("POST", "/api/v1/members/2/webhook", {"url": wrong.url, "secret": BETA_SECRET})
        ck.eq(st, 200, "coordinator admin sets beta's webhook")
        st, j = call("GET", "/api/v1/members/99/webhook")
        ck.eq(st, 404, "webhook of an unknown member")

        # ------------------------------------------------------------ templates
        st, j = call("GET", "/api/v1/notice-templates", token=tok["analyst1"])
        ck.eq(sorted((t["id"], t["lang"]) for t in j["templates"]),
              sorted((i, l) for i in ("edge_exploit", "malware_c2", "scanning_info",
                                      "web_attack_success") for l in ("en", "ja")),
              "templates (id, lang)")
        st, j = call("GET", "/api/v1/notice-templates", token=tok["acme_user"])
        ck.eq(st, 403, "templates for a member user")

        # ------------------------------------------------------------ hostile notices
        print("[hostile notice bodies: 4xx, nothing changed]")
        good.fail_first = 2
        future = iso(time.time() + 7 * 86400)
        base = {"member": "acme", "events": [edge], "title": "t", "what": "w", "why": "y",
                "action": "a", "answer_by": future}

        def with_(**kw):
            d = dict(base)
            for k, v in kw.items():
                if v is KeyError:
                    d.pop(k, None)
                else:
                    d[k] = v
            return d

        before = event_state(edge)
        hostile = [
            ("not JSON", b"{\"member\":", 400, None),
            ("an array", b"[1,2]", 400, None),
            ("empty body", b"", 400, None),
            ("missing member", with_(member=KeyError), 400, "member"),
            ("unknown member", with_(member="nobody"), 404, "member"),
            ("member of wrong type", with_(member=[1]), 400, "member"),
            ("no events", with_(events=[]), 400, "events"),
            ("events not an array", with_(events=edge), 400, "events"),
            ("event id a string", with_(events=[str(edge)]), 400, "events[0]"),
            ("event id negative", with_(events=[-1]), 400, "events[0]"),
            ("event listed twice", with_(events=[edge, edge]), 400, "event %d" % edge),
            ("101 events", with_(events=list(range(1, 102))), 400, "events"),
            ("unknown event", with_(events=[edge, 999999]), 404, "999999"),
            ("another member's event", with_(events=[edge, bev]), 400, "event %d" % bev),
            ("event not investigating", with_(events=[edge, mal]), 409, "event %d" % mal),
            ("title 201 bytes", with_(title="x" * 201), 400, "title"),
            ("what 10001 bytes", with_(what="x" * 10001), 400, "what"),
            ("empty title", with_(title=""), 400, "title"),
            ("title with a newline", with_(title="a\nb"), 400, "title"),
            ("control character", with_(why="a\u0001b"), 400, "why"),
            ("lone surrogate", json.dumps(with_(action="x")).replace('"x"', '"\\ud800"'), 400,
             None),
            ("invalid UTF-8", json.dumps(with_(action="x")).encode().replace(b'"x"',
                                                                             b'"\xff\xfe"'), 400,
             None),
            ("missing what", with_(what=KeyError), 400, "what"),
            ("title a number", with_(title=5), 400, "title"),
            ("missing answer_by", with_(answer_by=KeyError), 400, "answer_by"),
            ("bad answer_by", with_(answer_by="next week"), 400, "answer_by"),
            ("answer_by year 2300", with_(answer_by="2300-01-01T00:00:00Z"), 400, "answer_by"),
            ("unknown template", with_(template="nope"), 400, "template"),
            ("unknown language", with_(template="edge_exploit", lang="fr"), 400, "lang"),
            ("unknown field", with_(state="answered"), 400, "state"),
            ("duplicate key", json.dumps(base)[:-1] + ',"title":"again"}', 400, "title"),
        ]
        for what, body, want, names in hostile:
            st, j = call("POST", "/api/v1/notices", body, token=tok["analyst1"])
            ok = st == want and bool(err_of((st, j))) and (names is None or names in err_of((st, j)))
            ck.check(ok, "notice with %s -> %d naming %r" % (what, want, names), repr((st, j)))
        for who in ("acme_user", "acme_admin", "beta_admin"):
            st, j = call("POST", "/api/v1/notices", base, token=tok[who])
            ck.eq(st, 403, "%s creating a notice" % who)
        st, j = call("GET", "/api/v1/notices", token=tok["analyst1"])
        ck.eq(j["notices"], [], "no notice created by hostile bodies")
        ck.eq(event_state(edge), before, "edge event state and history unchanged")
        ck.eq(event_state(mal), ("new", 1), "malware event unchanged")
        ck.eq(good.requests(), [], "no webhook request for refused notices")

        # ------------------------------------------------------------ create
        print("[a notice from a template]")
        st, n1 = call("POST", "/api/v1/notices",
                      {"member": "acme", "events": [edge], "template": "edge_exploit",
                       "lang": "ja", "answer_by": future}, token=tok["analyst1"])
        ck.require(st == 201, "create a notice -> 201", repr(n1))
        nid = n1["id"]
        ck.eq((n1["state"], n1["member"], n1["events"], n1["template"], n1["lang"],
               n1["created_by"], n1["overdue"]),
              ("sent", "acme", [edge], "edge_exploit", "ja", "analyst1", False), "the notice")
        ck.eq(n1["title"], "【acme】境界装置 10.1.0.10 への脆弱性悪用の試み", "title filled in")
        ck.check("203.0.113.77" in n1["what"] and "#%d" % edge in n1["what"] and
                 "3 件" in n1["what"], "what names source, event and count", n1["what"])
        ck.check(future[:10] in n1["action"], "action names answer_by", n1["action"])
        st, e = call("GET", "/api/v1/events/%d" % edge)
        ck.eq(e["state"], "notified", "event state after the notice")
        ck.eq((e["history"][-1]["actor"], e["history"][-1]["change"]),
              ("analyst1", "state investigating -> notified: notice %d" % nid),
              "event history names the notice")
        st, j = call("POST", "/api/v1/notices", base, token=tok["analyst1"])
        ck.check(st == 409 and "event %d is notified" % edge in err_of((st, j)),
                 "a second notice for a notified event -> 409", repr((st, j)))

        # ------------------------------------------------------------ inbox, isolation
        print("[inbox and member isolation]")
        st, j = call("GET", "/api/v1/notices", token=tok["acme_user"])
        ck.eq([n["id"] for n in j["notices"]], [nid], "acme user's inbox")
        st, j = call("GET", "/api/v1/notices", token=tok["beta_user"])
        ck.eq(j["notices"], [], "beta user's inbox is empty")
        st, j = call("GET", "/api/v1/notices?member=acme", token=tok["beta_user"])
        ck.eq(st, 404, "beta user asking for acme's notices")
        for method, path, body in (("GET", "/api/v1/notices/%d" % nid, None),
                                   ("POST", "/api/v1/notices/%d/ack" % nid, {}),
                                   ("POST", "/api/v1/notices/%d/answer" % nid, {"text": "x"}),
                                   ("GET", "/api/v1/notices/%d/deliveries" % nid, None)):
            for who in ("beta_user", "beta_admin"):
                st, j = call(method, path, body, token=tok[who])
                ck.check(st == 404 and "acme" not in json.dumps(j) and "Ivanti" not in
                         json.dumps(j), "%s %s as %s -> 404, nothing leaked" % (method, path, who),
                         repr((st, j)))
        st, j = call("GET", "/api/v1/notices/9999", token=tok["acme_user"])
        ck.eq(st, 404, "unknown notice id")
        st, j = call("GET", "/api/v1/notices/overdue", token=tok["acme_user"])
        ck.eq(st, 403, "overdue listing for a member user")
        st, j = call("POST", "/api/v1/notices/%d/close" % nid, {}, token=tok["acme_admin"])
        ck.eq(st, 403, "member admin closing a notice")

        print("[acknowledge and answer]")
        st, j = call("POST", "/api/v1/notices/%d/answer" % nid, {"text": "patched"},
                     token=tok["acme_user"])
        ck.check(st == 409 and "acknowledge" in err_of((st, j)), "answer before ack -> 409",
                 repr((st, j)))
        st, j = call("POST", "/api/v1/notices/%d/ack" % nid, None, token=tok["analyst1"])
        ck.eq(st, 403, "coordinator acknowledging")
        st, j = call("POST", "/api/v1/notices/%d/ack" % nid, {"bogus": 1}, token=tok["acme_user"])
        ck.eq(st, 400, "ack with an unknown field")
        st, j = call("POST", "/api/v1/notices/%d/ack" % nid, None, token=tok["acme_user"])
        ck.eq((st, j.get("state"), j.get("acknowledged_by")), (200, "acknowledged", "acme_user"),
              "acme user acknowledges")
        st, j = call("POST", "/api/v1/notices/%d/ack" % nid, None, token=tok["acme_admin"])
        ck.eq(st, 409, "acknowledging twice")
        for what, body in (("empty text", {"text": ""}), ("no text", {}),
                           ("10001 bytes", {"text": "y" * 10001}), ("text a list", {"text": ["a"]}),
                           ("NUL", {"text": "a\u0000b"})):
            st, j = call("POST", "/api/v1/notices/%d/answer" % nid, body, token=tok["acme_user"])
            ck.eq(st, 400, "answer with %s" % what)
        answer = "確認しました。Ivanti を 22.7R2.5 に更新済み。\n侵害の痕跡なし。"
        st, j = call("POST", "/api/v1/notices/%d/answer" % nid, {"text": answer},
                     token=tok["acme_admin"])
        ck.eq((st, j.get("state")), (200, "answered"), "acme admin answers")
        st, j = call("POST", "/api/v1/notices/%d/answer" % nid, {"text": "again"},
                     token=tok["acme_user"])
        ck.eq(st, 409, "answering twice")
        st, j = call("GET", "/api/v1/notices/%d" % nid, token=tok["acme_user"])
        ck.eq([(a["by"], a["text"]) for a in j["answers"]], [("acme_admin", answer)], "answers")
        ck.eq([(h["actor"], h["change"]) for h in j["history"]],
              [("analyst1", "created (state sent, 1 event)"),
               ("acme_user", "state sent -> acknowledged"),
               ("acme_admin", "state acknowledged -> answered")], "notice history")

        # ------------------------------------------------------------ webhook delivery
        print("[webhook: two 500s, then one verified delivery]")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st, d = call("GET", "/api/v1/notices/%d/deliveries" % nid, token=tok["acme_user"])
            if d["deliveries"] and d["deliveries"][0]["state"] != "pending":
                break
            time.sleep(0.2)
        dl = d["deliveries"]
        ck.eq(len(dl), 1, "one delivery job")
        dj = dl[0]
        ck.eq((dj["channel"], dj["state"], dj["attempts"], dj["next_try"]),
              ("webhook", "delivered", 3, None), "delivery (channel, state, attempts, next_try)")
        ck.eq([(a["status"], a["error"]) for a in dj["log"]],
              [(500, "HTTP 500"), (500, "HTTP 500"), (200, None)], "delivery log")
        ck.eq([a["next_try"] is not None for a in dj["log"]], [True, True, False],
              "next try logged for the failed attempts")
        rq = good.requests()
        ck.eq([(q["code"], q["valid"], q["delivery"]) for q in rq],
              [(500, True, str(dj["id"])), (500, True, str(dj["id"])), (200, True, str(dj["id"]))],
              "receiver saw (status, signature valid, delivery id)")
        ck.eq(sum(1 for q in rq if q["code"] == 200 and q["valid"]), 1,
              "exactly one accepted verified delivery")
        last = json.loads(rq[-1]["body"])
        ck.eq((last["type"], last["delivery"], last["attempt"], last["notice"]["id"],
               last["notice"]["member"], last["notice"]["events"], last["notice"]["state"]),
              ("notice", dj["id"], 3, nid, "acme", [edge], "sent"), "delivered body")
        ck.eq(last["notice"]["title"], n1["title"], "delivered title")
        ck.eq(rq[-1]["type"], "application/json", "delivered content type")
        ck.check(abs(int(rq[-1]["timestamp"]) - time.time()) < 120, "timestamp header is now")
        forged = "sha256=" + hmac.new(WRONG_SECRET.encode(), rq[-1]["body"],
                                      hashlib.sha256).hexdigest()
        ck.check(forged != rq[-1]["sig"], "the signature depends on the secret")
        ck.check(len(set(q["sig"] for q in rq)) == 3, "each attempt is signed anew (body differs)")

        # ------------------------------------------------------------ wrong secret, overdue
        print("[beta: wrong-secret receiver, overdue, close]")
        past = iso(time.time() - 3600)
        st, n2 = call("POST", "/api/v1/notices",
                      {"member": 2, "events": [bev], "title": "Ivanti at beta",
                       "what": "seen", "why": "edge", "action": "patch", "answer_by": past},
                      token=tok["analyst1"])
        ck.require(st == 201, "notice for beta", repr(n2))
        bid = n2["id"]
        ck.eq((n2["overdue"], n2["template"]), (True, None), "beta notice is overdue, no template")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not wrong.requests():
            time.sleep(0.1)
        wq = wrong.requests()
        ck.check(len(wq) >= 1 and not any(q["valid"] for q in wq),
                 "the receiver with another secret detects a bad signature", repr(wq[:1]))
        time.sleep(0.5)
        st, d = call("GET", "/api/v1/notices/%d/deliveries" % bid, token=tok["beta_user"])
        bj = d["deliveries"][0]
        ck.eq((bj["state"], bj["log"][0]["status"], bj["log"][0]["error"]),
              ("pending", 401, "HTTP 401"), "refused delivery is retried")
        ck.check(bj["next_try"] is not None, "pending delivery has a next try")
        st, j = call("GET", "/api/v1/notices/overdue", token=tok["analyst1"])
        ck.eq([n["id"] for n in j["notices"]], [bid], "overdue listing (coordinator)")
        st, j = call("GET", "/api/v1/notices?overdue=true", token=tok["beta_user"])
        ck.eq([n["id"] for n in j["notices"]], [bid], "overdue in beta's inbox")
        st, j = call("GET", "/api/v1/notices?overdue=true", token=tok["acme_user"])
        ck.eq(j["notices"], [], "nothing overdue for acme")
        st, j = call("GET", "/api/v1/notices?state=answered", token=tok["analyst1"])
        ck.eq([n["id"] for n in j["notices"]], [nid], "state filter")
        for q in ("state=bogus", "overdue=maybe", "limit=0", "member=nobody"):
            st, j = call("GET", "/api/v1/notices?" + q, token=tok["analyst1"])
            ck.eq(st, 404 if q.startswith("member") else 400, "list with %s" % q)
        st, j = call("POST", "/api/v1/notices/%d/close" % bid, {"reason": "handled by phone"},
                     token=tok["analyst1"])
        ck.eq((st, j.get("state")), (200, "closed"), "coordinator closes the beta notice")
        st, j = call("POST", "/api/v1/notices/%d/close" % bid, {}, token=tok["analyst1"])
        ck.eq(st, 409, "closing twice")
        st, j = call("POST", "/api/v1/notices/%d/ack" % bid, None, token=tok["beta_user"])
        ck.eq(st, 409, "acknowledging a closed notice")
        st, j = call("GET", "/api/v1/notices/overdue", token=tok["analyst1"])
        ck.eq(j["notices"], [], "a closed notice is not overdue")
        st, j = call("GET", "/api/v1/notices/%d" % bid, token=tok["beta_user"])
        ck.eq(j["history"][-1]["change"], "state sent -> closed: handled by phone",
              "close reason in history")

        # ------------------------------------------------------------ outbox across a crash
        print("[outbox: SIGKILL with a pending delivery, restart, delivered]")
        st, j = call("POST", "/api/v1/events/%d/state" % mal, {"state": "investigating"},
                     token=tok["analyst1"])
        ck.require(st == 200, "malware event -> investigating", repr(j))
        good.fail_all = True
        st, n3 = call("POST", "/api/v1/notices",
                      {"member": "acme", "events": [mal], "template": "malware_c2",
                       "answer_by": future, "title": "C2 traffic from 10.1.2.5"},
                      token=tok["analyst1"])
        ck.require(st == 201, "notice 3 for acme", repr(n3))
        ck.eq((n3["title"], n3["lang"]), ("C2 traffic from 10.1.2.5", "en"),
              "given title kept, template fills the rest")
        ck.check("198.51.100.9" in n3["action"], "malware template names the remote address")
        n3id = n3["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st, d = call("GET", "/api/v1/notices/%d/deliveries" % n3id)
            if d["deliveries"] and d["deliveries"][0]["attempts"] >= 1:
                break
            time.sleep(0.05)
        c.kill9()
        good.fail_all = False
        c.restart()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st, d = call("GET", "/api/v1/notices/%d/deliveries" % n3id)
            if d["deliveries"][0]["state"] != "pending":
                break
            time.sleep(0.2)
        dj3 = d["deliveries"][0]
        rq3 = good.requests(dj3["id"])
        ck.eq(dj3["state"], "delivered", "pending delivery delivered after the restart")
        ck.eq([a["status"] for a in dj3["log"]][-1], 200, "last logged attempt 200")
        ck.eq(len(dj3["log"]), len(rq3), "every attempt the receiver saw is logged")
        ck.eq(sum(1 for q in rq3 if q["code"] == 200 and q["valid"]), 1,
              "exactly one accepted delivery of notice 3")
        ck.check(all(q["code"] == 500 for q in rq3[:-1]) and len(rq3) >= 2,
                 "attempts before the crash failed", repr([q["code"] for q in rq3]))
        st, j = call("GET", "/api/v1/notices/%d" % nid, token=tok["acme_user"])
        ck.eq((j["state"], len(j["answers"]), len(j["history"])), ("answered", 1, 3),
              "notice, answer and history survive the restart")
        ck.eq(len(good.requests(dj["id"])), 3, "the delivered notice is not sent again")

        # ------------------------------------------------------------ stop, logs
        print("[stop and logs]")
        t0 = time.monotonic()
        rc = c.stop()
        ck.eq(rc, 0, "SIGTERM stop exit status")
        ck.check(time.monotonic() - t0 < 15, "stop is prompt with a delivery backing off")
        with open(c.log, "rb") as f:
            log = f.read()
        for s in (GOOD_SECRET, BETA_SECRET):
            ck.check(s.encode() not in log, "the center log does not contain a webhook secret")
        ck.eq(env.sanitizer_reports(), [], "sanitizer reports")
    good.close()
    wrong.close()


if __name__ == "__main__":
    main()
