"""REST shapes of the HTTPS server against the example estate (real subprocess, real TLS)."""
import re

import pytest

from conftest import API

PROD, UAT = "acme-prod", "acme-uat"


def _usage(answer):
    found = re.fullmatch(r"api-usage=(\d+)/(\d+)", answer.headers["Sforce-Limit-Info"])
    assert found, answer.headers
    return int(found.group(1)), int(found.group(2))


# Service resources --------------------------------------------------------------------------------
def test_versions_list_needs_no_session(emulator):
    answer = emulator.http.get(emulator.base_url + "/services/data/")
    assert answer.status_code == 200
    versions = answer.json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert versions[-1]["version"] == emulator.ready["api_version"]


def test_resources_relative_except_identity(emulator):
    answer = emulator.rest(PROD, "GET", "")
    assert answer.status_code == 200
    body = answer.json()
    assert body["query"] == "/services/data/%s/query" % API
    assert body["sobjects"] == "/services/data/%s/sobjects" % API
    assert body["identity"].startswith(emulator.base_url + "/id/" + emulator.org(PROD)["org_id"])


def test_unknown_version_and_resource_are_not_found(emulator):
    for path in ("/services/data/v12.0/limits", "/services/data/%s/nothing" % API, "/nothing"):
        answer = emulator.http.get(emulator.base_url + path,
                                   headers={"Authorization": "Bearer " + emulator.token(PROD)})
        assert answer.status_code == 404, path
        assert answer.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"},
                                     {"Authorization": "Bearer 00Dxxxxxxxxxxxx!AQbogus"}])
def test_bad_session_is_401(emulator, headers):
    answer = emulator.http.get("%s/services/data/%s/limits" % (emulator.base_url, API), headers=headers)
    assert answer.status_code == 401
    assert answer.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_token_of_one_org_reaches_only_that_org(emulator):
    prod = emulator.query(PROD, "SELECT Id FROM Organization")["records"][0]["Id"]
    uat = emulator.query(UAT, "SELECT Id FROM Organization")["records"][0]["Id"]
    assert prod == emulator.org(PROD)["org_id"]
    assert uat == emulator.org(UAT)["org_id"]
    assert prod != uat


# API accounting -------------------------------------------------------------------------------------
def test_limit_header_counts_each_call_and_limits_agree(emulator):
    first = _usage(emulator.rest(PROD, "GET", "sobjects"))
    limits = emulator.rest(PROD, "GET", "limits")
    used, maximum = _usage(limits)
    assert used == first[0] + 1 and maximum == first[1]
    assert limits.json()["DailyApiRequests"] == {"Max": maximum, "Remaining": maximum - used}


def test_token_calls_do_not_count(emulator):
    before = _usage(emulator.rest(PROD, "GET", "limits"))[0]
    admin = emulator.org(PROD)["admin"]
    emulator.http.post(emulator.base_url + "/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": admin["client_id"], "client_secret": admin["client_secret"]})
    assert _usage(emulator.rest(PROD, "GET", "limits"))[0] == before + 1


def test_calls_counted_by_endpoint(fresh):
    fresh.rest(PROD, "GET", "query", params={"q": "SELECT Id FROM User"})
    fresh.rest(PROD, "GET", "query", params={"q": "SELECT Id FROM Profile"})
    fresh.rest(PROD, "GET", "sobjects/User/describe")
    calls = fresh.admin("GET", "orgs/%s/calls" % PROD).json()
    assert calls["calls"]["GET /query"] == 2
    assert calls["calls"]["GET /sobjects/{type}/describe"] == 1
    assert calls["api_used"] == sum(calls["calls"].values())


def test_spent_allocation_is_403_and_not_counted(fresh):
    maximum = _usage(fresh.rest(PROD, "GET", "limits"))[1]
    assert fresh.admin("POST", "orgs/%s/api-usage" % PROD, json={"used": maximum - 1}).status_code == 200
    assert fresh.rest(PROD, "GET", "limits").status_code == 200
    answer = fresh.rest(PROD, "GET", "limits")
    assert answer.status_code == 403
    assert answer.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert _usage(answer) == (maximum, maximum)
    assert fresh.rest(UAT, "GET", "limits").status_code == 200      # other orgs have their own allocation


