# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sf_integration_user: move users onto the Salesforce Integration license, create, deactivate, restore.

Flow of every state: ONE composite read of at most five queries (users with assignments and PSLs,
PSLs, profiles with their licenses' seats, the permission sets named, the login mix) -> pure
planning (user_state.py) -> preflight of every user of the call (nothing is written if one fails)
-> backup of every user about to change -> each user's whole change (remove conflicting sets ->
profile -> PSL -> permission sets, or create -> PSL -> sets) as ONE all-or-none transaction.

Why a transaction per user: a process killed between two separate write calls left users
half-migrated, and no in-process rollback runs after SIGKILL. ``/composite`` with allOrNone keeps
the subrequests' order (Salesforce needs the profile committed before the PSL, the PSL before the
sets bound to it) and applies all of them or none. Whole users are packed into calls of at most 25
subrequests; when a call fails, nothing of it happened: the user whose subrequest failed is
reported and the others are sent again in a new call. An "already assigned / already removed"
answer (Salesforce auto-assigning the PSL, another job) rolls the transaction back too, so that
user is read again and planned once more.

A user needing more than 25 writes cannot fit one transaction: that run falls back to one sObject
Collections call per step with an in-process rollback (a warning says so).

A failure returns ``failed`` with the per-user results, the backup and which users are unchanged
(read back; callers such as the license_migration role read them), instead of raising.

