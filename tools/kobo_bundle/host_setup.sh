#!/bin/sh
# Install, once, the Debian packages the Kobo bundle build and its emulated test need.
#
# Why each one:
#   deb-src line          `apt-get source` fetches the C sources we cross-compile (python3.11, zlib,
#                         libffi, sqlite3, libxml2, libxslt): Debian's archive is reachable where
#                         upstream release servers may not be.
#   armhf architecture    lets `apt-get download` fetch armhf .deb files (libgcc-12-dev:armhf for
#                         LuaJIT's libgcc.a, libc6:armhf & co. for the qemu sysroot). Nothing armhf is
#                         installed into the system: the .debs are only unpacked into build/kobo/.
#   dpkg-dev              `apt-get source` needs dpkg-source to unpack the source packages.
#   qemu-user-static      runs the ARM bundle on this x86-64 machine (make test-kobo).
#   binutils-arm-linux-gnueabihf   arm-linux-gnueabihf-strip, to strip the ARM binaries.
#   autoconf automake libtool pkg-config   Debian's patches to libxml2/libxslt touch their
#                         Makefile.am/configure.ac, so their build system is regenerated (as Debian does).
#   tcl                   SQLite's build generates its amalgamation (sqlite3.c) with tclsh.
#   python3-venv          the build's own venv (ziglang, crossenv) on a Debian python3.
#
# Run as root (or through sudo). Safe to run again: every step is idempotent.
set -eu

if [ "$(id -u)" -ne 0 ]; then
    exec sudo "$0" "$@"
fi

SRC_LIST=/etc/apt/sources.list.d/kksync-deb-src.sources
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    cat > "$SRC_LIST" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    need_update=1
fi

if ! dpkg --print-foreign-architectures | grep -qx armhf; then
    dpkg --add-architecture armhf
    need_update=1
fi

# No source index yet (a fresh machine, or deb-src added by hand without an update): fetch them.
if ! ls /var/lib/apt/lists/*_Sources* >/dev/null 2>&1; then
    need_update=1
fi
if [ "${need_update:-0}" = 1 ]; then
    apt-get update -qq
fi

missing=""
for pkg in dpkg-dev qemu-user-static binutils-arm-linux-gnueabihf autoconf automake libtool pkg-config \
           tcl python3-venv xz-utils make patch; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
