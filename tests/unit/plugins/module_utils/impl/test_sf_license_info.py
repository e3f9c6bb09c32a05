# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

from urllib.parse import parse_qs, urlsplit

import pytest

from fake_salesforce import INSTANCE, FakeTransport, query_page, session_with, token_ok

from ansible_collections.sfops.integration_users.plugins.module_utils.client import Client
from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_license_info import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute

PARAMS = {"login_url": INSTANCE, "client_id": "cid", "client_secret": "cs", "api_version": "62.0", "retries": 0,
          "timeout": 5.0, "validate_certs": True, "include_inactive": False}

ROWS = {
    "Organization": [{"Id": "00D000000000001", "Name": "Acme", "OrganizationType": "Enterprise Edition",
                      "IsSandbox": False, "InstanceName": "USA123"}],
    "UserLicense": [{"Id": "100000000000001", "Name": "Salesforce Integration", "MasterLabel": "Salesforce Integration",
                     "Status": "Active", "TotalLicenses": 5, "UsedLicenses": 1},
                    {"Id": "100000000000002", "Name": "Salesforce", "MasterLabel": "Salesforce", "Status": "Active",
                     "TotalLicenses": 20, "UsedLicenses": 18},
                    {"Id": "100000000000003", "Name": "Old", "Status": "Disabled", "TotalLicenses": 0, "UsedLicenses": 0}],
    "PermissionSetLicense": [{"Id": "0PL000000000001", "DeveloperName": "SalesforceAPIIntegrationPsl",
                              "MasterLabel": "Salesforce API Integration", "Status": "Active",
                              "TotalLicenses": 5, "UsedLicenses": 1}],
    "Profile": [{"Id": "00e000000000001", "Name": "Minimum Access - API Only Integrations",
                 "UserLicense": {"Name": "Salesforce Integration"}}],
}


def composite_answer(organization_error=False, profile_pages=False):
    def answer(request, match):
        out = []
        for sub in request.json["compositeRequest"]:
            soql = parse_qs(urlsplit(sub["url"]).query)["q"][0]
            sobject = soql.split(" FROM ")[1].split()[0]
            if sobject == "Organization" and organization_error:
                out.append({"referenceId": sub["referenceId"], "httpStatusCode": 400, "httpHeaders": {},
                            "body": [{"errorCode": "INVALID_TYPE", "message": "sObject type 'Organization' is not supported."}]})
                continue
            page = query_page(ROWS[sobject])
            if sobject == "Profile" and profile_pages:
                page = query_page(ROWS[sobject][:0], done=False, next_url="/services/data/v62.0/query/01gP-2000",
                                  total=1)
            out.append({"referenceId": sub["referenceId"], "httpStatusCode": 200, "httpHeaders": {}, "body": page})
        return 200, {"compositeResponse": out}
    return answer


@pytest.fixture
def transport():
    return FakeTransport().route("POST", r"/oauth2/token$", token_ok())


def run(transport, **extra):
    return execute(SPEC, dict(PARAMS, **extra), client_factory=lambda p: Client(p, session=session_with(transport)))


def test_one_composite_call(transport):
    transport.route("POST", r"/composite$", composite_answer())
    result, task = run(transport)
    assert result["api_usage"]["calls"] == 1 and task.warnings == []
    assert result["changed"] is False
    assert result["org"] == {"id": "00D000000000001EAA", "name": "Acme", "edition": "Enterprise Edition",
                             "is_sandbox": False, "instance": "USA123"}
    assert [u["name"] for u in result["user_licenses"]] == ["Salesforce Integration", "Salesforce"]
    assert result["permission_set_licenses"][0]["free"] == 4
    assert result["integration"]["default_profile"]["name"] == "Minimum Access - API Only Integrations"
    assert result["integration"]["user_license"]["free"] == 4
    assert result["salesforce_seats"] == {"total": 20, "used": 18, "free": 2}


def test_include_inactive(transport):
    transport.route("POST", r"/composite$", composite_answer())
    result, dummy = run(transport, include_inactive=True)
    assert len(result["user_licenses"]) == 3


def test_minimal_user_cannot_read_organization(transport):
    transport.route("POST", r"/composite$", composite_answer(organization_error=True))
    result, task = run(transport)
    assert result["org"] is None and "failed" not in result
    assert task.warnings == ["organization facts unavailable: the connecting user cannot read Organization (INVALID_TYPE)"]


def test_further_pages_fetched(transport):
    transport.route("POST", r"/composite$", composite_answer(profile_pages=True))
    transport.route("GET", r"/query/01gP-2000$", (200, query_page(ROWS["Profile"], total=1)))
    result, dummy = run(transport)
    assert result["api_usage"]["calls"] == 2
    assert result["integration"]["standard_profile"]["id"] == "00e000000000001AAA"


def test_other_subrequest_errors_fail(transport):
    def answer(request, match):
        return 200, {"compositeResponse": [
            {"referenceId": s["referenceId"], "httpStatusCode": 403,
             "body": [{"errorCode": "INSUFFICIENT_ACCESS", "message": "insufficient access rights on object id"}]}
            for s in request.json["compositeRequest"]]}
    transport.route("POST", r"/composite$", answer)
    result, dummy = run(transport)
    assert result["failed"] is True and "INSUFFICIENT_ACCESS" in result["msg"]
    assert "View Setup" in result["msg"]
