"""The server as a process: READY.json, TLS, concurrency, SIGTERM, --state-file, generate."""
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest
import requests
import yaml

from conftest import EMULATOR_ROOT, EXAMPLE_ESTATE

PROD, UAT = "acme-prod", "acme-uat"


def test_ready_file_shape(emulator):
    ready = emulator.ready
    assert ready["base_url"].startswith("https://127.0.0.1:")
    assert os.path.isfile(ready["ca_file"]) and ready["pid"] == emulator.process.pid
    assert set(ready["orgs"]) == {PROD, UAT}
    for org in ready["orgs"].values():
        assert org["instance_url"] == org["login_url"] == ready["base_url"]
        assert org["org_id"].startswith("00D") and len(org["org_id"]) == 18
        admin = org["admin"]
        for key in ("username", "access_token", "client_id", "client_secret", "private_key_file", "password",
                    "security_token"):
            assert admin[key], key
        assert os.path.isfile(admin["private_key_file"])


def test_certificate_verifies_against_ca_only(emulator):
    port = int(emulator.base_url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=emulator.ca_file)
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emulator.base_url + "/services/data/", timeout=10, verify=True)


def test_keep_alive_serves_many_requests_on_one_connection(emulator):
    port = int(emulator.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                             context=ssl.create_default_context(cafile=emulator.ca_file))
    try:
        sockets = set()
        for _ in range(5):
            connection.request("GET", "/services/data/v62.0/limits",
                               headers={"Authorization": "Bearer " + emulator.token(PROD)})
            answer = connection.getresponse()
            assert answer.status == 200 and answer.getheader("Connection") != "close"
            answer.read()
            sockets.add(id(connection.sock))
        assert len(sockets) == 1
    finally:
        connection.close()


def test_fifty_concurrent_connections(emulator):
    """50 clients hold their connections open at once (a barrier between two calls each)."""
    count = 50
    barrier = threading.Barrier(count, timeout=60)
    failures = []

    def client(index):
        http = emulator.session()
        org = PROD if index % 2 else UAT
        try:
            first = http.get(emulator.base_url + "/services/data/v62.0/query",
                             params={"q": "SELECT Id, Username FROM User"},
                             headers={"Authorization": "Bearer " + emulator.token(org)}, timeout=60)
            barrier.wait()
            second = http.get(emulator.base_url + "/services/data/v62.0/limits",
                              headers={"Authorization": "Bearer " + emulator.token(org)}, timeout=60)
            if first.status_code != 200 or second.status_code != 200:
                failures.append((index, first.status_code, second.status_code))
        except Exception as exc:    # collected and reported below
            failures.append((index, repr(exc)))
        finally:
            http.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    print("50 concurrent clients, 2 calls each: %.2fs" % (time.monotonic() - started))
    assert failures == []


def test_sigterm_saves_state_and_restart_loads_it(emulator_factory, tmp_path):
    state_file = str(tmp_path / "state.json")
    first = emulator_factory("--state-file", state_file, name="persist")
    created = first.rest(PROD, "POST", "sobjects/Account", json={"Name": "Persisted Co", "Industry": "Energy"})
    assert created.status_code == 201, created.text
    assert first.stop(signal.SIGTERM) == 0
    assert os.path.isfile(state_file)
    with open(os.path.join(os.path.dirname(first.ready_file), "emulator.log"), encoding="utf-8") as handle:
        assert "stopped" in handle.read()
    second = emulator_factory("--state-file", state_file, name="persist")
    assert second.query(PROD, "SELECT Id FROM Account WHERE Name = 'Persisted Co'")["totalSize"] == 1


def test_sigint_also_stops_cleanly(emulator_factory):
    started = emulator_factory(name="sigint")
    assert started.stop(signal.SIGINT) == 0


def test_bad_fault_flag_exits_with_message(tmp_path):
    env = dict(os.environ, PYTHONPATH=EMULATOR_ROOT)
    done = subprocess.run([sys.executable, "-m", "sfemu", "serve", "--estate", EXAMPLE_ESTATE, "--port", "0",
                           "--ready-file", str(tmp_path / "READY.json"), "--fault", "status=418"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "fault" in done.stderr
    assert not (tmp_path / "READY.json").exists()


def test_generate_command_writes_loadable_estate(tmp_path, emulator_factory):
    out = tmp_path / "big.yml"
    env = dict(os.environ, PYTHONPATH=EMULATOR_ROOT)
    done = subprocess.run([sys.executable, "-m", "sfemu", "generate", "--orgs", "2", "--users", "30", "--seed", "5",
                           "--out", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    estate = yaml.safe_load(out.read_text())
    assert len(estate["orgs"]) >= 2
    started = emulator_factory(estate=str(out), name="generated")
    assert len(started.ready["orgs"]) == len(estate["orgs"])
    name = next(iter(started.ready["orgs"]))
    assert started.query(name, "SELECT COUNT() FROM User")["totalSize"] >= 30
