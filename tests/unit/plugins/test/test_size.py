# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' size checks: the test plugins say yes exactly where the modules' parser does."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.test.pool_size import TestModule as PoolSizeTests
from ansible_collections.vmstorage.gluster.plugins.test.size import TestModule as SizeTests

IS_SIZE = SizeTests().tests()["size"]
IS_POOL_SIZE = PoolSizeTests().tests()["pool_size"]


@pytest.mark.parametrize("value", ["100G", "512m", "1.5TiB", "256KB", "4096B", " 50 g "])
def test_a_number_with_a_unit_is_a_size_and_a_pool_size(value):
    assert IS_SIZE(value) and IS_POOL_SIZE(value)


@pytest.mark.parametrize("value", ["51200", 51200, "1.5", 1.5, "0", 0, "0G", "", None, True, ["1G"], {"size": "1G"}, "100X", "-1G"])
def test_a_bare_number_zero_or_anything_else_is_neither(value):
    assert not IS_SIZE(value) and not IS_POOL_SIZE(value)


@pytest.mark.parametrize("value", ["90%VG", "100%FREE", "400000 extents", "1 extent"])
def test_shares_and_extents_are_pool_sizes_only(value):
    assert IS_POOL_SIZE(value) and not IS_SIZE(value)


@pytest.mark.parametrize("value", ["0%VG", "101%FREE", "10%PVS", "0 extents", "400000e extents"])
def test_bad_shares_and_extents_are_not_pool_sizes(value):
    assert not IS_POOL_SIZE(value)
