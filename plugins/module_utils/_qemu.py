# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""VM disk images on gluster volumes: observe through a short-lived FUSE mount, plan, apply.

Why a FUSE mount for everything but the creation itself: every gfapi open/close (``qemu-img info
gluster://...``) costs ~10 s in glfs_fini, a FUSE mount ~2 s and ``qemu-img info`` on it ~0.2 s;
a FUSE file also honours qemu's image locks, so growing an image that a running VM holds fails
cleanly instead of corrupting it. One mount (read-only in check mode) serves observe, apply and
the re-observe of a run and is always unmounted at the end.

Why images are never created under their final name: qemu-img create truncates an existing file
(the gluster driver opens with O_TRUNC). Creation and import write a new file next to the image
and hard-link it into place, which fails instead of replacing a file that appeared meanwhile; an
interrupted run leaves no half image under the final name.

Why no path on the volume is ever followed: every client of the volume writes its content, and this
module runs as root on a storage node. A client that planted a symlink where the module writes
would have it overwrite any file of the node. So the image's directory is walked from the mount
root with O_NOFOLLOW (a symlinked or missing part is refused or made), the new file is created
there exclusively under an unpredictable name (``.<name>.<random>.vmstorage-partial``), and
qemu-img writes to /proc/self/fd/N of that descriptor (FUSE): renaming or replacing the name meanwhile
cannot redirect the write. Through gfapi (which resolves symlinks inside the volume only) qemu-img
writes by name, so the name must still be that file afterwards. The file is linked into place from
the descriptor (linkat cannot leave the volume's filesystem) and only the module's own partial file
is removed. Growing, ownership and deletion work on descriptors opened the same way.

Why qemu-img never probes what a guest wrote: a raw disk's guest can write a qcow2 header naming a
backing file (any file of the node). An existing image's format is read from its magic (qcow2, qed,
else raw) and passed with -f, and a qcow2/qed header naming another file (backing or external data
file) is refused before qemu-img opens it. An import source's format is probed once, its other
files refused unless allow_source_backing_file, and converted with -f of that format.

Why a re-run usually mounts nothing: the mount costs ~2 s per volume (CPU, in the glusterfs client),
which a run over many VMs pays per VM. Before mounting, observe takes a quick look at the image on
this node's own brick of the volume (volume started, brick process online, no AFR pending or dirty
mark on the file) and reads its qcow2/qed header. That look is trusted for one conclusion only:
the image is there as asked and nothing needs doing. Anything else (no local brick, another
format, a size to grow, an owner to set, any doubt) falls back to the FUSE mount, whose view is
the one every action and refusal is based on.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import socket
import stat
import struct
import tempfile
import typing as t

from ansible_collections.vmstorage.gluster.plugins.module_utils._constants import (
    GLUSTERD_PORT, MOUNT_RETRY_INTERVAL, MOUNT_SETTLE_TIME, PORT_PROBE_TIMEOUT)
from ansible_collections.vmstorage.gluster.plugins.module_utils._gluster import VOLUME_NAME_RULE, local_online_brick, valid_volume_name
from ansible_collections.vmstorage.gluster.plugins.module_utils._nofollow import Blocked, kind_in, kind_of, walk_directories
from ansible_collections.vmstorage.gluster.plugins.module_utils._ids import gid_of, uid_of
from ansible_collections.vmstorage.gluster.plugins.module_utils._kinds import Kind
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Action, MissingPrerequisite, Refusal, require_danger_flag
from ansible_collections.vmstorage.gluster.plugins.module_utils._retry import Deadline, retry
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner
from ansible_collections.vmstorage.gluster.plugins.module_utils._units import format_size, parse_size

SECTOR_SIZE = 512
PARTIAL_SUFFIX = ".vmstorage-partial"
# qemu-img's error when another process (a running VM's qemu) holds the image's write lock
WRITE_LOCK_HELD = 'Failed to get "write" lock'
# Right after glusterd (re)starts (Debian's unit restarts the bricks with it), a client mount finds the
# bricks down or their ports not yet known to glusterd, and the client log says so: tried again for
# MOUNT_SETTLE_TIME (_constants).
BRICKS_STARTING = ("failed to get the port number for remote subvolume", "All subvolumes are down")
# Which preallocation modes qemu-img accepts per image format (qed has none).
PREALLOCATION_BY_FORMAT = {
    "qcow2": ("off", "metadata", "falloc", "full"),
    "raw": ("off", "falloc", "full"),
    "qed": (),
}
# Host names and IPv4 addresses; ':' and ',' would break the mount's backup-volfile-servers list.
SERVER_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")
# One part of an image path. The path goes into gluster:// URIs, qemu's json: filename and option
# strings (',' separates options) and the libvirt XML: no spaces, no shell, URI or XML specials.
IMAGE_PATH_PART = re.compile(r"^[A-Za-z0-9._+@=-]+$")


