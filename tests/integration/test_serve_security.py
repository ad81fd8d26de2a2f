#!/usr/bin/env python3
"""serve over TLS, dropping root privileges after binding.

Starts a real `crosswatch serve` with a self-signed certificate (made with the
openssl command) and, when the test runs as root, --user nobody. Checks: HTTPS
answers, plain HTTP on the TLS port does not; the running process has nobody's
uid/gid (real and effective) and no supplementary groups; it can still write
(ingest over HTTPS is stored); the admin token file is 0600.
"""
import argparse, json, os, pwd, shutil, signal, socket, ssl, subprocess, sys, tempfile, time
import urllib.request, urllib.error

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def call(url, ctx, method="GET", body=None, token=None):
    req = urllib.request.Request(url, data=body, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--shared")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cw-tls-")
    os.chmod(tmp, 0o755)
    proc = None
    try:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        data = os.path.join(tmp, "data")
        port = free_port()
        cmd = [a.binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
               "--tls-cert", cert, "--tls-key", key]
        as_root = os.geteuid() == 0
        if as_root:
            cmd += ["--user", "nobody"]
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        ctx = ssl.create_default_context(cafile=cert)
        base = f"https://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if call(base + "/api/v1/health", ctx)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        else:
            raise SystemExit("server did not come up over HTTPS")
        print("HTTPS health: ok (certificate verified)")
        # plain HTTP to the TLS port must not be served
        try:
            st, _ = call(f"http://127.0.0.1:{port}/api/v1/health", None)
            assert st != 200, "plain HTTP answered 200 on the TLS port"
        except (urllib.error.URLError, ConnectionError, OSError, http_error_types()):
            pass
        print("plain HTTP on the TLS port: refused")
        tok_path = os.path.join(data, "admin.token")
        assert (os.stat(tok_path).st_mode & 0o777) == 0o600, "admin.token must be 0600"
        token = open(tok_path).read().strip()
        st, b = call(base + "/api/v1/members", ctx, "POST", b'{"name":"m1"}', token)
        assert st == 201, (st, b)
        st, b = call(base + "/api/v1/sensors", ctx, "POST", b'{"member":"m1","name":"s1"}', token)
        assert st == 201, (st, b)
        skey = json.loads(b)["key"]
        line = b'192.0.2.1 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"\n'
        st, b = call(base + "/api/v1/ingest?format=combined", ctx, "POST", line * 3, skey)
        assert st == 200 and json.loads(b)["accepted"] == 3, (st, b)
        st, b = call(base + "/api/v1/stats", ctx, token=token)
        assert json.loads(b)["records"] == 3, b
        print("ingest over HTTPS stored after the privilege drop: ok")
        if as_root:
            nobody = pwd.getpwnam("nobody")
            status = open(f"/proc/{proc.pid}/status").read()
            uids = [l for l in status.splitlines() if l.startswith("Uid:")][0].split()[1:]
            gids = [l for l in status.splitlines() if l.startswith("Gid:")][0].split()[1:]
            groups = [l for l in status.splitlines() if l.startswith("Groups:")][0].split()[1:]
            assert all(int(u) == nobody.pw_uid for u in uids), uids
            assert all(int(g) == nobody.pw_gid for g in gids), gids
            assert groups == [], groups
            print(f"running as nobody (uid {nobody.pw_uid}, gid {nobody.pw_gid}, no groups): ok")
        else:
            print("not root: privilege drop not exercised")
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_serve_security: ok")

def http_error_types():
    import http.client
    return http.client.HTTPException

if __name__ == "__main__":
    main()
