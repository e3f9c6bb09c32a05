# -*- coding: utf-8 -*-
# Copyright: contributors to sfops.integration_users
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Implementation of sf_profile_check: what would break if the users asked changed profile.

Read-only. The work is split into readers (HTTP, a constant number of calls) and pure functions that
turn plain rows into findings, so the findings are unit-tested without an org.

API calls for one run, whatever the number of users (beyond paging):
    1 composite   licenses, permission set licenses, integration-like profiles, the PermissionSet
                  describe and the global describe
    1 composite   users with profile, permission sets, PSLs and login mix (users.read_users)
    1 composite   access: permission sets of the profiles and users, their object and field rows
    1 composite   (Tooling) Apex classes and triggers with bodies, validation rules, active flows,
                  custom fields: 5 queries, the most Salesforce accepts in one composite
    ceil(n / 25)  composites (Tooling) of single-record GETs for the Metadata of the n validation rules,
                  flows and custom fields (Salesforce serves Metadata one record at a time; record GETs
                  are not queries, so the "5 queries per composite" rule does not cap them)
    ceil(s / 5)   the rows of the s hierarchy custom settings owned by the profiles
    with usage_days: 2 for the newest ApiTotalUsage log (users.read_users), ceil(o / 5) for the records
                  each user modified, for the o objects (at most 25) the users hold or used
Calls for a scan that is switched off are not made.

Finding: {"code", "severity": blocker|warning|info, "user": username|None,
          "component": {"type", "name", "id", "line"}|None, "message", "remediation"}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import licenses, observed_access, rules
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.access import (
    ADMIN_RIGHTS, access_gap, describe_access, describe_subrequest, empty_access, fetch_access, is_empty, merge_access)
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ApiError, ConfigurationError
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.reads import read_all, read_subrequests
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import is_id, same_id, to18
from ansible_collections.sfops.integration_users.plugins.module_utils.options import checked_lookback_days, get_spec, requested_users
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec
from ansible_collections.sfops.integration_users.plugins.module_utils.impl.sf_profile_check_scanner import (
    find_identifiers, find_references, scan_metadata)
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_literal
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.users import (
    missing_usernames, read_users)

SCANS = ("apex", "triggers", "validation_rules", "flows", "formula_fields", "custom_settings", "profile_settings")
SEVERITIES = ("blocker", "warning", "info")

ARGUMENT_SPEC = dict(
    get_spec("users", "lookback_days", "target_profile"),
    scans=dict(type="list", elements="str", choices=list(SCANS), default=list(SCANS)),
    extra_strings=dict(type="list", elements="str", default=[], no_log=False),
    usage_days=dict(type="int", default=0),
)

# ---- code and configuration: what is read and how it is scanned ---------------------------------
# scan name -> (component type, Tooling SOQL). Managed-package code is skipped: its bodies are hidden.
CODE_SOURCES = {
    "apex": ("ApexClass", "SELECT Id, Name, Body FROM ApexClass WHERE NamespacePrefix = null ORDER BY Name"),
    "triggers": ("ApexTrigger", "SELECT Id, Name, TableEnumOrId, Body FROM ApexTrigger "
                                "WHERE NamespacePrefix = null ORDER BY Name"),
    "validation_rules": ("ValidationRule", "SELECT Id, ValidationName, EntityDefinitionId FROM ValidationRule "
                                           "WHERE Active = true AND NamespacePrefix = null ORDER BY Id"),
    "flows": ("Flow", "SELECT Id, MasterLabel, DefinitionId, VersionNumber FROM Flow "
                      "WHERE Status = 'Active' ORDER BY Id"),
    "formula_fields": ("CustomField", "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField "
                                      "WHERE NamespacePrefix = null ORDER BY Id"),
}
# Components whose text is only in Tooling Metadata (fetched one record per subrequest).
METADATA_TYPES = ("ValidationRule", "Flow", "CustomField")

# Findings that keep a user where it is: nothing else is worth saying about how to move it.
STOPPING_CODES = ("RUNNING_USER", "UI_LOGINS")
_SEVERITY_RANK = dict((name, rank) for rank, name in enumerate(SEVERITIES))

