#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_migration_plan
short_description: Write, load and gate integration-license migration plans, and record their runs
version_added: 0.1.0
description:
  - Controller-side companion of the C(license_migration) role; reads and writes files under
    O(runs_dir) only and never talks to Salesforce.
  - O(operation=write) builds the plan of a production org from the registered results of
    M(sfops.integration_users.sf_license_info), M(sfops.integration_users.sf_user_info) and
    M(sfops.integration_users.sf_profile_check), and writes it with a checksum to
    C(<runs_dir>/plans/<org>.json) (mode 0600). Each user is C(move), C(wait) (no free seat left),
    C(blocked) (with the findings that block it) or C(excluded). An existing plan with other decisions
    is kept (with a warning) unless O(overwrite=true).
  - O(operation=load) reads the plan, refuses it when its checksum does not match its content (an
    edited plan), and returns the entries to move (usernames mapped to a sandbox's copies); with
    O(gate=true) only the entries whose latest sandbox verification passed for the same checksum.
  - O(operation=record_migration) and O(operation=record_verification) write the records the gate
    reads, under C(<runs_dir>/records/<checksum>/).
  - This module decides what the role's steps came to, so the role only passes results along. With
    O(phase), O(operation=load) refuses an org of the wrong type (C(migrate) writes to sandboxes only,
    C(rollout) to production only) and, given O(api_usage), an org with fewer than O(min_api_remaining)
    daily API requests left, before any write; it returns RV(started), RV(section) (the org result's
    sections so far), for C(verify) the users to verify and the query of their failed logins, for
    C(rollout) the gate and the RV(batches) of O(batch_size).
  - O(operation=record_migration) with O(results) (the registered loop results of
    M(sfops.integration_users.sf_integration_user)) tells applied moves from refused ones (a refusal is a
    result with C(error)) and returns RV(applied), the org's error, the moves to verify and the query of
    their failed logins since O(started).
  - O(operation=record_batch) records a production batch's verification (when it was verified), judges
    the batch (a refused move or a failed verification puts it back and stops the rollout) and returns the
    rollout's RV(section) after it, with the backups to RV(restore) newest first.
  - A sandbox (O(org_type=sandbox)) needs O(production_org) and O(sandbox_name) for every operation but
    C(lock) and C(unlock).
  - With O(signing_key) (or E(SFOPS_SIGNING_KEY)) plans and records are signed (HMAC-SHA256). A plan that is
    unsigned, edited, signed with another key or copied from another org is then refused, naming the file,
    and a record not signed for its own kind, org and plan is left out of the gate (with a warning naming it).
    Without a key, sandbox and read-only work go on with a warning, and O(gate=true) on a production org fails.
  - O(operation=lock) takes the org's lock for O(run_id) (a lease file C(<runs_dir>/locks/<org>.lock) holding
    the run id, owner, host, process id and times), or renews it when this run holds it already; another
    run's live lease fails the task. A lease is stale, and taken over with a warning, when its process is
    gone (same host) or it was not renewed within its O(lock_ttl). O(operation=unlock) gives it back.
  - O(users) restricts what an operation acts on. With O(operation=write), plan exactly these users, in
    this order, instead of every candidate; otherwise, restrict RV(moves) (and a verification) to these
    production usernames.
author:
  - sfops maintainers (@sfops)
