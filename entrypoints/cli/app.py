"""The ``kksync`` command (Typer): translate arguments, call the use cases, show reports.

Start-up matters (``kksync --help`` behind a KOReader plugin, on a 1 GHz Kobo): this module imports
only Typer and light modules of its own. The container (and with it SQLAlchemy, lxml, lupa),
Rich and the renderers are imported inside the commands that use them. Typer's plain help
(``rich_markup_mode=None``) keeps Rich out of ``--help`` and usage errors too.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from application.errors import ConfigurationError, CorruptDatabase, DeviceError, KksyncError
from application.settings import ALLOWED_VALUES
from entrypoints.cli.help_format import FastGroup, PlainHelpCommand
from entrypoints.cli.launcher import caused_by_interrupt
from entrypoints.cli.terminal import Verbosity, emit_json, err, notice, out, print_line, warn
from entrypoints.log_level import log_level

if TYPE_CHECKING:
    from adapters.config_file import LayeredSettings
    from application.records import KoboBook
    from application.reports import RunReport
    from application.service import AlwaysYes, NobodyToAsk, SyncService
    from application.settings import Settings
    from entrypoints.cli.interaction import TerminalPrompter
    from entrypoints.container import Container

EXIT_OK, EXIT_USAGE, EXIT_BOOK_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 130
REPORT_BUG = "(a bug in kksync: please report it with the output of KKSYNC_LOG=DEBUG)"
log = logging.getLogger(__name__)

app = typer.Typer(
    help="Keep reading progress in sync between a Kobo's own library and KOReader, both ways.\n\n"
    "Messages go to stderr: -v says more (log level INFO), -q only warnings and errors (ERROR); "
    "else the KKSYNC_LOG variable sets the level: DEBUG, INFO, WARNING (the default) or ERROR.",
    no_args_is_help=True,
    add_completion=False,  # its own options are replaced below by plain flags (see _completion_flag)
    cls=FastGroup,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
config_app = typer.Typer(
    help="Show or change the settings stored on the Kobo.",
    cls=FastGroup,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(config_app, name="config")

DeviceOption = Annotated[
    Path | None,
    typer.Option(
        "--device",
        envvar="KKSYNC_DEVICE",
        metavar="DIR",
        help="The Kobo's root folder (the one holding .kobo/). Found automatically when mounted.",
        show_default=False,
    ),
]
KOReaderDirOption = Annotated[
    Path | None,
    typer.Option(
        "--koreader-dir",
        metavar="DIR",
        help="KOReader's data folder. Default: the koreader_dir setting, else <device>/.adds/koreader.",
        show_default=False,
    ),
]
SdCardOption = Annotated[
    Path | None,
    typer.Option(
        "--sd-card",
        envvar="KKSYNC_SD_CARD",
        metavar="DIR",
        help="Where the Kobo's SD card is mounted, for books stored on /mnt/sd.",
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
        "(e.g. --set sync_to_kobo_newer=prompt). `kksync config set --help` lists the settings.",
        show_default=False,
    ),
]
BookOption = Annotated[
    list[str] | None,
    typer.Option(
        "--book",
        metavar="BOOK",
        help="Only this book: its ContentID (as `kksync books` shows it), its path on the Kobo, "
        "or part of its title; repeatable.",
        show_default=False,
    ),
]


class Fail(Exception):
    """A usage, configuration or device error: one line on stderr, exit code 1."""


# -- options of every command -----------------------------------------------------------------


def _show_version(value: bool) -> None:
    if value:
        from entrypoints.version import VERSION

        print_line(out, f"kksync {VERSION}")
        raise typer.Exit(EXIT_OK)


def _completion_flag(which: str) -> Any:
    """``--install-completion`` / ``--show-completion`` as plain flags, run by Typer's own code.

    Typer's versions take an optional shell name, which Typer converts through pydantic on every
    run (even for a usage error): ~0.1 s of start-up for nothing. These detect the shell.
    """

    def callback(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            from typer import completion
            from typer._completion_classes import completion_init

            completion_init()
            action = completion.install_callback if which == "install" else completion.show_callback
            action(ctx, param, value)

    return callback


_warned_environment = False


@app.callback()
def root_options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Say more on stderr: what is done, book by book.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors on stderr.")] = False,
    install_completion: Annotated[
        bool,
        typer.Option(
            "--install-completion",
            callback=_completion_flag("install"),
            is_eager=True,
            expose_value=False,
            help="Install tab completion for the current shell (bash, zsh, fish, PowerShell).",
        ),
    ] = False,
    show_completion: Annotated[
        bool,
        typer.Option(
            "--show-completion",
            callback=_completion_flag("show"),
            is_eager=True,
            expose_value=False,
            help="Print the completion script for the current shell, to install it yourself.",
        ),
    ] = False,
) -> None:
    """Options of every command (given before it): version, verbosity, shell completion."""
    global _warned_environment
    first = not _warned_environment and not ctx.resilient_parsing  # `kksync demo` runs commands again
    _warned_environment = _warned_environment or first
    Verbosity.quiet = quiet and not verbose
    logging.getLogger().setLevel(chosen_log_level(verbose, quiet, warn_once=first))
    if first:
        from adapters.config_file import unknown_environment

        for message in unknown_environment():
            warn(message)


def chosen_log_level(verbose: bool, quiet: bool, warn_once: bool = True) -> int:
    """``-v`` INFO, ``-q`` ERROR; else ``KKSYNC_LOG``; else WARNING.

    The options are plain flags (no ``-vv``): Typer converts any other option type through
    pydantic, whose import would cost every command, usage errors included, ~0.1 s. DEBUG is
    ``KKSYNC_LOG=DEBUG``.
    """
    if verbose:
        return logging.INFO
    if quiet:
        return logging.ERROR
    level, complaint = log_level(os.environ.get("KKSYNC_LOG"))
    if complaint is not None and warn_once:
        warn(complaint)
    return level


# -- the device, its settings and the container -------------------------------------------------


def resolve_device(device: Path | None) -> Path:
    """The Kobo to work on: the one given, else the only one mounted at the usual places."""
    from adapters.device import find_mounted_kobos, is_kobo_root, mount_candidates

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
    notice(f"Using the Kobo mounted at {found[0]}")
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


def effective_settings(
    root: Path, koreader_dir: Path | None, assignments: list[str] | None, strict: bool = True
) -> LayeredSettings:
    from adapters.config_file import layered_settings

    return layered_settings(root, command_line_settings(koreader_dir, assignments), strict=strict)


def koreader_folder(root: Path, configured: Path | None) -> Path:
    return configured if configured is not None else root / ".adds" / "koreader"


def check_koreader_folder(root: Path, configured: Path | None) -> None:
    """Warn when KOReader's folder is missing: a typo there silently puts sidecars beside the books."""
    folder = koreader_folder(root, configured)
    if not folder.is_dir():
        warn(
            f"KOReader's folder {folder} does not exist, so its settings cannot be read and sidecars "
            "are looked for next to the books; check --koreader-dir or the koreader_dir setting"
        )


