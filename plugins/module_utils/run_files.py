# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the license_migration role keeps plans, records, reports and backups, and how it writes them.

Layout under ``runs_dir`` (the role's ``license_migration_runs_dir``)::

    plans/<production org>.json                  the reviewable plan (checksummed)
    records/<checksum>/<kind>-<org>.json         migration / verification records of that plan
    <run id>/report.json, report.csv, report.html
    <run id>/orgs/<org>.json                     each org's result as the run's steps left it (signed)
    <run id>/backups/<org>/                      sf_integration_user backups written by that run
    <run id>/rollback_backups/<org>/             those a rollback of the run wrote before restoring
    current_run.json                             the run the last inventory started (signed): the
                                                 later steps of that run continue it

    locks/<org>.lock                             the org's lease: one writing run at a time

Everything is owner-only (directories 0700 whatever the umask, files 0600): plans and reports name the
users that hold access to production orgs. A runs path with a component that another user owns or can
write (or a symlink into one) is refused, as ssh refuses such a path for its keys. Files are written
atomically (temporary file + rename), and a file whose content would not change is not rewritten, so
reruns report ``changed=false``.

Signed run state: plans, records and backups carry ``signature: {alg, key_id, purpose, value}``, an
HMAC-SHA256 with the operator's key over the canonical JSON of everything else and the file's
``purpose`` (what it is, for which org/plan), so a file edited, signed with another key, or moved to
serve as another org's file is refused by :func:`verify_signed`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import getpass
import hashlib
import hmac
import json
import os
import re
import socket
import stat
import tempfile
import time
import uuid

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ConfigurationError,
    IntegrityError,
    LockError,
    OperationError,
)

SIGNING_KEY_ENV = "SFOPS_SIGNING_KEY"
SIGNATURE_ALG = "HMAC-SHA256"
MIN_KEY_LENGTH = 32
_MAC_CONTEXT = b"sfops.integration_users run state v1\n"
DEFAULT_LOCK_TTL = 1800
NO_KEY_WARNING = ("no signing key (signing_key or %s): plans, records and backups are written unsigned and "
                  "cannot be told from forged ones; production writes are refused until a key is set"
                  % SIGNING_KEY_ENV)


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


def current_run_path(runs_dir):
    return os.path.join(_root(runs_dir), "current_run.json")


def _root(runs_dir):
    return os.path.abspath(os.path.expanduser(runs_dir))


def lock_path(runs_dir, org):
    return os.path.join(_root(runs_dir), "locks", safe_name(org) + ".lock")


# ---- trusted directories -------------------------------------------------------------------------------
def _unsafe_reason(path, st):
    """Why a directory on the way to the runs dir is not trusted (None when it is)."""
    me = os.geteuid()
    if st.st_uid not in (0, me):
        return "%s is owned by uid %d, not by you (uid %d) or root" % (path, st.st_uid, me)
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        # A sticky directory of root (/tmp) only lets each user rename their own entries: the next component,
        # which must then be ours, is what counts.
        if mode & stat.S_ISVTX and st.st_uid == 0:
            return None
        who = "group and others" if mode & 0o022 == 0o022 else "its group" if mode & 0o020 else "others"
        return "%s is writable by %s (mode %04o)" % (path, who, mode)
    return None


def check_trusted_path(path):
    """Refuse ``path`` when a directory on the way to it (or to what a symlink on the way points at) can be
    written by another user or is owned by one: that user could plant a plan, a record or a backup."""
    full = os.path.abspath(os.path.expanduser(path))
    seen = set()
    for candidate in (full, os.path.realpath(full)):
        current = "/"
        parts = [p for p in candidate.split(os.sep) if p]
        for index in range(len(parts) + 1):
            current = os.path.join("/", *parts[:index]) if index else "/"
            try:
                st = os.stat(current)
            except FileNotFoundError:
                break
            except OSError as exc:
                raise ConfigurationError("cannot check runs path %s: %s" % (current, exc))
            if current in seen or not stat.S_ISDIR(st.st_mode):
                continue
            seen.add(current)
            link = os.path.islink(current)
            reason = _unsafe_reason(current, st)
            if reason:
                through = " (reached through a symlink)" if link or candidate != full else ""
                raise ConfigurationError(
                    "refusing the runs/backup path %s: %s%s" % (full, reason, through),
                    hint="keep runs and backups in a directory only you (or root) own and can write, for example "
                         "chmod go-w on it, or choose another license_migration_runs_dir / backup_dir")
    return full


