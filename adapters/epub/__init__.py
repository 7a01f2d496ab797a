"""Book content: EPUB/kepub spines, koboSpans and crengine xpointers, read with ``zipfile`` + lxml."""

from adapters.epub.content import EpubContent
from adapters.epub.document import EpubDocument

__all__ = ["EpubContent", "EpubDocument"]
