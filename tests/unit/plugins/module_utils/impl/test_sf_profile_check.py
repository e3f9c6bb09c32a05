# -*- coding: utf-8 -*-
"""sf_profile_check: pure findings, readers' call counts against a fake client, and a whole run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_profile_check as pc
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ApiError
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute

from fake_client import FakeClient as SharedFakeClient, soql_of

SF_LICENSE = to18("1005g0000000001")
INT_LICENSE = to18("1005g0000000002")
INT_PSL = to18("0PL5g0000000001")
ADMIN_PROFILE = to18("00e5g0000000001")
INT_ADMIN_PROFILE = to18("00e5g0000000002")
TARGET_PROFILE = to18("00e5g0000000003")
LOOKALIKE_PROFILE = to18("00e5g0000000004")
SALES_OPS = to18("0PS5g0000000001")
RUNNING_USER = to18("0055g0000000001")


def user(username, uid, profile_id=INT_ADMIN_PROFILE, profile="Integration Admin", license_name="Salesforce",
         permission_sets=(), psls=(), ui=0, active=True):
    return {
        "id": to18(uid), "username": username, "active": active,
        "profile": {"id": profile_id, "name": profile, "license": license_name},
        "license": license_name, "permission_sets": list(permission_sets), "permission_set_licenses": list(psls),
        "logins": {"lookback_days": 90, "total": ui + 3, "api": 3, "ui": ui, "other": 0,
                   "last_ui": "2026-11-01T10:00:00.000+0000" if ui else None},
    }


SALES_OPS_SET = {"id": SALES_OPS, "name": "Sales_Ops", "license_id": SF_LICENSE, "license": "Salesforce",
                 "license_kind": "user_license"}


def license_rows(free=5, psl_free=5, profiles=None):
    return {
        "organization": [],
        "user_licenses": [
            {"Id": SF_LICENSE, "Name": "Salesforce", "Status": "Active", "TotalLicenses": 50, "UsedLicenses": 10},
            {"Id": INT_LICENSE, "Name": "Salesforce Integration", "Status": "Active", "TotalLicenses": 5,
             "UsedLicenses": 5 - free}],
        "psls": [{"Id": INT_PSL, "DeveloperName": "SalesforceAPIIntegrationPsl",
                  "MasterLabel": "Salesforce API Integration", "Status": "Active", "TotalLicenses": 5,
                  "UsedLicenses": 5 - psl_free}],
        "profiles": profiles if profiles is not None else [
            {"Id": TARGET_PROFILE, "Name": "Minimum Access - API Only Integrations", "UserLicenseId": INT_LICENSE,
             "UserLicense": {"Name": "Salesforce Integration"}},
            {"Id": LOOKALIKE_PROFILE, "Name": "API Only", "UserLicenseId": SF_LICENSE,
             "UserLicense": {"Name": "Salesforce"}}],
    }


def summary(**kwargs):
    rows = license_rows(**kwargs)
    from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import licenses
    return licenses.integration_summary(rows["user_licenses"], rows["psls"], rows["profiles"])


def moves(count, needing_psl):
    """``count`` active users moving from the full license onto the integration one, the first
    ``needing_psl`` of them without the integration PSL yet."""
    return [{"active": True, "from_license_id": SF_LICENSE, "to_license_id": INT_LICENSE,
             "added_psl_ids": [INT_PSL] if n < needing_psl else []} for n in range(count)]


def codes(findings):
    return [(f["code"], f["severity"]) for f in findings]


# ---- org readiness ---------------------------------------------------------------------------------
def test_default_target_is_the_standard_profile():
    target, findings = pc.resolve_target(summary())
    assert target["id"] == TARGET_PROFILE
    assert findings == []


def test_target_by_name_or_either_id_form():
    for wanted in ("minimum access - api only integrations", TARGET_PROFILE, TARGET_PROFILE[:15]):
        target, findings = pc.resolve_target(summary(), wanted)
        assert target["id"] == TARGET_PROFILE and findings == []


def test_target_on_another_license_or_missing_is_a_blocker():
    target, findings = pc.resolve_target(summary(), "API Only")
    assert target is None and codes(findings) == [("TARGET_PROFILE_WRONG_LICENSE", "blocker")]
    target, findings = pc.resolve_target(summary(), "Nope")
    assert target is None and codes(findings) == [("TARGET_PROFILE_MISSING", "blocker")]


def test_duplicated_and_deprecated_targets():
    twin = {"Id": to18("00e5g0000000009"), "Name": "Minimum Access - API Only Integrations",
            "UserLicenseId": INT_LICENSE, "UserLicense": {"Name": "Salesforce Integration"}}
    rows = license_rows()["profiles"] + [twin]
    target, findings = pc.resolve_target(summary(profiles=rows))
    assert target is not None and codes(findings) == [("TARGET_PROFILE_DUPLICATED", "warning")]
    deprecated = [{"Id": TARGET_PROFILE, "Name": "Salesforce API Only System Integrations",
                   "UserLicenseId": INT_LICENSE, "UserLicense": {"Name": "Salesforce Integration"}}]
    target, findings = pc.resolve_target(summary(profiles=deprecated))
    assert target["id"] == TARGET_PROFILE and codes(findings) == [("TARGET_PROFILE_DEPRECATED", "warning")]


def test_no_target_profile_at_all():
    target, findings = pc.resolve_target(summary(profiles=[]))
    assert target is None and codes(findings) == [("TARGET_PROFILE_MISSING", "blocker")]


def test_seats_and_look_alikes():
    findings = pc.readiness_findings(summary(free=1, psl_free=0), moves(2, needing_psl=1))
    assert codes(findings) == [("NO_SEATS", "blocker"), ("PSL_SHORT_OF_SEATS", "blocker"),
                               ("LOOKALIKE_PROFILE", "warning")]
    assert findings[0]["message"] == ("the user license 'Salesforce Integration' has 1 free seat(s) and this run "
                                      "needs 2 (4 of 5 used)")
    assert findings[2]["component"]["name"] == "API Only"
    assert codes(pc.readiness_findings(summary(free=2), moves(2, 2))) == [("LOOKALIKE_PROFILE", "warning")]


def test_missing_license_and_psl():
    rows = license_rows()
    from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import licenses
    bare = licenses.integration_summary(rows["user_licenses"][:1], [], rows["profiles"][1:])
    assert codes(pc.readiness_findings(bare, moves(1, 1))) == [
        ("NO_INTEGRATION_LICENSE", "blocker"), ("NO_INTEGRATION_PSL", "blocker"), ("LOOKALIKE_PROFILE", "warning")]


# ---- users -----------------------------------------------------------------------------------------
def test_user_traps():
    fetched = {"profiles": {INT_ADMIN_PROFILE: {"system": ["ApiEnabled", "RunFlow"], "objects": {"Account": ["Read"]}},
                            TARGET_PROFILE: {"system": ["ApiEnabled", "ApiUserOnly"]}},
               "permission_sets": {SALES_OPS: {"objects": {"Opportunity": ["Edit", "Read"]}}}}
    target = {"id": TARGET_PROFILE, "name": "Minimum Access - API Only Integrations"}
    mule = user("svc.mulesoft@acme.com", "0055g0000000002", permission_sets=[SALES_OPS_SET])
    findings, gap = pc.user_findings(mule, target, fetched)
    assert codes(findings) == [("PERMISSION_SET_LICENSE_CONFLICT", "blocker"), ("ACCESS_GAP", "warning")]
    assert findings[0]["message"] == "permission set(s) bound to the 'Salesforce' user license: Sales_Ops"
    # The access of the set that must go is part of what the user loses.
    assert gap == {"system": ["RunFlow"], "objects": {"Account": ["Read"], "Opportunity": ["Edit", "Read"]},
                   "fields": {}}

    jane = user("jane.doe@acme.com", "0055g0000000003", ui=4, permission_sets=[SALES_OPS_SET])
    findings, gap = pc.user_findings(jane, target, fetched)
    # A person is not to be moved: only that is said, the gap stays in the summary.
    assert codes(findings) == [("UI_LOGINS", "blocker")]
    assert gap["system"] == ["RunFlow"]
    assert "4 user-interface login(s) in the last 90 days" in findings[0]["message"]

    admin = user("admin@acme.com", RUNNING_USER, profile_id=ADMIN_PROFILE, profile="System Administrator", ui=9)
    assert codes(pc.user_findings(admin, target, fetched, RUNNING_USER[:15])[0]) == [("RUNNING_USER", "blocker")]

    done = user("svc.done@acme.com", "0055g0000000004", profile_id=TARGET_PROFILE,
                profile="Minimum Access - API Only Integrations", license_name="Salesforce Integration")
    findings, gap = pc.user_findings(done, target, fetched)
    assert codes(findings) == [("ALREADY_MIGRATED", "info")] and gap["system"] == []


MULE_GAP = {"system": [], "objects": {}, "fields": {},
            "setup": {"ConnectedApplication": ["MuleSoft Connector", "Reports Viewer"], "ApexClass": ["OrderService"]}}
MULE_TOKEN = {"app": "MuleSoft Connector", "use_count": 4200, "last_used": "2026-12-01T08:00:00.000+0000"}


def test_an_admin_approved_app_the_user_logs_in_through_is_a_blocker_naming_the_app():
    mule = dict(user("svc.mulesoft@acme.example", "0055g0000000002"), oauth_tokens=[MULE_TOKEN])
    found = pc.setup_findings(mule, MULE_GAP, admin_approved=["MuleSoft Connector", "Reports Viewer"])
    apps = [(f["severity"], f["component"]["name"]) for f in found if f["code"] == "CONNECTED_APP_ACCESS"]
    # Reports Viewer is admin-approved too, but no token shows the integration uses it: a warning.
    assert apps == [("blocker", "MuleSoft Connector"), ("warning", "Reports Viewer")]
    assert "OAuth token used 4200 times, last 2026-12-01" in found[0]["message"]
    assert "invalid_grant" in found[0]["message"] and "'Integration Admin'" in found[0]["message"]
    assert [f["code"] for f in found][2:] == ["SETUP_ACCESS_GAP"]


def test_an_app_open_to_all_users_or_unused_is_only_a_warning():
    mule = dict(user("svc.mulesoft@acme.example", "0055g0000000002"), oauth_tokens=[MULE_TOKEN])
    assert set(f["severity"] for f in pc.setup_findings(mule, MULE_GAP, admin_approved=[])) == {"warning"}
    unknown = dict(mule, oauth_tokens=None)
    assert set(f["severity"] for f in pc.setup_findings(unknown, MULE_GAP, ["MuleSoft Connector"])) == {"warning"}


def test_permission_set_on_the_integration_user_license_is_a_warning_and_kept():
    misbound = {"id": to18("0PS5g0000000002"), "name": "Int_Access", "license": "Salesforce Integration",
                "license_id": INT_LICENSE, "license_kind": "user_license"}
    psl_bound = {"id": to18("0PS5g0000000003"), "name": "Api_Access", "license": "Salesforce API Integration",
                 "license_id": INT_PSL, "license_kind": "permission_set_license"}
    svc = user("svc@acme.com", "0055g0000000005", permission_sets=[misbound, psl_bound])
    findings, _gap = pc.user_findings(svc, None, {}, license_id=INT_LICENSE, psl={"id": INT_PSL})
    assert codes(findings) == [("PERMISSION_SET_ON_INTEGRATION_USER_LICENSE", "warning")]
    assert pc.conflicting_sets(svc, INT_LICENSE, {"id": INT_PSL}) == []


# ---- code and configuration -------------------------------------------------------------------------
NEEDLES = (["Integration Admin"], [INT_ADMIN_PROFILE], [])
LABELS = {INT_ADMIN_PROFILE: "Integration Admin"}


def test_apex_findings_with_lines_and_comment():
    body = ("trigger AccountTrigger on Account (before insert) {\n"
            "    // skip for Integration Admin\n"
            "    Profile p = [SELECT Name FROM Profile WHERE Id = :UserInfo.getProfileId()];\n"
            "    if (p.Name == 'Integration Admin') return;\n}\n")
    findings = pc.scan_component("ApexTrigger", {"Id": "01q5g0000000001", "Name": "AccountTrigger", "Body": body},
                                 None, NEEDLES, LABELS)
    assert [(f["code"], f["severity"], f["component"]["line"]) for f in findings] == [
        ("PROFILE_NAME_REFERENCE", "info", 2), ("PROFILE_NAME_REFERENCE", "blocker", 4)]
    assert findings[0]["message"] == "ApexTrigger AccountTrigger line 2: names profile 'Integration Admin' (in a comment)"
    assert findings[1]["component"] == {"type": "ApexTrigger", "name": "AccountTrigger",
                                        "id": to18("01q5g0000000001"), "line": 4}


def test_generic_profile_test_alone_is_a_warning():
    body = "if (UserInfo.getProfileId() == bypassId) { return; }"
    findings = pc.scan_component("ApexClass", {"Id": "01p5g0000000001", "Name": "Bypass", "Body": body},
                                 None, NEEDLES, LABELS)
    assert codes(findings) == [("PROFILE_CHECK", "warning")]
    assert findings[0]["message"] == "ApexClass Bypass line 1: tests the running user's profile (UserInfo.getProfileId())"


def test_validation_rule_by_id_and_flow_by_metadata_path():
    rule = {"Id": "03d5g0000000001", "ValidationName": "No_Edit", "EntityDefinitionId": "Account"}
    metadata = {"FullName": "Account.No_Edit",
                "Metadata": {"errorConditionFormula": "AND(\n$Profile.Id <> '%s', ISCHANGED(Name))"
                                                      % INT_ADMIN_PROFILE[:15]}}
    findings = pc.scan_component("ValidationRule", rule, metadata, NEEDLES, LABELS)
    assert codes(findings) == [("PROFILE_ID_REFERENCE", "blocker")]
    assert findings[0]["message"] == ("ValidationRule Account.No_Edit line 2: contains the Id of profile "
                                      "'Integration Admin' (%s)" % INT_ADMIN_PROFILE)
    flow = {"Id": "3015g0000000001", "MasterLabel": "Route", "VersionNumber": 1}
    flow_metadata = {"FullName": "Route-1", "Metadata": {"formulas": [{"expression": "$Profile.Name = 'Other'"}]}}
    findings = pc.scan_component("Flow", flow, flow_metadata, NEEDLES, LABELS)
    assert [(f["code"], f["component"]["line"]) for f in findings] == [("PROFILE_CHECK", None)]
    assert findings[0]["message"] == "Flow Route-1 formulas[0].expression: tests the running user's profile ($Profile.Name)"


def test_formula_field_without_formula_and_fallback_names():
    field = {"Id": "00N5g0000000001", "DeveloperName": "Plain", "TableEnumOrId": "Account"}
    assert pc.scan_component("CustomField", field, {"Metadata": {"type": "Text"}}, NEEDLES, LABELS) == []
    findings = pc.scan_component("CustomField", field, {"Metadata": {"formula": '"Integration " & "Admin"'}},
                                 NEEDLES, LABELS)
    assert codes(findings) == [("POSSIBLE_PROFILE_REFERENCE", "warning")]
    assert findings[0]["component"]["name"] == "Account.Plain__c"


def test_custom_setting_rows():
    findings = pc.custom_setting_findings("Bypass__c", [{"Id": "a005g0000000001", "SetupOwnerId": INT_ADMIN_PROFILE}],
                                          LABELS)
    assert codes(findings) == [("CUSTOM_SETTING_PROFILE_ROW", "blocker")]
    assert "profile 'Integration Admin'" in findings[0]["message"]


def test_sort_is_stable_and_removes_duplicates():
    a = pc.finding("B_CODE", "warning", "x")
    b = pc.finding("A_CODE", "warning", "y", user="Zed")
    c = pc.finding("Z_CODE", "blocker", "z")
    assert [f["code"] for f in pc.sort_findings([a, b, c, dict(a)])] == ["Z_CODE", "A_CODE", "B_CODE"]


# ---- readers: call counts ---------------------------------------------------------------------------
class FakeClient(SharedFakeClient):
    """The shared fake answering from a table of rows by FROM object; ``calls`` lists (label, subrequests)
    per composite call, as the client splits them."""

    def __init__(self, rows, failing=(), tooling_composite=True):
        super(FakeClient, self).__init__()
        self.tables = rows
        self.failing = failing
        self.tooling_composite = tooling_composite

    def _count(self, kind, detail):
        self.calls.append((kind, len(detail)))

    def composite(self, subrequests, all_or_none=False, raise_on_error=True, tooling=False):
        if tooling and self.tooling_composite == "forbidden":
            self.calls.append(("tooling/composite forbidden", len(subrequests)))
            raise ApiError("no Tooling access", error_code="INSUFFICIENT_ACCESS", status=403)
        return super(FakeClient, self).composite(subrequests, all_or_none, raise_on_error, tooling)

    def _answer(self, subrequest, tooling):
        soql = soql_of(subrequest)
        if soql is not None and soql.split(" FROM ")[1].split()[0] in self.failing:
            return {"status": 400, "body": [{"errorCode": self.failing[soql.split(" FROM ")[1].split()[0]],
                                             "message": "no"}]}
        return super(FakeClient, self)._answer(subrequest, tooling)

    def answer_query(self, soql, reference, tooling):
        return self.tables.get(soql.split(" FROM ")[1].split()[0], [])

    def answer_resource(self, subrequest, tooling):
        url = subrequest["url"]
        if "/tooling/sobjects/" not in url:
            return 200, {"described": url}
        record_id = url.rsplit("/", 1)[1]
        return 200, {"Id": record_id, "FullName": "X." + record_id, "Metadata": {}}


def test_metadata_reads_cost_one_call_per_25_components():
    client = FakeClient({})
    wanted = [("ValidationRule", "03d5g00000000%02d" % n) for n in range(60)]
    metadata, errors = pc.read_metadata(client, wanted)
    assert client.calls == [("tooling/composite", 25), ("tooling/composite", 25), ("tooling/composite", 10)]
    assert len(metadata) == 60 and errors == []
    assert metadata[to18("03d5g0000000059")]["FullName"] == "X." + to18("03d5g0000000059")
    assert pc.read_metadata(FakeClient({}), []) == ({}, [])


def test_components_are_read_in_one_composite_and_errors_are_kept():
    client = FakeClient({"ApexClass": [{"Id": "01p5g0000000001", "Name": "A", "Body": ""}]},
                        failing={"Flow": "INSUFFICIENT_ACCESS"})
    records, errors = pc.read_components(client, set(pc.SCANS))
    assert client.calls == [("tooling/composite", 5)]
    assert [r["Name"] for r in records["ApexClass"]] == ["A"]
    assert records["Flow"] == [] and [(t, e.error_code) for t, e in errors] == [("Flow", "INSUFFICIENT_ACCESS")]
    assert pc.read_components(FakeClient({}), {"custom_settings"}) == ({}, [])


def test_custom_settings_five_queries_a_call_list_settings_skipped():
    names = ["S%d__c" % n for n in range(7)]
    client = FakeClient({"S1__c": [{"Id": "a005g0000000001", "SetupOwnerId": INT_ADMIN_PROFILE}]},
                        failing={"S2__c": "INVALID_FIELD"})
    described = {"sobjects": [{"name": "Account", "customSetting": False}]
                 + [{"name": name, "customSetting": True} for name in names]}
    rows, errors, checked = pc.read_custom_setting_rows(client, [INT_ADMIN_PROFILE], described)
    assert client.calls == [("composite", 5), ("composite", 2)]
    assert list(rows) == ["S1__c"] and errors == [] and checked == 7
    assert pc.read_custom_setting_rows(FakeClient({}), [], described) == ({}, [], 0)


def test_org_is_read_in_one_composite_with_both_describes():
    client = FakeClient({"UserLicense": license_rows()["user_licenses"]})
    rows, ps_describe, global_describe = pc.read_licenses_and_describes(client)
    assert client.calls == [("composite", 5)]
    assert [r["Name"] for r in rows["user_licenses"]] == ["Salesforce", "Salesforce Integration"]
    assert ps_describe == {"described": "/services/data/v62.0/sobjects/PermissionSet/describe"}
    assert global_describe == {"described": "/services/data/v62.0/sobjects"}
    assert pc.read_licenses_and_describes(client, with_global_describe=False)[2] is None


# ---- a whole run with the readers replaced -----------------------------------------------------------
@pytest.fixture
def patched(monkeypatch):
    state = {"users": [], "asked": []}
    monkeypatch.setattr(pc, "read_licenses_and_describes", lambda client, with_global_describe, target_profile: (license_rows(), {}, {}))

    def fake_read_users(client, usernames=None, active=None, lookback_days=90, with_usage_log=False):
        state["asked"].append((usernames, active, lookback_days))
        return [u for u in state["users"] if usernames is None or u["username"] in usernames]
    monkeypatch.setattr(pc, "read_users", fake_read_users)
    monkeypatch.setattr(pc, "_running_user_id", lambda client: RUNNING_USER)
    monkeypatch.setattr(pc, "fetch_access", lambda client, profiles, sets, describe: {
        "profiles": {INT_ADMIN_PROFILE: {"system": ["RunFlow"]}}, "permission_sets": {}})
    apex = {"Id": "01p5g0000000001", "Name": "Bypass", "Body": "if (p.Name == 'Integration Admin') {}"}
    monkeypatch.setattr(pc, "read_components", lambda client, scans: (
        {"ApexClass": [apex] if "apex" in scans else []}, []))
    monkeypatch.setattr(pc, "read_metadata", lambda client, wanted: ({}, []))
    monkeypatch.setattr(pc, "read_profile_metadata", lambda client, ids: ({}, []))
    monkeypatch.setattr(pc, "read_custom_setting_rows", lambda client, ids, described: ({}, [], 0))
    return state


def run_module(params):
    base = {"users": None, "target_profile": None, "scans": list(pc.SCANS), "extra_strings": [],
            "lookback_days": 90}
    base.update(params)
    return pc.run(type("Task", (), {"params": base, "client": object()})())


def test_run_reports_everything_sorted_and_ready_false(patched):
    patched["users"] = [
        user("svc.mulesoft@acme.com", "0055g0000000002", permission_sets=[SALES_OPS_SET]),
        user("jane.doe@acme.com", "0055g0000000003", ui=2),
        user("svc.done@acme.com", "0055g0000000004", profile_id=TARGET_PROFILE,
             profile="Minimum Access - API Only Integrations", license_name="Salesforce Integration"),
    ]
    result = run_module({"users": ["svc.mulesoft@acme.com", "jane.doe@acme.com", "svc.done@acme.com",
                                   "ghost@acme.com"]})
    assert result["changed"] is False and result["ready"] is False
    assert [(f["code"], f["user"]) for f in result["findings"]] == [
        ("PERMISSION_SET_LICENSE_CONFLICT", "svc.mulesoft@acme.com"),
        ("PROFILE_NAME_REFERENCE", None),
        ("UI_LOGINS", "jane.doe@acme.com"),
        ("USER_NOT_FOUND", "ghost@acme.com"),
        ("ACCESS_GAP", "svc.mulesoft@acme.com"),
        ("LOOKALIKE_PROFILE", None),
        ("ALREADY_MIGRATED", "svc.done@acme.com"),
    ]
    # Jane is a person: she is not to be moved, so her access gap is in the summary, not a finding.
    assert result["counts"]["ACCESS_GAP"] == 1
    assert result["users"][0]["access_gap"]["system"] == ["RunFlow"]
    assert result["severity_counts"] == {"blocker": 4, "warning": 2, "info": 1}
    assert [(u["username"], u["ready"], u["to_move"]) for u in result["users"]] == [
        ("jane.doe@acme.com", False, False), ("svc.done@acme.com", True, False),
        ("svc.mulesoft@acme.com", False, True)]
    mule = result["users"][2]
    assert mule["access_gap"]["system"] == ["RunFlow"] and mule["permission_sets_to_remove"] == ["Sales_Ops"]
    assert result["scanned"]["apex"] == 1
    assert run_module({"users": ["svc.mulesoft@acme.com", "jane.doe@acme.com", "svc.done@acme.com",
                                 "ghost@acme.com"]}) == result


def test_run_default_users_are_active_and_not_migrated(patched):
    patched["users"] = [user("svc.done@acme.com", "0055g0000000004", profile_id=TARGET_PROFILE,
                             profile="Minimum Access - API Only Integrations", license_name="Salesforce Integration")]
    result = run_module({"scans": ["triggers"]})
    assert patched["asked"] == [(None, True, 90)]
    assert result["users"] == [] and result["scanned"] == {"triggers": 0}
    assert [f["code"] for f in result["findings"]] == ["LOOKALIKE_PROFILE"]
    assert result["ready"] is True


def test_execute_adds_api_usage_and_rejects_nothing(patched):
    class Dummy:
        flow = None
        api_usage = {"calls": 0, "used": None, "limit": None}
    params = {"users": [], "target_profile": None, "scans": ["apex"], "extra_strings": [], "lookback_days": 90}
    result, _task = execute(pc.SPEC, params, client_factory=lambda p: Dummy())
    assert result["changed"] is False and "api_usage" in result and "findings" in result


def test_indirect_references_follow_class_calls():
    handler = {"Id": "01p5g0000000001", "Name": "Handler", "Body": "String s = 'Integration Admin';"}
    helper = {"Id": "01p5g0000000002", "Name": "Helper", "Body": "Boolean b = Handler.bypass();"}
    unrelated = {"Id": "01p5g0000000003", "Name": "Other", "Body": "// Helper.go() is not called\nInteger i;"}
    trigger = {"Id": "01q5g0000000001", "Name": "AccountTrigger",
               "Body": "trigger AccountTrigger on Account (before insert) {\n  if (helper.go()) return;\n}"}
    direct = pc.scan_component("ApexClass", handler, None, NEEDLES, LABELS)
    # Classes listed after their callers still resolve: the walk repeats until nothing changes.
    findings = pc.indirect_findings([unrelated, helper, handler], [trigger], direct)
    assert [(f["code"], f["severity"], f["component"]["name"], f["component"]["line"]) for f in findings] == [
        ("INDIRECT_PROFILE_REFERENCE", "warning", "Helper", 1),
        ("INDIRECT_PROFILE_REFERENCE", "warning", "AccountTrigger", 2)]
    assert findings[1]["message"] == ("ApexTrigger AccountTrigger line 2: uses class Helper, which references "
                                      "a profile checked")
    assert pc.indirect_findings([helper], [trigger], []) == []


def test_look_alikes_are_api_only_names_or_api_only_profiles():
    profiles = [
        {"Id": LOOKALIKE_PROFILE, "Name": "API Only", "UserLicenseId": SF_LICENSE, "PermissionsApiUserOnly": False},
        {"Id": INT_ADMIN_PROFILE, "Name": "Integration Admin", "UserLicenseId": SF_LICENSE,
         "PermissionsApiUserOnly": False},
        {"Id": to18("00e5g0000000008"), "Name": "Integration Robots", "UserLicenseId": SF_LICENSE,
         "PermissionsApiUserOnly": True},
    ]
    found = summary(profiles=profiles)["look_alikes"]
    assert sorted(p["name"] for p in found) == ["API Only", "Integration Robots"]


def test_run_does_not_search_the_profiles_of_people_and_of_the_connecting_user(patched, monkeypatch):
    patched["users"] = [user("admin@acme.com", RUNNING_USER, profile_id=ADMIN_PROFILE, profile="System Administrator"),
                        user("jane.doe@acme.com", "0055g0000000003", ui=2)]
    read = []
    monkeypatch.setattr(pc, "read_components", lambda client, scans: read.append(scans) or ({}, []))
    result = run_module({})
    assert [f["code"] for f in result["findings"]] == ["RUNNING_USER", "UI_LOGINS", "LOOKALIKE_PROFILE"]
    # Nobody to move and no extra string: the code is not even read, and no seat is asked for.
    assert read == [] and result["scanned"]["apex"] == 0
    assert [u["to_move"] for u in result["users"]] == [False, False]
    read_with_extra = run_module({"extra_strings": ["Bypass__c"]})
    assert read == [set(pc.SCANS)] and read_with_extra["ready"] is False


def test_tooling_refused_as_a_whole_is_a_scan_incomplete_warning_not_a_failure():
    client = FakeClient({}, tooling_composite="forbidden")
    records, errors = pc.read_components(client, {"apex", "flows"})
    assert records == {"ApexClass": [], "Flow": []}
    findings = pc._scan_error_findings(errors)
    assert [(f["code"], f["severity"], f["message"]) for f in findings] == [
        ("SCAN_INCOMPLETE", "warning", "could not read ApexClass: INSUFFICIENT_ACCESS"),
        ("SCAN_INCOMPLETE", "warning", "could not read Flow: INSUFFICIENT_ACCESS")]


def test_lookback_days_below_one_is_a_configuration_error_before_any_call():
    class NoCalls:
        flow = None
        api_usage = {"calls": 0, "used": None, "limit": None}
    params = {"users": [], "target_profile": None, "scans": ["apex"], "extra_strings": [], "lookback_days": 0}
    result, _task = execute(pc.SPEC, params, client_factory=lambda p: NoCalls())
    assert result["failed"] and "lookback_days must be at least 1" in result["msg"], result
    assert result["error"]["type"] == "ConfigurationError"
