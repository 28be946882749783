# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils._units import format_size, parse_pool_size, parse_size

GIB = 1024 ** 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("100G", 100 * GIB),
        ("100g", 100 * GIB),
        ("100GB", 100 * GIB),
        ("100GiB", 100 * GIB),
        ("100gib", 100 * GIB),
        (" 100 G ", 100 * GIB),
        ("1.5T", 1536 * GIB),
        (".5k", 512),
        ("512m", 512 * 1024 ** 2),
        ("256KiB", 256 * 1024),
        ("4096b", 4096),
        ("4096B", 4096),
        ("8s", 4096),
        ("1p", 1024 ** 5),
        ("1E", 1024 ** 6),
    ],
)
def test_parse_size_reads_lvm_units_as_binary_multiples(text, expected):
    assert parse_size(text) == expected


def test_parse_size_rounds_fractions_of_a_byte_up():
    assert parse_size("0.1k") == 103  # 102.4 bytes


@pytest.mark.parametrize("bare", ["51200", 51200, " 100 ", "1.5", 1.5, ".5"])
def test_parse_size_refuses_a_bare_number_with_the_fix(bare):
    with pytest.raises(ValueError) as err:
        parse_size(bare, "disk_size")
    assert str(err.value) == (
        "disk_size %s: a bare number is ambiguous (LVM reads it as MiB, KiB or extents, qemu-img as bytes); write a unit, e.g. 100G or 512M"
        % str(bare).strip()
    )


@pytest.mark.parametrize("zero", ["0", 0, "0G", "0.0m", "0B", 0.0])
def test_parse_size_refuses_zero(zero):
    with pytest.raises(ValueError, match=r"^brick_size \S+: a size of 0 is never useful; write a size above 0, e.g. 100G$"):
        parse_size(zero, "brick_size")


@pytest.mark.parametrize(
    "text", ["", "G", "100X", "100 GiBs", "-1G", "1,5G", "1e3", "100%VG", "100 extents", "100bb", "100sib", True, None, ["1G"], {"size": "1G"}]
)
def test_parse_size_rejects_what_is_not_a_size(text):
    with pytest.raises(ValueError) as err:
        parse_size(text, "chunk_size")
    assert str(err.value).startswith("chunk_size %r is not a size: write a number with a unit, e.g. 100G" % (text,))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("400000 extents", ("extents", 400000)),
        ("400000extents", ("extents", 400000)),
        ("1 extent", ("extents", 1)),
        (" 7 EXTENTS ", ("extents", 7)),
        ("90%VG", ("percent", "90%VG")),
        ("100%free", ("percent", "100%FREE")),
        ("12.5 % vg", ("percent", "12.5%VG")),
        ("7G", ("bytes", 7 * GIB)),
        ("1e", ("bytes", 1024 ** 6)),  # LVM's e is exabytes, never extents
    ],
)
def test_parse_pool_size_takes_sizes_shares_and_extents(text, expected):
    assert parse_pool_size(text) == expected


@pytest.mark.parametrize("bare", ["400000", 400000])
def test_parse_pool_size_refuses_a_bare_number_with_both_fixes(bare):
    with pytest.raises(ValueError) as err:
        parse_pool_size(bare)
    assert str(err.value) == (
        "pool_size 400000: a bare number is ambiguous (LVM reads it as MiB or as extents); "
        "write a unit, e.g. 100G, or a count of extents, e.g. 400000 extents"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("0 extents", "pool_size 0 extents: a thin pool needs at least one extent"),
        ("0%VG", "pool_size 0%VG: the percentage must be above 0 and at most 100"),
        ("120%VG", "pool_size 120%VG: the percentage must be above 0 and at most 100"),
        ("0", "pool_size 0: a size of 0 is never useful"),
        ("0G", "pool_size 0G: a size of 0 is never useful"),
        ("1.5", "pool_size 1.5: a bare number is ambiguous .* e\\.g\\. 400000 extents$"),
        ("10%PVS", "pool_size '10%PVS' is not a pool size: write a size .*, a share of the volume group .* or a count of extents"),
        ("1.5 extents", "pool_size '1.5 extents' is not a pool size"),
        (True, "pool_size True is not a size"),
    ],
)
def test_parse_pool_size_rejects_with_the_reason(text, message):
    with pytest.raises(ValueError, match="^" + message):
        parse_pool_size(text)


@pytest.mark.parametrize(
    "size, expected",
    [
        (0, "0 B"),
        (512, "512 B"),
        (1024, "1 KiB"),
        (100 * GIB, "100 GiB"),
        (1536 * 1024 ** 2, "1.5 GiB"),
        (7730102272, "7.2 GiB"),
        (8585740288, "8 GiB"),
        (1024 ** 6 * 3, "3 EiB"),
        (-2 * GIB, "-2 GiB"),
    ],
)
def test_format_size_uses_the_largest_binary_unit(size, expected):
    assert format_size(size) == expected


def test_format_then_parse_round_trips_whole_units():
    for size in (1, 4096, 100 * GIB, 3 * 1024 ** 4):
        assert parse_size(format_size(size).replace(" ", "")) == size
