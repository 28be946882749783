# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults lose nothing: each test injects one fault into the converged site and reads every node.

The tests run in file order and build on each other: one VM (ledger) is converged by molecule, F02-F04
work on it, F01 adds a second VM while a node loses power, F05 a third while ansible-playbook is killed.
The last test writes what was measured into docs/reliability.md's faults table (casetable.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources"))

import casetable  # noqa: E402  pylint: disable=wrong-import-position
import labsite  # noqa: E402  pylint: disable=wrong-import-position

LAB = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lab", "lab")
VARS = os.path.join(os.path.dirname(__file__), "..", "vars")
RESTART_GLUSTERD = os.path.join(os.path.dirname(__file__), "..", "restart_glusterd.yml")
ONE_VM, TWO_VMS, THREE_VMS = ("ledger",), ("ledger", "archive"), ("ledger", "archive", "journal")
PRIMARY = "node1"  # the first volfile server and the node the volume and disk roles run on
HEAL_TIMEOUT = 240
# F02 writes into ledger's raw 512 MiB disk while a brick dies: 16 MiB at its start (the file on the
# brick) and 32 MiB at 200 MiB (shard 3 under .shard: the virt group shards by 64 MiB)
WRITES = (("0x5a", "0", "16M"), ("0xa5", "200M", "32M"))

# case id -> (what the case does, what must happen); the measured result is added as each test passes
CASES = {
    "F01": ("A node loses power (`lab stop node2`: its guest SIGKILLed) while the site builds a second VM's "
            "storage; then it boots again on its own disks and the site is re-run",
            "the play fails naming node2; after the boot its brick is mounted by LABEL and online with glusterd "
            "up; the re-run converges; every LV, filesystem UUID, fstab line and volume is there once, the "
            "first VM's image checksum is unchanged"),
    "F02": ("The brick process of node3 is SIGKILLed while qemu-io writes into the VM's raw disk through a "
            "FUSE mount (16 MiB at offset 0, 32 MiB at 200 MiB: shard 3); then the site's volume and disk plays "
            "are re-run (`--tags volumes,disks`)",
            "the writes succeed on two copies; the site starts the brick again (`volume start force`, the only "
            "change); heal info reaches 0 entries; every brick holds the same files with the same checksums, "
            "shards included"),
    "F03": ("glusterd on node1, the primary volfile server, is stopped (on Debian its bricks stop with it); "
            "from node2 the module creates an image via gfapi and one via FUSE, and qemu-img opens them and "
            "the VM's disk by the returned json_filename",
            "both creations succeed through the backup volfile servers and every json_filename opens with the "
            "right format and size"),
    "F04": ("glusterd is restarted on every node at once and the volume and disk plays run right after it, "
            "in the same ansible-playbook call",
            "no failure: the volume module asks about offline bricks again for up to 10 s, the disk module tries its "
            "FUSE mount again for up to 20 s while the bricks start; the site's only possible change is `volume start "
            "force` for bricks still offline after those 10 s; every warning names an offline brick"),
    "F05": ("ansible-playbook is SIGKILLed (its process group, by the PID the test started) while the disk "
            "task creates a third VM's image; then the site is run again, twice",
            "the first re-run converges (changes allowed), the second has changed=0; LVs, filesystems, "
            "volumes and images are there once; no FUSE mount, temp dir or partial image is left"),
}
MEASURED = {}  # case id -> the result, in words that stay the same from run to run (the doc's table)
TIMINGS = {}  # case id -> seconds per step, printed (pytest -s) and left out of the doc
RESTARTED = []  # bricks settle_bricks (re)started: left without a port, or not started by glusterd (printed)


# ---------------------------------------------------------------- helpers

def ssh(node, command, check=True, stdin=None):
    result = subprocess.run(["ssh", "-F", os.environ["VMSTORAGE_LAB_SSH_CONFIG"], node, command], input=stdin,
                            capture_output=True, text=True, check=False)
    assert not check or result.returncode == 0, "%s: %s -> rc %d\n%s%s" % (
        node, command, result.returncode, result.stdout, result.stderr)
    return result


