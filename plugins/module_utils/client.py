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

import json as json_module
import random
import re
import socket
import threading
import time
from urllib.parse import quote, urlsplit

# Imported at load time on purpose (see connection.py): the controller imports the action plugins,
# and through them this file, once before forking its workers.
try:
    import requests
    import urllib3
    from urllib3.connection import HTTPSConnection as _HTTPSConnection
    from urllib3.connectionpool import HTTPSConnectionPool as _HTTPSConnectionPool
    from simple_salesforce.api import Salesforce
    from simple_salesforce.exceptions import SalesforceError
except ImportError as exc:
    requests = Salesforce = urllib3 = None
    SalesforceError = _HTTPSConnection = _HTTPSConnectionPool = None
    LIBRARY_IMPORT_ERROR = exc
else:
    LIBRARY_IMPORT_ERROR = None

# requests raises its own JSONDecodeError (a ValueError) since 2.27; plain ValueError before.
_JSON_DECODE_ERROR = getattr(getattr(requests, "exceptions", None), "JSONDecodeError", ValueError)

from ansible_collections.sfops.integration_users.plugins.module_utils.connection import (
    SECRET_OPTIONS,
    api_version_of,
    auth_flow,
    org_label,
    tls_verify,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ApiError,
    ConfigurationError,
    ConnectionFailure,
    MissingLibraryError,
    OutcomeUnknownError,
    RequestLimitError,
    SessionExpiredError,
    UnsafeTransportError,
    error_from_rest_body,
)

COMPOSITE_LIMIT = 25
# Salesforce counts queries and sObject Collections apart: at most 5 of the 25 subrequests of a call.
COMPOSITE_QUERY_LIMIT = 5
COLLECTION_LIMIT = 200
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# Transient whatever the body says (a proxy's HTML page for a 502 included).
RETRIED_STATUSES = (429, 500, 502, 503, 504)
RETRIED_CODES = ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE")
# A query has at most this many pages (10 million records at 2000 a page); a cursor is never fetched twice.
MAX_QUERY_PAGES = 5000
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_NEXT_RECORDS = re.compile(r"^/services/data/v\d{2,3}\.\d/(tooling/)?query(All)?/[A-Za-z0-9_-]+$")
_READ_CHUNK = 65536


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


def check_data_path(path):
    """A path below /services/data/vNN.N/ as a caller gave it (a probe's ``rest``, ``get('limits')``): refused
    when it could leave the data API (``..``, ``//``, an encoded dot or slash, a scheme, whitespace)."""
    text = str(path)
    segments = text.split("?", 1)[0].split("/")
    lowered = text.lower()
    if (any(segment in (".", "..") for segment in segments) or "//" in text or "\\" in text or "%2e" in lowered or
            "%2f" in lowered or "%5c" in lowered or "://" in text or text.startswith(("/", "~")) or
            any(ord(c) < 33 or ord(c) == 127 for c in text)):
        raise ConfigurationError("the REST path %r could leave /services/data/: dot segments, empty segments, "
                                 "encoded slashes, schemes and whitespace are refused" % text[:120],
                                 hint="give a path relative to /services/data/vNN.N/, such as limits or "
                                      "sobjects/User/describe")
    return text


def new_session(verify, timeout):
    """A requests.Session that ignores proxy/CA environment variables and applies a default timeout.

    ``trust_env = False`` because ``REQUESTS_CA_BUNDLE`` would otherwise override ``verify``. It never
    follows a redirect, only speaks https, and gives each request ``timeout`` seconds as a whole.
    """
    require_libraries()
    session = _TimeoutSession(timeout)
    session.trust_env = False
    session.verify = verify
    adapter = requests.adapters.HTTPAdapter()
    # Connections that give up at the request's deadline while waiting for the status line and headers too.
    adapter.poolmanager.pool_classes_by_scheme = dict(adapter.poolmanager.pool_classes_by_scheme,
                                                      https=_DeadlinePool)
    session.mount("https://", adapter)
    return session


# The deadline of the request this thread is sending (monotonic seconds), read by _DeadlineConnection.
_DEADLINE = threading.local()


