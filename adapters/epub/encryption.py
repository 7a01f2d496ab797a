"""The one rule for whether an EPUB is DRM-protected, shared by the book reader and the device scan.

``BookArchive.check_not_encrypted`` (converting positions) and ``adapters.kobo.files`` (judging
a whole library's files) must agree: a book the scan calls readable but the reader refuses, or
the other way round, is reported differently depending on which part looked at it. So both ask
the functions here, which look only at member names and at the bytes of ``encryption.xml``;
each caller reads that member its own way, capped at ``MAX_ENCRYPTION_XML_BYTES``.

Whatever cannot be read or understood counts as DRM: calling such a book readable would feed
ciphertext to the chapter parser and produce nonsense positions, while calling it encrypted only
leaves it out of the sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from lxml import etree

from adapters.epub.xml_parsers import safe_xml_parser

RIGHTS_XML = "META-INF/rights.xml"
ENCRYPTION_XML = "META-INF/encryption.xml"
# Far above the encryption.xml of any real book (a DRM book lists each of its files in ~300
# bytes), far below what would hurt to parse; a zip header may lie about the size, so callers
# count the bytes that actually come out of the decompressor.
MAX_ENCRYPTION_XML_BYTES = 4 * 1024 * 1024
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
XMLENC_NS = "http://www.w3.org/2001/04/xmlenc#"

# Font obfuscation (IDPF 2008 and Adobe's variant) only scrambles embedded fonts so they cannot
# be lifted from the book; the text is plain and KOReader reads such books, so they are not DRM.
FONT_OBFUSCATION_ALGORITHMS = frozenset(
    {
        "http://www.idpf.org/2008/embedding",
        "http://ns.adobe.com/pdf/enc#RC",
    }
)
# The font core media types of EPUB 3.3 (TrueType, OpenType, WOFF, WOFF2), the only resources the
# obfuscation algorithms may be applied to.
FONT_SUFFIXES = frozenset({".ttf", ".otf", ".woff", ".woff2"})
# Reasons quote names taken from the book; a hostile one must not make the message a page long.
MAX_QUOTED_CHARS = 120

EncryptedEntry = tuple[str | None, str | None]  # (EncryptionMethod Algorithm, CipherReference URI)


def rights_problem(names: Iterable[str]) -> str | None:
    """Why the zip's member names alone mark the book as DRM-protected, or None.

    ``rights.xml`` holds an Adobe ADEPT licence: the book is encrypted whatever encryption.xml
    says. Names are matched ignoring case, so a stray ``meta-inf/Rights.xml`` still counts.
    """
    wanted = RIGHTS_XML.casefold()
    for name in names:
        if name.casefold() == wanted:
            return f"{_quoted(name)} holds a DRM licence"
    return None


def encryption_member(names: Iterable[str]) -> str | None:
    """The zip's ``META-INF/encryption.xml``, spelled exactly or in any case; None without one.

    Books made on case-insensitive file systems get their member names' case wrong, and reading
    systems still find the file, so a differently spelled one must be judged, not overlooked.
    """
    wanted = ENCRYPTION_XML.casefold()
    folded = None
    for name in names:
        if name == ENCRYPTION_XML:
            return name
        if folded is None and name.casefold() == wanted:
            folded = name
    return folded


def encryption_problem(data: bytes) -> str | None:
    """Why this encryption.xml makes the book unreadable to kksync, or None when it only hides fonts.

    The reason is one line, meant to follow "the book is DRM-protected" in a message.
    """
    parsed = _ocf_root(data)
    if isinstance(parsed, str):
        return parsed
    found = parsed.findall(f".//{{{XMLENC_NS}}}EncryptedData")
    if len(found) != sum(1 for element in parsed.iter() if _local_name(element) == "EncryptedData"):
        # Matched by namespace, not by prefix: an entry in another namespace cannot be judged,
        # and skipping it could skip exactly the encrypted chapter.
        return "encryption.xml has an EncryptedData outside the XML-Encryption namespace"
    for element in found:
        problem = _entry_problem(_entry(element))
        if problem is not None:
            return problem
    return None


def _ocf_root(data: bytes) -> etree._Element | str:
    """The document's OCF ``encryption`` root, or why there is none kksync can trust."""
    if not _ends_with_root_end_tag(data):
        return "encryption.xml is cut off before its closing tag"
    try:
        root = etree.fromstring(data, safe_xml_parser(recover=True))
    except etree.XMLSyntaxError:
        return "encryption.xml cannot be parsed"
    if root is None:
        return "encryption.xml cannot be parsed"
    if root.tag != f"{{{CONTAINER_NS}}}encryption":
        return "encryption.xml is not an OCF encryption document"
    if _declares_entities(root):
        return "encryption.xml declares its own entities"
    return root


