# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Implementation of sf_migration_plan: write, load and gate plans, and record migrations and
verifications (controller files only; never talks to Salesforce)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan_outcomes as outcomes
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan_plans as planning
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_plan_signed as signed
from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import observed_access
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ConfigurationError,
    OperationError,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.options import get_spec
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec

ARGUMENT_SPEC = dict(
    get_spec("users"),
    operation=dict(type="str", required=True,
                   choices=["write", "load", "record_migration", "record_verification", "lock", "unlock", "record_batch"]),
    runs_dir=dict(type="path", required=True),
    org=dict(type="str", required=True),
    production_org=dict(type="str"),
    org_type=dict(type="str", choices=["production", "sandbox"], default="production"),
    sandbox_name=dict(type="str"),
    run_id=dict(type="str"),
    licenses=dict(type="dict"),
    user_info=dict(type="dict"),
    profile_check=dict(type="dict"),
    exclude=dict(type="list", elements="str", default=[]),
    accepted_findings=dict(type="list", elements="str", default=[]),
    permission_set_prefix=dict(type="str", default="Integration_Access_"),
    access_source=dict(type="str", choices=list(observed_access.ACCESS_SOURCES), default="copy"),
    access_sources=dict(type="dict", default={}),
    access_margin=dict(type="str", choices=list(observed_access.MARGINS), default="keep_reads"),
    overwrite=dict(type="bool", default=False),
    gate=dict(type="bool", default=False),
    override_reason=dict(type="str"),
    started=dict(type="str"),
    migrated=dict(type="list", elements="dict", default=[]),
    backup_file=dict(type="str"),
    user_states=dict(type="list", elements="dict", default=[]),
    probes=dict(type="list", elements="dict", default=[]),
    failed_logins=dict(type="list", elements="dict", default=[]),
    user_tasks_error=dict(type="str"),
    plan=dict(type="dict"),
    # Issue 13: the operator's run-state key (else SFOPS_SIGNING_KEY) and the org lock's time to live.
    signing_key=dict(type="str", no_log=True),
    lock_ttl=dict(type="int", default=run_files.DEFAULT_LOCK_TTL),
    phase=dict(type="str", choices=["migrate", "verify", "rollout"]),
    api_usage=dict(type="dict"),
    min_api_remaining=dict(type="int"),
    batch_size=dict(type="int", default=5),
    results=dict(type="list", elements="dict"),
    rollout=dict(type="dict"),
    batch_number=dict(type="int"),
    applied=dict(type="dict"),
)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _production(params):
    return params.get("production_org") or params["org"]


def _load(params):
    path = run_files.plan_path(params["runs_dir"], _production(params))
    if params.get("plan") and not os.path.exists(path):
        # Under --check the plan step wrote no file; the plan it computed is handed over in memory.
        try:
            return path, planning.verify_checksum(params["plan"], "the plan computed in this run")
        except planning.PlanError as exc:
            raise OperationError(str(exc), org=params["org"])
    if not os.path.exists(path):
        raise OperationError("no plan for %s at %s: run the plan entry point (license_migration) on the "
                             "production org first" % (_production(params), path), org=params["org"])
    try:
        plan = run_files.read_json(path)
    except ValueError as exc:
        raise OperationError("plan %s is not valid JSON (%s): it was edited; write it again" % (path, exc),
                             org=params["org"])
    try:
        planning.verify_checksum(plan, path)
    except planning.PlanError as exc:
        raise OperationError(str(exc), org=params["org"])
    return path, signed.check_plan(params, plan, path, _production(params))


