"""A small corpus of kepubs and plain EPUBs with the structures positions go wrong on.

Images with and without their own koboSpan, floats (block and inline), inline-blocks, loose
text beside blocks, lists (nested, with blocks inside items) and tables (with a block in a
cell), styled by a linked stylesheet, a ``<style>`` element and inline ``style`` attributes.
Every element that is not a koboSpan carries an ``id`` (``e1``, ``e2``…), so the crengine
oracle's answer names the element exactly and the expected koboSpan can be found in the
source without going through kksync's own path code.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from lxml import etree

from adapters.epub.markup import numeric_entities
from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec, build_epub
from entrypoints.demo.sample_books import PIXEL_PNG, sample_book

IMG = "../Images/pixel.png"
STYLESHEET = (
    b".fl { float: left; width: 30%; }\n"
    b".fr { float: right }\n"
    b"/* a comment with { braces } */\n"
    b".ib { display: inline-block }\n"
    b"div.aside { display: block }\n"
    b"span.note { font-style: italic }\n"
)
TRICKY_STYLESHEET = (
    b"div.box > p:first-child { display: inline }\n"
    b".tricky + p { float: right }\n"
    b"@media screen { span.x { display: block } }\n"
)
TRICKY_HEAD = '<link rel="stylesheet" type="text/css" href="../Styles/tricky.css"/>'
TRICKY_CHAPTER = """
<p>Plain opening paragraph. Two sentences.</p>
<div class="box"><p>First in the box.</p>loose text in the box<p>Second in the box.</p></div>
<div class="tricky">Tricky div.</div><p>Maybe floating. Or not.</p>
<div><span class="x">maybe block</span> beside loose text. <p>And a paragraph.</p></div>
<p>Certain closing paragraph.</p>
"""
HEAD = (
    '<link rel="stylesheet" type="text/css" href="../Styles/book.css"/><style>.bl { display: block }</style>'
)


STORE_CHAPTER = """
<div><p>Store chapter opens. <span class="koboSpan" id="kobo.1.1">First sentence here. </span>
<span class="koboSpan" id="kobo.1.2">Second one.</span></p>
<p><span class="koboSpan" id="kobo.2.1">A paragraph before an image.</span></p>
<div><img src="{img}" alt="bare"/></div>
<p><span class="koboSpan" id="kobo.4.1">After the bare image. </span>
<span class="koboSpan" id="kobo.4.2">More text.</span></p>
<div class="fig"><img src="{img}" alt="bare2"/>
<p><span class="koboSpan" id="kobo.5.1">Caption.</span></p></div>
<div><span class="koboSpan" id="kobo.6.1"><img src="{img}" alt="own"/></span></div>
<p><span class="koboSpan" id="kobo.7.1">Text then </span><img src="{img}" alt="inline"/>
<span class="koboSpan" id="kobo.7.2"> text after an inline image.</span></p>
<div><span class="koboSpan" id="kobo.8.1">Loose words </span>
<p><span class="koboSpan" id="kobo.9.1">in a p</span></p>
<span class="koboSpan" id="kobo.9.2">then loose again.</span></div>
</div>
""".replace("{img}", IMG)


def kepubify_chapter(number: int) -> str:
    """Markup that the builder turns into koboSpans the way kepubify does (images get a span)."""
    return f"""
<div>Chapter {number} starts with loose text. <b>Bold loose.</b><p>A first paragraph. It has two.</p>
more loose text between blocks<p>Second paragraph.</p></div>
<h2>Heading {number}</h2>
<div><img src="{IMG}" alt="cover{number}"/></div>
<p>Text <img src="{IMG}" alt="in{number}"/> after the image. And on.</p>
<div class="fl"><p>A floated block.</p></div>
<p>After the float. Still after.</p>
<p>Before <span class="fr">a floated span</span> and after it. <span class="note">note</span> end.</p>
<div><span class="fr">Right float</span> text beside the float.</div>
<p>x <span class="ib">an inline block</span> y. Closing words.</p>
<div style="float: left">Inline-styled float.</div>
<div>Text before <span class="bl">a span made block</span> and after.</div>
<ul><li>One item.<ol><li>Nested item.</li><li>Nested two.</li></ol></li>
<li>Two <p>a block in an item</p> tail text.</li><li>Three.</li></ul>
<table><tr><td>c1</td><td>c2 <p>cell paragraph</p> after</td></tr><tr><td>c3</td><td>c4</td></tr></table>
<section>Section text.<p>Section paragraph.</p>trailing section text</section>
<figure><img src="{IMG}" alt="fig{number}"/><figcaption>A figure caption.</figcaption></figure>
<p>Last paragraph of chapter {number}. The end.</p>
"""


def plain_chapter(number: int, paragraphs: int, heavy: bool) -> str:
    """A plain EPUB chapter; ``heavy`` ones carry lots of markup per character of text."""
    parts = [f"<h1>Chapter {number}</h1>"]
    for k in range(paragraphs):
        if heavy:
            parts.append(
                f'<div class="wrap"><div class="inner"><p class="para x{k}"><span class="a"><span class="b">'
                f"W{k}.</span></span></p></div></div>"
            )
        else:
            sentence = f"Paragraph {k} of chapter {number} has a fair amount of plain text in it. "
            parts.append(f"<p>{sentence * 3}</p>")
    return "".join(parts)


def with_ids(body: str, counter: itertools.count[int]) -> str:
    """Give every element without an id one (``eN``), so oracle answers name it."""
    markup = numeric_entities(f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'.encode())
    root = etree.fromstring(markup)
    for element in root.iter():
        if isinstance(element.tag, str) and element is not root and element.get("id") is None:
            element.set("id", f"e{next(counter)}")
    inner = (root.text or "") + "".join(
        etree.tostring(child, encoding="unicode", with_tail=True) for child in root
    )
    return inner.replace(' xmlns="http://www.w3.org/1999/xhtml"', "")


def kepub_spec() -> BookSpec:
    counter = itertools.count(1)
    chapters = [
        ChapterSpec("Text/store.xhtml", body=with_ids(STORE_CHAPTER, counter), head=HEAD),
        *(
            ChapterSpec(f"Text/ch{n}.xhtml", body=with_ids(kepubify_chapter(n), counter), head=HEAD)
            for n in (1, 2)
        ),
        ChapterSpec("Text/tricky.xhtml", body=with_ids(TRICKY_CHAPTER, counter), head=TRICKY_HEAD),
        *(replace(c, body=with_ids(c.body or "", counter)) for c in sample_book(11, chapters=2).chapters[1:]),
    ]
    return BookSpec(
        "Fidelity Kepub",
        "Corpus",
        chapters,
        resources={
            "Images/pixel.png": PIXEL_PNG,
            "Styles/book.css": STYLESHEET,
            "Styles/tricky.css": TRICKY_STYLESHEET,
        },
    )


def plain_spec() -> BookSpec:
    """Chapters alternating light and markup-heavy, so byte shares differ from text shares."""
    counter = itertools.count(1)
    chapters = [
        ChapterSpec(
            f"Text/content{n:04d}.xhtml",
            body=with_ids(plain_chapter(n, 12 if n % 3 else 40, heavy=n % 3 == 0), counter),
        )
        for n in range(1, 10)
    ]
    return BookSpec("Fidelity Plain", "Corpus", chapters)


def build_corpus(directory: Path) -> tuple[Path, Path]:
    """The kepub and the plain EPUB, written into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    kepub = build_epub(kepub_spec(), directory / "fidelity.kepub.epub", kepub=True)
    plain = build_epub(plain_spec(), directory / "fidelity-plain.epub")
    return kepub, plain
