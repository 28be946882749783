# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gluster_heal_info main() with arguments (run_module: conftest.py); what it reads is tested in module_utils/test_heal.py."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster, _heal
from ansible_collections.vmstorage.gluster.plugins.modules import gluster_heal_info
from ansible_collections.vmstorage.gluster.tests.unit.helpers import gluster_fixture


@pytest.mark.parametrize("volumes, expected", [([], ["mapserver", "webfront"]), (["webfront"], ["webfront"])])
def test_main_reads_the_volumes_asked_or_all(run_module, monkeypatch, volumes, expected):
    asked = []
    monkeypatch.setattr(_heal, "observe", lambda runner, names, deadline: (
        asked.append(names) or [_heal.VolumeHealth(volume) for name, volume in sorted(
            _gluster.parse_volumes(gluster_fixture("heal_volume_info.xml")).items()) if not names or name in names],
        [], ["mapserver", "webfront"]))
    kind, result = run_module(gluster_heal_info.main, dict(volumes=volumes), check_mode=True)
    assert kind == "exit" and not result["changed"] and asked == [volumes]
    assert [volume["name"] for volume in result["volumes"]] == expected


def test_main_fails_for_a_volume_that_does_not_exist(run_module, monkeypatch):
    monkeypatch.setattr(_heal, "observe", lambda runner, names, deadline: ([], ["nosuch"], ["mapserver", "webfront"]))
    kind, result = run_module(gluster_heal_info.main, dict(volumes=["nosuch"]))
    assert kind == "fail"
    assert result["msg"].startswith("volumes do not exist: found nosuch missing (the volumes there are: mapserver, webfront); "
                                    "asked for heal info of nosuch.")
