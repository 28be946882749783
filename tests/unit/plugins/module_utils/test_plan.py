# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Action, Refusal
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner


class FakeModule:
    """Just the two AnsibleModule methods the runner calls."""

    def __init__(self, rc=0, stdout="", stderr=""):
        self.calls = []
        self.answer = (rc, stdout, stderr)

    def get_bin_path(self, name, required=False):
        return "/usr/sbin/" + name

    def run_command(self, argv, environ_update=None, data=None, binary_data=False):
        self.calls.append((argv, environ_update))
        return self.answer


def test_refusal_message_names_found_requested_and_remedy():
    refusal = Refusal("will not shrink", "10 GiB", "5 GiB", "Grow it instead.")
    assert str(refusal) == "will not shrink: found 10 GiB; asked for 5 GiB. Grow it instead."
    assert refusal.as_result()["found"] == "10 GiB"


def test_actions_compare_by_content():
    assert Action("mkdir", "create /srv/a", path="/srv/a") == Action("mkdir", "create /srv/a", path="/srv/a")
    assert Action("mkdir", "create /srv/a", path="/srv/a") != Action("mkdir", "create /srv/b", path="/srv/b")


def test_runner_uses_c_locale_and_resolves_binaries():
    module = FakeModule(stdout='{"a": 1}')
    result = CommandRunner(module).run(["lvs", "--reportformat", "json"])
    argv, env = module.calls[0]
    assert argv[0] == "/usr/sbin/lvs"
    assert env["LANG"] == "C" and env["LC_ALL"] == "C"
    assert result.json() == {"a": 1}


def test_runner_raises_with_command_and_stderr():
    module = FakeModule(rc=5, stderr="Volume group \"nope\" not found")
    try:
        CommandRunner(module).run(["vgs", "nope"])
    except CommandError as err:
        assert err.rc == 5
        assert "vgs nope" in str(err) and "not found" in str(err)
    else:
        raise AssertionError("CommandError expected")


class LosingModule(FakeModule):
    """Answers like run_command when it missed a tool's output: rc 0, nothing on stdout, once."""

    def __init__(self, stdout):
        super().__init__(stdout=stdout)
        self.lost = 1

    def run_command(self, argv, environ_update=None, data=None, binary_data=False):
        self.calls.append((argv, environ_update))
        if self.lost:
            self.lost -= 1
            return 0, "", ""
        return self.answer


def test_query_asks_a_read_only_command_again_when_its_answer_was_lost():
    module = LosingModule(stdout='{"report": []}')
    assert CommandRunner(module).query(["lvs", "--reportformat", "json"]).json() == {"report": []}
    assert len(module.calls) == 2
