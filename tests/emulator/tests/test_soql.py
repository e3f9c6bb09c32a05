"""SOQL engine of the emulator, against an in-memory source with a small user/permission schema."""
import datetime

import pytest

from sfemu.errors import SFError
from sfemu.ids import IdFactory, to18
from sfemu.schema import ChildRelationship, FieldDef, ObjectDef
from sfemu.soql import execute
from sfemu.soql.dates import date_range
from sfemu.soql.parser import parse

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)       # a Wednesday
PREFIX = "/services/data/v62.0/sobjects"


def _object(name, fields, children=(), **kwargs):
    defs = [FieldDef("Id", "id", createable=False, updateable=False)] + list(fields)
    return ObjectDef(name, {f.name.lower(): f for f in defs},
                     {c.name.lower(): c for c in children}, **kwargs)


def _ref(name, targets, relationship=None):
    return FieldDef(name, "reference", reference_to=list(targets), relationship_name=relationship)


def build_schema():
    return {o.name: o for o in [
        _object("UserLicense", [FieldDef("Name"), FieldDef("MasterLabel"), FieldDef("TotalLicenses", "int"),
                                FieldDef("UsedLicenses", "int")]),
        _object("PermissionSetLicense", [FieldDef("MasterLabel"), FieldDef("DeveloperName")]),
        _object("Profile", [FieldDef("Name"), _ref("UserLicenseId", ["UserLicense"], "UserLicense")]),
        _object("User", [
            FieldDef("Username", "string"), FieldDef("Name"), FieldDef("FirstName"), FieldDef("LastName"),
            FieldDef("IsActive", "boolean"), _ref("ProfileId", ["Profile"], "Profile"),
            _ref("ManagerId", ["User"], "Manager"), FieldDef("CreatedDate", "datetime"),
            FieldDef("LastLoginDate", "datetime"), FieldDef("StartDay__c", "date"),
            FieldDef("Interests__c", "multipicklist"), FieldDef("UserType", "picklist"),
            FieldDef("Description", "textarea", filterable=False), FieldDef("Score__c", "double")],
            [ChildRelationship("PermissionSetAssignments", "PermissionSetAssignment", "AssigneeId"),
             ChildRelationship("LoginHistories", "LoginHistory", "UserId")]),
        _object("PermissionSet", [FieldDef("Name"), FieldDef("Label"), FieldDef("IsOwnedByProfile", "boolean"),
                                  _ref("LicenseId", ["UserLicense", "PermissionSetLicense"], "License")],
                [ChildRelationship("Assignments", "PermissionSetAssignment", "PermissionSetId")]),
        _object("PermissionSetAssignment", [_ref("AssigneeId", ["User"], "Assignee"),
                                            _ref("PermissionSetId", ["PermissionSet"], "PermissionSet")]),
        _object("LoginHistory", [_ref("UserId", ["User"]), FieldDef("LoginTime", "datetime"),
                                 FieldDef("Status"), FieldDef("Application")]),
        _object("ValidationRule", [FieldDef("ValidationName"), FieldDef("Active", "boolean"),
                                   FieldDef("Metadata", "anyType", single_row_only=True, filterable=False),
                                   FieldDef("FullName", single_row_only=True)], tooling=True),
        _object("Secret", [FieldDef("Name")]),
    ]}


class FakeSource:
    """The store's side of the SOQL contract, over plain lists of dicts."""

    def __init__(self, schema, rows, unreadable=("Secret",)):
        self.schema = schema
        self.by_lower = {name.lower(): o for name, o in schema.items()}
        self.data = rows
        self.unreadable = set(unreadable)
        self.get_calls = 0

    def describe(self, name):
        return self.by_lower.get(name.lower())

    def can_read(self, name):
        return name not in self.unreadable

    def rows(self, name):
        return list(self.data.get(name, []))

    def get(self, name, id18):
        self.get_calls += 1
        for row in self.data.get(name, []):
            if row["Id"] == id18:
                return row
        return None


