"""Unit tests of the users reader: SOQL built, rows normalised, login mix, candidate verdicts."""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import users as U
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import rules
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18

from fake_client import FakeClient as SharedFakeClient, soql_of

ADMIN = to18("005000000000001")
SVC = to18("005000000000002")
PSL_ID = to18("0PL000000000001")
FULL_LICENSE_ID = to18("100000000000001")


def user_row(user_id=SVC, username="svc@acme.example", license_name="Salesforce", active=True,
             assignments=None, psls=None, api=True):
    return {
        "attributes": {"type": "User", "url": "/services/data/v62.0/sobjects/User/" + user_id},
        "Id": user_id, "Username": username, "Name": "Svc", "FirstName": None, "LastName": "Svc",
        "Email": "svc@acme.example", "Alias": "svc", "IsActive": active, "UserType": "Standard",
        "LastLoginDate": "2026-11-01T10:00:00.000+0000", "TimeZoneSidKey": "Europe/Paris",
        "LocaleSidKey": "fr_FR", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US",
        "ProfileId": "00e000000000001",
        "Profile": {"attributes": {"type": "Profile"}, "Name": "Integration Admin",
                    "UserLicenseId": FULL_LICENSE_ID,
                    "UserLicense": {"attributes": {"type": "UserLicense"}, "Name": license_name},
                    "PermissionsApiEnabled": api, "PermissionsApiUserOnly": False},
        "PermissionSetAssignments": None if not assignments else {
            "totalSize": len(assignments), "done": True, "records": assignments},
        "PermissionSetLicenseAssignments": None if not psls else {
            "totalSize": len(psls), "done": True, "records": psls},
    }


def assignment(name, license_id=None, api=False):
    return {"attributes": {"type": "PermissionSetAssignment"}, "Id": to18("0Pa000000000001"),
            "PermissionSetId": "0PS000000000001", "PermissionSetGroupId": None,
            "PermissionSet": {"attributes": {"type": "PermissionSet"}, "Name": name, "Label": name,
                              "LicenseId": license_id, "PermissionsApiEnabled": api}}


def login_row(user_id, login_type, count, last="2026-11-20T00:00:00.000+0000"):
    return {"attributes": {"type": "AggregateResult"}, "UserId": user_id, "LoginType": login_type,
            "logins": count, "lastLogin": last}


def test_users_soql_filters_and_escapes_usernames_case_insensitively():
    soql = U.build_users_soql(usernames=["O'Brien@Acme.example", "o'brien@acme.example"], active=True)
    assert "Username IN ('o\\'brien@acme.example')" in soql
    assert "IsActive = true" in soql and "UserType = 'Standard'" in soql
    assert "FROM PermissionSetAssignments WHERE PermissionSet.IsOwnedByProfile = false" in soql
    assert "FROM PermissionSetLicenseAssignments" in soql
    assert soql.endswith("ORDER BY Username")


def test_users_soql_without_filter_has_no_where():
    assert " WHERE " not in U.build_users_soql(standard_only=False).split("FROM User")[1]


def test_users_soql_ids_in_18_chars():
    soql = U.build_users_soql(user_ids=["005000000000002"])
    assert "Id IN ('005000000000002AAA')" in soql


def test_login_mix_soql_uses_semi_join_and_window():
    soql = U.build_login_mix_soql(30, usernames=["a@b.c"])
    assert "LoginTime = LAST_N_DAYS:30" in soql
    assert "Status = 'Success'" in soql
    assert "UserId IN (SELECT Id FROM User WHERE Username IN ('a@b.c') AND UserType = 'Standard')" in soql
    assert "GROUP BY UserId, LoginType" in soql


def test_login_mix_soql_plain_id_list_for_chunks():
    soql = U.build_login_mix_soql(90, user_ids=[SVC], standard_only=False)
    assert "UserId IN ('%s')" % SVC in soql


def test_login_mix_soql_refuses_empty_window():
    with pytest.raises(ValueError):
        U.build_login_mix_soql(0)


@pytest.mark.parametrize("login_type,kind", [
    ("Remote Access 2.0", "api"), ("Other Apex API", "api"), ("Partner Product", "api"),
    ("Application", "ui"), ("SAML Sfdc Initiated SSO", "ui"), ("Chatter Communities External User", "ui"),
    ("Something New", "other"), (None, "other"),
])
def test_classify_login_type(login_type, kind):
    assert U.classify_login_type(login_type) == kind


