# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans: seats, blockers, checksum, sandbox mapping, verification outcome, production gate."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan_plans as planning

TARGET = {"id": "00e000000000003AAA", "name": "Minimum Access - API Only Integrations"}


def licenses(free=5, psl_free=5):
    return {"integration": {"user_license": {"total": 5, "used": 5 - free, "free": free},
                            "psl": {"total": 5, "used": 5 - psl_free, "free": psl_free}}}


def user(name, candidate=True, profile="Integration Admin", reasons=None):
    return {"username": name, "id": "005" + name[:3].ljust(15, "A"), "candidate": candidate, "license": "Salesforce",
            "profile": {"id": "00e000000000002AAA", "name": profile}, "candidate_reasons": reasons or ["candidate"]}


def check(users, findings=()):
    return {"target_profile": TARGET, "findings": list(findings),
            "users": [{"username": u, "access_gap": {"objects": {"Account": ["Read"]}, "system": [], "fields": {}},
                       "permission_sets_to_remove": ["Sales_Ops"]} for u in users]}


CODE_FINDING = {"code": "PROFILE_NAME_REFERENCE", "severity": "blocker", "user": None,
                "component": {"type": "ApexClass", "name": "Handler"},
                "message": "ApexClass Handler line 3: names profile 'Integration Admin'", "remediation": "fix it"}


# The replicated access of svc.a@x: its name ends with the user's Id (collision-free, issue 13).
SET_A = "Integration_Access_svc_a_x_005svcAAAAAAAAAA45"


def build(users, findings=(), **kwargs):
    names = [u["username"] for u in users if u["candidate"]]
    seats = kwargs.pop("licenses", licenses())
    return planning.build_plan("acme-prod", seats, {"users": users}, check(names, findings), **kwargs)


def statuses(plan):
    return dict((e["username"], e["status"]) for e in plan["entries"])


def test_candidates_move_in_username_order_until_seats_run_out():
    plan = build([user("svc.c@x"), user("svc.a@x"), user("svc.b@x")], licenses=licenses(free=3, psl_free=2))
    assert statuses(plan) == {"svc.a@x": "move", "svc.b@x": "move", "svc.c@x": "wait"}
    waiting = plan["entries"][2]
    assert "2 'Salesforce API Integration' permission set license seat(s) free for 3 user(s)" in waiting["reasons"][0]
    assert plan["counts"] == {"move": 2, "wait": 1, "blocked": 0, "excluded": 0}
    assert plan["target_profile"] == TARGET


def test_entries_carry_the_replicated_access_and_the_sets_to_remove():
    entry = build([user("svc.a@x")])["entries"][0]
    assert entry["permission_set"] == {"name": SET_A,
                                       "access_gap": {"objects": {"Account": ["Read"]}, "system": [], "fields": {}}}
    assert entry["remove_permission_sets"] == ["Sales_Ops"]


APP_FINDING = {"code": "CONNECTED_APP_ACCESS", "severity": "blocker", "user": "svc.a@x",
               "component": {"type": "ConnectedApplication", "name": "MuleSoft Connector"},
               "message": "logs in through connected app 'MuleSoft Connector' ...", "remediation": "carry it"}
RECORD_TYPES = {"code": "RECORD_TYPE_VISIBILITY", "severity": "blocker", "user": "svc.a@x", "component": None,
                "message": "profile 'Integration Admin' makes record type(s) Account.Partner visible",
                "remediation": "add the record types by hand"}


def with_setup(plan_check, setup):
    for entry in plan_check["users"]:
        entry["access_gap"] = dict(entry["access_gap"], setup=setup)
    return plan_check


