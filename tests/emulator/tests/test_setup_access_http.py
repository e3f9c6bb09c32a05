"""Issue 12 over HTTPS with real clients: connected-app pre-authorization (requests, every OAuth flow),
login IP ranges and hours, Apex REST (simple-salesforce apexecute), SetupEntityAccess through REST."""
import os
import time

import jwt
import pytest

from conftest import start_emulator
from sfemu.estate import Estate

simple_salesforce = pytest.importorskip("simple_salesforce")

ESTATE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "estates", "access.yml")
PROD, UAT = "acme-prod", "acme-uat"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MULE = "svc.mulesoft@acme.example"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    running = start_emulator(str(tmp_path_factory.mktemp("access")), ESTATE)   # --seed 7
    yield running
    running.stop()


@pytest.fixture(scope="module")
def secrets():
    """Client secrets and user credentials as the emulator derives them from the seed (7)."""
    estate = Estate.from_file(ESTATE, seed=7)
    out = {}
    for name, org in estate.orgs.items():
        apps = {app["name"]: app["client_secret"] for app in org.connected_apps}
        users = {row["Username"]: org.credentials[row["Id"]] for row in org.tables["User"].values()}
        out[name] = {"apps": apps, "users": users}
    return out


def _suffix(org):
    return ".uat" if org == UAT else ""


def _jwt(emu, org, app_slug, client_id, username):
    with open(os.path.join(emu.ready["state_dir"], "keys", "%s-%s.key" % (org, app_slug)), "rb") as handle:
        key = handle.read()
    assertion = jwt.encode({"iss": client_id + _suffix(org), "sub": username + _suffix(org),
                            "aud": emu.org(org)["audience"], "exp": int(time.time()) + 120}, key, algorithm="RS256")
    return emu.http.post(emu.base_url + "/services/oauth2/token",
                         data={"grant_type": JWT_GRANT, "assertion": assertion})


def _mule_jwt(emu, org, username):
    return _jwt(emu, org, "mulesoft_connector", "ACME_MULE_CLIENT", username)


def _last_login(emu, org, username):
    found = emu.query(org, "SELECT Id FROM User WHERE Username = '%s'" % (username + _suffix(org)))
    user_id = found["records"][0]["Id"]
    return emu.query(org, "SELECT Status, Application FROM LoginHistory WHERE UserId = '%s' "
                          "ORDER BY LoginTime DESC LIMIT 1" % user_id)["records"][0]


@pytest.mark.parametrize("org", [PROD, UAT])
def test_jwt_through_an_admin_approved_app(emu, org):
    assert _mule_jwt(emu, org, MULE).status_code == 200                       # pre-authorized by its profile
    assert _mule_jwt(emu, org, "svc.connector@acme.access").status_code == 200   # ... by a permission set
    refused = _mule_jwt(emu, org, "svc.bare@acme.access")
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
    row = _last_login(emu, org, "svc.bare@acme.access")
    assert row["Application"] == "MuleSoft Connector" and row["Status"] != "Success"
    # The same user through an app that is not admin-approved logs in.
    ops = _jwt(emu, org, "ops_automation", "ACCESS_OPS_CLIENT", "svc.bare@acme.access")
    assert ops.status_code == 200, ops.text


def test_login_ip_ranges_and_hours(emu):
    remote = _jwt(emu, PROD, "ops_automation", "ACCESS_OPS_CLIENT", "svc.remote@acme.access")
    assert remote.status_code == 400 and remote.json()["error"] == "invalid_grant"
    assert remote.json()["error_description"] == "ip restricted"
    assert _last_login(emu, PROD, "svc.remote@acme.access")["Status"] == "Restricted IP"
    nightly = _jwt(emu, PROD, "ops_automation", "ACCESS_OPS_CLIENT", "svc.nightly@acme.access")
    assert nightly.status_code == 400 and nightly.json()["error_description"] == "login hours restricted"
    assert _last_login(emu, PROD, "svc.nightly@acme.access")["Status"] == "Restricted Time"
    # The MuleSoft profile's range holds the loopback address: in.
    assert _jwt(emu, PROD, "ops_automation", "ACCESS_OPS_CLIENT", MULE).status_code == 200


