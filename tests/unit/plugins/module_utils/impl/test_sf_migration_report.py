# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports: statuses per user across stages, money, CSV, self-contained HTML, and the module runs of
sf_migration_report and sf_migration_plan on files (check mode writes nothing, owner-only files)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import os
import re
import stat

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_report_render as reporting
from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan, sf_migration_report
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute

PRICES = {"full_license": 165, "integration_seat": 10, "currency": "USD"}
INTEGRATION = {"user_license": {"total": 5, "used": 0, "free": 5}, "psl": {"free": 5}}


def production_result():
    return {
        "org": "acme-prod", "org_type": "production", "production_org": None, "error": None,
        "inventory": {"integration": INTEGRATION, "salesforce_seats": {"used": 4},
                      "users": [{"username": "svc.a@x", "candidate": True, "license": "Salesforce", "profile": {"name": "P"}},
                                {"username": "svc.b@x", "candidate": True, "license": "Salesforce", "profile": {"name": "P"}},
                                {"username": "jane@x", "candidate": False, "candidate_reasons": ["UI logins <b>"]}],
                      "findings": [{"code": "UI_LOGINS", "severity": "blocker", "user": "jane@x", "message": "<script>x</script>"}]},
        "plan": {"entries": [{"username": "svc.a@x", "status": "move", "reasons": ["seat"],
                              "permission_set": {"name": "Integration_Access_svc_a_x"}},
                             {"username": "svc.b@x", "status": "wait", "reasons": ["no free seat left"]}]},
        "migrate": {"users": [{"username": "svc.a@x", "changed": True,
                               "after": {"profile": {"name": "Minimum", "license": "Salesforce Integration"}}}]},
        "verify": {"users": [{"username": "svc.a@x", "target_username": "svc.a@x", "passed": True, "problems": []}]},
        "seats_after": {"integration": {"user_license": {"total": 5, "used": 1, "free": 4}, "psl": {"free": 4}},
                        "salesforce_seats": {"used": 3}},
    }


def sandbox_result():
    return {"org": "acme-uat", "org_type": "sandbox", "production_org": "acme-prod", "error": "verify failed: x",
            "migrate": {"users": [{"username": "svc.a@x.uat", "changed": True}]}}


def test_report_statuses_counts_and_money():
    doc = reporting.build_report([sandbox_result(), production_result()], "r1", "now", False, PRICES)
    prod, uat = doc["orgs"]
    assert (prod["org"], uat["org"]) == ("acme-prod", "acme-uat")
    rows = dict((u["username"], u) for u in prod["users"])
    assert rows["svc.a@x"]["status"] == "moved" and rows["svc.a@x"]["verification"] == "passed"
    assert rows["svc.a@x"]["license"] == "Salesforce Integration"
    assert rows["svc.b@x"]["status"] == "wait" and rows["jane@x"]["status"] == "not_candidate"
    assert prod["counts"]["moved"] == 1 and prod["counts"]["waiting"] == 1
    # Saving: one user moved into free seats; potential: both ready users (two free seats or more).
    assert prod["monthly_saving"] == 165 and prod["potential_monthly_saving"] == 330
    assert uat["monthly_saving"] is None and uat["status"] == "failed"
    assert doc["totals"]["monthly_saving"] == 165 and doc["totals"]["orgs_failed"] == 1
    assert prod["summary"] == ("acme-prod (production): integration seats free 5/5 -> 4/5; 2 candidate(s); 1 moved; "
                               "1 waiting; verification 1/1 passed; saving $165/month (potential $330)")
    assert uat["summary"] == "acme-uat (sandbox): FAILED: verify failed: x"