def make_private_dirs(path):
    """Create ``path`` and its missing parents owner-only (0700, whatever the umask), after checking that
    the existing part of the path is trusted. Returns the absolute path."""
    full = os.path.abspath(os.path.expanduser(path))
    check_trusted_path(full)
    missing = []
    current = full
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ConfigurationError("cannot create directory %s: %s" % (directory, exc))
        st = os.lstat(directory)
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid():
            raise ConfigurationError("refusing %s: it appeared as a symlink or another user's directory while it "
                                     "was being created" % directory)
        os.chmod(directory, 0o700)   # mkdir's mode is cut by the umask; chmod is not
    return full


def write_private(path, text):
    """Write ``text`` to ``path`` atomically with mode 0600. Returns False (and writes nothing) when the
    file already holds exactly this text."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    directory = make_private_dirs(os.path.dirname(path))
    if os.path.islink(path):
        raise ConfigurationError("refusing to write %s: it is a symlink" % path)
    try:
        handle, tmp_path = tempfile.mkstemp(prefix="." + os.path.basename(path), suffix=".tmp", dir=directory)
    except OSError as exc:
        raise RunFileWriteError(path, exc)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_path, path)
    except BaseException as exc:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        if isinstance(exc, OSError):
            # A full disk or a read-only volume: a message naming the file, never a traceback.
            raise RunFileWriteError(path, exc)
        raise
    return True


class RunFileWriteError(OperationError):
    """A run file could not be written (full disk, read-only volume...); the old content, if any, is intact."""

    def __init__(self, path, exc):
        super(RunFileWriteError, self).__init__(
            "cannot write %s: %s" % (path, getattr(exc, "strerror", None) or exc),
            hint="free space on (or fix) the runs volume; the file was left as it was before")
        self.path = path


def dump_json(value):
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_json_file(path, what="run file"):
    """``read_json`` with every failure (missing, unreadable, not JSON, not an object) as an IntegrityError
    that names the file, instead of a JSON parser traceback text."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise IntegrityError("cannot read %s %s: %s" % (what, path, getattr(exc, "strerror", None) or exc))
    except ValueError as exc:
        raise IntegrityError("%s %s is not valid JSON (%s): it is corrupt or was edited" % (what, path, exc),
                             hint="move the file away (or restore it) and run the step that writes it again")
    if not isinstance(value, dict):
        raise IntegrityError("%s %s does not hold a JSON object" % (what, path))
    return value


# ---- signing -------------------------------------------------------------------------------------------
class SigningKey:
    """The operator's run-state key. ``key_id`` (a digest of the key, not the key) tells keys apart in
    messages and files; ``repr`` never shows the key."""

    def __init__(self, secret):
        self._secret = secret.encode("utf-8")
        self.key_id = hashlib.sha256(b"sfops key id\n" + self._secret).hexdigest()[:16]

    def mac(self, purpose, document):
        body = _MAC_CONTEXT + purpose.encode("utf-8") + b"\n" + canonical(document)
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def __repr__(self):
        return "SigningKey(key_id=%s)" % self.key_id


def signing_key(value, environ=None):
    """The SigningKey from an option value, else from ``SFOPS_SIGNING_KEY``; None when neither is set.

    Refused (never echoed) when shorter than 32 characters or holding whitespace or control characters."""
    environ = os.environ if environ is None else environ
    secret = value if value else environ.get(SIGNING_KEY_ENV)
    if not secret:
        return None
    if not isinstance(secret, str) or len(secret) < MIN_KEY_LENGTH or any(
            c.isspace() or ord(c) < 32 or ord(c) == 127 for c in secret):
        raise ConfigurationError(
            "the signing key (signing_key or %s) must be at least %d characters without whitespace or control "
            "characters; it is not shown" % (SIGNING_KEY_ENV, MIN_KEY_LENGTH),
            hint="create one with `openssl rand -hex 32` and keep it in Ansible Vault or an AWX credential")
    return SigningKey(secret)


