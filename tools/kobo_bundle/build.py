"""Build the Kobo bundle: a self-contained armv7 CPython with kksync, zipped for the Kobo's root.

Run by ``make kobo-bundle`` (after ``tools/kobo_bundle/host_setup.sh``) with the host's Python 3.11.
Every stage leaves a stamp file in ``build/kobo/stamps/``: a rebuild redoes only what is missing, so
the C libraries and CPython are compiled once per machine. Each stage logs its commands' output to
``build/kobo/logs/<stage>.log`` and prints one line (and its duration) to the terminal.

Why it is built the way it is (facts from docs/kobo-bundle.md):
- A Kobo's userland is 32-bit ARM hard-float with an old glibc. ``zig cc`` (PyPI ``ziglang``) targets
  ``arm-linux-gnueabihf.2.17`` directly: it links against a glibc 2.17 ABI without needing that glibc.
- Sources come from Debian's archive (``apt-get source``), which is reachable where upstream servers
  may not be. The C libraries get Debian's patches; CPython gets only Debian's security patches (its
  other patches implement Debian's filesystem layout, which a self-contained install must not have).
- C extensions are built for the target from their sdists by ``crossenv`` (PyPI); LuaJIT (for
  ``lupa.luajit21``) is built by hand first, because lupa only builds it for x86-64 and arm64.
- The zip must survive FAT32 and Nickel: ``checks.py`` refuses symlinks, case-insensitive name
  collisions, book-like files and any ELF file needing a glibc symbol newer than GLIBC_2.17.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = REPO / "build" / "kobo"
DOWNLOADS = WORK / "downloads"
SOURCES = WORK / "src"
DEPS = WORK / "deps"  # static C libraries for the target (prefix)
TOOLCHAIN = WORK / "toolchain"  # cc/c++/ar/... wrapper scripts around zig
PYTHON_INSTALL = WORK / "python"  # `make install DESTDIR=` of the target CPython
STAMPS = WORK / "stamps"
LOGS = WORK / "logs"
HOSTENV = WORK / "hostenv"  # host venv holding ziglang and crossenv
CROSSENV = WORK / "crossenv"
WHEELS = WORK / "wheels"

TARGET = "arm-linux-gnueabihf"
ZIG_TARGET = "arm-linux-gnueabihf.2.17"
CPU_FLAGS = ["-mcpu=cortex_a8", "-mfpu=neon", "-mfloat-abi=hard"]
JOBS = str(max(1, os.cpu_count() or 1))
DEBIAN_SOURCES = ["python3.11", "zlib", "libffi", "sqlite3", "libxml2", "libxslt"]
HOST_PACKAGES = ["ziglang==0.17.1", "crossenv==1.6.2"]


class BuildError(RuntimeError):
    """A build step failed; the message says which and where its log is."""


# --- running things -------------------------------------------------------------------------------


def run(
    args: Sequence[str | os.PathLike[str]],
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run one command, appending its output to ``log``; raise BuildError naming the log on failure."""
    command = [str(a) for a in args]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"\n$ (cd {cwd or Path.cwd()}) {shlex.join(command)}\n")
        out.flush()
        result = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        raise BuildError(
            f"{shlex.join(command)} failed (exit {result.returncode}); log: {log}\n" + "\n".join(tail)
        )


def stage(name: str) -> Callable[[Callable[[Path], None]], Callable[[], None]]:
    """Make a build step cached by a stamp file: done once, skipped while its stamp exists."""

    def wrap(step: Callable[[Path], None]) -> Callable[[], None]:
        def cached() -> None:
            stamp = STAMPS / name
            if stamp.exists():
                return
            log = LOGS / f"{name}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("")
            started = time.monotonic()
            print(f"[kobo-bundle] {name} ...", flush=True)
            step(log)
            STAMPS.mkdir(parents=True, exist_ok=True)
            stamp.write_text(f"{time.monotonic() - started:.0f} s\n")
            print(f"[kobo-bundle] {name} done in {time.monotonic() - started:.0f} s", flush=True)

        cached.__name__ = step.__name__
        cached.__doc__ = step.__doc__
        return cached

    return wrap


