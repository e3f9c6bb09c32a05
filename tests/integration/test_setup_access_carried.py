# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 12 end to end on tests/emulator/estates/access.yml: what svc.mulesoft reaches only through its
profile (the admin-approved MuleSoft Connector, the OrderService Apex REST class, a custom permission)
is found by sf_profile_check and carried by sf_permission_set, so its JWT login through the app and its
Apex REST call still work once moved; moved without it (the sandbox copy), both break."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

import jwt
import pytest

from test_rules_agree import _run  # noqa: F401  pylint: disable=unused-import
from test_sf_permission_set_harness import _emulator_fixtures as EMU

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_integration_probe
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_integration_user
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_permission_set
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_profile_check

ESTATE = os.path.join(os.path.dirname(EMU.EXAMPLE_ESTATE), "access.yml")
MULE = "svc.mulesoft@acme.example"


@pytest.fixture(scope="module")
def access_emulator(tmp_path_factory):
    running = EMU.start_emulator(str(tmp_path_factory.mktemp("access")), ESTATE)
    yield running
    running.stop()


def _jwt_login(emulator, org, username):
    """A JWT bearer login as ``username`` through the admin-approved MuleSoft Connector."""
    suffix = ".uat" if org == "acme-uat" else ""
    with open(os.path.join(emulator.ready["state_dir"], "keys", "%s-mulesoft_connector.key" % org), "rb") as handle:
        key = handle.read()
    assertion = jwt.encode({"iss": "ACME_MULE_CLIENT" + suffix, "sub": username + suffix,
                            "aud": emulator.org(org)["audience"], "exp": int(time.time()) + 120}, key,
                           algorithm="RS256")
    return emulator.http.post(emulator.base_url + "/services/oauth2/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})


def _apex_rest(emulator, org, token):
    return emulator.http.get(emulator.org(org)["instance_url"] + "/services/apexrest/orders/1",
                             headers={"Authorization": "Bearer " + token})


def _probe_as(emulator, org, username, tmp_path):
    """sf_integration_probe as ``username`` itself: JWT through MuleSoft Connector, then its Apex REST class."""
    suffix = ".uat" if org == "acme-uat" else ""
    ready = emulator.ready
    params = dict(auth="jwt", login_url=ready["orgs"][org]["login_url"], audience=ready["orgs"][org]["audience"],
                  client_id="ACME_MULE_CLIENT" + suffix, username=username,
                  private_key_file=os.path.join(ready["state_dir"], "keys", "%s-mulesoft_connector.key" % org),
                  ca_path=ready["ca_file"], probes=[{"name": "orders", "apexrest": "orders/1"}])
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute
    spec = sf_integration_probe.SPEC
    validation = ArgumentSpecValidator(spec.full_argument_spec(), **spec.constraints).validate(params)
    assert not validation.error_messages, validation.error_messages
    return execute(spec, validation.validated_parameters)[0]


def _move(emulator, org, username, tmp_path, carry):
    check = _run(sf_profile_check.SPEC, emulator, org, tmp_path, users=[username], scans=["profile_settings"])
    assert not check.get("failed"), check.get("msg")
    sets = []
    if carry:
        gap = next(u for u in check["users"] if u["username"] == username)["access_gap"]
        made = _run(sf_permission_set.SPEC, emulator, org, tmp_path, check_mode=False, name="Mule_Carried",
                    access_from={"access_gap": gap})
        assert not made.get("failed"), made.get("msg")
        sets = ["Mule_Carried"]
    moved = _run(sf_integration_user.SPEC, emulator, org, tmp_path, check_mode=False, users=[username],
                 permission_sets=sets, conflicting_permission_sets="remove")
    assert not moved.get("failed"), moved.get("msg")
    return check


def test_profile_only_access_is_found_and_carried(access_emulator, tmp_path):
    emulator = access_emulator
    before = _jwt_login(emulator, "acme-prod", MULE)
    assert before.status_code == 200, before.text
    assert _apex_rest(emulator, "acme-prod", before.json()["access_token"]).status_code == 200

    check = _move(emulator, "acme-prod", MULE, tmp_path, carry=True)
    codes = set(f["code"] for f in check["findings"] if f["user"] == MULE)
    assert {"CONNECTED_APP_ACCESS", "SETUP_ACCESS_GAP", "RECORD_TYPE_VISIBILITY", "LOGIN_IP_RANGES_DROPPED"} <= codes
    gap = next(u for u in check["users"] if u["username"] == MULE)["access_gap"]
    assert gap["setup"] == {"ApexClass": ["OrderService"], "ConnectedApplication": ["MuleSoft Connector"],
                            "CustomPermission": ["Bypass_Account_Rules"]}

    after = _jwt_login(emulator, "acme-prod", MULE)
    assert after.status_code == 200, after.text
    assert _apex_rest(emulator, "acme-prod", after.json()["access_token"]).status_code == 200
    probe = _probe_as(emulator, "acme-prod", MULE, tmp_path)
    assert probe["passed"] and probe["results"][0]["passed"], probe


def test_moved_without_carrying_the_login_and_the_apex_call_break(access_emulator, tmp_path):
    emulator = access_emulator
    _move(emulator, "acme-uat", MULE + ".uat", tmp_path, carry=False)
    refused = _jwt_login(emulator, "acme-uat", MULE)
    assert refused.status_code == 400 and "approved" in refused.json().get("error_description", ""), refused.text
    probe = _probe_as(emulator, "acme-uat", MULE + ".uat", tmp_path)
    assert not probe["login"]["passed"] and "approved" in probe["login"]["error"], probe
