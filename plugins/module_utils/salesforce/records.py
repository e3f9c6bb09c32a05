# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rows to plain records: one function per sObject, one vocabulary for every module.

Ids are 18-character; a license is named by ``license_id`` and ``license`` (its name) wherever it
appears (profile, permission set, user).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18


def license_kind_of(license_id):
    """PermissionSet.LicenseId points at a UserLicense (100) or a PermissionSetLicense (0PL)."""
    if not license_id:
        return None
    if license_id.startswith("100"):
        return "user_license"
    if license_id.startswith("0PL"):
        return "permission_set_license"
    return None


def _id(value):
    return to18(value) if value else None


def seats(total, used):
    total = int(total or 0)
    used = int(used or 0)
    return {"total": total, "used": used, "free": max(0, total - used)}


def user_license_record(row):
    """UserLicense row (or the ``UserLicense`` of a Profile row, with ``Id``) ->
    ``{id, name, master_label, definition_key, status, total, used, free}``."""
    entry = {"id": _id(row.get("Id")), "name": row.get("Name"), "master_label": row.get("MasterLabel"),
             "definition_key": row.get("LicenseDefinitionKey"), "status": row.get("Status")}
    entry.update(seats(row.get("TotalLicenses"), row.get("UsedLicenses")))
    return entry


def psl_record(row):
    """PermissionSetLicense row -> ``{id, name (label), developer_name, status, expiration_date, total, used, free}``."""
    entry = {"id": _id(row.get("Id")), "name": row.get("MasterLabel"), "developer_name": row.get("DeveloperName"),
             "status": row.get("Status"), "expiration_date": row.get("ExpirationDate")}
    entry.update(seats(row.get("TotalLicenses"), row.get("UsedLicenses")))
    return entry


def profile_record(row, license_names=None):
    """Profile row -> ``{id, name, license_id, license, api_only, api_enabled}``; the license name from
    the nested ``UserLicense`` or else from ``license_names`` {18-char Id: name}."""
    nested = row.get("UserLicense")
    license_id = _id(row.get("UserLicenseId"))
    license_name = nested.get("Name") if isinstance(nested, dict) and nested.get("Name") else \
        (license_names or {}).get(license_id)
    return {"id": _id(row.get("Id")), "name": row.get("Name"), "license_id": license_id, "license": license_name,
            "api_only": bool(row.get("PermissionsApiUserOnly")), "api_enabled": bool(row.get("PermissionsApiEnabled"))}


def permission_set_record(row):
    """PermissionSet row -> ``{id, name, label, license_id}``."""
    return {"id": _id(row.get("Id")), "name": row.get("Name"), "label": row.get("Label"),
            "license_id": _id(row.get("LicenseId"))}
