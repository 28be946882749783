# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Python file and shell script of the repository says its license in SPDX form in its header."""

from __future__ import annotations

import os
import subprocess

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPDX = "# SPDX-License-Identifier: GPL-3.0-or-later\n"


def scripts():
    """Tracked Python files and shell scripts (by name or shebang), the Makefile; not the captured fixtures, and not
    tests/lab/guest/ (it goes into the lab's image: any byte changed there rebuilds the image on every machine)."""
    try:
        listed = subprocess.run(["git", "-C", REPO_ROOT, "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    for path in listed:
        full = os.path.join(REPO_ROOT, path)
        if path.startswith(("tests/unit/fixtures/", "tests/lab/guest/")) or not os.path.isfile(full):
            continue
        with open(full, encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
        if path.endswith((".py", ".sh")) or path == "Makefile" or (first.startswith("#!") and ("python" in first or "sh" in first)):
            yield path, full


def header(full):
    """The leading comment lines (and the line before a docstring's end, for files that open with one)."""
    lines = []
    with open(full, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            lines.append(line)
    return lines


def test_every_script_has_the_spdx_line_in_its_header():
    assert [path for path, full in scripts() if SPDX not in header(full)] == []
