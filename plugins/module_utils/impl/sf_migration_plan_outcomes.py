# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the license_migration role's steps came to, decided here rather than in Jinja: which moves were
applied or refused (from the registered results of sf_integration_user), the org's error, the query of
failed logins since a move, the verdict on a production batch and the rollout's state after it, the
entry checks (org type, sandbox settings, API allocation). Plain data in, plain data out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_format

# Where each entry point may run: migrate writes to sandboxes only, rollout to production only.
_ORG_TYPE_OF_PHASE = {"migrate": "sandbox", "rollout": "production"}


def org_type_error(phase, org, org_type):
    """Why ``phase`` must not run on ``org`` (None when it may)."""
    wanted = _ORG_TYPE_OF_PHASE.get(phase)
    if wanted is None or wanted == org_type:
        return None
    if phase == "migrate":
        return ("%s is a production org: use the rollout entry point, which only moves users a sandbox "
                "verified for the same plan." % org)
    return "%s is a sandbox: use the migrate entry point." % org


def sandbox_settings_error(org, org_type, production_org, sandbox_name):
    if org_type != "sandbox" or (production_org and sandbox_name):
        return None
    return ("%s is a sandbox: set license_migration_production_org (the inventory name of its production org) "
            "and license_migration_sandbox_name (the suffix of its usernames)." % org)


def api_allocation_error(org, api_usage, min_remaining):
    """The refusal of an org whose daily API allocation is nearly spent (None when enough remains or the
    org gives no limit)."""
    limit = (api_usage or {}).get("limit")
    if limit is None or min_remaining is None:
        return None
    remaining = int(limit) - int((api_usage or {}).get("used") or 0)
    if remaining >= min_remaining:
        return None
    return ("%s skipped before any write: only %d of its %d daily API requests remain, fewer than "
            "license_migration_min_api_remaining (%d); run again once the allocation has recovered."
            % (org, remaining, int(limit), min_remaining))


def _refused(result):
    # A refused move carries `error` (the module's failure shape; before any write or after its rollback);
    # `rollback` alone is the older shape of a refusal after a write.
    return bool(result.get("error")) or "rollback" in result


def _message(result):
    return result.get("msg") or (result.get("error") or {}).get("message") or "refused"


def applied_moves(results, started, dry_run):
    """The outcome of one run of the moves: ``results`` are the registered loop results of
    sf_integration_user (each with its ``item``, the plan entry)."""
    results = [r for r in results or [] if isinstance(r, dict)]
    refused = [r for r in results if _refused(r)]
    users = []
    for result in results:
        if not _refused(result):
            users.extend(result.get("users") or [])
    refusal = ""
    if refused:
        # Refusals in one org usually share their code and advice: the users are named once with the first
        # message; each refused user's own message is in its report row.
        refusal = "%s: %s" % (", ".join(_target(r) for r in refused), _message(refused[0]))
        if len(refused) > 1:
            refusal += " (first of %d refusals: each refused user's own message is in its report row)" % len(refused)
    return {
        "started": started,
        "usernames": [_target(r) for r in results],
        "users": users,
        "backup_files": [r["backup_file"] for r in results if r.get("backup_file")],
        "errors": [_message(r) for r in refused],
        "failed_usernames": [_target(r) for r in refused],
        "refusal": refusal,
        "dry_run": bool(dry_run),
    }


def applied_entries(results):
    """The plan entries (loop items) of the moves that were not refused."""
    return [r["item"] for r in results or [] if isinstance(r, dict) and isinstance(r.get("item"), dict) and
            not _refused(r)]


def _target(result):
    return ((result.get("item") or {}).get("target_username") or (result.get("users") or [{}])[0].get("username") or
            "?")


def migration_error(applied):
    return ("migration refused for some users: " + applied["refusal"]) if applied["errors"] else None


def _soql_datetime(text):
    for layout in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.datetime.strptime(text, layout)
        except (TypeError, ValueError):
            continue
    return None


