# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license_migration role through its playbooks, on the emulator's example estate (acme-prod and its
sandbox acme-uat), asserting the end state through the emulator's admin API.

In the example estate svc.etl is a clean candidate; svc.mulesoft is a candidate blocked by Apex, a flow, a
validation rule and a custom setting that test its profile name (unless those findings are accepted);
jane.doe is a human (UI logins) and admin@ is the connecting user.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import stat
import subprocess

import pytest
import yaml

from conftest import ANSIBLE_PLAYBOOK, CHECKOUT, COLLECTIONS_ROOT, EMULATOR_FIXTURES, HERE

PLAYBOOKS = os.path.join(CHECKOUT, "playbooks")
# RECORD_TYPE_VISIBILITY: the manual step (record types on the permission set) acknowledged.
ACCEPT_MULESOFT = ["PROFILE_NAME_REFERENCE", "CUSTOM_SETTING_PROFILE_ROW", "RECORD_TYPE_VISIBILITY"]
SIGNING_KEY = "pipeline-test-signing-key-0123456789abcdef"


def role_inventory(emulator, runs_dir, host_vars=None, **extra_vars):
    """Each org a host, connected by JWT as its admin; probes log in by JWT as each migrated user.
    ``host_vars(name, org)``: more variables of that org's host."""
    ready = emulator.ready
    hosts = {}
    for name, org in ready["orgs"].items():
        admin = org["admin"]
        connection = {"auth": "jwt", "login_url": org["login_url"], "audience": org["audience"],
                      "client_id": admin["client_id"], "private_key_file": admin["private_key_file"],
                      "ca_path": ready["ca_file"]}
        host = {"ansible_connection": "local", "ansible_python_interpreter": os.path.join(os.path.dirname(ANSIBLE_PLAYBOOK), "python"),
                "salesforce_connection": dict(connection, username=admin["username"]),
                "license_migration_probe_connection": connection,
                "license_migration_org_type": "sandbox" if org["is_sandbox"] else "production"}
        if org["is_sandbox"]:
            host.update(license_migration_production_org="acme-prod", license_migration_sandbox_name="uat")
        host.update(host_vars(name, org) if host_vars else {})
        hosts[name] = host
    # Plans, records and backups are signed: without a key the migrate and rollout phases refuse.
    group_vars = dict({"license_migration_runs_dir": str(runs_dir), "license_migration_signing_key": SIGNING_KEY},
                      **extra_vars)
    return {"all": {"vars": group_vars, "children": {"salesforce_orgs": {"hosts": hosts}}}}


class Runner:
    def __init__(self, emulator, tmp_path, host_vars=None):
        self.emulator = emulator
        self.host_vars = host_vars
        self.tmp_path = tmp_path
        self.runs_dir = tmp_path / "runs"
        self.count = 0

    def __call__(self, playbook, check=False, diff=False, **extra_vars):
        self.count += 1
        work = self.tmp_path / ("run-%d" % self.count)
        work.mkdir()
        inventory = work / "inventory.yml"
        inventory.write_text(yaml.safe_dump(role_inventory(self.emulator, self.runs_dir, self.host_vars)))
        results = work / "results.jsonl"
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
        env.update({"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_ROOT.ensure_collections_root(),
                    "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "plugins", "callback"),
                    "ANSIBLE_CALLBACKS_ENABLED": "record_results", "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_RETRY_FILES_ENABLED": "0", "SFOPS_RESULTS_FILE": str(results)})
        # A playbook of the checkout, or one of the installed collection by name (as the report's commands say).
        command = [ANSIBLE_PLAYBOOK, "-i", str(inventory),
                   os.path.join(PLAYBOOKS, playbook) if playbook.endswith(".yml") else playbook]
        if extra_vars:
            extra = work / "extra.json"
            extra.write_text(json.dumps(extra_vars))
            command += ["-e", "@" + str(extra)]
        command += (["--check"] if check else []) + (["--diff"] if diff else [])
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=str(work),
                              check=False)
        done.output = done.stdout + done.stderr
        (work / "output.txt").write_text(done.output)      # the whole output, for a failure's post-mortem
        done.results = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
        return done


