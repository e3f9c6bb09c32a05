#!/usr/bin/env python
"""Make the ``awx.awx`` collection available to ansible-lint and the tests, without Galaxy.

Galaxy is not reachable from CI, but the ``ansible`` community package on the Python package index
bundles ``awx.awx``. Installing that package into the venv would shadow the pinned ansible-core's
view of collections, so this downloads its wheel only (``pip download --no-deps``, cached under
``tests/output/awx/``) and extracts nothing but ``ansible_collections/awx/awx`` into the collections
root that ``tests/tools/collections_root.py`` builds (``tests/output/.collections``), next to the
symlink of this collection: one ``ANSIBLE_COLLECTIONS_PATH`` then serves both.

The ``ansible`` release is fixed (``ANSIBLE_SPEC``), whatever ansible-core is installed: the
packages that match the newer cores no longer bundle ``awx.awx`` (``ansible`` 14, for ansible-core
2.21, has none), and ``awx.awx`` itself does not follow ansible-core releases. The extracted
collection must satisfy the range that ``collections/requirements.yml`` declares for the playbooks
(what AWX installs on project sync), or this fails. ``--ansible-spec`` picks another release.
Run as a script it prints the collections root. Idempotent: an extracted collection of the same
release is kept; concurrent runs (parallel test lanes) take turns.
"""

from __future__ import annotations

import argparse
import fcntl
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
# The community package line that bundles awx.awx 24.6 and installs on every Python the matrix uses
# (3.11 and later): tests/matrix/versions.txt.
ANSIBLE_SPEC = "ansible>=12,<13"
REQUIREMENTS = os.path.join(CHECKOUT, "collections", "requirements.yml")


def default_ansible_spec():
    """The ``ansible`` release awx.awx is taken from (the same for every ansible-core)."""
    return ANSIBLE_SPEC


def declared_awx_range(requirements=REQUIREMENTS):
    """The version range ``collections/requirements.yml`` gives for awx.awx."""
    import yaml

    with open(requirements, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    for entry in data.get("collections") or []:
        if isinstance(entry, dict) and entry.get("name") == "awx.awx":
            return str(entry.get("version", "*"))
    raise RuntimeError("%s does not declare awx.awx" % requirements)


def check_declared_range(version, requirements=REQUIREMENTS):
    """Fail unless ``version`` of awx.awx lies in the declared range (ansible-galaxy's syntax)."""
    from packaging.specifiers import SpecifierSet

    declared = declared_awx_range(requirements)
    if declared != "*" and version not in SpecifierSet(declared.replace(" ", "")):
        raise RuntimeError("awx.awx %s from the %s wheel is outside %s declared in %s"
                           % (version, ANSIBLE_SPEC, declared, requirements))


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
    staging = "%s.partial-%d" % (target.rstrip("/"), os.getpid())
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
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        collection = extract_awx(download_wheel(spec or default_ansible_spec()), root)
    check_declared_range(awx_version(collection))
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