def build_rows():
    ids = IdFactory()
    new = ids.new
    lic_sf, lic_si = new("UserLicense"), new("UserLicense")
    psl = new("PermissionSetLicense")
    p_admin, p_std, p_integ = new("Profile"), new("Profile"), new("Profile")
    u1, u2, u3, u4 = (new("User") for _ in range(4))
    ps1, ps2, ps3 = (new("PermissionSet") for _ in range(3))

    def dt(*args):
        return datetime.datetime(*args, tzinfo=UTC)

    rows = {
        "UserLicense": [
            {"Id": lic_sf, "Name": "Salesforce", "MasterLabel": "Salesforce", "TotalLicenses": 10,
             "UsedLicenses": 3},
            {"Id": lic_si, "Name": "Salesforce Integration", "MasterLabel": "Salesforce Integration",
             "TotalLicenses": 5, "UsedLicenses": 1}],
        "PermissionSetLicense": [{"Id": psl, "MasterLabel": "Salesforce API Integration",
                                  "DeveloperName": "SalesforceAPIIntegrationPsl"}],
        "Profile": [
            {"Id": p_admin, "Name": "System Administrator", "UserLicenseId": lic_sf},
            {"Id": p_std, "Name": "Standard User", "UserLicenseId": lic_sf},
            {"Id": p_integ, "Name": "Minimum Access - API Only Integrations", "UserLicenseId": lic_si}],
        "User": [
            {"Id": u1, "Username": "admin@acme.com", "Name": "Ada Admin", "FirstName": "Ada", "LastName": "Admin",
             "IsActive": True, "ProfileId": p_admin, "ManagerId": None, "CreatedDate": dt(2023, 3, 14, 10),
             "LastLoginDate": dt(2026, 11, 24, 8, 30), "StartDay__c": datetime.date(2023, 3, 14),
             "Interests__c": "Apex;Flows", "UserType": "Standard", "Description": "boss", "Score__c": 9.5},
            {"Id": u2, "Username": "integ@acme.com", "Name": "Integration User", "FirstName": None,
             "LastName": "Integration", "IsActive": True, "ProfileId": p_integ, "ManagerId": u1,
             "CreatedDate": dt(2024, 1, 1, 0, 0, 0, 123000), "LastLoginDate": None,
             "StartDay__c": datetime.date(2026, 11, 25), "Interests__c": "Flows", "UserType": "Standard",
             "Description": None, "Score__c": 2.0},
            {"Id": u3, "Username": "old@acme.com", "Name": "Old Timer", "FirstName": "old", "LastName": "Timer",
             "IsActive": False, "ProfileId": p_std, "ManagerId": u1, "CreatedDate": dt(2020, 5, 1, 9),
             "LastLoginDate": dt(2023, 1, 1, 23, 59), "StartDay__c": None, "Interests__c": None,
             "UserType": "Standard", "Description": None, "Score__c": None},
            {"Id": u4, "Username": "bob@acme.com", "Name": "Bob O'Neil", "FirstName": "Bob", "LastName": "O'Neil",
             "IsActive": True, "ProfileId": p_std, "ManagerId": u2, "CreatedDate": dt(2025, 6, 30, 12),
             "LastLoginDate": dt(2026, 11, 15, 12), "StartDay__c": datetime.date(2026, 11, 22),
             "Interests__c": "Apex", "UserType": "Standard", "Description": None, "Score__c": 5.0}],
        "PermissionSet": [
            {"Id": ps1, "Name": "Integ_API", "Label": "Integration API", "IsOwnedByProfile": False,
             "LicenseId": psl},
            {"Id": ps2, "Name": "Admin_Extra", "Label": "Admin extra", "IsOwnedByProfile": False,
             "LicenseId": lic_sf},
            {"Id": ps3, "Name": "X00ex000000", "Label": "Profile owned", "IsOwnedByProfile": True,
             "LicenseId": None}],
        "PermissionSetAssignment": [
            {"Id": new("PermissionSetAssignment"), "AssigneeId": u1, "PermissionSetId": ps2},
            {"Id": new("PermissionSetAssignment"), "AssigneeId": u1, "PermissionSetId": ps3},
            {"Id": new("PermissionSetAssignment"), "AssigneeId": u2, "PermissionSetId": ps1},
            {"Id": new("PermissionSetAssignment"), "AssigneeId": u3, "PermissionSetId": ps3}],
        "LoginHistory": [
            {"Id": new("LoginHistory"), "UserId": u1, "LoginTime": dt(2026, 11, 24, 8, 30), "Status": "Success",
             "Application": "Browser"},
            {"Id": new("LoginHistory"), "UserId": u1, "LoginTime": dt(2026, 11, 25, 7), "Status": "Success",
             "Application": "Browser"},
            {"Id": new("LoginHistory"), "UserId": u2, "LoginTime": dt(2026, 8, 1, 7), "Status": "Success",
             "Application": "Salesforce CLI"},
            {"Id": new("LoginHistory"), "UserId": u2, "LoginTime": dt(2026, 11, 20, 7),
             "Status": "Invalid Password", "Application": "Salesforce CLI"}],
        "ValidationRule": [
            {"Id": new("ValidationRule"), "ValidationName": "Need_Email", "Active": True,
             "Metadata": {"active": True}, "FullName": "User.Need_Email"},
            {"Id": new("ValidationRule"), "ValidationName": "Old_Rule", "Active": False,
             "Metadata": {"active": False}, "FullName": "User.Old_Rule"}],
        "Secret": [{"Id": new("Account"), "Name": "hidden"}],
    }
    named = dict(lic_sf=lic_sf, lic_si=lic_si, psl=psl, p_admin=p_admin, p_std=p_std, p_integ=p_integ,
                 u1=u1, u2=u2, u3=u3, u4=u4, ps1=ps1, ps2=ps2, ps3=ps3)
    return rows, named


@pytest.fixture
def org():
    rows, named = build_rows()
    source = FakeSource(build_schema(), rows)
    source.ids = named
    return source


def q(source, soql, **kwargs):
    kwargs.setdefault("now", NOW)
    return execute(soql, source, PREFIX, **kwargs)


def names(result, key="Username"):
    return [r[key] for r in result.records]


def error_of(source, soql):
    with pytest.raises(SFError) as caught:
        q(source, soql)
    assert caught.value.status == 400
    return caught.value


# --- shapes ------------------------------------------------------------------------------------------

def test_field_list_shape_order_and_rendering(org):
    result = q(org, "SELECT Username, Id, IsActive, CreatedDate, StartDay__c, Score__c FROM User "
                    "WHERE Username = 'integ@acme.com'")
    assert result.total_size == 1 and result.object_name == "User"
    record = result.records[0]
    u2 = org.ids["u2"]
    assert list(record) == ["attributes", "Username", "Id", "IsActive", "CreatedDate", "StartDay__c", "Score__c"]
    assert record["attributes"] == {"type": "User", "url": f"{PREFIX}/User/{u2}"}
    assert record["Id"] == u2 and len(record["Id"]) == 18
    assert record["IsActive"] is True
    assert record["CreatedDate"] == "2024-01-01T00:00:00.123+0000"
    assert record["StartDay__c"] == "2026-11-25"
    assert record["Score__c"] == 2.0


