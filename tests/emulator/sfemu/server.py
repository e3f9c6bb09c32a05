"""The HTTPS server: one host and port for every org, routing, REST shapes, paging, API accounting.

The org of a request comes from its credentials (access token, client id or username), never from
the host, so every org shares ``https://127.0.0.1:PORT``.
"""
import datetime
import itertools
import json
import re
import threading
import time
import traceback
from collections import OrderedDict
from urllib.parse import parse_qs, unquote, urlsplit

from . import DEFAULT_API_VERSION
from . import admin, oauth, query_meta, setup_access, usage
from .errors import OAuthError, SFError
from .faults import FaultRequest, limit_exceeded, lock_error
from .http_util import Answer, render_value, to_json
from .ids import PREFIXES, to18
from .objects import OBJECTS

OLDEST_API_VERSION = 31
MAX_CURSORS = 2000              # open query locators kept, oldest dropped first
DEFAULT_BATCH = 2000
COMPOSITE_MAX = 25
COMPOSITE_HEAVY_MAX = 5         # of the 25, at most 5 queries or sObject Collections
BATCH_MAX = 25
COLLECTION_MAX = 200
ROLLED_BACK = "Record rolled back because not all records were valid and the request was using AllOrNone header"
HALTED = "The transaction was rolled back since another operation in the same transaction failed."

_VERSION_PATH = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")


