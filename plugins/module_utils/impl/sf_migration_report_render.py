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

REPORT_FORMAT = "sfops.integration_users.report/1"
CSV_COLUMNS = ("run_id", "org", "org_type", "username", "status", "profile", "license", "permission_set",
               "verification", "reasons", "carried", "manual_steps")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such cells get a
# leading apostrophe, which spreadsheets show as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Later stages say more about a user than earlier ones.
_STAGES = ("inventory", "plan", "migrate", "verify", "rollout", "rollback")


def monthly_saving(users, free_seats, prices):
    extra = max(0, users - max(0, free_seats))
    return users * prices["full_license"] - extra * prices["integration_seat"]


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


def _user_rows(result):
    """username -> row, each stage refining the row of the previous one."""
    rows = {}

    def row(username):
        return rows.setdefault(username.lower(), {
            "username": username, "status": None, "profile": None, "license": None, "permission_set": None,
            "verification": None, "reasons": [], "carried": [], "manual_steps": []})

    inventory = result.get("inventory") or {}
    for user in inventory.get("users") or []:
        item = row(user["username"])
        item.update(profile=(user.get("profile") or {}).get("name"), license=user.get("license"),
                    status="candidate" if user.get("candidate") else "not_candidate",
                    reasons=list(user.get("candidate_reasons") or []))
    plan = result.get("plan") or {}
    for entry in plan.get("entries") or []:
        item = row(entry.get("target_username") or entry["username"])
        item.update(status={"move": "planned"}.get(entry["status"], entry["status"]),
                    reasons=list(entry.get("reasons") or []),
                    permission_set=(entry.get("permission_set") or {}).get("name"),
                    carried=carried_text(entry.get("carried")), manual_steps=manual_step_text(entry.get("manual_steps")))
        if entry.get("profile"):
            item.update(profile=entry["profile"], license=entry.get("license"))
    migrate = result.get("migrate") or {}
    for user in migrate.get("users") or []:
        item = row(user["username"])
        after = user.get("after") or {}
        if migrate.get("dry_run"):
            item["status"] = "would_move" if user.get("changed") else "migrated"
        else:
            item["status"] = "moved" if user.get("changed") else "migrated"
            item["reasons"] = ["moved by this run" if user.get("changed") else "already on the integration license"]
        item["profile"] = (after.get("profile") or {}).get("name") or item["profile"]
        item["license"] = (after.get("profile") or {}).get("license") or item["license"]
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
                item.update(status="rolled_back",
                            reasons=["batch %s rolled back: %s" % (batch.get("number"), batch.get("reason"))] +
                            item["reasons"])
            elif batch.get("skipped"):
                item.update(status="not_started", reasons=[batch["skipped"]])
    for name in (result.get("rollback") or {}).get("usernames") or []:
        row(name).update(status="restored", reasons=["restored from the backups of run %s"
                                                     % (result.get("rollback") or {}).get("run_id")])
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


