"""The store's data API: records, describe, savepoints, sessions, logins, limits, dump_state, queries."""
import datetime
import os

import pytest

from sfemu.errors import SFError
from sfemu.estate import Estate
from sfemu.generate import generate

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "estates", "example.yml")
NOW = datetime.datetime(2026, 11, 20, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def key_material():
    return Estate.from_file(EXAMPLE, seed=1, now=NOW)._key_material


@pytest.fixture
def estate(key_material):
    return Estate.from_file(EXAMPLE, seed=1, now=NOW, key_material=key_material)


@pytest.fixture
def org(estate):
    return estate.orgs["acme-prod"]


@pytest.fixture
def admin(org):
    return org.admin_user


def test_get_record_returns_every_field_rendered(org, admin):
    user = org.find_user("svc.old@acme.example")
    body = org.get_record("User", user["Id"][:15], admin)
    assert body["attributes"] == {"type": "User", "url": "/services/data/v62.0/sobjects/User/%s" % user["Id"]}
    assert set(body) - {"attributes"} == {f.name for f in org.object_def("User").fields.values()}
    assert body["LastLoginDate"] is None and body["UserRoleId"] is None and body["IsActive"] is False
    assert len(body["CreatedDate"]) == len("2023-03-14T10:00:00.000+0000") and body["CreatedDate"].endswith("+0000")
    some = org.get_record("User", user["Id"], admin, fields=["Username", "profileid"])
    assert set(some) == {"attributes", "Username", "ProfileId"}
    setting = next(iter(org.rows("Trigger_Bypass__c")))
    assert org.object_name_of(setting["Id"][:15]) == "Trigger_Bypass__c" and org.object_name_of("nope") is None
    with pytest.raises(SFError) as info:
        org.get_record("User", "005000000000000AAA", admin)
    assert (info.value.status, info.value.error_code) == (404, "NOT_FOUND")


def test_create_update_delete_a_data_record(org, admin):
    new_id = org.create("Account", {"Name": "Fresh Co", "Industry": "Retail", "NumberOfEmployees": 12,
                                      "AnnualRevenue": 1000}, admin)
    row = org.get_row("Account", new_id)
    assert row["OwnerId"] == admin["Id"] and row["CreatedById"] == admin["Id"] and row["AnnualRevenue"] == 1000.0
    org.update("Account", new_id, {"Industry": "Energy"}, admin)
    assert org.get_row("Account", new_id)["Industry"] == "Energy"
    org.delete("account", new_id, admin)
    assert org.get_row("Account", new_id) is None
    with pytest.raises(SFError) as info:
        org.update("Account", new_id, {"Name": "gone"}, admin)
    assert info.value.status == 404


def test_field_values_are_type_checked(org, admin):
    with pytest.raises(SFError) as info:
        org.create("Account", {"Name": "X", "NumberOfEmployees": "many"}, admin)
    assert info.value.error_code == "JSON_PARSER_ERROR"
    with pytest.raises(SFError):
        org.update("User", admin["Id"], {"IsActive": "yes"}, admin)


def test_describe_and_describe_global(org, admin):
    body = org.describe("user", admin)
    assert body["name"] == "User" and body["keyPrefix"] == "005" and body["deletable"] is False
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["ProfileId"]["referenceTo"] == ["Profile"] and fields["ProfileId"]["relationshipName"] == "Profile"
    assert fields["Name"]["createable"] is False
    children = {c["relationshipName"]: c for c in body["childRelationships"]}
    assert children["PermissionSetLicenseAssignments"]["childSObject"] == "PermissionSetLicenseAssign"
    pset = {f["name"]: f for f in org.describe("PermissionSet", admin)["fields"]}
    assert pset["LicenseId"]["referenceTo"] == ["UserLicense", "PermissionSetLicense"]
    assert pset["LicenseId"]["relationshipName"] == "License"
    rest = {o["name"] for o in org.describe_global(admin)["sobjects"]}
    tooling = {o["name"] for o in org.describe_global(admin, tooling=True)["sobjects"]}
    assert {"Account", "User", "ApexClass", "Trigger_Bypass__c"} <= rest and "ValidationRule" not in rest
    assert {"ApexClass", "ApexTrigger", "ValidationRule", "Flow", "FlowDefinition"} <= tooling
    assert "Account" not in tooling
    with pytest.raises(SFError) as info:
        org.describe("ValidationRule", admin)
    assert info.value.status == 404


def test_savepoint_rollback_undoes_every_write(org, admin):
    before = org.dump_state()
    accounts = len(org.tables["Account"])
    sp = org.savepoint()
    user_id = org.create("User", {
        "Username": "rolled@acme.example", "LastName": "Back", "Email": "r@example.com", "Alias": "rb",
        "ProfileId": org.find_user("svc.etl@acme.example")["ProfileId"]}, admin)
    org.create("PermissionSetAssignment", {"AssigneeId": user_id, "PermissionSetId": next(
        s["Id"] for s in org.rows("PermissionSet") if s["Name"] == "Sync_Read")}, admin)
    org.update("User", org.find_user("jane.doe@acme.example")["Id"], {"IsActive": False}, admin)
    org.create("Account", {"Name": "Temp", "Industry": "Retail"}, admin)
    org.delete("Account", next(iter(org.rows("Account")))["Id"], admin)
    sp.rollback()
    assert org.dump_state() == before and len(org.tables["Account"]) == accounts
    assert org.find_user("rolled@acme.example") is None and not org.estate.username_owner("rolled@acme.example")
    # A released savepoint keeps the writes.
    with org.savepoint():
        org.create("Account", {"Name": "Kept", "Industry": "Retail"}, admin)
    assert any(a["Name"] == "Kept" for a in org.rows("Account"))


def test_sessions_and_logins(org, admin):
    token = org.new_session(admin["Id"])
    assert token.startswith(org.org_id[:15] + "!")
    assert org.session_user(token)["Id"] == admin["Id"] and org.session_user("nope") is None
    etl = org.find_user("svc.etl@acme.example")
    etl_token = org.new_session(etl["Id"])
    org.update("User", etl["Id"], {"IsActive": False}, admin)
    assert org.session_user(etl_token) is None           # a deactivated user's sessions stop working
    org.expire_sessions()
    assert org.session_user(token) is None
    count = len(org.tables["LoginHistory"])
    row = org.record_login(admin["Id"], "Remote Access 2.0", "Success", "Ops Automation", api_type="N/A")
    assert len(org.tables["LoginHistory"]) == count + 1 and row["Id"].startswith("0Ya")
    assert org.find_user("admin@acme.example")["LastLoginDate"] == row["LoginTime"]
    failed = org.record_login(admin["Id"], "Remote Access 2.0", "Failed: Invalid Password", "Ops Automation")
    assert org.find_user("admin@acme.example")["LastLoginDate"] == row["LoginTime"] <= failed["LoginTime"]


def test_api_accounting_and_limits(org):
    org.count_call("query")
    org.count_call("query")
    org.count_call("composite")
    assert org.call_counts == {"query": 2, "composite": 1} and org.api_used == 3
    assert org.limits()["DailyApiRequests"] == {"Max": 100000, "Remaining": 99997}
    org.api_used = 100001
    assert org.limits()["DailyApiRequests"]["Remaining"] == 0


def test_queries_through_the_engine(org, admin):
    result = org.query("SELECT Username, Profile.UserLicense.Name, (SELECT PermissionSet.Name FROM "
                       "PermissionSetAssignments WHERE PermissionSet.IsOwnedByProfile = false) FROM User "
                       "WHERE Username LIKE 'svc.%' ORDER BY Username", admin)
    rows = {r["Username"]: r for r in result.records}
    assert rows["svc.mulesoft@acme.example"]["PermissionSetAssignments"]["records"][0]["PermissionSet"]["Name"] == \
        "Sales_Ops"
    assert rows["svc.etl@acme.example"]["PermissionSetAssignments"] is None
    seats = org.query("SELECT Name, UsedLicenses, TotalLicenses FROM UserLicense WHERE Name = "
                      "'Salesforce Integration'", admin).records[0]
    assert (seats["UsedLicenses"], seats["TotalLicenses"]) == (0, 5)
    api_logins = org.query("SELECT COUNT() FROM LoginHistory WHERE UserId = '%s' AND LoginType IN "
                           "('Remote Access 2.0', 'Other Apex API')" % org.find_user("svc.mulesoft@acme.example")["Id"],
                           admin)
    assert api_logins.total_size == 500
    owner = org.query("SELECT SetupOwner.Name, Disable_All__c FROM Trigger_Bypass__c", admin).records[0]
    assert owner["SetupOwner"]["attributes"]["type"] == "Profile" and owner["SetupOwner"]["Name"] == "Integration Admin"


def test_tooling_queries_and_single_row_metadata(org, admin):
    both = org.query("SELECT Name, Body FROM ApexClass", admin)
    tooling = org.query("SELECT Name, Body FROM ApexClass", admin, tooling=True)
    assert both.records[0]["Body"] == tooling.records[0]["Body"]
    assert tooling.records[0]["attributes"]["url"].startswith("/services/data/v62.0/tooling/sobjects/ApexClass/")
    rule = org.query("SELECT Id, FullName, Metadata FROM ValidationRule WHERE ValidationName = 'Require_Industry'",
                     admin, tooling=True).records[0]
    assert rule["FullName"] == "Account.Require_Industry"
    assert "$Profile.Name" in rule["Metadata"]["errorConditionFormula"]
    with pytest.raises(SFError) as info:
        org.query("SELECT Id FROM ValidationRule", admin)      # Tooling only
    assert info.value.error_code == "INVALID_TYPE"


def test_dump_state_shape(org):
    state = org.dump_state()
    assert set(state) >= {"name", "org_id", "users", "licenses", "permission_set_licenses", "api"}
    assert set(state["users"][0]) >= {"Username", "Profile", "UserLicense", "IsActive", "PermissionSets",
                                      "PermissionSetLicenses"}


def test_query_over_ten_thousand_users(capsys):
    """Benchmark (printed, not asserted): a 10,000-user org through the SOQL engine."""
    import time
    data = generate(orgs=1, users=10000, seed=5)
    data["orgs"] = data["orgs"][:1]
    for user in data["orgs"][0]["users"]:
        user["logins"] = {}          # login history is not what this measures, and dominates loading
    started = time.perf_counter()
    org = Estate.from_dict(data, seed=5).orgs["acme-prod"]
    loaded = time.perf_counter() - started
    org.query("SELECT Id FROM User LIMIT 1", org.admin_user)   # the parser's one-off start-up
    started = time.perf_counter()
    result = org.query("SELECT Id, Username, IsActive, Profile.Name, Profile.UserLicense.Name FROM User "
                       "WHERE IsActive = true", org.admin_user)
    queried = time.perf_counter() - started
    assert result.total_size > 9000
    with capsys.disabled():
        print("\n[bench] load 10,000-user org: %.2fs; query of %d users with 2-level lookups: %.3fs"
              % (loaded, result.total_size, queried))
