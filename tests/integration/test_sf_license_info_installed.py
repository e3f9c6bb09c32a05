# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built artifact: `ansible-galaxy collection build` -> install -> its modules run and document themselves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile

from conftest import CHECKOUT
from test_connection import FLOWS, play

BIN = os.path.dirname(sys.executable)


def snapshot(destination):
    """A copy of the work tree (tracked and untracked, not ignored files): the build reads a tree
    nobody edits meanwhile, or its checksums could disagree with the files it packed."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=CHECKOUT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for relative in filter(None, listed):
        source = os.path.join(CHECKOUT, relative)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(destination, relative)), exist_ok=True)
            shutil.copy2(source, os.path.join(destination, relative))
    return destination


def test_built_collection_installs_and_runs(emulator, playbook, tmp_path):
    source = snapshot(str(tmp_path / "source"))
    built = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path",
                            str(tmp_path), source], capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    artifact, = tmp_path.glob("sfops-integration_users-*.tar.gz")  # the version is galaxy.yml's
    with tarfile.open(artifact) as archive:
        names = archive.getnames()
    assert "plugins/action/sf_license_info.py" in names and "meta/runtime.yml" in names
    assert not [n for n in names if n.startswith(("tests/emulator", "benchmarks", "tests/output")) or "__pycache__" in n]

    installed = tmp_path / "installed"
    # --force: a copy of the collection elsewhere on the default paths (ansible-lint installs one into
    # ~/.ansible/collections) must not make the install a no-op.
    done = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--force", "-p",
                           str(installed), str(artifact)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed)}
    doc = subprocess.run([os.path.join(BIN, "ansible-doc"), "sfops.integration_users.sf_license_info"],
                         capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ, **env))
    assert doc.returncode == 0, doc.stderr
    assert "SALESFORCE_CLIENT_SECRET" in doc.stdout and "action plugin" in doc.stdout.lower()

    task = {"name": "license info", "sfops.integration_users.sf_license_info": {}, "register": "out"}
    listed = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "sfops.integration_users",
                             "--format", "json"], capture_output=True, text=True, timeout=120, check=False,
                            env=dict(os.environ, **env))
    # The installed copy is the only one Ansible can see (not the checkout).
    assert list(json.loads(listed.stdout)) == [str(installed / "ansible_collections")], listed.stdout
    run = playbook(emulator, play(FLOWS["client_credentials"], [task]), env=env)
    assert run.rc == 0, run.output[-3000:]
    assert run.result("license info", "acme-prod")["integration"]["available"] is True
