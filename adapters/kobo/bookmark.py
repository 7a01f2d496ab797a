"""``ChapterIDBookmarked`` split into the spine file and the koboSpan, as kobo.md §4.1 describes.

Kepub bookmarks are ``<zip path>#kobo.X.Y``. Adobe ``<zip path>#point(...)`` keeps its zip path
but has no span; PDF ``#pdfloc(...)``, the bare ``'#'`` Nickel leaves on some store books and the
old-firmware chapter ContentIDs (``file:///….epub#(6)…``) carry neither; all of them stay
available verbatim in ``raw``.
"""

from __future__ import annotations

import re

from application.records import KoboBookmark

_KOBO_SPAN = re.compile(r"kobo\.\d+\.\d+")
_ADOBE_POINT = re.compile(r"point\((?P<path>[^()]*)\)")
_CONTENT_ID_STARTS = ("file://", "/")


def split_bookmark(raw: str | None) -> KoboBookmark:
    """Split a stored bookmark; unknown shapes are kept opaque rather than guessed at."""
    if raw is None:
        return KoboBookmark()
    path, hash_mark, anchor = raw.partition("#")
    if not hash_mark or not path or path.startswith(_CONTENT_ID_STARTS):
        return KoboBookmark(raw=raw)
    span = anchor if _KOBO_SPAN.fullmatch(anchor) else None
    point = _ADOBE_POINT.fullmatch(anchor)
    return KoboBookmark(raw=raw, zip_path=path, span=span, point=point.group("path") if point else None)
