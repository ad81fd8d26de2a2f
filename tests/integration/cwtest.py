"""cwtest.py - helpers for crosswatch integration tests (Python 3 standard library only).

The tests run the real `crosswatch` binary on 127.0.0.1:
  - Center: `crosswatch serve` on a free port with a temporary data directory; reads
    admin.token, talks to the HTTP API (http.client), creates members and sensors,
    exports records (GET /api/v1/records paged with X-Crosswatch-Last-Batch), and can
    be killed with SIGKILL and restarted on the same port and data directory.
  - Procs: a registry of every process a test started; cleanup() kills what is still
    running (SIGKILL) and is called from `finally`, atexit and on SIGTERM/SIGINT, so a
    failing or interrupted test leaves no process behind.
  - Checker: counts and prints what a test checked; check() raises AssertionError.

Usage in a test script:
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_x") as env:
        c = env.center()
        ...
"""
import argparse
import atexit
import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# --------------------------------------------------------------------------- processes

_PROCS = []  # every Popen started through spawn()


def _die_with_parent():
    """In the child before exec: SIGKILL when the test process dies, even by SIGKILL
    (a CTest timeout), so no center or ship outlives its test (Linux prctl)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(argv, log_path=None, **kw):
    """Start a process, registered for cleanup. Output goes to log_path (appended).
    Call from the main thread (the death signal follows the thread that spawned)."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT if log_path else
                             subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                             preexec_fn=_die_with_parent, **kw)
    finally:
        if log_path:
            out.close()
    _PROCS.append(p)
    return p


def kill9(p):
    """SIGKILL one process we started (by its pid) and reap it."""
    if p is None:
        return
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def cleanup_procs():
    for p in list(_PROCS):
        kill9(p)
    _PROCS.clear()


def _on_signal(sig, frame):
    cleanup_procs()
    sys.exit(128 + sig)


atexit.register(cleanup_procs)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def env_for_children():
    e = dict(os.environ)
    # ASan: no leak report noise on SIGKILL; abort on real errors so they show up
    e.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    e.pop("CROSSWATCH_TOKEN", None)
    return e


def run(argv, timeout=120, input_bytes=None, env=None):
    """Run a command to completion; returns CompletedProcess with bytes stdout/stderr."""
    return subprocess.run(argv, input=input_bytes, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout,
                          env=env or env_for_children())


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_udp_tcp_port():
    """A loopback port free for both TCP and UDP (DNS servers bind both)."""
    while True:
        p = free_port()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            u.close()


def nsd_binary():
    """Debian's nsd (often in /usr/sbin, not on a user's PATH), or None."""
    return shutil.which("nsd") or ("/usr/sbin/nsd" if os.path.exists("/usr/sbin/nsd") else None)


NSD_CONF = """server:
  ip-address: 127.0.0.1@{port}
  port: {port}
  zonesdir: "{dir}"
  database: ""
  pidfile: "{dir}/nsd.pid"
  username: ""
  chroot: ""
  logfile: "{dir}/nsd.log"
  xfrdfile: "{dir}/xfrd.state"
  zonelistfile: "{dir}/zone.list"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: {zone}
  zonefile: {zonefile}
"""


def nsd_conf(port, dir, zone, zonefile=None):
    """nsd.conf serving one zone on 127.0.0.1:port, files under dir, the zone read from
    zonefile (default ZONE.zone) in dir."""
    return NSD_CONF.format(port=port, dir=dir, zone=zone, zonefile=zonefile or zone + ".zone")


def self_signed_cert(openssl, cert, key, cn, san=None):
    """A P-256 self-signed certificate (2 days) and its key written to cert and key,
    subject CN=cn, subjectAltName san if given. Returns (completed openssl process,
    SHA-256 hex of the certificate's DER or None when openssl failed)."""
    argv = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn]
    if san:
        argv += ["-addext", "subjectAltName=" + san]
    r = run(argv, timeout=60)
    if r.returncode != 0:
        return r, None
    der = run([openssl, "x509", "-in", cert, "-outform", "DER"], timeout=60)
    return r, hashlib.sha256(der.stdout).hexdigest()


