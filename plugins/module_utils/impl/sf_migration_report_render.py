# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run reports of the license_migration role: one document, rendered as JSON, CSV and HTML.

    doc = build_report(org_results, run_id, created, dry_run, prices)   # plain data (report.json)
    render_csv(doc)     # one row per user per org
    render_html(doc)    # self-contained: inline CSS, no script, no external resource
    summary_line(org)   # the one-line summary per org printed in the play output
    stats(doc, paths)   # what set_stats hands to AWX workflows

``org_results`` are the per-org facts the role accumulates (``license_migration_org_result``), one
section per entry point that ran: ``inventory``, ``plan``, ``migrate``, ``verify``, ``rollout``,
``rollback`` (see the role README for their keys). Money is counted on production orgs only (sandbox
seats are copies): moving ``n`` users into an org with ``free`` integration seats saves
``n * full_license - max(0, n - free) * integration_seat`` a month.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import html
import io
import re
import shlex

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.access import ADMIN_RIGHTS
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.licenses import INTEGRATION_LICENSE
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.observed_access import (
    describe_observed, describe_removed)

REPORT_FORMAT = "sfops.integration_users.report/1"
CSV_COLUMNS = ("run_id", "org", "org_type", "username", "status", "status_code", "previous_profile",
               "previous_license", "new_profile", "new_license", "permission_set", "verification", "monthly_saving",
               "potential_monthly_saving", "finding_codes", "risk", "reasons", "carried", "manual_steps")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such cells get a
# leading apostrophe, which spreadsheets show as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The entry points (steps) of a run, in the order they run (later stages say more about a user), with the
# sections of an org result each writes (the plan step also runs the inventory).
STEP_SECTIONS = {"inventory": ("inventory",), "plan": ("plan", "inventory"), "migrate": ("migrate",),
                 "verify": ("verify",), "rollout": ("rollout",), "rollback": ("rollback",)}
STAGES = tuple(STEP_SECTIONS)
# How a user status reads, in the HTML and the CSV alike (the JSON keeps the code as ``status``).
STATUS_WORDS = {"candidate": "candidate", "not_candidate": "not an integration user", "planned": "planned",
                "wait": "waiting for a seat", "blocked": "blocked", "excluded": "excluded",
                "would_move": "would move (check mode)", "moved": "moved", "migrated": "already on the license",
                "failed": "refused by the org (not moved)", "gated": "refused by the gate (not moved)",
                "rolled_back": "rolled back", "restored": "restored", "not_started": "not started"}
# A refusal longer than this shared by several users of an org is said once, in the org's notes.
_LONG_REASON = 160
# Users the plan moves (or made wait for a seat), whatever became of them: the potential saving counts them.
_PLANNED_ENTRY = ("move", "wait")


def monthly_saving(users, free_seats, prices):
    extra = max(0, users - max(0, free_seats))
    return users * prices["full_license"] - extra * prices["integration_seat"]


def user_savings(count, free_seats, prices):
    """What each of ``count`` users moving in order saves a month: a full license, less an extra
    integration seat for those beyond the free ones. Adds up to ``monthly_saving(count, free_seats)``."""
    free = max(0, free_seats)
    return [prices["full_license"] - (prices["integration_seat"] if index >= free else 0) for index in range(count)]


def project_seats(before, moving):
    """The seats once ``moving`` users took an integration seat each (a dry run's projection)."""
    if not before:
        return None
    projected = dict(before, projected=True)
    for key, step in (("integration_used", moving), ("integration_free", -moving), ("psl_free", -moving),
                      ("salesforce_used", -moving)):
        if isinstance(before.get(key), int):
            projected[key] = before[key] + step
    return projected


def _seats(integration, salesforce=None):
    if not integration:
        return None
    user_license = integration.get("user_license") or {}
    psl = integration.get("psl") or {}
    return {"integration_total": user_license.get("total"), "integration_used": user_license.get("used"),
            "integration_free": user_license.get("free"), "psl_free": psl.get("free") if psl else None,
            "salesforce_used": (salesforce or {}).get("used")}


def _read_seats(section):
    """Seats from a section holding sf_license_info's ``integration`` and ``salesforce_seats``."""
    return _seats((section or {}).get("integration"), (section or {}).get("salesforce_seats"))


def access_source_text(source):
    """What the user's permission set was built from, when the plan was asked for least privilege."""
    if not isinstance(source, dict):
        return None
    if source.get("source") == "observed" and isinstance(source.get("removed"), dict):
        return "built from observed use (%s); %s" % (source.get("margin"), describe_removed(source["removed"]))
    return "least privilege asked, not applied: %s" % str(source.get("why") or "no reason recorded")


