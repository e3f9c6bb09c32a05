# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks run the way AWX runs a job: ``ansible-runner run PDD -p ... --ident ...``.

The private data directory is laid out as the controller lays it out: ``project/`` (the checkout),
``inventory/hosts`` (production and sandbox groups, as ``playbooks/awx_configure.yml`` builds them),
``env/extravars`` (job template extra vars plus survey answers), ``env/envvars`` (what the "Salesforce
org" credential type injects) and the private-key file the credential type's file injector writes into
``env/``. Injection is rendered from ``extensions/awx/credential_type.yml`` itself with the controller's
rules (sandboxed Jinja, every env injector set even when its input is empty, ``tower.filename.<key>``).

Secrets checked: the client secret, every line of the private key, and any access token of the
emulator (``<org id>!AQ...``, whether issued before or during the job). They must not appear in what
the collection's tasks produce: ``artifacts/<ident>/`` (``stdout``, ``job_events/``, ``fact_cache/``,
``status``, ``rc``) and the run's report files. Left out, on purpose: ``artifacts/<ident>/command``,
which ansible-runner itself fills with the job's whole environment (so it holds the client secret,
injected by variable; the test asserts it holds no key text), and ``env/`` (the job's inputs).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import tempfile

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from conftest import CHECKOUT, COLLECTIONS_ROOT

ANSIBLE_RUNNER = os.path.join(os.path.dirname(sys.executable), "ansible-runner")
CREDENTIAL_TYPE_FILE = os.path.join(CHECKOUT, "extensions", "awx", "credential_type.yml")
AWX_SETTINGS_FILE = os.path.join(CHECKOUT, "playbooks", "vars", "awx_configure.yml")
ACCESS_TOKEN = re.compile(r"00D[A-Za-z0-9]{12}!AQ[A-Za-z0-9._-]{8,}")
# What ansible-runner writes about the job itself, outside the collection's control (see module doc).
RUNNER_OWNED = ("command",)
SIGNING_KEY = "awx-runner-test-signing-key-0123456789"


def load_credential_type():
    with open(CREDENTIAL_TYPE_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class Namespace:
    """Attribute access for ``tower.filename.<key>`` in injector templates."""


def inject(credential_type, inputs, private_data_dir):
    """The environment a controller injects for a credential of ``credential_type`` with ``inputs``.

    File injectors are rendered to 0600 files under ``<private_data_dir>/env`` and named in the
    ``tower.filename`` namespace; every env injector is set, rendered in a sandbox, even when the
    input behind it is empty (inputs left out are undefined, which renders empty).
    """
    sandbox = ImmutableSandboxedEnvironment()
    namespace = dict(inputs)
    tower = Namespace()
    tower.filename = Namespace()
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)
    for label, template in credential_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as sink:
            sink.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        setattr(tower.filename, label.split(".", 1)[1], path)
    namespace["tower"] = tower
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in credential_type["injectors"].get("env", {}).items())


class _UnsafeLoader(yaml.SafeLoader):
    """Reads Ansible's ``!unsafe`` strings as they are (AWX receives them as plain templates)."""


_UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def awx_settings():
    with open(AWX_SETTINGS_FILE, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_UnsafeLoader)  # noqa: S506 (a SafeLoader subclass)


def awx_inventory(emulator, runs_dir):
    """The inventory awx_configure.yml creates: its inventory variables, salesforce_orgs with production
    and sandbox groups, per-host org type and non-secret connection settings (the credential has the rest)."""
    variables = dict(awx_settings()["sfops_awx_inventory_variables"], license_migration_runs_dir=runs_dir)
    groups = {"production": {}, "sandbox": {}}
    for name, org in emulator.ready["orgs"].items():
        kind = "sandbox" if org["is_sandbox"] else "production"
        audience = "https://test.salesforce.com" if org["is_sandbox"] else "https://login.salesforce.com"
        # ca_path: the emulator's private CA (a real org needs none).
        host = {"license_migration_org_type": kind,
                "salesforce_connection": {"login_url": org["login_url"], "audience": audience, "ca_path": emulator.ca_file}}
        if org["is_sandbox"]:
            host.update(license_migration_production_org="acme-prod", license_migration_sandbox_name="uat")
        groups[kind][name] = host
    return {"all": {"vars": variables, "children": {"salesforce_orgs": {"children": dict(
        (kind, {"hosts": hosts}) for kind, hosts in groups.items())}}}}


