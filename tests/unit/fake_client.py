# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one fake of ``client.Client`` for unit tests that replace the client rather than its transport.

It has the real client's public interface (``test_fake_client`` compares every public method's
signature with ``Client``'s, so a change of the client breaks the fake loudly, not the tests
silently), builds subrequests exactly as the client does, splits composite calls with the client's
own ``composite_chunks`` and raises the client's errors. What an org answers is the test's part:
subclass and override

- ``answer_query(soql, reference, tooling)`` -> the records a query returns (all pages);
- ``answer_resource(subrequest, tooling)`` -> ``(status, body)`` of any other composite GET (describes,
  record GETs); the default answers 404;
- ``answer_transaction(subrequests)`` -> ``{referenceId: {"status", "body"}}`` of an allOrNone composite.

``calls`` records ``(kind, detail)`` for each API call made: ``("query", soql)``,
``("composite", [referenceIds])``, ``("tooling/composite", [referenceIds])``, ``("transaction",
[referenceIds])`` and the record calls by name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from urllib.parse import quote, unquote

from ansible_collections.sfops.integration_users.plugins.module_utils.client import composite_chunks
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import error_from_rest_body

API_VERSION = "v62.0"


def soql_of(subrequest):
    """The SOQL of a query subrequest built by ``query_subrequest``, or None for another resource."""
    url = subrequest.get("url") or ""
    path, _sep, query = url.partition("?q=")
    if subrequest.get("method", "GET") != "GET" or not path.endswith("/query"):
        return None
    return unquote(query)


def sobject_of(soql):
    """The object a SOQL query reads (its outer FROM)."""
    depth, words = 0, soql.replace("(", " ( ").replace(")", " ) ").split()
    for index, word in enumerate(words):
        depth += word == "("
        depth -= word == ")"
        if depth == 0 and word.upper() == "FROM":
            return words[index + 1]
    return None


_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)\}")


def resolve_references(value, answers):
    """``value`` with each ``@{ref.path}`` replaced from the earlier answers of the same composite
    call, as Salesforce does (``@{set.records[0].Id}``, ``@{new.id}``)."""
    def lookup(match):
        found = (answers.get(match.group(1)) or {}).get("body")
        for part in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", match.group(2)):
            try:
                found = found[part[0]] if part[0] else found[int(part[1])]
            except (KeyError, IndexError, TypeError):
                return match.group(0)
        return str(found)
    if isinstance(value, str):
        return _REFERENCE.sub(lookup, value)
    if isinstance(value, dict):
        return dict((key, resolve_references(item, answers)) for key, item in value.items())
    return value


class Credentials:
    identity_url = None
    instance_url = "https://fake.my.salesforce.com"
    access_token = "fake-token"


