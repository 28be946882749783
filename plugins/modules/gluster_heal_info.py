#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gluster_heal_info
short_description: Whether each GlusterFS volume has all its copies, and what is left to heal
version_added: 0.1.0
description:
  - Reads, from one node, for each volume (O(volumes), or every volume of the trusted pool) which bricks are online, how many
    entries each brick records as waiting for heal, in split-brain or possibly being healed, and whether the self-heal daemon
    runs on every node that holds a brick. Nothing is changed; it runs the same in check mode.
  - A volume is C(healthy) when it is started, every brick is online and readable by heal, no entry waits for heal or is in
    split-brain, and the self-heal daemon runs on each of its nodes (unless C(cluster.self-heal-daemon) is off). Otherwise
    RV(volumes[].problems) says what is wrong, brick by brick.
  - With O(wait_timeout) it asks again, every second, until every volume is healthy or the time is up (a heal after a brick
    came back); it never fails for an unhealthy volume, it reports it. Use RV(healthy) in a C(failed_when) or an assert.
  - It fails, naming the volumes there are, when a volume in O(volumes) does not exist.
author:
  - vmstorage.gluster developers (@vmstorage)
requirements:
  - glusterfs-server (glusterd running) on the node it runs on; glusterfs 10.3 (Debian 12) proven in the lab
attributes:
  check_mode:
    description: Can run in check_mode and return the same as a normal run; it never changes anything.
    support: full
  diff_mode:
    description: Will return details on what has changed (or would change in check mode) when in diff mode.
    support: N/A
    details: It changes nothing.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: linux
options:
  volumes:
    description:
      - The names of the volumes to read. Empty or left out, every volume of the trusted pool.
    type: list
    elements: str
    default: []
  wait_timeout:
    description:
      - Seconds to wait until every volume read is healthy. V(0) reads once.
    type: int
    default: 0
notes:
  - An entry is counted on every brick that records it, so a file that must be healed onto one brick of a replica-3 volume is
    usually counted twice, once by each of the two bricks that hold a good copy.
  - A volume that is not started is reported with its status and no heal figures.
seealso:
  - module: vmstorage.gluster.gluster_replica_volume
  - name: GlusterFS heal info
    description: How gluster reports heals and split-brain.
    link: https://docs.gluster.org/en/main/Troubleshooting/troubleshooting-afr/
"""

EXAMPLES = r"""
- name: Read the health of every volume
  vmstorage.gluster.gluster_heal_info:
  register: heal
  run_once: true

- name: Wait up to 10 minutes until the VM mapserver's volume has healed, and fail if it has not
  vmstorage.gluster.gluster_heal_info:
    volumes: [mapserver]
    wait_timeout: 600
  register: heal
  failed_when: not heal.healthy
  run_once: true
"""

RETURN = r"""
healthy:
  description: Every volume read has all its copies online and nothing to heal.
  returned: always
  type: bool
  sample: false
problems:
  description: What is wrong, one line per volume and kind, every volume read; empty when RV(healthy) is true.
  returned: always
  type: list
  elements: str
  sample:
    - "volume mapserver: bricks offline: node3:/srv/mapserver/data"
    - "volume mapserver: entries waiting for heal: 14 on node1:/srv/mapserver/data, 14 on node2:/srv/mapserver/data"
waited:
  description: Seconds spent, reads included (about the time of one read without O(wait_timeout)).
  returned: always
  type: float
  sample: 2.4
volumes:
  description: One entry per volume read, in the order asked (by name without O(volumes)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The volume's name.
      type: str
      sample: mapserver
    status:
      description: C(Started), C(Stopped) or C(Created), as gluster says.
      type: str
      sample: Started
    type:
      description: The volume type, as gluster says.
      type: str
      sample: Replicate
    replica:
      description: Copies of each file.
      type: int
      sample: 3
    healthy:
      description: All copies online and nothing to heal.
      type: bool
    problems:
      description: What is wrong with this volume.
      type: list
      elements: str
    bricks_online:
      description: How many of its bricks are online.
      type: int
      sample: 3
    entries_pending_heal:
      description: The entries waiting for heal, summed over the bricks; null for a volume that is not started.
      type: int
      sample: 0
    entries_in_split_brain:
      description: The entries in split-brain, summed over the bricks; null for a volume that is not started.
      type: int
      sample: 0
    heal_daemons:
      description: The self-heal daemon of each node that holds a brick, C(node) and C(online).
      type: list
      elements: dict
    bricks:
      description:
        - Per brick, in gluster's order. C(brick_address) (HOST:/PATH), C(node), C(path), C(arbiter), C(online) (its process runs
          and has a port clients can reach), C(heal_info_status) (C(Connected) when heal info could read it, else gluster's
          reason), C(entries_pending_heal), C(entries_in_split_brain), C(entries_possibly_healing) (null when not read).
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmstorage.gluster.plugins.module_utils import _heal
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner


def main():
    module = AnsibleModule(
        argument_spec=dict(volumes=dict(type="list", elements="str", default=[]), wait_timeout=dict(type="int", default=0)),
        supports_check_mode=True,
    )
    runner = CommandRunner(module)
    try:
        seen, missing, existing, waited = _heal.wait(runner, module.params["volumes"], max(0, module.params["wait_timeout"]))
    except CommandError as err:
        module.fail_json(msg=str(err), cmd=" ".join(err.argv), rc=err.rc, stdout=err.stdout, stderr=err.stderr,
                         commands=runner.history, changed=False)
    if missing:
        module.fail_json(msg="volumes do not exist: found %s missing (the volumes there are: %s); asked for heal info of %s. "
                             "Check the names with `gluster volume list`." % (
                                 ", ".join(missing), ", ".join(existing) or "none", ", ".join(module.params["volumes"])),
                         changed=False)
    volumes = [_heal.as_dict(health) for health in seen]
    module.exit_json(changed=False, volumes=volumes, healthy=all(volume["healthy"] for volume in volumes),
                     problems=[line for volume in volumes for line in volume["problems"]], waited=round(waited, 1))


if __name__ == "__main__":
    main()
