# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ApiTotalUsage event log: who called the API, through which connected app, on which objects (issue 18).

Every API-enabled org keeps one-day ``EventLogFile`` rows of EventType 'ApiTotalUsage' for free; the
``LogFile`` blob is a CSV with one line per API call. Reading it needs View Event Log Files (with API
Enabled) or View All Data: an org that hides it is "not readable", never "no use".

    build_usage_files_soql(lookback_days) -> SOQL listing the newest daily file in the window (rides in
        read_users' composite: one subrequest, no call of its own unless it splits the composite).
    read_usage(client, files) -> usage summary (below) | None when no file is in the window.
        Cost: one call (the newest file's CSV), or none when the file is larger than MAX_FILE_BYTES.
    parse_usage_csv(text) -> {18-char user Id: per-user usage}  (pure)
    merge_usage(users, summary) -> each user's ``api_usage`` (pure, in place)

Per-user usage::

    {"calls": n, "objects": {name: {"read": n, "write": n, "delete": n}}, "apps": {name: n},
     "apex": {resource: n}, "failed_calls": n, "unattributed_calls": n}

Usage summary::

    {"status": "read" | "unreadable" | "none" | "too_large", "date": "YYYY-MM-DD" | None,
     "detail": text, "users": {18-char Id: per-user usage}}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ApiError
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import is_id, to18

EVENT_TYPE = "ApiTotalUsage"
# The newest daily file only: with the listing, at most two calls per org beside the users' read (issue 18).
FILES_READ = 1
# A file past this size is not downloaded (a busy org's day can be hundreds of MB); it is said so.
MAX_FILE_BYTES = 32 * 1024 * 1024
WRITE_METHODS = frozenset(("POST", "PATCH", "PUT", "DELETE"))
# The columns read; Salesforce may add others, a file without these is not an ApiTotalUsage log.
REQUIRED_COLUMNS = ("USER_ID", "API_FAMILY", "API_RESOURCE", "HTTP_METHOD", "ENTITY_NAME", "CONNECTED_APP_NAME")


class UsageLogError(ValueError):
    """A LogFile that is not the CSV of an ApiTotalUsage file."""


def build_usage_files_soql(lookback_days):
    """The newest complete day: Salesforce publishes a day's file the next day (the emulator keeps today's
    up to date as calls arrive, which a real org never shows)."""
    days = int(lookback_days)
    if days < 1:
        raise ValueError("lookback_days must be at least 1")
    return ("SELECT Id, LogDate, LogFileLength FROM EventLogFile WHERE EventType = '%s' AND Interval = 'Daily' "
            "AND LogDate = LAST_N_DAYS:%d AND LogDate < TODAY ORDER BY LogDate DESC LIMIT %d" % (EVENT_TYPE, days, FILES_READ))


def unreadable(error):
    """The summary of an org whose event log the connecting user could not list or read."""
    return {"status": "unreadable", "date": None, "users": {},
            "detail": "the ApiTotalUsage log could not be read by the connecting user (reading it needs View Event "
                      "Log Files with API Enabled, or View All Data): %s" % str(error)[:200]}


def _new_usage():
    return {"calls": 0, "objects": {}, "apps": {}, "apex": {}, "failed_calls": 0, "unattributed_calls": 0}


def call_kind(row):
    """``read``, ``write``, ``delete`` or None (a call the log cannot tie to one) for one log line. REST says it
    with the HTTP method; SOAP posts every call, so its resource (the API method) says it; Bulk, GraphQL and
    the others are left unclassified."""
    family = (row.get("API_FAMILY") or "").strip()
    if family == "REST":
        method = (row.get("HTTP_METHOD") or "").strip().upper()
        return "delete" if method == "DELETE" else "write" if method in WRITE_METHODS else "read"
    if family == "SOAP":
        resource = (row.get("API_RESOURCE") or "").strip().lower()
        if resource in ("delete", "harddelete"):
            return "delete"
        if resource in _SOAP_WRITES:
            return "write"
        if resource in _SOAP_READS:
            return "read"
    return None


_SOAP_WRITES = frozenset(("create", "update", "upsert", "merge", "undelete", "convertlead", "process"))
_SOAP_READS = frozenset(("query", "queryall", "querymore", "retrieve", "search", "describesobject",
                         "describesobjects", "describelayout", "getupdated", "getdeleted"))


def parse_usage_csv(text):
    """``{18-char user Id: usage}`` from an ApiTotalUsage LogFile; UsageLogError when it is not one.

    Refused calls (STATUS_CODE 400 and above) count in ``failed_calls`` only: a call Salesforce refused used
    nothing. A call with no object, or one the log cannot tie to read or write, counts in
    ``unattributed_calls`` (composite and Bulk calls name no object): its use is unknown, not none."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = reader.fieldnames or ()
        missing = [c for c in REQUIRED_COLUMNS if c not in fields]
        if missing:
            raise UsageLogError("the log file has no column %s" % ", ".join(missing))
        users = {}
        for row in reader:
            _count_line(users, row)
    except csv.Error as exc:
        raise UsageLogError("the log file is not a CSV Salesforce writes (%s)" % str(exc)[:120])
    return users


def _count_line(users, row):
    raw_id = (row.get("USER_ID_DERIVED") or row.get("USER_ID") or "").strip()
    if not is_id(raw_id):
        return  # a line of no user (an internal call): nobody's evidence
    usage = users.setdefault(to18(raw_id), _new_usage())
    usage["calls"] += 1
    status = (row.get("STATUS_CODE") or "").strip()
    if status.isdigit() and int(status) >= 400:
        usage["failed_calls"] += 1
        return
    app = (row.get("CONNECTED_APP_NAME") or "").strip()
    if app:
        usage["apps"][app] = usage["apps"].get(app, 0) + 1
    if (row.get("API_FAMILY") or "").strip() == "ApexREST":
        resource = (row.get("API_RESOURCE") or "").strip()
        usage["apex"][resource] = usage["apex"].get(resource, 0) + 1
        return
    entity, kind = (row.get("ENTITY_NAME") or "").strip(), call_kind(row)
    if not entity or kind is None:
        usage["unattributed_calls"] += 1
        return
    counts = usage["objects"].setdefault(entity, {"read": 0, "write": 0, "delete": 0})
    counts[kind] += 1


def _length(row):
    try:
        return float(row.get("LogFileLength"))
    except (TypeError, ValueError):
        return None


def read_usage(client, files):
    """The usage summary of the newest file among ``files`` (rows of build_usage_files_soql)."""
    files = [f for f in files or () if isinstance(f, dict) and f.get("Id")]
    if not files:
        return {"status": "none", "date": None, "users": {},
                "detail": "no ApiTotalUsage log file in the window (the org keeps none, or none was written yet)"}
    newest = files[0]
    date = str(newest.get("LogDate") or "")[:10] or None
    length = _length(newest)
    if length is None or length > MAX_FILE_BYTES:
        return {"status": "too_large", "date": date, "users": {},
                "detail": "the ApiTotalUsage log of %s holds %s bytes, more than the %d read: not downloaded" % (
                    date, "an unknown number of" if length is None else "%d" % length, MAX_FILE_BYTES)}
    if not is_id(newest["Id"]):
        return {"status": "unreadable", "date": date, "users": {},
                "detail": "the ApiTotalUsage log listing names %r, which is not a record Id: not fetched"
                          % str(newest["Id"])[:40]}
    try:
        text = client.get_text("sobjects/EventLogFile/%s/LogFile" % to18(newest["Id"]))
    except ApiError as exc:
        return dict(unreadable(exc), date=date)
    try:
        users = parse_usage_csv(text)
    except UsageLogError as exc:
        return {"status": "unreadable", "date": date, "users": {},
                "detail": "the ApiTotalUsage log of %s could not be read: %s" % (date, exc)}
    return {"status": "read", "date": date, "users": users,
            "detail": "the ApiTotalUsage log of %s (%d user%s called the API)" % (
                date, len(users), "" if len(users) == 1 else "s")}


def merge_usage(users, summary):
    """Set each user's ``api_usage``: its usage of the summary's day ({} when it made no call that day),
    None when the log was not read (unknown, not none); ``api_usage_log`` says which day and why."""
    read = summary is not None and summary["status"] == "read"
    for user in users:
        user["api_usage"] = summary["users"].get(user["id"], _new_usage()) if read else None
        user["api_usage_log"] = None if summary is None else {"status": summary["status"], "date": summary["date"],
                                                              "detail": summary["detail"]}
    return users


def describe_usage(usage, date, limit=4):
    """``N API calls on D through app 'X'; objects: Account (3 read, 1 write), ...`` for messages."""
    objects = sorted(usage["objects"].items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    parts = ["%d API calls on %s" % (usage["calls"], date)]
    if usage["apps"]:
        busiest = sorted(usage["apps"], key=lambda app: (-usage["apps"][app], app))[:limit]
        parts[0] += " through " + ", ".join("app '%s'" % app for app in busiest)
    if objects:
        more = " and %d more" % (len(objects) - limit) if len(objects) > limit else ""
        parts.append("objects: " + ", ".join("%s (%d read, %d write%s)" % (
            name, c["read"], c["write"], ", %d delete" % c["delete"] if c.get("delete") else "")
            for name, c in objects[:limit]) + more)
    if usage["apex"]:
        parts.append("Apex REST: " + ", ".join(sorted(usage["apex"])[:limit]))
    return "; ".join(parts)
