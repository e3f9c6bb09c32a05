#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_integration_user
short_description: Move Salesforce integration users onto the free Salesforce Integration license
version_added: 0.1.0
description:
  - The users to change are O(users) (O(username) is the connection's login user), handled in one task
    with batched calls; results are per user. With O(state=restored), O(users) restricts the restore to
    these users of the backup (default all of them). O(lookback_days) is the login history checked for
    user-interface logins.
  - O(state=migrated) moves existing users onto a profile of the C(Salesforce Integration) user license,
    assigns the C(Salesforce API Integration) permission set license and the permission sets asked for,
    and handles permission sets bound to another license per O(conflicting_permission_sets).
  - O(state=present) creates a new dedicated integration user on that license (Salesforce's recommended
    path, and the way out when an org refuses the license change with C(FIELD_INTEGRITY_EXCEPTION)).
  - O(state=absent) deactivates users (Salesforce users cannot be deleted), which frees their seat.
  - O(state=restored) puts users back exactly as a backup written by this module says.
  - Every user of the task is checked before anything is written (seats of the license and of the
    permission set license, target profile, permission sets present and compatible, not the connecting
    user, no recent UI logins). If one check fails, nothing is changed.
  - Before its first write the module saves the state of every user it will change in a JSON file
    (owner-only) under O(backup_dir), and returns its path and content.
  - Each user's writes are one all-or-none transaction (a C(/composite) request with C(allOrNone)), in
    the order Salesforce requires (remove conflicting sets, change profile, assign the permission set
    license, assign permission sets; for O(state=present) create the user, then its assignments). Salesforce
    applies all of them or none, so a failure, or a controller killed mid-run, leaves every user either
    unchanged or fully changed, never half-migrated.
  - Several users share a request of at most 25 writes, whole users only. When one user's write fails,
    nothing of that request happened; the task names that user, the step and the Salesforce error, and
    sends the other users again. The task fails, listing which users were left unchanged and which were
    changed as planned.
  - A permission set or permission set license already assigned (by Salesforce itself when the profile
    changes, or by another job) also rolls a transaction back; that user is read again and its writes
    planned once more.
  - A user needing more than 25 writes (for example removing dozens of conflicting sets) cannot fit one
    transaction; the task then writes step by step (one sObject Collections call per step) and, if a step
    fails, puts the users back itself, which a killed controller cannot do. A warning says so.
  - Costs one composite read call plus one call per 25 writes (about 8 users migrated a call); a failed
    user costs one more call for the others, a request that failed as a whole one read back to tell what
    Salesforce committed. A run with nothing to change makes the read only.
  - The usernames go into the SOQL of the read, so keep a task to a few hundred users.
author:
  - sfops maintainers (@sfops)
options:
  state:
    description: What to do with the users.
    type: str
    choices: [migrated, present, absent, restored]
    default: migrated
  permission_sets:
    description:
      - Permission sets (API names) the users must hold afterwards, for example the one that replicates
        the access the old profile granted. Each must be unbound or bound to the
        C(Salesforce API Integration) permission set license.
    type: list
    elements: str
    default: []
  permission_sets_mode:
    description:
      - V(add) keeps the permission sets the user holds (except conflicting ones removed per
        O(conflicting_permission_sets)); V(exact) removes every set not listed in O(permission_sets).
    type: str
    choices: [add, exact]
    default: add
  conflicting_permission_sets:
    description:
      - Permission sets bound to another user license (for example C(Salesforce)) block the license change.
      - V(fail) refuses the user and names them; V(remove) unassigns them first.
    type: str
    choices: [fail, remove]
    default: fail
  allow_ui_users:
    description: Move users that logged in through the user interface within O(lookback_days).
    type: bool
    default: false
  backup_dir:
    description: Directory of the backups (created with mode 0700; files are 0600).
    type: path
    default: ~/.ansible/sfops_backups
  backup_file:
    description:
      - Backup to restore from, with O(state=restored).
      - Every restore checks that the backup names this org's Id and that each entry's user Id belongs to its
        username; with O(signing_key) it also refuses a backup that is unsigned, edited or signed with another key.
    type: path
  signing_key:
    description:
      - The operator's run-state key (at least 32 characters, for example from C(openssl rand -hex 32), kept in
        Ansible Vault or an AWX credential). Backups are signed with it (HMAC-SHA256).
      - If not set, the environment variable E(SFOPS_SIGNING_KEY) is used. Without a key, backups are unsigned
        and a warning says so.
    type: str
  force:
    description:
      - With O(state=restored), also restore a user someone changed after the run that wrote the backup
        left it (another profile, assignments added or removed since). By default such a user is refused,
        naming each change, because the restore would silently undo it; the other users are not restored
        either (the restore is all-or-none).
      - A backup written before this check existed does not record what its run left; it restores without it.
    type: bool
    default: false
  email:
    description: E-mail of a new user (O(state=present)).
    type: str
  first_name:
    description: First name of a new user.
    type: str
  last_name:
    description: Last name of a new user; defaults to the part of the username before C(@).
    type: str
  alias:
    description: Alias of a new user (8 characters at most); defaults to the start of the username.
    type: str
  time_zone:
    description: C(TimeZoneSidKey) of a new user.
    type: str
    default: GMT
  locale:
    description: C(LocaleSidKey) of a new user.
    type: str
    default: en_US
  language:
    description: C(LanguageLocaleKey) of a new user.
    type: str
    default: en_US
  email_encoding:
    description: C(EmailEncodingKey) of a new user.
    type: str
    default: UTF-8
