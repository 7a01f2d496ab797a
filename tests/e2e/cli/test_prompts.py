"""``prompt`` settings: answered by ``--yes`` or on the terminal, else skipped and reported.

Pulling newer Kobo progress is set to ``prompt``; Pride and Prejudice (read further in Nickel) is
the book in question. stdin is always a pipe here, so without a flag nobody is there to ask.
"""

from __future__ import annotations

from adapters.device import DeviceLayout
from tests.e2e.cli.conftest import CopyDevice
from tests.e2e.cli.devices import (
    MAIN_PUSHES,
    PRIDE_ID,
    by_book,
    database_dump,
    file_hashes,
    json_document,
    kksync,
    ledger_books,
    sidecar_of,
    sync_json,
)

PROMPT_PULLS = {"KKSYNC_SYNC_FROM_KOBO_NEWER": "prompt"}


def _sidecar_bytes(layout: DeviceLayout) -> bytes:
    path = sidecar_of(layout, PRIDE_ID)
    assert path is not None
    return path.read_bytes()


def _agreements(layout: DeviceLayout) -> list[tuple[object, ...]]:
    """The ledger's agreements (it also remembers declined questions, outside the agreements)."""
    return database_dump(layout.kksync_dir / "ledger.sqlite")["agreed_state"]


def _files_but_the_ledger(layout: DeviceLayout) -> dict[str, str]:
    hashes = file_hashes(layout.root, include_backups=True)
    del hashes[".adds/kksync/ledger.sqlite"]
    return hashes


def test_without_a_terminal_the_prompt_is_skipped_and_reported(main_device: CopyDevice) -> None:
    layout = main_device()
    sidecar = _sidecar_bytes(layout)
    report = sync_json(layout.root, env=PROMPT_PULLS)
    pride = by_book(report)[PRIDE_ID]
    assert (pride["decision"], pride["needs_confirmation"], pride["written"]) == ("PULL", True, False)
    assert pride["changes"], "the report says what answering yes would write"
    question = pride["question"]
    assert question["book_id"] == PRIDE_ID and question["direction"] == "FROM_KOBO"
    assert question["text"].splitlines()[0] == "Pride and Prejudice"
    assert question["text"].endswith("Sync newer progress from Kobo?")
    assert _sidecar_bytes(layout) == sidecar
    assert PRIDE_ID not in ledger_books(layout)
    assert all(by_book(report)[book_id]["written"] for book_id in MAIN_PUSHES)  # silent cells still run


def test_yes_answers_the_prompt(main_device: CopyDevice) -> None:
    layout = main_device()
    sidecar = _sidecar_bytes(layout)
    pride = by_book(sync_json(layout.root, "--yes", env=PROMPT_PULLS))[PRIDE_ID]
    assert (pride["decision"], pride["written"], pride["question"]) == ("PULL", True, None)
    assert _sidecar_bytes(layout) != sidecar
    assert PRIDE_ID in ledger_books(layout)


def _answer(layout: DeviceLayout, answer: str) -> dict[str, object]:
    result = kksync(
        "sync", "--json", "--interactive", "--book", PRIDE_ID, "--device", layout.root,
        env=PROMPT_PULLS, stdin=answer,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Sync newer progress from Kobo?" in result.stderr  # asked on the terminal, not on stdout
    return by_book(json_document(result))[PRIDE_ID]


def test_a_declined_prompt_writes_nothing_and_is_not_asked_again(main_device: CopyDevice) -> None:
    layout = main_device()
    sync_json(layout.root, env=PROMPT_PULLS)  # the other books are synced, so the ledger exists
    sidecar, agreed = _sidecar_bytes(layout), _agreements(layout)
    files = _files_but_the_ledger(layout)
    pride = _answer(layout, "n\n")
    assert (pride["decision"], pride["reason"], pride["written"]) == ("SKIP", "DECLINED", False)
    assert pride["question"] is None and pride["needs_confirmation"] is False
    assert _sidecar_bytes(layout) == sidecar
    assert _agreements(layout) == agreed
    assert _files_but_the_ledger(layout) == files
    # Nothing changed on either side, so a batch run reports the "no" instead of asking again.
    again = by_book(sync_json(layout.root, env=PROMPT_PULLS))[PRIDE_ID]
    assert (again["reason"], again["question"]) == ("DECLINED", None)
    assert _sidecar_bytes(layout) == sidecar


def test_an_accepted_prompt_is_applied(main_device: CopyDevice) -> None:
    layout = main_device()
    sidecar = _sidecar_bytes(layout)
    pride = _answer(layout, "y\n")
    assert (pride["decision"], pride["written"], pride["reason"]) == ("PULL", True, None)
    assert _sidecar_bytes(layout) != sidecar
    assert PRIDE_ID in ledger_books(layout)


def test_an_interactive_run_whose_input_is_closed_skips_the_prompt_instead_of_failing(
    main_device: CopyDevice,
) -> None:
    layout = main_device()
    sidecar = _sidecar_bytes(layout)
    result = kksync("sync", "--json", "--interactive", "--device", layout.root, env=PROMPT_PULLS, stdin="")
    assert result.returncode == 0, result.stderr
    report = json_document(result)
    pride = by_book(report)[PRIDE_ID]
    assert (pride["decision"], pride["written"], pride["error"]) == ("PULL", False, None)
    assert pride["question"] is not None
    assert report["summary"]["failed"] == 0
    assert _sidecar_bytes(layout) == sidecar
