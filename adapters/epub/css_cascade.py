"""The two CSS properties that decide crengine's wrapper elements: ``display`` and ``float``.

Old-DOM pointers (V1) name the ``autoBoxing`` and ``floatBox`` elements crengine inserts, and
where it inserts them depends on which elements are inline, block or floating. This module
computes those two properties the way crengine's cascade does for one chapter: its default
``epub.css`` (with the rules it keeps for DOM versions before 20180528), then the book's own
stylesheets (``<link>`` and ``<style>`` in document order), then ``style`` attributes, each by
specificity and ``!important``.

Only selectors made of type, class, id and ``*`` parts joined by descendant, child and sibling
combinators are evaluated. A rule setting ``display`` or ``float`` through any other selector
(attributes, pseudo-classes, ``@media``) makes every element it might
match (the selector with those parts relaxed) *doubtful*: its wrappers are not guessed, and
callers fall back to a pointer that does not depend on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree

from adapters.epub.markup import local_name

COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
COMPOUND = re.compile(r"^(?P<type>\*|[A-Za-z][\w-]*)?(?P<rest>(?:[.#][\w-]+)*)$")
ATTRIBUTE = re.compile(r"\[[^\]]*\]")
PSEUDO = re.compile(r"::?[\w-]+(?:\([^)]*\))?")
COMBINATOR = re.compile(r"\s*([>+~])\s*|\s+")
PROPERTIES = ("display", "float")
# crengine's epub.css, the rules that set display for DOM versions before 20180528
OLD_DOM_DEFAULTS = """
img { display: block; }
sup img, sub img, a img, p img { display: inline; }
b, strong, i, em, dfn, var, q, u, del, s, strike, small, big, sub, sup, acronym, tt, samp, kbd, code {
  display: inline; }
form { display: none; }
.title, .title1, .title2, .title3, .title4, .title5, .subtitle, .fb2_info, .code { display: block; }
"""


@dataclass(frozen=True)
class Compound:
    """``p.note#x``: an optional type and the classes and ids it requires."""

    type: str | None
    classes: frozenset[str]
    ids: frozenset[str]

    def matches(self, element: etree._Element) -> bool:
        if self.type is not None and local_name(element) != self.type:
            return False
        classes = set(str(element.get("class", "")).split())
        return self.classes <= classes and (not self.ids or element.get("id") in self.ids)


@dataclass(frozen=True)
class Selector:
    """Compounds from left to right with the combinator before each (``" "``, ``>``, ``+``, ``~``)."""

    compounds: tuple[Compound, ...]
    combinators: tuple[str, ...]

    @property
    def specificity(self) -> tuple[int, int, int]:
        return (
            sum(len(c.ids) for c in self.compounds),
            sum(len(c.classes) for c in self.compounds),
            sum(1 for c in self.compounds if c.type not in (None, "*")),
        )

    def matches(self, element: etree._Element) -> bool:
        return _matches(self.compounds, self.combinators, element)


def _matches(compounds: tuple[Compound, ...], combinators: tuple[str, ...], element: etree._Element) -> bool:
    if not compounds[-1].matches(element):
        return False
    if len(compounds) == 1:
        return True
    parent = element.getparent()
    if combinators[-1] in ("+", "~"):
        previous = [e for e in element.itersiblings(preceding=True) if isinstance(e.tag, str)]
        candidates = previous[:1] if combinators[-1] == "+" else previous
        return any(_matches(compounds[:-1], combinators[:-1], e) for e in candidates)
    if combinators[-1] == ">":
        return parent is not None and _matches(compounds[:-1], combinators[:-1], parent)
    while parent is not None:
        if _matches(compounds[:-1], combinators[:-1], parent):
            return True
        parent = parent.getparent()
    return False


@dataclass(frozen=True)
class Declaration:
    """One ``display``/``float`` value and where it stands in the cascade."""

    name: str
    value: str
    rank: tuple[int, int, tuple[int, int, int], int]


@dataclass
class Rules:
    """Parsed rules: evaluable ones, and the subjects of the ones that cannot be evaluated."""

    rules: list[tuple[Selector, list[tuple[str, str, bool]], int, int]] = field(default_factory=list)
    doubtful: list[Selector] = field(default_factory=list)
    _order: int = 0

    def add_sheet(self, text: str, origin: int) -> None:
        """Add a stylesheet; ``origin`` 0 is crengine's own, 1 the book's."""
        text = COMMENT.sub(" ", text)
        for prelude, block, nested in _blocks(text):
            if nested:
                if prelude.lower().startswith("@media") and _sets_layout(block):
                    self._doubt_all(block)
                continue
            if prelude.startswith("@"):
                continue
            declarations = _declarations(block)
            if not declarations:
                continue
            for raw in prelude.split(","):
                selector, exact = parse_selector(raw)
                self._order += 1
                if exact:
                    self.rules.append((selector, declarations, origin, self._order))
                else:
                    self.doubtful.append(selector)

    def _doubt_all(self, text: str) -> None:
        """Rules inside ``@media``: crengine may or may not apply them, so their subjects are doubtful."""
        inner = Rules()
        inner.add_sheet(text, 1)
        self.doubtful.extend(inner.doubtful)
        self.doubtful.extend(selector for selector, *_ in inner.rules)

    def is_doubtful(self, element: etree._Element) -> bool:
        return any(selector.matches(element) for selector in self.doubtful)


Rule = tuple[Selector, list[tuple[str, str, bool]], int, int]


