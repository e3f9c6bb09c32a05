"""Validation rules of the estate are enforced on API writes, with the running user's profile."""
import datetime
import os

import pytest
import yaml

from sfemu.errors import SFError
from sfemu.estate import Estate
from sfemu.store_formula import FormulaError, evaluate, parse

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "estates", "example.yml")
NOW = datetime.datetime(2026, 11, 20, 12, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("formula, values, expected", [
    ("AND(ISBLANK(Industry), $Profile.Name <> 'Integration Admin')", {"Industry": None, "$Profile.Name": "X"}, True),
    ("AND(ISBLANK(Industry), $Profile.Name <> 'Integration Admin')",
     {"Industry": None, "$Profile.Name": "Integration Admin"}, False),
    ("AND(ISBLANK(TEXT(Industry)), $Profile.Name <> 'A')", {"Industry": "", "$Profile.Name": "B"}, True),
    ('$Profile.Name = "Integration Admin" || Amount > 10', {"$Profile.Name": "x", "Amount": 11.0}, True),
    ("NOT(ISPICKVAL(StageName, 'Closed Won')) && Amount >= 100 * 2",
     {"StageName": "Prospecting", "Amount": 200.0}, True),
    ("IF(BEGINS(Name, 'Test'), CONTAINS(Name, 'x'), false)", {"Name": "Test box"}, True),
    ("Name & '!' = 'Hi!'", {"Name": "Hi"}, True),
])
def test_formula_subset(formula, values, expected):
    assert evaluate(parse(formula), lambda name: values[name]) is expected


@pytest.mark.parametrize("formula", ["VLOOKUP(a, b, c)", "AND(", "1 +", "'unterminated"])
def test_formulas_outside_the_subset_are_refused(formula):
    with pytest.raises(FormulaError):
        evaluate(parse(formula), lambda name: None)


@pytest.fixture
def org():
    with open(EXAMPLE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    spec = data["orgs"][0]
    spec["connected_apps"] = []
    for profile in spec["profiles"]:          # no apps left to pre-authorize
        (profile.get("setup_access") or {}).pop("connected_apps", None)
    for user in spec["users"]:
        user.pop("oauth_tokens", None)
    spec["validation_rules"].append({
        "object": "Contact", "name": "Bypass_Aware", "active": True, "error_field": "Email",
        "error_message": "Email required unless bypassed",
        "formula": "AND(ISBLANK(Email), NOT($Setup.Trigger_Bypass__c.Disable_All__c))"})
    spec["validation_rules"].append({"object": "Contact", "name": "Unknown_Function", "active": True,
                                     "formula": "REGEX(Email, '.*')"})
    spec["validation_rules"].append({"object": "Contact", "name": "Inactive", "active": False, "formula": "true"})
    return Estate.from_dict(data, seed=1, now=NOW).orgs["acme-prod"]


def test_a_profile_dependent_rule_blocks_other_profiles(org):
    admin = org.admin_user
    with pytest.raises(SFError) as info:
        org.create("Account", {"Name": "No industry"}, admin)
    assert (info.value.status, info.value.error_code) == (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
    assert info.value.message == "Require Industry failed validation"
    org.create("Account", {"Name": "With industry", "Industry": "Energy"}, admin)
    # The integration's profile is exempt... until the migration moves it to another profile.
    mule = org.find_user("svc.mulesoft@acme.example")
    org.create("Account", {"Name": "By the integration"}, mule)
    account = next(a for a in org.rows("Account") if a["Name"] == "By the integration")
    with pytest.raises(SFError):
        org.update("Account", account["Id"], {"Description": "edited by admin"}, admin)


def test_setup_globals_read_the_hierarchy_custom_setting(org):
    admin, mule = org.admin_user, org.find_user("svc.mulesoft@acme.example")
    with pytest.raises(SFError) as info:
        org.create("Contact", {"LastName": "No email"}, admin)
    assert info.value.fields == ["Email"] and info.value.message == "Email required unless bypassed"
    # Integration Admin's profile-level row sets Disable_All__c: the rule lets its users through.
    org.create("Contact", {"LastName": "No email"}, mule)