def api_versions():
    """[{"label", "url", "version"}], oldest first, ending at DEFAULT_API_VERSION."""
    seasons = ("Winter", "Spring", "Summer")
    newest = int(float(DEFAULT_API_VERSION))
    out = []
    for number in range(OLDEST_API_VERSION, newest + 1):
        step = number - 59              # v59.0 is Winter '24
        out.append({"label": "%s '%02d" % (seasons[step % 3], 24 + step // 3),
                    "url": "/services/data/v%d.0" % number, "version": "%d.0" % number})
    return out


SUPPORTED_VERSIONS = {entry["version"] for entry in api_versions()}
_OBJECTS_LOWER = {name.lower(): objdef for name, objdef in OBJECTS.items()}


def not_found():
    return SFError(404, "NOT_FOUND", "The requested resource does not exist")


def bad_method(method, allowed="GET"):
    """405 naming the resource's methods; HEAD is allowed wherever GET is, and listed first."""
    names = allowed.split(",")
    if "GET" in names and "HEAD" not in names:
        names.insert(0, "HEAD")
    return SFError(405, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed are %s" % (method, ",".join(names)))


def is_setup_object(name):
    """Setup objects (User, PermissionSet...) cannot share a DML call with data objects."""
    objdef = _OBJECTS_LOWER.get((name or "").lower())
    return bool(objdef and objdef.setup)


class Call:
    """One authenticated REST call: who, where, which version."""

    def __init__(self, app, org, user, version):
        self.app = app
        self.org = org
        self.user = user
        self.version = version

    @property
    def prefix(self):
        return "/services/data/v%s" % self.version


class Emulator:
    """Shared state of the server: the estate, faults, sessions issued, query cursors."""

    def __init__(self, estate, faults, base_url=""):
        self.estate = estate
        self.faults = faults
        self.base_url = base_url
        self.cursors = OrderedDict()
        self.cursor_numbers = itertools.count(1)
        self.cursor_lock = threading.Lock()

    # Sessions -----------------------------------------------------------------------------------
    def issue_session(self, org, user_id):
        with self.estate.lock:
            return org.new_session(user_id)

    def resolve_token(self, token):
        """(org, user) owning an access token, or (None, None). Caller holds estate.lock."""
        # Tokens start with the 15-character org Id, as Salesforce's do: that names their org.
        prefix = (token or "").partition("!")[0]
        for org in self.estate.orgs.values():
            if org.org_id and org.org_id[:15] == prefix:
                user = org.session_user(token)
                return (org, user) if user is not None else (None, None)
        return None, None

    def identity_url(self, org, user_id):
        return "%s/id/%s/%s" % (self.base_url, org.org_id, to18(user_id))

    # Query cursors -----------------------------------------------------------------------------
    def open_cursor(self, org, records, batch, extra):
        with self.cursor_lock:
            locator = to18("01g%012d" % next(self.cursor_numbers))
            self.cursors[locator] = dict(extra, org=org.name, records=records, batch=batch)
            while len(self.cursors) > MAX_CURSORS:
                self.cursors.popitem(last=False)
        return locator

    def cursor(self, org, locator):
        with self.cursor_lock:
            found = self.cursors.get(to18(locator))
        if found is None or found["org"] != org.name:
            raise SFError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return found

    # READY.json and reset -----------------------------------------------------------------------
    def org_connection(self, org):
        """What a client needs to reach one org with any auth flow (READY.json "orgs" entry)."""
        admin_user = org.admin_user
        apps = org.connected_apps
        app = next((a for a in apps if to18(a.get("run_as") or "") == to18(admin_user["Id"])),
                   apps[0] if apps else {})
        admin = {"username": admin_user["Username"], "user_id": to18(admin_user["Id"]),
                 "access_token": self.issue_session(org, admin_user["Id"]),
                 "client_id": app.get("client_id"), "client_secret": app.get("client_secret"),
                 "private_key_file": app.get("private_key_file"),
                 **user_credentials(org, admin_user)}
        return {"org_id": org.org_id, "instance_url": self.base_url, "login_url": self.base_url,
                "audience": oauth.audience(org), "is_sandbox": org.is_sandbox, "admin": admin}

    def connections(self):
        return {name: self.org_connection(org) for name, org in self.estate.orgs.items()}

    def reset_estate(self):
        """Back to the loaded estate: records, sessions, cursors, counters. Returns fresh admin tokens."""
        with self.estate.lock:
            # Estate.reset() rebuilds while the old orgs are still listed, and its client_id
            # uniqueness check then sees every app twice: rebuild from an empty listing instead
            # (old orgs put back if the rebuild fails).
            previous = dict(self.estate.orgs)
            self.estate.orgs.clear()
            try:
                self.estate.reset()
            except Exception:
                self.estate.orgs.update(previous)
                raise
        with self.cursor_lock:
            self.cursors.clear()
        self.faults.forget_sessions()
        return {"orgs": self.connections()}


def user_credentials(org, user):
    """{"password", "security_token"} of an estate user (for the username-password flow)."""
    creds = org.credentials.get(user["Id"]) or {}
    return {"password": creds.get("password"), "security_token": creds.get("security_token")}


# REST dispatch ------------------------------------------------------------------------------------
def _batch_size(headers):
    options = (headers or {}).get("Sforce-Query-Options") or ""
    found = re.search(r"batchSize\s*=\s*(\d+)", options)
    if not found:
        return DEFAULT_BATCH
    return max(200, min(DEFAULT_BATCH, int(found.group(1))))


def _page(call, records, start, batch, total, locator, tooling, object_name, query_path):
    end = start + batch
    done = end >= len(records)
    next_url = None if done else "%s/%s/%s-%d" % (call.prefix, query_path, locator, end)
    body = OrderedDict()
    if tooling:
        body["size"] = total
    body["totalSize"] = total
    body["done"] = done
    if next_url:
        body["nextRecordsUrl"] = next_url
    if tooling:
        body["queryLocator"] = None if done else "%s-%d" % (locator, end)
        body["entityTypeName"] = object_name
    body["records"] = records[start:end]
    return body


def _required_query(soql):
    if not soql:
        raise SFError(400, "MALFORMED_QUERY", "A query string has to be specified")
    return soql


def run_query(call, soql, tooling, headers):
    _required_query(soql)
    result = call.org.query(soql, call.user, tooling=tooling, api_version=call.version)
    records = list(result.records)
    batch = _batch_size(headers)
    locator = None
    if len(records) > batch:
        locator = call.app.open_cursor(call.org, records, batch, {
            "total": result.total_size, "tooling": tooling, "object_name": result.object_name})
    query_path = "tooling/query" if tooling else "query"
    return _page(call, records, 0, batch, result.total_size, locator, tooling, result.object_name, query_path)


def query_more(call, locator_and_offset, tooling):
    locator, _, offset = locator_and_offset.rpartition("-")
    if not locator or not offset.isdigit():
        raise SFError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    cursor = call.app.cursor(call.org, locator)
    query_path = "tooling/query" if tooling else "query"
    return _page(call, cursor["records"], int(offset), cursor["batch"], cursor["total"], to18(locator),
                 tooling, cursor["object_name"], query_path)


def _json_object(body, what="body"):
    if not isinstance(body, dict):
        raise SFError(400, "JSON_PARSER_ERROR", "The request %s must be a JSON object" % what)
    return body


def _record_fields(body):
    fields = dict(_json_object(body))
    fields.pop("attributes", None)
    return fields


def resources(call):
    prefix = call.prefix
    names = ("tooling", "metadata", "eclair", "folders", "prechatForms", "contact-tracing", "jsonxform",
             "chatter", "tabs", "appMenu", "quickActions", "queryAll", "commerce", "wave", "iot",
             "analytics", "search", "smartdatadiscovery", "identity", "composite", "parameterizedSearch",
             "fingerprint", "theme", "nouns", "domino", "event", "serviceTemplates", "recent",
             "connect", "licensing", "limits", "process", "dedupe", "async-queries", "query",
             "match", "emailConnect", "compactLayouts", "knowledgeManagement", "sobjects", "actions",
             "support")
    body = {name: "%s/%s" % (prefix, name) for name in names}
    body["identity"] = call.app.identity_url(call.org, call.user["Id"])
    return body


_SERVED_HEADS = ("", "limits", "query", "queryAll", "sobjects", "composite")   # keep in step with dispatch()


def _served(sub):
    """Whether a path below /services/data/vNN.N names a resource family the emulator serves."""
    parts = [p for p in sub.split("/") if p]
    if parts and parts[0] == "tooling":
        parts = parts[1:]
    return (parts[0] if parts else "") in _SERVED_HEADS


def dispatch(call, method, sub, params, body, headers):
    """Serve one REST resource below /services/data/vNN.N. Caller holds estate.lock and has counted."""
    org, user = call.org, call.user
    parts = [unquote(p) for p in sub.strip("/").split("/")] if sub.strip("/") else []
    tooling = bool(parts) and parts[0] == "tooling"
    if tooling:
        parts = parts[1:]
        if not parts:
            return Answer(200, {"query": call.prefix + "/tooling/query", "sobjects": call.prefix + "/tooling/sobjects"})

    if not parts:
        if method != "GET":
            raise bad_method(method)
        return Answer(200, resources(call))
    head = parts[0]
    if head == "limits" and not tooling and len(parts) == 1:
        if method != "GET":
            raise bad_method(method)
        return Answer(200, org.limits())
    if head in ("query", "queryAll"):
        if method != "GET":
            raise bad_method(method)
        if len(parts) == 1:
            if "explain" in params:
                return Answer(200, query_meta.explain(org, user, _required_query(params["explain"][0]), tooling,
                                                      call.version))
            soql = (params.get("q") or [""])[0]
            if _flag((params.get("columns") or [None])[0]):
                # What `sf data query` asks after every query that returned rows: the columns, no records.
                return Answer(200, query_meta.column_metadata(org, user, _required_query(soql), tooling,
                                                              call.version))
            return Answer(200, run_query(call, soql, tooling, headers))
        if len(parts) == 2:
            return Answer(200, query_more(call, parts[1], tooling))
        raise not_found()
    if head == "sobjects":
        return _sobjects(call, method, parts[1:], params, body, tooling)
    if head == "composite":
        if len(parts) >= 2 and parts[1] == "sobjects":
            return collections(call, method, parts[2:], params, body, tooling)
        # POST /composite and /composite/batch never get here (see _rest).
        raise bad_method(method, "POST")
    raise not_found()


def _sobjects(call, method, parts, params, body, tooling):
    org, user = call.org, call.user
    if not parts:
        if method != "GET":
            raise bad_method(method)
        return Answer(200, org.describe_global(user, tooling=tooling, api_version=call.version))
    sobject = parts[0]
    if len(parts) == 1:
        if method == "GET":
            described = org.describe(sobject, user, tooling=tooling, api_version=call.version)
            keep = ("name", "label", "labelPlural", "keyPrefix", "custom", "createable", "updateable",
                    "deletable", "queryable", "urls")
            return Answer(200, {"objectDescribe": {k: described[k] for k in keep if k in described},
                                "recentItems": []})
        if method == "POST":
            new_id = org.create(sobject, _record_fields(body), user, tooling=tooling)
            return Answer(201, {"id": new_id, "success": True, "errors": []})
        raise bad_method(method, "GET,POST")
    if len(parts) == 3 and parts[2] == "LogFile" and sobject.lower() == "eventlogfile" and not tooling:
        if method != "GET":
            raise bad_method(method)
        org.get_record(sobject, parts[1], user, fields=["Id"], api_version=call.version)  # 404 as a record's
        # A blob field's content is served raw, as Salesforce serves it (not JSON).
        return Answer(200, usage.log_file(org, parts[1]), {"Content-Type": "application/octet-stream"})
    if len(parts) == 2 and parts[1] in ("deleted", "updated"):
        if method != "GET":
            raise bad_method(method)
        return Answer(200, _replication(call, sobject, parts[1], params, tooling))
    if len(parts) == 2 and parts[1] == "describe":
        if method != "GET":
            raise bad_method(method)
        return Answer(200, org.describe(sobject, user, tooling=tooling, api_version=call.version))
    if len(parts) == 2:
        record_id = parts[1]
        if method == "GET":
            fields = None
            if params.get("fields"):
                fields = [f.strip() for f in params["fields"][0].split(",") if f.strip()]
            return Answer(200, org.get_record(sobject, record_id, user, fields=fields, tooling=tooling,
                                              api_version=call.version))
        if method == "PATCH":
            org.update(sobject, record_id, _record_fields(body), user, tooling=tooling)
            return Answer(204)
        if method == "DELETE":
            org.delete(sobject, record_id, user, tooling=tooling)
            return Answer(204)
        raise bad_method(method, "GET,PATCH,DELETE")
    raise not_found()


REPLICATION_DAYS = 30


def _replication_time(params, name):
    text = (params.get(name) or [""])[0].strip().replace(" ", "+")   # a "+" the client did not encode
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SFError(400, "INVALID_REPLICATION_DATE",
                      "%s: '%s' is not a valid dateTime (ISO 8601, e.g. 2024-01-31T00:00:00+00:00)" % (name, text)) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def _replication(call, sobject, kind, params, tooling):
    """``/sobjects/{T}/updated`` and ``/deleted``: Ids changed or deleted between start and end (30 days back at most)."""
    org = call.org
    odef = org._visible_def(sobject, call.user, tooling)        # unknown or unreadable: as describe fails
    start, end = _replication_time(params, "start"), _replication_time(params, "end")
    now = datetime.datetime.now(datetime.timezone.utc)
    earliest = now - datetime.timedelta(days=REPLICATION_DAYS)
    if end <= start:
        raise SFError(400, "INVALID_REPLICATION_DATE", "end date must be after start date")
    if start < earliest.replace(second=0, microsecond=0) - datetime.timedelta(minutes=1):
        raise SFError(400, "INVALID_REPLICATION_DATE", "start date cannot be more than %d days ago" % REPLICATION_DAYS)
    # Seconds in start and end are ignored; an end in the future is covered up to now.
    start, end = start.replace(second=0, microsecond=0), min(end.replace(second=0, microsecond=0), now)
    if kind == "updated":
        ids = sorted(row["Id"] for row in org.rows(odef.name)
                     if row.get("SystemModstamp") is not None and start <= row["SystemModstamp"] < end)
        return {"ids": ids, "latestDateCovered": render_value(end)}
    deleted = sorted((when, record_id) for record_id, (name, when) in org.deleted_log.items()
                     if name == odef.name and start <= when < end and org.get_row(name, record_id) is None)
    return {"deletedRecords": [{"id": record_id, "deletedDate": render_value(when)} for when, record_id in deleted],
            "earliestDateAvailable": render_value(earliest.replace(second=0, microsecond=0)),
            "latestDateCovered": render_value(end)}


def _flag(value, default=False):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def collections(call, method, parts, params, body, tooling=False):
    """sObject Collections: per-record results, allOrNone, no mixing of setup and data objects."""
    org, user = call.org, call.user
    if len(parts) == 1 and method == "GET":
        return _collection_read(call, parts[0], params, tooling)
    if len(parts) == 1 and method == "POST":
        # The same read with the Ids in the body: up to 2,000 of them (jsforce's retrieve([...]) uses it).
        payload = _json_object(body)
        ids, fields = payload.get("ids"), payload.get("fields")
        if not all(isinstance(v, list) and all(isinstance(i, str) for i in v) for v in (ids, fields)):
            raise SFError(400, "JSON_PARSER_ERROR", "ids and fields must be lists of strings")
        return _collection_read(call, parts[0], {"ids": [",".join(ids)], "fields": [",".join(fields)]}, tooling)
    if len(parts) == 1:
        raise bad_method(method, "GET,POST")
    if parts:
        raise not_found()
    if method == "DELETE":
        ids = [i for i in ",".join(params.get("ids") or []).split(",") if i]
        all_or_none = _flag((params.get("allOrNone") or [None])[0])
        items = [(None, record_id) for record_id in ids]
    elif method in ("POST", "PATCH"):
        payload = _json_object(body)
        all_or_none = _flag(payload.get("allOrNone"))
        records = payload.get("records")
        if not isinstance(records, list):
            raise SFError(400, "JSON_PARSER_ERROR", "records is required and must be a list")
        items = [(record, record.get("id") or record.get("Id") if isinstance(record, dict) else None)
                 for record in records]
    else:
        raise bad_method(method, "GET,POST,PATCH,DELETE")
    if not items:
        raise SFError(400, "INVALID_FIELD", "No records to process")
    if len(items) > COLLECTION_MAX:
        raise SFError(400, "EXCEEDED_ID_LIMIT", "Maximum number of records allowed: %d" % COLLECTION_MAX)

    savepoint = org.savepoint() if all_or_none else None
    results, kind = [], None
    for record, record_id in items:
        try:
            if method == "DELETE":
                sobject = _object_of_id(record_id)
            else:
                if not isinstance(record, dict) or not (record.get("attributes") or {}).get("type"):
                    raise SFError(400, "INVALID_TYPE", "Must send a concrete entity type.", fields=[])
                sobject = record["attributes"]["type"]
            setup = is_setup_object(sobject) if sobject else None
            if kind is None:
                kind = (setup, sobject)
            elif setup is not None and kind[0] is not None and setup != kind[0]:
                raise SFError(400, "MIXED_DML_OPERATION",
                              "DML operation on setup object is not permitted after you have updated a "
                              "non-setup object (or vice versa): %s, original object: %s" % (sobject, kind[1]),
                              fields=[])
            if method == "POST":
                record_id = org.create(sobject, _record_fields(record), user, tooling=tooling)
            elif method == "PATCH":
                if not record_id:
                    raise SFError(400, "MISSING_ARGUMENT", "Id not specified in an update call", fields=[])
                fields = _record_fields(record)
                fields.pop("id", None)
                fields.pop("Id", None)
                org.update(sobject, record_id, fields, user, tooling=tooling)
            else:
                if sobject is None:
                    raise SFError(400, "INVALID_ID_FIELD", "invalid record id", fields=[])
                org.delete(sobject, record_id, user, tooling=tooling)
            results.append({"id": to18(record_id), "success": True, "errors": []})
        except SFError as exc:
            failed = {"success": False, "errors": [exc.as_collection_error()]}
            if record_id and method != "POST":
                failed = {"id": to18(record_id), **failed}
            results.append(failed)
    if savepoint is not None and any(not r["success"] for r in results):
        savepoint.rollback()
        rolled = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": ROLLED_BACK, "fields": []}
        for index, result in enumerate(results):
            if result["success"]:
                replaced = {"success": False, "errors": [dict(rolled)]}
                if method != "POST":
                    replaced = {"id": result["id"], **replaced}
                results[index] = replaced
    return Answer(200, results)


def _collection_read(call, sobject, params, tooling):
    """GET composite/sobjects/{Type}?ids=&fields=: records in the order asked, null where not found."""
    ids = [i for i in ",".join(params.get("ids") or []).split(",") if i]
    fields = [f for f in ",".join(params.get("fields") or []).split(",") if f]
    if not ids or not fields:
        raise SFError(400, "MALFORMED_QUERY", "ids and fields are required")
    if len(ids) > 2000:
        raise SFError(400, "EXCEEDED_ID_LIMIT", "Maximum number of Ids allowed: 2000")
    records = []
    for record_id in ids:
        try:
            records.append(call.org.get_record(sobject, record_id, call.user, fields=fields, tooling=tooling,
                                               api_version=call.version))
        except SFError as exc:
            if exc.status != 404:
                raise
            records.append(None)
    return Answer(200, records)


def _object_of_id(record_id):
    """The sObject an Id belongs to, from its key prefix (None when unknown)."""
    if not record_id or len(record_id) not in (15, 18):
        return None
    for name, prefix in PREFIXES.items():
        if record_id.startswith(prefix):
            return name
    return None


def _resolve_path(value, path):
    for name, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        if name:
            if not isinstance(value, dict):
                return None
            lowered = {k.lower(): v for k, v in value.items()}
            value = value[name] if name in value else lowered.get(name.lower())
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return None
            value = value[int(index)]
        if value is None:
            return None
    return value


def _substitute(value, outputs):
    """Replace @{ref.path} references with earlier subrequest results; KeyError names a bad reference."""
    if isinstance(value, str):
        def replace(match):
            ref, path = match.group(1), match.group(2)
            if ref not in outputs:
                raise KeyError(match.group(0))
            found = _resolve_path(outputs[ref], path)
            if found is None or isinstance(found, (dict, list)):
                raise KeyError(match.group(0))
            return str(found).lower() if isinstance(found, bool) else str(found)
        return _REFERENCE.sub(replace, value)
    if isinstance(value, dict):
        return {k: _substitute(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, outputs) for v in value]
    return value


def _split_sub_url(call, url, relative_ok=False):
    """A subrequest URL -> (sub path below the version, params)."""
    parsed = urlsplit(url)
    path = parsed.path
    if relative_ok and not path.startswith("/"):
        path = "/services/data/" + path
    found = _VERSION_PATH.match(path)
    if not found or found.group(1) not in SUPPORTED_VERSIONS:
        raise not_found()
    return found.group(2) or "", parse_qs(parsed.query)


def _sub_answer(call, method, url, body, headers, relative_ok=False):
    try:
        sub, params = _split_sub_url(call, url, relative_ok)
        resource = re.sub(r"^tooling/", "", sub.strip("/"))
        if resource.startswith("composite") and not resource.startswith("composite/sobjects"):
            raise SFError(400, "INVALID_SUBREQUEST", "composite subrequests cannot call composite resources")
        return dispatch(call, method.upper(), sub, params, body, headers)
    except SFError as exc:
        return Answer(exc.status, [exc.as_rest()])


def composite(call, body):
    payload = _json_object(body)
    subrequests = payload.get("compositeRequest")
    if not isinstance(subrequests, list) or not subrequests:
        raise SFError(400, "JSON_PARSER_ERROR", "compositeRequest is required and must be a non-empty list")
    if len(subrequests) > COMPOSITE_MAX:
        raise SFError(400, "LIMIT_EXCEEDED",
                      "Composite Request limit exceeded. Max Number of subrequests is %d." % COMPOSITE_MAX)
    _check_composite_shape(subrequests)
    all_or_none = _flag(payload.get("allOrNone"))
    savepoint = call.org.savepoint() if all_or_none else None
    outputs, responses, failed = {}, [], False
    for sub in subrequests:
        reference = sub["referenceId"]
        if failed and all_or_none:
            responses.append(_halted(reference))
            continue
        try:
            url = _substitute(sub.get("url") or "", outputs)
            sub_body = _substitute(sub.get("body"), outputs)
        except KeyError as missing:
            answer = Answer(400, [{"errorCode": "PROCESSING_HALTED",
                                   "message": "Invalid reference specified. No value for %s found in a previous "
                                              "successful subrequest." % missing.args[0]}])
        else:
            answer = _sub_answer(call, sub.get("method") or "GET", url, sub_body, sub.get("httpHeaders") or {})
        headers = {}
        if answer.status == 201 and isinstance(answer.body, dict) and answer.body.get("id"):
            headers["Location"] = "%s/%s" % (urlsplit(url).path.rstrip("/"), answer.body["id"])
        responses.append({"body": answer.body, "httpHeaders": headers, "httpStatusCode": answer.status,
                          "referenceId": reference})
        if answer.status < 400:
            outputs[reference] = answer.body
        else:
            failed = True
    if failed and all_or_none:
        savepoint.rollback()
        for index, response in enumerate(responses):
            if response["httpStatusCode"] < 400:
                responses[index] = _halted(response["referenceId"])
    return Answer(200, {"compositeResponse": responses})


def _check_composite_shape(subrequests):
    """Refuse the whole request as Salesforce does: reference Ids and the 5 query/collection cap."""
    seen, heavy = set(), 0
    for sub in subrequests:
        reference = sub.get("referenceId") if isinstance(sub, dict) else None
        if not isinstance(reference, str) or not _REFERENCE_ID.match(reference):
            raise SFError(400, "JSON_PARSER_ERROR",
                          "Provided referenceId ('%s') must start with a letter or a number, and it can contain "
                          "only letters, numbers and underscores ('_')." % reference)
        if reference in seen:
            raise SFError(400, "JSON_PARSER_ERROR", "Duplicate referenceId provided in the request: %s" % reference)
        seen.add(reference)
        path = urlsplit(str(sub.get("url") or "")).path
        if re.search(r"/(query|queryAll)(/|$)|/composite/sobjects", path):
            heavy += 1
    if heavy > COMPOSITE_HEAVY_MAX:
        raise SFError(400, "LIMIT_EXCEEDED", "Composite Request limit exceeded. Max Number of query and sObject "
                      "Collections subrequests is %d." % COMPOSITE_HEAVY_MAX)


def _halted(reference):
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": HALTED}], "httpHeaders": {},
            "httpStatusCode": 400, "referenceId": reference}


# HTTP ---------------------------------------------------------------------------------------------
class Headers:
    """Request headers by case-insensitive name (the last value of a repeated header wins)."""

    def __init__(self, pairs=()):
        self._values = {}
        for name, value in pairs:
            self._values[name.lower()] = value

    def get(self, name, default=None):
        return self._values.get(name.lower(), default)

    def __contains__(self, name):
        return name.lower() in self._values

    def items(self):
        return self._values.items()


class Request:
    """One HTTP request as the transport (transport.py) hands it over: the body already de-chunked."""

    def __init__(self, method, path, query, headers, body=b""):
        self.method = method.upper()
        self.path = path            # percent-encoded, as it came on the request line
        self.query = query
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.body = body or b""


class Response:
    """What the transport writes: status, header pairs, payload (sent even for HEAD: the transport drops it)."""

    def __init__(self, status, headers, payload):
        self.status = status
        self.headers = headers
        self.payload = payload


def handle(app, request):
    """Answer one request: route it, turn every error into Salesforce's shape. Never raises."""
    path, method = request.path, request.method
    params = parse_qs(request.query, keep_blank_values=True)
    state = {"limit_org": None}
    # HEAD is GET without the body: routed, authenticated and counted as GET is (the label keeps HEAD).
    routed = "GET" if method == "HEAD" else method
    if path.startswith("//"):
        # The Salesforce CLI keeps instance URLs with a trailing "/" and asks "//services/data/..."; orgs
        # answer those as if the path had one leading slash, so does the emulator (by this rule, not by
        # accident of the HTTP library).
        path = "/" + path.lstrip("/")
    try:
        if path.startswith("/__emulator__/") or path == "/__emulator__":
            answer = admin.handle(app, routed, path[len("/__emulator__/"):], params, _parse_json(request.body))
        elif path == "/services/oauth2/token" or path.startswith("/services/oauth2/token/"):
            answer = _token(app, request, method, path)
        elif path.startswith("/services/oauth2/userinfo") or path.startswith("/id/"):
            answer = _identity(app, request, routed, path, params)
        elif path.rstrip("/") == "/services/data":
            if routed != "GET":
                raise bad_method(method)
            answer = Answer(200, api_versions())
        elif path.startswith("/services/data/"):
            answer = _rest(app, request, method, path, params, state)
        elif path.startswith("/services/apexrest/"):    # Apex REST classes (issue 12)
            answer = setup_access.serve_apex_rest(app, request, method, unquote(path), state)
        else:
            answer = Answer(404, [not_found().as_rest()])
    except OAuthError as exc:
        answer = Answer(exc.status, exc.as_body())
    except SFError as exc:
        # A redirect fault (faults.RedirectFault) carries its Location header.
        answer = Answer(exc.status, [exc.as_rest()], getattr(exc, "headers", None))
    except Exception:  # the emulator must answer like Salesforce, and say why on stderr
        traceback.print_exc()
        answer = Answer(500, [{"errorCode": "UNKNOWN_EXCEPTION",
                               "message": "An unexpected error occurred. Please include this ErrorId if you "
                                          "contact support: 0-0 (emulator)"}])
    return render(answer, state["limit_org"])


def _bearer(request, params=None):
    value = request.headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    if params is not None and params.get("oauth_token"):
        # The identity service also takes the token as a query parameter.
        return params["oauth_token"][0]
    return None


def _token(app, request, method, path):
    fault = FaultRequest(method, path, oauth=True)
    _sleep(app, fault)
    app.faults.check_errors(fault)
    if method != "POST":
        raise OAuthError("invalid_request", "must use HTTP POST")
    form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
    return app.faults.rewrite_token_answer(oauth.token(app, form, request.headers), fault)


def _identity(app, request, method, path, params):
    if method != "GET":
        raise bad_method(request.method)
    with app.estate.lock:
        org, user = app.resolve_token(_bearer(request, params if path.startswith("/id/") else None))
    if org is None:
        # The identity service answers 403 with a plain message for a bad token.
        return Answer(403, "Bad_OAuth_Token") if path.startswith("/id/") else Answer(
            401, [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}])
    return oauth.identity(app, org, user, path)


