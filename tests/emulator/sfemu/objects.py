"""The ObjectDef of every object the emulator serves, standard and Tooling.

Field names, types and relationship names follow Salesforce's object reference, so that queries
written against a real org (`Profile.UserLicense.Name`, `PermissionSet.License`, child relationships
`PermissionSetAssignments`, `Assignments`, `ObjectPerms`...) work unchanged. Per-org additions
(custom settings, formula fields) are built with `custom_setting_def` and `with_extra_fields`.
"""
import copy

from .schema import ChildRelationship, FieldDef, ObjectDef

# System permissions carried by profiles and permission sets, as `Permissions<Name>` boolean fields.
SYSTEM_PERMISSIONS = (
    "ApiEnabled", "ApiUserOnly", "ModifyAllData", "ViewAllData", "ViewSetup", "ManageUsers",
    "ManageInternalUsers", "AssignPermissionSets", "ManageProfilesPermissionsets", "RunFlow",
    "CustomizeApplication", "AuthorApex", "ViewAllUsers", "ManageDataIntegrations",
    "PasswordNeverExpires", "BulkApiHardDelete", "LightningExperienceUser", "ExportReport",
    "ImportPersonal", "ManageCases", "TransferAnyEntity", "EditTask", "EditEvent", "ConvertLeads",
    "ChatterInternalUser", "ViewRoles", "ResetPasswords", "ViewEventLogFiles",
)

# Salesforce enables these along with the key permission (permission dependencies in Setup).
PERMISSION_IMPLIES = {
    "ModifyAllData": ("ViewAllData", "ViewSetup"),
    "ViewAllData": ("ViewSetup",),
    "ManageUsers": ("ManageInternalUsers", "ManageProfilesPermissionsets", "AssignPermissionSets",
                    "ViewSetup", "ResetPasswords", "ViewAllUsers"),
    "ManageProfilesPermissionsets": ("ViewSetup",),
    "CustomizeApplication": ("ViewSetup",),
    "AuthorApex": ("ViewSetup",),
}

# Object permission fields and their one-letter codes in estate `crud` strings.
OBJECT_PERMISSION_FIELDS = {
    "r": "PermissionsRead", "c": "PermissionsCreate", "u": "PermissionsEdit",
    "d": "PermissionsDelete", "v": "PermissionsViewAllRecords", "m": "PermissionsModifyAllRecords",
}
# Salesforce's wording of each object permission in dependency errors.
OBJECT_PERMISSION_LABELS = {
    "PermissionsRead": "Read", "PermissionsCreate": "Create", "PermissionsEdit": "Edit",
    "PermissionsDelete": "Delete", "PermissionsViewAllRecords": "View All",
    "PermissionsModifyAllRecords": "Modify All",
}
OBJECT_PERMISSION_DEPENDENCIES = {
    "PermissionsCreate": ("PermissionsRead",),
    "PermissionsEdit": ("PermissionsRead",),
    "PermissionsDelete": ("PermissionsRead", "PermissionsEdit"),
    "PermissionsViewAllRecords": ("PermissionsRead",),
    "PermissionsModifyAllRecords": ("PermissionsRead", "PermissionsEdit", "PermissionsDelete",
                                    "PermissionsViewAllRecords"),
}

# Standard data objects whose access is granted by object permissions.
DATA_OBJECTS = ("Account", "Contact", "Opportunity", "Case")


# The standard values of the data objects' picklists, as a new org's describe lists them.
PICKLIST_VALUES = {
    ("Account", "Industry"): (
        "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
        "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental",
        "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
        "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology",
        "Telecommunications", "Transportation", "Utilities", "Other"),
    ("Account", "Type"): ("Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
                          "Installation Partner", "Technology Partner", "Other"),
    ("Opportunity", "StageName"): ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
                                   "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
                                   "Negotiation/Review", "Closed Won", "Closed Lost"),
    ("Case", "Status"): ("New", "Working", "Escalated", "Closed"),
    ("Case", "Priority"): ("High", "Medium", "Low"),
    ("Case", "Origin"): ("Phone", "Email", "Web"),
}


