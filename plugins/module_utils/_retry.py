# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""The one retry loop of the modules, bounded by a named deadline or a number of attempts.

Why one: every wait of the collection (glusterd starting, a peer joining, bricks coming back, the
cluster lock, a FUSE mount while bricks start, an empty answer) is "try, look, pause, until a
deadline"; written once, each caller only says what to try and what outcome is worth another try.
"""

from __future__ import annotations

import time
import typing as t

T = t.TypeVar("T")


class Deadline:
    """A named point in time (time.monotonic) a wait ends at; ``within`` a parent it ends no later."""

    __slots__ = ("name", "start", "end")

    def __init__(self, name: str, seconds: float, within: t.Optional["Deadline"] = None) -> None:
        self.name = name
        self.start = time.monotonic()
        self.end = self.start + seconds
        if within is not None:
            self.end = min(self.end, within.end)

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def elapsed(self) -> float:
        """Seconds since the deadline was set."""
        return time.monotonic() - self.start

    def __repr__(self) -> str:
        return "Deadline(%r, ends at %.1f)" % (self.name, self.end)


def retry(attempt: t.Callable[[], T], again: t.Callable[[T], bool], deadline: t.Optional[Deadline] = None,
          interval: float = 0.0, attempts: t.Optional[int] = None) -> T:
    """Call ``attempt()`` until ``again(outcome)`` is false, the ``deadline`` has passed or ``attempts``
    calls were made; pause ``interval`` seconds between calls. Returns the last outcome: the caller
    decides what an outcome still worth another try means at the end (usually an error naming it)."""
    count = 0
    while True:
        outcome = attempt()
        count += 1
        if not again(outcome) or (deadline is not None and deadline.passed()) or (attempts is not None and count >= attempts):
            return outcome
        if interval:
            time.sleep(interval)
