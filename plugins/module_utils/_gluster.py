# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""GlusterFS trusted pool and replica volumes: observe, plan, apply.

observe() reads the pool, the volume and its options with ``gluster --xml`` (LANG=C through the
runner), plan() is pure (state + params -> actions or a Refusal), apply() runs the actions with
``--mode=script`` so gluster never stops at a y/n prompt. The only wait of the module is in apply:
after ``peer probe`` it polls the pool with a deadline until every peer is connected and in the
cluster.
"""

from __future__ import annotations

import fnmatch
import errno
import ipaddress
import os
import re
import stat
import typing as t
from dataclasses import dataclass, field
import socket
import uuid
import xml.etree.ElementTree as ET

from ansible_collections.vmstorage.gluster.plugins.module_utils._constants import (
    BRICK_SETTLE_TIME, EMPTY_ANSWER_ATTEMPTS, GLUSTERD_PORT, POLL_INTERVAL, PORT_PROBE_TIMEOUT)
from ansible_collections.vmstorage.gluster.plugins.module_utils._kinds import Kind
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Action, MissingPrerequisite, Refusal, require_danger_flag
from ansible_collections.vmstorage.gluster.plugins.module_utils._retry import Deadline, retry
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner

GROUPS_DIR = "/var/lib/glusterd/groups"
PEER_IN_CLUSTER = "Peer in Cluster"
HEAL_CONNECTED = "Connected"
VOLUME_ID_XATTR = "trusted.glusterfs.volume-id"
# a brick process that runs without a port is ended with SIGTERM and waited for this long before it is started again
BRICK_EXIT_TIMEOUT = 30.0
# glusterd needs a few seconds after a (re)start before its CLI answers; this is what the CLI says.
GLUSTERD_DOWN = "Connection failed"
GLUSTERD_HINT = "Is glusterd running on this node? (glusterfs-server, `systemctl start glusterd`)"
# A cluster-wide query (volume status) that a peer never answered: the peer went away and glusterd has
# not noticed yet (lab, F01: node2's power cut while the play went on; glusterd notices within ~30 s).
PEER_SILENT = "Request timed out"
PEER_SILENT_HINT = "A peer did not answer glusterd in time"
# Answers of a read-only query that a retry cures: glusterd starting, another node's transaction
# holding the cluster lock, a peer lost and not yet noticed, or no output at all (XML parse error
# "no element found").
TRANSIENT = (GLUSTERD_DOWN, "Another transaction is in progress", "Locking failed", PEER_SILENT, "no element found",
             "no output")
# A cluster change that failed only because another transaction held the cluster lock: it failed
# before its staging phase, so nothing changed and a retry is safe. (A staging failure is never
# retried: glusterd may already have marked brick directories with the new volume's id.)
CLUSTER_LOCK_BUSY = ("Another transaction is in progress", "Locking failed")
HEAL_NOT_READY = ("Self-heal daemon is not running", "has been unsuccessful")

# The one volume-name rule of the collection (modules, and the roles through the test plugin
# vmstorage.gluster.volume_name). gluster's CLI (cli_validate_volname in cli/src/cli-cmd-parser.c)
# takes letters, digits, '-' and '_', not a leading '-', and none of its reserved words ('all' is
# "every volume" in volume get/status all; the others are volfile or snapshot config words).
# Stricter than gluster on purpose: at most 64 characters (gluster: 256) since the name also names
# the thin LV, btrfs label and mount point, and the reserved words in any case.
VOLUME_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
VOLUME_NAME_MAX = 64
RESERVED_NAMES = ("volume", "type", "subvolumes", "option", "end-volume", "all", "volume_not_in_ring", "description",
                  "force", "snap-max-hard-limit", "snap-max-soft-limit", "auto-delete", "activate-on-create")
VOLUME_NAME_RULE = ("up to %d letters, digits, '-' and '_', not starting with '-' and not one of gluster's reserved words "
                    "(%s)" % (VOLUME_NAME_MAX, ", ".join(RESERVED_NAMES)))
# A host name or IPv4/IPv6 literal: no spaces, no ':' (the brick separator), no shell specials.
BRICK_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
BRICK_PATH = re.compile(r"^/[A-Za-z0-9._/+@=-]*$")
# A help-xml default that says the option takes a number, size or percentage ("16", "64MB", "10%", "-1").
# "0" and "1" say nothing: gluster writes some booleans so (transport.keepalive).
NUMERIC_DEFAULT = re.compile(r"^-?\d+(\.\d+)?([KMGTP]?B|%)?$", re.IGNORECASE)
NUMERIC_VALUE = re.compile(r"^-?\d")
# One auth.allow entry: an IPv4/IPv6 address, a wildcard (10.0.0.*), a network (10.0.0.0/24) or a host name.
# gluster stores an entry with a space unchecked ('hv one'), and it then matches no client.
AUTH_ENTRY = re.compile(r"^[A-Za-z0-9.:*/_\[\]-]+$")
# gluster matches a wildcard entry (fnmatch) against the client's address, never its name: an entry that
# matches these addresses of unrelated networks (per family; IPv4 as an IPv6 socket shows it) admits any
# client of that family ('*', '*.*.*.*', '::*'). So does a network of prefix length 0 ('0.0.0.0/0').
ANY_CLIENT_PROBES = (
    ("1.2.3.4", "100.64.0.1", "203.0.113.250", "255.255.255.254"),
    ("2001:db8::7", "fe80::1", "fd00:1:2:3::4"),
    ("::ffff:1.2.3.4", "::ffff:203.0.113.250"),
)

# gluster's own value grammar (libglusterfs common-utils): gf_string2boolean and
# gf_string2bytesize, whose units are 1024-based and case-insensitive, with no space before them.
BOOLEAN_WORDS = {
    "on": True, "yes": True, "true": True, "enable": True, "1": True,
    "off": False, "no": False, "false": False, "disable": False, "0": False,
}
SIZE_UNITS = {"": 1, "b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4, "pb": 1024 ** 5}
SIZE = re.compile(r"^(\d+(?:\.\d+)?)([a-z]*)$")
# `volume get` marks untouched values as "32MB (DEFAULT)" since gluster 7.
DEFAULT_MARK = re.compile(r"\s*\(DEFAULT\)$")

# What glusterd says when it refuses a brick, and what the user should do about it.
BRICK_REFUSALS = (
    ("root partition", "The brick directory is on the root filesystem. Put it on its own filesystem "
     "(e.g. a btrfs brick from vmstorage.gluster.btrfs_brick); this module never passes 'force'."),
    ("mount point", "The brick is the mount point itself. Use a subdirectory of the mounted filesystem, "
     "e.g. /srv/NAME/data; glusterd creates it."),
    ("already part of a volume", "The brick path (or a parent) carries trusted.glusterfs.volume-id from a volume that was "
     "deleted or still exists. Choose another subdirectory; only after making sure its data is not needed remove "
     "the old directory or its trusted.glusterfs.* attributes by hand."),
    ("contained by an existing brick", "The brick is, contains or lies inside a brick of an existing volume. "
     "Give every volume its own brick directory."),
    ("not in 'Peer in Cluster' state", "A brick host left the pool or is down; check `gluster pool list` on this node."),
)


class PeersNotReady(CommandError):
    """Brick hosts were not connected peers in the cluster by the deadline; the create or add-brick did not run."""

    def __init__(self, message):
        super().__init__(["gluster", "pool", "list"], 0, "", message)
        self.args = (message,)


class GlusterError(CommandError):
    """A gluster command failed; the message adds what the failure means and what to do."""

    def __init__(self, err, explanation):
        super().__init__(err.argv, err.rc, err.stdout, err.stderr)
        self.args = ("%s. %s" % (self.args[0], explanation),)


@dataclass
class Brick:
    """One brick as gluster lists it: ``host:path``, its peer uuid and whether its process runs."""

    host: str
    path: str
    uuid: t.Optional[str] = None
    arbiter: bool = False
    online: t.Optional[bool] = None
    # the PID of a brick process that runs without a port (not online), else None
    portless_pid: t.Optional[int] = None

    @property
    def spec(self):
        return "%s:%s" % (self.host, self.path)

    def as_dict(self):
        return {"host": self.host, "path": self.path, "online": bool(self.online), "arbiter": self.arbiter}


@dataclass
class Volume:
    """A volume from ``gluster --xml volume info``; ``reconfigured`` is its "Options Reconfigured"."""

    name: str
    id: str
    type: str
    status: str
    replica: int
    arbiter: int
    bricks: t.List[Brick]
    reconfigured: t.Dict[str, str] = field(default_factory=dict)
    # set by _observe_bricks: the bricks offline at the first look and how long the module waited for them
    settle: t.Optional[t.Dict[str, t.Any]] = None

    @property
    def started(self):
        return self.status == "Started"

    def as_dict(self):
        return {
            "name": self.name, "id": self.id, "type": self.type, "status": self.status, "replica": self.replica,
            "arbiter": self.arbiter, "bricks": [brick.as_dict() for brick in self.bricks], "options": dict(self.reconfigured),
        }


@dataclass
class Peer:
    """A member of the trusted pool (``gluster --xml pool list``); this node is named 'localhost'."""

    uuid: str
    hostnames: t.List[str]
    connected: bool
    state: str

    @property
    def is_self(self):
        return "localhost" in self.hostnames

    @property
    def ready(self):
        return self.connected and self.state == PEER_IN_CLUSTER

    def as_dict(self):
        return {"uuid": self.uuid, "hostnames": list(self.hostnames), "connected": self.connected, "state": self.state}


@dataclass
class LocalPath:
    """A brick path on this node as glusterd's own checks see it: is it a mount point, and does it (or its
    nearest existing parent) lie on the root filesystem."""

    mount_point: bool
    on_root_fs: bool
    exists: bool = True


@dataclass
class BrickDir:
    """An offline brick of this node as its directory is (lstat, never followed): what decides whether the
    module may make it a member again with reset-brick. ``volume_id`` is its trusted.glusterfs.volume-id."""

    is_dir: bool
    on_root_fs: bool
    entries: t.List[str] = field(default_factory=list)
    volume_id: t.Optional[str] = None
    exists: bool = True

    @property
    def blank(self):
        """A brick directory on its own filesystem with nothing in it and no volume id: a new, empty brick."""
        return self.is_dir and not self.on_root_fs and not self.entries and self.volume_id is None


@dataclass
class HealCounts:
    """One brick's line of ``volume heal NAME info summary``; counts are None when the brick was not read."""

    status: str
    pending: t.Optional[int] = None
    split_brain: t.Optional[int] = None
    possibly_healing: t.Optional[int] = None

    @property
    def connected(self) -> bool:
        return self.status == HEAL_CONNECTED


