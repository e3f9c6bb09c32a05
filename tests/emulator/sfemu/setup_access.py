"""What a profile grants beyond object, field and system permissions (issue 12).

- Setup-entity access: `SetupEntityAccess(ParentId, SetupEntityId, SetupEntityType)` rows on a permission
  set (a profile's own one included) grant a connected app, an Apex class, a Visualforce page, a custom
  permission or a flow. Created and deleted through the API like Salesforce's (duplicates and unknown
  entities refused).
- Connected-app pre-authorization: an app with `OptionsAllowAdminApprovedUsersOnly` admits only users
  whose profile or a permission set has setup access to it (JWT bearer, username-password, and the run-as
  user of client credentials): otherwise `invalid_grant` / "user hasn't approved this consumer".
- Apex REST: `/services/apexrest/<urlMapping>` serves the `@RestResource` classes; without class access
  (Author Apex grants every class) 403 `FORBIDDEN`.
- Record types: visibility (profile and permission sets) and the default (profile only) decide what a
  create may use and what it gets; describe's `recordTypeInfos` follow the running user.
- Profile-only settings: login IP ranges and login hours refuse logins outside them (recorded in
  LoginHistory); Tooling `Profile.Metadata` shows them with the rest of the profile, one row a query.
- Formulas: `$Permission.<name>` is true when the running user holds the custom permission.

The model per org is `model(org)`; the rules are called by `sfemu.org` and `sfemu.oauth` (a few lines each).
"""
import datetime
import ipaddress
import random
import re

from .errors import OAuthError, SFError
from .ids import PREFIXES

# Key prefixes of the objects this module serves (Salesforce's).
PREFIXES.update({
    "SetupEntityAccess": "0J0", "OauthToken": "0CQ", "CustomPermission": "0CP", "RecordType": "012",
    "ApexPage": "066",
})
MASTER_RECORD_TYPE_ID = "012000000000000AAA"

# SetupEntityType of each object a SetupEntityAccess row may name.
ENTITY_TYPES = ("ApexClass", "ApexPage", "ConnectedApplication", "CustomPermission", "FlowDefinition")
# Estate `setup_access:` keys -> (object, name field).
ESTATE_KEYS = {
    "connected_apps": ("ConnectedApplication", "Name"), "apex_classes": ("ApexClass", "Name"),
    "apex_pages": ("ApexPage", "Name"), "custom_permissions": ("CustomPermission", "DeveloperName"),
    "flows": ("FlowDefinition", "DeveloperName"),
}
# The address every emulated client logs in from: the emulator listens on loopback only.
CLIENT_IP = "127.0.0.1"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NOT_APPROVED = "user hasn't approved this consumer"


