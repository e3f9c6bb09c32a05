"""sf_profile_check against the emulator's example estate, through ansible-playbook.

The example estate plants these traps, and the check must find each of them and nothing else:
the Apex class (and the trigger calling it) testing 'Integration Admin', the validation rule and
the flow testing $Profile.Name, the Trigger_Bypass__c row owned by profile Integration Admin, the
look-alike "API Only" profile on the Salesforce license, Sales_Ops bound to the Salesforce license
on svc.mulesoft, jane.doe's UI logins and the admin the check runs as. The one finding that is not
a trap is svc.mulesoft's access gap: the access its profile and Sales_Ops give and the integration
profile lacks, which the issue asks the check to report.

Costs are read from the emulator's own per-org call counts, not from the module's word.
"""

from __future__ import annotations

import pytest

from test_sf_permission_set_harness import calls, delta, emu, run_task  # noqa: F401 (fixture)  pylint: disable=unused-import

ORG = "acme-prod"
SANDBOX = "acme-uat"

# (code, severity, user, component type, component name, line)
EXPECTED = [
    # Issue 12: what only the profile grants svc.mulesoft. Its OAuth token shows it logs in through the
    # admin-approved MuleSoft Connector (a blocker the plan resolves by carrying the app); the record type
    # is a manual step; the IP ranges are dropped; the Apex class and custom permission are carried.
    ("CONNECTED_APP_ACCESS", "blocker", "svc.mulesoft@acme.example", "ConnectedApplication", "MuleSoft Connector", None),
    ("CUSTOM_SETTING_PROFILE_ROW", "blocker", None, "CustomSetting", "Trigger_Bypass__c", None),
    ("PERMISSION_SET_LICENSE_CONFLICT", "blocker", "svc.mulesoft@acme.example", None, None, None),
    ("PROFILE_NAME_REFERENCE", "blocker", None, "ApexClass", "AccountTriggerHandler", 3),
    ("PROFILE_NAME_REFERENCE", "blocker", None, "Flow", "Case_Routing-1", None),
    ("PROFILE_NAME_REFERENCE", "blocker", None, "ValidationRule", "Account.Require_Industry", 1),
    ("RECORD_TYPE_VISIBILITY", "blocker", "svc.mulesoft@acme.example", None, None, None),
    ("RUNNING_USER", "blocker", "admin@acme.example", None, None, None),
    ("UI_LOGINS", "blocker", "jane.doe@acme.example", None, None, None),
    ("ACCESS_GAP", "warning", "svc.mulesoft@acme.example", None, None, None),
    ("INDIRECT_PROFILE_REFERENCE", "warning", None, "ApexTrigger", "AccountTrigger", 1),
    ("LOGIN_IP_RANGES_DROPPED", "warning", "svc.mulesoft@acme.example", None, None, None),
    ("LOOKALIKE_PROFILE", "warning", None, "Profile", "API Only", None),
    ("SETUP_ACCESS_GAP", "warning", "svc.mulesoft@acme.example", None, None, None),
]

# One run, whatever the number of users: five REST composites (licenses with the two describes,
# users with their OAuth tokens, profile and permission set access, the names of the setup entities that
# access holds with the connected apps' admin-approved flag, custom settings rows) and three Tooling
# composites (the code listing, one batch of Metadata reads for 3 components, the Profile Metadata of
# the profiles moved): 8 calls, within issue 12's budget of 10 for up to 50 users.
REST_CALLS = {"POST /composite": 5}
TOOLING_COMPOSITES = 3


def expected_calls(tooling_composite_served, rest=None, tooling=TOOLING_COMPOSITES):
    """Calls of one run. Without /tooling/composite on the server, the module's one refused attempt
    is counted and the Tooling subrequests go through the REST composite instead."""
    calls = dict(rest or REST_CALLS)
    if tooling_composite_served:
        calls["POST /tooling/composite"] = tooling
    else:
        calls["POST /tooling/composite"] = 1
        calls["POST /composite"] = calls.get("POST /composite", 0) + tooling
    return calls