# What to do, by finding code; the codes of the shared rules come with their remediation from rules.
REMEDIATION = dict(rules.REMEDIATION, **{
    "LOOKALIKE_PROFILE": "Do not use this profile for integration users: it is on another license. Rename it so it "
                         "is not mistaken for the integration profile (Salesforce known issue with custom "
                         "'API Only' profiles).",
    "USER_NOT_FOUND": "Check the username (sandbox usernames carry the sandbox name as a suffix).",
    "USER_INACTIVE": "Inactive users hold no seat; reactivate the user only if the integration is still in use.",
    "ALREADY_MIGRATED": "Nothing to do.",
    "PERMISSION_SET_ON_INTEGRATION_USER_LICENSE": "Bind the permission set to the 'Salesforce API Integration' "
                                                  "permission set license (or to none): bound to the user license "
                                                  "it cannot carry standard-object access.",
    "ACCESS_GAP": "Re-grant this access through a permission set bound to 'Salesforce API Integration' "
                  "(sf_permission_set access_from: the access_gap of this user).",
    "PROFILE_NAME_REFERENCE": "Test a custom permission or permission set instead of the profile name, or add the "
                              "target profile to the test, before moving users off this profile.",
    "PROFILE_ID_REFERENCE": "Replace the hard-coded profile Id by a custom permission or permission set test, or add "
                            "the target profile, before moving users off this profile.",
    "PROFILE_CHECK": "Read what the test expects: once moved, the users run under the target profile.",
    "POSSIBLE_PROFILE_REFERENCE": "Check whether the joined text is compared with the profile name; if so treat it "
                                  "as a profile name reference.",
    "INDIRECT_PROFILE_REFERENCE": "Review the called class's findings: this code depends on its profile test.",
    "EXTRA_STRING_REFERENCE": "Review this component: it contains a string you asked to look for.",
    "COMMENT_REFERENCE": "No effect at run time; update the comment when the code changes.",
    "CUSTOM_SETTING_PROFILE_ROW": "Create the same setting row for the target profile (or for each user) before the "
                                  "move, or the users lose these values silently.",
    "CONNECTED_APP_ACCESS": "The plan's permission set carries the app's setup access (sf_permission_set "
                            "access_from.access_gap) and the plan blocks the user when it cannot; after the move, "
                            "verify a login through the app as the user (license_migration_probe_apps).",
    "SETUP_ACCESS_GAP": "The plan's permission set carries this setup access; verify what depends on it (Apex REST, "
                        "validation-rule bypasses through $Permission) after the move.",
    "ADMIN_RIGHTS": "These rights are replicated only so the integration keeps working: review whether it needs "
                    "them, and narrow the permission set once the move is verified.",
    "RECORD_TYPE_VISIBILITY": "Record-type visibility needs the Metadata API: add the record types to the "
                              "integration permission set (Setup > Permission Sets > Record Type Settings) before "
                              "the move, then accept this finding (accepted_findings: RECORD_TYPE_VISIBILITY).",
    "LOGIN_IP_RANGES_DROPPED": "The target profile has no login IP ranges: restrict the integration another way "
                               "(the connected app's IP relaxation policy, network controls) or add ranges to the "
                               "target profile.",
    "LOGIN_HOURS_DROPPED": "The target profile has no login hours: add them to it if the integration must keep "
                           "running only in a window.",
    "NO_ROLLBACK_SEAT": "A rollback moves users back onto the full license: keep enough 'Salesforce' seats free "
                        "until the move is verified.",
    "SCAN_INCOMPLETE": "Grant the connecting user View Setup and Configuration and Author Apex (or View All Data) "
                       "and run the check again.",
})


def finding(code, severity, message, user=None, component=None, remediation=None):
    return {"code": code, "severity": severity, "user": user, "component": component, "message": message,
            "remediation": remediation if remediation is not None else REMEDIATION.get(code, "")}


def component(ctype, name, record_id=None, line=None):
    return {"type": ctype, "name": name, "id": to18(record_id) if record_id else None, "line": line}


def sort_findings(findings):
    """Stable order: severity, code, user, component, line, message; duplicates removed."""
    def key(item):
        comp = item.get("component") or {}
        return (_SEVERITY_RANK.get(item["severity"], 9), item["code"], (item.get("user") or "").lower(),
                comp.get("type") or "", (comp.get("name") or "").lower(), comp.get("line") or 0, item["message"])
    out, seen = [], set()
    for item in sorted(findings, key=key):
        marker = key(item)
        if marker not in seen:
            seen.add(marker)
            out.append(item)
    return out


# ---- org readiness (pure) ------------------------------------------------------------------------
def _from_rule(item, **where):
    return finding(item["code"], item["severity"], item["message"], **where)


def resolve_target(summary, target_profile=None):
    """(target profile record or None, findings): ``rules.resolve_target_profile`` over the profiles of
    ``licenses.integration_summary()`` (those on the integration license, the look-alikes and the
    profile ``target_profile`` names)."""
    target, found = rules.resolve_target_profile(summary["all_profiles"],
                                                 target_profile, summary["default_profile"])
    # Without the license there is no target to speak of: NO_INTEGRATION_LICENSE says it all.
    if not summary["available"] and not target_profile:
        found = [item for item in found if item["code"] != "TARGET_PROFILE_MISSING"]
    return target, [_from_rule(item) for item in found]


