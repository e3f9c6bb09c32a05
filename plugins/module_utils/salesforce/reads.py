# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an org: named subrequests through composite calls, every query's pages finished.

The one place that turns composite answers into values: every module reading several things at
once goes through ``read_subrequests`` (each answer or its error), ``read_all`` (the first error
raised) or ``run_queries`` (queries by name). How many subrequests one call holds is the client's
business (``client.composite`` splits as Salesforce requires).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import error_from_rest_body


def _is_query(subrequest):
    path = (subrequest.get("url") or "").split("?", 1)[0]
    return subrequest.get("method", "GET") == "GET" and path.endswith("/query")


def read_subrequests(client, subrequests, tooling=False):
    """``{referenceId: (value, None) | (None, error)}`` for composite GET subrequests.

    A query's value is its records, every page fetched; another resource's value is its body. A
    failed subrequest's error is the ``errors`` class ``error_from_rest_body`` gives, with the org
    and user of the client; the others are read all the same."""
    subrequests = list(subrequests)
    queries = set(sub["referenceId"] for sub in subrequests if _is_query(sub))
    out = {}
    for reference, answer in client.composite(subrequests, raise_on_error=False, tooling=tooling).items():
        status = answer.get("status")
        if status is not None and status < 300:
            body = answer.get("body")
            out[reference] = (client.finish_query(body)["records"] if reference in queries else body, None)
        else:
            error = error_from_rest_body(answer.get("body"), status, reference=reference)
            out[reference] = (None, error.with_context(client.org, client.user))
    return out


def read_all(client, subrequests, tooling=False):
    """``{referenceId: value}`` (values as ``read_subrequests`` gives them); the first failed
    subrequest raises its error (``client.composite`` names the reference)."""
    subrequests = list(subrequests)
    queries = set(sub["referenceId"] for sub in subrequests if _is_query(sub))
    bodies = client.composite(subrequests, tooling=tooling)
    return dict((reference, client.finish_query(body)["records"] if reference in queries else body)
                for reference, body in bodies.items())


def run_queries(client, named_queries, tooling=False):
    """``{name: all records}`` for ``[(name, soql)]``: one GET for a single query, else composite
    calls (one API call whatever they hold), then the remaining pages."""
    named_queries = list(named_queries)
    if len(named_queries) == 1:
        name, soql = named_queries[0]
        return {name: client.query(soql, tooling=tooling)["records"]}
    return read_all(client, [client.query_subrequest(name, soql, tooling=tooling) for name, soql in named_queries],
                    tooling=tooling)
