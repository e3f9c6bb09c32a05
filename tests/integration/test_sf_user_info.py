"""sf_user_info against the emulator's example estate, through ansible-playbook."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from test_sf_permission_set_harness import CHECKOUT, calls, emu, run_task  # noqa: F401 (fixture)  pylint: disable=unused-import

ORG = "acme-prod"


def test_candidates_of_the_example_estate_with_reasons_in_one_call(emu, tmp_path):
    before = calls(emu)
    result = run_task(emu, tmp_path, "sf_user_info", {"candidates_only": True, "include_inactive": True,
                                                      "usage_log": False}, check=True)
    after = calls(emu)
    assert result["changed"] is False
    assert after.get("POST /composite", 0) - before.get("POST /composite", 0) == 1
    assert sum(after.values()) - sum(before.values()) == 1 == result["api_usage"]["calls"]
    # With the usage log (the default), its listing is a sixth query: a second composite call. This org kept no
    # file before today, so nothing is downloaded and every user's log entry says so.
    before = calls(emu)
    with_log = run_task(emu, tmp_path, "sf_user_info", {"candidates_only": True, "include_inactive": True}, check=True)
    assert calls(emu).get("POST /composite", 0) - before.get("POST /composite", 0) == 2 == with_log["api_usage"]["calls"]
    assert with_log["users"][0]["api_usage_log"]["status"] == "none" and with_log["users"][0]["api_usage"] is None

    assert [u["username"] for u in result["users"]] == ["svc.etl@acme.example", "svc.mulesoft@acme.example"]
    considered = dict((c["username"], c) for c in result["considered"])
    assert sorted(considered) == ["admin@acme.example", "jane.doe@acme.example", "svc.etl@acme.example",
                                  "svc.mulesoft@acme.example", "svc.old@acme.example"]
    failed = dict((name, [c["check"] for c in entry["checks"] if not c["passed"]])
                  for name, entry in considered.items())
    assert failed == {
        "admin@acme.example": ["api_only_logins", "not_running_user"],
        "jane.doe@acme.example": ["api_only_logins"],
        "svc.etl@acme.example": [],
        "svc.mulesoft@acme.example": [],
        "svc.old@acme.example": ["active", "api_only_logins"],
    }
    assert "12 UI" in considered["jane.doe@acme.example"]["reasons"][0]
    # Issue 18: the token svc.mulesoft's refresh flow keeps is evidence too, read in the same call.
    assert [e["source"] for e in considered["svc.mulesoft@acme.example"]["evidence"]] == ["LoginHistory", "OauthToken"]
    assert considered["svc.mulesoft@acme.example"]["evidence"][1]["detail"].startswith(
        "app 'MuleSoft Connector' (4200 uses, last used ")
    assert result["running_user"] == "admin@acme.example"
    assert result["counts"] == {"users": 5, "active": 4, "candidates": 2}


def test_one_user_in_detail_with_license_bindings(emu, tmp_path):
    result = run_task(emu, tmp_path, "sf_user_info",
                      {"users": ["SVC.MuleSoft@acme.example", "nobody@acme.example"], "lookback_days": 30,
                       "usage_log": False})
    assert result["missing"] == ["nobody@acme.example"]
    assert any("nobody@acme.example" in w for w in result.get("warnings", []))
    (user,) = result["users"]
    assert user["license"] == "Salesforce" and user["profile"]["name"] == "Integration Admin"
    assert [(p["name"], p["license"], p["license_kind"]) for p in user["permission_sets"]] == [
        ("Sales_Ops", "Salesforce", "user_license")]
    assert user["permission_set_licenses"] == []
    assert user["logins"]["lookback_days"] == 30
    assert user["logins"]["ui"] == 0 and user["logins"]["api"] == user["logins"]["total"]
    assert 0 < user["logins"]["total"] <= 500
    assert result["api_usage"]["calls"] == 1


def test_sandbox_users_carry_the_suffix(emu, tmp_path):
    result = run_task(emu, tmp_path, "sf_user_info", {}, org="acme-uat")
    names = [u["username"] for u in result["users"]]
    assert "svc.mulesoft@acme.example.uat" in names and "svc.old@acme.example.uat" not in names


@pytest.mark.slow
def test_large_org_costs_a_constant_number_of_calls_per_page(tmp_path_factory, tmp_path):
    """2500 users: the first page and the licenses in one composite, one more page of users, and the
    login mix asked again per chunk of 400 users (five chunks a composite) once the org-wide
    aggregate reaches Salesforce's 2000-row batch."""
    from test_sf_permission_set_harness import _emulator_fixtures
    workdir = tmp_path_factory.mktemp("large")
    estate = workdir / "estate.yml"
    subprocess.run([sys.executable, "-m", "sfemu", "generate", "--orgs", "1", "--users", "2500", "--seed", "3",
                    "--out", str(estate)], check=True, timeout=300,
                   env=dict(os.environ, PYTHONPATH=os.path.join(CHECKOUT, "tests", "emulator")))
    emu = _emulator_fixtures.start_emulator(str(workdir / "emulator"), str(estate))
    try:
        result = run_task(emu, tmp_path, "sf_user_info", {"candidates_only": True, "include_inactive": True,
                                                          "usage_log": False})
    finally:
        emu.stop()
    assert result["counts"]["users"] == 2500
    pages = -(-2500 // 2000)
    login_chunks = -(-2500 // 400)
    assert result["api_usage"]["calls"] == 1 + (pages - 1) + -(-login_chunks // 5)
    for user in result["users"]:
        assert user["active"] and user["logins"]["ui"] == 0 and user["logins"]["api"] > 0
    assert len(result["considered"]) == 2500


def test_a_token_only_integration_is_found_and_no_person_is(demo, tmp_path):
    """svc.netsuite@globex.demo has no login in the window, only a NetSuite Connector token used yesterday:
    LoginHistory alone misses it. The admin (UI logins) stays a person."""
    before = calls(demo, "globex-prod")
    result = run_task(demo, tmp_path, "sf_user_info", {"candidates_only": True}, org="globex-prod")
    # The users' composite, the event log listing (a sixth query: a second composite call), the newest file.
    assert sum(calls(demo, "globex-prod").values()) - sum(before.values()) == 3 == result["api_usage"]["calls"]
    considered = dict((c["username"], c) for c in result["considered"])
    netsuite = considered["svc.netsuite@globex.demo"]
    assert netsuite["candidate"] is True
    assert "no login in the last 90 days, but OAuth token use" in netsuite["reasons"][0]
    assert netsuite["evidence"][0]["detail"] == "0 API, 0 UI, 0 other successful logins in the last 90 days"
    assert netsuite["evidence"][1]["detail"].startswith("app 'NetSuite Connector' (5400 uses, last used ")
    # Each kind of evidence: API logins alone (svc.sap), a token alone (svc.netsuite); UI logins make a person.
    assert considered["svc.sap@globex.demo"]["candidate"] is True
    assert "only API logins" in considered["svc.sap@globex.demo"]["reasons"][0]
    assert considered["admin@globex.demo"]["candidate"] is False
    people = [name for name, c in considered.items() if c["candidate"] and not name.startswith("svc.")]
    assert people == []
    # The ApiTotalUsage log of yesterday (the estate's history): svc.boomi's Accounts and Contacts.
    boomi = dict((e["source"], e["detail"]) for e in considered["svc.boomi@globex.demo"]["evidence"])
    assert boomi["ApiTotalUsage"].startswith("40 API calls on ") and "through app 'Ops Automation'" in boomi["ApiTotalUsage"]
    assert "Account (" in boomi["ApiTotalUsage"] and "Contact (" in boomi["ApiTotalUsage"]
    assert "no API call on" in dict((e["source"], e["detail"]) for e in netsuite["evidence"])["ApiTotalUsage"]
