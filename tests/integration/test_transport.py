# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13, safe transport, against the emulator's twins (fault rules ``redirect=`` and ``instance_url=``):
no redirect is ever followed with credentials, and a token answer naming ``http://`` or a foreign host is
refused before the bearer token goes anywhere. Each twin is also shown the other way: without the rule the
same task succeeds, so the refusal is the client's doing, not a broken emulator."""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

from urllib.parse import urlsplit

import pytest

from conftest import secrets_of
from test_connection import FLOWS, play
from test_secrets import record_figure

ORG = "acme-prod"
LOGIN_FLOWS = ("client_credentials", "jwt", "password")


def read_task():
    return {"name": "license info", "sfops.integration_users.sf_license_info": {}, "register": "out",
            "ignore_errors": True}


def _port(emulator):
    return urlsplit(emulator.base_url).port


def _data_calls(emulator):
    calls = emulator.admin("GET", "orgs/%s/calls" % ORG).json()["calls"]
    return sum(calls.values())


def _cases(emulator):
    """(name, fault rule) pairs: every redirect and foreign/clear URL the client must refuse."""
    port = _port(emulator)
    here = "127.0.0.1:%d" % port
    return [
        ("token 307 to http", {"path": "/services/oauth2/token", "redirect": "http://%s/services/oauth2/token" % here}),
        ("token 307 to another host", {"path": "/services/oauth2/token",
                                       "redirect": "https://localhost:%d/services/oauth2/token" % port}),
        ("token 302 same host", {"path": "/services/oauth2/token", "redirect_status": 302,
                                 "redirect": "https://%s/services/oauth2/token?again=1" % here}),
        ("data 302 to http", {"path": "/services/data/", "redirect_status": 302,
                              "redirect": "http://%s/services/data/v62.0/query" % here}),
        ("data 301 same host", {"path": "/services/data/", "redirect_status": 301,
                                "redirect": "https://%s/services/data/v62.0/limits" % here}),
        ("instance_url http", {"instance_url": "http://%s" % here}),
        ("instance_url other host", {"instance_url": "https://localhost:%d" % port}),
        ("instance_url other port", {"instance_url": "https://127.0.0.1:%d" % (port + 1)}),
        ("identity URL http", {"instance_url": "https://%s" % here,
                               "identity_url": "http://%s/id/00D/005" % here}),
    ]


def refusal_runs(emulator, playbook):
    """Every case under every login flow: the task's result and the org's data-API calls it caused."""
    outcomes = []
    for name, rule in _cases(emulator):
        for flow in LOGIN_FLOWS:
            if rule.get("path", "").startswith("/services/data") and flow != "client_credentials":
                continue     # a data-API redirect is the same for every flow
            emulator.reset()
            answer = emulator.admin("POST", "faults", json=rule)
            assert answer.status_code == 201, answer.text
            before = _data_calls(emulator)
            run = playbook(emulator, play(FLOWS[flow], [read_task()]))
            report = emulator.admin("GET", "faults").json()
            outcomes.append({"case": name, "flow": flow, "result": run.result("license info", ORG),
                             "output": run.output, "data_calls": _data_calls(emulator) - before,
                             "injected": report["injected"]})
    emulator.reset()
    return outcomes


def test_redirects_and_foreign_instance_urls_are_refused_before_any_credential_moves(fresh_emulator, playbook):
    outcomes = refusal_runs(fresh_emulator, playbook)
    assert len(outcomes) >= 20
    secrets = secrets_of(fresh_emulator)
    for outcome in outcomes:
        label = "%s / %s" % (outcome["case"], outcome["flow"])
        result = outcome["result"]
        assert result.get("failed") is True, (label, result)
        assert outcome["injected"] >= 1, label               # the twin did answer with the fault
        message = result["msg"]
        assert ("redirect" in message and "never followed" in message) or "refused before any bearer" in message, \
            (label, message)
        assert "Traceback" not in outcome["output"], label
        assert not [s for s in secrets if s in outcome["output"]], label
        # No data-API call was answered: none before the token answer was judged, and a redirect answer is
        # not a call (the emulator counts it under the fault rule, ``injected``); following it would be one.
        assert outcome["data_calls"] == 0, (label, outcome["data_calls"])
    record_figure("redirects and foreign instance URLs refused", tried=len(outcomes),
                  refused=sum(1 for o in outcomes if o["result"].get("failed")))


