#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability and security figures of sfops.integration_users, proven on the emulator.

Runs the scenarios of issue 8 and prints one table; exits 1 when a row is not met.

  faults       the whole pipeline (site.yml) fault-free, then with 10 % 503/500, 5 % UNABLE_TO_LOCK_ROW on
               writes, sessions dying every 50 calls and latency jitter: the org states must be equal
  crashes      SIGKILL of ansible-playbook at seeded random points of a sandbox migration: every touched
               user unchanged or fully migrated, its backup on disk, rollback exact, a re-run completes
  allocation   an org with its allocation nearly spent is skipped before any write, one with it spent is
               asked once (no retry loop), the other orgs complete
  concurrency  two identical migrations of the same org at once: the org lock lets one write and refuses the
               other, which started again afterwards finds the work done; the org ends correct
  bad input, secrets, TLS: the pytest files tests/integration/test_bad_input.py, test_secrets.py and
               test_tls.py (their passed cases are counted)
  trust        issue 13: secrets with control characters (tried, leaked), forged plans/records/backups
               refused, redirects and foreign instance URLs refused, writes re-sent after a broken
               connection, lock contention, collision-free permission set names, runs-dir permissions

    python tests/reliability/figures.py            # CI size (demo estate, 3 crash trials)
    python tests/reliability/figures.py --full     # + a generated estate of 30 orgs, 10 crash trials

Work files (logs, runs, state dumps) go under --work-dir (default tests/output/reliability).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from xml.etree import ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  pylint: disable=wrong-import-position

DEMO_ESTATE = os.path.join(harness.ESTATES, "demo.yml")
FAULT_RULES = [
    {"status": 503, "rate": 0.05},
    {"status": 500, "rate": 0.05},
    {"error": "lock", "rate": 0.05},      # the emulator applies it to writes only
    {"expire_calls": 50},
    # One task rarely holds a session for 50 calls (each task logs in anew), so sessions also die after
    # 5 calls: renewal is then exercised in every task that makes more than five.
    {"expire_calls": 5},
    {"latency_ms": 1, "jitter_ms": 25},
]
# Retries per request in the fault runs (connection option `retries`; the client's default is 3). With 10 %
# of requests failing, 3 retries leave about 1 request in 10,000 failing four times in a row, which a
# pipeline of thousands of requests meets; 5 leave about 1 in a million.
CLIENT_RETRIES = 5
RUN_ID = "reliability"
# The sandbox the crash, allocation and concurrency scenarios migrate: clean candidates, no trap.
CRASH_ORG = "acme-uat"
OTHER_SANDBOX = "initech-qa"
# Answers REQUEST_LIMIT_EXCEEDED to everything in the allocation scenario.
SPENT_SANDBOX = "globex-dev"
PYTEST_FILES = {"bad input": "tests/integration/test_bad_input.py",
                "secrets": "tests/integration/test_secrets.py",
                "tls": "tests/integration/test_tls.py",
                "soql audit": "tests/reliability/test_soql_audit.py"}


class Table:
    def __init__(self):
        self.rows = []

    def add(self, name, figure, target, met, note=""):
        """``met`` None: a measured figure with no target (never fails the table)."""
        self.rows.append((name, str(figure), target, met, note))
        print("  %-44s %-12s %s%s" % (name, figure, "info" if met is None else "met" if met else "NOT MET",
                                      (" (" + note + ")") if note else ""), flush=True)

    def render(self):
        width = max(len(r[0]) for r in self.rows)
        lines = ["%-*s  %-12s  %-26s  %s" % (width, "row", "figure", "target", "met")]
        lines.append("-" * len(lines[0]))
        for name, figure, target, met, _note in self.rows:
            verdict = "-" if met is None else "yes" if met else "NO"
            lines.append("%-*s  %-12s  %-26s  %s" % (width, name, figure, target, verdict))
        return "\n".join(lines)

    @property
    def all_met(self):
        return all(row[3] is not False for row in self.rows)


