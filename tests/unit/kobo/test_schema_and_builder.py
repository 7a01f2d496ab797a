from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from entrypoints.demo.nickel_builder import add_kepub_book, image_id_for
from entrypoints.demo.nickel_schema import CONTENT_DDL, content_columns, content_ddl, create_nickel_database
from tests.support.nickel import real_fixture


def _columns(db: Path, table: str = "content") -> list[str]:
    with closing(sqlite3.connect(db)) as connection:
        return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]


def test_content_ddl_has_the_real_columns_in_order() -> None:
    assert content_columns() == _columns(real_fixture())
    assert len(content_columns()) == 101


def test_older_firmware_databases_lack_the_dropped_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    create_nickel_database(db, drop_columns=("ReadStateSynced", "StorePages"))
    assert _columns(db) == [c for c in content_columns() if c not in ("ReadStateSynced", "StorePages")]
    with pytest.raises(ValueError, match="every firmware"):
        content_ddl(("ContentID",))
    with pytest.raises(ValueError, match="not columns"):
        content_ddl(("NoSuchColumn",))
    assert content_ddl(()) == CONTENT_DDL


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_create_sets_the_journal_mode_and_version(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "KoboReader.sqlite"
    create_nickel_database(db, journal_mode=mode)
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == (mode,)
        assert connection.execute("SELECT version FROM DbVersion").fetchall() == [(174,)]
    with pytest.raises(FileExistsError):
        create_nickel_database(db)


def test_kepub_rows_have_nickels_shapes(tmp_path: Path) -> None:
    db = tmp_path / "KoboReader.sqlite"
    create_nickel_database(db)
    spine = [("OEBPS/Text/a.xhtml", 745), ("OEBPS/Text/b.xhtml", 6821), ("OEBPS/Text/c.xhtml", 92434)]
    store = "c00698f0-3836-4428-b0fc-48354822fa80"
    side = "file:///mnt/onboard/S/x.kepub.epub"
    assert add_kepub_book(db, content_id=store, title="T", chapters=spine)[1] == f"{store}!OEBPS!Text/b.xhtml"
    assert add_kepub_book(db, content_id=side, title="S", chapters=spine, opf_dir="OEBPS/Text")[0] == (
        "/mnt/onboard/S/x.kepub.epub!OEBPS/Text!a.xhtml"
    )
    with closing(sqlite3.connect(db)) as connection:
        rows = connection.execute(
            "SELECT BookID, ___FileOffset, ___FileSize, typeof(___FileSize), VolumeIndex FROM content "
            "WHERE ContentType = '9' ORDER BY BookID, VolumeIndex"
        ).fetchall()
        toc = connection.execute("SELECT COUNT(*) FROM content WHERE ContentType = '899'").fetchone()
        shortcovers = connection.execute("SELECT COUNT(*) FROM volume_shortcovers").fetchone()
        image = connection.execute("SELECT ImageId FROM content WHERE ContentID = ?", (side,)).fetchone()
    store_rows = [r for r in rows if r[0] == store]
    side_rows = [r for r in rows if r[0] == side]
    assert [r[1] for r in store_rows] == [0, 1, 8]  # rounded running totals of 0.745 %, 6.821 %
    assert [r[3] for r in store_rows] == ["real"] * 3
    assert sum(r[2] for r in store_rows) == pytest.approx(100.0)
    assert [(r[1], r[2], r[3]) for r in side_rows] == [
        (0, 0, "integer"),
        (1, 6, "integer"),
        (8, 92, "integer"),
    ]
    assert toc == (6,) and shortcovers == (6,)
    assert image == ("file____mnt_onboard_S_x_kepub_epub",)


def test_builder_refuses_inconsistent_input(tmp_path: Path) -> None:
    db = tmp_path / "KoboReader.sqlite"
    create_nickel_database(db)
    with pytest.raises(ValueError, match="OPF folder"):
        add_kepub_book(db, content_id="0RDTATJQNHSQ0", title="x", chapters=[("Text/a.xhtml", 1)])
    with pytest.raises(ValueError, match="file://"):
        add_kepub_book(
            db, content_id="0RDTATJQNHSQ0", title="x", chapters=[("OEBPS/a.xhtml", 1)], sideloaded=True
        )


def test_image_id_replaces_only_slashes_spaces_colons_and_dots() -> None:
    assert image_id_for("file:///mnt/onboard/Chia & Co, (Ph.D)/A_ B-c.kepub.epub") == (
        "file____mnt_onboard_Chia_&_Co,_(Ph_D)_A__B-c_kepub_epub"
    )


def test_image_id_is_the_one_nickel_stored_for_every_sideloaded_fixture_book() -> None:
    with closing(sqlite3.connect(f"file:{real_fixture()}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT ContentID, ImageId FROM content WHERE ContentType = 6 AND ContentID LIKE 'file://%'"
        ).fetchall()
    assert len(rows) >= 10
    assert [image_id_for(content_id) for content_id, _ in rows] == [image_id for _, image_id in rows]
