"""Fault rules without a server: parsing, matching, determinism, counting."""
import pytest

from sfemu.errors import SFError
from sfemu.faults import FaultRequest, FaultRuleError, Faults, parse_rule


def _pattern(faults, requests):
    out = []
    for request in requests:
        try:
            faults.check_errors(request, "001000000000001AAA")
            out.append(".")
        except SFError as exc:
            out.append(str(exc.status))
    return "".join(out)


def test_parse_compact_syntax():
    assert parse_rule("status=503, rate=0.1,org=acme-prod,method=GET,path=/query,object=User") == {
        "status": "503", "rate": "0.1", "org": "acme-prod", "method": "GET", "path": "/query", "object": "User"}


@pytest.mark.parametrize("text", ["status=404", "rate=0.5", "error=boom", "statu=503", "latency_ms=abc", "status"])
def test_bad_rules_are_refused(text):
    with pytest.raises(FaultRuleError):
        Faults().add(text)


def test_same_seed_same_faults_and_other_seed_differs():
    requests = [FaultRequest("GET", "/services/data/v62.0/query", "acme-prod", query="SELECT Id FROM User")] * 200

    def run(seed):
        faults = Faults(seed=seed)
        faults.add("status=503,rate=0.3")
        return _pattern(faults, requests)

    first = run(11)
    assert first == run(11)
    assert first != run(12)
    assert 20 < first.count("503") < 100        # a share, not all or nothing


def test_rule_posted_again_after_clear_fires_identically():
    faults = Faults(seed=3)
    requests = [FaultRequest("GET", "/x", "o")] * 50
    faults.add({"status": 500, "rate": 0.5})
    before = _pattern(faults, requests)
    faults.clear()
    faults.add({"status": 500, "rate": 0.5})
    assert _pattern(faults, requests) == before


def test_nth_matching_request_fails_once_and_is_counted():
    faults = Faults()
    faults.add("status=500,nth=3,path=/limits")
    other = FaultRequest("GET", "/services/data/v62.0/query", "o")
    limits = FaultRequest("GET", "/services/data/v62.0/limits", "o")
    assert _pattern(faults, [limits, other, limits, limits, limits]) == "...500."
    rule = faults.report()["rules"][0]
    assert (rule["matched"], rule["injected"]) == (4, 1)
    assert faults.report()["injected"] == 1


def test_matching_by_org_method_object_and_regex():
    faults = Faults()
    faults.add("status=503,org=acme-prod,method=GET,object=user,path_re=/query$")
    hit = FaultRequest("GET", "/services/data/v62.0/query", "acme-prod", query="select Id from User where x = 1")
    assert _pattern(faults, [
        hit,
        FaultRequest("GET", "/services/data/v62.0/query", "acme-uat", query="SELECT Id FROM User"),
        FaultRequest("POST", "/services/data/v62.0/query", "acme-prod", query="SELECT Id FROM User"),
        FaultRequest("GET", "/services/data/v62.0/query", "acme-prod", query="SELECT Id FROM Account"),
        FaultRequest("GET", "/services/data/v62.0/query/01g-2000", "acme-prod", query="SELECT Id FROM User"),
    ]) == "503...."


def test_lock_errors_only_on_writes_with_salesforce_message():
    faults = Faults()
    faults.add("error=lock,times=1")
    faults.check_errors(FaultRequest("GET", "/services/data/v62.0/sobjects/User/005"), "005000000000001AAA")
    with pytest.raises(SFError) as caught:
        faults.check_errors(FaultRequest("PATCH", "/services/data/v62.0/sobjects/User/005"), "005000000000001AAA")
    assert caught.value.error_code == "UNABLE_TO_LOCK_ROW"
    assert caught.value.message == ("unable to obtain exclusive access to this record or 1 records: "
                                    "005000000000001AAA")
    # times=1: the second write goes through.
    faults.check_errors(FaultRequest("PATCH", "/services/data/v62.0/sobjects/User/005"), "005000000000001AAA")


def test_limit_and_server_errors_bodies():
    faults = Faults()
    faults.add("error=limit,nth=1")
    with pytest.raises(SFError) as caught:
        faults.check_errors(FaultRequest("GET", "/x"))
    assert (caught.value.status, caught.value.error_code, caught.value.message) == (
        403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    faults.clear()
    faults.add("status=500")
    with pytest.raises(SFError) as caught:
        faults.check_errors(FaultRequest("GET", "/x"))
    assert (caught.value.status, caught.value.error_code) == (500, "UNKNOWN_EXCEPTION")


def test_session_expires_after_n_calls_and_stays_dead():
    faults = Faults()
    faults.add("expire_calls=2,org=o")
    request = FaultRequest("GET", "/x", "o")
    faults.check_session(request, "tok")
    faults.check_session(request, "tok")
    with pytest.raises(SFError) as caught:
        faults.check_session(request, "tok")
    assert (caught.value.status, caught.value.error_code, caught.value.message) == (
        401, "INVALID_SESSION_ID", "Session expired or invalid")
    faults.check_session(request, "another")          # other sessions live on
    with pytest.raises(SFError):
        faults.check_session(FaultRequest("GET", "/x", "elsewhere"), "tok")


def test_session_expiry_in_seconds():
    faults = Faults()
    faults.add("expire_seconds=0")
    request = FaultRequest("GET", "/x", "o")
    faults.check_session(request, "tok")                # first call starts the clock
    with pytest.raises(SFError):
        faults.check_session(request, "tok")


def test_latency_rules_add_up_and_are_counted():
    faults = Faults(seed=1, latency_ms=100)
    faults.add("latency_ms=50,jitter_ms=10,method=GET")
    delay = faults.delay_seconds(FaultRequest("GET", "/x"))
    assert 0.150 <= delay <= 0.180
    assert faults.delay_seconds(FaultRequest("POST", "/x")) <= 0.120
    assert faults.report()["rules"][0]["injected"] == 1


def test_remove_one_rule():
    faults = Faults()
    rule = faults.add("status=503")
    assert faults.remove(rule.id)
    assert not faults.remove(rule.id)
    assert faults.report()["rules"] == []


def test_token_requests_get_no_lock_or_limit_faults():
    faults = Faults()
    faults.add("error=lock")
    faults.add("error=limit")
    faults.check_errors(FaultRequest("POST", "/services/oauth2/token", oauth=True))
    with pytest.raises(SFError):
        faults.check_errors(FaultRequest("POST", "/services/data/v62.0/sobjects/Account"))


def test_rules_count_requests_independently():
    faults = Faults()
    faults.add("status=503,nth=1")
    faults.add("status=500,nth=2")
    request = FaultRequest("GET", "/x")
    assert _pattern(faults, [request] * 3) == "503500."