def test_keywords_objects_and_fields_are_case_insensitive_output_is_canonical(org):
    result = q(org, "select username, profile.NAME from USER where USERNAME = 'ADMIN@ACME.COM' order by NAME")
    assert result.object_name == "User"
    assert result.records == [{"attributes": {"type": "User", "url": f"{PREFIX}/User/{org.ids['u1']}"},
                               "Username": "admin@acme.com",
                               "Profile": {"attributes": {"type": "Profile",
                                                          "url": f"{PREFIX}/Profile/{org.ids['p_admin']}"},
                                           "Name": "System Administrator"}}]


def test_url_prefix_is_used_for_tooling(org):
    result = execute("SELECT Id FROM ValidationRule WHERE ValidationName = 'Need_Email'", org,
                     "/services/data/v62.0/tooling/sobjects", now=NOW)
    assert result.records[0]["attributes"]["url"].startswith("/services/data/v62.0/tooling/sobjects/ValidationRule/")


def test_relationship_paths_nest_with_attributes_even_without_id(org):
    result = q(org, "SELECT Username, Profile.Name, Profile.UserLicense.Name, Manager.Username, "
                    "Manager.Manager.Username FROM User WHERE Username IN ('integ@acme.com', 'bob@acme.com') "
                    "ORDER BY Username")
    bob, integ = result.records
    assert list(bob) == ["attributes", "Username", "Profile", "Manager"]
    assert bob["Profile"] == {
        "attributes": {"type": "Profile", "url": f"{PREFIX}/Profile/{org.ids['p_std']}"},
        "Name": "Standard User",
        "UserLicense": {"attributes": {"type": "UserLicense", "url": f"{PREFIX}/UserLicense/{org.ids['lic_sf']}"},
                        "Name": "Salesforce"}}
    assert bob["Manager"]["Username"] == "integ@acme.com"
    assert bob["Manager"]["Manager"]["Username"] == "admin@acme.com"
    # integ's manager is admin, whose manager is null: the key is present with None.
    assert integ["Manager"]["Manager"] is None
    assert integ["Profile"]["UserLicense"]["Name"] == "Salesforce Integration"


def test_null_lookup_is_present_as_none(org):
    result = q(org, "SELECT Manager.Username, Username FROM User WHERE Username = 'admin@acme.com'")
    assert result.records[0] == {"attributes": result.records[0]["attributes"], "Manager": None,
                                 "Username": "admin@acme.com"}


def test_polymorphic_lookup_resolved_by_id_prefix(org):
    result = q(org, "SELECT Name, License.MasterLabel FROM PermissionSet ORDER BY Name")
    by_name = {r["Name"]: r["License"] for r in result.records}
    assert by_name["Integ_API"]["attributes"]["type"] == "PermissionSetLicense"
    assert by_name["Integ_API"]["MasterLabel"] == "Salesforce API Integration"
    assert by_name["Admin_Extra"]["attributes"]["type"] == "UserLicense"
    assert by_name["X00ex000000"] is None


def test_relationship_in_where_and_assignee_path(org):
    result = q(org, "SELECT Assignee.Username, PermissionSet.Name FROM PermissionSetAssignment "
                    "WHERE PermissionSet.License.MasterLabel = 'salesforce api integration'")
    assert [(r["Assignee"]["Username"], r["PermissionSet"]["Name"]) for r in result.records] == [
        ("integ@acme.com", "Integ_API")]


# --- child subqueries, semi-joins ------------------------------------------------------------------------

def test_child_subquery_envelope_and_null_when_empty(org):
    result = q(org, "SELECT Username, (SELECT PermissionSet.Name FROM PermissionSetAssignments "
                    "ORDER BY PermissionSet.Name DESC) FROM User ORDER BY Username")
    by_user = {r["Username"]: r for r in result.records}
    assert list(by_user["admin@acme.com"]) == ["attributes", "Username", "PermissionSetAssignments"]
    admin = by_user["admin@acme.com"]["PermissionSetAssignments"]
    assert admin["totalSize"] == 2 and admin["done"] is True
    assert [r["PermissionSet"]["Name"] for r in admin["records"]] == ["X00ex000000", "Admin_Extra"]
    assert admin["records"][0]["attributes"]["type"] == "PermissionSetAssignment"
    assert by_user["bob@acme.com"]["PermissionSetAssignments"] is None


def test_child_subquery_where_limit_and_case_insensitive_name(org):
    result = q(org, "SELECT Id, (select Id from permissionsetassignments where PermissionSet.IsOwnedByProfile "
                    "= false LIMIT 1) FROM User WHERE Username = 'admin@acme.com'")
    children = result.records[0]["PermissionSetAssignments"]
    assert children["totalSize"] == 1
    assert list(children["records"][0]) == ["attributes", "Id"]


