# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Implementation of sf_integration_probe: log in as an integration user with its own credentials and
run read probes (SOQL, REST GET, Apex REST GET), reporting each outcome instead of failing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import (
    ConfigurationError,
    SalesforceModuleError,
)
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec

ARGUMENT_SPEC = dict(
    probes=dict(type="list", elements="dict", default=[]),
)


# What a probe reads: a SOQL query, a data-API resource, or an Apex REST resource (/services/apexrest/).
PROBE_KINDS = ("soql", "rest", "apexrest")


def _describe(probe, index):
    kinds = [kind for kind in PROBE_KINDS if isinstance(probe, dict) and probe.get(kind)]
    if len(kinds) != 1:
        raise ConfigurationError("probe %d needs exactly one of soql, rest or apexrest: %r" % (index + 1, probe))
    kind = kinds[0]
    if not isinstance(probe[kind], str):
        raise ConfigurationError("probe %d: %s must be a string, got %r" % (index + 1, kind, probe[kind]))
    try:
        min_records = int(probe.get("min_records") or 0)
    except (TypeError, ValueError):
        min_records = -1
    if min_records < 0:
        raise ConfigurationError("probe %d: min_records must be a whole number of 0 or more, got %r"
                                 % (index + 1, probe.get("min_records")))
    return {"name": probe.get("name") or "%s %s" % (kind, probe[kind]), "kind": kind, "target": probe[kind],
            "tooling": bool(probe.get("tooling")), "min_records": min_records}


def run(task):
    probes = [_describe(p, i) for i, p in enumerate(task.params["probes"])]
    client = task.client
    login = {"passed": True, "error": None}
    expected = (task.params.get("username") or "").strip()
    if not expected:
        raise ConfigurationError("username is required: the integration user the probes must run as")
    try:
        client.connect()
        # A connection option left unset falls back to a SALESFORCE_* variable, which under AWX is the
        # operator's credential: a probe that logged in as anyone else would verify the wrong user.
        actual = client.identity().get("username") or ""
        if actual.lower() != expected.lower():
            login = {"passed": False, "error": "the probe logged in as %s, not as %s: give the probe %s's own "
                     "credentials (its connected app's client id and key or secret)" % (actual, expected, expected)}
    except SalesforceModuleError as exc:
        login = {"passed": False, "error": exc.render()}
    results = []
    for probe in probes:
        item = dict(probe, passed=False, error=None, records=None)
        if not login["passed"]:
            item["error"] = "not run: the login failed"
        else:
            try:
                if probe["kind"] == "soql":
                    answer = client.query(probe["target"], tooling=probe["tooling"])
                    item["records"] = answer["total_size"]
                    item["passed"] = answer["total_size"] >= probe["min_records"]
                    if not item["passed"]:
                        item["error"] = "%d record(s), at least %d expected" % (answer["total_size"], probe["min_records"])
                elif probe["kind"] == "apexrest":
                    client.apex_get(probe["target"])
                    item["passed"] = True
                else:
                    client.get(probe["target"])
                    item["passed"] = True
            except SalesforceModuleError as exc:
                item["error"] = exc.render()
        results.append(item)
    return {"changed": False, "username": task.params.get("username"), "login": login,
            "passed": login["passed"] and all(r["passed"] for r in results), "results": results}


SPEC = ModuleSpec("sf_integration_probe", ARGUMENT_SPEC, run, supports_check_mode=True)
