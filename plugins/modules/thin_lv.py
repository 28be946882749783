#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: thin_lv
short_description: A thin LV in an LVM thin pool, and the pool and volume group when asked
version_added: 0.1.0
description:
  - Makes sure a thin logical volume O(name) of virtual size O(size) exists in thin pool O(thinpool) of volume group O(vg),
    or that it is gone (O(state=absent)).
  - Creates the volume group from O(pvs) and the thin pool from O(pool_size) when they are missing. Without those options a
    missing volume group or pool is an error, so a typo in a name never builds a new VG on some disk.
  - Grows a thin LV whose O(size) increased (C(lvextend)). B(Never shrinks) a thin LV; a smaller O(size) fails with the current
    and the requested size, and nothing changes.
  - Warns when the thin pool is over-committed (the virtual sizes of its thin LVs add up to more than its data space) and
    when its data or metadata is 80% full or more; returns the pool's usage either way.
  - Refuses, before anything runs, to build a volume group on a device that belongs to another volume group or carries any
    signature C(blkid -p) finds (a filesystem, a partition table, RAID, swap). There is no option to override this on purpose;
    erase such a device yourself (C(wipefs --all)) when its content is not needed.
  - No command this module runs is given C(--yes) where LVM would wipe a signature; only C(lvremove) gets it, for the one LV
    asked to be absent. New thin LVs read as zeros without any wiping, because unprovisioned thin blocks are zero.
  - "An existing pool whose settings differ from the request: a larger O(pool_size) (extents or a size) or O(pool_metadata_size)
    grows the pool or its metadata; a smaller one, and a different O(chunk_size) (fixed when a pool is created), only warn, because
    changing them would mean recreating the pool and destroying its thin LVs, while the difference does not endanger data."
  - A refusal says what was found, what was asked and what to do; it happens before anything runs, in check mode too,
    and leaves the node unchanged.
author:
  - vmstorage.gluster developers (@vmstorage)
requirements:
  - lvm2 and thin-provisioning-tools on the node, and its kernel's C(dm-thin-pool) module
  - proven in the lab on Debian 12 (lvm2 2.03.16, thin-provisioning-tools 0.9) and Debian 13 (lvm2 2.03.31, thin-provisioning-tools 1.1)
extends_documentation_fragment:
  - vmstorage.gluster.attributes
  - vmstorage.gluster.list_form
  - vmstorage.gluster.size
options:
  vg:
    description:
      - Name of the volume group.
    type: str
    required: true
  thinpool:
    description:
      - Name of the thin pool in O(vg) that holds the thin LV.
      - An existing LV of this name that is not a thin pool is refused.
    type: str
    required: true
  name:
    description:
      - Name of the thin LV.
      - An existing LV of this name that is not thin, or is thin but in another pool, is refused.
      - Required unless O(lvs) is given.
    type: str
  lvs:
    description:
      - The thin LVs of several VMs in the pool in one run, one item each, instead of the top-level O(name); the other
        top-level options are shared by all items. See the notes.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the thin LV, as O(name).
        type: str
        required: true
      size:
        description: Its virtual size, as O(size); the top-level O(size) when unset.
        type: str
      state:
        description: As O(state); the top-level O(state) when unset.
        type: str
        choices: [present, absent]
  size:
    description:
      - Virtual size of the thin LV, a size (V(100G); see the note on sizes, a bare number is refused).
      - Rounded up to whole extents like LVM does.
      - Required when O(state=present). A size below the current one fails; the LV is never shrunk.
    type: str
  state:
    description:
      - V(present) creates or grows the thin LV; V(absent) removes it.
      - V(absent) refuses a thin LV that is open (mounted, or held by a process, a VM or a device mapping) and leaves the pool and
        the volume group in place. Removing an existing thin LV needs O(allow_delete).
    type: str
    choices: [present, absent]
    default: present
  allow_delete:
    description:
      - Allow O(state=absent) to remove an existing thin LV, and with it everything on it. Without it, removing one is refused,
        naming the LV, its size and how much of it is written.
    type: bool
    default: false
  pvs:
    description:
      - Block devices to create O(vg) on when it does not exist (C(vgcreate)).
      - Each must be blank (no signature found by C(blkid -p)) or an LVM PV in no volume group.
      - Only used to create a missing volume group; when the volume group exists and is built on other devices, a warning says so.
    type: list
    elements: str
  pool_size:
    description:
      - Data size of the thin pool, used to create O(thinpool) when it is missing.
      - A size (V(7G); see the note on sizes), V(NN%VG) or V(NN%FREE) for a share of the volume group or of its free space, or
        V(400000 extents) for a count of extents (as C(lvcreate -l 400000)). A bare number is refused.
      - For an existing pool, an extent count or a size larger than the pool grows it (C(lvextend)); a smaller one warns (pools
        never shrink). A percentage is only used at creation, because its base changes as the volume group fills.
    type: str
  pool_metadata_size:
    description:
      - Size of the thin pool's metadata LV, 2 MiB to 16 GiB (a size, see the note on sizes). LVM picks it when omitted.
      - For an existing pool, a larger value grows its metadata; a smaller one warns.
    type: str
  chunk_size:
    description:
      - Chunk size of a new thin pool, a multiple of 64 KiB from 64 KiB to 1 GiB (a size, see the note on sizes). LVM picks it
        when omitted.
      - An existing pool's chunk size cannot change; a different value warns and the pool is kept as it is.
    type: str
