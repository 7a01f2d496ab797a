"""What the benchmark library holds: every book's source, kind and reading situation, from a seed.

The mix follows what a real Kobo synced with Komga and Calibre-Web looks like: most books are
kepubs from a server or the store, a fifth are sideloaded, a few are plain EPUBs read by Adobe's
renderer and PDFs, and a handful are rows whose file was never copied. About a third of the books
have Kobo progress and about a third have a KOReader sidecar; where both have one, the situations
cover every row of the decision table a real library hits (pull, push, in sync, someone went
back, both finished). The plan is pure data, so the same seed always gives the same device.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TypeVar

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FIRST_READ = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
T = TypeVar("T")
AUTHORS = ("Ada Quill", "Bruno Ålund", "Chiara O'Neill", "Dmitri Volk", "Émile Roux", "Farah Haddad")


class Source(Enum):
    """Where the book came from, which decides its ContentID's shape."""

    KOMGA = "komga"
    CALIBRE_WEB = "calibre-web"
    KOBO_STORE = "kobo-store"
    SIDELOADED = "sideloaded"


class Kind(Enum):
    KEPUB = "kepub"
    EPUB = "epub"
    PDF = "pdf"


class Situation(Enum):
    """Which side read the book and how the two relate; named after what a sync should do."""

    UNTOUCHED = "untouched"  # nobody opened it
    KOBO_ONLY = "kobo-only"  # read in Nickel, never in KOReader: pull
    KOREADER_ONLY = "koreader-only"  # read in KOReader, never in Nickel: push
    KOBO_AHEAD = "kobo-ahead"  # both read, Nickel later and further: pull
    KOREADER_AHEAD = "koreader-ahead"  # both read, KOReader later and further: push
    SAME_PLACE = "same-place"  # both at the same sentence: nothing to do
    KOREADER_WENT_BACK = "koreader-went-back"  # KOReader later but behind: "older", never by default
    BOTH_FINISHED = "both-finished"  # nothing to do


# Percent of the library in each situation: Kobo progress and KOReader sidecars on ~32 % each.
SITUATION_SHARES = {
    Situation.UNTOUCHED: 55,
    Situation.KOBO_ONLY: 13,
    Situation.KOREADER_ONLY: 13,
    Situation.KOBO_AHEAD: 6,
    Situation.KOREADER_AHEAD: 6,
    Situation.SAME_PLACE: 3,
    Situation.KOREADER_WENT_BACK: 2,
    Situation.BOTH_FINISHED: 2,
}
# Percent of the library per (source, kind).
SHAPE_SHARES = {
    (Source.KOMGA, Kind.KEPUB): 30,
    (Source.CALIBRE_WEB, Kind.KEPUB): 24,
    (Source.KOBO_STORE, Kind.KEPUB): 14,
    (Source.SIDELOADED, Kind.KEPUB): 22,
    (Source.SIDELOADED, Kind.EPUB): 6,
    (Source.SIDELOADED, Kind.PDF): 4,
}
MISSING_SIDELOADED_PERCENT = 5  # sideloaded rows whose file was never copied (~1.5 % of the library)


@dataclass(frozen=True)
class Place:
    """A spot in a book: text chapter number (1-based, after the cover) and fraction inside it."""

    chapter: int
    fraction: float
    at: datetime
    finished: bool = False


@dataclass(frozen=True)
class PlannedBook:
    """One book of the benchmark library and what each side holds for it."""

    number: int
    content_id: str
    title: str
    author: str
    source: Source
    kind: Kind
    template: int
    situation: Situation
    kobo: Place | None
    koreader: Place | None
    file_present: bool = True

    @property
    def entitlement_id(self) -> str | None:
        """Servers repeat the ContentID in ``EntitlementId``; the store uses a different UUID."""
        if self.source in (Source.KOMGA, Source.CALIBRE_WEB):
            return self.content_id
        if self.source is Source.KOBO_STORE:
            return str(uuid.uuid5(uuid.NAMESPACE_OID, self.content_id))
        return None


