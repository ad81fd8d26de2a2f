#!/usr/bin/env python3
"""test_ioc_formats.py - `crosswatch ioc convert|validate` on the real STIX bundles and
MISP events of ../shared/data:

  - every bundle in data/stix/bundles and every event in data/misp/events imports,
    with the counts read off the files by hand (comments below);
  - STIX output validates against the official STIX 2.1 JSON schemas in
    data/stix/schemas (Debian's python3-jsonschema, $ref resolved over the local
    folder) - the bundle and each indicator and marking definition on its own;
  - round trips: STIX -> STIX, MISP -> MISP, MISP feed directory -> back, CSV -> CSV
    keep every indicator (type, value, TLP, id, times);
  - RPZ output loads in `crosswatch dns` terms (checked by the unit test) and here at
    least has the rpz-ip and wildcard owners;
  - bad input: rejects with a reason per object, exit status 1 from validate.
"""
import csv
import glob
import io
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwtest  # noqa: E402

warnings.simplefilter("ignore", DeprecationWarning)
import jsonschema  # noqa: E402  (Debian python3-jsonschema)

# accepted indicators per shared file (read off the files):
STIX_BUNDLES = {
    # 12 indicators: 4 ipv4 CIDRs, 3 domains, 3 md5; 2 x509 patterns with AND refused
    "apt1.json": (10, 2),
    "defining-campaigns-threat-actors-intrusion-sets.json": (0, 0),
    "identifying-a-threat-actor-profile.json": (0, 0),
    "indicator-for-malicious-url.json": (1, 0),
    "malware-indicator-for-file-hash.json": (1, 0),
    "sighting-of-an-indicator.json": (1, 0),
    "threat-actor-leveraging-attack-patterns-and-malware.json": (0, 0),
    "using-marking-definitions.json": (1, 0),
}
MISP_EVENTS = {
    # (accepted, duplicates, rejected): to_ids attributes of indicator types
    "attribute.json": (0, 0, 0),          # filename only
    "attribute_del.json": (0, 0, 0),      # deleted
    "def_param.json": (2, 0, 0),          # domain + ns2 hostname (ns1 has to_ids false)
    "event.json": (0, 0, 0),              # no attributes
    "event_obj_attr_tag.json": (1, 0, 0),  # url in an object
    "event_obj_def_param.json": (0, 0, 0),
    "event_obj_tag.json": (0, 0, 0),
    "event_tags.json": (0, 0, 0),
    "existing_event.json": (66, 2, 0),    # 7 + 12 domains, 12 ip-dst, 37 sha1; 2 repeats
    "existing_event_edited.json": (66, 2, 0),
    "galaxy.json": (0, 0, 1),             # a galaxy, not an event
    "malware.json": (0, 0, 0),            # malware-sample (file name) only
    "malware_exist.json": (3, 0, 0),      # md5, sha1, sha256 of a sample
    "misp_custom_obj.json": (0, 0, 0),
    "proposals.json": (0, 0, 0),
    "shadow.json": (0, 0, 0),
    "sighting.json": (0, 0, 1),           # a sighting, not an event
    "simple.json": (0, 0, 1),             # {}
}


def summary(stderr, name):
    """Parse "<file>: N objects: A accepted, D duplicates, R rejected, ..." lines."""
    for ln in stderr.decode().splitlines():
        if ln.startswith(name + ": ") and " objects: " in ln:
            parts = ln.split(": ", 2)[2].split(", ")
            return {p.split(" ")[1]: int(p.split(" ")[0]) for p in parts}
    return None


def schema_validators(shared):
    root = os.path.join(shared, "data", "stix", "schemas")
    store = {}
    for p in glob.glob(os.path.join(root, "*", "*.json")):
        with open(p) as f:
            s = json.load(f)
        store[s["$id"]] = s

    def validator(suffix):
        s = next(v for k, v in store.items() if k.endswith(suffix))
        res = jsonschema.RefResolver(base_uri=s["$id"], referrer=s, store=store)
        return jsonschema.Draft202012Validator(s, resolver=res)
    return (validator("common/bundle.json"), validator("sdos/indicator.json"),
            validator("common/marking-definition.json"), validator("sdos/identity.json"))


def covers(ref, back, skip=()):
    """Every indicator of ref is in back with the same fields; a field ref leaves empty
    may be filled (STIX requires valid_from; MISP events have a date and an info)."""
    if set(ref) != set(back):
        return False
    return all(v == "" or k in skip or back[key][k] == v
               for key, r in ref.items() for k, v in r.items())