def test_normalize_user_resolves_license_bindings_and_skips_nothing():
    row = user_row(
        assignments=[assignment("Sales_Ops", FULL_LICENSE_ID), assignment("Sync_Read", None, api=True),
                     assignment("Api_Set", PSL_ID)],
        psls=[{"Id": to18("2LA000000000001"), "PermissionSetLicenseId": PSL_ID,
               "PermissionSetLicense": {"DeveloperName": "SalesforceAPIIntegrationPsl",
                                        "MasterLabel": "Salesforce API Integration"}}])
    user = U.normalize_user(row, {FULL_LICENSE_ID: "Salesforce"}, {PSL_ID: "Salesforce API Integration"})
    assert user["id"] == SVC and user["license"] == "Salesforce" and user["active"] is True
    by_name = dict((p["name"], p) for p in user["permission_sets"])
    assert [p["name"] for p in user["permission_sets"]] == ["Api_Set", "Sales_Ops", "Sync_Read"]
    assert by_name["Sales_Ops"]["license"] == "Salesforce"
    assert by_name["Sales_Ops"]["license_kind"] == "user_license"
    assert by_name["Api_Set"]["license"] == "Salesforce API Integration"
    assert by_name["Api_Set"]["license_kind"] == "permission_set_license"
    assert by_name["Sync_Read"]["license"] is None and by_name["Sync_Read"]["license_kind"] is None
    assert by_name["Sync_Read"]["id"] == to18("0PS000000000001")
    assert user["permission_set_licenses"][0]["developer_name"] == "SalesforceAPIIntegrationPsl"
    assert user["profile"]["id"] == "00e000000000001AAA"


def test_api_enabled_may_come_from_a_permission_set():
    user = U.normalize_user(user_row(api=False, assignments=[assignment("X", None, api=True)]))
    assert user["api_enabled"] is True
    assert U.normalize_user(user_row(api=False))["api_enabled"] is False


def test_null_child_subqueries_are_empty_lists():
    user = U.normalize_user(user_row())
    assert user["permission_sets"] == [] and user["permission_set_licenses"] == []


def test_merge_login_rows_sums_by_kind_and_keeps_latest():
    users = [U.normalize_user(user_row(SVC)), U.normalize_user(user_row(ADMIN, "admin@acme.example"))]
    rows = [login_row(SVC[:15], "Remote Access 2.0", 400, "2026-11-20T00:00:00.000+0000"),
            login_row(SVC, "Other Apex API", 100, "2026-11-25T00:00:00.000+0000"),
            login_row(ADMIN, "Application", 30), login_row(ADMIN, "Remote Access 2.0", 10),
            login_row("005000000000009AAA", "Application", 3)]
    U.merge_login_rows(users, rows, 90)
    svc, admin = users
    assert svc["logins"]["api"] == 500 and svc["logins"]["ui"] == 0 and svc["logins"]["total"] == 500
    assert svc["logins"]["last_api"] == "2026-11-25T00:00:00.000+0000"
    assert svc["logins"]["by_type"] == {"Remote Access 2.0": 400, "Other Apex API": 100}
    assert admin["logins"]["ui"] == 30 and admin["logins"]["api"] == 10
    assert admin["logins"]["lookback_days"] == 90


def test_merge_login_rows_reads_unaliased_aggregates():
    users = [U.normalize_user(user_row(SVC))]
    U.merge_login_rows(users, [{"UserId": SVC, "LoginType": "Application", "expr0": 2, "expr1": None}], 7)
    assert users[0]["logins"]["ui"] == 2


def _candidate(**overrides):
    user = U.normalize_user(user_row(**overrides))
    U.merge_login_rows([user], [login_row(user["id"], "Remote Access 2.0", 50)], 90)
    return user


def _failed(verdict):
    return [c["check"] for c in verdict["checks"] if not c["passed"]]


def test_integration_user_is_a_candidate_with_every_check_listed():
    verdict = rules.assess_candidate(_candidate(), running_user_id=ADMIN)
    assert verdict["candidate"] is True
    assert [c["check"] for c in verdict["checks"]] == list(rules.CANDIDATE_CHECKS)
    assert verdict["reasons"][0].startswith("candidate: ")


def test_person_with_ui_logins_is_not_a_candidate():
    user = U.normalize_user(user_row())
    U.merge_login_rows([user], [login_row(SVC, "Remote Access 2.0", 40), login_row(SVC, "Application", 12)], 90)
    verdict = rules.assess_candidate(user)
    assert not verdict["candidate"] and _failed(verdict) == ["api_only_logins"]
    assert "12 UI" in verdict["reasons"][0] and "last 90 days" in verdict["reasons"][0]


