# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS: certificates are verified by default, an untrusted one fails with a message naming ca_path and
validate_certs, plain http is refused, and switching verification off is never silent."""

from __future__ import annotations

import pytest

ORG = "acme-prod"
CONNECTION = {"auth": "client_credentials", "login_url": "{{ sf_login_url }}", "client_id": "{{ sf_client_id }}",
              "client_secret": "{{ sf_client_secret }}", "retries": 0}


def read(name, connection):
    return {"name": name, "sfops.integration_users.sf_license_info": {}, "ignore_errors": True,
            "module_defaults": {"group/sfops.integration_users.salesforce": connection}}


@pytest.fixture(scope="module")
def tls_run(emulator, tmp_path_factory):
    """One playbook: the emulator's self-made CA is trusted by nobody unless ca_path names it."""
    tasks = [
        read("default settings", CONNECTION),
        read("validate_certs true, no ca_path", dict(CONNECTION, validate_certs=True)),
        read("ca_path of another CA", dict(CONNECTION, ca_path="{{ other_ca }}")),
        read("environment CA bundle ignored", dict(CONNECTION)),
        read("plain http", dict(CONNECTION, login_url="{{ sf_login_url | replace('https://', 'http://') }}")),
        read("ca_path of the emulator", dict(CONNECTION, ca_path="{{ sf_ca_path }}")),
        read("validate_certs false", dict(CONNECTION, validate_certs=False)),
    ]
    # The environment's CA variables must not turn verification into trusting the emulator.
    tasks[3]["environment"] = {"REQUESTS_CA_BUNDLE": "{{ sf_ca_path }}", "SSL_CERT_FILE": "{{ sf_ca_path }}"}
    import certifi
    play = [{"hosts": ORG, "gather_facts": False, "vars": {"other_ca": certifi.where()}, "tasks": tasks}]
    return play


def test_tls_is_verified_by_default_and_never_downgraded_silently(emulator, playbook, tls_run):
    run = playbook(emulator, tls_run, env={"REQUESTS_CA_BUNDLE": emulator.ca_file, "CURL_CA_BUNDLE": emulator.ca_file})
    for name in ("default settings", "validate_certs true, no ca_path", "ca_path of another CA",
                 "environment CA bundle ignored"):
        result = run.result(name, ORG)
        assert result.get("failed") is True, (name, result)
        message = result["msg"]
        assert "CERTIFICATE_VERIFY_FAILED" in message or "certificate verify failed" in message, (name, message)
        assert "ca_path" in message and "validate_certs" in message, (name, message)
        assert not message.startswith("Task failed:"), message
    http = run.result("plain http", ORG)
    assert http.get("failed") is True and "must be an https URL" in http["msg"], http
    assert not run.result("ca_path of the emulator", ORG).get("failed")
    insecure = run.result("validate_certs false", ORG)
    assert not insecure.get("failed"), insecure.get("msg")
    assert any("validate_certs is false" in w for w in insecure.get("warnings", [])), insecure.get("warnings")
    assert "validate_certs is false" in run.output
