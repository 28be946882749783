# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""qemu_gluster_image refuses image paths that its URIs, json: filenames and libvirt XML cannot carry."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _qemu
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Refusal
from ansible_collections.vmstorage.gluster.tests.unit.helpers import qemu_params


def params(**overrides):
    return qemu_params(**dict(dict(format="qcow2", access="fuse"), **overrides))


@pytest.mark.parametrize("path", ["a b.img", "x;reboot.img", "$(reboot).img", "images/a,b.img", "a<b>.img", "it's.img",
                                  "a&b.img", "back`tick`.img", "tab\t.img", "new\nline.img"])
def test_spaces_and_special_characters_are_refused(path):
    with pytest.raises(Refusal) as caught:
        _qemu.Request(params(image_path=path))
    assert caught.value.problem == "the path has characters a disk path cannot carry"
    assert caught.value.found == repr(path) and "nothing was created" in caught.value.remedy


@pytest.mark.parametrize("path", ["disk.img", "images/vm-1_a.qcow2", "vm+1@site=a.img", ".hidden.img"])
def test_plain_paths_pass(path):
    assert _qemu.Request(params(image_path=path)).path == path