def failed_logins_query(usernames, since):
    """SOQL of the failed logins of ``usernames`` since ``since`` (UTC ISO-8601); None when either is
    missing (no window to check)."""
    moment = _soql_datetime(since)
    usernames = sorted(set(u for u in usernames or [] if u))
    if not usernames or moment is None:
        return None
    return soql_format("SELECT UserId, Status, LoginTime FROM LoginHistory WHERE UserId IN "
                       "(SELECT Id FROM User WHERE Username IN {0}) AND Status != 'Success' AND LoginTime >= {1}",
                       usernames, moment.replace(microsecond=0))


def verification_error(users):
    """'verification failed for <user> (<problems>); ...': each failed user with what failed."""
    failed = ["%s (%s)" % (u["target_username"], "; ".join(u.get("problems") or ["no problem recorded"]))
              for u in users or [] if not u.get("passed")]
    return ("verification failed for " + "; ".join(failed)) if failed else None


def batch_failure(applied, verified_users, dry_run):
    """Why a production batch must be put back ('' when it stands)."""
    if applied["errors"]:
        return "move refused: " + applied["refusal"]
    failed = [u for u in verified_users or [] if not u.get("passed")]
    if dry_run or not failed:
        return ""
    names = ", ".join(u["target_username"] for u in failed)
    return "verification failed for %s: %s" % (names, "; ".join(p for u in failed for p in u.get("problems") or []))


def rollout_start(gate, started, dry_run):
    """The rollout's sections of the org result before its first batch; ``rollout.started`` is when the
    next batch starts (the window of its failed-login check), ``rollout.stopped`` why no batch goes on."""
    refused = gate_error(gate, dry_run)
    return {"rollout": {"gate": gate, "batches": [], "started": started, "stopped": "", "gate_error": refused},
            "migrate": {"dry_run": bool(dry_run), "users": []}, "verify": {"users": []}, "error": refused}


def gate_error(gate, dry_run):
    """'production gate refused <users>: <reason>; ...' when the gate held users back (not under --check)."""
    missing = (gate or {}).get("missing") or []
    if not missing or dry_run:
        return None
    by_reason = []
    for item in missing:
        for reason, names in by_reason:
            if reason == item["reason"]:
                names.append(item["username"])
                break
        else:
            by_reason.append((item["reason"], [item["username"]]))
    return "production gate refused " + "; ".join("%s: %s" % (", ".join(names), reason) for reason, names in by_reason)


def next_rollout(state, number, usernames, applied, verified_users, dry_run, now):
    """The rollout section after batch ``number``: skipped after a stop, else moved and verified, or put
    back (``restore``: its backups, newest first) and the rollout stopped."""
    state = dict(state, rollout=dict(state["rollout"], batches=list(state["rollout"]["batches"])),
                 migrate=dict(state["migrate"], users=list(state["migrate"]["users"])),
                 verify=dict(state["verify"], users=list(state["verify"]["users"])))
    state["rollout"]["started"] = now
    if state["rollout"].get("stopped") or applied is None:
        state["rollout"]["batches"].append({"number": number, "usernames": usernames,
                                            "skipped": "not started: the rollout stopped at an earlier batch"})
        return state, []
    failure = batch_failure(applied, verified_users, dry_run)
    if not failure:
        state["migrate"]["users"].extend(applied["users"])
    if not dry_run:
        state["verify"]["users"].extend(verified_users or [])
    state["rollout"]["batches"].append({"number": number, "usernames": usernames, "rolled_back": bool(failure),
                                        "reason": failure or None, "backup_files": applied["backup_files"]})
    if failure:
        state["rollout"]["stopped"] = "batch %d rolled back and rollout stopped: %s" % (number, failure)
        # The stop is the failure to act on first; a gate refusal of other users comes after it.
        state["error"] = state["rollout"]["stopped"]
        return state, list(reversed(applied["backup_files"]))
    return state, []