def _org_report(result, prices):
    inventory = result.get("inventory") or {}
    plan = result.get("plan") or {}
    users = _user_rows(result)
    counted = dict((status, sum(1 for u in users if u["status"] == status))
                   for status in ("moved", "would_move", "migrated", "planned", "wait", "blocked", "excluded",
                                  "not_candidate", "gated", "rolled_back", "restored", "failed", "candidate"))
    verified = [u for u in users if u["verification"]]
    # Seats read just before this run's moves, else at inventory time, else as the plan saw them.
    seats_before = (_read_seats(result.get("seats_before")) or
                    _seats(inventory.get("integration"), inventory.get("salesforce_seats")) or plan.get("seats"))
    free = (seats_before or {}).get("integration_free") or 0
    production = result.get("org_type") == "production"
    candidates = sum(1 for u in users if u["status"] not in ("not_candidate", None))
    # Users ready to move: planned or waiting, moved (or would be), or held at the production gate.
    ready = counted["planned"] + counted["wait"] + counted["moved"] + counted["would_move"] + counted["gated"]
    if not plan:
        ready = candidates
    org = {
        "org": result.get("org"),
        "org_type": result.get("org_type"),
        "production_org": result.get("production_org"),
        "status": "failed" if result.get("error") else "ok",
        "error": result.get("error"),
        "entry_points": [stage for stage in _STAGES if result.get(stage)],
        "seats_before": seats_before,
        "seats_after": _read_seats(result.get("seats_after")),
        "plan_file": plan.get("path"),
        "plan_checksum": plan.get("checksum"),
        "gate": (result.get("rollout") or {}).get("gate"),
        "users": users,
        "findings": [dict((k, f.get(k)) for k in ("code", "severity", "user", "message", "remediation"))
                     for f in (inventory.get("findings") or plan.get("findings") or [])],
        "counts": {"candidates": candidates, "moved": counted["moved"], "would_move": counted["would_move"],
                   "already_migrated": counted["migrated"], "planned": counted["planned"],
                   "waiting": counted["wait"], "blocked": counted["blocked"], "excluded": counted["excluded"],
                   "not_candidates": counted["not_candidate"], "gated": counted["gated"],
                   "rolled_back": counted["rolled_back"], "restored": counted["restored"],
                   "failed": counted["failed"],
                   "verified_passed": sum(1 for u in verified if u["verification"] == "passed"),
                   "verified_failed": sum(1 for u in verified if u["verification"] == "failed")},
        "monthly_saving": monthly_saving(counted["moved"], free, prices) if production else 0,
        "potential_monthly_saving": monthly_saving(ready, free, prices) if production else 0,
        "extra_seats_needed": max(0, ready - free) if production else 0,
    }
    org["summary"] = summary_line(org, prices)
    return org


# Estate totals of user counts come from production orgs: a sandbox holds copies of production's users, so
# adding its moves would count each user twice. Sandbox rehearsals are totalled apart, as sandbox_<key>.
PRODUCTION_TOTALS = ("candidates", "moved", "would_move", "planned", "waiting", "blocked", "excluded", "gated",
                     "rolled_back", "restored", "failed", "verified_passed", "verified_failed")
SANDBOX_TOTALS = ("moved", "would_move", "failed", "rolled_back", "restored", "verified_passed", "verified_failed")


def build_report(org_results, run_id, created, dry_run, prices):
    orgs = [_org_report(r, prices) for r in sorted(org_results or [], key=lambda r: r.get("org") or "")]
    production = [o for o in orgs if o["org_type"] == "production"]
    sandboxes = [o for o in orgs if o["org_type"] != "production"]
    totals = {"orgs": len(orgs), "orgs_failed": sum(1 for o in orgs if o["status"] == "failed"),
              "production_orgs": len(production), "sandbox_orgs": len(sandboxes)}
    for key in PRODUCTION_TOTALS:
        totals[key] = sum(o["counts"][key] for o in production)
    for key in SANDBOX_TOTALS:
        totals["sandbox_" + key] = sum(o["counts"][key] for o in sandboxes)
    for key in ("monthly_saving", "potential_monthly_saving", "extra_seats_needed"):
        totals[key] = sum(o[key] for o in production)
    return {"format": REPORT_FORMAT, "run_id": run_id, "created": created, "dry_run": bool(dry_run),
            "prices": dict(prices), "totals": totals, "orgs": orgs}


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
            seats += " -> %s/%s" % (after.get("integration_free"), after.get("integration_total"))
        parts.append(seats)
    parts.append("%d candidate(s)" % counts["candidates"])
    for key, word in (("moved", "moved"), ("would_move", "would move (check mode)"), ("planned", "planned"),
                      ("waiting", "waiting"), ("blocked", "blocked"), ("excluded", "excluded"),
                      ("gated", "refused by the gate"), ("rolled_back", "rolled back"), ("restored", "restored")):
        if counts[key]:
            parts.append("%d %s" % (counts[key], word))
    if counts["verified_passed"] or counts["verified_failed"]:
        parts.append("verification %d/%d passed" % (counts["verified_passed"],
                                                    counts["verified_passed"] + counts["verified_failed"]))
    if org["org_type"] == "production":
        parts.append("saving %s/month (potential %s)" % (money(org["monthly_saving"], prices),
                                                         money(org["potential_monthly_saving"], prices)))
    return "%s: %s" % (label, "; ".join(parts))