def readiness_findings(summary, moves):
    """License, seat and look-alike findings for ``moves`` (``rules.seats_needed`` moves)."""
    findings = [_from_rule(item) for item in rules.missing_license_findings(summary["user_license"], summary["psl"])]
    seats = {}
    for entry in (summary["user_license"], summary["psl"]):
        if entry is not None:
            seats[entry["id"]] = entry
    findings.extend(_from_rule(item) for item in rules.seat_findings(rules.seats_needed(moves), seats))
    for profile in summary["look_alikes"]:
        findings.append(finding("LOOKALIKE_PROFILE", "warning",
                                "profile '%s' is named like an integration profile but is on the '%s' license"
                                % (profile["name"], profile["license"]),
                                component=component("Profile", profile["name"], profile["id"])))
    return findings


def planned_move(user, target, summary):
    """The move of ``user`` to ``target`` as ``rules.seats_needed`` counts it."""
    psl = summary["psl"]
    return {"active": bool(user.get("active", True)), "from_active": bool(user.get("active", True)),
            "from_license_id": user["profile"].get("license_id"),
            "to_license_id": target["license_id"] if target else (summary["user_license"] or {}).get("id"),
            "added_psl_ids": [psl["id"]] if psl is not None and not _holds_integration_psl(user, psl) else []}


# ---- users (pure) --------------------------------------------------------------------------------
def _holds_integration_psl(user, psl):
    if psl is None:
        return False
    return any(same_id(held["id"], psl["id"]) for held in user.get("permission_set_licenses") or ())


def conflicting_sets(user, target_license_id, psl):
    """Assigned permission sets the user could not keep on ``target_license_id`` (the target profile's
    license, else the integration license) holding its PSLs and ``psl`` (the integration PSL record or
    None): ``rules.conflicting_permission_sets``."""
    held = [held["id"] for held in user.get("permission_set_licenses") or ()] + ([psl["id"]] if psl else [])
    return rules.conflicting_permission_sets(user.get("permission_sets") or (), target_license_id, held)


def _sets_on_integration_user_license(user):
    return [ps for ps in user.get("permission_sets") or ()
            if ps.get("license_kind") == "user_license" and
            (ps.get("license") or "").lower() == licenses.INTEGRATION_LICENSE.lower()]


def _names(sets):
    return ", ".join(sorted((ps.get("name") or ps.get("id") or "?") for ps in sets))


def user_access_gap(user, target, fetched, removed_sets):
    """Access the user holds now (profile + sets that must go) that it would not hold after the move."""
    profiles = fetched.get("profiles", {})
    sets = fetched.get("permission_sets", {})
    removed = set(to18(ps["id"]) for ps in removed_sets)
    kept = [sets.get(to18(ps["id"])) for ps in user.get("permission_sets") or () if to18(ps["id"]) not in removed]
    before = merge_access(profiles.get(to18(user["profile"]["id"])), *[sets.get(i) for i in sorted(removed)])
    after = merge_access(profiles.get(to18(target["id"])) if target else empty_access(), *kept)
    return access_gap(before, after)


def _short_list(items, limit=8):
    if len(items) <= limit:
        return ", ".join(items)
    return "%s and %d more" % (", ".join(items[:limit]), len(items) - limit)


def user_findings(user, target, fetched, running_user_id=None, license_id=None, psl=None):
    """Findings about one user (a dict from users.read_users) and its access gap. ``license_id``: the
    user license the user would move onto (by default the target's); ``psl``: the integration PSL record."""
    if license_id is None and target:
        license_id = target.get("license_id")
    conflicts = conflicting_sets(user, license_id, psl)
    name = user["username"]
    findings = []
    if rules.is_migrated(user.get("license")):
        findings.append(finding("ALREADY_MIGRATED", "info", "already on the '%s' license (profile '%s')"
                                % (licenses.INTEGRATION_LICENSE, user["profile"]["name"]), user=name))
        return findings, empty_access()
    if not user.get("active", True):
        findings.append(finding("USER_INACTIVE", "warning", "the user is inactive", user=name))
    gap = user_access_gap(user, target, fetched, conflicts) if target else empty_access()
    running = rules.running_user_finding(user["id"], running_user_id)
    if running:
        findings.append(_from_rule(running, user=name))
        return findings, gap
    logins = user.get("logins") or {}
    ui = rules.ui_login_finding(logins.get("ui"), logins.get("lookback_days"), logins.get("last_ui"))
    if ui:
        findings.append(_from_rule(ui, user=name))
        # A person is not moved at all: how to move it would only be noise (same for the running user).
        return findings, gap
    if conflicts:
        by_license = {}
        for ps in conflicts:
            kind = "permission set license" if ps.get("license_kind") == "permission_set_license" else "user license"
            by_license.setdefault((ps.get("license") or ps.get("license_id") or "?", kind), []).append(ps)
        for license_name, kind in sorted(by_license):
            findings.append(finding("PERMISSION_SET_LICENSE_CONFLICT", "blocker",
                                    "permission set(s) bound to the '%s' %s: %s"
                                    % (license_name, kind, _names(by_license[(license_name, kind)])), user=name))
    misbound = _sets_on_integration_user_license(user)
    if misbound:
        findings.append(finding("PERMISSION_SET_ON_INTEGRATION_USER_LICENSE", "warning",
                                "permission set(s) bound to the '%s' user license instead of the '%s' permission "
                                "set license: %s" % (licenses.INTEGRATION_LICENSE, licenses.INTEGRATION_PSL_LABEL,
                                                     _names(misbound)), user=name))
    if not is_empty(gap):
        findings.append(finding("ACCESS_GAP", "warning",
                                "would lose access granted today by profile '%s'%s: %s"
                                % (user["profile"]["name"], " and the permission sets to remove" if conflicts else "",
                                   _short_list(describe_access(gap))), user=name))
    return findings, gap


