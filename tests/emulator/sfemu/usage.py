"""API usage evidence (issue 18): the ApiTotalUsage event log and OAuth token use.

- Every API call the org serves (REST below /services/data, Apex REST) is one line of that day's
  `EventLogFile` (EventType 'ApiTotalUsage', LogDate at 00:00 UTC, Interval 'Daily'); its `LogFile` blob
  (`GET /services/data/vXX.X/sobjects/EventLogFile/<id>/LogFile`) is a CSV with Salesforce's column
  names (COLUMNS), one row per call, oldest first. Deviation: Salesforce publishes a day's file the next
  day; the emulator keeps today's file up to date as calls arrive, so a test sees its own calls.
- The estate's history: a user's `api_usage: {days, calls_per_day, objects, methods, app}` adds
  `calls_per_day` calls on each of the last `days` days (skipping none), naming the objects in turn, as
  lines of those days' files (expanded when a file is downloaded: the estate stays small in memory).
- `OauthToken`: each successful OAuth login through an app the user holds a token for adds 1 to the
  token's UseCount and sets its LastUsedDate (`touch_tokens`). Salesforce creates tokens only for flows
  that issue refresh tokens; the emulator never creates one on login.
"""
import base64
import datetime
import re

from .ids import PREFIXES

PREFIXES.update({"EventLogFile": "0AT"})
EVENT_TYPE = "ApiTotalUsage"
# The ApiTotalUsage event type's fields, as Salesforce's CSV names them.
COLUMNS = ("EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "API_FAMILY", "API_VERSION",
           "API_RESOURCE", "CLIENT_NAME", "HTTP_METHOD", "CLIENT_IP", "COUNTS_AGAINST_API_LIMIT",
           "CONNECTED_APP_ID", "CONNECTED_APP_NAME", "ENTITY_NAME", "STATUS_CODE", "TIMESTAMP_DERIVED",
           "USER_ID_DERIVED")
_FROM = re.compile(r"\bFROM\s+([A-Za-z0-9_]+)", re.IGNORECASE)


def object_defs(obj, f, ro):
    """EventLogFile, built with sfemu.objects' helpers (read-only, like Salesforce's)."""
    return [obj("EventLogFile", [
        ro("EventType", "picklist", nillable=False), ro("LogDate", "datetime", nillable=False),
        ro("LogFileLength", "double", nillable=False), ro("LogFile", "base64", filterable=False),
        ro("Interval", "picklist"), ro("Sequence", "int"), ro("ApiVersion", "double"),
        ro("LogFileContentType"), ro("LogFileFieldNames", "textarea"), ro("LogFileFieldTypes", "textarea"),
    ], createable=False, updateable=False, deletable=False)]