def render_csv(doc):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for org in doc["orgs"]:
        for user in org["users"]:
            writer.writerow([csv_cell(value) for value in (
                doc["run_id"], org["org"], org["org_type"], user["username"], user["status"] or "",
                user["profile"] or "", user["license"] or "", user["permission_set"] or "", user["verification"] or "",
                " | ".join(user["reasons"]), " | ".join(user.get("carried") or ()),
                " | ".join(user.get("manual_steps") or ()))])
    return out.getvalue()


def csv_cell(value):
    """``value`` as a CSV cell no spreadsheet runs as a formula (names and messages come from the org)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# Long unbroken values (usernames, permission set names, backup paths in messages) may break anywhere, and
# the user table has fixed column shares, so nothing is wider than the page.
_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#1d1d1f;max-width:72em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
p{overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.6em 0;width:100%}th,td{border:1px solid #d0d0d0;padding:.3em .5em;
text-align:left;vertical-align:top;font-size:.92em;overflow-wrap:anywhere}th{background:#f2f4f7}
table.users{table-layout:fixed}
.figures td{font-size:1.1em;font-weight:600}.ok{color:#176b2c}.failed{color:#b00020;font-weight:600}
.dry{background:#fff4d6;border:1px solid #e0b000;padding:.6em;margin:1em 0}
.blocker{color:#b00020}.warning{color:#8a5a00}.info{color:#555}small{color:#555}
"""


def _e(value):
    return html.escape("" if value is None else str(value))


def _figure(key, value, text=None):
    return '<td data-figure="%s">%s</td>' % (_e(key), _e(value if text is None else text))


def _span(key, value):
    return '<span data-figure="%s">%s</span>' % (_e(key), _e(value))


# How a user status reads in the HTML table (the JSON keeps the status itself).
_STATUS_LABELS = {"failed": "refused by the org (not moved)", "gated": "refused by the gate (not moved)",
                  "wait": "waiting for a seat", "would_move": "would move (check mode)"}
_USER_COLUMNS = (("User", 18), ("Status", 10), ("Profile", 12), ("License", 9), ("Permission set", 16),
                 ("Verification", 10), ("Reasons", 25))


