#!/usr/bin/env python3
"""test_durability.py - one center, three `crosswatch ship`s, crashes on both sides.

Each of three members has a log file that grows while the test runs: a writer thread
appends uniquely numbered combined-format lines (path /item/<member>/<seq>) in whole
lines per write, and renames the file away once (log rotation: rename + new file).
Three `crosswatch ship` processes (--batch-lines 500, --flush-interval 200ms: many
small batches) follow them. Meanwhile the test
  - kills the center with SIGKILL under load twice and restarts it at once (same port,
    same data directory);
  - kills every ship with SIGKILL at least twice while it reads and sends, and restarts
    it with the same state directory;
  - takes the center down for ~15 s under load (the writers keep writing: the ships'
    spools grow; one ship is even killed and restarted during the outage);
then stops the writers, kills the ships once more and drains each with `ship --once`
(which exits 0 once every input reached EOF and the spool is empty), and checks with
exact numbers, per member:
  - the set of sequence numbers stored == the set written (nothing lost),
  - each stored exactly once (no duplicates), under the member of the ship's key,
  - /api/v1/stats records == exported records == lines written, rejected == 0,
  - the spools are empty and no batch was set aside as rejected.
Kill times carry a random jitter (seed printed; CW_DURABILITY_SEED repeats it).
CW_DURABILITY_LINES changes the lines per member (default 60000).
"""
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

MEMBERS = ["m0", "m1", "m2"]
LINES = int(os.environ.get("CW_DURABILITY_LINES", "60000"))
CHUNK = 100                 # lines per write() (whole lines only)
BURST = 3200                # lines written back to back, then a pause: the ships get
                            # several batches at once and are busy sending them
WRITE_SECONDS = 55.0        # the writers spread their lines over this long
OUTAGE_SECONDS = 15.0
ITEM_RE = re.compile(r"/item/(m\d)/(\d+) ")


