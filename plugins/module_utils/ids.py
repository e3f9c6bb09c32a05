# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Salesforce record Ids: 15-character (case-sensitive) and 18-character (case-safe) forms.

Users paste 15-character Ids from the UI while the API answers with 18: compare through these
helpers, never with ``==`` on raw strings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _suffix(id15):
    # Each of the three 5-character chunks becomes one character: bit i set when char i is uppercase.
    out = []
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[start:start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def is_id(value):
    """True for a well-formed 15-character Id or an 18-character Id with a correct suffix."""
    if not isinstance(value, str) or not value.isalnum() or not value.isascii():
        return False
    if len(value) == 15:
        return True
    return len(value) == 18 and value[15:] == _suffix(value[:15])


def to18(value):
    """The 18-character form of a 15- or 18-character Id; any other value is returned unchanged."""
    if isinstance(value, str) and value.isalnum() and value.isascii() and len(value) in (15, 18):
        return value[:15] + _suffix(value[:15])
    return value


def same_id(left, right):
    """Ids equal in any mix of 15/18-character forms; None never equals anything."""
    if left is None or right is None:
        return False
    return to18(left) == to18(right)


def id_set(values):
    """Set of 18-character Ids, for membership tests across 15/18 forms."""
    return set(to18(v) for v in values if v)
