"""Estate loading: the issue's example unchanged, sandbox copies, determinism, persistence, bad estates."""
import copy
import datetime
import os

import jwt
import pytest
import yaml

from sfemu.estate import Estate, EstateError, api_daily_limit_for
from sfemu.ids import is_id

ESTATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "estates")
EXAMPLE = os.path.join(ESTATES, "example.yml")
NOW = datetime.datetime(2026, 11, 20, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def key_material():
    # RSA generation is the slow part of a load: share one key pair across this module's estates.
    return Estate.from_file(EXAMPLE, seed=1, now=NOW)._key_material


@pytest.fixture
def estate(tmp_path, key_material):
    return Estate.from_file(EXAMPLE, seed=1, now=NOW, key_dir=str(tmp_path), key_material=key_material)


def example_data():
    with open(EXAMPLE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def logins_of(org, user):
    return [row for row in org.rows("LoginHistory") if row["UserId"] == user["Id"]]


def test_example_file_is_the_issue_example_verbatim():
    with open(EXAMPLE, encoding="utf-8") as handle:
        text = handle.read()
    # Spot-check the keys the issue says must load unchanged.
    for needle in ("allow_license_change_to_integration: true", "SalesforceAPIIntegrationPsl: {label: Salesforce API "
                   "Integration, total: 5}", "production: acme-prod", "sandbox_name: uat",
                   '{owner: "profile:Integration Admin", fields: {Disable_All__c: true}}'):
        assert needle in text


def test_example_loads_with_every_org_user_and_license(estate):
    assert list(estate.orgs) == ["acme-prod", "acme-uat"]
    prod = estate.orgs["acme-prod"]
    state = prod.dump_state()
    assert [u["Username"] for u in state["users"]] == [
        "admin@acme.example", "svc.mulesoft@acme.example", "svc.etl@acme.example", "jane.doe@acme.example",
        "svc.old@acme.example"]
    assert state["licenses"] == {"Salesforce": {"total": 40, "used": 4},
                                 "Salesforce Platform": {"total": 10, "used": 0},
                                 "Salesforce Integration": {"total": 5, "used": 0}}
    assert state["permission_set_licenses"] == {"SalesforceAPIIntegrationPsl": {"total": 5, "used": 0}}
    mulesoft = next(u for u in state["users"] if u["Username"].startswith("svc.mulesoft"))
    assert mulesoft["PermissionSets"] == ["Sales_Ops"] and mulesoft["Profile"] == "Integration Admin"
    assert prod.api_daily_limit == 100000 and prod.edition == "Enterprise" and not prod.is_sandbox
    assert prod.admin_user["Username"] == "admin@acme.example"
    org_row = next(iter(prod.rows("Organization")))
    assert org_row["OrganizationType"] == "Enterprise Edition" and org_row["IsSandbox"] is False


def test_users_have_every_required_field_and_generated_ids(estate):
    prod = estate.orgs["acme-prod"]
    odef = prod.object_def("User")
    required = [f.name for f in odef.fields.values() if not f.nillable and f.type != "boolean"]
    for user in prod.rows("User"):
        assert is_id(user["Id"]) and user["Id"].startswith("005")
        for name in required:
            assert user[name] not in (None, ""), (user["Username"], name)
        assert user["UserType"] == "Standard"
    assert prod.find_user("ADMIN@acme.example")["Name"] == "Ada Admin"


def test_login_history_matches_the_logins_of_the_estate(estate):
    prod = estate.orgs["acme-prod"]
    window_start = NOW - datetime.timedelta(days=90)
    for spec in example_data()["orgs"][0]["users"]:
        user = prod.find_user(spec["username"])
        rows = logins_of(prod, user)
        wanted = spec.get("logins", {})
        ui = [r for r in rows if r["LoginType"] == "Application"]
        api = [r for r in rows if r["LoginType"] in ("Remote Access 2.0", "Other Apex API")]
        assert (len(ui), len(api), len(rows)) == (wanted.get("ui", 0), wanted.get("api", 0), len(ui) + len(api))
        assert all(window_start <= r["LoginTime"] <= NOW for r in rows)
        assert all(r["Application"] == "Browser" and r["ApiType"] is None for r in ui)
        successes = [r["LoginTime"] for r in rows if r["Status"] == "Success"]
        assert user["LastLoginDate"] == (max(successes) if successes else None)


def test_profiles_own_permission_sets_carrying_their_access(estate):
    prod = estate.orgs["acme-prod"]
    profile = next(p for p in prod.rows("Profile") if p["Name"] == "Integration Admin")
    owned = prod.profile_permission_set(profile["Id"])
    assert owned["IsOwnedByProfile"] and owned["PermissionsApiEnabled"] and not owned["PermissionsViewSetup"]
    assert owned["IsCustom"] is True and owned["Type"] == "Profile"
    standard = prod.profile_permission_set(next(p["Id"] for p in prod.rows("Profile")
                                                if p["Name"] == "System Administrator"))
    assert standard["IsCustom"] is False
    perms = {p["SobjectType"]: p for p in prod.rows("ObjectPermissions") if p["ParentId"] == owned["Id"]}
    assert set(perms) == {"Account", "Contact", "Opportunity"}
    assert perms["Opportunity"]["PermissionsRead"] and not perms["Opportunity"]["PermissionsEdit"]
    assert perms["Account"]["PermissionsDelete"]
    # Every user holds its profile's set through an assignment row, as in Salesforce.
    jane = prod.find_user("jane.doe@acme.example")
    assert [a["PermissionSetId"] for a in prod.assignments_of(jane["Id"])] == [owned["Id"]]


def test_permission_set_license_bindings(estate):
    prod = estate.orgs["acme-prod"]
    sets = {s["Name"]: s for s in prod.rows("PermissionSet") if not s["IsOwnedByProfile"]}
    salesforce = prod.license_by_name("Salesforce")
    assert sets["Sales_Ops"]["LicenseId"] == salesforce["Id"] == sets["Sales_Ops"]["UserLicenseId"]
    assert sets["Sync_Read"]["LicenseId"] is None


def test_code_formulas_and_custom_settings(estate):
    prod = estate.orgs["acme-prod"]
    apex = next(iter(prod.rows("ApexClass")))
    assert apex["Name"] == "AccountTriggerHandler" and "Integration Admin" in apex["Body"]
    trigger = next(iter(prod.rows("ApexTrigger")))
    assert trigger["TableEnumOrId"] == "Account" and trigger["UsageBeforeInsert"] and not trigger["UsageAfterInsert"]
    rule = next(iter(prod.rows("ValidationRule")))
    assert rule["FullName"] == "Account.Require_Industry" and rule["Active"]
    assert rule["Metadata"]["errorConditionFormula"].startswith("AND(ISBLANK(Industry)")
    flow = next(iter(prod.rows("Flow")))
    definition = prod.get_row("FlowDefinition", flow["DefinitionId"])
    assert definition["ActiveVersionId"] == flow["Id"] and flow["Status"] == "Active"
    assert flow["Metadata"]["formulas"][0]["expression"] == '$Profile.Name = "Integration Admin"'
    setting_def = prod.object_def("trigger_bypass__c")
    assert setting_def.custom_setting and setting_def.field("Disable_All__c").type == "boolean"
    row = next(iter(prod.rows("Trigger_Bypass__c")))
    profile = next(p for p in prod.rows("Profile") if p["Name"] == "Integration Admin")
    assert row["SetupOwnerId"] == profile["Id"] and row["Disable_All__c"] is True


def test_records_are_generated_with_lookups(estate):
    prod = estate.orgs["acme-prod"]
    counts = {name: len(list(prod.rows(name))) for name in ("Account", "Contact", "Opportunity", "Case")}
    assert counts == {"Account": 25, "Contact": 50, "Opportunity": 10, "Case": 0}
    account_ids = {a["Id"] for a in prod.rows("Account")}
    assert all(c["AccountId"] in account_ids for c in prod.rows("Contact"))
    assert all(o["OwnerId"] == prod.admin_user_id for o in prod.rows("Opportunity"))


def test_connected_app_secret_certificate_and_key_file(estate, tmp_path):
    prod = estate.orgs["acme-prod"]
    app = prod.connected_apps[0]
    assert app["client_id"] == "ACME_OPS_CLIENT" and len(app["client_secret"]) == 64
    assert app["run_as"] == prod.admin_user_id
    assert os.path.dirname(app["private_key_file"]) == str(tmp_path)
    with open(app["private_key_file"], encoding="utf-8") as handle:
        key_pem = handle.read()
    from cryptography import x509
    public_key = x509.load_pem_x509_certificate(app["certificate_pem"].encode()).public_key()
    token = jwt.encode({"iss": app["client_id"], "sub": "admin@acme.example"}, key_pem, algorithm="RS256")
    assert jwt.decode(token, public_key, algorithms=["RS256"])["iss"] == "ACME_OPS_CLIENT"
    assert estate.org_for_client_id("ACME_OPS_CLIENT") == (prod, app)


def test_sandbox_is_a_copy_of_its_production(estate):
    prod, uat = estate.orgs["acme-prod"], estate.orgs["acme-uat"]
    assert uat.is_sandbox and uat.sandbox_name == "uat" and uat.production == "acme-prod"
    assert uat.org_id != prod.org_id and uat.audience == "https://test.salesforce.com"
    assert prod.audience == "https://login.salesforce.com"
    assert uat.my_domain == "acme--uat" and estate.org_by_host("acme--uat") is uat
    prod_users, uat_users = list(prod.rows("User")), list(uat.rows("User"))
    assert [u["Username"] + ".uat" for u in prod_users] == [u["Username"] for u in uat_users]
    assert all(u["Email"].endswith(".invalid") for u in uat_users)
    # Sandbox copies keep the production record Ids (new records get the sandbox's own).
    assert [u["Id"] for u in prod_users] == [u["Id"] for u in uat_users]
    prod_state, uat_state = prod.dump_state(), uat.dump_state()
    assert prod_state["licenses"] == uat_state["licenses"]
    assert [u["PermissionSets"] for u in prod_state["users"]] == [u["PermissionSets"] for u in uat_state["users"]]
    assert len(list(uat.rows("Account"))) == 25 and len(list(uat.rows("ApexClass"))) == 2   # OrderService too
    app = uat.connected_apps[0]
    assert app["client_id"] == "ACME_OPS_CLIENT.uat" and app["run_as"] == uat.find_user("admin@acme.example.uat")["Id"]
    assert app["certificate_pem"] == prod.connected_apps[0]["certificate_pem"]
    assert estate.org_for_client_id("ACME_OPS_CLIENT.uat")[0] is uat
    assert uat.api_daily_limit == 5000000


def test_sandbox_overrides_any_key(key_material):
    data = example_data()
    data["orgs"][1]["allow_license_change_to_integration"] = False
    data["orgs"][1]["licenses"] = {"Salesforce": 10, "Salesforce Platform": 1, "Salesforce Integration": 1}
    estate = Estate.from_dict(data, seed=1, now=NOW, key_material=key_material)
    uat = estate.orgs["acme-uat"]
    assert not uat.allow_license_change_to_integration and estate.orgs["acme-prod"].allow_license_change_to_integration
    assert uat.dump_state()["licenses"]["Salesforce Integration"]["total"] == 1


def test_same_seed_same_estate_other_seed_other_logins(key_material):
    def snapshot(seed):
        estate = Estate.from_dict(example_data(), seed=seed, now=NOW, key_material=key_material)
        org = estate.orgs["acme-prod"]
        return ([(r["Id"], r["LoginTime"], r["LoginType"]) for r in org.rows("LoginHistory")],
                [a["Name"] for a in org.rows("Account")], org.connected_apps[0]["client_secret"],
                org.credentials[org.admin_user_id])
    first, again, other = snapshot(7), snapshot(7), snapshot(8)
    assert first == again
    assert first[0] != other[0] and first[2] != other[2]


def test_passwords_and_security_tokens(key_material):
    data = example_data()
    data["orgs"][0]["users"][1]["password"] = "Mule-Pass-1"
    estate = Estate.from_dict(data, seed=1, now=NOW, key_material=key_material)
    prod = estate.orgs["acme-prod"]
    mule = prod.find_user("svc.mulesoft@acme.example")
    token = prod.credentials[mule["Id"]]["security_token"]
    assert len(token) == 24
    assert prod.check_password(mule, "Mule-Pass-1" + token)
    # Without a trusted network the password alone is refused, as Salesforce does.
    assert not prod.check_password(mule, "Mule-Pass-1")
    assert not prod.check_password(mule, "wrong") and not prod.check_password(mule, None)
    data["orgs"][0]["require_security_token"] = False
    trusting = Estate.from_dict(data, seed=1, now=NOW, key_material=key_material).orgs["acme-prod"]
    assert trusting.check_password(trusting.find_user("svc.mulesoft@acme.example"), "Mule-Pass-1")


def test_audit_fields_point_at_users(estate):
    prod = estate.orgs["acme-prod"]
    for object_name in ("Organization", "UserLicense", "Profile", "PermissionSet", "ObjectPermissions", "User"):
        for row in prod.rows(object_name):
            assert prod.get_row("User", row["CreatedById"]) is not None, object_name


def test_api_daily_limit_defaults_by_edition():
    assert api_daily_limit_for("Developer", 2, False) == 15000
    assert api_daily_limit_for("Enterprise", 40, False) == 140000
    assert api_daily_limit_for("Unlimited", 40, False) == 300000
    assert api_daily_limit_for("Enterprise", 40, True) == 5000000
    data = example_data()
    del data["orgs"][0]["api_daily_limit"]
    estate = Estate.from_dict(data, seed=1, now=NOW)
    assert estate.orgs["acme-prod"].api_daily_limit == 140000


def test_state_save_and_load_round_trip(estate, tmp_path):
    prod = estate.orgs["acme-prod"]
    admin = prod.admin_user
    etl = prod.find_user("svc.etl@acme.example")
    prod.update("User", etl["Id"], {"IsActive": False}, admin)
    new_id = prod.create("Account", {"Name": "Saved Co", "Industry": "Energy"}, admin)
    token = prod.new_session(admin["Id"])
    prod.count_call("query")
    path = str(tmp_path / "state.json")
    estate.save_state(path)
    loaded = Estate.load_state(path, EXAMPLE, key_dir=str(tmp_path))
    again = loaded.orgs["acme-prod"]
    assert again.dump_state() == prod.dump_state()
    assert again.get_row("Account", new_id)["Name"] == "Saved Co"
    assert again.session_user(token)["Id"] == admin["Id"]
    assert again.call_counts == {"query": 1} and again.api_used == 1
    assert again.connected_apps[0]["certificate_pem"] == prod.connected_apps[0]["certificate_pem"]
    # Ids keep counting from where the saved org stopped.
    assert again.create("Account", {"Name": "After restart", "Industry": "Retail"}, again.admin_user) not in {
        a["Id"] for a in prod.rows("Account")}


def test_reset_returns_to_the_loaded_estate(estate):
    orgs_dict = estate.orgs
    prod = estate.orgs["acme-prod"]
    before = prod.dump_state()
    prod.update("User", prod.find_user("svc.etl@acme.example")["Id"], {"IsActive": False}, None)
    estate.reset()
    assert estate.orgs is orgs_dict
    assert estate.orgs["acme-prod"].dump_state() == before


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["orgs"][0]["users"][0].update(profile="Nope"), "unknown profile 'Nope'"),
    (lambda d: d["orgs"][0]["licenses"].update(Salesforce=3), "LICENSE_LIMIT_EXCEEDED"),
    (lambda d: d["orgs"][0]["users"][1].update(username="admin@acme.example"), "DUPLICATE_USERNAME"),
    (lambda d: d["orgs"][0]["profiles"][0]["permissions"].append("FlyPlanes"), "unknown permission 'FlyPlanes'"),
    (lambda d: d["orgs"][1].update(production="nowhere"), "not a production org"),
    (lambda d: d["orgs"][0]["permission_sets"][1]["object_permissions"].update(Contact="d"),
     "depends on permission(s): Read Contact; Edit Contact"),
    (lambda d: d["orgs"][0]["users"][2].update(profile="Minimum Access - API Only Integrations",
                                               permission_sets=["Sales_Ops"]), "doesn't match"),
])
def test_impossible_estates_fail_with_a_named_record(mutate, message, key_material):
    data = example_data()
    mutate(data)
    with pytest.raises(EstateError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        Estate.from_dict(data, seed=1, now=NOW, key_material=key_material)
    assert str(info.value).startswith("acme-")


def test_usernames_are_unique_across_the_estate(key_material):
    data = example_data()
    extra = copy.deepcopy(data["orgs"][0])
    extra.update(name="other-prod", my_domain="other")
    extra["connected_apps"] = []
    with pytest.raises(EstateError, match="DUPLICATE_USERNAME"):
        Estate.from_dict({"orgs": [data["orgs"][0], extra]}, seed=1, now=NOW, key_material=key_material)


@pytest.mark.parametrize("estate_file, org_name, username, app, apex_path", [
    ("example.yml", "acme-prod", "svc.mulesoft@acme.example", "MuleSoft Connector", "/orders/1"),
    ("example.yml", "acme-uat", "svc.mulesoft@acme.example.uat", "MuleSoft Connector", "/orders/1"),
    ("demo.yml", "acme-prod", "svc.mulesoft@acme.demo", "MuleSoft Connector", None),
    ("demo.yml", "globex-prod", "svc.sap@globex.demo", None, "/erp/orders/7"),
])
def test_example_and_demo_integrations_depend_on_their_profile(estate_file, org_name, username, app, apex_path):
    """Issue 12: what these integrations use is granted by their old profile only, so moving them onto the
    integration profile without carrying it breaks their login (admin-approved app) or their Apex REST calls."""
    from sfemu import setup_access
    with open(os.path.join(ESTATES, estate_file), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert not any("setup_access_grants" in spec for spec in data["orgs"])   # the grants are live
    estate = Estate.from_dict(data, seed=0)
    org = estate.orgs[org_name]
    user = org.find_user(username)
    moved = dict(user, ProfileId=org.query("SELECT Id FROM Profile WHERE Name = "
                                           "'Minimum Access - API Only Integrations'", None).records[0]["Id"])
    if app:
        app_dict = next(a for a in org.connected_apps if a["name"] == app)
        assert org.get_row("ConnectedApplication", app_dict["id"])["OptionsAllowAdminApprovedUsersOnly"] is True
        setup_access.check_login(org, user, app_dict, lambda status: None)          # today: pre-authorized
        with pytest.raises(Exception) as refused:
            setup_access.check_login(org, moved, app_dict, lambda status: None)
        assert "user hasn't approved this consumer" in str(refused.value.args)
        tokens = org.query("SELECT AppName FROM OauthToken WHERE UserId = '%s'" % user["Id"], None)
        assert [t["AppName"] for t in tokens.records] == [app]
    if apex_path:
        assert setup_access.apex_rest(org, user, "GET", apex_path)[0] == 200
        assert setup_access.apex_rest(org, moved, "GET", apex_path)[0] == 403


@pytest.mark.parametrize("estate_file", ["example.yml"])
def test_the_issue_12_switch_leaves_declarations_and_drops_grants(estate_file):
    from sfemu import setup_access
    with open(os.path.join(ESTATES, estate_file), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    live = Estate.from_dict(data, seed=0)
    assert all(org.tables["SetupEntityAccess"] and org.tables["OauthToken"] for org in live.orgs.values())
    for spec in data["orgs"]:
        spec["setup_access_grants"] = False
    estate = Estate.from_dict(data, seed=0)
    for org in estate.orgs.values():
        assert org.tables["SetupEntityAccess"] == {} and org.tables["OauthToken"] == {}
        assert setup_access.model(org).login_ip_ranges == {} and setup_access.model(org).record_types == {}
        assert org.tables["ConnectedApplication"]


def test_demo_has_the_issue_12_grants_on():
    from sfemu import setup_access
    org = Estate.from_file(os.path.join(ESTATES, "demo.yml"), seed=0).orgs["acme-prod"]
    mule = org.find_user("svc.mulesoft@acme.demo")
    assert setup_access.entity_ids(org, mule) == {"ConnectedApplication": ["MuleSoft Connector"]}
