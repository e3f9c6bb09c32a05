"""Unit tests of sf_permission_set's implementation: option parsing, licenses, plan, and run() on a fake org."""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import json
import os
import stat
from urllib.parse import unquote

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_permission_set as P
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ApiError, OperationError
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18

from fake_client import FakeClient as SharedFakeClient

PSL = {"Id": to18("0PL000000000001"), "DeveloperName": "SalesforceAPIIntegrationPsl",
       "MasterLabel": "Salesforce API Integration"}
FULL = {"Id": to18("100000000000001"), "Name": "Salesforce"}
INTEG = {"Id": to18("100000000000002"), "Name": "Salesforce Integration"}
PERMISSION_FIELDS = ["PermissionsApiEnabled", "PermissionsRunFlow", "PermissionsViewSetup",
                     "PermissionsModifyAllData", "PermissionsApiUserOnly"]


# ---- parsing ---------------------------------------------------------------------------------

def test_object_permissions_from_dict_letters_and_list_with_requirements():
    parsed = P.parse_object_permissions({
        "Account": {"read": True, "edit": True},
        "Contact": "crud",
        "Case": ["delete"],
        "Lead": {"modify_all": "yes"},
        "Task": {"read": False},
    })
    assert parsed["Account"] == ["Edit", "Read"]
    assert parsed["Contact"] == ["Create", "Delete", "Edit", "Read"]
    assert parsed["Case"] == ["Delete", "Edit", "Read"]
    assert parsed["Lead"] == ["Delete", "Edit", "ModifyAllRecords", "Read", "ViewAllRecords"]
    assert parsed["Task"] == []


@pytest.mark.parametrize("value,fragment", [
    ({"Account": {"raed": True}}, "unknown permission(s) raed"),
    ({"Account": "rx"}, "unknown letter(s) x"),
    ({"Account": {"read": "maybe"}}, "expected a boolean"),
    (["Account"], "dict keyed by object"),
])
def test_object_permissions_errors_name_the_problem(value, fragment):
    with pytest.raises(OperationError) as info:
        P.parse_object_permissions(value)
    assert fragment in str(info.value)


def test_field_permissions_forms_and_edit_implies_read():
    parsed = P.parse_field_permissions({"Account.Industry": "edit", "Account.Phone": {"read": True}})
    assert parsed == {"Account.Industry": ["Edit", "Read"], "Account.Phone": ["Read"]}
    with pytest.raises(OperationError):
        P.parse_field_permissions({"Industry": "read"})


def test_system_permissions_resolved_case_insensitively_with_aliases():
    assert P.resolve_system_permissions(["runflows", "PermissionsViewSetup", "apienabled"], PERMISSION_FIELDS) \
        == ["ApiEnabled", "RunFlow", "ViewSetup"]


def test_unknown_system_permission_suggests_a_close_name():
    with pytest.raises(OperationError) as info:
        P.resolve_system_permissions(["ViewSetupp"], PERMISSION_FIELDS)
    assert "did you mean ViewSetup" in str(info.value)


@pytest.mark.parametrize("name", ["1abc", "a__b", "a_", "a b", "", "x" * 81])
def test_invalid_api_names_refused(name):
    with pytest.raises(OperationError):
        P.validate_name(name)


def test_access_gap_validation():
    assert P.validate_access_gap({"objects": {"Account": ["Read"]}})["objects"] == {"Account": ["Read"]}
    with pytest.raises(OperationError):
        P.validate_access_gap({"objects": ["Account"]})
    with pytest.raises(OperationError):
        P.validate_access_gap({"other": 1})


@pytest.mark.parametrize("gap", [
    {"objects": {"Account": "Read"}},
    {"objects": {"Account": 5}},
    {"objects": {"Account": ["Reed"]}},
    {"fields": {"Account.Industry": ["Create"]}},
    {"system": [{"RunFlow": True}]},
], ids=["rights as a string", "rights as a number", "unknown right", "object right on a field", "system not names"])
def test_access_gap_rights_must_be_lists_of_known_rights(gap):
    with pytest.raises(OperationError, match="access_from.access_gap"):
        P.validate_access_gap(gap)


# ---- licenses --------------------------------------------------------------------------------

def test_default_license_is_the_integration_psl():
    assert P.resolve_license(None, [PSL], [FULL, INTEG]) == {
        "id": PSL["Id"], "name": "Salesforce API Integration", "kind": "permission_set_license"}
    assert P.resolve_license("SalesforceAPIIntegrationPsl", [PSL], [])["id"] == PSL["Id"]


