# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test ``vmstorage.gluster.volume_name``: the modules' own volume-name rule, for the roles.

Why a test plugin: a role checks the VM names before anything is made, and a Jinja regex of its own
drifted from the modules' rule (a leading '-', 'all'); this calls the one rule in module_utils.
"""

from __future__ import annotations

from ansible_collections.vmstorage.gluster.plugins.module_utils._gluster import valid_volume_name


def volume_name(value):
    """Whether ``value`` is a gluster volume name the collection accepts (module_utils/_gluster.py)."""
    return valid_volume_name(value)


class TestModule:
    """The collection's Jinja tests."""

    def tests(self):
        return {"volume_name": volume_name}
