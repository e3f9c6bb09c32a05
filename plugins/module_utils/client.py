# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one Salesforce client: authentication, retries, paging, composite, collections, accounting.

The collection obtains tokens itself (simple-salesforce's login helpers only reach
``*.salesforce.com``), then hands ``instance_url`` + ``session_id`` and its own ``requests.Session``
(explicit ``verify``, ``trust_env = False``) to ``simple_salesforce.Salesforce``, which builds the
URLs and parses the answers. Every response passes through :meth:`Client._observe`, which counts
data-API calls and reads ``Sforce-Limit-Info``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import re
import time
from urllib.parse import quote

# Imported at load time on purpose (see connection.py): the controller imports the action plugins,
# and through them this file, once before forking its workers.
try:
    import requests
    from simple_salesforce.api import Salesforce
    from simple_salesforce.exceptions import SalesforceError
except ImportError as exc:
    requests = Salesforce = None
    SalesforceError = None
    LIBRARY_IMPORT_ERROR = exc
else:
    LIBRARY_IMPORT_ERROR = None

# requests raises its own JSONDecodeError (a ValueError) since 2.27; plain ValueError before.
_JSON_DECODE_ERROR = getattr(getattr(requests, "exceptions", None), "JSONDecodeError", ValueError)

from ansible_collections.sfops.integration_users.plugins.module_utils.connection import (
    auth_flow,
    org_label,
    tls_verify,
    DEFAULT_API_VERSION,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ApiError,
    ConnectionFailure,
    MissingLibraryError,
    RequestLimitError,
    SessionExpiredError,
    error_from_rest_body,
)

COMPOSITE_LIMIT = 25
# Salesforce counts queries and sObject Collections apart: at most 5 of the 25 subrequests of a call.
COMPOSITE_QUERY_LIMIT = 5
COLLECTION_LIMIT = 200
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
RETRIED_STATUSES = (500, 503)
RETRIED_CODES = ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE")
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


def require_libraries():
    if LIBRARY_IMPORT_ERROR is not None:
        name = getattr(LIBRARY_IMPORT_ERROR, "name", None) or "simple-salesforce"
        raise MissingLibraryError("requests" if name == "requests" else "simple-salesforce",
                                  LIBRARY_IMPORT_ERROR)


def is_query_or_collection(subrequest):
    """Whether a composite subrequest counts against the 5 queries/collections of one call."""
    path = subrequest.get("url", "").split("?", 1)[0].rstrip("/")
    return path.endswith(("/query", "/queryAll")) or "/query/" in path or "/composite/sobjects" in path


def composite_chunks(subrequests):
    """Subrequests cut into the calls Salesforce accepts, keeping their order."""
    chunks, queries = [], 0
    for sub in subrequests:
        heavy = is_query_or_collection(sub)
        if not chunks or len(chunks[-1]) == COMPOSITE_LIMIT or (heavy and queries == COMPOSITE_QUERY_LIMIT):
            chunks.append([])
            queries = 0
        chunks[-1].append(sub)
        queries += heavy
    return chunks


