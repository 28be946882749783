# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Action, Refusal, item_params, run_plan
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner
from ansible_collections.vmstorage.gluster.tests.unit.helpers import ScriptedModule


def test_refusal_message_names_found_requested_and_remedy():
    refusal = Refusal("will not shrink", "10 GiB", "5 GiB", "Grow it instead.")
    assert str(refusal) == "will not shrink: found 10 GiB; asked for 5 GiB. Grow it instead."
    assert refusal.as_result()["found"] == "10 GiB"


def test_actions_compare_by_content():
    assert Action("mkdir", "create /srv/a", path="/srv/a") == Action("mkdir", "create /srv/a", path="/srv/a")
    assert Action("mkdir", "create /srv/a", path="/srv/a") != Action("mkdir", "create /srv/b", path="/srv/b")


def test_runner_uses_c_locale_and_resolves_binaries():
    module = ScriptedModule(always=(0, '{"a": 1}', ""))
    result = CommandRunner(module).run(["lvs", "--reportformat", "json"])
    argv, env = module.calls[0].argv, module.calls[0].environ_update
    assert argv[0] == "/usr/sbin/lvs"
    assert env["LANG"] == "C" and env["LC_ALL"] == "C"
    assert result.json() == {"a": 1}


def test_runner_raises_with_command_and_stderr():
    module = ScriptedModule(always=(5, "", "Volume group \"nope\" not found"))
    try:
        CommandRunner(module).run(["vgs", "nope"])
    except CommandError as err:
        assert err.rc == 5
        assert "vgs nope" in str(err) and "not found" in str(err)
    else:
        raise AssertionError("CommandError expected")


def test_query_asks_a_read_only_command_again_when_its_answer_was_lost():
    module = ScriptedModule([(0, "", "")], always=(0, '{"report": []}', ""))  # the first answer lost
    assert CommandRunner(module).query(["lvs", "--reportformat", "json"]).json() == {"report": []}
    assert len(module.calls) == 2


# ---------------------------------------------------------------- answers shared within a run

def test_read_answers_the_same_question_once_until_a_command_runs():
    module = ScriptedModule(always=(0, "answer", ""))
    runner = CommandRunner(module)
    runner.read(["lvs"])
    runner.read(["lvs"])
    runner.query(["lvs"])
    assert len(module.calls) == 1
    runner.run(["lvcreate", "x"])
    runner.read(["lvs"])
    assert [call.argv[0] for call in module.calls] == ["/usr/sbin/lvs", "/usr/sbin/lvcreate", "/usr/sbin/lvs"]


def test_read_does_not_remember_failures():
    module = ScriptedModule(always=(1, "", "busy"))
    runner = CommandRunner(module)
    assert runner.read(["gluster", "pool", "list"], check=False).rc == 1
    runner.read(["gluster", "pool", "list"], check=False)
    assert len(module.calls) == 2


# ---------------------------------------------------------------- one run, many items

class Node:
    """A node holding named things; observe/plan/apply/report over it, as a module's domain does."""

    def __init__(self, *things):
        self.things = set(things)
        self.applied = []
        self.observed = 0

    def observe(self, _runner, params):
        self.observed += 1
        return set(self.things)

    @staticmethod
    def plan(state, params):
        if params["name"].startswith("bad"):
            raise Refusal("bad name", params["name"], "a good name", "Rename it.")
        needs = [] if "vg" in state else [Action("vg", "create vg", ["vgcreate"])]
        return needs + ([] if params["name"] in state else [Action("make", "make %s" % params["name"], ["make", params["name"]])])

    def apply(self, _runner, _state, params, actions):
        for action in actions:
            self.applied.append(action.summary)
            self.things.add("vg" if action.kind == "vg" else params["name"])

    @staticmethod
    def report(_runner, before, after, params, _actions):
        return {"name": params["name"], "diff": {"before": sorted(before), "after": sorted(after) if after else None}}


def run_batch(node, items, check_mode=False, rules=None):
    module = ScriptedModule(params={"name": None, "items": items, "size": "1G"}, check_mode=check_mode, diff=True)
    try:
        run_plan(module, node.observe, node.plan, node.apply, node.report, items_option="items", rules=rules or {})
    except SystemExit:
        pass
    return module.exit


def test_batch_applies_each_item_planned_on_what_earlier_items_made():
    node = Node("b")
    kind, result = run_batch(node, [{"name": "a"}, {"name": "b"}, {"name": "c"}])
    assert kind == "exit" and result["changed"]
    # the VG is made once (by the first item); b existed; every item reports
    assert node.applied == ["create vg", "make a", "make c"]
    assert [item["changed"] for item in result["results"]] == [True, False, True]
    assert [item["name"] for item in result["results"]] == ["a", "b", "c"]
    assert len(result["diff"]) == 3


def test_batch_check_mode_predicts_shared_actions_once_and_changes_nothing():
    node = Node()
    kind, result = run_batch(node, [{"name": "a"}, {"name": "c"}], check_mode=True)
    assert kind == "exit" and node.applied == []
    assert result["actions"] == ["create vg", "make a", "make c"]


def test_batch_refusal_of_one_item_changes_nothing_and_names_it():
    node = Node()
    kind, result = run_batch(node, [{"name": "a"}, {"name": "bad1"}])
    assert kind == "fail" and node.applied == []
    assert result["msg"].startswith("item 1: bad name: found bad1")


def test_batch_converged_items_cost_one_observation_each():
    node = Node("vg", "a", "b")
    kind, result = run_batch(node, [{"name": "a"}, {"name": "b"}])
    assert kind == "exit" and not result["changed"] and node.observed == 2


def test_items_inherit_top_level_params_and_merge_dicts():
    items = [{"name": "x", "size": None, "options": {"b": "3"}}, {"name": "y", "size": "2G", "options": None}]
    module = ScriptedModule(params={"name": None, "size": "1G", "options": {"a": "1", "b": "2"}, "items": items})
    requests = item_params(module, "items", {})
    assert [(r["name"], r["size"], r["options"]) for r in requests] == [
        ("x", "1G", {"a": "1", "b": "3"}), ("y", "2G", {"a": "1", "b": "2"})]
    assert all("items" not in request for request in requests)


def test_item_rules_are_checked_on_the_merged_request():
    module = ScriptedModule(params={"name": None, "size": None, "state": "present", "items": [{"name": "x"}]})
    try:
        item_params(module, "items", {"required_if": [("state", "present", ("size",))]})
    except SystemExit:
        pass
    kind, result = module.exit
    assert kind == "fail" and result["msg"] == (
        "items[0] (with the top-level options): state is present but all of the following are missing: size; nothing was changed.")
