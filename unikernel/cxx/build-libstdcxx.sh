#!/usr/bin/env bash
# Builds the C++ standard library for Kumo's guests: libstdc++ from Debian's gcc-12-source,
# configured for Kumo's musl (generic locale, POSIX threads over the runtime's), with the
# host's g++. Only libstdc++-v3 and what its build reads are unpacked. Installs into $2.
# Usage: build-libstdcxx.sh CACHE_DIR PREFIX MUSL_PREFIX RUNTIME_LIB
set -euo pipefail
cache=$1 prefix=$2 musl=$3 runtime=$4

fail() { echo "kumo: cannot build the C++ library for guests: $*" >&2; exit 1; }

# One build at a time per cache; whoever waited finds the work done.
mkdir -p "$cache"
exec 9>"$cache/.libstdcxx.lock"
flock 9
[ -f "$prefix/lib/libstdc++.a" ] && exit 0

tarball=$(ls /usr/src/gcc-12/gcc-12*.tar.xz 2>/dev/null | head -n 1 || true)
[ -n "$tarball" ] || fail "GCC's source is missing: apt-get install -y gcc-12-source (scripts/setup.sh installs it)"
command -v g++ >/dev/null || fail "g++ is missing: apt-get install -y g++"
gccinclude=$(gcc -print-file-name=include)
libgcc=$(gcc -print-libgcc-file-name)
work=$(mktemp -d "$cache/libstdcxx-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "kumo: building libstdc++ for guests from $(basename "$tarball") (once, cached in $prefix; a few minutes)" >&2
top=$(basename "$tarball" .tar.xz)
top=${top%-dfsg}  # the directory the tarball unpacks into, e.g. gcc-12.2.0
tar -xJf "$tarball" --exclude='*/testsuite/*' --wildcards \
  "$top/libstdc++-v3/*" "$top/libgcc/*" "$top/include/*" "$top/config/*" "$top/libiberty/cp-demangle.*" \
  "$top/config.sub" "$top/config.guess" "$top/install-sh" "$top/ltmain.sh" "$top/missing" "$top/config-ml.in" \
  "$top/mkinstalldirs" "$top/move-if-change" "$top/libtool.m4" "$top/ltoptions.m4" "$top/ltsugar.m4" \
  "$top/ltversion.m4" "$top/lt~obsolete.m4" "$top/gcc/BASE-VER" "$top/gcc/DATESTAMP" "$top/gcc/DEV-PHASE" \
  "$top/compile" "$top/depcomp" "$top/multilib.am" "$top/libtool-ldflags" \
  || fail "cannot unpack $tarball"
# The testsuite is left out; configure still writes its Makefile, which has nothing to do.
printf 'all install check clean distclean:\n' > "$top/libstdc++-v3/testsuite/Makefile.in"
# A full GCC build makes libgcc's gthr-default.h from the target's thread model: POSIX here.
mkdir -p libgcc build
cp "$top/libgcc/gthr-posix.h" libgcc/gthr-default.h
cd build
# Configure links its probes against musl and the runtime (they are never run).
CC="gcc -nostdinc -isystem $musl/include -isystem $gccinclude -fno-pie -no-pie" \
CXX="g++ -nostdinc -nostdinc++ -isystem $musl/include -isystem $gccinclude -fno-pie -no-pie" \
LDFLAGS="-static -nostdlib -L$musl/lib $musl/lib/crt1.o $musl/lib/crti.o" \
LIBS="-Wl,--start-group -lc $runtime $libgcc -Wl,--end-group $musl/lib/crtn.o" \
CFLAGS="-O2 -g" CXXFLAGS="-O2 -g" \
  "../$top/libstdc++-v3/configure" --host=x86_64-linux-musl --build=x86_64-linux-gnu --prefix="$prefix.tmp" \
  --disable-shared --enable-static --disable-multilib --disable-nls --disable-libstdcxx-pch \
  --enable-clocale=generic --enable-libstdcxx-threads >configure.log 2>&1 || { tail -n 20 configure.log >&2; fail "configure failed"; }
grep -q '^#define _GLIBCXX_HAS_GTHREADS 1' config.h || fail "configure found no threads (see $work/build/config.log)"
make -j"$(nproc)" >make.log 2>&1 || { grep -m 5 -B 2 'error' make.log >&2; fail "make failed"; }
rm -rf "$prefix.tmp"
make install >/dev/null 2>&1 || fail "make install failed"
rm -rf "$prefix"; mv "$prefix.tmp" "$prefix"
