# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab (tests/lab/lab) refuses a state or cache dir someone else could change.

Root writes files there and runs one (connect.py, the ssh ProxyCommand): a local user who made
the directory first would run code as root. These run the real `lab up` on temporary dirs; it
must refuse before it does anything (no lab dir, no log, no package install), naming the path,
what it found and what to do. No lab is started: a refusal ends it, and the positive control
runs a command that only reads.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import subprocess
import sys

import pytest

LAB = os.path.join(os.path.dirname(__file__), "..", "lab", "lab.py")
NAME = "unitdirs"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the lab runs as root only")


def lab(command, base, cache):
    env = dict(os.environ, VMSTORAGE_LAB=NAME, VMSTORAGE_LAB_DIR=str(base), VMSTORAGE_LAB_CACHE=str(cache))
    env.pop("VMSTORAGE_LAB_SUBNET", None)
    return subprocess.run([sys.executable, LAB, command], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=False)


def nobody():
    return pwd.getpwnam("nobody").pw_uid


def assert_refused(result, path, found):
    assert result.returncode == 1, result
    assert "lab: error:" in result.stderr
    assert str(path) in result.stderr and found in result.stderr, result.stderr
    assert "chmod go-w" in result.stderr and "mv " in result.stderr, result.stderr


def test_state_base_writable_by_others_is_refused(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    base.chmod(0o777)
    result = lab("up", base, tmp_path / "cache")
    assert_refused(result, base, "mode 0777")
    assert os.listdir(base) == []  # not even the lab dir or its log


@pytest.mark.parametrize("made_first", ["base", "lab dir"])
def test_a_dir_owned_by_another_user_is_refused(tmp_path, made_first):
    """The state base, or this lab's dir inside it, made first by another user (nobody)."""
    base = tmp_path / "base"
    base.mkdir()
    planted = base if made_first == "base" else base / NAME
    planted.mkdir(exist_ok=True)
    os.chown(planted, nobody(), -1)
    result = lab("up", base, tmp_path / "cache")
    assert_refused(result, planted, "owned by uid %d (nobody)" % nobody())
    assert os.listdir(planted) == []  # not even the lab dir or its log


def test_state_base_symlink_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    base = tmp_path / "base"
    base.symlink_to(target)
    result = lab("up", base, tmp_path / "cache")
    assert_refused(result, base, "is a symlink (to %s)" % target)
    assert os.listdir(target) == []


def test_cache_writable_by_others_is_refused(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    result = lab("up", tmp_path / "base", cache)
    assert_refused(result, cache, "mode 0777")
    assert os.listdir(cache) == []


def test_safe_dirs_are_made_root_only_and_accepted(tmp_path):
    # positive control: the same call on dirs nobody else can change gets past the check
    base, cache = tmp_path / "base", tmp_path / "cache"
    os.umask(0o000)  # the lab must not depend on the caller's umask
    try:
        result = lab("inventory", base, cache)
    finally:
        os.umask(0o022)
    assert result.returncode == 1 and "is not up" in result.stderr, result
    assert "must be a directory owned by root" not in result.stderr
    for path in (base, base / NAME, cache):
        st = os.lstat(path)
        assert st.st_uid == 0 and (st.st_mode & 0o7777) == 0o755, (path, oct(st.st_mode))


def lab_module():
    """tests/lab/lab.py itself, imported: its file writers are tested on planted links below."""
    spec = importlib.util.spec_from_file_location("vmstorage_lab", LAB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_link_planted_at_the_log_is_not_followed(tmp_path):
    """The lab dir made right (root, 0755), but a link planted at its log: the lab stops, the target is untouched."""
    base, cache = tmp_path / "base", tmp_path / "cache"
    (base / NAME).mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("root's file\n")
    (base / NAME / "lab.log").symlink_to(victim)
    result = lab("down", base, cache)
    assert result.returncode == 1 and "lab: error:" in result.stderr, result
    assert "lab.log is a symbolic link (to %s)" % victim in result.stderr and "remove it" in result.stderr, result.stderr
    assert victim.read_text() == "root's file\n"
    assert os.path.islink(base / NAME / "lab.log")


PLANTED = [("state.json", "state.json"), ("inventory.yml", "inventory.yml"), ("ssh_config", "ssh_config"),
           (".state.json.tmp", "state.json")]


@pytest.mark.parametrize("planted, target", PLANTED)
def test_write_file_replaces_a_planted_link_and_leaves_its_target(tmp_path, planted, target):
    """write_file, which writes the state, the inventory and the ssh config, on a link planted at the
    target (or at the fixed temp name older versions used): the target becomes a regular file of
    root's, the file the link pointed to keeps its content."""
    module = lab_module()
    victim = tmp_path / "victim"
    victim.write_text("root's file\n")
    (tmp_path / planted).symlink_to(victim)
    module.write_file(str(tmp_path / target), "written by the lab\n")
    assert victim.read_text() == "root's file\n"
    assert not os.path.islink(tmp_path / target) and (tmp_path / target).read_text() == "written by the lab\n"
    assert (os.lstat(tmp_path / target).st_mode & 0o777) == 0o644
