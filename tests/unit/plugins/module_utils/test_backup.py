# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import stat

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils import backup


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_then_read_round_trip(tmp_path):
    target = tmp_path / "backups"
    payload = {"users": [{"username": "svc@acme.com", "permission_sets": ["A"]}]}
    path = backup.write_backup(str(target), "integration_user", "prod", payload)
    assert os.path.dirname(path) == str(target)
    assert path.endswith(".json")
    document = backup.read_backup(path, kind="integration_user")
    assert document["data"] == payload
    assert document["org"] == "prod"
    assert document["format"] == backup.BACKUP_FORMAT


def test_files_and_directory_are_owner_only(tmp_path):
    target = tmp_path / "new" / "dir"
    path = backup.write_backup(str(target), "integration_user", "prod", {})
    assert _mode(path) == 0o600
    assert _mode(str(target)) == 0o700


def test_no_temporary_file_left_behind(tmp_path):
    backup.write_backup(str(tmp_path), "k", "o", {"a": 1})
    names = os.listdir(str(tmp_path))
    assert len(names) == 1 and not names[0].startswith(".")


def test_same_instant_does_not_overwrite(tmp_path):
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    first = backup.write_backup(str(tmp_path), "k", "o", {"n": 1}, now=now)
    second = backup.write_backup(str(tmp_path), "k", "o", {"n": 2}, now=now)
    assert first != second
    assert backup.read_backup(first)["data"] == {"n": 1}
    assert backup.read_backup(second)["data"] == {"n": 2}


def test_org_name_is_made_file_safe(tmp_path):
    path = backup.write_backup(str(tmp_path), "integration_user", "../../etc prod", {})
    assert os.path.dirname(path) == str(tmp_path)
    assert "/" not in os.path.basename(path).replace("..", "")


def test_unserialisable_payload_fails_without_leaving_files(tmp_path):
    with pytest.raises(backup.BackupError):
        backup.write_backup(str(tmp_path), "k", "o", {"bad": object()})
    assert os.listdir(str(tmp_path)) == []


def test_read_rejects_foreign_json_and_wrong_kind(tmp_path):
    foreign = tmp_path / "x.json"
    foreign.write_text(json.dumps({"hello": 1}))
    with pytest.raises(backup.BackupError, match="not a backup"):
        backup.read_backup(str(foreign))
    path = backup.write_backup(str(tmp_path), "permission_set", "o", {})
    with pytest.raises(backup.BackupError, match="expected 'integration_user'"):
        backup.read_backup(path, kind="integration_user")


def test_read_missing_file(tmp_path):
    with pytest.raises(backup.BackupError, match="cannot read"):
        backup.read_backup(str(tmp_path / "missing.json"))


def test_unwritable_directory_raises(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(backup.BackupError):
        backup.write_backup(str(blocker / "sub"), "k", "o", {})


# ---- issue 13: signed, bound backups ---------------------------------------------------------------------
from ansible_collections.sfops.integration_users.plugins.module_utils import run_files  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import IntegrityError  # noqa: E402

KEY = run_files.signing_key("0123456789abcdef0123456789abcdef")
PAYLOAD = {"org_id": "00D000000000001AAA", "users": [
    {"id": "005000000000001AAA", "username": "svc.sync@acme.com",
     "profile": {"id": "00e000000000001AAA", "name": "Integration User"}}]}


def test_signed_backup_round_trip(tmp_path):
    path = backup.write_backup(str(tmp_path / "b"), "integration_user", "acme-prod", PAYLOAD, key=KEY)
    assert backup.read_backup(path, kind="integration_user", key=KEY)["data"] == PAYLOAD


@pytest.mark.parametrize("edit", [
    lambda d: d["data"]["users"][0]["profile"].update(name="System Administrator", id="00e000000000009AAA"),
    lambda d: d["data"]["users"][0].update(id="005000000000002AAA"),
    lambda d: d["data"].pop("org_id"),
    lambda d: d.pop("signature"),
])
def test_an_edited_or_unsigned_backup_is_refused_with_a_key(tmp_path, edit):
    path = backup.write_backup(str(tmp_path / "b"), "integration_user", "acme-prod", PAYLOAD, key=KEY)
    with open(path) as handle:
        document = json.load(handle)
    edit(document)
    with open(path, "w") as handle:
        json.dump(document, handle)
    with pytest.raises(IntegrityError) as caught:
        backup.read_backup(path, kind="integration_user", key=KEY)
    assert path in caught.value.render()


def test_a_backup_outside_the_run_is_refused(tmp_path):
    outside = backup.write_backup(str(tmp_path / "outside"), "integration_user", "acme-prod", PAYLOAD, key=KEY)
    run = tmp_path / "runs" / "r1" / "backups"
    with pytest.raises(IntegrityError) as caught:
        backup.read_backup(str(run / ".." / ".." / ".." / "outside" / os.path.basename(outside)),
                           key=KEY, within=str(run))
    assert "not inside" in caught.value.render()
    os.makedirs(str(run))
    os.symlink(outside, str(run / "linked.json"))
    with pytest.raises(IntegrityError):
        backup.read_backup(str(run / "linked.json"), key=KEY, within=str(run))


def test_binding_problems_org_and_user_ids():
    current = {"005000000000001": "svc.sync@acme.com"}
    assert backup.binding_problems({"data": PAYLOAD}, "00D000000000001", current) == {}
    other_org = backup.binding_problems({"org": "acme-uat", "data": PAYLOAD}, "00D000000000002AAA", current)
    assert "taken from org" in other_org["backup"][0]
    no_org = backup.binding_problems({"data": dict(PAYLOAD, org_id=None)}, "00D000000000001AAA", current)
    assert "names no org Id" in no_org["backup"][0]
    swapped = backup.binding_problems({"data": PAYLOAD}, "00D000000000001AAA",
                                      {"005000000000001AAA": "svc_sync@acme.com"})
    assert "belongs to user svc_sync@acme.com" in swapped["svc.sync@acme.com"][0]


@pytest.mark.parametrize("umask", [0, 0o022])
def test_backup_parents_are_0700_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = backup.write_backup(str(tmp_path / "runs" / "r1" / "backups" / "org"), "integration_user", "o", {})
    finally:
        os.umask(old)
    for directory in ("runs", "runs/r1", "runs/r1/backups", "runs/r1/backups/org"):
        assert _mode(str(tmp_path / directory)) == 0o700, directory
    assert _mode(path) == 0o600


def test_a_world_writable_backup_dir_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    with pytest.raises(backup.BackupError) as caught:
        backup.write_backup(str(shared / "b"), "integration_user", "o", {})
    assert "writable" in str(caught.value)
