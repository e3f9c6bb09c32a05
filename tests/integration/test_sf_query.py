# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_query against the emulator, through ansible-playbook."""

from __future__ import annotations

from test_connection import FLOWS, play

ORG = "acme-prod"


def query_task(name, **args):
    return {"name": name, "sfops.integration_users.sf_query": args, "register": "out", "ignore_errors": True}


def test_queries(emulator, playbook):
    tasks = [
        query_task("relationship", query="SELECT Username, Profile.Name, Profile.UserLicense.Name FROM User "
                                         "WHERE Username = 'svc.etl@acme.example'"),
        query_task("with attributes", query="SELECT Id FROM User WHERE Username = 'svc.etl@acme.example'",
                   include_attributes=True),
        query_task("count", query="SELECT COUNT() FROM Account"),
        query_task("tooling", query="SELECT Name FROM ApexClass", tooling=True),
        query_task("paged", query="SELECT Id FROM Contact", batch_size=200),
        query_task("bad field", query="SELECT Nope FROM User"),
        query_task("bad object", soql="SELECT Id FROM Nope__c"),
    ]
    for check in (False, True):
        run = playbook(emulator, play(FLOWS["client_credentials"], tasks), check=check)
        assert run.result("relationship", ORG)["records"] == [
            {"Username": "svc.etl@acme.example", "Profile": {"Name": "API Only", "UserLicense": {"Name": "Salesforce"}}}]
        assert run.result("relationship", ORG)["changed"] is False
        with_attributes = run.result("with attributes", ORG)["records"][0]
        assert with_attributes["attributes"]["type"] == "User"
        assert with_attributes["attributes"]["url"].endswith("/sobjects/User/" + with_attributes["Id"])
        count = run.result("count", ORG)
        assert (count["total_size"], count["records"]) == (25, [])
        assert {"Name": "AccountTriggerHandler"} in run.result("tooling", ORG)["records"]
        assert run.result("paged", ORG)["total_size"] == 50 and len(run.result("paged", ORG)["records"]) == 50
        bad_field = run.result("bad field", ORG)
        assert bad_field["failed"] is True
        assert bad_field["msg"].startswith("org acme-prod (127.0.0.1): Salesforce error INVALID_FIELD:")
        assert "ERROR at Row:1:Column:8" in bad_field["msg"] and "What to do: check the field names" in bad_field["msg"]
        bad_object = run.result("bad object", ORG)
        assert "INVALID_TYPE" in bad_object["msg"] and "sObject type 'Nope__c' is not supported" in bad_object["msg"]
