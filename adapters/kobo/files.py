"""Whether KOReader (and kksync) could read a book file, judged cheaply for a whole library.

Only the zip's central directory is read, never the chapters: enough to tell a usable EPUB from
a truncated download or an Adobe/Kobo DRM container, and fast on a USB-mounted device. The one
member read is ``META-INF/encryption.xml`` when a book has it, because most books that carry one
only obfuscate their embedded fonts, which KOReader undoes by itself.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from lxml import etree

from adapters.epub.archive import FONT_OBFUSCATION_ALGORITHMS
from application.records import BookKind, FileState

logger = logging.getLogger(__name__)

RIGHTS_XML = "META-INF/rights.xml"
ENCRYPTION_XML = "META-INF/encryption.xml"
PDF_MAGIC = b"%PDF"
# Far above the encryption.xml of any real book (a DRM book lists each of its files in ~300
# bytes), far below what would hurt to parse; a zip header may lie about the size, so the cap
# counts the bytes that actually come out of the decompressor.
MAX_ENCRYPTION_XML_BYTES = 4 * 1024 * 1024
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
XMLENC_NS = "http://www.w3.org/2001/04/xmlenc#"
# The font core media types of EPUB 3.3 (TrueType, OpenType, WOFF, WOFF2), the only resources the
# obfuscation algorithms may be applied to.
FONT_SUFFIXES = frozenset({".ttf", ".otf", ".woff", ".woff2"})

# What reading a damaged (or password-protected) zip member may raise.
MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)

EncryptedEntry = tuple[str | None, str | None]  # (EncryptionMethod Algorithm, CipherReference URI)


def file_state(path: Path, kind: BookKind, *, has_content_keys: bool = False) -> FileState:
    """The state of a book file; ``has_content_keys`` means Nickel holds store DRM keys for it."""
    if not path.is_file():
        return FileState.MISSING
    if kind is BookKind.PDF:
        return _pdf_state(path)
    if kind in (BookKind.KEPUB, BookKind.EPUB):
        return FileState.ENCRYPTED if has_content_keys else _epub_state(path)
    return FileState.READABLE


def _pdf_state(path: Path) -> FileState:
    try:
        with path.open("rb") as stream:
            head = stream.read(len(PDF_MAGIC))
    except OSError as error:
        logger.debug("cannot read %s: %s", path, error)
        return FileState.UNREADABLE
    return FileState.READABLE if head == PDF_MAGIC else FileState.UNREADABLE


def _epub_state(path: Path) -> FileState:
    try:
        with zipfile.ZipFile(path) as archive:
            return _drm_state(path, archive)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        logger.debug("not a readable zip %s: %s", path, error)
        return FileState.UNREADABLE


def _drm_state(path: Path, archive: zipfile.ZipFile) -> FileState:
    """ENCRYPTED for Adobe-style DRM (``rights.xml``) or any encryption beyond font obfuscation.

    Member names are matched ignoring case: a stray ``meta-inf/rights.xml`` still means DRM.
    """
    names = {name.casefold(): name for name in archive.namelist()}
    if RIGHTS_XML.casefold() in names:
        return FileState.ENCRYPTED
    encryption = names.get(ENCRYPTION_XML.casefold())
    if encryption is None:
        return FileState.READABLE
    problem = _encryption_problem(archive, encryption)
    if problem is not None:
        logger.debug("%s: %s; taken as DRM", path, problem)
        return FileState.ENCRYPTED
    logger.debug("%s: encryption.xml only obfuscates fonts; readable", path)
    return FileState.READABLE


def _encryption_problem(archive: zipfile.ZipFile, name: str) -> str | None:
    """Why encryption.xml makes the book unreadable to kksync, or None when it only hides fonts.

    Whatever cannot be read or understood counts as DRM: calling such a book readable would feed
    ciphertext to the chapter parser and produce nonsense positions, while calling it encrypted
    only leaves it out of the sync.
    """
    try:
        data = _read_capped(archive, name, MAX_ENCRYPTION_XML_BYTES)
    except MEMBER_ERRORS as error:
        return f"cannot read {name} ({error!r})"
    if data is None:
        return f"{name} is larger than {MAX_ENCRYPTION_XML_BYTES} bytes"
    entries = _encrypted_entries(data)
    if entries is None:
        return f"{name} is not an OCF encryption document"
    for entry in entries:
        problem = _entry_problem(entry)
        if problem is not None:
            return problem
    return None


def _read_capped(archive: zipfile.ZipFile, name: str, cap: int) -> bytes | None:
    """The member's bytes, or None when it inflates past ``cap``."""
    with archive.open(name) as stream:
        data = stream.read(cap + 1)
    return data if len(data) <= cap else None


def _encrypted_entries(data: bytes) -> list[EncryptedEntry] | None:
    """(algorithm, URI) of every ``EncryptedData``; None when the document is beyond recovery.

    The parser recovers from the small mistakes real books make, and never loads DTDs, entities
    or anything from the network. Elements are matched by namespace, not by prefix; an
    ``EncryptedData`` outside the XML-Encryption namespace cannot be judged, so the document is
    refused rather than that entry being skipped.
    """
    if not _ends_with_root_end_tag(data):
        return None
    try:
        root = etree.fromstring(data, _recovering_parser())
    except etree.XMLSyntaxError:
        return None
    if root is None or root.tag != f"{{{CONTAINER_NS}}}encryption":
        return None
    found = root.findall(f".//{{{XMLENC_NS}}}EncryptedData")
    if len(found) != sum(1 for element in root.iter() if _local_name(element) == "EncryptedData"):
        return None
    return [_entry(element) for element in found]


def _ends_with_root_end_tag(data: bytes) -> bool:
    """False for a cut-off document: recovery would quietly drop the entries that were lost.

    Recovery is for the small mistakes books make (an HTML entity, a stray ``&``); a file that
    stops early may have lost exactly the entries naming the encrypted chapters.
    """
    return data.rstrip().endswith(b"encryption>")


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
        return "an EncryptedData entry without an algorithm or a URI"
    if algorithm not in FONT_OBFUSCATION_ALGORITHMS:
        return f"{uri} is encrypted with {algorithm}"
    if not _is_font(uri):
        return f"{uri} is obfuscated but is not a font"
    return None


def _is_font(uri: str) -> bool:
    return PurePosixPath(unquote(urlsplit(uri).path)).suffix.casefold() in FONT_SUFFIXES


def _local_name(element: etree._Element) -> str:
    """The element name without namespace or prefix (a recovered ``enc:X`` keeps its prefix)."""
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rpartition("}")[2].rpartition(":")[2]


def _recovering_parser() -> etree.XMLParser:
    return etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
