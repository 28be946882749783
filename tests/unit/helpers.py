# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the unit tests share: the captured fixtures, the one scripted AnsibleModule, and the request
options of the modules as the tests start from them.

Test files import from here and never from each other (pytest imports a test file under its base name
too, so a test file imported by another ran twice under two names). Not collected: no test_ prefix.
"""

from __future__ import annotations

import collections
import functools
import json
import os

from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster, _qemu

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def read_fixture(*names):
    """The text of a fixture file captured from the lab (tests/unit/fixtures/...)."""
    with open(os.path.join(FIXTURES, *names), encoding="utf-8") as handle:
        return handle.read()


def fixture_bytes(*names):
    with open(os.path.join(FIXTURES, *names), "rb") as handle:
        return handle.read()


gluster_fixture = functools.partial(read_fixture, "gluster")
qemu_fixture_bytes = functools.partial(fixture_bytes, "qemu")

# ---------------------------------------------------------------- the AnsibleModule the runner and run_plan see

Call = collections.namedtuple("Call", "argv environ_update pass_fds")


class ScriptedModule:
    """An AnsibleModule stand-in that answers commands from a script and records them.

    ``answers``, in order: ``(rc, stdout, stderr)``, or ``(argv_tail, (rc, stdout, stderr))`` which also
    asserts that the command (without its binary) starts with ``argv_tail``. ``always`` answers every
    command past the script; with neither, one more command fails the test. ``calls`` holds each command
    as given (argv with the binary's path). For run_plan: ``params``, ``check_mode``, ``_diff``,
    ``warnings``; exit_json/fail_json store ("exit"|"fail", result) in ``exit`` and raise SystemExit.
    """

    # where Debian 12 has them (the tests assert some absolute argv[0])
    BIN_DIRS = {"qemu-img": "/usr/bin", "qemu-io": "/usr/bin"}

    def __init__(self, answers=(), always=None, params=None, check_mode=False, diff=False):
        self.answers = list(answers)
        self.always = always
        self.calls = []
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []
        self.exit = None

    def get_bin_path(self, name, required=False):
        return os.path.join(self.BIN_DIRS.get(name, "/usr/sbin"), name)

    def run_command(self, argv, environ_update=None, data=None, binary_data=False, pass_fds=()):
        self.calls.append(Call(list(argv), environ_update, tuple(pass_fds)))
        if not self.answers:
            assert self.always is not None, "command not in the script: %r" % (argv,)
            return self.always
        answer = self.answers.pop(0)
        if len(answer) == 2:
            expected, answer = answer
            assert argv[1:1 + len(expected)] == expected, argv
        return answer

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        self.exit = ("exit", result)
        raise SystemExit(0)

    def fail_json(self, **result):
        self.exit = ("fail", result)
        raise SystemExit(1)


# ---------------------------------------------------------------- gluster_replica_volume requests

GLUSTER_NODES = ["node1", "node2", "node3"]
GLUSTER_BRICK = "/srv/vmdisks/data"


def gluster_params(**overrides):
    base = dict(name="vmdisks", state="started", nodes=list(GLUSTER_NODES), brick_path=GLUSTER_BRICK, brick_addresses=None, replica=3,
                arbiter=False, options=None, option_groups=None, auth_allow=None, allow_any_client=False, allow_delete=False,
                peer_timeout=60)
    base.update(overrides)
    return base


def gluster_new_volume_state(pool="pool_list_three.xml"):
    """node1's view before a new volume: the pool, gluster's documented options and their defaults."""
    help_xml = gluster_fixture("volume_set_help.xml")
    names = {"node%d" % index: {"node%d" % index, "10.102.193.%d" % (10 + index)} for index in (1, 2, 3)}
    return _gluster.ClusterState(None, _gluster.parse_pool(gluster_fixture(pool)), names, {"node1", "10.102.193.11"}, None,
                                 _gluster.parse_option_help(help_xml), {},
                                 option_defaults=_gluster.parse_option_defaults(help_xml))


# ---------------------------------------------------------------- qemu_gluster_image requests

QEMU_MOUNT = "/tmp/vmstorage-qemu-test/volume"


def qemu_params(**overrides):
    base = dict(
        volume="vol1", image_path="disk.img", nodes=["node1", "node2"], port=24007, size="50G", format="qed",
        preallocation=None, state="present", source=None, source_format=None, access="auto", owner=None,
        group=None, allow_delete=False, allow_source_backing_file=False,
    )
    base.update(overrides)
    return base


def qemu_image(name):
    """ImageInfo from captured `qemu-img info --output=json` (tests/unit/fixtures/qemu/NAME)."""
    return _qemu.ImageInfo.from_info(json.loads(read_fixture("qemu", name)))


def qemu_state(existing=None, **attributes):
    """What observe() found at the image path: nothing, or the image of fixture ``existing``; then ``attributes``."""
    observed = _qemu.ImageState(QEMU_MOUNT)
    if existing is not None:
        observed.kind = "file"
        observed.image = qemu_image(existing)
        observed.uid = observed.gid = 0
    observed.gfapi = True
    observed.volfile_server = "node1"
    for key, value in attributes.items():
        setattr(observed, key, value)
    return observed
