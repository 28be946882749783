# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who may mount a volume, TLS on gluster's management and I/O paths, and no secret in any output.

The tests run in file order on one fresh lab, each one step of a story that builds on the last:

1. the site without TLS: auth.allow holds the nodes; the controller, which is no storage node, is refused
   until vmstorage_client_addresses lists it;
2. TLS switched on for the running cluster, the play run with -vvv --diff: the brick role writes the TLS
   files and restarts glusterd, the volume role refuses the volume that runs without TLS; no private key
   appears in the output;
3. the volume stopped as the refusal says; the site converges with TLS; clients with and without
   certificates try to mount;
4. the TLS site once more: nothing changes;
5. a client of the volume plants symlinks where qemu_gluster_image writes, and a source whose backing file is a
   node file is imported: nothing outside the volume is written or read.
6. the modules on their own: gluster_replica_volume makes a volume without auth_allow (the brick hosts only)
   and refuses '*'; btrfs_brick refuses a brick directory planted as a symbolic link.

The client outside the pool is a real glusterfs FUSE client (the lab host's glusterfs-client) on the
controller's side of the lab namespace. Its certificates live in a temporary directory: it takes the
client volfile from a node and adds the certificate paths to it (glusterfs reads them from the volfile),
with --secure-mgmt for its portmap connections to glusterd. The test CA and certificates are made here
with openssl. Every case becomes a row of docs/reliability.md (casetable).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources"))

import casetable  # noqa: E402  pylint: disable=wrong-import-position
import labsite  # noqa: E402  pylint: disable=wrong-import-position

VOLUME = "vault"  # group_vars/gluster_nodes.yml
BRICK_LOG = "/var/log/glusterfs/bricks/srv-%s-data.log" % VOLUME
GLUSTERD_LOG = "/var/log/glusterfs/glusterd.log"
# Debian builds glusterfs against OpenSSL's directory (`openssl version -d`), not upstream's /etc/ssl.
TLS_DIR = "/usr/lib/ssl"
TLS_FILES = {"glusterfs.pem": "644 root root", "glusterfs.ca": "644 root root", "glusterfs.key": "600 root root",
             "/var/lib/glusterd/secure-access": "644 root root"}
LISTED_CLIENT = "hypervisor1"
PROBE = "security-probe.txt"
PROBE_COMMAND = "seq 1 200000"
# What a refused client leaves in its own log or in the nodes' logs, and what it means.
EVIDENCE = (
    ("client", "remote-error=Authentication failed", "the bricks answer 'Authentication failed'"),
    ("glusterd", "certificate verify failed", "glusterd: 'certificate verify failed'"),
    ("brick", "certificate verify failed", "a brick: 'certificate verify failed'"),
    ("glusterd", "wrong version number", "glusterd: 'wrong version number' (plain text on its TLS port)"),
    ("brick", "wrong version number", "a brick: 'wrong version number' (plain text on its TLS port)"),
)
NODE_LOGS = (("glusterd", GLUSTERD_LOG), ("brick", BRICK_LOG))
# Outputs of every run of the site, searched for private key material at the end.
OUTPUTS = {}
ROWS = {}
STATE = {}


def record(case_id, case, expected, result):
    ROWS[case_id] = (case_id, case, expected, result)


def run_ok(host, command):
    result = host.run(command)
    assert result.rc == 0, "%s -> rc %s: %s %s" % (command, result.rc, result.stdout, result.stderr)
    return result.stdout


def gluster_xml(host, *args):
    root = ET.fromstring(run_ok(host, "gluster --xml " + " ".join(args)))
    assert root.findtext("opRet") == "0", ET.tostring(root)
    return root


def volume_options(host):
    return {opt.findtext("Option"): opt.findtext("Value")
            for opt in gluster_xml(host, "volume", "get", VOLUME, "all").iter("Opt")}


def volume_status(host):
    return gluster_xml(host, "volume", "info", VOLUME).findtext("volInfo/volumes/volume/statusStr")


def glusterd_pids():
    return {name: run_ok(labsite.node(name), "systemctl show -p MainPID --value glusterd").strip() for name in labsite.NODES}


def site(name, *args):
    """A site run; its recap per node (the site's first play, checks on the controller, counts localhost too)."""
    rc, output, recap = labsite.run_site(*args)
    OUTPUTS[name] = output
    return rc, output, {host: counts for host, counts in recap.items() if host in labsite.NODES}


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="vmstorage-security-") as path:
        yield path


