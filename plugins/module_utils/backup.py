# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owner-only, atomically written JSON backups of what a module is about to change.

API (shared by sf_integration_user and sf_permission_set):

    path = write_backup(backup_dir, kind, org, payload)   # -> absolute path of the new file
    document = read_backup(path)                           # -> the dict written (with its header)

A backup document is ``{"format": 1, "kind": KIND, "org": ORG, "created": ISO-8601 UTC, "data": PAYLOAD}``,
plus ``signature`` (run_files.sign, purpose ``backup:KIND``) when written with the operator's key. The
payload binds the org Id and each user's Id and username: a restore checks all three against the org
(:func:`binding_problems`), and with a key an edited, foreign-key or unsigned backup is refused.
The directory (and any parent it creates) is made 0700 whatever the umask, after the existing part of
the path was checked as trusted (run_files.check_trusted_path), and every file 0600, because backups
describe who holds which access in production orgs. The file is written to a temporary name in the same directory,
flushed and fsynced, then renamed, so a reader never sees a half-written backup.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re
import tempfile

from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ConfigurationError,
    IntegrityError,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import is_id, same_id, to18

BACKUP_FORMAT = 1
DEFAULT_BACKUP_DIR = "~/.ansible/sfops_backups"


class BackupError(Exception):
    """The backup could not be written or read; the module must not go on writing to the org."""


def _safe_name(text):
    # Org names and kinds end up in file names: keep them portable.
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text or "org")).strip("._") or "org"


def backup_purpose(kind):
    return "backup:%s" % kind


def backup_directory(backup_dir):
    """Expand ``backup_dir`` (default DEFAULT_BACKUP_DIR) and create it (and missing parents) 0700 after
    checking that no directory on the way can be written by another user."""
    path = os.path.abspath(os.path.expanduser(backup_dir or DEFAULT_BACKUP_DIR))
    try:
        return run_files.make_private_dirs(path)
    except ConfigurationError as exc:
        raise BackupError("cannot use backup directory %s: %s" % (path, exc.message))


def write_backup(backup_dir, kind, org, payload, now=None, key=None):
    """Write ``payload`` as a new backup file and return its absolute path (signed when ``key`` is given)."""
    directory = backup_directory(backup_dir)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    document = {
        "format": BACKUP_FORMAT,
        "kind": kind,
        "org": org,
        "created": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": payload,
    }
    if key is not None:
        document = run_files.sign(document, key, backup_purpose(kind))
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    prefix = "%s-%s-%s-" % (_safe_name(kind), _safe_name(org), stamp)
    # mkstemp creates the file with mode 0600 and a unique name: two runs in the same
    # microsecond (parallel AWX forks) cannot overwrite each other's backup.
    try:
        handle, tmp_path = tempfile.mkstemp(prefix="." + prefix, suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BackupError("cannot write a backup in %s: %s" % (directory, exc))
    final_path = os.path.join(directory, os.path.basename(tmp_path)[1:-len(".tmp")] + ".json")
    try:
        with os.fdopen(handle, "w") as stream:
            os.fchmod(stream.fileno(), 0o600)
            json.dump(document, stream, indent=2, sort_keys=True)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_path, final_path)
    except (OSError, TypeError, ValueError) as exc:
        try:
            os.unlink(tmp_path)
        except OSError:
            pass
        raise BackupError("cannot write backup %s: %s" % (final_path, exc))
    return final_path


def read_backup(path, kind=None, key=None, within=None):
    """Load a backup document; ``kind`` (when given) must match the one it was written with.

    ``key``: the document must be signed by it as a ``kind`` backup (IntegrityError naming the file
    otherwise). ``within``: the file, symlinks resolved, must lie inside that directory (a run id such as
    ``../../../outside`` cannot reach other files)."""
    full = os.path.abspath(os.path.expanduser(path))
    if within is not None:
        root = os.path.realpath(os.path.abspath(os.path.expanduser(within)))
        if os.path.commonpath([root, os.path.realpath(full)]) != root:
            raise IntegrityError("refusing backup %s: it is not inside %s" % (full, root))
    try:
        with open(full) as stream:
            document = json.load(stream)
    except (OSError, ValueError) as exc:
        raise BackupError("cannot read backup %s: %s" % (full, exc))
    if not isinstance(document, dict) or document.get("format") != BACKUP_FORMAT or "data" not in document:
        raise BackupError("%s is not a backup written by this collection (format %s)" % (full, BACKUP_FORMAT))
    if kind is not None and document.get("kind") != kind:
        raise BackupError("%s is a %r backup, expected %r" % (full, document.get("kind"), kind))
    if key is not None:
        run_files.verify_signed(document, key, backup_purpose(document.get("kind")), "backup " + full)
    return document


def binding_problems(document, org_id, current_by_id):
    """What ties a backup to another org or other users: ``{"backup" | username: [problems]}``.

    ``org_id``: the Id of the org the task targets; ``current_by_id``: ``{18-char user Id: current username}``
    as the org answers now. The backup must name its org Id, the same one, and each saved user's Id must belong
    to the saved username (another user's Id in an entry would restore that other user)."""
    problems = {}
    data = document.get("data") if isinstance(document, dict) else None
    backup_org = data.get("org_id") if isinstance(data, dict) else None
    if not backup_org:
        problems["backup"] = ["it names no org Id, so it cannot be shown to come from this org"]
    elif not same_id(backup_org, org_id):
        problems["backup"] = ["it was taken from org %s (%s), this task targets org %s"
                              % (backup_org, document.get("org"), org_id)]
    current_by_id = dict((to18(k), v) for k, v in current_by_id.items() if is_id(k))
    for saved in (data.get("users") or []) if isinstance(data, dict) else []:
        if not isinstance(saved, dict) or not is_id(saved.get("id")):
            continue
        current = current_by_id.get(to18(saved["id"]))
        if current is not None and str(current).lower() != str(saved.get("username") or "").lower():
            problems.setdefault(str(saved.get("username")), []).append(
                "the backup gives it Id %s, which belongs to user %s in the org" % (saved.get("id"), current))
    return problems
