# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's and the getting-started guide's examples, run against the emulator (issue 16).

Documentation that cannot drift: the fenced blocks are extracted from ``README.md`` and
``docs/getting-started.md`` and executed as they are written.

- README: the plays (YAML blocks that are a list of plays) run over the example inventory of
  ``playbooks/inventory/``; the ``ansible-playbook`` lines of its shell blocks run in order from a copy of
  the checkout (``cd`` lines followed); ``make try`` is exercised through ``tests/tools/try.py``.
- Guide: its YAML blocks whose first line names a file (``# inventory/hosts.yml``) are written to a project
  directory, its vault block gets the emulator's secrets and is encrypted with ``ansible-vault``, and its
  ``ansible-playbook`` lines run in order (``export`` lines set the environment).

Only what cannot be real here is replaced: each org's My Domain URL (``host_vars/<org>.yml``, which
Ansible ranks above the inventory file), the secrets (the emulator's), and the emulator's CA
(``SALESFORCE_CA_PATH``). The emulator serves the example estate's acme-prod/acme-uat and a copy of them
as globex-prod/globex-qa, the four orgs of the example inventory.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import ANSIBLE_PLAYBOOK, CHECKOUT, COLLECTIONS_ROOT, EMULATOR_FIXTURES

README = os.path.join(CHECKOUT, "README.md")
GUIDE = os.path.join(CHECKOUT, "docs", "getting-started.md")
ANSIBLE_VAULT = os.path.join(os.path.dirname(ANSIBLE_PLAYBOOK), "ansible-vault")
BIN = os.path.dirname(ANSIBLE_PLAYBOOK)
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)


# --- the documents ---------------------------------------------------------------------------------------

def blocks(path, language=None):
    """(language, text, line number) of every fenced block of a Markdown file."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    found = []
    for match in FENCE.finditer(text):
        if language is None or match.group(1) == language:
            found.append((match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1))
    return found


def plays_of(path):
    """YAML blocks that are playbooks (a list of mappings with ``hosts``)."""
    found = []
    for _language, text, line in blocks(path, "yaml"):
        data = yaml.safe_load(text)
        if isinstance(data, list) and data and all(isinstance(p, dict) and "hosts" in p for p in data):
            found.append((text, line))
    return found


def files_of(path):
    """``{relative path: text}`` of the YAML blocks whose first line is ``# <path>.yml``."""
    found = {}
    for _language, text, _line in blocks(path, "yaml"):
        first = text.splitlines()[0] if text.strip() else ""
        # "# inventory/hosts.yml", or a variant of a file: "# inventory/group_vars/x.yml (client credentials)"
        match = re.match(r"#\s*(\S+\.ya?ml(?:\s+\([^)]*\))?)\s*$", first)
        if match:
            found[match.group(1)] = text
    return found


def commands_of(path, language="sh"):
    """The shell blocks' lines in order, comments and continuation lines joined, blank lines dropped."""
    lines = []
    for _language, text, _line in blocks(path, language):
        pending = ""
        for raw in text.splitlines():
            stripped = raw.strip()
            if pending:
                stripped = pending + " " + stripped
                pending = ""
            if stripped.endswith("\\"):
                pending = stripped[:-1].strip()
                continue
            # A comment starts at a '#' preceded by a blank (or at the line's start).
            stripped = re.sub(r"(^|\s)#.*$", "", stripped).strip()
            if stripped:
                lines.append(stripped)
    return lines


# --- the emulator -----------------------------------------------------------------------------------------

def _renamed(value, old, new):
    if isinstance(value, str):
        return value.replace(old, new).replace(old.upper(), new.upper())
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    if isinstance(value, dict):
        return dict((k, _renamed(v, old, new)) for k, v in value.items())
    return value


def example_inventory_estate(path):
    """The example estate (acme-prod, acme-uat) and the same company as globex-prod/globex-qa: the four
    orgs of playbooks/inventory/hosts.yml."""
    with open(EMULATOR_FIXTURES.EXAMPLE_ESTATE, encoding="utf-8") as handle:
        estate = yaml.safe_load(handle)
    orgs = dict((o["name"], o) for o in estate["orgs"])
    globex = _renamed(copy.deepcopy(orgs["acme-prod"]), "acme", "globex")
    globex_qa = dict(copy.deepcopy(orgs["acme-uat"]), name="globex-qa", sandbox_name="qa", production="globex-prod")
    estate["orgs"] += [globex, globex_qa]
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(estate, handle, sort_keys=False)
    return path


