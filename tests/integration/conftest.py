# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration fixtures: the emulator, an inventory of its orgs, and ``ansible-playbook`` runs.

``emulator`` starts ``python -m sfemu serve`` once per session (the emulator suite's own starter,
loaded by path). ``playbook`` runs a playbook (YAML text or a list of plays) over an inventory with
one host per org, whose host variables carry that org's connection details, and returns a
:class:`PlaybookRun` with the exit code, the console output and every task result (recorded by
``plugins/callback/record_results.py``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
# The operator's run-state key (issue 13): the modules read SFOPS_SIGNING_KEY, and production writes refuse
# without one. Every playbook of the tests inherits this test-only key through the environment.
TEST_SIGNING_KEY = "sfops-tests-signing-key-0123456789abcdef"
os.environ.setdefault("SFOPS_SIGNING_KEY", TEST_SIGNING_KEY)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EMULATOR_FIXTURES = _load("sfemu_fixtures_for_integration",
                          os.path.join(CHECKOUT, "tests", "emulator", "tests", "conftest.py"))
COLLECTIONS_ROOT = _load("collections_root_for_integration",
                         os.path.join(CHECKOUT, "tests", "tools", "collections_root.py"))


class PlaybookRun:
    def __init__(self, completed, results):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.results = results

    @property
    def output(self):
        return self.stdout + self.stderr

    def result(self, task, host=None):
        """The result of the task named ``task`` (on ``host`` when several hosts ran it)."""
        found = [r for r in self.results if r["task"] == task and (host is None or r["host"] == host)]
        assert len(found) == 1, "expected one result of %r on %r, got %d:\n%s" % (task, host, len(found), self.output[-3000:])
        return found[0]["result"]


def inventory_for(emulator, orgs=None):
    """One host per org; host variables: the org's connection details from READY.json."""
    hosts = {}
    for name, org in emulator.ready["orgs"].items():
        if orgs and name not in orgs:
            continue
        admin = org["admin"]
        hosts[name] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "sf_login_url": org["login_url"],
            "sf_instance_url": org["instance_url"],
            "sf_audience": org["audience"],
            "sf_username": admin["username"],
            "sf_client_id": admin["client_id"],
            "sf_client_secret": admin["client_secret"],
            "sf_private_key_file": admin["private_key_file"],
            "sf_password": admin["password"],
            "sf_security_token": admin.get("security_token") or "",
            "sf_access_token": admin["access_token"],
            "sf_ca_path": emulator.ca_file,
        }
    return {"all": {"children": {"salesforce_orgs": {"hosts": hosts}}}}


def secrets_of(emulator):
    """Every secret in READY.json (plus private-key text), to prove none reaches the output."""
    found = set()
    for org in emulator.ready["orgs"].values():
        admin = org["admin"]
        for key in ("client_secret", "password", "security_token", "access_token"):
            if admin.get(key):
                found.add(admin[key])
        if admin.get("private_key_file") and os.path.exists(admin["private_key_file"]):
            with open(admin["private_key_file"], encoding="ascii") as handle:
                body = [line for line in handle.read().splitlines() if line and not line.startswith("-----")]
            found.update(body[:3])
    return found


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    running = EMULATOR_FIXTURES.start_emulator(str(tmp_path_factory.mktemp("emulator")))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo estate (tests/emulator/estates/demo.yml) served for one test module."""
    running = EMULATOR_FIXTURES.start_emulator(str(tmp_path_factory.mktemp("demo")),
                                               os.path.join(CHECKOUT, "tests", "emulator", "estates", "demo.yml"))
    yield running
    running.stop()


@pytest.fixture
def fresh_emulator(emulator):
    """The session emulator reset to the estate before and after the test (for tests that change
    state, spend limits or add faults). READY.json tokens are re-issued by a reset."""
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture
def playbook(tmp_path):
    """``playbook(emulator, plays, check=False, diff=False, orgs=None, env=None, verbosity=0)``."""
    counter = [0]

    def run(emulator, plays, check=False, diff=False, orgs=None, env=None, verbosity=0, forks=5):
        counter[0] += 1
        work = tmp_path / ("run-%d" % counter[0])
        work.mkdir()
        playbook_file = work / "playbook.yml"
        playbook_file.write_text(plays if isinstance(plays, str) else yaml.safe_dump(plays, sort_keys=False))
        inventory_file = work / "inventory.yml"
        inventory_file.write_text(yaml.safe_dump(inventory_for(emulator, orgs)))
        results_file = work / "results.jsonl"
        environment = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
        environment.update({
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_ROOT.ensure_collections_root(),
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "plugins", "callback"),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_FORKS": str(forks),
            "SFOPS_RESULTS_FILE": str(results_file),
        })
        environment.update(env or {})
        command = [ANSIBLE_PLAYBOOK, "-i", str(inventory_file), str(playbook_file)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        completed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600, check=False,
                                   cwd=str(work))
        results = []
        if results_file.exists():
            results = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]
        return PlaybookRun(completed, results)

    return run