@pytest.fixture
def run(fresh_emulator, tmp_path):
    return Runner(fresh_emulator, tmp_path)


def users_of(emulator, org):
    """Username -> what the migration touches (profile, license, active, permission sets and PSLs)."""
    answer = emulator.admin("GET", "orgs/%s/state" % org)
    assert answer.status_code == 200, answer.text
    return dict((u["Username"], {"profile": u["Profile"], "license": u["UserLicense"], "active": u["IsActive"],
                                 "permission_sets": sorted(u["PermissionSets"]),
                                 "psls": sorted(u["PermissionSetLicenses"])})
                for u in answer.json()["users"])


def recap(output):
    """host -> {ok, changed, failed...} from the PLAY RECAP."""
    found = {}
    for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        found[host] = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", counters))
    return found


def report_of(runner, run_id=None):
    # Run directories are those with a report (plans/, records/, locks/ are not runs).
    runs = [d for d in os.listdir(runner.runs_dir) if (runner.runs_dir / d / "report.json").exists()] \
        if runner.runs_dir.exists() else []
    run_id = run_id or sorted(runs)[-1]
    with open(runner.runs_dir / run_id / "report.json") as handle:
        return run_id, json.load(handle)


def user_row(report, org, username):
    org_report = next(o for o in report["orgs"] if o["org"] == org)
    return next(u for u in org_report["users"] if u["username"] == username)


def test_check_mode_writes_nothing_anywhere(run):
    before = {org: users_of(run.emulator, org) for org in ("acme-prod", "acme-uat")}
    # With the code findings accepted, svc.mulesoft needs a permission set that only a real run creates.
    done = run("site.yml", check=True, diff=True, license_migration_accepted_findings=ACCEPT_MULESOFT)
    assert done.returncode == 0, done.output[-4000:]
    assert not run.runs_dir.exists(), "check mode wrote %s" % os.listdir(run.runs_dir)
    assert "check mode, no report written" in done.output
    # The plan computed in check mode is carried in memory to the sandbox step, which reports what it would move.
    # Seats after the moves are projected, and the dry run says what only a real run can show.
    assert ("acme-uat (sandbox): integration seats free 5/5 -> 3/5 (projected); 2 candidate(s); 2 would move (check "
            "mode: only a real run shows what the org refuses)") in done.output
    # No sandbox was really verified, so production reports its gate without failing the dry run.
    assert ("acme-prod (production): integration seats free 5/5 -> 5/5 (projected); 2 candidate(s); 2 refused by "
            "the gate") in done.output
    assert {org: users_of(run.emulator, org) for org in before} == before


def org_of(report, org):
    return next(o for o in report["orgs"] if o["org"] == org)


