# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""A btrfs brick: the filesystem on a device, its fstab line, its live mount, its brick directory.

observe() reads the node (blkid, wipefs, the device's first MiB, /etc/fstab, /proc/self/mountinfo,
the mount point and brick directory); plan() turns that state and the module parameters into
actions or a Refusal without running anything; apply() runs the actions; report() builds the
return values and the diff.
"""

from __future__ import annotations

import copy
import errno
import os
import stat
import typing as t

from ansible_collections.vmstorage.gluster.plugins.module_utils import _blockdev, _fstab
from ansible_collections.vmstorage.gluster.plugins.module_utils._ids import gid_of, uid_of
from ansible_collections.vmstorage.gluster.plugins.module_utils._nofollow import Blocked, walk_directories
from ansible_collections.vmstorage.gluster.plugins.module_utils._kinds import Kind
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Action, MissingPrerequisite, Refusal
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner
from ansible_collections.vmstorage.gluster.plugins.module_utils._units import format_size

FSTYPE = "btrfs"
# present while systemd is PID 1 (sd_booted())
SYSTEMD_RUNNING = "/run/systemd/system"
DEFAULT_MOUNT_OPTIONS = ["nodatacow", "autodefrag"]
# fsck.btrfs does nothing, so the fstab pass number is 0 unless asked otherwise; dump is obsolete.
FSTAB_FREQ = 0
LABEL_MAX_BYTES = 255

# Options only mount(8), systemd or fstab readers look at: the kernel never reports them, and
# one-shot btrfs options (clear_cache ...) act once and are not reported either.
_NOT_REPORTED = {"defaults", "auto", "noauto", "nofail", "_netdev", "user", "users", "nouser", "owner", "group",
                 "clear_cache", "skip_balance", "rescan_uuid_tree", "enospc_debug", "noenospc_debug"}
_NOT_REPORTED_PREFIXES = ("x-", "X-", "comment=")
# btrfs options a remount ignores or rejects (measured: space_cache changes fail with EINVAL,
# subvol/subvolid are silently kept); changing them needs an unmount.
_MOUNT_TIME_ONLY = {"subvol", "subvolid", "space_cache", "nospace_cache", "device"}
# An option that is in effect by an absence: the live tokens (or token= prefixes) it excludes.
_ABSENCE_OPTIONS = {
    "datacow": ("nodatacow",),
    "datasum": ("nodatasum", "nodatacow"),
    "noautodefrag": ("autodefrag",),
    "nodiscard": ("discard",),
    "compress=no": ("compress", "compress-force"),
    "exec": ("noexec",),
    "suid": ("nosuid",),
    "dev": ("nodev",),
    "async": ("sync",),
    "barrier": ("nobarrier",),
    "treelog": ("notreelog",),
    "noflushoncommit": ("flushoncommit",),
    "strictatime": ("noatime", "relatime"),
}
# Requested spellings the kernel reports otherwise.
_REPORTED_AS = {"compress": "compress=zlib", "compress-force": "compress-force=zlib", "discard=sync": "discard",
                "compress=none": "compress=no"}
# Off-by-default features a remount would keep: when no longer requested they are switched off
# with these options, so the live mount follows fstab both ways. btrfs keeps its own options across
# a remount; the kernel keeps atime flags unless one is given.
_SWITCH_OFF = {"autodefrag": "noautodefrag", "nodatacow": "datacow", "nodatasum": "datasum",
               "compress": "compress=no", "compress-force": "compress=no", "noatime": "relatime",
               "nodiratime": "diratime", "ro": "rw", "noexec": "exec", "nosuid": "suid", "nodev": "dev",
               "sync": "async", "lazytime": "nolazytime"}
# What a requested option also covers: nodatacow implies nodatasum.
_IMPLIES = {"nodatacow": ("nodatasum",)}


def _key(option):
    return option.split("=", 1)[0]


def kernel_options(options: t.Iterable[str]) -> t.List[str]:
    """The requested options the kernel reports, normalised to its spelling."""
    wanted = []
    for option in options:
        option = option.strip()
        if not option or option in _NOT_REPORTED or option.startswith(_NOT_REPORTED_PREFIXES):
            continue
        option = _REPORTED_AS.get(option, option)
        if option.startswith("subvol=") and not option.startswith("subvol=/"):
            option = "subvol=/" + option[len("subvol="):]
        wanted.append(option)
    return wanted


def _in_effect(option, live):
    excluded = _ABSENCE_OPTIONS.get(option)
    if excluded is not None:
        return not any(_key(token) in excluded for token in live)
    if option.startswith(("compress=", "compress-force=")) and ":" not in option:
        # compress=zstd is reported with its level, compress=zstd:3.
        return any(token == option or token.startswith(option + ":") for token in live)
    return option in live


class OptionDrift:
    """How the live options differ from the requested ones."""

    __slots__ = ("remount", "unchangeable")

    def __init__(self, remount, unchangeable):
        self.remount = remount
        self.unchangeable = unchangeable


def option_drift(requested: t.Iterable[str], live: t.Sequence[str]) -> OptionDrift:
    """The options a remount must pass to make ``live`` match ``requested``, and those it cannot."""
    wanted = kernel_options(requested)
    missing = [option for option in wanted if not _in_effect(option, live)]
    covered = set()
    for option in wanted:
        covered.add(_key(option))
        covered.update(_IMPLIES.get(option, ()))
    switch_off = []
    for token in live:
        off = _SWITCH_OFF.get(_key(token))
        if off and _key(token) not in covered and off not in switch_off and off not in missing:
            switch_off.append(off)
    unchangeable = [option for option in missing if _key(option) in _MOUNT_TIME_ONLY]
    return OptionDrift(missing + switch_off, unchangeable)


def options_after_remount(live: t.Sequence[str], options: t.Iterable[str]) -> t.List[str]:
    """The live options a remount with ``options`` should leave (a prediction for check mode)."""
    result = list(live)
    for option in kernel_options(options):
        excluded = _ABSENCE_OPTIONS.get(option)
        if excluded is not None:
            result = [token for token in result if _key(token) not in excluded]
            continue
        for token in (option,) + _IMPLIES.get(option, ()):
            result = [kept for kept in result if _key(kept) != _key(token)] + [token]
    return result


def parse_dump_super(text: str) -> t.Dict[str, str]:
    """The ``key value`` lines of ``btrfs inspect-internal dump-super`` (no machine format exists)."""
    fields = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            fields.setdefault(parts[0], parts[1].strip())
    return fields


def parse_mode(mode: t.Any) -> t.Optional[int]:
    """An octal mode given as an int (YAML 0750) or a string ("0750", "750"); None if not one."""
    if mode is None:
        return None
    if isinstance(mode, int):
        return mode if 0 <= mode <= 0o7777 else None
    text = str(mode).strip()
    if text and len(text) <= 5 and all(char in "01234567" for char in text):
        return int(text, 8)
    return None


def is_subdirectory(brick_dir: t.Optional[str]) -> bool:
    """A relative path without empty, '.' or '..' parts: it can only name something below the mount point."""
    return bool(brick_dir) and not os.path.isabs(brick_dir) and all(part not in ("", ".", "..") for part in brick_dir.split("/"))


def brick_path_of(params: t.Mapping[str, t.Any]) -> str:
    return os.path.join(os.path.normpath(params["mount_point"]), params["brick_dir"])


class PathState:
    """A path on the node: its kind, owner, mode and (for a directory) its entries; for kind "symlink"
    (a link at the path or at a directory on the way to it) ``link`` is that link and its target."""

    __slots__ = ("path", "kind", "uid", "gid", "mode", "entries", "link")

    def __init__(self, path, kind="missing", uid=None, gid=None, mode=None, entries=None, link=None):
        self.path = path
        self.kind = kind
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.entries = entries or []
        self.link = link


def read_path(path: str) -> PathState:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return PathState(path)
    if stat.S_ISDIR(info.st_mode):
        return PathState(path, "directory", info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), sorted(os.listdir(path)))
    return PathState(path, "other", info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode))


def read_brick_path(mount_point: str, brick_dir: str) -> PathState:
    """The brick directory as read_path() sees it, walking from the mount point one part at a time with
    lstat: a symbolic link anywhere below the mount point is reported as kind "symlink", never followed."""
    current = mount_point
    for part in brick_dir.split("/"):
        current = os.path.join(current, part)
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return PathState(os.path.join(mount_point, brick_dir))
        if stat.S_ISLNK(info.st_mode):
            return PathState(os.path.join(mount_point, brick_dir), "symlink", link="%s -> %s" % (current, os.readlink(current)))
        if not stat.S_ISDIR(info.st_mode):
            return PathState(os.path.join(mount_point, brick_dir), "other")
    return read_path(current)


def open_brick_dir(mount_point: str, brick_dir: str) -> int:
    """A file descriptor of the brick directory, made (mode 0755) where missing, no link followed below
    the mount point, not even one planted after observe() (_nofollow.walk_directories).
    A link raises BrickDirLink; anything else that is no directory NotADirectoryError."""
    try:
        return walk_directories(mount_point, brick_dir.split("/"), create=True)[0]
    except Blocked as blocked:
        current = os.path.join(mount_point, blocked.path)
        if blocked.kind == "a symlink":
            raise BrickDirLink(current, os.readlink(current)) from blocked
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", current) from blocked


class BrickDirLink(Exception):
    """A symbolic link where the brick directory (or a directory on the way to it) should be."""

    def __init__(self, path, target):
        super().__init__("%s -> %s" % (path, target))
        self.link = "%s -> %s" % (path, target)


def brick_dir_link_refusal(brick_path: str, link: str, remedy_prefix: str = "") -> Refusal:
    return Refusal("the brick directory is a symbolic link", link, "a directory %s on the brick filesystem" % brick_path,
                   remedy_prefix + "Remove the link (the module then makes the directory): a brick directory is never "
                   "followed, since the module changes owner and mode as root and glusterd would keep the volume's files "
                   "wherever it points.")


def _lookup_id(name, lookup):
    """The id of an owner or group (_ids), -1 for a name the node does not know (plan() refuses it)."""
    try:
        return lookup(name)
    except KeyError:
        return -1


class BrickState:
    """Everything plan() needs to know about the node."""

    def __init__(self, **fields):
        self.device = fields.get("device")          # DeviceProbe, or None when missing / not asked
        self.device_kind = fields.get("device_kind")  # "block", "missing", "other" or None
        self.device_mounts = fields.get("device_mounts", [])
        self.mount = fields.get("mount")            # MountEntry visible at path, or None
        self.mount_rdev = fields.get("mount_rdev")
        self.fstab = fields.get("fstab") or _fstab.FstabTable("")
        self.fstab_targets = fields.get("fstab_targets", {})
        self.records = fields.get("records", [])
        self.mount_point = fields.get("mount_point") or PathState("")
        self.brick = fields.get("brick") or PathState("")
        self.fs_has_data = fields.get("fs_has_data")
        self.owner_uid = fields.get("owner_uid")
        self.group_gid = fields.get("group_gid")
        self.super = fields.get("super", {})          # dump-super fields of the btrfs on the device
        self.device_bytes = fields.get("device_bytes")

    @property
    def mounted_here(self) -> bool:
        """The device is what is mounted at the requested path."""
        return self.mount is not None and self.device is not None and self.mount_rdev == self.device.rdev


def _resolve_spec(entry, records):
    """The device number an fstab line points at (LABEL=, UUID= or a path), None when nothing."""
    kind, value = entry.source_kind()
    if kind == "device":
        return _blockdev.device_number(value)
    matches = [record.get("rdev") for record in records if record.get(kind) == value]
    return matches[0] if len(matches) == 1 else None


def _has_data_outside(path, brick_dir):
    """Whether the tree under ``path`` holds anything but the (empty) brick directory's chain."""
    current = path
    for part in brick_dir.split("/"):
        entries = os.listdir(current)
        if any(entry != part for entry in entries):
            return True
        if part not in entries:
            return False
        current = os.path.join(current, part)
        if os.path.islink(current):
            return True  # a link is data, and never followed
    return bool(os.listdir(current))