def backoff_delay(attempt, rand=random.random):
    """Jittered exponential backoff: base * 2^attempt, capped, times a factor in [0.5, 1.5)."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** attempt)) * (0.5 + rand())


def new_session(verify, timeout):
    """A requests.Session that ignores proxy/CA environment variables and applies a default timeout.

    ``trust_env = False`` because ``REQUESTS_CA_BUNDLE`` would otherwise override ``verify``.
    """
    require_libraries()
    session = _TimeoutSession(timeout)
    session.trust_env = False
    session.verify = verify
    return session


if requests is not None:
    class _TimeoutSession(requests.Session):
        def __init__(self, timeout):
            super(_TimeoutSession, self).__init__()
            self.default_timeout = timeout

        def request(self, method, url, **kwargs):
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = self.default_timeout
            return super(_TimeoutSession, self).request(method, url, **kwargs)
else:
    _TimeoutSession = None


class Client:
    """A connection to one org.

    ``params``: validated module params (the connection options). ``session``, ``sleep`` and ``rand``
    are injectable for tests. Nothing is sent before the first call (or :meth:`connect`).
    """

    def __init__(self, params, session=None, sleep=time.sleep, rand=random.random):
        require_libraries()
        self.params = params
        self.flow = auth_flow(params)
        self.api_version = str(params.get("api_version") or DEFAULT_API_VERSION).lstrip("vV")
        self.retries = max(0, int(params.get("retries") if params.get("retries") is not None else 3))
        self.session = session if session is not None else new_session(
            tls_verify(params), params.get("timeout") or 30.0)
        self.session.hooks.setdefault("response", []).append(self._observe)
        self._sleep = sleep
        self._rand = rand
        self._sf = None
        self._identity = None
        self.credentials = None
        self.calls = 0
        self._last_status = None
        self.used = None
        self.limit = None
        self.org = org_label(params)
        self.user = params.get("username")

    # ---- accounting -------------------------------------------------------------------------
    def _observe(self, response, *args, **kwargs):
        self._last_status = response.status_code
        if "/services/data/" in (response.url or ""):
            self.calls += 1
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.used, self.limit = int(match.group(1)), int(match.group(2))

    @property
    def api_usage(self):
        """``{calls, used, limit}``: data-API calls made by this client, and the org's 24-hour usage
        and allocation from the last ``Sforce-Limit-Info`` header (None before any answer)."""
        return {"calls": self.calls, "used": self.used, "limit": self.limit}

    # ---- connection -------------------------------------------------------------------------
    @property
    def renewable(self):
        return self.flow.renewable

    def connect(self):
        """Authenticate (token request) and prepare the REST session; idempotent."""
        if self._sf is None:
            self._authenticate()
        return self

    def _authenticate(self):
        self.credentials = self.flow.authenticate(self._post_token)
        self.org = org_label(self.params, self.credentials.instance_url)
        self._sf = Salesforce(instance_url=self.credentials.instance_url,
                              session_id=self.credentials.access_token,
                              version=self.api_version, session=self.session)

    def _post_token(self, url, data):
        def send():
            response = self.session.post(url, data=data, headers={"Accept": "application/json"})
            try:
                body = response.json()
            except ValueError:
                body = {"error_description": "token endpoint answered HTTP %s with no JSON"
                                             % response.status_code}
            if response.status_code in RETRIED_STATUSES:
                # Through the retry loop like any transient answer (then reported as an ApiError).
                raise SalesforceError(url, response.status_code, "token", body)
            return response.status_code, body
        return self._retrying(send, what="token request to %s" % url, idempotent=True, renew=False)

    # ---- the retry loop -----------------------------------------------------------------------
    def _retrying(self, send, what, idempotent, renew=True):
        renewed = False
        attempt = 0
        while True:
            try:
                return send()
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                # A read timeout on a write may have been applied: only retry it on reads.
                retry = idempotent or not isinstance(exc, requests.exceptions.ReadTimeout)
                if not retry or attempt >= self.retries:
                    raise ConnectionFailure("%s failed after %d attempt(s): %s"
                                            % (what, attempt + 1, _short(exc)),
                                            org=self.org, user=self.user)
            except _JSON_DECODE_ERROR:
                # A proxy or a maintenance page answering in HTML: retrying will not make it JSON.
                raise ApiError("%s: the answer is not JSON (HTTP %s)" % (what, self._last_status),
                               status=self._last_status, org=self.org, user=self.user,
                               hint="check that login_url / instance_url reach Salesforce itself, "
                                    "not a proxy or maintenance page")
            except SalesforceError as exc:
                error = error_from_rest_body(exc.content, exc.status).with_context(self.org, self.user)
                if isinstance(error, RequestLimitError):
                    raise self._limit_error(error)
                if isinstance(error, SessionExpiredError):
                    if renew and self.renewable and not renewed:
                        renewed = True
                        self._authenticate()
                        continue
                    if not self.renewable:
                        error.message += " (auth access_token cannot renew a session)"
                    raise error
                transient = exc.status in RETRIED_STATUSES or error.error_code in RETRIED_CODES
                if not transient or attempt >= self.retries:
                    raise error
            self._sleep(backoff_delay(attempt, self._rand))
            attempt += 1

    def _limit_error(self, error):
        if self.used is not None and self.limit is not None:
            error.message += (" (this org has used %d of its %d daily API requests; %d remain)"
                              % (self.used, self.limit, max(0, self.limit - self.used)))
        return error

    def _rest(self, path, method="GET", params=None, json=None, headers=None, idempotent=None):
        """One REST call on the data API (``path`` relative to /services/data/vNN.N/)."""
        self.connect()
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "DELETE")

        def send():
            kwargs = {}
            if json is not None:
                kwargs["json"] = json
            if headers:
                kwargs["headers"] = headers
            return self._sf.restful(path, params=params, method=method, **kwargs)
        return self._retrying(send, what="%s %s" % (method, path), idempotent=idempotent)

    # ---- paths ------------------------------------------------------------------------------
    def data_path(self, path):
        """Absolute path of a data-API resource, for composite subrequest URLs."""
        return "/services/data/v%s/%s" % (self.api_version, path.lstrip("/"))

    # ---- queries ----------------------------------------------------------------------------
    def query(self, soql, tooling=False, batch_size=None):
        """All records of a SOQL query, following ``nextRecordsUrl`` until done. Returns
        ``{"total_size": int, "records": [...]}`` (records as Salesforce sent them, attributes kept)."""
        headers = {"Sforce-Query-Options": "batchSize=%d" % batch_size} if batch_size else None
        page = self._rest(("tooling/query" if tooling else "query"), params={"q": soql}, headers=headers)
        return self.finish_query(page, headers=headers)

    def tooling_query(self, soql, batch_size=None):
        return self.query(soql, tooling=True, batch_size=batch_size)

    def finish_query(self, page, headers=None):
        """Complete a first query page (e.g. a composite subresponse body) by fetching the rest."""
        records = list(page.get("records") or [])
        total = page.get("totalSize", len(records))
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            next_url = page["nextRecordsUrl"]
            self.connect()

            def send(url=next_url):
                kwargs = {"headers": headers} if headers else {}
                return self._sf.query_more(url, identifier_is_url=True, **kwargs)
            page = self._retrying(send, what="GET %s" % next_url, idempotent=True)
            records.extend(page.get("records") or [])
        return {"total_size": total, "records": records}

    # ---- composite --------------------------------------------------------------------------
    def query_subrequest(self, reference, soql, tooling=False):
        """A composite subrequest running a query (use with :meth:`composite`)."""
        path = ("tooling/query" if tooling else "query") + "?q=" + quote(soql, safe="")
        return {"method": "GET", "url": self.data_path(path), "referenceId": reference}

    def composite(self, subrequests, all_or_none=False, raise_on_error=True, tooling=False):
        """POST /composite (``tooling``: /tooling/composite), split into as few calls as Salesforce allows.

        One call holds at most 25 subrequests, of which at most 5 are queries or sObject Collections;
        more are sent as several calls, in order. Returns ``{referenceId: body}`` when
        ``raise_on_error`` (the first failed subrequest raises ApiError naming its referenceId), else
        ``{referenceId: {"status": int, "body": ...}}``. Split calls cannot reference each other's
        results, and an ``all_or_none`` request cannot be split (ValueError).
        """
        chunks = composite_chunks(list(subrequests))
        if all_or_none and len(chunks) > 1:
            raise ValueError("an allOrNone composite request holds at most %d subrequests, %d of them queries "
                             "or collections" % (COMPOSITE_LIMIT, COMPOSITE_QUERY_LIMIT))
        results = {}
        for chunk in chunks:
            answer = self._rest("tooling/composite" if tooling else "composite", method="POST", idempotent=False,
                                json={"allOrNone": bool(all_or_none), "compositeRequest": chunk})
            for sub in answer.get("compositeResponse", []):
                status, body, ref = sub.get("httpStatusCode"), sub.get("body"), sub.get("referenceId")
                if raise_on_error:
                    if status is None or status >= 300:
                        error = error_from_rest_body(body, status, reference=ref).with_context(self.org, self.user)
                        error.message = "subrequest %s: %s" % (ref, error.message)
                        if isinstance(error, RequestLimitError):
                            raise self._limit_error(error)
                        raise error
                    results[ref] = body
                else:
                    results[ref] = {"status": status, "body": body}
        return results

    # ---- sObject Collections -----------------------------------------------------------------
    def _collection(self, method, records_or_ids, all_or_none, raise_on_error, sobject=None):
        results = []
        items = list(records_or_ids)
        for start in range(0, len(items), COLLECTION_LIMIT):
            chunk = items[start:start + COLLECTION_LIMIT]
            answer = list(self._send_collection(method, chunk, all_or_none, sobject) or [])
            # A locked row comes back as a per-record UNABLE_TO_LOCK_ROW in a 200 answer, which the retry
            # loop never sees: send those records again (the whole chunk under allOrNone, which rolled it
            # back), with the same backoff and bound as any transient answer.
            for attempt in range(self.retries):
                locked = [i for i, result in enumerate(answer) if _record_error_code(result) in RETRIED_CODES]
                if not locked or len(answer) != len(chunk):
                    break
                self._sleep(backoff_delay(attempt, self._rand))
                if all_or_none:
                    answer = list(self._send_collection(method, chunk, all_or_none, sobject) or [])
                    continue
                again = list(self._send_collection(method, [chunk[i] for i in locked], all_or_none, sobject) or [])
                if len(again) != len(locked):
                    break
                for index, result in zip(locked, again):
                    answer[index] = result
            results.extend(answer)
        if raise_on_error:
            self.raise_collection_errors(results)
        return results

    def _send_collection(self, method, chunk, all_or_none, sobject):
        if method == "DELETE":
            return self._rest("composite/sobjects", method="DELETE", params={
                "ids": ",".join(chunk), "allOrNone": "true" if all_or_none else "false"})
        body = [dict(record, attributes={"type": sobject}) for record in chunk]
        return self._rest("composite/sobjects", method=method, idempotent=(method == "PATCH"),
                          json={"allOrNone": bool(all_or_none), "records": body})

    def raise_collection_errors(self, results):
        """Raise ApiError for the first failed record of a collection answer."""
        for index, result in enumerate(results):
            if not result.get("success", False):
                error = (result.get("errors") or [{}])[0]
                raise ApiError("record %s (%s): %s" % (index, result.get("id") or "new",
                                                       error.get("message", "failed")),
                               error_code=error.get("statusCode"), fields=error.get("fields"),
                               org=self.org, user=self.user)

    def create_records(self, sobject, records, all_or_none=False, raise_on_error=True):
        """Insert records (dicts of fields) 200 per call; returns ``[{id, success, errors}]``."""
        return self._collection("POST", records, all_or_none, raise_on_error, sobject)

    def update_records(self, sobject, records, all_or_none=False, raise_on_error=True):
        """Update records (dicts with ``Id``) 200 per call; returns ``[{id, success, errors}]``."""
        return self._collection("PATCH", records, all_or_none, raise_on_error, sobject)

    def delete_records(self, ids, all_or_none=False, raise_on_error=True):
        """Delete records by Id 200 per call; returns ``[{id, success, errors}]``."""
        return self._collection("DELETE", ids, all_or_none, raise_on_error)

    # ---- single records ---------------------------------------------------------------------
    def _record_path(self, sobject, record_id=None, tooling=False):
        path = ("tooling/" if tooling else "") + "sobjects/" + sobject
        return path + ("/" + record_id if record_id else "")

    def get_record(self, sobject, record_id, fields=None, tooling=False):
        params = {"fields": ",".join(fields)} if fields else None
        return self._rest(self._record_path(sobject, record_id, tooling), params=params)

    def create_record(self, sobject, fields, tooling=False):
        """Insert one record; returns its 18-character Id."""
        answer = self._rest(self._record_path(sobject, tooling=tooling), method="POST", json=fields)
        return answer["id"]

    def update_record(self, sobject, record_id, fields, tooling=False):
        self._rest(self._record_path(sobject, record_id, tooling), method="PATCH", json=fields,
                   idempotent=True)

    def delete_record(self, sobject, record_id, tooling=False):
        self._rest(self._record_path(sobject, record_id, tooling), method="DELETE")

    # ---- service resources ------------------------------------------------------------------
    def get(self, path, params=None):
        """GET a resource below ``/services/data/vNN.N/`` (``path`` relative, e.g. ``limits``)."""
        return self._rest(path.lstrip("/"), params=params)

    def limits(self):
        return self.get("limits")

    def identity(self):
        """The running user: ``{user_id, organization_id, username, ...}`` from /services/oauth2/userinfo
        (cached; not counted as a data-API call)."""
        if self._identity is None:
            self.connect()
            url = self.credentials.instance_url + "/services/oauth2/userinfo"

            def send():
                response = self.session.get(url, headers={"Authorization": "Bearer " + self._sf.session_id})
                if response.status_code >= 300:
                    raise SalesforceError(url, response.status_code, "userinfo", _json_or_text(response))
                return response.json()
            info = self._retrying(send, what="GET /services/oauth2/userinfo", idempotent=True)
            self._identity = dict(info, username=info.get("preferred_username") or info.get("username"))
            self.user = self.user or self._identity.get("username")
        return self._identity


def _record_error_code(result):
    """The error code of a failed record of an sObject Collections answer (None when it succeeded)."""
    if not isinstance(result, dict) or result.get("success", False):
        return None
    error = (result.get("errors") or [{}])[0]
    return error.get("statusCode") or error.get("errorCode")


def _json_or_text(response):
    try:
        return response.json()
    except ValueError:
        return response.text


def _short(exc):
    # requests wraps urllib3 errors several levels deep (ConnectionError -> MaxRetryError -> the
    # socket or TLS error): the innermost reason reads best.
    reason = exc
    for dummy in range(5):
        inner = getattr(reason, "reason", None)
        if not isinstance(inner, Exception):
            first = reason.args[0] if getattr(reason, "args", None) else None
            inner = first if isinstance(first, Exception) else None
        if inner is None:
            break
        reason = inner
    return "%s: %s" % (type(reason).__name__, reason)