@dataclass
class ClusterState:
    """What observe() saw from this node.

    ``host_names`` maps every brick host (asked for or existing) to the names and addresses it
    resolves to, so that 'node2' matches a peer or brick that gluster knows as 10.0.0.2.
    ``local_hosts`` are the brick hosts that are this node. ``options`` holds the volume's current
    values (None without a volume); ``known_options`` the keys gluster accepts; ``groups`` the
    option groups read from this node (None for a missing group file). For the refusals plan() makes
    before gluster is asked: ``option_defaults`` the documented default of every key (help-xml, read
    for a new volume); ``unreachable`` the hosts to probe that do not answer on glusterd's port, with
    the reason; ``local_paths`` this node's brick paths. For a started volume with offline bricks of
    this node: ``brick_dirs`` (by brick address) and, when one is blank, ``heal`` (its heal summary).
    """

    volume: t.Optional[Volume]
    peers: t.List[Peer]
    host_names: t.Dict[str, t.Set[str]]
    local_hosts: t.Set[str]
    options: t.Optional[t.Dict[str, str]]
    known_options: t.Set[str]
    groups: t.Dict[str, t.Optional[t.Dict[str, str]]]
    option_defaults: t.Dict[str, str] = field(default_factory=dict)
    unreachable: t.Dict[str, str] = field(default_factory=dict)
    local_paths: t.Dict[str, LocalPath] = field(default_factory=dict)
    brick_dirs: t.Dict[str, BrickDir] = field(default_factory=dict)
    heal: t.Optional[t.Dict[str, HealCounts]] = None
    # state=absent, a started volume: the addresses its bricks have clients from (`volume status NAME clients`)
    clients: t.Set[str] = field(default_factory=set)

    def same_host(self, first: str, second: str) -> bool:
        return first == second or bool(self.host_names.get(first, {first}) & self.host_names.get(second, {second}))


# ---------------------------------------------------------------- parsers (gluster --xml output)

def cli_output(text: str) -> ET.Element:
    """The <cliOutput> root of a --xml answer, or ValueError with gluster's opErrstr."""
    root = ET.fromstring(text)
    if root.findtext("opRet", "0").strip() != "0":
        raise ValueError(root.findtext("opErrstr") or "gluster reported opRet %s" % root.findtext("opRet"))
    return root


def _int(element, tag):
    return int(element.findtext(tag, "0") or 0)


def parse_volumes(text: str) -> t.Dict[str, Volume]:
    """``gluster --xml volume info`` -> {name: Volume}."""
    volumes = {}
    for node in cli_output(text).iter("volume"):
        bricks = []
        for brick in node.iter("brick"):
            spec = brick.findtext("name") or (brick.text or "").strip()
            host, _sep, path = spec.partition(":")
            bricks.append(Brick(host, path, brick.findtext("hostUuid") or brick.get("uuid"),
                                brick.findtext("isArbiter", "0").strip() == "1"))
        options = {opt.findtext("name"): opt.findtext("value") or "" for opt in node.iter("option")}
        volume = Volume(node.findtext("name"), node.findtext("id"), node.findtext("typeStr"), node.findtext("statusStr"),
                        _int(node, "replicaCount"), _int(node, "arbiterCount"), bricks, options)
        volumes[volume.name] = volume
    return volumes


def _brick_nodes(text):
    """The brick entries of ``gluster --xml volume status``: (peer uuid, path), running, TCP port or None, PID."""
    for node in cli_output(text).iter("node"):
        path = node.findtext("path") or ""
        if path.startswith("/"):
            port = (node.findtext("port") or "").strip()
            yield ((node.findtext("peerid"), path), node.findtext("status", "0").strip() == "1",
                   int(port) if port.isdigit() else None, int(node.findtext("pid") or 0))


def parse_brick_status(text: str) -> t.Dict[t.Tuple[str, str], bool]:
    """``gluster --xml volume status NAME`` -> {(peer uuid, path): online} for the brick processes.

    Online means the process runs and glusterd knows its port: clients find a brick through that port
    map. glusterfs 10.3 can start a brick twice when glusterd starts (the second start fails on the
    pidfile lock, "Unable to start brick"), and then lists the running brick with port N/A for good:
    new clients cannot connect to it (lab, about one restart in three).
    """
    return {key: running and port is not None for key, running, port, _pid in _brick_nodes(text)}


def parse_portless_bricks(text: str) -> t.Dict[t.Tuple[str, str], int]:
    """{(peer uuid, path): PID} of the brick processes that run without a port (see parse_brick_status)."""
    return {key: pid for key, running, port, pid in _brick_nodes(text) if running and port is None}


def _count(element, tag):
    text = (element.findtext(tag) or "").strip()
    return int(text) if text.lstrip("-").isdigit() and int(text) >= 0 else None


