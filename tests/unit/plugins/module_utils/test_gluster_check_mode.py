# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A check run of the whole site on fresh nodes: the brick filesystems are not there yet."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster as gluster
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import MissingPrerequisite, Refusal
from ansible_collections.vmstorage.gluster.tests.unit.helpers import GLUSTER_BRICK as BRICK, gluster_params as params
from ansible_collections.vmstorage.gluster.tests.unit.helpers import gluster_new_volume_state as new_volume_state


def test_a_brick_path_not_made_yet_is_a_missing_prerequisite_with_the_predicted_plan():
    state = new_volume_state()
    # /srv/vmdisks/data does not exist: its nearest parent (/srv) is on the root filesystem
    state.local_paths = {BRICK: gluster.LocalPath(mount_point=False, on_root_fs=True, exists=False)}
    with pytest.raises(MissingPrerequisite) as missing:
        gluster.plan(state, params())
    assert missing.value.problem == "a brick cannot be on the root filesystem"
    assert [action.kind for action in missing.value.predicted] == ["create", "set_options", "start"]


def test_an_existing_brick_path_on_the_root_filesystem_is_refused_in_check_mode_too():
    state = new_volume_state()
    state.local_paths = {BRICK: gluster.LocalPath(mount_point=False, on_root_fs=True, exists=True)}
    with pytest.raises(Refusal) as refused:
        gluster.plan(state, params())
    assert not isinstance(refused.value, MissingPrerequisite)
