# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The built collection carries what its docs link and nothing that only makes sense in a checkout.

Builds the real tarball with ansible-galaxy (as a user or Galaxy gets it) and reads its member list.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile

import pytest

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
GALAXY = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
# checkout-only: the lab and what runs on it, the demo, the bench's runner
NOT_SHIPPED = ("molecule/", "tests/lab/", "tests/phase", "demo/", "bench/run.py", "docs/lab.md")
# a Markdown link or image whose target is a path, not a URL or an anchor
LINK = re.compile(r"\]\((?![a-z]+:|#)([^)#\s]+)")

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(REPO, "galaxy.yml")), reason="runs in a checkout only")


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    subprocess.run([GALAXY, "collection", "build", "--output-path", str(out), REPO], check=True, capture_output=True)
    (tarball,) = out.iterdir()
    with tarfile.open(tarball) as archive:
        return {member.name: archive.extractfile(member).read() if member.isfile() else None
                for member in archive.getmembers()}


def test_nothing_checkout_only_is_shipped(members):
    shipped = sorted(name for name in members if name.startswith(NOT_SHIPPED))
    assert shipped == [], shipped


def test_the_content_is_shipped(members):
    for name in ("README.md", "LICENSE", "meta/runtime.yml", "plugins/modules/thin_lv.py", "roles/brick/tasks/main.yml",
                 "playbooks/site.yml", "docs/glossary.md"):
        assert name in members, name


def test_every_link_of_a_shipped_document_is_shipped(members):
    broken = []
    for name, data in sorted(members.items()):
        if not name.endswith(".md") or data is None:
            continue
        for target in LINK.findall(data.decode("utf-8")):
            path = os.path.normpath(os.path.join(os.path.dirname(name), target))
            if path not in members:
                broken.append("%s -> %s" % (name, target))
    assert broken == [], broken
