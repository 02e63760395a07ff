#!/usr/bin/env bash
# The recipe of selfheal's sandbox base image, embedded in the binary and run by
# `selfheal sandbox build` (which then imports the result into the engine).
#
# Makes a minbase Debian root filesystem in the directory given as $1 with debootstrap,
# from Debian's packages only (no registry pull): a non-root `selfheal` user (uid 1000)
# owning /workspace, and an apt setup that keeps language layers lean. Needs root and
# debootstrap (installed with apt-get when missing).
# Env: SELFHEAL_DEBIAN_MIRROR, SELFHEAL_DEBIAN_SECURITY_MIRROR, SELFHEAL_SUITE.
set -euo pipefail

ROOT="$1"
MIRROR="${SELFHEAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SELFHEAL_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE="${SELFHEAL_SUITE:-bookworm}"

log() { printf '%s\n' "$*" >&2; }

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap with apt-get"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi

log "debootstrap --variant=minbase $SUITE from $MIRROR"
debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$ROOT" "$MIRROR" >&2

cat >"$ROOT/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
SOURCES
cat >"$ROOT/etc/apt/apt.conf.d/90selfheal" <<'APT'
APT::Install-Recommends "0";
APT::Install-Suggests "0";
Acquire::Languages "none";
APT
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/90selfheal-nodoc" <<'DPKG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
chroot "$ROOT" useradd --create-home --uid 1000 --user-group --shell /bin/sh selfheal
install -d -o 1000 -g 1000 -m 0755 "$ROOT/workspace"
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/var/log/*.log
log "root filesystem ready"
