#!/usr/bin/env python3
"""test_indicators.py - indicators at a real `crosswatch serve` on loopback.

Two members (acme, beta), each with a sensor and a member user. Checked:
  - the guard: "com", 0.0.0.0/0 and a public resolver are refused with a reason unless
    "force"; an invalid value is refused per object while the rest of the request is kept;
  - de-duplication: adding the same indicator again merges (max confidence, the more
    restrictive TLP), never a second row;
  - a DNS record of acme queried before publication; publishing the domain makes the
    retro-hunt find it: a detection for acme with "retro-hunt" in its detail, a sighting
    of kind retro, the retro-hunt state "done" with 1 hit;
  - the RPZ feed: full policy at since=0, a long poll answered by a publish (latency
    printed), deltas (add, then del on revoke), an idle long poll answered empty at its
    timeout, bad parameters 400, member users 403, sensor keys allowed;
  - live detection: a later http record with the indicator's URL becomes a detection
    with rule_id ioc:<id>;
  - scoping: a RED indicator submitted by acme is invisible to beta (404 and not listed)
    and absent from the feed; beta does not learn acme submitted the domain; candidates
    are invisible to members.
"""
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

PASSWORD = "correct horse battery staple"


def rec(ts, kind, **kv):
    d = {"ts": ts, "kind": kind}
    d.update(kv)
    return json.dumps(d)


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_indicators", keep=args.keep) as env:
        c = env.center(args.binary, extra_args=["--threads", "4"])
        ck = env.c

        def call(method, path, body=None, token="admin", timeout=120):
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            h = {"Content-Type": "application/json"} if body is not None else None
            r = c.req(method, path, body, h, token=token, timeout=timeout)
            try:
                return r.status, r.json()
            except ValueError:
                return r.status, r.text()

        print("[setup]")
        acme = c.add_member("acme")["id"]
        beta = c.add_member("beta")["id"]
        ka = c.add_sensor("acme", "dns1")["key"]
        kb = c.add_sensor("beta", "web1")["key"]
        tok = {}
        for name, member in (("acme_user", "acme"), ("beta_user", "beta")):
            c.admin_json("POST", "/api/v1/users", {"name": name, "role": "member_user",
                                                   "member": member, "password": PASSWORD})
            st, j = call("POST", "/api/v1/login", {"name": name, "password": PASSWORD}, None)
            ck.require(st == 200, "login " + name)
            tok[name] = j["token"]

        # an earlier DNS query of acme for a name below the domain published later
        early = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 3600))
        body = "\n".join([
            rec(early, "dns", src_ip="10.1.0.7", **{"dns.qname": "cdn.evil-payload.example",
                                                   "dns.qtype": "A"}),
            rec(early, "dns", src_ip="10.1.0.8", **{"dns.qname": "www.harmless.example",
                                                   "dns.qtype": "A"}),
        ]) + "\n"
        r = c.ingest(ka, body)
        ck.require(r.status == 200 and r.json()["accepted"] == 2, "early dns ingest", r.text())

        print("[guard and per-object refusals]")
        st, j = call("POST", "/api/v1/indicators", {"indicators": [
            {"type": "domain", "value": "com"},
            {"type": "cidr", "value": "0.0.0.0/0"},
            {"type": "ipv4", "value": "8.8.8.8"},
            {"type": "ipv4", "value": "300.1.1.1"},
            {"type": "domain", "value": "evil-payload[.]example", "confidence": 60},
        ]})
        ck.eq(st, 200, "mixed add answers 200")
        refused = {x["index"]: x["reason"] for x in j["refused"]}
        ck.eq(sorted(refused), [0, 1, 2, 3], "four refused, by index")
        ck.check(refused.get(0, "").startswith("com "), "com refused with a reason naming it",
                 refused.get(0))
        ck.check("/8" in refused.get(1, "") or "wide" in refused.get(1, ""),
                 "0.0.0.0/0 refused as too wide", refused.get(1))
        ck.check(refused.get(3, "") != "", "invalid address refused with a reason")
        ck.eq(len(j["added"]), 1, "the good one kept")
        dom = j["added"][0]
        ck.eq(dom["value"], "evil-payload.example", "refanged and canonical")
        ck.eq(dom["state"], "candidate", "added as candidate")
        st, j = call("POST", "/api/v1/indicators", {"type": "domain", "value": "com",
                                                     "force": True})
        ck.eq((st, j["added"][0]["value"] if st == 200 else None), (200, "com"),
              "com accepted when forced")
        ck.eq(call("POST", "/api/v1/indicators/%d/revoke" % j["added"][0]["id"])[0], 200,
              "forced candidate revoked")

        print("[de-duplication]")
        st, j = call("POST", "/api/v1/indicators", {"type": "domain",
                                                     "value": "EVIL-PAYLOAD.example.",
                                                     "confidence": 90, "tlp": "GREEN"})
        ck.eq((st, j["added"][0]["id"], j["added"][0]["created"]), (200, dom["id"], False),
              "same indicator merged")
        st, one = call("GET", "/api/v1/indicators/%d" % dom["id"])
        ck.eq((one["confidence"], one["tlp"]), (90, "AMBER"),
              "merge keeps max confidence and the more restrictive TLP")

        print("[members do not see candidates]")
        ck.eq(call("GET", "/api/v1/indicators/%d" % dom["id"], token=tok["acme_user"])[0], 404,
              "candidate invisible to a member")

        print("[feed: full policy, then a long poll answered by a publish]")
        st, f0 = call("GET", "/api/v1/rpz/feed?since=0", token=ka)
        ck.eq((st, f0["full"], f0["rules"]), (200, True, []), "empty full policy")
        serial0 = f0["serial"]
        ck.eq(call("GET", "/api/v1/rpz/feed?since=0", token=tok["acme_user"])[0], 403,
              "member users may not read the feed")
        ck.eq(call("GET", "/api/v1/rpz/feed?wait=61", token=ka)[0], 400, "wait > 60 refused")
        ck.eq(call("GET", "/api/v1/rpz/feed?since=-1", token=ka)[0], 400, "since < 0 refused")
        poll = {}

        def long_poll():
            t = time.monotonic()
            poll["res"] = call("GET", "/api/v1/rpz/feed?since=%d&wait=30" % max(serial0, 0)
                               if serial0 else "/api/v1/rpz/feed?since=0", token=ka)
            poll["t"] = time.monotonic()
            poll["t0"] = t

        # since=0 answers at once, so poll from the current serial (0 -> full policy)
        if serial0 == 0:
            # no change yet: publish a first indicator to get a serial to wait on
            st, j = call("POST", "/api/v1/indicators", {"type": "hostname",
                                                         "value": "first.bad.example",
                                                         "publish": True, "tlp": "CLEAR"})
            ck.eq(st, 200, "first published hostname")
            st, f1 = call("GET", "/api/v1/rpz/feed?since=0", token=kb)
            serial0 = f1["serial"]
            ck.eq([(x["name"], x["wildcard"]) for x in f1["rules"]],
                  [("first.bad.example", False)], "hostname rule without wildcard")
        th = threading.Thread(target=long_poll)
        th.start()
        time.sleep(0.5)
        t_pub = time.monotonic()
        st, pj = call("POST", "/api/v1/indicators/%d/publish" % dom["id"])
        ck.eq((st, pj.get("state")), (200, "published"), "published")
        th.join(35)
        st, fj = poll.get("res", (0, {}))
        lat_ms = (poll.get("t", 0) - t_pub) * 1000
        print("publish -> feed long-poll answered: %.1f ms" % lat_ms)
        ck.eq(st, 200, "long poll answered")
        ck.eq((fj.get("full"), [(x["op"], x["name"], x.get("wildcard"), x["indicator"])
                                for x in fj.get("rules", [])]),
              (False, [("add", "evil-payload.example", True, "ioc:%d" % dom["id"])]),
              "delta with the domain rule")
        ck.check(lat_ms < 1000, "publish reaches a waiting feed client in < 1 s", "%.1f" % lat_ms)
        serial1 = fj["serial"]
        t = time.monotonic()
        st, idle = call("GET", "/api/v1/rpz/feed?since=%d&wait=1" % serial1, token=ka)
        dt = time.monotonic() - t
        ck.eq((st, idle["serial"], idle["rules"], idle["full"]), (200, serial1, [], False),
              "idle long poll answers empty")
        ck.check(0.9 <= dt < 3, "idle long poll waits about its wait time", "%.2f s" % dt)

        print("[retro-hunt]")
        deadline = time.time() + 20
        while time.time() < deadline:
            st, one = call("GET", "/api/v1/indicators/%d" % dom["id"])
            if one.get("retro_hunt") and one["retro_hunt"]["state"] == "done":
                break
            time.sleep(0.2)
        rh = one.get("retro_hunt") or {}
        ck.eq((rh.get("state"), rh.get("hits"), rh.get("batches_read")), ("done", 1, 1),
              "retro-hunt found the earlier query in one batch")
        retro = [s for s in one["recent_sightings"] if s["kind"] == "retro"]
        ck.eq([(s["member"]) for s in retro], [acme], "retro sighting for acme")
        st, dets = call("GET", "/api/v1/detections?member=%d" % acme)
        ioc_dets = [d for d in dets.get("detections", []) if d.get("rule_id") == "ioc:%d" % dom["id"]]
        ck.check(len(ioc_dets) == 1, "one retro-hunt detection for acme", json.dumps(dets)[:500])
        if ioc_dets:
            ck.check("retro-hunt" in (ioc_dets[0].get("detail") or ""), "marked retro-hunt",
                     json.dumps(ioc_dets[0]))

        print("[live detection of a URL]")
        st, j = call("POST", "/api/v1/indicators", {"type": "url",
                                                     "value": "hxxp://dl.payload-host.example/a/b.php?x=1",
                                                     "publish": True, "tlp": "GREEN",
                                                     "confidence": 85})
        ck.eq(st, 200, "url published")
        url_id = j["added"][0]["id"]
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        r = c.ingest(kb, rec(now, "http", src_ip="10.2.0.9", dst_ip="198.51.100.7",
                             **{"http.host": "DL.payload-host.example", "http.path": "/a/b.php",
                                "http.query": "x=1", "http.method": "GET"}) + "\n" +
                     rec(now, "http", src_ip="10.2.0.9", dst_ip="198.51.100.7",
                         **{"http.host": "dl.payload-host.example", "http.path": "/a/b.php",
                            "http.method": "GET"}) + "\n")
        ck.eq(r.status, 200, "http ingest")
        st, dets = call("GET", "/api/v1/detections?member=%d" % beta)
        hits = [d for d in dets.get("detections", []) if d.get("rule_id") == "ioc:%d" % url_id]
        ck.eq(len(hits), 1, "exactly the record with the URL's path and query matched")
        st, one = call("GET", "/api/v1/indicators/%d" % url_id)
        ck.eq([s["kind"] for s in one["recent_sightings"]], ["live"], "live sighting")
        ck.eq(one["feed"], False, "a URL is not in the DNS feed")

        print("[scoping: RED and audience]")
        st, j = call("POST", "/api/v1/indicators", {"type": "ipv4", "value": "203.0.113.66",
                                                     "tlp": "RED", "publish": True})
        red_id = j["added"][0]["id"]
        ck.eq(call("GET", "/api/v1/indicators/%d" % red_id, token=tok["beta_user"])[0], 404,
              "RED invisible to beta")
        st, lb = call("GET", "/api/v1/indicators", token=tok["beta_user"])
        vals = sorted(x["value"] for x in lb["indicators"])
        ck.check("203.0.113.66" not in vals and "evil-payload.example" in vals,
                 "beta lists published shared ones only", repr(vals))
        ck.check(all("created_by" not in x and "source_member" not in x
                     for x in lb["indicators"]), "submitter identity scrubbed for members")
        st, j = call("POST", "/api/v1/indicators", {"type": "domain", "value": "acme-only.example",
                                                     "audience": [acme], "publish": True})
        aud_id = j["added"][0]["id"]
        ck.eq(call("GET", "/api/v1/indicators/%d" % aud_id, token=tok["beta_user"])[0], 404,
              "restricted audience hides it from beta")
        ck.eq(call("GET", "/api/v1/indicators/%d" % aud_id, token=tok["acme_user"])[0], 200,
              "acme in the audience sees it")
        st, full = call("GET", "/api/v1/rpz/feed?since=0", token=ka)
        names = sorted(x["name"] for x in full["rules"])
        ck.eq(names, ["evil-payload.example", "first.bad.example"],
              "feed holds only indicators every member may enforce")

        print("[revoke -> del]")
        s_before = full["serial"]
        ck.eq(call("POST", "/api/v1/indicators/%d/revoke" % dom["id"])[0], 200, "revoked")
        ck.eq(call("POST", "/api/v1/indicators/%d/revoke" % dom["id"])[0], 409, "revoke twice")
        st, d = call("GET", "/api/v1/rpz/feed?since=%d" % s_before, token=ka)
        ck.eq([(x["op"], x["name"]) for x in d["rules"]], [("del", "evil-payload.example")],
              "delta removes the rule")
        ck.eq(call("GET", "/api/v1/indicators/999999")[0], 404, "unknown id 404")

        print("[restart keeps the feed serial and live set]")
        c.stop()
        c.start()
        st, d2 = call("GET", "/api/v1/rpz/feed?since=%d" % d["serial"], token=ka)
        ck.eq((st, d2["serial"], d2["rules"]), (200, d["serial"], []), "serial kept")
        r = c.ingest(kb, rec(now, "dns", src_ip="10.2.0.3",
                             **{"dns.qname": "first.bad.example", "dns.qtype": "A"}) + "\n")
        st, dets = call("GET", "/api/v1/detections?member=%d" % beta)
        ck.check(any(x.get("rule_id", "").startswith("ioc:") and "first.bad.example" in
                     (x.get("rule_name") or "") for x in dets.get("detections", [])),
                 "published set reloaded after restart")
        ck.eq(c.stop(), 0, "clean stop")
        sharing(args, env)
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")


