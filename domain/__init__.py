"""The pure sync core: value objects and the decision of ``docs/sync-rules.md``.

Standard library only, no I/O, no clock: every input is passed in, every answer is returned.
"""

from domain.annotation import (
    Annotation,
    AnnotationContent,
    AnnotationKey,
    AnnotationKind,
    TextPoint,
    TextRange,
)
from domain.annotation_merge import (
    AnnotationMerge,
    AnnotationOutcome,
    AnnotationRule,
    SideAction,
    merge_annotations,
)
from domain.chapter_map import Chapter, ChapterMap, ChapterPoint
from domain.decision import AgreedState, ConflictDecision, Reason, Transfer, decide
from domain.equivalence import equivalent
from domain.policy import Action, Direction, Scenario, SyncPolicy
from domain.position import Locator, ReadingPosition
from domain.status import ReadingStatus

__all__ = [
    "Action",
    "AgreedState",
    "Annotation",
    "AnnotationContent",
    "AnnotationKey",
    "AnnotationKind",
    "AnnotationMerge",
    "AnnotationOutcome",
    "AnnotationRule",
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
    "SideAction",
    "SyncPolicy",
    "TextPoint",
    "TextRange",
    "Transfer",
    "decide",
    "equivalent",
    "merge_annotations",
]
