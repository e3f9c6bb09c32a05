"""One emulated org: its records, the business rules of its setup objects, access control, sessions.

Records are plain dicts (canonical field name -> Python value) kept per object in insertion order
with an Id index, so a query over 10,000 users never scans more than it must. Rows are replaced on
write, never mutated (except derived seat counts), which makes savepoints a cheap undo journal.
Every rule violation raises `SFError` with Salesforce's status, errorCode and message.
"""
import datetime
import random
import weakref

from . import DEFAULT_API_VERSION
from . import setup_access
from . import store_formula as formula
from .errors import SFError
from .http_util import render_value
from .ids import PREFIXES, is_id, to18
from .objects import (
    DATA_OBJECTS, OBJECT_PERMISSION_DEPENDENCIES, OBJECT_PERMISSION_FIELDS, OBJECT_PERMISSION_LABELS,
    OBJECTS, OPEN_SETUP_OBJECTS, PERMISSION_IMPLIES, TOOLING_VARIANTS,
)

INTEGRATION_LICENSE = "Salesforce Integration"
INTEGRATION_PSL = "SalesforceAPIIntegrationPsl"

# Lookups the rules follow often enough to index: object -> fields.
_INDEXED_FIELDS = {
    "PermissionSetAssignment": ("AssigneeId", "PermissionSetId"),
    "PermissionSetLicenseAssign": ("AssigneeId", "PermissionSetLicenseId"),
    "ObjectPermissions": ("ParentId",),
    "FieldPermissions": ("ParentId",),
    "SetupEntityAccess": ("ParentId",),
}

_NOT_FOUND = (404, "NOT_FOUND", "The requested resource does not exist")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _field_value(row, name):
    for key, value in row.items():
        if key.lower() == name.lower():
            return value
    if not row:
        return None
    raise KeyError(name)


# Field describe: the SOAP type of each describe type, and (precision, scale) of the numeric ones.
_SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
               "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date",
               "datetime": "xsd:dateTime", "base64": "xsd:base64Binary", "anyType": "xsd:anyType"}
_PRECISION = {"double": (18, 0), "currency": (18, 2), "percent": (3, 0)}


