# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.sfops.integration_users.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.sfops.integration_users.plugins.module_utils import connection
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    AuthenticationError,
    ConfigurationError,
)

SECRETS = {"client_secret", "private_key", "password", "security_token", "access_token"}


@pytest.fixture(scope="module")
def key_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def validated(args, monkeypatch=None):
    result = ArgumentSpecValidator(connection.connection_argument_spec()).validate(args)
    assert not result.error_messages, result.error_messages
    return result


def test_doc_fragment_documents_exactly_the_table():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = connection.connection_argument_spec()
    assert set(documented) == set(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default") or float(doc.get("default")) == option.get("default"), name
        assert doc.get("choices") == option.get("choices"), name
        assert connection.env_var(name) in " ".join(doc["description"]), name


def test_secrets_are_no_log_and_others_are_not():
    spec = connection.connection_argument_spec()
    assert {name for name, option in spec.items() if option["no_log"]} == SECRETS
    assert spec["private_key_file"]["no_log"] is False


def test_environment_fallback_and_masking(monkeypatch):
    monkeypatch.setenv("SALESFORCE_CLIENT_SECRET", "from-env-secret")
    monkeypatch.setenv("SALESFORCE_TIMEOUT", "7")
    result = validated({"client_id": "cid"})
    assert result.validated_parameters["client_secret"] == "from-env-secret"
    assert result.validated_parameters["timeout"] == 7.0
    assert "from-env-secret" in result._no_log_values


@pytest.mark.parametrize("given, expected", [
    ({"access_token": "t", "client_id": "c", "client_secret": "s"}, "access_token"),
    ({"private_key_file": "/k", "client_id": "c"}, "jwt"),
    ({"password": "p", "client_id": "c", "client_secret": "s"}, "password"),
    ({"client_id": "c", "client_secret": "s"}, "client_credentials"),
    ({"auth": "jwt", "client_id": "c", "client_secret": "s"}, "jwt"),
])
def test_infer_auth(given, expected):
    assert connection.infer_auth(given) == expected


def test_infer_auth_without_credentials_says_what_is_needed():
    with pytest.raises(ConfigurationError) as caught:
        connection.infer_auth({"login_url": "https://acme.my.salesforce.com"})
    assert "client_id + client_secret" in caught.value.render()
    assert caught.value.org == "acme.my.salesforce.com"


@pytest.mark.parametrize("login_url, audience", [
    ("https://test.salesforce.com", connection.SANDBOX_AUDIENCE),
    ("https://acme--uat.sandbox.my.salesforce.com", connection.SANDBOX_AUDIENCE),
    ("https://login.salesforce.com", connection.PRODUCTION_AUDIENCE),
    ("https://acme.my.salesforce.com", connection.PRODUCTION_AUDIENCE),
    ("https://127.0.0.1:8443", connection.PRODUCTION_AUDIENCE),
])
def test_default_audience(login_url, audience):
    assert connection.default_audience(login_url) == audience


def test_missing_options_are_named():
    with pytest.raises(ConfigurationError) as caught:
        connection.auth_flow({"auth": "password", "client_id": "c", "client_secret": "s", "username": "u"})
    assert "missing: password" in caught.value.message
    with pytest.raises(ConfigurationError):
        connection.auth_flow({"auth": "access_token", "access_token": "t"})
    with pytest.raises(ConfigurationError) as caught:
        connection.auth_flow({"client_id": "c", "client_secret": "s"})
    assert "My Domain" in caught.value.message
    with pytest.raises(ConfigurationError):
        connection.auth_flow({"auth": "jwt", "client_id": "c", "username": "u"})


def test_jwt_assertion_claims_and_signature(key_pair):
    private, public = key_pair
    flow = connection.auth_flow({"client_id": "consumer", "username": "svc@acme.com.uat", "private_key": private,
                                 "login_url": "https://test.salesforce.com"})
    assert flow.token_url == "https://test.salesforce.com/services/oauth2/token"
    form = flow.token_request()
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(form["assertion"], public, algorithms=["RS256"], audience=connection.SANDBOX_AUDIENCE)
    assert claims["iss"] == "consumer" and claims["sub"] == "svc@acme.com.uat"


def test_jwt_audience_option_wins_and_key_file_is_read(tmp_path, key_pair):
    private, public = key_pair
    key_file = tmp_path / "server.key"
    key_file.write_text(private)
    flow = connection.auth_flow({"client_id": "c", "username": "u", "private_key_file": str(key_file),
                                 "audience": "https://custom.example", "login_url": "https://login.salesforce.com"})
    claims = jwt.decode(flow.assertion(), public, algorithms=["RS256"], audience="https://custom.example")
    assert claims["aud"] == "https://custom.example"


def test_jwt_bad_key_names_the_option_not_the_key():
    flow = connection.auth_flow({"client_id": "c", "username": "u", "private_key": "NOT-A-KEY-secretvalue"})
    with pytest.raises(ConfigurationError) as caught:
        flow.assertion()
    assert "NOT-A-KEY" not in caught.value.render()
    flow = connection.auth_flow({"client_id": "c", "username": "u", "private_key_file": "/nonexistent/key.pem"})
    with pytest.raises(ConfigurationError) as caught:
        flow.assertion()
    assert "/nonexistent/key.pem" in caught.value.message


def test_password_flow_appends_security_token():
    flow = connection.auth_flow({"auth": "password", "client_id": "c", "client_secret": "s", "username": "u",
                                 "password": "pw", "security_token": "TOK"})
    assert flow.token_request()["password"] == "pwTOK"
    assert flow.token_url == connection.DEFAULT_LOGIN_URL + "/services/oauth2/token"


def test_authenticate_success_and_refusal():
    flow = connection.auth_flow({"client_id": "c", "client_secret": "s", "login_url": "https://acme.my.salesforce.com/"})
    sent = []

    def post_ok(url, data):
        sent.append((url, data))
        return 200, {"access_token": "tok", "instance_url": "https://acme.my.salesforce.com",
                     "id": "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA"}
    credentials = flow.authenticate(post_ok)
    assert sent == [("https://acme.my.salesforce.com/services/oauth2/token",
                     {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"})]
    assert (credentials.instance_url, credentials.access_token) == ("https://acme.my.salesforce.com", "tok")

    def post_refused(url, data):
        return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
    with pytest.raises(AuthenticationError) as caught:
        flow.authenticate(post_refused)
    message = caught.value.render()
    assert "invalid_client" in message and "client_secret" in message and "'s'" not in message


def test_access_token_flow_makes_no_request():
    flow = connection.auth_flow({"access_token": "tok", "instance_url": "https://acme.my.salesforce.com"})
    assert not flow.renewable
    credentials = flow.authenticate(lambda url, data: pytest.fail("no token request expected"))
    assert credentials.access_token == "tok"


def test_tls_verify():
    assert connection.tls_verify({"validate_certs": False, "ca_path": "/ca.pem"}) is False
    assert connection.tls_verify({"validate_certs": True, "ca_path": "/ca.pem"}) == "/ca.pem"
    assert connection.tls_verify({"validate_certs": True}) is True


# ---- issue 13: no secret ever printed ---------------------------------------------------------------------
BASE = {"login_url": "https://acme.my.salesforce.com", "client_id": "cid", "username": "svc@acme.com"}
SECRET_VALUE = "S3cr3tValue0123"
TAMPERED = {"newline": SECRET_VALUE + "\n", "crlf": SECRET_VALUE + "\r\n", "space": "S3cr3t Value0123",
            "tab": SECRET_VALUE + "\t", "leading space": " " + SECRET_VALUE, "nul": SECRET_VALUE + "\x00"}


@pytest.mark.parametrize("name", ["client_secret", "password", "security_token", "access_token"])
@pytest.mark.parametrize("form", sorted(TAMPERED))
def test_secret_with_whitespace_or_control_is_refused_without_echo(name, form):
    params = dict(BASE, client_secret="ok-secret", password="ok-password", access_token="ok-token",
                  instance_url="https://acme.my.salesforce.com", auth="password")
    params[name] = TAMPERED[form]
    with pytest.raises(ConfigurationError) as caught:
        connection.auth_flow(params)
    text = caught.value.render()
    assert name in text
    for shown in (SECRET_VALUE, "S3cr3t", repr(TAMPERED[form])):
        assert shown not in text


def test_private_key_may_hold_line_breaks_but_no_other_control(key_pair):
    private, dummy = key_pair
    params = dict(BASE, private_key=private.replace("\n", "\r\n"))
    assert connection.auth_flow(params).name == "jwt"
    with pytest.raises(ConfigurationError) as caught:
        connection.auth_flow(dict(BASE, private_key=private.replace("\n", "\n\t", 3)))
    assert "private_key" in caught.value.render() and "MII" not in caught.value.render()


def test_describe_bad_characters_names_the_problem_only():
    assert connection.describe_bad_characters("abc") is None
    assert "line break" in connection.describe_bad_characters("abc\n")
    assert "tab" in connection.describe_bad_characters("a\tbc")
    assert "space" in connection.describe_bad_characters("a bc")


@pytest.mark.parametrize("entry", ["evil.example.com/path", "http://x", "a b", "host:port"])
def test_allowed_hosts_entries_are_checked(entry):
    with pytest.raises(ConfigurationError):
        connection.auth_flow(dict(BASE, client_secret="s", allowed_hosts=[entry]))


def test_check_token_url_rules():
    params = {"login_url": "https://127.0.0.1:8443"}
    connection.check_token_url(params, "instance_url", "https://127.0.0.1:8443", "jwt")
    connection.check_token_url(params, "instance_url", "https://acme.my.salesforce.com", "jwt")
    connection.check_token_url(params, "instance_url", "https://acme.lightning.force.com/", "jwt")
    for bad in ("http://127.0.0.1:8443", "https://127.0.0.1:9443", "https://salesforce.com.evil.example",
                "https://evilsalesforce.com", "https://acme.my.salesforce.com:8443", "not a url", "", None):
        with pytest.raises(Exception) as caught:
            connection.check_token_url(params, "instance_url", bad, "jwt")
        assert type(caught.value).__name__ == "UnsafeTransportError", bad


def test_masking_covers_escaped_and_repr_forms():
    from ansible.module_utils.common.parameters import remove_values
    secret = "00Dx!AQtokenvalue\r\n"
    result = {"msg": "Invalid header value %r" % ("Bearer " + secret), "json": '{"t": %s}' % __import__("json").dumps(secret)}
    masked = remove_values(result, connection.secret_variants({secret}))
    assert "tokenvalue" not in str(masked), masked
    # Without the variants the plain value alone misses the escaped text.
    assert "tokenvalue" in str(remove_values(result, {secret}))
