"""Position fidelity judged by KOReader's own engine: ``python -m tests.fidelity.measure``.

For every engine (DOM 20171225 with legacy and with web block rendering, 20240114, 20260812)
it builds the corpus (``tests.fidelity.corpus``) and counts, per class of position:

- ``pull span``: kksync's pointer for each koboSpan resolves in crengine to that span's element
  (``exact``), or, with V1 pointers, to an element enclosing it (``enclosing``);
- ``push span start`` / ``push image top`` / ``push page top`` / ``push scroll top``: the
  pointer KOReader would store (the oracle's own) maps in kksync to the koboSpan containing the
  point, or the one before it when the point is in no span (found in the source by element id,
  independently of kksync's path code);
- ``pull plain EPUB``: Nickel's ``<chapter>#point(…)`` bookmark pulled into KOReader opens the
  chapter Nickel names, and the report shows that chapter.

Prints one table; exits 1 when the oracle is absent.
"""

from __future__ import annotations

import inspect
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from adapters.epub import EpubContent
from adapters.epub.document import EpubDocument
from adapters.epub.markup import local_name, parse_body
from adapters.kobo.bookmark import split_bookmark
from application.positions import BookFile, kobo_position
from application.records import BookKind, BookSource, CreDom, FileState, KoboBook
from application.transfers import pull_write
from tests.fidelity.corpus import build_corpus
from tests.fidelity.oracle import ENGINES, Engine, Oracle, oracle_dir

PERCENT_STEPS = [p / 2 for p in range(0, 201, 3)]
CLASSES = (
    "pull span",
    "pull span: KOReader's spelling",
    "push span start",
    "push image top",
    "push page top",
    "push scroll top",
    "pull plain EPUB: opens chapter",
    "pull plain EPUB: + report chapter",
    "pull plain EPUB: + element at point",
)


@dataclass
class Tally:
    """Hits, near-hits and misses of one class on one engine, with a few misses to show."""

    exact: int = 0
    enclosing: int = 0
    missed: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, outcome: str, example: str = "") -> None:
        if outcome == "exact":
            self.exact += 1
        elif outcome == "enclosing":
            self.enclosing += 1
        else:
            self.missed += 1
            if len(self.examples) < 3:
                self.examples.append(example)

    @property
    def total(self) -> int:
        return self.exact + self.enclosing + self.missed

    def ratio(self) -> str:
        if not self.total:
            return "-"
        text = f"{self.exact}/{self.total} = {100 * self.exact / self.total:5.1f}%"
        return text + (f" (+{self.enclosing} enclosing)" if self.enclosing else "")


def with_dom(method: Callable[..., Any], *args: Any, dom: CreDom) -> Any:
    """Call a document method with ``dom=`` when it takes one (it did not before issue 14)."""
    if "dom" in inspect.signature(method).parameters:
        return method(*args, dom=dom)
    return method(*args)


def engine_dom(engine: Engine) -> CreDom:
    return CreDom(engine.dom_version, engine.block_rendering_mode)


class SourceBook:
    """The book's chapters parsed straight from the zip: elements by id, koboSpans in order."""

    def __init__(self, path: Path, spine: list[str]) -> None:
        with zipfile.ZipFile(path) as archive:
            self.bodies = [parse_body(archive.read(name)) for name in spine]
        self.by_id = [
            {e.get("id"): e for e in body.iter() if isinstance(e.tag, str) and e.get("id")}
            for body in self.bodies
        ]
        self.order = [[e for e in body.iter() if isinstance(e.tag, str)] for body in self.bodies]

    def expected_span(self, fragment: int, answer: dict[str, Any]) -> str | None:
        """The koboSpan containing the oracle's point, else the one before it."""
        index = fragment - 1
        element = self.by_id[index].get(answer.get("element_id") or "")
        if element is None:
            element = self.bodies[index]
        for ancestor in (element, *element.iterancestors()):
            if _is_span(ancestor):
                return str(ancestor.get("id"))
        order = self.order[index]
        if not answer.get("node_is_text"):
            inside = [e for e in element.iter() if _is_span(e)]
            if inside and not _content_before(element, inside[0]):
                return str(inside[0].get("id"))
            before = order[: order.index(element)]
        else:
            before = self._before_text(element, str(answer.get("text_after") or ""))
        spans = [e for e in before if _is_span(e)]
        if spans:
            return str(spans[-1].get("id"))
        first = [e for e in order if _is_span(e)]
        return str(first[0].get("id")) if first else None

    def _before_text(self, element: etree._Element, text_after: str) -> list[etree._Element]:
        """Elements before a loose text node of ``element`` that starts with ``text_after``."""
        order = [e for e in self.order[self._fragment_of(element)]]
        before = order[: order.index(element) + 1]
        probe = " ".join(text_after.split())[:12]
        if probe and probe in " ".join((element.text or "").split()):
            return before[:-1]
        for child in element:
            if probe and probe in " ".join((child.tail or "").split()):
                before += [e for e in child.iter() if isinstance(e.tag, str)]
                break
            before += [e for e in child.iter() if isinstance(e.tag, str)]
        return before

    def _fragment_of(self, element: etree._Element) -> int:
        root = element.getroottree().getroot()
        return next(i for i, body in enumerate(self.bodies) if body.getroottree().getroot() is root)


