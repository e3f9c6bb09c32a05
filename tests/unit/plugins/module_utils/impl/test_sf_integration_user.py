# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_integration_user's run() against a small in-memory org with Salesforce's ordering rules.

The fake client answers the module's composite read from its tables and applies sObject
Collection writes with the rules that matter here (license of sets vs profile, PSL before the sets
bound to it, seats, duplicates, allOrNone); ``fail`` makes the Nth write call fail like a fault.
The emulator-backed integration tests check the same flows over HTTP.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_integration_user as iu
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ApiError
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute

from fake_client import FakeClient as SharedFakeClient, soql_of

FULL = to18("100000000000001")
INTEG = to18("100000000000002")
PSL = to18("0PL000000000001")
ADMIN_PROFILE = to18("00e000000000001")
MIN_ACCESS = to18("00e000000000002")
PS_FULL = to18("0PS000000000001")
PS_FREE = to18("0PS000000000002")
PS_PSL = to18("0PS000000000003")
SVC = to18("005000000000001")
ME = to18("005000000000009")


class SFFail(Exception):
    def __init__(self, code, message="failed"):
        super(SFFail, self).__init__(message)
        self.code = code
        self.message = message


class FakeOrg:
    def __init__(self, integration_seats=5, psl_seats=5, allow_change=True, auto_psl=False):
        self.allow_change = allow_change
        self.auto_psl = auto_psl
        self.licenses = {FULL: {"Id": FULL, "Name": "Salesforce", "TotalLicenses": 10},
                         INTEG: {"Id": INTEG, "Name": "Salesforce Integration", "TotalLicenses": integration_seats}}
        self.psls = {PSL: {"Id": PSL, "DeveloperName": "SalesforceAPIIntegrationPsl",
                           "MasterLabel": "Salesforce API Integration", "TotalLicenses": psl_seats}}
        self.profiles = {ADMIN_PROFILE: ("System Administrator", FULL),
                         MIN_ACCESS: ("Minimum Access - API Only Integrations", INTEG)}
        self.sets = {PS_FULL: ("SalesCloudExtras", FULL), PS_FREE: ("Unbound", None), PS_PSL: ("Integration_Access", PSL)}
        self.users = {}
        self.psa = {}
        self.psla = {}
        self.ui_logins = {}
        self.counter = 100
        self.add_user(ME, "admin@acme.com", ADMIN_PROFILE)

    def new_id(self, prefix):
        self.counter += 1
        return to18("%s%012d" % (prefix, self.counter))

    def add_user(self, user_id, username, profile, sets=(), psls=(), active=True):
        self.users[user_id] = {"Id": user_id, "Username": username, "IsActive": active, "ProfileId": profile}
        for psl in psls:
            self.psla[self.new_id("2LA")] = {"AssigneeId": user_id, "PermissionSetLicenseId": psl}
        for ps in sets:
            self.psa[self.new_id("0Pa")] = {"AssigneeId": user_id, "PermissionSetId": ps}

    def used(self, license_id):
        return sum(1 for u in self.users.values() if u["IsActive"] and self.profiles[u["ProfileId"]][1] == license_id)

    def state(self, user_id):
        """Comparable snapshot of one user."""
        return {"profile": self.users[user_id]["ProfileId"], "active": self.users[user_id]["IsActive"],
                "sets": sorted(a["PermissionSetId"] for a in self.psa.values() if a["AssigneeId"] == user_id),
                "psls": sorted(a["PermissionSetLicenseId"] for a in self.psla.values() if a["AssigneeId"] == user_id)}

    # ---- rows as SOQL would answer ------------------------------------------------------------
    def user_rows(self, soql):
        rows = []
        for user in sorted(self.users.values(), key=lambda u: u["Username"]):
            if user["Username"].lower() not in soql.lower() and user["Id"] not in soql:
                continue
            name, license_id = self.profiles[user["ProfileId"]]
            psas = [{"Id": aid, "PermissionSetId": a["PermissionSetId"],
                     "PermissionSet": {"Name": self.sets[a["PermissionSetId"]][0], "Label": None,
                                       "LicenseId": self.sets[a["PermissionSetId"]][1]}}
                    for aid, a in self.psa.items() if a["AssigneeId"] == user["Id"]]
            pslas = [{"Id": lid, "PermissionSetLicenseId": a["PermissionSetLicenseId"],
                      "PermissionSetLicense": {"DeveloperName": self.psls[a["PermissionSetLicenseId"]]["DeveloperName"]}}
                     for lid, a in self.psla.items() if a["AssigneeId"] == user["Id"]]
            rows.append(dict(user, Profile={"Name": name, "UserLicenseId": license_id,
                                            "UserLicense": {"Name": self.licenses[license_id]["Name"]}},
                             PermissionSetAssignments={"records": psas} if psas else None,
                             PermissionSetLicenseAssignments={"records": pslas} if pslas else None))
        return rows

    def rows(self, reference, soql):
        if reference == "users":
            return self.user_rows(soql)
        if reference == "psls":
            return [dict(row, UsedLicenses=sum(1 for a in self.psla.values() if a["PermissionSetLicenseId"] == row["Id"]))
                    for row in self.psls.values()]
        if reference == "profiles":
            return [{"Id": pid, "Name": name, "UserLicenseId": lic,
                     "UserLicense": dict(self.licenses[lic], UsedLicenses=self.used(lic), Status="Active")}
                    for pid, (name, lic) in self.profiles.items()]
        if reference == "permission_sets":
            return [{"Id": sid, "Name": name, "LicenseId": lic} for sid, (name, lic) in self.sets.items()]
        if reference == "logins":
            return [{"UserId": uid, "LoginType": "Application", "logins": n, "lastLogin": None}
                    for uid, n in self.ui_logins.items()]
        raise AssertionError(reference)

    # ---- DML with the rules --------------------------------------------------------------------
    def create(self, sobject, record):
        if sobject == "PermissionSetLicenseAssign":
            user, psl = record["AssigneeId"], record["PermissionSetLicenseId"]
            if psl in self.state(user)["psls"]:
                raise SFFail("DUPLICATE_VALUE", "duplicate value found")
            if sum(1 for a in self.psla.values() if a["PermissionSetLicenseId"] == psl) >= self.psls[psl]["TotalLicenses"]:
                raise SFFail("LICENSE_LIMIT_EXCEEDED", "License Limit Exceeded")
            new_id = self.new_id("2LA")
            self.psla[new_id] = {"AssigneeId": user, "PermissionSetLicenseId": psl}
            return new_id
        if sobject == "PermissionSetAssignment":
            user, ps = record["AssigneeId"], record["PermissionSetId"]
            if ps in self.state(user)["sets"]:
                raise SFFail("DUPLICATE_VALUE", "duplicate value found")
            bound = self.sets[ps][1]
            if bound and bound.startswith("100") and bound != self.profiles[self.users[user]["ProfileId"]][1]:
                raise SFFail("FIELD_INTEGRITY_EXCEPTION", "license of the set does not match")
            if bound and bound.startswith("0PL") and bound not in self.state(user)["psls"]:
                raise SFFail("FIELD_INTEGRITY_EXCEPTION", "needs the permission set license")
            new_id = self.new_id("0Pa")
            self.psa[new_id] = {"AssigneeId": user, "PermissionSetId": ps}
            return new_id
        if sobject == "User":
            if any(u["Username"].lower() == record["Username"].lower() for u in self.users.values()):
                raise SFFail("DUPLICATE_USERNAME", "Duplicate Username")
            new_id = self.new_id("005")
            self._check_seat(record["ProfileId"])
            self.users[new_id] = {"Id": new_id, "Username": record["Username"], "IsActive": True,
                                  "ProfileId": record["ProfileId"]}
            return new_id
        raise AssertionError(sobject)

    def _check_seat(self, profile_id):
        license_id = self.profiles[profile_id][1]
        if self.used(license_id) >= self.licenses[license_id]["TotalLicenses"]:
            raise SFFail("LICENSE_LIMIT_EXCEEDED", "License Limit Exceeded")

    def update(self, record):
        user = self.users[record["Id"]]
        if "ProfileId" in record and record["ProfileId"] != user["ProfileId"]:
            new_license = self.profiles[record["ProfileId"]][1]
            if new_license == INTEG and not self.allow_change:
                raise SFFail("FIELD_INTEGRITY_EXCEPTION",
                             "You can only reassign this user to a profile of the current license.")
            for ps in self.state(user["Id"])["sets"]:
                bound = self.sets[ps][1]
                if bound and bound.startswith("100") and bound != new_license:
                    raise SFFail("FIELD_INTEGRITY_EXCEPTION", "set of another license: remove it first")
            if user["IsActive"]:
                self._check_seat(record["ProfileId"])
            user["ProfileId"] = record["ProfileId"]
            if self.auto_psl and new_license == INTEG and PSL not in self.state(user["Id"])["psls"]:
                self.psla[self.new_id("2LA")] = {"AssigneeId": user["Id"], "PermissionSetLicenseId": PSL}
        if "IsActive" in record:
            user["IsActive"] = record["IsActive"]

    def delete(self, record_id):
        if record_id in self.psa:
            del self.psa[record_id]
        elif record_id in self.psla:
            held = self.psla[record_id]
            if any(self.sets[a["PermissionSetId"]][1] == held["PermissionSetLicenseId"]
                   for a in self.psa.values() if a["AssigneeId"] == held["AssigneeId"]):
                raise SFFail("FIELD_INTEGRITY_EXCEPTION", "a set needs this license")
            del self.psla[record_id]
        else:
            raise SFFail("ENTITY_IS_DELETED", "entity is deleted")


