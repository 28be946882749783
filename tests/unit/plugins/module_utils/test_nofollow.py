# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""walk_directories on a real directory tree: links are refused, never followed, also when creating."""

from __future__ import annotations

import os

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils._nofollow import Blocked, kind_in, walk_directories


def test_walks_existing_parts_and_reports_the_first_missing_one(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    descriptor, missing = walk_directories(str(tmp_path), ["a", "b", "c", "d"])
    try:
        assert missing == 2
        assert os.path.samestat(os.fstat(descriptor), os.stat(tmp_path / "a" / "b"))
    finally:
        os.close(descriptor)


def test_creates_missing_parts(tmp_path):
    descriptor, missing = walk_directories(str(tmp_path), ["a", "b"], create=True)
    os.close(descriptor)
    assert missing is None and (tmp_path / "a" / "b").is_dir()


@pytest.mark.parametrize("create", [False, True])
def test_a_link_on_the_way_is_refused_and_nothing_is_made_through_it(tmp_path, create):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "b").symlink_to(outside)
    with pytest.raises(Blocked) as blocked:
        walk_directories(str(root), ["a", "b", "c"], create=create)
    assert (blocked.value.path, blocked.value.kind) == ("a/b", "a symlink")
    assert os.listdir(outside) == []


def test_a_file_on_the_way_is_not_a_directory(tmp_path):
    (tmp_path / "a").write_text("x")
    with pytest.raises(Blocked) as blocked:
        walk_directories(str(tmp_path), ["a", "b"], create=True)
    assert (blocked.value.path, blocked.value.kind) == ("a", "not a directory")


def test_kind_in_does_not_follow(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path)
    descriptor = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert [kind_in(descriptor, name) for name in ("link", "missing")] == ["symlink", "gone"]
    finally:
        os.close(descriptor)
