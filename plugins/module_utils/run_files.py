# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the license_migration role keeps plans, records, reports and backups, and how it writes them.

Layout under ``runs_dir`` (the role's ``license_migration_runs_dir``)::

    plans/<production org>.json                  the reviewable plan (checksummed)
    records/<checksum>/<kind>-<org>.json         migration / verification records of that plan
    <run id>/report.json, report.csv, report.html
    <run id>/backups/<org>/                      sf_integration_user backups written by that run

Everything is owner-only (directories 0700, files 0600): plans and reports name the users that hold
access to production orgs. Files are written atomically (temporary file + rename), and a file whose
content would not change is not rewritten, so reruns report ``changed=false``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import tempfile

from ansible_collections.sfops.integration_users.plugins.module_utils.backup import backup_directory


def safe_name(text):
    # Org names and run ids end up in file names.
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._") or "_"


def plan_path(runs_dir, org):
    return os.path.join(_root(runs_dir), "plans", safe_name(org) + ".json")


def records_dir(runs_dir, checksum):
    return os.path.join(_root(runs_dir), "records", safe_name(str(checksum).rsplit(":", maxsplit=1)[-1][:16]))


def record_path(runs_dir, checksum, kind, org):
    return os.path.join(records_dir(runs_dir, checksum), "%s-%s.json" % (safe_name(kind), safe_name(org)))


def run_dir(runs_dir, run_id):
    return os.path.join(_root(runs_dir), safe_name(run_id))


def backup_dir(runs_dir, run_id, org):
    return os.path.join(run_dir(runs_dir, run_id), "backups", safe_name(org))


def _root(runs_dir):
    return os.path.abspath(os.path.expanduser(runs_dir))


def make_private_dirs(path):
    """Create ``path`` and its missing parents owner-only (0700)."""
    parent = os.path.dirname(path)
    if parent and parent != path and not os.path.isdir(parent):
        make_private_dirs(parent)
    return backup_directory(path)


def write_private(path, text):
    """Write ``text`` to ``path`` atomically with mode 0600. Returns False (and writes nothing) when the
    file already holds exactly this text."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    directory = make_private_dirs(os.path.dirname(path))
    handle, tmp_path = tempfile.mkstemp(prefix="." + os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise
    return True


def dump_json(value):
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_records(runs_dir, checksum, kind=None):
    """Every record of a plan checksum (of ``kind`` when given), oldest first."""
    directory = records_dir(runs_dir, checksum)
    if not os.path.isdir(directory):
        return []
    found = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json") or (kind and not name.startswith(kind + "-")):
            continue
        found.append(read_json(os.path.join(directory, name)))
    return sorted(found, key=lambda r: r.get("created") or "")


def backup_files(runs_dir, run_id, org):
    """Backup files a run wrote for an org, newest first (the order to restore them in, so each user
    ends in the state it had before the run's first change)."""
    directory = backup_dir(runs_dir, run_id, org)
    if not os.path.isdir(directory):
        return []
    files = [os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".json")]
    return sorted(files, key=lambda p: (read_json(p).get("created") or "", p), reverse=True)