def test_no_logins_is_not_evidence_of_an_integration():
    user = U.normalize_user(user_row())
    U.merge_login_rows([user], [], 90)
    assert _failed(rules.assess_candidate(user)) == ["api_only_logins"]


TOKEN = {"UserId": SVC, "AppName": "NetSuite Connector", "UseCount": 5400, "LastUsedDate": "2026-12-01T08:00:00.000+0000"}


def test_a_token_used_in_the_window_makes_an_integration_without_logins_a_candidate():
    user = U.normalize_user(user_row())
    U.merge_login_rows([user], [], 90)
    U.merge_token_rows([user], [TOKEN])
    verdict = rules.assess_candidate(user)
    assert verdict["candidate"] is True
    assert "no login in the last 90 days, but OAuth token use" in verdict["reasons"][0]
    assert "app 'NetSuite Connector' (5400 uses, last used 2026-12-01)" in verdict["reasons"][0]
    rules.annotate_candidates([user])
    assert user["candidate_evidence"] == [
        {"source": "LoginHistory", "detail": "0 API, 0 UI, 0 other successful logins in the last 90 days"},
        {"source": "OauthToken", "detail": "app 'NetSuite Connector' (5400 uses, last used 2026-12-01)"}]


def test_a_token_does_not_make_a_person_with_ui_logins_an_integration():
    user = U.normalize_user(user_row())
    U.merge_login_rows([user], [login_row(SVC, "Application", 3)], 90)
    U.merge_token_rows([user], [TOKEN])
    assert _failed(rules.assess_candidate(user)) == ["api_only_logins"]


def test_unreadable_tokens_are_said_so_in_the_evidence():
    user = U.normalize_user(user_row())
    U.merge_login_rows([user], [], 90)
    U.merge_token_rows([user], None)
    rules.annotate_candidates([user])
    assert user["candidate"] is False
    assert user["candidate_evidence"][1] == {"source": "OauthToken", "detail": "not readable by the connecting user"}


def test_unknown_login_type_blocks_and_is_named():
    user = U.normalize_user(user_row())
    U.merge_login_rows([user], [login_row(SVC, "Brand New Type", 1)], 90)
    verdict = rules.assess_candidate(user)
    assert _failed(verdict) == ["api_only_logins"] and "Brand New Type" in verdict["reasons"][0]


@pytest.mark.parametrize("overrides,failed", [
    ({"active": False}, ["active"]),
    ({"api": False}, ["api_enabled"]),
    ({"license_name": "Salesforce Integration"}, ["paid_license", "not_migrated"]),
    ({"license_name": "Chatter Free"}, ["paid_license"]),
])
def test_each_check_can_fail(overrides, failed):
    assert _failed(rules.assess_candidate(_candidate(**overrides))) == failed


def test_running_user_is_never_a_candidate_in_either_id_form():
    verdict = rules.assess_candidate(_candidate(), running_user_id=SVC[:15])
    assert _failed(verdict) == ["not_running_user"]


def test_missing_usernames_case_insensitive():
    users = [U.normalize_user(user_row(username="Svc@Acme.example"))]
    assert U.missing_usernames(["svc@acme.example", "nobody@x.y"], users) == ["nobody@x.y"]


class FakeClient(SharedFakeClient):
    """The shared fake answering queries by their outermost FROM object, in pages of ``page_size``;
    ``calls`` counts API calls as Salesforce would (one per composite, one per further page)."""

    def __init__(self, answers, page_size=None):
        super(FakeClient, self).__init__()
        self.answers = answers
        self.asked = []
        self.calls = 0
        self.page_size = page_size

    def _count(self, kind, detail):
        self.calls += 1

    def answer_query(self, soql, reference, tooling):
        self.asked.append(soql)
        outer = next((name for name in ("LoginHistory", "OauthToken") if " FROM %s " % name in soql),
                     soql.split(" FROM ")[-1].split()[0])
        rows = self.answers.get(outer, [])
        return rows(soql) if callable(rows) else rows

    def _answer(self, subrequest, tooling):
        if self.answers.get("OauthToken") == "denied" and "OauthToken" in (soql_of(subrequest) or ""):
            return {"status": 403, "body": [{"errorCode": "INSUFFICIENT_ACCESS_OR_READONLY",
                                             "message": "insufficient access rights on object id"}]}
        answer = super(FakeClient, self)._answer(subrequest, tooling)
        body = answer["body"]
        rows = body["records"]
        if self.page_size and len(rows) > self.page_size:
            answer["body"] = {"totalSize": len(rows), "done": False, "nextRecordsUrl": "/next",
                              "records": rows[:self.page_size], "_rest": rows[self.page_size:]}
        return answer

    def finish_query(self, page, headers=None):
        records = list(page["records"])
        rest = page.get("_rest") or []
        while rest:
            self.calls += 1
            records.extend(rest[:self.page_size])
            rest = rest[self.page_size:]
        return {"total_size": page["totalSize"], "records": records}


