# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers and plan() of qemu_gluster_image over qemu-img / glusterfs output captured in the lab."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _qemu
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Refusal
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner
from ansible_collections.vmstorage.gluster.tests.unit.helpers import QEMU_MOUNT as MOUNT, ScriptedModule, qemu_fixture_bytes as fixture_bytes
from ansible_collections.vmstorage.gluster.tests.unit.helpers import qemu_image as image, qemu_params as params, qemu_state as state
from ansible_collections.vmstorage.gluster.tests.unit.helpers import read_fixture

GIB = 1024 ** 3


def refusal(observed, **overrides):
    with pytest.raises(Refusal) as caught:
        _qemu.plan(observed, params(**overrides))
    return caught.value


# --- parsers over captured output -------------------------------------------------------------

def test_info_of_a_qed_image():
    info = image("info-qed-50G.json")
    assert (info.format, info.virtual_size) == ("qed", 50 * GIB)
    assert info.actual_size > 0


def test_info_of_a_qcow2_image():
    info = image("info-qcow2-64M.json")
    assert (info.format, info.virtual_size) == ("qcow2", 64 * 1024 ** 2)


def test_a_file_that_is_no_image_probes_as_raw():
    info = image("info-text-file.json")
    assert info.format == "raw"
    assert info.virtual_size == 512  # qemu rounds a raw file's size up to a sector


def test_gluster_driver_probe_with_the_driver_installed():
    assert _qemu.gluster_driver_present(read_fixture("qemu", "probe-gluster-driver-present.txt"))


def test_gluster_driver_probe_without_the_driver():
    assert not _qemu.gluster_driver_present(read_fixture("qemu", "probe-gluster-driver-missing.txt"))


def test_mount_errors_of_a_missing_volume():
    errors = _qemu.parse_mount_errors(read_fixture("qemu", "mount-missing-volume.log"))
    assert errors == ["failed to get the 'volume file' from server", "failed to fetch volume file (key:/nosuchvol)"]


def test_mount_errors_with_message_ids():
    line = "[2026-11-25 12:52:42.160607 +0000] E [MSGID: 108006] [afr-common.c:6123:__afr_handle_child_down_event] 0-vol1-replicate-0: All subvolumes are down."
    assert _qemu.parse_mount_errors(line + "\n" + line) == ["All subvolumes are down."]


def test_image_info_lost_by_run_command_is_read_again():
    module = ScriptedModule([(0, "", ""), (0, read_fixture("qemu", "info-qed-50G.json"), "")])
    info = _qemu.read_image_info(CommandRunner(module), ["qemu-img", "info", "--output=json", "/m/disk.img"])
    assert (info.format, len(module.calls)) == ("qed", 2)


def test_image_info_that_stays_empty_fails_with_the_command():
    module = ScriptedModule([(0, "", "")] * 3)
    with pytest.raises(CommandError) as caught:
        _qemu.read_image_info(CommandRunner(module), ["qemu-img", "info", "--output=json", "/m/disk.img"])
    assert "not JSON" in str(caught.value) and len(module.calls) == 3


# --- input checks: refused before anything runs ----------------------------------------------

@pytest.mark.parametrize("path", ["../etc/passwd", "/disk.img", "a/../../b", "a//b", "./disk.img", "images/", ""])
def test_paths_leaving_the_volume_are_refused(path):
    with pytest.raises(Refusal) as caught:
        _qemu.Request(params(image_path=path))
    assert "path" in caught.value.problem and repr(path) in str(caught.value)


@pytest.mark.parametrize("overrides, problem", [
    (dict(volume="vol 1"), "invalid volume name"),
    (dict(nodes=["node1:24007"]), "invalid server name"),
    (dict(nodes=[]), "no volfile server"),
    (dict(format="qed", preallocation="off"), "preallocation not supported"),
    (dict(format="raw", preallocation="metadata"), "preallocation not supported"),
    (dict(size="1000B"), "multiple of 512"),
    (dict(size="fifty"), "size is not understood"),
    (dict(size="51200"), "size 51200: a bare number is ambiguous"),
    (dict(size=51200), "size 51200: a bare number is ambiguous"),
    (dict(size="0G"), "a size of 0 is never useful"),
])
def test_bad_input_is_refused(overrides, problem):
    with pytest.raises(Refusal) as caught:
        _qemu.Request(params(**overrides))
    assert problem in str(caught.value)


