"""``python -m entrypoints.cli``: the kksync command (how the Kobo bundle's launcher starts it)."""

from entrypoints.cli.launcher import main

main()