def test_step_playbooks_make_one_run_one_report_and_one_saving(run):
    """Inventory, sandbox migration, verification and rollout as separate playbooks (no run id given): one
    run directory, whose report has every step and the same potential saving at each; the report's rollback
    command then undoes the run within the same report."""
    potentials = []
    for playbook, extra in (("inventory.yml", {}), ("migrate_sandbox.yml", {}),
                            ("verify.yml", {"license_migration_target": "acme-uat"}), ("rollout_production.yml", {})):
        done = run(playbook, **extra)
        assert done.returncode == 0, (playbook, done.output[-3000:])
        runs = [d for d in os.listdir(run.runs_dir) if (run.runs_dir / d / "report.json").exists()]
        assert len(runs) == 1, (playbook, runs)
        run_id, report = report_of(run, runs[0])
        potentials.append(org_of(report, "acme-prod")["potential_monthly_saving"])
        if playbook != "inventory.yml":
            assert "step of run %s, started" % run_id in done.output, done.output[-3000:]
    assert [s["step"] for s in report["steps"]] == ["plan", "migrate", "verify", "rollout"]
    assert potentials == [potentials[0]] * 4 and potentials[0] == 165, potentials
    prod = org_of(report, "acme-prod")
    assert prod["counts"]["moved"] == 1 and prod["monthly_saving"] == 165
    assert org_of(report, "acme-uat")["counts"]["verified_passed"] == 1
    # The report's own rollback command (the collection's playbook by name, the run's id).
    argv = shlex.split(report["rollback_command"])
    playbook = next(a for a in argv if a.startswith("sfops.integration_users."))
    name, value = argv[argv.index("-e") + 1].split("=", 1)
    done = run(playbook, **{name: value})
    assert done.returncode == 0, done.output[-3000:]
    assert sorted(os.listdir(run.runs_dir)) == sorted(["current_run.json", "locks", "plans", "records", run_id])
    _run_id, report = report_of(run, run_id)
    assert [s["step"] for s in report["steps"]] == ["plan", "migrate", "verify", "rollout", "rollback"]
    prod = org_of(report, "acme-prod")
    assert prod["counts"]["restored"] == 1 and prod["monthly_saving"] == 0 and prod["potential_monthly_saving"] == 165
    etl = users_of(run.emulator, "acme-prod")["svc.etl@acme.example"]
    assert etl["license"] == "Salesforce"


