# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""Thin LVM: observe a volume group, its thin pool and one thin LV; plan; apply.

observe() reads ``vgs``/``lvs``/``pvs`` as JSON with exact byte sizes, probes the devices a
missing VG would be built on (_blockdev: blkid, wipefs, the first MiB, holders) and reads
/proc/self/mountinfo (_fstab). plan() is pure: it turns that
state and the module parameters into :class:`Action` commands or raises :class:`Refusal`.
apply() runs the commands. describe()/predict() give the return values and the diff.

No command here passes ``--yes`` to anything that could wipe a signature: a device carrying one
is refused in plan(), and a prompt LVM might still raise fails the command instead of wiping.
"""

from __future__ import annotations

import os
import re
import stat
import typing as t
from dataclasses import dataclass

from ansible_collections.vmstorage.gluster.plugins.module_utils import _blockdev, _fstab
from ansible_collections.vmstorage.gluster.plugins.module_utils._kinds import Kind
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Action, MissingPrerequisite, Refusal, require_danger_flag
from ansible_collections.vmstorage.gluster.plugins.module_utils._units import format_size, parse_pool_size, parse_size
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandRunner
from ansible_collections.vmstorage.gluster.plugins.module_utils._units import format_size, parse_size

REPORT_OPTIONS = ["--reportformat", "json", "--units", "b", "--nosuffix"]
VG_FIELDS = "vg_name,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count"
PV_FIELDS = "pv_name,vg_name,pv_size"
LV_FIELDS = (
    "lv_name,vg_name,lv_attr,segtype,lv_size,pool_lv,data_percent,metadata_percent,lv_metadata_size,"
    "chunk_size,lv_path,lv_dm_path,lv_device_open,lv_active,zero"
)

# LVM's default extent size (lvm.conf allocation/physical_extent_size); only used to predict the
# rounded size of an LV in a VG that does not exist yet (check mode).
DEFAULT_EXTENT_BYTES = 4 * 1024 ** 2

# Limits of the dm-thin target as lvcreate enforces them.
CHUNK_MIN_BYTES = 64 * 1024
CHUNK_MAX_BYTES = 1024 ** 3
METADATA_MIN_BYTES = 2 * 1024 ** 2
METADATA_MAX_BYTES = 16 * 1024 ** 3

# Above this data or metadata usage a thin pool is close to the point where writes fail.
POOL_USAGE_WARN_PERCENT = 80

_LVM_NAME_RE = re.compile(r"^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$")
# Suffixes and prefixes LVM reserves for its own hidden LVs (lvm(8), VALID NAMES).
_RESERVED_LV_PARTS = ("_cdata", "_cmeta", "_corig", "_mlog", "_mimage", "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vorigin", "_vdata")
_RESERVED_LV_PREFIXES = ("snapshot", "pvmove")


# --------------------------------------------------------------------------------------------
# Observed state


class VolumeGroup:
    """One row of ``vgs`` plus the PVs it is built on."""

    def __init__(self, row, pv_names=()):
        self.name = row["vg_name"]
        self.size_bytes = int(row["vg_size"])
        self.free_bytes = int(row["vg_free"])
        self.extent_bytes = int(row["vg_extent_size"])
        self.extent_count = int(row["vg_extent_count"])
        self.free_extents = int(row["vg_free_count"])
        self.pv_names = list(pv_names)


@dataclass
class LogicalVolume:
    """One row of ``lvs``: a thin LV, a thin pool or any other LV of the VG."""

    name: str
    vg: str
    attr: str
    segtype: str
    size_bytes: int
    pool: str
    data_percent: t.Optional[float]
    metadata_percent: t.Optional[float]
    metadata_size_bytes: t.Optional[int]
    chunk_size_bytes: t.Optional[int]
    path: str
    dm_path: str
    is_open: bool
    active: bool
    zero: bool

    @classmethod
    def from_row(cls, row: t.Mapping[str, str]) -> "LogicalVolume":
        """From a row of ``lvs`` as LV_FIELDS asks for it (sizes in bytes, empty where LVM has no value)."""
        return cls(
            row["lv_name"], row["vg_name"], row["lv_attr"], row["segtype"], int(row["lv_size"]), row["pool_lv"],
            _percent(row["data_percent"]), _percent(row["metadata_percent"]), _optional_int(row["lv_metadata_size"]),
            _optional_int(row["chunk_size"]), row["lv_path"], row["lv_dm_path"], row["lv_device_open"] == "open",
            row["lv_active"] == "active", row["zero"] == "zero",
        )

    @property
    def is_thin(self) -> bool:
        return self.segtype == "thin"

    @property
    def is_thin_pool(self) -> bool:
        return self.segtype == "thin-pool"


@dataclass
class Device:
    """A device named in ``pvs``: whether it exists, the PV on it, and (when no PV) what
    _blockdev.probe() found on it."""

    path: str
    real_path: str
    is_block: bool
    pv_vg: t.Optional[str] = None
    is_pv: bool = False
    probe: t.Optional[_blockdev.DeviceProbe] = None


class LvmState:
    """What observe() found."""

    def __init__(self, vg=None, lvs=None, devices=None, mounts=None, vg_names=()):
        self.vg = vg
        self.lvs = lvs or {}
        self.devices = devices or []
        self.mounts = mounts or []
        self.vg_names = list(vg_names)

    def mount_points_of(self, lv: t.Optional[LogicalVolume]) -> t.List[str]:
        """Where the LV's device is mounted (sources compared by their resolved device node)."""
        if lv is None or not lv.dm_path:
            return []
        device = os.path.realpath(lv.dm_path)
        return [point for source, point in self.mounts if source in (lv.dm_path, lv.path, device)]

    def thin_lvs_of(self, pool_name: str) -> t.List[LogicalVolume]:
        return [lv for lv in self.lvs.values() if lv.is_thin and lv.pool == pool_name]


