# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Implementation of sf_license_info: org facts, seat tables and the integration summary, read in
one composite call (four queries; later pages, if any, are fetched separately)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import licenses
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.reads import read_subrequests
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.options import get_spec
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec

ARGUMENT_SPEC = dict(
    get_spec("include_inactive"),
)

ORGANIZATION_SOQL = "SELECT Id, Name, OrganizationType, IsSandbox, InstanceName FROM Organization"


def organization_facts(rows):
    if not rows:
        return None
    row = rows[0]
    return {"id": to18(row.get("Id")), "name": row.get("Name"), "edition": row.get("OrganizationType"),
            "is_sandbox": row.get("IsSandbox"), "instance": row.get("InstanceName")}


def read_license_rows(client):
    """The rows of the Organization, UserLicense, PermissionSetLicense and Profile queries in one
    composite call. Returns ``(rows_by_name, organization_error)``: the Organization query may be
    refused to a minimal integration user (INVALID_TYPE), which is reported, not fatal."""
    subrequests = [client.query_subrequest("organization", ORGANIZATION_SOQL),
                   client.query_subrequest("user_licenses", licenses.USER_LICENSE_SOQL),
                   client.query_subrequest("psls", licenses.PSL_SOQL),
                   client.query_subrequest("profiles", licenses.PROFILE_SOQL)]
    rows, organization_error = {}, None
    for reference, (found, error) in read_subrequests(client, subrequests).items():
        if error is not None and reference != "organization":
            raise error
        if error is not None:
            organization_error = error
        rows[reference] = found or []
    return rows, organization_error


def run(task):
    rows, organization_error = read_license_rows(task.client)
    if organization_error is not None:
        task.warn("organization facts unavailable: the connecting user cannot read Organization (%s)"
                  % (organization_error.error_code or organization_error.message))
    active_only = not task.params["include_inactive"]
    return {
        "changed": False,
        "org": organization_facts(rows["organization"]),
        "user_licenses": licenses.user_license_seats(rows["user_licenses"], active_only),
        "permission_set_licenses": licenses.psl_seats(rows["psls"], active_only),
        "integration": licenses.integration_summary(rows["user_licenses"], rows["psls"], rows["profiles"]),
        "salesforce_seats": licenses.full_license_seats(rows["user_licenses"]),
    }


SPEC = ModuleSpec("sf_license_info", ARGUMENT_SPEC, run, supports_check_mode=True)