def _is_span(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and str(element.get("id", "")).startswith("kobo.")


def _content_before(element: etree._Element, span: etree._Element) -> bool:
    """Whether text or an image comes before ``span`` inside ``element``."""
    for kind, node, text in _events(element):
        if node is span:
            return False
        if kind == "start" and local_name(node) in ("img", "image"):
            return True
        if kind == "text" and text.strip():
            return True
    return False


def _events(element: etree._Element) -> list[tuple[str, etree._Element, str]]:
    """Document order inside ``element``: element starts and text pieces."""
    events: list[tuple[str, etree._Element, str]] = [("start", element, "")]
    events.append(("text", element, element.text or ""))
    for child in element:
        if isinstance(child.tag, str):
            events += _events(child)
        events.append(("text", element, child.tail or ""))
    return events


def measure_kepub(oracle: Oracle, engine: Engine, book: Path, tallies: dict[str, Tally]) -> None:
    document = EpubContent().open(book)
    dom = engine_dom(engine)
    source = SourceBook(book, [item.zip_path for item in document.spine])
    ids = oracle.ids(engine, book)
    span_ids = [(r["fragment"], r["id"]) for r in ids if str(r["id"]).startswith("kobo.")]
    spelled = {(r["fragment"], r["id"]): str(r["element_xpointer"]) for r in ids}
    _pulls(oracle, engine, book, document, dom, source, span_ids, tallies)
    for fragment, span in span_ids:
        zip_path = document.spine[fragment - 1].zip_path
        pointer = with_dom(document.span_xpointer, zip_path, span, dom=dom)
        outcome = "exact" if pointer == spelled[(fragment, span)] else "missed"
        tallies["pull span: KOReader's spelling"].add(
            outcome, f"{span}: {pointer} vs {spelled[(fragment, span)]}"
        )
    starts = []
    images = []
    for record in ids:
        fragment, name = record["fragment"], str(record["id"])
        if name.startswith("kobo."):
            starts += [(fragment, name, record["element_xpointer"])]
            if record.get("text_xpointer"):
                starts += [(fragment, name, record["text_xpointer"])]
        elif record["element"] == "img":
            expected = source.expected_span(fragment, {"element_id": name, "node_is_text": False})
            pointer = record["element_xpointer"]
            images += [(fragment, expected, pointer), (fragment, expected, pointer + ".0")]
    for fragment, expected, xpointer in starts:
        _judge_push(document, dom, xpointer, fragment, expected, tallies["push span start"])
    for fragment, expected, xpointer in images:
        _judge_push(document, dom, xpointer, fragment, expected, tallies["push image top"])
    for scroll, name in ((False, "push page top"), (True, "push scroll top")):
        answers = oracle.batch(
            engine, book, [f"xpointer-at-percent {p}" for p in PERCENT_STEPS], scroll=scroll
        )
        seen: set[str] = set()
        for answer in answers:
            xpointer = answer.get("xpointer")
            if not xpointer or xpointer in seen:
                continue
            seen.add(xpointer)
            expected = source.expected_span(answer["fragment"], answer)
            _judge_push(document, dom, xpointer, answer["fragment"], expected, tallies[name])


def _pulls(
    oracle: Oracle,
    engine: Engine,
    book: Path,
    document: EpubDocument,
    dom: CreDom,
    source: SourceBook,
    span_ids: list[tuple[int, str]],
    tallies: dict[str, Tally],
) -> None:
    tally = tallies["pull span"]
    pointers = []
    for fragment, span in span_ids:
        zip_path = document.spine[fragment - 1].zip_path
        pointers.append(with_dom(document.span_xpointer, zip_path, span, dom=dom))
    answers = oracle.batch(engine, book, [f"resolve {p}" for p in pointers])
    for (fragment, span), pointer, answer in zip(span_ids, pointers, answers, strict=True):
        if not answer.get("resolves") or answer.get("fragment") != fragment:
            tally.add("missed", f"{span}: {pointer} does not resolve")
            continue
        if answer.get("element_id") == span:
            tally.add("exact")
            continue
        element = source.by_id[fragment - 1].get(answer.get("element_id") or "")
        if answer.get("element") == "body" and not answer.get("element_id"):
            element = source.bodies[fragment - 1]
        target = source.by_id[fragment - 1][span]
        if element is not None and element in target.iterancestors():
            tally.add("enclosing")
        else:
            tally.add("missed", f"{span}: {pointer} -> {answer.get('element_id')}")


def _judge_push(
    document: EpubDocument, dom: CreDom, xpointer: str, fragment: int, expected: str | None, tally: Tally
) -> None:
    target = with_dom(document.locate, xpointer, dom=dom)
    got = None if target is None or not target.resolved else target.span
    if target is not None and target.spine_index == fragment - 1 and got == expected:
        tally.add("exact")
    elif (
        target is not None and getattr(target, "note", None) and _not_after(document, fragment, got, expected)
    ):
        tally.add("enclosing")
    else:
        tally.add("missed", f"{xpointer}: expected {expected}, got {got}")


def _not_after(document: EpubDocument, fragment: int, got: str | None, expected: str | None) -> bool:
    """Whether span ``got`` starts at or before span ``expected`` (an enclosing fallback's promise)."""
    zip_path = document.spine[fragment - 1].zip_path
    if got is None or expected is None:
        return False
    start, end = document.span_fraction(zip_path, got), document.span_fraction(zip_path, expected)
    return start is not None and end is not None and start <= end


# plain EPUB -------------------------------------------------------------------------------------


def _text(element: etree._Element) -> str:
    """The text inside ``element``: lxml yields ``str`` pieces for parsed markup (its stubs allow bytes)."""
    return "".join(str(piece) for piece in element.itertext())


def plain_cases(book: Path) -> list[tuple[str, int, float, str]]:
    """Nickel-style bookmarks ``<chapter>#point(/1/4/2k/1:0)`` and the book percent Nickel shows.

    The percent is the share of the book's text before the point (Adobe counts its own pages,
    which follow text, not bytes), so it disagrees with a byte-based chapter map.
    """
    document = EpubContent().open(book)
    with zipfile.ZipFile(book) as archive:
        bodies = [parse_body(archive.read(item.zip_path)) for item in document.spine]
    lengths = [len(_text(body)) for body in bodies]
    total = sum(lengths)
    cases = []
    for index, (item, body) in enumerate(zip(document.spine, bodies, strict=True)):
        blocks = [child for child in body if isinstance(child.tag, str)]
        for k in (1, len(blocks) // 2 + 1, len(blocks)):
            before = sum(lengths[:index]) + sum(len(_text(b)) for b in blocks[: k - 1])
            bookmark = f"{item.zip_path}#point(/1/4/{2 * k}/1:0)"
            cases.append((bookmark, index, before / total, str(blocks[k - 1].get("id"))))
    return cases


def measure_plain(oracle: Oracle, engine: Engine, book: Path, tallies: dict[str, Tally]) -> None:
    document = EpubContent().open(book)
    cases = plain_cases(book)
    pointers = []
    chapters = []
    for bookmark, _, percent, _ in cases:
        kobo = KoboBook(
            book_id="plain",
            title="Plain",
            author=None,
            series=None,
            source=BookSource.SIDELOADED,
            kind=BookKind.EPUB,
            device_path=str(book),
            file_path=book,
            file_state=FileState.READABLE,
            read_status=1,
            percent_read=round(percent * 100),
            date_last_read=datetime(2026, 11, 30, tzinfo=UTC),
            bookmark=split_bookmark(bookmark),
        )
        file = BookFile(kobo, lambda _: document)
        if hasattr(file, "dom"):
            file.dom = engine_dom(engine)
        position = kobo_position(kobo, file)
        chapters.append(position.locator.chapter_href if position.locator else None)
        write, _ = pull_write(position, file, datetime(2026, 12, 1, tzinfo=UTC))
        pointers.append(write.last_xpointer or "")
    answers = oracle.batch(engine, book, [f"resolve {p}" for p in pointers])
    for case, pointer, chapter, answer in zip(cases, pointers, chapters, answers, strict=True):
        bookmark, index, _, element_id = case
        named = document.spine[index].zip_path
        opens = bool(answer.get("resolves")) and answer.get("fragment") == index + 1
        example = f"{bookmark}: wrote {pointer} (fragment {answer.get('fragment')}), report chapter {chapter}"
        tallies["pull plain EPUB: opens chapter"].add("exact" if opens else "missed", example)
        reported = opens and chapter == named
        tallies["pull plain EPUB: + report chapter"].add("exact" if reported else "missed", example)
        at_point = reported and answer.get("element_id") == element_id
        tallies["pull plain EPUB: + element at point"].add("exact" if at_point else "missed", example)


def measure(directory: Path, oracle: Oracle) -> dict[str, dict[str, Tally]]:
    kepub, plain = build_corpus(directory)
    results: dict[str, dict[str, Tally]] = {}
    for engine in ENGINES:
        tallies = {name: Tally() for name in CLASSES}
        measure_kepub(oracle, engine, kepub, tallies)
        measure_plain(oracle, engine, plain, tallies)
        results[engine.name] = tallies
    return results


def table(results: dict[str, dict[str, Tally]]) -> str:
    engines = list(results)
    width = 34
    lines = ["| class | " + " | ".join(engines) + " |", "|---" * (len(engines) + 1) + "|"]
    for name in CLASSES:
        cells = [results[e][name].ratio().ljust(width) for e in engines]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    directory = oracle_dir()
    if directory is None:
        print("crengine oracle not found (set KKSYNC_CRE_ORACLE_DIR or put it in shared/tools/crengine)")
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        results = measure(Path(scratch), Oracle(directory))
    print(table(results))
    if "-v" in argv:
        for engine, tallies in results.items():
            for name, tally in tallies.items():
                for example in tally.examples:
                    print(f"  {engine} / {name}: {example}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