def _user_rows(result):
    """username -> row, each stage refining the row of the previous one."""
    rows = {}

    def row(username):
        return rows.setdefault(username.lower(), {
            "username": username, "status": None, "previous_profile": None, "previous_license": None,
            "profile": None, "license": None, "new_profile": None, "new_license": None, "permission_set": None,
            "verification": None, "reasons": [], "carried": [], "manual_steps": [], "risk": [], "finding_codes": [],
            "accepted_findings": [], "plan_username": username, "plan_order": None, "observed": None,
            "access_source": None})

    def was(item, profile, license_name):
        item.update(profile=profile, license=license_name)
        if item["previous_profile"] is None:
            item.update(previous_profile=profile, previous_license=license_name)

    inventory = result.get("inventory") or {}
    for user in inventory.get("users") or []:
        item = row(user["username"])
        was(item, (user.get("profile") or {}).get("name"), user.get("license"))
        item.update(status="candidate" if user.get("candidate") else "not_candidate",
                    reasons=list(user.get("candidate_reasons") or []))
    plan = result.get("plan") or {}
    evidence = plan.get("evidence") if isinstance(plan.get("evidence"), dict) else {}
    observed = evidence.get("observed_access") if isinstance(evidence.get("observed_access"), dict) else {}
    for order, entry in enumerate(plan.get("entries") or []):
        item = row(entry.get("target_username") or entry["username"])
        permission_set = entry.get("permission_set") or {}
        system = ((permission_set.get("access_gap") or {}).get("system")) or ()
        item.update(status={"move": "planned"}.get(entry["status"], entry["status"]),
                    reasons=list(entry.get("reasons") or []), permission_set=permission_set.get("name"),
                    carried=carried_text(entry.get("carried")), manual_steps=manual_step_text(entry.get("manual_steps")),
                    risk=[right for right in ADMIN_RIGHTS if right in system], plan_username=entry["username"],
                    accepted_findings=list(entry.get("accepted_findings") or []),
                    plan_order=order if entry["status"] in _PLANNED_ENTRY else None,
                    observed=describe_observed(observed[entry["username"]]) if isinstance(
                        observed.get(entry["username"]), dict) else None,
                    access_source=access_source_text(entry.get("access_source")))
        if entry.get("profile"):
            item.update(previous_profile=entry["profile"], previous_license=entry.get("license"))
            if item["profile"] is None:
                item.update(profile=entry["profile"], license=entry.get("license"))
    target = (plan.get("target_profile") or {}).get("name")
    migrate = result.get("migrate") or {}
    for user in migrate.get("users") or []:
        item = row(user["username"])
        after = (user.get("after") or {}).get("profile") or {}
        if user.get("moved_by_run"):
            # An earlier step of this run moved it (a rerun or a dry run after it finds it moved).
            item["status"] = "moved"
            item["reasons"] = ["moved by this run"]
            item.update(profile=after.get("name") or item["profile"], license=after.get("license") or item["license"])
            item.update(new_profile=item["profile"], new_license=item["license"])
        elif migrate.get("dry_run"):
            item["status"] = "would_move" if user.get("changed") else "migrated"
            item.update(new_profile=after.get("name") or target, new_license=after.get("license") or INTEGRATION_LICENSE)
        else:
            item["status"] = "moved" if user.get("changed") else "migrated"
            item["reasons"] = ["moved by this run" if user.get("changed") else "already on the integration license"]
            item.update(profile=after.get("name") or item["profile"], license=after.get("license") or item["license"])
            item.update(new_profile=item["profile"], new_license=item["license"])
    for name, message in zip(migrate.get("failed_usernames") or [], migrate.get("errors") or []):
        row(name).update(status="failed", reasons=[message])
    for user in (result.get("verify") or {}).get("users") or []:
        item = row(user["target_username"])
        item["verification"] = "passed" if user.get("passed") else "failed"
        if not user.get("passed"):
            item["reasons"] = list(user.get("problems") or [])
    rollout = result.get("rollout") or {}
    for missing in (rollout.get("gate") or {}).get("missing") or []:
        item = row(missing["username"])
        item.update(status="gated", reasons=[missing["reason"]])
    for batch in rollout.get("batches") or []:
        for name in batch.get("usernames") or []:
            item = row(name)
            if batch.get("rolled_back"):
                item.update(status="rolled_back", new_profile=None, new_license=None,
                            profile=item["previous_profile"], license=item["previous_license"],
                            reasons=["batch %s rolled back: %s" % (batch.get("number"), batch.get("reason"))] +
                            item["reasons"])
            elif batch.get("skipped"):
                item.update(status="not_started", reasons=[batch["skipped"]])
    for name in (result.get("rollback") or {}).get("usernames") or []:
        item = row(name)
        item.update(status="restored", new_profile=None, new_license=None, profile=item["previous_profile"],
                    license=item["previous_license"],
                    reasons=["restored from the backups of run %s" % (result.get("rollback") or {}).get("run_id")])
    return sorted(rows.values(), key=lambda r: r["username"].lower())


# How a SetupEntityType reads in the report.
_ENTITY_LABELS = {"ConnectedApplication": "connected app", "ApexClass": "Apex class", "ApexPage": "Visualforce page",
                  "CustomPermission": "custom permission"}


def carried_text(carried):
    """The setup access a plan entry's permission set carries over, one line per entity."""
    return ["%s %s" % (_ENTITY_LABELS.get(kind, kind), name) for kind, names in sorted((carried or {}).items())
            for name in names]


def manual_step_text(steps):
    """A plan entry's manual steps, each saying whether it was acknowledged (accepted_findings)."""
    return ["%s (%s): %s. %s" % (step["code"], "accepted" if step.get("accepted") else "to do", step.get("message"),
                                 step.get("remediation") or "") for step in steps or ()]


# Findings about access the plan's permission set re-grants.
_CARRIED_CODES = ("ACCESS_GAP", "SETUP_ACCESS_GAP", "CONNECTED_APP_ACCESS")
_SEAT_CODES = ("NO_SEATS", "PSL_SHORT_OF_SEATS")
_DONE = ("moved", "migrated")


def finding_state(finding, row):
    """(state, how) of a finding as the run left it: ``resolved`` (with how), ``carried`` (the plan's
    permission set re-grants the access at the move), ``review`` (admin-level rights copied), or ``open``."""
    code = finding.get("code")
    moved = bool(row) and row["status"] in _DONE
    permission_set = (row or {}).get("permission_set")
    if code == "ADMIN_RIGHTS" and permission_set:
        return "review", "copied into permission set %s%s: review whether the integration needs them and narrow the " \
                         "set once the move is verified" % (permission_set, "" if moved else " at the move")
    if code in _CARRIED_CODES and permission_set:
        return ("resolved" if moved else "carried"), "re-granted by permission set %s%s" % (
            permission_set, "" if moved else " at the move")
    if not moved:
        return "open", None
    if code == "PERMISSION_SET_LICENSE_CONFLICT":
        return "resolved", "the conflicting assignments were removed at the move (its backup keeps them)"
    if code in _SEAT_CODES:
        return "resolved", "a seat was free when the user moved"
    if code in (row or {}).get("accepted_findings", ()):
        return "resolved", "accepted (license_migration_accepted_findings) and the user moved"
    return "resolved", "the user moved"


# Salesforce errors raised by the modules end with their advice, the same for every user they refuse.
_ADVICE = "What to do:"


def shared_part(reason):
    """The part of a long reason several users may share: its advice ("What to do: ..."), which the
    modules append to a message naming the user, else the whole reason. None for a short reason."""
    if len(reason) <= _LONG_REASON:
        return None
    at = reason.find(_ADVICE)
    return reason[at:] if at > 0 and len(reason) - at > _LONG_REASON // 2 else reason


def _refusal_notes(users):
    """Long reasons (or their advice) shared by several users of an org, said once: [{id, text, users}]."""
    shared = {}
    for user in users:
        for reason in user["reasons"]:
            part = shared_part(reason)
            if part and user["username"] not in shared.setdefault(part, []):
                shared[part].append(user["username"])
    notes = []
    for text, names in shared.items():
        if len(names) > 1:
            notes.append({"id": "N%d" % (len(notes) + 1), "text": text, "users": names})
    return notes


def _scrub(value, local_paths):
    """``value`` with each local directory named as the report shows it (a report travels)."""
    if isinstance(value, dict):
        return dict((k, _scrub(v, local_paths)) for k, v in value.items())
    if isinstance(value, list):
        return [_scrub(v, local_paths) for v in value]
    if isinstance(value, str):
        for path, shown in sorted((local_paths or {}).items(), key=lambda item: -len(item[0])):
            value = value.replace(path, shown)
    return value


