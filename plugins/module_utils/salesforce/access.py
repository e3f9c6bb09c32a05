# -*- coding: utf-8 -*-
# Copyright: contributors to sfops.integration_users
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a profile or permission sets grant, and the gap between two grants.

Used by sf_profile_check (the ``access_gap`` of each user) and by sf_permission_set (``access_from``:
re-grant that gap through a permission set bound to the integration PSL).

An *access* is a plain dict, JSON-ready and stable (every list sorted)::

    {"system":  ["ModifyAllData", "RunFlow", ...],                  # PermissionSet.Permissions<Name>
     "objects": {"Account": ["Create", "Edit", "Read"], ...},      # ObjectPermissions.Permissions<Name>
     "fields":  {"Account.Industry": ["Edit", "Read"], ...},       # FieldPermissions.Permissions<Name>
     "setup":   {"ConnectedApplication": ["MuleSoft Connector"],   # SetupEntityAccess, by entity type:
                 "ApexClass": ["OrderService"], ...}}              # the entities' names (SETUP_ENTITY_NAMES)

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

    fetch_access(client, profile_ids, permission_set_ids, include_fields=True, describe=None)
        -> {"profiles": {profile Id18: access}, "permission_sets": {permission set Id18: access},
            "admin_approved_apps": [names of the connected apps among them admitting admin-approved users only]}
        ``client`` is the shared Client (composite, query_subrequest, finish_query, data_path).
        Cost: 1 composite holding the PermissionSet, ObjectPermissions, FieldPermissions and
        SetupEntityAccess queries (+ their extra pages); +1 composite naming the setup entities when
        there are any; +1 call for the PermissionSet describe unless ``describe`` is given
        (put ``describe_subrequest(client)`` in a composite you send anyway). Pure builders:
        permission_fields(describe), build_permission_set_soql(...),
        build_permission_rows_soql(parent_ids, include_fields, profile_ids),
        access_by_parent(permission_set_records, object_rows, field_rows).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_in
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.reads import read_all, run_queries

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

# Rights an integration rarely needs and a security review wants named when they are replicated (the
# ADMIN_RIGHTS finding, the report's risk flag).
ADMIN_RIGHTS = ("ModifyAllData", "ViewAllData", "ManageUsers", "CustomizeApplication", "AuthorApex",
                "ModifyMetadata", "ManageProfilesPermissionsets", "ResetPasswords", "ViewSetup")

# The permissions the issue names plus those integrations commonly lean on; messages list them first.
SYSTEM_PERMISSIONS_THAT_MATTER = (
    "ApiEnabled", "ModifyAllData", "ViewAllData", "RunFlow", "ManageUsers", "CustomizeApplication",
    "AuthorApex", "ViewSetup", "ModifyMetadata",
)

# Granted by the integration profile itself or meaningless to re-grant through a permission set.
_SYSTEM_NOT_A_GAP = ("ApiUserOnly",)

_PERMISSION_PREFIX = "Permissions"

# SetupEntityAccess.SetupEntityType -> the field naming such an entity. Names, not Ids, are carried
# between orgs (a sandbox's entity Ids need not be production's).
SETUP_ENTITY_NAMES = {
    "ConnectedApplication": "Name",
    "ApexClass": "Name",
    "ApexPage": "Name",
    "CustomPermission": "DeveloperName",
}
# Read beside an entity's name: a connected app that admits admin-approved users only is the one whose
# logins break when the profile that pre-authorized the user goes (issue 12).
ADMIN_APPROVED_FIELD = "OptionsAllowAdminApprovedUsersOnly"
_SETUP_ENTITY_EXTRA_FIELDS = {"ConnectedApplication": (ADMIN_APPROVED_FIELD,)}
# Author Apex gives access to every Apex class.
_SETUP_IMPLIED_BY = {"ApexClass": "AuthorApex"}


def empty_access():
    return {"system": [], "objects": {}, "fields": {}}


def _rights(record, names):
    return sorted(name for name in names if record.get(_PERMISSION_PREFIX + name) is True)


