# -*- coding: utf-8 -*-
"""Reference scanner: names in strings and comments, Ids of both lengths, profile tests, joins."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18
from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_profile_check_scanner import (
    find_identifiers, find_references, scan_metadata)

NAME = "Integration Admin"
ID15 = "00e5g00000AbCdE"
ID18 = to18(ID15)


def kinds(references):
    return [(r["kind"], r["target"], r["line"], r["in_comment"]) for r in references]


def test_name_inside_apex_string_with_line_and_column():
    source = "public class A {\n    Boolean b = p.Name == 'Integration Admin';\n}\n"
    refs = find_references(source, profile_names=[NAME])
    assert kinds(refs) == [("profile_name", NAME, 2, False)]
    assert refs[0]["column"] == source.splitlines()[1].index("Integration") + 1
    assert refs[0]["match"] == "Integration Admin"
    assert refs[0]["in_string"] is True


def test_name_match_is_case_insensitive_and_keeps_given_spelling():
    refs = find_references("String s = 'INTEGRATION admin';", profile_names=[NAME])
    assert kinds(refs) == [("profile_name", NAME, 1, False)]
    assert refs[0]["match"] == "INTEGRATION admin"


def test_name_needs_word_boundaries():
    source = "String s = 'Integration Administrators';\nString t = 'XIntegration Admin';"
    assert find_references(source, profile_names=[NAME]) == []


def test_name_inside_longer_string_such_as_dynamic_soql():
    source = "Database.query('SELECT Id FROM User WHERE Profile.Name = \\'Integration Admin\\'');"
    refs = find_references(source, profile_names=[NAME])
    assert ("profile_name", NAME, 1, False) in kinds(refs)
    # The SOQL text inside the string also tests a profile name.
    assert ("profile_check", "Profile.Name", 1, False) in kinds(refs)


def test_identifier_with_profile_word_in_code_is_not_a_name_reference():
    # A one-word profile name must not match every variable called like it.
    source = "Integer Integration = 1; String s = 'other';"
    assert find_references(source, profile_names=["Integration"]) == []


def test_line_comment_reference_is_flagged_as_comment():
    source = "Integer a = 1;\n// skip for Integration Admin users\nInteger b = 2;"
    refs = find_references(source, profile_names=[NAME])
    assert kinds(refs) == [("profile_name", NAME, 2, True)]
    assert refs[0]["in_string"] is False


def test_block_comment_spanning_lines_reports_the_line_of_the_match():
    source = "/*\n * history:\n * was checking 'Integration Admin'\n */\nString s = 'Integration Admin';"
    refs = find_references(source, profile_names=[NAME])
    assert kinds(refs) == [("profile_name", NAME, 3, True), ("profile_name", NAME, 5, False)]


def test_quote_inside_comment_does_not_open_a_string():
    source = "// don't panic\nString s = 'Integration Admin'; // it's fine"
    refs = find_references(source, profile_names=[NAME])
    assert kinds(refs) == [("profile_name", NAME, 2, False)]


def test_comment_markers_inside_string_do_not_open_a_comment():
    source = "String url = 'http://x/*'; String s = 'Integration Admin';"
    refs = find_references(source, profile_names=[NAME])
    assert kinds(refs) == [("profile_name", NAME, 1, False)]


def test_escaped_quote_keeps_the_string_open():
    source = "String s = 'it\\'s the Integration Admin';"
    refs = find_references(source, profile_names=[NAME])
    assert kinds(refs) == [("profile_name", NAME, 1, False)]


def test_unterminated_apex_string_stops_at_end_of_line():
    source = "String s = 'broken;\n// Integration Admin\n"
    refs = find_references(source, profile_names=[NAME])
    assert kinds(refs) == [("profile_name", NAME, 2, True)]


@pytest.mark.parametrize("needle", [ID15, ID18])
@pytest.mark.parametrize("written", [ID15, ID18, ID18.lower()])
def test_ids_match_in_either_form(needle, written):
    source = "Id p = '%s';" % written
    refs = find_references(source, profile_ids=[needle])
    assert kinds(refs) == [("profile_id", ID18, 1, False)]
    assert refs[0]["match"] == written


def test_15_character_id_is_case_sensitive():
    assert find_references("Id p = '%s';" % ID15.lower(), profile_ids=[ID18]) == []


def test_id_inside_longer_token_is_not_a_match():
    assert find_references("String s = 'x%sx';" % ID15, profile_ids=[ID15]) == []
    assert find_references("String s = '%sAAAB';" % ID15, profile_ids=[ID15]) == []


def test_id_in_code_and_comment():
    source = "// old id %s\nif (UserInfo.getProfileId() == '%s') {}" % (ID15, ID18)
    refs = find_references(source, profile_ids=[ID15])
    assert kinds(refs) == [
        ("profile_id", ID18, 1, True),
        ("profile_check", "UserInfo.getProfileId()", 2, False),
        ("profile_id", ID18, 2, False),
    ]


def test_malformed_ids_are_ignored():
    assert find_references("'00e5g00000AbCdEZZZ'", profile_ids=["00e5g00000AbCdEZZZ", "nope"]) == []


def test_apex_is_case_insensitive_for_get_profile_id():
    source = "Id me = userinfo.GETPROFILEID( );"
    refs = find_references(source)
    assert kinds(refs) == [("profile_check", "UserInfo.getProfileId()", 1, False)]


def test_soql_in_apex_on_profile_name():
    source = "List<User> u = [SELECT Id FROM User\n  WHERE Profile.Name = :name];\n" \
             "Profile p = [select id from profile where name = :n];"
    refs = find_references(source)
    assert kinds(refs) == [("profile_check", "Profile.Name", 2, False),
                           ("profile_check", "FROM Profile", 3, False)]


def test_relationship_path_to_profile_name_counts():
    refs = find_references("[SELECT Owner.Profile.Name FROM Account]")
    assert kinds(refs) == [("profile_check", "Profile.Name", 1, False)]


def test_formula_profile_merge_fields():
    source = 'AND(\n  $Profile.Name <> "Integration Admin",\n  $profile.id = "%s"\n)' % ID15
    refs = find_references(source, profile_names=[NAME], profile_ids=[ID15], language="formula")
    assert kinds(refs) == [
        ("profile_check", "$Profile.Name", 2, False),
        ("profile_name", NAME, 2, False),
        ("profile_check", "$Profile.Id", 3, False),
        ("profile_id", ID18, 3, False),
    ]


def test_formula_profile_name_is_not_double_reported_as_soql_field():
    refs = find_references("$Profile.Name", language="formula")
    assert kinds(refs) == [("profile_check", "$Profile.Name", 1, False)]


def test_formula_comment_and_single_quoted_string():
    source = "/* bypass for 'Integration Admin' */ ISPICKVAL(x, 'Integration Admin')"
    refs = find_references(source, profile_names=[NAME], language="formula")
    assert kinds(refs) == [("profile_name", NAME, 1, True), ("profile_name", NAME, 1, False)]


def test_formula_has_no_line_comments():
    # "//" is division-by-nothing in a formula, not a comment: the string after it is live.
    refs = find_references('1 // "Integration Admin"', profile_names=[NAME], language="formula")
    assert kinds(refs) == [("profile_name", NAME, 1, False)]


def test_apex_concatenation_is_a_possible_reference():
    source = "String n = 'Integration ' +\n    'Admin';"
    refs = find_references(source, profile_names=[NAME])
    assert kinds(refs) == [("possible_concatenation", NAME, 1, False)]


def test_formula_concatenation_with_ampersand():
    source = '$Profile.Name = "Integration " & "Admin"'
    refs = find_references(source, profile_names=[NAME], language="formula")
    assert ("possible_concatenation", NAME, 1, False) in kinds(refs)


def test_concatenation_through_a_comment_is_still_joined():
    source = "String n = 'Integr' + /* split */ 'ation Admin';"
    assert kinds(find_references(source, profile_names=[NAME])) == [
        ("possible_concatenation", NAME, 1, False)]


def test_concatenation_with_variable_between_is_not_joined():
    source = "String n = 'Integration ' + x + 'Admin';"
    assert find_references(source, profile_names=[NAME]) == []


def test_concatenation_containing_a_whole_name_is_reported_once_as_a_name():
    source = "String n = 'Integration Admin' + ' users';"
    assert kinds(find_references(source, profile_names=[NAME])) == [("profile_name", NAME, 1, False)]


def test_apex_has_no_ampersand_join():
    source = "String n = 'Integration ' & 'Admin';"
    assert find_references(source, profile_names=[NAME]) == []


def test_extra_strings_in_comments_strings_and_code():
    source = "// legacy bypass\nif (Bypass__c.getInstance().Skip__c) {} String s = 'SKIP_ALL';"
    refs = find_references(source, extra_strings=["skip_all", "legacy bypass", "bypass__c"])
    assert kinds(refs) == [("extra_string", "legacy bypass", 1, True), ("extra_string", "bypass__c", 2, False),
                           ("extra_string", "skip_all", 2, False)]
    assert [r["in_string"] for r in refs] == [False, False, True]


def test_several_names_sorted_by_position_and_deduplicated():
    source = "String a = 'API Only'; String b = 'Integration Admin';"
    refs = find_references(source, profile_names=[NAME, "API Only", "integration admin"])
    assert [r["target"] for r in refs] == ["API Only", NAME]


def test_results_are_stable():
    source = "'Integration Admin' // Integration Admin\n$Profile.Name"
    first = find_references(source, profile_names=[NAME], profile_ids=[ID15])
    assert first == find_references(source, profile_names=[NAME], profile_ids=[ID15])


def test_empty_and_unknown_language():
    assert find_references("", profile_names=[NAME]) == []
    assert find_references(None, profile_names=[NAME]) == []
    with pytest.raises(ValueError):
        find_references("x", language="cobol")


def test_text_language_treats_everything_as_string():
    refs = find_references("Integration Admin", profile_names=[NAME], language="text")
    assert kinds(refs) == [("profile_name", NAME, 1, False)]


def test_scan_metadata_walks_flow_metadata_with_paths():
    metadata = {
        "label": "Route cases",
        "decisions": [{
            "name": "Is_Integration",
            "rules": [{"conditions": [{
                "leftValueReference": "$Profile.Name",
                "operator": "EqualTo",
                "rightValue": {"stringValue": "integration admin"},
            }]}],
        }],
        "formulas": [{"name": "f", "expression": "{!$Profile.Id} = '%s'" % ID18}],
    }
    refs = scan_metadata(metadata, profile_names=[NAME], profile_ids=[ID15])
    assert [(r["kind"], r["path"], r["line"]) for r in refs] == [
        ("profile_check", "decisions[0].rules[0].conditions[0].leftValueReference", None),
        ("profile_name", "decisions[0].rules[0].conditions[0].rightValue.stringValue", None),
        ("profile_check", "formulas[0].expression", None),
        ("profile_id", "formulas[0].expression", None),
    ]


def test_scan_metadata_of_nothing():
    assert scan_metadata(None, profile_names=[NAME]) == []
    assert scan_metadata({"active": True, "n": 3}, profile_names=[NAME]) == []


def test_identifiers_only_in_live_code():
    source = ("trigger T on Account (before insert) {\n"
              "  // AccountTriggerHandler.bypass() was here\n"
              "  String s = 'AccountTriggerHandler';\n"
              "  if (accounttriggerhandler.bypass()) return;\n"
              "  MyAccountTriggerHandlerX.run();\n}")
    refs = find_identifiers(source, ["AccountTriggerHandler"])
    assert [(r["kind"], r["target"], r["line"], r["match"]) for r in refs] == [
        ("identifier", "AccountTriggerHandler", 4, "accounttriggerhandler")]
    assert find_identifiers(source, []) == [] and find_identifiers("", ["X"]) == []


def test_scan_metadata_reads_formula_keys_as_formulas():
    metadata = {"formulas": [{"expression": "/* was 'Integration Admin' */ $Profile.Name = 'Ops'"}],
                "label": "Integration Admin routing"}
    refs = scan_metadata(metadata, profile_names=[NAME])
    assert [(r["kind"], r["path"], r["in_comment"]) for r in refs] == [
        ("profile_name", "formulas[0].expression", True),
        ("profile_check", "formulas[0].expression", False),
        ("profile_name", "label", False),
    ]


def test_overlapping_names_the_longest_wins():
    refs = find_references("String a = 'Integration Admin'; String b = 'Admin';",
                           profile_names=["Admin", NAME])
    assert [(r["target"], r["column"]) for r in refs] == [(NAME, 13), ("Admin", 45)]


def test_formula_strings_may_span_lines():
    source = 'IF(x, "first line\nIntegration Admin", "")'
    refs = find_references(source, profile_names=[NAME], language="formula")
    assert kinds(refs) == [("profile_name", NAME, 2, False)]


def test_upper_case_18_character_id_and_mixed_case_profile_test():
    source = "Id p = '%s'; // $PROFILE.name" % ID18.upper()
    refs = find_references(source, profile_ids=[ID15])
    assert kinds(refs) == [("profile_id", ID18, 1, False), ("profile_check", "$Profile.Name", 1, True)]


def test_text_without_any_needle_is_not_tokenized_and_finds_nothing():
    assert find_references("Integer i = 0; // nothing here", profile_names=[NAME], profile_ids=[ID15]) == []