def parse_heal_summary(text: str) -> t.Dict[str, HealCounts]:
    """``gluster --xml volume heal NAME info summary`` -> {brick address: HealCounts}.

    glusterfs 10.3 writes, for a brick it cannot reach, only a <status> such as "Transport endpoint is
    not connected" (once with a stray "totalNumberOfEntries0" glued to it): no counts then.
    """
    bricks = {}
    for brick in cli_output(text).iter("brick"):
        status = (brick.findtext("status") or "").strip()
        counts = HealCounts(status)
        if status == HEAL_CONNECTED:
            counts = HealCounts(status, _count(brick, "numberOfEntriesInHealPending"), _count(brick, "numberOfEntriesInSplitBrain"),
                                _count(brick, "numberOfEntriesPossiblyHealing"))
        bricks[(brick.findtext("name") or "").strip()] = counts
    return bricks


def parse_clients(text: str) -> t.Set[str]:
    """``gluster --xml volume status NAME clients`` -> the addresses the volume's bricks have clients from
    (each <client><hostname> is ADDRESS:PORT, an IPv6 address in brackets)."""
    addresses = set()
    for client in cli_output(text).iter("client"):
        address = (client.findtext("hostname") or "").strip().rsplit(":", 1)[0].strip("[]")
        if address:
            addresses.add(address)
    return addresses


def parse_pool(text: str) -> t.List[Peer]:
    """``gluster --xml pool list`` (or peer status) -> [Peer]."""
    peers = []
    for node in cli_output(text).iter("peer"):
        names = [name.text for name in node.iter("hostname") if name.text]
        peers.append(Peer(node.findtext("uuid"), sorted(set(names)), node.findtext("connected", "0").strip() == "1",
                          node.findtext("stateStr") or ""))
    return peers


def parse_volume_get(text: str) -> t.Dict[str, str]:
    """``gluster --xml volume get NAME all`` -> {key: value} without the '(DEFAULT)' marks."""
    return {
        opt.findtext("Option"): DEFAULT_MARK.sub("", opt.findtext("Value") or "")
        for opt in cli_output(text).iter("Opt")
    }


def parse_option_help(text: str) -> t.Set[str]:
    """``gluster --xml volume set help-xml`` -> the set of documented option keys."""
    return {opt.findtext("name") for opt in ET.fromstring(text).iter("option")}


def parse_option_defaults(text: str) -> t.Dict[str, str]:
    """``gluster --xml volume set help-xml`` -> {key: its documented default value}."""
    return {opt.findtext("name"): (opt.findtext("defaultValue") or "").strip() for opt in ET.fromstring(text).iter("option")}


def _well_formed(text: str) -> bool:
    try:
        ET.fromstring(text)
    except ET.ParseError:
        return False
    return True


def _option_help(runner: CommandRunner) -> str:
    """``gluster volume set help-xml``, asked again when it comes back empty or cut (seen in the lab under
    load: rc 0 and no output, while another node was losing power); CommandError when it stays so."""
    result = runner.query(gluster_argv("volume", "set", "help-xml"), whole=_well_formed)
    if not _well_formed(result.stdout):
        raise CommandError(result.argv, result.rc, result.stdout,
                           "gluster printed no complete XML for its option help (%d characters), asked %d times" % (
                               len(result.stdout), EMPTY_ANSWER_ATTEMPTS))
    return result.stdout


def parse_group_file(text: str) -> t.Dict[str, str]:
    """A /var/lib/glusterd/groups file (key=value lines) -> {key: value}."""
    options = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _sep, value = line.partition("=")
            options[key.strip()] = value.strip()
    return options


# ---------------------------------------------------------------- values

def option_text(value: t.Any) -> str:
    """A YAML value as the string gluster takes: YAML's on/yes arrive as booleans."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item).strip() for item in value)
    return str(value).strip()


def _size_bytes(text):
    match = SIZE.match(text)
    if match is None or match.group(2) not in SIZE_UNITS:
        return None
    return float(match.group(1)) * SIZE_UNITS[match.group(2)]


def option_values_equal(current: str, wanted: str) -> bool:
    """Whether gluster reads both strings as the same value (on == enable, 64MB == 67108864)."""
    current, wanted = current.strip().lower(), wanted.strip().lower()
    if current == wanted:
        return True
    if current in BOOLEAN_WORDS and wanted in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[current] == BOOLEAN_WORDS[wanted]
    current_size, wanted_size = _size_bytes(current), _size_bytes(wanted)
    if current_size is not None and wanted_size is not None:
        return current_size == wanted_size
    # Lists such as auth.allow: the same entries, ignoring spaces after commas.
    return [item.strip() for item in current.split(",")] == [item.strip() for item in wanted.split(",")]


# ---------------------------------------------------------------- what was asked

def wanted_bricks(params: t.Mapping[str, t.Any]) -> t.List[Brick]:
    """The bricks asked for, in order, as Brick objects (nodes x brick_path, or brick_addresses)."""
    if params.get("brick_addresses"):
        bricks = []
        for spec in params["brick_addresses"]:
            host, sep, path = spec.partition(":")
            if not sep or not host or not path:
                raise Refusal("a brick is not HOST:/PATH", repr(spec), "brick_addresses: [HOST:/PATH, ...]",
                              "Write every brick as host:/absolute/path, e.g. node1:/srv/vm1/data.")
            bricks.append(Brick(host, path))
        return bricks
    return [Brick(node, params.get("brick_path") or "") for node in params.get("nodes") or []]


def wanted_options(groups: t.Mapping[str, t.Optional[t.Dict[str, str]]], params: t.Mapping[str, t.Any],
                   new_volume: bool = False) -> t.Dict[str, str]:
    """Groups expanded (in the order given), then ``options``, then ``auth_allow``: later wins.

    ``groups`` maps the group names to their options as observe() read them. A ``new_volume`` that
    nothing gives an auth.allow gets the brick hosts (gluster's own default '*' admits any client).
    """
    options = {}
    for group in params.get("option_groups") or []:
        options.update(groups.get(group) or {})
    for key, value in (params.get("options") or {}).items():
        options[key] = option_text(value)
    if params.get("auth_allow"):
        options["auth.allow"] = option_text(params["auth_allow"])
    elif new_volume and "auth.allow" not in options:
        options["auth.allow"] = ",".join(default_auth_allow(params))
    return options


def default_auth_allow(params: t.Mapping[str, t.Any]) -> t.List[str]:
    """The brick hosts, once each, in brick order: the auth.allow of a new volume that is given none."""
    return list(dict.fromkeys(brick.host for brick in wanted_bricks(params)))


def admits_any_client(entry: str) -> bool:
    """Whether one auth.allow entry admits every client (see ANY_CLIENT_PROBES)."""
    entry = entry.strip()
    if "/" in entry:
        try:
            return ipaddress.ip_network(entry, strict=False).prefixlen == 0
        except ValueError:
            return False
    return any(all(fnmatch.fnmatchcase(address, entry) for address in probes) for probes in ANY_CLIENT_PROBES)


def open_entries(value: str) -> t.List[str]:
    """The entries of an auth.allow value (comma-separated) that admit every client."""
    return [entry.strip() for entry in value.split(",") if admits_any_client(entry)]


# ---------------------------------------------------------------- observe

def gluster_argv(*args: str) -> t.List[str]:
    return ["gluster", "--mode=script"] + list(args)


def _query(runner: CommandRunner, deadline: Deadline, *args: str, fresh: bool = False) -> str:
    """The stdout of a read-only ``gluster --xml`` command, retried until ``deadline`` while glusterd is
    starting ('Connection failed'), busy with another node's transaction, or answers nothing (seen in the
    lab under load: rc 0 and an empty stdout). ``fresh`` asks glusterd again even when this run asked
    the same before (polling)."""
    argv = gluster_argv("--xml", *args)

    def attempt():
        if fresh:
            runner.forget(argv)
        result = runner.read(argv, check=False)
        try:
            cli_output(result.stdout)
            if result.rc == 0:
                return result, None
            return result, result.stderr or "exit code %s" % result.rc
        except (ValueError, ET.ParseError) as exc:
            runner.forget(argv)
            return result, "%s %s" % (result.stdout.strip() or result.stderr.strip() or "no output", exc)

    result, problem = retry(attempt, lambda outcome: outcome[1] is not None and any(word in outcome[1] for word in TRANSIENT),
                            deadline, POLL_INTERVAL)
    if problem is None:
        return result.stdout
    error = CommandError(result.argv, result.rc, result.stdout, problem)
    if GLUSTERD_DOWN in problem:
        raise GlusterError(error, GLUSTERD_HINT)
    if PEER_SILENT in problem:
        raise GlusterError(error, _silent_peer_hint(runner))
    raise error


# for the other module_utils that read gluster (_heal)
query = _query


def _silent_peer_hint(runner):
    """What to tell about a query no peer answered in time: the peers this node sees disconnected."""
    result = runner.run(gluster_argv("--xml", "pool", "list"), check=False)
    try:
        lost = ["/".join(peer.hostnames) for peer in parse_pool(result.stdout) if not peer.connected]
    except (ValueError, ET.ParseError):
        lost = None
    if lost:
        return "%s: peers disconnected now: %s. Check that node (power, network, glusterd) and run again." % (
            PEER_SILENT_HINT, ", ".join(lost))
    return "%s (pool list: %s). Check every node's glusterd and network and run again." % (
        PEER_SILENT_HINT, "every peer connected" if lost == [] else "no answer")


def _host_names(host):
    """The host's own name and every address it resolves to (from /etc/hosts or DNS)."""
    names = {host}
    try:
        names.update(info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP))
    except socket.gaierror:
        pass
    return names


