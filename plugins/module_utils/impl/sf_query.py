# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Implementation of sf_query: read-only SOQL, standard or Tooling API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sfops.integration_users.plugins.module_utils.errors import ConfigurationError
from ansible_collections.sfops.integration_users.plugins.module_utils.runner import ModuleSpec

ARGUMENT_SPEC = dict(
    query=dict(type="str", required=True, aliases=["soql"]),
    tooling=dict(type="bool", default=False),
    include_attributes=dict(type="bool", default=False),
    batch_size=dict(type="int"),
)


def strip_attributes(value):
    """Records without the ``attributes`` envelope, recursively (relationship records and
    child-subquery envelopes included)."""
    if isinstance(value, list):
        return [strip_attributes(item) for item in value]
    if isinstance(value, dict):
        return dict((key, strip_attributes(item)) for key, item in value.items() if key != "attributes")
    return value


def run(task):
    # A query never changes the org, so check mode runs it too: the result is the same.
    batch_size = task.params.get("batch_size")
    if batch_size is not None and not 200 <= batch_size <= 2000:
        raise ConfigurationError("batch_size must be between 200 and 2000 (got %d)" % batch_size)
    answer = task.client.query(task.params["query"], tooling=task.params["tooling"], batch_size=batch_size)
    records = answer["records"]
    if not task.params["include_attributes"]:
        records = strip_attributes(records)
    return {"changed": False, "records": records, "total_size": answer["total_size"]}


SPEC = ModuleSpec("sf_query", ARGUMENT_SPEC, run, supports_check_mode=True)
