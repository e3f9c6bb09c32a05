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


# ---- forged backups (finding 2) ---------------------------------------------------------------------------
import json  # noqa: E402

import pytest  # noqa: E402

from test_integration_user import SVC, FakeClient, org, run  # noqa: E402,F401  (org is a fixture)

SIGNING_KEY = "0123456789abcdef0123456789abcdef"
SYSADMIN = "00e000000000099AAA"


def _migrate(org_, tmp_path, **extra):
    migrated = run(FakeClient(org_), tmp_path, users="svc.mulesoft@acme.com", conflicting_permission_sets="remove",
                   **extra)
    assert not migrated.get("failed"), migrated.get("msg")
    return migrated


def _edit(path, edit):
    with open(path) as handle:
        document = json.load(handle)
    edit(document)
    with open(path, "w") as handle:
        json.dump(document, handle)


def test_a_signed_backup_edited_to_grant_system_administrator_is_refused(org, tmp_path):
    migrated = _migrate(org, tmp_path, signing_key=SIGNING_KEY)
    assert json.load(open(migrated["backup_file"]))["signature"]["alg"] == "HMAC-SHA256"
    _edit(migrated["backup_file"], lambda d: d["data"]["users"][0]["profile"].update(
        id=SYSADMIN, name="System Administrator"))
    client = FakeClient(org)
    result = run(client, tmp_path, state="restored", backup_file=migrated["backup_file"], signing_key=SIGNING_KEY)
    assert result["failed"] and "edited after it was signed" in result["msg"], result.get("msg")
    assert migrated["backup_file"] in result["msg"]
    assert client.write_calls == []
    assert SIGNING_KEY not in json.dumps(result)


def test_an_unsigned_backup_is_refused_when_a_key_is_given(org, tmp_path):
    migrated = _migrate(org, tmp_path)
    assert any("signing key" in w for w in migrated["warnings"]), migrated["warnings"]
    client = FakeClient(org)
    result = run(client, tmp_path, state="restored", backup_file=migrated["backup_file"], signing_key=SIGNING_KEY)
    assert result["failed"] and "not signed" in result["msg"]
    assert client.write_calls == []


def test_a_genuine_signed_backup_restores(org, tmp_path):
    before = org.state(SVC)
    migrated = _migrate(org, tmp_path, signing_key=SIGNING_KEY)
    restored = run(FakeClient(org), tmp_path, state="restored", backup_file=migrated["backup_file"],
                   signing_key=SIGNING_KEY)
    assert not restored.get("failed"), restored.get("msg")
    assert org.state(SVC) == before


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["data"].pop("org_id"), "names no org Id"),
    (lambda d: d["data"]["users"][0].update(username="svc.other@acme.com"), "belongs to user svc.mulesoft@acme.com"),
], ids=["org id deleted", "username and Id disagree"])
def test_an_unsigned_backup_not_bound_to_this_org_and_user_is_refused(org, tmp_path, edit, expected):
    migrated = _migrate(org, tmp_path)
    _edit(migrated["backup_file"], edit)
    client = FakeClient(org)
    result = run(client, tmp_path, state="restored", backup_file=migrated["backup_file"])
    assert result["failed"] and expected in result["msg"], result.get("msg")
    assert client.write_calls == []