def raise_on_error_used(subrequests):
    return any(soql_of(sub) is not None for sub in subrequests)


class Credentials:
    identity_url = "https://fake/id/%s/%s" % (to18("00D000000000001"), ME)


class FakeClient(SharedFakeClient):
    """The shared fake over FakeOrg; ``fail`` = {write call number: error code}. ``calls`` holds
    ("read", [references]) per composite read and the writes (see ``transaction`` and ``_write``)."""

    org = "fake.my.salesforce.com"
    credentials = Credentials()

    def __init__(self, org):
        super(FakeClient, self).__init__()
        self.credentials = Credentials()
        self.sf = org
        self.fail = {}
        self.writes = 0
        # (method, sObject, record Id or None) -> error code a subrequest of a transaction meets
        self.fail_sub = {}
        # the transaction is committed, then its answer is lost on the way back
        self.lose_answer = False
        # runs once, just before the first transaction: another job's write between read and write
        self.before_first_transaction = None

    def _count(self, kind, detail):
        # Writes are recorded with what they change (transaction, _write); reads by their references.
        if kind == "composite":
            self.calls.append(("read", detail))

    def answer_query(self, soql, reference, tooling):
        # Salesforce: "Semi join sub-selects are not allowed with the 'OR' operator".
        where = soql.split(" WHERE ", 1)[-1]
        assert not (" OR " in where and "(SELECT" in where), soql
        return self.sf.rows(reference, soql)

    def answer_transaction(self, subrequests):
        return self._transaction(subrequests)

    def _transaction(self, subrequests):
        """An allOrNone composite: in order, ``@{ref.id}`` resolved, all rolled back on a failure."""
        assert len(subrequests) <= 25 and not raise_on_error_used(subrequests)
        self.writes += 1
        self.calls.append(("transaction", [(s["method"], s["url"].split("/sobjects/", 1)[1].split("/")[0])
                                           for s in subrequests]))
        if self.writes in self.fail:
            raise ApiError("injected", error_code=self.fail[self.writes], status=503)
        if self.before_first_transaction:
            self.before_first_transaction()
            self.before_first_transaction = None
        saved = copy.deepcopy(self.sf.__dict__)
        answers, created, failed = {}, {}, False
        for sub in subrequests:
            ref = sub["referenceId"]
            if failed:
                answers[ref] = {"status": 400, "body": [{"errorCode": "PROCESSING_HALTED", "message": "halted"}]}
                continue
            body = dict((k, created.get(v[2:-4], v) if isinstance(v, str) and v.startswith("@{") else v)
                        for k, v in (sub.get("body") or {}).items())
            parts = sub["url"].split("/sobjects/", 1)[1].split("/")
            try:
                for key in ((sub["method"], parts[0], None), (sub["method"], parts[0], parts[-1]),
                            (sub["method"], parts[0], body.get("AssigneeId"))):
                    if key in self.fail_sub:
                        raise SFFail(self.fail_sub[key], "injected")
                if sub["method"] == "POST":
                    created[ref] = self.sf.create(parts[0], body)
                    answers[ref] = {"status": 201, "body": {"id": created[ref], "success": True, "errors": []}}
                elif sub["method"] == "PATCH":
                    self.sf.update(dict(body, Id=parts[1]))
                    answers[ref] = {"status": 204, "body": None}
                else:
                    self.sf.delete(parts[1])
                    answers[ref] = {"status": 204, "body": None}
            except SFFail as exc:
                answers[ref] = {"status": 400, "body": [{"errorCode": exc.code, "message": exc.message}]}
                failed = True
        if failed:
            self.sf.__dict__.update(saved)
            for ref, answer in answers.items():
                if answer["status"] < 400:
                    answers[ref] = {"status": 400, "body": [{"errorCode": "PROCESSING_HALTED", "message": "halted"}]}
        if self.lose_answer:
            raise ApiError("Read timed out", error_code="TRANSPORT_ERROR")
        return answers

    def _write(self, label, items, all_or_none, apply):
        self.writes += 1
        self.calls.append((label, len(items)))
        if self.writes in self.fail:
            raise ApiError("injected", error_code=self.fail[self.writes], status=503)
        saved = copy.deepcopy(self.sf.__dict__)
        results = []
        for item in items:
            try:
                results.append({"id": apply(item), "success": True, "errors": []})
            except SFFail as exc:
                results.append({"success": False, "errors": [{"statusCode": exc.code, "message": exc.message,
                                                              "fields": []}]})
        if all_or_none and any(not r["success"] for r in results):
            self.sf.__dict__.update(saved)
            results = [r if not r["success"] else {"success": False, "errors": [
                {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "rolled back", "fields": []}]}
                for r in results]
        return results

    def create_records(self, sobject, records, all_or_none=False, raise_on_error=True):
        return self._write("create " + sobject, records, all_or_none, lambda r: self.sf.create(sobject, r))

    def update_records(self, sobject, records, all_or_none=False, raise_on_error=True):
        def apply(record):
            self.sf.update(record)
            return record["Id"]
        return self._write("update " + sobject, records, all_or_none, apply)

    def delete_records(self, ids, all_or_none=False, raise_on_error=True):
        def apply(record_id):
            self.sf.delete(record_id)
            return record_id
        return self._write("delete", ids, all_or_none, apply)

    @property
    def write_calls(self):
        return [c for c in self.calls if c[0] != "read"]


