#!/usr/bin/env python3
"""Analyst operations on events: assign, merge, split, and what closing does.

A real `crosswatch serve`; EVE alerts from three sources against two targets make two
events of one member; then:
- assign: to a coordinator user (kept in the history), refused for an unknown or a
  member user, "" unassigns;
- merge: detections move, figures are recomputed from them, the merged event becomes
  a duplicate, both histories say so; merging into a closed event, across members or
  into itself is refused (409) and changes nothing;
- split: one source's detections become a new event; a split that would move nothing
  or empty the event is refused;
- new detections after a merge/split join the right event (the open-event table was
  kept in step), and after a restart too;
- closing an event: the next detections of the same series start a new event.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

SIG = "ET EXPLOIT FortiOS SSL VPN Path Traversal"


def alerts(pairs, start):
    out = []
    for i, (src, dst) in enumerate(pairs):
        out.append(json.dumps({
            "timestamp": "2025-03-10T10:%02d:%02d.000000+0000" % ((start + i) // 60,
                                                               (start + i) % 60),
            "event_type": "alert", "src_ip": src, "src_port": 40000 + start + i,
            "dest_ip": dst, "dest_port": 443, "proto": "TCP",
            "alert": {"action": "allowed", "gid": 1, "signature_id": 7, "rev": 1,
                      "signature": SIG, "category": "Attempted Administrator Privilege Gain",
                      "severity": 1}}))
    return "\n".join(out) + "\n"


def post(c, path, body):
    return c.req("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_event_ops", keep=args.keep) as env:
        ck = env.c
        c = env.center(args.binary)
        c.add_member("alpha")
        c.add_member("beta")
        ka = c.add_sensor("alpha", "ids")["key"]
        kb = c.add_sensor("beta", "ids")["key"]
        c.admin_json("POST", "/api/v1/users", {"name": "ana", "role": "coordinator_analyst",
                                               "password": "correct horse battery"})
        c.admin_json("POST", "/api/v1/users", {"name": "mel", "role": "member_user",
                                               "member": "alpha",
                                               "password": "correct horse battery"})
        S1, S2, S3, T1, T2 = "198.51.100.1", "198.51.100.2", "198.51.100.3", "10.0.0.1", "10.0.0.2"
        body = alerts([(S1, T1)] * 3 + [(S2, T2)] * 2 + [(S3, T2)] * 2, 0)
        r = c.ingest(ka, body.encode(), fmt="eve")
        ck.eq(r.json()["accepted"], 7, "7 alerts accepted")
        c.ingest(kb, alerts([("203.0.113.9", "10.9.9.9")], 0).encode(), fmt="eve")

        def events(member="alpha"):
            return {e["id"]: e for e in c.admin_json(
                "GET", "/api/v1/events?member=%s" % member)["events"]}

        ev = events()
        ck.eq(sorted((e["key_source"], e["count"], e["distinct_sources"]) for e in ev.values()),
              [(S1, 3, 1), (S2, 4, 2)], "two events: S1 alone, S2+S3 on T2")
        e1 = [i for i, e in ev.items() if e["key_source"] == S1][0]
        e2 = [i for i, e in ev.items() if e["key_source"] == S2][0]
        eb = list(events("beta"))[0]

        # ---- assign
        r = post(c, "/api/v1/events/%d/assign" % e1, {"assignee": "ana"})
        ck.eq((r.status, r.json()["assignee"]), (200, "ana"), "assigned to ana")
        ck.eq(r.json()["history"][-1]["change"], "assigned to ana", "history: assigned")
        for who in ("nobody", "mel"):
            r = post(c, "/api/v1/events/%d/assign" % e1, {"assignee": who})
            ck.eq(r.status, 400, "assign to %s refused" % who)
        ck.eq(c.admin_json("GET", "/api/v1/events/%d" % e1)["assignee"], "ana",
              "refused assignments changed nothing")
        r = post(c, "/api/v1/events/%d/assign" % e1, {"assignee": ""})
        ck.eq((r.status, r.json()["assignee"]), (200, None), "\"\" unassigns")
        ck.eq(post(c, "/api/v1/events/987654/assign", {"assignee": "ana"}).status, 404,
              "assign unknown event: 404")

        # ---- refused merges change nothing
        before = events()
        ck.eq(post(c, "/api/v1/events/%d/merge" % e1, {"into": e1}).status, 409,
              "merge into itself: 409")
        ck.eq(post(c, "/api/v1/events/%d/merge" % e1, {"into": eb}).status, 409,
              "merge across members: 409")
        ck.eq(post(c, "/api/v1/events/%d/merge" % e1, {"into": 987654}).status, 404,
              "merge into unknown: 404")
        ck.eq(events(), before, "refused merges changed nothing")

        # ---- merge e2 into e1
        r = post(c, "/api/v1/events/%d/merge" % e2, {"into": e1})
        ck.eq(r.status, 200, "merge: 200")
        m = r.json()
        ck.eq((m["count"], m["distinct_sources"], m["distinct_targets"]), (7, 3, 2),
              "merged event recomputed: 7 detections, 3 sources, 2 targets")
        ck.eq(sorted(m["sources"]), [S1, S2, S3], "merged event sources")
        d2 = c.admin_json("GET", "/api/v1/events/%d" % e2)
        ck.eq((d2["state"], d2["count"]), ("duplicate", 0), "merged-away event: duplicate, 0")
        ck.eq(d2["history"][-1]["change"], "merged into event %d" % e1, "history of e2")
        ck.eq(m["history"][-1]["change"], "event %d merged in" % e2, "history of e1")
        ck.eq(len(c.admin_json("GET", "/api/v1/detections?event=%d" % e1)["detections"]), 7,
              "all 7 detections belong to e1")
        ck.eq(post(c, "/api/v1/events/%d/merge" % e1, {"into": e2}).status, 409,
              "merge into a closed (duplicate) event: 409")

        # new detections from S2 now join e1 (the open-event table follows the merge)
        c.ingest(ka, alerts([(S2, T2)], 20).encode(), fmt="eve")
        ck.eq(c.admin_json("GET", "/api/v1/events/%d" % e1)["count"], 8,
              "new S2 detection joined the merged event")
        ck.eq(len(events()), 2, "no new event")

        # ---- split S3 out of e1
        ck.eq(post(c, "/api/v1/events/%d/split" % e1,
                    {"sources": ["192.0.2.99"]}).status, 409, "split moving nothing: 409")
        ck.eq(post(c, "/api/v1/events/%d/split" % e1,
                    {"sources": [S1, S2, S3]}).status, 409, "split emptying the event: 409")
        ck.eq(post(c, "/api/v1/events/%d/split" % e1,
                    {"sources": ["not-an-ip"]}).status, 400, "split with a bad address: 400")
        r = post(c, "/api/v1/events/%d/split" % e1, {"sources": [S3]})
        ck.eq(r.status, 201, "split: 201")
        e3 = r.json()["id"]
        ck.eq((r.json()["count"], r.json()["key_source"], r.json()["state"]), (2, S3, "new"),
              "split event: S3's 2 detections")
        ck.eq(c.admin_json("GET", "/api/v1/events/%d" % e1)["count"], 6, "e1 keeps 6")
        ck.check(e3 > max(e1, e2), "split event id is new", str(e3))

        # after a restart the table is rebuilt from the store: S3 joins e3, S1 joins e1
        c.restart()
        c.ingest(ka, alerts([(S3, T2), (S1, T1)], 30).encode(), fmt="eve")
        ck.eq(c.admin_json("GET", "/api/v1/events/%d" % e3)["count"], 3, "S3 joined e3")
        ck.eq(c.admin_json("GET", "/api/v1/events/%d" % e1)["count"], 7, "S1 joined e1")

        # ---- closing: the next detection of the series starts a new event
        c.admin_json("POST", "/api/v1/events/%d/state" % e3, {"state": "false_positive"})
        c.ingest(ka, alerts([(S3, "10.0.0.7")], 40).encode(), fmt="eve")
        after = events()
        ck.eq(after[e3]["count"], 3, "closed event took no more detections")
        new = [i for i in after if i not in (e1, e2, e3)]
        ck.eq(len(new), 1, "one new event for the next detection")
        ck.eq(after[new[0]]["key_source"], S3, "the new event is S3's")
        if env.sanitizer_reports():
            ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")


if __name__ == "__main__":
    main()
