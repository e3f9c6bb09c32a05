"""Business rules of the store, each with Salesforce's status, errorCode and message."""
import datetime
import os

import pytest
import yaml

from sfemu.errors import SFError
from sfemu.estate import Estate

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "estates", "example.yml")
NOW = datetime.datetime(2026, 11, 20, 12, 0, 0, tzinfo=datetime.timezone.utc)
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"


@pytest.fixture(scope="module")
def key_material():
    return Estate.from_file(EXAMPLE, seed=1, now=NOW)._key_material


@pytest.fixture
def make_estate(key_material):
    def build(change=None):
        with open(EXAMPLE, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        if change:
            change(data["orgs"][0])
        return Estate.from_dict(data, seed=1, now=NOW, key_material=key_material)
    return build


@pytest.fixture
def estate(make_estate):
    return make_estate()


@pytest.fixture
def org(estate):
    return estate.orgs["acme-prod"]


@pytest.fixture
def admin(org):
    return org.admin_user


def error_of(call, *args, **kwargs):
    with pytest.raises(SFError) as info:
        call(*args, **kwargs)
    return info.value


def profile_id(org, name):
    return next(p["Id"] for p in org.rows("Profile") if p["Name"] == name)


def set_id(org, name):
    return next(p["Id"] for p in org.rows("PermissionSet") if p["Name"] == name)


def psl_id(org):
    return next(iter(org.rows("PermissionSetLicense")))["Id"]


def new_user(org, ctx, username, profile, **extra):
    fields = {"Username": username, "LastName": "Test", "Email": "t@example.com", "Alias": "test",
              "TimeZoneSidKey": "Europe/Paris", "LocaleSidKey": "fr_FR", "EmailEncodingKey": "UTF-8",
              "LanguageLocaleKey": "en_US", "ProfileId": profile_id(org, profile)}
    fields.update(extra)
    return org.create("User", fields, ctx)


def seats(org, license_name):
    return org.dump_state()["licenses"][license_name]


# ---- seats ----------------------------------------------------------------------------------------
def test_creating_users_beyond_the_integration_seats_fails(org, admin):
    for n in range(5):
        new_user(org, admin, "int%d@acme.example" % n, INTEGRATION_PROFILE)
    assert seats(org, "Salesforce Integration") == {"total": 5, "used": 5}
    err = error_of(new_user, org, admin, "int6@acme.example", INTEGRATION_PROFILE)
    assert (err.status, err.error_code, err.message) == (400, "LICENSE_LIMIT_EXCEEDED", "License Limit Exceeded")
    # An inactive user takes no seat, and UsedLicenses is what a query reads.
    new_user(org, admin, "int7@acme.example", INTEGRATION_PROFILE, IsActive=False)
    row = next(r for r in org.rows("UserLicense") if r["Name"] == "Salesforce Integration")
    assert row["UsedLicenses"] == 5


def test_activating_a_user_on_a_full_license_fails(make_estate):
    estate = make_estate(lambda o: o["licenses"].update(Salesforce=4))
    org = estate.orgs["acme-prod"]
    old = org.find_user("svc.old@acme.example")
    err = error_of(org.update, "User", old["Id"], {"IsActive": True}, org.admin_user)
    assert err.error_code == "LICENSE_LIMIT_EXCEEDED"
    org.update("User", org.find_user("svc.etl@acme.example")["Id"], {"IsActive": False}, org.admin_user)
    org.update("User", old["Id"], {"IsActive": True}, org.admin_user)
    assert seats(org, "Salesforce") == {"total": 4, "used": 4}


def test_moving_a_user_onto_a_full_license_fails(make_estate):
    estate = make_estate(lambda o: o["licenses"].update({"Salesforce Integration": 0}))
    org = estate.orgs["acme-prod"]
    etl = org.find_user("svc.etl@acme.example")
    err = error_of(org.update, "User", etl["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, org.admin_user)
    assert err.error_code == "LICENSE_LIMIT_EXCEEDED"
    assert org.find_user("svc.etl@acme.example")["ProfileId"] == etl["ProfileId"]


def test_permission_set_license_seats(make_estate):
    estate = make_estate(lambda o: o["permission_set_licenses"]["SalesforceAPIIntegrationPsl"].update(total=1))
    org = estate.orgs["acme-prod"]
    admin = org.admin_user
    first, second = (org.find_user(u)["Id"] for u in ("svc.etl@acme.example", "jane.doe@acme.example"))
    org.create("PermissionSetLicenseAssign", {"AssigneeId": first, "PermissionSetLicenseId": psl_id(org)}, admin)
    err = error_of(org.create, "PermissionSetLicenseAssign",
                   {"AssigneeId": second, "PermissionSetLicenseId": psl_id(org)}, admin)
    assert err.error_code == "LICENSE_LIMIT_EXCEEDED"
    assert next(iter(org.rows("PermissionSetLicense")))["UsedLicenses"] == 1


# ---- usernames and deletion -----------------------------------------------------------------------
def test_usernames_are_unique_in_the_org_and_across_orgs(estate, org, admin):
    err = error_of(new_user, org, admin, "JANE.DOE@acme.example", "Integration Admin")
    assert (err.error_code, err.fields) == ("DUPLICATE_USERNAME", ["Username"])
    assert "Usernames must be unique across all Salesforce organizations" in err.message
    uat = estate.orgs["acme-uat"]
    err = error_of(new_user, uat, uat.admin_user, "svc.etl@acme.example", "API Only")
    assert err.error_code == "DUPLICATE_USERNAME"
    jane = org.find_user("jane.doe@acme.example")
    err = error_of(org.update, "User", jane["Id"], {"Username": "admin@acme.example.uat"}, admin)
    assert err.error_code == "DUPLICATE_USERNAME"


def test_users_cannot_be_deleted(org, admin):
    assert org.describe("User", admin)["deletable"] is False
    err = error_of(org.delete, "User", org.find_user("svc.old@acme.example")["Id"], admin)
    assert (err.status, err.error_code) == (405, "METHOD_NOT_ALLOWED")
    assert err.message == "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH"


# ---- the license follows the profile --------------------------------------------------------------
def test_the_license_follows_the_profile(org, admin):
    etl = org.find_user("svc.etl@acme.example")
    org.update("User", etl["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, admin)
    state = {u["Username"]: u for u in org.dump_state()["users"]}
    assert state["svc.etl@acme.example"]["UserLicense"] == "Salesforce Integration"
    assert seats(org, "Salesforce Integration")["used"] == 1 and seats(org, "Salesforce")["used"] == 3
    # The profile's own permission set moved with it.
    owned = org.profile_permission_set(profile_id(org, INTEGRATION_PROFILE))
    assert [a["PermissionSetId"] for a in org.assignments_of(etl["Id"])] == [owned["Id"]]


def test_an_org_refusing_the_change_answers_field_integrity_exception(make_estate):
    estate = make_estate(lambda o: o.update(allow_license_change_to_integration=False))
    org = estate.orgs["acme-prod"]
    etl = org.find_user("svc.etl@acme.example")
    err = error_of(org.update, "User", etl["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, org.admin_user)
    assert (err.status, err.error_code, err.fields) == (400, "FIELD_INTEGRITY_EXCEPTION", ["ProfileId"])
    assert err.message == "You can only reassign this user to a profile of the current license."
    # Creating a new integration user is still possible: the refusal is about moving existing ones.
    new_user(org, org.admin_user, "int.new@acme.example", INTEGRATION_PROFILE)


# ---- permission sets and licenses -----------------------------------------------------------------
def test_a_set_of_another_user_license_cannot_be_assigned(org, admin):
    etl = org.find_user("svc.etl@acme.example")
    org.update("User", etl["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, admin)
    err = error_of(org.create, "PermissionSetAssignment",
                   {"AssigneeId": etl["Id"], "PermissionSetId": set_id(org, "Sales_Ops")}, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION" and "Sales Ops" in err.message


def test_integration_users_need_the_psl_for_any_standard_object_access(org, admin):
    etl = org.find_user("svc.etl@acme.example")
    org.update("User", etl["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, admin)
    sync_read = {"AssigneeId": etl["Id"], "PermissionSetId": set_id(org, "Sync_Read")}
    err = error_of(org.create, "PermissionSetAssignment", sync_read, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION"
    assert err.message == "Can't assign permission set Sync read to user ETL. The user license doesn't allow the " \
                          "permission: Read Account"
    psla = org.create("PermissionSetLicenseAssign", {"AssigneeId": etl["Id"], "PermissionSetLicenseId": psl_id(org)},
                      admin)
    org.create("PermissionSetAssignment", sync_read, admin)      # unbound, with the PSL: allowed
    assert error_of(org.delete, "PermissionSetLicenseAssign", psla, admin).error_code == "FIELD_INTEGRITY_EXCEPTION"


def test_a_profile_change_onto_the_integration_license_checks_unbound_sets(org, admin):
    jane = org.find_user("jane.doe@acme.example")
    org.create("PermissionSetAssignment", {"AssigneeId": jane["Id"], "PermissionSetId": set_id(org, "Sync_Read")},
               admin)
    err = error_of(org.update, "User", jane["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION" and "Read Account" in err.message
    # Holding the PSL beforehand makes the same move legal.
    org.create("PermissionSetLicenseAssign", {"AssigneeId": jane["Id"], "PermissionSetLicenseId": psl_id(org)}, admin)
    org.update("User", jane["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, admin)


def test_a_user_cannot_keep_a_set_of_another_license_through_a_profile_change(org, admin):
    mule = org.find_user("svc.mulesoft@acme.example")
    err = error_of(org.update, "User", mule["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION" and "Sales Ops" in err.message
    sales_ops = next(a for a in org.assignments_of(mule["Id"]) if a["PermissionSetId"] == set_id(org, "Sales_Ops"))
    org.delete("PermissionSetAssignment", sales_ops["Id"], admin)
    org.update("User", mule["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, admin)


def test_a_set_bound_to_a_psl_needs_the_psl_first(org, admin):
    set_fields = {"Name": "Integration_Access", "Label": "Integration access", "LicenseId": psl_id(org)}
    pset = org.create("PermissionSet", set_fields, admin)
    etl = org.find_user("svc.etl@acme.example")
    assignment = {"AssigneeId": etl["Id"], "PermissionSetId": pset}
    err = error_of(org.create, "PermissionSetAssignment", assignment, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION" and "Salesforce API Integration" in err.message
    psla = org.create("PermissionSetLicenseAssign", {"AssigneeId": etl["Id"], "PermissionSetLicenseId": psl_id(org)},
                      admin)
    org.create("PermissionSetAssignment", assignment, admin)
    # ...and the PSL cannot be taken away while that set is assigned.
    err = error_of(org.delete, "PermissionSetLicenseAssign", psla, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION"
    assert org.dump_state()["permission_set_licenses"]["SalesforceAPIIntegrationPsl"]["used"] == 1


def test_duplicate_assignments_are_duplicate_value(org, admin):
    mule = org.find_user("svc.mulesoft@acme.example")
    err = error_of(org.create, "PermissionSetAssignment",
                   {"AssigneeId": mule["Id"], "PermissionSetId": set_id(org, "Sales_Ops")}, admin)
    assert err.error_code == "DUPLICATE_VALUE"
    # Salesforce's text for this one (scripts around `sf org assign permset` match its start).
    assert err.message == "Duplicate PermissionSetAssignment. Assignee: %s, PermissionSet: %s" % (
        mule["Id"], set_id(org, "Sales_Ops"))
    org.create("PermissionSetLicenseAssign", {"AssigneeId": mule["Id"], "PermissionSetLicenseId": psl_id(org)}, admin)
    err = error_of(org.create, "PermissionSetLicenseAssign",
                   {"AssigneeId": mule["Id"], "PermissionSetLicenseId": psl_id(org)}, admin)
    assert err.error_code == "DUPLICATE_VALUE"


def test_profile_owned_sets_are_not_assigned_or_removed_directly(org, admin):
    jane = org.find_user("jane.doe@acme.example")
    owned = org.assignments_of(jane["Id"])[0]
    assert error_of(org.delete, "PermissionSetAssignment", owned["Id"], admin).error_code == "FIELD_INTEGRITY_EXCEPTION"
    other_profile_set = org.profile_permission_set(profile_id(org, "API Only"))
    err = error_of(org.create, "PermissionSetAssignment",
                   {"AssigneeId": jane["Id"], "PermissionSetId": other_profile_set["Id"]}, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION"


# ---- lookups and required fields ------------------------------------------------------------------
def test_unknown_ids_in_lookups(org, admin):
    err = error_of(org.create, "PermissionSetAssignment",
                   {"AssigneeId": "005000000000000AAA", "PermissionSetId": set_id(org, "Sync_Read")}, admin)
    assert (err.error_code, err.fields) == ("INVALID_CROSS_REFERENCE_KEY", ["AssigneeId"])
    err = error_of(org.create, "Contact", {"LastName": "X", "AccountId": set_id(org, "Sync_Read")}, admin)
    assert err.error_code == "INVALID_CROSS_REFERENCE_KEY"
    err = error_of(org.create, "Contact", {"LastName": "X", "AccountId": "not-an-id"}, admin)
    assert err.error_code == "MALFORMED_ID"


def test_required_fields(org, admin):
    err = error_of(org.create, "User", {"Username": "x@acme.example", "ProfileId": profile_id(org, "API Only")}, admin)
    assert err.error_code == "REQUIRED_FIELD_MISSING"
    assert err.fields == ["LastName", "Email", "Alias"]
    assert err.message == "Required fields are missing: [LastName, Email, Alias]"
    err = error_of(org.update, "Account", next(iter(org.rows("Account")))["Id"], {"Name": None}, admin)
    assert (err.error_code, err.fields) == ("REQUIRED_FIELD_MISSING", ["Name"])


def test_unknown_and_read_only_fields(org, admin):
    err = error_of(org.create, "Account", {"Name": "X", "Colour": "red"}, admin)
    assert (err.error_code, err.message) == ("INVALID_FIELD", "No such column 'Colour' on sobject of type Account")
    err = error_of(org.update, "User", admin["Id"], {"LastLoginDate": "2024-01-01T00:00:00Z"}, admin)
    assert (err.error_code, err.fields) == ("INVALID_FIELD_FOR_INSERT_UPDATE", ["LastLoginDate"])


# ---- access control -------------------------------------------------------------------------------
def add_auditor(org_spec):
    """A user who may read setup (View Setup) but change nothing in it."""
    org_spec["profiles"].append({"name": "Auditor", "license": "Salesforce",
                                 "permissions": ["ApiEnabled", "ViewSetup"]})
    org_spec["users"].append({"username": "auditor@acme.example", "profile": "Auditor", "last_name": "Auditor"})


def test_user_and_assignment_writes_need_their_permissions(make_estate):
    org = make_estate(add_auditor).orgs["acme-prod"]
    auditor = org.find_user("auditor@acme.example")
    jane = org.find_user("jane.doe@acme.example")
    err = error_of(org.update, "User", jane["Id"], {"Title": "CTO"}, auditor)
    assert err.error_code == "INSUFFICIENT_ACCESS_OR_READONLY"
    assignment = {"AssigneeId": jane["Id"], "PermissionSetId": set_id(org, "Sync_Read")}
    err = error_of(org.create, "PermissionSetAssignment", assignment, auditor)
    assert err.error_code == "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
    # Without View Setup the object is not even there for the caller.
    assert error_of(org.create, "PermissionSetAssignment", assignment, jane).error_code == "NOT_FOUND"


def test_object_crud_comes_from_profile_and_permission_sets(org):
    jane = org.find_user("jane.doe@acme.example")      # Integration Admin: Opportunity read only
    mule = org.find_user("svc.mulesoft@acme.example")  # same profile + Sales_Ops: Opportunity crud
    account = next(iter(org.rows("Account")))
    opportunity = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2027-01-31", "AccountId": account["Id"]}
    err = error_of(org.create, "Opportunity", opportunity, jane)
    assert err.error_code == "INSUFFICIENT_ACCESS_OR_READONLY"
    new_id = org.create("Opportunity", opportunity, mule)
    assert org.get_record("Opportunity", new_id, jane)["CloseDate"] == "2027-01-31"
    assert error_of(org.delete, "Opportunity", new_id, jane).error_code == "INSUFFICIENT_ACCESS_OR_READONLY"
    org.delete("Opportunity", new_id, mule)
    # No object permission at all: the object does not exist for this user.
    etl = org.find_user("svc.etl@acme.example")
    assert error_of(org.describe, "Account", etl).error_code == "NOT_FOUND"
    assert not org.can_read("Account", etl) and org.can_read("Account", jane)


def test_setup_reads_need_view_setup(org, admin):
    jane = org.find_user("jane.doe@acme.example")
    for name in ("Profile", "PermissionSet", "UserLicense", "Organization", "LoginHistory"):
        assert org.can_read(name, admin) and not org.can_read(name, jane), name
    assert org.can_read("User", jane)
    names = {o["name"] for o in org.describe_global(jane)["sobjects"]}
    assert "Account" in names and "Profile" not in names


def test_minimal_integration_user_gets_invalid_type_until_a_psl_bound_set_grants_read(org, admin):
    user_id = new_user(org, admin, "int.min@acme.example", INTEGRATION_PROFILE)
    user = org.get_row("User", user_id)
    for soql in ("SELECT Id FROM Account", "SELECT Id FROM Organization"):
        err = error_of(org.query, soql, user)
        assert (err.status, err.error_code) == (400, "INVALID_TYPE")
        assert "sObject type '%s' is not supported." % soql.split()[-1] in err.message
    pset = org.create("PermissionSet", {"Name": "Integration_Read", "Label": "Integration read",
                                        "LicenseId": psl_id(org)}, admin)
    org.create("ObjectPermissions", {"ParentId": pset, "SobjectType": "Account", "PermissionsRead": True}, admin)
    org.create("PermissionSetLicenseAssign", {"AssigneeId": user_id, "PermissionSetLicenseId": psl_id(org)}, admin)
    org.create("PermissionSetAssignment", {"AssigneeId": user_id, "PermissionSetId": pset}, admin)
    assert org.query("SELECT Id FROM Account", user).total_size == 25
    assert error_of(org.query, "SELECT Id FROM Organization", user).error_code == "INVALID_TYPE"


def test_the_user_license_look_alike_cannot_carry_standard_object_access(org, admin):
    integration_license = org.license_by_name("Salesforce Integration")["Id"]
    pset = org.create("PermissionSet", {"Name": "Look_Alike", "Label": "Look alike",
                                        "LicenseId": integration_license}, admin)
    err = error_of(org.create, "ObjectPermissions",
                   {"ParentId": pset, "SobjectType": "Account", "PermissionsRead": True}, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION"
    assert err.message == "The user license doesn't allow the permission: Read Account"


def test_object_permission_dependencies_and_duplicates(org, admin):
    pset = org.create("PermissionSet", {"Name": "Deps", "Label": "Deps"}, admin)
    err = error_of(org.create, "ObjectPermissions", {"ParentId": pset, "SobjectType": "Contact",
                                                     "PermissionsCreate": True}, admin)
    assert err.message == "Permission Create Contact depends on permission(s): Read Contact"
    perm = org.create("ObjectPermissions", {"ParentId": pset, "SobjectType": "contact", "PermissionsRead": True}, admin)
    assert org.get_row("ObjectPermissions", perm)["SobjectType"] == "Contact"
    err = error_of(org.create, "ObjectPermissions", {"ParentId": pset, "SobjectType": "Contact",
                                                     "PermissionsRead": True}, admin)
    assert err.error_code == "DUPLICATE_VALUE"
    org.update("ObjectPermissions", perm, {"PermissionsEdit": True, "PermissionsCreate": True}, admin)
    assert error_of(org.create, "ObjectPermissions", {"ParentId": pset, "SobjectType": "User",
                                                      "PermissionsRead": True}, admin).error_code == \
        "FIELD_INTEGRITY_EXCEPTION"
    field = org.create("FieldPermissions", {"ParentId": pset, "SobjectType": "Account", "Field": "Account.Industry",
                                            "PermissionsRead": True}, admin)
    assert org.get_row("FieldPermissions", field)["PermissionsEdit"] is False


def test_permission_set_writes(make_estate):
    org = make_estate(add_auditor).orgs["acme-prod"]
    admin = org.admin_user
    auditor = org.find_user("auditor@acme.example")
    assert error_of(org.create, "PermissionSet", {"Name": "X", "Label": "X"}, auditor).error_code == \
        "INSUFFICIENT_ACCESS_OR_READONLY"
    err = error_of(org.create, "PermissionSet", {"Name": "sales_ops", "Label": "Again"}, admin)
    assert err.error_code == "DUPLICATE_DEVELOPER_NAME"
    owned = org.profile_permission_set(profile_id(org, "API Only"))
    assert error_of(org.update, "PermissionSet", owned["Id"], {"Label": "Z"}, admin).error_code == \
        "FIELD_INTEGRITY_EXCEPTION"
    assert error_of(org.delete, "PermissionSet", owned["Id"], admin).error_code == "FIELD_INTEGRITY_EXCEPTION"
    assert error_of(org.delete, "PermissionSet", set_id(org, "Sales_Ops"), admin).error_code == "DELETE_FAILED"
    err = error_of(org.update, "PermissionSet", set_id(org, "Sales_Ops"), {"LicenseId": None}, admin)
    assert err.error_code == "FIELD_INTEGRITY_EXCEPTION"
    sync_read = set_id(org, "Sync_Read")
    org.update("PermissionSet", sync_read, {"Label": "Sync read (v2)", "PermissionsRunFlow": True}, admin)
    assert org.get_row("PermissionSet", sync_read)["PermissionsRunFlow"] is True
    org.delete("PermissionSet", sync_read, admin)
    assert not [p for p in org.rows("ObjectPermissions") if p["ParentId"] == sync_read]


@pytest.mark.parametrize("auto_assign", [False, True])
def test_the_integration_psl_is_assigned_with_the_profile_only_when_the_estate_says_so(make_estate, auto_assign):
    estate = make_estate(lambda o: o.update(auto_assign_integration_psl=auto_assign))
    org = estate.orgs["acme-prod"]
    etl = org.find_user("svc.etl@acme.example")
    org.update("User", etl["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, org.admin_user)
    held = [a["PermissionSetLicenseId"] for a in org.license_assignments_of(etl["Id"])]
    assert held == ([psl_id(org)] if auto_assign else [])
    # A second move (away and back) does not assign it twice.
    org.update("User", etl["Id"], {"ProfileId": profile_id(org, "API Only")}, org.admin_user)
    org.update("User", etl["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, org.admin_user)
    assert len(org.license_assignments_of(etl["Id"])) == len(held)


def test_a_failing_side_effect_undoes_the_whole_write(make_estate):
    def tight(spec):
        spec.update(auto_assign_integration_psl=True)
        spec["permission_set_licenses"]["SalesforceAPIIntegrationPsl"]["total"] = 0
    org = make_estate(tight).orgs["acme-prod"]
    etl = org.find_user("svc.etl@acme.example")
    err = error_of(org.update, "User", etl["Id"], {"ProfileId": profile_id(org, INTEGRATION_PROFILE)}, org.admin_user)
    assert err.error_code == "LICENSE_LIMIT_EXCEEDED"
    assert org.find_user("svc.etl@acme.example")["ProfileId"] == etl["ProfileId"]
    assert seats(org, "Salesforce Integration")["used"] == 0
    assert [a["PermissionSetId"] for a in org.assignments_of(etl["Id"])] == [
        org.profile_permission_set(etl["ProfileId"])["Id"]]