SHARING_CONF = """[serve]
ioc_auto_publish_types = hostname
ioc_auto_publish_confidence = 60
"""

STIX_BUNDLE = {"type": "bundle", "id": "bundle--0b0e0e8e-6f3a-4c1e-9d1c-1a2b3c4d5e6f", "objects": [
    {"type": "indicator", "spec_version": "2.1",
     "id": "indicator--11111111-1111-4111-8111-111111111111",
     "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
     "pattern": "[domain-name:value = 'green-c2.example']", "pattern_type": "stix",
     "valid_from": "2025-01-01T00:00:00Z", "confidence": 80,
     "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
    {"type": "indicator", "spec_version": "2.1",
     "id": "indicator--22222222-2222-4222-8222-222222222222",
     "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
     "pattern": "[domain-name:value = 'a.example' AND ipv4-addr:value = '192.0.2.1']",
     "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z"},
    {"type": "indicator", "spec_version": "2.1",
     "id": "indicator--33333333-3333-4333-8333-333333333333",
     "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
     "pattern": "[domain-name:value = 'com']", "pattern_type": "stix",
     "valid_from": "2025-01-01T00:00:00Z"},
    {"type": "indicator", "spec_version": "2.1",
     "id": "indicator--44444444-4444-4444-8444-444444444444",
     "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
     "pattern": "[ipv4-addr:value = '198.51.100.77']", "pattern_type": "stix",
     "valid_from": "2025-01-01T00:00:00Z"},
]}


def taxii_reads(ck, call, tok, root, cols):
    """TAXII 2.1 sections 5.3-5.8 against each other: the manifest, one object by id and
    its versions must say what the objects listing says, for a member and for the
    coordinator; what a member may not see answers like what does not exist."""
    TX = "application/taxii+json;version=2.1"
    hx = {"Accept": TX}
    ghost = "indicator--00000000-0000-5000-8000-000000000000"

    def coll(tlp):
        return root + "collections/%s/" % cols[tlp]["id"]

    def get(path, who):
        return call("GET", path, token="admin" if who == "coordinator" else tok[who],
                    headers=hx)

    def walk(path, who, limit):
        """every page of path with limit/next: [(envelope, headers)]"""
        out, nxt = [], None
        while len(out) < 100:
            r = get(path + "?limit=%d" % limit + ("&next=" + nxt if nxt else ""), who)
            ck.require(r.status == 200, "%s page of %s" % (who, path), repr(r))
            out.append((r.json(), r.headers))
            if not r.json()["more"]:
                break
            nxt = r.json()["next"]
        return out

    print("[TAXII 2.1: manifest, object by id and versions = the objects listing]")
    for i in range(3):  # GREEN pages by 2: three pages for acme and the coordinator
        r = call("POST", "/api/v1/indicators", {"type": "hostname", "tlp": "GREEN",
                                                "value": "taxii-page-%d.example" % i,
                                                "publish": True})
        ck.eq(r.status, 200, "GREEN hostname %d published" % i)
    seen = {}  # STIX id -> (collection, object) over every collection, as the coordinator
    for who in ("acme_user", "coordinator"):
        for tlp in sorted(cols):
            base = coll(tlp)
            # one object a page: each page's X-TAXII-Date-Added-First/Last is its date added
            objs = []
            for env_, h in walk(base + "objects/", who, 1):
                for o in env_["objects"]:
                    ck.eq(h.get("x-taxii-date-added-first"), h.get("x-taxii-date-added-last"),
                          "%s %s: one object a page, one date added" % (who, tlp))
                    objs.append((o, h.get("x-taxii-date-added-first")))
            if who == "coordinator":
                seen.update({o["id"]: (tlp, o) for o, _ in objs})
            man, npages = [], 0
            for env_, h in walk(base + "manifest/", who, 2):
                npages += 1
                man += env_["objects"]
                if env_["objects"]:
                    ck.eq((h.get("x-taxii-date-added-first"), h.get("x-taxii-date-added-last")),
                          (env_["objects"][0]["date_added"], env_["objects"][-1]["date_added"]),
                          "%s %s manifest page: date headers = its first and last entry"
                          % (who, tlp))
            ck.eq([(m["id"], m["version"], m["date_added"], m["media_type"]) for m in man],
                  [(o["id"], o["modified"], added, "application/stix+json;version=2.1")
                   for o, added in objs],
                  "%s %s: manifest (paged by 2) = objects (paged by 1) one for one: id, "
                  "version = modified, date_added" % (who, tlp))
            ck.eq(npages, max(1, (len(objs) + 1) // 2), "%s %s: %d manifest pages for %d "
                  "objects" % (who, tlp, npages, len(objs)))
            for o, added in objs:
                r = get(base + "objects/%s/" % o["id"], who)
                ck.eq((r.status, r.headers.get("content-type")), (200, TX),
                      "%s GET %s object %s" % (who, tlp, o["id"]))
                ck.eq((r.json()["objects"], r.json()["more"]), ([o], False),
                      "%s: object by id = the object in the listing" % who)
                ck.eq((r.headers.get("x-taxii-date-added-first"),
                       r.headers.get("x-taxii-date-added-last")), (added, added),
                      "%s: object by id: date added headers" % who)
                r = get(base + "objects/%s/versions/" % o["id"], who)
                ck.eq((r.status, r.headers.get("content-type"), r.json()),
                      (200, TX, {"more": False, "versions": [o["modified"]]}),
                      "%s: versions of %s = [its modified]" % (who, o["id"]))
    green = [o for t, o in seen.values() if t == "GREEN"]
    ck.require(len(green) >= 5, "the coordinator's GREEN collection pages (>= 5 objects)",
               "(%d)" % len(green))

    print("[TAXII 2.1: match[version], unknown ids, what a member may not see]")
    o = green[0]
    one = coll("GREEN") + "objects/%s/" % o["id"]
    for mv in ("last", "first", "all", o["modified"], "last,2001-01-01T00:00:00.000Z",
               "2001-01-01T00:00:00Z," + o["modified"]):
        r = get(one + "?match[version]=" + mv, "coordinator")
        ck.eq((r.status, [x["id"] for x in r.json()["objects"]]), (200, [o["id"]]),
              "match[version]=%s selects the object" % mv)
    r = get(one + "?match[version]=2001-01-01T00:00:00.000Z", "coordinator")
    ck.eq((r.status, r.json()["objects"]), (200, []), "match[version] of another time: none")
    r = get(coll("GREEN") + "objects/?match[version]=" + o["modified"], "coordinator")
    ck.eq([x["id"] for x in r.json()["objects"]],
          [x["id"] for x in green if x["modified"] == o["modified"]],
          "objects?match[version]=<time>: exactly the objects of that version")
    for bad in ("latest", "", "last,yesterday", "2026-13-45T00:00:00Z"):
        for path in (one, coll("GREEN") + "objects/", coll("GREEN") + "manifest/"):
            r = get(path + "?match[version]=" + bad, "coordinator")
            ck.eq((r.status, r.headers.get("content-type"), r.json().get("http_status")),
                  (400, TX, "400"), "match[version]=%r on %s: 400" % (bad, path[-30:]))
            ck.check("match[version]" in r.json().get("title", ""),
                     "the 400 names match[version]", r.json())
    ghost_obj = get(coll("GREEN") + "objects/%s/" % ghost, "acme_user")
    ghost_ver = get(coll("GREEN") + "objects/%s/versions/" % ghost, "acme_user")
    ck.eq((ghost_obj.status, ghost_obj.headers.get("content-type"),
           ghost_obj.json().get("http_status")), (404, TX, "404"), "unknown id: TAXII 404")
    ck.eq(ghost_ver.status, 404, "versions of an unknown id: 404")
    r = get(coll("RED") + "objects/%s/" % o["id"], "coordinator")
    ck.eq(r.status, 404, "a GREEN object asked for in the RED collection: 404")
    # a member asking for what it may not see: exactly the unknown id's answer
    hidden = {}
    for sid, (t, x) in seen.items():
        v = x["pattern"].split("'")[1]
        if v in ("red-only.example", "beta-only.example"):
            hidden[v] = (t, sid)
    ck.eq(sorted(hidden), ["beta-only.example", "red-only.example"],
          "the coordinator sees the RED and the beta-only indicator")
    for v, (t, sid) in sorted(hidden.items()):
        for suffix, ref in (("", ghost_obj), ("versions/", ghost_ver)):
            r = get(coll(t) + "objects/%s/%s" % (sid, suffix), "acme_user")
            ck.eq((r.status, r.body), (ref.status, ref.body),
                  "acme asking for %s %s (%s): the unknown id's answer" % (v, suffix, t))
    t, sid = hidden["beta-only.example"]
    ck.eq(get(coll(t) + "objects/%s/" % sid, "beta_user").status, 200,
          "beta, its audience, gets beta-only.example by id")

    taxii_revoked(ck, call, tok, coll, get, ghost_obj, ghost_ver, hidden)

    print("[TAXII 2.1: revoked and published again = a new object; the old id stays revoked]")
    value = o["pattern"].split("'")[1]
    iid = [x["id"] for x in call("GET", "/api/v1/indicators?state=published&limit=1000")
           .json()["indicators"] if x["value"] == value][0]
    man0 = {m["id"]: m for m in get(coll("GREEN") + "manifest/", "coordinator")
            .json()["objects"]}
    ck.eq(call("POST", "/api/v1/indicators/%d/revoke" % iid).status, 200, "revoke " + value)
    r = get(one + "versions/", "coordinator")
    vrev = r.json().get("versions", [])
    ck.check(r.status == 200 and len(vrev) == 1 and vrev[0] > o["modified"],
             "revoked: one version, later than the published one", repr(r.json()))
    r = get(one, "coordinator")
    ck.eq([(x.get("revoked"), x["modified"]) for x in r.json().get("objects", [])],
          [(True, vrev[0] if vrev else None)], "the object by id is the revoked version")
    rev_obj = r.json()["objects"][0] if r.json().get("objects") else {}
    ck.eq(call("POST", "/api/v1/indicators/%d/publish" % iid).status, 200, "publish again")
    # STIX 2.1 3.6: a revoked object is revoked for good - the old id is not reused
    r = get(one, "coordinator")
    ck.eq((r.status, r.json().get("objects")), (200, [rev_obj]),
          "the old id is still served, revoked, exactly as before")
    r = get(one + "versions/", "coordinator")
    ck.eq(r.json().get("versions"), vrev, "the old id keeps its one (revoked) version")
    r = get(coll("GREEN") + "objects/?added_after=" + man0[o["id"]]["date_added"], "acme_user")
    mine = [x for x in r.json().get("objects", []) if x.get("pattern") == o["pattern"]]
    ck.eq([(x["id"] == o["id"], x.get("revoked", False)) for x in mine],
          [(True, True), (False, False)],
          "a poller (added_after = the first publication) sees both changes: the old id "
          "revoked, then a new id active")
    o1 = mine[1] if len(mine) == 2 else {}
    ck.check(o1.get("id", "").startswith("indicator--") and o1.get("id") != o["id"],
             "re-published under a new STIX id", repr(o1.get("id")))
    ck.eq({k: v for k, v in o1.items() if k not in ("id", "modified")},
          {k: v for k, v in o.items() if k not in ("id", "modified")},
          "re-published: the same indicator but for id and modified")
    one1 = coll("GREEN") + "objects/%s/" % o1.get("id")
    r = get(one1 + "versions/", "coordinator")
    vers = r.json().get("versions", [])
    ck.check(r.status == 200 and len(vers) == 1 and vrev and vers[0] > vrev[0],
             "the new id: one version, later than the revocation", repr(r.json()))
    ck.eq(o1.get("modified"), vers[0] if vers else None, "the new object's modified = the version")
    r = get(one1, "coordinator")
    ck.eq((r.status, r.json().get("objects")), (200, [o1]), "the new id by id: the same object")
    man1 = {m["id"]: m for m in get(coll("GREEN") + "manifest/", "coordinator")
            .json()["objects"]}
    m1 = man1.get(o1.get("id"), {})
    ck.check(m1.get("version") == o1.get("modified") and
             m1.get("date_added", "") > man1.get(o["id"], {}).get("date_added", "~") and
             man1.get(o["id"], {}).get("version") == (vrev[0] if vrev else None),
             "manifest: the old id at its revocation, the new one added later",
             repr((man1.get(o["id"]), m1)))
    r = get(one + "?match[version]=" + o["modified"], "coordinator")
    ck.eq((r.status, r.json()["objects"]), (200, []),
          "the old id's published version is not kept (the store holds the revoked one)")
    # from here on the indicator is the new object
    o, one = o1, one1

    print("[TAXII 2.1: a merge that changes a published indicator = a new version]")
    def state():
        v = get(one + "versions/", "coordinator").json().get("versions")
        m = {x["id"]: x for x in get(coll("GREEN") + "manifest/", "coordinator")
             .json()["objects"]}.get(o["id"], {})
        return v, m.get("date_added")
    v1, added1 = state()
    add = {"type": "domain", "value": value, "tlp": "GREEN", "confidence": 10}
    ck.eq(call("POST", "/api/v1/indicators", add).status, 200, "the same indicator again")
    ck.eq(state(), (v1, added1), "a merge that changes nothing: same version, same date added")
    add["confidence"] = 95
    ck.eq(call("POST", "/api/v1/indicators", add).status, 200, "again with confidence 95")
    v2, added2 = state()
    ck.check(v2 and len(v2) == 1 and v2[0] > v1[0] and added2 == v2[0],
             "the change is a new version, added when it was made", repr((v1, v2, added2)))
    r = get(one, "coordinator")
    o2 = r.json()["objects"][0] if r.json().get("objects") else {}
    ck.eq((o2.get("confidence"), o2.get("modified")), (95, v2[0] if v2 else None),
          "the object by id carries the change and the new modified")
    r = get(coll("GREEN") + "objects/?added_after=" + added1, "acme_user")
    ck.eq([x["id"] for x in r.json()["objects"]], [o["id"]],
          "a client polling with added_after (the old date added) gets the new version")


def taxii_revoked(ck, call, tok, coll, get, ghost_obj, ghost_ver, hidden):
    """STIX 2.1 3.6: revoking is a new version of the object with revoked: true, so a
    member polling with added_after learns of it; whoever could not see the published
    indicator still gets the unknown id's answer."""
    print("[TAXII 2.1: a revoked indicator reaches a polling member as revoked: true]")
    value = "taxii-revoke.example"
    r = call("POST", "/api/v1/indicators", {"type": "domain", "value": value, "tlp": "GREEN",
                                            "confidence": 70, "publish": True})
    ck.require(r.status == 200, "GREEN domain %s published" % value, repr(r))
    iid = r.json()["added"][0]["id"]
    base = coll("GREEN")
    # the member's poll: every object, remembering X-TAXII-Date-Added-Last
    r = get(base + "objects/", "acme_user")
    before = [x for x in r.json()["objects"] if "'%s'" % value in x["pattern"]]
    ck.require(r.status == 200 and len(before) == 1 and not r.json()["more"],
               "acme's poll holds %s (one page)" % value, repr(r))
    pub = before[0]
    last = r.headers.get("x-taxii-date-added-last")
    ck.eq(get(base + "objects/?added_after=" + last, "acme_user").json()["objects"], [],
          "nothing after the poll's X-TAXII-Date-Added-Last")
    ck.eq(call("POST", "/api/v1/indicators/%d/revoke" % iid).status, 200, "revoke " + value)
    r = get(base + "objects/?added_after=" + last, "acme_user")
    objs = r.json().get("objects", [])
    ck.eq((r.status, [x["id"] for x in objs], r.json().get("more")), (200, [pub["id"]], False),
          "acme's next poll (added_after) returns exactly the revoked object")
    rev = objs[0] if objs else {}
    ck.eq(rev.get("revoked"), True, "it carries revoked: true")
    ck.check(rev.get("modified", "") > pub["modified"], "and a later modified",
             repr((pub["modified"], rev.get("modified"))))
    ck.eq({k: v for k, v in rev.items() if k not in ("modified", "revoked")},
          {k: v for k, v in pub.items() if k != "modified"},
          "the same object (id, created, pattern, TLP ...) but for modified and revoked")
    ck.eq((r.headers.get("x-taxii-date-added-first"), r.headers.get("x-taxii-date-added-last")),
          (rev.get("modified"), rev.get("modified")), "its date added is the revocation")
    r = get(base + "objects/%s/" % pub["id"], "acme_user")
    ck.eq((r.status, r.json().get("objects")), (200, [rev]), "object by id = the revoked object")
    man = [m for m in get(base + "manifest/", "acme_user").json()["objects"]
           if m["id"] == pub["id"]]
    ck.eq([(m["version"], m["date_added"]) for m in man],
          [(rev.get("modified"), rev.get("modified"))],
          "manifest: one entry, version = date_added = the revocation")
    r = get(base + "objects/%s/versions/" % pub["id"], "acme_user")
    ck.eq((r.status, r.json()), (200, {"more": False, "versions": [rev.get("modified")]}),
          "versions lists the new (revoked) version")
    r = get(base + "objects/?match[version]=" + pub["modified"], "acme_user")
    ck.check(pub["id"] not in [x["id"] for x in r.json()["objects"]],
             "the published version is not served any more")
    r = get(base + "objects/", "coordinator")
    ck.eq([x.get("revoked") for x in r.json()["objects"] if x["id"] == pub["id"]], [True],
          "the coordinator's listing has it revoked too")

    print("[TAXII 2.1: a revoked indicator stays invisible to whoever could not see it]")
    t, sid = hidden["beta-only.example"]
    bid = [x["id"] for x in call("GET", "/api/v1/indicators?q=beta-only&limit=10")
           .json()["indicators"] if x["value"] == "beta-only.example"][0]
    ck.eq(call("POST", "/api/v1/indicators/%d/revoke" % bid).status, 200,
          "revoke beta-only.example (audience beta)")
    r = get(coll(t) + "objects/%s/" % sid, "beta_user")
    ck.eq((r.status, [x.get("revoked") for x in r.json().get("objects", [])]), (200, [True]),
          "beta, its audience, gets it revoked")
    for suffix, ref in (("", ghost_obj), ("versions/", ghost_ver)):
        r = get(coll(t) + "objects/%s/%s" % (sid, suffix), "acme_user")
        ck.eq((r.status, r.body), (ref.status, ref.body),
              "acme asking for revoked beta-only.example %s: the unknown id's answer" % suffix)
    for path in ("objects/", "manifest/"):
        r = get(coll(t) + path, "acme_user")
        ck.check(sid not in r.text(), "acme's %s of %s: no beta-only.example" % (path, t))
    cand = "taxii-never-published.example"
    r = call("POST", "/api/v1/indicators", {"type": "domain", "value": cand, "tlp": "GREEN"})
    cid = r.json()["added"][0]["id"]
    ck.eq(call("POST", "/api/v1/indicators/%d/revoke" % cid).status, 200,
          "a candidate rejected (revoked) before it was ever published")
    ck.check(cand not in get(base + "objects/", "coordinator").text(),
             "a revoked indicator that was never published is never served")

    print("[export: include_revoked=1 adds revoked objects to STIX, the default does not]")
    r = call("GET", "/api/v1/indicators/export?format=stix", token=tok["acme_user"])
    ck.check(r.status == 200 and pub["id"] not in r.text() and '"revoked"' not in r.text(),
             "acme's STIX export (default): no revoked object")
    r0 = call("GET", "/api/v1/indicators/export?format=stix&include_revoked=0",
              token=tok["acme_user"])
    ck.eq(sorted(x["id"] for x in r0.json()["objects"]),
          sorted(x["id"] for x in r.json()["objects"]), "include_revoked=0 = the default")
    r = call("GET", "/api/v1/indicators/export?format=stix&include_revoked=1",
             token=tok["acme_user"])
    inds = {x["id"]: x for x in r.json()["objects"] if x["type"] == "indicator"}
    ck.eq(inds.get(pub["id"]), rev, "acme's STIX export with include_revoked=1 carries the "
          "revoked object as TAXII serves it")
    ck.check(sid not in r.text() and "beta-only" not in r.text(),
             "but not beta's revoked indicator")
    ck.eq([k for k, x in inds.items() if x.get("revoked")], [pub["id"]],
          "the one revoked object acme was cleared for is the only revoked one")
    ck.eq(int(r.headers.get("x-crosswatch-indicators", "-1")),
          int(r0.headers.get("x-crosswatch-indicators", "-2")) +
          sum(1 for x in inds.values() if x.get("revoked")),
          "include_revoked=1 adds exactly the revoked objects to the count")
    for bad in ("format=csv&include_revoked=1", "format=rpz&include_revoked=1",
                "format=stix&include_revoked=yes"):
        r = call("GET", "/api/v1/indicators/export?" + bad, token=tok["acme_user"])
        ck.check(r.status == 400 and "include_revoked" in r.json().get("error", ""),
                 "%s: 400 naming include_revoked" % bad, r.text()[:200])
    r = call("GET", "/api/v1/indicators/export?format=rpz", token=tok["acme_user"])
    ck.check(r.status == 200 and value not in r.text(), "the RPZ export has no revoked name")
    feed = call("GET", "/api/v1/rpz/feed?since=0").json()
    ck.check(value not in [x["name"] for x in feed["rules"]],
             "the RPZ feed policy withdrew the revoked name (DNS side unchanged)")


def publish_race(ck, c, call):
    """Publish while records with the indicator's value arrive: four threads of a member
    of its own ingest one-record batches continuously before, during and after the
    publish. Each record must give exactly one detection and sighting: the retro-hunt's
    (its batch committed before the set had the indicator) or the live detector's,
    never both, never none. A range of the threads' addresses is published first: its
    hunt keeps the worker busy, so many batches detected live commit before the
    domain's hunt reads the digests (before the fix, each of them got a second, retro
    detection and sighting)."""
    print("[publish while ingesting: one detection and sighting per record]")
    gamma = c.add_member("gamma")["id"]
    keys = [c.add_sensor("gamma", "race%d" % i)["key"] for i in range(4)]
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 600))
    sent, lock, stop = [], threading.Lock(), threading.Event()
    before, total = 250, 400  # records before the publish; in all (<= 1000 detections)

    def feed(t, key):
        i = 0
        while not stop.is_set():
            q = "t%d-%d.race-publish.example" % (t, i)
            r = c.ingest(key, rec(ts, "dns", src_ip="203.0.113.%d" % (t + 8),
                                  **{"dns.qname": q, "dns.qtype": "A"}) + "\n")
            with lock:
                if r.status == 200:
                    sent.append(q)
                if len(sent) >= total:
                    stop.set()
            i += 1

    ths = [threading.Thread(target=feed, args=(t, k)) for t, k in enumerate(keys)]
    for th in ths:
        th.start()
    deadline = time.time() + 60
    while len(sent) < before and time.time() < deadline and not stop.is_set():
        time.sleep(0.01)
    r = call("POST", "/api/v1/indicators", {"type": "cidr", "value": "203.0.113.8/30",
                                            "publish": True, "tlp": "GREEN"})
    ck.eq(r.status, 200, "a range published while ingesting")
    r = call("POST", "/api/v1/indicators", {"type": "domain", "value": "race-publish.example",
                                            "publish": True, "tlp": "GREEN"})
    ck.eq(r.status, 200, "published while ingesting")
    rid = r.json()["added"][0]["id"] if r.status == 200 else 0
    at_publish = len(sent)
    for th in ths:
        th.join(120)
    deadline = time.time() + 60
    one = {}
    while time.time() < deadline:
        one = call("GET", "/api/v1/indicators/%d" % rid).json()
        if (one.get("retro_hunt") or {}).get("state") == "done":
            break
        time.sleep(0.1)
    ck.check(at_publish < len(sent), "records kept arriving after the publish",
             "%d then %d" % (at_publish, len(sent)))
    # every stored record's qname carries the value: each one detected exactly once
    dets = call("GET", "/api/v1/detections?member=%d&limit=1000" % gamma).json()
    dets = dets.get("detections", [])
    ck.check(len(dets) < 1000, "gamma's detections listed in full", len(dets))
    seen = {}
    for d in dets:
        if d.get("rule_id") == "ioc:%d" % rid:
            m = re.search(r"t\d+-\d+\.race-publish\.example", json.dumps(d.get("record")))
            q = m.group(0) if m else "?"
            seen[q] = seen.get(q, 0) + 1
    twice = sorted(q for q, n in seen.items() if n > 1)
    missing = sorted(set(sent) - set(seen))
    ck.eq((len(twice), len(missing), len(seen)), (0, 0, len(sent)),
          "one detection per record (%d records, %d detected twice e.g. %s, %d missed e.g. "
          "%s; retro-hunt %s)" % (len(sent), len(twice), twice[:3], len(missing),
                                  missing[:3], json.dumps(one.get("retro_hunt"))))
    ck.eq(one.get("sightings"), len(sent), "one sighting per record")
    print("publish race: %d records (%d before the publish), %d detections, %s sightings, "
          "retro-hunt %s" % (len(sent), at_publish, sum(seen.values()), one.get("sightings"),
                             json.dumps(one.get("retro_hunt"))))


