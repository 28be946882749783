# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""The two mount tables: /etc/fstab (read, edited line by line, rewritten atomically) and the
kernel's live one, /proc/self/mountinfo.

Both escape blanks and backslashes in a field as octal (``\\040`` for a space), so one pair of
helpers serves both. An fstab edit keeps every line it does not own byte for byte: comments,
blank lines, spacing and the lack of a final newline all survive.
"""

from __future__ import annotations

import os
import re
import tempfile
import typing as t
from dataclasses import dataclass

FSTAB_PATH = "/etc/fstab"
MOUNTINFO_PATH = "/proc/self/mountinfo"

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
# What getmntent(3) and the kernel escape inside a field.
_ESCAPED_CHARS = {" ": "\\040", "\t": "\\011", "\n": "\\012", "\\": "\\134"}


def unescape_field(text: str) -> str:
    """A field of fstab or mountinfo with its octal escapes decoded."""
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), text)


def escape_field(text: str) -> str:
    """A value written as one fstab field: blanks and backslashes octal-escaped."""
    return "".join(_ESCAPED_CHARS.get(char, char) for char in text)


# What a brick's fstab line tells the boot, besides the mount options: a missing or broken brick disk
# must not stop the node in emergency mode (every other brick, sshd and glusterd with it), so the
# mount is wanted, not required (nofail), and its device is awaited for a bounded time (systemd's
# default 90 s: 30 s gave up on a slow but healthy LV under load in the lab, F01); a brick
# filesystem that is there is mounted before glusterd starts its bricks (nofail alone drops that order).
BRICK_BOOT_OPTIONS = ("nofail", "x-systemd.device-timeout=90s", "x-systemd.before=glusterd.service")


def with_brick_boot_options(options: t.Sequence[str]) -> t.List[str]:
    """``options`` and then each of BRICK_BOOT_OPTIONS whose name (before '=') ``options`` does not set."""
    names = {option.split("=", 1)[0] for option in options}
    return list(options) + [option for option in BRICK_BOOT_OPTIONS if option.split("=", 1)[0] not in names]


class FstabEntry:
    """One mount line of fstab, with its fields decoded; ``index`` is its line number (0-based)."""

    __slots__ = ("spec", "file", "vfstype", "options", "freq", "passno", "index")

    def __init__(self, spec, file, vfstype, options, freq=0, passno=0, index=None):
        self.spec = spec
        self.file = file
        self.vfstype = vfstype
        self.options = list(options)
        self.freq = freq
        self.passno = passno
        self.index = index

    def render(self) -> str:
        """The line this entry is written as (without its newline)."""
        return " ".join(
            (
                escape_field(self.spec),
                escape_field(self.file),
                escape_field(self.vfstype),
                escape_field(",".join(self.options) or "defaults"),
                str(self.freq),
                str(self.passno),
            )
        )

    def source_kind(self) -> t.Tuple[str, str]:
        """("LABEL", value), ("UUID", value) or ("device", path): how the spec names its source."""
        key, sep, value = self.spec.partition("=")
        if sep and key.upper() in ("LABEL", "UUID", "PARTLABEL", "PARTUUID"):
            return key.upper(), value
        return "device", self.spec

    def __repr__(self):
        return "FstabEntry(%r)" % self.render()


def _parse_fstab_line(line, index):
    body = line.strip()
    if not body or body.startswith("#"):
        return None
    fields = body.split()
    if len(fields) < 3:
        # Not a mount line getmntent(3) would accept; it is kept as it is, like a comment.
        return None
    options = unescape_field(fields[3]).split(",") if len(fields) > 3 else []
    numbers = []
    for field in fields[4:6]:
        numbers.append(int(field) if field.isdigit() else 0)
    numbers += [0] * (2 - len(numbers))
    return FstabEntry(
        unescape_field(fields[0]), unescape_field(fields[1]), unescape_field(fields[2]), options, numbers[0], numbers[1], index
    )


class FstabTable:
    """The text of an fstab and the mount lines found in it."""

    def __init__(self, text):
        self.text = text
        self.lines = text.splitlines(True)
        self.entries = [
            entry for entry in (_parse_fstab_line(line, index) for index, line in enumerate(self.lines)) if entry is not None
        ]

    def entries_for(self, mount_point: str) -> t.List[FstabEntry]:
        """Every mount line whose second field is ``mount_point`` (normalised)."""
        wanted = os.path.normpath(mount_point)
        return [entry for entry in self.entries if os.path.normpath(entry.file) == wanted]

    def with_entry(self, entry: FstabEntry) -> str:
        """The fstab text with the line for ``entry.file`` replaced by ``entry`` (or appended).

        The caller makes sure at most one line names that mount point.
        """
        lines = list(self.lines)
        current = self.entries_for(entry.file)
        if current:
            old = lines[current[0].index]
            ending = old[len(old.rstrip("\r\n")):]
            lines[current[0].index] = entry.render() + ending
        else:
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            lines.append(entry.render() + "\n")
        return "".join(lines)

    def without_mount_point(self, mount_point: str) -> str:
        """The fstab text with every line for ``mount_point`` removed."""
        doomed = set(entry.index for entry in self.entries_for(mount_point))
        return "".join(line for index, line in enumerate(self.lines) if index not in doomed)


def read_fstab(path: str = FSTAB_PATH) -> FstabTable:
    """The FstabTable of ``path``; an absent file reads as empty."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return FstabTable(handle.read())
    except FileNotFoundError:
        return FstabTable("")


