#!/usr/bin/env python3
"""test_web_e2e.py - the web dashboard and member portal in a real browser (issue 9).

1. `crosswatch demo --exit --data-dir D` builds the demo data (three members, their
   sensors' logs, triage, one notice) and prints the dashboard URL and the demo people
   with their passwords; this test reads them from that output, as a person would.
2. `crosswatch serve` on D/center (a real center on loopback) serves the bundled UI from
   the build folder (the `web` folder beside the binary).
3. A sensor of agency-alpha ingests hostile EVE alerts: HTML and script in the URL, the
   user agent, the host name and the signature (the rule name).
4. tests/web/e2e.mjs drives Debian's Chromium with playwright-core through the scenario:
   coordinator signs in, triages an event from the keyboard and sends a notice; the
   member signs in, sees it, acknowledges, answers and attaches a file; the member
   cannot open another member's event by URL or API; hostile lines render as text;
   Japanese and English; screenshots of every main page in BUILD/web-artifacts.
"""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

HOSTILE_SRC = "198.51.100.66"


def hostile_alerts(n):
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=30)
    out = []
    for i in range(n):
        ts = (now + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000000+0000")
        out.append(json.dumps({
            "timestamp": ts, "flow_id": 91000 + i, "event_type": "alert",
            "src_ip": HOSTILE_SRC, "src_port": 41000 + i, "dest_ip": "10.1.9.99", "dest_port": 443,
            "proto": "TCP",
            "alert": {"action": "allowed", "gid": 1, "signature_id": 2049103, "rev": 2,
                      "signature": 'ET EXPLOIT Ivanti Connect Secure <b id="pwn-sig">x</b>'
                                   ' <script>alert(4)</script>',
                      "category": "Attempted Administrator Privilege Gain", "severity": 1},
            "app_proto": "http",
            "http": {"hostname": '"><svg onload=alert(3)>.example.go.jp',
                     "url": "/api/v1/totp/user-backup-code/../../license/keys-status/;id"
                            "?x=<script>window.__pwned=1</script>",
                     "http_user_agent": '<img src=x onerror="window.__pwned=2">',
                     "http_method": "GET", "status": 200, "length": 10}},
            separators=(",", ":"), ensure_ascii=False))
    return "\n".join(out) + "\n"


def main():
    args = cwtest.parse_args()
    B = args.binary
    build = os.environ.get("CW_BUILD_DIR") or os.path.dirname(os.path.abspath(B))
    src = os.environ.get("CW_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))
    artifacts = os.path.join(build, "web-artifacts")
    modules = os.path.join(build, "web-npm", "node_modules")
    node = shutil.which("node")
    chromium = os.environ.get("CW_CHROMIUM", "/usr/bin/chromium")
    with cwtest.TestEnv("test_web_e2e", keep=args.keep) as env:
        ck = env.c
        ck.require(os.path.isfile(os.path.join(os.path.dirname(B), "web", "index.html")),
                   "the UI is bundled beside the binary (web/index.html)")
        ck.require(node is not None and os.path.isdir(os.path.join(modules, "playwright-core")),
                   "node and playwright-core (npm ci under the build folder) are there")
        ck.require(os.access(chromium, os.X_OK), "Chromium is installed (%s)" % chromium)

        print("[demo data]")
        d = env.path("demo")
        # from the source folder, as `make demo` runs it: the demo then loads the Sigma
        # rules and scanner lists (rules/, the shared MISP warninglists) and every member
        # gets events
        de = cwtest.env_for_children()
        if args.shared:
            de["CW_SHARED_DIR"] = args.shared
        p = subprocess.run([B, "demo", "--exit", "--lines", "400", "--data-dir", d], cwd=src,
                           env=de, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        out = p.stdout.decode("utf-8", "replace")
        print(out[-1500:])
        ck.require(p.returncode == 0, "crosswatch demo --exit", p.stderr.decode()[-2000:])
        m = re.search(r"^dashboard: (http://\S+)/ ", out, re.M)
        ck.check(m is not None, "demo prints the dashboard URL")
        pw = dict(re.findall(r"^\s+(analyst|alpha-staff|beta-staff|gamma-staff)\s+password (\S+)",
                             out, re.M))
        ck.require(sorted(pw) == ["alpha-staff", "analyst", "beta-staff", "gamma-staff"],
                   "demo prints a coordinator analyst and one person per member", repr(sorted(pw)))

        print("[center on the demo data]")
        c = cwtest.Center(B, env.dir, "center")
        c.data_dir = os.path.join(d, "center")
        env.centers.append(c)
        c.start()
        r = cwtest.http_request(c.port, "GET", "/")
        ck.require(r.status == 200 and b"/assets/app-" in r.body, "GET / serves the bundled UI",
                   repr(r)[:200])

        print("[hostile record lines through ingest]")
        s = c.add_sensor("agency-alpha", "hostile-ids")
        r = c.ingest(s["key"], hostile_alerts(6), "eve")
        ck.require(r.status == 200 and r.json()["accepted"] == 6, "6 hostile EVE alerts accepted",
                   repr(r))
        evs = c.admin_json("GET", "/api/v1/events?limit=500")["events"]
        hostile = [e for e in evs if e.get("key_source") == HOSTILE_SRC or
                   HOSTILE_SRC in (e.get("sources") or [])]
        ck.require(len(hostile) >= 1, "the hostile alerts made an event of agency-alpha",
                   repr([(e["id"], e["member"]) for e in hostile]))
        ck.eq(hostile[0]["member"], "agency-alpha", "the hostile event's member")
        beta = [e for e in evs if e["member"] == "ministry-beta"]
        ck.require(beta, "ministry-beta has events")

        print("[information sharing: sectors, a sector body and its user]")
        # agency-alpha and ministry-beta in "government" (covered by the sector body
        # gov-ceptoar), university-gamma in "education" (covered by the ministry
        # edu-ministry); one report of gamma that the sector body must not see
        sector_pw = "sector-" + os.urandom(9).hex()
        c.admin_json("POST", "/api/v1/sectors", {"code": "government", "name_ja": "政府・行政",
                                                 "name_en": "government"})
        c.admin_json("POST", "/api/v1/sectors", {"code": "education", "name_ja": "教育",
                                                 "name_en": "education"})
        for m in c.admin_json("GET", "/api/v1/members")["members"]:
            c.admin_json("POST", "/api/v1/members/%d/sector" % m["id"],
                         {"sector": "education" if m["name"] == "university-gamma"
                          else "government"})
        org = c.admin_json("POST", "/api/v1/orgs", {"name": "gov-ceptoar", "kind": "sector_body",
                                                    "sectors": ["government"]})
        c.admin_json("POST", "/api/v1/orgs/%d/users" % org["id"],
                     {"name": "gov-ceptoar-staff", "password": sector_pw})
        ministry = c.admin_json("POST", "/api/v1/orgs", {"name": "edu-ministry", "kind": "ministry",
                                                         "sectors": ["education"]})
        c.admin_json("POST", "/api/v1/orgs/%d/users" % ministry["id"],
                     {"name": "edu-ministry-staff", "password": sector_pw})
        c.admin_json("POST", "/api/v1/incidents", {"member": "university-gamma",
                                                   "title": "gamma: lab outage (other sector)"})
        eml = os.path.join(args.shared or "/work/shared", "data", "eml", "eml_parser",
                           "github_issue_48.eml")
        ck.require(os.path.isfile(eml), "the shared e-mail sample is there", eml)

        print("[browser: tests/web/e2e_incidents.mjs]")
        e = dict(os.environ)
        e.update({"CW_URL": c.url, "CW_ANALYST_PW": pw["analyst"], "CW_ALPHA_PW": pw["alpha-staff"],
                  "CW_SECTOR_USER": "gov-ceptoar-staff", "CW_SECTOR_PW": sector_pw,
                  "CW_SECTOR_ORG": "gov-ceptoar", "CW_OTHER_MEMBER": "university-gamma",
                  "CW_MINISTRY_USER": "edu-ministry-staff", "CW_MINISTRY_PW": sector_pw,
                  "CW_EML": eml, "CW_ARTIFACTS": artifacts, "CW_NODE_MODULES": modules,
                  "CW_CHROMIUM": chromium})
        p = subprocess.run([node, os.path.join(src, "tests", "web", "e2e_incidents.mjs")], env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        text = p.stdout.decode("utf-8", "replace")
        print(text)
        ck.check(p.returncode == 0, "every browser check of the sharing and indicator pages "
                 "passed (exit %d)" % p.returncode)
        m = re.search(r"e2e_incidents: (\d+) checks, 0 failed", text)
        ck.check(m is not None and int(m.group(1)) >= 100, "the sharing/indicator browser test "
                 "ran its checks")

        print("[browser: tests/web/e2e.mjs]")
        e = dict(os.environ)
        e.update({"CW_URL": c.url, "CW_ANALYST_PW": pw["analyst"], "CW_ALPHA_PW": pw["alpha-staff"],
                  "CW_OTHER_EVENT": str(beta[0]["id"]), "CW_HOSTILE_EVENT": str(hostile[0]["id"]),
                  "CW_ARTIFACTS": artifacts, "CW_NODE_MODULES": modules, "CW_CHROMIUM": chromium})
        e.pop("CW_BROWSER_OUT", None)
        p = subprocess.run([node, os.path.join(src, "tests", "web", "e2e.mjs")], env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        text = p.stdout.decode("utf-8", "replace")
        print(text)
        ck.check(p.returncode == 0, "every browser check passed (exit %d)" % p.returncode)
        ck.check(re.search(r"e2e: (\d+) checks, 0 failed", text) is not None and
                 int(re.search(r"e2e: (\d+) checks", text).group(1)) >= 60,
                 "the browser test ran its checks")
        shots = sorted(f for f in os.listdir(artifacts) if f.endswith(".png")) \
            if os.path.isdir(artifacts) else []
        for want in ["signin-ja.png", "dashboard-ja.png", "dashboard-en.png", "event-queue.png",
                     "event-page.png", "notice-composer.png", "campaigns.png", "overdue-notices.png",
                     "portal-overview.png", "portal-notice.png", "portal-sensors.png",
                     "portal-incident-form-ja.png", "portal-incident-form-en.png",
                     "portal-incident.png", "portal-incidents.png", "incidents-ja.png",
                     "incident-classify-ja.png", "stats-ja.png", "stats-en.png",
                     "alerts-coordinator.png", "alert-coordinator.png", "sector-alerts-ja.png",
                     "sector-incidents.png", "sector-alert.png", "portal-alerts.png",
                     "portal-alert.png", "portal-drills.png", "drill-report.png",
                     "portal-sample.png", "portal-indicators.png", "sample-coordinator.png",
                     "indicator.png", "indicators.png", "indicator-add-refused.png",
                     "indicator-import.png", "ministry-incidents.png", "ministry-info.png"]:
            ck.check(want in shots, "screenshot " + want)
        ck.eq(c.stop(), 0, "the center stops cleanly")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports in the center's log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
