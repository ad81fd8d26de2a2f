#!/usr/bin/env python3
"""bench_web.py - latency of the dashboard's API calls with 100k events and 10M detections.

Not a test: prints figures (docs/performance.md "Web dashboard").

1. A real `crosswatch serve` creates an empty store (schema, indexes, admin token) and
   stops; the store is then filled directly with SQLite through that schema (fast, no
   HTTP): --members members with 2 sensors each, --events events and --detections
   detections spread over a year (each detection in an event, 15% dropped as noise
   with a reason), the hourly counters the center keeps at ingest (web_counts,
   noise_counts), notices. The detection indexes are dropped for the bulk insert; the
   center re-creates them (CREATE INDEX IF NOT EXISTS) when it starts.
2. The center starts on that store; a coordinator and a member user sign in through
   POST /api/v1/session (cookie sessions, as the browser does).
3. --clients threads each call every operation --rounds times (coordinator and member
   alternately): the event queue with filters (newest first, a class, a state, a time
   range, page 2 by cursor), the event page, summary (3 groups), series (records/day,
   noise/day, events/day over 90 days), notices, notice stats, sensors, and the first
   message of /api/v1/live. p50/p95/max per operation.
4. Peer in the same run: the same SQL the center runs for the queue, the event page's
   detections, summary and series, through Python's sqlite3 on the same file
   (no HTTP, no JSON): what the storage costs alone.
Goal from issue 9: p95 < 100 ms for the main calls.

--data DIR fills DIR once and reuses it (compare builds on one store); --readers N sets
[serve] store_readers (1 = a single reader connection, as before the pool).
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HOUR = 3600 * 1000000
CLASSES = ["edge_exploit", "sql_injection", "path_traversal", "webshell", "credential",
           "scanning", "command_exec", "xss"]
REASONS = ["suppressed", "blocked", "failed", "not_applicable", "recon"]
STATES = ["new", "investigating", "notified", "resolved", "false_positive"]
PW = "correct horse battery staple"


def req(port, method, path, body=None, headers=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


def start_center(binary, data, port, log, extra=()):
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % port, "--data-dir", data,
                          "--threads", "4"] + list(extra), stdout=log, stderr=subprocess.STDOUT)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 900:
        try:
            if req(port, "GET", "/api/v1/health", timeout=2)[0] == 200:
                return p
        except OSError:
            pass
        if p.poll() is not None:
            sys.exit("center exited during start")
        time.sleep(0.2)
    sys.exit("center did not start")


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()


def fill(db, members, n_events, n_dets, seed):
    rnd = random.Random(seed)
    con = sqlite3.connect(db)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                      "DROP INDEX IF EXISTS detections_event; DROP INDEX IF EXISTS detections_noise;")
    now = int(time.time() * 1000000)
    t_end = now - HOUR
    t_start = t_end - 365 * 24 * HOUR
    con.executemany("INSERT INTO members(id, name, created_us) VALUES(?,?,?)",
                    [(m, "member-%02d" % m, t_start) for m in range(1, members + 1)])
    sens = []
    for m in range(1, members + 1):
        for k in range(2):
            sid = len(sens) + 1
            sens.append((sid, m, "sensor-%d" % k, "%016x" % rnd.getrandbits(64), os.urandom(32),
                         t_start, now - rnd.randint(0, 40) * 60 * 1000000,
                         rnd.randint(10 ** 5, 10 ** 7)))
    con.executemany("INSERT INTO sensors(id, member_id, name, key_id, key_hash, created_us,"
                    " last_seen_us, records) VALUES(?,?,?,?,?,?,?,?)", sens)
    # events: ordered by first time (ids grow with time, as in a real center)
    firsts = sorted(rnd.randint(t_start, t_end) for _ in range(n_events))
    ev = []
    for i, f in enumerate(firsts, 1):
        m = rnd.randint(1, members)
        cls = rnd.choice(CLASSES)
        srcs = ["198.51.%d.%d" % (rnd.randint(0, 255), rnd.randint(1, 254)) for _ in range(3)]
        st = STATES[0] if i > n_events * 0.8 else rnd.choice(STATES)
        ev.append((i, m, cls, rnd.randint(1, 5), st, f, f + rnd.randint(0, 6 * HOUR), 100, 3, 1,
                   srcs[0], "10.0.%d.%d" % (m, 1), json.dumps(srcs), json.dumps(["10.0.%d.1" % m]),
                   f, f))
    con.executemany("INSERT INTO events(id, member_id, attack_class, severity, state, first_us,"
                    " last_us, count, distinct_sources, distinct_targets, key_source, key_target,"
                    " sources, targets, created_us, updated_us) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,"
                    "?,?,?)", ev)
    web, noise = {}, {}
    rec_tpl = ('{"ts":"%s","kind":"http","src_ip":"198.51.1.%d","dst_ip":"10.0.0.1",'
               '"http.path":"/api/v1/totp/x","raw":"GET /api/v1/totp/x HTTP/1.1 200"}')

    days = {}

    def dets():
        per = n_dets // n_events
        did = 0
        for e in ev:
            eid, m, cls, sev, f = e[0], e[1], e[2], e[3], e[5]
            for k in range(per):
                did += 1
                ts = f + k * 60 * 1000000
                nz = "kept" if rnd.random() < 0.85 else rnd.choice(REASONS)
                h = ts // HOUR
                web[(h, m, nz)] = web.get((h, m, nz), 0) + 1
                day = days.get(ts // (24 * HOUR))
                if day is None:
                    day = days[ts // (24 * HOUR)] = time.strftime("%Y-%m-%d",
                                                                 time.gmtime(ts // 1000000))
                noise[(m, day, nz)] = noise.get((m, day, nz), 0) + 1
                yield (did, 1, m, eid if nz == "kept" else None, nz, "ET EXPLOIT x", "ET EXPLOIT x",
                       cls, sev, ts, rec_tpl % (day, k % 250))
    t0 = time.monotonic()
    con.executemany("INSERT INTO detections(id, batch_id, member_id, event_id, noise, rule_id,"
                    " rule_name, attack_class, severity, ts_us, record)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?)", dets())
    print("  detections inserted in %.0f s" % (time.monotonic() - t0), flush=True)
    con.executemany("INSERT INTO web_counts(metric, hour, member_id, reason, count)"
                    " VALUES('detections',?,?,?,?)", [(h, m, r, n) for (h, m, r), n in web.items()])
    recs = {}
    for (h, m, r), n in web.items():
        recs[(h, m)] = recs.get((h, m), 0) + n * 20
    con.executemany("INSERT INTO web_counts(metric, hour, member_id, reason, count)"
                    " VALUES('records',?,?,'',?)", [(h, m, n) for (h, m), n in recs.items()])
    con.executemany("INSERT INTO noise_counts(member_id, day, reason, count) VALUES(?,?,?,?)",
                    [(m, d, r, n) for (m, d, r), n in noise.items()])
    nts = []
    for i in range(1, 2001):
        t = rnd.randint(t_start, t_end)
        nts.append((i, rnd.randint(1, members), rnd.choice(["sent", "acknowledged", "answered",
                                                          "closed"]), "notice %d" % i, "w", "y",
                    "a", t + 7 * 24 * HOUR, t, "bench", t, t + HOUR if i % 2 else None))
    con.executemany("INSERT INTO notices(id, member_id, state, title, what, why, action,"
                    " answer_by_us, created_us, created_by, updated_us, acked_us)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", nts)
    con.commit()
    con.close()
    return t_start, t_end


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--detections", type=int, default=10000000)
    ap.add_argument("--members", type=int, default=50)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--readers", type=int, default=0,
                    help="[serve] store_readers (0 = the center's default: one per thread)")
    ap.add_argument("--data", help="fill this data directory once and reuse it in later runs"
                    " (compare builds on the same store; users are re-created each run)")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cw-bench-web-")
    data = a.data or os.path.join(work, "data")
    log = open(os.path.join(work, "center.log"), "ab")
    port = 18000 + os.getpid() % 1000
    try:
        print("bench_web: %d events, %d detections, %d members, %d clients" %
              (a.events, a.detections, a.members, a.clients), flush=True)
        print("  load average: %s" % " ".join("%.2f" % x for x in os.getloadavg()), flush=True)
        filled = os.path.join(data, "bench_web.json")
        if a.data and os.path.exists(filled):
            with open(filled) as f:
                meta = json.load(f)
            if [meta["events"], meta["detections"], meta["members"]] != [a.events, a.detections,
                                                                         a.members]:
                sys.exit("%s was filled with other sizes: %r" % (data, meta))
            t_start, t_end = meta["t_start"], meta["t_end"]
            print("  reusing the store in %s" % data, flush=True)
        else:
            p = start_center(a.binary, data, port, log)
            stop(p)
            t0 = time.monotonic()
            t_start, t_end = fill(os.path.join(data, "crosswatch.db"), a.members, a.events,
                                  a.detections, 42)
            print("  store filled in %.0f s (%.1f GB)" % (time.monotonic() - t0, os.path.getsize(
                os.path.join(data, "crosswatch.db")) / 1e9), flush=True)
            with open(filled, "w") as f:
                json.dump({"events": a.events, "detections": a.detections, "members": a.members,
                           "t_start": t_start, "t_end": t_end}, f)
        extra = []
        if a.readers:
            conf = os.path.join(work, "serve.conf")
            with open(conf, "w") as f:
                f.write("[serve]\nstore_readers = %d\n" % a.readers)
            extra = ["--config", conf]
            print("  store_readers = %d" % a.readers, flush=True)
        t0 = time.monotonic()
        p = start_center(a.binary, data, port, log, extra)
        print("  center up (indexes rebuilt) in %.0f s" % (time.monotonic() - t0), flush=True)
        tok = open(os.path.join(data, "admin.token")).read().strip()
        H = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
        for body in ({"name": "bench-analyst", "role": "coordinator_analyst", "password": PW},
                     {"name": "bench-member", "role": "member_user", "member": "member-07",
                      "password": PW}):
            req(port, "POST", "/api/v1/users", json.dumps(body), H)
        cookies = {}
        for u in ("bench-analyst", "bench-member"):
            st, hd, b = req(port, "POST", "/api/v1/session",
                            json.dumps({"name": u, "password": PW}),
                            {"Content-Type": "application/json"})
            cookies[u] = "; ".join(v.split(";")[0] for k, v in hd if k.lower() == "set-cookie")
        # the member's own events for its event page
        st, _, b = req(port, "GET", "/api/v1/events?order=newest&limit=200",
                       headers={"Cookie": cookies["bench-member"]})
        mine = [e["id"] for e in json.loads(b)["events"]]
        day = 24 * HOUR

        def iso(us):
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(us // 1000000))
        t90 = "&from=%s&to=%s" % (iso(t_end - 90 * day), iso(t_end))
        mid = iso(t_start + 180 * day)
        ops = [
            ("events: newest 50", lambda r: "/api/v1/events?order=newest&limit=50"),
            ("events: class+state", lambda r: "/api/v1/events?order=newest&limit=50"
             "&attack_class=%s&state=open" % r.choice(CLASSES)),
            ("events: time range", lambda r: "/api/v1/events?order=newest&limit=50&since=%s"
             "&until=%s" % (mid, iso(t_start + 187 * day))),
            ("events: page 2 (cursor)", lambda r: "/api/v1/events?order=newest&limit=50&after=%d"
             % (a.events - 50)),
            ("event page", lambda r: "/api/v1/events/%d" % r.randint(1, a.events)),
            ("summary attack_class", lambda r: "/api/v1/summary?group=attack_class"),
            ("summary severity", lambda r: "/api/v1/summary?group=severity"),
            ("summary noise_reason", lambda r: "/api/v1/summary?group=noise_reason"),
            ("series records/day 90d", lambda r: "/api/v1/series?metric=records&bucket=day" + t90),
            ("series noise/day 90d", lambda r: "/api/v1/series?metric=noise&bucket=day" + t90),
            ("series events/day 90d", lambda r: "/api/v1/series?metric=events&bucket=day" + t90),
            ("notices", lambda r: "/api/v1/notices?limit=50"),
            ("notices/stats", lambda r: "/api/v1/notices/stats"),
            ("live first message", lambda r: "/api/v1/live?once=1"),
        ]
        lat = {name: [] for name, _ in ops}
        lat["sensors (admin token)"] = []
        errors = []

        def client(i):
            r = random.Random(i)
            for k in range(a.rounds):
                who = "bench-analyst" if (i + k) % 2 == 0 else "bench-member"
                for name, path in ops:
                    pth = path(r)
                    if name == "event page" and who == "bench-member":
                        pth = "/api/v1/events/%d" % r.choice(mine)
                    t = time.perf_counter()
                    st, _, _ = req(port, "GET", pth, headers={"Cookie": cookies[who]})
                    lat[name].append((time.perf_counter() - t) * 1000)
                    if st != 200:
                        errors.append((name, pth, st))
                t = time.perf_counter()
                req(port, "GET", "/api/v1/sensors", headers=H)
                lat["sensors (admin token)"].append((time.perf_counter() - t) * 1000)
        t0 = time.monotonic()
        ths = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        wall = time.monotonic() - t0
        n = sum(len(v) for v in lat.values())
        print("\ncrosswatch over HTTP (%d clients, coordinator and member alternately; %d calls "
              "in %.1f s = %.0f calls/s)" % (a.clients, n, wall, n / wall))
        print("%-26s %8s %8s %8s" % ("operation", "p50 ms", "p95 ms", "max ms"))
        for name in lat:
            v = lat[name]
            print("%-26s %8.1f %8.1f %8.1f" % (name, pct(v, 50), pct(v, 95), max(v)))
        if errors:
            print("errors: %d, e.g. %r" % (len(errors), errors[:3]))
        stop(p)

        # ---------------------------------------------------------------- peer
        con = sqlite3.connect(os.path.join(data, "crosswatch.db"))
        rr = random.Random(7)
        h0, h1 = (t_end - 90 * day) // HOUR, t_end // HOUR + 1
        peer = [
            ("events: newest 50", "SELECT * FROM events WHERE id < 9223372036854775807 ORDER BY"
             " id DESC LIMIT 50", ()),
            ("event page detections", "SELECT * FROM detections WHERE event_id = ? ORDER BY id"
             " LIMIT 51", lambda: (rr.randint(1, a.events),)),
            ("summary attack_class", "SELECT attack_class, COUNT(*) FROM events GROUP BY 1", ()),
            ("series records/day 90d (hourly)", "SELECT hour, SUM(count) FROM web_counts WHERE"
             " metric = 'records' AND hour >= ? AND hour < ? GROUP BY hour", (h0, h1)),
            ("series noise/day 90d (hourly)", "SELECT hour, reason, SUM(count) FROM web_counts"
             " WHERE metric = 'detections' AND hour >= ? AND hour < ? AND reason != 'kept'"
             " GROUP BY hour, reason ORDER BY hour", (h0, h1)),
            ("series events/day 90d", "SELECT first_us / 3600000000, COUNT(*) FROM events WHERE"
             " first_us >= ? AND first_us < ? GROUP BY 1", (h0 * HOUR, h1 * HOUR)),
            ("detections by scan (no counters)", "SELECT ts_us / 86400000000, noise, COUNT(*)"
             " FROM detections WHERE ts_us >= ? GROUP BY 1, 2", (h0 * HOUR,)),
        ]
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'web_days'").fetchone():
            d0, d1 = (h0 + 23) // 24, h1 // 24  # whole days, as the center reads them
            peer[4:4] = [
                ("series noise/day 90d (daily)", "SELECT day, reason, count FROM web_days WHERE"
                 " metric = 'detections' AND member_id = 0 AND day >= ? AND day < ? AND"
                 " reason != 'kept' ORDER BY day", (d0, d1))]
        print("\npeer: the same SQL through Python's sqlite3, one thread, no HTTP")
        print("%-34s %8s %8s" % ("query", "p50 ms", "p95 ms"))
        for name, sql, args in peer:
            v = []
            for k in range(5 if "scan" in name else 50):
                t = time.perf_counter()
                con.execute(sql, args() if callable(args) else args).fetchall()
                v.append((time.perf_counter() - t) * 1000)
            print("%-34s %8.1f %8.1f" % (name, pct(v, 50), pct(v, 95)))
        con.close()
    finally:
        log.close()
        if a.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
