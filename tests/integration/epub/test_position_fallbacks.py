"""Both sides' positions through real book files, per DOM version, and every fallback noted.

A sidecar's DOM version decides how its pointer is read and written (koreader.md §6.4); plain
EPUBs are pulled to the chapter and element Nickel's ``point(…)`` names. Whenever kksync stands
on something less precise (an enclosing element, KOReader's percent), the book's notes say so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.epub import EpubContent
from adapters.kobo.bookmark import split_bookmark
from application.positions import BookFile, kobo_position, koreader_position
from application.records import BookKind, CreDom, KOReaderState
from application.transfers import pull_write, push_write
from domain.equivalence import equivalent
from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec, build_epub
from tests.unit.application.test_service import kobo_book

WHEN = datetime(2026, 11, 30, 12, tzinfo=UTC)
CHAPTERS = [
    ChapterSpec(
        "Text/one.xhtml",
        body="<div>Loose opening text. <p>First paragraph.</p>more loose text<p>Second paragraph.</p></div>",
    ),
    ChapterSpec("Text/two.xhtml", body="<p>Chapter two starts.</p><p>And goes on.</p>"),
]


@pytest.fixture(scope="module")
def kepub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_epub(
        BookSpec("Old", "O", CHAPTERS), tmp_path_factory.mktemp("b") / "old.kepub.epub", kepub=True
    )


def kepub_file(path: Path, bookmark: str, percent: int = 40) -> BookFile:
    book = replace(
        kobo_book(read_status=1, percent=percent, when=WHEN),
        file_path=path,
        bookmark=split_bookmark(bookmark),
        chapters=(),
    )
    document = EpubContent().open(path)
    return BookFile(book, lambda _: document)


def sidecar(xpointer: str | None, version: int | None = None, **more: object) -> KOReaderState:
    return KOReaderState(
        Path("/book"),
        sidecar=Path("/book.sdr/metadata.epub.lua"),
        last_xpointer=xpointer,
        percent_finished=0.3,
        status="reading",
        cre_dom_version=version,
        history_time=WHEN,
        **more,  # type: ignore[arg-type]
    )


def test_a_sidecar_with_a_pointer_but_no_version_is_koreaders_oldest_dom_with_legacy_rendering() -> None:
    assert sidecar("/body/DocFragment/body").dom == CreDom(20171225, 0)
    assert sidecar("/x", block_rendering_mode=3).dom == CreDom(20171225, 3)
    assert sidecar("/x", settings_reset=True).dom == CreDom(20171225, None)
    assert sidecar(None).dom == CreDom(20240114, None)
    assert sidecar("/x", 20260812).dom.always_indexed


def test_a_pull_into_an_old_sidecar_writes_the_v1_pointer_koreader_resolves(kepub: Path) -> None:
    file = kepub_file(kepub, "OEBPS/Text/one.xhtml#kobo.0.1")
    koreader_position(sidecar("/body/DocFragment[2]/body/p[2]/span"), file)
    write, planned = pull_write(kobo_position(file.book, file), file, WHEN)
    assert write.last_xpointer == "/body/DocFragment[1]/body/div/div/div/autoBoxing[1]/span"
    assert planned.notes == ()
    koreader_position(sidecar("/body/DocFragment[2]/body/p[2]/span", 20240114), file)
    assert pull_write(kobo_position(file.book, file), file, WHEN)[0].last_xpointer == (
        "/body/DocFragment[1]/body/div/div/div/span[1]"
    )


def test_a_v1_pointer_in_the_first_chapter_is_not_mistaken_for_its_start(kepub: Path) -> None:
    """Before, ``autoBoxing`` steps fell back to the first span, which equalled Nickel's bookmark."""
    file = kepub_file(kepub, "OEBPS/Text/one.xhtml#kobo.0.1")
    state = sidecar("/body/DocFragment[1]/body/div/div/div/autoBoxing[2]/span/text().4")
    koreader = koreader_position(state, file)
    kobo = kobo_position(file.book, file)
    assert koreader is not None and koreader.locator is not None
    assert koreader.locator.kobo_span == "kobo.1.2"
    assert not equivalent(kobo, koreader)
    write, _ = push_write(koreader, file, WHEN)
    assert write.bookmark == "OEBPS/Text/one.xhtml#kobo.1.2"


