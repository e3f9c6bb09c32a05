# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection metadata stays in step with the plugins: every module has its action plugin, and the
`salesforce` action group holds exactly the modules that take the connection options."""
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import importlib
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = "ansible_collections.sfops.integration_users.plugins"


def module_names():
    return sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                  if name.endswith(".py") and not name.startswith("_"))


def test_every_module_has_an_action_plugin_with_a_spec():
    for name in module_names():
        action = importlib.import_module("%s.action.%s" % (PACKAGE, name)).ActionModule
        assert action.SPEC is not None and action.SPEC.name == name, name


def test_action_group_holds_exactly_the_connecting_modules():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    group = set(runtime["action_groups"]["salesforce"])
    connecting = set(name for name in module_names()
                     if importlib.import_module("%s.action.%s" % (PACKAGE, name)).ActionModule.SPEC.connects)
    # sf_integration_probe connects, but as the migrated user: never through the operator's group defaults.
    assert group == connecting - {"sf_integration_probe"}


def test_galaxy_metadata():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    assert (galaxy["namespace"], galaxy["name"]) == ("sfops", "integration_users")
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    assert {"tests/emulator", "benchmarks"} <= set(galaxy["build_ignore"])


def test_build_leaves_out_what_is_not_collection_content():
    """The build reads the directory, not git: local folders such as the CI virtualenv would be packed."""
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        ignored = set(yaml.safe_load(handle)["build_ignore"])
    assert {".venv", "tests/output", "tests/emulator", "benchmarks", ".ci", "Makefile"} <= ignored
