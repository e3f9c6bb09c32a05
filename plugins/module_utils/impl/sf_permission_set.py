# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_permission_set: declarative, idempotent management of one permission set.

The access a set grants uses access.py's shape ({"system", "objects", "fields"}), so a profile's
access or an ``access_gap`` from sf_profile_check is already in the module's own language.

Flow of ``run(task)``: read the set, its rows and the org's licenses in ONE composite call (plus one
call when ``access_from.profile`` is given) -> pure ``desired_state`` -> pure ``write_steps_of`` ->
backup of the set being replaced -> ONE allOrNone composite call with every write (when the plan
holds more than 25 writes, the rest go through sObject Collections, 200 records a call).
A converged set makes no write call; check mode makes none either.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import access as access_lib
from ansible_collections.sfops.integration_users.plugins.module_utils.backup import (
    DEFAULT_BACKUP_DIR,
    BackupError,
    write_backup,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ApiError,
    OperationError,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_literal
from ansible_collections.sfops.integration_users.plugins.module_utils.client import COMPOSITE_LIMIT
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import writes
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.licenses import (
    INTEGRATION_LICENSE, INTEGRATION_PSL_DEVELOPER_NAME, INTEGRATION_PSL_LABEL)
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.reads import read_subrequests, run_queries

DEFAULT_LICENSE = INTEGRATION_PSL_LABEL
NO_LICENSE = "none"
BACKUP_KIND = "permission_set"

# Option spelling -> access.py right names (ObjectPermissions.Permissions<Right>).
OBJECT_RIGHT_OPTIONS = (
    ("read", "Read"), ("create", "Create"), ("edit", "Edit"), ("delete", "Delete"),
    ("view_all", "ViewAllRecords"), ("modify_all", "ModifyAllRecords"),
)
OBJECT_RIGHT_LETTERS = {"r": "Read", "c": "Create", "u": "Edit", "e": "Edit", "d": "Delete",
                        "v": "ViewAllRecords", "m": "ModifyAllRecords"}
FIELD_RIGHT_OPTIONS = (("read", "Read"), ("edit", "Edit"))
# Salesforce refuses a right without the ones it depends on; the module adds them so a spec like
# {Account: {delete: true}} means what its author meant.
OBJECT_RIGHT_REQUIRES = {
    "Create": ("Read",),
    "Edit": ("Read",),
    "Delete": ("Read", "Edit"),
    "ViewAllRecords": ("Read",),
    "ModifyAllRecords": ("Read", "Edit", "Delete", "ViewAllRecords"),
}
FIELD_RIGHT_REQUIRES = {"Edit": ("Read",)}
# The UI name of "Run Flows" differs from its field name: accept both spellings.
SYSTEM_PERMISSION_ALIASES = {"runflows": "RunFlow"}
# Profile-only settings that a permission set cannot hold (the integration profile sets it itself).
PROFILE_ONLY_SYSTEM_PERMISSIONS = ("ApiUserOnly",)

_NAME_PATTERN = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$")
_PREFIX = "Permissions"
_SET_FIELDS = ("Id", "Name", "Label", "Description", "LicenseId", "IsOwnedByProfile")

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    label=dict(type="str"),
    description=dict(type="str"),
    license=dict(type="str", default=DEFAULT_LICENSE),
    object_permissions=dict(type="raw"),
    field_permissions=dict(type="raw"),
    system_permissions=dict(type="list", elements="str"),
    access_from=dict(type="dict", options=dict(
        profile=dict(type="str"),
        access_gap=dict(type="dict"),
    ), mutually_exclusive=[("profile", "access_gap")], required_one_of=[("profile", "access_gap")]),
    purge=dict(type="bool", default=False),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    backup_dir=dict(type="path", default=DEFAULT_BACKUP_DIR),
    dedicated_to=dict(type="str"),
)

# The description a set dedicated to one user carries (issue 13): the user's Id survives a sandbox refresh,
# where the username gains the sandbox's suffix, so the Id is what tells whose set it is.
DEDICATED_DESCRIPTION = "Access of %s (user %s), carried over by sfops.integration_users for this user only."
_DEDICATED_ID = re.compile(r"\(user (005[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?)\)")


# ---- option parsing (pure) --------------------------------------------------------------------

def validate_name(name):
    if not name or len(name) > 80 or not _NAME_PATTERN.match(name) or name.endswith("_"):
        raise OperationError(
            "permission set name %r is not a valid API name" % name,
            hint="use letters, digits and single underscores, starting with a letter, at most 80 "
                 "characters (the label can hold any text)")


def _with_requirements(rights, requires):
    out = set(rights)
    for right in list(rights):
        out.update(requires.get(right, ()))
    return out


def with_required_rights(access):
    """``access`` with the rights each granted right depends on added (objects and fields)."""
    out = access_lib.merge_access(access)
    out["objects"] = dict((name, sorted(_with_requirements(rights, OBJECT_RIGHT_REQUIRES)))
                          for name, rights in out["objects"].items())
    out["fields"] = dict((name, sorted(_with_requirements(rights, FIELD_RIGHT_REQUIRES)))
                         for name, rights in out["fields"].items())
    return out


