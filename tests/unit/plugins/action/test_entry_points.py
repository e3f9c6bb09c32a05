# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module file: its documentation (with its doc fragments) says what its argument spec does,
and its entry points run the one SPEC of ``impl/sf_<name>``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import os

import pytest
import yaml

PLUGINS = os.path.dirname(os.path.dirname(importlib.import_module(
    "ansible_collections.sfops.integration_users.plugins.module_utils.connection").__file__))
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(PLUGINS, "modules")) if name.startswith("sf_"))
PREFIX = "ansible_collections.sfops.integration_users.plugins"


def _documentation(name):
    with open(os.path.join(PLUGINS, "modules", name + ".py")) as stream:
        tree = ast.parse(stream.read())
    return yaml.safe_load(next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                               and node.targets[0].id == "DOCUMENTATION"))


def _fragment_options(reference):
    """Options of a doc fragment reference ``sfops.integration_users.<file>[.<attribute>]``."""
    parts = reference.split(".")[2:]
    fragment = importlib.import_module("%s.doc_fragments.%s" % (PREFIX, parts[0])).ModuleDocFragment
    text = getattr(fragment, parts[1].upper() if len(parts) > 1 else "DOCUMENTATION")
    return (yaml.safe_load(text) or {}).get("options") or {}


@pytest.mark.parametrize("name", MODULES)
def test_documented_options_are_the_argument_spec(name):
    impl = importlib.import_module("%s.module_utils.impl.%s" % (PREFIX, name))
    documentation = _documentation(name)
    options = dict(documentation.get("options") or {})
    for reference in documentation.get("extends_documentation_fragment") or ():
        options.update(_fragment_options(reference))
    spec = impl.SPEC.full_argument_spec()
    assert set(options) == set(spec), name
    for option, documented in options.items():
        declared = spec[option]
        assert documented.get("type", "str") == declared.get("type", "str"), (name, option)
        assert documented.get("default") == declared.get("default"), (name, option)
        assert documented.get("elements") == declared.get("elements"), (name, option)
        assert bool(documented.get("required")) == bool(declared.get("required")), (name, option)


@pytest.mark.parametrize("name", MODULES)
def test_module_and_action_run_the_spec_of_their_impl(name):
    impl = importlib.import_module("%s.module_utils.impl.%s" % (PREFIX, name))
    action = importlib.import_module("%s.action.%s" % (PREFIX, name))
    module = importlib.import_module("%s.modules.%s" % (PREFIX, name))
    assert action.ActionModule.SPEC is impl.SPEC and module.SPEC is impl.SPEC and impl.SPEC.name == name
