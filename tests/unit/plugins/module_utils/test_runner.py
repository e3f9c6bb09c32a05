# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ApiError,
    MissingLibraryError,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.connection import PasswordFlow, auth_flow
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec, execute


class StubClient:
    def __init__(self, params):
        self.flow = auth_flow(params)
        self.api_usage = {"calls": 2, "used": 5, "limit": 100}


PARAMS = {"login_url": "https://acme.my.salesforce.com", "client_id": "c", "client_secret": "s"}


def spec_running(run, **kwargs):
    return ModuleSpec("sf_test", {"name": {"type": "str"}}, run, **kwargs)


def test_result_is_shaped():
    def run(task):
        task.client  # connects lazily
        task.warn("careful")
        return {"changed": 1, "thing": "x"}
    result, task = execute(spec_running(run), PARAMS, client_factory=StubClient)
    assert result == {"changed": True, "thing": "x", "api_usage": {"calls": 2, "used": 5, "limit": 100}}
    assert task.warnings == ["careful"]


def test_no_client_no_calls():
    result, dummy = execute(spec_running(lambda task: {}), PARAMS, client_factory=StubClient)
    assert result == {"changed": False, "api_usage": {"calls": 0, "used": None, "limit": None}}


def test_typed_error_becomes_failure():
    def run(task):
        raise ApiError("No seat.", error_code="LICENSE_LIMIT_EXCEEDED", org="acme", user="svc")
    result, dummy = execute(spec_running(run), PARAMS, client_factory=StubClient)
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("org acme, user svc: Salesforce error LICENSE_LIMIT_EXCEEDED: No seat")
    assert result["error"] == {"org": "acme", "user": "svc", "error_code": "LICENSE_LIMIT_EXCEEDED",
                               "status": None, "type": "ApiError"}


def test_the_inventory_name_comes_first_and_once():
    def run(task):
        raise ApiError("No seat.", error_code="LICENSE_LIMIT_EXCEEDED", org="acme.my.salesforce.com")
    result, dummy = execute(spec_running(run), PARAMS, client_factory=StubClient, org_name="acme-prod")
    assert result["msg"].startswith("org acme-prod (acme.my.salesforce.com): Salesforce error LICENSE_LIMIT_EXCEEDED")
    error = ApiError("x", org="acme-prod (acme.my.salesforce.com)").with_org_name("acme-prod")
    assert error.org == "acme-prod (acme.my.salesforce.com)"
    assert ApiError("x").with_org_name("acme-prod").org == "acme-prod"
    assert ApiError("x", org="acme-prod").with_org_name("acme-prod").org == "acme-prod"


def test_missing_library_gives_standard_message():
    def run(task):
        raise MissingLibraryError("simple-salesforce", ImportError("No module named 'simple_salesforce'"))
    result, dummy = execute(spec_running(run), PARAMS, client_factory=StubClient)
    assert result["failed"] is True
    assert "Failed to import the required Python library (simple-salesforce)" in result["msg"]
    assert "ImportError" in result["exception"]


def test_unexpected_exceptions_are_not_swallowed():
    def run(task):
        raise KeyError("bug")
    with pytest.raises(KeyError):
        execute(spec_running(run), PARAMS, client_factory=StubClient)


def test_password_flow_is_deprecated():
    params = dict(PARAMS, auth="password", username="u", password="p")
    dummy, task = execute(spec_running(lambda task: task.client and {}), params, client_factory=StubClient)
    assert task.deprecations == [{"msg": PasswordFlow.deprecation, "date": "2027-02-20", "version": None,
                                  "collection_name": "sfops.integration_users"}]


def test_check_mode_and_diff_reach_the_implementation():
    seen = {}

    def run(task):
        seen.update(check=task.check_mode, diff=task.diff)
        return {}
    execute(spec_running(run), PARAMS, check_mode=True, diff=True, client_factory=StubClient)
    assert seen == {"check": True, "diff": True}


def test_spec_argument_spec_and_guards():
    spec = spec_running(lambda task: {}, required_if=[("name", "x", ("client_id",))])
    full = spec.full_argument_spec()
    assert "name" in full and "client_secret" in full and full["client_secret"]["no_log"] is True
    assert spec.constraints == {"required_if": [("name", "x", ("client_id",))]}
    with pytest.raises(TypeError):
        ModuleSpec("bad", {"username": {"type": "str"}}, None).full_argument_spec()
    with pytest.raises(TypeError):
        ModuleSpec("bad", {}, None, requires_everything=True)
    assert ModuleSpec("offline", {"a": {}}, None, connects=False).full_argument_spec() == {"a": {}}