def _ends_with_root_end_tag(data: bytes) -> bool:
    """False for a cut-off document: recovery would quietly drop the entries that were lost.

    Recovery is for the small mistakes books make (an HTML entity, a stray ``&``); a file that
    stops early may have lost exactly the entries naming the encrypted chapters.
    """
    return data.rstrip().endswith(b"encryption>")


def _declares_entities(root: etree._Element) -> bool:
    """True when an internal DTD declares entities.

    The parser never expands entities, but a reading system may: an entity could then hold
    an ``EncryptedData`` that this module never sees. No real encryption.xml declares any.
    """
    dtd = root.getroottree().docinfo.internalDTD
    # lxml-stubs does not list DTD.iterentities, which lxml has had since 2.x.
    return dtd is not None and any(True for _ in dtd.iterentities())  # type: ignore[attr-defined]


def _entry(encrypted_data: etree._Element) -> EncryptedEntry:
    method = encrypted_data.find(f"{{{XMLENC_NS}}}EncryptionMethod")
    reference = encrypted_data.find(f"{{{XMLENC_NS}}}CipherData/{{{XMLENC_NS}}}CipherReference")
    algorithm = method.get("Algorithm") if method is not None else None
    uri = reference.get("URI") if reference is not None else None
    return (None if algorithm is None else str(algorithm), None if uri is None else str(uri))


def _entry_problem(entry: EncryptedEntry) -> str | None:
    """Why one encrypted file makes the book unreadable, or None for an obfuscated font.

    Obfuscation is a fixed XOR that KOReader undoes for fonts; EPUB 3.3 allows it on fonts only,
    and kksync reads chapters as they are stored, so an obfuscated chapter is as opaque to it as
    real DRM: the book counts as encrypted.
    """
    algorithm, uri = entry
    if algorithm is None or uri is None:
        return "encryption.xml has an EncryptedData without an algorithm or a URI"
    if algorithm not in FONT_OBFUSCATION_ALGORITHMS:
        return f"{_quoted(uri)} is encrypted with {_quoted(algorithm)}"
    if not _is_font(uri):
        return f"{_quoted(uri)} is obfuscated but is not a font"
    return None


def _is_font(uri: str) -> bool:
    try:
        path = urlsplit(uri).path
    except ValueError:  # e.g. an unclosed "[" read as an IPv6 host: no font anyone can name
        return False
    return PurePosixPath(unquote(path)).suffix.casefold() in FONT_SUFFIXES


def _local_name(element: etree._Element) -> str:
    """The element name without namespace or prefix (a recovered ``enc:X`` keeps its prefix)."""
    tag = element.tag
    if not isinstance(tag, str):  # entity references left unexpanded
        return ""
    return tag.rpartition("}")[2].rpartition(":")[2]


def _quoted(text: str) -> str:
    """``text`` quoted on one line (repr escapes newlines) and cut to a readable length."""
    if len(text) > MAX_QUOTED_CHARS:
        text = text[: MAX_QUOTED_CHARS - 3] + "..."
    return repr(text)