def observe(runner: CommandRunner, params: t.Mapping[str, t.Any]) -> BrickState:
    path = os.path.normpath(params["mount_point"])
    mounts = _fstab.read_mounts()
    fields = {"fstab": _fstab.read_fstab(), "mount": _fstab.mount_at(mounts, path), "mount_point": read_path(path)}
    if fields["mount"] is not None:
        fields["mount_rdev"] = _blockdev.device_number(fields["mount"].source)
    if params.get("device"):
        fields["device_kind"] = _device_kind(params["device"])
        if fields["device_kind"] == "block":
            device = _blockdev.probe(runner, os.path.realpath(params["device"]))
            fields["device"] = device
            fields["device_bytes"] = _blockdev.size_bytes(device.rdev)
            if device.fstype == FSTYPE:
                fields["super"] = parse_dump_super(runner.read(["btrfs", "inspect-internal", "dump-super", device.path]).stdout)
            fields["device_mounts"] = [mount.mount_point for mount in mounts
                                       if mount.source.startswith("/") and _blockdev.device_number(mount.source) == device.rdev]
    if params["state"] == "present":
        fields["records"] = _blockdev.scan(runner)
        fields["fstab_targets"] = dict((entry.index, _resolve_spec(entry, fields["records"])) for entry in fields["fstab"].entries)
        fields["owner_uid"] = _lookup_id(params.get("owner"), uid_of)
        fields["group_gid"] = _lookup_id(params.get("group"), gid_of)
    state = BrickState(**fields)
    if state.mounted_here and is_subdirectory(params.get("brick_dir")):
        state.brick = read_brick_path(path, params["brick_dir"])
        state.fs_has_data = _has_data_outside(path, params["brick_dir"])
    return state


