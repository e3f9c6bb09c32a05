# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an org: named queries through composite calls, every page finished.

The one place that turns ``[(name, soql)]`` into ``{name: records}``; every module reading
several things at once goes through ``run_queries`` so the composite limits live here only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Salesforce accepts at most five query subrequests in one composite call.
QUERIES_PER_COMPOSITE = 5


def run_queries(client, named_queries):
    """{name: all records} for [(name, soql)]: the first pages in composite calls, then the rest.

    A composite call counts as one API call whatever it holds; Salesforce reportedly accepts at most
    five queries in one, so larger batches are split.
    """
    named_queries = list(named_queries)
    results = {}
    if len(named_queries) == 1:
        name, soql = named_queries[0]
        results[name] = client.query(soql)["records"]
        return results
    for start in range(0, len(named_queries), QUERIES_PER_COMPOSITE):
        chunk = named_queries[start:start + QUERIES_PER_COMPOSITE]
        bodies = client.composite([client.query_subrequest(name, soql) for name, soql in chunk])
        for name, _soql in chunk:
            results[name] = client.finish_query(bodies[name])["records"]
    return results