class Request:
    """The module parameters, checked and normalised; invalid input raises Refusal."""

    def __init__(self, params):
        self.volume = params["volume"]
        self.path = params["image_path"]
        self.nodes = list(params["nodes"])
        self.port = params["port"]
        self.format = params["format"]
        self.preallocation = params["preallocation"]
        self.state = params["state"]
        self.source = params["source"]
        self.source_format = params["source_format"]
        self.access = params["access"]
        self.owner = params["owner"]
        self.group = params["group"]
        self.allow_delete = params["allow_delete"]
        self.allow_source_backing_file = params["allow_source_backing_file"]
        self.size = self._parse_size(params["size"])
        self._check()

    def _parse_size(self, text):
        if text is None:
            return None
        try:
            size = parse_size(text, "size")
        except ValueError as exc:
            raise Refusal("size is not understood", repr(text), "an image size", "%s." % exc) from exc
        if size % SECTOR_SIZE:
            raise Refusal(
                "size is not a multiple of 512 bytes", "%d bytes" % size, "size=%s" % text,
                "qemu rounds images to 512-byte sectors; give a size like 50G or a multiple of 512B.",
            )
        return size

    def _check(self):
        if not valid_volume_name(self.volume):
            raise Refusal(
                "invalid volume name", repr(self.volume), "a gluster volume name",
                "Use the volume's name as `gluster volume list` shows it (%s)." % VOLUME_NAME_RULE,
            )
        self._check_path()
        if not self.nodes:
            raise Refusal("no volfile server", "nodes=[]", "at least one server", "List the gluster nodes, primary first.")
        for server in self.nodes:
            if not SERVER_NAME.match(server):
                raise Refusal(
                    "invalid server name", repr(server), "a host name or IPv4 address",
                    "Give plain host names (the port goes in `port`; IPv6 literals are not supported).",
                )
        allowed = PREALLOCATION_BY_FORMAT[self.format]
        if self.preallocation is not None and self.preallocation not in allowed:
            raise Refusal(
                "preallocation not supported by this format", "format=%s" % self.format, "preallocation=%s" % self.preallocation,
                "Use one of %s for %s, or leave preallocation unset." % (", ".join(allowed), self.format) if allowed
                else "%s images take no preallocation: leave it unset." % self.format,
            )

    def _check_path(self):
        parts = self.path.split("/")
        if self.path.startswith("/") or "\0" in self.path or any(part in ("", ".", "..") for part in parts):
            raise Refusal(
                "path escapes or is not a plain path inside the volume", repr(self.path), "a file inside volume %s" % self.volume,
                "Give the path relative to the volume root without '.', '..', empty or leading '/' parts, e.g. images/vm1.qcow2.",
            )
        if not all(IMAGE_PATH_PART.match(part) for part in parts):
            raise Refusal(
                "the path has characters a disk path cannot carry", repr(self.path), "a file inside volume %s" % self.volume,
                "Use letters, digits and . _ + @ = - between the '/' (spaces, shell, URI and XML special characters would "
                "break the gluster:// URI, the json: filename or the libvirt XML); nothing was created.",
            )

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def parents(self) -> t.List[str]:
        """The directories of the path, from the volume root down."""
        return self.path.split("/")[:-1]

    def location(self) -> str:
        return "%s/%s" % (self.volume, self.path)

    def describe(self) -> str:
        if self.source:
            what = "%s image imported from %s" % (self.format, self.source)
        else:
            what = "%s image of %s" % (self.format, format_size(self.size) if self.size else "unspecified size")
        return "%s at %s/%s" % (what, self.volume, self.path)


class ImageInfo:
    """What ``qemu-img info --output=json`` (or a qcow2/qed header) says about one image.

    ``others`` names the files besides itself that qemu reads for it (backing file, external data
    file, vmdk extents): anything on the node, as a crafted image chooses."""

    __slots__ = ("format", "virtual_size", "actual_size", "backing_file", "others")

    def __init__(self, image_format, virtual_size, actual_size=None, backing_file=None, others=()):
        self.format = image_format
        self.virtual_size = virtual_size
        self.actual_size = actual_size
        self.backing_file = backing_file
        self.others = list(others)

    @classmethod
    def from_info(cls, data: t.Mapping[str, t.Any]) -> "ImageInfo":
        """From the parsed ``qemu-img info --output=json`` of one image."""
        return cls(data["format"], int(data["virtual-size"]), data.get("actual-size"), data.get("backing-filename"),
                   other_files(data))

    def describe(self) -> str:
        return "%s image of %s (%d bytes)" % (self.format, format_size(self.virtual_size), self.virtual_size)


# qemu has no machine-readable driver list and ``qemu-img --help`` names module drivers even when
# their module is not installed; opening the driver without options answers at once either way.
GLUSTER_DRIVER_PROBE = ["qemu-img", "info", "--image-opts", "driver=gluster"]


def other_files(data: t.Mapping[str, t.Any]) -> t.List[str]:
    """The files besides itself that qemu reads for an image, from its ``qemu-img info --output=json``."""
    found = []
    if data.get("backing-filename"):
        found.append("backing file %s" % data["backing-filename"])
    specific = (data.get("format-specific") or {}).get("data") or {}
    if specific.get("data-file"):
        found.append("external data file %s" % specific["data-file"])
    for extent in specific.get("extents") or []:
        if extent.get("filename") not in (None, data.get("filename")):
            found.append("extent %s" % extent["filename"])
    return found


def read_image_info(runner: CommandRunner, argv: t.List[str], pass_fds: t.Sequence[int] = ()) -> ImageInfo:
    """ImageInfo from a ``qemu-img info --output=json`` command.

    With ``pass_fds`` the image is /proc/self/fd/N, a name the next image may reuse: asked afresh."""
    if pass_fds:
        runner.forget(argv)
    return ImageInfo.from_info(runner.query_json(argv, pass_fds=pass_fds))


def gluster_driver_present(probe_stderr: str) -> bool:
    """Whether qemu-img loaded its gluster driver, from the stderr of GLUSTER_DRIVER_PROBE."""
    return "Unknown driver 'gluster'" not in probe_stderr


