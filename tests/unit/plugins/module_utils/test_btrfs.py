# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _blockdev, _btrfs, _fstab
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import MissingPrerequisite, Refusal

from ansible_collections.vmstorage.gluster.tests.unit.helpers import read_fixture

# Device numbers of the lab: the thin LV (dm-4), the two data disks.
DM4 = os.makedev(253, 4)
UBDB = os.makedev(98, 16)
UBDC = os.makedev(98, 32)
RDEVS = {"/dev/mapper/ThinGroup-mapserver": DM4, "/dev/ubdb": UBDB, "/dev/ubdc": UBDC}
BOOT = "nofail,x-systemd.device-timeout=90s,x-systemd.before=glusterd.service"
BRICK_LINE = "LABEL=mapserver /srv/mapserver btrfs nodatacow,autodefrag,%s 0 0\n" % BOOT
# the line this module wrote before the boot options: converged to BRICK_LINE
OLD_BRICK_LINE = "LABEL=mapserver /srv/mapserver btrfs nodatacow,autodefrag 0 0\n"


def params(**changes):
    values = dict(device="/dev/ThinGroup/mapserver", label="mapserver", mount_point="/srv/mapserver", mount_options=["nodatacow", "autodefrag"],
                  fstab_source="label", fstab_passno=0, brick_dir="data", owner=None, group=None, mode=None,
                  state="present", allow_format=False)
    values.update(changes)
    return values


def probe(blkid_name=None, wipefs_name="wipefs_blank.json", head_blank=True, label=None, rdev=DM4, device_holders=()):
    record = dict(_blockdev.parse_blkid_export(read_fixture("btrfs", blkid_name))[0]) if blkid_name else {}
    record.pop("DEVNAME", None)
    if label is not None:
        record["LABEL"] = label
    signatures = _blockdev.parse_wipefs_json(read_fixture("btrfs", wipefs_name))
    return _blockdev.DeviceProbe("/dev/dm-4", rdev, record, False, signatures, head_blank, list(device_holders))


def live_brick_mount(mountinfo="mountinfo_mounted.txt"):
    return _fstab.mount_at(_fstab.parse_mountinfo(read_fixture("btrfs", mountinfo)), "/srv/mapserver")


def lab_fstab(extra=""):
    return _fstab.FstabTable(read_fixture("btrfs", "fstab_other.txt") + extra)


def blank_state(**changes):
    fields = dict(device=probe(), device_kind="block", fstab=lab_fstab(), records=[],
                  mount_point=_btrfs.PathState("/srv/mapserver"))
    fields.update(changes)
    return _btrfs.BrickState(**fields)


def converged_state(**changes):
    mount = live_brick_mount()
    fields = dict(
        device=probe("blkid_probe_btrfs.txt", "wipefs_btrfs.json"), device_kind="block", device_mounts=["/srv/mapserver"],
        mount=mount, mount_rdev=DM4, fstab=lab_fstab(BRICK_LINE), records=scan_records(),
        mount_point=_btrfs.PathState("/srv/mapserver", "directory", 0, 0, 0o755, ["data"]),
        brick=_btrfs.PathState("/srv/mapserver/data", "directory", 0, 0, 0o755, []), fs_has_data=False,
        super=_btrfs.parse_dump_super(read_fixture("btrfs", "dump_super.txt")), device_bytes=1 << 30,
    )
    fields["fstab_targets"] = dict((entry.index, DM4) for entry in fields["fstab"].entries_for("/srv/mapserver"))
    fields.update(changes)
    return _btrfs.BrickState(**fields)


def scan_records(name="blkid_scan_mounted.txt"):
    records = _blockdev.parse_blkid_export(read_fixture("btrfs", name))
    for record in records:
        record["rdev"] = RDEVS.get(record["DEVNAME"], 1)
    return records


def kinds(actions):
    return [action.kind for action in actions]


def refusal(brick_state, **changes):
    with pytest.raises(Refusal) as caught:
        _btrfs.plan(brick_state, params(**changes))
    return str(caught.value)


# --- options -------------------------------------------------------------------------------


def test_live_options_of_the_lab_satisfy_the_default_request():
    drift = _btrfs.option_drift(["nodatacow", "autodefrag"], live_brick_mount().options)
    assert drift.remount == [] and drift.unchangeable == []


