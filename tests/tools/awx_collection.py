#!/usr/bin/env python
"""Make the ``awx.awx`` collection available to ansible-lint and the tests, without Galaxy.

Galaxy is not reachable from CI, but the ``ansible`` community package on the Python package index
bundles ``awx.awx``. Installing that package into the venv would shadow the pinned ansible-core's
view of collections, so this downloads its wheel only (``pip download --no-deps``, cached under
``tests/output/awx/``) and extracts nothing but ``ansible_collections/awx/awx`` into the collections
root that ``tests/tools/collections_root.py`` builds (``tests/output/.collections``), next to the
symlink of this collection: one ``ANSIBLE_COLLECTIONS_PATH`` then serves both.

The ``ansible`` release is the one bundled with the installed ansible-core (ansible N ships
ansible-core 2.(N+7)), unless ``--ansible-spec`` says otherwise. Run as a script it prints the
collections root. Idempotent: an extracted collection of the same release is kept.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import zipfile

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from collections_root import ensure_collections_root  # noqa: E402  (sibling tool, path set above)

PREFIX = "ansible_collections/awx/awx/"
CACHE = os.path.join(CHECKOUT, "tests", "output", "awx")
# Written next to the extracted collection: which wheel it came from (to notice a changed pin).
ORIGIN_FILE = ".extracted-from"


def default_ansible_spec():
    """``ansible`` releases that bundle collections tested with the installed ansible-core."""
    from ansible.release import __version__ as core_version

    minor = int(core_version.split(".")[1])
    major = minor - 7
    return "ansible>=%d,<%d" % (major, major + 1)


def cached_wheel(spec, cache=CACHE):
    """The newest wheel in ``cache`` that satisfies ``spec`` (so a rerun needs no network)."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    wanted = Requirement(spec)
    found = []
    for wheel in glob.glob(os.path.join(cache, "ansible-[0-9]*-py3-none-any.whl")):
        version = os.path.basename(wheel).split("-")[1]
        if wanted.specifier.contains(version):
            found.append((Version(version), wheel))
    return max(found)[1] if found else None


def download_wheel(spec, cache=CACHE):
    """The cached wheel matching ``spec``, downloaded with pip when missing."""
    wheel = cached_wheel(spec, cache)
    if wheel:
        return wheel
    os.makedirs(cache, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", "--dest", cache, spec]
    subprocess.run(command, check=True)
    wheel = cached_wheel(spec, cache)
    if not wheel:
        raise RuntimeError("pip download %s left no matching ansible wheel in %s" % (spec, cache))
    return wheel


def extract_awx(wheel, collections_root):
    """Extract ``awx.awx`` from the wheel into ``collections_root``; returns the collection path."""
    target = os.path.join(collections_root, PREFIX)
    origin = os.path.join(target, ORIGIN_FILE)
    if os.path.exists(origin):
        with open(origin, encoding="utf-8") as handle:
            if handle.read().strip() == os.path.basename(wheel):
                return target
    # A half-extracted or older copy is replaced whole, never merged.
    staging = target.rstrip("/") + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith(PREFIX) and not m.endswith("/")]
        if not members:
            raise RuntimeError("%s holds no %s" % (wheel, PREFIX))
        for member in members:
            path = os.path.join(staging, member[len(PREFIX):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with archive.open(member) as source, open(path, "wb") as sink:
                shutil.copyfileobj(source, sink)
    with open(os.path.join(staging, ORIGIN_FILE), "w", encoding="utf-8") as handle:
        handle.write(os.path.basename(wheel) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target


def awx_version(collection_path):
    with open(os.path.join(collection_path, "MANIFEST.json"), encoding="utf-8") as handle:
        return json.load(handle)["collection_info"]["version"]


def ensure_awx_collection(spec=None):
    """Collections root holding both this collection (symlink) and ``awx.awx``."""
    root = ensure_collections_root()
    extract_awx(download_wheel(spec or default_ansible_spec()), root)
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--ansible-spec", help="pip requirement of the ansible package (default: %(default)s)",
                        default=default_ansible_spec())
    args = parser.parse_args(argv)
    root = ensure_awx_collection(args.ansible_spec)
    sys.stderr.write("awx.awx %s in %s\n" % (awx_version(os.path.join(root, PREFIX)), root))
    sys.stdout.write(root + "\n")


if __name__ == "__main__":
    main()