def wide_cidrs(ck, c, call, acme):
    """Retro-hunt of CIDRs wider than the widest prefix the digests index (/8, IPv6 /32):
    records in several /8s (and IPv6 /32s), a few batches, then a forced /6, /7 and
    IPv6 /30: each hunt's hits and retro sightings are exactly the stored records whose
    address lies inside (a brute-force filter over every record the center exports),
    none outside; an IPv6 /16 is refused with the reason in the hunt state."""
    import calendar
    import ipaddress
    import random
    print("[retro-hunt of CIDRs wider than /8 and /32]")
    rng = random.Random(2020)
    key = c.add_sensor("acme", "edge-fw")["key"]
    t0 = int(time.time()) - 5000
    # per batch, the /8s (IPv6 /32s) its addresses come from: batch 0 has nothing inside
    # the ranges hunted below, and no other batch holds the first /8 (/32) of a range
    # together with the rest, so a hunt that probed one key only would miss records
    firsts = [[3, 8, 43, 46], [3, 5, 45, 8], [6, 44, 46], [4, 7, 43]]
    v6nets = [["2a03:%x" % rng.randrange(65536), "2a04:4", "2001:db8"],
              ["2a04:3", "2a03:ffff", "2001:db8", "2a05:0"], ["2a04:1", "2a04:4", "2a08:0"],
              ["2a04:0", "2a05:0", "2a03:1"]]
    n = 0
    for batch in range(4):
        lines = []
        for i in range(40):
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + n))
            n += 1
            v4 = "%d.%d.%d.%d" % (rng.choice(firsts[batch]), rng.randrange(256),
                                  rng.randrange(256), rng.randrange(1, 255))
            v6 = "%s:%x::%x" % (rng.choice(v6nets[batch]), rng.randrange(65536),
                                rng.randrange(1, 65536))
            if i % 10 == 9:  # every tenth record carries an address in its DNS answers
                lines.append(rec(ts, "dns", src_ip="100.64.0.1",
                                 **{"dns.qname": "w%d.wide.example" % n, "dns.qtype": "A",
                                    "dns.answers": v4 + "," + v6}))
            elif i % 2:
                lines.append(rec(ts, "flow", src_ip="100.64.0.%d" % (i + 1), dst_ip=v4))
            else:
                lines.append(rec(ts, "flow", src_ip=v6, dst_ip="fd00::1"))
        ck.eq(c.ingest(key, "\n".join(lines) + "\n").status, 200, "batch %d ingested" % batch)

    records = c.export_records()
    horizon = time.time() - 30 * 86400 + 3600  # inside the 30-day retro-hunt window

    def addresses(r):
        out = [r.get("src_ip"), r.get("dst_ip")]
        out += [a.strip() for a in str(r.get("dns.answers") or "").split(",")]
        for a in out:
            try:
                yield ipaddress.ip_address(a or "")
            except ValueError:
                pass

    def ts_of(r):
        return calendar.timegm(time.strptime(r["ts"][:19], "%Y-%m-%dT%H:%M:%S"))

    def brute(cidr):
        net = ipaddress.ip_network(cidr)
        return sorted(r["ts"][:19] for r in records
                      if ts_of(r) > horizon and any(a in net for a in addresses(r)
                                                    if a.version == net.version))

    def hunt(cidr):
        r = call("POST", "/api/v1/indicators", {"type": "cidr", "value": cidr, "force": True,
                                                 "publish": True, "tlp": "GREEN"})
        ck.eq(r.status, 200, "%s published (forced past the guard)" % cidr)
        rid = r.json()["added"][0]["id"]
        deadline = time.time() + 30
        one = {}
        while time.time() < deadline:
            one = call("GET", "/api/v1/indicators/%d" % rid).json()
            st = (one.get("retro_hunt") or {}).get("state") or ""
            if st and st != "running":
                break
            time.sleep(0.1)
        return one

    for cidr in ("4.0.0.0/6", "44.0.0.0/7", "2a04::/30"):
        want = brute(cidr)
        one = hunt(cidr)
        rh = one.get("retro_hunt") or {}
        got = sorted(s["record_time"][:19] for s in one.get("recent_sightings", [])
                     if s["kind"] == "retro")
        ck.check(0 < len(want) < 50, "%s: %d stored records inside (test data)" %
                 (cidr, len(want)))
        ck.eq((rh.get("state"), rh.get("hits")), ("done", len(want)),
              "%s: the hunt finds as many records as the brute-force filter" % cidr)
        ck.eq(got, want, "%s: its retro sightings are exactly the records inside" % cidr)
        ck.check(set(s["member"] for s in one.get("recent_sightings", [])) <= {acme},
                 "%s: sightings for acme only" % cidr)
        ck.check(rh.get("batches_read", 0) < rh.get("batches_scanned", 0),
                 "%s: the digests skip batches with nothing inside" % cidr, json.dumps(rh))
        print("    %s: %d hits, %d of %d batches read, %d ms" % (
            cidr, rh.get("hits", -1), rh.get("batches_read", -1),
            rh.get("batches_scanned", -1), rh.get("ms", -1)))
    one = hunt("2a00::/16")
    st = (one.get("retro_hunt") or {}).get("state") or ""
    ck.check(st.startswith("refused: 2a00::/16 is wider than /24") and "65536 /32" in st,
             "an IPv6 /16 is refused with the reason in the hunt state", st)
    with open(c.log, "rb") as f:
        ck.check(b"retro-hunt of indicator %d refused: 2a00::/16 is wider than /24" %
                 one.get("id", 0) in f.read(), "and the center logs the reason")


