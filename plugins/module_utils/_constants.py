# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""The numbers the modules share: gluster's port and the named waits (seconds) of _retry.retry."""

from __future__ import annotations

# glusterd's management port (volfile server): probes, gluster:// URIs, FUSE mounts.
GLUSTERD_PORT = 24007

# How long a TCP connect to glusterd's port may take before the host counts as not answering.
PORT_PROBE_TIMEOUT = 3.0
# The pause between two looks while a wait has time left (glusterd starting, a peer joining ...).
POLL_INTERVAL = 1.0
# Right after glusterd (re)starts, its bricks (Debian's unit stops them with it: KillMode=control-group)
# and its peer connections come back within ~3 s (lab); a brick still offline after this is down.
BRICK_SETTLE_TIME = 10.0
# A client mount right after glusterd restarts finds the bricks down or their ports not yet known
# (lab: a play just after a restart of every glusterd); the mount is tried again for this long.
MOUNT_SETTLE_TIME = 20.0
MOUNT_RETRY_INTERVAL = 1.0
# How often a read-only command whose stdout came back empty is asked (_runner.CommandRunner.query).
EMPTY_ANSWER_ATTEMPTS = 3