def test_semi_join_and_anti_join(org):
    semi = q(org, "SELECT Username FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment "
                  "WHERE PermissionSet.Name = 'Integ_API')")
    assert names(semi) == ["integ@acme.com"]
    anti = q(org, "SELECT Username FROM User WHERE Id NOT IN (SELECT AssigneeId FROM PermissionSetAssignment) "
                  "ORDER BY Username")
    assert names(anti) == ["bob@acme.com"]
    by_reference = q(org, "SELECT Name FROM PermissionSet WHERE Id IN (SELECT PermissionSetId FROM "
                          "PermissionSetAssignment WHERE Assignee.IsActive = false)")
    assert names(by_reference, "Name") == ["X00ex000000"]


# --- WHERE -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where, expected", [
    ("Score__c = 5", ["bob@acme.com"]),
    ("Score__c != 5", ["admin@acme.com", "integ@acme.com", "old@acme.com"]),   # nulls kept, as SOQL does
    ("Score__c <> 5", ["admin@acme.com", "integ@acme.com", "old@acme.com"]),
    ("Score__c < 5", ["integ@acme.com"]),
    ("Score__c <= 5", ["bob@acme.com", "integ@acme.com"]),
    ("Score__c > 5", ["admin@acme.com"]),
    ("Score__c >= 5.0", ["admin@acme.com", "bob@acme.com"]),
    ("Score__c = null", ["old@acme.com"]),
    ("Score__c != NULL", ["admin@acme.com", "bob@acme.com", "integ@acme.com"]),
    ("IsActive = FALSE", ["old@acme.com"]),
    ("IsActive = true", ["admin@acme.com", "bob@acme.com", "integ@acme.com"]),
    ("FirstName = 'ADA'", ["admin@acme.com"]),
    ("FirstName != 'ada'", ["bob@acme.com", "integ@acme.com", "old@acme.com"]),
    ("FirstName < 'b'", ["admin@acme.com"]),
    ("FirstName IN ('OLD', 'bob')", ["bob@acme.com", "old@acme.com"]),
    ("FirstName NOT IN ('OLD', 'bob')", ["admin@acme.com", "integ@acme.com"]),
    ("FirstName IN ('bob', null)", ["bob@acme.com", "integ@acme.com"]),
    ("Username LIKE 'A%'", ["admin@acme.com"]),
    ("Username LIKE '%@ACME.com'", ["admin@acme.com", "bob@acme.com", "integ@acme.com", "old@acme.com"]),
    ("Username LIKE '_ld@%'", ["old@acme.com"]),
    ("Name LIKE '%\\'%'", ["bob@acme.com"]),
    ("Name = 'Bob O\\'Neil'", ["bob@acme.com"]),
    ("Interests__c INCLUDES ('apex')", ["admin@acme.com", "bob@acme.com"]),
    ("Interests__c INCLUDES ('Apex;Flows', 'nothing')", ["admin@acme.com"]),
    ("Interests__c EXCLUDES ('Apex')", ["integ@acme.com", "old@acme.com"]),
    ("Profile.UserLicense.Name = 'Salesforce'", ["admin@acme.com", "bob@acme.com", "old@acme.com"]),
    ("Manager.Manager.Username = 'admin@acme.com'", ["bob@acme.com"]),
    ("Manager.Username = null", ["admin@acme.com"]),
])
def test_comparisons(org, where, expected):
    assert sorted(names(q(org, f"SELECT Username FROM User WHERE {where}"))) == expected


def test_like_escapes_percent_and_underscore(org):
    org.data["User"][0]["Name"] = "100% sure_thing"
    assert names(q(org, "SELECT Username FROM User WHERE Name LIKE '100\\% sure\\_%'")) == ["admin@acme.com"]
    assert names(q(org, "SELECT Username FROM User WHERE Name LIKE '100\\%xsure%'")) == []
    assert names(q(org, "SELECT Username FROM User WHERE Name LIKE '100% sure\\_thing'")) == ["admin@acme.com"]
    assert names(q(org, "SELECT Username FROM User WHERE Name LIKE '100% surexthing'")) == []


def test_string_escapes(org):
    org.data["User"][0]["Name"] = 'back\\slash "quoted"\nnext'
    result = q(org, "SELECT Username FROM User WHERE Name = 'back\\\\slash \\\"quoted\\\"\\nnext'")
    assert names(result) == ["admin@acme.com"]


@pytest.mark.parametrize("where, expected", [
    ("IsActive = true AND (FirstName = 'bob' OR FirstName = 'ada')", ["admin@acme.com", "bob@acme.com"]),
    ("(IsActive = true AND FirstName = 'bob') OR FirstName = 'old'", ["bob@acme.com", "old@acme.com"]),
    ("IsActive = true AND Score__c > 1 AND FirstName = null", ["integ@acme.com"]),
    ("FirstName = 'bob' OR FirstName = 'ada' OR FirstName = 'old'",
     ["admin@acme.com", "bob@acme.com", "old@acme.com"]),
    ("NOT IsActive = true", ["old@acme.com"]),
    ("NOT (IsActive = true OR Score__c = null)", []),
    ("IsActive = true AND (NOT FirstName = 'bob')", ["admin@acme.com", "integ@acme.com"]),
    ("((Score__c > 1) AND (Score__c < 9))", ["bob@acme.com", "integ@acme.com"]),
])
def test_boolean_logic_and_parentheses(org, where, expected):
    assert sorted(names(q(org, f"SELECT Username FROM User WHERE {where}"))) == expected


def test_mixing_and_or_without_parentheses_is_refused_like_salesforce(org):
    error = error_of(org, "SELECT Id FROM User WHERE IsActive = true AND FirstName = 'a' OR FirstName = 'b'")
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message.endswith("ERROR at Row:1:Column:63\nunexpected token: 'OR'")