def test_read_users_end_to_end_on_a_fake_client():
    client = FakeClient({
        "User": [user_row(assignments=[assignment("Sales_Ops", FULL_LICENSE_ID)])],
        "UserLicense": [{"Id": FULL_LICENSE_ID, "Name": "Salesforce"}],
        "PermissionSetLicense": [],
        "LoginHistory": [login_row(SVC, "Remote Access 2.0", 5)],
    })
    users = U.read_users(client, usernames=["svc@acme.example"], lookback_days=30)
    assert users[0]["permission_sets"][0]["license"] == "Salesforce"
    assert users[0]["logins"]["api"] == 5 and users[0]["logins"]["lookback_days"] == 30
    assert users[0]["oauth_tokens"] == []
    # Users, licenses, PSLs, login mix and OAuth tokens: one composite call.
    assert len(client.asked) == 5 and client.calls == 1
    assert any(" FROM OauthToken WHERE LastUsedDate = LAST_N_DAYS:30 AND UserId IN (SELECT Id FROM User WHERE "
               "Username IN ('svc@acme.example')" in soql for soql in client.asked)


def test_tokens_are_evidence_of_each_user_most_recent_first():
    client = FakeClient({
        "User": [user_row()], "UserLicense": [], "PermissionSetLicense": [], "LoginHistory": [],
        "OauthToken": [{"UserId": SVC[:15], "AppName": "Old Sync", "UseCount": 9000, "LastUsedDate": "2026-10-01T00:00:00.000+0000"},
                       {"UserId": SVC, "AppName": "NetSuite Connector", "UseCount": "12",
                        "LastUsedDate": "2026-12-01T08:00:00.000+0000"},
                       {"UserId": to18("005000000000999"), "AppName": "Other", "UseCount": 1, "LastUsedDate": None}],
    })
    users = U.read_users(client, usernames=["svc@acme.example"], lookback_days=90)
    assert users[0]["oauth_tokens"] == [
        {"app": "NetSuite Connector", "use_count": 12, "last_used": "2026-12-01T08:00:00.000+0000"},
        {"app": "Old Sync", "use_count": 9000, "last_used": "2026-10-01T00:00:00.000+0000"}]
    assert users[0]["logins"]["total"] == 0


def test_tokens_the_connecting_user_may_not_read_are_unknown_not_none():
    client = FakeClient({"User": [user_row()], "UserLicense": [], "PermissionSetLicense": [],
                         "LoginHistory": [login_row(SVC, "Remote Access 2.0", 5)], "OauthToken": "denied"})
    users = U.read_users(client, usernames=["svc@acme.example"], lookback_days=90)
    assert users[0]["oauth_tokens"] is None and users[0]["logins"]["api"] == 5
    assert client.calls == 1


def test_read_users_cost_is_constant_per_page_of_users():
    many = [user_row(to18("005%012d" % n), "u%04d@acme.example" % n) for n in range(1, 4501)]
    # 4500 users: 3 pages of 2000; the org-wide aggregate hits its limit, so the login mix is asked
    # again per chunk of 400 users, five chunks a composite.
    client = FakeClient({
        "User": many, "UserLicense": [], "PermissionSetLicense": [],
        "LoginHistory": lambda soql: ([login_row(u["Id"], "Remote Access 2.0", 1) for u in many[:2000]]
                                      if "SELECT Id FROM User" in soql else
                                      [login_row(i, "Application", 1) for i in many_ids_in(soql)]),
    }, page_size=2000)
    users = U.read_users(client, lookback_days=90)
    assert len(users) == 4500
    assert all(u["logins"]["ui"] == 1 and u["logins"]["api"] == 0 for u in users)
    chunks = -(-4500 // 400)
    assert client.calls == 1 + 2 + -(-chunks // 5)


def many_ids_in(soql):
    inside = soql.split("UserId IN (")[1].split(")")[0]
    return [part.strip().strip("'") for part in inside.split(",")]


def test_read_users_empty_selection_makes_no_call():
    client = FakeClient({})
    assert U.read_users(client, usernames=[]) == []
    assert client.asked == []
