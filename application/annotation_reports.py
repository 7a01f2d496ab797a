"""What a book's annotation sync reports: counts per side, conflicts, what could not be placed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AnnotationReport:
    """What one book's annotation sync did (or, in a dry run, would do)."""

    added_to_kobo: int = 0
    added_to_koreader: int = 0
    deleted_from_kobo: int = 0
    deleted_from_koreader: int = 0
    changed_on_kobo: int = 0
    changed_on_koreader: int = 0
    conflicts: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: bool = False
    error: str | None = None

    def withdraw(self, note: str) -> None:
        """Nothing will be written after all: drop the planned counts and changes, say why."""
        self.added_to_kobo = self.added_to_koreader = 0
        self.deleted_from_kobo = self.deleted_from_koreader = 0
        self.changed_on_kobo = self.changed_on_koreader = 0
        self.changes, self.conflicts = [], []
        self.notes.append(note)

    def as_dict(self) -> dict[str, object]:
        return {
            "added_to_kobo": self.added_to_kobo,
            "added_to_koreader": self.added_to_koreader,
            "deleted_from_kobo": self.deleted_from_kobo,
            "deleted_from_koreader": self.deleted_from_koreader,
            "changed_on_kobo": self.changed_on_kobo,
            "changed_on_koreader": self.changed_on_koreader,
            "conflicts": list(self.conflicts),
            "unplaced": list(self.unplaced),
            "changes": list(self.changes),
            "notes": list(self.notes),
            "written": self.written,
            "error": self.error,
        }
