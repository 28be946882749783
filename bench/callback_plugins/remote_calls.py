# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark callback: counts module executions on remote hosts and times every task.

Written for the benchmark harness (bench/run.py); works under ansible-core 2.16 (side B, the
generic stack from the ansible 9 package) and 2.19 (side A). Enable it with
ANSIBLE_CALLBACK_PLUGINS=<repo>/bench/callback_plugins ANSIBLE_CALLBACKS_ENABLED=remote_calls and
name the JSON file it writes at the end of the play run in BENCH_REMOTE_CALLS_FILE.

What counts as one remote module call: one result of a task on one host, or one loop item of it,
that ran on a remote host:
- a loop counts its items, never the summary result of the loop as well;
- a task skipped by its condition (or a loop over nothing) ran nothing and does not count; a module
  that ran and answered "skipped" (no check-mode support) does count: it was sent and executed;
- controller-only actions (set_fact, debug, assert, fail, meta, include_*/import_*, include_vars,
  add_host, group_by, set_stats, pause, validate_argument_spec) and tasks delegated to the
  controller (localhost / connection local) do not count;
- an action plugin that runs several modules for one task (template: stat + copy; package: a
  fact probe + the package manager) counts once: the figure is tasks executed remotely, per item.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: remote_calls
type: aggregate
short_description: counts remote module executions and times tasks (benchmark harness)
description:
  - Writes a JSON summary to the file named in the environment variable BENCH_REMOTE_CALLS_FILE.
requirements:
  - enable in ANSIBLE_CALLBACKS_ENABLED
"""

CONTROLLER_ONLY_ACTIONS = frozenset((
    "set_fact", "debug", "assert", "fail", "meta", "include_tasks", "import_tasks", "include_role",
    "import_role", "include_vars", "add_host", "group_by", "set_stats", "pause",
    "validate_argument_spec", "import_playbook", "include",
))
# Prefixes under which ansible-core names its own actions (task.action keeps what the play wrote).
CORE_PREFIXES = ("ansible.builtin.", "ansible.legacy.")
CONTROLLER_HOSTS = frozenset(("localhost", "127.0.0.1", "::1"))
# Skip results made on the controller (a false condition, an empty loop) carry one of these keys.
CONTROLLER_SKIP_KEYS = ("skip_reason", "skipped_reason")


def _task_of(result):
    # ansible-core 2.19 names it `task` (and keeps `_task` deprecated); 2.16 only has `_task`
    return getattr(result, "task", None) or result._task


def _host_of(result):
    return getattr(result, "host", None) or result._host


def _data_of(result):
    return getattr(result, "result", None) or result._result


def _short_action(action):
    for prefix in CORE_PREFIXES:
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "remote_calls"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._calls = {}
        self._tasks = []
        self._current = None
        self._started = time.monotonic()

    # --- task timing: from a task's start to the next task's start (or the end of the run) ---
    def _close_task(self):
        if self._current is not None:
            self._current["seconds"] = round(time.monotonic() - self._current.pop("_start"), 3)
            self._tasks.append(self._current)
            self._current = None

    def _open_task(self, task):
        self._close_task()
        self._current = {"name": task.get_name(), "action": task.action, "_start": time.monotonic()}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._open_task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._open_task(task)

    # --- remote call counting ---
    def _runs_remotely(self, result):
        task = _task_of(result)
        if _short_action(task.action) in CONTROLLER_ONLY_ACTIONS:
            return False
        delegated = _data_of(result).get("_ansible_delegated_vars") or {}
        if delegated.get("ansible_connection") == "local" or delegated.get("ansible_host") in CONTROLLER_HOSTS:
            return False
        return not (task.delegate_to and str(task.delegate_to) in CONTROLLER_HOSTS)

    def _count(self, result):
        if self._runs_remotely(result):
            host = _host_of(result).get_name()
            self._calls[host] = self._calls.get(host, 0) + 1
            if self._current is not None:
                self._current["remote_calls"] = self._current.get("remote_calls", 0) + 1

    def _count_unless_loop_summary(self, result):
        # a loop's items were counted one by one; its summary result holds them in "results"
        if "results" in _data_of(result) and _task_of(result).loop is not None:
            return
        self._count(result)

    def _count_unless_controller_skip(self, result):
        if not any(key in _data_of(result) for key in CONTROLLER_SKIP_KEYS):
            self._count_unless_loop_summary(result)

    def v2_runner_on_ok(self, result):
        self._count_unless_loop_summary(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count_unless_loop_summary(result)

    def v2_runner_on_skipped(self, result):
        self._count_unless_controller_skip(result)

    def v2_runner_item_on_ok(self, result):
        self._count(result)

    def v2_runner_item_on_failed(self, result):
        self._count(result)

    def v2_runner_item_on_skipped(self, result):
        if not any(key in _data_of(result) for key in CONTROLLER_SKIP_KEYS):
            self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        hosts = sorted(stats.processed.keys())
        summary = {
            "wall_seconds": round(time.monotonic() - self._started, 3),
            "remote_calls": sum(self._calls.values()),
            "remote_calls_per_host": self._calls,
            "recap": {host: stats.summarize(host) for host in hosts},
            "tasks": self._tasks,
        }
        path = os.environ.get("BENCH_REMOTE_CALLS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(summary, handle, indent=1)
