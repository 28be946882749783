# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input to the modules and the site: the play fails with what was found, what was asked and
what to do, and no node changes (every node's snapshot, images and their checksums included, is
the same before and after). docs/reliability.md's bad_input table is rendered from these cases.

converge.yml made the baseline: the site for one small VM (vmone: thin LV 1G, btrfs brick, replica-3
volume, 256M qcow2 disk), a 2 x 3 volume vmwide, and on node1 spare thin LVs carrying ext4, xfs, an
LVM PV signature, a mounted btrfs and the btrfs label vmtwo, a blank one, a broken qcow2 to import;
/srv/rootbrick is a plain directory on every node's root filesystem.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources"))

import casetable  # noqa: E402  pylint: disable=wrong-import-position
import labsite  # noqa: E402  pylint: disable=wrong-import-position

OK = "refused; every node unchanged"
# `fatal: [node1]: FAILED! => {...}` (or `failed: [node1] (item=...)`): the task's result as JSON
FAILURE = re.compile(r"^(?:fatal|failed): \[[^\]]+\](?: \(item=[^)]*\))?: (?:FAILED|UNREACHABLE)! => (\{.*\})$", re.MULTILINE)
NODES = ["node1", "node2", "node3"]
SERVERS = dict(nodes=NODES)
BASELINE_VM = {"name": "vmone", "brick_size": "1G", "disk_size": "256M"}
GLUSTERD_DEADLINE = 90


def dead_address():
    """An address in the lab's subnet that no node has: nothing answers there."""
    with open(os.environ["VMSTORAGE_LAB_INVENTORY"], encoding="utf-8") as handle:
        hosts = yaml.safe_load(handle)["all"]["children"]["gluster_nodes"]["hosts"]
    return hosts["node1"]["ansible_host"].rsplit(".", 1)[0] + ".99"


DEAD = dead_address()


class Case:
    """One bad input: how it is given, what the table says, what the failure message must name."""

    def __init__(self, case_id, what, expected, run, found, asked, remedy, setup=None, teardown=None):
        self.id = case_id
        self.what = what
        self.expected = expected
        self.run = run
        # regular expressions, all of which one failure message must match: the problem and what
        # was found, what was asked, and what to do
        self.patterns = (found, asked, remedy)
        self.setup = setup
        self.teardown = teardown