def test_license_none():
    assert P.resolve_license("none", [PSL], [FULL])["id"] is None


def test_look_alike_user_license_is_refused_with_an_explanation():
    with pytest.raises(OperationError) as info:
        P.resolve_license("salesforce integration", [PSL], [FULL, INTEG])
    text = str(info.value)
    assert "look-alike" in text and "Salesforce API Integration" in text and "standard-object" in text


def test_other_user_license_allowed_and_unknown_listed():
    assert P.resolve_license("Salesforce", [PSL], [FULL])["kind"] == "user_license"
    with pytest.raises(OperationError) as info:
        P.resolve_license("Nope", [PSL], [FULL])
    assert "use one of: Salesforce, Salesforce API Integration, or none" in str(info.value)


def test_org_without_integration_psl_says_so():
    with pytest.raises(OperationError) as info:
        P.resolve_license(None, [], [FULL])
    assert "license: none" in str(info.value)


# ---- plan --------------------------------------------------------------------------------------

def _current(objects=None, system=(), fields=None, label="Sync", description=None):
    return {"id": to18("0PS000000000009"), "name": "Sync", "label": label, "description": description,
            "license_id": PSL["Id"], "license": "Salesforce API Integration",
            "access": {"system": sorted(system), "objects": objects or {}, "fields": fields or {}},
            "object_row_ids": dict((o, to18("110%012d" % i)) for i, o in enumerate(sorted(objects or {}))),
            "field_row_ids": dict((f, to18("01k%012d" % i)) for i, f in enumerate(sorted(fields or {})))}


def _desired(params, current, access):
    lic = {"id": PSL["Id"], "name": "Salesforce API Integration"}
    full = {"system": [], "objects": {}, "fields": {}}
    full.update(access)
    return P.desired_state(dict({"name": "Sync", "purge": False}, **params), current, lic, full)


def test_new_set_plan_creates_set_then_rows():
    desired = _desired({"label": "Sync read"}, None, {"objects": {"Account": ["Read"]}, "system": ["RunFlow"]})
    steps = P.write_steps_of(None, desired)
    assert [(s["op"], s["sobject"]) for s in steps] == [("create", "PermissionSet"), ("create", "ObjectPermissions")]
    assert steps[0]["fields"] == {"Name": "Sync", "Label": "Sync read", "LicenseId": PSL["Id"],
                                  "PermissionsRunFlow": True}
    assert steps[1]["fields"]["ParentId"] is None and steps[1]["fields"]["PermissionsRead"] is True
    assert steps[1]["fields"]["PermissionsEdit"] is False


def test_converged_set_plans_nothing():
    current = _current({"Account": ["Read"]}, ["RunFlow"])
    desired = _desired({}, current, {"objects": {"account": ["Read"]}, "system": ["RunFlow"]})
    assert P.write_steps_of(current, desired) == []
    # The org's spelling wins in results and diffs.
    assert desired["access"]["objects"] == {"Account": ["Read"]}
    purged = _desired({"purge": True}, current, {"objects": {"ACCOUNT": ["Read"]}, "system": ["RunFlow"]})
    assert purged["access"]["objects"] == {"Account": ["Read"]} and P.write_steps_of(current, purged) == []


def test_without_purge_unlisted_stays_and_listed_is_exact():
    current = _current({"Account": ["Edit", "Read"], "Contact": ["Read"]}, ["RunFlow"])
    desired = _desired({}, current, {"objects": {"Account": ["Read"]}})
    steps = P.write_steps_of(current, desired)
    assert [(s["op"], s["item"]) for s in steps] == [("update", "object Account: Read")]
    assert steps[0]["fields"] == dict((P._PREFIX + r, r == "Read") for _o, r in P.OBJECT_RIGHT_OPTIONS)
    assert desired["access"]["objects"]["Contact"] == ["Read"] and desired["access"]["system"] == ["RunFlow"]


def test_purge_removes_unlisted_rows_and_system_permissions():
    current = _current({"Account": ["Read"], "Contact": ["Read"]}, ["RunFlow", "ViewSetup"],
                       fields={"Account.Industry": ["Read"]})
    desired = _desired({"purge": True}, current, {"objects": {"Account": ["Read"]}, "system": ["RunFlow"]})
    steps = P.write_steps_of(current, desired)
    assert [(s["op"], s["sobject"]) for s in steps] == [
        ("update", "PermissionSet"), ("delete", "ObjectPermissions"), ("delete", "FieldPermissions")]
    assert steps[0]["fields"] == {"PermissionsViewSetup": False}