def org_figures(result, users, prices):
    """The seats and savings of one org, counted the one way every step counts them.

    The basis is the plan: its users to move (moved, waiting, refused or not yet) against the integration
    seats free when it was written, so the potential saving is the same at every step of the run; the
    saving is that of the users this run moved in production. A dry run projects its moves onto the seats.
    Sets each production user's ``monthly_saving`` and ``potential_monthly_saving``."""
    inventory = result.get("inventory") or {}
    plan = result.get("plan") or {}
    migrate = result.get("migrate") or {}
    production = result.get("org_type") == "production"
    read_before = _read_seats(result.get("seats_before"))
    seats_before = read_before or _seats(inventory.get("integration"), inventory.get("salesforce_seats"))
    source = "read" if read_before else "inventory"
    if seats_before is None and plan.get("seats"):
        seats_before, source = dict(plan["seats"]), "plan"
    plan_free = (plan.get("seats") or {}).get("integration_free")
    free = plan_free if isinstance(plan_free, int) else (seats_before or {}).get("integration_free") or 0
    if plan.get("entries"):
        planned = sorted((u for u in users if u["plan_order"] is not None), key=lambda u: u["plan_order"])
    else:
        planned = [u for u in users if u["status"] not in ("not_candidate", None)]
    moved = [u for u in planned if u["status"] == "moved"] + [
        u for u in users if u["status"] == "moved" and u not in planned]
    would = [u for u in users if u["status"] == "would_move"]
    for user in users:
        user["monthly_saving"] = user["potential_monthly_saving"] = None
    if production:
        for user, saving in zip(moved, user_savings(len(moved), free, prices)):
            user["monthly_saving"] = saving
        for user, saving in zip(planned, user_savings(len(planned), free, prices)):
            user["potential_monthly_saving"] = saving
    seats_after = _read_seats(result.get("seats_after"))
    if migrate.get("dry_run") and seats_before:
        seats_after = project_seats(seats_before, len(would))
    figures = {
        "seats_before": seats_before, "seats_source": source, "seats_after": seats_after, "plan_free_seats": free,
        "monthly_saving": monthly_saving(len(moved), free, prices) if production else None,
        "potential_monthly_saving": monthly_saving(len(planned), free, prices) if production else None,
        "projected_monthly_saving": monthly_saving(len(moved) + len(would), free, prices) if production else None,
        "extra_seats_needed": max(0, len(planned) - max(0, free)) if production else 0,
    }
    figures["extra_seats_monthly_cost"] = figures["extra_seats_needed"] * prices["integration_seat"]
    # What those seats unlock: the users beyond the free seats, each saving a full license less its seat.
    figures["extra_seats_unlock"] = figures["extra_seats_needed"] * (prices["full_license"] - prices["integration_seat"])
    for key in ("monthly_saving", "potential_monthly_saving", "projected_monthly_saving"):
        figures[key.replace("monthly", "annual")] = None if figures[key] is None else 12 * figures[key]
    return figures


def _org_report(result, prices, local_paths=None):
    plan = result.get("plan") or {}
    inventory = result.get("inventory") or {}
    users = _user_rows(result)
    counted = dict((status, sum(1 for u in users if u["status"] == status))
                   for status in ("moved", "would_move", "migrated", "planned", "wait", "blocked", "excluded",
                                  "not_candidate", "gated", "rolled_back", "restored", "failed", "candidate"))
    verified = [u for u in users if u["verification"]]
    figures = org_figures(result, users, prices)
    rows = dict((u["plan_username"].lower(), u) for u in users)
    findings = []
    for item in inventory.get("findings") or plan.get("findings") or []:
        finding = dict((k, item.get(k)) for k in ("code", "severity", "user", "message", "remediation"))
        row = rows.get((finding["user"] or "").lower())
        finding["state"], finding["resolution"] = finding_state(finding, row)
        findings.append(finding)
        if row is not None and finding["code"] not in row["finding_codes"]:
            row["finding_codes"].append(finding["code"])
    for user in users:
        user["status_text"] = STATUS_WORDS.get(user["status"], user["status"])
        # A blocked user is blocked by its open blocker findings (else by its reasons: not a candidate...).
        user["blocked_by"] = sorted(set(f["code"] for f in findings if f["state"] == "open" and f["severity"] == "blocker"
                                        and (f["user"] or "").lower() == user["plan_username"].lower())) \
            if user["status"] == "blocked" else []
        del user["accepted_findings"]
    candidates = sum(1 for u in users if u["status"] not in ("not_candidate", None))
    org = {
        "org": result.get("org"),
        "org_type": result.get("org_type"),
        "production_org": result.get("production_org"),
        "status": "failed" if result.get("error") else "ok",
        "error": result.get("error"),
        "entry_points": [stage for stage in STAGES if result.get(stage)],
        "steps": dict(result.get("steps") or {}),
        "step_errors": dict((step, item["error"]) for step, item in sorted(
            (result.get("steps") or {}).items(), key=lambda kv: STAGES.index(kv[0])) if item.get("error")),
        "plan_file": ("plans/%s" % plan["path"].replace("\\", "/").rsplit("/", 1)[-1]) if plan.get("path") else None,
        "plan_checksum": plan.get("checksum"),
        "gate": (result.get("rollout") or {}).get("gate"),
        "users": users,
        "notes": _refusal_notes(users),
        "findings": findings,
        "counts": {"candidates": candidates, "moved": counted["moved"], "would_move": counted["would_move"],
                   "already_migrated": counted["migrated"], "planned": counted["planned"],
                   "waiting": counted["wait"], "blocked": counted["blocked"], "excluded": counted["excluded"],
                   "not_candidates": counted["not_candidate"], "gated": counted["gated"],
                   "rolled_back": counted["rolled_back"], "restored": counted["restored"],
                   "failed": counted["failed"],
                   "verified_passed": sum(1 for u in verified if u["verification"] == "passed"),
                   "verified_failed": sum(1 for u in verified if u["verification"] == "failed")},
    }
    org.update(figures)
    org = _scrub(org, local_paths)
    org["summary"] = summary_line(org, prices)
    return org


# Estate totals of user counts come from production orgs: a sandbox holds copies of production's users, so
# adding its moves would count each user twice. Sandbox rehearsals are totalled apart, as sandbox_<key>.
PRODUCTION_TOTALS = ("candidates", "moved", "would_move", "planned", "waiting", "blocked", "excluded", "gated",
                     "rolled_back", "restored", "failed", "verified_passed", "verified_failed")
