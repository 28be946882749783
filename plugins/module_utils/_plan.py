# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""What every module shares: actions, refusals and the observe → plan → apply loop.

A module observes the node, hands that state and its parameters to a pure ``plan`` function,
and gets back a list of :class:`Action` (or a :class:`Refusal`, raised before anything runs, so
check mode and a real run refuse alike). Check mode reports the plan; a real run applies it.
"""

from __future__ import annotations

import traceback
import typing as t

from ansible.module_utils.common.validation import check_mutually_exclusive, check_required_if, check_required_together

from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandError, CommandRunner


class Action:
    """One step of a plan.

    ``kind`` names what the domain's apply() does; ``summary`` is the line a user reads in the
    result and in check mode; ``argv`` is the command when the step is one; ``params`` holds what a
    non-command step needs.
    """

    __slots__ = ("kind", "summary", "argv", "params")

    def __init__(self, kind, summary, argv=None, **params):
        self.kind = kind
        self.summary = summary
        self.argv = list(argv) if argv is not None else None
        self.params = params

    def __repr__(self):
        return "Action(%r, %r)" % (self.kind, self.summary)

    def __eq__(self, other):
        return isinstance(other, Action) and (self.kind, self.summary, self.argv, self.params) == (
            other.kind,
            other.summary,
            other.argv,
            other.params,
        )

    def __hash__(self):
        return hash((self.kind, self.summary))


class Refusal(Exception):
    """The plan will not do what was asked; nothing has been changed.

    The message says what was found, what was asked, and what to do about it.
    """

    def __init__(self, problem, found, requested, remedy):
        self.problem = problem
        self.found = found
        self.requested = requested
        self.remedy = remedy
        super().__init__("%s: found %s; asked for %s. %s" % (problem, found, requested, remedy))

    def as_result(self) -> t.Dict[str, t.Any]:
        return {"msg": str(self), "found": self.found, "requested": self.requested}


def require_danger_flag(allowed: bool, flag: str, act: str, found: str, asked: str, loss: str) -> None:
    """The one rule of every destructive act (docs/glossary.md "danger flag"): without its flag, refuse,
    naming what is there, what was asked and the flag; ``loss`` says what the act destroys."""
    if not allowed:
        raise Refusal("will not %s without %s" % (act, flag), found, asked, "Set %s: true to %s; %s." % (flag, act, loss))


class MissingPrerequisite(Refusal):
    """Something the request builds on does not exist yet (a device, a volume), or is still there (a mount
    an earlier task removes).

    A real run refuses like any Refusal. Check mode cannot know whether an earlier task of the same
    play would have made it (a thin LV before its filesystem, a volume before its disk), so it
    reports ``predicted`` (the actions a real run would take once it exists) with a warning,
    instead of failing a check run of a whole site on fresh nodes.
    """

    def __init__(self, problem, found, requested, remedy, predicted, assumed="an earlier task has made it"):
        super().__init__(problem, found, requested, remedy)
        self.predicted = predicted
        # what check mode takes an earlier task of the play to have done
        self.assumed = assumed


class Item:
    """One request of a module run: its params, the state seen before, and its plan."""

    __slots__ = ("params", "label", "before", "actions")

    def __init__(self, params, label):
        self.params = params
        self.label = label
        self.before = None
        self.actions = []


def _broken_rule(params, rules):
    """The first of AnsibleModule's rules (required, required_if, mutually_exclusive, required_together)
    that one request breaks, in AnsibleModule's words, or None.

    AnsibleModule checks its rules on the top-level params and on each list item's own keys, but a
    request of the list form is an item merged over the top-level values (a top-level ``nodes`` with
    an item's ``brick_path``): rules across the two levels can only be checked on the merged request,
    here, with AnsibleModule's own checkers. The single form goes through the same path so that both
    forms refuse alike.
    """
    given = dict((name, value) for name, value in params.items() if value not in (None, [], ""))
    missing = [name for name in rules.get("required", ()) if name not in given]
    if missing:
        return "missing required arguments: %s" % ", ".join(missing)
    checks = (
        (check_required_if, rules.get("required_if")),
        (check_mutually_exclusive, rules.get("mutually_exclusive")),
        (check_required_together, rules.get("required_together")),
    )
    for check, terms in checks:
        if terms:
            try:
                check(terms, given)
            except TypeError as err:
                return str(err)
    return None


def item_params(module: t.Any, items_option: t.Optional[str], rules: t.Mapping[str, t.Any]) -> t.List[t.Dict[str, t.Any]]:
    """The params of every request of this run.

    Without ``items_option`` (or when that option is unset) the module's params are the one request.
    Otherwise each element of the list option is a request: its keys set (not None) override the
    module's top-level params, which thereby hold the values every item shares; a dict (volume
    options) is merged over the top-level one instead. ``rules`` (``required``: names, and
    ``required_if``, ``mutually_exclusive``, ``required_together`` as AnsibleModule takes them) are
    checked on each merged request; a broken one fails the module before anything runs, naming the item.
    """
    items = module.params.get(items_option) if items_option else None
    if not items:
        requests = [module.params]
    else:
        shared = dict((key, value) for key, value in module.params.items() if key != items_option)
        requests = []
        for item in items:
            params = dict(shared)
            for key, value in item.items():
                if isinstance(value, dict) and isinstance(params.get(key), dict):
                    params[key] = dict(params[key], **value)
                elif value is not None:
                    params[key] = value
            requests.append(params)
    for index, params in enumerate(requests):
        broken = _broken_rule(params, rules)
        if broken:
            where = "%s[%d] (with the top-level options)" % (items_option, index) if items else "the parameters"
            module.fail_json(msg="%s: %s; nothing was changed." % (where, broken))
    return requests


def _planned(module, item, plan):
    """The item's plan; a refusal names the item; check mode predicts past a missing prerequisite."""
    try:
        return plan(item.before, item.params)
    except MissingPrerequisite as missing:
        if not module.check_mode:
            raise Refusal(item.label + missing.problem, missing.found, missing.requested, missing.remedy) from missing
        module.warn("check mode: %s%s; predicting what a run does once %s" % (item.label, missing, missing.assumed))
        return missing.predicted
    except Refusal as refusal:
        if not item.label:
            raise
        raise Refusal(item.label + refusal.problem, refusal.found, refusal.requested, refusal.remedy) from refusal


