# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

from ansible_collections.vmstorage.gluster.plugins.module_utils import _fstab

from ansible_collections.vmstorage.gluster.tests.unit.helpers import read_fixture


def test_escape_round_trip_for_blanks_and_backslash():
    assert _fstab.escape_field("my label\\x") == "my\\040label\\134x"
    assert _fstab.unescape_field("my\\040label\\134x") == "my label\\x"


def test_parse_keeps_comments_and_decodes_fields():
    table = _fstab.FstabTable(read_fixture("btrfs", "fstab_node.txt"))
    brick = table.entries_for("/srv/mapserver/")
    assert len(brick) == 1
    assert brick[0].spec == "LABEL=mapserver"
    assert brick[0].options == ["nodatacow", "autodefrag"]
    assert (brick[0].freq, brick[0].passno) == (0, 2)
    assert brick[0].source_kind() == ("LABEL", "mapserver")
    spaced = table.entries_for("/srv/with space")
    assert spaced[0].source_kind() == ("UUID", "0b1e7c2e-7d0e-4f5c-9b51-3c1b2f0d1a99")


def test_replacing_a_line_keeps_every_other_byte():
    text = read_fixture("btrfs", "fstab_node.txt")
    table = _fstab.FstabTable(text)
    entry = _fstab.FstabEntry("LABEL=mapserver", "/srv/mapserver", "btrfs", ["nodatacow", "autodefrag"], 0, 0)
    new = table.with_entry(entry)
    old_lines, new_lines = text.splitlines(True), new.splitlines(True)
    assert len(old_lines) == len(new_lines)
    changed = [index for index, (old, line) in enumerate(zip(old_lines, new_lines)) if old != line]
    assert changed == [table.entries_for("/srv/mapserver")[0].index]
    assert new_lines[changed[0]] == "LABEL=mapserver /srv/mapserver btrfs nodatacow,autodefrag 0 0\n"


def test_appending_to_a_file_without_final_newline():
    table = _fstab.FstabTable("# sentinel\tline  kept")
    new = table.with_entry(_fstab.FstabEntry("LABEL=my vm", "/srv/my vm", "btrfs", [], 0, 0))
    assert new == "# sentinel\tline  kept\nLABEL=my\\040vm /srv/my\\040vm btrfs defaults 0 0\n"
    assert _fstab.FstabTable(new).entries_for("/srv/my vm")[0].spec == "LABEL=my vm"


def test_removing_a_mount_point_keeps_the_rest():
    text = read_fixture("btrfs", "fstab_node.txt")
    new = _fstab.FstabTable(text).without_mount_point("/srv/mapserver")
    assert "/srv/mapserver" not in new
    assert [line for line in text.splitlines(True) if "/srv/mapserver" not in line] == new.splitlines(True)


def test_atomic_write_keeps_mode_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "fstab"
    target.write_text("# old\n")
    os.chmod(str(target), 0o640)
    _fstab.write_atomically(str(target), "# new\n")
    assert target.read_text() == "# new\n"
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o640
    assert os.listdir(str(tmp_path)) == ["fstab"]


def test_atomic_write_creates_a_missing_file_0644(tmp_path):
    target = tmp_path / "fstab"
    _fstab.write_atomically(str(target), "x\n")
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o644


def test_read_fstab_of_a_missing_file_is_empty(tmp_path):
    assert _fstab.read_fstab(str(tmp_path / "none")).entries == []


def test_mountinfo_joins_vfs_and_btrfs_options():
    mounts = _fstab.parse_mountinfo(read_fixture("btrfs", "mountinfo_mounted.txt"))
    brick = _fstab.mount_at(mounts, "/srv/mapserver")
    assert brick.fstype == "btrfs"
    assert brick.source == "/dev/mapper/ThinGroup-mapserver"
    assert "nodatacow" in brick.options and "autodefrag" in brick.options and "relatime" in brick.options
    assert brick.options.count("rw") == 1
    assert _fstab.mount_at(mounts, "/srv/nothing") is None


def test_mountinfo_takes_the_top_of_stacked_mounts_and_decodes_spaces():
    text = (
        "30 1 0:30 / /srv/a rw - tmpfs tmpfs rw\n"
        "31 30 0:31 / /srv/a rw,noatime - btrfs /dev/ubdc rw,space_cache=v2\n"
        "32 1 0:32 / /srv/b\\040c rw - tmpfs tmpfs rw\n"
    )
    mounts = _fstab.parse_mountinfo(text)
    assert _fstab.mount_at(mounts, "/srv/a").source == "/dev/ubdc"
    assert _fstab.mount_at(mounts, "/srv/b c").fstype == "tmpfs"
