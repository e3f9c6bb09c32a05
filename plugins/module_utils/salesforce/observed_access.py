# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an integration really used of the access it holds (issue 18): read-only evidence for least privilege.

Two sources, each said for what it is:

- the ApiTotalUsage log (api_usage.py): the calls of its newest complete day, per object read or written,
  per connected app, per Apex REST resource;
- the records each user last modified in the window, counted per object its access grants, one aggregate
  query per object for all users (``LastModifiedById`` is set by a create too), five a composite call.
  Counts are of the records the connecting user can see: View All Data gives the whole count.

    count_modified_records(client, objects, user_ids, days) -> ({object: {user Id: n}}, {object: error})
    observed_access(granted, usage, usage_log, counts, not_counted, days, user_id) -> per-user summary (pure)

Cost: ceil(objects / 5) calls for the counts, at most MAX_COUNTED_OBJECTS objects (the written ones first).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sfops.integration_users.plugins.module_utils.ids import is_id, to18
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.access import ADMIN_RIGHTS
from ansible_collections.sfops.integration_users.plugins.module_utils.salesforce.reads import read_subrequests
from ansible_collections.sfops.integration_users.plugins.module_utils.soql import soql_literal

# Five composite calls at most: an admin profile grants hundreds of objects.
MAX_COUNTED_OBJECTS = 25
WRITE_RIGHTS = ("Create", "Edit", "Delete", "ModifyAllRecords")
# An object name from the org's metadata goes into SOQL as an identifier, so it must look like one.
_OBJECT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


def build_modified_counts_soql(sobject, user_ids, days):
    if not _OBJECT_NAME.match(sobject or ""):
        raise ValueError("%r is not an object name" % str(sobject)[:80])
    ids = sorted(set(to18(i) for i in user_ids if is_id(i)))
    if not ids:
        raise ValueError("no user Id to count records for")
    return ("SELECT LastModifiedById, COUNT(Id) n FROM %s WHERE LastModifiedById IN %s "
            "AND LastModifiedDate = LAST_N_DAYS:%d GROUP BY LastModifiedById" % (sobject, soql_literal(ids), int(days)))


def counted_objects(granted_by_user):
    """The objects to count for users whose access is ``{user Id: access}``: those granted a write right
    first (what least privilege removes), then the others, by name; at most MAX_COUNTED_OBJECTS, and the
    rest, in the same order."""
    writable, readable = set(), set()
    for access in granted_by_user.values():
        for name, rights in (access.get("objects") or {}).items():
            if not _OBJECT_NAME.match(name):
                continue
            (writable if any(r in WRITE_RIGHTS for r in rights) else readable).add(name)
    ordered = sorted(writable) + sorted(readable - writable)
    return ordered[:MAX_COUNTED_OBJECTS], ordered[MAX_COUNTED_OBJECTS:]


def count_modified_records(client, objects, user_ids, days):
    """``({object: {18-char user Id: n}}, {object: error text})``: records each user last modified in the
    window, per object; an object the org will not count (not queryable, not visible) is named, not fatal."""
    subrequests = [client.query_subrequest("modified_%d" % n, build_modified_counts_soql(name, user_ids, days))
                   for n, name in enumerate(objects)]
    if not subrequests:
        return {}, {}
    answers = read_subrequests(client, subrequests)
    counts, errors = {}, {}
    for n, name in enumerate(objects):
        rows, error = answers["modified_%d" % n]
        if error is not None:
            errors[name] = str(error)[:200]
            continue
        counts[name] = dict((to18(r["LastModifiedById"]), int(r.get("n") or 0)) for r in rows or ()
                            if is_id(r.get("LastModifiedById")))
    return counts, errors


def observed_access(granted, usage, usage_log, counts, not_counted, days, user_id):
    """One user's observed access: for each object it holds rights on or used, its rights, the calls the
    usage log shows and the records it modified; what it holds and did not use. ``usage`` None: the log
    was not read (unknown); ``counts`` misses objects not counted (``not_counted``: {object: why})."""
    user_id = to18(user_id)
    objects = {}
    held = dict((granted.get("objects") or {}).items())
    used_objects = (usage or {}).get("objects") or {}
    for name in sorted(set(held) | set(used_objects)):
        calls = used_objects.get(name) or {}
        modified = counts[name].get(user_id, 0) if name in counts else None
        objects[name] = {"granted": list(held.get(name) or []), "read_calls": calls.get("read", 0),
                         "write_calls": calls.get("write", 0), "delete_calls": calls.get("delete", 0),
                         "modified_records": modified}
    log_read = usage is not None

    def unused(item):
        return not (item["read_calls"] or item["write_calls"] or item["delete_calls"] or item["modified_records"])
    return {
        "window_days": int(days),
        "usage_log": usage_log,
        "objects": objects,
        "calls": (usage or {}).get("calls", 0),
        "failed_calls": (usage or {}).get("failed_calls", 0),
        "unattributed_calls": (usage or {}).get("unattributed_calls", 0),
        "apps": dict((usage or {}).get("apps") or {}),
        "apex": dict((usage or {}).get("apex") or {}),
        # Only what both sources could have shown is called unused: without the log, or without a count,
        # nothing is.
        "unused_objects": sorted(n for n, item in objects.items() if item["granted"] and log_read
                                 and item["modified_records"] is not None and unused(item)),
        "unused_write_objects": sorted(
            n for n, item in objects.items() if log_read and item["modified_records"] is not None
            and any(r in WRITE_RIGHTS for r in item["granted"]) and not item["write_calls"]
            and not item["delete_calls"] and not item["modified_records"]),
        "not_counted": dict((n, why) for n, why in sorted(not_counted.items()) if n in objects),
        "system": list(granted.get("system") or []),
    }


