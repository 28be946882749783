# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Attributes every node module of this collection shares (access_files, on the controller, has its own)."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return the changed status and the planned actions without modifying the target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or would change in check mode) when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
"""