def setup_findings(user, gap, admin_approved=()):
    """Findings about the setup access and admin-level rights in one user's access gap. ``admin_approved``:
    names of the connected apps that admit admin-approved users only (``fetch_access``)."""
    name = user["username"]
    setup = gap.get("setup") or {}
    findings = []
    used = dict((t["app"].lower(), t) for t in user.get("oauth_tokens") or ())
    approved = set(app.lower() for app in admin_approved or ())
    for app in setup.get("ConnectedApplication", ()):
        token = used.get(app.lower())
        if app.lower() in approved and token:
            # The integration logs in through it today, and only the old profile pre-authorizes it: the
            # next login after the move fails with invalid_grant unless the permission set carries it.
            findings.append(finding(
                "CONNECTED_APP_ACCESS", "blocker",
                "logs in through connected app '%s' (OAuth token used %d times, last %s), which admits "
                "admin-approved users only and pre-authorizes this user only through profile '%s': once moved, "
                "its next login fails (invalid_grant) unless the permission set carries the app"
                % (app, token["use_count"], (token.get("last_used") or "?")[:10], user["profile"]["name"]),
                user=name, component=component("ConnectedApplication", app)))
        else:
            findings.append(finding("CONNECTED_APP_ACCESS", "warning",
                                    "reaches connected app '%s' only through profile '%s': once moved, logins "
                                    "through it fail unless the permission set grants it"
                                    % (app, user["profile"]["name"]), user=name,
                                    component=component("ConnectedApplication", app)))
    others = ["%s %s" % (kind, entity) for kind, names in sorted(setup.items()) if kind != "ConnectedApplication"
              for entity in names]
    if others:
        findings.append(finding("SETUP_ACCESS_GAP", "warning", "would lose setup access granted by profile '%s': %s"
                                % (user["profile"]["name"], _short_list(others)), user=name))
    risky = [right for right in ADMIN_RIGHTS if right in gap.get("system", ())]
    if risky:
        findings.append(finding("ADMIN_RIGHTS", "warning", "the access to replicate holds admin-level rights: %s"
                                % ", ".join(risky), user=name))
    return findings


def profile_setting_findings(user, metadata, target_metadata):
    """Findings about what only a profile holds (record types, login IP ranges and hours), from Tooling
    ``Profile.Metadata`` of the user's profile and of the target profile (None when unread)."""
    if metadata is None:
        return []
    name = user["username"]
    target_metadata = target_metadata or {}
    findings = []
    kept = set(v.get("recordType") for v in target_metadata.get("recordTypeVisibilities") or () if v.get("visible"))
    lost = [v for v in metadata.get("recordTypeVisibilities") or () if v.get("visible") and v.get("recordType") not in kept]
    if lost:
        findings.append(finding("RECORD_TYPE_VISIBILITY", "blocker",
                                "profile '%s' makes record type(s) %s visible%s; the target profile does not"
                                % (user["profile"]["name"], ", ".join(sorted(v["recordType"] for v in lost)),
                                   "".join(" (default for %s)" % v["recordType"].split(".")[0] for v in lost
                                           if v.get("default"))), user=name))
    if metadata.get("loginIpRanges") and not target_metadata.get("loginIpRanges"):
        ranges = ", ".join("%s-%s" % (r.get("startAddress"), r.get("endAddress")) for r in metadata["loginIpRanges"])
        findings.append(finding("LOGIN_IP_RANGES_DROPPED", "warning",
                                "profile '%s' limits logins to %s; the target profile does not"
                                % (user["profile"]["name"], ranges), user=name))
    if metadata.get("loginHours") and not target_metadata.get("loginHours"):
        findings.append(finding("LOGIN_HOURS_DROPPED", "warning", "profile '%s' limits login hours; the target "
                                "profile does not" % user["profile"]["name"], user=name))
    return findings


def rollback_seat_findings(full_license_seats, moving):
    """A warning when the full license lacks the seats a rollback of ``moving`` users would need."""
    if full_license_seats is None or moving <= full_license_seats["free"]:
        return []
    return [finding("NO_ROLLBACK_SEAT", "warning",
                    "%d user(s) to move but %d free 'Salesforce' seat(s): moving them frees seats, but a rollback "
                    "after other users took those seats would fail" % (moving, full_license_seats["free"]))]


