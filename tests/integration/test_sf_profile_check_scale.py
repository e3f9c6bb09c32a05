"""sf_profile_check cost on a bigger copy of the example org, read from the emulator's call counts.

The example production org plus 29 more integration users on "Integration Admin" and 41 more
validation rules: the calls of a run must not change with the number of users checked, and the
Tooling Metadata reads must cost one composite per 25 components (42 rules, 1 flow, 1 formula
field: 2 calls). A formula field joining the profile name and an Apex comment naming it are found too.
"""

from __future__ import annotations

import copy
import math

import pytest
import yaml

from test_sf_permission_set_harness import _emulator_fixtures, run_task
from test_sf_profile_check import ORG, REST_CALLS, calls, delta, expected_calls

EXTRA_USERS = 29
EXTRA_RULES = 41
METADATA_COMPONENTS = 1 + EXTRA_RULES + 1 + 1   # the example's rule, the extra rules, the flow, the field


def bigger_estate(path):
    with open(_emulator_fixtures.EXAMPLE_ESTATE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    org = copy.deepcopy([o for o in data["orgs"] if o["name"] == ORG][0])
    org["licenses"]["Salesforce"] = 100
    org["users"].extend({"username": "svc.bulk%02d@acme.example" % n, "profile": "Integration Admin",
                         "last_name": "Bulk %02d" % n, "logins": {"api": 5}} for n in range(EXTRA_USERS))
    org["validation_rules"].extend({"object": "Contact", "name": "Rule_%02d" % n, "active": True,
                                    "formula": "ISBLANK(Email) && LEN(LastName) > %d" % n}
                                   for n in range(EXTRA_RULES))
    # Two more ways to meet a profile: a joined name in a formula field, a name in an Apex comment.
    org["formula_fields"] = [{"object": "Account", "name": "Is_Integration", "type": "Checkbox",
                              "formula": '$Profile.Name = "Integration " & "Admin"'}]
    org["apex_classes"].append({"name": "LegacyNotes", "body": "public class LegacyNotes {\n"
                                "  /* was: skip when 'Integration Admin' runs */\n  public Integer n;\n}\n"})
    path.write_text(yaml.safe_dump({"orgs": [org]}, sort_keys=False))
    return str(path)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    directory = tmp_path_factory.mktemp("big-emulator")
    running = _emulator_fixtures.start_emulator(str(directory / "run"), bigger_estate(directory / "estate.yml"))
    yield running
    running.stop()


def served(emu):
    answer = emu.rest(ORG, "POST", "tooling/composite", json={"compositeRequest": [
        {"method": "GET", "url": "/services/data/v62.0/tooling/query?q=SELECT+Id+FROM+ApexClass+LIMIT+1",
         "referenceId": "probe"}]})
    return answer.status_code == 200


def test_calls_do_not_grow_with_users_and_metadata_costs_one_call_per_25(big, tmp_path):
    tooling_served = served(big)
    metadata_calls = math.ceil(METADATA_COMPONENTS / 25.0)
    # The code listing, the component Metadata (25 a call) and the profiles' Metadata (one call: the
    # users moved share their profile with the target, fewer than five profiles).
    expected = expected_calls(tooling_served, REST_CALLS, tooling=1 + metadata_calls + 1)

    before = calls(big)
    everyone = run_task(big, tmp_path, "sf_profile_check", {})
    spent_all = delta(before, calls(big))

    before = calls(big)
    alone = run_task(big, tmp_path, "sf_profile_check", {"users": ["svc.bulk00@acme.example"]})
    spent_one = delta(before, calls(big))

    print("calls with %d users: %s; with 1 user: %s" % (len(everyone["users"]), spent_all, spent_one))
    assert spent_all == spent_one == expected
    assert everyone["api_usage"]["calls"] == alone["api_usage"]["calls"] == sum(expected.values())
    assert everyone["scanned"]["validation_rules"] == 1 + EXTRA_RULES

    # 4 example users + 29 bulk users checked; the admin and jane stay: 31 to move for 5 seats and 5 PSLs.
    assert len(everyone["users"]) == 4 + EXTRA_USERS
    assert len([u for u in everyone["users"] if u["to_move"]]) == 2 + EXTRA_USERS
    by_code = dict((f["code"], f) for f in everyone["findings"])
    assert by_code["NO_SEATS"]["message"] == \
        "the user license 'Salesforce Integration' has 5 free seat(s) and this run needs 31 (0 of 5 used)"
    assert by_code["PSL_SHORT_OF_SEATS"]["severity"] == "blocker"
    assert everyone["counts"]["ACCESS_GAP"] == 1 + EXTRA_USERS
    # The extra rules name no profile: the live references are the example's three, plus the comment.
    assert everyone["counts"]["PROFILE_NAME_REFERENCE"] == 4
    assert "NO_SEATS" not in alone["counts"]

    def found(code):
        return [(f["severity"], f["component"]["type"], f["component"]["name"], f["component"]["line"], f["message"])
                for f in everyone["findings"] if f["code"] == code]
    assert found("POSSIBLE_PROFILE_REFERENCE") == [
        ("warning", "CustomField", "Account.Is_Integration__c", 1,
         "CustomField Account.Is_Integration__c line 1: joins strings that spell profile 'Integration Admin'")]
    assert ("info", "ApexClass", "LegacyNotes", 2,
            "ApexClass LegacyNotes line 2: names profile 'Integration Admin' (in a comment)") \
        in found("PROFILE_NAME_REFERENCE")
    # The field tests $Profile.Name without naming a profile in one piece: a warning of its own.
    assert [f[1:4] for f in found("PROFILE_CHECK")] == [("CustomField", "Account.Is_Integration__c", 1)]
    assert everyone["scanned"]["formula_fields"] == 1 and everyone["scanned"]["apex"] == 3
