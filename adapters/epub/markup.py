"""XHTML chapter bytes -> the ``<body>`` element, tolerating what real books contain.

Well-formed XHTML is parsed as XML (namespaces, ``<?xml`` declarations and BOMs are handled by
libxml2). HTML named entities such as ``&nbsp;`` are legal only with the XHTML DTD, which is
never loaded (no network, no external entities), so they are rewritten to numeric references
first. Markup that is still not well-formed XML is parsed with libxml2's HTML parser, whose
recovery (auto-closing ``<p>``, void ``<br>``) is the closest to what a reading system renders.
"""

from __future__ import annotations

import codecs
import html.entities
import re

from lxml import etree
from lxml import html as lxml_html

from adapters.epub.xml_parsers import safe_xml_parser

XML_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})
NAMED_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")


def local_name(element: etree._Element) -> str:
    """The element's name as crengine sees XHTML: no namespace, lower case."""
    return etree.QName(element).localname.lower()


def parse_body(data: bytes) -> etree._Element:
    """The chapter's ``<body>`` (or its root element when the file has no body at all)."""
    data = numeric_entities(data)
    try:
        root = etree.fromstring(data, safe_xml_parser())
    except (etree.XMLSyntaxError, ValueError):
        root = _parse_as_html(data)
    return _body_of(root)


def numeric_entities(data: bytes) -> bytes:
    """Rewrite HTML named entities (``&nbsp;``) as numeric references XML understands."""

    def replace(match: re.Match[bytes]) -> bytes:
        name = match.group(1).decode("ascii")
        if name in XML_PREDEFINED:
            return match.group(0)
        text = html.entities.html5.get(name + ";")
        if text is None:
            return match.group(0)
        return "".join(f"&#{ord(char)};" for char in text).encode("ascii")

    return NAMED_ENTITY.sub(replace, data)


def _parse_as_html(data: bytes) -> etree._Element:
    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, recover=True)
    text = XML_DECLARATION.sub("", _decode(data), count=1)
    try:
        return lxml_html.document_fromstring(text, parser=parser)
    except etree.ParserError:  # nothing but whitespace or control characters
        return lxml_html.document_fromstring("<html><body></body></html>", parser=parser)


def _decode(data: bytes) -> str:
    """Text of a chapter: BOM first, then the XML declaration, then UTF-8 (replacing bad bytes)."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    declared = DECLARED_ENCODING.match(data)
    if declared is not None:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return data.decode("utf-8", errors="replace")


def _body_of(root: etree._Element) -> etree._Element:
    for element in root.iter():
        if isinstance(element.tag, str) and local_name(element) == "body":
            return element
    return root
