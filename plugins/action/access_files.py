# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""access_files: write small text files on the controller, many in one task (docs: plugins/modules/access_files.py).

Why an action: a template or copy task per file runs a stat module per file (a Python start each),
which made the per-VM access files the largest per-VM cost of a re-run. Here the files are compared
and written in the controller process itself.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


def plain_name(name):
    """A file name inside dest: no directory part, not '.' or '..', no NUL."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name


def write_atomically(path, text, mode):
    """Write a sibling temporary file, fsync, chmod, rename over path: readers see old or new, never half."""
    directory = os.path.dirname(path)
    handle, partial = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(partial, mode)
        os.rename(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise


def current(path):
    """(content, mode) of the file at path, or (None, None) when there is none."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(info.st_mode):
        raise AnsibleActionFail("%s exists and is not a regular file; asked to write an access file there. Move it away." % path)
    with open(path, encoding="utf-8") as stream:
        return stream.read(), stat.S_IMODE(info.st_mode)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dest", "files", "mode"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dest = self._task.args.get("dest")
        files = self._task.args.get("files") or {}
        mode_text = str(self._task.args.get("mode", "0644"))
        if not isinstance(dest, str) or not os.path.isabs(dest):
            raise AnsibleActionFail("dest must be an absolute directory path on the controller; got %r." % (dest,))
        if not isinstance(files, dict) or not all(plain_name(name) and isinstance(text, str) for name, text in files.items()):
            raise AnsibleActionFail("files must map plain file names (no '/', '.' or '..') to text; got %r." % (sorted(files),))
        try:
            mode = int(mode_text, 8)
        except ValueError as exc:
            raise AnsibleActionFail("mode must be octal like '0644'; got %r." % mode_text) from exc
        check_mode = self._play_context.check_mode
        changed, diffs = [], []
        if not os.path.isdir(dest):
            changed.append(dest + "/")
            diffs.append({"before_header": dest, "after_header": dest, "before": "(absent)\n", "after": "(directory)\n"})
            if not check_mode:
                os.makedirs(dest, 0o755)
        for name in sorted(files):
            path = os.path.join(dest, name)
            before, before_mode = current(path) if os.path.isdir(dest) else (None, None)
            if before == files[name] and before_mode == mode:
                continue
            changed.append(path)
            diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": files[name]})
            if not check_mode:
                write_atomically(path, files[name], mode)
        result.update(changed=bool(changed), written=changed, dest=dest)
        if self._play_context.diff and diffs:
            result["diff"] = diffs
        return result