def test_safe_path_moves_verified_users_and_leaves_the_others(run):
    before = {org: users_of(run.emulator, org) for org in ("acme-prod", "acme-uat")}
    done = run("site.yml", license_migration_run_id="run-1")
    assert done.returncode == 0, done.output[-4000:]
    for org, suffix in (("acme-prod", ""), ("acme-uat", ".uat")):
        after = users_of(run.emulator, org)
        etl = after["svc.etl@acme.example" + suffix]
        assert (etl["profile"], etl["license"]) == ("Minimum Access - API Only Integrations", "Salesforce Integration")
        assert etl["psls"] == ["SalesforceAPIIntegrationPsl"]
        for untouched in ("svc.mulesoft@acme.example", "jane.doe@acme.example", "admin@acme.example"):
            assert after[untouched + suffix] == before[org][untouched + suffix], untouched
    run_id, report = report_of(run, "run-1")
    prod = next(o for o in report["orgs"] if o["org"] == "acme-prod")
    assert prod["counts"]["moved"] == 1 and prod["counts"]["blocked"] == 1
    assert prod["seats_before"]["integration_free"] == 5 and prod["seats_after"]["integration_free"] == 4
    assert prod["monthly_saving"] == 165 and report["totals"]["monthly_saving"] == 165
    mulesoft = user_row(report, "acme-prod", "svc.mulesoft@acme.example")
    assert mulesoft["status"] == "blocked"
    assert any("PROFILE_NAME_REFERENCE" in reason for reason in mulesoft["reasons"])
    assert user_row(report, "acme-uat", "svc.etl@acme.example.uat")["verification"] == "passed"
    assert user_row(report, "acme-prod", "jane.doe@acme.example")["status"] == "not_candidate"
    assert "acme-prod (production): integration seats free 5/5 -> 4/5" in done.output
    # Owner-only run directory and files; CSV one row per user per org; HTML self-contained with the JSON's figures.
    run_dir = run.runs_dir / run_id
    assert stat.S_IMODE(os.stat(run_dir).st_mode) == 0o700
    for name in ("report.json", "report.csv", "report.html"):
        assert stat.S_IMODE(os.stat(run_dir / name).st_mode) == 0o600
    with open(run_dir / "report.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(len(o["users"]) for o in report["orgs"])
    html = (run_dir / "report.html").read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert 'data-figure="totals.monthly_saving">$165<' in html
    assert 'data-figure="orgs.acme-prod.counts.moved">1<' in html
    # Idempotence: the same migration again changes nothing in any org.
    again = run("migrate_sandbox.yml")
    assert again.returncode == 0, again.output[-4000:]
    assert all(counters["changed"] == 0 for counters in recap(again.output).values()), again.output[-3000:]
    again = run("rollout_production.yml")
    assert again.returncode == 0, again.output[-4000:]
    assert all(counters["changed"] == 0 for counters in recap(again.output).values()), again.output[-3000:]


def test_production_gate_refuses_without_a_sandbox_pass(run):
    assert run("inventory.yml").returncode == 0
    before = users_of(run.emulator, "acme-prod")
    done = run("rollout_production.yml")
    assert done.returncode != 0
    assert "production gate refused svc.etl@acme.example: no sandbox verification recorded for plan sha256:" in done.output
    assert users_of(run.emulator, "acme-prod") == before
    # An explicit override with a reason goes through, and the reason is in the report.
    done = run("rollout_production.yml", license_migration_gate_override_reason="CAB-123 accepted without sandbox")
    assert done.returncode == 0, done.output[-4000:]
    assert users_of(run.emulator, "acme-prod")["svc.etl@acme.example"]["license"] == "Salesforce Integration"
    _run_id, report = report_of(run)
    assert next(o for o in report["orgs"] if o["org"] == "acme-prod")["gate"]["override"] == "CAB-123 accepted without sandbox"


def test_an_edited_plan_is_refused(run):
    assert run("inventory.yml").returncode == 0
    plan_file = run.runs_dir / "plans" / "acme-prod.json"
    plan = json.loads(plan_file.read_text())
    blocked = next(e for e in plan["entries"] if e["status"] == "blocked")
    blocked["status"] = "move"
    plan_file.write_text(json.dumps(plan))
    before = users_of(run.emulator, "acme-uat")
    done = run("migrate_sandbox.yml")
    assert done.returncode != 0
    assert "was changed after it was written" in done.output
    assert users_of(run.emulator, "acme-uat") == before


def test_a_failed_production_verification_rolls_the_batch_back(run):
    assert run("inventory.yml", license_migration_accepted_findings=ACCEPT_MULESOFT).returncode == 0
    assert run("migrate_sandbox.yml").returncode == 0
    before = users_of(run.emulator, "acme-prod")
    # In production only, the probe of svc.etl (the data API's resource list) is refused.
    rule = {"org": "acme-prod", "path_re": r"^/services/data/v[0-9.]+/$", "error": "limit"}
    assert run.emulator.admin("POST", "faults", json=rule).status_code == 201
    done = run("rollout_production.yml", license_migration_batch_size=1)
    assert done.returncode != 0
    assert "batch 1 rolled back and rollout stopped" in done.output
    after = users_of(run.emulator, "acme-prod")
    assert after["svc.etl@acme.example"] == before["svc.etl@acme.example"]
    # The second batch (svc.mulesoft) never started.
    assert after["svc.mulesoft@acme.example"] == before["svc.mulesoft@acme.example"]
    _run_id, report = report_of(run)
    assert user_row(report, "acme-prod", "svc.etl@acme.example")["status"] == "rolled_back"
    assert user_row(report, "acme-prod", "svc.mulesoft@acme.example")["status"] == "not_started"


def test_rollback_restores_every_user_exactly(run):
    before = {org: users_of(run.emulator, org) for org in ("acme-prod", "acme-uat")}
    done = run("site.yml", license_migration_run_id="moves", license_migration_accepted_findings=ACCEPT_MULESOFT)
    assert done.returncode == 0, done.output[-4000:]
    moved = users_of(run.emulator, "acme-prod")
    assert moved["svc.mulesoft@acme.example"]["license"] == "Salesforce Integration"
    # The set's name ends with the user's Id (collision-free names, issue 13).
    assert [re.sub(r"_005[0-9A-Za-z]{15}$", "", name) for name in moved["svc.mulesoft@acme.example"]["permission_sets"]] \
        == ["Integration_Access_svc_mulesoft_acme_example"]
    done = run("rollback.yml", license_migration_rollback_run_id="moves", license_migration_run_id="undo")
    assert done.returncode == 0, done.output[-4000:]
    assert {org: users_of(run.emulator, org) for org in before} == before
    _run_id, report = report_of(run, "undo")
    assert user_row(report, "acme-prod", "svc.mulesoft@acme.example")["status"] == "restored"


def example_variant(tmp_path_factory, name, change):
    """Start an emulator on the example estate changed by ``change(estate)``."""
    with open(os.path.join(CHECKOUT, "tests", "emulator", "estates", "example.yml")) as handle:
        estate = yaml.safe_load(handle)
    change(estate)
    directory = tmp_path_factory.mktemp(name)
    path = directory / (name + ".yml")
    path.write_text(yaml.safe_dump(estate))
    return EMULATOR_FIXTURES.start_emulator(str(directory / "emulator"), str(path))


@pytest.fixture(scope="module")
def tight_emulator(tmp_path_factory):
    """The example estate with one free integration seat (and one PSL seat)."""
    def one_seat(estate):
        production = estate["orgs"][0]
        production["licenses"]["Salesforce Integration"] = 1
        production["permission_set_licenses"]["SalesforceAPIIntegrationPsl"]["total"] = 1
    running = example_variant(tmp_path_factory, "tight", one_seat)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def refusing_emulator(tmp_path_factory):
    """The example estate whose sandbox refuses moves onto the integration license."""
    def refuse(estate):
        estate["orgs"][1]["allow_license_change_to_integration"] = False
    running = example_variant(tmp_path_factory, "refusing", refuse)
    yield running
    running.stop()


def test_an_org_refusing_the_license_change_is_reported_and_left_as_it_was(refusing_emulator, tmp_path):
    run = Runner(refusing_emulator, tmp_path)
    assert run("inventory.yml").returncode == 0
    before = users_of(refusing_emulator, "acme-uat")
    done = run("migrate_sandbox.yml")
    assert done.returncode != 0
    assert "migration refused for some users" in done.output and "FIELD_INTEGRITY_EXCEPTION" in done.output
    assert users_of(refusing_emulator, "acme-uat") == before
    _run_id, report = report_of(run)
    row = user_row(report, "acme-uat", "svc.etl@acme.example.uat")
    assert row["status"] == "failed" and "FIELD_INTEGRITY_EXCEPTION" in row["reasons"][0]
    # The module's advice reaches the report: a new integration user instead of the refused move.
    assert "state: present" in row["reasons"][0]
    assert not list((run.runs_dir / "records").glob("*/migration-acme-uat.json")) or not json.loads(
        next((run.runs_dir / "records").glob("*/migration-acme-uat.json")).read_text())["migrations"]
    uat = next(o for o in report["orgs"] if o["org"] == "acme-uat")
    # Nothing moved is claimed anywhere: not in the org, its summary, nor the estate's sandbox rehearsals.
    assert uat["status"] == "failed" and uat["counts"]["moved"] == 0 and uat["counts"]["failed"] >= 1
    assert report["totals"]["sandbox_moved"] == 0 and report["totals"]["moved"] == 0
    assert report["totals"]["sandbox_failed"] == uat["counts"]["failed"]
    assert "migration refused for some users: svc.etl@acme.example.uat" in uat["error"]
    assert all(u["status"] not in ("moved", "migrated") for u in uat["users"])


def test_a_refused_migration_stays_the_orgs_error_after_verification(refusing_emulator, tmp_path):
    """migrate then verify in one run, the migrate failure ignored: verify must not replace or clear it."""
    run = Runner(refusing_emulator, tmp_path)
    assert run("inventory.yml").returncode == 0
    playbook = tmp_path / "migrate_then_verify.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Migrate and verify the sandbox, going on after a failure", "hosts": "acme-uat",
        "gather_facts": False,
        "module_defaults": {"group/sfops.integration_users.salesforce": "{{ salesforce_connection }}"},
        "tasks": [
            {"name": "Migrate", "ansible.builtin.include_role": {
                "name": "sfops.integration_users.license_migration", "tasks_from": "migrate",
                "apply": {"ignore_errors": True}}},
            {"name": "Verify", "ansible.builtin.include_role": {
                "name": "sfops.integration_users.license_migration", "tasks_from": "verify"}}]}]))
    done = run(str(playbook))
    assert done.returncode != 0, done.output[-4000:]
    _run_id, report = report_of(run)
    uat = next(o for o in report["orgs"] if o["org"] == "acme-uat")
    assert uat["entry_points"][-1] == "verify", uat["entry_points"]
    assert uat["status"] == "failed" and uat["error"].startswith("migration refused for some users"), uat["error"]


