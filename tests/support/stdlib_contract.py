"""An import-linter contract type: the listed packages may import only the standard library.

import-linter's own ``forbidden`` contract needs every forbidden package named, so a new
dependency (say ``tomli_w``) would slip into ``domain/`` unnoticed. This contract instead checks
every module outside the project's root packages against ``sys.stdlib_module_names``.
"""

from __future__ import annotations

import sys
from typing import Any, cast

from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain.imports import Module


class StandardLibraryOnlyContract(Contract):
    """``source_modules`` (and everything under them) import nothing but the standard library."""

    type_name = "standard library only"
    source_modules = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        offending: list[tuple[str, str]] = []
        # Contract.__init__ replaces each class-level field with its parsed value on the instance,
        # which the field's declared type cannot say.
        for source in cast("list[Module]", self.source_modules):
            modules = {source.name} | set(graph.find_descendants(source.name))
            for importer in sorted(modules):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if not _allowed(imported, self.session_options["root_packages"]):
                        offending.append((importer, imported))
        return ContractCheck(kept=not offending, metadata={"offending": offending})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported in check.metadata["offending"]:
            output.print_error(f"{importer} imports {imported}, which is not in the standard library")
            output.new_line()


def _allowed(imported: str, root_packages: list[str]) -> bool:
    top = imported.split(".")[0]
    return top in sys.stdlib_module_names or top == "__future__" or top in root_packages
