"""Cost of converting positions across a library: time and peak memory for 500 books.

Books are built once (that is not what is measured); then a fresh ``EpubContent`` opens every
book and converts a Kobo span to an xpointer and a KOReader xpointer back to a span, as a
sync run does. The numbers are logged and bounded generously so slow CI machines pass while a
leak (documents or parsed chapters kept per book) would not.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from pathlib import Path

import pytest

from adapters.epub import EpubContent
from entrypoints.demo.kepub_builder import build_epub
from entrypoints.demo.sample_books import sample_book

BOOKS = 500
log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("library")
    base = [
        build_epub(sample_book(n, chapters=3), root / f"base{n}.kepub.epub", kepub=True) for n in range(10)
    ]
    books = []
    for n in range(BOOKS):  # copies of a few built books: each is a separate file to open and parse
        path = root / f"book{n:04d}.kepub.epub"
        path.write_bytes(base[n % len(base)].read_bytes())
        books.append(path)
    return books


@pytest.mark.slow
def test_open_and_convert_positions_in_500_books(library: list[Path]) -> None:
    content = EpubContent(cache_size=64)
    tracemalloc.start()
    started = time.perf_counter()
    converted = 0
    for path in library:
        document = content.open(path)
        chapter = document.spine[2].zip_path
        span = document.span_at(chapter, 0.4)
        assert span is not None
        xpointer = document.span_xpointer(chapter, span)
        assert xpointer is not None
        target = document.locate(xpointer)
        assert target is not None and target.span == span
        converted += 1
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    log.warning(
        "%d books: %.2f s (%.1f ms/book), peak %.1f MiB",
        converted,
        elapsed,
        elapsed * 1000 / converted,
        peak / 2**20,
    )
    assert converted == BOOKS
    assert elapsed < 60.0
    assert peak < 64 * 2**20