def test_users_beyond_the_free_seats_wait_with_the_reason(tight_emulator, tmp_path):
    run = Runner(tight_emulator, tmp_path)
    done = run("inventory.yml", license_migration_accepted_findings=ACCEPT_MULESOFT)
    assert done.returncode == 0, done.output[-4000:]
    plan = json.loads((run.runs_dir / "plans" / "acme-prod.json").read_text())
    status = dict((e["username"], e["status"]) for e in plan["entries"])
    assert status == {"svc.etl@acme.example": "move", "svc.mulesoft@acme.example": "wait"}
    waiting = next(e for e in plan["entries"] if e["status"] == "wait")
    assert "no free seat left: 1 Salesforce Integration seat(s)" in waiting["reasons"][0]
    assert plan["settings"]["accepted_findings"] == sorted(ACCEPT_MULESOFT)
    done = run("migrate_sandbox.yml")
    assert done.returncode == 0, done.output[-4000:]
    after = users_of(tight_emulator, "acme-uat")
    assert after["svc.etl@acme.example.uat"]["license"] == "Salesforce Integration"
    assert after["svc.mulesoft@acme.example.uat"]["license"] == "Salesforce"
    _run_id, report = report_of(run)
    assert user_row(report, "acme-uat", "svc.mulesoft@acme.example.uat")["status"] == "wait"