def cross_env() -> dict[str, str]:
    """Environment in which autoconf builds find the zig wrappers and our static libraries."""
    env = dict(os.environ)
    env.update(
        CC=str(TOOLCHAIN / f"{TARGET}-cc"),
        CXX=str(TOOLCHAIN / f"{TARGET}-c++"),
        AR=str(TOOLCHAIN / f"{TARGET}-ar"),
        RANLIB=str(TOOLCHAIN / f"{TARGET}-ranlib"),
        CFLAGS="-O2 -fPIC",
        CXXFLAGS="-O2 -fPIC",
        CPPFLAGS=f"-I{DEPS / 'include'}",
        LDFLAGS=f"-L{DEPS / 'lib'}",
        PKG_CONFIG_PATH=str(DEPS / "lib" / "pkgconfig"),
        PKG_CONFIG_LIBDIR=str(DEPS / "lib" / "pkgconfig"),
        ZIG_GLOBAL_CACHE_DIR=str(WORK / "zig-cache"),
        ZIG_LOCAL_CACHE_DIR=str(WORK / "zig-cache"),
        PATH=f"{TOOLCHAIN}:{os.environ['PATH']}",
    )
    return env


# --- stages: toolchain and sources ----------------------------------------------------------------


@stage("toolchain")
def build_toolchain(log: Path) -> None:
    """A host venv with zig and crossenv, and wrapper scripts that make zig look like a GNU cross gcc."""
    run([sys.executable, "-m", "venv", HOSTENV], log)
    run([HOSTENV / "bin" / "python", "-m", "pip", "install", "--quiet", *HOST_PACKAGES], log)
    zig = HOSTENV / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    zig = zig / "ziglang" / "zig"
    TOOLCHAIN.mkdir(parents=True, exist_ok=True)
    cpu = " ".join(CPU_FLAGS)
    caches = f'export ZIG_GLOBAL_CACHE_DIR="{WORK}/zig-cache" ZIG_LOCAL_CACHE_DIR="{WORK}/zig-cache"\n'
    # -Wno-error=date-time: zig turns __DATE__/__TIME__ use (CPython's buildinfo) into an error.
    wrappers = {
        f"{TARGET}-cc": f'exec "{zig}" cc -target {ZIG_TARGET} {cpu} -Wno-error=date-time "$@"',
        f"{TARGET}-c++": f'exec "{zig}" c++ -target {ZIG_TARGET} {cpu} -Wno-error=date-time "$@"',
        f"{TARGET}-ar": f'exec "{zig}" ar "$@"',
        f"{TARGET}-ranlib": f'exec "{zig}" ranlib "$@"',
        # LuaJIT's host tools must be 32-bit like the target: a static x86 musl compiler.
        "host32-cc": f'exec "{zig}" cc -target x86-linux-musl -static "$@"',
        "host-cc": f'exec "{zig}" cc "$@"',
    }
    for name, body in wrappers.items():
        path = TOOLCHAIN / name
        path.write_text(f"#!/bin/sh\n{caches}{body}\n")
        path.chmod(0o755)
    run([TOOLCHAIN / f"{TARGET}-cc", "--version"], log)


