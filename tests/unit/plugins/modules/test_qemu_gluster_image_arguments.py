# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""qemu_gluster_image main() with arguments: the one-image and the list form, and their checks
(run_module: conftest.py)."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.modules.qemu_gluster_image import main

NODES = ["node1", "node2", "node3"]


def test_one_image_with_the_defaults(run_module):
    kind, requests = run_module(main, dict(volume="vm1", image_path="disk.img", nodes=NODES, size="10G"))
    assert kind == "planned"
    assert [(r["volume"], r["image_path"], r["nodes"], r["format"], r["state"], r["port"]) for r in requests] == [
        ("vm1", "disk.img", NODES, "qcow2", "present", 24007)]


def test_items_share_the_image_path_and_the_nodes(run_module):
    kind, requests = run_module(main, dict(nodes=NODES, image_path="disk.img", format="qed", images=[
        dict(volume="vm1", size="10G"), dict(volume="vm2", size="20G", format="raw", image_path="root.raw")]))
    assert kind == "planned"
    assert [(r["volume"], r["image_path"], r["format"], r["size"], r["nodes"]) for r in requests] == [
        ("vm1", "disk.img", "qed", "10G", NODES), ("vm2", "root.raw", "raw", "20G", NODES)]


def test_the_nodes_are_required(run_module):
    kind, result = run_module(main, dict(volume="vm1", image_path="disk.img"))
    assert kind == "fail" and result["msg"] == "missing required arguments: nodes"


def test_volume_and_images_exclude_each_other(run_module):
    kind, result = run_module(main, dict(volume="vm1", nodes=NODES, images=[dict(volume="vm2", image_path="a.img")]))
    assert kind == "fail" and result["msg"] == "parameters are mutually exclusive: volume|images"


def test_an_image_path_is_needed_at_the_top_or_in_every_item(run_module):
    kind, result = run_module(main, dict(nodes=NODES, images=[dict(volume="vm1", image_path="a.img"), dict(volume="vm2")]))
    assert kind == "fail"
    assert result["msg"] == "images[1] (with the top-level options): missing required arguments: image_path; nothing was changed."


def test_one_image_needs_an_image_path(run_module):
    kind, result = run_module(main, dict(volume="vm1", nodes=NODES))
    assert kind == "fail"
    assert result["msg"] == "the parameters: missing required arguments: image_path; nothing was changed."


@pytest.mark.parametrize("old, value", [("servers", NODES), ("path", "disk.img")])
def test_the_old_option_names_are_gone(run_module, old, value):
    args = dict(volume="vm1", image_path="disk.img", nodes=NODES)
    args[old] = value
    kind, result = run_module(main, args)
    assert kind == "fail" and "Unsupported parameters" in result["msg"] and old in result["msg"]


def test_an_image_path_out_of_the_volume_is_refused_before_any_command(run_module):
    kind, result = run_module(main, dict(volume="vm1", image_path="../escape.img", nodes=NODES, size="1M"),
                              check_mode=True, stop_after_arguments=False)
    assert kind == "fail" and result["msg"].startswith("path escapes or is not a plain path inside the volume")
    assert result["found"] == "'../escape.img'" and result["requested"] == "a file inside volume vm1"


def test_no_nodes_is_refused_naming_the_option(run_module):
    kind, result = run_module(main, dict(volume="vm1", image_path="disk.img", nodes=[], size="1M"),
                              check_mode=True, stop_after_arguments=False)
    assert kind == "fail" and result["found"] == "nodes=[]"
