"""Admin API under /__emulator__/ (loopback only, no auth): inspect orgs, set faults, reset.

Never reachable under a Salesforce path, so a client of the collection cannot hit it by mistake.
"""
from .faults import FaultRuleError
from .http_util import Answer


def _error(status, message):
    return Answer(status, {"error": message})


def _org(app, name):
    org = app.estate.orgs.get(name)
    if org is None:
        raise LookupError("unknown org %r" % name)
    return org


def org_summary(app, org):
    return {"name": org.name, "org_id": org.org_id, "is_sandbox": org.is_sandbox,
            "api_used": org.api_used, "api_daily_limit": org.api_daily_limit}


def handle(app, method, path, params, body):
    parts = [p for p in path.split("/") if p]
    try:
        if parts == ["orgs"] and method == "GET":
            with app.estate.lock:
                return Answer(200, [org_summary(app, org) for org in app.estate.orgs.values()])
        if len(parts) == 3 and parts[0] == "orgs":
            return _org_resource(app, method, _org(app, parts[1]), parts[2], body)
        if parts and parts[0] == "faults":
            return _faults(app, method, parts[1:], body)
        if parts == ["reset"] and method == "POST":
            return Answer(200, app.reset_estate())
    except LookupError as exc:
        return _error(404, str(exc.args[0]))
    except (FaultRuleError, ValueError, TypeError) as exc:
        return _error(400, str(exc))
    return _error(404, "no admin resource %s %s" % (method, "/".join(parts)))


def _org_resource(app, method, org, resource, body):
    with app.estate.lock:
        if resource == "state" and method == "GET":
            return Answer(200, org.dump_state())
        if resource == "calls" and method == "GET":
            return Answer(200, {"api_used": org.api_used, "api_daily_limit": org.api_daily_limit,
                                "calls": dict(org.call_counts)})
        if resource == "expire-sessions" and method == "POST":
            org.expire_sessions()
            return Answer(200, {"expired": True})
        if resource == "api-usage" and method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("used"), int) or body["used"] < 0:
                raise ValueError('body must be {"used": N} with N >= 0')
            org.api_used = body["used"]
            return Answer(200, org_summary(app, org))
    raise LookupError("no admin resource %s orgs/%s/%s" % (method, org.name, resource))


def _faults(app, method, rest, body):
    if not rest and method == "GET":
        return Answer(200, app.faults.report())
    if not rest and method == "POST":
        specs = body if isinstance(body, list) else [body]
        added = []
        for spec in specs:
            if isinstance(spec, dict) and isinstance(spec.get("rule"), str):
                spec = spec["rule"]
            if not isinstance(spec, (dict, str)):
                raise ValueError("a fault rule is a JSON object or {\"rule\": \"key=value,...\"}")
            added.append(app.faults.add(spec).as_dict())
        return Answer(201, added if isinstance(body, list) else added[0])
    if not rest and method == "DELETE":
        app.faults.clear()
        return Answer(200, app.faults.report())
    if len(rest) == 1 and method == "DELETE":
        if not app.faults.remove(int(rest[0])):
            raise LookupError("no fault rule %s" % rest[0])
        return Answer(200, app.faults.report())
    raise LookupError("no admin resource %s faults/%s" % (method, "/".join(rest)))