@pytest.fixture(scope="module")
def docs_emulator(tmp_path_factory):
    directory = tmp_path_factory.mktemp("docs-emulator")
    running = EMULATOR_FIXTURES.start_emulator(str(directory / "run"),
                                               example_inventory_estate(str(directory / "estate.yml")))
    yield running
    running.stop()


@pytest.fixture
def org_emulator(docs_emulator):
    docs_emulator.reset()
    yield docs_emulator
    docs_emulator.reset()


def users_of(emulator, org):
    answer = emulator.admin("GET", "orgs/%s/state" % org)
    assert answer.status_code == 200, answer.text
    return dict((u["Username"], (u["Profile"], u["UserLicense"])) for u in answer.json()["users"])


def private_key_of(org):
    with open(org["admin"]["private_key_file"], encoding="ascii") as handle:
        return handle.read()


# The emulator's value of each secret the documents' vault files name, per org. A vault variable the
# documents add and this table does not know fails the test (the table is the test's only knowledge).
def secret_values(org):
    admin = org["admin"]
    return {
        "vault_sf_ops_client_id": admin["client_id"],
        "vault_sf_ops_client_secret": admin["client_secret"],
        "vault_sf_ops_username": admin["username"],
        "vault_sf_ops_private_key": private_key_of(org),
        # The probes' app: the emulator's ops app lets every user of the org use JWT.
        "vault_sf_integration_client_id": admin["client_id"],
        "vault_sf_integration_private_key": private_key_of(org),
        # An integration's own app with client credentials (its user is not in the emulator's estate).
        "vault_sf_mulesoft_client_id": admin["client_id"],
        "vault_sf_mulesoft_client_secret": admin["client_secret"],
    }


def vault_for(placeholder_text, emulator):
    """The placeholder vault with every value replaced by the emulator's: per-org dicts keep their keys
    (which must be orgs of the emulator), plain strings (the signing key) get a fresh secret."""
    placeholders = yaml.safe_load(placeholder_text) or {}
    orgs = emulator.ready["orgs"]
    vault = {}
    for name, value in placeholders.items():
        if name == "license_migration_signing_key":
            vault[name] = secrets.token_hex(32)
        elif isinstance(value, dict):
            unknown = sorted(set(value) - set(orgs))
            assert not unknown, "vault variable %s names orgs the inventory does not have: %s" % (name, unknown)
            vault[name] = dict((org, secret_values(orgs[org])[name]) for org in value)
        else:
            pytest.fail("vault variable %s: the test does not know what the emulator gives for it" % name)
    return vault


def encrypt(path, password_file):
    done = subprocess.run([ANSIBLE_VAULT, "encrypt", "--vault-password-file", str(password_file), str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(path, encoding="utf-8") as handle:
        assert handle.read().startswith("$ANSIBLE_VAULT;"), "%s is not encrypted" % path


def point_at_emulator(inventory_dir, emulator):
    """host_vars/<org>.yml with the emulator's URL as the org's My Domain (the only host variable replaced)."""
    host_vars = os.path.join(str(inventory_dir), "host_vars")
    os.makedirs(host_vars, exist_ok=True)
    for name, org in emulator.ready["orgs"].items():
        with open(os.path.join(host_vars, name + ".yml"), "w", encoding="utf-8") as handle:
            yaml.safe_dump({"sf_my_domain_url": org["login_url"]}, handle)


def base_env(emulator, home):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("SALESFORCE_", "ANSIBLE_")))
    env.update({"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_ROOT.ensure_collections_root(), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_FORKS": "4", "HOME": str(home),
                "SALESFORCE_CA_PATH": emulator.ca_file,
                "PATH": BIN + os.pathsep + os.environ.get("PATH", "")})
    return env


def recap(output):
    found = {}
    for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        found[host] = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", counters))
    return found


def latest_run(runs_dir):
    runs = sorted((os.path.getmtime(os.path.join(runs_dir, d, "report.json")), d) for d in os.listdir(runs_dir)
                  if os.path.isfile(os.path.join(runs_dir, d, "report.json")))
    assert runs, "no run report under %s" % runs_dir
    with open(os.path.join(runs_dir, runs[-1][1], "report.json"), encoding="utf-8") as handle:
        return runs[-1][1], json.load(handle)


