# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options (one table -> argument spec) and the OAuth flows that turn them into a session.

The table below is the single source of the connection options: the argument spec of every module
is generated from it (with ``SALESFORCE_*`` environment fallbacks and ``no_log``), and
``plugins/doc_fragments/connection.py`` documents the same rows (a unit test keeps both in step).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time
import uuid
from urllib.parse import urlparse

# Imported at load time on purpose: the controller loads the action plugins (and so this file) once
# before forking its workers, which then share the import instead of paying for it per task.
try:
    import jwt
except ImportError as exc:  # reported with missing_required_lib when a JWT is needed
    jwt = None
    JWT_IMPORT_ERROR = exc
else:
    JWT_IMPORT_ERROR = None

from ansible.module_utils.basic import env_fallback

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    AuthenticationError,
    ConfigurationError,
    MissingLibraryError,
    UnsafeTransportError,
    hint_for,
)

DEFAULT_API_VERSION = "62.0"
DEFAULT_LOGIN_URL = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"
PRODUCTION_AUDIENCE = "https://login.salesforce.com"
AUTH_METHODS = ("client_credentials", "jwt", "access_token", "password")
PASSWORD_FLOW_RETIREMENT = "2027-02-20"
JWT_LIFETIME_SECONDS = 180

# name, type, no_log, default, extra argspec keys. Environment variable: SALESFORCE_<NAME>.
CONNECTION_OPTIONS = (
    ("login_url", "str", False, None, {}),
    ("instance_url", "str", False, None, {}),
    ("auth", "str", False, None, {"choices": list(AUTH_METHODS)}),
    ("client_id", "str", False, None, {}),
    ("client_secret", "str", True, None, {}),
    ("private_key", "str", True, None, {}),
    ("private_key_file", "path", False, None, {}),
    ("username", "str", False, None, {}),
    ("password", "str", True, None, {}),
    ("security_token", "str", True, None, {}),
    ("access_token", "str", True, None, {}),
    ("audience", "str", False, None, {}),
    ("api_version", "str", False, DEFAULT_API_VERSION, {}),
    ("validate_certs", "bool", False, True, {}),
    ("ca_path", "path", False, None, {}),
    ("timeout", "float", False, 30.0, {}),
    ("retries", "int", False, 3, {}),
    ("allowed_hosts", "list", False, None, {"elements": "str"}),
)

# Secret options: refused when they hold a control or whitespace character, before any use, and never echoed.
SECRET_OPTIONS = tuple(row[0] for row in CONNECTION_OPTIONS if row[2])
# Salesforce's own domains: a token answer may send the client to any host below them (https, port 443).
SALESFORCE_DOMAINS = ("salesforce.com", "force.com", "cloudforce.com", "salesforce.mil", "force.mil",
                      "sfcrmproducts.cn", "salesforce-setup.com", "database.com")
_API_VERSION = re.compile(r"^[vV]?(\d{2,3}\.\d)$")


def env_var(name):
    return "SALESFORCE_" + name.upper()


def connection_argument_spec():
    """The argument spec of the connection options (a fresh dict: callers may extend it)."""
    spec = {}
    for name, kind, secret, default, extra in CONNECTION_OPTIONS:
        option = dict(type=kind, no_log=secret, fallback=(env_fallback, [env_var(name)]))
        if default is not None:
            option["default"] = default
        option.update(extra)
        spec[name] = option
    return spec


CONNECTION_OPTION_NAMES = tuple(row[0] for row in CONNECTION_OPTIONS)


def secret_variants(values):
    """``values`` (the no_log values of a task) plus the forms a message can hold them in: stripped,
    JSON-escaped and repr-escaped. Masking the plain value alone misses ``'Bearer 00D...\\n'``."""
    found = set()
    for value in values or ():
        if not isinstance(value, str) or not value:
            continue
        found.add(value)
        for form in (value.strip(), json.dumps(value)[1:-1], repr(value)[1:-1],
                     value.encode("unicode_escape").decode("ascii", "replace")):
            # Short forms would mask ordinary words of the result.
            if len(form) >= 4:
                found.add(form)
    return found


