#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_query
short_description: Run a read-only SOQL query against a Salesforce org
version_added: 0.1.0
description:
  - Runs a SOQL query on the REST API or the Tooling API and returns every record, following
    C(nextRecordsUrl) until the result is complete.
  - Never changes the org; it runs in check mode too and always reports RV(ignore:changed=false).
author:
  - sfops maintainers (@sfops)
options:
  query:
    description:
      - The SOQL statement.
      - Put values into it with care. From a playbook, quote strings yourself; in Python code of
        this collection, use the SOQL literal helper of the collection.
    type: str
    required: true
    aliases: [soql]
  tooling:
    description:
      - Query the Tooling API (for example C(ApexClass), C(ValidationRule), C(Flow)) instead of the REST API.
    type: bool
    default: false
  include_attributes:
    description:
      - Keep Salesforce's C(attributes) envelope (C(type), C(url)) on each record and nested record.
    type: bool
    default: false
  batch_size:
    description:
      - Records per page (200 to 2000), sent as C(Sforce-Query-Options). Salesforce's default is 2000.
        Every page is fetched either way; smaller pages cost more API calls.
    type: int
extends_documentation_fragment:
  - sfops.integration_users.connection
  - sfops.integration_users.connection.attributes
attributes:
  check_mode:
    description: Runs normally in check mode; the module never changes anything.
    support: full
  diff_mode:
    description: Returns no diff; nothing changes.
    support: none
"""

EXAMPLES = r"""
- name: Read the integration users of an org
  sfops.integration_users.sf_query:
    query: >-
      SELECT Id, Username, Profile.Name FROM User
      WHERE Profile.UserLicense.Name = 'Salesforce Integration' AND IsActive = true
  register: integration_users

- name: Find Apex that names a profile (Tooling API), with connection options set once
  module_defaults:
    group/sfops.integration_users.salesforce:
      login_url: https://acme.my.salesforce.com
      client_id: "{{ sf_client_id }}"
      client_secret: "{{ sf_client_secret }}"
  sfops.integration_users.sf_query:
    query: SELECT Id, Name FROM ApexClass WHERE NamespacePrefix = null
    tooling: true
"""

RETURN = r"""
records:
  description: The records, in the order Salesforce returned them; relationship fields are nested dictionaries.
  returned: success
  type: list
  elements: dict
  sample: [{"Id": "0055g00000AbCdEAAV", "Username": "svc.mulesoft@acme.com", "Profile": {"Name": "System Administrator"}}]
total_size:
  description: Salesforce's C(totalSize); for C(SELECT COUNT() FROM ...) the count (with no records).
  returned: success
  type: int
  sample: 1
api_usage:
  description:
    - Data-API calls made by this task, and the org's 24-hour API usage and allocation from the
      last C(Sforce-Limit-Info) header (null when no answer carried it).
  returned: always
  type: dict
  contains:
    calls:
      description: Calls made by this task (retries included).
      type: int
    used:
      description: API requests used in the org's rolling 24 hours.
      type: int
    limit:
      description: The org's daily API allocation.
      type: int
  sample: {"calls": 1, "used": 1042, "limit": 100000}
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_query import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