def _sleep(app, fault):
    delay = app.faults.delay_seconds(fault)
    if delay > 0:
        time.sleep(delay)


def _rest(app, request, method, path, params, state):
    found = _VERSION_PATH.match(path)
    if not found or found.group(1) not in SUPPORTED_VERSIONS:
        raise not_found()
    version, sub = found.group(1), found.group(2) or ""
    routed = "GET" if method == "HEAD" else method
    token = _bearer(request)
    with app.estate.lock:
        org, user = app.resolve_token(token)
    if org is None:
        raise SFError(401, "INVALID_SESSION_ID", "Session expired or invalid")
    state["limit_org"] = org
    call = Call(app, org, user, version)
    if not _served(sub):
        body = None                 # an unknown resource is a 404 whatever its body (dispatch says so)
    else:
        body = _parse_json(request.body)
    sobject, record_ids = _fault_target(sub, params, body)
    fault = FaultRequest(routed, path, org.name, sobject, (params.get("q") or [None])[0])
    app.faults.check_session(fault, token)
    _sleep(app, fault)
    label = endpoint_label(method, sub)
    with app.estate.lock:
        if org.api_used >= org.api_daily_limit:
            raise limit_exceeded()
        try:
            app.faults.check_errors(fault, record_ids[0] if record_ids else None)
        except SFError as exc:
            if exc.error_code != "UNABLE_TO_LOCK_ROW" or "/composite/sobjects" not in label:
                raise
            # sObject Collections report a lock per record, in a 200 answer that counts as a call.
            org.count_call(label)
            return _locked_collection(method, record_ids)
        if label in ("POST /composite/batch", "POST /tooling/composite/batch"):
            return batch(call, body)
        org.count_call(label)
        usage.record_call(org, token, user, routed, "REST", version, "/v%s%s" % (version, sub or "/"),
                          usage.entity_of(sub, params))
        if label in ("POST /composite", "POST /tooling/composite"):
            return composite(call, body)
        return dispatch(call, routed, sub, params, body, request.headers)