SANDBOX_TOTALS = ("moved", "would_move", "failed", "rolled_back", "restored", "verified_passed", "verified_failed")
MONEY_TOTALS = ("monthly_saving", "potential_monthly_saving", "projected_monthly_saving", "annual_saving",
                "potential_annual_saving", "projected_annual_saving", "extra_seats_needed",
                "extra_seats_monthly_cost", "extra_seats_unlock")


def _toc_order(orgs):
    """Production orgs by name, each followed by its sandboxes; sandboxes of no listed org last."""
    production = sorted((o for o in orgs if o["org_type"] == "production"), key=lambda o: o["org"] or "")
    names = set(o["org"] for o in production)
    ordered = []
    for prod in production:
        ordered.append(prod)
        ordered.extend(sorted((o for o in orgs if o["org_type"] != "production" and o.get("production_org") == prod["org"]),
                              key=lambda o: o["org"] or ""))
    ordered.extend(sorted((o for o in orgs if o["org_type"] != "production" and o.get("production_org") not in names),
                          key=lambda o: o["org"] or ""))
    return ordered


def _steps(orgs):
    """When each step of the run ran, over its orgs."""
    steps = []
    for step in STAGES:
        runs = [o["steps"][step] for o in orgs if step in (o.get("steps") or {})]
        if runs:
            times = sorted(r.get("at") or "" for r in runs)
            steps.append({"step": step, "first": times[0], "last": times[-1], "orgs": len(runs),
                          "failed": sum(1 for r in runs if r.get("error")),
                          "dry_run": any(r.get("dry_run") for r in runs)})
    return steps


def playbook_command(doc, playbook, *extra):
    inventory = " ".join("-i %s" % shlex.quote(path)
                         for path in (doc.get("provenance") or {}).get("inventory") or ()) or "-i inventory/"
    return " ".join(["ansible-playbook", inventory, "sfops.integration_users.%s" % playbook] + [e for e in extra if e])


def rollback_command(doc):
    """The command(s) restoring every user the run changed: one per run with backups (a merged report's
    are those of the runs it merges), a line each."""
    runs = (doc.get("provenance") or {}).get("rollback_runs") or [doc["run_id"]]
    return "\n".join(playbook_command(doc, "rollback", "-e license_migration_rollback_run_id=%s" % shlex.quote(run))
                     for run in runs)


def next_actions(doc):
    """What to do next, each with the command when there is one: [{action, command}]."""
    totals, prices = doc["totals"], doc["prices"]
    # A merged report's run has no step of its own to continue: its commands name none.
    run = "" if (doc.get("provenance") or {}).get("merged_runs") else "-e license_migration_run_id=%s" % shlex.quote(
        doc["run_id"])
    actions = []
    if totals["orgs_failed"]:
        failed = [o["org"] for o in doc["orgs"] if o["status"] == "failed"]
        actions.append({"action": "Read the error of %s below, fix its cause, then run its step again."
                                  % ", ".join(failed), "command": None})
    if totals["gated"]:
        actions.append({"action": "Verify in a sandbox the %d production user(s) the gate refused: migrate the sandboxes "
                                  "of this run's plans." % totals["gated"],
                        "command": playbook_command(doc, "migrate_sandbox", run)})
    if totals["planned"]:
        actions.append({"action": "Roll out the %d planned user(s) whose sandbox verification passed." % totals["planned"],
                        "command": playbook_command(doc, "rollout_production", run)})
    if totals["waiting"]:
        actions.append({"action": "Buy %d more Salesforce Integration seat(s) (%s a month) or free some, so the %d "
                                  "waiting user(s) can move (%s a month more saved); then plan again."
                                  % (totals["extra_seats_needed"], money(totals["extra_seats_monthly_cost"], prices),
                                     totals["waiting"], money(totals["extra_seats_unlock"], prices)),
                        "command": playbook_command(doc, "inventory", "-e license_migration_plan_overwrite=true")})
    if totals["blocked"]:
        actions.append({"action": "Review the %d blocked user(s): fix what their findings name, or accept a reviewed "
                                  "finding (license_migration_accepted_findings), then plan again." % totals["blocked"],
                        "command": None})
    if totals["moved"]:
        actions.append({"action": "Cut %d full license(s) at the next renewal: the saving is real only once they are "
                                  "no longer paid for." % totals["moved"], "command": None})
    actions.append({"action": "To undo what this run changed, restore its backups.", "command": rollback_command(doc)})
    return actions


class MalformedResult(Exception):
    """An org result whose shape the report cannot read (a kept file or a result given by hand)."""


def org_report(result, prices, local_paths=None):
    """The report of one org; MalformedResult (naming the org) when its result is not what the role writes."""
    try:
        return _org_report(result, prices, local_paths)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise MalformedResult("the result of org %s is not what the license_migration role writes (%s: %s)" % (
            str(result.get("org") if isinstance(result, dict) else result)[:100], type(exc).__name__, str(exc)[:200]))


# The fields of a report that hold when it was written, not what it says: a rewrite that changes only these
# changes nothing.
TIME_FIELDS = frozenset(("created", "at", "first", "last", "started", "report_written"))


def build_report(org_results, run_id, created, dry_run, prices, provenance=None, local_paths=None):
    orgs = _toc_order([org_report(r, prices, local_paths) for r in org_results or []])
    production = [o for o in orgs if o["org_type"] == "production"]
    sandboxes = [o for o in orgs if o["org_type"] != "production"]
    totals = {"orgs": len(orgs), "orgs_failed": sum(1 for o in orgs if o["status"] == "failed"),
              "production_orgs": len(production), "sandbox_orgs": len(sandboxes)}
    for key in PRODUCTION_TOTALS:
        totals[key] = sum(o["counts"][key] for o in production)
    for key in SANDBOX_TOTALS:
        totals["sandbox_" + key] = sum(o["counts"][key] for o in sandboxes)
    for key in MONEY_TOTALS:
        totals[key] = sum(o[key] or 0 for o in production)
    blocked_by = {}
    for org in production:
        for user in org["users"]:
            for code in user["blocked_by"] or ([user["reasons"][0][:120]] if user["status"] == "blocked" and user["reasons"]
                                               else []):
                blocked_by[code] = blocked_by.get(code, 0) + 1
    totals["blocked_by"] = blocked_by
    steps = _steps(orgs)
    doc = {"format": REPORT_FORMAT, "run_id": run_id, "created": created, "dry_run": bool(dry_run),
           "prices": dict(prices), "totals": totals, "steps": steps,
           "provenance": dict(provenance or {}, run_id=run_id, started=steps[0]["first"] if steps else created,
                              report_written=created),
           "risks": [{"org": o["org"], "user": u["username"], "permission_set": u["permission_set"], "rights": u["risk"]}
                     for o in production for u in o["users"] if u["risk"] and u["permission_set"]],
           "orgs": orgs}
    doc["next_actions"] = next_actions(doc)
    doc["rollback_command"] = rollback_command(doc)
    return doc


