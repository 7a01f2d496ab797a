"""The ``kksync`` command (Typer + Rich): translate arguments, call the use cases, show reports."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.prompt import Confirm

from adapters.config_file import config_path, load_settings, write_setting
from adapters.device import find_mounted_kobos, is_kobo_root, mount_candidates
from application.errors import ConfigurationError, DeviceError, KksyncError
from application.reports import BookReport, Question, RunReport
from application.service import AlwaysYes, NobodyToAsk, SyncService
from application.settings import Settings
from entrypoints import render
from entrypoints.container import Container, build_container
from entrypoints.presenters import library_book_json, run_report_json

EXIT_OK, EXIT_USAGE, EXIT_BOOK_FAILED = 0, 1, 2

app = typer.Typer(
    help="Keep reading progress in sync between a Kobo's own library and KOReader, both ways.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show or change the settings stored on the Kobo.", no_args_is_help=True)
app.add_typer(config_app, name="config")

out = Console()
err = Console(stderr=True)

DeviceOption = Annotated[
    Path | None,
    typer.Option(
        "--device",
        envvar="KKSYNC_DEVICE",
        help="The Kobo's root folder (the one holding .kobo/). Found automatically when mounted.",
        show_default=False,
    ),
]
KOReaderDirOption = Annotated[
    Path | None,
    typer.Option("--koreader-dir", help="KOReader's data folder [default: <device>/.adds/koreader]."),
]
SdCardOption = Annotated[
    Path | None,
    typer.Option(
        "--sd-card",
        envvar="KKSYNC_SD_CARD",
        help="Where the Kobo's SD card is mounted (books stored on /mnt/sd) [default: none].",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Use this setting for this run only, over config.toml and KKSYNC_*; repeatable "
        "(e.g. --set sync_to_kobo_newer=prompt).",
        show_default=False,
    ),
]
BookOption = Annotated[
    list[str] | None, typer.Option("--book", help="Only this book (Kobo ContentID); repeatable.")
]


class Fail(Exception):
    """A usage, configuration or device error: one line on stderr, exit code 1."""


def resolve_device(device: Path | None) -> Path:
    """The Kobo to work on: the one given, else the only one mounted at the usual places."""
    if device is not None:
        if not is_kobo_root(device):
            raise Fail(f"{device} is not a Kobo: it has no .kobo/KoboReader.sqlite")
        return device
    found = find_mounted_kobos()
    if not found:
        places = ", ".join(str(p) for p in mount_candidates()) or "the usual mount points"
        raise Fail(f"no mounted Kobo found (looked at {places}); plug it in or pass --device DIR")
    if len(found) > 1:
        raise Fail(f"several Kobos are mounted ({', '.join(map(str, found))}); choose one with --device DIR")
    print_line(err, f"Using the Kobo mounted at {found[0]}")
    return found[0]


def command_line_settings(koreader_dir: Path | None, assignments: list[str] | None) -> dict[str, str | None]:
    """``--set KEY=VALUE`` options (validated with the other settings) and ``--koreader-dir``."""
    settings: dict[str, str | None] = {}
    for assignment in assignments or []:
        key, equals, value = assignment.partition("=")
        if not equals or not key.strip():
            raise Fail(f"--set {assignment!r}: write it as KEY=VALUE, e.g. --set sync_to_kobo_newer=prompt")
        settings[key.strip()] = value.strip()
    if koreader_dir is not None:
        settings["koreader_dir"] = str(koreader_dir)
    return settings


def effective_settings(root: Path, koreader_dir: Path | None, assignments: list[str] | None) -> Settings:
    return load_settings(root, command_line_settings(koreader_dir, assignments))


def open_container(
    device: Path | None,
    koreader_dir: Path | None,
    sd_card: Path | None = None,
    assignments: list[str] | None = None,
) -> Container:
    root = resolve_device(device)
    return build_container(root, effective_settings(root, koreader_dir, assignments), sd_card)


def print_line(console: Console, text: str) -> None:
    """Plain text as one line, verbatim: never wrapped at the console width (paths and messages
    are read by scripts and logs), and brackets in paths are not taken for Rich markup."""
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


class ProgressBar:
    """A Rich progress bar on stderr while a whole library is read or synced.

    It steps aside while a question is asked on the terminal (a live bar and a prompt cannot
    share the screen), then carries on where it was.
    """

    def __init__(self, total: int, enabled: bool) -> None:
        self.progress: Progress | None = None
        if enabled:
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            self.progress = Progress(*columns, console=err, transient=True)
            self.task = self.progress.add_task("Syncing", total=total)

    def __enter__(self) -> ProgressBar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, report: BookReport) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)

    @contextmanager
    def paused(self) -> Iterator[None]:
        if self.progress is None:
            yield
            return
        self.progress.stop()
        try:
            yield
        finally:
            self.progress.start()


class TerminalPrompter:
    """Asks PROMPT questions on the terminal (with the progress bar out of the way)."""

    def __init__(self) -> None:
        self.bar = ProgressBar(0, enabled=False)

    def confirm(self, question: Question) -> bool | None:
        """The answer; None when stdin is closed, so the book is skipped and reported, not failed."""
        with self.bar.paused():
            err.print()
            try:
                return Confirm.ask(question.text, console=err, default=False)
            except EOFError:
                err.print()
                return None


@app.command()
def books(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    sd_card: SdCardOption = None,
    set_: SetOption = None,
    json_: JsonOption = False,
) -> None:
    """List the library: title, author, source, kind, file present, both sides' progress."""
    service = open_container(device, koreader_dir, sd_card, set_).service()
    library = service.library()
    report = service.plan()
    by_id = {r.book_id: r for r in report.books}
    ordered = sorted(library, key=lambda b: ((b.title or b.book_id).casefold(), b.book_id))
    rows = [library_book_json(b, by_id[b.book_id].kobo, by_id[b.book_id].koreader) for b in ordered]
    if json_:
        emit_json({"books": rows})
    else:
        out.print(render.library_table(rows))


