# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""qemu_gluster_image's FUSE mount in the start-up window after glusterd restarts (client logs from the lab)."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _qemu
from ansible_collections.vmstorage.gluster.tests.unit.helpers import qemu_params, read_fixture


def request():
    return _qemu.Request(qemu_params(volume="ledger", nodes=["node1", "node2", "node3"], size="512M", format="raw", access="fuse"))


class MountRunner:
    """Answers `mount -t glusterfs` like the lab: the client writes its log, then mount exits 1 (failures) or 0."""

    def __init__(self, *logs):
        self.logs = list(logs)  # one client log per attempt; None: the mount succeeds
        self.attempts = 0

    def run(self, argv, check=True):
        assert argv[:3] == ["mount", "-t", "glusterfs"], argv
        self.attempts += 1
        log = self.logs.pop(0)
        if log is None:
            return Result(0)
        log_path = next(option for option in argv[4].split(",") if option.startswith("log-file=")).split("=", 1)[1]
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(read_fixture("qemu", log))
        return Result(1)


class Result:
    """What the runner returns: the exit code and mount's own words (the client log has the cause)."""

    def __init__(self, rc):
        self.rc, self.stdout, self.stderr = rc, "", "Mount failed. Check the log file for more details.\n" if rc else ""


@pytest.fixture(name="session")
def session_fixture(monkeypatch):
    monkeypatch.setattr(_qemu, "MOUNT_RETRY_INTERVAL", 0)
    session = _qemu.VolumeSession(read_only=False)
    yield session
    session.mounted = False  # nothing was really mounted
    session.close()


def test_a_mount_while_the_bricks_start_is_tried_again(session):
    runner = MountRunner("mount-bricks-down.log", "mount-bricks-down.log", None)
    assert session._mount(runner, request()) is None  # pylint: disable=protected-access
    assert session.mounted and runner.attempts == 3


def test_bricks_that_stay_down_fail_with_the_clients_errors_at_the_deadline(session, monkeypatch):
    monkeypatch.setattr(_qemu, "MOUNT_SETTLE_TIME", 0)
    runner = MountRunner("mount-bricks-down.log")
    error = session._mount(runner, request())  # pylint: disable=protected-access
    assert runner.attempts == 1 and not session.mounted
    assert "All subvolumes are down" in error and "failed to get the port number for remote subvolume" in error


def test_a_missing_volume_is_not_tried_again(session):
    runner = MountRunner("mount-missing-volume.log")
    error = session._mount(runner, request())  # pylint: disable=protected-access
    assert runner.attempts == 1 and "failed to fetch volume file" in error
