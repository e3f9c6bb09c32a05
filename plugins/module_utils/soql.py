# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where values become SOQL literals.

Every value placed into a SOQL statement goes through :func:`soql_literal` (or :func:`soql_format`),
so a username such as ``o'brien@example.com`` cannot break out of its string.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

# Escape sequences SOQL accepts inside single-quoted strings.
_STRING_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _escape(text):
    return "".join(_STRING_ESCAPES.get(char, char) for char in text)


def soql_literal(value):
    """A SOQL literal for ``value``.

    str -> quoted and escaped; bool -> true/false; None -> null; int/float -> as is;
    datetime -> ``2023-03-14T10:00:00Z`` (UTC when naive is assumed), date -> ``2023-03-14``;
    list/tuple/set/frozenset -> ``('a', 'b')`` for ``IN`` (an empty collection is refused, SOQL
    has no empty list).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        if not items:
            raise ValueError("SOQL IN needs at least one value")
        return "(" + ", ".join(soql_literal(item) for item in items) + ")"
    if isinstance(value, str):
        return "'" + _escape(value) + "'"
    raise TypeError("no SOQL literal for %r" % type(value).__name__)


def soql_like(text):
    """A quoted LIKE pattern matching ``text`` literally (``%`` and ``_`` escaped); add wildcards
    around it yourself: ``"Name LIKE " + soql_like_contains("API Only")``."""
    return "'" + _escape(text).replace("%", "\\%").replace("_", "\\_") + "'"


def soql_like_contains(*words):
    """A quoted LIKE pattern matching any value containing ``words`` in this order, with anything
    between them: ``soql_like_contains("API", "Only")`` matches "API Only", "API-Only", "API_Only"."""
    return "'%" + "%".join(soql_like(word)[1:-1] for word in words) + "%'"


def soql_format(template, *args, **kwargs):
    """``str.format`` where every argument becomes a SOQL literal.

    ``soql_format("SELECT Id FROM User WHERE Username = {0} AND IsActive = {active}", name, active=True)``
    """
    return template.format(*[soql_literal(a) for a in args],
                           **dict((k, soql_literal(v)) for k, v in kwargs.items()))


def soql_in(field, values):
    """``["<field> IN (...)"]`` for the distinct ``values`` (sorted, so a query is the same whatever
    their order), or ``[]`` when there are none: a condition to join with others by OR or AND."""
    return ["%s IN %s" % (field, soql_literal(sorted(set(values))))] if values else []