Calls: 1 read + one composite per 25 subrequests (+1 per failed user, +1 read and call for a race,
+1 read back after a failure); a converged run makes the read only. Authentication is one token
request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import licenses
from ansible_collections.sfops.integration_users.plugins.module_utils.impl import sf_integration_user_state as user_state
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import rules
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import users as users_reader
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce import writes
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.reads import run_queries
from ansible_collections.sfops.integration_users.plugins.module_utils import run_files
from ansible_collections.sfops.integration_users.plugins.module_utils.backup import (
    DEFAULT_BACKUP_DIR,
    BackupError,
    binding_problems,
    read_backup,
    write_backup,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.client import COMPOSITE_LIMIT
from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    PartialFailure,
    ConfigurationError,
    OperationError,
    SalesforceModuleError,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.ids import is_id, to18
from ansible_collections.sfops.integration_users.plugins.module_utils.options import checked_lookback_days, get_spec, requested_users
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_in

BACKUP_KIND = "integration_user"
STATES = ("migrated", "present", "absent", "restored")

ARGUMENT_SPEC = dict(
    get_spec("users", "lookback_days", "target_profile"),
    state=dict(type="str", choices=list(STATES), default="migrated"),
    permission_sets=dict(type="list", elements="str", default=[]),
    permission_sets_mode=dict(type="str", choices=["add", "exact"], default="add"),
    conflicting_permission_sets=dict(type="str", choices=["fail", "remove"], default="fail"),
    allow_ui_users=dict(type="bool", default=False),
    backup_dir=dict(type="path", default=DEFAULT_BACKUP_DIR),
    backup_file=dict(type="path"),
    # The operator's run-state key (issue 13): backups are signed with it, and a restore refuses a backup that
    # is not signed by it. Falls back to SFOPS_SIGNING_KEY.
    signing_key=dict(type="str", no_log=True),
    # A restore refuses a user someone changed after the backup's run left it (issue 13), unless forced.
    force=dict(type="bool", default=False),
    email=dict(type="str"),
    first_name=dict(type="str"),
    last_name=dict(type="str"),
    alias=dict(type="str"),
    time_zone=dict(type="str", default="GMT"),
    locale=dict(type="str", default="en_US"),
    language=dict(type="str", default="en_US"),
    email_encoding=dict(type="str", default="UTF-8"),
)

REFUSED_LICENSE_CHANGE_ADVICE = (
    "this org refuses to move users to a profile of another license through the API "
    "(FIELD_INTEGRITY_EXCEPTION); Salesforce's recommended path is a new dedicated integration user: "
    "run this module with state: present for a new username, move the integration's credentials to it, "
    "then deactivate the old user with state: absent")


def refuses_license_change(step, code, message):
    """Whether a profile-change error is the org refusing the move to another license.

    FIELD_INTEGRITY_EXCEPTION also covers other refusals of the same write (for example a permission
    set the new license cannot hold), whose own message says what to do: the new-user advice would
    mislead there."""
    return (step == "update_users" and code == "FIELD_INTEGRITY_EXCEPTION" and
            "profile of the current license" in (message or ""))


# ---- reading ------------------------------------------------------------------------------------
def permission_set_soql(names=(), ids=()):
    clauses = soql_in("Name", names) + soql_in("Id", [to18(i) for i in ids])
    if not clauses:
        return None
    return ("SELECT Id, Name, Label, LicenseId FROM PermissionSet WHERE IsOwnedByProfile = false AND (%s)"
            % " OR ".join(clauses))


def running_identity(client):
    """``(org Id, user Id)`` of the connection: from the token answer's identity URL
    (``.../id/<org Id>/<user Id>``) when there is one (no call), else from the userinfo endpoint."""
    client.connect()
    identity_url = getattr(client.credentials, "identity_url", None)
    if identity_url:
        parts = identity_url.rstrip("/").split("/")
        return to18(parts[-2]), to18(parts[-1])
    info = client.identity()
    return to18(info.get("organization_id")), to18(info.get("user_id"))


def read_snapshot(client, usernames=None, user_ids=None, profile_names=(), profile_ids=(),
                  permission_set_names=(), permission_set_ids=(), lookback_days=None):
    """Users (as migration states, keyed by lower-case username) and org facts, in ONE composite call
    of at most five queries (plus paging past 2000 rows). ``lookback_days`` None skips the login mix."""
    selector = dict(usernames=usernames, user_ids=user_ids)
    queries = [
        ("users", users_reader.build_users_soql(**selector)),
        ("psls", licenses.PSL_SOQL),
        ("profiles", licenses.profile_soql(profile_names, profile_ids)),
    ]
    ps_soql = permission_set_soql(permission_set_names, permission_set_ids)
    if ps_soql:
        queries.append(("permission_sets", ps_soql))
    if lookback_days:
        queries.append(("logins", users_reader.build_login_mix_soql(lookback_days, **selector)))
    rows = run_queries(client, queries)
    # License seats come with the profiles: a composite call holds five queries, all needed here.
    user_licenses = licenses.user_licenses_of_profiles(rows["profiles"])
    license_names = licenses.license_names_of(user_licenses, rows["users"])
    psl_names = dict((to18(r["Id"]), r.get("MasterLabel")) for r in rows["psls"])
    users = [users_reader.normalize_user(r, license_names, psl_names) for r in rows["users"]]
    if lookback_days:
        users_reader.merge_login_rows(users, rows["logins"], lookback_days)
    facts = user_state.preflight_facts(
        licenses=user_licenses, psls=rows["psls"], profiles=rows["profiles"],
        permission_sets=rows.get("permission_sets", ()),
        ui_login_counts=dict((u["id"], u["logins"]["ui"]) for u in users) if lookback_days else None,
        running_user_id=running_identity(client)[1])
    facts["lookback_days"] = lookback_days
    facts["default_profile"] = licenses.summarize_integration(
        user_licenses, licenses.psl_seats(rows["psls"], active_only=False),
        list(facts["profiles"].values()))["default_profile"]
    states = dict((u["username"].lower(), user_state.state_from_user(u)) for u in users)
    return states, facts, users


# ---- writing ------------------------------------------------------------------------------------
class StepFailure(Exception):
    """A write step failed: ``errors`` is ``[(username or None, code, message)]``."""

    def __init__(self, step, errors):
        super(StepFailure, self).__init__(step)
        self.step = step
        self.errors = errors

    def describe(self):
        parts = []
        for username, code, message in self.errors:
            text = "%s: %s" % (code, message) if code else message
            parts.append("user %s: %s" % (username, text) if username else text)
        return "step %s failed (%s)" % (self.step, "; ".join(parts))

    @property
    def codes(self):
        return set(error[1] for error in self.errors)


def _run_step(client, step):
    tolerated = step["tolerated_errors"]
    # A step that tolerates some errors (already assigned) must not let them roll back the others.
    all_or_none = not tolerated
    try:
        if step["operation"] == "delete":
            answer = client.delete_records(step["records"], all_or_none=all_or_none, raise_on_error=False)
        elif step["operation"] == "update":
            answer = client.update_records(step["sobject"], step["records"], all_or_none=all_or_none,
                                           raise_on_error=False)
        else:
            answer = client.create_records(step["sobject"], step["records"], all_or_none=all_or_none,
                                           raise_on_error=False)
    except SalesforceModuleError as exc:
        # The whole call failed (transport, 5xx after retries, limits): what got applied is unknown
        # here and is read back by the rollback.
        raise StepFailure(step["name"], [(None, exc.error_code, exc.message)])
    usernames = list(step["users"]) + [None] * max(0, len(answer) - len(step["users"]))
    errors = [(username, code, message) for username, code, message in writes.blame_records(usernames, answer)
              if code not in tolerated and code != writes.ROLLED_BACK]
    if len(answer) != len(step["records"]) and not errors:
        errors.append((None, None, "Salesforce answered %d results for %d records" % (len(answer), len(step["records"]))))
    if errors:
        raise StepFailure(step["name"], errors)
    return [outcome.get("id") for outcome in answer]


def execute_steps(client, plan):
    """Run the steps in order; raises StepFailure at the first failed one."""
    for step in plan:
        _run_step(client, step)


def _state_text(state):
    if state is None:
        return "not found"
    return "profile %s (license %s), %s, permission sets [%s], permission set licenses [%s]" % (
        state["profile"]["name"], state["profile"]["license"], "active" if state["is_active"] else "inactive",
        ", ".join(ps["name"] or ps["id"] for ps in state["permission_sets"]),
        ", ".join(psl["name"] or psl["id"] for psl in state["permission_set_licenses"]))


def rollback(client, saved_states):
    """Put users back to ``saved_states`` (their states before this run); read back to verify.

    Returns ``{username: None when restored, else the state the user is in now (or the reason)}``."""
    ids = [state["id"] for state in saved_states]
    outcome = {}
    try:
        set_ids = [ps["id"] for saved in saved_states for ps in saved["permission_sets"]]
        states, facts, _users = read_snapshot(client, user_ids=ids, permission_set_ids=set_ids)
        by_id = dict((state["id"], state) for state in states.values())
        pairs = [(by_id[saved["id"]], user_state.restored_state(by_id[saved["id"]], saved, facts)[0])
                 for saved in saved_states if saved["id"] in by_id]
        try:
            execute_steps(client, user_state.write_steps(pairs))
        except StepFailure as failure:
            outcome["_failure"] = failure.describe()
        states = read_snapshot(client, user_ids=ids)[0]
        by_id = dict((state["id"], state) for state in states.values())
        for saved in saved_states:
            now = by_id.get(saved["id"])
            outcome[saved["username"]] = (None if now is not None and not user_state.changes(now, saved)
                                          else user_state.comparable(now))
    except SalesforceModuleError as exc:
        outcome["_failure"] = exc.render()
        for saved in saved_states:
            outcome.setdefault(saved["username"], "unknown: the org could not be read (%s)" % exc.message)
    return outcome


# ---- one all-or-none transaction per user ---------------------------------------------------------


def transaction_unit(client, index, username, current, desired, new_record=None, assume_held=()):
    """One user's whole change as composite subrequests (``/composite`` with allOrNone: nothing of it
    is applied unless all of it is, so a killed process never leaves the user half-migrated).

    ``new_record``: the User to create first; its assignments reference it as ``@{uN_user.id}``.
    ``assume_held``: items Salesforce assigns by itself within the transaction (not sent)."""
    prefix = "u%d" % index
    subrequests, operations = [], []
    if new_record is not None:
        subrequests.append({"method": "POST", "url": client.data_path("sobjects/User"),
                            "referenceId": prefix + "_user", "body": new_record})
        operations.append({"step": "create_users", "item_id": None})
        current = user_state.new_user_state("@{%s_user.id}" % prefix, username, desired["profile"])
    if assume_held:
        current = dict(current, permission_sets=current["permission_sets"] + [
            {"id": i} for i in assume_held if i in [ps["id"] for ps in desired["permission_sets"]]],
            permission_set_licenses=current["permission_set_licenses"] + [
            {"id": i} for i in assume_held if i in [psl["id"] for psl in desired["permission_set_licenses"]]])
    for operation in user_state.user_operations(current, desired):
        sub = {"method": operation["method"], "url": client.data_path(operation["path"]),
               "referenceId": "%s_%d" % (prefix, len(subrequests))}
        if operation["body"] is not None:
            sub["body"] = operation["body"]
        subrequests.append(sub)
        operations.append(operation)
    return dict(writes.unit(username, subrequests, operations), username=username, current=current,
                desired=desired, new_record=new_record, index=index)


def send_user_transactions(client, units):
    """``salesforce.writes.send_transactions`` of the users' units: ``(done, failed)``, ``failed``
    {username: (step, code, message, item_id)}, step None when the call itself failed."""
    done, refused = writes.send_transactions(client, units)
    failed = {}
    for username, (operation, code, message) in refused.items():
        operation = operation or {}
        failed[username] = (operation.get("step"), code, message, operation.get("item_id"))
    return done, failed


def _is_race(failure):
    """An error that says another actor (Salesforce itself, another job) already did this item."""
    step, code = failure[0], failure[1]
    return step is not None and code in user_state.STEP_TOLERATED_ERRORS.get(step, ())


# ---- the module ---------------------------------------------------------------------------------
# A task naming thousands of unknown users must still give a message a person can read.
PREFLIGHT_LINES_SHOWN = 20


def _raise_preflight_problems(problems, pairs, facts, check_mode):
    """Add the org-wide seat count to the per-user ``problems``; fail before any write if any remain."""
    seats = user_state.seat_problems(pairs, facts)
    if seats:
        problems["seats"] = seats
    if any(problems.values()):
        raise _preflight_failure(problems, check_mode)


def _preflight_failure(problems, check_mode):
    lines = ["%s: %s" % (who, "; ".join(items)) for who, items in problems.items() if items]
    if len(lines) > PREFLIGHT_LINES_SHOWN:
        lines = lines[:PREFLIGHT_LINES_SHOWN] + ["and %d more" % (len(lines) - PREFLIGHT_LINES_SHOWN)]
    return OperationError("preflight failed, nothing was changed%s: %s"
                          % (" (check mode)" if check_mode else "", " | ".join(lines)))


def _user_results(pairs, left_changed=None):
    """Per-user results; after a rolled-back failure only the users in ``left_changed`` are changed."""
    results = []
    for current, desired in pairs:
        found = user_state.changes(current, desired)
        username = (desired or current)["username"]
        changed = bool(found) if left_changed is None else username in left_changed
        results.append({"username": username, "id": (desired or current).get("id"),
                        "changed": changed, "changes": found,
                        "before": user_state.comparable(current), "after": user_state.comparable(desired)})
    return results


def _steps_summary(plan):
    return [{"step": step["name"], "records": len(step["records"]), "users": sorted(set(step["users"]))}
            for step in plan]


def _new_user_record(params, username, target):
    local = username.split("@", 1)[0]
    alias = params.get("alias") or re.sub(r"[^A-Za-z0-9]", "", local)[:8] or "intuser"
    return {"Username": username, "Email": params["email"], "FirstName": params.get("first_name"),
            "LastName": params.get("last_name") or local, "Alias": alias,
            "TimeZoneSidKey": params["time_zone"], "LocaleSidKey": params["locale"],
            "LanguageLocaleKey": params["language"], "EmailEncodingKey": params["email_encoding"],
            "ProfileId": target["id"]}


def _target_profile_selector(target_profile):
    """``target_profile`` is a profile name or Id: read the profile it names."""
    if not target_profile:
        return {}
    return {"profile_ids": [target_profile]} if is_id(target_profile) else {"profile_names": [target_profile]}


def run(task):
    params = task.params
    state = params["state"]
    usernames = requested_users(params)
    if state == "restored":
        return _restored(task, usernames)
    if not usernames:
        # ``users: []`` passes the argument spec's required_if.
        raise ConfigurationError("name the user(s) to change in users (the list is empty)")
    checked_lookback_days(params)
    client = task.client
    states, facts, _users = read_snapshot(
        client, usernames=usernames, **_target_profile_selector(params.get("target_profile")),
        permission_set_names=params["permission_sets"],
        lookback_days=params["lookback_days"] if state == "migrated" else None)
    problems = {}
    pairs = []
    new_users = []
    target = None
    missing = [name for name in usernames if name.lower() not in states]
    if state == "absent":
        for name in missing:
            task.warn("user %s does not exist: nothing to deactivate" % name)
        for name in usernames:
            current = states.get(name.lower())
            if current is not None:
                desired = user_state.absent_state(current)
                if user_state.changes(current, desired):
                    problems[name] = user_state.user_guard_problems(current, facts)
                pairs.append((current, desired))
    else:
        target, found = rules.resolve_target_profile(facts["profiles"].values(), params.get("target_profile"),
                                                     facts["default_profile"])
        if target is None:
            problems["target profile"] = [item["message"] for item in found if item["severity"] == "blocker"]
        else:
            for name in usernames:
                current = states.get(name.lower())
                if current is None and state == "migrated":
                    problems[name] = ["user not found (usernames of sandbox copies carry the sandbox suffix)"]
                    continue
                if current is not None and state == "present" and current["profile"]["license"] != target["license"]:
                    problems[name] = ["already exists on the %r license: use state migrated to move it"
                                      % current["profile"]["license"]]
                    continue
                base = current if current is not None else user_state.new_user_state(None, name, target)
                desired, found = user_state.migrated_state(base, facts, target, params)
                problems[name] = found
                if current is None:
                    new_users.append((name, desired))
                    pairs.append((None, desired))
                else:
                    pairs.append((current, desired))
    _raise_preflight_problems(problems, pairs, facts, task.check_mode)
    existing = [(c, d) for c, d in pairs if c is not None]
    return _apply(task, existing, new_users, state, target, all_pairs=pairs)


def _apply(task, existing, new_users, state, target, all_pairs):
    client = task.client
    plan = user_state.write_steps(existing)
    if new_users:
        plan.insert(0, {"name": "create_users", "sobject": "User", "operation": "create", "tolerated_errors": [],
                        "records": [_new_user_record(task.params, name, target) for name, _desired in new_users],
                        "users": [name for name, _desired in new_users]})
    result = {"changed": bool(plan), "state": state, "plan": _steps_summary(plan)}
    if task.diff:
        result["diff"] = user_state.user_diff(all_pairs)
    result["users"] = _user_results(all_pairs)
    if not plan or task.check_mode:
        return result

    changing = [(c, d) for c, d in existing if user_state.changes(c, d)]
    saved = [c for c, _d in changing]
    try:
        # "left": what this write leaves each user in, so a later restore can tell a change someone made since.
        result["backup_file"] = write_backup(task.params["backup_dir"], BACKUP_KIND, client.org, key=_run_key(task), payload={
            "org_id": running_identity(client)[0], "state": state, "users": [user_state.comparable(s) for s in saved],
            "left": [user_state.comparable(d) for _c, d in changing], "created": [name for name, _desired in new_users]})
    except BackupError as exc:
        raise OperationError("no backup, so nothing was changed: %s" % exc)
    result["backup"] = read_backup(result["backup_file"])

    units = [transaction_unit(client, index, current["username"], current, desired)
             for index, (current, desired) in enumerate(changing)]
    units += [transaction_unit(client, len(units) + index, name, None, desired,
                               new_record=_new_user_record(task.params, name, target))
              for index, (name, desired) in enumerate(new_users)]
    if any(len(unit["subrequests"]) > COMPOSITE_LIMIT for unit in units):
        task.warn("a user needs more than %d writes, more than one all-or-none transaction holds: the writes go "
                  "step by step with an in-process rollback, which a killed process cannot run" % COMPOSITE_LIMIT)
        return _apply_stepwise(task, result, plan, existing, new_users, target, saved, all_pairs)
    return _apply_atomic(task, result, units, new_users, all_pairs)


def _apply_atomic(task, result, units, new_users, all_pairs):
    client = task.client
    done, failed = send_user_transactions(client, units)
    races = [unit for unit in units if unit["username"] in failed and _is_race(failed[unit["username"]])]
    if races:
        retried = _replanned(client, races, failed)
        for unit in races:
            if unit["username"] in retried:
                del failed[unit["username"]]
        more_done, more_failed = send_user_transactions(client, list(retried.values()))
        done.update(more_done)
        failed.update(more_failed)
    by_name = dict((unit["username"], unit) for unit in units)
    # A failed subrequest means Salesforce rolled the whole transaction back; only a call that failed as
    # a whole (transport, limits) leaves unknown whether it was committed, so only those are read back.
    unknown = [name for name, failure in failed.items() if failure[0] is None]
    now = _read_back(client, unknown) if unknown else {}
    for username, state in now.items():
        if isinstance(state, dict) and not user_state.changes(state, by_name[username]["desired"]):
            # The call failed on the way back, but Salesforce had committed the whole transaction.
            done[username] = {"u%d_user" % by_name[username]["index"]: {"id": state["id"]}}
            del failed[username]
    for name, desired in new_users:
        if name in done:
            desired["id"] = done[name]["u%d_user" % by_name[name]["index"]]["id"]
    result["users"] = _user_results(all_pairs, left_changed=None if not failed else set(done))
    if failed:
        result["pairs"] = all_pairs
        try:
            _report_failures(task, result, failed, now, by_name, done)
        finally:
            result.pop("pairs", None)
    return result


def _replanned(client, races, failed):
    """Units planned again from a fresh read of the users whose transaction met another actor's work
    (an assignment already made or already removed): ``{username: unit}``."""
    ids = [unit["current"]["id"] for unit in races if unit["new_record"] is None]
    set_ids = [ps["id"] for unit in races for ps in unit["desired"]["permission_sets"]]
    states = read_snapshot(client, user_ids=ids, permission_set_ids=set_ids)[0] if ids else {}
    by_id = dict((state["id"], state) for state in states.values())
    retried = {}
    for unit in races:
        _step, code, _message, item_id = failed[unit["username"]]
        current = None if unit["new_record"] is not None else by_id.get(unit["current"]["id"])
        if unit["new_record"] is None and current is None:
            continue
        held = [] if current is None else list(current["assignments"])
        # Still missing after "already assigned": Salesforce assigned it within the transaction itself
        # (the integration PSL when the profile changes), so it is not sent again.
        assume_held = [item_id] if code == "DUPLICATE_VALUE" and item_id and item_id not in held else []
        desired = unit["desired"]
        if current is not None:
            desired = dict(desired, assignments=dict(current["assignments"]))
        retried[unit["username"]] = transaction_unit(client, unit["index"], unit["username"], current, desired,
                                                     new_record=unit["new_record"], assume_held=assume_held)
    return retried


def _read_back(client, usernames):
    """State now of users ({username: state, None when absent, or why it is unknown})."""
    try:
        states = read_snapshot(client, usernames=sorted(usernames))[0]
    except SalesforceModuleError as exc:
        return dict((name, "unknown: the org could not be read (%s)" % exc.message) for name in usernames)
    return dict((name, states.get(name.lower())) for name in usernames)


def _report_failures(task, result, failed, now, by_name, done):
    client = task.client
    unchanged, not_unchanged = [], {}
    parts = []
    for username in sorted(failed):
        step, code, message, _item = failed[username]
        unit = by_name[username]
        parts.append(StepFailure(step or "transaction", [(username, code, message)]).describe() + ".")
        if username not in now:
            unchanged.append(username)
            continue
        state = now[username]
        before = unit["current"] if unit["new_record"] is None else None
        if (state is None and before is None) or (
                isinstance(state, dict) and before is not None and not user_state.changes(state, before)):
            unchanged.append(username)
        else:
            not_unchanged[username] = state if isinstance(state, str) else user_state.comparable(state)
    if unchanged:
        parts.append("User(s) %s left unchanged by this run: each user's writes are one all-or-none transaction, "
                     "which Salesforce rolled back%s." % (", ".join(unchanged), "" if not [
                         u for u in unchanged if by_name[u]["new_record"] is not None] else
                         " (a user to create was not created)"))
    for username, state in sorted(not_unchanged.items()):
        parts.append("User %s is NOT in its state before the run; it is now: %s." % (
            username, state if isinstance(state, str) else _state_text(state)))
    if done:
        parts.append("Changed as planned: %s." % ", ".join(sorted(done)))
    parts.append("The state of every user before the run is in the backup %s%s." % (
        result["backup_file"], ": run state restored with backup_file set to it once the cause is fixed"
        if not_unchanged else ""))
    # The users left unchanged are the "restored" ones of ``rollback``, though Salesforce did the undoing.
    rollback = {"restored": unchanged, "not_restored": not_unchanged, "deactivated": []}
    result["users"] = _user_results(result["pairs"], left_changed=set(done) | set(not_unchanged))
    result.update(changed=bool(done or not_unchanged), rollback=rollback)
    raise _write_failure(client.org, " ".join(parts), result,
                         [(name, failed[name][0], failed[name][1], failed[name][2]) for name in sorted(failed)])


def _apply_stepwise(task, result, plan, existing, new_users, target, saved, all_pairs):
    client = task.client
    created = []
    try:
        if new_users:
            ids = _run_step(client, plan.pop(0))
            for (name, desired), user_id in zip(new_users, ids):
                desired["id"] = user_id
                created.append((user_state.new_user_state(user_id, name, target), desired))
            plan = user_state.write_steps(existing + created)
        execute_steps(client, plan)
    except StepFailure as failure:
        return _failed(task, result, failure, saved, created, all_pairs)
    # Again: created users have their Ids now.
    result["users"] = _user_results(all_pairs)
    return result


def _failed(task, result, failure, saved, created, all_pairs):
    client = task.client
    # Created users cannot be deleted: the closest to "never created" is inactive, holding nothing.
    retired = []
    for current, _desired in created:
        state = user_state.new_user_state(current["id"], current["username"], current["profile"])
        state["is_active"] = False
        retired.append(state)
    outcome = rollback(client, saved + retired) if saved or retired else {}
    deactivated = [state["username"] for state in retired if outcome.get(state["username"]) is None]
    message = "%s." % failure.describe()
    not_restored = dict((name, now) for name, now in outcome.items() if not name.startswith("_") and now is not None)
    failed_to_retire = [state["username"] for state in retired if state["username"] in not_restored]
    if not not_restored:
        message += " Every user changed by this run was restored to its state before the run"
        message += " (backup: %s)." % result["backup_file"]
    else:
        message += " RESTORING FAILED%s. " % (": %s" % outcome["_failure"] if outcome.get("_failure") else "")
        message += " ".join("User %s is NOT restored; it is now: %s." % (
            name, now if isinstance(now, str) else _state_text(now)) for name, now in sorted(not_restored.items()))
        restored = [s["username"] for s in saved + retired if s["username"] not in not_restored]
        if restored:
            message += " Restored: %s." % ", ".join(restored)
        message += (" The state of every user before the run is in the backup %s: run state restored with "
                    "backup_file set to it once the cause is fixed." % result["backup_file"])
    if deactivated:
        message += (" Created user(s) %s were deactivated and hold no assignment (Salesforce users cannot be "
                    "deleted; the usernames stay taken)." % ", ".join(deactivated))
    if failed_to_retire:
        message += " Created user(s) %s could NOT be deactivated." % ", ".join(failed_to_retire)
    result.update(changed=bool(not_restored or created),
                  users=_user_results(all_pairs, left_changed=set(not_restored) | set(s["username"] for s in retired)),
                  rollback={"restored": [s["username"] for s in saved if s["username"] not in not_restored],
                            "not_restored": dict((k, v) for k, v in not_restored.items()),
                            "deactivated": deactivated})
    raise _write_failure(client.org, message, result,
                         [(user, failure.step, code, text) for user, code, text in failure.errors])


def _write_failure(org, message, result, errors):
    """The failure of a write, raised with the partial result: ``errors`` ``[(username, step, code, message)]``.

    ``error.error_code`` is the first Salesforce code; ``error.user`` the users refused; the hint is the
    new-user path when the org refuses the license change itself."""
    codes = [code for _user, _step, code, _text in errors if code]
    refused = any(refuses_license_change(step, code, text) for _user, step, code, text in errors)
    users = sorted(set(user for user, _step, _code, _text in errors if user))
    result.pop("failed", None)
    result.pop("msg", None)
    return PartialFailure(message, result, org=org, error_code=codes[0] if codes else None,
                          user=", ".join(users) or None,
                          hint=REFUSED_LICENSE_CHANGE_ADVICE if refused else None)


def _saved_user(saved):
    """One user of a backup with its Ids in 18-character form, or None when an entry a restore
    reads is missing or of the wrong type."""
    if not (isinstance(saved, dict) and is_id(saved.get("id")) and isinstance(saved.get("username"), str) and
            isinstance(saved.get("profile"), dict)):
        return None
    items = {}
    for key in ("permission_sets", "permission_set_licenses"):
        listed = saved.get(key) or []
        if not isinstance(listed, list) or not all(isinstance(i, dict) and is_id(i.get("id")) for i in listed):
            return None
        items[key] = [dict(item, id=to18(item["id"])) for item in listed]
    profile = dict(saved["profile"], id=to18(saved["profile"].get("id")))
    return dict(saved, id=to18(saved["id"]), is_active=bool(saved.get("is_active")), profile=profile, **items)


def _saved_users(document, path, key="users"):
    """The users of a backup document (``key`` ``left``: the states its run left them in); a file edited
    out of shape is refused before any read or write (it is the user's way back, so a traceback there
    would be the worst moment for one)."""
    data = document["data"]
    listed = (data.get(key) or []) if isinstance(data, dict) else None
    saved_users = [_saved_user(saved) for saved in listed] if isinstance(listed, list) else [None]
    if None in saved_users:
        raise ConfigurationError("the backup %s has a user entry without the id, username, profile and "
                                 "assignments this collection writes: was it edited?" % path)
    return saved_users


def _run_key(task):
    """The operator's signing key (option, else SFOPS_SIGNING_KEY); without one, a warning."""
    key = run_files.signing_key(task.params.get("signing_key"))
    if key is None:
        task.warn("no signing key (signing_key or %s): backups are unsigned, so a restore cannot tell an edited "
                  "backup from a genuine one" % run_files.SIGNING_KEY_ENV)
    return key


def _restored(task, usernames):
    params = task.params
    try:
        document = read_backup(params["backup_file"], kind=BACKUP_KIND, key=_run_key(task))
    except BackupError as exc:
        raise ConfigurationError(str(exc))
    saved_users = _saved_users(document, params["backup_file"])
    # Backups written before issue 13 do not say what their run left: nothing to compare with.
    left_by_id = dict((state["id"], state) for state in _saved_users(document, params["backup_file"], key="left"))
    if usernames:
        wanted = set(name.lower() for name in usernames)
        unknown = wanted - set(s["username"].lower() for s in saved_users)
        if unknown:
            raise ConfigurationError("the backup %s holds no user %s" % (params["backup_file"], ", ".join(sorted(unknown))))
        saved_users = [s for s in saved_users if s["username"].lower() in wanted]
    if not saved_users:
        return {"changed": False, "state": "restored", "users": [], "plan": []}
    client = task.client
    states, facts, _users = read_snapshot(
        client, user_ids=[s["id"] for s in saved_users],
        profile_ids=[s["profile"]["id"] for s in saved_users if s["profile"].get("id")],
        permission_set_ids=[ps["id"] for s in saved_users for ps in s["permission_sets"]])
    org_id = running_identity(client)[0]
    # Bound to this org's Id, and each entry's Id to its username (issue 13): a backup naming no org, or
    # another user's Id, would restore someone else.
    problems = binding_problems(document, org_id, dict((s["id"], s["username"]) for s in states.values()))
    by_id = dict((state["id"], state) for state in states.values())
    pairs = []
    for saved in saved_users:
        current = by_id.get(saved["id"])
        if current is None:
            problems[saved["username"]] = ["user %s no longer exists" % saved["id"]]
            continue
        desired, found = user_state.restored_state(current, saved, facts)
        if user_state.changes(current, desired):
            found = found + user_state.user_guard_problems(current, facts)
            left = left_by_id.get(saved["id"])
            since = user_state.changed_since_run(current, saved, left) if left else []
            if since and not params["force"]:
                found.append("changed since the run that wrote this backup (%s): restoring would undo that change; "
                             "check who changed it, then restore with force: true (role: "
                             "license_migration_rollback_force) if the backup's state is still wanted" % "; ".join(since))
        problems[saved["username"]] = problems.get(saved["username"], []) + found
        pairs.append((current, desired))
    _raise_preflight_problems(problems, pairs, facts, task.check_mode)
    result = _apply(task, pairs, [], "restored", None, all_pairs=pairs)
    result["restored_from"] = params["backup_file"]
    return result


SPEC = ModuleSpec("sf_integration_user", ARGUMENT_SPEC, run,
                  required_if=[["state", "restored", ["backup_file"]], ["state", "present", ["email", "users"]],
                               ["state", "migrated", ["users"]], ["state", "absent", ["users"]]])
