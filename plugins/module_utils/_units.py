# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: the module_utils of this collection are for its own modules and plugins only. They are no
# public API: names, signatures and behaviour may change in any release without notice.
"""Sizes as users write them and as people read them.

``parse_size`` reads the units LVM takes on its command line (``100G``, ``512m``, ``1.5TiB``,
``4096b``, ``8s``): one letter of b s k m g t p e, case-insensitive, optionally followed by ``B``
or ``iB``, and always binary multiples (``1k`` = 1024 bytes), exactly like ``lvcreate -L``.
``format_size`` renders a byte count with binary units for messages (``100 GiB``).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation

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

_SIZE_RE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?:(?P<unit>[bskmgtpe])(?:i?b)?)?\s*$", re.IGNORECASE)

_HUMAN_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def parse_size(text, default_unit="b"):
    """The number of bytes ``text`` stands for.

    ``text`` may be an int (taken in ``default_unit``) or a string such as ``100G``. A bare number
    is taken in ``default_unit`` (one of the unit letters; LVM's own default for ``-L`` is ``m``).
    A fraction of a byte rounds up. Raises ValueError with a message naming the input.
    """
    if isinstance(text, bool):
        raise ValueError("%r is not a size" % (text,))
    match = _SIZE_RE.match(str(text))
    if not match:
        raise ValueError(
            "%r is not a size: write a number with an optional unit b, s, k, m, g, t, p or e (binary multiples; kB/KiB/k alike), e.g. 100G" % (text,)
        )
    unit = (match.group("unit") or default_unit).lower()
    if unit not in UNIT_BYTES:
        raise ValueError("unknown size unit %r" % (unit,))
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation as exc:  # the regex admits only decimal numbers; kept for a clear message
        raise ValueError("%r is not a size" % (text,)) from exc
    return int((number * UNIT_BYTES[unit]).to_integral_value(rounding=ROUND_CEILING))


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