def parse_mount_errors(log_text: str) -> t.List[str]:
    """The error lines of a glusterfs client log, without their timestamps and source locations."""
    errors = []
    for line in log_text.splitlines():
        match = re.match(r"^\[[^\]]*\] E (?:\[[^\]]*\] )+[^ ]+: (.*)$", line)
        if match and match.group(1) not in errors:
            errors.append(match.group(1))
    return errors


class ImageState:
    """The observed node: the image at the path, its directories, the source, the access route."""

    def __init__(self, mountpoint=None, mount_error=None):
        self.mountpoint = mountpoint
        self.mount_error = mount_error
        self.kind = None  # None (missing), "file", "directory", "symlink", "other"
        self.image = None
        self.uid = None
        self.gid = None
        self.missing_dirs = []
        self.blocked_by = None  # a parent component that is a symlink or not a directory
        self.wanted_uid = None
        self.wanted_gid = None
        self.id_error = None
        self.source = None
        self.source_error = None
        self.gfapi = None  # qemu-img has the gluster driver (only looked at when it matters)
        self.volfile_server = None  # the first server that answered on the glusterd port
        self.capacity = None  # bytes the volume can hold (statvfs of the mount or of this node's brick)

    @property
    def exists(self) -> bool:
        return self.kind is not None


def resolve_access(request: Request, state: ImageState) -> str:
    """'gfapi' or 'fuse': the route qemu-img takes to create or import the image."""
    if request.access == "auto":
        return "gfapi" if state.gfapi else "fuse"
    return request.access


def gluster_uri(request: Request, server: str, path: str) -> str:
    port = "" if request.port == GLUSTERD_PORT else ":%d" % request.port
    return "gluster://%s%s/%s/%s" % (server, port, request.volume, path)


def _gluster_file_node(request):
    """The gluster protocol node of qemu's json:/-blockdev forms, with every server for failover."""
    servers = [{"type": "inet", "host": server, "port": str(request.port)} for server in request.nodes]
    return {"driver": "gluster", "volume": request.volume, "path": request.path, "server": servers}


def blockdev_spec(request: Request) -> t.Dict[str, t.Any]:
    """The qemu -blockdev spec: the format node over the gluster file node."""
    node = re.sub(r"[^A-Za-z0-9_-]", "_", "%s-%s" % (request.volume, request.path))[:31]
    return {"node-name": node, "driver": request.format, "file": _gluster_file_node(request)}


def json_filename(request: Request) -> str:
    return "json:" + json.dumps({"driver": request.format, "file": _gluster_file_node(request)}, separators=(",", ":"))


def libvirt_disk_xml(request: Request) -> str:
    hosts = "".join("<host name='%s' port='%d'/>" % (server, request.port) for server in request.nodes)
    return (
        "<disk type='network' device='disk'><driver name='qemu' type='%s'/>"
        "<source protocol='gluster' name='%s/%s'>%s</source><target dev='vda' bus='virtio'/></disk>"
        % (request.format, request.volume, request.path.replace("&", "&amp;").replace("'", "&apos;"), hosts)
    )


def _refuse_unusable(request, state):
    """Refusals that hold whatever the requested state: unreachable volume, odd path."""
    if state.mount_error is not None:
        predicted = [] if request.state == "absent" else [Action(Kind.CREATE, "create %s once volume %s exists" % (request.describe(), request.volume))]
        raise MissingPrerequisite(
            "cannot mount the volume", state.mount_error, "volume %s from %s" % (request.volume, ", ".join(request.nodes)),
            "Check that the volume exists and is started (`gluster volume info %s`), that a listed server runs glusterd, "
            "and that this node resolves every brick host." % request.volume, predicted,
        )
    if state.blocked_by is not None:
        raise Refusal(
            "a parent of the path is not a plain directory", "%s is %s" % state.blocked_by, "path %s" % request.path,
            "Images stay inside the volume: use a path whose parents are real directories (no symlinks).",
        )
    if state.kind in ("directory", "symlink", "other"):
        raise Refusal(
            "the path is not a regular file", "a %s at %s/%s" % (state.kind, request.volume, request.path), request.describe(),
            "Choose another path, or remove what is there yourself (a symlink is never followed: it may point anywhere on this node).",
        )
    if request.state == "present" and state.exists and state.image.others:
        raise Refusal(
            "the image at the path names other files", "%s at %s with %s (read from its header; qemu-img was not run on it)" % (
                state.image.describe(), request.location(), ", ".join(state.image.others)), request.describe(),
            "qemu would open those files on this node: this module leaves such an image alone. Check who wrote it "
            "(a raw disk's guest can write a qcow2 header); flatten it yourself or choose another path.",
        )


def _plan_absent(request, state):
    if not state.exists:
        return []
    require_danger_flag(request.allow_delete, "allow_delete", "delete an image", state.image.describe() + " at %s/%s" % (
        request.volume, request.path), "state=absent", "its data is lost for good")
    return [Action(Kind.DELETE, "delete %s at %s/%s" % (state.image.describe(), request.volume, request.path), path=request.path)]


def _refuse_mismatch(request, state):
    """An existing image that the request cannot accept without losing data."""
    found = "%s at %s/%s" % (state.image.describe(), request.volume, request.path)
    if state.image.format != request.format:
        raise Refusal(
            "an image of another format exists at the path", found, request.describe(),
            "Never converted in place: choose another path, set format: %s, or convert it yourself (qemu-img convert)." % state.image.format,
        )
    if request.size is not None and request.size < state.image.virtual_size:
        raise Refusal(
            "will not shrink an image", found, "size %s (%d bytes)" % (format_size(request.size), request.size),
            "Shrinking loses the data past the new end: set size to at least %d bytes, or shrink it yourself after the guest did." % state.image.virtual_size,
        )
    if request.source and request.size is None and state.source is not None and state.image.virtual_size != state.source.virtual_size:
        raise Refusal(
            "an image that is not this import exists at the path", found, "import of %s (%s)" % (request.source, state.source.describe()),
            "An import never overwrites: choose another path, or delete the image first (state: absent, allow_delete: true).",
        )