def _device_kind(path):
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "missing"
    return "block" if stat.S_ISBLK(info.st_mode) else "other"


# ---------------------------------------------------------------------------------------------
# plan


def _check_common(params):
    path = params["mount_point"]
    if not path or not os.path.isabs(path) or os.path.normpath(path) == "/":
        raise Refusal("mount point must be an absolute path below /", repr(path), "mount_point", "Give a path such as /srv/mapserver.")


def _check_present_params(state, params):
    label = params.get("label") or ""
    if not label or len(label.encode("utf-8")) > LABEL_MAX_BYTES or any(ord(char) < 32 for char in label):
        raise Refusal("invalid btrfs label", repr(label), "label", "Use 1 to 255 bytes without control characters.")
    if not is_subdirectory(params.get("brick_dir")):
        raise Refusal(
            "brick_dir must be a subdirectory of the mount point", repr(params.get("brick_dir")), "brick_dir",
            "Give a relative path without '.' or '..' parts, such as 'data' (gluster refuses a brick that is the mount point).",
        )
    options = kernel_options(params["mount_options"])
    compressing = [option for option in options if _key(option) in ("compress", "compress-force") and option != "compress=no"]
    if compressing and "nodatacow" in options:
        # The kernel turns nodatacow off when compression is set: the two would never converge.
        raise Refusal("nodatacow and compression exclude each other in btrfs", ",".join(params["mount_options"]), "mount_options",
                      "Keep nodatacow (VM images) or compression, not both.")
    if params.get("mode") is not None and parse_mode(params["mode"]) is None:
        raise Refusal("invalid mode", repr(params["mode"]), "mode", "Give an octal mode such as '0755'.")
    for name, found in (("owner", state.owner_uid), ("group", state.group_gid)):
        if found == -1:
            raise Refusal("no such %s on the node" % name, repr(params[name]), name, "Create it first or give a numeric id.")
    if state.device_kind == "other":
        raise Refusal(
            "device is not a block device", "%s is not a block device" % params["device"], "device",
            "Give an existing block device (a thin LV such as /dev/VG/LV).",
        )


