# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""access_files: write small text files on the controller, many in one task (docs: plugins/modules/access_files.py).

Why an action: a template or copy task per file runs a stat module per file (a Python start each),
which made the per-VM access files the largest per-VM cost of a re-run. Here the files are compared
and written in the controller process itself.
"""

from __future__ import annotations

import os
import stat
import tempfile
from types import SimpleNamespace

from ansible.errors import AnsibleActionFail
# AnsibleModule is importable on the controller (ansible-core's own copy action and DataLoader import
# ansible.module_utils.basic); its chmod-grammar parser is the one copy/file use, so symbolic modes
# mean here exactly what they mean there. It is a private classmethod: tests/unit pins its behaviour.
from ansible.module_utils.basic import AnsibleModule
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = {
    # type path: ~ and $VARS expanded, as for every path option of a module
    "dest": {"type": "path", "required": True},
    "files": {"type": "dict", "required": True},
    # the files of retired VMs: removed (regular files only, never through a link)
    "absent": {"type": "list", "elements": "str", "default": []},
    # raw, like copy's mode: YAML's unquoted 0644 arrives as the int 420 (= 0o644), a string as written
    "mode": {"type": "raw", "default": "0644"},
}
# An access file is data: a mode with setuid/setgid/sticky bits is a mistake, most often an unquoted
# decimal `mode: 644` (= 0o1204 for YAML and copy alike).
SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX


def plain_name(name):
    """A file name inside dest: no directory part, not '.' or '..', no NUL."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name


def file_mode(mode, before_mode):
    """The permission bits `mode` asks for a file whose mode is before_mode (None: a new file).

    As copy reads it: an int is the mode itself (YAML made 0644 the int 420 = 0o644); a string of octal
    digits is octal; anything else is chmod's symbolic form (u=rw,g=r,o=r; u+x is relative to the file's
    mode, and a new file starts from 0666 less the umask as open() would create it).
    Raises ValueError with what was wrong.
    """
    if isinstance(mode, bool) or not isinstance(mode, (int, str)):
        raise ValueError("mode must be octal ('0644') or symbolic ('u=rw,g=r,o=r'); got %r" % (mode,))
    if isinstance(mode, str):
        try:
            number = int(mode, 8)
        except ValueError:
            if before_mode is None:
                umask = os.umask(0)
                os.umask(umask)
                before_mode = 0o666 & ~umask
            try:
                number = AnsibleModule._symbolic_mode_to_octal(SimpleNamespace(st_mode=stat.S_IFREG | before_mode), mode)
            except Exception as exc:
                raise ValueError("mode %r is neither octal ('0644') nor symbolic ('u=rw,g=r,o=r'): %s" % (mode, exc)) from exc
    else:
        number = mode
    if number < 0 or number != stat.S_IMODE(number):
        raise ValueError("mode %r is no file mode (0 to 0o7777)" % (mode,))
    if number & SPECIAL_BITS:
        raise ValueError("mode %r is %s, with setuid/setgid/sticky bits, asked for a data file; an unquoted `mode: 644` is "
                         "decimal in YAML: write mode: '0644' (nothing was written)" % (mode, oct(number)))
    return number


def fsync_directory(directory):
    """fsync a directory: the rename (or a new entry) in it survives a crash of the controller."""
    handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_atomically(path, text, mode):
    """Write a sibling temporary file, fsync, chmod, rename over path, fsync the directory.

    Readers see the old file or the new one, never half of one. rename() replaces the directory entry
    at path: a symbolic link planted there (after current() looked) is replaced, never written through.
    """
    directory = os.path.dirname(path)
    # mkstemp: O_CREAT|O_EXCL (no link followed), mode 0600 until the chmod below
    handle, partial = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.rename(partial, path)
    except BaseException:
        if os.path.lexists(partial):
            os.unlink(partial)
        raise
    fsync_directory(directory)


def current(path):
    """(content, mode) of the file at path, or (None, None) when there is none.

    Anything but a regular file there (a symbolic link, a directory...) is refused: the run changes nothing,
    and the user decides whether what is there may go. The file is opened with O_NOFOLLOW, so a link
    planted after the lstat is not read through either.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(info.st_mode):
        found = "a symbolic link to %s" % os.readlink(path) if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise AnsibleActionFail("%s is %s; asked to write an access file there. Move it away (nothing was written)." % (path, found))
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise AnsibleActionFail("%s changed while read (%s); asked to write an access file there. Run again." % (path, exc)) from exc
    with os.fdopen(handle, encoding="utf-8") as stream:
        return stream.read(), stat.S_IMODE(os.fstat(stream.fileno()).st_mode)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(ARGUMENT_SPEC)
        dest, files, mode, absent = args["dest"], args["files"], args["mode"], args["absent"]
        if not os.path.isabs(dest):
            raise AnsibleActionFail("dest must be an absolute directory path on the controller; got %r. Write it from / or ~." % (dest,))
        if not all(plain_name(name) and isinstance(text, str) for name, text in files.items()):
            raise AnsibleActionFail("files must map plain file names (no '/', '.' or '..') to text; got %r." % (sorted(files),))
        if not all(plain_name(name) for name in absent) or set(absent) & set(files):
            raise AnsibleActionFail("absent must list plain file names (no '/', '.' or '..') that files does not write; got %r." % (absent,))
        try:
            file_mode(mode, None)  # refuse a bad mode before anything is written
        except ValueError as exc:
            raise AnsibleActionFail(str(exc)) from exc
        # as ansible-core's own actions: check and diff mode are the task's (play_context's are deprecated)
        check_mode, diff_mode = self._task.check_mode, self._task.diff
        # look at every file before writing any: a refusal (a link, a directory) leaves all as it was
        exists = os.path.isdir(dest)
        if not exists and os.path.lexists(dest):
            raise AnsibleActionFail("%s exists and is no directory; asked to write access files in it. Move it away or choose another dest." % dest)
        writes, diffs = [], []
        if not exists:
            diffs.append({"before_header": dest, "after_header": dest, "before": "(absent)\n", "after": "(directory)\n"})
        for name in sorted(files):
            path = os.path.join(dest, name)
            before, before_mode = current(path) if exists else (None, None)
            wanted = file_mode(mode, before_mode)
            if before == files[name] and before_mode == wanted:
                continue
            writes.append((path, wanted))
            before_header = path + (" (absent)" if before_mode is None else " (mode %s)" % format(before_mode, "04o"))
            diffs.append({"before_header": before_header, "after_header": "%s (mode %s)" % (path, format(wanted, "04o")),
                          "before": before or "", "after": files[name]})
        removals = []
        for name in sorted(set(absent)) if exists else []:
            path = os.path.join(dest, name)
            before, before_mode = current(path)
            if before_mode is not None:
                removals.append(path)
                diffs.append({"before_header": "%s (mode %s)" % (path, format(before_mode, "04o")), "after_header": path + " (absent)",
                              "before": before, "after": ""})
        if not check_mode:
            for path in removals:
                os.unlink(path)
            if removals:
                fsync_directory(dest)
            if not exists:
                os.makedirs(dest, 0o755)
                fsync_directory(os.path.dirname(dest.rstrip("/")) or "/")
            for path, wanted in writes:
                write_atomically(path, files[os.path.basename(path)], wanted)
        changed = ([] if exists else [dest + "/"]) + [path for path, dummy in writes]
        result.update(changed=bool(changed or removals), written=changed, removed=removals, dest=dest)
        if diff_mode and diffs:
            result["diff"] = diffs
        return result