def test_estate_totals_count_production_and_show_sandbox_rehearsals_apart():
    sandbox = sandbox_result()
    sandbox["error"] = None
    sandbox["migrate"]["failed_usernames"] = ["svc.b@x.uat"]
    sandbox["migrate"]["errors"] = ["FIELD_INTEGRITY_EXCEPTION: create a new user with state: present"]
    doc = reporting.build_report([sandbox, production_result()], "r1", "now", False, PRICES)
    totals = doc["totals"]
    # The sandbox moved a copy of svc.a: production's one move is the estate's one move.
    assert (totals["moved"], totals["sandbox_moved"]) == (1, 1)
    assert (totals["failed"], totals["sandbox_failed"]) == (0, 1)
    assert (totals["verified_passed"], totals["sandbox_verified_passed"]) == (1, 0)
    assert (totals["orgs"], totals["production_orgs"], totals["sandbox_orgs"]) == (2, 1, 1)
    assert totals["monthly_saving"] == 165
    page = reporting.render_html(doc)
    figures = dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', page))
    assert (figures["totals.moved"], figures["totals.sandbox_moved"], figures["totals.sandbox_failed"]) == ("1", "1", "1")
    # The refused sandbox user reads as refused, with the module's advice, never as migrated.
    row = next(u for u in doc["orgs"][1]["users"] if u["username"] == "svc.b@x.uat")
    assert row["status"] == "failed" and "state: present" in row["reasons"][0]
    assert "refused by the org (not moved)" in page


def test_html_user_table_fits_the_page():
    page = reporting.render_html(reporting.build_report([production_result()], "r1", "now", False, PRICES))
    # Fixed column shares adding up to the table width, and long values allowed to break.
    for table in ("users", "findings"):
        colgroup = re.search(r'<table class="%s"><colgroup>(.*?)</colgroup>' % table, page).group(1)
        widths = [int(w) for w in re.findall(r'<col style="width:(\d+)%">', colgroup)]
        assert sum(widths) == 100, table
    assert len(re.search(r'<table class="users"><colgroup>(.*?)</colgroup>', page).group(1).split("<col ")) - 1 == \
        len(reporting._USER_COLUMNS)  # pylint: disable=protected-access
    assert "table.users,table.findings{table-layout:fixed}" in page and "overflow-wrap:anywhere" in page


def test_monthly_saving_counts_extra_seats():
    assert reporting.monthly_saving(7, 5, PRICES) == 7 * 165 - 2 * 10
    assert reporting.monthly_saving(0, 5, PRICES) == 0


def test_dry_run_rows_say_would_move():
    result = production_result()
    result["migrate"]["dry_run"] = True
    doc = reporting.build_report([result], "r1", "now", True, PRICES)
    assert doc["dry_run"] and doc["orgs"][0]["counts"]["would_move"] == 1 and doc["orgs"][0]["monthly_saving"] == 0


def test_csv_one_row_per_user_per_org():
    doc = reporting.build_report([production_result(), sandbox_result()], "r1", "now", False, PRICES)
    rows = list(csv.DictReader(io.StringIO(reporting.render_csv(doc))))
    assert len(rows) == 4
    assert rows[0]["org"] == "acme-prod" and tuple(rows[0]) == reporting.CSV_COLUMNS


def carrying_result():
    result = production_result()
    entry = result["plan"]["entries"][0]
    entry["carried"] = {"ConnectedApplication": ["MuleSoft Connector"], "ApexClass": ["OrderService"]}
    entry["manual_steps"] = [{"code": "RECORD_TYPE_VISIBILITY", "message": "record type Account.Partner",
                              "remediation": "Add it by hand.", "accepted": True},
                             {"code": "LOGIN_IP_RANGES_DROPPED", "message": "IP ranges <dropped>", "remediation": "",
                              "accepted": False}]
    return result


