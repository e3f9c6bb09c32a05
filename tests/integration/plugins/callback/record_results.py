# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: write every task result of a playbook run to the JSON file named by
``SFOPS_RESULTS_FILE`` (one line per result), so the integration tests read what Ansible returned
instead of parsing the console."""

from __future__ import annotations

DOCUMENTATION = r"""
name: record_results
type: aggregate
short_description: Record task results as JSON lines (integration tests only)
description:
  - Appends one JSON object per task result to the file named by the environment variable C(SFOPS_RESULTS_FILE).
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, status, result):
        path = os.environ.get("SFOPS_RESULTS_FILE")
        if not path:
            return
        host = getattr(result, "host", None) or getattr(result, "_host")
        task = getattr(result, "task", None) or getattr(result, "_task")
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        data = json.loads(json.dumps(data, default=str))
        # Callbacks get the result without its `failed` flag (the status says it): put it back so
        # tests read the result as `register` would give it.
        if status == "failed":
            data["failed"] = True
        line = {"host": host.get_name(), "task": task.get_name(), "status": status, "result": data}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")

    def v2_runner_on_ok(self, result):
        self._record("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record("failed", result)

    def v2_runner_on_skipped(self, result):
        self._record("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._record("unreachable", result)