def open_container(
    device: Path | None,
    koreader_dir: Path | None,
    sd_card: Path | None = None,
    assignments: list[str] | None = None,
) -> Container:
    from entrypoints.container import build_container

    root = resolve_device(device)
    settings = effective_settings(root, koreader_dir, assignments).settings
    check_koreader_folder(root, settings.koreader_dir)
    return build_container(root, settings, sd_card, on_wait=waiting_for_nickel(settings))


def waiting_for_nickel(settings: Settings) -> Callable[[], None]:
    """Said on stderr when the Kobo database is locked, before waiting for it: never a silent wait."""
    seconds = settings.busy_timeout_seconds
    text = f"waiting for Nickel… (the Kobo database is locked; giving up after {seconds:g} s)"
    return lambda: print_line(err, text)


def lenient_container(device: Path | None) -> Container:
    """For commands that only copy files (backup, restore): a broken config.toml only warns."""
    from application.settings import Settings
    from entrypoints.container import build_container

    root = resolve_device(device)
    try:
        settings = effective_settings(root, None, None).settings
    except ConfigurationError as error:
        warn(f"{error} (using the default settings for this command)")
        settings = Settings()
    return build_container(root, settings, on_wait=waiting_for_nickel(settings))


def chosen_books(service: SyncService, names: list[str] | None) -> list[str] | None:
    """``--book`` names as ContentIDs (``None``: every book)."""
    if not names:
        return None
    from application.book_names import resolve_books

    return resolve_books(names, service.library())


