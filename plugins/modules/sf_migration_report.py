#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_migration_report
short_description: Write the report of a license migration run as JSON, CSV and HTML
version_added: 0.1.0
description:
  - Builds the report of a run of the C(license_migration) role from the per-org results the role
    collected, and writes C(report.json), C(report.csv) (one row per user per org) and a
    self-contained C(report.html) (inline CSS, no script, no external resource) under
    C(<runs_dir>/<run_id>/), owner-only.
  - Returns a one-line summary per org and the statistics the role hands to C(set_stats).
  - Each run also keeps every org's result in C(<runs_dir>/<run_id>/orgs/<org>.json) (the seats read
    before and after reduced to what the report reads), so that O(merge_runs) can make one report of
    several runs of one estate (the slices of a sliced AWX job, the jobs of a workflow). Merged in the
    order given (then O(orgs)), a later section of an org replaces an earlier one and its first error stays.
  - Never talks to Salesforce. In check mode nothing is written; the report is returned with
    C(dry_run=true).
author:
  - sfops maintainers (@sfops)
options:
  runs_dir:
    description: Root directory of runs.
    type: path
    required: true
  run_id:
    description: Identifier of the run (its directory name).
    type: str
    required: true
  orgs:
    description: Per-org results collected by the role (C(license_migration_org_result) of each host).
    type: list
    elements: dict
    required: true
  full_license_price:
    description: Monthly price of a full C(Salesforce) license per user.
    type: int
    default: 165
  integration_seat_price:
    description: Monthly price of an extra C(Salesforce Integration) seat.
    type: int
    default: 10
  currency:
    description: Currency of the prices.
    type: str
    default: USD
  merge_runs:
    description:
      - Run ids whose kept org results are merged into this report, in this order (a run without any is
        left out with a warning). Usually with O(orgs=[]), as C(playbooks/report.yml) does.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    description: Builds the report and writes nothing.
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
seealso:
  - module: sfops.integration_users.sf_migration_plan
"""

EXAMPLES = r"""
- name: Report of the run
  sfops.integration_users.sf_migration_report:
    runs_dir: ~/.ansible/sfops_runs
    run_id: "{{ license_migration_run_id }}"
    orgs: "{{ ansible_play_hosts_all | map('extract', hostvars, 'license_migration_org_result') | select('defined') }}"
  run_once: true
  register: report
"""

RETURN = r"""
report:
  description: The report document (same as C(report.json)).
  returned: success
  type: dict
paths:
  description: Paths of the C(json), C(csv) and C(html) files (empty in check mode).
  returned: success
  type: dict
summaries:
  description: One line per org.
  returned: success
  type: dict
stats:
  description: What to hand to C(ansible.builtin.set_stats).
  returned: success
  type: dict
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_migration_report import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
