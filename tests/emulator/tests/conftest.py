"""Fixtures that run the emulator as a real HTTPS server in a subprocess.

Copy the ``emulator`` fixture into another suite's conftest to test against a live estate:
it starts ``python -m sfemu serve --port 0`` once per session and reads READY.json.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

EMULATOR_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE_ESTATE = os.path.join(EMULATOR_ROOT, "estates", "example.yml")
API = "v62.0"


class Emulator:
    """A running emulator process and the READY.json it wrote."""

    def __init__(self, process, ready, ready_file, log=None):
        self.process = process
        self.log = log
        self.ready = ready
        self.ready_file = ready_file
        self.base_url = ready["base_url"]
        self.ca_file = ready["ca_file"]
        self.http = self.session()

    def session(self):
        """A requests session that trusts the emulator's CA and ignores proxy/CA environment variables."""
        http = requests.Session()
        http.trust_env = False
        http.verify = self.ca_file
        return http

    def org(self, name):
        return self.ready["orgs"][name]

    def token(self, org_name):
        return self.org(org_name)["admin"]["access_token"]

    def rest(self, org_name, method, path, token=None, **kwargs):
        """REST call below /services/data/vNN.N as the org's admin (or with ``token``)."""
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", "Bearer " + (token or self.token(org_name)))
        url = path if path.startswith("http") else "%s/services/data/%s/%s" % (self.base_url, API, path.lstrip("/"))
        return self.http.request(method, url, headers=headers, **kwargs)

    def query(self, org_name, soql, token=None):
        answer = self.rest(org_name, "GET", "query", token=token, params={"q": soql})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def admin(self, method, path, **kwargs):
        return self.http.request(method, "%s/__emulator__/%s" % (self.base_url, path.lstrip("/")), **kwargs)

    def reset(self):
        """Back to the estate; READY.json tokens are re-issued, so refresh them."""
        answer = self.admin("POST", "reset")
        assert answer.status_code == 200, answer.text
        self.ready["orgs"] = answer.json()["orgs"]
        self.admin("DELETE", "faults")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()
        return self.process.returncode


def start_emulator(directory, estate=EXAMPLE_ESTATE, *extra_args, timeout=90):
    """Start ``python -m sfemu serve`` and wait for its READY.json (fails fast if the process dies)."""
    os.makedirs(directory, exist_ok=True)
    ready_file = os.path.join(directory, "READY.json")
    env = dict(os.environ, PYTHONPATH=EMULATOR_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = open(os.path.join(directory, "emulator.log"), "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "sfemu", "serve", "--estate", estate, "--port", "0", "--ready-file", ready_file,
         "--state-dir", os.path.join(directory, "state"), "--seed", "7", *extra_args],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not os.path.exists(ready_file):
        if process.poll() is not None:
            log.close()
            with open(log.name, encoding="utf-8", errors="replace") as handle:
                pytest.fail("emulator exited with %s:\n%s" % (process.returncode, handle.read()[-4000:]))
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("emulator did not write %s within %ss" % (ready_file, timeout))
        time.sleep(0.1)
    with open(ready_file, encoding="utf-8") as handle:
        return Emulator(process, json.load(handle), ready_file, log)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One emulator serving the example estate for the whole session (per xdist worker)."""
    running = start_emulator(str(tmp_path_factory.mktemp("emulator")))
    yield running
    running.stop()


@pytest.fixture
def fresh(emulator):
    """The session emulator, reset to the estate before and after a test that changes state."""
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture
def emulator_factory(tmp_path):
    """Start extra emulators (own flags or estates) that are stopped after the test."""
    started = []

    def start(*extra_args, estate=EXAMPLE_ESTATE, name="extra"):
        running = start_emulator(str(tmp_path / ("%s-%d" % (name, len(started)))), estate, *extra_args)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