def _refuse_foreign_mounts(state, params):
    path = os.path.normpath(params["mount_point"])
    other_places = [mount for mount in state.device_mounts if mount != path]
    if other_places:
        raise Refusal(
            "device is mounted elsewhere", "%s mounted on %s" % (params["device"], ", ".join(other_places)),
            "mount on %s" % path, "Unmount it there, or set path to where it is mounted.",
        )
    if state.mount is not None and not state.mounted_here:
        raise Refusal(
            "another filesystem is mounted on the mount point", "%s (%s) on %s" % (state.mount.source, state.mount.fstype, path),
            "%s on %s" % (params["device"], path), "Unmount it or choose another path.",
        )


def _refuse_foreign_fstab(state, params):
    path = os.path.normpath(params["mount_point"])
    entries = state.fstab.entries_for(path)
    if len(entries) > 1:
        raise Refusal(
            "fstab has several lines for the mount point", "; ".join(entry.render() for entry in entries),
            "one line for %s" % path, "Remove the extra lines from /etc/fstab.",
        )
    for entry in entries:
        target = state.fstab_targets.get(entry.index)
        if target is not None and target != state.device.rdev:
            raise Refusal(
                "fstab mounts another device on the mount point", entry.render(), "%s on %s" % (params["device"], path),
                "Remove or fix that fstab line, or choose another path.",
            )


