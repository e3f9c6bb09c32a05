# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import pytest
import requests

from fake_salesforce import INSTANCE, FakeTransport, query_page, rest_error, session_with, token_ok

from ansible_collections.sfops.integration_users.plugins.module_utils import client as client_module
from ansible_collections.sfops.integration_users.plugins.module_utils.client import (
    Client,
    backoff_delay,
    composite_chunks,
    is_query_or_collection,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ApiError,
    ConnectionFailure,
    MissingLibraryError,
    RequestLimitError,
    SessionExpiredError,
)

CC = {"login_url": INSTANCE, "client_id": "cid", "client_secret": "csecret", "api_version": "62.0", "retries": 3,
      "timeout": 5.0, "validate_certs": True}
V = "/services/data/v62.0"


def make(transport, params=None, sleeps=None):
    delays = sleeps if sleeps is not None else []
    return Client(dict(CC, **(params or {})), session=session_with(transport), sleep=delays.append, rand=lambda: 0.5)


@pytest.fixture
def transport():
    return FakeTransport().route("POST", r"/services/oauth2/token$", token_ok())


def test_query_follows_pages_and_counts_calls(transport):
    pages = [(200, query_page([{"Id": "1"}], done=False, next_url=V + "/query/01gX-2000", total=3)),
             (200, query_page([{"Id": "2"}], done=False, next_url=V + "/query/01gX-4000", total=3)),
             (200, query_page([{"Id": "3"}], total=3))]
    transport.route("GET", r"/query$", pages[0]).route("GET", r"/query/01gX-2000$", pages[1]) \
        .route("GET", r"/query/01gX-4000$", pages[2])
    client = make(transport)
    answer = client.query("SELECT Id FROM User", batch_size=200)
    assert answer == {"total_size": 3, "records": [{"Id": "1"}, {"Id": "2"}, {"Id": "3"}]}
    first = transport.calls_to("/query")[0]
    assert first.query == {"q": "SELECT Id FROM User"}
    assert first.headers["Authorization"] == "Bearer 00Dfake!token"
    assert all(r.headers.get("Sforce-Query-Options") == "batchSize=200" for r in transport.calls_to("/query"))
    # The token request is not a data-API call; the three pages are.
    assert client.api_usage == {"calls": 3, "used": 10, "limit": 15000}


def test_tooling_query_path(transport):
    transport.route("GET", r"/tooling/query$", (200, query_page([{"Id": "01p"}])))
    assert make(transport).tooling_query("SELECT Id FROM ApexClass")["records"] == [{"Id": "01p"}]
    assert transport.calls_to("/tooling/query")[0].path == V + "/tooling/query"