# -- commands -------------------------------------------------------------------------------------


@app.command(cls=PlainHelpCommand, short_help="The library: IDs, titles, both sides' progress.")
def books(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    sd_card: SdCardOption = None,
    set_: SetOption = None,
    json_: JsonOption = False,
) -> None:
    """List the library: ID, title, author, source, kind, file, both sides' progress."""
    from application.book_names import short_ids
    from entrypoints.cli import render
    from entrypoints.presenters import library_book_json

    service = open_container(device, koreader_dir, sd_card, set_).service()
    library: list[KoboBook] = []
    report = service.plan(before_books=library.extend)  # one read of the library for both
    by_id = {r.book_id: r for r in report.books}
    ordered = sorted(library, key=lambda b: render.book_order(b.title, b.book_id))
    made = (library_book_json(b, by_id[b.book_id].kobo, by_id[b.book_id].koreader) for b in ordered)
    if json_:
        emit_json({"books": made})
        return
    rows = list(made)
    stored = {b.book_id: b.percent_read for b in library}
    out.print(render.library_table(rows, short_ids(library), stored))
    print_line(out, render.count(len(rows), "book"))


@app.command(cls=PlainHelpCommand, short_help="Both positions per book and what a sync would do.")
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
    report = service.status(chosen_books(service, book))
    show(report, json_, title="Status")
    raise typer.Exit(exit_code(report))


@app.command(cls=PlainHelpCommand, short_help="Sync: pull into KOReader, push into the Kobo.")
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
            help="Ask prompts on the terminal. Default: when stdin is a terminal.",
            show_default=False,
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another kksync is syncing this Kobo, wait for it to finish.")
    ] = False,
    set_: SetOption = None,
    json_: JsonOption = False,
) -> None:
    """Run the decisions: pull into KOReader, push into the Kobo, per the settings."""
    from application.service import AlwaysYes, NobodyToAsk
    from entrypoints.cli.interaction import TerminalPrompter

    if yes and interactive:
        raise Fail("--yes and --interactive cannot be used together")
    container = open_container(device, koreader_dir, sd_card, set_)
    service = container.service()
    book_ids = chosen_books(service, book)
    lock = None
    if not dry_run:
        from entrypoints.cli.run_lock import claim_device

        service.check_writable()
        lock = claim_device(container.layout().root, wait=wait, say=lambda text: print_line(err, text))
    ask = sys.stdin.isatty() if interactive is None else interactive
    prompter = AlwaysYes() if yes else TerminalPrompter() if ask else NobodyToAsk()
    try:
        report = run_with_progress(
            service, book_ids, dry_run, prompter, show_bar=not book_ids, tidy=tidy_up(container)
        )
    finally:
        if lock is not None:
            lock.release()
    unanswered = prompter.unanswered if isinstance(prompter, TerminalPrompter) else set()
    show(report, json_, title="Dry run: nothing was written" if dry_run else "Sync", unanswered=unanswered)
    raise typer.Exit(exit_code(report))


def tidy_up(container: Container) -> Callable[[list[KoboBook]], None]:
    """Before a sync (holding the lock): remove what an interrupted run left beside these books."""
    from adapters.leftovers import remove_leftovers
    from application.records import FileState

    def tidy(books: list[KoboBook]) -> None:
        readable = (b.file_path for b in books if b.file_state is FileState.READABLE)
        remove_leftovers(container.kobo_library(), container.koreader_library(), readable)

    return tidy


def run_with_progress(
    service: SyncService,
    book_ids: list[str] | None,
    dry_run: bool,
    prompter: AlwaysYes | TerminalPrompter | NobodyToAsk,
    show_bar: bool,
    tidy: Callable[[list[KoboBook]], None] | None = None,
) -> RunReport:
    from entrypoints.cli.interaction import ProgressBar, TerminalPrompter

    with ProgressBar(len(book_ids) if book_ids else None, show_bar and err.is_terminal) as bar:
        if isinstance(prompter, TerminalPrompter):
            prompter.bar = bar
        if dry_run:
            return service.plan(book_ids, on_book=bar.advance, on_start=bar.set_total)
        return service.sync_all(
            prompter, book_ids, on_book=bar.advance, on_start=bar.set_total, before_books=tidy
        )


