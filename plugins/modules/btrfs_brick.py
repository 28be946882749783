#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: btrfs_brick
short_description: A btrfs brick filesystem, in fstab, mounted, with its brick directory
version_added: 0.1.0
description:
  - Makes the filesystem of one VM's brick on each node. It puts btrfs on O(device), labelled O(label), records it in
    C(/etc/fstab), mounts it on O(mount_point) and creates the brick directory O(brick_dir) below it, owned and moded
    as asked. That directory is what M(vmstorage.gluster.gluster_replica_volume) takes as O(vmstorage.gluster.gluster_replica_volume#module:brick_path).
  - It formats only a blank device, one on which no tool finds any signature and whose first MiB reads only zeros.
    Anything else (another filesystem, a partition table, an LVM physical volume, data no tool recognises) is refused,
    unless O(allow_format=true), which destroys it; even then a mounted or used device is refused.
  - A btrfs filesystem with another label is relabelled only while it is mounted on O(mount_point) and holds nothing but
    an empty brick directory; with data on it the module refuses unless O(allow_format=true).
  - It keeps the brick up to date. It remounts when the live mount options differ from O(mount_options) and switches off
    features no longer asked for. It grows the filesystem when its device grew (after M(vmstorage.gluster.thin_lv) grew
    the LV). Every other line of C(/etc/fstab) stays as it is, byte for byte.
  - "It refuses, before anything changes, when: another device carries the label or UUID the fstab line would mount by
    (a cloned or snapshotted LV); another device is mounted on O(mount_point) or named there by fstab; the mount point
    is a non-empty directory; O(mount_options) asks what btrfs cannot change on a remount (C(subvol), C(subvolid),
    C(space_cache), C(device)) or C(nodatacow) together with compression; the brick directory, or a directory on the way
    to it, is a symbolic link (the volume's clients write on the brick, and this module runs as root)."
  - A refusal says what was found, what was asked and what to do; it happens in check mode too and leaves the node unchanged.
  - When the filesystem is not mounted yet, the brick directory on it cannot be seen; check mode then says it will be
    ensured once mounted.
author:
  - vmstorage.gluster developers (@vmstorage)
requirements:
  - btrfs-progs and util-linux (blkid, wipefs, mount) on the node
  - proven in the lab on Debian 12 (btrfs-progs 6.2) and Debian 13 (btrfs-progs 6.14)
extends_documentation_fragment:
  - vmstorage.gluster.attributes
  - vmstorage.gluster.list_form
seealso:
  - module: vmstorage.gluster.thin_lv
    description: Makes the thin LV this module formats.
  - module: vmstorage.gluster.gluster_replica_volume
    description: Makes the replica volume of the brick directories on the nodes.
  - module: vmstorage.gluster.qemu_gluster_image
    description: Makes the VM's disk image on that volume.
  - module: vmstorage.gluster.access_files
    description: Writes the files a hypervisor needs to open the disk.
options:
  device:
    description:
      - The block device to hold the filesystem, for example a thin LV C(/dev/ThinGroup/mapserver). Symlinks are resolved.
      - Required when O(state=present). With O(state=unmounted) or O(state=absent), when given, the mounted device must be this one.
    type: path
  label:
    description:
      - The btrfs label (1 to 255 bytes), usually the VM name. Required when O(state=present).
    type: str
  mount_point:
    description:
      - The mount point, an absolute path. It is created when missing; an existing non-empty directory is refused
        because mounting would hide its content.
      - Required unless O(bricks) is given.
    type: path
  bricks:
    description:
      - The bricks of several VMs in one run, one item each, instead of the top-level O(mount_point), O(device) and
        O(label); the other top-level options are shared by all items. See the notes.
    type: list
    elements: dict
    suboptions:
      device:
        description: As O(device).
        type: path
      label:
        description: As O(label).
        type: str
      mount_point:
        description: As O(mount_point).
        type: path
        required: true
      brick_dir:
        description: As O(brick_dir); the top-level O(brick_dir) when unset.
        type: str
      owner:
        description: As O(owner); the top-level O(owner) when unset.
        type: str
      group:
        description: As O(group); the top-level O(group) when unset.
        type: str
      mode:
        description: As O(mode); the top-level O(mode) when unset.
        type: raw
      state:
        description: As O(state); the top-level O(state) when unset.
        type: str
        choices: [present, unmounted, absent]
  mount_options:
    description:
      - Mount options for the fstab line and the live mount.
      - The fstab line also gets C(nofail), C(x-systemd.device-timeout=90s) and C(x-systemd.before=glusterd.service) unless
        these options set them. A node whose brick disk is missing or broken then still boots (after waiting 90 s for the device)
        with its other bricks, sshd and glusterd, and glusterd starts after the brick filesystems that are there are mounted.
        A line written without them is rewritten (C(set fstab line)) on the next run.
      - C(nodatacow) affects files created after it is set; existing files keep copy-on-write.
    type: list
    elements: str
    default: [nodatacow, autodefrag]
  fstab_source:
    description:
      - How the fstab line names the filesystem. V(label) writes C(LABEL=label), V(uuid) writes C(UUID=...), V(device)
        writes O(device) as given (use a stable path such as C(/dev/VG/LV)).
    type: str
    choices: [label, uuid, device]
    default: label
  fstab_passno:
    description:
      - The sixth fstab field (fsck order). C(fsck.btrfs) is a no-op, so V(0) is the sane value.
    type: int
    choices: [0, 1, 2]
    default: 0
  brick_dir:
    description:
      - The brick directory, relative to O(mount_point), created once the filesystem is mounted. GlusterFS wants a subdirectory,
        never the mount point itself, so an empty value, an absolute path or C(.)/C(..) parts are refused.
    type: str
    default: data
  owner:
    description:
      - Owner (name or uid) of the brick directory. Left as it is when not given (a new one is owned by root).
    type: str
  group:
    description:
      - Group (name or gid) of the brick directory. Left as it is when not given.
    type: str
  mode:
    description:
      - Octal mode of the brick directory, such as V('0755'). Left as it is when not given (a new one gets 0755).
    type: raw
  state:
    description:
      - V(present) makes, records in fstab and mounts the filesystem and creates the brick directory.
      - V(unmounted) unmounts it and leaves fstab as it is (it mounts again at boot).
      - V(absent) unmounts it and removes its fstab line. The filesystem and its data are never wiped.
    type: str
    choices: [present, unmounted, absent]
    default: present
  allow_format:
    description:
      - Destroy whatever O(device) holds (another filesystem, a partition table, btrfs with another label and data,
        unrecognised data) and make the btrfs filesystem. Never while the device is mounted or in use.
      - Has no effect on a device that already carries btrfs with O(label).
      - Only for one brick at a time, never with O(bricks), since the flag names one device to destroy.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Brick for the mapserver VM on every node
  vmstorage.gluster.btrfs_brick:
    device: /dev/ThinGroup/mapserver
    label: mapserver
    mount_point: /srv/mapserver

- name: Same, mounted by UUID, with compression and a brick directory owned by qemu
  vmstorage.gluster.btrfs_brick:
    device: /dev/ThinGroup/mapserver
    label: mapserver
    mount_point: /srv/mapserver
    fstab_source: uuid
    mount_options: [nodatacow, autodefrag, noatime]
    owner: libvirt-qemu
    group: kvm
    mode: "0750"

- name: Bricks of two VMs in one run
  vmstorage.gluster.btrfs_brick:
    bricks:
      - {device: /dev/ThinGroup/mapserver, label: mapserver, mount_point: /srv/mapserver}
      - {device: /dev/ThinGroup/webfront, label: webfront, mount_point: /srv/webfront}

- name: Take the brick offline, keeping its fstab line
  vmstorage.gluster.btrfs_brick:
    mount_point: /srv/mapserver
    state: unmounted

- name: Forget the brick (unmount, drop the fstab line; the data stays on the device)
  vmstorage.gluster.btrfs_brick:
    mount_point: /srv/mapserver
    state: absent
"""

RETURN = r"""
results:
  description: With O(bricks), what a single run returns (C(changed), C(actions), C(device), C(uuid) ...), for each brick in order.
  returned: when O(bricks) is given
  type: list
  elements: dict
device:
  description: The device resolved to its real path (for example C(/dev/dm-3) or C(/dev/ubdb)); null when not given.
  returned: always
  type: str
  sample: /dev/dm-3
uuid:
  description: The filesystem UUID; null when unknown (in check mode before mkfs).
  returned: always
  type: str
  sample: 3f78612c-4c57-415e-86af-326fb6e26bc6
label:
  description: The filesystem label.
  returned: always
  type: str
  sample: mapserver
fstab_line:
  description: The fstab line for O(mount_point); null when there is none.
  returned: always
  type: str
  sample: LABEL=mapserver /srv/mapserver btrfs nodatacow,autodefrag 0 0
mounted:
  description: Whether the filesystem is mounted on O(mount_point).
  returned: always
  type: bool
  sample: true
mount_options:
  description: The live mount options as the kernel reports them (per-mount and btrfs options).
  returned: always
  type: list
  elements: str
  sample: [rw, relatime, nodatasum, nodatacow, space_cache=v2, autodefrag, subvolid=5, subvol=/]
brick_path:
  description: The brick directory, the path to give GlusterFS; null unless O(state=present).
  returned: always
  type: str
  sample: /srv/mapserver/data
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: ["create btrfs labelled 'mapserver' on /dev/dm-3", "create mount point /srv/mapserver",
           "set fstab line: LABEL=mapserver /srv/mapserver btrfs nodatacow,autodefrag 0 0", "mount /srv/mapserver",
           "brick directory /srv/mapserver/data: create"]
diff:
  description:
    - Two diffs (predicted in check mode). The first is the text of C(/etc/fstab) before and after. The second is
      the brick's C(uuid), C(label), C(fstab_line), C(mounted) and C(mount_options) before and after.
    - With O(bricks), the diffs of every brick in one list.
  returned: diff mode
  type: list
  elements: dict
found:
  description: On a refusal, what was found on the node.
  returned: failure (refused)
  type: str
  sample: /dev/vdc holds ext4 labelled 'scratch'
requested:
  description: On a refusal, what was asked for.
  returned: failure (refused)
  type: str
commands:
  description: When a command failed or the module met an unexpected error, every command the run had started, in order.
  returned: failure (command or unexpected error)
  type: list
  elements: str
cmd:
  description: The command that failed, as one line.
  returned: failure (command)
  type: str
rc:
  description: The exit code of the command that failed.
  returned: failure (command)
  type: int
stdout:
  description: The standard output of the command that failed.
  returned: failure (command)
  type: str
stderr:
  description: The standard error of the command that failed.
  returned: failure (command)
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmstorage.gluster.plugins.module_utils import _btrfs
from ansible_collections.vmstorage.gluster.plugins.module_utils._argspec import list_form
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import run_plan


# How it works: fstab is replaced atomically, every other line byte for byte (_fstab.write_atomically); the brick
# directory is made and opened one part at a time below the mount point without following links and its owner and
# mode are set on that descriptor (_nofollow, _btrfs._apply_brick_dir), so a link planted after the look is refused too.

# Options of one brick: at the top level and in every item of bricks.
PER_BRICK = dict(
    device=dict(type="path"),
    label=dict(type="str"),
    mount_point=dict(type="path"),
    brick_dir=dict(type="str", default="data"),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw"),
    state=dict(type="str", choices=["present", "unmounted", "absent"], default="present"),
)
SHARED = dict(
    mount_options=dict(type="list", elements="str", default=list(_btrfs.DEFAULT_MOUNT_OPTIONS)),
    fstab_source=dict(type="str", choices=["label", "uuid", "device"], default="label"),
    fstab_passno=dict(type="int", choices=[0, 1, 2], default=0),
    allow_format=dict(type="bool", default=False),
)
# Checked on each request (an item merged over the top level): see _plan.item_params.
RULES = dict(required_if=[("state", "present", ("device", "label"))])


def main():
    # a device and its label belong to one brick; allow_format names one device to destroy
    module = AnsibleModule(supports_check_mode=True, **list_form(
        "bricks", "mount_point", PER_BRICK, SHARED, not_shared=("device", "label"), single_only=("allow_format",)))
    run_plan(module, _btrfs.observe, _btrfs.plan, _btrfs.apply, _btrfs.report, items_option="bricks", rules=RULES)


if __name__ == "__main__":
    main()