def _rights_from_option(value, options, letters, what):
    """Rights from a dict of booleans ({read: true}), a letter string ('crud') or a list of names."""
    by_option = dict(options)
    by_right = dict((right.lower(), right) for _option, right in options)
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(by_option))
        if unknown:
            raise OperationError("%s: unknown permission(s) %s; use %s"
                                 % (what, ", ".join(unknown), ", ".join(by_option)))
        return set(by_option[key] for key, enabled in value.items() if _truthy(enabled, what))
    if isinstance(value, (list, tuple)):
        rights = set()
        for item in value:
            key = str(item).strip().lower()
            right = by_option.get(key) or by_right.get(key)
            if right is None:
                raise OperationError("%s: unknown permission %r; use %s" % (what, item, ", ".join(by_option)))
            rights.add(right)
        return rights
    if isinstance(value, str) and letters:
        unknown = sorted(set(value.lower()) - set(letters) - set(" "))
        if unknown:
            raise OperationError("%s: unknown letter(s) %s in %r; letters are %s"
                                 % (what, ", ".join(unknown), value, ", ".join(sorted(letters))))
        return set(letters[c] for c in value.lower() if c in letters)
    if value is None or value is False or value == "":
        return set()
    raise OperationError("%s: expected a dict of booleans%s, got %r"
                         % (what, ", a letter string" if letters else "", value))


def _truthy(value, what):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.lower() in ("true", "yes", "on", "1")
    raise OperationError("%s: expected a boolean, got %r" % (what, value))


def _parse_permissions(value, option, keyed_by, parse_key, rights_of):
    """{key: sorted rights} from a dict option keyed by object or Object.Field."""
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict):
        raise OperationError("%s must be a dict keyed by %s" % (option, keyed_by))
    out = {}
    for key, spec in value.items():
        key = parse_key(str(key))
        out[key] = sorted(rights_of(key, spec))
    return out


def parse_object_permissions(value):
    """{SobjectType: sorted rights} from the ``object_permissions`` option (dict keyed by object)."""
    def rights_of(sobject, spec):
        rights = _rights_from_option(spec, OBJECT_RIGHT_OPTIONS, OBJECT_RIGHT_LETTERS, "object_permissions.%s" % sobject)
        return _with_requirements(rights, OBJECT_RIGHT_REQUIRES)
    return _parse_permissions(value, "object_permissions", "object name", lambda key: key, rights_of)


def _field_name(field):
    if field.count(".") != 1 or not all(field.split(".")):
        raise OperationError("field_permissions: %r is not of the form Object.Field" % field)
    return field


def parse_field_permissions(value):
    """{"Object.Field": sorted rights} from the ``field_permissions`` option."""
    def rights_of(field, spec):
        if isinstance(spec, str) and spec.lower() in ("read", "edit"):
            spec = [spec]
        rights = _rights_from_option(spec, FIELD_RIGHT_OPTIONS, None, "field_permissions.%s" % field)
        return _with_requirements(rights, FIELD_RIGHT_REQUIRES)
    return _parse_permissions(value, "field_permissions", "Object.Field", _field_name, rights_of)


def resolve_system_permissions(names, available):
    """Canonical names (without the ``Permissions`` prefix) of ``names``, checked against the
    ``available`` Permissions* fields of the org's PermissionSet describe (case-insensitive)."""
    known = dict((field[len(_PREFIX):].lower(), field[len(_PREFIX):]) for field in available)
    out = []
    unknown = []
    for name in names or ():
        key = str(name).strip()
        if key.lower().startswith(_PREFIX.lower()):
            key = key[len(_PREFIX):]
        key = key.lower()
        canonical = known.get(key) or known.get(SYSTEM_PERMISSION_ALIASES.get(key, "").lower())
        if canonical is None:
            unknown.append(name)
        else:
            out.append(canonical)
    if unknown:
        suggestions = []
        for name in unknown:
            close = difflib.get_close_matches(str(name).lower(), list(known), n=2, cutoff=0.6)
            suggestions.append("%s%s" % (name, " (did you mean %s?)" % " or ".join(known[c] for c in close)
                                         if close else ""))
        raise OperationError("unknown system permission(s): %s" % ", ".join(suggestions),
                             hint="use the PermissionSet field name without its 'Permissions' prefix, "
                                  "e.g. RunFlow, ApiEnabled, ViewSetup")
    return sorted(set(out))


