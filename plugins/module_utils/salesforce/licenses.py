# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""License facts from plain query rows: seat tables and the integration-license summary.

Pure functions (rows in, dicts out), shared by sf_license_info and every module that needs to know
which profile is the migration target or whether a seat is free.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.records import (
    profile_record, psl_record, user_license_record)
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_in, soql_like_contains, soql_literal

INTEGRATION_LICENSE = "Salesforce Integration"
INTEGRATION_PSL_LABEL = "Salesforce API Integration"
INTEGRATION_PSL_DEVELOPER_NAME = "SalesforceAPIIntegrationPsl"
FULL_LICENSE = "Salesforce"
STANDARD_PROFILE = "Minimum Access - API Only Integrations"
DEPRECATED_PROFILE = "Salesforce API Only System Integrations"
LOOK_ALIKE_PATTERN = re.compile(r"api[\s_-]*only|integration", re.IGNORECASE)
API_ONLY_NAME = re.compile(r"api[\s_-]*only", re.IGNORECASE)

# The queries whose rows these functions take (fields they read). Profiles are limited to the ones
# the summary can report: on the integration license, or named like one.
USER_LICENSE_SOQL = ("SELECT Id, Name, MasterLabel, LicenseDefinitionKey, Status, TotalLicenses, "
                     "UsedLicenses FROM UserLicense ORDER BY Name")
PSL_SOQL = ("SELECT Id, DeveloperName, MasterLabel, Status, TotalLicenses, UsedLicenses, "
            "ExpirationDate FROM PermissionSetLicense ORDER BY MasterLabel")
# Profile fields read by every module: with the license seats, so a module needing the seats of the
# licenses users move onto reads them with the profiles (composite calls hold five queries at most).
PROFILE_FIELDS = ("Id, Name, UserLicenseId, UserLicense.Name, UserLicense.MasterLabel, UserLicense.Status, "
                  "UserLicense.TotalLicenses, UserLicense.UsedLicenses, PermissionsApiUserOnly, PermissionsApiEnabled")


def profile_soql(names=(), ids=()):
    """Profiles on the integration license or named like one (what ``integration_summary`` reports:
    ``LIKE '%API%Only%'`` also matches "API-Only" and "API_Only"), and those ``names`` / ``ids`` name.

    Literal lists only: Salesforce refuses a semi-join combined with OR."""
    clauses = ["UserLicense.Name = %s" % soql_literal(INTEGRATION_LICENSE),
               "Name LIKE %s" % soql_like_contains("API", "Only"), "Name LIKE %s" % soql_like_contains("Integration")]
    clauses += soql_in("Name", names) + soql_in("Id", [to18(i) for i in ids])
    return "SELECT %s FROM Profile WHERE %s ORDER BY Name" % (PROFILE_FIELDS, " OR ".join(clauses))


PROFILE_SOQL = profile_soql()


def same_name(left, right):
    """Salesforce names compare case-insensitively."""
    return (left or "").strip().lower() == (right or "").strip().lower()


def user_license_seats(rows, active_only=True):
    """UserLicense rows -> ``[{id, name, master_label, definition_key, status, total, used, free}]``."""
    return [user_license_record(row) for row in rows
            if not active_only or row.get("Status") in (None, "Active")]


def psl_seats(rows, active_only=True):
    """PermissionSetLicense rows -> ``[{id, name, developer_name, status, expiration_date, total, used, free}]``."""
    return [psl_record(row) for row in rows if not active_only or row.get("Status") in (None, "Active")]


def find_user_license(seat_rows, name):
    """The seat entry (from :func:`user_license_seats`) of the license called ``name``, or None."""
    for entry in seat_rows:
        if same_name(entry["name"], name) or same_name(entry.get("master_label"), name):
            return entry
    return None


def find_integration_psl(psl_rows):
    """The ``Salesforce API Integration`` PSL entry (by DeveloperName, else label), or None."""
    for entry in psl_rows:
        if entry.get("developer_name") == INTEGRATION_PSL_DEVELOPER_NAME:
            return entry
    for entry in psl_rows:
        if same_name(entry["name"], INTEGRATION_PSL_LABEL):
            return entry
    return None


def is_look_alike(profile):
    """Whether a profile on another license could be mistaken for the integration profile.

    A profile named "API Only" is the known-issue trap whatever its settings; one merely named
    "Integration..." is only mistaken for the integration profile when it is also API-only (an
    "Integration Admin" profile with full access is an ordinary profile that mentions integrations).
    """
    name = profile.get("name") or ""
    return bool(API_ONLY_NAME.search(name) or (LOOK_ALIKE_PATTERN.search(name) and profile.get("api_only")))


def integration_summary(user_license_rows, psl_rows, profile_rows):
    """What the org offers for integration users, from raw rows of the three queries above:
    ``summarize_integration`` over their records."""
    licenses = user_license_seats(user_license_rows, active_only=False)
    license_names = dict((entry["id"], entry["name"]) for entry in licenses)
    return summarize_integration(licenses, psl_seats(psl_rows, active_only=False),
                                 [profile_record(row, license_names) for row in profile_rows])


