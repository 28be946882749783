# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""What is on a block device, and which devices carry a given label or UUID.

Read from ``blkid -p -o export`` (low-level probe of one device, no cache), ``blkid -c /dev/null
-o export`` (every device, probed afresh: a cloned or snapshotted LV shows up at once),
``wipefs --json --no-act`` (every signature libblkid knows, partition tables included) and the
first mebibyte of the device itself (data no tool recognises is still data). Devices are compared
by device number, so /dev/vdb and /dev/ubdb, or /dev/VG/LV and /dev/dm-3, are one device.
"""

from __future__ import annotations

import json
import os
import stat
import typing as t

from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandRunner

# blkid exit codes: 2 = nothing found, 8 = ambivalent low-level probe (several signatures).
BLKID_NOTHING_FOUND = 2
BLKID_AMBIVALENT = 8
# Every common signature (partition tables, LVM, md, LUKS, filesystems, btrfs at 64 KiB) lies in
# the first mebibyte; a blank disk or a fresh thin LV reads zeros there.
HEAD_BYTES = 1024 * 1024


def parse_blkid_export(text: str) -> t.List[t.Dict[str, t.Any]]:
    """The records of ``blkid -o export`` output: one dict per device (blank-line separated)."""
    records = []
    current = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            if current:
                records.append(current)
            current = {}
            continue
        current[key.strip()] = value
    if current:
        records.append(current)
    return records


def parse_wipefs_json(text: str) -> t.List[t.Dict[str, t.Any]]:
    """The signatures of ``wipefs --json``: a list of dicts with type, offset, label, uuid."""
    return list(json.loads(text or "{}").get("signatures", []))


class DeviceProbe:
    """What one device carries: blkid's record, wipefs's signatures and whether its head is blank."""

    __slots__ = ("path", "rdev", "record", "ambivalent", "signatures", "head_blank", "holders")

    def __init__(self, path, rdev, record, ambivalent, signatures, head_blank, holders):
        self.path = path
        self.rdev = rdev
        self.record = record
        self.ambivalent = ambivalent
        self.signatures = signatures
        self.head_blank = head_blank
        self.holders = holders

    @property
    def fstype(self) -> t.Optional[str]:
        return self.record.get("TYPE") or self.record.get("PTTYPE")

    @property
    def label(self) -> t.Optional[str]:
        return self.record.get("LABEL")

    @property
    def uuid(self) -> t.Optional[str]:
        return self.record.get("UUID")

    @property
    def blank(self) -> bool:
        """The collection's one rule for a device it may write a signature on (a PV, a filesystem):
        no blkid record, no ambivalent probe, no wipefs signature, only zeros in its first mebibyte,
        and nothing stacked on it (a dm or md holder uses it even when it looks empty)."""
        return (not self.record and not self.ambivalent and not self.signatures and self.head_blank
                and not self.holders)

    def describe(self) -> str:
        """A few words on what the device holds, for messages."""
        if self.ambivalent:
            return "several conflicting signatures"
        found = []
        if self.fstype:
            found.append(self.fstype + (" labelled %r" % self.label if self.label else ""))
        found += ["%s signature at %s" % (sig.get("type"), sig.get("offset")) for sig in self.signatures
                  if sig.get("type") != self.fstype]
        if not found and not self.head_blank:
            found.append("data no tool recognises (its first MiB is not zero)")
        if self.holders:
            found.append("used by " + ", ".join(self.holders))
        return ", ".join(found) or "nothing (blank)"


def device_number(path: str) -> t.Optional[int]:
    """The device number (st_rdev) of the block device at ``path`` (symlinks followed), or None."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_rdev if stat.S_ISBLK(info.st_mode) else None


def holders(rdev: int) -> t.List[str]:
    """Kernel devices stacked on this one (dm, md ...): names from /sys/dev/block/M:m/holders."""
    try:
        return sorted(os.listdir("/sys/dev/block/%d:%d/holders" % (os.major(rdev), os.minor(rdev))))
    except OSError:
        return []


def size_bytes(rdev: int) -> int:
    """The size of a block device in bytes (/sys/dev/block/M:m/size counts 512-byte sectors)."""
    with open("/sys/dev/block/%d:%d/size" % (os.major(rdev), os.minor(rdev)), encoding="ascii") as handle:
        return int(handle.read().strip()) * 512


def head_is_blank(path: str, length: int = HEAD_BYTES) -> bool:
    with open(path, "rb") as handle:
        return not handle.read(length).strip(b"\0")


def probe(runner: CommandRunner, path: str) -> DeviceProbe:
    """A DeviceProbe of the block device at ``path`` (which must exist)."""
    result = runner.read(["blkid", "-p", "-o", "export", path], ok_rcs=(0, BLKID_NOTHING_FOUND, BLKID_AMBIVALENT))
    records = parse_blkid_export(result.stdout) if result.rc == 0 else []
    record = records[0] if records else {}
    record.pop("DEVNAME", None)
    signatures = parse_wipefs_json(runner.read(["wipefs", "--json", "--no-act", path]).stdout)
    rdev = device_number(path)
    return DeviceProbe(path, rdev, record, result.rc == BLKID_AMBIVALENT, signatures, head_is_blank(path), holders(rdev))


def scan(runner: CommandRunner) -> t.List[t.Dict[str, t.Any]]:
    """Every block device's blkid record, probed afresh, each with its ``rdev`` added."""
    result = runner.read(["blkid", "-c", "/dev/null", "-o", "export"], ok_rcs=(0, BLKID_NOTHING_FOUND))
    records = parse_blkid_export(result.stdout)
    for record in records:
        record["rdev"] = device_number(record.get("DEVNAME", ""))
    return records


def devices_carrying(records: t.List[t.Dict[str, t.Any]], key: str, value: str, except_rdev: t.Optional[int] = None) -> t.List[str]:
    """The DEVNAMEs of scanned records whose ``key`` (LABEL, UUID ...) is ``value``, other than one device."""
    return sorted(
        record.get("DEVNAME", "?") for record in records
        if record.get(key) == value and (except_rdev is None or record.get("rdev") != except_rdev)
    )
