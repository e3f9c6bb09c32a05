# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import re

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import licenses

UL_INT = "100000000000001"
UL_SF = "100000000000002"


def user_license_rows(integration_total=5, integration_used=2):
    return [
        {"Id": UL_SF, "Name": "Salesforce", "MasterLabel": "Salesforce", "LicenseDefinitionKey": "SFDC",
         "Status": "Active", "TotalLicenses": 100, "UsedLicenses": 87},
        {"Id": UL_INT, "Name": "Salesforce Integration", "MasterLabel": "Salesforce Integration",
         "LicenseDefinitionKey": "PID_Salesforce_Integration", "Status": "Active",
         "TotalLicenses": integration_total, "UsedLicenses": integration_used},
        {"Id": "100000000000003", "Name": "Chatter Free", "Status": "Disabled", "TotalLicenses": 10, "UsedLicenses": 0},
    ]


PSL_ROWS = [{"Id": "0PL000000000001", "DeveloperName": "SalesforceAPIIntegrationPsl", "MasterLabel": "Salesforce API Integration",
             "Status": "Active", "TotalLicenses": 5, "UsedLicenses": 1, "ExpirationDate": None}]


def profile(pid, name, license_name=None, license_id=None):
    row = {"Id": pid, "Name": name, "UserLicenseId": license_id, "PermissionsApiUserOnly": True,
           "PermissionsApiEnabled": True}
    row["UserLicense"] = {"attributes": {"type": "UserLicense"}, "Name": license_name} if license_name else None
    return row


def test_seat_tables():
    seats = licenses.user_license_seats(user_license_rows())
    assert [s["name"] for s in seats] == ["Salesforce", "Salesforce Integration"]  # disabled one left out
    assert seats[1]["free"] == 3 and seats[1]["id"] == UL_INT + "AAA"
    assert len(licenses.user_license_seats(user_license_rows(), active_only=False)) == 3
    psl = licenses.psl_seats(PSL_ROWS)[0]
    assert (psl["name"], psl["developer_name"], psl["free"]) == ("Salesforce API Integration", "SalesforceAPIIntegrationPsl", 4)
    assert licenses.full_license_seats(user_license_rows()) == {"total": 100, "used": 87, "free": 13}


def test_over_used_license_reports_zero_free():
    seats = licenses.user_license_seats(user_license_rows(integration_total=5, integration_used=6))
    assert seats[1]["free"] == 0


def test_standard_profile_is_the_default_and_look_alikes_are_reported():
    profiles = [profile("00e000000000001", "Minimum Access - API Only Integrations", "Salesforce Integration"),
                profile("00e000000000002", "Salesforce API Only System Integrations", "Salesforce Integration"),
                profile("00e000000000003", "Integration Clone", "Salesforce Integration"),
                profile("00e000000000004", "API Only Integration User", "Salesforce")]
    summary = licenses.integration_summary(user_license_rows(), PSL_ROWS, profiles)
    assert summary["available"] is True
    assert summary["user_license"]["free"] == 3 and summary["psl"]["free"] == 4
    assert summary["standard_profile"]["name"] == licenses.STANDARD_PROFILE
    assert summary["deprecated_profile"]["name"] == licenses.DEPRECATED_PROFILE
    assert [p["name"] for p in summary["clones"]] == ["Integration Clone"]
    assert [(p["name"], p["license"]) for p in summary["look_alikes"]] == [("API Only Integration User", "Salesforce")]
    assert summary["default_profile"]["id"] == "00e000000000001AAA"
    assert "standard profile" in summary["default_profile"]["reason"]
    text = " ".join(summary["findings"])
    assert "deprecated" in text and "Integration Clone" in text and "still consume" in text


def test_license_found_through_user_license_id_when_not_nested():
    rows = [profile("00e000000000001", "Minimum Access - API Only Integrations", license_id=UL_INT)]
    summary = licenses.integration_summary(user_license_rows(), PSL_ROWS, rows)
    assert summary["standard_profile"]["license"] == "Salesforce Integration"


def test_single_clone_becomes_the_default_when_standard_is_missing():
    summary = licenses.integration_summary(user_license_rows(), PSL_ROWS,
                                           [profile("00e000000000003", "Acme API", "Salesforce Integration")])
    assert summary["default_profile"]["name"] == "Acme API"
    assert "standard profile is missing" in summary["default_profile"]["reason"]


def test_several_clones_and_no_standard_means_no_default():
    summary = licenses.integration_summary(user_license_rows(), PSL_ROWS, [
        profile("00e000000000003", "Acme API A", "Salesforce Integration"),
        profile("00e000000000005", "Acme API B", "Salesforce Integration")])
    assert summary["default_profile"]["id"] is None
    assert "name the profile" in summary["default_profile"]["reason"]
    assert any(f.startswith("no default target profile") for f in summary["findings"])


def test_only_deprecated_profile():
    summary = licenses.integration_summary(user_license_rows(), PSL_ROWS, [
        profile("00e000000000002", "Salesforce API Only System Integrations", "Salesforce Integration")])
    assert summary["default_profile"]["name"] == licenses.DEPRECATED_PROFILE
    assert summary["clones"] == []


def test_org_without_the_license():
    rows = [r for r in user_license_rows() if r["Name"] != "Salesforce Integration"]
    summary = licenses.integration_summary(rows, [], [profile("00e000000000004", "API Only Integration User", "Salesforce")])
    assert summary["available"] is False and summary["user_license"] is None and summary["psl"] is None
    assert summary["default_profile"] == {"id": None, "name": None,
                                          "reason": "the org has no 'Salesforce Integration' license"}
    assert len(summary["look_alikes"]) == 1


def test_no_free_seat_finding():
    summary = licenses.integration_summary(user_license_rows(5, 5), PSL_ROWS, [])
    assert any("no free 'Salesforce Integration' seat (5 of 5 used)" in f for f in summary["findings"])


def test_profile_query_escapes_the_license_name():
    assert "UserLicense.Name = 'Salesforce Integration'" in licenses.PROFILE_SOQL


def _like_matches(pattern, value):
    # SOQL LIKE is case-insensitive; these patterns hold only letters, spaces and % wildcards.
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("%")), value, re.IGNORECASE) is not None


@pytest.mark.parametrize("query", [licenses.PROFILE_SOQL, licenses.profile_soql(names=["Named"], ids=["00e000000000009"])],
                         ids=["every module", "with named profiles"])
def test_profile_queries_read_every_name_the_look_alike_rule_flags(query):
    patterns = re.findall(r"Name LIKE '([^']*)'", query)
    assert "UserLicense.Name = 'Salesforce Integration'" in query
    for name in ("API Only Sync", "API-Only Sync", "API_Only Batch", "Legacy api only", "Integration Admin"):
        assert licenses.API_ONLY_NAME.search(name) or licenses.LOOK_ALIKE_PATTERN.search(name)
        assert any(_like_matches(pattern, name) for pattern in patterns), name