def test_a_pointer_kksync_cannot_find_uses_koreaders_percent_and_says_so(kepub: Path) -> None:
    file = kepub_file(kepub, "OEBPS/Text/one.xhtml#kobo.0.1")
    koreader = koreader_position(sidecar("/body/DocFragment[1]/body/div/div/div/mystery[3]/span"), file)
    assert koreader is not None and koreader.locator is None
    assert koreader.progress == pytest.approx(0.3)
    assert any("not found in its chapter" in note and "percent" in note for note in file.notes)
    assert not equivalent(kobo_position(file.book, file), koreader)


def test_a_nightly_sidecar_gets_the_pointer_spelled_as_koreader_nightly_writes_it(kepub: Path) -> None:
    file = kepub_file(kepub, "OEBPS/Text/two.xhtml#kobo.2.1")
    koreader_position(sidecar("/body[1]/DocFragment[1]/body[1]", 20260812), file)
    write, _ = pull_write(kobo_position(file.book, file), file, WHEN)
    assert write.last_xpointer == "/body[1]/DocFragment[2]/body[1]/div[1]/div[1]/p[2]/span[1]"


def test_a_plain_epub_is_pulled_to_the_chapter_and_element_nickel_names(tmp_path: Path) -> None:
    chapters = [
        ChapterSpec(f"Text/c{n:02d}.xhtml", paragraphs=[f"Para {n}.{k}." for k in range(3)]) for n in range(6)
    ]
    path = build_epub(BookSpec("Plain", "P", chapters), tmp_path / "plain.epub")
    book = replace(
        kobo_book(read_status=1, percent=12, when=WHEN, kind=BookKind.EPUB),
        file_path=path,
        bookmark=split_bookmark("OEBPS/Text/c04.xhtml#point(/1/4/4/1:2)"),
        chapters=(),
    )
    document = EpubContent().open(path)
    file = BookFile(book, lambda _: document)
    position = kobo_position(book, file)
    assert position.progress == pytest.approx(0.12)  # Nickel's own percent stays the progress
    assert position.locator is not None and position.locator.chapter_href == "OEBPS/Text/c04.xhtml"
    write, planned = pull_write(position, file, WHEN)
    assert write.last_xpointer == "/body/DocFragment[5]/body/p[2]"
    assert planned.notes == ()


def test_a_plain_epub_point_kksync_cannot_read_keeps_the_chapter_and_says_so(tmp_path: Path) -> None:
    chapters = [ChapterSpec(f"Text/c{n}.xhtml", paragraphs=["Text."]) for n in range(3)]
    path = build_epub(BookSpec("Plain", "P", chapters), tmp_path / "plain.epub")
    book = replace(
        kobo_book(read_status=1, percent=5, when=WHEN, kind=BookKind.EPUB),
        file_path=path,
        bookmark=split_bookmark("OEBPS/Text/c2.xhtml#point(garbage)"),
        chapters=(),
    )
    document = EpubContent().open(path)
    file = BookFile(book, lambda _: document)
    position = kobo_position(book, file)
    write, planned = pull_write(position, file, WHEN)
    assert write.last_xpointer == "/body/DocFragment[3]/body"
    assert any("could not be read" in note for note in file.notes)
    assert any("chapter start written" in note for note in planned.notes)


def test_a_v1_pointer_through_unevaluable_styles_keeps_its_chapter_but_claims_no_span(tmp_path: Path) -> None:
    css = b"div.box > p:first-child { display: inline }"
    spec = BookSpec(
        "Tricky",
        "T",
        [
            ChapterSpec(
                "Text/t.xhtml",
                body='<div class="box"><p>First.</p>loose<p>Second.</p></div>',
                head=('<link rel="stylesheet" href="../t.css"/>'),
            )
        ],
        resources={"t.css": css},
    )
    path = build_epub(spec, tmp_path / "t.kepub.epub", kepub=True)
    file = kepub_file(path, "OEBPS/Text/t.xhtml#kobo.1.1")
    koreader = koreader_position(
        sidecar("/body/DocFragment/body/div/div/div/autoBoxing/p/span/text().2"), file
    )
    assert koreader is not None and koreader.locator is not None
    assert (koreader.locator.chapter_href, koreader.locator.kobo_span) == ("OEBPS/Text/t.xhtml", None)
    assert any("enclosing element stands for it" in note for note in file.notes)
    assert push_write(koreader, file, WHEN)[0].bookmark == "OEBPS/Text/t.xhtml#kobo.1.1"  # never after