def render_html(doc):
    prices = doc["prices"]
    totals = doc["totals"]
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>Integration license migration - run %s</title><style>%s</style></head><body>"
           % (_e(doc["run_id"]), _CSS),
           "<h1>Salesforce Integration license migration</h1>",
           "<p>Run <b>%s</b>, %s. Prices: full license %s, extra integration seat %s a month.</p>"
           % (_e(doc["run_id"]), _e(doc["created"]), _e(money(prices["full_license"], prices)),
              _e(money(prices["integration_seat"], prices)))]
    if doc["dry_run"]:
        out.append('<p class="dry">Dry run (check mode): nothing was changed in any org; figures show what '
                   'would happen.</p>')
    out.append('<h2>Across the estate</h2><p>%s org(s): %s production, %s sandbox(es); %s failed.</p>' % (
        _span("totals.orgs", totals["orgs"]), _span("totals.production_orgs", totals["production_orgs"]),
        _span("totals.sandbox_orgs", totals["sandbox_orgs"]), _span("totals.orgs_failed", totals["orgs_failed"])))
    out.append('<h3>Production</h3><table class="figures"><tr><th>Moved</th><th>Waiting</th><th>Blocked</th>'
               '<th>Refused by the org</th><th>Refused by the gate</th><th>Verified (passed / failed)</th>'
               '<th>Rolled back</th><th>Monthly saving</th><th>Potential monthly saving</th></tr><tr>')
    out.append(_figure("totals.moved", totals["moved"]) + _figure("totals.waiting", totals["waiting"]) +
               _figure("totals.blocked", totals["blocked"]) + _figure("totals.failed", totals["failed"]) +
               _figure("totals.gated", totals["gated"]) +
               "<td>%s / %s</td>" % (_span("totals.verified_passed", totals["verified_passed"]),
                                     _span("totals.verified_failed", totals["verified_failed"])) +
               _figure("totals.rolled_back", totals["rolled_back"]) +
               _figure("totals.monthly_saving", totals["monthly_saving"], money(totals["monthly_saving"], prices)) +
               _figure("totals.potential_monthly_saving", totals["potential_monthly_saving"],
                       money(totals["potential_monthly_saving"], prices)))
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
    for org in doc["orgs"]:
        key = "orgs.%s" % org["org"]
        out.append('<h2 id="org-%s">%s <small>%s%s</small></h2>' % (
            _e(org["org"]), _e(org["org"]), _e(org["org_type"]),
            (", sandbox of " + _e(org["production_org"])) if org.get("production_org") else ""))
        out.append('<p class="%s">%s</p>' % ("failed" if org["error"] else "ok", _e(org["summary"])))
        before, after = org["seats_before"] or {}, org["seats_after"] or {}
        out.append("<table><tr><th></th><th>Integration seats total</th><th>used</th><th>free</th>"
                   "<th>API Integration PSL free</th><th>Full Salesforce licenses used</th></tr>")
        for label, seats, tag in (("Before", before, "seats_before"), ("After", after, "seats_after")):
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
        out.append("<table class=\"figures\"><tr><th>Moved</th><th>Waiting</th><th>Blocked</th><th>Excluded</th>"
                   "<th>Refused by the org</th><th>Refused by the gate</th><th>Verification passed</th>"
                   "<th>Verification failed</th><th>Monthly saving</th></tr><tr>%s%s%s%s%s%s%s%s%s</tr></table>" % (
                       _figure(key + ".counts.moved", counts["moved"]), _figure(key + ".counts.waiting", counts["waiting"]),
                       _figure(key + ".counts.blocked", counts["blocked"]),
                       _figure(key + ".counts.excluded", counts["excluded"]),
                       _figure(key + ".counts.failed", counts["failed"]), _figure(key + ".counts.gated", counts["gated"]),
                       _figure(key + ".counts.verified_passed", counts["verified_passed"]),
                       _figure(key + ".counts.verified_failed", counts["verified_failed"]),
                       _figure(key + ".monthly_saving", org["monthly_saving"], money(org["monthly_saving"], prices))))
        if org.get("gate") and org["gate"].get("override"):
            out.append("<p class=\"failed\">Production gate overridden: %s</p>" % _e(org["gate"]["override"]))
        if org["users"]:
            out.append('<table class="users"><colgroup>%s</colgroup><tr>%s</tr>' % (
                "".join('<col style="width:%d%%">' % width for _name, width in _USER_COLUMNS),
                "".join("<th>%s</th>" % name for name, _width in _USER_COLUMNS)))
            for user in org["users"]:
                refused = user["status"] in ("failed", "gated")
                out.append("<tr><td>%s</td><td%s>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                    _e(user["username"]), ' class="failed"' if refused else "",
                    _e(_STATUS_LABELS.get(user["status"], user["status"])), _e(user["profile"]), _e(user["license"]),
                    _e(user["permission_set"]) + "".join("<br><small>carries %s</small>" % _e(item)
                                                         for item in user.get("carried") or ()),
                    _e(user["verification"]),
                    "<br>".join([_e(r) for r in user["reasons"]] +
                                ["<b>Manual step</b> %s" % _e(step) for step in user.get("manual_steps") or ()])))
            out.append("</table>")
        if org["findings"]:
            out.append("<details><summary>Profile-check findings (%d)</summary><table><tr><th>Severity</th>"
                       "<th>Code</th><th>User</th><th>Finding</th><th>What to do</th></tr>" % len(org["findings"]))
            for finding in org["findings"]:
                out.append('<tr><td class="%s">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
                    _e(finding["severity"]), _e(finding["severity"]), _e(finding["code"]), _e(finding["user"]),
                    _e(finding["message"]), _e(finding["remediation"])))
            out.append("</table></details>")
    out.append("<p><small>Written by the sfops.integration_users license_migration role; the same figures are in "
               "report.json.</small></p></body></html>\n")
    return "\n".join(out)


def stats(doc, paths):
    return {"license_migration": {
        "run_id": doc["run_id"], "dry_run": doc["dry_run"], "report": paths, "totals": doc["totals"],
        "orgs": dict((o["org"], {"status": o["status"], "summary": o["summary"], "counts": o["counts"],
                                 "monthly_saving": o["monthly_saving"]}) for o in doc["orgs"])}}
