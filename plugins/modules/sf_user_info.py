#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sf_user_info
short_description: List the users of a Salesforce org and find integration-user candidates
version_added: 0.1.0
description:
  - Returns users with their profile, user license, active flag, permission sets (each with the
    license it is bound to), permission set licenses, last login and the mix of their logins
    (API, UI, other) over the last O(lookback_days) days.
  - For every user, says whether it is a candidate for the free Salesforce Integration user
    license, and why or why not. A candidate is active, has API Enabled, logged in only through
    the API in the window (at least once) or, with no login in the window, used an OAuth token of a
    connected app in it (an integration that keeps a refresh token) or called the API on the day of the
    newest ApiTotalUsage log (O(usage_log)); holds a paid license (C(Salesforce) or
    C(Salesforce Platform)), is not the user the task connects as, and is not migrated yet.
  - Only standard users (C(UserType = 'Standard')) are read. Without O(users), every active standard
    user of the org (inactive ones too with O(include_inactive)); users of O(users) not found are
    listed in RV(missing) with a warning.
  - Costs one API call (a composite request of users, login mix and OAuth tokens) for up to 2000 users, plus
    one per further page of 2000 users; the login mix of very large orgs adds one call per 2000 users. With
    O(usage_log) (the default), two calls more, the listing of the ApiTotalUsage event log files (a sixth
    query, so the composite is sent as two calls) and the download of the newest file.
  - Every user's C(candidate_evidence) says what LoginHistory, C(OauthToken) and the ApiTotalUsage log show
    of its use. Reading other users' tokens needs Manage Users or Customize Application; without it the
    tokens are null and the verdict rests on the other evidence. Reading the event log needs View Event Log
    Files (with API Enabled) or View All Data; without it C(api_usage) is null and the log's entry says why.
  - The ApiTotalUsage log is free in every API-enabled org, one file per day, published the day after; only
    the newest file of the window is read, and not at all when it is larger than 32 MB (its entry says so).
    A user with no login in the window that called the API that day is a candidate on this evidence (UI
    logins still make it a person).
  - Never changes the org; it runs in check mode too and always reports RV(ignore:changed=false).
author:
  - sfops maintainers (@sfops)
options:
  candidates_only:
    description:
      - Return only the candidates in RV(users), and the verdict for every user considered in RV(considered).
    type: bool
    default: false
  usage_log:
    description:
      - Read the newest ApiTotalUsage event log file of the O(lookback_days) window as evidence of use
        (RV(users[].api_usage)), which users called the API that day, through which connected app, reading
        or writing which objects. Two API calls per org.
      - Set to V(false) where only the users' state matters (a verification after a move).
    type: bool
    default: true
extends_documentation_fragment:
  - sfops.integration_users.connection
  - sfops.integration_users.users
  - sfops.integration_users.users.lookback
  - sfops.integration_users.users.inactive
  - sfops.integration_users.connection.attributes
attributes:
  check_mode:
    description: Runs normally in check mode; the module never changes anything.
    support: full
  diff_mode:
    description: Returns no diff; nothing changes.
    support: none
seealso:
  - module: sfops.integration_users.sf_integration_user
  - module: sfops.integration_users.sf_profile_check
"""

EXAMPLES = r"""
- name: Find the integration users worth moving to the free license
  sfops.integration_users.sf_user_info:
    candidates_only: true
    lookback_days: 60
  register: found

- name: Show why each user is or is not a candidate
  ansible.builtin.debug:
    msg: "{{ item.username }}: {{ item.reasons | join('; ') }}"
  loop: "{{ found.considered }}"

- name: Read two users, with the connection options set once for the group
  module_defaults:
    group/sfops.integration_users.salesforce:
      login_url: https://acme.my.salesforce.com
      client_id: "{{ sf_client_id }}"
      client_secret: "{{ sf_client_secret }}"
  sfops.integration_users.sf_user_info:
    users:
      - svc.mulesoft@acme.com
      - svc.etl@acme.com
