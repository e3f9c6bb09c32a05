"""sf_user_info through the shared runner, on a fake client: result shape, candidates, missing users."""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils import runner
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_user_info import SPEC

import fake_client
from fake_client import FakeClient as SharedFakeClient

ADMIN = to18("005000000000001")
SVC = to18("005000000000002")
JANE = to18("005000000000003")
FULL = to18("100000000000001")


def user(user_id, username, license_name="Salesforce", active=True):
    return {"Id": user_id, "Username": username, "Name": username, "IsActive": active, "UserType": "Standard",
            "ProfileId": to18("00e000000000001"),
            "Profile": {"Name": "Integration Admin", "UserLicenseId": FULL,
                        "UserLicense": {"Name": license_name}, "PermissionsApiEnabled": True,
                        "PermissionsApiUserOnly": False},
            "PermissionSetAssignments": None, "PermissionSetLicenseAssignments": None}


class FakeClient(SharedFakeClient):
    """The shared fake with this module's org: users, licenses and a login mix."""

    def __init__(self, params):
        super(FakeClient, self).__init__(params)
        self.running_user = {"user_id": ADMIN, "username": "admin@acme.example", "organization_id": None}
        self.tables = {
            "User": [user(ADMIN, "admin@acme.example"), user(JANE, "jane.doe@acme.example"),
                     user(SVC, "svc.mulesoft@acme.example")],
            "UserLicense": [{"Id": FULL, "Name": "Salesforce"}],
            "PermissionSetLicense": [],
            "LoginHistory": [
                {"UserId": ADMIN, "LoginType": "Remote Access 2.0", "logins": 10, "lastLogin": None},
                {"UserId": JANE, "LoginType": "Application", "logins": 12, "lastLogin": None},
                {"UserId": JANE, "LoginType": "Remote Access 2.0", "logins": 40, "lastLogin": None},
                {"UserId": SVC, "LoginType": "Remote Access 2.0", "logins": 500, "lastLogin": None},
            ],
        }

    def answer_query(self, soql, reference, tooling):
        outer = "LoginHistory" if "FROM LoginHistory" in soql else soql.split(" FROM ")[-1].split()[0]
        rows = self.tables[outer]
        if outer == "User" and "Username IN" in soql:
            rows = [r for r in rows if "'%s'" % r["Username"] in soql]
        return rows


def execute(client_factory=FakeClient, **params):
    result, task = runner.execute(SPEC, dict(dict(lookback_days=90, candidates_only=False, include_inactive=False,
                                                  users=None, usage_log=False), **params),
                                  client_factory=client_factory)
    return result, task


def test_all_users_with_verdicts_and_one_call():
    result, _task = execute()
    assert result["changed"] is False
    assert [u["username"] for u in result["users"]] == [
        "admin@acme.example", "jane.doe@acme.example", "svc.mulesoft@acme.example"]
    verdicts = dict((u["username"], u["candidate"]) for u in result["users"])
    assert verdicts == {"admin@acme.example": False, "jane.doe@acme.example": False,
                        "svc.mulesoft@acme.example": True}
    assert result["counts"] == {"users": 3, "candidates": 1, "active": 3}
    assert result["running_user"] == "admin@acme.example"
    assert result["api_usage"]["calls"] == 1


def test_candidates_only_explains_everyone():
    result, _task = execute(candidates_only=True)
    assert [u["username"] for u in result["users"]] == ["svc.mulesoft@acme.example"]
    considered = dict((c["username"], c) for c in result["considered"])
    assert "the user this task connects as" in considered["admin@acme.example"]["reasons"][0]
    assert "12 UI" in considered["jane.doe@acme.example"]["reasons"][0]
    assert considered["svc.mulesoft@acme.example"]["reasons"][0].startswith("candidate: ")


def test_missing_usernames_warned_and_returned():
    result, task = execute(users=["SVC.MuleSoft@acme.example", "ghost@acme.example"])
    assert [u["username"] for u in result["users"]] == ["svc.mulesoft@acme.example"]
    assert result["missing"] == ["ghost@acme.example"]
    assert any("ghost@acme.example" in w for w in task.warnings)


def test_bad_window_fails_before_any_call():
    result, task = execute(lookback_days=0)
    assert result["failed"] is True and "lookback_days" in result["msg"]
    assert result["api_usage"]["calls"] == 0


def test_the_module_supports_check_mode():
    assert SPEC.supports_check_mode


# ---- the ApiTotalUsage log (issue 18) ------------------------------------------------------------------
QUIET = to18("005000000000004")
LOG_ID = to18("0AT000000000001")
LOG_HEADER = ('"EVENT_TYPE","TIMESTAMP","REQUEST_ID","ORGANIZATION_ID","USER_ID","API_FAMILY","API_VERSION",'
              '"API_RESOURCE","CLIENT_NAME","HTTP_METHOD","CLIENT_IP","COUNTS_AGAINST_API_LIMIT","CONNECTED_APP_ID",'
              '"CONNECTED_APP_NAME","ENTITY_NAME","STATUS_CODE","TIMESTAMP_DERIVED","USER_ID_DERIVED"')


def log_line(user_id, method, entity, family="REST", resource="/v62.0/query", app="Quiet ETL"):
    return ",".join('"%s"' % v for v in (
        "ApiTotalUsage", "20261202101500.000", "TID:1", "00D000000000001", user_id[:15], family, "62.0", resource,
        "", method, "10.0.0.1", "true", "0H4000000000001", app, entity, "200", "2026-12-02T10:15:00.000Z", user_id))


