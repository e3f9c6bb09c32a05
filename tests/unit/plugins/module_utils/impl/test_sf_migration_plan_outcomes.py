# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the license_migration role's steps came to, decided by sf_migration_plan (outcomes.py and the
operations load phase=, record_migration results=, record_batch), and the merge of runs by
sf_migration_report."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan, sf_migration_report
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan_outcomes as outcomes
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute

KEY = "0123456789abcdef0123456789abcdef"
INTEGRATION = {"user_license": {"total": 5, "used": 0, "free": 5}, "psl": {"free": 5}}
WRITE_INPUTS = dict(
    licenses={"integration": INTEGRATION},
    user_info={"users": [{"username": name, "id": "00500000000000%dAAA" % n, "candidate": True, "license": "Salesforce",
                          "profile": {"id": "00e000000000002AAA", "name": "P"}}
                         for n, name in enumerate(("svc.a@x", "svc.b@x"), 1)]},
    profile_check={"target_profile": {"id": "00e000000000003AAA", "name": "Minimum"}, "findings": [],
                   "users": [{"username": name, "access_gap": {}, "permission_sets_to_remove": []}
                             for name in ("svc.a@x", "svc.b@x")]})
SANDBOX = dict(org="acme-uat", org_type="sandbox", production_org="acme-prod", sandbox_name="uat")


def params(tmp_path, **extra):
    values = dict((k, v.get("default")) for k, v in sf_migration_plan.ARGUMENT_SPEC.items())
    values.update(runs_dir=str(tmp_path / "runs"), org="acme-prod", org_type="production", signing_key=KEY)
    values.update(extra)
    return values


def op(tmp_path, **extra):
    """The result of one sf_migration_plan operation."""
    return execute(sf_migration_plan.SPEC, params(tmp_path, **extra))[0]


NO_SANDBOX_NAME = {"org": "acme-uat", "org_type": "sandbox", "production_org": "acme-prod", "sandbox_name": ""}


def moved(target, backup=None, users=None):
    result = {"item": {"username": target.rsplit(".uat", 1)[0], "target_username": target}, "changed": True,
              "users": users if users is not None else [{"username": target, "changed": True}]}
    if backup:
        result["backup_file"] = backup
    return result


def refused(target, message, backup=None):
    # The one failure shape of the collection's modules: `error` (and the message), partial results beside it.
    result = {"item": {"username": target, "target_username": target}, "failed": False, "msg": message,
              "error": {"org": "o", "user": target, "error_code": "FIELD_INTEGRITY_EXCEPTION"},
              "users": [{"username": target, "changed": False}]}
    if backup:
        result["backup_file"] = backup
    return result


def test_applied_moves_tell_refused_users_from_moved_ones():
    applied = outcomes.applied_moves([moved("a", "b1"), refused("b", "no: advice", "b2"), refused("c", "other")],
                                     "2026-01-01T00:00:00Z", False)
    assert applied["users"] == [{"username": "a", "changed": True}]
    assert applied["usernames"] == ["a", "b", "c"] and applied["failed_usernames"] == ["b", "c"]
    assert applied["errors"] == ["no: advice", "other"] and applied["backup_files"] == ["b1", "b2"]
    # One line: the users once, the first message, how many refusals there were.
    assert applied["refusal"] == "b, c: no: advice (first of 2 refusals: each refused user's own message is in its report row)"
    assert outcomes.migration_error(applied).startswith("migration refused for some users: b, c: no: advice")
    assert outcomes.applied_entries([moved("a"), refused("b", "no")]) == [{"username": "a", "target_username": "a"}]
    assert outcomes.migration_error(outcomes.applied_moves([moved("a")], None, False)) is None


def test_failed_login_query_quotes_usernames_and_needs_a_window():
    query = outcomes.failed_logins_query(["o'neil@x", "a@x"], "2026-01-02T03:04:05.678901Z")
    assert "Username IN ('a@x', 'o\\'neil@x')" in query and "LoginTime >= 2026-01-02T03:04:05Z" in query
    assert outcomes.failed_logins_query([], "2026-01-02T03:04:05Z") is None
    assert outcomes.failed_logins_query(["a@x"], None) is None
    assert outcomes.failed_logins_query(["a@x"], "yesterday") is None


