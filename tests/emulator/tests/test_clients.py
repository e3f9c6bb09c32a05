"""Real clients over HTTPS: simple-salesforce for data, plain requests for the OAuth flows."""
import time

import jwt
import pytest
import requests

simple_salesforce = pytest.importorskip("simple_salesforce")

PROD = "acme-prod"
API = "62.0"


def _client(emulator, token, instance_url):
    session = requests.Session()
    session.trust_env = False                   # REQUESTS_CA_BUNDLE would override verify otherwise
    session.verify = emulator.ca_file
    return simple_salesforce.Salesforce(instance_url=instance_url, session_id=token, session=session, version=API)


def _jwt_login(emulator, org):
    """JWT bearer flow as an integration would run it: sign with the app's key, post to the login URL."""
    connection = emulator.org(org)
    admin = connection["admin"]
    with open(admin["private_key_file"], "rb") as handle:
        assertion = jwt.encode({"iss": admin["client_id"], "sub": admin["username"], "aud": connection["audience"],
                                "exp": int(time.time()) + 180}, handle.read(), algorithm="RS256")
    answer = emulator.session().post(connection["login_url"] + "/services/oauth2/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def sf(fresh):
    token = _jwt_login(fresh, PROD)
    return _client(fresh, token["access_token"], token["instance_url"])


def test_all_three_flows_give_working_sessions(emulator):
    admin = emulator.org(PROD)["admin"]
    login_url = emulator.org(PROD)["login_url"] + "/services/oauth2/token"
    http = emulator.session()
    tokens = [
        _jwt_login(emulator, PROD),
        http.post(login_url, data={"grant_type": "client_credentials", "client_id": admin["client_id"],
                                   "client_secret": admin["client_secret"]}).json(),
        http.post(login_url, data={"grant_type": "password", "client_id": admin["client_id"],
                                   "client_secret": admin["client_secret"], "username": admin["username"],
                                   "password": admin["password"] + admin["security_token"]}).json(),
    ]
    for token in tokens:
        client = _client(emulator, token["access_token"], token["instance_url"])
        assert client.query("SELECT Username FROM User WHERE Username = '%s'" % admin["username"])["totalSize"] == 1


def test_query_and_query_all_paging(sf):
    records = [{"attributes": {"type": "Contact"}, "LastName": "SSF %04d" % n} for n in range(200)]
    for _ in range(2):
        results = sf.restful("composite/sobjects", method="POST", json={"records": records})
        assert all(r["success"] for r in results)
    sf.headers["Sforce-Query-Options"] = "batchSize=200"
    first = sf.query("SELECT Id, LastName FROM Contact WHERE LastName LIKE 'SSF%'")
    assert first["totalSize"] == 400 and first["done"] is False and len(first["records"]) == 200
    everything = sf.query_all("SELECT Id, LastName FROM Contact WHERE LastName LIKE 'SSF%'")
    assert everything["totalSize"] == 400 and len(everything["records"]) == 400
    assert len({r["Id"] for r in everything["records"]}) == 400


def test_sobject_crud(sf):
    created = sf.Account.create({"Name": "Client Co", "Industry": "Energy"})
    assert created["success"] is True and created["errors"] == []
    record = sf.Account.get(created["id"])
    assert record["Name"] == "Client Co"
    assert sf.Account.update(created["id"], {"Industry": "Retail"}) == 204
    assert sf.Account.get(created["id"][:15])["Industry"] == "Retail"
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(simple_salesforce.exceptions.SalesforceResourceNotFound):
        sf.Account.get(created["id"])
    assert sf.User.describe()["name"] == "User"


def test_client_sees_salesforce_errors(sf):
    with pytest.raises(simple_salesforce.exceptions.SalesforceMalformedRequest) as caught:
        sf.query("SELECT Nope FROM User")
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(simple_salesforce.exceptions.SalesforceMalformedRequest) as caught:
        sf.Account.create({"Industry": "Energy"})
    assert caught.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_restful_composite(sf):
    answer = sf.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v%s/sobjects/Account" % API, "referenceId": "acct",
         "body": {"Name": "Composite Client", "Industry": "Energy"}},
        {"method": "GET", "url": "/services/data/v%s/sobjects/Account/@{acct.id}" % API, "referenceId": "read"},
    ]})
    codes = [r["httpStatusCode"] for r in answer["compositeResponse"]]
    assert codes == [201, 200]
    assert answer["compositeResponse"][1]["body"]["Name"] == "Composite Client"


def test_client_sees_expired_session(sf, fresh):
    fresh.admin("POST", "orgs/%s/expire-sessions" % PROD)
    with pytest.raises(simple_salesforce.exceptions.SalesforceExpiredSession):
        sf.query("SELECT Id FROM User")


def test_integration_user_gains_account_access_through_psl_bound_set(fresh):
    """The migration's end state, seen by a real client: INVALID_TYPE until a PSL-bound set grants read."""
    admin = _client(fresh, fresh.token(PROD), fresh.org(PROD)["instance_url"])
    profile = admin.query("SELECT Id FROM Profile WHERE Name = 'Minimum Access - API Only Integrations'")
    created = admin.User.create({
        "Username": "svc.fresh@acme.example", "LastName": "Fresh", "Email": "svc.fresh@acme.example",
        "Alias": "svcfresh", "ProfileId": profile["records"][0]["Id"], "TimeZoneSidKey": "GMT",
        "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"})
    connection = fresh.org(PROD)
    with open(connection["admin"]["private_key_file"], "rb") as handle:
        assertion = jwt.encode({"iss": connection["admin"]["client_id"], "sub": "svc.fresh@acme.example",
                                "aud": connection["audience"], "exp": int(time.time()) + 180},
                               handle.read(), algorithm="RS256")
    token = fresh.session().post(connection["login_url"] + "/services/oauth2/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}).json()
    integration = _client(fresh, token["access_token"], token["instance_url"])
    for soql in ("SELECT Id FROM Account", "SELECT Id FROM Organization"):
        with pytest.raises(simple_salesforce.exceptions.SalesforceMalformedRequest) as caught:
            integration.query(soql)
        assert caught.value.content[0]["errorCode"] == "INVALID_TYPE"

    psl = admin.query("SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")
    psl_id = psl["records"][0]["Id"]
    base = "/services/data/v%s/sobjects/" % API
    answer = admin.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": base + "PermissionSet", "referenceId": "set",
         "body": {"Name": "Account_Read_Int", "Label": "Account read", "LicenseId": psl_id}},
        {"method": "POST", "url": base + "ObjectPermissions", "referenceId": "perm",
         "body": {"ParentId": "@{set.id}", "SobjectType": "Account", "PermissionsRead": True}},
        {"method": "POST", "url": base + "PermissionSetLicenseAssign", "referenceId": "seat",
         "body": {"AssigneeId": created["id"], "PermissionSetLicenseId": psl_id}},
        {"method": "POST", "url": base + "PermissionSetAssignment", "referenceId": "assign",
         "body": {"AssigneeId": created["id"], "PermissionSetId": "@{set.id}"}},
    ]})
    assert [r["httpStatusCode"] for r in answer["compositeResponse"]] == [201] * 4, answer
    assert integration.query("SELECT Id FROM Account")["totalSize"] > 0
