# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""Walking a directory path without following a symbolic link: the one way the modules do it.

Why: the modules run as root, and what lies below a brick's mount point or on a volume is written by
others (a volume's clients, or whoever else can write the brick). A link planted on the way would turn
a mkdir, chown or qemu-img write into one anywhere on the node. Each part is opened relative to its
parent's descriptor with O_NOFOLLOW, so even a link planted after a check is never followed.
"""

from __future__ import annotations

import errno
import os
import stat
import typing as t

OPEN_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class Blocked(Exception):
    """A part of the path that is a symbolic link ("a symlink") or not a directory ("not a directory")."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__("%s is %s" % (path, kind))
        self.path = path  # the parts walked so far, joined with '/'
        self.kind = kind


def kind_of(mode: int) -> str:
    """file, directory, symlink or other, from an lstat mode."""
    if stat.S_ISREG(mode):
        return "file"
    return "directory" if stat.S_ISDIR(mode) else "symlink" if stat.S_ISLNK(mode) else "other"


def kind_in(directory_fd: int, name: str) -> str:
    """What ``name`` is in the directory, its symlinks not followed ("gone" when nothing is there)."""
    try:
        return kind_of(os.lstat(name, dir_fd=directory_fd).st_mode)
    except FileNotFoundError:
        return "gone"


def _open_child_directory(directory_fd: int, name: str, walked: t.List[str]) -> int:
    try:
        return os.open(name, OPEN_DIRECTORY, dir_fd=directory_fd)
    except OSError as exc:
        # Linux answers ENOTDIR for a link opened with O_DIRECTORY|O_NOFOLLOW (ELOOP without O_DIRECTORY)
        if exc.errno in (errno.ENOTDIR, errno.ELOOP):
            kind = kind_in(directory_fd, name)
            raise Blocked("/".join(walked), "a symlink" if kind == "symlink" else "not a directory") from exc
        raise


def walk_directories(root: str, parts: t.List[str], create: bool = False) -> t.Tuple[int, t.Optional[int]]:
    """(descriptor of root/parts..., index of the first missing part or None), no symlink followed.

    With ``create`` missing parts are made (mode 0755; mkdir never follows a symlink in its last part)
    and the index is None. A part that is a symlink or no directory raises Blocked. The caller closes
    the descriptor."""
    descriptor = os.open(root, OPEN_DIRECTORY)
    try:
        for index, part in enumerate(parts):
            walked = parts[:index + 1]
            try:
                child = _open_child_directory(descriptor, part, walked)
            except FileNotFoundError:
                if not create:
                    return descriptor, index
                try:
                    os.mkdir(part, 0o755, dir_fd=descriptor)
                except FileExistsError:
                    pass  # made meanwhile: opened below like any other
                child = _open_child_directory(descriptor, part, walked)
            os.close(descriptor)
            descriptor = child
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor, None
