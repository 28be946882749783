# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check mode of the whole site on fresh nodes: reports what a run would do, changes nothing."""

from __future__ import annotations

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources"))

import labsite  # noqa: E402  pylint: disable=wrong-import-position


def test_check_run_on_fresh_nodes_predicts_changes_and_changes_nothing():
    before = labsite.snapshot()
    rc, output, recap = labsite.run_site("--check", "--diff", "-v")
    after = labsite.snapshot()

    assert rc == 0, output[-4000:]
    # the site's first play (its checks, on the controller) counts localhost too: it changes nothing
    assert recap.pop("localhost", {}).get("changed", 0) == 0, recap
    assert sorted(recap) == list(labsite.NODES), output[-2000:]
    for name, counts in recap.items():
        assert counts["failed"] == 0 and counts["unreachable"] == 0, (name, counts)
        assert counts["changed"] > 0, "%s: a check run on fresh nodes must report changes: %s" % (name, counts)
    # what a real run does is predicted: the thin LVs, the filesystems, the volumes and the disks
    for predicted in ("create thin LV ThinGroup/mapserver of 100 GiB", "create btrfs labelled 'mapserver'", "create volume mapserver: replica 3",
                      "create qed image of 50 GiB at mapserver/disk.img"):
        assert predicted in output, "check run does not predict %r" % predicted
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, "check mode changed %s" % changed


def test_a_bad_variable_is_rejected_by_the_argument_specs_before_any_task():
    before = labsite.snapshot()
    bad_vms = '{"vmstorage_vms": [{"name": "mapserver", "brick_size": "100G", "disk_format": "vmdk"}]}'
    rc, output, recap = labsite.run_site("-e", bad_vms)
    assert rc != 0
    assert "value of disk_format must be one of: qcow2, raw, qed, got: vmdk" in output
    # the brick role's argument validation is the first task after the site's controller-side checks (asserts
    # over variables, also counted for the nodes): it fails on every node, nothing changed anywhere
    assert recap.pop("localhost")["changed"] == 0, recap
    assert sorted(recap) == list(labsite.NODES), recap
    assert all(counts["changed"] == 0 and counts["failed"] == 1 for counts in recap.values()), recap
    tasks = re.findall(r"^TASK \[([^\]]*)\]", output.split("Validation of arguments failed", 1)[0], re.MULTILINE)
    assert tasks[-1].startswith("vmstorage.gluster.brick : Validating arguments against arg spec"), tasks
    assert all(task.startswith(("Check ", "vmstorage.gluster.volume : Check ")) for task in tasks[:-1]), tasks
    assert labsite.snapshot() == before