notes:
  - Growing a thin LV does not grow the filesystem on it; grow the filesystem afterwards (for btrfs, C(btrfs filesystem resize max)).
seealso:
  - name: lvmthin(7)
    description: LVM thin provisioning.
    link: https://man7.org/linux/man-pages/man7/lvmthin.7.html
  - module: vmstorage.gluster.btrfs_brick
    description: Makes the brick filesystem on the thin LV.
  - module: vmstorage.gluster.gluster_replica_volume
    description: Makes the replica volume of the brick directories on the nodes.
  - module: vmstorage.gluster.qemu_gluster_image
    description: Makes the VM's disk image on that volume.
  - module: vmstorage.gluster.access_files
    description: Writes the files a hypervisor needs to open the disk.
"""

EXAMPLES = r"""
- name: Volume group, thin pool and a 100 GiB thin LV for the VM mapserver
  vmstorage.gluster.thin_lv:
    vg: ThinGroup
    thinpool: ThinData
    name: mapserver
    size: 100G
    pvs: [/dev/vdb]
    pool_size: 90%VG
    chunk_size: 256K

- name: Thin LV in an existing pool (fails if ThinGroup/ThinData is missing)
  vmstorage.gluster.thin_lv:
    vg: ThinGroup
    thinpool: ThinData
    name: webserver
    size: 50G
  register: webserver_lv

- name: Show where the brick filesystem goes
  ansible.builtin.debug:
    msg: "mkfs.btrfs on {{ webserver_lv.lv.mapper_path }}, pool {{ webserver_lv.pool.data_percent }}% used"

- name: Thin LVs of three VMs in one run (one set of LVM reports, all planned before any is made)
  vmstorage.gluster.thin_lv:
    vg: ThinGroup
    thinpool: ThinData
    lvs:
      - {name: mapserver, size: 100G}
      - {name: webfront, size: 20G}
      - {name: mailhub, size: 40G}

- name: Grow it (never shrinks)
  vmstorage.gluster.thin_lv:
    vg: ThinGroup
    thinpool: ThinData
    name: webserver
    size: 80G

- name: Remove it (refused while it is mounted or open)
  vmstorage.gluster.thin_lv:
    vg: ThinGroup
    thinpool: ThinData
    name: webserver
    state: absent
    allow_delete: true
"""

RETURN = r"""
results:
  description: With O(lvs), what a single run returns (C(changed), C(actions), C(lv), C(pool), C(vg)), for each LV in order.
  returned: when O(lvs) is given
  type: list
  elements: dict
actions:
  description: What was done, or in check mode what a real run would do, one line per command, in order.
  returned: always
  type: list
  elements: str
  sample:
    - create volume group ThinGroup on /dev/vdb
    - create thin pool ThinGroup/ThinData (90%VG)
    - create thin LV ThinGroup/mapserver of 100 GiB in pool ThinData
