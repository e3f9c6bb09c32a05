"""Fault rules applied by the running server (admin API and --fault flags)."""
PROD, UAT = "acme-prod", "acme-uat"


def _statuses(emulator, count, org=PROD, path="limits"):
    return [emulator.rest(org, "GET", path).status_code for _ in range(count)]


def test_share_of_503_is_deterministic(fresh):
    rule = {"status": 503, "rate": 0.4, "org": PROD}
    fresh.admin("POST", "faults", json=rule)
    first = _statuses(fresh, 30)
    fresh.admin("DELETE", "faults")
    fresh.admin("POST", "faults", json=rule)
    assert _statuses(fresh, 30) == first
    assert 0 < first.count(503) < 30
    assert _statuses(fresh, 3, org=UAT) == [200, 200, 200]


def test_503_body_and_limit_header(fresh):
    fresh.admin("POST", "faults", json={"status": 503})
    answer = fresh.rest(PROD, "GET", "limits")
    assert answer.status_code == 503
    assert answer.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert answer.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_500_unknown_exception(fresh):
    fresh.admin("POST", "faults", json={"rule": "status=500,method=GET,path=/query"})
    answer = fresh.rest(PROD, "GET", "query", params={"q": "SELECT Id FROM User"})
    assert answer.status_code == 500
    assert answer.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert fresh.rest(PROD, "GET", "limits").status_code == 200


def test_lock_on_writes_names_the_record(fresh):
    fresh.admin("POST", "faults", json={"rule": "error=lock,object=Account,times=1"})
    record = fresh.query(PROD, "SELECT Id FROM Account LIMIT 1")["records"][0]
    assert fresh.rest(PROD, "GET", "sobjects/Account/" + record["Id"]).status_code == 200
    answer = fresh.rest(PROD, "PATCH", "sobjects/Account/" + record["Id"], json={"Industry": "Retail"})
    assert answer.status_code == 400
    [error] = answer.json()
    assert error["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert error["message"] == "unable to obtain exclusive access to this record or 1 records: " + record["Id"]
    assert fresh.rest(PROD, "PATCH", "sobjects/Account/" + record["Id"], json={"Industry": "Retail"}).status_code == 204


def test_nth_request_by_soql_object(fresh):
    fresh.admin("POST", "faults", json={"rule": "status=503,nth=2,object=Profile"})
    codes = [fresh.rest(PROD, "GET", "query", params={"q": q}).status_code for q in (
        "SELECT Id FROM Profile", "SELECT Id FROM User", "SELECT Id FROM Profile", "SELECT Id FROM Profile")]
    assert codes == [200, 200, 503, 200]


def test_session_expires_after_calls(fresh):
    fresh.admin("POST", "faults", json={"rule": "expire_calls=2,org=%s" % PROD})
    answer_codes = _statuses(fresh, 4)
    assert answer_codes == [200, 200, 401, 401]
    report = fresh.admin("GET", "faults").json()
    assert report["injected"] == 1


def test_limit_exhausted_rule(fresh):
    fresh.admin("POST", "faults", json={"rule": "error=limit,org=%s" % UAT})
    answer = fresh.rest(UAT, "GET", "limits")
    assert answer.status_code == 403 and answer.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert fresh.rest(PROD, "GET", "limits").status_code == 200


def test_token_endpoint_can_be_faulted(fresh):
    fresh.admin("POST", "faults", json={"rule": "status=503,path=/services/oauth2/token"})
    admin = fresh.org(PROD)["admin"]
    answer = fresh.http.post(fresh.base_url + "/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": admin["client_id"], "client_secret": admin["client_secret"]})
    assert answer.status_code == 503


def test_fault_flags_on_the_command_line(emulator_factory):
    started = emulator_factory("--fault", "status=503,nth=1,path=/limits", "--fault", "latency_ms=5",
                               "--latency-ms", "1", name="flags")
    assert [started.rest(PROD, "GET", "limits").status_code for _ in range(2)] == [503, 200]
    report = started.admin("GET", "faults").json()
    assert report["latency_ms"] == 1 and len(report["rules"]) == 2
    assert report["rules"][1]["injected"] == 2


def test_lock_in_collections_is_per_record(fresh):
    ids = [r["Id"] for r in fresh.query(PROD, "SELECT Id FROM Account ORDER BY Name LIMIT 2")["records"]]
    fresh.admin("POST", "faults", json={"rule": "error=lock,object=Account,nth=1"})
    records = [{"attributes": {"type": "Account"}, "id": i, "Industry": "Retail"} for i in ids]
    answer = fresh.rest(PROD, "PATCH", "composite/sobjects", json={"records": records})
    assert answer.status_code == 200
    assert [r["id"] for r in answer.json()] == ids
    assert {r["errors"][0]["statusCode"] for r in answer.json()} == {"UNABLE_TO_LOCK_ROW"}
    assert answer.json()[0]["errors"][0]["message"].endswith(ids[0])
    again = fresh.rest(PROD, "PATCH", "composite/sobjects", json={"records": records})
    assert all(r["success"] for r in again.json())
