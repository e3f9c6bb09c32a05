#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_permission_set
short_description: Manage a Salesforce permission set declaratively, for integration users
version_added: 0.1.0
description:
  - Creates, updates or deletes one permission set with its object, field and system permissions.
  - By default the set is bound to the permission set license C(Salesforce API Integration)
    (C(SalesforceAPIIntegrationPsl)), which users of the free Salesforce Integration license need
    to hold object access. The user license C(Salesforce Integration), a look-alike in the
    Salesforce UI, is refused, because a set bound to it cannot carry standard-object access.
  - O(access_from) replicates the access a profile grants, or the C(access_gap) found by
    M(sfops.integration_users.sf_profile_check), so an integration user keeps what its old
    profile gave it. What a permission set cannot carry is reported in RV(not_carried) and as a
    warning, never dropped silently; rights Salesforce refuses for the set's license fail the task
    naming each refused item, and nothing is written.
  - Idempotent; a converged set costs one API call and makes no write. All writes go in one
    C(allOrNone) composite request when they fit in 25 subrequests (otherwise the rest follow as
    sObject Collections, 200 records a call).
  - Before an existing set is changed or deleted, what it held is saved as a JSON backup (mode 0600)
    under O(backup_dir); the path is returned in RV(backup_file).
author:
  - sfops maintainers (@sfops)
options:
  name:
    description:
      - API name of the permission set (letters, digits, single underscores; starts with a letter).
    type: str
    required: true
  label:
    description:
      - Label shown in Setup. Defaults to O(name) for a new set; left as it is otherwise.
    type: str
  description:
    description:
      - Description. Left as it is when not given.
    type: str
  license:
    description:
      - What the set is bound to, by permission set license label or developer name, or by user
        license name; C(none) for no license.
      - The user license C(Salesforce Integration) is refused (see the description).
      - Salesforce does not change the license of an existing set; the task fails if it differs.
    type: str
    default: Salesforce API Integration
  object_permissions:
    description:
      - Per object, the rights to grant, as a dict of booleans (C(read), C(create), C(edit),
        C(delete), C(view_all), C(modify_all)), a letter string (C(r) read, C(c) create, C(u) or C(e)
        edit, C(d) delete, C(v) view all, C(m) modify all) or a list of those names.
      - Rights Salesforce requires with another are added (edit or create needs read, delete needs
        edit, modify all needs every right).
      - A listed object is set exactly as listed (no right left means its row is removed); objects
        not listed are left alone unless O(purge=true).
    type: raw
  field_permissions:
    description:
      - Per field, as C(Object.Field), C(read), C(edit) (which implies read) or a dict of booleans
        C(read) and C(edit).
    type: raw
  system_permissions:
    description:
      - System permissions to grant, by their PermissionSet field name with or without the
        C(Permissions) prefix (C(RunFlow), C(ApiEnabled), C(ViewSetup)...); the UI spelling
        C(RunFlows) is accepted. Unknown names fail with suggestions.
    type: list
    elements: str
  access_from:
    description:
      - Access to replicate in the set, added to what the other options list.
    type: dict
    suboptions:
      profile:
        description:
          - Name of a profile whose access (system, object and field permissions) the set replicates.
          - The profile-only setting API Only User is reported in RV(not_carried).
        type: str
      access_gap:
        description:
          - An C(access_gap) returned by M(sfops.integration_users.sf_profile_check)
            (C(system), C(objects), C(fields)).
        type: dict
  purge:
    description:
      - Remove object, field and system permissions that the task does not list.
    type: bool
    default: false
  state:
    description:
      - C(present) creates or updates the set; C(absent) deletes it (refused while the set is
        assigned to users, naming them).
    type: str
    choices: [present, absent]
    default: present
  backup_dir:
    description:
      - Directory of the backups written before an existing set is changed (created with mode 0700).
    type: path
    default: ~/.ansible/sfops_backups
  dedicated_to:
    description:
      - Username of the one user this set carries access for (the C(license_migration) role sets it to the
        migrated user). The set's description records that user's Id, unless O(description) is given.
      - The task fails, writing nothing, when this org has no such user, when the set is assigned to any
        other user, or when its description records another user's Id. A set made for one integration
        and reused for another would give each the other's access.
      - The check rides in the module's read; finding the user's Id costs one more query only while the user
        does not hold the set yet.
    type: str
