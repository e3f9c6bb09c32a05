# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ships for AWX besides the jobs themselves (those are in test_awx_runner.py): the credential
type agrees with the modules' connection options, ``playbooks/awx_configure.yml`` passes ansible-lint
(production) with the ``awx.awx`` modules' arguments checked, and the execution environment's build
context is created and names the collection's requirements.

``awx.awx`` comes from the ``ansible`` wheel (``tests/tools/awx_collection.py``, which pip-downloads it
once into ``tests/output/awx/``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from conftest import CHECKOUT, _load
from test_awx_runner import inject, load_credential_type

BIN = os.path.dirname(sys.executable)
AWX_COLLECTION = _load("awx_collection_for_tests", os.path.join(CHECKOUT, "tests", "tools", "awx_collection.py"))
CONFIGURE_PLAYBOOK = os.path.join(CHECKOUT, "playbooks", "awx_configure.yml")
# The inputs issue 7 asks of the credential type.
EXPECTED_INPUTS = {"auth", "login_url", "instance_url", "client_id", "client_secret", "private_key", "username",
                   "audience", "api_version"}


def connection_options():
    """name -> no_log, from the one table the modules' argument spec is generated from."""
    sys.path.insert(0, AWX_COLLECTION.ensure_collections_root())
    try:
        from ansible_collections.sfops.integration_users.plugins.module_utils.connection import CONNECTION_OPTIONS
    finally:
        sys.path.pop(0)
    return dict((row[0], row[2]) for row in CONNECTION_OPTIONS)


def test_credential_type_fields_and_injectors_match_the_connection_options():
    credential_type = load_credential_type()
    options = connection_options()
    fields = dict((f["id"], f) for f in credential_type["inputs"]["fields"])
    assert set(fields) == EXPECTED_INPUTS
    assert set(credential_type["inputs"]["required"]) <= set(fields)
    # Every input is a connection option, secret exactly where the modules treat it as no_log.
    for name, field in fields.items():
        assert name in options, name
        assert bool(field.get("secret")) == options[name], name
    assert set(fields["auth"]["choices"]) <= {"jwt", "client_credentials", "access_token", "password"}
    # Every env injector is a SALESFORCE_* variable some module option falls back to.
    for variable in credential_type["injectors"]["env"]:
        assert variable.startswith("SALESFORCE_") and variable[len("SALESFORCE_"):].lower() in options, variable
    assert "SALESFORCE_PRIVATE_KEY" not in credential_type["injectors"]["env"]


def test_private_key_reaches_a_file_and_no_variable(tmp_path):
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    env = inject(load_credential_type(), {"auth": "jwt", "client_id": "X", "private_key": key, "username": "u"},
                 str(tmp_path))
    assert not any("MIIEvQ" in value for value in env.values())
    with open(env["SALESFORCE_PRIVATE_KEY_FILE"], encoding="ascii") as handle:
        assert handle.read() == key
    assert env["SALESFORCE_API_VERSION"] == "62.0"
    # Without a key no path is injected, so client credentials never meet an empty key file.
    env = inject(load_credential_type(), {"auth": "client_credentials", "client_id": "X", "client_secret": "S"},
                 str(tmp_path))
    assert env["SALESFORCE_PRIVATE_KEY_FILE"] == ""


def test_configure_playbook_creates_the_shipped_credential_type():
    with open(CONFIGURE_PLAYBOOK, encoding="utf-8") as handle:
        play = yaml.safe_load(handle)[0]
    task = next(t["awx.awx.credential_type"] for t in play["tasks"] if "awx.awx.credential_type" in t)
    # kind is spelt out in the playbook (see the comment there); it must be the file's.
    assert task["kind"] == load_credential_type()["kind"]
    assert "extensions/awx/credential_type.yml" in play["vars"]["sfops_awx_credential_type"]
    workflow = next(t["awx.awx.workflow_job_template"] for t in play["tasks"] if "awx.awx.workflow_job_template" in t)
    chain = [node["identifier"] for node in workflow["workflow_nodes"]]
    assert chain == ["inventory", "sandbox migration", "verification", "approval", "production rollout"]
    for node, following in zip(workflow["workflow_nodes"], chain[1:]):
        assert node["related"]["success_nodes"] == [{"identifier": following}]
    approval = workflow["workflow_nodes"][3]["unified_job_template"]
    assert approval["type"] == "workflow_approval" and approval["timeout"] > 0


def lint(project_dir, *paths):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=AWX_COLLECTION.ensure_awx_collection(),
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""), NO_COLOR="1")
    # --strict: the args rule is tagged experimental, which ansible-lint reports as a warning only.
    return subprocess.run([os.path.join(BIN, "ansible-lint"), "--strict", "--nocolor", *paths], cwd=project_dir,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_configure_playbook_passes_production_lint_with_argument_checks(tmp_path):
    done = lint(CHECKOUT, "playbooks/awx_configure.yml", "playbooks/vars/awx_configure.yml",
                "extensions/awx/credential_type.yml", "execution-environment.yml")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in done.stdout + done.stderr

    # The same playbook with wrong awx.awx arguments must fail: proof that the arguments are checked.
    copy = tmp_path / "project"
    for relative in (".ansible-lint", "playbooks/awx_configure.yml", "playbooks/vars/awx_configure.yml",
                     "extensions/awx/credential_type.yml"):
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(CHECKOUT, relative), copy / relative)
    playbook = (copy / "playbooks" / "awx_configure.yml").read_text()
    broken = playbook.replace("        job_type: run\n", "        job_type: launch\n", 1).replace(
        "        scm_update_on_launch: true\n", "        scm_update_on_launch: true\n        scm_refresh: true\n", 1)
    assert broken != playbook
    (copy / "playbooks" / "awx_configure.yml").write_text(broken)
    done = lint(str(copy), "playbooks/awx_configure.yml")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-4000:]
    assert "value of job_type must be one of: run, check, got: launch" in output
    assert "Unsupported parameters" in output and "scm_refresh" in output


