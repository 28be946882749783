# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers and plan() of gluster_replica_volume over gluster 10.3 output captured in the lab."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster as gluster
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Refusal
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner
from ansible_collections.vmstorage.gluster.tests.unit.helpers import GLUSTER_BRICK as BRICK, GLUSTER_NODES as NODES, ScriptedModule, gluster_fixture as fixture
from ansible_collections.vmstorage.gluster.tests.unit.helpers import gluster_params as params

SECOND = "/srv/vmdisks2/data"


def six_bricks():
    return ["%s:%s" % (node, path) for path in (BRICK, SECOND) for node in NODES]


def lab_hosts():
    """How observe() resolves the lab's hosts on node1 (from its /etc/hosts)."""
    return {"node%d" % index: {"node%d" % index, "10.102.193.%d" % (10 + index)} for index in (1, 2, 3)}


def state_from(pool="pool_list_alone.xml", info="volume_info_empty.xml", get=None, status=None, groups=None):
    """A ClusterState built from captured output, as observe() builds it on node1."""
    volume = gluster.parse_volumes(fixture(info)).get("vmdisks")
    options = None
    if get:
        options = dict(volume.reconfigured)
        options.update(gluster.parse_volume_get(fixture(get)))
    if volume is not None and status:
        online = gluster.parse_brick_status(fixture(status))
        for brick in volume.bricks:
            brick.online = online.get((brick.uuid, brick.path), False)
    known = set(gluster.parse_volume_get(fixture(get))) if get else gluster.parse_option_help(fixture("volume_set_help.xml"))
    return gluster.ClusterState(volume, gluster.parse_pool(fixture(pool)), lab_hosts(), {"node1", "10.102.193.11"}, options, known,
                                groups if groups is not None else {})


def created_state():
    return state_from("pool_list_three.xml", "volume_info_replica3.xml", "volume_get_all.xml", "volume_status_replica3.xml",
                      groups={"virt": gluster.parse_group_file(fixture("group_virt"))})


# ---------------------------------------------------------------- parsers

def test_pool_of_a_fresh_node_is_only_itself():
    peers = gluster.parse_pool(fixture("pool_list_alone.xml"))
    assert [peer.is_self for peer in peers] == [True]
    assert peers[0].connected and peers[0].state == ""  # gluster gives no state for itself


def test_pool_after_probes_has_three_ready_members():
    peers = gluster.parse_pool(fixture("pool_list_three.xml"))
    assert len(peers) == 3
    assert [peer.ready for peer in peers if not peer.is_self] == [True, True]
    assert sorted(name for peer in peers if not peer.is_self for name in peer.hostnames) == ["node2", "node3"]


def test_no_volumes():
    assert gluster.parse_volumes(fixture("volume_info_empty.xml")) == {}


def test_replica3_volume_info():
    volume = gluster.parse_volumes(fixture("volume_info_replica3.xml"))["vmdisks"]
    assert (volume.type, volume.status, volume.replica, volume.arbiter) == ("Replicate", "Started", 3, 0)
    assert [brick.spec for brick in volume.bricks] == ["%s:%s" % (node, BRICK) for node in NODES]
    assert len(volume.id) == 36
    assert volume.reconfigured["performance.cache-size"] == "64MB"


def test_distributed_replicate_volume_info_is_not_read_from_the_brick_count():
    volume = gluster.parse_volumes(fixture("volume_info_dist_replicate.xml"))["vmdisks"]
    assert (volume.type, volume.replica, len(volume.bricks)) == ("Distributed-Replicate", 3, 6)
    assert [brick.spec for brick in volume.bricks] == six_bricks()


def test_arbiter_volume_info():
    volume = gluster.parse_volumes(fixture("volume_info_arbiter.xml"))["vmarb"]
    assert (volume.type, volume.replica, volume.arbiter) == ("Replicate", 3, 1)
    assert [brick.arbiter for brick in volume.bricks] == [False, False, True]


def test_brick_status_matches_bricks_by_peer_and_path():
    state = created_state()
    assert [brick.online for brick in state.volume.bricks] == [True, True, True]
    online = gluster.parse_brick_status(fixture("volume_status_replica3.xml"))
    assert len(online) == 3  # the self-heal daemons are not bricks


def test_volume_get_drops_default_marks():
    options = gluster.parse_volume_get(fixture("volume_get_all.xml"))
    assert options["performance.cache-size"] == "64MB"
    assert options["features.shard"] == "on"
    assert not any(value.endswith("(DEFAULT)") for value in options.values())
    assert len(options) > 300