def money(amount, prices):
    return "%s%s" % ({"USD": "$", "EUR": "EUR ", "GBP": "GBP "}.get(prices.get("currency"), ""), format(amount, ","))


def summary_line(org, prices):
    label = "%s (%s)" % (org["org"], org["org_type"])
    if org["error"]:
        return "%s: FAILED: %s" % (label, org["error"])
    counts = org["counts"]
    parts = []
    before, after = org["seats_before"] or {}, org["seats_after"] or {}
    if before:
        seats = "integration seats free %s/%s" % (before.get("integration_free"), before.get("integration_total"))
        if after:
            seats += " -> %s/%s%s" % (after.get("integration_free"), after.get("integration_total"),
                                      " (projected)" if after.get("projected") else "")
        elif org.get("seats_source") != "read" and set(org["entry_points"]) - {"inventory", "plan"}:
            # A later step that read no seats (verification) shows the inventory's, and says so.
            seats += " (at inventory)"
        parts.append(seats)
    parts.append("%d candidate(s)" % counts["candidates"])
    words = (("moved", "moved"), ("would_move", "would move (check mode: only a real run shows what the org refuses)"),
             ("planned", "planned"), ("waiting", "waiting"), ("blocked", "blocked"), ("excluded", "excluded"),
             ("gated", "refused by the gate"), ("rolled_back", "rolled back"), ("restored", "restored"))
    for key, word in words:
        if counts[key]:
            parts.append("%d %s" % (counts[key], word))
    if counts["verified_passed"] or counts["verified_failed"]:
        parts.append("verification %d/%d passed" % (counts["verified_passed"],
                                                    counts["verified_passed"] + counts["verified_failed"]))
    if org["org_type"] == "production":
        saving = "saving %s/month (potential %s)" % (
            money(org["monthly_saving"], prices), money(org["potential_monthly_saving"], prices))
        if counts["would_move"]:
            saving += "; would save %s/month" % money(org["projected_monthly_saving"], prices)
        parts.append(saving)
    return "%s: %s" % (label, "; ".join(parts))


def _reason_cells(org, user, full_for=None):
    """A user's reasons, the part it shares with others of the org (a refusal, its advice) replaced by the
    note saying it once. ``full_for``: {note id: username} of the rows that keep the text in full (CSV)."""
    notes = dict((note["text"], note) for note in org.get("notes") or ())
    cells = []
    for reason in user["reasons"]:
        note = notes.get(shared_part(reason) or "")
        if note is None or (full_for is not None and full_for.setdefault(note["id"], user["username"]) == user["username"]):
            cells.append(reason)
            continue
        where = "note %s" % note["id"] if full_for is None else "the row of %s" % full_for[note["id"]]
        head = reason[:len(reason) - len(note["text"])]
        if head:
            cells.append("%s%s see %s" % (head, _ADVICE, where))
        else:
            cells.append("see %s" % where if full_for is None else "same refusal as in %s" % where)
    return cells


def _amount(value):
    return "" if value is None else str(value)


def render_csv(doc):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for org in doc["orgs"]:
        # A long refusal (or its advice) shared by several users: in full on the first one's row only.
        first_of_note = {}
        for user in org["users"]:
            reasons = _reason_cells(org, user, first_of_note)
            writer.writerow([csv_cell(value) for value in (
                doc["run_id"], org["org"], org["org_type"], user["username"], user["status_text"] or "",
                user["status"] or "", user["previous_profile"] or "", user["previous_license"] or "",
                user["new_profile"] or "", user["new_license"] or "", user["permission_set"] or "",
                user["verification"] or "", _amount(user["monthly_saving"]), _amount(user["potential_monthly_saving"]),
                " | ".join(user["finding_codes"]), " | ".join(user["risk"]), " | ".join(reasons),
                " | ".join(user.get("carried") or ()), " | ".join(user.get("manual_steps") or ()))])
    return out.getvalue()


def csv_cell(value):
    """``value`` as a CSV cell no spreadsheet runs as a formula (names and messages come from the org)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# Long unbroken values (usernames, permission set names, paths in messages) may break anywhere, and the user
# table has fixed column shares, so nothing is wider than the page. Printing to PDF keeps sections whole.
_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#1d1d1f;max-width:72em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
p,li{overflow-wrap:anywhere}code{background:#f2f4f7;padding:.1em .3em;font-size:.9em;overflow-wrap:anywhere;white-space:pre-wrap}
table{border-collapse:collapse;margin:.6em 0;width:100%}th,td{border:1px solid #d0d0d0;padding:.3em .5em;
text-align:left;vertical-align:top;font-size:.92em;overflow-wrap:anywhere}th{background:#f2f4f7}
table.users,table.findings{table-layout:fixed}
.figures td{font-size:1.1em;font-weight:600}.headline td{font-size:1.4em}.ok{color:#176b2c}
.failed{color:#b00020;font-weight:600}.dry{background:#fff4d6;border:1px solid #e0b000;padding:.6em;margin:1em 0}
.note{background:#eef4ff;border:1px solid #9bb8e8;padding:.6em;margin:1em 0}
.risk{color:#8a3b00;font-weight:600}.blocker{color:#b00020}.warning{color:#8a5a00}.info{color:#555}
.resolved,.carried{color:#176b2c}.review{color:#8a3b00}small{color:#555}
nav ol{margin:.2em 0}svg text{font-size:12px;fill:#1d1d1f}svg .potential{fill:#c9d7ea}svg .saved{fill:#2e7d4f}
svg .label{font-weight:600}
@media print{body{margin:1cm;max-width:none}section,table,figure{page-break-inside:avoid}nav{page-break-after:always}}
"""


def _e(value):
    return html.escape("" if value is None else str(value))


def _figure(key, value, text=None, tag="td"):
    return '<%s data-figure="%s">%s</%s>' % (tag, _e(key), _e(value if text is None else text), tag)


def _span(key, value, text=None):
    return _figure(key, value, text, tag="span")


def _money_figure(key, amount, prices, tag="td"):
    return _figure(key, amount, money(amount or 0, prices), tag=tag)