def test_entry_checks():
    assert "is a production org: use the rollout entry point" in outcomes.org_type_error("migrate", "p", "production")
    assert outcomes.org_type_error("rollout", "s", "sandbox") == "s is a sandbox: use the migrate entry point."
    assert outcomes.org_type_error("verify", "s", "sandbox") is None and outcomes.org_type_error(None, "p", "sandbox") is None
    assert "set license_migration_production_org" in outcomes.sandbox_settings_error("s", "sandbox", "p", "")
    assert outcomes.sandbox_settings_error("p", "production", None, None) is None
    message = outcomes.api_allocation_error("o", {"limit": 15000, "used": 14990}, 200)
    assert message.startswith("o skipped before any write: only 10 of its 15000 daily API requests remain")
    assert outcomes.api_allocation_error("o", {"limit": 15000, "used": 14800}, 200) is None
    assert outcomes.api_allocation_error("o", {"limit": None}, 200) is None


def test_gate_refusal_groups_users_by_reason():
    gate = {"missing": [{"username": "a", "reason": "r1"}, {"username": "b", "reason": "r2"},
                        {"username": "c", "reason": "r1"}]}
    assert outcomes.gate_error(gate, False) == "production gate refused a, c: r1; b: r2"
    assert outcomes.gate_error(gate, True) is None and outcomes.gate_error({"missing": []}, False) is None


def test_a_failed_batch_is_put_back_and_stops_the_rollout():
    state = outcomes.rollout_start({"missing": []}, "t0", False)
    ok = outcomes.applied_moves([moved("a", "b1")], "t0", False)
    state, restore = outcomes.next_rollout(state, 1, ["a"], ok, [{"target_username": "a", "passed": True}], False, "t1")
    assert restore == [] and state["migrate"]["users"] == ok["users"] and state["error"] is None
    assert state["rollout"]["started"] == "t1" and not state["rollout"]["batches"][0]["rolled_back"]
    bad = outcomes.applied_moves([moved("b", "b2"), moved("c", "b3")], "t1", False)
    failed = [{"target_username": "b", "passed": False, "problems": ["probe x failed"]},
              {"target_username": "c", "passed": True, "problems": []}]
    state, restore = outcomes.next_rollout(state, 2, ["b", "c"], bad, failed, False, "t2")
    assert restore == ["b3", "b2"]
    assert state["rollout"]["stopped"] == "batch 2 rolled back and rollout stopped: verification failed for b: probe x failed"
    assert state["error"] == state["rollout"]["stopped"] and state["migrate"]["users"] == ok["users"]
    state, restore = outcomes.next_rollout(state, 3, ["d"], None, [], False, "t3")
    assert restore == [] and state["rollout"]["batches"][2]["skipped"].startswith("not started")
    # A refused move fails the batch without a verification; under --check a batch is never judged failed
    # for a verification that did not run.
    refused_batch = outcomes.applied_moves([refused("e", "nope")], "t", False)
    assert outcomes.batch_failure(refused_batch, [], False) == "move refused: e: nope"
    assert outcomes.batch_failure(bad, failed, True) == ""


