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
  - The run of the C(license_migration) role across its step playbooks, and its report.
  - O(operation=start) fixes the run id of a step. The inventory step starts a run (a new id, or
    O(run_id)) and records it in C(<runs_dir>/current_run.json), signed with the operator's key; the later
    steps (sandbox migration, verification, rollout) continue that run, and a rollback continues the run
    it rolls back (O(rollback_run_id)). A current-run file that is edited, signed with another key or
    names no valid run id is not used (a warning says why, and the step starts a new run).
  - O(operation=write) builds the report of the run from the per-org results the role collected
    (O(orgs)) and those the run's earlier steps kept, and writes C(report.json), C(report.csv) (one row
    per user per org) and a self-contained C(report.html) (inline CSS and SVG, no script, no external
    resource, printable) under C(<runs_dir>/<run_id>/), owner-only.
  - The HTML opens with an executive summary (saved and potential saving a month and a year, users moved,
    blocked and why, admin-level rights copied into permission sets, seats to buy with their cost and the
    saving they unlock, the next actions as commands), a chart of savings per production org and a table
    of contents (each production org, then its sandboxes); it ends with the provenance (collection version,
    operator, inventory, run id, times of each step) and the rollback command. Paths under the home or the
    working directory are shown as C(~/...) or relative.
  - Seats and savings are counted one way at every step (the plan's users to move against the seats free
    when it was written), so the potential saving is the same at inventory, after the sandbox and after
    the rollout; in check mode the seats after the moves are projected.
  - Each run keeps every org's result in C(<runs_dir>/<run_id>/orgs/<org>.json) (signed with the key;
    the seats read before and after reduced to what the report reads); O(merge_runs) makes one report of
    several runs of one estate (the slices of a sliced AWX job, the jobs of a workflow). Results are
    merged in order (this run's earlier steps, O(merge_runs), then O(orgs)); a later section of an org
    replaces an earlier one, and the org's error is that of its latest step (each step's error is kept in
    C(steps)). With a key, a kept result that is unsigned, edited or moved from another run or org is left
    out with a warning, and so is one the report cannot read (another shape, unknown steps). A result in
    O(orgs) of another shape fails the task with a message naming its org.
  - The rollback command of a merged report names the merged runs that left backups.
  - Returns a one-line summary per org and the statistics the role hands to C(set_stats).
  - Never talks to Salesforce. In check mode nothing is written; the report is returned with
    C(dry_run=true).
author:
  - sfops maintainers (@sfops)
options:
  operation:
    description: C(start) fixes the run id of a step; C(write) writes the report.
    type: str
    choices: [start, write]
    default: write
  runs_dir:
    description: Root directory of runs.
    type: path
    required: true
  run_id:
    description:
      - Identifier of the run (its directory name). Required with O(operation=write).
      - With O(operation=start), the run id to use; empty, the step starts a run (inventory) or continues
        the current one (later steps).
    type: str
    default: ""
  step:
    description: The entry point of the role this call belongs to (required with O(operation=start)).
    type: str
    choices: [inventory, plan, migrate, verify, rollout, rollback]
  rollback_run_id:
    description: With O(step=rollback), the run being rolled back (the rollback is a step of that run).
    type: str
    default: ""
  orgs:
    description: Per-org results collected by the role (C(license_migration_org_result) of each host).
    type: list
    elements: dict
    default: []
  inventory:
    description:
      - The inventory sources of the run (C(ansible_inventory_sources)), for the provenance and the commands
        the report prints; shown relative to the working directory, or with C(~) for the home directory.
    type: list
    elements: str
    default: []
  signing_key:
    description:
      - The operator's run-state key; empty, the E(SFOPS_SIGNING_KEY) environment variable. Signs the
        current-run file and the kept org results, and authenticates them when read back.
    type: str
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
- name: Fix the run id of this step (the inventory starts a run, later steps continue it)
  sfops.integration_users.sf_migration_report:
    operation: start
    runs_dir: ~/.ansible/sfops_runs
    step: migrate
  run_once: true
  register: run

- name: Report of the run
  sfops.integration_users.sf_migration_report:
    runs_dir: ~/.ansible/sfops_runs
    run_id: "{{ run.run_id }}"
    step: migrate
    inventory: "{{ ansible_inventory_sources }}"
    orgs: "{{ ansible_play_hosts_all | map('extract', hostvars, 'license_migration_org_result') | select('defined') }}"
  run_once: true
  register: report
"""

RETURN = r"""
run_id:
  description: With O(operation=start), the run id of this step.
  returned: operation=start
  type: str
  sample: 20261203T141500Z
source:
  description: With O(operation=start), where the run id comes from (C(given), C(new), C(continued), C(the run rolled back)).
  returned: operation=start
  type: str
report:
  description: The report document (same as C(report.json)).
  returned: operation=write
  type: dict
paths:
  description: Paths of the C(json), C(csv) and C(html) files (empty in check mode).
  returned: operation=write
  type: dict
summaries:
  description: One line per org.
  returned: operation=write
  type: dict
stats:
  description: What to hand to C(ansible.builtin.set_stats).
  returned: operation=write
  type: dict
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_migration_report import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
