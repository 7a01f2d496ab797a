"""The EPUB package: ``container.xml`` -> OPF -> manifest + spine, named as Nickel and KOReader name it.

Nickel stores a chapter as its zip-root path (``OEBPS/Text/ch1.xhtml``: OPF folder + href,
URL-decoded, ``../`` resolved); KOReader numbers ``DocFragment``s by the position of each spine
itemref whose idref is in the manifest (kobo.md §2.2, §4.1; koreader.md §6.2). Both are derived
here once per book, without parsing any chapter.
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from adapters.epub.archive import BookArchive
from adapters.epub.xml_parsers import safe_xml_parser
from application.errors import BookContentError
from application.records import SpineItem

log = logging.getLogger(__name__)

CONTAINER_XML = "META-INF/container.xml"


@dataclass(frozen=True)
class Package:
    """What the OPF says about reading order."""

    opf_path: str
    spine: tuple[SpineItem, ...]
    fragment_count: int
    """DocFragments crengine makes: the spine items plus placeholders for unusable ones."""


def read_package(archive: BookArchive) -> Package:
    """The spine of the book in this archive; ``BookContentError`` when there is no usable OPF."""
    opf_path = _opf_path(archive)
    root = _parse(archive, opf_path)
    opf_dir = posixpath.dirname(opf_path)
    manifest = _manifest(root, opf_dir)
    xhtml = _xhtml_items(root)
    spine: list[SpineItem] = []
    fragment = legacy = 0
    for idref, linear in _itemrefs(root):
        candidates = manifest.get(idref)
        if candidates is None:
            log.debug("%s: itemref %r has no manifest entry, skipped", archive.path.name, idref)
            continue
        fragment += 1  # crengine (DOM >= 20240114) numbers every item in the manifest, even unusable ones
        if not candidates:
            log.debug("%s: itemref %r points outside the book, numbered only", archive.path.name, idref)
            continue
        found = next((found for c in candidates if (found := archive.find(c))), None)
        zip_path = found or candidates[0]
        legacy_fragment = None
        if idref in xhtml and found is not None:  # older DOMs number only the XHTML items they load
            legacy += 1
            legacy_fragment = legacy
        spine.append(SpineItem(zip_path, fragment, archive.size(zip_path), linear, legacy_fragment))
    if not spine:
        raise BookContentError(f"{archive.path.name}: the OPF {opf_path!r} has an empty spine")
    return Package(opf_path, tuple(spine), fragment)


def resolve_href(base_dir: str, href: str, *, decode: bool = True) -> str | None:
    """A manifest href as a zip-root path: fragment dropped, URL-decoded, ``../`` resolved.

    Returns None for hrefs that leave the zip (absolute URLs, too many ``../``).
    """
    path = href.split("#", 1)[0].strip()
    path = unquote(path) if decode else path
    if not path or "://" in path or path.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, path))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def _opf_path(archive: BookArchive) -> str:
    """The OPF named by container.xml; without a usable one, the shallowest ``.opf`` in the zip."""
    container = archive.find(CONTAINER_XML)
    if container is not None:
        for full_path in _rootfiles(archive, container):
            found = archive.find(unquote(full_path).lstrip("/"))
            if found is not None:
                return found
        log.info("%s: container.xml names no OPF in the zip; searching for one", archive.path.name)
    candidates = sorted(
        (n for n in archive.names if n.lower().endswith(".opf")), key=lambda n: (n.count("/"), n)
    )
    if not candidates:
        raise BookContentError(f"{archive.path.name}: no OPF package document in the EPUB")
    return candidates[0]


def _rootfiles(archive: BookArchive, container: str) -> list[str]:
    try:
        root = etree.fromstring(archive.read(container), safe_xml_parser())
    except etree.XMLSyntaxError:
        log.info("%s: container.xml is not well-formed", archive.path.name)
        return []
    paths = []
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "rootfile":
            media_type = element.get("media-type", "application/oebps-package+xml")
            full_path = element.get("full-path")
            if full_path and "oebps-package" in media_type:
                paths.append(full_path)
    return paths


def _parse(archive: BookArchive, name: str) -> etree._Element:
    data = archive.read(name)
    try:
        root = etree.fromstring(data, safe_xml_parser(recover=True))
    except etree.XMLSyntaxError as error:
        raise BookContentError(f"{archive.path.name}: the OPF {name!r} cannot be parsed ({error})") from None
    if root is None:
        raise BookContentError(f"{archive.path.name}: the OPF {name!r} is empty or not XML")
    return root


def _children(root: etree._Element, name: str) -> list[etree._Element]:
    """Elements with this local name anywhere below root (OPF 2 often prefixes them with ``opf:``)."""
    return [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == name]


def _manifest(root: etree._Element, opf_dir: str) -> dict[str, list[str]]:
    """Manifest id -> zip paths to try: URL-decoded first, then as written.

    A few tools store percent signs literally in entry names; trying the raw href as well
    finds those files without guessing further. An href that leaves the zip (a URL, too many
    ``../``) maps to no path, but its id is kept: it still takes a DocFragment number.
    """
    manifest: dict[str, list[str]] = {}
    for item in _children(root, "item"):
        item_id, href = item.get("id"), item.get("href")
        if item_id is None or href is None or item_id in manifest:
            continue
        candidates = [p for d in (True, False) if (p := resolve_href(opf_dir, href, decode=d)) is not None]
        manifest[item_id] = list(dict.fromkeys(candidates))
    return manifest


def _xhtml_items(root: etree._Element) -> set[str]:
    """Manifest ids whose media-type is XHTML: the only spine items crengine loads below DOM 20240114."""
    return {
        str(item.get("id"))
        for item in _children(root, "item")
        if str(item.get("media-type", "")).strip().lower() == "application/xhtml+xml"
    }


def _itemrefs(root: etree._Element) -> list[tuple[str, bool]]:
    spines = _children(root, "spine")
    if not spines:
        return []
    refs = []
    for itemref in spines[0]:
        if isinstance(itemref.tag, str) and etree.QName(itemref).localname == "itemref":
            idref = itemref.get("idref")
            if idref:
                refs.append((idref, itemref.get("linear", "yes").strip().lower() != "no"))
    return refs
