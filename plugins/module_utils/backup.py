# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owner-only, atomically written JSON backups of what a module is about to change.

API (shared by sf_integration_user and sf_permission_set):

    path = write_backup(backup_dir, kind, org, payload)   # -> absolute path of the new file
    document = read_backup(path)                           # -> the dict written (with its header)

A backup document is ``{"format": 1, "kind": KIND, "org": ORG, "created": ISO-8601 UTC, "data": PAYLOAD}``.
The directory is created with mode 0700 and every file with mode 0600 because backups describe who
holds which access in production orgs. The file is written to a temporary name in the same directory,
flushed and fsynced, then renamed, so a reader never sees a half-written backup.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re
import tempfile

BACKUP_FORMAT = 1
DEFAULT_BACKUP_DIR = "~/.ansible/sfops_backups"


class BackupError(Exception):
    """The backup could not be written or read; the module must not go on writing to the org."""


def _safe_name(text):
    # Org names and kinds end up in file names: keep them portable.
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text or "org")).strip("._") or "org"


def backup_directory(backup_dir):
    """Expand ``backup_dir`` (default DEFAULT_BACKUP_DIR) and create it owner-only if missing."""
    path = os.path.abspath(os.path.expanduser(backup_dir or DEFAULT_BACKUP_DIR))
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise BackupError("cannot create backup directory %s: %s" % (path, exc))
    return path


def write_backup(backup_dir, kind, org, payload, now=None):
    """Write ``payload`` as a new backup file and return its absolute path."""
    directory = backup_directory(backup_dir)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    document = {
        "format": BACKUP_FORMAT,
        "kind": kind,
        "org": org,
        "created": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": payload,
    }
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


def read_backup(path, kind=None):
    """Load a backup document; ``kind`` (when given) must match the one it was written with."""
    full = os.path.abspath(os.path.expanduser(path))
    try:
        with open(full) as stream:
            document = json.load(stream)
    except (OSError, ValueError) as exc:
        raise BackupError("cannot read backup %s: %s" % (full, exc))
    if not isinstance(document, dict) or document.get("format") != BACKUP_FORMAT or "data" not in document:
        raise BackupError("%s is not a backup written by this collection (format %s)" % (full, BACKUP_FORMAT))
    if kind is not None and document.get("kind") != kind:
        raise BackupError("%s is a %r backup, expected %r" % (full, document.get("kind"), kind))
    return document