def sharing(args, env):
    """Import/export, TAXII 2.1 and samples at a second center with auto-publish of
    hostnames (confidence >= 60)."""
    import csv
    import email
    import email.policy
    import email.utils
    import hashlib
    import io
    ck = env.c
    conf = env.path("sharing.conf")
    with open(conf, "w") as f:
        f.write(SHARING_CONF)
        # the project's own YARA rules, compiled once by the center for every sample
        f.write("sample_yara_dir = %s\n" % os.path.join(
            os.environ.get("CW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
            "rules", "yara"))
    c = env.center(args.binary, name="sharing", extra_args=["--config", conf])

    def call(method, path, body=None, token="admin", headers=None):
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        r = c.req(method, path, body, headers, token=token)
        return r

    acme = c.add_member("acme")["id"]
    c.add_member("beta")
    tok = {}
    for name, member in (("acme_user", "acme"), ("beta_user", "beta")):
        c.admin_json("POST", "/api/v1/users", {"name": name, "role": "member_user",
                                               "member": member, "password": PASSWORD})
        tok[name] = c.req("POST", "/api/v1/login", json.dumps(
            {"name": name, "password": PASSWORD}), token=None).json()["token"]

    print("[import: per-object rejects and refusals, the rest kept]")
    r = call("POST", "/api/v1/indicators/import?format=stix&publish=true", STIX_BUNDLE)
    j = r.json()
    ck.eq((r.status, j["readable"], j["objects"], j["added"], j["published"]),
          (200, True, 4, 3 - 1, 2), "STIX: 4 objects, 2 added and published")
    ck.eq(len(j["rejected"]), 1, "STIX: the AND pattern rejected %r" % j["rejected"])
    ck.check("object 2" in j["rejected"][0]["where"] if j["rejected"] else False,
             "reject names its object", j["rejected"])
    ck.eq([x["value"] for x in j["refused"]], ["com"], "STIX: com refused by the guard")
    r = call("POST", "/api/v1/indicators/import?format=stix", b"{not json")
    ck.eq((r.status, r.json()["readable"], len(r.json()["rejected"])), (400, False, 1),
          "unreadable document: 400 with its reason")
    csv_doc = ("type,value,tlp,confidence\n"
               "domain,red-only.example,RED,90\n"
               "ipv4,203.0.113.5,GREEN,70\n"
               "ipv4,999.1.1.1,GREEN,70\n"
               "hostname,amber.bad.example,AMBER,40\n")
    r = call("POST", "/api/v1/indicators/import?format=csv&publish=true", csv_doc)
    j = r.json()
    ck.eq((r.status, j["added"], j["rejected_count"]), (200, 3, 1),
          "CSV: 3 added, the bad address rejected")
    misp = {"Event": {"info": "phish wave", "uuid": "5f1e2d3c-4b5a-4697-8899-aabbccddeeff",
                      "Tag": [{"name": "tlp:green"}], "Attribute": [
                          {"type": "domain", "value": "misp-bad.example", "to_ids": True,
                           "category": "Network activity", "uuid":
                           "6a1e2d3c-4b5a-4697-8899-aabbccddeeff"},
                          {"type": "ip-dst", "value": "not-an-ip", "to_ids": True,
                           "category": "Network activity", "uuid":
                           "7a1e2d3c-4b5a-4697-8899-aabbccddeeff"}]}}
    r = call("POST", "/api/v1/indicators/import?format=misp", misp)
    j = r.json()
    ck.eq((r.status, j["added"], j["rejected_count"], j["published"]), (200, 1, 1, 0),
          "MISP: one added as candidate, the bad address rejected")
    r = call("POST", "/api/v1/indicators/import?format=plain&publish=true",
             "green-c2.example\n", token=tok["acme_user"])
    ck.eq(r.status, 403, "members may not import")
    ck.eq(call("POST", "/api/v1/indicators/import?format=xml", "x").status, 400,
          "unknown format 400")
    # an indicator for beta only
    call("POST", "/api/v1/indicators", {"type": "domain", "value": "beta-only.example",
                                        "audience": [acme + 1], "publish": True})

    print("[export: what the caller may see]")
    pub = [x for x in call("GET", "/api/v1/indicators?state=published&limit=1000")
           .json()["indicators"]]

    def may_see(x, member):
        if x["tlp"] == "RED":
            return False  # none of these was submitted by a member
        return x["audience"] == "all" or member in x["audience"]
    r = call("GET", "/api/v1/indicators/export?format=csv", token=tok["acme_user"])
    rows = list(csv.DictReader(io.StringIO(r.text())))
    ck.eq(sorted((x["type"], x["value"], x["tlp"]) for x in rows),
          sorted((x["type"], x["value"], x["tlp"]) for x in pub if may_see(x, acme)),
          "acme's CSV export = the published indicators acme may see")
    ck.check("red-only.example" not in r.text() and "beta-only.example" not in r.text(),
             "no RED, no other audience in acme's export")
    r = call("GET", "/api/v1/indicators/export?format=csv")
    ck.eq(len(list(csv.DictReader(io.StringIO(r.text())))), len(pub),
          "the coordinator exports every published indicator")
    r = call("GET", "/api/v1/indicators/export?format=stix")
    bundle = r.json()
    ck.eq((r.status, bundle["type"]), (200, "bundle"), "STIX export is a bundle")
    back = call("POST", "/api/v1/indicators/import?format=stix", bundle).json()
    ck.eq((back["added"], back["merged"], back["rejected_count"]), (0, len(pub), 0),
          "STIX export re-imports onto itself (all merged, nothing new)")
    r = call("GET", "/api/v1/indicators/export?format=rpz", token=tok["acme_user"])
    ck.check("green-c2.example CNAME ." in r.text() and "*.green-c2.example CNAME ." in
             r.text() and "red-only" not in r.text(), "RPZ export: domain rules, no RED",
             r.text()[:400])
    r = call("GET", "/api/v1/indicators/export?format=plain&type=ipv4", token=tok["beta_user"])
    ck.eq(sorted(r.text().split()), ["198.51.100.77", "203.0.113.5"], "plain list of one type")
    misp_out = call("GET", "/api/v1/indicators/export?format=misp",
                    token=tok["beta_user"]).json()
    ck.check("beta-only.example" in json.dumps(misp_out) and
             "red-only" not in json.dumps(misp_out), "beta's MISP export has beta's audience")

    print("[TAXII 2.1]")
    TX = "application/taxii+json;version=2.1"
    hx = {"Accept": TX}
    r = call("GET", "/api/v1/taxii2/", token=tok["acme_user"], headers=hx)
    ck.eq((r.status, r.headers.get("content-type")), (200, TX), "discovery")
    root = r.json()["default"]
    r = call("GET", root + "collections/", token=tok["acme_user"], headers=hx)
    cols = {x["title"].split(":")[-1]: x for x in r.json()["collections"]}
    ck.eq(sorted(cols), ["AMBER", "AMBER+STRICT", "CLEAR", "GREEN", "RED"],
          "one collection per TLP")
    ck.check(all(x["can_read"] and not x["can_write"] for x in cols.values()), "read only")
    green = root + "collections/%s/objects/" % cols["GREEN"]["id"]
    want = sorted(x["value"] for x in pub if x["tlp"] == "GREEN" and may_see(x, acme))
    got, nxt, pages = [], None, 0
    while pages < 20:
        r = call("GET", green + "?limit=1" + ("&next=" + nxt if nxt else ""),
                 token=tok["acme_user"], headers=hx)
        env_ = r.json()
        got += [o["pattern"].split("'")[1] for o in env_["objects"]]
        pages += 1
        if not env_["more"]:
            break
        nxt = env_["next"]
    ck.eq(sorted(got), want, "GREEN objects paged one by one = acme's GREEN indicators")
    ck.eq(pages, len(want), "one page per object")
    last = r.headers.get("x-taxii-date-added-last")
    r = call("GET", green + "?added_after=" + last, token=tok["acme_user"], headers=hx)
    ck.eq((r.status, r.json()["objects"], r.json()["more"]), (200, [], False),
          "nothing added after the last date")
    red = root + "collections/%s/objects/" % cols["RED"]["id"]
    ck.eq(call("GET", red, token=tok["beta_user"], headers=hx).json()["objects"], [],
          "RED collection empty for a member")
    ck.eq(len(call("GET", red, headers=hx).json()["objects"]), 1,
          "the coordinator sees the RED indicator")
    r = call("GET", root + "collections/%s/manifest/" % cols["GREEN"]["id"],
             token=tok["acme_user"], headers=hx)
    ck.eq(len(r.json()["objects"]), len(want), "manifest lists the same objects")
    ck.eq(call("GET", green, token=tok["acme_user"], headers={"Accept": "text/html"}).status,
          406, "a non-TAXII Accept answers 406")
    ck.eq(call("GET", green + "?next=bogus", token=tok["acme_user"], headers=hx).status, 400,
          "a bad cursor answers 400")
    taxii_reads(ck, call, tok, root, cols)

    print("[samples: a member submits an e-mail]")
    path = os.path.join(args.shared, "data", "eml", "eml_parser", "github_issue_48.eml")
    with open(path, "rb") as f:
        mail = f.read()
    r = call("POST", "/api/v1/samples?name=github_issue_48.eml", mail, token=tok["acme_user"])
    ck.require(r.status == 201, "sample accepted (201)", r.text()[:300])
    sj = r.json()
    ck.eq((sj["kind"], sj["sha256"]), ("email", hashlib.sha256(mail).hexdigest()),
          "an e-mail, with its sha256")
    msg = email.message_from_bytes(mail, policy=email.policy.compat32)
    rcpt = [a for _, a in email.utils.getaddresses(msg.get_all("To", []))]
    own = sorted({a.rsplit("@", 1)[1].lower() for a in rcpt})

    def host_of(k):
        v = k["value"]
        if k["type"] == "email":
            return v.rsplit("@", 1)[1]
        if k["type"] == "url":
            return v.split("://", 1)[1].split("/", 1)[0].split(":")[0]
        return v if k["type"] in ("domain", "hostname") else None
    for k in sj["candidates"]:
        h = host_of(k)
        mine = h is not None and any(h == d or h.endswith("." + d) for d in own)
        ck.eq("skipped" in k, mine, "candidate %s %s: skipped iff in the recipient's domain"
              % (k["type"], k["value"][:50]))
    cand = {(k["type"], k["value"]): k for k in sj["candidates"]}
    hostk = cand.get(("hostname", "www.mambaoffers.xyz"), {})
    urlk = cand.get(("url", "http://www.mambaoffers.xyz/lc.html"), {})
    ck.eq((hostk.get("state"), hostk.get("auto_published")), ("published", True),
          "hostname auto-published (type listed, confidence 60)")
    ck.eq(urlk.get("state"), "candidate", "URL stays a candidate (type not listed)")
    one = call("GET", "/api/v1/indicators/%d" % hostk.get("indicator", 0)).json()
    ck.eq((one["source"], one.get("source_member"), one.get("sample")),
          ("sample", acme, sj["id"]), "coordinator sees source sample and member")
    r = call("GET", "/api/v1/indicators/%d" % hostk.get("indicator", 0), token=tok["beta_user"])
    bj = r.json()
    ck.eq(r.status, 200, "beta sees the published hostname")
    ck.check(not ({"source_member", "created_by", "source_name", "sample"} & set(bj)) and
             "acme" not in r.text() and "github_issue_48" not in r.text(),
             "nothing of acme or its sample in what beta gets", r.text())
    st = call("GET", "/api/v1/rpz/feed?since=0").json()
    ck.check(any(x["name"] == "www.mambaoffers.xyz" and x["wildcard"] is False
                 for x in st["rules"]), "the auto-published hostname is in the feed")
    ck.eq(call("GET", "/api/v1/samples", token=tok["beta_user"]).json()["samples"], [],
          "beta lists no samples")
    ck.eq(call("GET", "/api/v1/samples/%d" % sj["id"], token=tok["beta_user"]).status, 404,
          "beta cannot read acme's sample")
    mine = call("GET", "/api/v1/samples/%d" % sj["id"], token=tok["acme_user"]).json()
    ck.eq((mine["member"], mine["report"]["kind"] if mine.get("report") else None,
           len(mine["candidates"])), (acme, "email", len(sj["candidates"])),
          "acme reads its sample with report and candidates")
    blob = bytes((i * 7919) % 251 for i in range(100000))
    r = call("POST", "/api/v1/samples?name=blob.bin", blob, token=tok["acme_user"])
    ck.eq((r.status, r.json().get("kind"), r.json().get("sha256")),
          (201, "file", hashlib.sha256(blob).hexdigest()), "a binary file is analysed")
    rep = call("GET", "/api/v1/samples/%d" % r.json()["id"], token=tok["acme_user"]).json()
    ck.check("pe_executable" not in json.dumps(rep), "no YARA hit on random bytes")
    # the smallest shape rules/yara/pe.yar accepts: MZ, e_lfanew = 0x40, "PE\0\0" there
    pe = bytearray(0x80)
    pe[0:2] = b"MZ"
    pe[0x3C:0x40] = (0x40).to_bytes(4, "little")
    pe[0x40:0x44] = b"PE\0\0"
    r = call("POST", "/api/v1/samples?name=tool.exe", bytes(pe), token=tok["acme_user"])
    ck.eq(r.status, 201, "a PE file is analysed")
    rep = call("GET", "/api/v1/samples/%d" % r.json()["id"], token=tok["acme_user"]).json()
    ck.check("pe_executable" in json.dumps(rep["report"]),
             "the center's YARA rules (sample_yara_dir) match the PE", json.dumps(rep)[:600])
    ck.eq(call("POST", "/api/v1/samples?name=x.eml", "", token=tok["acme_user"]).status, 400,
          "empty sample 400")
    ck.eq(call("POST", "/api/v1/samples", "x", token=tok["acme_user"]).status, 400,
          "sample without a name 400")
    ck.eq(call("POST", "/api/v1/samples?name=a/b", "x", token=tok["acme_user"]).status, 400,
          "a name with a slash 400")

    print("[retro-hunt reads only matching lines, case-insensitively]")
    key = c.add_sensor("acme", "resolver")["key"]
    early = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 7200))
    lines = [rec(early, "dns", src_ip="10.1.0.%d" % (i % 250 + 1),
                 **{"dns.qname": "n%d.filler.example" % i, "dns.qtype": "A"})
             for i in range(2000)]
    lines[700] = rec(early, "dns", src_ip="10.1.0.99",
                     **{"dns.qname": "WWW.Retro-Case.EXAMPLE", "dns.qtype": "A"})
    lines[1500] = rec(early, "http", src_ip="10.1.0.98",
                      **{"http.host": "cdn.retro-case.example", "http.path": "/x",
                         "http.method": "GET"})
    ck.eq(c.ingest(key, "\n".join(lines) + "\n").status, 200, "2000 records ingested")
    r = call("POST", "/api/v1/indicators", {"type": "domain", "value": "retro-case.example",
                                            "publish": True, "tlp": "GREEN"})
    rid = r.json()["added"][0]["id"]
    deadline = time.time() + 20
    rh = {}
    while time.time() < deadline and rh.get("state") != "done":
        rh = call("GET", "/api/v1/indicators/%d" % rid).json().get("retro_hunt") or {}
        time.sleep(0.1)
    ck.eq((rh.get("state"), rh.get("hits"), rh.get("batches_read")), ("done", 2, 1),
          "both records (upper-case qname, http host) found in the one batch")

    wide_cidrs(ck, c, call, acme)
    publish_race(ck, c, call)

    print("[admin CLI]")
    base = [args.binary, "admin", "--center", c.url, "--token-file",
            os.path.join(c.data_dir, "admin.token")]
    r = cwtest.run(base + ["ioc", "add", "cli-added[.]example", "--tlp", "GREEN", "--publish"])
    ck.eq(r.returncode, 0, "admin ioc add --publish", )
    r = cwtest.run(base + ["ioc", "add", "com", "--type", "domain"])
    ck.check(r.returncode == 1 and b"com is a" in r.stdout, "admin ioc add com: refused "
             "with the guard's reason", r.stdout[:300])
    r = cwtest.run(base + ["ioc", "list", "--q", "cli-added"])
    ck.check(r.returncode == 0 and b"cli-added.example" in r.stdout and b"published" in
             r.stdout, "admin ioc list shows it", r.stdout[:300])
    r = cwtest.run(base + ["ioc", "import", "-", "--format", "plain", "--publish"],
                   input_bytes=b"cli-import.example\n0.0.0.0/0\n")
    j = json.loads(r.stdout or b"{}")
    ck.eq((r.returncode, j.get("added"), j.get("refused_count")), (0, 1, 1),
          "admin ioc import: one added, the /0 refused")
    r = cwtest.run(base + ["ioc", "export", "--format", "plain", "--type", "domain"])
    ck.check(b"cli-import.example" in r.stdout and b"cli-added.example" in r.stdout,
             "admin ioc export lists both", r.stdout[:300])
    r = cwtest.run(base + ["sample", "submit", path])
    ck.check(r.returncode == 0 and b"www.mambaoffers.xyz" in r.stdout, "admin sample submit "
             "prints the candidates", r.stdout[:300])
    ck.eq(c.stop(), 0, "clean stop")


if __name__ == "__main__":
    main()
