# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""The one command runner every module of this collection uses.

Every external tool is called through :class:`CommandRunner`: argv lists only (never a shell
string), the C locale (so machine formats and messages are stable), and a failure turns into a
:class:`CommandError` that carries the command, its exit code and stderr.
"""

from __future__ import annotations

import json
import shlex
import typing as t

from ansible_collections.vmstorage.gluster.plugins.module_utils._constants import EMPTY_ANSWER_ATTEMPTS
from ansible_collections.vmstorage.gluster.plugins.module_utils._retry import retry

# The C locale keeps tool output parseable and stable across nodes.
C_LOCALE_ENV = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


class CommandError(Exception):
    """A command exited with an unexpected code."""

    def __init__(self, argv, rc, stdout, stderr):
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        detail = (stderr or stdout or "").strip()
        super().__init__(
            "command `%s` failed with exit code %s: %s" % (shlex.join(self.argv), rc, detail or "(no output)")
        )


class CommandResult:
    """What a command returned."""

    __slots__ = ("argv", "rc", "stdout", "stderr")

    def __init__(self, argv, rc, stdout, stderr):
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def json(self) -> t.Any:
        """The stdout parsed as JSON (lvs --reportformat json, qemu-img --output=json ...)."""
        try:
            return json.loads(self.stdout)
        except ValueError as exc:
            raise CommandError(self.argv, self.rc, self.stdout, "output is not JSON: %s" % exc) from exc


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


class CommandRunner:
    """Runs commands for a module: binaries resolved on the node, C locale, typed errors.

    ``module`` is an AnsibleModule; only ``get_bin_path`` and ``run_command`` are used, so a test
    can pass any object that provides them.
    """

    def __init__(self, module):
        self._module = module
        self._bin_cache = {}
        self._answers = {}
        self.history = []

    def binary(self, name: str, required: bool = True) -> t.Optional[str]:
        """The absolute path of ``name`` on the node (cached), or None when missing and optional."""
        if name not in self._bin_cache:
            self._bin_cache[name] = self._module.get_bin_path(name, required=required)
        return self._bin_cache[name]

    def has(self, name: str) -> bool:
        return self.binary(name, required=False) is not None

    def run(self, argv: t.Sequence[t.Any], check: bool = True, ok_rcs: t.Sequence[int] = (0,), data: t.Optional[bytes] = None,
            pass_fds: t.Sequence[int] = ()) -> CommandResult:
        """Run ``argv`` (the first element a tool name or path) and return a CommandResult.

        With ``check`` (the default) an exit code outside ``ok_rcs`` raises CommandError. Any command
        run this way may change the node, so the answers :meth:`read` remembered are forgotten.
        ``pass_fds``: descriptors the command inherits (a file opened safely, named /proc/self/fd/N).
        """
        self._answers.clear()
        return self._execute(argv, check, ok_rcs, data, pass_fds)

    def read(self, argv: t.Sequence[t.Any], ok_rcs: t.Sequence[int] = (0,), check: bool = True, pass_fds: t.Sequence[int] = ()) -> CommandResult:
        """Run a read-only command, or return its answer from earlier in this module run.

        A module handling many items (one per VM) observes the node once per item; the answers
        to the same question (``lvs``, ``gluster volume info`` ...) stay valid until :meth:`run`
        runs a command that may change the node. Only answers with an exit code in ``ok_rcs``
        are remembered; other ones raise CommandError like :meth:`run` (or, without ``check``,
        are returned and asked afresh next time).
        """
        key = (tuple(str(arg) for arg in argv), tuple(ok_rcs))
        if key in self._answers:
            return self._answers[key]
        result = self._execute(argv, check, ok_rcs, None, pass_fds)
        if result.rc in ok_rcs:
            self._answers[key] = result
        return result

    def _execute(self, argv, check, ok_rcs, data, pass_fds=()):
        argv = [str(arg) for arg in argv]
        if not argv[0].startswith("/"):
            argv[0] = self.binary(argv[0])
        extra = {"pass_fds": tuple(pass_fds)} if pass_fds else {}
        rc, stdout, stderr = self._module.run_command(
            argv, environ_update=dict(C_LOCALE_ENV), data=data, binary_data=data is not None, **extra
        )
        self.history.append(shlex.join(argv))
        if check and rc not in ok_rcs:
            raise CommandError(argv, rc, stdout, stderr)
        return CommandResult(argv, rc, stdout, stderr)

    def query(self, argv: t.Sequence[t.Any], ok_rcs: t.Sequence[int] = (0,), attempts: int = EMPTY_ANSWER_ATTEMPTS,
              pass_fds: t.Sequence[int] = (), whole: t.Optional[t.Callable[[str], bool]] = None) -> CommandResult:
        """:meth:`read` a command whose answer is its stdout; an empty answer (or one ``whole`` rejects) is asked again.

        Tools that print as they exit (block-buffered pipes: lvs, qemu-img) can have their output
        missed by run_command's select loop (ansible/ansible#51393, #85869); seen in the lab on
        loaded nodes as rc 0 with an empty stdout, and once as rc 0 with only the first two lines of
        pvs' JSON report. Asking a read-only command again is harmless.
        """
        complete = whole or (lambda text: bool(text.strip()))

        def attempt():
            self.forget(argv, ok_rcs)  # a cut answer is never kept; a good one is asked once
            return self.read(argv, ok_rcs=ok_rcs, pass_fds=pass_fds)

        first = self.read(argv, ok_rcs=ok_rcs, pass_fds=pass_fds)
        if complete(first.stdout) or attempts <= 1:
            return first
        return retry(attempt, lambda result: not complete(result.stdout), attempts=attempts - 1)

    def query_json(self, argv: t.Sequence[t.Any], ok_rcs: t.Sequence[int] = (0,), pass_fds: t.Sequence[int] = ()) -> t.Any:
        """:meth:`query` a command that answers in JSON (lvs --reportformat json, qemu-img --output=json), parsed."""
        return self.query(argv, ok_rcs=ok_rcs, pass_fds=pass_fds, whole=_is_json).json()

    def forget(self, argv: t.Sequence[t.Any], ok_rcs: t.Sequence[int] = (0,)) -> None:
        """Drop one remembered answer (it was empty or is known to be stale)."""
        self._answers.pop((tuple(str(arg) for arg in argv), tuple(ok_rcs)), None)
