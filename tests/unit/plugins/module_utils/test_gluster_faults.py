# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gluster_replica_volume under faults, over gluster 10.3 output captured in the lab (lab flt): bricks that
come back by themselves after a glusterd restart, a killed brick process, a node that is powered off."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster as gluster
from ansible_collections.vmstorage.gluster.plugins.module_utils import _retry
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandRunner
from ansible_collections.vmstorage.gluster.tests.unit.helpers import ScriptedModule, gluster_fixture as fixture, gluster_params

NODES = ["node1", "node2", "node3"]
BRICK = "/srv/ledger/data"
NODE2_BRICK = "node2:" + BRICK
NODE3_BRICK = "node3:" + BRICK
POOL = ["--mode=script", "--xml", "pool", "list"]
INFO = ["--mode=script", "--xml", "volume", "info"]
STATUS = ["--mode=script", "--xml", "volume", "status", "all"]


def params(**overrides):
    return gluster_params(**dict(dict(name="ledger", brick_path=BRICK), **overrides))


def answer(argv, name):
    return (argv, (0, fixture(name), ""))


@pytest.fixture(name="on_node1")
def on_node1_fixture(monkeypatch):
    """observe() as it runs on node1 of the lab: the node names resolve, node1 is this node."""
    monkeypatch.setattr(gluster, "POLL_INTERVAL", 0)
    monkeypatch.setattr(gluster, "_host_names", lambda host: {host})
    monkeypatch.setattr(gluster, "_is_this_node", lambda names: "node1" in names)


def observed(answers, **overrides):
    module = ScriptedModule(answers)
    state = gluster.observe(CommandRunner(module), params(**overrides))
    assert not module.answers, "gluster was asked less than scripted"
    return state


def test_bricks_back_by_themselves_within_the_start_up_window_need_nothing(on_node1):
    # glusterd on node3 just restarted: its brick is offline at first, running a moment later
    state = observed([
        answer(POOL, "faults_pool_list.xml"),
        answer(INFO, "faults_volume_info.xml"),
        answer(STATUS, "faults_status_node3_brick_down.xml"),
        answer(POOL, "faults_pool_list.xml"),
        answer(STATUS, "faults_status_online.xml"),
    ])
    assert [brick.online for brick in state.volume.bricks] == [True, True, True]
    assert gluster.plan(state, params()) == []
    # the result shows the window was needed and used
    settle = gluster.report(None, state, state, params(), [])["bricks_settle"]
    assert settle["offline_at_first_look"] == ["node3:/srv/ledger/data"] and settle["waited"] >= 0, settle


def brick_down_state(monkeypatch, on="node1"):
    """node3's brick process killed and still down when the start-up window ends, as node1 or node3 (the
    brick's own node, where its directory is seen: a member's, with its volume id) reads it."""
    monkeypatch.setattr(gluster, "BRICK_SETTLE_TIME", 0)
    monkeypatch.setattr(gluster, "_is_this_node", lambda names: on in names)
    monkeypatch.setattr(gluster, "observe_brick_dir", lambda path: gluster.BrickDir(True, False, [".glusterfs"], "a-volume-id"))
    return observed([
        # the pool as that node lists it (itself as localhost): node1's from lab flt, node3's from lab exp
        answer(POOL, "faults_pool_list.xml" if on == "node1" else "blank_pool_list.xml"),
        answer(INFO, "faults_volume_info.xml"),
        answer(STATUS, "faults_status_node3_brick_down.xml"),
    ])


def test_a_killed_brick_is_started_on_its_node_with_volume_start_force(on_node1, monkeypatch):
    state = brick_down_state(monkeypatch, on="node3")
    actions = gluster.plan(state, params())
    assert [action.summary for action in actions] == ["start the offline bricks of ledger: " + NODE3_BRICK]
    module = ScriptedModule([(["--mode=script", "volume", "start", "ledger", "force"], (0, fixture("faults_start_force.txt"), ""))])
    gluster.apply(CommandRunner(module), state, params(), actions)
    assert not module.answers


def test_a_killed_brick_of_another_node_is_left_to_its_node(on_node1, monkeypatch):
    # `start force` from here would write the volume id into a blank directory there, unseen
    state = brick_down_state(monkeypatch)
    assert gluster.plan(state, params()) == []
    warnings = gluster.report(None, state, state, params(), [])["warnings"]
    assert len(warnings) == 1 and NODE3_BRICK in warnings[0] and "its node node3 is connected: run this module there" in warnings[0]


def test_check_mode_predicts_the_brick_back_online(on_node1, monkeypatch):
    state = brick_down_state(monkeypatch, on="node3")
    result = gluster.report(None, state, None, params(), gluster.plan(state, params()))
    assert result["diff"]["before"]["offline_bricks"] == [NODE3_BRICK]
    assert result["diff"]["after"]["offline_bricks"] == []
    assert "warnings" not in result