def test_qcow2_takes_metadata_preallocation():
    assert _qemu.Request(params(format="qcow2", preallocation="metadata")).preallocation == "metadata"


# --- plan --------------------------------------------------------------------------------------

def test_new_image_through_gfapi_writes_on_the_answering_server():
    actions = _qemu.plan(state(volfile_server="node2"), params())
    assert [action.kind for action in actions] == ["create"]
    # the target, a new file of an unpredictable name, is made by apply between argv and tail
    assert actions[0].argv == ["qemu-img", "create", "-q", "-f", "qed"]
    assert actions[0].params == {"access": "gfapi", "server": "node2", "tail": [str(50 * GIB)]}
    assert actions[0].summary == "create qed image of 50 GiB at vol1/disk.img via gfapi"


def test_new_image_through_fuse_with_directories_and_preallocation():
    observed = state(gfapi=False, missing_dirs=["images", "images/vm1"])
    actions = _qemu.plan(observed, params(image_path="images/vm1/root.qcow2", format="qcow2", preallocation="metadata", size="10G"))
    assert [action.kind for action in actions] == ["mkdir", "create"]
    assert actions[0].params["dirs"] == ["images", "images/vm1"]
    assert actions[1].argv == ["qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata"]
    assert actions[1].params == {"access": "fuse", "server": None, "tail": [str(10 * GIB)]}
    assert actions[1].summary.endswith("via fuse")


def test_gfapi_without_an_answering_server_is_refused():
    assert "no volfile server answers" in str(refusal(state(volfile_server=None), access="gfapi"))


def test_gfapi_without_the_driver_is_refused():
    assert "no gluster driver" in str(refusal(state(gfapi=False), access="gfapi"))


def test_auto_without_the_driver_creates_through_fuse():
    actions = _qemu.plan(state(gfapi=False, volfile_server=None), params())
    assert actions[0].summary == "create qed image of 50 GiB at vol1/disk.img via fuse"


def test_new_image_needs_a_size():
    assert "size missing" in str(refusal(state(), size=None))


def test_same_image_again_is_a_no_op():
    assert not _qemu.plan(state("info-qed-50G.json"), params())


def test_existing_image_without_size_is_accepted():
    assert not _qemu.plan(state("info-qed-50G.json"), params(size=None))


def test_larger_size_grows_through_the_mount():
    actions = _qemu.plan(state("info-qed-50G.json"), params(size="60G"))
    assert [action.kind for action in actions] == ["resize"]
    assert actions[0].argv == ["qemu-img", "resize", "-q", "-f", "qed"]  # then /proc/self/fd/N of the image
    assert actions[0].params == {"tail": [str(60 * GIB)]}
    assert actions[0].summary == "grow vol1/disk.img from 50 GiB to 60 GiB"


def test_smaller_size_is_refused():
    refused = refusal(state("info-qed-50G.json"), size="40G")
    assert refused.problem == "will not shrink an image"
    assert "50 GiB" in refused.found and "40 GiB" in refused.requested


def test_other_format_at_the_path_is_refused():
    refused = refusal(state("info-qed-50G.json"), format="raw")
    assert refused.problem == "an image of another format exists at the path"
    assert "qed image" in refused.found and "raw image" in refused.requested


def test_a_text_file_at_the_path_is_refused_for_qcow2():
    assert "another format" in str(refusal(state("info-text-file.json"), format="qcow2"))


def test_mount_failure_is_refused_with_the_cause():
    refused = refusal(state(mount_error="mount -t glusterfs node1:/vol1 failed (exit code 1): failed to fetch volume file"))
    assert refused.problem == "cannot mount the volume"
    assert "failed to fetch volume file" in str(refused) and "gluster volume info vol1" in str(refused)
    # check mode of a site on fresh nodes: the volume comes from an earlier task, so predict the create
    assert [action.kind for action in refused.predicted] == ["create"]


