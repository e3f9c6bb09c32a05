# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_integration_user against the emulator: every state, refusing orgs, seats, faults at each write
step, check mode, diff, idempotence, restore, call budgets, and access after the move.

The module runs in-process through the shared runner with the real Client over HTTPS (the same path
the action plugin takes); call budgets are read from the emulator's per-org counters, plus one for
the token request, which the emulator does not count.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import time

import jwt
import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from collections_root import ensure_collections_root  # noqa: E402  pylint: disable=wrong-import-position

if ensure_collections_root() not in sys.path:
    sys.path.insert(0, ensure_collections_root())

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_integration_user as iu  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_permission_set as permission_set  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute  # noqa: E402

# emu: conftest's session emulator reset around the test; EMU: the emulator suite's starter.
from test_sf_permission_set_harness import _emulator_fixtures as EMU, emu  # noqa: E402,F401  pylint: disable=unused-import


PROD = "acme-prod"
MULESOFT = "svc.mulesoft@acme.example"
ETL = "svc.etl@acme.example"
JANE = "jane.doe@acme.example"
WRITE_LABELS = ("DELETE /composite/sobjects", "PATCH /composite/sobjects", "POST /composite/sobjects")


def _estate(tmp_path_factory, name, change):
    with open(EMU.EXAMPLE_ESTATE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["orgs"] = [o for o in data["orgs"] if o["name"] == PROD]
    change(data["orgs"][0])
    path = str(tmp_path_factory.mktemp(name) / "estate.yml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle)
    return path


def _start(tmp_path_factory, name, estate=EMU.EXAMPLE_ESTATE):
    return EMU.start_emulator(str(tmp_path_factory.mktemp(name)), estate)


class Org:
    """One org of a running emulator, seen by the module and by the admin API."""

    def __init__(self, emulator, name, backup_dir):
        self.emulator = emulator
        self.name = name
        self.backup_dir = backup_dir

    def run(self, check_mode=False, diff=False, **args):
        ready = self.emulator.ready
        org = ready["orgs"][self.name]
        params = dict(auth="client_credentials", login_url=org["login_url"], client_id=org["admin"]["client_id"],
                      client_secret=org["admin"]["client_secret"], ca_path=ready["ca_file"],
                      backup_dir=self.backup_dir)
        params.update(args)
        validation = ArgumentSpecValidator(iu.SPEC.full_argument_spec(), **iu.SPEC.constraints).validate(params)
        assert not validation.error_messages, validation.error_messages
        before = self.calls()
        result, task = execute(iu.SPEC, validation.validated_parameters, check_mode=check_mode, diff=diff)
        after = self.calls()
        result["emulator_calls"] = dict((k, after.get(k, 0) - before.get(k, 0)) for k in after
                                        if after.get(k, 0) != before.get(k, 0))
        # The token request is not among the emulator's data-API counters.
        result["calls_with_auth"] = sum(result["emulator_calls"].values()) + 1
        result["warnings"] = task.warnings
        return result

    def calls(self):
        answer = self.emulator.admin("GET", "orgs/%s/calls" % self.name)
        assert answer.status_code == 200, answer.text
        return answer.json()["calls"]

    def users(self):
        answer = self.emulator.admin("GET", "orgs/%s/state" % self.name)
        assert answer.status_code == 200, answer.text
        return dict((u["Username"], {k: u[k] for k in ("IsActive", "Profile", "UserLicense", "PermissionSets",
                                                       "PermissionSetLicenses")})
                    for u in answer.json()["users"])

    def fault(self, rule):
        answer = self.emulator.admin("POST", "faults", json={"rule": "org=%s,%s" % (self.name, rule)})
        assert answer.status_code == 201, answer.text

    def token_as(self, username):
        """Access token of ``username`` through the JWT bearer flow of the org's connected app."""
        org = self.emulator.ready["orgs"][self.name]
        with open(org["admin"]["private_key_file"], "rb") as handle:
            key = handle.read()
        assertion = jwt.encode({"iss": org["admin"]["client_id"], "sub": username, "aud": org["audience"],
                                "exp": int(time.time()) + 120}, key, algorithm="RS256")
        answer = self.emulator.http.post(org["login_url"] + "/services/oauth2/token", data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]


@pytest.fixture
def prod(emu, tmp_path):
    return Org(emu, PROD, str(tmp_path / "backups"))


def writes(result):
    """Write calls of a run that reads once: sObject Collections, and composite calls beyond the read
    (each user's writes are one all-or-none composite)."""
    found = dict((k, v) for k, v in result["emulator_calls"].items() if k in WRITE_LABELS)
    if result["emulator_calls"].get("POST /composite", 0) > 1:
        found["POST /composite"] = result["emulator_calls"]["POST /composite"] - 1
    return found


def rest_as_admin(org, method, path, **kwargs):
    answer = org.emulator.rest(org.name, method, path, **kwargs)
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.text else None


def record_id(org, soql):
    return org.emulator.query(org.name, soql)["records"][0]["Id"]


def before_the_write(monkeypatch, other_job):
    """Run ``other_job`` once between the module's read and its first transaction (a concurrent change)."""
    send = iu.send_user_transactions
    pending = [other_job]

    def sending(client, units):
        while pending:
            pending.pop()()
        return send(client, units)
    monkeypatch.setattr(iu, "send_user_transactions", sending)


# ---- migrated ------------------------------------------------------------------------------------
def test_migrate_one_user_within_budget_then_converged(prod):
    result = prod.run(users=MULESOFT.upper(), conflicting_permission_sets="remove", permission_sets=["Sync_Read"],
                      diff=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert prod.users()[MULESOFT] == {"IsActive": True, "Profile": "Minimum Access - API Only Integrations",
                                      "UserLicense": "Salesforce Integration", "PermissionSets": ["Sync_Read"],
                                      "PermissionSetLicenses": ["SalesforceAPIIntegrationPsl"]}
    print("one user migrated: %d calls including authentication (%s)" % (result["calls_with_auth"],
                                                                         result["emulator_calls"]))
    assert result["calls_with_auth"] <= 6
    # The read, then the user's whole change as one all-or-none transaction.
    assert result["emulator_calls"] == {"POST /composite": 2}
    assert result["diff"]["before"][MULESOFT]["profile"]["name"] == "Integration Admin"
    assert result["diff"]["after"][MULESOFT]["profile"]["license"] == "Salesforce Integration"
    assert os.path.isfile(result["backup_file"])
    assert result["backup"]["data"]["users"][0]["permission_sets"][0]["name"] == "Sales_Ops"

    again = prod.run(users=MULESOFT, conflicting_permission_sets="remove", permission_sets=["Sync_Read"])
    assert again["changed"] is False and not again.get("failed")
    assert writes(again) == {} and again["calls_with_auth"] <= 4
    assert "backup_file" not in again


def test_check_mode_and_diff_write_nothing(prod):
    before = prod.users()
    result = prod.run(check_mode=True, diff=True, users=MULESOFT, conflicting_permission_sets="remove")
    assert result["changed"] is True
    assert [s["step"] for s in result["plan"]] == [
        "remove_permission_sets", "update_users", "assign_permission_set_licenses"]
    assert writes(result) == {} and prod.users() == before
    assert result["diff"]["after"][MULESOFT]["permission_sets"] == []
    assert "backup_file" not in result


def test_conflicting_sets_fail_by_default_naming_them(prod):
    before = prod.users()
    result = prod.run(users=MULESOFT)
    assert result["failed"] and "Sales_Ops (Salesforce)" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert writes(result) == {} and prod.users() == before


def test_preflight_refuses_ui_users_the_running_user_and_unknown_users(prod):
    before = prod.users()
    result = prod.run(users=[JANE, "admin@acme.example", "nobody@acme.example"])
    assert result["failed"]
    assert "%s: 12 user-interface login(s) in the last 90 days" % JANE in result["msg"]
    assert "admin@acme.example: is the user this module runs as" in result["msg"]
    assert "nobody@acme.example: user not found" in result["msg"]
    assert writes(result) == {} and prod.users() == before
    allowed = prod.run(users=JANE, allow_ui_users=True)
    assert not allowed.get("failed"), allowed.get("msg")
    assert prod.users()[JANE]["UserLicense"] == "Salesforce Integration"


def test_lookalike_target_profile_refused_and_exact_mode(prod):
    lookalike = prod.run(users=ETL, target_profile="API Only")
    assert lookalike["failed"] and "'API Only' is on the 'Salesforce' license" in lookalike["msg"]
    assert writes(lookalike) == {}
    first = prod.run(users=MULESOFT, conflicting_permission_sets="remove", permission_sets=["Sync_Read"])
    assert not first.get("failed"), first.get("msg")
    exact = prod.run(users=MULESOFT, permission_sets=[], permission_sets_mode="exact")
    assert exact["changed"] and exact["users"][0]["changes"] == ["permission_sets"]
    assert prod.users()[MULESOFT]["PermissionSets"] == []
    assert prod.users()[MULESOFT]["PermissionSetLicenses"] == ["SalesforceAPIIntegrationPsl"]


def test_sandbox_usernames_carry_the_suffix(emu, tmp_path):
    uat = Org(emu, "acme-uat", str(tmp_path / "b"))
    result = uat.run(users=MULESOFT, conflicting_permission_sets="remove")
    assert result["failed"] and "sandbox suffix" in result["msg"]
    done = uat.run(users=MULESOFT + ".uat", conflicting_permission_sets="remove")
    assert not done.get("failed"), done.get("msg")
    assert uat.users()[MULESOFT + ".uat"]["UserLicense"] == "Salesforce Integration"


# ---- faults and restore ---------------------------------------------------------------------------
def test_fault_on_the_transaction_call_leaves_the_user_unchanged(prod):
    before = prod.users()
    prod.fault("method=POST,path=/composite,status=503,nth=2")    # the 1st composite is the read
    result = prod.run(users=MULESOFT, conflicting_permission_sets="remove", permission_sets=["Sync_Read"], retries=0)
    assert result["failed"] is True
    assert "step transaction failed (user %s: SERVER_UNAVAILABLE" % MULESOFT in result["msg"], result["msg"]
    assert "%s left unchanged by this run" % MULESOFT in result["msg"] and result["backup_file"] in result["msg"]
    assert prod.users() == before
    # No undo writes: Salesforce applied nothing. The read and the read back that says so (the refused
    # call is not counted).
    assert result["emulator_calls"] == {"POST /composite": 2} and result["rollback"]["not_restored"] == {}


def _set_of_another_license_assigned(org):
    # Another job assigns a set bound to the full license: the profile change cannot go through.
    rest_as_admin(org, "POST", "sobjects/PermissionSetAssignment", json={
        "AssigneeId": record_id(org, "SELECT Id FROM User WHERE Username = '%s'" % ETL),
        "PermissionSetId": record_id(org, "SELECT Id FROM PermissionSet WHERE Name = 'Sales_Ops'")})


def test_failure_inside_the_transaction_changes_nothing_of_this_run(prod, monkeypatch):
    before_the_write(monkeypatch, lambda: _set_of_another_license_assigned(prod))
    result = prod.run(users=ETL, permission_sets=["Sync_Read"])
    assert result["failed"] is True
    assert "step update_users failed (user %s: FIELD_INTEGRITY_EXCEPTION" % ETL in result["msg"], result["msg"]
    assert "%s left unchanged by this run" % ETL in result["msg"]
    after = prod.users()[ETL]
    assert after["Profile"] == "API Only" and after["PermissionSetLicenses"] == []
    assert after["PermissionSets"] == ["Sales_Ops"]     # the other job's, and nothing of this run
    assert result["rollback"] == {"restored": [ETL], "not_restored": {}, "deactivated": []}
    # The other job's own calls are counted too: only the module's composite calls are compared.
    assert result["emulator_calls"]["POST /composite"] == 2


def test_refused_profile_change_undoes_the_removal_before_it(refusing, tmp_path):
    # Inside one transaction: Sales_Ops removed, then the profile change refused: the removal is undone.
    refusing.reset()
    org = Org(refusing, PROD, str(tmp_path / "b"))
    before = org.users()
    result = org.run(users=MULESOFT, conflicting_permission_sets="remove", permission_sets=["Sync_Read"])
    assert "step update_users failed (user %s: FIELD_INTEGRITY_EXCEPTION" % MULESOFT in result["msg"]
    assert org.users() == before and org.users()[MULESOFT]["PermissionSets"] == ["Sales_Ops"]


def test_assignment_made_by_another_job_is_replanned_once(prod, monkeypatch):
    def other_job():
        # Another job (or Salesforce) assigns the integration PSL between this run's read and its write.
        rest_as_admin(prod, "POST", "sobjects/PermissionSetLicenseAssign", json={
            "AssigneeId": record_id(prod, "SELECT Id FROM User WHERE Username = '%s'" % MULESOFT),
            "PermissionSetLicenseId": record_id(
                prod, "SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")})
    before_the_write(monkeypatch, other_job)
    result = prod.run(users=MULESOFT, conflicting_permission_sets="remove", permission_sets=["Sync_Read"])
    assert not result.get("failed"), result.get("msg")
    assert prod.users()[MULESOFT]["PermissionSets"] == ["Sync_Read"]
    assert prod.users()[MULESOFT]["UserLicense"] == "Salesforce Integration"
    # read, rolled-back transaction (DUPLICATE_VALUE), read again, transaction.
    assert result["emulator_calls"]["POST /composite"] == 4


def test_user_beyond_one_transaction_falls_back_to_steps_and_a_failed_restore_is_told(prod):
    before = prod.users()
    # 30 permission sets to remove do not fit one composite of 25 subrequests.
    sets = ["Extra_%02d" % n for n in range(30)]
    user_id = record_id(prod, "SELECT Id FROM User WHERE Username = '%s'" % MULESOFT)
    for name in sets:
        created = rest_as_admin(prod, "POST", "sobjects/PermissionSet", json={"Name": name, "Label": name})
        rest_as_admin(prod, "POST", "sobjects/PermissionSetAssignment",
                      json={"AssigneeId": user_id, "PermissionSetId": created["id"]})
    before = prod.users()
    prod.fault("method=POST,path=/composite/sobjects,status=503,nth=2")   # the permission set assignment
    prod.fault("method=PATCH,path=/composite/sobjects,status=503,nth=2")   # the rollback's profile change
    result = prod.run(users=MULESOFT, permission_sets=["Sync_Read"], permission_sets_mode="exact", retries=0)
    assert "step by step" in result["warnings"][0]
    assert result["failed"] is True
    assert "RESTORING FAILED" in result["msg"]
    assert "User %s is NOT restored; it is now: profile Minimum Access - API Only Integrations" % MULESOFT \
        in result["msg"]
    assert result["backup_file"] in result["msg"] and "state restored" in result["msg"]
    assert prod.users()[MULESOFT]["UserLicense"] == "Salesforce Integration"

    emu = prod.emulator
    emu.admin("DELETE", "faults")
    restored = prod.run(state="restored", backup_file=result["backup_file"], diff=True)
    assert not restored.get("failed"), restored.get("msg")
    assert "step by step" in restored["warnings"][0]
    assert restored["changed"] is True and prod.users() == before
    again = prod.run(state="restored", backup_file=result["backup_file"])
    assert again["changed"] is False and writes(again) == {}


def test_restore_after_a_successful_migration(prod):
    before = prod.users()
    migrated = prod.run(users=[MULESOFT, ETL], conflicting_permission_sets="remove")
    assert not migrated.get("failed"), migrated.get("msg")
    only_etl = prod.run(state="restored", backup_file=migrated["backup_file"], users=[ETL])
    assert [u["username"] for u in only_etl["users"]] == [ETL]
    assert prod.users()[ETL] == before[ETL] and prod.users()[MULESOFT] != before[MULESOFT]
    prod.run(state="restored", backup_file=migrated["backup_file"])
    assert prod.users() == before


def test_restore_refuses_a_user_changed_since_the_run_unless_forced(prod):
    """Issue 13: an admin gave the migrated user another set after the run; the rollback would silently
    take it away. The restore names the change and writes nothing; force restores."""
    before = prod.users()
    migrated = prod.run(users=MULESOFT, conflicting_permission_sets="remove", permission_sets=["Sync_Read"])
    assert not migrated.get("failed"), migrated.get("msg")
    created = rest_as_admin(prod, "POST", "sobjects/PermissionSet", json={"Name": "Granted_Later", "Label": "Later"})
    rest_as_admin(prod, "POST", "sobjects/PermissionSetAssignment", json={
        "AssigneeId": record_id(prod, "SELECT Id FROM User WHERE Username = '%s'" % MULESOFT),
        "PermissionSetId": created["id"]})
    changed_since = prod.users()
    refused = prod.run(state="restored", backup_file=migrated["backup_file"])
    assert refused["failed"] and "%s: changed since the run that wrote this backup" % MULESOFT in refused["msg"], refused
    assert "permission sets added since: Granted_Later" in refused["msg"]
    assert writes(refused) == {} and prod.users() == changed_since
    forced = prod.run(state="restored", backup_file=migrated["backup_file"], force=True)
    assert not forced.get("failed"), forced.get("msg")
    assert prod.users() == before


# ---- absent and present -----------------------------------------------------------------------------
def test_absent_deactivates_and_frees_the_seat(prod):
    result = prod.run(state="absent", users=ETL)
    assert result["changed"] and prod.users()[ETL]["IsActive"] is False
    again = prod.run(state="absent", users=ETL)
    assert again["changed"] is False and writes(again) == {}
    running = prod.run(state="absent", users="admin@acme.example")
    assert running["failed"] and "runs as" in running["msg"]


def test_present_creates_a_dedicated_user_then_converges(prod):
    args = dict(state="present", users="svc.mulesoft.int@acme.example", email="ops@acme.example",
                last_name="MuleSoft Integration", permission_sets=["Sync_Read"])
    result = prod.run(**args)
    assert not result.get("failed"), result.get("msg")
    assert prod.users()["svc.mulesoft.int@acme.example"] == {
        "IsActive": True, "Profile": "Minimum Access - API Only Integrations", "UserLicense": "Salesforce Integration",
        "PermissionSets": ["Sync_Read"], "PermissionSetLicenses": ["SalesforceAPIIntegrationPsl"]}
    again = prod.run(**args)
    assert again["changed"] is False and writes(again) == {}
    taken = prod.run(state="present", users=MULESOFT, email="x@acme.example")
    assert taken["failed"] and "use state migrated" in taken["msg"]


# ---- other estates: refusing org, few seats, 50 users -------------------------------------------------
@pytest.fixture(scope="module")
def refusing(tmp_path_factory):
    def change(org):
        org["allow_license_change_to_integration"] = False
    running = _start(tmp_path_factory, "iu-refusing", _estate(tmp_path_factory, "refusing", change))
    yield running
    running.stop()


def test_org_refusing_the_license_change(refusing, tmp_path):
    refusing.reset()
    org = Org(refusing, PROD, str(tmp_path / "b"))
    before = org.users()
    result = org.run(users=MULESOFT, conflicting_permission_sets="remove")
    assert result["failed"] and "FIELD_INTEGRITY_EXCEPTION" in result["msg"]
    assert "state: present" in result["msg"] and "%s left unchanged by this run" % MULESOFT in result["msg"]
    assert org.users() == before
    created = org.run(state="present", users="svc.mulesoft.int@acme.example", email="ops@acme.example")
    assert not created.get("failed"), created.get("msg")
    retired = org.run(state="absent", users=MULESOFT)
    assert retired["changed"] and org.users()[MULESOFT]["IsActive"] is False


def test_seat_exhaustion_fails_before_any_write(tmp_path_factory, tmp_path):
    def change(org):
        org["licenses"]["Salesforce Integration"] = 1
    running = _start(tmp_path_factory, "iu-seats", _estate(tmp_path_factory, "seats", change))
    try:
        org = Org(running, PROD, str(tmp_path / "b"))
        before = org.users()
        result = org.run(users=[MULESOFT, ETL], conflicting_permission_sets="remove")
        assert result["failed"] and "'Salesforce Integration' has 1 free seat(s) and this run needs 2" in result["msg"]
        assert writes(result) == {} and org.users() == before
        one = org.run(users=ETL)
        assert not one.get("failed"), one.get("msg")
    finally:
        running.stop()


BULK = ["svc.bulk%02d@acme.example" % n for n in range(50)]


def test_fifty_users_in_one_task_within_budget(tmp_path_factory, tmp_path):
    def change(org):
        org["licenses"] = {"Salesforce": 100, "Salesforce Platform": 10, "Salesforce Integration": 60}
        org["permission_set_licenses"]["SalesforceAPIIntegrationPsl"]["total"] = 60
        org["users"].extend({"username": name, "profile": "Integration Admin", "last_name": "Bulk %d" % n,
                             "permission_sets": ["Sales_Ops"] if n % 2 else [], "logins": {"api": 3}}
                            for n, name in enumerate(BULK))
    running = _start(tmp_path_factory, "iu-bulk", _estate(tmp_path_factory, "bulk", change))
    try:
        org = Org(running, PROD, str(tmp_path / "b"))
        result = org.run(users=BULK, conflicting_permission_sets="remove", permission_sets=["Sync_Read"])
        assert not result.get("failed"), result.get("msg")
        print("50 users migrated: %d calls including authentication (%s)" % (result["calls_with_auth"],
                                                                             result["emulator_calls"]))
        assert result["calls_with_auth"] <= 12
        users = org.users()
        assert all(users[name]["UserLicense"] == "Salesforce Integration" and users[name]["PermissionSets"] ==
                   ["Sync_Read"] for name in BULK)
        again = org.run(users=BULK, conflicting_permission_sets="remove", permission_sets=["Sync_Read"])
        print("50 users converged: %d calls including authentication (%s)"
              % (again["calls_with_auth"], again["emulator_calls"]))
        assert again["changed"] is False and writes(again) == {}
        assert set(again["emulator_calls"]) <= {"POST /composite", "GET /query"}
        assert again["calls_with_auth"] <= 4
    finally:
        running.stop()


# ---- access after the move ------------------------------------------------------------------------------
def _query_as(org, token, soql):
    answer = org.emulator.rest(org.name, "GET", "query", token=token, params={"q": soql})
    return answer.status_code, answer.json()


def test_replicated_set_keeps_access_and_its_absence_breaks_it(prod):
    ready = prod.emulator.ready["orgs"][PROD]
    set_params = dict(auth="client_credentials", login_url=ready["login_url"], client_id=ready["admin"]["client_id"],
                      client_secret=ready["admin"]["client_secret"], ca_path=prod.emulator.ready["ca_file"],
                      backup_dir=prod.backup_dir, name="Integration_Admin_Access",
                      access_from={"profile": "Integration Admin"})
    validation = ArgumentSpecValidator(permission_set.SPEC.full_argument_spec(),
                                       **permission_set.SPEC.constraints).validate(set_params)
    assert not validation.error_messages, validation.error_messages
    created = execute(permission_set.SPEC, validation.validated_parameters)[0]
    assert not created.get("failed"), created.get("msg")

    soql = "SELECT Id, Name FROM Account LIMIT 5"
    for username in (MULESOFT, JANE):
        status, body = _query_as(prod, prod.token_as(username), soql)
        assert status == 200 and body["totalSize"] == 5, body

    with_set = prod.run(users=MULESOFT, conflicting_permission_sets="remove",
                        permission_sets=["Integration_Admin_Access"])
    assert not with_set.get("failed"), with_set.get("msg")
    without = prod.run(users=JANE, allow_ui_users=True)
    assert not without.get("failed"), without.get("msg")

    status, body = _query_as(prod, prod.token_as(MULESOFT), soql)
    assert status == 200 and body["totalSize"] == 5, body
    status, body = _query_as(prod, prod.token_as(JANE), soql)
    assert status == 400 and body[0]["errorCode"] == "INVALID_TYPE", body


# ---- through ansible-playbook (the action plugin, as AWX runs it) ---------------------------------------
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/sfops.integration_users.salesforce:
      auth: client_credentials
      login_url: "{{ sf_login_url }}"
      client_id: "{{ sf_client_id }}"
      client_secret: "{{ sf_client_secret }}"
      ca_path: "{{ sf_ca_path }}"
  vars:
    task_args: &migrate
      users: svc.mulesoft@acme.example
      conflicting_permission_sets: remove
      permission_sets: [Sync_Read]
      backup_dir: "{{ backup_dir }}"
  tasks:
    - name: Preview
      sfops.integration_users.sf_integration_user: *migrate
      check_mode: true
      diff: true
      register: preview
    - name: Migrate
      sfops.integration_users.sf_integration_user: *migrate
      register: migrated
    - name: Migrate again
      sfops.integration_users.sf_integration_user: *migrate
      register: again
    - name: A misspelt option fails at run time, also under check mode
      sfops.integration_users.sf_integration_user:
        users: svc.mulesoft@acme.example
        permision_sets: [Sync_Read]
      check_mode: true
      register: misspelt
      ignore_errors: true
    - name: Save the results
      ansible.builtin.copy:
        content: "{{ {'preview': preview, 'migrated': migrated, 'again': again, 'misspelt': misspelt} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
"""


def test_playbook_preview_migrate_and_rerun(prod, tmp_path):
    ready = prod.emulator.ready
    org = ready["orgs"][PROD]
    playbook = tmp_path / "migrate.yml"
    playbook.write_text(PLAYBOOK)
    results_file = tmp_path / "results.json"
    extra = {"sf_login_url": org["login_url"], "sf_client_id": org["admin"]["client_id"],
             "sf_client_secret": org["admin"]["client_secret"], "sf_ca_path": ready["ca_file"],
             "backup_dir": prod.backup_dir, "results_file": str(results_file),
             "ansible_python_interpreter": sys.executable}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=ensure_collections_root(), ANSIBLE_NOCOLOR="1")
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                          "-c", "local", str(playbook), "-e", json.dumps(extra)],
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(results_file.read_text())
    assert results["preview"]["changed"] is True and results["preview"]["api_usage"]["calls"] == 1
    assert results["migrated"]["changed"] is True and results["migrated"]["backup_file"].startswith(prod.backup_dir)
    assert results["again"]["changed"] is False and results["again"]["api_usage"]["calls"] == 1
    assert results["misspelt"]["failed"] and "permision_sets" in results["misspelt"]["msg"]
    # Secrets given as options never come back in results.
    assert org["admin"]["client_secret"] not in results_file.read_text()
    assert prod.users()[MULESOFT]["UserLicense"] == "Salesforce Integration"