def test_an_app_the_permission_set_carries_does_not_block_one_it_does_not_carry_does():
    users = [user("svc.a@x")]
    carried = planning.build_plan("acme-prod", licenses(), {"users": users}, with_setup(
        check(["svc.a@x"], [APP_FINDING]), {"ConnectedApplication": ["MuleSoft Connector"], "ApexClass": ["OrderService"]}))
    entry = carried["entries"][0]
    assert entry["status"] == "move"
    assert entry["carried"] == {"ApexClass": ["OrderService"], "ConnectedApplication": ["MuleSoft Connector"]}
    not_carried = planning.build_plan("acme-prod", licenses(), {"users": users}, with_setup(
        check(["svc.a@x"], [APP_FINDING]), {"ApexClass": ["OrderService"]}))
    assert not_carried["entries"][0]["status"] == "blocked"
    assert not_carried["entries"][0]["reasons"] == [
        "CONNECTED_APP_ACCESS: logs in through connected app 'MuleSoft Connector' ... "
        "(the plan's permission set does not carry it)"]


def test_the_app_of_the_most_recent_token_is_the_login_app_probes_use():
    tokens = [{"app": "MuleSoft Connector", "use_count": 3, "last_used": "2026-12-01"},
              {"app": "Old", "use_count": 900, "last_used": "2026-10-01"}]
    svc = dict(user("svc.a@x"), oauth_tokens=tokens)
    plan = build([svc, user("svc.b@x")])
    assert [e["login_app"] for e in plan["entries"]] == ["MuleSoft Connector", None]
    assert planning.moves(plan, "uat")[0]["login_app"] == "MuleSoft Connector"


def test_setup_access_alone_gets_a_permission_set():
    plan_check = check(["svc.a@x"])
    plan_check["users"][0]["access_gap"] = {"objects": {}, "system": [], "fields": {},
                                            "setup": {"CustomPermission": ["Bypass_Account_Rules"]}}
    entry = planning.build_plan("acme-prod", licenses(), {"users": [user("svc.a@x")]}, plan_check)["entries"][0]
    assert entry["permission_set"]["name"] == SET_A
    assert entry["carried"] == {"CustomPermission": ["Bypass_Account_Rules"]}


def test_manual_steps_are_listed_and_block_until_accepted():
    blocked = build([user("svc.a@x")], [RECORD_TYPES])
    assert statuses(blocked) == {"svc.a@x": "blocked"}
    assert blocked["entries"][0]["manual_steps"] == [
        {"code": "RECORD_TYPE_VISIBILITY", "message": RECORD_TYPES["message"],
         "remediation": "add the record types by hand", "accepted": False}]
    accepted = build([user("svc.a@x")], [RECORD_TYPES], accepted_findings=["RECORD_TYPE_VISIBILITY"])
    assert statuses(accepted) == {"svc.a@x": "move"}
    assert accepted["entries"][0]["manual_steps"][0]["accepted"] is True


def test_names_no_operator_meant_are_refused_and_unknown_ones_warned():
    users = {"users": [user("svc.a@x"), user("svc.b@x")]}
    found = check(["svc.a@x"], [CODE_FINDING])
    assert planning.check_settings(users, found, ["svc.a@x"], None, ["PROFILE_NAME_REFERENCE", "Handler"]) == []
    for bad in ({"exclude": ["svc.a@x "]}, {"exclude": [""]}, {"exclude": ["svc.a@x,svc.b@x"]},
                {"accepted_findings": [" PROFILE_NAME_REFERENCE"]},
                {"accepted_findings": ["PROFILE_NAME_REFERENCE,CUSTOM_SETTING_PROFILE_ROW"]},
                {"only_users": ["svc.a@x\t"]}):
        with pytest.raises(planning.PlanError) as caught:
            planning.check_settings(users, found, **bad)
        assert "license_migration_" in str(caught.value), bad
    warned = planning.check_settings(users, found, ["svc.z@x"], None, ["PROFILE_NAME_REFERNCE"])
    assert len(warned) == 2 and "'svc.z@x', which is no user of this org" in warned[0]
    assert "'PROFILE_NAME_REFERNCE', which is no finding code or component of this org" in warned[1]
    # A 200,000-character name gives a short message.
    with pytest.raises(planning.PlanError) as caught:
        planning.check_settings(users, found, ["x" * 200000 + " "])
    assert len(str(caught.value)) < 400