def _is_this_node(names):
    """Whether one of these addresses belongs to this node: only a local address can be bound."""
    if "localhost" in names or socket.gethostname() in names:
        return True
    for address in names:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        try:
            probe = socket.socket(family, socket.SOCK_DGRAM)
        except OSError:
            continue
        try:
            probe.bind((address, 0))
            return True
        except OSError:
            continue
        finally:
            probe.close()
    return False


def _read_groups(names):
    groups = {}
    for name in names:
        path = os.path.join(GROUPS_DIR, name)
        if "/" in name or not os.path.isfile(path):
            groups[name] = None
            continue
        with open(path, encoding="utf-8") as handle:
            groups[name] = parse_group_file(handle.read())
    return groups


def observe(runner: CommandRunner, params: t.Mapping[str, t.Any]) -> ClusterState:
    deadline = Deadline("peer_timeout", params["peer_timeout"])
    peers = parse_pool(_query(runner, deadline, "pool", "list"))
    if not valid_volume_name(params["name"]):
        # plan() refuses it; never hand such a string to the CLI.
        return ClusterState(None, peers, {}, set(), None, set(), {})
    # `volume info` and `volume status` without a name answer for every volume: a module run that
    # handles many volumes asks once (runner.read remembers the answers until something changes).
    volume = parse_volumes(_query(runner, deadline, "volume", "info")).get(params["name"])
    groups = _read_groups(params.get("option_groups") or []) if params["state"] != "absent" else {}
    options = known = None
    defaults = {}
    if volume is not None:
        options = dict(volume.reconfigured)
        known = set(options)
        if not _all_set_already(options, groups, params):
            # `volume get all` (1.3 s in the lab) gives defaults and the list of keys the volume knows;
            # it leaves out custom user.* keys, which volume info lists with the other set options.
            known_values = parse_volume_get(_query(runner, deadline, "volume", "get", volume.name, "all"))
            known = set(known_values)
            options.update(known_values)
        if volume.started:
            peers = _observe_bricks(runner, volume, peers, deadline)
    elif params["state"] != "absent":
        # a new volume gets options (auth.allow at least): gluster's documented keys and their defaults
        help_xml = _option_help(runner)
        known, defaults = parse_option_help(help_xml), parse_option_defaults(help_xml)
    hosts = set()
    if params["state"] != "absent":
        try:
            hosts.update(brick.host for brick in wanted_bricks(params))
        except Refusal:
            pass  # plan() refuses the same input with the full message
    if volume is not None:
        hosts.update(brick.host for brick in volume.bricks)
    host_names = {host: _host_names(host) for host in hosts}
    local_hosts = {host for host, names in host_names.items() if _is_this_node(names)}
    state = ClusterState(volume, peers, host_names, local_hosts, options, known or set(), groups, option_defaults=defaults)
    if params["state"] != "absent":
        _observe_new_bricks(state, params)
    if params["state"] == "started" and volume is not None and volume.started:
        _observe_offline_local_bricks(runner, state, deadline)
    if params["state"] == "absent" and volume is not None and volume.started:
        state.clients = parse_clients(_query(runner, deadline, "volume", "status", volume.name, "clients", fresh=True))
    return state


def _observe_offline_local_bricks(runner, state, deadline):
    """For this node's offline bricks: their directories, and when one is blank the volume's heal summary
    (plan() makes a blank brick a member again only while its partners have no split-brain)."""
    for brick in _offline_bricks(state.volume):
        if brick.host in state.local_hosts:
            state.brick_dirs[brick.spec] = observe_brick_dir(brick.path)
    if any(found.blank for found in state.brick_dirs.values()):
        state.heal = parse_heal_summary(_query(runner, deadline, "volume", "heal", state.volume.name, "info", "summary", fresh=True))


def observe_brick_dir(path: str) -> BrickDir:
    """What a brick directory of this node holds, read without following a link: its clients write the
    brick's content, so a symlink there is never followed (it is not a directory, and not blank)."""
    existing = path
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    info = os.lstat(existing)
    on_root_fs = info.st_dev == os.stat("/").st_dev
    if existing != path or not stat.S_ISDIR(info.st_mode):
        return BrickDir(False, on_root_fs, exists=existing == path)
    try:
        raw = os.getxattr(path, VOLUME_ID_XATTR, follow_symlinks=False)
    except OSError as err:
        if err.errno not in (errno.ENODATA, errno.ENOTSUP):
            raise
        raw = None
    volume_id = str(uuid.UUID(bytes=raw)) if raw is not None and len(raw) == 16 else (raw.hex() if raw is not None else None)
    return BrickDir(True, on_root_fs, sorted(os.listdir(path))[:5], volume_id)


def _observe_bricks(runner, volume, peers, deadline):
    """Set whether each brick's process runs (brick.online); returns the pool as last read.

    A brick found offline is asked about again for up to BRICK_SETTLE_TIME, with the pool: a play
    run just after a glusterd restart would otherwise find bricks and peers down that come back
    by themselves a moment later.
    """
    settle = Deadline("brick settle", BRICK_SETTLE_TIME, within=deadline)
    seen = {"peers": peers}

    def attempt():
        fresh = volume.settle is not None
        if fresh:
            seen["peers"] = parse_pool(_query(runner, deadline, "pool", "list", fresh=True))
        status = _query(runner, deadline, "volume", "status", "all", fresh=fresh)
        online, portless = parse_brick_status(status), parse_portless_bricks(status)
        for brick in volume.bricks:
            brick.online = online.get((brick.uuid, brick.path), False)
            brick.portless_pid = portless.get((brick.uuid, brick.path))
        if volume.settle is None:
            volume.settle = {"offline_at_first_look": [brick.spec for brick in volume.bricks if not brick.online]}
        return volume.bricks

    retry(attempt, lambda bricks: not all(brick.online for brick in bricks), settle, POLL_INTERVAL)
    volume.settle["waited"] = round(settle.elapsed(), 1)
    return seen["peers"]