# ---- object definitions (called by sfemu.objects._build) ---------------------------------------------
def object_defs(obj, f, ro):
    """The ObjectDefs of this module, built with sfemu.objects' helpers."""
    from .schema import ChildRelationship
    return [
        obj("ConnectedApplication", [
            ro("Name", nillable=False), ro("OptionsAllowAdminApprovedUsersOnly", "boolean", nillable=False),
            ro("OptionsRefreshTokenValidityMetric", "boolean", nillable=False),
            ro("OptionsHasSessionLevelPolicy", "boolean", nillable=False),
            ro("OptionsIsInternal", "boolean", nillable=False),
            ro("OptionsFullContentPushNotifications", "boolean", nillable=False),
            ro("OptionsCodeCredentialGuestEnabled", "boolean", nillable=False),
            ro("OptionsTokenExchangeManageBitEnabled", "boolean", nillable=False),
            ro("MobileSessionTimeout", "picklist"), ro("MobileStartUrl", "url"), ro("PinLength", "picklist"),
            ro("RefreshTokenValidityPeriod", "int"), ro("StartUrl", "url"),
        ], setup=True, createable=False, updateable=False, deletable=False),
        # SetupEntityId has no relationship name: SOQL cannot traverse it (use a semi-join).
        obj("SetupEntityAccess", [
            ro("SystemModstamp", "datetime", nillable=False),
            f("ParentId", "reference", "PermissionSet", nillable=False, updateable=False),
            f("SetupEntityId", "reference", list(ENTITY_TYPES), rel=False, nillable=False, updateable=False),
            ro("SetupEntityType", "picklist"),
        ], audited=False, setup=True, updateable=False),
        obj("OauthToken", [
            ro("CreatedDate", "datetime", nillable=False), ro("AppName"),
            ro("UserId", "reference", "User", nillable=False), ro("LastUsedDate", "datetime"),
            ro("UseCount", "int"), ro("DeleteToken"), ro("RequestToken"), ro("AppMenuItemId"),
        ], audited=False, setup=True, createable=False, updateable=False),
        obj("CustomPermission", [
            ro("DeveloperName", nillable=False), ro("MasterLabel", nillable=False), ro("Language"),
            ro("NamespacePrefix"), ro("Description", "textarea"), ro("IsLicensed", "boolean", nillable=False),
            ro("IsProtected", "boolean", nillable=False),
        ], setup=True, createable=False, updateable=False, deletable=False),
        obj("RecordType", [
            ro("Name", nillable=False), ro("DeveloperName", nillable=False),
            ro("SobjectType", "picklist", nillable=False),
            ro("IsActive", "boolean", nillable=False), ro("Description", "textarea"), ro("NamespacePrefix"),
            ro("BusinessProcessId"), ro("IsPersonType", "boolean", nillable=False),
        ], setup=True, createable=False, updateable=False, deletable=False),
        obj("ApexPage", [
            ro("Name", nillable=False), ro("MasterLabel", nillable=False), ro("Markup", "textarea"),
            ro("ControllerType", "picklist"), ro("ControllerKey"), ro("NamespacePrefix"), ro("ApiVersion", "double"),
            ro("Description", "textarea"), ro("IsAvailableInTouch", "boolean", nillable=False),
            ro("IsConfirmationTokenRequired", "boolean", nillable=False),
        ], setup=True, tooling=True, createable=False, updateable=False, deletable=False),
    ], ChildRelationship("SetupEntityAccessItems", "SetupEntityAccess", "ParentId")


def tooling_profile_def(profile_def, tooling_metadata):
    """Tooling's Profile: the standard fields but the permissions, plus Metadata and FullName."""
    import copy
    clone = copy.copy(profile_def)
    clone.fields = {key: fdef for key, fdef in profile_def.fields.items() if not key.startswith("permissions")}
    for fdef in tooling_metadata:
        clone.fields[fdef.name.lower()] = fdef
    clone.tooling, clone.standard = True, False
    clone.child_relationships = {}
    return clone


# ---- the per-org model --------------------------------------------------------------------------
class SetupModel:
    """Profile-only settings of one org (static: only the Metadata API changes them) and access caches."""

    def __init__(self, org):
        self.org = org
        self.record_types = {}        # profile or permission set Id -> {object: set of RecordType Ids}
        self.default_record_type = {}  # profile Id -> {object: RecordType Id}
        self.login_ip_ranges = {}     # profile Id -> [(start, end, description)]
        self.login_hours = {}         # profile Id -> {day: (start minute, end minute)}
        self._cache = {}

    def entities_of(self, user):
        """Ids of every setup entity the user reaches through its profile and permission sets."""
        org = self.org
        key = (org._version, user["ProfileId"])
        cached = self._cache.get(user["Id"])
        if cached and cached[0] == key:
            return cached[1]
        out = set()
        for set_id in permission_set_ids(org, user):
            out.update(row["SetupEntityId"] for row in org._indexed("SetupEntityAccess", "ParentId", set_id))
        self._cache[user["Id"]] = (key, out)
        return out

    def visible_record_types(self, user, object_name):
        ids = set()
        for set_id in permission_set_ids(self.org, user) | {user["ProfileId"]}:
            ids |= self.record_types.get(set_id, {}).get(object_name, set())
        active = self.org.tables["RecordType"]
        return {rid for rid in ids if rid in active and active[rid]["IsActive"]}


