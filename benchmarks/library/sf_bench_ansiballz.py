# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark baseline: Salesforce reads from a conventional module shipped by AnsiballZ.

Not part of the collection. benchmarks/run.py runs it next to the collection's action plugins: it does
the same work per task (an OAuth client-credentials token, then the task's queries, several at once
through one composite call) the way a module usually would, importing requests and simple-salesforce
in a fresh Python process for every task. That start-up cost is what the comparison measures.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_bench_ansiballz
short_description: Benchmark baseline running Salesforce queries as a conventional module
description:
  - Gets a client-credentials token, then runs O(queries), one composite call when there are several.
options:
  login_url: {type: str, required: true, description: My Domain URL the token is requested from.}
  client_id: {type: str, required: true, description: Connected app consumer key.}
  client_secret: {type: str, required: true, no_log: true, description: Connected app consumer secret.}
  ca_path: {type: path, description: CA bundle to trust.}
  api_version: {type: str, default: '62.0', description: REST API version.}
  queries:
    type: list
    elements: dict
    required: true
    description: Each C({soql, tooling}).
author: sfops.integration_users contributors
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import requests
    from simple_salesforce import Salesforce
except ImportError:
    LIBRARY_ERROR = traceback.format_exc()
else:
    LIBRARY_ERROR = None


def token(session, params):
    answer = session.post(params["login_url"].rstrip("/") + "/services/oauth2/token", data={
        "grant_type": "client_credentials",
        "client_id": params["client_id"],
        "client_secret": params["client_secret"],
    }, timeout=30)
    answer.raise_for_status()
    return answer.json()


def run_queries(sf, queries, api_version):
    """Return total records per query; several standard queries go in one composite round trip."""
    standard = [q["soql"] for q in queries if not q.get("tooling")]
    sizes = []
    if len(standard) > 1:
        answer = sf.restful("composite", method="POST", json={"allOrNone": False, "compositeRequest": [
            {"method": "GET", "referenceId": "q%d" % index,
             "url": "/services/data/v%s/query?q=%s" % (api_version, requests.utils.quote(soql))}
            for index, soql in enumerate(standard)]})
        for sub in answer["compositeResponse"]:
            if sub["httpStatusCode"] != 200:
                raise RuntimeError("composite subrequest failed: %s" % sub["body"])
            sizes.append(sub["body"]["totalSize"])
    elif standard:
        sizes.append(sf.query_all(standard[0])["totalSize"])
    for query in queries:
        if query.get("tooling"):
            sizes.append(sf.toolingexecute("query/?q=" + requests.utils.quote(query["soql"]))["totalSize"])
    return sizes


def main():
    module = AnsibleModule(argument_spec=dict(
        login_url=dict(type="str", required=True),
        client_id=dict(type="str", required=True),
        client_secret=dict(type="str", required=True, no_log=True),
        ca_path=dict(type="path"),
        api_version=dict(type="str", default="62.0"),
        queries=dict(type="list", elements="dict", required=True),
    ), supports_check_mode=True)
    if LIBRARY_ERROR:
        module.fail_json(msg=missing_required_lib("requests and simple-salesforce"), exception=LIBRARY_ERROR)
    params = module.params
    session = requests.Session()
    session.trust_env = False
    session.verify = params["ca_path"] or True
    try:
        granted = token(session, params)
        sf = Salesforce(instance_url=granted["instance_url"], session_id=granted["access_token"],
                        session=session, version=params["api_version"])
        sizes = run_queries(sf, params["queries"], params["api_version"])
    except Exception as exc:  # pylint: disable=broad-exception-caught
        module.fail_json(msg="benchmark query failed: %s" % exc)
    module.exit_json(changed=False, total_sizes=sizes)


if __name__ == "__main__":
    main()
