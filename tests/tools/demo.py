#!/usr/bin/env python
"""The migration demo behind `make demo`: the whole safe path over the demo estate, on the emulator.

Starts the Salesforce org emulator with ``tests/emulator/estates/demo.yml``, writes an inventory from
its READY.json (one host per org, connected by JWT as each org's admin), runs ``playbooks/site.yml``
(inventory and plans, sandbox migration and verification, production rollout), prints the one-line
summary of every org and the path of the HTML report, and stops the emulator, also on failure or
Ctrl-C.

The demo estate holds orgs that are meant to fail (one refuses the license change), so an
ansible-playbook exit status of 2 (some hosts failed) still completes the demo when the report covers
every org; any other failure fails it.

    python tests/tools/demo.py [--work-dir DIR] [--estate FILE] [--dump-state FILE]

The molecule scenarios use the same emulator start and inventory without the playbooks:
``--start-emulator`` leaves the emulator running in the background (READY.json and inventory.yml under
the work directory); ``--stop-emulator`` stops the one that READY.json names.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import yaml

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR_ROOT = os.path.join(CHECKOUT, "tests", "emulator")
DEMO_ESTATE = os.path.join(EMULATOR_ROOT, "estates", "demo.yml")
DEFAULT_WORK_DIR = os.path.join(CHECKOUT, "tests", "output", "demo")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
# ansible-playbook: 0 all hosts ok, 2 some hosts failed (the demo's refusing org); anything else is broken.
PLAYBOOK_COMPLETED = (0, 2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from collections_root import ensure_collections_root  # noqa: E402  pylint: disable=wrong-import-position


class DemoError(Exception):
    pass


class Emulator:
    """``python -m sfemu serve`` in a child process; ``stop()`` is safe to call more than once."""

    def __init__(self, estate, directory, timeout=120, detached=False):
        os.makedirs(directory, exist_ok=True)
        self.ready_file = os.path.join(directory, "READY.json")
        self.log_file = os.path.join(directory, "emulator.log")
        env = dict(os.environ, PYTHONPATH=EMULATOR_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sfemu", "serve", "--estate", estate, "--port", "0",
                 "--ready-file", self.ready_file, "--state-dir", os.path.join(directory, "state"), "--seed", "1"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=detached)
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.ready_file):
            if self.process.poll() is not None:
                raise DemoError("the emulator exited with %s:\n%s" % (self.process.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                self.stop()
                raise DemoError("the emulator did not start within %ss:\n%s" % (timeout, self.log_tail()))
            time.sleep(0.1)
        with open(self.ready_file, encoding="utf-8") as handle:
            self.ready = json.load(handle)

    def log_tail(self, size=3000):
        with open(self.log_file, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-size:]

    def org_states(self):
        """org name -> the admin API's state dump (users, seats, assignments)."""
        import requests  # only needed for --dump-state

        http = requests.Session()
        http.trust_env = False
        http.verify = self.ready["ca_file"]
        states = {}
        for name in self.ready["orgs"]:
            answer = http.get("%sorgs/%s/state" % (self.ready["admin_url"], name), timeout=60)
            answer.raise_for_status()
            states[name] = answer.json()
        return states

    def stop(self, timeout=20):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def inventory_from_ready(ready, estate_path, runs_dir):
    """One host per org under ``salesforce_orgs``; sandboxes name their production org and suffix as the
    estate declares them. Connection by JWT (the org admin's connected app), so the inventory holds a key
    file path and no secret."""
    with open(estate_path, encoding="utf-8") as handle:
        specs = dict((spec["name"], spec) for spec in yaml.safe_load(handle)["orgs"])
    hosts = {}
    for name, org in ready["orgs"].items():
        admin = org["admin"]
        connection = {"auth": "jwt", "login_url": org["login_url"], "audience": org["audience"],
                      "client_id": admin["client_id"], "private_key_file": admin["private_key_file"],
                      "ca_path": ready["ca_file"]}
        host = {"salesforce_connection": dict(connection, username=admin["username"]),
                "license_migration_probe_connection": connection,
                "license_migration_org_type": "sandbox" if org["is_sandbox"] else "production"}
        if org["is_sandbox"]:
            spec = specs.get(name) or {}
            if not spec.get("production") or not spec.get("sandbox_name"):
                raise DemoError("%s: the estate must give a sandbox its production and sandbox_name" % name)
            host.update(license_migration_production_org=spec["production"],
                        license_migration_sandbox_name=spec["sandbox_name"])
        hosts[name] = host
    return {"all": {"vars": {"ansible_connection": "local",
                             "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                             "license_migration_runs_dir": runs_dir},
                    "children": {"salesforce_orgs": {"hosts": hosts}}}}


def write_private(path, text):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def demo_signing_key(workdir):
    path = os.path.join(workdir, "signing.key")
    if not os.path.exists(path):
        import secrets
        write_private(path, secrets.token_hex(32))
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


def run_playbook(playbook, inventory_file, log_file, workdir):
    """Run a playbook, keeping the full output in ``log_file`` and echoing play headers and the recap."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
    # The demo's run-state key (issue 13), one per demo work directory, kept there owner-only: production
    # writes refuse without a key. A real estate keeps its key in Ansible Vault or an AWX credential.
    env.setdefault("SFOPS_SIGNING_KEY", demo_signing_key(workdir))
    env.update({"ANSIBLE_COLLECTIONS_PATH": ensure_collections_root(), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_FORKS": "6",
                "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0"})
    command = [ANSIBLE_PLAYBOOK, "-i", inventory_file, os.path.join(CHECKOUT, "playbooks", playbook)]
    echo = False
    with open(log_file, "w", encoding="utf-8") as log:
        # Its own process group, so an interruption can stop its forked workers with it.
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        try:
            for line in process.stdout:
                log.write(line)
                if line.startswith("PLAY ["):
                    print("  " + line.rstrip(" *\n"), flush=True)
                elif line.startswith("PLAY RECAP"):
                    echo = True
                if echo and line.strip():
                    print("  " + line.rstrip(), flush=True)
            return process.wait()
        finally:
            # Interrupted (SIGTERM, Ctrl-C): the playbook must not go on against a stopped emulator.
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def report_of(runs_dir):
    """(run directory, report.json) of the newest run under ``runs_dir``."""
    runs = sorted(d for d in os.listdir(runs_dir) if os.path.isfile(os.path.join(runs_dir, d, "report.json")))
    if not runs:
        raise DemoError("no run report under %s" % runs_dir)
    run_dir = os.path.join(runs_dir, runs[-1])
    with open(os.path.join(run_dir, "report.json"), encoding="utf-8") as handle:
        return run_dir, json.load(handle)


def print_summary(report, run_dir):
    print("\nSummary of run %s" % report["run_id"])
    for org in report["orgs"]:
        print("  " + org["summary"])
    # Sandbox moves rehearse production ones: the estate's figures are production's.
    production = [o for o in report["orgs"] if o["org_type"] == "production"]
    counted = dict((key, sum(o["counts"][key] for o in production)) for key in ("moved", "waiting", "blocked", "gated"))
    currency = report["prices"].get("currency", "")
    print("  Production orgs: %(moved)d moved, %(waiting)d waiting for seats, %(blocked)d blocked, "
          "%(gated)d refused by the sandbox gate" % counted
          + "; monthly saving %s %s (potential %s %s)" % (report["totals"]["monthly_saving"], currency,
                                                          report["totals"]["potential_monthly_saving"], currency))
    print("\nHTML report: %s" % os.path.join(run_dir, "report.html"))
    print("JSON report: %s" % os.path.join(run_dir, "report.json"))


def demo(work_dir, estate, dump_state=None):
    started = time.monotonic()
    work_dir = os.path.abspath(work_dir)
    # A previous demo's plans and records would be compared against a freshly started estate: start clean.
    for stale in ("runs", "emulator"):
        shutil.rmtree(os.path.join(work_dir, stale), ignore_errors=True)
    os.makedirs(work_dir, mode=0o700, exist_ok=True)
    runs_dir = os.path.join(work_dir, "runs")
    print("Starting the Salesforce emulator with %s" % os.path.relpath(estate, CHECKOUT), flush=True)
    emulator = Emulator(estate, os.path.join(work_dir, "emulator"))
    try:
        print("  %d orgs at %s" % (len(emulator.ready["orgs"]), emulator.ready["base_url"]), flush=True)
        inventory_file = os.path.join(work_dir, "inventory.yml")
        write_private(inventory_file, yaml.safe_dump(inventory_from_ready(emulator.ready, estate, runs_dir),
                                                     sort_keys=False))
        print("Inventory: %s" % inventory_file)
        log_file = os.path.join(work_dir, "site.log")
        print("Running playbooks/site.yml: inventory and plans, sandbox migration and verification, "
              "production rollout (full output: %s)" % log_file, flush=True)
        status = run_playbook("site.yml", inventory_file, log_file, work_dir)
        if status not in PLAYBOOK_COMPLETED:
            with open(log_file, encoding="utf-8") as handle:
                raise DemoError("ansible-playbook exited with %d:\n%s" % (status, handle.read()[-4000:]))
        run_dir, report = report_of(runs_dir)
        missing = sorted(set(emulator.ready["orgs"]) - set(o["org"] for o in report["orgs"]))
        if missing:
            raise DemoError("the report of %s has no result for %s" % (run_dir, ", ".join(missing)))
        if dump_state:
            write_private(dump_state, json.dumps(emulator.org_states(), indent=1, sort_keys=True))
    finally:
        emulator.stop()
    print_summary(report, run_dir)
    failed = [o["org"] for o in report["orgs"] if o["status"] == "failed"]
    if failed:
        print("Orgs that stopped (see their reasons above; the demo estate is built to show them): %s"
              % ", ".join(failed))
    print("\nDemo finished in %.0f s; the emulator is stopped." % (time.monotonic() - started))
    return 0


def start_detached(work_dir, estate):
    """Start the emulator in its own session (it outlives this process) and write its inventory."""
    work_dir = os.path.abspath(work_dir)
    stop_detached(work_dir)
    shutil.rmtree(os.path.join(work_dir, "emulator"), ignore_errors=True)
    os.makedirs(work_dir, mode=0o700, exist_ok=True)
    emulator = Emulator(estate, os.path.join(work_dir, "emulator"), detached=True)
    inventory_file = os.path.join(work_dir, "inventory.yml")
    write_private(inventory_file, yaml.safe_dump(
        inventory_from_ready(emulator.ready, estate, os.path.join(work_dir, "runs")), sort_keys=False))
    print("emulator pid %d at %s; inventory %s" % (emulator.process.pid, emulator.ready["base_url"], inventory_file))
    return 0


def stop_detached(work_dir, timeout=20):
    """Stop the emulator a --start-emulator left running (nothing to do when none is)."""
    ready_file = os.path.join(os.path.abspath(work_dir), "emulator", "READY.json")
    if not os.path.exists(ready_file):
        return 0
    with open(ready_file, encoding="utf-8") as handle:
        pid = json.load(handle)["pid"]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Reaps it when this process is its parent; otherwise only probes that it is still there.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                break
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    os.unlink(ready_file)
    print("emulator pid %d stopped" % pid)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--work-dir", default=DEFAULT_WORK_DIR, help="inventory, logs and run reports")
    parser.add_argument("--estate", default=DEMO_ESTATE, help="estate YAML of the emulator")
    parser.add_argument("--dump-state", help="write every org's final state (admin API) to this JSON file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--start-emulator", action="store_true", help="only start the emulator, in the background")
    mode.add_argument("--stop-emulator", action="store_true", help="stop the emulator --start-emulator started")
    args = parser.parse_args(argv)
    # SIGTERM (a CI timeout, `kill`) must stop the emulator too: turn it into the same path as Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if args.start_emulator:
            return start_detached(args.work_dir, os.path.abspath(args.estate))
        if args.stop_emulator:
            return stop_detached(args.work_dir)
        return demo(args.work_dir, os.path.abspath(args.estate), args.dump_state)
    except DemoError as error:
        print("make demo failed: %s" % error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("make demo interrupted; the emulator is stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
