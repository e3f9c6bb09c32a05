"""Issue 12 in the store: setup-entity access, record types, custom permissions, Tooling Profile.Metadata,
Apex class access, login hours; each rule allowed with the grant and refused without it."""
import copy
import datetime
import os

import pytest
import yaml

from sfemu import setup_access
from sfemu.errors import SFError
from sfemu.estate import Estate, EstateError

ESTATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "estates")
ACCESS = os.path.join(ESTATES, "access.yml")
NOW = datetime.datetime(2026, 11, 20, 12, 0, 0, tzinfo=datetime.timezone.utc)
DOMAIN = "@acme.access"


def _data():
    with open(ACCESS, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture
def org(data):
    return Estate.from_dict(data, seed=7, now=NOW).orgs["acme-prod"]


def _user(org, name):
    return org.find_user(name if "@" in name else name + DOMAIN)


def _id(org, soql):
    return org.query(soql, None).records[0]["Id"]


def test_the_issue_fragment_loads_and_grants_through_the_profile(org):
    mule = _user(org, "svc.mulesoft@acme.example")
    assert setup_access.entity_ids(org, mule) == {
        "ApexClass": ["OrderService"], "ConnectedApplication": ["MuleSoft Connector"],
        "CustomPermission": ["Bypass_Account_Rules"]}
    assert setup_access.entity_ids(org, _user(org, "svc.connector")) == {
        "ApexClass": ["OrderService"], "ConnectedApplication": ["MuleSoft Connector"],
        "CustomPermission": ["Bypass_Account_Rules"]}
    assert setup_access.entity_ids(org, _user(org, "svc.bare")) == {}
    rows = org.query("SELECT Parent.Profile.Name, SetupEntityType FROM SetupEntityAccess "
                     "WHERE Parent.IsOwnedByProfile = true "
                     "AND SetupEntityId IN (SELECT Id FROM ConnectedApplication WHERE "
                     "OptionsAllowAdminApprovedUsersOnly = true)", org.admin_user).records
    assert [(r["Parent"]["Profile"]["Name"], r["SetupEntityType"]) for r in rows] == [
        ("Integration Admin", "ConnectedApplication")]


def test_setup_entity_access_create_delete_duplicate_unknown(org):
    admin, bare = org.admin_user, _user(org, "svc.bare")
    parent = org.profile_permission_set(bare["ProfileId"])["Id"]
    app_id = _id(org, "SELECT Id FROM ConnectedApplication WHERE Name = 'MuleSoft Connector'")
    assert app_id not in setup_access.model(org).entities_of(bare)
    new_id = org.create("SetupEntityAccess", {"ParentId": parent, "SetupEntityId": app_id}, admin)
    assert app_id in setup_access.model(org).entities_of(bare)
    row = org.query("SELECT SetupEntityType, ParentId FROM SetupEntityAccess WHERE Id = '%s'" % new_id,
                    admin).records[0]
    assert row["SetupEntityType"] == "ConnectedApplication" and row["ParentId"] == parent
    with pytest.raises(SFError) as dup:
        org.create("SetupEntityAccess", {"ParentId": parent, "SetupEntityId": app_id}, admin)
    assert dup.value.error_code == "DUPLICATE_VALUE"
    account = _id(org, "SELECT Id FROM Account LIMIT 1")
    with pytest.raises(SFError) as unknown:
        org.create("SetupEntityAccess", {"ParentId": parent, "SetupEntityId": account}, admin)
    assert unknown.value.error_code == "INVALID_CROSS_REFERENCE_KEY" and unknown.value.fields == ["SetupEntityId"]
    with pytest.raises(SFError) as not_updateable:
        org.update("SetupEntityAccess", new_id, {"SetupEntityId": app_id}, admin)
    assert not_updateable.value.status == 405
    org.delete("SetupEntityAccess", new_id, admin)
    assert app_id not in setup_access.model(org).entities_of(bare)


def test_setup_entity_access_needs_setup_rights(org):
    mule = _user(org, "svc.mulesoft@acme.example")   # no View Setup, no Manage Profiles and Permission Sets
    parent = org.profile_permission_set(mule["ProfileId"])["Id"]
    app_id = _id(org, "SELECT Id FROM ConnectedApplication WHERE Name = 'Legacy Sync'")
    for call in (lambda: org.query("SELECT Id FROM SetupEntityAccess", mule),
                 lambda: org.create("SetupEntityAccess", {"ParentId": parent, "SetupEntityId": app_id}, mule)):
        with pytest.raises(SFError) as refused:
            call()
        assert refused.value.error_code in ("INVALID_TYPE", "NOT_FOUND")


def test_deleting_a_permission_set_takes_its_setup_access(org):
    connector = _user(org, "svc.connector")
    mule_access = _id(org, "SELECT Id FROM PermissionSet WHERE Name = 'Order_Api'")
    for psa in org.assignments_of(connector["Id"]):
        if psa["PermissionSetId"] == mule_access:
            org.delete("PermissionSetAssignment", psa["Id"], org.admin_user)
    org.delete("PermissionSet", mule_access, org.admin_user)
    assert org.query("SELECT COUNT() FROM SetupEntityAccess WHERE ParentId = '%s'" % mule_access, None).total_size == 0
    assert "ApexClass" not in setup_access.entity_ids(org, connector)


def test_oauth_tokens_of_other_users_need_customize_application(data):
    changed = copy.deepcopy(data)
    legacy_profile = next(p for p in changed["orgs"][0]["profiles"] if p["name"] == "Legacy Sync Integration")
    legacy_profile["permissions"] = ["ApiEnabled", "ViewSetup"]
    org = Estate.from_dict(changed, seed=7, now=NOW).orgs["acme-prod"]
    everyone = org.query("SELECT AppName, User.Username, UseCount FROM OauthToken ORDER BY UseCount", org.admin_user)
    assert [(r["AppName"], r["UseCount"]) for r in everyone.records] == [
        ("Legacy Sync", 12), ("MuleSoft Connector", 90), ("MuleSoft Connector", 4200)]
    own = org.query("SELECT AppName, UserId FROM OauthToken", _user(org, "svc.legacy")).records
    assert [(r["AppName"], r["UserId"]) for r in own] == [("Legacy Sync", _user(org, "svc.legacy")["Id"])]
    with pytest.raises(SFError):          # no View Setup at all: the object is not there
        org.query("SELECT Id FROM OauthToken", _user(org, "svc.remote"))


def test_tooling_profile_metadata_one_row(org):
    admin = org.admin_user
    rows = org.query("SELECT FullName, Metadata FROM Profile WHERE Name = 'Integration Admin'", admin,
                     tooling=True).records
    meta = rows[0]["Metadata"]
    assert rows[0]["FullName"] == "Integration Admin"
    assert meta["loginIpRanges"] == [{"startAddress": "127.0.0.1", "endAddress": "127.0.0.255", "description": None}]
    assert meta["recordTypeVisibilities"] == [{"recordType": "Account.Partner", "visible": True, "default": True,
                                               "personAccountDefault": None}]
    assert meta["classAccesses"] == [{"apexClass": "OrderService", "enabled": True}]
    assert meta["customPermissions"] == [{"name": "Bypass_Account_Rules", "enabled": True}]
    assert {"name": "PasswordNeverExpires", "enabled": True} in meta["userPermissions"]
    nightly = org.query("SELECT Metadata FROM Profile WHERE Name = 'Nightly Window Integration'", admin,
                        tooling=True).records[0]["Metadata"]
    assert nightly["loginHours"]["mondayStart"] == 0 and nightly["loginHours"]["mondayEnd"] == 0
    with pytest.raises(SFError) as many:
        org.query("SELECT Metadata FROM Profile", admin, tooling=True)
    assert "no more than one row" in many.value.message
    with pytest.raises(SFError) as standard:
        org.query("SELECT Metadata FROM Profile WHERE Name = 'Integration Admin'", admin)
    assert standard.value.error_code == "INVALID_FIELD"
    assert org.query("SELECT PermissionsPasswordNeverExpires FROM PermissionSet WHERE Profile.Name = "
                     "'Integration Admin'", admin).records[0]["PermissionsPasswordNeverExpires"] is True


def test_record_type_default_and_visibility_on_create(org):
    partner = _id(org, "SELECT Id FROM RecordType WHERE DeveloperName = 'Partner'")
    supplier = _id(org, "SELECT Id FROM RecordType WHERE DeveloperName = 'Supplier'")
    mule, connector = _user(org, "svc.mulesoft@acme.example"), _user(org, "svc.connector")
    site = {"Website": "https://x.example"}
    created = org.create("Account", dict(site, Name="Default"), mule)
    assert org.get_row("Account", created)["RecordTypeId"] == partner          # the profile's default
    with pytest.raises(SFError) as refused:
        org.create("Account", dict(site, Name="Supplier", RecordTypeId=supplier), mule)
    assert refused.value.error_code == "INVALID_CROSS_REFERENCE_KEY" and refused.value.fields == ["RecordTypeId"]
    assert refused.value.message == "Record Type ID: this ID value isn't valid for the user: %s" % supplier
    with pytest.raises(SFError):
        org.update("Account", created, {"RecordTypeId": supplier}, mule)
    # Visible through a permission set, no default on the integration profile: a create without one gets none.
    assert org.get_row("Account", org.create("Account", dict(site, Name="P", RecordTypeId=partner), connector))[
        "RecordTypeId"] == partner
    assert org.get_row("Account", org.create("Account", dict(site, Name="N"), connector))["RecordTypeId"] is None
    assert org.get_row("Account", org.create("Account", dict(site, Name="S", RecordTypeId=supplier),
                                             org.admin_user))["RecordTypeId"] == supplier


def test_describe_record_type_infos_follow_the_running_user(org):
    def infos(user):
        return {i["developerName"]: (i["available"], i["defaultRecordTypeMapping"])
                for i in org.describe("Account", user)["recordTypeInfos"]}
    assert infos(_user(org, "svc.mulesoft@acme.example")) == {
        "Partner": (True, True), "Supplier": (False, False), "Master": (False, False)}
    assert infos(_user(org, "svc.connector")) == {
        "Partner": (True, False), "Supplier": (False, False), "Master": (False, True)}
    assert {f["name"] for f in org.describe("Account", org.admin_user)["fields"]} >= {"RecordTypeId"}
    assert [i["name"] for i in org.describe("Contact", org.admin_user)["recordTypeInfos"]] == ["Master"]
    assert org.describe("Contact", org.admin_user)["recordTypeInfos"][0]["available"] is True


def test_permission_in_formulas(org):
    admin, mule, connector = org.admin_user, _user(org, "svc.mulesoft@acme.example"), _user(org, "svc.connector")
    org.create("Account", {"Name": "No site, bypass by profile"}, mule)
    org.create("Account", {"Name": "No site, bypass by permission set"}, connector)
    with pytest.raises(SFError) as refused:
        org.create("Account", {"Name": "No site, no bypass"}, admin)
    assert refused.value.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    org.create("Account", {"Name": "With a site", "Website": "https://a.example"}, admin)


@pytest.mark.parametrize("who, method, path, status, body", [
    ("svc.mulesoft@acme.example", "GET", "/orders/42", 200, "ok"),
    ("svc.connector", "GET", "/orders/7", 200, "ok"),        # class access through Order_Api
    ("admin", "GET", "/orders/1", 200, "ok"),                # Author Apex grants every class
    ("svc.bare", "GET", "/orders/1", 403,
     [{"errorCode": "FORBIDDEN", "message": "You do not have access to the Apex class named: OrderService"}]),
    ("svc.mulesoft@acme.example", "POST", "/orders/1", 405, None),
    ("svc.mulesoft@acme.example", "GET", "/invoices/1", 404, None),
])
def test_apex_rest_class_access(org, who, method, path, status, body):
    user = org.admin_user if who == "admin" else _user(org, who)
    got_status, got_body = setup_access.apex_rest(org, user, method, path)
    assert got_status == status
    if body is not None:
        assert got_body == body


def test_login_hours_in_the_org_time_zone(org):
    hours = {"monday": (8 * 60, 18 * 60)}
    monday_noon_la = datetime.datetime(2026, 11, 23, 20, 0, tzinfo=datetime.timezone.utc)   # 12:00 PST
    monday_night_la = datetime.datetime(2026, 11, 24, 3, 0, tzinfo=datetime.timezone.utc)   # 19:00 PST
    assert setup_access.within_login_hours(org, hours, monday_noon_la)
    assert not setup_access.within_login_hours(org, hours, monday_night_la)
    assert setup_access.within_login_hours(org, hours, monday_noon_la + datetime.timedelta(days=1))  # Tuesday: any time


@pytest.mark.parametrize("edit, message", [
    (lambda o: o["profiles"][1]["setup_access"].update(apex_classes=["Nope"]), "'Nope' is not declared"),
    (lambda o: o["profiles"][1]["setup_access"].update(widgets=["x"]), "setup_access keys are"),
    (lambda o: o["profiles"][1].update(record_types={"Account": {"visible": ["Partner"], "default": "Supplier"}}),
     "must be one of its visible ones"),
    (lambda o: o["permission_sets"][0].update(login_ip_ranges=[{"start": "1.1.1.1", "end": "1.1.1.2"}]),
     "profiles only"),
    (lambda o: o["profiles"][1].update(login_ip_ranges=[{"start": "10.0.0.9", "end": "10.0.0.1"}]),
     "must not follow"),
    (lambda o: o["profiles"][4].update(login_hours={"monday": "8-18"}), "HH:MM-HH:MM"),
    (lambda o: o["users"][1].update(oauth_tokens=[{"app": "Nope"}]), "unknown connected app"),
    (lambda o: o.update(record_types=[{"object": "User", "name": "X"}]), "not a data object"),
])
def test_estate_mistakes_are_refused(data, edit, message):
    changed = copy.deepcopy(data)
    edit(changed["orgs"][0])
    with pytest.raises(EstateError) as refused:
        Estate.from_dict(changed, seed=7, now=NOW)
    assert message in str(refused.value)


def test_sandbox_copy_keeps_the_grants(data):
    uat = Estate.from_dict(data, seed=7, now=NOW).orgs["acme-uat"]
    mule = uat.find_user("svc.mulesoft@acme.example.uat")
    assert setup_access.entity_ids(uat, mule)["ConnectedApplication"] == ["MuleSoft Connector"]
    assert setup_access.model(uat).login_ip_ranges[mule["ProfileId"]][0][:2] == ("127.0.0.1", "127.0.0.255")