def canonical(document):
    """The bytes a signature covers: the document without its ``signature``, keys sorted, no spaces."""
    body = dict((k, v) for k, v in document.items() if k != "signature")
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign(document, key, purpose):
    """A copy of ``document`` carrying ``signature`` (HMAC-SHA256 of ``purpose`` + canonical JSON)."""
    signed = dict((k, v) for k, v in document.items() if k != "signature")
    signed["signature"] = {"alg": SIGNATURE_ALG, "key_id": key.key_id, "purpose": purpose,
                           "value": key.mac(purpose, signed)}
    return signed


def signature_problem(document, key, purpose):
    """Why ``document`` is not an authentic ``purpose`` file under ``key`` (None when it is)."""
    signature = document.get("signature") if isinstance(document, dict) else None
    if not isinstance(signature, dict) or not signature.get("value"):
        return "it is not signed"
    if signature.get("alg") != SIGNATURE_ALG:
        return "its signature algorithm %r is not %s" % (str(signature.get("alg"))[:40], SIGNATURE_ALG)
    if signature.get("key_id") != key.key_id:
        return "it was signed with another key (key id %s; yours is %s)" % (
            str(signature.get("key_id"))[:40], key.key_id)
    if signature.get("purpose") != purpose:
        return "it was signed as %r and is used as %r (moved or copied from elsewhere)" % (
            str(signature.get("purpose"))[:200], purpose)
    if not hmac.compare_digest(str(signature.get("value")), key.mac(purpose, document)):
        return "it was edited after it was signed"
    return None


def verify_signed(document, key, purpose, path):
    """Raise IntegrityError naming ``path`` unless ``document`` is an authentic ``purpose`` file."""
    problem = signature_problem(document, key, purpose)
    if problem:
        raise IntegrityError("refusing %s: %s" % (path, problem))
    return document


def plan_purpose(org):
    return "plan:%s" % org


def record_purpose(kind, org, checksum):
    return "record:%s:%s:%s" % (kind, org, checksum)


def org_result_purpose(run_id, org):
    return "org-result:%s:%s" % (run_id, org)


CURRENT_RUN_PURPOSE = "current-run"


def read_records(runs_dir, checksum, kind=None, key=None, refused=None):
    """Every record of a plan checksum (of ``kind`` when given), oldest first.

    With ``key``, a record that is not signed by it for its own kind, org and plan is left out and described
    in ``refused`` (a list the caller passes to learn which files were refused and why). A corrupt file is an
    IntegrityError naming it."""
    directory = records_dir(runs_dir, checksum)
    if not os.path.isdir(directory):
        return []
    found = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json") or (kind and not name.startswith(kind + "-")):
            continue
        path = os.path.join(directory, name)
        document = load_json_file(path, "record")
        if key is not None:
            purpose = record_purpose(document.get("kind"), document.get("org"), checksum)
            expected = "%s-%s.json" % (safe_name(document.get("kind")), safe_name(document.get("org")))
            problem = signature_problem(document, key, purpose) or (
                None if name == expected else "its content is for %s, not this file name" % expected)
            if problem:
                if refused is not None:
                    refused.append({"path": path, "reason": problem})
                continue
        found.append(document)
    return sorted(found, key=lambda r: r.get("created") or "")


# ---- the org lock --------------------------------------------------------------------------------------
def _pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, TypeError, OverflowError):
        return True
    return True


def _parse_time(text):
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def _stamp(now):
    return datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lease_staleness(lease, now=None, host=None):
    """Why an existing lease may be taken over (None while it is live): its holder's process is gone (same
    host only: pids of other hosts mean nothing here), or it was not renewed within its time to live."""
    now = time.time() if now is None else now
    host = host or socket.gethostname()
    if lease.get("host") == host and lease.get("pid") and not _pid_alive(lease["pid"]):
        return "its process %s on %s is gone" % (lease["pid"], host)
    renewed = _parse_time(lease.get("renewed") or lease.get("acquired"))
    ttl = lease.get("ttl") or DEFAULT_LOCK_TTL
    if renewed is None:
        return "it holds no valid time"
    if now - renewed > ttl:
        return "it was last renewed %d s ago, more than its time to live of %d s" % (now - renewed, ttl)
    return None


