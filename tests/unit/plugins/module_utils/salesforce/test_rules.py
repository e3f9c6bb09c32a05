# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The move rules both sf_profile_check and sf_integration_user apply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import rules

FULL = to18("100000000000001")
INTEG = to18("100000000000002")
PSL = to18("0PL000000000001")
OTHER_PSL = to18("0PL000000000002")


def profile(pid, name, license_name, license_id):
    return {"id": to18(pid), "name": name, "license": license_name, "license_id": license_id}


STANDARD = profile("00e000000000001", "Minimum Access - API Only Integrations", "Salesforce Integration", INTEG)
CLONE = profile("00e000000000002", "Integration Clone", "Salesforce Integration", INTEG)
API_ONLY_FULL = profile("00e000000000003", "API Only", "Salesforce", FULL)
PROFILES = [STANDARD, CLONE, API_ONLY_FULL]
DEFAULT = {"id": STANDARD["id"], "name": STANDARD["name"], "reason": "standard"}


def codes(findings):
    return [(f["code"], f["severity"]) for f in findings]


def test_target_profile_by_name_or_id_in_either_form():
    for wanted in ("integration clone", CLONE["id"], CLONE["id"][:15]):
        assert rules.resolve_target_profile(PROFILES, wanted, DEFAULT) == (CLONE, [])
    assert rules.resolve_target_profile(PROFILES, None, DEFAULT) == (STANDARD, [])


def test_target_profile_refusals():
    assert codes(rules.resolve_target_profile(PROFILES, "API Only", DEFAULT)[1]) == [
        ("TARGET_PROFILE_WRONG_LICENSE", "blocker")]
    assert codes(rules.resolve_target_profile(PROFILES, "Nope", DEFAULT)[1]) == [("TARGET_PROFILE_MISSING", "blocker")]
    twin = dict(CLONE, id=to18("00e000000000009"))
    target, found = rules.resolve_target_profile(PROFILES + [twin], "Integration Clone", DEFAULT)
    assert target is None and codes(found) == [("TARGET_PROFILE_DUPLICATED", "blocker")]
    target, found = rules.resolve_target_profile([API_ONLY_FULL], None, {"id": None, "reason": "no profile"})
    assert target is None and found[0]["message"] == "no target profile: no profile"


def test_license_fit_by_license_id():
    assert rules.permission_set_fits({"license_id": None}, INTEG, [])
    assert rules.permission_set_fits({"license_id": INTEG[:15]}, INTEG, [])
    assert not rules.permission_set_fits({"license_id": FULL}, INTEG, [PSL])
    assert rules.permission_set_fits({"license_id": PSL}, INTEG, [PSL[:15]])
    assert not rules.permission_set_fits({"license_id": OTHER_PSL}, INTEG, [PSL])
    sets = [{"name": "a", "license_id": FULL}, {"name": "b", "license_id": PSL}, {"name": "c", "license_id": None}]
    assert [ps["name"] for ps in rules.conflicting_permission_sets(sets, INTEG, [PSL])] == ["a"]


def test_seats_needed_and_their_shortfall():
    moves = [{"active": True, "from_license_id": FULL, "to_license_id": INTEG, "added_psl_ids": [PSL]},
             {"active": False, "from_license_id": FULL, "to_license_id": INTEG, "added_psl_ids": [PSL]},
             {"active": True, "from_active": True, "from_license_id": INTEG, "to_license_id": INTEG,
              "added_psl_ids": []}]
    needed = rules.seats_needed(moves)
    # The inactive user takes a PSL seat, no license seat; the one already on the license takes none.
    assert needed == {INTEG: 1, PSL: 2}
    seats = {INTEG: {"name": "Salesforce Integration", "total": 5, "used": 5},
             PSL: {"name": "Salesforce API Integration", "total": 5, "used": 3}}
    found = rules.seat_findings(needed, seats)
    assert codes(found) == [("NO_SEATS", "blocker")]
    assert found[0]["message"] == ("the user license 'Salesforce Integration' has 0 free seat(s) and this run needs 1 "
                                   "(5 of 5 used)")
    assert rules.seat_findings({INTEG: 1}, {INTEG: {"name": "x", "total": None, "used": None}}) == []


def test_migrated_running_user_and_ui_logins():
    assert rules.is_migrated("salesforce integration") and not rules.is_migrated("Salesforce")
    assert rules.running_user_finding(to18("005000000000001"), "005000000000001")["code"] == "RUNNING_USER"
    assert rules.running_user_finding(to18("005000000000001"), None) is None
    assert rules.ui_login_finding(0, 90) is None
    assert rules.ui_login_finding(3, 90)["message"].startswith("3 user-interface login(s) in the last 90 days")
