"""Naming a book the way people do: its ContentID, part of its title, or where it is on the Kobo.

ContentIDs are exact but long (a UUID, or ``file:///mnt/onboard/Author/Title.kepub.epub``); a
title fragment is what people remember. A name that fits no book, or more than one, is refused
with the candidates, never guessed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from application.errors import KksyncError
from application.records import KoboBook

FILE_SCHEME = "file://"
SHORTEST_ID = 8
"""Shortest ContentID prefix shown or accepted (Komga ids are 13 characters, UUIDs 36)."""


class UnknownBook(KksyncError):
    """A ``--book`` name that fits no book, or several (the message lists the candidates)."""


def resolve_books(names: Iterable[str], books: Sequence[KoboBook]) -> list[str]:
    """The ContentIDs the names stand for, in order and without repeats."""
    return list(dict.fromkeys(resolve_book(name, books).book_id for name in names))


def resolve_book(name: str, books: Sequence[KoboBook]) -> KoboBook:
    """Exact ContentID, then on-device path, then a unique ContentID prefix, file name or title part."""
    text = name.strip()
    for matches in _candidates(text, books):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            listed = "; ".join(_label(book) for book in matches[:5])
            more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
            raise UnknownBook(
                f"--book {name!r} fits {len(matches)} books: {listed}{more}; "
                "give more of the title, or the ContentID"
            )
    raise UnknownBook(f"--book {name!r} fits no book on this Kobo{_did_you_mean(text, books)}")


def _candidates(text: str, books: Sequence[KoboBook]) -> Iterable[list[KoboBook]]:
    """Ways to read the name, most exact first; the first that fits any book decides."""
    path = text.removeprefix(FILE_SCHEME)
    folded = text.casefold()
    yield [book for book in books if book.book_id == text]
    yield [
        book for book in books if path and path in (book.device_path, book.book_id.removeprefix(FILE_SCHEME))
    ]
    if len(text) >= SHORTEST_ID:
        yield [book for book in books if book.book_id.startswith(text)]
        yield [book for book in books if book.device_path.endswith("/" + path.lstrip("/"))]
    if folded:
        yield [book for book in books if (book.title or "").casefold() == folded]
        yield [book for book in books if folded in (book.title or "").casefold()]


def _did_you_mean(text: str, books: Sequence[KoboBook]) -> str:
    by_word = {(book.title or book.book_id).casefold(): book for book in books}
    by_word.update({book.book_id.casefold(): book for book in books})
    close = difflib.get_close_matches(text.casefold(), list(by_word), n=3, cutoff=0.5)
    suggestions = list(dict.fromkeys(_label(by_word[word]) for word in close))
    if suggestions:
        return f"; did you mean {' or '.join(suggestions)}?"
    return "; `kksync books` lists them"


def _label(book: KoboBook) -> str:
    return f"{book.title or '(no title)'} ({book.book_id})"


def short_ids(books: Sequence[KoboBook]) -> dict[str, str]:
    """A short form of every ContentID that ``resolve_book`` takes back to the same book.

    Sideloaded books show their on-device path (without ``file://``); the others the shortest
    prefix of at least ``SHORTEST_ID`` characters that no other ContentID starts with.
    """
    ids = [book.book_id for book in books]
    short = {}
    for book in books:
        book_id = book.book_id
        if book_id.startswith(FILE_SCHEME):
            short[book_id] = book_id.removeprefix(FILE_SCHEME)
            continue
        length = min(SHORTEST_ID, len(book_id))
        while length < len(book_id) and any(o != book_id and o.startswith(book_id[:length]) for o in ids):
            length += 1
        short[book_id] = book_id[:length]
    return short