def gluster_xml(*args):
    root = ET.fromstring(ssh(PRIMARY, "gluster --xml " + " ".join(args)).stdout)
    assert root.findtext("opRet") == "0", ET.tostring(root, encoding="unicode")
    return root


def lab(*args):
    subprocess.run([LAB] + list(args), check=True)


def playbook(vms, *args, trigger=None, fault=None):
    """Run ansible-playbook with the scenario's inventory (vms: the VM list's vars file, or None for
    group_vars), streaming its output; at the first line containing ``trigger`` call ``fault(process)``.
    Returns (rc, output, the last recap per host, seconds)."""
    started = time.monotonic()
    command = ["ansible-playbook", "-i", labsite.inventory()] + (["-e", "@" + os.path.join(VARS, vms)] if vms else []) + list(args)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    lines, fired = [], False
    for line in process.stdout:
        lines.append(line)
        if trigger and not fired and trigger in line:
            fired = True
            fault(process)
    rc = process.wait()
    output = "".join(lines)
    assert fired or not trigger, "the fault's trigger %r never came:\n%s" % (trigger, output[-3000:])
    recap = {match.group(1): {"changed": int(match.group(3)), "unreachable": int(match.group(4)), "failed": int(match.group(5))}
             for match in labsite.RECAP.finditer(output)}
    return rc, output, recap, time.monotonic() - started


def converge(vms, *args):
    rc, output, recap, seconds = playbook(vms, "vmstorage.gluster.site", *args)
    assert rc == 0, output[-4000:]
    return recap, seconds


def changed_total(recap):
    return sum(counts["changed"] for counts in recap.values())


def timed(case, **seconds):
    TIMINGS[case] = seconds
    print("%s timings: %s" % (case, ", ".join("%s %.1f s" % item for item in seconds.items())))


# What must not move or double: per node the LVs, each VM's filesystem (UUID, label), its fstab
# lines and its mount; from node1 every volume's id, status and bricks.
NODE_IDENTITY = r'''
import json, subprocess, sys
def out(*argv):
    return subprocess.run(argv, capture_output=True, text=True, env={"LANG": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}).stdout
report = json.loads(out("lvs", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "lv_name,lv_attr,lv_size,pool_lv", "ThinGroup"))
state = {"lvs": sorted((lv["lv_name"], lv["lv_attr"][0], lv["lv_size"], lv["pool_lv"]) for lv in report["report"][0]["lv"])}
fstab = [line.split() for line in open("/etc/fstab")]
for vm in sys.argv[1:]:
    fs = dict(line.split("=", 1) for line in out("blkid", "-p", "-o", "export", "/dev/ThinGroup/" + vm).split())
    state[vm] = {"fs": [fs.get("TYPE"), fs.get("LABEL"), fs.get("UUID")],
                 "fstab": [fields[:3] for fields in fstab if fields and fields[0] == "LABEL=" + vm],
                 "mount": out("findmnt", "-n", "-o", "FSTYPE", "/srv/" + vm).strip()}
state["leftovers"] = sorted(out("findmnt", "-n", "-t", "fuse.glusterfs", "-o", "TARGET").split()
                            + out("sh", "-c", "ls -d /tmp/vmstorage-* 2>/dev/null").split())
print(json.dumps(state))
'''


def identity(vms):
    state = {name: json.loads(ssh(name, "python3 - " + " ".join(vms), stdin=NODE_IDENTITY).stdout) for name in labsite.NODES}
    for volume in gluster_xml("volume", "info").iter("volume"):
        state[volume.findtext("name")] = [volume.findtext("id"), volume.findtext("statusStr"),
                                          [brick.findtext("name") for brick in volume.iter("brick")]]
    return state


def assert_each_once(state, vms):
    """Every VM's storage exists exactly once on every node, and nothing else does."""
    for name in labsite.NODES:
        node = state[name]
        assert [lv[0] for lv in node["lvs"]] == sorted(("ThinData",) + vms), (name, node["lvs"])
        for vm in vms:
            assert node[vm]["fs"][:2] == ["btrfs", vm], (name, vm, node[vm])
            assert node[vm]["fstab"] == [["LABEL=" + vm, "/srv/" + vm, "btrfs"]], (name, vm, node[vm])
            assert node[vm]["mount"] == "btrfs", (name, vm, node[vm])
        assert node["leftovers"] == [], (name, node["leftovers"])
    volumes = sorted(key for key in state if key not in labsite.NODES)
    assert volumes == sorted(vms), volumes
    for vm in vms:
        assert state[vm][1] == "Started" and state[vm][2] == ["%s:/srv/%s/data" % (name, vm) for name in labsite.NODES], state[vm]


