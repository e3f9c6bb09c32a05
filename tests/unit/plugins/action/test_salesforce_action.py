# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared action-plugin base: validation, check mode, no_log masking, warnings, as for a module."""
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import io
from unittest import mock

import pytest

from ansible_collections.sfops.integration_users.plugins.action.sf_query import ActionModule as SfQueryAction
from ansible_collections.sfops.integration_users.plugins.module_utils import runner
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import AuthenticationError
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_query as sf_query_impl
from ansible_collections.sfops.integration_users.plugins.plugin_utils.action import SalesforceAction, injects_invocation

# Asks ansible-core 2.21+ for `invocation` in results (INJECT_INVOCATION); earlier releases always add it.
INVOCATION_ON = {"ansible_inject_invocation": True}
BASE_ARGS = {"login_url": "https://acme.my.salesforce.com", "client_id": "cid", "client_secret": "TopSecret-123"}


def make_action(cls, args, check_mode=False, diff=False):
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    task.action = task.resolved_action = "sfops.integration_users.sf_test"
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    return cls(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock())


class FakeClient:
    def __init__(self, params):
        self.params = params
        self.flow = mock.MagicMock()
        self.api_usage = {"calls": 1, "used": 3, "limit": 10}


def action_for(run, supports_check_mode=True, **spec_options):
    spec = ModuleSpec("sf_test", dict({"name": {"type": "str", "required": True},
                                       "token_note": {"type": "str", "no_log": True}}, **spec_options), run,
                      supports_check_mode=supports_check_mode)

    class Action(SalesforceAction):
        SPEC = spec
    return Action


@pytest.fixture(autouse=True)
def fake_client(monkeypatch):
    # execute() is called without a factory by the action: swap the default Client.
    original = runner.execute

    def execute(spec, params, check_mode=False, diff=False, client_factory=None, org_name=None):
        return original(spec, params, check_mode, diff, client_factory=FakeClient, org_name=org_name)
    monkeypatch.setattr("ansible_collections.sfops.integration_users.plugins.plugin_utils.action.execute", execute)


