# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""The one type of ``Action.kind``: what a planned step does.

Why one type: a domain's apply() runs a step by its kind and check mode's prediction reads the same
kind to say what the step leaves; a misspelt string on either side would silently do nothing. A
``str`` enum, so results and tests still compare it with plain strings.
"""

from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    """Every kind of Action of the collection, by domain."""

    # thin LVM (_lvm)
    VG_CREATE = "vg_create"
    POOL_CREATE = "pool_create"
    POOL_EXTEND = "pool_extend"
    POOL_METADATA_EXTEND = "pool_metadata_extend"
    LV_CREATE = "lv_create"
    LV_EXTEND = "lv_extend"
    LV_ACTIVATE = "lv_activate"
    LV_REMOVE = "lv_remove"
    # btrfs brick (_btrfs)
    WIPE = "wipe"
    MKFS = "mkfs"
    RELABEL = "relabel"
    FSTAB = "fstab"
    MOUNT = "mount"
    REMOUNT = "remount"
    GROW = "grow"
    UMOUNT = "umount"
    BRICK_DIR = "brick_dir"
    # gluster volume (_gluster)
    PROBE = "probe"
    ADD_BRICK = "add_brick"
    SET_OPTIONS = "set_options"
    START = "start"
    STOP = "stop"
    START_BRICKS = "start_bricks"
    END_PORTLESS_BRICK = "end_portless_brick"
    RESET_BRICK = "reset_brick"
    HEAL_FULL = "heal_full"
    # image on a volume (_qemu)
    IMPORT = "import"
    RESIZE = "resize"
    CHOWN = "chown"
    # several domains: a directory, a new volume or image, a deletion
    MKDIR = "mkdir"
    CREATE = "create"
    DELETE = "delete"
