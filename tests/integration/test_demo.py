#!/usr/bin/env python3
"""test_demo.py - `crosswatch demo --exit`, end to end.

1. `crosswatch demo --exit` (temporary directory under our own TMPDIR): exits 0, prints
   the summary table with the three members and five sensors; every access log loses
   exactly its one deliberately truncated line (rejected 1), EVE and syslog lose
   nothing, accepted = lines - rejected per sensor, the total row adds up and "stored
   durably" equals the accepted total; the temporary directory is removed afterwards.
2. `crosswatch demo --exit --lines 200 --data-dir D`: the same with other numbers, then
   a `crosswatch serve` on D/center shows that the store agrees with the table (stats,
   per-sensor counters, exported records; the truncated lines are not stored).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

SENSORS = [("agency-alpha", "web-gw", "combined"), ("agency-alpha", "ids", "eve"),
           ("ministry-beta", "web-gw", "combined"), ("ministry-beta", "vpn", "syslog"),
           ("university-gamma", "web-gw", "combined")]
ROW = re.compile(r"^\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
TOTAL = re.compile(r"^\s+total\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
STORED = re.compile(r"stored durably: (\d+) records in (\d+) batches")


def expected_lines(fmt, n):
    return n // 3 if fmt == "syslog" else n


def check_summary(ck, out, n, label):
    rows = {}
    total = stored = None
    for ln in out.splitlines():
        m = TOTAL.match(ln)
        if m:
            total = tuple(int(x) for x in m.groups())
            continue
        m = ROW.match(ln)
        if m:
            rows[(m.group(1), m.group(2))] = (m.group(3),) + tuple(int(x) for x in m.groups()[3:])
        m = STORED.search(ln)
        if m:
            stored = int(m.group(1))
    ck.eq(sorted(rows), sorted((m, s) for m, s, _ in SENSORS), "%s: table rows (member, sensor)"
          % label)
    ck.eq(sorted({m for m, _ in rows}), ["agency-alpha", "ministry-beta", "university-gamma"],
          "%s: three members" % label)
    want_rows = {}
    for m, s, fmt in SENSORS:
        lines = expected_lines(fmt, n)
        rej = 1 if fmt == "combined" else 0
        want_rows[(m, s)] = (fmt, lines, lines - rej, rej)
    ck.eq(rows, want_rows, "%s: per sensor (format, lines, accepted, rejected)" % label)
    ck.check(all(v[2] > 0 for v in rows.values()), "%s: every sensor has accepted records" %
             label)
    wl = sum(v[1] for v in want_rows.values())
    wa = sum(v[2] for v in want_rows.values())
    ck.eq(total, (wl, wa, 3), "%s: total row (lines, accepted, rejected)" % label)
    ck.eq(stored, wa, "%s: 'stored durably' records" % label)
    return want_rows


def main():
    args = cwtest.parse_args()
    B = args.binary
    with cwtest.TestEnv("test_demo", keep=args.keep) as env:
        ck = env.c
        tmp = env.path("tmp")
        os.makedirs(tmp)
        e = cwtest.env_for_children()
        e["TMPDIR"] = tmp

        print("[demo --exit, defaults]")
        p = cwtest.run([B, "demo", "--exit"], timeout=240, env=e)
        out = p.stdout.decode("utf-8", "replace")
        print(out)
        if p.stderr:
            print("stderr:", p.stderr.decode("utf-8", "replace")[-3000:])
        ck.eq(p.returncode, 0, "demo --exit exit status")
        check_summary(ck, out, 3000, "default run")
        ck.eq(os.listdir(tmp), [], "the demo removed its temporary directory")
        ck.check(b"ERROR" not in p.stderr and b"AddressSanitizer" not in p.stderr,
                 "no errors or sanitizer reports on stderr")

        print("[demo --exit --lines 200 --data-dir D, then the store]")
        d = env.path("demo-data")
        p = cwtest.run([B, "demo", "--exit", "--lines", "200", "--data-dir", d], timeout=240,
                       env=e)
        out = p.stdout.decode("utf-8", "replace")
        ck.eq(p.returncode, 0, "demo --exit --lines 200 exit status")
        want = check_summary(ck, out, 200, "200-line run")
        ck.check(os.path.isdir(os.path.join(d, "center")), "--data-dir kept")
        c = cwtest.Center(B, env.dir, "demo-center")
        c.data_dir = os.path.join(d, "center")
        env.centers.append(c)
        c.start()
        st = c.stats()
        wa = sum(v[2] for v in want.values())
        ck.eq((st["records"], st["rejected"], st["members"], st["sensors"]), (wa, 3, 3, 5),
              "store: (records, rejected, members, sensors)")
        got = {(s["member"], s["name"]): (s["records"], s["rejected"]) for s in c.sensors()}
        ck.eq(got, {k: (v[2], v[3]) for k, v in want.items()},
              "store: per-sensor (records, rejected) == table")
        recs = c.export_records()
        ck.eq(len(recs), wa, "store: exported records")
        ck.eq(sum(1 for r in recs if '"GET /index.h\n' in r.get("raw", "") or
                  r.get("raw", "").endswith('"GET /index.h')), 0,
              "store: no truncated line stored")
        kinds = {}
        for r in recs:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        ck.check(kinds.get("ids_alert", 0) > 0 and kinds.get("http", 0) > 0,
                 "store: records of several kinds %s" % sorted(kinds.items()))
        ck.eq(c.stop(), 0, "center on the demo's data stops cleanly")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports in the center's log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