def report_errors(runs_dir, run_id):
    """org -> error of that org in a run's report.json (None when it completed), {} without a report."""
    path = os.path.join(runs_dir, run_id, "report.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    # Backup file names carry their creation time and the run's own directory: the rest must match.
    return dict((org["org"], re.sub(r"integration_user-[^ )]+\.json", "<backup>",
                                    (org.get("error") or "").replace(runs_dir, "<runs>")) or None)
                for org in report["orgs"])


# ---- faults -------------------------------------------------------------------------------------
def faults(table, estate, label, work_dir):
    """site.yml fault-free, then under the fault rules, on a fresh emulator of ``estate``."""
    started = time.monotonic()
    emulator = harness.Emulator(estate, os.path.join(work_dir, "emulator"))
    try:
        clean_ws = harness.Workspace(emulator, work_dir, "clean", {"retries": CLIENT_RETRIES})
        clean = clean_ws.run("site.yml", {"license_migration_run_id": RUN_ID})
        clean_states = harness.normalized(emulator.states())
        clean_calls = sum(emulator.api_used().values())
        emulator.reset()
        emulator.admin("POST", "faults", json=FAULT_RULES)
        faulted_ws = harness.Workspace(emulator, work_dir, "faulted", {"retries": CLIENT_RETRIES})
        faulted = faulted_ws.run("site.yml", {"license_migration_run_id": RUN_ID})
        faulted_states = harness.normalized(emulator.states())
        faulted_calls = sum(emulator.api_used().values())
        report = emulator.admin("GET", "faults")
        emulator.admin("DELETE", "faults")
        with open(os.path.join(work_dir, "states.json"), "w", encoding="utf-8") as handle:
            json.dump({"clean": clean_states, "faulted": faulted_states, "faults": report}, handle, indent=1)
    finally:
        emulator.stop()
    injected = dict((rule_kind(rule), rule["injected"]) for rule in report["rules"])
    errors_injected = sum(n for kind, n in injected.items() if kind != "latency")
    diff = harness.differences(clean_states, faulted_states)
    same_outcome = (report_errors(clean_ws.runs_dir, RUN_ID) == report_errors(faulted_ws.runs_dir, RUN_ID)
                    and clean.rc == faulted.rc)
    users = sum(len(state["users"]) for state in clean_states.values())
    minutes = (time.monotonic() - started) / 60
    table.add("%s: orgs" % label, len(clean_states), "", True, "%.1f min" % minutes)
    table.add("%s: faults injected" % label, errors_injected, ">= 1 of each kind",
              all(injected.get(k, 0) > 0 for k in ("503", "500", "lock", "expiry/5")),
              ", ".join("%s %d" % item for item in sorted(injected.items())))
    # A faulted request is not counted by the emulator and is answered by one more request (a retry or,
    # for an expired session, a token request and the same call again): the requests re-sent are the faults.
    table.add("%s: retries (re-sent requests)" % label, errors_injected,
              "<= %d per request" % CLIENT_RETRIES, faulted.rc == clean.rc,
              "data-API calls counted: %d fault-free, %d with faults" % (clean_calls, faulted_calls))
    table.add("%s: org states equal to fault-free" % label, "%d users" % users, "identical",
              not diff and same_outcome,
              "; ".join(diff[:3]) if diff else "rc %s/%s, report errors %s" % (
                  clean.rc, faulted.rc, "equal" if same_outcome else "DIFFER"))


def rule_kind(rule):
    if rule.get("status"):
        return str(rule["status"])
    if rule.get("error"):
        return rule["error"]
    if rule.get("expire_calls"):
        return "expiry/%d" % rule["expire_calls"]
    return "latency"


# ---- crashes ------------------------------------------------------------------------------------
def migrated_view(view, plan_usernames):
    return dict((name, value) for name, value in view.items() if name in plan_usernames)


def crashes(table, trials, seed, work_dir, whole_group=False, strict_steps=True):
    """``whole_group=False``: SIGKILL of the ansible-playbook process, as the issue asks (its worker may
    finish the task it runs, or die with it). ``whole_group=True``: the workers die too (a lost machine).
    ``strict_steps``: a user left between two of sf_integration_user's write steps fails the table
    (otherwise it is reported as a figure)."""
    emulator = harness.Emulator(DEMO_ESTATE, os.path.join(work_dir, "emulator"))
    rng = random.Random(seed)
    survived = 0
    users_checked = 0
    problems = []
    try:
        ws = harness.Workspace(emulator, work_dir, "crash")
        target = {"license_migration_target": CRASH_ORG}
        # Plans of the production orgs, then one uninterrupted migration: its duration bounds the kill
        # points and its end state is what "fully migrated" means.
        planned = ws.run("inventory.yml", dict(target, license_migration_target="acme-prod",
                                               license_migration_run_id="plan"))
        if planned.rc != 0:
            problems.append("inventory.yml failed (rc %s): %s" % (planned.rc, planned.output[-600:]))
            raise StopIteration
        emulator.reset()
        before = harness.user_view(emulator.admin("GET", "orgs/%s/state" % CRASH_ORG))
        # The kill points fall between the first and the last write of an uninterrupted run (plus a
        # margin each side), not in ansible-playbook's start-up, where a kill proves nothing.
        started = time.monotonic()
        calibration_job = ws.start("migrate_sandbox.yml", dict(target, license_migration_run_id="calibration"))
        write_times, last_count = [], 0
        while calibration_job.process.poll() is None:
            count = emulator.writes([CRASH_ORG])[CRASH_ORG]
            if count != last_count:
                write_times.append(time.monotonic() - started)
                last_count = count
            time.sleep(0.1)
        calibration = calibration_job.wait()
        window = (max(0.5, write_times[0] - 0.3), write_times[-1] + 0.5) if write_times else (0.5, 5.0)
        migrated = harness.user_view(emulator.admin("GET", "orgs/%s/state" % CRASH_ORG))
        moved = sorted(name for name in migrated if migrated[name] != before[name])
        if calibration.rc != 0 or not moved:
            problems.append("the uninterrupted migration failed or moved nobody (rc %s): %s"
                            % (calibration.rc, calibration.output[-600:]))
            raise StopIteration
        for trial in range(trials):
            emulator.reset()
            run_id = "crash-%d" % trial
            delay = rng.uniform(*window)
            job = ws.start("migrate_sandbox.yml", dict(target, license_migration_run_id=run_id))
            finished = harness.wait_for(lambda: job.process.poll() is not None, delay)
            if not finished:
                job.kill(whole_group=whole_group)
            after = harness.user_view(emulator.admin("GET", "orgs/%s/state" % CRASH_ORG))
            touched = [name for name in after if after[name] != before[name]]
            trial_problems = []
            backups = glob.glob(os.path.join(ws.runs_dir, run_id, "backups", CRASH_ORG, "integration_user-*.json"))
            backed_up = set()
            for path in backups:
                with open(path, encoding="utf-8") as handle:
                    backed_up.update(u["username"] for u in json.load(handle)["data"]["users"])
            for name in touched:
                if after[name] != migrated.get(name):
                    trial_problems.append("%s half-migrated: %s" % (name, after[name]))
                if name not in backed_up:
                    trial_problems.append("%s changed without a backup" % name)
            if touched:
                back = ws.run("rollback.yml", dict(target, license_migration_rollback_run_id=run_id,
                                                   license_migration_run_id=run_id + "-rollback"))
                restored = harness.user_view(emulator.admin("GET", "orgs/%s/state" % CRASH_ORG))
                if restored != before:
                    trial_problems.append("rollback (rc %s) left %s" % (back.rc, sorted(
                        n for n in restored if restored[n] != before[n])))
            again = ws.run("migrate_sandbox.yml", dict(target, license_migration_run_id=run_id + "-again"))
            final = harness.user_view(emulator.admin("GET", "orgs/%s/state" % CRASH_ORG))
            if again.rc != 0 or final != migrated:
                trial_problems.append("re-run (rc %s) did not complete: %s" % (again.rc, sorted(
                    n for n in final if final[n] != migrated[n])))
            users_checked += len(moved)
            print("    trial %d: killed after %.1f s%s, %d user(s) touched%s" % (
                trial + 1, delay, "" if not finished else " (it had finished)", len(touched),
                ": " + "; ".join(trial_problems) if trial_problems else ", ok"), flush=True)
            if trial_problems:
                problems.extend("trial %d: %s" % (trial + 1, p) for p in trial_problems)
            else:
                survived += 1
    except StopIteration:
        pass
    finally:
        emulator.stop()
    half = [p for p in problems if "half-migrated" in p]
    other = [p for p in problems if "half-migrated" not in p]
    kind = "process-group SIGKILL" if whole_group else "SIGKILL (seed %d)" % seed
    # Recovery must always hold: a backup of every touched user, an exact rollback, a re-run that completes.
    table.add("crashes: %s, recovered" % kind, "%d/%d" % (trials - len(set(p.split(":")[0] for p in other)), trials),
              "all", not other and trials > 0, "; ".join(other[:3]))
    table.add("users verified correct after crashes" + (" (group)" if whole_group else ""), users_checked,
              ">= 1 per trial", users_checked >= trials and not other)
    # A kill that lands inside sf_integration_user's ordered writes (profile, then the permission set
    # license, then the sets) leaves that user between two steps. Known gap: a hard row at full size;
    # at CI size (3 trials, the landing point depends on timing) and for whole-group kills, a figure.
    table.add("crashes: %s, users left between steps" % kind, "%d in %d trials" % (len(half), trials), "0",
              None if strict_steps is False else not half, "; ".join(half[:2]))


# ---- API allocation -------------------------------------------------------------------------------
def allocation(table, work_dir):
    emulator = harness.Emulator(DEMO_ESTATE, os.path.join(work_dir, "emulator"))
    try:
        ws = harness.Workspace(emulator, work_dir, "allocation")
        planned = ws.run("inventory.yml", {"license_migration_target": "acme-prod:globex-prod:initech-prod",
                                           "license_migration_run_id": "plan"})
        emulator.reset()
        orgs = dict((o["name"], o) for o in emulator.admin("GET", "orgs"))
        # Nearly spent: a few calls left, fewer than a migration needs. Spent: nothing left at all.
        nearly = orgs[CRASH_ORG]["api_daily_limit"] - 15
        emulator.admin("POST", "orgs/%s/api-usage" % CRASH_ORG, json={"used": nearly})
        emulator.admin("POST", "faults", json={"error": "limit", "org": SPENT_SANDBOX})
        targets = "%s:%s:%s" % (CRASH_ORG, OTHER_SANDBOX, SPENT_SANDBOX)
        run = ws.run("migrate_sandbox.yml", {"license_migration_target": targets, "license_migration_run_id": "allocation"})
        writes = emulator.writes()
        limit_rule = emulator.admin("GET", "faults")["rules"][0]
        errors = report_errors(ws.runs_dir, "allocation")
    finally:
        emulator.stop()
    message = errors.get(CRASH_ORG) or ""
    table.add("allocation nearly spent: writes before skip", writes[CRASH_ORG], "0",
              planned.rc == 0 and writes[CRASH_ORG] == 0 and "API" in message,
              message[:160] or "no error reported for %s (rc %s)" % (CRASH_ORG, run.rc))
    table.add("allocation spent: REQUEST_LIMIT_EXCEEDED asked", limit_rule["injected"], "1 (no retry)",
              limit_rule["injected"] == 1 and writes[SPENT_SANDBOX] == 0, (errors.get(SPENT_SANDBOX) or "")[:160])
    table.add("allocation: other org completes", "ok" if errors.get(OTHER_SANDBOX, "missing") is None else "failed",
              "completes", errors.get(OTHER_SANDBOX, "missing") is None, str(errors.get(OTHER_SANDBOX) or "")[:160])


# ---- concurrency ---------------------------------------------------------------------------------
def concurrency(table, work_dir):
    emulator = harness.Emulator(DEMO_ESTATE, os.path.join(work_dir, "emulator"))
    try:
        ws = harness.Workspace(emulator, work_dir, "concurrency")
        target = {"license_migration_target": CRASH_ORG}
        planned = ws.run("inventory.yml", {"license_migration_target": "acme-prod", "license_migration_run_id": "plan"})
        emulator.reset()
        solo = ws.run("migrate_sandbox.yml", dict(target, license_migration_run_id="solo"))
        expected = harness.user_view(emulator.admin("GET", "orgs/%s/state" % CRASH_ORG))
        emulator.reset()
        # Same migration, same plan, started together. Since issue 13 the org lock lets one run write and refuses
        # the other (naming the holder); the refused run, started again afterwards, finds the work done.
        jobs = [ws.start("migrate_sandbox.yml", dict(target, license_migration_run_id="twin-%d" % n)) for n in (1, 2)]
        for job in jobs:
            job.wait()
        final = harness.user_view(emulator.admin("GET", "orgs/%s/state" % CRASH_ORG))
        errors = [report_errors(ws.runs_dir, "twin-%d" % n).get(CRASH_ORG, "no report") for n in (1, 2)]
        refused = [n for n, job in enumerate(jobs) if job.rc != 0]
        again = ws.run("migrate_sandbox.yml", dict(target, license_migration_run_id="twin-%d" % (refused[0] + 1))) \
            if len(refused) == 1 else None
        after = harness.user_view(emulator.admin("GET", "orgs/%s/state" % CRASH_ORG))
    finally:
        emulator.stop()
    locked = len(refused) == 1 and "locked by run" in str(errors[refused[0]] or "")
    ok = (planned.rc == 0 and solo.rc == 0 and locked and final == expected and again is not None and again.rc == 0
          and after == expected)
    state_note = "state %s" % ("correct" if final == expected and after == expected else "WRONG")
    table.add("concurrency: two identical runs", "rc %s/%s" % tuple(job.rc for job in jobs),
              "one writes, one locked out", ok,
              "%s; the refused run again: rc %s" % (state_note, again.rc if again is not None else "-")
              if locked else "; ".join(str(e)[:120] for e in errors if e) or state_note)


# ---- the pytest-proven rows ------------------------------------------------------------------------
def pytest_rows(table, work_dir):
    for name, path in PYTEST_FILES.items():
        if not os.path.exists(os.path.join(harness.CHECKOUT, path)):
            table.add("%s cases" % name, 0, "all pass", False, "%s is missing" % path)
            continue
        junit = os.path.join(work_dir, name.replace(" ", "_") + ".xml")
        completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path,
                                    "--junitxml", junit], cwd=harness.CHECKOUT, capture_output=True, text=True,
                                   check=False, timeout=1800)
        passed, failed = junit_counts(junit)
        note = "" if completed.returncode == 0 else completed.stdout[-300:].replace("\n", " ")
        if name == "bad input":
            table.add("bad inputs refused cleanly", "%d/%d" % (passed, passed + failed), ">= 40, all",
                      failed == 0 and passed >= 40 and completed.returncode == 0, note)
        elif name == "secrets":
            table.add("secrets found (leak checks passed)", "0" if failed == 0 else "%d checks failed" % failed,
                      "0", failed == 0 and passed > 0 and completed.returncode == 0, "%d checks" % passed)
        elif name == "soql audit":
            table.add("SOQL interpolations escaped or reviewed", "%d/%d" % (passed, passed + failed), "all",
                      failed == 0 and passed > 0 and completed.returncode == 0, note)
        else:
            table.add("TLS checks", "%d/%d" % (passed, passed + failed), "all", failed == 0 and passed > 0
                      and completed.returncode == 0, note)


