"""Harness of the sf_permission_set / sf_user_info integration tests (no tests of its own).

Serves the ``emu`` fixture (conftest's session emulator, reset around each test) and runs one task of the collection through ``ansible-playbook``, connected
as the org's connected app (client credentials) set once through the action group, exactly as a
user's playbook would. The task's registered result comes back as a dict.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
ORG = "acme-prod"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_emulator_fixtures = _load("sfemu_suite_fixtures", os.path.join(CHECKOUT, "tests", "emulator", "tests", "conftest.py"))
_collections_root = _load("collections_root_tool", os.path.join(CHECKOUT, "tests", "tools", "collections_root.py"))


@pytest.fixture
def emu(emulator):
    """conftest's session emulator, reset to the example estate before and after the test."""
    emulator.reset()
    yield emulator
    emulator.reset()


def calls(emu, org=ORG):
    """The emulator's own per-endpoint call counts for ``org``."""
    return emu.admin("GET", "orgs/%s/calls" % org).json()["calls"]


def delta(before, after):
    """The call counts that changed between two ``calls`` readings."""
    return dict((k, after.get(k, 0) - before.get(k, 0)) for k in set(after) | set(before)
                if after.get(k, 0) != before.get(k, 0))


def connection_defaults(emu, org=ORG):
    details = emu.org(org)
    return {"auth": "client_credentials", "login_url": details["login_url"],
            "client_id": details["admin"]["client_id"], "client_secret": details["admin"]["client_secret"],
            "ca_path": emu.ca_file}


def run_task(emu, tmp_path, module, args, check=False, diff=False, expect_failure=False, org=ORG):
    """Run ``sfops.integration_users.<module>`` with ``args`` in a one-task playbook; its result."""
    result_file = tmp_path / ("result-%s.json" % os.urandom(4).hex())
    play = [{
        "hosts": "localhost", "gather_facts": False, "vars": {"ansible_python_interpreter": sys.executable},
        "module_defaults": {"group/sfops.integration_users.salesforce": connection_defaults(emu, org)},
        "tasks": [
            {"name": "task under test", "sfops.integration_users.%s" % module: args, "register": "out",
             "ignore_errors": True},
            {"name": "keep the result", "check_mode": False, "delegate_to": "localhost",
             "ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": str(result_file)}},
        ],
    }]
    playbook = tmp_path / "play.json"
    playbook.write_text(json.dumps(play))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_collections_root.ensure_collections_root(),
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    for name in list(env):
        if name.startswith("SALESFORCE_"):
            del env[name]
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
               "-c", "local", str(playbook)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    result = json.loads(result_file.read_text())
    assert bool(result.get("failed")) == expect_failure, json.dumps(result, indent=1)[:3000]
    return result
