# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A third VM added to a converged site: only what it needs changes, then the site converges."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources"))

import labsite  # noqa: E402  pylint: disable=wrong-import-position

THREE_VMS = "@" + os.path.join(os.path.dirname(__file__), "..", "vars", "three_vms.yml")
NEW_VM = "mailhub"
# With -v the default callback prints each changed result as one line of JSON after the host.
CHANGED_LINE = re.compile(r"^changed: \[.*$", re.MULTILINE)
CHANGED_RESULT = re.compile(r"^changed: \[(node[123])\](?: => \(item=\S+\))? => (\{.*\})$")


def existing_vm_state():
    """What must not move for the two converged VMs: LVs, filesystems, volumes and images.

    Every read must succeed (check_output asserts exit code 0): two failed reads would compare equal."""
    state = {}
    for name in labsite.NODES:
        host = labsite.node(name)
        for vm in ("mapserver", "webfront"):
            state[(name, vm, "lv")] = host.check_output("lvs --noheadings --units b -o lv_size,lv_attr ThinGroup/%s" % vm)
            state[(name, vm, "fs")] = host.check_output("blkid -p -o export /dev/ThinGroup/%s" % vm)
            state[(name, vm, "mount")] = host.check_output("findmnt -n -o SOURCE,OPTIONS /srv/%s" % vm)
            state[(name, vm, "brick")] = host.check_output("stat -c '%%u %%g %%a' /srv/%s/data" % vm)
    node1 = labsite.node("node1")
    for vm in ("mapserver", "webfront"):
        state[("node1", vm, "volume")] = node1.check_output("gluster volume info %s" % vm)
        # the image as its brick holds it: size and modification time of its first shard
        state[("node1", vm, "image")] = node1.check_output("stat -c '%%s %%Y' /srv/%s/data/disk.img" % vm)
    return state


def unaccounted_changes(output, new_vm):
    """The changed results of a -v run that are not the new VM's: each must list its actions (the
    modules) or the files it wrote (access_files); every action must name new_vm and every file be
    its access file. Returns (the results, what is not accounted for)."""
    results, foreign = [], []
    for line in CHANGED_LINE.findall(output):
        match = CHANGED_RESULT.match(line)
        if not match:
            foreign.append(("not a node's result in one line of JSON", line))
            continue
        host, result = match.group(1), json.loads(match.group(2))
        results.append((host, result))
        actions, written = result.get("actions", []), result.get("written", [])
        if not actions and not written:
            foreign.append((host, "changed without actions or written files: %s" % result))
        foreign.extend((host, action) for action in actions if new_vm not in action)
        # the new VM's access file, not another's, not the directory
        foreign.extend((host, path) for path in written if os.path.basename(path) != new_vm + ".yml")
    return results, foreign


def test_a_third_vm_changes_only_what_it_needs():
    before = existing_vm_state()
    rc, output, recap = labsite.run_site("-v", "-e", THREE_VMS)
    assert rc == 0, output[-4000:]
    # each module handles every VM in one call: every action it took, every file it wrote names the new VM
    changed, foreign = unaccounted_changes(output, NEW_VM)
    assert changed, "adding a VM must change something"
    assert not foreign, "changed for other VMs, or without saying what: %s" % foreign
    # every changed task of the recap printed its result (a loop prints one per item)
    for host, counts in recap.items():
        assert sum(1 for name, _result in changed if name == host) >= counts["changed"], (host, counts, changed)
    written = [os.path.basename(path) for _host, result in changed for path in result.get("written", [])]
    assert written == [NEW_VM + ".yml"], "the new VM's access file, and only it, is written: %s" % written
    assert existing_vm_state() == before, "the converged VMs' storage moved"

    node1 = labsite.node("node1")
    assert node1.run("gluster volume info %s" % NEW_VM).rc == 0
    for name in labsite.NODES:
        assert labsite.node(name).mount_point("/srv/%s" % NEW_VM).exists

    rc, output, recap = labsite.run_site("-e", THREE_VMS)
    assert rc == 0, output[-4000:]
    assert all(counts["changed"] == 0 for counts in recap.values()), "re-run with three VMs is not idempotent: %s" % recap


