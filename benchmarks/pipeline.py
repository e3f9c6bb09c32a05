#!/usr/bin/env python
"""Benchmark: the whole pipeline (playbooks/site.yml) over a generated estate on the emulator.

Generates an estate of ``--orgs`` orgs (half production orgs, each with a ``uat`` sandbox; ``--users``
users each), serves it with ``--latency-ms`` of latency per request, writes the inventory ``make demo``
writes (JWT as each org's admin, probes by JWT as each migrated user) and runs ``playbooks/site.yml``:
inventory and plans, sandbox migration and verification, production rollout.

Prints wall time, controller CPU (user and system, every process of ansible-playbook), the emulator's
CPU (separate: it shares the machine), the controller's peak memory, Ansible tasks per org (per-host
task results, by action), the time of each phase (play), API calls per org (the emulator's counters)
and the ratio of the wall time to the latency floor (API calls x latency / forks). Results go to
``pipeline.json`` in the work directory. Figures only: nothing is asserted about time; the run fails
(exit 1) when ansible-playbook breaks (an exit status other than 0 or 2: generated estates hold orgs
that refuse the license change) or the report lacks an org.

    python benchmarks/pipeline.py --orgs 200 --latency-ms 150 --forks 25
    make bench-pipeline ORGS=200 LATENCY_MS=150 FORKS=25
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(CHECKOUT, "tests", "tools"))
sys.path.insert(0, HERE)
# pylint: disable=wrong-import-position
from collections_root import ensure_collections_root  # noqa: E402
from demo import inventory_from_ready, write_private  # noqa: E402
from run import Emulator  # noqa: E402

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
CALLBACKS = os.path.join(HERE, "callback")
# ansible-playbook: 0 every host ok, 2 some hosts failed (orgs of the estate that refuse the change).
COMPLETED = (0, 2)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--orgs", type=int, default=20, help="orgs served, production and sandboxes (default 20)")
    parser.add_argument("--users", type=int, default=20, help="users per production org (default 20)")
    parser.add_argument("--latency-ms", type=int, default=0, help="emulator latency per request (default 0)")
    parser.add_argument("--forks", type=int, default=25, help="ansible-playbook forks (default 25)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--playbook", default="site.yml", help="playbook under playbooks/ (default site.yml)")
    parser.add_argument("--workdir", help="keep estate, inventory, runs, log and results here")
    parser.add_argument("--ansible-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an Ansible setting for this run (repeatable), e.g. ANSIBLE_INTERNAL_POLL_INTERVAL=0.05")
    return parser.parse_args(argv)


def _proc_tree():
    """pid -> (ppid, rss bytes) of every process visible in /proc."""
    page = os.sysconf("SC_PAGE_SIZE")
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(name)] = (int(fields[1]), int(fields[21]) * page)
    return found


class MemorySampler(threading.Thread):
    """Peak of the summed resident memory of a process and its descendants, sampled every half second."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            tree = _proc_tree()
            members, frontier = {self.pid}, [self.pid]
            while frontier:
                parent = frontier.pop()
                children = [pid for pid, (ppid, _rss) in tree.items() if ppid == parent and pid not in members]
                members.update(children)
                frontier.extend(children)
            self.peak = max(self.peak, sum(tree[pid][1] for pid in members if pid in tree))
            self.stop.wait(0.5)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def run_pipeline(args, emulator, workdir):
    runs_dir = os.path.join(workdir, "runs")
    inventory_file = os.path.join(workdir, "inventory.yml")
    write_private(inventory_file, json.dumps(inventory_from_ready(emulator.ready, emulator.estate, runs_dir)))
    profile_file = os.path.join(workdir, "profile.json")
    log_file = os.path.join(workdir, "site.log")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("SALESFORCE_", "ANSIBLE_")))
    env.update({"ANSIBLE_COLLECTIONS_PATH": ensure_collections_root(), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS, "ANSIBLE_CALLBACKS_ENABLED": "pipeline_profile",
                "SFOPS_PIPELINE_PROFILE": profile_file})
    for setting in args.ansible_env:
        name, _sep, value = setting.partition("=")
        env[name] = value
    # Plans, records and backups are signed (the migrate and rollout phases refuse without a key).
    env.setdefault("SFOPS_SIGNING_KEY", "benchmark-signing-key-" + "k" * 24)
    orgs = list(emulator.ready["orgs"])
    before = emulator.api_used(orgs)
    emulator_before = emulator.cpu_seconds()
    user_before, sys_before = children_cpu()
    started = time.perf_counter()
    with open(log_file, "w", encoding="utf-8") as log:
        process = subprocess.Popen([ANSIBLE_PLAYBOOK, "-i", inventory_file, "-f", str(args.forks),
                                    os.path.join(CHECKOUT, "playbooks", args.playbook)],
                                   env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        sampler = MemorySampler(process.pid)
        sampler.start()
        returncode = process.wait()
        sampler.stop.set()
        sampler.join()
    wall = time.perf_counter() - started
    user_after, sys_after = children_cpu()
    emulator_after = emulator.cpu_seconds()
    after = emulator.api_used(orgs)
    calls = sorted(after[name] - before[name] for name in orgs)
    with open(profile_file, encoding="utf-8") as handle:
        profile = json.load(handle)
    report = None
    reports = sorted(d for d in os.listdir(runs_dir) if os.path.isfile(os.path.join(runs_dir, d, "report.json"))) \
        if os.path.isdir(runs_dir) else []
    if reports:
        with open(os.path.join(runs_dir, reports[-1], "report.json"), encoding="utf-8") as handle:
            report = json.load(handle)
    reported = set(o["org"] for o in report["orgs"]) if report else set()
    count = len(orgs)
    cpu_user, cpu_sys = user_after - user_before, sys_after - sys_before
    floor = sum(calls) * args.latency_ms / 1000.0 / args.forks
    return {
        "orgs": count, "production_orgs": sum(1 for o in emulator.ready["orgs"].values() if not o["is_sandbox"]),
        "users": args.users, "latency_ms": args.latency_ms, "forks": args.forks, "playbook": args.playbook,
        "ansible_env": args.ansible_env,
        "returncode": returncode, "wall_s": round(wall, 2),
        "controller_cpu_s": round(cpu_user + cpu_sys, 2), "controller_user_s": round(cpu_user, 2),
        "controller_sys_s": round(cpu_sys, 2), "controller_cpu_per_org_s": round((cpu_user + cpu_sys) / count, 3),
        "emulator_cpu_s": None if emulator_before is None else round(emulator_after - emulator_before, 2),
        "peak_memory_mb": round(sampler.peak / 2 ** 20, 1),
        "tasks_per_org": round(profile["host_tasks_total"] / count, 2),
        "run_once_tasks": profile.get("run_once_total", 0),
        "tasks_per_org_without_run_once": round((profile["host_tasks_total"] - profile.get("run_once_total", 0)) / count, 2),
        "tasks_per_org_by_kind": dict((k, round(v / count, 2)) for k, v in profile["host_tasks"].items()),
        "host_tasks_total": profile["host_tasks_total"], "task_starts_total": profile["task_starts_total"],
        "task_starts": profile["task_starts"], "task_seconds": profile["task_seconds"],
        "loop_items_per_org": dict((k, round(v / count, 2)) for k, v in profile["loop_items"].items()),
        "statuses": profile["statuses"], "phases": profile["plays"],
        "api_calls_per_org": {"mean": round(sum(calls) / count, 2), "min": calls[0], "max": calls[-1],
                              "total": sum(calls)},
        "latency_floor_s": round(floor, 1), "wall_to_floor": round(wall / floor, 1) if floor else None,
        "report_orgs": len(reported), "report_missing": sorted(set(orgs) - reported),
        "failed_orgs": sorted(o["org"] for o in report["orgs"] if o["status"] == "failed") if report else [],
        "log": log_file, "ok": returncode in COMPLETED and reported == set(orgs),
    }


def print_result(result):
    count = result["orgs"]
    print("\nPipeline %s: %d orgs (%d production + sandboxes), %d users each, latency %d ms, forks %d"
          % (result["playbook"], count, result["production_orgs"], result["users"], result["latency_ms"],
             result["forks"]))
    print("  wall                 %8.1f s" % result["wall_s"])
    print("  controller CPU       %8.1f s (user %.1f + sys %.1f) = %.3f s per org" % (
        result["controller_cpu_s"], result["controller_user_s"], result["controller_sys_s"],
        result["controller_cpu_per_org_s"]))
    print("  emulator CPU         %8s s (same machine, not counted above)" % result["emulator_cpu_s"])
    print("  controller peak RSS  %8.1f MB (ansible-playbook and its workers)" % result["peak_memory_mb"])
    counts = (result["tasks_per_org"], result["host_tasks_total"], result["task_starts_total"],
              result["run_once_tasks"], result["tasks_per_org_without_run_once"])
    print("  tasks per org        %8.2f (%d host-task results; %d task starts; %d run once per play, "
          "%.2f per org without them)" % counts)
    for kind, per_org in result["tasks_per_org_by_kind"].items():
        print("      %-48s %6.2f per org  (%s s of task wall)" % (kind, per_org, result["task_seconds"].get(kind, "-")))
    if result["loop_items_per_org"]:
        print("  loop items per org   %s" % ", ".join("%s %.2f" % kv for kv in result["loop_items_per_org"].items()))
    calls = result["api_calls_per_org"]
    print("  API calls per org    %8.2f mean (%d-%d), %d in all" % (calls["mean"], calls["min"], calls["max"], calls["total"]))
    print("  latency floor        %8.1f s (calls x latency / forks); wall / floor = %s" % (
        result["latency_floor_s"], result["wall_to_floor"]))
    print("  phases:")
    for play in result["phases"]:
        print("      %-48s %8.1f s" % (play["name"], play["seconds"] or 0))
    print("  ansible-playbook exit %d; report covers %d/%d orgs; %d orgs failed (the estate's refusals): %s" % (
        result["returncode"], result["report_orgs"], count, len(result["failed_orgs"]),
        "ok" if result["ok"] else "FAILED, see " + result["log"]))


def main(argv=None):
    args = parse_args(argv)
    workdir = os.path.abspath(args.workdir or os.path.join(CHECKOUT, "tests", "output", "benchmarks",
                                                           "pipeline-" + time.strftime("%Y%m%dT%H%M%S")))
    os.makedirs(workdir, exist_ok=True)
    print("work directory: %s" % workdir, flush=True)
    with Emulator(workdir, args.orgs, args.users, args.seed, args.latency_ms) as emulator:
        result = run_pipeline(args, emulator, workdir)
    print_result(result)
    with open(os.path.join(workdir, "pipeline.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
    print("results: %s" % os.path.join(workdir, "pipeline.json"))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
