#!/usr/bin/env python3
"""test_real_eve.py - real Suricata EVE output through the HTTP ingest API.

Sends SHARED/data/eve/public-pcaps.eve.json.gz (about 24,000 events written by
Suricata 7 over public captures; not produced by this project) to a real center in
gzip-encoded batches with Idempotency-Keys, then checks with exact numbers:
  - per batch: accepted + rejected_count == non-empty lines, every reject has a line
    number and a reason, and the rejected lines are exactly the ones predicted;
  - in total: stats records == accepted, stats rejected == rejected;
  - the export (GET /api/v1/records) holds, per kind and per (kind, event.type), exactly
    the counts computed here independently with Python's json module, and the raw
    lines stored are exactly the accepted input lines, each once.
The event_type -> kind mapping is written out here on purpose (not read from the C
code): alert->ids_alert, http, dns, tls, flow, fileinfo->file, anomaly, smtp->mail,
stats->rejected, anything else -> connection.
"""
import collections
import datetime
import gzip
import ipaddress
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

KIND = {"alert": "ids_alert", "http": "http", "dns": "dns", "tls": "tls", "flow": "flow",
        "fileinfo": "file", "anomaly": "anomaly", "smtp": "mail"}
BATCH_LINES = 2000
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)$")


def valid_ts(s):
    if not isinstance(s, str) or not TS_RE.match(s):
        return False
    base = s[:19]
    try:
        datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def predict(line):
    """(kind, event_type) for an accepted line, or (None, why) for a rejected one."""
    try:
        o = json.loads(line)
    except ValueError:
        return None, "invalid JSON"
    if not isinstance(o, dict):
        return None, "not a JSON object"
    if "timestamp" not in o:
        return None, "missing timestamp"
    if not valid_ts(o["timestamp"]):
        return None, "invalid timestamp"
    et = o.get("event_type")
    if not isinstance(et, str) or not et:
        return None, "missing or invalid event_type"
    if et == "stats":
        return None, "stats"
    for ipk, pk in (("src_ip", "src_port"), ("dest_ip", "dest_port")):
        if ipk in o:
            try:
                ipaddress.ip_address(o[ipk])
            except (ValueError, TypeError):
                return None, "invalid " + ipk
        if pk in o:
            v = o[pk]
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 65535:
                return None, "invalid " + pk
    if et == "alert" and not isinstance(o.get("alert"), dict):
        return None, "alert event without alert object"
    return KIND.get(et, "connection"), et


