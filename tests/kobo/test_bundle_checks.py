"""The Kobo bundle's rules (tools/kobo_bundle/checks.py) on tiny files: fast, part of ``make test``."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from tools.kobo_bundle.checks import (
    book_like,
    bundle_problems,
    case_collisions,
    glibc_problems,
    newest_glibc,
    version_text,
)

SHT_STRTAB, SHT_GNU_VERNEED = 3, 0x6FFFFFFE


def tiny_elf(needs: dict[str, list[str]]) -> bytes:
    """A 32-bit little-endian ARM ELF file with only a string table and a .gnu.version_r section.

    ``needs`` maps a library to the symbol versions the file requires from it, as a linker writes them.
    """
    strings = bytearray(b"\0")

    def string(text: str) -> int:
        strings.extend(text.encode() + b"\0")
        return len(strings) - len(text) - 1

    verneed = bytearray()
    libraries = list(needs.items())
    for index, (library, versions) in enumerate(libraries):
        following = 0 if index == len(libraries) - 1 else 16 + 16 * len(versions)
        verneed += struct.pack("<HHIII", 1, len(versions), string(library), 16, following)
        for position, version in enumerate(versions):
            next_aux = 0 if position == len(versions) - 1 else 16
            verneed += struct.pack("<IHHII", 0, 0, 2 + position, string(version), next_aux)
    strings_at = 52
    verneed_at = strings_at + len(strings) + (-len(strings) % 4)
    sections_at = verneed_at + len(verneed)
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 3, 40, 1, 0, 0, sections_at, 0x5000400, 52, 0, 0, 40, 3, 1)
    null = bytes(40)
    strtab = struct.pack("<10I", 0, SHT_STRTAB, 0, 0, strings_at, len(strings), 0, 0, 1, 0)
    version_r = struct.pack(
        "<10I", 0, SHT_GNU_VERNEED, 2, 0, verneed_at, len(verneed), 1, len(libraries), 4, 0
    )
    body = header + bytes(strings) + bytes(verneed_at - strings_at - len(strings)) + bytes(verneed)
    return body + null + strtab + version_r


def test_the_newest_glibc_version_needed_is_read_from_the_elf_file() -> None:
    data = tiny_elf({"libc.so.6": ["GLIBC_2.4", "GLIBC_2.28", "GLIBC_2.17"], "libgcc_s.so.1": ["GCC_3.5"]})
    assert newest_glibc(data) == (2, 28)
    assert version_text(newest_glibc(data)) == "GLIBC_2.28"
    assert newest_glibc(tiny_elf({"libgcc_s.so.1": ["GCC_4.3.0"]})) is None


def test_every_elf_file_above_glibc_2_17_fails_whatever_its_name(tmp_path: Path) -> None:
    (tmp_path / "ok.so").write_bytes(tiny_elf({"libc.so.6": ["GLIBC_2.4", "GLIBC_2.17"]}))
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "python3.11").write_bytes(tiny_elf({"libm.so.6": ["GLIBC_2.29"]}))
    (tmp_path / "script.sh").write_text("#!/bin/sh\n")
    problems, newest = glibc_problems(tmp_path)
    assert problems == ["lib/python3.11 needs GLIBC_2.29 (> GLIBC_2.17)"]
    assert newest == (2, 29)


def test_a_truncated_elf_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "broken.so").write_bytes(tiny_elf({"libc.so.6": ["GLIBC_2.4"]})[:60])
    problems, _ = glibc_problems(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("broken.so: unreadable ELF file")


def test_the_host_python_is_read_like_readelf_reads_it() -> None:
    found = newest_glibc(Path(sys.executable).resolve().read_bytes())
    assert found is not None and found >= (2, 2)


def test_names_that_differ_only_in_case_collide_on_fat32() -> None:
    names = ["a/README", "a/readme", "b/Makefile", "B/x", "b/x"]
    assert case_collisions(names) == [
        "a/README and a/readme collide on a case-insensitive file system",
        "B/x and b/x collide on a case-insensitive file system",
    ]
    assert case_collisions(["a/b", "a/c", "ab"]) == []


def test_files_nickel_would_import_as_books_are_found_by_extension() -> None:
    names = ["x/LICENSE", "x/notes.TXT", "x/help.html", "x/chapter.xhtml", "x/m.py", "x/a.kepub", "x/d.docx"]
    assert book_like(names) == [
        f"x/{name} would be imported by Nickel as a book"
        for name in ("notes.TXT", "help.html", "chapter.xhtml", "a.kepub", "d.docx")
    ]


def test_a_bundle_tree_with_a_symlink_and_a_book_fails(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3.11").write_bytes(tiny_elf({"libc.so.6": ["GLIBC_2.17"]}))
    (tmp_path / "bin" / "python3").symlink_to("python3.11")
    (tmp_path / "guide.epub").write_bytes(b"PK")
    problems, newest = bundle_problems(tmp_path)
    assert problems == [
        "bin/python3 is a symlink (FAT32 has none)",
        "guide.epub would be imported by Nickel as a book",
    ]
    assert newest == (2, 17)


def test_a_module_the_repository_no_longer_has_is_a_stale_install(tmp_path: Path) -> None:
    """setuptools' build/lib kept a deleted module once, and the bundle shipped it."""
    from tools.kobo_bundle.assemble import stale_modules

    repository, site = tmp_path / "repo", tmp_path / "site"
    for root, files in (
        (repository, ["entrypoints/cli/app.py", "domain/position.py", "entrypoints/koreader_plugin/x.py"]),
        (site, ["entrypoints/cli/app.py", "domain/position.py", "entrypoints/cli.py"]),
    ):
        for name in files:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text("")
    assert stale_modules(site, repository) == ["entrypoints/cli.py"]
    (site / "entrypoints" / "cli.py").unlink()
    assert stale_modules(site, repository) == []
