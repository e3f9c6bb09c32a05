# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of a move onto the Salesforce Integration license: the one copy.

sf_profile_check (the checker) reports what these rules say; sf_integration_user (the writer)
refuses what they refuse. Both call the functions here, so the checker's verdict for a user is,
by construction, what the writer will do. Pure functions: plain records in, findings out.

A *finding* here is ``{"code", "severity", "message"}``; ``REMEDIATION[code]`` says what to do.
Records are the shapes of ``salesforce.records``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import same_id
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import api_usage
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.licenses import (
    DEPRECATED_PROFILE, INTEGRATION_LICENSE, INTEGRATION_PSL_LABEL, STANDARD_PROFILE, same_name)
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.records import license_kind_of
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.users import (
    classify_login_type, empty_login_mix)

REMEDIATION = {
    "NO_INTEGRATION_LICENSE": "Ask Salesforce to provision the 'Salesforce Integration' license (Enterprise, "
                              "Unlimited and Performance editions include 5 seats) before migrating.",
    "NO_SEATS": "Free or buy seats of that license, or move fewer users at a time.",
    "NO_INTEGRATION_PSL": "Without the 'Salesforce API Integration' permission set license, permission sets cannot "
                          "grant object access to integration users: ask Salesforce to provision it.",
    "PSL_SHORT_OF_SEATS": "Free or buy seats of that permission set license, or move fewer users at a time.",
    "TARGET_PROFILE_MISSING": "Name an existing profile of the 'Salesforce Integration' license in target_profile "
                              "(its name or its Id).",
    "TARGET_PROFILE_WRONG_LICENSE": "Pick a profile of the 'Salesforce Integration' license; this one would keep "
                                    "the users on a paid license.",
    "TARGET_PROFILE_DUPLICATED": "Set target_profile to the Id of the profile to use, and remove or rename the "
                                 "duplicates.",
    "TARGET_PROFILE_DEPRECATED": "Prefer 'Minimum Access - API Only Integrations'; the deprecated profile may be "
                                 "removed by Salesforce.",
    "PERMISSION_SET_LICENSE_CONFLICT": "Remove these assignments before the profile changes (sf_integration_user "
                                       "does it with conflicting_permission_sets: remove) and re-grant the access "
                                       "they give through a permission set bound to 'Salesforce API Integration' or "
                                       "to no license.",
    "RUNNING_USER": "Run the migration as another administrator: the connecting user must keep its access.",
    "UI_LOGINS": "This looks like a person, not an integration: do not move it, or give the integration its "
                 "own user.",
}


def rule_finding(code, severity, message):
    return {"code": code, "severity": severity, "message": message}


# ---- target profile -----------------------------------------------------------------------------
def matches_profile(profile, wanted):
    """A profile named ``wanted`` (case-insensitive, as Salesforce names are) or with that Id (15/18)."""
    return same_id(profile.get("id"), wanted) or same_name(profile.get("name"), wanted)


def on_integration_license(record):
    return same_name(record.get("license"), INTEGRATION_LICENSE)


def resolve_target_profile(profiles, target_profile=None, default_profile=None):
    """``(profile record or None, findings)``: the profile users move to.

    ``profiles``: the profile records read (those on the integration license, the look-alikes and
    any the task names). ``target_profile``: a name or an Id; it must be on the integration license
    (a custom "API Only" profile on the full license looks right and frees nothing) and match one
    profile only. Without it, ``default_profile`` (``licenses.integration_summary()["default_profile"]``,
    chosen by license, never by name alone) is used. A finding of severity ``blocker`` means no target.
    """
    profiles = list(profiles)
    if target_profile:
        matches = [p for p in profiles if matches_profile(p, target_profile)]
        on_license = [p for p in matches if on_integration_license(p)]
        if len(on_license) > 1:
            return None, [rule_finding("TARGET_PROFILE_DUPLICATED", "blocker",
                                       "%d profiles of the '%s' license match target_profile '%s'"
                                       % (len(on_license), INTEGRATION_LICENSE, target_profile))]
        if on_license:
            return on_license[0], []
        if matches:
            return None, [rule_finding("TARGET_PROFILE_WRONG_LICENSE", "blocker",
                                       "target profile '%s' is on the '%s' license, not '%s': it would not free "
                                       "a full license" % (matches[0]["name"], matches[0].get("license"),
                                                           INTEGRATION_LICENSE))]
        return None, [rule_finding("TARGET_PROFILE_MISSING", "blocker",
                                   "no profile '%s' on the '%s' license" % (target_profile, INTEGRATION_LICENSE))]

    default_profile = default_profile or {}
    chosen = [p for p in profiles if default_profile.get("id") and same_id(p.get("id"), default_profile["id"])]
    if not chosen:
        return None, [rule_finding("TARGET_PROFILE_MISSING", "blocker", "no target profile: %s" % (
            default_profile.get("reason") or "no profile on the '%s' license" % INTEGRATION_LICENSE))]
    findings = []
    standard = [p for p in profiles if on_integration_license(p) and same_name(p.get("name"), STANDARD_PROFILE)]
    if len(standard) > 1:
        findings.append(rule_finding("TARGET_PROFILE_DUPLICATED", "warning",
                                     "%d profiles named '%s' are on the '%s' license; using %s"
                                     % (len(standard), STANDARD_PROFILE, INTEGRATION_LICENSE, chosen[0]["id"])))
    if same_name(chosen[0].get("name"), DEPRECATED_PROFILE):
        findings.append(rule_finding("TARGET_PROFILE_DEPRECATED", "warning",
                                     "only the deprecated profile '%s' is on the '%s' license"
                                     % (DEPRECATED_PROFILE, INTEGRATION_LICENSE)))
    return chosen[0], findings