def junit_counts(path):
    if not os.path.exists(path):
        return 0, 1
    root = ElementTree.parse(path).getroot()
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is None:
            passed += 1
    return passed, failed


# ---- issue 13: trust nothing on disk or on the wire ----------------------------------------------------
UNIT = "tests/unit/plugins/module_utils/"
# Each forged-file case: a plan, record or backup edited, unsigned, signed with another key, moved to another
# org or plan, outside its run, or bound to another org/user, refused (unit tests of the file layer and of
# the modules that read the files).
FORGED_FILE_TESTS = [
    UNIT + "test_run_files.py::test_tampered_documents_are_refused_naming_the_file",
    UNIT + "test_run_files.py::test_another_key_and_another_purpose_are_refused",
    UNIT + "test_run_files.py::test_a_recomputed_sha256_does_not_make_an_edit_valid",
    UNIT + "test_run_files.py::test_records_not_signed_for_their_place_are_left_out_and_reported",
    UNIT + "test_run_files.py::test_a_corrupt_record_names_its_file",
    UNIT + "test_backup.py::test_an_edited_or_unsigned_backup_is_refused_with_a_key",
    UNIT + "test_backup.py::test_a_backup_outside_the_run_is_refused",
    UNIT + "test_backup.py::test_binding_problems_org_and_user_ids",
    UNIT + "test_trust.py::test_a_signed_backup_edited_to_grant_system_administrator_is_refused",
    UNIT + "test_trust.py::test_an_unsigned_backup_is_refused_when_a_key_is_given",
    UNIT + "test_trust.py::test_an_unsigned_backup_not_bound_to_this_org_and_user_is_refused",
    UNIT + "test_trust.py::test_a_hand_written_verification_record_does_not_open_the_gate",
    UNIT + "test_trust.py::test_without_a_key_the_production_gate_refuses",
    UNIT + "test_trust.py::test_a_plan_edited_with_its_sha256_recomputed_is_refused",
    UNIT + "test_trust.py::test_a_plan_signed_with_another_key_is_refused",
    UNIT + "test_trust.py::test_records_written_by_the_module_are_signed_and_accepted",
    # A genuine backup of a user someone changed since its run: the restore is refused unless forced.
    UNIT + "impl/test_sf_integration_user.py::test_restore_refuses_a_user_changed_since_the_run_unless_forced",
]
RESENT_TESTS = [UNIT + "test_client.py::test_a_composite_is_not_re_sent_after_the_connection_broke",
                UNIT + "test_client.py::test_a_create_is_not_re_sent_after_the_connection_broke"]