def test_runs_implementation_with_validated_params_and_masks_secrets():
    seen = {}

    def run(task):
        seen.update(task.params)
        task.client
        task.warn("look out")
        return {"changed": False, "echo": "secret is %s" % task.params["client_secret"]}
    result = make_action(action_for(run), dict(BASE_ARGS, name="x", timeout="7")).run(task_vars=INVOCATION_ON)
    assert seen["timeout"] == 7.0 and seen["retries"] == 3 and seen["api_version"] == "62.0"
    assert result["echo"] == "secret is ********"
    assert result["warnings"] == ["look out"]
    assert result["api_usage"] == {"calls": 1, "used": 3, "limit": 10}
    assert result["invocation"]["module_args"]["client_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "TopSecret-123" not in repr(result)


def test_secret_from_environment_is_masked(monkeypatch):
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00Dtoken!from-env")
    result = make_action(action_for(lambda task: {"seen": task.params["access_token"]}),
                         dict(BASE_ARGS, name="x")).run(task_vars={})
    assert result["seen"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert "00Dtoken!from-env" not in repr(result)


def test_missing_and_unknown_options_fail_like_a_module():
    result = make_action(action_for(lambda task: pytest.fail("must not run")), dict(BASE_ARGS)).run(task_vars={})
    assert result["failed"] is True and result["msg"] == "missing required arguments: name"
    result = make_action(action_for(lambda task: pytest.fail("must not run")),
                         dict(BASE_ARGS, name="x", bogus=1)).run(task_vars={})
    assert result["msg"].startswith("Unsupported parameters for (sfops.integration_users.sf_test) module: bogus.")
    result = make_action(action_for(lambda task: pytest.fail("must not run")),
                         dict(BASE_ARGS, name="x", retries="many")).run(task_vars={})
    assert result["failed"] is True and "retries" in result["msg"]


def test_check_mode_and_diff_are_passed_or_skipped():
    seen = {}

    def run(task):
        seen.update(check=task.check_mode, diff=task.diff)
        return {"changed": True}
    result = make_action(action_for(run), dict(BASE_ARGS, name="x"), check_mode=True, diff=True).run(task_vars={})
    assert seen == {"check": True, "diff": True} and result["changed"] is True
    result = make_action(action_for(lambda task: pytest.fail("must not run"), supports_check_mode=False),
                         dict(BASE_ARGS, name="x"), check_mode=True).run(task_vars={})
    assert result["skipped"] is True and result["changed"] is False


def test_typed_errors_fail_without_secrets():
    def run(task):
        raise AuthenticationError("login refused for secret TopSecret-123", org="acme", error_code="invalid_client")
    result = make_action(action_for(run), dict(BASE_ARGS, name="x")).run(task_vars={})
    assert result["failed"] is True
    assert result["msg"] == "org acme: Salesforce error invalid_client: login refused for secret ********. " \
                            "What to do: check the credentials and the connected app configuration"


@pytest.mark.parametrize("host, named", [
    ("acme-prod", "org acme-prod (acme.my.salesforce.com): "),
    ("localhost", "org acme.my.salesforce.com: "),
    (None, "org acme.my.salesforce.com: "),
])
def test_failures_name_the_org_by_its_inventory_name(host, named):
    """Issue 16: a job over many orgs says which one failed, as the operator names it, and the host reached."""
    def run(task):
        raise AuthenticationError("login refused", org="acme.my.salesforce.com", error_code="invalid_client")
    task_vars = {"inventory_hostname": host} if host else {}
    result = make_action(action_for(run), dict(BASE_ARGS, name="x")).run(task_vars=task_vars)
    assert result["msg"].startswith(named + "Salesforce error invalid_client: login refused"), result["msg"]
    assert result["error"]["org"] == named[len("org "):-2]


def test_deprecations_are_returned_like_a_module():
    # A name, not a literal: ansible-test's pylint (2.17, 2.18) takes any ``deprecate(..., date="...")``
    # call for AnsibleModule.deprecate and wants a collection_name, which ModuleTask.deprecate adds itself.
    retirement = "2027-02-20"

    def run(task):
        task.deprecate("old", date=retirement)
        return {}
    result = make_action(action_for(run), dict(BASE_ARGS, name="x")).run(task_vars={})
    assert result["deprecations"] == [{"msg": "old", "date": "2027-02-20", "version": None,
                                       "collection_name": "sfops.integration_users"}]


def test_real_action_plugins_bind_their_spec():
    from ansible_collections.sfops.integration_users.plugins.action.sf_license_info import ActionModule as Info
    from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_license_info, sf_query
    assert SfQueryAction.SPEC is sf_query.SPEC and Info.SPEC is sf_license_info.SPEC
    assert SfQueryAction._requires_connection is False


def _module_result(args, task_vars):
    """sf_query's main() through AnsibleModule, given the internal arguments ActionBase would add."""
    import json
    from ansible.module_utils.testing import patch_module_args
    from ansible.plugins.action import ActionBase
    from ansible_collections.sfops.integration_users.plugins.modules import sf_query

    class Plain(ActionBase):
        def run(self, tmp=None, task_vars=None):
            raise NotImplementedError
    internal = {}
    make_action(Plain, {})._update_module_args("sf_query", internal, task_vars)
    # Only the setting under test: the rest describes the (mocked) connection.
    internal = {k: v for k, v in internal.items() if k == "_ansible_inject_invocation"}
    output = io.StringIO()
    with patch_module_args(dict(args, **internal)), mock.patch("sys.stdout", output):
        with pytest.raises(SystemExit):
            sf_query.main()
    return json.loads(output.getvalue())


@pytest.mark.parametrize("task_vars", [{}, {"ansible_inject_invocation": True}, {"ansible_inject_invocation": False}],
                         ids=["default", "on", "off"])
def test_invocation_follows_the_core_setting_exactly_as_a_module(task_vars, monkeypatch):
    """Module and action plugin agree on `invocation` whatever the release and the setting."""
    args = dict(BASE_ARGS, query="SELECT Id FROM User")

    def query(task):
        return {"changed": False, "records": []}
    monkeypatch.setattr(sf_query_impl.SPEC, "run", query)
    module = _module_result(args, task_vars)
    action = make_action(SfQueryAction, args).run(task_vars=task_vars)
    assert "failed" not in module and "failed" not in action, (module, action)
    assert ("invocation" in module) == ("invocation" in action), (module, action)
    assert ("invocation" in action) == injects_invocation(task_vars)
    if "invocation" in action:
        assert action["invocation"]["module_args"]["client_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
