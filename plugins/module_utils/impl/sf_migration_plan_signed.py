# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_migration_plan's signed run state and org lock (issue 13), on top of run_files.

- plans are signed as ``plan:<production org>``, records as ``record:<kind>:<org>:<plan checksum>``;
- with a key, a plan or record that is unsigned, edited, signed with another key or moved from another
  org/plan is refused (plans, and a record about to be extended) or left out and named (the records the
  gate counts);
- without a key, read-only and sandbox work go on with a warning, and a production write (the gate, the
  migrate and rollout phases) is refused;
- ``operation=lock`` / ``unlock`` take and give back the org's lease (run_files.acquire_lock).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ConfigurationError,
    IntegrityError,
    LockError,
)


def key_of(params):
    return run_files.signing_key(params.get("signing_key"))


def production_write(params):
    """Whether this call opens the way to writes in a production org."""
    return params.get("org_type") == "production" and bool(
        params.get("gate") or params.get("phase") in ("migrate", "rollout"))


def warn_without_key(task):
    if key_of(task.params) is None:
        task.warn(run_files.NO_KEY_WARNING)


def check_plan(params, plan, path, production_org):
    """Refuse a plan that is not signed by the operator's key for ``production_org`` (with a key), or any
    production write without a key."""
    key = key_of(params)
    if key is None:
        if production_write(params):
            raise IntegrityError(
                "refusing to open production org %s to writes without a signing key: the plan %s and its "
                "verification records cannot be authenticated" % (params.get("org"), path),
                org=params.get("org"),
                hint="set signing_key (license_migration_signing_key from Ansible Vault or an AWX credential, or "
                     "the %s environment variable), then write the plan and verify in a sandbox again"
                     % run_files.SIGNING_KEY_ENV)
        return plan
    return run_files.verify_signed(plan, key, run_files.plan_purpose(production_org), "plan " + path)


def sign_plan(params, plan, org):
    key = key_of(params)
    return run_files.sign(plan, key, run_files.plan_purpose(org)) if key else plan


def resign_needed(params, existing, org):
    """With a key, whether a plan file with the right decisions still lacks a valid signature by it."""
    key = key_of(params)
    return bool(key) and run_files.signature_problem(existing, key, run_files.plan_purpose(org)) is not None


def sign_record(params, document):
    key = key_of(params)
    if key is None:
        return document
    purpose = run_files.record_purpose(document.get("kind"), document.get("org"), document.get("plan_checksum"))
    return run_files.sign(document, key, purpose)


def write_record(task, path, document):
    """Write a record signed; when the file cannot be written (a full disk), the failure says which users the
    org already holds as changed, so the run's outcome is never lost with the record (issue 13)."""
    try:
        return run_files.write_private(path, run_files.dump_json(sign_record(task.params, document)))
    except run_files.RunFileWriteError as exc:
        changed = [name for item in (document.get("migrations") or [])[-1:] for name in item.get("usernames") or []]
        if document.get("kind") == "migration" and changed:
            exc.message += ("; these users WERE changed in org %s and are not recorded: %s (their backup: %s)"
                            % (document.get("org"), ", ".join(changed),
                               (document.get("migrations") or [{}])[-1].get("backup_file") or "none"))
        exc.org = exc.org or document.get("org")
        raise


def read_record(params, kind, path, plan):
    """An existing record about to be extended: refused unless authentic (with a key), never laundered by
    signing a forged file anew."""
    document = run_files.load_json_file(path, "%s record" % kind)
    key = key_of(params)
    if key is not None:
        purpose = run_files.record_purpose(kind, params["org"], plan.get("checksum"))
        run_files.verify_signed(document, key, purpose, "%s record %s" % (kind, path))
    return document


def records(task, plan, kind=None):
    """The plan's records; with a key only the authentic ones, the others named in a warning."""
    params = task.params
    refused = []
    found = run_files.read_records(params["runs_dir"], plan["checksum"], kind=kind, key=key_of(params),
                                   refused=refused)
    for item in refused:
        task.warn("record %s ignored: %s" % (item["path"], item["reason"]))
    return found


def lock_operation(task):
    """``operation=lock``: take or renew the org's lease for ``run_id``; ``unlock``: give it back."""
    params = task.params
    org, run_id = params["org"], params.get("run_id")
    if not run_id:
        raise ConfigurationError("operation=%s needs run_id (the run that holds the lock)" % params["operation"],
                                 org=org)
    path = run_files.lock_path(params["runs_dir"], org)
    current = run_files.read_lock(params["runs_dir"], org)
    if params["operation"] == "unlock":
        held = bool(current) and current.get("run_id") == run_id
        if current and not held:
            raise LockError("org %s is locked by run %s, not by run %s: not released"
                            % (org, current.get("run_id"), run_id), org=org)
        if held and not task.check_mode:
            run_files.release_lock(params["runs_dir"], org, run_id)
        return {"changed": held, "path": path, "lock": None, "released": current if held else None}
    if task.check_mode:
        # Nothing is written under --check, but a live lease of another run is still reported as the failure
        # the real run would meet.
        if current and current.get("run_id") != run_id and not run_files.lease_staleness(current):
            run_files.acquire_lock(params["runs_dir"], org, run_id, ttl=params["lock_ttl"])   # raises LockError
        return {"changed": not current or current.get("run_id") != run_id, "path": path, "lock": current}
    taken = run_files.acquire_lock(params["runs_dir"], org, run_id, ttl=params["lock_ttl"])
    if taken["taken_over"]:
        stale = taken["taken_over"]
        task.warn("took over the lock of org %s from run %s (owner %s, host %s, pid %s): %s"
                  % (org, stale.get("run_id"), stale.get("owner"), stale.get("host"), stale.get("pid"),
                     stale.get("reason")))
    return {"changed": taken["changed"], "path": path, "lock": taken["lease"], "taken_over": taken["taken_over"]}
