# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every auth flow and every connection failure, through ansible-playbook against the emulator.

Each failure must say what went wrong in a way a person can act on, and no secret may appear in
the console output (even at -vvv) or in the results.
"""

from __future__ import annotations

import socket

import pytest

from conftest import secrets_of

ORG = "acme-prod"
SANDBOX = "acme-uat"

FLOWS = {
    "client_credentials": {"auth": "client_credentials", "login_url": "{{ sf_login_url }}",
                           "client_id": "{{ sf_client_id }}", "client_secret": "{{ sf_client_secret }}"},
    "jwt": {"auth": "jwt", "login_url": "{{ sf_login_url }}", "audience": "{{ sf_audience }}",
            "client_id": "{{ sf_client_id }}", "username": "{{ sf_username }}",
            "private_key_file": "{{ sf_private_key_file }}"},
    "access_token": {"auth": "access_token", "instance_url": "{{ sf_instance_url }}",
                     "access_token": "{{ sf_access_token }}"},
    "password": {"auth": "password", "login_url": "{{ sf_login_url }}", "client_id": "{{ sf_client_id }}",
                 "client_secret": "{{ sf_client_secret }}", "username": "{{ sf_username }}",
                 "password": "{{ sf_password }}", "security_token": "{{ sf_security_token }}"},
}


def play(connection, tasks, hosts=ORG):
    return [{"name": "under test", "hosts": hosts, "gather_facts": False,
             "module_defaults": {"group/sfops.integration_users.salesforce": dict(connection, ca_path="{{ sf_ca_path }}")},
             "tasks": tasks}]


def license_task(**extra):
    task = {"name": "license info", "sfops.integration_users.sf_license_info": {}, "register": "out",
            "ignore_errors": True}
    task.update(extra)
    return task


def assert_no_secret(emulator, run):
    leaked = [s for s in secrets_of(emulator) if s in run.output or s in str(run.results)]
    assert not leaked, "secret(s) in the output: %d" % len(leaked)


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_every_auth_flow_reads_licenses(emulator, playbook, flow):
    run = playbook(emulator, play(FLOWS[flow], [license_task()]), verbosity=3)
    result = run.result("license info", ORG)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["org"]["id"] == emulator.org(ORG)["org_id"]
    assert result["integration"]["available"] is True
    assert result["api_usage"]["calls"] == 1 and result["api_usage"]["limit"] > 0
    if flow == "password":
        assert [d["msg"] for d in result["deprecations"]][0].startswith("auth=password")
        assert "DEPRECATION WARNING" in run.output
    else:
        assert "deprecations" not in result
    assert_no_secret(emulator, run)


def test_auth_is_inferred_and_options_come_from_the_environment(emulator, playbook):
    org = emulator.org(ORG)
    env = {"SALESFORCE_LOGIN_URL": org["login_url"], "SALESFORCE_CLIENT_ID": org["admin"]["client_id"],
           "SALESFORCE_CLIENT_SECRET": org["admin"]["client_secret"], "SALESFORCE_CA_PATH": emulator.ca_file,
           # ansible-core 2.21 adds `invocation` only when asked (earlier releases ignore the setting).
           "ANSIBLE_INJECT_INVOCATION": "true"}
    run = playbook(emulator, [{"hosts": ORG, "gather_facts": False, "tasks": [license_task()]}], env=env, verbosity=3)
    result = run.result("license info", ORG)
    assert not result.get("failed"), result.get("msg")
    assert result["invocation"]["module_args"]["client_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert org["admin"]["client_secret"] not in run.output


def test_sandbox_jwt_needs_the_sandbox_audience(emulator, playbook):
    jwt_flow = dict(FLOWS["jwt"], audience="https://login.salesforce.com")
    run = playbook(emulator, play(jwt_flow, [license_task()], hosts=SANDBOX))
    result = run.result("license info", SANDBOX)
    assert result["failed"] is True and result["error"]["type"] == "AuthenticationError"
    assert "audience is invalid" in result["msg"]
    assert "sandboxes need https://test.salesforce.com" in result["msg"]
    right = playbook(emulator, play(FLOWS["jwt"], [license_task()], hosts=SANDBOX))
    assert not right.result("license info", SANDBOX).get("failed")
    assert right.result("license info", SANDBOX)["org"]["is_sandbox"] is True


def test_bad_client_secret(emulator, playbook):
    flow = dict(FLOWS["client_credentials"], client_secret="wrong-secret-value")
    run = playbook(emulator, play(flow, [license_task()]), verbosity=3)
    result = run.result("license info", ORG)
    assert result["failed"] is True and result["error"]["type"] == "AuthenticationError"
    assert result["msg"].startswith("org acme-prod (127.0.0.1): Salesforce error invalid_client: client_credentials login "
                                    "refused")
    assert "check client_id and client_secret" in result["msg"]
    assert "wrong-secret-value" not in run.output
    assert result["api_usage"]["calls"] == 0
    assert_no_secret(emulator, run)


def test_bad_password(emulator, playbook):
    flow = dict(FLOWS["password"], password="not-the-password")
    run = playbook(emulator, play(flow, [license_task()]))
    result = run.result("license info", ORG)
    assert result["failed"] is True
    assert "authentication failure" in result["msg"] and "user %s" % emulator.org(ORG)["admin"]["username"] in result["msg"]
    assert "not-the-password" not in run.output


def test_unreachable_url(emulator, playbook):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    flow = dict(FLOWS["client_credentials"], login_url="https://127.0.0.1:%d" % closed_port, retries=1)
    run = playbook(emulator, play(flow, [license_task()]))
    result = run.result("license info", ORG)
    assert result["failed"] is True and result["error"]["type"] == "ConnectionFailure"
    assert "failed after 2 attempt(s)" in result["msg"] and "Connection refused" in result["msg"]
    assert "network access" in result["msg"]


def test_untrusted_certificate(emulator, playbook):
    flow = dict(FLOWS["client_credentials"])
    run = playbook(emulator, [{"hosts": ORG, "gather_facts": False,
                               "module_defaults": {"group/sfops.integration_users.salesforce": dict(flow, retries=0)},
                               "tasks": [license_task()]}])
    result = run.result("license info", ORG)
    assert result["failed"] is True and "SSL" in result["msg"] and "ca_path" in result["msg"]


def test_expired_access_token_cannot_renew(fresh_emulator, playbook):
    assert fresh_emulator.admin("POST", "orgs/%s/expire-sessions" % ORG).status_code in (200, 204)
    run = playbook(fresh_emulator, play(FLOWS["access_token"], [license_task()]))
    result = run.result("license info", ORG)
    assert result["failed"] is True and result["error"]["type"] == "SessionExpiredError"
    assert "INVALID_SESSION_ID" in result["msg"] and "cannot renew" in result["msg"]
    assert "obtain a new access token" in result["msg"]


def test_expired_session_is_renewed_once(fresh_emulator, playbook):
    # Sessions die after 2 calls: a 4-page query meets the dead session on page 3, logs in again and
    # finishes on the new session (pages 3 and 4). A task that needed a second renewal would fail.
    fault = {"rule": "expire_calls=2,org=%s,path=/query" % ORG}
    assert fresh_emulator.admin("POST", "faults", json=fault).status_code == 201
    total = fresh_emulator.query(ORG, "SELECT COUNT() FROM LoginHistory")["totalSize"]
    assert 600 < total <= 800  # four pages of 200
    task = {"name": "paged query", "register": "out", "ignore_errors": True,
            "sfops.integration_users.sf_query": {"query": "SELECT Id FROM LoginHistory", "batch_size": 200}}
    run = playbook(fresh_emulator, play(FLOWS["client_credentials"], [task]))
    result = run.result("paged query", ORG)
    assert not result.get("failed"), result.get("msg")
    # The task's own login adds a LoginHistory row before the query runs.
    assert result["total_size"] in (total, total + 1)
    assert len({r["Id"] for r in result["records"]}) == result["total_size"]
    assert result["api_usage"]["calls"] == 5  # 4 pages + the one refused


def test_spent_api_limit_fails_fast_naming_the_allocation(fresh_emulator, playbook):
    orgs = {o["name"]: o for o in fresh_emulator.admin("GET", "orgs").json()}
    limit = orgs[ORG]["api_daily_limit"]
    assert fresh_emulator.admin("POST", "orgs/%s/api-usage" % ORG, json={"used": limit}).status_code in (200, 204)
    run = playbook(fresh_emulator, play(FLOWS["client_credentials"], [license_task()]))
    result = run.result("license info", ORG)
    assert result["failed"] is True and result["error"]["type"] == "RequestLimitError"
    assert "REQUEST_LIMIT_EXCEEDED" in result["msg"]
    assert "used %d of its %d daily API requests; 0 remain" % (limit, limit) in result["msg"]
    assert result["api_usage"]["calls"] == 1  # never retried


def test_transient_errors_are_retried(fresh_emulator, playbook):
    fault = {"rule": "status=503,times=2,org=%s,path=/composite" % ORG}
    assert fresh_emulator.admin("POST", "faults", json=fault).status_code == 201
    run = playbook(fresh_emulator, play(FLOWS["client_credentials"], [license_task()]))
    result = run.result("license info", ORG)
    assert not result.get("failed"), result.get("msg")
    assert result["api_usage"]["calls"] == 3


def test_missing_and_unknown_options_fail_at_run_time_and_in_check_mode(emulator, playbook):
    tasks = [{"name": "no credentials", "sfops.integration_users.sf_query": {"query": "SELECT Id FROM User"},
              "ignore_errors": True},
             {"name": "unknown option", "sfops.integration_users.sf_query": {"query": "SELECT Id FROM User",
                                                                             "colour": "blue"},
              "ignore_errors": True}]
    for check in (False, True):
        run = playbook(emulator, [{"hosts": ORG, "gather_facts": False, "tasks": tasks}], check=check)
        missing = run.result("no credentials", ORG)
        assert missing["failed"] is True and "no credentials given" in missing["msg"]
        unknown = run.result("unknown option", ORG)
        assert unknown["msg"].startswith("Unsupported parameters for (sfops.integration_users.sf_query) module: colour")
