"""Partial MD5 equals KOReader's: checked against the facts page's offsets and LuaJIT's own loop."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import lupa.luajit21 as luajit
import pytest

from adapters.koreader.partial_md5 import partial_md5

# Offsets listed in docs/reference/koreader.md §2, written out rather than computed.
FACT_OFFSETS = [
    0,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
    268435456,
    1073741824,
]
SIZES = [0, 1, 1024, 1025, 5000, 3_000_000]


def expected_digest(content: bytes) -> str:
    samples = b"".join(content[offset : offset + 1024] for offset in FACT_OFFSETS if offset < len(content))
    return hashlib.md5(samples).hexdigest()


def luajit_offsets(size: int) -> list[int]:
    """Run KOReader's loop shape in LuaJIT (its bit.lshift masking included) over a file of ``size``."""
    runtime = luajit.LuaRuntime()
    loop = runtime.eval(
        """function(size)
            local bit = require("bit")
            local read = {}
            for i = -1, 10 do
                local offset = bit.lshift(1024, 2 * i)
                if offset >= size then break end
                read[#read + 1] = offset
            end
            return read
        end"""
    )
    return list(loop(size).values())


def book(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    content = random.Random(size).randbytes(size)
    path = tmp_path / f"book-{size}.epub"
    path.write_bytes(content)
    return path, content


@pytest.mark.parametrize("size", SIZES)
def test_digest_covers_the_samples_koreader_reads(tmp_path: Path, size: int) -> None:
    path, content = book(tmp_path, size)
    assert partial_md5(path) == expected_digest(content)


@pytest.mark.parametrize("size", SIZES)
def test_the_sampled_offsets_match_luajits_shift_semantics(size: int) -> None:
    assert luajit_offsets(size) == [offset for offset in FACT_OFFSETS if offset < size]


def test_an_empty_file_gives_the_md5_of_nothing(tmp_path: Path) -> None:
    path, _ = book(tmp_path, 0)
    assert partial_md5(path) == "d41d8cd98f00b204e9800998ecf8427e"


def test_bytes_between_samples_do_not_change_the_digest_but_sampled_ones_do(tmp_path: Path) -> None:
    path, content = book(tmp_path, 5000)
    before = partial_md5(path)
    path.write_bytes(content[:3000] + b"X" + content[3001:])
    assert partial_md5(path) == before
    path.write_bytes(content[:4096] + b"X" + content[4097:])
    assert partial_md5(path) != before
