# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted Salesforce transport for unit tests: a requests adapter answering from handlers.

Tests register ``(method, path_regex) -> handler(request, match) -> (status, body[, headers])`` and
read back ``transport.requests`` to assert what the client sent. No sockets, no threads.
"""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import json
import re
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter

from ansible_collections.sfops.integration_users.plugins.module_utils.client import new_session as _ORIGINAL_NEW_SESSION

INSTANCE = "https://acme.my.salesforce.com"


class FakeRequest:
    def __init__(self, prepared):
        self.method = prepared.method
        self.url = prepared.url
        parts = urlsplit(prepared.url)
        self.path = parts.path
        self.query = dict((k, v[0]) for k, v in parse_qs(parts.query).items())
        self.headers = dict(prepared.headers)
        body = prepared.body
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        self.body = body
        self.form = dict((k, v[0]) for k, v in parse_qs(body or "").items()) if body and "=" in body and not body.startswith(("{", "[")) else {}
        try:
            self.json = json.loads(body) if body and body.startswith(("{", "[")) else None
        except ValueError:
            self.json = None
        self.verify = None


class FakeTransport(BaseAdapter):
    def __init__(self, limit_info="api-usage=10/15000"):
        super().__init__()
        self.routes = []
        self.requests = []
        self.limit_info = limit_info

    def route(self, method, pattern, handler):
        """``handler``: a callable, or a fixed answer ``(status, body[, headers])``, or a list of
        those consumed one per request (the last one repeats)."""
        self.routes.append((method, re.compile(pattern), handler))
        return self

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        fake = FakeRequest(request)
        fake.verify = verify
        fake.timeout = timeout
        self.requests.append(fake)
        for method, pattern, handler in self.routes:
            match = pattern.search(fake.path)
            if method == fake.method and match:
                answer = self._answer(handler, fake, match)
                break
        else:
            answer = (404, [{"message": "no route for %s %s" % (fake.method, fake.path), "errorCode": "NOT_FOUND"}])
        if isinstance(answer, Exception):
            raise answer
        return self._response(request, *answer)

    @staticmethod
    def _answer(handler, fake, match):
        if isinstance(handler, list):
            current = handler[0] if len(handler) == 1 else handler.pop(0)
            return current(fake, match) if callable(current) else current
        return handler(fake, match) if callable(handler) else handler

    def _response(self, request, status, body=None, headers=None):
        response = requests.Response()
        response.status_code = status
        response.url = request.url
        response.request = request
        response.headers["Content-Type"] = "application/json;charset=UTF-8"
        if "/services/data/" in request.url and self.limit_info:
            response.headers["Sforce-Limit-Info"] = self.limit_info
        for key, value in (headers or {}).items():
            response.headers[key] = value
        if isinstance(body, bytes):
            # Raw bytes are sent as they are: what a proxy's HTML page looks like to the client.
            response._content = body
        else:
            response._content = b"" if body is None else json.dumps(body).encode("utf-8")
        return response

    def close(self):
        pass

    def calls_to(self, fragment):
        return [r for r in self.requests if fragment in r.path]


def token_ok(instance=INSTANCE, token="00Dfake!token"):
    return (200, {"access_token": token, "instance_url": instance, "id": instance + "/id/00D/005",
                  "token_type": "Bearer", "issued_at": "1700000000000", "signature": "x"})


def query_page(records, done=True, next_url=None, total=None):
    page = {"totalSize": len(records) if total is None else total, "done": done}
    if next_url:
        page["nextRecordsUrl"] = next_url
    page["records"] = records
    return page


def rest_error(code, message, status=400):
    return (status, [{"message": message, "errorCode": code}])


def session_with(transport, verify=True):
    # Imported here (conftest puts the collection on sys.path first), bound before tests patch it.
    session = _ORIGINAL_NEW_SESSION(verify, 5.0)
    session.mount("https://", transport)
    session.mount("http://", transport)
    return session
