# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_license_info over the example estate (production and its sandbox), through ansible-playbook.

Seat numbers are checked against the emulator's own state (admin API), and the cost against the
emulator's own per-org call counts, not the module's word.
"""

from __future__ import annotations

from test_connection import FLOWS, play

ORGS = ("acme-prod", "acme-uat")


def info_task():
    return {"name": "license info", "sfops.integration_users.sf_license_info": {}, "register": "out"}


def calls(emulator, org):
    return emulator.admin("GET", "orgs/%s/calls" % org).json()


def test_seats_and_integration_summary_match_the_org(fresh_emulator, playbook):
    before = dict((org, calls(fresh_emulator, org)["api_used"]) for org in ORGS)
    run = playbook(fresh_emulator, play(FLOWS["client_credentials"], [info_task()], hosts="salesforce_orgs"))
    assert run.rc == 0, run.output[-3000:]
    for org in ORGS:
        state = fresh_emulator.admin("GET", "orgs/%s/state" % org).json()
        result = run.result("license info", org)
        assert result["changed"] is False
        # One composite round trip per org, as the emulator counted it.
        assert calls(fresh_emulator, org)["api_used"] - before[org] == 1
        assert result["api_usage"]["calls"] == 1
        assert result["org"]["id"] == fresh_emulator.org(org)["org_id"]
        assert result["org"]["is_sandbox"] is (org == "acme-uat")

        seats = dict((u["name"], (u["total"], u["used"], u["free"])) for u in result["user_licenses"])
        for name, expected in state["licenses"].items():
            assert seats[name] == (expected["total"], expected["used"], expected["total"] - expected["used"]), name
        psl = dict((p["developer_name"], (p["total"], p["used"])) for p in result["permission_set_licenses"])
        for name, expected in state["permission_set_licenses"].items():
            assert psl[name] == (expected["total"], expected["used"]), name

        summary = result["integration"]
        assert summary["available"] is True
        assert summary["user_license"]["total"] == state["licenses"]["Salesforce Integration"]["total"]
        assert summary["psl"]["developer_name"] == "SalesforceAPIIntegrationPsl"
        assert [p["name"] for p in summary["profiles"]] == ["Minimum Access - API Only Integrations"]
        assert summary["standard_profile"]["name"] == "Minimum Access - API Only Integrations"
        assert summary["deprecated_profile"] is None and summary["clones"] == []
        # The pre-2023 custom "API Only" profile on the full license; "Integration Admin", the full-access
        # profile the integration users sit on today, only mentions integrations and is no look-alike.
        assert [(p["name"], p["license"]) for p in summary["look_alikes"]] == [("API Only", "Salesforce")]
        assert summary["default_profile"]["id"] == summary["standard_profile"]["id"]
        assert "standard profile" in summary["default_profile"]["reason"]
        full = state["licenses"]["Salesforce"]
        assert result["salesforce_seats"] == {"total": full["total"], "used": full["used"],
                                              "free": full["total"] - full["used"]}


def test_check_mode_reports_the_same(emulator, playbook):
    normal = playbook(emulator, play(FLOWS["jwt"], [info_task()]))
    checked = playbook(emulator, play(FLOWS["jwt"], [info_task()]), check=True)
    first, second = normal.result("license info", "acme-prod"), checked.result("license info", "acme-prod")
    for key in ("org", "user_licenses", "permission_set_licenses", "integration", "salesforce_seats"):
        assert first[key] == second[key], key
    assert second["changed"] is False


def test_include_inactive_and_seat_changes_show(fresh_emulator, playbook):
    # Use a seat the way an admin would (assign the PSL), then read again.
    org = "acme-prod"
    users = fresh_emulator.query(org, "SELECT Id FROM User WHERE Username = 'svc.etl@acme.example'")["records"]
    psl = fresh_emulator.query(org, "SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")["records"]
    created = fresh_emulator.rest(org, "POST", "sobjects/PermissionSetLicenseAssign",
                                  json={"AssigneeId": users[0]["Id"], "PermissionSetLicenseId": psl[0]["Id"]})
    assert created.status_code == 201, created.text
    task = {"name": "license info", "sfops.integration_users.sf_license_info": {"include_inactive": True},
            "register": "out"}
    run = playbook(fresh_emulator, play(FLOWS["client_credentials"], [task]))
    summary = run.result("license info", org)["integration"]
    assert (summary["psl"]["used"], summary["psl"]["free"]) == (1, 4)