def render(answer, limit_org=None):
    """An Answer as status, header pairs and payload bytes."""
    text = isinstance(answer.body, str)       # a few identity errors are plain text, as Salesforce's
    if answer.body is None or answer.status == 204:
        payload = b""
    else:
        payload = answer.body.encode("utf-8") if text else to_json(answer.body)
    headers = []
    if payload and "Content-Type" not in answer.headers:
        headers.append(("Content-Type", "text/plain;charset=UTF-8" if text else "application/json;charset=UTF-8"))
    headers.append(("Content-Length", str(len(payload))))
    if limit_org is not None:
        headers.append(("Sforce-Limit-Info", "api-usage=%d/%d" % (limit_org.api_used, limit_org.api_daily_limit)))
    headers.extend(answer.headers.items())
    return Response(answer.status, headers, payload)


def batch(call, body):
    """composite/batch: independent subrequests, each one API call. Caller holds estate.lock."""
    payload = _json_object(body)
    subrequests = payload.get("batchRequests")
    if not isinstance(subrequests, list) or not subrequests:
        raise SFError(400, "JSON_PARSER_ERROR", "batchRequests is required and must be a non-empty list")
    if len(subrequests) > BATCH_MAX:
        raise SFError(400, "LIMIT_EXCEEDED", "Batch Request limit exceeded. Max Number of subrequests is %d."
                      % BATCH_MAX)
    halt = _flag(payload.get("haltOnError"))
    results, has_errors = [], False
    for sub in subrequests:
        sub = _json_object(sub, "subrequest")
        if halt and has_errors:
            results.append({"statusCode": 412, "result": [{"errorCode": "BATCH_PROCESSING_HALTED",
                                                           "message": "Batch processing halted per request"}]})
            continue
        method = (sub.get("method") or "GET").upper()
        if call.org.api_used >= call.org.api_daily_limit:
            answer = Answer(403, [limit_exceeded().as_rest()])
        else:
            sub_path = urlsplit(sub.get("url") or "").path
            if not sub_path.startswith("/"):
                sub_path = "/services/data/" + sub_path
            found = _VERSION_PATH.match(sub_path)
            call.org.count_call(endpoint_label(method, found.group(2) or "" if found else ""))
            answer = _sub_answer(call, method, sub.get("url") or "", sub.get("richInput"), {}, relative_ok=True)
        has_errors = has_errors or answer.status >= 400
        results.append({"statusCode": answer.status, "result": answer.body})
    return Answer(200, {"hasErrors": has_errors, "results": results})


