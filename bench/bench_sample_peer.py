#!/usr/bin/env python3
"""bench_sample_peer.py PASSES RUNS FILE... - the peer of bench_sample: each e-mail
parsed with Python's email package (compat32 policy: the default policy raises on one
of the samples), every leaf part decoded and hashed with hashlib md5/sha1/sha256, the
text parts scanned with a URL regex. It does less than cw_sample_analyse (no file
typing, no archives, no header analysis, no YARA). Timed with the thread's CPU clock
like bench_sample. Prints one JSON object: {"emails": per pass, "cpu_s": [per run],
"urls": distinct URLs seen}."""
import email
import email.policy
import hashlib
import json
import re
import sys
import time

URL = re.compile(rb"(?i)\b(?:https?|ftp)://[^\s<>\"'()\[\]]+")


def analyse(raw, urls):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    for part in msg.walk():
        if part.is_multipart():
            continue
        body = part.get_payload(decode=True) or b""
        hashlib.md5(body).hexdigest()
        hashlib.sha1(body).hexdigest()
        hashlib.sha256(body).hexdigest()
        if part.get_content_maintype() == "text":
            for m in URL.finditer(body):
                urls.add(m.group(0))


def main():
    passes, runs = int(sys.argv[1]), int(sys.argv[2])
    blobs = []
    for f in sys.argv[3:]:
        with open(f, "rb") as fh:
            blobs.append(fh.read())
    urls = set()
    for b in blobs:  # warm-up, like the C side
        analyse(b, urls)
    cpu = []
    for _ in range(runs):
        t0 = time.thread_time()
        for _ in range(passes):
            for b in blobs:
                analyse(b, urls)
        cpu.append(time.thread_time() - t0)
    print(json.dumps({"emails": len(blobs), "cpu_s": cpu, "urls": len(urls)}))


if __name__ == "__main__":
    main()
