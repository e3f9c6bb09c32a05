# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Malformed and hostile input to every module and to the role: each case is refused (or, for a read,
answered as "not found") with a message a person can act on, never a traceback, and nothing is written.

All module cases run as tasks of ONE playbook (``ignore_errors``) against a freshly reset emulator; the
emulator's per-org call counts then prove that no write reached any org, and the work directory that no
plan, report or backup file was left. The role cases run the role's entry points with bad variables.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from conftest import ANSIBLE_PLAYBOOK, COLLECTIONS_ROOT, HERE, inventory_for

ORG = "acme-prod"
INJECTION = "x' OR Username != '"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
CONNECTION = {"auth": "client_credentials", "login_url": "{{ sf_login_url }}", "client_id": "{{ sf_client_id }}",
              "client_secret": "{{ sf_client_secret }}", "ca_path": "{{ sf_ca_path }}", "retries": 0}
JWT = {"auth": "jwt", "login_url": "{{ sf_login_url }}", "client_id": "{{ sf_client_id }}",
       "username": "{{ sf_username }}", "ca_path": "{{ sf_ca_path }}", "retries": 0}
M = "sfops.integration_users."

# id -> (module, arguments, connection override or None, words the message must hold (any of the tuple)).
# A connection override replaces the group defaults for that task. "NOT_FOUND" means a read that must
# answer "not found" (no record of anyone else) instead of failing; ("FINDING", CODE) a check that must
# answer "not ready" with that blocking finding.
CASES = {
    # connection options
    "login_url_http": ("sf_license_info", {}, dict(CONNECTION, login_url="http://127.0.0.1:1"), ("https",)),
    "login_url_not_a_url": ("sf_license_info", {}, dict(CONNECTION, login_url="not a url"), ("login_url",)),
    "login_url_no_host": ("sf_license_info", {}, dict(CONNECTION, login_url="https://"), ("login_url",)),
    "instance_url_ftp": ("sf_license_info", {},
                         {"auth": "access_token", "instance_url": "ftp://127.0.0.1", "access_token": "{{ sf_access_token }}"},
                         ("instance_url", "https")),
    "private_key_not_a_key": ("sf_license_info", {}, dict(JWT, private_key="this is not a key"),
                              ("private_key", "key")),
    "private_key_file_not_a_key": ("sf_license_info", {}, dict(JWT, private_key_file="{{ sf_ca_path }}"),
                                   ("private_key", "key")),
    "private_key_file_missing": ("sf_license_info", {}, dict(JWT, private_key_file="/nonexistent/key.pem"),
                                 ("private_key_file", "/nonexistent/key.pem")),
    "jwt_wrong_audience": ("sf_license_info", {}, dict(JWT, private_key_file="{{ sf_private_key_file }}",
                                                       audience="https://evil.example"), ("audience",)),
    "auth_unknown": ("sf_license_info", {}, dict(CONNECTION, auth="kerberos"), ("auth", "kerberos")),
    "client_secret_wrong": ("sf_license_info", {}, dict(CONNECTION, client_secret="wrong-secret"),
                            ("invalid client credentials", "client_secret")),
    "api_version_garbage": ("sf_license_info", {}, dict(CONNECTION, api_version="abc"), ("API version",)),
    "timeout_not_a_number": ("sf_license_info", {}, dict(CONNECTION, timeout="soon"), ("timeout",)),
    # sf_query
    "query_empty": ("sf_query", {"query": ""}, None, ("query",)),
    "query_not_soql": ("sf_query", {"query": "DROP TABLE User"}, None, ("MALFORMED_QUERY",)),
    "query_unknown_object": ("sf_query", {"query": "SELECT Id FROM NoSuchThing__c"}, None, ("INVALID_TYPE",)),
    "query_batch_size": ("sf_query", {"query": "SELECT Id FROM User", "batch_size": 5}, None, ("batch_size",)),
    # sf_user_info
    "user_info_injection": ("sf_user_info", {"users": [INJECTION]}, None, "NOT_FOUND"),
    "user_info_backslash_quote": ("sf_user_info", {"users": ["a\\' OR IsActive = true OR Username = '"]},
                                  None, "NOT_FOUND"),
    "user_info_unicode": ("sf_user_info", {"users": [u"\u00fcn\u00efc\u00f8d\u00e9@\u4f8b\u3048.jp"]}, None,
                          "NOT_FOUND"),
    "user_info_huge_list": ("sf_user_info", {"users": ["nobody%d@nowhere.example" % n for n in range(3000)]},
                            None, "NOT_FOUND"),
    "user_info_lookback_negative": ("sf_user_info", {"lookback_days": -5}, None, ("lookback_days",)),
    # sf_integration_user
    "migrate_unknown_user": ("sf_integration_user", {"users": "nobody@nowhere.example"}, None, ("not found",)),
    "migrate_injection": ("sf_integration_user", {"users": INJECTION}, None, ("not found",)),
    "migrate_newline_quote": ("sf_integration_user", {"users": "svc.etl@acme.example\n' OR Id != '"}, None,
                              ("not found",)),
    "migrate_unicode": ("sf_integration_user", {"users": u"\u0441\u0432\u0446@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"},
                        None, ("not found",)),
    "migrate_empty_list": ("sf_integration_user", {"users": []}, None, ("user",)),
    "migrate_huge_list": ("sf_integration_user", {"users": ["ghost%d@nowhere.example" % n for n in range(1000)]},
                          None, ("not found",)),
    "migrate_unknown_profile": ("sf_integration_user", {"users": "svc.etl@acme.example",
                                                        "target_profile": "No Such Profile"}, None,
                                ("No Such Profile", "profile")),
    "migrate_profile_injection": ("sf_integration_user", {"users": "svc.etl@acme.example",
                                                          "target_profile": "x' OR Name != '"}, None, ("profile",)),
    "migrate_unknown_permission_set": ("sf_integration_user", {"users": "svc.etl@acme.example",
                                                               "permission_sets": ["No_Such_Set"]}, None,
                                       ("No_Such_Set",)),
    "migrate_permission_set_injection": ("sf_integration_user", {"users": "svc.etl@acme.example",
                                                                 "permission_sets": ["x' OR Name != '"]}, None,
                                         ("permission set",)),
    "migrate_human": ("sf_integration_user", {"users": "jane.doe@acme.example"}, None, ("login",)),
    "migrate_running_user": ("sf_integration_user", {"users": "admin@acme.example"}, None,
                             ("running", "connect", "login")),
    "migrate_lookback_zero": ("sf_integration_user", {"users": "svc.etl@acme.example", "lookback_days": 0}, None,
                              ("lookback_days",)),
    "migrate_user_option_gone": ("sf_integration_user", {"user": "a@b.c"}, None,
                                 ("missing: users", "Supported parameters include")),
    "migrate_bad_state": ("sf_integration_user", {"users": "a@b.c", "state": "deleted"}, None, ("state",)),
    "restore_without_backup_file": ("sf_integration_user", {"state": "restored"}, None, ("backup_file",)),
    "restore_from_not_a_backup": ("sf_integration_user", {"state": "restored", "backup_file": "{{ sf_ca_path }}"},
                                  None, ("backup",)),
    "restore_from_missing_file": ("sf_integration_user", {"state": "restored", "backup_file": "/nonexistent.json"},
                                  None, ("/nonexistent.json",)),
    # sf_permission_set
    "permission_set_bad_name": ("sf_permission_set", {"name": "bad name!", "object_permissions": {"Account": "r"}},
                                None, ("API name",)),
    "permission_set_injection_name": ("sf_permission_set", {"name": "x' OR Name != '",
                                                            "object_permissions": {"Account": "r"}}, None,
                                      ("API name",)),
    "permission_set_unknown_license": ("sf_permission_set", {"name": "Rel_Test", "license": "No Such License",
                                                             "object_permissions": {"Account": "r"}}, None,
                                       ("No Such License", "license")),
    "permission_set_unknown_object": ("sf_permission_set", {"name": "Rel_Test",
                                                            "object_permissions": {"NoSuchObject__c": "r"}}, None,
                                      ("NoSuchObject__c",)),
    "permission_set_bad_letters": ("sf_permission_set", {"name": "Rel_Test", "object_permissions": {"Account": "xyz"}},
                                   None, ("Account", "xyz")),
    "permission_set_unknown_profile": ("sf_permission_set", {"name": "Rel_Test",
                                                             "access_from": {"profile": "x' OR Name != '"}}, None,
                                       ("profile",)),
    # sf_profile_check
    "profile_check_injection": ("sf_profile_check", {"users": [INJECTION]}, None, ("FINDING", "USER_NOT_FOUND")),
    "profile_check_bad_scan": ("sf_profile_check", {"users": ["svc.etl@acme.example"], "scans": ["rm -rf"]},
                               None, ("scans",)),
    "profile_check_unknown_profile": ("sf_profile_check", {"users": ["svc.etl@acme.example"],
                                                           "target_profile": "No Such Profile"}, None,
                                      ("FINDING", "TARGET_PROFILE_MISSING")),
    # sf_integration_probe
    "probe_both_kinds": ("sf_integration_probe", {"probes": [{"soql": "SELECT Id FROM User", "rest": "limits"}]},
                         None, ("exactly one",)),
    # sf_migration_plan / sf_migration_report (local files)
    "plan_org_traversal": ("sf_migration_plan", {"operation": "load", "runs_dir": "{{ work_dir }}/runs",
                                                 "org": "../../../etc/passwd"}, None, ("plan",)),
    "plan_edited_after_checksum": ("sf_migration_plan", {"operation": "load", "runs_dir": "{{ work_dir }}/runs",
                                                         "org": "acme-uat", "org_type": "sandbox",
                                                         "production_org": ORG, "sandbox_name": "uat"}, None,
                                   ("changed after it was written",)),
    "report_orgs_not_a_list": ("sf_migration_report", {"runs_dir": "{{ work_dir }}/runs", "run_id": "r1",
                                                       "orgs": "acme-prod; rm -rf /"}, None, ("orgs",)),
}
ROLE_CASES = {
    "role_batch_size_text": ("rollout", {"license_migration_batch_size": "five"}, ("license_migration_batch_size",)),
    "role_org_type_unknown": ("migrate", {"license_migration_org_type": "staging"}, ("license_migration_org_type",)),
    "role_sandbox_without_production": ("migrate", {"license_migration_org_type": "sandbox"},
                                        ("license_migration_production_org",)),
    "role_users_not_a_list": ("plan", {"license_migration_users": {"a": 1}}, ("license_migration_users",)),
    "role_rollback_without_run_id": ("rollback", {}, ("license_migration_rollback_run_id",)),
}