class AwxJob:
    """One job: a fresh private data directory, run by ansible-runner; its artifacts read back."""

    def __init__(self, private_data_dir, ident, completed):
        self.pdd = private_data_dir
        self.ident = ident
        self.completed = completed
        self.artifacts = os.path.join(private_data_dir, "artifacts", ident)

    def read(self, name):
        with open(os.path.join(self.artifacts, name), encoding="utf-8") as handle:
            return handle.read()

    @property
    def status(self):
        return self.read("status").strip()

    @property
    def rc(self):
        return int(self.read("rc").strip())

    @property
    def events(self):
        directory = os.path.join(self.artifacts, "job_events")
        found = []
        for name in os.listdir(directory):
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                found.append(json.load(handle))
        return sorted(found, key=lambda e: e["counter"])

    @property
    def stats(self):
        """The ``set_stats`` data, as AWX reads it (``artifact_data`` of the playbook_on_stats event)."""
        final = [e for e in self.events if e["event"] == "playbook_on_stats"]
        assert len(final) == 1, self.completed.stdout[-3000:]
        return final[0]["event_data"].get("artifact_data") or {}

    def collection_controlled_files(self):
        """Every artifact but the runner-owned ones."""
        for root, _dirs, files in os.walk(self.artifacts):
            for name in files:
                path = os.path.join(root, name)
                if os.path.relpath(path, self.artifacts) not in RUNNER_OWNED:
                    yield path

    def explain(self):
        return "status=%s\n%s\n%s" % (self.completed.returncode, self.completed.stdout[-4000:],
                                      self.completed.stderr[-2000:])


@pytest.fixture
def awx_job(fresh_emulator, tmp_path):
    """``awx_job(playbook, credential_inputs, limit, extravars, check=False)`` -> :class:`AwxJob`.

    Plans, records and reports go to ``tmp_path/runs`` (the persistent runs volume of docs/awx.md)."""
    counter = [0]
    credential_type = load_credential_type()

    def run(playbook, credential_inputs, limit, extravars, check=False):
        counter[0] += 1
        pdd = tmp_path / ("job-%d" % counter[0])
        (pdd / "inventory").mkdir(parents=True)
        os.symlink(CHECKOUT, pdd / "project")
        (pdd / "inventory" / "hosts").write_text(yaml.safe_dump(awx_inventory(fresh_emulator, str(tmp_path / "runs"))))
        envvars = inject(credential_type, credential_inputs, str(pdd))
        (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
        job_id = 100 + counter[0]
        # The controller adds its own variables (awx_job_id...) to the job template's and the survey's.
        (pdd / "env" / "extravars").write_text(yaml.safe_dump(dict(extravars, awx_job_id=job_id, tower_job_id=job_id)))
        ident = str(job_id)
        command = [ANSIBLE_RUNNER, "run", str(pdd), "-p", playbook, "--ident", ident, "--limit", limit]
        if check:
            command.append("--cmdline=--check")
        # The execution environment: collections installed, tools on PATH, no Salesforce settings.
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("SALESFORCE_", "ANSIBLE_")))
        env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT.ensure_collections_root(),
                   PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                   # The run-state key, as a second credential of the job template would inject it.
                   SFOPS_SIGNING_KEY=SIGNING_KEY)
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        return AwxJob(str(pdd), ident, completed)

    return run


