# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""qemu_gluster_image never follows a path on the volume and never lets qemu read files an image names.

The volume is a temporary directory here (the FUSE mount in real runs); "qemu-img" is a double that
writes to the target it is given, as qemu-img does, so a followed symlink would show as a changed
victim file. The lab proves the same with real clients (molecule/security S15, S16).
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _qemu
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Refusal
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner
from ansible_collections.vmstorage.gluster.tests.unit.helpers import ScriptedModule, qemu_fixture_bytes as fixture_bytes, qemu_image as image
from ansible_collections.vmstorage.gluster.tests.unit.helpers import qemu_params as params, qemu_state as state, read_fixture

VICTIM = b"the node's own file\n"
WRITTEN = b"QFI\xfb written by qemu-img"


def header_of(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(fixture_bytes(name))
    return _qemu.read_header(str(path))


# ---------------------------------------------------------------- what an image names

def test_a_qcow2_header_with_a_backing_file_names_it(tmp_path):
    header = header_of(tmp_path, "header-qcow2-backing.bin")
    assert (header.format, header.backing_file, header.others) == ("qcow2", "/root/marker", ["backing file /root/marker"])


def test_a_qed_header_with_a_backing_file_names_it(tmp_path):
    header = header_of(tmp_path, "header-qed-backing.bin")
    assert (header.format, header.virtual_size, header.others) == ("qed", 64 * 1024 ** 2, ["backing file /root/marker"])


def test_a_qcow2_header_with_an_external_data_file_is_seen(tmp_path):
    assert header_of(tmp_path, "header-qcow2-data-file.bin").others == ["an external data file"]


@pytest.mark.parametrize("name", ["header-qcow2-3G.bin", "header-qed-10G.bin"])
def test_plain_headers_name_nothing(tmp_path, name):
    assert header_of(tmp_path, name).others == []


def test_qemu_img_info_names_backing_and_data_files():
    assert image("info-qcow2-backing.json").others == ["backing file /root/marker"]
    assert image("info-qcow2-data-file.json").others == ["external data file /tmp/d.data"]
    assert image("info-qcow2-64M.json").others == []


def test_vmdk_extents_other_than_the_image_are_named():
    data = {"format": "vmdk", "virtual-size": 512, "filename": "/var/tmp/a.vmdk",
            "format-specific": {"type": "vmdk", "data": {"extents": [{"filename": "/var/tmp/a.vmdk"}, {"filename": "/etc/shadow"}]}}}
    assert _qemu.other_files(data) == ["extent /etc/shadow"]


# ---------------------------------------------------------------- imports

def import_params(**overrides):
    return params(**dict(dict(image_path="imported.img", format="qcow2", source="/root/crafted.qcow2", size=None, access="fuse"), **overrides))


def test_a_source_with_a_backing_file_is_refused_naming_it():
    with pytest.raises(Refusal) as caught:
        _qemu.plan(state(gfapi=False, source=image("info-qcow2-backing.json")), import_params())
    refused = caught.value
    assert refused.problem == "the import source has a backing file"
    assert "backing file /root/marker" in refused.found and "/root/crafted.qcow2" in refused.found
    assert refused.requested == "import of /root/crafted.qcow2 into vol1/imported.img"
    assert "allow_source_backing_file: true" in refused.remedy and "flatten" in refused.remedy


def test_a_source_with_an_external_data_file_is_refused():
    with pytest.raises(Refusal) as caught:
        _qemu.plan(state(gfapi=False, source=image("info-qcow2-data-file.json")), import_params())
    assert caught.value.problem == "the import source reads other files" and "/tmp/d.data" in caught.value.found


def test_allow_source_backing_file_imports_it_with_the_probed_format():
    actions = _qemu.plan(state(gfapi=False, source=image("info-qcow2-backing.json")), import_params(allow_source_backing_file=True))
    assert actions[0].argv == ["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2", "/root/crafted.qcow2"]


def test_convert_always_gets_the_format_observe_probed():
    actions = _qemu.plan(state(gfapi=False, source=image("info-qed-50G.json")), import_params(source_format=None))
    assert actions[0].argv[:6] == ["qemu-img", "convert", "-q", "-f", "qed", "-O"]


# ---------------------------------------------------------------- existing images: format from the magic

def observe(tmp_path, answers=(), **overrides):
    module = ScriptedModule(answers)
    observed = _qemu.ImageState(str(tmp_path))
    _qemu._observe_path(CommandRunner(module), _qemu.Request(params(**overrides)), observed)  # pylint: disable=protected-access
    return observed, module


def test_an_image_with_a_backing_file_is_never_opened_by_qemu_img(tmp_path):
    (tmp_path / "disk.img").write_bytes(fixture_bytes("header-qcow2-backing.bin"))
    observed, module = observe(tmp_path, format="qcow2")
    assert observed.image.others == ["backing file /root/marker"] and not module.calls
    with pytest.raises(Refusal) as caught:
        _qemu.plan(observed, params(format="qcow2"))
    assert caught.value.problem == "the image at the path names other files" and "/root/marker" in caught.value.found


def test_a_raw_disk_is_read_as_raw_on_its_descriptor(tmp_path):
    (tmp_path / "disk.img").write_bytes(b"\0" * 4096)
    observed, module = observe(tmp_path, [(0, json.dumps({"format": "raw", "virtual-size": 4096}), "")], format="raw")
    argv, pass_fds = module.calls[0].argv, module.calls[0].pass_fds
    assert argv[:6] == ["/usr/bin/qemu-img", "info", "--output=json", "-U", "-f", "raw"]
    assert argv[6] == "/proc/self/fd/%d" % pass_fds[0]
    assert observed.image.format == "raw"


def test_a_qcow2_magic_where_raw_is_asked_is_another_format(tmp_path):
    (tmp_path / "disk.img").write_bytes(fixture_bytes("header-qcow2-3G.bin"))
    observed, module = observe(tmp_path, [(0, json.dumps({"format": "qcow2", "virtual-size": 3 * 1024 ** 3}), "")], format="raw")
    assert module.calls[0].argv[4:6] == ["-f", "qcow2"]
    with pytest.raises(Refusal) as caught:
        _qemu.plan(observed, params(format="raw", size=None))
    assert caught.value.problem == "an image of another format exists at the path"


def test_a_symlink_at_the_path_is_seen_as_one_and_refused(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(VICTIM)
    (tmp_path / "disk.img").symlink_to(victim)
    observed, module = observe(tmp_path)
    assert observed.kind == "symlink" and not module.calls
    with pytest.raises(Refusal) as caught:
        _qemu.plan(observed, params())
    assert "a symlink at vol1/disk.img" in caught.value.found


def test_a_symlinked_parent_blocks(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "images").symlink_to(tmp_path / "elsewhere")
    observed, _module = observe(tmp_path, image_path="images/disk.img")
    assert observed.blocked_by == ("images", "a symlink")


# ---------------------------------------------------------------- apply: creation never follows a link

class QemuImg:
    """qemu-img as far as these tests need: writes WRITTEN to its target (a path, /proc/self/fd/N or a
    gluster:// URI into the volume directory), after ``meanwhile`` (a client acting during the write)."""

    def __init__(self, volume, meanwhile=None):
        self.volume = volume
        self.meanwhile = meanwhile
        self.argvs = []

    def run(self, argv, check=True, pass_fds=()):
        self.argvs.append((list(argv), tuple(pass_fds)))
        target = argv[-2] if argv[1] == "create" else argv[-1]
        if target.startswith("gluster://"):
            target = os.path.join(self.volume, target.split("/", 4)[4])
        if self.meanwhile:
            self.meanwhile(target)
        with open(target, "wb") as handle:  # follows links, as qemu-img does
            handle.write(WRITTEN)


def volume_with_victim(tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(VICTIM)
    return volume, victim


def create(volume, access="fuse", meanwhile=None, **overrides):
    request = params(**dict(dict(image_path="planted.img", format="qcow2", size="1M", access=access), **overrides))
    observed = state(mountpoint=str(volume), gfapi=access == "gfapi")
    actions = _qemu.plan(observed, request)
    qemu_img = QemuImg(str(volume), meanwhile)
    _qemu.VolumeSession(read_only=False).apply(qemu_img, observed, request, actions)
    return qemu_img


@pytest.mark.parametrize("access", ["fuse", "gfapi"])
def test_the_old_partial_name_planted_as_a_symlink_is_left_alone(tmp_path, access):
    volume, victim = volume_with_victim(tmp_path)
    (volume / ".planted.img.vmstorage-partial").symlink_to(victim)
    create(volume, access)
    assert victim.read_bytes() == VICTIM
    assert (volume / "planted.img").read_bytes().startswith(WRITTEN) and not (volume / "planted.img").is_symlink()
    assert oct((volume / "planted.img").stat().st_mode & 0o777) == "0o644"
    assert sorted(os.listdir(volume)) == [".planted.img.vmstorage-partial", "planted.img"]  # the planted link stays


def test_fuse_writes_to_the_descriptor_of_a_random_name(tmp_path):
    volume, _victim = volume_with_victim(tmp_path)
    argv, pass_fds = create(volume).argvs[0]
    assert argv == ["qemu-img", "create", "-q", "-f", "qcow2", "/proc/self/fd/%d" % pass_fds[0], str(1024 ** 2)]


def test_a_name_swapped_for_a_symlink_during_a_fuse_write_redirects_nothing(tmp_path):
    volume, victim = volume_with_victim(tmp_path)

    def swap(_target):
        partial = next(name for name in os.listdir(volume) if name.endswith(_qemu.PARTIAL_SUFFIX))
        assert partial.startswith(".planted.img.") and len(partial) > len(".planted.img.vmstorage-partial")
        os.rename(volume / partial, volume / "moved-away")
        (volume / partial).symlink_to(victim)

    create(volume, meanwhile=swap)
    assert victim.read_bytes() == VICTIM
    assert (volume / "planted.img").read_bytes().startswith(WRITTEN)


def test_a_name_swapped_during_a_gfapi_write_fails_naming_it(tmp_path):
    volume, victim = volume_with_victim(tmp_path)
    inside = volume / "other-vm.img"
    inside.write_bytes(b"another VM")

    def swap(target):
        os.unlink(target)
        os.symlink("other-vm.img", target)  # gfapi resolves it inside the volume

    with pytest.raises(Refusal) as caught:
        create(volume, "gfapi", meanwhile=swap)
    assert caught.value.problem == "the image path changed during this run"
    assert "is no longer the file this run created (a symlink now)" in caught.value.found
    assert victim.read_bytes() == VICTIM and not (volume / "planted.img").exists()


def test_a_symlink_planted_at_the_final_name_during_the_write_is_never_replaced(tmp_path):
    volume, victim = volume_with_victim(tmp_path)
    with pytest.raises(Refusal) as caught:
        create(volume, meanwhile=lambda _target: (volume / "planted.img").symlink_to(victim))
    assert caught.value.problem == "a file appeared at the path during this run"
    assert caught.value.found == "a symlink at vol1/planted.img"
    assert victim.read_bytes() == VICTIM and (volume / "planted.img").is_symlink()
    assert not [name for name in os.listdir(volume) if name.endswith(_qemu.PARTIAL_SUFFIX)]


def test_missing_directories_are_made_without_following_a_symlink(tmp_path):
    volume, victim = volume_with_victim(tmp_path)
    request = params(image_path="images/vm1/disk.img", format="qcow2", size="1M", access="fuse")
    observed = state(mountpoint=str(volume), gfapi=False, missing_dirs=["images", "images/vm1"])
    actions = _qemu.plan(observed, request)
    (volume / "images").symlink_to(tmp_path)  # planted after observe
    with pytest.raises(Refusal) as caught:
        _qemu.VolumeSession(read_only=False).apply(QemuImg(str(volume)), observed, request, actions)
    assert caught.value.found == "vol1/images is a symlink"
    assert not (tmp_path / "vm1").exists() and victim.read_bytes() == VICTIM


@pytest.mark.parametrize("kind", ["delete", "chown", "resize"])
def test_an_image_turned_into_a_symlink_is_refused_not_followed(tmp_path, kind):
    volume, victim = volume_with_victim(tmp_path)
    overrides = {"delete": dict(state="absent", allow_delete=True), "chown": dict(owner="12345"),
                 "resize": dict(size="60G")}[kind]
    observed = state("info-qed-50G.json", mountpoint=str(volume), wanted_uid=12345 if kind == "chown" else None)
    actions = _qemu.plan(observed, params(**overrides))
    assert [action.kind for action in actions] == [kind]
    (volume / "disk.img").symlink_to(victim)
    with pytest.raises(Refusal) as caught:
        _qemu.VolumeSession(read_only=False).apply(QemuImg(str(volume)), observed, params(**overrides), actions)
    assert caught.value.found == "a symlink at vol1/disk.img"
    assert victim.read_bytes() == VICTIM and os.stat(victim).st_uid != 12345 and (volume / "disk.img").is_symlink()


def test_growing_an_image_whose_header_now_names_a_backing_file_is_refused(tmp_path):
    volume, _victim = volume_with_victim(tmp_path)
    (volume / "disk.img").write_bytes(fixture_bytes("header-qed-backing.bin"))
    observed = state("info-qed-50G.json", mountpoint=str(volume))
    qemu_img = QemuImg(str(volume))
    with pytest.raises(Refusal) as caught:
        _qemu.VolumeSession(read_only=False).apply(qemu_img, observed, params(size="60G"), _qemu.plan(observed, params(size="60G")))
    assert "backing file /root/marker" in caught.value.found and not qemu_img.argvs


@pytest.mark.parametrize("after, found", [
    (dict(kind="symlink"), "a symlink at vol1/disk.img after this run"),
    (dict(), "no image at vol1/disk.img after this run"),
])
def test_a_reobserve_that_finds_no_image_is_a_refusal_not_a_crash(after, found):
    with pytest.raises(Refusal) as caught:
        _qemu.report(None, state(), state(**after), params(), [])
    assert caught.value.problem == "the image path changed during this run" and caught.value.found == found


def test_answers_on_a_descriptor_name_are_never_reused():
    module = ScriptedModule([(0, read_fixture("qemu", "info-qed-50G.json"), ""), (0, read_fixture("qemu", "info-qcow2-64M.json"), "")])
    runner = CommandRunner(module)
    argv = ["qemu-img", "info", "--output=json", "-U", "-f", "qed", "/proc/self/fd/5"]
    first = _qemu.read_image_info(runner, argv, pass_fds=(5,))
    second = _qemu.read_image_info(runner, argv, pass_fds=(5,))
    assert (first.format, second.format, len(module.calls)) == ("qed", "qcow2", 2)


def test_growing_an_image_a_running_vm_holds_is_refused_with_the_hypervisors_way(tmp_path):
    volume, _victim = volume_with_victim(tmp_path)
    (volume / "disk.img").write_bytes(fixture_bytes("header-qed-10G.bin"))
    observed = state("info-qed-50G.json", mountpoint=str(volume))
    actions = _qemu.plan(observed, params(size="60G"))

    class Locked(QemuImg):
        def run(self, argv, check=True, pass_fds=()):
            self.argvs.append((list(argv), tuple(pass_fds)))
            # qemu-img 7.2's answer in the lab while qemu-io held the image (fixtures/qemu/VERSIONS)
            raise CommandError(argv, 1, "", read_fixture("qemu", "resize-write-lock.txt"))

    with pytest.raises(Refusal) as caught:
        _qemu.VolumeSession(read_only=False).apply(Locked(str(volume)), observed, params(size="60G"), actions)
    assert caught.value.problem == "the image is in use" and "virsh blockresize" in caught.value.remedy
    assert (volume / "disk.img").read_bytes() == fixture_bytes("header-qed-10G.bin")