def _observe_new_bricks(state, params):
    """What plan() needs to refuse bricks before gluster sees them: the hosts to probe that do not
    answer on glusterd's port, and what this node's brick paths are."""
    try:
        bricks = wanted_bricks(params)
    except Refusal:
        return  # plan() refuses the same input with the full message
    for host in dict.fromkeys(brick.host for brick in bricks):
        if host not in state.local_hosts and not _known_peer(state, host):
            reason = _glusterd_unreachable(host)
            if reason:
                state.unreachable[host] = reason
    root_device = os.stat("/").st_dev
    for brick in bricks:
        if brick.host in state.local_hosts and _valid_brick(brick):
            existing = brick.path
            while not os.path.exists(existing):
                existing = os.path.dirname(existing)
            state.local_paths[brick.path] = LocalPath(os.path.ismount(brick.path), os.stat(existing).st_dev == root_device,
                                                      existing == brick.path)


def _glusterd_unreachable(host):
    """Why glusterd on ``host`` cannot be reached, or None when it answers (a TCP connect, nothing sent)."""
    try:
        with socket.create_connection((host, GLUSTERD_PORT), timeout=PORT_PROBE_TIMEOUT):
            return None
    except OSError as err:
        return "no answer on port %d (%s)" % (GLUSTERD_PORT, err.strerror or err)


def _all_set_already(reconfigured, groups, params):
    """Whether every option asked for is set on the volume with that value (a re-run's usual case)."""
    if params["state"] == "absent" or any(options is None for options in groups.values()):
        return params["state"] == "absent"
    wanted = wanted_options(groups, params)
    return all(key in reconfigured and option_values_equal(reconfigured[key], value) for key, value in wanted.items())


def local_online_brick(runner: CommandRunner, volume_name: str) -> t.Optional[Brick]:
    """This node's brick of a started volume when its brick process runs, else None.

    For readers that may look at the brick directly (qemu_gluster_image's quick look); two
    questions to glusterd that runner.read answers once per module run.
    """
    volume = parse_volumes(_query(runner, Deadline("no wait", 0), "volume", "info")).get(volume_name)
    if volume is None or not volume.started:
        return None
    online = parse_brick_status(_query(runner, Deadline("no wait", 0), "volume", "status", "all"))
    for brick in volume.bricks:
        if online.get((brick.uuid, brick.path)) and _is_this_node(_host_names(brick.host)):
            return brick
    return None


# ---------------------------------------------------------------- plan (pure)

def valid_volume_name(name: t.Any) -> bool:
    """Whether ``name`` is a volume name by the collection's one rule (see VOLUME_NAME above)."""
    return (isinstance(name, str) and bool(VOLUME_NAME.match(name)) and len(name) <= VOLUME_NAME_MAX
            and name.lower() not in RESERVED_NAMES)


def _check_request(params, bricks):
    name = params["name"]
    if not valid_volume_name(name):
        raise Refusal("invalid volume name", repr(name), "a volume name",
                      "Use %s." % VOLUME_NAME_RULE)
    if params["state"] == "absent":
        return
    replica = params["replica"]
    if replica < 2:
        raise Refusal("a replica volume needs at least 2 copies", "replica %d" % replica, "a replica volume",
                      "Use replica: 3 (or 2 with arbiter: true for two data copies and a metadata-only third).")
    if params["arbiter"] and replica != 3:
        raise Refusal("an arbiter volume is 'replica 3 arbiter 1'", "replica %d with arbiter" % replica,
                      "an arbiter volume", "Set replica: 3; the last brick of each set of three becomes the arbiter.")
    if not bricks:
        raise Refusal("no bricks", "neither nodes+brick_path nor brick_addresses", "state %s" % params["state"],
                      "Give nodes (in brick order) and brick_path (the path on every node), or brick_addresses as HOST:/PATH.")
    for brick in bricks:
        if not _valid_brick(brick):
            raise Refusal("invalid brick", repr(brick.spec), "HOST:/ABSOLUTE/PATH (not /)",
                          "Use a host name or address and an absolute path of letters, digits and ._/+@=- only, "
                          "without '.', '..' or empty parts.")
    unusable = [entry for entry in params.get("auth_allow") or [] if not AUTH_ENTRY.match(str(entry).strip())]
    if unusable:
        raise Refusal("auth_allow entries that are no address or host name", ", ".join(repr(entry) for entry in unusable),
                      "auth_allow (auth.allow of volume %s)" % name,
                      "Give addresses, wildcards such as 10.0.0.*, networks such as 10.0.0.0/24 or host names, one per entry, "
                      "without spaces or commas; gluster would store such an entry and then refuse the clients it was meant for.")
    if len(bricks) % replica:
        raise Refusal("the brick count is not a multiple of the replica count", "%d bricks" % len(bricks),
                      "replica %d" % replica, "Give %d, %d, ... bricks: each set of %d consecutive bricks holds one copy each."
                      % (replica, 2 * replica, replica))
    specs = [brick.spec for brick in bricks]
    duplicates = sorted({spec for spec in specs if specs.count(spec) > 1})
    if duplicates:
        raise Refusal("a brick is listed twice", ", ".join(duplicates), "distinct bricks", "List every brick once.")


def _valid_brick(brick):
    parts = brick.path.strip("/").split("/")
    return bool(BRICK_HOST.match(brick.host) and BRICK_PATH.match(brick.path)) and all(part not in ("", ".", "..") for part in parts)


def _check_replica_sets(state, bricks, replica):
    """Two copies of the same data on one server protect nothing; gluster wants 'force' for it."""
    for start in range(0, len(bricks), replica):
        replica_set = bricks[start:start + replica]
        for index, brick in enumerate(replica_set):
            for other in replica_set[index + 1:]:
                if state.same_host(brick.host, other.host):
                    raise Refusal("two bricks of one replica set are on the same server",
                                  "%s and %s" % (brick.spec, other.spec), "replica %d" % replica,
                                  "Order the bricks so that every %d consecutive bricks are on different nodes." % replica)


def _check_options(state, wanted):
    missing = sorted(name for name, options in state.groups.items() if options is None)
    if missing:
        raise Refusal("unknown option group", ", ".join(missing), "option_groups",
                      "Use a group file that exists in %s on this node (e.g. virt)." % GROUPS_DIR)
    unknown = sorted(key for key in wanted if key not in state.known_options and not key.startswith("user."))
    if unknown:
        raise Refusal("unknown volume option", ", ".join(unknown), "options",
                      "Check the key with `gluster volume set help` (custom keys start with 'user.'); nothing was changed.")
    # gluster checks values only in `volume set`, which needs the volume: for a new one a value it refuses
    # would come after the create (the volume made, its id on every brick). Numbers are checked here.
    not_numbers = sorted(key for key, value in wanted.items()
                         if _takes_number(state.option_defaults.get(key)) and not NUMERIC_VALUE.match(value))
    if not_numbers:
        raise Refusal("volume option values are not numbers", ", ".join("%s=%s" % (key, wanted[key]) for key in not_numbers),
                      "options of a new volume: %s" % ", ".join("%s takes a number or size (default %s)" % (key, state.option_defaults[key])
                                                                for key in not_numbers),
                      "Give a number or a size such as 64MB (see `gluster volume set help`); nothing was created.")


def _check_open_to_any_client(params, wanted):
    """An open volume is a choice said twice: the entry that admits everyone, and allow_any_client."""
    opened = open_entries(wanted.get("auth.allow", ""))
    if opened and not params.get("allow_any_client"):
        source = "auth_allow" if params.get("auth_allow") else "options (auth.allow)"
        raise Refusal("auth.allow would admit any client", ", ".join(repr(entry) for entry in opened),
                      "%s of volume %s, without allow_any_client" % (source, params["name"]),
                      "Every host that reaches the nodes could mount the volume and read or write its disks. List the "
                      "hypervisors' addresses (e.g. 192.0.2.21, or 192.0.2.* for one network) and the nodes, or set "
                      "allow_any_client: true to open the volume on purpose; nothing was changed.")


