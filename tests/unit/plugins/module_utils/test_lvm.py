# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers, plan() and the return values of thin_lv over LVM output captured in the lab.

The fixtures (tests/unit/fixtures/lvm, see VERSIONS there) are real vgs/pvs/lvs JSON reports,
blkid output and /proc/self/mountinfo from a lab node; every state below is built from them.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _blockdev, _fstab, _lvm
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import MissingPrerequisite, Refusal, run_plan
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandRunner
from ansible_collections.vmstorage.gluster.tests.unit.helpers import ScriptedModule, read_fixture

GIB = 1024 ** 3
MIB = 1024 ** 2


def rows(name, kind):
    return _lvm.report_rows(json.loads(read_fixture("lvm", name)), kind)


def state_of(snapshot, devices=(), vg="ThinGroup", replaced_lvs=None):
    """The LvmState of a captured snapshot (pristine, converged, busy) as observe() builds it for ``vg``.

    ``replaced_lvs`` names a fixture whose LV rows replace the snapshot's rows of the same LVs.
    """
    mounts = _fstab.parse_mountinfo(read_fixture("lvm", "busy_mountinfo.txt") if snapshot == "busy" else "")
    vg_rows = rows("%s_vgs.json" % snapshot, "vg")
    lv_rows = []
    if any(row["vg_name"] == vg for row in vg_rows):  # observe() runs lvs only for an existing VG
        lv_rows = {row["lv_name"]: row for row in rows("%s_lvs.json" % snapshot, "lv")}
        lv_rows.update({row["lv_name"]: row for row in rows(replaced_lvs, "lv")} if replaced_lvs else {})
        lv_rows = list(lv_rows.values())
    return _lvm.build_state(vg, vg_rows, rows("%s_pvs.json" % snapshot, "pv"), lv_rows, list(devices), mounts)


def params(**overrides):
    base = dict(
        vg="ThinGroup", thinpool="ThinData", name="mapserver", size="100G", state="present",
        pvs=None, pool_size=None, pool_metadata_size=None, chunk_size=None, allow_delete=False,
    )
    base.update(overrides)
    return base


def probe(record=None, signatures=(), head_blank=True, holders=()):
    """A _blockdev.DeviceProbe of /dev/ubdb as _blockdev.probe() builds it (blank by default)."""
    return _blockdev.DeviceProbe("/dev/ubdb", 0x6210, dict(record or {}), False, list(signatures), head_blank, list(holders))


def blank_vdb():
    return _lvm.Device("/dev/vdb", "/dev/ubdb", True, probe=probe())


def refusal_of(lvm_state, **overrides):
    with pytest.raises(Refusal) as refusal:
        _lvm.plan(lvm_state, params(**overrides))
    return refusal.value


# ------------------------------------------------------------------ parsers


def test_converged_reports_parse_into_vg_pool_and_thin_lv():
    state = state_of("converged")
    assert state.vg.name == "ThinGroup"
    assert (state.vg.size_bytes, state.vg.free_bytes, state.vg.extent_bytes) == (8585740288, 843055104, 4 * MIB)
    assert (state.vg.extent_count, state.vg.free_extents) == (2047, 201)
    assert state.vg.pv_names == ["/dev/vdb"]
    pool, lv = state.lvs["ThinData"], state.lvs["mapserver"]
    assert pool.is_thin_pool and not pool.is_thin
    assert (pool.size_bytes, pool.metadata_size_bytes, pool.chunk_size_bytes) == (7725907968, 8 * MIB, 64 * 1024)
    assert (pool.data_percent, pool.metadata_percent, pool.zero) == (0.0, 10.79, True)
    assert lv.is_thin and lv.pool == "ThinData" and lv.size_bytes == 100 * GIB
    assert (lv.path, lv.dm_path, lv.attr) == ("/dev/ThinGroup/mapserver", "/dev/mapper/ThinGroup-mapserver", "Vwi-a-tz--")
    assert lv.active and not lv.is_open
    assert lv.metadata_size_bytes is None and lv.metadata_percent is None


def test_pristine_reports_have_no_vg():
    state = state_of("pristine", [blank_vdb()])
    assert state.vg is None and state.lvs == {} and state.vg_names == []


def test_busy_reports_show_open_mounted_and_linear_lvs():
    state = state_of("busy")
    assert state.lvs["odd"].is_open and state.lvs["odd"].size_bytes == 1008 * MIB
    assert state.lvs["plain"].segtype == "linear" and not state.lvs["plain"].is_thin
    assert state.mount_points_of(state.lvs["odd"]) == ["/mnt/odd"]
    assert state.mount_points_of(state.lvs["mapserver"]) == []
    assert [lv.name for lv in state.thin_lvs_of("ThinData")] == ["mapserver", "odd"]


