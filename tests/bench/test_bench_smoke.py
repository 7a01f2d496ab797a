"""The benchmark on a 20-book device: every phase runs and its sanity checks hold (a few seconds).

Speed is never asserted here; what is checked is what would make the numbers meaningless or
point at a real fault: failed books, a second sync that writes, a status that misses books.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bench.run import main, run

BOOKS = 20


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run(BOOKS, tmp_path_factory.mktemp("bench"))


def test_a_healthy_run_reports_no_faults(results: dict[str, Any]) -> None:
    assert results["faults"] == []
    assert results["library"]["books"] == BOOKS


def test_the_first_sync_pulls_and_pushes_after_one_backup(results: dict[str, Any]) -> None:
    first = results["first_sync"]
    assert first["pulled"] > 0 and first["pushed"] > 0
    assert first["failed"] == 0
    assert first["backups"] == 1 and first["backup_s"] > 0
    assert first["sidecars_written"] == first["pulled"]
    assert first["database_written"] and first["ledger_written"]


def test_the_second_sync_changes_no_file(results: dict[str, Any]) -> None:
    second = results["second_sync"]
    assert second["nothing_changed"]
    assert (second["pulled"], second["pushed"], second["kobo_writes"], second["backups"]) == (0, 0, 0, 0)


def test_plan_reads_the_kobo_database_in_fewer_queries_than_books(results: dict[str, Any]) -> None:
    plan = results["plan"]
    assert plan["books"] == BOOKS
    assert 0 < plan["kobo_queries"] < BOOKS
    assert sum(plan["decisions"].values()) == BOOKS


def test_status_in_a_subprocess_lists_every_book(results: dict[str, Any]) -> None:
    status = results["status_cli"]
    assert status["exit_code"] == 0
    assert status["books"] == BOOKS
    assert status["wall_s"] > 0


def test_throughputs_are_measured_on_every_readable_file(results: dict[str, Any]) -> None:
    sidecars, epub = results["sidecars"], results["epub"]
    assert sidecars["sidecars"] > 0
    assert sidecars["byte_identical_round_trips"] == sidecars["sidecars"]
    assert sidecars["parse_per_s"] > 0 and sidecars["serialize_per_s"] > 0
    assert epub["books"] > 0 and epub["positions_resolved"] == epub["books"]


def test_results_json_holds_the_numbers_and_the_machine(results: dict[str, Any]) -> None:
    stored = json.loads(Path(results["results_file"]).read_text(encoding="utf-8"))
    assert stored["plan"]["kobo_queries"] == results["plan"]["kobo_queries"]
    assert stored["machine"]["cpu_count"] >= 1
    assert stored["machine"]["python"].count(".") == 2


def test_the_command_refuses_a_book_count_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--books", "0"])
    assert exit_info.value.code == 2
    assert "not a positive number of books" in capsys.readouterr().err
