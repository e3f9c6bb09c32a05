# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_files: signed run state, the org lock, owner-only directories on a trusted path (issue 13)."""
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import json
import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ConfigurationError,
    IntegrityError,
    LockError,
)

KEY = "k" * 16 + "0123456789abcdef"
OTHER = "z" * 32


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def key():
    return run_files.signing_key(KEY)


# ---- signing ---------------------------------------------------------------------------------------------
def test_signed_document_verifies_and_names_no_key(key):
    signed = run_files.sign({"org": "acme-prod", "entries": [1, 2]}, key, "plan:acme-prod")
    assert run_files.verify_signed(signed, key, "plan:acme-prod", "p.json") is signed
    assert KEY not in json.dumps(signed) and KEY not in repr(key)
    assert signed["signature"]["key_id"] == key.key_id


@pytest.mark.parametrize("tamper, reason", [
    (lambda d: d.pop("signature"), "not signed"),
    (lambda d: d["entries"].append(3), "edited"),
    (lambda d: d.update(org="globex-prod"), "edited"),
    (lambda d: d["signature"].update(value="0" * 64), "edited"),
    (lambda d: d["signature"].update(alg="none"), "algorithm"),
])
def test_tampered_documents_are_refused_naming_the_file(key, tamper, reason):
    signed = json.loads(json.dumps(run_files.sign({"org": "acme-prod", "entries": [1, 2]}, key, "plan:acme-prod")))
    tamper(signed)
    with pytest.raises(IntegrityError) as caught:
        run_files.verify_signed(signed, key, "plan:acme-prod", "/runs/plans/acme-prod.json")
    assert "/runs/plans/acme-prod.json" in caught.value.render() and reason in caught.value.render()


def test_another_key_and_another_purpose_are_refused(key):
    signed = run_files.sign({"org": "acme-prod"}, run_files.signing_key(OTHER), "plan:acme-prod")
    with pytest.raises(IntegrityError) as caught:
        run_files.verify_signed(signed, key, "plan:acme-prod", "p")
    assert "another key" in caught.value.render()
    moved = run_files.sign({"org": "acme-prod"}, key, "plan:acme-uat")
    with pytest.raises(IntegrityError) as caught:
        run_files.verify_signed(moved, key, "plan:acme-prod", "p")
    assert "moved or copied" in caught.value.render()


def test_a_recomputed_sha256_does_not_make_an_edit_valid(key):
    # The old checksum was an unkeyed sha256: anyone could recompute it. The HMAC needs the key.
    import hashlib
    signed = run_files.sign({"entries": [{"username": "a", "action": "blocked"}]}, key, "plan:x")
    signed["entries"][0]["action"] = "move"
    signed["signature"]["value"] = hashlib.sha256(run_files.canonical(signed)).hexdigest()
    with pytest.raises(IntegrityError):
        run_files.verify_signed(signed, key, "plan:x", "p")


@pytest.mark.parametrize("bad", ["short", KEY + "\n", KEY[:20] + " " + KEY[20:], "\t" + KEY])
def test_weak_or_whitespace_keys_are_refused_unseen(bad):
    with pytest.raises(ConfigurationError) as caught:
        run_files.signing_key(bad)
    assert bad.strip() not in caught.value.render()


def test_key_from_environment():
    assert run_files.signing_key(None, {"SFOPS_SIGNING_KEY": KEY}).key_id == run_files.signing_key(KEY).key_id
    assert run_files.signing_key(None, {}) is None


def test_records_not_signed_for_their_place_are_left_out_and_reported(tmp_path, key):
    runs = str(tmp_path / "runs")
    good = run_files.sign({"kind": "verification", "org": "acme-uat", "created": "1"}, key,
                          run_files.record_purpose("verification", "acme-uat", "sha256:abc"))
    run_files.write_private(run_files.record_path(runs, "sha256:abc", "verification", "acme-uat"),
                            run_files.dump_json(good))
    forged = {"kind": "verification", "org": "acme-qa", "created": "2", "users": [{"passed": True}]}
    run_files.write_private(run_files.record_path(runs, "sha256:abc", "verification", "acme-qa"),
                            run_files.dump_json(forged))
    # A genuine record copied under another org's name.
    run_files.write_private(run_files.record_path(runs, "sha256:abc", "verification", "initech-qa"),
                            run_files.dump_json(good))
    refused = []
    found = run_files.read_records(runs, "sha256:abc", kind="verification", key=key, refused=refused)
    assert [r["org"] for r in found] == ["acme-uat"]
    names = sorted(os.path.basename(r["path"]) for r in refused)
    assert names == ["verification-acme-qa.json", "verification-initech-qa.json"]


def test_a_corrupt_record_names_its_file(tmp_path):
    runs = str(tmp_path / "runs")
    path = run_files.record_path(runs, "sha256:abc", "migration", "acme-uat")
    run_files.write_private(path, "{not json")
    with pytest.raises(IntegrityError) as caught:
        run_files.read_records(runs, "sha256:abc")
    assert path in caught.value.render() and "Traceback" not in caught.value.render()


# ---- directories -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("umask", [0, 0o022, 0o077])
def test_every_created_directory_is_0700_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = run_files.backup_dir(str(tmp_path / "runs"), "run-1", "acme-uat")
        run_files.write_private(os.path.join(path, "x.json"), "{}\n")
    finally:
        os.umask(old)
    for directory in (tmp_path / "runs", tmp_path / "runs" / "run-1", tmp_path / "runs" / "run-1" / "backups",
                      tmp_path / "runs" / "run-1" / "backups" / "acme-uat"):
        assert _mode(str(directory)) == 0o700, directory
    assert _mode(os.path.join(path, "x.json")) == 0o600


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_group_or_world_writable_component_is_refused(tmp_path, mode):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), mode)
    with pytest.raises(ConfigurationError) as caught:
        run_files.write_private(str(shared / "runs" / "plans" / "p.json"), "{}")
    assert str(shared) in caught.value.render() and "writable" in caught.value.render()
    assert not (shared / "runs").exists()


