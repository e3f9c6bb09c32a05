# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reader of users: profile, license, permission sets, PSLs, login mix.

Used by sf_user_info, sf_profile_check and sf_integration_user. API:

    users = read_users(client, usernames=None, user_ids=None, active=None, standard_only=True,
                       lookback_days=90, with_logins=True)
        -> list of user dicts (shape below), in Username order. ``usernames`` / ``user_ids`` select
           (case-insensitive usernames, 15/18-char Ids); neither means every user of the org.
           Users asked for but absent are simply missing from the list: see ``missing_usernames``.
           Cost: ONE composite call (users, licenses, login mix, OAuth tokens) for up to 2000 users, plus one call per further page of 2000
           users, plus (only when the org-wide login aggregate reaches 2000 rows) one composite
           per 2000 users for the login mix. ``client`` is the collection's Client.

    missing_usernames(usernames, users) -> the requested usernames not found (original spelling)

Whether a user is a candidate is a rule: ``rules.assess_candidate``.

Pure helpers (no HTTP, unit-tested): build_users_soql, build_login_mix_soql, normalize_user,
merge_login_rows, classify_login_type.

User dict::

    {"id": 18-char Id, "username", "name", "first_name", "last_name", "email", "alias",
     "active": bool, "user_type", "last_login": "2023-03-14T10:00:00.000+0000" | None,
     "time_zone", "locale", "email_encoding", "language",
     "profile": {"id", "name", "license_id", "license", "api_enabled", "api_only"},
     "license": user license name (the profile's) | None,
     "api_enabled": bool (profile or any assigned permission set grants API Enabled),
     "permission_sets": [{"assignment_id", "id", "name", "label", "license_id",
                          "license": name | None, "license_kind": "user_license" |
                          "permission_set_license" | None, "api_enabled": bool,
                          "group_id": Id | None}],           # profile-owned sets excluded
     "permission_set_licenses": [{"assignment_id", "id", "developer_name", "label"}],
     "logins": {"lookback_days", "total", "api", "ui", "other", "by_type": {LoginType: n},
                "last_api": datetime str | None, "last_ui": ... | None},  # successful logins only
     "oauth_tokens": [{"app", "use_count", "last_used"}] | None   # used in the window; None: unreadable
    }
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.options import DEFAULT_LOOKBACK_DAYS
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import api_usage
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.reads import read_subrequests, run_queries
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.records import license_kind_of
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_literal
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18


# LoginHistory.LoginType values. API logins per the fidelity notes; anything SAML or "Application"
# means a person went through a browser. Unknown types count as "other" and do not make a user a
# candidate (a new login type must be looked at by a person before anyone is moved).
API_LOGIN_TYPES = frozenset([
    "remote access 2.0", "remote access client", "other apex api", "partner product",
    "oauth", "api", "soap", "rest",
])
UI_LOGIN_TYPES = frozenset(["application", "chatter communities external user"])


# Aggregate queries cannot be paged (Salesforce refuses queryMore on GROUP BY): keep every login
# query under one batch of 2000 rows. A user has a handful of login types, so chunks of 400 users
# stay far below that; the org-wide query is trusted only when it did not hit its LIMIT.
_AGGREGATE_ROW_LIMIT = 2000
_LOGIN_CHUNK_USERS = 400
# Evidence of use, not the core read: an org that hides them still gets its users read (issue 18).
_EVIDENCE_QUERIES = ("oauth_tokens", "usage_log_files")

USER_FIELDS = (
    "Id", "Username", "Name", "FirstName", "LastName", "Email", "Alias", "IsActive", "UserType",
    "LastLoginDate", "TimeZoneSidKey", "LocaleSidKey", "EmailEncodingKey", "LanguageLocaleKey",
    "ProfileId", "Profile.Name", "Profile.UserLicenseId", "Profile.UserLicense.Name",
    "Profile.PermissionsApiEnabled", "Profile.PermissionsApiUserOnly",
)
_ASSIGNMENTS_SUBQUERY = (
    "(SELECT Id, PermissionSetId, PermissionSet.Name, PermissionSet.Label, PermissionSet.LicenseId, "
    "PermissionSet.PermissionsApiEnabled, PermissionSetGroupId FROM PermissionSetAssignments "
    "WHERE PermissionSet.IsOwnedByProfile = false)"
)
_PSL_SUBQUERY = (
    "(SELECT Id, PermissionSetLicenseId, PermissionSetLicense.DeveloperName, "
    "PermissionSetLicense.MasterLabel FROM PermissionSetLicenseAssignments)"
)
LICENSE_NAMES_SOQL = "SELECT Id, Name FROM UserLicense"
PSL_NAMES_SOQL = "SELECT Id, DeveloperName, MasterLabel FROM PermissionSetLicense"


def classify_login_type(login_type):
    """'api', 'ui' or 'other' for a LoginHistory.LoginType value."""
    text = (login_type or "").strip().lower()
    if text in API_LOGIN_TYPES:
        return "api"
    if text in UI_LOGIN_TYPES or text.startswith("saml"):
        return "ui"
    return "other"


def _user_where(usernames=None, user_ids=None, active=None, standard_only=True):
    clauses = []
    if usernames is not None:
        clauses.append("Username IN %s" % soql_literal(sorted(set(u.lower() for u in usernames))))
    if user_ids is not None:
        clauses.append("Id IN %s" % soql_literal(sorted(set(to18(i) for i in user_ids))))
    if active is not None:
        clauses.append("IsActive = %s" % ("true" if active else "false"))
    if standard_only:
        clauses.append("UserType = 'Standard'")
    return " AND ".join(clauses)


def build_users_soql(usernames=None, user_ids=None, active=None, standard_only=True):
    """SELECT of users with their assignments and PSLs as child subqueries (one row per user)."""
    where = _user_where(usernames, user_ids, active, standard_only)
    return "SELECT %s, %s, %s FROM User%s ORDER BY Username" % (
        ", ".join(USER_FIELDS), _ASSIGNMENTS_SUBQUERY, _PSL_SUBQUERY,
        " WHERE " + where if where else "")


def build_login_mix_soql(lookback_days=DEFAULT_LOOKBACK_DAYS, usernames=None, user_ids=None,
                         active=None, standard_only=True):
    """Successful logins per user and LoginType over the window, as aggregate rows.

    Selects users with a semi-join on the same filter as build_users_soql, so both queries can go in
    one composite request without knowing the Ids first.
    """
    days = int(lookback_days)
    if days < 1:
        raise ValueError("lookback_days must be at least 1")
    where = ["LoginTime = LAST_N_DAYS:%d" % days, "Status = 'Success'"]
    user_where = _user_where(usernames, user_ids, active, standard_only)
    if user_ids is not None and usernames is None and active is None and not standard_only:
        where.append("UserId IN %s" % soql_literal(sorted(set(to18(i) for i in user_ids))))
    elif user_where:
        where.append("UserId IN (SELECT Id FROM User WHERE %s)" % user_where)
    return ("SELECT UserId, LoginType, COUNT(Id) logins, MAX(LoginTime) lastLogin FROM LoginHistory "
            "WHERE %s GROUP BY UserId, LoginType LIMIT %d" % (" AND ".join(where), _AGGREGATE_ROW_LIMIT))


def build_oauth_tokens_soql(lookback_days=DEFAULT_LOOKBACK_DAYS, usernames=None, user_ids=None, active=None,
                            standard_only=True):
    """OAuth tokens used in the window by the users build_users_soql selects (same semi-join, so it rides
    in the same composite). A token is a connected app's refresh token: an integration that keeps one
    may never appear in LoginHistory's window (issues 12 and 18)."""
    days = int(lookback_days)
    if days < 1:
        raise ValueError("lookback_days must be at least 1")
    where = ["LastUsedDate = LAST_N_DAYS:%d" % days]
    user_where = _user_where(usernames, user_ids, active, standard_only)
    if user_where:
        where.append("UserId IN (SELECT Id FROM User WHERE %s)" % user_where)
    return ("SELECT UserId, AppName, UseCount, LastUsedDate FROM OauthToken WHERE %s ORDER BY UserId, AppName"
            % " AND ".join(where))


def merge_token_rows(users, rows):
    """Fill every user's ``oauth_tokens`` ([{app, use_count, last_used}], most recent first) from rows of
    build_oauth_tokens_soql; ``rows`` None (the org would not let the connecting user read OauthToken)
    leaves ``oauth_tokens`` None: unknown, not none (pure, in place)."""
    by_id = {}
    for user in users:
        user["oauth_tokens"] = None if rows is None else []
        by_id[user["id"]] = user
    for row in rows or ():
        user = by_id.get(to18(row.get("UserId") or ""))
        if user is not None and row.get("AppName"):
            user["oauth_tokens"].append({"app": row["AppName"], "use_count": int(row.get("UseCount") or 0),
                                         "last_used": row.get("LastUsedDate")})
    for user in users:
        if user["oauth_tokens"]:
            user["oauth_tokens"].sort(key=lambda t: (t["last_used"] or "", t["use_count"]), reverse=True)
    return users


def _child_records(value):
    # A child subquery with no rows is null, not an empty envelope.
    if not value:
        return []
    return value.get("records") or []


def _ref(record, name):
    value = record.get(name)
    return value if isinstance(value, dict) else {}


def normalize_user(record, license_names=None, psl_names=None):
    """User dict (module docstring) from one User row of build_users_soql.

    ``license_names`` / ``psl_names`` map 18-char Ids to UserLicense.Name / PSL MasterLabel, so each
    permission set's binding gets a readable license name.
    """
    license_names = license_names or {}
    psl_names = psl_names or {}
    profile = _ref(record, "Profile")
    user_license = _ref(profile, "UserLicense")
    permission_sets = []
    for row in _child_records(record.get("PermissionSetAssignments")):
        pset = _ref(row, "PermissionSet")
        license_id = to18(pset.get("LicenseId")) if pset.get("LicenseId") else None
        kind = license_kind_of(license_id)
        names = license_names if kind == "user_license" else psl_names
        permission_sets.append({
            "assignment_id": row.get("Id"),
            "id": to18(row.get("PermissionSetId")),
            "name": pset.get("Name"),
            "label": pset.get("Label"),
            "license_id": license_id,
            "license": names.get(license_id) if license_id else None,
            "license_kind": kind,
            "api_enabled": bool(pset.get("PermissionsApiEnabled")),
            "group_id": row.get("PermissionSetGroupId"),
        })
    permission_sets.sort(key=lambda p: ((p["name"] or "").lower(), p["id"] or ""))
    psls = []
    for row in _child_records(record.get("PermissionSetLicenseAssignments")):
        psl = _ref(row, "PermissionSetLicense")
        psls.append({
            "assignment_id": row.get("Id"),
            "id": to18(row.get("PermissionSetLicenseId")),
            "developer_name": psl.get("DeveloperName"),
            "label": psl.get("MasterLabel"),
        })
    psls.sort(key=lambda p: (p["developer_name"] or "").lower())
    profile_api = bool(profile.get("PermissionsApiEnabled"))
    return {
        "id": to18(record.get("Id")),
        "username": record.get("Username"),
        "name": record.get("Name"),
        "first_name": record.get("FirstName"),
        "last_name": record.get("LastName"),
        "email": record.get("Email"),
        "alias": record.get("Alias"),
        "active": bool(record.get("IsActive")),
        "user_type": record.get("UserType"),
        "last_login": record.get("LastLoginDate"),
        "time_zone": record.get("TimeZoneSidKey"),
        "locale": record.get("LocaleSidKey"),
        "email_encoding": record.get("EmailEncodingKey"),
        "language": record.get("LanguageLocaleKey"),
        "profile": {
            "id": to18(record.get("ProfileId")) if record.get("ProfileId") else None,
            "name": profile.get("Name"),
            "license_id": to18(profile.get("UserLicenseId")) if profile.get("UserLicenseId") else None,
            "license": user_license.get("Name"),
            "api_enabled": profile_api,
            "api_only": bool(profile.get("PermissionsApiUserOnly")),
        },
        "license": user_license.get("Name"),
        "api_enabled": profile_api or any(p["api_enabled"] for p in permission_sets),
        "permission_sets": permission_sets,
        "permission_set_licenses": psls,
        "logins": empty_login_mix(None),
    }


def empty_login_mix(lookback_days):
    return {"lookback_days": lookback_days, "total": 0, "api": 0, "ui": 0, "other": 0, "by_type": {},
            "last_api": None, "last_ui": None}


def _aggregate_value(row, alias, position):
    # Aliased aggregates come back under their alias; tolerate exprN for servers that drop aliases.
    if alias in row:
        return row[alias]
    return row.get("expr%d" % position)


def merge_login_rows(users, rows, lookback_days):
    """Fill every user's ``logins`` from aggregate rows of build_login_mix_soql (pure, in place)."""
    by_id = {}
    for user in users:
        user["logins"] = empty_login_mix(lookback_days)
        by_id[user["id"]] = user
    for row in rows:
        user = by_id.get(to18(row.get("UserId") or ""))
        if user is None:
            continue
        count = int(_aggregate_value(row, "logins", 0) or 0)
        last = _aggregate_value(row, "lastLogin", 1)
        login_type = row.get("LoginType") or "(none)"
        kind = classify_login_type(login_type)
        mix = user["logins"]
        mix["by_type"][login_type] = mix["by_type"].get(login_type, 0) + count
        mix["total"] += count
        mix[kind] += count
        if kind in ("api", "ui") and last and (mix["last_" + kind] is None or last > mix["last_" + kind]):
            mix["last_" + kind] = last
    return users


def _by_id(rows, label_field):
    return dict((to18(r["Id"]), r.get(label_field)) for r in rows if r.get("Id"))


def read_users(client, usernames=None, user_ids=None, active=None, standard_only=True,
               lookback_days=DEFAULT_LOOKBACK_DAYS, with_logins=True, with_usage_log=False):
    """Users as dicts (module docstring), read in a constant number of calls per page of users.
    ``with_usage_log`` (with ``with_logins``) also reads the newest ApiTotalUsage log (api_usage.py):
    one more query in the composite and one call for the file, so only where candidates are judged."""
    if usernames is not None and not usernames:
        return []
    if user_ids is not None and not user_ids:
        return []
    selector = dict(usernames=usernames, user_ids=user_ids, active=active, standard_only=standard_only)
    queries = [
        ("users", build_users_soql(**selector)),
        ("user_licenses", LICENSE_NAMES_SOQL),
        ("permission_set_licenses", PSL_NAMES_SOQL),
    ]
    if with_logins:
        queries.append(("logins", build_login_mix_soql(lookback_days, **selector)))
        queries.append(("oauth_tokens", build_oauth_tokens_soql(lookback_days, **selector)))
        if with_usage_log:
            queries.append(("usage_log_files", api_usage.build_usage_files_soql(lookback_days)))
    answers = read_subrequests(client, [client.query_subrequest(name, soql) for name, soql in queries])
    results = {}
    for name, (records, error) in answers.items():
        if error is not None and name not in _EVIDENCE_QUERIES:
            raise error
        results[name] = records
    license_names = _by_id(results["user_licenses"], "Name")
    psl_names = _by_id(results["permission_set_licenses"], "MasterLabel")
    users = [normalize_user(r, license_names, psl_names) for r in results["users"]]
    if with_logins:
        rows = results["logins"]
        if len(rows) >= _AGGREGATE_ROW_LIMIT:
            # The org-wide aggregate may have been cut at its LIMIT: ask again per chunk of users.
            rows = _login_rows_by_chunks(client, [u["id"] for u in users], lookback_days)
        merge_login_rows(users, rows, lookback_days)
        # Tokens are evidence, not the core read: an org that hides OauthToken from the connecting user
        # (it needs Customize Application or Manage Users) still gets its users read.
        merge_token_rows(users, results.get("oauth_tokens"))
        if with_usage_log:
            files, error = answers["usage_log_files"]
            api_usage.merge_usage(users, api_usage.unreadable(error) if error is not None
                                  else api_usage.read_usage(client, files))
    return users


def _login_rows_by_chunks(client, ids, lookback_days):
    chunks = [ids[i:i + _LOGIN_CHUNK_USERS] for i in range(0, len(ids), _LOGIN_CHUNK_USERS)]
    queries = [("logins%d" % n, build_login_mix_soql(lookback_days, user_ids=chunk, standard_only=False))
               for n, chunk in enumerate(chunks)]
    rows = []
    for name, records in sorted(run_queries(client, queries).items()):
        rows.extend(records)
    return rows


def missing_usernames(usernames, users):
    found = set((u["username"] or "").lower() for u in users)
    return [name for name in usernames if name.lower() not in found]