def params(tmp_path, **args):
    args.setdefault("backup_dir", str(tmp_path / "backups"))
    validation = ArgumentSpecValidator(iu.SPEC.full_argument_spec(), **iu.SPEC.constraints).validate(args)
    assert not validation.error_messages, validation.error_messages
    return validation.validated_parameters


def run(client, tmp_path, check_mode=False, diff=False, **args):
    result, task = execute(iu.SPEC, params(tmp_path, **args), check_mode=check_mode, diff=diff,
                           client_factory=lambda p: client)
    result["warnings"] = task.warnings
    return result


@pytest.fixture
def org():
    fake = FakeOrg()
    fake.add_user(SVC, "svc.mulesoft@acme.com", ADMIN_PROFILE, sets=[PS_FULL, PS_FREE])
    return fake


def migrated_state_of(org_):
    return {"profile": MIN_ACCESS, "active": True, "sets": sorted([PS_FREE, PS_PSL]), "psls": [PSL]}


def test_migrate_in_salesforce_order_then_converged(org, tmp_path):
    client = FakeClient(org)
    before = org.state(SVC)
    result = run(client, tmp_path, users="SVC.Mulesoft@acme.com", conflicting_permission_sets="remove",
                 permission_sets=["Integration_Access"], diff=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert org.state(SVC) == migrated_state_of(org)
    # One all-or-none transaction, in Salesforce's order: conflicting set out, profile, PSL, then the set.
    assert client.calls[1:] == [("transaction", [("DELETE", "PermissionSetAssignment"), ("PATCH", "User"),
                                                 ("POST", "PermissionSetLicenseAssign"),
                                                 ("POST", "PermissionSetAssignment")])]
    # The backup holds the state before the run, owner-only, and is returned.
    assert oct(os.stat(result["backup_file"]).st_mode & 0o777) == "0o600"
    saved = result["backup"]["data"]["users"][0]
    assert saved["profile"]["id"] == ADMIN_PROFILE
    assert sorted(ps["id"] for ps in saved["permission_sets"]) == before["sets"]
    assert result["diff"]["after"]["svc.mulesoft@acme.com"]["profile"]["license"] == "Salesforce Integration"
    assert result["users"][0]["changes"] == ["profile", "permission_set_licenses", "permission_sets"]

    again = FakeClient(org)
    second = run(again, tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove",
                 permission_sets=["Integration_Access"])
    assert second["changed"] is False and "backup_file" not in second
    assert again.write_calls == [] and len(again.calls) == 1


def test_conflicting_sets_fail_by_default_and_nothing_is_written(org, tmp_path):
    client = FakeClient(org)
    before = org.state(SVC)
    result = run(client, tmp_path, users="svc.mulesoft@acme.com")
    assert result["failed"] and "SalesCloudExtras (Salesforce)" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert client.write_calls == [] and org.state(SVC) == before
    assert not os.path.exists(str(tmp_path / "backups"))


def test_check_mode_reports_without_writing(org, tmp_path):
    client = FakeClient(org)
    before = org.state(SVC)
    result = run(client, tmp_path, check_mode=True, diff=True, users="svc.mulesoft@acme.com",
                 conflicting_permission_sets="remove")
    assert result["changed"] is True and result["users"][0]["changed"] is True
    assert [step["step"] for step in result["plan"]] == [
        "remove_permission_sets", "update_users", "assign_permission_set_licenses"]
    assert client.write_calls == [] and org.state(SVC) == before
    assert result["diff"]["before"]["svc.mulesoft@acme.com"]["profile"]["name"] == "System Administrator"


WRITE_STEPS = {
    "remove_permission_sets": ("DELETE", "PermissionSetAssignment", None),
    "update_users": ("PATCH", "User", None),
    "assign_permission_set_licenses": ("POST", "PermissionSetLicenseAssign", None),
    "assign_permission_sets": ("POST", "PermissionSetAssignment", None),
}


@pytest.mark.parametrize("step", sorted(WRITE_STEPS))
def test_failure_at_each_write_step_leaves_the_user_unchanged(org, tmp_path, step):
    client = FakeClient(org)
    client.fail_sub = {WRITE_STEPS[step]: "UNABLE_TO_LOCK_ROW"}
    before = org.state(SVC)
    result = run(client, tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove",
                 permission_sets=["Integration_Access"])
    assert result["failed"] is True
    assert "step %s failed (user svc.mulesoft@acme.com: UNABLE_TO_LOCK_ROW" % step in result["msg"], result["msg"]
    assert "svc.mulesoft@acme.com left unchanged by this run" in result["msg"] and result["backup_file"] in result["msg"]
    assert org.state(SVC) == before
    assert result["rollback"] == {"restored": ["svc.mulesoft@acme.com"], "not_restored": {}, "deactivated": []}
    assert result["changed"] is False and result["users"][0]["changed"] is False
    # Nothing to undo: a failed subrequest means Salesforce rolled the transaction back.
    assert [c[0] for c in client.calls] == ["read", "transaction"]


def test_failed_call_leaves_the_user_unchanged(org, tmp_path):
    client = FakeClient(org)
    client.fail = {1: "SERVER_UNAVAILABLE"}
    before = org.state(SVC)
    result = run(client, tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove")
    assert result["failed"] is True and "step transaction failed" in result["msg"]
    assert "left unchanged" in result["msg"] and org.state(SVC) == before
    # Whether a failed call was committed is unknown: the user is read back.
    assert [c[0] for c in client.calls] == ["read", "transaction", "read"]


def test_lost_answer_of_a_committed_transaction_is_read_back_as_done(org, tmp_path):
    client = FakeClient(org)
    client.lose_answer = True
    result = run(client, tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove",
                 permission_sets=["Integration_Access"])
    assert not result.get("failed"), result.get("msg")
    assert org.state(SVC) == migrated_state_of(org) and result["users"][0]["changed"] is True


def test_one_failing_user_is_blamed_and_the_others_sent_again(tmp_path):
    fake = FakeOrg()
    ids = [to18("0050000000000%02d" % (30 + n)) for n in range(3)]
    for n, user_id in enumerate(ids):
        fake.add_user(user_id, "svc%d@acme.com" % n, ADMIN_PROFILE)
    client = FakeClient(fake)
    client.fail_sub = {("PATCH", "User", ids[1]): "UNABLE_TO_LOCK_ROW"}
    before = fake.state(ids[1])
    result = run(client, tmp_path, users=["svc0@acme.com", "svc1@acme.com", "svc2@acme.com"])
    assert result["failed"] is True
    assert "step update_users failed (user svc1@acme.com: UNABLE_TO_LOCK_ROW" in result["msg"]
    assert "Changed as planned: svc0@acme.com, svc2@acme.com." in result["msg"]
    assert fake.state(ids[1]) == before
    assert fake.state(ids[0])["profile"] == MIN_ACCESS and fake.state(ids[2])["psls"] == [PSL]
    assert [u["changed"] for u in result["users"]] == [True, False, True]
    assert [c[0] for c in client.calls] == ["read", "transaction", "transaction"]
    assert len(client.calls[2][1]) == 4     # the two innocent users, whole


def test_user_beyond_one_transaction_goes_step_by_step_and_a_failed_restore_is_told(org, tmp_path):
    # 30 conflicting sets to remove + profile + PSL: more than 25 subrequests.
    for n in range(30):
        set_id = to18("0PS0000000001%02d" % n)
        org.sets[set_id] = ("Extra%02d" % n, FULL)
        org.psa[org.new_id("0Pa")] = {"AssigneeId": SVC, "PermissionSetId": set_id}
    client = FakeClient(org)
    # The 3rd write (PSL) fails, and so does every write of the rollback.
    client.fail = dict((n, "UNABLE_TO_LOCK_ROW") for n in range(3, 20))
    result = run(client, tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove")
    assert any("step by step" in warning for warning in result["warnings"]), result["warnings"]
    assert [c[0] for c in client.calls[1:3]] == ["delete", "update User"]
    assert result["failed"] is True
    assert "RESTORING FAILED" in result["msg"]
    assert "User svc.mulesoft@acme.com is NOT restored; it is now: profile Minimum Access" in result["msg"]
    assert "state restored" in result["msg"] and result["backup_file"] in result["msg"]
    assert result["rollback"]["not_restored"]["svc.mulesoft@acme.com"]["profile"]["id"] == MIN_ACCESS


def test_refused_license_change_points_to_a_new_user(tmp_path):
    fake = FakeOrg(allow_change=False)
    fake.add_user(SVC, "svc.mulesoft@acme.com", ADMIN_PROFILE, sets=[PS_FULL])
    before = fake.state(SVC)
    result = run(FakeClient(fake), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove")
    assert result["failed"] and "FIELD_INTEGRITY_EXCEPTION" in result["msg"]
    assert "state: present" in result["msg"] and "left unchanged" in result["msg"]
    assert fake.state(SVC) == before


def test_new_user_advice_only_for_the_license_refusal():
    refusal = "You can only reassign this user to a profile of the current license."
    assert iu.refuses_license_change("update_users", "FIELD_INTEGRITY_EXCEPTION", refusal)
    # Same code, another cause with its own remedy; and the refusal text on another step.
    assert not iu.refuses_license_change("update_users", "FIELD_INTEGRITY_EXCEPTION",
                                         "The user license doesn't allow the permission: Read Contact (permission "
                                         "set X). Assign the Salesforce API Integration permission set license first.")
    assert not iu.refuses_license_change("assign_permission_sets", "FIELD_INTEGRITY_EXCEPTION", refusal)


def test_psl_assigned_by_salesforce_on_profile_change_is_tolerated(tmp_path):
    fake = FakeOrg(auto_psl=True)
    fake.add_user(SVC, "svc.mulesoft@acme.com", ADMIN_PROFILE)
    client = FakeClient(fake)
    result = run(client, tmp_path, users="svc.mulesoft@acme.com", permission_sets=["Integration_Access"])
    assert not result.get("failed"), result.get("msg")
    assert fake.state(SVC)["psls"] == [PSL] and PS_PSL in fake.state(SVC)["sets"]
    # DUPLICATE_VALUE rolled the first transaction back; read again, the PSL is left to Salesforce.
    assert [c[0] for c in client.calls] == ["read", "transaction", "read", "transaction"]
    assert ("POST", "PermissionSetLicenseAssign") not in client.calls[3][1]


def test_assignment_made_by_another_job_is_replanned_once(org, tmp_path):
    client = FakeClient(org)

    def other_job():
        # Between this run's read and its write, another job removes the conflicting set and assigns the PSL.
        org.delete([aid for aid, a in org.psa.items() if a["AssigneeId"] == SVC and a["PermissionSetId"] == PS_FULL][0])
        org.psla[org.new_id("2LA")] = {"AssigneeId": SVC, "PermissionSetLicenseId": PSL}
    client.before_first_transaction = other_job
    result = run(client, tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove",
                 permission_sets=["Integration_Access"])
    assert not result.get("failed"), result.get("msg")
    assert org.state(SVC) == migrated_state_of(org)
    assert [c[0] for c in client.calls] == ["read", "transaction", "read", "transaction"]
    assert client.calls[3][1] == [("PATCH", "User"), ("POST", "PermissionSetAssignment")]


def test_seat_exhaustion_fails_preflight_for_the_whole_batch(tmp_path):
    fake = FakeOrg(integration_seats=1)
    for n in range(2):
        fake.add_user(to18("0050000000000%02d" % (20 + n)), "svc%d@acme.com" % n, ADMIN_PROFILE)
    client = FakeClient(fake)
    result = run(client, tmp_path, users=["svc0@acme.com", "svc1@acme.com"])
    assert result["failed"] and "'Salesforce Integration' has 1 free seat(s) and this run needs 2" in result["msg"]
    assert client.write_calls == []


def test_batch_of_users_packs_whole_users_into_transactions(tmp_path):
    fake = FakeOrg(integration_seats=60, psl_seats=60)
    names = []
    for n in range(50):
        fake.add_user(to18("0050000000001%02d" % n), "svc%02d@acme.com" % n, ADMIN_PROFILE, sets=[PS_FREE])
        names.append("svc%02d@acme.com" % n)
    client = FakeClient(fake)
    result = run(client, tmp_path, users=names, permission_sets=["Integration_Access"])
    assert not result.get("failed"), result.get("msg")
    # 3 writes a user (profile, PSL, set): 8 whole users in each call of at most 25 subrequests.
    transactions = [c[1] for c in client.calls if c[0] == "transaction"]
    assert len(client.calls) == 1 + 7 and len(result["users"]) == 50
    assert all(len(t) <= 25 and len(t) % 3 == 0 for t in transactions)
    assert all(entry["changed"] for entry in result["users"])


def test_running_user_and_ui_users_are_refused(org, tmp_path):
    org.ui_logins[SVC] = 2
    client = FakeClient(org)
    result = run(client, tmp_path, users=["admin@acme.com", "svc.mulesoft@acme.com"],
                 conflicting_permission_sets="remove")
    assert result["failed"]
    assert "admin@acme.com: is the user this module runs as" in result["msg"]
    assert "2 user-interface login(s)" in result["msg"]
    assert client.write_calls == []


def test_unknown_user_fails_preflight(org, tmp_path):
    result = run(FakeClient(org), tmp_path, users="nobody@acme.com")
    assert result["failed"] and "nobody@acme.com: user not found" in result["msg"]


def test_absent_deactivates_once(org, tmp_path):
    result = run(FakeClient(org), tmp_path, state="absent", users="svc.mulesoft@acme.com")
    assert result["changed"] and org.users[SVC]["IsActive"] is False
    client = FakeClient(org)
    assert run(client, tmp_path, state="absent", users="svc.mulesoft@acme.com")["changed"] is False
    assert client.write_calls == []
    missing = run(FakeClient(org), tmp_path, state="absent", users="gone@acme.com")
    assert missing["changed"] is False and "does not exist" in missing["warnings"][0]


def test_present_creates_a_dedicated_user_then_converges(org, tmp_path):
    args = dict(state="present", users="svc.new@acme.com", email="ops@acme.com", permission_sets=["Integration_Access"])
    result = run(FakeClient(org), tmp_path, **args)
    assert not result.get("failed"), result.get("msg")
    created = [u for u in org.users.values() if u["Username"] == "svc.new@acme.com"][0]
    assert org.state(created["Id"]) == {"profile": MIN_ACCESS, "active": True, "sets": [PS_PSL], "psls": [PSL]}
    assert result["users"][0]["id"] == created["Id"]
    client = FakeClient(org)
    assert run(client, tmp_path, **args)["changed"] is False and client.write_calls == []


@pytest.mark.parametrize("fault", [("POST", "User", None), ("POST", "PermissionSetLicenseAssign", None),
                                   ("POST", "PermissionSetAssignment", None)])
def test_present_failure_creates_nobody(org, tmp_path, fault):
    client = FakeClient(org)
    client.fail_sub = {fault: "UNABLE_TO_LOCK_ROW"}
    result = run(client, tmp_path, state="present", users="svc.new@acme.com", email="ops@acme.com",
                 permission_sets=["Integration_Access"])
    assert result["failed"] and "a user to create was not created" in result["msg"], result["msg"]
    assert not [u for u in org.users.values() if u["Username"] == "svc.new@acme.com"]
    assert org.psa == client.sf.psa and result["changed"] is False
    assert result["users"][0]["changed"] is False


def test_restore_refuses_a_backup_of_another_org(org, tmp_path):
    migrated = run(FakeClient(org), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove")
    with open(migrated["backup_file"]) as handle:
        document = json.load(handle)
    assert document["data"]["org_id"] == to18("00D000000000001")
    document["data"]["org_id"] = to18("00D000000000777")
    other = tmp_path / "other.json"
    other.write_text(json.dumps(document))
    client = FakeClient(org)
    result = run(client, tmp_path, state="restored", backup_file=str(other))
    assert result["failed"] and "taken from org %s" % to18("00D000000000777") in result["msg"]
    assert client.write_calls == []


def test_restore_from_backup(org, tmp_path):
    before = org.state(SVC)
    migrated = run(FakeClient(org), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove",
                   permission_sets=["Integration_Access"])
    assert org.state(SVC) != before
    client = FakeClient(org)
    restored = run(client, tmp_path, state="restored", backup_file=migrated["backup_file"], diff=True)
    assert not restored.get("failed"), restored.get("msg")
    assert restored["changed"] and org.state(SVC) == before
    # Sets bound to the PSL go before the PSL, the profile before the sets of the full license.
    assert client.write_calls == [("transaction", [("DELETE", "PermissionSetAssignment"),
                                                   ("DELETE", "PermissionSetLicenseAssign"), ("PATCH", "User"),
                                                   ("POST", "PermissionSetAssignment")])]
    assert run(FakeClient(org), tmp_path, state="restored", backup_file=migrated["backup_file"])["changed"] is False


def test_restore_rejects_a_foreign_file(org, tmp_path):
    bogus = tmp_path / "x.json"
    bogus.write_text(json.dumps({"users": []}))
    result = run(FakeClient(org), tmp_path, state="restored", backup_file=str(bogus))
    assert result["failed"] and "not a backup" in result["msg"]


def test_the_users_are_named_by_users_only(tmp_path):
    spec = ArgumentSpecValidator(iu.SPEC.full_argument_spec(), **iu.SPEC.constraints)
    assert "user. Supported parameters include" in spec.validate({"user": "a@b.c", "users": ["a@b.c"]}).errors.msg
    assert "state is migrated but all of the following are missing: users" in spec.validate({}).errors.msg
    assert spec.validate({"users": "a@b.c"}).validated_parameters["users"] == ["a@b.c"]


def _edited_backup(tmp_path, migrated, edit):
    with open(migrated["backup_file"]) as handle:
        document = json.load(handle)
    edit(document)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    return str(edited)


def test_restore_accepts_15_character_ids_in_a_backup(org, tmp_path):
    before = org.state(SVC)
    migrated = run(FakeClient(org), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove")

    def shorten(document):
        data = document["data"]
        data["org_id"] = data["org_id"][:15]
        for saved in data["users"]:
            saved["id"] = saved["id"][:15]
            saved["profile"]["id"] = saved["profile"]["id"][:15]
            for item in saved["permission_sets"] + saved["permission_set_licenses"]:
                item["id"] = item["id"][:15]

    restored = run(FakeClient(org), tmp_path, state="restored", backup_file=_edited_backup(tmp_path, migrated, shorten))
    assert not restored.get("failed"), restored.get("msg")
    assert restored["changed"] and org.state(SVC) == before


@pytest.mark.parametrize("edit", [
    lambda d: d["data"]["users"][0].pop("profile"),
    lambda d: d["data"]["users"][0].update(id="not an id"),
    lambda d: d["data"]["users"][0]["permission_sets"].append("Sales_Ops"),
    lambda d: d["data"].update(users={"svc": {}}),
    lambda d: d.update(data=[]),
    lambda d: d["data"].update(left={"svc": {}}),
    lambda d: d["data"]["left"][0].update(id="not an id"),
], ids=["no profile", "bad id", "set not a dict", "users not a list", "data not a dict", "left not a list",
        "left bad id"])
def test_restore_refuses_a_backup_edited_out_of_shape_without_a_traceback(org, tmp_path, edit):
    migrated = run(FakeClient(org), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove")
    client = FakeClient(org)
    result = run(client, tmp_path, state="restored", backup_file=_edited_backup(tmp_path, migrated, edit))
    assert result["failed"] and "was it edited?" in result["msg"], result
    assert result["error"]["type"] == "ConfigurationError"
    assert client.write_calls == []


def test_restore_refuses_a_user_changed_since_the_run_unless_forced(org, tmp_path):
    """Issue 13: someone changed the migrated user's sets after the run; a rollback would silently undo that.
    The backup records what its run left, the restore names the change and writes nothing."""
    before = org.state(SVC)
    migrated = run(FakeClient(org), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove",
                   permission_sets=["Integration_Access"])
    with open(migrated["backup_file"]) as handle:
        left = json.load(handle)["data"]["left"]
    assert [entry["username"] for entry in left] == ["svc.mulesoft@acme.com"]
    assert left[0]["profile"]["id"] == MIN_ACCESS
    # An admin took the migrated user's "Unbound" set away after the run.
    org.psa = dict((key, row) for key, row in org.psa.items()
                   if not (row["AssigneeId"] == SVC and row["PermissionSetId"] == PS_FREE))
    changed_since = org.state(SVC)
    assert changed_since != before

    client = FakeClient(org)
    refused = run(client, tmp_path, state="restored", backup_file=migrated["backup_file"])
    assert refused["failed"] and "changed since the run that wrote this backup" in refused["msg"], refused["msg"]
    assert "permission sets removed since: Unbound" in refused["msg"] and "force: true" in refused["msg"]
    assert "svc.mulesoft@acme.com" in refused["msg"]
    assert client.write_calls == [] and org.state(SVC) == changed_since

    forced = run(FakeClient(org), tmp_path, state="restored", backup_file=migrated["backup_file"], force=True)
    assert not forced.get("failed"), forced.get("msg")
    assert forced["changed"] and org.state(SVC) == before


def test_restore_names_a_profile_changed_since_the_run(org, tmp_path):
    migrated = run(FakeClient(org), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove")
    with open(migrated["backup_file"]) as handle:
        document = json.load(handle)
    # The run's record of what it left says the admin profile: the org (Minimum Access) differs from it.
    document["data"]["left"][0]["profile"] = {"id": ADMIN_PROFILE, "name": "System Administrator"}
    edited = tmp_path / "left.json"
    edited.write_text(json.dumps(document))
    client = FakeClient(org)
    refused = run(client, tmp_path, state="restored", backup_file=str(edited))
    assert refused["failed"] and client.write_calls == []
    assert ("its profile is 'Minimum Access - API Only Integrations', the run left 'System Administrator'"
            in refused["msg"]), refused["msg"]