def test_ids_15_and_18_characters_compare_equal(org):
    u2 = org.ids["u2"]
    for literal in (u2, u2[:15], u2[:15] + "aaa"):
        assert names(q(org, f"SELECT Username FROM User WHERE Id = '{literal}'")) == ["integ@acme.com"]
    assert names(q(org, f"SELECT Username FROM User WHERE ManagerId IN ('{u2[:15]}')")) == ["bob@acme.com"]
    org.data["User"][3]["ManagerId"] = u2[:15]       # a stored 15-char reference still resolves and renders 18
    record = q(org, "SELECT ManagerId, Manager.Username FROM User WHERE Username = 'bob@acme.com'").records[0]
    assert record["ManagerId"] == u2 and record["Manager"]["Username"] == "integ@acme.com"


def test_datetime_literals(org):
    for literal in ("2026-11-24T08:30:00Z", "2026-11-24T09:30:00+01:00", "2026-11-24T08:30:00.000+0000",
                    "2026-11-24T03:30:00-05:00"):
        assert names(q(org, f"SELECT Username FROM User WHERE LastLoginDate = {literal}")) == ["admin@acme.com"]
    assert sorted(names(q(org, "SELECT Username FROM User WHERE LastLoginDate > 2026-01-01T00:00:00Z"))) == [
        "admin@acme.com", "bob@acme.com"]
    assert names(q(org, "SELECT Username FROM User WHERE StartDay__c < 2024-01-01")) == ["admin@acme.com"]


def test_relative_date_literals_in_queries(org):
    # now is Wednesday 2026-11-25 12:00 UTC
    def users(where):
        return sorted(names(q(org, f"SELECT Username FROM User WHERE {where}")))
    assert users("StartDay__c = TODAY") == ["integ@acme.com"]
    assert users("LastLoginDate = YESTERDAY") == ["admin@acme.com"]
    assert users("LastLoginDate = TOMORROW") == []
    assert users("LastLoginDate = LAST_N_DAYS:10") == ["admin@acme.com", "bob@acme.com"]
    assert users("LastLoginDate = LAST_N_DAYS:1") == ["admin@acme.com"]
    assert users("LastLoginDate < LAST_N_DAYS:30") == ["old@acme.com"]
    assert users("LastLoginDate = N_DAYS_AGO:10") == ["bob@acme.com"]
    assert users("StartDay__c = THIS_WEEK") == ["bob@acme.com", "integ@acme.com"]   # week from Sunday 22nd
    assert users("LastLoginDate = LAST_WEEK") == ["bob@acme.com"]
    assert users("LastLoginDate = THIS_MONTH") == ["admin@acme.com", "bob@acme.com"]
    assert users("CreatedDate > LAST_90_DAYS") == []
    assert users("LastLoginDate = LAST_90_DAYS") == ["admin@acme.com", "bob@acme.com"]
    assert users("StartDay__c = NEXT_N_DAYS:3") == []
    logins = q(org, "SELECT Id FROM LoginHistory WHERE LoginTime = LAST_MONTH")
    assert logins.total_size == 0
    assert q(org, "SELECT Id FROM LoginHistory WHERE LoginTime >= LAST_N_DAYS:7").total_size == 3


@pytest.mark.parametrize("name, n, expected", [
    ("TODAY", None, ("2026-11-25", "2026-11-26")),
    ("YESTERDAY", None, ("2026-11-24", "2026-11-25")),
    ("TOMORROW", None, ("2026-11-26", "2026-11-27")),
    ("LAST_N_DAYS", 7, ("2026-11-18", "2026-11-26")),
    ("NEXT_N_DAYS", 7, ("2026-11-26", "2026-12-03")),
    ("N_DAYS_AGO", 3, ("2026-11-22", "2026-11-23")),
    ("THIS_WEEK", None, ("2026-11-22", "2026-11-29")),
    ("LAST_WEEK", None, ("2026-11-15", "2026-11-22")),
    ("THIS_MONTH", None, ("2026-11-01", "2026-12-01")),
    ("LAST_MONTH", None, ("2026-10-01", "2026-11-01")),
    ("NEXT_MONTH", None, ("2026-12-01", "2027-01-01")),
    ("LAST_90_DAYS", None, ("2026-08-27", "2026-11-26")),
    ("THIS_QUARTER", None, ("2026-10-01", "2027-01-01")),
    ("LAST_YEAR", None, ("2025-01-01", "2026-01-01")),
])
def test_date_ranges(name, n, expected):
    start, end = date_range(name, n, NOW.date())
    assert (start.isoformat(), end.isoformat()) == expected


# --- ORDER BY, LIMIT, OFFSET ---------------------------------------------------------------------------

def test_order_by_nulls_default_first_and_explicit(org):
    assert names(q(org, "SELECT Username FROM User ORDER BY FirstName")) == [
        "integ@acme.com", "admin@acme.com", "bob@acme.com", "old@acme.com"]
    assert names(q(org, "SELECT Username FROM User ORDER BY FirstName ASC NULLS LAST")) == [
        "admin@acme.com", "bob@acme.com", "old@acme.com", "integ@acme.com"]
    assert names(q(org, "SELECT Username FROM User ORDER BY FirstName DESC")) == [
        "integ@acme.com", "old@acme.com", "bob@acme.com", "admin@acme.com"]
    assert names(q(org, "SELECT Username FROM User ORDER BY FirstName DESC NULLS LAST")) == [
        "old@acme.com", "bob@acme.com", "admin@acme.com", "integ@acme.com"]