def show(report: RunReport, as_json: bool, title: str, unanswered: set[str] | None = None) -> None:
    """The report, books in the same order as ``kksync books``; book errors also on stderr."""
    from entrypoints.cli import render
    from entrypoints.presenters import run_report_json

    report = render.in_book_order(report)
    if as_json:
        emit_json(run_report_json(report, collect=iter))
        return
    out.print(render.report_table(report, title, terminal=out.is_terminal))
    for line in render.legend(report):
        print_line(out, line)
    print_line(out, render.summary_line(report))
    for line in render.details(report, unanswered or set()):
        print_line(out, line)
    for line in render.errors(report):
        print_line(err, line)


def exit_code(report: RunReport) -> int:
    return EXIT_BOOK_FAILED if report.failed else EXIT_OK


@app.command("annotations", cls=PlainHelpCommand, short_help="Highlights and notes from both sides, merged.")
def annotations_command(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    sd_card: SdCardOption = None,
    book: BookOption = None,
    set_: SetOption = None,
    json_: JsonOption = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown, ready to paste into notes.")
    ] = False,
) -> None:
    """List highlights and notes from both sides, merged, in reading order (every book that has any)."""
    from application.book_names import resolve_books
    from entrypoints.cli.annotation_views import annotations_json, annotations_markdown, annotations_text

    if json_ and markdown:
        raise Fail("--json and --markdown cannot be used together")
    container = open_container(device, koreader_dir, sd_card, set_)
    library = {b.book_id: b for b in container.kobo_library().books()}
    chosen = resolve_books(book, list(library.values())) if book else sorted(library)
    reader = container.annotations()
    listings = [reader.listing(library[book_id]) for book_id in chosen]
    if not book:
        listings = [listing for listing in listings if listing.annotations or listing.unplaced]
    if json_:
        emit_json({"books": [annotations_json(listing) for listing in listings]})
    elif markdown:
        sys.stdout.write("\n".join(annotations_markdown(listing) for listing in listings))
    else:
        for listing in listings:
            for line in annotations_text(listing):
                print_line(out, line)


# -- settings -------------------------------------------------------------------------------------


def _settings_help() -> str:
    """``config set --help``: every setting and what it accepts (one line each, not re-wrapped)."""
    width = max(map(len, ALLOWED_VALUES))
    lines = [f"  {key.ljust(width)}  {allowed}" for key, allowed in ALLOWED_VALUES.items()]
    return "Settings and their allowed values:\n\n\b\n" + "\n".join(lines)


@config_app.command("show", cls=PlainHelpCommand, short_help="Every setting's value and where it comes from.")
def config_show(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    set_: SetOption = None,
    json_: JsonOption = False,
) -> None:
    """Print every setting's effective value and where it comes from (default, file, environment,
    command line). Works on a broken config.toml, naming the lines that are wrong."""
    root = resolve_device(device)
    layered = effective_settings(root, koreader_dir, set_, strict=False)
    plain = layered.settings.as_plain()
    plain["koreader_dir"] = str(koreader_folder(root, layered.settings.koreader_dir))
    if layered.settings.koreader_dir is None:
        layered.origins["koreader_dir"] = "default, <device>/.adds/koreader"
    file = layered.file
    for problem in file.problems:
        warn(f"{problem} (ignored here; other commands refuse until it is fixed)")
    check_koreader_folder(root, layered.settings.koreader_dir)
    if json_:
        emit_json(
            {
                "file": str(file.path),
                "file_exists": file.exists,
                "settings": plain,
                "sources": layered.origins,
                "problems": [str(problem) for problem in file.problems],
            }
        )
        return
    import tomli_w

    state = "" if file.exists else " (does not exist yet: every value is a default or comes from elsewhere)"
    print_line(out, f"# settings file: {file.path}{state}")
    for key, value in plain.items():
        line = tomli_w.dumps({key: value}).strip()
        print_line(out, f"{line.ljust(32)}  # {layered.origins[key]}")