def validate_access_gap(gap):
    """An ``access_gap`` given by the user (e.g. from sf_profile_check), as an access dict."""
    if not isinstance(gap, dict) or not set(gap) <= set(("system", "objects", "fields", "setup")):
        raise OperationError("access_from.access_gap must be a dict with keys system, objects, fields, setup "
                             "(the access_gap of sf_profile_check)")
    setup = gap.get("setup") or {}
    if not isinstance(setup, dict) or not set(setup) <= set(access_lib.SETUP_ENTITY_NAMES) or not all(
            isinstance(names, list) and all(isinstance(name, str) for name in names) for names in setup.values()):
        raise OperationError("access_from.access_gap.setup must map %s to lists of names, got %r"
                             % (", ".join(sorted(access_lib.SETUP_ENTITY_NAMES)), setup))
    for table, known in (("objects", access_lib.OBJECT_RIGHTS), ("fields", access_lib.FIELD_RIGHTS)):
        if not isinstance(gap.get(table) or {}, dict):
            raise OperationError("access_from.access_gap.%s must be a dict" % table)
        for name, rights in (gap.get(table) or {}).items():
            # A string here would be read letter by letter, a number would be a traceback.
            if not isinstance(rights, list) or not set(rights) <= set(known):
                raise OperationError("access_from.access_gap.%s.%s must be a list of %s, got %r"
                                     % (table, name, ", ".join(known), rights))
    system = gap.get("system") or []
    if not isinstance(system, list) or not all(isinstance(name, str) for name in system):
        raise OperationError("access_from.access_gap.system must be a list of names")
    return access_lib.merge_access(gap)


# ---- licenses (pure) --------------------------------------------------------------------------

def resolve_license(requested, psls, user_licenses):
    """Where the set is to be bound: ``{"id": Id | None, "name": str | None, "kind": ...}``.

    ``psls``: PermissionSetLicense rows (Id, DeveloperName, MasterLabel); ``user_licenses``:
    UserLicense rows (Id, Name). A PSL wins over a user license of the same name, and the user
    license "Salesforce Integration" (the look-alike of the integration PSL) is refused.
    """
    text = (requested if requested is not None else DEFAULT_LICENSE).strip()
    if text.lower() in (NO_LICENSE, "null", ""):
        return {"id": None, "name": None, "kind": None}
    lowered = text.lower()
    for row in psls:
        if lowered in ((row.get("DeveloperName") or "").lower(), (row.get("MasterLabel") or "").lower()):
            return {"id": to18(row["Id"]), "name": row.get("MasterLabel") or row.get("DeveloperName"),
                    "kind": "permission_set_license"}
    if lowered == INTEGRATION_LICENSE.lower():
        raise OperationError(
            "refusing to bind the permission set to the user license %r" % INTEGRATION_LICENSE,
            hint="that user license is the look-alike of the permission set license %r: a set bound to it "
                 "cannot carry standard-object access. Use license: %r (the default) or license: none"
                 % (INTEGRATION_PSL_LABEL, INTEGRATION_PSL_LABEL))
    for row in user_licenses:
        if lowered == (row.get("Name") or "").lower():
            return {"id": to18(row["Id"]), "name": row.get("Name"), "kind": "user_license"}
    if lowered in (INTEGRATION_PSL_LABEL.lower(), INTEGRATION_PSL_DEVELOPER_NAME.lower()):
        raise OperationError(
            "this org has no %r permission set license" % INTEGRATION_PSL_LABEL,
            hint="the Salesforce Integration license is not provisioned in this org (Professional "
                 "Edition, or an org before Spring '23): use license: none")
    available = sorted(set([r.get("MasterLabel") for r in psls if r.get("MasterLabel")] +
                           [r.get("Name") for r in user_licenses if r.get("Name")]))
    raise OperationError("no permission set license or user license named %r in this org" % text,
                         hint="use one of: %s, or none" % ", ".join(available))


def license_name_of(license_id, psls, user_licenses):
    if not license_id:
        return None
    for row in list(psls) + list(user_licenses):
        if to18(row.get("Id")) == to18(license_id):
            return row.get("MasterLabel") or row.get("Name") or row.get("DeveloperName")
    return license_id


# ---- state, desired state, plan, diff (pure) ------------------------------------------------

def current_state(record, object_rows, field_rows, license_name, setup_rows=(), setup_names=None):
    """The managed state of an existing set, with the row Ids needed to change it; ``setup_names``
    ({SetupEntityType: {Id18: name}}) names its SetupEntityAccess rows."""
    if not record:
        return None
    named = []
    setup_row_ids = {}
    for row in setup_rows:
        name = ((setup_names or {}).get(row.get("SetupEntityType")) or {}).get(to18(row.get("SetupEntityId")))
        if name:
            named.append((row["SetupEntityType"], name))
            setup_row_ids[setup_key(row["SetupEntityType"], name)] = to18(row["Id"])
    granted = access_lib.access_from_records(record, object_rows, field_rows, named)
    return {
        "id": to18(record.get("Id")),
        "name": record.get("Name"),
        "label": record.get("Label"),
        "description": record.get("Description"),
        "license_id": to18(record.get("LicenseId")) if record.get("LicenseId") else None,
        "license": license_name,
        "access": granted,
        "object_row_ids": dict((row["SobjectType"], to18(row["Id"])) for row in object_rows if row.get("Id")),
        "field_row_ids": dict((row["Field"], to18(row["Id"])) for row in field_rows if row.get("Id")),
        "setup_row_ids": setup_row_ids,
    }


