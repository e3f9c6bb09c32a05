"""API details the Salesforce CLI and jsforce depend on (issue 14): column metadata, explain plans,
sObject Collections retrieve by POST, identity by oauth_token, describe attributes, replication resources,
Salesforce's text for a duplicate permission set assignment."""
import datetime
from urllib.parse import quote

from conftest import API

PROD = "acme-prod"


def _columns(emulator, soql, tooling=False):
    answer = emulator.rest(PROD, "GET", ("tooling/" if tooling else "") + "query",
                           params={"q": soql, "columns": "true"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _by_name(columns):
    return {column["columnName"]: column for column in columns}


def test_columns_true_answers_column_metadata_not_records(emulator):
    body = _columns(emulator, "SELECT Id, Name, NumberOfEmployees, Owner.Name, Owner.Email FROM Account")
    assert sorted(body) == ["columnMetadata", "entityName", "groupBy", "idSelected", "keyPrefix"]
    assert (body["entityName"], body["groupBy"], body["idSelected"], body["keyPrefix"]) == ("Account", False, True, "001")
    columns = _by_name(body["columnMetadata"])
    assert list(columns) == ["Id", "Name", "NumberOfEmployees", "Owner"]
    assert columns["Name"] == {"aggregate": False, "apexType": "String", "booleanType": False, "columnName": "Name",
                               "custom": False, "displayName": "Name", "foreignKeyName": None, "insertable": False,
                               "joinColumns": [], "numberType": False, "textType": True, "updatable": False}
    assert columns["NumberOfEmployees"]["apexType"] == "Integer" and columns["NumberOfEmployees"]["numberType"]
    owner = columns["Owner"]
    assert owner["foreignKeyName"] == "OwnerId" and owner["aggregate"] is False
    assert [c["columnName"] for c in owner["joinColumns"]] == ["Name", "Email"]


def test_columns_of_child_subquery_aggregates_and_group_by(emulator):
    body = _columns(emulator, "SELECT Name, (SELECT LastName FROM Contacts) FROM Account")
    assert body["idSelected"] is False
    contacts = _by_name(body["columnMetadata"])["Contacts"]
    assert contacts["aggregate"] is True and [c["columnName"] for c in contacts["joinColumns"]] == ["LastName"]
    body = _columns(emulator, "SELECT Industry, COUNT(Id), MAX(NumberOfEmployees) FROM Account GROUP BY Industry")
    assert body["groupBy"] is True
    columns = _by_name(body["columnMetadata"])
    assert columns["expr0"]["aggregate"] is True and columns["expr0"]["displayName"] == "count(Id)"
    assert columns["expr1"]["displayName"] == "max(NumberOfEmployees)"
    assert columns["Industry"]["aggregate"] is False


def test_columns_on_tooling_and_bad_query_fails_as_the_query(emulator):
    body = _columns(emulator, "SELECT Name, Body FROM ApexClass", tooling=True)
    assert body["entityName"] == "ApexClass" and [c["columnName"] for c in body["columnMetadata"]] == ["Name", "Body"]
    answer = emulator.rest(PROD, "GET", "query", params={"q": "SELECT Nope FROM Account", "columns": "true"})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALID_FIELD"


def test_explain_answers_plans(emulator):
    total = emulator.query(PROD, "SELECT COUNT() FROM Account")["totalSize"]
    answer = emulator.rest(PROD, "GET", "query", params={"explain": "SELECT Id FROM Account WHERE Industry = 'Energy'"})
    assert answer.status_code == 200, answer.text
    [plan] = answer.json()["plans"]
    energy = emulator.query(PROD, "SELECT COUNT() FROM Account WHERE Industry = 'Energy'")["totalSize"]
    assert plan["leadingOperationType"] == "TableScan" and plan["sobjectType"] == "Account"
    assert plan["sobjectCardinality"] == total and plan["cardinality"] == energy
    assert plan["notes"][0]["fields"] == ["Industry"]
    some_id = emulator.query(PROD, "SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    answer = emulator.rest(PROD, "GET", "query", params={"explain": "SELECT Name FROM Account WHERE Id = '%s'" % some_id})
    [plan] = answer.json()["plans"]
    assert plan["leadingOperationType"] == "Index" and plan["fields"] == ["Id"] and plan["cardinality"] == 1
    answer = emulator.rest(PROD, "GET", "query", params={"explain": "SELECT FROM"})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_collections_retrieve_by_post(emulator):
    ids = [r["Id"] for r in emulator.query(PROD, "SELECT Id FROM Account ORDER BY Name LIMIT 3")["records"]]
    answer = emulator.rest(PROD, "POST", "composite/sobjects/Account",
                           json={"ids": ids + ["001000000000000AAA"], "fields": ["Id", "Name"]})
    assert answer.status_code == 200, answer.text
    records = answer.json()
    assert [r["Id"] for r in records[:3]] == ids and records[3] is None
    assert set(records[0]) == {"attributes", "Id", "Name"}
    answer = emulator.rest(PROD, "POST", "composite/sobjects/Account",
                           json={"ids": ["001000000000000AAA"] * 2001, "fields": ["Id"]})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_identity_url_takes_oauth_token_parameter(emulator):
    org = emulator.org(PROD)
    url = "%s/id/%s/%s" % (emulator.base_url, org["org_id"], org["admin"]["user_id"])
    answer = emulator.http.get(url + "?oauth_token=" + quote(org["admin"]["access_token"]))
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == org["admin"]["username"]
    assert emulator.http.get(url + "?oauth_token=nonsense").status_code == 403


def test_field_describe_attributes_and_picklist_values(emulator):
    fields = {f["name"]: f for f in emulator.rest(PROD, "GET", "sobjects/Account/describe").json()["fields"]}
    industry = fields["Industry"]
    assert {"picklistValues", "soapType", "nameField", "sortable", "precision", "scale", "externalId"} <= set(industry)
    assert (industry["precision"], industry["scale"], industry["soapType"]) == (0, 0, "xsd:string")
    values = [v["value"] for v in industry["picklistValues"]]
    assert {"Energy", "Technology", "Retail"} <= set(values) and industry["picklistValues"][0]["active"] is True
    assert fields["Name"]["nameField"] is True and fields["Industry"]["nameField"] is False
    assert fields["Id"]["soapType"] == "tns:ID" and fields["Description"]["sortable"] is False
    amount = {f["name"]: f for f in emulator.rest(PROD, "GET", "sobjects/Opportunity/describe").json()["fields"]}["Amount"]
    assert (amount["precision"], amount["scale"]) == (18, 2)
    assert fields["Name"]["picklistValues"] == []


def test_global_describe_has_deprecated_and_hidden(emulator):
    sobjects = emulator.rest(PROD, "GET", "sobjects").json()["sobjects"]
    assert sobjects and all(entry["deprecatedAndHidden"] is False for entry in sobjects)


def _iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_updated_and_deleted_replication_resources(fresh):
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)
    created = fresh.rest(PROD, "POST", "sobjects/Account", json={"Name": "Replicated", "Industry": "Energy"}).json()["id"]
    gone = fresh.rest(PROD, "POST", "sobjects/Account", json={"Name": "Gone", "Industry": "Energy"}).json()["id"]
    assert fresh.rest(PROD, "DELETE", "sobjects/Account/" + gone).status_code == 204
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2)
    window = {"start": _iso(start), "end": _iso(end)}
    updated = fresh.rest(PROD, "GET", "sobjects/Account/updated/", params=window)
    assert updated.status_code == 200, updated.text
    assert created in updated.json()["ids"] and gone not in updated.json()["ids"]
    assert updated.json()["latestDateCovered"] <= _iso(end).replace("+00:00", ".000+0000")
    deleted = fresh.rest(PROD, "GET", "sobjects/Account/deleted/", params=window)
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert [r["id"] for r in body["deletedRecords"]] == [gone]
    assert {"earliestDateAvailable", "latestDateCovered"} <= set(body)
    answer = fresh.rest(PROD, "GET", "sobjects/Account/updated/", params={"start": "yesterday", "end": _iso(end)})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    # Not a record Id: never a record lookup.
    assert fresh.rest(PROD, "GET", "sobjects/Account/deleted/").status_code == 400


def test_duplicate_permission_set_assignment_text(fresh):
    assignee = fresh.query(PROD, "SELECT Id FROM User WHERE Username = 'svc.mulesoft@acme.example'")["records"][0]["Id"]
    pset = fresh.query(PROD, "SELECT Id FROM PermissionSet WHERE Name = 'Sales_Ops'")["records"][0]["Id"]
    answer = fresh.rest(PROD, "POST", "sobjects/PermissionSetAssignment",
                        json={"AssigneeId": assignee, "PermissionSetId": pset})
    assert answer.status_code == 400
    [error] = answer.json()
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert error["message"].startswith("Duplicate PermissionSetAssignment")


def test_apis_not_emulated_answer_a_salesforce_404(emulator):
    # What a real client sees for each API the emulator does not serve: one clean JSON 404, never HTML.
    token = {"Authorization": "Bearer " + emulator.token(PROD)}
    base = emulator.base_url
    calls = [("POST", "/services/Soap/u/%s" % API[1:]),                        # SOAP login (jsforce loginBySoap)
             ("POST", "/services/Soap/m/%s" % API[1:]),                        # Metadata API
             ("POST", "/services/async/%s/job" % API[1:]),                     # Bulk API 1.0
             ("POST", "/services/data/%s/jobs/ingest" % API),                  # Bulk API 2.0
             ("GET", "/services/data/%s/jobs/query" % API),
             ("GET", "/services/data/%s/search?q=FIND+%%7BAcme%%7D" % API),    # SOSL
             ("GET", "/services/data/%s/recent" % API),
             ("POST", "/cometd/%s" % API[1:])]                                 # streaming
    for method, path in calls:
        answer = emulator.http.request(method, base + path, headers=token, data=b"<x/>")
        assert answer.status_code == 404, (method, path, answer.status_code)
        assert answer.headers["Content-Type"].startswith("application/json"), path
        assert answer.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}], path