@pytest.mark.slow
def test_execution_environment_context_and_introspection(tmp_path):
    build = tmp_path / "build"
    done = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                           str(build), CHECKOUT], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    (tarball,) = build.glob("sfops-integration_users-*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "extensions/awx/credential_type.yml" in names and "meta/execution-environment.yml" in names
    # The file names the tarball without its version (see execution-environment.yml).
    shutil.copy(tarball, build / "sfops-integration_users.tar.gz")
    shutil.copy(os.path.join(CHECKOUT, "execution-environment.yml"), tmp_path)
    done = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "--file", "execution-environment.yml",
                           "--context", "context"], cwd=str(tmp_path), capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    context = tmp_path / "context"
    (containerfile,) = [p for p in (context / "Containerfile", context / "Dockerfile") if p.exists()]
    text = containerfile.read_text()
    assert re.search(r'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.19,<2.20 ansible-runner>=2.4,<2.5"', text)
    assert "ansible-galaxy collection install" in text and "introspect" in text
    assert (context / "_build" / "collections" / "sfops-integration_users.tar.gz").exists()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"] == [{"name": "collections/sfops-integration_users.tar.gz", "type": "file"}]

    # introspect --sanitize over a collections root holding only this collection lists its requirements.
    root = tmp_path / "collections"
    (root / "ansible_collections" / "sfops").mkdir(parents=True)
    os.symlink(CHECKOUT, root / "ansible_collections" / "sfops" / "integration_users")
    done = subprocess.run([os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", str(root)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    listed = yaml.safe_load(done.stdout)["python"]
    with open(os.path.join(CHECKOUT, "requirements.txt"), encoding="utf-8") as handle:
        declared = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert listed == ["%s  # from collection sfops.integration_users" % line for line in declared]