# ---- permission sets and their licenses ---------------------------------------------------------
def permission_set_fits(permission_set, user_license_id, psl_ids):
    """Whether a user on the user license ``user_license_id`` holding the permission set licenses
    ``psl_ids`` may hold ``permission_set`` (a record with ``license_id``): Salesforce refuses a set
    bound to another user license, or to a permission set license the user does not hold."""
    bound_to = permission_set.get("license_id")
    if not bound_to:
        return True
    if license_kind_of(bound_to) == "permission_set_license":
        return any(same_id(bound_to, held) for held in psl_ids)
    return same_id(bound_to, user_license_id)


def conflicting_permission_sets(permission_sets, user_license_id, psl_ids):
    """The sets of ``permission_sets`` that a user moved onto ``user_license_id`` could not keep."""
    return [ps for ps in permission_sets if not permission_set_fits(ps, user_license_id, psl_ids)]


# ---- seats --------------------------------------------------------------------------------------
def seats_needed(moves):
    """``{license Id: seats}`` a set of moves takes.

    ``moves``: ``[{"active", "from_license_id", "to_license_id", "added_psl_ids"}]`` (``from_license_id``
    None for a user to create). An inactive user holds no user-license seat; a permission set license
    assignment takes a seat whether the user is active or not. Users leaving a license are not counted
    as freeing a seat before the others arrive: the writes are not ordered that way."""
    needed = {}
    for move in moves:
        target = move["to_license_id"]
        if move["active"] and not (move.get("from_active", True) and same_id(move.get("from_license_id"), target)):
            needed[target] = needed.get(target, 0) + 1
        for psl_id in move.get("added_psl_ids") or ():
            needed[psl_id] = needed.get(psl_id, 0) + 1
    return needed


def seat_findings(needed, seats):
    """Blockers where ``needed`` (``seats_needed``) exceeds the free seats of ``seats``
    (``{license Id: {"name", "total", "used"}}``, user licenses and permission set licenses alike).
    A license whose counts are unknown is not judged."""
    findings = []
    by_id = dict((key, value) for key, value in seats.items())
    # User licenses first: the seat a person asks about first.
    for license_id, count in sorted(needed.items(),
                                    key=lambda item: (license_kind_of(item[0]) != "user_license", str(item[0]))):
        entry = next((value for key, value in by_id.items() if same_id(key, license_id)), None)
        if entry is None or entry.get("total") is None or entry.get("used") is None:
            continue
        free = max(int(entry["total"]) - int(entry["used"]), 0)
        if count <= free:
            continue
        psl = license_kind_of(license_id) == "permission_set_license"
        findings.append(rule_finding(
            "PSL_SHORT_OF_SEATS" if psl else "NO_SEATS", "blocker",
            "the %s '%s' has %d free seat(s) and this run needs %d (%d of %d used)"
            % ("permission set license" if psl else "user license", entry.get("name"), free, count, entry["used"],
               entry["total"])))
    return findings


def missing_license_findings(user_license, psl):
    """Blockers when the org lacks the integration user license or its permission set license."""
    findings = []
    if user_license is None:
        findings.append(rule_finding("NO_INTEGRATION_LICENSE", "blocker",
                                     "the org has no '%s' user license" % INTEGRATION_LICENSE))
    if psl is None:
        findings.append(rule_finding("NO_INTEGRATION_PSL", "blocker",
                                     "the org has no '%s' permission set license" % INTEGRATION_PSL_LABEL))
    return findings


# ---- users --------------------------------------------------------------------------------------
def is_migrated(license_name):
    """Whether a user on the user license ``license_name`` is already on the integration license."""
    return same_name(license_name, INTEGRATION_LICENSE)


def running_user_finding(user_id, running_user_id):
    if running_user_id and same_id(user_id, running_user_id):
        return rule_finding("RUNNING_USER", "blocker", "is the user this module runs as: changing it would cut "
                                                       "the module's own access")
    return None


def ui_login_finding(ui_logins, lookback_days, last_ui=None):
    if ui_logins:
        return rule_finding("UI_LOGINS", "blocker", "%d user-interface login(s) in the last %d days%s: a person uses "
                                                    "it, and the integration license cannot log in to the UI"
                            % (ui_logins, lookback_days or 0, " (last %s)" % last_ui if last_ui else ""))
    return None


