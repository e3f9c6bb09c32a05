"""sf_permission_set against the emulator's example estate, through ansible-playbook.

Check mode, creation, idempotence (no write call on the second run, from the emulator's call
counts), diff, purge, absent, the look-alike license refusal, and the proof that matters: a user of
the integration license holding the PSL and the set replicating "Integration Admin" can read
Account, and the same user without the set gets INVALID_TYPE.
"""

from __future__ import annotations

import json
import time

import jwt

from test_sf_permission_set_harness import calls, delta, emu, run_task  # noqa: F401 (fixture)  pylint: disable=unused-import

ORG = "acme-prod"
SET = "Integration_Admin_Access"
REPLICATE = {"name": SET, "label": "Integration Admin access", "access_from": {"profile": "Integration Admin"},
             "system_permissions": ["RunFlows"]}


def set_rows(emu, name=SET):
    sets = emu.query(ORG, "SELECT Id, Label, LicenseId, PermissionsRunFlow FROM PermissionSet WHERE Name = '%s'"
                     % name)["records"]
    objects = emu.query(ORG, "SELECT SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, "
                             "PermissionsDelete FROM ObjectPermissions WHERE Parent.Name = '%s' "
                             "ORDER BY SobjectType" % name)["records"]
    return sets, objects


def test_replicate_profile_check_mode_then_create_then_converged(emu, tmp_path):
    before = calls(emu)
    checked = run_task(emu, tmp_path, "sf_permission_set", REPLICATE, check=True, diff=True)
    # Reads only: the set, the profile's access, the names of the setup entities it holds (issue 12: the
    # profile pre-authorizes MuleSoft Connector, grants OrderService and Bypass_Account_Rules) and the
    # same entities' Ids here; the module counts the same calls.
    assert delta(before, calls(emu)) == {"POST /composite": 4} == {"POST /composite": checked["api_usage"]["calls"]}
    assert checked["changed"] is True, checked
    assert set_rows(emu)[0] == []

    created = run_task(emu, tmp_path, "sf_permission_set", REPLICATE, diff=True)
    assert created["changed"] is True and created["diff"]["before"] == {}
    assert created["permission_set"]["object_permissions"] == {
        "Account": ["Create", "Delete", "Edit", "Read"], "Contact": ["Create", "Delete", "Edit", "Read"],
        "Opportunity": ["Read"]}
    assert created["permission_set"]["license"] == "Salesforce API Integration"
    assert created["api_usage"]["calls"] == 5  # the four reads above, one all-or-none write
    carried = emu.query(ORG, "SELECT SetupEntityType FROM SetupEntityAccess WHERE Parent.Name = '%s' "
                             "ORDER BY SetupEntityType" % SET)["records"]
    assert [row["SetupEntityType"] for row in carried] == ["ApexClass", "ConnectedApplication", "CustomPermission"]
    sets, objects = set_rows(emu)
    psl = emu.query(ORG, "SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")
    assert sets[0]["LicenseId"] == psl["records"][0]["Id"] and sets[0]["PermissionsRunFlow"] is True
    assert [o["SobjectType"] for o in objects] == ["Account", "Contact", "Opportunity"]

    before = calls(emu)
    again = run_task(emu, tmp_path, "sf_permission_set", REPLICATE, diff=True)
    assert again["changed"] is False and again["changes"] == []
    assert again["diff"]["before"] == again["diff"]["after"]
    # The four reads, no write of any kind.
    assert delta(before, calls(emu)) == {"POST /composite": 4}


def test_update_backup_purge_and_absent(emu, tmp_path):
    spec = {"name": "Sync_Read_Api", "object_permissions": {"Account": "r", "Contact": "r"},
            "field_permissions": {"Account.Industry": "read"}, "backup_dir": str(tmp_path / "backups")}
    assert run_task(emu, tmp_path, "sf_permission_set", spec)["changed"] is True
    narrowed = run_task(emu, tmp_path, "sf_permission_set",
                        dict(spec, object_permissions={"Account": "r"}, field_permissions=None, purge=True),
                        diff=True)
    assert narrowed["changed"] is True
    assert narrowed["diff"]["before"]["object_permissions"] == {"Account": ["Read"], "Contact": ["Read"]}
    assert narrowed["diff"]["after"]["object_permissions"] == {"Account": ["Read"]}
    assert narrowed["diff"]["after"]["field_permissions"] == {}
    with open(narrowed["backup_file"]) as stream:
        backup = json.load(stream)
    assert backup["data"]["public"]["field_permissions"] == {"Account.Industry": ["Read"]}
    assert [o["SobjectType"] for o in set_rows(emu, "Sync_Read_Api")[1]] == ["Account"]

    gone = run_task(emu, tmp_path, "sf_permission_set", {"name": "Sync_Read_Api", "state": "absent",
                                                         "backup_dir": str(tmp_path / "backups")})
    assert gone["changed"] is True and "backup_file" in gone
    assert set_rows(emu, "Sync_Read_Api")[0] == []
    before = calls(emu)
    again = run_task(emu, tmp_path, "sf_permission_set", {"name": "Sync_Read_Api", "state": "absent"})
    assert again["changed"] is False and delta(before, calls(emu)) == {"POST /composite": 1}


