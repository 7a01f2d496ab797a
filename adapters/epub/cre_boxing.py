"""crengine's wrapper elements, for the V1 pointers KOReader keeps below DOM 20200223.

Before 20200223 crengine writes and reads pointers *with* the elements it inserts into the DOM
(koreader.md §6.3). This module rebuilds where it inserts them in one chapter, following the
engine's ``initNodeRendMethod`` (lvtinydom.cpp) as KOReader runs it on an old-DOM book:

- Elements are classified bottom-up by their ``display`` (``css_cascade``): *inline* (and, with
  the ``BOX_INLINE_BLOCKS`` flag KOReader never sets for old DOMs, ``inline-block``, which then
  falls back to the element's default display), *final* or *block*. Below DOM 20180524 the
  default ``display`` of unknown elements (and of HTML5 ones such as ``figure``, ``section``
  kept aside) is ``inherit``, and ``li`` is rendered "legacy" (its children are never boxed).
- A block whose children mix inline content (text, inline elements) with blocks gets every
  maximal run of inline children wrapped in an ``autoBoxing``; blank text at the edges of a run
  is dropped, and a run of nothing but blank text disappears.
- With floats prepared (every block rendering mode but legacy), an element with ``float`` is
  wrapped in a ``floatBox`` and then joins the inline runs around it.
- Table structure (``table``, row groups, ``tr``) is left alone; cells box like blocks.

Whatever cannot be known (a ``display``/``float`` set by a rule we cannot evaluate, an unknown
block rendering mode around floats, ``run-in``, preformatted mixes) marks the container
*doubtful*: pointers through it are not produced from the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from adapters.epub.chapter_text import OBJECT_ELEMENTS, ChapterText, Node, TextRun
from adapters.epub.css_cascade import ChapterStyles
from adapters.epub.markup import local_name
from adapters.epub.xpointer import Step

INLINE_DEFAULT = frozenset(
    {
        "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
        "abbr", "acronym", "bdi", "bdo", "blink", "br", "cite", "data", "del", "dfn", "emphasis", "ins",
        "kbd", "label", "mark", "q", "samp", "slot", "spacer", "span", "sub", "sup", "time", "var",
        "img", "image", "svg", "object", "embed", "rbc", "rb", "rt", "rtc", "rp", "ruby", "option",
        "picture", "meter", "progress", "wbr",
    }
)  # fmt: skip
BLOCK_DEFAULT = frozenset(
    {
        "body", "hr", "form", "pre", "blockquote", "div", "h1", "h2", "h3", "h4", "h5", "h6", "p",
        "output", "section", "ol", "ul", "dl", "dt", "dd", "title",
    }
)  # fmt: skip
# Block in recent DOMs, but unknown (so "display: inherit") to crengine below 20180528 / 20200824.
INHERITING_BEFORE_20180528 = frozenset(
    {
        "address", "article", "aside", "canvas", "fieldset", "figcaption", "figure", "footer", "header",
        "hgroup", "legend", "main", "nav", "noscript", "video", "center", "dir", "menu", "multicol",
        "noframes", "search", "listing", "textarea", "plaintext", "xmp", "details", "dialog", "summary",
        "frame", "frameset", "iframe", "noembed", "template", "select", "button", "marquee", "optgroup",
        "datalist", "map", "picture", "meter", "progress", "wbr", "option",
    }
)  # fmt: skip
TABLE_DEFAULT = {
    "table": "table",
    "caption": "table-caption",
    "colgroup": "table-column-group",
    "col": "table-column",
    "thead": "table-header-group",
    "tbody": "table-row-group",
    "tfoot": "table-footer-group",
    "tr": "table-row",
    "th": "table-cell",
    "td": "table-cell",
}
TABLE_STRUCTURE = frozenset(
    {
        "table",
        "table-row-group",
        "table-header-group",
        "table-footer-group",
        "table-row",
        "table-column-group",
    }
)
HIDDEN = frozenset({"script", "style", "head", "link", "meta", "base", "col"})
BOX_NAMES = {"autoboxing": "autoBoxing", "floatbox": "floatBox"}


@dataclass(eq=False)
class Box:
    """A wrapper crengine inserted: ``autoBoxing`` or ``floatBox`` with the nodes it holds."""

    name: str
    children: list[Node | Box] = field(default_factory=list)

    @property
    def step_name(self) -> str:
        return BOX_NAMES[self.name]


VNode = Node | Box
Parent = etree._Element | Box


@dataclass(frozen=True)
class BoxingRules:
    """What decides the wrappers: the DOM version and the float flags of the block rendering mode."""

    dom_version: int
    floats: bool | None
    """Floats prepared and wrapped (modes 1-3); False for legacy rendering; None when unknown."""


class ChapterBoxing:
    """The chapter's children lists as crengine builds them with its wrappers (the V1 view)."""

    def __init__(self, chapter: ChapterText, styles: ChapterStyles, rules: BoxingRules) -> None:
        self.chapter = chapter
        self.styles = styles
        self.rules = rules
        self.children: dict[Parent, list[VNode]] = {}
        self.parent: dict[Parent, Parent] = {}
        self.doubtful: set[Parent] = set()
        self._display: dict[etree._Element, str] = {}
        self._float: dict[etree._Element, bool] = {}
        self._doubtful_style: set[etree._Element] = set()
        self._style(chapter.body, "block")
        self._build(chapter.body)

    # styles -----------------------------------------------------------------------------------

    def _style(self, element: etree._Element, parent_display: str) -> None:
        name = local_name(element)
        default = self._default_display(name)
        declared = self.styles.declared(element)
        display = declared.get("display", default)
        if display in ("inline-block", "inline-table"):
            display = "block" if display == "inline-table" else default
        if display == "list-item" and self.rules.dom_version < 20180524:
            display = "list-item-legacy"
        if display == "inherit":
            display = parent_display
        floating = declared.get("float", "none") in ("left", "right")
        if self.styles.is_doubtful(element) or display == "run-in":
            self._doubtful_style.add(element)
        if floating and self.rules.floats is None:
            self._doubtful_style.add(element)
        if floating and self.rules.floats and display == "inline":
            display = "block"
        self._display[element] = display
        self._float[element] = bool(floating and self.rules.floats)
        for child in self.chapter.element_children(element):
            self._style(child, display)

    def _default_display(self, name: str) -> str:
        old = self.rules.dom_version < 20180524
        if name in HIDDEN:
            return "none"
        if name in TABLE_DEFAULT:
            return TABLE_DEFAULT[name]
        if name == "li":
            return "list-item-legacy" if old else "list-item"
        if name == "cite" and old:
            return "block"
        if name in INHERITING_BEFORE_20180528:
            return "inherit" if old else "inline"
        if name in BLOCK_DEFAULT:
            return "block"
        if name in INLINE_DEFAULT:
            return "inline"
        return "inherit" if old else "inline"

    # boxing -----------------------------------------------------------------------------------

    def _build(self, element: etree._Element) -> str:
        """Box this element's children (after theirs) and return its rendering: inline/final/block."""
        kids = self.chapter.node_children(element)
        kinds: list[str] = []
        items: list[VNode] = []
        for kid in kids:
            if isinstance(kid, TextRun):
                kinds.append("blank" if kid.blank else "text")
                items.append(kid)
                continue
            rend = self._build(kid)
            if kid in self._doubtful_style:
                self.doubtful.update((element, kid))
            if self._float[kid]:
                box = Box("floatbox", [kid])
                self.children[box] = [kid]
                self.parent[kid] = box
                items.append(box)
                kinds.append("float")
            else:
                items.append(kid)
                kinds.append(rend)
        display = self._display[element]
        if display == "none":
            rend = "invisible"
        elif display == "inline":
            rend = "inline"
        elif display == "list-item-legacy" or local_name(element) in OBJECT_ELEMENTS:
            rend = "final"
        elif display in TABLE_STRUCTURE:
            rend = "block"
            if any(k in ("text", "inline") for k in kinds):
                self.doubtful.add(element)  # crengine would complete the table: not modelled
        else:
            items, rend = self._autobox(element, items, kinds)
        self.children[element] = items
        for item in items:
            if not isinstance(item, TextRun):
                self.parent[item] = element
        return rend

    def _autobox(
        self, element: etree._Element, items: list[VNode], kinds: list[str]
    ) -> tuple[list[VNode], str]:
        inline = {"text", "blank", "inline", "float"}  # "float" only exists when floats are wrapped
        has_inline = any(k in ("text", "blank", "inline") for k in kinds)
        has_block = any(k in ("block", "final") for k in kinds)
        if not (has_block and has_inline):
            return items, "block" if has_block or not has_inline else "final"
        if local_name(element) in ("pre", "textarea", "listing", "xmp"):
            self.doubtful.add(element)
        boxed: list[VNode] = []
        index = 0
        while index < len(items):
            if kinds[index] not in inline:
                if kinds[index] != "blank":
                    boxed.append(items[index])
                index += 1
                continue
            end = index
            while end < len(items) and kinds[end] in inline:
                end += 1
            boxed.extend(self._box_run(items[index:end], kinds[index:end]))
            index = end
        return boxed, "block"

    def _box_run(self, run: list[VNode], kinds: list[str]) -> list[VNode]:
        """A run of inline children: an autoBoxing around its non-blank middle, floats alone, or nothing."""
        first = next((i for i, k in enumerate(kinds) if k != "blank"), None)
        if first is None:
            return []
        last = max(i for i, k in enumerate(kinds) if k != "blank")
        middle, middle_kinds = run[first : last + 1], kinds[first : last + 1]
        if not any(k in ("text", "inline") for k in middle_kinds):
            return [item for item, k in zip(middle, middle_kinds, strict=True) if k == "float"]
        box = Box("autoboxing", list(middle))
        self.children[box] = box.children
        for item in middle:
            if not isinstance(item, TextRun):
                self.parent[item] = box
        return [box]

    # paths ------------------------------------------------------------------------------------

    def chain(self, node: Parent) -> list[Parent]:
        """The node and its V1 ancestors up to (not including) the chapter's body."""
        chain = []
        while node is not self.chapter.body:
            chain.append(node)
            node = self.parent[node]
        return chain

    def is_certain(self, node: Parent) -> bool:
        """Whether every container on the way from body to this node is modelled with certainty."""
        return not any(self.parent[n] in self.doubtful for n in self.chain(node))

    def steps(self, node: Parent, *, always_indexed: bool = False) -> list[str]:
        """``div[2]/autoBoxing/span``: the V1 steps below body down to this node."""
        steps = []
        for item in reversed(self.chain(node)):
            name = item.step_name if isinstance(item, Box) else local_name(item)
            siblings = [c for c in self.children[self.parent[item]] if _name(c) == _name(item)]
            index = next(i for i, c in enumerate(siblings, start=1) if c is item)
            steps.append(f"{name}[{index}]" if len(siblings) > 1 or always_indexed else name)
        return steps

    def has_boxes_above(self, node: Parent) -> bool:
        return any(isinstance(n, Box) for n in self.chain(node))

    def start(self, node: VNode) -> int | None:
        """Character offset where a node starts; a box starts with its first child."""
        if isinstance(node, TextRun):
            return node.start
        if isinstance(node, Box):
            return self.start(node.children[0]) if node.children else None
        return self.chapter.start_of(node)

    def end(self, node: Parent) -> int | None:
        if isinstance(node, Box):
            last = node.children[-1] if node.children else None
            if last is None:
                return None
            if isinstance(last, TextRun):
                return last.start + last.length
            return self.end(last)
        return self.chapter.end_of(node)