@pytest.fixture(scope="module")
def pki(workdir):
    """A test CA with certificates for the nodes, a listed client, an unlisted one, and a forgery from
    another CA that carries the listed client's name."""
    directory = os.path.join(workdir, "pki")
    os.mkdir(directory, 0o700)

    def path(name, kind):
        return os.path.join(directory, "%s.%s" % (name, kind))

    def authority(name, common_name):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path(name, "key"), "-out", path(name, "pem"),
                "-days", "2", "-subj", "/CN=" + common_name)

    def certificate(name, common_name, ca):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", path(name, "key"), "-out", path(name, "csr"),
                "-subj", "/CN=" + common_name)
        openssl("x509", "-req", "-in", path(name, "csr"), "-CA", path(ca, "pem"), "-CAkey", path(ca, "key"),
                "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-out", path(name, "pem"))

    authority("ca", "vmstorage test CA")
    authority("other-ca", "another CA")
    for name in labsite.NODES + (LISTED_CLIENT,):
        certificate(name, name, "ca")
    certificate("intruder", "intruder", "ca")
    certificate("forged", LISTED_CLIENT, "other-ca")
    # How an inventory gives each node its own certificate and key (host_vars and a vault work alike).
    tls_vars = {
        "vmstorage_tls": True,
        "vmstorage_tls_certificate": "{{ lookup('file', '%s/' ~ inventory_hostname ~ '.pem') }}" % directory,
        "vmstorage_tls_private_key": "{{ lookup('file', '%s/' ~ inventory_hostname ~ '.key') }}" % directory,
        "vmstorage_tls_ca": "{{ lookup('file', '%s/ca.pem') }}" % directory,
        "vmstorage_tls_client_names": [LISTED_CLIENT],
    }
    with open(os.path.join(directory, "tls.yml"), "w", encoding="utf-8") as handle:
        json.dump(tls_vars, handle)

    def read(name, kind):
        with open(path(name, kind), encoding="utf-8") as handle:
            return handle.read()

    return {"dir": directory, "path": path, "read": read, "vars": "@" + os.path.join(directory, "tls.yml")}


def controller_address():
    """The address the controller's packets to node1 come from (the lab bridge's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((socket.gethostbyname("node1"), 24007))
        return probe.getsockname()[0]


def node_addresses():
    return {socket.gethostbyname(name) for name in labsite.NODES}


# ---------------------------------------------------------------- the client outside the pool

def mounted(path):
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        return any(line.split()[1] == path for line in handle)


def end_client(pid_file):
    """The client daemon ends when it is unmounted or refused; give it 10 s, then end it by its PID."""
    try:
        with open(pid_file, encoding="utf-8") as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None and os.path.exists("/proc/%d" % pid):
            os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not os.path.exists("/proc/%d" % pid):
            return


def log_sizes():
    sizes = {}
    for name in labsite.NODES:
        stat = run_ok(labsite.node(name), "stat -c %s " + " ".join(path for _kind, path in NODE_LOGS)).split()
        sizes.update({(name, kind): int(size) for (kind, _path), size in zip(NODE_LOGS, stat)})
    return sizes


def logs_since(sizes):
    """What every node logged since sizes, by kind (glusterd, brick), all nodes together."""
    texts = {kind: "" for kind, _path in NODE_LOGS}
    for name in labsite.NODES:
        for kind, path in NODE_LOGS:
            texts[kind] += labsite.node(name).run("tail -c +%d %s" % (sizes[(name, kind)] + 1, path)).stdout
    return texts


def attempt(workdir, name, glusterfs_args):
    """Mount the volume with glusterfs on the controller, read the probe file, unmount.

    Returns (admitted, evidence, logs): admitted when the probe file read back intact; evidence names what the
    client or the nodes logged about a refusal."""
    sizes = log_sizes()
    mount_dir, client_log, pid_file = (os.path.join(workdir, name + suffix) for suffix in ("", ".log", ".pid"))
    os.mkdir(mount_dir)
    try:
        subprocess.run(["glusterfs", "--log-file=" + client_log, "--pid-file=" + pid_file] + glusterfs_args + [mount_dir],
                       capture_output=True, check=False, timeout=60)
        read = subprocess.run(["timeout", "30", "sha256sum", os.path.join(mount_dir, PROBE)], capture_output=True,
                              text=True, check=False)
        expected = subprocess.run(["sh", "-c", PROBE_COMMAND + " | sha256sum"], capture_output=True, text=True,
                                  check=True).stdout.split()[0]
        admitted = read.returncode == 0 and read.stdout.split()[0] == expected
    finally:
        if mounted(mount_dir):
            subprocess.run(["umount", mount_dir], capture_output=True, check=False)
        end_client(pid_file)
        assert not mounted(mount_dir)
    texts = logs_since(sizes)
    with open(client_log, encoding="utf-8", errors="replace") as handle:
        texts["client"] = handle.read()
    evidence = [meaning for where, marker, meaning in EVIDENCE if marker in texts[where]]
    errors = {kind: [line for line in text.splitlines() if re.search(r"\] [EW] \[", line)][-8:] for kind, text in texts.items()}
    return admitted, evidence, errors


def outcome(admitted, evidence, expected=None):
    """The result column: a refusal names the evidence the case expects when it was seen (a client or
    node may log more, depending on timing), else everything that was logged."""
    if admitted:
        return "admitted: read the probe file back intact"
    return "refused: %s" % (expected if expected in evidence else "; ".join(evidence) or "no reason logged")


def client_volfile(workdir, name, certificate=None, plain_to_brick_ports=None, volume=VOLUME):
    """The volfile glusterd serves to clients, with this client's certificate files added (TLS), or with
    TLS off and every brick's port given, so that it talks plain text straight to the bricks."""
    text = labsite.node("node1").file("/var/lib/glusterd/vols/%s/%s.tcp-fuse.vol" % (volume, volume)).content_string
    assert "transport.socket.ssl-enabled" in text or certificate is None
    if certificate is not None:
        key, cert, ca = certificate
        options = ("    option transport.socket.ssl-own-cert %s\n    option transport.socket.ssl-private-key %s\n"
                   "    option transport.socket.ssl-ca-list %s\n" % (cert, key, ca))
        text = text.replace("    type protocol/client\n", "    type protocol/client\n" + options)
    if plain_to_brick_ports is not None:
        text = text.replace("option transport.socket.ssl-enabled on", "option transport.socket.ssl-enabled off")
        for host, port in plain_to_brick_ports.items():
            text = text.replace("    option remote-host %s\n" % host,
                                "    option remote-host %s\n    option remote-port %s\n" % (host, port))
    path = os.path.join(workdir, name + ".vol")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def brick_ports(volume=VOLUME):
    status = gluster_xml(labsite.node("node1"), "volume", "status", volume).find("volStatus/volumes/volume")
    return {node.findtext("hostname"): node.findtext("port") for node in status.findall("node")
            if node.findtext("path", "").startswith("/srv/")}


