# -*- coding: utf-8 -*-
# Copyright: contributors to sfops.integration_users
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find references to profiles in Apex, formulas and flow metadata (pure functions, no I/O).

Public API::

    find_references(text, profile_names=(), profile_ids=(), extra_strings=(), language="apex")
        -> list of reference dicts, in text order:
           {"kind", "target", "match", "line", "column", "in_comment", "in_string"}
    scan_metadata(metadata, profile_names=(), profile_ids=(), extra_strings=())
        -> the same references for every string inside a Tooling ``Metadata`` value (flows),
           each with an extra "path" ("processMetadataValues[0].value.stringValue"), line None
    find_identifiers(text, identifiers, language="apex")
        -> uses of the given identifiers (e.g. Apex class names) in live code, never in strings or
           comments: {"kind": "identifier", "target", "match", "line", "column", "in_comment": False,
           "in_string": False}

Kinds of reference:
    profile_name             a profile name given in ``profile_names`` (strings and comments)
    profile_id               a profile Id in either form, 15 characters case-sensitive, 18 any case
    profile_check            code that tests the running user's profile without naming it:
                             $Profile.Name, $Profile.Id, UserInfo.getProfileId(), Profile.Name and
                             FROM Profile in SOQL
    possible_concatenation   string literals joined by + or & that spell a profile name only together
    extra_string             one of ``extra_strings`` (also found in code: it may be an identifier)

Languages: "apex" (// and /* */ comments, '...' strings), "formula" (/* */ comments, "..." and
'...' strings), "text" (no syntax: the whole value is treated as a string, for flow values).
Matching is case-insensitive except 15-character Ids, whose case is their identity.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import is_id, to18

LANGUAGES = ("apex", "formula", "text")

# Tests of the running user's profile that name no profile (searched in code, comments and strings:
# dynamic SOQL lives in strings).
_PROFILE_CHECKS = (
    ("$Profile.Name", re.compile(r"\$Profile\s*\.\s*Name\b", re.I)),
    ("$Profile.Id", re.compile(r"\$Profile\s*\.\s*Id\b", re.I)),
    ("UserInfo.getProfileId()", re.compile(r"\bUserInfo\s*\.\s*getProfileId\s*\(\s*\)", re.I)),
    ("Profile.Name", re.compile(r"(?<![$\w])Profile\s*\.\s*Name\b", re.I)),
    ("FROM Profile", re.compile(r"\bFROM\s+Profile\b", re.I)),
)

# Tooling Metadata keys whose values are formulas (flow formulas, validation rules, formula fields).
_FORMULA_KEYS = ("expression", "formula", "errorConditionFormula")

# Operators that join string literals: Apex uses +, formulas use & or +.
_JOIN_OPERATORS = {"apex": "+", "formula": "+&", "text": ""}


def _segments(text, language):
    """Split source into (kind, start, end) with kind code|string|comment; string spans exclude quotes."""
    if language == "text":
        return [("string", 0, len(text))]
    line_comments = language == "apex"
    quotes = "'" if language == "apex" else "'\""
    segments = []
    position = 0
    code_start = 0
    length = len(text)
    while position < length:
        char = text[position]
        pair = text[position:position + 2]
        if pair == "/*" or (line_comments and pair == "//"):
            if position > code_start:
                segments.append(("code", code_start, position))
            terminator = "*/" if pair == "/*" else "\n"
            end = text.find(terminator, position + 2)
            end = length if end < 0 else end + (2 if pair == "/*" else 0)
            segments.append(("comment", position, end))
            position = code_start = end
            continue
        if char in quotes:
            if position > code_start:
                segments.append(("code", code_start, position))
            end = position + 1
            while end < length and text[end] != char:
                # Apex literals cannot span lines: an unterminated quote must not swallow the file.
                if language == "apex" and text[end] == "\n":
                    break
                end += 2 if text[end] == "\\" else 1
            end = min(end, length)
            segments.append(("string", position + 1, end))
            position = code_start = end + 1 if end < length and text[end] == char else end
            continue
        position += 1
    if code_start < length:
        segments.append(("code", code_start, length))
    return segments


def _name_pattern(name):
    # Word boundaries keep "Admin" from matching inside "Administrator"; inner spaces are literal.
    return re.compile(r"(?<![\w])" + re.escape(name) + r"(?![\w])", re.I)


def _id_pattern(id15, id18):
    # The 18-character form is case-safe by design; the 15-character form is not.
    return re.compile(r"(?<![A-Za-z0-9])(?:(?i:%s)|%s)(?![A-Za-z0-9])" % (id18, id15))