def test_code_findings_block_the_users_of_the_profile_they_name_unless_accepted():
    users = [user("svc.a@x"), user("svc.b@x", profile="API Only")]
    plan = build(users, [CODE_FINDING])
    assert statuses(plan) == {"svc.a@x": "blocked", "svc.b@x": "move"}
    assert plan["entries"][0]["reasons"] == ["PROFILE_NAME_REFERENCE: ApexClass Handler line 3: names profile 'Integration Admin'"]
    accepted = build(users, [CODE_FINDING], accepted_findings=["PROFILE_NAME_REFERENCE"])
    assert statuses(accepted) == {"svc.a@x": "move", "svc.b@x": "move"}
    assert accepted["entries"][0]["accepted_findings"]
    by_component = build(users, [CODE_FINDING], accepted_findings=["Handler"])
    assert statuses(by_component)["svc.a@x"] == "move"


def test_findings_the_plan_resolves_do_not_block_and_org_blockers_block_everyone():
    conflict = {"code": "PERMISSION_SET_LICENSE_CONFLICT", "severity": "blocker", "user": "svc.a@x", "message": "m"}
    assert statuses(build([user("svc.a@x")], [conflict])) == {"svc.a@x": "move"}
    missing = {"code": "TARGET_PROFILE_MISSING", "severity": "blocker", "user": None, "component": None, "message": "none"}
    assert statuses(build([user("svc.a@x"), user("svc.b@x")], [missing])) == {"svc.a@x": "blocked", "svc.b@x": "blocked"}
    ui = {"code": "UI_LOGINS", "severity": "blocker", "user": "svc.b@x", "message": "a person"}
    assert statuses(build([user("svc.a@x"), user("svc.b@x")], [ui])) == {"svc.a@x": "move", "svc.b@x": "blocked"}


def test_excluded_and_explicit_users():
    users = [user("svc.a@x"), user("svc.b@x"), user("jane@x", candidate=False, reasons=["UI logins"])]
    plan = build(users, exclude=["SVC.B@x"])
    assert statuses(plan) == {"svc.a@x": "move", "svc.b@x": "excluded"}
    explicit = planning.build_plan("acme-prod", licenses(), {"users": users}, check(["jane@x"]),
                                   only_users=["jane@x", "ghost@x"])
    assert statuses(explicit) == {"jane@x": "blocked", "ghost@x": "blocked"}
    assert explicit["entries"][0]["reasons"] == ["UI logins"]
    assert explicit["entries"][1]["reasons"] == ["user not found in the org"]


def test_checksum_covers_decisions_not_metadata():
    plan = build([user("svc.a@x")])
    assert planning.verify_checksum(plan) is plan
    stamped = dict(plan, meta={"created": "now", "run_id": "r"})
    planning.verify_checksum(stamped)
    assert build([user("svc.a@x")])["checksum"] == plan["checksum"]
    edited = copy.deepcopy(plan)
    edited["entries"][0]["status"] = "wait"
    with pytest.raises(planning.PlanError, match="was changed after it was written"):
        planning.verify_checksum(edited, "plans/acme-prod.json")
    with pytest.raises(planning.PlanError, match="not a migration plan"):
        planning.verify_checksum({"entries": []})


def test_permission_set_names_are_valid_api_names():
    assert planning.permission_set_name("svc.mulesoft@acme.com") == "Integration_Access_svc_mulesoft_acme_com"
    assert planning.permission_set_name("9x@y", prefix="") == "P_9x_y"
    long_name = planning.permission_set_name("a" * 120 + "@x.com")
    assert len(long_name) <= 80 and long_name != planning.permission_set_name("a" * 121 + "@x.com")


def test_moves_map_usernames_to_the_sandbox_copies_and_carry_default_probes():
    plan = build([user("svc.a@x"), user("svc.b@x")], licenses=licenses(free=1))
    moves = planning.moves(plan, "uat")
    assert [m["target_username"] for m in moves] == ["svc.a@x.uat"]
    assert moves[0]["default_probes"] == [{"name": "read Account", "soql": "SELECT Id FROM Account LIMIT 1"}]
    assert planning.moves(plan, None, usernames=["nobody"]) == []
    assert planning.default_probes({"permission_set": None}) == [{"name": "API resources", "rest": "/"}]