extends_documentation_fragment:
  - sfops.integration_users.connection
  - sfops.integration_users.connection.attributes
attributes:
  check_mode:
    description: Reads the org and reports what would change, with no write call.
    support: full
  diff_mode:
    description: Returns the set and its permissions before and after.
    support: full
seealso:
  - module: sfops.integration_users.sf_profile_check
  - module: sfops.integration_users.sf_integration_user
"""

EXAMPLES = r"""
- name: Replicate what the Integration Admin profile grants, for users moving to the free license
  sfops.integration_users.sf_permission_set:
    name: Integration_Admin_Access
    label: Integration Admin access (integration license)
    access_from:
      profile: Integration Admin
    system_permissions: [RunFlow]

- name: Exactly these permissions, nothing else
  sfops.integration_users.sf_permission_set:
    name: Sync_Read
    object_permissions:
      Account: r
      Contact: {read: true, edit: true}
    field_permissions:
      Account.Industry: read
    purge: true

- name: Re-grant the gap sf_profile_check found for a user
  sfops.integration_users.sf_permission_set:
    name: Mulesoft_Gap
    access_from:
      access_gap: "{{ check.users['svc.mulesoft@acme.com'].access_gap }}"

- name: Remove a set no one uses any more
  sfops.integration_users.sf_permission_set:
    name: Old_Integration_Set
    state: absent
"""

RETURN = r"""
name:
  description: API name of the set.
  returned: success
  type: str
id:
  description: 18-character Id of the set (null once deleted, or before it is created in check mode).
  returned: success
  type: str
permission_set:
  description:
    - The set as the task leaves it (as it would be, in check mode); empty once deleted.
  returned: success
  type: dict
  contains:
    label:
      description: Label.
      type: str
    description:
      description: Description.
      type: str
    license:
      description: Name of the license the set is bound to, or null.
      type: str
    system_permissions:
      description: Granted system permissions (field names without the C(Permissions) prefix).
      type: list
      elements: str
    object_permissions:
      description: Rights per object (C(Read), C(Create), C(Edit), C(Delete), C(ViewAllRecords), C(ModifyAllRecords)).
      type: dict
    field_permissions:
      description: Rights per C(Object.Field) (C(Read), C(Edit)).
      type: dict
  sample:
    name: Integration_Admin_Access
    license: Salesforce API Integration
    system_permissions: [ApiEnabled]
    object_permissions: {Account: [Create, Delete, Edit, Read], Opportunity: [Read]}
    field_permissions: {}
changes:
  description: The writes made (or that would be made in check mode), in order (C(op), C(item)).
  returned: success
  type: list
  elements: dict
  sample: [{op: create, item: permission set Integration_Admin_Access}, {op: create, item: "object Account: Create/Delete/Edit/Read"}]
not_carried:
  description: Access asked for that the permission set does not carry, with the reason.
  returned: when some access is not carried
  type: list
  elements: dict
  sample: [{item: "system:ApiUserOnly", reason: "a profile-only setting; the integration profile sets it"}]
backup_file:
  description: Path of the JSON backup of the set as it was before this task changed it.
  returned: when an existing set was changed or deleted
  type: str
diff:
  description: The set before and after (same shape as RV(permission_set)).
  returned: when diff mode is on
  type: dict
api_usage:
  description: Data-API calls made by this task, and the org's 24-hour API usage and allocation.
  returned: always
  type: dict
  sample: {"calls": 2, "used": 1044, "limit": 100000}
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_permission_set import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
