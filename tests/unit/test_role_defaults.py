# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role defaults that depend on where and how ansible-playbook runs, evaluated by the real ansible-playbook.

The access folder's default: next to a file inventory; with an inventory that is no file (a comma list,
whose inventory_dir is None, or the string 'None' on ansible-core 2.19) the current directory of
ansible-playbook, never 'None/vmstorage-access'.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK_COMMAND = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
DEFAULTS = os.path.join(REPO, "roles", "vm_disk", "defaults", "main.yml")
ACCESS_DIR = "__vm_disk_access_files_dir"


def access_files_dir(cwd, inventory, *extra):
    """The access folder the vm_disk role would use for the first host of INVENTORY, run from CWD."""
    playbook = os.path.join(str(cwd), "show.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write("- hosts: all\n  gather_facts: false\n  vars_files: [%s]\n  tasks:\n"
                     "    - ansible.builtin.debug: {var: %s}\n      run_once: true\n" % (json.dumps(DEFAULTS), ACCESS_DIR))
    result = subprocess.run([PLAYBOOK_COMMAND, "-i", inventory, "-c", "local", playbook] + list(extra), cwd=str(cwd),
                            capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    return re.search(r'"%s": "([^"]*)"' % ACCESS_DIR, result.stdout).group(1)


def test_next_to_a_file_inventory(tmp_path):
    inventory = tmp_path / "site" / "hosts.yml"
    inventory.parent.mkdir()
    inventory.write_text("all:\n  hosts:\n    nod-1:\n", encoding="utf-8")
    assert access_files_dir(tmp_path, str(inventory)) == str(tmp_path / "site" / "vmstorage-access")


def test_the_current_directory_with_a_comma_inventory(tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    assert access_files_dir(cwd, "nod-1,nod-2,nod-3,") == os.path.realpath(str(cwd / "vmstorage-access"))


def test_the_variable_wins(tmp_path):
    assert access_files_dir(tmp_path, "nod-1,", "-e", "vmstorage_access_files_dir=/srv/access") == "/srv/access"