def state(name, license_name="Salesforce Integration", profile=TARGET["name"], sets=(SET_A,)):
    return {"username": name, "id": "005000000000001AAA", "active": True, "license": license_name,
            "profile": {"name": profile}, "permission_sets": [{"name": s} for s in sets]}


def test_verification_needs_state_probes_and_no_failed_login():
    plan = build([user("svc.a@x")])
    entries = planning.moves(plan, "uat")
    good_probe = [{"username": "svc.a@x.uat", "results": [{"name": "read Account", "passed": True}]}]
    outcome = planning.verification_outcome(plan, entries, [state("svc.a@x.uat")], good_probe, [])
    assert outcome[0]["passed"] and outcome[0]["username"] == "svc.a@x"
    wrong = planning.verification_outcome(plan, entries, [state("svc.a@x.uat", "Salesforce", "Integration Admin", ())],
                                          [{"username": "svc.a@x.uat", "login": {"passed": False, "error": "audience is invalid"},
                                            "results": [{"name": "read Account", "passed": False, "error": "INVALID_TYPE"}]}],
                                          [{"UserId": "005000000000001", "Status": "Failed: Invalid assertion"}])
    problems = " | ".join(wrong[0]["problems"])
    for expected in ("license is 'Salesforce'", "profile is 'Integration Admin'", SET_A + " is not assigned",
                     "probe read Account failed: INVALID_TYPE", "login as the user failed: audience is invalid", "1 failed login(s) since the migration"):
        assert expected in problems
    assert "no probe ran" in planning.verification_outcome(plan, entries, [state("svc.a@x.uat")], [], [])[0]["problems"][0]


def verification(plan, passed, org="acme-uat", created="2026-01-01T00:00:00Z", checksum=None):
    return {"kind": "verification", "org_type": "sandbox", "org": org, "production_org": "acme-prod",
            "plan_checksum": checksum or plan["checksum"], "created": created,
            "users": [{"username": "svc.a@x", "passed": passed, "problems": [] if passed else ["probe failed"]}]}


def test_gate_allows_only_entries_verified_for_the_same_checksum():
    plan = build([user("svc.a@x"), user("svc.b@x")])
    nothing = planning.gate(plan, [])
    assert nothing["allowed"] == []
    assert nothing["missing"][0]["reason"].startswith("no sandbox verification recorded for plan sha256:")
    other_plan = planning.gate(plan, [verification(plan, True, checksum="sha256:other")])
    assert other_plan["allowed"] == []
    decided = planning.gate(plan, [verification(plan, True)])
    assert decided["allowed"] == ["svc.a@x"]
    assert decided["missing"] == [{"username": "svc.b@x", "reason": "not verified in sandbox acme-uat for plan %s" % plan["checksum"]}]
    failed_later = planning.gate(plan, [verification(plan, True), verification(plan, False, created="2026-02-01T00:00:00Z")])
    assert failed_later["allowed"] == [] and "sandbox verification failed in acme-uat: probe failed" in failed_later["missing"][0]["reason"]
    overridden = planning.gate(plan, [], override_reason="CAB-1")
    assert overridden["allowed"] == ["svc.a@x", "svc.b@x"] and overridden["override"] == "CAB-1"


def test_batches():
    assert planning.batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert planning.batches([1], 0) == [[1]]


def test_observed_access_is_evidence_in_the_plan_not_a_decision():
    observed = {"window_days": 30, "objects": {"Account": {"granted": ["Read"], "read_calls": 2, "write_calls": 0,
                                                           "modified_records": 0}}}
    plan_check = check(["svc.a@x", "svc.b@x"])
    plan_check["users"][0]["observed_access"] = observed
    plan = planning.build_plan("acme-prod", licenses(), {"users": [user("svc.a@x"), user("svc.b@x")]}, plan_check)
    assert plan["evidence"] == {"observed_access": {"svc.a@x": observed}}
    assert "observed_access" not in plan["entries"][0]
    # The same decisions with other counts (or none) have the same checksum: a re-plan keeps the plan.
    assert plan["checksum"] == build([user("svc.a@x"), user("svc.b@x")])["checksum"]
    assert "evidence" not in build([user("svc.a@x")])


