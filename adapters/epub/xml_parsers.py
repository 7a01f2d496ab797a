"""The one way kksync builds lxml parsers for what is inside a book: never DTDs, entities or URLs.

A book file is data from elsewhere; every XML it holds (container, OPF, encryption.xml, chapters)
is parsed without loading DTDs, expanding entities or touching the network, so no file can make
kksync read other files, fetch anything or blow up memory with entity expansion.
"""

from __future__ import annotations

from lxml import etree


def safe_xml_parser(*, recover: bool = False) -> etree.XMLParser:
    """A parser that never loads DTDs, expands entities or touches the network.

    ``recover`` tolerates the small mistakes real books make (an HTML entity, a stray ``&``).
    """
    return etree.XMLParser(
        recover=recover,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
