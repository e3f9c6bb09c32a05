# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ApiError,
    ConfigurationError,
    RequestLimitError,
    SessionExpiredError,
    error_from_rest_body,
    hint_for,
)


def test_render_has_org_user_code_message_and_hint():
    error = ApiError("No seat left.", error_code="LICENSE_LIMIT_EXCEEDED", org="acme.my.salesforce.com",
                     user="svc@acme.com")
    assert error.render() == (
        "org acme.my.salesforce.com, user svc@acme.com: Salesforce error LICENSE_LIMIT_EXCEEDED: No seat left. "
        "What to do: no seat of that license is free: free or buy a seat first")
    assert str(error) == error.render()


def test_render_without_context_or_code():
    assert ConfigurationError("bad", hint="fix it").render() == "bad. What to do: fix it"


def test_with_context_only_fills_missing():
    error = ApiError("x", org="a").with_context(org="b", user="u")
    assert (error.org, error.user) == ("a", "u")


def test_rest_body_mapping():
    limit = error_from_rest_body([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], 403)
    assert isinstance(limit, RequestLimitError) and limit.status == 403
    expired = error_from_rest_body([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], 401)
    assert isinstance(expired, SessionExpiredError)
    dml = error_from_rest_body({"statusCode": "DUPLICATE_VALUE", "message": "dup", "fields": ["X"]}, 400)
    assert (dml.error_code, dml.fields) == ("DUPLICATE_VALUE", ["X"])
    text = error_from_rest_body("<html>bad gateway</html>", 502)
    assert text.error_code is None and "bad gateway" in text.message


def test_hint_matches_oauth_descriptions():
    assert "test.salesforce.com" in hint_for("audience is invalid")
    assert hint_for("invalid_grant: authentication failure") is not None
    assert hint_for("SOMETHING_ELSE") is None
    assert hint_for(None) is None


def test_messages_are_bounded_whatever_the_input():
    from ansible_collections.sfops.integration_users.plugins.module_utils.errors import OperationError
    huge = "u" * 200000 + "@acme.com"
    text = OperationError("no such user " + huge, org="acme-prod", user=huge).render()
    assert len(text) < 3000
    assert "more characters" in text
