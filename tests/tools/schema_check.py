#!/usr/bin/env python3
"""Validates JSON documents against one of vpcctl's schemas (JSON Schema draft 2020-12).

    schema_check.py SCHEMA FILE...   ("-" reads one document from stdin)

Exits 1 naming the first document and field that does not validate.
"""
import json
import sys

import jsonschema


def make_validator(schema):
    """A draft 2020-12 validator that also asserts the formats (ipv4, ipv6) the schemas use."""
    cls = jsonschema.Draft202012Validator
    checker = getattr(cls, "FORMAT_CHECKER", None) or jsonschema.draft202012_format_checker
    return cls(schema, format_checker=checker)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = make_validator(schema)
    for path in sys.argv[2:]:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        errors = sorted(validator.iter_errors(json.loads(text)), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.path) or "(document)"
            print(f"schema_check: {path}: {where}: {e.message}", file=sys.stderr)
            sys.exit(1)
    print(f"schema_check: {len(sys.argv) - 2} document(s) valid against {sys.argv[1]}")


if __name__ == "__main__":
    main()