def _plan_resize(request, current_size):
    """Growth: the argv before the image, which apply gives as /proc/self/fd/N of a descriptor, then ``size``."""
    if request.size is None or request.size <= current_size:
        return []
    argv = ["qemu-img", "resize", "-q", "-f", request.format]
    if request.preallocation not in (None, "off"):
        argv.append("--preallocation=%s" % request.preallocation)
    return [Action(
        Kind.RESIZE, "grow %s/%s from %s to %s" % (request.volume, request.path, format_size(current_size), format_size(request.size)),
        argv, tail=[str(request.size)],
    )]


def _plan_ownership(request, state):
    if state.id_error is not None:
        raise Refusal(
            "unknown owner or group", state.id_error, "owner=%s group=%s" % (request.owner, request.group),
            "Create the user/group on this node first, or give numeric ids.",
        )
    uid = state.wanted_uid if state.wanted_uid is not None and state.wanted_uid != state.uid else -1
    gid = state.wanted_gid if state.wanted_gid is not None and state.wanted_gid != state.gid else -1
    if uid == -1 and gid == -1:
        return []
    return [Action(Kind.CHOWN, "set owner of %s/%s to %s:%s" % (request.volume, request.path, request.owner or "-", request.group or "-"), uid=uid, gid=gid)]


def _plan_new_image(request, state, access):
    if access == "gfapi" and not state.gfapi:
        raise Refusal(
            "qemu-img has no gluster driver", "qemu-img without its gluster block driver on this node", "access=gfapi",
            "Install it (Debian: qemu-block-extra), or use access: auto or fuse (QEMU 11.1+ and RHEL have no gluster driver).",
        )
    if access == "gfapi" and state.volfile_server is None:
        raise Refusal(
            "no volfile server answers", "no glusterd on port %d of %s" % (request.port, ", ".join(request.nodes)),
            "creation through gfapi", "Start glusterd on one of the nodes, or use access: fuse.",
        )
    # the target (a new file of an unpredictable name) is made by apply: the argv stops before it
    where = dict(access=access, server=state.volfile_server if access == "gfapi" else None)
    options = ["-o", "preallocation=%s" % request.preallocation] if request.preallocation else []
    actions = []
    if state.missing_dirs:
        actions.append(Action(Kind.MKDIR, "create directories %s on volume %s" % (", ".join(state.missing_dirs), request.volume),
                              dirs=list(state.missing_dirs)))
    if not request.source:
        if request.size is None:
            raise Refusal("size missing", "no image at %s/%s" % (request.volume, request.path), "a new image", "Give size (e.g. 50G) or source.")
        return actions + [Action(
            Kind.CREATE, "create %s via %s" % (request.describe(), access),
            ["qemu-img", "create", "-q", "-f", request.format] + options, tail=[str(request.size)], **where,
        )]
    if state.source is None:
        raise Refusal(
            "cannot read the import source", state.source_error, "import of %s into %s/%s" % (request.source, request.volume, request.path),
            "Give an existing, readable image file on this node (or a URL qemu-img can open) as source.",
        )
    if request.size is not None and request.size < state.source.virtual_size:
        raise Refusal(
            "size is smaller than the source", state.source.describe(), "size %s (%d bytes)" % (format_size(request.size), request.size),
            "Leave size unset to keep the source's size, or give a larger one.",
        )
    if state.source.others and not request.allow_source_backing_file:
        backing = state.source.backing_file is not None
        raise Refusal(
            "the import source has a backing file" if backing else "the import source reads other files",
            "%s is a %s with %s" % (request.source, state.source.describe(), ", ".join(state.source.others)),
            "import of %s into %s" % (request.source, request.location()),
            "qemu-img convert would copy %s into the new disk, and a crafted image can name any file of this node: "
            "flatten the source yourself (qemu-img convert -O qcow2 SOURCE FLAT) and import that, or set "
            "allow_source_backing_file: true if you trust %s; nothing was created." % (
                "the backing chain" if backing else "those files", "them" if len(state.source.others) > 1 else "it"),
        )
    # the format probed once by observe, never again by convert (the source could change meanwhile)
    actions.append(Action(
        Kind.IMPORT, "import %s (%s) as %s %s/%s via %s" % (request.source, state.source.describe(), request.format, request.volume, request.path, access),
        ["qemu-img", "convert", "-q", "-f", state.source.format, "-O", request.format] + options + [request.source], tail=[], **where,
    ))
    return actions + _plan_resize(request, state.source.virtual_size)


def plan(state: ImageState, params: t.Mapping[str, t.Any]) -> t.List[Action]:
    """The actions that bring the image to the request (pure), or a Refusal."""
    request = Request(params)
    _refuse_unusable(request, state)
    if request.state == "absent":
        return _plan_absent(request, state)
    if state.exists:
        _refuse_mismatch(request, state)
        actions = _plan_resize(request, state.image.virtual_size)
    else:
        actions = _plan_new_image(request, state, resolve_access(request, state))
    return actions + _plan_ownership(request, state)


def _image_summary(state):
    """The diff/return view of an observed image."""
    if not state.exists:
        return {"exists": False, "format": None, "virtual_size": None, "actual_size": None}
    return {"exists": True, "format": state.image.format, "virtual_size": state.image.virtual_size, "actual_size": state.image.actual_size}


