# -*- coding: utf-8 -*-
"""Access read from permission sets, merged, and the gap between a current and a target grant."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.access import (
    access_by_parent, access_from_records, access_gap, build_permission_rows_soql, build_permission_set_soql,
    describe_access, describe_subrequest, empty_access, fetch_access, is_empty, merge_access, permission_fields)

from fake_client import FakeClient as SharedFakeClient, soql_of

ADMIN_PS = to18("0PS5g0000000001")
TARGET_PS = to18("0PS5g0000000002")
EXTRA_PS = to18("0PS5g0000000003")
ADMIN_PROFILE = to18("00e5g0000000001")
TARGET_PROFILE = to18("00e5g0000000002")


def object_row(parent, sobject, **rights):
    row = {"attributes": {"type": "ObjectPermissions"}, "ParentId": parent, "SobjectType": sobject}
    for name in ("Read", "Create", "Edit", "Delete", "ViewAllRecords", "ModifyAllRecords"):
        row["Permissions" + name] = rights.get(name, False)
    return row


def field_row(parent, field, read=True, edit=False):
    return {"ParentId": parent, "SobjectType": field.split(".")[0], "Field": field,
            "PermissionsRead": read, "PermissionsEdit": edit}


ADMIN_SET = {"attributes": {"type": "PermissionSet"}, "Id": ADMIN_PS, "Name": "X00ex", "ProfileId": ADMIN_PROFILE,
             "IsOwnedByProfile": True, "PermissionsApiEnabled": True, "PermissionsModifyAllData": True,
             "PermissionsRunFlow": True, "PermissionsApiUserOnly": False, "PermissionsViewAllData": True}
TARGET_SET = {"Id": TARGET_PS, "Name": "X00ey", "ProfileId": TARGET_PROFILE, "IsOwnedByProfile": True,
              "PermissionsApiEnabled": True, "PermissionsApiUserOnly": True, "PermissionsModifyAllData": False}


def test_access_from_records_reads_true_permissions_only():
    access = access_from_records(ADMIN_SET, [object_row(ADMIN_PS, "Account", Read=True, Edit=True),
                                             object_row(ADMIN_PS, "Lead")],
                                 [field_row(ADMIN_PS, "Account.Industry", edit=True)])
    assert access == {
        "system": ["ApiEnabled", "ModifyAllData", "RunFlow", "ViewAllData"],
        "objects": {"Account": ["Edit", "Read"]},
        "fields": {"Account.Industry": ["Edit", "Read"]},
    }


def test_empty_access_and_is_empty():
    assert is_empty(empty_access())
    assert is_empty(None)
    assert is_empty(access_from_records(None))
    assert not is_empty({"system": ["RunFlow"]})


def test_merge_is_a_sorted_union():
    merged = merge_access({"system": ["RunFlow"], "objects": {"Case": ["Read"]}},
                          {"system": ["ApiEnabled", "RunFlow"], "objects": {"Case": ["Edit"], "Account": ["Read"]}},
                          None)
    assert merged == {"system": ["ApiEnabled", "RunFlow"],
                      "objects": {"Account": ["Read"], "Case": ["Edit", "Read"]}, "fields": {}}
    assert list(merged["objects"]) == ["Account", "Case"]


def test_gap_lists_what_the_target_lacks():
    current = {"system": ["ApiEnabled", "ModifyAllData", "RunFlow"],
               "objects": {"Account": ["Create", "Edit", "Read"], "Case": ["Read"]},
               "fields": {"Account.Industry": ["Edit", "Read"]}}
    target = {"system": ["ApiEnabled", "ApiUserOnly"], "objects": {"Account": ["Read"]}, "fields": {}}
    assert access_gap(current, target) == {
        "system": ["ModifyAllData", "RunFlow"],
        "objects": {"Account": ["Create", "Edit"], "Case": ["Read"]},
        "fields": {"Account.Industry": ["Edit", "Read"]},
    }


def test_gap_counts_implied_rights_as_granted():
    current = {"system": ["ViewAllData"], "objects": {"Account": ["Edit", "Read"], "Case": ["Read", "ViewAllRecords"]},
               "fields": {"Account.Industry": ["Read"]}}
    target = {"system": ["ModifyAllData"], "objects": {"account": ["Edit"], "Case": ["ModifyAllRecords"]},
              "fields": {"Account.Industry": ["Edit"]}}
    assert is_empty(access_gap(current, target))


def test_modify_all_data_in_target_covers_every_object():
    current = {"objects": {"Account": ["Delete", "ModifyAllRecords"]}}
    assert is_empty(access_gap(current, {"system": ["ModifyAllData"]}))
    # View All Data covers reading, not writing.
    gap = access_gap({"objects": {"Account": ["Edit", "Read"]}}, {"system": ["ViewAllData"]})
    assert gap["objects"] == {"Account": ["Edit"]}


def test_api_only_flag_is_never_a_gap():
    assert is_empty(access_gap({"system": ["ApiUserOnly"]}, empty_access()))


def test_gap_of_identical_access_is_empty_and_gap_is_not_symmetric():
    access = {"system": ["RunFlow"], "objects": {"Account": ["Read"]}}
    assert is_empty(access_gap(access, access))
    assert is_empty(access_gap(empty_access(), access))
    assert not is_empty(access_gap(access, empty_access()))


def test_describe_access_ranks_important_permissions_first():
    access = {"system": ["AAAOther", "RunFlow", "ModifyAllData"], "objects": {"Account": ["Edit", "Read"]},
              "fields": {"Account.Industry": ["Read"]}}
    assert describe_access(access) == ["system:ModifyAllData", "system:RunFlow", "system:AAAOther",
                                       "Account:Edit/Read", "Account.Industry:Read"]


def test_permission_fields_from_describe():
    describe = {"fields": [{"name": "Id", "type": "id"}, {"name": "PermissionsRunFlow", "type": "boolean"},
                           {"name": "PermissionsApiEnabled", "type": "boolean"},
                           {"name": "PermissionSetGroupId", "type": "reference"}]}
    assert permission_fields(describe) == ["PermissionsApiEnabled", "PermissionsRunFlow"]
    assert permission_fields(None) == []


def test_permission_set_soql_accepts_both_id_forms_and_dedups():
    soql = build_permission_set_soql(["PermissionsRunFlow", "Id"], profile_ids=[ADMIN_PROFILE[:15], ADMIN_PROFILE],
                                     permission_set_ids=[EXTRA_PS])
    assert soql == ("SELECT Id, Name, ProfileId, IsOwnedByProfile, PermissionsRunFlow FROM PermissionSet "
                    "WHERE ProfileId IN ('%s') OR Id IN ('%s') ORDER BY Id" % (ADMIN_PROFILE, EXTRA_PS))
    assert build_permission_set_soql(["PermissionsRunFlow"]) is None


def test_permission_rows_soql():
    queries = build_permission_rows_soql([TARGET_PS, ADMIN_PS])
    assert sorted(queries) == ["fields", "objects", "setup"]
    assert "FROM SetupEntityAccess WHERE ParentId IN ('%s', '%s') ORDER" % (ADMIN_PS, TARGET_PS) in queries["setup"]
    assert "FROM ObjectPermissions WHERE ParentId IN ('%s', '%s') ORDER" % (ADMIN_PS, TARGET_PS) in queries["objects"]
    assert sorted(build_permission_rows_soql([ADMIN_PS], include_fields=False)) == ["objects", "setup"]
    both = build_permission_rows_soql([ADMIN_PS], profile_ids=[TARGET_PROFILE[:15]])
    assert "WHERE ParentId IN ('%s') OR Parent.ProfileId IN ('%s') ORDER" % (ADMIN_PS, TARGET_PROFILE) in both["fields"]
    assert build_permission_rows_soql() == {}


def test_access_by_parent_indexes_profiles_and_sets():
    extra = {"Id": EXTRA_PS[:15], "Name": "Sales_Ops", "ProfileId": None, "IsOwnedByProfile": False,
             "PermissionsRunFlow": True}
    out = access_by_parent([ADMIN_SET, TARGET_SET, extra],
                           [object_row(ADMIN_PS[:15], "Account", Read=True), object_row(EXTRA_PS, "Case", Edit=True)])
    assert sorted(out["profiles"]) == sorted([ADMIN_PROFILE, TARGET_PROFILE])
    assert sorted(out["permission_sets"]) == sorted([ADMIN_PS, TARGET_PS, EXTRA_PS])
    assert out["profiles"][ADMIN_PROFILE]["objects"] == {"Account": ["Read"]}
    assert out["permission_sets"][EXTRA_PS] == {"system": ["RunFlow"], "objects": {"Case": ["Edit"]}, "fields": {}}


PS_DESCRIBE = {"fields": [{"name": "Permissions" + name, "type": "boolean"}
                          for name in ("RunFlow", "ModifyAllData", "ApiEnabled", "ApiUserOnly", "ViewAllData")]}


class FakeClient(SharedFakeClient):
    """The shared fake answering queries by FROM object and the PermissionSet describe from tables;
    ``calls`` lists, per composite call, the SOQL or URL of each subrequest."""

    def __init__(self, tables):
        super(FakeClient, self).__init__()
        self.tables = tables

    def _count(self, kind, detail):
        pass

    def composite(self, subrequests, all_or_none=False, raise_on_error=True, tooling=False):
        subrequests = list(subrequests)
        self.calls.append([soql_of(sub) or sub["url"] for sub in subrequests])
        return super(FakeClient, self).composite(subrequests, all_or_none, raise_on_error, tooling)

    def answer_query(self, soql, reference, tooling):
        return list(self.tables.get(soql.split(" FROM ")[1].split()[0], ()))

    def answer_resource(self, subrequest, tooling):
        assert subrequest["url"].endswith("/sobjects/PermissionSet/describe") and subrequest["method"] == "GET"
        return 200, PS_DESCRIBE


TABLES = {
    "PermissionSet": [ADMIN_SET, TARGET_SET],
    "ObjectPermissions": [object_row(ADMIN_PS, "Account", Read=True, Edit=True),
                          object_row(TARGET_PS, "Account", Read=True)],
    "FieldPermissions": [],
}


def test_fetch_access_is_one_composite_given_the_describe_and_computes_the_gap():
    client = FakeClient(TABLES)
    fetched = fetch_access(client, profile_ids=[ADMIN_PROFILE, TARGET_PROFILE], describe=PS_DESCRIBE)
    # The setup entities ride along: still one call, and none more when no setup access is granted.
    assert len(client.calls) == 1 and len(client.calls[0]) == 4
    sets, fields, objects, setup = client.calls[0]
    assert "FROM SetupEntityAccess WHERE Parent.ProfileId IN ('%s', '%s')" % (ADMIN_PROFILE, TARGET_PROFILE) in setup
    assert "PermissionsRunFlow" in sets and "FROM PermissionSet " in sets
    assert "FROM FieldPermissions WHERE Parent.ProfileId IN ('%s', '%s')" % (ADMIN_PROFILE, TARGET_PROFILE) in fields
    assert "FROM ObjectPermissions WHERE Parent.ProfileId" in objects
    gap = access_gap(fetched["profiles"][ADMIN_PROFILE], fetched["profiles"][TARGET_PROFILE])
    assert gap == {"system": ["ModifyAllData", "RunFlow", "ViewAllData"], "objects": {"Account": ["Edit"]},
                   "fields": {}}


def test_fetch_access_without_describe_asks_for_it_first():
    client = FakeClient(TABLES)
    fetch_access(client, permission_set_ids=[ADMIN_PS])
    assert len(client.calls) == 2 and client.calls[0] == ["/services/data/v62.0/sobjects/PermissionSet/describe"]
    assert describe_subrequest(client)["method"] == "GET"


def test_fetch_access_with_nothing_asked_makes_no_call():
    client = FakeClient({})
    assert fetch_access(client) == {"profiles": {}, "permission_sets": {}}
    assert client.calls == []
