#!/usr/bin/env python3
"""test_dns_flags.py - DNS threat flags through a real center (docs/dns.md "Threat flags").

A center with a bad-ranges file, no NOD warm-up and a tunnel threshold of 20 unique
subdomains; members A and B each with a resolver sensor. `dns` records (the shape
`crosswatch dns` sends) go in through the ingest API as NDJSON, then exactly:
  - A's batch: a DGA name (dns:dga), an answer in a bad range (dns:badrange), 25 TXT
    queries to unique subdomains of one zone (one dns:tunnel, on the 20th), and each
    registered domain that resolved is newly observed (dns:nod) once;
  - B's batch: a domain A already resolved is not new across members, a fresh one is;
  - after a restart of the center, the NOD table is still there (no flag again);
  - the flags are detections with rule ids dns:*, class malware_c2, and they form
    events like any detection (per member and client: a DNS record's target is the
    resolver, which does not bundle).
"""
import json
import sys

import cwtest

T = "2025-06-15T10:%02d:%02d.000000Z"


def rec(minute, sec, client, qname, qtype="A", rcode="NOERROR", answers=None, view="default"):
    d = {"ts": T % (minute, sec), "kind": "dns", "src_ip": client, "src_port": 40000 + sec,
         "dst_ip": "192.0.2.53", "dst_port": 53, "transport": "udp", "dns.type": "answer",
         "dns.qname": qname, "dns.qtype": qtype, "dns.rcode": rcode, "dns.view": view,
         "dns.cache": "miss"}
    if answers:
        d["dns.answers"] = answers
    return json.dumps(d)


def detections(c, **q):
    qs = "&".join("%s=%s" % kv for kv in sorted(q.items()))
    return c.admin_json("GET", "/api/v1/detections?" + qs)["detections"]


def by_rule(ds):
    out = {}
    for d in ds:
        out[d["rule_id"]] = out.get(d["rule_id"], 0) + 1
    return out


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_dns_flags", keep=args.keep) as env:
        ck = env.c
        ranges = env.path("bad-ranges.txt")
        with open(ranges, "w") as f:
            f.write("# test ranges\n198.51.100.0/24 botnet-x\n2001:db8:bad::/48\n")
        conf = env.path("center.conf")
        with open(conf, "w") as f:
            f.write("[serve]\ndns_bad_ranges_file = %s\ndns_nod_warmup = 0\n"
                    "dns_tunnel_unique = 20\nevent_window = 1h\n" % ranges)
        c = env.center(args.binary, extra_args=["--config", conf])
        keys = {}
        for m in ("A", "B"):
            c.add_member(m)
            keys[m] = c.add_sensor(m, "dns-" + m.lower())["key"]

        lines = [
            rec(0, 1, "10.1.0.5", "www.example.com.", answers="93.184.216.34"),
            rec(0, 2, "10.1.0.5", "mail.example.com.", answers="93.184.216.35"),
            rec(0, 3, "10.1.0.6", "xjqvkwzpfhtr.com.", rcode="NXDOMAIN"),
            rec(0, 4, "10.1.0.6", "qwxzkvjplmbt.net.", rcode="NXDOMAIN"),
            rec(0, 5, "10.1.0.8", "cdn.shop.example.net.", answers="edge.example.net.,198.51.100.7"),
        ]
        for i in range(25):
            lines.append(rec(1, i, "10.1.0.7", "c%02d.tun.example.org." % i, qtype="TXT"))
        body = "\n".join(lines) + "\n"
        r = c.ingest(keys["A"], body, "ndjson", {"Idempotency-Key": "dns-a-1"})
        ck.require(r.status == 200 and r.json()["accepted"] == len(lines),
                   "A's %d dns records accepted" % len(lines), repr(r))
        ds = detections(c, limit=1000)
        ck.eq(by_rule(ds), {"dns:dga": 2, "dns:badrange": 1, "dns:tunnel": 1, "dns:nod": 2},
              "A: flags by rule")
        ck.check(all(d.get("attack_class") == "malware_c2" for d in ds),
                 "every flag is malware_c2", repr(ds[:2]))
        ck.check(all(d.get("event_id") for d in ds), "every flag joined an event", repr(ds[:2]))
        # events.h: a DNS flag joins the open event of its (member, class, client):
        # the record's target is the resolver every client asks, which does not
        # bundle - one malware_c2 event per flagged client, in record order, with the
        # most severe flag's severity
        ev = c.admin_json("GET", "/api/v1/events?limit=100")["events"]
        ck.eq([(e["member"], e["attack_class"], e["key_source"], e["count"],
                e["distinct_sources"], e["severity"]) for e in ev],
              [("A", "malware_c2", "10.1.0.5", 1, 1, 4),   # nod
               ("A", "malware_c2", "10.1.0.6", 2, 1, 3),   # dga x2
               ("A", "malware_c2", "10.1.0.8", 2, 1, 2),   # badrange + nod
               ("A", "malware_c2", "10.1.0.7", 1, 1, 2)],  # tunnel
              "A: one event per flagged client")
        full = c.admin_json("GET", "/api/v1/events/%d" % ev[0]["id"]) if ev else {}
        ck.eq((full.get("sources"), full.get("distinct_targets")), (["10.1.0.5"], 0),
              "a DNS event's source is the client; the resolver is not a target")

        # B: example.com was seen at A -> not new; fresh.example.info is
        lines = [rec(5, 0, "10.2.0.9", "example.com.", answers="93.184.216.34"),
                 rec(5, 1, "10.2.0.9", "fresh.example.info.", answers="192.0.2.44")]
        r = c.ingest(keys["B"], "\n".join(lines) + "\n", "ndjson", {"Idempotency-Key": "dns-b-1"})
        ck.require(r.status == 200, "B's batch accepted", repr(r))
        ds = detections(c, member="B", limit=1000)
        ck.eq(by_rule(ds), {"dns:nod": 1}, "B: only the domain no member had seen is new")
        evb = c.admin_json("GET", "/api/v1/events?member=B")["events"]
        ck.eq([(e["attack_class"], e["severity"], e["count"]) for e in evb],
              [("malware_c2", 4, 1)], "B: its own low-severity event")

        # restart: the NOD table persists
        ck.eq(c.stop(), 0, "center stops cleanly")
        c.start()
        lines = [rec(10, 0, "10.2.0.9", "www.fresh.example.info.", answers="192.0.2.44"),
                 rec(10, 1, "10.2.0.9", "www.other-site.example.", answers="192.0.2.45")]
        r = c.ingest(keys["B"], "\n".join(lines) + "\n", "ndjson", {"Idempotency-Key": "dns-b-2"})
        ck.require(r.status == 200, "B's batch after restart accepted", repr(r))
        ds = detections(c, member="B", limit=1000)
        ck.eq(by_rule(ds), {"dns:nod": 2}, "after restart: fresh.example.info still known")
        ck.check(any(d.get("rule_name", "").startswith("Newly observed") for d in ds),
                 "rule name of the NOD flag", repr(ds[:1]))
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