def model(org):
    found = getattr(org, "_setup_model", None)
    if found is None:
        found = org._setup_model = SetupModel(org)
    return found


def permission_set_ids(org, user):
    """The user's permission sets: its profile's own one (whatever assignment rows say) and the assigned ones."""
    sets = org.tables["PermissionSet"]
    ids = {psa["PermissionSetId"] for psa in org.assignments_of(user["Id"])
           if not (sets.get(psa["PermissionSetId"]) or {}).get("IsOwnedByProfile")}
    profile_set = org.profile_permission_set(user["ProfileId"])
    if profile_set:
        ids.add(profile_set["Id"])
    return ids


def entity_by_name(org, object_name, name):
    field = dict(ESTATE_KEYS.values())[object_name]
    for row in org.tables[object_name].values():
        if (row.get(field) or "").lower() == str(name).lower():
            return row
    return None


def has_entity(org, user, entity_id):
    return user is None or entity_id in model(org).entities_of(user)


def has_custom_permission(org, user, name):
    """$Permission.<name>: KeyError for a custom permission the org does not define."""
    row = entity_by_name(org, "CustomPermission", name)
    if row is None:
        raise KeyError(name)
    return has_entity(org, user, row["Id"])


# ---- SetupEntityAccess rules (called from Org._rules_SetupEntityAccess) --------------------------------
def check_new_access(org, row):
    entity_type = org.id_owner.get(row["SetupEntityId"])
    row["SetupEntityType"] = entity_type
    row["SystemModstamp"] = row.get("SystemModstamp") or datetime.datetime.now(datetime.timezone.utc)
    for other in org._indexed("SetupEntityAccess", "ParentId", row["ParentId"]):
        if other["SetupEntityId"] == row["SetupEntityId"] and other["Id"] != row["Id"]:
            raise SFError(400, "DUPLICATE_VALUE",
                          "duplicate value found: <unknown> duplicates value on record with id: <unknown>")


# ---- logins (called from sfemu.oauth) -------------------------------------------------------------
def app_row(org, app):
    return org.tables["ConnectedApplication"].get(app.get("id")) if app else None


def check_login(org, user, app, record_failure, now=None):
    """Refuse a login Salesforce would refuse for this user and app; ``record_failure(status)`` writes
    the LoginHistory row first."""
    settings = model(org)
    row = app_row(org, app)
    if row is not None and row["OptionsAllowAdminApprovedUsersOnly"] and not has_entity(org, user, row["Id"]):
        record_failure("Failed: Not approved for access")
        raise OAuthError("invalid_grant", NOT_APPROVED)
    ranges = settings.login_ip_ranges.get(user["ProfileId"])
    if ranges and not ip_in_ranges(CLIENT_IP, ranges):
        record_failure("Restricted IP")
        raise OAuthError("invalid_grant", "ip restricted")
    hours = settings.login_hours.get(user["ProfileId"])
    if hours and not within_login_hours(org, hours, now):
        record_failure("Restricted Time")
        raise OAuthError("invalid_grant", "login hours restricted")


def trusted_network(org, user):
    """Inside its profile's login IP ranges a user logs in with the password alone (no security token)."""
    ranges = model(org).login_ip_ranges.get(user["ProfileId"])
    return bool(ranges) and ip_in_ranges(CLIENT_IP, ranges)


def trusted_password(org, user, password):
    """The password alone, from inside the user's profile login IP ranges."""
    creds = org.credentials.get(user["Id"]) or {}
    return trusted_network(org, user) and bool(password) and password == creds.get("password")


def ip_in_ranges(address, ranges):
    ip = ipaddress.ip_address(address)
    return any(ipaddress.ip_address(start) <= ip <= ipaddress.ip_address(end) for start, end, _ in ranges)