def test_what_is_carried_and_the_manual_steps_are_in_json_csv_and_html():
    doc = reporting.build_report([carrying_result()], "r1", "now", False, PRICES)
    row = next(u for u in doc["orgs"][0]["users"] if u["username"] == "svc.a@x")
    assert row["carried"] == ["Apex class OrderService", "connected app MuleSoft Connector"]
    assert row["manual_steps"] == ["RECORD_TYPE_VISIBILITY (accepted): record type Account.Partner. Add it by hand.",
                                   "LOGIN_IP_RANGES_DROPPED (to do): IP ranges <dropped>. "]
    rows = dict((r["username"], r) for r in csv.DictReader(io.StringIO(reporting.render_csv(doc))))
    assert rows["svc.a@x"]["carried"] == "Apex class OrderService | connected app MuleSoft Connector"
    assert rows["svc.a@x"]["manual_steps"].startswith("RECORD_TYPE_VISIBILITY (accepted)")
    page = reporting.render_html(doc)
    assert "<small>carries connected app MuleSoft Connector</small>" in page
    assert "<b>Manual step</b> LOGIN_IP_RANGES_DROPPED (to do): IP ranges &lt;dropped&gt;" in page


def test_csv_cells_a_spreadsheet_would_run_are_text():
    result = production_result()
    result["inventory"]["users"][2].update(username="=HYPERLINK(\"http://x\")@x", candidate_reasons=["+1", "-2", "@SUM(A1)"])
    doc = reporting.build_report([result], "r1", "now", False, PRICES)
    rows = list(csv.DictReader(io.StringIO(reporting.render_csv(doc))))
    cells = [value for row in rows for value in row.values()]
    assert "'=HYPERLINK(\"http://x\")@x" in cells and "'+1 | -2 | @SUM(A1)" in cells
    assert not any(value.startswith(("=", "+", "-", "@")) for value in cells)
    assert reporting.csv_cell("\tcmd") == "'\tcmd" and reporting.csv_cell("svc@x") == "svc@x"


def test_html_is_self_contained_escaped_and_carries_the_json_figures():
    doc = reporting.build_report([production_result()], "r1", "now", False, PRICES)
    page = reporting.render_html(doc)
    assert "<script" not in page and "<link" not in page and "src=" not in page and "http" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "UI logins &lt;b&gt;" in page
    figures = dict(re.findall(r'data-figure="([^"]+)">([^<]*)<', page))
    assert figures["totals.moved"] == str(doc["totals"]["moved"])
    assert figures["totals.monthly_saving"] == "$165"
    assert figures["orgs.acme-prod.seats_after.integration_free"] == "4"
    assert figures["orgs.acme-prod.seats_after.salesforce_used"] == "3"
    assert figures["orgs.acme-prod.seats_before.salesforce_used"] == "4"
    assert figures["orgs.acme-prod.counts.waiting"] == "1"


def report_params(runs, run_id, orgs, **extra):
    """sf_migration_report's options as the action plugin validates them (defaults filled in)."""
    params = dict((name, option.get("default")) for name, option in sf_migration_report.ARGUMENT_SPEC.items())
    params.update(runs_dir=runs, run_id=run_id, orgs=orgs, **extra)
    return params


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_report_module_writes_owner_only_files_and_nothing_in_check_mode(tmp_path):
    params = report_params(str(tmp_path / "runs"), "r1", [production_result()])
    result, _task = execute(sf_migration_report.SPEC, params, check_mode=True)
    assert not result["changed"] and result["paths"] == {} and result["report"]["dry_run"]
    assert not (tmp_path / "runs").exists()
    result, _task = execute(sf_migration_report.SPEC, params)
    assert result["changed"]
    assert _mode(str(tmp_path / "runs" / "r1")) == 0o700
    for path in result["paths"].values():
        assert _mode(path) == 0o600
    assert result["stats"]["license_migration"]["totals"]["moved"] == 1
    again, _task = execute(sf_migration_report.SPEC, params)
    assert not again["changed"]


def plan_params(tmp_path, **extra):
    params = dict((k, v.get("default")) for k, v in sf_migration_plan.ARGUMENT_SPEC.items())
    # Signed run state (issue 13): without a key the production gate refuses.
    params.update(runs_dir=str(tmp_path / "runs"), org="acme-prod", org_type="production",
                  signing_key="0123456789abcdef0123456789abcdef")
    params.update(extra)
    return params