def _takes_number(default):
    return default not in (None, "0", "1") and bool(NUMERIC_DEFAULT.match(default))


def _check_reachable(state):
    if state.unreachable:
        hosts = sorted(state.unreachable)
        raise Refusal("brick hosts do not answer", "; ".join("%s: %s" % (host, state.unreachable[host]) for host in hosts),
                      "bricks on %s, which must be probed into the trusted pool" % ", ".join(hosts),
                      "Check that the names resolve on every node, that glusterd runs there and that port %d is reachable "
                      "from this node; nothing was probed or created." % GLUSTERD_PORT)


def _check_local_brick_paths(state, name, bricks):
    """glusterd's own checks of a new brick, made first for this node's bricks: it refuses a mount point
    and the root filesystem without 'force' (the latter after creating and removing the directory).

    Returns the refusal for bricks whose path does not exist yet on the root filesystem: their own
    filesystem may still come from an earlier task (btrfs_brick), so plan() raises it as a
    MissingPrerequisite once it knows the actions a check run should predict."""
    for brick in bricks:
        local = state.local_paths.get(brick.path) if brick.host in state.local_hosts else None
        if local is not None and local.mount_point:
            raise Refusal("a brick cannot be a mount point", "%s is a mount point" % brick.spec, "brick %s of volume %s" % (brick.spec, name),
                          "Use a subdirectory of the mounted filesystem, e.g. %s/data (glusterd creates it); this module never "
                          "passes 'force'." % brick.path.rstrip("/"))
        if local is not None and local.on_root_fs:
            refusal = ("a brick cannot be on the root filesystem", "%s lies on the root filesystem of %s" % (brick.spec, brick.host),
                       "brick %s of volume %s" % (brick.spec, name),
                       "Mount the brick's own filesystem there first (e.g. vmstorage.gluster.btrfs_brick) and use a "
                       "subdirectory of it; this module never passes 'force'.")
            if local.exists:
                raise Refusal(*refusal)
            return refusal
    return None


def _same_brick(state, first, second):
    return first.path == second.path and state.same_host(first.host, second.host)


def _brick_growth(state, volume, bricks, params):
    """The bricks to add to an existing volume (possibly none), or a Refusal."""
    replica = params["replica"]
    if volume.replica != replica or bool(volume.arbiter) != params["arbiter"]:
        raise Refusal("the volume has another replica layout", "replica %d, arbiter %d" % (volume.replica, volume.arbiter),
                      "replica %d, arbiter %d" % (replica, int(params["arbiter"])),
                      "This module does not convert volumes; keep the layout the volume was created with.")
    current = volume.bricks
    if len(bricks) < len(current):
        raise Refusal("fewer bricks than the volume has", ", ".join(brick.spec for brick in current),
                      ", ".join(brick.spec for brick in bricks),
                      "This module never removes bricks (data would move or be lost); list all existing bricks, "
                      "then the new ones, or use `gluster volume remove-brick` by hand.")
    for start in range(0, len(current), replica):
        have, want = current[start:start + replica], bricks[start:start + replica]
        if not all(any(_same_brick(state, brick, other) for other in want) for brick in have):
            raise Refusal("the existing bricks differ from the bricks asked for",
                          ", ".join(brick.spec for brick in have), ", ".join(brick.spec for brick in want),
                          "List the existing bricks first, replica set by replica set as `gluster volume info %s` shows them; "
                          "new bricks go after them. Bricks are never replaced or removed." % volume.name)
    return bricks[len(current):]


def _check_no_foreign_clients(state, name):
    """A volume is not stopped or deleted under a client that is not one of its nodes (a hypervisor that
    still runs the VM): the nodes' own clients (self-heal daemons, the collection's mounts) are theirs."""
    own = {"127.0.0.1", "::1"}.union(*state.host_names.values()) if state.host_names else {"127.0.0.1", "::1"}
    foreign = sorted(address for address in state.clients if address not in own)
    if foreign:
        raise Refusal("the volume has clients other than its nodes", "volume %s is mounted or open from %s" % (name, ", ".join(foreign)),
                      "volume %s stopped and deleted" % name,
                      "Shut the VM down (or move its disk) and unmount the volume on those hosts, then run again; nothing was changed.")


def _known_peer(state, host):
    return any(state.same_host(host, name) for peer in state.peers for name in peer.hostnames)


def _offline_bricks(volume):
    """The bricks of a started volume whose brick process does not run."""
    return [brick for brick in volume.bricks if brick.online is False] if volume is not None else []


def _on_connected_node(state, brick):
    return brick.host in state.local_hosts or any(
        peer.connected and any(state.same_host(brick.host, name) for name in peer.hostnames) for peer in state.peers)


def _brick_start_action(state, name):
    """`volume start NAME force` for the offline bricks of this node, once their directories were seen:
    glusterd starts the missing brick processes (and self-heal daemons) and leaves running ones and the
    data alone; self-heal then copies what the brick missed.

    Only this node's bricks: `start force` also writes the volume id into a brick directory that lacks
    it (lab, glusterfs 10.3), so a blank directory on a new filesystem (a dead disk replaced) would start
    as an empty brick that no heal fills, while heal info shows nothing to do. Run on the brick's node,
    the module sees the directory first: a blank one is made a member with reset-brick and a full heal
    (_reset_brick_actions), a brick process left without a port is ended first. Offline bricks of other
    nodes are named in a warning (the volume role runs the module on their nodes)."""
    offline = [brick for brick in _offline_bricks(state.volume) if brick.host in state.local_hosts]
    blank = [brick for brick in offline if _blank_local(state, brick)]
    actions = _reset_brick_actions(state, name, blank)
    down = [brick for brick in offline if brick not in blank]
    if not down:
        return actions
    specs = [brick.spec for brick in down]
    for brick in down:
        if brick.portless_pid is not None:
            actions.append(Action(Kind.END_PORTLESS_BRICK, "end brick process %d of %s, which runs without a port (no client can "
                                  "reach it), so that it can be started again" % (brick.portless_pid, brick.spec),
                                  pid=brick.portless_pid, path=brick.path))
    return actions + [Action(Kind.START_BRICKS, "start the offline bricks of %s: %s" % (name, " ".join(specs)),
                             gluster_argv("volume", "start", name, "force"), bricks=specs)]


def _blank_local(state, brick):
    found = state.brick_dirs.get(brick.spec)
    return found is not None and found.volume_id is None and brick.portless_pid is None