def _desired_spec(state, params, new_fs):
    source = params["fstab_source"]
    if source == "label":
        return "LABEL=" + params["label"]
    if source == "uuid":
        return None if new_fs else "UUID=" + state.device.uuid
    return params["device"]


def _refuse_ambiguous_source(state, params, spec):
    if spec is None or spec == params["device"]:
        return
    key, value = spec.split("=", 1)
    others = _blockdev.devices_carrying(state.records, key, value, except_rdev=state.device.rdev)
    if others:
        raise Refusal(
            "%s is ambiguous: other devices carry the same %s" % (spec, key.lower()), ", ".join(others),
            "%s mounted by %s" % (params["device"], spec),
            "Relabel or remove the other device (a cloned or snapshotted LV), or set fstab_source: device.",
        )
    path = os.path.normpath(params["mount_point"])
    clashes = [entry.render() for entry in state.fstab.entries if entry.spec == spec and os.path.normpath(entry.file) != path]
    if clashes:
        raise Refusal(
            "fstab already uses %s for another mount point" % spec, "; ".join(clashes), "%s on %s" % (spec, path),
            "Choose another label or fix that fstab line.",
        )


def _filesystem_actions(state, params):
    """mkfs / relabel / reformat as needed; returns (actions, new_fs)."""
    device = state.device
    label = params["label"]
    path = os.path.normpath(params["mount_point"])
    if device.fstype == FSTYPE and not device.ambivalent and device.label == label:
        return [], False
    if device.fstype == FSTYPE and not device.ambivalent and state.mounted_here and state.fs_has_data is False:
        return [Action(Kind.RELABEL, "relabel btrfs on %s from %r to %r" % (device.path, device.label, label),
                       ["btrfs", "filesystem", "label", path, label])], False
    if device.blank:
        return [Action(Kind.MKFS, "create btrfs labelled %r on %s" % (label, device.path),
                       ["mkfs.btrfs", "-L", label, device.path])], True
    found = "%s holds %s" % (params["device"], device.describe())
    if not params["allow_format"]:
        raise Refusal(
            "device is not blank", found, "btrfs labelled %r" % label,
            "Check that this is the right device; to destroy what is on it set allow_format: true (only while unmounted).",
        )
    if state.device_mounts:
        raise Refusal("will not format a mounted device", found + ", mounted on " + ", ".join(state.device_mounts),
                      "allow_format", "Unmount it first (state: unmounted).")
    if device.holders:
        raise Refusal("will not format a device in use", found,  # describe() names the holders
                      "allow_format", "Release it first (deactivate or remove what is stacked on it).")
    return [
        Action(Kind.WIPE, "erase every signature on %s (%s)" % (device.path, device.describe()), ["wipefs", "--all", device.path]),
        Action(Kind.MKFS, "create btrfs labelled %r on %s (forced)" % (label, device.path),
               ["mkfs.btrfs", "-f", "-L", label, device.path]),
    ], True


