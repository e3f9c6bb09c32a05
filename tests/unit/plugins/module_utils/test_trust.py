# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13 across modules: collision-free permission set names, signed plans/records/gate, the org lock
through sf_migration_plan."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan_plans as planning

GAP = {"objects": {"Account": ["Read"]}, "system": [], "fields": {}}


def _user(name, user_id):
    return {"username": name, "id": user_id, "candidate": True, "license": "Salesforce",
            "profile": {"id": "00e000000000002AAA", "name": "Integration Admin"}, "candidate_reasons": ["candidate"]}


def test_usernames_that_read_alike_get_their_own_permission_sets():
    users = [_user("svc.sync@acme.demo", "005000000000001AAA"), _user("svc_sync@acme.demo", "005000000000002AAA")]
    check = {"target_profile": {"id": "00e000000000003AAA", "name": "Minimum Access - API Only Integrations"},
             "findings": [], "users": [{"username": u["username"], "access_gap": GAP, "permission_sets_to_remove": []}
                                       for u in users]}
    seats = {"integration": {"user_license": {"total": 5, "used": 0, "free": 5},
                             "psl": {"total": 5, "used": 0, "free": 5}}}
    plan = planning.build_plan("acme-prod", seats, {"users": users}, check)
    names = [e["permission_set"]["name"] for e in plan["entries"]]
    assert len(set(name.lower() for name in names)) == 2, names
    assert all(len(name) <= 80 and "__" not in name and name[0].isalpha() for name in names)


def test_permission_set_name_ends_with_the_user_id_and_stays_valid():
    name = planning.permission_set_name("a" * 120 + "@x.com", user_id="005000000000001")
    assert len(name) <= 80 and name.endswith("_005000000000001AAA") and "__" not in name
    assert planning.permission_set_name("svc@x", user_id="005000000000001AAA") == \
        "Integration_Access_svc_x_005000000000001AAA"


# ---- forged backups (finding 2) ---------------------------------------------------------------------------
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

# The fake org of sf_integration_user's own tests (the fixture ``org`` included).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "impl"))
from test_sf_integration_user import SVC, FakeClient, org, run  # noqa: E402,F401  pylint: disable=unused-import

SIGNING_KEY = "0123456789abcdef0123456789abcdef"
SYSADMIN = "00e000000000099AAA"


def _migrate(org_, tmp_path, **extra):
    migrated = run(FakeClient(org_), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove",
                   **extra)
    assert not migrated.get("failed"), migrated.get("msg")
    return migrated


def _edit(path, edit):
    with open(path) as handle:
        document = json.load(handle)
    edit(document)
    with open(path, "w") as handle:
        json.dump(document, handle)


def test_a_signed_backup_edited_to_grant_system_administrator_is_refused(org, tmp_path):
    migrated = _migrate(org, tmp_path, signing_key=SIGNING_KEY)
    assert json.load(open(migrated["backup_file"]))["signature"]["alg"] == "HMAC-SHA256"
    _edit(migrated["backup_file"], lambda d: d["data"]["users"][0]["profile"].update(
        id=SYSADMIN, name="System Administrator"))
    client = FakeClient(org)
    result = run(client, tmp_path, state="restored", backup_file=migrated["backup_file"], signing_key=SIGNING_KEY)
    assert result["failed"] and "edited after it was signed" in result["msg"], result.get("msg")
    assert migrated["backup_file"] in result["msg"]
    assert client.write_calls == []
    assert SIGNING_KEY not in json.dumps(result)


def test_an_unsigned_backup_is_refused_when_a_key_is_given(org, tmp_path):
    migrated = _migrate(org, tmp_path)
    assert any("signing key" in w for w in migrated["warnings"]), migrated["warnings"]
    client = FakeClient(org)
    result = run(client, tmp_path, state="restored", backup_file=migrated["backup_file"], signing_key=SIGNING_KEY)
    assert result["failed"] and "not signed" in result["msg"]
    assert client.write_calls == []


def test_a_genuine_signed_backup_restores(org, tmp_path):
    before = org.state(SVC)
    migrated = _migrate(org, tmp_path, signing_key=SIGNING_KEY)
    restored = run(FakeClient(org), tmp_path, state="restored", backup_file=migrated["backup_file"],
                   signing_key=SIGNING_KEY)
    assert not restored.get("failed"), restored.get("msg")
    assert org.state(SVC) == before


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["data"].pop("org_id"), "names no org Id"),
    (lambda d: d["data"]["users"][0].update(username="svc.other@acme.com"), "belongs to user svc.mulesoft@acme.com"),
], ids=["org id deleted", "username and Id disagree"])
def test_an_unsigned_backup_not_bound_to_this_org_and_user_is_refused(org, tmp_path, edit, expected):
    migrated = _migrate(org, tmp_path)
    _edit(migrated["backup_file"], edit)
    client = FakeClient(org)
    result = run(client, tmp_path, state="restored", backup_file=migrated["backup_file"])
    assert result["failed"] and expected in result["msg"], result.get("msg")
    assert client.write_calls == []