def access_from_records(permission_set, object_permissions=(), field_permissions=(), setup_entities=()):
    """Access granted by one PermissionSet record, its object / field permission rows and its setup
    entities (``[(SetupEntityType, name)]``)."""
    access = empty_access()
    for entity_type, name in setup_entities:
        access.setdefault("setup", {}).setdefault(entity_type, []).append(name)
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
    setup = {}
    for access in accesses:
        if not access:
            continue
        system.update(access.get("system") or ())
        for table, target in (("objects", objects), ("fields", fields), ("setup", setup)):
            for name, rights in (access.get(table) or {}).items():
                target.setdefault(name, set()).update(rights)
    merged = {
        "system": sorted(system),
        "objects": dict((name, sorted(rights)) for name, rights in sorted(objects.items()) if rights),
        "fields": dict((name, sorted(rights)) for name, rights in sorted(fields.items()) if rights),
    }
    # ``setup`` only when something is granted there: an access without setup entities keeps its shape.
    setup = dict((name, sorted(entities)) for name, entities in sorted(setup.items()) if entities)
    if setup:
        merged["setup"] = setup
    return merged


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
    for entity_type, names in (current.get("setup") or {}).items():
        if _SETUP_IMPLIED_BY.get(entity_type) in target_system:
            continue
        held = set(name.lower() for name in (target.get("setup") or {}).get(entity_type, ()))
        missing = sorted(name for name in names if name.lower() not in held)
        if missing:
            gap.setdefault("setup", {})[entity_type] = missing
    return gap


def is_empty(access):
    return not access or not (access.get("system") or access.get("objects") or access.get("fields") or
                              access.get("setup"))


def describe_access(access):
    """Short strings for messages and diffs, in a stable order (important system permissions first)."""
    access = merge_access(access)
    ranked = dict((name, index) for index, name in enumerate(SYSTEM_PERMISSIONS_THAT_MATTER))
    system = sorted(access["system"], key=lambda name: (ranked.get(name, len(ranked)), name))
    out = ["system:" + name for name in system]
    out.extend("%s:%s" % (name, "/".join(rights)) for name, rights in access["objects"].items())
    out.extend("%s:%s" % (name, "/".join(rights)) for name, rights in access["fields"].items())
    out.extend("%s:%s" % (entity_type, name) for entity_type, names in (access.get("setup") or {}).items()
               for name in names)
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
    conditions = soql_in("ProfileId", _id_list(profile_ids)) + soql_in("Id", _id_list(permission_set_ids))
    if not conditions:
        return None
    fixed = ["Id", "Name", "ProfileId", "IsOwnedByProfile"]
    selected = fixed + [name for name in permission_fields_list if name not in fixed]
    return "SELECT %s FROM PermissionSet WHERE %s ORDER BY Id" % (", ".join(selected), " OR ".join(conditions))


def build_permission_rows_soql(parent_ids=(), include_fields=True, profile_ids=()):
    """SOQL for the ObjectPermissions (and FieldPermissions) rows of the given permission sets and of
    the sets the given profiles own (through ``Parent.ProfileId``, so no earlier query is needed)."""
    conditions = soql_in("ParentId", _id_list(parent_ids)) + soql_in("Parent.ProfileId", _id_list(profile_ids))
    if not conditions:
        return {}
    where = " OR ".join(conditions)
    queries = {
        "objects": "SELECT ParentId, SobjectType, %s FROM ObjectPermissions WHERE %s ORDER BY ParentId, SobjectType"
                   % (", ".join(_PERMISSION_PREFIX + r for r in OBJECT_RIGHTS), where),
    }
    if include_fields:
        queries["fields"] = (
            "SELECT ParentId, SobjectType, Field, %s FROM FieldPermissions WHERE %s ORDER BY ParentId, Field"
            % (", ".join(_PERMISSION_PREFIX + r for r in FIELD_RIGHTS), where))
    queries["setup"] = ("SELECT Id, ParentId, SetupEntityId, SetupEntityType FROM SetupEntityAccess WHERE %s "
                        "ORDER BY ParentId, SetupEntityId" % where)
    return queries


def setup_entity_queries(ids_by_type=None, names_by_type=None):
    """``[(SetupEntityType, soql)]`` reading the Id and name of the setup entities with these Ids or
    names (one query per type, at most four: one composite call)."""
    queries = []
    for entity_type, field in sorted(SETUP_ENTITY_NAMES.items()):
        conditions = (soql_in("Id", _id_list((ids_by_type or {}).get(entity_type, ()))) +
                      soql_in(field, (names_by_type or {}).get(entity_type, ())))
        if conditions:
            fields = ", ".join(("Id", field) + _SETUP_ENTITY_EXTRA_FIELDS.get(entity_type, ()))
            queries.append((entity_type, "SELECT %s FROM %s WHERE %s ORDER BY %s"
                            % (fields, entity_type, " OR ".join(conditions), field)))
    return queries