def anchor(org_name):
    """The id of an org's section (the table of contents links to it)."""
    return "org-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(org_name))


_FINDING_COLUMNS = (8, 8, 17, 15, 27, 25)
_USER_COLUMNS = (("User", 17), ("Status", 10), ("Profile (before / after)", 15), ("Permission set", 16),
                 ("Verification", 9), ("Saving a month", 8), ("Reasons", 25))


def _chart(doc):
    """An inline SVG: per production org, the potential saving a month and what this run saved of it."""
    prices = doc["prices"]
    orgs = [o for o in doc["orgs"] if o["org_type"] == "production"]
    if not orgs:
        return ""
    top = max([o["potential_monthly_saving"] or 0 for o in orgs] + [o["monthly_saving"] or 0 for o in orgs] + [1])
    left, width, row = 170, 380, 46
    height = 34 + row * len(orgs)
    out = ['<figure id="chart"><svg role="img" aria-labelledby="chart-title" data-chart="savings" width="100%%" '
           'viewBox="0 0 720 %d" preserveAspectRatio="xMinYMin meet">' % height,
           '<title id="chart-title">Saving a month per production org: potential (plan) and saved by this run'
           '</title>',
           '<rect class="potential" x="%d" y="4" width="12" height="12"/><text x="%d" y="14">potential</text>'
           % (left, left + 16),
           '<rect class="saved" x="%d" y="4" width="12" height="12"/><text x="%d" y="14">saved by this run</text>'
           % (left + 90, left + 106)]
    for index, org in enumerate(orgs):
        y = 28 + index * row
        potential, saved = org["potential_monthly_saving"] or 0, org["monthly_saving"] or 0
        before, after = org["seats_before"] or {}, org["seats_after"] or {}
        seats = "seats free %s/%s" % (before.get("integration_free"), before.get("integration_total")) if before else ""
        if before and after:
            seats += " -> %s/%s" % (after.get("integration_free"), after.get("integration_total"))
        out.append('<g data-org="%s"><text class="label" x="0" y="%d">%s</text><text x="0" y="%d">%s</text>'
                   % (_e(org["org"]), y + 12, _e(org["org"][:24]), y + 28, _e(seats)))
        out.append('<rect class="potential" x="%d" y="%d" width="%d" height="14" data-value="%d"/>'
                   % (left, y, round(width * potential / top), potential))
        out.append('<rect class="saved" x="%d" y="%d" width="%d" height="14" data-value="%d"/>'
                   % (left, y + 18, round(width * saved / top), saved))
        out.append('<text x="%d" y="%d">%s potential</text><text x="%d" y="%d">%s saved</text></g>'
                   % (left + round(width * potential / top) + 6, y + 12, _e(money(potential, prices)),
                      left + round(width * saved / top) + 6, y + 30, _e(money(saved, prices))))
    out.append("</svg><figcaption><small>Potential: every user the plan moves, priced against the seats free "
               "when it was written. Saved: the users this run moved in production.</small></figcaption></figure>")
    return "\n".join(out)


def _toc(doc):
    out = ['<nav id="toc"><h2>Contents</h2><ol>', '<li><a href="#summary">Summary and next actions</a></li>',
           '<li><a href="#chart">Savings per org</a></li>', '<li><a href="#estate">Across the estate</a></li>',
           '<li><a href="#steps">Steps of this run</a></li>']
    group = None   # the production org whose sandboxes the open list holds ("" for the orphans' list)
    for org in doc["orgs"]:
        link = '<a href="#%s">%s</a> <small>%s%s</small>' % (
            _e(anchor(org["org"])), _e(org["org"]), _e(org["org_type"]), " - failed" if org["error"] else "")
        if org["org_type"] == "production":
            if group is not None:
                out.append("</ol></li>")
            out.append("<li>%s" % link)
            out.append("<ol>")
            group = org["org"]
        else:
            if group is None or (group and org.get("production_org") != group):
                if group is not None:
                    out.append("</ol></li>")
                out.append("<li>Sandboxes of orgs not in this report<ol>")
                group = ""
            out.append("<li>%s</li>" % link)
    if group is not None:
        out.append("</ol></li>")
    out.append('<li><a href="#provenance">Provenance and rollback</a></li></ol></nav>')
    # Empty sandbox lists of production orgs without one.
    return "\n".join(out).replace("<ol>\n</ol>", "")


def _summary(doc):
    prices, totals = doc["prices"], doc["totals"]
    out = ['<section id="summary"><h2>Summary</h2>']
    if doc["dry_run"]:
        out.append('<p class="dry">Dry run (check mode): nothing was changed in any org. Would save %s a month (%s a '
                   'year) if it went ahead; only a real sandbox run shows what an org refuses.</p>'
                   % (_span("totals.projected_monthly_saving", totals["projected_monthly_saving"],
                            money(totals["projected_monthly_saving"], prices)),
                      _span("totals.projected_annual_saving", totals["projected_annual_saving"],
                            money(totals["projected_annual_saving"], prices))))
    out.append('<table class="figures headline"><tr><th>Saved a month</th><th>Saved a year</th><th>Potential a month'
               '</th><th>Potential a year</th><th>Users moved</th><th>Waiting for a seat</th><th>Blocked</th>'
               '<th>Orgs failed</th></tr><tr>')
    out.append(_money_figure("totals.monthly_saving", totals["monthly_saving"], prices) +
               _money_figure("totals.annual_saving", totals["annual_saving"], prices) +
               _money_figure("totals.potential_monthly_saving", totals["potential_monthly_saving"], prices) +
               _money_figure("totals.potential_annual_saving", totals["potential_annual_saving"], prices) +
               _figure("totals.moved", totals["moved"]) + _figure("totals.waiting", totals["waiting"]) +
               _figure("totals.blocked", totals["blocked"]) + _figure("totals.orgs_failed", totals["orgs_failed"]))
    out.append("</tr></table>")
    out.append('<p class="note">A saving is real only once the full licenses it frees are cut, usually at the '
               'contract renewal: tell the account owner how many before the renewal date. Counted on production '
               'orgs at %s a month per full license and %s per Salesforce Integration seat beyond the free ones.</p>'
               % (_e(money(prices["full_license"], prices)), _e(money(prices["integration_seat"], prices))))
    if totals["blocked_by"]:
        out.append("<h3>Blocked, and why</h3><ul>")
        for code, count in sorted(totals["blocked_by"].items(), key=lambda item: (-item[1], item[0])):
            out.append("<li><b>%s</b>: %d user(s)</li>" % (_e(code), count))
        out.append("</ul>")
    if doc["risks"]:
        out.append("<h3>For the security review</h3><ul>")
        for risk in doc["risks"]:
            out.append('<li class="risk" data-risk="admin-rights">%s (%s): admin-level rights %s copied into permission '
                       'set %s so the integration keeps working; narrow them once the move is verified.</li>'
                       % (_e(risk["user"]), _e(risk["org"]), _e(", ".join(risk["rights"])), _e(risk["permission_set"])))
        out.append("</ul>")
    if totals["extra_seats_needed"]:
        out.append("<h3>Seats to buy</h3><table><tr><th>Org</th><th>Extra seats</th><th>Cost a month</th>"
                   "<th>Saving they unlock a month</th></tr>")
        for org in doc["orgs"]:
            if org["extra_seats_needed"]:
                key = "orgs.%s" % org["org"]
                out.append("<tr><td>%s</td>%s%s%s</tr>" % (
                    _e(org["org"]), _figure(key + ".extra_seats_needed", org["extra_seats_needed"]),
                    _figure(key + ".extra_seats_monthly_cost", org["extra_seats_monthly_cost"],
                            money(org["extra_seats_monthly_cost"], prices)),
                    _figure(key + ".extra_seats_unlock", org["extra_seats_unlock"], money(org["extra_seats_unlock"], prices))))
        out.append("</table>")
    out.append('<h3>Next actions</h3><ol id="next-actions">')
    for action in doc["next_actions"]:
        out.append("<li>%s%s</li>" % (_e(action["action"]),
                                      "<br><code>%s</code>" % _e(action["command"]) if action["command"] else ""))
    out.append("</ol></section>")
    return "\n".join(out)


