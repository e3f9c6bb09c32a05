# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret of the tests leaks: not with -vvvv, not in reports, backups, plans and records, not in
set_stats, not in the job events of an ansible-runner run. Backups and reports are owner-only.

Secrets: every org's client secret, password, security token, the access tokens READY.json hands out,
every access token issued during the runs (``<org id>!AQ...``) and the lines of the private keys, which
the role's connection carries inline (``private_key``), not as a file.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys

import pytest
import yaml

from conftest import ANSIBLE_PLAYBOOK, CHECKOUT, COLLECTIONS_ROOT, HERE, inventory_for, secrets_of
from test_connection import FLOWS as CONNECTION_FLOWS

ACCESS_TOKEN = re.compile(r"00D[A-Za-z0-9]{12}!AQ[A-Za-z0-9._-]{8,}")
ANSIBLE_RUNNER = os.path.join(os.path.dirname(sys.executable), "ansible-runner")
ORG = "acme-prod"
# Each auth flow with every secret it takes, from the inventory's host variables: test_connection's
# flows, with the JWT key given inline (a key file carries no secret to mask).
_JWT = dict((key, value) for key, value in CONNECTION_FLOWS["jwt"].items() if key != "private_key_file")
FLOWS = {
    "client_credentials": CONNECTION_FLOWS["client_credentials"],
    "jwt_inline_key": dict(_JWT, private_key="{{ lookup('file', sf_private_key_file) }}"),
    "access_token": CONNECTION_FLOWS["access_token"],
    "password": CONNECTION_FLOWS["password"],
}


def flow_plays():
    tasks = [{"name": "read as " + name, "sfops.integration_users.sf_license_info": {},
              "module_defaults": {"group/sfops.integration_users.salesforce": dict(flow, ca_path="{{ sf_ca_path }}")},
              "register": "read_" + name} for name, flow in FLOWS.items()]
    # A failing login echoes nothing either (the password flow with a wrong password, the secret still sent).
    tasks.append({"name": "refused login", "sfops.integration_users.sf_license_info": {}, "ignore_errors": True,
                  "module_defaults": {"group/sfops.integration_users.salesforce": dict(
                      FLOWS["password"], ca_path="{{ sf_ca_path }}", password="{{ sf_password }}x", retries=0)}})
    tasks.append({"name": "stats", "ansible.builtin.set_stats": {"data": {"reads": "{{ read_client_credentials }}"}}})
    return [{"name": "every flow", "hosts": ORG, "gather_facts": False, "tasks": tasks}]


def role_inventory(emulator, runs_dir):
    """The example estate's orgs for the role, each connected by JWT with the key inline."""
    hosts = inventory_for(emulator)["all"]["children"]["salesforce_orgs"]["hosts"]
    for name, host in hosts.items():
        with open(host["sf_private_key_file"], encoding="ascii") as handle:
            key = handle.read()
        connection = {"auth": "jwt", "login_url": host["sf_login_url"], "audience": host["sf_audience"],
                      "client_id": host["sf_client_id"], "private_key": key, "ca_path": host["sf_ca_path"]}
        host.update(salesforce_connection=dict(connection, username=host["sf_username"]),
                    license_migration_probe_connection=connection,
                    license_migration_org_type="sandbox" if emulator.ready["orgs"][name]["is_sandbox"] else "production")
        if emulator.ready["orgs"][name]["is_sandbox"]:
            host.update(license_migration_production_org=ORG, license_migration_sandbox_name="uat")
    return {"all": {"vars": {"license_migration_runs_dir": runs_dir}, "children": {"salesforce_orgs": {"hosts": hosts}}}}


def playbook_env(results_file):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
    env.update({"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_ROOT.ensure_collections_root(),
                "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "plugins", "callback"),
                "ANSIBLE_CALLBACKS_ENABLED": "record_results", "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0", "SFOPS_RESULTS_FILE": results_file})
    return env


def leaks(secrets, text):
    found = [s for s in secrets if s and s in text]
    found += list(ACCESS_TOKEN.findall(text))
    return found


def files_under(root):
    return sorted(os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files)


