#!/usr/bin/env python3
"""test_isolation.py - member isolation: every API operation walked as member A.

Sets up a real center with two members, A and B, each with a sensor, a member_admin and a
member_user (people log in once each), detections and events from EVE alerts ("ET EXPLOIT
Ivanti Connect Secure Command Injection Attempt" from distinct sources), an asset, and an
ingest batch sent with an Idempotency-Key. Takes a snapshot of everything of B as the
admin (events, each event's details, detections, noise, assets, sensors, users, member
totals, suppressions, the records export).

Then every operation of docs/openapi.json (the walk is driven by the file: an operation
without a walk recipe fails the test, so a new endpoint cannot go unwalked) is called
without credential, as A's member_admin, as A's member_user and as A's sensor key, with
B's ids and names wherever an id or a member can go (path {id}, ?member=, ?event=, body
"member", a B user name, B's idempotency key, B's addresses in ingested lines). Checks:
  - no answer contains anything of B: B's name, addresses, host names, user names,
    sensor name or key, member id, event or detection ids (structural JSON walk);
  - the status is exact: 401 without credential (non-public), 403 when the role may not
    call the operation (the sensor key everywhere but ingest, member roles on coordinator
    operations), otherwise the recipe's status (404 for B's member or ids, 200 with an
    own-only list where a filter is narrowed, 201 for A's own creations);
  - naming B answers exactly as naming a member or id that does not exist (404s must not
    tell that B exists);
  - positive controls: A's member user sees exactly A's events, detections, noise counts
    and assets, A's member admin exactly A's sensors and users, A's sensor ingests into A;
  - afterwards B's snapshot is unchanged and nothing the walk tried to create exists.
Prints a table: operation x caller -> the statuses of its variants.

A failing check here is a finding about the center: it is reported, not worked around.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(os.environ.get("CW_SOURCE_DIR", os.path.join(HERE, "..", "..")),
                   "docs", "openapi.json")

SIG = "ET EXPLOIT Ivanti Connect Secure Command Injection Attempt"
A_NAME, B_NAME = "acme-alpha", "kinsei-bravo"
A_SRC = ["198.51.100.11", "198.51.100.12", "198.51.100.13"]
B_SRC = ["203.0.113.71", "203.0.113.72", "203.0.113.73"]
A_DST, B_DST = "10.1.1.10", "172.16.9.9"
A_HOST, B_HOST = "vpn.acme-alpha.example", "vpn.kinsei-bravo.example"
A_ASSET_HOST, B_ASSET_HOST = "gw.acme-alpha.example", "sslvpn.kinsei-bravo.example"
B_ASSET_ADDR = "172.16.9.200"
A_ADMIN, A_USER = "acme-alpha-admin", "acme-alpha-analyst"
B_ADMIN, B_USER = "kinsei-bravo-admin", "kinsei-bravo-viewer"
A_SENSOR, B_SENSOR = "acme-alpha-gw", "kinsei-bravo-gw"
B_IDEM = "kinsei-bravo-batch-0001"
PASSWORD = "correct horse battery staple"
GHOST_MEMBER = "nosuch-member"   # a member that does not exist
GHOST_ID = 987654                # an id that does not exist
B_NOTICE_TITLE = "bravo-notice-confidential"
SNEAK = "sneak"                  # prefix of every name the walk tries to create for B

CALLERS = ["anon", "A.member_admin", "A.member_user", "A.sensor", "S.sector_user"]
ROLE_OF = {"A.member_admin": "member_admin", "A.member_user": "member_user",
           "A.sensor": "sensor"}
ALLOWED = {  # access class (x-crosswatch-access) -> roles it admits (of the ones walked)
    "public": {"member_admin", "member_user", "sensor"},
    "sensor": {"sensor"},
    "coordinator_admin": set(),
    "coordinator": set(),
    "member_admin": {"member_admin"},
    "user": {"member_admin", "member_user"},
    "feed": {"sensor"},
}

# A sector body's user (CEPTOAR-like, A's sector; docs/incidents.md): it may call only
# the sharing routes (access "organization") and sees only its sectors' items.
ROLE_OF["S.sector_user"] = "sector_user"
ALLOWED["public"] = ALLOWED["public"] | {"sector_user"}
ALLOWED["organization"] = {"member_admin", "member_user", "sector_user"}
B_INCIDENT_TITLE, B_ALERT_TITLE = "bravo-incident-confidential", "bravo-alert-confidential"


def alert(i, src, dst, host, status=200):
    return json.dumps({
        "timestamp": "2024-05-01T12:%02d:%02d.000000+0000" % (i // 60, i % 60),
        "flow_id": 7000 + i, "event_type": "alert", "src_ip": src, "src_port": 40000 + i,
        "dest_ip": dst, "dest_port": 443, "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2050100, "rev": 2,
                  "signature": SIG, "category": "Attempted Administrator Privilege Gain",
                  "severity": 1},
        "http": {"hostname": host, "url": "/api/v1/totp/user-backup-code/../../license/x",
                 "http_method": "GET", "status": status}}, separators=(",", ":"))


def alerts(srcs, dst, host, start=0):
    return "".join(alert(start + i, s, dst, host) + "\n" for i, s in enumerate(srcs))


class Variant:
    """One request of a walk recipe. expect: status for the callers the operation
    admits (int, or dict role -> int). twin: the same request naming a member or id that
    does not exist instead of B's (path, body), whose answer must be the same. check:
    fn(caller, resp) for positive / own-only checks. echo: B values the request itself
    carries that an answer may repeat (the caller already knows them)."""

    def __init__(self, label, path, body=None, expect=200, twin=None, check=None, echo=(),
                 headers=None, b_token=None, ghost_token=None):
        self.label, self.path, self.body, self.expect = label, path, body, expect
        self.twin, self.check, self.echo, self.headers = twin, check, set(echo), headers
        self.b_token, self.ghost_token = b_token, ghost_token


def jbody(d):
    return json.dumps(d)


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_isolation", keep=args.keep) as env:
        ck = env.c
        c = env.center(args.binary, extra_args=["--threads", "2"])

        def admin_get(path):
            r = c.req("GET", path)
            ck.require(r.status == 200, "admin GET %s -> 200" % path, repr(r))
            return r.json()

        # ------------------------------------------------------------ setup
        print("[setup: members A and B, sensors, people, data]")
        ma, mb = c.add_member(A_NAME), c.add_member(B_NAME)
        A_ID, B_ID = ma["id"], mb["id"]
        sa, sb = c.add_sensor(A_NAME, A_SENSOR), c.add_sensor(B_NAME, B_SENSOR)
        A_KEY, B_KEY = sa["key"], sb["key"]
        A_SID, B_SID = sa["id"], sb["id"]
        B_KEY_PREFIX = "_".join(B_KEY.split("_")[:2])  # cwk_<key id>
        c.admin_json("POST", "/api/v1/users", {"name": A_ADMIN, "role": "member_admin",
                                               "member": A_NAME, "password": PASSWORD})
        c.admin_json("POST", "/api/v1/users", {"name": B_ADMIN, "role": "member_admin",
                                               "member": B_NAME, "password": PASSWORD})
        c.admin_json("POST", "/api/v1/users", {"name": B_USER, "role": "member_user",
                                               "member": B_NAME, "password": PASSWORD})

        def login(name):
            r = c.req("POST", "/api/v1/login", jbody({"name": name, "password": PASSWORD}),
                      token=None)
            ck.require(r.status == 200, "login %s -> 200" % name, repr(r))
            return r.json()["token"]

        tok = {"anon": None, "A.sensor": A_KEY}
        tok["A.member_admin"] = login(A_ADMIN)
        # A's member admin creates A's member user (a member admin's own right)
        r = c.req("POST", "/api/v1/users", jbody({"name": A_USER, "role": "member_user",
                                                  "password": PASSWORD}),
                  token=tok["A.member_admin"])
        ck.require(r.status == 201 and r.json().get("member_id") == A_ID,
                   "A's member admin creates A's member user (201, member A)", repr(r))
        tok["A.member_user"] = login(A_USER)
        NAME_OF = {"A.member_admin": A_ADMIN, "A.member_user": A_USER}

        for key, body, what in [(A_KEY, alerts(A_SRC, A_DST, A_HOST), "A"),
                                (B_KEY, alerts(B_SRC, B_DST, B_HOST), "B")]:
            r = c.ingest(key, body, "eve")
            ck.require(r.status == 200 and r.json()["accepted"] == 3,
                       "%s's sensor ingests 3 Ivanti alerts" % what, repr(r))
        # B: a keyed batch with one bad line (its answer lists B's reject)
        r = c.ingest(B_KEY, alerts(B_SRC[:1], B_DST, B_HOST, start=10) + "{not json\n", "eve",
                     headers={"Idempotency-Key": B_IDEM})
        ck.require(r.status == 200 and r.json()["accepted"] == 1 and
                   r.json()["rejected_count"] == 1, "B's keyed batch: 1 accepted, 1 rejected",
                   repr(r))
        c.admin_json("POST", "/api/v1/assets", {"member": A_NAME, "host": A_ASSET_HOST,
                                                "products": "ivanti_connect_secure"})
        c.admin_json("POST", "/api/v1/assets", {"member": B_NAME, "host": B_ASSET_HOST,
                                                "address": B_ASSET_ADDR,
                                                "products": "ivanti_connect_secure"})

        # B gets a notice (通報) about its event, and a webhook
        b_ev = admin_get("/api/v1/events?member=%s" % B_NAME)["events"][0]["id"]
        c.admin_json("POST", "/api/v1/events/%d/state" % b_ev, {"state": "investigating"})
        B_NOTICE = c.admin_json("POST", "/api/v1/notices", {
            "member": B_NAME, "events": [b_ev], "title": B_NOTICE_TITLE,
            "what": "seen", "why": "matters", "action": "patch",
            "answer_by": "2099-01-01T00:00:00Z"})["id"]
        # ... with an attachment (docs/web.md)
        r = c.req("POST", "/api/v1/notices/%d/attachments?name=bravo-evidence.txt" % B_NOTICE,
                  "bravo evidence file")
        ck.require(r.status == 201, "B's notice gets an attachment", repr(r))
        B_ATT = r.json()["id"]
        c.admin_json("POST", "/api/v1/members/%d/webhook" % B_ID,
                     {"url": "http://127.0.0.1:9/bravo-hook", "secret": "bravo-secret-0123456789"})

        # the sharing system: A and B in two sectors, a sector body of A's sector with a
        # user, B's incident report (from B's own user), an alert to B's sector, a drill
        # whose only contact is B
        for code in ("alpha-sector", "bravo-sector"):
            c.admin_json("POST", "/api/v1/sectors", {"code": code, "name_ja": code,
                                                     "name_en": code})
        c.admin_json("POST", "/api/v1/members/%d/sector" % A_ID, {"sector": "alpha-sector"})
        c.admin_json("POST", "/api/v1/members/%d/sector" % B_ID, {"sector": "bravo-sector"})
        S_ORG = c.admin_json("POST", "/api/v1/orgs", {"name": "alpha-ceptoar",
                                                      "kind": "sector_body",
                                                      "sectors": ["alpha-sector"]})["id"]
        for name, kind in (("bravo-ceptoar", "sector_body"), ("bravo-ministry", "ministry")):
            c.admin_json("POST", "/api/v1/orgs", {"name": name, "kind": kind,
                                                  "sectors": ["bravo-sector"]})
        c.admin_json("POST", "/api/v1/orgs/%d/users" % S_ORG, {"name": "alpha-ceptoar-user",
                                                               "password": PASSWORD})
        tok["S.sector_user"] = login("alpha-ceptoar-user")
        r = c.req("POST", "/api/v1/incidents", jbody({"title": B_INCIDENT_TITLE, "event": "E1"}),
                  token=login(B_USER))
        ck.require(r.status == 201, "B's user reports an incident", repr(r))
        B_INC = r.json()["id"]
        A_INC = c.admin_json("POST", "/api/v1/incidents", {"member": A_NAME, "title": "alpha-inc",
                                                           "event": "E3"})["id"]
        B_ALERT = c.admin_json("POST", "/api/v1/alerts", {"title": B_ALERT_TITLE,
                                                          "sectors": ["bravo-sector"]})["id"]
        B_DRILL = c.admin_json("POST", "/api/v1/drills", {
            "title": "bravo-drill", "deadline": "%s" % __import__("datetime").datetime.fromtimestamp(
                __import__("time").time() + 3600, __import__("datetime").timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"), "contacts": {"members": [B_NAME]}})["id"]

        # ------------------------------------------------------------ what A and B have
        def member_view(ref, mid):
            ev = admin_get("/api/v1/events?member=%s&limit=1000" % ref)["events"]
            det = admin_get("/api/v1/detections?member=%s&limit=1000" % ref)["detections"]
            return {
                "member": [m for m in admin_get("/api/v1/members")["members"]
                           if m["id"] == mid],
                "events": ev,
                "event_details": {e["id"]: admin_get("/api/v1/events/%d" % e["id"])
                                  for e in ev},
                "detections": det,
                "noise": admin_get("/api/v1/noise?member=%s" % ref),
                "assets": [a for a in admin_get("/api/v1/assets")["assets"]
                           if a["member_id"] == mid],
                "sensors": admin_get("/api/v1/sensors?member=%s" % ref)["sensors"],
                "users": [u for u in admin_get("/api/v1/users")["users"]
                          if u["member"] == ref],
                "suppressions": [s for s in admin_get("/api/v1/suppressions")["suppressions"]
                                 if s["member_id"] == mid],
                "records": c.export_records(member=ref),
                "notices": [admin_get("/api/v1/notices/%d" % n["id"]) for n in
                            admin_get("/api/v1/notices?member=%s" % ref)["notices"]],
                "webhook": admin_get("/api/v1/members/%d/webhook" % mid),
                "incidents": admin_get("/api/v1/incidents?member=%s&limit=1000" % ref)[
                    "incidents"],
                "attachments": [admin_get("/api/v1/notices/%d/attachments" % n["id"]) for n in
                                admin_get("/api/v1/notices?member=%s" % ref)["notices"]],
            }

        A0, B0 = member_view(A_NAME, A_ID), member_view(B_NAME, B_ID)
        A_EVENTS = [e["id"] for e in A0["events"]]
        B_EVENTS = [e["id"] for e in B0["events"]]
        A_DETS = [d["id"] for d in A0["detections"]]
        B_DETS = {d["id"] for d in B0["detections"]}
        ck.require(len(A_EVENTS) >= 1 and len(B_EVENTS) >= 1, "A and B each have events",
                   "(A %r, B %r)" % (A_EVENTS, B_EVENTS))
        ck.require(len(A_DETS) == 3 and len(B_DETS) == 4, "detections: A 3, B 4",
                   "(A %d, B %d)" % (len(A_DETS), len(B_DETS)))
        ck.require(not set(A_EVENTS) & set(B_EVENTS), "A's and B's events are distinct")
        ck.eq((len(B0["assets"]), len(B0["sensors"]), len(B0["users"]), len(B0["records"])),
              (1, 1, 2, 4), "B has (assets, sensors, users, records)")
        B_EVENT = B_EVENTS[0]

        B_STRINGS = [B_NAME, B_ADMIN, B_USER, B_SENSOR, B_KEY, B_KEY_PREFIX, B_HOST,
                     B_ASSET_HOST, B_ASSET_ADDR, B_DST, B_IDEM, B_NOTICE_TITLE,
                     "bravo-hook", "bravo-secret", B_INCIDENT_TITLE, B_ALERT_TITLE,
                     "bravo-drill", "bravo-ceptoar", "bravo-ministry", "bravo-sector", "bravo-evidence"] + B_SRC

        def leaks(text, allow=()):
            """Everything of B found in an answer (strings, and ids by JSON structure)."""
            scan = text
            for v in sorted(allow, key=len, reverse=True):
                scan = scan.replace(v, "<echo>")  # B_USER contains B_NAME: drop it whole
            found = [v for v in B_STRINGS if v not in allow and v in scan]
            docs = []
            try:
                docs = [json.loads(text)]
            except ValueError:
                for ln in text.splitlines():  # NDJSON
                    try:
                        docs.append(json.loads(ln))
                    except ValueError:
                        pass

            def walk(x):
                if isinstance(x, dict):
                    for k, v in x.items():
                        if k in ("member_id", "member") and v == B_ID and \
                                not isinstance(v, bool):
                            found.append("%s=%r (B's id)" % (k, v))
                        if k == "sensor" and v == B_SID and not isinstance(v, bool):
                            found.append("sensor=%r (B's sensor)" % v)
                        if k == "event_id" and v in B_EVENTS:
                            found.append("event_id=%r (B's event)" % v)
                        if k in ("member_ids", "event_ids") and isinstance(v, list):
                            bad = B_ID if k == "member_ids" else None
                            if (bad in v) or (k == "event_ids" and set(v) & set(B_EVENTS)):
                                found.append("%s=%r" % (k, v))
                    if "attack_class" in x and "state" in x and x.get("id") in B_EVENTS:
                        found.append("event id %r (B's)" % x["id"])
                    if "noise" in x and "rule_id" in x and x.get("id") in B_DETS:
                        found.append("detection id %r (B's)" % x["id"])
                    for v in x.values():
                        walk(v)
                elif isinstance(x, list):
                    for v in x:
                        walk(v)
            for d in docs:
                walk(d)
            return found

        # the detector itself finds B in the admin's view of B (positive control)
        ck.check(len(set(leaks(json.dumps(B0)))) >= 8,
                 "the leak detector finds B's values in the admin's view of B",
                 repr(sorted(set(leaks(json.dumps(B0))))))
        ck.eq(leaks(json.dumps(A0)), [], "nothing of B in the admin's view of A")

        # ------------------------------------------------------------ positive checks
        def own_only(caller, r):
            """Every member reference in the answer is A."""
            bad = []

            def walk(x):
                if isinstance(x, dict):
                    for k, v in x.items():
                        if k in ("member_id", "member") and v is not None and \
                                v not in (A_ID, A_NAME):
                            bad.append("%s=%r" % (k, v))
                        walk(v)
                elif isinstance(x, list):
                    for v in x:
                        walk(v)
            walk(r.json())
            ck.eq(bad, [], "%s: only A's member in the answer" % caller)

        def same_as(want, key=None, what=""):
            def f(caller, r):
                got = r.json()
                if key:
                    got = got.get(key)
                ck.eq(got, want, "%s: %s" % (caller, what))
            return f

        def ids_are(key, want, what):
            def f(caller, r):
                ck.eq(sorted(x["id"] for x in r.json()[key]), sorted(want),
                      "%s: %s" % (caller, what))
            return f

        def both(*fs):
            def f(caller, r):
                for g in fs:
                    g(caller, r)
            return f

        def empty(key):
            def f(caller, r):
                ck.eq(r.json().get(key), [], "%s: %s is empty" % (caller, key))
            return f

        def me_check(caller, r):
            j = r.json()
            ck.eq((j.get("name"), j.get("role"), j.get("member_id")),
                  (NAME_OF[caller], ROLE_OF[caller], A_ID), "%s: /me is itself" % caller)

        A_USERS = [u["name"] for u in member_view_users(admin_get, A_NAME)]

        def users_check(caller, r):
            own_only(caller, r)
            ck.eq(sorted(u["name"] for u in r.json()["users"]),
                  sorted(u["name"] for u in member_view_users(admin_get, A_NAME)),
                  "%s: exactly A's users" % caller)
        ck.eq(sorted(A_USERS), sorted([A_ADMIN, A_USER]), "A's users")

        created = {"assets": 0, "users": 0}

        def asset_created(caller, r):
            created["assets"] += 1
            aid = r.json()["id"]
            mine = [a for a in admin_get("/api/v1/assets")["assets"] if a["id"] == aid]
            ck.eq([a["member_id"] for a in mine], [A_ID], "%s: new asset belongs to A" % caller)

        def user_created(caller, r):
            created["users"] += 1
            ck.eq(r.json().get("member_id"), A_ID, "%s: new user belongs to A" % caller)

        ingested = []  # markers of what A's sensor ingested

        def ingest_ok(n, marker):
            def f(caller, r):
                j = r.json()
                ck.eq((j["accepted"], j["rejected_count"], j["duplicate"]), (n, 0, False),
                      "%s: ingest answer (accepted, rejected_count, duplicate)" % caller)
                ingested.append((marker, n))
            return f

        # ------------------------------------------------------------ walk recipes
        # Each: (method, path template) -> list of Variants. B's member: by name and by id.
        def member_q(base, sep="?", expect=404, check=None, label="?member=B"):
            out = []
            for ref, ghost in [(B_NAME, GHOST_MEMBER), (str(B_ID), str(GHOST_ID))]:
                out.append(Variant("%s(%s)" % (label, "name" if ref == B_NAME else "id"),
                                   "%s%smember=%s" % (base, sep, ref), expect=expect,
                                   twin=("%s%smember=%s" % (base, sep, ghost), None),
                                   check=check, b_token=ref, ghost_token=ghost))
            return out

        def member_body(path, fields, expect=404, label="body member=B", check=None):
            out = []
            for ref, ghost in [(B_NAME, GHOST_MEMBER), (str(B_ID), str(GHOST_ID))]:
                b = dict(fields, member=ref)
                g = dict(fields, member=ghost)
                out.append(Variant("%s(%s)" % (label, "name" if ref == B_NAME else "id"),
                                   path, jbody(b), expect=expect, twin=(path, jbody(g)),
                                   check=check, b_token=ref, ghost_token=ghost))
            return out

        def b_id_path(tmpl, ids, body=None, expect=404, label="{id}=B's"):
            return [Variant("%s (id %d)" % (label, i), tmpl.replace("{id}", str(i)), body,
                            expect=expect, twin=(tmpl.replace("{id}", str(GHOST_ID)), body),
                            b_token=str(i), ghost_token=str(GHOST_ID)) for i in ids]

        events_own = both(own_only, ids_are("events", A_EVENTS, "exactly A's events"))
        dets_own = both(own_only, ids_are("detections", A_DETS, "exactly A's detections"))
        noise_own = both(own_only, same_as(A0["noise"], what="exactly A's noise counts"))
        assets_own = both(own_only, ids_are("assets", [a["id"] for a in A0["assets"]],
                                            "exactly A's assets"))
        sensors_own = both(own_only, ids_are("sensors", [A_SID], "exactly A's sensor"))
        state_body = jbody({"state": "investigating", "reason": "isolation walk"})
        supp = {"class": "edge_exploit", "source": B_SRC[0], "owner": SNEAK, "reason": SNEAK,
                "expires": "2099-01-01T00:00:00Z"}

        SERIES = "/api/v1/series?metric=records&bucket=day&from=2024-04-01T00:00:00Z" \
                 "&to=2024-06-01T00:00:00Z"

        def live_own(caller, r):
            data = [ln[6:] for ln in r.text().splitlines() if ln.startswith("data: ")]
            ck.eq(len(data), 1, "%s: one counters message" % caller)
            a_recs = sum(s["records"] for s in
                         admin_get("/api/v1/sensors?member=%s" % A_NAME)["sensors"])
            ck.eq(json.loads(data[0])["records_in"] if data else None, a_recs,
                  "%s: live records_in is A's" % caller)

        def series_own(caller, r):
            ck.eq(sum(p["value"] for p in r.json()["points"]), len(A0["records"]),
                  "%s: records series sums to A's records" % caller)

        def summary_own(caller, r):
            ck.eq([(x["key"], x["label"]) for x in r.json()["rows"]], [(str(A_ID), A_NAME)],
                  "%s: summary by member is A alone" % caller)

        org_expect = {"member_admin": 404, "member_user": 404, "sector_user": 404}
        R = {
            # the sharing system (docs/incidents.md)
            ("GET", "/api/v1/incident-taxonomy"): [Variant("", "/api/v1/incident-taxonomy")],
            ("GET", "/api/v1/sectors"): [Variant("", "/api/v1/sectors")],
            ("POST", "/api/v1/sectors"): [Variant("", "/api/v1/sectors", jbody(
                {"code": SNEAK, "name_ja": SNEAK, "name_en": SNEAK}))],
            ("POST", "/api/v1/members/{id}/sector"): b_id_path(
                "/api/v1/members/{id}/sector", [B_ID], jbody({"sector": "alpha-sector"}),
                label="{id}=B"),
            ("GET", "/api/v1/orgs"): [Variant("", "/api/v1/orgs")],
            ("POST", "/api/v1/orgs"): [Variant("", "/api/v1/orgs", jbody(
                {"name": SNEAK, "kind": "ministry", "sectors": ["bravo-sector"]}))],
            ("POST", "/api/v1/orgs/{id}/users"): [Variant("", "/api/v1/orgs/%d/users" % S_ORG,
                                                          jbody({"name": SNEAK + "-org-user",
                                                                 "password": PASSWORD}))],
            ("POST", "/api/v1/incidents"): member_body(
                "/api/v1/incidents", {"title": SNEAK},
                expect={"member_admin": 404, "member_user": 404, "sector_user": 403}) + [
                Variant("own", "/api/v1/incidents", jbody({"title": "alpha-walk", "event": "E3"}),
                        expect={"member_admin": 201, "member_user": 201, "sector_user": 403},
                        check=own_only)],
            ("GET", "/api/v1/incidents"): [Variant("own", "/api/v1/incidents", check=own_only)]
            + member_q("/api/v1/incidents", expect=org_expect),
            ("POST", "/api/v1/incidents/import"): [Variant("", "/api/v1/incidents/import",
                                                           jbody({"member": B_NAME,
                                                                  "title": SNEAK}))],
            ("GET", "/api/v1/incidents/{id}"): b_id_path("/api/v1/incidents/{id}", [B_INC]) + [
                Variant("{id}=A's", "/api/v1/incidents/%d" % A_INC, check=own_only)],
            ("POST", "/api/v1/incidents/{id}/update"): b_id_path(
                "/api/v1/incidents/{id}/update", [B_INC], jbody({"note": SNEAK})),
            ("POST", "/api/v1/incidents/{id}/classify"): b_id_path(
                "/api/v1/incidents/{id}/classify", [B_INC], jbody({"event": "E0"})),
            ("POST", "/api/v1/incidents/{id}/read"): b_id_path(
                "/api/v1/incidents/{id}/read", [B_INC], jbody({})),
            ("POST", "/api/v1/incidents/{id}/forward"): b_id_path(
                "/api/v1/incidents/{id}/forward", [B_INC], jbody({})),
            ("POST", "/api/v1/alerts"): [Variant("to B's sector", "/api/v1/alerts", jbody(
                {"title": SNEAK, "sectors": ["bravo-sector"]}), expect=403)],
            ("GET", "/api/v1/alerts"): [Variant("own", "/api/v1/alerts", check=empty("alerts"))],
            ("GET", "/api/v1/alerts/{id}"): b_id_path("/api/v1/alerts/{id}", [B_ALERT]),
            ("POST", "/api/v1/alerts/{id}/read"): b_id_path(
                "/api/v1/alerts/{id}/read", [B_ALERT], jbody({})),
            ("POST", "/api/v1/alerts/{id}/forward"): b_id_path(
                "/api/v1/alerts/{id}/forward", [B_ALERT], jbody({})),
            ("GET", "/api/v1/stats/incidents"): [Variant("", "/api/v1/stats/incidents?fy=2023")],
            ("POST", "/api/v1/drills"): [Variant("", "/api/v1/drills", jbody(
                {"title": SNEAK, "deadline": "2099-01-01T00:00:00Z", "contacts": "all"}))],
            ("GET", "/api/v1/drills"): [Variant("own", "/api/v1/drills", check=empty("drills"))],
            ("POST", "/api/v1/drills/{id}/answer"): b_id_path(
                "/api/v1/drills/{id}/answer", [B_DRILL], jbody({})),
            ("GET", "/api/v1/drills/{id}/report"): b_id_path(
                "/api/v1/drills/{id}/report", [B_DRILL]),
            ("POST", "/api/v1/ingest"): [
                # nothing in a body or query chooses the member: a record naming B's
                # member and sensor, sent with ?member=B, is A's
                Variant("ndjson naming B", "/api/v1/ingest?format=ndjson&member=%s" % B_NAME,
                        json.dumps({"ts": "2024-05-01T13:00:00Z", "kind": "http",
                                    "src_ip": B_SRC[1], "member": B_ID, "sensor": B_SID,
                                    "member_name": B_NAME, "http.path": "/iso-marker-1"}) + "\n",
                        check=ingest_ok(1, "/iso-marker-1")),
                # B's sources against B's target: must not join B's events
                Variant("eve with B's addresses", "/api/v1/ingest?format=eve",
                        alerts(B_SRC, B_DST, B_HOST, start=30), check=ingest_ok(3, B_SRC[0])),
                # B's Idempotency-Key from A's sensor is a new batch, not B's duplicate
                Variant("B's Idempotency-Key", "/api/v1/ingest?format=eve",
                        alerts(A_SRC[:2], A_DST, A_HOST, start=40),
                        headers={"Idempotency-Key": B_IDEM}, check=ingest_ok(2, A_SRC[0])),
            ],
            ("GET", "/api/v1/health"): [
                Variant("", "/api/v1/health", check=same_as({"status": "ok"}, what="ok"))],
            ("GET", "/api/v1/members"): [Variant("", "/api/v1/members")],
            ("POST", "/api/v1/members"): [
                Variant("name=B", "/api/v1/members", jbody({"name": B_NAME}), echo=[B_NAME]),
                Variant("new", "/api/v1/members", jbody({"name": SNEAK + "-member"}))],
            ("GET", "/api/v1/sensors"): [Variant("own", "/api/v1/sensors", check=sensors_own)]
            + member_q("/api/v1/sensors"),
            ("POST", "/api/v1/sensors"): member_body("/api/v1/sensors",
                                                     {"name": SNEAK + "-sensor"}),
            ("POST", "/api/v1/sensors/{id}/revoke"): b_id_path(
                "/api/v1/sensors/{id}/revoke", [B_SID], label="{id}=B's sensor"),
            ("GET", "/api/v1/stats"): [Variant("", "/api/v1/stats")],
            ("GET", "/api/v1/records"): [Variant("", "/api/v1/records?after=0&batches=100")]
            + member_q("/api/v1/records?after=0", sep="&"),
            ("GET", "/api/v1/events"): [
                Variant("own", "/api/v1/events", check=events_own),
                Variant("?member=A", "/api/v1/events?member=%s" % A_NAME, check=events_own),
            ] + member_q("/api/v1/events"),
            ("GET", "/api/v1/events/{id}"): b_id_path("/api/v1/events/{id}", B_EVENTS) + [
                Variant("{id}=A's", "/api/v1/events/%d" % A_EVENTS[0],
                        check=both(own_only, same_as(A_EVENTS[0], "id", "A's event")))],
            ("POST", "/api/v1/events/{id}/state"): b_id_path(
                "/api/v1/events/{id}/state", B_EVENTS, state_body),
            ("POST", "/api/v1/events/{id}/assign"): b_id_path(
                "/api/v1/events/{id}/assign", B_EVENTS, jbody({"assignee": ""})),
            ("POST", "/api/v1/events/{id}/merge"): b_id_path(
                "/api/v1/events/{id}/merge", B_EVENTS, jbody({"into": A_EVENTS[0]}),
                label="B's {id} into A's") + [
                Variant("A's into B's", "/api/v1/events/%d/merge" % A_EVENTS[0],
                        jbody({"into": B_EVENT}),
                        twin=("/api/v1/events/%d/merge" % A_EVENTS[0],
                              jbody({"into": GHOST_ID})),
                        b_token=str(B_EVENT), ghost_token=str(GHOST_ID))],
            ("POST", "/api/v1/events/{id}/split"): b_id_path(
                "/api/v1/events/{id}/split", B_EVENTS, jbody({"sources": [B_SRC[0]]}),
                label="B's {id}") + [
                Variant("A's, B's source", "/api/v1/events/%d/split" % A_EVENTS[0],
                        jbody({"sources": [B_SRC[0]]}), echo=[B_SRC[0]])],
            ("GET", "/api/v1/detections"): [
                Variant("own", "/api/v1/detections?limit=1000", check=dets_own),
                Variant("?event=B's", "/api/v1/detections?event=%d" % B_EVENT,
                        check=empty("detections"),
                        twin=("/api/v1/detections?event=%d" % GHOST_ID, None),
                        b_token=str(B_EVENT), ghost_token=str(GHOST_ID)),
                Variant("?event=B's&member=A", "/api/v1/detections?event=%d&member=%s" %
                        (B_EVENT, A_NAME), check=empty("detections")),
            ] + member_q("/api/v1/detections") + member_q(
                "/api/v1/detections?event=%d" % B_EVENT, sep="&", label="?event=B's&member=B"),
            ("GET", "/api/v1/noise"): [Variant("own", "/api/v1/noise", check=noise_own)]
            + member_q("/api/v1/noise"),
            ("GET", "/api/v1/campaigns"): [Variant("", "/api/v1/campaigns")],
            # indicators: no member owns one; members only read published shared ones
            ("POST", "/api/v1/indicators"): [Variant("", "/api/v1/indicators",
                                                     jbody({"value": SNEAK + ".example"}))],
            ("GET", "/api/v1/indicators"): [Variant("", "/api/v1/indicators")],
            ("GET", "/api/v1/indicators/{id}"): [
                Variant("ghost", "/api/v1/indicators/%d" % GHOST_ID, expect=404)],
            ("POST", "/api/v1/indicators/{id}/publish"): [
                Variant("ghost", "/api/v1/indicators/%d/publish" % GHOST_ID, jbody({}))],
            ("POST", "/api/v1/indicators/{id}/revoke"): [
                Variant("ghost", "/api/v1/indicators/%d/revoke" % GHOST_ID, jbody({}))],
            ("GET", "/api/v1/rpz/feed"): [Variant("", "/api/v1/rpz/feed?since=0")],
            ("POST", "/api/v1/notices"): member_body("/api/v1/notices", {
                "events": [B_EVENT], "title": SNEAK, "what": SNEAK, "why": SNEAK,
                "action": SNEAK, "answer_by": "2099-01-01T00:00:00Z"}),
            ("GET", "/api/v1/notices"): [Variant("own", "/api/v1/notices",
                                                 check=empty("notices"))]
            + member_q("/api/v1/notices"),
            ("GET", "/api/v1/notices/overdue"): [Variant("", "/api/v1/notices/overdue")],
            ("GET", "/api/v1/notices/{id}"): b_id_path("/api/v1/notices/{id}", [B_NOTICE],
                                                       label="{id}=B's notice"),
            ("POST", "/api/v1/notices/{id}/ack"): b_id_path(
                "/api/v1/notices/{id}/ack", [B_NOTICE], jbody({}), label="{id}=B's notice"),
            ("POST", "/api/v1/notices/{id}/answer"): b_id_path(
                "/api/v1/notices/{id}/answer", [B_NOTICE], jbody({"text": SNEAK}),
                label="{id}=B's notice"),
            ("POST", "/api/v1/notices/{id}/close"): b_id_path(
                "/api/v1/notices/{id}/close", [B_NOTICE], jbody({}), label="{id}=B's notice"),
            ("GET", "/api/v1/notices/{id}/deliveries"): b_id_path(
                "/api/v1/notices/{id}/deliveries", [B_NOTICE], label="{id}=B's notice"),
            ("GET", "/api/v1/notice-templates"): [Variant("", "/api/v1/notice-templates")],
            # the watch floor (docs/web.md)
            ("POST", "/api/v1/session"): [
                # B's admin (not B's user, whom the login walk already tried 4 times)
                Variant("B's admin, wrong password", "/api/v1/session",
                        jbody({"name": B_ADMIN, "password": "not the password!"}), expect=401,
                        twin=("/api/v1/session", jbody({"name": SNEAK + "-nobody",
                                                        "password": "not the password!"})),
                        b_token=B_ADMIN, ghost_token=SNEAK + "-nobody")],
            ("POST", "/api/v1/session/logout"): [
                Variant("bearer (not a browser session)", "/api/v1/session/logout", jbody({}),
                        expect=400)],
            ("GET", "/api/v1/live"): [Variant("once", "/api/v1/live?once=1", check=live_own)],
            ("GET", "/api/v1/series"): [Variant("own records", SERIES, check=series_own)]
            + member_q(SERIES, sep="&"),
            ("GET", "/api/v1/summary"): [
                Variant("group=member", "/api/v1/summary?group=member", check=summary_own)]
            + member_q("/api/v1/summary?group=attack_class", sep="&"),
            ("GET", "/api/v1/notices/stats"): [
                Variant("own", "/api/v1/notices/stats",
                        check=same_as({"months": [], "fiscal_years": []}, what="A has no notices"))]
            + member_q("/api/v1/notices/stats"),
            ("POST", "/api/v1/notices/{id}/attachments"): b_id_path(
                "/api/v1/notices/{id}/attachments?name=%s.txt" % SNEAK, [B_NOTICE], SNEAK,
                label="{id}=B's notice"),
            ("GET", "/api/v1/notices/{id}/attachments"): b_id_path(
                "/api/v1/notices/{id}/attachments", [B_NOTICE], label="{id}=B's notice"),
            ("GET", "/api/v1/attachments/{id}"): b_id_path(
                "/api/v1/attachments/{id}", [B_ATT], label="{id}=B's attachment"),
            ("GET", "/api/v1/members/{id}/webhook"): b_id_path(
                "/api/v1/members/{id}/webhook", [B_ID], label="{id}=B"),
            ("POST", "/api/v1/members/{id}/webhook"): b_id_path(
                "/api/v1/members/{id}/webhook", [B_ID],
                jbody({"url": "http://127.0.0.1:9/" + SNEAK, "secret": SNEAK + "-secret-0123"}),
                label="{id}=B"),
            ("GET", "/api/v1/rules"): [Variant("", "/api/v1/rules")],
            ("POST", "/api/v1/rules/reload"): [Variant("", "/api/v1/rules/reload", jbody({}))],
            ("GET", "/api/v1/assets"): [
                Variant("own", "/api/v1/assets", check=assets_own),
                # the list takes no ?member=: it stays A's own
                Variant("?member=B", "/api/v1/assets?member=%s" % B_NAME, check=assets_own)],
            ("POST", "/api/v1/assets"): member_body(
                "/api/v1/assets", {"host": SNEAK + ".example", "products": "x"}) + [
                Variant("own", "/api/v1/assets", jbody({"host": "new." + A_ASSET_HOST,
                                                         "products": "ivanti_connect_secure"}),
                        expect=201, check=asset_created)],
            ("GET", "/api/v1/suppressions"): [Variant("", "/api/v1/suppressions")],
            ("POST", "/api/v1/suppressions"): member_body("/api/v1/suppressions", supp)
            + [Variant("all members", "/api/v1/suppressions", jbody(supp), echo=[B_SRC[0]])],
            ("POST", "/api/v1/login"): [
                # one wrong password per caller (3 < the 5 that lock the account)
                Variant("B's user, wrong password", "/api/v1/login",
                        jbody({"name": B_USER, "password": "not the password!"}), expect=401,
                        twin=("/api/v1/login", jbody({"name": SNEAK + "-nobody",
                                                      "password": "not the password!"})),
                        b_token=B_USER, ghost_token=SNEAK + "-nobody")],
            ("GET", "/api/v1/me"): [Variant("", "/api/v1/me", check=me_check)],
            ("GET", "/api/v1/users"): [
                Variant("own", "/api/v1/users", check=users_check),
                Variant("?member=B", "/api/v1/users?member=%s" % B_NAME, check=users_check)],
            ("POST", "/api/v1/users"): member_body(
                "/api/v1/users", {"name": SNEAK + "-user", "role": "member_user",
                                  "password": PASSWORD}) + [
                Variant("role coordinator_admin", "/api/v1/users",
                        jbody({"name": SNEAK + "-coord", "role": "coordinator_admin",
                               "password": PASSWORD}), expect=403),
                Variant("role coordinator_analyst", "/api/v1/users",
                        jbody({"name": SNEAK + "-analyst", "role": "coordinator_analyst",
                               "password": PASSWORD}), expect=403),
                # user names are global: an existing name of B answers 409 (and tells
                # the name exists; the caller chose it) but changes nothing of B
                Variant("name of B's user", "/api/v1/users",
                        jbody({"name": B_USER, "role": "member_user", "password": PASSWORD}),
                        expect=409, echo=[B_USER]),
                Variant("own", "/api/v1/users",
                        jbody({"name": "acme-alpha-new", "role": "member_user",
                               "password": PASSWORD}), expect=201, check=user_created)],
        }

        # samples, import/export and TAXII (docs/indicators.md): B's own sample stays B's
        walk_mail = ("From: x@walk.example\r\nTo: y@%s.example\r\nSubject: walk\r\n\r\n"
                     "see http://walk-sneak.example/a\r\n" % A_NAME)
        b_mail = ("From: x@%s-phish.example\r\nTo: y@%s.example\r\nSubject: %s\r\n\r\n"
                  "see http://bravo-phish.example/a\r\n" % (B_NAME, B_NAME, B_NAME))
        r = c.req("POST", "/api/v1/samples?name=%s.eml" % B_NAME, b_mail, token=login(B_ADMIN))
        ck.require(r.status == 201, "B's member admin submits a sample (201)", repr(r))
        B_SAMPLE = r.json()["id"]

        def samples_own(caller, r):
            ck.eq(sorted({s["member"] for s in r.json()["samples"]}), [A_ID],
                  "%s: only A's samples listed" % caller)

        R[("POST", "/api/v1/samples")] = [Variant("own", "/api/v1/samples?name=walk.eml",
                                                  walk_mail, expect=201)]
        R[("GET", "/api/v1/samples")] = [Variant("own", "/api/v1/samples", check=samples_own)]
        R[("GET", "/api/v1/samples/{id}")] = b_id_path("/api/v1/samples/{id}", [B_SAMPLE],
                                                       label="{id}=B's sample")
        R[("POST", "/api/v1/indicators/import")] = [
            Variant("", "/api/v1/indicators/import?format=plain", SNEAK + ".example\n")]
        # a revoked indicator for B's audience: A's include_revoked=1 export must lack it
        rv = c.admin_json("POST", "/api/v1/indicators", {
            "type": "domain", "value": B_NAME + "-revoked.example", "tlp": "GREEN",
            "audience": [B_ID], "publish": True})["added"][0]["id"]
        c.admin_json("POST", "/api/v1/indicators/%d/revoke" % rv)
        R[("GET", "/api/v1/indicators/export")] = [
            Variant(f, "/api/v1/indicators/export?format=" + f)
            for f in ("stix", "misp", "csv", "plain", "rpz", "stix&include_revoked=1")]
        with open(DOC) as f:
            for p_ in json.load(f)["paths"]:
                if p_.startswith("/api/v1/taxii2/") or p_ == "/taxii2/":
                    R[("GET", p_)] = [Variant("", p_)]
        # TAXII object by id and its versions: per TLP collection an indicator for B's
        # audience only (A: 404, as for an id that does not exist) and one for all (A: 200)
        ghost_oid = "indicator--00000000-0000-5000-8000-000000000000"
        taxii_oid = {}

        def one_object(want_id, versions):
            def f(caller, r):
                j = r.json()
                got = j.get("versions", []) if versions else [o["id"] for o in j["objects"]]
                ck.eq(len(got), 1, "%s: one %s" % (caller, "version" if versions else "object"))
                if not versions:
                    ck.eq(got, [want_id], "%s: the object asked for" % caller)
            return f
        for p_ in [k[1] for k in R if "{object_id}" in k[1]]:
            coll = p_.split("/objects/")[0] + "/"
            tlp = admin_get(coll)["title"].split(":")[-1]
            if coll not in taxii_oid:
                taxii_oid[coll] = {}
                for who, aud in (("b", [B_ID]), ("all", "all")):
                    value = "%s-taxii-%s-%s.example" % (B_NAME if who == "b" else "shared",
                                                       tlp.lower().replace("+", "-"), who)
                    c.admin_json("POST", "/api/v1/indicators", {
                        "type": "domain", "value": value, "tlp": tlp, "audience": aud,
                        "publish": True})
                    taxii_oid[coll][who] = [
                        o["id"] for o in admin_get(coll + "objects/?limit=1000")["objects"]
                        if "'%s'" % value in o["pattern"]][0]
            oid = taxii_oid[coll]
            # RED holds only what the member submitted itself: A sees neither
            R[("GET", p_)] = [
                Variant("B's audience", p_.replace("{object_id}", oid["b"]), expect=404,
                        twin=(p_.replace("{object_id}", ghost_oid), None)),
                Variant("all members", p_.replace("{object_id}", oid["all"]),
                        expect=404 if tlp == "RED" else 200,
                        check=one_object(oid["all"], p_.endswith("/versions/")))]

        # ------------------------------------------------------------ the operations
        with open(DOC) as f:
            spec = json.load(f)
        ops = []
        for path, item in spec["paths"].items():
            for method, o in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    ops.append((method.upper(), path, o.get("x-crosswatch-access")))
        ck.check(len(ops) >= 20, "docs/openapi.json has the operations", "(%d)" % len(ops))
        for m, p, _ in ops:
            ck.check((m, p) in R, "walk recipe for %s %s" % (m, p),
                     "(none: add one to test_isolation.py)")
        for key in sorted(set(R) - {(m, p) for m, p, _ in ops}):
            ck.check(False, "recipe %s %s is a documented operation" % key, "(stale recipe)")
        # ingest last: its variants put B's addresses into A's own data
        ops.sort(key=lambda o: (o[0], o[1]) == ("POST", "/api/v1/ingest"))

        # ------------------------------------------------------------ walk
        table = {}

        def norm(text, b_tok, ghost_tok):
            if b_tok:
                text = text.replace(b_tok, "<X>")
            if ghost_tok:
                text = text.replace(ghost_tok, "<X>")
            return text

        def call(caller, path, body, headers):
            h = dict(headers or {})
            if body is not None:
                h["Content-Type"] = "application/json"
            return c.req(m, path, body, h, token=tok[caller])

        for m, p, access in ops:
            print("[%s %s  access %s]" % (m, p, access))
            variants = R.get((m, p), [])
            for caller in CALLERS:
                cells = []
                if caller == "S.sector_user" and access == "public":
                    continue  # a fifth wrong password would lock B's users (login recipe)
                for v in variants:
                    if caller == "anon":
                        want = 401 if access != "public" else (
                            v.expect if isinstance(v.expect, int) else v.expect["anon"])
                    elif ROLE_OF[caller] not in ALLOWED.get(access, set()):
                        want = 403
                    else:
                        want = v.expect if isinstance(v.expect, int) else \
                            v.expect[ROLE_OF[caller]]
                    # independent of the file: a sensor key only ingests (and reads the
                    # RPZ feed), members never reach coordinator operations
                    if caller == "A.sensor" and access != "public" and \
                            (m, p) not in (("POST", "/api/v1/ingest"), ("GET", "/api/v1/rpz/feed")):
                        want = 403
                    if caller in ("A.member_admin", "A.member_user", "S.sector_user") and \
                            access in ("coordinator", "coordinator_admin"):
                        want = 403
                    r = call(caller, v.path, v.body, v.headers)
                    cells.append(str(r.status))
                    what = "%s %s [%s] as %s" % (m, p, v.label, caller) if v.label else \
                        "%s %s as %s" % (m, p, caller)
                    ck.eq(r.status, want, what + ": status")
                    found = leaks(r.text(), allow=v.echo)
                    ck.eq(found, [], what + ": nothing of B in the answer")
                    if v.twin and r.status != 403 and r.status != 401:
                        rt = call(caller, v.twin[0], v.twin[1], v.headers)
                        b_ans = (r.status, norm(r.text(), v.b_token, None))
                        g_ans = (rt.status, norm(rt.text(), None, v.ghost_token))
                        ck.check(b_ans == g_ans, what + ": answers as for a member/id that "
                                 "does not exist", "(for B: %r, for one that does not "
                                 "exist: %r)" % (b_ans, g_ans))
                    if v.check and r.status == want and 200 <= r.status < 300:
                        v.check(caller, r)
                table[(m, p, caller)] = "/".join(cells) if cells else "-"

        # ------------------------------------------------------------ afterwards
        print("[afterwards: B unchanged, nothing created for B]")
        B1 = member_view(B_NAME, B_ID)
        for k in B0:
            ck.check(B1[k] == B0[k], "B's %s unchanged" % k,
                     "\n    before %s\n    after  %s" % (json.dumps(B0[k])[:600],
                                                        json.dumps(B1[k])[:600]))
        ck.eq([mm["name"] for mm in admin_get("/api/v1/members")["members"]],
              [A_NAME, B_NAME], "members: still A and B only")
        names = json.dumps([admin_get(q) for q in ("/api/v1/users", "/api/v1/assets",
                                                   "/api/v1/sensors", "/api/v1/suppressions")])
        ck.check(SNEAK not in names, "nothing the walk tried to create for B exists")
        ck.eq(admin_get("/api/v1/suppressions")["suppressions"], [], "no suppressions")
        ck.eq(created, {"assets": 1, "users": 1},
              "A's member admin created one asset and one user for A")
        ck.eq(sorted(u["name"] for u in member_view_users(admin_get, A_NAME)),
              sorted([A_ADMIN, A_USER, "acme-alpha-new"]), "A's users after the walk")
        recs = c.export_records(member=A_NAME)
        ck.eq(len(recs), len(A0["records"]) + sum(n for _, n in ingested),
              "A's records: before + what A's sensor ingested")
        ck.check(any(r.get("http.path") == "/iso-marker-1" and r.get("member") == A_ID and
                     r.get("sensor") == A_SID for r in recs),
                 "the record naming B's member and sensor is stored as A's")
        ck.eq(sorted(s["id"] for s in admin_get("/api/v1/sensors")["sensors"]
                     if s["revoked"]), [], "no sensor revoked")

        # ------------------------------------------------------------ table
        print("\noperation x caller -> status of each variant")
        w = max(len("%s %s" % (m, p)) for m, p, _ in ops) + 2
        cw = {x: max([len(x)] + [len(table.get((m, p, x), "-")) for m, p, _ in ops]) + 2
              for x in CALLERS}
        print("%-*s%-19s" % (w, "operation", "access") +
              "".join("%-*s" % (cw[x], x) for x in CALLERS))
        for m, p, access in ops:
            print("%-*s%-19s" % (w, "%s %s" % (m, p), access) +
                  "".join("%-*s" % (cw[x], table.get((m, p, x), "-")) for x in CALLERS))
        print()
        if env.sanitizer_reports():
            ck.eq(env.sanitizer_reports(), [], "sanitizer reports in the center log")


def member_view_users(admin_get, name):
    return [u for u in admin_get("/api/v1/users")["users"] if u["member"] == name]


if __name__ == "__main__":
    main()
