# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13, the org lock through real ansible-playbook runs: while one run holds an org's lease, a second
run is refused naming the holder; once the holder's process is gone, the next run takes the stale lease over
with a warning. Runs directories are 0700 whatever the umask, and an unsafe runs path is refused."""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import os
import stat
import subprocess
import time

import yaml

from conftest import ANSIBLE_PLAYBOOK, COLLECTIONS_ROOT, HERE
from test_secrets import record_figure

ORG = "acme-prod"


def _lock_play(runs_dir, run_id, operation="lock", pause=0):
    tasks = [{"name": operation, "sfops.integration_users.sf_migration_plan": {
        "operation": operation, "runs_dir": runs_dir, "org": ORG, "run_id": run_id}, "register": "lock"}]
    if pause:
        tasks.append({"name": "hold", "ansible.builtin.pause": {"seconds": pause}})
    return [{"name": "lock", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def _start(work, name, plays, umask=None):
    path = work / (name + ".yml")
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT.ensure_collections_root(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "plugins", "callback"))
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.Popen([ANSIBLE_PLAYBOOK, str(path)], env=env, cwd=str(work), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=preexec)


def _finish(process, timeout=300):
    output, _errors = process.communicate(timeout=timeout)
    return process.returncode, output


def test_a_second_run_is_refused_while_the_first_holds_the_org(tmp_path):
    runs = str(tmp_path / "runs")
    holder = _start(tmp_path, "holder", _lock_play(runs, "rollout-1", pause=20))
    lease = os.path.join(runs, "locks", ORG + ".lock")
    deadline = time.monotonic() + 120
    while not os.path.exists(lease) and holder.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert os.path.exists(lease), _finish(holder)[1][-2000:]
    rc, output = _finish(_start(tmp_path, "rollback", _lock_play(runs, "rollback-1")))
    assert rc != 0 and "locked by run rollout-1" in output, output[-2000:]
    assert holder.poll() is None, "the holder ended before the contention was tried"
    rc, output = _finish(holder)
    assert rc == 0, output[-2000:]
    # The holder's ansible-playbook process is gone: its lease is stale, the next run takes it over and says so.
    rc, output = _finish(_start(tmp_path, "after", _lock_play(runs, "rollback-1")))
    assert rc == 0 and "took over the lock of org %s from run rollout-1" % ORG in output, output[-2000:]
    rc, output = _finish(_start(tmp_path, "release", _lock_play(runs, "rollback-1", operation="unlock")))
    assert rc == 0 and not os.path.exists(lease), output[-2000:]
    record_figure("lock contention", second_run_refused=True, stale_taken_over=True)


def test_runs_directories_are_0700_under_umask_0_and_an_unsafe_path_is_refused(tmp_path):
    runs = str(tmp_path / "runs")
    rc, output = _finish(_start(tmp_path, "umask0", _lock_play(runs, "r1"), umask=0))
    assert rc == 0, output[-2000:]
    for directory in (runs, os.path.join(runs, "locks")):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700, directory
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    rc, output = _finish(_start(tmp_path, "unsafe", _lock_play(str(shared / "runs"), "r1")))
    assert rc != 0 and "refusing the runs/backup path" in output and "writable" in output, output[-2000:]
    assert not (shared / "runs").exists()
    record_figure("runs-dir permissions", checked=2, private=True, unsafe_refused=True)
