"""Parsed SOQL statement: plain immutable nodes, each carrying its 1-based line and column for error carets."""
from dataclasses import dataclass
from typing import Optional, Tuple


@dataclass(frozen=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True)
class FieldPath:
    parts: Tuple[str, ...]        # as written, e.g. ("Profile", "UserLicense", "Name")
    pos: Pos

    @property
    def text(self):
        return ".".join(self.parts)


@dataclass(frozen=True)
class Call:
    """``NAME(arg)``: aggregates (COUNT, COUNT_DISTINCT, MIN, MAX, SUM, AVG) and FIELDS()."""
    name: str                     # as written
    arg: Optional[FieldPath]
    pos: Pos

    @property
    def func(self):
        return self.name.upper()

    @property
    def key(self):
        """Case-insensitive identity, to match an aggregate in ORDER BY/HAVING with the same one in SELECT."""
        return (self.func, tuple(p.lower() for p in self.arg.parts) if self.arg else ())


@dataclass(frozen=True)
class SelectField:
    path: FieldPath
    alias: Optional[str]


@dataclass(frozen=True)
class SelectCall:
    call: Call
    alias: Optional[str]


@dataclass(frozen=True)
class SelectSubquery:
    query: "Query"


@dataclass(frozen=True)
class Literal:
    kind: str        # string, number, datetime, date, date_range, date_n, null, boolean
    value: object    # raw text for string (escapes decoded later), parsed value otherwise
    text: str        # as written
    pos: Pos


@dataclass(frozen=True)
class Compare:
    operand: object  # FieldPath or Call
    op: str          # one of = != < <= > >= (<> normalised to !=)
    value: Literal


@dataclass(frozen=True)
class Like:
    operand: object
    value: Literal


@dataclass(frozen=True)
class InList:
    operand: object
    negated: bool
    values: Tuple[Literal, ...]


@dataclass(frozen=True)
class InQuery:
    operand: object
    negated: bool
    query: "Query"


@dataclass(frozen=True)
class Includes:
    operand: object
    negated: bool    # EXCLUDES
    values: Tuple[Literal, ...]


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class OrderItem:
    key: object                  # FieldPath or Call
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    select: tuple                # SelectField | SelectCall | SelectSubquery
    object_name: str             # as written
    object_pos: Pos
    object_alias: Optional[str]
    where: object = None
    group_by: tuple = ()
    having: object = None
    order_by: tuple = ()
    limit: Optional[int] = None
    offset: Optional[int] = None
