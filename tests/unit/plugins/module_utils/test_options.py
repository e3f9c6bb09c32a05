# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared options: declared once, documented once, the same in every module that takes them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.sfops.integration_users.plugins.doc_fragments.users import ModuleDocFragment
from ansible_collections.sfops.integration_users.plugins.module_utils import options
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ConfigurationError
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import (
    sf_integration_probe, sf_integration_user, sf_license_info, sf_migration_plan, sf_migration_report,
    sf_permission_set, sf_profile_check, sf_query, sf_user_info)

FRAGMENTS = {"users": "DOCUMENTATION", "lookback_days": "LOOKBACK", "include_inactive": "INACTIVE",
             "target_profile": "TARGET_PROFILE"}
MODULES = (sf_integration_probe, sf_integration_user, sf_license_info, sf_migration_plan, sf_migration_report,
           sf_permission_set, sf_profile_check, sf_query, sf_user_info)
# Names that meant "the users to act on", "the login window" or "inactive too" before there was one vocabulary.
RETIRED = ("user", "usernames", "only_users", "login_days", "active_only")


@pytest.mark.parametrize("name", sorted(options.SHARED_OPTIONS))
def test_each_shared_option_is_documented_once_as_declared(name):
    documented = yaml.safe_load(getattr(ModuleDocFragment, FRAGMENTS[name]))["options"]
    assert list(documented) == [name]
    declared = options.SHARED_OPTIONS[name]
    assert documented[name]["type"] == declared["type"]
    assert documented[name].get("default") == declared.get("default")
    assert documented[name].get("elements") == declared.get("elements")


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.SPEC.name)
def test_modules_take_the_shared_declaration_and_no_retired_name(module):
    spec = module.SPEC.argument_spec
    for name, declared in options.SHARED_OPTIONS.items():
        if name in spec:
            assert spec[name] == declared, (module.SPEC.name, name)
    assert not set(RETIRED) & set(spec), module.SPEC.name


@pytest.mark.parametrize("value", [0, -3, None])
def test_lookback_days_below_one_is_one_configuration_error(value):
    with pytest.raises(ConfigurationError, match="lookback_days must be at least 1"):
        options.checked_lookback_days({"lookback_days": value})
    assert options.checked_lookback_days({"lookback_days": 1}) == 1


def test_requested_users_keep_their_order_once_each():
    assert options.requested_users({"users": ["B@x", "a@x", "b@X"]}) == ["B@x", "a@x"]
    assert options.requested_users({"users": None}) == []