def _brick_dir_action(state, params):
    brick_path = brick_path_of(params)
    uid, gid, mode = state.owner_uid, state.group_gid, parse_mode(params.get("mode"))
    if not state.mounted_here:
        return [Action(Kind.BRICK_DIR, "ensure brick directory %s once mounted" % brick_path, path=brick_path, uid=uid, gid=gid, mode=mode)]
    brick = state.brick
    if brick.kind == "symlink":
        raise brick_dir_link_refusal(brick_path, brick.link)
    if brick.kind == "other":
        raise Refusal("brick path exists and is not a directory", brick_path, "a brick directory", "Move that file away.")
    changes = []
    if brick.kind == "missing":
        changes.append("create")
    if uid is not None and brick.uid != uid or gid is not None and brick.gid != gid:
        changes.append("owner %s:%s" % (uid if uid is not None else brick.uid, gid if gid is not None else brick.gid))
    if mode is not None and brick.mode != mode:
        changes.append("mode %04o" % mode)
    if not changes:
        return []
    return [Action(Kind.BRICK_DIR, "brick directory %s: %s" % (brick_path, ", ".join(changes)), path=brick_path, uid=uid, gid=gid, mode=mode)]


def _plan_present(state, params):
    _check_present_params(state, params)
    if state.device_kind == "missing":
        raise _missing_device(state, params)
    _refuse_foreign_mounts(state, params)
    _refuse_foreign_fstab(state, params)
    path = os.path.normpath(params["mount_point"])
    actions, new_fs = _filesystem_actions(state, params)
    spec = _desired_spec(state, params, new_fs)
    _refuse_ambiguous_source(state, params, spec)

    point = state.mount_point
    if point.kind == "other":
        raise Refusal("mount point exists and is not a directory", path, "a directory", "Move it away or choose another path.")
    if point.kind == "missing":
        actions.append(Action(Kind.MKDIR, "create mount point %s" % path, path=path))
    elif not state.mount and point.entries:
        raise Refusal(
            "mount point is not empty", "%s holds %s" % (path, ", ".join(point.entries[:5])), "mount %s there" % params["device"],
            "Move those files away: mounting would hide them.",
        )

    entry = _fstab.FstabEntry(spec or "UUID=<new>", path, FSTYPE, _fstab.with_brick_boot_options(params["mount_options"] or ["defaults"]),
                              FSTAB_FREQ, params["fstab_passno"])
    current = state.fstab.entries_for(path)
    if spec is None or not current or current[0].render() != entry.render():
        actions.append(Action(
            Kind.FSTAB, "set fstab line: %s" % entry.render(), path=path, entry=entry, uuid_from=params["device"] if spec is None else None,
        ))

    if not state.mounted_here:
        actions.append(Action(Kind.MOUNT, "mount %s" % path, ["mount", path]))
    else:
        drift = option_drift(params["mount_options"], state.mount.options)
        if drift.unchangeable:
            raise Refusal(
                "mount options cannot change on a live btrfs mount", ",".join(state.mount.options), ",".join(drift.unchangeable),
                "Unmount it (state: unmounted), then run with state: present to mount it with the new options.",
            )
        if drift.remount:
            # Source and target both given: mount(8) then passes exactly these options instead of
            # merging them with the live ones (a merged "noatime,relatime" would keep noatime).
            wanted = kernel_options(params["mount_options"])
            options = wanted + [off for off in drift.remount if off not in wanted]
            actions.append(Action(Kind.REMOUNT, "remount %s to apply %s" % (path, ",".join(drift.remount)),
                                  ["mount", "-o", ",".join(["remount"] + options), state.device.path, path],
                                  requested=list(params["mount_options"]), changes=drift.remount))
    return actions + _grow_action(state, params, new_fs) + _brick_dir_action(state, params)


def _missing_device(state, params):
    """The device does not exist (yet): refuse, predicting the run on a blank device for check mode."""
    blank = _blockdev.DeviceProbe(params["device"], None, {}, False, [], True, [])
    predicted_state = copy.copy(state)
    predicted_state.device, predicted_state.device_kind = blank, "block"
    return MissingPrerequisite(
        "device does not exist", "no %s on the node" % params["device"], "btrfs labelled %r on it" % params["label"],
        "Create it first (e.g. vmstorage.gluster.thin_lv) or fix device.", _plan_present(predicted_state, params),
    )


