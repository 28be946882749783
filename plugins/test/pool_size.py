# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: pool_size
author: vmstorage.gluster contributors
version_added: 0.1.0
short_description: Whether a value is a thin pool size as thin_lv's pool_size takes it
description:
  - True for a size as the P(vmstorage.gluster.size#test) test takes it (V(100G)), for a share of the volume group as LVM writes
    it (V(90%VG), V(100%FREE)) and for a count of extents (V(400000 extents)).
  - False for a bare number, for 0 and for anything else.
  - thin_lv parses O(vmstorage.gluster.thin_lv#module:pool_size) with the same function.
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a pool size without a unit before anything is made
  ansible.builtin.assert:
    that: vmstorage_pool_size is vmstorage.gluster.pool_size
"""

RETURN = r"""
_value:
  description: Whether the input is a thin pool size.
  type: boolean
"""

from ansible_collections.vmstorage.gluster.plugins.module_utils._units import accepts, parse_pool_size


class TestModule:
    def tests(self):
        return {"pool_size": accepts(parse_pool_size)}