@config_app.command(
    "set", epilog=_settings_help(), cls=PlainHelpCommand, short_help="Store one setting in config.toml."
)
def config_set(
    key: Annotated[
        str, typer.Argument(metavar="KEY", help="The setting (listed below).", show_default=False)
    ],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="Its new value.", show_default=False)],
    device: DeviceOption = None,
) -> None:
    """Store one setting in <device>/.adds/kksync/config.toml (works on a broken file too: the
    entries that cannot be used are dropped, the old file is kept as config.toml.bak)."""
    from adapters.config_file import config_path, read_config_file, write_setting

    root = resolve_device(device)
    before = read_config_file(config_path(root))
    try:
        settings = write_setting(root, key, value)
    except OSError as error:
        raise Fail(f"cannot write {config_path(root)}: {error.strerror or error}") from None
    for problem in before.problems:
        if problem.key != key:
            warn(f"dropped from the file: {problem}")
    if before.problems:
        warn(f"the file as it was is kept as {before.path}.bak")
    shown = settings.as_plain()[key]
    print_line(out, f"{key} = {'(default)' if shown is None else repr_toml(shown)}  ({config_path(root)})")
    if key == "koreader_dir":
        check_koreader_folder(root, settings.koreader_dir)


@config_app.command("reset", cls=PlainHelpCommand, short_help="Back to the default (one setting or all).")
def config_reset(
    key: Annotated[
        str | None,
        typer.Argument(
            metavar="[KEY]", help="Only this setting. Default: every setting.", show_default=False
        ),
    ] = None,
    device: DeviceOption = None,
) -> None:
    """Back to the default: remove one setting (or all) from config.toml; the old file is kept
    as config.toml.bak."""
    from adapters.config_file import reset_settings

    root = resolve_device(device)
    try:
        file = reset_settings(root, key)
    except OSError as error:
        raise Fail(f"cannot write the settings file: {error.strerror or error}") from None
    if not file.exists:
        print_line(out, f"No settings file ({file.path}): every setting already has its default")
        return
    what = key or "every setting"
    print_line(out, f"{what} back to the default in {file.path}")


def repr_toml(value: Any) -> str:
    import tomli_w

    return tomli_w.dumps({"v": value}).strip().removeprefix("v = ")


# -- backups ---------------------------------------------------------------------------------------

ListOption = Annotated[bool, typer.Option("--list", help="List the backups, newest last, and exit.")]


@app.command(cls=PlainHelpCommand, short_help="Back up KoboReader.sqlite now (or --list backups).")
def backup(device: DeviceOption = None, list_: ListOption = False) -> None:
    """Back up KoboReader.sqlite to <device>/.adds/kksync/backups/ (verified, newest 10 kept)."""
    container = lenient_container(device)
    if list_:
        list_backups(container)
        return
    path = container.kobo_library().backup()
    print_line(out, f"Backed up to {path}")


@app.command(cls=PlainHelpCommand, short_help="Put a backup of KoboReader.sqlite back.")
def restore(
    backup_name: Annotated[
        str | None,
        typer.Argument(
            metavar="[BACKUP]",
            help="A backup's file name, stamp or path. Default: the newest backup.",
            show_default=False,
        ),
    ] = None,
    device: DeviceOption = None,
    list_: ListOption = False,
) -> None:
    """Put a backup of KoboReader.sqlite back, after checking it; the current file is kept as a
    backup too. Do it with the Kobo connected over USB (Nickel not using its database)."""
    container = lenient_container(device)
    store = container.backups()
    if list_:
        list_backups(container)
        return
    refuse_while_daemon_runs(container.layout().root)
    if backup_name is None:
        existing = store.backups()
        if not existing:
            raise Fail(f"no backups in {store.folder}; nothing to restore")
        chosen = existing[-1]
    else:
        chosen = store.find(backup_name)
    database = container.layout().database
    from entrypoints.cli.run_lock import claim_device

    lock = claim_device(container.layout().root, wait=False, say=lambda text: print_line(err, text))
    try:
        kept = store.restore(chosen, database, container.clock().now())
    finally:
        lock.release()
    print_line(out, f"Restored {database} from {chosen}")
    print_line(out, f"The database it replaced is kept as {kept}")


