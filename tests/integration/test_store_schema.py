#!/usr/bin/env python3
"""test_store_schema.py - the center database's schema version seen from the binary.

`crosswatch admin db status` reads a stopped center's data directory (no token);
`crosswatch serve` stamps a database made before schema versions (user_version 0 with
every column) and keeps its rows; it refuses, with a non-zero exit status and the
reason, a database from a newer crosswatch and a pre-versioning one lacking a column.
The unit test test_store_migrate covers migrations, backups and failing steps.
"""
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402


def status(binary, data_dir):
    r = cwtest.run([binary, "admin", "--data-dir", data_dir, "db", "status"])
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def field(out, name):
    for line in out.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def serve_refuses(ck, binary, data_dir, want, what):
    argv = [binary, "serve", "--listen", "127.0.0.1:%d" % cwtest.free_port(),
            "--data-dir", data_dir]
    try:
        r = cwtest.run(argv, timeout=60)
    except subprocess.TimeoutExpired:
        ck.check(False, "serve refuses %s" % what, "(it kept running)")
        return
    err = r.stderr.decode() + r.stdout.decode()
    ck.check(r.returncode != 0, "serve exits non-zero on %s" % what, "(rc %d)" % r.returncode)
    ck.check(want in err, "serve says why: %s" % want, "(got %r)" % err[-600:])


def sql(path, *stmts):
    db = sqlite3.connect(path)
    try:
        out = [db.execute(s).fetchall() for s in stmts]
        db.commit()
        return out
    finally:
        db.close()


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_store_schema", keep=args.keep) as env:
        ck = env.c
        b = args.binary
        rc, out, err = status(b, env.path("nothing-here"))
        ck.check(rc == 1 and "no database" in err, "db status without a database fails",
                 "(rc %d, %r)" % (rc, err))

        c = env.center(b)
        c.add_member("alpha")
        c.add_member("beta")
        ck.eq(c.stop(), 0, "center stops cleanly")
        db = os.path.join(c.data_dir, "crosswatch.db")

        rc, out, err = status(b, c.data_dir)
        print(out)
        ck.eq(rc, 0, "db status exit status")
        newest = int(field(out, "newest known") or -1)
        ck.check(newest >= 1, "db status prints the newest known version", out)
        ck.eq(field(out, "schema version"), str(newest), "a new database is at the newest")
        ck.eq(sql(db, "PRAGMA user_version")[0][0][0], newest, "user_version on disk")
        ck.eq(field(out, "last backup"), "none", "no backup of a new database")
        ck.check("pending migrations:\n  none" in out, "nothing pending", out)

        # made before versions existed: stamped at the next start, rows kept
        sql(db, "PRAGMA user_version=0")
        rc, out, err = status(b, c.data_dir)
        ck.check(rc == 0 and (field(out, "schema version") or "").startswith("0 (made before"),
                 "db status names a pre-versioning database", out)
        if newest > 1:
            ck.check("pending migrations:\n  2: " in out, "db status lists the pending migrations",
                     out)
        if newest > 1:  # the migrations after 1 are undone by hand: a version 1 database
            sql(db, "ALTER TABLE indicators DROP COLUMN stix_gen", "DROP TABLE ioc_retired")
        c.start()
        names = sorted(m["name"] for m in c.members())
        ck.eq(names, ["alpha", "beta"], "members survive the stamping")
        ck.eq(c.stop(), 0, "center stops cleanly")
        with open(c.log) as f:
            log = f.read()
        ck.check("stamped version 1" in log, "the log says the database was stamped")
        ck.eq(sql(db, "PRAGMA user_version")[0][0][0], newest, "stamped 1, then migrated")
        if newest > 1:
            rc, out, err = status(b, c.data_dir)
            bk = field(out, "last backup") or ""
            ck.check(bk.startswith(os.path.join(c.data_dir, "backup", "store-v1-")) and
                     bk.endswith(".db"), "db status names the backup taken before migrating",
                     out)
            ck.check(("backup of the version 1 database before migrating: " + bk) in log,
                     "the log says where the backup is")
            if os.path.exists(bk):
                ck.eq(sql(bk, "PRAGMA user_version")[0][0][0], 1, "the backup is version 1")
                ck.eq(sorted(x[0] for x in sql(bk, "SELECT name FROM members")[0]),
                      ["alpha", "beta"], "the backup holds the rows")

        # from a newer crosswatch: refused by serve and by db status, untouched
        sql(db, "PRAGMA user_version=%d" % (newest + 5))
        msg = ("database schema version %d is newer than this crosswatch (knows up to %d); "
               "upgrade crosswatch" % (newest + 5, newest))
        serve_refuses(ck, b, c.data_dir, msg, "a newer database")
        rc, out, err = status(b, c.data_dir)
        ck.check(rc == 1 and msg in err, "db status exits 1 naming the newer version",
                 "(rc %d, %r)" % (rc, err))
        ck.eq(sql(db, "PRAGMA user_version")[0][0][0], newest + 5, "the newer version is kept")
        ck.eq(sql(db, "SELECT count(*) FROM members")[0][0][0], 2, "its rows are kept")

        # pre-versioning and a column missing: refused, never guessed
        sql(db, "PRAGMA user_version=0", "ALTER TABLE sensors DROP COLUMN duplicates")
        serve_refuses(ck, b, c.data_dir, "sensors.duplicates", "a missing column")
        ck.eq(sql(db, "PRAGMA user_version")[0][0][0], 0, "not stamped")
        ck.eq(sql(db, "SELECT count(*) FROM members")[0][0][0], 2, "rows kept")
        ck.eq(env.sanitizer_reports(), [], "no sanitizer reports")


if __name__ == "__main__":
    main()
