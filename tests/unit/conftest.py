# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ``ansible_collections.vmstorage.gluster`` importable when pytest runs from a plain clone.

ansible-test units runs from inside ansible_collections/vmstorage/gluster and needs nothing;
plain ``pytest tests/unit`` (as ``make units`` runs it) gets a symlinked collection tree in a
temporary directory put first on sys.path.
"""

from __future__ import annotations

import os
import sys
import tempfile

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _collection_root():
    parts = REPO_ROOT.split(os.sep)
    if len(parts) >= 3 and parts[-3] == "ansible_collections":
        return None
    root = tempfile.mkdtemp(prefix="vmstorage-collections-")
    namespace = os.path.join(root, "ansible_collections", "vmstorage")
    os.makedirs(namespace)
    os.symlink(REPO_ROOT, os.path.join(namespace, "gluster"))
    return root


_ROOT = _collection_root()
if _ROOT is not None:
    sys.path.insert(0, _ROOT)