def test_a_sticky_root_directory_like_tmp_is_accepted(tmp_path):
    assert stat.S_IMODE(os.stat("/tmp").st_mode) & stat.S_ISVTX
    run_files.check_trusted_path(str(tmp_path))


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_component_owned_by_another_user_is_refused(tmp_path):
    other = tmp_path / "other"
    other.mkdir(mode=0o755)
    os.chown(str(other), 12345, 12345)
    with pytest.raises(ConfigurationError) as caught:
        run_files.make_private_dirs(str(other / "runs"))
    assert "owned by uid 12345" in caught.value.render()


def test_a_symlink_into_an_unsafe_directory_is_refused(tmp_path):
    unsafe = tmp_path / "unsafe"
    unsafe.mkdir()
    os.chmod(str(unsafe), 0o777)
    (unsafe / "runs").mkdir()
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    os.symlink(str(unsafe / "runs"), str(mine / "runs"))
    with pytest.raises(ConfigurationError) as caught:
        run_files.write_private(str(mine / "runs" / "plans" / "p.json"), "{}")
    assert "symlink" in caught.value.render()


def test_writing_through_a_planted_file_symlink_is_refused(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir(mode=0o700)
    target = tmp_path / "elsewhere.json"
    target.write_text("keep")
    os.symlink(str(target), str(runs / "p.json"))
    with pytest.raises(ConfigurationError):
        run_files.write_private(str(runs / "p.json"), "{}")
    assert target.read_text() == "keep"


# ---- the org lock ----------------------------------------------------------------------------------------
def test_second_run_is_refused_while_the_first_holds_the_lock(tmp_path):
    runs = str(tmp_path / "runs")
    first = run_files.acquire_lock(runs, "acme-prod", "run-a", owner="alice", pid=os.getpid())
    assert first["changed"] and first["lease"]["host"] and first["lease"]["pid"] == os.getpid()
    with pytest.raises(LockError) as caught:
        run_files.acquire_lock(runs, "acme-prod", "run-b", owner="bob", pid=os.getpid())
    text = caught.value.render()
    assert "run-a" in text and "alice" in text and str(os.getpid()) in text
    # Another org is independent; the same run renews.
    assert run_files.acquire_lock(runs, "globex-prod", "run-b", pid=os.getpid())["changed"]
    assert run_files.acquire_lock(runs, "acme-prod", "run-a", pid=os.getpid())["changed"] is False
    assert _mode(run_files.lock_path(runs, "acme-prod")) == 0o600


def test_release_only_by_the_holder(tmp_path):
    runs = str(tmp_path / "runs")
    run_files.acquire_lock(runs, "acme-prod", "run-a", pid=os.getpid())
    with pytest.raises(LockError):
        run_files.release_lock(runs, "acme-prod", "run-b")
    assert run_files.release_lock(runs, "acme-prod", "run-a") is True
    assert run_files.release_lock(runs, "acme-prod", "run-a") is False
    assert run_files.acquire_lock(runs, "acme-prod", "run-b", pid=os.getpid())["changed"]


def test_lease_of_a_dead_process_on_this_host_is_taken_over(tmp_path):
    runs = str(tmp_path / "runs")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_files.acquire_lock(runs, "acme-prod", "run-a", pid=dead.pid)
    taken = run_files.acquire_lock(runs, "acme-prod", "run-b", pid=os.getpid())
    assert taken["changed"] and taken["taken_over"]["run_id"] == "run-a"
    assert "is gone" in taken["taken_over"]["reason"]
    assert run_files.read_lock(runs, "acme-prod")["run_id"] == "run-b"


def test_lease_of_another_host_is_stale_only_after_its_ttl(tmp_path):
    runs = str(tmp_path / "runs")
    run_files.acquire_lock(runs, "acme-prod", "run-a", pid=1, host="awx-task-7", ttl=600, now=1000000.0)
    # Host differs: its pid means nothing here, so only the time counts.
    with pytest.raises(LockError):
        run_files.acquire_lock(runs, "acme-prod", "run-b", pid=os.getpid(), now=1000000.0 + 599)
    taken = run_files.acquire_lock(runs, "acme-prod", "run-b", pid=os.getpid(), now=1000000.0 + 601)
    assert "time to live" in taken["taken_over"]["reason"]


def test_renewal_keeps_a_long_run_alive(tmp_path):
    runs = str(tmp_path / "runs")
    run_files.acquire_lock(runs, "acme-prod", "run-a", pid=1, host="awx-task-7", ttl=600, now=1000000.0)
    run_files.acquire_lock(runs, "acme-prod", "run-a", pid=1, host="awx-task-7", ttl=600, now=1000500.0)
    with pytest.raises(LockError):
        run_files.acquire_lock(runs, "acme-prod", "run-b", pid=os.getpid(), now=1000900.0)


def test_an_unreadable_lease_is_stale(tmp_path):
    runs = str(tmp_path / "runs")
    run_files.make_private_dirs(os.path.dirname(run_files.lock_path(runs, "acme-prod")))
    with open(run_files.lock_path(runs, "acme-prod"), "w") as handle:
        handle.write("{garbage")
    assert run_files.acquire_lock(runs, "acme-prod", "run-b", pid=os.getpid())["taken_over"] is not None