def test_a_new_option_is_remounted_and_fstab_only_options_ignored():
    drift = _btrfs.option_drift(["nodatacow", "autodefrag", "noatime", "nofail", "x-systemd.requires=a", "defaults"],
                                live_brick_mount().options)
    assert drift.remount == ["noatime"]


def test_dropped_btrfs_features_are_switched_off():
    assert _btrfs.option_drift(["autodefrag"], live_brick_mount().options).remount == ["datasum", "datacow"]
    assert _btrfs.option_drift(["nodatasum", "autodefrag"], live_brick_mount().options).remount == ["datacow"]
    assert _btrfs.option_drift(["nodatacow"], live_brick_mount().options).remount == ["noautodefrag"]


def test_compress_matches_the_reported_level():
    live = live_brick_mount("mountinfo_compress.txt").options
    assert "compress=zstd:3" in live
    assert _btrfs.option_drift(["autodefrag", "compress=zstd"], live).remount == []
    assert _btrfs.option_drift(["nodatacow", "autodefrag"], live).remount == ["nodatacow", "compress=no"]


def test_nodatacow_with_compress_is_refused():
    assert "exclude each other" in refusal(converged_state(), mount_options=["nodatacow", "compress=zstd"])
    assert kinds(_btrfs.plan(converged_state(), params(mount_options=["nodatacow", "autodefrag", "compress=no"]))) == ["fstab"]


def test_mount_time_only_options_are_unchangeable():
    drift = _btrfs.option_drift(["nodatacow", "autodefrag", "subvol=vm"], live_brick_mount().options)
    assert drift.unchangeable == ["subvol=/vm"]
    assert _btrfs.option_drift(["subvol=/"], live_brick_mount().options).unchangeable == []


def test_prediction_after_remount():
    live = live_brick_mount().options
    after = _btrfs.options_after_remount(live, ["datacow", "datasum", "noatime"])
    assert "nodatacow" not in after and "nodatasum" not in after and "noatime" in after


@pytest.mark.parametrize("given, expected", [(0o750, 0o750), ("0750", 0o750), ("755", 0o755), ("u+rwx", None), (0o17777, None)])
def test_parse_mode(given, expected):
    assert _btrfs.parse_mode(given) == expected


# --- plan: present ---------------------------------------------------------------------------


def test_blank_device_gets_mkfs_mountpoint_fstab_mount_and_brick_dir():
    actions = _btrfs.plan(blank_state(), params())
    assert kinds(actions) == ["mkfs", "mkdir", "fstab", "mount", "brick_dir"]
    assert actions[0].argv == ["mkfs.btrfs", "-L", "mapserver", "/dev/dm-4"]
    assert actions[2].params["entry"].render() + "\n" == BRICK_LINE
    assert actions[3].argv == ["mount", "/srv/mapserver"]


def test_converged_brick_plans_nothing():
    assert _btrfs.plan(converged_state(), params()) == []


def test_a_line_written_before_the_boot_options_gets_them_and_nothing_else_changes():
    actions = _btrfs.plan(converged_state(fstab=lab_fstab(OLD_BRICK_LINE)), params())
    assert [action.summary for action in actions] == ["set fstab line: " + BRICK_LINE.strip()]


def test_boot_options_the_user_sets_are_kept_and_never_reach_the_kernel():
    options = ["nodatacow", "x-systemd.device-timeout=90s", "noatime"]
    actions = _btrfs.plan(converged_state(), params(mount_options=options))
    assert actions[0].params["entry"].options == options + ["nofail", "x-systemd.before=glusterd.service"]
    assert actions[1].argv[:3] == ["mount", "-o", "remount,nodatacow,noatime,noautodefrag"]


def test_option_change_plans_fstab_and_remount():
    actions = _btrfs.plan(converged_state(), params(mount_options=["nodatacow", "autodefrag", "noatime"]))
    assert kinds(actions) == ["fstab", "remount"]
    assert actions[1].argv == ["mount", "-o", "remount,nodatacow,autodefrag,noatime", "/dev/dm-4", "/srv/mapserver"]
    assert actions[1].summary == "remount /srv/mapserver to apply noatime"


def test_dropped_noatime_is_switched_back_to_relatime():
    state = converged_state(mount=live_brick_mount("mountinfo_noatime.txt"))
    actions = _btrfs.plan(state, params())
    assert actions[0].argv == ["mount", "-o", "remount,nodatacow,autodefrag,relatime", "/dev/dm-4", "/srv/mapserver"]