def test_inactive_thin_lv_is_neither_active_nor_open():
    lv = state_of("converged", replaced_lvs="inactive_lvs.json").lvs["mapserver"]
    assert not lv.active and not lv.is_open and lv.data_percent is None


def test_blkid_export_of_the_ext4_fixture():
    (found,) = _blockdev.parse_blkid_export(read_fixture("lvm", "blkid_ext4.txt"))
    assert (found["TYPE"], found["LABEL"], found["USAGE"]) == ("ext4", "precious", "filesystem")


@pytest.mark.parametrize(
    "vg, lv, expected",
    [("ThinGroup", "mapserver", "/dev/mapper/ThinGroup-mapserver"), ("thin-group", "map-server-1", "/dev/mapper/thin--group-map--server--1")],
)
def test_mapper_path_doubles_dashes_inside_names(vg, lv, expected):
    assert _lvm.mapper_path(vg, lv) == expected


# ------------------------------------------------------------------ plan: create, converge, grow


def test_pristine_node_gets_vg_pool_and_thin_lv_without_any_yes():
    actions = _lvm.plan(state_of("pristine", [blank_vdb()]), params(pvs=["/dev/vdb"], pool_size="90%VG", chunk_size="256K"))
    assert [action.argv for action in actions] == [
        ["vgcreate", "ThinGroup", "/dev/vdb"],
        ["lvcreate", "--type", "thin-pool", "--name", "ThinData", "--extents", "90%VG", "--chunksize", "262144b", "ThinGroup"],
        ["lvcreate", "--type", "thin", "--virtualsize", "107374182400b", "--thinpool", "ThinData", "--name", "mapserver", "ThinGroup"],
    ]
    assert not any("--yes" in action.argv or "-y" in action.argv for action in actions)


@pytest.mark.parametrize(
    "pool_size, expected",
    [("100 extents", ["--extents", "100"]), ("50%free", ["--extents", "50%FREE"]), ("500M", ["--size", "%db" % (500 * MIB)])],
)
def test_pool_size_forms(pool_size, expected):
    actions = _lvm.plan(state_of("converged"), params(thinpool="Second", name="other", pool_size=pool_size, pool_metadata_size="16M"))
    assert actions[0].argv == ["lvcreate", "--type", "thin-pool", "--name", "Second"] + expected + ["--poolmetadatasize", "%db" % (16 * MIB), "ThinGroup"]
    assert actions[1].kind == "lv_create"


def test_converged_state_needs_nothing():
    assert _lvm.plan(state_of("converged"), params(pvs=["/dev/vdb"], pool_size="90%VG")) == []
    assert _lvm.plan(state_of("converged"), params(size="102400m")) == []


def test_size_rounds_up_to_whole_extents_like_lvm():
    # The lab made a 1001m thin LV 1004 MiB; asking 1005m of that LV grows it to 1008 MiB.
    state = state_of("busy")
    assert _lvm.plan(state, params(name="odd", size="1005m")) == []
    actions = _lvm.plan(state, params(name="odd", size="1009m"))
    assert actions[0].summary == "grow thin LV ThinGroup/odd from 1008 MiB to 1012 MiB"
    assert actions[0].argv == ["lvextend", "--size", "%db" % (1012 * MIB), "ThinGroup/odd"]


def test_grow():
    (action,) = _lvm.plan(state_of("converged"), params(size="120G"))
    assert action.summary == "grow thin LV ThinGroup/mapserver from 100 GiB to 120 GiB"
    assert action.argv == ["lvextend", "--size", "128849018880b", "ThinGroup/mapserver"]


def test_inactive_lv_is_activated():
    (action,) = _lvm.plan(state_of("converged", replaced_lvs="inactive_lvs.json"), params())
    assert action.argv == ["lvchange", "--activate", "y", "ThinGroup/mapserver"]


def test_pool_and_metadata_grow_and_never_shrink():
    state = state_of("converged")
    actions = _lvm.plan(state, params(pool_size="7400M", pool_metadata_size="16M"))
    assert [action.argv for action in actions] == [
        ["lvextend", "--extents", "1850", "ThinGroup/ThinData"],
        ["lvextend", "--poolmetadatasize", "%db" % (16 * MIB), "ThinGroup/ThinData"],
    ]
    assert _lvm.plan(state, params(pool_size="1000 extents", pool_metadata_size="4M")) == []
    assert _lvm.plan(state, params(pool_size="95%VG")) == [], "a percentage only applies when the pool is created"