# Queries and paging ---------------------------------------------------------------------------------
def test_query_envelope_and_record_attributes(emulator):
    body = emulator.query(PROD, "SELECT Id, Username, Profile.Name FROM User ORDER BY Username")
    assert list(body) == ["totalSize", "done", "records"]
    assert body["done"] is True and body["totalSize"] == len(body["records"]) >= 5
    record = body["records"][0]
    assert record["attributes"] == {"type": "User", "url": "/services/data/%s/sobjects/User/%s" % (API, record["Id"])}
    assert len(record["Id"]) == 18
    assert record["Profile"]["attributes"]["type"] == "Profile"


def test_query_error_echoes_statement(emulator):
    answer = emulator.rest(PROD, "GET", "query", params={"q": "SELECT Id FROM Nope"})
    assert answer.status_code == 400
    [error] = answer.json()
    assert error["errorCode"] == "INVALID_TYPE" and "fields" not in error
    assert error["message"].startswith("\nSELECT Id FROM Nope\n")


def test_missing_q_is_malformed(emulator):
    answer = emulator.rest(PROD, "GET", "query")
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "MALFORMED_QUERY"


def _create_contacts(emulator, count):
    for start in range(0, count, 200):
        records = [{"attributes": {"type": "Contact"}, "LastName": "Paged %04d" % n}
                   for n in range(start, min(count, start + 200))]
        answer = emulator.rest(PROD, "POST", "composite/sobjects", json={"records": records})
        assert answer.status_code == 200, answer.text
        assert all(result["success"] for result in answer.json()), answer.text


def test_paging_with_batch_size_and_cursor(fresh):
    _create_contacts(fresh, 450)
    soql = "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Paged%' ORDER BY LastName"
    answer = fresh.rest(PROD, "GET", "query", params={"q": soql}, headers={"Sforce-Query-Options": "batchSize=200"})
    page = answer.json()
    assert list(page) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert (page["totalSize"], page["done"], len(page["records"])) == (450, False, 200)
    assert re.fullmatch(r"/services/data/%s/query/01g[0-9A-Za-z]{15}-200" % API, page["nextRecordsUrl"])
    names = [r["LastName"] for r in page["records"]]
    while not page["done"]:
        before = _usage(answer)[0]
        answer = fresh.rest(PROD, "GET", fresh.base_url + page["nextRecordsUrl"])
        assert answer.status_code == 200
        assert _usage(answer)[0] == before + 1                       # each page is one call
        page = answer.json()
        names += [r["LastName"] for r in page["records"]]
    assert "nextRecordsUrl" not in page
    assert names == ["Paged %04d" % n for n in range(450)]


def test_default_page_is_2000_and_bad_locator_refused(emulator):
    page = emulator.query(PROD, "SELECT Id FROM LoginHistory")
    assert page["done"] is (page["totalSize"] <= 2000)
    answer = emulator.rest(PROD, "GET", "query/01g000000000000AAA-2000")
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_cursor_of_another_org_is_refused(fresh):
    _create_contacts(fresh, 250)
    page = fresh.rest(PROD, "GET", "query", params={"q": "SELECT Id FROM Contact"},
                      headers={"Sforce-Query-Options": "batchSize=200"}).json()
    answer = fresh.rest(UAT, "GET", fresh.base_url + page["nextRecordsUrl"])
    assert answer.status_code == 400


