# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared fake client keeps the real client's interface: a change of ``Client`` fails here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import inspect

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.client import Client
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ApiError

from fake_client import FakeClient, resolve_references, soql_of

PUBLIC = sorted(name for name, member in inspect.getmembers(Client, inspect.isfunction) if not name.startswith("_"))


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_method_of_the_client_exists_with_its_signature(name):
    assert hasattr(FakeClient, name), "the fake client lacks Client.%s" % name
    assert inspect.signature(getattr(FakeClient, name)) == inspect.signature(getattr(Client, name)), name


def test_subrequests_are_built_as_the_client_builds_them():
    real = Client.query_subrequest(type("C", (), {"data_path": FakeClient.data_path})(), "q", "SELECT Id FROM User")
    fake = FakeClient().query_subrequest("q", "SELECT Id FROM User")
    assert fake == real and soql_of(fake) == "SELECT Id FROM User"


def test_composite_splits_like_the_client_and_raises_its_errors():
    class Org(FakeClient):
        def answer_query(self, soql, reference, tooling):
            return [{"Id": reference}]

        def answer_resource(self, subrequest, tooling):
            return 400, [{"errorCode": "INVALID_FIELD", "message": "no such field"}]

    client = Org()
    bodies = client.composite([client.query_subrequest("q%d" % n, "SELECT Id FROM User") for n in range(7)])
    assert [kind for kind, _refs in client.calls] == ["composite", "composite"]
    assert bodies["q6"]["records"] == [{"Id": "q6"}]
    with pytest.raises(ApiError) as caught:
        client.composite([{"method": "GET", "referenceId": "d", "url": client.data_path("sobjects/X/describe")}])
    assert caught.value.error_code == "INVALID_FIELD" and "subrequest d" in caught.value.message


def test_references_to_earlier_answers_are_resolved():
    answers = {"set": {"body": {"records": [{"Id": "0PS1"}]}}, "new": {"body": {"id": "005X"}}}
    assert resolve_references("sobjects/PermissionSet/@{set.records[0].Id}", answers) == "sobjects/PermissionSet/0PS1"
    assert resolve_references({"AssigneeId": "@{new.id}"}, answers) == {"AssigneeId": "005X"}
    assert resolve_references("@{gone.id}", answers) == "@{gone.id}"