@stage("sources")
def fetch_sources(log: Path) -> None:
    """Download the Debian source packages (tarballs + patches) into build/kobo/downloads."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    run(["apt-get", "source", "--download-only", "-qq", *DEBIAN_SOURCES], log, cwd=DOWNLOADS)


def dsc(package: str) -> Path:
    """The downloaded .dsc of a Debian source package (the newest one if several were fetched)."""
    found = sorted(DOWNLOADS.glob(f"{package}_*.dsc"))
    if not found:
        raise BuildError(f"no {package} source package in {DOWNLOADS}: run the 'sources' stage")
    return found[-1]


def unpack_debian(package: str, log: Path) -> Path:
    """Unpack a Debian source package with its patches applied into a fresh folder under src/."""
    target = SOURCES / package
    shutil.rmtree(target, ignore_errors=True)
    SOURCES.mkdir(parents=True, exist_ok=True)
    run(["dpkg-source", "--no-check", "-x", dsc(package), target], log)
    return target


def configure_make_install(
    source: Path,
    log: Path,
    options: list[str],
    make_targets: list[str],
    *,
    regenerate: bool = True,
    extra_cflags: str = "",
) -> None:
    """The autoconf dance for one static target library installed into DEPS.

    Debian's patches touch Makefile.am / configure.ac, so the build system is regenerated first (as
    Debian's own build does with dh_autoreconf); otherwise make would call a missing automake.
    ``regenerate=False`` keeps the shipped ``configure`` where no patch touches the build system.
    """
    env = cross_env()
    env["CFLAGS"] += extra_cflags
    if regenerate:
        run(["autoreconf", "-fi"], log, cwd=source, env=env)
    configure = [
        "./configure",
        f"--host={TARGET}",
        "--build=x86_64-linux-gnu",
        f"--prefix={DEPS}",
        "--disable-shared",
        "--enable-static",
        *options,
    ]
    run(configure, log, cwd=source, env=env)
    run(["make", f"-j{JOBS}", *make_targets], log, cwd=source, env=env)
    run(["make", "install"], log, cwd=source, env=env)


# --- stages: static C libraries -------------------------------------------------------------------


@stage("zlib")
def build_zlib(log: Path) -> None:
    """zlib: CPython's zlib module (EPUBs are deflated zips) and libxml2."""
    source = unpack_debian("zlib", log)
    env = cross_env()
    env["CHOST"] = TARGET
    run(["./configure", f"--prefix={DEPS}", "--static"], log, cwd=source, env=env)
    run(["make", f"-j{JOBS}", "libz.a"], log, cwd=source, env=env)
    run(["make", "install"], log, cwd=source, env=env)


@stage("libffi")
def build_libffi(log: Path) -> None:
    """libffi: ctypes (watchdog talks to inotify through ctypes)."""
    source = unpack_debian("libffi", log)
    # --disable-exec-static-tramp: its trampoline table needs features zig's glibc 2.17 headers lack.
    options = ["--disable-exec-static-tramp", "--disable-docs", "--disable-multi-os-directory", "--with-pic"]
    configure_make_install(
        source, log, options, [], regenerate=False, extra_cflags=" -Wno-implicit-function-declaration"
    )


@stage("sqlite3")
def build_sqlite(log: Path) -> None:
    """SQLite: the Kobo database and kksync's ledger. Amalgamation made on the host, compiled for ARM."""
    source = unpack_debian("sqlite3", log)
    host = dict(os.environ, CC=str(TOOLCHAIN / "host-cc"), ZIG_GLOBAL_CACHE_DIR=str(WORK / "zig-cache"))
    run(["./configure", "--disable-tcl"], log, cwd=source, env=host)
    run(["make", "sqlite3.c"], log, cwd=source, env=host)
    env = cross_env()
    # Double-quoted string literals stay accepted (SQLite's default): Nickel's own schema uses them
    # (content.DateModified DEFAULT "0000-00-00T00:00:00.000").
    flags = ["-O2", "-fPIC", "-DSQLITE_THREADSAFE=1", "-DSQLITE_OMIT_LOAD_EXTENSION"]
    run([env["CC"], *flags, "-c", "sqlite3.c", "-o", "sqlite3.o"], log, cwd=source, env=env)
    (DEPS / "lib").mkdir(parents=True, exist_ok=True)
    (DEPS / "include").mkdir(parents=True, exist_ok=True)
    (DEPS / "lib" / "libsqlite3.a").unlink(missing_ok=True)
    run([env["AR"], "rcs", DEPS / "lib" / "libsqlite3.a", "sqlite3.o"], log, cwd=source, env=env)
    for header in ("sqlite3.h", "sqlite3ext.h"):
        shutil.copy2(source / header, DEPS / "include" / header)