def test_state_present_reports_a_killed_brick_without_starting_it(on_node1, monkeypatch):
    state = brick_down_state(monkeypatch, on="node3")
    assert gluster.plan(state, params(state="present")) == []
    warnings = gluster.report(None, state, state, params(state="present"), [])["warnings"]
    assert len(warnings) == 1
    assert NODE3_BRICK in warnings[0] and "gluster volume start ledger force" in warnings[0]


def observed_offline(monkeypatch, pool_fixture, status_fixture):
    """The volume observed once (no start-up window) with one brick offline: (state, plan, report)."""
    monkeypatch.setattr(gluster, "BRICK_SETTLE_TIME", 0)
    state = observed([answer(POOL, pool_fixture), answer(INFO, "faults_volume_info.xml"), answer(STATUS, status_fixture)])
    return state, gluster.plan(state, params()), gluster.report(None, state, state, params(), [])


def test_a_brick_on_a_powered_off_node_is_reported_not_started(on_node1, monkeypatch):
    state, actions, result = observed_offline(monkeypatch, "faults_pool_list_node2_down.xml", "faults_status_node2_down.xml")
    assert [brick.online for brick in state.volume.bricks] == [True, False, True]
    assert actions == []
    assert result["diff"]["after"]["offline_bricks"] == [NODE2_BRICK]
    assert len(result["warnings"]) == 1
    assert NODE2_BRICK in result["warnings"][0] and "node node2 is not connected" in result["warnings"][0]


def test_the_start_up_window_is_bounded(on_node1, monkeypatch):
    clock = iter(range(0, 100, 4))
    monkeypatch.setattr(_retry.time, "monotonic", lambda: next(clock))
    # 10 s of window at 4 s per poll: the first answer and two more, then the brick is down
    state = observed([answer(POOL, "faults_pool_list.xml"), answer(INFO, "faults_volume_info.xml")] + [
        answer(STATUS, "faults_status_node3_brick_down.xml"), answer(POOL, "faults_pool_list.xml")] * 2 + [
        answer(STATUS, "faults_status_node3_brick_down.xml")])
    assert [brick.online for brick in state.volume.bricks] == [True, True, False]
    assert state.volume.settle["offline_at_first_look"] == ["node3:/srv/ledger/data"], state.volume.settle
    assert state.volume.settle["waited"] >= gluster.BRICK_SETTLE_TIME, state.volume.settle


def test_a_brick_running_without_a_port_is_reported_with_its_pid_not_forced(on_node1, monkeypatch):
    # glusterfs 10.3 after a restart of every glusterd: node3's brick runs, its port is N/A for good
    state, actions, result = observed_offline(monkeypatch, "faults_pool_list.xml", "faults_status_node3_portless.xml")
    assert [brick.online for brick in state.volume.bricks] == [True, True, False]
    assert actions == []  # `volume start force` leaves a running brick as it is
    assert result["diff"]["after"]["offline_bricks"] == [NODE3_BRICK]
    assert len(result["warnings"]) == 1
    assert "glusterd lists its process 2203 without a port" in result["warnings"][0]


def test_a_local_reader_does_not_trust_a_brick_without_a_port():
    online = gluster.parse_brick_status(fixture("faults_status_node3_portless.xml"))
    assert sorted(online.values()) == [False, True, True]
    assert list(gluster.parse_portless_bricks(fixture("faults_status_node3_portless.xml")).values()) == [2203]


def timed_out(argv):
    """A cluster-wide query that a peer lost a moment ago never answered (F01 in CI, 2026-12-03)."""
    return (argv, (1, fixture("faults_status_request_timed_out.txt"), ""))


def test_a_query_a_lost_peer_never_answered_is_asked_again(on_node1, monkeypatch):
    # node2 lost power; glusterd noticed it between the two status reads
    monkeypatch.setattr(gluster, "BRICK_SETTLE_TIME", 0)
    state = observed([
        answer(POOL, "faults_pool_list.xml"),
        answer(INFO, "faults_volume_info.xml"),
        timed_out(STATUS),
        answer(STATUS, "faults_status_node2_down.xml"),
    ], peer_timeout=60)
    assert [brick.online for brick in state.volume.bricks] == [True, False, True]


def test_a_query_still_unanswered_at_the_deadline_names_the_disconnected_peers(on_node1, monkeypatch):
    monkeypatch.setattr(gluster, "BRICK_SETTLE_TIME", 0)
    with pytest.raises(gluster.GlusterError) as failure:
        observed([
            answer(POOL, "faults_pool_list.xml"),
            answer(INFO, "faults_volume_info.xml"),
            timed_out(STATUS),
            answer(POOL, "faults_pool_list_node2_down.xml"),
        ], peer_timeout=0)
    message = str(failure.value)
    assert "Request timed out" in message and "peers disconnected now: node2" in message, message