RETIRED = "@" + os.path.join(os.path.dirname(__file__), "..", "vars", "mailhub_retired.yml")


def mailhub_state():
    """mailhub's storage on every node, its volume, and its access file on the controller.

    Every read must succeed: a failed lvs or gluster call must fail the test, not read as "retired"."""
    state = {}
    for name in labsite.NODES:
        host = labsite.node(name)
        report = json.loads(host.check_output("LANG=C lvs --reportformat json -o lv_name ThinGroup"))
        lvs = {lv["lv_name"] for lv in report["report"][0]["lv"]}
        fstab = host.check_output("grep -c '^LABEL=mailhub ' /etc/fstab || test $? = 1")
        # the mount table itself: `mountpoint` exits 1 both for a missing directory and for an error
        mounted = any(line.split()[4] == "/srv/mailhub" for line in host.check_output("cat /proc/self/mountinfo").splitlines())
        state[name] = "lv=%s pool=%s fstab=%s mounted=%s" % (
            "present" if "mailhub" in lvs else "absent", "present" if "ThinData" in lvs else "absent",
            fstab.strip(), "yes" if mounted else "no")
    # gluster --xml: opRet 0 (the volume), or opRet -1 with "does not exist"; anything else fails the test
    info = ET.fromstring(labsite.node("node1").run("LANG=C gluster --xml volume info mailhub").stdout)
    if info.findtext("opRet") == "0":
        state["volume"] = True
    else:
        assert "does not exist" in (info.findtext("opErrstr") or ""), ET.tostring(info)
        state["volume"] = False
    state["access file"] = os.path.exists(os.path.join(labsite.inventory(), "vmstorage-access", NEW_VM + ".yml"))
    return state


def test_a_vm_is_retired_only_with_the_confirmation_and_nothing_else_moves():
    before, there = existing_vm_state(), mailhub_state()
    assert there == dict({name: "lv=present pool=present fstab=1 mounted=yes" for name in labsite.NODES},
                         volume=True, **{"access file": True}), there
    # state absent alone: refused by the first check, nothing changed anywhere
    rc, output, recap = labsite.run_site("-e", RETIRED)
    assert rc != 0 and "VM mailhub has state absent" in " ".join(output.split()), output[-3000:]
    assert all(counts["changed"] == 0 for counts in recap.values()), recap
    assert mailhub_state() == there
    # a confirmation that names no retired VM is refused as well
    rc, output, recap = labsite.run_site("-e", THREE_VMS, "-e", '{"vmstorage_destroy": ["mailhub"]}')
    assert rc != 0 and "vmstorage_destroy names mailhub, which is no VM" in " ".join(output.split()), output[-3000:]
    assert mailhub_state() == there
    # check mode predicts the retirement and changes nothing
    rc, output, recap = labsite.run_site("--check", "-e", RETIRED, "-e", '{"vmstorage_destroy": ["mailhub"]}')
    assert rc == 0, output[-4000:]
    assert recap["node1"]["changed"] > 0 and mailhub_state() == there, recap
    # with the confirmation: volume, bricks, fstab lines, thin LVs and the access file go; pool and VG stay
    rc, output, recap = labsite.run_site("-e", RETIRED, "-e", '{"vmstorage_destroy": ["mailhub"]}')
    assert rc == 0, output[-4000:]
    assert mailhub_state() == dict({name: "lv=absent pool=present fstab=0 mounted=no" for name in labsite.NODES},
                                   volume=False, **{"access file": False})
    assert existing_vm_state() == before, "the other VMs' storage moved"
    rc, output, recap = labsite.run_site("-e", RETIRED, "-e", '{"vmstorage_destroy": ["mailhub"]}')
    assert rc == 0 and all(counts["changed"] == 0 for counts in recap.values()), recap
