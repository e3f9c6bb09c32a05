"""SOQL text -> ``ast.Query``, with lark (LALR, contextual lexer); parsed statements are cached by text."""
import datetime
import functools
import re
from pathlib import Path

from lark import Lark, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import ast
from .messages import QueryError, malformed, unexpected_token

_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
# cache=True keeps the built LALR tables in the temp dir: building them costs seconds at every start.
_LARK = Lark(_GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=True, cache=True)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


def _pos(token):
    return ast.Pos(token.line, token.column)


def _parse_datetime(text):
    text = text.upper().replace("Z", "+00:00")
    # Python wants +HH:MM; Salesforce also accepts +HHMM.
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    return datetime.datetime.fromisoformat(text).astimezone(datetime.timezone.utc)


def _calendar(parse_text, tok):
    """Date or datetime of a literal that has the right shape but may name an impossible day (2023-02-30)."""
    try:
        return parse_text(str(tok))
    except ValueError:
        raise unexpected_token(str(tok), _pos(tok)) from None


class _ToAst(Transformer):
    # Tokens become AST values here; rule names follow grammar.lark.
    def start(self, items):
        return items[0]

    def field_path(self, names):
        return ast.FieldPath(tuple(str(n) for n in names), _pos(names[0]))

    def call(self, items):
        name, arg = items
        return ast.Call(str(name), arg, _pos(name))

    def alias(self, items):
        return str(items[0])

    def select_field(self, items):
        return ast.SelectField(items[0], items[1] if len(items) > 1 else None)

    def select_call(self, items):
        return ast.SelectCall(items[0], items[1] if len(items) > 1 else None)

    def select_subquery(self, items):
        return ast.SelectSubquery(items[0])

    def select_list(self, items):
        return ("select", tuple(items))

    def object_ref(self, items):
        name, alias = items
        return ("object", (str(name), _pos(name), str(alias) if alias is not None else None))

    def using_scope(self, items):
        return ("scope", str(items[0]))

    def where_clause(self, items):
        return ("where", items[0])

    def with_clause(self, items):
        return ("with", str(items[0]))

    def group_by(self, items):
        return ("group_by", tuple(items))

    def having(self, items):
        return ("having", items[0])

    def order_by(self, items):
        return ("order_by", tuple(items))

    def order_item(self, items):
        key, direction, nulls = items
        descending = direction is not None and direction.type == "DESC"
        # Salesforce sorts nulls first unless told otherwise, whatever the direction.
        nulls_last = nulls is not None and nulls.type == "LAST"
        return ast.OrderItem(key, descending, nulls_last)

    def limit(self, items):
        return ("limit", int(items[0]))

    def offset(self, items):
        return ("offset", int(items[0]))

    def for_clause(self, items):
        return ("for", str(items[0]))

    def update_clause(self, items):
        return ("update", str(items[0]))

    def query(self, items):
        clauses = dict(items)
        name, pos, alias = clauses["object"]
        return ast.Query(
            select=clauses["select"], object_name=name, object_pos=pos, object_alias=alias,
            where=clauses.get("where"), group_by=clauses.get("group_by", ()), having=clauses.get("having"),
            order_by=clauses.get("order_by", ()), limit=clauses.get("limit"), offset=clauses.get("offset"))

    # Conditions
    def and_condition(self, items):
        return ast.And(tuple(items))

    def or_condition(self, items):
        return ast.Or(tuple(items))

    def not_condition(self, items):
        return ast.Not(items[0])

    def compare(self, items):
        operand, op, value = items
        return ast.Compare(operand, "!=" if op == "<>" else str(op), value)

    def like(self, items):
        return ast.Like(items[0], items[1])

    def in_list(self, items):
        return ast.InList(items[0], False, items[1])

    def not_in_list(self, items):
        return ast.InList(items[0], True, items[1])

    def in_query(self, items):
        return ast.InQuery(items[0], False, items[1])

    def not_in_query(self, items):
        return ast.InQuery(items[0], True, items[1])

    def includes(self, items):
        return ast.Includes(items[0], False, items[1])

    def excludes(self, items):
        return ast.Includes(items[0], True, items[1])

    def value_list(self, items):
        return tuple(items)

    # Literals
    @v_args(inline=True)
    def string(self, tok):
        return ast.Literal("string", str(tok)[1:-1], str(tok), _pos(tok))

    @v_args(inline=True)
    def number(self, tok):
        text = str(tok)
        value = float(text) if "." in text else int(text)
        return ast.Literal("number", value, text, _pos(tok))

    @v_args(inline=True)
    def datetime(self, tok):
        return ast.Literal("datetime", _calendar(_parse_datetime, tok), str(tok), _pos(tok))

    @v_args(inline=True)
    def date(self, tok):
        return ast.Literal("date", _calendar(datetime.date.fromisoformat, tok), str(tok), _pos(tok))

    @v_args(inline=True)
    def date_range(self, tok):
        return ast.Literal("date_range", (str(tok).upper(), None), str(tok), _pos(tok))

    @v_args(inline=True)
    def date_n(self, tok):
        name, n = str(tok).split(":")
        return ast.Literal("date_range", (name.upper(), int(n)), str(tok), _pos(tok))

    @v_args(inline=True)
    def null(self, tok):
        return ast.Literal("null", None, str(tok), _pos(tok))

    @v_args(inline=True)
    def true(self, tok):
        return ast.Literal("boolean", True, str(tok), _pos(tok))

    @v_args(inline=True)
    def false(self, tok):
        return ast.Literal("boolean", False, str(tok), _pos(tok))


_TO_AST = _ToAst()
_WORD = re.compile(r"\w+|\S")


def _eof_pos(soql):
    lines = soql.split("\n")
    return ast.Pos(len(lines), len(lines[-1]) + 1)


@functools.lru_cache(maxsize=1024)
def parse(soql):
    """``ast.Query`` for a statement; raises QueryError (MALFORMED_QUERY) on a syntax error."""
    try:
        tree = _LARK.parse(soql)
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise unexpected_token("<EOF>", _eof_pos(soql)) from None
        raise unexpected_token(str(exc.token), ast.Pos(exc.token.line, exc.token.column)) from None
    except UnexpectedCharacters as exc:
        word = _WORD.match(soql, exc.pos_in_stream)
        raise unexpected_token(word.group(0) if word else soql[exc.pos_in_stream],
                               ast.Pos(exc.line, exc.column)) from None
    except UnexpectedEOF:
        raise unexpected_token("<EOF>", _eof_pos(soql)) from None
    except UnexpectedInput as exc:  # any other lark input error
        raise malformed(str(exc)) from None
    try:
        return _TO_AST.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise


def _characters(raw, pos):
    """(character, was_escaped) pairs of a string literal's body, Salesforce escapes decoded."""
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            yield char, False
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt in _ESCAPES:
            yield _ESCAPES[nxt], True
        elif nxt in ("%", "_"):
            yield nxt, True
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i + 2:i + 6]):
            yield chr(int(raw[i + 2:i + 6], 16)), True
            i += 4
        else:
            raise malformed(f"Invalid string literal '{raw}'. Illegal character sequence '\\{nxt}' in string "
                            f"literal.", pos)
        i += 2


def decode_string(raw, pos):
    """Value of a string literal's body (between the quotes)."""
    return "".join(char for char, _ in _characters(raw, pos))


def like_regex(raw, pos):
    """Case-insensitive regex for a LIKE pattern: ``%`` any run, ``_`` one character, ``\\%``/``\\_`` literal."""
    out = []
    for char, escaped in _characters(raw, pos):
        if not escaped and char == "%":
            out.append(".*")
        elif not escaped and char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