@app.command()
def status(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    sd_card: SdCardOption = None,
    book: BookOption = None,
    set_: SetOption = None,
    json_: JsonOption = False,
) -> None:
    """Per book: both positions and the decision a sync would take, with its reason."""
    service = open_container(device, koreader_dir, sd_card, set_).service()
    report = service.status(book or None)
    show(report, json_, title="Status")
    raise typer.Exit(exit_code(report))


@app.command()
def sync(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    sd_card: SdCardOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    book: BookOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Answer yes to every prompt.")] = False,
    interactive: Annotated[
        bool | None,
        typer.Option(
            "--interactive/--no-interactive",
            help="Ask prompts on the terminal [default: when stdin is a terminal].",
            show_default=False,
        ),
    ] = None,
    set_: SetOption = None,
    json_: JsonOption = False,
) -> None:
    """Run the decisions: pull into KOReader, push into the Kobo, per the settings."""
    if yes and interactive:
        raise Fail("--yes and --interactive cannot be used together")
    service = open_container(device, koreader_dir, sd_card, set_).service()
    ask = sys.stdin.isatty() if interactive is None else interactive
    prompter = AlwaysYes() if yes else TerminalPrompter() if ask else NobodyToAsk()
    report = run_with_progress(service, book, dry_run, prompter, show_bar=not book)
    show(report, json_, title="Dry run: nothing was written" if dry_run else "Sync")
    raise typer.Exit(exit_code(report))


def run_with_progress(
    service: SyncService,
    book_ids: list[str] | None,
    dry_run: bool,
    prompter: AlwaysYes | TerminalPrompter | NobodyToAsk,
    show_bar: bool,
) -> RunReport:
    total = len(book_ids) if book_ids else len(service.library())
    with ProgressBar(total, show_bar) as bar:
        if isinstance(prompter, TerminalPrompter):
            prompter.bar = bar
        if dry_run:
            return service.plan(book_ids or None, on_book=bar.advance)
        return service.sync_all(prompter, book_ids or None, on_book=bar.advance)


def show(report: RunReport, as_json: bool, title: str) -> None:
    if as_json:
        emit_json(run_report_json(report))
        return
    out.print(render.report_table(report, title))
    out.print(render.summary_line(report))
    for line in render.details(report):
        out.print(line, highlight=False)


def exit_code(report: RunReport) -> int:
    return EXIT_BOOK_FAILED if report.failed else EXIT_OK


@config_app.command("show")
def config_show(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    set_: SetOption = None,
    json_: JsonOption = False,
) -> None:
    """Print the effective settings (defaults < config.toml < KKSYNC_* variables < options)."""
    root = resolve_device(device)
    settings = effective_settings(root, koreader_dir, set_)
    if json_:
        emit_json({"file": str(config_path(root)), "settings": settings.as_plain()})
        return
    print_line(out, f"# {config_path(root)}")
    for key, value in settings.as_plain().items():
        print_line(out, f"{key} = {json.dumps(value)}")