def main():
    args = cwtest.parse_args()
    src = os.path.join(args.shared or "", "data", "eve", "public-pcaps.eve.json.gz")
    with cwtest.TestEnv("test_real_eve", keep=args.keep) as env:
        ck = env.c
        ck.require(os.path.exists(src), "the real EVE file exists: %s" % src)
        with gzip.open(src, "rb") as f:
            data = f.read()
        # the center's line split: LF, optional CR before it, empty lines skipped
        lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in data.split(b"\n")]
        nonempty = [ln for ln in lines if ln]
        ck.note("%d bytes, %d non-empty lines" % (len(data), len(nonempty)))
        ck.check(len(nonempty) > 20000, "the file holds more than 20,000 events")

        pred = [predict(ln) for ln in nonempty]
        want_kind = collections.Counter(k for k, _ in pred if k)
        want_pair = collections.Counter((k, et) for k, et in pred if k)
        want_rej = collections.Counter(why for k, why in pred if not k)
        want_acc = sum(want_kind.values())
        ck.note("predicted: %d accepted, %d rejected %s" % (want_acc, len(nonempty) - want_acc,
                                                             dict(want_rej)))
        ck.note("predicted kinds: %s" % dict(sorted(want_kind.items())))

        c = env.center(args.binary)
        c.add_member("ids-member")
        key = c.add_sensor("ids-member", "suricata")["key"]

        acc = rej = 0
        mismatch = []
        reasons = collections.Counter()
        nbatches = 0
        for bi, start in enumerate(range(0, len(nonempty), BATCH_LINES)):
            chunk = nonempty[start:start + BATCH_LINES]
            body = b"\n".join(chunk) + b"\n"
            r = c.ingest(key, cwtest.gz(body), "eve",
                         {"Content-Encoding": "gzip", "Idempotency-Key": "eve-%04d" % bi},
                         timeout=600)
            ck.require(r.status == 200, "batch %d -> 200" % bi, repr(r))
            a = r.json()
            nbatches += 1
            acc += a["accepted"]
            rej += a["rejected_count"]
            if a["accepted"] + a["rejected_count"] != len(chunk):
                mismatch.append("batch %d: %d + %d != %d" % (bi, a["accepted"],
                                                             a["rejected_count"], len(chunk)))
            got_lines = set()
            for x in a["rejected"]:
                if not (isinstance(x.get("line"), int) and isinstance(x.get("reason"), str)
                        and x["reason"]):
                    mismatch.append("batch %d: reject without line/reason: %r" % (bi, x))
                got_lines.add(x["line"])
                reasons[x["reason"]] += 1
            want_lines = {i + 1 for i in range(len(chunk)) if pred[start + i][0] is None}
            if got_lines != want_lines:
                extra = sorted(got_lines - want_lines)[:5]
                missing = sorted(want_lines - got_lines)[:5]
                mismatch.append("batch %d: rejected lines differ; center-only %s (%s), "
                                "predicted-only %s" % (
                                    bi, extra,
                                    [(a_["reason"], chunk[n - 1][:120]) for a_ in a["rejected"]
                                     for n in extra if a_["line"] == n][:3], missing))
        ck.note("sent %d batches; center: %d accepted, %d rejected, reasons %s" %
                (nbatches, acc, rej, dict(reasons)))
        ck.eq(acc + rej, len(nonempty), "accepted + rejected == non-empty lines")
        ck.eq(mismatch, [], "per-batch counts and rejected lines as predicted")
        ck.eq(acc, want_acc, "accepted == predicted")
        ck.eq(rej, len(nonempty) - want_acc, "rejected == predicted")

        # a retry of the first batch is a duplicate and changes nothing
        body = b"\n".join(nonempty[:BATCH_LINES]) + b"\n"
        r = c.ingest(key, cwtest.gz(body), "eve",
                     {"Content-Encoding": "gzip", "Idempotency-Key": "eve-0000"}, timeout=600)
        ck.eq((r.status, r.json().get("duplicate")), (200, True), "retried batch 0 is a duplicate")

        st = c.stats()
        ck.eq((st["records"], st["rejected"], st["batches"], st["duplicates"]),
              (acc, rej, nbatches, 1), "stats (records, rejected, batches, duplicates)")
        recs = c.export_records(page_batches=3)
        ck.eq(len(recs), acc, "exported records == accepted")
        got_kind = collections.Counter(r.get("kind") for r in recs)
        got_pair = collections.Counter((r.get("kind"), r.get("event.type")) for r in recs)
        ck.eq(dict(sorted(got_kind.items())), dict(sorted(want_kind.items())),
              "stored records per kind == computed from the file")
        diff = {k: (got_pair.get(k, 0), want_pair.get(k, 0))
                for k in set(got_pair) | set(want_pair) if got_pair.get(k) != want_pair.get(k)}
        ck.eq(diff, {}, "stored records per (kind, event.type) == computed (differences shown)")
        want_raw = collections.Counter(ln.decode("utf-8", "replace")
                                       for ln, p in zip(nonempty, pred) if p[0])
        got_raw = collections.Counter(r.get("raw") for r in recs)
        ck.check(got_raw == want_raw, "stored raw lines == accepted input lines, each once",
                 "(%d differ)" % len((got_raw - want_raw) + (want_raw - got_raw)))
        ck.eq(sum(1 for r in recs if r.get("kind") == "ids_alert"), want_kind["ids_alert"],
              "ids_alert records")
        ck.check(all(r.get("member") == recs[0].get("member") and r.get("sensor") for r in recs),
                 "every record carries the sensor's member and sensor id")
        alerts = [r for r in recs if r.get("kind") == "ids_alert"]
        ck.check(all(isinstance(r.get("alert.signature_id"), int) for r in alerts),
                 "every ids_alert has an integer alert.signature_id")
        ck.eq(c.stop(), 0, "center stops cleanly (exit 0)")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports in the center's log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