def module(host, module_name, args):
    """A run of one module task on one node."""
    def run():
        play = [{"name": "Bad input", "hosts": host, "gather_facts": False, "become": True,
                 "tasks": [{"name": "Bad input to %s" % module_name, "vmstorage.gluster." + module_name: args}]}]
        with tempfile.TemporaryDirectory(prefix="vmstorage-bad-input-") as directory:
            path = os.path.join(directory, "case.yml")
            with open(path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(play, handle)
            return labsite.run_playbook(path)
    return run


def site(*args, **extra_vars):
    """A run of the site playbook (the roles) with extra variables as JSON."""
    def run():
        return labsite.run_site(*(list(args) + (["-e", json.dumps(extra_vars)] if extra_vars else [])))
    return run


def thin_lv(**args):
    return module("node1", "thin_lv", dict(dict(vg="ThinGroup", thinpool="ThinData", name="vmtwo", size="1G"), **args))


def btrfs_brick(**args):
    return module("node1", "btrfs_brick", dict(dict(label="vmtwo", mount_point="/srv/vmtwo", brick_dir="data"), **args))


def volume(**args):
    return module("node1", "gluster_replica_volume", dict(dict(name="vmtwo", nodes=NODES, brick_path="/srv/vmone/two"), **args))


def image(**args):
    return module("node1", "qemu_gluster_image", dict(dict(SERVERS, volume="vmone", image_path="imported.img", format="qcow2"), **args))


def stop_glusterd_on_node3():
    rc, output = labsite.run_on("node3", "systemctl stop glusterd")
    assert rc == 0, output


def start_glusterd_on_node3():
    """Start it and wait until every node sees every other connected again (the pool as it was)."""
    rc, output = labsite.run_on("node3", "systemctl start glusterd")
    assert rc == 0, output
    deadline = time.monotonic() + GLUSTERD_DEADLINE
    while True:
        views = [labsite.run_on(name, "gluster pool list") for name in NODES]
        if all(rc == 0 and output.count("\tConnected") == len(NODES) for rc, output in views):
            return
        assert time.monotonic() < deadline, "the pool did not reconnect after glusterd started on node3: %s" % views
        time.sleep(1)


def site_with_inventory(inventory, *args, **extra_vars):
    """A site run with one more inventory source (YAML, given as a dict) over the scenario's: variables at the
    inventory level (group_vars, host vars), which -e cannot give."""
    def run():
        with tempfile.TemporaryDirectory(prefix="vmstorage-bad-input-") as directory:
            path = os.path.join(directory, "more.yml")
            with open(path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(inventory, handle)
            return site("-i", path, *args, **extra_vars)()
    return run


def site_from_comma_inventory(*args, **extra_vars):
    """A site run from `-i 'node1,node2,node3,'`: no group, no ansible_host, no inventory_dir. The lab's
    connection settings and the scenario's group_vars (but its access folder, which names inventory_dir)
    come as -e."""
    def run():
        with open(os.environ["VMSTORAGE_LAB_INVENTORY"], encoding="utf-8") as handle:
            connection = yaml.safe_load(handle)["all"]["children"]["gluster_nodes"]["vars"]
        with open(os.path.join(os.path.dirname(__file__), "..", "group_vars", "gluster_nodes.yml"), encoding="utf-8") as handle:
            scenario = yaml.safe_load(handle)
        scenario.pop("vmstorage_access_files_dir")
        variables = dict(connection, **dict(scenario, **extra_vars))
        return labsite.run_playbook("vmstorage.gluster.site", "-e", json.dumps(variables), *args,
                                    inventory_source=",".join(NODES) + ",")
    return run


CASES = [
    # ------------------------------------------------------------ thin LVs
    Case("B01", "Site: a VM's brick_size below its thin LV's size (1G asked as 512M)",
         "will not shrink the thin LV: found 1 GiB, asked 512 MiB; set size to at least 1 GiB",
         site(vmstorage_vms=[dict(BASELINE_VM, brick_size="512M")]),
         r"will not shrink thin LV ThinGroup/vmone: found 1 GiB", r"asked for size 512 MiB", r"Set size to at least 1 GiB"),
    Case("B02", "Volume group missing, no pvs to create it",
         "volume group does not exist: found the VGs there are, asked the thin LV; give pvs or name an existing VG",
         thin_lv(vg="NoGroup"),
         r"volume group NoGroup does not exist: found volume groups: ThinGroup", r"asked for thin LV NoGroup/vmtwo",
         r"Give pvs .* or name an existing vg"),
    Case("B03", "Thin pool missing, no pool_size to create it",
         "thin pool does not exist: found the pools there are, asked the thin LV; give pool_size or name an existing pool",
         thin_lv(thinpool="NoPool"),
         r"thin pool ThinGroup/NoPool does not exist: found thin pools in ThinGroup: ThinData", r"asked for thin LV ThinGroup/vmtwo",
         r"Give pool_size .* or name an existing thinpool"),
    Case("B04", "Thin pool too large for its volume group (new pool of 20G in a VG with 4G free)",
         "too little free space: found the VG's free extents, asked pool_size 20G; lower pool_size or add a PV",
         thin_lv(thinpool="BigPool", pool_size="20G"),
         r"volume group ThinGroup has too little free space for thin pool BigPool: found \d+ free extents",
         r"asked for pool_size 20G \(5120 extents, 20 GiB\)", r"Lower pool_size, e\.g\. 90%FREE, or add a PV"),
    Case("B05", "A device with an ext4 filesystem given as PV for a new volume group",
         "device is not blank: found TYPE=ext4, asked a VG on it; erase it yourself if it is not needed",
         thin_lv(vg="NewGroup", pool_size="1G", pvs=["/dev/ThinGroup/spare_ext4"]),
         r"/dev/ThinGroup/spare_ext4 is not blank: found a signature on it \(TYPE=ext4", r"asked for a new volume group NewGroup on it",
         r"erase it yourself \(wipefs --all /dev/ThinGroup/spare_ext4\)"),
    Case("B06", "Conflicting parameters: the thin LV named like its pool",
         "the thin LV and its pool cannot share a name: found thinpool, asked name; give the LV its own name",
         thin_lv(name="ThinData"),
         r"the thin LV and its pool cannot share a name: found thinpool=ThinData", r"asked for name=ThinData",
         r"Give the thin LV its own name"),
    Case("B07", "Removing a thin LV that is mounted",
         "will not remove it: found it mounted, asked state=absent; unmount it first",
         thin_lv(name="vmone", state="absent", size=None),
         r"will not remove thin LV ThinGroup/vmone: it is in use: found mounted at /srv/vmone", r"asked for state=absent",
         r"Unmount it .* then run again"),
    # ------------------------------------------------------------ btrfs bricks
    Case("B08", "A device with an xfs filesystem as brick device",
         "device is not blank: found xfs, asked btrfs; check the device (allow_format only destroys on request)",
         btrfs_brick(device="/dev/ThinGroup/spare_xfs"),
         r"device is not blank: found /dev/ThinGroup/spare_xfs holds xfs labelled 'spare_xfs'", r"asked for btrfs labelled 'vmtwo'",
         r"Check that this is the right device; to destroy what is on it set allow_format: true"),
    Case("B09", "A device with an LVM PV signature as brick device",
         "device is not blank: found LVM2_member, asked btrfs; check the device",
         btrfs_brick(device="/dev/ThinGroup/spare_pv"),
         r"device is not blank: found /dev/ThinGroup/spare_pv holds LVM2_member", r"asked for btrfs labelled 'vmtwo'",
         r"Check that this is the right device"),
    Case("B10", "A device mounted elsewhere as brick device",
         "device is mounted elsewhere: found its mount point, asked another; unmount it or set path",
         btrfs_brick(device="/dev/ThinGroup/spare_mounted"),
         r"device is mounted elsewhere: found /dev/ThinGroup/spare_mounted mounted on /mnt/spare", r"asked for mount on /srv/vmtwo",
         r"Unmount it there, or set path to where it is mounted"),
    Case("B11", "A label that another device already carries",
         "LABEL= would be ambiguous: found the other device, asked the label; relabel it or set fstab_source: device",
         btrfs_brick(device="/dev/ThinGroup/spare_blank"),
         r"LABEL=vmtwo is ambiguous: other devices carry the same label: found /dev/mapper/ThinGroup-spare_labelled",
         r"asked for /dev/ThinGroup/spare_blank mounted by LABEL=vmtwo", r"Relabel or remove the other device"),
    Case("B12", "A mount point where another filesystem is mounted",
         "another filesystem is mounted there: found it, asked this device; unmount it or choose another path",
         btrfs_brick(device="/dev/ThinGroup/spare_blank", label="sparefs", mount_point="/srv/vmone"),
         r"another filesystem is mounted on the mount point: found \S+ \(btrfs\) on /srv/vmone",
         r"asked for /dev/ThinGroup/spare_blank on /srv/vmone", r"Unmount it or choose another path"),
    Case("B13", "Conflicting parameters: compression with nodatacow",
         "they exclude each other in btrfs: found both, asked mount_options; keep one",
         btrfs_brick(device="/dev/ThinGroup/vmone", label="vmone", mount_point="/srv/vmone", mount_options=["compress", "nodatacow"]),
         r"nodatacow and compression exclude each other in btrfs: found compress,nodatacow", r"asked for mount_options",
         r"Keep nodatacow \(VM images\) or compression, not both"),
    Case("B14", "A brick directory that leaves the mount point (../escape)",
         "brick_dir must be a subdirectory: found '../escape'; give a relative path without '..'",
         btrfs_brick(device="/dev/ThinGroup/vmone", label="vmone", mount_point="/srv/vmone", brick_dir="../escape"),
         r"brick_dir must be a subdirectory of the mount point: found '\.\./escape'", r"asked for brick_dir",
         r"Give a relative path without '\.' or '\.\.' parts"),
    # ------------------------------------------------------------ gluster volumes
    Case("B15", "A brick on the root filesystem",
         "refused before glusterd is asked: found the brick on the root filesystem, asked the brick; mount its own filesystem",
         volume(brick_path="/srv/rootbrick/data"),
         r"a brick cannot be on the root filesystem: found node1:/srv/rootbrick/data lies on the root filesystem of node1",
         r"asked for brick node1:/srv/rootbrick/data of volume vmtwo", r"Mount the brick's own filesystem there first"),
    Case("B16", "A brick that is a mount point",
         "refused before glusterd is asked: found a mount point, asked it as brick; use a subdirectory",
         volume(brick_path="/srv/vmone"),
         r"a brick cannot be a mount point: found node1:/srv/vmone is a mount point", r"asked for brick node1:/srv/vmone of volume vmtwo",
         r"Use a subdirectory of the mounted filesystem, e\.g\. /srv/vmone/data"),
    Case("B17", "Bricks not a multiple of the replica count (2 for replica 3)",
         "found 2 bricks, asked replica 3; give 3, 6, ... bricks",
         volume(nodes=NODES[:2]),
         r"the brick count is not a multiple of the replica count: found 2 bricks", r"asked for replica 3", r"Give 3, 6, \.\.\. bricks"),
    Case("B18", "Fewer bricks than the existing volume (3 for a 2 x 3 volume)",
         "fewer bricks than the volume has: found its 6, asked 3; bricks are never removed",
         volume(name="vmwide", brick_path="/srv/vmone/wide1", state="present"),
         r"fewer bricks than the volume has: found node1:/srv/vmone/wide1, .*node3:/srv/vmone/wide2",
         r"asked for node1:/srv/vmone/wide1, node2:/srv/vmone/wide1, node3:/srv/vmone/wide1\.", r"This module never removes bricks"),
    Case("B19", "An unknown option for a new volume",
         "unknown volume option: found the key, asked options; check it with gluster volume set help (the volume is not created)",
         volume(options={"performance.nonsense": "on"}),
         r"unknown volume option: found performance\.nonsense", r"asked for options",
         r"Check the key with `gluster volume set help`.*nothing was changed"),
    Case("B20", "A word for a numeric option of a new volume",
         "refused before the create: found the value, asked a number (the option's default); nothing created",
         volume(options={"performance.io-thread-count": "lots"}),
         r"volume option values are not numbers: found performance\.io-thread-count=lots",
         r"asked for options of a new volume: performance\.io-thread-count takes a number or size \(default 16\)",
         r"Give a number or a size .*nothing was created"),
    Case("B21", "Site: a bad option value for an existing volume (--tags volumes)",
         "gluster refuses the value in one `volume set`: found its answer, asked the set; no key changed, fix the value",
         site("--tags", "volumes", vmstorage_vms=[dict(BASELINE_VM, volume_options={"performance.io-thread-count": "lots"})]),
         r'failed: invalid number format "lots"', r"volume set vmone .*performance\.io-thread-count lots",
         r"so none of performance\.io-thread-count changed\. Fix the value"),
    Case("B22", "Site: a VM name with '..' (valid for LVM, not for gluster)",
         "refused before any brick is made: found the name, asked an LV, brick and volume named after it; the allowed characters",
         site(vmstorage_vms=[BASELINE_VM, {"name": "vm..two", "brick_size": "1G", "disk_size": "256M"}]),
         r'VM names or brick paths a gluster volume cannot carry: found "vm\.\.two"',
         r"asked for a thin LV, btrfs brick and gluster volume named after each VM", r"Use 1 to 64 letters, digits, '-' and '_'"),
    Case("B23", "A volume name with '/'",
         "invalid volume name: found it, asked a volume name; letters, digits, '-', '_'",
         volume(name="vm/two"),
         r"invalid volume name: found 'vm/two'", r"asked for a volume name", r"Use up to 64 letters, digits, '-' and '_'"),
    Case("B24", "A volume name with a space",
         "invalid volume name: found it, asked a volume name; letters, digits, '-', '_'",
         volume(name="vm two"),
         r"invalid volume name: found 'vm two'", r"asked for a volume name", r"Use up to 64 letters, digits, '-' and '_'"),
    Case("B25", "A volume name with shell metacharacters",
         "invalid volume name: found it, asked a volume name; letters, digits, '-', '_'",
         volume(name="vm;$(reboot)"),
         r"invalid volume name: found 'vm;\$\(reboot\)'", r"asked for a volume name", r"Use up to 64 letters, digits, '-' and '_'"),
    Case("B26", "A brick path with '..'",
         "invalid brick: found it, asked HOST:/ABSOLUTE/PATH; no '.', '..' or empty parts",
         volume(brick_path="/srv/../etc/vmtwo"),
         r"invalid brick: found 'node1:/srv/\.\./etc/vmtwo'", r"asked for HOST:/ABSOLUTE/PATH",
         r"without '\.', '\.\.' or empty parts"),
    Case("B27", "A brick host that does not answer",
         "refused before any probe: found no answer on port 24007, asked bricks there; check name, glusterd, port",
         volume(nodes=NODES[:2] + [DEAD]),
         r"brick hosts do not answer: found %s: no answer on port 24007" % re.escape(DEAD),
         r"asked for bricks on %s, which must be probed into the trusted pool" % re.escape(DEAD),
         r"that glusterd runs there and that port 24007 is reachable"),
    Case("B28", "Site: a storage node that does not answer (vmstorage_nodes, --tags volumes)",
         "refused before any probe: found no answer on port 24007, asked bricks there; check name, glusterd, port",
         site("--tags", "volumes", vmstorage_nodes=NODES[:2] + [DEAD]),
         r"brick hosts do not answer: found %s: no answer on port 24007" % re.escape(DEAD),
         r"asked for bricks on %s" % re.escape(DEAD), r"that glusterd runs there and that port 24007 is reachable"),
    Case("B29", "Site: a client address with a space (vmstorage_client_addresses, --tags volumes)",
         "refused before any set (gluster would store it and refuse the client): found the entry, asked auth.allow; one address per entry",
         site("--tags", "volumes", vmstorage_client_addresses=["hv one"]),
         r"auth_allow entries that are no address or host name: found 'hv one'", r"asked for auth_allow \(auth\.allow of volume vmone\)",
         r"one per entry, without spaces or commas"),
    Case("B30", "A node whose glusterd is stopped (node3), a new volume asked from node1",
         "fails before the create: found node3 disconnected in the pool, asked the create; start glusterd there",
         volume(peer_timeout=5),
         r"peers node3 not connected and in the cluster by the deadline: found pool .*node3: Peer in Cluster, disconnected",
         r"asked for create volume vmtwo: replica 3", r"Check that glusterd runs there \(`systemctl start glusterd`\)",
         setup=stop_glusterd_on_node3, teardown=start_glusterd_on_node3),
    # ------------------------------------------------------------ disk images
    Case("B31", "Site: a VM's disk_size below its image's size (256M asked as 128M, --tags disks)",
         "will not shrink an image: found 256 MiB, asked 128 MiB; set size to at least the image's",
         site("--tags", "disks", vmstorage_vms=[dict(BASELINE_VM, disk_size="128M")]),
         r"will not shrink an image: found qcow2 image of 256 MiB", r"asked for size 128 MiB",
         r"set size to at least 268435456 bytes"),
    Case("B32", "Site: another image format at the same path (raw asked for the qcow2 disk, --tags disks)",
         "another format exists there: found qcow2, asked raw; never converted in place",
         site("--tags", "disks", vmstorage_vms=[dict(BASELINE_VM, disk_format="raw")]),
         r"an image of another format exists at the path: found qcow2 image of 256 MiB \(268435456 bytes\) at vmone/disk\.img",
         r"asked for raw image of 256 MiB at vmone/disk\.img", r"Never converted in place"),
    Case("B33", "An import source that does not exist",
         "cannot read the import source: found it missing, asked the import; give an existing, readable image",
         image(source="/var/tmp/sources/missing.qcow2"),
         r"cannot read the import source: found /var/tmp/sources/missing\.qcow2 does not exist on this node",
         r"asked for import of /var/tmp/sources/missing\.qcow2 into vmone/imported\.img", r"Give an existing, readable image file"),
    Case("B34", "An import source qemu-img cannot read (a qcow2 with a cut header)",
         "cannot read the import source: found qemu-img's error, asked the import; give a readable image",
         image(source="/var/tmp/sources/broken.qcow2"),
         r"cannot read the import source: found qemu-img cannot open /var/tmp/sources/broken\.qcow2",
         r"asked for import of /var/tmp/sources/broken\.qcow2 into vmone/imported\.img", r"Give an existing, readable image file"),
    Case("B35", "An image path with '..'",
         "path escapes the volume: found it, asked a file inside the volume; no '.', '..', empty or leading '/' parts",
         image(image_path="../escape.img", size="1M"),
         r"path escapes or is not a plain path inside the volume: found '\.\./escape\.img'", r"asked for a file inside volume vmone",
         r"without '\.', '\.\.', empty or leading '/' parts"),
    Case("B36", "An image path with spaces and shell metacharacters",
         "refused: found the path, asked a file inside the volume; letters, digits and . _ + @ = -",
         image(image_path="a b;$(reboot).img", size="1M"),
         r"the path has characters a disk path cannot carry: found 'a b;\$\(reboot\)\.img'", r"asked for a file inside volume vmone",
         r"Use letters, digits and \. _ \+ @ = -"),
    Case("B37", "Conflicting parameters: preallocation for a qed image",
         "not supported by this format: found format=qed, asked preallocation=full; leave it unset",
         image(image_path="new.qed", format="qed", size="1M", preallocation="full"),
         r"preallocation not supported by this format: found format=qed", r"asked for preallocation=full",
         r"qed images take no preallocation: leave it unset"),
    Case("B38", "An image on a volume that does not exist",
         "cannot mount the volume: found the mount's error, asked the volume; check it exists and is started",
         image(volume="vmtwo", image_path="disk.img", size="256M"),
         r"cannot mount the volume: found mount -t glusterfs node1:/vmtwo failed", r"asked for volume vmtwo from node1, node2, node3",
         r"Check that the volume exists and is started"),
    # ------------------------------------------------------------ role variables of the wrong type
    Case("B39", "Site: brick_size given as a list (the role's str option lets it through)",
         "the brick role's size check refuses it before any node task: found the list, asked a size; write a number with a unit",
         site(vmstorage_vms=[dict(BASELINE_VM, brick_size=["1G"])]),
         r'sizes without a unit or not sizes: found brick_size \["1G"\] of VM vmone', r"asked for the sizes of each VM's thin LV and disk",
         r"write a number with a unit, e\.g\. 100G"),
    Case("B40", "Site: the replica count given as a word (--tags volumes)",
         "argument validation of the volume role: names vmstorage_replica, the value and the type asked (int)",
         site("--tags", "volumes", vmstorage_replica="three"),
         r"Validation of arguments failed", r"vmstorage_replica", r"\bint\b"),
    Case("B41", "Site: a VM without brick_size",
         "argument validation before any task: names the missing required brick_size",
         site(vmstorage_vms=[{"name": "vmone", "disk_size": "256M"}]),
         r"Validation of arguments failed", r"missing required arguments: brick_size", r"vmstorage_vms"),
    Case("B42", "Site: vmstorage_vms given as a mapping instead of a list",
         "argument validation before any task: names vmstorage_vms, the type found (dict) and the type asked (list)",
         site(vmstorage_vms=BASELINE_VM),
         r"Validation of arguments failed", r"vmstorage_vms", r"\blist\b"),
    # ------------------------------------------------------------ sizes without a unit
    Case("B43", "Site: a VM's disk_size as a bare number (the YAML int 51200, meant as MiB, is 50 KiB to qemu-img)",
         "the brick role refuses it before any node task: found disk_size 51200, asked a size; write a unit, e.g. 100G",
         site(vmstorage_vms=[dict(BASELINE_VM, disk_size=51200)]),
         r"sizes without a unit or not sizes: found disk_size 51200 of VM vmone", r"asked for the sizes of each VM's thin LV and disk",
         r"A bare number is ambiguous .*: write a number with a unit, e\.g\. 100G"),
    Case("B44", "thin_lv pool_size as a bare number (400000, meant as extents)",
         "refused before anything is looked at: found '400000', asked pool_size; write a unit or 400000 extents",
         thin_lv(thinpool="NoPool", pool_size="400000"),
         r"pool_size is not understood: found '400000'", r"asked for pool_size",
         r"pool_size 400000: a bare number is ambiguous .*write a unit, e\.g\. 100G, or a count of extents, e\.g\. 400000 extents"),
    Case("B45", "qemu_gluster_image size as a bare number (the YAML int 51200)",
         "refused before the volume is mounted: found '51200', asked an image size; write a unit, e.g. 100G",
         image(image_path="bare.img", size=51200),
         r"size is not understood: found '51200'", r"asked for an image size",
         r"size 51200: a bare number is ambiguous .*write a unit, e\.g\. 100G"),
    # ------------------------------------------------------------ variables the collection does not read
    Case("B46", "Site: a misspelt variable (vmstorage_thin_pool for vmstorage_thinpool)",
         "refused before any task: names the unknown variable and the known one it is most like; rename or remove it",
         site(vmstorage_thin_pool="ThinData"),
         r"unknown variable vmstorage_thin_pool, did you mean vmstorage_thinpool\?",
         r"asked for the vmstorage_\* variables the collection reads", r"Rename or remove it"),
    # ------------------------------------------------------------ the site's hosts and addresses
    Case("B47", "Site: vmstorage_node_group names a group without hosts (-e vmstorage_node_group=nonodes)",
         "the site's first play (on the controller) refuses it: found no host in the group, asked the storage nodes; name the group",
         site(vmstorage_node_group="nonodes"),
         r"the site's host group matches no host: found no host in the group named by vmstorage_node_group .*the inventory's groups: "
         r"gluster_nodes\)", r"asked to run on the storage nodes",
         r"Put the nodes in group gluster_nodes, or pass -e vmstorage_node_group=GROUP .*in group_vars or host_vars it is read too late"),
    Case("B48", "Site: vmstorage_node_group in group_vars (gluster_nodes' vars name group storage, node1 alone)",
         "refused on the controller before any node task: found the group the nodes name and the hosts the plays run on; pass it with -e",
         site_with_inventory({"all": {"children": {"gluster_nodes": {"vars": {"vmstorage_node_group": "storage"}},
                                                   "storage": {"hosts": {"node1": None}}}}}),
         r'vmstorage_node_group differs from the group the site runs on: found "storage" among node\d\'s variables \(node1\), '
         r"while the site's plays run on node1, node2, node3", r"asked for one group of storage nodes",
         r"Pass -e vmstorage_node_group=storage .*not in group_vars or host_vars"),
    Case("B49", "Site: a node's ansible_host with two addresses (node2: 'IP2 IP3')",
         "refused on the controller before any brick: found the node and its ansible_host, asked its address for auth.allow; set one",
         site_with_inventory({"all": {"hosts": {"node2": {"ansible_host": "%s.12 %s.13" % (DEAD.rsplit(".", 1)[0], DEAD.rsplit(".", 1)[0])}}}}),
         r'storage nodes without a usable address: found node2 \(ansible_host "[0-9.]+ [0-9.]+"\)',
         r"asked for each node of group gluster_nodes to be admitted by its address \(ansible_host, else its inventory name\)",
         r"Set ansible_host of each to its address"),
    Case("B50", "Site: vmstorage_client_addresses as one string ('192.0.2.21 192.0.2.22')",
         "refused on the controller before any brick (argument validation would split it at commas only): found the string, asked a list",
         site(vmstorage_client_addresses="192.0.2.21 192.0.2.22"),
         r'vmstorage_client_addresses is not a list: found "192\.0\.2\.21 192\.0\.2\.22"',
         r"asked for the client \(hypervisor\) addresses that auth\.allow admits",
         r"Give a YAML list, one address per entry"),
    Case("B51", "Site: the qemu uid given as a user name (vmstorage_qemu_uid: libvirt-qemu, --tags volumes)",
         "argument validation of the volume role: names vmstorage_qemu_uid, the value and the type asked (int)",
         site("--tags", "volumes", vmstorage_qemu_uid="libvirt-qemu"),
         r"Validation of arguments failed", r"vmstorage_qemu_uid", r"\bint\b"),
    Case("B52", "Site from a comma inventory (-i 'node1,node2,node3,': no ansible_host, no inventory_dir) and a client address "
         "with a space (--tags volumes)",
         "the nodes' addresses are their inventory names (no 'HostVarsVars has no attribute'); the volume module refuses the entry",
         site_from_comma_inventory("--tags", "volumes", vmstorage_node_group="all", vmstorage_client_addresses=["hv one"]),
         r"auth_allow entries that are no address or host name: found 'hv one'", r"asked for auth_allow \(auth\.allow of volume vmone\)",
         r"one per entry, without spaces or commas"),
    Case("B53", "Site: packages to install on a distribution without a package list (the nodes' facts say Plan9 4, "
         "-e ansible_facts)",
         "refused on every node before any package or brick: found the distribution and the lists there are; install them yourself",
         site(vmstorage_install_packages=True,
              ansible_facts={"distribution": "Plan9", "distribution_major_version": "4", "distribution_version": "4"}),
         r"no package list for this node's distribution: found Plan9 4 \(the role has package names for Debian\)",
         r"asked to install the storage packages \(vmstorage_install_packages: true\)",
         r"yourself and set vmstorage_install_packages: false\. Nothing was changed"),
]
RESULTS = {}
# what each case measured: case id -> (problems, failure messages, the difference, output to show)
OUTCOMES = {}


def failure_results(output):
    """Each failed task's result (the JSON after FAILED!), unparsable ones as {"msg": text}."""
    results = []
    for match in FAILURE.finditer(output):
        try:
            results.append(json.loads(match.group(1)))
        except ValueError:
            results.append({"msg": match.group(1)})
    return results


def plays_of(case):
    """The plays a module() case runs (read from the playbook it writes, not run); None for a case that
    runs the site or prepares something (setup): those run on their own."""
    if case.setup is not None:
        return None
    with labsite.collecting() as plays:
        case.run()
    return plays if plays and None not in plays else None


def judge(case, failed, messages, changed, difference):
    """The problems of one case: it must fail, with one message naming found, asked and remedy, report no
    change, and leave every node as it was."""
    problems = []
    if not failed:
        problems.append("the play succeeded")
    if not any(all(re.search(pattern, message) for pattern in case.patterns) for message in messages):
        problems.append("no failure message matches %s" % (case.patterns,))
    if changed:
        problems.append("tasks reported changes: %s" % changed)
    if difference:
        problems.append("nodes changed")
    return problems


def run_module_batch(cases, before):
    """Every module() case as one play of one playbook (its task with ignore_errors, so the next play
    still runs on that node), against one snapshot before and one after: each case's play must show its
    own failure, with changed false in its task's result; a change on a node fails every case of the batch.
    Returns the snapshot after."""
    playbook = []
    for case, plays in cases:
        for play in plays:
            tasks = [dict(task, ignore_errors=True) for task in play["tasks"]]
            playbook.append(dict(play, name="%s: %s" % (case.id, play["name"]), tasks=tasks))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vmstorage-bad-input-") as directory:
        path = os.path.join(directory, "batch.yml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(playbook, handle)
        # failures on stdout with the rest (molecule's ansible.cfg sends them to stderr): in their play's part
        rc, output, recap = labsite.run_playbook(path, env={"ANSIBLE_DISPLAY_FAILED_STDERR": "0"})
    seconds = time.monotonic() - started
    after = labsite.snapshot(images=True)
    difference = labsite.changes(before, after)
    # the output of each case's play: from its PLAY header to the next one (or the recap)
    sections = dict((case.id, "") for case, _plays in cases)
    header = re.compile(r"^PLAY \[(%s): .*$" % "|".join(re.escape(case.id) for case, _plays in cases), re.MULTILINE)
    parts = header.split(output.split("\nPLAY RECAP ")[0])
    for case_id, text in zip(parts[1::2], parts[2::2]):
        sections[case_id] += text
    print("module batch of %d cases: %.1f s, rc %d, recap %s" % (len(cases), seconds, rc, recap))
    for case, _plays in cases:
        section = sections[case.id]
        results = failure_results(section)
        # a task that succeeded prints ok:/changed: instead of FAILED!
        failed = bool(results) and not re.search(r"^(?:ok|changed): \[", section, re.MULTILINE)
        changed = [result.get("changed") for result in results if result.get("changed") is not False]
        if re.search(r"^changed: \[", section, re.MULTILINE):
            changed.append("changed: in the output")
        messages = [str(result.get("msg", "")) for result in results]
        OUTCOMES[case.id] = (judge(case, failed, messages, changed, difference), messages, difference,
                             section if section else output[-3000:])
    return after


def run_alone(cases, before):
    """Cases that run the site (each its own ansible-playbook run, its own failure) against one snapshot
    before and one after a run of them; a case with setup/teardown takes its own snapshots around them."""
    shared = []
    for case in cases:
        if case.setup is not None:
            # the cases so far end their batch here: this snapshot is their "after" and this case's "before"
            before = settle(shared, before)
            shared = []
            case.setup()
        started = time.monotonic()
        try:
            rc, output, recap = case.run()
        finally:
            if case.teardown is not None:
                case.teardown()
        print("%s: %.1f s, rc %d" % (case.id, time.monotonic() - started, rc))
        changed = dict((host, counts["changed"]) for host, counts in recap.items() if counts["changed"])
        messages = [str(result.get("msg", "")) for result in failure_results(output)]
        shared.append((case, rc != 0, messages, changed, output[-3000:]))
        if case.setup is not None:
            before = settle(shared, before)
            shared = []
    settle(shared, before)


def settle(measured_cases, before):
    """Judge the cases measured since the snapshot before against a new one; returns the new one."""
    if not measured_cases:
        return before
    after = labsite.snapshot(images=True)
    difference = labsite.changes(before, after)
    for case, failed, messages, changed, output in measured_cases:
        OUTCOMES[case.id] = (judge(case, failed, messages, changed, difference), messages, difference, output)
    return after


@pytest.fixture(scope="module")
def outcomes():
    """Every case run once, in batches (a snapshot of three nodes with their images costs seconds; an
    ansible-playbook run as much again): the module cases in one playbook, then the rest one by one."""
    batched = [(case, plays) for case, plays in ((case, plays_of(case)) for case in CASES) if plays]
    before = labsite.snapshot(images=True)
    if batched:
        before = run_module_batch(batched, before)
    run_alone([case for case in CASES if case.id not in OUTCOMES], before)
    return OUTCOMES


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_fails_with_found_asked_remedy_and_changes_no_node(case, outcomes):
    problems, messages, difference, output = outcomes[case.id]
    RESULTS[case.id] = "FAILED: %s" % "; ".join(problems) if problems else OK
    assert not problems, "%s\nmessages: %s\n%s\n%s" % (problems, json.dumps(messages, indent=1), difference, output[-3000:])


def test_every_case_is_in_docs_reliability_md():
    assert len(CASES) >= 30
    failed = dict((case.id, RESULTS.get(case.id, "not run")) for case in CASES if RESULTS.get(case.id) != OK)
    assert not failed, failed
    casetable.check_or_update("bad_input", [(case.id, case.what, case.expected, RESULTS[case.id]) for case in CASES])