notes:
  - Whether Salesforce assigns the permission set license by itself on the profile change is disputed;
    the module inserts it when missing and treats C(DUPLICATE_VALUE) as done.
  - Verify in a sandbox that the integration still works on the new license before migrating production.
extends_documentation_fragment:
  - sfops.integration_users.connection
  - sfops.integration_users.users
  - sfops.integration_users.users.lookback
  - sfops.integration_users.users.target_profile
  - sfops.integration_users.connection.attributes
attributes:
  check_mode:
    description: Reports what would change, per user, with no write call.
    support: full
  diff_mode:
    description: Shows each user's profile, license, permission sets and permission set licenses before and after.
    support: full
"""

EXAMPLES = r"""
- name: Move the MuleSoft integration user, replacing its admin access with a dedicated permission set
  sfops.integration_users.sf_integration_user:
    users: svc.mulesoft@acme.com
    permission_sets: [MuleSoft_Integration_Access]
    conflicting_permission_sets: remove

- name: Move several users in one task (batched calls), see what would change first
  sfops.integration_users.sf_integration_user:
    users: "{{ integration_usernames }}"
  check_mode: true
  diff: true

- name: Create a dedicated integration user instead (org refuses the license change)
  sfops.integration_users.sf_integration_user:
    state: present
    users: svc.mulesoft.int@acme.com
    email: platform-team@acme.com
    last_name: MuleSoft Integration
    permission_sets: [MuleSoft_Integration_Access]

- name: Deactivate the old user once the integration runs as the new one
  sfops.integration_users.sf_integration_user:
    state: absent
    users: svc.mulesoft@acme.com

- name: Put users back as a backup says
  sfops.integration_users.sf_integration_user:
    state: restored
    backup_file: "{{ migration.backup_file }}"
"""

RETURN = r"""
users:
  description: One entry per user of the task.
  returned: success or after a rolled-back failure
  type: list
  elements: dict
  contains:
    username:
      description: The user's username.
      type: str
    id:
      description: The user's 18-character Id (null for a user not created yet in check mode).
      type: str
    changed:
      description: Whether this user was (or in check mode would be) changed.
      type: bool
    changes:
      description: What differs, among C(user) (created), C(is_active), C(profile), C(permission_set_licenses), C(permission_sets).
      type: list
      elements: str
    before:
      description: The user's state before the task (null for a new user).
      type: dict
    after:
      description: The user's state the task converges to.
      type: dict
  sample:
    - username: svc.mulesoft@acme.com
      id: 0055g00000AbCdEAAV
      changed: true
      changes: [profile, permission_set_licenses, permission_sets]
      before: {is_active: true, profile: {name: System Administrator, license: Salesforce}, permission_sets: [], permission_set_licenses: []}
      after: {is_active: true, profile: {name: Minimum Access - API Only Integrations, license: Salesforce Integration}}
plan:
  description: The write steps, in order, with the number of records and the users they touch.
  returned: always
  type: list
  elements: dict
  sample: [{"step": "update_users", "records": 1, "users": ["svc.mulesoft@acme.com"]}]
backup_file:
  description: Path of the backup written before the first write.
  returned: when something was written
  type: str
backup:
  description: The backup document (C(format), C(kind), C(org), C(created), C(data.users) states before the task).
  returned: when something was written
  type: dict
rollback:
  description:
    - After a failed write, C(restored) lists the users left unchanged (their transaction was rolled back
      by Salesforce), C(not_restored) the users found in another state (with that state),
      C(deactivated) the users created then deactivated (only when writing step by step).
  returned: on failure after a write
  type: dict
restored_from:
  description: The backup file restored (O(state=restored)).
  returned: with O(state=restored)
  type: str
api_usage:
  description: Data-API calls made by this task and the org's 24-hour usage and allocation.
  returned: always
  type: dict
  sample: {"calls": 5, "used": 1042, "limit": 100000}
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_integration_user import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
