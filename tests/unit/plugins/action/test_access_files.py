# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The access_files action runs on the controller: these tests run it whole on a real temporary directory."""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.vmstorage.gluster.plugins.action import access_files


def run_action(args, check_mode=False, diff=False, play_context=None):
    """ActionModule.run with a task carrying args/check_mode/diff; play_context says the opposite unless given,
    so a test passes only when the action reads the task."""
    task = SimpleNamespace(args=args, check_mode=check_mode, diff=diff, async_val=0, action="vmstorage.gluster.access_files")
    play_context = play_context or SimpleNamespace(check_mode=not check_mode, diff=not diff)
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir="/nonexistent"))
    action = access_files.ActionModule(task, connection, play_context, loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={})


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("name, plain", [
    ("vm1.yml", True), ("", False), (".", False), ("..", False), ("../vm1.yml", False), ("a/b.yml", False), ("a\0b", False),
])
def test_only_plain_names_inside_dest(name, plain):
    assert access_files.plain_name(name) is plain


def test_writes_creates_dest_and_a_second_run_changes_nothing(tmp_path):
    dest = tmp_path / "access"
    first = run_action({"dest": str(dest), "files": {"vm1.yml": "a\n", "vm2.yml": "b\n"}})
    assert first["changed"] and first["written"] == [str(dest) + "/", str(dest / "vm1.yml"), str(dest / "vm2.yml")]
    assert (dest / "vm1.yml").read_text() == "a\n" and mode_of(dest / "vm1.yml") == 0o644
    second = run_action({"dest": str(dest), "files": {"vm1.yml": "a\n", "vm2.yml": "b\n"}})
    assert not second["changed"] and second["written"] == []


