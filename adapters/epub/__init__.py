"""Book content: EPUB/kepub spines, koboSpans and crengine xpointers, read with ``zipfile`` + lxml."""

from adapters.epub.content import EpubContent
from adapters.epub.document import EpubDocument
from adapters.epub.kepub_builder import BookSpec, ChapterSpec, build_epub

__all__ = ["BookSpec", "ChapterSpec", "EpubContent", "EpubDocument", "build_epub"]