lv:
  description: The thin LV after the run (predicted in check mode); empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: LV name.
      type: str
      sample: mapserver
    vg:
      description: Volume group name.
      type: str
      sample: ThinGroup
    pool:
      description: Thin pool the LV is in.
      type: str
      sample: ThinData
    size_bytes:
      description: Virtual size in bytes.
      type: int
      sample: 107374182400
    path:
      description: The /dev/VG/LV path.
      type: str
      sample: /dev/ThinGroup/mapserver
    mapper_path:
      description: The device-mapper path, /dev/mapper/VG-LV with each C(-) inside a name doubled.
      type: str
      sample: /dev/mapper/ThinGroup-mapserver
    attr:
      description: LVM's lv_attr string; null in check mode for an LV not created yet.
      type: str
      sample: Vwi-a-tz--
    active:
      description: Whether the LV is active (its device nodes exist).
      type: bool
      sample: true
    open:
      description: Whether the LV's device is open (mounted or in use).
      type: bool
      sample: false
pool:
  description: The thin pool after the run (predicted in check mode); empty when it does not exist. Values not known before a pool
    is created (check mode) are null.
  returned: always
  type: dict
  contains:
    name:
      description: Thin pool name.
      type: str
      sample: ThinData
    size_bytes:
      description: Data space of the pool in bytes.
      type: int
      sample: 7730102272
    data_percent:
      description: Share of the data space in use.
      type: float
      sample: 0.55
    metadata_percent:
      description: Share of the metadata space in use.
      type: float
      sample: 10.79
    metadata_size_bytes:
      description: Size of the pool's metadata LV in bytes.
      type: int
      sample: 8388608
    chunk_size_bytes:
      description: Chunk size in bytes.
      type: int
      sample: 65536
    zero:
      description: Whether the pool zeroes newly provisioned chunks.
      type: bool
      sample: true
    virtual_allocated_bytes:
      description: Sum of the virtual sizes of the pool's thin LVs.
      type: int
      sample: 107374182400
    overcommitted:
      description: Whether RV(pool.virtual_allocated_bytes) exceeds the pool's data space.
      type: bool
      sample: true
vg:
  description: The volume group after the run (predicted in check mode); empty when it does not exist. Sizes of a volume group not
    created yet (check mode) are null.
  returned: always
  type: dict
  contains:
    name:
      description: Volume group name.
      type: str
      sample: ThinGroup
    size_bytes:
      description: Size in bytes.
      type: int
      sample: 8585740288
    free_bytes:
      description: Unallocated bytes.
      type: int
      sample: 830472192
    extent_size_bytes:
      description: Physical extent size in bytes.
      type: int
      sample: 4194304
    pvs:
      description: Physical volumes of the volume group.
      type: list
      elements: str
      sample: [/dev/vdb]
diff:
  description:
    - Before and after (predicted in check mode) as C(vg) (name, pvs), C(pool) (name and sizes) and C(lv) (name, pool,
      size_bytes, active); usage percentages are left out, as they move with every write.
    - With O(lvs), a list of these, one per LV.
  returned: diff mode
  type: raw
  sample:
    before: {vg: {name: ThinGroup, pvs: [/dev/vdb]}, pool: {}, lv: {}}
    after: {vg: {name: ThinGroup, pvs: [/dev/vdb]}, pool: {name: ThinData, size_bytes: 7516192768, metadata_size_bytes: 8388608,
            chunk_size_bytes: 65536}, lv: {name: mapserver, pool: ThinData, size_bytes: 107374182400, active: true}}
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

from ansible_collections.vmstorage.gluster.plugins.module_utils._argspec import list_form
from ansible_collections.vmstorage.gluster.plugins.module_utils._lvm import apply, observe, plan, report
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import run_plan


# Options of one LV: at the top level and in every item of lvs.
PER_LV = dict(
    name=dict(type="str"),
    size=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
# Options of the pool every LV shares.
SHARED = dict(
    vg=dict(type="str", required=True),
    thinpool=dict(type="str", required=True),
    pvs=dict(type="list", elements="str"),
    pool_size=dict(type="str"),
    pool_metadata_size=dict(type="str"),
    chunk_size=dict(type="str"),
    allow_delete=dict(type="bool", default=False),
)
# Checked on each request (an item merged over the top level): see _plan.item_params.
RULES = dict(required_if=[("state", "present", ("size",))])


def main():
    module = AnsibleModule(supports_check_mode=True, **list_form("lvs", "name", PER_LV, SHARED))
    run_plan(module, observe, plan, apply, report, items_option="lvs", rules=RULES)


if __name__ == "__main__":
    main()
