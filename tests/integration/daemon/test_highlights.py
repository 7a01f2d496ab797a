"""The daemon carries a highlight made in Nickel into KOReader, though the book row did not move."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

from adapters.device import DeviceLayout
from adapters.epub import EpubContent
from adapters.epub.annotation_positions import EpubAnnotationPlacer
from adapters.kobo.bookmarks import NickelBookmarks
from adapters.koreader.annotations import SidecarAnnotations
from adapters.koreader.library import SidecarLibrary
from tests.e2e.rpc.conftest import RunningDaemon, wait_for

PRIDE = "0RDTATJQNHSQ0"
SYNC_SECONDS = 3.0


def test_a_highlight_made_in_nickel_reaches_koreader(daemon: RunningDaemon) -> None:
    layout = DeviceLayout(daemon.device)
    book = EpubAnnotationPlacer(EpubContent()).open(layout.book_host_path(PRIDE))
    chapter = book.chapter(1)
    span, start = next(
        (span, start) for span, start in zip(chapter.spans, chapter.span_starts, strict=True)
        if (chapter.span_end(span) or 0) - start > 12
    )  # fmt: skip
    text = chapter.text[start : start + 12]
    content_id = NickelBookmarks(layout.database).chapter_ids(PRIDE)[book.zip_path(1)]
    selector = "span#" + span.replace(".", "\\.")
    begun = time.monotonic()
    with closing(sqlite3.connect(layout.database)) as db, db:
        db.execute(
            "INSERT INTO Bookmark (BookmarkID, VolumeID, ContentID, StartContainerPath,"
            " StartContainerChildIndex, StartOffset, EndContainerPath, EndContainerChildIndex, EndOffset,"
            " Text, Annotation, DateCreated, ChapterProgress, Hidden, DateModified, Type)"
            " VALUES (?, ?, ?, ?, -99, 0, ?, -99, 12, ?, 'from Nickel', '2026-11-30T20:00:00.000', 0.1,"
            " 'false', '2026-11-30T20:00:00Z', 'note')",
            ("7d1c1a43-1111-4a57-9b43-5f2a7b0e9d11", PRIDE, content_id, selector, selector, text),
        )
    store = SidecarAnnotations(SidecarLibrary(layout))

    def arrived() -> bool:
        return any(
            item.note == "from Nickel" for item in store.annotations(layout.book_host_path(PRIDE)).items
        )

    wait_for(arrived, SYNC_SECONDS, "the highlight")
    assert time.monotonic() - begun < SYNC_SECONDS
    (item,) = [i for i in store.annotations(layout.book_host_path(PRIDE)).items if i.note == "from Nickel"]
    assert item.text == text and item.pos0 is not None and item.pos1 is not None
    assert book.text(book.from_koreader(item.pos0, item.pos1)) == text
