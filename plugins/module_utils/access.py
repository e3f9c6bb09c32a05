# -*- coding: utf-8 -*-
# Copyright: contributors to sfops.integration_users
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a profile or permission sets grant, and the gap between two grants.

Used by sf_profile_check (the ``access_gap`` of each user) and by sf_permission_set (``access_from``:
re-grant that gap through a permission set bound to the integration PSL).

An *access* is a plain dict, JSON-ready and stable (every list sorted)::

    {"system":  ["ModifyAllData", "RunFlow", ...],                  # PermissionSet.Permissions<Name>
     "objects": {"Account": ["Create", "Edit", "Read"], ...},      # ObjectPermissions.Permissions<Name>
     "fields":  {"Account.Industry": ["Edit", "Read"], ...}}       # FieldPermissions.Permissions<Name>

Pure functions (no HTTP):

    empty_access() -> access with nothing granted
    access_from_records(permission_set, object_permissions=(), field_permissions=())
        -> access granted by ONE PermissionSet record (a profile's is its IsOwnedByProfile set)
           and its ObjectPermissions / FieldPermissions rows (REST records, attributes ignored)
    merge_access(*accesses) -> union
    access_gap(current, target) -> what ``current`` grants that ``target`` does not, as an access.
           Implied rights count as granted: Edit implies Read, ModifyAllRecords implies everything
           on the object, ModifyAllData implies ViewAllData, so a target with Edit has no Read gap.
    is_empty(access) -> True when nothing is granted
    describe_access(access) -> short sorted strings for messages: "system:RunFlow", "Account:Edit"
    SYSTEM_PERMISSIONS_THAT_MATTER: system permissions an integration user typically relies on

One fetch function (constant number of API calls, whatever the number of profiles / sets):

    fetch_access(client, profile_ids=(), permission_set_ids=(), include_fields=True)
        -> {"profiles": {profile Id18: access}, "permission_sets": {permission set Id18: access}}
        ``client`` is the shared Client (query, composite, describe).
        Cost: 3 calls: 1 describe of PermissionSet, 1 PermissionSet query, then 1 composite holding
        the ObjectPermissions and FieldPermissions queries on the sets found (+ their extra pages). Pure builders:
        permission_fields(describe), build_permission_set_soql(...), build_permission_rows_soql(...),
        access_by_parent(permission_set_records, object_rows, field_rows).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_literal
from ansible_collections.sfops.integration_users.plugins.module_utils.users import run_queries

OBJECT_RIGHTS = ("Read", "Create", "Edit", "Delete", "ViewAllRecords", "ModifyAllRecords")
FIELD_RIGHTS = ("Read", "Edit")

# Rights that a broader right already contains; used so a gap lists only what is really missing.
_OBJECT_IMPLIES = {
    "Edit": ("Read",),
    "Delete": ("Read", "Edit"),
    "ViewAllRecords": ("Read",),
    "ModifyAllRecords": ("Read", "Edit", "Delete", "ViewAllRecords"),
}
_FIELD_IMPLIES = {"Edit": ("Read",)}
_SYSTEM_IMPLIES = {"ModifyAllData": ("ViewAllData",)}

# The permissions the issue names plus those integrations commonly lean on; messages list them first.
SYSTEM_PERMISSIONS_THAT_MATTER = (
    "ApiEnabled", "ModifyAllData", "ViewAllData", "RunFlow", "ManageUsers", "CustomizeApplication",
    "AuthorApex", "ViewSetup", "ModifyMetadata",
)

# Granted by the integration profile itself or meaningless to re-grant through a permission set.
_SYSTEM_NOT_A_GAP = ("ApiUserOnly",)

_PERMISSION_PREFIX = "Permissions"


def empty_access():
    return {"system": [], "objects": {}, "fields": {}}


def _rights(record, names):
    return sorted(name for name in names if record.get(_PERMISSION_PREFIX + name) is True)


def access_from_records(permission_set, object_permissions=(), field_permissions=()):
    """Access granted by one PermissionSet record and its object / field permission rows."""
    access = empty_access()
    if permission_set:
        access["system"] = sorted(
            key[len(_PERMISSION_PREFIX):] for key, value in permission_set.items()
            if key.startswith(_PERMISSION_PREFIX) and value is True)
    for row in object_permissions:
        rights = _rights(row, OBJECT_RIGHTS)
        if rights and row.get("SobjectType"):
            access["objects"][row["SobjectType"]] = rights
    for row in field_permissions:
        rights = _rights(row, FIELD_RIGHTS)
        if rights and row.get("Field"):
            access["fields"][row["Field"]] = rights
    return merge_access(access)


def merge_access(*accesses):
    """Union of accesses, sorted."""
    system = set()
    objects = {}
    fields = {}
    for access in accesses:
        if not access:
            continue
        system.update(access.get("system") or ())
        for table, target in (("objects", objects), ("fields", fields)):
            for name, rights in (access.get(table) or {}).items():
                target.setdefault(name, set()).update(rights)
    return {
        "system": sorted(system),
        "objects": dict((name, sorted(rights)) for name, rights in sorted(objects.items()) if rights),
        "fields": dict((name, sorted(rights)) for name, rights in sorted(fields.items()) if rights),
    }


def _closure(rights, implies):
    out = set(rights)
    for right in rights:
        out.update(implies.get(right, ()))
    return out


def _case_insensitive(table):
    # SobjectType and field names are case-insensitive in Salesforce; compare them that way.
    return dict((name.lower(), rights) for name, rights in (table or {}).items())


def access_gap(current, target):
    """What ``current`` grants and ``target`` lacks (rights implied by the target count as granted)."""
    current = merge_access(current)
    target = merge_access(target)
    target_system = _closure(target["system"], _SYSTEM_IMPLIES)
    gap = empty_access()
    gap["system"] = sorted(
        name for name in current["system"] if name not in target_system and name not in _SYSTEM_NOT_A_GAP)
    for table, implies in (("objects", _OBJECT_IMPLIES), ("fields", _FIELD_IMPLIES)):
        granted = _case_insensitive(target[table])
        for name, rights in current[table].items():
            have = _closure(granted.get(name.lower(), ()), implies)
            # Broad object-wide rights in the target also cover every object.
            if table == "objects" and "ModifyAllData" in target_system:
                have.update(OBJECT_RIGHTS)
            elif table == "objects" and "ViewAllData" in target_system:
                have.update(("Read", "ViewAllRecords"))
            missing = sorted(set(rights) - have)
            if missing:
                gap[table][name] = missing
    return gap


def is_empty(access):
    return not access or not (access.get("system") or access.get("objects") or access.get("fields"))


def describe_access(access):
    """Short strings for messages and diffs, in a stable order (important system permissions first)."""
    access = merge_access(access)
    ranked = dict((name, index) for index, name in enumerate(SYSTEM_PERMISSIONS_THAT_MATTER))
    system = sorted(access["system"], key=lambda name: (ranked.get(name, len(ranked)), name))
    out = ["system:" + name for name in system]
    out.extend("%s:%s" % (name, "/".join(rights)) for name, rights in access["objects"].items())
    out.extend("%s:%s" % (name, "/".join(rights)) for name, rights in access["fields"].items())
    return out


def _id_list(values):
    return sorted(set(to18(value) for value in values if value))


def permission_fields(describe):
    """The boolean Permissions* fields a PermissionSet describe offers (names differ by org and release)."""
    return sorted(
        field["name"] for field in (describe or {}).get("fields", ())
        if field.get("type") == "boolean" and field.get("name", "").startswith(_PERMISSION_PREFIX))


def build_permission_set_soql(permission_fields_list, profile_ids=(), permission_set_ids=()):
    """SOQL for the PermissionSet rows of the given profiles (their owned sets) and sets; None if none."""
    conditions = []
    if _id_list(profile_ids):
        conditions.append("ProfileId IN %s" % soql_literal(_id_list(profile_ids)))
    if _id_list(permission_set_ids):
        conditions.append("Id IN %s" % soql_literal(_id_list(permission_set_ids)))
    if not conditions:
        return None
    fixed = ["Id", "Name", "ProfileId", "IsOwnedByProfile"]
    selected = fixed + [name for name in permission_fields_list if name not in fixed]
    return "SELECT %s FROM PermissionSet WHERE %s ORDER BY Id" % (", ".join(selected), " OR ".join(conditions))


def build_permission_rows_soql(parent_ids, include_fields=True):
    """SOQL for the ObjectPermissions (and FieldPermissions) rows of the given permission sets."""
    parents = soql_literal(_id_list(parent_ids))
    queries = {
        "objects": "SELECT ParentId, SobjectType, %s FROM ObjectPermissions WHERE ParentId IN %s "
                   "ORDER BY ParentId, SobjectType"
                   % (", ".join(_PERMISSION_PREFIX + r for r in OBJECT_RIGHTS), parents),
    }
    if include_fields:
        queries["fields"] = (
            "SELECT ParentId, SobjectType, Field, %s FROM FieldPermissions WHERE ParentId IN %s "
            "ORDER BY ParentId, Field" % (", ".join(_PERMISSION_PREFIX + r for r in FIELD_RIGHTS), parents))
    return queries


def access_by_parent(permission_set_records, object_rows=(), field_rows=()):
    """{"profiles": {profile Id18: access}, "permission_sets": {set Id18: access}} from query results."""
    objects_by_parent = {}
    for row in object_rows:
        objects_by_parent.setdefault(to18(row.get("ParentId")), []).append(row)
    fields_by_parent = {}
    for row in field_rows:
        fields_by_parent.setdefault(to18(row.get("ParentId")), []).append(row)
    out = {"profiles": {}, "permission_sets": {}}
    for record in permission_set_records:
        set_id = to18(record["Id"])
        access = access_from_records(record, objects_by_parent.get(set_id, ()), fields_by_parent.get(set_id, ()))
        out["permission_sets"][set_id] = access
        if record.get("IsOwnedByProfile") and record.get("ProfileId"):
            out["profiles"][to18(record["ProfileId"])] = access
    return out


def _describe(client, sobject):
    # The shared client has no describe helper yet; its generic REST call is the documented fallback.
    describe = getattr(client, "describe", None)
    if describe is not None:
        return describe(sobject)
    return client._rest("sobjects/%s/describe" % sobject)  # pylint: disable=protected-access


def fetch_access(client, profile_ids=(), permission_set_ids=(), include_fields=True):
    """Access of the given profiles and permission sets, in a constant number of calls."""
    if not _id_list(profile_ids) and not _id_list(permission_set_ids):
        return {"profiles": {}, "permission_sets": {}}
    soql = build_permission_set_soql(permission_fields(_describe(client, "PermissionSet")),
                                     profile_ids, permission_set_ids)
    sets = client.query(soql)["records"]
    if not sets:
        return {"profiles": {}, "permission_sets": {}}
    rows = run_queries(client, sorted(build_permission_rows_soql([r["Id"] for r in sets], include_fields).items()))
    return access_by_parent(sets, rows["objects"], rows.get("fields", ()))