class FakeClient:
    """A ``Client`` answering from the test's ``answer_*`` methods."""

    org = "fake.my.salesforce.com"
    user = None
    flow = None

    def __init__(self, params=None, session=None, sleep=None, rand=None):
        self.params = params or {}
        self.credentials = Credentials()
        self.calls = []
        self.api_usage = {"calls": 0, "used": None, "limit": None}
        self.used = None
        self.limit = None
        self.running_user = {"user_id": None, "organization_id": None, "username": None}

    # ---- what the org answers (override) -------------------------------------------------------
    def answer_query(self, soql, reference, tooling):
        return []

    def answer_resource(self, subrequest, tooling):
        return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]

    def answer_transaction(self, subrequests):
        raise AssertionError("this fake org takes no allOrNone transaction")

    # ---- the Client interface ------------------------------------------------------------------
    def connect(self):
        return self

    def scrub(self, text):
        return str(text)

    def data_path(self, path):
        return "/services/data/%s/%s" % (API_VERSION, path.lstrip("/"))

    def _count(self, kind, detail):
        self.calls.append((kind, detail))
        self.api_usage["calls"] += 1

    def query(self, soql, tooling=False, batch_size=None):
        self._count("tooling/query" if tooling else "query", soql)
        records = list(self.answer_query(soql, None, tooling))
        return {"total_size": len(records), "records": records}

    def tooling_query(self, soql, batch_size=None):
        return self.query(soql, tooling=True, batch_size=batch_size)

    def finish_query(self, page, headers=None):
        records = list(page.get("records") or [])
        return {"total_size": page.get("totalSize", len(records)), "records": records}

    def query_subrequest(self, reference, soql, tooling=False):
        path = ("tooling/query" if tooling else "query") + "?q=" + quote(soql, safe="")
        return {"method": "GET", "url": self.data_path(path), "referenceId": reference}

    def _answer(self, subrequest, tooling):
        soql = soql_of(subrequest)
        if soql is None:
            status, body = self.answer_resource(subrequest, tooling)
            return {"status": status, "body": body}
        records = list(self.answer_query(soql, subrequest["referenceId"], tooling))
        return {"status": 200, "body": {"totalSize": len(records), "done": True, "records": records}}

    def composite(self, subrequests, all_or_none=False, raise_on_error=True, tooling=False):
        subrequests = list(subrequests)
        chunks = composite_chunks(subrequests)
        if all_or_none:
            if len(chunks) > 1:
                raise ValueError("an allOrNone composite request cannot be split")
            self._count("transaction", [s["referenceId"] for s in subrequests])
            answers = self.answer_transaction(subrequests)
        else:
            answers = {}
            for chunk in chunks:
                self._count("tooling/composite" if tooling else "composite", [s["referenceId"] for s in chunk])
                for sub in chunk:
                    resolved = dict(sub, url=resolve_references(sub.get("url"), answers))
                    answers[sub["referenceId"]] = self._answer(resolved, tooling)
        if not raise_on_error:
            return answers
        for sub in subrequests:
            answer = answers.get(sub["referenceId"])
            if answer is not None and (answer["status"] is None or answer["status"] >= 300):
                error = error_from_rest_body(answer["body"], answer["status"], reference=sub["referenceId"])
                error.message = "subrequest %s: %s" % (sub["referenceId"], error.message)
                raise error.with_context(self.org, self.user)
        return dict((ref, answer["body"]) for ref, answer in answers.items())

    def raise_collection_errors(self, results):
        for result in results:
            if not result.get("success", True):
                raise error_from_rest_body(result.get("errors"), 400).with_context(self.org, self.user)

    def create_records(self, sobject, records, all_or_none=False, raise_on_error=True):
        raise AssertionError("create_records is not scripted in this fake")

    def update_records(self, sobject, records, all_or_none=False, raise_on_error=True):
        raise AssertionError("update_records is not scripted in this fake")

    def delete_records(self, ids, all_or_none=False, raise_on_error=True):
        raise AssertionError("delete_records is not scripted in this fake")

    def get_record(self, sobject, record_id, fields=None, tooling=False):
        status, body = self.answer_resource({"method": "GET", "referenceId": "record",
                                             "url": self.data_path("sobjects/%s/%s" % (sobject, record_id))}, tooling)
        self._count("get_record", (sobject, record_id))
        if status >= 300:
            raise error_from_rest_body(body, status).with_context(self.org, self.user)
        return body

    def create_record(self, sobject, fields, tooling=False):
        raise AssertionError("create_record is not scripted in this fake")

    def update_record(self, sobject, record_id, fields, tooling=False):
        raise AssertionError("update_record is not scripted in this fake")

    def delete_record(self, sobject, record_id, tooling=False):
        raise AssertionError("delete_record is not scripted in this fake")

    def get(self, path, params=None):
        self._count("get", path)
        status, body = self.answer_resource({"method": "GET", "referenceId": "get", "url": self.data_path(path)}, False)
        if status >= 300:
            raise error_from_rest_body(body, status).with_context(self.org, self.user)
        return body

    def get_text(self, path):
        self._count("get_text", path)
        status, body = self.answer_resource({"method": "GET", "referenceId": "get_text", "url": self.data_path(path)},
                                            False)
        if status >= 300:
            raise error_from_rest_body(body, status).with_context(self.org, self.user)
        return body

    def apex_get(self, path):
        self._count("apex_get", path)
        status, body = self.answer_resource({"method": "GET", "referenceId": "apex",
                                             "url": "/services/apexrest/" + path}, False)
        if status >= 300:
            raise error_from_rest_body(body, status).with_context(self.org, self.user)
        return body

    def limits(self):
        return self.get("limits")

    def identity(self):
        return dict(self.running_user)
