# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for sf_integration_user: user state, desired state, preflight, write steps, diff.

No HTTP here: everything takes and returns plain data so it is unit-tested without an org.

A *user state* is the part of a user the module manages, the same shape in results, diffs and backups::

    {"id": "005...", "username": "svc@acme.com", "is_active": True,
     "profile": {"id": "00e...", "name": "...", "license_id": "100...", "license": "Salesforce"},
     "permission_sets": [{"id": "0PS...", "name": "...", "license_id": None | "100..." | "0PL..."}],
     "permission_set_licenses": [{"id": "0PL...", "name": "SalesforceAPIIntegrationPsl"}],
     "assignments": {"0PS...": "0Pa...", "0PL...": "2LA..."}}

``assignments`` (assignment record Ids, needed to delete them) is never compared nor shown in diffs.

*Org facts* (``facts``) is what the preflight needs about the org, built by ``preflight_facts``.

The *write steps* are a list of steps in the order Salesforce requires: an assignment bound to a license
must go before the profile (hence the license) changes; a permission set bound to a permission set
license needs that license first. Any change, the migration and its undo alike, is expressed as
"converge this state to that one", so restoring from a backup and rolling back a failed run use the
same planner as the migration itself:

    remove_permission_sets -> remove_permission_set_licenses -> update_users
    -> assign_permission_set_licenses -> assign_permission_sets
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import rules
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.licenses import (
    INTEGRATION_PSL_DEVELOPER_NAME as INTEGRATION_PSL,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.records import (
    permission_set_record, profile_record)


STEP_ORDER = (
    "remove_permission_sets",
    "remove_permission_set_licenses",
    "update_users",
    "assign_permission_set_licenses",
    "assign_permission_sets",
)
_STEP_SOBJECT = {
    "remove_permission_sets": "PermissionSetAssignment",
    "remove_permission_set_licenses": "PermissionSetLicenseAssign",
    "update_users": "User",
    "assign_permission_set_licenses": "PermissionSetLicenseAssign",
    "assign_permission_sets": "PermissionSetAssignment",
}
_STEP_OPERATION = {
    "remove_permission_sets": "delete",
    "remove_permission_set_licenses": "delete",
    "update_users": "update",
    "assign_permission_set_licenses": "create",
    "assign_permission_sets": "create",
}
# Salesforce may assign the integration PSL by itself when the profile changes (disputed): an
# assignment that already exists is the state we wanted.
# An assignment another job already made, or already removed, is done (two runs at once must not fail
# on each other's work).
STEP_TOLERATED_ERRORS = {
    "remove_permission_sets": ("ENTITY_IS_DELETED", "NOT_FOUND"),
    "remove_permission_set_licenses": ("ENTITY_IS_DELETED", "NOT_FOUND"),
    "assign_permission_set_licenses": ("DUPLICATE_VALUE",),
    "assign_permission_sets": ("DUPLICATE_VALUE",),
}


def _sorted_by_name(items):
    return sorted(items, key=lambda item: ((item.get("name") or "").lower(), item.get("id") or ""))


def state_from_user(user):
    """State of one user from a user dict of users.read_users / users.normalize_user."""
    permission_sets = []
    assignments = {}
    for permission_set in user.get("permission_sets") or []:
        if permission_set.get("group_id"):
            # Granted through a permission set group: not assigned one by one, not ours to move.
            continue
        permission_sets.append({"id": permission_set["id"], "name": permission_set["name"],
                                "license_id": permission_set.get("license_id")})
        assignments[permission_set["id"]] = permission_set.get("assignment_id")
    licenses = []
    for psl in user.get("permission_set_licenses") or []:
        licenses.append({"id": psl["id"], "name": psl.get("developer_name")})
        assignments[psl["id"]] = psl.get("assignment_id")
    profile = user.get("profile") or {}
    return {
        "id": user["id"],
        "username": user["username"],
        "is_active": bool(user.get("active")),
        "profile": {"id": profile.get("id"), "name": profile.get("name"),
                    "license_id": profile.get("license_id"), "license": profile.get("license")},
        "permission_sets": _sorted_by_name(permission_sets),
        "permission_set_licenses": _sorted_by_name(licenses),
        "assignments": assignments,
    }


def new_user_state(user_id, username, target):
    """State of a user just created on ``target`` (a profile entry): no assignments yet."""
    return {"id": user_id, "username": username, "is_active": True,
            "profile": {"id": target["id"], "name": target["name"], "license_id": target["license_id"],
                        "license": target["license"]},
            "permission_sets": [], "permission_set_licenses": [], "assignments": {}}


def comparable(state):
    """The state without assignment Ids: what results, diffs and comparisons show."""
    if state is None:
        return None
    shown = {key: value for key, value in state.items() if key != "assignments"}
    return copy.deepcopy(shown)


def preflight_facts(licenses=(), psls=(), profiles=(), permission_sets=(), ui_login_counts=None,
                    running_user_id=None):
    """Index what the preflight needs about the org: ``licenses`` user-license seat records
    (``records.user_license_record``), ``psls`` PermissionSetLicense rows, ``profiles`` and
    ``permission_sets`` rows as SOQL returns them; ``ui_login_counts`` {user Id: UI logins in the window}."""
    license_names = dict((entry["id"], entry["name"]) for entry in licenses)
    return {
        "licenses": dict((entry["id"], {"id": entry["id"], "name": entry["name"], "total": entry.get("total"),
                                        "used": entry.get("used")}) for entry in licenses),
        "psls": {row["Id"]: {"id": row["Id"], "name": row.get("DeveloperName"), "label": row.get("MasterLabel"),
                             "total": row.get("TotalLicenses"), "used": row.get("UsedLicenses")} for row in psls},
        "profiles": dict((record["id"], record) for record in (profile_record(row, license_names) for row in profiles)),
        "permission_sets": dict((record["id"], record) for record in map(permission_set_record, permission_sets)),
        "ui_login_counts": dict(ui_login_counts or {}),
        "running_user_id": running_user_id,
    }


def integration_psl(facts):
    for psl in facts["psls"].values():
        if psl["name"] == INTEGRATION_PSL:
            return psl
    return None


def find_by_name(table, name):
    """Entry of ``facts[...]`` whose name equals ``name`` (case-insensitive, as Salesforce names are)."""
    wanted = (name or "").lower()
    for entry in table.values():
        if (entry.get("name") or "").lower() == wanted:
            return entry
    return None


def license_name(facts, license_id):
    """Readable name of a user license or permission set license Id."""
    if license_id in facts["licenses"]:
        return facts["licenses"][license_id]["name"]
    if license_id in facts["psls"]:
        return facts["psls"][license_id]["label"] or facts["psls"][license_id]["name"]
    return license_id


def migrated_state(current, facts, target, options):
    """Desired state of an existing user moved to ``target`` (a profile entry), and the problems
    that forbid it (a list of sentences; empty when the user can be migrated).

    ``options``: permission_sets (names), permission_sets_mode (add|exact),
    conflicting_permission_sets (fail|remove), allow_ui_users (bool)."""
    problems = []
    desired = copy.deepcopy(current)
    desired["profile"] = {"id": target["id"], "name": target["name"], "license_id": target["license_id"],
                          "license": target["license"]}
    psl = integration_psl(facts)
    if psl is None:
        problems.append("the org has no %r permission set license" % INTEGRATION_PSL)
    elif psl["id"] not in [held["id"] for held in desired["permission_set_licenses"]]:
        desired["permission_set_licenses"] = _sorted_by_name(
            desired["permission_set_licenses"] + [{"id": psl["id"], "name": psl["name"]}])
    psl_ids = set(held["id"] for held in desired["permission_set_licenses"])

    requested = []
    for name in options.get("permission_sets") or []:
        permission_set = find_by_name(facts["permission_sets"], name)
        if permission_set is None:
            problems.append("permission set %r does not exist" % name)
        elif not rules.permission_set_fits(permission_set, target["license_id"], psl_ids):
            problems.append("permission set %r is bound to the %r license and cannot be assigned on %r"
                            % (name, license_name(facts, permission_set["license_id"]), target["license"]))
        else:
            requested.append(permission_set)

    requested_ids = set(ps["id"] for ps in requested)
    if options.get("permission_sets_mode") == "exact":
        kept = []
    else:
        kept = [ps for ps in current["permission_sets"] if ps["id"] not in requested_ids]
        conflicting = [ps for ps in kept if not rules.permission_set_fits(ps, target["license_id"], psl_ids)]
        if conflicting and options.get("conflicting_permission_sets", "fail") != "remove":
            problems.append(
                "holds permission sets bound to another license, which Salesforce refuses on the %r license: %s "
                "(set conflicting_permission_sets: remove to unassign them, after replicating the access they grant)"
                % (target["license"], ", ".join("%s (%s)" % (ps["name"], license_name(facts, ps["license_id"]))
                                                for ps in conflicting)))
        kept = [ps for ps in kept if ps not in conflicting]
    desired["permission_sets"] = _sorted_by_name(
        kept + [{"id": ps["id"], "name": ps["name"], "license_id": ps["license_id"]} for ps in requested])

    if not changes(current, desired):
        # Converged: old UI logins from before the migration must not make a re-run fail.
        return desired, problems
    problems.extend(user_guard_problems(current, facts))
    ui = rules.ui_login_finding(facts["ui_login_counts"].get(current["id"], 0), facts.get("lookback_days"))
    if ui and not options.get("allow_ui_users"):
        problems.append(ui["message"] + " (set allow_ui_users: true to move it anyway)")
    return desired, problems


def user_guard_problems(current, facts):
    found = rules.running_user_finding(current["id"], facts.get("running_user_id"))
    return [found["message"]] if found else []


def absent_state(current):
    """Deactivated: Salesforce users cannot be deleted, and an inactive user frees its license seat."""
    desired = copy.deepcopy(current)
    desired["is_active"] = False
    return desired


def restored_state(current, saved, facts):
    """The state saved in a backup, with the current assignment Ids; problems if it cannot be restored."""
    problems = []
    desired = copy.deepcopy(saved)
    desired["assignments"] = dict(current["assignments"]) if current else {}
    profile_id = (saved.get("profile") or {}).get("id")
    if profile_id not in facts["profiles"]:
        problems.append("profile %r of the backup no longer exists" % (saved.get("profile") or {}).get("name"))
    for permission_set in saved.get("permission_sets") or []:
        if permission_set["id"] not in facts["permission_sets"]:
            problems.append("permission set %r of the backup no longer exists" % permission_set["name"])
    for psl in saved.get("permission_set_licenses") or []:
        if psl["id"] not in facts["psls"]:
            problems.append("permission set license %r of the backup no longer exists" % psl["name"])
    return desired, problems


def seat_problems(pairs, facts):
    """Seat problems (``rules.seat_findings`` messages) of the moves ``pairs``: [(current or None for a new
    user, desired)]."""
    moves = []
    for current, desired in pairs:
        held = set(psl["id"] for psl in current["permission_set_licenses"]) if current else set()
        moves.append({"active": desired["is_active"], "to_license_id": desired["profile"]["license_id"],
                      "from_license_id": current["profile"]["license_id"] if current else None,
                      "from_active": bool(current and current["is_active"]),
                      "added_psl_ids": [psl["id"] for psl in desired["permission_set_licenses"] if psl["id"] not in held]})
    seats = dict(facts["licenses"])
    seats.update((key, dict(value, name=value.get("label") or value["name"])) for key, value in facts["psls"].items())
    return [item["message"] for item in rules.seat_findings(rules.seats_needed(moves), seats)]


def changes(current, desired):
    """Names of what differs between two states (empty when converged)."""
    if current is None:
        return ["user"]
    found = []
    if current["is_active"] != desired["is_active"]:
        found.append("is_active")
    if current["profile"]["id"] != desired["profile"]["id"]:
        found.append("profile")
    for key in ("permission_set_licenses", "permission_sets"):
        if set(item["id"] for item in current[key]) != set(item["id"] for item in desired[key]):
            found.append(key)
    return found


def changed_since_run(current, saved, left):
    """What someone else changed on a user since the run that saved it as ``saved`` and left it as ``left``:
    a line per difference, empty when each part of the user is as the backup or the run had it (a run that
    failed half way leaves some parts of each, which a restore must still put back)."""
    lines = []
    if current["profile"]["id"] not in (saved["profile"]["id"], left["profile"]["id"]):
        lines.append("its profile is %r, the run left %r" % (current["profile"].get("name"), left["profile"].get("name")))
    if saved["is_active"] == left["is_active"] != current["is_active"]:
        lines.append("it is %s, the run left it %s" % tuple("active" if s["is_active"] else "inactive" for s in (current, left)))
    for what in ("permission_set_licenses", "permission_sets"):
        names = [dict((item["id"], item.get("name") or item["id"]) for item in state[what]) for state in (current, saved, left)]
        now, before, after = [set(named) for named in names]
        added = sorted(names[0][key] for key in now - before - after)
        removed = sorted(names[1][key] for key in (before & after) - now)
        for verb, items in (("added", added), ("removed", removed)):
            if items:
                lines.append("%s %s since: %s" % (what.replace("_", " "), verb, ", ".join(items)))
    return lines


def write_steps(pairs):
    """Ordered write steps converging every ``(current, desired)`` pair of existing users.

    Each step: ``{"name", "sobject", "operation", "records", "users"}`` where ``records`` are the
    sObject Collection payloads (Ids for deletes) and ``users`` the username of each record."""
    steps = dict((name, {"records": [], "users": []}) for name in STEP_ORDER)

    def add(name, record, username):
        steps[name]["records"].append(record)
        steps[name]["users"].append(username)

    for current, desired in pairs:
        username = current["username"]
        user_id = current["id"]
        for key, remove_step, add_step, field in (
                ("permission_sets", "remove_permission_sets", "assign_permission_sets", "PermissionSetId"),
                ("permission_set_licenses", "remove_permission_set_licenses", "assign_permission_set_licenses",
                 "PermissionSetLicenseId")):
            now = [item["id"] for item in current[key]]
            wanted = [item["id"] for item in desired[key]]
            for item_id in now:
                if item_id not in wanted:
                    add(remove_step, current["assignments"][item_id], username)
            for item_id in wanted:
                if item_id not in now:
                    add(add_step, {"attributes": {"type": _STEP_SOBJECT[add_step]},
                                   "AssigneeId": user_id, field: item_id}, username)
        update = {}
        if current["profile"]["id"] != desired["profile"]["id"]:
            update["ProfileId"] = desired["profile"]["id"]
        if current["is_active"] != desired["is_active"]:
            update["IsActive"] = desired["is_active"]
        if update:
            update.update({"attributes": {"type": "User"}, "Id": user_id})
            add("update_users", update, username)
    return [dict(name=name, sobject=_STEP_SOBJECT[name], operation=_STEP_OPERATION[name],
                 tolerated_errors=list(STEP_TOLERATED_ERRORS.get(name, ())), **steps[name])
            for name in STEP_ORDER if steps[name]["records"]]


def user_diff(pairs):
    """Ansible ``diff`` of all users: ``{"before": {username: state}, "after": {username: state}}``."""
    before = {}
    after = {}
    for current, desired in pairs:
        name = (desired or current)["username"]
        before[name] = comparable(current)
        after[name] = comparable(desired)
    return {"before": before, "after": after}


def user_operations(current, desired):
    """One user's writes as single-record REST operations, in the order of ``write_plan``, for an
    all-or-none composite transaction: ``[{"step", "method", "path", "body", "item_id"}]``.

    ``path`` is relative to the data API (``sobjects/...``); ``item_id`` is the permission set or
    permission set license a create or delete is about (None for the user update). ``current["id"]``
    may be a composite reference (``@{ref.id}``) to a user created earlier in the same transaction."""
    operations = []
    assigned_item = {"PermissionSetAssignment": "PermissionSetId",
                     "PermissionSetLicenseAssign": "PermissionSetLicenseId"}
    for step in write_steps([(current, desired)]):
        for record in step["records"]:
            if step["operation"] == "delete":
                item_id = next((item for item, assignment in current["assignments"].items() if assignment == record),
                               None)
                operations.append({"step": step["name"], "method": "DELETE",
                                   "path": "sobjects/%s/%s" % (step["sobject"], record), "body": None,
                                   "item_id": item_id})
                continue
            body = dict((key, value) for key, value in record.items() if key not in ("attributes", "Id"))
            if step["operation"] == "update":
                operations.append({"step": step["name"], "method": "PATCH", "body": body, "item_id": None,
                                   "path": "sobjects/%s/%s" % (step["sobject"], record["Id"])})
            else:
                operations.append({"step": step["name"], "method": "POST", "body": body,
                                   "path": "sobjects/%s" % step["sobject"],
                                   "item_id": body.get(assigned_item.get(step["sobject"]))})
    return operations