def test_assigned_set_is_not_deleted(emu, tmp_path):
    result = run_task(emu, tmp_path, "sf_permission_set", {"name": "Sales_Ops", "state": "absent"}, expect_failure=True)
    assert "svc.mulesoft@acme.example" in result["msg"]
    assert set_rows(emu, "Sales_Ops")[0]


def test_a_dedicated_set_is_never_reused_for_another_user(emu, tmp_path):
    """Issue 13: a set made for one integration user, reused for another, gives each the other's access."""
    spec = {"name": "Dedicated_Sync", "license": "none", "object_permissions": {"Account": "r"},
            "dedicated_to": "svc.etl@acme.example"}
    etl_id = emu.query(ORG, "SELECT Id FROM User WHERE Username = 'svc.etl@acme.example'")["records"][0]["Id"]
    created = run_task(emu, tmp_path, "sf_permission_set", spec)
    assert created["changed"] is True
    assert created["permission_set"]["description"] == (
        "Access of svc.etl@acme.example (user %s), carried over by sfops.integration_users for this user only." % etl_id)
    before = calls(emu)
    again = run_task(emu, tmp_path, "sf_permission_set", spec)
    # Not assigned yet: the read and one query for the user's Id, no write.
    assert again["changed"] is False and delta(before, calls(emu)) == {"POST /composite": 1, "GET /query": 1}
    set_id = emu.query(ORG, "SELECT Id FROM PermissionSet WHERE Name = 'Dedicated_Sync'")["records"][0]["Id"]
    assigned = emu.rest(ORG, "POST", "sobjects/PermissionSetAssignment",
                        json={"AssigneeId": etl_id, "PermissionSetId": set_id})
    assert assigned.status_code == 201, assigned.text
    before = calls(emu)
    again = run_task(emu, tmp_path, "sf_permission_set", spec)
    # Held by its user: the check rides in the one read.
    assert again["changed"] is False and delta(before, calls(emu)) == {"POST /composite": 1}

    before = calls(emu)
    other = run_task(emu, tmp_path, "sf_permission_set", dict(spec, dedicated_to="svc.mulesoft@acme.example"),
                     expect_failure=True)
    assert "permission set Dedicated_Sync was made for user %s, not for svc.mulesoft@acme.example" % etl_id \
        in other["msg"], other["msg"]
    assert "permission set Dedicated_Sync is assigned to 1 other user(s): svc.etl@acme.example" in other["msg"]
    assert "never reused for another" in other["msg"] and delta(before, calls(emu)) == {"POST /composite": 1, "GET /query": 1}

    # Sales_Ops is assigned to svc.mulesoft: dedicating it to svc.etl is refused before anything else.
    before = calls(emu)
    shared = run_task(emu, tmp_path, "sf_permission_set", {"name": "Sales_Ops", "dedicated_to": "svc.etl@acme.example"},
                      expect_failure=True)
    assert "permission set Sales_Ops is assigned to 1 other user(s): svc.mulesoft@acme.example" in shared["msg"]
    assert delta(before, calls(emu)) == {"POST /composite": 1, "GET /query": 1}

    missing = run_task(emu, tmp_path, "sf_permission_set", dict(spec, dedicated_to="svc.gone@acme.example"),
                       expect_failure=True)
    assert "this org has no user svc.gone@acme.example to dedicate permission set Dedicated_Sync to" in missing["msg"]


def test_look_alike_license_refused_with_explanation(emu, tmp_path):
    before = calls(emu)
    result = run_task(emu, tmp_path, "sf_permission_set",
                      {"name": "Wrong_License", "license": "Salesforce Integration",
                       "object_permissions": {"Account": "r"}}, expect_failure=True)
    assert "look-alike" in result["msg"] and "Salesforce API Integration" in result["msg"]
    assert delta(before, calls(emu)) == {"POST /composite": 1}
    assert set_rows(emu, "Wrong_License")[0] == []


def test_missing_option_and_bad_spec_fail_at_run_time(emu, tmp_path):
    result = run_task(emu, tmp_path, "sf_permission_set", {"label": "no name"}, expect_failure=True)
    assert "name" in result["msg"]
    result = run_task(emu, tmp_path, "sf_permission_set",
                      {"name": "Bad_Rights", "object_permissions": {"Account": {"raed": True}}}, expect_failure=True)
    assert "raed" in result["msg"]