def test_order_by_is_case_insensitive_multi_key_and_relationship(org):
    # "old" sorts after "Bob" although lower case sorts after upper case in code points.
    assert names(q(org, "SELECT Username FROM User WHERE FirstName != null ORDER BY FirstName")) == [
        "admin@acme.com", "bob@acme.com", "old@acme.com"]
    assert names(q(org, "SELECT Username FROM User ORDER BY Profile.Name DESC, Score__c ASC NULLS LAST")) == [
        "admin@acme.com", "bob@acme.com", "old@acme.com", "integ@acme.com"]


def test_limit_and_offset(org):
    assert names(q(org, "SELECT Username FROM User ORDER BY Username LIMIT 2")) == [
        "admin@acme.com", "bob@acme.com"]
    result = q(org, "SELECT Username FROM User ORDER BY Username LIMIT 2 OFFSET 1")
    assert names(result) == ["bob@acme.com", "integ@acme.com"] and result.total_size == 2
    assert names(q(org, "SELECT Username FROM User ORDER BY Username OFFSET 3")) == ["old@acme.com"]


def test_optional_clauses_are_accepted(org):
    for tail in ("FOR VIEW", "FOR REFERENCE", "LIMIT 1 FOR VIEW"):
        assert q(org, f"SELECT Id FROM User WHERE IsActive = false {tail}").total_size == 1
    assert q(org, "SELECT Id FROM User USING SCOPE everything WHERE IsActive = false").total_size == 1
    assert q(org, "SELECT Id FROM User WHERE IsActive = false WITH SECURITY_ENFORCED").total_size == 1


def test_object_alias_and_object_name_prefix(org):
    assert names(q(org, "SELECT u.Username FROM User u WHERE u.Profile.Name = 'System Administrator'")) == [
        "admin@acme.com"]
    assert names(q(org, "SELECT User.Username FROM User WHERE User.IsActive = false")) == ["old@acme.com"]


def test_fields_standard(org):
    record = q(org, "SELECT FIELDS(STANDARD) FROM Profile WHERE Name = 'Standard User'").records[0]
    assert list(record) == ["attributes", "Id", "Name", "UserLicenseId"]


# --- aggregates --------------------------------------------------------------------------------------

def test_count_only(org):
    result = q(org, "SELECT COUNT() FROM User")
    assert (result.total_size, result.records) == (4, [])
    assert q(org, "SELECT count() FROM User WHERE IsActive = true").total_size == 3
    assert q(org, "SELECT COUNT() FROM User WHERE Username = 'nobody'").total_size == 0


def test_aggregates_without_group_by(org):
    result = q(org, "SELECT COUNT(Id), COUNT(FirstName), COUNT_DISTINCT(ProfileId), MIN(CreatedDate) earliest, "
                    "MAX(Score__c), SUM(Score__c) total FROM User")
    assert result.total_size == 1
    assert result.records == [{"attributes": {"type": "AggregateResult"}, "expr0": 4, "expr1": 3, "expr2": 3,
                               "earliest": "2020-05-01T09:00:00.000+0000", "expr3": 9.5, "total": 16.5}]


def test_aggregate_over_no_rows_is_one_row(org):
    result = q(org, "SELECT COUNT(Id), MAX(Score__c) FROM User WHERE Username = 'nobody'")
    assert result.records == [{"attributes": {"type": "AggregateResult"}, "expr0": 0, "expr1": None}]


def test_group_by_relationship_field_with_having_and_order(org):
    result = q(org, "SELECT Profile.UserLicense.Name, COUNT(Id) users FROM User GROUP BY "
                    "Profile.UserLicense.Name ORDER BY COUNT(Id) DESC")
    assert result.records == [
        {"attributes": {"type": "AggregateResult"}, "Name": "Salesforce", "users": 3},
        {"attributes": {"type": "AggregateResult"}, "Name": "Salesforce Integration", "users": 1}]
    having = q(org, "SELECT ProfileId, COUNT(Id) FROM User GROUP BY ProfileId HAVING COUNT(Id) > 1")
    assert having.records == [{"attributes": {"type": "AggregateResult"}, "ProfileId": org.ids["p_std"],
                               "expr0": 2}]


def test_group_by_two_fields(org):
    result = q(org, "SELECT IsActive, Profile.Name, COUNT(Id) FROM User GROUP BY IsActive, Profile.Name "
                    "ORDER BY Profile.Name, IsActive")
    assert [(r["Name"], r["IsActive"], r["expr0"]) for r in result.records] == [
        ("Minimum Access - API Only Integrations", True, 1), ("Standard User", False, 1),
        ("Standard User", True, 1), ("System Administrator", True, 1)]


def test_group_by_text_is_case_insensitive_and_limit_applies_to_groups(org):
    org.data["User"][3]["UserType"] = "STANDARD"
    result = q(org, "SELECT UserType, COUNT(Id) FROM User GROUP BY UserType")
    assert [r["expr0"] for r in result.records] == [4]
    assert q(org, "SELECT ProfileId, COUNT(Id) FROM User GROUP BY ProfileId LIMIT 2").total_size == 2


