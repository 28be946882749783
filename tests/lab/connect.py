# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh ProxyCommand guard of the vmstorage lab (used with ProxyUseFdpass=yes).

    python3 connect.py NETNS HOST PORT

Refuses unless the calling process is inside the lab's network namespace NETNS, so that no
packet for a lab address ever leaves through the root namespace (where the lab subnet would
route to the host's default gateway). Inside it, connects to HOST:PORT and hands the connected
socket to ssh over stdout (SCM_RIGHTS), so ssh talks to the guest directly, with no relay.
"""
import os
import socket
import sys


def die(msg):
    sys.stderr.write("vmstorage lab: %s\n" % msg)
    sys.exit(255)


def main():
    if len(sys.argv) != 4:
        die("usage: connect.py NETNS HOST PORT")
    netns, host, port = sys.argv[1:]
    try:
        want = os.stat("/run/netns/" + netns)
    except OSError:
        die("network namespace %s does not exist: the lab is not up (tests/lab/lab up)" % netns)
    have = os.stat("/proc/self/ns/net")
    if (want.st_dev, want.st_ino) != (have.st_dev, have.st_ino):
        die("refusing to connect to %s: not inside the lab network namespace %s; "
            "run it through tests/lab/lab run (or tests/lab/lab ssh)" % (host, netns))
    try:
        conn = socket.create_connection((host, int(port)), timeout=10)
    except OSError as exc:
        die("connect %s:%s: %s" % (host, port, exc))
    conn.settimeout(None)
    try:
        out = socket.socket(fileno=1)
    except OSError:
        die("stdout is not a socket: use this with ssh -o ProxyUseFdpass=yes")
    socket.send_fds(out, [b"\0"], [conn.fileno()])
    out.detach()


if __name__ == "__main__":
    main()