def test_unchangeable_option_is_refused():
    assert "cannot change on a live btrfs mount" in refusal(converged_state(), mount_options=["space_cache=v1"])


def test_seed_fstab_line_with_pass_2_is_rewritten_to_0_0():
    state = converged_state(fstab=lab_fstab(OLD_BRICK_LINE.replace(" 0 0", " 0 2")))
    actions = _btrfs.plan(state, params())
    assert kinds(actions) == ["fstab"]
    assert actions[0].summary == "set fstab line: " + BRICK_LINE.strip()


def test_brick_dir_owner_and_mode():
    actions = _btrfs.plan(converged_state(owner_uid=64055, group_gid=993), params(owner="64055", group="kvm", mode="0750"))
    assert actions[0].summary == "brick directory /srv/mapserver/data: owner 64055:993, mode 0750"


def test_missing_brick_dir_is_created_on_a_mounted_fs():
    state = converged_state(brick=_btrfs.PathState("/srv/mapserver/data"))
    assert [action.summary for action in _btrfs.plan(state, params())] == ["brick directory /srv/mapserver/data: create"]


# --- the brick directory is never followed through a link ------------------------------------


@pytest.fixture
def mount_point(tmp_path):
    """A mount point with a directory outside it that a planted link points at (the node's /root, say)."""
    (tmp_path / "mnt").mkdir()
    (tmp_path / "victim").mkdir(mode=0o700)
    return tmp_path


def brick_dir_action(path, brick_dir="data", **owner_mode):
    params = dict(uid=None, gid=None, mode=None)
    params.update(owner_mode)
    return _btrfs.Action("brick_dir", "brick directory", path=os.path.join(path, brick_dir), **params)


@pytest.mark.parametrize("brick_dir, link_at", [("data", "data"), ("vm/data", "vm")])
def test_a_link_at_the_brick_dir_or_on_the_way_is_read_as_a_link(mount_point, brick_dir, link_at):
    mnt = str(mount_point / "mnt")
    os.symlink(str(mount_point / "victim"), os.path.join(mnt, link_at))
    os.mkdir(str(mount_point / "victim" / "data"))  # what following "vm" would find
    brick = _btrfs.read_brick_path(mnt, brick_dir)
    assert brick.kind == "symlink" and brick.link == "%s/%s -> %s/victim" % (mnt, link_at, mount_point)
    assert _btrfs._has_data_outside(mnt, brick_dir) is True  # pylint: disable=protected-access


def test_brick_paths_without_links_read_as_before(mount_point):
    mnt = str(mount_point / "mnt")
    assert _btrfs.read_brick_path(mnt, "vm/data").kind == "missing"
    os.makedirs(os.path.join(mnt, "vm", "data"))
    assert _btrfs.read_brick_path(mnt, "vm/data").kind == "directory"
    with open(os.path.join(mnt, "file"), "w", encoding="utf-8"):
        pass
    assert _btrfs.read_brick_path(mnt, "file/data").kind == "other"


def test_a_brick_dir_that_is_a_link_is_refused():
    link = "/srv/mapserver/data -> /root"
    state = converged_state(brick=_btrfs.PathState("/srv/mapserver/data", "symlink", link=link))
    message = refusal(state, owner="64055", mode="0750")
    assert message.startswith("the brick directory is a symbolic link: found %s; asked for a directory /srv/mapserver/data" % link)
    assert "Remove the link" in message


@pytest.mark.parametrize("brick_dir, link_at", [("data", "data"), ("vm/data", "vm")])
def test_apply_never_changes_or_makes_anything_through_a_link(mount_point, brick_dir, link_at):
    """A link planted after observe(): owner and mode are set on a descriptor opened without following it."""
    mnt, victim = str(mount_point / "mnt"), str(mount_point / "victim")
    os.symlink(victim, os.path.join(mnt, link_at))
    with pytest.raises(Refusal) as caught:
        _btrfs.apply(None, None, params(mount_point=mnt, brick_dir=brick_dir), [brick_dir_action(mnt, brick_dir, mode=0o777)])
    assert caught.value.problem == "the brick directory is a symbolic link"
    assert caught.value.found == "%s/%s -> %s" % (mnt, link_at, victim)
    assert os.stat(victim).st_mode & 0o777 == 0o700 and os.listdir(victim) == []