def test_tooling_query_envelope(emulator):
    answer = emulator.rest(PROD, "GET", "tooling/query", params={"q": "SELECT Id, Name FROM ApexClass"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body) == ["size", "totalSize", "done", "queryLocator", "entityTypeName", "records"]
    assert body["size"] == body["totalSize"] >= 1
    assert body["queryLocator"] is None and body["entityTypeName"] == "ApexClass"
    assert body["records"][0]["attributes"]["url"].startswith("/services/data/%s/tooling/sobjects/ApexClass/" % API)


# sObjects -------------------------------------------------------------------------------------------
def test_global_and_object_describe(emulator):
    sobjects = emulator.rest(PROD, "GET", "sobjects").json()["sobjects"]
    assert {"User", "Account", "PermissionSetAssignment"} <= {s["name"] for s in sobjects}
    described = emulator.rest(PROD, "GET", "sobjects/User/describe").json()
    assert described["name"] == "User" and described["deletable"] is False
    basic = emulator.rest(PROD, "GET", "sobjects/User").json()
    assert basic["objectDescribe"]["name"] == "User" and basic["recentItems"] == []
    assert emulator.rest(PROD, "GET", "sobjects/Nope/describe").status_code == 404


def test_record_crud_shapes(fresh):
    created = fresh.rest(PROD, "POST", "sobjects/Account/", json={"Name": "Shapes Inc", "Industry": "Energy"})
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": []} and len(body["id"]) == 18
    record_id = body["id"]

    full = fresh.rest(PROD, "GET", "sobjects/Account/" + record_id[:15])          # 15-char Id accepted
    assert full.status_code == 200
    record = full.json()
    assert record["Id"] == record_id and record["Name"] == "Shapes Inc"
    assert record["attributes"]["type"] == "Account"
    assert None in record.values()                                                  # nulls included

    some = fresh.rest(PROD, "GET", "sobjects/Account/" + record_id, params={"fields": "Name,Industry"}).json()
    assert (some["Name"], some["Industry"]) == ("Shapes Inc", "Energy")

    patched = fresh.rest(PROD, "PATCH", "sobjects/Account/" + record_id, json={"Industry": "Retail"})
    assert (patched.status_code, patched.content) == (204, b"")
    assert fresh.rest(PROD, "GET", "sobjects/Account/" + record_id).json()["Industry"] == "Retail"

    deleted = fresh.rest(PROD, "DELETE", "sobjects/Account/" + record_id)
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = fresh.rest(PROD, "GET", "sobjects/Account/" + record_id)
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "NOT_FOUND"


def test_dml_error_is_array_with_fields(emulator):
    answer = emulator.rest(PROD, "POST", "sobjects/Account", json={"Industry": "Energy"})
    assert answer.status_code == 400
    [error] = answer.json()
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING" and "Name" in error["fields"]


def test_users_cannot_be_deleted(emulator):
    user = emulator.org(PROD)["admin"]["user_id"]
    answer = emulator.rest(PROD, "DELETE", "sobjects/User/" + user)
    assert answer.status_code >= 400


def test_malformed_json_body(emulator):
    answer = emulator.rest(PROD, "POST", "sobjects/Account", data=b"{not json",
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_tooling_sobjects(emulator):
    record = emulator.rest(PROD, "GET", "tooling/query", params={"q": "SELECT Id FROM ApexClass LIMIT 1"}).json()
    class_id = record["records"][0]["Id"]
    answer = emulator.rest(PROD, "GET", "tooling/sobjects/ApexClass/" + class_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["attributes"]["url"] == "/services/data/%s/tooling/sobjects/ApexClass/%s" % (API, class_id)
    assert emulator.rest(PROD, "GET", "tooling/sobjects").status_code == 200


# Composite --------------------------------------------------------------------------------------------
def _sub(method, path, ref, body=None):
    sub = {"method": method, "url": "/services/data/%s/%s" % (API, path), "referenceId": ref}
    if body is not None:
        sub["body"] = body
    return sub


def test_composite_references_and_single_call(fresh):
    before = _usage(fresh.rest(PROD, "GET", "limits"))[0]
    answer = fresh.rest(PROD, "POST", "composite", json={"compositeRequest": [
        _sub("POST", "sobjects/Account", "acct", {"Name": "Composite Co", "Industry": "Energy"}),
        _sub("POST", "sobjects/Contact", "cont", {"LastName": "Ref", "AccountId": "@{acct.id}"}),
        _sub("GET", "query?q=SELECT+Id,AccountId+FROM+Contact+WHERE+Id='@{cont.id}'", "q"),
        _sub("GET", "sobjects/Contact/@{q.records[0].Id}", "again"),
    ]})
    assert answer.status_code == 200
    assert _usage(answer)[0] == before + 1                        # the whole composite is one call
    responses = answer.json()["compositeResponse"]
    assert [r["referenceId"] for r in responses] == ["acct", "cont", "q", "again"]
    assert [r["httpStatusCode"] for r in responses] == [201, 201, 200, 200], responses
    account_id = responses[0]["body"]["id"]
    assert responses[0]["httpHeaders"]["Location"] == "/services/data/%s/sobjects/Account/%s" % (API, account_id)
    assert responses[2]["body"]["records"][0]["AccountId"] == account_id
    assert responses[3]["body"]["AccountId"] == account_id


def test_composite_all_or_none_rolls_back(fresh):
    answer = fresh.rest(PROD, "POST", "composite", json={"allOrNone": True, "compositeRequest": [
        _sub("POST", "sobjects/Account", "good", {"Name": "Rolled Back Co", "Industry": "Energy"}),
        _sub("POST", "sobjects/Account", "bad", {"Industry": "Energy"}),
        _sub("GET", "limits", "after"),
    ]}).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [400, 400, 400]
    assert answer[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert answer[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert answer[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert fresh.query(PROD, "SELECT Id FROM Account WHERE Name = 'Rolled Back Co'")["totalSize"] == 0


def test_composite_without_all_or_none_keeps_successes(fresh):
    answer = fresh.rest(PROD, "POST", "composite", json={"compositeRequest": [
        _sub("POST", "sobjects/Account", "good", {"Name": "Kept Co", "Industry": "Energy"}),
        _sub("POST", "sobjects/Account", "bad", {"Industry": "Energy"}),
        _sub("GET", "sobjects/Account/@{bad.id}", "dependent"),
    ]}).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [201, 400, 400]
    assert answer[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert fresh.query(PROD, "SELECT Id FROM Account WHERE Name = 'Kept Co'")["totalSize"] == 1


def test_composite_limit_of_25(emulator):
    subs = [_sub("GET", "limits", "r%d" % n) for n in range(26)]
    answer = emulator.rest(PROD, "POST", "composite", json={"compositeRequest": subs})
    assert answer.status_code == 400
    assert emulator.rest(PROD, "POST", "composite", json={"compositeRequest": subs[:25]}).status_code == 200


def test_collections_create_partial_success(fresh):
    answer = fresh.rest(PROD, "POST", "composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "Name": "Coll One", "Industry": "Energy"},
        {"attributes": {"type": "Account"}, "Industry": "Energy"},
    ]})
    assert answer.status_code == 200
    ok, failed = answer.json()
    assert ok["success"] is True and ok["errors"] == [] and len(ok["id"]) == 18
    assert failed["success"] is False
    assert failed["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert isinstance(failed["errors"][0]["fields"], list)
    assert fresh.query(PROD, "SELECT Id FROM Account WHERE Name = 'Coll One'")["totalSize"] == 1


def test_collections_all_or_none(fresh):
    answer = fresh.rest(PROD, "POST", "composite/sobjects", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "Name": "AON One", "Industry": "Energy"},
        {"attributes": {"type": "Account"}, "Industry": "Energy"},
    ]}).json()
    assert answer[0] == {"success": False, "errors": [{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was using "
                   "AllOrNone header", "fields": []}]}
    assert answer[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert fresh.query(PROD, "SELECT Id FROM Account WHERE Name = 'AON One'")["totalSize"] == 0


def test_collections_update_and_delete(fresh):
    ids = [r["Id"] for r in fresh.query(PROD, "SELECT Id FROM Account ORDER BY Name LIMIT 2")["records"]]
    answer = fresh.rest(PROD, "PATCH", "composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "id": ids[0], "Industry": "Retail"},
        {"attributes": {"type": "Account"}, "id": ids[1], "Industry": "Retail"},
    ]})
    assert answer.json() == [{"id": i, "success": True, "errors": []} for i in ids]
    deleted = fresh.rest(PROD, "DELETE", "composite/sobjects", params={"ids": ",".join(ids), "allOrNone": "true"})
    assert deleted.json() == [{"id": i, "success": True, "errors": []} for i in ids]
    assert fresh.query(PROD, "SELECT COUNT() FROM Account WHERE Id IN ('%s')" % "','".join(ids))["totalSize"] == 0


def test_collections_refuse_mixing_setup_and_data_objects(fresh):
    admin_id = fresh.org(PROD)["admin"]["user_id"]
    account_id = fresh.query(PROD, "SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    answer = fresh.rest(PROD, "PATCH", "composite/sobjects", json={"records": [
        {"attributes": {"type": "User"}, "id": admin_id, "Title": "Boss"},
        {"attributes": {"type": "Account"}, "id": account_id, "Industry": "Retail"},
    ]}).json()
    assert answer[0]["success"] is True
    assert answer[1]["errors"][0]["statusCode"] == "MIXED_DML_OPERATION"