def _grow_action(state, params, new_fs):
    """Grow a single-device btrfs to its device (after its LV grew); a shrunk device is refused."""
    if new_fs or state.super.get("num_devices") != "1" or not state.super.get("dev_item.total_bytes", "").isdigit():
        return []
    fs_bytes = int(state.super["dev_item.total_bytes"])
    sector = int(state.super.get("sectorsize", "4096"))
    usable = state.device_bytes // sector * sector
    if usable < fs_bytes:
        raise Refusal(
            "device is smaller than its filesystem", "%s of %d bytes holding btrfs of %d bytes" % (params["device"], usable, fs_bytes),
            "a mounted brick", "Give the device back its size (lvextend) before mounting; btrfs would fail reading past its end.",
        )
    if usable == fs_bytes:
        return []
    path = os.path.normpath(params["mount_point"])
    return [Action(Kind.GROW, "grow btrfs on %s from %s to %s" % (state.device.path, format_size(fs_bytes), format_size(usable)),
                   ["btrfs", "filesystem", "resize", "max", path])]


def _plan_removal(state, params):
    """state=unmounted: unmount; state=absent: unmount and drop the fstab line. Never wipes."""
    path = os.path.normpath(params["mount_point"])
    if state.mount is not None:
        if state.mount.fstype != FSTYPE:
            raise Refusal("the filesystem on the mount point is not btrfs", "%s (%s)" % (state.mount.source, state.mount.fstype),
                          "unmount a btrfs brick on %s" % path, "Check path.")
        if state.device is not None and state.mount_rdev != state.device.rdev:
            raise Refusal("another device is mounted on the mount point", state.mount.source,
                          "%s on %s" % (params["device"], path), "Check device and path.")
    actions = []
    if params["state"] == "absent":
        entries = state.fstab.entries_for(path)
        foreign = [entry.render() for entry in entries if entry.vfstype != FSTYPE]
        if foreign:
            raise Refusal("fstab mounts something else than btrfs there", "; ".join(foreign), "remove a btrfs brick line",
                          "Check path.")
        # the line goes first (and systemd is told): a mount unit still generated from it was mounted again by
        # systemd right after the unmount (lab: every node, the thin LV then still in use)
        if entries:
            actions.append(Action(Kind.FSTAB, "remove fstab line: %s" % "; ".join(entry.render() for entry in entries),
                                  path=path, entry=None, uuid_from=None))
    if state.mount is not None:
        actions.append(Action(Kind.UMOUNT, "unmount %s" % path, ["umount", path]))
    return actions


def plan(state: BrickState, params: t.Mapping[str, t.Any]) -> t.List[Action]:
    _check_common(params)
    if params["state"] == "present":
        return _plan_present(state, params)
    return _plan_removal(state, params)


# ---------------------------------------------------------------------------------------------
# apply and report


def _predicted_fstab(table, action):
    if action.params["entry"] is None:
        return table.without_mount_point(action.params["path"])
    return table.with_entry(action.params["entry"])


def _apply_fstab(runner, action):
    entry = action.params["entry"]
    if entry is not None and action.params["uuid_from"]:
        # The new filesystem's UUID exists only now that mkfs has run.
        uuid = _blockdev.probe(runner, os.path.realpath(action.params["uuid_from"])).uuid
        entry = _fstab.FstabEntry("UUID=" + uuid, entry.file, entry.vfstype, entry.options, entry.freq, entry.passno)
        action = Action(action.kind, action.summary, path=action.params["path"], entry=entry, uuid_from=None)
    table = _fstab.read_fstab()
    text = _predicted_fstab(table, action)
    if text != table.text:
        _fstab.write_atomically(_fstab.FSTAB_PATH, text)


