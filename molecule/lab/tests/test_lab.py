# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab is real on every node: dm-thin, btrfs, glusterd and qemu's gluster driver."""

from __future__ import annotations

import json
import os
import sys
import uuid
import xml.etree.ElementTree as ET

import testinfra

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources"))

import labsite  # noqa: E402  pylint: disable=wrong-import-position


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


def test_inventory_logs_in_as_admin_who_sudoes_without_password_and_root_login_works(host):
    """The inventory's user is the cloud-image style sudo user (the plays become root through sudo);
    the tests' own ssh config logs in as root."""
    name = host.backend.get_hostname()
    admin = testinfra.get_host("ansible://%s" % name, ansible_inventory=labsite.inventory())  # no sudo
    assert run_ok(admin, "id -un").strip() == "admin"
    assert run_ok(admin, "sudo -n id -un").strip() == "root"
    assert run_ok(admin, "stat -c '%a %U' /etc/sudoers.d/90-vmsg-admin").split() == ["440", "root"]
    assert labsite.run_on(name, "id -un") == (0, "root\n")


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


ESCAPE_MNT = "/mnt/vmsg-escape"
UP = "/.." * 32  # more `..` than the lab's hostfs root is deep: ends at the top of what UML sees


def hostfs_read(host, source, name):
    """As root in the guest, mount hostfs `source` and read `name` in it: (mount rc, content)."""
    host.run("mkdir -p %s" % ESCAPE_MNT)
    mounted = host.run("mount -t hostfs none %s -o %s" % (ESCAPE_MNT, source))
    try:
        content = host.run("cat %s/%s" % (ESCAPE_MNT, name)).stdout if mounted.rc == 0 else ""
    finally:
        if mounted.rc == 0:
            host.run("umount %s" % ESCAPE_MNT)
    return mounted.rc, content


def test_hostfs_reaches_only_the_lab_s_own_folders(host, tmp_path_factory):
    # a file only the host has, outside every lab dir (this test runs on the host, in the lab netns)
    outside = tmp_path_factory.mktemp("hostfs-escape")
    token = "vmstorage-lab-host-marker-%s" % uuid.uuid4().hex
    (outside / "marker").write_text(token + "\n")
    with open("/etc/hostname") as f:
        host_hostname = f.read().strip()
    assert host_hostname and host_hostname not in ("node1", "node2", "node3")
    # positive control, same commands: the guest's own folders mount and read (its module tree)
    kver = run_ok(host, "uname", "-r").strip()
    rc, content = hostfs_read(host, "/modules/%s" % kver, "modules.dep")
    assert rc == 0 and "dm-thin-pool.ko" in content
    # a host path, absolute or climbing out with `..`, is not reachable from the guest
    for source in (str(outside), UP + str(outside)):
        rc, content = hostfs_read(host, source, "marker")
        assert token not in content, "guest read the host's %s through hostfs -o %s" % (outside, source)
        assert rc != 0, "hostfs -o %s mounted in the guest" % source
    # (UP + /etc is the jail's own /etc, which holds only ld.so.cache: it may mount, but shows
    # none of the host's /etc)
    for source in ("/etc", UP + "/etc"):
        rc, content = hostfs_read(host, source, "hostname")
        assert content == "", "guest read %r as hostname through hostfs -o %s (host: %r)" % (content, source, host_hostname)
    assert hostfs_read(host, "/etc", "hostname")[0] != 0
    # the host's programs neither: the jail holds the UML kernel and the files its loader opens, not /usr
    assert os.path.isfile("/usr/share/common-licenses/GPL-3")
    for source in ("/usr/share/common-licenses", UP + "/usr/share/common-licenses"):
        _rc, content = hostfs_read(host, source, "GPL-3")
        assert content == "", "guest read the host's /usr/share/common-licenses/GPL-3 through hostfs -o %s" % source


def test_own_module_tree_is_read_only_and_modprobe_works(host):
    kver = run_ok(host, "uname", "-r").strip()
    options = run_ok(host, "findmnt", "-n", "-o", "OPTIONS", "/lib/modules/%s" % kver).strip().split(",")
    assert "ro" in options and "/modules/%s" % kver in options, options
    # even remounted read-write by the guest's root, the host side stays read-only: no file, no
    # link can be planted in the guest's hostfs root
    host.run("mkdir -p %s" % ESCAPE_MNT)
    run_ok(host, "mount", "-t", "hostfs", "none", ESCAPE_MNT, "-o", "rw,/modules")
    try:
        planted = host.run("ln -s /etc %s/%s/planted" % (ESCAPE_MNT, kver))
        assert planted.rc != 0 and "Read-only file system" in planted.stderr, planted
    finally:
        host.run("umount %s" % ESCAPE_MNT)
    run_ok(host, "modprobe", "dm-thin-pool")
    assert host.file("/sys/module/dm_thin_pool").is_directory
