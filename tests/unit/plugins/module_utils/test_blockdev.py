# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.vmstorage.gluster.plugins.module_utils import _blockdev

from ansible_collections.vmstorage.gluster.tests.unit.helpers import read_fixture


def probe_of(blkid_name, wipefs_name, head_blank=True, ambivalent=False):
    records = _blockdev.parse_blkid_export(read_fixture("btrfs", blkid_name)) if blkid_name else [{}]
    record = dict(records[0])
    record.pop("DEVNAME", None)
    signatures = _blockdev.parse_wipefs_json(read_fixture("btrfs", wipefs_name))
    return _blockdev.DeviceProbe("/dev/ubdb", 0x6210, record, ambivalent, signatures, head_blank, [])


def test_blkid_probe_of_btrfs():
    probe = probe_of("blkid_probe_btrfs.txt", "wipefs_btrfs.json")
    assert probe.fstype == "btrfs"
    assert probe.label == "mapserver"
    assert len(probe.uuid) == 36
    assert not probe.blank
    assert probe.describe() == "btrfs labelled 'mapserver'"


def test_blank_means_no_signature_and_zero_head():
    assert probe_of(None, "wipefs_blank.json").blank
    unknown = probe_of(None, "wipefs_blank.json", head_blank=False)
    assert not unknown.blank
    assert "no tool recognises" in unknown.describe()
    assert not probe_of(None, "wipefs_blank.json", ambivalent=True).blank


def test_ext4_is_described_with_its_label():
    probe = probe_of("blkid_probe_ext4.txt", "wipefs_ext4.json")
    assert probe.fstype == "ext4"
    assert probe.describe() == "ext4 labelled 'scratch'"


def test_wipefs_lists_signatures_blkid_summarises():
    signatures = _blockdev.parse_wipefs_json(read_fixture("btrfs", "wipefs_btrfs.json"))
    assert [sig["type"] for sig in signatures] == ["btrfs"]
    assert _blockdev.parse_wipefs_json("") == []


def test_scan_finds_every_device_carrying_a_label():
    records = _blockdev.parse_blkid_export(read_fixture("btrfs", "blkid_scan_duplicate_label.txt"))
    names = [record["DEVNAME"] for record in records]
    assert "/dev/mapper/ThinGroup-mapserver" in names and "/dev/ubdc" in names
    for number, record in enumerate(records):
        record["rdev"] = number
    thin_lv = names.index("/dev/mapper/ThinGroup-mapserver")
    assert _blockdev.devices_carrying(records, "LABEL", "mapserver") == ["/dev/mapper/ThinGroup-mapserver", "/dev/ubdc"]
    assert _blockdev.devices_carrying(records, "LABEL", "mapserver", except_rdev=thin_lv) == ["/dev/ubdc"]
    assert _blockdev.devices_carrying(records, "TYPE", "LVM2_member") == ["/dev/ubdb"]
    assert _blockdev.devices_carrying(records, "LABEL", "nobody") == []


def test_head_is_blank_reads_the_first_mebibyte(tmp_path):
    image = tmp_path / "disk"
    image.write_bytes(b"\0" * (2 << 20))
    assert _blockdev.head_is_blank(str(image))
    with open(str(image), "r+b") as handle:
        handle.seek(4096)
        handle.write(b"x")
    assert not _blockdev.head_is_blank(str(image))


def test_device_number_is_none_for_a_plain_file(tmp_path):
    (tmp_path / "f").write_text("")
    assert _blockdev.device_number(str(tmp_path / "f")) is None
    assert _blockdev.device_number(str(tmp_path / "missing")) is None


def test_a_device_something_is_stacked_on_is_not_blank():
    """A dm or md holder uses the device even when it reads as empty: the strictest rule refuses it."""
    probe = probe_of(None, "wipefs_blank.json")
    probe.holders = ["dm-3"]
    assert not probe.blank
    assert probe.describe() == "used by dm-3"