def test_session_ignores_environment_and_sets_verify_and_timeout(transport, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/from/env.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    session = client_module.new_session("/my/ca.pem", 12.5)
    session.mount("https://", transport)
    transport.route("GET", r"/limits$", (200, {"DailyApiRequests": {"Max": 15000, "Remaining": 14990}}))
    client = Client(dict(CC), session=session)
    client.limits()
    assert session.trust_env is False
    assert {r.verify for r in transport.requests} == {"/my/ca.pem"}
    assert {r.timeout for r in transport.requests} == {12.5}


def test_retries_transient_errors_with_backoff(transport):
    transport.route("GET", r"/query$", [rest_error("SERVER_UNAVAILABLE", "down", 503), (500, None),
                                        rest_error("UNABLE_TO_LOCK_ROW", "locked"), (200, query_page([]))])
    sleeps = []
    client = make(transport, sleeps=sleeps)
    assert client.query("SELECT Id FROM User")["records"] == []
    assert sleeps == [backoff_delay(0, lambda: 0.5), backoff_delay(1, lambda: 0.5), backoff_delay(2, lambda: 0.5)]
    assert client.api_usage["calls"] == 4


def test_retries_are_bounded(transport):
    transport.route("GET", r"/query$", rest_error("SERVER_UNAVAILABLE", "Server is unavailable", 503))
    sleeps = []
    with pytest.raises(ApiError) as caught:
        make(transport, {"retries": 2}, sleeps).query("SELECT Id FROM User")
    assert len(sleeps) == 2 and len(transport.calls_to("/query")) == 3
    assert caught.value.error_code == "SERVER_UNAVAILABLE"
    assert caught.value.org == "acme.my.salesforce.com"


def test_request_limit_is_never_retried_and_names_the_allocation(transport):
    transport.route("GET", r"/query$", (403, [{"message": "TotalRequests Limit exceeded.",
                                               "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                                        {"Sforce-Limit-Info": "api-usage=15001/15000"}))
    sleeps = []
    with pytest.raises(RequestLimitError) as caught:
        make(transport, sleeps=sleeps).query("SELECT Id FROM User")
    assert sleeps == [] and len(transport.calls_to("/query")) == 1
    message = caught.value.render()
    assert "used 15001 of its 15000 daily API requests; 0 remain" in message
    assert "REQUEST_LIMIT_EXCEEDED" in message


def test_other_errors_are_not_retried(transport):
    transport.route("GET", r"/query$", rest_error("INVALID_FIELD", "\nSELECT Nope FROM User\n       ^\nERROR at Row:1:Column:8\nNo such column"))
    sleeps = []
    with pytest.raises(ApiError) as caught:
        make(transport, sleeps=sleeps).query("SELECT Nope FROM User")
    assert sleeps == [] and caught.value.error_code == "INVALID_FIELD"
    assert "field names" in caught.value.render()


def test_expired_session_renews_once(transport):
    tokens = iter(["first", "second", "third"])
    transport.routes.clear()
    transport.route("POST", r"/services/oauth2/token$", lambda r, m: token_ok(token=next(tokens)))

    def answer(request, match):
        if request.headers["Authorization"] == "Bearer first":
            return rest_error("INVALID_SESSION_ID", "Session expired or invalid", 401)
        return 200, query_page([{"Id": "1"}])
    transport.route("GET", r"/query$", answer)
    client = make(transport)
    assert client.query("SELECT Id FROM User")["records"] == [{"Id": "1"}]
    assert len(transport.calls_to("/oauth2/token")) == 2


def test_expired_session_twice_fails(transport):
    transport.route("GET", r"/query$", rest_error("INVALID_SESSION_ID", "Session expired or invalid", 401))
    with pytest.raises(SessionExpiredError):
        make(transport).query("SELECT Id FROM User")
    assert len(transport.calls_to("/oauth2/token")) == 2


def test_access_token_session_cannot_renew(transport):
    transport.route("GET", r"/query$", rest_error("INVALID_SESSION_ID", "Session expired or invalid", 401))
    client = make(transport, {"access_token": "tok-from-cli", "instance_url": INSTANCE, "client_secret": None})
    with pytest.raises(SessionExpiredError) as caught:
        client.query("SELECT Id FROM User")
    assert transport.calls_to("/oauth2/token") == []
    assert "cannot renew" in caught.value.message and "sf org login" in caught.value.render()


def test_connection_errors_are_retried_then_reported(transport):
    transport.route("GET", r"/query$", requests.exceptions.ConnectionError("refused"))
    sleeps = []
    with pytest.raises(ConnectionFailure) as caught:
        make(transport, {"retries": 1}, sleeps).query("SELECT Id FROM User")
    assert len(sleeps) == 1 and "after 2 attempt(s)" in caught.value.message


def test_read_timeout_on_a_write_is_not_retried(transport):
    transport.route("POST", r"/sobjects/Account$", requests.exceptions.ReadTimeout("slow"))
    sleeps = []
    with pytest.raises(ConnectionFailure):
        make(transport, sleeps=sleeps).create_record("Account", {"Name": "x"})
    assert sleeps == [] and len(transport.calls_to("/sobjects/Account")) == 1


def test_composite_splits_by_5_queries_and_maps_references(transport):
    def answer(request, match):
        body = request.json
        assert body["allOrNone"] is False
        return 200, {"compositeResponse": [
            {"referenceId": sub["referenceId"], "httpStatusCode": 200, "httpHeaders": {},
             "body": query_page([{"ref": sub["referenceId"]}])} for sub in body["compositeRequest"]]}
    transport.route("POST", r"/composite$", answer)
    client = make(transport)
    subrequests = [client.query_subrequest("q%d" % i, "SELECT Id FROM User WHERE Name = 'a b'") for i in range(30)]
    assert subrequests[0]["url"] == V + "/query?q=SELECT%20Id%20FROM%20User%20WHERE%20Name%20%3D%20%27a%20b%27"
    results = client.composite(subrequests)
    # Salesforce accepts at most 5 queries or collections among the 25 subrequests of one call.
    assert [len(r.json["compositeRequest"]) for r in transport.calls_to("/composite")] == [5] * 6
    assert list(results) == ["q%d" % i for i in range(30)]
    assert client.finish_query(results["q29"])["records"] == [{"ref": "q29"}]
    with pytest.raises(ValueError):
        client.composite(subrequests, all_or_none=True)


def test_composite_chunks_count_25_subrequests_and_5_queries():
    gets = [{"method": "GET", "url": V + "/sobjects/User/005%012d" % i, "referenceId": "g%d" % i} for i in range(30)]
    queries = [{"method": "GET", "url": V + "/query?q=x", "referenceId": "q%d" % i} for i in range(7)]
    collection = {"method": "POST", "url": V + "/composite/sobjects", "referenceId": "c"}
    assert [len(chunk) for chunk in composite_chunks(gets)] == [25, 5]
    mixed = gets[:10] + queries + gets[10:30] + [collection]
    chunks = composite_chunks(mixed)
    assert [len(chunk) for chunk in chunks] == [15, 23]
    assert [sum(is_query_or_collection(sub) for sub in chunk) for chunk in chunks] == [5, 3]
    assert [sub for chunk in chunks for sub in chunk] == mixed


def test_tooling_composite_goes_to_the_tooling_resource(transport):
    transport.route("POST", r"/tooling/composite$", (200, {"compositeResponse": [
        {"referenceId": "a", "httpStatusCode": 200, "body": query_page([])}]}))
    client = make(transport)
    client.composite([client.query_subrequest("a", "SELECT Id FROM ApexClass", tooling=True)], tooling=True)
    assert len(transport.calls_to("/tooling/composite")) == 1


def test_composite_subrequest_failure(transport):
    transport.route("POST", r"/composite$", (200, {"compositeResponse": [
        {"referenceId": "ok", "httpStatusCode": 200, "body": query_page([])},
        {"referenceId": "orgs", "httpStatusCode": 400, "body": [{"errorCode": "INVALID_TYPE", "message": "sObject type 'Organization' is not supported."}]}]}))
    client = make(transport)
    subs = [client.query_subrequest("ok", "SELECT Id FROM User"), client.query_subrequest("orgs", "SELECT Id FROM Organization")]
    with pytest.raises(ApiError) as caught:
        client.composite(subs)
    assert caught.value.reference == "orgs" and "subrequest orgs" in caught.value.message
    raw = client.composite(subs, raise_on_error=False)
    assert raw["orgs"]["status"] == 400 and raw["ok"]["status"] == 200


def test_collections_chunk_by_200(transport):
    def create(request, match):
        records = request.json["records"]
        assert {r["attributes"]["type"] for r in records} == {"PermissionSetAssignment"}
        return 200, [{"id": "0Pa%015d" % i, "success": True, "errors": []} for i in range(len(records))]
    transport.route("POST", r"/composite/sobjects$", create)
    client = make(transport)
    results = client.create_records("PermissionSetAssignment", [{"AssigneeId": "005", "PermissionSetId": "0PS"}] * 450)
    assert len(results) == 450
    assert [len(r.json["records"]) for r in transport.calls_to("/composite/sobjects")] == [200, 200, 50]


def test_collection_errors(transport):
    transport.route("PATCH", r"/composite/sobjects$", (200, [
        {"id": "005A", "success": True, "errors": []},
        {"id": "005B", "success": False, "errors": [{
            "statusCode": "FIELD_INTEGRITY_EXCEPTION", "fields": ["ProfileId"],
            "message": "You can only reassign this user to a profile of the current license"}]}]))
    client = make(transport)
    with pytest.raises(ApiError) as caught:
        client.update_records("User", [{"Id": "005A", "IsActive": False}, {"Id": "005B", "ProfileId": "00e"}])
    assert caught.value.error_code == "FIELD_INTEGRITY_EXCEPTION" and caught.value.fields == ["ProfileId"]
    results = client.update_records("User", [{"Id": "005A"}], raise_on_error=False)
    assert results[1]["success"] is False


def test_delete_records_sends_ids(transport):
    transport.route("DELETE", r"/composite/sobjects$", (200, [{"id": "0Pa1", "success": True, "errors": []}]))
    make(transport).delete_records(["0Pa1"], all_or_none=True)
    sent = transport.calls_to("/composite/sobjects")[0]
    assert sent.query == {"ids": "0Pa1", "allOrNone": "true"}


def test_record_crud(transport):
    transport.route("POST", r"/sobjects/User$", (201, {"id": "005NEW", "success": True, "errors": []}))
    transport.route("GET", r"/sobjects/User/005X$", (200, {"Id": "005X", "Username": "u"}))
    transport.route("PATCH", r"/sobjects/User/005X$", (204, None))
    transport.route("DELETE", r"/tooling/sobjects/ApexClass/01pX$", (204, None))
    client = make(transport)
    assert client.create_record("User", {"Username": "u"}) == "005NEW"
    assert client.get_record("User", "005X", fields=["Id", "Username"]) == {"Id": "005X", "Username": "u"}
    assert transport.calls_to("/sobjects/User/005X")[0].query == {"fields": "Id,Username"}
    assert client.update_record("User", "005X", {"IsActive": False}) is None
    assert transport.calls_to("/sobjects/User/005X")[1].json == {"IsActive": False}
    client.delete_record("ApexClass", "01pX", tooling=True)
    assert client.api_usage["calls"] == 4


def test_identity_is_cached_and_uncounted(transport):
    transport.route("GET", r"/services/oauth2/userinfo$", (200, {"user_id": "005X", "organization_id": "00DX",
                                                                 "preferred_username": "admin@acme.com"}))
    client = make(transport)
    assert client.identity()["username"] == "admin@acme.com"
    client.identity()
    assert len(transport.calls_to("/userinfo")) == 1
    assert client.api_usage["calls"] == 0 and client.user == "admin@acme.com"


def test_token_refusal_is_an_authentication_error(transport):
    transport.routes.clear()
    transport.route("POST", r"/services/oauth2/token$", (400, {"error": "invalid_grant", "error_description": "audience is invalid"}))
    from ansible_collections.sfops.integration_users.plugins.module_utils.errors import AuthenticationError
    with pytest.raises(AuthenticationError) as caught:
        make(transport).connect()
    assert "https://test.salesforce.com" in caught.value.render()


def test_missing_library_is_reported(monkeypatch):
    monkeypatch.setattr(client_module, "LIBRARY_IMPORT_ERROR", ImportError("No module named 'simple_salesforce'"))
    with pytest.raises(MissingLibraryError) as caught:
        Client(dict(CC))
    assert caught.value.library == "simple-salesforce"


def test_backoff_is_exponential_capped_and_jittered():
    assert backoff_delay(0, lambda: 0.0) == client_module.BACKOFF_BASE_SECONDS * 0.5
    assert backoff_delay(1, lambda: 0.5) == client_module.BACKOFF_BASE_SECONDS * 2
    assert backoff_delay(30, lambda: 0.99) < client_module.BACKOFF_CAP_SECONDS * 1.5


def test_token_endpoint_unavailable_is_retried(transport):
    transport.routes.clear()
    transport.route("POST", r"/services/oauth2/token$", [(503, {"error": "unavailable", "error_description": "down"}),
                                                         token_ok()])
    transport.route("GET", r"/limits$", (200, {}))
    sleeps = []
    make(transport, sleeps=sleeps).limits()
    assert len(sleeps) == 1 and len(transport.calls_to("/oauth2/token")) == 2


@pytest.mark.parametrize("call, path", [
    (lambda client: client.query("SELECT Id FROM User"), r"/query$"),
    (lambda client: client.identity(), r"/services/oauth2/userinfo$"),
], ids=["data API", "userinfo"])
def test_an_answer_that_is_not_json_is_an_api_error(transport, call, path):
    # A proxy or a maintenance page can answer 200 with HTML.
    transport.route("GET", path, (200, b"<html><body>Service temporarily unavailable</body></html>"))
    with pytest.raises(ApiError) as caught:
        call(make(transport))
    assert "not JSON" in caught.value.render() and "HTTP 200" in caught.value.render()


# ---- issue 13: safe transport ----------------------------------------------------------------------------
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (  # noqa: E402
    ConfigurationError,
    OutcomeUnknownError,
    UnsafeTransportError,
)


@pytest.mark.parametrize("location", ["http://acme.my.salesforce.com/services/oauth2/token",
                                      "https://evil.example.com/services/oauth2/token"])
def test_token_endpoint_redirect_is_refused_not_followed(location):
    transport = FakeTransport().route("POST", r"/services/oauth2/token$", (307, None, {"Location": location}))
    transport.route("POST", r".", token_ok())
    with pytest.raises(UnsafeTransportError) as caught:
        make(transport).connect()
    assert "redirect" in caught.value.render()
    # Only the first POST left the client: the secret went nowhere else.
    assert len(transport.requests) == 1
    assert "csecret" not in caught.value.render()


def test_data_api_redirect_is_refused(transport):
    transport.route("GET", r"/query$", (302, None, {"Location": "http://acme.my.salesforce.com" + V + "/query?q=x"}))
    transport.route("GET", r".", (200, query_page([{"Id": "forged"}])))
    with pytest.raises(UnsafeTransportError):
        make(transport).query("SELECT Id FROM User")
    assert len(transport.calls_to("/query")) == 1


@pytest.mark.parametrize("instance, identity", [
    ("http://acme.my.salesforce.com", INSTANCE + "/id/00D/005"),
    ("https://evil.example.com", INSTANCE + "/id/00D/005"),
    ("https://acme.my.salesforce.com:8443", INSTANCE + "/id/00D/005"),
    (INSTANCE, "http://login.salesforce.com/id/00D/005"),
    (INSTANCE, "https://evil.example.com/id/00D/005"),
])
def test_foreign_or_clear_urls_of_a_token_answer_are_refused_before_the_bearer_is_sent(instance, identity):
    transport = FakeTransport().route("POST", r"/services/oauth2/token$", (
        200, {"access_token": "00Dfake!token", "instance_url": instance, "id": identity}))
    transport.route("GET", r".", (200, {"user_id": "005"}))
    client = make(transport)
    with pytest.raises(UnsafeTransportError):
        client.identity()
    assert [r.method for r in transport.requests] == ["POST"]
    assert not any("Authorization" in r.headers for r in transport.requests)


def test_allowed_hosts_admits_a_named_host(transport):
    transport.routes.clear()
    transport.route("POST", r"/services/oauth2/token$", token_ok(instance="https://eu1.custom.example:9443"))
    transport.route("GET", r"/limits$", (200, {"DailyApiRequests": {}}))
    client = make(transport, {"allowed_hosts": ["eu1.custom.example:9443"]})
    assert client.limits() == {"DailyApiRequests": {}}
    with pytest.raises(UnsafeTransportError):
        make(transport, {"allowed_hosts": ["eu1.custom.example"]}).limits()  # port 443 only


def test_salesforce_domains_are_allowed_on_443(transport):
    transport.routes.clear()
    transport.route("POST", r"/services/oauth2/token$", token_ok(instance="https://acme--uat.sandbox.my.salesforce.com"))
    transport.route("GET", r"/limits$", (200, {}))
    make(transport, {"login_url": "https://test.salesforce.com"}).limits()


def test_plain_http_is_never_spoken(transport):
    with pytest.raises(UnsafeTransportError):
        make(transport, {"auth": "access_token", "access_token": "tok", "login_url": None,
                         "instance_url": INSTANCE}).session.get("http://acme.my.salesforce.com/services/data/")


@pytest.mark.parametrize("version", ["62.0/../../../__emulator__/orgs", "62", "v62.0/", "62.0?x=1", "../62.0"])
def test_api_version_that_is_a_path_is_refused(transport, version):
    with pytest.raises(ConfigurationError) as caught:
        make(transport, {"api_version": version})
    assert "api_version" in caught.value.render()
    assert transport.requests == []


def test_api_version_with_v_is_accepted(transport):
    assert make(transport, {"api_version": "v61.0"}).api_version == "61.0"


@pytest.mark.parametrize("path", ["../../..", "limits/../../../__emulator__/orgs", "sobjects//x",
                                  "sobjects/%2e%2e/x", "https://evil.example.com/", "limits\n", "a/./b",
                                  "sobjects/User/..%2f..%2f"])
def test_rest_paths_that_leave_the_data_api_are_refused(transport, path):
    transport.route("GET", r".", (200, {}))
    with pytest.raises(ConfigurationError):
        make(transport).get(path)
    assert [r for r in transport.requests if r.method == "GET"] == []


def test_check_data_path_refuses_absolute_and_network_paths():
    for path in ("//evil.example.com/x", "/services/data/v62.0/limits", "~/x"):
        with pytest.raises(ConfigurationError):
            client_module.check_data_path(path)
    assert client_module.check_data_path("sobjects/User/describe") == "sobjects/User/describe"


@pytest.mark.parametrize("status", [429, 502, 504])
def test_transient_statuses_with_html_bodies_are_retried(transport, status):
    transport.route("GET", r"/limits$", [(status, b"<html><body>Bad gateway</body></html>"), (200, {"ok": 1})])
    sleeps = []
    assert make(transport, sleeps=sleeps).limits() == {"ok": 1}
    assert len(sleeps) == 1


def test_paging_stops_on_a_repeated_cursor(transport):
    again = (200, query_page([{"Id": "2"}], done=False, next_url=V + "/query/01gX-2000", total=9))
    first = query_page([{"Id": "1"}], done=False, next_url=V + "/query/01gX-2000", total=9)
    transport.route("GET", r"/query$", (200, first))
    transport.route("GET", r"/query/01gX-2000$", again)
    with pytest.raises(ApiError) as caught:
        make(transport).query("SELECT Id FROM User")
    assert "same cursor" in caught.value.render()
    assert len(transport.calls_to("/query/01gX-2000")) == 1


def test_paging_refuses_a_cursor_outside_the_data_api(transport):
    transport.route("GET", r"/query$", (200, query_page([], done=False, next_url="/__emulator__/orgs", total=1)))
    with pytest.raises(UnsafeTransportError):
        make(transport).query("SELECT Id FROM User")


def test_paging_is_bounded(transport, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_QUERY_PAGES", 3)

    def page(request, match):
        number = int(match.group(1)) + 1
        return 200, query_page([{"Id": str(number)}], done=False, next_url=V + "/query/01gX-%d" % number, total=99)
    transport.route("GET", r"/query$", (200, query_page([], done=False, next_url=V + "/query/01gX-0", total=99)))
    transport.route("GET", r"/query/01gX-(\d+)$", page)
    with pytest.raises(ApiError) as caught:
        make(transport).query("SELECT Id FROM User")
    assert "more than 3 pages" in caught.value.render()


def test_a_composite_is_not_re_sent_after_the_connection_broke(transport):
    # The connection drops after the request went out: Salesforce may have committed it.
    transport.route("POST", r"/composite$", [requests.exceptions.ConnectionError("Connection aborted.",
                                                                                 ConnectionResetError(104)),
                                             (200, {"compositeResponse": []})])
    sleeps = []
    with pytest.raises(OutcomeUnknownError) as caught:
        make(transport, sleeps=sleeps).composite([{"method": "PATCH", "url": V + "/sobjects/User/005",
                                                   "referenceId": "u", "body": {}}], all_or_none=True)
    assert len(transport.calls_to("/composite")) == 1
    assert sleeps == []
    assert isinstance(caught.value, ConnectionFailure)   # callers catching ConnectionFailure still do


def test_a_create_is_not_re_sent_after_the_connection_broke(transport):
    transport.route("POST", r"/composite/sobjects$", [requests.exceptions.ChunkedEncodingError("broken"),
                                                      (200, [{"id": "005", "success": True, "errors": []}])])
    with pytest.raises(OutcomeUnknownError):
        make(transport).create_records("User", [{"Username": "a@b.c"}])
    assert len(transport.calls_to("/composite/sobjects")) == 1


def test_a_write_whose_connection_never_opened_is_retried(transport):
    from urllib3.exceptions import NewConnectionError
    refused = requests.exceptions.ConnectionError(NewConnectionError(None, "Connection refused"))
    transport.route("POST", r"/composite$", [refused, (200, {"compositeResponse": []})])
    assert make(transport).composite([{"method": "GET", "url": V + "/limits", "referenceId": "l"}]) == {}
    assert len(transport.calls_to("/composite")) == 2


def test_connection_error_text_never_holds_the_token(transport):
    transport.route("GET", r"/limits$", requests.exceptions.InvalidHeader(
        "Invalid return character or leading space in header: Authorization: 'Bearer 00Dfake!token\\n'"))
    with pytest.raises(ConnectionFailure) as caught:
        make(transport).limits()
    assert "00Dfake!token" not in caught.value.render()
    assert "********" in caught.value.render()


def test_a_token_answer_with_a_control_character_is_refused(transport):
    transport.routes.clear()
    transport.route("POST", r"/services/oauth2/token$", token_ok(token="00Dfake!token\r\n"))
    with pytest.raises(UnsafeTransportError) as caught:
        make(transport).limits()
    assert "00Dfake" not in caught.value.render()


def test_get_text_reads_a_blob_as_text_renews_an_expired_session_and_counts_the_call(transport):
    tokens = iter(["first", "second"])
    transport.routes.clear()
    transport.route("POST", r"/services/oauth2/token$", lambda r, m: token_ok(token=next(tokens)))
    csv_bytes = '"USER_ID","ENTITY_NAME"\n"005000000000001","Compte é"\n'.encode("utf-8")

    def answer(request, match):
        if request.headers["Authorization"] == "Bearer first":
            return rest_error("INVALID_SESSION_ID", "Session expired or invalid", 401)
        return 200, csv_bytes
    transport.route("GET", r"/sobjects/EventLogFile/0AT000000000001AAA/LogFile$", answer)
    client = make(transport)
    text = client.get_text("sobjects/EventLogFile/0AT000000000001AAA/LogFile")
    assert text == csv_bytes.decode("utf-8")
    assert transport.calls_to("/LogFile")[-1].path == V + "/sobjects/EventLogFile/0AT000000000001AAA/LogFile"
    assert client.api_usage["calls"] == 2


def test_get_text_reports_salesforce_errors_and_refuses_paths_out_of_the_data_api(transport):
    transport.route("GET", r"/LogFile$", rest_error("NOT_FOUND", "The requested resource does not exist", 404))
    with pytest.raises(ApiError, match="does not exist"):
        make(transport).get_text("sobjects/EventLogFile/0AT000000000001AAA/LogFile")
    with pytest.raises(client_module.ConfigurationError):
        make(transport).get_text("../../secret")
