# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""How many copies each volume has right now, and what the self-heal daemon still has to copy.

Read-only: ``gluster --xml volume info`` (the volumes and their bricks), ``volume status NAME`` (which
brick processes and self-heal daemons run) and ``volume heal NAME info summary`` (per brick: the entries
waiting for heal, in split-brain, possibly being healed). observe() reads, health() is pure.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster
from ansible_collections.vmstorage.gluster.plugins.module_utils._constants import POLL_INTERVAL
from ansible_collections.vmstorage.gluster.plugins.module_utils._retry import Deadline, retry
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandRunner

# glusterd's name for the self-heal daemon's entries in `volume status`
SELF_HEAL_DAEMON = "Self-heal Daemon"
# How long a read of a volume's state may wait for glusterd (starting, busy with another transaction).
QUERY_TIMEOUT = 60


@dataclass
class VolumeHealth:
    """What observe() saw of one volume."""

    volume: _gluster.Volume
    # brick address (HOST:/PATH) -> its process runs and has a port; empty for a volume that is not started
    online: t.Dict[str, bool] = field(default_factory=dict)
    heal: t.Dict[str, _gluster.HealCounts] = field(default_factory=dict)
    # node (as its bricks name it) -> its self-heal daemon runs
    heal_daemons: t.Dict[str, bool] = field(default_factory=dict)


def parse_heal_daemons(text: str, volume: _gluster.Volume) -> t.Dict[str, bool]:
    """The self-heal daemons of ``gluster --xml volume status NAME``: {node: running}, the node named as
    the volume's bricks name it (status names the node it runs on 'localhost'; its peer uuid says which)."""
    hosts = {brick.uuid: brick.host for brick in volume.bricks}
    daemons = {}
    for node in _gluster.cli_output(text).iter("node"):
        if node.findtext("hostname") == SELF_HEAL_DAEMON:
            host = hosts.get(node.findtext("peerid"), node.findtext("path") or "")
            daemons[host] = node.findtext("status", "0").strip() == "1"
    return daemons


def observe(runner: CommandRunner, names: t.Optional[t.Sequence[str]],
            deadline: Deadline) -> t.Tuple[t.List[VolumeHealth], t.List[str], t.List[str]]:
    """The health of the named volumes (every volume without names), the names that do not exist, every volume's name."""
    volumes = _gluster.parse_volumes(_gluster.query(runner, deadline, "volume", "info", fresh=True))
    wanted = list(names) if names else sorted(volumes)
    seen = []
    for name in wanted:
        volume = volumes.get(name)
        if volume is None:
            continue
        health = VolumeHealth(volume)
        if volume.started:
            status = _gluster.query(runner, deadline, "volume", "status", name, fresh=True)
            online = _gluster.parse_brick_status(status)
            health.online = {brick.spec: bool(online.get((brick.uuid, brick.path))) for brick in volume.bricks}
            health.heal_daemons = parse_heal_daemons(status, volume)
            health.heal = _gluster.parse_heal_summary(_gluster.query(runner, deadline, "volume", "heal", name, "info", "summary", fresh=True))
        seen.append(health)
    return seen, [name for name in wanted if name not in volumes], sorted(volumes)


def problems(health: VolumeHealth) -> t.List[str]:
    """Why a volume does not have every copy it should, in words; empty when it is healthy."""
    volume = health.volume
    if not volume.started:
        return ["volume %s is %s: no brick serves it" % (volume.name, volume.status.lower() or "not started")]
    found = []
    offline = [spec for spec, online in health.online.items() if not online]
    if offline:
        found.append("bricks offline: %s" % ", ".join(offline))
    unread = [spec for spec, counts in health.heal.items() if not counts.connected and spec not in offline]
    if unread:
        found.append("heal info could not read %s" % ", ".join(
            "%s (%s)" % (spec, health.heal[spec].status) for spec in unread))
    pending = {spec: counts.pending for spec, counts in health.heal.items() if counts.pending}
    if pending:
        found.append("entries waiting for heal: %s" % ", ".join("%s on %s" % (count, spec) for spec, count in pending.items()))
    split = {spec: counts.split_brain for spec, counts in health.heal.items() if counts.split_brain}
    if split:
        found.append("entries in split-brain: %s" % ", ".join("%s on %s" % (count, spec) for spec, count in split.items()))
    if _gluster.BOOLEAN_WORDS.get(volume.reconfigured.get("cluster.self-heal-daemon", "on").lower(), True):
        stopped = sorted(host for host in {brick.host for brick in volume.bricks} if not health.heal_daemons.get(host))
        if stopped:
            found.append("self-heal daemon not running on %s" % ", ".join(stopped))
    return ["volume %s: %s" % (volume.name, text) for text in found]


def _total(health, attribute):
    values = [getattr(counts, attribute) for counts in health.heal.values()]
    return sum(value for value in values if value) if values else None


def as_dict(health: VolumeHealth) -> t.Dict[str, t.Any]:
    volume = health.volume
    bricks = []
    for brick in volume.bricks:
        counts = health.heal.get(brick.spec)
        bricks.append({
            "brick_address": brick.spec, "node": brick.host, "path": brick.path, "arbiter": brick.arbiter,
            "online": health.online.get(brick.spec, False),
            "heal_info_status": counts.status if counts else None,
            "entries_pending_heal": counts.pending if counts else None,
            "entries_in_split_brain": counts.split_brain if counts else None,
            "entries_possibly_healing": counts.possibly_healing if counts else None,
        })
    found = problems(health)
    return {
        "name": volume.name, "status": volume.status, "type": volume.type, "replica": volume.replica, "bricks": bricks,
        "bricks_online": sum(1 for brick in bricks if brick["online"]),
        "heal_daemons": [{"node": node, "online": online} for node, online in sorted(health.heal_daemons.items())],
        "entries_pending_heal": _total(health, "pending"), "entries_in_split_brain": _total(health, "split_brain"),
        "healthy": not found, "problems": found,
    }


def wait(runner: CommandRunner, names: t.Optional[t.Sequence[str]],
         timeout: float) -> t.Tuple[t.List[VolumeHealth], t.List[str], t.List[str], float]:
    """observe() once, or until every volume is healthy or ``timeout`` seconds passed; also the seconds spent."""
    deadline = Deadline("wait_timeout", timeout)
    query_deadline = Deadline("glusterd query", max(QUERY_TIMEOUT, timeout))
    outcome = retry(lambda: observe(runner, names, query_deadline),
                    lambda seen: timeout > 0 and any(problems(health) for health in seen[0]), deadline, POLL_INTERVAL)
    return outcome[0], outcome[1], outcome[2], deadline.elapsed()