"""

RETURN = r"""
users:
  description:
    - The users read (only the candidates with O(candidates_only=true)), in username order.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: 18-character Id.
      type: str
    username:
      description: Username.
      type: str
    name:
      description: Full name.
      type: str
    active:
      description: Whether the user is active (holds a seat).
      type: bool
    license:
      description: Name of the user license, the license of the user's profile.
      type: str
    profile:
      description: The profile (C(id), C(name), C(license_id), C(license), C(api_enabled), C(api_only)).
      type: dict
    api_enabled:
      description: API Enabled, granted by the profile or any assigned permission set.
      type: bool
    last_login:
      description: C(LastLoginDate) as Salesforce renders it, or null.
      type: str
    permission_sets:
      description:
        - Assigned permission sets (profile-owned ones excluded), each with C(name), C(label), C(id),
          C(assignment_id), C(license_id), C(license) (the name of what it is bound to, or null),
          C(license_kind) (C(user_license), C(permission_set_license) or null), C(api_enabled),
          C(group_id).
      type: list
      elements: dict
    permission_set_licenses:
      description: Assigned permission set licenses (C(id), C(developer_name), C(label), C(assignment_id)).
      type: list
      elements: dict
    logins:
      description:
        - Successful logins over the window, C(api), C(ui), C(other) and C(total) counts, C(by_type)
          (per C(LoginHistory.LoginType)), C(last_api), C(last_ui), C(lookback_days).
      type: dict
    candidate:
      description: Whether the user is an integration-user candidate.
      type: bool
    candidate_checks:
      description: Every check (C(check), C(passed), C(detail)) in a fixed order.
      type: list
      elements: dict
    candidate_reasons:
      description: Why the user is not a candidate (the failed checks), or why it is.
      type: list
      elements: str
    oauth_tokens:
      description:
        - OAuth tokens (connected apps' refresh tokens) the user used in the window, most recent first,
          each with C(app), C(use_count) and C(last_used). An integration that keeps a refresh token may
          have no login in the window; such a user is a candidate on this evidence alone (UI logins still
          make it a person). Null when the connecting user may not read C(OauthToken).
      type: list
      elements: dict
    api_usage:
      description:
        - With O(usage_log), what the newest ApiTotalUsage log records of the user on its day
          (the C(date) of RV(users[].api_usage_log)), with C(calls), C(objects) (each object's C(read) and C(write) calls,
          GET being a read, POST, PATCH, PUT and DELETE writes), C(apps) (calls per connected app) and
          C(apex) (calls per Apex REST resource). Counts of zero when the user made no call that day; null
          when the log was not read (see RV(users[].api_usage_log)).
      type: dict
    api_usage_log:
      description:
        - With O(usage_log), the log read, the same for every user, with C(status) (V(read), V(none) when the window
          holds no file, V(unreadable) when the connecting user may not read it, V(too_large)), C(date) and
          C(detail).
      type: dict
    candidate_evidence:
      description:
        - What the org records of the user's use, one entry per source (C(source) is C(LoginHistory),
          C(OauthToken) or, with O(usage_log), C(ApiTotalUsage); C(detail) says what it shows), the evidence
          that made it a candidate or not.
      type: list
      elements: dict
  sample:
    - id: 0055g00000AbCdEAAV
      username: svc.mulesoft@acme.com
      active: true
      license: Salesforce
      profile: {id: 00e5g000001AbCdAAE, name: Integration Admin, license: Salesforce,
                api_enabled: true, api_only: false}
      permission_sets: [{name: Sales_Ops, license: Salesforce, license_kind: user_license}]
      logins: {api: 500, ui: 0, other: 0, total: 500, lookback_days: 90}
      candidate: true
considered:
  description: With O(candidates_only=true), the verdict for every user read.
  returned: when O(candidates_only=true)
  type: list
  elements: dict
  sample:
    - {username: jane.doe@acme.com, candidate: false,
       reasons: ["12 UI and 0 other logins in the last 90 days besides 40 API logins: a person uses this account"],
       evidence: [{source: LoginHistory, detail: "40 API, 12 UI, 0 other successful logins in the last 90 days"},
                  {source: OauthToken, detail: "no token used in the window"}]}
counts:
  description: Numbers of users read, active users and candidates.
  returned: success
  type: dict
  sample: {users: 5, active: 4, candidates: 2}
running_user:
  description: Username the task connects as (never a candidate).
  returned: success
  type: str
missing:
  description: Requested usernames not found in the org.
  returned: when some are missing
  type: list
  elements: str
api_usage:
  description:
    - Data-API calls made by this task, and the org's 24-hour API usage and allocation.
  returned: always
  type: dict
  sample: {"calls": 1, "used": 1042, "limit": 100000}
"""

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_user_info import SPEC
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import run_as_module


def main():
    run_as_module(SPEC)


if __name__ == "__main__":
    main()
