"""Fault injection: latency, 5xx answers, row locks, expiring sessions, spent limits.

A rule is written on the command line as comma-separated ``key=value`` pairs, or posted to the admin
API as a JSON object with the same keys. Effects (at least one):

    latency_ms=N [jitter_ms=J]   delay matching requests by N ms (+ uniform 0..J ms)
    status=503 | status=500      answer SERVER_UNAVAILABLE / UNKNOWN_EXCEPTION
    error=lock                   writes fail with UNABLE_TO_LOCK_ROW
    error=limit                  answer REQUEST_LIMIT_EXCEEDED, as if the daily allocation were spent
    expire_calls=N               a session dies after N calls (401 INVALID_SESSION_ID from call N+1)
    expire_seconds=T             a session dies T seconds after its first call
    redirect=URL [redirect_status=307]
                                 answer a redirect to URL (301/302/303/307/308) instead (token and data API);
                                 Salesforce never does: a client must refuse it, never follow it
    instance_url=URL [identity_url=URL]
                                 token answers name this instance_url (and identity URL) instead of the
                                 emulator's own: a client must refuse http:// or a foreign host before
                                 sending the bearer token there

Matchers (all optional, all must hold): org=NAME, method=GET, path=SUBSTRING, path_re=REGEX,
object=SOBJECT (FROM object of a query, or the sObject of the URL). How often: rate=0.1 (share of
matching requests, drawn from the seeded generator), nth=3 (only the 3rd matching request),
times=N (stop after N injections). Example: ``status=503,rate=0.1,org=acme-prod,method=GET,path=/query``.
"""
import random
import re
import threading
import time

from .errors import SFError

_EFFECT_KEYS = ("latency_ms", "status", "error", "expire_calls", "expire_seconds", "redirect", "instance_url")
_INT_KEYS = ("latency_ms", "jitter_ms", "status", "expire_calls", "nth", "times", "redirect_status")
_FLOAT_KEYS = ("rate", "expire_seconds")
_KNOWN_KEYS = set(_EFFECT_KEYS) | set(_INT_KEYS) | set(_FLOAT_KEYS) | {"org", "method", "path", "path_re",
                                                                       "object", "id", "identity_url"}
_WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
_FROM_OBJECT = re.compile(r"\bfrom\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


class FaultRuleError(ValueError):
    pass


def parse_rule(text):
    """``key=value,key=value`` -> dict with typed values."""
    data = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise FaultRuleError("fault rule part %r is not key=value" % part)
        data[key.strip()] = value.strip()
    return data


class FaultRule:
    def __init__(self, spec, rule_id, seed):
        unknown = set(spec) - _KNOWN_KEYS
        if unknown:
            raise FaultRuleError("unknown fault rule keys: %s" % ", ".join(sorted(unknown)))
        try:
            for key in _INT_KEYS:
                if spec.get(key) is not None:
                    spec[key] = int(spec[key])
            for key in _FLOAT_KEYS:
                if spec.get(key) is not None:
                    spec[key] = float(spec[key])
        except (TypeError, ValueError) as exc:
            raise FaultRuleError("bad number in fault rule: %s" % exc) from None
        if not any(spec.get(key) is not None for key in _EFFECT_KEYS):
            raise FaultRuleError("a fault rule needs one of: %s" % ", ".join(_EFFECT_KEYS))
        if spec.get("status") not in (None, 500, 503):
            raise FaultRuleError("status must be 500 or 503")
        if spec.get("error") not in (None, "lock", "limit"):
            raise FaultRuleError("error must be lock or limit")
        if spec.get("redirect_status") not in (None, 301, 302, 303, 307, 308):
            raise FaultRuleError("redirect_status must be 301, 302, 303, 307 or 308")
        self.id = rule_id
        self.spec = spec
        self.path_re = re.compile(spec["path_re"]) if spec.get("path_re") else None
        # Seeded by the rule's content, not its id: the same rules with the same seed fire on the
        # same requests, run after run, even after the rules were cleared and posted again.
        self.rng = random.Random("%s/%s" % (seed, sorted((k, str(v)) for k, v in spec.items())))
        self.matched = 0
        self.injected = 0

    def as_dict(self):
        return dict(self.spec, id=self.id, matched=self.matched, injected=self.injected)

    def matches(self, request):
        spec = self.spec
        if spec.get("org") and spec["org"] != request.org_name:
            return False
        if spec.get("method") and spec["method"].upper() != request.method:
            return False
        if spec.get("path") and spec["path"] not in request.path:
            return False
        if self.path_re and not self.path_re.search(request.path):
            return False
        if spec.get("object") and (request.sobject or "").lower() != spec["object"].lower():
            return False
        if spec.get("error") == "lock" and request.method not in _WRITE_METHODS:
            return False
        # Token requests hold no records and are not API calls: no row locks, no spent allocation.
        if request.oauth and spec.get("error") in ("lock", "limit"):
            return False
        # Token answers only: the URLs a token answer names.
        if spec.get("instance_url") and not request.oauth:
            return False
        return True

    def fires(self):
        """Called once per matching request: does this one get the fault? (counts matches)."""
        self.matched += 1
        spec = self.spec
        if spec.get("times") is not None and self.injected >= spec["times"]:
            return False
        if spec.get("nth") is not None and self.matched != spec["nth"]:
            return False
        if spec.get("rate") is not None and self.rng.random() >= spec["rate"]:
            return False
        return True


class FaultRequest:
    """What the rules match on."""

    def __init__(self, method, path, org_name=None, sobject=None, query=None, oauth=False):
        self.oauth = oauth
        self.method = method.upper()
        self.path = path
        self.org_name = org_name
        self.sobject = sobject
        if sobject is None and query:
            found = _FROM_OBJECT.search(query)
            self.sobject = found.group(1) if found else None


class Faults:
    def __init__(self, seed=0, latency_ms=0):
        self.seed = seed
        self.latency_ms = latency_ms
        self.rules = []
        self.lock = threading.Lock()
        self.next_id = 1
        self.sessions = {}       # token -> [calls, first call time]
        self.dead_sessions = set()
        self.base_rng = random.Random("%s/latency" % seed)

    def add(self, spec):
        if isinstance(spec, str):
            spec = parse_rule(spec)
        with self.lock:
            rule = FaultRule(dict(spec), self.next_id, self.seed)
            self.next_id += 1
            self.rules.append(rule)
            return rule

    def remove(self, rule_id):
        with self.lock:
            kept = [rule for rule in self.rules if rule.id != rule_id]
            removed = len(kept) != len(self.rules)
            self.rules = kept
            return removed

    def forget_sessions(self):
        with self.lock:
            self.sessions.clear()
            self.dead_sessions.clear()

    def clear(self):
        with self.lock:
            self.rules = []
            self.sessions.clear()
            self.dead_sessions.clear()

    def report(self):
        with self.lock:
            return {"latency_ms": self.latency_ms, "rules": [rule.as_dict() for rule in self.rules],
                    "injected": sum(rule.injected for rule in self.rules)}

    def delay_seconds(self, request):
        """Global latency plus every matching latency rule (jitter drawn from the seeded generator)."""
        with self.lock:
            total = self.latency_ms + (self.base_rng.uniform(0, self.latency_ms / 5) if self.latency_ms else 0)
            for rule in self.rules:
                if rule.spec.get("latency_ms") is not None and rule.matches(request) and rule.fires():
                    rule.injected += 1
                    total += rule.spec["latency_ms"] + rule.rng.uniform(0, rule.spec.get("jitter_ms") or 0)
        return total / 1000.0

    def check_session(self, request, token):
        """Raise 401 INVALID_SESSION_ID when an expiry rule says this session is over."""
        with self.lock:
            if token in self.dead_sessions:
                raise invalid_session()
            stats = self.sessions.setdefault(token, [0, time.monotonic()])
            stats[0] += 1
            for rule in self.rules:
                spec = rule.spec
                if spec.get("expire_calls") is None and spec.get("expire_seconds") is None:
                    continue
                if not rule.matches(request):
                    continue
                over_calls = spec.get("expire_calls") is not None and stats[0] > spec["expire_calls"]
                # The first call starts the clock, so it always goes through.
                over_time = (spec.get("expire_seconds") is not None and stats[0] > 1
                             and time.monotonic() - stats[1] >= spec["expire_seconds"])
                if over_calls or over_time:
                    rule.matched += 1
                    rule.injected += 1
                    self.dead_sessions.add(token)
                    raise invalid_session()

    def rewrite_token_answer(self, answer, request=None):
        """A token answer with the ``instance_url`` (and ``identity_url``) of the first matching rule."""
        request = request or FaultRequest("POST", "/services/oauth2/token", oauth=True)
        with self.lock:
            for rule in self.rules:
                if rule.spec.get("instance_url") and rule.matches(request) and rule.fires():
                    rule.injected += 1
                    if isinstance(answer.body, dict) and "access_token" in answer.body:
                        answer.body["instance_url"] = rule.spec["instance_url"]
                        if rule.spec.get("identity_url"):
                            answer.body["id"] = rule.spec["identity_url"]
                    break
        return answer

    def check_errors(self, request, record_id=None):
        """Raise the SFError of the first error rule that fires for this request."""
        with self.lock:
            # Every matching rule counts the request (so nth= of one rule never depends on another);
            # the first one that fires answers it.
            fired = [rule for rule in self.rules
                     if (rule.spec.get("status") is not None or rule.spec.get("error") is not None
                         or rule.spec.get("redirect"))
                     and rule.matches(request) and rule.fires()]
            if fired:
                fired[0].injected += 1
                raise fault_error(fired[0].spec, record_id, fired[0].injected)


def invalid_session():
    return SFError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def limit_exceeded():
    return SFError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def lock_error(record_id):
    return SFError(400, "UNABLE_TO_LOCK_ROW",
                   "unable to obtain exclusive access to this record or 1 records: %s" % record_id, fields=[])


class RedirectFault(SFError):
    """A redirect answer (3xx + Location): the HTTP layer adds ``headers`` to the answer."""

    def __init__(self, status, location):
        super().__init__(status, "REDIRECT", "moved to %s" % location)
        self.headers = {"Location": location}


def fault_error(spec, record_id, sequence=1):
    if spec.get("redirect"):
        return RedirectFault(spec.get("redirect_status") or 307, spec["redirect"])
    if spec.get("status") == 503:
        return SFError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later.")
    if spec.get("status") == 500:
        # Salesforce quotes an ErrorId for support; a per-rule sequence keeps it deterministic.
        error_id = "%d-%d (%d)" % (100000000 + sequence, sequence, -sequence)
        return SFError(500, "UNKNOWN_EXCEPTION",
                       "An unexpected error occurred. Please include this ErrorId if you contact support: "
                       + error_id)
    if spec.get("error") == "limit":
        return limit_exceeded()
    return lock_error(record_id or "000000000000000AAA")