def plan_library(count: int, templates: int, chapters_of: list[int], seed: int = 2026) -> list[PlannedBook]:
    """``count`` books spread over ``templates`` book files whose text chapter counts are ``chapters_of``.

    Shapes and situations are dealt from shuffled decks, so even a 20-book library holds every
    source, kind and situation in about the planned proportions.
    """
    rng = random.Random(seed)
    shapes = _deck(SHAPE_SHARES, count, rng)
    situations = _deck(SITUATION_SHARES, count, rng)
    books = []
    for number, ((source, kind), situation) in enumerate(zip(shapes, situations, strict=True)):
        template = rng.randrange(templates)
        kobo, koreader = _places(situation, chapters_of[template], rng)
        missing = source is Source.SIDELOADED and rng.randrange(100) < MISSING_SIDELOADED_PERCENT
        books.append(
            PlannedBook(
                number=number,
                content_id=_content_id(source, kind, number, rng),
                title=f"Bench Book {number:05d}",
                author=rng.choice(AUTHORS),
                source=source,
                kind=kind,
                template=template,
                situation=situation,
                kobo=kobo,
                koreader=koreader,
                file_present=not missing,
            )
        )
    return books


def _deck(shares: dict[T, int], count: int, rng: random.Random) -> list[T]:
    """``count`` cards in the given percent shares (rounded, topped up with the largest), shuffled."""
    cards = [value for value, share in shares.items() for _ in range(round(count * share / 100))]
    largest = max(shares, key=lambda value: shares[value])
    cards = (cards + [largest] * count)[:count]
    rng.shuffle(cards)
    return cards


def _content_id(source: Source, kind: Kind, number: int, rng: random.Random) -> str:
    if source is Source.KOMGA:
        return "0" + "".join(rng.choice(CROCKFORD) for _ in range(12))
    if source in (Source.CALIBRE_WEB, Source.KOBO_STORE):
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    author = AUTHORS[number % len(AUTHORS)]
    extension = {Kind.KEPUB: "kepub.epub", Kind.EPUB: "epub", Kind.PDF: "pdf"}[kind]
    return f"file:///mnt/onboard/Books/{author}/Title {number:05d} – vol {number % 7}.{extension}"


def _places(situation: Situation, chapters: int, rng: random.Random) -> tuple[Place | None, Place | None]:
    """The Kobo and KOReader places of one book in this situation (None: that side never read it)."""
    early = _place(rng, chapters, 1, max(1, chapters // 2), days=rng.randint(0, 20))
    late = _place(rng, chapters, max(1, chapters // 2) + 1, chapters, days=rng.randint(25, 60))
    if situation is Situation.UNTOUCHED:
        return None, None
    if situation is Situation.KOBO_ONLY:
        return late, None
    if situation is Situation.KOREADER_ONLY:
        return None, late
    if situation is Situation.KOBO_AHEAD:
        return late, early
    if situation is Situation.KOREADER_AHEAD:
        return early, late
    if situation is Situation.SAME_PLACE:
        return early, early
    if situation is Situation.KOREADER_WENT_BACK:
        return Place(late.chapter, late.fraction, early.at), Place(early.chapter, early.fraction, late.at)
    done = Place(chapters, 1.0, late.at, finished=True)
    return done, Place(chapters, 1.0, early.at, finished=True)


def _place(rng: random.Random, chapters: int, first: int, last: int, *, days: int) -> Place:
    """A place in text chapters ``first..last``; fractions on a 0.05 grid so conversions repeat."""
    chapter = min(chapters, rng.randint(first, max(first, last)))
    fraction = rng.randint(2, 18) / 20
    at = FIRST_READ + timedelta(days=days, minutes=rng.randint(0, 24 * 60), seconds=rng.randint(0, 59))
    return Place(chapter, fraction, at)
