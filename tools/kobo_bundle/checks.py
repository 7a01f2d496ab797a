"""The rules a Kobo bundle must pass before it is zipped: each check returns the problems it found.

Why these rules:
- A Kobo's glibc is old. A binary that needs a symbol version newer than GLIBC_2.17 fails to load
  ("version `GLIBC_2.28' not found") on firmware 4.x, so every ELF file is read here, not sampled.
- /mnt/onboard is FAT32: no symlinks, and names differing only in case land on the same file.
- Since firmware 4.17 Nickel scans hidden folders too: a loose .epub/.pdf/.html/... inside the bundle
  would show up in the user's library as a book.

Standard library only, so the checks run on any host and are unit-tested in ``make test``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ELF_MAGIC = b"\x7fELF"
SHT_GNU_VERNEED = 0x6FFFFFFE
MAX_GLIBC = (2, 17)

# Extensions Nickel imports as books (or as documents it lists in the library).
BOOK_EXTENSIONS = frozenset(
    {
        ".epub",
        ".kepub",
        ".pdf",
        ".txt",
        ".html",
        ".htm",
        ".xhtml",
        ".cbz",
        ".cbr",
        ".mobi",
        ".rtf",
        ".doc",
        ".docx",
        ".docm",
        ".dot",
        ".dotx",
    }
)


@dataclass(frozen=True)
class ElfHeader:
    """Just enough of an ELF header to walk its section table."""

    is_64: bool
    endian: str
    shoff: int
    shentsize: int
    shnum: int


@dataclass(frozen=True)
class Section:
    kind: int
    offset: int
    size: int
    link: int


def is_elf(path: Path) -> bool:
    """True when the file starts with the ELF magic (extensions say nothing: CPython's are .so)."""
    with path.open("rb") as stream:
        return stream.read(4) == ELF_MAGIC


def read_header(data: bytes) -> ElfHeader:
    if data[:4] != ELF_MAGIC:
        raise ValueError("not an ELF file")
    is_64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    if is_64:
        (shoff,) = struct.unpack_from(endian + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x3A)
    else:
        (shoff,) = struct.unpack_from(endian + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(endian + "HH", data, 0x2E)
    return ElfHeader(is_64, endian, shoff, shentsize, shnum)


def read_sections(data: bytes, header: ElfHeader) -> list[Section]:
    sections = []
    for index in range(header.shnum):
        base = header.shoff + index * header.shentsize
        if header.is_64:
            _, kind, _, _, offset, size, link = struct.unpack_from(header.endian + "IIQQQQI", data, base)
        else:
            _, kind, _, _, offset, size, link = struct.unpack_from(header.endian + "IIIIIII", data, base)
        sections.append(Section(kind, offset, size, link))
    return sections


def c_string(data: bytes, offset: int) -> str:
    end = data.index(b"\0", offset)
    return data[offset:end].decode("ascii", errors="replace")


def needed_versions(data: bytes) -> set[str]:
    """Every symbol version an ELF file needs from its libraries (its .gnu.version_r entries).

    This is what the dynamic loader checks at start-up; ``readelf -V`` shows the same list.
    """
    header = read_header(data)
    sections = read_sections(data, header)
    names: set[str] = set()
    for section in sections:
        if section.kind != SHT_GNU_VERNEED:
            continue
        strings = sections[section.link].offset
        entry = section.offset
        while True:
            _, count, _, aux, following = struct.unpack_from(header.endian + "HHIII", data, entry)
            cursor = entry + aux
            for _ in range(count):
                _, _, _, name, next_aux = struct.unpack_from(header.endian + "IHHII", data, cursor)
                names.add(c_string(data, strings + name))
                cursor += next_aux
                if next_aux == 0:
                    break
            if following == 0:
                break
            entry += following
    return names


def glibc_version(name: str) -> tuple[int, ...] | None:
    """(2, 17) for "GLIBC_2.17"; None for other version names (GCC_3.5, GLIBC_PRIVATE, ...)."""
    prefix = "GLIBC_"
    if not name.startswith(prefix):
        return None
    try:
        return tuple(int(part) for part in name[len(prefix) :].split("."))
    except ValueError:
        return None


def newest_glibc(data: bytes) -> tuple[int, ...] | None:
    """The newest GLIBC_x.y an ELF file needs, or None when it needs no versioned glibc symbol."""
    versions = [v for v in (glibc_version(n) for n in needed_versions(data)) if v is not None]
    return max(versions, default=None)


def version_text(version: tuple[int, ...] | None) -> str:
    return "none" if version is None else "GLIBC_" + ".".join(map(str, version))


def glibc_problems(
    root: Path, limit: tuple[int, ...] = MAX_GLIBC
) -> tuple[list[str], tuple[int, ...] | None]:
    """Problems for ELF files under ``root`` needing glibc newer than ``limit``, and the newest seen."""
    problems = []
    newest: tuple[int, ...] | None = None
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        if not is_elf(path):
            continue
        try:
            found = newest_glibc(path.read_bytes())
        except (ValueError, struct.error, IndexError) as error:
            problems.append(f"{path.relative_to(root)}: unreadable ELF file ({error})")
            continue
        if found is not None and (newest is None or found > newest):
            newest = found
        if found is not None and found > limit:
            problems.append(f"{path.relative_to(root)} needs {version_text(found)} (> {version_text(limit)})")
    return problems, newest


def case_collisions(names: Iterable[str]) -> list[str]:
    """Paths that FAT32 would merge: equal when compared without case (each reported once)."""
    seen: dict[str, str] = {}
    problems = []
    for name in sorted(set(names)):
        key = name.casefold()
        if key in seen:
            problems.append(f"{seen[key]} and {name} collide on a case-insensitive file system")
        else:
            seen[key] = name
    return problems


def book_like(names: Iterable[str]) -> list[str]:
    """Paths Nickel would import as books because of their extension."""
    return [
        f"{n} would be imported by Nickel as a book"
        for n in names
        if PurePosixPath(n).suffix.lower() in BOOK_EXTENSIONS
    ]


def tree_names(root: Path) -> Iterator[str]:
    """Every file and folder under ``root`` as a POSIX path relative to it (folders collide too)."""
    for path in root.rglob("*"):
        yield path.relative_to(root).as_posix()


def symlinks(root: Path) -> list[str]:
    return [f"{p.relative_to(root)} is a symlink (FAT32 has none)" for p in root.rglob("*") if p.is_symlink()]


def special_files(root: Path) -> list[str]:
    """Anything not a plain file or folder (fifos, sockets) cannot be copied to FAT32 either."""
    return [
        f"{p.relative_to(root)} is not a plain file"
        for p in root.rglob("*")
        if not p.is_symlink() and not p.is_file() and not p.is_dir()
    ]


def bundle_problems(root: Path) -> tuple[list[str], tuple[int, ...] | None]:
    """All problems of a bundle tree, and the newest glibc version any of its ELF files needs."""
    names = list(tree_names(root))
    problems = symlinks(root) + special_files(root) + case_collisions(names) + book_like(names)
    elf_problems, newest = glibc_problems(root)
    return problems + elf_problems, newest
