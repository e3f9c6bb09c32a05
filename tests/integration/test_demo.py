# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo` (tests/tools/demo.py) end to end on the demo estate, and the estate's traps.

The demo runs once per session (``demo_run``, also used by test_report_html.py); the end state of every
org comes from the emulator's admin API, dumped by the demo just before it stops the emulator.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import CHECKOUT, EMULATOR_FIXTURES

DEMO = os.path.join(CHECKOUT, "tests", "tools", "demo.py")
DEMO_ESTATE = os.path.join(CHECKOUT, "tests", "emulator", "estates", "demo.yml")
INTEGRATION = "Salesforce Integration"
TARGET_PROFILE = "Minimum Access - API Only Integrations"


class DemoRun:
    def __init__(self, work_dir, completed):
        self.work_dir = work_dir
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr
        state_file = os.path.join(work_dir, "state.json")
        self.states = {}
        if os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as handle:
                self.states = json.load(handle)
        runs = os.path.join(work_dir, "runs")
        run_ids = sorted(d for d in os.listdir(runs) if os.path.isfile(os.path.join(runs, d, "report.json"))) \
            if os.path.isdir(runs) else []
        self.run_dir = os.path.join(runs, run_ids[-1]) if run_ids else None
        self.report = None
        if self.run_dir:
            with open(os.path.join(self.run_dir, "report.json"), encoding="utf-8") as handle:
                self.report = json.load(handle)

    def users(self, org):
        """username -> (profile, license, active, sorted permission sets) from the admin API dump."""
        return dict((u["Username"], (u["Profile"], u["UserLicense"], u["IsActive"], sorted(u["PermissionSets"])))
                    for u in self.states[org]["users"])

    def org_report(self, org):
        return next(o for o in self.report["orgs"] if o["org"] == org)

    def status_of(self, org, username):
        return next(u for u in self.org_report(org)["users"] if u["username"] == username)["status"]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp("demo"))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
    completed = subprocess.run([sys.executable, DEMO, "--work-dir", work_dir,
                                "--dump-state", os.path.join(work_dir, "state.json")],
                               env=env, capture_output=True, text=True, timeout=900, check=False)
    return DemoRun(work_dir, completed)


def test_demo_estate_has_the_traps():
    """The estate itself: three companies, production + sandbox copy each, about a dozen integrations."""
    with open(DEMO_ESTATE, encoding="utf-8") as handle:
        orgs = yaml.safe_load(handle)["orgs"]
    production = [o for o in orgs if not o.get("sandbox")]
    sandboxes = [o for o in orgs if o.get("sandbox")]
    assert len(production) == 3
    assert sorted(s["production"] for s in sandboxes) == sorted(o["name"] for o in production)
    integrations = [u for o in production for u in o["users"] if not (u.get("logins") or {}).get("ui")]
    assert 10 <= len(integrations) <= 14
    assert any(u["profile"] == "System Administrator" for u in integrations)
    full_license_sets = set(p["name"] for o in production for p in o.get("permission_sets") or []
                            if p.get("license") == "Salesforce")
    assert any(set(u.get("permission_sets") or []) & full_license_sets for u in integrations)
    assert any("Profile" in c["body"] for o in production for c in o.get("apex_classes") or [])
    assert any("$Profile.Name" in r["formula"] for o in production for r in o.get("validation_rules") or [])
    humans = [u for o in production for u in o["users"]
              if (u.get("logins") or {}).get("ui") and (u.get("logins") or {}).get("api") and u["profile"] != "System Administrator"]
    assert humans
    assert any(o.get("allow_license_change_to_integration") is False for o in production)
    short = [o for o in production
             if o["licenses"][INTEGRATION] < sum(1 for u in o["users"] if not (u.get("logins") or {}).get("ui"))]
    assert short


