# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pieces of the reliability suite: an emulator, the role's inventory, playbook runs that can be
killed, and org states compared across runs.

The emulator process and the inventory come from ``tests/tools/demo.py`` (the same start the demo and
the molecule scenarios use); nothing here imports the plugins.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
ESTATES = os.path.join(CHECKOUT, "tests", "emulator", "estates")
EMULATOR_ROOT = os.path.join(CHECKOUT, "tests", "emulator")
PLAYBOOKS = os.path.join(CHECKOUT, "playbooks")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DEMO = _load("sfops_demo_for_reliability", os.path.join(CHECKOUT, "tests", "tools", "demo.py"))

# Fields of the admin API's state dump that legitimately differ between two correct runs:
# LastLoginDate moves with every login (a renewed session is a new login), and the API counters grow
# with retries and renewals. Everything else (profile, license, active flag, permission sets, PSLs,
# seat counts, the org's permission sets) must be identical.
VOLATILE_USER_FIELDS = ("LastLoginDate",)
VOLATILE_ORG_FIELDS = ("api",)


class Emulator(DEMO.Emulator):
    """The demo's emulator process, plus the admin API calls the suite needs."""

    def __init__(self, estate, directory, timeout=180):
        super().__init__(estate, directory, timeout=timeout)
        self.estate = estate
        import requests
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = self.ready["ca_file"]

    def admin(self, method, path, **kwargs):
        answer = self.http.request(method, self.ready["admin_url"] + path.lstrip("/"), timeout=120, **kwargs)
        if answer.status_code >= 300:
            raise RuntimeError("admin API %s %s answered %s: %s" % (method, path, answer.status_code, answer.text))
        return answer.json()

    def reset(self):
        self.admin("DELETE", "faults")
        self.ready["orgs"] = self.admin("POST", "reset")["orgs"]

    def states(self):
        return dict((name, self.admin("GET", "orgs/%s/state" % name)) for name in self.ready["orgs"])

    def writes(self, orgs=None):
        """org -> data-changing calls answered since the last reset. The modules read through
        POST /composite (queries only), so that resource is not counted; every DML path is."""
        counts = {}
        for name in orgs or self.ready["orgs"]:
            calls = self.admin("GET", "orgs/%s/calls" % name)["calls"]
            counts[name] = sum(n for key, n in calls.items()
                               if key.split(" ")[0] in ("POST", "PATCH", "PUT", "DELETE")
                               and key.split(" ")[1].rstrip("/") not in ("/composite", "/tooling/composite"))
        return counts

    def api_used(self):
        return dict((org["name"], org["api_used"]) for org in self.admin("GET", "orgs"))


def normalized(states):
    """The state dumps without the fields that differ between correct runs (VOLATILE_*), users sorted."""
    result = {}
    for name, state in states.items():
        state = dict((k, v) for k, v in state.items() if k not in VOLATILE_ORG_FIELDS)
        state["users"] = sorted((dict((k, v) for k, v in user.items() if k not in VOLATILE_USER_FIELDS)
                                 for user in state["users"]), key=lambda user: user["Username"])
        result[name] = state
    return result


def differences(expected, actual, limit=20):
    """Readable lines for every user or org field that differs between two normalized state sets."""
    lines = []
    for org in sorted(set(expected) | set(actual)):
        left, right = expected.get(org), actual.get(org)
        if left is None or right is None:
            lines.append("%s: only in %s" % (org, "the second" if left is None else "the first"))
            continue
        users_left = dict((u["Username"], u) for u in left["users"])
        users_right = dict((u["Username"], u) for u in right["users"])
        for username in sorted(set(users_left) | set(users_right)):
            if users_left.get(username) != users_right.get(username):
                lines.append("%s %s: %s != %s" % (org, username, users_left.get(username), users_right.get(username)))
        for key in sorted(set(left) | set(right)):
            if key != "users" and left.get(key) != right.get(key):
                lines.append("%s %s: %s != %s" % (org, key, left.get(key), right.get(key)))
    return lines[:limit]


