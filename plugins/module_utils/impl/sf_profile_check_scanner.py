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

import bisect
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

# A closing quote followed by a join operator: without one, no literals are joined.
_JOIN_HINT = re.compile(r"['\"]\s*(?:/\*.*?\*/\s*)*[+&]", re.S)

# Operators that join string literals: Apex uses +, formulas use & or +.
_JOIN_OPERATORS = {"apex": "+", "formula": "+&", "text": ""}


# Where a comment or a string may start, per language; and the body of a string up to its end.
_OPENERS = {"apex": re.compile(r"/\*|//|'"), "formula": re.compile(r"/\*|['\"]")}
_STRING_BODIES = {
    # Apex literals cannot span lines: an unterminated quote must not swallow the file.
    ("apex", "'"): re.compile(r"(?:[^'\\\n]|\\.)*"),
    ("formula", "'"): re.compile(r"(?:[^'\\]|\\.)*", re.S),
    ("formula", '"'): re.compile(r'(?:[^"\\]|\\.)*', re.S),
}


def _segments(text, language):
    """Split source into (kind, start, end) with kind code|string|comment; string spans exclude quotes."""
    if language == "text":
        return [("string", 0, len(text))]
    openers = _OPENERS[language]
    segments = []
    code_start = 0
    length = len(text)
    opener = openers.search(text, 0)
    while opener is not None:
        position, token = opener.start(), opener.group(0)
        if position > code_start:
            segments.append(("code", code_start, position))
        if token in ("/*", "//"):
            terminator = "*/" if token == "/*" else "\n"
            end = text.find(terminator, position + 2)
            end = length if end < 0 else end + (2 if token == "/*" else 0)
            segments.append(("comment", position, end))
            code_start = end
        else:
            end = min(_STRING_BODIES[(language, token)].match(text, position + 1).end(), length)
            segments.append(("string", position + 1, end))
            code_start = end + 1 if end < length and text[end] == token else end
        opener = openers.search(text, code_start)
    if code_start < length:
        segments.append(("code", code_start, length))
    return segments


def _name_pattern(name):
    # Word boundaries keep "Admin" from matching inside "Administrator"; inner spaces are literal.
    return re.compile(r"(?<![\w])" + re.escape(name) + r"(?![\w])", re.I)


def _names_pattern(names):
    """One case-insensitive pattern for all ``names`` (longest first, so a longer name wins), or None."""
    if not names:
        return None
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=lambda n: (-len(n), n.lower())))
    return re.compile(r"(?<![\w])(?:" + alternatives + r")(?![\w])", re.I)


def _ids_pattern(id18s):
    """One pattern for all Ids: the 18-character form in any case (it is case-safe by design), the
    15-character form exactly (its case is its identity); None when there is no Id."""
    if not id18s:
        return None
    alternatives = "|".join("(?i:%s)|%s" % (id18, id18[:15]) for id18 in id18s)
    return re.compile(r"(?<![A-Za-z0-9])(?:" + alternatives + r")(?![A-Za-z0-9])")


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
    # Plain substring tests first: most components mention none of the needles, and the patterns
    # below (look-behinds over many alternatives) cost far more than these.
    lowered = text.lower()
    names = [name for name in _unique(profile_names) if name.lower() in lowered]
    concatenated_names = _unique(profile_names)
    extras = [extra for extra in _unique(extra_strings) if extra.lower() in lowered]
    id18s = sorted(set(id18 for id18 in (to18(value) for value in profile_ids if is_id(value))
                       if id18[:15] in text or id18.lower() in lowered))
    may_join = concatenated_names and _JOIN_HINT.search(text) is not None
    if not (names or extras or id18s or may_join or "profile" in lowered):
        return []
    id_targets = dict((id18.lower(), id18) for id18 in id18s)
    id_targets.update((id18[:15], id18) for id18 in id18s)
    segments = _segments(text, language)
    segment_starts = [segment[1] for segment in segments]
    line_starts = [0] + [match.end() for match in re.finditer(r"\n", text)]
    found = {}

    def segment_kind_of(start, end):
        # Each pattern runs once over the whole text; a match counts only inside one segment.
        index = bisect.bisect_right(segment_starts, start) - 1
        if index < 0 or end > segments[index][2]:
            return None
        return segments[index][0]

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

    def scan(kind, pattern, target_of, code_too=True):
        for match in pattern.finditer(text) if pattern is not None else ():
            segment_kind = segment_kind_of(match.start(), match.end())
            if segment_kind is None or (segment_kind == "code" and not code_too):
                continue
            add(kind, target_of(match.group(0)), match.start(), match.end(), segment_kind)

    by_lower = dict((name.lower(), name) for name in names)
    extra_by_lower = dict((extra.lower(), extra) for extra in extras)
    scan("profile_id", _ids_pattern(id18s), lambda matched: id_targets.get(matched) or id_targets[matched.lower()])
    if "profile" in lowered:
        for target, pattern in _PROFILE_CHECKS:
            scan("profile_check", pattern, lambda matched, target=target: target)
    # Strings asked for explicitly (a bypass flag, a field name) may well be identifiers.
    scan("extra_string", _names_pattern(extras), lambda matched: extra_by_lower[matched.lower()])
    # A name with spaces cannot be an identifier; one without could be any variable: not in code.
    scan("profile_name", _names_pattern(names), lambda matched: by_lower[matched.lower()], code_too=False)

    runs = _concatenations(text, segments, language) if may_join else []
    if runs:
        patterns = [(name, name.lower(), _name_pattern(name)) for name in concatenated_names]
        for run_start, run_end, joined, parts in runs:
            joined_lower = joined.lower()
            for name, name_lower, pattern in patterns:
                if name_lower not in joined_lower:
                    continue
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
    pattern = _names_pattern(wanted)
    by_lower = dict((identifier.lower(), identifier) for identifier in wanted)
    found = []
    for segment_kind, start, end in _segments(text, language):
        if segment_kind != "code":
            continue
        for match in pattern.finditer(text, start, end):
            line, column = _position(line_starts, match.start())
            found.append({"kind": "identifier", "target": by_lower[match.group(0).lower()], "match": match.group(0),
                          "line": line, "column": column, "in_comment": False, "in_string": False})
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
