# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for scenario tests that run the site themselves and read every node's state.

Used from molecule's testinfra verifier (inside `tests/lab/lab run`): the molecule inventory
(with the scenario's group_vars) is the one the site runs with.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import subprocess

import testinfra
import yaml

NODES = ("node1", "node2", "node3")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
# Everything the site may touch on a node, read so that two readings compare equal when nothing changed.
SNAPSHOT_COMMANDS = (
    "lvs -a --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_attr,lv_size,pool_lv,seg_count 2>&1",
    "vgs --reportformat json -o vg_name,vg_seqno 2>&1",
    "for disk in /dev/vdb /dev/vdc; do blkid -p -o export $disk; echo rc=$?; done",
    # the signatures on every block device (LVs included), probed afresh
    "blkid -c /dev/null -o export",
    "cat /etc/fstab",
    "grep -v -e ' /proc' -e ' /sys' -e ' /run' /proc/mounts",
    "ls -la /srv",
    # brick directories (owner, mode) and the volume id glusterd marks them with
    "find /srv -mindepth 1 -maxdepth 2 -printf '%p %y %m %U:%G\\n' | sort",
    "for dir in /srv/*/*/; do getfattr --absolute-names -n trusted.glusterfs.volume-id -e hex \"$dir\"; done 2>/dev/null",
    # every line prefixed with its volume, sorted: glusterd lists the options in another order after a restart
    "gluster volume info all 2>&1 | awk '/^Volume Name:/ {volume = $3} {print volume \": \" $0}' | sort",
    # glusterd lists its peers in no fixed order (it changed after a glusterd restart)
    "gluster pool list | sort",
)
# Opt-in (reads every image): each file under the brick directories (/srv/<vm>/<dir>/..., shards
# included, gluster's .glusterfs index left out) with its size, mode and owner, then its checksum.
IMAGE_COMMANDS = (
    "find /srv -mindepth 3 -name .glusterfs -prune -o -printf '%p %y %s %m %U:%G\\n' | sort",
    "find /srv -mindepth 3 -name .glusterfs -prune -o -type f -print0 | sort -z | xargs -0r sha256sum",
)
SNAPSHOT_MARK = "@@vmstorage-snapshot@@"


def inventory():
    """The molecule inventory directory: the lab's hosts plus the scenario's group_vars."""
    return os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])


def node(name):
    # the inventory logs in as a sudo user (as the site's users do): every read runs through sudo
    return testinfra.get_host("ansible://%s" % name, ansible_inventory=inventory(), sudo=True)


def snapshot(images=False):
    """Every node's storage state, as (exit code, stdout) keyed by node and command.

    One ssh session per node, the three in parallel (a testinfra call per command took ~1 s each).
    ``images`` adds every image file on the bricks with its checksum: cheap for small images only.
    """
    commands = SNAPSHOT_COMMANDS + (IMAGE_COMMANDS if images else ())
    # each command's stdout, then a line with the mark, its index and its exit code
    script = "".join("( %s ) 2>/dev/null; printf '\\n%s %d %%d\\n' $?\n" % (command, SNAPSHOT_MARK, index)
                     for index, command in enumerate(commands))
    sessions = {name: subprocess.Popen(ssh_argv(name, "bash", "-s"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
                for name in NODES}
    state = {}
    for name, session in sessions.items():
        stdout, stderr = session.communicate(script)
        assert session.returncode == 0, "snapshot of %s failed (%s): %s" % (name, session.returncode, stderr)
        parts = re.split(r"\n%s (\d+) (\d+)\n" % re.escape(SNAPSHOT_MARK), stdout)
        # [stdout 0, index 0, exit code 0, stdout 1, ...] and what follows the last mark (nothing)
        assert len(parts) == 3 * len(commands) + 1, "snapshot of %s is incomplete: %s" % (name, stdout[-2000:])
        for index, command in enumerate(commands):
            stdout_part, index_part, rc_part = parts[3 * index:3 * index + 3]
            assert int(index_part) == index
            state[(name, command)] = (int(rc_part), stdout_part)
    return state


def changes(before, after):
    """What differs between two snapshots, as a unified diff per node and command (empty when equal)."""
    def lines(reading):
        return ("rc=%d\n%s" % reading if reading else "(not read)\n").splitlines(True)

    return "".join(
        "".join(difflib.unified_diff(lines(before.get(key)), lines(after.get(key)), "%s before: %s" % key, "%s after: %s" % key))
        for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key))


def ssh_argv(name, *command):
    """ssh to a node with the lab's config, through a master connection kept for a minute (a new
    connection costs ~2 s on a loaded machine; `lab reset` closes the masters in this directory)."""
    masters = os.environ.get("ANSIBLE_SSH_CONTROL_PATH_DIR")
    sharing = ["-o", "ControlMaster=auto", "-o", "ControlPath=%s/labsite-%%C" % masters, "-o", "ControlPersist=60"] if masters else []
    return ["ssh", "-F", os.environ["VMSTORAGE_LAB_SSH_CONFIG"]] + sharing + [name] + list(command)


def run_on(name, command):
    """Run a shell command on a node (one ssh session); returns (exit code, stdout + stderr)."""
    result = subprocess.run(ssh_argv(name, command), capture_output=True, text=True, check=False)
    return result.returncode, result.stdout + result.stderr


def brick_files(vm, nodes=NODES):
    """Per node: every file of the VM's brick read from the brick directory itself, not through gluster
    (shards under .shard included, gluster's .glusterfs index left out), as sha256sum lines."""
    command = "cd /srv/%s/data && find . -path ./.glusterfs -prune -o -type f -print0 | sort -z | xargs -0r sha256sum" % vm
    files = {}
    for name in nodes:
        result = subprocess.run(ssh_argv(name, command), capture_output=True, text=True, check=False)
        assert result.returncode == 0, "%s: %s -> rc %d\n%s%s" % (name, command, result.returncode, result.stdout, result.stderr)
        files[name] = result.stdout
    return files


def run_site(*args):
    """Run the site with the scenario's inventory; returns (rc, output, recap per host)."""
    return run_playbook("vmstorage.gluster.site", *args)


# the list collecting() yields while it is active, else None
COLLECTED = []


@contextlib.contextmanager
def collecting():
    """Within it, run_playbook() runs nothing: the plays of a playbook file run without arguments are
    appended to the list it yields (for a caller that runs many cases' plays as one playbook), and a
    run it cannot take apart (the site by name, arguments) appends None."""
    plays = []
    COLLECTED.append(plays)
    try:
        yield plays
    finally:
        COLLECTED.remove(plays)


def run_playbook(playbook, *args, inventory_source=None, env=None):
    """Run a playbook with the scenario's inventory (or INVENTORY_SOURCE instead, and env's variables over
    the environment); returns (rc, output, recap per host)."""
    if COLLECTED:
        if args or not os.path.isfile(playbook):
            COLLECTED[-1].append(None)
        else:
            with open(playbook, encoding="utf-8") as handle:
                COLLECTED[-1].extend(yaml.safe_load(handle))
        return None, "", {}
    command = ["ansible-playbook", "-i", inventory_source or inventory(), playbook] + list(args)
    # molecule's environment forces colour; the recap is parsed from plain text
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", **(env or {})))
    output = ANSI_ESCAPE.sub("", result.stdout + result.stderr)
    recap = {match.group(1): {"ok": int(match.group(2)), "changed": int(match.group(3)), "unreachable": int(match.group(4)),
                              "failed": int(match.group(5))} for match in RECAP.finditer(output)}
    return result.returncode, output, recap
