# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vmstorage_* variables the collection does not know, each with the known one it is most like.

The known set is meta/variables.yml, the one source of the roles' interface (argument specs,
defaults and docs/variables.md are written from it): a misspelt variable would otherwise be
ignored and its default taken silently.
"""

from __future__ import annotations

import difflib
import os

import yaml

from ansible.errors import AnsibleFilterError

PREFIX = "vmstorage_"
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "meta", "variables.yml")


def known_variables():
    """Every known name, and the former names each one had."""
    with open(SOURCE, encoding="utf-8") as handle:
        variables = yaml.safe_load(handle)["variables"]
    return list(variables), dict((old, name) for name, variable in variables.items() for old in variable.get("formerly", []))


def unknown_variables(names):
    """One message per name of NAMES that the collection does not read."""
    if not isinstance(names, (list, tuple)):
        raise AnsibleFilterError("unknown_variables takes a list of variable names, found %r" % (names,))
    known, renamed = known_variables()
    messages = []
    for name in sorted(set(str(name) for name in names) - set(known)):
        # compared without the common prefix, which would make every name look alike
        close = [renamed[name]] if name in renamed else [PREFIX + match for match in difflib.get_close_matches(
            name.removeprefix(PREFIX), [known_name.removeprefix(PREFIX) for known_name in known], n=1)]
        messages.append("unknown variable %s, did you mean %s?" % (name, close[0]) if close else "unknown variable %s." % name)
    return messages


class FilterModule:
    def filters(self):
        return {"unknown_variables": unknown_variables}
