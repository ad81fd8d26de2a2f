#!/usr/bin/env python3
"""bench_ioc_e2e.py - indicators end to end (issue 8 goals): publish -> enforced
latency through `crosswatch dns` (goal < 1 s), and the retro-hunt time over 10M stored
records (goal < 2 s).

Not a test: prints figures, asserts only correctness (the retro-hunt finds exactly
the planted records). Each figure is printed beside a peer measured in the same run:
  - latency: a plain HTTP long-poller of the same RPZ feed (what the center alone
    takes to hand out a change) and the publish API call itself;
  - retro-hunt: a brute-force scan of the same stored records through the records
    export API (every segment decompressed and searched - what a retro-hunt without
    the per-batch digests would have to do).

Setup on loopback: NSD serves the zone the names live in, `crosswatch serve` is the
center, `crosswatch dns --center-feed` the resolver. Records are generated fast: one
NDJSON template of --batch dns records whose names carry a batch label replaced per
batch, so every batch has its own distinct names (a realistic digest), sent by
--clients HTTP clients. Use a Release build (`cmake --build build --target
bench_ioc_e2e`).
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import cwtest  # noqa: E402
from test_dns_feed import dns_query  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def ms(x):
    return "%.1f" % (x * 1000)


def latency(args, env, c, sensor_key, nsd_port):
    """Publish --publishes hostnames one at a time; time until crosswatch dns blocks
    each, and until a plain long-poller of the feed gets it."""
    dns_port = cwtest.free_udp_tcp_port()
    keyfile = env.path("pdns.key")
    with open(keyfile, "w") as f:
        f.write(sensor_key + "\n")
    log = env.path("dns.log")
    dns = cwtest.spawn([args.crosswatch, "dns", "--listen", "127.0.0.1:%d" % dns_port,
                        "--forward", "127.0.0.1:%d" % nsd_port, "--center", c.url,
                        "--key-file", keyfile, "--center-feed", "--feed-wait", "25",
                        "--state-dir", env.path("dns-state")], log, env=cwtest.env_for_children())
    deadline = time.monotonic() + 60
    while (dns_query(dns_port, "ok.bench.example", timeout=0.5) or [None])[0] != "NOERROR":
        if dns.poll() is not None or time.monotonic() > deadline:
            sys.exit("crosswatch dns did not start:\n" + cwtest.tail(log))
        time.sleep(0.1)
    api, poller, enforced = [], [], []
    for i in range(args.publishes):
        name = "e%d.bench.example" % i
        serial = c.req("GET", "/api/v1/rpz/feed?since=0").json()["serial"]
        got = {}

        def long_poll():
            r = c.req("GET", "/api/v1/rpz/feed?since=%d&wait=25" % serial, token=sensor_key)
            got["t"] = time.monotonic()
            got["rules"] = r.json()["rules"]
        th = threading.Thread(target=long_poll)
        th.start()
        time.sleep(0.05)  # the poll is parked at the center
        t0 = time.monotonic()
        r = c.req("POST", "/api/v1/indicators", json.dumps(
            {"type": "hostname", "value": name, "tlp": "GREEN", "publish": True}))
        t1 = time.monotonic()
        if r.status != 200:
            sys.exit("publish failed: %d %s" % (r.status, r.text()))
        while True:
            a = dns_query(dns_port, name, timeout=0.5)
            if a and a[0] == "NXDOMAIN":
                break
            if time.monotonic() - t0 > 10:
                sys.exit("%s not enforced after 10 s" % name)
        t2 = time.monotonic()
        th.join()
        api.append(t1 - t0)
        poller.append(got["t"] - t0)
        enforced.append(t2 - t0)
    dns.terminate()
    dns.wait(30)
    print("\n## publish -> enforced (%d hostname indicators, one at a time)" % args.publishes)
    print("| path | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    for label, xs in (("crosswatch dns answers NXDOMAIN (publish -> enforced)", enforced),
                      ("peer: plain long-poller of the feed gets the rule", poller),
                      ("peer: the publish API call returns", api)):
        print("| %s | %s | %s | %s |" % (label, ms(pct(xs, 50)), ms(pct(xs, 95)), ms(max(xs))))
    return enforced


def ingest(args, c, key, needle_batches):
    """--records dns records in batches of --batch through --clients clients; the
    needle name goes into needle_batches. Returns (seconds, records)."""
    day = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 2 * 86400))
    tmpl = "".join(
        '{"ts":"%s.%06dZ","kind":"dns","src_ip":"10.%d.%d.%d","dns.qname":'
        '"h%d.b@@@@@.bulk.example","dns.qtype":"A","dns.rcode":"NOERROR"}\n'
        % (day, j % 1000000, (j >> 16) & 255, (j >> 8) & 255, j & 255, j % 5000)
        for j in range(args.batch)).encode()
    nbatches = args.records // args.batch
    needle = ('{"ts":"%s.000000Z","kind":"dns","src_ip":"10.9.9.9","dns.qname":'
              '"www.needle.evil-bench.example","dns.qtype":"A"}\n' % day).encode()
    nxt = [0]
    lock = threading.Lock()
    errors = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=600)
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= nbatches or errors:
                break
            body = tmpl.replace(b"@@@@@", b"%05d" % k)
            if k in needle_batches:
                body += needle
            conn.request("POST", "/api/v1/ingest?format=ndjson", body,
                          {"Authorization": "Bearer " + key})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                errors.append("%d %s" % (r.status, data[:200]))
        conn.close()
    t0 = time.monotonic()
    ths = [threading.Thread(target=worker) for _ in range(args.clients)]
    for t in ths:
        t.start()
    last = 0
    while any(t.is_alive() for t in ths):
        time.sleep(1)
        if nxt[0] - last >= nbatches // 10:
            last = nxt[0]
            print("  ingested %d/%d batches (%.0f s)" % (min(last, nbatches), nbatches,
                                                       time.monotonic() - t0), flush=True)
    for t in ths:
        t.join()
    if errors:
        sys.exit("ingest failed: " + errors[0])
    return time.monotonic() - t0, nbatches * args.batch + len(needle_batches)


def hunt(c, value, itype="domain"):
    t0 = time.monotonic()
    r = c.req("POST", "/api/v1/indicators", json.dumps(
        {"type": itype, "value": value, "tlp": "GREEN", "publish": True}))
    iid = r.json()["added"][0]["id"]
    while True:
        one = c.req("GET", "/api/v1/indicators/%d" % iid).json()
        rh = one.get("retro_hunt") or {}
        if rh.get("state") not in (None, "running", "queued"):
            return time.monotonic() - t0, rh
        if time.monotonic() - t0 > 600:
            sys.exit("retro-hunt of %s did not finish" % value)
        time.sleep(0.005)


def brute_force(c, member, needle, max_records):
    """Scan every stored record of the member through the export API."""
    t0 = time.monotonic()
    after, hits, n, nbytes = 0, 0, 0, 0
    while n < max_records:
        r = c.req("GET", "/api/v1/records?after=%d&batches=200&member=%d" % (after, member),
                  timeout=600)
        last = int(r.headers.get("x-crosswatch-last-batch", "0"))
        nbytes += len(r.body)
        hits += sum(1 for ln in r.body.split(b"\n") if needle in ln)
        n += r.body.count(b"\n")
        if last <= after or not r.body:
            break
        after = last
    return time.monotonic() - t0, n, hits, nbytes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("crosswatch")
    ap.add_argument("--records", type=int, default=10000000, help="stored records (10M)")
    ap.add_argument("--batch", type=int, default=50000, help="records per batch (50000)")
    ap.add_argument("--clients", type=int, default=2, help="ingest clients (2)")
    ap.add_argument("--publishes", type=int, default=20, help="latency samples (20)")
    ap.add_argument("--needles", type=int, default=5, help="batches holding the needle (5)")
    ap.add_argument("--peer-records", type=int, default=0,
                    help="records the brute-force peer scans (0 = all)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    import shutil
    nsd = shutil.which("nsd") or "/usr/sbin/nsd"
    with cwtest.TestEnv("bench_ioc_e2e", keep=args.keep) as env:
        nsd_port = cwtest.free_udp_tcp_port()
        with open(env.path("example.zone"), "w") as f:
            f.write("$TTL 300\n@ IN SOA ns.bench.example. a.bench.example. 1 3600 600 86400 60\n"
                    "@ IN NS ns\nns IN A 127.0.0.1\nok IN A 192.0.2.1\n" +
                    "".join("e%d IN A 192.0.2.%d\n" % (i, 2 + i % 200)
                            for i in range(args.publishes)))
        with open(env.path("nsd.conf"), "w") as f:
            f.write(cwtest.nsd_conf(nsd_port, env.dir, "bench.example", "example.zone"))
        nsd_proc = cwtest.spawn([nsd, "-d", "-c", env.path("nsd.conf")], env.path("nsd.log2"))
        while (dns_query(nsd_port, "ok.bench.example") or [None])[0] != "NOERROR":
            if nsd_proc.poll() is not None:
                sys.exit("nsd did not start")
            time.sleep(0.1)
        c = env.center(args.crosswatch, extra_args=["--threads", "4",
                                                    "--max-body", "64M"])
        c.add_member("acme")
        key = c.add_sensor("acme", "pdns")["key"]
        bulk = c.add_member("bulk")["id"]
        bkey = c.add_sensor("bulk", "resolver")["key"]
        lat = latency(args, env, c, key, nsd_port)

        nb = args.records // args.batch
        needles = sorted({(i * nb) // max(1, args.needles) + (nb // (2 * max(1, args.needles)))
                          for i in range(args.needles)})
        print("\n## retro-hunt over %d stored dns records (%d batches of %d)"
              % (args.records, nb, args.batch))
        secs, nrec = ingest(args, c, bkey, set(needles))
        print("ingest: %d records in %.1f s (%.0f records/s, %d clients)"
              % (nrec, secs, nrec / secs, args.clients))
        t_hit, rh = hunt(c, "evil-bench.example")
        if rh.get("hits") != len(needles):
            sys.exit("retro-hunt found %r hits, planted %d" % (rh.get("hits"), len(needles)))
        t_miss, rh2 = hunt(c, "absent-bench.example")
        t_bf, n_bf, hits_bf, bytes_bf = brute_force(
            c, bulk, b"evil-bench.example", args.peer_records or (1 << 62))
        scale = nrec / max(1, n_bf)
        print("| search | records | wall s | center ms | batches scanned / read | hits |")
        print("|---|---|---|---|---|---|")
        print("| retro-hunt, domain in %d batches | %d | %.3f | %s | %s / %s | %s |"
              % (len(needles), nrec, t_hit, rh.get("ms"), rh.get("batches_scanned"),
                 rh.get("batches_read"), rh.get("hits")))
        print("| retro-hunt, domain nowhere | %d | %.3f | %s | %s / %s | %s |"
              % (nrec, t_miss, rh2.get("ms"), rh2.get("batches_scanned"),
                 rh2.get("batches_read"), rh2.get("hits")))
        print("| peer: brute-force scan of the export (%.0f MB) | %d | %.1f%s | - | all | %d |"
              % (bytes_bf / 1e6, n_bf, t_bf * scale,
                 "" if scale < 1.01 else " (x%.1f of %.1f s)" % (scale, t_bf), hits_bf))
        print("\ngoals: publish -> enforced p95 %s ms (< 1000); retro-hunt of %dM records "
              "%.2f s (< 2)" % (ms(pct(lat, 95)), nrec // 1000000, t_hit))
        c.stop()
        cwtest.kill9(nsd_proc)


if __name__ == "__main__":
    main()
