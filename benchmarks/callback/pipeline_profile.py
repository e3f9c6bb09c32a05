# -*- coding: utf-8 -*-
# Copyright: sfops.integration_users contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counts what a playbook run executes, for benchmarks/pipeline.py (not part of the built collection).

Writes ``$SFOPS_PIPELINE_PROFILE`` (JSON) at the end of the run:

- ``host_tasks``: per-host task results (ok, changed, failed, skipped, included), in total and by action
  (``set_fact``, ``include_tasks``, the collection's modules...): Ansible's cost is per host and task;
- ``run_once``: the part of ``host_tasks`` run once per play (``run_once: true``: the report, its
  statistics), by action: a cost per play, not per org;
- ``loop_items``: per-host loop item results, by action (one task, several module calls);
- ``task_starts``: tasks started (a task object runs once for all its hosts), by action;
- ``task_seconds``: wall time from one task's start to the next one's, summed by action;
- ``plays``: each play's name and wall time (the pipeline's phases).
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: pipeline_profile
type: aggregate
short_description: counts tasks per host and action, times plays (benchmarks only)
description:
  - Writes task counts by action and play wall times to the JSON file named by SFOPS_PIPELINE_PROFILE.
requirements:
  - enable in configuration
"""

import json
import os
import time
from collections import Counter

from ansible.plugins.callback import CallbackBase


def _kind(task):
    action = task.action or "?"
    return action.rsplit(".", 1)[-1] if action.startswith(("ansible.builtin.", "ansible.legacy.")) else action


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "pipeline_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.host_tasks = Counter()
        self.run_once = Counter()
        self.hosts = Counter()
        self.loop_items = Counter()
        self.task_starts = Counter()
        self.task_seconds = Counter()
        self.statuses = Counter()
        self.plays = []
        self._task = None
        self._play_started = None
        self._started = time.perf_counter()

    def _close_task(self):
        now = time.perf_counter()
        if self._task is not None:
            self.task_seconds[self._task[0]] += now - self._task[1]
            self._task = None
        return now

    def _close_play(self):
        now = self._close_task()
        if self._play_started is not None:
            self.plays[-1]["seconds"] = round(now - self._play_started, 3)
        return now

    def v2_playbook_on_play_start(self, play):
        now = self._close_play()
        self.plays.append({"name": play.get_name(), "seconds": None})
        self._play_started = now

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = self._close_task()
        self.task_starts[_kind(task)] += 1
        self._task = (_kind(task), now)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _count(self, result, status):
        kind = _kind(result._task)
        self.host_tasks[kind] += 1
        if result._task.run_once:
            self.run_once[kind] += 1
        self.hosts[result._host.get_name()] += 1
        self.statuses[status] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        self.loop_items[_kind(result._task)] += 1

    v2_runner_item_on_failed = v2_runner_item_on_ok
    v2_runner_item_on_skipped = v2_runner_item_on_ok

    def v2_playbook_on_stats(self, stats):
        now = self._close_play()
        path = os.environ.get("SFOPS_PIPELINE_PROFILE")
        if not path:
            return
        profile = {
            "seconds": round(now - self._started, 3),
            "host_tasks": dict(self.host_tasks.most_common()),
            "host_tasks_total": sum(self.host_tasks.values()),
            "run_once": dict(self.run_once.most_common()),
            "run_once_total": sum(self.run_once.values()),
            "hosts": len(self.hosts),
            "statuses": dict(self.statuses),
            "loop_items": dict(self.loop_items.most_common()),
            "task_starts": dict(self.task_starts.most_common()),
            "task_starts_total": sum(self.task_starts.values()),
            "task_seconds": dict((k, round(v, 3)) for k, v in self.task_seconds.most_common()),
            "plays": self.plays,
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(profile, handle, indent=1)