def _percent(text):
    return float(text) if text not in (None, "") else None


def _optional_int(text):
    return int(text) if text else None


def report_rows(document: t.Mapping[str, t.Any], kind: str) -> t.List[t.Dict[str, str]]:
    """The rows of a parsed LVM JSON report (``kind`` is vg, pv or lv)."""
    rows = []
    for report in document.get("report", []):
        rows.extend(report.get(kind, []))
    return rows


def observe(runner: CommandRunner, params: t.Mapping[str, t.Any]) -> LvmState:
    """Read the VG, its LVs, the requested PV devices and the mount table."""
    vg_rows = report_rows(runner.query_json(["vgs"] + REPORT_OPTIONS + ["-o", VG_FIELDS]), "vg")
    pv_rows = report_rows(runner.query_json(["pvs"] + REPORT_OPTIONS + ["-o", PV_FIELDS]), "pv")
    lv_rows = []
    devices = []
    if any(row["vg_name"] == params["vg"] for row in vg_rows):
        lv_rows = report_rows(runner.query_json(["lvs"] + REPORT_OPTIONS + ["-o", LV_FIELDS, params["vg"]]), "lv")
    else:
        devices = [_observe_device(runner, path, pv_rows) for path in params.get("pvs") or []]
    return build_state(params["vg"], vg_rows, pv_rows, lv_rows, devices, _fstab.read_mounts())


def _mount_pairs(mounts):
    """(source, mount point) of each MountEntry, a /dev source resolved to its device node."""
    return [(os.path.realpath(mount.source) if mount.source.startswith("/dev/") else mount.source, mount.mount_point)
            for mount in mounts]