def list_backups(container: Container) -> None:
    from adapters.kobo.backup import restore_problem

    store = container.backups()
    existing = store.backups()
    if not existing:
        print_line(out, f"No backups yet in {store.folder}")
        return
    for path in existing:
        problem = restore_problem(path)
        size = path.stat().st_size
        print_line(out, f"{path.name}  {size / 1_000_000:.1f} MB  {problem or 'ok'}")
    print_line(out, f"{len(existing)} backup{'s' if len(existing) != 1 else ''} in {store.folder}")


def refuse_while_daemon_runs(root: Path) -> None:
    """A daemon that syncs this Kobo would write into the database being replaced."""
    from entrypoints.daemon.runtime_dir import live_daemon

    running = live_daemon(root)
    if running is not None:
        raise Fail(f"a kksync daemon (pid {running.get('pid')}) syncs this Kobo; stop it before restoring")


# -- other commands ---------------------------------------------------------------------------------


@app.command(cls=PlainHelpCommand, short_help="Build a demo Kobo and sync it.")
def demo(
    folder: Annotated[
        Path, typer.Argument(metavar="[DIR]", help="Where to build the demo Kobo.", show_default=True)
    ] = Path("demo-device"),
) -> None:
    """Build a demo Kobo with a few books in mixed states, then status, dry run, sync, sync again."""
    from entrypoints.demo.run import run_demo

    run_demo(folder, out.console)


BundleOption = Annotated[
    Path | None,
    typer.Option(
        "--bundle",
        metavar="ZIP",
        help="The Kobo bundle zip [default: dist/kksync-kobo-<version>.zip, as make kobo-bundle leaves it].",
        show_default=False,
    ),
]


@app.command(cls=PlainHelpCommand, short_help="Copy the Kobo bundle onto a mounted Kobo.")
def install(device: DeviceOption = None, bundle: BundleOption = None) -> None:
    """Copy the Kobo bundle (Python, kksync, the KOReader plugin and its start-up patch) onto a
    mounted Kobo, replacing a previous version; settings, backups and other plugins stay."""
    from entrypoints.cli.install import default_bundle, install_bundle
    from entrypoints.version import VERSION

    root = resolve_device(device)
    zip_path = bundle if bundle is not None else default_bundle(Path.cwd(), VERSION)
    if not zip_path.is_file():
        raise Fail(f"no bundle at {zip_path}: build it with `make kobo-bundle` or pass --bundle ZIP")
    for piece in install_bundle(root, zip_path):
        verb = "Replaced" if piece.replaced else "Added"
        print_line(out, f"{verb} {piece.path} ({piece.files} files)")
    print_line(out, f"Installed {zip_path.name} on {root}. Restart KOReader to start kksync.")


@app.command(cls=PlainHelpCommand, short_help="Serve the plugin RPC on stdin/stdout.")
def rpc(device: DeviceOption = None, koreader_dir: KOReaderDirOption = None) -> None:
    """Serve the plugin RPC (JSON-RPC 2.0, one object per line) on stdin/stdout."""
    from entrypoints.daemon.rpc import serve_stdio

    root = resolve_device(device)
    serve_stdio(root, koreader_dir)