def _f(name, ftype="string", ref=None, rel=None, **kw):
    refs = [ref] if isinstance(ref, str) else list(ref or [])
    if refs and rel is None and name.endswith("Id"):
        rel = name[:-2]
    return FieldDef(name=name, type=ftype, reference_to=refs, relationship_name=rel,
                    label=kw.pop("label", None) or _label(name), **kw)


def _label(name):
    out = []
    for i, char in enumerate(name):
        if i and char.isupper() and not name[i - 1].isupper():
            out.append(" ")
        out.append(char)
    return "".join(out)


def _ro(name, ftype="string", ref=None, rel=None, **kw):
    """A field the API never writes (derived, system-maintained)."""
    return _f(name, ftype, ref, rel, createable=False, updateable=False, **kw)


def _system_fields(audited=True):
    fields = [_ro("Id", "id", nillable=False)]
    if audited:
        fields += [
            _ro("CreatedDate", "datetime", nillable=False),
            _ro("CreatedById", "reference", "User", nillable=False),
            _ro("LastModifiedDate", "datetime", nillable=False),
            _ro("LastModifiedById", "reference", "User", nillable=False),
            _ro("SystemModstamp", "datetime", nillable=False),
        ]
    return fields


def _obj(name, fields, children=(), audited=True, **kw):
    all_fields = _system_fields(audited) + list(fields)
    return ObjectDef(
        name=name,
        fields={fdef.name.lower(): fdef for fdef in all_fields},
        child_relationships={rel.name.lower(): rel for rel in children},
        label=kw.pop("label", None) or _label(name),
        **kw,
    )


def _permission_fields():
    return [_f("Permissions" + perm, "boolean", nillable=False) for perm in SYSTEM_PERMISSIONS]


def _tooling_metadata():
    # Salesforce refuses these two in a Tooling query that returns more than one row.
    return [_f("Metadata", "anyType", single_row_only=True, filterable=False),
            _ro("FullName", single_row_only=True, filterable=False)]


