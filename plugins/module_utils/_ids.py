# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""The one owner/group lookup: a name or a numeric id, as chown(1) takes them, to the node's id."""

from __future__ import annotations

import grp
import pwd
import typing as t


def _lookup(name: t.Any, database: t.Callable[[str], t.Any]) -> t.Optional[int]:
    if name is None:
        return None
    text = str(name)
    if text.isdigit():
        return int(text)  # a numeric id need not exist on the node (a VM's user inside the guest)
    return database(text)[2]


def uid_of(owner: t.Any) -> t.Optional[int]:
    """The uid of ``owner`` (a user name or a number), None when not given; KeyError for an unknown name."""
    return _lookup(owner, pwd.getpwnam)


def gid_of(group: t.Any) -> t.Optional[int]:
    """The gid of ``group`` (a group name or a number), None when not given; KeyError for an unknown name."""
    return _lookup(group, grp.getgrnam)
