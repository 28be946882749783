# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gluster_replica_volume refuses bad input before gluster is asked anything that changes the pool or a brick."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster as gluster
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Refusal

from ansible_collections.vmstorage.gluster.tests.unit.helpers import GLUSTER_BRICK as BRICK, GLUSTER_NODES as NODES, gluster_fixture as fixture
from ansible_collections.vmstorage.gluster.tests.unit.helpers import gluster_new_volume_state as new_volume_state, gluster_params as params


def existing_volume_state():
    volume = gluster.parse_volumes(fixture("volume_info_replica3.xml"))["vmdisks"]
    state = new_volume_state()
    state.volume, state.options, state.option_defaults = volume, dict(volume.reconfigured), {}
    state.known_options = set(gluster.parse_volume_get(fixture("volume_get_all.xml")))
    return state


def refused(state, **overrides):
    with pytest.raises(Refusal) as caught:
        gluster.plan(state, params(**overrides))
    return caught.value


def test_documented_defaults_are_read_from_help_xml():
    defaults = gluster.parse_option_defaults(fixture("volume_set_help.xml"))
    assert defaults["performance.io-thread-count"] == "16"
    assert defaults["cluster.min-free-disk"] == "10%"


@pytest.mark.parametrize("brick", ["/srv/../etc/data", "/srv/vm/./data", "/srv//data", "/srv/vm one/data", "/srv/vm;reboot"])
def test_brick_paths_with_dot_parts_empty_parts_spaces_or_shell_characters_are_invalid(brick):
    refusal = refused(new_volume_state(), brick_path=brick)
    assert refusal.problem == "invalid brick" and brick in refusal.found


@pytest.mark.parametrize("value", ["lots", "on", "sixteen"])
def test_a_word_for_a_numeric_option_of_a_new_volume_is_refused_before_the_create(value):
    refusal = refused(new_volume_state(), options={"performance.io-thread-count": value})
    assert refusal.problem == "volume option values are not numbers"
    assert refusal.found == "performance.io-thread-count=%s" % value
    assert "takes a number or size (default 16)" in refusal.requested
    assert "nothing was created" in refusal.remedy


@pytest.mark.parametrize("options", [
    {"performance.io-thread-count": 32}, {"cluster.min-free-disk": "5GB"}, {"cluster.min-free-disk": "20%"},
    {"storage.owner-uid": "-1"}, {"network.ping-timeout": "42s"}, {"features.shard-block-size": "512MB"},
    # defaults of 0 and 1 may be booleans: not judged here, gluster's `volume set` decides
    {"performance.cache-max-file-size": "off"},
])
def test_numbers_sizes_percentages_and_undecidable_options_pass(options):
    actions = gluster.plan(new_volume_state(), params(options=options))
    assert [action.kind for action in actions] == ["create", "set_options", "start"]


def test_values_of_an_existing_volume_are_left_to_gluster_which_checks_them_before_any_change():
    actions = gluster.plan(existing_volume_state(), params(options={"performance.io-thread-count": "lots"}))
    assert [action.kind for action in actions] == ["set_options"]


def test_a_host_to_probe_that_does_not_answer_is_refused_before_any_probe():
    state = new_volume_state(pool="pool_list_alone.xml")
    state.unreachable = {"node3": "no answer on port 24007 (No route to host)"}
    refusal = refused(state)
    assert refusal.problem == "brick hosts do not answer"
    assert refusal.found == "node3: no answer on port 24007 (No route to host)"
    assert "node3" in refusal.requested and "nothing was probed or created" in refusal.remedy


@pytest.mark.parametrize("local, problem", [
    (gluster.LocalPath(mount_point=False, on_root_fs=True), "a brick cannot be on the root filesystem"),
    (gluster.LocalPath(mount_point=True, on_root_fs=False), "a brick cannot be a mount point"),
])
def test_a_local_brick_glusterd_would_refuse_is_refused_first(local, problem):
    state = new_volume_state()
    state.local_paths = {BRICK: local}
    refusal = refused(state)
    assert refusal.problem == problem
    assert refusal.found.startswith("node1:%s" % BRICK) and "volume vmdisks" in refusal.requested


def test_bricks_already_in_the_volume_are_not_judged_again():
    state = existing_volume_state()
    state.local_paths = {BRICK: gluster.LocalPath(mount_point=True, on_root_fs=True)}
    assert gluster.plan(state, params()) == []


def test_a_new_brick_of_an_existing_volume_is_judged():
    state = existing_volume_state()
    second = "/srv/vmdisks2/data"
    state.local_paths = {second: gluster.LocalPath(mount_point=False, on_root_fs=True)}
    bricks = ["%s:%s" % (node, path) for path in (BRICK, second) for node in NODES]
    assert refused(state, nodes=None, brick_path=None, brick_addresses=bricks).problem == "a brick cannot be on the root filesystem"