def test_collections_limit_of_200(emulator):
    records = [{"attributes": {"type": "Account"}, "Name": "Too many %d" % n} for n in range(201)]
    answer = emulator.rest(PROD, "POST", "composite/sobjects", json={"records": records})
    assert answer.status_code == 400


def test_batch_counts_each_subrequest(fresh):
    before = _usage(fresh.rest(PROD, "GET", "limits"))[0]
    answer = fresh.rest(PROD, "POST", "composite/batch", json={"batchRequests": [
        {"method": "GET", "url": "%s/limits" % API},
        {"method": "GET", "url": "%s/sobjects/Nope/describe" % API},
        {"method": "PATCH", "url": "%s/sobjects/Account/001000000000000AAA" % API, "richInput": {"Name": "x"}},
    ]})
    assert answer.status_code == 200
    body = answer.json()
    assert body["hasErrors"] is True
    assert [r["statusCode"] for r in body["results"]] == [200, 404, 404]
    assert body["results"][0]["result"]["DailyApiRequests"]["Max"] > 0
    assert _usage(answer)[0] == before + 3                        # one per subrequest


def test_batch_halt_on_error(emulator):
    body = emulator.rest(PROD, "POST", "composite/batch", json={"haltOnError": True, "batchRequests": [
        {"method": "GET", "url": "%s/sobjects/Nope/describe" % API},
        {"method": "GET", "url": "%s/limits" % API},
    ]}).json()
    assert [r["statusCode"] for r in body["results"]] == [404, 412]
    assert body["results"][1]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"