def on_volume(volume, command):
    """Run command on node1 with the volume mounted read-only (FUSE) at $dir, as a client sees it."""
    script = ("set -e; dir=$(mktemp -d); mount -t glusterfs -o ro,backup-volfile-servers=node2:node3 node1:/%s $dir; "
              "trap 'umount $dir; rmdir $dir' EXIT; %s" % (volume, command))
    return ssh(PRIMARY, script).stdout


def image_checksum(volume):
    return on_volume(volume, "md5sum < $dir/disk.img").split()[0]


def heal_entries(vm):
    """Entries still to heal per brick ('-' when the brick is not connected)."""
    return {brick.findtext("name"): brick.findtext("numberOfEntries") for brick in gluster_xml("volume", "heal", vm, "info").iter("brick")}


def wait_for(what, check, timeout, interval=2.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "%s: not within %d s" % (what, timeout)
        time.sleep(interval)


def brick_states(vm):
    """Per brick host: (process runs, its port, its PID) as glusterd lists them."""
    return {node.findtext("hostname"): (node.findtext("status") == "1", node.findtext("port"), node.findtext("pid"))
            for node in gluster_xml("volume", "status", vm).iter("node") if (node.findtext("path") or "").startswith("/")}


def bricks_online(vm):
    """Per brick host: whether clients can reach the brick (its process runs and glusterd has its port)."""
    return {host: running and port.isdigit() for host, (running, port, _pid) in brick_states(vm).items()}


def settle_bricks(vm, why):
    """Wait until every brick of vm is online. After 30 s a brick that glusterfs 10.3 left running without a
    port after glusterd started (docs/reliability.md) is restarted as the volume module's warning says, and a
    brick glusterd has not started is started (`volume start force`); returns the portless ones."""
    deadline = time.monotonic() + 30
    while not all(bricks_online(vm).values()) and time.monotonic() < deadline:
        time.sleep(2)
    states = brick_states(vm)
    portless = {host: pid for host, (running, port, pid) in states.items() if running and not port.isdigit()}
    stopped = sorted(host for host, (running, _port, _pid) in states.items() if not running)
    for host, pid in portless.items():
        print("%s: glusterfs left %s's brick of %s running without a port (PID %s); restarting it" % (why, host, vm, pid))
        ssh(host, "kill %s" % pid)
    if stopped:
        print("%s: glusterd had not started the brick of %s on %s after 30 s; starting it" % (why, vm, ", ".join(stopped)))
    if portless or stopped:
        ssh(PRIMARY, "gluster volume start %s force" % vm)
    wait_for("every brick of %s online (%s)" % (vm, why), lambda: all(bricks_online(vm).values()), 60)
    RESTARTED.extend("%s: %s" % (why, host) for host in sorted(set(portless) | set(stopped)))
    return sorted(portless)


def brick_pid(vm, host):
    for node in gluster_xml("volume", "status", vm).iter("node"):
        if node.findtext("hostname") == host and node.findtext("path") == "/srv/%s/data" % vm:
            return int(node.findtext("pid"))
    raise AssertionError("no brick of %s on %s" % (vm, host))


# ---------------------------------------------------------------- the faults, in order

def test_f02_a_brick_killed_during_writes_is_started_and_healed():
    assert all(bricks_online("ledger").values())
    qemu_io = "qemu-io -f raw " + " ".join("-c '%s -P %s %s %s'" % ("{op}", *write) for write in WRITES) + " /mnt/f02/disk.img"
    ssh(PRIMARY, "mkdir -p /mnt/f02 && mount -t glusterfs -o backup-volfile-servers=node2:node3 node1:/ledger /mnt/f02")
    try:
        started = time.monotonic()
        writer = subprocess.Popen(["ssh", "-F", os.environ["VMSTORAGE_LAB_SSH_CONFIG"], PRIMARY, qemu_io.format(op="write")],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(2)  # the writes are under way (48 MiB take ~7 s on the lab)
        ssh("node3", "kill -9 %d" % brick_pid("ledger", "node3"))
        written = writer.communicate(timeout=300)[0]
        wrote = time.monotonic() - started
        assert writer.returncode == 0 and written.count("wrote") == len(WRITES), written
        assert bricks_online("ledger")["node3"] is False, "node3's brick runs: the kill did not happen"
        ssh(PRIMARY, qemu_io.format(op="read"))  # the patterns read back
    finally:
        ssh(PRIMARY, "umount /mnt/f02; rmdir /mnt/f02", check=False)
    written_checksum = image_checksum("ledger")

    rc, output, recap, rerun = playbook(None, "vmstorage.gluster.site", "--tags", "volumes,disks", "-v")
    assert rc == 0, output[-4000:]
    assert changed_total(recap) == 1 and recap["node1"]["changed"] == 1, recap
    action = "start the offline bricks of ledger: node3:/srv/ledger/data"
    assert action in output, output[-4000:]
    assert all(bricks_online("ledger").values()), "the site left a brick offline"
    started = time.monotonic()
    wait_for("heal of ledger", lambda: set(heal_entries("ledger").values()) == {"0"}, HEAL_TIMEOUT)
    healed = time.monotonic() - started
    files = labsite.brick_files("ledger")
    assert files["node1"] == files["node2"] == files["node3"], files
    shards = files["node1"].count(" ./.shard/")
    assert shards, "no shard written: the case would not cover shards"
    assert image_checksum("ledger") == written_checksum
    timed("F02", writes=wrote, site_rerun=rerun, heal=healed)
    MEASURED["F02"] = ("both writes succeeded with node3's brick dead; the re-run's only change: %s; heal info 0 entries "
                       "on every brick; %d files (%d under .shard) with identical sha256 on node1, node2 and node3; the "
                       "image's checksum as written" % (action, files["node1"].count("\n"), shards))


def module_on(node, module, args):
    """Run a module of the collection on one node (ansible ad hoc); returns its result."""
    command = ["ansible", node, "-i", labsite.inventory(), "-o", "-m", module, "-a", json.dumps(args)]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    line = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0 and "=>" in line, result.stdout + result.stderr
    return json.loads(line.split("=>", 1)[1])


def opened(node, filename):
    """qemu-img info over a json: filename (gfapi with the volfile servers it lists)."""
    info = ssh(node, "qemu-img info --output=json '%s'" % filename).stdout
    return json.loads(info)


def test_f03_images_through_the_backup_volfile_servers():
    servers = list(labsite.NODES)
    ssh(PRIMARY, "systemctl stop glusterd")
    try:
        assert ssh("node2", "timeout 3 bash -c 'echo > /dev/tcp/node1/24007'", check=False).returncode != 0, "node1's glusterd answers"
        requests = {access: {"path": "f03-%s.qcow2" % access, "size": "64M", "format": "qcow2", "access": access}
                    for access in ("gfapi", "fuse")}
        requests["disk"] = {"path": "disk.img", "size": "512M", "format": "raw"}
        started = time.monotonic()
        # side by side: each gfapi open costs ~10 s in glfs_fini
        with ThreadPoolExecutor(len(requests)) as pool:
            futures = {name: pool.submit(module_on, "node2", "vmstorage.gluster.qemu_gluster_image",
                                         dict(request, volume="ledger", servers=servers)) for name, request in requests.items()}
            results = {name: future.result() for name, future in futures.items()}
        created = time.monotonic() - started
        for access in ("gfapi", "fuse"):
            assert results[access]["changed"] and results[access]["actions"] == [
                "create qcow2 image of 64 MiB at ledger/f03-%s.qcow2 via %s" % (access, access)], results[access]
        assert not results["disk"]["changed"], results["disk"]
        started = time.monotonic()
        with ThreadPoolExecutor(len(results)) as pool:
            futures = {name: pool.submit(opened, "node3", result["json_filename"]) for name, result in results.items()}
            sizes = {name: (future.result()["format"], future.result()["virtual-size"]) for name, future in futures.items()}
        assert sizes == {"gfapi": ("qcow2", 64 * 1024 ** 2), "fuse": ("qcow2", 64 * 1024 ** 2), "disk": ("raw", 512 * 1024 ** 2)}, sizes
        read = time.monotonic() - started
    finally:
        ssh(PRIMARY, "systemctl start glusterd")
    settle_bricks("ledger", "F03 glusterd start on node1")
    timed("F03", create_and_check=created, open_json=read)
    MEASURED["F03"] = ("with node1's glusterd down (port 24007 refused): %s; the VM's disk found unchanged; qemu-img info "
                       "over the three json_filenames from node3: %s" % (
                           "; ".join(results[access]["actions"][0] for access in ("gfapi", "fuse")),
                           ", ".join("%s %s" % (fmt, size) for fmt, size in sizes.values())))


def test_f04_glusterd_restarted_just_before_the_play():
    wait_for("heal after F03", lambda: set(heal_entries("ledger").values()) == {"0"}, HEAL_TIMEOUT)
    before = identity(ONE_VM)
    for name in labsite.NODES:  # the unit allows 6 starts an hour (StartLimitBurst); a lab reuses its nodes
        ssh(name, "systemctl reset-failed glusterd")
    rc, output, recap, seconds = playbook(None, RESTART_GLUSTERD, "vmstorage.gluster.site", "--tags", "volumes,disks", "-v")
    assert rc == 0, output[-4000:]
    window = re.search(r"bricks online right after the restart: (\d+) of (\d+)", output)
    assert window, output[-3000:]
    site_output = output.split("PLAY [Volumes", 1)[1]
    # glusterd starts its bricks by itself once its peers are back; a brick still offline after the volume
    # module's 10 s window is started by it (`volume start force` leaves running bricks alone): the one
    # change the site may make. The recap counts the restart play's one change per node besides.
    started = re.findall(r"start the offline bricks of ledger: [^\"]*", site_output)
    assert {name: counts["changed"] for name, counts in recap.items()} == {
        name: 2 if started and name == PRIMARY else 1 for name in labsite.NODES}, (recap, started, site_output[-3000:])
    assert all(counts["failed"] == 0 for counts in recap.values()), recap
    # a warning must be a true one: an offline brick (no port yet, or not started), never a spurious one
    words = " ".join(site_output.split())  # Ansible wraps long warnings
    warnings = re.findall(r"\[WARNING\]: (.{0,80})", words)
    assert all(re.match(r"brick node\d:/srv/ledger/data of volume ledger is offline", warning) for warning in warnings), warnings
    print("F04: bricks started by the volume module after its window: %s; warnings: %d" % (started or "none", len(warnings)))
    settle_bricks("ledger", "F04 restart of every glusterd")
    assert identity(ONE_VM) == before
    timed("F04", restart_and_plays=seconds)
    print("F04: bricks online right after the restart: %s of %s" % window.groups())
    MEASURED["F04"] = ("the volume and disk plays passed: no change beyond the restarts but a start of bricks still "
                       "offline after the window (if any), no warning but for an offline brick; every node's storage "
                       "unchanged")


def test_f01_a_node_loses_power_mid_converge():
    before = identity(ONE_VM)
    ledger_checksum = image_checksum("ledger")

    def pull_the_plug(_process):
        time.sleep(1)  # inside the task: mkfs, fstab or mount of the new brick under way
        lab("stop", "node2")

    rc, output, _recap, seconds = playbook("two_vms.yml", "vmstorage.gluster.site",
                                           trigger="TASK [vmstorage.gluster.brick : Btrfs brick", fault=pull_the_plug)
    assert rc != 0, output[-3000:]
    failures = re.findall(r"^fatal: \[(\S+)\]: (\w+)!(.*)$", output, re.MULTILINE)
    assert ("node2", "UNREACHABLE") in [(host, kind) for host, kind, _rest in failures], output[-4000:]
    assert all(host == "node2" or "node2" in rest for host, _kind, rest in failures), failures

    started = time.monotonic()
    lab("start", "node2")
    booted = time.monotonic() - started
    mounted = ssh("node2", "findmnt -n -o FSTYPE /srv/ledger; grep -c '^LABEL=ledger ' /etc/fstab; systemctl is-active glusterd").stdout
    assert mounted.split() == ["btrfs", "1", "active"], mounted
    settle_bricks("ledger", "F01 boot of node2")

    recap, rerun = converge("two_vms.yml")
    after = identity(TWO_VMS)
    assert_each_once(after, TWO_VMS)
    for name in labsite.NODES:
        assert [lv for lv in after[name]["lvs"] if lv[0] == "ledger"] == [lv for lv in before[name]["lvs"] if lv[0] == "ledger"]
        assert after[name]["ledger"] == before[name]["ledger"], (name, before[name]["ledger"], after[name]["ledger"])
    assert after["ledger"] == before["ledger"]
    assert image_checksum("ledger") == ledger_checksum
    timed("F01", play_until_failed=seconds, node2_boot=booted, site_rerun=rerun)
    MEASURED["F01"] = ("the play failed: node2 UNREACHABLE, every other failure naming node2; node2 came back with "
                       "/srv/ledger mounted by LABEL, glusterd active, its brick online; the re-run converged; on every "
                       "node LVs %s, each filesystem and fstab line once; ledger's filesystem UUID, volume id and image "
                       "checksum unchanged" % ", ".join(lv[0] for lv in after["node1"]["lvs"]))


def test_f05_an_interrupted_run_converges():
    before = identity(TWO_VMS)
    checksums = {vm: image_checksum(vm) for vm in TWO_VMS}

    def kill_ansible(process):
        time.sleep(2)  # inside the task: the FUSE mount or qemu-img create under way
        os.killpg(process.pid, signal.SIGKILL)  # the ansible-playbook this test started, with its workers

    rc, output, _recap, seconds = playbook("three_vms.yml", "vmstorage.gluster.site",
                                           trigger="TASK [vmstorage.gluster.vm_disk : Disk image", fault=kill_ansible)
    assert rc == -signal.SIGKILL, output[-2000:]
    first, first_seconds = converge("three_vms.yml")
    second, second_seconds = converge("three_vms.yml")
    assert changed_total(second) == 0, second
    after = identity(THREE_VMS)
    assert_each_once(after, THREE_VMS)
    for name in labsite.NODES:
        for vm in TWO_VMS:
            assert after[name][vm] == before[name][vm], (name, vm)
    assert [after[vm] for vm in TWO_VMS] == [before[vm] for vm in TWO_VMS]
    assert {vm: image_checksum(vm) for vm in TWO_VMS} == checksums
    partials = ssh(PRIMARY, "find /srv/*/data -path '*/.glusterfs' -prune -o -name '*vmstorage-partial*' -print").stdout
    assert not partials, partials
    info = json.loads(on_volume("journal", "qemu-img info --output=json $dir/disk.img"))
    assert (info["format"], info["virtual-size"]) == ("qcow2", 512 * 1024 ** 2), info
    timed("F05", run_until_killed=seconds, rerun=first_seconds, second_rerun=second_seconds)
    MEASURED["F05"] = ("ansible-playbook ended by SIGKILL inside the disk task; the re-run converged, the next one changed "
                       "nothing; on every node LVs %s, each once; ledger's and archive's storage and image checksums "
                       "unchanged; journal's disk qcow2 512 MiB; no FUSE mount, temp dir or partial image left"
                       % ", ".join(lv[0] for lv in after["node1"]["lvs"]))


def test_the_faults_table_in_docs_is_what_was_measured():
    print("timings: %s" % json.dumps(TIMINGS, sort_keys=True))
    print("bricks the tests (re)started (left without a port, or not started by glusterd): %s" % (RESTARTED or "none"))
    missing = sorted(set(CASES) - set(MEASURED))
    assert not missing, "cases that did not pass: %s" % missing
    rows = [(case, what, expected, MEASURED[case]) for case, (what, expected) in sorted(CASES.items())]
    casetable.check_or_update("faults", rows)
