# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Implementation of sf_migration_report: the run of the license_migration role across its steps
(``operation=start``) and its report as JSON, CSV and HTML (``operation=write``); controller files only.

One run spans the step playbooks: the inventory step starts it (``current_run.json``, signed), the later
steps continue it, and each step adds its org results to ``<run>/orgs/<org>.json`` (signed), so the
report of the run is complete after every step and says when each step ran.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_report_render as reporting
from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ConfigurationError,
    IntegrityError,
    OperationError,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec

ARGUMENT_SPEC = dict(
    operation=dict(type="str", choices=["start", "write"], default="write"),
    runs_dir=dict(type="path", required=True),
    run_id=dict(type="str", default=""),
    step=dict(type="str", choices=list(reporting.STAGES)),
    rollback_run_id=dict(type="str", default=""),
    orgs=dict(type="list", elements="dict", default=[]),
    inventory=dict(type="list", elements="str", default=[]),
    signing_key=dict(type="str", no_log=True),
    full_license_price=dict(type="int", default=165),
    integration_seat_price=dict(type="int", default=10),
    currency=dict(type="str", default="USD"),
    merge_runs=dict(type="list", elements="str", default=[]),
)
FILES = ("report.json", "report.csv", "report.html")
# Each run keeps the result of each of its orgs here, so the runs of one estate (the slices of a sliced
# job, the jobs of a workflow) can be merged into one report.
ORGS_DIR = "orgs"
_SEAT_KEYS = ("integration", "salesforce_seats")
# The steps that start a run; the others continue the current one.
STARTING_STEPS = ("inventory", "plan")
CURRENT_RUN_FORMAT = "sfops.integration_users.current_run/1"
# A run id is a directory name: the same rule as the rollback playbook's check of its run id.
# (No '.' or '_' at the end: file names drop them, so the report and the backups would part.)
_RUN_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def checked_run_id(value, option):
    if not _RUN_ID.match(value or "") or ".." in value:
        raise ConfigurationError("%s %r is not a run id: letters, digits, '_', '.' and '-', up to 80, starting and "
                                 "ending with a letter or digit" % (option, str(value)[:100]),
                                 hint="give the name of a run directory under the runs directory")
    return value


def kept_result(result):
    """What a run keeps of an org's result: its sections, the seats read before and after as the report
    reads them (sf_license_info's ``integration`` and ``salesforce_seats``, nothing else of the read)."""
    kept = dict(result)
    for name in ("seats_before", "seats_after"):
        if isinstance(kept.get(name), dict):
            kept[name] = dict((k, kept[name].get(k)) for k in _SEAT_KEYS)
    return kept


def merge_results(results):
    """One result per org from results in run order: a later section replaces an earlier one (a later
    entry point saw the org later), and so does a later run of the same step (``steps``: when each step
    ran and the error it left). The org's error is that of its latest step (within one ansible-playbook run
    the role carries an earlier entry point's error into the later ones; the report lists every step's);
    results without steps (kept by older runs) keep their first error."""
    merged, order = {}, []
    for result in results:
        name = result.get("org")
        if name not in merged:
            merged[name] = {}
            order.append(name)
        current = merged[name]
        undone = set(str(n).lower() for n in (current.get("rollback") or {}).get("usernames") or ())
        if current.get("migrate") and result.get("migrate"):
            result = dict(result, migrate=_later_migrate(current["migrate"], result["migrate"], undone))
        if undone and result.get("migrate") and not result["migrate"].get("dry_run") and not result.get("rollback"):
            # Moved again after the rollback: no longer restored.
            again = set(u["username"].lower() for u in result["migrate"].get("users") or () if u.get("changed"))
            current["rollback"] = dict(current["rollback"], usernames=[
                n for n in current["rollback"].get("usernames") or () if str(n).lower() not in again])
        legacy_error = current.get("error")
        steps = dict(current.get("steps") or {})
        steps.update(result.get("steps") or {})
        current.update(dict((k, v) for k, v in result.items() if v is not None or k not in current))
        current["steps"] = steps
        current["error"] = legacy_error or result.get("error")
    for result in merged.values():
        if result["steps"]:
            latest = max(result["steps"], key=lambda step: (
                result["steps"][step].get("at") or "", reporting.STAGES.index(step)))
            result["error"] = result["steps"][latest].get("error")
    return [merged[name] for name in order]