def test_symlinked_parent_is_refused():
    assert "not a plain directory" in str(refusal(state(blocked_by=("images", "a symlink")), image_path="images/disk.img"))


def test_directory_at_the_path_is_refused():
    assert "not a regular file" in str(refusal(state(kind="directory")))


def test_absent_image_stays_absent():
    assert not _qemu.plan(state(), params(state="absent"))


def test_deleting_needs_allow_delete():
    refused = refusal(state("info-qed-50G.json"), state="absent")
    assert "allow_delete" in str(refused)
    actions = _qemu.plan(state("info-qed-50G.json"), params(state="absent", allow_delete=True))
    assert [action.kind for action in actions] == ["delete"]


def test_import_converts_the_source_to_the_partial_name_then_grows():
    observed = state(gfapi=False, source=image("info-qcow2-64M.json"))
    actions = _qemu.plan(observed, params(image_path="imported.img", format="raw", source="/root/src.qcow2", source_format="qcow2", size="128M"))
    assert [action.kind for action in actions] == ["import", "resize"]
    assert actions[0].argv == ["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", "/root/src.qcow2"]
    assert actions[1].summary == "grow vol1/imported.img from 64 MiB to 128 MiB"


def test_import_of_a_missing_source_is_refused():
    refused = refusal(state(source_error="/root/nope.qcow2 does not exist on this node"), source="/root/nope.qcow2", size=None)
    assert refused.problem == "cannot read the import source" and "does not exist" in refused.found


def test_import_smaller_than_the_source_is_refused():
    observed = state(source=image("info-qcow2-64M.json"))
    assert "smaller than the source" in str(refusal(observed, format="raw", source="/root/src.qcow2", size="32M"))


def test_import_onto_another_image_is_refused():
    observed = state("info-qed-50G.json", source=image("info-qcow2-64M.json"))
    assert "not this import" in str(refusal(observed, source="/root/src.qcow2", size=None))


def test_import_done_before_is_a_no_op():
    observed = _qemu.ImageState(MOUNT)
    observed.kind, observed.image = "file", _qemu.ImageInfo("raw", 64 * 1024 ** 2)
    observed.source = image("info-qcow2-64M.json")
    assert not _qemu.plan(observed, params(format="raw", source="/root/src.qcow2", size=None))


def test_ownership_is_planned_when_it_differs():
    actions = _qemu.plan(state("info-qed-50G.json", wanted_uid=64055, wanted_gid=0), params(owner="64055", group="0"))
    assert [(action.kind, action.params) for action in actions] == [("chown", {"uid": 64055, "gid": -1})]


def test_unknown_owner_is_refused():
    assert "unknown owner" in str(refusal(state("info-qed-50G.json", id_error="no such user"), owner="nobody-here"))


# --- the returned forms ------------------------------------------------------------------------

def test_json_filename_lists_every_server():
    request = _qemu.Request(params())
    assert _qemu.json_filename(request) == (
        'json:{"driver":"qed","file":{"driver":"gluster","volume":"vol1","path":"disk.img","server":['
        '{"type":"inet","host":"node1","port":"24007"},{"type":"inet","host":"node2","port":"24007"}]}}'
    )


def test_libvirt_xml_has_one_host_per_server():
    xml = _qemu.libvirt_disk_xml(_qemu.Request(params()))
    assert xml == (
        "<disk type='network' device='disk'><driver name='qemu' type='qed'/><source protocol='gluster' name='vol1/disk.img'>"
        "<host name='node1' port='24007'/><host name='node2' port='24007'/></source><target dev='vda' bus='virtio'/></disk>"
    )


def test_blockdev_and_uri():
    request = _qemu.Request(params(image_path="images/vm1.img", port=24008))
    spec = _qemu.blockdev_spec(request)
    assert spec["node-name"] == "vol1-images_vm1_img" and spec["driver"] == "qed"
    assert [server["port"] for server in spec["file"]["server"]] == ["24008", "24008"]
    assert _qemu.gluster_uri(request, "node1", request.path) == "gluster://node1:24008/vol1/images/vm1.img"
    json.dumps(spec)


