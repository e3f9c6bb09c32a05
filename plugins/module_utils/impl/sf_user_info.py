# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_user_info: read-only listing of an org's users and of its integration-user candidates.

All the reading is users.read_users (one composite call per page of 2000 users, one more composite and one
call for the newest ApiTotalUsage log with usage_log); this file only shapes the result. The running
user comes from the userinfo endpoint, which is not a data-API call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import rules
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import users as users_lib
from ansible_collections.sfops.integration_users.plugins.module_utils.options import checked_lookback_days, get_spec, requested_users
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec

ARGUMENT_SPEC = dict(
    get_spec("users", "lookback_days", "include_inactive"),
    candidates_only=dict(type="bool", default=False),
    usage_log=dict(type="bool", default=True),
)


def considered_entry(user):
    """What ``considered`` lists for each user: the verdict without the whole record."""
    return {"username": user["username"], "id": user["id"], "candidate": user["candidate"],
            "reasons": user["candidate_reasons"], "checks": user["candidate_checks"],
            "evidence": user["candidate_evidence"]}


def shape_result(users, running_user, candidates_only, missing):
    result = {"changed": False, "running_user": running_user}
    if candidates_only:
        result["users"] = [u for u in users if u["candidate"]]
        result["considered"] = [considered_entry(u) for u in users]
    else:
        result["users"] = users
    result["counts"] = {"users": len(users), "candidates": sum(1 for u in users if u["candidate"]),
                        "active": sum(1 for u in users if u["active"])}
    if missing:
        result["missing"] = missing
    return result


def run(task):
    params = task.params
    lookback = checked_lookback_days(params)
    usernames = requested_users(params) or None
    client = task.client
    # Named users are listed whatever their state; without names, inactive users only when asked.
    users = users_lib.read_users(client, usernames=usernames,
                                 active=None if usernames or params["include_inactive"] else True,
                                 lookback_days=lookback, with_usage_log=params["usage_log"])
    identity = client.identity()
    running_id = identity.get("user_id")
    rules.annotate_candidates(users, running_id)
    missing = users_lib.missing_usernames(usernames, users) if usernames else []
    for name in missing:
        task.warn("user %s was not found in this org (or is not a standard user)" % name)
    return shape_result(users, identity.get("username"), params["candidates_only"], missing)


SPEC = ModuleSpec("sf_user_info", ARGUMENT_SPEC, run, supports_check_mode=True)