class Shell:
    """Runs a document's command lines: ``cd`` and ``export`` change the state, ``ansible-playbook`` runs,
    ``<run id>`` is the id of the latest run under ``runs_dir``."""

    def __init__(self, cwd, env, runs_dir):
        self.cwd = str(cwd)
        self.env = env
        self.runs_dir = runs_dir
        self.runs = []

    def __call__(self, line):
        if "<run id>" in line:
            line = line.replace("<run id>", latest_run(self.runs_dir)[0])
        words = shlex.split(line)
        if words[0] == "cd":
            self.cwd = os.path.normpath(os.path.join(self.cwd, os.path.expanduser(words[1])))
            return None
        if words[0] == "export":
            name, _equals, value = words[1].partition("=")
            if name != "ANSIBLE_COLLECTIONS_PATH" or name not in self.env:    # the test's root stays
                self.env[name] = os.path.expandvars(value.replace("~", self.env["HOME"], 1)
                                                    if value.startswith("~") else value)
            return None
        assert words[0] == "ansible-playbook", "not a command this test runs: %s" % line
        done = subprocess.run([ANSIBLE_PLAYBOOK] + words[1:], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, timeout=900, check=False)
        done.output = done.stdout + done.stderr
        done.line = line
        self.runs.append(done)
        return done


def example_checkout(tmp_path, emulator):
    """A copy of the checkout's playbooks (with the example inventory) pointed at the emulator, its vault
    holding the emulator's secrets, encrypted."""
    root = tmp_path / "checkout"
    shutil.copytree(os.path.join(CHECKOUT, "playbooks"), str(root / "playbooks"),
                    ignore=shutil.ignore_patterns("runs"))
    inventory = root / "playbooks" / "inventory"
    point_at_emulator(inventory, emulator)
    vault_file = inventory / "group_vars" / "all" / "vault.yml"
    vault = vault_for(vault_file.read_text(), emulator)
    vault_file.write_text(yaml.safe_dump(vault))
    password = tmp_path / "vault-pass"
    password.write_text(secrets.token_hex(16))
    encrypt(vault_file, password)
    env = base_env(emulator, tmp_path)
    env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(password)
    return root, env


# --- README -----------------------------------------------------------------------------------------------

def test_readme_names_every_playbook():
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    commands = " ".join(commands_of(README))
    for name in sorted(os.listdir(os.path.join(CHECKOUT, "playbooks"))):
        if name.endswith(".yml") and name not in ("awx_configure.yml", "report.yml"):
            assert name in commands, "README's commands do not run playbooks/%s" % name
        if name.endswith(".yml"):
            assert name in text, "README does not mention playbooks/%s" % name


def test_readme_files_it_names_exist():
    """Every `path` the README and the example inventory's comments name in the checkout exists."""
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    with open(os.path.join(CHECKOUT, "playbooks", "inventory", "hosts.yml"), encoding="utf-8") as handle:
        comments = "\n".join(l for l in handle.read().splitlines() if l.lstrip().startswith("#"))
    named = set(re.findall(r"`((?:playbooks|docs|roles|tests|extensions|changelogs)/[\w./-]+)`", text))
    named |= set(os.path.join("playbooks", "inventory", p) for p in re.findall(r"\b([\w/]*vault[\w.]*\.yml)\b", comments))
    missing = sorted(p for p in named if "<" not in p and not p.startswith("tests/output/")
                     and not os.path.exists(os.path.join(CHECKOUT, p)))
    assert not missing, "named but not in the checkout: %s" % missing
    assert os.path.exists(GUIDE) and "docs/getting-started.md" in text


def test_readme_requirements_name_the_collection():
    with open(os.path.join(CHECKOUT, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    requirements = [yaml.safe_load(t) for _lang, t, _line in blocks(README, "yaml") if t.lstrip().startswith("collections:")]
    assert requirements
    for data in requirements:
        assert [c["name"] for c in data["collections"]] == ["%(namespace)s.%(name)s" % galaxy]


def test_readme_plays_run_over_the_example_inventory(org_emulator, tmp_path):
    """The README's plays, written next to the playbooks, connect to every org of the example inventory,
    and follow `license_migration_target` like the playbooks do."""
    plays = plays_of(README)
    assert plays, "README has no play"
    root, env = example_checkout(tmp_path, org_emulator)
    orgs = sorted(org_emulator.ready["orgs"])
    for number, (text, line) in enumerate(plays):
        playbook = root / "playbooks" / ("readme-%d.yml" % number)
        playbook.write_text(text)
        for extra, expected in (([], orgs), (["-e", "license_migration_target=acme-uat"], ["acme-uat"])):
            done = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "inventory/", playbook.name] + extra,
                                  cwd=str(root / "playbooks"), env=env, capture_output=True, text=True,
                                  timeout=600, check=False)
            output = done.stdout + done.stderr
            assert done.returncode == 0, "README play at line %d %s:\n%s" % (line, extra, output[-3000:])
            ran = recap(output)
            assert sorted(ran) == expected, "README play at line %d %s ran on %s" % (line, extra, sorted(ran))
            assert all(c["failed"] == 0 and c["unreachable"] == 0 and c["ok"] >= 1 for c in ran.values()), output


