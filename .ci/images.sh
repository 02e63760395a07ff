#!/usr/bin/env bash
# Builds selfheal's sandbox base image from Debian packages, with no registry pull.
#
# The base is a minbase Debian root filesystem made with debootstrap and loaded with
# `docker import`. It carries a non-root `selfheal` user (uid 1000) and an apt setup that
# keeps layers lean. Language layers (python, rust, go, node, java) are built FROM it by
# selfheal itself (`sandbox::images::ensure_default`) through the Docker build API.
#
# Idempotent: the image is tagged `selfheal-base:<recipe hash>` and skipped when that tag
# exists; `selfheal-base:latest` always points at it. Needs root, debootstrap and a running
# Docker engine. Usage: .ci/images.sh   (env: SELFHEAL_DEBIAN_MIRROR, SELFHEAL_SUITE)
set -euo pipefail

MIRROR="${SELFHEAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SELFHEAL_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE="${SELFHEAL_SUITE:-bookworm}"
INCLUDE="ca-certificates"
RECIPE_VERSION=2

log() { printf 'images.sh: %s\n' "$*" >&2; }

need_tools() {
  if ! docker info >/dev/null 2>&1; then
    log "Docker engine not reachable (hint: start it with 'systemctl start docker' or 'dockerd')"
    exit 1
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
  fi
}

# The tag changes whenever anything that shapes the root filesystem changes.
recipe_hash() {
  { echo "$RECIPE_VERSION $MIRROR $SECURITY_MIRROR $SUITE $INCLUDE"; sed -n "/^configure_rootfs()/,/^}/p;/^build_base()/,/^}/p" "$0"; } \
    | sha256sum | cut -c1-12
}

configure_rootfs() {
  local root="$1"
  cat >"$root/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
SOURCES
  cat >"$root/etc/apt/apt.conf.d/90selfheal" <<'APT'
APT::Install-Recommends "0";
APT::Install-Suggests "0";
Acquire::Languages "none";
APT
  cat >"$root/etc/dpkg/dpkg.cfg.d/90selfheal-nodoc" <<'DPKG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
  chroot "$root" useradd --create-home --uid 1000 --user-group --shell /bin/sh selfheal
  install -d -o 1000 -g 1000 -m 0755 "$root/workspace"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
}

build_base() {
  local tag="$1" root
  root="$(mktemp -d /tmp/selfheal-rootfs.XXXXXX)"
  trap 'rm -rf "$root"' EXIT
  log "debootstrap --variant=minbase $SUITE into $root"
  debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$MIRROR" >/tmp/selfheal-debootstrap.log 2>&1 \
    || { tail -20 /tmp/selfheal-debootstrap.log >&2; exit 1; }
  configure_rootfs "$root"
  log "docker import as $tag"
  tar -C "$root" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    --change 'CMD ["/bin/sh"]' \
    --change 'WORKDIR /workspace' \
    --change 'USER selfheal' \
    --change 'LABEL selfheal.base=1' \
    --message "selfheal base: debootstrap minbase $SUITE" - "$tag" >/dev/null
  rm -rf "$root"
  trap - EXIT
}

main() {
  need_tools
  local tag="selfheal-base:$(recipe_hash)" start=$SECONDS
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag exists, skipping"
  else
    build_base "$tag"
    log "built $tag in $((SECONDS - start)) s"
  fi
  docker tag "$tag" selfheal-base:latest
  echo "$tag"
}

main "$@"
