"""sf_permission_set's option contract: the argument spec validates as the documentation says."""

from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import ast
import os

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_permission_set as P

MODULE_FILE = os.path.join(os.path.dirname(P.__file__), "..", "..", "modules", "sf_permission_set.py")


def validate(**args):
    return ArgumentSpecValidator(P.SPEC.full_argument_spec(), **P.SPEC.constraints).validate(args)


def test_defaults():
    params = validate(name="X").validated_parameters
    assert params["license"] == "Salesforce API Integration"
    assert params["state"] == "present" and params["purge"] is False
    assert params["backup_dir"].endswith("sfops_backups") and not params["backup_dir"].startswith("~")


def test_name_required_and_state_choices():
    assert "name" in validate().errors.msg
    assert "state" in validate(name="X", state="gone").errors.msg


def test_access_from_needs_exactly_one_source():
    assert validate(name="X", access_from={}).error_messages
    both = validate(name="X", access_from={"profile": "P", "access_gap": {"objects": {}}})
    assert "mutually exclusive" in both.errors.msg
    assert not validate(name="X", access_from={"profile": "P"}).error_messages


def test_documented_options_match_the_argument_spec():
    with open(MODULE_FILE) as stream:
        tree = ast.parse(stream.read())
    documentation = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                         and node.targets[0].id == "DOCUMENTATION")
    options = yaml.safe_load(documentation)["options"]
    assert set(options) == set(P.ARGUMENT_SPEC)
    for name, option in options.items():
        spec = P.ARGUMENT_SPEC[name]
        assert option.get("type", "str") == spec.get("type", "str"), name
        assert option.get("default") == spec.get("default"), name
    assert set(options["access_from"]["suboptions"]) == set(P.ARGUMENT_SPEC["access_from"]["options"])


def test_action_plugin_runs_the_same_spec():
    from ansible_collections.sfops.integration_users.plugins.action.sf_permission_set import ActionModule
    assert ActionModule.SPEC is P.SPEC and P.SPEC.supports_check_mode
