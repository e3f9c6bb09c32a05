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
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_format

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
# LIKE '%API%Only%': the look-alike rule (API_ONLY_NAME) also means "API-Only" and "API_Only".
# integration_user.profile_soql repeats these clauses in its own query (see the test of both).
PROFILE_SOQL = soql_format(
    "SELECT Id, Name, UserLicenseId, UserLicense.Name, PermissionsApiUserOnly, PermissionsApiEnabled "
    "FROM Profile WHERE UserLicense.Name = {0} OR Name LIKE '%API%Only%' OR Name LIKE '%Integration%' "
    "ORDER BY Name", INTEGRATION_LICENSE)


def _same_name(left, right):
    return (left or "").strip().lower() == (right or "").strip().lower()


def _seats(total, used):
    total = int(total or 0)
    used = int(used or 0)
    return {"total": total, "used": used, "free": max(0, total - used)}


def user_license_seats(rows, active_only=True):
    """UserLicense rows -> ``[{id, name, master_label, definition_key, status, total, used, free}]``."""
    out = []
    for row in rows:
        if active_only and row.get("Status") not in (None, "Active"):
            continue
        entry = {"id": to18(row.get("Id")), "name": row.get("Name"), "master_label": row.get("MasterLabel"),
                 "definition_key": row.get("LicenseDefinitionKey"), "status": row.get("Status")}
        entry.update(_seats(row.get("TotalLicenses"), row.get("UsedLicenses")))
        out.append(entry)
    return out


def psl_seats(rows, active_only=True):
    """PermissionSetLicense rows -> ``[{id, name, developer_name, status, expiration_date, total, used, free}]``."""
    out = []
    for row in rows:
        if active_only and row.get("Status") not in (None, "Active"):
            continue
        entry = {"id": to18(row.get("Id")), "name": row.get("MasterLabel"),
                 "developer_name": row.get("DeveloperName"), "status": row.get("Status"),
                 "expiration_date": row.get("ExpirationDate")}
        entry.update(_seats(row.get("TotalLicenses"), row.get("UsedLicenses")))
        out.append(entry)
    return out


def find_user_license(seat_rows, name):
    """The seat entry (from :func:`user_license_seats`) of the license called ``name``, or None."""
    for entry in seat_rows:
        if _same_name(entry["name"], name) or _same_name(entry.get("master_label"), name):
            return entry
    return None


def find_integration_psl(psl_rows):
    """The ``Salesforce API Integration`` PSL entry (by DeveloperName, else label), or None."""
    for entry in psl_rows:
        if entry.get("developer_name") == INTEGRATION_PSL_DEVELOPER_NAME:
            return entry
    for entry in psl_rows:
        if _same_name(entry["name"], INTEGRATION_PSL_LABEL):
            return entry
    return None


def _profile_license(row, license_names):
    nested = row.get("UserLicense")
    if isinstance(nested, dict) and nested.get("Name"):
        return nested["Name"]
    return license_names.get(to18(row.get("UserLicenseId")))


def _profile_entry(row, license_name):
    return {"id": to18(row.get("Id")), "name": row.get("Name"), "license": license_name,
            "user_license_id": to18(row.get("UserLicenseId")),
            "api_only": row.get("PermissionsApiUserOnly"), "api_enabled": row.get("PermissionsApiEnabled")}


def is_look_alike(profile):
    """Whether a profile on another license could be mistaken for the integration profile.

    A profile named "API Only" is the known-issue trap whatever its settings; one merely named
    "Integration..." is only mistaken for the integration profile when it is also API-only (an
    "Integration Admin" profile with full access is an ordinary profile that mentions integrations).
    """
    name = profile.get("name") or ""
    return bool(API_ONLY_NAME.search(name) or (LOOK_ALIKE_PATTERN.search(name) and profile.get("api_only")))


def integration_summary(user_license_rows, psl_rows, profile_rows):
    """What the org offers for integration users, from raw rows of the three queries above.

    Returns ``{available, user_license, psl, profiles, standard_profile, deprecated_profile,
    clones, look_alikes, default_profile, findings}``: ``user_license``/``psl`` are seat entries
    (or None when the org lacks them); ``profiles`` are the profiles on the integration license;
    ``clones`` those of them that are neither the standard nor the deprecated one; ``look_alikes``
    profiles on another license that could be mistaken for an integration profile (is_look_alike); ``default_profile``
    ``{id, name, reason}`` is the migration target a module uses when none is given (or None with
    ``reason`` saying why); ``findings`` are sentences worth showing to a person.
    """
    licenses = user_license_seats(user_license_rows, active_only=False)
    license_names = dict((entry["id"], entry["name"]) for entry in licenses)
    user_license = find_user_license(licenses, INTEGRATION_LICENSE)
    psl = find_integration_psl(psl_seats(psl_rows, active_only=False))

    profiles, look_alikes = [], []
    for row in profile_rows:
        license_name = _profile_license(row, license_names)
        entry = _profile_entry(row, license_name)
        if _same_name(license_name, INTEGRATION_LICENSE):
            profiles.append(entry)
        elif is_look_alike(entry):
            look_alikes.append(entry)

    standard = [p for p in profiles if _same_name(p["name"], STANDARD_PROFILE)]
    deprecated = [p for p in profiles + look_alikes if _same_name(p["name"], DEPRECATED_PROFILE)]
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
            "look_alikes": look_alikes, "default_profile": default, "findings": findings}


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
    on_license = [p for p in deprecated if _same_name(p["license"], INTEGRATION_LICENSE)]
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