def _spelled_as(table, reference):
    """``table`` with object / field names spelled as in ``reference`` when they match ignoring case
    (Salesforce names are case-insensitive; results and diffs show the org's spelling)."""
    spelling = dict((name.lower(), name) for name in reference)
    return dict((spelling.get(name.lower(), name), rights) for name, rights in table.items())


def desired_state(params, current, license_info, wanted_access, setup_ids=None):
    """The state the task asks for; without ``purge`` what is not listed stays as it is. ``setup_ids``
    ({setup_key: Id18}) gives the Ids of the setup entities to grant."""
    base = current["access"] if current else access_lib.empty_access()
    wanted = dict(wanted_access, objects=_spelled_as(wanted_access["objects"], base["objects"]),
                  fields=_spelled_as(wanted_access["fields"], base["fields"]))
    if params.get("purge"):
        granted = access_lib.merge_access(wanted)
    else:
        granted = access_lib.merge_access(base)
        # A listed object (or field) is set exactly as listed; unlisted ones are left alone.
        for table in ("objects", "fields"):
            granted[table] = dict((name, rights) for name, rights in granted[table].items()
                                  if name not in wanted[table])
            granted[table].update(wanted[table])
        granted["system"] = sorted(set(granted["system"]) | set(wanted["system"]))
        granted = access_lib.merge_access(granted, {"setup": wanted.get("setup") or {}})
    label = params.get("label")
    description = params.get("description")
    return {
        "name": params["name"],
        "label": label if label is not None else (current["label"] if current else params["name"]),
        "description": description if description is not None else (current["description"] if current else None),
        "license_id": license_info["id"],
        "license": license_info["name"],
        "access": granted,
        "setup_ids": dict(setup_ids or {}),
    }


def setup_key(entity_type, name):
    """How a setup entity is told apart: its type and its name, whose case Salesforce ignores."""
    return "%s:%s" % (entity_type, name.lower())


def _ci_lookup(table, name):
    for key, value in table.items():
        if key.lower() == name.lower():
            return key, value
    return None, None


def _object_row(sobject, rights):
    row = {"SobjectType": sobject}
    for _option, right in OBJECT_RIGHT_OPTIONS:
        row[_PREFIX + right] = right in rights
    return row


def _field_row(field, rights):
    row = {"SobjectType": field.split(".")[0], "Field": field}
    for _option, right in FIELD_RIGHT_OPTIONS:
        row[_PREFIX + right] = right in rights
    return row


def write_steps_of(current, desired):
    """Ordered writes turning ``current`` (None: absent) into ``desired`` (None: absent).

    Each step: ``{"op": "create"|"update"|"delete", "sobject", "id" (update/delete), "fields"
    (create/update), "item" (what a person reads in messages)}``. The set itself comes first;
    new rows of a new set point at it with ``ParentId`` None (filled in by the writer).
    """
    steps = []
    if desired is None:
        if current is not None:
            steps.append({"op": "delete", "sobject": "PermissionSet", "id": current["id"],
                          "item": "permission set %s" % current["name"]})
        return steps
    set_fields = {}
    if current is None:
        set_fields = {"Name": desired["name"], "Label": desired["label"], "LicenseId": desired["license_id"]}
        if desired["description"] is not None:
            set_fields["Description"] = desired["description"]
    else:
        if desired["label"] != current["label"]:
            set_fields["Label"] = desired["label"]
        if (desired["description"] or None) != (current["description"] or None):
            set_fields["Description"] = desired["description"]
    before_system = set(current["access"]["system"]) if current else set()
    after_system = set(desired["access"]["system"])
    for name in sorted(after_system - before_system):
        set_fields[_PREFIX + name] = True
    for name in sorted(before_system - after_system):
        set_fields[_PREFIX + name] = False
    if current is None:
        steps.append({"op": "create", "sobject": "PermissionSet", "fields": set_fields,
                      "item": "permission set %s" % desired["name"]})
    elif set_fields:
        steps.append({"op": "update", "sobject": "PermissionSet", "id": current["id"], "fields": set_fields,
                      "item": "permission set %s" % desired["name"]})
    before = current["access"] if current else access_lib.empty_access()
    row_ids = {"objects": current["object_row_ids"] if current else {},
               "fields": current["field_row_ids"] if current else {}}
    for table, sobject, make_row in (("objects", "ObjectPermissions", _object_row),
                                     ("fields", "FieldPermissions", _field_row)):
        wanted = desired["access"][table]
        for name in sorted(set(wanted) | set(before[table]), key=str.lower):
            _key, have = _ci_lookup(before[table], name)
            want_key, want = _ci_lookup(wanted, name)
            have, want = sorted(have or []), sorted(want or [])
            if have == want:
                continue
            _rid_key, row_id = _ci_lookup(row_ids[table], name)
            label = "%s %s: %s" % ("object" if table == "objects" else "field", name, "/".join(want) or "none")
            if not want:
                if row_id:
                    steps.append({"op": "delete", "sobject": sobject, "id": row_id, "item": label})
                continue
            fields = make_row(want_key or name, want)
            if row_id:
                fields.pop("SobjectType")
                fields.pop("Field", None)
                steps.append({"op": "update", "sobject": sobject, "id": row_id, "fields": fields, "item": label})
            else:
                fields["ParentId"] = current["id"] if current else None
                steps.append({"op": "create", "sobject": sobject, "fields": fields, "item": label})
    before_setup = dict((setup_key(entity_type, name), (entity_type, name)) for entity_type, names
                        in (before.get("setup") or {}).items() for name in names)
    after_setup = dict((setup_key(entity_type, name), (entity_type, name)) for entity_type, names
                       in (desired["access"].get("setup") or {}).items() for name in names)
    for key in sorted(set(after_setup) - set(before_setup)):
        steps.append({"op": "create", "sobject": "SetupEntityAccess",
                      "fields": {"ParentId": current["id"] if current else None,
                                 "SetupEntityId": desired["setup_ids"][key]},
                      "item": "setup access %s: %s" % after_setup[key]})
    for key in sorted(set(before_setup) - set(after_setup)):
        steps.append({"op": "delete", "sobject": "SetupEntityAccess", "id": current["setup_row_ids"][key],
                      "item": "setup access %s: %s (removed)" % before_setup[key]})
    return steps