@stage("libxml2")
def build_libxml2(log: Path) -> None:
    """libxml2: lxml (EPUB package documents and XHTML chapters)."""
    source = unpack_debian("libxml2", log)
    options = [
        "--with-pic",
        f"--with-zlib={DEPS}",
        "--without-python",
        "--without-lzma",
        "--without-icu",
        "--without-http",
        "--without-ftp",
        "--without-debug",
    ]
    configure_make_install(source, log, options, [])


@stage("libxslt")
def build_libxslt(log: Path) -> None:
    """libxslt: lxml links it unconditionally."""
    source = unpack_debian("libxslt", log)
    options = [
        "--with-pic",
        f"--with-libxml-prefix={DEPS}",
        "--without-python",
        "--without-crypto",  # EXSLT crypto needs libgcrypt; lxml does not
        # (keep the profiler: lxml's XSLT(profile_run=True) calls xsltGetProfileInformation)
    ]
    configure_make_install(source, log, options, [])


# --- stage: CPython -------------------------------------------------------------------------------

# Debian patches that are security or crash fixes; the others change Debian's install layout.
PYTHON_PATCH_PREFIXES = ("CVE-", "000", "relfile-", "frame_dealloc-", "shutdown-deadlock")

CONFIG_SITE = """\
# Answers configure cannot find out when cross-compiling (the Kobo has /dev/ptmx, no /dev/ptc).
ac_cv_file__dev_ptmx=yes
ac_cv_file__dev_ptc=no
ac_cv_buggy_getaddrinfo=no
# Modules the daemon never imports: do not even try to build them.
py_cv_module__tkinter=n/a
py_cv_module__curses=n/a
py_cv_module__curses_panel=n/a
py_cv_module__dbm=n/a
py_cv_module__gdbm=n/a
py_cv_module_nis=n/a
py_cv_module_readline=n/a
py_cv_module__uuid=n/a
py_cv_module__lzma=n/a
py_cv_module__bz2=n/a
py_cv_module__ssl=n/a
py_cv_module__hashlib=n/a
py_cv_module__ctypes_test=n/a
py_cv_module__testcapi=n/a
py_cv_module__testinternalcapi=n/a
py_cv_module__testbuffer=n/a
py_cv_module__testimportmultiple=n/a
py_cv_module__testmultiphase=n/a
py_cv_module__xxtestfuzz=n/a
py_cv_module_xxlimited=n/a
py_cv_module_xxlimited_35=n/a
py_cv_module__xxsubinterpreters=n/a
"""


def apply_python_security_patches(source: Path, log: Path) -> None:
    """Apply Debian's CVE and crash-fix patches to pristine CPython; list any that do not apply."""
    debian = sorted(DOWNLOADS.glob("python3.11_*.debian.tar.xz"))[-1]
    patches_dir = WORK / "src" / "python3.11-debian"
    shutil.rmtree(patches_dir, ignore_errors=True)
    patches_dir.mkdir(parents=True)
    run(["tar", "xf", debian, "-C", patches_dir], log)
    series = (patches_dir / "debian" / "patches" / "series").read_text().split()
    skipped = []
    for name in series:
        if not name.startswith(PYTHON_PATCH_PREFIXES):
            continue
        patch = patches_dir / "debian" / "patches" / name
        probe = subprocess.run(
            ["patch", "-p1", "--dry-run", "-N", "-s", "-i", str(patch)], cwd=source, capture_output=True
        )
        if probe.returncode == 0:
            run(["patch", "-p1", "-N", "-s", "-i", patch], log, cwd=source)
        else:
            skipped.append(name)
    if skipped:
        print(f"[kobo-bundle] CPython: Debian patches that do not apply to 3.11.2 (skipped): {skipped}")
    # Debian's CVE-2026-4224 fix makes pyexpat.c include an internal header; Debian builds pyexpat
    # into the core, we build it as a shared module: declare it a core module as 3.12 does upstream.
    pyexpat = source / "Modules" / "pyexpat.c"
    text = pyexpat.read_text()
    if '#include "pycore_' in text and "Py_BUILD_CORE_MODULE" not in text:
        pyexpat.write_text("#ifndef Py_BUILD_CORE_BUILTIN\n#  define Py_BUILD_CORE_MODULE 1\n#endif\n" + text)


