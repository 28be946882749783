# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.vmstorage.gluster.plugins.action import access_files


@pytest.mark.parametrize("name, plain", [
    ("vm1.yml", True), ("", False), (".", False), ("..", False), ("../vm1.yml", False), ("a/b.yml", False), ("a\0b", False),
])
def test_only_plain_names_inside_dest(name, plain):
    assert access_files.plain_name(name) is plain


def test_write_replaces_the_file_whole_with_the_mode_and_leaves_no_partial(tmp_path):
    path = tmp_path / "vm1.yml"
    path.write_text("old\n")
    access_files.write_atomically(str(path), "new\n", 0o640)
    assert path.read_text() == "new\n" and oct(os.stat(path).st_mode & 0o777) == "0o640"
    assert sorted(os.listdir(tmp_path)) == ["vm1.yml"]


def test_current_reads_content_and_mode_and_refuses_what_is_no_file(tmp_path):
    assert access_files.current(str(tmp_path / "missing.yml")) == (None, None)
    (tmp_path / "vm1.yml").write_text("x")
    os.chmod(tmp_path / "vm1.yml", 0o600)
    assert access_files.current(str(tmp_path / "vm1.yml")) == ("x", 0o600)
    (tmp_path / "dir.yml").mkdir()
    with pytest.raises(AnsibleActionFail, match="not a regular file"):
        access_files.current(str(tmp_path / "dir.yml"))
