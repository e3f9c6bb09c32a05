"""OAuth 2.0 token endpoint (JWT bearer, client credentials, username-password) and identity resources.

The org is found from the credentials: a connected app's client_id is unique across the estate
(sandbox copies get suffixed client ids), and so is a username.
"""
import base64
import hashlib
import hmac
import time

import jwt
from cryptography import x509

from . import setup_access, usage
from .errors import OAuthError, SFError
from .estate import PRODUCTION_AUDIENCE, SANDBOX_AUDIENCE
from .http_util import Answer
from .ids import to18

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOCK_SKEW_SECONDS = 30
LOGIN_TYPE = "Remote Access 2.0"


def audience(org):
    return SANDBOX_AUDIENCE if org.is_sandbox else PRODUCTION_AUDIENCE


def _client_credentials(form, headers):
    """client_id/client_secret from the form or an HTTP Basic header."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    value = headers.get("Authorization") or ""
    if value.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(value[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
        client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _secret_matches(app, secret):
    return bool(secret) and hmac.compare_digest(str(app.get("client_secret") or ""), secret)


def _fail(org, user, status, app, error, description):
    """Record the failed login (when the user is known) and raise the OAuth error."""
    _fail_row(org, user, status, app)
    raise OAuthError(error, description)


def _fail_row(org, user, status, app):
    if org is not None and user is not None:
        org.record_login(user["Id"], LOGIN_TYPE, status, app.get("name") if app else "Unknown", api_type="N/A")


def token(emulator, form, headers):
    grant = form.get("grant_type")
    with emulator.estate.lock:
        if grant == JWT_GRANT:
            org, user, app = _jwt_grant(emulator.estate, form)
        elif grant == "client_credentials":
            org, user, app = _client_credentials_grant(emulator.estate, form, headers)
        elif grant == "password":
            org, user, app = _password_grant(emulator.estate, form, headers)
        else:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        # Connected-app pre-authorization, login IP ranges and login hours (sfemu.setup_access).
        setup_access.check_login(org, user, app, lambda status: _fail_row(org, user, status, app))
        org.record_login(user["Id"], LOGIN_TYPE, "Success", app.get("name"), api_type="N/A")
        usage.touch_tokens(org, user["Id"], app.get("name"))     # OauthToken UseCount/LastUsedDate (issue 18)
    access_token = emulator.issue_session(org, user["Id"])
    with emulator.estate.lock:
        org.sessions[access_token]["app"] = app.get("name")      # the ApiTotalUsage log names the app
    identity = emulator.identity_url(org, user["Id"])
    issued_at = str(int(time.time() * 1000))
    signature = base64.b64encode(hmac.new(str(app.get("client_secret") or "").encode(),
                                          (identity + issued_at).encode(), hashlib.sha256).digest()).decode()
    return Answer(200, {"access_token": access_token, "scope": " ".join(app.get("scopes") or ["api"]),
                        "instance_url": emulator.base_url, "id": identity, "token_type": "Bearer",
                        "issued_at": issued_at, "signature": signature})


def _jwt_grant(estate, form):
    assertion = form.get("assertion")
    if not assertion:
        raise OAuthError("invalid_request", "assertion is required")
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise OAuthError("invalid_grant", "invalid assertion") from None
    org, app = estate.org_for_client_id(claims.get("iss"))
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    user = org.find_user(claims.get("sub") or "")
    if header.get("alg") != "RS256" or not app.get("certificate_pem"):
        _fail(org, user, "Failed: Invalid assertion", app, "invalid_grant", "invalid assertion")
    public_key = x509.load_pem_x509_certificate(app["certificate_pem"].encode()).public_key()
    try:
        jwt.decode(assertion, public_key, algorithms=["RS256"],
                   options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False})
    except jwt.PyJWTError:
        _fail(org, user, "Failed: Invalid assertion", app, "invalid_grant", "invalid assertion")
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if audience(org) not in [str(a).rstrip("/") for a in audiences if a]:
        _fail(org, user, "Failed: Audience invalid", app, "invalid_grant", "audience is invalid")
    try:
        expires = float(claims.get("exp"))
    except (TypeError, ValueError):
        expires = None
    if expires is None or expires + CLOCK_SKEW_SECONDS < time.time():
        _fail(org, user, "Failed: Expired assertion", app, "invalid_grant", "expired authorization code")
    if user is None:
        raise OAuthError("invalid_grant", "user hasn't approved this consumer")
    if not user.get("IsActive"):
        _fail(org, user, "User is inactive", app, "invalid_grant", "inactive user")
    return org, user, app


def _confidential_client(estate, form, headers):
    """The org and connected app whose client id and secret the request carries."""
    client_id, secret = _client_credentials(form, headers)
    org, app = estate.org_for_client_id(client_id)
    if app is None:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not _secret_matches(app, secret):
        raise OAuthError("invalid_client", "invalid client credentials")
    return org, app


def _client_credentials_grant(estate, form, headers):
    org, app = _confidential_client(estate, form, headers)
    run_as = app.get("run_as")
    user = _user_by_id(org, run_as) if run_as else None
    if user is None:
        raise OAuthError("invalid_grant", "no client credentials user enabled")
    if not user.get("IsActive"):
        _fail(org, user, "User is inactive", app, "invalid_grant", "inactive user")
    return org, user, app


def _user_by_id(org, user_id):
    # The store finds users by username; the run-as user is named by Id, so read its username first.
    try:
        record = org.get_record("User", user_id, org.admin_user, fields=["Username"])
    except SFError:
        return None
    return org.find_user(record.get("Username") or "")


def _password_grant(estate, form, headers):
    org, app = _confidential_client(estate, form, headers)
    username = form.get("username") or ""
    # The username must belong to the app's org (usernames are unique across the estate).
    user = org.find_user(username)
    if user is None:
        # Salesforce never says whether the username exists.
        raise OAuthError("invalid_grant", "authentication failure")
    password = form.get("password") or ""
    # Inside its profile's login IP ranges the password alone is enough (no security token).
    if not (org.check_password(user, password) or setup_access.trusted_password(org, user, password)):
        _fail(org, user, "Invalid Password", app, "invalid_grant", "authentication failure")
    if not user.get("IsActive"):
        _fail(org, user, "User is inactive", app, "invalid_grant", "authentication failure")
    return org, user, app


def identity(emulator, org, user, path):
    """``/id/{orgId}/{userId}`` (must name the caller) and ``/services/oauth2/userinfo``."""
    base = emulator.base_url
    user_id = to18(user["Id"])
    identity_url = emulator.identity_url(org, user_id)
    version = "{version}"
    urls = {
        "enterprise": "%s/services/Soap/c/%s/%s" % (base, version, org.org_id[:15]),
        "partner": "%s/services/Soap/u/%s/%s" % (base, version, org.org_id[:15]),
        "rest": "%s/services/data/v%s/" % (base, version),
        "sobjects": "%s/services/data/v%s/sobjects/" % (base, version),
        "query": "%s/services/data/v%s/query/" % (base, version),
        "recent": "%s/services/data/v%s/recent/" % (base, version),
        "tooling_rest": "%s/services/data/v%s/tooling/" % (base, version),
        "profile": "%s/%s" % (base, user_id),
        "custom_domain": base,
    }
    name = " ".join(filter(None, (user.get("FirstName"), user.get("LastName"))))
    if path.startswith("/id/"):
        parts = path.strip("/").split("/")
        if len(parts) != 3 or to18(parts[1]) != to18(org.org_id) or to18(parts[2]) != user_id:
            return Answer(403, "Bad_Id")
        return Answer(200, {
            "id": identity_url, "asserted_user": True, "user_id": user_id, "organization_id": to18(org.org_id),
            "username": user.get("Username"), "nick_name": user.get("CommunityNickname") or user.get("Alias"),
            "display_name": name, "email": user.get("Email"), "email_verified": True,
            "first_name": user.get("FirstName"), "last_name": user.get("LastName"),
            "timezone": user.get("TimeZoneSidKey"), "active": bool(user.get("IsActive")),
            "user_type": user.get("UserType") or "STANDARD", "language": user.get("LanguageLocaleKey"),
            "locale": user.get("LocaleSidKey"), "utcOffset": 0, "urls": urls, "is_app_installed": True,
            "last_modified_date": user.get("LastModifiedDate"), "is_lightning_login_user": False})
    return Answer(200, {
        "sub": identity_url, "user_id": user_id, "organization_id": to18(org.org_id),
        "preferred_username": user.get("Username"), "nickname": user.get("CommunityNickname") or user.get("Alias"),
        "name": name, "email": user.get("Email"), "email_verified": True,
        "given_name": user.get("FirstName"), "family_name": user.get("LastName"),
        "zoneinfo": user.get("TimeZoneSidKey"), "locale": user.get("LocaleSidKey"),
        "language": user.get("LanguageLocaleKey"), "active": bool(user.get("IsActive")),
        "user_type": user.get("UserType") or "STANDARD", "utcOffset": 0, "urls": urls,
        "is_app_installed": True, "updated_at": user.get("LastModifiedDate")})