def _name(node: VNode) -> str | None:
    if isinstance(node, TextRun):
        return None
    return node.name if isinstance(node, Box) else local_name(node)


def resolve_v1(boxing: ChapterBoxing, steps: tuple[Step, ...], point: int | None) -> tuple[int, bool] | None:
    """Character offset of a V1 path below the DocFragment (``body/…``), or None if it is not there.

    The flag is False when the path crosses a container whose wrappers are doubtful: the offset
    is then that container's start, never a guess below it.
    """
    if not steps:
        return 0, True
    if steps[0].name != "body" or steps[0].index != 1:
        return None
    node: VNode = boxing.chapter.body
    for step in steps[1:]:
        if isinstance(node, TextRun):
            return None
        if node in boxing.doubtful:
            start = boxing.start(node)
            return None if start is None else (start, False)
        children = boxing.children.get(node, [])
        if step.name is None:
            matching = children
        elif step.is_text:
            matching = [c for c in children if isinstance(c, TextRun)]
        else:
            matching = [c for c in children if _name(c) == step.name]
        if not 1 <= step.index <= len(matching):
            return None
        node = matching[step.index - 1]
    offset = _point_offset(boxing, node, point)
    return None if offset is None else (offset, True)


def _point_offset(boxing: ChapterBoxing, node: VNode, point: int | None) -> int | None:
    if isinstance(node, TextRun):
        return node.start + min(point or 0, node.length)
    if point is None:
        return boxing.start(node)
    children = boxing.children.get(node, [])
    if point < len(children):
        return boxing.start(children[point])
    if not children and isinstance(node, etree._Element) and local_name(node) in OBJECT_ELEMENTS:
        return boxing.start(node)
    return boxing.end(node)