@pytest.mark.parametrize("args, message", [
    ({"files": {"vm1.yml": "x"}}, "missing required arguments: dest"),
    ({"dest": "/tmp/x"}, "missing required arguments: files"),
    ({"dest": "/tmp/x", "files": ["vm1.yml"]}, "files"),
    ({"dest": "/tmp/x", "files": {}, "owner": "root"}, "owner"),
    ({"dest": "relative/dir", "files": {}}, "absolute"),
    ({"dest": "/tmp/x", "files": {"../vm1.yml": "x"}}, "plain file names"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, args, message):
    with pytest.raises(AnsibleActionFail, match=message):
        run_action(args)


@pytest.mark.parametrize("mode, before, wanted", [
    (420, None, 0o644),                      # YAML's unquoted 0644
    (0o600, None, 0o600),
    ("0644", None, 0o644),
    ("640", None, 0o640),
    ("u=rw,g=r,o=r", None, 0o644),
    ("u=rw,go=", None, 0o600),
    ("u+x", 0o600, 0o700),                   # relative to the file's mode
    ("go-rwx", 0o664, 0o600),
])
def test_mode_is_read_as_copy_reads_it(mode, before, wanted):
    assert access_files.file_mode(mode, before) == wanted


def test_a_relative_symbolic_mode_on_a_new_file_starts_from_the_umask():
    umask = os.umask(0o027)
    try:
        assert access_files.file_mode("u+x", None) == 0o740
    finally:
        os.umask(umask)


@pytest.mark.parametrize("mode, message", [
    (644, "decimal"),                        # unquoted 644 = 0o1204: sticky bit
    ("4755", "setuid"),
    ("u=rws", "setuid"),
    (0o17777, "no file mode"),
    ("rw-r--r--", "neither octal"),
    ("0999", "neither octal"),
    (True, "must be octal"),
    (6.44, "must be octal"),
])
def test_a_bad_mode_is_refused_with_the_fix(mode, message):
    with pytest.raises(ValueError, match=message):
        access_files.file_mode(mode, None)


def test_unquoted_yaml_0644_writes_0644_and_a_bad_mode_writes_nothing(tmp_path):
    run_action({"dest": str(tmp_path), "files": {"vm1.yml": "x"}, "mode": 420})
    assert mode_of(tmp_path / "vm1.yml") == 0o644
    with pytest.raises(AnsibleActionFail, match="write mode: '0644'"):
        run_action({"dest": str(tmp_path / "new"), "files": {"vm1.yml": "x"}, "mode": 644})
    assert not (tmp_path / "new").exists()


def test_only_a_mode_change_is_a_change_and_the_diff_names_both_modes(tmp_path):
    run_action({"dest": str(tmp_path), "files": {"vm1.yml": "x"}, "mode": "0600"})
    result = run_action({"dest": str(tmp_path), "files": {"vm1.yml": "x"}, "mode": "u=rw,g=r,o=r"}, diff=True)
    assert result["changed"] and mode_of(tmp_path / "vm1.yml") == 0o644
    assert [(d["before_header"], d["after_header"]) for d in result["diff"]] == [
        ("%s (mode 0600)" % (tmp_path / "vm1.yml"), "%s (mode 0644)" % (tmp_path / "vm1.yml"))]


def test_tilde_in_dest_is_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = run_action({"dest": "~/access", "files": {"vm1.yml": "x"}})
    assert result["dest"] == str(tmp_path / "access") and (tmp_path / "access" / "vm1.yml").read_text() == "x"
    assert not os.path.exists("~")


def test_check_mode_is_the_tasks_writes_nothing_and_predicts(tmp_path):
    (tmp_path / "vm1.yml").write_text("old")
    result = run_action({"dest": str(tmp_path / "sub"), "files": {"vm1.yml": "x"}}, check_mode=True)
    assert result["changed"] and result["written"] == [str(tmp_path / "sub") + "/", str(tmp_path / "sub" / "vm1.yml")]
    result = run_action({"dest": str(tmp_path), "files": {"vm1.yml": "new"}}, check_mode=True, diff=True)
    assert result["written"] == [str(tmp_path / "vm1.yml")] and result["diff"][0]["before"] == "old"
    assert sorted(os.listdir(tmp_path)) == ["vm1.yml"] and (tmp_path / "vm1.yml").read_text() == "old"


def test_diff_mode_is_the_tasks(tmp_path):
    assert "diff" not in run_action({"dest": str(tmp_path), "files": {"vm1.yml": "x"}}, diff=False)
    result = run_action({"dest": str(tmp_path), "files": {"vm1.yml": "y"}}, diff=True)
    assert [(d["before"], d["after"]) for d in result["diff"]] == [("x", "y")]


def test_write_fsyncs_the_file_before_the_rename_and_the_directory_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(handle):
        info = os.fstat(handle)
        events.append(("fsync dir" if stat.S_ISDIR(info.st_mode) else "fsync file", info.st_ino))
        real_fsync(handle)

    def rename(source, target):
        events.append(("rename", os.lstat(source).st_ino))
        real_rename(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    (tmp_path / "vm1.yml").write_text("old\n")
    access_files.write_atomically(str(tmp_path / "vm1.yml"), "new\n", 0o640)
    written, directory = os.lstat(tmp_path / "vm1.yml").st_ino, os.lstat(tmp_path).st_ino
    assert events == [("fsync file", written), ("rename", written), ("fsync dir", directory)]
    assert (tmp_path / "vm1.yml").read_text() == "new\n" and mode_of(tmp_path / "vm1.yml") == 0o640
    assert sorted(os.listdir(tmp_path)) == ["vm1.yml"]


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path, monkeypatch):
    (tmp_path / "vm1.yml").write_text("old\n")

    def rename(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError):
        access_files.write_atomically(str(tmp_path / "vm1.yml"), "new\n", 0o644)
    assert sorted(os.listdir(tmp_path)) == ["vm1.yml"] and (tmp_path / "vm1.yml").read_text() == "old\n"


def test_a_link_at_a_file_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("precious\n")
    (tmp_path / "access").mkdir()
    (tmp_path / "access" / "vm1.yml").symlink_to(target)
    with pytest.raises(AnsibleActionFail, match="vm1.yml is a symbolic link to %s; .* Move it away" % target):
        run_action({"dest": str(tmp_path / "access"), "files": {"vm1.yml": "x", "vm0.yml": "y"}})
    assert target.read_text() == "precious\n" and os.path.islink(tmp_path / "access" / "vm1.yml")
    assert sorted(os.listdir(tmp_path / "access")) == ["vm1.yml"]  # vm0.yml, sorted before, neither: refused first


def test_a_link_planted_after_the_look_is_replaced_not_written_through(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("precious\n")
    (tmp_path / "vm1.yml").symlink_to(target)
    access_files.write_atomically(str(tmp_path / "vm1.yml"), "x", 0o644)
    assert target.read_text() == "precious\n"
    assert not os.path.islink(tmp_path / "vm1.yml") and (tmp_path / "vm1.yml").read_text() == "x"


def test_a_link_planted_between_lstat_and_open_is_not_read_through(tmp_path, monkeypatch):
    target = tmp_path / "secret"
    target.write_text("secret\n")
    (tmp_path / "vm1.yml").symlink_to(target)
    regular = os.lstat(target)
    monkeypatch.setattr(os, "lstat", lambda path: regular)  # what lstat saw before the link was planted
    with pytest.raises(AnsibleActionFail, match="changed while read"):
        access_files.current(str(tmp_path / "vm1.yml"))


def test_a_dest_that_is_no_directory_is_refused(tmp_path):
    (tmp_path / "access").write_text("a file")
    with pytest.raises(AnsibleActionFail, match="is no directory"):
        run_action({"dest": str(tmp_path / "access"), "files": {"vm1.yml": "x"}})
    assert (tmp_path / "access").read_text() == "a file"


def test_current_reads_content_and_mode_and_refuses_what_is_no_file(tmp_path):
    assert access_files.current(str(tmp_path / "missing.yml")) == (None, None)
    (tmp_path / "vm1.yml").write_text("x")
    os.chmod(tmp_path / "vm1.yml", 0o600)
    assert access_files.current(str(tmp_path / "vm1.yml")) == ("x", 0o600)
    (tmp_path / "dir.yml").mkdir()
    with pytest.raises(AnsibleActionFail, match="not a regular file"):
        access_files.current(str(tmp_path / "dir.yml"))


def test_a_retired_vms_file_is_removed_once_and_check_mode_only_predicts(tmp_path):
    dest = tmp_path / "access"
    run_action({"dest": str(dest), "files": {"vm1.yml": "a\n", "vm2.yml": "b\n"}})
    checked = run_action({"dest": str(dest), "files": {"vm1.yml": "a\n"}, "absent": ["vm2.yml"]}, check_mode=True, diff=True)
    assert checked["changed"] and checked["removed"] == [str(dest / "vm2.yml")] and (dest / "vm2.yml").exists()
    assert checked["diff"] == [{"before_header": str(dest / "vm2.yml") + " (mode 0644)", "after_header": str(dest / "vm2.yml") + " (absent)",
                                "before": "b\n", "after": ""}]
    removed = run_action({"dest": str(dest), "files": {"vm1.yml": "a\n"}, "absent": ["vm2.yml"]})
    assert removed["changed"] and removed["removed"] == [str(dest / "vm2.yml")] and not (dest / "vm2.yml").exists()
    again = run_action({"dest": str(dest), "files": {"vm1.yml": "a\n"}, "absent": ["vm2.yml"]})
    assert not again["changed"] and again["removed"] == []


def test_a_link_where_a_retired_file_was_is_refused_and_nothing_changes(tmp_path):
    dest = tmp_path / "access"
    dest.mkdir()
    (tmp_path / "elsewhere").write_text("keep\n")
    (dest / "vm2.yml").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(AnsibleActionFail, match="symbolic link"):
        run_action({"dest": str(dest), "files": {"vm1.yml": "a\n"}, "absent": ["vm2.yml"]})
    assert not (dest / "vm1.yml").exists() and (tmp_path / "elsewhere").read_text() == "keep\n"


@pytest.mark.parametrize("absent", [["../vm2.yml"], ["vm1.yml"]])
def test_absent_takes_plain_names_that_files_does_not_write(tmp_path, absent):
    with pytest.raises(AnsibleActionFail, match="absent must list plain file names"):
        run_action({"dest": str(tmp_path), "files": {"vm1.yml": "a\n"}, "absent": absent})
