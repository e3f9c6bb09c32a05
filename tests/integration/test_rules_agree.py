# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checker and the writer agree: for every user of the example and demo estates, what
sf_profile_check says about a move is what sf_integration_user does (in check mode).

Both apply ``salesforce/rules.py``; this test would catch a module growing its own copy of a rule.
Compared are the rules the writer enforces (target profile, license fit, seats, running user, UI
logins, unknown user): the checker's code scans are the plan's business, not the writer's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

from collections_root import ensure_collections_root  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, ensure_collections_root())

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_integration_user  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_profile_check  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_user_info  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import execute  # noqa: E402
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import rules  # noqa: E402

from test_sf_permission_set_harness import _emulator_fixtures as EMU  # noqa: E402

ESTATES = {"example": EMU.EXAMPLE_ESTATE,
           "demo": os.path.join(os.path.dirname(EMU.EXAMPLE_ESTATE), "demo.yml")}
# What the writer refuses by: the shared rules, and a user that does not exist.
WRITER_CODES = frozenset(rules.REMEDIATION) | {"USER_NOT_FOUND"}
CONFLICT = "PERMISSION_SET_LICENSE_CONFLICT"


@pytest.fixture(scope="module", params=sorted(ESTATES))
def estate(request, tmp_path_factory):
    running = EMU.start_emulator(str(tmp_path_factory.mktemp("agree-" + request.param)), ESTATES[request.param])
    yield request.param, running
    running.stop()


def _run(spec, emulator, org, tmp_path, check_mode=True, **args):
    ready = emulator.ready
    connection = ready["orgs"][org]
    params = dict(auth="client_credentials", login_url=connection["login_url"],
                  client_id=connection["admin"]["client_id"], client_secret=connection["admin"]["client_secret"],
                  ca_path=ready["ca_file"], **args)
    if "backup_dir" in spec.argument_spec:
        params["backup_dir"] = str(tmp_path / "backups")
    validation = ArgumentSpecValidator(spec.full_argument_spec(), **spec.constraints).validate(params)
    assert not validation.error_messages, validation.error_messages
    return execute(spec, validation.validated_parameters, check_mode=check_mode)[0]


def _checker_refuses(check, username, ignore=()):
    """The writer-relevant blockers the checker reports for one user checked alone."""
    return sorted(set(f["code"] for f in check["findings"]
                      if f["severity"] == "blocker" and f["code"] in WRITER_CODES and f["code"] not in ignore
                      and (f["user"] is None or f["user"].lower() == username.lower())))


def test_checker_and_writer_agree_on_every_user(estate, tmp_path):
    name, emulator = estate
    compared = []
    for org in sorted(emulator.ready["orgs"]):
        listing = _run(sf_user_info.SPEC, emulator, org, tmp_path, include_inactive=True)
        assert not listing.get("failed"), listing.get("msg")
        standard = _run(sf_profile_check.SPEC, emulator, org, tmp_path, users=[], scans=[])["target_profile"]
        for user in listing["users"]:
            username = user["username"]
            check = _run(sf_profile_check.SPEC, emulator, org, tmp_path, users=[username], scans=[])
            assert not check.get("failed"), check.get("msg")
            for conflicting, ignore in (("fail", ()), ("remove", (CONFLICT,))):
                refused = _checker_refuses(check, username, ignore)
                moved = _run(sf_integration_user.SPEC, emulator, org, tmp_path, users=[username],
                             conflicting_permission_sets=conflicting)
                assert bool(moved.get("failed")) == bool(refused), (
                    "%s/%s %s (conflicting_permission_sets=%s): checker says %s, writer says %s"
                    % (name, org, username, conflicting, refused or "movable", moved.get("msg") or "movable"))
                compared.append((org, username, conflicting, tuple(refused)))
            if standard:
                # The writer takes the target profile by Id as the checker does.
                by_id = _run(sf_integration_user.SPEC, emulator, org, tmp_path, users=[username],
                             conflicting_permission_sets="remove", target_profile=standard["id"])
                assert bool(by_id.get("failed")) == bool(_checker_refuses(check, username, (CONFLICT,))), (
                    org, username, by_id.get("msg"))
    # Both verdicts occur, or the comparison proves little.
    assert any(refused for _o, _u, _c, refused in compared), compared
    assert any(not refused for _o, _u, _c, refused in compared), compared


def test_a_profile_id_as_target_profile_migrates(estate, tmp_path):
    name, emulator = estate
    if name != "example":
        pytest.skip("one estate is enough to move a user for real")
    emulator.reset()
    try:
        check = _run(sf_profile_check.SPEC, emulator, "acme-prod", tmp_path, users=["svc.mulesoft@acme.example"],
                     scans=[])
        target = check["target_profile"]
        moved = _run(sf_integration_user.SPEC, emulator, "acme-prod", tmp_path, check_mode=False,
                     users=["svc.mulesoft@acme.example"], conflicting_permission_sets="remove",
                     target_profile=target["id"][:15])
        assert not moved.get("failed"), moved.get("msg")
        assert moved["changed"] and moved["users"][0]["after"]["profile"]["id"] == target["id"]
    finally:
        emulator.reset()