def test_label_and_description_changes():
    current = _current(label="Old", description="x")
    steps = P.write_steps_of(current, _desired({"label": "New", "description": ""}, current, {}))
    assert steps[0]["fields"] == {"Label": "New", "Description": ""}
    # Description not given: left as it is.
    assert P.write_steps_of(current, _desired({"label": "Old"}, current, {})) == []


def test_absent_plans_one_delete():
    current = _current({"Account": ["Read"]})
    assert [(s["op"], s["sobject"]) for s in P.write_steps_of(current, None)] == [("delete", "PermissionSet")]
    assert P.write_steps_of(None, None) == []


# ---- run() on a fake org ---------------------------------------------------------------------

# Setup entities of the fake org: Id -> (SetupEntityType, name).
ENTITIES = {to18("0H4000000000001"): ("ConnectedApplication", "MuleSoft Connector"),
            to18("01p000000000001"): ("ApexClass", "OrderService"),
            to18("0CP000000000001"): ("CustomPermission", "Bypass_Account_Rules")}


class FakeOrg(SharedFakeClient):
    """Enough of one org for sf_permission_set: sets, rows, licenses; writes applied; calls counted."""

    def __init__(self, refuse_objects=()):
        super(FakeOrg, self).__init__()
        self.org = "fake-org"
        self.user = "admin@fake.example"
        self.calls = 0
        self.write_calls = 0
        self.sets = {}
        self.rows = {}
        self.profiles = {"Integration Admin": to18("00e000000000001")}
        self.profile_sets = {to18("0PS00000000000P"): {
            "Id": to18("0PS00000000000P"), "Name": "X00e", "ProfileId": to18("00e000000000001"),
            "IsOwnedByProfile": True, "PermissionsApiEnabled": True, "PermissionsApiUserOnly": False}}
        self.profile_rows = [{"ParentId": to18("0PS00000000000P"), "SobjectType": "Account",
                              "PermissionsRead": True, "PermissionsCreate": True, "PermissionsEdit": True,
                              "PermissionsDelete": True, "PermissionsViewAllRecords": False,
                              "PermissionsModifyAllRecords": False}]
        self.refuse_objects = refuse_objects
        # SetupEntityAccess rows of the profile's own set (what access_from.profile replicates).
        self.profile_setup = []
        self.counter = 100

    # what the org answers, through the shared fake client
    def _count(self, kind, detail):
        self.calls += 1
        if kind == "transaction":
            self.write_calls += 1

    def answer_query(self, soql, reference, tooling):
        return self._query(soql)["records"]

    def answer_resource(self, subrequest, tooling):
        url = subrequest["url"]
        if url.endswith("/describe"):
            return 200, {"fields": [{"name": n, "type": "boolean"} for n in PERMISSION_FIELDS]}
        record_id = url.rsplit("/", 1)[1]
        if "/sobjects/PermissionSet/" in url and (record_id in self.sets or record_id in self.profile_sets):
            return 200, dict(self.sets.get(record_id) or self.profile_sets[record_id])
        return 404, [{"errorCode": "NOT_FOUND", "message": "no record %s" % record_id}]

    def _new_id(self, prefix):
        self.counter += 1
        return to18("%s%012d" % (prefix, self.counter))

    def _set_by_name(self, soql):
        name = soql.split("Name = '")[1].split("'")[0]
        return [s for s in self.sets.values() if s["Name"] == name]

    def _query(self, soql):
        soql = unquote(soql)
        if "FROM ObjectPermissions WHERE ParentId IN ('" in soql:
            rows = self.profile_rows
        elif "FROM FieldPermissions WHERE ParentId IN ('" in soql:
            rows = []
        elif soql.startswith("SELECT Id, Name, Label"):
            rows = [dict([(k, v) for k, v in s.items() if not k.startswith("Permissions")], SetupEntityAccessItems={
                "records": [dict(r) for r in self.rows.values()
                            if r["type"] == "SetupEntityAccess" and r["ParentId"] == s["Id"]]} or None)
                    for s in self._set_by_name(soql)]
            if "Profile.Name = 'Integration Admin'" in soql:
                rows.extend(dict(r, Label=None, Description=None, LicenseId=None) for r in self.profile_sets.values())
        elif "FROM PermissionSet WHERE Id IN" in soql:
            rows = list(self.profile_sets.values())
        elif "FROM ObjectPermissions" in soql or "FROM FieldPermissions" in soql:
            kind = "ObjectPermissions" if "FROM ObjectPermissions" in soql else "FieldPermissions"
            ids = [s["Id"] for s in self._set_by_name(soql)]
            rows = [r for r in self.rows.values() if r["type"] == kind and r["ParentId"] in ids]
        elif "FROM PermissionSetLicense" in soql:
            rows = [PSL]
        elif "FROM UserLicense" in soql:
            rows = [FULL, INTEG]
        elif "FROM PermissionSetAssignment" in soql:
            rows = []
        elif "FROM SetupEntityAccess WHERE ParentId IN ('" in soql:
            rows = self.profile_setup
        elif soql.split(" FROM ")[1].split()[0] in set(kind for kind, _name in ENTITIES.values()):
            entity_type = soql.split(" FROM ")[1].split()[0]
            field = "DeveloperName" if entity_type == "CustomPermission" else "Name"
            rows = [{"Id": entity_id, field: name} for entity_id, (kind, name) in ENTITIES.items() if kind == entity_type]
        else:
            raise AssertionError(soql)
        return {"totalSize": len(rows), "done": True, "records": [dict(r) for r in rows]}

    def answer_transaction(self, subrequests):
        answers = {}
        ids = {}
        snapshot = json.dumps([self.sets, self.rows])
        for sub in subrequests:
            ref = sub["referenceId"]
            try:
                body, status = self._write(sub, ids), (201 if sub["method"] == "POST" else 204)
                if sub["method"] == "POST":
                    ids[ref] = body["id"]
            except ValueError as exc:
                body, status = [{"errorCode": "FIELD_INTEGRITY_EXCEPTION", "message": str(exc)}], 400
                self.sets, self.rows = json.loads(snapshot)
                for done in answers:
                    answers[done] = {"status": 400, "body": [{"errorCode": "PROCESSING_HALTED", "message": "halted"}]}
            answers[ref] = {"status": status, "body": body}
            if status >= 300:
                break
        return answers

    def _write(self, sub, ids):
        body = dict(sub.get("body") or {})
        for key, value in list(body.items()):
            if isinstance(value, str) and value.startswith("@{"):
                body[key] = ids[value[2:].split(".")[0]]
        sobject, _slash, record_id = sub["url"].split("/sobjects/")[1].partition("/")
        if sub["method"] == "POST":
            if body.get("SobjectType") in self.refuse_objects:
                raise ValueError("license cannot carry %s" % body["SobjectType"])
            new_id = self._new_id("0PS" if sobject == "PermissionSet" else "110")
            record = dict(body, Id=new_id)
            if sobject == "PermissionSet":
                record.setdefault("Description", None)
                record["IsOwnedByProfile"] = False
                for field in PERMISSION_FIELDS:
                    record.setdefault(field, False)
                self.sets[new_id] = record
            else:
                record["type"] = sobject
                if sobject == "SetupEntityAccess":
                    # Salesforce fills in the entity's type.
                    record["SetupEntityType"] = ENTITIES[record["SetupEntityId"]][0]
                self.rows[new_id] = record
            return {"id": new_id, "success": True, "errors": []}
        if sub["method"] == "PATCH":
            (self.sets if sobject == "PermissionSet" else self.rows)[record_id].update(body)
            return None
        if sobject == "PermissionSet":
            del self.sets[record_id]
            self.rows = dict((k, v) for k, v in self.rows.items() if v["ParentId"] != record_id)
        else:
            del self.rows[record_id]
        return None