def build_state(vg_name: str, vg_rows: t.List[t.Dict[str, str]], pv_rows: t.List[t.Dict[str, str]], lv_rows: t.List[t.Dict[str, str]],
                devices: t.List[Device], mounts: t.List[_fstab.MountEntry]) -> LvmState:
    """An LvmState from the report rows of vgs, pvs and lvs, the probed devices and the MountEntry list."""
    vg = None
    for row in vg_rows:
        if row["vg_name"] == vg_name:
            vg = VolumeGroup(row, [pv["pv_name"] for pv in pv_rows if pv["vg_name"] == vg_name])
    return LvmState(
        vg=vg,
        lvs={row["lv_name"]: LogicalVolume.from_row(row) for row in lv_rows},
        devices=devices,
        mounts=_mount_pairs(mounts),
        vg_names=[row["vg_name"] for row in vg_rows],
    )


def _observe_device(runner, path, pv_rows):
    real_path = os.path.realpath(path)
    try:
        is_block = os.path.isabs(path) and stat.S_ISBLK(os.stat(real_path).st_mode)
    except OSError:  # missing, or not reachable: either way not a device to build on
        is_block = False
    if not is_block:
        return Device(path, real_path, False)
    for row in pv_rows:
        if os.path.realpath(row["pv_name"]) == real_path:
            return Device(path, real_path, True, pv_vg=row["vg_name"], is_pv=True)
    return Device(path, real_path, True, probe=_blockdev.probe(runner, real_path))


# --------------------------------------------------------------------------------------------
# The request