# ------------------------------------------------------------------ plan: refusals


def test_refuses_to_shrink_with_current_and_requested_sizes():
    refusal = refusal_of(state_of("converged"), size="99G")
    assert refusal.found == "100 GiB (107374182400 bytes)"
    assert refusal.requested == "size 99 GiB (106300440576 bytes)"
    assert "never shrinks" in str(refusal)


def test_refuses_to_remove_a_mounted_lv_and_names_the_mount_point():
    refusal = refusal_of(state_of("busy"), name="odd", state="absent", size=None)
    assert refusal.found == "mounted at /mnt/odd"
    assert "Unmount it" in refusal.remedy


def test_removing_a_thin_lv_needs_allow_delete():
    assert str(refusal_of(state_of("converged"), state="absent", size=None)) == (
        "will not remove a thin LV without allow_delete: found thin LV ThinGroup/mapserver of 100 GiB, 0.00% of it written; "
        "asked for state=absent. Set allow_delete: true to remove a thin LV; what it holds is lost for good.")


def test_absent_removes_only_the_asked_lv_and_is_idempotent():
    (action,) = _lvm.plan(state_of("converged"), params(state="absent", size=None, allow_delete=True))
    assert action.argv == ["lvremove", "--yes", "ThinGroup/mapserver"]
    assert _lvm.plan(state_of("converged"), params(name="gone", state="absent", size=None)) == []
    assert _lvm.plan(state_of("pristine"), params(state="absent", size=None)) == []


def test_refuses_a_device_with_a_filesystem_signature():
    (record,) = _blockdev.parse_blkid_export(read_fixture("lvm", "blkid_ext4.txt"))
    vdc = _lvm.Device("/dev/vdc", "/dev/ubdc", True, probe=probe(record))
    refusal = refusal_of(state_of("pristine", [vdc]), pvs=["/dev/vdc"], pool_size="90%VG")
    assert refusal.problem == "/dev/vdc is not blank"
    assert "TYPE=ext4" in refusal.found and "LABEL=precious" in refusal.found
    assert "wipefs --all /dev/vdc" in refusal.remedy


@pytest.mark.parametrize("what, found", [
    (dict(signatures=[{"type": "ext4", "offset": "0x438"}]), "ext4 signature at 0x438"),
    (dict(head_blank=False), "no tool recognises"),
    (dict(holders=["dm-3"]), "used by dm-3"),
])
def test_refuses_a_device_that_blkid_alone_calls_blank(what, found):
    """The one blank-device rule (_blockdev.DeviceProbe.blank): a wipefs signature blkid does not
    report, data in the first MiB or a holder each make the device not blank for a new VG too."""
    vdb = _lvm.Device("/dev/vdb", "/dev/ubdb", True, probe=probe(**what))
    refusal = refusal_of(state_of("pristine", [vdb]), pvs=["/dev/vdb"], pool_size="90%VG")
    assert refusal.problem == "/dev/vdb is not blank"
    assert found in refusal.found


def test_refuses_a_device_of_another_vg_and_a_missing_device():
    in_vg = _lvm.Device("/dev/vdb", "/dev/ubdb", True, pv_vg="ThinGroup", is_pv=True)
    refusal = refusal_of(state_of("pristine", [in_vg]), vg="DataGroup", pvs=["/dev/vdb"], pool_size="90%VG")
    assert refusal.problem == "/dev/vdb already belongs to volume group ThinGroup"
    missing = _lvm.Device("/dev/vdz", "/dev/vdz", False)
    assert "does not exist" in refusal_of(state_of("pristine", [missing]), pvs=["/dev/vdz"], pool_size="90%VG").problem


def test_an_orphan_pv_may_build_the_vg():
    orphan = _lvm.Device("/dev/vdb", "/dev/ubdb", True, pv_vg="", is_pv=True)
    actions = _lvm.plan(state_of("pristine", [orphan]), params(pvs=["/dev/vdb"], pool_size="90%VG"))
    assert actions[0].kind == "vg_create"


def test_refuses_missing_vg_or_pool_without_creation_parameters():
    refusal = refusal_of(state_of("converged", vg="Nope"), vg="Nope")
    assert refusal.problem == "volume group Nope does not exist" and refusal.found == "volume groups: ThinGroup"
    refusal = refusal_of(state_of("converged"), thinpool="Nope", name="other")
    assert refusal.problem == "thin pool ThinGroup/Nope does not exist" and refusal.found == "thin pools in ThinGroup: ThinData"