def read_profile_metadata(client, profile_ids):
    """({profile Id18: Metadata}, [errors]): Tooling Profile.Metadata, one query per profile (the Tooling
    API returns Metadata for one row at a time), five a call."""
    ids = sorted(set(to18(i) for i in profile_ids if i))
    if not ids:
        return {}, []
    subrequests = [client.query_subrequest("p%d" % n, "SELECT Id, Name, Metadata FROM Profile WHERE Id = %s"
                                           % soql_literal(profile_id), tooling=True)
                   for n, profile_id in enumerate(ids)]
    out, errors = {}, []
    for reference, (found, error) in sorted(_tooling_composite(client, subrequests).items()):
        if error is not None:
            errors.append(("Profile", error))
            continue
        for row in found or ():
            out[to18(row["Id"])] = row.get("Metadata") or {}
    return out, errors


# ---- code and configuration (pure) ---------------------------------------------------------------
_KIND_CODES = {
    "profile_name": ("PROFILE_NAME_REFERENCE", "blocker", "names profile '%s'"),
    "profile_id": ("PROFILE_ID_REFERENCE", "blocker", "contains the Id of profile %s"),
    "profile_check": ("PROFILE_CHECK", "warning", "tests the running user's profile (%s)"),
    "possible_concatenation": ("POSSIBLE_PROFILE_REFERENCE", "warning",
                               "joins strings that spell profile '%s'"),
    "extra_string": ("EXTRA_STRING_REFERENCE", "warning", "contains '%s'"),
}


def reference_findings(comp, references, profile_labels):
    """Findings for the references the scanner found in one component.

    ``profile_labels`` maps an 18-character profile Id to its name, for readable Id messages. A
    generic profile test is not reported on its own when the component also names a profile: the
    name finding already covers it.
    """
    names_profile = any(ref["kind"] in ("profile_name", "profile_id") and not ref["in_comment"]
                        for ref in references)
    findings = []
    for ref in references:
        code, severity, text = _KIND_CODES[ref["kind"]]
        if ref["kind"] == "profile_check" and names_profile:
            continue
        target = ref["target"]
        if ref["kind"] == "profile_id":
            target = "'%s' (%s)" % (profile_labels.get(target, "?"), target)
        where = "line %d" % ref["line"] if ref.get("line") else (ref.get("path") or "")
        message = "%s %s%s: %s" % (comp["type"], comp["name"], " " + where if where else "", text % target)
        remediation = None
        if ref["in_comment"]:
            severity = "info"
            message += " (in a comment)"
            remediation = REMEDIATION["COMMENT_REFERENCE"]
        findings.append(finding(code, severity, message, component=dict(comp, line=ref.get("line")),
                                remediation=remediation))
    return findings


def _metadata_name(ctype, record, metadata_record):
    full_name = (metadata_record or {}).get("FullName")
    if full_name:
        return full_name
    if ctype == "ValidationRule":
        return "%s.%s" % (record.get("EntityDefinitionId"), record.get("ValidationName"))
    if ctype == "Flow":
        return "%s (version %s)" % (record.get("MasterLabel"), record.get("VersionNumber"))
    if ctype == "CustomField":
        return "%s.%s__c" % (record.get("TableEnumOrId"), record.get("DeveloperName"))
    return record.get("Name") or record.get("Id")


def scan_component(ctype, record, metadata_record, needles, profile_labels):
    """Findings for one component: Apex body, validation rule formula, flow metadata or field formula."""
    names, ids, extras = needles
    if ctype in ("ApexClass", "ApexTrigger"):
        comp = component(ctype, record.get("Name"), record.get("Id"))
        references = find_references(record.get("Body") or "", names, ids, extras, "apex")
    else:
        metadata = (metadata_record or {}).get("Metadata") or {}
        comp = component(ctype, _metadata_name(ctype, record, metadata_record), record.get("Id"))
        if ctype == "ValidationRule":
            references = find_references(metadata.get("errorConditionFormula") or "", names, ids, extras, "formula")
        elif ctype == "CustomField":
            references = find_references(metadata.get("formula") or "", names, ids, extras, "formula")
        else:
            references = scan_metadata(metadata, names, ids, extras)
    return reference_findings(comp, references, profile_labels)


