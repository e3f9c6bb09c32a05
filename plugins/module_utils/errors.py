# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the collection and the one message format they render to.

Anything below the modules raises one of these; only the shared runner turns them into a failed
result, so every module fails the same way: which org, which user, which Salesforce error code,
what happened, and what a person can do about it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Advice keyed by Salesforce errorCode (REST) or OAuth `error_description` fragment. Kept here so a
# code gets the same advice wherever it surfaces.
HINTS = {
    "INVALID_SESSION_ID": "the session expired or was revoked: obtain a new access token "
                          "(for example with `sf org login`) or use an auth method that can renew itself",
    "REQUEST_LIMIT_EXCEEDED": "the org's rolling 24-hour API allocation is spent: wait for it to recover "
                              "or raise the limit; retrying now only makes it worse",
    "INSUFFICIENT_ACCESS": "give the connecting user the permission this operation needs "
                           "(for example View Setup and Configuration, Manage Users)",
    "INVALID_TYPE": "the object does not exist or the connecting user cannot read it: check the "
                    "object name and the user's object permissions",
    "INVALID_FIELD": "check the field names against the object (and the user's field-level security)",
    "MALFORMED_QUERY": "fix the SOQL syntax",
    "NOT_FOUND": "check the record Id and the API version",
    "UNABLE_TO_LOCK_ROW": "another process holds the record: run the task again later",
    "SERVER_UNAVAILABLE": "Salesforce is unavailable: run the task again later",
    "LICENSE_LIMIT_EXCEEDED": "no seat of that license is free: free or buy a seat first",
    "DUPLICATE_USERNAME": "usernames are unique across all Salesforce orgs: choose another username",
    "FIELD_INTEGRITY_EXCEPTION": "Salesforce refused the value for this record (for a profile change: "
                                 "the target profile's license is not reachable from the current one)",
    "authentication failure": "check the username, password/security token or the connected app's "
                              "client id and secret",
    "audience is invalid": "set `audience`: sandboxes need https://test.salesforce.com, production "
                           "https://login.salesforce.com",
    "invalid client credentials": "check client_id and client_secret of the connected app",
    "user hasn't approved this consumer": "pre-authorize the connected app for the user (profile or "
                                          "permission set) and upload its certificate",
    "no client credentials user enabled": "set a Run As user on the connected app's client credentials flow",
}


LABEL_LIMIT = 120
MESSAGE_LIMIT = 2000


def clip(text, limit):
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return "%s... (%d more characters)" % (text[:limit], len(text) - limit)


def hint_for(code):
    """Advice for an errorCode or an OAuth error description, or None."""
    if not code:
        return None
    if code in HINTS:
        return HINTS[code]
    lowered = code.lower()
    for key, text in HINTS.items():
        if key.islower() and key in lowered:
            return text
    return None


class SalesforceModuleError(Exception):
    """Base of every error this collection raises on purpose.

    ``org`` and ``user`` name the target (a URL host and a username are enough); ``error_code`` is
    Salesforce's errorCode / OAuth error when there is one; ``hint`` tells the reader what to do.
    """

    default_hint = None

    def __init__(self, message, org=None, user=None, error_code=None, hint=None, status=None):
        super(SalesforceModuleError, self).__init__(message)
        self.message = message
        self.org = org
        self.user = user
        self.error_code = error_code
        self.status = status
        self.hint = hint or hint_for(error_code) or self.default_hint

    def with_context(self, org=None, user=None):
        """Fill in org/user when the raiser did not know them; returns self for re-raising."""
        if self.org is None:
            self.org = org
        if self.user is None:
            self.user = user
        return self

    def with_org_name(self, name):
        """Name the org as the operator does (its inventory name), keeping the host the client reached:
        ``acme-prod (acme.my.salesforce.com)``. Returns self."""
        if name and self.org != name and not (self.org or "").startswith("%s (" % name):
            self.org = "%s (%s)" % (name, self.org) if self.org else name
        return self

    def render(self):
        """The one message format: ``org X, user Y: Salesforce error CODE: message. What to do: hint``.

        Every part is bounded (a 200,000-character username must not make a 200,000-character message)."""
        where = []
        if self.org:
            where.append("org %s" % clip(self.org, LABEL_LIMIT))
        if self.user:
            where.append("user %s" % clip(self.user, LABEL_LIMIT))
        text = clip(str(self.message).strip(), MESSAGE_LIMIT)
        if self.error_code:
            text = "Salesforce error %s: %s" % (self.error_code, text)
        if where:
            text = "%s: %s" % (", ".join(where), text)
        if self.hint:
            text = "%s. What to do: %s" % (text.rstrip("."), self.hint)
        return text

    def __str__(self):
        return self.render()