# ---- gate forgery (finding 3) and the org lock through sf_migration_plan (finding 8) -----------------------
import hashlib  # noqa: E402
import os  # noqa: E402

from ansible_collections.sfops.integration_users.plugins.module_utils import run_files  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan as mp  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute  # noqa: E402


def _plan_run(**args):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    validation = ArgumentSpecValidator(mp.SPEC.full_argument_spec(), **mp.SPEC.constraints).validate(args)
    assert not validation.error_messages, validation.error_messages
    result, task = execute(mp.SPEC, validation.validated_parameters, check_mode=False)
    result["warnings"] = task.warnings
    return result


def _write_plan(runs, key=SIGNING_KEY):
    """A plan for acme-prod with one mover and one blocked user, written as operation=write writes it."""
    users = [_user("svc.etl@acme.demo", "005000000000001AAA"),
             dict(_user("svc.admin@acme.demo", "005000000000002AAA"), candidate=False,
                  candidate_reasons=["holds Modify All Data"])]
    check = {"target_profile": {"id": "00e000000000003AAA", "name": "Minimum Access - API Only Integrations"},
             "findings": [], "users": [{"username": u["username"], "access_gap": {}, "permission_sets_to_remove": []}
                                       for u in users]}
    seats = {"integration": {"user_license": {"total": 5, "used": 0, "free": 5},
                             "psl": {"total": 5, "used": 0, "free": 5}}}
    plan = planning.build_plan("acme-prod", seats, {"users": users}, check)
    if key:
        plan = run_files.sign(plan, run_files.signing_key(key), run_files.plan_purpose("acme-prod"))
    path = run_files.plan_path(runs, "acme-prod")
    run_files.write_private(path, run_files.dump_json(plan))
    return path, plan


def _forged_verification(runs, plan, org="acme-uat"):
    document = planning.record("verification", plan, org, "sandbox", "acme-prod", "2026-01-01T00:00:00.000000Z",
                               "forged", users=[{"username": e["username"], "passed": True, "problems": []}
                                                for e in plan["entries"]])
    run_files.write_private(run_files.record_path(runs, plan["checksum"], "verification", org),
                            run_files.dump_json(document))


def _gate(runs, **extra):
    return _plan_run(operation="load", runs_dir=runs, org="acme-prod", org_type="production", gate=True, **extra)


def test_a_hand_written_verification_record_does_not_open_the_gate(tmp_path):
    runs = str(tmp_path / "runs")
    _path, plan = _write_plan(runs)
    _forged_verification(runs, plan)
    result = _gate(runs, signing_key=SIGNING_KEY)
    assert not result.get("failed"), result.get("msg")
    assert result["moves"] == [] and result["gate"]["allowed"] == []
    assert any("verification-acme-uat.json ignored: it is not signed" in w for w in result["warnings"])


def test_without_a_key_the_production_gate_refuses(tmp_path):
    runs = str(tmp_path / "runs")
    _path, plan = _write_plan(runs, key=None)
    _forged_verification(runs, plan)
    result = _gate(runs)
    assert result["failed"] and "without a signing key" in result["msg"], result.get("msg")
    # Read-only work in a sandbox goes on, with a warning.
    sandbox = _plan_run(operation="load", runs_dir=runs, org="acme-uat", production_org="acme-prod",
                        org_type="sandbox", sandbox_name="uat")
    assert not sandbox.get("failed"), sandbox.get("msg")
    assert any("no signing key" in w for w in sandbox["warnings"])


def test_a_plan_edited_with_its_sha256_recomputed_is_refused(tmp_path):
    runs = str(tmp_path / "runs")
    path, plan = _write_plan(runs)
    # The attacker adds a user the plan never allowed (a blocked admin) as a mover.
    plan["entries"].append(dict(plan["entries"][0], username="svc.admin@acme.demo", user_id="005000000000002AAA"))
    plan["checksum"] = planning.plan_checksum(plan)      # what the old unkeyed checksum let anyone do
    run_files.write_private(path, run_files.dump_json(plan))
    result = _gate(runs, signing_key=SIGNING_KEY)
    assert result["failed"] and path in result["msg"] and "edited after it was signed" in result["msg"]


def test_a_plan_signed_with_another_key_is_refused(tmp_path):
    runs = str(tmp_path / "runs")
    path, _plan = _write_plan(runs, key="x" * 40)
    result = _plan_run(operation="load", runs_dir=runs, org="acme-prod", signing_key=SIGNING_KEY)
    assert result["failed"] and "another key" in result["msg"]