def write_atomically(path: str, text: str) -> None:
    """Replace ``path`` with ``text``: temp file in the same directory, fsync, rename, fsync dir.

    The new file keeps the old one's owner and mode (0644 root when there was none), so a crash
    leaves either the old or the new fstab, never half of one.
    """
    directory = os.path.dirname(path) or "."
    try:
        current = os.stat(path)
        mode, uid, gid = current.st_mode & 0o7777, current.st_uid, current.st_gid
    except FileNotFoundError:
        mode, uid, gid = 0o644, 0, 0
    handle, temp_path = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fchown(stream.fileno(), uid, gid)
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.rename(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


@dataclass(repr=False)
class MountEntry:
    """One line of /proc/self/mountinfo (the one mount-table parser of the collection): where, what,
    and the options the kernel reports.

    ``options`` joins the per-mount options (rw, noatime ...) and the filesystem's super options
    (nodatacow, autodefrag ... for btrfs), without repeats, in the kernel's order.
    """

    mount_point: str
    root: str
    fstype: str
    source: str
    options: t.List[str]

    def __repr__(self):
        return "MountEntry(%r on %r, %r)" % (self.source, self.mount_point, ",".join(self.options))


def parse_mountinfo(text: str) -> t.List[MountEntry]:
    """The MountEntry list of a mountinfo text, in mount order (later mounts stack on earlier)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        if "-" not in fields[6:]:
            continue
        separator = fields.index("-", 6)
        fstype, source, super_options = fields[separator + 1:separator + 4]
        options = []
        for option in fields[5].split(",") + super_options.split(","):
            if option not in options:
                options.append(option)
        mounts.append(MountEntry(unescape_field(fields[4]), unescape_field(fields[3]), fstype, unescape_field(source), options))
    return mounts


def read_mounts(path: str = MOUNTINFO_PATH) -> t.List[MountEntry]:
    with open(path, encoding="utf-8") as handle:
        return parse_mountinfo(handle.read())


def mount_at(mounts: t.List[MountEntry], mount_point: str) -> t.Optional[MountEntry]:
    """The mount visible at ``mount_point`` (the last one stacked there), or None."""
    wanted = os.path.normpath(mount_point)
    found = None
    for mount in mounts:
        if mount.mount_point == wanted:
            found = mount
    return found
