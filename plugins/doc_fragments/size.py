# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The one size grammar (plugins/module_utils/_units.py; docs/glossary.md "Sizes")."""

    # No options of its own: each size option says what it sizes and refers to this note.
    DOCUMENTATION = r"""
options: {}
notes:
  - "Sizes: every size option takes a number with a unit: V(100G), V(512M), V(1.5T), V(256K), in binary multiples as LVM reads them
    (V(1K) is 1024 bytes; C(K), C(KB) and C(KiB) alike, any case; V(B) is bytes, V(S) a 512-byte sector). A bare number
    (V(51200) as a string or an int) is refused before anything changes, because each tool reads it in another unit (LVM as MiB,
    KiB or extents, qemu-img as bytes); so is a size of 0. The roles check their size variables the same way
    (P(vmstorage.gluster.size#test))."
"""
