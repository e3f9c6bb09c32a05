# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection metadata stays in step with the plugins: every module has its action plugin, and the
`salesforce` action group holds exactly the modules that take the connection options."""
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import importlib
import importlib.util
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


def _matrix_tool():
    """tests/matrix/readme_table.py, loaded by path (tests/ is no package)."""
    spec = importlib.util.spec_from_file_location("readme_table", os.path.join(ROOT, "tests", "matrix", "readme_table.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_support_statement_is_the_ci_matrix():
    """README's "Tested with" block is exactly what tests/matrix/versions.txt (what .ci/run runs) gives."""
    tool = _matrix_tool()
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        block = tool.current_block(handle.read())
    assert block is not None, "README.md lacks the tested-with block"
    assert block == tool.render(tool.read_matrix()), "run tests/matrix/readme_table.py"


def test_matrix_covers_requires_ansible_without_gaps():
    """The oldest tested ansible-core is the one meta/runtime.yml allows, and no minor release is skipped."""
    rows = _matrix_tool().read_matrix()
    minors = [int(core.split(".")[1]) for core, _python, _suites in rows]
    assert minors == list(range(minors[0], minors[0] + len(minors))), minors
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        requires = yaml.safe_load(handle)["requires_ansible"]
    assert requires == ">=%s.0" % rows[0][0], requires
    for core, _python, suites in rows:
        assert {"sanity", "units"} <= set(suites), core
        with open(os.path.join(ROOT, "tests", "matrix", "core-%s.txt" % core), encoding="utf-8") as handle:
            pins = [line.strip() for line in handle if line.strip().startswith("ansible-core")]
        assert len(pins) == 1 and pins[0].endswith(",<2.%d" % (int(core.split(".")[1]) + 1)), (core, pins)
    # Integration and molecule run on the oldest and the newest at least.
    for row in (rows[0], rows[-1]):
        assert {"integration", "molecule"} <= set(row[2]), row[0]
