# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule of where code lives (docs/developers.md), checked on the import graph."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib
import os

import pytest

PACKAGE = "ansible_collections.sfops.integration_users.plugins"
PLUGINS = os.path.dirname(os.path.dirname(importlib.import_module(PACKAGE + ".module_utils.runner").__file__))


def _python_files(*parts):
    top = os.path.join(PLUGINS, *parts)
    for folder, _dirs, files in os.walk(top):
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(folder, name), PLUGINS)


def _imports(path):
    with open(os.path.join(PLUGINS, path)) as stream:
        tree = ast.parse(stream.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            found.add(node.module[len(PACKAGE) + 1:])
            found.update("%s.%s" % (node.module[len(PACKAGE) + 1:], alias.name) for alias in node.names)
    return found


def _kind(path):
    parts = path.split(os.sep)
    if parts[0] != "module_utils":
        return parts[0]
    if len(parts) > 2 and parts[1] == "salesforce" or len(parts) > 2 and parts[1] == "impl" and parts[2] != "__init__.py":
        return parts[1]
    return "infrastructure"


def _impl_home(path):
    """``sf_<name>`` of a file under module_utils/impl/: ``sf_<name>.py`` itself, or a helper
    ``sf_<name>_<part>.py`` of it (the longest module name the file name starts with)."""
    stem = os.path.splitext(os.path.basename(path))[0]
    modules = sorted(os.path.splitext(name)[0] for name in os.listdir(os.path.join(PLUGINS, "modules"))
                     if name.startswith("sf_"))
    found = [module for module in modules if stem == module or stem.startswith(module + "_")]
    assert found, "%s is named after no module (impl/sf_<name>.py or impl/sf_<name>_<part>.py)" % path
    return max(found, key=len)


@pytest.mark.parametrize("path", list(_python_files("module_utils")))
def test_each_layer_imports_only_what_the_rule_allows(path):
    kind = _kind(path)
    for target in _imports(path):
        if kind == "infrastructure":
            assert not target.startswith(("module_utils.salesforce", "module_utils.impl")), (path, target)
        elif kind == "salesforce":
            assert not target.startswith("module_utils.impl"), (path, target)
        elif kind == "impl" and target.startswith("module_utils.impl."):
            assert _impl_home(os.path.join("module_utils", "impl", target.split(".")[2] + ".py")) == _impl_home(path), (
                "%s imports another module's home %s" % (path, target))


def test_a_module_spec_is_declared_only_in_its_impl_home():
    declaring = sorted(path for path in _python_files() if "SPEC = ModuleSpec(" in open(os.path.join(PLUGINS, path)).read())
    assert declaring and all(path.startswith(os.path.join("module_utils", "impl", "sf_")) for path in declaring), declaring


@pytest.mark.parametrize("path", list(_python_files("modules")) + list(_python_files("action")))
def test_entry_points_import_their_spec_from_impl(path):
    name = os.path.splitext(os.path.basename(path))[0]
    assert "module_utils.impl.%s.SPEC" % name in _imports(path), path