def test_apply_makes_the_brick_dir_and_sets_owner_and_mode(mount_point):
    mnt = str(mount_point / "mnt")
    action = brick_dir_action(mnt, "vm/data", uid=os.getuid(), gid=os.getgid(), mode=0o750)
    _btrfs.apply(None, None, params(mount_point=mnt, brick_dir="vm/data"), [action])
    info = os.lstat(os.path.join(mnt, "vm", "data"))
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o750 and info.st_uid == os.getuid()
    assert stat.S_IMODE(os.lstat(os.path.join(mnt, "vm")).st_mode) == 0o755 & ~current_umask()


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_ext4_device_is_refused_without_force():
    state = blank_state(device=probe("blkid_probe_ext4.txt", "wipefs_ext4.json", head_blank=False))
    message = refusal(state)
    assert message.startswith("device is not blank: found /dev/ThinGroup/mapserver holds ext4 labelled 'scratch'")
    assert "allow_format" in message


def test_unrecognised_data_is_refused_without_force():
    assert "no tool recognises" in refusal(blank_state(device=probe(head_blank=False)))


def test_allow_format_wipes_then_formats_an_unmounted_device():
    state = blank_state(device=probe("blkid_probe_ext4.txt", "wipefs_ext4.json", head_blank=False))
    actions = _btrfs.plan(state, params(allow_format=True))
    assert kinds(actions)[:2] == ["wipe", "mkfs"]
    assert actions[1].argv == ["mkfs.btrfs", "-f", "-L", "mapserver", "/dev/dm-4"]


def test_allow_format_is_refused_while_mounted_or_in_use():
    state = converged_state(device=probe("blkid_probe_btrfs.txt", "wipefs_btrfs.json", label="other"), fs_has_data=True)
    assert refusal(state, allow_format=True).startswith("will not format a mounted device")
    held = blank_state(device=probe("blkid_probe_ext4.txt", "wipefs_ext4.json", head_blank=False, device_holders=["dm-0"]))
    assert "used by dm-0" in refusal(held, allow_format=True)


def test_other_label_with_data_is_refused():
    state = converged_state(device=probe("blkid_probe_btrfs.txt", "wipefs_btrfs.json", label="other"), fs_has_data=True)
    assert refusal(state).startswith("device is not blank: found /dev/ThinGroup/mapserver holds btrfs labelled 'other'")


def test_empty_enough_btrfs_with_another_label_is_relabelled():
    state = converged_state(device=probe("blkid_probe_btrfs.txt", "wipefs_btrfs.json", label="old"),
                            fstab=lab_fstab(BRICK_LINE.replace("mapserver ", "old ", 1)))
    actions = _btrfs.plan(state, params())
    assert kinds(actions) == ["relabel", "fstab"]
    assert actions[0].argv == ["btrfs", "filesystem", "label", "/srv/mapserver", "mapserver"]


def test_a_second_device_with_the_label_is_refused_for_label_mounts():
    state = converged_state(records=scan_records("blkid_scan_duplicate_label.txt"))
    message = refusal(state)
    assert message.startswith("LABEL=mapserver is ambiguous") and "/dev/ubdc" in message
    assert _btrfs.plan(state, params(fstab_source="device"))[0].summary.startswith("set fstab line: /dev/ThinGroup/mapserver ")


def test_label_used_by_another_fstab_line_is_refused():
    state = blank_state(fstab=lab_fstab("LABEL=mapserver /srv/old btrfs defaults 0 0\n"))
    assert refusal(state).startswith("fstab already uses LABEL=mapserver for another mount point")


@pytest.mark.parametrize("brick_dir", ["..", "/srv/x", "", ".", "a/../b", "a//b"])
def test_brick_dir_outside_the_mount_is_refused(brick_dir):
    assert refusal(converged_state(), brick_dir=brick_dir).startswith("brick_dir must be a subdirectory")


def test_non_empty_mount_point_is_refused():
    state = blank_state(mount_point=_btrfs.PathState("/srv/mapserver", "directory", 0, 0, 0o755, ["old-data"]))
    assert refusal(state).startswith("mount point is not empty: found /srv/mapserver holds old-data")


def test_another_filesystem_on_the_mount_point_is_refused():
    state = converged_state(device=probe(rdev=UBDC), device_mounts=[])
    assert refusal(state).startswith("another filesystem is mounted on the mount point: found /dev/mapper/ThinGroup-mapserver (btrfs)")


def test_device_mounted_elsewhere_is_refused():
    state = blank_state(device_mounts=["/mnt/old"])
    assert refusal(state).startswith("device is mounted elsewhere")


