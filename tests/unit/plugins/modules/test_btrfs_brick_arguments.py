# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""btrfs_brick main() with arguments: the one-brick and the list form, and their checks (run_module: conftest.py)."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.modules.btrfs_brick import main

ONE = dict(device="/dev/ThinGroup/vm1", label="vm1", mount_point="/srv/vm1")


def test_one_brick_is_one_request_with_the_defaults(run_module):
    kind, requests = run_module(main, ONE)
    assert kind == "planned" and len(requests) == 1
    request = requests[0]
    assert (request["mount_point"], request["brick_dir"], request["state"], request["allow_format"]) == (
        "/srv/vm1", "data", "present", False)
    assert request["mount_options"] == ["nodatacow", "autodefrag"]


def test_list_items_take_the_shared_options(run_module):
    kind, requests = run_module(main, dict(brick_dir="brick", owner="qemu", bricks=[
        dict(ONE), dict(device="/dev/ThinGroup/vm2", label="vm2", mount_point="/srv/vm2", owner="root")]))
    assert kind == "planned"
    assert [(r["label"], r["mount_point"], r["brick_dir"], r["owner"]) for r in requests] == [
        ("vm1", "/srv/vm1", "brick", "qemu"), ("vm2", "/srv/vm2", "brick", "root")]


@pytest.mark.parametrize("option, value", [("mount_point", "/srv/x"), ("device", "/dev/x"), ("label", "x"),
                                           ("allow_format", True)])
def test_one_brick_options_exclude_the_list(run_module, option, value):
    kind, result = run_module(main, {option: value, "bricks": [ONE]})
    assert kind == "fail" and result["msg"] == "parameters are mutually exclusive: %s|bricks" % option


def test_an_item_needs_its_mount_point(run_module):
    kind, result = run_module(main, dict(bricks=[dict(device="/dev/x", label="x")]))
    assert kind == "fail" and "missing required arguments: mount_point found in bricks" in result["msg"]


def test_allow_format_is_not_an_item_option(run_module):
    kind, result = run_module(main, dict(bricks=[dict(ONE, allow_format=True)]))
    assert kind == "fail" and "allow_format" in result["msg"] and "Unsupported parameters" in result["msg"]


@pytest.mark.parametrize("old, new", [("path", "mount_point"), ("force_format", "allow_format")])
def test_the_old_option_names_are_gone(run_module, old, new):
    args = dict(ONE, **{old: "/srv/vm1" if old == "path" else True})
    kind, result = run_module(main, args)
    assert kind == "fail" and "Unsupported parameters" in result["msg"] and old in result["msg"]
    assert new in result["msg"]  # the list of supported parameters names the new one


def test_present_needs_device_and_label_per_item(run_module):
    kind, result = run_module(main, dict(bricks=[ONE, dict(mount_point="/srv/vm2", label="vm2")]))
    assert kind == "fail"
    assert result["msg"] == ("bricks[1] (with the top-level options): state is present but all of the following are "
                             "missing: device; nothing was changed.")


def test_unmounting_needs_only_the_mount_point(run_module):
    kind, requests = run_module(main, dict(mount_point="/srv/vm1", state="unmounted"), check_mode=True)
    assert kind == "planned" and requests[0]["device"] is None