def rows(path):
    with open(path, newline="") as f:
        r = list(csv.DictReader(f))
    return {(x["type"], x["value"]): x for x in r}


def main():
    args = cwtest.parse_args()
    b = args.binary
    shared = args.shared
    with cwtest.TestEnv("test_ioc_formats", keep=args.keep) as env:
        c = env.c

        def ioc(*a, rc=0):
            p = cwtest.run([b, "ioc"] + list(a))
            if rc is not None and p.returncode != rc:
                c.check(False, "crosswatch ioc %s exits %d" % (" ".join(a[:2]), rc),
                        "(got %d: %s)" % (p.returncode, p.stderr.decode()[-600:]))
            return p

        # -- every shared bundle and event imports with the expected counts
        for name, (acc, rej) in sorted(STIX_BUNDLES.items()):
            f = os.path.join(shared, "data", "stix", "bundles", name)
            p = ioc("validate", "--from", "stix", f, rc=None)
            s = summary(p.stderr, f)
            c.check(s is not None and s["accepted"] == acc and s["rejected"] == rej,
                    "stix %s: %d accepted, %d rejected" % (name, acc, rej), "(got %r)" % (s,))
            c.eq(p.returncode, 1 if rej else 0, "validate exit status for %s" % name)
        for name, (acc, dup, rej) in sorted(MISP_EVENTS.items()):
            f = os.path.join(shared, "data", "misp", "events", name)
            p = ioc("validate", "--from", "misp", f, rc=None)
            s = summary(p.stderr, f)
            c.check(s is not None and (s["accepted"], s["duplicates"], s["rejected"]) ==
                    (acc, dup, rej), "misp %s: %d accepted, %d duplicates, %d rejected" %
                    (name, acc, dup, rej), "(got %r)" % (s,))
        c.check(b"x509-certificate:issuer is not an indicator type" in
                ioc("validate", os.path.join(shared, "data/stix/bundles/apt1.json"),
                    rc=1).stderr, "apt1 x509 indicators rejected with the path named")

        # -- STIX output: schema-valid, round trip
        inputs = ([os.path.join(shared, "data/stix/bundles", n) for n in STIX_BUNDLES] +
                  [os.path.join(shared, "data/misp/events", n) for n in
                   ("existing_event.json", "malware_exist.json", "def_param.json",
                    "event_obj_attr_tag.json")])
        ref_csv = env.path("ref.csv")
        ioc("convert", "--to", "csv", "-q", "-o", ref_csv, *inputs)  # rejects listed, exit 0
        ref = rows(ref_csv)
        c.eq(len(ref), 10 + 1 + 1 + 1 + 1 + 66 + 3 + 2 + 1, "indicators from all inputs")
        stix1 = env.path("a.stix.json")
        ioc("convert", "--to", "stix", "--producer", "National CERT", "-o", stix1, ref_csv)
        bundle_v, ind_v, mark_v, ident_v = schema_validators(shared)
        with open(stix1) as f:
            doc = json.load(f)
        errs = list(bundle_v.iter_errors(doc))
        c.check(not errs, "STIX bundle validates against the 2.1 schemas",
                "; ".join(e.message[:200] for e in errs[:3]))
        kinds = {}
        bad = []
        for o in doc["objects"]:
            kinds[o["type"]] = kinds.get(o["type"], 0) + 1
            v = {"indicator": ind_v, "marking-definition": mark_v, "identity": ident_v}[o["type"]]
            bad += [e.message[:200] for e in v.iter_errors(o)]
        c.check(not bad, "each object validates against its own schema", "; ".join(bad[:3]))
        c.eq(kinds.get("indicator"), len(ref), "one indicator object per indicator")
        c.eq(kinds.get("identity"), 1, "one identity (the producer)")
        ident = [o for o in doc["objects"] if o["type"] == "identity"][0]
        c.eq(ident["name"], "National CERT", "identity is the producer's")
        c.check(all(o.get("created_by_ref") == ident["id"] for o in doc["objects"]
                    if o["type"] == "indicator"), "every indicator created_by the producer")
        marks = {o["id"] for o in doc["objects"] if o["type"] == "marking-definition"}
        refs = {r for o in doc["objects"] if o["type"] == "indicator"
                for r in o["object_marking_refs"]}
        c.check(refs and refs <= marks, "every referenced TLP marking is in the bundle")
        c.check("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" in marks,
                "the AMBER indicator (using-marking-definitions) is marked TLP 2.0 AMBER")
        # a tampered bundle must fail the same validation (the check can fail)
        doc["objects"][-1]["pattern_type"] = 5
        c.check(list(bundle_v.iter_errors(doc)), "schema validation catches a broken indicator")

        stix2 = env.path("b.stix.json")
        ioc("convert", "--to", "stix", "--producer", "National CERT", "-o", stix2, stix1)
        back = env.path("stix_back.csv")
        ioc("convert", "--to", "csv", "-o", back, stix2)
        c.check(covers(ref, rows(back)), "STIX -> STIX -> CSV keeps every indicator and field")

        # -- MISP event and feed round trips
        misp1 = env.path("a.misp.json")
        ioc("convert", "--to", "misp", "-o", misp1, ref_csv)
        misp2 = env.path("b.misp.json")
        ioc("convert", "--to", "misp", "-o", misp2, misp1)
        back = env.path("misp_back.csv")
        ioc("convert", "--to", "csv", "-o", back, misp2)
        misp_skip = ("confidence", "valid_until")  # MISP attributes have neither
        c.check(covers(ref, rows(back), misp_skip), "MISP -> MISP -> CSV keeps every indicator")
        with open(misp2) as f:
            ev = json.load(f)["Event"]
        c.eq(len(ev["Attribute"]), len(ref), "one MISP attribute per indicator")
        feed = env.path("feed")
        ioc("convert", "--to", "misp-feed", "-o", feed, misp1)
        with open(os.path.join(feed, "manifest.json")) as f:
            man = json.load(f)
        c.eq(len(man), 1, "manifest lists one event")
        uuid = next(iter(man))
        c.check(os.path.exists(os.path.join(feed, uuid + ".json")), "event file <uuid>.json")
        with open(os.path.join(feed, "hashes.csv")) as f:
            hl = f.read().splitlines()
        c.eq(len(hl), len(ref), "hashes.csv has a line per attribute")
        import hashlib
        want = {hashlib.md5(v.encode()).hexdigest() for (_, v) in ref}
        c.check({h.split(",")[0] for h in hl} == want and all(h.endswith("," + uuid) for h in hl),
                "hashes.csv = md5(value),event uuid")
        back = env.path("feed_back.csv")
        ioc("convert", "--to", "csv", "-o", back, feed)
        c.check(covers(ref, rows(back), misp_skip), "MISP feed directory loads back")

        # -- CSV, plain, RPZ
        back = env.path("csv_back.csv")
        ioc("convert", "--to", "csv", "-o", back, ref_csv)
        c.check(rows(back) == ref, "CSV -> CSV keeps every field")
        p = ioc("convert", "--to", "plain", "--type", "domain", ref_csv)
        doms = sorted(p.stdout.decode().split())
        c.eq(doms, sorted(v for (t, v) in ref if t == "domain"), "plain list of domains")
        p = ioc("convert", "--to", "rpz", "--origin", "rpz.cert.example", ref_csv)
        z = p.stdout.decode()
        c.check("$ORIGIN rpz.cert.example." in z and "*.hugesoft.org CNAME ." in z and
                "15.0.0.166.223.rpz-ip CNAME ." in z, "RPZ zone with wildcard and rpz-ip owners")
        c.check(b"have no form in this format" in p.stderr, "RPZ reports hashes/urls left out")
        p = ioc("convert", "--to", "csv", "--max-tlp", "clear", ref_csv)
        c.check(b",AMBER," not in p.stdout and b"10.0.0.0" not in p.stdout,
                "--max-tlp clear leaves the AMBER indicator out")

        # -- bad input: a reason per object, the rest kept
        bad = env.path("bad.csv")
        with open(bad, "w") as f:
            f.write("type,value\ndomain,good.example\ndomain,bad..example\nnosuch,x\n")
        p = ioc("validate", bad, rc=1)
        err = p.stderr.decode()
        c.check("line 3: domain bad..example" in err and "line 4: unknown type nosuch" in err,
                "CSV rejects name their line and reason", err[-300:])
        s = summary(p.stderr, bad)
        c.check(s and s["accepted"] == 1 and s["rejected"] == 2, "good CSV row kept")
        with open(env.path("bad.json"), "w") as f:
            f.write('{"type":"bundle","objects":[{"type":"indicator"')
        p = ioc("validate", "--from", "stix", env.path("bad.json"), rc=1)
        c.check(b"truncated JSON" in p.stderr or b"invalid JSON" in p.stderr,
                "truncated STIX refused with a reason", p.stderr.decode()[-200:])
        p = ioc("convert", rc=2)
        p = ioc("--help", rc=0)
        c.check(b"crosswatch ioc convert" in p.stdout, "--help describes the command")


if __name__ == "__main__":
    main()