class ConfigurationError(SalesforceModuleError):
    """Options that cannot work together (detected before any request)."""

    default_hint = "fix the task's connection options (or their SALESFORCE_* environment variables)"


class MissingLibraryError(SalesforceModuleError):
    """A required Python library is not installed on the controller."""

    def __init__(self, library, import_error):
        super(MissingLibraryError, self).__init__("%s is not installed" % library)
        self.library = library
        self.import_error = import_error


class ConnectionFailure(SalesforceModuleError):
    """The URL could not be reached (DNS, TCP, TLS or timeout), after the configured retries."""

    default_hint = ("check the URL, network access from the controller and TLS settings "
                    "(validate_certs, ca_path)")


class AuthenticationError(SalesforceModuleError):
    """The OAuth token endpoint refused the credentials."""

    default_hint = "check the credentials and the connected app configuration"


class SessionExpiredError(SalesforceModuleError):
    """401 INVALID_SESSION_ID with no way (or no second chance) to renew the session."""

    default_hint = HINTS["INVALID_SESSION_ID"]


class RequestLimitError(SalesforceModuleError):
    """403 REQUEST_LIMIT_EXCEEDED: never retried."""


class ApiError(SalesforceModuleError):
    """Any other error answer of the REST API (query errors, DML errors, 5xx after retries)."""

    def __init__(self, message, error_code=None, status=None, fields=None, reference=None, **kwargs):
        super(ApiError, self).__init__(message, error_code=error_code, status=status, **kwargs)
        self.fields = fields or []
        self.reference = reference


class OperationError(SalesforceModuleError):
    """A module-level refusal that is not a Salesforce error (e.g. no profile on the needed license)."""


class UnsafeTransportError(SalesforceModuleError):
    """The transport was about to carry credentials somewhere it must not: a redirect, an ``http://``
    or foreign ``instance_url`` / identity URL from a token answer, a path that leaves the data API."""

    default_hint = ("Salesforce never redirects its REST and token calls: check login_url / instance_url, "
                    "and list a legitimate extra host in allowed_hosts")


class OutcomeUnknownError(ConnectionFailure):
    """The connection broke after a non-idempotent request was sent: Salesforce may have applied it.

    Never re-sent blindly; the caller reads the org back to learn what was committed."""

    default_hint = "read the org back before sending the change again (the modules of this collection do)"


class IntegrityError(SalesforceModuleError):
    """A run file (plan, record, backup) is unsigned, edited, signed with another key or not this run's."""

    default_hint = ("use only files written by this collection with the operator's signing key; "
                    "if the file was edited, create it again (a new plan, a new verification)")


class LockError(SalesforceModuleError):
    """Another run holds the org's lock."""

    default_hint = ("wait for the other run to finish; if it died, its lease becomes stale after its time to "
                    "live (or at once on the same host when its process is gone)")


def error_from_rest_body(body, status, reference=None):
    """ApiError (or a subclass) from a REST error body: ``[{"message", "errorCode", "fields"?}]``.

    Tolerates other shapes (plain text, a dict) so an unexpected proxy answer still reads well.
    """
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body
    if isinstance(first, dict):
        code = first.get("errorCode") or first.get("statusCode") or first.get("error")
        message = first.get("message") or first.get("error_description") or str(first)
        fields = first.get("fields")
    else:
        code, message, fields = None, str(body or "HTTP %s" % status), None
    if code == "REQUEST_LIMIT_EXCEEDED":
        return RequestLimitError(message, error_code=code, status=status)
    if code == "INVALID_SESSION_ID":
        return SessionExpiredError(message, error_code=code, status=status)
    return ApiError(message, error_code=code, status=status, fields=fields, reference=reference)


class PartialFailure(OperationError):
    """A failure after part of the work: ``partial`` is the module's result so far (which users
    changed, the backup, what was rolled back), returned with the failure by ``runner.execute``."""

    def __init__(self, message, partial, **kwargs):
        super(PartialFailure, self).__init__(message, **kwargs)
        self.partial = dict(partial)
