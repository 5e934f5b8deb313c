#!/usr/bin/env python3
"""The JSON schemas hold what vpcctl writes and refuse what its parsers refuse.

    check_schemas.py REPO_DIR

Checks each schema/*.schema.json against draft 2020-12; validates the maps and reports of the
fuzz corpora (tests/fuzz/corpus/{map,apply_report,status_report,import_report,key_report,
vip_take_report}) against their schemas, with formats (ipv4, ipv6) asserted; and checks that
documents the readers refuse are refused by the schemas too (the corpora's seeds that are not
reports; maps with an underlay with no address, malformed overlay networks and addresses). Exits 1 naming every failure.
"""
import copy
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schema_check import make_validator  # noqa: E402

import jsonschema  # noqa: E402

# Seeds of the corpora that are not reports: hostile ones the readers refuse, and bare
# {"error": ...} answers, whose message the controller reports as the node's failure without
# taking them for a report. The schemas refuse them all.
HOSTILE = {"key_report/nested.json", "vip_take_report/bad.json", "import_report/error.json",
           "vip_take_report/error.json"}

CORPUS = {
    "map": "fabric-map",
    "apply_report": "apply-report",
    "status_report": "status-report",
    "import_report": "import-report",
    "key_report": "wg-key-report",
    "vip_take_report": "vip-take-report",
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    top = sys.argv[1]
    validators = {}
    for path in sorted(glob.glob(os.path.join(top, "schema", "*.schema.json"))):
        schema = load(path)
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[os.path.basename(path)[: -len(".schema.json")]] = make_validator(schema)
    fails = []
    valid = 0
    refused = 0
    for corpus, name in CORPUS.items():
        files = sorted(glob.glob(os.path.join(top, "tests", "fuzz", "corpus", corpus, "*.json")))
        if not files:
            fails.append(f"no documents in tests/fuzz/corpus/{corpus}")
        for path in files:
            rel = os.path.relpath(path, os.path.join(top, "tests", "fuzz", "corpus"))
            doc = load(path)
            if rel in HOSTILE:
                if validators[name].is_valid(doc):
                    fails.append(f"{path}: {name} accepts it, but vpcctl's reader refuses it")
                else:
                    refused += 1
                continue
            errors = list(validators[name].iter_errors(doc))
            if errors:
                e = errors[0]
                fails.append(f"{path}: {'/'.join(map(str, e.path)) or '(document)'}: {e.message}")
            else:
                valid += 1
    # Maps the parser refuses (model::ParseMap): the schema must refuse them too.
    base = load(os.path.join(top, "tests", "fuzz", "corpus", "map", "leases.json"))
    bad = {
        "an underlay with no address": lambda m: m["nodes"][0].update(underlay={"ipv4": None, "ipv6": None}),
        "an underlay address that is not one": lambda m: m["nodes"][0]["underlay"].update(ipv4="192.0.2.300"),
        "an IPv6 underlay that is IPv4": lambda m: m["nodes"][0]["underlay"].update(ipv6="192.0.2.1"),
        "a peer network without a prefix": lambda m: m["vpcs"][0].update(peer_network="10.100.0.0"),
        "a peer network with a bad prefix": lambda m: m["vpcs"][0].update(peer_network="10.100.0.0/33"),
        "a peer network that is a name": lambda m: m["vpcs"][0].update(peer_network="lan"),
        "an overlay address with a prefix": lambda m: m["vpcs"][0]["members"][0].update(overlay="10.100.0.1/24"),
        "an overlay address that is not one": lambda m: m["vpcs"][0]["members"][0].update(overlay="10.100.0"),
        "a transport address that is not one": lambda m: m["nodes"][0].update(transport="h1"),
        "a transport network without a prefix": lambda m: m["transport"].update(network="10.255.0.0"),
        "a VIP address that is not one": lambda m: m["vpcs"][0]["vips"][0].update(address="10.100.0.250/24"),
    }
    for what, mutate in bad.items():
        doc = copy.deepcopy(base)
        mutate(doc)
        if validators["fabric-map"].is_valid(doc):
            fails.append(f"fabric-map accepts a map with {what}")
        else:
            refused += 1
    if fails:
        for f in fails:
            print("check_schemas: " + f, file=sys.stderr)
        sys.exit(1)
    print(f"check_schemas: {len(validators)} schemas; {valid} corpus documents valid; "
          f"{refused} malformed documents refused")


if __name__ == "__main__":
    main()