def public_state(state):
    """What results, diffs and backups show of a state (row Ids kept only in backups)."""
    if state is None:
        return {}
    return {"name": state["name"], "label": state["label"], "description": state["description"],
            "license": state["license"], "system_permissions": list(state["access"]["system"]),
            "object_permissions": dict(state["access"]["objects"]),
            "field_permissions": dict(state["access"]["fields"]),
            "setup_entity_access": dict(state["access"].get("setup") or {})}


# ---- reading the org ------------------------------------------------------------------------

def _set_filter(name):
    return "Name = %s AND IsOwnedByProfile = false" % soql_literal(name)


def read_queries(name, profile_name=None, with_assignments=False):
    """The queries of the one read call: the set, its rows, the org's licenses (five: as many as one
    composite call may hold).

    With ``profile_name`` the set query also returns that profile's own permission set (after the
    managed set, which sorts first), so ``access_from.profile`` costs no extra lookup. With
    ``with_assignments`` the set's rows carry their ``Assignments`` (a child query, not a sixth).
    """
    children = "(SELECT Id, SetupEntityId, SetupEntityType FROM SetupEntityAccessItems)"
    if with_assignments:
        children += ", (SELECT Id, AssigneeId, Assignee.Username FROM Assignments ORDER BY Assignee.Username)"
    parent = "ParentId IN (SELECT Id FROM PermissionSet WHERE %s)" % _set_filter(name)
    object_fields = ", ".join(_PREFIX + right for _o, right in OBJECT_RIGHT_OPTIONS)
    field_fields = ", ".join(_PREFIX + right for _o, right in FIELD_RIGHT_OPTIONS)
    where = ("(%s) OR (IsOwnedByProfile = true AND Profile.Name = %s)" % (_set_filter(name), soql_literal(profile_name))
             if profile_name else _set_filter(name))
    return [
        ("set", "SELECT %s, ProfileId, %s FROM PermissionSet WHERE %s ORDER BY IsOwnedByProfile"
         % (", ".join(_SET_FIELDS), children, where)),
        ("objects", "SELECT Id, SobjectType, %s FROM ObjectPermissions WHERE %s ORDER BY SobjectType"
         % (object_fields, parent)),
        ("fields", "SELECT Id, SobjectType, Field, %s FROM FieldPermissions WHERE %s ORDER BY Field"
         % (field_fields, parent)),
        ("psls", "SELECT Id, DeveloperName, MasterLabel FROM PermissionSetLicense ORDER BY DeveloperName"),
        ("user_licenses", "SELECT Id, Name FROM UserLicense ORDER BY Name"),
    ]


def dedicated_user_query(username):
    return "SELECT Id, Username FROM User WHERE Username = %s" % soql_literal(username)