def test_field_must_be_grouped_or_aggregated(org):
    error = error_of(org, "SELECT Username, COUNT(Id) FROM User")
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message == ("\nSELECT Username, COUNT(Id) FROM User\n       ^\nERROR at Row:1:Column:8\n"
                             "Field must be grouped or aggregated: Username")
    assert error_of(org, "SELECT Username, COUNT(Id) FROM User GROUP BY ProfileId").error_code == "MALFORMED_QUERY"


# --- errors ------------------------------------------------------------------------------------------

def test_unknown_field_message_exactly_as_salesforce(org):
    error = error_of(org, "SELECT Id, Foo FROM User")
    assert error.error_code == "INVALID_FIELD"
    assert error.message == (
        "\nSELECT Id, Foo FROM User\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity "
        "'User'. If you are attempting to use a custom field, be sure to append the '__c' after the custom "
        "field name. Please reference your WSDL or the describe call for the appropriate names.")
    assert error.as_rest() == {"message": error.message, "errorCode": "INVALID_FIELD"}


def test_unknown_field_after_relationship_names_the_target_entity(org):
    error = error_of(org, "SELECT Profile.Foo FROM User")
    assert "No such column 'Foo' on entity 'Profile'." in error.message
    assert "ERROR at Row:1:Column:8\n" in error.message


def test_unknown_field_in_where_and_order_by(org):
    assert error_of(org, "SELECT Id FROM User WHERE Bar = 1").message.startswith(
        "\nSELECT Id FROM User WHERE Bar = 1\n                          ^\nERROR at Row:1:Column:27\n"
        "No such column 'Bar'")
    assert error_of(org, "SELECT Id FROM User ORDER BY Bar").error_code == "INVALID_FIELD"


@pytest.mark.parametrize("soql, column", [("SELECT Id FROM Foo", 16), ("SELECT Id FROM Secret", 16),
                                          ("SELECT Id FROM User WHERE Id IN (SELECT Id FROM Foo)", 49)])
def test_unknown_or_unreadable_object(org, soql, column):
    error = error_of(org, soql)
    name = soql.rsplit(" ", 1)[1].rstrip(")")
    assert error.error_code == "INVALID_TYPE"
    assert error.message.endswith(
        f"ERROR at Row:1:Column:{column}\nsObject type '{name}' is not supported. If you are attempting to use a "
        "custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the "
        "describe call for the appropriate names.")


def test_unknown_relationship(org):
    error = error_of(org, "SELECT Id, Foo.Name FROM User")
    assert error.error_code == "INVALID_FIELD"
    assert error.message == (
        "\nSELECT Id, Foo.Name FROM User\n           ^\nERROR at Row:1:Column:12\nDidn't understand relationship "
        "'Foo' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' "
        "after the custom relationship name. Please reference your WSDL or the describe call for the "
        "appropriate names.")
    # A lookup field's own name is not a relationship name.
    assert "Didn't understand relationship 'ProfileId'" in error_of(org, "SELECT ProfileId.Name FROM User").message


def test_unknown_child_relationship(org):
    error = error_of(org, "SELECT Id, (SELECT Id FROM Assignments) FROM User")
    assert error.error_code == "INVALID_TYPE"
    assert "ERROR at Row:1:Column:28\nDidn't understand relationship 'Assignments' in FROM part of query call." \
        in error.message


@pytest.mark.parametrize("soql, token, column", [
    ("SELECT Id FROM User WHERE", "<EOF>", 26),
    ("SELECT Id, FROM User", "FROM", 12),
    ("SELECT Id FROM User WHERE Name = 'x' LIMIT x", "x", 44),
    ("SELECT Id FROM User ORDER Name", "Name", 27),
    ("SELECT Id FROM User WHERE Name == 'x'", "=", 33),
    ("SELECT Id FROM User WHERE Name = 'x' #", "#", 38),
    ("SELECT Id FROM User WHERE StartDay__c = 2023-02-30", "2023-02-30", 41),
    ("SELECT Id FROM User WHERE CreatedDate = 2023-01-01T25:00:00Z", "2023-01-01T25:00:00Z", 41),
])
def test_syntax_errors(org, soql, token, column):
    error = error_of(org, soql)
    assert error.error_code == "MALFORMED_QUERY"
    lines = error.message.split("\n")
    assert lines[0] == "" and lines[1] == soql
    assert lines[2] == " " * (column - 1) + "^"
    assert lines[3:] == [f"ERROR at Row:1:Column:{column}", f"unexpected token: '{token}'"]


def test_multi_line_statement_reports_row(org):
    error = error_of(org, "SELECT Id\nFROM User\nWHERE Nope = 1")
    assert error.message.startswith("\nWHERE Nope = 1\n      ^\nERROR at Row:3:Column:7\nNo such column 'Nope'")


@pytest.mark.parametrize("where, message", [
    ("IsActive = 'true'", "value of filter criterion for field 'IsActive' must be of type boolean and should "
                          "not be enclosed in quotes"),
    ("Username = 5", "value of filter criterion for field 'Username' must be of type string and should be "
                     "enclosed in quotes"),
    ("CreatedDate > 2023-01-01", "value of filter criterion for field 'CreatedDate' must be of type dateTime and "
                                 "should not be enclosed in quotes"),
    ("Score__c = '5'", "value of filter criterion for field 'Score__c' must be of type double and should not "
                       "be enclosed in quotes"),
    ("Description = 'x'", "field 'Description' can not be filtered in a query call"),
])
def test_filter_type_errors(org, where, message):
    error = error_of(org, f"SELECT Id FROM User WHERE {where}")
    assert error.error_code == "INVALID_FIELD"
    assert error.message.endswith("ERROR at Row:1:Column:27\n" + message)