def describe_bad_characters(value):
    """Where a credential holds whitespace or control characters, in words that never quote the value:
    ``"ends with a line break"``, ``"holds a tab"``... None when the value is clean."""
    if not isinstance(value, str):
        return None
    found = []
    if value.endswith(("\n", "\r")):
        found.append("ends with a line break (a YAML block scalar or a vault file with a final newline?)")
    elif value != value.rstrip():
        found.append("ends with whitespace")
    if value != value.lstrip():
        found.append("starts with whitespace")
    inner = value.strip()
    for char, words in (("\n", "a line break"), ("\r", "a carriage return"), ("\t", "a tab"), (" ", "a space")):
        if char in inner:
            found.append("holds %s" % words)
    if any((ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029\ufeff") and c not in "\n\r\t" for c in value):
        found.append("holds a control character")
    elif any(c.isspace() for c in inner if c not in "\n\r\t "):
        found.append("holds a non-ASCII space")
    return ", ".join(found) or None


def _pem_bad_characters(value):
    # A PEM key is lines of base64 between BEGIN/END lines that hold spaces: only other control characters
    # (tabs, NUL, escape...) are wrong in it. CRLF line ends are accepted.
    if any(ord(c) < 32 and c not in "\n\r" or 127 <= ord(c) < 160 for c in value):
        return "holds a control character other than a line break"
    return None


def check_secrets(params):
    """Refuse secret options holding control or whitespace characters, before anything is sent.

    The value is never part of the message: a header check of the HTTP library would echo it (escaped, so
    ``no_log`` masking misses it)."""
    for name in SECRET_OPTIONS:
        value = params.get(name)
        if not value:
            continue
        problem = _pem_bad_characters(value) if name == "private_key" else describe_bad_characters(value)
        if problem:
            raise ConfigurationError(
                "%s %s; the value is not shown and nothing was sent" % (name, problem),
                org=org_label(params), user=_clean_label(params.get("username")),
                hint="remove the whitespace from %s (in YAML use '|-' or strip the vault file's final newline)"
                     % name)
    for name in ("client_id", "username"):
        value = params.get(name)
        if isinstance(value, str) and describe_bad_characters(value):
            raise ConfigurationError("%s %s" % (name, describe_bad_characters(value)),
                                     org=org_label(params), user=None,
                                     hint="remove the whitespace from %s" % name)


def _clean_label(value):
    return value if isinstance(value, str) and not describe_bad_characters(value) else None


def api_version_of(params):
    """``api_version`` as ``NN.N``; anything else (``62.0/../../x``) is refused before it becomes a path."""
    value = str(params.get("api_version") or DEFAULT_API_VERSION).strip()
    match = _API_VERSION.match(value)
    if not match:
        raise ConfigurationError("api_version must look like 62.0 (got %r)" % value[:40],
                                 org=org_label(params), user=_clean_label(params.get("username")),
                                 hint="give the REST API version as digits, a dot and a digit")
    return match.group(1)


def _endpoint(url):
    """(scheme, host, port) of a URL, port defaulted from the scheme; None when it does not parse."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except (ValueError, TypeError, AttributeError):
        return None
    scheme = (parsed.scheme or "").lower()
    host = (parsed.hostname or "").lower().rstrip(".")
    if not host:
        return None
    return scheme, host, port or {"https": 443, "http": 80}.get(scheme)


def allowed_endpoints(params):
    """Hosts a token answer may send the client to, besides Salesforce's domains: the configured login and
    instance hosts and ``allowed_hosts`` (``host``, ``host:port`` or ``.suffix``)."""
    exact, suffixes = set(), []
    for name in ("login_url", "instance_url"):
        found = _endpoint(params.get(name)) if params.get(name) else None
        if found:
            exact.add((found[1], found[2]))
    if not (params.get("login_url") or params.get("instance_url")):
        exact.add((_host(DEFAULT_LOGIN_URL), 443))
    for entry in params.get("allowed_hosts") or []:
        entry = str(entry).strip().lower()
        if entry.startswith("."):
            suffixes.append(entry)
            continue
        host, _sep, port = entry.partition(":")
        exact.add((host, int(port) if port.isdigit() else 443))
    return exact, suffixes


def check_token_url(params, name, url, method):
    """A URL from a token answer (``instance_url``, ``id``) must be https on an allowed host, or the bearer
    token would be sent to it in clear or to someone else."""
    found = _endpoint(url)
    shown = str(url)[:200]
    if found is None or found[0] != "https":
        raise UnsafeTransportError(
            "the %s token answer names %s %r, which is not an https URL: refused before any bearer token was sent"
            % (method, name, shown), org=org_label(params), user=_clean_label(params.get("username")))
    scheme, host, port = found
    exact, suffixes = allowed_endpoints(params)
    ok = (host, port) in exact or any(host.endswith(suffix) for suffix in suffixes) or (
        port == 443 and any(host == d or host.endswith("." + d) for d in SALESFORCE_DOMAINS))
    if not ok:
        raise UnsafeTransportError(
            "the %s token answer names %s on host %s%s, which is neither the configured login/instance host, "
            "a Salesforce domain nor in allowed_hosts: refused before any bearer token was sent"
            % (method, name, host, "" if port == 443 else ":%s" % port),
            org=org_label(params), user=_clean_label(params.get("username")),
            hint="if that host is really the org's, add it to allowed_hosts")


def _host(url):
    return (urlparse(url).hostname or "").lower() if url else ""


def default_audience(login_url):
    """JWT audience derived from the login URL: sandbox hosts get test.salesforce.com.

    Sandbox hosts: ``test.salesforce.com`` and My Domain sandbox hosts (``*.sandbox.my.salesforce.com``).
    Anything else (production, or a non-Salesforce host such as an emulator) gets login.salesforce.com;
    set ``audience`` explicitly when that guess is wrong.
    """
    host = _host(login_url)
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return SANDBOX_AUDIENCE
    return PRODUCTION_AUDIENCE


def infer_auth(params):
    """The auth method named by ``auth``, else the one the given credentials imply."""
    if params.get("auth"):
        return params["auth"]
    if params.get("access_token"):
        return "access_token"
    if params.get("private_key") or params.get("private_key_file"):
        return "jwt"
    if params.get("password"):
        return "password"
    if params.get("client_id") and params.get("client_secret"):
        return "client_credentials"
    raise ConfigurationError(
        "no credentials given: set access_token + instance_url, or client_id + client_secret "
        "(client credentials), or client_id + private_key/private_key_file + username (JWT), "
        "or auth=password with its options",
        org=org_label(params))


def org_label(params, instance_url=None):
    """How messages name the org: the instance host, else the login host."""
    return _host(instance_url or params.get("instance_url") or params.get("login_url")) or None


def _require(params, method, names):
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise ConfigurationError(
            "auth %s needs %s (missing: %s)" % (method, ", ".join(names), ", ".join(missing)),
            org=org_label(params), user=params.get("username"))


class Credentials:
    """What a flow produced: the instance URL, the bearer token, and whether it can be renewed."""

    def __init__(self, instance_url, access_token, identity_url=None):
        self.instance_url = instance_url.rstrip("/")
        self.access_token = access_token
        self.identity_url = identity_url


class AuthFlow:
    """Base of the auth methods. ``post`` is ``callable(url, data) -> (status, body)`` (the client's
    retrying token POST), so flows are tested without HTTP."""

    name = None
    renewable = True
    needs = ()
    # Options of which the flow needs one at least, and what to say when none is set.
    needs_one_of = ()
    needs_one_of_message = None

    def __init__(self, params):
        self.params = params
        _require(params, self.name, self.needs)
        if self.needs_one_of and not any(params.get(name) for name in self.needs_one_of):
            raise ConfigurationError(self.needs_one_of_message, org=org_label(params),
                                     user=params.get("username"))

    @property
    def token_url(self):
        base = self.params.get("login_url") or self.params.get("instance_url") or DEFAULT_LOGIN_URL
        return base.rstrip("/") + "/services/oauth2/token"

    def token_request(self):
        """The form fields of the token request."""
        raise NotImplementedError

    def authenticate(self, post):
        status, body = post(self.token_url, self.token_request())
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error") if isinstance(body, dict) else None
            description = (body.get("error_description") if isinstance(body, dict) else None) or (
                "token endpoint answered HTTP %s" % status)
            raise AuthenticationError(
                "%s login refused at %s: %s" % (self.name, self.token_url, description),
                org=org_label(self.params), user=self.params.get("username"),
                error_code=error, status=status,
                hint=_oauth_hint(description, self.name))
        instance_url = body.get("instance_url") or self.params.get("instance_url") or self.params.get("login_url")
        check_token_url(self.params, "instance_url", instance_url, self.name)
        if body.get("id"):
            check_token_url(self.params, "identity URL", body["id"], self.name)
        access_token = body["access_token"]
        if not isinstance(access_token, str) or not access_token or describe_bad_characters(access_token):
            raise UnsafeTransportError("the %s token answer holds an access token that cannot be sent in a "
                                       "header (empty, or with whitespace or control characters; not shown)"
                                       % self.name, org=org_label(self.params),
                                       user=_clean_label(self.params.get("username")),
                                       hint="check that login_url reaches Salesforce itself")
        return Credentials(instance_url, access_token, body.get("id"))


def _oauth_hint(description, method):
    hint = hint_for(description)
    if hint is None and method == "client_credentials":
        hint = ("client credentials work on the org's My Domain URL: set login_url to it, and check "
                "client_id, client_secret and the connected app's Run As user")
    return hint


class ClientCredentialsFlow(AuthFlow):
    name = "client_credentials"
    needs = ("client_id", "client_secret")
    needs_one_of = ("login_url", "instance_url")
    needs_one_of_message = "auth client_credentials needs the org's My Domain URL in login_url (or instance_url)"

    def token_request(self):
        return {"grant_type": "client_credentials", "client_id": self.params["client_id"],
                "client_secret": self.params["client_secret"]}


class JwtFlow(AuthFlow):
    name = "jwt"
    needs = ("client_id", "username")
    needs_one_of = ("private_key", "private_key_file")
    needs_one_of_message = "auth jwt needs private_key or private_key_file"

    @property
    def audience(self):
        return self.params.get("audience") or default_audience(
            self.params.get("login_url") or DEFAULT_LOGIN_URL)

    def _key_pem(self):
        if self.params.get("private_key"):
            return self.params["private_key"]
        path = self.params["private_key_file"]
        try:
            with open(path, "rb") as handle:
                return handle.read().decode("ascii")
        except (IOError, OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError("cannot read private_key_file %s: %s" % (path, exc),
                                     org=org_label(self.params), user=self.params.get("username"))

    def assertion(self, now=None):
        """The signed RS256 assertion (iss = consumer key, sub = username, aud = audience)."""
        now = int(now if now is not None else time.time())
        claims = {"iss": self.params["client_id"], "sub": self.params["username"],
                  "aud": self.audience, "exp": now + JWT_LIFETIME_SECONDS, "jti": uuid.uuid4().hex}
        return sign_rs256(claims, self._key_pem(), self.params)

    def token_request(self):
        return {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": self.assertion()}


def sign_rs256(claims, key_pem, params):
    """A compact JWS (RS256) with PyJWT; errors name the option, never the key."""
    if jwt is None:
        raise MissingLibraryError("PyJWT", JWT_IMPORT_ERROR)
    try:
        token = jwt.encode(claims, key_pem, algorithm="RS256")
    except Exception as exc:  # PyJWT/cryptography raise several types for a bad key
        raise ConfigurationError("the JWT private key cannot sign (%s)" % type(exc).__name__,
                                 org=org_label(params), user=params.get("username"),
                                 hint="give an unencrypted PEM RSA private key in private_key or private_key_file")
    return token.decode("ascii") if isinstance(token, bytes) else token


class PasswordFlow(AuthFlow):
    name = "password"
    needs = ("client_id", "client_secret", "username", "password")
    deprecation = ("auth=password (the OAuth username-password flow) is deprecated: Salesforce retires "
                   "it for connected apps on %s; use client_credentials or jwt" % PASSWORD_FLOW_RETIREMENT)

    def token_request(self):
        return {"grant_type": "password", "client_id": self.params["client_id"],
                "client_secret": self.params["client_secret"], "username": self.params["username"],
                "password": self.params["password"] + (self.params.get("security_token") or "")}


class AccessTokenFlow(AuthFlow):
    name = "access_token"
    renewable = False
    needs = ("access_token", "instance_url")

    def authenticate(self, post):
        return Credentials(self.params["instance_url"], self.params["access_token"])


FLOWS = {flow.name: flow for flow in (ClientCredentialsFlow, JwtFlow, PasswordFlow, AccessTokenFlow)}


def _check_url(params, name):
    """``login_url`` / ``instance_url`` must be https URLs with a host: credentials never travel in clear,
    and a malformed URL is named here instead of failing deep inside the HTTP library."""
    url = params.get(name)
    if not url:
        return
    try:
        parsed = urlparse(url)
        host = parsed.hostname
        parsed.port  # pylint: disable=pointless-statement  # raises ValueError on a bad port
    except ValueError:
        host = None
    if parsed.scheme.lower() != "https" or not host or any(char.isspace() for char in url):
        raise ConfigurationError(
            "%s must be an https URL with a host, such as https://mydomain.my.salesforce.com (got %r)"
            % (name, url), org=None, user=params.get("username"))


def auth_flow(params):
    """The AuthFlow for validated params (raises ConfigurationError when options do not fit)."""
    for name in ("login_url", "instance_url"):
        _check_url(params, name)
    check_secrets(params)
    api_version_of(params)
    for entry in params.get("allowed_hosts") or []:
        host, _sep, port = str(entry).strip().partition(":")
        if not re.match(r"^\.?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", host) or (port and not port.isdigit()):
            raise ConfigurationError("allowed_hosts entry %r is not a host name, host:port or .domain suffix"
                                     % str(entry)[:80], org=org_label(params))
    return FLOWS[infer_auth(params)](params)


def tls_verify(params):
    """The ``verify`` value for requests: False, True, or the CA bundle path."""
    if not params.get("validate_certs", True):
        return False
    return params.get("ca_path") or True
