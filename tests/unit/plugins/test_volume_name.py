# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one volume-name rule: the modules (gluster_replica_volume, qemu_gluster_image) and the roles'
test plugin answer alike for every name (it was three rules that disagreed on '-x' and 'all')."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster, _qemu
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Refusal
from ansible_collections.vmstorage.gluster.plugins.test.volume_name import TestModule as VolumeNameTests

NAMES = {
    "mapserver": True, "vm_1-a": True, "_x": True, "x" * 64: True, "ALLx": True,
    "-dash": False, "all": False, "ALL": False, "force": False, "end-volume": False, "snap-max-hard-limit": False,
    "x" * 65: False, "": False, "vm.1": False, "vm/1": False, "vm 1": False, "vm;rm": False, None: False, 7: False,
}


def qemu_accepts(name):
    params = dict(volume=name, image_path="images/vm.qcow2", nodes=["node1"], port=24007, format="qcow2", preallocation=None,
                  state="present", source=None, source_format=None, access="fuse", owner=None, group=None,
                  allow_delete=False, allow_source_backing_file=False, size="1G")
    try:
        _qemu.Request(params)
    except Refusal as refusal:
        assert refusal.problem == "invalid volume name"
        return False
    return True


@pytest.mark.parametrize("name, valid", sorted(NAMES.items(), key=repr))
def test_modules_and_role_test_share_one_rule(name, valid):
    assert _gluster.valid_volume_name(name) is valid
    assert VolumeNameTests().tests()["volume_name"](name) is valid
    if isinstance(name, str):
        assert qemu_accepts(name) is valid


def test_the_refusal_names_the_rule():
    assert "not starting with '-'" in _gluster.VOLUME_NAME_RULE and "'all'" not in _gluster.VOLUME_NAME_RULE
    assert "all, " in _gluster.VOLUME_NAME_RULE and "up to 64" in _gluster.VOLUME_NAME_RULE