def _later_migrate(earlier, later, undone=()):
    """A later migrate section of an org keeps the users an earlier one moved (``moved_by_run``): a rerun of
    the step, or a dry run after it, finds them already on the license, but this run moved them (and saves
    their licenses). Not those a rollback of the run put back since (``undone``)."""
    if earlier.get("dry_run"):
        return later
    moved = set(u["username"].lower() for u in earlier.get("users") or ()
                if (u.get("changed") or u.get("moved_by_run")) and u["username"].lower() not in undone)
    users = [dict(u, moved_by_run=True) if u["username"].lower() in moved and not (u.get("changed") and not later.get(
        "dry_run")) else u for u in later.get("users") or ()]
    known = set(u["username"].lower() for u in users)
    users += [dict(u, moved_by_run=True) for u in earlier.get("users") or ()
              if u["username"].lower() in moved and u["username"].lower() not in known]
    return dict(later, users=users)


def _read_org_result(task, path, run_id, key):
    """An org result a step kept, or None (with a warning) when it cannot be trusted."""
    try:
        document = run_files.load_json_file(path, "org result")
    except IntegrityError as exc:
        task.warn("%s: left out of the report" % exc)
        return None
    problem = None
    if key is not None:
        problem = run_files.signature_problem(document, key, run_files.org_result_purpose(run_id, document.get("org")))
    if problem is None:
        problem = result_shape_problem(document)
    if problem is None and run_files.safe_name(document.get("org")) + ".json" != os.path.basename(path):
        problem = "its content is for org %s, not this file name" % str(document.get("org"))[:100]
    if problem:
        task.warn("org result %s is left out of the report: %s" % (path, problem))
        return None
    return dict((k, v) for k, v in document.items() if k != "signature")


def result_shape_problem(result):
    """Why a kept org result cannot be reported (None when it can): an org name, known steps, sections the
    report reads."""
    if not isinstance(result.get("org"), str) or not result["org"]:
        return "it names no org"
    steps = result.get("steps")
    if steps is not None and not isinstance(steps, dict):
        return "its steps are not a mapping"
    unknown = sorted(str(name) for name, item in (steps or {}).items()
                     if name not in reporting.STAGES or not isinstance(item, dict))
    if unknown:
        return "its steps are not steps of the role (%s)" % ", ".join(unknown[:6])
    try:
        reporting.org_report(result, {"full_license": 0, "integration_seat": 0, "currency": ""})
    except reporting.MalformedResult as exc:
        return str(exc)
    return None


def _run_results(task, runs_dir, run_ids, key, own=False):
    results = []
    for run_id in run_ids:
        directory = os.path.join(run_files.run_dir(runs_dir, run_id), ORGS_DIR)
        if not os.path.isdir(directory):
            if not own:
                # A slice whose orgs had nothing to do in its playbook (production orgs in a sandbox step)
                # writes no report.
                task.warn("merge_runs: run %s has no org results under %s: left out (no org of that run took "
                          "a step, or it ran in check mode)" % (run_id, directory))
            continue
        for name in sorted(os.listdir(directory)):
            if name.endswith(".json"):
                result = _read_org_result(task, os.path.join(directory, name), run_id, key)
                if result is not None:
                    results.append(result)
    return results


# ---- operation=start ------------------------------------------------------------------------------------
def _current_run(task, key):
    """The run id of current_run.json, or None (with a warning when the file cannot be trusted)."""
    path = run_files.current_run_path(task.params["runs_dir"])
    if not os.path.exists(path):
        return None, None
    run_files.check_trusted_path(os.path.dirname(path))
    try:
        document = run_files.load_json_file(path, "current run file")
    except IntegrityError as exc:
        task.warn("%s: this step starts a new run" % exc)
        return None, None
    problem = run_files.signature_problem(document, key, run_files.CURRENT_RUN_PURPOSE) if key else None
    if key is None:
        task.warn("current run file %s is followed unauthenticated: %s" % (path, run_files.NO_KEY_WARNING))
    if problem is None and not _RUN_ID.match(str(document.get("run_id") or "")):
        problem = "it names no valid run id"
    if problem:
        task.warn("current run file %s is not used: %s; this step starts a new run" % (path, problem))
        return None, None
    return document["run_id"], document