def test_help_lists_the_documented_keys():
    keys = gluster.parse_option_help(fixture("volume_set_help.xml"))
    assert {"performance.cache-size", "auth.allow", "features.shard"} <= keys


def test_virt_group_file():
    virt = gluster.parse_group_file(fixture("group_virt"))
    assert virt["features.shard"] == "on"
    assert virt["cluster.quorum-type"] == "auto"


def test_error_answer_raises_with_op_errstr():
    with pytest.raises(ValueError, match="does not exist"):
        gluster.cli_output(fixture("volume_get_missing.xml"))


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("current, wanted", [
    ("on", "enable"), ("enable", "yes"), ("off", "false"), ("disable", "0"), ("on", "ON"),
    ("64MB", "67108864"), ("32MB", "32mb"), ("1GB", "1024MB"), ("1KB", "1024"), ("0", "0B"),
    ("10.0.0.1,10.0.0.2", "10.0.0.1, 10.0.0.2"), ("20", "20"),
])
def test_values_gluster_reads_alike(current, wanted):
    assert gluster.option_values_equal(current, wanted)


@pytest.mark.parametrize("current, wanted", [
    ("on", "off"), ("64MB", "128MB"), ("64MB", "64 MB"), ("32MB", "32000000"), ("20", "42"), ("*", "10.*"),
])
def test_values_that_differ(current, wanted):
    assert not gluster.option_values_equal(current, wanted)


def test_yaml_values_become_gluster_words():
    assert gluster.option_text(True) == "on"
    assert gluster.option_text(False) == "off"
    assert gluster.option_text(67108864) == "67108864"
    assert gluster.option_text(["10.*", "127.0.0.1"]) == "10.*,127.0.0.1"


# ---------------------------------------------------------------- plan: a fresh pool

def test_fresh_pool_probes_creates_sets_and_starts():
    state = state_from(groups={"virt": gluster.parse_group_file(fixture("group_virt"))})
    actions = gluster.plan(state, params(option_groups=["virt"], options={"performance.cache-size": "64MB"},
                                         auth_allow=["10.*"]))
    assert [action.kind for action in actions] == ["probe", "probe", "create", "set_options", "start"]
    assert actions[0].argv == ["gluster", "--mode=script", "peer", "probe", "node2"]
    assert actions[2].argv == ["gluster", "--mode=script", "volume", "create", "vmdisks", "replica", "3"] + [
        "%s:%s" % (node, BRICK) for node in NODES]
    set_argv = actions[3].argv
    assert set_argv[:5] == ["gluster", "--mode=script", "volume", "set", "vmdisks"]
    pairs = dict(zip(set_argv[5::2], set_argv[6::2]))
    assert pairs["features.shard"] == "on" and pairs["performance.cache-size"] == "64MB" and pairs["auth.allow"] == "10.*"
    assert "force" not in " ".join(" ".join(action.argv) for action in actions)


def test_arbiter_create():
    actions = gluster.plan(state_from(), params(arbiter=True))
    create = [action for action in actions if action.kind == "create"][0]
    assert create.argv[5:9] == ["replica", "3", "arbiter", "1"]


def test_stopped_and_present_create_without_start():
    for wanted in ("stopped", "present"):
        kinds = [action.kind for action in gluster.plan(state_from(), params(state=wanted))]
        assert kinds == ["probe", "probe", "create", "set_options"]


def test_peer_known_by_address_is_not_probed_again():
    state = state_from("pool_list_three.xml")
    for peer in state.peers:
        if "node2" in peer.hostnames:
            peer.hostnames = ["10.102.193.12"]
    assert [action.kind for action in gluster.plan(state, params())] == ["create", "set_options", "start"]


# ---------------------------------------------------------------- plan: an existing volume

def test_existing_volume_with_the_same_request_is_left_alone():
    state = created_state()
    wanted = params(option_groups=["virt"], options={"performance.cache-size": 67108864, "features.shard": "enable",
                                                     "cluster.eager-lock": True})
    assert gluster.plan(state, wanted) == []


def test_only_the_differing_key_is_set():
    actions = gluster.plan(created_state(), params(option_groups=["virt"], options={"performance.cache-size": "128MB"}))
    assert len(actions) == 1
    assert actions[0].argv[5:] == ["performance.cache-size", "128MB"]
    assert actions[0].summary == "set options on vmdisks: performance.cache-size=128MB (was 64MB)"