NAME_TESTS = [UNIT + "test_trust.py::test_usernames_that_read_alike_get_their_own_permission_sets",
              UNIT + "test_trust.py::test_permission_set_name_ends_with_the_user_id_and_stays_valid",
              # A set made for one user is never reused for another, whatever its name.
              UNIT + "impl/test_sf_permission_set.py::"
                     "test_a_dedicated_set_refuses_other_assignees_another_users_description_and_an_unknown_user"]
RUNS_DIR_TESTS = [UNIT + "test_run_files.py::test_every_created_directory_is_0700_whatever_the_umask",
                  UNIT + "test_run_files.py::test_a_group_or_world_writable_component_is_refused",
                  UNIT + "test_run_files.py::test_a_component_owned_by_another_user_is_refused",
                  UNIT + "test_run_files.py::test_a_symlink_into_an_unsafe_directory_is_refused",
                  UNIT + "test_backup.py::test_backup_parents_are_0700_whatever_the_umask"]
TRUST_INTEGRATION = ["tests/integration/test_secrets.py::test_secrets_with_control_or_whitespace_characters_are_refused_unseen",
                     "tests/integration/test_transport.py", "tests/integration/test_run_lock.py"]


def _pytest(work_dir, name, targets, env=None):
    junit = os.path.join(work_dir, name + ".xml")
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + list(targets)
                               + ["--junitxml", junit], cwd=harness.CHECKOUT, capture_output=True, text=True,
                               check=False, timeout=1800, env=dict(os.environ, **(env or {})))
    passed, failed = junit_counts(junit)
    return passed, failed, completed