def within_login_hours(org, hours, now=None):
    """Login hours are in the org's default time zone; a day without hours is unrestricted."""
    zone = datetime.timezone.utc
    org_row = next(iter(org.tables["Organization"].values()), None)
    try:
        import zoneinfo
        zone = zoneinfo.ZoneInfo((org_row or {}).get("TimeZoneSidKey") or "UTC")
    except Exception:  # no tz database: UTC
        pass
    local = (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(zone)
    window = hours.get(DAYS[local.weekday()])
    if window is None:
        return True
    minute = local.hour * 60 + local.minute
    return window[0] <= minute < window[1]


# ---- record types (called from Org._insert/_update and Org.describe) --------------------------------
def apply_record_type(org, odef, row, ctx, old=None):
    """Check the record type a create (or a change) names, or give a create the user's default."""
    if ctx is None or "recordtypeid" not in odef.fields:
        return
    settings = model(org)
    wanted = row.get("RecordTypeId")
    if wanted is None:
        if old is None:
            row["RecordTypeId"] = settings.default_record_type.get(ctx["ProfileId"], {}).get(odef.name)
        return
    if old is not None and old.get("RecordTypeId") == wanted:
        return
    if wanted not in settings.visible_record_types(ctx, odef.name):
        raise SFError(400, "INVALID_CROSS_REFERENCE_KEY",
                      "Record Type ID: this ID value isn't valid for the user: %s" % wanted, ["RecordTypeId"])


def record_type_infos(org, odef, ctx, base):
    """describe's recordTypeInfos as the running user sees them (Master last, as Salesforce lists it)."""
    settings = model(org)
    types = [rt for rt in org.tables["RecordType"].values() if rt["SobjectType"] == odef.name and rt["IsActive"]]
    visible = {rt["Id"] for rt in types} if ctx is None else settings.visible_record_types(ctx, odef.name)
    default = settings.default_record_type.get(ctx["ProfileId"], {}).get(odef.name) if ctx else None
    if default not in visible:
        default = None
    infos = []
    for rt in sorted(types, key=lambda r: r["Name"]):
        infos.append(_info(rt["Id"], rt["Name"], rt["DeveloperName"], rt["Id"] in visible, rt["Id"] == default,
                           False, base))
    infos.append(_info(MASTER_RECORD_TYPE_ID, "Master", "Master", not types or not visible, default is None,
                       True, base))
    return infos


def _info(rid, name, developer_name, available, default, master, base):
    return {"active": True, "available": available, "defaultRecordTypeMapping": default,
            "developerName": developer_name, "master": master, "name": name, "recordTypeId": rid,
            "urls": {"layout": "%s/describe/layouts/%s" % (base, rid)}}


# ---- queries (called from Org's query source) ------------------------------------------------------
def query_rows(org, ctx, tooling, object_def, rows):
    """Rows as this caller and API see them: other users' OauthTokens need Customize Application;
    Tooling Profile rows carry their Metadata and FullName."""
    name = object_def.name
    if name == "OauthToken" and ctx is not None and not org.has_permission(ctx, "CustomizeApplication"):
        return [row for row in rows if row["UserId"] == ctx["Id"]]
    if name == "Profile" and tooling:
        return [dict(row, FullName=row["Name"], Metadata=profile_metadata(org, row)) for row in rows]
    return rows


def profile_metadata(org, profile):
    """Tooling Profile.Metadata: what the Metadata API's Profile type says of this profile."""
    settings = model(org)
    pset = org.profile_permission_set(profile["Id"]) or {}
    lic = org.tables["UserLicense"].get(profile["UserLicenseId"]) or {}
    entities = {}
    for row in org._indexed("SetupEntityAccess", "ParentId", pset.get("Id")):
        target = org.get_row(row["SetupEntityType"], row["SetupEntityId"])
        if target:
            entities.setdefault(row["SetupEntityType"], []).append(target)
    names = lambda kind, field: sorted(r[field] for r in entities.get(kind, []))  # noqa: E731
    visible = settings.record_types.get(profile["Id"], {})
    defaults = settings.default_record_type.get(profile["Id"], {})
    record_types = []
    for object_name in sorted(visible):
        for rid in sorted(visible[object_name]):
            rt = org.tables["RecordType"][rid]
            record_types.append({"recordType": "%s.%s" % (object_name, rt["DeveloperName"]), "visible": True,
                                 "default": defaults.get(object_name) == rid, "personAccountDefault": None})
    hours = settings.login_hours.get(profile["Id"])
    login_hours = None
    if hours:
        login_hours = {}
        for day in DAYS:
            window = hours.get(day)
            login_hours[day + "Start"] = window[0] if window else None
            login_hours[day + "End"] = window[1] if window else None
    object_perms = []
    for row in sorted(org._indexed("ObjectPermissions", "ParentId", pset.get("Id")), key=lambda r: r["SobjectType"]):
        object_perms.append({
            "object": row["SobjectType"], "allowCreate": row["PermissionsCreate"], "allowRead": row["PermissionsRead"],
            "allowEdit": row["PermissionsEdit"], "allowDelete": row["PermissionsDelete"],
            "viewAllRecords": row["PermissionsViewAllRecords"], "modifyAllRecords": row["PermissionsModifyAllRecords"]})
    return {
        "fullName": profile["Name"], "custom": bool(pset.get("IsCustom")), "description": profile.get("Description"),
        "userLicense": lic.get("Name"),
        "userPermissions": [{"name": key[len("Permissions"):], "enabled": True}
                            for key, value in sorted(profile.items())
                            if key.startswith("Permissions") and value is True],
        "objectPermissions": object_perms,
        "fieldPermissions": [{"field": row["Field"], "readable": row["PermissionsRead"],
                              "editable": row["PermissionsEdit"]}
                             for row in sorted(org._indexed("FieldPermissions", "ParentId", pset.get("Id")),
                                               key=lambda r: r["Field"])],
        "classAccesses": [{"apexClass": name, "enabled": True} for name in names("ApexClass", "Name")],
        "pageAccesses": [{"apexPage": name, "enabled": True} for name in names("ApexPage", "Name")],
        "customPermissions": [{"name": name, "enabled": True}
                              for name in names("CustomPermission", "DeveloperName")],
        "flowAccesses": [{"flow": name, "enabled": True} for name in names("FlowDefinition", "DeveloperName")],
        "recordTypeVisibilities": record_types,
        "loginIpRanges": [{"startAddress": start, "endAddress": end, "description": description}
                          for start, end, description in settings.login_ip_ranges.get(profile["Id"], [])],
        "loginHours": login_hours,
        "applicationVisibilities": [], "tabVisibilities": [], "layoutAssignments": [], "loginFlows": [],
        "profileActionOverrides": [], "categoryGroupVisibilities": [], "customMetadataTypeAccesses": [],
        "customSettingAccesses": [], "externalDataSourceAccesses": [],
    }


# ---- Apex REST (routed by sfemu.server) ----------------------------------------------------------
_REST_RESOURCE = re.compile(r"@RestResource\s*\(\s*urlMapping\s*=\s*'([^']+)'\s*\)", re.I)
_HTTP_METHOD = re.compile(r"@Http(Get|Post|Put|Patch|Delete)\b(.*?)\{(.*?)\}", re.I | re.S)
_RETURN = re.compile(r"\breturn\s+(.+?)\s*;", re.S)


def rest_resources(org):
    """[(urlMapping, ApexClass row, {METHOD: body text})] of the org's @RestResource classes."""
    out = []
    for row in org.tables["ApexClass"].values():
        found = _REST_RESOURCE.search(row.get("Body") or "")
        if not found:
            continue
        methods = {m.group(1).upper(): m.group(3) for m in _HTTP_METHOD.finditer(row["Body"])}
        out.append((found.group(1), row, methods))
    return out


def _mapping_matches(mapping, path):
    pattern = "^" + re.escape(mapping.rstrip("/")).replace(r"\*", ".*") + "/?$"
    return re.match(pattern, path.rstrip("/") or "/") is not None


def literal_value(body):
    """The literal a method returns (enough for probes): a string, number, boolean or null."""
    found = _RETURN.search(body or "")
    if not found:
        return None
    text = found.group(1).strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("\\'", "'")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return None


def apex_rest(org, user, method, path):
    """(status, JSON body) of an Apex REST call below /services/apexrest."""
    for mapping, row, methods in rest_resources(org):
        if not _mapping_matches(mapping, path):
            continue
        if not (org.has_permission(user, "AuthorApex") or has_entity(org, user, row["Id"])):
            return 403, [{"errorCode": "FORBIDDEN",
                          "message": "You do not have access to the Apex class named: %s" % row["Name"]}]
        if method not in methods:
            return 405, [{"errorCode": "METHOD_NOT_ALLOWED", "message": "HTTP Method '%s' not allowed. Allowed are %s"
                          % (method, ",".join(sorted(methods)) or "none")}]
        return 200, literal_value(methods[method])
    return 404, [{"errorCode": "NOT_FOUND", "message": "Could not find a match for URL"}]


def serve_apex_rest(app, request, method, path, state):
    """``/services/apexrest/...``: authenticated and counted like the REST API (one call each)."""
    from .faults import FaultRequest, limit_exceeded
    from .http_util import Answer
    from .server import _bearer, _sleep
    token = _bearer(request)
    with app.estate.lock:
        org, user = app.resolve_token(token)
    if org is None:
        raise SFError(401, "INVALID_SESSION_ID", "Session expired or invalid")
    state["limit_org"] = org
    routed = "GET" if method == "HEAD" else method
    fault = FaultRequest(routed, path, org.name)
    app.faults.check_session(fault, token)
    _sleep(app, fault)
    with app.estate.lock:
        if org.api_used >= org.api_daily_limit:
            raise limit_exceeded()
        app.faults.check_errors(fault)
        org.count_call("%s /apexrest" % method)
        from . import usage
        usage.record_call(org, token, user, routed, "ApexREST", "", path[len("/services"):], None)
        status, body = apex_rest(org, user, routed, path[len("/services/apexrest"):] or "/")
    return Answer(status, body)


# ---- estate loading (called from sfemu.estate._Loader) ----------------------------------------------
def load(loader):
    """Connected applications, custom permissions, Visualforce pages, record types, setup access,
    profile-only settings and OAuth tokens of one org spec."""
    org, spec = loader.org, loader.spec
    settings = model(org)
    now = loader.estate.now
    # A generator of its own: what the loader draws next (records) stays what it was before issue 12.
    rng = random.Random("%s:%s:setup" % (loader.estate.seed, spec["name"]))

    def days_ago(low, high):
        return (now - datetime.timedelta(seconds=rng.uniform(low * 86400, high * 86400))).replace(microsecond=0)
    stamps = lambda created: {"CreatedDate": created, "LastModifiedDate": created,  # noqa: E731
                              "SystemModstamp": created}
    for app in org.connected_apps:
        app_spec = next(a for a in spec.get("connected_apps") or [] if a["name"] == app["name"])
        row = loader.insert("ConnectedApplication", {}, trusted=dict(
            stamps(days_ago(100, 900)), Name=app["name"],
            OptionsAllowAdminApprovedUsersOnly=bool(app_spec.get("admin_approved", False)),
            RefreshTokenValidityPeriod=None, MobileSessionTimeout=None, PinLength=None),
            what="connected app %s" % app["name"])
        app["id"] = row["Id"]
    for cp in spec.get("custom_permissions") or []:
        loader.insert("CustomPermission", {}, trusted=dict(
            stamps(days_ago(30, 700)), DeveloperName=cp["name"], MasterLabel=cp.get("label") or cp["name"],
            Language="en_US", Description=cp.get("description"), NamespacePrefix=cp.get("namespace")),
            what="custom permission %s" % cp["name"])
    for page in spec.get("apex_pages") or []:
        loader.insert("ApexPage", {}, trusted=dict(
            stamps(days_ago(30, 900)), Name=page["name"], MasterLabel=page.get("label") or page["name"],
            Markup=page.get("markup") or "<apex:page></apex:page>", ControllerType=page.get("controller_type", "0"),
            ControllerKey=page.get("controller"), ApiVersion=float(page.get("api_version", 59.0)),
            Description=page.get("description"), NamespacePrefix=page.get("namespace")),
            what="Visualforce page %s" % page["name"])
    record_types = {}
    for rt in spec.get("record_types") or []:
        odef = org.object_def(rt.get("object"))
        if odef is None or odef.setup:
            loader.fail("record type %s: %r is not a data object of this org" % (rt.get("name"), rt.get("object")))
        row = loader.insert("RecordType", {}, trusted=dict(
            stamps(days_ago(30, 900)), Name=rt.get("label") or rt["name"], DeveloperName=rt["name"],
            SobjectType=odef.name, IsActive=bool(rt.get("active", True)), Description=rt.get("description")),
            what="record type %s" % rt["name"])
        record_types[(odef.name.lower(), rt["name"].lower())] = row
        if "recordtypeid" not in odef.fields:
            org.add_object(with_record_type_field(odef))
    if not grants_on(spec):
        return
    for kind, table in (("profile", loader.profiles), ("permission set", loader.permission_sets)):
        specs = spec.get("profiles" if kind == "profile" else "permission_sets") or []
        for item in specs:
            owner = "%s %s" % (kind, item["name"])
            parent = table[item["name"].lower()]
            pset = org.profile_permission_set(parent["Id"]) if kind == "profile" else parent
            _load_setup_access(loader, org, item, owner, pset)
            _load_record_types(loader, settings, item, owner, parent, kind, record_types)
            if kind == "profile":
                _load_profile_settings(loader, settings, item, owner, parent)
            elif item.get("login_ip_ranges") or item.get("login_hours"):
                loader.fail("%s: login IP ranges and login hours are set on profiles only" % owner)
    for user_spec in spec.get("users") or []:
        for token in user_spec.get("oauth_tokens") or []:
            app = next((a for a in org.connected_apps if a["name"] == token.get("app")), None)
            if app is None:
                loader.fail("user %s: oauth token of unknown connected app %r"
                            % (user_spec["username"], token.get("app")))
            user = org.find_user(user_spec["username"])
            last_used = token.get("last_used_days_ago")
            loader.insert("OauthToken", {}, trusted={
                "AppName": app["name"], "UserId": user["Id"], "UseCount": int(token.get("use_count", 1)),
                "CreatedDate": days_ago(100, 400),
                "LastUsedDate": (now - datetime.timedelta(days=float(last_used))).replace(microsecond=0)
                if last_used is not None else None,
                "DeleteToken": None, "RequestToken": None, "AppMenuItemId": None},
                what="user %s: oauth token" % user_spec["username"])


def grants_on(spec):
    """False when the org spec says `setup_access_grants: false`: its apps, classes, custom permissions and
    record types exist, but no profile or permission set grants them, no profile restricts logins and no
    user holds an OAuth token (an estate's switch until the collection carries these)."""
    return bool(spec.get("setup_access_grants", True))


def with_record_type_field(odef):
    """Copy of a data object with RecordTypeId: Salesforce adds the field once the object has record types."""
    import copy
    from .schema import FieldDef
    clone = copy.copy(odef)
    clone.fields = dict(odef.fields)
    clone.fields["recordtypeid"] = FieldDef("RecordTypeId", "reference", ["RecordType"], "RecordType",
                                            label="Record Type ID")
    return clone


def _load_setup_access(loader, org, item, owner, pset):
    for key, names in (item.get("setup_access") or {}).items():
        if key not in ESTATE_KEYS:
            loader.fail("%s: setup_access keys are %s, not %r" % (owner, ", ".join(ESTATE_KEYS), key))
        object_name = ESTATE_KEYS[key][0]
        for name in names or []:
            entity = entity_by_name(org, object_name, name)
            if entity is None:
                loader.fail("%s: setup_access %s: %r is not declared in this org" % (owner, key, name))
            loader.insert("SetupEntityAccess", {"ParentId": pset["Id"], "SetupEntityId": entity["Id"]},
                          what="%s: setup access to %s" % (owner, name))


def _load_record_types(loader, settings, item, owner, parent, kind, record_types):
    for object_name, visibility in (item.get("record_types") or {}).items():
        if kind == "profile":
            visibility = visibility or {}
            visible, default = visibility.get("visible") or [], visibility.get("default")
        else:
            visible, default = visibility or [], None
            if isinstance(visibility, dict):
                loader.fail("%s: a permission set grants record types as a list (defaults are set on profiles)" % owner)
        ids = set()
        for name in visible:
            rt = record_types.get((str(object_name).lower(), str(name).lower()))
            if rt is None:
                loader.fail("%s: record type %s.%s is not declared" % (owner, object_name, name))
            ids.add(rt["Id"])
            canonical = rt["SobjectType"]
        if not ids:
            continue
        settings.record_types.setdefault(parent["Id"], {})[canonical] = ids
        if default is not None:
            rt = record_types.get((str(object_name).lower(), str(default).lower()))
            if rt is None or rt["Id"] not in ids:
                loader.fail("%s: default record type %s.%s must be one of its visible ones"
                            % (owner, object_name, default))
            settings.default_record_type.setdefault(parent["Id"], {})[canonical] = rt["Id"]


def _minutes(text, owner):
    found = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text).strip())
    if not found or int(found.group(1)) > 24 or int(found.group(2)) > 59:
        raise ValueError("%s: login hours are HH:MM-HH:MM, not %r" % (owner, text))
    return int(found.group(1)) * 60 + int(found.group(2))


