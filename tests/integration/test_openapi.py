#!/usr/bin/env python3
"""test_openapi.py - docs/openapi.json describes exactly the routes the center serves.

Runs `crosswatch serve --routes` (METHOD PATH ACCESS per line) and checks that the set of
(method, path, access) equals the operations of docs/openapi.json, where the access is the
operation's `x-crosswatch-access`: an undocumented route, a stale operation or a changed
access class fails. Also checks that the file is well-formed OpenAPI 3.0.x JSON: bearer
security scheme, every non-public operation secured by it and answering 401 and 403 (a
role check applies to every non-public access class), public ones unsecured (login may
still answer 401 for a wrong password), every {id}
in a path declared as a path parameter, every $ref resolvable, operationIds unique.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(os.environ.get("CW_SOURCE_DIR", os.path.join(HERE, "..", "..")),
                   "docs", "openapi.json")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ACCESS = ("public", "sensor", "coordinator_admin", "coordinator", "member_admin", "user")
ACCESS += ("feed",)  # sensor keys and coordinators (the RPZ feed, docs/indicators.md)

# any organization user: members, sector bodies, ministries (docs/incidents.md)
ACCESS += ("organization",)


def routes(binary):
    r = cwtest.run([binary, "serve", "--routes"], timeout=60)
    if r.returncode != 0:
        raise AssertionError("serve --routes exited %d: %s" % (r.returncode, r.stderr[-500:]))
    out = []
    for ln in r.stdout.decode().splitlines():
        if ln.strip():
            parts = ln.split()
            if len(parts) != 3:
                raise AssertionError("unexpected --routes line %r" % ln)
            out.append((parts[0].upper(), parts[1], parts[2]))
    return out


def resolve(doc, ref):
    if not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def main():
    args = cwtest.parse_args()
    with cwtest.TestEnv("test_openapi", keep=args.keep) as env:
        ck = env.c
        print("[serve --routes]")
        served = routes(args.binary)
        ck.check(len(served) > 0, "serve --routes prints routes", "(none)")
        ck.eq(len(served), len(set(served)), "no route printed twice")
        ck.check(all(a in ACCESS for _, _, a in served), "every access class is known",
                 repr(sorted({a for _, _, a in served} - set(ACCESS))))
        # (besides /taxii2/, where the TAXII 2.1 specification puts server discovery)
        ck.check(all(p.startswith("/api/v1/") or p == "/taxii2/" for _, p, _ in served),
                 "every route under /api/v1/")

        print("[docs/openapi.json well-formed]")
        with open(DOC, "rb") as f:
            raw = f.read()
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            ck.require(False, "docs/openapi.json is UTF-8 JSON", str(e))
        ck.require(isinstance(doc, dict), "the document is a JSON object")
        ck.check(isinstance(doc.get("openapi"), str) and
                 re.fullmatch(r"3\.0\.\d+", doc["openapi"]) is not None,
                 "openapi is 3.0.x", repr(doc.get("openapi")))
        info = doc.get("info", {})
        ck.check(isinstance(info.get("title"), str) and isinstance(info.get("version"), str),
                 "info.title and info.version are strings")
        ck.require(isinstance(doc.get("paths"), dict) and doc["paths"], "paths is an object")
        schemes = doc.get("components", {}).get("securitySchemes", {})
        bearer = [n for n, s in schemes.items()
                  if s.get("type") == "http" and s.get("scheme", "").lower() == "bearer"]
        ck.require(len(bearer) == 1, "exactly one http bearer security scheme", repr(schemes))
        bearer = bearer[0]
        bad = sorted({r for r in refs(doc) if resolve(doc, r) is None})
        ck.eq(bad, [], "unresolvable $refs")

        documented = []
        opids = []
        problems = []
        for path, item in doc["paths"].items():
            if not path.startswith("/api/v1/") and path != "/taxii2/":
                problems.append("%s: not under /api/v1/" % path)
            templ = re.findall(r"\{([^}]+)\}", path)
            for method, o in item.items():
                if method not in METHODS:
                    if method != "parameters":
                        problems.append("%s: unknown key %r" % (path, method))
                    continue
                what = "%s %s" % (method.upper(), path)
                access = o.get("x-crosswatch-access")
                documented.append((method.upper(), path, access))
                opids.append(o.get("operationId"))
                resp = o.get("responses", {})
                if not resp or not any(c.startswith("2") for c in resp):
                    problems.append("%s: no 2xx response" % what)
                for c, rv in resp.items():
                    if not re.fullmatch(r"[1-5]\d\d", c):
                        problems.append("%s: response code %r" % (what, c))
                    if "$ref" not in rv and not isinstance(rv.get("description"), str):
                        problems.append("%s: response %s has no description" % (what, c))
                sec = o.get("security", doc.get("security"))
                if access == "public":
                    if sec not in ([], None) or "403" in resp:
                        problems.append("%s: public but secured or answering 403" % what)
                else:
                    if sec != [{bearer: []}]:
                        problems.append("%s: security is %r, want bearer" % (what, sec))
                    if "401" not in resp:
                        problems.append("%s: access %s but no 401" % (what, access))
                    if "403" not in resp:
                        problems.append("%s: access %s (role check) but no 403" % (what, access))
                params = [resolve(doc, p["$ref"]) if "$ref" in p else p
                          for p in item.get("parameters", []) + o.get("parameters", [])]
                pp = sorted(p["name"] for p in params if p and p.get("in") == "path")
                if pp != sorted(templ):
                    problems.append("%s: path parameters %r, template has %r" % (what, pp, templ))
                for p in params:
                    if p and p.get("in") == "path" and p.get("required") is not True:
                        problems.append("%s: path parameter %s not required" % (what, p["name"]))
                if method == "get" and "requestBody" in o:
                    problems.append("%s: GET with a request body" % what)
        for p in problems:
            ck.check(False, "openapi structure", p)
        ck.check(not problems, "every operation well-formed (%d operations)" % len(documented))
        ck.eq(len(opids), len(set(opids)), "operationIds are unique")
        ck.check(all(isinstance(i, str) and i for i in opids), "every operation has an operationId")

        print("[routes == documented operations]")
        s_served, s_doc = set(served), set(documented)
        for m, p, a in sorted(s_served - s_doc):
            ck.check(False, "route documented", "%s %s %s is served but not in docs/openapi.json "
                     "(or documented with another access)" % (m, p, a))
        for m, p, a in sorted(s_doc - s_served):
            ck.check(False, "operation served", "%s %s %s is in docs/openapi.json but not served "
                     "(or served with another access)" % (m, p, a))
        ck.check(s_doc == s_served, "documented (method, path, access) set equals the %d served "
                 "routes" % len(s_served))
        ck.eq(len(documented), len(s_doc), "no operation documented twice")
        print("%d routes, %d documented operations" % (len(served), len(documented)))


if __name__ == "__main__":
    main()
