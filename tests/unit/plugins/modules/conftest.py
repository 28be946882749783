# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() with arguments, as Ansible would, without a node.

``run_module(main, args, check_mode=False)`` returns ``("fail", result)`` when the module failed
(AnsibleModule's own argument checks, or a request rule of _plan.item_params), or
``("planned", requests)`` with the requests (items merged over the top level) that passed every
argument check: the run is stopped there, before the module observes anything. With
``stop_after_arguments=False`` the run goes on, for a refusal made before any command. A command
the module tries to run fails the test.
"""

from __future__ import annotations

import contextlib
import json
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core 2.19 and later
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # 2.18, the oldest requires_ansible allows: AnsibleModule reads _ANSIBLE_ARGS
    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))):
            yield

from ansible_collections.vmstorage.gluster.plugins.module_utils import _plan


class _Ended(BaseException):  # not an Exception: run_plan catches those
    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind = kind
        self.result = result


def _ended(kind):
    def end(_module, **result):
        raise _Ended(kind, result)
    return end


def _no_command(_module, argv, **_kwargs):
    raise AssertionError("the module ran a command in a unit test: %r" % (argv,))


def _any_binary(_module, name, **_kwargs):
    # the tools are on the nodes, not on the machine running the unit tests
    return "/usr/sbin/" + name


@pytest.fixture
def run_module():
    real_item_params = _plan.item_params

    def stop_after_item_params(module, items_option, rules):
        raise _Ended("planned", real_item_params(module, items_option, rules))

    def run(main, args, check_mode=False, stop_after_arguments=True):
        stop = stop_after_arguments and mock.patch.object(_plan, "item_params", stop_after_item_params)
        with patch_module_args(dict(args, _ansible_check_mode=check_mode)), \
                mock.patch.object(basic.AnsibleModule, "exit_json", _ended("exit")), \
                mock.patch.object(basic.AnsibleModule, "fail_json", _ended("fail")), \
                mock.patch.object(basic.AnsibleModule, "run_command", _no_command), \
                mock.patch.object(basic.AnsibleModule, "get_bin_path", _any_binary), \
                (stop or contextlib.nullcontext()):
            try:
                main()
            except _Ended as ended:
                return ended.kind, ended.result
        raise AssertionError("main() returned without exit_json or fail_json")

    return run