def _position(line_starts, offset):
    low, high = 0, len(line_starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if line_starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1, offset - line_starts[low] + 1


def _unique(values):
    seen = set()
    out = []
    for value in values:
        key = value.lower() if isinstance(value, str) else value
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _concatenations(text, segments, language):
    """Runs of string literals joined by the language's join operators: [(start, end, joined value)]."""
    operators = _JOIN_OPERATORS[language]
    runs = []
    current = []
    index = 0
    while index < len(segments):
        kind, start, end = segments[index]
        if kind == "string":
            if current and _joins(text, segments, current[-1], index, operators):
                current.append(index)
            else:
                if len(current) > 1:
                    runs.append(current)
                current = [index]
        index += 1
    if len(current) > 1:
        runs.append(current)
    out = []
    for run in runs:
        first, last = segments[run[0]], segments[run[-1]]
        joined = "".join(text[segments[i][1]:segments[i][2]] for i in run)
        out.append((first[1] - 1, last[2] + 1, joined, [text[segments[i][1]:segments[i][2]] for i in run]))
    return out


def _joins(text, segments, previous, current, operators):
    """True when only one join operator, whitespace and comments separate two string segments."""
    between = []
    for kind, start, end in segments[previous + 1:current]:
        if kind == "string":
            return False
        if kind == "code":
            between.append(text[start:end])
    gap = "".join(between).strip()
    return bool(operators) and len(gap) == 1 and gap in operators


def find_references(text, profile_names=(), profile_ids=(), extra_strings=(), language="apex"):
    """Every reference to the given profiles (and every profile test) in ``text``, in text order."""
    if language not in LANGUAGES:
        raise ValueError("unknown language %r, expected one of %s" % (language, ", ".join(LANGUAGES)))
    if not text:
        return []
    names = _unique(profile_names)
    extras = _unique(extra_strings)
    id_patterns = []
    for id18 in sorted(set(to18(value) for value in profile_ids if is_id(value))):
        id_patterns.append((id18, _id_pattern(id18[:15], id18)))
    segments = _segments(text, language)
    line_starts = [0] + [match.end() for match in re.finditer(r"\n", text)]
    found = {}

    def add(kind, target, start, end, segment_kind):
        line, column = _position(line_starts, start)
        key = (start, kind, target.lower())
        if key not in found:
            found[key] = {
                "kind": kind,
                "target": target,
                "match": text[start:end],
                "line": line,
                "column": column,
                "in_comment": segment_kind == "comment",
                "in_string": segment_kind == "string",
            }

    for segment_kind, start, end in segments:
        chunk = text[start:end]
        for target, pattern in id_patterns:
            for match in pattern.finditer(chunk):
                add("profile_id", target, start + match.start(), start + match.end(), segment_kind)
        for target, pattern in _PROFILE_CHECKS:
            for match in pattern.finditer(chunk):
                add("profile_check", target, start + match.start(), start + match.end(), segment_kind)
        # Strings asked for explicitly (a bypass flag, a field name) may well be identifiers.
        for extra in extras:
            for match in _name_pattern(extra).finditer(chunk):
                add("extra_string", extra, start + match.start(), start + match.end(), segment_kind)
        if segment_kind == "code":
            # A name with spaces cannot be an identifier; one without could be any variable.
            continue
        for name in names:
            for match in _name_pattern(name).finditer(chunk):
                add("profile_name", name, start + match.start(), start + match.end(), segment_kind)

    for run_start, run_end, joined, parts in _concatenations(text, segments, language):
        for name in names:
            pattern = _name_pattern(name)
            if pattern.search(joined) and not any(pattern.search(part) for part in parts):
                add("possible_concatenation", name, run_start, run_end, "string")
    return [found[key] for key in sorted(found, key=lambda key: (key[0], key[1], key[2]))]


def find_identifiers(text, identifiers, language="apex"):
    """Uses of ``identifiers`` in code segments (Apex is case-insensitive), in text order."""
    if language not in LANGUAGES:
        raise ValueError("unknown language %r, expected one of %s" % (language, ", ".join(LANGUAGES)))
    wanted = _unique(identifiers)
    if not text or not wanted:
        return []
    line_starts = [0] + [match.end() for match in re.finditer(r"\n", text)]
    found = []
    for segment_kind, start, end in _segments(text, language):
        if segment_kind != "code":
            continue
        chunk = text[start:end]
        for identifier in wanted:
            for match in _name_pattern(identifier).finditer(chunk):
                line, column = _position(line_starts, start + match.start())
                found.append({"kind": "identifier", "target": identifier, "match": match.group(0), "line": line,
                              "column": column, "in_comment": False, "in_string": False})
    return sorted(found, key=lambda ref: (ref["line"], ref["column"], ref["target"].lower()))


def _metadata_strings(value, path=""):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key in sorted(value):
            yield from _metadata_strings(value[key], "%s.%s" % (path, key) if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _metadata_strings(item, "%s[%d]" % (path, index))


def scan_metadata(metadata, profile_names=(), profile_ids=(), extra_strings=()):
    """References inside every string of a Tooling Metadata value; each carries its ``path``.

    Values under a formula key are read as formulas (so their comments are told apart); any other
    value (a decision's right-hand value, a label) is plain text.
    """
    references = []
    for path, value in _metadata_strings(metadata):
        key = re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1]
        language = "formula" if key in _FORMULA_KEYS else "text"
        for reference in find_references(value, profile_names, profile_ids, extra_strings, language):
            reference = dict(reference, path=path, line=None)
            references.append(reference)
    return references