def _predicted_summary(request, before):
    """What a check-mode run expects after its plan (qemu reports actual_size only once written)."""
    if request.state == "absent":
        return _image_summary(ImageState())
    sizes = [request.size or 0]
    if before.exists:
        sizes.append(before.image.virtual_size)
    elif before.source is not None:
        sizes.append(before.source.virtual_size)
    actual = before.image.actual_size if before.exists else None
    return {"exists": True, "format": request.format, "virtual_size": max(sizes), "actual_size": actual}


def report(_runner: CommandRunner, before: ImageState, after: t.Optional[ImageState], params: t.Mapping[str, t.Any],
           _actions: t.List[Action]) -> t.Dict[str, t.Any]:
    """Return values: how to reach the image (URI, json: filename, libvirt XML, -blockdev) and its state."""
    request = Request(params)
    if after is not None:
        _refuse_changed_after(request, after)
    summary = _image_summary(after) if after is not None else _predicted_summary(request, before)
    result = dict(summary)
    result.update(
        uri=gluster_uri(request, request.nodes[0], request.path),
        json_filename=json_filename(request),
        libvirt_disk_xml=libvirt_disk_xml(request),
        blockdev=blockdev_spec(request),
        diff={"before": _diff_view(_image_summary(before)), "after": _diff_view(summary)},
    )
    if request.state == "present" and request.size and before.capacity and request.size > before.capacity:
        result["warnings"] = ["the disk %s can grow to %s, more than volume %s holds (%s): a VM that fills its disk fills the "
                              "bricks first, and its writes then fail; raise the bricks' size (brick_size) to at least the "
                              "disk's" % (request.location(), format_size(request.size), request.volume, format_size(before.capacity))]
    return result


def volume_capacity(path: str) -> t.Optional[int]:
    """The bytes the filesystem at path holds (a FUSE mount of the volume, or a brick: a replica volume
    holds what its smallest brick holds), or None when it cannot be read."""
    try:
        info = os.statvfs(path)
    except OSError:
        return None
    return info.f_blocks * info.f_frsize


def _refuse_changed_after(request, after):
    """The re-observe after apply found what the run did not leave there: say so, never crash on it."""
    if request.state == "absent":
        found = None if not after.exists else "a %s at %s" % (after.kind, request.location())
    elif after.mount_error is not None:
        found = after.mount_error
    elif after.kind != "file":
        found = "a %s at %s" % (after.kind, request.location()) if after.exists else "no image at %s" % request.location()
    else:
        found = None
    if found is not None:
        raise path_changed(request, found + " after this run")


def path_changed(request: Request, found: str) -> Refusal:
    """The refusal for a path that another client of the volume changed while this run worked on it."""
    return Refusal(
        "the image path changed during this run", found, request.describe() if request.state == "present" else "no image at %s" % request.location(),
        "Another client of volume %s changed it meanwhile; nothing outside the volume was written and no link was followed. "
        "Find who writes there, remove what is there yourself if it is not yours, and run again." % request.volume,
    )


def _diff_view(summary):
    return {key: summary[key] for key in ("exists", "format", "virtual_size")}


def first_answering_server(request: Request) -> t.Optional[str]:
    """The first server accepting a TCP connection on the glusterd port (gluster:// URIs take one)."""
    for server in request.nodes:
        try:
            with socket.create_connection((server, request.port), timeout=PORT_PROBE_TIMEOUT):
                return server
        except OSError:
            continue
    return None


# O_NONBLOCK: a FIFO planted at the path must not hang the open.
OPEN_FILE = os.O_NOFOLLOW | os.O_NONBLOCK
# What qemu-img gave its new files (0644 less the umask); the file is 0600 while it is written.
NEW_IMAGE_MODE = 0o644


def fd_path(descriptor: int) -> str:
    """The name of an open descriptor for a command that inherits it (pass_fds)."""
    return "/proc/self/fd/%d" % descriptor


def _observe_path(runner, request, state):
    parents = request.parents
    try:
        directory, missing = walk_directories(state.mountpoint, parents)
    except Blocked as blocked:
        state.blocked_by = (blocked.path, blocked.kind)
        return
    try:
        if missing is not None:
            state.missing_dirs = ["/".join(parents[:depth + 1]) for depth in range(missing, len(parents))]
            return
        _observe_image(runner, state, directory, request.name)
    finally:
        os.close(directory)


def _observe_image(runner, state, directory, name):
    """The image ``name`` in the open directory: its kind, owner and (regular files) ImageInfo."""
    try:
        info = os.lstat(name, dir_fd=directory)
    except FileNotFoundError:
        return
    state.kind, state.uid, state.gid = kind_of(info.st_mode), info.st_uid, info.st_gid
    if state.kind != "file":
        return
    try:
        descriptor = os.open(name, os.O_RDONLY | OPEN_FILE, dir_fd=directory)
    except OSError as exc:
        # replaced between lstat and open: say what is there now
        state.kind = {errno.ELOOP: "symlink", errno.ENOENT: None}.get(exc.errno, "other")
        return
    try:
        info = os.fstat(descriptor)
        state.kind, state.uid, state.gid = kind_of(info.st_mode), info.st_uid, info.st_gid
        if state.kind == "file":
            state.image = probe_image(runner, descriptor)
    finally:
        os.close(descriptor)