def _write(task):
    params = task.params
    for name in ("licenses", "user_info", "profile_check"):
        if not params.get(name):
            raise ConfigurationError("operation=write needs %s (the registered result of the module)" % name)
    try:
        for warning in planning.check_settings(params["user_info"], params["profile_check"], params["exclude"],
                                               params["users"], params["accepted_findings"], params["access_sources"]):
            task.warn(warning)
    except planning.PlanError as exc:
        raise ConfigurationError(str(exc))
    try:
        plan = planning.build_plan(params["org"], params["licenses"], params["user_info"], params["profile_check"],
                                   exclude=params["exclude"], only_users=params["users"],
                                   accepted_findings=params["accepted_findings"],
                                   permission_set_prefix=params["permission_set_prefix"],
                                   access_source=params["access_source"], access_sources=params["access_sources"],
                                   access_margin=params["access_margin"])
    except planning.PlanError as exc:
        raise ConfigurationError(str(exc), hint="access_source and access_sources take %s; access_margin takes %s" % (
            " or ".join(observed_access.ACCESS_SOURCES), ", ".join(observed_access.MARGINS)))
    path = run_files.plan_path(params["runs_dir"], params["org"])
    existing = None
    if os.path.exists(path):
        try:
            existing = run_files.read_json(path)
        except ValueError:
            existing = {}
    result = {"path": path, "plan": plan, "checksum": plan["checksum"], "written": False}
    if existing and existing.get("checksum") == plan["checksum"] and not _edited(existing) \
            and signed.resign_needed(params, existing, params["org"]):
        # The same decisions, not yet signed with this key: the reviewed file is kept and signed.
        existing = signed.sign_plan(params, existing, params["org"])
        if not task.check_mode:
            run_files.write_private(path, run_files.dump_json(existing))
        return dict(result, plan=existing, written=not task.check_mode, changed=True)
    if existing is not None and existing.get("checksum") == plan["checksum"] and not _edited(existing):
        result["plan"] = existing
        return dict(result, changed=False)
    if existing is not None and not params["overwrite"]:
        # A reviewed plan is never replaced behind the reviewer's back.
        task.warn("plan %s exists with other decisions (checksum %s; the org now gives %s): kept as it is. "
                  "Set license_migration_plan_overwrite=true to replace it." % (
                      path, existing.get("checksum"), plan["checksum"]))
        result.update(plan=existing, checksum=existing.get("checksum"), stale=True)
        return dict(result, changed=False)
    plan["meta"] = {"created": _now(), "run_id": params.get("run_id"), "written_by": "sfops.integration_users"}
    plan = signed.sign_plan(params, plan, params["org"])
    result["plan"] = plan
    if task.diff:
        result["diff"] = {"before": existing or {}, "after": plan}
    if not task.check_mode:
        run_files.write_private(path, run_files.dump_json(plan))
        result["written"] = True
    return dict(result, changed=True)


def _edited(plan):
    try:
        planning.verify_checksum(plan)
    except planning.PlanError:
        return True
    return False


def _refuse(params, message):
    if message:
        raise OperationError(message, org=params["org"])


def _load_op(task):
    params = task.params
    started = _now()
    phase = params.get("phase")
    _refuse(params, outcomes.org_type_error(phase, params["org"], params["org_type"]))
    if phase in ("migrate", "rollout"):
        # Last read before the writes: an org whose daily allocation is nearly spent is skipped untouched.
        _refuse(params, outcomes.api_allocation_error(params["org"], params.get("api_usage"),
                                                      params.get("min_api_remaining")))
    path, plan = _load(params)
    sandbox = params.get("sandbox_name") if params["org_type"] == "sandbox" else None
    result = {"changed": False, "path": path, "plan": plan, "checksum": plan["checksum"],
              "moves": planning.moves(plan, sandbox, params.get("users")),
              "entries": [dict(e, target_username=planning.sandbox_username(e["username"], sandbox))
                          for e in plan.get("entries") or []],
              "records": [r for r in signed.records(task, plan)
                          if r.get("org") == params["org"]]}
    result["migrated"] = sorted(set(name for document in result["records"] for item in document.get("migrations") or []
                                    for name in item.get("usernames") or []))
    starts = [migration_started(result["records"], m["target_username"]) for m in result["moves"]]
    starts = [s for s in starts if s]
    # The window of the "no failed login since the migration" check: from the earliest move.
    result["migrated_since"] = min(starts) if starts else None
    result["started"] = started
    if phase == "verify":
        # The users this plan's records say were moved here (every move entry when nothing was recorded,
        # e.g. users moved before the role kept records).
        migrated = set(n.lower() for n in result["migrated"])
        verify = [m for m in result["moves"] if m["target_username"].lower() in migrated] if migrated else result["moves"]
        result["verify_moves"] = verify
        result["failed_logins_query"] = outcomes.failed_logins_query([m["target_username"] for m in verify],
                                                                     result["migrated_since"])
    if params["gate"] or phase == "rollout":
        verifications = signed.records(task, plan, kind="verification")
        gate = planning.gate(plan, verifications, params.get("override_reason"))
        result["gate"] = gate
        if gate["override"]:
            task.warn("production gate overridden for %s: %s" % (params["org"], gate["override"]))
        allowed = set(n.lower() for n in gate["allowed"])
        result["moves"] = [m for m in result["moves"] if m["username"].lower() in allowed]
    if phase == "rollout":
        if params["batch_size"] < 1:
            raise ConfigurationError("batch_size must be at least 1 (got %d)" % params["batch_size"])
        result["batches"] = planning.batches(result["moves"], params["batch_size"])
    section = {"plan": dict(plan, path=path, entries=result["entries"])}
    if phase == "rollout":
        section.update(outcomes.rollout_start(result["gate"], started, task.check_mode))
    result["section"] = section
    return result


def _write_record(task, kind, path, document):
    if task.check_mode:
        return False
    return signed.write_record(task, path, document)