LOG = "\n".join([LOG_HEADER,
                 log_line(QUIET, "GET", "Account"), log_line(QUIET, "GET", "Account"), log_line(QUIET, "PATCH", "Account"),
                 log_line(QUIET, "POST", "", family="ApexREST", resource="/apexrest/orders/v1"),
                 log_line(JANE, "GET", "Contact", app="")]) + "\n"


class LogClient(FakeClient):
    """The org above, plus a user no login shows (a session older than the window) and its day's log."""

    log_length = 900.0
    log_text = LOG

    def __init__(self, params):
        super(LogClient, self).__init__(params)
        self.tables["User"].append(user(QUIET, "svc.quiet@acme.example"))
        self.tables["EventLogFile"] = [{"Id": LOG_ID, "LogDate": "2026-12-02T00:00:00.000+0000",
                                        "LogFileLength": self.log_length}]

    def answer_resource(self, subrequest, tooling):
        if subrequest["url"].endswith("/sobjects/EventLogFile/%s/LogFile" % LOG_ID):
            return 200, self.log_text
        return super(LogClient, self).answer_resource(subrequest, tooling)


def test_the_usage_log_makes_a_candidate_no_login_shows_and_costs_two_calls():
    result, _task = execute(client_factory=LogClient, usage_log=True, candidates_only=True)
    assert [u["username"] for u in result["users"]] == ["svc.mulesoft@acme.example", "svc.quiet@acme.example"]
    quiet = result["users"][1]
    assert quiet["api_usage"] == {"calls": 4, "objects": {"Account": {"read": 2, "write": 1, "delete": 0}},
                                  "apps": {"Quiet ETL": 4}, "apex": {"/apexrest/orders/v1": 1}, "failed_calls": 0,
                                  "unattributed_calls": 0}
    assert quiet["api_usage_log"]["status"] == "read" and quiet["api_usage_log"]["date"] == "2026-12-02"
    [check] = [c for c in quiet["candidate_checks"] if c["check"] == "api_only_logins"]
    assert check["passed"] and "API usage log shows 4 API calls on 2026-12-02 through app 'Quiet ETL'" in check["detail"]
    evidence = dict((e["source"], e["detail"]) for e in quiet["candidate_evidence"])
    assert "Account (2 read, 1 write)" in evidence["ApiTotalUsage"] and "/apexrest/orders/v1" in evidence["ApiTotalUsage"]
    # A person who also called the API stays a person.
    jane = next(c for c in result["considered"] if c["username"] == "jane.doe@acme.example")
    assert not jane["candidate"] and "a person uses this account" in jane["reasons"][0]
    # Users the log does not name called nothing that day (not unknown).
    mulesoft = result["users"][0]
    assert mulesoft["api_usage"]["calls"] == 0
    assert "no API call on 2026-12-02" in dict((e["source"], e["detail"]) for e in mulesoft["candidate_evidence"])[
        "ApiTotalUsage"]
    # Six queries make two composite calls; the file is the third.
    assert result["api_usage"]["calls"] == 3


def test_without_the_usage_log_the_same_user_is_not_a_candidate():
    result, _task = execute(client_factory=LogClient, usage_log=False)
    quiet = next(u for u in result["users"] if u["username"] == "svc.quiet@acme.example")
    assert not quiet["candidate"] and "api_usage" not in quiet
    assert [e["source"] for e in quiet["candidate_evidence"]] == ["LoginHistory", "OauthToken"]
    assert result["api_usage"]["calls"] == 1


class HiddenLogClient(LogClient):
    """A connecting user without View Event Log Files: the object does not exist for it."""

    def _answer(self, subrequest, tooling):
        if "FROM EventLogFile" in (fake_client.soql_of(subrequest) or ""):
            return {"status": 400, "body": [{"errorCode": "INVALID_TYPE", "message": "sObject type 'EventLogFile' "
                                             "is not supported."}]}
        return super(HiddenLogClient, self)._answer(subrequest, tooling)


class HugeLogClient(LogClient):
    log_length = 40 * 1024 * 1024.0


class NotALogClient(LogClient):
    log_text = '"A","B"\n"1","2"\n'


def test_a_log_the_connecting_user_may_not_read_is_unknown_not_none():
    result, _task = execute(client_factory=HiddenLogClient, usage_log=True)
    quiet = next(u for u in result["users"] if u["username"] == "svc.quiet@acme.example")
    assert quiet["api_usage"] is None and quiet["api_usage_log"]["status"] == "unreadable"
    assert not quiet["candidate"]
    evidence = dict((e["source"], e["detail"]) for e in quiet["candidate_evidence"])
    assert "could not be read by the connecting user (reading it needs View Event Log Files" in evidence["ApiTotalUsage"]
    assert result["api_usage"]["calls"] == 2


def test_a_huge_log_is_not_downloaded_and_a_file_of_another_shape_is_not_read():
    huge, _task = execute(client_factory=HugeLogClient, usage_log=True)
    log = huge["users"][0]["api_usage_log"]
    assert log["status"] == "too_large" and "41943040 bytes" in log["detail"]
    assert huge["api_usage"]["calls"] == 2
    other, _task = execute(client_factory=NotALogClient, usage_log=True)
    log = other["users"][0]["api_usage_log"]
    assert log["status"] == "unreadable" and "no column USER_ID" in log["detail"]
    assert not other.get("failed") and other["users"][0]["api_usage"] is None