@config_app.command("set")
def config_set(key: str, value: str, device: DeviceOption = None) -> None:
    """Store one setting in <device>/.adds/kksync/config.toml."""
    root = resolve_device(device)
    settings = write_setting(root, key, value)
    print_line(out, f"{key} = {json.dumps(settings.as_plain()[key])}  ({config_path(root)})")


@app.command()
def backup(device: DeviceOption = None) -> None:
    """Back up KoboReader.sqlite to <device>/.adds/kksync/backups/ (verified, newest 10 kept)."""
    container = open_container(device, None)
    path = container.kobo_library().backup()
    print_line(out, f"Backed up to {path}")


@app.command()
def demo(
    folder: Annotated[Path, typer.Argument(help="Where to build the demo Kobo.")] = Path("demo-device"),
) -> None:
    """Build a demo Kobo with a few books in mixed states, then status, dry run, sync, sync again."""
    from entrypoints.demo import run_demo

    run_demo(folder, out)


BundleOption = Annotated[
    Path | None,
    typer.Option(
        "--bundle",
        help="The Kobo bundle zip [default: dist/kksync-kobo-<version>.zip, as make kobo-bundle leaves it].",
        show_default=False,
    ),
]


@app.command()
def install(device: DeviceOption = None, bundle: BundleOption = None) -> None:
    """Copy the Kobo bundle (Python, kksync and the KOReader plugin) onto a mounted Kobo."""
    from importlib import metadata

    from entrypoints.install import default_bundle, install_bundle

    root = resolve_device(device)
    zip_path = bundle if bundle is not None else default_bundle(Path.cwd(), metadata.version("kksync"))
    if not zip_path.is_file():
        raise Fail(f"no bundle at {zip_path}: build it with `make kobo-bundle` or pass --bundle ZIP")
    for piece in install_bundle(root, zip_path):
        verb = "Replaced" if piece.replaced else "Added"
        print_line(out, f"{verb} {piece.path} ({piece.files} files)")
    print_line(out, f"Installed {zip_path.name} on {root}. Restart KOReader to start kksync.")


@app.command()
def rpc(device: DeviceOption = None, koreader_dir: KOReaderDirOption = None) -> None:
    """Serve the plugin RPC (JSON-RPC 2.0, one object per line) on stdin/stdout."""
    from entrypoints.rpc import serve_stdio

    root = resolve_device(device)
    serve_stdio(root, koreader_dir)


@app.command()
def daemon(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    socket: Annotated[Path | None, typer.Option("--socket", help="Unix socket path for the RPC.")] = None,
    log_file: Annotated[Path | None, typer.Option("--log-file", help="Log here instead of stderr.")] = None,
    pid_file: Annotated[Path | None, typer.Option("--pid-file", help="Write the daemon's pid here.")] = None,
) -> None:
    """Watch the Kobo database and KOReader's files, sync what changed, serve the RPC socket."""
    from entrypoints.daemon import run_daemon

    root = resolve_device(device)
    raise typer.Exit(run_daemon(root, koreader_dir, socket=socket, log_file=log_file, pid_file=pid_file))


def show_usage_error(error: typer.TyperException) -> None:
    """Typer's usage errors print their usage line and reason; anything else its message."""
    show = getattr(error, "show", None)
    if callable(show):
        show()
    else:
        print_line(err, f"kksync: {error.format_message()}")


def main() -> None:
    """Console entry point: exit 0 done, 1 usage/configuration/device error, 2 a book failed."""
    logging.basicConfig(level=os.environ.get("KKSYNC_LOG", "WARNING").upper(), stream=sys.stderr)
    try:
        result = app(standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        err.print("Aborted.")
        sys.exit(EXIT_USAGE)
    except typer.TyperException as error:  # a bad option or argument: usage line + one-line reason
        show_usage_error(error)
        sys.exit(EXIT_USAGE)
    except (Fail, ConfigurationError, DeviceError) as error:
        print_line(err, f"kksync: {error}")
        sys.exit(EXIT_USAGE)
    except KksyncError as error:
        print_line(err, f"kksync: {error}")
        sys.exit(EXIT_USAGE)
    sys.exit(result if isinstance(result, int) else EXIT_OK)


__all__ = ["Settings", "app", "main"]


if __name__ == "__main__":
    main()
