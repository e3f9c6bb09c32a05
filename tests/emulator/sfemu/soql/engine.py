"""Compile a parsed SOQL statement against the schema of a ``source`` and run it over the source's rows.

Compilation resolves every name once (canonical case, relationship hops, literal types) into closures, so
running over many rows costs no name lookups or parsing; parent records are fetched through ``source.get``
and memoised for the duration of one execution.
"""
import datetime
import functools
import gc
import operator
from dataclasses import dataclass, field
from typing import List

from .. import DEFAULT_API_VERSION
from ..ids import PREFIXES, to18 as _to18
from . import ast
from .dates import as_datetime, date_range
from .messages import (QueryError, malformed, no_such_column, to_sferror, unknown_child_relationship,
                       unknown_relationship, unsupported_object)
from .parser import decode_string, like_regex, parse

_MISSING = object()
# Ids are rendered and compared in their 18-character form many times per query; the checksum is worth caching.
to18 = functools.lru_cache(maxsize=1 << 17)(_to18)
DEFAULT_URL_PREFIX = f"/services/data/v{DEFAULT_API_VERSION}/sobjects"

STRING_TYPES = {"string", "textarea", "picklist", "multipicklist", "combobox", "email", "phone", "url",
                "encryptedstring"}
NUMBER_TYPES = {"int", "double", "currency", "percent", "long"}
ID_TYPES = {"id", "reference"}
MAX_OFFSET = 2000
AGGREGATES = {"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"}
SINGLE_ROW_REASON = ("When retrieving results with Metadata or FullName fields, the query qualifications must "
                     "specify no more than one row for retrieval. Result size: {}")


@dataclass
class SoqlResult:
    records: List[dict] = field(default_factory=list)
    total_size: int = 0
    object_name: str = ""


def execute(soql, source, url_prefix=DEFAULT_URL_PREFIX, now=None):
    """Run one SOQL statement; raises SFError(400, MALFORMED_QUERY | INVALID_FIELD | INVALID_TYPE ...)."""
    # A big result is tens of thousands of small dicts that all survive: the cyclic collector would walk
    # them again and again while they are built (a third of the time) and can free none of them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        query = parse(soql)
        run = _Run(source, url_prefix, now or datetime.datetime.now(datetime.timezone.utc))
        return run.top_level(query)
    except QueryError as error:
        raise to_sferror(soql, error) from None
    finally:
        if collecting:
            gc.enable()


# --- value helpers ---------------------------------------------------------------------------------------

def _aware(value):
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value