def test_check_mode_report_predicts_the_grown_image():
    before = state("info-qed-50G.json")
    result = _qemu.report(None, before, None, params(size="60G"), [])
    assert result["diff"] == {
        "before": {"exists": True, "format": "qed", "virtual_size": 50 * GIB},
        "after": {"exists": True, "format": "qed", "virtual_size": 60 * GIB},
    }
    assert result["uri"] == "gluster://node1/vol1/disk.img"


# ---------------------------------------------------------------- the quick look on the brick

@pytest.mark.parametrize("name, image_format, size", [
    ("header-qed-10G.bin", "qed", 10 * 1024 ** 3),
    ("header-qcow2-3G.bin", "qcow2", 3 * 1024 ** 3),
])
def test_header_gives_format_and_virtual_size(tmp_path, name, image_format, size):
    image = tmp_path / "disk.img"
    image.write_bytes(fixture_bytes(name))
    info = _qemu.read_header(str(image))
    assert (info.format, info.virtual_size) == (image_format, size)


@pytest.mark.parametrize("content", [b"", b"QFI\xfb", b"\0" * 4096, b"#!/bin/sh\n" * 10])
def test_anything_but_a_whole_qcow2_or_qed_header_is_left_to_qemu_img(tmp_path, content):
    image = tmp_path / "disk.img"
    image.write_bytes(content)
    assert _qemu.read_header(str(image)) is None


def test_the_quick_look_is_trusted_only_when_nothing_needs_doing():
    quick = _qemu.ImageState()
    quick.kind, quick.image = "file", _qemu.ImageInfo("qed", 10 * 1024 ** 3)

    def needs_nothing(**overrides):
        return _qemu._needs_nothing(quick, _qemu.Request(params(**overrides)))

    assert needs_nothing(format="qed", size="10G") and needs_nothing(format="qed", size=None)
    assert not needs_nothing(format="qed", size="20G")   # grow: on the mount
    assert not needs_nothing(format="qed", size="5G")    # refusal: decided on the mount
    assert not needs_nothing(format="qcow2", size="10G")
    quick.uid, quick.wanted_uid = 0, 64055
    assert not needs_nothing(format="qed", size="10G", owner="64055")


# Sizes qemu-img 7.2 gave qcow2 files written through FUSE in the lab (create 64M, 50G; resize to 50G)
# and the one the gluster driver wrote itself.
@pytest.mark.parametrize("size, padded", [(196616, 197120), (197408, 197632), (262944, 263168), (197120, 197120)])
def test_images_written_through_fuse_end_on_a_whole_sector(tmp_path, size, padded):
    image = tmp_path / "disk.qcow2"
    content = bytes(range(256)) * (size // 256) + b"\x07" * (size % 256)
    image.write_bytes(content)
    descriptor = os.open(str(image), os.O_RDWR)
    try:
        _qemu.pad_to_whole_sectors(descriptor)
    finally:
        os.close(descriptor)
    assert image.read_bytes() == content + b"\0" * (padded - size)


def test_a_disk_larger_than_its_volume_warns(tmp_path, monkeypatch):
    monkeypatch.setattr(_qemu.os, "statvfs", lambda path: type("Vfs", (), {"f_blocks": 5 * 1024 ** 2, "f_frsize": 4096})())
    assert _qemu.volume_capacity(str(tmp_path)) == 20 * 1024 ** 3
    observed = _qemu.ImageState()
    observed.capacity = 20 * 1024 ** 3
    warned = _qemu.report(None, observed, None, params(size="50G"), [])["warnings"]
    assert len(warned) == 1 and "can grow to 50 GiB, more than volume vol1 holds (20 GiB)" in warned[0], warned
    observed.capacity = 100 * 1024 ** 3
    assert "warnings" not in _qemu.report(None, observed, None, params(size="50G"), [])
