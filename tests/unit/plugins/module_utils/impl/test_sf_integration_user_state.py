# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_integration_user_state as m
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.users import normalize_user
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import rules
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.licenses import (
    DEPRECATED_PROFILE,
    INTEGRATION_LICENSE,
    STANDARD_PROFILE,
    integration_summary,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.records import user_license_record

FULL = to18("100000000000001")
INTEG = to18("100000000000002")
PSL_INTEG = to18("0PL000000000001")
PSL_OTHER = to18("0PL000000000002")
ADMIN_PROFILE = to18("00e000000000001")
MIN_ACCESS = to18("00e000000000002")
CLONE = to18("00e000000000003")
LOOKALIKE = to18("00e000000000004")
PS_FULL = to18("0PS000000000001")
PS_FREE = to18("0PS000000000002")
PS_INTEG = to18("0PS000000000003")
PS_OTHER_PSL = to18("0PS000000000004")
USER = to18("005000000000001")
ME = to18("005000000000009")


def _license(row_id, name, total, used):
    return {"Id": row_id, "Name": name, "TotalLicenses": total, "UsedLicenses": used}


def _profile(row_id, name, license_id, license_name):
    return {"Id": row_id, "Name": name, "UserLicenseId": license_id, "UserLicense": {"Name": license_name}}


def make_facts(integration_free=5, psl_free=5, profiles=None, ui=None):
    rows = _rows(integration_free, psl_free, profiles)
    rows["licenses"] = [user_license_record(row) for row in rows["licenses"]]
    facts = m.preflight_facts(**rows, ui_login_counts=ui or {}, running_user_id=ME)
    facts["default_profile"] = integration_summary(*[_rows(integration_free, psl_free, profiles)[key] for key in (
        "licenses", "psls", "profiles")])["default_profile"]
    return facts


def target_of(facts, name=None):
    target, found = rules.resolve_target_profile(facts["profiles"].values(), name, facts["default_profile"])
    blockers = [item["message"] for item in found if item["severity"] == "blocker"]
    return target, blockers[0] if blockers else None


def _rows(integration_free, psl_free, profiles):
    return dict(
        licenses=[_license(FULL, "Salesforce", 100, 90), _license(INTEG, INTEGRATION_LICENSE, 5, 5 - integration_free)],
        psls=[{"Id": PSL_INTEG, "DeveloperName": m.INTEGRATION_PSL, "MasterLabel": "Salesforce API Integration",
               "TotalLicenses": 5, "UsedLicenses": 5 - psl_free},
              {"Id": PSL_OTHER, "DeveloperName": "OtherPsl", "MasterLabel": "Other", "TotalLicenses": 10,
               "UsedLicenses": 0}],
        profiles=profiles if profiles is not None else [
            _profile(ADMIN_PROFILE, "System Administrator", FULL, "Salesforce"),
            _profile(MIN_ACCESS, STANDARD_PROFILE, INTEG, INTEGRATION_LICENSE),
            _profile(CLONE, "Integration Clone", INTEG, INTEGRATION_LICENSE),
            _profile(LOOKALIKE, "API Only Custom", FULL, "Salesforce")],
        permission_sets=[{"Id": PS_FULL, "Name": "SalesCloudExtras", "LicenseId": FULL},
                         {"Id": PS_FREE, "Name": "Unbound", "LicenseId": None},
                         {"Id": PS_INTEG, "Name": "Integration_Access", "LicenseId": PSL_INTEG},
                         {"Id": PS_OTHER_PSL, "Name": "OtherPslSet", "LicenseId": PSL_OTHER}],
    )


def user_record(user_id=USER, username="svc.mulesoft@acme.com", sets=(), active=True, profile=None, psls=()):
    profile = profile or ("System Administrator", ADMIN_PROFILE, FULL, "Salesforce")
    rows = [{"Id": to18("0Pa00000000000%d" % n), "PermissionSetId": ps_id,
             "PermissionSet": {"Name": name, "LicenseId": lic, "IsOwnedByProfile": False}}
            for n, (ps_id, name, lic) in enumerate(sets)]
    psl_rows = [{"Id": to18("2LA00000000000%d" % n), "PermissionSetLicenseId": psl_id,
                 "PermissionSetLicense": {"DeveloperName": name}} for n, (psl_id, name) in enumerate(psls)]
    return {"Id": user_id, "Username": username, "IsActive": active, "ProfileId": profile[1],
            "Profile": {"Name": profile[0], "UserLicenseId": profile[2], "UserLicense": {"Name": profile[3]}},
            "PermissionSetAssignments": {"totalSize": len(rows), "done": True, "records": rows},
            "PermissionSetLicenseAssignments": ({"totalSize": len(psl_rows), "done": True, "records": psl_rows}
                                                if psl_rows else None)}


def state(record):
    return m.state_from_user(normalize_user(record))


def test_state_skips_group_sets_and_reads_psls():
    record = user_record(sets=[(PS_FULL, "SalesCloudExtras", FULL), (PS_FREE, "Unbound", None)],
                         psls=[(PSL_OTHER, "OtherPsl")])
    record["PermissionSetAssignments"]["records"][1]["PermissionSetGroupId"] = "0PG000000000001AAA"
    found = state(record)
    assert [ps["name"] for ps in found["permission_sets"]] == ["SalesCloudExtras"]
    assert found["permission_set_licenses"] == [{"id": PSL_OTHER, "name": "OtherPsl"}]
    assert found["assignments"] == {PS_FULL: to18("0Pa000000000000"), PSL_OTHER: to18("2LA000000000000")}
    assert found["profile"]["license"] == "Salesforce"
    assert "assignments" not in m.comparable(found)


def test_state_tolerates_null_child_subquery():
    record = user_record()
    record["PermissionSetAssignments"] = None
    assert state(record)["permission_sets"] == []


@pytest.mark.parametrize("target,expected_id", [(None, MIN_ACCESS), ("integration clone", CLONE)])
def test_target_profile_by_license(target, expected_id):
    profile, reason = target_of(make_facts(), target)
    assert reason is None and profile["id"] == expected_id


def test_lookalike_profile_on_full_license_is_refused():
    profile, reason = target_of(make_facts(), "API Only Custom")
    assert profile is None and "not 'Salesforce Integration'" in reason


def test_no_standard_profile_and_several_clones_asks_for_target():
    facts = make_facts(profiles=[_profile(CLONE, "A", INTEG, INTEGRATION_LICENSE),
                                 _profile(MIN_ACCESS, "B", INTEG, INTEGRATION_LICENSE)])
    profile, reason = target_of(facts)
    assert profile is None and "2 custom profiles" in reason


def test_deprecated_profile_used_when_standard_missing():
    facts = make_facts(profiles=[_profile(MIN_ACCESS, DEPRECATED_PROFILE, INTEG, INTEGRATION_LICENSE)])
    assert target_of(facts)[0]["id"] == MIN_ACCESS


def _migrate(record, facts=None, **options):
    facts = facts or make_facts()
    current = state(record)
    target = target_of(facts, options.pop("target_profile", None))[0]
    desired, problems = m.migrated_state(current, facts, target, options)
    return current, desired, problems


def test_conflicting_sets_fail_by_default_naming_them():
    problems = _migrate(user_record(sets=[(PS_FULL, "SalesCloudExtras", FULL), (PS_FREE, "Unbound", None)]))[2]
    assert len(problems) == 1
    assert "SalesCloudExtras (Salesforce)" in problems[0] and "Unbound" not in problems[0]


def test_conflicting_sets_removed_plan_is_ordered():
    current, desired, problems = _migrate(
        user_record(sets=[(PS_FULL, "SalesCloudExtras", FULL), (PS_FREE, "Unbound", None)]),
        conflicting_permission_sets="remove", permission_sets=["Integration_Access"])
    assert problems == []
    assert [ps["name"] for ps in desired["permission_sets"]] == ["Integration_Access", "Unbound"]
    assert desired["permission_set_licenses"] == [{"id": PSL_INTEG, "name": m.INTEGRATION_PSL}]
    plan = m.write_steps([(current, desired)])
    assert [step["name"] for step in plan] == [
        "remove_permission_sets", "update_users", "assign_permission_set_licenses", "assign_permission_sets"]
    assert plan[0]["records"] == [to18("0Pa000000000000")]
    assert plan[1]["records"] == [{"attributes": {"type": "User"}, "Id": USER, "ProfileId": MIN_ACCESS}]
    assert plan[2]["records"][0]["PermissionSetLicenseId"] == PSL_INTEG
    assert plan[2]["tolerated_errors"] == ["DUPLICATE_VALUE"]
    assert plan[3]["records"][0] == {"attributes": {"type": "PermissionSetAssignment"}, "AssigneeId": USER,
                                     "PermissionSetId": PS_INTEG}
    assert all(step["users"] == ["svc.mulesoft@acme.com"] for step in plan)


def test_user_operations_are_the_plan_as_single_record_requests_in_order():
    current, desired, _problems = _migrate(
        user_record(sets=[(PS_FULL, "SalesCloudExtras", FULL)]),
        conflicting_permission_sets="remove", permission_sets=["Integration_Access"])
    operations = m.user_operations(current, desired)
    assert [(o["step"], o["method"], o["path"], o["item_id"]) for o in operations] == [
        ("remove_permission_sets", "DELETE", "sobjects/PermissionSetAssignment/" + to18("0Pa000000000000"), PS_FULL),
        ("update_users", "PATCH", "sobjects/User/" + USER, None),
        ("assign_permission_set_licenses", "POST", "sobjects/PermissionSetLicenseAssign", PSL_INTEG),
        ("assign_permission_sets", "POST", "sobjects/PermissionSetAssignment", PS_INTEG)]
    # Bodies carry the fields only: the record's type is in the URL, the Id too for the update.
    assert [o["body"] for o in operations] == [
        None, {"ProfileId": MIN_ACCESS}, {"AssigneeId": USER, "PermissionSetLicenseId": PSL_INTEG},
        {"AssigneeId": USER, "PermissionSetId": PS_INTEG}]


def test_user_operations_reference_a_user_created_in_the_same_transaction():
    facts = make_facts()
    target = target_of(facts)[0]
    desired = m.migrated_state(m.new_user_state(None, "svc.new@acme.com", target), facts, target,
                               {"permission_sets": ["Integration_Access"]})[0]
    new = m.new_user_state("@{u0_user.id}", "svc.new@acme.com", target)
    bodies = [o["body"] for o in m.user_operations(new, desired)]
    assert bodies == [{"AssigneeId": "@{u0_user.id}", "PermissionSetLicenseId": PSL_INTEG},
                      {"AssigneeId": "@{u0_user.id}", "PermissionSetId": PS_INTEG}]


def test_exact_mode_removes_unlisted_without_conflict_failure():
    current, desired, problems = _migrate(
        user_record(sets=[(PS_FULL, "SalesCloudExtras", FULL), (PS_FREE, "Unbound", None)]),
        permission_sets=["Integration_Access"], permission_sets_mode="exact")
    assert problems == []
    assert [ps["name"] for ps in desired["permission_sets"]] == ["Integration_Access"]
    removed = m.write_steps([(current, desired)])[0]
    assert removed["name"] == "remove_permission_sets" and len(removed["records"]) == 2


def test_requested_set_missing_or_bound_elsewhere():
    problems = _migrate(user_record(), permission_sets=["Nope", "SalesCloudExtras", "OtherPslSet"])[2]
    assert any("'Nope' does not exist" in p for p in problems)
    assert any("'SalesCloudExtras' is bound to the 'Salesforce' license" in p for p in problems)
    # A set bound to a PSL the user does not hold cannot be assigned either.
    assert any("'OtherPslSet' is bound to the 'Other' license" in p for p in problems)


def test_running_user_and_ui_logins_refused_unless_allowed():
    facts = make_facts(ui={ME: 3})
    problems = _migrate(user_record(user_id=ME), facts)[2]
    assert any("runs as" in p for p in problems)
    assert any("3 user-interface login(s)" in p for p in problems)
    problems = _migrate(user_record(user_id=ME), facts, allow_ui_users=True)[2]
    assert not any("user-interface" in p for p in problems)


def test_running_user_is_recognised_from_a_15_character_id():
    facts = make_facts()
    facts["running_user_id"] = ME[:15]
    assert any("runs as" in p for p in _migrate(user_record(user_id=ME), facts)[2])


def test_converged_user_has_no_changes_and_ignores_old_ui_logins():
    record = user_record(profile=(STANDARD_PROFILE, MIN_ACCESS, INTEG, INTEGRATION_LICENSE),
                         sets=[(PS_INTEG, "Integration_Access", PSL_INTEG)])
    record["PermissionSetLicenseAssignments"] = {"totalSize": 1, "done": True, "records": [
        {"Id": "2LA000000000001AAA", "PermissionSetLicenseId": PSL_INTEG,
         "PermissionSetLicense": {"DeveloperName": m.INTEGRATION_PSL}}]}
    current = state(record)
    facts = make_facts(ui={USER: 2})
    target = target_of(facts)[0]
    desired, problems = m.migrated_state(current, facts, target, {"permission_sets": ["Integration_Access"]})
    assert problems == []
    assert m.changes(current, desired) == []
    assert m.write_steps([(current, desired)]) == []


def test_seats_counted_for_license_and_psl():
    pairs = []
    for n in range(3):
        current, desired = _migrate(user_record(user_id=to18("00500000000000%d" % n), username="u%d@x" % n))[:2]
        pairs.append((current, desired))
    assert m.seat_problems(pairs, make_facts(integration_free=3, psl_free=3)) == []
    problems = m.seat_problems(pairs, make_facts(integration_free=2, psl_free=1))
    assert problems == [
        "the user license 'Salesforce Integration' has 2 free seat(s) and this run needs 3 (3 of 5 used)",
        "the permission set license 'Salesforce API Integration' has 1 free seat(s) and this run needs 3 (4 of 5 used)"]


def test_inactive_target_needs_no_seat_and_reactivation_does():
    current = state(user_record())
    assert m.seat_problems([(current, m.absent_state(current))], make_facts(integration_free=0)) == []
    inactive = state(user_record(active=False))
    back = copy.deepcopy(inactive)
    back["is_active"] = True
    facts = m.preflight_facts(licenses=[user_license_record(_license(FULL, "Salesforce", 10, 10))])
    assert m.seat_problems([(inactive, back)], facts) == [
        "the user license 'Salesforce' has 0 free seat(s) and this run needs 1 (10 of 10 used)"]


def test_inactive_user_moved_needs_a_psl_seat_but_no_license_seat():
    current, desired = _migrate(user_record(active=False))[:2]
    assert m.seat_problems([(current, desired)], make_facts(integration_free=0, psl_free=0)) == [
        "the permission set license 'Salesforce API Integration' has 0 free seat(s) and this run needs 1 (5 of 5 used)"]


def test_absent_plan_only_deactivates():
    current = state(user_record(sets=[(PS_FREE, "Unbound", None)]))
    plan = m.write_steps([(current, m.absent_state(current))])
    assert plan == [{"name": "update_users", "sobject": "User", "operation": "update", "tolerated_errors": [],
                     "records": [{"attributes": {"type": "User"}, "Id": USER, "IsActive": False}],
                     "users": ["svc.mulesoft@acme.com"]}]


def test_restore_is_the_inverse_in_salesforce_order():
    before = state(user_record(sets=[(PS_FULL, "SalesCloudExtras", FULL)]))
    migrated = _migrate(user_record(sets=[(PS_FULL, "SalesCloudExtras", FULL)]),
                        conflicting_permission_sets="remove", permission_sets=["Integration_Access"])[1]
    # After the migration the org gave new assignment Ids.
    migrated["assignments"] = {PS_INTEG: "0Pa00000000000NAAA", PSL_INTEG: "2LA00000000000NAAA"}
    desired, problems = m.restored_state(migrated, m.comparable(before), make_facts())
    assert problems == []
    plan = m.write_steps([(migrated, desired)])
    assert [(step["name"], step["records"]) for step in plan] == [
        ("remove_permission_sets", ["0Pa00000000000NAAA"]),
        ("remove_permission_set_licenses", ["2LA00000000000NAAA"]),
        ("update_users", [{"attributes": {"type": "User"}, "Id": USER, "ProfileId": ADMIN_PROFILE}]),
        ("assign_permission_sets", [{"attributes": {"type": "PermissionSetAssignment"}, "AssigneeId": USER,
                                     "PermissionSetId": PS_FULL}]),
    ]
    assert m.changes(desired, before) == []


def test_restore_reports_vanished_references():
    saved = m.comparable(state(user_record(sets=[(PS_FULL, "SalesCloudExtras", FULL)])))
    facts = make_facts(profiles=[])
    facts["permission_sets"].pop(PS_FULL)
    problems = m.restored_state(state(user_record()), saved, facts)[1]
    assert problems == ["profile 'System Administrator' of the backup no longer exists",
                        "permission set 'SalesCloudExtras' of the backup no longer exists"]


def test_diff_by_username_without_assignment_ids():
    current, desired = _migrate(user_record(), permission_sets=["Unbound"])[:2]
    diff = m.user_diff([(current, desired)])
    assert diff["before"]["svc.mulesoft@acme.com"]["profile"]["name"] == "System Administrator"
    assert diff["after"]["svc.mulesoft@acme.com"]["profile"]["name"] == STANDARD_PROFILE
    assert "assignments" not in diff["after"]["svc.mulesoft@acme.com"]