def run_plan(module: t.Any, observe: t.Callable, plan: t.Callable, apply: t.Callable, report: t.Callable,
             items_option: t.Optional[str] = None, rules: t.Optional[t.Mapping[str, t.Any]] = None) -> None:
    """Drive one module run and exit the module.

    observe(runner, params) -> state; plan(state, params) -> list of Action (may raise Refusal);
    apply(runner, state, params, actions) -> None (runs the actions, in order);
    report(runner, before_state, after_state, params, actions) -> dict of return values, which may
    carry a ``diff`` ({"before": ..., "after": ...}) and ``warnings``.
    In check mode ``after_state`` is None: report() predicts from the plan.

    With ``items_option`` (a list option, see item_params, which also checks ``rules`` on every
    request) one run handles many requests: every
    request is observed and planned before anything runs, so a refusal of any of them leaves the
    node unchanged; then each request that needs work is observed and planned again just before it
    is applied (an earlier item may have made the VG it needs), and every request is reported.
    The commands' answers are shared between the items (CommandRunner.read), so a request that
    needs nothing costs no command of its own beyond what is specific to it.
    """
    runner = CommandRunner(module)
    requests = item_params(module, items_option, rules or {})
    batch = bool(items_option and module.params.get(items_option))
    items = [Item(params, "item %d: " % index if batch else "") for index, params in enumerate(requests)]
    try:
        for item in items:
            item.before = observe(runner, item.params)
            item.actions = _planned(module, item, plan)
        results = []
        node_changed = False
        for item in items:
            after = None
            if not module.check_mode:
                if node_changed:
                    # an earlier item changed the node (made the VG this one needs, say): plan on what is there now
                    item.before = observe(runner, item.params)
                    item.actions = _planned(module, item, plan)
                if item.actions:
                    apply(runner, item.before, item.params, item.actions)
                    node_changed = True
                after = observe(runner, item.params) if item.actions else item.before
            elif not item.actions:
                after = item.before
            result = report(runner, item.before, after, item.params, item.actions)
            result.update(changed=bool(item.actions), actions=[action.summary for action in item.actions])
            results.append(result)
    except Refusal as refusal:
        module.fail_json(changed=False, **refusal.as_result())
    except CommandError as err:
        module.fail_json(
            msg=str(err), cmd=" ".join(err.argv), rc=err.rc, stdout=err.stdout, stderr=err.stderr,
            commands=runner.history,
        )
    except Exception as err:  # pylint: disable=broad-except
        module.fail_json(msg="unexpected error: %s" % err, exception=traceback.format_exc(), commands=runner.history)
    for result in results:
        for warning in result.pop("warnings", []):
            module.warn(warning)
    diffs = [result.pop("diff", None) for result in results]
    if batch:
        # items planned on the same state share steps (the VG and pool every LV needs): said once
        exit_args = dict(changed=any(result["changed"] for result in results),
                         actions=list(dict.fromkeys(summary for result in results for summary in result["actions"])),
                         results=results)
        diff = [one for one in diffs if one is not None]
    else:
        exit_args, diff = results[0], diffs[0]
    if diff is not None and module._diff:  # pylint: disable=protected-access
        exit_args["diff"] = diff
    module.exit_json(**exit_args)
