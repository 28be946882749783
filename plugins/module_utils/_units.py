# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""Sizes as users write them and as people read them: the one size grammar of the collection.

Every size option of the modules and the roles (docs/glossary.md "Sizes") is a number with a unit:
``100G``, ``512M``, ``1.5TiB``, ``4096B``. The unit is one letter of K M G T P E, case-insensitive,
optionally followed by ``B`` or ``iB``, always binary (``1K`` = 1024 bytes, as LVM reads ``-L``);
``B`` alone is bytes and ``S`` a 512-byte sector (LVM's). A bare number is refused: LVM reads it as
MiB (``-L``), KiB (``--chunksize``) or extents (``-l``), qemu-img as bytes, so the same ``51200``
would be 50 GiB to one option and 50 KiB to another. A size of 0 is never useful and refused too.

``parse_pool_size`` adds what only ``pool_size`` takes: a share of the volume group as LVM writes it
(``90%VG``, ``100%FREE``) and a count of extents spelled ``400000 extents`` (LVM's own ``e`` is
exabytes). The roles check their size variables with the test plugins ``vmstorage.gluster.size``
and ``vmstorage.gluster.pool_size``, which call these functions.
``format_size`` renders a byte count with binary units for messages (``100 GiB``).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal

# Bytes per unit letter; ``s`` is a 512-byte sector as in LVM.
UNIT_BYTES = {
    "b": 1,
    "s": 512,
    "k": 1024,
    "m": 1024 ** 2,
    "g": 1024 ** 3,
    "t": 1024 ** 4,
    "p": 1024 ** 5,
    "e": 1024 ** 6,
}

SIZE_FORMS = "a number with a unit, e.g. 100G, 512M, 1.5T or 256K (binary: 1K = 1024 bytes; K, KB and KiB alike, any case; B is bytes)"
POOL_SIZE_FORMS = "a size (e.g. 100G), a share of the volume group (90%VG, 100%FREE) or a count of extents (400000 extents)"

_NUMBER = r"(?P<number>\d+(?:\.\d+)?|\.\d+)"
_SIZE_RE = re.compile(r"^\s*" + _NUMBER + r"\s*(?P<unit>[kmgtpe](?:i?b)?|b|s)?\s*$", re.IGNORECASE)
_PERCENT_RE = re.compile(r"^\s*" + _NUMBER + r"\s*%\s*(?P<base>VG|FREE)\s*$", re.IGNORECASE)
_EXTENTS_RE = re.compile(r"^\s*(?P<number>\d+)\s*extents?\s*$", re.IGNORECASE)

_HUMAN_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def _text(value, option):
    # bool is an int to Python, and YAML's yes/on would become a size of 1
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("%s %r is not a size: write %s" % (option, value, SIZE_FORMS))
    return str(value).strip()


def parse_size(value, option="size"):
    """The number of bytes, above 0, that the size ``value`` of ``option`` stands for.

    ``value`` is a string such as ``100G``; a bare number (string, int or float) is refused, and so is
    0. A fraction of a byte rounds up. Raises ValueError naming the option, the value and the fix.
    """
    text = _text(value, option)
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError("%s %r is not a size: write %s" % (option, value, SIZE_FORMS))
    number = Decimal(match.group("number"))
    if not number:
        raise ValueError("%s %s: a size of 0 is never useful; write a size above 0, e.g. 100G" % (option, text))
    if not match.group("unit"):
        raise ValueError(
            "%s %s: a bare number is ambiguous (LVM reads it as MiB, KiB or extents, qemu-img as bytes); write a unit, e.g. 100G or 512M"
            % (option, text)
        )
    return int((number * UNIT_BYTES[match.group("unit")[0].lower()]).to_integral_value(rounding=ROUND_CEILING))


def parse_pool_size(value, option="pool_size"):
    """``pool_size``: ``("extents", count)``, ``("percent", "90%VG")`` or ``("bytes", size)``.

    Raises ValueError like ``parse_size``; a bare number is refused with the extents spelling as a fix.
    """
    text = _text(value, option)
    extents = _EXTENTS_RE.match(text)
    if extents:
        count = int(extents.group("number"))
        if not count:
            raise ValueError("%s %s: a thin pool needs at least one extent" % (option, text))
        return "extents", count
    percent = _PERCENT_RE.match(text)
    if percent:
        if not 0 < Decimal(percent.group("number")) <= 100:
            raise ValueError("%s %s: the percentage must be above 0 and at most 100, e.g. 90%%VG" % (option, text))
        return "percent", "%s%%%s" % (percent.group("number"), percent.group("base").upper())
    match = _SIZE_RE.match(text)
    if match and not match.group("unit") and Decimal(match.group("number")):
        raise ValueError(
            "%s %s: a bare number is ambiguous (LVM reads it as MiB or as extents); write a unit, e.g. 100G, or a count of extents, e.g. %s extents"
            % (option, text, text if text.isdigit() else "400000")
        )
    try:
        return "bytes", parse_size(value, option)
    except ValueError as err:
        if match:
            raise
        raise ValueError("%s %r is not a pool size: write %s" % (option, value, POOL_SIZE_FORMS)) from err


def accepts(parse):
    """A Jinja test over ``parse``: whether it takes the value. The roles' size checks (plugins/test/) ask the
    modules' own parser, so a role and a module never disagree on what a size is."""
    def test(value):
        try:
            parse(value)
        except ValueError:
            return False
        return True
    return test


def format_size(size_bytes):
    """``size_bytes`` in the largest binary unit that keeps the number >= 1, at most two decimals.

    ``format_size(107374182400) == "100 GiB"``, ``format_size(1610612736) == "1.5 GiB"``,
    ``format_size(512) == "512 B"``.
    """
    size_bytes = int(size_bytes)
    magnitude = abs(size_bytes)
    exponent = 0
    while exponent < len(_HUMAN_UNITS) - 1 and magnitude >= 1024 ** (exponent + 1):
        exponent += 1
    if exponent == 0:
        return "%d B" % size_bytes
    value = Decimal(size_bytes) / Decimal(1024 ** exponent)
    number = "{0:.2f}".format(value).rstrip("0").rstrip(".")
    return "%s %s" % (number, _HUMAN_UNITS[exponent])