def test_refuses_a_pool_that_does_not_fit():
    refusal = refusal_of(state_of("converged"), thinpool="Second", name="other", pool_size="400000 extents")
    assert refusal.found == "201 free extents (804 MiB)"
    assert refusal.requested == "pool_size 400000 extents (400000 extents, 1.53 TiB)"
    assert "too little free space to grow" in refusal_of(state_of("converged"), pool_size="8G").problem


def test_refuses_lvs_of_the_wrong_kind_or_pool():
    busy = state_of("busy")
    assert refusal_of(busy, thinpool="plain", name="other").problem == "ThinGroup/plain is not a thin pool"
    assert refusal_of(busy, name="plain").problem == "ThinGroup/plain is not a thin LV"
    assert refusal_of(busy, name="plain", state="absent", size=None).problem == "ThinGroup/plain is not a thin LV"
    refusal = refusal_of(busy, thinpool="Other", name="mapserver", pool_size="10 extents")
    assert (refusal.found, refusal.requested) == ("pool ThinData", "pool Other")


@pytest.mark.parametrize(
    "overrides, problem",
    [
        (dict(size="12Q"), "size is not understood"),
        (dict(size="0"), "size is not understood"),
        (dict(name="-x"), "name is not a valid LVM name"),
        (dict(name="a_tdata"), "name is not a valid LVM name"),
        (dict(thinpool="snapshot1"), "thinpool is not a valid LVM name"),
        (dict(vg="a/b"), "vg is not a valid LVM name"),
        (dict(name="ThinData"), "the thin LV and its pool cannot share a name"),
        (dict(chunk_size="100K"), "chunk_size is not a valid thin pool chunk size"),
        (dict(chunk_size="2G"), "chunk_size is not a valid thin pool chunk size"),
        (dict(pool_metadata_size="1M"), "pool_metadata_size is out of range"),
        (dict(pool_size="120%VG"), "pool_size is not understood"),
        (dict(pool_size="10%PVS"), "pool_size is not understood"),
        (dict(thinpool="Second", pool_size="0"), "pool_size is not understood"),
        (dict(thinpool="Second", pool_size="0G"), "pool_size is not understood"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(overrides, problem):
    assert refusal_of(state_of("converged"), **overrides).problem == problem


@pytest.mark.parametrize("option", ["size", "pool_size", "pool_metadata_size", "chunk_size"])
@pytest.mark.parametrize("bare", ["400000", 400000, "1.5", 1.5])
def test_a_bare_number_in_any_size_option_is_refused_with_the_fix(option, bare):
    refusal = refusal_of(state_of("converged"), **{"thinpool": "Second", option: bare})
    assert refusal.problem == "%s is not understood" % option
    assert "%s %s: a bare number is ambiguous" % (option, bare) in refusal.remedy and "write a unit, e.g. 100G" in refusal.remedy
    if option == "pool_size":
        assert "or a count of extents, e.g. 400000 extents" in refusal.remedy


# ------------------------------------------------------------------ return values, diff, warnings


def test_check_mode_prediction_on_a_pristine_node():
    state = state_of("pristine", [blank_vdb()])
    request = params(pvs=["/dev/vdb"], pool_size="1800 extents", chunk_size="64K")
    actions = _lvm.plan(state, request)
    result = _lvm.report(None, state, None, request, actions)
    assert result["lv"]["size_bytes"] == 100 * GIB and result["lv"]["mapper_path"] == "/dev/mapper/ThinGroup-mapserver"
    assert result["pool"]["size_bytes"] == 1800 * 4 * MIB and result["pool"]["overcommitted"] is True
    assert result["vg"]["pvs"] == ["/dev/vdb"] and result["vg"]["size_bytes"] is None
    assert result["diff"]["before"] == {"vg": {}, "pool": {}, "lv": {}}
    assert result["diff"]["after"]["lv"] == {"name": "mapserver", "pool": "ThinData", "size_bytes": 100 * GIB, "active": True}
    assert any("over-committed" in warning for warning in result["warnings"])


def test_check_mode_prediction_equals_the_observed_result_after_a_grow():
    before = state_of("converged")
    actions = _lvm.plan(before, params(size="120G"))
    predicted = _lvm.report(None, before, None, params(size="120G"), actions)
    assert predicted["lv"]["size_bytes"] == 120 * GIB
    assert predicted["pool"]["virtual_allocated_bytes"] == 120 * GIB
    assert predicted["diff"]["before"]["lv"]["size_bytes"] == 100 * GIB
    assert predicted["diff"]["after"]["lv"]["size_bytes"] == 120 * GIB


def test_converged_result_reports_pool_usage_and_the_over_commit():
    state = state_of("converged")
    result = _lvm.report(None, state, state, params(), [])
    assert result["pool"] == {
        "name": "ThinData", "size_bytes": 7725907968, "data_percent": 0.0, "metadata_percent": 10.79, "metadata_size_bytes": 8 * MIB,
        "chunk_size_bytes": 65536, "zero": True, "virtual_allocated_bytes": 100 * GIB, "overcommitted": True,
    }
    assert result["vg"] == {"name": "ThinGroup", "size_bytes": 8585740288, "free_bytes": 843055104, "extent_size_bytes": 4 * MIB, "pvs": ["/dev/vdb"]}
    assert result["lv"]["attr"] == "Vwi-a-tz--"
    assert result["warnings"] == [
        "thin pool ThinGroup/ThinData is over-committed: its thin LVs total 100 GiB of virtual size on 7.2 GiB of pool data space. "
        "Writes fail (VMs pause or corrupt) once the pool fills: watch pool.data_percent or enable thin pool autoextend."
    ]


def test_removal_prediction_releases_the_virtual_size():
    state = state_of("converged")
    request = params(state="absent", size=None, allow_delete=True)
    result = _lvm.report(None, state, None, request, _lvm.plan(state, request))
    assert result["lv"] == {} and result["pool"]["virtual_allocated_bytes"] == 0 and result["pool"]["overcommitted"] is False
    assert result["warnings"] == []


def test_settings_an_existing_pool_keeps_are_warned_about():
    state = state_of("busy")
    warnings = _lvm.report(None, state, state, params(chunk_size="256K", pool_metadata_size="8M", pool_size="1000 extents"), [])["warnings"]
    assert any("keeps its chunk size 64 KiB; chunk_size asks 256 KiB" in warning for warning in warnings)
    assert any("keeps its metadata size 16 MiB" in warning for warning in warnings)
    assert any("keeps its size 7.23 GiB" in warning for warning in warnings)


def test_a_nearly_full_pool_is_warned_about():
    state = state_of("converged")
    state.lvs["ThinData"].data_percent = 91.5
    warnings = _lvm.report(None, state, state, params(), [])["warnings"]
    assert "thin pool ThinGroup/ThinData data is 91.50% full." in warnings


def test_check_mode_of_several_lvs_on_a_pristine_node_predicts_each_and_says_shared_steps_once():
    """Seen in the lab: planning the second LV without the VG/pool steps broke its prediction."""
    state = state_of("pristine", [blank_vdb()])
    lvs = [{"name": "vm1", "size": "10G", "state": None}, {"name": "vm2", "size": "20G", "state": None}]
    module = ScriptedModule(params=dict(params(name=None, pvs=["/dev/vdb"], pool_size="1800 extents"), lvs=lvs), check_mode=True)
    with pytest.raises(SystemExit):
        run_plan(module, lambda _runner, _params: state, _lvm.plan, None, _lvm.report, items_option="lvs")
    kind, result = module.exit
    assert kind == "exit" and result["changed"]
    assert [item["lv"]["size_bytes"] for item in result["results"]] == [10 * GIB, 20 * GIB]
    assert [summary.split(" ")[:2] for summary in result["actions"]].count(["create", "volume"]) == 1


def test_a_report_cut_short_under_load_is_read_again():
    # lab, node3 under load 16: pvs exited 0 having printed only the first two lines of its JSON report
    module = ScriptedModule([(0, '  {\n      "report": [\n', ""), (0, '{"report": [{"pv": []}]}', "")])
    assert CommandRunner(module).query_json(["pvs", "--reportformat", "json"]) == {"report": [{"pv": []}]}
    assert len(module.calls) == 2


def test_a_mounted_lv_with_allow_delete_is_refused_but_check_mode_predicts_its_removal():
    # check mode cannot know that an earlier task of the play (btrfs_brick state=absent) unmounts it
    with pytest.raises(MissingPrerequisite) as missing:
        _lvm.plan(state_of("busy"), params(name="odd", state="absent", size=None, allow_delete=True))
    assert missing.value.found == "mounted at /mnt/odd" and missing.value.assumed == "an earlier task has unmounted it"
    assert [action.kind for action in missing.value.predicted] == ["lv_remove"]
