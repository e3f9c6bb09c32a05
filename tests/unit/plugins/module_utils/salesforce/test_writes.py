# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The all-or-none engine: who is to blame in a rolled-back request, and the innocent sent again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ApiError
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import writes

from fake_client import FakeClient

HALTED = [{"errorCode": "PROCESSING_HALTED", "message": "halted"}]


class Org(FakeClient):
    """Transactions applied all or none; ``refuse`` {referenceId: error code}; ``broken`` call numbers fail whole."""

    def __init__(self, refuse=None, broken=()):
        super(Org, self).__init__()
        self.refuse = refuse or {}
        self.broken = broken
        self.sent = []

    def answer_transaction(self, subrequests):
        self.sent.append([s["referenceId"] for s in subrequests])
        if len(self.sent) in self.broken:
            raise ApiError("Read timed out", error_code="TRANSPORT_ERROR")
        if not any(s["referenceId"] in self.refuse for s in subrequests):
            return dict((s["referenceId"], {"status": 201, "body": {"id": "x"}}) for s in subrequests)
        return dict((s["referenceId"], {"status": 400, "body": [
            {"errorCode": self.refuse[s["referenceId"]], "message": "no"}] if s["referenceId"] in self.refuse
            else HALTED}) for s in subrequests)


def unit(key, count):
    subs = [{"method": "POST", "url": "/x", "referenceId": "%s_%d" % (key, n), "body": {}} for n in range(count)]
    return writes.unit(key, subs, ["%s step %d" % (key, n) for n in range(count)])


def test_the_culprit_is_blamed_and_the_innocent_sent_again():
    org = Org(refuse={"b_1": "FIELD_INTEGRITY_EXCEPTION"})
    done, failed = writes.send_transactions(org, [unit("a", 2), unit("b", 3), unit("c", 2)])
    assert failed == {"b": ("b step 1", "FIELD_INTEGRITY_EXCEPTION", "no")}
    assert sorted(done) == ["a", "c"]
    assert org.sent == [["a_0", "a_1", "b_0", "b_1", "b_2", "c_0", "c_1"], ["a_0", "a_1", "c_0", "c_1"]]


def test_whole_units_per_call_at_most_25_subrequests():
    org = Org()
    done, failed = writes.send_transactions(org, [unit("u%d" % n, 10) for n in range(5)])
    assert failed == {} and len(done) == 5
    assert [len(call) for call in org.sent] == [20, 20, 10]


def test_a_call_that_failed_whole_leaves_its_units_unknown():
    org = Org(broken=(1,))
    done, failed = writes.send_transactions(org, [unit("a", 2), unit("b", 2)])
    assert done == {} and failed == {"a": (None, "TRANSPORT_ERROR", "Read timed out"),
                                     "b": (None, "TRANSPORT_ERROR", "Read timed out")}


def test_rolled_back_without_a_culprit_blames_nobody_by_name():
    org = Org(refuse={"a_0": "PROCESSING_HALTED"})
    done, failed = writes.send_transactions(org, [unit("a", 1)])
    assert failed == {"a": (None, "PROCESSING_HALTED", "the transaction was rolled back without a cause")}


def test_collection_records_culprits_else_every_failure():
    rolled = {"success": False, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "rb"}]}
    bad = {"success": False, "errors": [{"statusCode": "INVALID_FIELD", "message": "no such field"}]}
    assert writes.blame_records(["x", "y", "z"], [rolled, bad, {"success": True}]) == [
        ("y", "INVALID_FIELD", "no such field")]
    assert writes.blame_records(["x"], [rolled]) == [("x", "ALL_OR_NONE_OPERATION_ROLLED_BACK", "rb")]