def probe_image(runner: CommandRunner, descriptor: int) -> ImageInfo:
    """ImageInfo of an open image file, its format read from its magic (qcow2, qed, else raw), never probed by qemu.

    A header naming other files is returned as read: qemu-img would open them."""
    header = header_info(descriptor)
    if header is not None and header.others:
        return header
    image_format = header.format if header is not None else "raw"
    return read_image_info(runner, ["qemu-img", "info", "--output=json", "-U", "-f", image_format, fd_path(descriptor)],
                           pass_fds=(descriptor,))


def _observe_source(runner, request, state):
    if "://" not in request.source and not os.access(request.source, os.R_OK):
        reason = "is not readable" if os.path.exists(request.source) else "does not exist"
        state.source_error = "%s %s on this node" % (request.source, reason)
        return
    source_format = ["-f", request.source_format] if request.source_format else []
    try:
        state.source = read_image_info(runner, ["qemu-img", "info", "--output=json", "-U"] + source_format + [request.source])
    except CommandError as err:
        state.source_error = "qemu-img cannot open %s: %s" % (request.source, (err.stderr or "").strip())


def _observe_ids(request, state):
    try:
        state.wanted_uid = uid_of(request.owner)
        state.wanted_gid = gid_of(request.group)
    except KeyError as exc:
        state.id_error = "no such user or group on this node: %s" % exc


# Where qcow2 (big-endian) and qed (little-endian) headers keep the virtual size; raw has no header
# and its size on a sharded volume is not the brick file's, so raw images always take the mount.
HEADER_SIZE_FIELDS = {b"QFI\xfb": ("qcow2", ">Q", 24), b"QED\x00": ("qed", "<Q", 48)}
AFR_XATTR_PREFIXES = ("trusted.afr.",)
# qcow2: backing_file_offset (u64) and _size (u32) at 8, version at 4, incompatible_features (v3, u64) at 72
# with bit 2 for an external data file. qed: features (u64 LE) at 16 with bit 0 for a backing file,
# backing_filename_offset and _size (u32 LE) at 56.
QCOW2_DATA_FILE = 1 << 2
QED_BACKING_FILE = 1 << 0
HEADER_READ = 104
BACKING_NAME_MAX = 1023


def header_info(descriptor: int) -> t.Optional[ImageInfo]:
    """ImageInfo from the qcow2 or qed header of an open file, with the other files it names; None for anything else."""
    head = os.pread(descriptor, HEADER_READ, 0)
    known = HEADER_SIZE_FIELDS.get(head[:4])
    if known is None or len(head) < 64:
        return None
    image_format, layout, offset = known
    others, backing = [], None
    if image_format == "qcow2":
        name_offset, name_size = struct.unpack_from(">QI", head, 8)
        has_backing = name_offset != 0
        if struct.unpack_from(">I", head, 4)[0] >= 3 and len(head) >= 80 and struct.unpack_from(">Q", head, 72)[0] & QCOW2_DATA_FILE:
            others.append("an external data file")
    else:
        has_backing = bool(struct.unpack_from("<Q", head, 16)[0] & QED_BACKING_FILE)
        name_offset, name_size = struct.unpack_from("<II", head, 56)
    if has_backing:
        name = os.pread(descriptor, min(name_size, BACKING_NAME_MAX), name_offset) if name_size else b""
        backing = name.decode("utf-8", "replace") or "(no name)"
        others.insert(0, "backing file %s" % backing)
    return ImageInfo(image_format, struct.unpack_from(layout, head, offset)[0], backing_file=backing, others=others)


def read_header(path: str) -> t.Optional[ImageInfo]:
    """ImageInfo from a qcow2 or qed header, None for anything else (a symlink is not followed)."""
    descriptor = os.open(path, os.O_RDONLY | OPEN_FILE)
    try:
        return header_info(descriptor)
    finally:
        os.close(descriptor)


def _settled_on_brick(path):
    """No AFR mark on the brick file: no write in flight (dirty) and no copy blamed (pending)."""
    for name in os.listxattr(path, follow_symlinks=False):
        if name.startswith(AFR_XATTR_PREFIXES) and any(os.getxattr(path, name, follow_symlinks=False)):
            return False
    return True


def observe_on_brick(runner: CommandRunner, request: Request) -> t.Optional[ImageState]:
    """The image as this node's brick holds it (see the module docstring), or None to mount instead."""
    if request.state != "present" or request.source or request.format not in ("qcow2", "qed"):
        return None
    try:
        brick = local_online_brick(runner, request.volume)
        if brick is None:
            return None
        path = brick.path
        for part in request.path.split("/"):
            path = os.path.join(path, part)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                return None
        if not stat.S_ISREG(info.st_mode) or not _settled_on_brick(path):
            return None
        image = read_header(path)
    except (CommandError, OSError, ValueError, struct.error):
        return None
    if image is None or image.others:
        return None
    state = ImageState(mount_error=None)
    state.kind, state.image, state.uid, state.gid = "file", image, info.st_uid, info.st_gid
    state.capacity = volume_capacity(brick.path)
    _observe_ids(request, state)
    return state


