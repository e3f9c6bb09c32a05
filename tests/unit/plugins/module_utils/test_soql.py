# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

import datetime

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.soql import (
    soql_format,
    soql_like,
    soql_like_contains,
    soql_literal,
)


@pytest.mark.parametrize("value, expected", [
    ("plain", "'plain'"),
    ("o'brien@example.com", "'o\\'brien@example.com'"),
    ("back\\slash", "'back\\\\slash'"),
    ("line\nbreak\ttab", "'line\\nbreak\\ttab'"),
    ('say "hi"', "'say \\\"hi\\\"'"),
    (None, "null"),
    (True, "true"),
    (False, "false"),
    (42, "42"),
    (1.5, "1.5"),
    (datetime.date(2023, 3, 14), "2023-03-14"),
    (datetime.datetime(2023, 3, 14, 10, 0, 0), "2023-03-14T10:00:00Z"),
    (datetime.datetime(2023, 3, 14, 11, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
     "2023-03-14T10:00:00Z"),
    (["a", "b'c"], "('a', 'b\\'c')"),
    ({"b", "a"}, "('a', 'b')"),
])
def test_literal(value, expected):
    assert soql_literal(value) == expected


def test_injection_stays_inside_the_string():
    evil = "x' OR Name != '"
    statement = soql_format("SELECT Id FROM User WHERE Username = {0}", evil)
    # The quote of the payload is escaped, so the statement still has exactly one string literal.
    assert statement == "SELECT Id FROM User WHERE Username = 'x\\' OR Name != \\''"


def test_empty_in_list_and_unknown_types_are_refused():
    with pytest.raises(ValueError):
        soql_literal([])
    with pytest.raises(TypeError):
        soql_literal(object())


def test_like_escapes_wildcards():
    assert soql_like("100%_done") == "'100\\%\\_done'"
    assert soql_like_contains("API Only") == "'%API Only%'"
    assert soql_like_contains("API", "Only") == "'%API%Only%'"
    assert soql_like_contains("a_b", "50%") == "'%a\\_b%50\\%%'"


def test_format_keywords():
    assert soql_format("A = {a} AND B IN {b}", a=True, b=("x",)) == "A = true AND B IN ('x')"
