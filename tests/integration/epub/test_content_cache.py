"""``EpubContent`` reads each file once per run, re-reads changed files and stays bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import adapters.epub.content as content_module
from adapters.epub import EpubContent
from adapters.epub.archive import BookArchive
from application.errors import BookContentError
from entrypoints.demo.kepub_builder import build_epub
from entrypoints.demo.sample_books import sample_book


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the book files ``EpubContent`` opened as zips to read their package."""
    seen: list[str] = []
    real = BookArchive

    def counting(path: Path, max_entry_bytes: int) -> BookArchive:
        seen.append(path.name)
        return real(path, max_entry_bytes)

    monkeypatch.setattr(content_module, "BookArchive", counting)
    return seen


def test_a_book_is_parsed_once_and_again_after_it_changes(tmp_path: Path, loads: list[str]) -> None:
    path = build_epub(sample_book(1, chapters=1), tmp_path / "a.epub")
    content = EpubContent()
    first = content.open(path)
    assert content.open(path) is first
    build_epub(sample_book(2, chapters=2), path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = content.open(path)
    assert second is not first and len(second.spine) == 3
    assert loads == ["a.epub", "a.epub"]


def test_broken_books_are_not_read_twice(tmp_path: Path, loads: list[str]) -> None:
    path = tmp_path / "broken.epub"
    path.write_bytes(b"PK\x03\x04 not really")
    content = EpubContent()
    for _ in range(3):
        with pytest.raises(BookContentError, match=r"broken\.epub"):
            content.open(path)
    assert loads == ["broken.epub"]


def test_the_cache_is_bounded(tmp_path: Path, loads: list[str]) -> None:
    paths = [build_epub(sample_book(n, chapters=1), tmp_path / f"{n}.epub") for n in range(3)]
    content = EpubContent(cache_size=2)
    for path in paths:
        content.open(path)
    content.open(paths[2])
    content.open(paths[0])
    assert loads == ["0.epub", "1.epub", "2.epub", "0.epub"]


def test_settings_must_be_positive() -> None:
    with pytest.raises(ValueError):
        EpubContent(max_entry_bytes=0)
    with pytest.raises(ValueError):
        EpubContent(cache_size=0)
