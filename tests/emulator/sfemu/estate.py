"""The estate: every org the emulator serves, loaded from the YAML estate file.

Loading goes through the org's own DML (system context), so an estate that breaks a Salesforce rule
(more active users than seats, a permission set of another license...) fails to load with a message
naming the org and the record, instead of producing an org Salesforce could never have.

Estate schema (`estates/example.yml` shows most keys; every key but `name` is optional):

    orgs:
      - name: acme-prod                  # unique in the estate
        edition: Enterprise              # Developer | Professional | Enterprise | Unlimited | Performance
        sandbox: false
        my_domain: acme                  # a sandbox copy gets acme--uat
        company: Acme Corporation        # Organization.Name (default: from the org name)
        api_daily_limit: 100000          # default: by edition and Salesforce seats (sandbox: 5,000,000)
        allow_license_change_to_integration: true   # false: ProfileId changes onto the Salesforce
                                         # Integration license fail with FIELD_INTEGRITY_EXCEPTION
        setup_access_grants: true        # false: setup_access, record_types, login_ip_ranges, login_hours of
                                         # profiles/permission sets and users' oauth_tokens are ignored (issue 12)
        auto_assign_integration_psl: false   # true: moving a user onto the integration license also
                                         # assigns the SalesforceAPIIntegrationPsl PSL (disputed behaviour)
        require_security_token: true     # false: the password flow accepts the password alone
        password: "..."                  # default password of this org's users (else one per user, by seed)
        admin: admin@acme.example        # the org's admin (default: first active ModifyAllData user)
        licenses: {Salesforce: 40, Salesforce Integration: 5}             # user license -> seats
        permission_set_licenses: {DevName: {label: ..., total: 5, expiration: 2027-01-31}}
        profiles:     [{name, license, permissions: [ApiEnabled...], object_permissions: {Account: crud},
                        field_permissions: {Account.Industry: rw}, description,
                        setup_access: {connected_apps: [..], apex_classes: [..], apex_pages: [..],
                                       custom_permissions: [..], flows: [..]},     # SetupEntityAccess rows
                        record_types: {Account: {visible: [Partner], default: Partner}},
                        login_ip_ranges: [{start: 10.0.0.1, end: 10.0.0.255, description}],
                        login_hours: {monday: "08:00-18:00", ...}}]    # org time zone; a day left out: any time
        permission_sets: [{name, label, license: <user license | PSL name or label | null>, permissions,
                        object_permissions, field_permissions, description, namespace,
                        setup_access: {...}, record_types: {Account: [Partner]}}]   # visibility only
        users:        [{username, profile, first_name, last_name, email, alias, active, title, department,
                        permission_sets: [...], permission_set_licenses: [...], password,
                        logins: {ui: N, api: N, sso: N},       # LoginHistory over the last 90 days
                        oauth_tokens: [{app, use_count, last_used_days_ago}]}]   # OauthToken rows
        connected_apps: [{name, client_id, client_secret: <text | generate>,
                        certificate: <PEM | generate>, run_as: username,
                        admin_approved: false}]    # true: "Admin approved users are pre-authorized"
        custom_permissions: [{name, label, description}]
        apex_pages:   [{name, label, markup, controller}]
        record_types: [{object, name, label, active, description}]   # adds RecordTypeId to the object
        apex_classes: [{name, body, api_version, namespace}]
        apex_triggers: [{name, object, body}]
        validation_rules: [{object, name, active, formula, error_message, error_field}]  # enforced on API
                                         # writes for the formula subset of sfemu.store_formula
        flows:        [{name, label, active, process_type, formulas: [...]}]
        formula_fields: [{object, name, type: Checkbox|Text|Number|..., formula}]   # Tooling CustomField
        custom_settings: [{name: X__c, fields: {F__c: boolean}, rows: [{owner: org | profile:NAME |
                        user:USERNAME, fields: {F__c: true}}]}]
        records:      {Account: 25, Contact: 50, Opportunity: 10, Case: 5}
      - name: acme-uat
        sandbox: true
        sandbox_name: uat
        production: acme-prod            # a copy of acme-prod: usernames get ".uat", emails ".invalid",
                                         # client ids ".uat", same record Ids; any key here overrides
"""
import copy
import datetime
import hashlib
import json
import os
import random
import re
import string
import tempfile
import threading

import yaml

from . import setup_access, usage
from .errors import SFError
from .ids import IdFactory
from .objects import (
    DATA_OBJECTS, OBJECT_PERMISSION_FIELDS, SYSTEM_PERMISSIONS, custom_setting_def, field_type_for_value,
    with_extra_fields,
)
from .org import INTEGRATION_LICENSE, Org, utcnow