def jwt_inputs(emulator, org):
    admin = emulator.ready["orgs"][org]["admin"]
    with open(admin["private_key_file"], encoding="ascii") as handle:
        key = handle.read()
    # login_url stays empty: each host's inventory variables name it (the multi-org layout).
    return {"auth": "jwt", "client_id": admin["client_id"], "private_key": key, "username": admin["username"],
            "audience": emulator.ready["orgs"][org]["audience"]}


def client_credentials_inputs(emulator, org):
    details = emulator.ready["orgs"][org]
    return {"auth": "client_credentials", "login_url": details["login_url"],
            "client_id": details["admin"]["client_id"], "client_secret": details["admin"]["client_secret"]}


def secret_texts(inputs):
    """The secret values of a credential: the client secret and each line of the key's body."""
    found = []
    if inputs.get("client_secret"):
        found.append(inputs["client_secret"])
    for line in (inputs.get("private_key") or "").splitlines():
        if line and not line.startswith("-----"):
            found.append(line)
    return found


def assert_no_secret(paths, secrets):
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        leaked = [s[:6] + "..." for s in secrets if s in text]
        assert not leaked, "%s holds secret(s) %s" % (path, leaked)
        token = ACCESS_TOKEN.search(text)
        assert not token, "%s holds an access token %s..." % (path, token.group(0)[:20])


def users_of(emulator, org):
    """Username -> what a migration changes (profile, license, active, permission sets and their licenses)."""
    answer = emulator.admin("GET", "orgs/%s/state" % org)
    assert answer.status_code == 200, answer.text
    keys = ("Profile", "UserLicense", "IsActive", "PermissionSets", "PermissionSetLicenses")
    return dict((u["Username"], dict((k, u[k]) for k in keys)) for u in answer.json()["users"])


def report_files(runs_dir):
    for root, _dirs, files in os.walk(runs_dir):
        for name in files:
            yield os.path.join(root, name)