@pytest.fixture(scope="module")
def verbose_runs(emulator, tmp_path_factory):
    """-vvvv runs: every auth flow, then the role's whole safe path (site.yml) with the key inline."""
    emulator.reset()
    work = tmp_path_factory.mktemp("secrets")
    secrets = secrets_of(emulator)
    results_file = str(work / "results.jsonl")
    (work / "inventory.yml").write_text(yaml.safe_dump(inventory_for(emulator)))
    (work / "flows.yml").write_text(yaml.safe_dump(flow_plays(), sort_keys=False))
    flows = subprocess.run([ANSIBLE_PLAYBOOK, "-vvvv", "-i", str(work / "inventory.yml"), str(work / "flows.yml")],
                           env=playbook_env(results_file), capture_output=True, text=True, timeout=900,
                           cwd=str(work), check=False)
    runs_dir = str(work / "runs")
    (work / "role.yml").write_text(yaml.safe_dump(role_inventory(emulator, runs_dir)))
    site = subprocess.run([ANSIBLE_PLAYBOOK, "-vvvv", "-i", str(work / "role.yml"),
                           os.path.join(CHECKOUT, "playbooks", "site.yml"), "-e", "license_migration_run_id=secrets"],
                          env=playbook_env(results_file), capture_output=True, text=True, timeout=1200,
                          cwd=str(work), check=False)
    emulator.reset()
    return {"secrets": secrets, "flows": flows, "site": site, "runs_dir": runs_dir, "results_file": results_file}


def test_every_flow_runs_and_nothing_leaks_at_vvvv(verbose_runs):
    flows = verbose_runs["flows"]
    output = flows.stdout + flows.stderr
    assert flows.returncode == 0, output[-3000:]
    assert len(verbose_runs["secrets"]) >= 5
    assert not leaks(verbose_runs["secrets"], output), "secret(s) in the -vvvv output of the auth flows"


def test_site_at_vvvv_leaks_nothing_in_output_or_set_stats(verbose_runs):
    site = verbose_runs["site"]
    output = site.stdout + site.stderr
    assert "Statistics for AWX workflows" in output, output[-3000:]
    assert os.path.exists(os.path.join(verbose_runs["runs_dir"], "secrets", "report.json")), output[-3000:]
    assert not leaks(verbose_runs["secrets"], output), "secret(s) in the -vvvv output of site.yml"
    with open(verbose_runs["results_file"], encoding="utf-8") as handle:
        results = handle.read()
    # Every task result, set_stats included, as the callbacks (and so AWX) receive them.
    assert "set_stats" in results or "license_migration" in results
    assert not leaks(verbose_runs["secrets"], results), "secret(s) in task results"


def test_reports_backups_plans_and_records_hold_no_secret(verbose_runs):
    files = files_under(verbose_runs["runs_dir"])
    kinds = set(os.path.basename(p).split("-")[0].split(".")[0] for p in files)
    assert {"report", "integration_user"} <= kinds, kinds
    assert any("/plans/" in p for p in files), files
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as handle:
            assert not leaks(verbose_runs["secrets"], handle.read()), "secret in %s" % path


def test_backups_and_reports_are_owner_only(verbose_runs):
    files = files_under(verbose_runs["runs_dir"])
    private = [p for p in files if "/backups/" in p or os.path.basename(p).startswith("report.")]
    assert private
    for path in private:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700, os.path.dirname(path)