class PoolSize:
    """``pool_size``: a count of extents, a size, or a percentage of the VG or of its free space (``_units`` grammar)."""

    def __init__(self, text, option="pool_size"):
        self.text = str(text).strip()
        self.extents = None
        self.size_bytes = None
        self.percent = None
        kind, amount = parse_pool_size(text, option)
        setattr(self, {"extents": "extents", "percent": "percent", "bytes": "size_bytes"}[kind], amount)

    def lvcreate_args(self) -> t.List[str]:
        if self.extents is not None:
            return ["--extents", str(self.extents)]
        if self.percent is not None:
            return ["--extents", self.percent]
        return ["--size", "%db" % self.size_bytes]

    def target_extents(self, extent_bytes: int) -> t.Optional[int]:
        """The pool's data size in extents this asks for; None for a percentage (relative to a moving base)."""
        if self.extents is not None:
            return self.extents
        if self.size_bytes is not None:
            return -(-self.size_bytes // extent_bytes)
        return None


class Request:
    """The module parameters, parsed and checked; bad input raises Refusal."""

    def __init__(self, params):
        self.vg = params["vg"]
        self.pool = params["thinpool"]
        self.name = params["name"]
        self.state = params["state"]
        self.allow_delete = params.get("allow_delete", False)
        self.pvs = list(dict.fromkeys(params.get("pvs") or []))
        for option in ("vg", "thinpool", "name"):
            _check_lvm_name(option, params[option])
        if self.name == self.pool:
            raise Refusal(
                "the thin LV and its pool cannot share a name", "thinpool=%s" % self.pool, "name=%s" % self.name, "Give the thin LV its own name."
            )
        self.size_bytes = _parsed("size", params.get("size"), parse_size)
        self.pool_size = _parsed("pool_size", params.get("pool_size"), PoolSize)
        self.metadata_bytes = _parsed("pool_metadata_size", params.get("pool_metadata_size"), parse_size)
        self.chunk_bytes = _parsed("chunk_size", params.get("chunk_size"), parse_size)
        if self.chunk_bytes is not None and (
            self.chunk_bytes % CHUNK_MIN_BYTES or not CHUNK_MIN_BYTES <= self.chunk_bytes <= CHUNK_MAX_BYTES
        ):
            raise Refusal(
                "chunk_size is not a valid thin pool chunk size", params["chunk_size"], "a thin pool chunk size",
                "Use a multiple of 64 KiB between 64 KiB and 1 GiB, e.g. 256K.",
            )
        if self.metadata_bytes is not None and not METADATA_MIN_BYTES <= self.metadata_bytes <= METADATA_MAX_BYTES:
            raise Refusal(
                "pool_metadata_size is out of range", params["pool_metadata_size"], "a thin pool metadata size",
                "Use a size between 2 MiB and 16 GiB, e.g. 1G.",
            )

    @property
    def lv_id(self) -> str:
        return "%s/%s" % (self.vg, self.name)

    @property
    def pool_id(self) -> str:
        return "%s/%s" % (self.vg, self.pool)


def _parsed(option, value, parser):
    if value is None or value == "":
        return None
    try:
        return parser(value, option)
    except ValueError as err:
        raise Refusal("%s is not understood" % option, repr(value), option, "%s." % err) from err


def _check_lvm_name(option, name):
    reserved = option != "vg" and (
        any(part in name for part in _RESERVED_LV_PARTS) or any(name.startswith(prefix) for prefix in _RESERVED_LV_PREFIXES)
    )
    if not _LVM_NAME_RE.match(name) or name in (".", "..") or len(name) > 127 or reserved:
        raise Refusal(
            "%s is not a valid LVM name" % option, repr(name), "an LVM name",
            "Use letters, digits and + _ . - (not starting with -), without LVM's reserved parts such as _tdata or a snapshot/pvmove prefix.",
        )


# --------------------------------------------------------------------------------------------
# The plan


def plan(state: LvmState, params: t.Mapping[str, t.Any]) -> t.List[Action]:
    """The actions that bring the node to ``params`` (pure; raises Refusal)."""
    request = Request(params)
    if request.state == "absent":
        return _plan_absent(state, request)
    actions = []
    vg = state.vg
    if vg is None:
        actions.append(_plan_vg_create(state, request))
    pool = state.lvs.get(request.pool)
    if pool is None:
        actions.append(_plan_pool_create(state, request))
    else:
        actions.extend(_plan_pool_growth(state, request, pool))
    actions.extend(_plan_lv(state, request))
    return actions


def _plan_absent(state, request):
    lv = state.lvs.get(request.name)
    if lv is None:
        return []
    _check_is_our_thin_lv(lv, request)
    points = state.mount_points_of(lv) if lv.is_open else []
    if lv.is_open and not (points and request.allow_delete):
        raise Refusal(
            "will not remove thin LV %s: it is in use" % request.lv_id,
            "mounted at %s" % ", ".join(points) if points else "its device %s held open (by a process, a mapping or a VM)" % lv.path,
            "state=absent",
            "Unmount it (and remove its fstab entry) or stop what holds it open, then run again.",
        )
    written = "" if lv.data_percent is None else ", %.2f%% of it written" % lv.data_percent
    require_danger_flag(request.allow_delete, "allow_delete", "remove a thin LV", "thin LV %s of %s%s" % (
        request.lv_id, format_size(lv.size_bytes), written), "state=absent", "what it holds is lost for good")
    actions = [
        Action(
            Kind.LV_REMOVE, "remove thin LV %s (%s)" % (request.lv_id, format_size(lv.size_bytes)),
            # --yes answers only lvremove's "really remove active logical volume?" for this one LV.
            ["lvremove", "--yes", request.lv_id],
        )
    ]
    if points:
        # a real run refuses; check mode cannot know that an earlier task (btrfs_brick state=absent) unmounts it
        raise MissingPrerequisite("will not remove thin LV %s: it is in use" % request.lv_id, "mounted at %s" % ", ".join(points),
                                  "state=absent", "Unmount it (and remove its fstab entry), then run again.", predicted=actions,
                                  assumed="an earlier task has unmounted it")
    return actions


def _plan_vg_create(state, request):
    if not request.pvs:
        raise Refusal(
            "volume group %s does not exist" % request.vg,
            "volume groups: %s" % (", ".join(state.vg_names) or "none"),
            "thin LV %s" % request.lv_id,
            "Give pvs (the blank devices to build the volume group on) to create it, or name an existing vg.",
        )
    for device in state.devices:
        _check_device_for_new_vg(device, request)
    return Action(
        Kind.VG_CREATE, "create volume group %s on %s" % (request.vg, ", ".join(request.pvs)), ["vgcreate", request.vg] + request.pvs,
    )


def _check_device_for_new_vg(device, request):
    if not device.is_block:
        raise Refusal(
            "pvs names a device that does not exist", "%s is not a block device" % device.path, "volume group %s on it" % request.vg,
            "Give absolute paths of existing block devices in pvs.",
        )
    if device.is_pv and device.pv_vg:
        raise Refusal(
            "%s already belongs to volume group %s" % (device.path, device.pv_vg), "PV %s in VG %s" % (device.path, device.pv_vg),
            "a new volume group %s on it" % request.vg, "Use free devices, or set vg: %s to use that volume group." % device.pv_vg,
        )
    if device.probe is not None and not device.probe.blank:
        # the one blank-device rule (_blockdev.DeviceProbe.blank): vgcreate writes a PV label
        record = device.probe.record
        found = ", ".join("%s=%s" % (key, record[key]) for key in ("TYPE", "PTTYPE", "LABEL", "UUID") if key in record)
        raise Refusal(
            "%s is not blank" % device.path, "a signature on it (%s)" % found if found else device.probe.describe(),
            "a new volume group %s on it" % request.vg,
            "Making a PV there would destroy that data. If it is not needed, erase it yourself (wipefs --all %s) and run again." % device.path,
        )


def _plan_pool_create(state, request):
    if request.pool_size is None:
        pools = [lv.name for lv in state.lvs.values() if lv.is_thin_pool]
        raise Refusal(
            "thin pool %s does not exist" % request.pool_id,
            "thin pools in %s: %s" % (request.vg, ", ".join(pools) or "none"),
            "thin LV %s" % request.lv_id,
            "Give pool_size (extents, a size, or NN%VG / NN%FREE) to create it, or name an existing thinpool.",
        )
    vg = state.vg
    extents = request.pool_size.target_extents(vg.extent_bytes) if vg else None
    if vg is not None and extents is not None and extents > vg.free_extents:
        raise Refusal(
            "volume group %s has too little free space for thin pool %s" % (request.vg, request.pool),
            "%d free extents (%s)" % (vg.free_extents, format_size(vg.free_bytes)),
            "pool_size %s (%d extents, %s)" % (request.pool_size.text, extents, format_size(extents * vg.extent_bytes)),
            "Lower pool_size, e.g. 90%FREE, or add a PV to the volume group.",
        )
    argv = ["lvcreate", "--type", "thin-pool", "--name", request.pool] + request.pool_size.lvcreate_args()
    if request.metadata_bytes is not None:
        argv += ["--poolmetadatasize", "%db" % request.metadata_bytes]
    if request.chunk_bytes is not None:
        argv += ["--chunksize", "%db" % request.chunk_bytes]
    return Action(Kind.POOL_CREATE, "create thin pool %s (%s)" % (request.pool_id, request.pool_size.text), argv + [request.vg])


def _plan_pool_growth(state, request, pool):
    if not pool.is_thin_pool:
        raise Refusal(
            "%s is not a thin pool" % request.pool_id, "an LV of type %s (attr %s)" % (pool.segtype, pool.attr), "a thin pool",
            "Name a thin pool in thinpool, or a free name to create one with pool_size.",
        )
    actions = []
    extent_bytes = state.vg.extent_bytes
    extents = request.pool_size.target_extents(extent_bytes) if request.pool_size else None
    if extents is not None and extents * extent_bytes > pool.size_bytes:
        missing = extents - pool.size_bytes // extent_bytes
        if missing > state.vg.free_extents:
            raise Refusal(
                "volume group %s has too little free space to grow thin pool %s" % (request.vg, request.pool),
                "pool %s with %s free in the VG" % (format_size(pool.size_bytes), format_size(state.vg.free_bytes)),
                "pool_size %s (%s)" % (request.pool_size.text, format_size(extents * extent_bytes)),
                "Lower pool_size or add a PV to the volume group.",
            )
        actions.append(
            Action(
                Kind.POOL_EXTEND, "grow thin pool %s from %s to %s" % (request.pool_id, format_size(pool.size_bytes), format_size(extents * extent_bytes)),
                ["lvextend", "--extents", str(extents), request.pool_id],
            )
        )
    if request.metadata_bytes is not None and pool.metadata_size_bytes is not None:
        target = _round_up(request.metadata_bytes, extent_bytes)
        if target > pool.metadata_size_bytes:
            actions.append(
                Action(
                    Kind.POOL_METADATA_EXTEND,
                    "grow the metadata of thin pool %s from %s to %s" % (request.pool_id, format_size(pool.metadata_size_bytes), format_size(target)),
                    ["lvextend", "--poolmetadatasize", "%db" % target, request.pool_id],
                )
            )
    return actions


def _plan_lv(state, request):
    lv = state.lvs.get(request.name)
    extent_bytes = state.vg.extent_bytes if state.vg else DEFAULT_EXTENT_BYTES
    target = _round_up(request.size_bytes, extent_bytes)
    if lv is None:
        return [
            Action(
                Kind.LV_CREATE, "create thin LV %s of %s in pool %s" % (request.lv_id, format_size(target), request.pool),
                ["lvcreate", "--type", "thin", "--virtualsize", "%db" % request.size_bytes, "--thinpool", request.pool, "--name", request.name, request.vg],
            )
        ]
    _check_is_our_thin_lv(lv, request)
    actions = []
    if target < lv.size_bytes:
        raise Refusal(
            "will not shrink thin LV %s" % request.lv_id,
            "%s (%d bytes)" % (format_size(lv.size_bytes), lv.size_bytes),
            "size %s (%d bytes)" % (format_size(target), target),
            "thin_lv never shrinks: the end of the filesystem and the data there would be cut off. "
            "Set size to at least %s; to shrink, shrink the filesystem first and run lvreduce yourself." % format_size(lv.size_bytes),
        )
    if target > lv.size_bytes:
        actions.append(
            Action(
                Kind.LV_EXTEND, "grow thin LV %s from %s to %s" % (request.lv_id, format_size(lv.size_bytes), format_size(target)),
                ["lvextend", "--size", "%db" % target, request.lv_id],
            )
        )
    if not lv.active:
        actions.append(Action(Kind.LV_ACTIVATE, "activate thin LV %s" % request.lv_id, ["lvchange", "--activate", "y", request.lv_id]))
    return actions


def _check_is_our_thin_lv(lv, request):
    if not lv.is_thin:
        raise Refusal(
            "%s is not a thin LV" % request.lv_id, "an LV of type %s (attr %s)" % (lv.segtype, lv.attr), "a thin LV in pool %s" % request.pool,
            "This module manages thin LVs only; pick another name or manage this LV otherwise.",
        )
    if lv.pool != request.pool:
        raise Refusal(
            "thin LV %s is in another pool" % request.lv_id, "pool %s" % lv.pool, "pool %s" % request.pool,
            "Set thinpool: %s, or pick another name (thin LVs cannot move between pools)." % lv.pool,
        )


def _round_up(size_bytes, extent_bytes):
    return -(-size_bytes // extent_bytes) * extent_bytes


# --------------------------------------------------------------------------------------------
# Apply


def apply(runner: CommandRunner, state: LvmState, params: t.Mapping[str, t.Any], actions: t.List[Action]) -> None:
    """Run the planned commands in order (each action of this domain is one command)."""
    for action in actions:
        runner.run(action.argv)


# --------------------------------------------------------------------------------------------
# Return values, diff, warnings


def mapper_path(vg: str, lv: str) -> str:
    """/dev/mapper/<vg>-<lv> with every '-' inside the names doubled, as device-mapper names it."""
    return "/dev/mapper/%s-%s" % (vg.replace("-", "--"), lv.replace("-", "--"))


def describe(state: LvmState, request: Request) -> t.Dict[str, t.Dict[str, t.Any]]:
    """The vg, pool and lv return values of an observed state."""
    vg = state.vg
    pool = state.lvs.get(request.pool)
    lv = state.lvs.get(request.name)
    return {
        "vg": _describe_vg(vg) if vg else {},
        "pool": _describe_pool(state, pool) if pool and pool.is_thin_pool else {},
        "lv": _describe_lv(lv) if lv else {},
    }


def _describe_vg(vg):
    return {
        "name": vg.name, "size_bytes": vg.size_bytes, "free_bytes": vg.free_bytes, "extent_size_bytes": vg.extent_bytes, "pvs": vg.pv_names,
    }


def _describe_pool(state, pool):
    allocated = sum(lv.size_bytes for lv in state.thin_lvs_of(pool.name))
    return {
        "name": pool.name,
        "size_bytes": pool.size_bytes,
        "data_percent": pool.data_percent,
        "metadata_percent": pool.metadata_percent,
        "metadata_size_bytes": pool.metadata_size_bytes,
        "chunk_size_bytes": pool.chunk_size_bytes,
        "zero": pool.zero,
        "virtual_allocated_bytes": allocated,
        "overcommitted": allocated > pool.size_bytes,
    }


def _describe_lv(lv):
    return {
        "name": lv.name, "vg": lv.vg, "pool": lv.pool, "size_bytes": lv.size_bytes, "path": lv.path or "/dev/%s/%s" % (lv.vg, lv.name),
        "mapper_path": lv.dm_path or mapper_path(lv.vg, lv.name), "attr": lv.attr, "active": lv.active, "open": lv.is_open,
    }


def predict(state: LvmState, request: Request, actions: t.List[Action]) -> t.Dict[str, t.Dict[str, t.Any]]:
    """What describe() will return once ``actions`` ran (check mode); unknowable values are None."""
    view = describe(state, request)
    kinds = {action.kind: action for action in actions}
    extent_bytes = state.vg.extent_bytes if state.vg else DEFAULT_EXTENT_BYTES
    if Kind.VG_CREATE in kinds:
        view["vg"] = {"name": request.vg, "size_bytes": None, "free_bytes": None, "extent_size_bytes": None, "pvs": request.pvs}
    if Kind.POOL_CREATE in kinds:
        extents = request.pool_size.target_extents(extent_bytes)
        view["pool"] = {
            "name": request.pool, "size_bytes": extents * extent_bytes if extents is not None else None, "data_percent": 0.0,
            "metadata_percent": None, "metadata_size_bytes": request.metadata_bytes, "chunk_size_bytes": request.chunk_bytes, "zero": None,
            "virtual_allocated_bytes": 0, "overcommitted": False if extents is not None else None,
        }
    if Kind.POOL_EXTEND in kinds:
        view["pool"]["size_bytes"] = request.pool_size.target_extents(extent_bytes) * extent_bytes
    if Kind.POOL_METADATA_EXTEND in kinds:
        view["pool"]["metadata_size_bytes"] = _round_up(request.metadata_bytes, extent_bytes)
    if Kind.LV_REMOVE in kinds:
        removed = view["lv"]["size_bytes"]
        view["lv"] = {}
        _account_pool(view["pool"], -removed)
    if Kind.LV_CREATE in kinds or Kind.LV_EXTEND in kinds:
        target = _round_up(request.size_bytes, extent_bytes)
        old = view["lv"].get("size_bytes", 0)
        view["lv"] = dict(view["lv"]) or {
            "name": request.name, "vg": request.vg, "pool": request.pool, "path": "/dev/%s/%s" % (request.vg, request.name),
            "mapper_path": mapper_path(request.vg, request.name), "attr": None, "active": True, "open": False,
        }
        view["lv"]["size_bytes"] = target
        _account_pool(view["pool"], target - old)
    if Kind.LV_ACTIVATE in kinds:
        view["lv"]["active"] = True
    return view


def _account_pool(pool, delta_bytes):
    pool["virtual_allocated_bytes"] += delta_bytes
    if pool["size_bytes"] is not None:
        pool["overcommitted"] = pool["virtual_allocated_bytes"] > pool["size_bytes"]


def diff_view(view: t.Mapping[str, t.Any]) -> t.Dict[str, t.Dict[str, t.Any]]:
    """The stable part of a view for --diff (no usage percentages, which move with every write)."""
    return {
        "vg": {key: view["vg"][key] for key in ("name", "pvs")} if view["vg"] else {},
        "pool": {key: view["pool"][key] for key in ("name", "size_bytes", "metadata_size_bytes", "chunk_size_bytes")} if view["pool"] else {},
        "lv": {key: view["lv"][key] for key in ("name", "pool", "size_bytes", "active")} if view["lv"] else {},
    }


def warnings_for(state: LvmState, request: Request, view: t.Mapping[str, t.Any]) -> t.List[str]:
    """Warnings about the (predicted) end state: over-commit, a nearly full pool, settings kept as found."""
    warnings = []
    pool = view["pool"]
    if request.state == "present" and pool and pool["overcommitted"]:
        warnings.append(
            "thin pool %s is over-committed: its thin LVs total %s of virtual size on %s of pool data space. "
            "Writes fail (VMs pause or corrupt) once the pool fills: watch pool.data_percent or enable thin pool autoextend."
            % (request.pool_id, format_size(pool["virtual_allocated_bytes"]), format_size(pool["size_bytes"]))
        )
    for label in ("data", "metadata"):
        used = pool.get("%s_percent" % label) if pool else None
        if used is not None and used >= POOL_USAGE_WARN_PERCENT:
            warnings.append("thin pool %s %s is %.2f%% full." % (request.pool_id, label, used))
    observed_pool = state.lvs.get(request.pool)
    if observed_pool is not None and observed_pool.is_thin_pool:
        warnings.extend(_kept_settings(state, request, observed_pool))
    return warnings


def _kept_settings(state, request, pool):
    """Requested pool settings an existing pool differs from and that cannot change without recreating it."""
    kept = []
    if request.chunk_bytes is not None and pool.chunk_size_bytes != request.chunk_bytes:
        kept.append(
            "thin pool %s keeps its chunk size %s; chunk_size asks %s, but a pool's chunk size is fixed when it is created "
            "and recreating the pool would destroy its thin LVs." % (request.pool_id, format_size(pool.chunk_size_bytes), format_size(request.chunk_bytes))
        )
    if request.metadata_bytes is not None and pool.metadata_size_bytes is not None:
        if _round_up(request.metadata_bytes, state.vg.extent_bytes) < pool.metadata_size_bytes:
            kept.append(
                "thin pool %s keeps its metadata size %s; pool_metadata_size asks %s, but pool metadata never shrinks."
                % (request.pool_id, format_size(pool.metadata_size_bytes), format_size(request.metadata_bytes))
            )
    extents = request.pool_size.target_extents(state.vg.extent_bytes) if request.pool_size else None
    if extents is not None and extents * state.vg.extent_bytes < pool.size_bytes:
        kept.append(
            "thin pool %s keeps its size %s; pool_size asks %s, but a thin pool never shrinks."
            % (request.pool_id, format_size(pool.size_bytes), format_size(extents * state.vg.extent_bytes))
        )
    if request.pvs and state.vg is not None and sorted(map(os.path.realpath, request.pvs)) != sorted(map(os.path.realpath, state.vg.pv_names)):
        kept.append(
            "volume group %s exists on %s; pvs (%s) only says where to create a missing volume group and is not applied to an existing one."
            % (request.vg, ", ".join(state.vg.pv_names), ", ".join(request.pvs))
        )
    return kept


def report(runner: CommandRunner, before: LvmState, after: t.Optional[LvmState], params: t.Mapping[str, t.Any],
           actions: t.List[Action]) -> t.Dict[str, t.Any]:
    """Return values: vg, pool, lv (predicted in check mode), the diff and warnings."""
    request = Request(params)
    view = describe(after, request) if after is not None else predict(before, request, actions)
    return dict(
        view,
        diff={"before": diff_view(describe(before, request)), "after": diff_view(view)},
        warnings=warnings_for(after if after is not None else before, request, view),
    )
