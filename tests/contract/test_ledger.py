"""The ``Ledger`` contract, run against the SQLite ledger and the in-memory fake."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.ledger.sql_ledger import SqlLedger
from application.ports import Ledger
from application.records import BookKind, FileCheck, FileStamp, FileState, SeenBook
from domain.decision import AgreedState
from domain.position import Locator, ReadingPosition
from domain.status import ReadingStatus
from tests.fakes.ledger import FakeLedger

READ_AT = datetime(2026, 11, 20, 14, 30, 5, tzinfo=UTC)
KOBO = ReadingPosition(
    0.4512345678901234,
    ReadingStatus.READING,
    READ_AT,
    Locator(3, "OEBPS/Text/ch03.xhtml", 0.25, kobo_span="kobo.12.3"),
)
KOREADER = ReadingPosition(
    0.4512345678901234,
    ReadingStatus.ABANDONED,
    None,
    Locator(3, "OEBPS/Text/ch03.xhtml", 0.25, "kobo.12.3", "/body/DocFragment[4]/body/p[12]/span"),
)


@pytest.fixture(params=["sqlite", "fake"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "fake":
        yield FakeLedger()
        return
    real = SqlLedger(tmp_path / ".adds" / "kksync" / "ledger.sqlite", device_id="N4181C0000001")
    yield real
    real.close()


def test_an_unknown_book_has_no_agreement(ledger: Ledger) -> None:
    assert ledger.get("0RDTATJQNHSQ0") is None
    assert ledger.all() == {}


def test_a_recorded_agreement_comes_back_exactly(ledger: Ledger) -> None:
    state = AgreedState(KOBO, KOREADER)
    ledger.record("file:///mnt/onboard/O'Brien/Tír na nÓg 100%_.kepub.epub", state)
    assert ledger.get("file:///mnt/onboard/O'Brien/Tír na nÓg 100%_.kepub.epub") == state
    assert ledger.all() == {"file:///mnt/onboard/O'Brien/Tír na nÓg 100%_.kepub.epub": state}


def test_a_side_without_a_sidecar_is_recorded_as_none(ledger: Ledger) -> None:
    ledger.record("a", AgreedState(KOBO, None))
    assert ledger.get("a") == AgreedState(KOBO, None)


def test_recording_again_replaces_the_agreement(ledger: Ledger) -> None:
    ledger.record("a", AgreedState(KOBO, KOREADER))
    ledger.record("a", AgreedState(KOREADER, KOBO))
    assert ledger.get("a") == AgreedState(KOREADER, KOBO)
    assert len(ledger.all()) == 1


def test_reading_an_empty_ledger_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / ".adds" / "kksync" / "ledger.sqlite"
    ledger = SqlLedger(path, device_id="x")
    assert ledger.all() == {}
    assert ledger.get("a") is None
    assert not path.exists()


def test_devices_sharing_a_ledger_file_do_not_see_each_other(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    first, second = SqlLedger(path, device_id="one"), SqlLedger(path, device_id="two")
    first.record("a", AgreedState(KOBO, KOREADER))
    assert second.get("a") is None
    assert SqlLedger(path, device_id="one").get("a") == AgreedState(KOBO, KOREADER)


def test_a_declined_question_is_remembered_without_touching_the_agreement(ledger: Ledger) -> None:
    ledger.record("a", AgreedState(KOBO, KOREADER))
    ledger.decline("a", "5c1e0000")
    ledger.decline("b", "77aa0000")
    ledger.decline("a", "5c1e0001")
    assert ledger.declined() == {"a": "5c1e0001", "b": "77aa0000"}
    assert ledger.all() == {"a": AgreedState(KOBO, KOREADER)}


SEEN = SeenBook(
    key="a" * 40,
    kobo=KOBO,
    koreader=KOREADER,
    notes=("Kobo span kobo.9.9 is not in OEBPS/Text/ch03.xhtml; chapter progress used",),
    file_check=FileCheck(
        FileStamp(1234, 1_700_000_000_123_456_789, 1_700_000_000_5), BookKind.KEPUB, FileState.READABLE
    ),
)


def test_seen_books_come_back_exactly_beside_an_agreement(ledger: Ledger) -> None:
    ledger.record_batch({"0RDTATJQNHSQ0": AgreedState(KOBO, KOREADER)}, {"0RDTATJQNHSQ0": SEEN})
    assert ledger.seen() == {"0RDTATJQNHSQ0": SEEN}
    assert ledger.get("0RDTATJQNHSQ0") == AgreedState(KOBO, KOREADER)
    replaced = SeenBook("b" * 40, KOBO, None)
    ledger.record_batch({}, {"0RDTATJQNHSQ0": replaced})
    assert ledger.seen() == {"0RDTATJQNHSQ0": replaced}


def test_seen_books_alone_never_start_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    SqlLedger(path, "N1").record_batch({}, {"0RDTATJQNHSQ0": SEEN})
    assert not path.exists()
    fake = FakeLedger()
    fake.record_batch({}, {"0RDTATJQNHSQ0": SEEN})
    assert fake.seen() == {}


# The tables as kksync 0.1 wrote them (through the ORM), byte for byte from such a ledger.
ORM_ERA_SCHEMA = (
    "CREATE TABLE agreed_state (device_id VARCHAR NOT NULL, book_id VARCHAR NOT NULL,"
    " kobo TEXT NOT NULL, koreader TEXT NOT NULL, PRIMARY KEY (device_id, book_id))",
    "CREATE TABLE declined_question (device_id VARCHAR NOT NULL, book_id VARCHAR NOT NULL,"
    " token VARCHAR NOT NULL, PRIMARY KEY (device_id, book_id))",
)


def test_a_ledger_written_by_the_orm_era_is_read_and_updated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with closing(sqlite3.connect(path)) as db, db:
        for statement in ORM_ERA_SCHEMA:
            db.execute(statement)
        db.execute(
            "INSERT INTO agreed_state VALUES ('N1', 'a', ?, 'null')",
            ('{"locator": null, "progress": 0.5, "status": "READING", "updated_at": null}',),
        )
    ledger = SqlLedger(path, device_id="N1")
    assert ledger.get("a") == AgreedState(ReadingPosition(0.5, ReadingStatus.READING, None, None), None)
    ledger.record("a", AgreedState(KOBO, KOREADER))
    ledger.decline("a", "token-1")
    ledger.decline("a", "token-2")
    ledger.close()
    assert SqlLedger(path, device_id="N1").all() == {"a": AgreedState(KOBO, KOREADER)}
    assert SqlLedger(path, device_id="N1").declined() == {"a": "token-2"}
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM agreed_state").fetchone() == (1,)