def test_a_failed_sandbox_verification_keeps_production_closed(run, tmp_path):
    """Your own verification tasks fail for the batch, and one user's probe login fails (wrong audience):
    both are recorded, the sandbox run fails, and the production gate refuses those users."""
    own_checks = tmp_path / "nightly_smoke.yml"
    own_checks.write_text(yaml.safe_dump([{
        "name": "Nightly sync smoke test", "ansible.builtin.assert": {
            "that": ["'svc.etl@acme.example.uat' not in license_migration_verify_users"],
            "fail_msg": "nightly sync smoke test failed"}}]))
    assert run("inventory.yml", license_migration_accepted_findings=ACCEPT_MULESOFT).returncode == 0
    done = run("migrate_sandbox.yml", license_migration_verify_tasks=str(own_checks),
               license_migration_probe_credentials={"svc.mulesoft@acme.example": {"audience": "https://login.salesforce.com"}})
    assert done.returncode != 0
    # The console names each user with what failed for it, not just the names.
    assert re.search(r"verification failed for svc\.etl@acme\.example\.uat \([^)]*nightly sync smoke test failed[^)]*\); "
                     r"svc\.mulesoft@acme\.example\.uat \([^)]*login as the user failed", done.output), done.output[-3000:]
    record = json.loads(next((run.runs_dir / "records").glob("*/verification-acme-uat.json")).read_text())
    problems = dict((u["username"], " | ".join(u["problems"])) for u in record["users"])
    assert "license_migration_verify_tasks failed: Nightly sync smoke test: nightly sync smoke test failed" in problems["svc.etl@acme.example"]
    assert "login as the user failed" in problems["svc.mulesoft@acme.example"]
    assert "audience is invalid" in problems["svc.mulesoft@acme.example"]
    assert "1 failed login(s) since the migration" in problems["svc.mulesoft@acme.example"]
    before = users_of(run.emulator, "acme-prod")
    done = run("rollout_production.yml")
    assert done.returncode != 0
    assert "sandbox verification failed in acme-uat" in done.output
    assert users_of(run.emulator, "acme-prod") == before