def endpoint_label(method, sub):
    """Stable per-endpoint label for API accounting: ``GET /query``, ``PATCH /sobjects/{type}/{id}``."""
    parts = [p for p in sub.strip("/").split("/") if p]
    prefix = ""
    if parts and parts[0] == "tooling":
        prefix, parts = "/tooling", parts[1:]
    if not parts:
        shape = "/"
    elif parts[0] in ("query", "queryAll"):
        shape = "/%s" % parts[0] + ("/{locator}" if len(parts) > 1 else "")
    elif parts[0] == "sobjects":
        names = ["sobjects", "{type}", "describe" if len(parts) > 2 and parts[2] == "describe" else "{id}"]
        shape = "/" + "/".join(names[:len(parts)])
    else:
        shape = "/" + "/".join(parts[:2])
    return "%s %s%s" % (method, prefix, shape)


def _fault_target(sub, params, body):
    """(sObject, record Ids) a request touches, for fault matching: from the URL or a collection body."""
    parts = [p for p in sub.strip("/").split("/") if p]
    if parts and parts[0] == "tooling":
        parts = parts[1:]
    if len(parts) >= 2 and parts[0] == "sobjects":
        record_ids = [to18(parts[2])] if len(parts) >= 3 and parts[2] != "describe" else []
        return parts[1], record_ids
    if parts[:2] == ["composite", "sobjects"]:
        if isinstance(body, dict) and isinstance(body.get("records"), list):
            records = [r for r in body["records"] if isinstance(r, dict)]
            types = [(r.get("attributes") or {}).get("type") for r in records]
            return (types[0] if types else None), [to18(r.get("id") or r.get("Id")) for r in records]
        ids = [i for i in ",".join(params.get("ids") or []).split(",") if i]
        return (_object_of_id(ids[0]) if ids else None), [to18(i) for i in ids]
    return None, []


def _locked_collection(method, record_ids):
    results = []
    for record_id in record_ids:
        result = {"success": False, "errors": [lock_error(record_id or "000000000000000AAA").as_collection_error()]}
        if record_id and method != "POST":
            result = {"id": record_id, **result}
        results.append(result)
    return Answer(200, results)


def _parse_json(raw):
    if not raw or not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise SFError(400, "JSON_PARSER_ERROR", "Unexpected character in JSON body: %s" % exc) from None