options:
  operation:
    description: What to do.
    type: str
    required: true
    choices: [write, load, record_migration, record_verification, lock, unlock, record_batch]
  runs_dir:
    description: Root directory of plans, records, reports and backups (created owner-only).
    type: path
    required: true
  org:
    description: Inventory name of the org the task is about.
    type: str
    required: true
  production_org:
    description: Inventory name of the production org whose plan applies (for a sandbox). Defaults to O(org).
    type: str
  org_type:
    description: Whether O(org) is a production org or a sandbox.
    type: str
    choices: [production, sandbox]
    default: production
  sandbox_name:
    description: Username suffix of a sandbox (its copies of production users are C(<username>.<sandbox_name>)).
    type: str
  run_id:
    description: Identifier of the run, kept in plans and records.
    type: str
  licenses:
    description: Registered result of M(sfops.integration_users.sf_license_info) (O(operation=write)).
    type: dict
  user_info:
    description: Registered result of M(sfops.integration_users.sf_user_info) (O(operation=write)).
    type: dict
  profile_check:
    description: Registered result of M(sfops.integration_users.sf_profile_check) on the same users (O(operation=write)).
    type: dict
  exclude:
    description: Usernames never to move (status C(excluded)).
    type: list
    elements: str
    default: []
  accepted_findings:
    description:
      - Finding codes (for example C(PROFILE_NAME_REFERENCE)) or component names a reviewer accepts;
        they are listed in the entries' C(accepted_findings) and do not block.
    type: list
    elements: str
    default: []
  permission_set_prefix:
    description: Prefix of the permission set that replicates each user's access gap.
    type: str
    default: Integration_Access_
  access_source:
    description:
      - With O(operation=write), what each user's permission set grants. V(copy) replicates the access gap
        (what the old profile and the removed sets grant and the target lacks). V(observed) narrows that copy
        to what the evidence supports (O(profile_check) run with C(usage_days)), per O(access_margin). It keeps
        the copy's field permissions on the objects kept and its setup access (connected apps, Apex classes,
        custom permissions), and the copy's system permissions without the admin-level ones (Modify All
        Data, View All Data, Manage Users...).
      - Where the evidence cannot support a set, the entry keeps the copy and says why in
        C(access_source.why). The entry records the copied gap and what was removed.
      - Reads are seen on one day only (the newest usage log), writes over the C(usage_days) window (records
        modified). So V(keep_reads) keeps every read of the copy; a job that writes rarely (quarterly,
        yearly) needs a C(usage_days) that covers its last run, or its objects granted through
        M(sfops.integration_users.sf_permission_set) before the production rollout. The sandbox verification
        and the gate apply to such a set as to any other.
    type: str
    choices: [copy, observed]
    default: copy
  access_sources:
    description:
      - Per username, V(copy) or V(observed), overriding O(access_source) for that user.
    type: dict
    default: {}
  access_margin:
    description:
      - With V(observed), the rights the set keeps, never more than the copy gives (or, for an object the copy
        has no row for, than Modify All Data or View All Data reached). V(keep_reads) keeps every read of the
        copy and the create, edit and delete rights seen used (records modified in the window, or write and
        delete calls in the log). V(as_used) keeps reads too only where they were seen (one day of log). V(read_write) also
        gives create and edit on every used object.
      - An object used through View All Data or Modify All Data gets View All (and Modify All where it was
        written), so the records it reached stay reachable while the other objects lose that reach.
      - Narrowing is refused, and the copy kept, when the log was not read, records were not counted, calls
        name no object or cannot be told read from write (composite, Bulk, Tooling), no use was seen at all,
        or calls name setup objects no permission set grants one by one.
    type: str
    choices: [keep_reads, as_used, read_write]
    default: keep_reads
  overwrite:
    description: Replace an existing plan whose decisions differ.
    type: bool
    default: false
  gate:
    description: With O(operation=load), return in RV(moves) only the entries a sandbox verified for this plan.
    type: bool
    default: false
  override_reason:
    description: With O(gate=true), allow every entry anyway; the reason is returned and reported.
    type: str
  started:
    description: When the migration recorded by O(operation=record_migration) started (UTC ISO-8601).
    type: str
  migrated:
    description: The C(users) result of M(sfops.integration_users.sf_integration_user) (O(operation=record_migration)).
    type: list
    elements: dict
    default: []
  backup_file:
    description: The backup written by that migration.
    type: str
  user_states:
    description: The C(users) result of M(sfops.integration_users.sf_user_info) after the move (O(operation=record_verification)).
    type: list
    elements: dict
    default: []
  probes:
    description: Results of M(sfops.integration_users.sf_integration_probe), one per user, each with C(username).
    type: list
    elements: dict
    default: []
  failed_logins:
    description: C(LoginHistory) rows of failed logins since the move (C(UserId), C(Status), C(LoginTime)).
    type: list
    elements: dict
    default: []
  plan:
    description:
      - A plan computed earlier in the same run (the RV(plan) of O(operation=write)), used by O(operation=load)
        when no plan file exists, which is the case under C(--check). Its checksum is verified too.
    type: dict
  signing_key:
    description:
      - The operator's run-state key, at least 32 characters without whitespace (for example from
        C(openssl rand -hex 32)), from Ansible Vault or an AWX credential. Never logged.
      - If not set, the environment variable E(SFOPS_SIGNING_KEY) is used.
    type: str
  lock_ttl:
    description: Seconds after its last renewal at which a lease of O(operation=lock) counts as stale.
    type: int
    default: 1800
  user_tasks_error:
    description: Message of a failed user-supplied verification task file; every user verified then fails.
    type: str
  phase:
    description: With O(operation=load), the role's entry point the plan is loaded for (see the description).
    type: str
    choices: [migrate, verify, rollout]
  api_usage:
    description: The C(api_usage) of M(sfops.integration_users.sf_license_info) (C(limit), C(used)), read just before the writes.
    type: dict
  min_api_remaining:
    description: Daily API requests O(org) must have left for O(phase=migrate) or O(phase=rollout) to go on.
    type: int
  batch_size:
    description: Users per production batch (O(phase=rollout)).
    type: int
    default: 5
  results:
    description: The registered loop results of the moves (each with its C(item), the plan entry), for O(operation=record_migration).
    type: list
    elements: dict
  rollout:
    description: The RV(section) before this batch (of O(operation=load) for the first batch, else of the previous O(operation=record_batch)).
    type: dict
  batch_number:
    description: Number of the batch (from 1), for O(operation=record_batch).
    type: int
  applied:
    description: The registered result of O(operation=record_migration) for this batch; left out when the batch did not start.
    type: dict