def certified_client(workdir, pki, name, certificate):
    """A client that trusts the test CA and shows the given certificate."""
    files = (pki["path"](certificate, "key"), pki["path"](certificate, "pem"), pki["path"]("ca", "pem"))
    volfile = client_volfile(workdir, name, certificate=files)
    return attempt(workdir, name, ["--secure-mgmt=yes", "--volfile=" + volfile])


# ---------------------------------------------------------------- 1. without TLS

def test_site_without_tls_lets_in_only_the_nodes(workdir):
    rc, output, _recap = site("plain", "--skip-tags", "disks")
    assert rc == 0, output[-4000:]
    node1 = labsite.node("node1")
    assert set(volume_options(node1)["auth.allow"].split(",")) == node_addresses()
    run_ok(node1, "mkdir -p /mnt/security && mount -t glusterfs node1:/%s /mnt/security && %s > /mnt/security/%s; "
           "status=$?; umount /mnt/security; exit $status" % (VOLUME, PROBE_COMMAND, PROBE))
    STATE["controller"] = controller_address()
    assert STATE["controller"] not in node_addresses()

    expected = "the bricks answer 'Authentication failed'"
    admitted, evidence, errors = attempt(workdir, "unlisted", ["--volfile-server=node1", "--volfile-id=" + VOLUME])
    record("S01", "A client that is no node and not in vmstorage_client_addresses (the controller, on the lab bridge) "
           "mounts the volume (no TLS)", "refused by auth.allow (the nodes only)", outcome(admitted, evidence, expected))
    assert not admitted and expected in evidence, (evidence, errors)


def test_a_listed_client_is_let_in(workdir):
    rc, output, _recap = site("listed", "--tags", "volumes",
                              "-e", json.dumps({"vmstorage_client_addresses": [STATE["controller"]]}))
    assert rc == 0, output[-4000:]
    allowed = volume_options(labsite.node("node1"))["auth.allow"].split(",")
    assert set(allowed) == node_addresses() | {STATE["controller"]}, allowed
    admitted, evidence, errors = attempt(workdir, "listed", ["--volfile-server=node1", "--volfile-id=" + VOLUME])
    record("S02", "The same client after the volume role ran with it in vmstorage_client_addresses (auth.allow changed "
           "on the running volume)", "admitted", outcome(admitted, evidence))
    assert admitted, (evidence, errors)


# ---------------------------------------------------------------- 2. TLS switched on for a running cluster