WRITE_INPUTS = dict(
    licenses={"integration": INTEGRATION},
    user_info={"users": [{"username": "svc.a@x", "id": "005000000000001AAA", "candidate": True, "license": "Salesforce",
                          "profile": {"id": "00e000000000002AAA", "name": "P"}}]},
    profile_check={"target_profile": {"id": "00e000000000003AAA", "name": "Minimum"}, "findings": [],
                   "users": [{"username": "svc.a@x", "access_gap": {}, "permission_sets_to_remove": []}]})


def test_plan_module_write_load_and_refuse_an_edit(tmp_path):
    result, _task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="write", **WRITE_INPUTS), check_mode=True)
    assert result["changed"] and not result["written"] and not (tmp_path / "runs").exists()
    result, _task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="write", **WRITE_INPUTS))
    assert result["changed"] and result["written"] and _mode(result["path"]) == 0o600
    again, _task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="write", **WRITE_INPUTS))
    assert not again["changed"]
    loaded, _task = execute(sf_migration_plan.SPEC, plan_params(
        tmp_path, operation="load", org="acme-uat", org_type="sandbox", production_org="acme-prod", sandbox_name="uat"))
    assert [m["target_username"] for m in loaded["moves"]] == ["svc.a@x.uat"]
    plan = run_files.read_json(result["path"])
    plan["entries"][0]["username"] = "someone.else@x"
    with open(result["path"], "w") as handle:
        json.dump(plan, handle)
    refused, _task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="load"))
    assert refused["failed"] and "was changed after it was written" in refused["msg"]


def test_plan_module_keeps_a_reviewed_plan_unless_told(tmp_path):
    execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="write", **WRITE_INPUTS))
    other = dict(WRITE_INPUTS)
    other["user_info"] = {"users": []}
    kept, task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="write", **other))
    assert not kept["changed"] and kept["stale"] and "kept as it is" in task.warnings[0]
    replaced, _task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="write", overwrite=True, **other))
    assert replaced["changed"] and replaced["plan"]["entries"] == []


def test_plan_module_refuses_a_malformed_name_and_warns_of_an_unknown_one(tmp_path):
    refused, _task = execute(sf_migration_plan.SPEC, plan_params(
        tmp_path, operation="write", exclude=["svc.a@x "], **WRITE_INPUTS))
    assert refused["failed"] and "license_migration_exclude has 'svc.a@x '" in refused["msg"]
    assert not (tmp_path / "runs").exists()
    written, task = execute(sf_migration_plan.SPEC, plan_params(
        tmp_path, operation="write", exclude=["svc.typo@x"], **WRITE_INPUTS))
    assert written["written"] and written["plan"]["entries"][0]["status"] == "move"
    assert any("'svc.typo@x', which is no user of this org" in w for w in task.warnings)


def test_records_feed_the_gate(tmp_path):
    execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="write", **WRITE_INPUTS))
    sandbox = dict(org="acme-uat", org_type="sandbox", production_org="acme-prod", sandbox_name="uat")
    gated, _task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="load", gate=True))
    assert gated["moves"] == [] and gated["gate"]["missing"][0]["username"] == "svc.a@x"
    execute(sf_migration_plan.SPEC, plan_params(
        tmp_path, operation="record_migration", started="2026-01-01T00:00:00Z",
        migrated=[{"username": "svc.a@x.uat", "changed": True}], **sandbox))
    verified, _task = execute(sf_migration_plan.SPEC, plan_params(
        tmp_path, operation="record_verification", **dict(sandbox, user_states=[{
            "username": "svc.a@x.uat", "id": "005000000000009AAA", "active": True, "license": "Salesforce Integration",
            "profile": {"name": "Minimum"}, "permission_sets": []}],
            probes=[{"username": "svc.a@x.uat", "results": [{"name": "API resources", "passed": True}]}])))
    assert verified["passed"], verified
    loaded, _task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="load", **sandbox))
    assert loaded["migrated_since"] == "2026-01-01T00:00:00Z"
    gated, _task = execute(sf_migration_plan.SPEC, plan_params(tmp_path, operation="load", gate=True))
    assert [m["username"] for m in gated["moves"]] == ["svc.a@x"] and gated["gate"]["missing"] == []
