"""sf_user_info through the shared runner, on a fake client: result shape, candidates, missing users."""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils import runner
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_user_info import SPEC

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


def execute(**params):
    result, task = runner.execute(SPEC, dict(dict(lookback_days=90, candidates_only=False, include_inactive=False,
                                                  users=None), **params),
                                  client_factory=FakeClient)
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