def test_a_genuine_signed_verification_opens_the_gate_for_its_users_only(tmp_path):
    runs = str(tmp_path / "runs")
    _path, plan = _write_plan(runs)
    document = planning.record("verification", plan, "acme-uat", "sandbox", "acme-prod", "2026-01-01T00:00:00.000000Z",
                               "r1", users=[{"username": "svc.etl@acme.demo", "passed": True, "problems": []}])
    document = run_files.sign(document, run_files.signing_key(SIGNING_KEY),
                              run_files.record_purpose("verification", "acme-uat", plan["checksum"]))
    run_files.write_private(run_files.record_path(runs, plan["checksum"], "verification", "acme-uat"),
                            run_files.dump_json(document))
    result = _gate(runs, signing_key=SIGNING_KEY)
    assert result["gate"]["allowed"] == ["svc.etl@acme.demo"]


def test_a_blank_override_reason_is_no_reason(tmp_path):
    runs = str(tmp_path / "runs")
    _write_plan(runs)
    result = _gate(runs, signing_key=SIGNING_KEY, override_reason="  ")
    assert result["gate"]["allowed"] == [] and not result["gate"]["override"]


def test_lock_operation_refuses_a_second_run_and_releases(tmp_path):
    runs = str(tmp_path / "runs")
    first = _plan_run(operation="lock", runs_dir=runs, org="acme-prod", run_id="rollout-1")
    assert first["changed"] and first["lock"]["run_id"] == "rollout-1" and first["lock"]["pid"] == os.getppid()
    second = _plan_run(operation="lock", runs_dir=runs, org="acme-prod", run_id="rollback-1")
    assert second["failed"] and "locked by run rollout-1" in second["msg"], second.get("msg")
    assert second["error"]["type"] == "LockError"
    again = _plan_run(operation="lock", runs_dir=runs, org="acme-prod", run_id="rollout-1")
    assert not again.get("failed") and again["changed"] is False
    refused = _plan_run(operation="unlock", runs_dir=runs, org="acme-prod", run_id="rollback-1")
    assert refused["failed"]
    released = _plan_run(operation="unlock", runs_dir=runs, org="acme-prod", run_id="rollout-1")
    assert released["changed"] is True
    assert _plan_run(operation="unlock", runs_dir=runs, org="acme-prod", run_id="rollout-1")["changed"] is False
    assert _plan_run(operation="lock", runs_dir=runs, org="acme-prod", run_id="rollback-1")["changed"] is True


def test_records_written_by_the_module_are_signed_and_accepted(tmp_path):
    runs = str(tmp_path / "runs")
    _path, plan = _write_plan(runs)
    result = _plan_run(operation="record_migration", runs_dir=runs, org="acme-uat", production_org="acme-prod",
                       org_type="sandbox", sandbox_name="uat", run_id="r1", signing_key=SIGNING_KEY,
                       migrated=[{"username": "svc.etl@acme.demo.uat", "changed": True}])
    assert not result.get("failed"), result.get("msg")
    with open(result["path"]) as handle:
        assert json.load(handle)["signature"]["purpose"] == "record:migration:acme-uat:" + plan["checksum"]
    # Extending a forged record is refused, not laundered by signing it anew.
    with open(result["path"]) as handle:
        document = json.load(handle)
    document["migrations"].append({"usernames": ["svc.admin@acme.demo.uat"]})
    with open(result["path"], "w") as handle:
        json.dump(document, handle)
    again = _plan_run(operation="record_migration", runs_dir=runs, org="acme-uat", production_org="acme-prod",
                      org_type="sandbox", sandbox_name="uat", run_id="r2", signing_key=SIGNING_KEY,
                      migrated=[{"username": "svc.etl@acme.demo.uat", "changed": True}])
    assert again["failed"] and "edited after it was signed" in again["msg"]
    assert hashlib  # noqa (kept for the checksum test above)


def test_a_record_that_cannot_be_written_names_the_users_changed(tmp_path, monkeypatch):
    import errno
    runs = str(tmp_path / "runs")
    _write_plan(runs)

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(run_files.os, "fsync", full)
    result = _plan_run(operation="record_migration", runs_dir=runs, org="acme-uat", production_org="acme-prod",
                       org_type="sandbox", sandbox_name="uat", run_id="r1", signing_key=SIGNING_KEY,
                       backup_file="/runs/r1/backups/acme-uat/b.json",
                       migrated=[{"username": "svc.etl@acme.demo.uat", "changed": True},
                                 {"username": "svc.other@acme.demo.uat", "changed": False}])
    assert result["failed"], result
    message = result["msg"]
    assert "No space left on device" in message and "migration-acme-uat.json" in message
    assert "WERE changed in org acme-uat" in message and "svc.etl@acme.demo.uat" in message
    assert "svc.other@acme.demo.uat" not in message and "b.json" in message
    assert "Traceback" not in message