def _task(case_id, module, args, connection):
    task = {"name": "case " + case_id, M + module: args, "ignore_errors": True}
    if connection is not None:
        task["module_defaults"] = {"group/sfops.integration_users.salesforce": connection}
    return task


def _run(emulator, work, plays, extra_vars, env_extra=None):
    """ansible-playbook over the emulator's inventory; task results from the record_results callback."""
    inventory = work / "inventory.yml"
    inventory.write_text(yaml.safe_dump(inventory_for(emulator, [ORG])))
    playbook = work / "playbook.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False, allow_unicode=True))
    extra = work / "extra.json"
    extra.write_text(json.dumps(extra_vars))
    results = work / "results.jsonl"
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
    env.update({"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_ROOT.ensure_collections_root(),
                "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "plugins", "callback"),
                "ANSIBLE_CALLBACKS_ENABLED": "record_results", "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0", "SFOPS_RESULTS_FILE": str(results)})
    env.update(env_extra or {})
    done = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), str(playbook), "-e", "@" + str(extra)],
                          env=env, capture_output=True, text=True, timeout=900, cwd=str(work), check=False)
    lines = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    return done, lines


def _writes(emulator):
    """org -> data-changing calls. The modules read through POST /composite (queries only), so that
    resource is not a write; every DML path (sobjects, sObject Collections) is."""
    counts = {}
    for org in emulator.ready["orgs"]:
        calls = emulator.admin("GET", "orgs/%s/calls" % org).json()["calls"]
        counts[org] = sum(n for key, n in calls.items() if key.split(" ")[0] in WRITE_METHODS
                          and not key.split(" ")[1].rstrip("/").endswith("/composite")
                          and key.split(" ")[1].rstrip("/") != "/composite")
    return counts