def test_operations_decide_the_role_steps(tmp_path):
    result = op(tmp_path, operation="write", **WRITE_INPUTS)
    assert result["written"]
    # Production is refused by the migrate phase, a nearly spent allocation before any write.
    refused_prod = op(tmp_path, operation="load", phase="migrate")
    assert refused_prod["failed"] and "use the rollout entry point" in refused_prod["msg"]
    short = op(tmp_path, operation="load", phase="migrate", api_usage={"limit": 100, "used": 99}, min_api_remaining=5, **SANDBOX)
    assert short["failed"] and "skipped before any write" in short["msg"]
    no_name = op(tmp_path, operation="load", **NO_SANDBOX_NAME)
    assert no_name["failed"] and "license_migration_sandbox_name" in no_name["msg"]
    loaded = op(tmp_path, operation="load", phase="migrate", **SANDBOX)
    assert loaded["started"] and loaded["section"]["plan"]["path"] == loaded["path"]
    results = [moved("svc.a@x.uat", "/b/1"), refused("svc.b@x.uat", "refused: advice")]
    recorded = op(tmp_path, operation="record_migration", plan=loaded["plan"], started=loaded["started"], results=results, **SANDBOX)
    assert recorded["applied"]["failed_usernames"] == ["svc.b@x.uat"] and not recorded["verify"]
    assert [m["target_username"] for m in recorded["verify_moves"]] == ["svc.a@x.uat"]
    assert "'svc.a@x.uat'" in recorded["failed_logins_query"]
    assert recorded["section"]["error"].startswith("migration refused for some users: svc.b@x.uat: refused: advice")
    assert recorded["record"]["migrations"][0]["usernames"] == ["svc.a@x.uat"]
    # The verify phase verifies what the records say moved.
    again = op(tmp_path, operation="load", phase="verify", **SANDBOX)
    assert [m["target_username"] for m in again["verify_moves"]] == ["svc.a@x.uat"]
    # Nothing verified in the sandbox: the rollout's gate holds both users back, with no batch.
    rollout = op(tmp_path, operation="load", phase="rollout", batch_size=1)
    assert rollout["batches"] == [] and rollout["section"]["error"].startswith("production gate refused svc.a@x, svc.b@x")
    sandboxed = op(tmp_path, operation="load", phase="rollout", **SANDBOX)
    assert sandboxed["failed"] and "use the migrate entry point" in sandboxed["msg"]
    overridden = op(tmp_path, operation="load", phase="rollout", batch_size=1, override_reason="CAB-1")
    assert [[m["username"] for m in b] for b in overridden["batches"]] == [["svc.a@x"], ["svc.b@x"]]
    section = overridden["section"]
    applied = op(tmp_path, operation="record_migration", plan=overridden["plan"], started=section["rollout"]["started"], results=[refused("svc.a@x", "no")])
    batch = op(tmp_path, operation="record_batch", plan=overridden["plan"], rollout=section, batch_number=1, users=["svc.a@x"], applied=applied)
    assert batch["section"]["rollout"]["stopped"].startswith("batch 1 rolled back and rollout stopped: move refused")
    assert batch["restore"] == []


def report_params(runs, run_id, orgs, merge_runs=()):
    params = dict((name, option.get("default")) for name, option in sf_migration_report.ARGUMENT_SPEC.items())
    params.update(runs_dir=runs, run_id=run_id, orgs=orgs, merge_runs=list(merge_runs))
    return params


def test_report_keeps_org_results_and_merges_runs(tmp_path):
    runs = str(tmp_path / "runs")
    first = {"org": "p", "org_type": "production", "production_org": None, "error": None,
             "inventory": {"integration": INTEGRATION, "salesforce_seats": {"used": 1}, "users": [], "findings": []}}
    later = {"org": "p", "org_type": "production", "production_org": None, "error": "rollout failed: x",
             "seats_before": {"integration": INTEGRATION, "salesforce_seats": {"used": 1}, "api_usage": {"used": 3},
                              "invocation": {"module_args": {"client_secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}}}}
    execute(sf_migration_report.SPEC, report_params(runs, "r1", [first]))
    execute(sf_migration_report.SPEC, report_params(runs, "r2", [later]))
    kept = sorted(os.listdir(os.path.join(runs, "r2", "orgs")))
    assert kept == ["p.json"]
    with open(os.path.join(runs, "r2", "orgs", "p.json")) as handle:
        assert "api_usage" not in handle.read()
    merged, task = execute(sf_migration_report.SPEC, report_params(runs, "all", [], ["r1", "missing", "r2"]))
    org = merged["report"]["orgs"][0]
    assert org["entry_points"] == ["inventory"] and org["error"] == "rollout failed: x"
    assert org["seats_before"]["integration_free"] == 5 and any("missing" in w for w in task.warnings)
