# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A third VM added to a converged site: only what it needs changes, then the site converges."""

from __future__ import annotations

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources"))

import labsite  # noqa: E402  pylint: disable=wrong-import-position

THREE_VMS = "@" + os.path.join(os.path.dirname(__file__), "..", "vars", "three_vms.yml")
NEW_VM = "mailhub"
# With -v the default callback prints each changed result as one line of JSON after the host.
CHANGED_RESULT = re.compile(r"^changed: \[(\S+)\](?: => \(item=\S+\))? => (\{.*\})$", re.MULTILINE)


def existing_vm_state():
    """What must not move for the two converged VMs: LVs, filesystems, volumes and images."""
    state = {}
    for name in labsite.NODES:
        host = labsite.node(name)
        for vm in ("mapserver", "webfront"):
            state[(name, vm, "lv")] = host.run("lvs --noheadings --units b -o lv_size,lv_attr ThinGroup/%s" % vm).stdout
            state[(name, vm, "fs")] = host.run("blkid -p -o export /dev/ThinGroup/%s" % vm).stdout
            state[(name, vm, "mount")] = host.run("findmnt -n -o SOURCE,OPTIONS /srv/%s" % vm).stdout
            state[(name, vm, "brick")] = host.run("stat -c '%%u %%g %%a' /srv/%s/data" % vm).stdout
    node1 = labsite.node("node1")
    for vm in ("mapserver", "webfront"):
        state[("node1", vm, "volume")] = node1.run("gluster volume info %s" % vm).stdout
        # the image as its brick holds it: size and modification time of its first shard
        state[("node1", vm, "image")] = node1.run("stat -c '%%s %%Y' /srv/%s/data/disk.img" % vm).stdout
    return state


def test_a_third_vm_changes_only_what_it_needs():
    before = existing_vm_state()
    rc, output, recap = labsite.run_site("-v", "-e", THREE_VMS)
    assert rc == 0, output[-4000:]
    changed = [(host, json.loads(result)) for host, result in CHANGED_RESULT.findall(output) if "localhost" not in host]
    assert changed, "adding a VM must change something"
    # each module handles every VM in one call: every action it took names the new VM
    actions = [(host, action) for host, result in changed for action in result.get("actions", [])]
    assert actions, "changed results carry their actions: %s" % changed
    foreign = [(host, action) for host, action in actions if NEW_VM not in action]
    assert not foreign, "changed for other VMs: %s" % foreign
    assert existing_vm_state() == before, "the converged VMs' storage moved"

    node1 = labsite.node("node1")
    assert node1.run("gluster volume info %s" % NEW_VM).rc == 0
    for name in labsite.NODES:
        assert labsite.node(name).mount_point("/srv/%s" % NEW_VM).exists

    rc, output, recap = labsite.run_site("-e", THREE_VMS)
    assert rc == 0, output[-4000:]
    assert all(counts["changed"] == 0 for counts in recap.values()), "re-run with three VMs is not idempotent: %s" % recap
