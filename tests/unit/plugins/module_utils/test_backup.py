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