@pytest.fixture
def served(emu):
    """Whether this emulator serves /tooling/composite (it did not when these tests were written)."""
    answer = emu.rest(ORG, "POST", "tooling/composite", json={"compositeRequest": [
        {"method": "GET", "url": "/services/data/v62.0/tooling/query?q=SELECT+Id+FROM+ApexClass+LIMIT+1",
         "referenceId": "probe"}]})
    emu.reset()
    return answer.status_code == 200


def summary_of(findings, suffix=""):
    out = []
    for item in findings:
        comp = item["component"] or {}
        user = item["user"][:-len(suffix)] if suffix and item["user"] else item["user"]
        out.append((item["code"], item["severity"], user, comp.get("type"), comp.get("name"), comp.get("line")))
    return out


def test_example_estate_every_trap_and_nothing_else(emu, served, tmp_path):
    before = calls(emu)
    result = run_task(emu, tmp_path, "sf_profile_check", {})
    assert result["changed"] is False and result["ready"] is False
    assert summary_of(result["findings"]) == EXPECTED
    assert result["target_profile"]["name"] == "Minimum Access - API Only Integrations"
    assert result["severity_counts"] == {"blocker": 9, "warning": 5, "info": 0}
    assert result["counts"]["PROFILE_NAME_REFERENCE"] == 3

    by_code = dict((f["code"], f) for f in result["findings"])
    assert by_code["PERMISSION_SET_LICENSE_CONFLICT"]["message"] == \
        "permission set(s) bound to the 'Salesforce' user license: Sales_Ops"
    assert by_code["UI_LOGINS"]["message"].startswith("12 user-interface login(s) in the last 90 days")
    assert by_code["LOOKALIKE_PROFILE"]["message"] == \
        "profile 'API Only' is named like an integration profile but is on the 'Salesforce' license"

    users = dict((u["username"], u) for u in result["users"])
    # Inactive svc.old is not checked by default; svc.etl (API Only profile, same rights) is clean.
    assert sorted(users) == ["admin@acme.example", "jane.doe@acme.example", "svc.etl@acme.example",
                             "svc.mulesoft@acme.example"]
    assert users["svc.etl@acme.example"]["ready"] is True and users["svc.etl@acme.example"]["codes"] == []
    to_move = sorted(name for name, u in users.items() if u["to_move"])
    assert to_move == ["svc.etl@acme.example", "svc.mulesoft@acme.example"]
    mule = users["svc.mulesoft@acme.example"]
    assert mule["permission_sets_to_remove"] == ["Sales_Ops"]
    # Integration Admin grants Account/Contact crud and Opportunity read; Sales_Ops Opportunity crud.
    assert mule["access_gap"] == {"system": [], "fields": {}, "objects": {
        "Account": ["Create", "Delete", "Edit", "Read"], "Contact": ["Create", "Delete", "Edit", "Read"],
        "Opportunity": ["Create", "Delete", "Edit", "Read"]},
        "setup": {"ApexClass": ["OrderService"], "ConnectedApplication": ["MuleSoft Connector"],
                  "CustomPermission": ["Bypass_Account_Rules"]}}
    assert "OAuth token used 4200 times" in by_code["CONNECTED_APP_ACCESS"]["message"]
    assert result["scanned"] == {"apex": 2, "triggers": 1, "validation_rules": 1, "flows": 1,
                                 "formula_fields": 0, "custom_settings": 1, "profile_settings": 3}

    spent = delta(before, calls(emu))
    assert spent == expected_calls(served)
    assert result["api_usage"]["calls"] == sum(spent.values())


def test_check_mode_same_report_and_stable_between_runs(emu, tmp_path):
    first = run_task(emu, tmp_path, "sf_profile_check", {})
    checked = run_task(emu, tmp_path, "sf_profile_check", {}, check=True)
    assert checked["changed"] is False
    assert checked["findings"] == first["findings"]
    assert checked["users"] == first["users"]


