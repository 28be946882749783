# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gluster_heal_info's reading of heal info and volume status, as captured in the lab (fixtures/gluster/heal_*)."""

from __future__ import annotations

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster, _heal
from ansible_collections.vmstorage.gluster.plugins.module_utils._retry import Deadline
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandRunner

from ansible_collections.vmstorage.gluster.tests.unit.helpers import ScriptedModule, gluster_fixture

BRICKS = ["node%d:/srv/mapserver/data" % index for index in (1, 2, 3)]


def mapserver():
    return _gluster.parse_volumes(gluster_fixture("heal_volume_info.xml"))["mapserver"]


def answers(status, summary):
    """What node1 answered, in the order observe() asks, for the volume mapserver."""
    return [(["--mode=script", "--xml", "volume", "info"], (0, gluster_fixture("heal_volume_info.xml"), "")),
            (["--mode=script", "--xml", "volume", "status", "mapserver"], (0, gluster_fixture(status), "")),
            (["--mode=script", "--xml", "volume", "heal", "mapserver", "info", "summary"], (0, gluster_fixture(summary), ""))]


def observe(status, summary):
    module = ScriptedModule(answers(status, summary))
    seen, missing, existing = _heal.observe(CommandRunner(module), ["mapserver"], Deadline("test", 5))
    assert not missing and existing == ["mapserver", "webfront"]
    return seen[0]


def test_summary_of_a_healthy_volume_counts_nothing():
    summary = _gluster.parse_heal_summary(gluster_fixture("heal_summary_healthy.xml"))
    assert [(counts.connected, counts.pending, counts.split_brain) for counts in summary.values()] == [(True, 0, 0)] * 3


def test_summary_with_a_brick_down_has_no_counts_for_it_and_the_pending_entries_of_the_others():
    summary = _gluster.parse_heal_summary(gluster_fixture("heal_summary_node3_brick_down.xml"))
    assert [summary[brick].pending for brick in BRICKS] == [14, 14, None]
    assert not summary[BRICKS[2]].connected
    # glusterfs 10.3 glues a stray tag name to the status of the brick it could not read
    assert summary[BRICKS[2]].status.startswith("Failed to process entries completely. (Transport endpoint is not connected)")


def test_summary_while_healing():
    summary = _gluster.parse_heal_summary(gluster_fixture("heal_summary_healing.xml"))
    assert [(summary[b].pending, summary[b].possibly_healing) for b in BRICKS] == [(5, 8), (6, 0), (0, 0)]


def test_heal_daemons_are_named_as_the_bricks_name_their_nodes():
    # status calls the node it runs on 'localhost'; the peer uuid says which brick host that is
    daemons = _heal.parse_heal_daemons(gluster_fixture("heal_status_node3_brick_down.xml"), mapserver())
    assert daemons == {"node1": True, "node2": True, "node3": True}


def test_healthy_volume_has_no_problems():
    health = observe("heal_status_healthy.xml", "heal_summary_healthy.xml")
    result = _heal.as_dict(health)
    assert result["healthy"] and result["problems"] == [] and result["bricks_online"] == 3
    assert (result["entries_pending_heal"], result["entries_in_split_brain"]) == (0, 0)


def test_brick_down_is_named_with_the_entries_waiting_for_it():
    health = observe("heal_status_node3_brick_down.xml", "heal_summary_node3_brick_down.xml")
    result = _heal.as_dict(health)
    assert not result["healthy"] and result["bricks_online"] == 2
    assert result["problems"] == [
        "volume mapserver: bricks offline: node3:/srv/mapserver/data",
        "volume mapserver: entries waiting for heal: 14 on node1:/srv/mapserver/data, 14 on node2:/srv/mapserver/data"]
    node3 = result["bricks"][2]
    assert (node3["online"], node3["entries_pending_heal"]) == (False, None)
    assert result["entries_pending_heal"] == 28


def test_a_stopped_volume_is_not_asked_for_status_or_heal():
    volume = mapserver()
    volume.status = "Stopped"
    result = _heal.as_dict(_heal.VolumeHealth(volume))
    assert result["problems"] == ["volume mapserver is stopped: no brick serves it"]
    assert result["entries_pending_heal"] is None


def test_split_brain_and_a_stopped_heal_daemon_are_problems():
    health = observe("heal_status_healthy.xml", "heal_summary_healthy.xml")
    health.heal[BRICKS[0]].split_brain = 2
    health.heal_daemons["node2"] = False
    assert _heal.problems(health) == [
        "volume mapserver: entries in split-brain: 2 on node1:/srv/mapserver/data",
        "volume mapserver: self-heal daemon not running on node2"]
    health.volume.reconfigured["cluster.self-heal-daemon"] = "off"
    assert _heal.problems(health) == ["volume mapserver: entries in split-brain: 2 on node1:/srv/mapserver/data"]


def test_wait_asks_again_until_healed(monkeypatch):
    monkeypatch.setattr(_heal, "POLL_INTERVAL", 0)
    module = ScriptedModule(answers("heal_status_node3_brick_down.xml", "heal_summary_node3_brick_down.xml")
                            + answers("heal_status_healthy.xml", "heal_summary_healing.xml")
                            + answers("heal_status_healthy.xml", "heal_summary_healthy.xml"))
    seen, missing, _existing, _waited = _heal.wait(CommandRunner(module), ["mapserver"], 30)
    assert not missing and _heal.problems(seen[0]) == [] and not module.answers


def test_without_wait_timeout_one_read():
    module = ScriptedModule(answers("heal_status_node3_brick_down.xml", "heal_summary_node3_brick_down.xml"))
    seen, _missing, _existing, _waited = _heal.wait(CommandRunner(module), ["mapserver"], 0)
    assert _heal.problems(seen[0]) and not module.answers
