# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The unit tests share their doubles and builders through tests/unit/helpers.py only."""

from __future__ import annotations

import os
import re

UNIT = os.path.dirname(os.path.abspath(__file__))
TEST_IMPORT = re.compile(r"^\s*(from|import)\s+(\S*\.)?(test_\w+|conftest)\b", re.M)
FAKE_CLASS = re.compile(r"^class \w*(Scripted|Fake|Batch|Losing)\w*Module\b", re.M)


def python_files():
    for directory, _dirs, names in os.walk(UNIT):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    yield os.path.relpath(path, UNIT), handle.read()


def test_no_test_file_imports_another_test_file_or_conftest():
    assert [(path, match.group(0).strip()) for path, text in python_files() for match in TEST_IMPORT.finditer(text)] == []


def test_the_scripted_module_is_defined_once_in_helpers():
    assert [path for path, text in python_files() if FAKE_CLASS.search(text)] == ["helpers.py"]