@app.command(cls=PlainHelpCommand, short_help="Watch the Kobo and KOReader, sync what changes.")
def daemon(
    device: DeviceOption = None,
    koreader_dir: KOReaderDirOption = None,
    socket: Annotated[
        Path | None, typer.Option("--socket", metavar="PATH", help="Unix socket path for the RPC.")
    ] = None,
    log_file: Annotated[
        Path | None, typer.Option("--log-file", metavar="FILE", help="Log here instead of stderr.")
    ] = None,
    pid_file: Annotated[
        Path | None, typer.Option("--pid-file", metavar="FILE", help="Write the daemon's pid here.")
    ] = None,
    parent_pid: Annotated[
        int | None,
        typer.Option("--parent-pid", metavar="PID", help="Stop when the process with this pid exits."),
    ] = None,
    parent_fd: Annotated[
        int | None,
        typer.Option(
            "--parent-fd",
            metavar="FD",
            help="Stop when this inherited pipe's write end closes (the parent exited).",
        ),
    ] = None,
    open_book: Annotated[
        list[str] | None,
        typer.Option(
            "--open-book",
            metavar="PATH",
            help="A book open in KOReader as the daemon starts (repeatable): not written.",
        ),
    ] = None,
    mount_parent: Annotated[
        list[Path] | None,
        typer.Option(
            "--mount-parent",
            metavar="DIR",
            help="Without --device: a folder Kobos get mounted in (repeatable) [default: /media/$USER, "
            "/run/media/$USER, /media, /Volumes, /mnt].",
        ),
    ] = None,
) -> None:
    """Watch the Kobo database and KOReader's files, sync what changed, serve the RPC socket.

    Without --device: wait for a Kobo to be mounted, sync it once, and wait for the next one.
    """
    from entrypoints.daemon.server import run_daemon, run_waiting_daemon

    if device is None:
        raise typer.Exit(
            run_waiting_daemon(
                koreader_dir,
                log_file=log_file,
                parents=mount_parent,
                parent_pid=parent_pid,
                parent_fd=parent_fd,
            )
        )
    root = resolve_device(device)
    raise typer.Exit(
        run_daemon(
            root,
            koreader_dir,
            socket=socket,
            log_file=log_file,
            pid_file=pid_file,
            parent_pid=parent_pid,
            parent_fd=parent_fd,
            open_books=open_book or [],
        )
    )


# -- the entry point --------------------------------------------------------------------------------


def show_usage_error(error: typer.TyperException) -> None:
    """Typer's usage errors print their usage line and reason; anything else its message."""
    show = getattr(error, "show", None)
    if callable(show):
        show()
    else:
        print_line(err, f"kksync: {error.format_message()}")


def main() -> None:
    """Console entry point: exit 0 done, 1 usage/configuration/device error, 2 a book failed."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if "_KKSYNC_COMPLETE" in os.environ:  # the shell asks for completions (see --install-completion)
        from typer._completion_classes import completion_init

        completion_init()
    try:
        result = app(standalone_mode=False)
    except (typer.Exit, typer.Abort) as stopped:
        if isinstance(stopped.__cause__, KeyboardInterrupt):  # Ctrl-C at a prompt
            raise stopped.__cause__ from None  # the launcher says "interrupted" and exits 130
        if isinstance(stopped, typer.Exit):
            sys.exit(stopped.exit_code)
        print_line(err, "Aborted.")
        sys.exit(EXIT_USAGE)
    except typer.TyperException as error:  # a bad option or argument: usage line + one-line reason
        show_usage_error(error)
        sys.exit(EXIT_USAGE)
    except CorruptDatabase as error:
        print_line(
            err, f"kksync: {error}; `kksync restore` puts the newest backup back (`--list` shows them)"
        )
        sys.exit(EXIT_USAGE)
    except (Fail, ConfigurationError, DeviceError) as error:
        print_line(err, f"kksync: {error}")
        sys.exit(EXIT_USAGE)
    except KksyncError as error:
        print_line(err, f"kksync: {error}")
        sys.exit(EXIT_USAGE)
    except OSError as error:  # a file-system failure no adapter translated: still one line
        from application.messages import os_failure

        log.debug("file-system error", exc_info=True)
        print_line(err, f"kksync: {os_failure(error)}")
        sys.exit(EXIT_USAGE)
    except Exception as error:  # a bug: one line, the details only with KKSYNC_LOG=DEBUG
        if caused_by_interrupt(error):  # a Ctrl-C that Python wrapped on its way (see there)
            raise KeyboardInterrupt from None  # the launcher says "interrupted" and exits 130
        log.debug("unexpected error", exc_info=True)
        print_line(err, f"kksync: internal error: {type(error).__name__}: {error} {REPORT_BUG}")
        sys.exit(EXIT_USAGE)
    if result == EXIT_INTERRUPTED:  # without standalone mode, Typer returns Ctrl-C as a plain 130
        raise KeyboardInterrupt  # the launcher says "interrupted" and exits 130
    sys.exit(result if isinstance(result, int) else EXIT_OK)


__all__ = ["app", "main"]


if __name__ == "__main__":
    main()
