# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit: every value placed in SOQL by the plugins is escaped.

Every ``%`` formatting, ``str.format`` call and f-string of plugins/ whose text looks like SOQL is
found with ``ast``; each interpolated expression must go through the escaping helpers of
plugins/module_utils/soql.py, or be one of the REVIEWED expressions below (field lists and clauses
built from escaped literals, identifiers that come from Salesforce metadata). A new interpolation that
is neither fails this test until it is escaped or reviewed here.
"""

from __future__ import annotations

import ast
import os
import re

import pytest

CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(CHECKOUT, "plugins")
SOQL_TEXT = re.compile(r"\b(SELECT|FROM|WHERE)\b|\b(IN|LIKE)\s+%s|=\s*%s|\{\d?\}")
ESCAPING = ("soql_literal(", "soql_like(", "soql_like_contains(", "soql_format(")

# (file, interpolated expression) -> why it is not a value needing escape.
REVIEWED = {
    ("module_utils/impl/sf_migration_report_render.py", "shlex.quote(run)"):
        "a shell command the report prints (ansible-playbook -e ...), not SOQL: the run id is shell-quoted",
    ("module_utils/impl/sf_migration_report_render.py", "shlex.quote(doc['run_id'])"):
        "a shell command the report prints (ansible-playbook -e ...), not SOQL: the run id is shell-quoted",
    ("module_utils/soql.py", "field"): "soql_in: a field name given by the collection's own code, values escaped",
    ("module_utils/salesforce/access.py", "', '.join(selected)"): "field names, constants of access.py",
    ("module_utils/salesforce/access.py", "' OR '.join(conditions)"): "clauses each built with soql_in",
    ("module_utils/salesforce/access.py", "', '.join((_PERMISSION_PREFIX + r for r in OBJECT_RIGHTS))"):
        "field-name constants",
    ("module_utils/salesforce/access.py", "', '.join((_PERMISSION_PREFIX + r for r in FIELD_RIGHTS))"):
        "field-name constants",
    ("module_utils/salesforce/access.py", "where"): "clauses each built with soql_in",
    ("module_utils/salesforce/access.py", "field"): "name field of a SETUP_ENTITY_NAMES constant",
    ("module_utils/salesforce/access.py", "fields"): "Id, the SETUP_ENTITY_NAMES name field and _SETUP_ENTITY_EXTRA_FIELDS constants",
    ("module_utils/salesforce/access.py", "entity_type"): "object name of a SETUP_ENTITY_NAMES constant",
    ("module_utils/salesforce/licenses.py", "PROFILE_FIELDS"): "field-name constant",
    ("module_utils/salesforce/licenses.py", "' OR '.join(clauses)"): "clauses each built with soql_literal/soql_in",
    ("module_utils/salesforce/users.py", "', '.join(USER_FIELDS)"): "field-name constant",
    ("module_utils/salesforce/users.py", "_ASSIGNMENTS_SUBQUERY"): "constant subquery",
    ("module_utils/salesforce/users.py", "_PSL_SUBQUERY"): "constant subquery",
    ("module_utils/salesforce/users.py", "' WHERE ' + where if where else ''"):
        "_user_where: clauses built with soql_literal",
    ("module_utils/salesforce/users.py", "user_where"): "clauses each built with soql_literal",
    ("module_utils/salesforce/users.py", "' AND '.join(where)"): "clauses each built with soql_literal",
    ("module_utils/salesforce/users.py", "_AGGREGATE_ROW_LIMIT"): "integer constant",
    ("module_utils/salesforce/api_usage.py", "EVENT_TYPE"): "string constant ('ApiTotalUsage')",
    ("module_utils/salesforce/api_usage.py", "days"): "int() of lookback_days",
    ("module_utils/salesforce/api_usage.py", "FILES_READ"): "integer constant",
    ("module_utils/salesforce/observed_access.py", "sobject"):
        "an object name matched against _OBJECT_NAME (letters, digits, underscores) before it is used",
    ("module_utils/salesforce/observed_access.py", "int(days)"): "an integer",
    ("module_utils/impl/sf_permission_set.py", "object_fields"): "field-name constants",
    ("module_utils/impl/sf_permission_set.py", "field_fields"): "field-name constants",
    ("module_utils/impl/sf_permission_set.py", "parent"): "semi-join around _set_filter (soql_literal)",
    ("module_utils/impl/sf_permission_set.py", "_set_filter(name)"): "_set_filter quotes name with soql_literal",
    ("module_utils/impl/sf_permission_set.py", "', '.join(_SET_FIELDS)"): "field-name constant",
    ("module_utils/impl/sf_permission_set.py", "children"): "child queries: constant text only",
    ("module_utils/impl/sf_permission_set.py", "where"): "_set_filter (soql_literal) and soql_literal(profile_name)",
    ("module_utils/impl/sf_integration_user.py", "' OR '.join(clauses)"): "clauses each built with soql_in",
    ("module_utils/impl/sf_migration_plan_plans.py", "name"):
        "sObject API name from Salesforce's ObjectPermissions (an identifier, in a signed plan)",
    ("module_utils/impl/sf_profile_check.py", "name"): "custom setting API name from Salesforce's global describe",
    # Not SOQL: messages whose text merely looks like a comparison.
    ("module_utils/run_files.py", "self.key_id"): "repr of a signing key (no query)",
    ("module_utils/impl/sf_migration_plan_signed.py", "params['operation']"): "error message (no query)",
}


def _sources():
    for directory, _dirs, files in os.walk(PLUGINS):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                yield os.path.relpath(path, PLUGINS), path


def _template_and_args(node):
    """(template text, [argument expressions]) of a formatting node, or None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
            and isinstance(node.left.value, str):
        args = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        return node.left.value, args
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
            and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
        return node.func.value.value, list(node.args) + [k.value for k in node.keywords]
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return text, [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    return None


def soql_interpolations():
    """[(file, line, template, expression)] of every interpolation into SOQL-looking text."""
    found = []
    for relative, path in _sources():
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            shaped = _template_and_args(node)
            if not shaped or not SOQL_TEXT.search(shaped[0]) or "SELECT" not in shaped[0] + "".join(
                    ast.unparse(a) for a in shaped[1]) and not re.search(r"\b(IN|LIKE|=)\s*(%s|\{)", shaped[0]):
                continue
            for arg in shaped[1]:
                found.append((relative, node.lineno, shaped[0], ast.unparse(arg)))
    return found


def test_the_audit_finds_the_known_query_builders():
    sites = soql_interpolations()
    files = set(site[0] for site in sites)
    assert {"module_utils/salesforce/users.py", "module_utils/impl/sf_integration_user.py",
            "module_utils/impl/sf_permission_set.py"} <= files
    # A reviewed expression that no longer exists is removed from REVIEWED, so the list stays an audit.
    assert not set(REVIEWED) - set((site[0], site[3]) for site in sites)


@pytest.mark.parametrize("site", soql_interpolations(), ids=lambda s: "%s:%d" % (s[0], s[1]))
def test_every_soql_interpolation_is_escaped_or_reviewed(site):
    relative, line, template, expression = site
    if any(helper in expression for helper in ESCAPING):
        return
    assert (relative, expression) in REVIEWED, (
        "%s:%d puts %r into SOQL %r without soql_literal/soql_format/soql_like: escape it, or review it in "
        "REVIEWED if it is not a value" % (relative, line, expression, template[:80]))