def test_tls_is_refused_for_a_running_volume_and_the_nodes_get_their_tls_files(pki):
    node1 = labsite.node("node1")
    options_before, pids_before = volume_options(node1), glusterd_pids()
    rc, output, recap = site("tls-on-running", "-e", pki["vars"], "-vvv", "--diff")
    options_after, status_after = volume_options(node1), volume_status(node1)

    refused = ("Volume %s is started without TLS (client.ssl off, server.ssl off); asked: vmstorage_tls true" % VOLUME) in output
    unchanged = options_after == options_before and status_after == "Started"
    record("S03", "vmstorage_tls switched on while the volume runs without TLS (brick processes read TLS only when "
           "they start)", "the play fails naming the volume, why and what to do; the volume's options and state unchanged",
           "%s; volume options %s, %s" % ("refused with that message" if refused else "not refused",
                                          "unchanged" if unchanged else "changed", status_after))
    assert rc != 0 and refused, output[-4000:]
    assert "stop it (gluster volume stop %s) and run this again" % VOLUME in output
    assert recap["node1"]["failed"] == 1, recap
    assert unchanged, {key: (options_before.get(key), value) for key, value in options_after.items()
                       if options_before.get(key) != value}

    found = {}
    for name in labsite.NODES:
        node = labsite.node(name)
        for file_name in TLS_FILES:
            path = file_name if file_name.startswith("/") else "%s/%s" % (TLS_DIR, file_name)
            found[(name, file_name)] = run_ok(node, "stat -c '%%a %%U %%G' %s" % path).strip()
        for file_name, kind in (("glusterfs.pem", "pem"), ("glusterfs.key", "key")):
            assert node.file("%s/%s" % (TLS_DIR, file_name)).content_string.strip() == pki["read"](name, kind).strip()
        assert node.file(TLS_DIR + "/glusterfs.ca").content_string.strip() == pki["read"]("ca", "pem").strip()
    wrong = {key: mode for key, mode in found.items() if mode != TLS_FILES[key[1]]}
    record("S04", "TLS files of every node (brick role)", "in the OpenSSL directory glusterfs reads (Debian: "
           "/usr/lib/ssl): glusterfs.key 600 root, glusterfs.pem and .ca 644, /var/lib/glusterd/secure-access 644",
           "wrong: %s" % wrong if wrong else "every node: " + ", ".join(
               "%s %s" % (os.path.basename(file_name), mode) for file_name, mode in TLS_FILES.items()))
    assert not wrong, wrong

    pids_after = glusterd_pids()
    connected = {}
    for name in labsite.NODES:
        peers = gluster_xml(labsite.node(name), "peer", "status").findall("peerStatus/peer")
        connected[name] = sum(peer.findtext("connected") == "1" for peer in peers)
    restarted = all(pids_after[name] != pids_before[name] for name in labsite.NODES)
    record("S05", "glusterd on every node after its TLS files changed", "restarted, and its peers connected again (over "
           "TLS) before the play goes on", "%s; connected peers per node: %s" % (
               "restarted on every node" if restarted else "not restarted everywhere",
               ", ".join("%s %d" % (name, count) for name, count in sorted(connected.items()))))
    assert restarted, (pids_before, pids_after)
    assert all(count == len(labsite.NODES) - 1 for count in connected.values()), connected


# ---------------------------------------------------------------- 3. TLS converged