class FakeTask:
    def __init__(self, client, params, check_mode=False, diff=False, tmp_path=None):
        defaults = dict((k, v.get("default")) for k, v in P.ARGUMENT_SPEC.items())
        defaults["backup_dir"] = str(tmp_path / "backups") if tmp_path else None
        defaults.update(params)
        self.client = client
        self.params = defaults
        self.check_mode = check_mode
        self.diff = diff
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def run(org, tmp_path, check_mode=False, diff=True, **params):
    task = FakeTask(org, params, check_mode=check_mode, diff=diff, tmp_path=tmp_path)
    org.calls = org.write_calls = 0
    return P.run(task), task


SPEC = dict(name="Sync_Read_Api", label="Sync read", object_permissions={"Account": "r"},
            field_permissions={"Account.Industry": "read"}, system_permissions=["RunFlows"])


def test_create_then_converged_rerun_makes_no_write(tmp_path):
    org = FakeOrg()
    result, _task = run(org, tmp_path, **SPEC)
    assert result["changed"] is True and org.write_calls == 1 and org.calls == 2
    created = list(org.sets.values())[0]
    assert created["LicenseId"] == PSL["Id"] and created["PermissionsRunFlow"] is True
    assert sorted(r["type"] for r in org.rows.values()) == ["FieldPermissions", "ObjectPermissions"]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["object_permissions"] == {"Account": ["Read"]}
    assert "backup_file" not in result  # nothing existed, nothing to back up
    again, _task = run(org, tmp_path, **SPEC)
    assert again["changed"] is False and org.write_calls == 0 and org.calls == 1
    assert again["diff"]["before"] == again["diff"]["after"]


