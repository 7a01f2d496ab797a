"""One parsed chapter as a text line: where every element, text node and koboSpan starts.

Positions inside a chapter are character offsets into the chapter's body text, counted in
code points in document order. Both sides are converted through them: a koboSpan's fraction is
the characters before it over all characters; a KOReader ``text().N`` adds N to the start of
its text node. The text is counted roughly as crengine builds it (koreader.md §6.1):

- runs of XML whitespace inside a text node count as one space (``pre`` keeps them);
- whitespace-only text directly inside structural containers (``body``, ``div``, lists,
  tables…) is dropped, as crengine drops the indentation between blocks; it is neither counted
  nor numbered by ``text()[k]``;
- ``script``/``style`` text is invisible and not counted;
- an ``img`` counts as one character, so a koboSpan holding only an image has a position of
  its own instead of sharing one with the next sentence.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from lxml import etree

from adapters.epub.markup import local_name
from adapters.epub.xpointer import Step, index_suffix

KOBO_SPAN_ID = re.compile(r"^kobo\.\d+\.\d+$")
ADOBE_POINT = re.compile(r"^(?:point\()?(?P<steps>(?:/\d+)+)(?::(?P<offset>\d+))?\)?$")
XML_SPACE_RUN = re.compile(r"[ \t\n\r]+")
XML_SPACE = " \t\n\r"
HIDDEN = frozenset({"script", "style", "head", "title", "template"})
PREFORMATTED = frozenset({"pre", "textarea"})
OBJECT_ELEMENTS = frozenset({"img", "image"})
STRUCTURAL = frozenset(
    {
        "html", "body", "div", "section", "article", "aside", "header", "footer", "nav", "main",
        "ol", "ul", "dl", "table", "thead", "tbody", "tfoot", "tr", "colgroup", "figure",
    }
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class TextRun:
    """A counted text node: where it starts, how many characters it holds, whether only spaces."""

    start: int
    length: int
    blank: bool = False


Node = etree._Element | TextRun


class ChapterText:
    """Character offsets of a chapter body, its koboSpans, and crengine paths into it."""

    def __init__(self, body: etree._Element) -> None:
        self.body = body
        self._starts: dict[etree._Element, int] = {}
        self._ends: dict[etree._Element, int] = {}
        self._children: dict[etree._Element, list[Node]] = {}
        self.spans: list[str] = []
        self.span_starts: list[int] = []
        self._span_elements: dict[str, etree._Element] = {}
        self.total = self._walk(body, 0, preformatted=False, hidden=False)

    # koboSpans -------------------------------------------------------------------------------

    def span_start(self, span: str) -> int | None:
        element = self._span_elements.get(span)
        return None if element is None else self._starts[element]

    def span_fraction(self, span: str) -> float | None:
        start = self.span_start(span)
        if start is None:
            return None
        return start / self.total if self.total else 0.0

    def span_at_offset(self, offset: float) -> str | None:
        """The span holding (or last starting before) this offset; the first span before any.

        A small tolerance absorbs float error from ``fraction * total`` so that the fraction of
        a span always maps back to that same span.
        """
        if not self.spans:
            return None
        index = bisect.bisect_right(self.span_starts, offset + 1e-6) - 1
        return self.spans[max(index, 0)]

    def span_path(self, span: str) -> str | None:
        """Path from ``body`` down to the span element, in crengine's normalized form."""
        element = self._span_elements.get(span)
        return None if element is None else self.element_path(element)

    # the tree as counted ----------------------------------------------------------------------

    def node_children(self, element: etree._Element) -> list[Node]:
        """Child elements and counted text runs, in document order."""
        return self._children.get(element, [])

    def element_children(self, element: etree._Element) -> list[etree._Element]:
        return [c for c in self._children.get(element, []) if not isinstance(c, TextRun)]

    def start_of(self, element: etree._Element) -> int:
        return self._starts[element]

    def end_of(self, element: etree._Element) -> int:
        return self._ends[element]

    def span_element(self, span: str) -> etree._Element | None:
        return self._span_elements.get(span)

    # crengine paths --------------------------------------------------------------------------

    def element_path(self, element: etree._Element, *, always_indexed: bool = False) -> str:
        """``body/div/p[3]/span[2]``: names without namespace, ``[K]`` only among same names.

        ``always_indexed`` writes ``[K]`` on every step, as crengine does from DOM 20260812.
        """
        steps: list[str] = []
        current = element
        while current is not self.body:
            parent = current.getparent()
            if parent is None:
                break
            name = local_name(current)
            same = [c for c in parent if isinstance(c.tag, str) and local_name(c) == name]
            steps.append(name + index_suffix(same.index(current) + 1, len(same), always_indexed))
            current = parent
        steps.append("body[1]" if always_indexed else "body")
        return "/".join(reversed(steps))

    def resolve(self, steps: tuple[Step, ...], point: int | None) -> int | None:
        """Character offset of a path below the DocFragment (``body/…``), or None if it is not there."""
        if not steps:
            return 0
        if steps[0].name != "body" or steps[0].index != 1:
            return None
        node: Node = self.body
        for step in steps[1:]:
            if isinstance(node, TextRun):
                return None
            found = self._child(node, step)
            if found is None:
                return None
            node = found
        return self._offset(node, point)

    def _child(self, element: etree._Element, step: Step) -> Node | None:
        children = self._children.get(element, [])
        if step.name is None:
            matching = children
        elif step.is_text:
            matching = [c for c in children if isinstance(c, TextRun)]
        else:
            matching = [c for c in children if not isinstance(c, TextRun) and local_name(c) == step.name]
        return matching[step.index - 1] if 1 <= step.index <= len(matching) else None

    def _offset(self, node: Node, point: int | None) -> int:
        if isinstance(node, TextRun):
            return node.start + min(point or 0, node.length)
        if point is None:
            return self._starts[node]
        children = self._children.get(node, [])
        if point < len(children):
            child = children[point]
            return child.start if isinstance(child, TextRun) else self._starts[child]
        if not children and local_name(node) in OBJECT_ELEMENTS:
            return self._starts[node]  # ``img.0``: the top of the image, not the text after it
        return self._ends[node]

    # Adobe points ----------------------------------------------------------------------------

    def point_target(self, point: str) -> tuple[etree._Element, int, bool] | None:
        """Where an Adobe RMSDK ``point(/1/4/2/1:0)`` lands: element, character offset, complete.

        The path is CFI-like from the document root after RMSDK's leading ``/1``: an even step
        ``2k`` is the k-th child element, an odd step ``2k+1`` the text after the k-th child
        element (``1`` the text before the first), and ``:N`` a UTF-8 byte offset into that
        text. A path that leaves the tree stops at the deepest element reached (``complete``
        False); None when the point cannot be read at all.
        """
        match = ADOBE_POINT.match(point.strip())
        if match is None:
            return None
        steps = [int(step) for step in match.group("steps").split("/") if step]
        byte_offset = int(match.group("offset") or 0)
        if steps[:1] == [1]:
            steps = steps[1:]
        element = self.body.getroottree().getroot()
        for position, step in enumerate(steps):
            elements = [c for c in element if isinstance(c.tag, str)]
            if step % 2 == 0:
                if not 1 <= step // 2 <= len(elements):
                    return self._known(element, False)
                element = elements[step // 2 - 1]
                continue
            slot = step // 2
            if slot > len(elements) or position != len(steps) - 1:
                return self._known(element, False)
            raw = element.text if slot == 0 else elements[slot - 1].tail
            return self._in_text(element, slot, raw or "", byte_offset)
        return self._known(element, True)

    def _known(self, element: etree._Element, complete: bool) -> tuple[etree._Element, int, bool]:
        """The element itself when it is counted, else its nearest counted ancestor (incomplete)."""
        while element not in self._starts:
            parent = element.getparent()
            if parent is None:
                return (self.body, 0, False)
            element, complete = parent, False
        return element, self._starts[element], complete

    def _in_text(
        self, element: etree._Element, slot: int, raw: str, byte_offset: int
    ) -> tuple[etree._Element, int, bool]:
        """A point in the text slot after the ``slot``-th child element (0: before the first)."""
        element, start, complete = self._known(element, True)
        elements = [c for c in element if isinstance(c.tag, str)]
        if slot:
            start = self._ends.get(elements[slot - 1], start)
        prefix = raw.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore")
        return element, start + len(XML_SPACE_RUN.sub(" ", prefix)), complete

    # building --------------------------------------------------------------------------------

    def _walk(self, element: etree._Element, offset: int, *, preformatted: bool, hidden: bool) -> int:
        name = local_name(element)
        hidden = hidden or name in HIDDEN
        preformatted = preformatted or name in PREFORMATTED
        self._starts[element] = offset
        self._note_span(element)
        children: list[Node] = []
        if name in OBJECT_ELEMENTS and not hidden:
            offset += 1
        offset = self._add_text(children, element.text, name, offset, preformatted, hidden)
        for child in element:
            if isinstance(child.tag, str):
                children.append(child)
                offset = self._walk(child, offset, preformatted=preformatted, hidden=hidden)
            offset = self._add_text(children, child.tail, name, offset, preformatted, hidden)
        self._children[element] = children
        self._ends[element] = offset
        return offset

    def _add_text(
        self,
        children: list[Node],
        text: str | None,
        parent: str,
        offset: int,
        preformatted: bool,
        hidden: bool,
    ) -> int:
        if not text:
            return offset
        blank = not text.strip(XML_SPACE)
        if not preformatted:
            if parent in STRUCTURAL and blank:
                return offset
            text = XML_SPACE_RUN.sub(" ", text)
        length = 0 if hidden else len(text)
        children.append(TextRun(offset, length, blank))
        return offset + length

    def _note_span(self, element: etree._Element) -> None:
        span_id = element.get("id")
        if span_id is None or not KOBO_SPAN_ID.match(span_id) or span_id in self._span_elements:
            return
        self._span_elements[span_id] = element
        self.spans.append(span_id)
        self.span_starts.append(self._starts[element])