def read_permission_set(client, name, with_assignments=False, profile_name=None, dedicated_to=None):
    """One composite call: the set (all its fields), its object/field rows, licenses, the describe;
    ``profile_sets``: the own permission set(s) of ``profile_name``; with ``with_assignments`` or
    ``dedicated_to`` its assignments; with ``dedicated_to`` that user's row (``dedicated_user``, None
    when there is none): from the set's assignments when the user holds it, else one more query."""
    queries = read_queries(name, profile_name, with_assignments=bool(with_assignments or dedicated_to))
    subrequests = [client.query_subrequest(ref, soql) for ref, soql in queries]
    subrequests.append({"method": "GET", "referenceId": "describe",
                        "url": client.data_path("sobjects/PermissionSet/describe")})
    # Every Permissions* field of the set, whichever the org has, without a second call.
    subrequests.append({"method": "GET", "referenceId": "record",
                        "url": client.data_path("sobjects/PermissionSet/@{set.records[0].Id}")})
    answers = read_subrequests(client, subrequests)
    result = {}
    for ref in ("set", "objects", "fields", "psls", "user_licenses", "describe", "record"):
        value, error = answers.get(ref, (None, None))
        # The record is read only when the set exists (its URL refers to the set query's first row).
        if ref == "record" and not [r for r in result["set"] if not r.get("IsOwnedByProfile")]:
            value = None
        elif error is not None:
            error.message = "reading permission set (%s): %s" % (ref, error.message)
            raise error
        result[ref] = value
    result["profile_sets"] = [r for r in result["set"] if r.get("IsOwnedByProfile")]
    result["set"] = [r for r in result["set"] if not r.get("IsOwnedByProfile")]
    result["assignments"] = _child_rows(result["set"][0].get("Assignments")) if result["set"] else []
    result["dedicated_user"] = None
    if dedicated_to:
        held = [row for row in result["assignments"]
                if ((row.get("Assignee") or {}).get("Username") or "").lower() == dedicated_to.lower()]
        result["dedicated_user"] = ({"Id": held[0]["AssigneeId"], "Username": held[0]["Assignee"]["Username"]} if held
                                    else (client.query(dedicated_user_query(dedicated_to))["records"] or [None])[0])
    return result


def _assignees(rows, kind="user(s)", limit=20):
    """``N user(s): a, b ...`` of PermissionSetAssignment rows in their query's order (by username), for
    messages: at most ``limit`` names."""
    users = [(row.get("Assignee") or {}).get("Username") or row.get("AssigneeId") for row in rows]
    return "%d %s: %s" % (len(users), kind, ", ".join(users[:limit]) + (" ..." if len(users) > limit else ""))


def _dedicated_id(description):
    """The 18-character user Id a dedicated set's description records, else None."""
    found = _DEDICATED_ID.search(description or "")
    return to18(found.group(1)) if found else None


def dedication_problems(name, username, user, assignments, description):
    """Why the set ``name`` may not be the one dedicated to ``username`` (``user``: its row, None when the org
    has no such user): it is assigned to another user, or its description says it was made for another.
    A set made for one integration and reused for another would give each the other's access (issue 13)."""
    if user is None:
        return ["this org has no user %s to dedicate permission set %s to" % (username, name)]
    user_id = to18(user["Id"])
    problems = []
    others = [row for row in assignments if to18(row.get("AssigneeId")) != user_id]
    if others:
        problems.append("permission set %s is assigned to %s" % (name, _assignees(others, "other user(s)")))
    made_for = _dedicated_id(description)
    if made_for and made_for != user_id:
        problems.append("permission set %s was made for user %s, not for %s (%s)" % (name, made_for, username, user_id))
    return problems


def dedicated_description(username, user, current_description):
    """The description of a set dedicated to ``username``: the current one when it already names this user's
    Id (a refreshed sandbox keeps production's wording), else one that does."""
    if _dedicated_id(current_description) == to18(user["Id"]):
        return current_description
    return DEDICATED_DESCRIPTION % (username, to18(user["Id"]))


def profile_access(client, profile_name, profile_sets, permission_fields):
    """The access a profile grants, from its own permission set (found by read_org): one call."""
    if not profile_sets:
        raise OperationError("access_from.profile: no profile named %r in this org" % profile_name)
    if len(profile_sets) > 1:
        raise OperationError("access_from.profile: %d profiles are named %r" % (len(profile_sets), profile_name))
    set_id = to18(profile_sets[0]["Id"])
    queries = [("permission_sets", access_lib.build_permission_set_soql(permission_fields,
                                                                        permission_set_ids=[set_id]))]
    queries.extend(sorted(access_lib.build_permission_rows_soql([set_id]).items()))
    rows = run_queries(client, queries)
    names = access_lib.read_setup_entities(client, access_lib.setup_rows_by_type(rows["setup"])) if rows["setup"] else {}
    by_parent = access_lib.access_by_parent(rows["permission_sets"], rows["objects"], rows.get("fields", ()),
                                            rows["setup"], names)
    return by_parent["permission_sets"].get(set_id, access_lib.empty_access())


# ---- writing --------------------------------------------------------------------------------

def _subrequest(client, step, index, parent_ref):
    ref = "s%d" % index
    if step["op"] == "create":
        fields = dict(step["fields"])
        if step["sobject"] != "PermissionSet" and fields.get("ParentId") is None:
            fields["ParentId"] = "@{%s.id}" % parent_ref
        return {"method": "POST", "url": client.data_path("sobjects/" + step["sobject"]),
                "referenceId": ref, "body": fields}
    path = client.data_path("sobjects/%s/%s" % (step["sobject"], step["id"]))
    if step["op"] == "update":
        return {"method": "PATCH", "url": path, "referenceId": ref, "body": step["fields"]}
    return {"method": "DELETE", "url": path, "referenceId": ref}


