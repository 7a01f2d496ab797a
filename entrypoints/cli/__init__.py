"""The kksync command line: Typer commands and their Rich rendering."""
