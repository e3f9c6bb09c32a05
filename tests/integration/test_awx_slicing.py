# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX job slicing: the pipeline as a workflow of sliced jobs, each slice an ``ansible-runner`` job of its
own (as AWX runs it) on its share of the hosts, all sharing one runs volume; then playbooks/report.yml
merges the slices' runs into one estate report, which must equal the report of the same estate run as one
job (playbooks/site.yml).

With two slices the production org (acme-prod) and its sandbox (acme-uat) are in different slices: the
sandbox takes its plan, and production its gate, from the shared runs volume only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from conftest import CHECKOUT, COLLECTIONS_ROOT
from test_pipeline import role_inventory

ANSIBLE_RUNNER = os.path.join(os.path.dirname(sys.executable), "ansible-runner")
# The workflow's nodes, each a sliced job template (docs/awx.md).
PHASES = ("playbooks/inventory.yml", "playbooks/migrate_sandbox.yml", "playbooks/rollout_production.yml")
SLICES = 2
# What differs between two runs of the same estate by construction.
# What names the job or its time: each job has its own id, and the merge its own provenance.
VOLATILE = ("run_id", "created", "paths", "provenance")


class Jobs:
    """ansible-runner jobs over one emulator and one runs volume; each job gets the next job id."""

    def __init__(self, emulator, tmp_path, runs_dir):
        self.emulator, self.tmp_path, self.runs_dir = emulator, tmp_path, runs_dir
        self.next_id = 200

    def start(self, playbook, limit, extravars=None):
        self.next_id += 1
        ident = str(self.next_id)
        pdd = self.tmp_path / ("job-" + ident)
        (pdd / "inventory").mkdir(parents=True)
        (pdd / "env").mkdir()
        os.symlink(CHECKOUT, pdd / "project")
        (pdd / "inventory" / "hosts").write_text(yaml.safe_dump(role_inventory(self.emulator, self.runs_dir)))
        # The run id the AWX inventory variables give every job: named after the job.
        variables = dict(extravars or {}, awx_job_id=int(ident), license_migration_run_id="awx-job-" + ident)
        (pdd / "env" / "extravars").write_text(yaml.safe_dump(variables))
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("SALESFORCE_", "ANSIBLE_")))
        env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT.ensure_collections_root(),
                   PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
        command = [ANSIBLE_RUNNER, "run", str(pdd), "-p", playbook, "--ident", ident]
        if limit:
            command += ["--limit", limit]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return ident, pdd, process

    @staticmethod
    def wait(job):
        ident, pdd, process = job
        output = process.communicate(timeout=900)[0]
        with open(os.path.join(pdd, "artifacts", ident, "rc"), encoding="ascii") as handle:
            rc = int(handle.read().strip())
        return ident, rc, output


def slices_of(hosts, count):
    """AWX's split of an inventory into ``count`` slices: host i goes to slice i mod count."""
    return [hosts[index::count] for index in range(count)]


def report(runs_dir, run_id):
    with open(os.path.join(runs_dir, run_id, "report.json"), encoding="utf-8") as handle:
        document = json.load(handle)
    inventories = (document.get("provenance") or {}).get("inventory") or []
    for key in VOLATILE:
        document.pop(key, None)
    # Commands name the run and the job's inventory; steps are compared by what ran and failed, not when.
    text = json.dumps(document).replace(run_id, "<run id>")
    for inventory in inventories:
        text = text.replace(inventory, "<inventory>")
    document = json.loads(text)
    document["steps"] = [dict((k, v) for k, v in step.items() if k not in ("first", "last")) for step in document["steps"]]
    # One job undoes its own run; a merged report, the runs it merges (checked by the test).
    document.pop("rollback_command")
    document["next_actions"][-1]["command"] = None
    for org in document["orgs"]:
        org["steps"] = dict((name, dict((k, v) for k, v in step.items() if k != "at")) for name, step in org["steps"].items())
        # The plan file's path names the runs volume of its run.
        org["plan_file"] = os.path.relpath(org["plan_file"], runs_dir) if org.get("plan_file") else None
    document["orgs"].sort(key=lambda o: o["org"])
    return document


def test_sliced_workflow_report_equals_the_one_job_report(fresh_emulator, tmp_path):
    hosts = sorted(fresh_emulator.ready["orgs"])
    slices = slices_of(hosts, SLICES)
    assert ["acme-prod"] in slices and ["acme-uat"] in slices, slices

    one_runs = str(tmp_path / "one-job-runs")
    one = Jobs(fresh_emulator, tmp_path / "one", one_runs)
    (tmp_path / "one").mkdir()
    ident, rc, output = one.wait(one.start("playbooks/site.yml", None))
    assert rc == 0, output[-4000:]
    expected = report(one_runs, "awx-job-" + ident)
    moved = next(o for o in expected["orgs"] if o["org"] == "acme-prod")["counts"]["moved"]
    assert moved == 1, expected

    fresh_emulator.reset()
    sliced_runs = str(tmp_path / "sliced-runs")
    (tmp_path / "sliced").mkdir()
    jobs = Jobs(fresh_emulator, tmp_path / "sliced", sliced_runs)
    run_ids = []
    for playbook in PHASES:
        # Every slice of a node runs at once; the next node starts when all of them ended.
        started = [jobs.start(playbook, ",".join(part)) for part in slices]
        for job in started:
            ident, rc, output = jobs.wait(job)
            assert rc == 0, "%s slice job %s failed:\n%s" % (playbook, ident, output[-4000:])
            run_ids.append("awx-job-" + ident)
    # Each slice wrote a report of its own orgs only.
    for run_id in run_ids:
        if os.path.exists(os.path.join(sliced_runs, run_id, "report.json")):
            assert len(report(sliced_runs, run_id)["orgs"]) == 1, run_id
    ident, rc, output = jobs.wait(jobs.start("playbooks/report.yml", None, {
        "license_migration_runs_dir": sliced_runs, "license_migration_merge_runs": run_ids}))
    assert rc == 0, output[-4000:]
    merged = report(sliced_runs, "awx-job-" + ident)
    assert merged == expected
    # Its rollback command undoes every slice that changed an org: one line per run that left backups.
    with open(os.path.join(sliced_runs, "awx-job-" + ident, "report.json"), encoding="utf-8") as handle:
        lines = json.load(handle)["rollback_command"].splitlines()
    with_backups = [r for r in run_ids if os.path.isdir(os.path.join(sliced_runs, r, "backups"))]
    assert with_backups and [line.rsplit("=", 1)[1] for line in lines] == with_backups