def test_tls_converges_once_the_volume_is_stopped(pki):
    node1 = labsite.node("node1")
    run_ok(node1, "gluster --mode=script volume stop %s" % VOLUME)
    rc, output, _recap = site("tls", "-e", pki["vars"], "-v")
    assert rc == 0, output[-4000:]
    options = volume_options(node1)
    tls_options = {key: options[key] for key in ("client.ssl", "server.ssl", "auth.ssl-allow")}
    disk = json.loads(run_ok(labsite.node("node2"), "mkdir -p /mnt/security && mount -t glusterfs node1:/%s /mnt/security "
                             "&& qemu-img info --output=json /mnt/security/disk.img; status=$?; umount /mnt/security; "
                             "exit $status" % VOLUME))
    record("S06", "The volume stopped as the refusal says, then the site run again with TLS", "client.ssl and server.ssl "
           "on, auth.ssl-allow = the nodes' certificate names + vmstorage_tls_client_names, volume started, disk created "
           "through node1's FUSE mount over TLS", "%s, %s; disk %s %d GiB, read through node2's FUSE mount over TLS" % (
               ", ".join("%s %s" % item for item in sorted(tls_options.items())), volume_status(node1), disk["format"],
               disk["virtual-size"] // 1024 ** 3))
    assert tls_options == {"client.ssl": "on", "server.ssl": "on", "auth.ssl-allow": "node1,node2,node3," + LISTED_CLIENT}
    assert volume_status(node1) == "Started"
    assert disk["format"] == "qcow2" and disk["virtual-size"] == 1024 ** 3
    # TLS clients need not be in auth.allow (below): it is the nodes only again, as no client is listed now
    assert set(options["auth.allow"].split(",")) == node_addresses()


def test_a_client_without_tls_is_refused_by_glusterd(workdir):
    expected = "glusterd: 'wrong version number' (plain text on its TLS port)"
    admitted, evidence, errors = attempt(workdir, "plain-mgmt", ["--volfile-server=node1", "--volfile-id=" + VOLUME])
    record("S07", "A client without TLS asks node1's glusterd for the volfile (management path)", "refused",
           outcome(admitted, evidence, expected))
    assert not admitted and expected in evidence, (evidence, errors)


def test_a_client_without_tls_is_refused_by_the_bricks(workdir):
    volfile = client_volfile(workdir, "plain-io", plain_to_brick_ports=brick_ports())
    expected = "a brick: 'wrong version number' (plain text on its TLS port)"
    admitted, evidence, errors = attempt(workdir, "plain-io", ["--volfile=" + volfile])
    record("S08", "A client without TLS with the volume's volfile and the brick ports talks straight to the bricks "
           "(I/O path)", "refused", outcome(admitted, evidence, expected))
    assert not admitted and expected in evidence, (evidence, errors)


def test_a_client_with_a_listed_certificate_is_admitted(workdir, pki):
    admitted, evidence, errors = certified_client(workdir, pki, "listed-cert", LISTED_CLIENT)
    record("S09", "A client with a certificate of the CA named %s (in vmstorage_tls_client_names), from an address "
           "not in auth.allow" % LISTED_CLIENT, "admitted (under TLS gluster lets the certificate decide; auth.allow "
           "is no second gate)", outcome(admitted, evidence))
    assert admitted, (evidence, errors)


def test_a_certificate_of_the_ca_with_an_unlisted_name_is_refused(workdir, pki):
    expected = "the bricks answer 'Authentication failed'"
    admitted, evidence, errors = certified_client(workdir, pki, "unlisted-cert", "intruder")
    record("S10", "A client with a certificate of the same CA named intruder (not listed)", "refused by auth.ssl-allow",
           outcome(admitted, evidence, expected))
    assert not admitted and expected in evidence, (evidence, errors)


def test_a_certificate_of_another_ca_is_refused(workdir, pki):
    expected = "glusterd: 'certificate verify failed'"
    admitted, evidence, errors = certified_client(workdir, pki, "forged-cert", "forged")
    record("S11", "A client with a certificate named %s from another CA (it trusts the test CA, as anyone can)"
           % LISTED_CLIENT, "refused by the TLS handshake", outcome(admitted, evidence, expected))
    assert not admitted and expected in evidence, (evidence, errors)


# ---------------------------------------------------------------- 4. again, and what the controller keeps

def test_a_second_tls_run_changes_nothing(pki):
    pids_before = glusterd_pids()
    rc, output, recap = site("tls-again", "-e", pki["vars"])
    changed = {name: counts["changed"] for name, counts in recap.items()}
    restarted = sorted(name for name, pid in glusterd_pids().items() if pid != pids_before[name])
    counts = ", ".join("%s=%d" % item for item in sorted(changed.items()))
    record("S12", "The TLS site run again", "changed=0 on every node; glusterd not restarted",
           "changed: %s; glusterd restarted on: %s" % (counts, ", ".join(restarted) or "none"))
    assert rc == 0, output[-4000:]
    assert set(changed.values()) == {0} and not restarted, (changed, restarted)


def test_access_files_on_the_controller_hold_no_secret(pki):
    access_dir = os.path.join(labsite.inventory(), "vmstorage-access")
    access_file = os.path.join(access_dir, VOLUME + ".yml")
    modes = {path: oct(os.stat(path).st_mode & 0o7777)[2:] for path in (access_dir, access_file)}
    with open(access_file, encoding="utf-8") as handle:
        text = handle.read()
    leaked = [name for name in labsite.NODES if private_key_in(pki["read"](name, "key"), text)]
    record("S13", "The access file the vm_disk role writes on the controller (gluster URI, json: filename, libvirt XML)",
           "readable by the hypervisor tooling (644 in a 755 directory); no key in it",
           "directory %s, %s.yml %s; key material: %s" % (modes[access_dir], VOLUME, modes[access_file],
                                                          ", ".join(leaked) or "none"))
    assert modes == {access_dir: "755", access_file: "644"} and not leaked, (modes, leaked)


def private_key_in(key_pem, text):
    """Whether any 24 characters of the private part of a PEM key appear in text, in any line layout.

    The first part of an RSA key's base64 holds the public modulus, which the certificate carries too;
    from character 600 on it is the private exponent and primes."""
    body = "".join(line for line in key_pem.splitlines() if not line.startswith("-----"))
    flat = re.sub(r"\\n|\s", "", text)
    return any(body[start:start + 24] in flat for start in range(600, len(body) - 24, 24))


def test_no_private_key_in_any_output(pki):
    """Every run's output (the -vvv --diff run wrote the keys) is searched for every node's key; the
    certificates, written by the same kind of task without no_log, must be found: the search works."""
    runs = sorted(OUTPUTS)
    leaks = [(run, name) for run in runs for name in labsite.NODES if private_key_in(pki["read"](name, "key"), OUTPUTS[run])]
    certificate_body = "".join(line for line in pki["read"]("node1", "pem").splitlines() if not line.startswith("-----"))
    certificate_shown = certificate_body[-200:] in re.sub(r"\\n|\s", "", OUTPUTS["tls-on-running"])
    record("S14", "Private keys in the output of every run (%d runs; the one that wrote the keys ran with -vvv --diff)"
           % len(runs), "no key material anywhere (no_log); the certificates, written the same way without no_log, do "
           "show in the diff", "key material found: %s; certificate in the -vvv --diff output: %s" % (
               ", ".join("%s in %s" % (name, run) for run, name in leaks) or "none", "yes" if certificate_shown else "no"))
    assert "tls-on-running" in OUTPUTS and not leaks and certificate_shown, leaks


# ---------------------------------------------------------------- 5. what a client of the volume plants for the module

BRICK = "/srv/%s/data" % VOLUME
VICTIM = "/root/victim"
MARKER = "/root/vmstorage-marker"
# the partial name the module used before (predictable) and a guess at a random one
PLANTED = (".planted.img.vmstorage-partial", ".planted.img.0123456789abcdef.vmstorage-partial",
           ".planted-gfapi.img.vmstorage-partial", ".planted-gfapi.img.0123456789abcdef.vmstorage-partial")
# the failed task's result as JSON: `fatal: [node1]: FAILED! => {...}` (also per item, or UNREACHABLE)
FAILURE = re.compile(r"^(?:fatal|failed): \[[^\]]+\](?: \(item=[^)]*\))?: (?:FAILED|UNREACHABLE)! => (\{.*\})$", re.MULTILINE)
OPEN_VOLUME = "s17"
OPEN_BRICK = "/srv/%s/s17" % VOLUME  # on the vault brick's filesystem, beside its brick directory


def module_task(workdir, name, module_name, args):
    """One task of a module on node1, as a play of its own; returns (rc, output, the failed task's result or None)."""
    path = os.path.join(workdir, name + ".yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump([{"name": name, "hosts": "node1", "gather_facts": False, "become": True,
                    "tasks": [{"name": name, "vmstorage.gluster." + module_name: args}]}], handle)
    rc, output, _recap = labsite.run_playbook(path)
    failure = FAILURE.search(output)
    return rc, output, json.loads(failure.group(1)) if failure else None


