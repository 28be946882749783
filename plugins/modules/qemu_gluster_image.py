#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: qemu_gluster_image
short_description: A VM disk image on a GlusterFS volume, created, grown, imported or deleted without ever truncating one
version_added: 0.1.0
description:
  - Makes the disk image of one VM on its gluster volume. It ensures a qcow2, raw or qed image at O(image_path) in the
    volume O(volume) with at least O(size), creating it empty or importing it from O(source), and returns every form a
    hypervisor opens it by, each with failover over all O(nodes) (C(gluster://) URI, qemu C(json:) filename, libvirt
    C(<disk>) XML, qemu C(-blockdev) spec).
  - It never truncates an image. An existing image of the asked format and size is left alone; a larger O(size) grows
    it; a smaller size or another format is refused. It deletes an image only with O(state=absent) and
    O(allow_delete=true). An interrupted run leaves no half image under the final name.
  - Growing goes through a FUSE mount that honours qemu's image locks, so growing an image a running VM holds fails
    instead of corrupting it, with nothing changed and the way that works (grow it through the VM's hypervisor, for
    example C(virsh blockresize)).
  - "It refuses, before anything changes, when: O(image_path) leaves the volume or has characters a disk path cannot carry;
    a symbolic link, a directory or any other non-file is at O(image_path) or on the way to it (the volume's clients
    write its content, and this module runs as root); the image has another format or is larger than O(size); an
    existing qcow2 or qed image names a backing file or an external data file; O(source) names other files of the node
    without O(allow_source_backing_file); O(preallocation) does not fit O(format); the volume cannot be mounted."
  - A refusal says what was found, what was asked and what to do; it happens in check mode too and leaves the volume unchanged.
  - A re-run on a storage node whose brick of the volume is healthy looks at the image on that brick (a few milliseconds);
    otherwise, and whenever there is something to do, it mounts the volume for the run (about 2.5 s per volume).
author:
  - vmstorage.gluster developers (@vmstorage)
requirements:
  - glusterfs-client (C(mount.glusterfs)) and qemu-utils (C(qemu-img)) on the node
  - qemu-block-extra (qemu's gluster block driver) for O(access=gfapi)
  - proven in the lab with qemu 7.2 (Debian 12) and 10.0 (Debian 13)
extends_documentation_fragment:
  - vmstorage.gluster.attributes
  - vmstorage.gluster.list_form
  - vmstorage.gluster.size
options:
  volume:
    description:
      - Name of the gluster volume that holds the image.
      - Required unless O(images) is given.
    type: str
  image_path:
    description:
      - Path of the image file relative to the volume root, for example V(disk.img) or V(images/vm1.qcow2).
      - Must stay inside the volume; a leading C(/), C(.) or C(..) parts, or a parent that is a symlink are refused.
        Missing parent directories are created.
      - Required, here or on every item of O(images).
    type: str
  images:
    description:
      - The images of several VMs in one run (usually each on its own volume), one item each, instead of the top-level
        O(volume); the other top-level options are shared by all items. See the notes.
    type: list
    elements: dict
    suboptions:
      volume:
        description: As O(volume).
        type: str
        required: true
      image_path:
        description: As O(image_path); the top-level O(image_path) when unset.
        type: str
      size:
        description: As O(size).
        type: str
      format:
        description: As O(format); the top-level O(format) when unset.
        type: str
        choices: [qcow2, raw, qed]
      source:
        description: As O(source).
        type: str
      source_format:
        description: As O(source_format).
        type: str
      state:
        description: As O(state); the top-level O(state) when unset.
        type: str
        choices: [present, absent]
  nodes:
    description:
      - The nodes (storage servers) to reach the volume through; the first is tried first, the others are the
        failover, in the mount and in every returned form.
      - Host names or IPv4 addresses; this node must also resolve the host names of every brick.
    type: list
    elements: str
    required: true
  port:
    description: glusterd port of every server.
    type: int
    default: 24007
  size:
    description:
      - Virtual size of the image, a size (V(50G); see the note on sizes, a bare number is refused); a multiple of 512 bytes.
      - Required to create an image without O(source). With O(source), a size larger than the source's grows the
        imported image.
      - A larger size than an existing image grows it; a smaller one is refused (shrinking loses data).
    type: str
  format:
    description:
      - Image format. An existing image of another format is refused, never converted.
    type: str
    choices: [qcow2, raw, qed]
    default: qcow2
  preallocation:
    description:
      - Preallocation mode for creation, import and growth; unset means qemu's default (V(off)).
      - V(qcow2) takes V(off), V(metadata), V(falloc), V(full); V(raw) takes V(off), V(falloc), V(full); V(qed) takes
        none. Other combinations are refused. It is not compared on existing images.
    type: str
    choices: ['off', metadata, falloc, full]
  state:
    description:
      - V(present) creates, imports or grows the image; V(absent) deletes it (needs O(allow_delete)).
    type: str
    choices: [present, absent]
    default: present
  allow_delete:
    description:
      - Allow O(state=absent) to delete an existing image. Without it, deleting an existing image is refused.
    type: bool
    default: false
  source:
    description:
      - An image file on this node, or a URL qemu-img can open (http, https, ...), to import with
        C(qemu-img convert) into the requested O(format) when no image exists at O(image_path) yet.
      - An import never overwrites. When an image exists at O(image_path), it counts as this import if it has the requested
        format and the source's virtual size (or O(size)); anything else is refused.
      - The source's format is probed once with C(qemu-img info --output=json) (or taken from O(source_format)) and
        C(qemu-img convert) is told it with C(-f). A source that names other files of the node (a backing file, a
        qcow2 external data file, vmdk extents), which convert would copy into the new disk, is refused unless
        O(allow_source_backing_file).
    type: str
  allow_source_backing_file:
    description:
      - Allow importing a O(source) whose image names other files on this node (a backing file, an external data file,
        vmdk extents); the import copies them into the new disk (flattened).
      - Without it such a source is refused naming the files; a crafted image can name any file root can read
        (C(/etc/shadow)). Flatten it yourself instead when in doubt.
    type: bool
    default: false
  source_format:
    description:
      - Format of O(source). Unset lets C(qemu-img info) probe it once; the conversion then uses the probed format.
        Set it for raw sources, whose probing qemu warns about.
    type: str
  access:
    description:
      - How a new image is created or imported. V(gfapi) uses qemu's gluster block driver with a C(gluster://) URI to
        the first server that answers on O(port) (~10 s extra per open/close). V(fuse) uses the FUSE mount.
        V(auto) uses gfapi when qemu-img can load its C(gluster) driver, else FUSE (QEMU 11.1 and later and
        RHEL's qemu have no gluster driver).
      - The existence check, growth, ownership and deletion always use the FUSE mount.
    type: str
    choices: [auto, gfapi, fuse]
    default: auto
  owner:
    description:
      - User (name or uid) to own the image file, usually the hypervisor's qemu user (V(libvirt-qemu) on Debian,
        V(qemu) on RHEL). Unset leaves ownership alone (files are created by root).
      - An alternative is the volume options C(storage.owner-uid)/C(storage.owner-gid), which set the owner of the
        brick roots for qemu; they do not change files created by root.
    type: str
  group:
    description: Group (name or gid) to own the image file; unset leaves it alone.
    type: str
notes:
  - The returned forms assume the volume and image path stay as given; C(libvirt_disk_xml) uses target C(vda) on
    virtio, change it when the domain has other disks.
seealso:
  - name: QEMU gluster block driver
    description: The C(json:) and C(-blockdev) forms with several servers.
    link: https://www.qemu.org/docs/master/system/qemu-block-drivers.html
  - module: vmstorage.gluster.thin_lv
    description: Makes the thin LV of each brick.
  - module: vmstorage.gluster.btrfs_brick
    description: Makes the brick filesystems.
  - module: vmstorage.gluster.gluster_replica_volume
    description: Makes the replica volume that holds the image.
  - module: vmstorage.gluster.access_files
    description: Writes the files a hypervisor needs to open the disk (from RV(json_filename) and the other forms).
"""

EXAMPLES = r"""
- name: A 50 GiB qed disk for mapserver, failover over node1 and node2
  vmstorage.gluster.qemu_gluster_image:
    volume: mapserver
    image_path: disk.img
    nodes: [nod-1, nod-2, nod-3]
    format: qed
    size: 50G
  register: disk

- name: Use it in a libvirt domain
  ansible.builtin.debug:
    msg: "{{ disk.libvirt_disk_xml }}"

- name: Grow it to 80 GiB (growing is never destructive)
  vmstorage.gluster.qemu_gluster_image:
    volume: mapserver
    image_path: disk.img
    nodes: [nod-1, nod-2, nod-3]
    format: qed
    size: 80G

- name: Import a cloud image as qcow2, owned by qemu, through FUSE
  vmstorage.gluster.qemu_gluster_image:
    volume: webvm
    image_path: images/root.qcow2
    nodes: [nod-1, nod-2]
    source: /var/tmp/debian-12-genericcloud-amd64.qcow2
    source_format: qcow2
    size: 20G
    access: fuse
    owner: libvirt-qemu
    group: kvm

- name: Disks of two VMs, each on its VM's volume, in one run
  vmstorage.gluster.qemu_gluster_image:
    nodes: [nod-1, nod-2, nod-3]
    image_path: disk.img
    format: qed
    images:
      - {volume: mapserver, size: 50G}
      - {volume: webfront, size: 10G, format: qcow2}

- name: Delete an image (its data is lost)
  vmstorage.gluster.qemu_gluster_image:
    volume: webvm
    image_path: images/old.qcow2
    nodes: [nod-1]
    state: absent
    allow_delete: true
"""

RETURN = r"""
results:
  description: With O(images), what a single run returns (C(changed), C(actions), C(uri), C(json_filename) ...), for each image in order.
  returned: when O(images) is given
  type: list
  elements: dict
actions:
  description: What the run did, or in check mode would do, one line per step; empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["create qed image of 50 GiB at mapserver/disk.img via gfapi"]
exists:
  description: Whether the image exists after the run (predicted in check mode).
  returned: success
  type: bool
  sample: true
format:
  description: Format of the image as qemu-img reports it; null when absent.
  returned: success
  type: str
  sample: qed
virtual_size:
  description: Virtual size of the image in bytes; null when absent.
  returned: success
  type: int
  sample: 53687091200
actual_size:
  description: Bytes the image occupies as qemu-img reports them; null when absent, not yet written (check mode), or
    seen by the quick look on the brick.
  returned: success
  type: int
  sample: 266240
uri:
  description: The C(gluster://) URI of the image on the first server (the URI form takes only one server).
  returned: success
  type: str
  sample: gluster://nod-1/mapserver/disk.img
json_filename:
  description: A qemu C(json:) filename with every server, for C(qemu-img) and C(-drive file=) with failover.
  returned: success
  type: str
  sample: >-
    json:{"driver":"qed","file":{"driver":"gluster","volume":"mapserver","path":"disk.img",
    "server":[{"type":"inet","host":"nod-1","port":"24007"},{"type":"inet","host":"nod-2","port":"24007"}]}}
libvirt_disk_xml:
  description: A libvirt C(<disk type='network'>) element with one C(<host>) per server and target C(vda) on virtio.
  returned: success
  type: str
  sample: >-
    <disk type='network' device='disk'><driver name='qemu' type='qed'/><source protocol='gluster' name='mapserver/disk.img'>
    <host name='nod-1' port='24007'/><host name='nod-2' port='24007'/></source><target dev='vda' bus='virtio'/></disk>
blockdev:
  description: A qemu C(-blockdev) spec (format node over a gluster file node with every server); pass it as C(to_json).
  returned: success
  type: dict
  sample:
    node-name: mapserver-disk_img
    driver: qed
    file:
      driver: gluster
      volume: mapserver
      path: disk.img
      server:
        - {type: inet, host: nod-1, port: "24007"}
        - {type: inet, host: nod-2, port: "24007"}
diff:
  description:
    - Before and after (predicted in check mode) as exists, format and virtual_size.
    - With O(images), a list of these, one per image.
  returned: diff mode
  type: dict
  sample:
    before: {exists: true, format: qed, virtual_size: 53687091200}
    after: {exists: true, format: qed, virtual_size: 85899345920}
found:
  description: On a refusal, what was found on the node.
  returned: failure
  type: str
requested:
  description: On a refusal, what was asked for.
  returned: failure
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
from ansible_collections.vmstorage.gluster.plugins.module_utils._constants import GLUSTERD_PORT
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import run_plan
from ansible_collections.vmstorage.gluster.plugins.module_utils._qemu import VolumeSessions, plan, report

# How it works (plugins/module_utils/_qemu.py):
# - A new image is written under a hidden partial name (.NAME.<random>.vmstorage-partial), created exclusively in
#   the image's directory, then hard-linked into place: an image that appears meanwhile is never replaced and an
#   interrupted run leaves no half image under the final name. The directory is walked from the volume root
#   without following symlinks (_nofollow); qemu-img writes to that open file (FUSE) or, through gfapi, to its name,
#   which must still be that file afterwards. Growing, ownership and deletion use the file opened the same way.
# - qemu-img never guesses the format of an existing image (a raw disk's guest can write a qcow2 header): the format
#   is read from the magic (qcow2, qed, else raw) and passed with -f; a backing or data file in the header is refused
#   before qemu-img opens it.
# - The quick look on the node's own brick (volume started, brick online, no AFR pending/dirty mark) is trusted for
#   one conclusion only: the image is there as asked. Anything else mounts the volume with FUSE on a private
#   temporary directory (backup-volfile-servers for the nodes after the first; read-only in check mode) and reads
#   `qemu-img info --output=json -U` (~2.2 s mount, ~0.2 s info, ~0.1 s umount); the mount is always undone.
#   gfapi would cost ~10 s per open/close (glfs_fini).

# Options of one image: at the top level and in every item of images.
PER_IMAGE = dict(
    volume=dict(type="str"),
    image_path=dict(type="str"),
    size=dict(type="str"),
    format=dict(type="str", choices=["qcow2", "raw", "qed"], default="qcow2"),
    source=dict(type="str"),
    source_format=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
SHARED = dict(
    nodes=dict(type="list", elements="str", required=True),
    port=dict(type="int", default=GLUSTERD_PORT),
    preallocation=dict(type="str", choices=["off", "metadata", "falloc", "full"]),
    allow_delete=dict(type="bool", default=False),
    allow_source_backing_file=dict(type="bool", default=False),
    access=dict(type="str", choices=["auto", "gfapi", "fuse"], default="auto"),
    owner=dict(type="str"),
    group=dict(type="str"),
)
# Checked on each request (image_path may be shared at the top level or given per item): see _plan.item_params.
RULES = dict(required=("volume", "image_path"))


def main():
    module = AnsibleModule(supports_check_mode=True, **list_form("images", "volume", PER_IMAGE, SHARED))
    with VolumeSessions(read_only=module.check_mode) as sessions:
        run_plan(module, sessions.observe, plan, sessions.apply, report, items_option="images", rules=RULES)


if __name__ == "__main__":
    main()
