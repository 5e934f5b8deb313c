#!/usr/bin/env python3
"""Holds the man page to the command tree: every command and every option of it is documented.

    check_man.py TREE.json MANPAGE      (TREE.json: `vpcctl completion json`)

Every command without subcommands needs an item `.It Cm WORDS...` in the page, WORDS being its
path after `vpcctl`; each of its options must appear as `Fl NAME` between that item and the
next `.It Cm` item. The options of `vpcctl` itself (global: accepted after any subcommand) must
appear in the page. -h/--help, which every command has, is documented once. Exits 1 listing
every command and option that is missing.
"""
import json
import re
import sys


def fl(option):
    """How mdoc spells an option: --state-dir is `Fl -state-dir`, -h is `Fl h`."""
    return "Fl " + option[1:]


def mentions(text, option):
    return re.search(r"(^|\s)" + re.escape(fl(option)) + r"($|[\s,.;:)])", text, re.M) is not None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        tree = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        lines = f.read().split("\n")
    items = [i for i, line in enumerate(lines) if line.startswith(".It Cm ")]
    missing = []
    checked = 0
    for cmd in tree:
        words = cmd["path"].split()[1:]
        options = [o for o in cmd["options"] if o not in ("-h", "--help")]
        if not words:
            page = "\n".join(lines)
            for o in options + ["-h", "--help"]:
                checked += 1
                if not mentions(page, o):
                    missing.append(f"global option {o}")
            continue
        if cmd["subcommands"]:
            continue
        checked += 1
        start = None
        for i in items:
            if lines[i].split()[2:2 + len(words)] == words and (
                    len(lines[i].split()) == 2 + len(words) or
                    not re.match(r"^[a-z][a-z.-]*$", lines[i].split()[2 + len(words)])):
                start = i
                break
        if start is None:
            missing.append(f"command `{cmd['path']}` (no `.It Cm {' '.join(words)}` item)")
            continue
        end = next((i for i in items if i > start), len(lines))
        block = "\n".join(lines[start:end])
        for o in options:
            checked += 1
            if not mentions(block, o):
                missing.append(f"option {o} of `{cmd['path']}`")
    if missing:
        print(f"check_man: {sys.argv[2]} does not document:", file=sys.stderr)
        for m in missing:
            print("  " + m, file=sys.stderr)
        sys.exit(1)
    print(f"check_man: {checked} commands and options documented in {sys.argv[2]}")


if __name__ == "__main__":
    main()