def _reset_brick_actions(state, name, blank):
    """reset-brick for this node's offline bricks without a volume id, then one full heal; or a Refusal
    when that is not safe: the directory holds files or is not on its own filesystem, a partner copy is
    offline, or the partners have entries in split-brain (the new brick would be healed from a copy
    that may be the wrong one)."""
    volume, actions = state.volume, []
    for brick in blank:
        found = state.brick_dirs[brick.spec]
        asked = "brick %s of volume %s back as a member (reset-brick, then a full heal)" % (brick.spec, name)
        if found.exists and not found.is_dir:
            raise Refusal("the brick path is not a directory", "%s is a symlink or a file" % brick.path, asked,
                          "Move it away and make the brick directory (vmstorage.gluster.btrfs_brick, or the site's bricks play); "
                          "nothing was changed.")
        if not found.is_dir or found.on_root_fs:
            raise Refusal("the brick's filesystem is not there", "%s is %s" % (
                brick.path, "missing" + (", its nearest parent on the root filesystem" if found.on_root_fs else "")
                if not found.exists else "on the root filesystem"), asked,
                "Make the brick's filesystem, mount it and make the brick directory first (vmstorage.gluster.btrfs_brick, or the "
                "site's bricks play), so that glusterd never writes the brick into the root filesystem; nothing was changed.")
        if found.entries:
            raise Refusal("the brick directory holds files but no volume id", "%s holds %s" % (brick.path, ", ".join(found.entries)),
                          asked, "Only an empty directory is made a member again. Move its files away (heal brings the "
                          "volume's content back from the other copies), then run again; nothing was changed.")
        index = volume.bricks.index(brick)
        start = index - index % volume.replica
        partners = [other for other in volume.bricks[start:start + volume.replica] if other is not brick]
        offline = [other.spec for other in partners if not other.online]
        if offline:
            raise Refusal("the other copies of the brick are not all online", "offline: %s" % ", ".join(offline), asked,
                          "Bring them online first (`gluster volume status %s`): the new brick is filled from them; nothing "
                          "was changed." % name)
        split = {other.spec: (state.heal or {}).get(other.spec) for other in partners}
        unread = [spec for spec, counts in split.items() if counts is None or counts.split_brain is None]
        in_split = ["%s: %d" % (spec, counts.split_brain) for spec, counts in split.items() if counts is not None and counts.split_brain]
        if unread or in_split:
            raise Refusal("the other copies may disagree", "entries in split-brain %s" % ", ".join(in_split) if in_split else
                          "heal info could not read %s" % ", ".join(unread), asked,
                          "Resolve the split-brain first (`gluster volume heal %s info split-brain`, then `gluster volume heal "
                          "%s split-brain ...`); nothing was changed." % (name, name))
        actions += [
            Action(Kind.RESET_BRICK, "take brick %s of %s out for reset-brick (a new, empty directory: no volume id, no files)"
                   % (brick.spec, name), gluster_argv("volume", "reset-brick", name, brick.spec, "start"), bricks=[brick.spec]),
            Action(Kind.RESET_BRICK, "make brick %s of %s a member again (reset-brick commit force)" % (brick.spec, name),
                   gluster_argv("volume", "reset-brick", name, brick.spec, brick.spec, "commit", "force"), bricks=[brick.spec]),
        ]
    if actions:
        actions.append(Action(Kind.HEAL_FULL, "full heal of %s: the reset bricks are filled from their partners" % name,
                              gluster_argv("volume", "heal", name, "full")))
    return actions


def _probe_actions(state, bricks):
    actions = []
    for host in dict.fromkeys(brick.host for brick in bricks):
        if host in state.local_hosts:
            continue
        if not _known_peer(state, host):
            actions.append(Action(Kind.PROBE, "probe peer %s" % host, gluster_argv("peer", "probe", host), host=host))
    return actions


def _option_action(volume_name, state, wanted):
    """One `volume set` with every differing key: gluster validates all pairs before it commits any."""
    current = state.options or {}
    changes = [(key, value) for key, value in wanted.items()
               if key not in current or not option_values_equal(current[key], value)]
    if not changes:
        return []
    argv = gluster_argv("volume", "set", volume_name)
    described = []
    for key, value in changes:
        argv += [key, value]
        described.append("%s=%s (was %s)" % (key, value, current[key]) if key in current else "%s=%s" % (key, value))
    return [Action(Kind.SET_OPTIONS, "set options on %s: %s" % (volume_name, ", ".join(described)), argv,
                   keys=[key for key, _value in changes])]


def _layout_argv(params, bricks):
    """``replica N [arbiter 1] BRICK...``: create and add-brick both say the layout (gluster needs it on add-brick)."""
    layout = ["replica", str(params["replica"])] + (["arbiter", "1"] if params["arbiter"] else [])
    return layout + [brick.spec for brick in bricks]


def plan(state: ClusterState, params: t.Mapping[str, t.Any]) -> t.List[Action]:
    bricks = wanted_bricks(params) if params["state"] != "absent" else []
    _check_request(params, bricks)
    name, volume = params["name"], state.volume
    if params["state"] == "absent":
        if volume is None:
            return []
        require_danger_flag(params.get("allow_delete", False), "allow_delete", "delete a volume", "volume %s (%s, %s, bricks %s)" % (
            name, volume.type, volume.status, " ".join(brick.spec for brick in volume.bricks)), "state=absent",
            "its clients lose it at once, and its brick directories keep the files but can make no new volume")
        _check_no_foreign_clients(state, name)
        actions = [Action(Kind.STOP, "stop volume %s" % name, gluster_argv("volume", "stop", name))] if volume.started else []
        return actions + [Action(Kind.DELETE, "delete volume %s (brick directories and their data stay)" % name,
                                 gluster_argv("volume", "delete", name))]
    _check_replica_sets(state, bricks, params["replica"])
    wanted = wanted_options(state.groups, params, new_volume=volume is None)
    _check_open_to_any_client(params, wanted)
    _check_options(state, wanted)
    _check_reachable(state)
    actions = _probe_actions(state, bricks)
    started = volume is not None and volume.started
    if volume is None:
        not_there_yet = _check_local_brick_paths(state, name, bricks)
        actions.append(Action(Kind.CREATE, "create volume %s: replica %d%s, bricks %s" % (
            name, params["replica"], " arbiter 1" if params["arbiter"] else "", " ".join(brick.spec for brick in bricks)),
            gluster_argv("volume", "create", name, *_layout_argv(params, bricks))))
    else:
        new_bricks = _brick_growth(state, volume, bricks, params)
        not_there_yet = _check_local_brick_paths(state, name, new_bricks)
        if new_bricks:
            actions.append(Action(Kind.ADD_BRICK, "add bricks to %s: %s" % (name, " ".join(brick.spec for brick in new_bricks)),
                                  gluster_argv("volume", "add-brick", name, *_layout_argv(params, new_bricks))))
    actions += _option_action(name, state, wanted)
    if params["state"] == "started" and not started:
        actions.append(Action(Kind.START, "start volume %s" % name, gluster_argv("volume", "start", name)))
    elif params["state"] == "stopped" and started:
        actions.append(Action(Kind.STOP, "stop volume %s" % name, gluster_argv("volume", "stop", name)))
    elif params["state"] == "started":
        actions += _brick_start_action(state, name)
    if not_there_yet:
        raise MissingPrerequisite(*not_there_yet, predicted=actions)
    return actions


# ---------------------------------------------------------------- apply

def _not_ready_in(state, peers, hosts):
    """The hosts that this pool view does not show as connected peers in the cluster."""
    return [host for host in hosts
            if not any(peer.ready and any(state.same_host(host, name) for name in peer.hostnames) for peer in peers)]


def _wait_for_peers(runner, state, bricks, deadline, purpose):
    """Poll until every brick host is a connected peer in the cluster, in this node's view and in every
    other brick host's (`--remote-host`), or fail at the deadline.

    This node's view alone is not enough: right after a probe it showed every peer in cluster while
    node2 did not yet see node3, and `volume create` then failed in staging ("Staging failed on node2.
    Error: Host node3 not connected"), leaving the new volume's id on the brick directories.
    """
    all_hosts = list(dict.fromkeys(brick.host for brick in bricks))
    hosts = [host for host in all_hosts if host not in state.local_hosts]

    def attempt():
        peers = parse_pool(_query(runner, deadline, "pool", "list", fresh=True))
        waiting = _not_ready_in(state, peers, hosts)
        for remote in [] if waiting else hosts:
            remote_peers = parse_pool(_query(runner, deadline, "--remote-host=%s" % remote, "pool", "list", fresh=True))
            others = [host for host in all_hosts if not state.same_host(host, remote)]
            waiting += ["%s (as %s sees it)" % (host, remote) for host in _not_ready_in(state, remote_peers, others)]
        return peers, waiting

    peers, waiting = retry(attempt, lambda outcome: bool(outcome[1]), deadline, POLL_INTERVAL)
    if waiting:
        seen = "; ".join("%s: %s, %s" % ("/".join(peer.hostnames), peer.state, "connected" if peer.connected else "disconnected")
                         for peer in peers if not peer.is_self)
        raise PeersNotReady("peers %s not connected and in the cluster by the deadline: found pool %s; asked for %s. "
                            "Check that glusterd runs there (`systemctl start glusterd`) and that port %d is reachable; "
                            "raise peer_timeout for slow nodes." % (", ".join(waiting), seen or "empty", purpose, GLUSTERD_PORT))


