"""How Typer shows help here: plain text (no Rich), no Python type placeholders, no start-up cost.

Typer 0.29 bundles its own click (``typer._click``); these classes adjust two of its defaults.
"""

from __future__ import annotations

import typer.core
from typer import _click as click
from typer._click.exceptions import MissingParameter


class FlagHelpOption:
    """``-h/--help`` whose value, when absent, is ``False`` rather than Typer 0.29's ``None``.

    Typer converts every option value that is not already a bool through pydantic; for the
    help option that means importing pydantic (~0.1–0.5 s here) for every command and every
    usage error. A bool default skips it.
    """

    def get_help_option(self, ctx: click.Context) -> typer.core.TyperOption | None:
        option: typer.core.TyperOption | None = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None and option.default is None:
            option.default = False
        return option


class FastGroup(FlagHelpOption, typer.core.TyperGroup):
    """A command group with the bool help flag."""


class PlainHelpCommand(FlagHelpOption, typer.core.TyperCommand):
    """Help that names arguments by their metavar alone (``KEY``, ``[BACKUP]``), without Typer's
    Python type placeholders (``<str>``) or its braces around required ones; bool help flag.

    A missing required argument is reported before Typer converts the absent value (through
    pydantic, for nothing): ``kksync config set`` fails as fast as any other usage error.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            opts, _, given = self.make_parser(ctx).parse_args(args=list(args))
            if not any(getattr(param, "is_eager", False) for param in given):  # --help goes first
                for param in self.get_params(ctx):
                    missing = param.required and opts.get(param.name or "") is None
                    if isinstance(param, typer.core.TyperArgument) and missing:
                        raise MissingParameter(ctx=ctx, param=param)
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [param.metavar or param.name or "" for param in self.params if _is_argument(param)]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if _is_argument(param):
                arguments.append((param.metavar or param.name or "", record[1]))
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


def _is_argument(param: click.Parameter) -> bool:
    return param.param_type_name == "argument"