def test_invalid_id_literal(org):
    error = error_of(org, "SELECT Id FROM User WHERE Id = 'ZZZ'")
    assert error.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert error.message == "\nSELECT Id FROM User WHERE Id = 'ZZZ'\n                          ^\n" \
                            "ERROR at Row:1:Column:27\ninvalid ID field: ZZZ"


def test_duplicate_fields_and_offset_limit(org):
    for soql, field in [("SELECT Id, Username, id FROM User", "id"),
                        ("SELECT Profile.Name, profile.name FROM User", "profile.name"),
                        ("SELECT Id, FIELDS(STANDARD) FROM Profile", "Id")]:
        error = error_of(org, soql)
        assert (error.error_code, error.message) == ("INVALID_FIELD", f"duplicate field selected: {field}")
    error = error_of(org, "SELECT Id FROM User LIMIT 10 OFFSET 2001")
    assert (error.error_code, error.message) == ("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
    assert q(org, "SELECT Id FROM User OFFSET 2000").total_size == 0


def test_single_row_only_fields(org):
    error = error_of(org, "SELECT Id, Metadata FROM ValidationRule")
    assert error.error_code == "MALFORMED_QUERY"
    assert error.message == ("When retrieving results with Metadata or FullName fields, the query qualifications "
                             "must specify no more than one row for retrieval. Result size: 2")
    assert error_of(org, "SELECT FullName FROM ValidationRule").error_code == "MALFORMED_QUERY"
    one = q(org, "SELECT Id, Metadata, FullName FROM ValidationRule WHERE ValidationName = 'Need_Email'")
    assert one.records[0]["Metadata"] == {"active": True} and one.records[0]["FullName"] == "User.Need_Email"
    assert q(org, "SELECT Metadata FROM ValidationRule LIMIT 1").total_size == 1
    assert q(org, "SELECT Id, ValidationName FROM ValidationRule").total_size == 2


# --- engine behaviour ----------------------------------------------------------------------------------

def test_parsed_statements_are_cached_by_text():
    soql = "SELECT Id FROM User WHERE Username = 'cache-test'"
    assert parse(soql) is parse(soql)


def test_parent_records_are_fetched_once_per_execution_and_fresh_each_time(org):
    q(org, "SELECT Profile.Name FROM User")
    assert org.get_calls == 3                 # three distinct profiles for four users
    org.data["Profile"][1]["Name"] = "Renamed"
    result = q(org, "SELECT Profile.Name FROM User WHERE Username = 'bob@acme.com'")
    assert result.records[0]["Profile"]["Name"] == "Renamed"


def test_now_defaults_to_the_clock(org):
    # LAST_N_DAYS:1 spans yesterday and today, so a run across midnight still matches.
    org.data["User"][0]["LastLoginDate"] = datetime.datetime.now(UTC)
    assert names(execute("SELECT Username FROM User WHERE LastLoginDate = LAST_N_DAYS:1", org)) == [
        "admin@acme.com"]


@pytest.mark.parametrize("soql, code, reason", [
    ("SELECT COUNT(), Id FROM User", "MALFORMED_QUERY", "COUNT() must be the only element in the SELECT list"),
    ("SELECT SUM(Username) FROM User", "MALFORMED_QUERY", "field Username does not support aggregate operator SUM"),
    ("SELECT Id FROM User WHERE COUNT(Id) > 1", "MALFORMED_QUERY", "unexpected token: 'COUNT'"),
    ("SELECT FIELDS(SOME) FROM User", "MALFORMED_QUERY", "unexpected token: 'FIELDS'"),
    ("SELECT Id FROM User WHERE Name = 'a\\qb'", "MALFORMED_QUERY",
     "Invalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal."),
    ("SELECT Id, (SELECT COUNT(Id) FROM PermissionSetAssignments) FROM User", "MALFORMED_QUERY",
     "Aggregate functions are not supported in a child relationship sub-query"),
    ("SELECT Id FROM User WHERE Username IN (SELECT Id FROM Profile)", "MALFORMED_QUERY",
     "Invalid semi join: field 'Username' must be an Id or a reference field"),
    ("SELECT Id FROM User WHERE ProfileId IN (SELECT Name FROM Profile)", "MALFORMED_QUERY",
     "semi join sub selects can only query id fields, cannot use: 'Name'"),
])
def test_other_refusals(org, soql, code, reason):
    error = error_of(org, soql)
    assert (error.error_code, error.message.rsplit("\n", 1)[-1]) == (code, reason)


def test_having_on_grouped_field_and_child_offset(org):
    result = q(org, "SELECT ProfileId, COUNT(Id) FROM User GROUP BY ProfileId HAVING ProfileId = "
                    f"'{org.ids['p_admin']}'")
    assert [r["expr0"] for r in result.records] == [1]
    record = q(org, "SELECT (SELECT PermissionSet.Name FROM PermissionSetAssignments ORDER BY PermissionSet.Name "
                    "OFFSET 1) FROM User WHERE Username = 'admin@acme.com'").records[0]
    assert [r["PermissionSet"]["Name"] for r in record["PermissionSetAssignments"]["records"]] == ["X00ex000000"]
    record = q(org, "SELECT (SELECT Id FROM PermissionSetAssignments OFFSET 5) FROM User "
                    "WHERE Username = 'admin@acme.com'").records[0]
    assert record["PermissionSetAssignments"] is None