def _explained(err, action):
    if action.kind == Kind.SET_OPTIONS:
        # Proven in the lab: a bad value anywhere in one `volume set` leaves every key of it unchanged.
        return GlusterError(err, "gluster checks every value of one `volume set` before it changes any, so none of %s "
                            "changed. Fix the value (see `gluster volume set help`)." % ", ".join(action.params["keys"]))
    text = (err.stderr or "") + (err.stdout or "")
    for needle, explanation in BRICK_REFUSALS:
        if needle in text:
            return GlusterError(err, explanation)
    return err


def apply(runner: CommandRunner, state: ClusterState, params: t.Mapping[str, t.Any], actions: t.List[Action]) -> None:
    deadline = Deadline("peer_timeout", params["peer_timeout"])
    bricks = wanted_bricks(params) if params["state"] != "absent" else []
    peers_checked = False
    for action in actions:
        if action.kind in (Kind.CREATE, Kind.ADD_BRICK) and not peers_checked:
            _wait_for_peers(runner, state, bricks, deadline, action.summary)
            peers_checked = True
        if action.kind == Kind.END_PORTLESS_BRICK:
            _end_brick_process(action.params["pid"], action.params["path"])
            continue
        try:
            # right after reset-brick the self-heal daemons restart: `heal full` is refused until they run
            _run_change(runner, action.argv, deadline, transient=HEAL_NOT_READY if action.kind == Kind.HEAL_FULL else ())
        except CommandError as err:
            raise _explained(err, action) from err


def _end_brick_process(pid, path):
    """SIGTERM to a brick process of this node and wait until it is gone. Checked first: the PID must still
    be glusterfsd serving ``path`` (a PID read a moment ago may be gone, or taken by another process)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return  # it ended by itself
    if not argv or not os.path.basename(argv[0]).startswith(b"glusterfsd") or path.encode() not in argv:
        return
    os.kill(pid, 15)
    retry(lambda: os.path.exists("/proc/%d" % pid), bool, Deadline("brick process exit", BRICK_EXIT_TIMEOUT), 0.2)


def _run_change(runner, argv, deadline, transient=()):
    """Run a cluster change, retried until ``deadline`` while another transaction holds the cluster lock
    (or while its output says one of ``transient``)."""
    busy = CLUSTER_LOCK_BUSY + tuple(transient)
    result = retry(lambda: runner.run(argv, check=False),
                   lambda result: result.rc != 0 and any(needle in result.stderr + result.stdout for needle in busy),
                   deadline, POLL_INTERVAL)
    if result.rc != 0:
        raise CommandError(result.argv, result.rc, result.stdout, result.stderr)


# ---------------------------------------------------------------- report

def _view(volume, options, keys):
    """The diff view: what the module manages."""
    if volume is None:
        return {"state": "absent", "bricks": [], "offline_bricks": [], "options": {}}
    return {
        "state": "started" if volume.started else "stopped",
        "bricks": [brick.spec for brick in volume.bricks],
        "offline_bricks": [brick.spec for brick in _offline_bricks(volume)],
        "options": {key: (options or {}).get(key) for key in keys},
    }


def _predicted_view(state, params, actions, keys):
    """Check mode: the view a real run would leave, built from the plan."""
    if params["state"] == "absent":
        return _view(None, None, keys)
    view = _view(state.volume, state.options, keys)
    wanted = wanted_options(state.groups, params, new_volume=state.volume is None)
    if any(action.kind == Kind.SET_OPTIONS for action in actions):
        view["options"] = {key: wanted[key] for key in keys}
    view["bricks"] = [brick.spec for brick in wanted_bricks(params)] if state.volume is None else (
        view["bricks"] + [brick.spec for brick in _brick_growth(state, state.volume, wanted_bricks(params), params)])
    if params["state"] != "present":
        view["state"] = params["state"]
    elif state.volume is None:
        view["state"] = "stopped"  # gluster creates volumes stopped
    started = [spec for action in actions if action.kind in (Kind.START_BRICKS, Kind.RESET_BRICK) for spec in action.params["bricks"]]
    view["offline_bricks"] = [spec for spec in view["offline_bricks"] if spec not in started] if view["state"] == "started" else []
    return view


def _offline_warning(state, name, spec):
    brick = next(brick for brick in state.volume.bricks if brick.spec == spec)
    if brick.host in state.local_hosts:
        advice = ("`gluster volume start %s force` (what state started runs) did not bring it up; see the brick's log in "
                  "/var/log/glusterfs/bricks/ on this node." % name)
    elif _on_connected_node(state, brick):
        portless = "; glusterd lists its process %d without a port" % brick.portless_pid if brick.portless_pid is not None else ""
        advice = ("its node %s is connected: run this module there (the volume role does), which starts it after looking at "
                  "its directory (a blank one, on a new filesystem, is made a member with reset-brick and healed; a process "
                  "left without a port is ended first)%s." % (brick.host, portless))
    else:
        advice = "its node %s is not connected to the pool: start it, or its glusterd; self-heal then copies what it missed." % brick.host
    return "brick %s of volume %s is offline, so the volume runs on fewer copies; %s" % (spec, name, advice)


def _open_volume_warning(before, params, keys):
    """An existing volume that admits any client and that this run is not asked to restrict.

    Only a warning: setting auth.allow on a running volume cuts off at once every client it does not
    list (the hypervisors running its VM among them), and the module cannot know them. Under TLS the
    certificate decides (auth.ssl-allow), so such a volume is not open."""
    volume = before.volume
    if volume is None or params["state"] == "absent" or params.get("allow_any_client") or "auth.allow" in keys:
        return None
    options = volume.reconfigured
    if option_values_equal(options.get("server.ssl", "off"), "on"):
        return None
    current = options.get("auth.allow")
    if current is not None and not open_entries(current):
        return None
    return ("volume %s admits any client (auth.allow %s): every host that reaches the nodes can mount it and read or "
            "write its disks. It was left so, since changing auth.allow on a running volume cuts off every client it "
            "does not list. Set auth_allow to the hypervisors' and the nodes' addresses (or allow_any_client: true to "
            "keep it open on purpose)." % (volume.name, current if current is not None else "unset, gluster's default *"))


def report(runner: CommandRunner, before: ClusterState, after: t.Optional[ClusterState], params: t.Mapping[str, t.Any],
           actions: t.List[Action]) -> t.Dict[str, t.Any]:
    keys = sorted(wanted_options(before.groups, params, new_volume=before.volume is None)) if params["state"] != "absent" else []
    before_view = _view(before.volume, before.options, keys)
    if after is None:
        after_view = _predicted_view(before, params, actions, keys)
        shown = before
    else:
        after_view = _view(after.volume, after.options, keys)
        shown = after
    result = {
        "volume": shown.volume.as_dict() if shown.volume is not None else None,
        "peers": [peer.as_dict() for peer in shown.peers],
        "diff": {"before": before_view, "after": after_view},
    }
    if before.volume is not None and before.volume.settle is not None:
        # what the brick window saw (a play right after a glusterd restart): shows it was needed and used
        result["bricks_settle"] = dict(before.volume.settle)
    warnings = [_offline_warning(shown, params["name"], spec) for spec in after_view["offline_bricks"]]
    open_warning = _open_volume_warning(before, params, keys)
    if open_warning:
        warnings.append(open_warning)
    if any(action.kind == Kind.ADD_BRICK for action in actions):
        warnings.append("bricks were added to %s; existing files stay where they are until you run "
                        "`gluster volume rebalance %s start`" % (params["name"], params["name"]))
    if warnings:
        result["warnings"] = warnings
    return result