@stage("cpython")
def build_cpython(log: Path) -> None:
    """CPython 3.11 for armv7 hard-float, statically linked against our zlib, libffi and sqlite."""
    tarball = sorted(DOWNLOADS.glob("python3.11_*.orig.tar.*"))[-1]
    source = SOURCES / "cpython"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    run(["tar", "xf", tarball, "-C", source, "--strip-components=1"], log)
    apply_python_security_patches(source, log)
    config_site = source / "config.site-kobo"
    config_site.write_text(CONFIG_SITE)
    env = cross_env()
    lib = DEPS / "lib"
    env.update(
        CONFIG_SITE=str(config_site),
        LIBFFI_CFLAGS=f"-I{DEPS / 'include'}",
        LIBFFI_LIBS=f"{lib / 'libffi.a'}",
        LIBSQLITE3_CFLAGS=f"-I{DEPS / 'include'}",
        LIBSQLITE3_LIBS=f"{lib / 'libsqlite3.a'} -lm -lpthread -ldl",
        ZLIB_CFLAGS=f"-I{DEPS / 'include'}",
        ZLIB_LIBS=f"{lib / 'libz.a'}",
    )
    build_python = shutil.which("python3.11") or sys.executable
    configure = [
        "./configure",
        f"--host={TARGET}",
        "--build=x86_64-linux-gnu",
        "--prefix=/python",
        f"--with-build-python={build_python}",
        "--without-ensurepip",
        "--disable-test-modules",
        "--with-system-ffi",
        "--without-static-libpython",
        "--with-lto=no",
    ]
    run(configure, log, cwd=source, env=env)
    run(["make", f"-j{JOBS}"], log, cwd=source, env=env)
    shutil.rmtree(PYTHON_INSTALL, ignore_errors=True)
    run(["make", "install", f"DESTDIR={PYTHON_INSTALL}"], log, cwd=source, env=env)


# --- stages: extensions for the target -------------------------------------------------------------

LUPA = "lupa==2.8"
COMPILED_REQUIREMENTS = [LUPA, "lxml==6.1.3", "dependency-injector==4.49.1"]
ARMHF_GCC = WORK / "armhf-gcc"  # Debian's libgcc-12-dev:armhf unpacked (libgcc.a, libgcc_eh.a)
TARGET_PYTHON = PYTHON_INSTALL / "python" / "bin" / "python3.11"
STRIP = "arm-linux-gnueabihf-strip"  # Debian binutils-arm-linux-gnueabihf


@stage("armhf-libgcc")
def fetch_armhf_libgcc(log: Path) -> None:
    """libgcc.a and libgcc_eh.a for armhf: LuaJIT unwinds through _Unwind_*, which zig does not ship."""
    debs = WORK / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for old in debs.glob("libgcc-12-dev_*_armhf.deb"):
        old.unlink()
    run(["apt-get", "download", "-qq", "libgcc-12-dev:armhf"], log, cwd=debs)
    shutil.rmtree(ARMHF_GCC, ignore_errors=True)
    run(["dpkg-deb", "-x", next(debs.glob("libgcc-12-dev_*_armhf.deb")), ARMHF_GCC], log)


def libgcc_archives() -> list[Path]:
    found = sorted(ARMHF_GCC.glob("usr/lib/gcc/arm-linux-gnueabihf/*/libgcc_eh.a"))
    if not found:
        raise BuildError(f"libgcc_eh.a not found under {ARMHF_GCC}: run the 'armhf-libgcc' stage")
    return [found[-1], found[-1].with_name("libgcc.a")]


