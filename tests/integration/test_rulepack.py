#!/usr/bin/env python3
"""test_rulepack.py - the Sigma rule pack shipped under rules/sigma (issue #6 item 6).

Runs the real binary (`crosswatch rules check` / `crosswatch rules test`) and checks:
  1. every rule file under rules/sigma is supported (no skips, none dormant), ids are
     unique, and every rule has true- and false-positive samples under tests/rules/
     (<rule-file-stem>.tp.log / .fp.log, at least 2 log lines each);
  2. attack class and severity of every rule (derived by the engine from title, tags
     and level: docs/sigma.md) are the ones the pack intends;
  3. every .tp.log line fires its file's rule, plus exactly the rules named in a
     "# also: a, b" comment line right before it, and nothing else; every .fp.log
     line fires no rule of the pack;
  4. real logs (../shared/data/weblogs):
     - elastic-apache_logs.log (10,000 lines of real, mostly benign traffic to
       semicomplete.com, May 2015): exactly 8 lines fire, all web_scanner_legacy_editor_probes,
       all HEAD probes for FCKeditor from one address, e.g.
         91.236.75.25 "HEAD /blog/geekery/ec2-reserved-vs-ondemand.html/fckeditor/editor/fckeditor.html" 404
         91.236.75.25 "HEAD /blog/geekery/ec2-reserved-vs-ondemand.html/include/fckeditor/editor/filemanager/connectors/test.html" 404
       The log's other probes (/wp-admin/, /wp-login.php?action=register, /administrator/)
       are normal paths on WordPress/Joomla sites and are deliberately not flagged by path
       alone; referrer spam such as "...c's assert() feature..." (line 3029) must not fire.
     - ocatak acunetix.txt (an Acunetix scan of DVWA/Joomla): exact counts per rule and
       in total; of the lines whose URL (percent-decoded up to 3 times) contains an
       injection metacharacter (' " < > ( ) ; | ` $ { } \\ NUL or "../"), most fire.
       Most of the file is POSTs whose payload is in the body, invisible in an access log.

Python 3 standard library only. Arguments: --binary <crosswatch> --shared <../shared>.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
RULES = os.path.join(SOURCE, "rules", "sigma")
FIELDMAP = os.path.join(SOURCE, "rules", "fieldmap.conf")
SAMPLES = os.path.join(SOURCE, "tests", "rules")

# rule file stem -> (attack class, severity 1 critical .. 5 info)
EXPECTED_CLASS = {
    "web_array_ag_client_sec_cve_2023_28461": ("edge_exploit", 1),
    "web_citrix_adc_vpns_cve_2019_19781": ("edge_exploit", 1),
    "web_code_injection_eval": ("command_exec", 2),
    "web_f5_bigip_tmui_cve_2020_5902": ("edge_exploit", 1),
    "web_fortios_admin_api_bypass_cve_2022_40684": ("edge_exploit", 1),
    "web_fortios_sslvpn_file_read_cve_2018_13379": ("edge_exploit", 1),
    "web_fortios_sslvpn_overflow_attempt": ("edge_exploit", 2),
    "web_ivanti_ics_auth_bypass_cve_2023_46805": ("edge_exploit", 1),
    "web_ivanti_ics_keys_status_cve_2024_21887": ("edge_exploit", 1),
    "web_lfi_sensitive_files": ("path_traversal", 2),
    "web_log4shell_jndi_lookup": ("template_jndi", 1),
    "web_ognl_expression_injection": ("template_jndi", 1),
    "web_os_command_injection": ("command_exec", 2),
    "web_path_traversal_sequences": ("path_traversal", 3),
    "web_proself_exploitation": ("edge_exploit", 2),
    "web_pulse_secure_file_read_cve_2019_11510": ("edge_exploit", 1),
    "web_scanner_legacy_editor_probes": ("scanning", 4),
    "web_scanner_payload_markers": ("scanning", 4),
    "web_scanner_secret_file_probes": ("scanning", 4),
    "web_scanner_user_agents": ("scanning", 4),
    "web_spring4shell_classloader": ("command_exec", 1),
    "web_sqli_schema_enumeration": ("sql_injection", 2),
    "web_sqli_tautology": ("sql_injection", 2),
    "web_sqli_time_based": ("sql_injection", 2),
    "web_sqli_union_select": ("sql_injection", 2),
    "web_ssrf_cloud_metadata": ("ssrf", 2),
    "web_ssrf_url_schemes": ("ssrf", 2),
    "web_ssti_expression_probe": ("template_jndi", 2),
    "web_webshell_command_parameter": ("webshell", 2),
    "web_webshell_known_names": ("webshell", 2),
    "web_webshell_upload_dir_post": ("webshell", 2),
    "web_xss_event_handler": ("xss", 3),
    "web_xss_script_injection": ("xss", 3),
}

# elastic-apache_logs.log: firing lines per rule (every other rule: 0)
ELASTIC_EXPECTED = {"web_scanner_legacy_editor_probes": 8}
ELASTIC_LINES = 8

# acunetix.txt: firing lines per rule (every other rule: 0)
ACUNETIX_EXPECTED = {
    "web_lfi_sensitive_files": 166,
    "web_scanner_payload_markers": 152,
    "web_path_traversal_sequences": 107,
    "web_sqli_tautology": 82,
    "web_sqli_time_based": 68,
    "web_code_injection_eval": 64,
    "web_xss_script_injection": 43,
    "web_xss_event_handler": 33,
    "web_ssti_expression_probe": 17,
    "web_os_command_injection": 15,
    "web_scanner_secret_file_probes": 6,
    "web_scanner_legacy_editor_probes": 1,
}
ACUNETIX_RECORDS = 6539
ACUNETIX_LINES = 565          # lines with at least one detection
ACUNETIX_ATTACK_LINES = 588   # URL carries an injection metacharacter (see attack_looking)
ACUNETIX_ATTACK_FIRED = 414   # ... of which fire (70.4 %)

checks = 0
failures = []


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def run(binary, args, stdin=None):
    p = subprocess.run([binary] + args, input=stdin, capture_output=True, cwd=SOURCE,
                       timeout=600)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def rule_ids():
    """rule id -> file stem, for every rule file of the pack."""
    ids = {}
    for path in sorted(glob.glob(os.path.join(RULES, "**", "*.yml"), recursive=True)):
        text = open(path, encoding="utf-8").read()
        m = re.search(r"^id: *(\S+) *$", text, re.M)
        stem = os.path.basename(path)[:-4]
        check(m is not None, "%s has an id" % path)
        if m:
            check(m.group(1) not in ids, "%s: id %s is unique" % (path, m.group(1)))
            ids[m.group(1)] = stem
    return ids


def detect(binary, ids, data):
    """Run the pack over combined-format text; returns (hits: record -> {stem}, rows, stderr)."""
    rc, out, err = run(binary, ["rules", "test", "--rules", RULES, "--fieldmap", FIELDMAP,
                                "--format", "combined", "--json", "-"], stdin=data)
    check(rc == 0, "rules test exit code 0 (got %d: %s)" % (rc, err.strip()[:300]))
    hits, rows = {}, []
    for line in out.splitlines():
        h = json.loads(line)
        rows.append(h)
        hits.setdefault(h["record"], set()).add(ids.get(h["rule_id"], h["rule_id"]))
    return hits, rows, err


def test_check(binary, ids):
    rc, out, err = run(binary, ["rules", "check", "--json", "--fieldmap", FIELDMAP, RULES])
    check(rc == 0, "rules check exit 0 (got %d: %s)" % (rc, err.strip()[:300]))
    reps = [json.loads(l) for l in out.splitlines() if l.strip()]
    nfiles = len(glob.glob(os.path.join(RULES, "**", "*.y*ml"), recursive=True))
    check(len(reps) == nfiles == len(ids), "one report per rule file (%d reports, %d files, %d ids)"
          % (len(reps), nfiles, len(ids)))
    for r in reps:
        check(r.get("supported") is True, "supported: %s (%s)" % (r["file"], r.get("reason")))
        check("dormant" not in r, "not dormant: %s (%s)" % (r["file"], r.get("dormant")))
    check(sorted(ids.values()) == sorted(EXPECTED_CLASS), "EXPECTED_CLASS names every rule: %s"
          % sorted(set(ids.values()) ^ set(EXPECTED_CLASS)))
    print("rules check: %d rules, all supported" % len(reps))


def parse_samples(path):
    """[(log line, {also stems})] of a sample file."""
    out, also = [], set()
    for line in open(path, encoding="utf-8").read().splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            m = re.match(r"#\s*also:\s*(.*)$", line)
            if m:
                also = {s.strip() for s in m.group(1).split(",") if s.strip()}
            continue
        out.append((line, also))
        also = set()
    return out


def test_samples(binary, ids):
    stems = set(ids.values())
    files = sorted(glob.glob(os.path.join(SAMPLES, "*.log")))
    for f in files:
        m = re.match(r"(.+)\.(tp|fp)\.log$", os.path.basename(f))
        check(m is not None and m.group(1) in stems, "%s belongs to a rule of the pack" % f)
    ntp = nfp = 0
    seen_class = {}
    for stem in sorted(stems):
        for kind in ("tp", "fp"):
            path = os.path.join(SAMPLES, "%s.%s.log" % (stem, kind))
            if not os.path.exists(path):
                check(False, "%s exists" % path)
                continue
            samples = parse_samples(path)
            check(len(samples) >= 2, "%s has at least 2 log lines" % path)
            data = "".join(l + "\n" for l, _ in samples).encode()
            hits, rows, err = detect(binary, ids, data)
            check("rejected" not in err, "%s: every line parses (%s)" % (path, err.strip()[:200]))
            for h in rows:
                seen_class.setdefault(ids.get(h["rule_id"]), (h["attack_class"], h["severity"]))
            for i, (line, also) in enumerate(samples, 1):
                got = hits.get(i, set())
                if kind == "tp":
                    ntp += 1
                    want = {stem} | also
                    check(got == want, "%s line %d fires %s, expected %s: %s"
                          % (os.path.basename(path), i, sorted(got), sorted(want), line[:160]))
                else:
                    nfp += 1
                    check(not got, "%s line %d fires nothing, got %s: %s"
                          % (os.path.basename(path), i, sorted(got), line[:160]))
    for stem, want in EXPECTED_CLASS.items():
        check(seen_class.get(stem) == want, "%s: class/severity %s, expected %s"
              % (stem, seen_class.get(stem), want))
    print("samples: %d rules, %d true-positive and %d false-positive lines" % (len(stems), ntp, nfp))


def per_rule(hits):
    c = {}
    for stems in hits.values():
        for s in stems:
            c[s] = c.get(s, 0) + 1
    return c


def attack_looking(raw_line):
    """Does the request URL carry an injection metacharacter (after up to 3 decodings)?"""
    m = re.match(r'^"?\S+ \S+ \S+ \[[^\]]+\] "(\S+) (.*?) HTTP/1\.[01]"', raw_line)
    if not m:
        m = re.match(r'^"?\S+ \S+ \S+ \[[^\]]+\] "(\S+) (.*)', raw_line)
    url = m.group(2) if m else ""
    for _ in range(3):
        url = urllib.parse.unquote(url)
    return re.search(r"""['"<>();|`${}\\\x00]|\.\./""", url) is not None


def test_real_logs(binary, ids, shared):
    weblogs = os.path.join(shared, "data", "weblogs")
    elastic = os.path.join(weblogs, "elastic-apache_logs.log")
    acunetix = os.path.join(weblogs, "ocatak-apache-http-logs", "acunetix.txt")
    if not os.path.exists(elastic) or not os.path.exists(acunetix):
        print("SKIP real logs: %s not found" % weblogs)
        return

    data = open(elastic, "rb").read()
    lines = data.decode("latin-1").split("\n")
    hits, _, err = detect(binary, ids, data)
    check("rejected" not in err, "elastic: no line rejected (record n = line n)")
    got = per_rule(hits)
    print("elastic-apache_logs.log: %d lines fire %s" % (len(hits), got))
    check(got == ELASTIC_EXPECTED, "elastic per-rule counts %s, expected %s" % (got, ELASTIC_EXPECTED))
    check(len(hits) == ELASTIC_LINES, "elastic: %d firing lines, expected %d" % (len(hits), ELASTIC_LINES))
    for rec in sorted(hits):
        line = lines[rec - 1]
        check("fckeditor" in line.lower() and line.startswith("91.236.75.25 "),
              "elastic line %d is an FCKeditor probe: %s" % (rec, line[:160]))
    check(3029 not in hits, "elastic line 3029 (spam quoting \"assert()\") does not fire")

    data = open(acunetix, "rb").read()
    lines = data.decode("latin-1").split("\n")
    hits, _, err = detect(binary, ids, data)
    check("rejected" not in err, "acunetix: no line rejected")
    got = per_rule(hits)
    att = {i for i, l in enumerate(lines, 1) if l.strip() and attack_looking(l)}
    fired_att = att & set(hits)
    print("acunetix.txt: %d records, %d lines fire; %d attack-looking lines, %d of them fire (%.1f%%)"
          % (len(lines), len(hits), len(att), len(fired_att), 100.0 * len(fired_att) / max(1, len(att))))
    print("acunetix.txt per rule: %s" % got)
    check(len(lines) == ACUNETIX_RECORDS, "acunetix: %d lines" % len(lines))
    check(got == ACUNETIX_EXPECTED, "acunetix per-rule counts %s, expected %s" % (got, ACUNETIX_EXPECTED))
    check(len(hits) == ACUNETIX_LINES, "acunetix: %d firing lines, expected %d" % (len(hits), ACUNETIX_LINES))
    check(len(att) == ACUNETIX_ATTACK_LINES and len(fired_att) == ACUNETIX_ATTACK_FIRED,
          "acunetix: %d/%d attack-looking lines fire, expected %d/%d"
          % (len(fired_att), len(att), ACUNETIX_ATTACK_FIRED, ACUNETIX_ATTACK_LINES))
    check(2 * len(fired_att) > len(att), "acunetix: most attack-looking lines fire")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--shared", default=os.path.join(SOURCE, "..", "shared"))
    args = ap.parse_args()
    ids = rule_ids()
    test_check(args.binary, ids)
    test_samples(args.binary, ids)
    test_real_logs(args.binary, ids, args.shared)
    print("test_rulepack: %d checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