def test_cost_does_not_grow_with_users(emu, served, tmp_path):
    before = calls(emu)
    one = run_task(emu, tmp_path, "sf_profile_check", {"users": ["svc.mulesoft@acme.example"]})
    spent_one = delta(before, calls(emu))
    before = calls(emu)
    run_task(emu, tmp_path, "sf_profile_check", {"users": [
        "svc.mulesoft@acme.example", "svc.etl@acme.example", "jane.doe@acme.example", "svc.old@acme.example",
        "admin@acme.example"]})
    assert delta(before, calls(emu)) == spent_one == expected_calls(served)
    # Asked alone, svc.mulesoft still meets every code trap of its profile, not the other users' ones.
    assert [f["code"] for f in one["findings"]] == [
        "CONNECTED_APP_ACCESS", "CUSTOM_SETTING_PROFILE_ROW", "PERMISSION_SET_LICENSE_CONFLICT",
        "PROFILE_NAME_REFERENCE", "PROFILE_NAME_REFERENCE", "PROFILE_NAME_REFERENCE", "RECORD_TYPE_VISIBILITY",
        "ACCESS_GAP", "INDIRECT_PROFILE_REFERENCE", "LOGIN_IP_RANGES_DROPPED", "LOOKALIKE_PROFILE",
        "SETUP_ACCESS_GAP"]


def test_named_users_inactive_missing_and_sandbox_suffix(emu, tmp_path):
    result = run_task(emu, tmp_path, "sf_profile_check", {
        "users": ["svc.etl@acme.example.uat", "svc.old@acme.example.uat", "ghost@acme.example.uat"],
        "scans": ["apex", "triggers"]}, org=SANDBOX)
    assert summary_of(result["findings"], ".uat") == [
        ("PROFILE_NAME_REFERENCE", "blocker", None, "ApexClass", "AccountTriggerHandler", 3),
        ("USER_NOT_FOUND", "blocker", "ghost@acme.example", None, None, None),
        ("ACCESS_GAP", "warning", "svc.old@acme.example", None, None, None),
        # Its profile pre-authorizes MuleSoft Connector, but no token shows svc.old uses it: a warning.
        ("CONNECTED_APP_ACCESS", "warning", "svc.old@acme.example", "ConnectedApplication", "MuleSoft Connector", None),
        ("INDIRECT_PROFILE_REFERENCE", "warning", None, "ApexTrigger", "AccountTrigger", 1),
        ("LOOKALIKE_PROFILE", "warning", None, "Profile", "API Only", None),
        ("SETUP_ACCESS_GAP", "warning", "svc.old@acme.example", None, None, None),
        ("USER_INACTIVE", "warning", "svc.old@acme.example", None, None, None),
    ]
    assert result["scanned"] == {"apex": 2, "triggers": 1}


def test_scans_switched_off_cost_nothing(emu, tmp_path):
    before = calls(emu)
    result = run_task(emu, tmp_path, "sf_profile_check", {"users": ["svc.etl@acme.example"], "scans": []})
    # Licenses, users, access: no code listing, no Metadata, no settings.
    assert delta(before, calls(emu)) == {"POST /composite": 3}
    assert [f["code"] for f in result["findings"]] == ["LOOKALIKE_PROFILE"]
    assert result["ready"] is True


def test_explicit_target_and_extra_strings(emu, tmp_path):
    wrong = run_task(emu, tmp_path, "sf_profile_check", {"users": ["svc.etl@acme.example"], "scans": [],
                                                         "target_profile": "API Only"})
    assert [(f["code"], f["severity"]) for f in wrong["findings"]][0] == ("TARGET_PROFILE_WRONG_LICENSE", "blocker")
    assert wrong["target_profile"] is None and wrong["ready"] is False

    extra = run_task(emu, tmp_path, "sf_profile_check", {"users": ["svc.etl@acme.example"],
                                                         "scans": ["triggers"], "extra_strings": ["bypass"]})
    assert summary_of(extra["findings"]) == [
        ("EXTRA_STRING_REFERENCE", "warning", None, "ApexTrigger", "AccountTrigger", 1),
        ("LOOKALIKE_PROFILE", "warning", None, "Profile", "API Only", None),
    ]


def test_bad_option_fails_cleanly(emu, tmp_path):
    result = run_task(emu, tmp_path, "sf_profile_check", {"scans": ["apex", "cobol"]}, expect_failure=True)
    assert result.get("failed") is True and "cobol" in result["msg"]