def _count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _names(value):
    return [str(v) for v in value] if isinstance(value, list) else []


def describe_observed(observed, limit=6):
    """One line for a report: what the user used, what it holds that reaches everything, what it did not use."""
    log = observed.get("usage_log") if isinstance(observed.get("usage_log"), dict) else {}
    objects = observed.get("objects") if isinstance(observed.get("objects"), dict) else {}
    used = []
    for name, item in sorted(objects.items()):
        # Read back from a plan file: counts that are not numbers count as none.
        item = item if isinstance(item, dict) else {}
        reads, writes, deletes, modified = (_count(item.get(key)) for key in (
            "read_calls", "write_calls", "delete_calls", "modified_records"))
        parts = []
        if reads or writes or deletes:
            parts.append("%d read, %d write%s calls" % (reads, writes, ", %d delete" % deletes if deletes else ""))
        if modified:
            parts.append("%d record%s modified" % (modified, "" if modified == 1 else "s"))
        if parts:
            used.append("%s (%s)" % (name, ", ".join(parts)))
    text = "observed (API usage log of %s, records modified in %d days): %s" % (
        log.get("date") or "none read", _count(observed.get("window_days")),
        ("used " + ", ".join(used[:limit]) + (" and %d more" % (len(used) - limit) if len(used) > limit else ""))
        if used else "no use seen")
    reaching = [right for right in ("ModifyAllData", "ViewAllData") if right in _names(observed.get("system"))]
    if reaching:
        text += "; holds %s (every object)" % " and ".join(reaching)
    unused_write = _names(observed.get("unused_write_objects"))
    if unused_write:
        text += "; write rights not used: " + ", ".join(unused_write[:limit])
    unused_read = [n for n in _names(observed.get("unused_objects")) if n not in unused_write]
    if unused_read:
        text += "; held, not used: " + ", ".join(unused_read[:limit])
    if log.get("status") not in (None, "read"):
        text += "; " + str(log.get("detail") or "the usage log was not read")
    return text


# ---- a least-privilege access gap from the evidence -----------------------------------------------------
# keep_reads (the default): every read the copy grants stays (one day of log is weak evidence of what an
# integration reads), writes and deletes only where they were seen. as_used: reads too only where seen.
# read_write: create and edit on every object used. No margin grants a right the copy (or, for objects reached
# through Modify/View All Data, that right) did not give.
MARGINS = ("keep_reads", "as_used", "read_write")
ACCESS_SOURCES = ("copy", "observed")
# Objects no permission set grants object by object (setup and system objects): a user whose calls name them
# may reach them through the admin-level rights narrowing removes, so it is not narrowed.
NOT_GRANTABLE = frozenset((
    "User", "Group", "GroupMember", "Organization", "RecordType", "Profile", "PermissionSet", "PermissionSetAssignment",
    "PermissionSetLicense", "PermissionSetLicenseAssign", "UserLicense", "ObjectPermissions", "FieldPermissions",
    "SetupEntityAccess", "EventLogFile", "LoginHistory", "SetupAuditTrail", "ApexClass", "ApexTrigger", "ApexPage",
    "ConnectedApplication", "OauthToken", "UserRole", "CronTrigger", "AsyncApexJob", "EntityDefinition",
    "FieldDefinition", "ApiTotalUsageEventLog"))


def observation_problem(observed):
    """Why ``observed`` (observed_access of sf_profile_check) cannot build a set (None when it can)."""
    if not isinstance(observed, dict) or not isinstance(observed.get("objects"), dict):
        return "no observed access (run the inventory with license_migration_usage_days)"
    log = observed.get("usage_log") if isinstance(observed.get("usage_log"), dict) else {}
    if log.get("status") != "read":
        return "the API usage log was not read (%s)" % (log.get("detail") or log.get("status") or "no log")
    if observed.get("not_counted"):
        return "the records of %s were not counted" % ", ".join(sorted(observed["not_counted"])[:6])
    if _count(observed.get("unattributed_calls")):
        return ("%d of its calls name no object or cannot be told read from write (composite, Bulk, Tooling...)"
                % observed["unattributed_calls"])
    objects = dict((n, i) for n, i in observed["objects"].items() if isinstance(i, dict))
    if not any(_count(i.get(k)) for i in objects.values()
               for k in ("read_calls", "write_calls", "delete_calls", "modified_records")):
        return "no use seen (no call on the log's day, no record modified): a job that did not run that day"
    setup = sorted(n for n, i in objects.items() if n in NOT_GRANTABLE and (
        _count(i.get("read_calls")) or _count(i.get("write_calls")) or _count(i.get("delete_calls"))))
    if setup:
        return "its calls name setup objects no permission set grants one by one (%s)" % ", ".join(setup[:6])
    return None