PRODUCTION_AUDIENCE = "https://login.salesforce.com"
SANDBOX_AUDIENCE = "https://test.salesforce.com"
SANDBOX_API_DAILY_LIMIT = 5000000
LOGIN_WINDOW_DAYS = 90

# Keys of a production org that are the org's own, not copied into its sandboxes.
_ORG_OWN_KEYS = ("name", "sandbox", "sandbox_name", "production", "my_domain", "api_daily_limit", "instance_name")
_LICENSE_KEYS = {"Salesforce": "SFDC", "Salesforce Platform": "AUL", INTEGRATION_LICENSE: "SFDC_INTEGRATION"}
_API_LOGIN_TYPES = ("Remote Access 2.0", "Other Apex API")
# Profiles Salesforce ships (their permission sets have IsCustom = false); estates may say `custom:`.
STANDARD_PROFILES = ("System Administrator", "Standard User", "Read Only", "Minimum Access - Salesforce",
                     "Minimum Access - API Only Integrations", "Salesforce API Only System Integrations",
                     "Standard Platform User", "Contract Manager", "Marketing User", "Solution Manager")


class EstateError(ValueError):
    """The estate file describes something no Salesforce org could hold."""


def api_daily_limit_for(edition, full_licenses, is_sandbox):
    """Default daily API allocation (Salesforce's published figures, see the reference notes)."""
    if is_sandbox:
        return SANDBOX_API_DAILY_LIMIT
    edition = (edition or "Enterprise").lower()
    if edition == "developer":
        return 15000
    if edition in ("unlimited", "performance"):
        return 100000 + 5000 * full_licenses
    return 100000 + 1000 * full_licenses


def _slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


class Estate:
    """Orgs by name, in file order; see CONTRACT.md section Store."""

    def __init__(self, data, seed=0, key_dir=None, now=None, source_path=None, key_material=None):
        if not isinstance(data, dict) or not isinstance(data.get("orgs"), list) or not data["orgs"]:
            raise EstateError("an estate needs a non-empty 'orgs' list")
        self.data = copy.deepcopy(data)
        self.seed = seed
        self.source_path = source_path
        self.key_dir = key_dir
        self.now = now or utcnow()
        self.lock = threading.RLock()
        self.orgs = {}
        self._key_material = dict(key_material or {})
        self._custom_prefixes = {}
        self._build()

    @classmethod
    def from_file(cls, path, seed=0, key_dir=None, now=None, key_material=None):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        return cls(data, seed=seed, key_dir=key_dir, now=now, source_path=path, key_material=key_material)

    @classmethod
    def from_dict(cls, data, seed=0, key_dir=None, now=None, key_material=None):
        return cls(data, seed=seed, key_dir=key_dir, now=now, key_material=key_material)

    def reset(self):
        """Back to the loaded estate; the `orgs` dict object is kept, connected app keys too."""
        with self.lock:
            self._build()

    def _build(self):
        specs = resolve_sandboxes(self.data["orgs"])
        org_ids = IdFactory(pod="00")
        built = {}
        try:
            self._load_all(specs, org_ids, built)
        finally:
            self._loading = None
        self.orgs.clear()
        self.orgs.update(built)

    def _load_all(self, specs, org_ids, built):
        for position, spec in enumerate(specs):
            origin = spec.get("_copy_of", spec["name"])
            origin_position = next(i for i, s in enumerate(specs) if s["name"] == origin)
            # A sandbox copy starts with its production's Ids, as Salesforce sandboxes do; records
            # created later get the sandbox's own pod.
            ids = IdFactory(pod=_pod(origin_position))
            org = Org(self, spec["name"], ids, self.seed, now=self.now)
            built[spec["name"]] = org
            self._loading = built
            _Loader(self, org, spec, org_ids.new("Organization")).load()
            ids.pod = _pod(position)

    # ---- lookups across orgs --------------------------------------------------------------------
    def _all_orgs(self):
        return getattr(self, "_loading", None) or self.orgs

    def username_owner(self, username):
        """The org holding ``username`` (usernames are unique across every org served), or None."""
        for org in self._all_orgs().values():
            if org.username_taken(username):
                return org
        return None

    def org_for_username(self, username):
        return self.username_owner(username)

    def org_for_client_id(self, client_id):
        """(org, connected app dict) for a consumer key, or (None, None)."""
        for org in self._all_orgs().values():
            for app in org.connected_apps:
                if app["client_id"] == client_id:
                    return org, app
        return None, None

    def org_by_host(self, host_prefix):
        """Org by My Domain prefix (`acme`, `acme--uat`, or the org's name)."""
        wanted = (host_prefix or "").lower()
        for org in self.orgs.values():
            if wanted in (org.my_domain.lower(), org.name.lower()):
                return org
        return None

    def custom_prefix(self, object_name):
        """Key prefix of a custom object, stable for the life of the estate (a00, a01...)."""
        if object_name not in self._custom_prefixes:
            n = len(self._custom_prefixes)
            self._custom_prefixes[object_name] = "a0" + (string.digits + string.ascii_uppercase)[n]
        return self._custom_prefixes[object_name]

    def key_material(self, origin, app_name):
        """(private key PEM, certificate PEM) of a connected app, generated once per estate."""
        cache_key = "%s/%s" % (origin, app_name)
        if cache_key not in self._key_material:
            self._key_material[cache_key] = _generate_key_pair(app_name)
        return self._key_material[cache_key]

    def key_directory(self):
        if self.key_dir is None:
            self.key_dir = tempfile.mkdtemp(prefix="sfemu-keys-")
        os.makedirs(self.key_dir, exist_ok=True)
        return self.key_dir

    # ---- persistence ------------------------------------------------------------------------------
    def save_state(self, path):
        with self.lock:
            state = {
                "format": 1, "seed": self.seed, "now": self.now.isoformat(), "estate_path": self.source_path,
                "key_material": self._key_material, "custom_prefixes": self._custom_prefixes,
                "orgs": {name: org.export_state() for name, org in self.orgs.items()},
            }
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle, default=_encode)
        os.replace(tmp, path)

    @classmethod
    def load_state(cls, path, estate_path, seed=None, key_dir=None):
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle, object_hook=_decode)
        estate = cls.from_file(estate_path, seed=state["seed"] if seed is None else seed, key_dir=key_dir,
                               now=datetime.datetime.fromisoformat(state["now"]),
                               key_material=state["key_material"])
        estate._custom_prefixes.update(state.get("custom_prefixes", {}))
        for name, org_state in state["orgs"].items():
            if name in estate.orgs:
                estate.orgs[name].import_state(org_state)
        return estate


