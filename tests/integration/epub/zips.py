"""Hand-made EPUB zips with the odd structures real books have."""

from __future__ import annotations

import zipfile
from pathlib import Path

CONTAINER = (
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="{}" media-type="application/oebps-package+xml"/></rootfiles></container>'
)


def container(opf_path: str) -> bytes:
    return CONTAINER.format(opf_path).encode()


def opf(manifest: list[tuple[str, str]], spine: list[str | tuple[str, str]], prefix: str = "") -> bytes:
    """An OPF; ``spine`` entries are idrefs or ``(idref, linear)``; ``prefix`` like ``opf:``."""
    p = prefix
    items = "".join(f'<{p}item id="{i}" href="{h}" media-type="application/xhtml+xml"/>' for i, h in manifest)
    refs = "".join(
        f'<{p}itemref idref="{r}"/>'
        if isinstance(r, str)
        else f'<{p}itemref idref="{r[0]}" linear="{r[1]}"/>'
        for r in spine
    )
    xmlns = f'xmlns:{p[:-1]}="http://www.idpf.org/2007/opf"' if p else 'xmlns="http://www.idpf.org/2007/opf"'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{p}package {xmlns} version="2.0">'
        f"<{p}metadata/><{p}manifest>{items}</{p}manifest><{p}spine>{refs}</{p}spine></{p}package>"
    ).encode()


def xhtml(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
        f"<head><title>x</title></head><body>{body}</body></html>"
    ).encode()


def write_zip(path: Path, entries: dict[str, bytes], *, mimetype: bool = True) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if mimetype:
            archive.writestr(zipfile.ZipInfo("mimetype"), b"application/epub+zip")
        for name, data in entries.items():
            archive.writestr(name, data)
    return path
