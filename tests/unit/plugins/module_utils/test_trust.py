# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13 across modules: collision-free permission set names, signed plans/records/gate, the org lock
through sf_migration_plan."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_migration_plan import plans as planning

GAP = {"objects": {"Account": ["Read"]}, "system": [], "fields": {}}


def _user(name, user_id):
    return {"username": name, "id": user_id, "candidate": True, "license": "Salesforce",
            "profile": {"id": "00e000000000002AAA", "name": "Integration Admin"}, "candidate_reasons": ["candidate"]}


def test_usernames_that_read_alike_get_their_own_permission_sets():
    users = [_user("svc.sync@acme.demo", "005000000000001AAA"), _user("svc_sync@acme.demo", "005000000000002AAA")]
    check = {"target_profile": {"id": "00e000000000003AAA", "name": "Minimum Access - API Only Integrations"},
             "findings": [], "users": [{"username": u["username"], "access_gap": GAP, "permission_sets_to_remove": []}
                                       for u in users]}
    seats = {"integration": {"user_license": {"total": 5, "used": 0, "free": 5},
                             "psl": {"total": 5, "used": 0, "free": 5}}}
    plan = planning.build_plan("acme-prod", seats, {"users": users}, check)
    names = [e["permission_set"]["name"] for e in plan["entries"]]
    assert len(set(name.lower() for name in names)) == 2, names
    assert all(len(name) <= 80 and "__" not in name and name[0].isalpha() for name in names)


def test_permission_set_name_ends_with_the_user_id_and_stays_valid():
    name = planning.permission_set_name("a" * 120 + "@x.com", user_id="005000000000001")
    assert len(name) <= 80 and name.endswith("_005000000000001AAA") and "__" not in name
    assert planning.permission_set_name("svc@x", user_id="005000000000001AAA") == \
        "Integration_Access_svc_x_005000000000001AAA"
