"""Ctrl-C that Python hands over wrapped in another exception is still an interruption, not a bug."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from entrypoints.cli import app, launcher


@pytest.fixture(autouse=True)
def keep_ctrl_c_working() -> Iterator[None]:
    """The launcher ignores further Ctrl-C once interrupted: give the test process its handler back."""
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


class _InterruptedWhileNamed:
    """A class attribute whose set-up is hit by Ctrl-C, as an import can be."""

    def __set_name__(self, owner: type, name: str) -> None:
        raise KeyboardInterrupt


def _import_hit_by_ctrl_c(*_: Any, **__: Any) -> None:
    """What Python 3.11 raises for it: a RuntimeError caused by the KeyboardInterrupt."""

    class Settings:
        values = _InterruptedWhileNamed()


def test_a_wrapped_interrupt_is_recognised_and_a_plain_error_is_not() -> None:
    with pytest.raises(BaseException) as raised:
        _import_hit_by_ctrl_c()
    assert launcher.caused_by_interrupt(raised.value)
    assert not launcher.caused_by_interrupt(RuntimeError("a bug"))
    context = ValueError("while handling")
    context.__context__ = KeyboardInterrupt()
    assert launcher.caused_by_interrupt(context)
    loop = ValueError("a loop")
    loop.__context__ = loop
    assert not launcher.caused_by_interrupt(loop)


@pytest.mark.parametrize(
    "hit",
    [
        "app",  # inside the command, where its error handler sees the wrapped interrupt first
        "main",  # while the launcher imports the command module, before any handler of kksync's
    ],
)
def test_ctrl_c_wrapped_by_an_import_exits_130_with_the_one_line(
    hit: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(app, hit, _import_hit_by_ctrl_c)
    with pytest.raises(SystemExit) as stopped:
        launcher.main()
    assert stopped.value.code == launcher.EXIT_INTERRUPTED
    assert capsys.readouterr().err == launcher.INTERRUPTED  # not "internal error: RuntimeError"
