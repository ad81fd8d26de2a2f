#!/usr/bin/env python3
"""test_incidents.py - the information-sharing system on a real center (issue 10).

  1. taxonomy: the national report's codes and Japanese terms, as served;
  2. the national table: tests/fixtures/incidents_fy2019_2023.ndjson (one record per
     incident / information item) imported with `crosswatch admin incident import`, then
     `crosswatch admin stats --fy 2023` prints exactly the published FY2019-FY2023 table
     (the table is written out below and parsed here, independently of the fixture's
     generator); importing the file again adds nothing; CSV and JSON agree;
  3. a member's report flows up (member -> ministry -> coordinator) and a coordinator
     alert flows down (coordinator -> sector body -> members), with delivery and read
     receipts at each hop;
  4. isolation: a sector body / ministry sees its sectors only, never other sectors'
     reports or any member's events and notices; members never see each other's;
  5. bad input: unknown codes, dates outside the fiscal year, reports for another member,
     bad fiscal years, an import with one bad line (nothing imported, nothing counted
     twice);
  6. a drill: two contacts answer, one answers after the deadline (refused, shown late),
     one stays silent; the report says so.
"""
import datetime
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR", os.path.join(HERE, "..", ".."))
FIXTURE = os.path.join(SRC, "tests", "fixtures", "incidents_fy2019_2023.ndjson")
PASSWORD = "correct horse battery staple"

# The table of issue 10 as published (units: cases; FY2019..FY2022; FY2023 1Q-4Q = total)
PUBLISHED = """
reports from operators to the coordinator: FY2019 269, FY2020 309, FY2021 407, FY2022 302; FY2023 99 53 63 57 = 272
information from ministries/agencies: 16, 16, 6, 2; 0 7 3 9 = 19
information provided by the coordinator: 38, 64, 91, 83; 25 37 34 31 = 127
event — not occurred (warning sign / near miss): 12, 28, 25, 28; 9 1 2 0 = 12
event — threatens confidentiality: 13, 23, 29, 17; 9 4 4 3 = 20
event — threatens integrity: 11, 12, 20, 15; 5 6 3 4 = 18
event — threatens availability: 158, 157, 181, 145; 56 31 30 31 = 148
event — leading: malware infection: 9, 18, 46, 38; 2 4 8 6 = 20
event — leading: unauthorized code execution: 5, 3, 2, 1; 1 0 1 1 = 3
event — leading: intrusion into systems: 14, 26, 24, 22; 6 2 1 4 = 13
event — leading: other: 47, 42, 80, 36; 11 5 14 8 = 38
cause — suspicious mail received: 13, 9, 47, 39; 4 0 3 0 = 7
cause — impersonation of user IDs: 12, 9, 7, 7; 4 0 0 3 = 7
cause — DDoS / mass access: 20, 10, 19, 28; 16 6 2 8 = 32
cause — unauthorized acquisition of information: 8, 13, 13, 10; 5 2 3 0 = 10
cause — insider fraud: 0, 0, 1, 1; 0 1 1 0 = 2
cause — appropriate system operation not carried out: 11, 23, 15, 8; 2 0 3 2 = 7
cause — user operation error: 6, 18, 10, 12; 4 0 3 3 = 10
cause — user management error: 6, 13, 14, 7; 4 0 0 4 = 8
cause — execution of a suspicious file: 7, 7, 22, 26; 1 0 1 0 = 2
cause — browsing a suspicious site: 5, 3, 6, 4; 4 1 4 2 = 11
cause — contractor management error: 39, 56, 107, 49; 14 12 19 5 = 50
cause — equipment failure: 62, 39, 38, 43; 8 12 7 11 = 38
cause — system vulnerability: 16, 38, 32, 12; 11 6 15 3 = 35
cause — spill-over from another sector's outage: 4, 7, 10, 7; 1 2 2 0 = 5
cause — environmental: 13, 9, 3, 5; 0 1 0 0 = 1
cause — other: 33, 35, 48, 29; 14 10 10 7 = 41
cause — unknown: 53, 68, 79, 62; 21 6 8 16 = 51
attack kind — total: 87, 100, 174, 143; 52 18 26 27 = 123
attack kind — ransomware: 8, 13, 46, 30; 8 5 14 9 = 36
attack kind — malware other than ransomware: 11, 8, 29, 27; 2 1 0 1 = 4
attack kind — DDoS / mass access: 14, 4, 15, 25; 10 6 3 9 = 28
attack kind — other: 54, 75, 84, 61; 32 6 9 8 = 55
"""