def test_composite_refuses_bad_or_duplicate_reference_ids(emulator):
    for refs in (["bad-ref"], ["_x"], ["same", "same"]):
        answer = emulator.rest(PROD, "POST", "composite", json={
            "compositeRequest": [_sub("GET", "limits", ref) for ref in refs]})
        assert answer.status_code == 400, refs
        assert answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_composite_allows_five_queries_not_six(emulator):
    queries = [_sub("GET", "query?q=SELECT+Id+FROM+Profile", "q%d" % n) for n in range(6)]
    assert emulator.rest(PROD, "POST", "composite", json={"compositeRequest": queries[:5]}).status_code == 200
    answer = emulator.rest(PROD, "POST", "composite", json={"compositeRequest": queries})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "LIMIT_EXCEEDED"


def test_tooling_composite_and_collections(fresh):
    answer = fresh.rest(PROD, "POST", "tooling/composite", json={"compositeRequest": [
        _sub("GET", "tooling/query?q=SELECT+Id,Name+FROM+ApexClass", "classes"),
        _sub("GET", "tooling/sobjects/ApexClass/@{classes.records[0].Id}", "one"),
    ]})
    assert answer.status_code == 200, answer.text
    responses = answer.json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in responses] == [200, 200], responses
    assert responses[0]["body"]["entityTypeName"] == "ApexClass"
    calls = fresh.admin("GET", "orgs/%s/calls" % PROD).json()["calls"]
    assert calls["POST /tooling/composite"] == 1
    batch = fresh.rest(PROD, "POST", "tooling/composite/batch", json={"batchRequests": [
        {"method": "GET", "url": "%s/tooling/query?q=SELECT+Id+FROM+ApexTrigger" % API}]})
    assert batch.json()["results"][0]["statusCode"] == 200


def test_collections_read(emulator):
    ids = [r["Id"] for r in emulator.query(PROD, "SELECT Id FROM Account ORDER BY Name LIMIT 2")["records"]]
    answer = emulator.rest(PROD, "GET", "composite/sobjects/Account",
                           params={"ids": ",".join(ids + ["001000000000000AAA"]), "fields": "Id,Name"})
    assert answer.status_code == 200
    body = answer.json()
    assert [r and r["Id"] for r in body] == ids + [None]
    assert body[0]["attributes"]["type"] == "Account" and "Name" in body[0]