def wait_noerror(kdig, port, name, proc, timeout_s=30, extra=()):
    """Ask 127.0.0.1:port for name with kdig until the answer is NOERROR: True, or
    False when proc (the server) exits or timeout_s passes first."""
    deadline = time.monotonic() + timeout_s
    while b"status: NOERROR" not in run(
            [kdig, "@127.0.0.1", "-p", str(port), name, *extra, "+retry=0", "+timeout=1"],
            timeout=10).stdout:
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- checks

class Checker:
    """Prints every check. check() is soft: a failed check is printed and remembered,
    the test goes on (so one run shows every finding) and fails at the end;
    require() stops the test at once (for checks later steps depend on)."""

    def __init__(self, name):
        self.name = name
        self.count = 0
        self.failures = []

    def check(self, cond, what, detail=""):
        self.count += 1
        if cond:
            print("  ok    %s" % what, flush=True)
            return True
        msg = "%s %s" % (what, detail)
        self.failures.append(msg)
        print("  FAIL  %s" % msg, flush=True)
        return False

    def require(self, cond, what, detail=""):
        if not self.check(cond, what, detail):
            raise AssertionError("required check failed: %s %s" % (what, detail))

    def eq(self, got, want, what):
        return self.check(got == want, "%s == %r" % (what, want), "(got %r)" % (got,))

    def note(self, msg):
        print("  ..    %s" % msg, flush=True)


# --------------------------------------------------------------------------- HTTP

class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body        # bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


