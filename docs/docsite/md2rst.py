#!/usr/bin/env python
"""Turn the guides ``docs/*.md`` into the docsite's RST pages (``docs/docsite/rst/<name>.rst``).

antsibull-docs takes extra documentation only as RST; the guides are written (and read on GitHub)
as Markdown. Each page gets the label antsibull-docs requires
(``ansible_collections.sfops.integration_users.docsite.<name>``). ``--check`` changes nothing and
fails when a page is missing or differs from a fresh conversion.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys

import pypandoc

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
LABEL = "ansible_collections.sfops.integration_users.docsite.%s"
HEADER = ".. Generated from docs/%s.md by docs/docsite/md2rst.py: edit the Markdown, not this file.\n\n"


def convert(markdown_path):
    name = os.path.splitext(os.path.basename(markdown_path))[0]
    body = pypandoc.convert_file(markdown_path, "rst", format="gfm-gfm_auto_identifiers", extra_args=["--wrap=preserve"])
    return name, HEADER % name + ".. _%s:\n\n" % (LABEL % name) + plain_invalid_json(body)


def plain_invalid_json(rst):
    """A ``json`` code block that is not one JSON document (an excerpt, ``...``) becomes ``text``:
    antsibull-docs' lint parses every block in its declared language."""
    def fix(match):
        content = "\n".join(line[3:] if line.startswith("   ") else line for line in match.group(2).split("\n"))
        try:
            json.loads(content)
            return match.group(0)
        except ValueError:
            return match.group(1).replace(":: json", ":: text") + match.group(2)
    return re.sub(r"(\.\. code:: json\n\n)((?:(?:   .*)?\n)+)", fix, rst)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="fail when a page is stale, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for markdown_path in sorted(glob.glob(os.path.join(CHECKOUT, "docs", "*.md"))):
        name, text = convert(markdown_path)
        target = os.path.join(HERE, "rst", name + ".rst")
        current = open(target, encoding="utf-8").read() if os.path.exists(target) else None
        if current == text:
            continue
        if args.check:
            stale.append(os.path.relpath(target, CHECKOUT))
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
        print("md2rst: wrote %s" % os.path.relpath(target, CHECKOUT))
    if stale:
        sys.exit("md2rst: stale or missing (run `make docs`): %s" % ", ".join(stale))
    # Every guide must be on the docsite: listed in extra-docs.yml.
    import yaml

    with open(os.path.join(HERE, "extra-docs.yml"), encoding="utf-8") as handle:
        sections = yaml.safe_load(handle).get("sections") or []
    listed = {entry["ref"] if isinstance(entry, dict) else entry
              for section in sections for entry in section.get("toctree") or []}
    guides = {os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(CHECKOUT, "docs", "*.md"))}
    if guides - listed:
        sys.exit("md2rst: docs/docsite/extra-docs.yml does not list %s" % ", ".join(sorted(guides - listed)))


if __name__ == "__main__":
    main()