def test_ansible_runner_job_events_hold_no_secret(emulator, tmp_path):
    """The auth flows as an ansible-runner job at -vvvv, secrets passed as extra vars (as a survey would)."""
    emulator.reset()
    secrets = secrets_of(emulator)
    pdd = tmp_path / "pdd"
    (pdd / "inventory").mkdir(parents=True)
    (pdd / "project").mkdir()
    (pdd / "env").mkdir()
    (pdd / "inventory" / "hosts").write_text(yaml.safe_dump(inventory_for(emulator, [ORG])))
    (pdd / "project" / "flows.yml").write_text(yaml.safe_dump(flow_plays(), sort_keys=False))
    (pdd / "env" / "cmdline").write_text("-vvvv")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("SALESFORCE_", "ANSIBLE_")))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT.ensure_collections_root(),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run([ANSIBLE_RUNNER, "run", str(pdd), "-p", "flows.yml", "--ident", "job"], env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    artifacts = pdd / "artifacts" / "job"
    assert (artifacts / "rc").read_text().strip() == "0", done.stdout[-3000:]
    events = files_under(str(artifacts / "job_events"))
    assert len(events) > 10
    # artifacts/job/command is ansible-runner's own copy of the job's environment and arguments: left out.
    for path in events + [str(artifacts / "stdout")]:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        assert not leaks(secrets, text), "secret in %s" % os.path.relpath(path, str(pdd))
    stats = [json.load(open(p, encoding="utf-8")) for p in events]
    assert any(e.get("event") == "playbook_on_stats" for e in stats)


# ---- issue 13: secrets with control or whitespace characters --------------------------------------------
# Each secret option, under the flow that sends it, tampered the ways a vault file or a YAML block scalar
# tampers it. The characters come from play variables (data, not template text, which Jinja would normalise).
CHARACTERS = {"t_nl": "\n", "t_crlf": "\r\n", "t_tab": "\t", "t_sp": " ", "t_nul": "\x00"}
TAMPERINGS = {
    "newline": "{{ %(v)s ~ t_nl }}",
    "crlf": "{{ %(v)s ~ t_crlf }}",
    "space": "{{ %(v)s[:4] ~ t_sp ~ %(v)s[4:] }}",
    "tab": "{{ %(v)s ~ t_tab }}",
}
SECRET_OPTIONS = {
    "client_secret": ("client_credentials", "sf_client_secret"),
    "password": ("password", "sf_password"),
    "security_token": ("password", "sf_security_token"),
    "access_token": ("access_token", "sf_access_token"),
}


def tampered_tasks():
    tasks = []
    for option, (flow, variable) in sorted(SECRET_OPTIONS.items()):
        for form, template in sorted(TAMPERINGS.items()):
            connection = dict(FLOWS[flow], ca_path="{{ sf_ca_path }}", retries=0)
            connection[option] = template % {"v": variable}
            tasks.append({"name": "%s with %s" % (option, form), "sfops.integration_users.sf_license_info": {},
                          "ignore_errors": True,
                          "module_defaults": {"group/sfops.integration_users.salesforce": connection}})
    # The inline JWT key: line breaks are PEM, a tab or a NUL inside is not.
    for form, character in (("tab", "t_tab"), ("nul", "t_nul")):
        connection = dict(FLOWS["jwt_inline_key"], ca_path="{{ sf_ca_path }}", retries=0)
        connection["private_key"] = "{{ lookup('file', sf_private_key_file) | replace(t_nl, t_nl ~ %s, 1) }}" % character
        tasks.append({"name": "private_key with %s" % form, "sfops.integration_users.sf_license_info": {},
                      "ignore_errors": True, "module_defaults": {"group/sfops.integration_users.salesforce": connection}})
    return tasks


@pytest.mark.parametrize("verbosity", [0, 4], ids=["default", "vvvv"])
def test_secrets_with_control_or_whitespace_characters_are_refused_unseen(emulator, playbook, verbosity):
    from conftest import TEST_SIGNING_KEY
    tasks = tampered_tasks()
    before = sum(emulator.admin("GET", "orgs/%s/calls" % ORG).json()["calls"].values())
    run = playbook(emulator, [{"name": "tampered", "hosts": ORG, "gather_facts": False, "vars": CHARACTERS,
                               "tasks": tasks}], verbosity=verbosity)
    secrets = secrets_of(emulator) | {TEST_SIGNING_KEY}
    leaked = leaks(secrets, run.output) + leaks(secrets, json.dumps([run.result(t["name"], ORG) for t in tasks]))
    assert len(tasks) == 18
    assert leaked == [], "%d secret(s) leaked" % len(leaked)
    for task in tasks:
        result = run.result(task["name"], ORG)
        option = task["name"].split(" with ")[0]
        assert result.get("failed") is True, (task["name"], result)
        assert option in result["msg"] and "not shown" in result["msg"], (task["name"], result["msg"])
        assert "Invalid leading whitespace" not in result["msg"] and "Traceback" not in run.output
    # Refused before use: not one call reached the org.
    assert sum(emulator.admin("GET", "orgs/%s/calls" % ORG).json()["calls"].values()) == before
    record_figure("secrets with control characters", tried=len(tasks), leaked=len(leaked), verbosity=verbosity)


def record_figure(row, **values):
    """Measured counts for tests/reliability/figures.py (when it runs this file with SFOPS_FIGURES_FILE)."""
    path = os.environ.get("SFOPS_FIGURES_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(dict(values, row=row)) + "\n")