if requests is not None:
    class _TimeoutSession(requests.Session):
        def __init__(self, timeout):
            super(_TimeoutSession, self).__init__()
            self.default_timeout = timeout

        def request(self, method, url, **kwargs):
            if urlsplit(url).scheme.lower() != "https":
                raise UnsafeTransportError("refused to send a request to %s: only https is spoken"
                                           % _without_query(url))
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = self.default_timeout
            # Credentials never follow a redirect: a 3xx answer is refused by the client's response hook.
            kwargs["allow_redirects"] = False
            total = kwargs["timeout"] if isinstance(kwargs["timeout"], (int, float)) else None
            stream = kwargs.pop("stream", False)
            deadline = time.monotonic() + total if total else None
            _DEADLINE.value, _DEADLINE.total = deadline, total
            try:
                response = super(_TimeoutSession, self).request(method, url, stream=True, **kwargs)
            finally:
                _DEADLINE.value = None
            if not stream and response._content is False:
                _read_body(response, deadline, total)
            return response

    class _DeadlineConnection(_HTTPSConnection):
        """Shuts its socket down when the request's deadline passes while the status line and headers are
        still arriving (a socket timeout alone is per read: one byte a second never trips it)."""

        def getresponse(self, *args, **kwargs):
            deadline = getattr(_DEADLINE, "value", None)
            timer = None
            self._deadline_passed = False
            if deadline is not None:
                timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
                timer.daemon = True
                timer.start()
            try:
                return super(_DeadlineConnection, self).getresponse(*args, **kwargs)
            except Exception:
                if self._deadline_passed:
                    raise urllib3.exceptions.ReadTimeoutError(
                        None, None, "no answer within %s seconds (timeout)" % getattr(_DEADLINE, "total", "?"))
                raise
            finally:
                if timer is not None:
                    timer.cancel()

        def _expire(self):
            self._deadline_passed = True
            sock = getattr(self, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    class _DeadlinePool(_HTTPSConnectionPool):
        ConnectionCls = _DeadlineConnection

    def _read_body(response, deadline, total):
        """Read the body in pieces, failing once ``total`` seconds have passed since the request started: a
        socket timeout alone lets a server that sends one byte a second hold the task forever."""
        raw = response.raw
        read1 = getattr(raw, "read1", None)
        chunks = []
        try:
            while True:
                data = read1(_READ_CHUNK, decode_content=True) if read1 else raw.read(1024, decode_content=True)
                if not data:
                    break
                chunks.append(data)
                if deadline is not None and time.monotonic() > deadline:
                    raise requests.exceptions.ReadTimeout(
                        "the answer did not arrive within %s seconds (timeout)" % total)
        except requests.exceptions.RequestException:
            response.close()
            raise
        except Exception as exc:  # urllib3's own read errors (protocol, reset), wrapped as requests would
            response.close()
            raise requests.exceptions.ConnectionError(exc)
        response._content = b"".join(chunks)
        response._content_consumed = True
        # Back to the pool for the next request (keep-alive), as requests does once it read a body itself.
        release = getattr(raw, "release_conn", None)
        if release is not None:
            release()
else:
    _TimeoutSession = _DeadlineConnection = _DeadlinePool = None


class Client:
    """A connection to one org.

    ``params``: validated module params (the connection options). ``session``, ``sleep`` and ``rand``
    are injectable for tests. Nothing is sent before the first call (or :meth:`connect`).
    """

    def __init__(self, params, session=None, sleep=time.sleep, rand=random.random):
        require_libraries()
        self.params = params
        self.flow = auth_flow(params)
        self.api_version = api_version_of(params)
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
        if 300 <= response.status_code < 400:
            # Salesforce does not redirect REST or token calls: following one would carry the client secret or
            # the bearer token to wherever Location points (http:// or another host).
            location = response.headers.get("Location") or "(no Location)"
            if response.raw is not None:
                response.close()
            raise UnsafeTransportError(
                "%s %s answered HTTP %s redirecting to %s: redirects are never followed with credentials"
                % (response.request.method if response.request is not None else "request",
                   _without_query(response.url), response.status_code, _without_query(location)),
                org=self.org, user=self.user)
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
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                # A write the server may have received (anything but a failed connect) may have been applied:
                # it is never sent again blindly; the caller reads the org back (OutcomeUnknownError).
                if not idempotent and not _never_sent(exc):
                    raise OutcomeUnknownError(
                        "%s: the connection broke after the request was sent (%s); Salesforce may have applied "
                        "it, so it was not sent again" % (what, self.scrub(_short(exc))),
                        org=self.org, user=self.user)
                if attempt >= self.retries:
                    raise ConnectionFailure("%s failed after %d attempt(s): %s"
                                            % (what, attempt + 1, self.scrub(_short(exc))),
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
            except requests.exceptions.RequestException as exc:
                # InvalidHeader and the like: their text may quote a header value (the bearer token).
                raise ConnectionFailure("%s could not be sent: %s" % (what, self.scrub(_short(exc))),
                                        org=self.org, user=self.user)
            self._sleep(backoff_delay(attempt, self._rand))
            attempt += 1

    def _limit_error(self, error):
        if self.used is not None and self.limit is not None:
            error.message += (" (this org has used %d of its %d daily API requests; %d remain)"
                              % (self.used, self.limit, max(0, self.limit - self.used)))
        return error

    def scrub(self, text):
        """``text`` with every secret option's value masked, in its plain, escaped and repr forms."""
        text = str(text)
        values = [self.params.get(name) for name in SECRET_OPTIONS]
        if self.credentials is not None:
            values.append(self.credentials.access_token)
        for value in values:
            if isinstance(value, str) and len(value) >= 4:
                for form in secret_forms(value):
                    text = text.replace(form, "********")
        return text

    def _rest(self, path, method="GET", params=None, json=None, headers=None, idempotent=None):
        """One REST call on the data API (``path`` relative to /services/data/vNN.N/)."""
        check_data_path(path)
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
        seen = set()
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            next_url = page["nextRecordsUrl"]
            if not isinstance(next_url, str) or not _NEXT_RECORDS.match(next_url):
                raise UnsafeTransportError("a query answer names nextRecordsUrl %r, which is not a query cursor "
                                           "of this org's data API: not fetched" % str(next_url)[:120],
                                           org=self.org, user=self.user)
            if next_url in seen or len(seen) >= MAX_QUERY_PAGES:
                raise ApiError("the query answered %s (after %d pages): paging stopped instead of asking "
                               "without end" % ("the same cursor %s twice" % next_url if next_url in seen
                                                else "more than %d pages" % MAX_QUERY_PAGES, len(seen) + 1),
                               org=self.org, user=self.user,
                               hint="run the task again; if it repeats, the server is not Salesforce or is faulty")
            seen.add(next_url)
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
                error = error_from_rest_body(result.get("errors") or [{"message": "failed"}], 400)
                raise ApiError("record %s (%s): %s" % (index, result.get("id") or "new", error.message),
                               error_code=error.error_code, fields=getattr(error, "fields", None),
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

    def get_text(self, path):
        """GET a resource below ``/services/data/vNN.N/`` whose answer is not JSON (a blob field such as an
        EventLogFile's ``LogFile`` CSV), as text, with the client's retries and accounting."""
        path = check_data_path(str(path).lstrip("/"))
        self.connect()

        def send():
            url = "%s/services/data/v%s/%s" % (self.credentials.instance_url, self.api_version, path)
            response = self.session.get(url, headers={"Authorization": "Bearer " + self._sf.session_id})
            if response.status_code >= 300:
                raise SalesforceError(url, response.status_code, path, _json_or_text(response))
            # A blob is served as application/octet-stream: guessing its charset would read it all twice.
            return response.content.decode("utf-8", "replace")
        return self._retrying(send, what="GET %s" % path, idempotent=True)

    def apex_get(self, path):
        """GET an Apex REST resource, ``/services/apexrest/<path>`` (a class declared ``@RestResource``),
        with the client's retries; the path is checked as a data-API path is."""
        path = check_data_path(str(path).lstrip("/"))
        self.connect()
        return self._retrying(lambda: self._sf.apexecute(path, method="GET"), what="GET apexrest/%s" % path,
                              idempotent=True)

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
    return error_from_rest_body(result.get("errors") or [{}], 400).error_code


def secret_forms(value):
    """The ways a secret can appear in a message: as is, JSON-escaped, repr-escaped, unicode-escaped."""
    forms = {value, value.strip()}
    forms.add(json_escaped(value))
    forms.add(repr(value)[1:-1])
    forms.add(value.encode("unicode_escape").decode("ascii", "replace"))
    return sorted((f for f in forms if f), key=len, reverse=True)


def json_escaped(value):
    return json_module.dumps(value)[1:-1]


def _without_query(url):
    """A URL without its query string and fragment (a token can travel in ``?oauth_token=``)."""
    parts = urlsplit(str(url))
    if not parts.scheme:
        return str(url).split("?", 1)[0][:200]
    return ("%s://%s%s" % (parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path))[:200]


def _never_sent(exc):
    """Whether a connection error happened before the request could reach the server (the connection
    itself failed), so that even a write can be sent again."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc
    for dummy in range(6):
        name = type(reason).__name__
        if name in ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError", "ConnectionRefusedError"):
            return True
        inner = getattr(reason, "reason", None)
        if not isinstance(inner, Exception):
            first = reason.args[0] if getattr(reason, "args", None) else None
            inner = first if isinstance(first, Exception) else None
        if inner is None:
            return False
        reason = inner
    return False


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