def test_check_mode_writes_nothing(tmp_path):
    org = FakeOrg()
    result, _task = run(org, tmp_path, check_mode=True, **SPEC)
    assert result["changed"] is True and org.write_calls == 0 and org.sets == {}
    assert [c["op"] for c in result["changes"]] == ["create", "create", "create"]


def test_change_of_existing_set_is_backed_up_owner_only(tmp_path):
    org = FakeOrg()
    run(org, tmp_path, **SPEC)
    wider = dict(SPEC)
    wider["object_permissions"] = {"Account": "cru"}
    result, _task = run(org, tmp_path, **wider)
    assert result["changed"] is True and org.write_calls == 1
    path = result["backup_file"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as stream:
        saved = json.load(stream)
    assert saved["kind"] == "permission_set"
    assert saved["data"]["public"]["object_permissions"] == {"Account": ["Read"]}
    account = [r for r in org.rows.values() if r["type"] == "ObjectPermissions"][0]
    assert account["PermissionsEdit"] is True and account["PermissionsCreate"] is True


def test_purge_and_absent(tmp_path):
    org = FakeOrg()
    run(org, tmp_path, **SPEC)
    result, _task = run(org, tmp_path, name=SPEC["name"], purge=True, object_permissions={"Account": "r"})
    assert result["changed"] is True
    assert [r["type"] for r in org.rows.values()] == ["ObjectPermissions"]
    assert list(org.sets.values())[0]["PermissionsRunFlow"] is False
    gone, _task = run(org, tmp_path, name=SPEC["name"], state="absent")
    assert gone["changed"] is True and org.sets == {} and gone["diff"]["after"] == {}
    again, _task = run(org, tmp_path, name=SPEC["name"], state="absent")
    assert again["changed"] is False and org.write_calls == 0


def test_access_from_profile_replicates_and_reports_profile_only_settings(tmp_path):
    org = FakeOrg()
    org.profile_sets[to18("0PS00000000000P")]["PermissionsApiUserOnly"] = True
    result, task = run(org, tmp_path, name="Integration_Admin_Access", access_from={"profile": "Integration Admin"})
    assert result["permission_set"]["object_permissions"] == {"Account": ["Create", "Delete", "Edit", "Read"]}
    assert result["permission_set"]["system_permissions"] == ["ApiEnabled"]
    assert result["not_carried"][0]["item"] == "system:ApiUserOnly" and task.warnings
    # read composite (the profile's set found there) + one composite for its access, then one write
    assert org.calls == 3 and org.write_calls == 1


def test_access_from_unknown_profile_fails_before_writing(tmp_path):
    org = FakeOrg()
    with pytest.raises(OperationError):
        run(org, tmp_path, name="X_Set", access_from={"profile": "Nope"})
    assert org.write_calls == 0


def test_access_gap_input(tmp_path):
    org = FakeOrg()
    gap = {"system": ["RunFlow"], "objects": {"Contact": ["Read"]}, "fields": {}}
    result, _task = run(org, tmp_path, name="Gap_Set", access_from={"access_gap": gap})
    assert result["permission_set"]["object_permissions"] == {"Contact": ["Read"]}
    assert result["permission_set"]["system_permissions"] == ["RunFlow"]


def test_access_gap_rights_get_what_they_depend_on(tmp_path):
    # The target already reads Account, so the gap only names Edit and Delete; the set's row must
    # still hold Read, or Salesforce refuses it.
    org = FakeOrg()
    gap = {"system": [], "objects": {"Account": ["Delete", "Edit"]}, "fields": {"Account.Industry": ["Edit"]}}
    result, _task = run(org, tmp_path, name="Gap_Set", access_from={"access_gap": gap})
    assert result["permission_set"]["object_permissions"] == {"Account": ["Delete", "Edit", "Read"]}
    assert result["permission_set"]["field_permissions"] == {"Account.Industry": ["Edit", "Read"]}


def test_refused_object_is_named_and_nothing_is_written(tmp_path):
    org = FakeOrg(refuse_objects=("Account",))
    with pytest.raises(ApiError) as info:
        run(org, tmp_path, **SPEC)
    assert "object Account: Read" in str(info.value) and "license cannot carry Account" in str(info.value)
    assert org.sets == {} and org.rows == {}


def test_license_of_existing_set_cannot_change(tmp_path):
    org = FakeOrg()
    run(org, tmp_path, **SPEC)
    with pytest.raises(OperationError) as info:
        run(org, tmp_path, **dict(SPEC, license="none"))
    assert "does not change the license" in str(info.value)


def test_look_alike_license_refused_before_any_write(tmp_path):
    org = FakeOrg()
    with pytest.raises(OperationError):
        run(org, tmp_path, **dict(SPEC, license="Salesforce Integration"))
    assert org.write_calls == 0


def test_large_plan_splits_into_composite_and_collections(tmp_path):
    org = FakeOrg()
    calls = []
    org.create_records = lambda sobject, records, all_or_none, raise_on_error: (
        calls.append((sobject, len(records), all_or_none)) or
        [{"id": to18("110%012d" % i), "success": True, "errors": []} for i in range(len(records))])
    objects = dict(("Obj%02d__c" % i, "r") for i in range(30))
    result, _task = run(org, tmp_path, name="Wide_Set", object_permissions=objects)
    assert result["changed"] is True
    assert calls == [("ObjectPermissions", 6, True)]


# ---- the option contract ----------------------------------------------------------------------
def validate(**args):
    return ArgumentSpecValidator(P.SPEC.full_argument_spec(), **P.SPEC.constraints).validate(args)


def test_defaults():
    params = validate(name="X").validated_parameters
    assert params["license"] == "Salesforce API Integration"
    assert params["state"] == "present" and params["purge"] is False
    assert params["backup_dir"].endswith("sfops_backups") and not params["backup_dir"].startswith("~")


def test_name_required_and_state_choices():
    assert "name" in validate().errors.msg
    assert "state" in validate(name="X", state="gone").errors.msg


def test_access_from_needs_exactly_one_source():
    assert validate(name="X", access_from={}).error_messages
    both = validate(name="X", access_from={"profile": "P", "access_gap": {"objects": {}}})
    assert "mutually exclusive" in both.errors.msg
    assert not validate(name="X", access_from={"profile": "P"}).error_messages


def test_the_module_supports_check_mode():
    assert P.SPEC.supports_check_mode


# ---- setup-entity access (connected apps, Apex classes, custom permissions) ----------------------
GAP_WITH_SETUP = {"system": [], "objects": {"Account": ["Read"]}, "fields": {},
                  "setup": {"ConnectedApplication": ["MuleSoft Connector"], "ApexClass": ["OrderService"]}}


def test_setup_access_of_a_gap_is_carried_once_and_then_converged(tmp_path):
    org = FakeOrg()
    result, _task = run(org, tmp_path, name="Mule_Access", access_from={"access_gap": GAP_WITH_SETUP})
    rows = sorted((r["SetupEntityId"], r["ParentId"]) for r in org.rows.values() if r["type"] == "SetupEntityAccess")
    set_id = list(org.sets)[0]
    assert rows == sorted([(to18("0H4000000000001"), set_id), (to18("01p000000000001"), set_id)])
    assert result["permission_set"]["setup_entity_access"] == {
        "ApexClass": ["OrderService"], "ConnectedApplication": ["MuleSoft Connector"]}
    # One read, one call naming the setup entities, one write.
    assert org.write_calls == 1 and org.calls == 3
    again, _task = run(org, tmp_path, name="Mule_Access", access_from={"access_gap": GAP_WITH_SETUP})
    assert again["changed"] is False and org.write_calls == 0 and again["changes"] == []


def test_an_unknown_setup_entity_is_refused_by_name_before_any_write(tmp_path):
    org = FakeOrg()
    gap = dict(GAP_WITH_SETUP, setup={"ConnectedApplication": ["Gone Connector"]})
    with pytest.raises(OperationError, match="no ConnectedApplication Gone Connector"):
        run(org, tmp_path, name="Mule_Access", access_from={"access_gap": gap})
    assert org.write_calls == 0 and org.sets == {}


def test_purge_removes_setup_access_not_asked_for(tmp_path):
    org = FakeOrg()
    run(org, tmp_path, name="Mule_Access", access_from={"access_gap": GAP_WITH_SETUP})
    gap = dict(GAP_WITH_SETUP, setup={"ApexClass": ["OrderService"]})
    kept, _task = run(org, tmp_path, name="Mule_Access", access_from={"access_gap": gap})
    assert kept["changed"] is False  # without purge what is not listed stays
    purged, _task = run(org, tmp_path, name="Mule_Access", purge=True, access_from={"access_gap": gap})
    assert [c["item"] for c in purged["changes"] if "setup" in c["item"]] == [
        "setup access ConnectedApplication: MuleSoft Connector (removed)"]
    assert [r["SetupEntityId"] for r in org.rows.values() if r["type"] == "SetupEntityAccess"] == [
        to18("01p000000000001")]


def test_access_from_profile_replicates_its_setup_entities(tmp_path):
    org = FakeOrg()
    org.profile_setup = [{"Id": to18("0J0000000000001"), "ParentId": to18("0PS00000000000P"),
                          "SetupEntityId": to18("0CP000000000001"), "SetupEntityType": "CustomPermission"}]
    result, _task = run(org, tmp_path, name="Admin_Copy", access_from={"profile": "Integration Admin"})
    assert result["permission_set"]["setup_entity_access"] == {"CustomPermission": ["Bypass_Account_Rules"]}


def test_a_malformed_setup_gap_is_refused():
    with pytest.raises(OperationError, match="access_gap.setup"):
        P.validate_access_gap({"setup": {"Flow": ["x"]}})
    with pytest.raises(OperationError, match="access_gap.setup"):
        P.validate_access_gap({"setup": {"ApexClass": "OrderService"}})


ETL_ID = to18("005000000000007")
MULE_ID = to18("005000000000008")


def test_a_dedicated_set_refuses_other_assignees_another_users_description_and_an_unknown_user():
    """Issue 13: one set per integration user, never shared."""
    etl = {"Id": ETL_ID, "Username": "svc.etl@acme.com"}
    held_by_mule = [{"AssigneeId": MULE_ID, "Assignee": {"Username": "svc.mule@acme.com"}}]
    made_for_mule = P.DEDICATED_DESCRIPTION % ("svc.mule@acme.com", MULE_ID)
    assert P.dedication_problems("S", "svc.etl@acme.com", etl, [], None) == []
    assert P.dedication_problems("S", "svc.etl@acme.com", etl, held_by_mule, None) == [
        "permission set S is assigned to 1 other user(s): svc.mule@acme.com"]
    assert P.dedication_problems("S", "svc.etl@acme.com", etl, [], made_for_mule) == [
        "permission set S was made for user %s, not for svc.etl@acme.com (%s)" % (MULE_ID, ETL_ID)]
    # A 15-character Id in the description or an assignment is the same user.
    own = [{"AssigneeId": ETL_ID[:15], "Assignee": {"Username": "svc.etl@acme.com"}}]
    assert P.dedication_problems("S", "svc.etl@acme.com", etl, own,
                                 P.DEDICATED_DESCRIPTION % ("svc.etl@acme.com", ETL_ID[:15])) == []
    assert P.dedication_problems("S", "svc.gone@acme.com", None, [], None) == [
        "this org has no user svc.gone@acme.com to dedicate permission set S to"]


def test_a_dedicated_description_survives_a_sandbox_refresh():
    etl_uat = {"Id": ETL_ID, "Username": "svc.etl@acme.com.uat"}
    production_wording = P.DEDICATED_DESCRIPTION % ("svc.etl@acme.com", ETL_ID)
    # The refreshed sandbox's set names the production username but the same Id: kept, no write.
    assert P.dedicated_description("svc.etl@acme.com.uat", etl_uat, production_wording) == production_wording
    assert P.dedicated_description("svc.etl@acme.com.uat", etl_uat, "hand-written") == (
        P.DEDICATED_DESCRIPTION % ("svc.etl@acme.com.uat", ETL_ID))
