# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Migration plans, run records and the production gate of the license_migration role.

Pure functions (plain data in, plain data out) plus the file layer in ``run_files``:

    plan = build_plan(org, licenses, users, profile_check, exclude=(), only_users=None,
                      accepted_findings=(), permission_set_prefix="Integration_Access_")
    plan["checksum"] == plan_checksum(plan)          # sha256 over everything but checksum and meta
    verify_checksum(plan, path)                      # PlanError when the file was edited
    sandbox_username("svc@acme.com", "uat")          # "svc@acme.com.uat"
    moves(plan, sandbox_name=None)                   # entries to apply, usernames mapped for a sandbox
    verification_outcome(plan, user_states, probes, failed_logins, sandbox_name=None)
    gate(plan, verification_records, override_reason=None)   # which entries production may take
    batches(items, size)

A plan is written per production org. Entry ``status`` is one of ``move`` (a seat is reserved for it),
``wait`` (no free seat left: buy seats or free some), ``blocked`` (a finding must be fixed or
accepted first) and ``excluded`` (named in ``license_migration_exclude``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import observed_access
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.licenses import INTEGRATION_LICENSE
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import to18

PLAN_FORMAT = "sfops.integration_users.plan/1"
RECORD_FORMAT = "sfops.integration_users.record/1"
STATUSES = ("move", "wait", "blocked", "excluded")

# Findings the plan itself resolves: the conflicting sets are removed by the move (their access goes
# into the replicated permission set), the access gap is replicated, and missing seats make users wait.
RESOLVED_BY_PLAN = frozenset(["PERMISSION_SET_LICENSE_CONFLICT", "ACCESS_GAP", "NO_SEATS", "PSL_SHORT_OF_SEATS"])
# Findings about the org that stop every move (nothing to move to).
ORG_BLOCKERS = frozenset(["NO_INTEGRATION_LICENSE", "NO_INTEGRATION_PSL", "TARGET_PROFILE_MISSING",
                          "TARGET_PROFILE_WRONG_LICENSE"])
_API_NAME_MAX = 80
# What only the profile holds and the REST API cannot put in a permission set: each is a manual step the
# plan lists for the user (and blocks on when it is a blocker, until accepted).
MANUAL_STEP_CODES = ("RECORD_TYPE_VISIBILITY", "LOGIN_IP_RANGES_DROPPED", "LOGIN_HOURS_DROPPED")


class PlanError(Exception):
    """A plan or record cannot be used as it is (edited, wrong format, wrong org)."""


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def plan_checksum(plan):
    """sha256 of the plan's decisions: everything except ``checksum``, ``meta`` (when and by which run it was
    written) and ``evidence`` (what the users were seen using), so the same decisions always give the same
    checksum."""
    body = dict((key, value) for key, value in plan.items()
                if key not in ("checksum", "meta", "signature", "evidence"))
    return "sha256:" + hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def verify_checksum(plan, path="the plan"):
    if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT:
        raise PlanError("%s is not a migration plan of this collection (format %s expected)" % (path, PLAN_FORMAT))
    expected = plan.get("checksum")
    actual = plan_checksum(plan)
    if expected != actual:
        raise PlanError(
            "%s was changed after it was written: its checksum is %s but its content gives %s. Refusing to use "
            "an edited plan. Change the inputs instead (license_migration_exclude, license_migration_users, "
            "license_migration_accepted_findings), run the plan entry point with "
            "license_migration_plan_overwrite=true and review the new plan." % (path, expected, actual))
    return plan


def permission_set_name(username, prefix="Integration_Access_", user_id=None):
    """A valid permission set API name for a user's replicated access: letters, digits and single
    underscores, starting with a letter, at most 80 characters (a hash keeps long names unique).

    With ``user_id`` the name ends with the user's 18-character Id, so two usernames that read alike once
    punctuation is replaced (``svc.sync@`` and ``svc_sync@``) never share one set (issue 13)."""
    local = re.sub(r"[^A-Za-z0-9]+", "_", username).strip("_")
    name = re.sub(r"_+", "_", "%s%s" % (prefix, local)).strip("_")
    if not name[:1].isalpha():
        name = "P_" + name
    if user_id:
        suffix = "_" + to18(user_id)
        return name[:_API_NAME_MAX - len(suffix)].rstrip("_") + suffix
    if len(name) > _API_NAME_MAX:
        digest = hashlib.sha256(username.encode("utf-8")).hexdigest()[:8]
        name = name[:_API_NAME_MAX - 9].rstrip("_") + "_" + digest
    return name


def sandbox_username(username, sandbox_name):
    """The copy of a production username in a sandbox (Salesforce appends ``.<sandbox name>``)."""
    return "%s.%s" % (username, sandbox_name) if sandbox_name else username


def _seats(licenses):
    integration = (licenses or {}).get("integration") or {}
    user_license = integration.get("user_license") or {}
    psl = integration.get("psl") or {}
    free_license = int(user_license.get("free") or 0)
    free_psl = int(psl.get("free") or 0) if psl else 0
    return {"integration_total": int(user_license.get("total") or 0),
            "integration_used": int(user_license.get("used") or 0),
            "integration_free": free_license,
            "psl_free": free_psl,
            "available": min(free_license, free_psl) if psl else 0}


def _accepted(finding, accepted):
    component = finding.get("component") or {}
    return finding.get("code") in accepted or (component.get("name") and component["name"] in accepted)


def _names_profile(finding, profile):
    """A code or configuration finding is about a profile when its message quotes the profile's name or
    carries its Id (the findings of sf_profile_check name the profile they test, in quotes)."""
    message = finding.get("message") or ""
    if profile.get("name") and ("'%s'" % profile["name"]) in message:
        return True
    profile_id = profile.get("id") or ""
    return bool(profile_id) and (profile_id in message or profile_id[:15] in message)


def _about(finding, user):
    return finding.get("user") is not None and finding["user"].lower() == user["username"].lower()


def _carried_app(finding, carried):
    """A connected app the user logs in through is resolved when the plan's permission set carries it."""
    app = (finding.get("component") or {}).get("name")
    return (finding.get("code") == "CONNECTED_APP_ACCESS" and bool(app) and
            app.lower() in set(name.lower() for name in carried.get("ConnectedApplication", ())))


def _blockers_for(user, findings, accepted, carried=None):
    """(blocking messages, accepted messages) for one user; ``carried``: the setup access its permission
    set will carry ({SetupEntityType: [names]})."""
    blocking, waived = [], []
    profile = user.get("profile") or {}
    for finding in findings:
        if finding.get("severity") != "blocker" or finding.get("code") in RESOLVED_BY_PLAN:
            continue
        if _about(finding, user) and _carried_app(finding, carried or {}):
            continue
        about_user = _about(finding, user)
        org_wide = finding.get("user") is None and finding.get("code") in ORG_BLOCKERS
        about_profile = finding.get("user") is None and finding.get("component") and _names_profile(finding, profile)
        if not (about_user or org_wide or about_profile):
            continue
        text = "%s: %s" % (finding.get("code"), finding.get("message"))
        if finding.get("code") == "CONNECTED_APP_ACCESS":
            text += " (the plan's permission set does not carry it)"
        (waived if _accepted(finding, accepted) else blocking).append(text)
    return blocking, waived


def _manual_steps(user, findings, accepted):
    """What the move needs done by hand for this user (MANUAL_STEP_CODES), whether accepted or not."""
    return [{"code": f["code"], "message": f.get("message"), "remediation": f.get("remediation"),
             "accepted": bool(_accepted(f, accepted))}
            for f in findings if f.get("code") in MANUAL_STEP_CODES and _about(f, user)]


def check_settings(users, profile_check, exclude=(), only_users=None, accepted_findings=(), access_sources=None):
    """Refuse (PlanError) the names an operator cannot have meant (issue 13): blanks around a name, an
    empty name, a comma-separated string where a list was expected. Returns warnings for well-formed names
    this org has no use for (a user it does not have, a finding code or component none of its findings
    has): such a name may be meant for another org of the same inventory group, or be a typo."""
    known_users = set(u["username"].lower() for key in ("users", "considered") for u in (users or {}).get(key) or [])
    findings = (profile_check or {}).get("findings") or []
    known_findings = set(f.get("code") for f in findings) | set(
        (f.get("component") or {}).get("name") for f in findings if f.get("component"))
    problems, warnings = [], []
    for option, values, known, kind in (
            ("license_migration_exclude", exclude, known_users, "user"),
            ("license_migration_users", only_users, None, "user"),
            ("license_migration_accepted_findings", accepted_findings, known_findings, "finding code or component"),
            ("license_migration_access_sources", list(access_sources or {}), known_users, "user")):
        for value in values or ():
            if not isinstance(value, str):
                problems.append("%s has %r: names are strings" % (option, value))
                continue
            shown = value if len(value) <= 120 else value[:120] + "..."
            if not value.strip() or value != value.strip():
                problems.append("%s has %r: a name with blanks around it (or none) matches nothing" % (option, shown))
            elif "," in value and (kind == "user" or value not in known):
                problems.append("%s has %r: give a list of names, not one comma-separated string" % (option, shown))
            elif known is not None and (value.lower() if kind == "user" else value) not in known:
                warnings.append("%s names %r, which is no %s of this org: ignored here (a typo, or meant for "
                                "another org?)" % (option, shown, kind))
    if problems:
        raise PlanError("; ".join(problems) + ". Fix the names and plan again.")
    return warnings


def build_plan(org, licenses, users, profile_check, exclude=(), only_users=None, accepted_findings=(),
               permission_set_prefix="Integration_Access_", access_source="copy", access_sources=None,
               access_margin="keep_reads"):
    """The plan of one production org from the results of sf_license_info, sf_user_info and
    sf_profile_check (run on the candidates, or on ``only_users``).

    Each user's permission set copies what its old access grants and the target lacks (``access_source``
    copy), or, with ``observed`` (for every user, or those ``access_sources`` names), only what the evidence
    shows it used, with ``access_margin`` (observed_access.least_privilege_gap). Where the evidence cannot
    support a set, the copy is kept and the entry says why.

    Seats go to users in order (``only_users`` order, else username order) until the free seats of the
    license and of the permission set license run out; the rest wait.
    """
    excluded = set(name.lower() for name in (exclude or ()))
    accepted = set(accepted_findings or ())
    sources = dict((str(name).lower(), value) for name, value in (access_sources or {}).items())
    for name, value in [("access_source", access_source)] + [("access_sources[%s]" % n, v) for n, v in sources.items()]:
        if value not in observed_access.ACCESS_SOURCES:
            raise PlanError("%s must be one of %s, not %r" % (name, ", ".join(observed_access.ACCESS_SOURCES), value))
    if access_margin not in observed_access.MARGINS:
        raise PlanError("access_margin must be one of %s, not %r" % (", ".join(observed_access.MARGINS), access_margin))
    findings = list((profile_check or {}).get("findings") or [])
    checks = dict((u["username"].lower(), u) for u in (profile_check or {}).get("users") or [])
    by_name = dict((u["username"].lower(), u) for u in (users or {}).get("users") or [])
    if only_users:
        wanted = list(only_users)
    else:
        wanted = sorted(u["username"] for u in by_name.values() if u.get("candidate"))
    target = (profile_check or {}).get("target_profile") or {}
    seats = _seats(licenses)
    free = seats["available"]
    entries = []
    for username in wanted:
        user = by_name.get(username.lower())
        entry = {"username": username, "user_id": None, "profile": None, "license": None, "status": "move",
                 "reasons": [], "accepted_findings": [], "permission_set": None, "remove_permission_sets": [],
                 "carried": {}, "manual_steps": [], "login_app": None}
        if user is None:
            entry.update(status="blocked", reasons=["user not found in the org"])
            entries.append(entry)
            continue
        entry.update(username=user["username"], user_id=user.get("id"),
                     profile=(user.get("profile") or {}).get("name"), license=user.get("license"),
                     login_app=login_app(user))
        check_user = checks.get(user["username"].lower()) or {}
        gap = check_user.get("access_gap") or {}
        source = sources.get(user["username"].lower(), access_source)
        if any(gap.get(key) for key in ("system", "objects", "fields", "setup")):
            name = permission_set_name(user["username"], permission_set_prefix, user.get("id"))
            entry["permission_set"] = {"name": name, "access_gap": gap}
            if source == "observed":
                problem = observed_access.observation_problem(check_user.get("observed_access"))
                if problem:
                    entry["access_source"] = {"source": "copy", "asked": "observed", "why": problem + ": the profile's "
                                              "access is copied instead"}
                else:
                    narrowed, removed = observed_access.least_privilege_gap(gap, check_user["observed_access"],
                                                                            access_margin)
                    entry["permission_set"]["access_gap"] = narrowed
                    entry["access_source"] = {"source": "observed", "margin": access_margin, "copied_gap": gap,
                                              "removed": removed}
            # Setup access (connected apps, Apex classes, custom permissions...) goes into that set too.
            entry["carried"] = dict((kind, sorted(names)) for kind, names in sorted((gap.get("setup") or {}).items()))
        if user["username"].lower() in excluded:
            entry.update(status="excluded", reasons=["listed in license_migration_exclude"])
        elif not user.get("candidate"):
            entry.update(status="blocked", reasons=list(user.get("candidate_reasons") or ["not a candidate"]))
        else:
            blocking, waived = _blockers_for(user, findings, accepted, entry["carried"])
            entry["accepted_findings"] = waived
            entry["manual_steps"] = _manual_steps(user, findings, accepted)
            if blocking:
                entry.update(status="blocked", reasons=blocking)
        entry["remove_permission_sets"] = sorted(check_user.get("permission_sets_to_remove") or [])
        if entry["status"] == "move":
            if free > 0:
                free -= 1
                entry["reasons"] = ["a free Salesforce Integration seat and permission set license seat are reserved"]
            else:
                entry.update(status="wait", reasons=[
                    "no free seat left: %d Salesforce Integration seat(s) and %d 'Salesforce API Integration' "
                    "permission set license seat(s) free for %d user(s) ready to move; buy seats or free some, "
                    "then plan again" % (seats["integration_free"], seats["psl_free"], _ready_count(entries, user))])
        entries.append(entry)
    counts = dict((status, sum(1 for e in entries if e["status"] == status)) for status in STATUSES)
    plan = {
        "format": PLAN_FORMAT,
        "org": org,
        "target_profile": {"id": target.get("id"), "name": target.get("name")} if target else None,
        "seats": seats,
        "settings": {"exclude": sorted(excluded), "users": list(only_users or []),
                     "accepted_findings": sorted(accepted)},
        "findings": [dict((k, f.get(k)) for k in ("code", "severity", "user", "component", "message", "remediation"))
                     for f in findings],
        "entries": entries,
        "counts": counts,
    }
    # Evidence for the security review (sf_profile_check usage_days): what each planned user really used. Not a
    # decision, so not in the checksum: counts that moved since do not make a new plan (the signature covers it).
    observed = dict((e["username"], checks[e["username"].lower()]["observed_access"]) for e in entries
                    if (checks.get(e["username"].lower()) or {}).get("observed_access"))
    if observed:
        plan["evidence"] = {"observed_access": observed}
    plan["checksum"] = plan_checksum(plan)
    return plan


def login_app(user):
    """The connected app the user logs in through today: that of its most recently used OAuth token (the
    probe logs in through the same app, so a pre-authorization lost with the profile shows in the sandbox)."""
    tokens = user.get("oauth_tokens") or []
    return tokens[0]["app"] if tokens else None


def _ready_count(entries, current):
    # Users that passed every check so far (moved or waiting), the current one included.
    return sum(1 for e in entries if e["status"] in ("move", "wait")) + 1


def moves(plan, sandbox_name=None, usernames=None):
    """The ``move`` entries, each with ``target_username`` (the sandbox copy's name on a sandbox);
    restricted to ``usernames`` (production names) when given."""
    wanted = set(n.lower() for n in usernames) if usernames is not None else None
    out = []
    for entry in plan.get("entries") or []:
        if entry.get("status") != "move":
            continue
        if wanted is not None and entry["username"].lower() not in wanted:
            continue
        item = dict(entry)
        item["target_username"] = sandbox_username(entry["username"], sandbox_name)
        item["default_probes"] = default_probes(entry)
        out.append(item)
    return out


def default_probes(entry):
    """A read of each object the replicated access covers; with none, the data API's resource list
    (proves the login and API access)."""
    objects = sorted(((entry.get("permission_set") or {}).get("access_gap") or {}).get("objects") or {})
    if not objects:
        return [{"name": "API resources", "rest": "/"}]
    return [{"name": "read %s" % name, "soql": "SELECT Id FROM %s LIMIT 1" % name} for name in objects]


def verification_outcome(plan, entries, user_states, probes, failed_logins, integration_license=INTEGRATION_LICENSE):
    """Per user of ``entries`` (from :func:`moves`): is its state as planned, did every probe pass as
    that user, and has no login failed since the move. ``user_states``: sf_user_info ``users``;
    ``probes``: sf_integration_probe results (``username``, ``passed``, ``results``);
    ``failed_logins``: LoginHistory rows (``UserId`` or ``username``, ``Status``, ``LoginTime``)."""
    states = dict((u["username"].lower(), u) for u in user_states or [])
    probe_by_user = dict((p["username"].lower(), p) for p in probes or [] if p.get("username"))
    target = (plan.get("target_profile") or {}).get("name")
    out = []
    for entry in entries:
        name = entry["target_username"]
        state = states.get(name.lower())
        problems = []
        if state is None:
            problems.append("user %s not found" % name)
        else:
            if state.get("license") != integration_license:
                problems.append("license is %r, not %r" % (state.get("license"), integration_license))
            if target and (state.get("profile") or {}).get("name") != target:
                problems.append("profile is %r, not %r" % ((state.get("profile") or {}).get("name"), target))
            held = set(p.get("name") for p in state.get("permission_sets") or [])
            wanted = (entry.get("permission_set") or {}).get("name")
            if wanted and wanted not in held:
                problems.append("permission set %s is not assigned" % wanted)
            if not state.get("active"):
                problems.append("user is inactive")
        probe = probe_by_user.get(name.lower())
        probe_results = (probe or {}).get("results") or []
        if probe is None:
            problems.append("no probe ran as this user")
        else:
            if not (probe.get("login") or {"passed": True}).get("passed"):
                problems.append("login as the user failed: %s" % (probe.get("login") or {}).get("error"))
            for item in probe_results:
                if not item.get("passed"):
                    problems.append("probe %s failed: %s" % (item.get("name"), item.get("error")))
        user_id = (state or {}).get("id")
        failures = [row for row in failed_logins or []
                    if (row.get("username") or "").lower() == name.lower() or
                    (user_id and str(row.get("UserId") or "")[:15] == user_id[:15])]
        if failures:
            problems.append("%d failed login(s) since the migration (last: %s)" % (
                len(failures), ", ".join(sorted(set(str(r.get("Status")) for r in failures)))))
        out.append({"username": entry["username"], "target_username": name, "passed": not problems,
                    "problems": problems, "probes": probe_results})
    return out


def gate(plan, records, override_reason=None):
    """Which ``move`` entries production may take: those whose latest sandbox verification, for this
    plan's checksum, passed. ``records``: verification records (see ``verification_record``).
    Returns ``{allowed, missing: [{username, reason}], override}``; with ``override_reason`` every
    move entry is allowed and the reason is kept for the report."""
    checksum = plan.get("checksum")
    # A reason of blanks is no reason (issue 13).
    override_reason = (override_reason or "").strip() or None
    passed, failed = {}, {}
    sandboxes = set()
    for record in sorted(records or [], key=lambda r: r.get("created") or ""):
        if record.get("kind") != "verification" or record.get("org_type") != "sandbox":
            continue
        if record.get("plan_checksum") != checksum or record.get("production_org") != plan.get("org"):
            continue
        sandboxes.add(record.get("org"))
        for user in record.get("users") or []:
            key = user["username"].lower()
            if user.get("passed"):
                passed[key] = record.get("org")
                failed.pop(key, None)
            else:
                failed[key] = "%s: %s" % (record.get("org"), "; ".join(user.get("problems") or ["failed"]))
                passed.pop(key, None)
    allowed, missing = [], []
    for entry in plan.get("entries") or []:
        if entry.get("status") != "move":
            continue
        key = entry["username"].lower()
        if key in passed or override_reason:
            allowed.append(entry["username"])
        elif key in failed:
            missing.append({"username": entry["username"], "reason": "sandbox verification failed in " + failed[key]})
        elif sandboxes:
            missing.append({"username": entry["username"],
                            "reason": "not verified in sandbox %s for plan %s" % (", ".join(sorted(sandboxes)), checksum)})
        else:
            missing.append({"username": entry["username"],
                            "reason": "no sandbox verification recorded for plan %s" % checksum})
    return {"allowed": allowed, "missing": missing, "override": override_reason or None}


def batches(items, size):
    size = max(1, int(size or 1))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def record(kind, plan, org, org_type, production_org, created, run_id, **data):
    """A run record (migration or verification) tied to the plan's checksum."""
    doc = {"format": RECORD_FORMAT, "kind": kind, "org": org, "org_type": org_type,
           "production_org": production_org, "plan_checksum": plan.get("checksum"), "created": created,
           "run_id": run_id}
    doc.update(data)
    return doc