def _day(when):
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def _stamp(when):
    return when.strftime("%Y%m%d%H%M%S.") + "%03d" % (when.microsecond // 1000)


def _day_file(org, day):
    """The EventLogFile row of ``day`` (created empty when missing)."""
    key = day.isoformat()
    files = getattr(org, "usage_files", None)
    if files is None:
        files = org.usage_files = {}
    row_id = files.get(key)
    row = org.tables["EventLogFile"].get(row_id) if row_id else None
    if row is None:
        row = {"Id": org.new_id("EventLogFile"), "EventType": EVENT_TYPE, "LogDate": day, "LogFileLength": 0.0,
               "LogFile": None, "Interval": "Daily", "Sequence": 0, "ApiVersion": 62.0,
               "LogFileContentType": "CSV", "LogFileFieldNames": ",".join(COLUMNS),
               "LogFileFieldTypes": ",".join(["String"] * len(COLUMNS)), "CreatedDate": day,
               "CreatedById": org.admin_user_id, "LastModifiedDate": day, "LastModifiedById": org.admin_user_id,
               "SystemModstamp": day, "_lines": [], "_history": []}
        files[key] = row["Id"]
    return row


def _line(org, when, user_id, family, version, resource, method, entity, app, status=200):
    return {"EVENT_TYPE": EVENT_TYPE, "TIMESTAMP": _stamp(when), "REQUEST_ID": "TID:%08d" % org.api_used,
            "ORGANIZATION_ID": (org.org_id or "")[:15], "USER_ID": (user_id or "")[:15], "API_FAMILY": family,
            "API_VERSION": version, "API_RESOURCE": resource, "CLIENT_NAME": "", "HTTP_METHOD": method,
            "CLIENT_IP": "127.0.0.1", "COUNTS_AGAINST_API_LIMIT": "true",
            "CONNECTED_APP_ID": app.get("Id", "")[:15] if app else "",
            "CONNECTED_APP_NAME": app.get("name", "") if app else "", "ENTITY_NAME": entity or "",
            "STATUS_CODE": str(status), "TIMESTAMP_DERIVED": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "USER_ID_DERIVED": user_id or ""}


def entity_of(sub, params):
    """The object a REST call names: /sobjects/<X>/..., or the FROM of a query."""
    parts = [p for p in (sub or "").strip("/").split("/") if p]
    if parts and parts[0] == "tooling":
        parts = parts[1:]
    if len(parts) >= 2 and parts[0] == "sobjects":
        return parts[1]
    if len(parts) >= 4 and parts[:2] == ["composite", "sobjects"]:
        return parts[2]
    if parts and parts[0] in ("query", "queryAll"):
        found = _FROM.search((params.get("q") or [""])[0] if params else "")
        return found.group(1) if found else None
    return None


def _app_of(org, session):
    name = (session or {}).get("app")
    if not name:
        return None
    app = next((a for a in org.connected_apps if a.get("name") == name), None)
    row = next((r for r in org.tables.get("ConnectedApplication", {}).values() if r.get("Name") == name), None)
    return {"name": name, "Id": (row or {}).get("Id") or (app or {}).get("id") or ""}


def record_call(org, token, user, method, family, version, resource, entity):
    """One line of today's ApiTotalUsage file for a call the org serves. Caller holds estate.lock."""
    if "EventLogFile" not in org.tables or user is None:
        return
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    row = _day_file(org, _day(now))
    line = _line(org, now, user["Id"], family, version, resource, method, entity,
                 _app_of(org, org.sessions.get(token)))
    lines = list(row.get("_lines") or []) + [line]
    org._put("EventLogFile", dict(row, _lines=lines, LogFileLength=float(row["LogFileLength"] + _width(line)),
                                  LastModifiedDate=now, SystemModstamp=now))


def _width(line):
    return len(",".join('"%s"' % line[c] for c in COLUMNS)) + 1


def touch_tokens(org, user_id, app_name):
    """An OAuth login through ``app_name``: its tokens of this user are used once more, now."""
    if "OauthToken" not in org.tables:
        return
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    for row in list(org.tables["OauthToken"].values()):
        if row.get("UserId") == user_id and row.get("AppName") == app_name:
            org._put("OauthToken", dict(row, UseCount=int(row.get("UseCount") or 0) + 1, LastUsedDate=now))


def load(loader):
    """The estate's API usage history (users' `api_usage`)."""
    org, spec = loader.org, loader.spec
    now = loader.estate.now
    for user_spec in spec.get("users") or []:
        usage = user_spec.get("api_usage")
        if not usage:
            continue
        user = org.find_user(user_spec["username"])
        objects = list(usage.get("objects") or [])
        if not objects:
            loader.fail("user %s: api_usage needs at least one object" % user_spec["username"])
        app_name = usage.get("app")
        if app_name and not any(a["name"] == app_name for a in org.connected_apps):
            loader.fail("user %s: api_usage of unknown connected app %r" % (user_spec["username"], app_name))
        entry = {"user_id": user["Id"], "calls": int(usage.get("calls_per_day", 10)), "objects": objects,
                 "methods": list(usage.get("methods") or ["GET"]), "app": app_name}
        for back in range(1, int(usage.get("days", 30)) + 1):
            row = _day_file(org, _day(now - datetime.timedelta(days=back)))
            history = list(row.get("_history") or []) + [entry]
            length = row["LogFileLength"] + 360.0 * entry["calls"]
            org._put("EventLogFile", dict(row, _history=history, LogFileLength=length))


def _history_lines(org, row):
    lines = []
    for entry in row.get("_history") or []:
        app = _app_of(org, {"app": entry.get("app")})
        for n in range(entry["calls"]):
            when = row["LogDate"] + datetime.timedelta(seconds=int(86000 * (n + 0.5) / max(entry["calls"], 1)))
            entity = entry["objects"][n % len(entry["objects"])]
            method = entry["methods"][n % len(entry["methods"])]
            resource = "/v62.0/query" if method == "GET" else "/v62.0/sobjects/%s" % entity
            lines.append(_line(org, when, entry["user_id"], "REST", "62.0", resource, method, entity, app))
    return lines


def _csv_value(value):
    return '"%s"' % str(value if value is not None else "").replace('"', '""')


def log_file(org, record_id):
    """The CSV of one ApiTotalUsage EventLogFile, or None when ``record_id`` is not one."""
    row = org.tables.get("EventLogFile", {}).get(record_id)
    if row is None:
        return None
    lines = sorted(_history_lines(org, row) + list(row.get("_lines") or []), key=lambda x: x["TIMESTAMP"])
    out = [",".join(_csv_value(c) for c in COLUMNS)]
    out.extend(",".join(_csv_value(line[c]) for c in COLUMNS) for line in lines)
    return "\n".join(out) + "\n"


def log_file_base64(org, record_id):
    text = log_file(org, record_id)
    return base64.b64encode(text.encode("utf-8")).decode("ascii") if text is not None else None