def _encode(value):
    if isinstance(value, datetime.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$d": value.isoformat()}
    raise TypeError("cannot save %r" % (value,))


def _decode(obj):
    if len(obj) == 1 and "$dt" in obj:
        return datetime.datetime.fromisoformat(obj["$dt"])
    if len(obj) == 1 and "$d" in obj:
        return datetime.date.fromisoformat(obj["$d"])
    return obj


def _pod(position):
    alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
    return "5" + alphabet[(position + 10) % len(alphabet)]


def _generate_key_pair(app_name):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, app_name)])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=730)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


# ---- sandbox copies ---------------------------------------------------------------------------------
def resolve_sandboxes(org_specs):
    """Org specs with every `production:` sandbox expanded into a copy of its production org."""
    by_name = {}
    for spec in org_specs:
        if not isinstance(spec, dict) or not spec.get("name"):
            raise EstateError("every org needs a name")
        if spec["name"] in by_name:
            raise EstateError("org %s is declared twice" % spec["name"])
        by_name[spec["name"]] = spec
    resolved = []
    for spec in org_specs:
        if not spec.get("production"):
            resolved.append(copy.deepcopy(spec))
            continue
        prod = by_name.get(spec["production"])
        if prod is None or prod.get("production"):
            raise EstateError("%s: production org %r is not a production org of this estate"
                              % (spec["name"], spec["production"]))
        resolved.append(sandbox_copy(prod, spec))
    return resolved


def sandbox_copy(prod, spec):
    sandbox_name = spec.get("sandbox_name") or spec["name"].rsplit("-", 1)[-1]
    suffix = "." + sandbox_name
    merged = {key: copy.deepcopy(value) for key, value in prod.items() if key not in _ORG_OWN_KEYS}
    for user in merged.get("users", []):
        # Salesforce appends .invalid to copied email addresses so sandboxes never mail real people.
        user["email"] = (user.get("email") or user["username"]) + ".invalid"
        user["username"] = user["username"] + suffix
    for app in merged.get("connected_apps", []):
        app["client_id"] = app["client_id"] + suffix
        if app.get("run_as"):
            app["run_as"] = app["run_as"] + suffix
        app["_key_origin"] = prod["name"]
    for setting in merged.get("custom_settings", []):
        for row in setting.get("rows", []):
            if str(row.get("owner", "")).startswith("user:"):
                row["owner"] = row["owner"] + suffix
    if merged.get("admin"):
        merged["admin"] = merged["admin"] + suffix
    merged["my_domain"] = "%s--%s" % (prod.get("my_domain") or prod["name"], sandbox_name)
    merged.update(copy.deepcopy({key: value for key, value in spec.items() if key != "production"}))
    merged["sandbox"] = True
    merged["sandbox_name"] = sandbox_name
    merged["_copy_of"] = prod["name"]
    return merged