def test_the_same_tasks_succeed_without_the_twins(fresh_emulator, playbook):
    for flow in LOGIN_FLOWS:
        run = playbook(fresh_emulator, play(FLOWS[flow], [read_task()]))
        result = run.result("license info", ORG)
        assert not result.get("failed"), (flow, result.get("msg"))


def test_allowed_hosts_admits_a_named_instance_host(fresh_emulator, playbook):
    # The emulator also answers on "localhost": naming it in allowed_hosts lets a token answer send the
    # client there, on https.
    port = _port(fresh_emulator)
    fresh_emulator.admin("POST", "faults", json={"instance_url": "https://localhost:%d" % port})
    connection = dict(FLOWS["client_credentials"], allowed_hosts=["localhost:%d" % port])
    run = playbook(fresh_emulator, play(connection, [read_task()]))
    result = run.result("license info", ORG)
    assert not result.get("failed"), result.get("msg")


def test_the_probe_never_inherits_the_operators_connection(fresh_emulator, playbook):
    # The operator's connection set once for the group, as the role's playbooks do; the probe names only the
    # user it logs in as. It must fail for want of that user's credentials, not log in with the operator's.
    tasks = [{"name": "probe", "sfops.integration_users.sf_integration_probe": {
        "username": "{{ sf_username }}", "probes": [{"name": "limits", "rest": "limits"}]},
        "register": "out", "ignore_errors": True}]
    before = _data_calls(fresh_emulator)
    run = playbook(fresh_emulator, play(FLOWS["client_credentials"], tasks))
    result = run.result("probe", ORG)
    assert result.get("failed") or not all(p.get("passed") for p in result.get("probes") or [{}]), result
    assert "no credentials given" in str(result), result
    assert _data_calls(fresh_emulator) == before


# ---- a server that trickles its answer (finding 10) ---------------------------------------------------------
def _trickling_server(tmp_path, headers_first):
    """A TLS server answering every request one byte every 0.2 s: the whole answer (headers_first False) or
    quick headers and then the body (True). Returns (url, ca file, stop)."""
    import os
    import socket
    import ssl
    import sys
    import threading
    import time as clock
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "emulator"))
    from sfemu import tls
    ca_file, cert, key = tls.generate_certificates(str(tmp_path / "tls"))
    context = tls.server_context(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    stopping = threading.Event()
    body = b'{"DailyApiRequests": {"Max": 100, "Remaining": 99}}' * 50
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)

    def serve(connection):
        try:
            with context.wrap_socket(connection, server_side=True) as stream:
                stream.recv(65536)
                if headers_first:
                    stream.sendall(head)
                for index in range(len(body) + len(head)):
                    if stopping.is_set():
                        return
                    stream.sendall(((head if not headers_first else b"") + body)[index:index + 1])
                    clock.sleep(0.2)
        except (OSError, ssl.SSLError, IndexError):
            pass

    def accept():
        listener.settimeout(0.5)
        while not stopping.is_set():
            try:
                connection, _address = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()

    def stop():
        stopping.set()
        listener.close()
    return "https://127.0.0.1:%d" % listener.getsockname()[1], ca_file, stop


@pytest.mark.parametrize("headers_first", [False, True], ids=["trickled headers", "trickled body"])
def test_a_trickling_server_cannot_hold_a_task_past_its_timeout(tmp_path, headers_first):
    import sys
    import time as clock
    from conftest import COLLECTIONS_ROOT
    root = COLLECTIONS_ROOT.ensure_collections_root()
    if root not in sys.path:
        sys.path.insert(0, root)
    from ansible_collections.sfops.integration_users.plugins.module_utils.client import Client
    from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ConnectionFailure
    url, ca_file, stop = _trickling_server(tmp_path, headers_first)
    try:
        client = Client({"auth": "access_token", "instance_url": url, "access_token": "00Dx!token",
                         "ca_path": ca_file, "validate_certs": True, "timeout": 2.0, "retries": 0,
                         "api_version": "62.0"})
        started = clock.monotonic()
        with pytest.raises(ConnectionFailure) as caught:
            client.limits()
        elapsed = clock.monotonic() - started
    finally:
        stop()
    assert elapsed < 5, elapsed
    assert "timeout" in caught.value.render().lower(), caught.value.render()