def indirect_findings(classes, triggers, direct_findings):
    """Apex that calls a class with a live profile reference, directly or through other classes.

    ``classes`` / ``triggers``: ApexClass / ApexTrigger records with Body; ``direct_findings``: the
    scan findings so far. Components with direct findings of their own are not reported again.
    """
    with_direct = set()
    flagged = {}
    for item in direct_findings:
        comp = item.get("component") or {}
        if comp.get("type") in ("ApexClass", "ApexTrigger") and item["severity"] != "info":
            with_direct.add((comp["type"], (comp["name"] or "").lower()))
            if comp["type"] == "ApexClass":
                flagged[(comp["name"] or "").lower()] = comp["name"]
    findings = []
    pending = [("ApexClass", r) for r in classes] + [("ApexTrigger", r) for r in triggers]
    changed = True
    while changed and flagged:
        changed = False
        for ctype, record in list(pending):
            name = record.get("Name") or ""
            if (ctype, name.lower()) in with_direct:
                pending.remove((ctype, record))
                continue
            callees = [ref for ref in find_identifiers(record.get("Body") or "", sorted(flagged.values()))
                       if ref["target"].lower() != name.lower()]
            if not callees:
                continue
            first = callees[0]
            findings.append(finding(
                "INDIRECT_PROFILE_REFERENCE", "warning",
                "%s %s line %d: uses class %s, which references a profile checked"
                % (ctype, name, first["line"], flagged[first["target"].lower()]),
                component=component(ctype, name, record.get("Id"), first["line"])))
            pending.remove((ctype, record))
            if ctype == "ApexClass":
                flagged[name.lower()] = name
                changed = True
    return findings


def custom_setting_findings(setting, rows, profile_labels):
    findings = []
    for row in rows:
        owner = to18(row.get("SetupOwnerId"))
        label = profile_labels.get(owner, owner)
        findings.append(finding(
            "CUSTOM_SETTING_PROFILE_ROW", "blocker",
            "hierarchy custom setting %s has a row for profile '%s': users moved off it lose these values"
            % (setting, label), component=component("CustomSetting", setting, row.get("Id"))))
    return findings


# ---- readers (HTTP) ------------------------------------------------------------------------------
def _tooling_composite(client, subrequests):
    """``reads.read_subrequests`` through the Tooling API's own /tooling/composite resource.

    Salesforce's REST /composite accepts sObject, query and collection resources, not Tooling ones.
    A call refused as a whole (e.g. no Tooling access) leaves every component of it unread.
    """
    try:
        return read_subrequests(client, subrequests, tooling=True)
    except ApiError as exc:
        return dict((sub.get("referenceId"), (None, exc)) for sub in subrequests)


def read_components(client, scans):
    """({component type: [records]}, [errors]) for the code scans asked, one composite call."""
    wanted = [scan for scan in SCANS if scan in scans and scan in CODE_SOURCES]
    if not wanted:
        return {}, []
    subrequests = [client.query_subrequest(scan, CODE_SOURCES[scan][1], tooling=True) for scan in wanted]
    records, errors = {}, []
    for scan, (found, error) in sorted(_tooling_composite(client, subrequests).items()):
        ctype = CODE_SOURCES[scan][0]
        if error is not None:
            errors.append((ctype, error))
        records[ctype] = found or []
    return records, errors


def read_metadata(client, components):
    """({Id18: Tooling record with Metadata and FullName}, [errors]) for [(type, Id)], 25 per call."""
    subrequests = [{"method": "GET", "url": client.data_path("tooling/sobjects/%s/%s" % (ctype, to18(rid))),
                    "referenceId": "m%d" % index}
                   for index, (ctype, rid) in enumerate(components)]
    if not subrequests:
        return {}, []
    out, errors = {}, []
    answers = _tooling_composite(client, subrequests)
    for index, (ctype, rid) in enumerate(components):
        body, error = answers.get("m%d" % index, (None, None))
        if error is not None:
            errors.append((ctype, error))
        elif body is not None:
            out[to18(rid)] = body
    return out, errors


def read_licenses_and_describes(client, with_global_describe=True, target_profile=None):
    """(license rows {user_licenses, psls, profiles}, PermissionSet describe, global describe or None):
    one REST composite of three queries and two describes (describes are not queries). The profiles
    are those ``licenses.profile_soql`` reads, with the one ``target_profile`` names (name or Id)."""
    named = {}
    if target_profile:
        named = {"ids": [target_profile]} if is_id(target_profile) else {"names": [target_profile]}
    subrequests = [client.query_subrequest("user_licenses", licenses.USER_LICENSE_SOQL),
                   client.query_subrequest("psls", licenses.PSL_SOQL),
                   client.query_subrequest("profiles", licenses.profile_soql(**named)),
                   describe_subrequest(client, "permission_set_describe")]
    if with_global_describe:
        subrequests.append({"method": "GET", "referenceId": "global_describe", "url": client.data_path("sobjects")})
    values = read_all(client, subrequests)
    rows = dict((name, values[name]) for name in ("user_licenses", "psls", "profiles"))
    return rows, values["permission_set_describe"], values.get("global_describe")


