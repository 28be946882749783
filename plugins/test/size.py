# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: size
author: vmstorage.gluster contributors
version_added: 0.1.0
short_description: Whether a value is a size as every size option of the collection takes it
description:
  - True for a number with a unit (V(100G), V(512M), V(1.5T), V(256K); binary multiples, V(1K) = 1024 bytes; C(K), C(KB) and
    C(KiB) alike, any case; V(B) is bytes).
  - False for a bare number (a string or an int, whose unit each tool reads differently), for a size of 0 and for anything else.
  - The modules parse their size options with the same function, so a role that checks its variables with this test refuses
    exactly what the modules would refuse, before any node task.
options:
  _input:
    description: The value to check.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a disk size without a unit before anything is made
  ansible.builtin.assert:
    that: vm.disk_size is vmstorage.gluster.size
    fail_msg: "disk_size {{ vm.disk_size }} of {{ vm.name }}: write a number with a unit, e.g. 50G"
"""

RETURN = r"""
_value:
  description: Whether the input is a size.
  type: boolean
"""

from ansible_collections.vmstorage.gluster.plugins.module_utils._units import accepts, parse_size


class TestModule:
    def tests(self):
        return {"size": accepts(parse_size)}
