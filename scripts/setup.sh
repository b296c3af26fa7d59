#!/usr/bin/env bash
# Installs what Kumo needs from Debian's packages and enables Debian source
# packages (Kumo's musl is built from `apt-get source musl`). Idempotent; run as root.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

# deb-src entries mirroring the deb entries already configured.
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      > /etc/apt/sources.list.d/kumo-deb-src.sources
  elif [ -f /etc/apt/sources.list ]; then
    grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/kumo-deb-src.list
  else
    echo "setup.sh: no apt sources found to mirror as deb-src; add one by hand" >&2
    exit 1
  fi
fi

apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  build-essential binutils make libfdt-dev dpkg-dev \
  opencl-headers ocl-icd-opencl-dev pocl-opencl-icd libxml2 libxml2-dev \
  libsqlite3-dev libseccomp-dev libvirt-dev curl python3 etcd-server \
  g++ gcc-12-source opencl-clhpp-headers

if [ ! -e /dev/kvm ]; then
  echo "setup.sh: warning: /dev/kvm is missing; kumo run and the boot tests need KVM" >&2
fi