def summarize_integration(user_licenses, psls, profile_records):
    """What the org offers for integration users, from records (``salesforce.records``).

    Returns ``{available, user_license, psl, profiles, standard_profile, deprecated_profile,
    clones, look_alikes, default_profile, findings, all_profiles}``: ``user_license``/``psl`` are seat entries
    (or None when the org lacks them); ``profiles`` are the profiles on the integration license;
    ``clones`` those of them that are neither the standard nor the deprecated one; ``look_alikes``
    profiles on another license that could be mistaken for an integration profile (is_look_alike); ``default_profile``
    ``{id, name, reason}`` is the migration target a module uses when none is given (or None with
    ``reason`` saying why); ``findings`` are sentences worth showing to a person.
    """
    user_license = find_user_license(user_licenses, INTEGRATION_LICENSE)
    psl = find_integration_psl(psls)

    profiles, look_alikes = [], []
    for entry in profile_records:
        if same_name(entry["license"], INTEGRATION_LICENSE):
            profiles.append(entry)
        elif is_look_alike(entry):
            look_alikes.append(entry)

    standard = [p for p in profiles if same_name(p["name"], STANDARD_PROFILE)]
    deprecated = [p for p in profiles + look_alikes if same_name(p["name"], DEPRECATED_PROFILE)]
    clones = [p for p in profiles if p not in standard and p not in deprecated]

    findings = []
    if user_license is None:
        findings.append("the org has no '%s' user license (Professional Edition, or not provisioned)"
                        % INTEGRATION_LICENSE)
    elif user_license["free"] == 0:
        findings.append("no free '%s' seat (%d of %d used)"
                        % (INTEGRATION_LICENSE, user_license["used"], user_license["total"]))
    if psl is None:
        findings.append("the org has no '%s' permission set license: permission sets cannot grant "
                        "object access to integration users" % INTEGRATION_PSL_LABEL)
    if len(standard) > 1:
        findings.append("%d profiles are named '%s' on the integration license" % (len(standard), STANDARD_PROFILE))
    if deprecated:
        findings.append("the deprecated profile '%s' is present; prefer '%s'" % (DEPRECATED_PROFILE, STANDARD_PROFILE))
    if clones:
        findings.append("custom profile(s) on the integration license: %s"
                        % ", ".join(sorted(p["name"] for p in clones)))
    for profile in look_alikes:
        findings.append("profile '%s' looks like an integration profile but is on the '%s' license: users "
                        "on it still consume that license" % (profile["name"], profile["license"]))

    default = _default_profile(user_license, standard, clones, deprecated)
    if default["id"] is None:
        findings.append("no default target profile: %s" % default["reason"])

    return {"available": user_license is not None, "user_license": user_license, "psl": psl,
            "profiles": profiles, "standard_profile": standard[0] if standard else None,
            "deprecated_profile": deprecated[0] if deprecated else None, "clones": clones,
            "look_alikes": look_alikes, "default_profile": default, "findings": findings,
            "all_profiles": list(profile_records)}


def _default_profile(user_license, standard, clones, deprecated):
    def pick(profile, reason):
        return {"id": profile["id"], "name": profile["name"], "reason": reason}

    if user_license is None:
        return {"id": None, "name": None, "reason": "the org has no '%s' license" % INTEGRATION_LICENSE}
    if standard:
        return pick(standard[0], "the standard profile '%s' on the '%s' license"
                    % (STANDARD_PROFILE, INTEGRATION_LICENSE))
    if len(clones) == 1:
        return pick(clones[0], "the only custom profile on the '%s' license (the standard profile is missing)"
                    % INTEGRATION_LICENSE)
    if len(clones) > 1:
        return {"id": None, "name": None,
                "reason": "%d custom profiles on the '%s' license and no standard one: name the profile to use"
                          % (len(clones), INTEGRATION_LICENSE)}
    on_license = [p for p in deprecated if same_name(p["license"], INTEGRATION_LICENSE)]
    if on_license:
        return pick(on_license[0], "only the deprecated profile '%s' is on the '%s' license"
                    % (DEPRECATED_PROFILE, INTEGRATION_LICENSE))
    return {"id": None, "name": None, "reason": "no profile is on the '%s' license" % INTEGRATION_LICENSE}


def full_license_seats(user_license_rows):
    """Seats of the full ``Salesforce`` user license (``{total, used, free}``) or None."""
    entry = find_user_license(user_license_seats(user_license_rows, active_only=False), FULL_LICENSE)
    if entry is None:
        return None
    return {"total": entry["total"], "used": entry["used"], "free": entry["free"]}


def user_licenses_of_profiles(profile_rows):
    """Seat records of the user licenses of ``profile_rows`` (read with ``PROFILE_FIELDS``), one per license."""
    found = {}
    for row in profile_rows:
        nested = row.get("UserLicense")
        if row.get("UserLicenseId") and isinstance(nested, dict):
            entry = user_license_record(dict(nested, Id=row["UserLicenseId"]))
            found.setdefault(entry["id"], entry)
    return list(found.values())


def license_names_of(user_licenses, user_rows=()):
    """{18-char Id: name} of the user licenses in ``user_licenses`` and those the users' profiles are on."""
    names = dict((entry["id"], entry["name"]) for entry in user_licenses)
    for row in user_rows:
        profile = row.get("Profile") or {}
        if profile.get("UserLicenseId"):
            names.setdefault(to18(profile["UserLicenseId"]), (profile.get("UserLicense") or {}).get("Name"))
    return names
