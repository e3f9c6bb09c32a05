# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_integration_probe: every probe's outcome is reported, a refused login or probe never fails the task."""
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import pytest

from fake_salesforce import INSTANCE, FakeTransport, query_page, rest_error, session_with, token_ok

from ansible_collections.sfops.integration_users.plugins.module_utils.client import Client
from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_integration_probe import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute

PARAMS = {"login_url": INSTANCE, "client_id": "cid", "client_secret": "csecret-value", "api_version": "62.0",
          "retries": 0, "timeout": 5.0, "validate_certs": True, "username": "svc.etl@acme.com"}


def as_user(transport, username="svc.etl@acme.com"):
    """The transport answering /userinfo for ``username``: who the token belongs to."""
    return transport.route("GET", r"/oauth2/userinfo$", (200, {"preferred_username": username, "user_id": "005A"}))


def run(transport, probes):
    return execute(SPEC, dict(PARAMS, probes=probes),
                   client_factory=lambda p: Client(p, session=session_with(transport)))[0]


def test_each_probe_reported():
    transport = as_user(FakeTransport()).route("POST", r"/oauth2/token$", token_ok()) \
        .route("GET", r"/query$", lambda request, match: (
            (200, query_page([{"Id": "001A"}])) if "Account" in request.query["q"]
            else rest_error("INVALID_TYPE", "sObject type 'Opportunity' is not supported."))) \
        .route("GET", r"/v62\.0/limits$", (200, {"DailyApiRequests": {"Max": 1, "Remaining": 1}}))
    result = run(transport, [{"name": "accounts", "soql": "SELECT Id FROM Account LIMIT 1", "min_records": 1},
                             {"name": "opportunities", "soql": "SELECT Id FROM Opportunity LIMIT 1"},
                             {"name": "limits", "rest": "/limits"}])
    assert not result.get("failed") and not result["changed"]
    assert result["login"] == {"passed": True, "error": None}
    outcome = dict((r["name"], r) for r in result["results"])
    assert outcome["accounts"]["passed"] and outcome["accounts"]["records"] == 1
    assert not outcome["opportunities"]["passed"] and "INVALID_TYPE" in outcome["opportunities"]["error"]
    assert outcome["limits"]["passed"]
    assert result["passed"] is False


def test_min_records_and_refused_login():
    transport = as_user(FakeTransport(), "SVC.ETL@acme.com").route("POST", r"/oauth2/token$", token_ok()) \
        .route("GET", r"/query$", (200, query_page([])))
    result = run(transport, [{"soql": "SELECT Id FROM Account", "min_records": 1}])
    assert result["results"][0]["name"] == "soql SELECT Id FROM Account"
    assert result["results"][0]["error"] == "0 record(s), at least 1 expected"
    refused = FakeTransport().route("POST", r"/oauth2/token$",
                                    (400, {"error": "invalid_grant", "error_description": "audience is invalid"}))
    result = run(refused, [{"name": "accounts", "soql": "SELECT Id FROM Account"}])
    assert not result.get("failed") and result["passed"] is False
    assert "audience is invalid" in result["login"]["error"]
    assert result["results"][0]["error"] == "not run: the login failed"
    assert not refused.calls_to("/query")


@pytest.mark.parametrize("probe", [{"name": "both", "soql": "SELECT Id FROM User", "rest": "limits"}, {"name": "none"}])
def test_a_probe_needs_exactly_one_target(probe):
    result = run(FakeTransport(), [probe])
    assert result["failed"] and "exactly one of soql, rest or apexrest" in result["msg"]


def test_a_login_as_another_user_fails_the_login_and_runs_no_probe():
    transport = as_user(FakeTransport(), "ops.admin@acme.com").route("POST", r"/oauth2/token$", token_ok()) \
        .route("GET", r"/query$", (200, query_page([{"Id": "001A"}])))
    result = run(transport, [{"name": "accounts", "soql": "SELECT Id FROM Account"}])
    assert result["passed"] is False and result["login"]["passed"] is False
    assert "logged in as ops.admin@acme.com, not as svc.etl@acme.com" in result["login"]["error"]
    assert result["results"][0]["error"] == "not run: the login failed" and not transport.calls_to("/query")


def test_the_user_to_run_as_is_required():
    result = execute(SPEC, dict(PARAMS, username=None, probes=[]),
                     client_factory=lambda p: Client(p, session=session_with(FakeTransport())))[0]
    assert result["failed"] and "username is required" in result["msg"]


@pytest.mark.parametrize("probe, message", [
    ({"soql": "SELECT Id FROM Account", "min_records": "some"}, "probe 1: min_records must be a whole number"),
    ({"soql": "SELECT Id FROM Account", "min_records": -2}, "probe 1: min_records must be a whole number"),
    ({"rest": {"path": "limits"}}, "probe 1: rest must be a string"),
])
def test_malformed_probe_is_a_configuration_error_before_any_call(probe, message):
    transport = FakeTransport()
    result = run(transport, [probe])
    assert result["failed"] and message in result["msg"], result
    assert result["error"]["type"] == "ConfigurationError"
    assert transport.requests == []


def test_an_apex_rest_probe_calls_the_class_as_the_user():
    transport = as_user(FakeTransport()).route("POST", r"/oauth2/token$", token_ok()) \
        .route("GET", r"/services/apexrest/orders/1$", (200, "ok")) \
        .route("GET", r"/services/apexrest/erp/orders$", (403, [
            {"errorCode": "FORBIDDEN", "message": "You do not have access to the Apex class named: ErpOrderService"}]))
    result = run(transport, [{"name": "orders", "apexrest": "/orders/1"}, {"name": "erp", "apexrest": "erp/orders"}])
    outcome = dict((r["name"], r) for r in result["results"])
    assert outcome["orders"]["passed"] and outcome["orders"]["kind"] == "apexrest"
    assert not outcome["erp"]["passed"] and "FORBIDDEN" in outcome["erp"]["error"]
    assert "ErpOrderService" in outcome["erp"]["error"] and result["passed"] is False
    assert [r.path for r in transport.requests if "apexrest" in r.path] == [
        "/services/apexrest/orders/1", "/services/apexrest/erp/orders"]