def test_explicit_option_wins_over_its_group():
    actions = gluster.plan(created_state(), params(option_groups=["virt"], options={"features.shard": "off"}))
    assert actions[0].argv[5:] == ["features.shard", "off"]


def test_user_keys_are_free():
    actions = gluster.plan(created_state(), params(options={"user.owner": "mapserver"}))
    assert actions[0].argv[5:] == ["user.owner", "mapserver"]


def test_add_brick_in_whole_replica_sets():
    actions = gluster.plan(created_state(), params(nodes=None, brick_path=None, brick_addresses=six_bricks()))
    assert [action.kind for action in actions] == ["add_brick"]
    assert actions[0].argv == ["gluster", "--mode=script", "volume", "add-brick", "vmdisks", "replica", "3"] + six_bricks()[3:]


def test_existing_bricks_match_by_address():
    bricks = ["10.102.193.11:%s" % BRICK, "node2:%s" % BRICK, "node3:%s" % BRICK]
    assert gluster.plan(created_state(), params(nodes=None, brick_path=None, brick_addresses=bricks)) == []


def test_stop_and_absent():
    assert [action.summary for action in gluster.plan(created_state(), params(state="stopped"))] == ["stop volume vmdisks"]
    absent = gluster.plan(created_state(), params(state="absent", nodes=None, brick_path=None, allow_delete=True))
    assert [action.kind for action in absent] == ["stop", "delete"]
    assert absent[1].argv == ["gluster", "--mode=script", "volume", "delete", "vmdisks"]
    assert gluster.plan(state_from(), params(state="absent")) == []


def test_deleting_a_volume_needs_allow_delete():
    with pytest.raises(Refusal) as caught:
        gluster.plan(created_state(), params(state="absent", nodes=None, brick_path=None))
    message = str(caught.value)
    assert message == (
        "will not delete a volume without allow_delete: found volume vmdisks (Replicate, Started, bricks node1:/srv/vmdisks/data "
        "node2:/srv/vmdisks/data node3:/srv/vmdisks/data); asked for state=absent. Set allow_delete: true to delete a volume; its "
        "clients lose it at once, and its brick directories keep the files but can make no new volume.")


# ---------------------------------------------------------------- plan: refusals

def refused(state, **overrides):
    with pytest.raises(Refusal) as caught:
        gluster.plan(state, params(**overrides))
    return str(caught.value)


@pytest.mark.parametrize("name", ["bad/name", "..", "vm disks", "a;rm -rf", "-dash", "all", "x" * 65, ""])
def test_bad_volume_names(name):
    assert refused(state_from(), name=name).startswith("invalid volume name")


def test_fewer_bricks_is_refused():
    state = created_state()
    state.volume = gluster.parse_volumes(fixture("volume_info_dist_replicate.xml"))["vmdisks"]
    message = refused(state)
    assert "fewer bricks than the volume has" in message and "never removes bricks" in message


def test_different_bricks_are_refused():
    assert "existing bricks differ" in refused(created_state(), brick_path="/srv/other/data")


def test_replica_change_is_refused():
    assert "another replica layout" in refused(created_state(), nodes=["node1", "node2"], replica=2)


@pytest.mark.parametrize("overrides, problem", [
    (dict(nodes=["node1", "node2", "node3", "node1"]), "not a multiple of the replica count"),
    (dict(nodes=None, brick_path=None, brick_addresses=["node1:%s" % BRICK, "node1:%s" % SECOND, "node2:%s" % BRICK]), "same server"),
    (dict(nodes=None, brick_path=None, brick_addresses=["node1:%s" % BRICK, "10.102.193.11:%s" % SECOND, "node2:%s" % BRICK]), "same server"),
    (dict(nodes=None, brick_path=None, brick_addresses=["node1:%s" % BRICK] * 3), "listed twice"),
    (dict(nodes=None, brick_path=None, brick_addresses=["node1/srv/x", "node2:/x", "node3:/x"]), "not HOST:/PATH"),
    (dict(brick_path="relative/path"), "invalid brick"),
    (dict(brick_path="/"), "invalid brick"),
    (dict(brick_path="/srv/a b"), "invalid brick"),
    (dict(nodes=None, brick_path=None), "no bricks"),
    (dict(replica=1, nodes=["node1"]), "at least 2"),
    (dict(replica=2, arbiter=True, nodes=["node1", "node2"]), "replica 3 arbiter 1"),
    (dict(options={"performance.no-such-option": "on"}), "unknown volume option: found performance.no-such-option"),
    (dict(option_groups=["nosuchgroup"]), "unknown option group"),
])
def test_refusals(overrides, problem):
    state = state_from()
    state.groups = {group: None for group in overrides.get("option_groups") or []}
    assert problem in refused(state, **overrides)