@stage("crossenv")
def make_crossenv(log: Path) -> None:
    """A crossenv: a host Python that builds wheels as if it were the ARM CPython we just built."""
    shutil.rmtree(CROSSENV, ignore_errors=True)
    run([HOSTENV / "bin" / "python", "-m", "crossenv", TARGET_PYTHON, CROSSENV], log, env=cross_env())
    build_pip = CROSSENV / "bin" / "build-pip"
    run([build_pip, "install", "--quiet", "setuptools>=77", "wheel", "Cython>=3.1"], log, env=cross_env())


def sdist(requirement: str, log: Path) -> Path:
    """Download one sdist (cached in build/kobo/sdists) and return its path."""
    folder = WORK / "sdists"
    name, _, version = requirement.partition("==")
    stem = f"{name.replace('-', '_')}-{version}"
    cached = [p for p in folder.glob("*.tar.gz") if p.name.lower().startswith(stem.lower())]
    if not cached:
        pip = HOSTENV / "bin" / "pip"
        run([pip, "download", "--no-deps", "--no-binary", name, "-d", folder, requirement], log)
        cached = [p for p in folder.glob("*.tar.gz") if p.name.lower().startswith(stem.lower())]
    return cached[0]


def cross_wheel(source: Path, log: Path, env: dict[str, str]) -> None:
    """Build a wheel for the target from an unpacked sdist with crossenv's pip."""
    cross_pip = CROSSENV / "bin" / "cross-pip"
    run([cross_pip, "wheel", "--no-deps", "--no-build-isolation", "-w", WHEELS, source], log, env=env)


@stage("luajit")
def build_lupa_with_luajit(log: Path) -> None:
    """lupa with lupa.luajit21 for ARM: LuaJIT cross-built by hand, then lupa's setup.py told to use it."""
    archive = sdist(LUPA, log)
    source = SOURCES / "lupa"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    run(["tar", "xf", archive, "-C", source, "--strip-components=1"], log)
    luajit = source / "third-party" / "luajit21" / "src"
    # The sdist ships objects and a host buildvm built for x86-64: start clean.
    run(["make", "clean"], log, cwd=luajit)
    env = cross_env()
    make_vars = [
        f"HOST_CC={TOOLCHAIN / 'host32-cc'}",  # a 32-bit host for a 32-bit target (LuaJIT's rule)
        f"CROSS={TOOLCHAIN / TARGET}-",
        "CC=cc",
        "TARGET_SYS=Linux",
        "TARGET_CFLAGS=-fPIC -O2",
        "BUILDMODE=static",
        "Q=",
    ]
    run(["make", f"-j{JOBS}", *make_vars, "libluajit.a"], log, cwd=luajit, env=env)
    setup = source / "setup.py"
    text = setup.read_text()
    # lupa only bundles LuaJIT on x86-64/arm64 hosts and builds every Lua it carries. We want exactly
    # one: luajit21, already built above (its make call then finds libluajit.a up to date).
    edits = {
        "glob.glob(os.path.join(basedir, 'third-party', 'lua*' + os.sep))": (
            "glob.glob(os.path.join(basedir, 'third-party', 'luajit21' + os.sep))"
        ),
        'or (get_machine().lower() not in ("x86_64", "amd64", "aarch64", "arm64")': "or (False",
        "'extra_objects': [os.path.join(src_dir, lib_file)],": (
            "'extra_objects': [os.path.join(src_dir, lib_file)] + "
            + repr([str(p) for p in libgcc_archives()])
            + ","
        ),
    }
    for old, new in edits.items():
        if old not in text:
            raise BuildError(f"lupa's setup.py changed: cannot find {old!r} in {setup}")
        text = text.replace(old, new)
    setup.write_text(text)
    cross_wheel(source, log, env)


@stage("wheels")
def build_other_wheels(log: Path) -> None:
    """lxml (linked statically with our libxml2/libxslt) and dependency-injector, for the target."""
    env = cross_env()
    env["XML2_CONFIG"] = str(DEPS / "bin" / "xml2-config")
    env["XSLT_CONFIG"] = str(DEPS / "bin" / "xslt-config")
    for requirement in COMPILED_REQUIREMENTS[1:]:
        archive = sdist(requirement, log)
        name = requirement.partition("==")[0]
        source = SOURCES / name
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir(parents=True)
        run(["tar", "xf", archive, "-C", source, "--strip-components=1"], log)
        cross_wheel(source, log, env)