def read_setup_entity_rows(client, ids_by_type=None, names_by_type=None):
    """``{SetupEntityType: [rows]}`` of the entities asked for by Id or name (no call when none)."""
    queries = setup_entity_queries(ids_by_type, names_by_type)
    return run_queries(client, queries) if queries else {}


def setup_names_of(rows_by_type):
    """``{SetupEntityType: {Id18: name}}`` from read_setup_entity_rows' answer."""
    return dict((entity_type, dict((to18(row["Id"]), row.get(SETUP_ENTITY_NAMES[entity_type])) for row in found))
                for entity_type, found in rows_by_type.items())


def read_setup_entities(client, ids_by_type=None, names_by_type=None):
    """``{SetupEntityType: {Id18: name}}`` of the entities asked for by Id or name (no call when none)."""
    return setup_names_of(read_setup_entity_rows(client, ids_by_type, names_by_type))


def admin_approved_apps(rows_by_type):
    """Names of the connected apps among read_setup_entity_rows' answer that admit admin-approved users only."""
    return sorted(row.get("Name") for row in rows_by_type.get("ConnectedApplication", ())
                  if row.get(ADMIN_APPROVED_FIELD) is True)


def setup_rows_by_type(setup_rows):
    """``{SetupEntityType: [SetupEntityId]}`` of SetupEntityAccess rows (types the collection names)."""
    out = {}
    for row in setup_rows:
        if row.get("SetupEntityType") in SETUP_ENTITY_NAMES:
            out.setdefault(row["SetupEntityType"], []).append(row["SetupEntityId"])
    return out


def access_by_parent(permission_set_records, object_rows=(), field_rows=(), setup_rows=(), setup_names=None):
    """{"profiles": {profile Id18: access}, "permission_sets": {set Id18: access}} from query results;
    ``setup_names`` ({SetupEntityType: {Id18: name}}) names the SetupEntityAccess rows."""
    setup_by_parent = {}
    for row in setup_rows:
        name = ((setup_names or {}).get(row.get("SetupEntityType")) or {}).get(to18(row.get("SetupEntityId")))
        if name:
            setup_by_parent.setdefault(to18(row.get("ParentId")), []).append((row["SetupEntityType"], name))
    objects_by_parent = {}
    for row in object_rows:
        objects_by_parent.setdefault(to18(row.get("ParentId")), []).append(row)
    fields_by_parent = {}
    for row in field_rows:
        fields_by_parent.setdefault(to18(row.get("ParentId")), []).append(row)
    out = {"profiles": {}, "permission_sets": {}}
    for record in permission_set_records:
        set_id = to18(record["Id"])
        access = access_from_records(record, objects_by_parent.get(set_id, ()), fields_by_parent.get(set_id, ()),
                                     setup_by_parent.get(set_id, ()))
        out["permission_sets"][set_id] = access
        if record.get("IsOwnedByProfile") and record.get("ProfileId"):
            out["profiles"][to18(record["ProfileId"])] = access
    return out


def describe_subrequest(client, reference="permission_set_describe"):
    """A composite subrequest for the PermissionSet describe, to ride along another composite call."""
    return {"method": "GET", "referenceId": reference, "url": client.data_path("sobjects/PermissionSet/describe")}


def fetch_access(client, profile_ids=(), permission_set_ids=(), include_fields=True, describe=None):
    """Access of the given profiles and permission sets: ONE composite call (plus extra pages) when
    ``describe`` (the PermissionSet describe, see describe_subrequest) is given, else two."""
    if not _id_list(profile_ids) and not _id_list(permission_set_ids):
        return {"profiles": {}, "permission_sets": {}}
    if describe is None:
        describe = read_all(client, [describe_subrequest(client, "describe")])["describe"]
    sets_soql = build_permission_set_soql(permission_fields(describe), profile_ids, permission_set_ids)
    queries = [("permission_sets", sets_soql)]
    queries.extend(sorted(build_permission_rows_soql(permission_set_ids, include_fields, profile_ids).items()))
    rows = run_queries(client, queries)
    entities = read_setup_entity_rows(client, setup_rows_by_type(rows["setup"])) if rows["setup"] else {}
    out = access_by_parent(rows["permission_sets"], rows["objects"], rows.get("fields", ()), rows["setup"],
                           setup_names_of(entities))
    out["admin_approved_apps"] = admin_approved_apps(entities)
    return out