def test_one_play_over_production_and_its_sandbox(emulator, playbook):
    """The way the check is meant to run: every org of the inventory at once, then a gate."""
    plays = [{
        "hosts": "salesforce_orgs", "gather_facts": False,
        "module_defaults": {"group/sfops.integration_users.salesforce": {
            "auth": "client_credentials", "login_url": "{{ sf_login_url }}", "client_id": "{{ sf_client_id }}",
            "client_secret": "{{ sf_client_secret }}", "ca_path": "{{ sf_ca_path }}"}},
        "tasks": [
            {"name": "check", "sfops.integration_users.sf_profile_check": {}, "register": "check"},
            {"name": "gate", "ansible.builtin.assert": {"that": ["check.ready"], "quiet": True}},
        ],
    }]
    emulator.reset()
    run = playbook(emulator, plays)
    production = run.result("check", ORG)
    sandbox = run.result("check", SANDBOX)
    assert summary_of(production["findings"]) == EXPECTED
    # The sandbox is a copy: the same traps, its users carrying the ".uat" suffix.
    assert summary_of(sandbox["findings"], ".uat") == EXPECTED
    assert production["changed"] is False and sandbox["changed"] is False
    # The gate stops both orgs: nothing moves while a blocker stands.
    assert run.rc != 0
    assert run.result("gate", ORG).get("failed") is True and run.result("gate", SANDBOX).get("failed") is True


def _jwt_token(running, org, app_slug, client_id, username):
    import os
    import time
    import jwt
    with open(os.path.join(running.ready["state_dir"], "keys", "%s-%s.key" % (org, app_slug)), "rb") as handle:
        key = handle.read()
    assertion = jwt.encode({"iss": client_id, "sub": username, "aud": running.org(org)["audience"],
                            "exp": int(time.time()) + 120}, key, algorithm="RS256")
    answer = running.http.post(running.base_url + "/services/oauth2/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_observed_access_of_the_system_administrator_integration(demo, tmp_path):
    """svc.boomi@globex.demo runs as System Administrator; yesterday's ApiTotalUsage log (the estate's
    history) shows it reading and writing Accounts and Contacts only, and the Account it edits now is counted
    as a record it modified. Costs: the check's calls, two for the log, one per five objects counted."""
    boomi = "svc.boomi@globex.demo"
    token = _jwt_token(demo, "globex-prod", "ops_automation", "GLOBEX_DEMO_OPS", boomi)
    [account] = demo.query("globex-prod", "SELECT Id FROM Account LIMIT 1", token=token)["records"]
    edited = demo.rest("globex-prod", "PATCH", "sobjects/Account/%s" % account["Id"], token=token,
                       json={"Description": "edited by the integration"})
    assert edited.status_code == 204, edited.text
    plain = run_task(demo, tmp_path, "sf_profile_check", {"users": [boomi]}, org="globex-prod")
    result = run_task(demo, tmp_path, "sf_profile_check", {"users": [boomi], "usage_days": 30}, org="globex-prod")
    assert not result.get("failed"), result.get("msg")
    assert "observed_access" not in plain["users"][0]
    observed = result["users"][0]["observed_access"]
    assert observed["window_days"] == 30 and observed["usage_log"]["status"] == "read"
    used = dict((name, item) for name, item in observed["objects"].items() if item["read_calls"] or item["write_calls"])
    assert sorted(used) == ["Account", "Contact"]
    assert all(item["read_calls"] > 0 and item["write_calls"] > 0 for item in used.values())
    assert observed["objects"]["Account"]["modified_records"] == 1
    assert observed["objects"]["Contact"]["modified_records"] == 0
    assert observed["apps"] == {"Ops Automation": 40}
    assert "ModifyAllData" in observed["system"]
    counted = [n for n, item in observed["objects"].items() if item["modified_records"] is not None]
    extra = result["api_usage"]["calls"] - plain["api_usage"]["calls"]
    assert extra == 2 + -(-len(counted) // 5), (extra, counted)
    # What it holds and the evidence did not show (the admin profile's object rows, if any).
    for name in observed["unused_objects"]:
        assert name not in used and observed["objects"][name]["granted"]


def test_a_negative_usage_window_is_refused_before_any_call(emu, tmp_path):
    before = calls(emu, ORG)
    result = run_task(emu, tmp_path, "sf_profile_check", {"usage_days": -1}, expect_failure=True)
    assert result["failed"] and "usage_days must be 0 (no observed access) or a number of days, not -1" in result["msg"]
    assert calls(emu, ORG) == before