def log_line(member, seq):
    return ('192.0.2.%d - - [01/May/2024:12:%02d:%02d +0000] "GET /item/%s/%d HTTP/1.1" 200 %d '
            '"-" "cwtest-durability"\n' % (seq % 250 + 1, (seq // 60) % 60, seq % 60, member,
                                           seq, 100 + seq % 900)).encode()


class Writer(threading.Thread):
    """Appends LINES numbered lines to path over WRITE_SECONDS, rotating once."""

    def __init__(self, member, path, rotate_at, t0):
        super().__init__(daemon=True)
        self.member, self.path, self.rotate_at, self.t0 = member, path, rotate_at, t0
        self.written = 0
        self.rotated = False
        self.error = None
        self.stop = False

    def run(self):
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            for seq in range(0, LINES, CHUNK):
                if self.stop:
                    break
                if not self.rotated and seq >= self.rotate_at:
                    os.close(fd)
                    os.rename(self.path, self.path + ".1")
                    fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                    self.rotated = True
                end = min(seq + CHUNK, LINES)
                data = b"".join(log_line(self.member, s) for s in range(seq, end))
                n = os.write(fd, data)
                if n != len(data):
                    raise IOError("short write %d of %d" % (n, len(data)))
                self.written = end
                if end % BURST == 0 or end == LINES:
                    due = self.t0 + WRITE_SECONDS * end / LINES
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            os.close(fd)
        except Exception as e:  # reported by the main thread
            self.error = e


class Ship:
    def __init__(self, env, binary, center, idx, key):
        self.env, self.binary, self.center, self.idx = env, binary, center, idx
        self.member = MEMBERS[idx]
        self.state = env.path("ship-%d" % idx)
        self.keyfile = env.path("key-%d" % idx)
        self.logfile = env.path("logs", "%s.log" % self.member)
        self.out = env.path("ship-%d.log" % idx)
        self.proc = None
        self.kills = 0
        self.busy_kills = 0
        with open(self.keyfile, "w") as f:
            f.write(key + "\n")
        os.chmod(self.keyfile, 0o600)

    def argv(self, once=False):
        a = [self.binary, "ship", "--center", self.center.url, "--key-file", self.keyfile,
             "--state-dir", self.state, "--file", "combined:" + self.logfile,
             "--batch-lines", "500", "--flush-interval", "200ms", "--verbose"]
        return a + (["--once"] if once else [])

    def start(self):
        with open(self.out, "ab") as f:
            f.write(b"---- start\n")
        self.proc = cwtest.spawn(self.argv(), self.out, env=cwtest.env_for_children())

    def spooled(self):
        d = os.path.join(self.state, "spool")
        try:
            return sum(1 for n in os.listdir(d) if n.endswith(".batch"))
        except OSError:
            return 0

    def kill9(self, ck, when="", busy=True):
        """SIGKILL; with busy, first wait (up to 5 s) until batches are spooled, i.e. the
        ship is in the middle of cutting and sending batches."""
        deadline = time.monotonic() + 5
        while busy and self.spooled() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        ck.check(self.proc.poll() is None, "ship %s still running before its SIGKILL %s" %
                 (self.member, when), "(exit %s)" % self.proc.returncode)
        sp = self.spooled()
        cwtest.kill9(self.proc)
        self.kills += 1
        if sp:
            self.busy_kills += 1
        with open(self.out, "ab") as f:
            f.write(b"---- SIGKILL\n")
        ck.note("SIGKILL ship %s %s (%d batches spooled)" % (self.member, when, sp))


def main():
    args = cwtest.parse_args()
    seed = int(os.environ.get("CW_DURABILITY_SEED", str(int(time.time()) % 100000)))
    rnd = random.Random(seed)
    with cwtest.TestEnv("test_durability", keep=args.keep) as env:
        ck = env.c
        ck.note("seed %d, %d lines per member, %d members" % (seed, LINES, len(MEMBERS)))
        os.makedirs(env.path("logs"))
        c = env.center(args.binary, extra_args=["--threads", "4"])
        ships = []
        member_id = {}
        for i, m in enumerate(MEMBERS):
            member_id[m] = c.add_member(m)["id"]
            s = c.add_sensor(m, "web-gw")
            ships.append(Ship(env, args.binary, c, i, s["key"]))
        t0 = time.monotonic()
        # rotation at a burst boundary, at a different time for each member
        rotate_at = [(LINES * (3 + i) // 10) // BURST * BURST for i in range(len(MEMBERS))]
        rotate_t = [WRITE_SECONDS * r / LINES for r in rotate_at]
        writers = [Writer(m, ships[i].logfile, rotate_at[i], t0) for i, m in enumerate(MEMBERS)]
        for w in writers:
            w.start()
        time.sleep(0.3)
        for s in ships:
            s.start()

        def at(t):
            """Sleep until t seconds after the start (+ jitter), watching the writers."""
            t += rnd.uniform(0, 0.8)
            while time.monotonic() - t0 < t:
                time.sleep(0.05)
            for w in writers:
                if w.error:
                    raise AssertionError("writer %s failed: %s" % (w.member, w.error))

        def center_stats_note(what):
            try:
                st = c.stats()
                ck.note("%s: center holds %d records in %d batches (%d duplicates)" %
                        (what, st["records"], st["batches"], st["duplicates"]))
                return st
            except (OSError, AssertionError) as e:
                ck.note("%s: stats unavailable: %s" % (what, e))
                return None

        def kill_center(what):
            st = center_stats_note("before center SIGKILL (%s)" % what)
            deadline = time.monotonic() + 3
            while sum(s.spooled() for s in ships) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            ck.note("ships hold %s spooled batches" % [s.spooled() for s in ships])
            ck.check(c.alive(), "center alive before SIGKILL (%s)" % what)
            c.kill9()
            ck.note("SIGKILL center (%s)" % what)
            return st

        # ---- crashes under load
        print("[crashes under load]")
        at(6)
        st1 = kill_center("1st")
        c.restart()
        for i in range(3):
            at(8 + 1.5 * i)
            ships[i].kill9(ck, "(1st)")
            ships[i].start()
        # ship 0 and 1 are down while their file is rotated (restart finds the old file)
        at(rotate_t[0] - 1.0)
        ships[0].kill9(ck, "(2nd, across the rotation)", busy=False)
        at(rotate_t[0] + 1.0)
        ck.note("m0's log rotated while its ship was down: %s" % writers[0].rotated)
        ships[0].start()
        at(rotate_t[1] - 1.0)
        ships[1].kill9(ck, "(2nd, across the rotation)", busy=False)
        at(rotate_t[1] + 1.0)
        ck.note("m1's log rotated while its ship was down: %s" % writers[1].rotated)
        ships[1].start()
        at(22)
        st2 = kill_center("2nd")
        ck.check(st1 is not None and st2 is not None and st2["records"] > st1["records"],
                 "records kept arriving between the two center kills")
        c.restart()
        at(24)
        ships[2].kill9(ck, "(2nd)")
        ships[2].start()

        # ---- an outage of the center under load
        print("[center outage of %.0f s]" % OUTAGE_SECONDS)
        at(27)
        kill_center("outage")
        out_start = time.monotonic()
        spool_before = [s.spooled() for s in ships]
        at(27 + OUTAGE_SECONDS / 3)
        ships[1].kill9(ck, "(3rd, during the outage)")
        ships[1].start()
        while time.monotonic() - out_start < OUTAGE_SECONDS:
            time.sleep(0.1)
        spool_during = [s.spooled() for s in ships]
        ck.note("spooled batches at outage start %s, at its end %s" % (spool_before,
                                                                      spool_during))
        ck.check(all(b > 0 for b in spool_during), "every ship's spool grew during the outage",
                 str(spool_during))
        c.restart()
        ck.note("center back after %.1f s" % (time.monotonic() - out_start))
        at(27 + OUTAGE_SECONDS + 4)
        ships[2].kill9(ck, "(3rd)")
        ships[2].start()
        at(27 + OUTAGE_SECONDS + 6)
        ships[0].kill9(ck, "(3rd)")
        ships[0].start()

        # ---- writers finish; drain
        print("[drain]")
        for w in writers:
            w.join(timeout=120)
            ck.require(not w.is_alive() and w.error is None,
                       "writer %s finished without error" % w.member, str(w.error))
            ck.eq((w.written, w.rotated), (LINES, True), "writer %s lines written, rotated" %
                  w.member)
            ck.check(os.path.exists(ships[MEMBERS.index(w.member)].logfile + ".1"),
                     "rotated file of %s exists" % w.member)
        center_stats_note("writers done")
        time.sleep(1.0 + rnd.uniform(0, 1))
        for s in ships:
            s.kill9(ck, "(last, before the drain)", busy=False)
        drains = []
        for s in ships:
            with open(s.out, "ab") as f:
                f.write(b"---- drain with --once\n")
            drains.append(cwtest.spawn(s.argv(once=True), s.out, env=cwtest.env_for_children()))
        for s, p in zip(ships, drains):
            try:
                rc = p.wait(timeout=240)
            except subprocess.TimeoutExpired:
                rc = "timeout"
                cwtest.kill9(p)
            ck.eq(rc, 0, "ship %s --once drained and exited" % s.member)
            if rc != 0:
                print(cwtest.tail(s.out, 30))
        for s in ships:
            ck.eq(s.spooled(), 0, "ship %s spool empty" % s.member)
            rej = os.path.join(s.state, "spool", "rejected")
            ck.eq(sorted(os.listdir(rej)) if os.path.isdir(rej) else [], [],
                  "ship %s set no batch aside as rejected" % s.member)
            ck.check(s.kills >= 3, "ship %s was SIGKILLed %d times, %d of them with batches "
                     "in flight" % (s.member, s.kills, s.busy_kills))
            ck.check(s.busy_kills >= 2, "ship %s: at least 2 kills hit it mid-batch" % s.member)

        # ---- verify
        print("[verify]")
        st = c.stats()
        recs = c.export_records(page_batches=40)
        ck.note("center: %d records, %d batches, %d duplicate batches recognised, %d starts" %
                (st["records"], st["batches"], st["duplicates"], c.starts))
        ck.eq(st["records"], len(recs), "stats records == exported records")
        ck.eq(st["rejected"], 0, "no line rejected")
        ck.eq(len(recs), LINES * len(MEMBERS), "exported records == lines written")
        seen = {m: {} for m in MEMBERS}
        wrong_member = unparsed = 0
        id_member = {v: k for k, v in member_id.items()}
        for r in recs:
            mt = ITEM_RE.search(r.get("raw", ""))
            if not mt:
                unparsed += 1
                continue
            m, seq = mt.group(1), int(mt.group(2))
            if id_member.get(r.get("member")) != m:
                wrong_member += 1
            seen[m][seq] = seen[m].get(seq, 0) + 1
        ck.eq(unparsed, 0, "every stored raw line carries /item/<member>/<seq>")
        ck.eq(wrong_member, 0, "every record stored under the member of its ship's key")
        for m in MEMBERS:
            want = set(range(LINES))
            got = set(seen[m])
            dups = sorted(s for s, n in seen[m].items() if n > 1)
            lost = sorted(want - got)
            extra = sorted(got - want)
            ck.check(not lost, "member %s: nothing lost (%d of %d stored)" %
                     (m, len(got & want), LINES),
                     "lost %d, first %s" % (len(lost), lost[:10]))
            ck.check(not dups, "member %s: no duplicates" % m,
                     "%d duplicated, first %s" % (len(dups), dups[:10]))
            ck.check(not extra, "member %s: no unknown sequence numbers" % m, str(extra[:10]))
        per_member = {x["name"]: x["records"] for x in c.members()}
        ck.eq(per_member, {m: LINES for m in MEMBERS}, "member list record counts")
        ck.eq(c.stop(), 0, "center stops cleanly (exit 0)")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports in the center's and ships' logs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