def _record_migration(task):
    params = task.params
    _path, plan = _load(params)
    outcome = {}
    migrated, backup_file = params["migrated"], params.get("backup_file")
    if params.get("results") is not None:
        # The registered results of the moves: this operation tells applied users from refused ones.
        applied = outcomes.applied_moves(params["results"], params.get("started"), task.check_mode)
        migrated, backup_file = applied["users"], ",".join(applied["backup_files"])
        # What to verify: the moves that were applied (none under --check); a production batch is verified
        # only when none of its moves was refused (else it is put back).
        verify_moves = [] if task.check_mode else outcomes.applied_entries(params["results"])
        outcome = {"applied": applied, "verify": bool(verify_moves) and not applied["errors"],
                   "verify_moves": verify_moves,
                   "section": {"migrate": applied, "error": outcomes.migration_error(applied)},
                   "failed_logins_query": outcomes.failed_logins_query(
                       [m.get("target_username") for m in verify_moves], applied["started"])}
    path = run_files.record_path(params["runs_dir"], plan["checksum"], "migration", params["org"])
    document = signed.read_record(params, "migration", path, plan) if os.path.exists(path) else planning.record(
        "migration", plan, params["org"], params["org_type"], _production(params), _now(), params.get("run_id"),
        migrations=[])
    changed_users = [u["username"] for u in migrated if u.get("changed")]
    if not changed_users:
        return dict(outcome, changed=False, path=path, record=document)
    document["migrations"].append({"run_id": params.get("run_id"), "started": params.get("started") or _now(),
                                   "usernames": changed_users, "backup_file": backup_file})
    document["created"] = _now()
    return dict(outcome, changed=_write_record(task, "migration", path, document), path=path, record=document)


def migration_started(records, username):
    """When ``username`` was last moved, from the org's migration record (None when never)."""
    started = None
    for document in records:
        for item in document.get("migrations") or []:
            if username.lower() in (n.lower() for n in item.get("usernames") or []):
                started = max(started or "", item.get("started") or "") or started
    return started


def _record_verification(task):
    params = task.params
    _path, plan = _load(params)
    sandbox = params.get("sandbox_name") if params["org_type"] == "sandbox" else None
    entries = planning.moves(plan, sandbox, params.get("users"))
    outcome = planning.verification_outcome(plan, entries, params["user_states"], params["probes"],
                                            params["failed_logins"])
    if params.get("user_tasks_error"):
        for user in outcome:
            user["passed"] = False
            user["problems"].append("license_migration_verify_tasks failed: %s" % params["user_tasks_error"])
    path = run_files.record_path(params["runs_dir"], plan["checksum"], "verification", params["org"])
    document = planning.record("verification", plan, params["org"], params["org_type"], _production(params),
                               _now(), params.get("run_id"), users=outcome)
    if os.path.exists(path):
        # Users verified before and not verified again (another batch) keep their last result.
        previous = signed.read_record(params, "verification", path, plan)
        fresh = set(u["username"].lower() for u in outcome)
        document["users"] = sorted([u for u in previous.get("users") or [] if u["username"].lower() not in fresh] +
                                   outcome, key=lambda u: u["username"].lower())
    return {"changed": _write_record(task, "verification", path, document), "path": path, "users": outcome,
            "passed": all(u["passed"] for u in outcome), "record": document,
            "section": {"verify": {"users": outcome}, "error": outcomes.verification_error(outcome)}}


def _record_batch(task):
    """One production batch: its verification recorded (when it was verified), its verdict, the rollout's
    section after it and the backups to restore when it failed."""
    params = task.params
    if not params.get("rollout") or not params.get("batch_number"):
        raise ConfigurationError("operation=record_batch needs rollout (the section so far) and batch_number")
    applied = params.get("applied")
    verified = []
    result = {"changed": False}
    if applied and applied.get("verify") and params.get("user_states") is not None and params.get("users"):
        result = _record_verification(task)
        verified = result["users"]
    section, restore = outcomes.next_rollout(params["rollout"], params["batch_number"], params.get("users") or [],
                                             (applied or {}).get("applied"), verified, task.check_mode, _now())
    return dict(result, section=section, restore=restore)


def run(task):
    if task.params["operation"] in ("lock", "unlock"):
        return signed.lock_operation(task)
    signed.warn_without_key(task)
    params = task.params
    operation = params["operation"]
    _refuse(params, outcomes.sandbox_settings_error(params["org"], params["org_type"], params.get("production_org"),
                                                    params.get("sandbox_name")))
    if operation == "write":
        return _write(task)
    if operation == "load":
        return _load_op(task)
    if operation == "record_migration":
        return _record_migration(task)
    if operation == "record_batch":
        return _record_batch(task)
    return _record_verification(task)


SPEC = ModuleSpec("sf_migration_plan", ARGUMENT_SPEC, run, supports_check_mode=True, connects=False,
                  required_if=[("operation", "write", ("licenses", "user_info", "profile_check"))])