def test_unknown_option_on_an_existing_volume_is_refused_before_any_set():
    message = refused(created_state(), options={"performance.cache-size": "256MB", "performance.nope": "1"})
    assert "performance.nope" in message and "nothing was changed" in message


# ---------------------------------------------------------------- apply and observe with a scripted gluster

# a new volume gets options (auth.allow at least): observe reads the documented keys
HELP_XML = (["--mode=script", "volume", "set", "help-xml"], (0, fixture("volume_set_help.xml"), ""))


def test_glusterd_start_window_is_retried(monkeypatch):
    monkeypatch.setattr(gluster, "POLL_INTERVAL", 0)
    down = (1, fixture("glusterd_down.txt"), "")
    module = ScriptedModule([(["--mode=script", "--xml", "pool", "list"], down)] * 2 + [
        (["--mode=script", "--xml", "pool", "list"], (0, fixture("pool_list_alone.xml"), "")),
        (["--mode=script", "--xml", "volume", "info"], (0, fixture("volume_info_empty.xml"), "")),
        HELP_XML,
    ])
    state = gluster.observe(CommandRunner(module), params(state="stopped"))
    assert state.volume is None and len(module.calls) == 5


def test_an_empty_answer_under_load_is_retried(monkeypatch):
    monkeypatch.setattr(gluster, "POLL_INTERVAL", 0)
    module = ScriptedModule([
        (["--mode=script", "--xml", "pool", "list"], (0, fixture("pool_list_three.xml"), "")),
        (["--mode=script", "--xml", "volume", "info"], (0, "", "")),
        (["--mode=script", "--xml", "volume", "info"], (0, fixture("volume_info_empty.xml"), "")),
        HELP_XML,
    ])
    assert gluster.observe(CommandRunner(module), params(state="stopped")).volume is None


def test_an_empty_or_cut_option_help_is_asked_again():
    """F01 under load (node2 losing power): `volume set help-xml` came back with rc 0 and no output, and the
    module ended with "unexpected error: no element found"."""
    help_argv = HELP_XML[0]
    module = ScriptedModule([
        (["--mode=script", "--xml", "pool", "list"], (0, fixture("pool_list_alone.xml"), "")),
        (["--mode=script", "--xml", "volume", "info"], (0, fixture("volume_info_empty.xml"), "")),
        (help_argv, (0, "", "")),
        (help_argv, (0, fixture("volume_set_help.xml")[:500], "")),
        HELP_XML,
    ])
    state = gluster.observe(CommandRunner(module), params(state="stopped"))
    assert state.volume is None and "auth.allow" in state.known_options and len(module.calls) == 5


def test_an_option_help_that_stays_empty_fails_naming_it():
    module = ScriptedModule([
        (["--mode=script", "--xml", "pool", "list"], (0, fixture("pool_list_alone.xml"), "")),
        (["--mode=script", "--xml", "volume", "info"], (0, fixture("volume_info_empty.xml"), "")),
    ], always=(0, "", ""))
    with pytest.raises(CommandError, match="no complete XML for its option help"):
        gluster.observe(CommandRunner(module), params(state="stopped"))
    assert len(module.calls) == 5


def test_a_real_error_is_not_retried():
    module = ScriptedModule([(["--mode=script", "--xml", "pool", "list"], (1, fixture("volume_get_missing.xml"), ""))])
    with pytest.raises(CommandError, match="Volume nosuch does not exist"):
        gluster.observe(CommandRunner(module), params())


def test_glusterd_down_past_the_deadline_fails_clearly():
    module = ScriptedModule([(["--mode=script", "--xml", "pool", "list"], (1, fixture("glusterd_down.txt"), ""))])
    with pytest.raises(CommandError, match="Is glusterd running"):
        gluster.observe(CommandRunner(module), params(peer_timeout=0))