ADMIN_GAP = {"system": ["ApiEnabled", "ModifyAllData", "ViewAllData"], "objects": {"Opportunity": ["Read"]},
             "fields": {}}
SEEN = {"window_days": 30, "not_counted": {}, "usage_log": {"status": "read", "date": "2026-12-02", "detail": "..."},
        "objects": {"Account": {"granted": [], "read_calls": 7, "write_calls": 13, "modified_records": 1},
                    "Opportunity": {"granted": ["Read"], "read_calls": 0, "write_calls": 0, "modified_records": 0}}}


def admin_check():
    """svc.a@x seen using Accounts only, svc.b@x with no observed access; both on an admin-level gap."""
    plan_check = check(["svc.a@x", "svc.b@x"])
    for entry, observed in zip(plan_check["users"], (SEEN, None)):
        entry["access_gap"] = ADMIN_GAP
        if observed is not None:
            entry["observed_access"] = observed
    return plan_check


def test_observed_access_source_narrows_the_set_where_the_evidence_supports_it_and_says_why_not_elsewhere():
    users = {"users": [user("svc.a@x"), user("svc.b@x")]}
    plan = planning.build_plan("acme-prod", licenses(), users, admin_check(), access_source="observed")
    first, second = plan["entries"]
    # Account was reached through Modify All Data and written: it keeps that reach; Opportunity keeps its read.
    assert first["permission_set"]["access_gap"] == {
        "system": ["ApiEnabled"], "fields": {},
        "objects": {"Account": ["Create", "Delete", "Edit", "ModifyAllRecords", "Read", "ViewAllRecords"],
                    "Opportunity": ["Read"]}}
    assert first["access_source"]["source"] == "observed" and first["access_source"]["copied_gap"] == ADMIN_GAP
    assert first["access_source"]["removed"]["system"] == ["ModifyAllData", "ViewAllData"]
    # The sandbox probes read what the set grants, as the integration itself.
    assert planning.default_probes(first) == [{"name": "read Account", "soql": "SELECT Id FROM Account LIMIT 1"},
                                              {"name": "read Opportunity", "soql": "SELECT Id FROM Opportunity LIMIT 1"}]
    assert second["permission_set"]["access_gap"] == ADMIN_GAP
    assert second["access_source"] == {"source": "copy", "asked": "observed", "why": (
        "no observed access (run the inventory with license_migration_usage_days): the profile's access is copied instead")}
    # The default stays the copy; a per-user choice overrides it; the choice is a decision (in the checksum).
    copied = planning.build_plan("acme-prod", licenses(), users, admin_check())
    assert "access_source" not in copied["entries"][0] and copied["entries"][0]["permission_set"]["access_gap"] == ADMIN_GAP
    one = planning.build_plan("acme-prod", licenses(), users, admin_check(), access_sources={"SVC.A@x": "observed"})
    assert one["entries"][0]["access_source"]["source"] == "observed" and "access_source" not in one["entries"][1]
    assert len(set([plan["checksum"], copied["checksum"], one["checksum"]])) == 3
    with pytest.raises(planning.PlanError, match="access_sources\\[svc.a@x\\] must be one of copy, observed"):
        planning.build_plan("acme-prod", licenses(), users, admin_check(), access_sources={"svc.a@x": "minimal"})
    with pytest.raises(planning.PlanError, match="access_margin must be one of keep_reads, as_used, read_write"):
        planning.build_plan("acme-prod", licenses(), users, admin_check(), access_margin="all")


def test_access_sources_naming_no_user_of_the_org_are_warned_and_non_names_refused():
    users = {"users": [user("svc.a@x")]}
    warnings = planning.check_settings(users, check(["svc.a@x"]), access_sources={"svc.zz@x": "observed"})
    assert warnings == ["license_migration_access_sources names 'svc.zz@x', which is no user of this org: ignored "
                        "here (a typo, or meant for another org?)"]
    with pytest.raises(planning.PlanError, match="license_migration_access_sources has 7: names are strings"):
        planning.check_settings(users, check(["svc.a@x"]), access_sources={7: "observed"})
