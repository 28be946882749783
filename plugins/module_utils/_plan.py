# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module shares: actions, refusals and the observe → plan → apply loop.

A module observes the node, hands that state and its parameters to a pure ``plan`` function,
and gets back a list of :class:`Action` (or a :class:`Refusal`, raised before anything runs, so
check mode and a real run refuse alike). Check mode reports the plan; a real run applies it.
"""

from __future__ import annotations

import traceback

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

    def as_result(self):
        return {"msg": str(self), "found": self.found, "requested": self.requested}


class MissingPrerequisite(Refusal):
    """Something the request builds on does not exist yet: a device, a volume.

    A real run refuses like any Refusal. Check mode cannot know whether an earlier task of the same
    play would have made it (a thin LV before its filesystem, a volume before its disk), so it
    reports ``predicted`` (the actions a real run would take once it exists) with a warning,
    instead of failing a check run of a whole site on fresh nodes.
    """

    def __init__(self, problem, found, requested, remedy, predicted):
        super().__init__(problem, found, requested, remedy)
        self.predicted = predicted


def run_plan(module, observe, plan, apply, report):
    """Drive one module run and exit the module.

    observe(runner, params) -> state; plan(state, params) -> list of Action (may raise Refusal);
    apply(runner, state, params, actions) -> None (runs the actions, in order);
    report(runner, before_state, after_state, params, actions) -> dict of return values, which may
    carry a ``diff`` ({"before": ..., "after": ...}) and ``warnings``.
    In check mode ``after_state`` is None: report() predicts from the plan.
    """
    runner = CommandRunner(module)
    params = module.params
    try:
        state = observe(runner, params)
        try:
            actions = plan(state, params)
        except MissingPrerequisite as missing:
            if not module.check_mode:
                raise
            module.warn("check mode: %s; predicting what a run does once an earlier task has made it" % missing)
            actions = missing.predicted
        after = None
        if actions and not module.check_mode:
            apply(runner, state, params, actions)
            after = observe(runner, params)
        elif not actions:
            after = state
        result = report(runner, state, after, params, actions)
    except Refusal as refusal:
        module.fail_json(changed=False, **refusal.as_result())
    except CommandError as err:
        module.fail_json(
            msg=str(err), cmd=" ".join(err.argv), rc=err.rc, stdout=err.stdout, stderr=err.stderr,
            commands=runner.history,
        )
    except Exception as err:  # pylint: disable=broad-except
        module.fail_json(msg="unexpected error: %s" % err, exception=traceback.format_exc(), commands=runner.history)
    warnings = result.pop("warnings", [])
    for warning in warnings:
        module.warn(warning)
    diff = result.pop("diff", None)
    if not module._diff:  # pylint: disable=protected-access
        diff = None
    exit_args = dict(changed=bool(actions), actions=[action.summary for action in actions], **result)
    if diff is not None:
        exit_args["diff"] = diff
    module.exit_json(**exit_args)
