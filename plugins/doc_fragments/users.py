# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options several modules share, one fragment per option (plugins/module_utils/options.py
    declares them; a unit test compares the two)."""

    # users
    DOCUMENTATION = r"""
options:
  users:
    description:
      - The users to act on, by username (case-insensitive). A sandbox copy's username carries the
        sandbox name as a suffix (V(svc@acme.com.uat)).
      - A single username may be given as a string.
    type: list
    elements: str
"""

    LOOKBACK = r"""
options:
  lookback_days:
    description:
      - How many days of login history tell an integration (API logins only) from a person (user
        interface logins). At least V(1).
    type: int
    default: 90
"""

    INACTIVE = r"""
options:
  include_inactive:
    description:
      - Also return what is inactive (deactivated users, licenses whose C(Status) is not C(Active));
        by default only active users and licenses are returned. In modules that take a C(users) option,
        the users named there are returned whether active or not.
    type: bool
    default: false
"""

    TARGET_PROFILE = r"""
options:
  target_profile:
    description:
      - Name or Id (15 or 18 characters) of the profile the users move to, for example a clone of
        C(Minimum Access - API Only Integrations). It must be on the C(Salesforce Integration) license
        and match one profile only.
      - Default is the profile found by license, preferring C(Minimum Access - API Only Integrations).
    type: str
"""