def apply_steps(client, steps):
    """Write the plan: ONE allOrNone composite call when it fits, else composite + collections.

    Returns the Id of the set (new or existing). Refused writes raise ApiError naming each refused
    item (e.g. an object the set's license cannot carry).
    """
    if not steps:
        return None
    first = steps[:COMPOSITE_LIMIT]
    rest = steps[COMPOSITE_LIMIT:]
    parent_ref = "s0"
    subrequests = [_subrequest(client, step, i, parent_ref) for i, step in enumerate(first)]
    answers = client.composite(subrequests, all_or_none=True, raise_on_error=False)
    _raise_refused(client, first, subrequests, answers)
    set_id = None
    if steps[0]["sobject"] == "PermissionSet":
        set_id = steps[0].get("id") or to18((answers["s0"]["body"] or {}).get("id"))
    for op in ("create", "update", "delete"):
        batch = [s for s in rest if s["op"] == op]
        if not batch:
            continue
        for sobject in ("ObjectPermissions", "FieldPermissions"):
            chunk = [s for s in batch if s["sobject"] == sobject]
            if not chunk:
                continue
            if op == "create":
                records = [dict(s["fields"], ParentId=s["fields"].get("ParentId") or set_id) for s in chunk]
                results = client.create_records(sobject, records, all_or_none=True, raise_on_error=False)
            elif op == "update":
                records = [dict(s["fields"], Id=s["id"]) for s in chunk]
                results = client.update_records(sobject, records, all_or_none=True, raise_on_error=False)
            else:
                results = client.delete_records([s["id"] for s in chunk], all_or_none=True, raise_on_error=False)
            # With allOrNone the records that were fine come back "rolled back": name the culprits.
            _raise_items(client, writes.blame_records([s["item"] for s in chunk], results))
    return set_id


def _raise_refused(client, steps, subrequests, answers):
    if not any(writes.failed(answers.get(sub["referenceId"])) for sub in subrequests):
        return
    # One unit per subrequest, so every subrequest that failed of its own accord is named.
    blamed = writes.blame([writes.unit(index, [sub], [step["item"]])
                           for index, (step, sub) in enumerate(zip(steps, subrequests))], answers)
    _raise_items(client, [blamed[index] for index in sorted(blamed)])
    raise ApiError("the write request was rolled back without naming a cause", org=client.org, user=client.user)


def _raise_items(client, refused):
    """Raise for ``refused`` ``[(item, code, message)]`` (nothing when empty)."""
    if not refused:
        return
    codes = sorted(set(code or "?" for _item, code, _message in refused))
    detail = "; ".join("%s: %s %s" % (item, code or "", (message or "").strip()) for item, code, message in refused)
    raise ApiError("Salesforce refused %d change(s), nothing was written (all or none): %s"
                   % (len(refused), detail), error_code=codes[0] if len(codes) == 1 else None,
                   org=client.org, user=client.user,
                   hint="an object or permission the set's license cannot carry must be left out of the "
                        "spec or granted by a set with another license (license: none)")


# ---- the module -------------------------------------------------------------------------------

def wanted_access(params, permission_fields, client, profile_sets=()):
    """The access the task lists: explicit permissions plus ``access_from``."""
    listed = access_lib.merge_access({
        "system": resolve_system_permissions(params.get("system_permissions"), permission_fields),
        "objects": parse_object_permissions(params.get("object_permissions")),
        "fields": parse_field_permissions(params.get("field_permissions")),
    })
    source = params.get("access_from") or {}
    if source.get("profile"):
        replicated = profile_access(client, source["profile"], profile_sets, permission_fields)
        listed = access_lib.merge_access(listed, replicated)
    elif source.get("access_gap") is not None:
        gap = validate_access_gap(source["access_gap"])
        # A gap may come from another org or release: its names must be fields of this org's sets.
        gap["system"] = resolve_system_permissions(gap["system"], permission_fields)
        listed = access_lib.merge_access(listed, gap)
    # A gap lists only the missing rights (Edit without the Read the target already gives), but a
    # permission set row must hold the rights each one depends on, or Salesforce refuses it.
    listed = with_required_rights(listed)
    dropped = [name for name in listed["system"] if name in PROFILE_ONLY_SYSTEM_PERMISSIONS]
    listed["system"] = [name for name in listed["system"] if name not in PROFILE_ONLY_SYSTEM_PERMISSIONS]
    return listed, dropped


def _child_rows(value):
    return (value or {}).get("records") or [] if isinstance(value, dict) else []


def _setup_names(client, setup_rows, listed):
    """{SetupEntityType: {Id18: name}} of the set's setup entities and of those ``listed`` asks for:
    one composite call, none when neither has any."""
    ids_by_type = access_lib.setup_rows_by_type(setup_rows)
    names_by_type = listed.get("setup") or {}
    if not ids_by_type and not names_by_type:
        return {}
    return access_lib.read_setup_entities(client, ids_by_type, names_by_type)


def _current(org, record, setup_rows, setup_names):
    if not record:
        return None
    return current_state(record, org["objects"], org["fields"],
                         license_name_of(record.get("LicenseId"), org["psls"], org["user_licenses"]),
                         setup_rows, setup_names)