def _apply_brick_dir(action, mount_point, brick_dir):
    uid, gid, mode = (action.params[key] for key in ("uid", "gid", "mode"))
    try:
        fd = open_brick_dir(mount_point, brick_dir)
    except BrickDirLink as link:
        # planted between observe() and now, or on a filesystem this run just mounted
        raise brick_dir_link_refusal(action.params["path"], link.link, "Found while making the brick directory, after "
                                     "the steps before it ran; nothing was done through the link. ") from link
    try:
        info = os.fstat(fd)
        if (uid is not None and info.st_uid != uid) or (gid is not None and info.st_gid != gid):
            os.fchown(fd, uid if uid is not None else -1, gid if gid is not None else -1)
        if mode is not None and stat.S_IMODE(info.st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _check_remount(action):
    mount = _fstab.mount_at(_fstab.read_mounts(), action.argv[-1])
    drift = option_drift(action.params["requested"], mount.options if mount else [])
    if drift.remount:
        raise CommandError(action.argv, 0, "", "the kernel still reports %s; %s did not take effect without an unmount"
                           % (",".join(mount.options if mount else []), ",".join(drift.remount)))


def apply(runner: CommandRunner, state: BrickState, params: t.Mapping[str, t.Any], actions: t.List[Action]) -> None:
    for action in actions:
        if action.kind == Kind.FSTAB:
            _apply_fstab(runner, action)
            if action.params["entry"] is None and os.path.isdir(SYSTEMD_RUNNING):
                # systemd's units from fstab follow the file only on a reload
                runner.run(["systemctl", "daemon-reload"])
        elif action.kind == Kind.MKDIR:
            os.makedirs(action.params["path"], 0o755)
        elif action.kind == Kind.BRICK_DIR:
            _apply_brick_dir(action, os.path.normpath(params["mount_point"]), params["brick_dir"])
        else:
            runner.run(action.argv)
            if action.kind == Kind.REMOUNT:
                _check_remount(action)


def _facts(state, fstab_text, path):
    """The part of the state a user reads in the diff."""
    device = state.device
    mount = state.mount
    entries = _fstab.FstabTable(fstab_text).entries_for(path)
    return {
        "label": device.label if device else None,
        "uuid": device.uuid if device else None,
        "fstype": device.fstype if device else None,
        "mounted": mount is not None,
        "mount_options": list(mount.options) if mount else [],
        "fstab_line": entries[0].render() if entries else None,
    }


def _predict(before, params, actions):
    """The facts a real run would leave, for check mode."""
    path = os.path.normpath(params["mount_point"])
    fstab_text = before.fstab.text
    facts = _facts(before, fstab_text, path)
    for action in actions:
        if action.kind == Kind.FSTAB:
            fstab_text = _predicted_fstab(before.fstab, action)
            entries = _fstab.FstabTable(fstab_text).entries_for(path)
            facts["fstab_line"] = entries[0].render() if entries else None
        elif action.kind in (Kind.MKFS, Kind.RELABEL):
            facts.update(label=params["label"], fstype=FSTYPE)
            if action.kind == Kind.MKFS:
                facts["uuid"] = None
        elif action.kind == Kind.MOUNT:
            facts.update(mounted=True, mount_options=kernel_options(params["mount_options"]))
        elif action.kind == Kind.REMOUNT:
            facts["mount_options"] = options_after_remount(facts["mount_options"], action.params["changes"])
        elif action.kind == Kind.UMOUNT:
            facts.update(mounted=False, mount_options=[])
    return facts, fstab_text


def report(runner: CommandRunner, before: BrickState, after: t.Optional[BrickState], params: t.Mapping[str, t.Any],
           actions: t.List[Action]) -> t.Dict[str, t.Any]:
    path = os.path.normpath(params["mount_point"])
    before_facts = _facts(before, before.fstab.text, path)
    if after is None:
        after_facts, after_text = _predict(before, params, actions)
    else:
        after_facts, after_text = _facts(after, after.fstab.text, path), after.fstab.text
    source = after or before
    result = dict(
        device=source.device.path if source.device else None,
        uuid=after_facts["uuid"],
        label=after_facts["label"],
        fstab_line=after_facts["fstab_line"],
        mounted=after_facts["mounted"],
        mount_options=after_facts["mount_options"],
        brick_path=brick_path_of(params) if params["state"] == "present" else None,
    )
    result["diff"] = [
        {"before_header": _fstab.FSTAB_PATH, "after_header": _fstab.FSTAB_PATH, "before": before.fstab.text, "after": after_text},
        {"before_header": "btrfs brick %s" % path, "after_header": "btrfs brick %s" % path,
         "before": before_facts, "after": after_facts},
    ]
    return result