def http_request(port, method, path, body=None, headers=None, timeout=120):
    """One request on a fresh connection. Returns Resp, or raises OSError when the
    server cannot be reached. A server that answers before reading the whole body
    (413) and closes the connection is tolerated: the answer is still read."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if body is not None and isinstance(body, str):
            body = body.encode("utf-8")
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            if body:
                conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer early (413) and stop reading
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


# --------------------------------------------------------------------------- center

class Center:
    """A `crosswatch serve` process on 127.0.0.1 with its own data directory."""

    def __init__(self, binary, workdir, name="center", extra_args=(), port=None):
        self.binary = binary
        self.data_dir = os.path.join(workdir, name + "-data")
        self.log = os.path.join(workdir, name + ".log")
        self.extra_args = list(extra_args)
        self.port = port or free_port()
        self.proc = None
        self.token = None
        self.starts = 0

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=60):
        os.makedirs(self.data_dir, exist_ok=True)
        argv = [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
                "--data-dir", self.data_dir] + self.extra_args
        with open(self.log, "ab") as f:
            f.write(("---- start %d: %s\n" % (self.starts + 1, " ".join(argv))).encode())
        self.proc = spawn(argv, self.log, env=env_for_children())
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("center exited with %s during start:\n%s" %
                                     (self.proc.returncode, tail(self.log)))
            try:
                r = http_request(self.port, "GET", "/api/v1/health", timeout=5)
                if r.status == 200 and r.json().get("status") == "ok":
                    break
            except (OSError, http.client.HTTPException, ValueError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("center not healthy after %ds:\n%s" %
                                     (timeout, tail(self.log)))
            time.sleep(0.1)
        with open(os.path.join(self.data_dir, "admin.token")) as f:
            self.token = f.read().strip()
        return self

    def kill9(self):
        kill9(self.proc)

    def restart(self):
        return self.start()

    def stop(self, timeout=60):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        p = self.proc
        if p is None or p.poll() is not None:
            return p.returncode if p else None
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill9(p)
            return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- API
    def req(self, method, path, body=None, headers=None, token="admin", timeout=120):
        h = dict(headers or {})
        if token == "admin":
            token = self.token
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return http_request(self.port, method, path, body, h, timeout=timeout)

    def admin_json(self, method, path, body=None, want=(200, 201)):
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        r = self.req(method, path, body, {"Content-Type": "application/json"} if body else None)
        if r.status not in want:
            raise AssertionError("%s %s -> %d %s" % (method, path, r.status, r.text()))
        return r.json()

    def add_member(self, name):
        return self.admin_json("POST", "/api/v1/members", {"name": name})

    def add_sensor(self, member, name):
        return self.admin_json("POST", "/api/v1/sensors", {"member": member, "name": name})

    def members(self):
        return self.admin_json("GET", "/api/v1/members")["members"]

    def sensors(self, member=None):
        q = "" if member is None else "?member=" + str(member)
        return self.admin_json("GET", "/api/v1/sensors" + q)["sensors"]

    def stats(self):
        return self.admin_json("GET", "/api/v1/stats")

    def ingest(self, key, body, fmt="ndjson", headers=None, timeout=120):
        h = dict(headers or {})
        path = "/api/v1/ingest" if fmt is None else "/api/v1/ingest?format=" + fmt
        return self.req("POST", path, body, h, token=key, timeout=timeout)

    def export_records(self, member=None, page_batches=500):
        """All stored records (list of dicts), paging by batch id."""
        out = []
        after = 0
        pages = 0
        while True:
            q = "/api/v1/records?after=%d&batches=%d" % (after, page_batches)
            if member is not None:
                q += "&member=" + str(member)
            r = self.req("GET", q, timeout=300)
            if r.status != 200:
                raise AssertionError("records export -> %d %s" % (r.status, r.text()))
            last = int(r.headers.get("x-crosswatch-last-batch", "0"))
            for line in r.body.split(b"\n"):
                if line.strip():
                    out.append(json.loads(line))
            pages += 1
            if last <= after or not r.body.strip():
                break
            after = last
            if pages > 100000:
                raise AssertionError("records export does not terminate")
        return out


# --------------------------------------------------------------------------- environment

def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--shared", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return ap.parse_args()


class TestEnv:
    """Temporary directory + process cleanup + a Checker; prints PASS/FAIL."""

    def __init__(self, name, keep=False):
        self.name = name
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="cw-%s-" % name)
        self.c = Checker(name)
        self.centers = []
        self.t0 = time.monotonic()

    def center(self, binary, name="center", extra_args=(), start=True):
        c = Center(binary, self.dir, name, extra_args)
        self.centers.append(c)
        if start:
            c.start()
        return c

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def sanitizer_reports(self):
        """Lines of AddressSanitizer/LeakSanitizer/UBSan reports in any *.log of the
        work directory (process output), as "file: line" strings."""
        found = []
        marks = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:")
        for root, _, files in os.walk(self.dir):
            for n in files:
                if not n.endswith(".log"):
                    continue
                try:
                    with open(os.path.join(root, n), "rb") as f:
                        for ln in f:
                            if any(m in ln for m in marks):
                                found.append("%s: %s" % (n, ln.decode("utf-8", "replace")
                                                         .strip()[:200]))
                except OSError:
                    pass
        return found

    def __enter__(self):
        print("%s: work directory %s" % (self.name, self.dir), flush=True)
        return self

    def __exit__(self, et, ev, tb):
        cleanup_procs()
        dt = time.monotonic() - self.t0
        if et is None and self.c.failures:
            et, ev = AssertionError, AssertionError("%d failed checks:\n  %s" % (
                len(self.c.failures), "\n  ".join(self.c.failures)))
        if et is None:
            print("%s: PASS (%d checks, %.1f s)" % (self.name, self.c.count, dt), flush=True)
        else:
            print("%s: FAIL after %d checks (%.1f s): %s" % (self.name, self.c.count, dt, ev),
                  flush=True)
            for c in self.centers:
                print("---- last lines of %s" % c.log)
                print(tail(c.log))
        if not self.keep or et is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("kept %s" % self.dir)
        if et is not None and ev is not None and tb is None:
            raise ev  # soft failures: make the script fail
        return False


def gz(data):
    return gzip.compress(data if isinstance(data, bytes) else data.encode())


def zstd_tool():
    return shutil.which("zstd")


def zstd_compress(data):
    r = subprocess.run([zstd_tool(), "-q", "-c", "-"], input=data, stdout=subprocess.PIPE,
                       check=True)
    return r.stdout