def _build():
    objects = [
        _obj("Organization", [
            _f("Name", nillable=False), _ro("OrganizationType", "picklist"), _ro("IsSandbox", "boolean"),
            _ro("InstanceName"), _ro("NamespacePrefix"), _f("Division"), _f("PrimaryContact"),
            _f("Country"), _f("DefaultLocaleSidKey", "picklist"), _f("LanguageLocaleKey", "picklist"),
            _f("TimeZoneSidKey", "picklist"), _ro("TrialExpirationDate", "datetime"),
        ], setup=True, createable=False, deletable=False),
        _obj("UserRole", [
            _f("Name", nillable=False), _f("DeveloperName"), _f("ParentRoleId", "reference", "UserRole"),
        ], setup=True),
        _obj("User", [
            _f("Username", nillable=False), _f("LastName", nillable=False), _f("FirstName"),
            _ro("Name"), _f("CompanyName"), _f("Title"), _f("Department"), _f("Email", "email", nillable=False),
            _f("Alias", nillable=False), _f("CommunityNickname", nillable=False),
            _f("IsActive", "boolean", nillable=False), _ro("UserType", "picklist"),
            _f("ProfileId", "reference", "Profile", nillable=False),
            _f("UserRoleId", "reference", "UserRole"), _f("ManagerId", "reference", "User"),
            _ro("LastLoginDate", "datetime"), _ro("LastPasswordChangeDate", "datetime"),
            _f("TimeZoneSidKey", "picklist", nillable=False), _f("LocaleSidKey", "picklist", nillable=False),
            _f("EmailEncodingKey", "picklist", nillable=False),
            _f("LanguageLocaleKey", "picklist", nillable=False), _f("FederationIdentifier"),
            _f("Phone", "phone"), _f("UserPermissionsInteractionUser", "boolean", nillable=False),
        ], children=[
            ChildRelationship("PermissionSetAssignments", "PermissionSetAssignment", "AssigneeId"),
            ChildRelationship("PermissionSetLicenseAssignments", "PermissionSetLicenseAssign", "AssigneeId"),
        ], setup=True, deletable=False),
        _obj("Profile", [
            _f("Name", nillable=False), _f("Description", "textarea"),
            _ro("UserLicenseId", "reference", "UserLicense", nillable=False), _ro("UserType", "picklist"),
        ] + _permission_fields(), setup=True, createable=False, deletable=False),
        _obj("UserLicense", [
            _ro("Name"), _ro("MasterLabel"), _ro("LicenseDefinitionKey"), _ro("Status", "picklist"),
            _ro("TotalLicenses", "int"), _ro("UsedLicenses", "int"), _ro("UsedLicensesLastUpdated", "datetime"),
        ], setup=True, createable=False, updateable=False, deletable=False),
        _obj("PermissionSetLicense", [
            _ro("DeveloperName"), _ro("MasterLabel"), _ro("Language"), _ro("Status", "picklist"),
            _ro("TotalLicenses", "int"), _ro("UsedLicenses", "int"), _ro("ExpirationDate", "date"),
            _ro("PermissionSetLicenseKey"),
        ], children=[
            ChildRelationship("PermissionSetLicenseAssignments", "PermissionSetLicenseAssign",
                              "PermissionSetLicenseId"),
        ], setup=True, createable=False, updateable=False, deletable=False),
        _obj("PermissionSet", [
            _f("Name", nillable=False), _f("Label", nillable=False), _f("Description", "textarea"),
            _f("LicenseId", "reference", ["UserLicense", "PermissionSetLicense"], rel="License"),
            _ro("UserLicenseId", "reference", "UserLicense"),
            _ro("IsOwnedByProfile", "boolean", nillable=False), _ro("ProfileId", "reference", "Profile"),
            _ro("IsCustom", "boolean", nillable=False), _ro("Type", "picklist"), _ro("NamespacePrefix"),
            _f("HasActivationRequired", "boolean", nillable=False),
            _ro("PermissionSetGroupId", "reference", "PermissionSetGroup"),
        ] + _permission_fields(), children=[
            ChildRelationship("Assignments", "PermissionSetAssignment", "PermissionSetId"),
            ChildRelationship("ObjectPerms", "ObjectPermissions", "ParentId"),
            ChildRelationship("FieldPerms", "FieldPermissions", "ParentId"),
        ], setup=True),
        _obj("PermissionSetGroup", [
            _f("DeveloperName", nillable=False), _f("MasterLabel", nillable=False), _f("Description", "textarea"),
            _ro("Status", "picklist"), _ro("NamespacePrefix"),
        ], setup=True),
        _obj("PermissionSetAssignment", [
            _f("AssigneeId", "reference", "User", nillable=False, updateable=False),
            _f("PermissionSetId", "reference", "PermissionSet", nillable=False, updateable=False),
            _f("PermissionSetGroupId", "reference", "PermissionSetGroup", updateable=False),
            _ro("IsActive", "boolean", nillable=False), _f("ExpirationDate", "datetime", updateable=False),
        ], setup=True, updateable=False),
        _obj("PermissionSetLicenseAssign", [
            _f("AssigneeId", "reference", "User", nillable=False, updateable=False),
            _f("PermissionSetLicenseId", "reference", "PermissionSetLicense", nillable=False, updateable=False),
            _ro("IsRevoked", "boolean", nillable=False),
        ], setup=True, updateable=False),
        _obj("ObjectPermissions", [
            _f("ParentId", "reference", "PermissionSet", nillable=False, updateable=False),
            _f("SobjectType", "picklist", nillable=False, updateable=False),
        ] + [_f(name, "boolean", nillable=False) for name in OBJECT_PERMISSION_FIELDS.values()],
            setup=True),
        _obj("FieldPermissions", [
            _f("ParentId", "reference", "PermissionSet", nillable=False, updateable=False),
            _f("SobjectType", "picklist", nillable=False, updateable=False),
            _f("Field", "picklist", nillable=False, updateable=False),
            _f("PermissionsRead", "boolean", nillable=False), _f("PermissionsEdit", "boolean", nillable=False),
        ], setup=True),
        # LoginHistory.UserId has no relationship name: it is not a child of User in SOQL.
        _obj("LoginHistory", [
            _ro("UserId", "reference", "User", rel=False), _ro("LoginTime", "datetime"),
            _ro("LoginType", "picklist"), _ro("Status"), _ro("Application"), _ro("ApiType"),
            _ro("ApiVersion"), _ro("SourceIp"), _ro("Browser"), _ro("Platform"), _ro("LoginUrl"),
            _ro("ClientVersion"), _ro("CountryIso"), _ro("TlsProtocol"), _ro("CipherSuite"),
            _ro("AuthMethodReference"),
        ], audited=False, setup=True, createable=False, updateable=False, deletable=False),
        _obj("ApexClass", [
            _f("Name", nillable=False), _f("Body", "textarea"), _f("Status", "picklist"),
            _ro("NamespacePrefix"), _f("ApiVersion", "double"), _ro("LengthWithoutComments", "int"),
            _ro("IsValid", "boolean"), _ro("BodyCrc", "double"),
        ], setup=True, tooling=True, createable=False, updateable=False, deletable=False),
        _obj("ApexTrigger", [
            _f("Name", nillable=False), _f("Body", "textarea"), _f("Status", "picklist"),
            _ro("NamespacePrefix"), _f("TableEnumOrId", "picklist"), _f("ApiVersion", "double"),
            _ro("LengthWithoutComments", "int"), _ro("IsValid", "boolean"),
            _ro("UsageBeforeInsert", "boolean"), _ro("UsageAfterInsert", "boolean"),
            _ro("UsageBeforeUpdate", "boolean"), _ro("UsageAfterUpdate", "boolean"),
        ], setup=True, tooling=True, createable=False, updateable=False, deletable=False),
        _obj("ValidationRule", [
            _ro("ValidationName"), _ro("Active", "boolean"), _ro("EntityDefinitionId"),
            _ro("ErrorDisplayField"), _ro("ErrorMessage"), _ro("Description", "textarea"),
            _ro("NamespacePrefix"),
        ] + _tooling_metadata(), setup=True, tooling=True, standard=False,
            createable=False, updateable=False, deletable=False),
        _obj("FlowDefinition", [
            _ro("DeveloperName"), _ro("MasterLabel"), _ro("Description", "textarea"), _ro("NamespacePrefix"),
            _ro("ActiveVersionId", "reference", "Flow"), _ro("LatestVersionId", "reference", "Flow"),
        ] + _tooling_metadata(), setup=True, tooling=True, standard=False,
            createable=False, updateable=False, deletable=False),
        _obj("Flow", [
            _ro("MasterLabel"), _ro("Status", "picklist"), _ro("ProcessType", "picklist"),
            _ro("DefinitionId", "reference", "FlowDefinition"), _ro("VersionNumber", "int"),
            _ro("Description", "textarea"), _ro("ApiVersion", "double"),
        ] + _tooling_metadata(), setup=True, tooling=True, standard=False,
            createable=False, updateable=False, deletable=False),
        _obj("CustomField", [
            _ro("DeveloperName"), _ro("TableEnumOrId"), _ro("NamespacePrefix"), _ro("Description", "textarea"),
        ] + _tooling_metadata(), setup=True, tooling=True, standard=False,
            createable=False, updateable=False, deletable=False),
        _obj("Account", [
            _f("Name", nillable=False), _f("Type", "picklist"), _f("Industry", "picklist"),
            _f("ParentId", "reference", "Account"), _f("BillingCity"), _f("BillingCountry"),
            _f("Phone", "phone"), _f("Website", "url"), _f("AnnualRevenue", "currency"),
            _f("NumberOfEmployees", "int"), _f("Description", "textarea"),
            _f("OwnerId", "reference", "User", nillable=False),
        ], children=[
            ChildRelationship("Contacts", "Contact", "AccountId"),
            ChildRelationship("Opportunities", "Opportunity", "AccountId"),
            ChildRelationship("Cases", "Case", "AccountId"),
        ]),
        _obj("Contact", [
            _f("FirstName"), _f("LastName", nillable=False), _ro("Name"),
            _f("AccountId", "reference", "Account"), _f("Email", "email"), _f("Phone", "phone"),
            _f("Title"), _f("OwnerId", "reference", "User", nillable=False),
        ], children=[ChildRelationship("Cases", "Case", "ContactId")]),
        _obj("Opportunity", [
            _f("Name", nillable=False), _f("AccountId", "reference", "Account"),
            _f("StageName", "picklist", nillable=False), _f("CloseDate", "date", nillable=False),
            _f("Amount", "currency"), _f("Probability", "percent"), _ro("IsClosed", "boolean"),
            _ro("IsWon", "boolean"), _f("OwnerId", "reference", "User", nillable=False),
        ]),
        _obj("Case", [
            _ro("CaseNumber"), _f("Subject"), _f("Status", "picklist", nillable=False),
            _f("Priority", "picklist"), _f("Origin", "picklist"), _f("AccountId", "reference", "Account"),
            _f("ContactId", "reference", "Contact"), _f("Description", "textarea"),
            _f("OwnerId", "reference", "User", nillable=False),
        ]),
    ]
    # Setup-entity access, connected apps, record types... (issue 12): see sfemu.setup_access.
    from . import setup_access
    extra, access_items = setup_access.object_defs(_obj, _f, _ro)
    objects += extra
    from . import usage                 # the ApiTotalUsage event log (issue 18)
    objects += usage.object_defs(_obj, _f, _ro)
    for odef in objects:
        if odef.name == "PermissionSet":
            odef.child_relationships[access_items.name.lower()] = access_items
    for odef in objects:
        # The one relationship that must stay nameless (see LoginHistory above).
        for fdef in odef.fields.values():
            if fdef.relationship_name is False:
                fdef.relationship_name = None
    objects_by_name = {odef.name: odef for odef in objects}
    for (object_name, field_name), values in PICKLIST_VALUES.items():
        objects_by_name[object_name].field(field_name).picklist_values = values
    # ApexClass / ApexTrigger are served by both the REST query and Tooling.
    for name in ("ApexClass", "ApexTrigger"):
        objects_by_name[name].standard = True
    return objects_by_name


