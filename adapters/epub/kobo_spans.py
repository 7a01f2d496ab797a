"""Insert ``koboSpan``s into a chapter the way kepub converters do (kobo.md §4.2).

The numbering rules, restated in this project's words:

- ``X`` counts "paragraphs". Entering ``p``, ``ol``, ``ul``, ``table`` or ``h1``-``h6`` only
  *arms* a bump; ``X`` actually increases when the next text is wrapped. So items of one list
  or cells of one table share an ``X``, a nested list starts a new ``X``, and text after the
  nested list carries on with that new ``X``.
- ``Y`` counts sentence fragments inside the current ``X`` and restarts at 1 on each bump.
- Every ``img`` gets its own ``X`` at once and is wrapped in a span ``kobo.X.1``.
- Text before any block element is numbered under ``X`` = 0 (``kobo.0.1``, ``kobo.0.2``…).
- Whitespace-only text is wrapped only directly under ``p``; ``script``, ``style``, ``pre``,
  ``audio``, ``video``, ``svg`` and ``math`` are left untouched.
- A chapter that already has koboSpans is left as it is, and the body's content is wrapped in
  ``div#book-columns > div#book-inner`` as Kobo's own kepubs are.
"""

from __future__ import annotations

import re

from lxml import etree

from adapters.epub.markup import local_name

PARAGRAPH_BLOCKS = frozenset({"p", "ol", "ul", "table", "h1", "h2", "h3", "h4", "h5", "h6"})
UNTOUCHED = frozenset({"script", "style", "pre", "audio", "video", "svg", "math"})
SENTENCE = re.compile(r".+?[.!?…]+[\"'”’»)\]]*\s+|.+", re.DOTALL)
SPAN_CLASS = "koboSpan"


def has_kobo_spans(body: etree._Element) -> bool:
    return any(
        isinstance(e.tag, str) and str(e.get("id", "")).startswith("kobo.") and local_name(e) == "span"
        for e in body.iter()
    )


def add_kobo_spans(body: etree._Element) -> None:
    """Number this body's text and images in place, then add Kobo's column wrappers."""
    if has_kobo_spans(body):
        return
    _SpanNumbering(etree.QName(body).namespace).process(body)
    _wrap_in_columns(body)


def sentence_fragments(text: str) -> list[str]:
    """Split text after sentence punctuation; the following whitespace stays with the sentence."""
    return SENTENCE.findall(text)


class _SpanNumbering:
    def __init__(self, namespace: str | None) -> None:
        self._span_tag = f"{{{namespace}}}span" if namespace else "span"
        self.paragraph = 0
        self.segment = 0
        self.armed = False

    def process(self, element: etree._Element) -> None:
        name = local_name(element)
        if name in UNTOUCHED:
            return
        if name in PARAGRAPH_BLOCKS:
            self.armed = True
        children = list(element)
        tails = [child.tail for child in children]
        leading = element.text
        element.text = None
        for child in children:
            child.tail = None
            element.remove(child)
        self._append_text(element, leading, name)
        for child, tail in zip(children, tails, strict=True):
            if isinstance(child.tag, str) and local_name(child) == "img":
                element.append(self._image_span(child))
            else:
                if isinstance(child.tag, str):
                    self.process(child)
                element.append(child)
            self._append_text(element, tail, name)

    def _append_text(self, element: etree._Element, text: str | None, parent: str) -> None:
        if not text:
            return
        if not text.strip() and parent != "p":
            _append_raw_text(element, text)
            return
        if self.armed:
            self.paragraph += 1
            self.segment = 0
            self.armed = False
        for fragment in sentence_fragments(text):
            span = self._new_span()
            span.text = fragment
            element.append(span)

    def _image_span(self, image: etree._Element) -> etree._Element:
        self.paragraph += 1
        self.segment = 0
        self.armed = False
        span = self._new_span()
        span.append(image)
        return span

    def _new_span(self) -> etree._Element:
        self.segment += 1
        return etree.Element(
            self._span_tag, {"class": SPAN_CLASS, "id": f"kobo.{self.paragraph}.{self.segment}"}
        )


def _append_raw_text(element: etree._Element, text: str) -> None:
    """Put text at the current end of the element's content (its text, or the last child's tail)."""
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "") + text
    else:
        element.text = (element.text or "") + text


def _wrap_in_columns(body: etree._Element) -> None:
    namespace = etree.QName(body).namespace
    div = f"{{{namespace}}}div" if namespace else "div"
    columns = etree.Element(div, {"id": "book-columns"})
    inner = etree.SubElement(columns, div, {"id": "book-inner"})
    inner.text, body.text = body.text, None
    for child in list(body):
        inner.append(child)
    body.append(columns)
