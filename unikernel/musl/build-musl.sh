#!/usr/bin/env bash
# Builds Kumo's musl: Debian's musl source package with its syscall primitive
# replaced by a call into the unikernel runtime (overlay/). Installs into $2.
# Usage: build-musl.sh CACHE_DIR PREFIX
set -euo pipefail
cache=$1 prefix=$2
here=$(cd "$(dirname "$0")" && pwd)
src_root="$cache/musl-source"

fail() { echo "kumo: cannot build Kumo's musl: $*" >&2; exit 1; }

# One build at a time per cache, across checkouts and processes; whoever
# waited finds the work done.
mkdir -p "$cache"
exec 9>"$cache/.musl.lock"
flock 9
[ -f "$prefix/lib/libc.a" ] && exit 0

if ! ls -d "$src_root"/musl-*/ >/dev/null 2>&1; then
  command -v apt-get >/dev/null || fail "apt-get is missing; fetch Debian's musl source by hand into $src_root"
  command -v dpkg-source >/dev/null || fail "dpkg-source is missing: apt-get install -y dpkg-dev"
  mkdir -p "$src_root.tmp"
  echo "kumo: fetching Debian's musl source (apt-get source musl)" >&2
  (cd "$src_root.tmp" && apt-get source -q musl >"$cache/apt-source.log" 2>&1) || {
    tail -n 5 "$cache/apt-source.log" >&2
    rm -rf "$src_root.tmp"
    fail "'apt-get source musl' failed. Add a deb-src entry (run scripts/setup.sh as root) and run apt-get update"
  }
  rm -rf "$src_root"; mv "$src_root.tmp" "$src_root"
fi
src=$(ls -d "$src_root"/musl-*/ | head -n 1)
work=$(mktemp -d "$cache/musl-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -a "$src/." "$work/"
cp -a "$here/overlay/." "$work/"
cd "$work"
echo "kumo: building musl from $(basename "$src") (once, cached in $prefix)" >&2
./configure --prefix="$prefix.tmp" --disable-shared \
  CC="${CC:-cc}" CFLAGS="-fno-stack-protector" >"$work/configure.log" 2>&1 || { tail -n 20 "$work/configure.log" >&2; fail "configure failed"; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -n 20 "$work/make.log" >&2; fail "make failed"; }
rm -rf "$prefix.tmp"
make install >/dev/null
if objdump -d "$prefix.tmp/lib/libc.a" | grep -qE $'\tsyscall|\tsysenter'; then
  fail "a syscall instruction survived the overlay; see objdump -d $prefix.tmp/lib/libc.a"
fi
rm -rf "$prefix"; mv "$prefix.tmp" "$prefix"