OBJECTS = _build()
# Objects Tooling serves under the same name with other fields (Tooling Profile has Metadata).
from . import setup_access as _setup_access  # noqa: E402 (it builds on the helpers above)
TOOLING_VARIANTS = {"Profile": _setup_access.tooling_profile_def(OBJECTS["Profile"], _tooling_metadata())}

# Setup objects that stay readable without View Setup (any API user can list users and record types).
OPEN_SETUP_OBJECTS = ("User", "UserRole", "RecordType")

_VALUE_TYPES = ((bool, "boolean"), (int, "double"), (float, "double"))


def field_type_for_value(value):
    """The describe type a declared custom field gets from the example value an estate gives it."""
    for pytype, ftype in _VALUE_TYPES:
        if isinstance(value, pytype):
            return ftype
    return "string"


def custom_setting_def(name, field_types):
    """ObjectDef of a hierarchy custom setting: SetupOwnerId points at the org, a profile or a user."""
    fields = [_f("Name", nillable=False),
              _f("SetupOwnerId", "reference", ["Organization", "Profile", "User"], rel="SetupOwner",
                 nillable=False)]
    fields += [_f(fname, ftype, nillable=ftype != "boolean") for fname, ftype in field_types.items()]
    return _obj(name, fields, custom_setting=True, label=name[:-3].replace("_", " "))


def with_extra_fields(odef, extra):
    """Copy of ``odef`` with read-only ``extra`` fields (formula fields declared by the estate)."""
    clone = copy.copy(odef)
    clone.fields = dict(odef.fields)
    for fname, ftype in extra.items():
        clone.fields[fname.lower()] = _ro(fname, ftype)
    return clone