@stage("pure-deps")
def fetch_pure_dependencies(log: Path) -> None:
    """Every other runtime dependency, resolved by pip for armv7 (pure wheels, or manylinux2014)."""
    target = WORK / "site-deps"
    shutil.rmtree(target, ignore_errors=True)
    compiled = {r.partition("==")[0].lower() for r in COMPILED_REQUIREMENTS}
    wanted = [r for r in runtime_requirements() if requirement_name(r) not in compiled]
    run([HOSTENV / "bin" / "pip", "install", "--quiet", "--target", target, *TARGET_PIP_FLAGS, *wanted], log)


TARGET_PIP_FLAGS = [
    "--platform=manylinux2014_armv7l",
    "--platform=linux_armv7l",
    "--python-version=3.11",
    "--implementation=cp",
    "--abi=cp311",
    "--only-binary=:all:",
]


def requirement_name(requirement: str) -> str:
    for stop in "<>=!~[; ":
        requirement = requirement.split(stop)[0]
    return requirement.lower()


def runtime_requirements() -> list[str]:
    """kksync's own dependencies, as pyproject.toml states them (one source of truth)."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


QEMU_SYSROOT = WORK / "qemu-sysroot"
SYSROOT_PACKAGES = ["libc6:armhf", "libgcc-s1:armhf"]


@stage("qemu-sysroot")
def build_qemu_sysroot(log: Path) -> None:
    """Debian armhf libc for ``qemu-arm-static -L``: the loader and libc the bundle's ELF files need.

    Only for ``make test-kobo``; the .debs are unpacked into build/kobo, nothing armhf is installed.
    """
    debs = WORK / "debs" / "sysroot"
    shutil.rmtree(debs, ignore_errors=True)
    debs.mkdir(parents=True)
    run(["apt-get", "download", "-qq", *SYSROOT_PACKAGES], log, cwd=debs)
    shutil.rmtree(QEMU_SYSROOT, ignore_errors=True)
    for deb in sorted(debs.glob("*.deb")):
        run(["dpkg-deb", "-x", deb, QEMU_SYSROOT], log)


STAGES: dict[str, Callable[[], None]] = {
    "toolchain": build_toolchain,
    "sources": fetch_sources,
    "zlib": build_zlib,
    "libffi": build_libffi,
    "sqlite3": build_sqlite,
    "libxml2": build_libxml2,
    "libxslt": build_libxslt,
    "cpython": build_cpython,
    "armhf-libgcc": fetch_armhf_libgcc,
    "crossenv": make_crossenv,
    "luajit": build_lupa_with_luajit,
    "wheels": build_other_wheels,
    "pure-deps": fetch_pure_dependencies,
    "qemu-sysroot": build_qemu_sysroot,
}
BUNDLE_STAGES = [name for name in STAGES if name != "qemu-sysroot"]


def main(argv: list[str] | None = None) -> int:
    """Run every stage not yet done (or only those named), then say how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="*", help=f"only these stages ({', '.join(STAGES)})")
    parser.add_argument("--redo", action="store_true", help="forget the named stages' stamps first")
    options = parser.parse_args(argv)
    chosen = options.stages or BUNDLE_STAGES
    unknown = [s for s in chosen if s not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s): {', '.join(unknown)}")
    started = time.monotonic()
    try:
        for name in chosen:
            if options.redo:
                (STAMPS / name).unlink(missing_ok=True)
            STAGES[name]()
    except BuildError as error:
        print(f"[kobo-bundle] FAILED: {error}", file=sys.stderr)
        return 1
    if not options.stages:  # a full build ends with the zip; single stages are for debugging
        from tools.kobo_bundle.assemble import main as assemble

        if assemble() != 0:
            return 1
    print(f"[kobo-bundle] finished in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
