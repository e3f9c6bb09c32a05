"""Answers about a query instead of its rows: ``query?q=...&columns=true`` and ``query?explain=...``.

Both run the statement first (so a bad statement or an unreadable object fails exactly as the query
would), then describe it from the parsed statement and the object definitions.
"""
import datetime

from . import DEFAULT_API_VERSION
from .ids import PREFIXES
from .soql import ast
from .soql.engine import _Run
from .soql.parser import parse

_APEX_TYPES = {"id": "Id", "reference": "Id", "string": "String", "textarea": "String", "picklist": "String",
               "multipicklist": "String", "email": "String", "phone": "String", "url": "String",
               "combobox": "String", "encryptedstring": "String", "boolean": "Boolean", "int": "Integer",
               "double": "Double", "currency": "Decimal", "percent": "Decimal", "date": "Date",
               "datetime": "Datetime", "time": "Time", "base64": "Blob", "anyType": "Object"}
_NUMBER_TYPES = {"int", "double", "currency", "percent"}
_TEXT_TYPES = {"string", "textarea", "picklist", "multipicklist", "email", "phone", "url", "combobox",
               "encryptedstring", "id", "reference"}
# Fields Salesforce keeps an index on for every object (custom indexes are not modelled).
_INDEXED = {"id", "name", "ownerid", "createddate", "systemmodstamp", "lastmodifieddate", "recordtypeid",
            "username", "email", "developername"}


def _column(name, display, fdef=None, aggregate=False, joins=(), foreign_key=None):
    ftype = fdef.type if fdef is not None else None
    return {"aggregate": aggregate, "apexType": _APEX_TYPES.get(ftype) if ftype else None,
            "booleanType": ftype == "boolean", "columnName": name, "custom": name.endswith("__c"),
            "displayName": display, "foreignKeyName": foreign_key, "insertable": False,
            "joinColumns": list(joins), "numberType": ftype in _NUMBER_TYPES,
            "textType": ftype in _TEXT_TYPES and ftype not in ("id", "reference"), "updatable": False}


def _add_path(columns, path):
    """One selected field (through its parent steps) merged into the column tree."""
    level = columns
    for ref, targets in path.steps:
        name = ref.relationship_name
        entry = next((c for c in level if c["columnName"] == name and c["foreignKeyName"] == ref.name), None)
        if entry is None:
            entry = _column(name, name, foreign_key=ref.name)
            level.append(entry)
        level = entry["joinColumns"]
    level.append(_column(path.field.name, path.field.name, path.field))


def _record_columns(run, query, objdef):
    columns, expr = [], 0
    for item in query.select:
        if isinstance(item, ast.SelectField):
            _add_path(columns, run.resolve(objdef, item.path, query.object_alias))
        elif isinstance(item, ast.SelectSubquery):
            sub = item.query
            rel = objdef.child_relationships.get(sub.object_name.lower())
            child = run.source.describe(rel.child_object)
            columns.append(_column(rel.name, rel.name, aggregate=True,
                                   joins=_record_columns(run, sub, child)[0]))
        elif item.call.func == "FIELDS":
            which = item.call.arg.text.upper()
            for fdef in objdef.fields.values():
                if which == "ALL" or fdef.name.endswith("__c") == (which == "CUSTOM"):
                    columns.append(_column(fdef.name, fdef.name, fdef))
        else:
            call = item.call
            fdef = run.resolve(objdef, call.arg, query.object_alias).field if call.arg else None
            name = item.alias or "expr%d" % expr
            if not item.alias:
                expr += 1
            display = "%s(%s)" % (call.func.lower(), call.arg.text if call.arg else "")
            column = _column(name, display, fdef if call.func in ("MIN", "MAX", "SUM") else None, aggregate=True)
            if call.func in ("COUNT", "COUNT_DISTINCT"):
                column.update(apexType="Integer", numberType=True)
            elif call.func == "AVG":
                column.update(apexType="Double", numberType=True, textType=False)
            columns.append(column)
    id_selected = any(isinstance(i, ast.SelectField) and i.path.parts[-1].lower() == "id" and len(
        [p for p in i.path.parts if p.lower() not in (objdef.name.lower(), (query.object_alias or "").lower())]) <= 1
        for i in query.select)
    return columns, id_selected


def column_metadata(org, user, soql, tooling=False, api_version=DEFAULT_API_VERSION):
    """``{"columnMetadata", "entityName", "groupBy", "idSelected", "keyPrefix"}`` of a statement."""
    org.query(soql, user, tooling=tooling, api_version=api_version)
    query = parse(soql)
    run = _Run(org.query_source(user, tooling), "", datetime.datetime.now(datetime.timezone.utc))
    objdef = run.readable_object(query.object_name, query.object_pos)
    columns, id_selected = _record_columns(run, query, objdef)
    return {"columnMetadata": columns, "entityName": objdef.name, "groupBy": bool(query.group_by),
            "idSelected": id_selected, "keyPrefix": PREFIXES.get(objdef.name) or org.key_prefix(objdef.name)}


def _filter_fields(condition):
    """(field name, operator) of each comparison in a WHERE tree."""
    if condition is None:
        return []
    if isinstance(condition, (ast.And, ast.Or)):
        return [found for item in condition.items for found in _filter_fields(item)]
    if isinstance(condition, ast.Not):
        return _filter_fields(condition.item)
    operand = getattr(condition, "operand", None)
    if isinstance(operand, ast.FieldPath):
        op = condition.op if isinstance(condition, ast.Compare) else type(condition).__name__
        return [(operand.parts[-1] if len(operand.parts) == 1 else operand.text, op)]
    return []


def explain(org, user, soql, tooling=False, api_version=DEFAULT_API_VERSION):
    """Query plan feedback: one plan, an index when the filter is selective on an indexed field."""
    result = org.query(soql, user, tooling=tooling, api_version=api_version)
    query = parse(soql)
    source = org.query_source(user, tooling)
    objdef = source.describe(query.object_name)
    total = len(list(org.rows(objdef.name)))
    filters = _filter_fields(query.where)
    # Only an AND of comparisons can lead with an index; OR and NOT scan the table.
    usable = not isinstance(query.where, (ast.Or, ast.Not))
    indexed = [name for name, op in filters if usable and name.lower() in _INDEXED
               and op in ("=", "InList", "InQuery")]
    unindexed = [name for name, _ in filters if name.lower() not in _INDEXED]
    cardinality = result.total_size
    leading = "Index" if indexed else "TableScan"
    notes = [{"description": "Not considering filter for optimization because unindexed", "fields": [name],
              "tableEnumOrId": objdef.name} for name in unindexed]
    cost = round(cardinality / total, 6) if total else 0.0
    if leading == "TableScan":
        cost = max(cost, 0.0) + (1.0 if total > 0 else 0.0)
    return {"plans": [{"cardinality": cardinality, "fields": indexed, "leadingOperationType": leading,
                       "notes": notes, "relativeCost": cost, "sobjectCardinality": total,
                       "sobjectType": objdef.name}], "sourceQuery": soql}