def _estate(doc):
    totals = doc["totals"]
    out = ['<section id="estate"><h2>Across the estate</h2><p>%s org(s): %s production, %s sandbox(es); %s failed.</p>'
           % (_span("totals.orgs", totals["orgs"]), _span("totals.production_orgs", totals["production_orgs"]),
              _span("totals.sandbox_orgs", totals["sandbox_orgs"]), _span("totals.orgs_failed", totals["orgs_failed"]))]
    out.append('<h3>Production</h3><table class="figures"><tr><th>Moved</th><th>Waiting</th><th>Blocked</th>'
               '<th>Refused by the org</th><th>Refused by the gate</th><th>Verified (passed / failed)</th>'
               '<th>Rolled back</th><th>Extra seats needed</th></tr><tr>')
    out.append(_figure("totals.moved", totals["moved"]) + _figure("totals.waiting", totals["waiting"]) +
               _figure("totals.blocked", totals["blocked"]) + _figure("totals.failed", totals["failed"]) +
               _figure("totals.gated", totals["gated"]) +
               "<td>%s / %s</td>" % (_span("totals.verified_passed", totals["verified_passed"]),
                                     _span("totals.verified_failed", totals["verified_failed"])) +
               _figure("totals.rolled_back", totals["rolled_back"]) +
               _figure("totals.extra_seats_needed", totals["extra_seats_needed"]))
    out.append("</tr></table>")
    if totals["sandbox_orgs"]:
        out.append('<h3>Sandbox rehearsals <small>(copies of production users: not counted above, no saving)'
                   '</small></h3><table class="figures"><tr><th>Moved</th><th>Refused by the org</th>'
                   '<th>Verified (passed / failed)</th><th>Restored</th></tr><tr>')
        out.append(_figure("totals.sandbox_moved", totals["sandbox_moved"]) +
                   _figure("totals.sandbox_failed", totals["sandbox_failed"]) +
                   "<td>%s / %s</td>" % (_span("totals.sandbox_verified_passed", totals["sandbox_verified_passed"]),
                                         _span("totals.sandbox_verified_failed", totals["sandbox_verified_failed"])) +
                   _figure("totals.sandbox_restored", totals["sandbox_restored"]))
        out.append("</tr></table>")
    out.append('</section><section id="steps"><h2>Steps of this run</h2>')
    if doc["steps"]:
        out.append("<table><tr><th>Step</th><th>First org</th><th>Last org</th><th>Orgs</th><th>Failed</th></tr>")
        for step in doc["steps"]:
            out.append("<tr><td>%s%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td></tr>" % (
                _e(step["step"]), " (check mode)" if step["dry_run"] else "", _e(step["first"]), _e(step["last"]),
                step["orgs"], step["failed"]))
        out.append("</table>")
    out.append("</section>")
    return "\n".join(out)