# ---- loading one org --------------------------------------------------------------------------------
class _Loader:
    def __init__(self, estate, org, spec, org_id):
        self.estate, self.org, self.spec = estate, org, spec
        self.org_id = org_id
        self.rng = random.Random("%s:%s" % (estate.seed, spec["name"]))
        self.profiles, self.permission_sets, self.user_licenses, self.psls = {}, {}, {}, {}
        self.context = spec["name"]

    def fail(self, message):
        raise EstateError("%s: %s" % (self.context, message))

    def insert(self, object_name, fields, trusted=None, what=None):
        try:
            return self.org.insert_system(object_name, fields, trusted)
        except SFError as err:
            self.fail("%s: %s: %s" % (what or object_name, err.error_code, err.message))

    def load(self):
        org, spec = self.org, self.spec
        org.is_sandbox = bool(spec.get("sandbox", False))
        org.sandbox_name = spec.get("sandbox_name")
        org.production = spec.get("_copy_of") or spec.get("production")
        org.edition = spec.get("edition", "Enterprise")
        org.my_domain = spec.get("my_domain") or spec["name"]
        org.allow_license_change_to_integration = bool(spec.get("allow_license_change_to_integration", True))
        org.require_security_token = bool(spec.get("require_security_token", True))
        org.auto_assign_integration_psl = bool(spec.get("auto_assign_integration_psl", False))
        org.audience = SANDBOX_AUDIENCE if org.is_sandbox else PRODUCTION_AUDIENCE
        org.instance_name = spec.get("instance_name") or "%s%d" % (
            "CS" if org.is_sandbox else "NA", self.rng.randrange(10, 230))
        org.org_id = self.org_id
        self.load_organization()
        self.load_licenses()
        self.load_profiles()
        self.load_permission_sets()
        self.load_users()
        self.backfill_audit_fields()
        org.api_daily_limit = int(spec.get("api_daily_limit") or api_daily_limit_for(
            org.edition, self.full_license_total(), org.is_sandbox))
        self.load_connected_apps()
        self.load_code()
        setup_access.load(self)
        usage.load(self)
        self.load_custom_settings()
        self.load_records()
        org._journal.clear()

    def full_license_total(self):
        lic = self.user_licenses.get("salesforce")
        return lic["TotalLicenses"] if lic else 0

    def days_ago(self, low, high):
        seconds = self.rng.uniform(low * 86400, high * 86400)
        return (self.estate.now - datetime.timedelta(seconds=seconds)).replace(microsecond=0)

    def load_organization(self):
        spec, org = self.spec, self.org
        row = {"Id": self.org_id, "Name": spec.get("company") or spec["name"].replace("-", " ").title(),
               "OrganizationType": "%s Edition" % org.edition, "IsSandbox": org.is_sandbox,
               "InstanceName": org.instance_name, "NamespacePrefix": None, "Division": None,
               "PrimaryContact": None, "Country": "US", "DefaultLocaleSidKey": "en_US",
               "LanguageLocaleKey": "en_US", "TimeZoneSidKey": "America/Los_Angeles", "TrialExpirationDate": None,
               "CreatedDate": self.days_ago(700, 2000), "CreatedById": None, "SystemModstamp": self.estate.now,
               "LastModifiedDate": self.estate.now, "LastModifiedById": None}
        org._put("Organization", row)

    def load_licenses(self):
        created = self.days_ago(600, 700)
        for name, total in (self.spec.get("licenses") or {}).items():
            row = self.insert("UserLicense", {}, trusted={
                "Name": name, "MasterLabel": name, "Status": "Active", "TotalLicenses": int(total),
                "UsedLicenses": 0, "LicenseDefinitionKey": _LICENSE_KEYS.get(name, "PID_" + _slug(name)),
                "UsedLicensesLastUpdated": self.estate.now, "CreatedDate": created, "LastModifiedDate": created,
                "SystemModstamp": created}, what="license %s" % name)
            self.user_licenses[name.lower()] = row
        for dev_name, psl in (self.spec.get("permission_set_licenses") or {}).items():
            psl = psl or {}
            expiration = psl.get("expiration")
            row = self.insert("PermissionSetLicense", {}, trusted={
                "DeveloperName": dev_name, "MasterLabel": psl.get("label", dev_name), "Language": "en_US",
                "Status": psl.get("status", "Active"), "TotalLicenses": int(psl.get("total", 0)), "UsedLicenses": 0,
                "ExpirationDate": datetime.date.fromisoformat(str(expiration)) if expiration else None,
                "PermissionSetLicenseKey": dev_name, "CreatedDate": created, "LastModifiedDate": created,
                "SystemModstamp": created}, what="permission set license %s" % dev_name)
            self.psls[dev_name.lower()] = row
            self.psls[row["MasterLabel"].lower()] = row

    def license_id(self, name, owner, allow_psl=False):
        if name is None:
            return None
        lic = self.user_licenses.get(str(name).lower())
        if lic is None and allow_psl:
            lic = self.psls.get(str(name).lower())
        if lic is None:
            self.fail("%s: unknown license %r (declare it under licenses%s)"
                      % (owner, name, " or permission_set_licenses" if allow_psl else ""))
        return lic["Id"]

    def permission_fields(self, names, owner):
        out = {}
        for name in names or []:
            if name not in SYSTEM_PERMISSIONS:
                self.fail("%s: unknown permission %r (known: %s)" % (owner, name, ", ".join(SYSTEM_PERMISSIONS)))
            out["Permissions" + name] = True
        return out

    def load_profiles(self):
        for spec in self.spec.get("profiles") or []:
            owner = "profile %s" % spec["name"]
            license_id = self.license_id(spec.get("license", "Salesforce"), owner)
            perms = self.permission_fields(spec.get("permissions"), owner)
            created = self.days_ago(300, 600)
            stamps = {"CreatedDate": created, "LastModifiedDate": created, "SystemModstamp": created}
            profile = self.insert("Profile", dict(perms, Name=spec["name"], Description=spec.get("description")),
                                  trusted=dict(stamps, UserLicenseId=license_id, UserType="Standard"), what=owner)
            pset = self.insert("PermissionSet", dict(perms, Name="X" + profile["Id"][:15], Label=profile["Id"][:15]),
                               trusted=dict(stamps, IsOwnedByProfile=True, ProfileId=profile["Id"],
                                            LicenseId=license_id,
                                            IsCustom=bool(spec.get("custom", spec["name"] not in STANDARD_PROFILES)),
                                            Type="Profile"), what=owner)
            self.profiles[spec["name"].lower()] = profile
            self.add_access(pset, spec, owner)

    def add_access(self, pset, spec, owner):
        for sobject, letters in (spec.get("object_permissions") or {}).items():
            fields = {"ParentId": pset["Id"], "SobjectType": sobject}
            for letter in str(letters).lower():
                if letter not in OBJECT_PERMISSION_FIELDS:
                    self.fail("%s: object permission letters are c r u d v m, not %r" % (owner, letter))
                fields[OBJECT_PERMISSION_FIELDS[letter]] = True
            self.insert("ObjectPermissions", fields, what="%s: %s object permissions" % (owner, sobject))
        for field_name, access in (spec.get("field_permissions") or {}).items():
            sobject = field_name.split(".", 1)[0]
            self.insert("FieldPermissions", {
                "ParentId": pset["Id"], "SobjectType": sobject, "Field": field_name,
                "PermissionsRead": "r" in str(access), "PermissionsEdit": any(c in str(access) for c in "ewu")},
                what="%s: %s field permissions" % (owner, field_name))

    def load_permission_sets(self):
        for spec in self.spec.get("permission_sets") or []:
            owner = "permission set %s" % spec["name"]
            fields = dict(self.permission_fields(spec.get("permissions"), owner), Name=spec["name"],
                          Label=spec.get("label") or spec["name"].replace("_", " "),
                          Description=spec.get("description"),
                          LicenseId=self.license_id(spec.get("license"), owner, allow_psl=True))
            created = self.days_ago(30, 500)
            pset = self.insert("PermissionSet", fields, trusted={
                "CreatedDate": created, "LastModifiedDate": created, "SystemModstamp": created,
                "NamespacePrefix": spec.get("namespace")}, what=owner)
            self.permission_sets[spec["name"].lower()] = pset
            self.add_access(pset, spec, owner)

    def credentials_for(self, user_spec):
        digest = hashlib.sha256(("%s:%s" % (self.estate.seed, user_spec["username"])).encode()).hexdigest()
        alphabet = string.ascii_letters + string.digits
        token = "".join(alphabet[int(digest[i:i + 2], 16) % len(alphabet)] for i in range(0, 48, 2))
        password = user_spec.get("password") or self.spec.get("password") or "Emu-%s-1a" % digest[48:60]
        return {"password": str(password), "security_token": token}

    def load_users(self):
        specs = self.spec.get("users") or []
        users = []
        for spec in specs:
            self.context = "%s: user %s" % (self.spec["name"], spec.get("username"))
            profile = self.profiles.get(str(spec.get("profile", "")).lower())
            if profile is None:
                self.fail("unknown profile %r" % spec.get("profile"))
            last = spec.get("last_name") or spec["username"].split("@")[0].split(".")[-1].title()
            first = spec.get("first_name")
            created = self.days_ago(100, 1500)
            fields = {
                "Username": spec["username"], "LastName": last, "FirstName": first,
                "Email": spec.get("email") or spec["username"],
                "Alias": spec.get("alias") or ((first or "")[:1] + last)[:8].lower(),
                "IsActive": bool(spec.get("active", True)), "ProfileId": profile["Id"],
                "Title": spec.get("title"), "Department": spec.get("department"),
                "CompanyName": spec.get("company"), "FederationIdentifier": spec.get("federation_id"),
            }
            for key, field in (("time_zone", "TimeZoneSidKey"), ("locale", "LocaleSidKey"),
                               ("language", "LanguageLocaleKey")):
                if spec.get(key):
                    fields[field] = spec[key]
            user = self.insert("User", fields, trusted={
                "CreatedDate": created, "LastModifiedDate": created, "SystemModstamp": created,
                "LastPasswordChangeDate": created}, what="user")
            self.org.credentials[user["Id"]] = self.credentials_for(spec)
            users.append((spec, user))
            if self.org.admin_user_id is None and self.is_admin(spec, user):
                self.org.admin_user_id = user["Id"]
        for spec, user in users:
            self.context = "%s: user %s" % (self.spec["name"], spec["username"])
            for psl_name in spec.get("permission_set_licenses") or []:
                psl = self.psls.get(str(psl_name).lower())
                if psl is None:
                    self.fail("unknown permission set license %r" % psl_name)
                self.insert("PermissionSetLicenseAssign",
                            {"AssigneeId": user["Id"], "PermissionSetLicenseId": psl["Id"]},
                            what="permission set license %s" % psl_name)
            for set_name in spec.get("permission_sets") or []:
                pset = self.permission_sets.get(str(set_name).lower())
                if pset is None:
                    self.fail("unknown permission set %r" % set_name)
                self.insert("PermissionSetAssignment", {"AssigneeId": user["Id"], "PermissionSetId": pset["Id"]},
                            what="permission set %s" % set_name)
            self.load_logins(spec, user)
        self.context = self.spec["name"]
        if self.org.admin_user_id is None and users:
            self.org.admin_user_id = users[0][1]["Id"]

    def backfill_audit_fields(self):
        """Setup rows loaded before any user existed were created by the org's admin."""
        admin = self.org.admin_user_id
        users = self.org.tables["User"]
        for object_name, table in self.org.tables.items():
            for rid, row in list(table.items()):
                if row.get("CreatedById", admin) not in users or row.get("LastModifiedById", admin) not in users:
                    self.org._put(object_name, dict(row, CreatedById=admin, LastModifiedById=admin))

    def is_admin(self, spec, user):
        wanted = self.spec.get("admin")
        if wanted:
            return spec["username"].lower() == str(wanted).lower()
        return user["IsActive"] and self.org.has_permission(user, "ModifyAllData")

    def load_logins(self, spec, user):
        logins = spec.get("logins") or {}
        # OAuth logins go through the apps the user holds tokens for, else through any app that does not
        # need pre-authorization (nobody logs in through an admin-approved app without access to it).
        apps = self.spec.get("connected_apps") or []
        tokens = spec.get("oauth_tokens") if setup_access.grants_on(self.spec) else None
        app_names = ([token.get("app") for token in tokens or []]
                     or [app["name"] for app in apps if not app.get("admin_approved")]
                     or [app["name"] for app in apps] or ["Salesforce CLI"])
        # Each integration tends to use one API login type; humans log in through the browser.
        api_type = self.rng.choice(_API_LOGIN_TYPES)
        events = []
        for kind, count in logins.items():
            for _ in range(int(count or 0)):
                events.append((self.days_ago(0.01, LOGIN_WINDOW_DAYS), kind))
        last_success = None
        for when, kind in sorted(events):
            quiet = {"login_time": when, "update_last_login": False}
            if kind == "ui":
                status = "Invalid Password" if self.rng.random() < 0.03 else "Success"
                self.org.record_login(user["Id"], "Application", status, "Browser", **quiet,
                                      browser="Chrome %d" % self.rng.randrange(118, 131),
                                      platform=self.rng.choice(("Mac OSX", "Windows 10", "Windows 11")),
                                      source_ip="198.51.100.%d" % self.rng.randrange(1, 254))
            elif kind == "api":
                login_type = api_type if self.rng.random() < 0.9 else self.rng.choice(_API_LOGIN_TYPES)
                if login_type == "Remote Access 2.0":
                    self.org.record_login(user["Id"], login_type, "Success", self.rng.choice(app_names),
                                          api_type="N/A", api_version="N/A", **quiet,
                                          source_ip="203.0.113.%d" % self.rng.randrange(1, 254))
                else:
                    self.org.record_login(user["Id"], login_type, "Success", "N/A", api_type="SOAP Partner",
                                          api_version="%d.0" % self.rng.randrange(52, 63), **quiet,
                                          source_ip="203.0.113.%d" % self.rng.randrange(1, 254))
            elif kind == "sso":
                self.org.record_login(user["Id"], "SAML Sfdc Initiated SSO", "Success", "Browser", **quiet,
                                      browser="Chrome 124", platform="Windows 11")
            else:
                self.fail("logins keys are ui, api and sso, not %r" % kind)
            if kind != "ui" or status == "Success":
                last_success = when
        if last_success:
            self.org._put("User", dict(user, LastLoginDate=last_success))

    def load_connected_apps(self):
        for spec in self.spec.get("connected_apps") or []:
            self.context = "%s: connected app %s" % (self.spec["name"], spec.get("name"))
            run_as = None
            if spec.get("run_as"):
                user = self.org.find_user(spec["run_as"])
                if user is None:
                    self.fail("run_as user %r is not a user of this org" % spec["run_as"])
                run_as = user["Id"]
            if self.estate.org_for_client_id(spec["client_id"])[0] is not None or any(
                    app["client_id"] == spec["client_id"] for app in self.org.connected_apps):
                self.fail("client_id %r is already used" % spec["client_id"])
            secret = spec.get("client_secret")
            if secret == "generate":
                secret = hashlib.sha256(("%s:%s:%s" % (self.estate.seed, self.spec["name"], spec["name"]))
                                        .encode()).hexdigest().upper()
            app = {"name": spec["name"], "client_id": spec["client_id"], "client_secret": secret,
                   "certificate_pem": None, "private_key_file": None, "run_as": run_as,
                   "scopes": spec.get("scopes", ["api", "refresh_token"])}
            if spec.get("certificate") == "generate":
                key_pem, cert_pem = self.estate.key_material(spec.get("_key_origin", self.spec["name"]), spec["name"])
                key_file = os.path.join(self.estate.key_directory(),
                                        "%s-%s.key" % (self.spec["name"], _slug(spec["name"])))
                with open(key_file, "w", encoding="utf-8") as handle:
                    handle.write(key_pem)
                os.chmod(key_file, 0o600)
                app.update(certificate_pem=cert_pem, private_key_file=key_file)
            elif spec.get("certificate"):
                app["certificate_pem"] = spec["certificate"]
            self.org.connected_apps.append(app)
        self.context = self.spec["name"]

    def load_code(self):
        now = self.estate.now
        for spec in self.spec.get("apex_classes") or []:
            created = self.days_ago(30, 900)
            self.insert("ApexClass", {}, trusted=dict(
                _code_fields(spec, created), Status="Active", IsValid=True), what="Apex class %s" % spec["name"])
        for spec in self.spec.get("apex_triggers") or []:
            created = self.days_ago(30, 900)
            events = re.search(r"\(([^)]*)\)", spec.get("body", "")) or None
            events = events.group(1).lower() if events else ""
            self.insert("ApexTrigger", {}, trusted=dict(
                _code_fields(spec, created), Status="Active", IsValid=True, TableEnumOrId=spec["object"],
                UsageBeforeInsert="before insert" in events, UsageAfterInsert="after insert" in events,
                UsageBeforeUpdate="before update" in events, UsageAfterUpdate="after update" in events),
                what="Apex trigger %s" % spec["name"])
        for spec in self.spec.get("validation_rules") or []:
            message = spec.get("error_message", "%s failed validation" % spec["name"].replace("_", " "))
            metadata = {"active": bool(spec.get("active", True)), "description": spec.get("description"),
                        "errorConditionFormula": spec["formula"], "errorDisplayField": spec.get("error_field"),
                        "errorMessage": message, "shouldEvaluateOnClient": None, "urls": None}
            self.insert("ValidationRule", {}, trusted={
                "ValidationName": spec["name"], "Active": bool(spec.get("active", True)),
                "EntityDefinitionId": spec["object"], "ErrorDisplayField": spec.get("error_field"),
                "ErrorMessage": message, "Description": spec.get("description"), "NamespacePrefix": None,
                "Metadata": metadata, "FullName": "%s.%s" % (spec["object"], spec["name"]),
                "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now}, what="validation rule")
        for spec in self.spec.get("flows") or []:
            self.load_flow(spec)
        extra_fields = {}
        for spec in self.spec.get("formula_fields") or []:
            name = spec["name"] if spec["name"].endswith("__c") else spec["name"] + "__c"
            ftype = spec.get("type", "Text")
            extra_fields.setdefault(spec["object"], {})[name] = {
                "Checkbox": "boolean", "Number": "double", "Currency": "currency", "Date": "date"}.get(ftype, "string")
            self.insert("CustomField", {}, trusted={
                "DeveloperName": name[:-3], "TableEnumOrId": spec["object"], "NamespacePrefix": None,
                "Description": spec.get("description"), "FullName": "%s.%s" % (spec["object"], name),
                "Metadata": {"formula": spec["formula"], "type": ftype, "label": name[:-3].replace("_", " "),
                             "fullName": None},
                "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now}, what="formula field %s" % name)
        for sobject, fields in extra_fields.items():
            odef = self.org.object_def(sobject)
            if odef is None:
                self.fail("formula field on unknown object %r" % sobject)
            self.org.add_object(with_extra_fields(odef, fields))

    def load_flow(self, spec):
        now = self.estate.now
        label = spec.get("label") or spec["name"].replace("_", " ")
        active = bool(spec.get("active", True))
        process_type = spec.get("process_type", "AutoLaunchedFlow")
        definition_id = self.org.new_id("FlowDefinition")
        flow = self.insert("Flow", {}, trusted={
            "MasterLabel": label, "Status": "Active" if active else "Draft", "ProcessType": process_type,
            "DefinitionId": definition_id, "VersionNumber": 1, "Description": spec.get("description"),
            "ApiVersion": 59.0, "FullName": "%s-1" % spec["name"],
            "Metadata": {"label": label, "processType": process_type, "status": "Active" if active else "Draft",
                         "formulas": [{"name": "Formula_%d" % (i + 1), "dataType": "Boolean", "expression": formula}
                                      for i, formula in enumerate(spec.get("formulas") or [])],
                         "decisions": [], "recordLookups": []},
            "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now}, what="flow %s" % spec["name"])
        self.insert("FlowDefinition", {}, trusted={
            "Id": definition_id, "DeveloperName": spec["name"], "MasterLabel": label,
            "Description": spec.get("description"), "NamespacePrefix": None,
            "ActiveVersionId": flow["Id"] if active else None, "LatestVersionId": flow["Id"],
            "FullName": spec["name"], "Metadata": {"activeVersionNumber": 1 if active else None,
                                                   "description": spec.get("description")},
            "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now}, what="flow %s" % spec["name"])

    def load_custom_settings(self):
        for spec in self.spec.get("custom_settings") or []:
            name = spec["name"]
            if not name.endswith("__c"):
                self.fail("custom setting %r: API names end with __c" % name)
            field_types = dict(spec.get("fields") or {})
            for row in spec.get("rows") or []:
                for fname, value in (row.get("fields") or {}).items():
                    field_types.setdefault(fname, field_type_for_value(value))
            self.org.add_object(custom_setting_def(name, field_types))
            for row in spec.get("rows") or []:
                owner_id, owner_label = self.setting_owner(row.get("owner", "org"), name)
                self.insert(name, dict(row.get("fields") or {}, Name=owner_label, SetupOwnerId=owner_id),
                            what="custom setting %s" % name)

    def setting_owner(self, owner, setting):
        kind, _, value = str(owner).partition(":")
        if kind == "org":
            return self.org.org_id, self.org.name
        if kind == "profile" and value.lower() in self.profiles:
            return self.profiles[value.lower()]["Id"], value
        if kind == "user" and self.org.find_user(value):
            return self.org.find_user(value)["Id"], value
        self.fail("custom setting %s: owner %r is not org, profile:NAME or user:USERNAME of this org"
                  % (setting, owner))

    def load_records(self):
        counts = self.spec.get("records") or {}
        for name in counts:
            if name not in DATA_OBJECTS:
                self.fail("records: %r is not one of %s" % (name, ", ".join(DATA_OBJECTS)))
        from .store_data import generate_records
        generate_records(self.org, counts, self.rng, self.estate.now, self.insert)


def _code_fields(spec, created):
    body = spec.get("body", "")
    without_comments = re.sub(r"/\*.*?\*/|//[^\n]*", "", body, flags=re.S)
    return {"Name": spec["name"], "Body": body, "NamespacePrefix": spec.get("namespace"),
            "ApiVersion": float(spec.get("api_version", 59.0)),
            "LengthWithoutComments": len(re.sub(r"\s+", "", without_comments)),
            "BodyCrc": float(int(hashlib.md5(body.encode()).hexdigest()[:8], 16)),
            "CreatedDate": created, "LastModifiedDate": created, "SystemModstamp": created}