def _not_allowed(method, allowed):
    return SFError(405, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed are %s" % (method, allowed))


def _integrity(message, fields=()):
    return SFError(400, "FIELD_INTEGRITY_EXCEPTION", message, list(fields))


def _insufficient_access():
    return SFError(400, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", [])


def _insufficient_cross_reference():
    return SFError(400, "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                   "insufficient access rights on cross-reference id", [])


class Savepoint:
    """Undo point for allOrNone requests; rollback restores every row written since it was taken."""

    def __init__(self, org):
        self._org = org
        self._mark = len(org._journal)
        org._savepoints.add(self)

    def rollback(self):
        self._org._undo_to(self._mark)
        self.release()

    def release(self):
        self._org._savepoints.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.rollback()
        else:
            self.release()


class _QuerySource:
    """What the SOQL engine reads through: only the objects this API serves, as the caller sees them."""

    def __init__(self, org, ctx, tooling):
        self.org, self.ctx, self.tooling = org, ctx, tooling

    def describe(self, object_name):
        return self.org.object_def(object_name, self.tooling)

    def can_read(self, object_name):
        return self.org.can_read(object_name, self.ctx)

    def rows(self, object_name):
        odef = self.org.object_def(object_name)
        return setup_access.query_rows(self.org, self.ctx, self.tooling, odef, self.org.rows(object_name))

    def get(self, object_name, id18):
        return self.org.get_row(object_name, id18)


class Org:
    """State and rules of one org. Built by `sfemu.estate`; see CONTRACT.md section Store."""

    def __init__(self, estate, name, ids, seed, now=None):
        self.estate = estate
        self.name = name
        self.ids = ids
        self.now = now or utcnow()
        self.rng = random.Random("%s:%s:sessions" % (seed, name))
        self.org_id = None
        self.is_sandbox = False
        self.sandbox_name = None
        self.production = None
        self.my_domain = name
        self.edition = "Enterprise"
        self.instance_name = None
        self.api_daily_limit = 100000
        self.api_used = 0
        self.call_counts = {}
        self.allow_license_change_to_integration = True
        self.require_security_token = True
        self.auto_assign_integration_psl = False
        self.connected_apps = []
        self.audience = "https://login.salesforce.com"
        self.admin_user_id = None
        self.objects = dict(OBJECTS)
        self._objects_lower = {}
        self.tables = {name_: {} for name_ in self.objects}
        self.id_owner = {}
        self.credentials = {}        # user Id -> {"password", "security_token"}
        self.sessions = {}           # access token -> {"user_id", "issued", "calls"}
        self._index = {}
        self._usernames = {}         # lower-case username -> user Id
        self._active_seats = {}      # UserLicense Id -> active users on it
        self._journal = []
        self.deleted_log = {}        # record Id -> (object name, when): /sobjects/{T}/deleted
        self._savepoints = weakref.WeakSet()
        self._undoing = False
        self._version = 0
        self._access_cache = {}
        self._formula_cache = {}
        self._refresh_object_names()

    # ---- objects -------------------------------------------------------------------------------
    def add_object(self, odef):
        """Serve an extra object (custom setting) or replace a standard one (extra formula fields)."""
        self.objects[odef.name] = odef
        self.tables.setdefault(odef.name, {})
        self._refresh_object_names()

    def _refresh_object_names(self):
        self._objects_lower = {name.lower(): odef for name, odef in self.objects.items()}

    def object_def(self, object_name, tooling=None):
        """ObjectDef by case-insensitive name; with ``tooling`` set, only if that API serves it."""
        odef = self._objects_lower.get((object_name or "").lower())
        if odef is None or tooling is None:
            return odef
        if tooling and odef.name in TOOLING_VARIANTS:
            return TOOLING_VARIANTS[odef.name]
        return odef if (odef.tooling if tooling else odef.standard) else None

    def new_id(self, object_name):
        if object_name in PREFIXES:
            return self.ids.new(object_name)
        return self.ids.new_with_prefix(self.estate.custom_prefix(object_name))

    # ---- raw storage (the only two mutators) ---------------------------------------------------
    def _put(self, object_name, row):
        table = self.tables[object_name]
        rid = row["Id"]
        old = table.get(rid)
        self._journal_write(object_name, rid, old)
        if old is not None:
            self._unindex(object_name, old)
        table[rid] = row
        self.id_owner[rid] = object_name
        self._add_index(object_name, row)
        self._version += 1

    def _remove(self, object_name, rid):
        old = self.tables[object_name].pop(rid)
        self._journal_write(object_name, rid, old)
        self.id_owner.pop(rid, None)
        self._unindex(object_name, old)
        self._version += 1

    def _journal_write(self, object_name, rid, old):
        if self._undoing:
            return
        if not self._savepoints:
            self._journal.clear()
            return
        self._journal.append((object_name, rid, old))

    def _undo_to(self, mark):
        self._undoing = True
        try:
            while len(self._journal) > mark:
                object_name, rid, old = self._journal.pop()
                if old is None:
                    self._remove(object_name, rid)
                else:
                    self._put(object_name, old)
        finally:
            self._undoing = False

    def savepoint(self):
        return Savepoint(self)

    def _add_index(self, object_name, row):
        for fname in _INDEXED_FIELDS.get(object_name, ()):
            self._index.setdefault((object_name, fname), {}).setdefault(row.get(fname), set()).add(row["Id"])
        if object_name == "User":
            self._usernames[row["Username"].lower()] = row["Id"]
            if row["IsActive"]:
                lic = self.profile_license_id(row["ProfileId"])
                self._active_seats[lic] = self._active_seats.get(lic, 0) + 1

    def _unindex(self, object_name, row):
        for fname in _INDEXED_FIELDS.get(object_name, ()):
            self._index.get((object_name, fname), {}).get(row.get(fname), set()).discard(row["Id"])
        if object_name == "User":
            self._usernames.pop(row["Username"].lower(), None)
            if row["IsActive"]:
                lic = self.profile_license_id(row["ProfileId"])
                self._active_seats[lic] -= 1

    def _indexed(self, object_name, fname, value):
        ids = self._index.get((object_name, fname), {}).get(value, ())
        table = self.tables[object_name]
        return [table[rid] for rid in ids]

    # ---- reading -------------------------------------------------------------------------------
    def rows(self, object_name):
        odef = self.object_def(object_name)
        if odef is None:
            return []
        self._refresh_derived(odef.name)
        return self.tables[odef.name].values()

    def get_row(self, object_name, record_id):
        """Stored row by Id (15 or 18), or None; ``object_name`` None accepts any object."""
        rid = to18(record_id) if is_id(record_id) else None
        owner = self.id_owner.get(rid)
        if owner is None or (object_name and owner.lower() != object_name.lower()):
            return None
        self._refresh_derived(owner)
        return self.tables[owner][rid]

    def _refresh_derived(self, object_name):
        # Seat counts are derived from users and assignments, as Salesforce's are.
        if object_name == "UserLicense":
            for row in self.tables["UserLicense"].values():
                row["UsedLicenses"] = self._active_seats.get(row["Id"], 0)
        elif object_name == "PermissionSetLicense":
            for row in self.tables["PermissionSetLicense"].values():
                row["UsedLicenses"] = len(self._index.get(
                    ("PermissionSetLicenseAssign", "PermissionSetLicenseId"), {}).get(row["Id"], ()))

    def object_name_of(self, record_id):
        """Canonical name of the object holding ``record_id`` (15 or 18), or None: custom objects too."""
        return self.id_owner.get(to18(record_id)) if is_id(record_id) else None

    def find_user(self, username):
        rid = self._usernames.get((username or "").lower())
        return self.tables["User"][rid] if rid else None

    def username_taken(self, username):
        return (username or "").lower() in self._usernames

    @property
    def admin_user(self):
        return self.tables["User"].get(self.admin_user_id)

    def profile_license_id(self, profile_id):
        profile = self.tables["Profile"].get(profile_id)
        return profile["UserLicenseId"] if profile else None

    def license_by_name(self, name):
        for row in self.tables["UserLicense"].values():
            if row["Name"].lower() == name.lower():
                return row
        return None

    def user_license(self, user):
        return self.tables["UserLicense"].get(self.profile_license_id(user["ProfileId"]))

    def assignments_of(self, user_id):
        return self._indexed("PermissionSetAssignment", "AssigneeId", user_id)

    def license_assignments_of(self, user_id):
        return self._indexed("PermissionSetLicenseAssign", "AssigneeId", user_id)

    # ---- access control ------------------------------------------------------------------------
    def access_of(self, user):
        """(system permission names, {object name: set of crud letters}) the user holds."""
        key = (user["Id"], self._version)
        cached = self._access_cache.get(user["Id"])
        if cached and cached[0] == key:
            return cached[1]
        set_ids = {psa["PermissionSetId"] for psa in self.assignments_of(user["Id"])}
        profile_set = self.profile_permission_set(user["ProfileId"])
        if profile_set:
            set_ids.add(profile_set["Id"])
        perms, objects = set(), {}
        for set_id in set_ids:
            pset = self.tables["PermissionSet"].get(set_id)
            if pset is None:
                continue
            perms.update(name[len("Permissions"):] for name, value in pset.items()
                         if name.startswith("Permissions") and value is True)
            for operm in self._indexed("ObjectPermissions", "ParentId", set_id):
                letters = objects.setdefault(operm["SobjectType"], set())
                letters.update(letter for letter, fname in OBJECT_PERMISSION_FIELDS.items() if operm.get(fname))
        pending = list(perms)
        while pending:
            for implied in PERMISSION_IMPLIES.get(pending.pop(), ()):
                if implied not in perms:
                    perms.add(implied)
                    pending.append(implied)
        result = (frozenset(perms), objects)
        self._access_cache[user["Id"]] = (key, result)
        return result

    def profile_permission_set(self, profile_id):
        for pset in self.tables["PermissionSet"].values():
            if pset["ProfileId"] == profile_id and pset["IsOwnedByProfile"]:
                return pset
        return None

    def has_permission(self, user, permission):
        return user is None or permission in self.access_of(user)[0]

    def object_access(self, user, object_name):
        """Set of crud letters the user holds on a data object (View/Modify All Data included)."""
        if user is None:
            return set("rcudvm")
        perms, objects = self.access_of(user)
        letters = set(objects.get(object_name, ()))
        if "ViewAllData" in perms:
            letters |= {"r", "v"}
        if "ModifyAllData" in perms:
            letters |= set("rcudvm")
        return letters

    def can_read(self, object_name, ctx):
        odef = self.object_def(object_name)
        if odef is None:
            return False
        if ctx is None:
            return True
        if odef.name in OPEN_SETUP_OBJECTS:
            return True
        if odef.name == "EventLogFile":
            # Salesforce: View Event Log Files with API Enabled, or View All Data; to anyone else the object
            # does not exist (INVALID_TYPE in a query, NOT_FOUND for its records and their LogFile).
            return self.has_permission(ctx, "ViewAllData") or (
                self.has_permission(ctx, "ViewEventLogFiles") and self.has_permission(ctx, "ApiEnabled"))
        if odef.setup or odef.custom_setting:
            if odef.name in ("PermissionSetAssignment", "PermissionSetLicenseAssign"):
                return self.has_permission(ctx, "ViewSetup") or self.has_permission(ctx, "AssignPermissionSets")
            return self.has_permission(ctx, "ViewSetup")
        return "r" in self.object_access(ctx, odef.name)

    def _check_write(self, odef, ctx, letter):
        if ctx is None:
            return
        name = odef.name
        if name == "User":
            needed = "ManageUsers"
        elif name in ("PermissionSetAssignment", "PermissionSetLicenseAssign"):
            if not self.has_permission(ctx, "AssignPermissionSets"):
                raise _insufficient_cross_reference()
            return
        elif name in ("PermissionSet", "ObjectPermissions", "FieldPermissions", "SetupEntityAccess"):
            needed = "ManageProfilesPermissionsets"
        elif odef.setup or odef.custom_setting:
            needed = "CustomizeApplication"
        else:
            if letter not in self.object_access(ctx, name):
                raise _insufficient_access()
            return
        if not self.has_permission(ctx, needed):
            raise _insufficient_access()

    def _visible_def(self, sobject, ctx, tooling):
        odef = self.object_def(sobject, tooling)
        if odef is None or not self.can_read(odef.name, ctx):
            raise SFError(*_NOT_FOUND)
        return odef

    # ---- the data API --------------------------------------------------------------------------
    def query(self, soql, ctx, tooling=False, api_version=DEFAULT_API_VERSION):
        from .soql import execute  # imported late: the engine is optional for store-only use
        base = "/services/data/v%s/%ssobjects" % (api_version, "tooling/" if tooling else "")
        return execute(soql, _QuerySource(self, ctx, tooling), url_prefix=base)

    def query_source(self, ctx, tooling=False):
        return _QuerySource(self, ctx, tooling)

    def describe_global(self, ctx, tooling=False, api_version=DEFAULT_API_VERSION):
        sobjects = [self._describe_summary(odef, tooling, api_version)
                    for odef in self.objects.values()
                    if self.object_def(odef.name, tooling) and self.can_read(odef.name, ctx)]
        return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}

    def _describe_summary(self, odef, tooling, api_version):
        base = "/services/data/v%s/%ssobjects/%s" % (api_version, "tooling/" if tooling else "", odef.name)
        return {
            "activateable": False, "createable": odef.createable, "custom": odef.name.endswith("__c"),
            "deprecatedAndHidden": False,
            "customSetting": odef.custom_setting, "deletable": odef.deletable, "keyPrefix": self.key_prefix(odef.name),
            "label": odef.label, "labelPlural": (odef.label or odef.name) + "s", "layoutable": not odef.setup,
            "mergeable": False, "name": odef.name, "queryable": odef.queryable, "replicateable": True,
            "retrieveable": True, "searchable": not odef.setup, "triggerable": not odef.setup,
            "undeletable": odef.deletable, "updateable": odef.updateable,
            "urls": {"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"},
        }

    def key_prefix(self, object_name):
        return PREFIXES.get(object_name) or self.estate.custom_prefix(object_name)

    def describe(self, sobject, ctx, tooling=False, api_version=DEFAULT_API_VERSION):
        odef = self._visible_def(sobject, ctx, tooling)
        body = self._describe_summary(odef, tooling, api_version)
        body["fields"] = [self._describe_field(fdef) for fdef in odef.fields.values()]
        body["childRelationships"] = [
            {"cascadeDelete": False, "childSObject": rel.child_object, "deprecatedAndHidden": False,
             "field": rel.field, "relationshipName": rel.name}
            for rel in odef.child_relationships.values()]
        if not odef.setup and not tooling:
            body["recordTypeInfos"] = setup_access.record_type_infos(self, odef, ctx, body["urls"]["sobject"])
        return body

    @staticmethod
    def _describe_field(fdef):
        return {
            "name": fdef.name, "label": fdef.label, "type": fdef.type, "nillable": fdef.nillable,
            "createable": fdef.createable, "updateable": fdef.updateable, "filterable": fdef.filterable,
            "referenceTo": list(fdef.reference_to), "relationshipName": fdef.relationship_name,
            "length": 255 if fdef.type in ("string", "email", "phone", "url", "picklist") else 0,
            "unique": fdef.name == "Username", "defaultedOnCreate": fdef.type == "boolean",
            "custom": fdef.name.endswith("__c"), "calculated": False,
            "idLookup": fdef.name in ("Id", "Username"), "polymorphicForeignKey": len(fdef.reference_to) > 1,
            "picklistValues": [{"active": True, "defaultValue": False, "label": value, "validFor": None,
                                "value": value} for value in fdef.picklist_values],
            "soapType": _SOAP_TYPES.get(fdef.type, "xsd:string"), "nameField": fdef.name == "Name",
            "sortable": fdef.type not in ("textarea", "base64", "anyType"), "externalId": False,
            "precision": _PRECISION.get(fdef.type, (0, 0))[0], "scale": _PRECISION.get(fdef.type, (0, 0))[1],
            "digits": 9 if fdef.type == "int" else 0, "deprecatedAndHidden": False,
        }

    def record_json(self, odef, row, api_version=DEFAULT_API_VERSION, tooling=False, fields=None):
        base = "/services/data/v%s/%ssobjects/%s/%s" % (
            api_version, "tooling/" if tooling else "", odef.name, row["Id"])
        body = {"attributes": {"type": odef.name, "url": base}}
        for fdef in odef.fields.values():
            if fields is None or fdef.name.lower() in fields:
                body[fdef.name] = render_value(row.get(fdef.name))
        return body

    def get_record(self, sobject, record_id, ctx, fields=None, tooling=False, api_version=DEFAULT_API_VERSION):
        odef = self._visible_def(sobject, ctx, tooling)
        row = self.get_row(odef.name, record_id)
        if row is None:
            raise SFError(*_NOT_FOUND)
        wanted = None
        if fields:
            wanted = {name.strip().lower() for name in fields}
            for name in wanted:
                if odef.field(name) is None:
                    raise SFError(400, "INVALID_FIELD", "No such column '%s' on sobject of type %s" % (name, odef.name))
        return self.record_json(odef, row, api_version, tooling, wanted)

    def create(self, sobject, fields, ctx, tooling=False):
        odef = self._visible_def(sobject, ctx, tooling)
        if not odef.createable:
            raise _not_allowed("POST", "HEAD,GET")
        self._check_write(odef, ctx, "c")
        return self._atomic(self._insert, odef, fields, ctx)["Id"]

    def update(self, sobject, record_id, fields, ctx, tooling=False):
        odef = self._visible_def(sobject, ctx, tooling)
        if not odef.updateable:
            raise _not_allowed("PATCH", "HEAD,GET,DELETE" if odef.deletable else "HEAD,GET")
        old = self.get_row(odef.name, record_id)
        if old is None:
            raise SFError(*_NOT_FOUND)
        self._check_write(odef, ctx, "u")
        self._atomic(self._update, odef, old, fields, ctx)

    def delete(self, sobject, record_id, ctx, tooling=False):
        odef = self._visible_def(sobject, ctx, tooling)
        if not odef.deletable:
            raise _not_allowed("DELETE", "HEAD,GET,PATCH" if odef.updateable else "HEAD,GET")
        row = self.get_row(odef.name, record_id)
        if row is None:
            raise SFError(*_NOT_FOUND)
        self._check_write(odef, ctx, "d")
        self._atomic(self._delete, odef, row)

    # ---- DML core (also used by the estate loader, with ctx None = system) ----------------------
    def _atomic(self, operation, *args):
        """One DML call is all or nothing, even when its side effects (assignments) fail."""
        savepoint = Savepoint(self)
        try:
            return operation(*args)
        except Exception:
            savepoint.rollback()
            raise
        finally:
            savepoint.release()

    def insert_system(self, object_name, fields, trusted=None):
        """Insert with every rule but no access check: the estate loader's entry point.

        ``fields`` may set read-only fields; ``trusted`` values are stored as given (already typed).
        """
        return self._insert(self.objects[object_name], fields, None, mode="system", trusted=trusted)

    def update_system(self, object_name, record_id, fields):
        return self._update(self.objects[object_name], self.get_row(object_name, record_id), fields, None)

    def _insert(self, odef, fields, ctx, mode="insert", trusted=None):
        checked = self._coerce(odef, fields, mode)
        values = dict(checked, **(trusted or {}))
        now = utcnow()
        actor = ctx["Id"] if ctx else self.admin_user_id
        row = {fdef.name: None for fdef in odef.fields.values()}
        for fdef in odef.fields.values():
            if fdef.type == "boolean":
                row[fdef.name] = False
        row.update(self._defaults(odef, values, ctx))
        row.update(values)
        row["Id"] = values.get("Id") or self.new_id(odef.name)
        for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            if name in row and row[name] is None:
                row[name] = now
        for name in ("CreatedById", "LastModifiedById"):
            if name in row and row[name] is None:
                row[name] = actor or row["Id"]
        self._check_required(odef, row)
        self._check_references(odef, row, checked)
        rule = getattr(self, "_rules_" + odef.name, None)
        if rule:
            rule(None, row, ctx)
        setup_access.apply_record_type(self, odef, row, ctx)
        self._derive(odef, row)
        self._run_validation_rules(odef, row, ctx)
        self._put(odef.name, row)
        after = getattr(self, "_after_" + odef.name, None)
        if after:
            after(None, row)
        return row

    def _update(self, odef, old, fields, ctx):
        values = self._coerce(odef, fields, "update")
        row = dict(old)
        row.update(values)
        now = utcnow()
        if "LastModifiedDate" in row:
            row["LastModifiedDate"] = row["SystemModstamp"] = now
            row["LastModifiedById"] = ctx["Id"] if ctx else row["LastModifiedById"]
        self._check_required(odef, row)
        self._check_references(odef, row, values)
        rule = getattr(self, "_rules_" + odef.name, None)
        if rule:
            rule(old, row, ctx)
        setup_access.apply_record_type(self, odef, row, ctx, old)
        self._derive(odef, row)
        self._run_validation_rules(odef, row, ctx)
        self._put(odef.name, row)
        after = getattr(self, "_after_" + odef.name, None)
        if after:
            after(old, row)
        return row

    def _delete(self, odef, row):
        rule = getattr(self, "_delete_rules_" + odef.name, None)
        if rule:
            rule(row)
        self._remove(odef.name, row["Id"])
        self.deleted_log[row["Id"]] = (odef.name, utcnow())
        # Children whose lookup is master-detail go with their parent.
        if odef.name == "PermissionSet":
            for child in ("ObjectPermissions", "FieldPermissions", "SetupEntityAccess"):
                for perm in self._indexed(child, "ParentId", row["Id"]):
                    self._remove(child, perm["Id"])

    def _coerce(self, odef, fields, mode):
        values, bad = {}, []
        for name, value in (fields or {}).items():
            if name == "attributes":
                continue
            fdef = odef.field(name)
            if fdef is None:
                raise SFError(400, "INVALID_FIELD", "No such column '%s' on sobject of type %s" % (name, odef.name))
            if mode != "system" and not (fdef.createable if mode == "insert" else fdef.updateable):
                bad.append(fdef.name)
                continue
            values[fdef.name] = self._coerce_value(fdef, value)
        if bad:
            raise SFError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                          "Unable to create/update fields: %s. Please check the security settings of this "
                          "field and verify that it is read/write for your profile or permission set."
                          % ", ".join(bad), bad)
        return values

    @staticmethod
    def _coerce_value(fdef, value):
        if value is None or fdef.type == "anyType":
            return value

        def refuse():
            return SFError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of %s from %s value %s or "
                           "request may be missing a required field" % (fdef.type, type(value).__name__, value))
        try:
            if fdef.type == "boolean":
                if not isinstance(value, bool):
                    raise refuse()
                return value
            if fdef.type == "int":
                if isinstance(value, bool) or int(value) != float(value):
                    raise refuse()
                return int(value)
            if fdef.type in ("double", "currency", "percent"):
                if isinstance(value, bool):
                    raise refuse()
                return float(value)
            if fdef.type == "date":
                return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
            if fdef.type == "datetime":
                if isinstance(value, datetime.datetime):
                    return value
                parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
            if fdef.type in ("reference", "id"):
                if not is_id(value):
                    raise SFError(400, "MALFORMED_ID", "%s: id value of incorrect type: %s" % (fdef.label, value),
                                  [fdef.name])
                return to18(value)
        except (TypeError, ValueError):
            raise refuse() from None
        if isinstance(value, (dict, list)):
            raise refuse()
        return str(value) if not isinstance(value, str) else value

    def _defaults(self, odef, values, ctx):
        out = {}
        if "OwnerId" in {f.name for f in odef.fields.values()}:
            out["OwnerId"] = ctx["Id"] if ctx else self.admin_user_id
        if odef.name == "User":
            out.update(IsActive=True, UserType="Standard", TimeZoneSidKey="America/Los_Angeles",
                       LocaleSidKey="en_US", EmailEncodingKey="UTF-8", LanguageLocaleKey="en_US")
            username = values.get("Username") or ""
            out["CommunityNickname"] = "%s%d" % (username.split("@")[0][:30], self.rng.randrange(1000, 9999))
        elif odef.name == "Case":
            out["Status"] = "New"
            out["CaseNumber"] = "%08d" % (len(self.tables["Case"]) + 1001)
        elif odef.name == "PermissionSet":
            out.update(IsCustom=True, Type="Regular")
        elif odef.name in ("PermissionSetAssignment",):
            out["IsActive"] = True
        return out

    @staticmethod
    def _check_required(odef, row):
        missing = [fdef.name for fdef in odef.fields.values()
                   if not fdef.nillable and fdef.createable and fdef.type != "boolean"
                   and row.get(fdef.name) in (None, "")]
        if missing:
            raise SFError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [%s]" % ", ".join(missing),
                          missing)

    def _check_references(self, odef, row, values):
        for name in values:
            fdef = odef.fields[name.lower()]
            if fdef.type != "reference" or row.get(name) is None or not fdef.reference_to:
                continue
            if self.id_owner.get(row[name]) not in fdef.reference_to:
                raise SFError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [fdef.name])

    def _derive(self, odef, row):
        if odef.name in ("User", "Contact"):
            row["Name"] = " ".join(part for part in (row.get("FirstName"), row.get("LastName")) if part)
        elif odef.name == "PermissionSet":
            lic = row.get("LicenseId")
            row["UserLicenseId"] = lic if lic and self.id_owner.get(lic) == "UserLicense" else None
        elif odef.name == "Opportunity":
            stage = row.get("StageName") or ""
            row["IsClosed"] = stage.startswith("Closed")
            row["IsWon"] = stage == "Closed Won"

    # ---- validation rules (formulas declared by the estate) ------------------------------------------
    def _run_validation_rules(self, odef, row, ctx):
        # Estate loading (ctx None) stands for data already in the org: rules only judge API writes.
        if ctx is None:
            return
        for rule in self.tables["ValidationRule"].values():
            if not rule["Active"] or rule["EntityDefinitionId"].lower() != odef.name.lower():
                continue
            tree = self._parsed_formula(rule["Metadata"]["errorConditionFormula"])
            if tree is None:
                continue
            try:
                failed = formula.evaluate(tree, self._formula_resolver(odef, row, ctx))
            except (formula.FormulaError, TypeError):
                continue
            if failed:
                field = rule["ErrorDisplayField"]
                raise SFError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule["ErrorMessage"], [field] if field else [])

    def _parsed_formula(self, text):
        if text not in self._formula_cache:
            try:
                self._formula_cache[text] = formula.parse(text)
            except formula.FormulaError:
                self._formula_cache[text] = None
        return self._formula_cache[text]

    def _formula_resolver(self, odef, row, ctx):
        profile = self.tables["Profile"].get(ctx["ProfileId"]) or {}

        def resolve(name):
            head, _, rest = name.partition(".")
            scope = head.lower()
            if scope == "$profile":
                return _field_value(profile, rest)
            if scope == "$user":
                return _field_value(ctx, rest)
            if scope == "$permission":
                return setup_access.has_custom_permission(self, ctx, rest)
            if scope == "$setup":
                setting, _, field = rest.partition(".")
                return _field_value(self._hierarchy_setting(setting, ctx), field)
            fdef = odef.field(name)
            if fdef is None:
                raise KeyError(name)
            return row.get(fdef.name)
        return resolve

    def _hierarchy_setting(self, setting, user):
        """The custom setting row that applies to ``user``: its own, else its profile's, else the org's."""
        odef = self.object_def(setting)
        if odef is None or not odef.custom_setting:
            raise KeyError(setting)
        rows = {r["SetupOwnerId"]: r for r in self.tables[odef.name].values()}
        for owner in (user["Id"], user["ProfileId"], self.org_id):
            if owner in rows:
                return rows[owner]
        return {}

    # ---- rules: users ----------------------------------------------------------------------------
    def _license_name(self, license_id):
        lic = self.tables["UserLicense"].get(license_id)
        return lic["Name"] if lic else None

    def _rules_User(self, old, new, ctx):
        if old is None or new["Username"].lower() != old["Username"].lower():
            if "@" not in new["Username"] or new["Username"].startswith("@"):
                raise SFError(400, "INVALID_NEW_USERNAME", "Username must be in the form of an email address "
                              "(for example, john@acme.com)", ["Username"])
            if self.estate.username_owner(new["Username"]) is not None:
                raise SFError(400, "DUPLICATE_USERNAME",
                              "Duplicate Username.<br>The username already exists in this or another Salesforce "
                              "organization. Usernames must be unique across all Salesforce organizations. To "
                              "resolve, use a different username (it doesn't need to match the user's email "
                              "address). ", ["Username"])
        new_license = self.profile_license_id(new["ProfileId"])
        old_license = self.profile_license_id(old["ProfileId"]) if old else None
        if old is not None and new_license != old_license:
            if (self._license_name(new_license) == INTEGRATION_LICENSE
                    and not self.allow_license_change_to_integration):
                raise _integrity("You can only reassign this user to a profile of the current license.", ["ProfileId"])
            for psa in self.assignments_of(new["Id"]):
                pset = self.tables["PermissionSet"][psa["PermissionSetId"]]
                blocked = self._integration_license_blocks(new, pset, new_license,
                                                           psl_granted=self.auto_assign_integration_psl)
                if blocked:
                    raise _integrity("The user license doesn't allow the permission: %s (permission set %s). Assign "
                                     "the Salesforce API Integration permission set license first."
                                     % (blocked, pset["Label"]), ["ProfileId"])
                if not pset["IsOwnedByProfile"] and pset["UserLicenseId"] and pset["UserLicenseId"] != new_license:
                    raise _integrity(
                        "The user license of the permission set %s (%s) doesn't match the user license of the "
                        "new profile (%s). Remove the assignment first." % (
                            pset["Label"], self._license_name(pset["UserLicenseId"]),
                            self._license_name(new_license)), ["ProfileId"])
        takes_seat = new["IsActive"] and (old is None or not old["IsActive"] or new_license != old_license)
        if takes_seat:
            lic = self.tables["UserLicense"][new_license]
            if self._active_seats.get(new_license, 0) >= lic["TotalLicenses"]:
                raise SFError(400, "LICENSE_LIMIT_EXCEEDED", "License Limit Exceeded", [])

    def _after_User(self, old, new):
        # Each user holds its profile's permission set through an assignment row, as in Salesforce.
        if old is not None and old["ProfileId"] == new["ProfileId"]:
            return
        if old is not None:
            old_set = self.profile_permission_set(old["ProfileId"])
            for psa in self.assignments_of(new["Id"]):
                if old_set and psa["PermissionSetId"] == old_set["Id"]:
                    self._remove("PermissionSetAssignment", psa["Id"])
        new_set = self.profile_permission_set(new["ProfileId"])
        if new_set:
            self._put("PermissionSetAssignment", self._assignment_row(new["Id"], new_set["Id"]))
        if self.auto_assign_integration_psl and self._license_name(
                self.profile_license_id(new["ProfileId"])) == INTEGRATION_LICENSE:
            self._auto_assign_integration_psl(new["Id"])

    def _auto_assign_integration_psl(self, user_id):
        # Whether Salesforce does this is disputed; estates choose (`auto_assign_integration_psl`).
        psl = next((p for p in self.tables["PermissionSetLicense"].values()
                    if p["DeveloperName"] == INTEGRATION_PSL), None)
        if psl is None or any(a["PermissionSetLicenseId"] == psl["Id"] for a in self.license_assignments_of(user_id)):
            return
        self._insert(self.objects["PermissionSetLicenseAssign"],
                     {"AssigneeId": user_id, "PermissionSetLicenseId": psl["Id"]}, None)

    def _assignment_row(self, user_id, set_id):
        now = utcnow()
        actor = self.admin_user_id or user_id
        return {"Id": self.new_id("PermissionSetAssignment"), "AssigneeId": user_id, "PermissionSetId": set_id,
                "PermissionSetGroupId": None, "IsActive": True, "ExpirationDate": None, "CreatedDate": now,
                "CreatedById": actor, "LastModifiedDate": now, "LastModifiedById": actor, "SystemModstamp": now}

    # ---- rules: assignments ----------------------------------------------------------------------
    def _rules_PermissionSetAssignment(self, old, new, ctx):
        user = self.tables["User"][new["AssigneeId"]]
        pset = self.tables["PermissionSet"][new["PermissionSetId"]]
        if pset["IsOwnedByProfile"]:
            raise _integrity("You can't assign or unassign this permission set because it's owned by a profile.",
                             ["PermissionSetId"])
        if any(psa["PermissionSetId"] == pset["Id"] for psa in self.assignments_of(user["Id"])):
            # Salesforce's own wording for this duplicate (scripts around `sf org assign permset` match it).
            raise SFError(400, "DUPLICATE_VALUE", "Duplicate PermissionSetAssignment. Assignee: %s, PermissionSet: %s"
                          % (to18(user["Id"]), to18(pset["Id"])), [])
        cannot = "Can't assign permission set %s to user %s. " % (pset["Label"], user["Name"])
        user_license = self.profile_license_id(user["ProfileId"])
        if pset["UserLicenseId"] and pset["UserLicenseId"] != user_license:
            raise _integrity(cannot + "The user license of the permission set (%s) doesn't match the user's "
                             "license (%s)." % (self._license_name(pset["UserLicenseId"]),
                                                self._license_name(user_license)), ["PermissionSetId"])
        psl_id = pset["LicenseId"] if self.id_owner.get(pset["LicenseId"]) == "PermissionSetLicense" else None
        if psl_id and not any(a["PermissionSetLicenseId"] == psl_id for a in self.license_assignments_of(user["Id"])):
            psl = self.tables["PermissionSetLicense"][psl_id]
            raise _integrity(cannot + "The permission set requires the permission set license %s, which the user "
                             "doesn't have." % psl["MasterLabel"], ["PermissionSetId"])
        blocked = self._integration_license_blocks(user, pset)
        if blocked:
            raise _integrity(cannot + "The user license doesn't allow the permission: %s" % blocked,
                             ["PermissionSetId"])

    def _standard_object_grant(self, pset):
        """'Read Account' for the first standard-object permission the set grants, else None."""
        for perm in self._indexed("ObjectPermissions", "ParentId", pset["Id"]):
            if perm["SobjectType"] in DATA_OBJECTS:
                for fname in OBJECT_PERMISSION_FIELDS.values():
                    if perm.get(fname):
                        return "%s %s" % (OBJECT_PERMISSION_LABELS[fname], perm["SobjectType"])
        return None

    def _holds_psl(self, user_id, developer_name):
        psls = self.tables["PermissionSetLicense"]
        return any(psls[a["PermissionSetLicenseId"]]["DeveloperName"] == developer_name
                   for a in self.license_assignments_of(user_id))

    def _integration_license_blocks(self, user, pset, license_id=None, psl_granted=False):
        """The permission the Salesforce Integration license refuses, unless the user holds the
        Salesforce API Integration PSL that extends it to standard objects; None when allowed."""
        license_id = license_id or self.profile_license_id(user["ProfileId"])
        if (self._license_name(license_id) != INTEGRATION_LICENSE or pset["IsOwnedByProfile"]
                or psl_granted or self._holds_psl(user["Id"], INTEGRATION_PSL)):
            return None
        return self._standard_object_grant(pset)

    def _delete_rules_PermissionSetAssignment(self, row):
        if self.tables["PermissionSet"][row["PermissionSetId"]]["IsOwnedByProfile"]:
            raise _integrity("You can't assign or unassign this permission set because it's owned by a profile.")

    def _rules_PermissionSetLicenseAssign(self, old, new, ctx):
        psl = self.tables["PermissionSetLicense"][new["PermissionSetLicenseId"]]
        if any(a["PermissionSetLicenseId"] == psl["Id"] for a in self.license_assignments_of(new["AssigneeId"])):
            raise SFError(400, "DUPLICATE_VALUE",
                          "duplicate value found: <unknown> duplicates value on record with id: <unknown>", [])
        self._refresh_derived("PermissionSetLicense")
        if psl["UsedLicenses"] >= psl["TotalLicenses"]:
            raise SFError(400, "LICENSE_LIMIT_EXCEEDED", "License Limit Exceeded", [])

    def _delete_rules_PermissionSetLicenseAssign(self, row):
        user = self.tables["User"][row["AssigneeId"]]
        psl = self.tables["PermissionSetLicense"][row["PermissionSetLicenseId"]]
        if psl["DeveloperName"] == INTEGRATION_PSL and self._license_name(
                self.profile_license_id(user["ProfileId"])) == INTEGRATION_LICENSE:
            for psa in self.assignments_of(user["Id"]):
                pset = self.tables["PermissionSet"][psa["PermissionSetId"]]
                granted = None if pset["IsOwnedByProfile"] else self._standard_object_grant(pset)
                if granted:
                    raise _integrity("This permission set license can't be removed from the user: the assigned "
                                     "permission set %s grants %s, which the user license doesn't allow without "
                                     "it." % (pset["Label"], granted))
        for psa in self.assignments_of(row["AssigneeId"]):
            if self.tables["PermissionSet"][psa["PermissionSetId"]]["LicenseId"] == row["PermissionSetLicenseId"]:
                raise _integrity("This permission set license can't be removed from the user: the assigned "
                                 "permission set %s requires it."
                                 % self.tables["PermissionSet"][psa["PermissionSetId"]]["Label"])

    # ---- rules: permission sets and object permissions -------------------------------------------
    def _rules_PermissionSet(self, old, new, ctx):
        if old is not None and old["IsOwnedByProfile"]:
            raise _integrity("You can't edit a permission set owned by a profile; edit the profile instead.")
        if new.get("LicenseId") and self.id_owner.get(new["LicenseId"]) not in ("UserLicense", "PermissionSetLicense"):
            raise SFError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["LicenseId"])
        for other in self.tables["PermissionSet"].values():
            if other["Id"] != new["Id"] and other["Name"].lower() == new["Name"].lower():
                raise SFError(400, "DUPLICATE_DEVELOPER_NAME",
                              "The API name %s is already in use." % new["Name"], ["Name"])
        if old is not None and old["LicenseId"] != new["LicenseId"] and self._indexed(
                "PermissionSetAssignment", "PermissionSetId", new["Id"]):
            raise _integrity("You can't change the license of a permission set that is assigned to users.",
                             ["LicenseId"])

    def _delete_rules_PermissionSet(self, row):
        if row["IsOwnedByProfile"]:
            raise _integrity("You can't delete a permission set owned by a profile.")
        if self._indexed("PermissionSetAssignment", "PermissionSetId", row["Id"]):
            raise SFError(400, "DELETE_FAILED", "Your attempt to delete %s could not be completed because it is "
                          "assigned to users." % row["Label"], [])

    def _license_of_set(self, pset):
        if pset["IsOwnedByProfile"]:
            return self.profile_license_id(pset["ProfileId"])
        return pset["UserLicenseId"]

    def _rules_ObjectPermissions(self, old, new, ctx):
        sobject = self.object_def(new["SobjectType"])
        if sobject is None or sobject.setup or sobject.custom_setting:
            raise _integrity("Invalid SobjectType: %s" % new["SobjectType"], ["SobjectType"])
        new["SobjectType"] = sobject.name
        if old is None and any(p["SobjectType"] == sobject.name
                               for p in self._indexed("ObjectPermissions", "ParentId", new["ParentId"])):
            raise SFError(400, "DUPLICATE_VALUE",
                          "duplicate value found: <unknown> duplicates value on record with id: <unknown>", [])
        for fname, needs in OBJECT_PERMISSION_DEPENDENCIES.items():
            missing = [need for need in needs if new.get(fname) and not new.get(need)]
            if missing:
                raise _integrity("Permission %s %s depends on permission(s): %s" % (
                    OBJECT_PERMISSION_LABELS[fname], sobject.name,
                    "; ".join("%s %s" % (OBJECT_PERMISSION_LABELS[n], sobject.name) for n in missing)))
        pset = self.tables["PermissionSet"][new["ParentId"]]
        granted = [f for f in OBJECT_PERMISSION_FIELDS.values() if new.get(f)]
        # The look-alike trap: the *user license* "Salesforce Integration" allows no standard-object access.
        if (granted and sobject.name in DATA_OBJECTS
                and self._license_name(self._license_of_set(pset)) == INTEGRATION_LICENSE):
            raise _integrity("The user license doesn't allow the permission: %s %s" % (
                OBJECT_PERMISSION_LABELS[granted[0]], sobject.name))

    def _rules_SetupEntityAccess(self, old, new, ctx):
        setup_access.check_new_access(self, new)

    def _rules_FieldPermissions(self, old, new, ctx):
        sobject = self.object_def(new["SobjectType"])
        if sobject is None or "." not in new["Field"] or sobject.field(new["Field"].split(".", 1)[1]) is None:
            raise _integrity("Invalid field: %s" % new["Field"], ["Field"])
        if new.get("PermissionsEdit") and not new.get("PermissionsRead"):
            raise _integrity("Permission Edit %s depends on permission(s): Read %s" % (new["Field"], new["Field"]))

    # ---- logins and sessions ---------------------------------------------------------------------
    def record_login(self, user_id, login_type, status, application, api_type=None, api_version=None,
                     login_time=None, source_ip="127.0.0.1", browser="Unknown", platform="Unknown",
                     update_last_login=True):
        when = login_time or utcnow()
        row = {"Id": self.new_id("LoginHistory"), "UserId": user_id, "LoginTime": when, "LoginType": login_type,
               "Status": status, "Application": application, "ApiType": api_type, "ApiVersion": api_version,
               "SourceIp": source_ip, "Browser": browser, "Platform": platform,
               "LoginUrl": "%s.my.salesforce.com" % self.my_domain, "ClientVersion": "N/A",
               "CountryIso": None, "TlsProtocol": "TLS 1.3", "CipherSuite": "TLS_AES_256_GCM_SHA384",
               "AuthMethodReference": None}
        self._put("LoginHistory", row)
        user = self.tables["User"].get(user_id) if update_last_login else None
        if user and status == "Success" and (user["LastLoginDate"] is None or user["LastLoginDate"] < when):
            self._put("User", dict(user, LastLoginDate=when))
        return row

    def check_password(self, user, password):
        """True for the password followed by the security token (the password alone only when the
        org trusts the caller's network: estate key `require_security_token: false`)."""
        creds = self.credentials.get(user["Id"]) if user else None
        if not creds or password is None:
            return False
        accepted = [creds["password"] + creds["security_token"]]
        if not self.require_security_token:
            accepted.append(creds["password"])
        return password in accepted

    def new_session(self, user_id):
        token = "%s!AQ%s" % (self.org_id[:15], "".join(
            self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._") for _ in range(94)))
        self.sessions[token] = {"user_id": user_id, "issued": utcnow().isoformat(), "calls": 0}
        return token

    def session_user(self, token):
        session = self.sessions.get(token)
        if session is None:
            return None
        user = self.tables["User"].get(session["user_id"])
        return user if user and user["IsActive"] else None

    def expire_sessions(self):
        self.sessions.clear()

    # ---- persistence (--state-file) ---------------------------------------------------------------
    def export_state(self):
        return {"tables": {name: list(table.values()) for name, table in self.tables.items()},
                "api_used": self.api_used, "call_counts": self.call_counts, "sessions": self.sessions,
                "credentials": self.credentials, "id_counters": self.ids.counters, "id_pod": self.ids.pod}

    def import_state(self, state):
        """Replace records, sessions and accounting with a saved state (objects come from the estate)."""
        self.tables = {name: {} for name in self.objects}
        self.id_owner, self._index, self._usernames, self._active_seats = {}, {}, {}, {}
        self._journal.clear()
        # Users count seats through their profile's license: load those two first.
        order = ["UserLicense", "Profile"] + [n for n in state["tables"] if n not in ("UserLicense", "Profile")]
        for name in order:
            if name in self.tables:
                for row in state["tables"].get(name, []):
                    self._put(name, row)
        self.api_used = state["api_used"]
        self.call_counts = dict(state["call_counts"])
        self.sessions = dict(state["sessions"])
        self.credentials = dict(state["credentials"])
        self.ids.counters = dict(state["id_counters"])
        self.ids.pod = state["id_pod"]

    # ---- accounting and inspection ---------------------------------------------------------------
    def count_call(self, endpoint_label):
        self.api_used += 1
        self.call_counts[endpoint_label] = self.call_counts.get(endpoint_label, 0) + 1

    def limits(self):
        def pair(maximum, used=0):
            return {"Max": maximum, "Remaining": max(0, maximum - used)}
        return {
            "DailyApiRequests": pair(self.api_daily_limit, self.api_used),
            "DailyAsyncApexExecutions": pair(250000), "DailyBulkApiBatches": pair(15000),
            "DailyBulkV2QueryJobs": pair(10000), "DailyStreamingApiEvents": pair(1000000),
            "DataStorageMB": pair(1024 if not self.is_sandbox else 200),
            "FileStorageMB": pair(10240 if not self.is_sandbox else 200),
            "HourlyTimeBasedWorkflow": pair(1000), "MassEmail": pair(5000), "SingleEmail": pair(5000),
            "PermissionSets": pair(1500, len(self.tables["PermissionSet"])),
        }

    def dump_state(self):
        """Users with profile, license, active flag, permission sets and PSLs; seats per license."""
        sets, psls = self.tables["PermissionSet"], self.tables["PermissionSetLicense"]
        self._refresh_derived("UserLicense")
        self._refresh_derived("PermissionSetLicense")
        users = []
        for user in self.tables["User"].values():
            profile = self.tables["Profile"][user["ProfileId"]]
            users.append({
                "Id": user["Id"], "Username": user["Username"], "IsActive": user["IsActive"],
                "Profile": profile["Name"], "UserLicense": self._license_name(profile["UserLicenseId"]),
                "PermissionSets": sorted(sets[a["PermissionSetId"]]["Name"] for a in self.assignments_of(user["Id"])
                                         if not sets[a["PermissionSetId"]]["IsOwnedByProfile"]),
                "PermissionSetLicenses": sorted(psls[a["PermissionSetLicenseId"]]["DeveloperName"]
                                                for a in self.license_assignments_of(user["Id"])),
                "LastLoginDate": render_value(user["LastLoginDate"]),
            })
        return {
            "name": self.name, "org_id": self.org_id, "is_sandbox": self.is_sandbox, "edition": self.edition,
            "users": users,
            "licenses": {row["Name"]: {"total": row["TotalLicenses"], "used": row["UsedLicenses"]}
                         for row in self.tables["UserLicense"].values()},
            "permission_set_licenses": {row["DeveloperName"]: {"total": row["TotalLicenses"],
                                                               "used": row["UsedLicenses"]}
                                        for row in psls.values()},
            "permission_sets": sorted(row["Name"] for row in sets.values() if not row["IsOwnedByProfile"]),
            "api": {"used": self.api_used, "limit": self.api_daily_limit},
        }
