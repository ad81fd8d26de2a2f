#!/usr/bin/env python3
"""bench_stats_peer.py DB FY - the peer of bench_stats: the same fiscal-year table
computed the plain way, by reading the rows with Python's sqlite3 and bucketing each
timestamp into its fiscal quarter (April-March, UTC+9) in Python. Prints one JSON object:
{"ms": elapsed, "rows": {key: [FY-4..FY-1, 1Q..4Q, FY]}}."""
import datetime
import json
import sqlite3
import sys
import time

JST = datetime.timezone(datetime.timedelta(hours=9))


def col(us, fy):
    d = datetime.datetime.fromtimestamp(us / 1e6, JST)
    y = d.year if d.month >= 4 else d.year - 1
    if fy - 4 <= y < fy:
        return [y - (fy - 4)]
    if y == fy:
        return [4 + ((d.month - 4) % 12) // 3, 8]
    return []


def main():
    db, fy = sys.argv[1], int(sys.argv[2])
    t0 = time.perf_counter()
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    rows = {}

    def add(key, us):
        r = rows.setdefault(key, [0] * 9)
        for c in col(us, fy):
            r[c] += 1
    for us, ev, at in con.execute("SELECT reported_us, event_code, attack_code FROM incidents"):
        add("reports", us)
        if ev:
            add("event." + ev, us)
        if at:
            add("attack.total", us)
            add("attack." + at, us)
    for us, cause in con.execute("SELECT i.reported_us, c.cause_code FROM incident_causes c"
                                 " JOIN incidents i ON i.id = c.incident_id"):
        add("cause." + cause, us)
    for us, kind in con.execute("SELECT sent_us, kind FROM shared_items"):
        add("ministry_info" if kind == "ministry_info" else "coordinator_info", us)
        if kind == "advisory":
            add("monitoring.advisories", us)
    for (us,) in con.execute("SELECT created_us FROM events WHERE state != 'duplicate'"):
        add("monitoring.events", us)
    for (us,) in con.execute("SELECT created_us FROM notices"):
        add("monitoring.notices", us)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"ms": ms, "rows": rows}))


if __name__ == "__main__":
    main()