attributes:
  check_mode:
    description: Computes everything and writes no file.
    support: full
  diff_mode:
    description: O(operation=write) returns the previous and the new plan.
    support: full
  action:
    description: Runs on the controller through an action plugin of the same name.
    support: full
  async:
    description: Does not support async.
    support: none
extends_documentation_fragment:
  - sfops.integration_users.users
notes:
  - Files are written atomically with mode 0600 in directories of mode 0700; an unchanged file is not rewritten.
seealso:
  - module: sfops.integration_users.sf_migration_report
"""

EXAMPLES = r"""
- name: Write the plan of a production org
  sfops.integration_users.sf_migration_plan:
    operation: write
    runs_dir: ~/.ansible/sfops_runs
    org: "{{ inventory_hostname }}"
    licenses: "{{ licenses }}"
    user_info: "{{ users }}"
    profile_check: "{{ check }}"
    exclude: [svc.legacy@acme.com]

- name: Load it for a sandbox (refused when edited)
  sfops.integration_users.sf_migration_plan:
    operation: load
    runs_dir: ~/.ansible/sfops_runs
    org: acme-uat
    org_type: sandbox
    sandbox_name: uat
    production_org: acme-prod
  register: loaded
"""

RETURN = r"""
path:
  description: Path of the plan file.
  returned: success
  type: str
plan:
  description: The plan (C(format), C(org), C(target_profile), C(seats), C(settings), C(findings), C(entries), C(counts), C(checksum), C(meta)).
  returned: with O(operation=write) and O(operation=load)
  type: dict
checksum:
  description: C(sha256:<hex>) of the plan's decisions.
  returned: with O(operation=write) and O(operation=load)
  type: str
written:
  description: Whether the plan file was written by this task.
  returned: with O(operation=write)
  type: bool
stale:
  description: True when an existing plan was kept although the org now gives other decisions.
  returned: when an existing plan was kept
  type: bool
moves:
  description: Plan entries to apply (C(username), C(target_username), C(permission_set), C(remove_permission_sets)...).
  returned: with O(operation=load)
  type: list
  elements: dict
entries:
  description: Every plan entry, with C(target_username) (the username in this org).
  returned: with O(operation=load)
  type: list
  elements: dict
gate:
  description: C(allowed) usernames, C(missing) (C(username), C(reason)) and C(override).
  returned: with O(gate=true)
  type: dict
records:
  description: Records of this org for this plan.
  returned: with O(operation=load)
  type: list
  elements: dict
migrated:
  description: Usernames (in O(org)) the migration records of this plan say were moved.
  returned: with O(operation=load)
  type: list
  elements: str
migrated_since:
  description: Start of the earliest recorded move of the entries, or null.
  returned: with O(operation=load)
  type: str
users:
  description: Per user, C(passed), C(problems) and C(probes).
  returned: with O(operation=record_verification)
  type: list
  elements: dict
passed:
  description: Whether every verified user passed.
  returned: with O(operation=record_verification)
  type: bool
record:
  description: The record document.
  returned: with O(operation=record_migration) and O(operation=record_verification)
  type: dict
started:
  description: When O(operation=load) ran (UTC ISO-8601), the start of the moves that follow it.
  returned: with O(operation=load)
  type: str
section:
  description:
    - The sections of the org's result this operation decided, for the run report (C(plan); C(migrate) and
      C(error); C(verify) and C(error); for a rollout C(rollout) (C(gate), C(batches), C(stopped)), C(migrate),
      C(verify) and C(error)).
  returned: with O(operation=load), O(operation=record_migration) given O(results), O(operation=record_verification), O(operation=record_batch)
  type: dict
verify_moves:
  description: The plan entries to verify (O(phase=verify) of load; the applied moves of O(operation=record_migration)).
  returned: with O(phase=verify) and O(operation=record_migration) given O(results)
  type: list
  elements: dict
failed_logins_query:
  description: SOQL of the failed logins of those users since their move, or null when there is no window.
  returned: with O(phase=verify) and O(operation=record_migration) given O(results)
  type: str
batches:
  description: The moves the gate allows, in batches of O(batch_size).
  returned: with O(phase=rollout)
  type: list
  elements: list
applied:
  description: C(started), C(usernames), C(users) (applied), C(backup_files), C(errors), C(failed_usernames), C(refusal) (one line), C(dry_run).
  returned: with O(operation=record_migration) given O(results)
  type: dict
verify:
  description: Whether the batch is to be verified (some moves applied, none refused, not under C(--check)).
  returned: with O(operation=record_migration) given O(results)
  type: bool
restore:
  description: Backup files to restore, newest first, when the batch failed (else empty).
  returned: with O(operation=record_batch)
  type: list
  elements: str
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_migration_plan import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
