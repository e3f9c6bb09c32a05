#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_license_info
short_description: Report license seats and integration-license readiness of a Salesforce org
version_added: 0.1.0
description:
  - Reads, in one C(composite) API call, the org's facts, every C(UserLicense) and
    C(PermissionSetLicense) with total, used and free seats, and the profiles that matter for
    integration users.
  - Summarises what the org offers for integration users (RV(integration)) - seats of the
    C(Salesforce Integration) user license and of the C(Salesforce API Integration) permission set
    license, the profiles on that license (the standard C(Minimum Access - API Only Integrations),
    the deprecated C(Salesforce API Only System Integrations), clones), profiles on other licenses
    that only look like integration profiles, and the profile a migration would target by default.
  - Never changes the org.
author:
  - sfops maintainers (@sfops)
options: {}
extends_documentation_fragment:
  - sfops.integration_users.connection
  - sfops.integration_users.users.inactive
  - sfops.integration_users.connection.attributes
attributes:
  check_mode:
    description: Runs normally in check mode; the module never changes anything.
    support: full
  diff_mode:
    description: Returns no diff; nothing changes.
    support: none
notes:
  - A user on the minimal integration profile cannot read C(Organization); RV(org) is then null and
    a warning says so.
"""

EXAMPLES = r"""
- name: Seats and integration profiles of every org in the inventory
  sfops.integration_users.sf_license_info:
    login_url: "{{ sf_my_domain_url }}"
    client_id: "{{ sf_client_id }}"
    client_secret: "{{ sf_client_secret }}"
  register: licenses

- name: Stop when no integration seat is free
  ansible.builtin.assert:
    that: licenses.integration.user_license.free > 0
    fail_msg: "{{ inventory_hostname }} has no free Salesforce Integration seat"
"""

RETURN = r"""
org:
  description: Facts of the org, or null when the connecting user cannot read C(Organization).
  returned: success
  type: dict
  contains:
    id:
      description: 18-character organization Id.
      type: str
    name:
      description: Organization name.
      type: str
    edition:
      description: C(OrganizationType), for example C(Enterprise Edition).
      type: str
    is_sandbox:
      description: Whether the org is a sandbox.
      type: bool
    instance:
      description: Salesforce instance name, for example C(USA123).
      type: str
  sample: {"id": "00D5g000001AbCdEAK", "name": "Acme", "edition": "Enterprise Edition", "is_sandbox": false, "instance": "USA123"}
user_licenses:
  description: Active user licenses (all with O(include_inactive)) and their seats.
  returned: success
  type: list
  elements: dict
  sample:
    - {"id": "1005g000000AbCdAAK", "name": "Salesforce Integration", "master_label": "Salesforce Integration",
       "definition_key": "PID_Salesforce_Integration", "status": "Active", "total": 5, "used": 2, "free": 3}
permission_set_licenses:
  description: Active permission set licenses (all with O(include_inactive)) and their seats.
  returned: success
  type: list
  elements: dict
  sample:
    - {"id": "0PL5g000000AbCdGAK", "name": "Salesforce API Integration", "developer_name": "SalesforceAPIIntegrationPsl",
       "status": "Active", "expiration_date": null, "total": 5, "used": 2, "free": 3}
integration:
  description: What the org offers for integration users.
  returned: success
  type: dict
  contains:
    available:
      description: Whether the org has the C(Salesforce Integration) user license.
      type: bool
    user_license:
      description: Seats of the C(Salesforce Integration) user license (same keys as RV(user_licenses)), or null.
      type: dict
    psl:
      description: Seats of the C(Salesforce API Integration) permission set license, or null.
      type: dict
    profiles:
      description: Profiles on the C(Salesforce Integration) license (C(id), C(name), C(license), C(user_license_id), C(api_only), C(api_enabled)).
      type: list
      elements: dict
    standard_profile:
      description: The standard C(Minimum Access - API Only Integrations) profile, or null.
      type: dict
    deprecated_profile:
      description: The deprecated C(Salesforce API Only System Integrations) profile, or null.
      type: dict
    clones:
      description: Other profiles on the integration license (clones or custom profiles).
      type: list
      elements: dict
    look_alikes:
      description:
        - Profiles on another license that could be mistaken for the integration profile (users on them
          still consume that license).
        - Any profile named C(API Only) is one, and so is a profile named C(Integration...) that is also API-only.
      type: list
      elements: dict
    default_profile:
      description: The profile a migration targets when none is named (C(id), C(name), C(reason)); C(id) is null when there is none, and C(reason) says why.
      type: dict
    findings:
      description: Observations worth a person's attention (no free seat, missing PSL, clones, look-alikes).
      type: list
      elements: str
  sample:
    available: true
    user_license: {"id": "1005g000000AbCdAAK", "name": "Salesforce Integration", "total": 5, "used": 2, "free": 3}
    psl: {"id": "0PL5g000000AbCdGAK", "name": "Salesforce API Integration", "total": 5, "used": 2, "free": 3}
    profiles: [{"id": "00e5g000000AbCdAAC", "name": "Minimum Access - API Only Integrations"}]
    standard_profile: {"id": "00e5g000000AbCdAAC", "name": "Minimum Access - API Only Integrations"}
    deprecated_profile: null
    clones: []
    look_alikes: [{"id": "00e5g000000XyZwAAC", "name": "API Only Integration User", "license": "Salesforce"}]
    default_profile: {"id": "00e5g000000AbCdAAC", "name": "Minimum Access - API Only Integrations",
                      "reason": "the standard profile 'Minimum Access - API Only Integrations' on the 'Salesforce Integration' license"}
    findings: []
salesforce_seats:
  description: Seats of the full C(Salesforce) user license (C(total), C(used), C(free)), or null when the org has none.
  returned: success
  type: dict
  sample: {"total": 100, "used": 87, "free": 13}
api_usage:
  description:
    - Data-API calls made by this task, and the org's 24-hour API usage and allocation from the
      last C(Sforce-Limit-Info) header (null when no answer carried it).
  returned: always
  type: dict
  sample: {"calls": 1, "used": 1042, "limit": 100000}
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_license_info import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
