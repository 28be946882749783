# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one retry loop (_retry) and the one owner/group lookup (_ids)."""

from __future__ import annotations

import grp
import os
import pwd

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils import _retry
from ansible_collections.vmstorage.gluster.plugins.module_utils._ids import gid_of, uid_of


@pytest.fixture(name="clock")
def fixture_clock(monkeypatch):
    """A clock that moves only when the loop sleeps: the deadline decides, not the machine's speed."""
    now = [100.0]
    slept = []
    monkeypatch.setattr(_retry.time, "monotonic", lambda: now[0])

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds
    monkeypatch.setattr(_retry.time, "sleep", sleep)
    return slept


def test_retry_stops_at_the_first_outcome_not_worth_another_try(clock):
    answers = iter(["busy", "busy", "done", "never"])
    assert _retry.retry(lambda: next(answers), lambda outcome: outcome == "busy", _retry.Deadline("t", 10), 1.0) == "done"
    assert clock == [1.0, 1.0]


def test_retry_returns_the_last_outcome_at_the_deadline(clock):
    deadline = _retry.Deadline("peer_timeout", 3)
    calls = []
    outcome = _retry.retry(lambda: calls.append(1) or "busy", lambda outcome: True, deadline, 1.0)
    assert outcome == "busy" and len(calls) == 4 and deadline.passed() and deadline.elapsed() == 3.0


def test_a_deadline_within_another_ends_no_later(clock):
    outer = _retry.Deadline("peer_timeout", 5)
    assert _retry.Deadline("brick settle", 10, within=outer).end == outer.end
    assert _retry.Deadline("brick settle", 2, within=outer).end == outer.start + 2


def test_retry_by_attempts_without_a_deadline(clock):
    calls = []
    assert _retry.retry(lambda: calls.append(1) or "", lambda answer: not answer, attempts=3) == ""
    assert len(calls) == 3 and clock == []


def test_ids_of_names_and_numbers():
    root_user, root_group = pwd.getpwuid(0).pw_name, grp.getgrgid(0).gr_name
    assert (uid_of(root_user), gid_of(root_group)) == (0, 0)
    assert (uid_of("4242"), gid_of(4242)) == (4242, 4242)  # numbers need not exist on the node
    assert uid_of(None) is None and gid_of(None) is None
    with pytest.raises(KeyError):
        uid_of("no-such-user-%d" % os.getpid())
    with pytest.raises(KeyError):
        gid_of("no-such-group-%d" % os.getpid())


def test_action_kinds_are_named_by_the_one_kind_type():
    """apply() and check mode's prediction name a step by _kinds.Kind: no bare string left on either side."""
    import glob
    import re
    from ansible_collections.vmstorage.gluster.plugins.module_utils._kinds import Kind
    here = os.path.dirname(os.path.abspath(__file__))
    sources = glob.glob(os.path.join(here, "..", "..", "..", "..", "plugins", "module_utils", "_*.py"))
    assert len(sources) > 10
    bare = []
    for path in sources:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        bare += re.findall(r'Action\(\s*"[a-z_]+"|action\.kind (?:==|in) \(?"[a-z_]+"|"[a-z_]+" in kinds', text)
    assert bare == []
    assert len({kind.value for kind in Kind}) == len(Kind) and Kind("mkfs") == "mkfs"
