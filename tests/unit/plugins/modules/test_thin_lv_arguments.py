# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""thin_lv main() with arguments: the one-LV and the list form, and their checks (run_module: conftest.py)."""

from __future__ import annotations

from ansible_collections.vmstorage.gluster.plugins.modules.thin_lv import main

POOL = dict(vg="ThinGroup", thinpool="ThinData")


def test_one_lv_is_one_request_with_the_defaults(run_module):
    kind, requests = run_module(main, dict(POOL, name="vm1", size="10G"))
    assert kind == "planned"
    assert [(r["name"], r["size"], r["state"], r["vg"]) for r in requests] == [("vm1", "10G", "present", "ThinGroup")]


def test_list_items_take_the_top_level_values_they_leave_unset(run_module):
    kind, requests = run_module(main, dict(POOL, size="10G", lvs=[{"name": "vm1"}, {"name": "vm2", "size": "20G"},
                                                                  {"name": "old", "state": "absent"}]))
    assert kind == "planned"
    assert [(r["name"], r["size"], r["state"]) for r in requests] == [
        ("vm1", "10G", "present"), ("vm2", "20G", "present"), ("old", "10G", "absent")]
    assert all("lvs" not in request for request in requests)


def test_name_and_lvs_exclude_each_other(run_module):
    kind, result = run_module(main, dict(POOL, name="vm1", size="1G", lvs=[{"name": "vm2"}]))
    assert kind == "fail" and result["msg"] == "parameters are mutually exclusive: name|lvs"


def test_name_or_lvs_is_required(run_module):
    kind, result = run_module(main, dict(POOL, size="1G"))
    assert kind == "fail" and result["msg"] == "one of the following is required: name, lvs"


def test_an_item_needs_its_name(run_module):
    kind, result = run_module(main, dict(POOL, size="1G", lvs=[{"size": "2G"}]))
    assert kind == "fail" and "missing required arguments: name found in lvs" in result["msg"]


def test_present_needs_a_size_in_the_one_lv_form(run_module):
    kind, result = run_module(main, dict(POOL, name="vm1"))
    assert kind == "fail"
    assert result["msg"] == ("the parameters: state is present but all of the following are missing: size; "
                             "nothing was changed.")


def test_present_needs_a_size_per_item_named_by_its_index(run_module):
    kind, result = run_module(main, dict(POOL, lvs=[{"name": "vm1", "size": "1G"}, {"name": "vm2"}]))
    assert kind == "fail"
    assert result["msg"] == ("lvs[1] (with the top-level options): state is present but all of the following are "
                             "missing: size; nothing was changed.")


def test_absent_needs_no_size(run_module):
    kind, requests = run_module(main, dict(POOL, name="vm1", state="absent"), check_mode=True)
    assert kind == "planned" and requests[0]["size"] is None
