# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/reliability.md is kept true by the scenarios that prove it.

Each reliability scenario owns one block of that file, between `<!-- BEGIN cases:NAME -->` and
`<!-- END cases:NAME -->`: a table with a row per case (id, case, expected, result). After its cases ran,
the scenario renders the block from its case list and the results it measured, and the block in the file
must be exactly that. With VMSTORAGE_UPDATE_DOCS=1 the block is rewritten instead (then commit it).
"""

from __future__ import annotations

import os
import re

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "reliability.md")
HEADER = "| id | case | expected | result |\n|---|---|---|---|\n"


def cell(text):
    """Table cells are one line; a pipe would end the cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render_block(scenario, rows):
    """rows: (case id, what the case does, what must happen, measured result) in table order."""
    body = "".join("| %s |\n" % " | ".join(cell(value) for value in row) for row in rows)
    return "<!-- BEGIN cases:%s -->\n%s%s<!-- END cases:%s -->" % (scenario, HEADER, body, scenario)


def check_or_update(scenario, rows, doc=DOC):
    """Assert that the doc's block for scenario is the rendered one (or rewrite it when asked to)."""
    with open(doc, encoding="utf-8") as handle:
        text = handle.read()
    block = re.compile(r"<!-- BEGIN cases:%s -->.*?<!-- END cases:%s -->" % (re.escape(scenario), re.escape(scenario)),
                       re.DOTALL)
    expected = render_block(scenario, rows)
    if os.environ.get("VMSTORAGE_UPDATE_DOCS") == "1":
        text = block.sub(lambda _match: expected, text) if block.search(text) else text.rstrip("\n") + "\n\n" + expected + "\n"
        with open(doc, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    found = block.search(text)
    assert found, "docs/reliability.md has no block for %s; run the scenario with VMSTORAGE_UPDATE_DOCS=1" % scenario
    assert found.group(0) == expected, (
        "docs/reliability.md's %s table differs from what this run measured; rerun with VMSTORAGE_UPDATE_DOCS=1 "
        "and commit.\nexpected:\n%s\nfound:\n%s" % (scenario, expected, found.group(0)))