def test_the_inventory_entry_point_reads_every_org_and_writes_no_plan(run, tmp_path):
    """playbooks/inventory.yml takes the plan entry point; the inventory entry point stays for read-only runs."""
    playbook = tmp_path / "inventory_only.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Inventory only", "hosts": "salesforce_orgs", "gather_facts": False,
        "module_defaults": {"group/sfops.integration_users.salesforce": "{{ salesforce_connection }}"},
        "tasks": [{"name": "Inventory", "ansible.builtin.include_role": {
            "name": "sfops.integration_users.license_migration", "tasks_from": "inventory"}}]}]))
    done = run(str(playbook), license_migration_run_id="inventory-only")
    assert done.returncode == 0, done.output[-4000:]
    assert not (run.runs_dir / "plans").exists()
    _run_id, report = report_of(run, "inventory-only")
    assert sorted(o["org"] for o in report["orgs"]) == ["acme-prod", "acme-uat"]
    assert all(o["entry_points"] == ["inventory"] for o in report["orgs"]), report["orgs"]
    assert user_row(report, "acme-prod", "svc.etl@acme.example")["status"] == "candidate"


MULE = "svc.mulesoft@acme.example"


def mulesoft_probes(emulator):
    """Issue 12: the probes of svc.mulesoft log in through the app its OAuth token shows it uses (the
    admin-approved MuleSoft Connector, each org's copy) and call its Apex REST class as the user."""
    keys = os.path.join(emulator.ready["state_dir"], "keys")

    def host_vars(name, org):
        app = {"client_id": "ACME_MULE_CLIENT" + (".uat" if org["is_sandbox"] else ""),
               "private_key_file": os.path.join(keys, "%s-mulesoft_connector.key" % name)}
        return {"license_migration_probe_apps": {"MuleSoft Connector": app},
                "license_migration_probes": {MULE: [{"name": "orders API", "apexrest": "/orders/1"}]}}
    return host_vars


def strip_carried_access(emulator, org, entity_type):
    """What a migration that does not carry setup access leaves: svc.mulesoft's integration permission set
    without its SetupEntityAccess row of ``entity_type``."""
    rows = emulator.query(org, "SELECT Id FROM SetupEntityAccess WHERE Parent.Name LIKE "
                               "'Integration_Access_svc_mulesoft%%' AND SetupEntityType = '%s'" % entity_type)["records"]
    assert len(rows) == 1, rows
    for row in rows:
        answer = emulator.rest(org, "DELETE", "sobjects/SetupEntityAccess/" + row["Id"])
        assert answer.status_code == 204, answer.text