class VolumeSession:
    """One FUSE mount of the volume shared by observe, apply and the re-observe of a module run.

    Use as a context manager: the volume is mounted on first observe (read-only for check mode)
    and unmounted, its private directory removed, when the block ends, whatever happened. Nothing
    is ever removed recursively: a directory still mounted cannot be deleted by rmdir.
    """

    def __init__(self, read_only):
        self.read_only = read_only
        self.runner = None
        self.workdir = None
        self.mountpoint = None
        self.mounted = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    @property
    def log_path(self) -> str:
        return os.path.join(self.workdir, "client.log")

    def _mount(self, runner, request):
        """Mount the volume unless mounted; the error text when it fails, else None."""
        if self.mounted:
            return None
        self.runner = runner
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix="vmstorage-qemu-")
            self.mountpoint = os.path.join(self.workdir, "volume")
            os.mkdir(self.mountpoint, 0o700)
        options = ["log-file=%s" % self.log_path]
        if len(request.nodes) > 1:
            options.append("backup-volfile-servers=%s" % ":".join(request.nodes[1:]))
        if request.port != GLUSTERD_PORT:
            options.append("server-port=%d" % request.port)
        if self.read_only:
            options.append("ro")
        source = "%s:/%s" % (request.nodes[0], request.volume)
        error = retry(lambda: self._try_mount(runner, options, source),
                      lambda error: error is not None and any(needle in error for needle in BRICKS_STARTING),
                      Deadline("mount settle", MOUNT_SETTLE_TIME), MOUNT_RETRY_INTERVAL)
        self.mounted = error is None
        return error

    def _try_mount(self, runner, options, source):
        """One mount attempt with a fresh client log; its error text, or None when mounted."""
        if os.path.exists(self.log_path):
            os.remove(self.log_path)
        result = runner.run(["mount", "-t", "glusterfs", "-o", ",".join(options), source, self.mountpoint], check=False)
        if result.rc == 0:
            return None
        errors = []
        if os.path.exists(self.log_path):
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                errors = parse_mount_errors(log.read())
        detail = "; ".join(errors) or (result.stderr or result.stdout).strip()
        return "mount -t glusterfs %s failed (exit code %d): %s" % (source, result.rc, detail)

    def close(self) -> None:
        """Unmount (lazily if busy) and remove the private directory; never raises."""
        if self.mounted:
            if self.runner.run(["umount", self.mountpoint], check=False).rc != 0:
                self.runner.run(["umount", "-l", self.mountpoint], check=False)
            self.mounted = False
        if self.workdir is not None:
            for remove, path in ((os.remove, self.log_path), (os.rmdir, self.mountpoint), (os.rmdir, self.workdir)):
                try:
                    remove(path)
                except OSError:
                    pass

    def observe(self, runner: CommandRunner, params: t.Mapping[str, t.Any]) -> ImageState:
        request = Request(params)
        if not self.mounted:
            quick = observe_on_brick(runner, request)
            if quick is not None and _needs_nothing(quick, request):
                return quick
        mount_error = self._mount(runner, request)
        state = ImageState(self.mountpoint, mount_error)
        if state.mount_error is not None:
            return state
        state.capacity = volume_capacity(self.mountpoint)
        _observe_path(runner, request, state)
        if request.state == "absent":
            return state
        _observe_ids(request, state)
        if request.source:
            _observe_source(runner, request, state)
        if not state.exists and request.access != "fuse":
            state.gfapi = gluster_driver_present(runner.read(GLUSTER_DRIVER_PROBE, check=False).stderr)
            if resolve_access(request, state) == "gfapi":
                state.volfile_server = first_answering_server(request)
        return state

    def apply(self, runner: CommandRunner, state: ImageState, params: t.Mapping[str, t.Any], actions: t.List[Action]) -> None:
        """Run the actions on descriptors of the image's directory and of the image, no symlink followed."""
        request = Request(params)
        create = any(action.kind == Kind.MKDIR for action in actions)
        try:
            directory, missing = walk_directories(state.mountpoint, request.parents, create=create)
        except Blocked as blocked:
            raise path_changed(request, "%s/%s is %s" % (request.volume, blocked.path, blocked.kind)) from blocked
        try:
            if missing is not None:
                raise path_changed(request, "no directory %s/%s" % (request.volume, "/".join(request.parents[:missing + 1])))
            for action in actions:
                if action.kind in (Kind.CREATE, Kind.IMPORT):
                    _write_then_link(runner, request, action, directory)
                elif action.kind == Kind.RESIZE:
                    with _ImageFile(request, directory, os.O_RDWR) as image:
                        _refuse_other_files(request, image)
                        try:
                            runner.run(action.argv + [fd_path(image)] + action.params["tail"], pass_fds=(image,))
                        except CommandError as err:
                            _refuse_a_held_image(err, request, action)
                            raise
                        pad_to_whole_sectors(image)
                elif action.kind == Kind.CHOWN:
                    with _ImageFile(request, directory, os.O_RDONLY) as image:
                        os.fchown(image, action.params["uid"], action.params["gid"])
                elif action.kind == Kind.DELETE:
                    kind = kind_in(directory, request.name)
                    if kind != "file":
                        raise path_changed(request, "a %s at %s" % (kind, request.location()) if kind != "gone" else "no image at %s" % request.location())
                    os.unlink(request.name, dir_fd=directory)  # unlink never follows a symlink
        finally:
            os.close(directory)


def _refuse_a_held_image(err, request, action):
    """qemu-img takes the image's write lock before it changes anything: when a running VM (its qemu) holds
    the image, the resize fails there, and the way to grow it is through that VM's hypervisor."""
    if WRITE_LOCK_HELD in (err.stderr or "") + (err.stdout or ""):
        raise Refusal("the image is in use", "a process holds qemu's write lock on %s (a running VM)" % request.location(),
                      action.summary, "Grow it through the hypervisor that runs it (virsh blockresize DOMAIN DISK SIZE); "
                      "the module then finds the size it asks for. Nothing was changed.") from err