def test_demo_estate_loads_in_the_emulator(tmp_path):
    running = EMULATOR_FIXTURES.start_emulator(str(tmp_path / "emulator"), DEMO_ESTATE)
    try:
        assert sorted(running.ready["orgs"]) == ["acme-prod", "acme-uat", "globex-dev", "globex-prod",
                                                 "initech-prod", "initech-qa"]
        assert running.ready["orgs"]["initech-qa"]["admin"]["username"] == "admin@initech.demo.qa"
    finally:
        assert running.stop() == 0


def test_demo_runs_the_whole_path_and_stops_the_emulator(demo_run):
    assert demo_run.rc == 0, demo_run.output[-5000:]
    assert demo_run.report is not None, demo_run.output[-3000:]
    html_path = os.path.join(demo_run.run_dir, "report.html")
    assert "HTML report: %s" % html_path in demo_run.output
    assert os.path.isfile(html_path)
    for org in ("acme-prod", "acme-uat", "globex-prod", "globex-dev", "initech-prod", "initech-qa"):
        assert demo_run.org_report(org)["summary"] in demo_run.output
    assert "the emulator is stopped" in demo_run.output
    with open(os.path.join(demo_run.work_dir, "emulator", "READY.json"), encoding="utf-8") as handle:
        ready = json.load(handle)
    with pytest.raises(ProcessLookupError):
        os.kill(ready["pid"], 0)


def test_demo_moves_clean_integrations_in_sandbox_then_production(demo_run):
    assert demo_run.rc == 0, demo_run.output[-3000:]
    for org, suffix in (("acme-prod", ""), ("acme-uat", ".uat")):
        users = demo_run.users(org)
        for name in ("svc.etl", "svc.backup", "svc.reporting"):
            profile, license_name, active, permission_sets = users["%s@acme.demo%s" % (name, suffix)]
            assert (profile, license_name, active) == (TARGET_PROFILE, INTEGRATION, True), name
            # The set's name ends with the production user's Id (collision-free names, issue 13).
            assert len(permission_sets) == 1 and re.match(r"^Integration_Access_%s_acme_demo_005[0-9A-Za-z]{15}$"
                                                          % name.replace(".", "_"), permission_sets[0]), permission_sets
    # The full-license permission set came off svc.etl before its profile changed.
    assert "Sales_Ops" not in demo_run.users("acme-prod")["svc.etl@acme.demo"][3]
    assert demo_run.org_report("acme-prod")["counts"]["moved"] == 3
    assert demo_run.org_report("acme-uat")["counts"]["verified_passed"] == 3


def test_demo_leaves_blocked_humans_and_admins_untouched(demo_run):
    assert demo_run.rc == 0, demo_run.output[-3000:]
    acme = demo_run.users("acme-prod")
    # Apex and a validation rule test svc.mulesoft's profile name: blocked, untouched.
    assert acme["svc.mulesoft@acme.demo"] == ("MuleSoft Integration", "Salesforce", True, [])
    assert demo_run.status_of("acme-prod", "svc.mulesoft@acme.demo") == "blocked"
    assert acme["jane.doe@acme.demo"] == ("Standard User", "Salesforce", True, [])
    assert demo_run.status_of("acme-prod", "jane.doe@acme.demo") == "not_candidate"
    for org, admin in (("acme-prod", "admin@acme.demo"), ("globex-prod", "admin@globex.demo"),
                       ("initech-prod", "admin@initech.demo")):
        assert demo_run.users(org)[admin][:2] == ("System Administrator", "Salesforce")


def test_demo_short_org_moves_what_its_seats_allow_and_the_rest_wait(demo_run):
    assert demo_run.rc == 0, demo_run.output[-3000:]
    initech = demo_run.org_report("initech-prod")
    assert initech["counts"]["moved"] == 2 and initech["counts"]["waiting"] == 2
    assert initech["seats_after"]["integration_free"] == 0
    on_integration = [u for u, state in demo_run.users("initech-prod").items() if state[1] == INTEGRATION]
    assert len(on_integration) == 2
    waiting = [u["username"] for u in initech["users"] if u["status"] == "wait"]
    for username in waiting:
        assert demo_run.users("initech-prod")[username][:2] == ("Service Integration", "Salesforce")