def _setup_ids(params, listed, setup_names):
    """{setup_key: Id18} of the setup entities ``listed`` asks for; an entity
    this org does not have is refused by name."""
    ids, missing = {}, []
    for entity_type, names in sorted((listed.get("setup") or {}).items()):
        by_name = dict((name.lower(), entity_id) for entity_id, name in (setup_names.get(entity_type) or {}).items()
                       if name)
        for name in names:
            if name.lower() in by_name:
                ids[setup_key(entity_type, name)] = by_name[name.lower()]
            else:
                missing.append("%s %s" % (entity_type, name))
    if missing:
        raise OperationError("permission set %s: this org has no %s" % (params["name"], ", ".join(missing)),
                             hint="deploy the missing connected app, Apex class, page or custom permission "
                                  "first, or leave it out of the access to grant")
    return ids


def run(task):
    try:
        return _converge(task)
    except ApiError as exc:
        # Another job created the same set between this task's read and its write (two identical runs
        # at once): read again and converge on what is there, instead of failing on the other's work.
        if exc.error_code != "DUPLICATE_DEVELOPER_NAME":
            raise
        return _converge(task)


def _converge(task):
    params = task.params
    validate_name(params["name"])
    client = task.client
    absent = params["state"] == "absent"
    profile_name = None if absent else (params.get("access_from") or {}).get("profile")
    dedicated_to = params.get("dedicated_to")
    org = read_permission_set(client, params["name"], with_assignments=absent, profile_name=profile_name,
                              dedicated_to=dedicated_to)
    record = org["record"]
    if record is not None and record.get("IsOwnedByProfile"):
        raise OperationError("%s is the permission set of a profile and cannot be managed here" % params["name"])
    if dedicated_to:
        problems = dedication_problems(params["name"], dedicated_to, org["dedicated_user"], org["assignments"],
                                       (record or {}).get("Description"))
        if problems:
            raise OperationError("nothing was changed: %s" % "; ".join(problems), user=dedicated_to,
                                 hint="a set dedicated to one integration user is never reused for another: give "
                                      "this user a set of its own (the plan names it after the user's Id), or fix "
                                      "dedicated_to")
    setup_rows = _child_rows(org["set"][0].get("SetupEntityAccessItems")) if org["set"] else []
    not_carried = []
    current = None
    if absent:
        current = _current(org, record, setup_rows, _setup_names(client, setup_rows, {}))
        desired = None
        if current and org["assignments"]:
            raise OperationError(
                "permission set %s is still assigned to %s" % (params["name"], _assignees(org["assignments"])),
                hint="remove the assignments first (sf_integration_user permission_sets_mode: exact), "
                     "so no user silently loses access")
    else:
        license_info = resolve_license(params.get("license"), org["psls"], org["user_licenses"])
        # The set's license first (no call): the names of its setup entities are read only if it may stay.
        current = _current(org, record, setup_rows, {})
        if current and current["license_id"] != license_info["id"]:
            raise OperationError(
                "permission set %s is bound to %s, the task asks for %s" % (
                    params["name"], current["license"] or "no license", license_info["name"] or "no license"),
                hint="Salesforce does not change the license of an existing permission set: use another "
                     "name, or remove this set (state: absent) and create it again")
        fields = access_lib.permission_fields(org["describe"])
        listed, not_carried = wanted_access(params, fields, client, org["profile_sets"])
        setup_names = _setup_names(client, setup_rows, listed)
        current = _current(org, record, setup_rows, setup_names)
        desired = desired_state(params, current, license_info, listed, _setup_ids(params, listed, setup_names))
        if dedicated_to and params.get("description") is None:
            desired["description"] = dedicated_description(dedicated_to, org["dedicated_user"],
                                                           current["description"] if current else None)
    steps = write_steps_of(current, desired)
    result = {"changed": bool(steps), "name": params["name"], "permission_set": public_state(desired)}
    result["id"] = current["id"] if current else None
    result["changes"] = [dict(op=s["op"], item=s["item"]) for s in steps]
    if not_carried:
        result["not_carried"] = [{"item": "system:%s" % name,
                                  "reason": "a profile-only setting; the integration profile sets it"}
                                 for name in not_carried]
        for entry in result["not_carried"]:
            task.warn("%s not carried by the permission set: %s" % (entry["item"], entry["reason"]))
    if task.diff:
        result["diff"] = {"before": public_state(current), "after": public_state(desired)}
    if not steps or task.check_mode:
        return result
    if current is not None:
        try:
            result["backup_file"] = write_backup(params.get("backup_dir"), BACKUP_KIND, client.org,
                                                 {"permission_set": current, "public": public_state(current)})
        except BackupError as exc:
            raise OperationError("no change made: %s" % exc)
    set_id = apply_steps(client, steps)
    result["id"] = None if absent else (set_id or result["id"])
    return result


SPEC = ModuleSpec("sf_permission_set", ARGUMENT_SPEC, run, supports_check_mode=True)