def _org_section(doc, org):
    prices = doc["prices"]
    key = "orgs.%s" % org["org"]
    out = ['<section id="%s"><h2>%s <small>%s%s</small></h2>' % (
        _e(anchor(org["org"])), _e(org["org"]), _e(org["org_type"]),
        (", sandbox of " + _e(org["production_org"])) if org.get("production_org") else "")]
    out.append('<p class="%s">%s</p>' % ("failed" if org["error"] else "ok", _e(org["summary"])))
    before, after = org["seats_before"] or {}, org["seats_after"] or {}
    out.append("<table><tr><th></th><th>Integration seats total</th><th>used</th><th>free</th>"
               "<th>API Integration PSL free</th><th>Full Salesforce licenses used</th></tr>")
    for label, seats, tag in (("Before" if org.get("seats_source") == "read" else "At inventory", before, "seats_before"),
                              ("After (projected)" if after.get("projected") else "After", after, "seats_after")):
        if not seats:
            continue
        out.append("<tr><th>%s</th>%s%s%s%s%s</tr>" % (
            label, _figure("%s.%s.integration_total" % (key, tag), seats.get("integration_total")),
            _figure("%s.%s.integration_used" % (key, tag), seats.get("integration_used")),
            _figure("%s.%s.integration_free" % (key, tag), seats.get("integration_free")),
            _figure("%s.%s.psl_free" % (key, tag), seats.get("psl_free")),
            _figure("%s.%s.salesforce_used" % (key, tag), seats.get("salesforce_used"))))
    out.append("</table>")
    counts = org["counts"]
    saving = (_money_figure(key + ".monthly_saving", org["monthly_saving"], prices) +
              _money_figure(key + ".potential_monthly_saving", org["potential_monthly_saving"], prices)) \
        if org["org_type"] == "production" else '<td colspan="2">none: a sandbox holds copies</td>'
    out.append("<table class=\"figures\"><tr><th>Moved</th><th>Waiting</th><th>Blocked</th><th>Excluded</th>"
               "<th>Refused by the org</th><th>Refused by the gate</th><th>Verification passed</th>"
               "<th>Verification failed</th><th>Saving a month</th><th>Potential a month</th></tr><tr>%s</tr></table>" % (
                   _figure(key + ".counts.moved", counts["moved"]) + _figure(key + ".counts.waiting", counts["waiting"]) +
                   _figure(key + ".counts.blocked", counts["blocked"]) +
                   _figure(key + ".counts.excluded", counts["excluded"]) +
                   _figure(key + ".counts.failed", counts["failed"]) + _figure(key + ".counts.gated", counts["gated"]) +
                   _figure(key + ".counts.verified_passed", counts["verified_passed"]) +
                   _figure(key + ".counts.verified_failed", counts["verified_failed"]) + saving))
    if org.get("gate") and org["gate"].get("override"):
        out.append("<p class=\"failed\">Production gate overridden: %s</p>" % _e(org["gate"]["override"]))
    for step, error in org.get("step_errors", {}).items():
        if error != org["error"]:
            out.append('<p class="failed">The %s step of this run failed: %s</p>' % (_e(step), _e(error)))
    for note in org["notes"]:
        out.append('<p class="note" id="%s-%s"><b>Note %s</b>, for %s: %s</p>' % (
            _e(anchor(org["org"])), _e(note["id"]), _e(note["id"]), _e(", ".join(note["users"])), _e(note["text"])))
    if org["users"]:
        out.append('<table class="users"><colgroup>%s</colgroup><tr>%s</tr>' % (
            "".join('<col style="width:%d%%">' % width for _name, width in _USER_COLUMNS),
            "".join("<th>%s</th>" % name for name, _width in _USER_COLUMNS)))
        for user in org["users"]:
            refused = user["status"] in ("failed", "gated", "rolled_back")
            profile = _e(user["previous_profile"] or user["profile"])
            if user["new_profile"] and user["new_profile"] != user["previous_profile"]:
                profile += " &rarr; %s" % _e(user["new_profile"])
            permission_set = _e(user["permission_set"]) + "".join(
                "<br><small>carries %s</small>" % _e(item) for item in user.get("carried") or ())
            if user["risk"] and user["permission_set"]:
                permission_set += '<br><span class="risk" data-risk="admin-rights">admin-level rights copied: %s</span>' \
                                  % _e(", ".join(user["risk"]))
            if user.get("access_source"):
                permission_set += '<br><span class="least-privilege">%s</span>' % _e(user["access_source"])
            if user.get("observed"):
                permission_set += '<br><small class="observed">%s</small>' % _e(user["observed"])
            saving = money(user["monthly_saving"], prices) if user["monthly_saving"] is not None else ""
            out.append("<tr><td>%s</td><td%s>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                _e(user["username"]), ' class="failed"' if refused else "", _e(user["status_text"]), profile,
                permission_set, _e(user["verification"]), _e(saving),
                "<br>".join([_e(r) for r in _reason_cells(org, user)] +
                            ["<b>Manual step</b> %s" % _e(step) for step in user.get("manual_steps") or ()])))
        out.append("</table>")
    if org["findings"]:
        open_count = sum(1 for f in org["findings"] if f["state"] == "open")
        out.append('<details%s><summary>Profile-check findings (%d, %d open)</summary><table class="findings">'
                   '<colgroup>%s</colgroup><tr><th>Severity</th><th>State</th><th>Code</th><th>User</th><th>Finding</th>'
                   '<th>What to do / how resolved</th></tr>'
                   % (" open" if open_count else "", len(org["findings"]), open_count,
                      "".join('<col style="width:%d%%">' % width for width in _FINDING_COLUMNS)))
        for finding in org["findings"]:
            severity = finding["severity"] if finding["state"] == "open" else finding["state"]
            out.append('<tr><td class="severity %s">%s</td><td class="%s">%s</td><td>%s</td><td>%s</td><td>%s</td>'
                       '<td>%s</td></tr>' % (
                           _e(severity), _e(finding["severity"]), _e(finding["state"]), _e(finding["state"]),
                           _e(finding["code"]), _e(finding["user"]), _e(finding["message"]),
                           _e(finding["resolution"] or finding["remediation"])))
        out.append("</table></details>")
    out.append("</section>")
    return "\n".join(out)


def _provenance(doc):
    prov = doc["provenance"]
    rows = (("Collection", "%s %s" % (prov.get("collection") or "sfops.integration_users", prov.get("version") or "")),
            ("Operator", prov.get("operator")), ("Inventory", ", ".join(prov.get("inventory") or ()) or "not recorded"),
            ("Run id", doc["run_id"]), ("Run started", prov.get("started")), ("Report written", prov.get("report_written")),
            ("Runs directory", prov.get("runs_dir")), ("Merged runs", ", ".join(prov.get("merged_runs") or ()) or "none"),
            ("Plan checksums", ", ".join("%s %s" % (o["org"], o["plan_checksum"]) for o in doc["orgs"]
                                         if o["org_type"] == "production" and o["plan_checksum"]) or "none"))
    out = ['<section id="provenance"><h2>Provenance and rollback</h2><table>']
    out.extend("<tr><th>%s</th><td>%s</td></tr>" % (_e(name), _e(value)) for name, value in rows)
    out.append('</table><p>To restore every user this run changed from its backups:<br><code id="rollback-command">%s'
               '</code></p></section>' % _e(doc["rollback_command"]))
    return "\n".join(out)


def render_html(doc):
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>Integration license migration - run %s</title><style>%s</style></head><body>"
           % (_e(doc["run_id"]), _CSS),
           "<h1>Salesforce Integration license migration</h1>",
           "<p>Run <b>%s</b>, report of %s (%s).</p>" % (
               _e(doc["run_id"]), _e(doc["created"]), _e(", ".join(s["step"] for s in doc["steps"]) or "no step"))]
    out.append(_summary(doc))
    out.append(_chart(doc))
    out.append(_toc(doc))
    out.append(_estate(doc))
    for org in doc["orgs"]:
        out.append(_org_section(doc, org))
    out.append(_provenance(doc))
    out.append("<p><small>Written by the sfops.integration_users license_migration role; the same figures are in "
               "report.json and report.csv.</small></p></body></html>\n")
    return "\n".join(out)


def stats(doc, paths):
    return {"license_migration": {
        "run_id": doc["run_id"], "dry_run": doc["dry_run"], "report": paths, "totals": doc["totals"],
        "orgs": dict((o["org"], {"status": o["status"], "summary": o["summary"], "counts": o["counts"],
                                 "monthly_saving": o["monthly_saving"]}) for o in doc["orgs"])}}
