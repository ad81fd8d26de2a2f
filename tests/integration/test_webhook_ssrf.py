#!/usr/bin/env python3
"""A member's webhook may not make the center reach loopback or private addresses.

A member admin chooses the webhook URL, so without `webhook_allow_private` the center
must refuse to connect to 127.0.0.1 (or 169.254.169.254 ...): the delivery log says so
and the listener on loopback never sees a connection. With the setting, the same
webhook is delivered (the notices test covers that path in full).
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402


def alert():
    return json.dumps({
        "timestamp": "2025-03-10T10:00:00.000000+0000", "event_type": "alert",
        "src_ip": "198.51.100.9", "src_port": 40000, "dest_ip": "10.0.0.1", "dest_port": 443,
        "proto": "TCP", "alert": {"action": "allowed", "gid": 1, "signature_id": 2049103,
                                  "rev": 1, "severity": 1,
                                  "signature": "ET EXPLOIT Ivanti Connect Secure Command "
                                               "Injection Attempt",
                                  "category": "Attempted Administrator Privilege Gain"}}) + "\n"


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_webhook_ssrf", keep=args.keep) as env:
        ck = env.c
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.1)
        port = listener.getsockname()[1]
        c = env.center(args.binary)  # no --webhook-allow-private
        mid = c.add_member("alpha")["id"]
        key = c.add_sensor("alpha", "ids")["key"]
        ck.eq(c.ingest(key, alert().encode(), fmt="eve").status, 200, "alert ingested")
        ev = c.admin_json("GET", "/api/v1/events")["events"][0]["id"]
        c.admin_json("POST", "/api/v1/events/%d/state" % ev, {"state": "investigating"})
        c.admin_json("POST", "/api/v1/members/%d/webhook" % mid,
                     {"url": "http://127.0.0.1:%d/hook" % port, "secret": "s3cret-0123456789"})
        nid = c.admin_json("POST", "/api/v1/notices", {
            "member": "alpha", "events": [ev], "template": "edge_exploit",
            "answer_by": "2099-01-01T00:00:00Z"})["id"]
        log = []
        for _ in range(100):
            log = c.admin_json("GET", "/api/v1/notices/%d/deliveries" % nid)
            attempts = [a for d in log.get("deliveries", []) for a in d.get("log", [])]
            if attempts:
                break
            time.sleep(0.1)
        attempts = [a for d in log.get("deliveries", []) for a in d.get("log", [])]
        ck.check(len(attempts) >= 1, "a delivery attempt was made", json.dumps(log)[:400])
        ck.check(all((a.get("error") or "").startswith("refused") for a in attempts),
                 "every attempt refused by the SSRF guard", json.dumps(attempts)[:400])
        try:
            conn, _ = listener.accept()
            conn.close()
            reached = True
        except socket.timeout:
            reached = False
        ck.eq(reached, False, "nothing connected to the loopback listener")
        listener.close()


if __name__ == "__main__":
    main()
