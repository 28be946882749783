# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""unknown_variables: the vmstorage_* names meta/variables.yml does not have, with the one meant."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.vmstorage.gluster.plugins.filter.unknown_variables import unknown_variables

SOURCE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "meta", "variables.yml")


def test_every_variable_of_the_source_is_known():
    with open(SOURCE, encoding="utf-8") as handle:
        names = list(yaml.safe_load(handle)["variables"])
    assert "vmstorage_thinpool" in names
    assert unknown_variables(names) == []


def test_a_misspelt_variable_names_the_one_meant():
    assert unknown_variables(["vmstorage_vms", "vmstorage_thin_pool"]) == [
        "unknown variable vmstorage_thin_pool, did you mean vmstorage_thinpool?"]


def test_a_former_name_names_its_new_name():
    assert unknown_variables(["vmstorage_gluster_hosts", "vmstorage_access_dir"]) == [
        "unknown variable vmstorage_access_dir, did you mean vmstorage_access_files_dir?",
        "unknown variable vmstorage_gluster_hosts, did you mean vmstorage_nodes?"]


def test_a_name_like_none_is_named_alone():
    # the shared prefix alone does not make a match
    assert unknown_variables(["vmstorage_xyzzy_q"]) == ["unknown variable vmstorage_xyzzy_q."]


def test_not_a_list_is_an_error():
    with pytest.raises(AnsibleFilterError):
        unknown_variables("vmstorage_vg")