def read_custom_setting_rows(client, profile_ids, global_describe):
    """({setting name: [rows owned by one of profile_ids]}, [errors], settings checked); the client
    sends five queries a call."""
    ids = sorted(set(to18(i) for i in profile_ids if i))
    if not ids:
        return {}, [], 0
    settings = sorted(o["name"] for o in (global_describe or {}).get("sobjects", ()) if o.get("customSetting"))
    rows, errors = {}, []
    subrequests = [client.query_subrequest(
        name, "SELECT Id, SetupOwnerId FROM %s WHERE SetupOwnerId IN %s ORDER BY Id" % (name, soql_literal(ids)))
        for name in settings]
    for name, (found, error) in sorted(read_subrequests(client, subrequests).items()):
        if error is not None:
            # List custom settings have no SetupOwnerId: nothing there can be owned by a profile.
            if error.error_code != "INVALID_FIELD":
                errors.append(("CustomSetting", error))
            continue
        if found:
            rows[name] = found
    return rows, errors, len(settings)


def _scan_error_findings(errors):
    out = []
    for ctype, error in errors:
        out.append(finding("SCAN_INCOMPLETE", "warning", "could not read %s: %s"
                           % (ctype, error.error_code or error.message)))
    return out


# ---- the module ----------------------------------------------------------------------------------
def _running_user_id(client):
    identity = client.identity() or {}
    return identity.get("user_id")


def current_access(user, fetched):
    """What the user holds now: its profile and every permission set assigned to it."""
    sets = fetched.get("permission_sets", {})
    return merge_access(fetched.get("profiles", {}).get(to18(user["profile"]["id"])),
                        *[sets.get(to18(ps["id"])) for ps in user.get("permission_sets") or ()])


def observe(client, users, fetched, usage_days):
    """``{user Id: observed access}`` (observed_access.py) of the users about to move: the usage log read with
    the users, and the records each modified in the last ``usage_days`` days, per object it holds or used."""
    if not users:
        return {}
    current = dict((user["id"], current_access(user, fetched)) for user in users)
    held = {}
    for user in users:
        used = (user.get("api_usage") or {}).get("objects") or {}
        objects = dict(current[user["id"]].get("objects") or {})
        for name, calls in used.items():
            objects.setdefault(name, ["Edit"] if calls["write"] else ["Read"])
        held[user["id"]] = dict(current[user["id"]], objects=objects)
    counted, beyond = observed_access.counted_objects(held)
    counts, not_counted = observed_access.count_modified_records(client, counted, [u["id"] for u in users],
                                                                 usage_days)
    for name in beyond:
        not_counted[name] = "beyond the %d objects counted (those with write rights first)" % (
            observed_access.MAX_COUNTED_OBJECTS)
    return dict((user["id"], observed_access.observed_access(
        current[user["id"]], user.get("api_usage"), user.get("api_usage_log"), counts, not_counted,
        usage_days, user["id"])) for user in users)


def user_summaries(findings, users, gaps, movable_ids, conflicts, observed=None):
    by_user = {}
    for item in findings:
        if item.get("user"):
            by_user.setdefault(item["user"].lower(), []).append(item)
    summary = []
    for user in sorted(users, key=lambda u: u["username"].lower()):
        own = by_user.get(user["username"].lower(), [])
        summary.append({
            "username": user["username"], "id": user["id"], "profile": user["profile"]["name"],
            "license": user.get("license"), "migrated": rules.is_migrated(user.get("license")),
            "to_move": user["id"] in movable_ids,
            "ready": not any(f["severity"] == "blocker" for f in own),
            "codes": sorted(set(f["code"] for f in own)),
            "access_gap": gaps.get(user["id"], empty_access()),
            "permission_sets_to_remove": sorted(ps.get("name") for ps in conflicts.get(user["id"], ())),
        })
        if observed is not None and user["id"] in observed:
            summary[-1]["observed_access"] = observed[user["id"]]
    return summary


def scan_code(client, scans, needles, profile_ids, profile_labels, global_describe):
    """(findings, components scanned per scan) for the code and configuration scans asked."""
    scanned = dict((scan, 0) for scan in sorted(scans))
    records, errors = read_components(client, scans)
    metadata_wanted = [(ctype, r["Id"]) for ctype in METADATA_TYPES for r in records.get(ctype, ())]
    metadata, metadata_errors = read_metadata(client, metadata_wanted)
    errors.extend(metadata_errors)
    findings = []
    for scan in sorted(scans):
        if scan not in CODE_SOURCES:
            continue
        ctype = CODE_SOURCES[scan][0]
        for record in records.get(ctype, ()):
            scanned[scan] += 1
            findings.extend(scan_component(ctype, record, metadata.get(to18(record["Id"])), needles, profile_labels))
    findings.extend(indirect_findings(records.get("ApexClass", ()), records.get("ApexTrigger", ()), findings))
    if "custom_settings" in scans:
        setting_rows, setting_errors, scanned["custom_settings"] = read_custom_setting_rows(
            client, profile_ids, global_describe)
        errors.extend(setting_errors)
        for name in sorted(setting_rows):
            findings.extend(custom_setting_findings(name, setting_rows[name], profile_labels))
    findings.extend(_scan_error_findings(errors))
    return findings, scanned


