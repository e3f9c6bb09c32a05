#!/usr/bin/env python
"""Open the built docsite in headless Chromium: every module and role has a page with its options.

Usage: check_site.py BUILD_HTML_DIR

The expected modules, roles and options come from ``ansible-doc --json`` (documentation fragments
merged), not from the HTML, so a page that renders without its options, a missing page or a page
marked malformed fails. Each page is loaded by Chromium (``--dump-dom``: the DOM after scripts ran)
and its text is searched for each option name and for the parameters heading.
"""

from __future__ import annotations

import glob
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

COLLECTION = "sfops.integration_users"
CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_site: no chromium on PATH (tests/tools/install_chromium.sh installs Debian's)")


def ansible_doc(kind, names):
    output = subprocess.run(["ansible-doc", "--json", "-t", kind] + ["%s.%s" % (COLLECTION, n) for n in names],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def dom_text(browser, page, profile):
    """The page's DOM after Chromium loaded it, as plain text."""
    result = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
                             "--virtual-time-budget=5000", "--dump-dom", "file://" + page],
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise RuntimeError("chromium could not load %s: %s" % (page, result.stderr[-500:]))
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", result.stdout, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = os.path.join(os.path.abspath(argv[0]), "collections", *COLLECTION.split("."))
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(CHECKOUT, "plugins", "modules", "*.py"))
                     if not os.path.basename(p).startswith("_"))
    roles = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CHECKOUT, "roles", "*")) if os.path.isdir(p))
    expected = []  # (page, title, [option names])
    for fqcn, doc in sorted(ansible_doc("module", modules).items()):
        options = sorted((doc["doc"].get("options") or {}).keys())
        expected.append((os.path.join(root, fqcn.split(".")[-1] + "_module.html"), fqcn, options))
    for fqcn, doc in sorted(ansible_doc("role", roles).items()):
        options = sorted({o for entry in (doc.get("entry_points") or {}).values() for o in (entry.get("options") or {})})
        expected.append((os.path.join(root, fqcn.split(".")[-1] + "_role.html"), fqcn, options))

    browser = chromium()
    failures = []
    with tempfile.TemporaryDirectory() as profile:
        for page, fqcn, options in expected:
            if not os.path.exists(page):
                failures.append("%s: no page %s" % (fqcn, page))
                continue
            text = dom_text(browser, page, profile)
            if fqcn not in text:
                failures.append("%s: page does not name it" % fqcn)
            if "malformed" in text.lower():
                failures.append("%s: page says its documentation is malformed" % fqcn)
            if not re.search(r"\bParameters\b", text):
                failures.append("%s: page has no Parameters section" % fqcn)
            missing = [o for o in options if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), text)]
            if not options:
                failures.append("%s: ansible-doc lists no option" % fqcn)
            if missing:
                failures.append("%s: options missing from the page: %s" % (fqcn, ", ".join(missing)))
            print("check_site: %s: %d options on %s" % (fqcn, len(options) - len(missing),
                                                        os.path.relpath(page, argv[0])))
    if failures:
        sys.exit("check_site: FAILED\n  " + "\n  ".join(failures))
    print("check_site: %d pages passed in Chromium (%d modules, %d roles)" % (len(expected), len(modules), len(roles)))


if __name__ == "__main__":
    main()