def test_readme_commands_run_the_safe_path(org_emulator, tmp_path):
    """The README's ansible-playbook lines, in order, over the example inventory: the dry run writes
    nothing, the rollout moves the clean candidate in production, the rollback undoes it."""
    root, env = example_checkout(tmp_path, org_emulator)
    runs_dir = str(root / "runs")         # group_vars: "{{ playbook_dir }}/../runs"
    shell = Shell(root, env, runs_dir)
    etl = "svc.etl@acme.example"
    before = users_of(org_emulator, "acme-prod")[etl]
    lines = commands_of(README)
    playbook_lines = [l for l in lines if l.startswith("ansible-playbook")]
    assert len(playbook_lines) >= 6, playbook_lines
    for line in lines:
        if not line.startswith(("cd ", "export ", "ansible-playbook ")):
            continue        # make, ansible-galaxy, pip: not run here
        done = shell(line)
        if done is None:
            continue
        assert done.returncode == 0, "%s\n%s\n...\n%s" % (line, done.output[:2500], done.output[-1500:])
        ran = recap(done.output)
        # migrate_sandbox.yml / rollout_production.yml skip the other org type: those hosts may not appear.
        assert ran and set(ran) <= set(org_emulator.ready["orgs"]), (line, ran)
        assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in ran.values()), (line, ran)
        state = users_of(org_emulator, "acme-prod")[etl]
        if "--check" in line:
            assert not os.path.exists(runs_dir) or not os.listdir(runs_dir), "--check wrote %s" % os.listdir(runs_dir)
            assert state == before, (line, state)
        elif "rollout_production.yml" in line or "site.yml" in line:
            assert state == ("Minimum Access - API Only Integrations", "Salesforce Integration"), (line, state)
        elif "rollback.yml" in line:
            assert state == before, (line, state)
        if "--check" not in line:
            report = latest_run(runs_dir)[1]
            worked = set(h for h, c in ran.items() if c["ok"])
            assert worked <= set(o["org"] for o in report["orgs"]), (line, ran)
    assert any("rollback.yml" in d.line for d in shell.runs) and any("verify.yml" in d.line for d in shell.runs)


# --- make try -------------------------------------------------------------------------------------------

def test_make_try_leaves_an_emulator_and_its_commands(tmp_path):
    """tests/tools/try.py (`make try`): an emulator left running, an inventory for it, and commands that
    work as printed; `--stop` ends it."""
    work = tmp_path / "try"
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("SALESFORCE_", "SFOPS_")))
    try_py = os.path.join(CHECKOUT, "tests", "tools", "try.py")
    started = subprocess.run([sys.executable, try_py, "--work-dir", str(work)], cwd=CHECKOUT, env=env,
                             capture_output=True, text=True, timeout=300, check=False)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        with open(work / "emulator" / "READY.json", encoding="utf-8") as handle:
            pid = json.load(handle)["pid"]
        assert alive(pid), "the emulator stopped when try.py returned"
        printed = [l.strip() for l in started.stdout.splitlines() if l.strip().startswith(("export ", "ansible-playbook "))]
        assert any("inventory.yml" in l for l in printed) and any("verify.yml" in l for l in printed), started.stdout
        assert "--stop" in started.stdout
        shell_env = dict(env, HOME=str(tmp_path), PATH=BIN + os.pathsep + env.get("PATH", ""))
        shell = Shell(CHECKOUT, shell_env, str(work / "runs"))
        for line in printed:
            if line.startswith("export "):
                shell(line)
        first = next(l for l in printed if l.startswith("ansible-playbook") and "inventory.yml" in l)
        done = shell(first + ("" if "--check" in first else " --check"))
        assert done.returncode == 0, done.output[-4000:]
        assert "acme-prod (production)" in done.output
    finally:
        stopped = subprocess.run([sys.executable, try_py, "--work-dir", str(work), "--stop"], cwd=CHECKOUT,
                                 env=env, capture_output=True, text=True, timeout=120, check=False)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not alive(pid), "the emulator %d still runs after --stop" % pid