def run(task):
    params = task.params
    lookback = checked_lookback_days(params)
    usage_days = params.get("usage_days") or 0
    if usage_days < 0:
        raise ConfigurationError("usage_days must be 0 (no observed access) or a number of days, not %d" % usage_days,
                                 hint="give usage_days: 30 for the records modified in the last 30 days")
    client = task.client
    scans = set(params["scans"] or ())
    asked = requested_users(params)

    license_rows, permission_set_describe, global_describe = read_licenses_and_describes(
        client, "custom_settings" in scans, params.get("target_profile"))
    integration = licenses.integration_summary(license_rows["user_licenses"], license_rows["psls"],
                                               license_rows["profiles"])
    target, findings = resolve_target(integration, params.get("target_profile"))

    users = read_users(client, usernames=asked or None, active=None if asked else True,
                       lookback_days=lookback, with_usage_log=usage_days > 0)
    if asked:
        for name in missing_usernames(asked, users):
            findings.append(finding("USER_NOT_FOUND", "blocker", "no user named '%s'" % name, user=name))
    else:
        users = [u for u in users if not rules.is_migrated(u.get("license"))]
    candidates = [u for u in users if not rules.is_migrated(u.get("license"))]

    profile_ids = sorted(set(to18(u["profile"]["id"]) for u in candidates))
    set_ids = sorted(set(to18(ps["id"]) for u in candidates for ps in u.get("permission_sets") or ()))
    fetched = fetch_access(client, profile_ids + ([target["id"]] if target else []), set_ids,
                           describe=permission_set_describe) if candidates else {"profiles": {}, "permission_sets": {}}
    running_user_id = _running_user_id(client)
    license_id = target["license_id"] if target else (integration["user_license"] or {}).get("id")
    gaps, stopped, conflicts = {}, set(), {}
    for user in users:
        conflicts[user["id"]] = conflicting_sets(user, license_id, integration["psl"])
        user_items, gaps[user["id"]] = user_findings(user, target, fetched, running_user_id, license_id,
                                                     integration["psl"])
        findings.extend(user_items)
        if any(item["code"] in STOPPING_CODES for item in user_items):
            stopped.add(user["id"])

    # People and the connecting user stay where they are: their profiles, seats and PSLs are not at
    # stake, so code naming "System Administrator" is not reported because the admin ran the check.
    movable = [u for u in candidates if u["id"] not in stopped]
    findings.extend(readiness_findings(integration, [planned_move(u, target, integration) for u in movable]))
    findings.extend(rollback_seat_findings(licenses.full_license_seats(license_rows["user_licenses"]), len(movable)))
    metadata = {}
    if "profile_settings" in scans:
        metadata, metadata_errors = read_profile_metadata(
            client, [u["profile"]["id"] for u in movable] + ([target["id"]] if target and movable else []))
        findings.extend(_scan_error_findings(metadata_errors))
    for user in movable:
        findings.extend(setup_findings(user, gaps[user["id"]], fetched.get("admin_approved_apps")))
        findings.extend(profile_setting_findings(user, metadata.get(to18(user["profile"]["id"])),
                                                 metadata.get(to18(target["id"])) if target else None))

    movable_profile_ids = sorted(set(to18(u["profile"]["id"]) for u in movable))
    profile_labels = dict((to18(u["profile"]["id"]), u["profile"]["name"]) for u in movable)
    needles = (sorted(set(u["profile"]["name"] for u in movable if u["profile"].get("name"))),
               movable_profile_ids, list(params.get("extra_strings") or ()))
    scanned = dict((scan, 0) for scan in sorted(scans))
    if movable or needles[2]:
        code_findings, scanned = scan_code(client, scans, needles, movable_profile_ids, profile_labels,
                                           global_describe)
        findings.extend(code_findings)
    if "profile_settings" in scans:
        scanned["profile_settings"] = len(metadata)

    observed = observe(client, movable, fetched, usage_days) if usage_days > 0 else {}

    findings = sort_findings(findings)
    counts = {}
    for item in findings:
        counts[item["code"]] = counts.get(item["code"], 0) + 1
    severities = dict((name, len([f for f in findings if f["severity"] == name])) for name in SEVERITIES)
    return {
        "changed": False,
        "ready": severities["blocker"] == 0,
        "target_profile": target,
        "findings": findings,
        "users": user_summaries(findings, users, gaps, set(u["id"] for u in movable), conflicts, observed),
        "counts": counts,
        "severity_counts": severities,
        "scanned": scanned,
    }


SPEC = ModuleSpec("sf_profile_check", ARGUMENT_SPEC, run, supports_check_mode=True)
