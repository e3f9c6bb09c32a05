#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_integration_probe
short_description: Check that an integration user still works, logged in with its own credentials
version_added: 0.1.0
description:
  - Logs in with the connection options given (typically O(auth=jwt) with the integration's connected
    app and O(username) the migrated user, or that app's client credentials) and runs read probes (SOQL
    queries and REST GETs below the data API).
  - Reports each probe's outcome in RV(results) and never fails because a probe or the login failed,
    so the caller decides (the C(license_migration) role rolls back a production batch).
  - Not part of the C(salesforce) action group on purpose, so that C(module_defaults) of the group
    (the admin's connection) never leak into a probe meant to run as another user.
  - O(username) is required and names the user the probes must run as. After the login the module asks
    Salesforce who the session belongs to; a session of anyone else (for example because an unset
    option fell back to the operator's C(SALESFORCE_*) variables) fails the login check and no probe runs.
author:
  - sfops maintainers (@sfops)
options:
  probes:
    description:
      - Probes to run, each a dict with C(name), and C(soql) (with optional C(tooling) and
        C(min_records)), C(rest) (a path below C(/services/data/vNN.N/), for example C(limits)) or
        C(apexrest) (a path below C(/services/apexrest/), for example C(orders/1), of an Apex REST class the
        integration calls, which answers 403 C(FORBIDDEN) when the user lost access to the class).
      - With no probe, only the login is checked.
    type: list
    elements: dict
    default: []
extends_documentation_fragment:
  - sfops.integration_users.connection
attributes:
  check_mode:
    description: Runs normally in check mode; probes only read.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
  action:
    description: Runs on the controller through an action plugin of the same name.
    support: full
  async:
    description: Does not support async.
    support: none
"""

EXAMPLES = r"""
- name: Read Account as the migrated MuleSoft user
  sfops.integration_users.sf_integration_probe:
    login_url: https://acme.my.salesforce.com
    client_id: "{{ mulesoft_app_client_id }}"
    private_key_file: "{{ mulesoft_app_key }}"
    username: svc.mulesoft@acme.com
    probes:
      - {name: read accounts, soql: SELECT Id FROM Account LIMIT 1}
      - {name: limits, rest: limits}
      - {name: order service, apexrest: orders/1}
  register: probe
"""

RETURN = r"""
username:
  description: The user the probes ran as.
  returned: always
  type: str
login:
  description: C(passed) and C(error) of the login.
  returned: always
  type: dict
passed:
  description: The login and every probe passed.
  returned: always
  type: bool
results:
  description: Per probe C(name), C(kind), C(target), C(passed), C(error), C(records).
  returned: always
  type: list
  elements: dict
api_usage:
  description: Data-API calls made by this task, and the org's 24-hour API usage and allocation.
  returned: always
  type: dict
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_integration_probe import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
