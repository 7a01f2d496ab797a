"""The pure sync core: value objects and the decision of ``docs/sync-rules.md``.

Standard library only, no I/O, no clock: every input is passed in, every answer is returned.
"""

from domain.chapter_map import Chapter, ChapterMap, ChapterPoint
from domain.decision import AgreedState, ConflictDecision, Reason, Transfer, decide
from domain.equivalence import equivalent
from domain.policy import Action, Direction, Scenario, SyncPolicy
from domain.position import Locator, ReadingPosition
from domain.status import ReadingStatus

__all__ = [
    "Action",
    "AgreedState",
    "Chapter",
    "ChapterMap",
    "ChapterPoint",
    "ConflictDecision",
    "Direction",
    "Locator",
    "ReadingPosition",
    "ReadingStatus",
    "Reason",
    "Scenario",
    "SyncPolicy",
    "Transfer",
    "decide",
    "equivalent",
]