# ---- candidates ---------------------------------------------------------------------------------
# Seats worth freeing: users on these licenses cost money, the integration license is (mostly) free.
PAID_LICENSES = ("Salesforce", "Salesforce Platform")
CANDIDATE_CHECKS = ("active", "api_enabled", "api_only_logins", "paid_license", "not_running_user",
                    "not_migrated")


def _check(name, passed, detail):
    return {"check": name, "passed": bool(passed), "detail": detail}


def assess_candidate(user, running_user_id=None):
    """Why ``user`` is or is not an integration-user candidate; every check is always reported."""
    logins = user.get("logins") or empty_login_mix(None)
    window = logins.get("lookback_days")
    window_text = ("in the last %s days" % window) if window else "in the login window"
    license_name = user.get("license")
    checks = [
        _check("active", user.get("active"),
               "active" if user.get("active") else "inactive (deactivated users hold no seat)"),
        _check("api_enabled", user.get("api_enabled"),
               "API Enabled" if user.get("api_enabled")
               else "API Enabled is not granted by the profile or any permission set"),
    ]
    if logins["ui"] or logins["other"]:
        passed = False
        detail = "%d UI and %d other logins %s besides %d API logins: a person uses this account" % (
            logins["ui"], logins["other"], window_text, logins["api"])
        if not logins["ui"]:
            detail = "%d logins of a type that is neither API nor UI %s (%s): check them first" % (
                logins["other"], window_text,
                ", ".join(sorted(t for t in logins["by_type"] if classify_login_type(t) == "other")))
    elif logins["api"]:
        passed, detail = True, "only API logins %s (%d)" % (window_text, logins["api"])
    elif user.get("oauth_tokens"):
        # A refresh token keeps an integration running without a login LoginHistory would show.
        passed, detail = True, "no login %s, but OAuth token use %s: %s" % (
            window_text, window_text, describe_tokens(user["oauth_tokens"]))
    elif (user.get("api_usage") or {}).get("calls"):
        # A session issued before the window (or by a flow LoginHistory does not keep) still calls the API.
        passed, detail = True, "no login %s, but the API usage log shows %s" % (
            window_text, api_usage.describe_usage(user["api_usage"], user["api_usage_log"]["date"]))
    else:
        passed, detail = False, "no successful login %s: nothing shows it is an integration" % window_text
    checks.append(_check("api_only_logins", passed, detail))
    checks.append(_check(
        "paid_license", license_name in PAID_LICENSES,
        "on the paid license %r" % license_name if license_name in PAID_LICENSES
        else "on license %r, not one of %s" % (license_name, ", ".join(PAID_LICENSES))))
    is_running = same_id(running_user_id, user.get("id"))
    checks.append(_check("not_running_user", not is_running,
                         "the user this task connects as: moving it would cut the task off" if is_running
                         else "not the connecting user"))
    migrated = is_migrated(license_name)
    checks.append(_check("not_migrated", not migrated,
                         "already on the %s license" % INTEGRATION_LICENSE if migrated
                         else "not on the %s license yet" % INTEGRATION_LICENSE))
    candidate = all(c["passed"] for c in checks)
    reasons = [c["detail"] for c in checks if not c["passed"]] or [
        "candidate: " + "; ".join(c["detail"] for c in checks)]
    return {"candidate": candidate, "checks": checks, "reasons": reasons}


def describe_tokens(tokens, limit=3):
    """``app 'X' (N uses, last used D)``, most recent first, for messages."""
    text = ", ".join("app '%s' (%d uses, last used %s)" % (t["app"], t["use_count"], (t.get("last_used") or "?")[:10])
                     for t in tokens[:limit])
    return text + (" and %d more" % (len(tokens) - limit) if len(tokens) > limit else "")


def usage_evidence(user):
    """What the org records of this user's use, one line per kind of evidence (what made it a candidate
    or not): LoginHistory's login mix, OAuth tokens and, when it was read, the ApiTotalUsage log."""
    logins = user.get("logins") or empty_login_mix(None)
    window = logins.get("lookback_days")
    out = [{"source": "LoginHistory", "detail": "%d API, %d UI, %d other successful logins%s" % (
        logins["api"], logins["ui"], logins["other"], " in the last %s days" % window if window else "")}]
    tokens = user.get("oauth_tokens")
    out.append({"source": "OauthToken", "detail": "not readable by the connecting user" if tokens is None
                else describe_tokens(tokens) if tokens else "no token used in the window"})
    log = user.get("api_usage_log")
    if log is not None:
        usage = user.get("api_usage")
        out.append({"source": "ApiTotalUsage", "detail": log["detail"] if usage is None
                    else api_usage.describe_usage(usage, log["date"]) if usage["calls"]
                    else "no API call on %s (the newest log read)" % log["date"]})
    return out


def annotate_candidates(users, running_user_id=None):
    for user in users:
        verdict = assess_candidate(user, running_user_id)
        user["candidate"] = verdict["candidate"]
        user["candidate_checks"] = verdict["checks"]
        user["candidate_reasons"] = verdict["reasons"]
        user["candidate_evidence"] = usage_evidence(user)
    return users
