# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Observed access (issue 18): which objects to count, the counting queries, and what is called unused."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from fake_client import FakeClient, soql_of

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import observed_access

SVC = to18("005000000000002")
OTHER = to18("005000000000003")


def test_the_counting_query_takes_object_names_only():
    soql = observed_access.build_modified_counts_soql("Account", [SVC[:15], OTHER, "not an id"], 30)
    assert soql == ("SELECT LastModifiedById, COUNT(Id) n FROM Account WHERE LastModifiedById IN ('%s', '%s') "
                    "AND LastModifiedDate = LAST_N_DAYS:30 GROUP BY LastModifiedById" % tuple(sorted([SVC, OTHER])))
    for bad in ("Account WHERE Id != null", "Account--", "", "1Account"):
        with pytest.raises(ValueError):
            observed_access.build_modified_counts_soql(bad, [SVC], 30)
    with pytest.raises(ValueError, match="no user Id"):
        observed_access.build_modified_counts_soql("Account", ["x"], 30)


def test_written_objects_are_counted_first_and_the_cap_is_said():
    held = {SVC: {"objects": dict(("Obj%02d__c" % n, ["Read"]) for n in range(30))},
            OTHER: {"objects": {"Zeta__c": ["Read", "Edit"], "Account; DELETE": ["Read"]}}}
    counted, beyond = observed_access.counted_objects(held)
    assert counted[0] == "Zeta__c" and len(counted) == observed_access.MAX_COUNTED_OBJECTS
    assert len(beyond) == 31 - observed_access.MAX_COUNTED_OBJECTS and "Account; DELETE" not in counted + beyond


class CountingOrg(FakeClient):
    def answer_query(self, soql, reference, tooling):
        if "FROM Account" in soql:
            return [{"LastModifiedById": SVC, "n": 3}, {"LastModifiedById": "junk", "n": 9}]
        return []

    def _answer(self, subrequest, tooling):
        if "FROM Secret__c" in (soql_of(subrequest) or ""):
            return {"status": 400, "body": [{"errorCode": "INVALID_TYPE", "message": "sObject type 'Secret__c' is not supported."}]}
        return super(CountingOrg, self)._answer(subrequest, tooling)


def test_counts_per_object_and_user_with_objects_the_org_will_not_count_named():
    client = CountingOrg()
    counts, errors = observed_access.count_modified_records(client, ["Account", "Contact", "Secret__c"], [SVC], 30)
    assert counts == {"Account": {SVC: 3}, "Contact": {}}
    assert list(errors) == ["Secret__c"] and "not supported" in errors["Secret__c"]
    assert client.api_usage["calls"] == 1
    assert observed_access.count_modified_records(client, [], [SVC], 30) == ({}, {})


GRANTED = {"system": ["ApiEnabled"], "objects": {"Account": ["Create", "Edit", "Read"], "Case": ["Read"],
                                                 "Opportunity": ["Create", "Edit", "Read"]}}
USAGE = {"calls": 5, "objects": {"Account": {"read": 2, "write": 0}, "Lead": {"read": 3, "write": 0}},
         "apps": {"ETL": 5}, "apex": {}}
LOG = {"status": "read", "date": "2026-12-02", "detail": "..."}


def test_unused_is_what_both_sources_could_have_shown_and_did_not():
    counts = {"Account": {SVC: 2}, "Case": {}, "Opportunity": {}, "Lead": {}}
    observed = observed_access.observed_access(GRANTED, USAGE, LOG, counts, {}, 30, SVC[:15])
    assert observed["objects"]["Account"] == {"granted": ["Create", "Edit", "Read"], "read_calls": 2,
                                              "write_calls": 0, "delete_calls": 0, "modified_records": 2}
    assert observed["objects"]["Lead"]["granted"] == []         # called without a row: reached another way
    assert observed["unused_objects"] == ["Case", "Opportunity"]
    assert observed["unused_write_objects"] == ["Opportunity"]  # Account was written (a modified record)
    # Without the log nothing is called unused; an object not counted is not either.
    blind = observed_access.observed_access(GRANTED, None, dict(LOG, status="unreadable"), counts, {}, 30, SVC)
    assert blind["unused_objects"] == [] == blind["unused_write_objects"]
    partial = observed_access.observed_access(GRANTED, USAGE, LOG, {"Account": {SVC: 2}}, {"Case": "why"}, 30, SVC)
    assert partial["unused_objects"] == [] and partial["objects"]["Case"]["modified_records"] is None
    assert partial["not_counted"] == {"Case": "why"}


def test_the_report_line_names_unused_reads_and_a_log_it_could_not_read():
    counts = {"Account": {SVC: 2}, "Case": {}, "Opportunity": {}, "Lead": {}}
    line = observed_access.describe_observed(observed_access.observed_access(GRANTED, USAGE, LOG, counts, {}, 30, SVC))
    assert line == ("observed (API usage log of 2026-12-02, records modified in 30 days): used Account (2 read, 0 write "
                    "calls, 2 records modified), Lead (3 read, 0 write calls); write rights not used: Opportunity; "
                    "held, not used: Case")
    hidden = dict(LOG, status="unreadable", date=None, detail="the ApiTotalUsage log is not readable by the connecting user")
    line = observed_access.describe_observed(observed_access.observed_access(GRANTED, None, hidden, counts, {}, 30, SVC))
    assert line.endswith("records modified in 30 days): used Account (2 records modified); "
                         "the ApiTotalUsage log is not readable by the connecting user")


