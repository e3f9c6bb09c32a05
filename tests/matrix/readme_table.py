#!/usr/bin/env python
"""README.md's "Tested with" table and support sentence, generated from tests/matrix/versions.txt.

Run as a script it rewrites the part of README.md between the ``tested-with`` markers; with
``--check`` it only fails when README.md differs (tests/unit/test_collection_meta.py does the same
check on every run of the unit tests, so the support statement cannot drift from CI).
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
VERSIONS = os.path.join(HERE, "versions.txt")
README = os.path.join(CHECKOUT, "README.md")
BEGIN = "<!-- tested-with: begin (generated from tests/matrix/versions.txt by tests/matrix/readme_table.py) -->"
END = "<!-- tested-with: end -->"
SUITE_NAMES = {
    "sanity": "ansible-test sanity",
    "units": "unit tests (pytest and ansible-test units)",
    "integration": "integration (playbooks against the emulator)",
    "molecule": "molecule",
}


def read_matrix(path=VERSIONS):
    """[(core, python, [suite, ...]), ...] in file order."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split("#", 1)[0].split()
            if fields:
                rows.append((fields[0], fields[1], fields[2:]))
    return rows


def render(rows):
    """The generated block, markers included."""
    cores = [core for core, _python, _suites in rows]
    listed = ", ".join(cores[:-1]) + " and " + cores[-1] if len(cores) > 1 else cores[0]
    lines = [
        BEGIN,
        "Supported and tested: ansible-core %s, each on the controller Python shown below. "
        "Every release in this table is tested by CI on every change; no other release is supported." % listed,
        "",
        "| ansible-core | Python (controller) | CI runs |",
        "|---|---|---|",
    ]
    for core, python, suites in rows:
        lines.append("| %s | %s | %s |" % (core, python, ", ".join(SUITE_NAMES[s] for s in suites)))
    lines.append(END)
    return "\n".join(lines)


def current_block(text):
    """The block README.md holds now (markers included), or None."""
    start = text.find(BEGIN)
    end = text.find(END, start)
    if start < 0 or end < 0:
        return None
    return text[start:end + len(END)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="fail when README.md is not up to date")
    args = parser.parse_args(argv)
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    block = current_block(text)
    wanted = render(read_matrix())
    if block is None:
        sys.exit("README.md has no %s ... %s block" % (BEGIN, END))
    if block == wanted:
        return
    if args.check:
        sys.exit("README.md's tested-with block differs from tests/matrix/versions.txt: run %s" % sys.argv[0])
    with open(README, "w", encoding="utf-8") as handle:
        handle.write(text.replace(block, wanted))
    print("README.md: tested-with block rewritten")


if __name__ == "__main__":
    main()
