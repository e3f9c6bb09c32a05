# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run across the step playbooks: sf_migration_report operation=start (the inventory starts a run, the
later steps continue it, a rollback continues the run it undoes) and operation=write (each step's org
results join the run's report, signed; the same saving at every step)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_report
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute

KEY = "unit-test-signing-key-0123456789abcdef-0123"
INTEGRATION = {"user_license": {"total": 5, "used": 0, "free": 5}, "psl": {"free": 5}}
PLAN = {"seats": {"integration_free": 2, "integration_total": 5, "integration_used": 3, "psl_free": 2, "available": 2},
        "path": "/somewhere/runs/plans/p.json", "checksum": "sha256:abc",
        "target_profile": {"name": "Minimum Access - API Only Integrations"},
        "entries": [{"username": "svc.%s@x" % n, "status": "move" if n in "ab" else "wait", "reasons": [],
                     "profile": "Integration", "license": "Salesforce"} for n in "abc"]}


def params(runs, **given):
    values = dict((name, option.get("default")) for name, option in sf_migration_report.ARGUMENT_SPEC.items())
    values.update(runs_dir=str(runs), **given)
    return values


def start(runs, step, check_mode=False, **given):
    result, task = execute(sf_migration_report.SPEC, params(runs, operation="start", step=step, **given),
                           check_mode=check_mode)
    assert not result.get("failed"), result
    return result, task


def test_the_inventory_starts_a_run_and_the_later_steps_continue_it(tmp_path):
    runs = tmp_path / "runs"
    first, _task = start(runs, "plan", signing_key=KEY)
    assert first["source"] == "new" and not first["changed"]
    pointer = json.loads((runs / "current_run.json").read_text())
    assert pointer["run_id"] == first["run_id"] and pointer["signature"]["purpose"] == "current-run"
    for step in ("migrate", "verify", "rollout"):
        later, _task = start(runs, step, signing_key=KEY)
        assert (later["run_id"], later["source"]) == (first["run_id"], "continued"), step
        assert "started" in later["msg"] and "plan step" in later["msg"]
    # A rollback is a step of the run it undoes; a given id wins over everything.
    assert start(runs, "rollback", rollback_run_id="week-49", signing_key=KEY)[0]["run_id"] == "week-49"
    assert start(runs, "migrate", run_id="given-1", signing_key=KEY)[0]["run_id"] == "given-1"
    # The next inventory starts the next run (or the one it is given).
    assert start(runs, "inventory", run_id="week-50", signing_key=KEY)[0]["run_id"] == "week-50"
    assert start(runs, "rollout", signing_key=KEY)[0]["run_id"] == "week-50"


def test_a_current_run_file_that_cannot_be_trusted_is_not_followed(tmp_path):
    runs = tmp_path / "runs"
    start(runs, "plan", run_id="week-49", signing_key=KEY)
    path = runs / "current_run.json"
    pointer = json.loads(path.read_text())
    # Edited to send the next steps' reports and backups into another run's directory.
    path.write_text(json.dumps(dict(pointer, run_id="other-run")))
    later, task = start(runs, "rollout", signing_key=KEY)
    assert later["source"] == "new" and later["run_id"] != "other-run"
    assert any("edited after it was signed" in w and "starts a new run" in w for w in task.warnings), task.warnings
    # Signed with another key, or naming no valid run id.
    path.write_text(json.dumps(run_files.sign(dict(pointer), run_files.signing_key("another-key-" + "x" * 32),
                                              run_files.CURRENT_RUN_PURPOSE)))
    assert start(runs, "verify", signing_key=KEY)[0]["source"] == "new"
    path.write_text(json.dumps(run_files.sign(dict(pointer, run_id="../../etc"), run_files.signing_key(KEY),
                                              run_files.CURRENT_RUN_PURPOSE)))
    later, task = start(runs, "verify", signing_key=KEY)
    assert later["source"] == "new" and any("no valid run id" in w for w in task.warnings)
    path.write_text("{not json")
    assert start(runs, "verify", signing_key=KEY)[0]["source"] == "new"


def test_check_mode_starts_no_run(tmp_path):
    runs = tmp_path / "runs"
    result, _task = start(runs, "plan", check_mode=True, signing_key=KEY)
    assert result["source"] == "new" and not runs.exists()


@pytest.mark.parametrize("bad", ["../x", "a/b", ".hidden", "x" * 81, "a b"])
def test_a_run_id_that_is_no_directory_name_is_refused(tmp_path, bad):
    result, _task = execute(sf_migration_report.SPEC, params(tmp_path, operation="start", step="plan", run_id=bad))
    assert result["failed"] and "is not a run id" in result["msg"] and "Traceback" not in result["msg"]


def production(**sections):
    result = {"org": "p", "org_type": "production", "production_org": None, "error": None,
              "inventory": {"integration": INTEGRATION, "salesforce_seats": {"used": 3},
                            "users": [{"username": "svc.%s@x" % n, "candidate": True, "license": "Salesforce",
                                       "profile": {"name": "Integration"}} for n in "abcd"], "findings": []},
              "plan": PLAN}
    result.update(sections)
    return result


def write(runs, step, orgs, check_mode=False, **given):
    result, task = execute(sf_migration_report.SPEC, params(runs, run_id="run-1", step=step, orgs=orgs,
                                                            signing_key=KEY, **given), check_mode=check_mode)
    assert not result.get("failed"), result
    return result, task


def test_separate_steps_make_one_report_with_each_step_and_one_saving(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    runs = tmp_path / "runs"
    inventory, _task = write(runs, "plan", [production()])
    moved = {"users": [{"username": "svc.a@x", "changed": True, "after": {"profile": {
        "name": "Minimum Access - API Only Integrations", "license": "Salesforce Integration"}}}]}
    # The rollout step's playbook knows only what it did: its sections, not the inventory's.
    rollout_only = {"org": "p", "org_type": "production", "production_org": None, "error": None, "plan": PLAN,
                    "migrate": moved, "rollout": {"gate": {"missing": [{"username": "svc.b@x", "reason": "not verified"}]},
                                                  "batches": []}}
    rollout, _task = write(runs, "rollout", [rollout_only])
    doc = rollout["report"]
    assert [s["step"] for s in doc["steps"]] == ["plan", "rollout"]
    org = doc["orgs"][0]
    assert org["entry_points"] == ["inventory", "plan", "migrate", "rollout"]
    statuses = dict((u["username"], u["status"]) for u in org["users"])
    assert statuses == {"svc.a@x": "moved", "svc.b@x": "gated", "svc.c@x": "wait", "svc.d@x": "candidate"}
    # The potential saving is the plan's at every step: 3 users to move into 2 free seats.
    for report in (inventory["report"], doc):
        assert report["orgs"][0]["potential_monthly_saving"] == 3 * 165 - 10
    assert org["monthly_saving"] == 165 and doc["totals"]["annual_saving"] == 12 * 165
    # The report says where the plan is without the operator's local directories.
    assert org["plan_file"] == "plans/p.json" and doc["provenance"]["runs_dir"] == "~/runs"
    assert str(tmp_path) not in json.dumps(doc)


def test_the_orgs_error_is_its_latest_steps_and_the_report_keeps_each_steps(tmp_path, ticking):
    runs = tmp_path / "runs"
    write(runs, "plan", [production()])
    failed = write(runs, "verify", [production(error="verify failed: not moved yet", error_step="verify")])[0]
    assert failed["report"]["orgs"][0]["error"] == "verify failed: not moved yet"
    again = write(runs, "rollout", [production(error="production gate refused svc.b@x: not verified",
                                               rollout={"gate": {}, "batches": []})])[0]
    org = again["report"]["orgs"][0]
    assert org["error"] == "production gate refused svc.b@x: not verified"
    assert org["step_errors"] == {"verify": "verify failed: not moved yet",
                                  "rollout": "production gate refused svc.b@x: not verified"}
    # The same step run again replaces its own error.
    rollout = {"gate": {"missing": []}, "batches": []}
    assert write(runs, "rollout", [production(rollout=rollout)])[0]["report"]["orgs"][0]["error"] is None
    assert [(s["step"], s["failed"]) for s in write(runs, "rollout", [production(rollout=rollout)])[0]["report"]["steps"]] == [
        ("plan", 0), ("verify", 1), ("rollout", 0)]


def test_a_rerun_rollout_keeps_the_users_the_run_moved_as_moved(tmp_path):
    runs = tmp_path / "runs"
    after = {"profile": {"name": "Minimum Access - API Only Integrations", "license": "Salesforce Integration"}}
    rollout = {"gate": {"missing": []}, "batches": []}
    write(runs, "plan", [production()])
    first = write(runs, "rollout", [production(rollout=rollout, migrate={"users": [
        {"username": "svc.a@x", "changed": True, "after": after}]})])[0]["report"]
    # The rerun finds svc.a already moved and moves svc.b.
    rerun = write(runs, "rollout", [production(rollout=rollout, migrate={"users": [
        {"username": "svc.a@x", "changed": False, "after": after},
        {"username": "svc.b@x", "changed": True, "after": after}]})])[0]["report"]
    assert first["orgs"][0]["monthly_saving"] == 165
    statuses = dict((u["username"], u["status"]) for u in rerun["orgs"][0]["users"])
    assert (statuses["svc.a@x"], statuses["svc.b@x"]) == ("moved", "moved")
    assert rerun["orgs"][0]["monthly_saving"] == 330


def test_a_step_an_org_took_no_part_in_is_not_its_step(tmp_path):
    """site.yml hands the production org's result (and its error) to the sandbox step too."""
    runs = tmp_path / "runs"
    write(runs, "plan", [production(error="plan failed: x", error_step="plan")])
    doc = write(runs, "migrate", [production(error="plan failed: x", error_step="plan")])[0]["report"]
    assert list(doc["orgs"][0]["steps"]) == ["plan"] and [s["step"] for s in doc["steps"]] == ["plan"]
    # A failure of its own in that step is recorded, though the step wrote no section.
    doc = write(runs, "migrate", [production(error="migrate failed: lock held", error_step="migrate")])[0]["report"]
    assert doc["orgs"][0]["step_errors"]["migrate"] == "migrate failed: lock held"


def test_kept_org_results_are_signed_and_an_edited_one_is_left_out(tmp_path):
    runs = tmp_path / "runs"
    write(runs, "plan", [production()])
    path = runs / "run-1" / "orgs" / "p.json"
    kept = json.loads(path.read_text())
    assert kept["signature"]["purpose"] == "org-result:run-1:p"
    kept["inventory"]["users"].append({"username": "forged@x", "candidate": True})
    path.write_text(json.dumps(kept))
    result, task = write(runs, "rollout", [], merge_runs=[])
    assert result["report"]["orgs"] == []
    assert any("left out of the report" in w and "edited" in w for w in task.warnings), task.warnings
    # Copied in as another org's file: refused too.
    write(runs, "plan", [production()])
    os.rename(str(path), str(runs / "run-1" / "orgs" / "q.json"))
    result, task = write(runs, "rollout", [])
    assert result["report"]["orgs"] == [] and any("not this file name" in w for w in task.warnings)


def test_an_unchanged_step_rewrites_nothing(tmp_path, ticking):
    # A second later, as a rerun is: the times of the report (when written, when the run started) are not news.
    runs = tmp_path / "runs"
    first = write(runs, "plan", [production()])[0]
    assert first["changed"]
    assert not write(runs, "plan", [production()])[0]["changed"]


AFTER = {"profile": {"name": "Minimum Access - API Only Integrations", "license": "Salesforce Integration"}}
ROLLOUT = {"gate": {"missing": []}, "batches": []}


def moved(*names, dry_run=False):
    return {"dry_run": dry_run, "users": [{"username": n, "changed": c, "after": AFTER} for n, c in names]}


def test_users_moved_again_after_a_rollback_are_moved(tmp_path, ticking):
    runs = tmp_path / "runs"
    write(runs, "plan", [production()])
    write(runs, "rollout", [production(rollout=ROLLOUT, migrate=moved(("svc.a@x", True)))])
    undone = write(runs, "rollback", [production(rollback={"run_id": "run-1", "usernames": ["svc.a@x"]})])[0]
    assert undone["report"]["orgs"][0]["monthly_saving"] == 0
    # A new rollout in the same run moves svc.a again: moved, its saving counted once.
    again = write(runs, "rollout", [production(rollout=ROLLOUT, migrate=moved(("svc.a@x", True)))])[0]["report"]
    row = next(u for u in again["orgs"][0]["users"] if u["username"] == "svc.a@x")
    assert row["status"] == "moved" and again["orgs"][0]["monthly_saving"] == 165
    # A rollout after the rollback that moves nobody leaves svc.a restored.
    write(runs, "rollback", [production(rollback={"run_id": "run-1", "usernames": ["svc.a@x"]})])
    idle = write(runs, "rollout", [production(rollout=ROLLOUT, migrate=moved(("svc.a@x", False)))])[0]["report"]
    assert next(u for u in idle["orgs"][0]["users"] if u["username"] == "svc.a@x")["status"] != "moved"
    assert idle["orgs"][0]["monthly_saving"] == 0


def test_a_dry_run_after_a_real_rollout_keeps_what_the_run_moved(tmp_path):
    runs = tmp_path / "runs"
    write(runs, "plan", [production()])
    write(runs, "rollout", [production(rollout=ROLLOUT, migrate=moved(("svc.a@x", True)))])
    dry_section = moved(("svc.a@x", False), ("svc.b@x", True), dry_run=True)
    dry = write(runs, "rollout", [production(rollout=ROLLOUT, migrate=dry_section)], check_mode=True)[0]
    org = dry["report"]["orgs"][0]
    statuses = dict((u["username"], u["status"]) for u in org["users"])
    assert (statuses["svc.a@x"], statuses["svc.b@x"]) == ("moved", "would_move")
    assert org["monthly_saving"] == 165 and org["projected_monthly_saving"] == 330


@pytest.fixture
def ticking(monkeypatch):
    """A clock a second further at each step, as separate playbook runs are (ties would hide the order)."""
    seconds = iter(range(10, 60))
    monkeypatch.setattr(sf_migration_report, "_now", lambda: "2026-12-03T10:00:%02dZ" % next(seconds))


def test_the_same_failure_again_is_the_orgs_error(tmp_path, ticking):
    runs = tmp_path / "runs"
    write(runs, "plan", [production()])
    failure = dict(error="rollout failed: lock held by another run", error_step="rollout")
    write(runs, "rollout", [production(**failure)])
    write(runs, "verify", [production(verify={"users": []})])
    again = write(runs, "rollout", [production(**failure)])[0]["report"]["orgs"][0]
    assert again["status"] == "failed" and again["error"] == failure["error"]


def test_a_merged_reports_rollback_names_the_runs_with_backups(tmp_path):
    runs = tmp_path / "runs"
    for run_id in ("awx-job-1", "awx-job-2"):
        execute(sf_migration_report.SPEC, params(runs, run_id=run_id, step="plan", orgs=[production()]))
    (runs / "awx-job-2" / "backups" / "p").mkdir(parents=True)
    merged, _task = execute(sf_migration_report.SPEC, params(runs, run_id="estate", merge_runs=["awx-job-1", "awx-job-2"]))
    command = merged["report"]["rollback_command"]
    assert command.endswith("-e license_migration_rollback_run_id=awx-job-2") and "estate" not in command
    assert all("license_migration_run_id" not in (a["command"] or "") for a in merged["report"]["next_actions"])
    refused, _task = execute(sf_migration_report.SPEC, params(runs, run_id="estate", merge_runs=["../awx-job-1"]))
    assert refused["failed"] and "is not a run id" in refused["msg"]


@pytest.mark.parametrize("edit", [
    lambda kept: kept.update(steps={"deploy": {"at": "x"}}),
    lambda kept: kept.update(steps={"plan": "done"}),
    lambda kept: kept.update(org=None),
    lambda kept: kept["plan"]["entries"].append({"username": "svc.x@x"}),
    lambda kept: kept["inventory"].update(findings=["not a finding"]),
    lambda kept: kept.update(seats_before="5/5"),
])
def test_a_kept_result_of_another_shape_is_left_out_without_a_traceback(tmp_path, edit):
    runs = tmp_path / "runs"
    execute(sf_migration_report.SPEC, params(runs, run_id="run-1", step="plan", orgs=[production()]))
    path = runs / "run-1" / "orgs" / "p.json"
    kept = json.loads(path.read_text())
    edit(kept)
    path.write_text(json.dumps(kept))
    result, task = execute(sf_migration_report.SPEC, params(runs, run_id="run-1", step="rollout", orgs=[]))
    assert not result.get("failed"), result
    assert result["report"]["orgs"] == [] and any("left out of the report" in w for w in task.warnings)


def test_a_given_result_of_another_shape_fails_with_a_message():
    broken = production()
    broken["plan"] = dict(PLAN, entries=[{"username": "svc.x@x"}])
    result, _task = execute(sf_migration_report.SPEC, params("/nonexistent-runs", run_id="r", step="plan", orgs=[broken]),
                            check_mode=True)
    assert result["failed"] and "the result of org p is not what the license_migration role writes" in result["msg"]
    assert "Traceback" not in result["msg"]


def test_run_ids_that_file_names_would_change_are_refused(tmp_path):
    for bad in ("abc_", "abc.", "a" * 81):
        result, _task = execute(sf_migration_report.SPEC, params(tmp_path, operation="start", step="plan", run_id=bad))
        assert result["failed"], bad


def test_an_unsigned_current_run_file_is_followed_with_a_warning(tmp_path):
    runs = tmp_path / "runs"
    start(runs, "plan", run_id="week-49")
    later, task = start(runs, "rollout")
    assert later["run_id"] == "week-49" and any("followed unauthenticated" in w for w in task.warnings)


def test_home_and_working_directory_paths_are_not_in_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "home").mkdir()
    failing = production(error="plan failed: cannot read %s/inventory/x.yml and %s/keys/k.pem"
                               % (tmp_path / "home", tmp_path), error_step="plan")
    result, _task = execute(sf_migration_report.SPEC, params(tmp_path / "runs", run_id="r", step="plan", orgs=[failing],
                                                             inventory=[str(tmp_path / "my inventory.yml")]))
    text = json.dumps(result["report"])
    assert str(tmp_path) not in text and "cannot read ~/inventory/x.yml and ./keys/k.pem" in text
    assert "-i 'my inventory.yml'" in result["report"]["rollback_command"]
