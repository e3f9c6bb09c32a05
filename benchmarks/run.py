#!/usr/bin/env python
"""Benchmark: the collection's read tasks over many emulated orgs, against a conventional module.

Starts the Salesforce org emulator (tests/emulator) with a generated estate, writes an inventory with
one host per org, and runs the same playbook of read tasks twice per configuration:

- ``collection``: the collection's modules, which run as action plugins inside the controller;
- ``ansiballz``: benchmarks/library/sf_bench_ansiballz.py, a conventional module (requests and
  simple-salesforce imported in a new Python process per task) doing the same token + query work.

For each number of orgs, forks and mode it prints wall time, controller CPU time (this process's
children: ansible-playbook, its workers and their module processes), both per org-task, the
emulator's own CPU time (it shares the machine), and the API calls each org counted (emulator admin
API). Figures only: nothing is asserted about time. A failed task fails the run.

    python benchmarks/run.py                       # 10/40/100 orgs x forks 5/10/25, both modes
    python benchmarks/run.py --quick               # small, for a smoke test
    python benchmarks/run.py --orgs 40 --forks 10 --tasks license_info,query_users
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR_PATH = os.path.join(CHECKOUT, "tests", "emulator")
LIBRARY = os.path.join(CHECKOUT, "benchmarks", "library")
MODULES_DIR = os.path.join(CHECKOUT, "plugins", "modules")
COLLECTION = "sfops.integration_users"
BASELINE_MODULE = "sf_bench_ansiballz"

sys.path.insert(0, os.path.join(CHECKOUT, "tests", "tools"))
from collections_root import ensure_collections_root  # noqa: E402  pylint: disable=wrong-import-position

# The license report's reads, as a conventional module would send them (one composite round trip).
LICENSE_QUERIES = (
    "SELECT Id, Name, OrganizationType, IsSandbox, InstanceName FROM Organization",
    "SELECT Id, Name, MasterLabel, Status, TotalLicenses, UsedLicenses FROM UserLicense",
    "SELECT Id, MasterLabel, DeveloperName, Status, TotalLicenses, UsedLicenses FROM PermissionSetLicense",
    "SELECT Id, Name, UserLicenseId, UserLicense.Name FROM Profile",
)
USERS_QUERY = ("SELECT Id, Username, IsActive, Profile.Name, Profile.UserLicense.Name, LastLoginDate "
               "FROM User WHERE IsActive = true")
PROFILES_QUERY = "SELECT Id, Name, UserLicense.Name FROM Profile"
APEX_QUERY = "SELECT Id, Name, Status FROM ApexClass"

# name -> (collection module, its arguments, the equivalent queries for the baseline module).
# Tasks whose module is not in plugins/modules yet are skipped (and said so) unless named explicitly.
TASKS = {
    "license_info": ("sf_license_info", {}, [{"soql": q} for q in LICENSE_QUERIES]),
    "query_users": ("sf_query", {"query": USERS_QUERY}, [{"soql": USERS_QUERY}]),
    "query_profiles": ("sf_query", {"query": PROFILES_QUERY}, [{"soql": PROFILES_QUERY}]),
    "query_apex_tooling": ("sf_query", {"query": APEX_QUERY, "tooling": True},
                           [{"soql": APEX_QUERY, "tooling": True}]),
    # Baseline equivalents of these two are approximations: the users / profiles reads they start with.
    "user_info": ("sf_user_info", {}, [{"soql": USERS_QUERY}]),
    "profile_check": ("sf_profile_check", {}, [{"soql": PROFILES_QUERY}]),
}
DEFAULT_TASKS = ("license_info", "query_users", "query_profiles", "query_apex_tooling", "user_info",
                 "profile_check")
MODES = ("collection", "ansiballz")

RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=\d+\s+unreachable=(?P<unreachable>\d+)"
                        r"\s+failed=(?P<failed>\d+)")


def int_list(text):
    return [int(part) for part in text.split(",") if part]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--orgs", type=int_list, default=[10, 40, 100], help="org counts (default 10,40,100)")
    parser.add_argument("--forks", type=int_list, default=[5, 10, 25], help="fork counts (default 5,10,25)")
    parser.add_argument("--modes", default=",".join(MODES), help="collection,ansiballz (default both)")
    parser.add_argument("--tasks", default=None,
                        help="comma-separated from: %s (default: those whose module exists)" % ", ".join(TASKS))
    parser.add_argument("--users", type=int, default=50, help="users per generated org (default 50)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=int, default=0, help="emulator latency per request")
    parser.add_argument("--quick", action="store_true", help="5 orgs, forks 5, 20 users: a smoke test")
    parser.add_argument("--workdir", help="keep estate, inventory, playbooks and logs here")
    args = parser.parse_args(argv)
    if args.quick:
        args.orgs, args.forks, args.users = [5], [5], 20
    args.modes = [m for m in args.modes.split(",") if m]
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error("unknown mode(s): %s" % ", ".join(sorted(unknown)))
    return args


def module_exists(name):
    return os.path.exists(os.path.join(MODULES_DIR, name + ".py"))


def select_tasks(requested):
    """Task names to run: the requested ones, else the defaults whose module exists."""
    if requested:
        names = [n for n in requested.split(",") if n]
        unknown = [n for n in names if n not in TASKS]
        if unknown:
            sys.exit("unknown task(s): %s; known: %s" % (", ".join(unknown), ", ".join(TASKS)))
        return names
    names = [n for n in DEFAULT_TASKS if module_exists(TASKS[n][0])]
    skipped = [n for n in DEFAULT_TASKS if n not in names]
    if skipped:
        print("tasks skipped (module not written yet): %s" % ", ".join(skipped))
    return names


def emulator_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (EMULATOR_PATH, env.get("PYTHONPATH")) if p)
    return env


class Emulator:
    """The emulator as a subprocess: generate an estate, serve it, read READY.json, stop on exit."""

    def __init__(self, workdir, orgs, users, seed, latency_ms):
        self.workdir = workdir
        self.estate = os.path.join(workdir, "estate.yml")
        self.ready_file = os.path.join(workdir, "READY.json")
        self.log_path = os.path.join(workdir, "emulator.log")
        self.orgs, self.users, self.seed, self.latency_ms = orgs, users, seed, latency_ms
        self.process = None
        self.ready = None
        self.ssl_context = None

    def __enter__(self):
        started = time.perf_counter()
        # `generate --orgs P` makes P production orgs, each with a sandbox: 2P orgs served.
        production_orgs = (self.orgs + 1) // 2
        subprocess.run([sys.executable, "-m", "sfemu", "generate", "--orgs", str(production_orgs), "--users",
                        str(self.users), "--seed", str(self.seed), "--out", self.estate],
                       env=emulator_env(), check=True)
        generated = time.perf_counter()
        command = [sys.executable, "-m", "sfemu", "serve", "--estate", self.estate, "--port", "0",
                   "--ready-file", self.ready_file, "--seed", str(self.seed),
                   "--state-dir", os.path.join(self.workdir, "emulator-state")]
        if self.latency_ms:
            command += ["--latency-ms", str(self.latency_ms)]
        # A READY.json left by an earlier run in a reused work directory would be read as ours.
        if os.path.exists(self.ready_file):
            os.unlink(self.ready_file)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=emulator_env(), stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()
        print("emulator: %d orgs generated in %.1fs, serving %s after %.1fs (log %s)" % (
            len(self.ready["orgs"]), generated - started, self.ready["base_url"],
            time.perf_counter() - generated, self.log_path))
        self.ssl_context = ssl.create_default_context(cafile=self.ready["ca_file"])
        return self

    def _wait_ready(self, timeout=300):
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.ready_file):
            if self.process.poll() is not None:
                raise RuntimeError("emulator exited with %s; see %s" % (self.process.returncode, self.log_path))
            if time.monotonic() > deadline:
                raise RuntimeError("emulator not ready after %ds; see %s" % (timeout, self.log_path))
            time.sleep(0.1)
        with open(self.ready_file, encoding="utf-8") as ready:
            self.ready = json.load(ready)

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self):
        """CPU time the emulator has used so far (None where /proc is not available)."""
        try:
            with open("/proc/%d/stat" % self.process.pid, encoding="ascii") as stat:
                # Fields after the parenthesised command name; utime and stime are the 12th and 13th.
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def api_used(self, org_names):
        """Org name -> API calls counted so far (the emulator's daily usage counter)."""
        used = {}
        for name in org_names:
            url = "%s/__emulator__/orgs/%s/calls" % (self.ready["base_url"].rstrip("/"), urllib.parse.quote(name))
            with urllib.request.urlopen(url, context=self.ssl_context, timeout=30) as answer:
                used[name] = json.load(answer)["api_used"]
        return used


def host_name(org_name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", org_name)


def write_inventory(path, ready, org_names):
    """One host per org, run locally, with the org's client-credentials app as connection vars."""
    hosts = {}
    for name in org_names:
        org = ready["orgs"][name]
        hosts[host_name(name)] = {
            "sf_org": name,
            "sf_login_url": org["login_url"],
            "sf_client_id": org["admin"]["client_id"],
            "sf_client_secret": org["admin"]["client_secret"],
        }
    inventory = {"all": {"hosts": hosts, "vars": {
        "ansible_connection": "local",
        # The baseline module needs requests and simple-salesforce: the interpreter running this.
        "ansible_python_interpreter": sys.executable,
        "sf_ca_path": ready["ca_file"],
    }}}
    # JSON is YAML: no YAML library needed here.
    with open(path, "w", encoding="utf-8") as out:
        json.dump(inventory, out, indent=1)


CONNECTION_DEFAULTS = {
    "login_url": "{{ sf_login_url }}",
    "client_id": "{{ sf_client_id }}",
    "client_secret": "{{ sf_client_secret }}",
    "ca_path": "{{ sf_ca_path }}",
}


def collection_has_action_group():
    runtime = os.path.join(CHECKOUT, "meta", "runtime.yml")
    if not os.path.exists(runtime):
        return False
    with open(runtime, encoding="utf-8") as handle:
        return re.search(r"^\s+salesforce\s*:", handle.read(), re.MULTILINE) is not None


def write_playbook(path, mode, task_names):
    """The read tasks, connection options set once through module_defaults."""
    tasks = []
    if mode == "collection":
        modules = sorted({"%s.%s" % (COLLECTION, TASKS[n][0]) for n in task_names})
        if collection_has_action_group():
            defaults = {"group/%s.salesforce" % COLLECTION: dict(CONNECTION_DEFAULTS, auth="client_credentials")}
        else:
            defaults = {m: dict(CONNECTION_DEFAULTS, auth="client_credentials") for m in modules}
        for name in task_names:
            module, arguments, _queries = TASKS[name]
            tasks.append({"name": name, "%s.%s" % (COLLECTION, module): dict(arguments)})
    else:
        defaults = {BASELINE_MODULE: dict(CONNECTION_DEFAULTS)}
        for name in task_names:
            tasks.append({"name": name, BASELINE_MODULE: {"queries": TASKS[name][2]}})
    play = [{"name": "Benchmark read tasks (%s)" % mode, "hosts": "all", "gather_facts": False,
             "module_defaults": defaults, "tasks": tasks}]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(play, out, indent=1)


def ansible_env(collections_root):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections_root,
        "ANSIBLE_LIBRARY": LIBRARY,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        # Same small amount of output for both modes: failures and the recap.
        "ANSIBLE_DISPLAY_OK_HOSTS": "false",
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false",
    })
    # A developer's extra callbacks (profile_tasks, timers...) would skew the figures.
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def recap(log_text):
    """Host -> (ok, unreachable, failed) from the PLAY RECAP."""
    hosts = {}
    for line in log_text.splitlines():
        found = RECAP_LINE.match(line.strip())
        if found:
            hosts[found["host"]] = (int(found["ok"]), int(found["unreachable"]), int(found["failed"]))
    return hosts


