"""Admin API under /__emulator__/."""
PROD, UAT = "acme-prod", "acme-uat"


def test_list_orgs(emulator):
    orgs = emulator.admin("GET", "orgs").json()
    assert [o["name"] for o in orgs] == [PROD, UAT]
    assert orgs[0]["org_id"] == emulator.org(PROD)["org_id"]
    assert (orgs[0]["is_sandbox"], orgs[1]["is_sandbox"]) == (False, True)


def test_dump_state(emulator):
    state = emulator.admin("GET", "orgs/%s/state" % PROD).json()
    assert isinstance(state, dict) and state
    assert "svc.mulesoft@acme.example" in str(state)


def test_unknown_org_and_resource(emulator):
    assert emulator.admin("GET", "orgs/nope/state").status_code == 404
    assert emulator.admin("GET", "nothing").status_code == 404
    assert emulator.admin("DELETE", "orgs").status_code == 404


def test_admin_is_not_under_salesforce_paths(emulator):
    answer = emulator.rest(PROD, "GET", "__emulator__/orgs")
    assert answer.status_code == 404
    assert emulator.http.get(emulator.base_url + "/services/__emulator__/orgs").status_code == 404


def test_admin_calls_are_not_counted(fresh):
    fresh.rest(PROD, "GET", "limits")
    before = fresh.admin("GET", "orgs/%s/calls" % PROD).json()["api_used"]
    fresh.admin("GET", "orgs")
    fresh.admin("GET", "orgs/%s/state" % PROD)
    assert fresh.admin("GET", "orgs/%s/calls" % PROD).json()["api_used"] == before


def test_expire_sessions(fresh):
    assert fresh.rest(PROD, "GET", "limits").status_code == 200
    assert fresh.admin("POST", "orgs/%s/expire-sessions" % PROD).status_code == 200
    answer = fresh.rest(PROD, "GET", "limits")
    assert answer.status_code == 401 and answer.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert fresh.rest(UAT, "GET", "limits").status_code == 200


def test_set_api_usage_validates(fresh):
    assert fresh.admin("POST", "orgs/%s/api-usage" % PROD, json={"used": -1}).status_code == 400
    assert fresh.admin("POST", "orgs/%s/api-usage" % PROD, json={}).status_code == 400
    answer = fresh.admin("POST", "orgs/%s/api-usage" % PROD, json={"used": 1234})
    assert answer.status_code == 200 and answer.json()["api_used"] == 1234
    assert fresh.rest(PROD, "GET", "limits").headers["Sforce-Limit-Info"].startswith("api-usage=1235/")


def test_faults_crud(fresh):
    added = fresh.admin("POST", "faults", json={"status": 503, "path": "/limits", "nth": 2})
    assert added.status_code == 201
    rule = added.json()
    compact = fresh.admin("POST", "faults", json={"rule": "latency_ms=1,org=acme-uat"}).json()
    listed = fresh.admin("GET", "faults").json()
    assert [r["id"] for r in listed["rules"]] == [rule["id"], compact["id"]]
    assert fresh.admin("POST", "faults", json={"status": 418}).status_code == 400
    assert fresh.admin("DELETE", "faults/%d" % compact["id"]).status_code == 200
    assert fresh.admin("DELETE", "faults/%d" % compact["id"]).status_code == 404
    statuses = [fresh.rest(PROD, "GET", "limits").status_code for _ in range(3)]
    assert statuses == [200, 503, 200]
    report = fresh.admin("GET", "faults").json()
    assert report["injected"] == 1 and report["rules"][0]["matched"] == 3
    assert fresh.admin("DELETE", "faults").json()["rules"] == []


def test_reset_restores_estate_and_reissues_tokens(emulator):
    created = emulator.rest(PROD, "POST", "sobjects/Account", json={"Name": "Before Reset", "Industry": "Energy"})
    assert created.status_code == 201
    emulator.admin("POST", "orgs/%s/api-usage" % PROD, json={"used": 5000})
    old_token = emulator.token(PROD)
    emulator.reset()
    assert emulator.query(PROD, "SELECT COUNT() FROM Account WHERE Name = 'Before Reset'")["totalSize"] == 0
    calls = emulator.admin("GET", "orgs/%s/calls" % PROD).json()
    assert calls["api_used"] < 5000
    assert emulator.token(PROD) != old_token or emulator.rest(PROD, "GET", "limits").status_code == 200
