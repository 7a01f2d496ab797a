"""Lay the built pieces out as the Kobo's root expects them, prune, compile, strip, check and zip.

Layout (unzipped onto /mnt/onboard):
    .adds/kksync/bin/kksync                 POSIX launcher (busybox ash on the Kobo)
    .adds/kksync/python/                    CPython 3.11 for armv7 + site-packages (kksync and its deps)
    .adds/koreader/plugins/kksync.koplugin/ the KOReader plugin
    .adds/koreader/patches/                 KOReader user patches, when the repository has any

This step is cheap, so it is redone on every ``make kobo-bundle`` from the cached stages' output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tools.kobo_bundle import build
from tools.kobo_bundle.checks import bundle_problems, is_elf, version_text

TREE = build.WORK / "bundle"
KKSYNC_HOME = Path(".adds") / "kksync"
PYTHON_HOME = KKSYNC_HOME / "python"
STDLIB = PYTHON_HOME / "lib" / "python3.11"
SITE = STDLIB / "site-packages"
PLUGIN_SOURCE = build.REPO / "entrypoints" / "koreader_plugin"
PACKAGES = ("domain", "application", "adapters", "entrypoints")

# Standard-library parts the daemon never imports (tests, GUIs, packaging tools, docs data).
STDLIB_PRUNE = [
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "turtle.py",
    "ensurepip",
    "lib2to3",
    "pydoc_data",
    "distutils",
    "venv",
    "unittest/test",
    "ctypes/test",
    "sqlite3/test",
    "__phello__",
    "config-3.11-arm-linux-gnueabihf",
]
# Folders under site-packages that nothing imports at run time.
SITE_PRUNE = [
    "bin",
    "entrypoints/koreader_plugin",  # shipped as the plugin itself, not as Python data
    "lupa/tests",
    "sqlalchemy/dialects/mysql",  # kksync talks to SQLite only; dialects are imported by name
    "sqlalchemy/dialects/postgresql",
    "sqlalchemy/dialects/oracle",
    "sqlalchemy/dialects/mssql",
    "sqlalchemy/dialects/type_migration_guidelines.txt",  # a developer note, and a .txt "book"
    "lxml/includes",
    "lxml/isoschematron/resources",
]
# Build inputs that wheels carry along: C sources, Cython sources, type stubs.
SUFFIX_PRUNE = {".c", ".h", ".pyx", ".pxd", ".pxi", ".pyi"}

LAUNCHER = """\
#!/bin/sh
# kksync launcher from the Kobo bundle. Plain POSIX sh: on a Kobo /bin/sh is busybox ash.
# It finds its own folder, so the bundle works wherever it is unpacked (normally
# /mnt/onboard/.adds/kksync), and runs the bundled CPython on kksync's command line.
case "$0" in
    */*) bin_dir=${0%/*} ;;
    *) bin_dir=. ;;
esac
home=$(cd "$bin_dir/.." && pwd) || exit 1

PYTHONHOME="$home/python"          # the bundled standard library, not a system one
PYTHONNOUSERSITE=1                 # nothing from ~/.local may shadow the bundle
PYTHONDONTWRITEBYTECODE=1          # the .pyc are shipped; never write onto the FAT partition
export PYTHONHOME PYTHONNOUSERSITE PYTHONDONTWRITEBYTECODE
unset PYTHONPATH PYTHONSTARTUP

# KKSYNC_LAUNCH_WRAPPER: a command put in front of python, e.g. "nice -n 10", or
# "qemu-arm-static -L SYSROOT" to run the bundle off-device (make test-kobo). Split on spaces.
# Taken out of the environment: kksync reads every other KKSYNC_* variable as a setting.
wrapper=${KKSYNC_LAUNCH_WRAPPER:-}
unset KKSYNC_LAUNCH_WRAPPER
exec $wrapper "$home/python/bin/python3.11" -m entrypoints.cli "$@"
"""


@dataclass(frozen=True)
class BundleFacts:
    """What a user (and the README) wants to know about the zip."""

    zip_path: Path
    zip_bytes: int
    unpacked_bytes: int
    files: int
    newest_glibc: str


def project_version() -> str:
    """kksync's version, from its one place (``entrypoints/version.py``, which pyproject reads too)."""
    from entrypoints.version import VERSION

    return VERSION


def copy_python(tree: Path) -> None:
    """The target CPython install, without symlinks (FAT32 has none) or headers and man pages."""
    source = build.PYTHON_INSTALL / "python"
    home = tree / PYTHON_HOME
    shutil.copytree(source, home, symlinks=True)
    for path in sorted(home.rglob("*"), reverse=True):
        if path.is_symlink():
            path.unlink()
    for extra in ("include", "share", "lib/pkgconfig"):
        shutil.rmtree(home / extra, ignore_errors=True)
    for tool in (home / "bin").iterdir():
        if tool.name != "python3.11":
            tool.unlink()
    for name in STDLIB_PRUNE:
        remove(tree / STDLIB / name)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def install_site_packages(tree: Path, log: Path) -> None:
    """Dependencies (pure and cross-built wheels) and kksync itself, into the bundle's site-packages."""
    site = tree / SITE
    shutil.copytree(build.WORK / "site-deps", site, dirs_exist_ok=True)
    for wheel in sorted(build.WHEELS.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            if any(".data/" in name for name in archive.namelist()):
                raise build.BuildError(f"{wheel.name} has a .data folder; the bundle does not handle it")
            archive.extractall(site)
    pip = build.HOSTENV / "bin" / "pip"
    clear_setuptools_scratch()
    # kksync as a real distribution, so importlib.metadata reports its version over the RPC.
    build.run([pip, "install", "--quiet", "--no-deps", "--target", site, build.REPO], log)
    for name in SITE_PRUNE:
        remove(site / name)
    stale = stale_modules(site, build.REPO)
    if stale:
        raise build.BuildError("kksync modules the repository no longer has: " + ", ".join(stale))


def clear_setuptools_scratch() -> None:
    """Empty setuptools' build folders in the repository before kksync is installed from it.

    setuptools copies the packages into ``build/lib`` and never empties it, so a module deleted or
    moved since an earlier build went on shipping (the old ``entrypoints/cli.py`` beside the new
    ``entrypoints/cli/`` package, once). ``build/kobo`` is this build's own cache and stays.
    """
    scratch = build.REPO / "build"
    for folder in [*scratch.glob("lib*"), *scratch.glob("bdist.*")]:
        shutil.rmtree(folder)


def stale_modules(site: Path, repository: Path) -> list[str]:
    """kksync modules installed in ``site`` that the repository does not have (any is a build fault)."""
    return sorted(modules_under(site) - modules_under(repository))


def modules_under(root: Path) -> set[str]:
    """kksync's Python modules below ``root`` (a site-packages or the repository), as relative paths."""
    return {
        path.relative_to(root).as_posix()
        for package in PACKAGES
        for path in (root / package).rglob("*.py")
        if "koreader_plugin" not in path.parts
    }


def copy_plugin(tree: Path) -> None:
    """The KOReader plugin, and any KOReader user patches (run by KOReader before plugins load)."""
    plugins = tree / ".adds" / "koreader" / "plugins"
    plugins.mkdir(parents=True)
    shutil.copytree(PLUGIN_SOURCE / "kksync.koplugin", plugins / "kksync.koplugin")
    patches = PLUGIN_SOURCE / "patches"
    if patches.is_dir():
        target = tree / ".adds" / "koreader" / "patches"
        target.mkdir(parents=True)
        for patch in sorted(patches.iterdir()):
            if patch.is_file() and patch.suffix == ".lua":
                shutil.copy2(patch, target / patch.name)


def write_launcher(tree: Path) -> None:
    launcher = tree / KKSYNC_HOME / "bin" / "kksync"
    launcher.parent.mkdir(parents=True)
    launcher.write_text(LAUNCHER)
    launcher.chmod(0o755)


def is_leftover(path: Path) -> bool:
    """Host bytecode, tests, C/Cython sources, stubs and pip's per-file bookkeeping."""
    if PYTHON_HOME.as_posix() not in path.as_posix():
        return False
    if path.is_dir():
        return path.name in ("__pycache__", "tests")
    if path.parent.name.endswith(".dist-info"):
        return path.name in ("RECORD", "INSTALLER")
    return path.suffix in SUFFIX_PRUNE


def prune_build_leftovers(tree: Path) -> None:
    """Remove what the daemon never reads, and rename what Nickel would take for a book."""
    for path in sorted(tree.rglob("*"), reverse=True):
        if path.exists() and is_leftover(path):
            remove(path)
    rename_text_files(tree / SITE)
    remove(tree / SITE / "README.txt")
    license_file = tree / STDLIB / "LICENSE.txt"
    if license_file.exists():
        license_file.rename(license_file.with_suffix(""))


def rename_text_files(site: Path) -> None:
    """Licenses and metadata named *.txt would look like books to Nickel: drop the suffix.

    Inside .dist-info folders (nothing imports them: entry_points.txt then reads as absent, which
    only matters to plugin discovery kksync does not use), and license files anywhere. Any other
    .txt is left for the book check to report, since a package might read it at run time.
    """
    for path in site.rglob("*.txt"):
        in_metadata = any(part.endswith(".dist-info") for part in path.relative_to(site).parts)
        if in_metadata or path.name.upper().startswith(("LICENSE", "COPYING", "NOTICE")):
            path.rename(path.with_suffix(""))


def compile_bytecode(tree: Path, log: Path) -> None:
    """Precompile .pyc (3.11's magic number is the same on every 3.11 host).

    unchecked-hash: the loader trusts the .pyc without comparing the source's mtime, which on a FAT
    partition (2 s resolution, local time) could otherwise look stale and be recompiled on each start.
    """
    host_python = shutil.which("python3.11") or sys.executable
    args = [host_python, "-m", "compileall", "-q", "-j0", "--invalidation-mode", "unchecked-hash"]
    build.run([*args, tree / STDLIB], log)


def strip_binaries(tree: Path, log: Path) -> None:
    """Drop symbols and debug info from every ELF file: most of the size of C extensions."""
    elves = [p for p in tree.rglob("*") if p.is_file() and is_elf(p)]
    if elves:
        build.run([build.STRIP, "--strip-unneeded", *elves], log)


def zip_tree(tree: Path, target: Path) -> None:
    """One deflated zip, paths relative to the Kobo's root, executables marked executable."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=(2026, 1, 1, 0, 0, 0))
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(target)


def assemble() -> BundleFacts:
    """Build the tree, check it, zip it; raise BuildError listing every problem found."""
    log = build.LOGS / "assemble.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    shutil.rmtree(TREE, ignore_errors=True)
    TREE.mkdir(parents=True)
    copy_python(TREE)
    install_site_packages(TREE, log)
    copy_plugin(TREE)
    write_launcher(TREE)
    prune_build_leftovers(TREE)
    strip_binaries(TREE, log)
    compile_bytecode(TREE, log)
    problems, newest = bundle_problems(TREE)
    if problems:
        raise build.BuildError("the bundle breaks its rules:\n  " + "\n  ".join(problems))
    target = build.REPO / "dist" / f"kksync-kobo-{project_version()}.zip"
    zip_tree(TREE, target)
    files = [p for p in TREE.rglob("*") if p.is_file()]
    return BundleFacts(
        zip_path=target,
        zip_bytes=target.stat().st_size,
        unpacked_bytes=sum(p.stat().st_size for p in files),
        files=len(files),
        newest_glibc=version_text(newest),
    )


def report(facts: BundleFacts, seconds: float) -> str:
    mib = 1024 * 1024
    return (
        f"[kobo-bundle] {facts.zip_path.relative_to(build.REPO)}: {facts.zip_bytes / mib:.1f} MiB zipped, "
        f"{facts.unpacked_bytes / mib:.1f} MiB unpacked, {facts.files} files, "
        f"newest glibc symbol {facts.newest_glibc} (limit GLIBC_2.17); assembled in {seconds:.0f} s"
    )


def main() -> int:
    started = time.monotonic()
    try:
        facts = assemble()
    except (build.BuildError, subprocess.CalledProcessError) as error:
        print(f"[kobo-bundle] FAILED: {error}", file=sys.stderr)
        return 1
    print(report(facts, time.monotonic() - started))
    return 0
