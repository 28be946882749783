#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# The work is done on the controller by plugins/action/access_files.py; this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
module: access_files
short_description: Small text files on the controller, many in one task (the VMs' access files)
version_added: 0.1.0
description:
  - Writes each file of O(files) into the controller directory O(dest) when its content or mode differs, atomically
    (a temporary file in O(dest), fsync, rename, fsync of O(dest)). Creates O(dest) (mode 0755) when missing. Files not
    listed are left alone.
  - Never writes through a symbolic link. A link (or anything but a regular file) at the place of a file is refused,
    with nothing written; a link planted there while the task runs is replaced by the file, not followed.
  - Runs in the controller process, with no module per file, so writing one access file per VM costs nothing per VM
    on a re-run. The vm_disk role uses it for C(<access_dir>/<vm>.yml).
author:
  - vmstorage.gluster developers (@vmstorage)
options:
  dest:
    description: Absolute path of the directory on the controller; C(~) and environment variables are expanded.
    type: path
    required: true
  files:
    description: File names (plain names inside O(dest)) to their text.
    type: dict
    required: true
  absent:
    description:
      - File names (plain names inside O(dest)) to remove when they exist, for example the access files of retired VMs.
        Only regular files are removed; anything else there (a symbolic link, a directory) is refused with nothing
        changed. A name may not be in O(files) too.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  mode:
    description:
      - Mode of every file written, read as M(ansible.builtin.copy) reads its O(ansible.builtin.copy#module:mode)
        option. A string is octal (V('0644')) or symbolic like chmod's (V(u=rw,g=r,o=r); a relative form like V(u+x)
        starts from the file's mode, or for a new file from 0666 less the umask). A number is the mode itself, so an
        unquoted YAML V(0644) is octal 0644.
      - The setuid, setgid and sticky bits are refused (these are data files); an unquoted V(644) is decimal in YAML,
        which is 01204, and is refused with the fix.
    type: raw
    default: "0644"
attributes:
  action:
    description: Runs on the controller.
    support: full
  check_mode:
    description: Reports what would be written and writes nothing.
    support: full
  diff_mode:
    description: Shows each written file's content before and after.
    support: full
  platform:
    description: The controller.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: One file per VM on the controller
  vmstorage.gluster.access_files:
    dest: /srv/ansible/vmstorage-access
    files:
      mapserver.yml: "uri: gluster://nod-1/mapserver/disk.img\n"
      webfront.yml: "uri: gluster://nod-1/webfront/disk.img\n"
  run_once: true
"""

RETURN = r"""
written:
  description: The paths written (or, in check mode, that would be); O(dest) with a trailing C(/) when it was created.
  returned: always
  type: list
  elements: str
  sample: [/srv/ansible/vmstorage-access/mapserver.yml]
removed:
  description: The paths of O(absent) removed (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [/srv/ansible/vmstorage-access/webfront.yml]
  version_added: 0.2.0
dest:
  description: The directory.
  returned: always
  type: str
  sample: /srv/ansible/vmstorage-access
"""