def test_setup_access_carried_is_what_keeps_the_jwt_login_and_the_apex_rest_call_working(fresh_emulator, tmp_path):
    run = Runner(fresh_emulator, tmp_path, mulesoft_probes(fresh_emulator))
    done = run("inventory.yml", license_migration_accepted_findings=ACCEPT_MULESOFT)
    assert done.returncode == 0, done.output[-4000:]
    plan = json.loads((run.runs_dir / "plans" / "acme-prod.json").read_text())
    entry = next(e for e in plan["entries"] if e["username"] == MULE)
    assert entry["status"] == "move" and entry["login_app"] == "MuleSoft Connector"
    assert entry["carried"] == {"ApexClass": ["OrderService"], "ConnectedApplication": ["MuleSoft Connector"],
                                "CustomPermission": ["Bypass_Account_Rules"]}
    assert [(step["code"], step["accepted"]) for step in entry["manual_steps"]] == [
        ("RECORD_TYPE_VISIBILITY", True), ("LOGIN_IP_RANGES_DROPPED", False)]

    # Without the carried setup access, the sandbox verification catches both breakages...
    assert run("migrate_sandbox.yml").returncode == 0
    strip_carried_access(run.emulator, "acme-uat", "ApexClass")
    assert run("verify.yml").returncode != 0
    _run_id, report = report_of(run)
    problems = " ".join(user_row(report, "acme-uat", MULE + ".uat")["reasons"])
    assert "login as the user failed" not in problems, problems
    assert "probe orders API failed" in problems and "You do not have access to the Apex class named: OrderService" \
        in problems, problems
    strip_carried_access(run.emulator, "acme-uat", "ConnectedApplication")
    assert run("verify.yml").returncode != 0
    _run_id, report = report_of(run)
    problems = " ".join(user_row(report, "acme-uat", MULE + ".uat")["reasons"])
    assert "login as the user failed" in problems and "user hasn't approved this consumer" in problems, problems
    # ...and the gate keeps production untouched.
    before = users_of(run.emulator, "acme-prod")
    done = run("rollout_production.yml")
    assert "production gate refused %s: sandbox verification failed" % MULE in done.output, done.output[-3000:]
    assert users_of(run.emulator, "acme-prod")[MULE] == before[MULE]

    # With the plan's permission set (the migration converges it again), both pass in the sandbox...
    done = run("migrate_sandbox.yml")
    assert done.returncode == 0, done.output[-4000:]
    _run_id, report = report_of(run)
    assert user_row(report, "acme-uat", MULE + ".uat")["verification"] == "passed"
    # ...and then in production, where the same probes run as the moved user.
    done = run("rollout_production.yml")
    assert done.returncode == 0, done.output[-4000:]
    assert users_of(run.emulator, "acme-prod")[MULE]["license"] == "Salesforce Integration"
    _run_id, report = report_of(run)
    assert user_row(report, "acme-prod", MULE)["verification"] == "passed"


@pytest.fixture(scope="module")
def observed_emulator(tmp_path_factory):
    """The example estate where svc.etl's profile grants three objects and its API usage history (the
    ApiTotalUsage log) shows it reading and writing Accounts only."""
    def used_accounts_only(estate):
        production = estate["orgs"][0]
        profile = next(p for p in production["profiles"] if p["name"] == "API Only")
        profile["object_permissions"] = {"Account": "cru", "Contact": "r", "Opportunity": "cru"}
        etl = next(u for u in production["users"] if u["username"] == "svc.etl@acme.example")
        etl["api_usage"] = {"days": 30, "calls_per_day": 12, "objects": ["Account"], "methods": ["GET", "PATCH"]}
    running = example_variant(tmp_path_factory, "observed", used_accounts_only)
    yield running
    running.stop()


def test_a_least_privilege_set_from_observed_use_passes_the_sandbox_and_names_what_it_removed(observed_emulator,
                                                                                              tmp_path):
    run = Runner(observed_emulator, tmp_path)
    done = run("site.yml", license_migration_run_id="least-1", license_migration_usage_days=30,
               license_migration_access_source="observed", license_migration_access_margin="as_used")
    assert done.returncode == 0, done.output[-4000:]
    _run_id, report = report_of(run, "least-1")
    etl = user_row(report, "acme-prod", "svc.etl@acme.example")
    assert etl["status"] == "moved", etl
    assert etl["access_source"] == ("built from observed use (as_used); removed compared with the profile copy: "
                                    "objects Contact, Opportunity")
    assert etl["observed"].startswith("observed (API usage log of ") and "used Account (" in etl["observed"]
    assert user_row(report, "acme-uat", "svc.etl@acme.example.uat")["verification"] == "passed"
    # The set in both orgs grants Account and nothing else the profile had.
    for org in ("acme-prod", "acme-uat"):
        rows = observed_emulator.query(org, "SELECT SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit "
                                            "FROM ObjectPermissions WHERE Parent.Name = '%s'" % etl["permission_set"])
        assert [(r["SobjectType"], r["PermissionsRead"], r["PermissionsCreate"], r["PermissionsEdit"])
                for r in rows["records"]] == [("Account", True, True, True)], (org, rows)
    html = (run.runs_dir / "least-1" / "report.html").read_text()
    assert "built from observed use (as_used); removed compared with the profile copy: objects Contact, Opportunity" in html
