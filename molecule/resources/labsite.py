# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for scenario tests that run the site themselves and read every node's state.

Used from molecule's testinfra verifier (inside `tests/lab/lab run`): the molecule inventory
(with the scenario's group_vars) is the one the site runs with.
"""

from __future__ import annotations

import os
import re
import subprocess

import testinfra

NODES = ("node1", "node2", "node3")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
# Everything the site may touch on a node, read so that two readings compare equal when nothing changed.
SNAPSHOT_COMMANDS = (
    "lvs -a --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_attr,lv_size,pool_lv,seg_count 2>&1",
    "vgs --reportformat json -o vg_name,vg_seqno 2>&1",
    "for disk in /dev/vdb /dev/vdc; do blkid -p -o export $disk; echo rc=$?; done",
    "cat /etc/fstab",
    "grep -v -e ' /proc' -e ' /sys' -e ' /run' /proc/mounts",
    "ls -la /srv",
    "gluster --xml volume info all 2>&1 | grep -v -e '<opErrno>' -e '<cliOp'",
    "gluster pool list",
)


def inventory():
    """The molecule inventory directory: the lab's hosts plus the scenario's group_vars."""
    return os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])


def node(name):
    return testinfra.get_host("ansible://%s" % name, ansible_inventory=inventory())


def snapshot():
    """Every node's storage state, as text keyed by node and command."""
    state = {}
    for name in NODES:
        host = node(name)
        for command in SNAPSHOT_COMMANDS:
            result = host.run(command)
            state[(name, command)] = (result.rc, result.stdout)
    return state


def run_site(*args):
    """Run the site with the scenario's inventory; returns (rc, output, recap per host)."""
    command = ["ansible-playbook", "-i", inventory(), "vmstorage.gluster.site"] + list(args)
    # molecule's environment forces colour; the recap is parsed from plain text
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    output = ANSI_ESCAPE.sub("", result.stdout + result.stderr)
    recap = {match.group(1): {"ok": int(match.group(2)), "changed": int(match.group(3)), "unreachable": int(match.group(4)),
                              "failed": int(match.group(5))} for match in RECAP.finditer(output)}
    return result.returncode, output, recap
