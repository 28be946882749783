#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gluster_replica_volume
short_description: The GlusterFS trusted pool and one replica volume, managed from one node
version_added: 0.1.0
description:
  - Makes the replica-3 (or distributed-replicate) GlusterFS volume of one VM from the brick directories on the
    nodes, and the trusted pool it needs. Run it on one node of the pool (C(run_once), or a play on that node).
  - It probes the nodes that are not peers yet and waits, up to O(peer_timeout), until each is a connected
    C(Peer in Cluster). It creates the volume, adds bricks in whole replica sets, sets the volume options that differ,
    and starts, stops or deletes the volume as O(state) asks. Check mode never probes; it reports the probes and
    the volume steps a real run would take.
  - An existing volume with the same bricks is left alone. More bricks, a multiple of O(replica), are added; fewer or
    other bricks are refused, as bricks are never removed or replaced.
  - Options are compared key by key with gluster's own grammar (C(on), C(yes), C(true), C(enable) and C(1) are the same;
    sizes are 1024-based, so C(64MB) equals C(67108864)). Only the differing keys are set, all at once, so that gluster
    checks every value before it sets any.
  - Who may mount the volume (C(auth.allow)) is always decided here, never left to gluster's default C(*) (any client).
    A new volume without O(auth_allow) admits its nodes only; see O(auth_allow) and O(allow_any_client).
  - "It refuses, before anything changes, when: the volume name is invalid; the bricks are malformed, listed twice, not
    a multiple of O(replica), or two bricks of one replica set are on the same node; an option group file or an option
    key is unknown (C(user.*) keys are free); C(auth.allow) admits any client without O(allow_any_client); an existing
    volume has other bricks or another replica layout. glusterd's own refusals of a brick (on the root filesystem, the
    mount point itself, a directory already part of a volume) are reported with what to do; the module never forces them."
  - A refusal says what was found, what was asked and what to do; it happens in check mode too and leaves every node
    unchanged.
  - Just after a glusterd restart the bricks come back by themselves, so an offline brick of a started volume is asked
    about again for up to 10 s. With O(state=started) the bricks of this node still offline are started. Every
    brick still offline afterwards is a warning naming it and its node, and RV(diff) lists it under C(offline_bricks).
    A brick process that runs without a port (glusterfs 10.3 can leave one so after glusterd starts) cannot be reached by
    clients; run on that brick's node, the module ends it (after checking that the PID is still C(glusterfsd) of that
    brick) and starts it again, and elsewhere the warning gives its PID and how to restart it.
  - "Run on the node of an offline brick, the module also looks at the brick directory (never following a link). A blank
    one, on its own filesystem with no file and no C(trusted.glusterfs.volume-id) (the brick filesystem was made again
    after a dead disk), cannot start by itself; the module makes it a member again (C(gluster volume reset-brick) start,
    then commit force) and starts a full heal, which fills it from its partners; the heal runs on after the module
    (watch it with M(vmstorage.gluster.gluster_heal_info)). It refuses, changing nothing, when that is not safe: the
    directory holds files but no volume id, is missing or on the root filesystem (its filesystem is not mounted), a
    partner brick of its replica set is offline, or the partners have entries in split-brain. The volume role runs the
    module on the nodes of offline bricks after its first run, one node at a time."
author:
  - vmstorage.gluster developers (@vmstorage)
requirements:
  - glusterfs-server (glusterd running) on every node; proven in the lab with 10.3 (Debian 12) and 11.1 (Debian 13)
  - every node resolvable from every node (for example through /etc/hosts)
extends_documentation_fragment:
  - vmstorage.gluster.attributes
  - vmstorage.gluster.list_form