def _password(emu, secrets, app, username, password):
    return emu.http.post(emu.base_url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": {"Ops Automation": "ACCESS_OPS_CLIENT",
                                                "Legacy Sync": "ACME_LEGACY_CLIENT"}[app],
        "client_secret": secrets[PROD]["apps"][app], "username": username, "password": password})


def test_password_flow_security_token_and_pre_authorization(emu, secrets):
    users = secrets[PROD]["users"]
    mule, bare = users[MULE], users["svc.bare@acme.access"]
    # Inside its profile's IP range the password alone is enough; elsewhere the token is needed.
    assert _password(emu, secrets, "Ops Automation", MULE, mule["password"]).status_code == 200
    alone = _password(emu, secrets, "Ops Automation", "svc.bare@acme.access", bare["password"])
    assert alone.json() == {"error": "invalid_grant", "error_description": "authentication failure"}
    assert _password(emu, secrets, "Ops Automation", "svc.bare@acme.access",
                     bare["password"] + bare["security_token"]).status_code == 200
    legacy = users["svc.legacy@acme.access"]
    refused = _password(emu, secrets, "Legacy Sync", "svc.legacy@acme.access",
                        legacy["password"] + legacy["security_token"])
    assert refused.json() == {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}


def test_client_credentials_run_as_user_needs_access_granted_through_rest(emu, secrets):
    def login():
        return emu.http.post(emu.base_url + "/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": "ACME_LEGACY_CLIENT",
            "client_secret": secrets[PROD]["apps"]["Legacy Sync"]})
    emu.reset()
    try:
        assert login().json() == {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
        parent = emu.query(PROD, "SELECT Id FROM PermissionSet WHERE Profile.Name = 'Legacy Sync Integration'")[
            "records"][0]["Id"]
        app_id = emu.query(PROD, "SELECT Id FROM ConnectedApplication WHERE Name = 'Legacy Sync'")["records"][0]["Id"]
        created = emu.rest(PROD, "POST", "sobjects/SetupEntityAccess",
                           json={"ParentId": parent, "SetupEntityId": app_id})
        assert created.status_code == 201, created.text
        duplicate = emu.rest(PROD, "POST", "sobjects/SetupEntityAccess",
                             json={"ParentId": parent, "SetupEntityId": app_id})
        assert duplicate.status_code == 400 and duplicate.json()[0]["errorCode"] == "DUPLICATE_VALUE"
        assert login().status_code == 200
        assert emu.rest(PROD, "DELETE", "sobjects/SetupEntityAccess/" + created.json()["id"]).status_code == 204
        assert login().json()["error_description"] == "user hasn't approved this consumer"
    finally:
        emu.reset()


def _client(emu, token):
    session = emu.session()
    return simple_salesforce.Salesforce(instance_url=emu.base_url, session_id=token, session=session, version="62.0")


def test_apex_rest_with_simple_salesforce(emu):
    mule = _mule_jwt(emu, PROD, MULE).json()["access_token"]
    assert _client(emu, mule).apexecute("orders/1", method="GET") == "ok"
    bare = _jwt(emu, PROD, "ops_automation", "ACCESS_OPS_CLIENT", "svc.bare@acme.access").json()["access_token"]
    with pytest.raises(simple_salesforce.exceptions.SalesforceError) as refused:
        _client(emu, bare).apexecute("orders/1", method="GET")
    assert refused.value.status == 403
    assert refused.value.content == [{"errorCode": "FORBIDDEN",
                                      "message": "You do not have access to the Apex class named: OrderService"}]
    unauthenticated = emu.http.get(emu.base_url + "/services/apexrest/orders/1")
    assert unauthenticated.status_code == 401
    used = emu.admin("GET", "orgs/%s/calls" % PROD).json()["calls"]
    assert used.get("GET /apexrest", 0) >= 2