def trust_rows(table, work_dir):
    os.makedirs(work_dir, mode=0o700, exist_ok=True)
    figures_file = os.path.join(work_dir, "figures.jsonl")
    passed, failed, done = _pytest(work_dir, "trust_integration", TRUST_INTEGRATION,
                                   {"SFOPS_FIGURES_FILE": figures_file})
    rows = []
    if os.path.exists(figures_file):
        with open(figures_file, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    note = "" if done.returncode == 0 else done.stdout[-300:].replace("\n", " ")

    def measured(row):
        return [r for r in rows if r["row"] == row]

    secrets = measured("secrets with control characters")
    tried, leaked = sum(r["tried"] for r in secrets), sum(r["leaked"] for r in secrets)
    table.add("secrets with control chars: tried/leaked", "%d/%d" % (tried, leaked), ">= 30 tried, 0 leaked",
              tried >= 30 and leaked == 0 and len(secrets) == 2, note if len(secrets) != 2 else
              "newline, CRLF, space, tab on every secret option; default and -vvvv")
    redirects = measured("redirects and foreign instance URLs refused")
    tried = sum(r["tried"] for r in redirects)
    refused = sum(r["refused"] for r in redirects)
    table.add("redirects/foreign instance URLs refused", "%d/%d" % (refused, tried), "all, >= 20",
              bool(redirects) and tried >= 20 and refused == tried, note if not redirects else "")
    lock = measured("lock contention")
    table.add("lock contention: second run refused", "yes" if lock and lock[0]["second_run_refused"] else "no",
              "refused, stale taken over", bool(lock) and lock[0]["stale_taken_over"], note if not lock else "")
    runs = measured("runs-dir permissions")
    unit_passed, unit_failed, unit_done = _pytest(work_dir, "runs_dir", RUNS_DIR_TESTS)
    table.add("runs-dir permissions (0700, unsafe refused)", "%d/%d" % (unit_passed + len(runs),
                                                                        unit_passed + unit_failed + 1),
              "all", bool(runs) and unit_failed == 0 and unit_passed > 0, "" if unit_done.returncode == 0
              else unit_done.stdout[-300:].replace("\n", " "))
    forged_passed, forged_failed, forged_done = _pytest(work_dir, "forged", FORGED_FILE_TESTS)
    table.add("forged files refused", "%d/%d" % (forged_passed, forged_passed + forged_failed), "all",
              forged_failed == 0 and forged_passed >= len(FORGED_FILE_TESTS), "" if forged_done.returncode == 0
              else forged_done.stdout[-300:].replace("\n", " "))
    resent_passed, resent_failed, _done = _pytest(work_dir, "resent", RESENT_TESTS)
    table.add("writes re-sent after a broken connection", resent_failed, "0",
              resent_failed == 0 and resent_passed == len(RESENT_TESTS), "%d cases" % resent_passed)
    names_passed, names_failed, _done = _pytest(work_dir, "names", NAME_TESTS)
    table.add("permission set names colliding", names_failed, "0", names_failed == 0 and names_passed == len(NAME_TESTS),
              "svc.sync@/svc_sync@ and long names")
    del passed, failed


SCENARIOS = ("faults", "crashes", "allocation", "concurrency", "pytest", "trust")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--full", action="store_true", help="full size: generated 30-org estate, 10 crash trials")
    parser.add_argument("--work-dir", default=os.path.join(harness.CHECKOUT, "tests", "output", "reliability"))
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these scenarios")
    args = parser.parse_args(argv)
    work = os.path.abspath(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, mode=0o700)
    chosen = args.only or SCENARIOS
    table = Table()
    started = time.monotonic()
    print("Reliability and security figures (%s size, seed %d); work files in %s"
          % ("full" if args.full else "CI", args.seed, work), flush=True)

    def timed(name, function, *args, **kwargs):
        begun = time.monotonic()
        function(*args, **kwargs)
        print("    (%s took %.1f min)" % (name, (time.monotonic() - begun) / 60), flush=True)

    if "faults" in chosen:
        timed("faults, demo estate", faults, table, DEMO_ESTATE, "demo estate", os.path.join(work, "faults-demo"))
        if args.full:
            estate = harness.generate_estate(os.path.join(work, "generated.yml"), orgs=15, users=12, seed=args.seed)
            timed("faults, generated estate", faults, table, estate, "generated 30 orgs",
                  os.path.join(work, "faults-generated"))
    if "crashes" in chosen:
        timed("crashes", crashes, table, 10 if args.full else 3, args.seed, os.path.join(work, "crashes"),
              strict_steps=args.full)
        if args.full:
            timed("process-group crashes", crashes, table, 5, args.seed, os.path.join(work, "crashes-group"),
                  whole_group=True, strict_steps=False)
    if "allocation" in chosen:
        timed("allocation", allocation, table, os.path.join(work, "allocation"))
    if "concurrency" in chosen:
        timed("concurrency", concurrency, table, os.path.join(work, "concurrency"))
    if "pytest" in chosen:
        timed("pytest rows", pytest_rows, table, work)
    if "trust" in chosen:
        timed("trust rows", trust_rows, table, os.path.join(work, "trust"))
    print("\n" + table.render())
    print("\n%s in %.1f min" % ("All rows met" if table.all_met else "SOME ROWS NOT MET",
                                (time.monotonic() - started) / 60))
    return 0 if table.all_met else 1


if __name__ == "__main__":
    sys.exit(main())
