#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: btrfs_brick
short_description: A btrfs brick filesystem, in fstab, mounted, with its brick directory
version_added: 0.1.0
description:
  - Makes a btrfs filesystem on O(device) (only when the device is blank), writes its C(/etc/fstab) line,
    mounts it on O(mount_point) and creates the brick directory O(brick_dir) below it, the layout a GlusterFS brick wants.
  - A device is blank when C(blkid -p) and C(wipefs) find no signature of any kind and its first MiB reads
    only zeros; data no tool recognises is therefore never formatted without O(allow_format).
  - A btrfs filesystem with another label is relabelled (C(btrfs filesystem label)) only when it is empty enough,
    that is mounted on O(mount_point) and holding nothing but an empty brick directory; otherwise the module refuses
    unless O(allow_format=true).
  - Refuses when another block device on the node carries the same label (or UUID) that the fstab line would mount by,
    as happens with cloned or snapshotted LVs.
  - Compares the live mount options (from C(/proc/self/mountinfo)) with O(mount_options) and remounts when they differ;
    off-by-default features (autodefrag, nodatacow, nodatasum, compress, noatime, ro, noexec, nosuid, nodev, sync) that are
    no longer requested are switched off. Options btrfs cannot change on a remount (subvol, subvolid, space_cache, device)
    make the module refuse instead, and so does C(nodatacow) together with compression (the kernel drops one of them).
  - Grows the filesystem (C(btrfs filesystem resize max)) when its device grew, for example after C(lvextend).
  - When the filesystem is not mounted yet, the brick directory on it cannot be seen; the plan then says it will be
    ensured once mounted, and the run creates it only if missing.
  - The brick directory is never followed through a symbolic link (its content is written by the volume's clients, and
    this module runs as root). A link at O(brick_dir) or at a directory on the way to it is refused (found the link and
    its target, asked a directory, remedy to remove the link). The directory is made and opened one part at a time
    relative to the mount point (C(mkdirat), C(openat) with C(O_NOFOLLOW)) and its owner and mode are set on that
    descriptor (C(fchown), C(fchmod)), so a link planted after the module looked is refused too, with nothing changed
    through it.
  - Edits C(/etc/fstab) atomically (temporary file in C(/etc), fsync, rename, owner and mode kept); every other line stays
    byte for byte. The line uses C(0 0) for the dump and pass fields by default, as C(fsck.btrfs) does nothing.
  - Every refusal happens before anything runs, in check mode too, and leaves the node unchanged.
author:
  - vmstorage.gluster developers (@vmstorage)
extends_documentation_fragment:
  - vmstorage.gluster.attributes
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
      - Several bricks in one run, one VM each; the other options are shared by all of them.
      - Every brick is observed and planned before anything runs, so one refused brick leaves every brick unchanged. The
        device scan, fstab and mount table are read once per run, not once per brick.
      - The result has C(results), one per brick, holding what a single run returns.
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
notes:
  - Needs C(btrfs-progs), C(util-linux) (blkid, wipefs, mount) on the node.
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
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmstorage.gluster.plugins.module_utils import _btrfs
from ansible_collections.vmstorage.gluster.plugins.module_utils._argspec import list_form
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import run_plan


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