options:
  name:
    description:
      - The volume name. Letters, digits, C(-) and C(_), at most 64 characters, not starting with C(-), not C(all).
      - Required unless O(volumes) is given.
    type: str
  volumes:
    description:
      - The volumes of several VMs in one run, one item each, instead of the top-level O(name); the other top-level options
        are shared by all items (an item's O(volumes[].options) is merged over the top-level O(options)). See the notes.
    type: list
    elements: dict
    suboptions:
      name:
        description: As O(name).
        type: str
        required: true
      state:
        description: As O(state); the top-level O(state) when unset.
        type: str
        choices: [present, started, stopped, absent]
      brick_path:
        description: As O(brick_path), on the shared O(nodes).
        type: str
      brick_addresses:
        description: As O(brick_addresses).
        type: list
        elements: str
      options:
        description: Options of this volume, merged over the top-level O(options) (this item's value wins).
        type: dict
      option_groups:
        description: As O(option_groups); the top-level O(option_groups) when unset.
        type: list
        elements: str
  state:
    description:
      - V(started) creates the volume when missing and starts it. On a started volume it starts the brick processes of
        this node that are down with C(gluster volume start NAME force), which starts only missing brick processes and
        self-heal daemons and touches neither running bricks nor data; self-heal then copies what the brick missed. An
        offline brick of another node is reported; run the module on that node (C(start force) from here would write
        the volume id into a blank brick directory there and start it empty).
      - V(stopped) creates the volume when missing and stops it when it runs.
      - V(present) creates the volume when missing (gluster creates volumes stopped) and leaves a running volume running.
      - V(absent) stops and deletes the volume. The brick directories and the data in them stay on the nodes;
        their C(trusted.glusterfs.volume-id) attribute keeps gluster from reusing them in another volume. Deleting an existing
        volume needs O(allow_delete), and a started one is refused while its bricks have a client other than their nodes
        (C(gluster volume status NAME clients)), naming the addresses (a hypervisor still running the VM).
    type: str
    choices: [present, started, stopped, absent]
    default: started
  nodes:
    description:
      - The nodes (storage servers) in brick order, as host names or addresses the nodes resolve each other by. With O(brick_path), one brick per node.
      - Each O(replica) consecutive entries form one replica set and must be different hosts.
    type: list
    elements: str
  brick_path:
    description:
      - The brick directory, the same path on every node of O(nodes). Use a subdirectory of a dedicated
        filesystem (e.g. V(/srv/vm1/data) on the brick filesystem mounted at V(/srv/vm1)), not the mount point itself.
    type: str
  brick_addresses:
    description:
      - Explicit bricks as V(HOST:/PATH), in order, instead of O(nodes) and O(brick_path).
      - To grow a volume list its existing bricks first, then the new ones in whole replica sets.
    type: list
    elements: str
  replica:
    description:
      - Copies of every file; the brick count must be a multiple of it.
    type: int
    default: 3
  arbiter:
    description:
      - Make the last brick of every replica set an arbiter (metadata only), i.e. C(replica 3 arbiter 1).
      - Needs O(replica=3).
    type: bool
    default: false
  options:
    description:
      - Volume options, key to value. Values are compared with gluster's grammar (see above); YAML booleans become
        V(on)/V(off). Keys not listed are left as they are.
      - Wins over a key of the same name from O(option_groups).
    type: dict
  option_groups:
    description:
      - Option groups (files in C(/var/lib/glusterd/groups) on the node the module runs on, e.g. V(virt)), expanded
        and compared key by key, so that only differing keys are set.
    type: list
    elements: str
  auth_allow:
    description:
      - Client addresses or host names allowed to mount the volume; sets the C(auth.allow) option (joined with commas).
        List the hypervisors and the nodes (a node mounts the volume itself, e.g. for V(access=fuse) of
        M(vmstorage.gluster.qemu_gluster_image)).
      - Each entry is an IPv4/IPv6 address, a host name (gluster resolves it when a client connects), a wildcard
        such as V(192.0.2.*) (matched against the client's address, never its name) or a network such as
        V(192.0.2.0/24), without spaces or commas; other entries are refused, since gluster would store them and then
        refuse the clients they were meant for.
      - An entry that admits any client is refused unless O(allow_any_client=true), such as V(*), V(*.*.*.*), V(::*),
        V(0.0.0.0/0) or V(::/0) (it is found by matching it against addresses of unrelated networks). Wildcards and networks that keep
        a fixed part, such as V(192.0.2.*) or V(10.0.0.0/8), are accepted.
      - Unset, a B(new) volume gets the brick hosts as they are written in O(nodes) or O(brick_addresses) (e.g.
        V(node1,node2,node3)); clients that are no brick host are refused until they are listed here.
      - Unset, an B(existing) volume keeps its C(auth.allow). When that admits any client (C(*), or unset, which is
        gluster's default) the module warns, naming the volume, and changes nothing, since setting C(auth.allow) on a
        running volume cuts off at once every client it does not list, the hypervisors running the VM among them. Give O(auth_allow)
        with the hypervisors' addresses to close it. No warning for a volume with C(server.ssl) on, whose clients the
        certificate admits (C(auth.ssl-allow)).
      - The same checks apply to C(auth.allow) given in O(options).
    type: list
    elements: str
  allow_any_client:
    description:
      - Accept O(auth_allow) entries that admit any client (V(*) and the like), i.e. a volume that every host reaching
        the nodes can mount, read and write. It only permits such entries; it opens nothing by itself.
      - Also keeps the warning about an existing open volume quiet.
    type: bool
    default: false
  allow_delete:
    description:
      - Allow O(state=absent) to stop and delete an existing volume; its clients (running VMs) lose their disk at once. Without
        it, deleting one is refused, naming the volume, its state and its bricks.
    type: bool
    default: false
  peer_timeout:
    description:
      - Seconds to wait for glusterd to answer on this node (its start-up window) and, after probing, for every brick
        host to be a connected C(Peer in Cluster). Polled once a second; no fixed sleep.
    type: int
    default: 60
notes:
  - Adding bricks does not rebalance. The module warns; run C(gluster volume rebalance NAME start) to spread existing files.
  - Brick hosts are matched to peers and to existing bricks by name and by resolved address.
seealso:
  - name: GlusterFS volume options
    description: The C(gluster volume set help) listing explains every key.
    link: https://docs.gluster.org/en/main/Administrator-Guide/Managing-Volumes/
  - module: vmstorage.gluster.thin_lv
    description: Makes the thin LV of each brick.
  - module: vmstorage.gluster.btrfs_brick
    description: Makes the brick filesystem and the brick directory this module takes as O(brick_path).
  - module: vmstorage.gluster.gluster_heal_info
    description: Reports the copies online and the heal left to do, and waits for a heal.
  - module: vmstorage.gluster.qemu_gluster_image
    description: Makes the VM's disk image on the volume.
  - module: vmstorage.gluster.access_files
    description: Writes the files a hypervisor needs to open the disk.
"""

EXAMPLES = r"""
- name: A replica-3 volume for the VM mapserver, from the first node
  vmstorage.gluster.gluster_replica_volume:
    name: mapserver
    nodes: [node1, node2, node3]
    brick_path: /srv/mapserver/data
    option_groups: [virt]
    options:
      performance.cache-size: 64MB
      storage.owner-uid: 64055
      storage.owner-gid: 64055
    auth_allow: [10.0.0.*]
  run_once: true

- name: Volumes of two VMs in one run, with the options they share
  vmstorage.gluster.gluster_replica_volume:
    nodes: [node1, node2, node3]
    option_groups: [virt]
    options:
      storage.owner-uid: 64055
    volumes:
      - {name: mapserver, brick_path: /srv/mapserver/data}
      - {name: webfront, brick_path: /srv/webfront/data, options: {performance.cache-size: 64MB}}
  run_once: true

- name: Grow it to distributed-replicate 2 x 3 (existing bricks first)
  vmstorage.gluster.gluster_replica_volume:
    name: mapserver
    brick_addresses:
      - node1:/srv/mapserver/data
      - node2:/srv/mapserver/data
      - node3:/srv/mapserver/data
      - node1:/srv/mapserver2/data
      - node2:/srv/mapserver2/data
      - node3:/srv/mapserver2/data
  run_once: true

- name: Stop and delete the volume (the brick data stays)
  vmstorage.gluster.gluster_replica_volume:
    name: mapserver
    state: absent
    allow_delete: true
  run_once: true

- name: A volume only the brick hosts may mount (auth_allow unset on a new volume)
  vmstorage.gluster.gluster_replica_volume:
    name: scratch
    nodes: [node1, node2, node3]
    brick_path: /srv/scratch/data
  run_once: true

- name: A volume open to every client that reaches the nodes, on purpose
  vmstorage.gluster.gluster_replica_volume:
    name: public
    nodes: [node1, node2, node3]
    brick_path: /srv/public/data
    auth_allow: ["*"]
    allow_any_client: true
  run_once: true
"""

RETURN = r"""
results:
  description: With O(volumes), what a single run returns (C(changed), C(actions), C(volume), C(peers)), for each volume in order.
  returned: when O(volumes) is given
  type: list
  elements: dict
actions:
  description: What was done, or in check mode what would be done, one line per step.
  returned: always
  type: list
  elements: str
  sample: ["probe peer node2", "probe peer node3", "create volume mapserver: replica 3, bricks node1:/srv/mapserver/data ...",
           "set options on mapserver: performance.cache-size=64MB (was 32MB)", "start volume mapserver"]
volume:
  description: The volume after the run (in check mode, as it is now); null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: The volume name.
      type: str
      sample: mapserver
    id:
      description: The volume UUID.
      type: str
      sample: 5c5f8a8e-6a6f-4b3c-9d0e-0d4e1f2a3b4c
    type:
      description: The gluster volume type.
      type: str
      sample: Replicate
    status:
      description: C(Created), C(Started) or C(Stopped).
      type: str
      sample: Started
    replica:
      description: The replica count.
      type: int
      sample: 3
    arbiter:
      description: Arbiter bricks per replica set.
      type: int
      sample: 0
    bricks:
      description: The bricks in order, whether their brick process runs, whether they are arbiters.
      type: list
      elements: dict
      sample: [{"host": "node1", "path": "/srv/mapserver/data", "online": true, "arbiter": false}]
    options:
      description: The options set on the volume (gluster's "Options Reconfigured").
      type: dict
      sample: {"performance.cache-size": "64MB", "auth.allow": "10.0.0.*"}
bricks_settle:
  description:
    - For a started volume, what the module saw of its bricks before acting. C(offline_at_first_look) lists the bricks
      offline at its first C(volume status) read; C(waited) is how many seconds it then asked again (up to 10) until
      every brick was online or the time was up.
  returned: when the volume existed and was started
  type: dict
  sample: {"offline_at_first_look": ["node3:/srv/mapserver/data"], "waited": 3.1}
peers:
  description: The trusted pool seen from this node (this node is C(localhost)).
  returned: always
  type: list
  elements: dict
  sample: [{"uuid": "0c3f...", "hostnames": ["node2"], "connected": true, "state": "Peer in Cluster"}]
diff:
  description:
    - The volume before and after (predicted in check mode). It holds C(state), C(bricks) (as HOST:/PATH),
      C(offline_bricks) and C(options) (the asked keys only).
    - With O(volumes), a list of these, one per volume.
  returned: diff mode
  type: raw
  sample:
    before: {state: absent, bricks: [], offline_bricks: [], options: {}}
    after: {state: started, bricks: [node1:/srv/mapserver/data, node2:/srv/mapserver/data, node3:/srv/mapserver/data],
            offline_bricks: [], options: {auth.allow: "node1,node2,node3"}}
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

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster
from ansible_collections.vmstorage.gluster.plugins.module_utils._argspec import list_form
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import run_plan


# Options of one volume: at the top level and in every item of volumes.
PER_VOLUME = dict(
    name=dict(type="str"),
    state=dict(type="str", choices=["present", "started", "stopped", "absent"], default="started"),
    brick_path=dict(type="str"),
    brick_addresses=dict(type="list", elements="str"),
    options=dict(type="dict"),
    option_groups=dict(type="list", elements="str"),
)
SHARED = dict(
    nodes=dict(type="list", elements="str"),
    replica=dict(type="int", default=3),
    arbiter=dict(type="bool", default=False),
    auth_allow=dict(type="list", elements="str"),
    allow_any_client=dict(type="bool", default=False),
    allow_delete=dict(type="bool", default=False),
    peer_timeout=dict(type="int", default=60),
)
# Checked on each request (an item merged over the top level, where nodes are shared and
# brick_path is per volume): see _plan.item_params.
RULES = dict(mutually_exclusive=[("brick_addresses", "nodes"), ("brick_addresses", "brick_path")],
             required_together=[("nodes", "brick_path")])


def main():
    module = AnsibleModule(supports_check_mode=True, **list_form(
        "volumes", "name", PER_VOLUME, SHARED, item_rules=dict(mutually_exclusive=[("brick_addresses", "brick_path")])))
    run_plan(module, _gluster.observe, _gluster.plan, _gluster.apply, _gluster.report, items_option="volumes", rules=RULES)


if __name__ == "__main__":
    main()
