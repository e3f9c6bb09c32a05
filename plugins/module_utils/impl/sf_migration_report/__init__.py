# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Implementation of sf_migration_report: the run report as JSON, CSV and HTML (controller files only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_migration_report import render as reporting
from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec

ARGUMENT_SPEC = dict(
    runs_dir=dict(type="path", required=True),
    run_id=dict(type="str", required=True),
    orgs=dict(type="list", elements="dict", required=True),
    full_license_price=dict(type="int", default=165),
    integration_seat_price=dict(type="int", default=10),
    currency=dict(type="str", default="USD"),
)
FILES = ("report.json", "report.csv", "report.html")


def run(task):
    params = task.params
    prices = {"full_license": params["full_license_price"], "integration_seat": params["integration_seat_price"],
              "currency": params["currency"]}
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    results = [r for r in params["orgs"] if isinstance(r, dict) and r.get("org")]
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
    return {"changed": changed, "report": doc, "paths": paths if not task.check_mode else {},
            "summaries": dict((o["org"], o["summary"]) for o in doc["orgs"]),
            "stats": reporting.stats(doc, paths if not task.check_mode else {})}


SPEC = ModuleSpec("sf_migration_report", ARGUMENT_SPEC, run, supports_check_mode=True, connects=False)