def _load_profile_settings(loader, settings, item, owner, profile):
    ranges = []
    for entry in item.get("login_ip_ranges") or []:
        try:
            start, end = ipaddress.ip_address(str(entry["start"])), ipaddress.ip_address(str(entry["end"]))
        except (KeyError, ValueError):
            loader.fail("%s: login IP range %r needs valid start and end addresses" % (owner, entry))
        if start.version != end.version or start > end:
            loader.fail("%s: login IP range %s-%s: the start must not follow the end" % (owner, start, end))
        ranges.append((str(start), str(end), entry.get("description")))
    if ranges:
        settings.login_ip_ranges[profile["Id"]] = ranges
    hours = {}
    for day, window in (item.get("login_hours") or {}).items():
        if str(day).lower() not in DAYS:
            loader.fail("%s: login hours are keyed by day name (monday...), not %r" % (owner, day))
        try:
            start, _, end = str(window).partition("-")
            hours[str(day).lower()] = (_minutes(start, owner), _minutes(end, owner))
        except ValueError as err:
            loader.fail(str(err))
    if hours:
        settings.login_hours[profile["Id"]] = hours


def entity_ids(org, user):
    """For tests and the admin dump: {SetupEntityType: sorted names} the user reaches."""
    out = {}
    for rid in model(org).entities_of(user):
        kind = org.id_owner.get(rid)
        row = org.tables[kind][rid]
        out.setdefault(kind, []).append(row.get("Name") or row.get("DeveloperName"))
    return {kind: sorted(names) for kind, names in out.items()}