def render_datetime(value):
    if not isinstance(value, datetime.datetime):
        return value
    value = _aware(value).astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + ".%03d+0000" % (value.microsecond // 1000)


def _render_date(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _identity(value):
    return value


_RENDER = {"datetime": render_datetime, "date": _render_date, "id": to18, "reference": to18}


def renderer(ftype):
    """Function turning a stored value of a describe type into its JSON form."""
    return _RENDER.get(ftype, _identity)


def _casefold(value):
    return value.casefold() if isinstance(value, str) else value


def _sortable(value):
    return str(value) if isinstance(value, (dict, list)) else value


def comparable(ftype):
    """Function normalising a stored value for comparison: case-insensitive text, 18-char Ids, aware datetimes."""
    if ftype in STRING_TYPES:
        return _casefold
    if ftype in ID_TYPES:
        return to18
    if ftype == "datetime":
        return _aware
    if ftype in ("anyType", "base64"):
        return _sortable
    return _identity


def sort_rows(rows, keys):
    """Stable multi-key sort; ``keys`` are (value_of_row, descending, nulls_last)."""
    for value_of, descending, nulls_last in reversed(keys):
        # Nulls get the high rank when they must come first in a descending pass or last in an ascending one.
        nulls_high = (not nulls_last) == descending
        null_key, rank = ((1,), 0) if nulls_high else ((0,), 1)

        def key(row, value_of=value_of, null_key=null_key, rank=rank):
            value = value_of(row)
            return null_key if value is None else (rank, value)
        rows.sort(key=key, reverse=descending)
    return rows


# --- resolved field paths -------------------------------------------------------------------------------

class _Path:
    """A field path resolved on an object: relationship hops then the final field."""

    def __init__(self, steps, fdef, text, pos):
        self.steps = steps          # [(reference FieldDef, [target ObjectDef, ...]), ...]
        self.field = fdef
        self.text = text
        self.pos = pos

    @property
    def key(self):
        return tuple(ref.name.lower() for ref, _ in self.steps) + (self.field.name.lower(),)


class _Run:
    """One execution: the source, the url prefix, "now", and a memo of parent records fetched by Id."""

    def __init__(self, source, url_prefix, now):
        self.source = source
        self.url_prefix = url_prefix
        self.now = _aware(now)
        self.today = self.now.astimezone(datetime.timezone.utc).date()
        self._parents = {}

    # schema ------------------------------------------------------------------------------------------
    def readable_object(self, name, pos):
        objdef = self.source.describe(name)
        if objdef is None or not self.source.can_read(objdef.name):
            raise unsupported_object(name, pos)
        return objdef

    def resolve(self, objdef, path, alias=None):
        parts = list(path.parts)
        # "SELECT User.Name FROM User" and "FROM User u ... u.Name": the object's own name or alias may lead.
        prefixes = {objdef.name.lower()} | ({alias.lower()} if alias else set())
        if len(parts) > 1 and parts[0].lower() in prefixes and objdef.relationship(parts[0]) is None:
            parts = parts[1:]
        current = [objdef]
        steps = []
        for part in parts[:-1]:
            ref = next((o.relationship(part) for o in current if o.relationship(part) is not None), None)
            targets = [t for t in (self.source.describe(name) for name in (ref.reference_to if ref else [])) if t]
            if not targets:
                raise unknown_relationship(part, path.pos)
            steps.append((ref, targets))
            current = targets
        fdef = next((o.field(parts[-1]) for o in current if o.field(parts[-1]) is not None), None)
        if fdef is None:
            raise no_such_column(parts[-1], current[0].name, path.pos)
        return _Path(steps, fdef, path.text, path.pos)

    # data --------------------------------------------------------------------------------------------
    def parent(self, targets, value):
        """(ObjectDef, record) a lookup value points to, or None; polymorphic lookups pick by Id prefix."""
        if value is None:
            return None
        # Memo keyed by the stored value first, so the common case skips the 18-char normalisation.
        found = self._parents.get(value, _MISSING)
        if found is not _MISSING:
            return found
        id18 = to18(value)
        found = None
        by_prefix = [t for t in targets if PREFIXES.get(t.name) == id18[:3]]
        for target in by_prefix or targets:
            row = self.source.get(target.name, id18)
            if row is not None:
                found = (target, row)
                break
        self._parents[value] = self._parents[id18] = found
        return found

    def getter(self, path):
        """Function row -> stored value of the resolved path (None when a hop is null)."""
        name = path.field.name
        steps = path.steps
        if not steps:
            return lambda row: row.get(name)
        parent = self.parent

        def get(row):
            for ref, targets in steps:
                hit = parent(targets, row.get(ref.name))
                if hit is None:
                    return None
                row = hit[1]
            return row.get(name)
        return get

    def url(self, type_name, row):
        return f"{self.url_prefix}/{type_name}/{to18(row.get('Id'))}"

    # statements --------------------------------------------------------------------------------------
    def top_level(self, query):
        objdef = self.readable_object(query.object_name, query.object_pos)
        if _is_aggregate(query):
            plan = _AggregatePlan(self, query, objdef)
        else:
            plan = _RecordPlan(self, query, objdef)
        return plan.result()

    # conditions --------------------------------------------------------------------------------------
    def condition(self, node, operand_of):
        """Predicate for a WHERE/HAVING tree; ``operand_of(node)`` -> (value_of, describe type, name, pos)."""
        if isinstance(node, ast.And):
            preds = [self.condition(item, operand_of) for item in node.items]
            return lambda row: all(p(row) for p in preds)
        if isinstance(node, ast.Or):
            preds = [self.condition(item, operand_of) for item in node.items]
            return lambda row: any(p(row) for p in preds)
        if isinstance(node, ast.Not):
            pred = self.condition(node.item, operand_of)
            return lambda row: not pred(row)
        value_of, ftype, name, pos = operand_of(node.operand)
        norm = comparable(ftype)
        if isinstance(node, ast.Compare):
            return self._compare(node, value_of, norm, ftype, name, pos)
        if isinstance(node, ast.Like):
            if node.value.kind != "string":
                raise _type_error(name, "string", pos, quoted=True)
            regex = like_regex(node.value.value, node.value.pos)
            return lambda row: isinstance(v := value_of(row), str) and regex.fullmatch(v) is not None
        if isinstance(node, ast.InList):
            wanted = {self.literal(v, ftype, name, pos) for v in node.values}
            if node.negated:
                return lambda row: norm(value_of(row)) not in wanted
            return lambda row: norm(value_of(row)) in wanted
        if isinstance(node, ast.InQuery):
            return self._semi_join(node, value_of, ftype, name, pos)
        if isinstance(node, ast.Includes):
            wanted = [frozenset(part.strip().casefold() for part in decode_string(v.value, v.pos).split(";"))
                      for v in node.values if v.kind == "string"]

            def includes(row):
                value = value_of(row)
                have = {part.strip().casefold() for part in value.split(";")} if isinstance(value, str) else set()
                return any(w <= have for w in wanted) != node.negated
            return includes
        raise malformed(f"unexpected token: '{node}'")  # pragma: no cover - grammar produces nothing else

    def _compare(self, node, value_of, norm, ftype, name, pos):
        op = node.op
        lit = node.value
        if lit.kind == "date_range" and ftype in ("date", "datetime"):
            start, end = date_range(lit.value[0], lit.value[1], self.today)
            if ftype == "datetime":
                start, end = as_datetime(start), as_datetime(end)
            tests = {"=": lambda v: start <= v < end, "!=": lambda v: not start <= v < end,
                     "<": lambda v: v < start, "<=": lambda v: v < end,
                     ">": lambda v: v >= end, ">=": lambda v: v >= start}
            test = tests[op]
            if op == "!=":
                return lambda row: (v := norm(value_of(row))) is None or test(v)
            return lambda row: (v := norm(value_of(row))) is not None and test(v)
        expected = self.literal(lit, ftype, name, pos)
        if expected is None:
            if op == "=":
                return lambda row: value_of(row) is None
            if op == "!=":
                return lambda row: value_of(row) is not None
            return lambda row: False
        if op == "=":
            return lambda row: norm(value_of(row)) == expected
        if op == "!=":
            # Unlike SQL, SOQL's != keeps the records whose value is null.
            return lambda row: norm(value_of(row)) != expected
        test = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

        def ordered(row):
            value = norm(value_of(row))
            try:
                return value is not None and test(value, expected)
            except TypeError:     # a stored value of another type than the field's: no match
                return False
        return ordered

    def literal(self, lit, ftype, name, pos):
        """A literal as the comparable value of a field of type ``ftype``; type mismatches as Salesforce."""
        if lit.kind == "null":
            return None
        if ftype in ID_TYPES:
            if lit.kind != "string":
                raise _type_error(name, "id", pos, quoted=True)
            text = decode_string(lit.value, lit.pos)
            if not (len(text) in (15, 18) and text.isalnum()):
                raise QueryError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {text}", pos)
            return to18(text)
        if ftype in STRING_TYPES:
            if lit.kind != "string":
                raise _type_error(name, "string", pos, quoted=True)
            return decode_string(lit.value, lit.pos).casefold()
        expected_kind = {"boolean": ("boolean",), "date": ("date",), "datetime": ("datetime",)}.get(ftype)
        if ftype in NUMBER_TYPES:
            expected_kind = ("number",)
        if expected_kind is not None and lit.kind not in expected_kind:
            raise _type_error(name, "dateTime" if ftype == "datetime" else ftype, pos, quoted=False)
        if lit.kind == "string":
            return decode_string(lit.value, lit.pos)
        if lit.kind == "date_range":
            raise malformed(f"unexpected token: '{lit.text}'", lit.pos)
        return lit.value

    def _semi_join(self, node, value_of, ftype, name, pos):
        if ftype not in ID_TYPES:
            raise malformed(f"Invalid semi join: field '{name}' must be an Id or a reference field", pos)
        inner = node.query
        objdef = self.readable_object(inner.object_name, inner.object_pos)
        items = inner.select
        if len(items) != 1 or not isinstance(items[0], ast.SelectField):
            raise malformed("Invalid semi join: the sub-select must select exactly one Id or reference field",
                            inner.object_pos)
        path = self.resolve(objdef, items[0].path, inner.object_alias)
        if path.field.type not in ID_TYPES:
            raise malformed(f"semi join sub selects can only query id fields, cannot use: '{path.field.name}'",
                            items[0].path.pos)
        inner_value = self.getter(path)
        where = self.row_condition(inner, objdef)
        source = self.source
        cache = []

        def values():
            if not cache:
                cache.append({to18(inner_value(r)) for r in source.rows(objdef.name) if where(r)} - {None})
            return cache[0]
        negated = node.negated
        return lambda row: (to18(value_of(row)) in values()) != negated

    def row_condition(self, query, objdef):
        """WHERE predicate over records of ``objdef`` (always true without WHERE)."""
        if query.where is None:
            return lambda row: True

        def operand_of(operand):
            if isinstance(operand, ast.Call):
                raise malformed(f"unexpected token: '{operand.name}'", operand.pos)
            path = self.resolve(objdef, operand, query.object_alias)
            if not path.field.filterable:
                raise QueryError("INVALID_FIELD", f"field '{path.field.name}' can not be filtered in a query call",
                                 operand.pos)
            return self.getter(path), path.field.type, path.field.name, operand.pos
        return self.condition(query.where, operand_of)


def _type_error(name, type_name, pos, quoted):
    advice = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return QueryError("INVALID_FIELD", f"value of filter criterion for field '{name}' must be of type {type_name} "
                      f"and {advice}", pos)


def _check_offset(query):
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise QueryError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")


def _page(rows, query):
    start = query.offset or 0
    return rows[start:] if query.limit is None else rows[start:start + query.limit]


def _is_aggregate(query):
    return bool(query.group_by) or any(
        isinstance(item, ast.SelectCall) and item.call.func in AGGREGATES for item in query.select)


# --- plain record queries -------------------------------------------------------------------------------

class _Node:
    """What to output for one record: fields, parent records and child subqueries, in SELECT order."""

    def __init__(self):
        self.entries = {}    # lower-case key -> entry; dict keeps first-selected order

    def field(self, fdef):
        self.entries.setdefault(fdef.name.lower(), ("field", fdef.name, renderer(fdef.type), fdef))

    def parent(self, ref, targets):
        key = ref.relationship_name.lower()
        if key not in self.entries:
            self.entries[key] = ("parent", ref.relationship_name, ref.name, targets, _Node())
        return self.entries[key][4]

    def children(self, name, plan):
        self.entries.setdefault(name.lower(), ("children", name, plan))


class _RecordPlan:
    """A non-aggregate SELECT on one object: filter, sort, offset/limit, render."""

    def __init__(self, run, query, objdef):
        self.run = run
        self.query = query
        self.objdef = objdef
        self.node = _Node()
        self.selected = set()
        self.single_row_only = False
        _check_offset(query)
        for item in query.select:
            if isinstance(item, ast.SelectField):
                self._select(run.resolve(objdef, item.path, query.object_alias))
            elif isinstance(item, ast.SelectSubquery):
                self._subquery(item.query)
            else:
                self._fields_function(item.call)
        self.where = run.row_condition(query, objdef)
        self.order = []
        for item in query.order_by:
            if isinstance(item.key, ast.Call):
                raise malformed(f"unexpected token: '{item.key.name}'", item.key.pos)
            path = run.resolve(objdef, item.key, query.object_alias)
            norm = comparable(path.field.type)
            get = run.getter(path)
            self.order.append((lambda row, get=get, norm=norm: _sortable(norm(get(row))),
                               item.descending, item.nulls_last))

    def _select(self, path):
        if path.key in self.selected:
            raise QueryError("INVALID_FIELD", f"duplicate field selected: {path.text}")
        self.selected.add(path.key)
        node = self.node
        for ref, targets in path.steps:
            node = node.parent(ref, targets)
        node.field(path.field)
        if path.field.single_row_only and not path.steps:
            self.single_row_only = True

    def _subquery(self, sub):
        rel = self.objdef.child_relationships.get(sub.object_name.lower())
        child = self.run.source.describe(rel.child_object) if rel else None
        if child is None or not self.run.source.can_read(child.name):
            raise unknown_child_relationship(sub.object_name, sub.object_pos)
        if _is_aggregate(sub):
            raise malformed("Aggregate functions are not supported in a child relationship sub-query",
                            sub.object_pos)
        self.node.children(rel.name, _ChildPlan(self.run, sub, child, rel))

    def _fields_function(self, call):
        # FIELDS(ALL | STANDARD | CUSTOM): the object's fields, in describe order.
        which = call.arg.text.upper() if call.func == "FIELDS" and call.arg else None
        if which not in ("ALL", "STANDARD", "CUSTOM"):
            raise malformed(f"unexpected token: '{call.name}'", call.pos)
        for fdef in self.objdef.fields.values():
            custom = fdef.name.endswith("__c")
            if which == "ALL" or custom == (which == "CUSTOM"):
                self._select(_Path([], fdef, fdef.name, call.pos))

    def window(self, rows):
        """``rows`` (a list, sorted in place) in ORDER BY order, then OFFSET and LIMIT applied."""
        if self.order:
            sort_rows(rows, self.order)
        return _page(rows, self.query)

    def matching(self, rows):
        return self.window([row for row in rows if self.where(row)])

    def render(self, objdef, row, node):
        run = self.run
        out = {"attributes": {"type": objdef.name, "url": run.url(objdef.name, row)}}
        for entry in node.entries.values():
            kind, key = entry[0], entry[1]
            if kind == "field":
                out[key] = entry[2](row.get(key))
            elif kind == "parent":
                hit = run.parent(entry[3], row.get(entry[2]))
                out[key] = None if hit is None else self.render(hit[0], hit[1], entry[4])
            else:
                out[key] = entry[2].envelope_for(row)
        return out

    def result(self):
        rows = self.matching(self.run.source.rows(self.objdef.name))
        if self.single_row_only and len(rows) > 1:
            raise malformed(SINGLE_ROW_REASON.format(len(rows)))
        records = [self.render(self.objdef, row, self.node) for row in rows]
        return SoqlResult(records, len(records), self.objdef.name)


class _ChildPlan(_RecordPlan):
    """A child relationship sub-query: children indexed once by parent Id, then taken per parent record."""

    def __init__(self, run, query, objdef, rel):
        super().__init__(run, query, objdef)
        self.rel = rel
        self._by_parent = None

    def envelope_for(self, parent_row):
        if self._by_parent is None:
            self._by_parent = {}
            lookup = self.rel.field
            for row in self.run.source.rows(self.objdef.name):
                if row.get(lookup) is not None and self.where(row):
                    self._by_parent.setdefault(to18(row[lookup]), []).append(row)
        children = self._by_parent.get(to18(parent_row.get("Id")))
        if not children:
            return None
        rows = self.window(list(children))
        if not rows:
            return None
        return {"totalSize": len(rows), "done": True,
                "records": [self.render(self.objdef, row, self.node) for row in rows]}


# --- aggregate queries ----------------------------------------------------------------------------------

class _AggregatePlan:
    """COUNT(), aggregates and GROUP BY: rows grouped, HAVING, ORDER BY, offset/limit, AggregateResult rows."""

    def __init__(self, run, query, objdef):
        self.run = run
        self.query = query
        self.objdef = objdef
        _check_offset(query)
        self.where = run.row_condition(query, objdef)
        self.group_paths = [run.resolve(objdef, p, query.object_alias) for p in query.group_by]
        self.group_keys = {p.key: (run.getter(p), p.field) for p in self.group_paths}
        self.count_only = False
        self.columns = []         # (output key, function group -> rendered value)
        expr = 0
        for item in query.select:
            if isinstance(item, ast.SelectSubquery):
                raise malformed("Nested queries are not supported in aggregate queries", item.query.object_pos)
            if isinstance(item, ast.SelectField):
                value_of, fdef = self._grouped(item.path)
                render = renderer(fdef.type)
                self.columns.append((item.alias or fdef.name, lambda g, v=value_of, r=render: r(v(g))))
                continue
            call = item.call
            if call.func == "COUNT" and call.arg is None:
                if len(query.select) > 1 or query.group_by:
                    raise malformed("COUNT() must be the only element in the SELECT list", call.pos)
                self.count_only = True
                continue
            value_of, ftype = self._aggregate(call)
            render = renderer(ftype)
            key = item.alias
            if key is None:
                key = f"expr{expr}"
                expr += 1
            self.columns.append((key, lambda g, v=value_of, r=render: r(v(g))))
        if query.having is not None:
            self.having = run.condition(query.having, self._group_operand)
        else:
            self.having = None
        self.order = []
        for item in query.order_by:
            value_of, ftype, _, _ = self._group_operand(item.key)
            norm = comparable(ftype)
            self.order.append((lambda g, v=value_of, n=norm: _sortable(n(v(g))), item.descending, item.nulls_last))

    def _grouped(self, path_node):
        path = self.run.resolve(self.objdef, path_node, self.query.object_alias)
        if path.key not in self.group_keys:
            raise malformed(f"Field must be grouped or aggregated: {path_node.text}", path_node.pos)
        get = self.group_keys[path.key][0]
        return (lambda group: get(group[0]) if group else None), path.field

    def _aggregate(self, call):
        """(function group -> value, describe type of the value) for an aggregate call."""
        func = call.func
        if func not in AGGREGATES:
            raise malformed(f"unexpected token: '{call.name}'", call.pos)
        if call.arg is None:
            if func != "COUNT":
                raise malformed("unexpected token: ')'", call.pos)
            return len, "int"
        path = self.run.resolve(self.objdef, call.arg, self.query.object_alias)
        get = self.run.getter(path)
        ftype = path.field.type
        norm = comparable(ftype)
        if func in ("SUM", "AVG") and ftype not in NUMBER_TYPES:
            raise malformed(f"field {path.field.name} does not support aggregate operator {func}", call.arg.pos)

        def values(group):
            return [v for v in (get(row) for row in group) if v is not None]
        if func == "COUNT":
            return (lambda g: len(values(g))), "int"
        if func == "COUNT_DISTINCT":
            return (lambda g: len({_sortable(norm(v)) for v in values(g)})), "int"
        if func in ("MIN", "MAX"):
            pick = min if func == "MIN" else max
            return (lambda g: pick(values(g), key=lambda v: _sortable(norm(v)), default=None)), ftype
        if func == "SUM":
            return (lambda g: sum(values(g)) if values(g) else None), ftype
        return (lambda g: (sum(vs) / len(vs)) if (vs := values(g)) else None), "double"

    def _group_operand(self, operand):
        if isinstance(operand, ast.Call):
            value_of, ftype = self._aggregate(operand)
            return value_of, ftype, operand.name, operand.pos
        value_of, fdef = self._grouped(operand)
        return value_of, fdef.type, fdef.name, operand.pos

    def result(self):
        rows = [row for row in self.run.source.rows(self.objdef.name) if self.where(row)]
        if self.count_only:
            return SoqlResult([], len(_page(rows, self.query)), self.objdef.name)
        if self.group_paths:
            groups = {}
            keyers = [(get, comparable(fdef.type)) for get, fdef in self.group_keys.values()]
            for row in rows:
                key = tuple(_sortable(norm(get(row))) for get, norm in keyers)
                groups.setdefault(key, []).append(row)
            groups = list(groups.values())
        else:
            groups = [rows]     # no GROUP BY: one row, even over no records
        if self.having is not None:
            groups = [g for g in groups if self.having(g)]
        if self.order:
            sort_rows(groups, self.order)
        records = []
        for group in _page(groups, self.query):
            record = {"attributes": {"type": "AggregateResult"}}
            for key, value_of in self.columns:
                record[key] = value_of(group)
            records.append(record)
        return SoqlResult(records, len(records), self.objdef.name)
