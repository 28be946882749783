# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/streams.py's pure parts: how scenarios become streams, and what a failed stream says last."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import streams  # noqa: E402  pylint: disable=wrong-import-position

# a failed stream's output as tests/phase printed it (a lab run, 2026-12-03), shortened
FAILED_STREAM = """\
==> phase lab-up-stream-1: passed in 5 s
==> phase molecule-gluster_replica_volume: /work/main/tests/lab/lab run molecule test -s gluster_replica_volume
CRITICAL The source path '/var/tmp/vmstorage-lab/r-1/inventory.yml' does not exist.
==> phase molecule-gluster_replica_volume: why it failed (from .build/phases/molecule-gluster_replica_volume.log):
FileNotFoundError: [Errno 2] No such file or directory: 'ansible-config'
==> phase molecule-gluster_replica_volume: FAILED (exit 1) after 2 s
==> phase lab-down-stream-1: /work/main/tests/lab/lab down
==> phase lab-down-stream-1: why it failed (from .build/phases/lab-down-stream-1.log):
==> phase lab-down-stream-1: FAILED (exit 1) after 6 s
"""


def test_the_reasons_of_each_failed_phase_come_out_named():
    assert streams.failure_reasons(FAILED_STREAM) == [
        "molecule-gluster_replica_volume: FileNotFoundError: [Errno 2] No such file or directory: 'ansible-config'"]


def test_reasons_are_the_last_lines_shortened():
    body = "".join("fatal: [node%d]: FAILED! %s\n" % (n, "x" * 400) for n in range(12))
    text = "==> phase p: why it failed (from p.log):\n%s==> phase p: FAILED (exit 2) after 1 s\n" % body
    reasons = streams.failure_reasons(text, lines=3, width=20)
    assert reasons == ["p: fatal: [node9]: FAIL", "p: fatal: [node10]: FAI", "p: fatal: [node11]: FAI"]


def test_a_scenario_no_stream_names_joins_the_shortest_and_stock_runs_apart():
    planned = streams.plan(["a", "b", "c", "d", "default"], [["a", "b"], ["c"]], ["default"], ["bookworm"], "lab")
    assert [(name, lab, scenarios) for name, lab, _env, scenarios in planned] == [
        ("stream-1", "lab-1", ["a", "b"]), ("stream-2", "lab-2", ["c", "d"]), ("stock-bookworm", "lab-bookworm", ["default"])]
    assert planned[2][2]["VMSTORAGE_LAB_IMAGE"] == "stock"
