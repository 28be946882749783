# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.module_utils._units import format_size, parse_size

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
        ("4096b", 4096),
        ("4096", 4096),
        ("8s", 4096),
        ("1p", 1024 ** 5),
        ("1E", 1024 ** 6),
        (64, 64),
    ],
)
def test_parse_size_reads_lvm_units_as_binary_multiples(text, expected):
    assert parse_size(text) == expected


def test_parse_size_bare_number_takes_the_default_unit():
    assert parse_size("100", default_unit="m") == 100 * 1024 ** 2
    assert parse_size(256, default_unit="k") == 256 * 1024


def test_parse_size_rounds_fractions_of_a_byte_up():
    assert parse_size("0.1k") == 103  # 102.4 bytes


@pytest.mark.parametrize("text", ["", "G", "100X", "100 GiBs", "-1G", "1,5G", "1e3", "100%VG", True, None])
def test_parse_size_rejects_what_is_not_a_size(text):
    with pytest.raises(ValueError) as err:
        parse_size(text)
    assert repr(text) in str(err.value)


def test_parse_size_rejects_an_unknown_default_unit():
    with pytest.raises(ValueError, match="unknown size unit"):
        parse_size("1", default_unit="x")


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