def start(task):
    params = task.params
    step = params.get("step")
    if not step:
        raise ConfigurationError("operation=start needs step (the entry point that starts or continues the run)")
    key = run_files.signing_key(params.get("signing_key"))
    current = None
    if params["run_id"]:
        run_id, source = checked_run_id(params["run_id"], "run_id"), "given"
    elif step == "rollback" and params["rollback_run_id"]:
        # The rollback of a run is a step of that run: its report shows the moves and their undoing.
        run_id, source = checked_run_id(params["rollback_run_id"], "rollback_run_id"), "the run rolled back"
    else:
        run_id, current = _current_run(task, key) if step not in STARTING_STEPS else (None, None)
        source = "continued"
        if run_id is None:
            run_id, source = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"), "new"
    if current:
        message = "%s step of run %s, started %s by its %s step" % (
            step, run_id, current.get("started"), current.get("step"))
    else:
        message = "%s step of run %s (%s)" % (step, run_id, source)
    if step in STARTING_STEPS and not task.check_mode:
        path = run_files.current_run_path(params["runs_dir"])
        document = {"format": CURRENT_RUN_FORMAT, "run_id": run_id, "started": _now(), "step": step}
        if os.path.exists(path):
            previous, _document = _current_run(task, key)
            if previous == run_id:
                # The same run again: its start stays.
                document["started"] = _document.get("started") or document["started"]
        if key is not None:
            document = run_files.sign(document, key, run_files.CURRENT_RUN_PURPOSE)
        run_files.write_private(path, run_files.dump_json(document))
    # The pointer is bookkeeping of the controller, not org state: never a change.
    return {"changed": False, "run_id": run_id, "source": source, "msg": message}