def test_demo_refusing_org_keeps_every_user_and_production_is_gated(demo_run):
    assert demo_run.rc == 0, demo_run.output[-3000:]
    for org, suffix in (("globex-prod", ""), ("globex-dev", ".dev")):
        users = demo_run.users(org)
        assert users["svc.boomi@globex.demo" + suffix][:2] == ("System Administrator", "Salesforce")
        # svc.netsuite has no login in the window, only an OAuth token used yesterday: a candidate too (issue 18).
        for name in ("svc.sap", "svc.docusign", "svc.netsuite"):
            assert users["%s@globex.demo%s" % (name, suffix)][:2] == ("ERP Integration", "Salesforce")
    prod = demo_run.org_report("globex-prod")
    assert prod["status"] == "failed" and prod["counts"]["gated"] == 4
    assert "production gate refused" in prod["error"]
    # The four users share one reason: it is said once for all of them.
    assert prod["error"].count("no sandbox verification recorded") == 1, prod["error"]
    dev = demo_run.org_report("globex-dev")
    assert dev["status"] == "failed" and dev["counts"]["moved"] == 0 and dev["counts"]["failed"] == 4
    # Each refused user is shown refused with the module's advice (a new user with state: present).
    for user in dev["users"]:
        if user["username"] != "admin@globex.demo.dev":
            assert user["status"] == "failed" and "state: present" in user["reasons"][0], user
    # The org's error says the shared advice once (the module's "What to do:" since its errors are raised).
    assert dev["error"].count("What to do:") == 1, dev["error"]


def test_demo_saving_counts_production_moves_only(demo_run):
    assert demo_run.rc == 0, demo_run.output[-3000:]
    prices = demo_run.report["prices"]
    # acme: 3 moves into 5 free seats; initech: 2 moves into 2 free seats; globex: none.
    assert demo_run.report["totals"]["monthly_saving"] == 5 * prices["full_license"]
    # Estate moves are production's; the sandboxes' rehearsals of the same users are counted apart.
    totals = demo_run.report["totals"]
    assert (totals["moved"], totals["sandbox_moved"]) == (5, 5)
    assert (totals["failed"], totals["sandbox_failed"]) == (0, 4)
    assert (totals["production_orgs"], totals["sandbox_orgs"]) == (3, 3)
    assert "Production orgs: 5 moved, 2 waiting for seats, 1 blocked, 4 refused by the sandbox gate" in demo_run.output


def test_demo_interrupted_stops_the_emulator_and_the_playbook(tmp_path):
    """SIGTERM while the playbook runs (a CI timeout): the demo stops ansible-playbook and the emulator."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SALESFORCE_"))
    demo = subprocess.Popen([sys.executable, DEMO, "--work-dir", str(tmp_path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        for line in demo.stdout:
            # The first play has started: ansible-playbook and its workers are running.
            if line.startswith("  PLAY ["):
                break
        else:
            pytest.fail("the demo ended before running the playbook")
        with open(tmp_path / "emulator" / "READY.json", encoding="utf-8") as handle:
            emulator_pid = json.load(handle)["pid"]
        demo.send_signal(signal.SIGTERM)
        output = demo.communicate(timeout=120)[0]
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 130, output
    assert "the emulator is stopped" in output
    with pytest.raises(ProcessLookupError):
        os.kill(emulator_pid, 0)
    # No ansible-playbook of this demo (nor one of its workers) is left running, once they had a moment to exit.
    for _attempt in range(50):
        leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "inventory.yml")], capture_output=True, text=True,
                                   check=False).stdout.split()
        if not leftovers:
            break
        time.sleep(0.2)
    assert leftovers == []
