"""The ``AnnotationLedger`` contract, run against the SQLite ledger and the in-memory fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.ledger.sql_ledger import SqlLedger
from application.ports import AnnotationLedger
from domain.annotation import Annotation, AnnotationKind, TextPoint, TextRange
from tests.fakes.ledger import FakeLedger

NOTE = Annotation(
    AnnotationKind.NOTE,
    TextRange(TextPoint(5, 120), TextPoint(5, 180)),
    text="It is obvious enough that Ssǔ-ma Chʽien",
    note="Such a cool quote!\nAmazing!",
    color="red",
    created=datetime(2025, 2, 4, 17, 16, 33, 795000, tzinfo=UTC),
    modified=datetime(2025, 2, 4, 17, 16, 33, tzinfo=UTC),
)
HIGHLIGHT = Annotation(AnnotationKind.HIGHLIGHT, TextRange(TextPoint(0, 0), TextPoint(1, 3)))


@pytest.fixture(params=["sqlite", "fake"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnnotationLedger]:
    if request.param == "fake":
        yield FakeLedger()
        return
    real = SqlLedger(tmp_path / ".adds" / "kksync" / "ledger.sqlite", device_id="N4181C0000001")
    yield real
    real.close()


def test_a_book_never_synced_has_no_agreed_annotations(ledger: AnnotationLedger) -> None:
    assert ledger.agreed_annotations("0RDTATJQNHSQ0") == []


def test_agreed_annotations_come_back_exactly_and_in_order(ledger: AnnotationLedger) -> None:
    ledger.record_annotations("book", [NOTE, HIGHLIGHT])
    assert ledger.agreed_annotations("book") == [NOTE, HIGHLIGHT]
    assert ledger.agreed_annotations("other") == []


def test_recording_again_replaces_the_set(ledger: AnnotationLedger) -> None:
    ledger.record_annotations("book", [NOTE, HIGHLIGHT])
    ledger.record_annotations("book", [HIGHLIGHT])
    assert ledger.agreed_annotations("book") == [HIGHLIGHT]
    ledger.record_annotations("book", [])
    assert ledger.agreed_annotations("book") == []


def test_reading_leaves_no_ledger_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    real = SqlLedger(path, device_id="N1")
    assert real.agreed_annotations("book") == []
    assert not path.exists()
    real.close()
