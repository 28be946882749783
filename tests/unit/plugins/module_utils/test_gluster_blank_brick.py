# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gluster_replica_volume on the node of an offline brick, over glusterfs 10.3 output captured in the lab
(fixtures blank_*: node3's brick filesystem made again after a dead disk): reset-brick and a full heal for a
blank brick, the refusals when that is not safe, and a brick process left without a port."""

from __future__ import annotations

import os

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster as gluster
from ansible_collections.vmstorage.gluster.plugins.module_utils._kinds import Kind
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Refusal
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandRunner
from ansible_collections.vmstorage.gluster.tests.unit.helpers import ScriptedModule, gluster_fixture as fixture, gluster_params

BRICK = "/srv/t1/data"
NODE3_BRICK = "node3:" + BRICK
POOL = ["--mode=script", "--xml", "pool", "list"]
INFO = ["--mode=script", "--xml", "volume", "info"]
STATUS = ["--mode=script", "--xml", "volume", "status", "all"]
HEAL = ["--mode=script", "--xml", "volume", "heal", "t1", "info", "summary"]
RESET_START = ["--mode=script", "volume", "reset-brick", "t1", NODE3_BRICK, "start"]
RESET_COMMIT = ["--mode=script", "volume", "reset-brick", "t1", NODE3_BRICK, NODE3_BRICK, "commit", "force"]
HEAL_FULL = ["--mode=script", "volume", "heal", "t1", "full"]
BLANK = gluster.BrickDir(is_dir=True, on_root_fs=False)


def params(**overrides):
    return gluster_params(**dict(dict(name="t1", brick_path=BRICK), **overrides))


def answer(argv, name, rc=0):
    return (argv, (rc, fixture(name), ""))


@pytest.fixture(name="on_node3")
def on_node3_fixture(monkeypatch):
    """observe() as the volume role's second pass runs it on node3: names resolve, node3 is this node, the
    start-up window is over (the brick stayed offline)."""
    monkeypatch.setattr(gluster, "POLL_INTERVAL", 0)
    monkeypatch.setattr(gluster, "BRICK_SETTLE_TIME", 0)
    monkeypatch.setattr(gluster, "_host_names", lambda host: {host})
    monkeypatch.setattr(gluster, "_is_this_node", lambda names: "node3" in names)
    monkeypatch.setattr(gluster, "_observe_new_bricks", lambda state, params: None)


def observed(monkeypatch, brick_dir, heal=True, pool="blank_pool_list.xml"):
    monkeypatch.setattr(gluster, "observe_brick_dir", lambda path: brick_dir)
    answers = [answer(POOL, pool), answer(INFO, "blank_volume_info.xml"), answer(STATUS, "blank_status_all.xml")]
    if heal:
        answers.append(answer(HEAL, "blank_heal_summary.xml"))
    module = ScriptedModule(answers)
    state = gluster.observe(CommandRunner(module), params())
    assert not module.answers, "gluster was asked less than scripted"
    return state


def test_a_blank_brick_of_this_node_is_reset_then_the_volume_fully_healed(on_node3, monkeypatch):
    state = observed(monkeypatch, BLANK)
    assert state.brick_dirs == {NODE3_BRICK: BLANK}
    actions = gluster.plan(state, params())
    assert [(action.kind, action.argv[1:]) for action in actions] == [
        (Kind.RESET_BRICK, RESET_START), (Kind.RESET_BRICK, RESET_COMMIT), (Kind.HEAL_FULL, HEAL_FULL)]
    # the heal is refused at once after the commit (the self-heal daemons restart): asked again until it runs
    module = ScriptedModule([answer(RESET_START, "blank_reset_brick_start.txt"), answer(RESET_COMMIT, "blank_reset_brick_commit.txt"),
                             answer(HEAL_FULL, "blank_heal_full_unsuccessful.txt", rc=1), answer(HEAL_FULL, "blank_heal_full.txt")])
    monkeypatch.setattr(gluster, "POLL_INTERVAL", 0)
    gluster.apply(CommandRunner(module), state, params(), actions)
    assert not module.answers


def test_check_mode_predicts_the_blank_brick_online(on_node3, monkeypatch):
    state = observed(monkeypatch, BLANK)
    result = gluster.report(None, state, None, params(), gluster.plan(state, params()))
    assert result["diff"]["before"]["offline_bricks"] == [NODE3_BRICK]
    assert result["diff"]["after"]["offline_bricks"] == []


@pytest.mark.parametrize("brick_dir, problem, found", [
    (gluster.BrickDir(is_dir=True, on_root_fs=False, entries=["disk.img"]), "holds files but no volume id", BRICK + " holds disk.img"),
    (gluster.BrickDir(is_dir=True, on_root_fs=True), "filesystem is not there", BRICK + " is on the root filesystem"),
    (gluster.BrickDir(is_dir=False, on_root_fs=True, exists=False), "filesystem is not there", "missing, its nearest parent on the root"),
    (gluster.BrickDir(is_dir=False, on_root_fs=False, exists=False), "filesystem is not there", BRICK + " is missing"),
    (gluster.BrickDir(is_dir=False, on_root_fs=False), "not a directory", BRICK + " is a symlink or a file"),
])
def test_a_brick_without_a_volume_id_that_is_not_blank_is_refused(on_node3, monkeypatch, brick_dir, problem, found):
    state = observed(monkeypatch, brick_dir, heal=False)
    with pytest.raises(Refusal) as refused:
        gluster.plan(state, params())
    assert problem in refused.value.problem and found in refused.value.found, str(refused.value)
    assert "nothing was changed" in refused.value.remedy


def test_a_blank_brick_whose_partner_is_offline_is_refused(on_node3, monkeypatch):
    state = observed(monkeypatch, BLANK)
    state.volume.bricks[1].online = False
    with pytest.raises(Refusal) as refused:
        gluster.plan(state, params())
    assert refused.value.found == "offline: node2:" + BRICK, str(refused.value)


def test_a_blank_brick_whose_partners_are_in_split_brain_is_refused(on_node3, monkeypatch):
    state = observed(monkeypatch, BLANK)
    state.heal["node1:" + BRICK].split_brain = 1
    with pytest.raises(Refusal) as refused:
        gluster.plan(state, params())
    assert "split-brain node1:%s: 1" % BRICK in refused.value.found, str(refused.value)


def test_a_brick_of_another_node_is_left_to_its_node(monkeypatch):
    # the same state read on node1: node3's directory cannot be seen from here
    monkeypatch.setattr(gluster, "POLL_INTERVAL", 0)
    monkeypatch.setattr(gluster, "BRICK_SETTLE_TIME", 0)
    monkeypatch.setattr(gluster, "_host_names", lambda host: {host})
    monkeypatch.setattr(gluster, "_is_this_node", lambda names: "node1" in names)
    monkeypatch.setattr(gluster, "_observe_new_bricks", lambda state, params: None)
    state = observed(monkeypatch, BLANK, heal=False, pool="faults_pool_list.xml")  # a pool read on node1
    assert state.brick_dirs == {}
    assert gluster.plan(state, params()) == []  # `start force` from here would write the volume id into it, unseen
    warning = gluster.report(None, state, state, params(), [])["warnings"][0]
    assert "its node node3 is connected: run this module there" in warning and "reset-brick" in warning


def test_a_brick_of_this_node_without_a_port_is_ended_then_started(on_node3, monkeypatch):
    monkeypatch.setattr(gluster, "_is_this_node", lambda names: "node3" in names)
    monkeypatch.setattr(gluster, "observe_brick_dir", lambda path: gluster.BrickDir(True, False, [".glusterfs"], "07eb212c"))
    # the pool as node3 reads it (blank_*), volume ledger's state from lab flt: node3's brick runs without a port
    module = ScriptedModule([answer(POOL, "blank_pool_list.xml"), answer(INFO, "faults_volume_info.xml"),
                             answer(STATUS, "faults_status_node3_portless.xml")])
    state = gluster.observe(CommandRunner(module), params(name="ledger", brick_path="/srv/ledger/data"))
    actions = gluster.plan(state, params(name="ledger", brick_path="/srv/ledger/data"))
    assert [action.kind for action in actions] == [Kind.END_PORTLESS_BRICK, Kind.START_BRICKS]
    assert actions[0].params == {"pid": 2203, "path": "/srv/ledger/data"}


def test_a_pid_that_is_no_brick_of_that_path_is_not_signalled(monkeypatch):
    killed = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append(pid))
    gluster._end_brick_process(os.getpid(), "/srv/ledger/data")  # this test's own PID: python, not glusterfsd
    gluster._end_brick_process(2 ** 22 + 1, "/srv/ledger/data")  # no such process
    assert killed == []


def test_the_brick_directory_is_read_without_following_links(tmp_path):
    brick = tmp_path / "data"
    brick.mkdir()
    assert gluster.observe_brick_dir(str(brick)) == gluster.BrickDir(True, os.stat(str(tmp_path)).st_dev == os.stat("/").st_dev)
    (brick / "disk.img").write_bytes(b"")
    assert gluster.observe_brick_dir(str(brick)).entries == ["disk.img"]
    link = tmp_path / "link"
    link.symlink_to(brick)
    assert not gluster.observe_brick_dir(str(link)).is_dir and gluster.observe_brick_dir(str(link)).exists
    assert not gluster.observe_brick_dir(str(tmp_path / "missing" / "data")).exists