def least_privilege_gap(gap, observed, margin="keep_reads"):
    """``(gap narrowed to what was used, removed)`` from the copy's ``gap`` (sf_profile_check access_gap) and
    the user's ``observed`` access (call :func:`observation_problem` first):

    - objects of the copy: their rights, less the writes and deletes not seen (and, with as_used, the reads
      not seen); never a right the copy lacks;
    - objects the copy has no row for, used through View All Data or Modify All Data: read with View All
      (records it saw through View All Data), create and edit with Modify All where it wrote (the records it
      could change), so the objects it used keep their reach and the others lose it;
    - fields: those of the objects kept, as the copy had them; setup access as the copy had it (calls from
      code do not show in the log); system: the copy's, without the admin-level rights (ADMIN_RIGHTS).

    ``removed``: {"system", "objects", "object_rights": {object: [...]}, "fields": n, "reach": text|None}."""
    if margin not in MARGINS:
        raise ValueError("margin must be one of %s, not %r" % (", ".join(MARGINS), margin))
    gap = gap or {}
    held = set(observed.get("system") or ()) | set(gap.get("system") or ())
    modify_all, view_all = "ModifyAllData" in held, "ModifyAllData" in held or "ViewAllData" in held
    copied = gap.get("objects") or {}
    kept = {}
    for name, item in sorted(observed["objects"].items()):
        read, wrote = _count(item.get("read_calls")), _count(item.get("write_calls")) or _count(item.get("modified_records"))
        deleted = _count(item.get("delete_calls"))
        used = read or wrote or deleted
        if name in copied:
            rights = set(copied[name])
            wanted = set()
            if "Read" in rights and (used or margin == "keep_reads"):
                wanted.add("Read")
            if wrote or (used and margin == "read_write"):
                wanted |= {"Create", "Edit"}
            if deleted:
                wanted |= {"Delete", "Edit"}
            if wanted:
                wanted.add("Read")  # Salesforce: create and edit need read, delete needs edit
            wanted |= rights & {"ViewAllRecords", "ModifyAllRecords"} if used else set()
            granted = sorted(wanted & rights)
        elif used and view_all and name not in NOT_GRANTABLE:
            wanted = {"Read", "ViewAllRecords"}
            if modify_all and (wrote or deleted or margin == "read_write"):
                wanted |= {"Create", "Edit", "Delete", "ModifyAllRecords"}
            granted = sorted(wanted)
        else:
            continue
        if granted:
            kept[name] = granted
    for name, rights in copied.items():
        if name not in observed["objects"] and margin == "keep_reads" and "Read" in rights:
            kept[name] = ["Read"]
    fields = dict((f, r) for f, r in (gap.get("fields") or {}).items() if f.split(".", 1)[0] in kept)
    narrowed = {"system": [r for r in gap.get("system") or () if r not in ADMIN_RIGHTS],
                "objects": dict(sorted(kept.items())), "fields": fields}
    if gap.get("setup"):
        narrowed["setup"] = gap["setup"]
    removed = {
        "system": [r for r in gap.get("system") or () if r in ADMIN_RIGHTS],
        "objects": sorted(n for n in copied if n not in kept),
        "object_rights": dict((n, sorted(set(r) - set(kept[n]))) for n, r in sorted(copied.items())
                              if n in kept and set(r) - set(kept[n])),
        "fields": len(gap.get("fields") or {}) - len(fields),
        "reach": ("every other object, which %s reached" % ("Modify All Data" if modify_all else "View All Data"))
        if view_all else None,
    }
    return narrowed, removed


def describe_removed(removed):
    """``removed ModifyAllData, ViewAllData; objects Opportunity; Delete on Account; 12 fields`` for reports (read
    back from a plan file: values of another shape count as nothing)."""
    parts = []
    system, objects = _names(removed.get("system")), _names(removed.get("objects"))
    if system:
        parts.append(", ".join(system))
    if objects:
        parts.append("objects " + ", ".join(objects[:8]) + (" and %d more" % (len(objects) - 8) if len(objects) > 8 else ""))
    rights = removed.get("object_rights") if isinstance(removed.get("object_rights"), dict) else {}
    for name, names in sorted(rights.items())[:8]:
        if _names(names):
            parts.append("%s on %s" % ("/".join(_names(names)), name))
    if isinstance(removed.get("reach"), str) and removed["reach"]:
        parts.append(removed["reach"])
    fields = _count(removed.get("fields"))
    if fields:
        parts.append("%d field permission%s" % (fields, "" if fields == 1 else "s"))
    return "removed compared with the profile copy: " + ("; ".join(parts) if parts else "nothing")
