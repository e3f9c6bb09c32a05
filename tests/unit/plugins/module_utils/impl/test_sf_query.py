# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_query: the implementation through runner.execute, and the module's own main() (AnsibleModule path)."""
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from fake_salesforce import INSTANCE, FakeTransport, query_page, rest_error, session_with, token_ok

from ansible_collections.sfops.integration_users.plugins.module_utils import client as client_module
from ansible_collections.sfops.integration_users.plugins.module_utils.client import Client
from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_query import SPEC, strip_attributes
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute
from ansible_collections.sfops.integration_users.plugins.modules import sf_query
from ansible.module_utils.common.parameters import PASS_VARS

PARAMS = {"login_url": INSTANCE, "client_id": "cid", "client_secret": "csecret-value", "api_version": "62.0",
          "retries": 0, "timeout": 5.0, "validate_certs": True}
RECORD = {"attributes": {"type": "User", "url": "/services/data/v62.0/sobjects/User/005A"}, "Id": "005A",
          "Profile": {"attributes": {"type": "Profile", "url": "/x"}, "Name": "System Administrator"},
          "PermissionSetAssignments": {"totalSize": 1, "done": True, "records": [
              {"attributes": {"type": "PermissionSetAssignment"}, "PermissionSetId": "0PSA"}]},
          "Manager": None}


@pytest.fixture
def transport():
    return FakeTransport().route("POST", r"/oauth2/token$", token_ok()) \
        .route("GET", r"/query$", (200, query_page([RECORD])))


def run(transport, **args):
    params = dict(PARAMS, tooling=False, include_attributes=False, batch_size=None)
    params.update(args)
    return execute(SPEC, params, client_factory=lambda p: Client(p, session=session_with(transport)))[0]


def test_records_without_attributes(transport):
    result = run(transport, query="SELECT Id FROM User")
    assert result["changed"] is False and result["total_size"] == 1
    assert result["records"] == [{"Id": "005A", "Profile": {"Name": "System Administrator"},
                                  "PermissionSetAssignments": {"totalSize": 1, "done": True,
                                                               "records": [{"PermissionSetId": "0PSA"}]},
                                  "Manager": None}]
    assert result["api_usage"]["calls"] == 1


def test_attributes_kept_on_request(transport):
    assert run(transport, query="SELECT Id FROM User", include_attributes=True)["records"] == [RECORD]


def test_tooling_and_check_mode(transport):
    transport.route("GET", r"/services/data/v62.0/tooling/query$", (200, query_page([{"attributes": {"type": "ApexClass"}, "Id": "01p"}])))
    transport.routes.insert(0, transport.routes.pop())  # before the plain /query route, which also matches
    params = dict(PARAMS, query="SELECT Id FROM ApexClass", tooling=True, include_attributes=False, batch_size=None)
    result = execute(SPEC, params, check_mode=True,
                     client_factory=lambda p: Client(p, session=session_with(transport)))[0]
    assert result["records"] == [{"Id": "01p"}] and result["changed"] is False


def test_query_error_message(transport):
    transport.routes.pop()
    message = "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\nsObject type 'Foo' is not supported."
    transport.route("GET", r"/query$", rest_error("INVALID_TYPE", message))
    result = run(transport, query="SELECT Id FROM Foo")
    assert result["failed"] is True
    assert result["msg"].startswith("org acme.my.salesforce.com: Salesforce error INVALID_TYPE: SELECT Id FROM Foo")
    assert "object permissions" in result["msg"]


def test_strip_attributes_leaves_scalars():
    assert strip_attributes([1, None, "a"]) == [1, None, "a"]


def test_module_main_runs_the_same_implementation(transport, monkeypatch, capsys):
    monkeypatch.setattr(client_module, "new_session", lambda verify, timeout: session_with(transport))
    args = dict(query="SELECT Id FROM User", login_url=INSTANCE, client_id="cid", client_secret="csecret-value")
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            sf_query.main()
    assert exited.value.code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["records"][0]["Id"] == "005A" and result["changed"] is False
    # ansible-core 2.21 made it the INJECT_INVOCATION setting (off unless the controller passes it on);
    # earlier releases always inject. Module-side only: ansible-test units allows no controller import here.
    if "inject_invocation" not in PASS_VARS:
        assert result["invocation"]["module_args"]["client_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    else:
        assert "invocation" not in result


def test_module_main_fails_cleanly(monkeypatch, capsys):
    refusal = (400, {"error": "invalid_client", "error_description": "invalid client credentials"})
    transport = FakeTransport().route("POST", r"/oauth2/token$", refusal)
    monkeypatch.setattr(client_module, "new_session", lambda verify, timeout: session_with(transport))
    with patch_module_args(dict(query="SELECT Id FROM User", login_url=INSTANCE, client_id="cid",
                                client_secret="csecret-value")):
        with pytest.raises(SystemExit) as exited:
            sf_query.main()
    assert exited.value.code == 1
    output = capsys.readouterr().out
    result = json.loads(output)
    assert "invalid client credentials" in result["msg"] and "csecret-value" not in output


def test_batch_size_is_sent_and_bounded(transport):
    result = run(transport, query="SELECT Id FROM User", batch_size=500)
    assert not result.get("failed")
    assert transport.calls_to("/query")[0].headers["Sforce-Query-Options"] == "batchSize=500"
    result = run(transport, query="SELECT Id FROM User", batch_size=50)
    assert result["failed"] is True and "between 200 and 2000" in result["msg"]