def run_playbook(emulator, workdir, collections_root, mode, org_names, forks, task_names):
    label = "%s-%dorgs-%dforks" % (mode, len(org_names), forks)
    inventory = os.path.join(workdir, "inventory-%d.yml" % len(org_names))
    playbook = os.path.join(workdir, "play-%s.yml" % mode)
    log_path = os.path.join(workdir, label + ".log")
    write_inventory(inventory, emulator.ready, org_names)
    write_playbook(playbook, mode, task_names)
    before = emulator.api_used(org_names)
    emulator_cpu_before = emulator.cpu_seconds()
    cpu_before = children_cpu_seconds()
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        returncode = subprocess.call(
            [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
             "-f", str(forks), playbook],
            env=ansible_env(collections_root), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    cpu = children_cpu_seconds() - cpu_before
    emulator_cpu_after = emulator.cpu_seconds()
    emulator_cpu = None if emulator_cpu_before is None else emulator_cpu_after - emulator_cpu_before
    after = emulator.api_used(org_names)
    calls = [after[name] - before[name] for name in org_names]
    with open(log_path, encoding="utf-8") as log:
        hosts = recap(log.read())
    complete = len(hosts) == len(org_names) and all(
        ok == len(task_names) and not unreachable and not failed for ok, unreachable, failed in hosts.values())
    return {"mode": mode, "orgs": len(org_names), "forks": forks, "tasks": len(task_names), "wall": wall,
            "cpu": cpu, "emulator_cpu": emulator_cpu, "calls_min": min(calls), "calls_max": max(calls), "calls_mean": sum(calls) / len(calls),
            "ok": returncode == 0 and complete, "log": log_path}


HEADER = ("mode", "orgs", "forks", "tasks", "wall s", "cpu s", "wall ms/org-task", "cpu ms/org-task",
          "emulator cpu s", "API calls/org", "result")


def row(result):
    org_tasks = result["orgs"] * result["tasks"]
    if result["calls_min"] == result["calls_max"]:
        calls = "%d" % result["calls_min"]
    else:
        calls = "%.1f (%d-%d)" % (result["calls_mean"], result["calls_min"], result["calls_max"])
    return (result["mode"], str(result["orgs"]), str(result["forks"]), str(result["tasks"]),
            "%.1f" % result["wall"], "%.1f" % result["cpu"], "%.0f" % (1000 * result["wall"] / org_tasks),
            "%.0f" % (1000 * result["cpu"] / org_tasks),
            "-" if result["emulator_cpu"] is None else "%.1f" % result["emulator_cpu"], calls, "ok" if result["ok"] else "FAILED: " + result["log"])


def print_table(results):
    rows = [HEADER] + [row(r) for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    for line in rows:
        print("  ".join(cell.rjust(width) if index else cell.ljust(width)
                        for index, (cell, width) in enumerate(zip(line, widths))))


def print_comparison(results):
    by_key = {(r["mode"], r["orgs"], r["forks"]): r for r in results if r["ok"]}
    for (mode, orgs, forks), collection in sorted(by_key.items()):
        baseline = by_key.get(("ansiballz", orgs, forks))
        if mode == "collection" and baseline:
            print("%3d orgs, forks %2d: AnsiballZ module / action plugin = %.1fx wall, %.1fx CPU" % (
                orgs, forks, baseline["wall"] / collection["wall"], baseline["cpu"] / max(collection["cpu"], 1e-3)))


def main(argv=None):
    args = parse_args(argv)
    task_names = select_tasks(args.tasks)
    if not task_names:
        sys.exit("no task to run: none of the collection's read modules exists yet")
    collections_root = ensure_collections_root()
    workdir = args.workdir or os.path.join(CHECKOUT, "tests", "output", "benchmarks",
                                           time.strftime("%Y%m%dT%H%M%S"))
    os.makedirs(workdir, exist_ok=True)
    print("tasks per org: %s" % ", ".join(task_names))
    print("work directory: %s" % workdir)
    results = []
    with Emulator(workdir, max(args.orgs), args.users, args.seed, args.latency_ms) as emulator:
        served = list(emulator.ready["orgs"])
        if len(served) < max(args.orgs):
            sys.exit("the generated estate has %d orgs, fewer than %d" % (len(served), max(args.orgs)))
        for orgs in args.orgs:
            for forks in args.forks:
                for mode in args.modes:
                    result = run_playbook(emulator, workdir, collections_root, mode, served[:orgs], forks,
                                          task_names)
                    results.append(result)
                    print("  " + "  ".join("%s=%s" % pair for pair in zip(HEADER, row(result))), flush=True)
    print()
    print("Summary (controller: %d CPUs; emulator on the same machine)" % os.cpu_count())
    print_table(results)
    print_comparison(results)
    if "ansiballz" in args.modes and {"user_info", "profile_check"} & set(task_names):
        print("(the baseline module's user_info / profile_check stand-ins only run their first query)")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