def user_view(state):
    """username -> what a migration changes, from one org's state dump."""
    return dict((u["Username"], (u["Profile"], u["UserLicense"], u["IsActive"], tuple(u["PermissionSets"]),
                                 tuple(u["PermissionSetLicenses"]))) for u in state["users"])


class Workspace:
    """A runs directory and an inventory of the emulator's orgs (connected by JWT, no secret in it)."""

    def __init__(self, emulator, directory, name="work", connection_extra=None):
        self.emulator = emulator
        # Connection options every org's connection (and the probes') gets, e.g. {"retries": 5}.
        self.connection_extra = connection_extra or {}
        self.directory = os.path.join(directory, name)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self.runs_dir = os.path.join(self.directory, "runs")
        self.inventory_file = os.path.join(self.directory, "inventory.yml")
        self.count = 0
        self.write_inventory()

    def write_inventory(self):
        """(Again after a reset: the inventory holds no token, but the CA and key files are the same.)"""
        inventory = DEMO.inventory_from_ready(self.emulator.ready, self.emulator.estate, self.runs_dir)
        for host in inventory["all"]["children"]["salesforce_orgs"]["hosts"].values():
            for key in ("salesforce_connection", "license_migration_probe_connection"):
                host[key].update(self.connection_extra)
        DEMO.write_private(self.inventory_file, yaml.safe_dump(inventory, sort_keys=False))

    def command(self, playbook, extra_vars=None, verbosity=0):
        self.count += 1
        command = [ANSIBLE_PLAYBOOK, "-i", self.inventory_file, os.path.join(PLAYBOOKS, playbook)]
        if extra_vars:
            extra_file = os.path.join(self.directory, "extra-%d.json" % self.count)
            DEMO.write_private(extra_file, json.dumps(extra_vars))
            command += ["-e", "@" + extra_file]
        if verbosity:
            command.append("-" + "v" * verbosity)
        return command

    def start(self, playbook, extra_vars=None, verbosity=0, env=None, forks=6):
        """Start ansible-playbook in its own process group (so a kill takes its workers too)."""
        log = os.path.join(self.directory, "run-%d-%s.log" % (self.count + 1, os.path.splitext(playbook)[0]))
        command = self.command(playbook, extra_vars, verbosity)
        handle = open(log, "w", encoding="utf-8")
        process = subprocess.Popen(command, env=playbook_env(forks, env), cwd=self.directory, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        return Run(process, log)

    def run(self, playbook, extra_vars=None, verbosity=0, env=None, forks=6, timeout=1800):
        return self.start(playbook, extra_vars, verbosity, env, forks).wait(timeout)


def playbook_env(forks=6, extra=None):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
    # Production writes refuse without the operator's run-state key (issue 13): a test-only one.
    env.setdefault("SFOPS_SIGNING_KEY", "sfops-reliability-signing-key-0123456789")
    env.update({"ANSIBLE_COLLECTIONS_PATH": DEMO.ensure_collections_root(), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_FORKS": str(forks),
                "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
                "ANSIBLE_HOST_KEY_CHECKING": "0"})
    env.update(extra or {})
    return env


class Run:
    def __init__(self, process, log):
        self.process = process
        self.log = log
        self.rc = None

    @property
    def output(self):
        with open(self.log, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def wait(self, timeout=1800):
        try:
            self.rc = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return self

    def kill(self, whole_group=True, settle=300):
        """SIGKILL the job. ``whole_group``: ansible-playbook and its forked workers at once, as a lost
        machine would. Otherwise only the ansible-playbook process (``kill -9 <pid>``): a worker that is
        running a task finishes it, orphaned, and exits; this waits up to ``settle`` s for that."""
        try:
            if whole_group:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                os.kill(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.rc = self.process.wait()
        if not whole_group:
            wait_for(lambda: not _group_alive(self.process.pid), settle)
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def generate_estate(path, orgs, users, seed):
    """A generated estate (``python -m sfemu generate``): each production org with a sandbox."""
    env = dict(os.environ, PYTHONPATH=EMULATOR_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-m", "sfemu", "generate", "--orgs", str(orgs), "--users", str(users),
                    "--seed", str(seed), "--out", path], env=env, check=True, capture_output=True, timeout=300)
    return path


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