def image_task(workdir, name, **args):
    """Run qemu_gluster_image once on node1; (rc, output, failure result or None)."""
    return module_task(workdir, "security-" + name, "qemu_gluster_image",
                       dict(dict(volume=VOLUME, nodes=list(labsite.NODES), format="qcow2"), **args))


def on_volume(shell):
    """Run a shell command in node2's FUSE mount of the volume (node2 as any client admitted to it)."""
    return run_ok(labsite.node("node2"), "mkdir -p /mnt/plant && mount -t glusterfs node1:/%s /mnt/plant && cd /mnt/plant && "
                  "{ %s; }; status=$?; cd /; umount /mnt/plant; exit $status" % (VOLUME, shell))


def sha256(name, path):
    return run_ok(labsite.node(name), "sha256sum " + path).split()[0]


def brick_entries(pattern):
    """`ls -l`-style lines of node1's brick entries matching a shell pattern (the volume's view, no FUSE)."""
    return run_ok(labsite.node("node1"), "cd %s && for f in %s; do [ -e \"$f\" ] || [ -L \"$f\" ] && "
                  "stat -c '%%n %%F %%N' \"$f\"; done; true" % (BRICK, pattern)).splitlines()


def test_a_planted_symlink_never_redirects_the_module(workdir):
    node1 = labsite.node("node1")
    run_ok(node1, "seq 1 100000 > %s && chmod 600 %s" % (VICTIM, VICTIM))
    victim_before = sha256("node1", VICTIM)
    on_volume(" && ".join("ln -s %s %s" % (VICTIM, name) for name in PLANTED + ("planted2.img",)))
    planted = [line for line in brick_entries(".planted* planted2.img") if "symbolic link" in line]
    assert len(planted) == len(PLANTED) + 1, planted

    created = {}
    for path, access in (("planted.img", "fuse"), ("planted-gfapi.img", "gfapi")):
        rc, output, failure = image_task(workdir, "create-" + access, image_path=path, size="64M", access=access)
        assert rc == 0 and failure is None, output[-3000:]
        info = json.loads(run_ok(node1, "qemu-img info --output=json -U -f qcow2 %s/%s" % (BRICK, path)))
        kind = run_ok(node1, "stat -c %%F %s/%s" % (BRICK, path)).strip()
        created[access] = "%s, %s %d MiB" % (kind, info["format"], info["virtual-size"] // 1024 ** 2)
    victim_after_create = sha256("node1", VICTIM)
    links_left = [line for line in brick_entries(".planted* planted2.img") if "symbolic link" in line]
    partials = [line for line in brick_entries(".planted*") if "symbolic link" not in line]

    before = labsite.snapshot(images=True)
    rc, output, failure = image_task(workdir, "create-at-link", image_path="planted2.img", size="64M", access="fuse")
    changes = labsite.changes(before, labsite.snapshot(images=True))
    victim_after = sha256("node1", VICTIM)
    message = (failure or {}).get("msg", "")
    refused = message.startswith("the path is not a regular file: found a symlink at %s/planted2.img" % VOLUME)
    record("S15", "A client of the volume (node2's FUSE mount) plants symlinks to node1's %s at the partial name the "
           "module used to write (.planted.img.vmstorage-partial), at a guessed random one and at planted2.img; the module "
           "then creates planted.img (fuse), planted-gfapi.img (gfapi) and planted2.img from node1" % VICTIM,
           "the victim byte-identical; the images created as regular files next to the planted links, which stay; "
           "planted2.img refused (found a symlink, asked the image, remove it yourself), every node unchanged",
           "victim sha256 %s; planted.img: %s; planted-gfapi.img: %s; planted links left: %d of %d, partial files left: %d; "
           "planted2.img: %s; nodes %s" % (
               "unchanged" if victim_before == victim_after_create == victim_after else "CHANGED",
               created["fuse"], created["gfapi"], len(links_left), len(PLANTED) + 1, len(partials),
               "refused: found a symlink at %s/planted2.img" % VOLUME if refused else "not refused: %s" % (message or rc),
               "unchanged" if not changes else "changed"))
    assert victim_before == victim_after_create == victim_after
    assert created == {"fuse": "regular file, qcow2 64 MiB", "gfapi": "regular file, qcow2 64 MiB"}, created
    assert len(links_left) == len(PLANTED) + 1 and not partials, (links_left, partials)
    assert rc != 0 and refused and "remove what is there yourself" in message, output[-3000:]
    assert not changes, changes


def test_an_import_never_reads_the_backing_file_a_source_names(workdir):
    node1 = labsite.node("node1")
    marker = "vmstorage-marker-%s" % os.urandom(8).hex()
    source = "/var/tmp/crafted.qcow2"
    run_ok(node1, "echo %s > %s && qemu-img create -q -f qcow2 -b %s -F raw %s 64M" % (marker, MARKER, MARKER, source))
    before = labsite.snapshot(images=True)
    rc, output, failure = image_task(workdir, "import-crafted", image_path="imported.img", source=source)
    changes = labsite.changes(before, labsite.snapshot(images=True))
    message = (failure or {}).get("msg", "")
    refused = message.startswith("the import source has a backing file: found %s is a qcow2 image of 64 MiB "
                                 "(67108864 bytes) with backing file %s" % (source, MARKER))
    left = {name: run_ok(labsite.node(name), "ls -a %s | grep -c imported || true" % BRICK).strip() for name in labsite.NODES}
    # positive control: the same source with the option set does copy the node file into the new disk
    rc_allowed, output_allowed, failure_allowed = image_task(workdir, "import-allowed", image_path="allowed.img", source=source,
                                                             format="raw", allow_source_backing_file=True)
    copied = run_ok(node1, "head -c %d %s/allowed.img" % (len(marker), BRICK)) == marker
    record("S16", "An import of a qcow2 source made on node1 whose backing file is the node file %s (no source_format)"
           % MARKER, "refused naming the backing file (flatten it or set allow_source_backing_file); every node unchanged, "
           "no new disk; with allow_source_backing_file the node file's bytes are in the new disk (the refusal guards a "
           "real read)", "%s; nodes %s; new disk or partial on the bricks: %s; allowed: %s" % (
               "refused: found the backing file %s" % MARKER if refused else "not refused: %s" % (message or rc),
               "unchanged" if not changes else "changed",
               ", ".join("%s %s" % item for item in sorted(left.items())),
               "the marker's bytes at the start of the new disk" if copied else "marker not copied"))
    assert rc != 0 and refused, output[-3000:]
    assert "allow_source_backing_file: true" in message and "flatten the source yourself" in message
    assert not changes, changes
    assert set(left.values()) == {"0"}, left
    assert rc_allowed == 0 and failure_allowed is None and copied, output_allowed[-3000:]


# ---------------------------------------------------------------- 6. the modules on their own

def test_the_volume_module_on_its_own_admits_only_the_brick_hosts_and_refuses_an_open_volume(workdir):
    rc, output, _failure = module_task(workdir, "s17-default", "gluster_replica_volume",
                                       {"name": OPEN_VOLUME, "nodes": list(labsite.NODES), "brick_path": OPEN_BRICK})
    assert rc == 0, output[-4000:]
    node1 = labsite.node("node1")
    allowed = [opt.findtext("Value") for opt in gluster_xml(node1, "volume", "get", OPEN_VOLUME, "auth.allow").iter("Opt")
               if opt.findtext("Option") == "auth.allow"]
    # a node is admitted by its name (gluster resolves it when the client connects), the controller is not
    node_mount = labsite.node("node2").run(
        "mkdir -p /mnt/s17 && mount -t glusterfs node1:/%s /mnt/s17 && %s > /mnt/s17/%s && sha256sum /mnt/s17/%s; "
        "status=$?; umount /mnt/s17; exit $status" % (OPEN_VOLUME, PROBE_COMMAND, PROBE, PROBE))
    volfile = client_volfile(workdir, "s17-controller", plain_to_brick_ports=brick_ports(OPEN_VOLUME), volume=OPEN_VOLUME)
    admitted, evidence, errors = attempt(workdir, "s17-controller", ["--volfile=" + volfile])

    before = labsite.snapshot()
    refusals = {}
    for label, name, brick in (("new", "s17open", "/srv/%s/s17open" % VOLUME), ("existing", OPEN_VOLUME, OPEN_BRICK)):
        rc, output, failure = module_task(workdir, "s17-" + label, "gluster_replica_volume",
                                          {"name": name, "nodes": list(labsite.NODES), "brick_path": brick, "auth_allow": ["*"]})
        refusals[label] = (rc, failure, output)
    unchanged = labsite.changes(before, labsite.snapshot())

    messages = {label: (failure or {}).get("msg", "") for label, (_rc, failure, _output) in refusals.items()}
    said = all(message.startswith("auth.allow would admit any client: found '*'; asked for auth_allow of volume %s, without "
                                  "allow_any_client." % name) and "List the hypervisors' addresses" in message
               and "set allow_any_client: true" in message
               for name, message in (("s17open", messages["new"]), (OPEN_VOLUME, messages["existing"])))
    record("S17", "gluster_replica_volume on its own (a play of one task on node1): a new volume without auth_allow; "
           "then auth_allow ['*'] without allow_any_client, for a new volume and for that one",
           "auth.allow = the brick hosts: a node mounts it, the controller is refused; '*' refused before anything "
           "runs (found '*', asked auth_allow; remedy: list the hypervisors or set allow_any_client); every node unchanged",
           "auth.allow %s; node2 %s; controller %s; '*' %s; every node %s" % (
               ", ".join(allowed) or "unset", "mounted it and wrote the probe file" if node_mount.rc == 0 else "could not mount it",
               outcome(admitted, evidence, "the bricks answer 'Authentication failed'"),
               "refused for both with that message" if said and all(rc != 0 for rc, _f, _o in refusals.values())
               else "not refused as expected", "unchanged" if not unchanged else "changed"))
    assert allowed == ["node1,node2,node3"], allowed
    assert node_mount.rc == 0, (node_mount.stdout, node_mount.stderr)
    assert not admitted and "the bricks answer 'Authentication failed'" in evidence, (evidence, errors)
    assert all(rc != 0 for rc, _failure, _output in refusals.values()) and said, {
        label: output[-3000:] for label, (_rc, _failure, output) in refusals.items()}
    assert not unchanged, unchanged


def test_a_brick_directory_planted_as_a_link_is_refused(workdir):
    node1 = labsite.node("node1")
    victim = "/root/s18-victim"
    run_ok(node1, "mkdir -p -m 0700 %s && ln -sfn %s /srv/%s/s18" % (victim, victim, VOLUME))
    before_victim = run_ok(node1, "stat -c '%%a %%U:%%G' %s" % victim).strip()
    before = labsite.snapshot()
    rc, output, failure = module_task(workdir, "s18", "btrfs_brick", {
        "device": "/dev/ThinGroup/%s" % VOLUME, "label": VOLUME, "mount_point": "/srv/%s" % VOLUME, "brick_dir": "s18",
        "owner": "nobody", "mode": "0777"})
    unchanged = labsite.changes(before, labsite.snapshot())
    after_victim = run_ok(node1, "stat -c '%%a %%U:%%G' %s" % victim).strip()
    message = (failure or {}).get("msg", "")
    said = message.startswith("the brick directory is a symbolic link: found /srv/%s/s18 -> %s; asked for a directory "
                              "/srv/%s/s18 on the brick filesystem." % (VOLUME, victim, VOLUME)) and "Remove the link" in message
    record("S18", "btrfs_brick on its own, asked for owner nobody and mode 0777 on a brick directory that is a symbolic "
           "link to a directory of root's (%s, 700)" % victim,
           "refused before anything runs (found the link, asked a directory; remove the link); the link's target and "
           "every node unchanged", "%s; %s %s; every node %s" % (
               "refused with that message" if rc != 0 and said else "not refused as expected", victim, after_victim,
               "unchanged" if not unchanged else "changed"))
    assert rc != 0 and said, output[-3000:]
    assert after_victim == before_victim == "700 root:root" and not unchanged, (after_victim, unchanged)


def test_the_security_table_in_docs_is_what_was_measured():
    ids = ["S%02d" % number for number in range(1, 19)]
    assert sorted(ROWS) == ids, "cases missing from this run: %s" % sorted(set(ids) - set(ROWS))
    casetable.check_or_update("security", [ROWS[case_id] for case_id in ids])