def _write_lease(path, lease, exclusive):
    text = dump_json(lease)
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        return
    write_private(path, text)


def _read_lease(path):
    try:
        with open(path, encoding="utf-8") as handle:
            lease = json.load(handle)
        return lease if isinstance(lease, dict) else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def acquire_lock(runs_dir, org, run_id, ttl=DEFAULT_LOCK_TTL, owner=None, pid=None, host=None, now=None):
    """Take (or renew) the org's lease for ``run_id``.

    Returns ``{"changed", "lease", "path", "taken_over"}``: ``taken_over`` describes a stale lease that was
    replaced. Another run's live lease raises LockError naming its run, owner, host, pid and times. The same
    run asking again renews its lease (long runs ask before each batch)."""
    if not run_id:
        raise ConfigurationError("the org lock needs a run id")
    path = lock_path(runs_dir, org)
    make_private_dirs(os.path.dirname(path))
    now = time.time() if now is None else now
    host = host or socket.gethostname()
    lease = {"org": org, "run_id": run_id, "owner": owner or operator(), "host": host,
             "pid": pid if pid is not None else os.getppid(), "acquired": _stamp(now), "renewed": _stamp(now),
             "ttl": int(ttl)}
    taken_over = None
    for dummy in range(5):
        try:
            _write_lease(path, lease, exclusive=True)
            return {"changed": True, "lease": lease, "path": path, "taken_over": taken_over}
        except FileExistsError:
            pass
        existing = _read_lease(path)
        if existing is None:
            continue
        if existing.get("run_id") == run_id and existing.get("org", org) == org:
            renewed = dict(existing, renewed=_stamp(now), ttl=int(ttl), pid=lease["pid"], host=host)
            write_private(path, dump_json(renewed))
            return {"changed": False, "lease": renewed, "path": path, "taken_over": None}
        why = lease_staleness(existing, now, host) if existing else "it is unreadable"
        if not why:
            raise LockError(
                "org %s is locked by run %s (owner %s, host %s, pid %s) since %s, renewed %s: only one writing run "
                "at a time per org" % (org, existing.get("run_id"), existing.get("owner"), existing.get("host"),
                                       existing.get("pid"), existing.get("acquired"), existing.get("renewed")),
                org=org)
        # Take over: move the stale lease aside atomically (only one taker wins the rename), check that what was
        # moved is the lease judged stale, then create ours exclusively.
        aside = "%s.stale-%s" % (path, uuid.uuid4().hex)
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            continue
        moved = _read_lease(aside)
        if moved != existing:
            try:
                os.link(aside, path)     # put a fresher lease back, unless someone created one meanwhile
            except OSError:
                pass
            os.unlink(aside)
            continue
        os.unlink(aside)
        taken_over = dict(existing, reason=why)
    raise LockError("could not take the lock of org %s: other runs keep racing for it" % org, org=org)


def release_lock(runs_dir, org, run_id):
    """Give the org's lease back; only the run holding it can (returns whether a lease was removed)."""
    path = lock_path(runs_dir, org)
    existing = _read_lease(path)
    if existing is None:
        return False
    if existing.get("run_id") != run_id:
        raise LockError("org %s is locked by run %s, not by run %s: not released" % (
            org, existing.get("run_id"), run_id), org=org)
    os.unlink(path)
    return True


def read_lock(runs_dir, org):
    """The org's current lease (None when unlocked)."""
    return _read_lease(lock_path(runs_dir, org))


def operator():
    """Who runs this (the local account), for a lease's owner and a report's provenance."""
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (containers)
        return "uid %d" % os.getuid()


def backup_files(runs_dir, run_id, org):
    """Backup files a run wrote for an org, newest first (the order to restore them in, so each user
    ends in the state it had before the run's first change)."""
    directory = backup_dir(runs_dir, run_id, org)
    if not os.path.isdir(directory):
        return []
    files = [os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".json")]
    return sorted(files, key=lambda p: (load_json_file(p, "backup").get("created") or "", p), reverse=True)