def alive(pid):
    """Running (a zombie nobody has reaped yet counts as stopped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- docs/getting-started.md ----------------------------------------------------------------------------

def guide_project(tmp_path, emulator, connection_file=None):
    """The guide's project directory: its inventory files as written, host_vars pointing at the emulator,
    the vault with the emulator's secrets, encrypted with the password file the guide's `export` names."""
    files = files_of(GUIDE)
    assert "inventory/hosts.yml" in files and "inventory/group_vars/all/vault.yml" in files, sorted(files)
    project = tmp_path / "project"
    for relative, text in files.items():
        if "(" in relative:
            continue
        target = project / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    if connection_file:
        (project / "inventory" / "group_vars" / "salesforce_orgs.yml").write_text(files[connection_file])
    point_at_emulator(project / "inventory", emulator)
    vault_file = project / "inventory" / "group_vars" / "all" / "vault.yml"
    vault_file.write_text(yaml.safe_dump(vault_for(vault_file.read_text(), emulator)))
    return project, vault_file


def test_guide_commands_run_from_inventory_to_rollback(org_emulator, tmp_path):
    project, vault_file = guide_project(tmp_path, org_emulator)
    env = base_env(org_emulator, tmp_path)
    env.pop("SFOPS_SIGNING_KEY", None)                   # the guide keeps the key in the vault
    shell = Shell(project, env, str(project / "runs"))
    lines = commands_of(GUIDE)
    exports = [l for l in lines if l.startswith("export ")]
    for line in exports:
        shell(line)
    password_file = env.get("ANSIBLE_VAULT_PASSWORD_FILE")
    assert password_file, "the guide exports no ANSIBLE_VAULT_PASSWORD_FILE"
    os.makedirs(os.path.dirname(password_file), exist_ok=True)
    with open(password_file, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(16))
    encrypt(vault_file, password_file)
    etl = "svc.etl@acme.example"
    before = {org: users_of(org_emulator, org) for org in ("acme-prod", "acme-uat")}
    playbook_lines = [l for l in lines if l.startswith("ansible-playbook")]
    with open(GUIDE, encoding="utf-8") as handle:
        example_line = next(l.strip() for l in handle if l.startswith("    acme-prod (production): "))
    steps = ["inventory", "migrate_sandbox", "verify", "rollout_production", "rollback"]
    for step in steps:
        assert any(("sfops.integration_users.%s" % step) in l for l in playbook_lines), "guide runs no %s" % step
    for line in playbook_lines:
        previous = {org: users_of(org_emulator, org) for org in before}
        done = shell(line)
        assert done.returncode == 0, "%s\n%s\n...\n%s" % (line, done.output[:2500], done.output[-1500:])
        ran = recap(done.output)
        assert ran and all(c["failed"] == 0 and c["unreachable"] == 0 for c in ran.values()), (line, ran)
        prod = users_of(org_emulator, "acme-prod")
        uat = users_of(org_emulator, "acme-uat")
        if "--check" in line:
            assert {"acme-prod": prod, "acme-uat": uat} == previous, line
        elif ".inventory" in line:
            # The org line the guide shows after the first inventory is the one the run prints.
            assert example_line in done.output, (example_line, done.output[-3000:])
        elif ".migrate_sandbox" in line:
            assert uat[etl + ".uat"][1] == "Salesforce Integration" and prod == before["acme-prod"], line
        elif ".rollout_production" in line:
            assert prod[etl][1] == "Salesforce Integration", line
        elif ".rollback" in line:
            target = "acme-uat" if "acme-uat" in line else "acme-prod"
            assert users_of(org_emulator, target) == before[target], line
    # The report the guide tells the reader to open.
    report = latest_run(str(project / "runs"))[1]
    assert report["orgs"]


def test_guide_client_credentials_connection_reads_the_org(org_emulator, tmp_path):
    """The guide's client-credentials variant of group_vars/salesforce_orgs.yml runs the first inventory."""
    files = files_of(GUIDE)
    variant = [f for f in files if f.startswith("inventory/group_vars/salesforce_orgs.yml") and "client" in f]
    assert variant, "the guide shows no client-credentials connection: %s" % sorted(files)
    project, vault_file = guide_project(tmp_path, org_emulator, connection_file=variant[0])
    password = tmp_path / "pass"
    password.write_text("client-credentials-test")
    encrypt(vault_file, password)
    env = base_env(org_emulator, tmp_path)
    env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(password)
    first = next(l for l in commands_of(GUIDE) if l.startswith("ansible-playbook") and ".inventory" in l)
    done = Shell(project, env, str(project / "runs"))(first if "--check" in first else first + " --check")
    assert done.returncode == 0, done.output[-4000:]
    ran = recap(done.output)
    assert ran and all(c["failed"] == 0 for c in ran.values()), done.output[-3000:]
    assert "acme-prod (production)" in done.output
