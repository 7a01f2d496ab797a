"""Made-up books with the structures real chapters have, generated from a seed.

The demo device, the end-to-end tests and the benchmark need many books whose chapters look
like real ones to a span numberer and an xpointer resolver: text before the first block,
headings, multi-sentence paragraphs with inline markup and entities, nested lists, tables and
images. The same seed always gives the same book, so the same kepub bytes and span ids.
"""

from __future__ import annotations

import random
from html import escape

from entrypoints.demo.kepub_builder import BookSpec, ChapterSpec

WORDS = (
    "river", "lantern", "quiet", "harbour", "morning", "letter", "window", "garden", "silver", "thunder",
    "meadow", "compass", "paper", "engine", "winter", "orchard", "candle", "mirror", "island", "station",
)  # fmt: skip
# A 1x1 transparent PNG: enough for a manifest item that an <img> can point at.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
    "0001e221bc330000000049454e44ae426082"
)
IMAGE_NAME = "Images/pixel.png"


def sample_book(
    seed: int, *, chapters: int = 4, title: str | None = None, opf_dir: str = "OEBPS"
) -> BookSpec:
    """A book of ``chapters`` text chapters after a non-linear cover page."""
    rng = random.Random(seed)
    name = title or f"Sample Book {seed}"
    cover = ChapterSpec(
        "Text/cover.xhtml", body=f'<div><img src="../{IMAGE_NAME}" alt="cover"/></div>', linear=False
    )
    texts = [
        ChapterSpec(f"Text/chapter{n:02d}.xhtml", body=_chapter_body(rng, n), title=f"Chapter {n}")
        for n in range(1, chapters + 1)
    ]
    return BookSpec(
        title=name,
        author="A. Sample",
        chapters=[cover, *texts],
        opf_dir=opf_dir,
        resources={IMAGE_NAME: PIXEL_PNG},
    )


def _chapter_body(rng: random.Random, number: int) -> str:
    parts = [
        f"<div>Chapter {number} opens with loose text. {_sentence(rng)}</div>",
        f"<h2>Chapter {number}</h2>",
    ]
    builders = (_paragraph, _paragraph, _paragraph, _inline_paragraph, _list, _table, _figure)
    blocks = [_paragraph, _inline_paragraph, _list, _table, _figure]  # every structure at least once
    blocks += [rng.choice(builders) for _ in range(rng.randint(2, 10))]
    rng.shuffle(blocks)
    parts.extend(block(rng) for block in blocks)
    return "\n".join(parts)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(3, 12))]
    return " ".join(words).capitalize() + rng.choice([".", ".", "!", "?"])


def _paragraph(rng: random.Random) -> str:
    return "<p>" + " ".join(escape(_sentence(rng)) for _ in range(rng.randint(1, 5))) + "</p>"


def _inline_paragraph(rng: random.Random) -> str:
    return (
        f"<p>{_sentence(rng)} <em>{_sentence(rng)}</em>&nbsp;and <b>{rng.choice(WORDS)}</b>"
        f" &amp; {_sentence(rng)}</p>"
    )


def _list(rng: random.Random) -> str:
    items = [f"<li>{_sentence(rng)}</li>" for _ in range(rng.randint(2, 4))]
    nested = "".join(f"<li>{_sentence(rng)}</li>" for _ in range(rng.randint(1, 3)))
    items.insert(rng.randint(0, len(items)), f"<li>{rng.choice(WORDS)}<ol>{nested}</ol></li>")
    return "<ul>" + "".join(items) + "</ul>"


def _table(rng: random.Random) -> str:
    rows = "".join(
        "<tr>" + "".join(f"<td>{rng.choice(WORDS)}</td>" for _ in range(3)) + "</tr>"
        for _ in range(rng.randint(1, 3))
    )
    return f"<table>{rows}</table>"


def _figure(rng: random.Random) -> str:
    return f'<p><img src="../{IMAGE_NAME}" alt="figure"/> {_sentence(rng)}</p>'
