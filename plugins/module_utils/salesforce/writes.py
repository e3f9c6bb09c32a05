# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""All-or-none writes and who is to blame when Salesforce rolls one back: the one engine.

Under allOrNone Salesforce answers every subrequest (or record) of a rolled-back request with an
error, but only the culprits carry their own code; the others say PROCESSING_HALTED (composite) or
ALL_OR_NONE_OPERATION_ROLLED_BACK (sObject Collections). sf_integration_user (one transaction per
user) and sf_permission_set (one per set) both write through here.

A *unit* is one all-or-none change: ``{"key", "subrequests", "labels"}``, ``labels[i]`` saying what
``subrequests[i]`` is about (returned with its error when it is to blame).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.client import COMPOSITE_LIMIT
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    SalesforceModuleError, error_from_rest_body)

HALTED = "PROCESSING_HALTED"
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
# Codes that only say "rolled back because of another part of the request".
NOT_TO_BLAME = frozenset([HALTED, ROLLED_BACK])


def error_of(body, status=400):
    """``(code, message)`` of a REST error body or of one record's ``errors`` (``errors.error_from_rest_body``)."""
    error = error_from_rest_body(body, status)
    return error.error_code, error.message


def failed(answer):
    """Whether a composite subrequest answer ``{"status", "body"}`` is an error (a missing one is)."""
    return (answer or {}).get("status") is None or answer["status"] >= 300


def unit(key, subrequests, labels):
    return {"key": key, "subrequests": list(subrequests), "labels": list(labels)}


def blame(units, answer):
    """``{key: (label, code, message)}``: for each unit of a rolled-back composite, its first
    subrequest that failed of its own accord (units whose subrequests only say halted are innocent)."""
    blamed = {}
    for item in units:
        for sub, label in zip(item["subrequests"], item["labels"]):
            outcome = answer.get(sub["referenceId"])
            # Not answered: Salesforce stopped before it, so it is not the cause.
            if outcome is None or not failed(outcome):
                continue
            code, message = error_of(outcome.get("body"), outcome.get("status"))
            if code not in NOT_TO_BLAME:
                blamed[item["key"]] = (label, code, message)
                break
    return blamed


def send_transactions(client, units):
    """Send every unit as its own all-or-none transaction, whole units packed into composite calls of
    at most 25 subrequests. A call that failed applied nothing: the units to blame are taken out and
    the others sent again in a new call.

    Returns ``(done, failed)``: ``done`` {key: {referenceId: body}}; ``failed`` {key: (label, code,
    message)}, label None when the call itself failed (transport, limits: whether it was applied is
    unknown, the caller reads back) or was rolled back without a culprit."""
    pending = list(units)
    done, refused = {}, {}
    while pending:
        batch, size = [], 0
        while pending and (not batch or size + len(pending[0]["subrequests"]) <= COMPOSITE_LIMIT):
            size += len(pending[0]["subrequests"])
            batch.append(pending.pop(0))
        try:
            answer = client.composite([sub for item in batch for sub in item["subrequests"]],
                                      all_or_none=True, raise_on_error=False)
        except SalesforceModuleError as exc:
            for item in batch:
                refused[item["key"]] = (None, exc.error_code, exc.message)
            continue
        if not any(failed(answer.get(sub["referenceId"])) for item in batch for sub in item["subrequests"]):
            for item in batch:
                done[item["key"]] = dict((sub["referenceId"], answer[sub["referenceId"]]["body"])
                                         for sub in item["subrequests"])
            continue
        blamed = blame(batch, answer)
        if not blamed:
            for item in batch:
                refused[item["key"]] = (None, HALTED, "the transaction was rolled back without a cause")
            continue
        refused.update(blamed)
        pending[:0] = [item for item in batch if item["key"] not in blamed]
    return done, refused


def blame_records(labels, results):
    """``[(label, code, message)]`` of the failed records of an sObject Collections answer: under
    allOrNone the culprits (the rest only say rolled back), or every failure when none stands out."""
    failures = []
    for label, result in zip(labels, results):
        if not result.get("success"):
            code, message = error_of(result.get("errors") or [{}])
            failures.append((label, code, message))
    culprits = [item for item in failures if item[1] not in NOT_TO_BLAME]
    return culprits or failures