def probe_then_poll(peer_timeout, *later_answers):
    """A fresh pool, a plan that probes node2 and node3, and gluster answers up to the first poll and beyond."""
    state = state_from()
    wanted = params(state="present", peer_timeout=peer_timeout)
    probed = (0, "peer probe: success", "")
    module = ScriptedModule([
        (["--mode=script", "peer", "probe", "node2"], probed),
        (["--mode=script", "peer", "probe", "node3"], probed),
        (["--mode=script", "--xml", "pool", "list"], (0, fixture("pool_list_alone.xml"), "")),
    ] + list(later_answers))
    return module, (CommandRunner(module), state, wanted, gluster.plan(state, wanted))


def pool_as_seen_by(host, name):
    return (["--mode=script", "--xml", "--remote-host=%s" % host, "pool", "list"], (0, fixture(name), ""))


# node1's view and node2's and node3's, all three peers connected and in the cluster
EVERY_VIEW_READY = [
    (["--mode=script", "--xml", "pool", "list"], (0, fixture("pool_list_three.xml"), "")),
    pool_as_seen_by("node2", "pool_list_remote_node2.xml"),
    pool_as_seen_by("node3", "pool_list_remote_node3.xml"),
]


def test_apply_probes_then_waits_until_every_peer_sees_every_other(monkeypatch):
    monkeypatch.setattr(gluster, "POLL_INTERVAL", 0)
    module, apply_args = probe_then_poll(
        60,
        # node1 sees both peers, but node2 does not see node3 yet: creating now fails in staging
        (["--mode=script", "--xml", "pool", "list"], (0, fixture("pool_list_three.xml"), "")),
        pool_as_seen_by("node2", "pool_list_alone.xml"),
        pool_as_seen_by("node3", "pool_list_remote_node3.xml"),
        *EVERY_VIEW_READY,
        (["--mode=script", "volume", "create"], (0, "volume create: vmdisks: success", "")),
        (["--mode=script", "volume", "set", "vmdisks", "auth.allow", "node1,node2,node3"], (0, "volume set: success", "")),
    )
    gluster.apply(*apply_args)
    assert not module.answers


def test_apply_gives_up_at_the_peer_deadline():
    _module, apply_args = probe_then_poll(0)
    with pytest.raises(CommandError, match="peers node2, node3 not connected"):
        gluster.apply(*apply_args)


@pytest.mark.parametrize("name, advice", [
    ("create_root_partition.txt", "root filesystem"),
    ("create_mount_point.txt", "subdirectory"),
    ("create_existing_brick.txt", "brick of an existing volume"),
    ("create_already_part.txt", "trusted.glusterfs.volume-id"),
    ("set_invalid_value.txt", "none of performance.cache-size"),
])
def test_refusals_by_glusterd_are_explained(name, advice):
    state = created_state()
    state.volume = None
    wanted = params(state="present", options={"performance.cache-size": "256MB"})
    actions = [action for action in gluster.plan(state, wanted) if action.kind in ("create", "set_options")]
    answers = list(EVERY_VIEW_READY)
    if name.startswith("set_"):
        answers.append((["--mode=script", "volume", "create"], (0, "volume create: vmdisks: success", "")))
    answers.append((["--mode=script", "volume"], (1, "", fixture(name))))
    with pytest.raises(CommandError) as caught:
        gluster.apply(CommandRunner(ScriptedModule(answers)), state, wanted, actions)
    assert advice in str(caught.value) and fixture(name).strip() in str(caught.value)


# ---------------------------------------------------------------- report

def test_check_mode_report_predicts_the_diff():
    state = created_state()
    wanted = params(option_groups=["virt"], options={"performance.cache-size": "128MB"})
    actions = gluster.plan(state, wanted)
    result = gluster.report(None, state, None, wanted, actions)
    assert result["diff"]["before"]["options"]["performance.cache-size"] == "64MB"
    assert result["diff"]["after"]["options"]["performance.cache-size"] == "128MB"
    assert result["diff"]["before"]["bricks"] == result["diff"]["after"]["bricks"]
    assert result["volume"]["status"] == "Started"


def test_check_mode_report_for_a_new_volume():
    state = state_from()
    wanted = params(state="stopped")
    result = gluster.report(None, state, None, wanted, gluster.plan(state, wanted))
    assert result["diff"]["before"] == {"state": "absent", "bricks": [], "offline_bricks": [], "options": {}}
    assert result["diff"]["after"]["state"] == "stopped"
    assert result["diff"]["after"]["bricks"] == ["%s:%s" % (node, BRICK) for node in NODES]
    assert result["volume"] is None
