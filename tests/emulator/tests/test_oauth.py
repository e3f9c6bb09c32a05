"""OAuth flows with plain requests: JWT bearer, client credentials, username-password, identity."""
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROD, UAT = "acme-prod", "acme-uat"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _key(emulator, org):
    with open(emulator.org(org)["admin"]["private_key_file"], "rb") as handle:
        return handle.read()


def _assertion(emulator, org, key=None, **overrides):
    admin = emulator.org(org)["admin"]
    claims = {"iss": admin["client_id"], "sub": admin["username"], "aud": emulator.org(org)["audience"],
              "exp": int(time.time()) + 180}
    claims.update(overrides)
    return jwt.encode(claims, key or _key(emulator, org), algorithm="RS256")


def _token(emulator, **form):
    return emulator.http.post(emulator.base_url + "/services/oauth2/token", data=form)


def _login_rows(emulator, org, user_id):
    return emulator.query(org, "SELECT Status, LoginType, Application FROM LoginHistory WHERE UserId = '%s' "
                               "ORDER BY LoginTime DESC" % user_id)


@pytest.mark.parametrize("org", [PROD, UAT])
def test_jwt_bearer_success(emulator, org):
    answer = _token(emulator, grant_type=JWT_GRANT, assertion=_assertion(emulator, org))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"access_token", "instance_url", "id", "token_type", "issued_at", "scope"} <= set(body)
    assert body["token_type"] == "Bearer" and body["instance_url"] == emulator.org(org)["instance_url"]
    assert body["issued_at"].isdigit() and len(body["issued_at"]) == 13
    admin = emulator.org(org)["admin"]
    assert body["id"] == "%s/id/%s/%s" % (emulator.base_url, emulator.org(org)["org_id"], admin["user_id"])
    me = emulator.rest(org, "GET", "query", token=body["access_token"],
                       params={"q": "SELECT Username FROM User WHERE Id = '%s'" % admin["user_id"]})
    assert me.json()["records"][0]["Username"] == admin["username"]


def test_sandbox_and_production_audiences(emulator):
    assert emulator.org(PROD)["audience"] == "https://login.salesforce.com"
    assert emulator.org(UAT)["audience"] == "https://test.salesforce.com"
    assert emulator.org(UAT)["admin"]["client_id"] != emulator.org(PROD)["admin"]["client_id"]
    assert emulator.org(UAT)["admin"]["username"].endswith(".uat")


@pytest.mark.parametrize("org, audience", [(PROD, "https://test.salesforce.com"),
                                           (UAT, "https://login.salesforce.com"),
                                           (PROD, "https://example.com")])
def test_jwt_wrong_audience(emulator, org, audience):
    answer = _token(emulator, grant_type=JWT_GRANT, assertion=_assertion(emulator, org, aud=audience))
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": "audience is invalid"}


def test_jwt_expired(emulator):
    answer = _token(emulator, grant_type=JWT_GRANT, assertion=_assertion(emulator, PROD, exp=int(time.time()) - 600))
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": "expired authorization code"}


def test_jwt_signed_with_another_key(emulator):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    answer = _token(emulator, grant_type=JWT_GRANT, assertion=_assertion(emulator, PROD, key=other))
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_jwt_unknown_client_and_user(emulator):
    answer = _token(emulator, grant_type=JWT_GRANT, assertion=_assertion(emulator, PROD, iss="NOPE"))
    assert answer.json()["error"] == "invalid_client_id"
    answer = _token(emulator, grant_type=JWT_GRANT, assertion=_assertion(emulator, PROD, sub="nobody@acme.example"))
    assert answer.json() == {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
    # A production username with the sandbox's app: the user lives in another org.
    answer = _token(emulator, grant_type=JWT_GRANT,
                    assertion=_assertion(emulator, UAT, sub=emulator.org(PROD)["admin"]["username"]))
    assert answer.status_code == 400


def test_jwt_inactive_user_refused_and_logged(emulator):
    answer = _token(emulator, grant_type=JWT_GRANT, assertion=_assertion(emulator, PROD, sub="svc.old@acme.example"))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    user = emulator.query(PROD, "SELECT Id FROM User WHERE Username = 'svc.old@acme.example'")["records"][0]
    rows = _login_rows(emulator, PROD, user["Id"])["records"]
    assert rows and rows[0]["Status"] != "Success"


def test_successful_login_writes_login_history(emulator):
    admin = emulator.org(PROD)["admin"]
    soql = ("SELECT COUNT() FROM LoginHistory WHERE UserId = '%s' AND Status = 'Success' "
            "AND LoginType = 'Remote Access 2.0' AND Application = 'Ops Automation'" % admin["user_id"])
    before = emulator.query(PROD, soql)["totalSize"]
    assert _token(emulator, grant_type=JWT_GRANT, assertion=_assertion(emulator, PROD)).status_code == 200
    assert emulator.query(PROD, soql)["totalSize"] == before + 1


def test_client_credentials(emulator):
    admin = emulator.org(PROD)["admin"]
    answer = _token(emulator, grant_type="client_credentials", client_id=admin["client_id"],
                    client_secret=admin["client_secret"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"].endswith("/" + admin["user_id"])          # the app's run-as user
    basic = emulator.http.post(emulator.base_url + "/services/oauth2/token", data={"grant_type": "client_credentials"},
                               auth=(admin["client_id"], admin["client_secret"]))
    assert basic.status_code == 200
    wrong = _token(emulator, grant_type="client_credentials", client_id=admin["client_id"], client_secret="nope")
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_client", "error_description": "invalid client credentials"}


def test_password_flow(emulator):
    admin = emulator.org(PROD)["admin"]
    form = {"grant_type": "password", "client_id": admin["client_id"], "client_secret": admin["client_secret"],
            "username": admin["username"]}
    answer = _token(emulator, password=admin["password"] + admin["security_token"], **form)
    assert answer.status_code == 200, answer.text
    failed_before = [r for r in _login_rows(emulator, PROD, admin["user_id"])["records"] if r["Status"] != "Success"]
    wrong = _token(emulator, password="wrong", **form)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "authentication failure"}
    failed_after = [r for r in _login_rows(emulator, PROD, admin["user_id"])["records"] if r["Status"] != "Success"]
    assert len(failed_after) == len(failed_before) + 1
    unknown = _token(emulator, password="x", **dict(form, username="nobody@nowhere.example"))
    assert unknown.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_unsupported_grant(emulator):
    answer = _token(emulator, grant_type="authorization_code", code="x")
    assert answer.status_code == 400
    assert answer.json() == {"error": "unsupported_grant_type", "error_description": "grant type not supported"}


def test_userinfo_and_identity_describe_the_caller(emulator):
    admin = emulator.org(PROD)["admin"]
    headers = {"Authorization": "Bearer " + admin["access_token"]}
    info = emulator.http.get(emulator.base_url + "/services/oauth2/userinfo", headers=headers)
    assert info.status_code == 200
    assert info.json()["preferred_username"] == admin["username"]
    assert info.json()["organization_id"] == emulator.org(PROD)["org_id"]
    identity_url = "%s/id/%s/%s" % (emulator.base_url, emulator.org(PROD)["org_id"], admin["user_id"])
    identity = emulator.http.get(identity_url, headers=headers)
    assert identity.status_code == 200
    assert identity.json()["username"] == admin["username"] and identity.json()["id"] == identity_url
    assert emulator.http.get(identity_url, headers={"Authorization": "Bearer bogus"}).status_code == 403
    other = emulator.org(UAT)["admin"]["access_token"]
    assert emulator.http.get(identity_url, headers={"Authorization": "Bearer " + other}).status_code == 403