class VolumeSessions:
    """The VolumeSession of each volume a module run touches (one per volume, however many images).

    A context manager like VolumeSession; observe and apply take the params of one image.
    """

    def __init__(self, read_only):
        self.read_only = read_only
        self.sessions = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for session in self.sessions.values():
            session.close()
        return False

    def session(self, params: t.Mapping[str, t.Any]) -> VolumeSession:
        key = (params["volume"], tuple(params["nodes"]), params["port"])
        if key not in self.sessions:
            self.sessions[key] = VolumeSession(self.read_only)
        return self.sessions[key]

    def observe(self, runner: CommandRunner, params: t.Mapping[str, t.Any]) -> ImageState:
        return self.session(params).observe(runner, params)

    def apply(self, runner: CommandRunner, state: ImageState, params: t.Mapping[str, t.Any], actions: t.List[Action]) -> None:
        self.session(params).apply(runner, state, params, actions)


def _needs_nothing(state, request):
    """Whether plan() would have nothing to do on this view: same format and size, owner as asked.

    Said without calling plan(): a view from the brick has no mount to plan actions on."""
    return (state.image.format == request.format and request.size in (None, state.image.virtual_size)
            and state.id_error is None and not _plan_ownership(request, state))


def pad_to_whole_sectors(descriptor: int) -> None:
    """Extend an image file written through FUSE to whole 512-byte sectors, with zeros.

    qemu's gluster driver reads whole sectors and fails a read that the end of the file cuts short
    (EIO, "Could not read L1 table"); qemu-img writing a qcow2 image through FUSE (create, convert,
    resize) ends the file right after its L1 table (196616 bytes at 64 MiB, 197408 at 50 GiB), so the
    json:, libvirt and -blockdev access data could not open it (lab: qemu 7.2, glusterfs 10.3). The
    gluster driver pads its own files the same way (197120 bytes). posix_fallocate only extends: it
    changes no byte and never shrinks, even if a VM grew the file in the meantime.
    """
    size = os.fstat(descriptor).st_size
    if size % SECTOR_SIZE:
        os.posix_fallocate(descriptor, size, SECTOR_SIZE - size % SECTOR_SIZE)


class _ImageFile:
    """The image of the request opened in its directory without following a symlink; a context manager
    giving the descriptor. Anything but a regular file there is refused as a changed path."""

    def __init__(self, request, directory, flags):
        self.request, self.directory, self.flags = request, directory, flags
        self.descriptor = None

    def __enter__(self):
        request = self.request
        try:
            self.descriptor = os.open(request.name, self.flags | OPEN_FILE, dir_fd=self.directory)
        except OSError as exc:
            kind = kind_in(self.directory, request.name)
            raise path_changed(request, "no image at %s" % request.location() if kind == "gone" else
                               "a %s at %s" % (kind, request.location())) from exc
        kind = kind_of(os.fstat(self.descriptor).st_mode)
        if kind != "file":
            os.close(self.descriptor)
            raise path_changed(request, "a %s at %s" % (kind, request.location()))
        return self.descriptor

    def __exit__(self, *exc_info):
        os.close(self.descriptor)
        return False


def _refuse_other_files(request, descriptor):
    """Before qemu-img opens an existing image: its header still names no other file of the node."""
    header = header_info(descriptor)
    if header is not None and (header.others or header.format != request.format):
        named = " with " + ", ".join(header.others) if header.others else ""
        raise path_changed(request, "%s at %s%s" % (header.describe(), request.location(), named))


def _same_file(directory, name, descriptor):
    """Whether ``name`` in the directory (not followed) is the open file."""
    try:
        named = os.lstat(name, dir_fd=directory)
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return stat.S_ISREG(named.st_mode) and (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def partial_name(request: Request) -> str:
    """A new, unpredictable name next to the image (the suffix last: cleanup and tests look for it)."""
    return ".%s.%s%s" % (request.name, secrets.token_hex(8), PARTIAL_SUFFIX)


def _write_then_link(runner, request, action, directory):
    """Write the new image into a file of its own, then hard-link that file into place (never replacing one).

    The file is created exclusively (O_EXCL|O_NOFOLLOW) in the directory walked without symlinks;
    FUSE: qemu-img writes to its descriptor; gfapi: by its name, which must still be that file after.
    Only that file's partial name is removed, and only while it still is that file."""
    partial = partial_name(request)
    descriptor = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_NOFOLLOW, 0o600, dir_fd=directory)
    try:
        if action.params["access"] == "gfapi":
            target = gluster_uri(request, action.params["server"], "/".join(request.parents + [partial]))
            runner.run(action.argv + [target] + action.params["tail"])
            if not _same_file(directory, partial, descriptor):
                raise path_changed(request, "%s/%s is no longer the file this run created (a %s now)" % (
                    request.volume, "/".join(request.parents + [partial]), kind_in(directory, partial)))
        else:
            runner.run(action.argv + [fd_path(descriptor)] + action.params["tail"], pass_fds=(descriptor,))
        pad_to_whole_sectors(descriptor)
        os.fchmod(descriptor, NEW_IMAGE_MODE)
        try:
            # linkat of the descriptor: never a symlink's target, never across filesystems (EXDEV)
            os.link(fd_path(descriptor), request.name, dst_dir_fd=directory, follow_symlinks=True)
        except FileExistsError as exc:
            raise Refusal(
                "a file appeared at the path during this run", "a %s at %s" % (kind_in(directory, request.name), request.location()),
                request.describe(), "It was left untouched and the new image discarded; look at what is there and run again.",
            ) from exc
    finally:
        try:
            if _same_file(directory, partial, descriptor):
                os.unlink(partial, dir_fd=directory)
        finally:
            os.close(descriptor)