def test_fstab_line_for_another_device_is_refused():
    state = blank_state(fstab=lab_fstab("/dev/vdc /srv/mapserver btrfs defaults 0 0\n"))
    state.fstab_targets = {state.fstab.entries_for("/srv/mapserver")[0].index: UBDC}
    assert refusal(state).startswith("fstab mounts another device on the mount point")


def test_missing_device_is_refused_with_the_run_predicted_for_check_mode():
    missing = blank_state(device=None, device_kind="missing")
    with pytest.raises(MissingPrerequisite) as raised:
        _btrfs.plan(missing, params())
    assert str(raised.value).startswith("device does not exist: found no /dev/ThinGroup/mapserver on the node")
    # what a real run does once an earlier task (thin_lv) made the device: the plan of a blank device
    predicted = raised.value.predicted
    assert [action.kind for action in predicted] == [action.kind for action in _btrfs.plan(blank_state(), params())]
    assert predicted[0].summary == "create btrfs labelled 'mapserver' on /dev/ThinGroup/mapserver"


def test_other_device_kinds_and_bad_label_are_refused():
    assert refusal(blank_state(device=None, device_kind="other")).startswith("device is not a block device")
    assert refusal(blank_state(), label="").startswith("invalid btrfs label")
    assert refusal(blank_state(), mount_point="srv/x").startswith("mount point must be an absolute path")
    assert refusal(blank_state(owner_uid=-1), owner="nobody-here").startswith("no such owner")


def test_uuid_source_for_a_new_filesystem_is_filled_in_at_apply_time():
    actions = _btrfs.plan(blank_state(), params(fstab_source="uuid"))
    fstab = actions[kinds(actions).index("fstab")]
    assert fstab.params["uuid_from"] == "/dev/ThinGroup/mapserver"
    existing = _btrfs.plan(converged_state(), params(fstab_source="uuid"))
    assert existing[0].summary.startswith("set fstab line: UUID=%s /srv/mapserver " % converged_state().device.uuid)


# --- plan: unmounted / absent, and the check-mode prediction -------------------------------


def test_unmounted_only_unmounts():
    actions = _btrfs.plan(converged_state(), params(state="unmounted"))
    assert [action.argv for action in actions] == [["umount", "/srv/mapserver"]]


def test_absent_unmounts_and_drops_the_fstab_line_never_wipes():
    state = converged_state()
    actions = _btrfs.plan(state, params(state="absent"))
    assert kinds(actions) == ["fstab", "umount"]  # the line first: systemd would mount it again from a line still there
    facts, text = _btrfs._predict(state, params(state="absent"), actions)  # pylint: disable=protected-access
    assert BRICK_LINE not in text and text == read_fixture("btrfs", "fstab_other.txt")
    assert facts["mounted"] is False and facts["label"] == "mapserver"
    assert _btrfs.plan(blank_state(), params(state="absent")) == []


def test_absent_refuses_a_foreign_mount():
    state = converged_state(device=probe(rdev=UBDC))
    assert refusal(state, state="absent").startswith("another device is mounted on the mount point")


def test_check_mode_report_predicts_a_new_brick():
    state = blank_state()
    actions = _btrfs.plan(state, params())
    result = _btrfs.report(None, state, None, params(), actions)
    assert result["mounted"] is True and result["label"] == "mapserver" and result["uuid"] is None
    assert result["fstab_line"] + "\n" == BRICK_LINE
    assert result["mount_options"] == ["nodatacow", "autodefrag"]
    assert result["diff"][0]["after"].endswith(BRICK_LINE)


# --- grow ------------------------------------------------------------------------------------


def test_a_grown_device_grows_the_filesystem():
    actions = _btrfs.plan(converged_state(device_bytes=1342177280), params())
    assert [action.summary for action in actions] == ["grow btrfs on /dev/dm-4 from 1 GiB to 1.25 GiB"]
    assert actions[0].argv == ["btrfs", "filesystem", "resize", "max", "/srv/mapserver"]


def test_a_shrunk_device_is_refused():
    assert refusal(converged_state(device_bytes=(1 << 30) - 4096)).startswith("device is smaller than its filesystem")


def test_dump_super_fields():
    fields = _btrfs.parse_dump_super(read_fixture("btrfs", "dump_super.txt"))
    assert fields["label"] == "mapserver"
    assert fields["dev_item.total_bytes"] == str(1 << 30)
    assert fields["num_devices"] == "1"