def test_inventory_then_sandbox_migration_as_awx_jobs(awx_job, fresh_emulator, tmp_path):
    runs_dir = str(tmp_path / "runs")
    # The token pattern the leak checks rely on matches the emulator's tokens.
    assert ACCESS_TOKEN.fullmatch(fresh_emulator.ready["orgs"]["acme-prod"]["admin"]["access_token"])
    production = jwt_inputs(fresh_emulator, "acme-prod")
    # The inventory job template's survey answer (a multiple choice: a string).
    job = awx_job("playbooks/inventory.yml", production, "acme-prod", {"license_migration_plan_overwrite": "false"})
    assert (job.status, job.rc) == ("successful", 0), job.explain()
    # The injected environment names the key by path; the key text is only in the 0600 file.
    envvars = yaml.safe_load(open(os.path.join(job.pdd, "env", "envvars"), encoding="utf-8"))
    key_file = envvars["SALESFORCE_PRIVATE_KEY_FILE"]
    assert os.path.dirname(key_file) == os.path.join(job.pdd, "env")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert all(s not in json.dumps(envvars) for s in secret_texts(production))
    # set_stats reaches the artifacts; the run is named after the job (the inventory's run id template).
    stats = job.stats["license_migration"]
    assert stats["run_id"] == "awx-job-%s" % job.ident and stats["dry_run"] is False
    assert stats["orgs"]["acme-prod"]["status"] == "ok"
    assert "acme-prod (production):" in stats["orgs"]["acme-prod"]["summary"]
    assert stats["report"]["json"] == os.path.join(runs_dir, "awx-job-%s" % job.ident, "report.json")
    assert os.path.exists(os.path.join(runs_dir, "plans", "acme-prod.json"))
    assert_no_secret(job.collection_controlled_files(), secret_texts(production))
    command = job.read("command")
    assert all(s not in command for s in secret_texts(production)), "key text reached the runner's command file"

    sandbox = client_credentials_inputs(fresh_emulator, "acme-uat")
    uat = fresh_emulator.ready["orgs"]["acme-uat"]
    # The probes log in as each migrated user with the integration app's own key: in AWX a vault or a
    # second credential supplies it; here the emulator's key file, as a job template extra var.
    probe_connection = {"auth": "jwt", "login_url": uat["login_url"], "audience": uat["audience"],
                        "client_id": uat["admin"]["client_id"], "private_key_file": uat["admin"]["private_key_file"],
                        "ca_path": fresh_emulator.ca_file}
    sandbox_before = users_of(fresh_emulator, "acme-uat")
    job = awx_job("playbooks/migrate_sandbox.yml", sandbox, "acme-uat",
                  {"license_migration_probe_connection": probe_connection})
    assert (job.status, job.rc) == ("successful", 0), job.explain()
    migration_job = job.ident
    stats = job.stats["license_migration"]
    assert stats["orgs"]["acme-uat"]["counts"]["moved"] == 1, stats
    assert stats["totals"]["sandbox_verified_passed"] == 1 and stats["totals"]["verified_passed"] == 0, stats
    assert users_of(fresh_emulator, "acme-uat")["svc.etl@acme.example.uat"]["UserLicense"] == "Salesforce Integration"
    secrets = secret_texts(sandbox)
    assert_no_secret(job.collection_controlled_files(), secrets)
    assert_no_secret(report_files(runs_dir), secrets + secret_texts(production))
    # The client secret has no file form: it is in the environment, so the runner's own dump holds it.
    assert sandbox["client_secret"] in job.read("command")

    # The production rollout as a check-mode job with the survey's batch size (an integer answer).
    before = users_of(fresh_emulator, "acme-prod")
    job = awx_job("playbooks/rollout_production.yml", production, "acme-prod",
                  {"license_migration_batch_size": 1, "license_migration_gate_override_reason": ""}, check=True)
    assert (job.status, job.rc) == ("successful", 0), job.explain()
    stats = job.stats["license_migration"]
    assert stats["dry_run"] is True and stats["orgs"]["acme-prod"]["counts"]["would_move"] == 1, stats
    assert users_of(fresh_emulator, "acme-prod") == before
    assert_no_secret(job.collection_controlled_files(), secret_texts(production))

    # The rollback survey names the job to undo by its run id, as its report path and stats show it.
    job = awx_job("playbooks/rollback.yml", sandbox, "acme-uat",
                  {"license_migration_rollback_run_id": "awx-job-%s" % migration_job})
    assert (job.status, job.rc) == ("successful", 0), job.explain()
    assert users_of(fresh_emulator, "acme-uat") == sandbox_before
    assert job.stats["license_migration"]["orgs"]["acme-uat"]["counts"]["restored"] == 1


def test_check_mode_job_changes_nothing_and_reports_a_dry_run(awx_job, fresh_emulator, tmp_path):
    before = users_of(fresh_emulator, "acme-prod")
    job = awx_job("playbooks/inventory.yml", jwt_inputs(fresh_emulator, "acme-prod"), "acme-prod",
                  {"license_migration_plan_overwrite": "false"}, check=True)
    assert (job.status, job.rc) == ("successful", 0), job.explain()
    assert job.stats["license_migration"]["dry_run"] is True
    assert not (tmp_path / "runs").exists()
    assert users_of(fresh_emulator, "acme-prod") == before


def test_a_refused_login_fails_the_job_without_echoing_the_secret(awx_job, fresh_emulator):
    inputs = dict(client_credentials_inputs(fresh_emulator, "acme-prod"), client_secret="not-the-secret-0123456789")
    job = awx_job("playbooks/inventory.yml", inputs, "acme-prod", {"license_migration_plan_overwrite": "false"})
    assert (job.status, job.rc) == ("failed", 2), job.explain()
    assert "invalid client credentials" in job.read("stdout")
    assert_no_secret(job.collection_controlled_files(), secret_texts(inputs))
