# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Implementation of sf_migration_report: the run report as JSON, CSV and HTML (controller files only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_migration_report_render as reporting
from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec

ARGUMENT_SPEC = dict(
    runs_dir=dict(type="path", required=True),
    run_id=dict(type="str", required=True),
    orgs=dict(type="list", elements="dict", required=True),
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
    entry point saw the org later), the first error stays (the failure to act on first)."""
    merged, order = {}, []
    for result in results:
        name = result.get("org")
        if name not in merged:
            merged[name] = {}
            order.append(name)
        error = merged[name].get("error")
        merged[name].update(dict((k, v) for k, v in result.items() if v is not None or k not in merged[name]))
        merged[name]["error"] = error or result.get("error")
    return [merged[name] for name in order]


def _run_results(task, runs_dir, run_ids):
    results = []
    for run_id in run_ids:
        directory = os.path.join(run_files.run_dir(runs_dir, run_id), ORGS_DIR)
        if not os.path.isdir(directory):
            # A slice whose orgs had nothing to do in its playbook (production orgs in a sandbox step)
            # writes no report.
            task.warn("merge_runs: run %s has no org results under %s: left out (no org of that run took "
                      "a step, or it ran in check mode)" % (run_id, directory))
            continue
        for name in sorted(os.listdir(directory)):
            if name.endswith(".json"):
                results.append(run_files.read_json(os.path.join(directory, name)))
    return results


def run(task):
    params = task.params
    prices = {"full_license": params["full_license_price"], "integration_seat": params["integration_seat_price"],
              "currency": params["currency"]}
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    given = [kept_result(r) for r in params["orgs"] if isinstance(r, dict) and r.get("org")]
    results = merge_results(_run_results(task, params["runs_dir"], params.get("merge_runs") or []) + given)
    doc = reporting.build_report(results, params["run_id"], created, task.check_mode, prices)
    directory = run_files.run_dir(params["runs_dir"], params["run_id"])
    paths = dict((name.split(".")[1], os.path.join(directory, name)) for name in FILES)
    changed = False
    if not task.check_mode:
        # The creation time is left out of the comparison so an unchanged run does not rewrite its report.
        previous = None
        if os.path.exists(paths["json"]):
            previous = run_files.read_json(paths["json"])
        if previous is not None and dict(previous, created=None) == dict(doc, created=None):
            doc["created"] = previous["created"]
        changed = run_files.write_private(paths["json"], run_files.dump_json(doc))
        changed = run_files.write_private(paths["csv"], reporting.render_csv(doc)) or changed
        changed = run_files.write_private(paths["html"], reporting.render_html(doc)) or changed
        for result in given:
            changed = run_files.write_private(os.path.join(directory, ORGS_DIR, _org_file(result["org"])),
                                              run_files.dump_json(result)) or changed
    return {"changed": changed, "report": doc, "paths": paths if not task.check_mode else {},
            "summaries": dict((o["org"], o["summary"]) for o in doc["orgs"]),
            "stats": reporting.stats(doc, paths if not task.check_mode else {})}


def _org_file(org):
    return run_files.safe_name(org) + ".json"


SPEC = ModuleSpec("sf_migration_report", ARGUMENT_SPEC, run, supports_check_mode=True, connects=False)
