# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab is real on every node: dm-thin, btrfs, glusterd and qemu's gluster driver."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET


def run_ok(host, *argv):
    """Run argv on the node and return its stdout; fail the test with stderr otherwise."""
    result = host.run(" ".join(argv))
    assert result.rc == 0, "%s -> rc %s: %s" % (" ".join(argv), result.rc, result.stderr)
    return result.stdout


def test_node_identity_is_its_own(host):
    hostname = run_ok(host, "hostname").strip()
    assert hostname == host.backend.get_hostname()
    # each guest boots with its own machine-id (never baked into the shared image)
    machine_id = host.file("/etc/machine-id").content_string.strip()
    assert len(machine_id) == 32 and machine_id != "0" * 32
    # the nodes find each other by name, as gluster needs
    for node in ("node1", "node2", "node3"):
        assert host.addr(node).is_resolvable


def test_data_disks_are_blank_block_devices(host):
    for disk in ("/dev/vdb", "/dev/vdc"):
        assert host.file(disk).exists
        size = int(run_ok(host, "blockdev", "--getsize64", disk))
        assert size >= 4 * 1024**3
    # a blank disk carries no signature: blkid -p exits 2
    assert host.run("blkid -p /dev/vdc").rc == 2


def test_dm_thin_pool_thin_lv_and_btrfs_work(host):
    try:
        run_ok(host, "pvcreate", "-qq", "/dev/vdb")
        run_ok(host, "vgcreate", "-qq", "labsmoke", "/dev/vdb")
        run_ok(host, "lvcreate", "-qq", "--type", "thin-pool", "-L", "1G", "--thinpool", "pool", "labsmoke")
        run_ok(host, "lvcreate", "-qq", "--thinpool", "labsmoke/pool", "--virtualsize", "20G", "-n", "thin")
        report = json.loads(run_ok(host, "lvs", "--reportformat", "json", "-o", "lv_name,lv_attr,pool_lv", "labsmoke"))
        lvs = {lv["lv_name"]: lv for lv in report["report"][0]["lv"]}
        assert lvs["pool"]["lv_attr"].startswith("t")
        assert lvs["thin"]["lv_attr"].startswith("V") and lvs["thin"]["pool_lv"] == "pool"
        assert "thin-pool" in run_ok(host, "dmsetup", "targets")
        run_ok(host, "mkfs.btrfs", "-q", "-L", "labsmoke", "/dev/labsmoke/thin")
        run_ok(host, "mkdir", "-p", "/mnt/labsmoke")
        run_ok(host, "mount", "-o", "nodatacow,autodefrag", "/dev/labsmoke/thin", "/mnt/labsmoke")
        assert host.mount_point("/mnt/labsmoke").filesystem == "btrfs"
        assert "nodatacow" in host.mount_point("/mnt/labsmoke").options
    finally:
        host.run("umount /mnt/labsmoke")
        host.run("vgremove -qq -f labsmoke")
        host.run("pvremove -qq /dev/vdb")
    assert host.run("blkid -p /dev/vdb").rc == 2


def test_glusterd_answers_in_xml(host):
    root = ET.fromstring(run_ok(host, "gluster", "--xml", "peer", "status"))
    assert root.findtext("opRet") == "0"


def test_qemu_img_has_the_gluster_driver(host):
    drivers = run_ok(host, "qemu-img", "--help")
    assert "gluster" in drivers.split("Supported formats:")[1].split()
