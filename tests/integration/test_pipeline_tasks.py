# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the whole pipeline costs Ansible per org, counted (never timed): every task is a worker fork and a
result on the controller (about 10 ms of CPU per host), so the role keeps its tasks per org down.

site.yml runs on the example estate (acme-prod and its sandbox acme-uat) with benchmarks/callback/
pipeline_profile.py counting the per-host task results by action.
"""

from __future__ import annotations

import json
import os
import subprocess

import yaml

from conftest import ANSIBLE_PLAYBOOK, CHECKOUT, COLLECTIONS_ROOT
from test_pipeline import PLAYBOOKS, role_inventory

PROFILE_CALLBACKS = os.path.join(CHECKOUT, "benchmarks", "callback")
# The role before the thinning ran 60 tasks per org over this estate (not counting those run once per
# play), 50.6 over the 200-org estate of benchmarks/pipeline.py; the thin role runs 28 here. The bound is
# half of the old figure.
MAX_TASKS_PER_ORG = 30
# Decisions belong in modules: per org and entry point one set_fact (its outcome), plus the skipped note of
# your own verification tasks per verification; no assert besides the summary.
MAX_SET_FACT_PER_ORG = 3


def run_profiled(emulator, tmp_path, playbook="site.yml"):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(role_inventory(emulator, tmp_path / "runs")))
    profile = tmp_path / "profile.json"
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("SALESFORCE_", "ANSIBLE_")))
    env.update({"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_ROOT.ensure_collections_root(), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_CALLBACK_PLUGINS": PROFILE_CALLBACKS,
                "ANSIBLE_CALLBACKS_ENABLED": "pipeline_profile", "SFOPS_PIPELINE_PROFILE": str(profile)})
    done = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), os.path.join(PLAYBOOKS, playbook)], env=env,
                          capture_output=True, text=True, timeout=600, cwd=str(tmp_path), check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return json.loads(profile.read_text())


def test_the_pipeline_runs_few_tasks_per_org(fresh_emulator, tmp_path):
    profile = run_profiled(fresh_emulator, tmp_path)
    orgs = len(fresh_emulator.ready["orgs"])
    assert profile["hosts"] == orgs
    # The report and its statistics run once per play: a cost per play, not per org.
    per_org = (profile["host_tasks_total"] - profile["run_once_total"]) / orgs
    kinds = profile["host_tasks"]
    assert per_org <= MAX_TASKS_PER_ORG, (per_org, kinds)
    once = profile["run_once"]
    assert (kinds.get("set_fact", 0) - once.get("set_fact", 0)) / orgs <= MAX_SET_FACT_PER_ORG, kinds
    # One include per rollout batch (acme-prod's one batch) and, per verification (the sandbox's, the batch's),
    # the include of your own verification tasks (skipped: none given); no other dynamic include.
    assert kinds.get("include_tasks", 0) <= 3, kinds
    # One summary assert per org and entry point (inventory, migrate, verify / inventory, rollout), nothing else.
    assert kinds.get("assert", 0) <= 5, kinds
    assert "fail" not in kinds and "validate_argument_spec" in kinds, kinds