def test_glusterd_reachability_is_a_plain_tcp_connect(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        monkeypatch.setattr(gluster, "GLUSTERD_PORT", listener.getsockname()[1])
        assert gluster._glusterd_unreachable("127.0.0.1") is None  # pylint: disable=protected-access
    # the listener is closed now: nothing answers on that port
    assert "no answer on port" in gluster._glusterd_unreachable("127.0.0.1")  # pylint: disable=protected-access


@pytest.mark.parametrize("entry", ["hv one", "10.0.0.1,10.0.0.2", "hv;one", ""])
def test_auth_allow_entries_that_are_no_address_or_name_are_refused(entry):
    refusal = refused(new_volume_state(), auth_allow=["10.0.0.1", entry])
    assert refusal.problem == "auth_allow entries that are no address or host name"
    assert refusal.found == repr(entry) and "volume vmdisks" in refusal.requested


def test_addresses_wildcards_networks_and_names_pass_auth_allow():
    actions = gluster.plan(new_volume_state(), params(auth_allow=["10.0.0.1", "10.0.0.*", "10.1.0.0/16", "hv-1.example", "fe80::1"]))
    assert [action.kind for action in actions] == ["create", "set_options", "start"]


# ---------------------------------------------------------------- auth.allow: an open volume is asked for twice

def set_pairs(actions):
    """The key=value pairs of the plan's `volume set`."""
    argv = [action for action in actions if action.kind == "set_options"][0].argv
    return dict(zip(argv[5::2], argv[6::2]))


@pytest.mark.parametrize("entry", ["*", "*.*.*.*", "[0-9]*", "0.0.0.0/0", "::/0", "*:*", "::*"])
def test_an_auth_allow_entry_that_admits_any_client_is_refused_without_allow_any_client(entry):
    for state in (new_volume_state(), existing_volume_state()):
        refusal = refused(state, auth_allow=["10.0.0.1", entry])
        assert refusal.problem == "auth.allow would admit any client"
        assert refusal.found == repr(entry)
        assert refusal.requested == "auth_allow of volume vmdisks, without allow_any_client"
        assert "List the hypervisors' addresses" in refusal.remedy and "allow_any_client: true" in refusal.remedy


def test_an_open_auth_allow_in_options_is_refused_too():
    refusal = refused(new_volume_state(), options={"auth.allow": "10.0.0.1,*"})
    assert refusal.found == "'*'" and refusal.requested.startswith("options (auth.allow)")


def test_allow_any_client_opens_the_volume_on_purpose():
    actions = gluster.plan(new_volume_state(), params(auth_allow=["*"], allow_any_client=True))
    assert set_pairs(actions)["auth.allow"] == "*"


@pytest.mark.parametrize("entry", ["192.0.2.*", "10.*", "10.0.0.0/8", "fe80::*", "1*", "*.5", "hv-1.example"])
def test_wildcards_and_networks_that_keep_a_fixed_part_pass(entry):
    assert set_pairs(gluster.plan(new_volume_state(), params(auth_allow=[entry])))["auth.allow"] == entry


def test_a_new_volume_without_auth_allow_admits_its_brick_hosts():
    assert set_pairs(gluster.plan(new_volume_state(), params()))["auth.allow"] == "node1,node2,node3"
    six = ["%s:%s" % (node, path) for path in (BRICK, "/srv/vmdisks2/data") for node in NODES]
    assert set_pairs(gluster.plan(new_volume_state(), params(nodes=None, brick_path=None, brick_addresses=six)))["auth.allow"] == "node1,node2,node3"
    # an auth.allow from options or a group is what was asked: no default over it
    assert set_pairs(gluster.plan(new_volume_state(), params(options={"auth.allow": "10.0.0.5"})))["auth.allow"] == "10.0.0.5"


def test_check_mode_shows_the_default_auth_allow_in_the_diff():
    state, wanted = new_volume_state(), params()
    result = gluster.report(None, state, None, wanted, gluster.plan(state, wanted))
    assert result["diff"]["after"]["options"] == {"auth.allow": "node1,node2,node3"}
    assert "warnings" not in result


def open_volume(**reconfigured):
    state = existing_volume_state()
    state.volume.reconfigured = dict(reconfigured)
    state.options = dict(state.volume.reconfigured)
    return state


@pytest.mark.parametrize("reconfigured, shown", [({}, "unset, gluster's default *"), ({"auth.allow": "*"}, "*"),
                                                 ({"auth.allow": "10.0.0.1,*.*.*.*"}, "10.0.0.1,*.*.*.*")])
def test_an_existing_open_volume_is_left_open_with_a_warning(reconfigured, shown):
    state, wanted = open_volume(**reconfigured), params()
    actions = gluster.plan(state, wanted)
    assert "set_options" not in [action.kind for action in actions]  # auth.allow not touched on a running volume
    warnings = gluster.report(None, state, None, wanted, actions)["warnings"]
    assert warnings == [warning for warning in warnings if warning.startswith("volume vmdisks admits any client")]
    assert "(auth.allow %s)" % shown in warnings[0] and "Set auth_allow" in warnings[0] and "allow_any_client" in warnings[0]


@pytest.mark.parametrize("reconfigured, overrides", [
    ({"auth.allow": "10.0.0.1"}, {}),                      # restricted already
    ({}, {"allow_any_client": True}),                      # open on purpose
    ({}, {"auth_allow": ["10.0.0.1"]}),                    # this run restricts it
    ({"server.ssl": "on", "auth.ssl-allow": "hv1"}, {}),   # TLS: the certificate decides
])
def test_no_open_volume_warning(reconfigured, overrides):
    state, wanted = open_volume(**reconfigured), params(**overrides)
    assert "warnings" not in gluster.report(None, state, None, wanted, gluster.plan(state, wanted))
