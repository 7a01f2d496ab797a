"""The ``kksync`` command (Typer + Rich)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Keep reading progress in sync between a Kobo and KOReader.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print kksync's version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("kksync"))


def main() -> None:
    app()