def _states(emulator):
    """Every org's users, assignments and seats (login times and API counters left out)."""
    states = {}
    for org in emulator.ready["orgs"]:
        state = emulator.admin("GET", "orgs/%s/state" % org).json()
        state.pop("api", None)
        for user in state["users"]:
            user.pop("LastLoginDate", None)
        states[org] = state
    return states


def _files(root):
    return sorted(os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files)


@pytest.fixture(scope="module")
def module_cases(emulator, tmp_path_factory):
    emulator.reset()
    before = _states(emulator)
    work = tmp_path_factory.mktemp("bad_input")
    # A plan whose decisions were edited after it was written (its checksum no longer matches).
    os.makedirs(str(work / "runs" / "plans"), mode=0o700)
    (work / "runs" / "plans" / ("%s.json" % ORG)).write_text(json.dumps({
        "format": "sfops.integration_users.plan/1", "org": ORG, "checksum": "sha256:" + "0" * 64,
        "entries": [{"username": "jane.doe@acme.example", "status": "move"}]}))
    planted = _files(str(work / "runs"))
    tasks = [_task(case_id, *case[:3]) for case_id, case in CASES.items()]
    plays = [{"name": "bad input", "hosts": ORG, "gather_facts": False,
              "module_defaults": {"group/sfops.integration_users.salesforce": CONNECTION}, "tasks": tasks}]
    done, lines = _run(emulator, work, plays, {"work_dir": str(work)})
    results = dict((line["task"][len("case "):], line["result"]) for line in lines if line["task"].startswith("case "))
    (work / "results.json").write_text(json.dumps(results, indent=1))
    written = _writes(emulator)
    written["state changed"] = _states(emulator) != before
    files = sorted(set(_files(str(work / "runs"))) - set(planted))
    emulator.reset()
    return done, results, written, files