# ---- operation=write ------------------------------------------------------------------------------------
def collection_version():
    """The version of this collection as installed (MANIFEST.json) or checked out (galaxy.yml)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        with open(os.path.join(root, "MANIFEST.json"), encoding="utf-8") as handle:
            return str(json.load(handle)["collection_info"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
            found = re.search(r"^version:\s*['\"]?([^'\"\s]+)", handle.read(), re.M)
        return found.group(1) if found else "unknown"
    except OSError:
        return "unknown"


def display_path(path):
    """``path`` as a report shows it: relative to the working directory when inside it, with the home
    directory as ``~`` when inside that (a report travels; the operator's home layout stays home), else as
    it is (the commands the report prints must still run)."""
    full = os.path.abspath(os.path.expanduser(path))
    here = os.getcwd()
    if full == here or full.startswith(here + os.sep):
        return os.path.relpath(full, here)
    home = os.path.expanduser("~")
    if home not in ("", "/") and full.startswith(home + os.sep):
        return "~" + full[len(home):]
    return full


def local_paths(runs_dir):
    """Local directories -> how the report names them: the runs directory, the working directory, home."""
    paths = {}
    home = os.path.expanduser("~")
    if home not in ("", "/"):
        paths[home] = "~"
    here = os.getcwd()
    if here != "/":
        paths[here] = "."
    full = os.path.abspath(os.path.expanduser(runs_dir))
    paths[full] = display_path(full)
    return paths


def _with_step(result, step, at, dry_run):
    """``result`` recording that ``step`` ran on its org: when it wrote the step's section, or failed with an
    error of its own (one ansible-playbook run carries an org's results and error from step to step, so a
    production org's result also reaches the sandbox step it took no part in)."""
    if not step:
        return result
    took_part = any(result.get(name) for name in reporting.STEP_SECTIONS[step])
    # The role records which step raised an org's error (error_step); a step that only carried it along is
    # not one the org took.
    if not took_part and not (result.get("error") and result.get("error_step") == step):
        return result
    steps = dict(result.get("steps") or {})
    steps[step] = {"at": at, "error": result.get("error"), "dry_run": bool(dry_run)}
    return dict(result, steps=steps)


def _without_times(document):
    """``document`` with the times that change at every write left out (what makes a report unchanged)."""
    if isinstance(document, dict):
        return dict((k, _without_times(v)) for k, v in document.items() if k not in reporting.TIME_FIELDS)
    if isinstance(document, list):
        return [_without_times(v) for v in document]
    return document


def write(task):
    params = task.params
    run_id = checked_run_id(params["run_id"], "run_id")
    prices = {"full_license": params["full_license_price"], "integration_seat": params["integration_seat_price"],
              "currency": params["currency"]}
    key = run_files.signing_key(params.get("signing_key"))
    created = _now()
    # This run's earlier steps first, then the runs to merge, then this step: later results refine earlier ones.
    merge_runs = [checked_run_id(r, "merge_runs item") for r in params["merge_runs"]]
    earlier = _run_results(task, params["runs_dir"], [run_id], key, own=True)
    given = [_with_step(kept_result(r), params.get("step"), created, task.check_mode)
             for r in params["orgs"] if isinstance(r, dict) and isinstance(r.get("org"), str) and r["org"]]
    merged_runs = _run_results(task, params["runs_dir"], [r for r in merge_runs if r != run_id], key)
    if key is None and (earlier or merged_runs):
        task.warn("the org results of earlier steps are read unauthenticated: " + run_files.NO_KEY_WARNING)
    results = merge_results(earlier + merged_runs + given)
    # The runs whose backups undo this report's changes: its own, or those it merges.
    with_backups = [r for r in [run_id] + merge_runs
                    if os.path.isdir(os.path.join(run_files.run_dir(params["runs_dir"], r), "backups"))]
    provenance = {"collection": "sfops.integration_users", "version": collection_version(), "operator": run_files.operator(),
                  "inventory": [display_path(p) for p in params["inventory"]],
                  "runs_dir": display_path(params["runs_dir"]), "merged_runs": merge_runs,
                  "rollback_runs": with_backups or [run_id]}
    try:
        doc = reporting.build_report(results, run_id, created, task.check_mode, prices, provenance=provenance,
                                     local_paths=local_paths(params["runs_dir"]))
    except reporting.MalformedResult as exc:
        raise OperationError(str(exc), hint="pass the orgs the role collected (license_migration_org_result), "
                                            "not a result written by hand")
    directory = run_files.run_dir(params["runs_dir"], run_id)
    paths = dict((name.split(".")[1], os.path.join(directory, name)) for name in FILES)
    changed = False
    if not task.check_mode:
        previous = None
        if os.path.exists(paths["json"]):
            try:
                previous = run_files.load_json_file(paths["json"], "report")
            except IntegrityError:
                previous = None
        # A report that says the same as before keeps its times, so an unchanged run does not rewrite it.
        if previous is not None and _without_times(previous) == _without_times(doc):
            doc = previous
        changed = run_files.write_private(paths["json"], run_files.dump_json(doc))
        changed = run_files.write_private(paths["csv"], reporting.render_csv(doc)) or changed
        changed = run_files.write_private(paths["html"], reporting.render_html(doc)) or changed
        written = dict((r["org"], r) for r in results)
        stored = dict((r["org"], r) for r in earlier)
        for result in given:
            org = written[result["org"]]
            if result["org"] in stored and _without_times(stored[result["org"]]) == _without_times(org):
                continue
            if key is not None:
                org = run_files.sign(org, key, run_files.org_result_purpose(run_id, org["org"]))
            changed = run_files.write_private(os.path.join(directory, ORGS_DIR, _org_file(result["org"])),
                                              run_files.dump_json(org)) or changed
    return {"changed": changed, "report": doc, "paths": paths if not task.check_mode else {},
            "summaries": dict((o["org"], o["summary"]) for o in doc["orgs"]),
            "stats": reporting.stats(doc, paths if not task.check_mode else {})}


def run(task):
    if task.params["operation"] == "start":
        return start(task)
    return write(task)


def _org_file(org):
    return run_files.safe_name(org) + ".json"


SPEC = ModuleSpec("sf_migration_report", ARGUMENT_SPEC, run, supports_check_mode=True, connects=False)
