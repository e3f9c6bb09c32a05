#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_profile_check
short_description: Find what would break if integration users moved to the Salesforce Integration license
version_added: 0.1.0
description:
  - Read-only check to run before any user changes profile. Without O(users) it checks every active
    standard user of the org that is not on the C(Salesforce Integration) license yet. Looks at the org (seats of the
    C(Salesforce Integration) user license and of the C(Salesforce API Integration) permission set
    license, the target profile, look-alike profiles), at each user (permission sets bound to
    another user license, access the target profile lacks, user-interface logins, the connecting
    user itself, users already migrated) and at code and configuration that test the users'
    profiles by name or Id (Apex classes and triggers with line numbers, validation rules, flows,
    formula fields, hierarchy custom settings owned by the profiles).
  - Every finding has a C(code), a C(severity) (C(blocker), C(warning) or C(info)), the C(user)
    and C(component) it is about, a C(message) and a C(remediation). Findings come in a stable
    order with stable wording, so two reports can be compared.
  - Never changes the org; always reports RV(ignore:changed=false) and runs the same in check mode.
  - What only the old profile grants is reported per user. C(CONNECTED_APP_ACCESS) is a blocker when the
    user logs in through an admin-approved connected app (its OAuth token used in the window) that only its
    profile pre-authorizes, a warning for other apps of its profile; C(SETUP_ACCESS_GAP) names the Apex
    classes, Visualforce pages and custom permissions; C(RECORD_TYPE_VISIBILITY), C(LOGIN_IP_RANGES_DROPPED)
    and C(LOGIN_HOURS_DROPPED) what the profile holds alone; C(ADMIN_RIGHTS) the admin-level rights of the
    access to replicate; C(NO_ROLLBACK_SEAT) a rollback that would find no free full seat. Each user's
    C(access_gap) holds the setup entities under C(setup).
  - API cost does not grow with the number of users beyond paging. For up to 50 users it is at most 10
    calls (8 on the emulator's example estate, all scans on). Reading the Tooling C(Metadata) of validation
    rules, flows and custom fields costs one call per 25 of them (Salesforce serves that field one record
    at a time).
author:
  - sfops maintainers (@sfops)
options:
  scans:
    description:
      - Which code and configuration to scan for references to the users' profiles.
      - V(profile_settings) reads what only a profile holds (Tooling C(Profile.Metadata) of the users'
        profiles and of the target profile, one call for up to five profiles) for the record types,
        login IP ranges and login hours the move would drop.
    type: list
    elements: str
    choices: [apex, triggers, validation_rules, flows, formula_fields, custom_settings, profile_settings]
    default: [apex, triggers, validation_rules, flows, formula_fields, custom_settings, profile_settings]
  extra_strings:
    description:
      - More strings to look for (case-insensitive, whole words) in the scanned code and
        configuration, for example the name of a bypass flag.
    type: list
    elements: str
    default: []
  usage_days:
    description:
      - With a number of days, also report what each user about to move really used of the access it holds,
        in RV(users[].observed_access), from two sources. The newest complete day of the ApiTotalUsage
        event log gives its calls per object (read or written), per connected app and per Apex REST
        resource. The records it last modified in the last O(usage_days) days are counted per object it
        holds rights on or called (a create sets the last modifier too).
      - V(0) (the default) reads neither. Costs two API calls for the log and one per five objects counted,
        at most 25 objects (those with write rights first; the others are listed as not counted).
      - Counts are of the records the connecting user can see (View All Data gives the whole count). A rare
        job (quarterly, yearly) may use access that no day of the window shows; an object is only called
        unused when both sources could have shown its use.
    type: int
    default: 0
extends_documentation_fragment:
  - sfops.integration_users.connection
  - sfops.integration_users.users
  - sfops.integration_users.users.lookback
  - sfops.integration_users.users.target_profile
  - sfops.integration_users.connection.attributes
attributes:
  check_mode:
    description: Runs normally in check mode; the module never changes anything.
    support: full
  diff_mode:
    description: Returns no diff; nothing changes.
    support: none
notes:
  - The connecting user needs View Setup and Configuration and the right to read Apex and Tooling
    metadata; what it cannot read is reported as a C(SCAN_INCOMPLETE) warning, not silently skipped.
  - Code and configuration are searched for the profiles of the users that would be moved; users
    with user-interface logins (people) and the connecting user get one blocker each and are not
    counted further.
  - Which connected apps the integrations log in through comes from other users' C(OauthToken) rows, which
    Salesforce shows only to a connecting user with Customize Application; without it no token is seen and
    app findings stay warnings.
  - A reference inside a comment is reported with severity C(info) and says so.
  - Apex that calls a class with a profile reference is reported as C(INDIRECT_PROFILE_REFERENCE).
  - Strings joined in code (C('Integration ' + 'Admin')) that spell a profile name are reported as
    C(POSSIBLE_PROFILE_REFERENCE) warnings.
"""

EXAMPLES = r"""
- name: Check two integration users before moving them
  sfops.integration_users.sf_profile_check:
    users:
      - svc.mulesoft@acme.com
      - svc.etl@acme.com
  register: check

- name: Stop here when something would break
  ansible.builtin.assert:
    that: check.ready
    fail_msg: "{{ check.findings | selectattr('severity', 'equalto', 'blocker') | map(attribute='message') | list }}"

- name: Re-grant what the profile change would take away
  sfops.integration_users.sf_permission_set:
    name: Integration_Mulesoft_Access
    access_from: "{{ (check.users | selectattr('username', 'equalto', 'svc.mulesoft@acme.com') | first).access_gap }}"

- name: Only Apex, also looking for a bypass flag name
  sfops.integration_users.sf_profile_check:
    users: [svc.mulesoft@acme.com]
    scans: [apex, triggers]
    extra_strings: [Bypass_Integration__c]
"""

RETURN = r"""
ready:
  description: True when no finding is a blocker.
  returned: success
  type: bool
  sample: false
target_profile:
  description: The profile the users would move to (null when none could be chosen).
  returned: success
  type: dict
  sample: {"id": "00e5g000000AbCdAAK", "name": "Minimum Access - API Only Integrations", "license": "Salesforce Integration"}
findings:
  description: What was found, sorted by severity, code, user, component and line.
  returned: success
  type: list
  elements: dict
  contains:
    code:
      description: >-
        NO_INTEGRATION_LICENSE, NO_SEATS, NO_INTEGRATION_PSL, PSL_SHORT_OF_SEATS, TARGET_PROFILE_MISSING,
        TARGET_PROFILE_WRONG_LICENSE, TARGET_PROFILE_DUPLICATED, TARGET_PROFILE_DEPRECATED, LOOKALIKE_PROFILE,
        USER_NOT_FOUND, USER_INACTIVE, ALREADY_MIGRATED, RUNNING_USER, UI_LOGINS, PERMISSION_SET_LICENSE_CONFLICT,
        PERMISSION_SET_ON_INTEGRATION_USER_LICENSE, ACCESS_GAP, PROFILE_NAME_REFERENCE, PROFILE_ID_REFERENCE,
        PROFILE_CHECK, POSSIBLE_PROFILE_REFERENCE, INDIRECT_PROFILE_REFERENCE, EXTRA_STRING_REFERENCE,
        CUSTOM_SETTING_PROFILE_ROW, SCAN_INCOMPLETE.
      type: str
    severity:
      description: blocker, warning or info.
      type: str
    user:
      description: The username the finding is about, or null.
      type: str
    component:
      description: The component (C(type), C(name), C(id), C(line)) the finding is about, or null.
      type: dict
    message:
      description: What was found.
      type: str
    remediation:
      description: What to do about it.
      type: str
  sample:
    - code: PROFILE_NAME_REFERENCE
      severity: blocker
      user: null
      component: {"type": "ApexTrigger", "name": "AccountTrigger", "id": "01q5g000000AbCdAAK", "line": 4}
      message: "ApexTrigger AccountTrigger line 4: names profile 'Integration Admin'"
      remediation: Test a custom permission or permission set instead of the profile name, ...
users:
  description: One entry per user checked, by username.
  returned: success
  type: list
  elements: dict
  contains:
    username:
      description: The username.
      type: str
    id:
      description: The user's 18-character Id.
      type: str
    profile:
      description: The current profile name.
      type: str
    license:
      description: The current user license name.
      type: str
    migrated:
      description: Already on the Salesforce Integration license.
      type: bool
    to_move:
      description:
        - Would be moved - not migrated yet, no user-interface logins, not the connecting user.
          Seats, permission set licenses and code references are counted for these users only.
      type: bool
    ready:
      description: No blocker about this user (org and code findings are not counted here).
      type: bool
    codes:
      description: Codes of the findings about this user.
      type: list
      elements: str
    access_gap:
      description:
        - What the current profile (and the permission sets that must be removed) grant that the
          target profile and the kept permission sets do not. Input for sf_permission_set C(access_from).
      type: dict
      sample: {"system": ["RunFlow"], "objects": {"Account": ["Create", "Edit"]}, "fields": {}}
    permission_sets_to_remove:
      description: Names of the assigned permission sets bound to another user license.
      type: list
      elements: str
    observed_access:
      description:
        - With O(usage_days), for users about to move, what the evidence shows of their use (read-only).
        - C(objects) has, per object the user holds rights on (profile and permission sets) or called, its
          C(granted) rights, C(read_calls) and C(write_calls) in the usage log, and C(modified_records) in the
          window (null when not counted).
        - C(unused_objects) lists objects held but neither called nor modified, and C(unused_write_objects)
          those held with a write right that were neither written nor modified; both are empty when the log
          could not be read.
        - C(apps) and C(apex) give calls per connected app and per Apex REST resource. C(system) lists the
          system permissions held (C(ModifyAllData) reaches every object, with or without an object row).
          C(usage_log) gives the log's C(status), C(date) and C(detail), C(not_counted) each object whose
          records were not counted and why, and C(window_days) the O(usage_days) given.
      type: dict
      returned: with O(usage_days)
      sample:
        window_days: 30
        usage_log: {status: read, date: "2026-12-02", detail: "the ApiTotalUsage log of 2026-12-02 (3 users called the API)"}
        objects:
          Account: {granted: [Create, Edit, Read], read_calls: 14, write_calls: 13, modified_records: 6}
          Opportunity: {granted: [Create, Edit, Read], read_calls: 0, write_calls: 0, modified_records: 0}
        unused_objects: [Opportunity]
        unused_write_objects: [Opportunity]
        apps: {Ops Automation: 40}
        apex: {}
        not_counted: {}
        system: [ApiEnabled, ModifyAllData, ViewAllData]
counts:
  description: Number of findings by code.
  returned: success
  type: dict
  sample: {"PROFILE_NAME_REFERENCE": 2, "UI_LOGINS": 1}
severity_counts:
  description: Number of findings by severity.
  returned: success
  type: dict
  sample: {"blocker": 3, "warning": 2, "info": 1}
scanned:
  description: Number of components read per scan.
  returned: success
  type: dict
  sample: {"apex": 12, "triggers": 3, "validation_rules": 4, "flows": 2, "formula_fields": 7, "custom_settings": 1,
           "profile_settings": 2}
api_usage:
  description: Data-API calls made by this task, and the org's 24-hour API usage and allocation.
  returned: always
  type: dict
  sample: {"calls": 6, "used": 1042, "limit": 100000}
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_profile_check import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