# ---- the user's view: can an integration user read Account with the replicated set? ----------

def _create_integration_user(emu, username):
    """A user on the integration profile holding the integration PSL, created over REST as the admin."""
    profile = emu.query(ORG, "SELECT Id FROM Profile WHERE Name = 'Minimum Access - API Only Integrations'")
    answer = emu.rest(ORG, "POST", "sobjects/User", json={
        "Username": username, "LastName": "Reader", "Email": "reader@acme.example", "Alias": "reader",
        "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US", "ProfileId": profile["records"][0]["Id"]})
    assert answer.status_code == 201, answer.text
    user_id = answer.json()["id"]
    psl = emu.query(ORG, "SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")
    answer = emu.rest(ORG, "POST", "sobjects/PermissionSetLicenseAssign",
                      json={"AssigneeId": user_id, "PermissionSetLicenseId": psl["records"][0]["Id"]})
    assert answer.status_code == 201, answer.text
    return user_id


def _token_for(emu, username):
    org = emu.org(ORG)
    with open(org["admin"]["private_key_file"]) as stream:
        key = stream.read()
    assertion = jwt.encode({"iss": org["admin"]["client_id"], "sub": username, "aud": org["audience"],
                            "exp": int(time.time()) + 120}, key, algorithm="RS256")
    answer = emu.http.post(org["login_url"] + "/services/oauth2/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def _read_accounts(emu, token):
    return emu.rest(ORG, "GET", "query", token=token, params={"q": "SELECT Id, Name FROM Account LIMIT 5"})


def test_integration_user_reads_account_only_with_the_replicated_set(emu, tmp_path):
    username = "reader.integration@acme.example"
    user_id = _create_integration_user(emu, username)
    token = _token_for(emu, username)
    refused = _read_accounts(emu, token)
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "INVALID_TYPE"

    result = run_task(emu, tmp_path, "sf_permission_set", REPLICATE)
    answer = emu.rest(ORG, "POST", "sobjects/PermissionSetAssignment",
                      json={"AssigneeId": user_id, "PermissionSetId": result["id"]})
    assert answer.status_code == 201, answer.text
    allowed = _read_accounts(emu, token)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["totalSize"] > 0


def test_refused_object_is_named_and_nothing_is_written(emu, tmp_path):
    # Setup objects cannot be granted through ObjectPermissions: Salesforce refuses the row, and with
    # the all-or-none write the set itself is not created either.
    result = run_task(emu, tmp_path, "sf_permission_set",
                      {"name": "Refused_Rows", "object_permissions": {"Account": "r", "User": "r"}},
                      expect_failure=True)
    assert "object User: Read" in result["msg"] and "nothing was written" in result["msg"]
    assert "object Account" not in result["msg"]
    assert set_rows(emu, "Refused_Rows")[0] == []


GAP_OF_MULESOFT = ("{{ (check.users | selectattr('username', 'equalto', 'svc.mulesoft@acme.example') | first)"
                   ".access_gap }}")


def test_access_gap_of_sf_profile_check_becomes_a_set(fresh_emulator, playbook):
    """The contract between the two modules: the gap sf_profile_check reports for svc.mulesoft
    (its profile and the Sales_Ops set it must give up) is re-granted by the set, unchanged."""
    connection = dict((option, "{{ sf_%s }}" % option) for option in ("login_url", "client_id", "client_secret",
                                                                      "ca_path"))
    connection["auth"] = "client_credentials"
    run = playbook(fresh_emulator, [{
        "hosts": ORG, "gather_facts": False,
        "module_defaults": {"group/sfops.integration_users.salesforce": connection},
        "tasks": [
            {"name": "check", "register": "check", "sfops.integration_users.sf_profile_check": {
                "users": ["svc.mulesoft@acme.example"], "scans": ["apex"]}},
            {"name": "replicate the gap", "sfops.integration_users.sf_permission_set": {
                "name": "Mulesoft_Gap", "access_from": {"access_gap": GAP_OF_MULESOFT}}},
        ]}], orgs=[ORG])
    assert run.rc == 0, run.output[-3000:]
    gap = [u for u in run.result("check")["users"] if u["username"] == "svc.mulesoft@acme.example"][0]["access_gap"]
    created = run.result("replicate the gap")
    assert created["changed"] is True
    assert created["permission_set"]["object_permissions"] == gap["objects"] == {
        "Account": ["Create", "Delete", "Edit", "Read"], "Contact": ["Create", "Delete", "Edit", "Read"],
        "Opportunity": ["Create", "Delete", "Edit", "Read"]}
    rows = set_rows(fresh_emulator, "Mulesoft_Gap")[1]
    assert [o["SobjectType"] for o in rows] == ["Account", "Contact", "Opportunity"]