ADMIN_GAP = {"system": ["ApiEnabled", "ModifyAllData", "RunFlow", "ViewAllData"],
             "objects": {"Account": ["Create", "Delete", "Edit", "Read"], "Opportunity": ["Read"]},
             "fields": {"Account.Rating": ["Edit", "Read"], "Opportunity.Amount": ["Read"]},
             "setup": {"ApexClass": ["OrderService"]}}
BOOMI = {"window_days": 30, "usage_log": LOG, "not_counted": {}, "system": ["ApiEnabled", "ModifyAllData", "ViewAllData"],
         "objects": {"Account": {"read_calls": 7, "write_calls": 13, "modified_records": 1},
                     "Contact": {"read_calls": 2, "write_calls": 0, "modified_records": 0},
                     "Opportunity": {"read_calls": 0, "write_calls": 0, "modified_records": 0}}}


def test_the_least_privilege_set_never_grants_more_than_the_copy_and_keeps_the_reach_of_what_was_used():
    narrowed, removed = observed_access.least_privilege_gap(ADMIN_GAP, BOOMI)
    # keep_reads: Account keeps what it wrote with (not Delete, never seen); Opportunity, unused, keeps its
    # read; Contact, reached through Modify All Data, keeps its records' reach (View All).
    assert narrowed == {"system": ["ApiEnabled", "RunFlow"],
                        "objects": {"Account": ["Create", "Edit", "Read"], "Contact": ["Read", "ViewAllRecords"],
                                    "Opportunity": ["Read"]},
                        "fields": {"Account.Rating": ["Edit", "Read"], "Opportunity.Amount": ["Read"]},
                        "setup": {"ApexClass": ["OrderService"]}}
    assert removed == {"system": ["ModifyAllData", "ViewAllData"], "objects": [],
                       "object_rights": {"Account": ["Delete"]}, "fields": 0,
                       "reach": "every other object, which Modify All Data reached"}
    assert observed_access.describe_removed(removed) == (
        "removed compared with the profile copy: ModifyAllData, ViewAllData; Delete on Account; every other object, "
        "which Modify All Data reached")
    strict, removed = observed_access.least_privilege_gap(ADMIN_GAP, BOOMI, margin="as_used")
    assert "Opportunity" not in strict["objects"] and strict["fields"] == {"Account.Rating": ["Edit", "Read"]}
    assert removed["objects"] == ["Opportunity"] and removed["fields"] == 1
    wider, _removed = observed_access.least_privilege_gap(ADMIN_GAP, BOOMI, margin="read_write")
    assert wider["objects"]["Contact"] == ["Create", "Delete", "Edit", "ModifyAllRecords", "Read", "ViewAllRecords"]
    # Without Modify/View All Data, an object the copy has no row for is not granted (its access came another
    # way), and a read-only copy never becomes a write.
    plain = dict(ADMIN_GAP, system=["ApiEnabled"], objects={"Account": ["Read"]})
    narrowed, _removed = observed_access.least_privilege_gap(plain, dict(BOOMI, system=["ApiEnabled"]), margin="read_write")
    assert narrowed["objects"] == {"Account": ["Read"]}
    deleting = dict(BOOMI, objects={"Account": {"read_calls": 0, "write_calls": 0, "delete_calls": 2, "modified_records": 0}})
    narrowed, _removed = observed_access.least_privilege_gap(ADMIN_GAP, deleting, margin="as_used")
    assert narrowed["objects"]["Account"] == ["Delete", "Edit", "Read"]
    with pytest.raises(ValueError):
        observed_access.least_privilege_gap(ADMIN_GAP, BOOMI, margin="everything")
    assert observed_access.describe_removed({"system": "x", "objects": 3, "object_rights": [], "fields": "2"}) == (
        "removed compared with the profile copy: nothing")


NOTHING = {"read_calls": 0, "write_calls": 0, "delete_calls": 0, "modified_records": 0}


@pytest.mark.parametrize("observed, why", [
    (None, "no observed access"),
    (dict(BOOMI, usage_log={"status": "unreadable", "detail": "not readable"}), "the API usage log was not read"),
    (dict(BOOMI, not_counted={"Case": "beyond"}), "the records of Case were not counted"),
    (dict(BOOMI, unattributed_calls=3), "3 of its calls name no object or cannot be told read from write"),
    (dict(BOOMI, objects={"Account": NOTHING}), "no use seen (no call on the log's day, no record modified)"),
    (dict(BOOMI, objects={"Account": NOTHING, "EventLogFile": dict(NOTHING, read_calls=4)}),
     "its calls name setup objects no permission set grants one by one (EventLogFile)"),
])
def test_evidence_that_cannot_support_a_set_is_said(observed, why):
    assert why in observed_access.observation_problem(observed)
    assert observed_access.observation_problem(BOOMI) is None