def published():
    """[(label, [9 ints])] in published order."""
    out = []
    for line in PUBLISHED.strip().splitlines():
        m = re.fullmatch(r"(.+): ([^:]+); (?:FY2023 )?(\d+) (\d+) (\d+) (\d+) = (\d+)", line)
        assert m, line
        years = [int(re.sub(r"FY\d{4} ", "", x).strip()) for x in m.group(2).split(",")]
        assert len(years) == 4, line
        out.append((m.group(1), years + [int(m.group(i)) for i in range(3, 8)]))
    return out


def printed(text):
    """Rows of `crosswatch admin stats` output: label, 4 years | 4 quarters | total."""
    rows = []
    for line in text.splitlines():
        m = re.fullmatch(r"(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+) \|\s+(\d+)\s+(\d+)\s+(\d+)"
                         r"\s+(\d+) \|\s+(\d+)", line)
        if m:
            rows.append((m.group(1).strip(), [int(m.group(i)) for i in range(2, 11)]))
    return rows


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_incidents", keep=args.keep) as env:
        ck = env.c
        c = env.center(args.binary, extra_args=["--threads", "4"])
        tokfile = os.path.join(c.data_dir, "admin.token")

        def api(method, path, body=None, token="admin", raw=False):
            h = {"Content-Type": "application/json"} if body is not None else {}
            data = body if raw or body is None else json.dumps(body)
            return c.req(method, path, data, h, token=token)

        def ok(method, path, body=None, token="admin", want=(200, 201)):
            r = api(method, path, body, token)
            ck.require(r.status in want, "%s %s -> %s" % (method, path, want), repr(r))
            return r.json()

        def cli(*argv, token_file=tokfile):
            return cwtest.run([args.binary, "admin", "--center", c.url, "--token-file",
                               token_file] + list(argv), timeout=120)

        # ------------------------------------------------------------ setup
        print("[setup: sectors, members, sector bodies, ministries, people]")
        ok("POST", "/api/v1/sectors", {"code": "energy", "name_ja": "電力", "name_en": "energy"})
        ok("POST", "/api/v1/sectors", {"code": "finance", "name_ja": "金融",
                                       "name_en": "finance"})
        fixture_members = sorted({json.loads(ln)["member"] for ln in open(FIXTURE)
                                  if '"member"' in ln})
        mids = {}
        for name in fixture_members + ["acme-power", "bravo-bank"]:
            mids[name] = c.add_member(name)["id"]
            ok("POST", "/api/v1/members/%d/sector" % mids[name],
               {"sector": "finance" if name == "bravo-bank" else "energy"})
        orgs = {}
        for name, kind, sec in [("fx-ministry", "ministry", "energy"),
                                ("finance-ministry", "ministry", "finance"),
                                ("energy-ceptoar", "sector_body", "energy"),
                                ("finance-ceptoar", "sector_body", "finance")]:
            orgs[name] = ok("POST", "/api/v1/orgs", {"name": name, "kind": kind,
                                                      "sectors": [sec]})["id"]

        def login(name):
            return ok("POST", "/api/v1/login", {"name": name, "password": PASSWORD},
                      token=None)["token"]
        ok("POST", "/api/v1/users", {"name": "acme-user", "role": "member_user",
                                     "member": "acme-power", "password": PASSWORD})
        ok("POST", "/api/v1/users", {"name": "bravo-user", "role": "member_user",
                                     "member": "bravo-bank", "password": PASSWORD})
        for u, o in [("meti-user", "fx-ministry"), ("fsa-user", "finance-ministry"),
                     ("energy-user", "energy-ceptoar"), ("finance-user", "finance-ceptoar")]:
            ok("POST", "/api/v1/orgs/%d/users" % orgs[o], {"name": u, "password": PASSWORD})
        # an organization role without its organization: refused, nothing created
        for role in ("sector_user", "ministry_user"):
            r = api("POST", "/api/v1/users", {"name": "orphan-" + role, "role": role,
                                              "password": PASSWORD})
            ck.eq(r.status, 400, "POST /users role %s without an organization" % role)
            ck.check("/api/v1/orgs/{id}/users" in r.json().get("error", ""),
                     "the refusal names the organization route", r.body)
        names = [u["name"] for u in ok("GET", "/api/v1/users")["users"]]
        ck.check(not any(n.startswith("orphan-") for n in names), "no such user was created",
                 names)
        T = {u: login(u) for u in ["acme-user", "bravo-user", "meti-user", "fsa-user",
                                    "energy-user", "finance-user"]}
        me = ok("GET", "/api/v1/me", token=T["acme-user"])
        ck.eq(me.get("role"), "member_user", "acme-user's role")

        # ------------------------------------------------------------ 1. taxonomy
        print("[1. taxonomy]")
        tx = ok("GET", "/api/v1/incident-taxonomy", token=T["energy-user"])
        ck.eq([len(tx["event"]), len(tx["cause"]), len(tx["attack"])], [8, 17, 4],
              "entries (event, cause, attack)")
        byc = {e["code"]: e for d in ("event", "cause", "attack") for e in tx[d]}
        ck.eq(byc["E0"]["ja"], "未発生(予兆・ヒヤリハット)", "E0 in Japanese")
        ck.eq(byc["E3"]["ja"], "可用性を脅かす事象", "E3 in Japanese")
        ck.eq(byc["C11"]["ja"], "外部委託先の管理不備", "C11 in Japanese")
        ck.eq(byc["C14"]["ja"], "他分野の障害からの波及", "C14 in Japanese")
        ck.eq(byc["A2"]["ja"], "ランサムウェア以外のマルウェア", "A2 in Japanese")
        ck.eq(tx["multi"], {"event": False, "cause": True, "attack": False}, "multi-select")

        # ------------------------------------------------------------ 2. the national table
        print("[2. the national table from the fixture]")
        t0 = time.monotonic()
        r = cli("incident", "import", FIXTURE)
        ck.require(r.returncode == 0, "admin incident import exits 0", r.stderr.decode()[-500:])
        lines = sum(1 for ln in open(FIXTURE) if ln.strip())
        ck.eq(json.loads(r.stdout), {"records": lines, "added": lines, "duplicates": 0},
              "import answer")
        ck.note("import of %d records: %.2f s" % (lines, time.monotonic() - t0))
        r = cli("incident", "import", FIXTURE)
        ck.eq(json.loads(r.stdout), {"records": lines, "added": 0, "duplicates": lines},
              "importing the same file again adds nothing")
        r = cli("stats", "--fy", "2023")
        ck.require(r.returncode == 0, "admin stats --fy 2023 exits 0", r.stderr.decode())
        out = r.stdout.decode()
        print(out)
        want = published()
        got = printed(out)
        ck.eq(len(want), 33, "the published table has 33 rows")
        ck.eq(got[:len(want)], want, "admin stats --fy 2023 prints the published table exactly")
        head = out.splitlines()[1].split()
        ck.eq(head, ["FY2019", "FY2020", "FY2021", "FY2022", "|", "1Q", "2Q", "3Q", "4Q", "|",
                     "FY2023"], "the column header")
        ck.eq([lbl for lbl, _ in got[len(want):]],
              ["monitoring — events requiring confirmation", "monitoring — notices sent",
               "monitoring — indicators shared", "monitoring — vulnerability advisories sent"],
              "monitoring rows follow")
        csv = cli("stats", "--fy", "2023", "--csv").stdout.decode().splitlines()
        ck.eq(csv[0].split(",")[3:], ["FY2019", "FY2020", "FY2021", "FY2022", "FY2023 1Q",
                                      "FY2023 2Q", "FY2023 3Q", "FY2023 4Q", "FY2023"],
              "CSV header")
        csv_rows = [[int(x) for x in ln.split(",")[-9:]] for ln in csv[1:34]]
        ck.eq(csv_rows, [v for _, v in want], "CSV has the same numbers")
        js = ok("GET", "/api/v1/stats/incidents?fy=2022")
        fy22 = {row["key"]: row["values"] for row in js["rows"]}
        ck.eq(fy22["reports"][8], 302, "FY2022 total as the year's own table")
        ck.eq(fy22["reports"][:4], [0, 269, 309, 407], "FY2022 table: FY2018..FY2021 columns")
        ck.eq(sum(fy22["cause.C11"][4:8]), 49, "FY2022 quarters add up to the year")
        base = ok("GET", "/api/v1/stats/incidents?fy=2023")

        # ------------------------------------------------------------ 3. flows with receipts
        print("[3. a report flows up, an alert flows down, with receipts]")
        inc = ok("POST", "/api/v1/incidents", {"title": "control network outage",
                                               "what": "HMI lost contact with RTUs",
                                               "systems": "SCADA", "event": "E3",
                                               "causes": ["C12", "equipment_failure"][:1]},
                 token=T["acme-user"])
        iid = inc["id"]
        ck.eq((inc["member"], inc["sector"], inc["event"], inc["causes"], inc["status"]),
              ("acme-power", "energy", "E3", ["C12"], "reported"), "the report as stored")
        hop = [(x["hop"], x["to_kind"], x["to"]) for x in
               ok("GET", "/api/v1/incidents/%d" % iid)["receipts"]]
        ck.eq(hop, [(1, "ministry", "fx-ministry")], "hop 1: the energy sector's ministry")
        lst = ok("GET", "/api/v1/incidents?after=%d" % (iid - 1), token=T["meti-user"])["incidents"]
        ck.check(iid in [x["id"] for x in lst], "the ministry's inbox has the report")
        rc = ok("GET", "/api/v1/incidents/%d" % iid)["receipts"][0]
        ck.check(rc["delivered"] is not None and rc["read"] is None,
                 "ministry receipt: delivered, not read", repr(rc))
        ok("POST", "/api/v1/incidents/%d/read" % iid, token=T["meti-user"])
        r = api("POST", "/api/v1/incidents/%d/read" % iid, token=T["meti-user"])
        ck.eq(r.status, 409, "reading twice: 409 (one read receipt)")
        r = api("POST", "/api/v1/incidents/%d/forward" % iid, token=T["acme-user"])
        ck.eq(r.status, 403, "a member does not forward its report")
        ok("POST", "/api/v1/incidents/%d/forward" % iid, token=T["meti-user"])
        r = api("POST", "/api/v1/incidents/%d/forward" % iid, token=T["meti-user"])
        ck.eq(r.status, 409, "forwarding twice: 409")
        ok("POST", "/api/v1/incidents/%d/read" % iid)  # the coordinator
        d = ok("GET", "/api/v1/incidents/%d" % iid)
        rs = [(x["hop"], x["to_kind"], x["to"], x["via"], x["read"] is not None,
               x["read_by"]) for x in d["receipts"]]
        ck.eq(rs, [(1, "ministry", "fx-ministry", None, True, "meti-user"),
                   (2, "coordinator", "coordinator", "fx-ministry", True, "admin")],
              "receipts: ministry read it, forwarded it, the coordinator read it")
        mine = ok("GET", "/api/v1/incidents/%d" % iid, token=T["acme-user"])["receipts"]
        ck.eq([(x["hop"], x["to"], x["read"] is not None) for x in mine],
              [(1, "fx-ministry", True), (2, "coordinator", True)],
              "the reporting member follows its report up both hops")
        ok("POST", "/api/v1/incidents/%d/update" % iid, {"status": "recovered",
                                                         "note": "RTU replaced"},
           token=T["acme-user"])
        ok("POST", "/api/v1/incidents/%d/classify" % iid, {"causes": ["C12", "C13"],
                                                           "attack": None})
        d = ok("GET", "/api/v1/incidents/%d" % iid, token=T["acme-user"])
        ck.eq((d["status"], d["causes"]), ("recovered", ["C12", "C13"]), "updated and classified")
        ck.check(any("status reported -> recovered: RTU replaced" == h["change"]
                     for h in d["history"]), "the status update is in the history",
                 repr(d["history"]))
        r = api("POST", "/api/v1/incidents/%d/update" % iid, {"status": "closed"},
                token=T["meti-user"])
        ck.eq(r.status, 403, "a ministry does not change a member's report")

        al = ok("POST", "/api/v1/alerts", {"title": "ransomware campaign against ICS vendors",
                                           "body": "patch the VPN", "sectors": ["energy"],
                                           "kind": "advisory"})
        aid = al["id"]
        ck.eq([(x["hop"], x["to_kind"], x["to"]) for x in al["receipts"]],
              [(1, "sector_body", "energy-ceptoar")], "alert hop 1: the energy sector body")
        r = api("GET", "/api/v1/alerts/%d" % aid, token=T["finance-user"])
        ck.eq(r.status, 404, "another sector's body does not see the alert")
        r = api("GET", "/api/v1/alerts/%d" % aid, token=T["acme-user"])
        ck.eq(r.status, 404, "a member sees it only once its sector body forwarded it")
        ok("POST", "/api/v1/alerts/%d/read" % aid, token=T["energy-user"])
        r = api("POST", "/api/v1/alerts/%d/forward" % aid, token=T["meti-user"])
        ck.eq(r.status, 404, "a ministry is not on the alert's path (404)")
        fw = ok("POST", "/api/v1/alerts/%d/forward" % aid, token=T["energy-user"])
        members_hop2 = sorted(x["to"] for x in fw["receipts"] if x["hop"] == 2)
        ck.eq(members_hop2, sorted(fixture_members + ["acme-power"]),
              "hop 2: every member of the energy sector")
        got_a = ok("GET", "/api/v1/alerts?limit=1000", token=T["acme-user"])["alerts"]
        ck.eq([x["id"] for x in got_a], [aid], "acme's inbox: the alert")
        ok("POST", "/api/v1/alerts/%d/read" % aid, token=T["acme-user"])
        mine = ok("GET", "/api/v1/alerts/%d" % aid, token=T["acme-user"])["receipts"]
        ck.eq([(x["to"], x["via"], x["delivered"] is not None, x["read"] is not None)
               for x in mine], [("acme-power", "energy-ceptoar", True, True)],
              "acme sees only its own receipt: delivered and read")
        allr = ok("GET", "/api/v1/alerts/%d" % aid)["receipts"]
        ck.eq(sum(1 for x in allr if x["read"]), 2, "coordinator: 2 read receipts (body, acme)")
        ck.eq(sum(1 for x in allr if x["delivered"]), 2, "coordinator: 2 delivered so far")
        r = api("GET", "/api/v1/alerts/%d" % aid, token=T["bravo-user"])
        ck.eq(r.status, 404, "a finance member does not see the energy alert")
        mi = ok("POST", "/api/v1/alerts", {"title": "guidance on reporting"},
                token=T["meti-user"])
        ck.eq((mi["kind"], mi["from_org"], [x["to_kind"] for x in mi["receipts"]]),
              ("ministry_info", "fx-ministry", ["coordinator"]),
              "ministry information goes to the coordinator")
        r = api("POST", "/api/v1/alerts", {"title": "x"}, token=T["energy-user"])
        ck.eq(r.status, 403, "a sector body does not originate alerts")
        now = ok("GET", "/api/v1/stats/incidents?fy=%d" % cur_fy())
        vals = {row["key"]: row["values"][8] for row in now["rows"]}
        ck.eq((vals["reports"], vals["coordinator_info"], vals["ministry_info"],
               vals["monitoring.advisories"]), (1, 1, 1, 1),
              "this fiscal year: 1 report, 1 coordinator item (advisory), 1 ministry item")

        # ------------------------------------------------------------ 4. isolation
        print("[4. isolation]")
        r = api("GET", "/api/v1/incidents/%d" % iid, token=T["finance-user"])
        ck.eq(r.status, 404, "finance sector body: energy report is 404")
        r = api("GET", "/api/v1/incidents/%d" % iid, token=T["fsa-user"])
        ck.eq(r.status, 404, "finance ministry: energy report is 404")
        ck.eq(ok("GET", "/api/v1/incidents", token=T["finance-user"])["incidents"], [],
              "finance sector body lists no report (all are energy's)")
        n_energy = len(ok("GET", "/api/v1/incidents?limit=1000&fy=2023",
                          token=T["energy-user"])["incidents"])
        ck.eq(n_energy, 272, "energy sector body sees its sector's FY2023 reports")
        r = api("GET", "/api/v1/incidents/%d" % iid, token=T["bravo-user"])
        ck.eq(r.status, 404, "another member: 404")
        r = api("POST", "/api/v1/incidents", {"member": "acme-power", "title": "sneak"},
                token=T["bravo-user"])
        ck.eq(r.status, 404, "a report for another member: 404")
        r = api("POST", "/api/v1/incidents", {"member": "bravo-bank", "title": "sneak"},
                token=T["energy-user"])
        ck.eq(r.status, 403, "a sector body does not file reports")
        for path in ["/api/v1/events", "/api/v1/detections", "/api/v1/notices",
                     "/api/v1/records?after=0", "/api/v1/members", "/api/v1/users",
                     "/api/v1/me", "/api/v1/stats/incidents?fy=2023", "/api/v1/sectors"]:
            for u in ("finance-user", "meti-user"):
                r = api("GET", path, token=T[u])
                ck.eq(r.status, 403, "%s GET %s" % (u, path))

        # ------------------------------------------------------------ 5. bad input
        print("[5. bad input]")
        for body, what, frag in [
                ({"title": "t", "event": "E9"}, "unknown event code", "unknown event code"),
                ({"title": "t", "causes": ["C99"]}, "unknown cause", "unknown cause code"),
                ({"title": "t", "causes": ["C01", "suspicious_mail"]}, "cause twice",
                 "given twice"),
                ({"title": "t", "attack": "A1"}, "a member sets the attack kind",
                 "set by the coordinator"),
                ({"title": "t", "colour": "red"}, "unknown field", "unknown field"),
                ({"title": "t", "fy": 2019}, "date outside the fiscal year given",
                 "outside fiscal year 2019")]:
            r = api("POST", "/api/v1/incidents", body, token=T["acme-user"])
            ck.check(r.status == 400 and frag in r.text(), "report with %s: 400 (%s)" % (what, frag),
                     repr(r))
        r = api("POST", "/api/v1/incidents/%d/classify" % iid, {"attack": "A7"})
        ck.check(r.status == 400 and "unknown attack kind" in r.text(), "classify A7: 400",
                 repr(r))
        for q, frag in [("", "fy is required"), ("?fy=1999", "fy must be"),
                        ("?fy=20x3", "fy must be"), ("?fy=2023&format=xml", "format")]:
            r = api("GET", "/api/v1/stats/incidents" + q)
            ck.check(r.status == 400 and frag in r.text(), "stats%s: 400" % q, repr(r))
        bad = ('{"type":"incident","ref":"bad-1","member":"acme-power","title":"a",'
               '"reported":"2023-05-01T10:00:00+09:00","event":"E1"}\n'
               '{"type":"incident","ref":"bad-2","member":"acme-power","title":"b",'
               '"reported":"2024-04-01T00:30:00+09:00","fy":2023}\n')
        r = api("POST", "/api/v1/incidents/import", bad, raw=True)
        ck.check(r.status == 400 and "line 2" in r.text() and "outside fiscal year 2023"
                 in r.text(), "import: a date in FY2024 declared FY2023 -> 400 line 2",
                 repr(r))
        bad2 = bad.splitlines()[0] + "\n" + ('{"type":"alert","ref":"bad-3","title":"c",'
                                             '"sectors":["nosuch"]}\n')
        r = api("POST", "/api/v1/incidents/import", bad2, raw=True)
        ck.check(r.status == 404 and "line 2" in r.text(), "import: unknown sector -> line 2",
                 repr(r))
        bad3 = bad.splitlines()[0] + "\n" + ('{"ref":"bad-4","member":"acme-power",'
                                             '"title":"d","causes":["C02","C77"]}\n')
        r = api("POST", "/api/v1/incidents/import", bad3, raw=True)
        ck.check(r.status == 400 and "line 2" in r.text() and "C77" in r.text(),
                 "import: unknown cause -> 400 line 2", repr(r))
        dup = bad.splitlines()[0] + "\n" + bad.splitlines()[0] + "\n"
        r = api("POST", "/api/v1/incidents/import", dup, raw=True)
        ck.eq(r.json() if r.status == 200 else r.status,
              {"records": 2, "added": 1, "duplicates": 1}, "the same ref twice: stored once")
        after = ok("GET", "/api/v1/stats/incidents?fy=2023")
        diff = [(a["key"], [y - x for x, y in zip(a["values"], b["values"])])
                for a, b in zip(base["rows"], after["rows"]) if a["values"] != b["values"]]
        ck.eq(diff, [("reports", [0, 0, 0, 0, 1, 0, 0, 0, 1]),
                     ("event.E1", [0, 0, 0, 0, 1, 0, 0, 0, 1])],
              "after the refused imports: only the one good record counts, once")

        # ------------------------------------------------------------ 6. drill
        print("[6. drill with a silent contact]")
        deadline = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=6)
        r = cli("drill", "start", "Q3 reachability drill", "--deadline",
                deadline.strftime("%Y-%m-%dT%H:%M:%SZ"), "--contacts",
                "member:acme-power,member:bravo-bank,org:energy-ceptoar,org:fx-ministry")
        ck.require(r.returncode == 0, "admin drill start", r.stderr.decode())
        did = json.loads(r.stdout)["id"]
        ok("POST", "/api/v1/drills/%d/answer" % did, token=T["acme-user"])
        r = api("POST", "/api/v1/drills/%d/answer" % did, token=T["acme-user"])
        ck.check(r.status == 409 and "already answered" in r.text(), "answering twice: 409",
                 repr(r))
        ok("POST", "/api/v1/drills/%d/answer" % did, token=T["energy-user"])
        r = api("POST", "/api/v1/drills/%d/answer" % did, token=T["finance-user"])
        ck.check(r.status == 404 and "contact point" in r.text(),
                 "a contact not in the drill: 404 (as for a drill that does not exist)",
                 repr(r))
        r = api("POST", "/api/v1/drills/%d/answer" % did)
        ck.eq(r.status, 403, "the coordinator does not answer its own drill")
        r = api("POST", "/api/v1/drills/987654/answer", token=T["acme-user"])
        ck.check(r.status == 404 and "contact point" in r.text(), "no such drill: 404",
                 repr(r))
        ck.eq([x["id"] for x in ok("GET", "/api/v1/drills", token=T["bravo-user"])["drills"]],
              [did], "bravo sees the drill it must answer")
        time.sleep(max(0.0, (deadline - datetime.datetime.now(datetime.timezone.utc))
                       .total_seconds() + 1.0))
        r = api("POST", "/api/v1/drills/%d/answer" % did, token=T["bravo-user"])
        ck.check(r.status == 409 and "deadline" in r.text(), "an answer after the deadline: 409",
                 repr(r))
        rep = ok("GET", "/api/v1/drills/%d/report" % did)
        states = {x["name"]: x["state"] for x in rep["contacts"]}
        ck.eq(states, {"acme-power": "answered", "energy-ceptoar": "answered",
                       "bravo-bank": "late", "fx-ministry": "silent"}, "drill report states")
        ck.eq(rep["summary"], {"contacts": 4, "answered": 2, "late": 1, "no_answer": 2},
              "drill summary")
        by = {x["name"]: x["answered_by"] for x in rep["contacts"]}
        ck.eq((by["acme-power"], by["energy-ceptoar"]), ("acme-user", "energy-user"),
              "who answered")
        r = cli("drill", "report", str(did))
        txt = r.stdout.decode()
        print(txt)
        ck.check(re.search(r"ministry\s+fx-ministry\s+silent", txt) is not None,
                 "admin drill report shows the silent contact")
        if env.sanitizer_reports():
            ck.eq(env.sanitizer_reports(), [], "sanitizer reports in the center log")


def cur_fy():
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9)))
    return now.year if now.month >= 4 else now.year - 1


if __name__ == "__main__":
    main()