@pytest.fixture(scope="module")
def role_cases(emulator, tmp_path_factory):
    """Each role case is one play; a marker task before it tells the results apart."""
    emulator.reset()
    before = _states(emulator)
    work = tmp_path_factory.mktemp("bad_role_input")
    plays = []
    for case_id, (entry, variables, _words) in ROLE_CASES.items():
        plays.append({"name": "case " + case_id, "hosts": ORG, "gather_facts": False,
                      "vars": dict({"license_migration_runs_dir": str(work / "runs")}, **variables),
                      "module_defaults": {"group/sfops.integration_users.salesforce": CONNECTION},
                      "tasks": [{"name": "marker " + case_id, "ansible.builtin.debug": {"msg": case_id}},
                                {"block": [{"name": "entry point", "ansible.builtin.include_role": {
                                    "name": "sfops.integration_users.license_migration", "tasks_from": entry}}],
                                 "rescue": [{"name": "refused", "ansible.builtin.debug": {"msg": "refused"}}]}]})
    done, lines = _run(emulator, work, plays, {})
    by_case = {}
    current = None
    for line in lines:
        if line["task"].startswith("marker "):
            current = line["task"][len("marker "):]
            by_case[current] = []
        elif current:
            by_case[current].append(line)
    written = _writes(emulator)
    written["state changed"] = _states(emulator) != before
    emulator.reset()
    return done, by_case, written


def _assert_clean_message(message):
    assert message, "no message"
    assert "Traceback" not in message and 'File "' not in message, message
    assert len(message) < 4000, "message too long to read: %d characters" % len(message)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_module_input_is_refused_cleanly(module_cases, case_id):
    done, results, written, files = module_cases
    assert "Traceback" not in done.stdout + done.stderr
    assert not any(written.values()), "writes reached the orgs: %s" % written
    assert not files, "files written: %s" % files
    result = results.get(case_id)
    assert result is not None, "no result for %s:\n%s" % (case_id, (done.stdout + done.stderr)[-2000:])
    expected = CASES[case_id][3]
    assert not result.get("changed"), result
    # Ansible turns an exception the plugin did not handle into "Task failed: <Python error>".
    assert not (result.get("msg") or "").startswith("Task failed:"), result.get("msg")
    if expected == "NOT_FOUND":
        # A read answers "not found": nobody else's record comes back through a hostile name.
        assert not result.get("failed"), result.get("msg")
        assert result.get("users") == [], result.get("users")
        assert result.get("missing"), result
        return
    if expected[0] == "FINDING":
        assert not result.get("failed"), result.get("msg")
        assert result.get("ready") is False, result
        assert expected[1] in [f["code"] for f in result["findings"]], result["findings"]
        return
    assert result.get("failed") is True, result
    message = result.get("msg") or ""
    _assert_clean_message(message)
    assert any(word.lower() in message.lower() for word in expected), "%r not in: %s" % (expected, message)


@pytest.mark.parametrize("case_id", sorted(ROLE_CASES))
def test_role_variables_are_refused_cleanly(role_cases, case_id):
    done, by_case, written = role_cases
    assert "Traceback" not in done.stdout + done.stderr
    assert not any(written.values()), "writes reached the orgs: %s" % written
    lines = by_case.get(case_id)
    assert lines is not None, (done.stdout + done.stderr)[-2000:]
    failures = [line["result"] for line in lines if line["status"] == "failed"]
    assert failures, "case %s was not refused: %s" % (case_id, [line["task"] for line in lines])
    message = failures[0].get("msg") or ""
    _assert_clean_message(message)
    words = ROLE_CASES[case_id][2]
    assert any(word in message for word in words), "%r not in: %s" % (words, message)


CLOCK_SKEW = """import time
_real_time = time.time
time.time = lambda: _real_time() - 3600
"""


def test_clock_skew_is_named_and_nothing_is_written(emulator, tmp_path):
    """The controller's clock an hour behind: the JWT it signs has expired when it arrives."""
    emulator.reset()
    before = _states(emulator)
    (tmp_path / "skew").mkdir()
    (tmp_path / "skew" / "sitecustomize.py").write_text(CLOCK_SKEW)
    jwt = dict(JWT, private_key_file="{{ sf_private_key_file }}", audience="{{ sf_audience }}")
    skewed_task = _task("skew", "sf_integration_user", {"users": "svc.etl@acme.example"}, jwt)
    plays = [{"hosts": ORG, "gather_facts": False, "tasks": [skewed_task]}]
    done, lines = _run(emulator, tmp_path, plays, {}, env_extra={"PYTHONPATH": str(tmp_path / "skew")})
    result = next(line["result"] for line in lines if line["task"] == "case skew")
    assert result.get("failed") is True, result
    _assert_clean_message(result["msg"])
    assert "expired" in result["msg"] or "clock" in result["msg"], result["msg"]
    assert not any(_writes(emulator).values()) and _states(emulator) == before