class SubjectIndex:
    """Rules filed by what their subject requires (an id, a class, a type), so an element is
    only matched against the rules that could apply to it."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._buckets: dict[tuple[str, str], list[Rule]] = {}
        for rule in rules:
            subject = rule[0].compounds[-1]
            if subject.ids:
                key = ("#", min(subject.ids))
            elif subject.classes:
                key = (".", min(subject.classes))
            else:
                key = ("", subject.type or "*")
            self._buckets.setdefault(key, []).append(rule)

    def candidates(self, element: etree._Element) -> list[Rule]:
        keys = [("", "*"), ("", local_name(element)), ("#", str(element.get("id", "")))]
        keys += [(".", name) for name in str(element.get("class", "")).split()]
        found: list[Rule] = []
        for key in keys:
            found += self._buckets.get(key, [])
        return found


def parse_selector(text: str) -> tuple[Selector, bool]:
    """The selector, and whether it is exact.

    Parts kksync does not evaluate are relaxed so that the result matches a superset of what
    crengine would match: attribute selectors and pseudo-classes are dropped from their compound.
    """
    stripped = ATTRIBUTE.sub("", text.strip())
    stripped = PSEUDO.sub("", stripped)
    exact = stripped == text.strip()
    tokens = [t for t in COMBINATOR.split(stripped) if t]
    compounds: list[Compound] = []
    combinators: list[str] = []
    pending = " "
    for token in tokens:
        if token in (">", "+", "~"):
            pending = token
            continue
        compound = _compound(token)
        if compound is None:
            return Selector((ANY,), ()), False
        if compounds:
            combinators.append(pending)
        compounds.append(compound)
        pending = " "
    if not compounds:
        return Selector((ANY,), ()), False
    return Selector(tuple(compounds), tuple(combinators)), exact


def _compound(text: str) -> Compound | None:
    match = COMPOUND.match(text)
    if match is None:
        return None
    rest = re.findall(r"([.#])([\w-]+)", match.group("rest"))
    name = match.group("type")
    return Compound(
        None if name in (None, "*") else name.lower(),
        frozenset(v for k, v in rest if k == "."),
        frozenset(v for k, v in rest if k == "#"),
    )


ANY = Compound(None, frozenset(), frozenset())


def _blocks(text: str) -> Iterable[tuple[str, str, bool]]:
    """Top-level ``prelude { block }`` pairs; ``nested`` when the block holds rules itself."""
    position = 0
    while True:
        opening = text.find("{", position)
        if opening < 0:
            return
        prelude = text[position:opening].strip()
        if ";" in prelude:  # @import/@charset statements before the rule
            prelude = prelude.rsplit(";", 1)[1].strip()
        depth, cursor, nested = 1, opening + 1, False
        while cursor < len(text) and depth:
            if text[cursor] == "{":
                depth += 1
                nested = True
            elif text[cursor] == "}":
                depth -= 1
            cursor += 1
        yield prelude, text[opening + 1 : cursor - 1], nested
        position = cursor


def _declarations(block: str) -> list[tuple[str, str, bool]]:
    found = []
    for item in block.split(";"):
        name, colon, value = item.partition(":")
        name = name.strip().lower()
        if colon and name in PROPERTIES:
            value = value.strip().lower()
            important = value.endswith("!important")
            value = value.removesuffix("!important").strip()
            found.append((name, value, important))
    return found


def _sets_layout(block: str) -> bool:
    return bool(re.search(r"(^|[;{\s])(display|float)\s*:", block, re.IGNORECASE))


def inline_declarations(element: etree._Element) -> list[tuple[str, str, bool]]:
    return _declarations(str(element.get("style", "")))


class ChapterStyles:
    """``display``/``float`` of every element of one chapter, as crengine's cascade gives them."""

    def __init__(self, body: etree._Element, sheets: list[str], *, old_defaults: bool) -> None:
        self.rules = Rules()
        if old_defaults:
            self.rules.add_sheet(OLD_DOM_DEFAULTS, 0)
        for sheet in sheets:
            self.rules.add_sheet(sheet, 1)
        self._cache: dict[etree._Element, dict[str, str]] = {}
        self._index = SubjectIndex(self.rules.rules)
        self._doubtful = SubjectIndex((selector, [], 0, 0) for selector in self.rules.doubtful)
        self.body = body

    def declared(self, element: etree._Element) -> dict[str, str]:
        """The winning declared ``display``/``float`` values (absent when nothing sets them)."""
        cached = self._cache.get(element)
        if cached is not None:
            return cached
        found: dict[str, Declaration] = {}
        for selector, declarations, origin, order in self._index.candidates(element):
            if selector.matches(element):
                for name, value, important in declarations:
                    _keep(
                        found, Declaration(name, value, (int(important), origin, selector.specificity, order))
                    )
        for name, value, important in inline_declarations(element):
            _keep(found, Declaration(name, value, (int(important), 2, (1, 0, 0), 0)))
        result = {name: declaration.value for name, declaration in found.items()}
        self._cache[element] = result
        return result

    def is_doubtful(self, element: etree._Element) -> bool:
        return any(rule[0].matches(element) for rule in self._doubtful.candidates(element))


def _keep(found: dict[str, Declaration], candidate: Declaration) -> None:
    current = found.get(candidate.name)
    if current is None or candidate.rank >= current.rank:
        found[candidate.name] = candidate


SheetLoader = Callable[[str], str | None]


def chapter_sheets(body: etree._Element, load: SheetLoader) -> list[str]:
    """The chapter's ``<link rel=stylesheet>`` and ``<style>`` texts, in document order."""
    root = body.getroottree().getroot()
    sheets = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element is body:
            continue
        name = local_name(element)
        if name == "style":
            sheets.append("".join(str(text) for text in element.itertext()))
        elif name == "link" and "stylesheet" in str(element.get("rel", "")).lower():
            text = load(str(element.get("href", "")))
            if text is not None:
                sheets.append(text)
    return sheets
