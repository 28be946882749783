# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gluster_replica_volume main() with arguments: the one-volume and the list form, and their checks
(run_module: conftest.py)."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.modules.gluster_replica_volume import main

NODES = ["node1", "node2", "node3"]
ADDRESSES = ["node1:/srv/vm1/data", "node2:/srv/vm1/data", "node3:/srv/vm1/data"]


def test_one_volume_on_the_nodes_with_the_defaults(run_module):
    kind, requests = run_module(main, dict(name="vm1", nodes=NODES, brick_path="/srv/vm1/data"))
    assert kind == "planned"
    assert [(r["name"], r["brick_path"], r["state"], r["replica"]) for r in requests] == [("vm1", "/srv/vm1/data", "started", 3)]


def test_one_volume_from_brick_addresses(run_module):
    kind, requests = run_module(main, dict(name="vm1", brick_addresses=ADDRESSES), check_mode=True)
    assert kind == "planned" and requests[0]["brick_addresses"] == ADDRESSES and requests[0]["nodes"] is None


def test_items_share_the_nodes_and_merge_their_options(run_module):
    kind, requests = run_module(main, dict(nodes=NODES, options={"a.b": "1", "c.d": "2"}, volumes=[
        dict(name="vm1", brick_path="/srv/vm1/data"),
        dict(name="vm2", brick_path="/srv/vm2/data", options={"c.d": "3"}, state="stopped")]))
    assert kind == "planned"
    assert [(r["name"], r["nodes"], r["brick_path"], r["options"], r["state"]) for r in requests] == [
        ("vm1", NODES, "/srv/vm1/data", {"a.b": "1", "c.d": "2"}, "started"),
        ("vm2", NODES, "/srv/vm2/data", {"a.b": "1", "c.d": "3"}, "stopped")]


def test_name_and_volumes_exclude_each_other(run_module):
    kind, result = run_module(main, dict(name="vm1", volumes=[dict(name="vm2")]))
    assert kind == "fail" and result["msg"] == "parameters are mutually exclusive: name|volumes"


def test_nodes_and_brick_path_go_together(run_module):
    kind, result = run_module(main, dict(name="vm1", nodes=NODES))
    assert kind == "fail"
    assert result["msg"] == "the parameters: parameters are required together: nodes, brick_path; nothing was changed."


@pytest.mark.parametrize("other", [dict(nodes=NODES), dict(brick_path="/srv/vm1/data")])
def test_brick_addresses_exclude_nodes_and_brick_path(run_module, other):
    args = dict(dict(name="vm1", brick_addresses=ADDRESSES), **other)
    kind, result = run_module(main, args)
    assert kind == "fail" and "mutually exclusive" in result["msg"] and "brick_addresses" in result["msg"]


def test_an_item_with_brick_addresses_under_shared_nodes_is_refused_by_index(run_module):
    kind, result = run_module(main, dict(nodes=NODES, volumes=[dict(name="vm1", brick_path="/srv/vm1/data"),
                                                               dict(name="vm2", brick_addresses=ADDRESSES)]))
    assert kind == "fail"
    assert result["msg"] == ("volumes[1] (with the top-level options): parameters are mutually exclusive: "
                             "brick_addresses|nodes; nothing was changed.")


def test_an_item_cannot_have_brick_path_and_brick_addresses(run_module):
    kind, result = run_module(main, dict(volumes=[dict(name="vm1", brick_path="/srv/vm1/data", brick_addresses=ADDRESSES)]))
    assert kind == "fail" and "mutually exclusive: brick_addresses|brick_path found in volumes" in result["msg"]


@pytest.mark.parametrize("old", ["brick", "bricks"])
def test_the_old_option_names_are_gone(run_module, old):
    kind, result = run_module(main, {"name": "vm1", "nodes": NODES, old: "/srv/vm1/data"})
    assert kind == "fail" and "Unsupported parameters" in result["msg"]


def test_absent_needs_no_bricks(run_module):
    kind, requests = run_module(main, dict(name="vm1", state="absent"), check_mode=True)
    assert kind == "planned" and requests[0]["state"] == "absent"
