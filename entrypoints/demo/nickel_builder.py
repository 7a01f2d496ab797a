"""Adding books to a Nickel database the way Nickel itself lays them out (docs/reference/kobo.md §2-§3).

Used by ``kksync demo``, the end-to-end tests and the benchmark to build realistic devices:

- kepubs (``add_kepub_book``): a ContentType 6 book row, one ContentType 9 row per spine file with
  ContentID ``<bookpart>!<opfdir>!<href>`` (``<bookpart>`` without ``file://`` for sideloaded
  books), ``VolumeIndex`` in spine order and ``___FileOffset``/``___FileSize`` as percent of the
  book (REAL sizes for store/server books, truncated integers for sideloaded ones; offsets are
  the rounded running total), plus ContentType 899 TOC rows and ``volume_shortcovers`` rows;
- plain EPUBs read by Adobe's renderer (``add_epub_book``) and PDFs (``add_pdf_book``), whose
  ContentType 9 rows are TOC entries ``<ContentID>#(<n>)…`` with zero sizes.

Columns missing in the target database (older firmware) are left out of the rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, insert

from adapters.device import FILE_SCHEME
from adapters.kobo.connection import open_engine, writing
from adapters.kobo.contentid import EPUB_MIME, KEPUB_MIME, PDF_MIME, chapter_content_id
from adapters.kobo.covers import sideloaded_image_id
from adapters.kobo.dates import format_kobo_date
from adapters.kobo.tables import declare_present

CHAPTER_MIME = "application/xhtml+xml"
SIDELOADED_KEPUB_USER = "kepub_user"
ADOBE_USER = "adobe_user"
DEMO_ACCOUNT = "5f0c8e0e-7d1f-4d53-9c55-0c6b2f1c9a11"
TRUE, FALSE = "true", "false"


def add_kepub_book(db_path: Path, **book: Any) -> list[str]:
    """Add one kepub (keyword arguments as ``kepub_rows`` documents them); return its chapter ids."""
    return add_kepub_books(db_path, [book])[0]


def add_epub_book(
    db_path: Path,
    *,
    content_id: str,
    title: str,
    toc: Sequence[str],
    author: str | None = None,
    read_status: int = 0,
    percent_read: int = 0,
    date_last_read: datetime | str | None = None,
    bookmark: str | None = None,
    file_size: int = 0,
) -> list[str]:
    """Add a sideloaded plain EPUB (Adobe renderer); ``toc`` are zip paths, maybe with fragments.

    Its ContentType 9 rows are TOC entries ``<ContentID>#(<n>)<zip path>`` without sizes, and
    its bookmark, when given, is an Adobe ``<zip path>#point(...)``.
    """
    _check_sideloaded(content_id, True)
    rows = [
        _child_row(f"{content_id}#({index}){target}", content_id, title, EPUB_MIME, "9", ADOBE_USER, index)
        | {"Title": PurePosixPath(target.partition("#")[0]).stem, "adobe_location": target, "Depth": 1}
        for index, target in enumerate(toc)
    ]
    return _add_adobe_book(
        db_path,
        content_id,
        EPUB_MIME,
        title,
        author,
        rows,
        file_size,
        (read_status, percent_read, date_last_read, bookmark),
    )


def add_pdf_book(
    db_path: Path,
    *,
    content_id: str,
    title: str,
    toc: Sequence[tuple[str, int]] = (),
    author: str | None = None,
    read_status: int = 0,
    percent_read: int = 0,
    date_last_read: datetime | str | None = None,
    bookmark: str | None = None,
    file_size: int = 0,
) -> list[str]:
    """Add a sideloaded PDF; ``toc`` are ``(label, page)`` outline entries (``#pdfloc`` rows)."""
    _check_sideloaded(content_id, True)
    rows = []
    for index, (label, page) in enumerate(toc):
        location = f"#pdfloc(ffc1,{page})"
        row_id = f"{content_id}#({index}){location}"
        rows.append(
            _child_row(row_id, content_id, title, PDF_MIME, "9", ADOBE_USER, index)
            | {"Title": label, "adobe_location": location, "Depth": 1}
        )
    return _add_adobe_book(
        db_path,
        content_id,
        PDF_MIME,
        title,
        author,
        rows,
        file_size,
        (read_status, percent_read, date_last_read, bookmark),
    )


image_id_for = sideloaded_image_id


def _add_adobe_book(
    db_path: Path,
    content_id: str,
    mime: str,
    title: str,
    author: str | None,
    rows: list[dict[str, Any]],
    file_size: int,
    reading: tuple[int, int, datetime | str | None, str | None],
) -> list[str]:
    book = _book_row(
        content_id,
        mime,
        title=title,
        author=author,
        user_id=ADOBE_USER,
        entitlement_id=None,
        reading=reading,
        series=(None, None),
        file_size=file_size,
        shortcovers=len(rows),
    )
    with _database(db_path) as (connection, content):
        _insert(connection, content, [book])
        _insert(connection, content, rows)
        _add_shortcovers(connection, content_id, [row["ContentID"] for row in rows])
    return [row["ContentID"] for row in rows]


def _book_row(
    content_id: str,
    mime: str,
    *,
    title: str,
    author: str | None,
    user_id: str,
    entitlement_id: str | None,
    reading: tuple[int, int, datetime | str | None, str | None],
    series: tuple[str | None, str | None],
    file_size: int,
    shortcovers: int,
) -> dict[str, Any]:
    read_status, percent_read, date_last_read, bookmark = reading
    opened = read_status > 0 or date_last_read is not None
    sideloaded = content_id.startswith(FILE_SCHEME)
    return {
        "ContentID": content_id,
        "ContentType": "6",
        "MimeType": mime,
        "BookID": None,
        "ImageId": image_id_for(content_id) if sideloaded else content_id,
        "Title": title,
        "Attribution": author,
        "IsEncrypted": FALSE,
        "DateLastRead": _stored_date(date_last_read),
        "FirstTimeReading": FALSE if opened else TRUE,
        "ChapterIDBookmarked": bookmark,
        "ParagraphBookmarked": 0,
        "BookmarkWordOffset": 0,
        "NumShortcovers": shortcovers,
        "VolumeIndex": -1,
        "___NumPages": -1,
        "ReadStatus": read_status,
        "___UserID": user_id,
        "___FileSize": file_size,
        "___PercentRead": percent_read,
        "IsDownloaded": TRUE,
        "Series": series[0],
        "SeriesNumber": series[1],
        "EntitlementId": entitlement_id or "",
        "ReadStateSynced": FALSE if opened and sideloaded else TRUE,
    }


def _stored_date(value: datetime | str | None) -> str | None:
    return format_kobo_date(value) if isinstance(value, datetime) else value


def _child_row(
    content_id: str, book_id: str, book_title: str, mime: str, content_type: str, user_id: str, index: int
) -> dict[str, Any]:
    return {
        "ContentID": content_id,
        "ContentType": content_type,
        "MimeType": mime,
        "BookID": book_id,
        "BookTitle": book_title,
        "IsEncrypted": FALSE,
        "FirstTimeReading": TRUE,
        "VolumeIndex": index,
        "___NumPages": -1,
        "ReadStatus": 0,
        "___UserID": user_id,
        "___FileOffset": 0,
        "___FileSize": 0,
        "___PercentRead": 0,
        "IsDownloaded": 1,
        "Depth": 0,
        "ReadStateSynced": FALSE,
    }


def _percent_extents(sizes: Sequence[int], *, truncate: bool) -> list[tuple[int, float]]:
    """(offset, size) per spine file in percent of the book, the way Nickel stores them.

    Offsets are the rounded running total of the exact shares; sizes are the exact share (REAL)
    or, for sideloaded books, that share truncated to an integer.
    """
    total = sum(sizes)
    extents: list[tuple[int, float]] = []
    running = 0.0
    for size in sizes:
        share = 100.0 * size / total if total > 0 else 0.0
        extents.append((round(running), float(math.floor(share)) if truncate else share))
        running += share
    return extents


def _href(zip_path: str, opf_dir: str) -> str:
    if not opf_dir:
        return zip_path
    prefix = opf_dir.rstrip("/") + "/"
    if not zip_path.startswith(prefix):
        raise ValueError(f"chapter {zip_path!r} is not inside the OPF folder {opf_dir!r}")
    return zip_path[len(prefix) :]


def _check_sideloaded(content_id: str, sideloaded: bool | None) -> bool:
    by_id = content_id.startswith(FILE_SCHEME)
    if sideloaded is not None and sideloaded != by_id:
        raise ValueError(f"sideloaded books have file:// ContentIDs, others do not: {content_id!r}")
    return by_id


def _insert(connection: Connection, content: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows of one shape, leaving out columns this database does not have."""
    if rows:
        present = [{column: value for column, value in row.items() if column in content.c} for row in rows]
        connection.execute(insert(content), present)


def _add_shortcovers(connection: Connection, book_id: str, chapter_ids: Sequence[str]) -> None:
    if not chapter_ids:
        return
    shortcovers = declare_present(connection, "volume_shortcovers")
    rows = [{"volumeId": book_id, "shortcoverId": cid, "VolumeIndex": i} for i, cid in enumerate(chapter_ids)]
    connection.execute(insert(shortcovers), rows)


@contextmanager
def _database(db_path: Path) -> Iterator[tuple[Connection, Table]]:
    engine = open_engine(db_path, busy_timeout_seconds=10.0)
    try:
        with writing(engine.connect()) as connection, connection.begin():
            yield connection, declare_present(connection, "content")
    finally:
        engine.dispose()


def add_kepub_books(db_path: Path, books: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Add many kepubs in one transaction; return each book's chapter ContentIDs in spine order.

    Each mapping holds the keyword arguments of ``add_kepub_book`` (without ``db_path``) and the
    rows are exactly the ones it writes. One engine, one schema probe and one multi-row INSERT per
    table instead of one of each per book: the benchmark builds thousands of books this way in a
    second or two, where book-by-book would take half a minute.
    """
    laid_out = [kepub_rows(**book) for book in books]
    with _database(db_path) as (connection, content):
        _insert(connection, content, [rows.book for rows in laid_out])
        _insert(connection, content, [row for rows in laid_out for row in rows.spine])
        _insert(connection, content, [row for rows in laid_out for row in rows.toc])
        shortcovers = declare_present(connection, "volume_shortcovers")
        shortcover_rows = [
            {"volumeId": rows.book["ContentID"], "shortcoverId": chapter_id, "VolumeIndex": index}
            for rows in laid_out
            for index, chapter_id in enumerate(rows.chapter_ids)
        ]
        if shortcover_rows:
            connection.execute(insert(shortcovers), shortcover_rows)
    return [rows.chapter_ids for rows in laid_out]


class _KepubRows(NamedTuple):
    """The rows one kepub adds: its book row, spine rows, TOC rows (maybe none) and chapter ids."""

    book: dict[str, Any]
    spine: list[dict[str, Any]]
    toc: list[dict[str, Any]]
    chapter_ids: list[str]


def kepub_rows(
    *,
    content_id: str,
    title: str,
    chapters: Sequence[tuple[str, int]],
    author: str | None = None,
    opf_dir: str = "OEBPS",
    sideloaded: bool | None = None,
    user_id: str | None = None,
    entitlement_id: str | None = None,
    read_status: int = 0,
    percent_read: int = 0,
    date_last_read: datetime | str | None = None,
    bookmark: str | None = None,
    series: str | None = None,
    series_number: str | None = None,
    file_size: int | None = None,
    chapter_percent_read: Mapping[str, int] | None = None,
    table_of_contents: bool = True,
) -> _KepubRows:
    """The rows one kepub adds to Nickel's database, built without touching the database.

    ``chapters`` are the spine files as ``(zip path, uncompressed size in bytes)``; every zip
    path must lie under ``opf_dir`` (``""`` when content.opf is at the zip root). ``sideloaded``
    defaults to whether ``content_id`` is a ``file://`` URL and must agree with it when given.
    ``entitlement_id`` equal to ``content_id`` makes a Calibre-Web/Komga-style server book; a
    different UUID a Kobo store book. ``date_last_read`` as a string is stored verbatim, so
    tests can plant any form Nickel or other tools write. ``chapter_percent_read`` maps zip
    paths to the chapter rows' ``___PercentRead``.
    """
    is_sideloaded = _check_sideloaded(content_id, sideloaded)
    hrefs = [_href(zip_path, opf_dir) for zip_path, _ in chapters]
    extents = _percent_extents([size for _, size in chapters], truncate=is_sideloaded)
    chapter_ids = [chapter_content_id(content_id, opf_dir, href) for href in hrefs]
    owner = SIDELOADED_KEPUB_USER if is_sideloaded else (user_id or DEMO_ACCOUNT)
    book = _book_row(
        content_id,
        KEPUB_MIME,
        title=title,
        author=author,
        user_id=owner,
        entitlement_id=None if is_sideloaded else entitlement_id,
        reading=(read_status, percent_read, date_last_read, bookmark),
        series=(series, series_number),
        file_size=file_size if file_size is not None else sum(size for _, size in chapters),
        shortcovers=len(chapters),
    )
    chapter_owner = "" if is_sideloaded else owner
    percents = chapter_percent_read or {}
    spine = [
        _child_row(chapter_id, content_id, title, CHAPTER_MIME, "9", chapter_owner, index)
        | {"Title": href, "___FileOffset": offset, "___FileSize": size}
        | {"___PercentRead": percents.get(path, 0)}
        for index, (chapter_id, href, (offset, size), (path, _)) in enumerate(
            zip(chapter_ids, hrefs, extents, chapters, strict=True)
        )
    ]
    toc = [
        _child_row(f"{chapter_id}-1", content_id, title, KEPUB_MIME, "899", chapter_owner, index)
        | {"Title": PurePosixPath(href).stem, "Depth": 1, "ChapterIDBookmarked": chapter_id}
        for index, (chapter_id, href) in enumerate(zip(chapter_ids, hrefs, strict=True))
    ]
    return _KepubRows(book, spine, toc if table_of_contents else [], chapter_ids)
