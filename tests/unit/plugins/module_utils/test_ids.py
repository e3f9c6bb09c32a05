# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
from __future__ import annotations

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import id_set, is_id, same_id, to18

# A real-looking pair: the suffix encodes the uppercase positions of the 15-character form.
ID15 = "0055g00000AbCdE"


def test_to18_adds_case_safe_suffix():
    full = to18(ID15)
    assert len(full) == 18 and full.startswith(ID15)
    # Chunks: "0055g" no capitals -> A; "00000" -> A; "AbCdE" capitals at 0, 2, 4 -> bits 10101 = 21 -> V
    assert full[15:] == "AAV"


def test_to18_repairs_wrong_suffix_and_keeps_other_values():
    assert to18(ID15 + "zzz") == to18(ID15)
    assert to18("not an id") == "not an id"
    assert to18(None) is None


def test_same_id_across_forms_but_case_sensitive_in_15():
    assert same_id(ID15, to18(ID15))
    assert same_id(to18(ID15), ID15)
    assert not same_id(ID15, ID15.lower())
    assert not same_id(None, None)
    assert not same_id(ID15, None)


def test_is_id():
    assert is_id(ID15)
    assert is_id(to18(ID15))
    assert not is_id(ID15 + "ZZZ")
    assert not is_id("short")
    assert not is_id(12345)
    assert not is_id("0055g00000AbCd-")


def test_id_set_normalises():
    assert id_set([ID15, to18(ID15), None, ""]) == {to18(ID15)}
