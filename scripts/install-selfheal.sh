#!/usr/bin/env bash
# Installs selfheal into DEST/bin for the composite action (action.yml), in seconds when
# a release has a binary for this machine:
#
#   1. the action's ref names a release: `vX.Y.Z`, or a commit SHA that a release was
#      built from (the release's COMMIT file says which; the version is Cargo.toml's);
#   2. the release's SHA256SUMS lists `selfheal-<target>` for this machine's target;
#   3. the asset downloads and its SHA-256 matches: it is installed and run once.
#
# A mismatching checksum is refused (exit 3), never installed and never "fixed" by a
# compile: someone or something altered the release. Anything else missing (a branch ref,
# an unknown platform, no asset for this target, no network) falls back to
# `cargo install --locked` from the action's own source (SOURCE), which the action caches.
#
# usage: install-selfheal.sh --dest DIR --source DIR [--ref REF] [--release-url URL]
#        install-selfheal.sh --cache-key --source DIR [--ref REF]
# env:   SELFHEAL_RELEASE_URL (default https://github.com/selfheal/selfheal/releases/download),
#        SELFHEAL_TARGET (override the detected target), CARGO (default cargo),
#        GITHUB_OUTPUT (when set, `method=` and `bin=` are appended to it).
# stdout: `method=download` or `method=compile`, then `bin=DIR`. Exit: 0 installed,
#         1 error (message on stderr), 2 usage, 3 checksum mismatch.
set -euo pipefail

RELEASE_URL="${SELFHEAL_RELEASE_URL:-https://github.com/selfheal/selfheal/releases/download}"
DEST="" SOURCE="" REF="" MODE=install

log() { printf 'install-selfheal: %s\n' "$*" >&2; }
die() { log "$1"; exit "${2:-1}"; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dest) DEST="${2:?--dest needs a directory}"; shift 2 ;;
      --source) SOURCE="${2:?--source needs a directory}"; shift 2 ;;
      --ref) REF="${2-}"; shift 2 ;;
      --release-url) RELEASE_URL="${2:?--release-url needs a URL}"; shift 2 ;;
      --cache-key) MODE=cache-key; shift ;;
      -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
      *) die "unknown argument: $1 (see --help)" 2 ;;
    esac
  done
  [ -n "$SOURCE" ] || die "--source is required: the directory holding selfheal's Cargo.toml" 2
  [ -f "$SOURCE/Cargo.toml" ] || die "no Cargo.toml in $SOURCE (hint: pass the action's path, \$GITHUB_ACTION_PATH)" 2
  if [ "$MODE" = install ] && [ -z "$DEST" ]; then die "--dest is required" 2; fi
  # github.action_ref can be empty in composite actions (actions/runner#2473); the
  # runner keeps the action under _actions/OWNER/NAME/REF, which names it too.
  if [ -z "$REF" ] && [[ "$SOURCE" == */_actions/*/*/* ]]; then REF="$(basename "$SOURCE")"; fi
}

# The Rust target triple of the release asset for this machine, or nothing.
target() {
  if [ -n "${SELFHEAL_TARGET:-}" ]; then echo "$SELFHEAL_TARGET"; return; fi
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64|Linux/amd64) echo x86_64-unknown-linux-musl ;;
    Linux/aarch64|Linux/arm64) echo aarch64-unknown-linux-musl ;;
    Darwin/arm64|Darwin/aarch64) echo aarch64-apple-darwin ;;
    *) echo "" ;;
  esac
}

crate_version() {
  sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$SOURCE/Cargo.toml" | head -n1
}

# The release tag to download from, or nothing when the ref names no release.
release_tag() {
  if [[ "$REF" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
    echo "$REF"
  elif [[ "$REF" =~ ^[0-9a-f]{40}$ ]]; then
    echo "v$(crate_version)"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

fetch() { # URL FILE: 0 when downloaded, 1 when missing or unreachable
  curl -fsSL --retry 2 --connect-timeout 10 -o "$2" "$1" 2>/dev/null
}

# The key the action caches DEST under: target, ref and a hash of the sources compiled.
cache_key() {
  local sum paths=() p
  for p in Cargo.toml Cargo.lock src prompts; do [ -e "$SOURCE/$p" ] && paths+=("$p"); done
  sum="$(cd "$SOURCE" && find "${paths[@]}" -type f | LC_ALL=C sort \
    | while read -r f; do printf '%s %s\n' "$f" "$(sha256_of "$f")"; done | sha256sum | cut -c1-16)"
  echo "selfheal-$(target)-${REF:-noref}-$sum" | tr -c 'A-Za-z0-9._\n-' '_'
}

# Tries the release; returns 0 when installed, 1 to fall back, exits 3 on a bad checksum.
download() {
  local tag asset tmp want got triple
  triple="$(target)"
  tag="$(release_tag)"
  if [ -z "$triple" ]; then log "no release binary for $(uname -s)/$(uname -m)"; return 1; fi
  if [ -z "$tag" ]; then log "ref '${REF:-}' names no release (a branch?)"; return 1; fi
  asset="selfheal-$triple"
  tmp="$TMPD"
  if ! fetch "$RELEASE_URL/$tag/SHA256SUMS" "$tmp/SHA256SUMS"; then
    log "release $tag has no SHA256SUMS at $RELEASE_URL/$tag"; return 1
  fi
  if [[ "$REF" =~ ^[0-9a-f]{40}$ ]]; then
    if ! fetch "$RELEASE_URL/$tag/COMMIT" "$tmp/COMMIT" || [ "$(tr -d ' \n' <"$tmp/COMMIT")" != "$REF" ]; then
      log "release $tag was not built from $REF"; return 1
    fi
  fi
  want="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$tmp/SHA256SUMS" | head -n1)"
  if [ -z "$want" ]; then log "release $tag has no $asset"; return 1; fi
  if ! fetch "$RELEASE_URL/$tag/$asset" "$tmp/$asset"; then
    log "release $tag lists $asset but it does not download"; return 1
  fi
  got="$(sha256_of "$tmp/$asset")"
  if [ "$got" != "$want" ]; then
    die "checksum mismatch for $asset of $tag: SHA256SUMS says $want, the download is $got; refusing to install it (hint: re-run the job; if it persists, report it: the release was altered)" 3
  fi
  mkdir -p "$DEST/bin"
  install -m 0755 "$tmp/$asset" "$DEST/bin/selfheal"
  if ! "$DEST/bin/selfheal" --version >&2; then
    rm -f "$DEST/bin/selfheal"; log "$asset does not run on this machine"; return 1
  fi
  log "installed $asset from $tag (sha256 $got)"
}

compile() {
  log "compiling selfheal from $SOURCE with cargo install --locked (once per version; the action caches it)"
  "${CARGO:-cargo}" install --locked --path "$SOURCE" --root "$DEST" \
    || die "cargo install failed (hint: the runner needs a Rust toolchain: add dtolnay/rust-toolchain before this action)"
}

main() {
  parse_args "$@"
  if [ "$MODE" = cache-key ]; then cache_key; return; fi
  TMPD="$(mktemp -d)"
  trap 'rm -rf "$TMPD"' EXIT
  local method=download
  if ! download; then method=compile; compile; fi
  printf 'method=%s\nbin=%s\n' "$method" "$DEST/bin"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then printf 'method=%s\nbin=%s\n' "$method" "$DEST/bin" >>"$GITHUB_OUTPUT"; fi
}

main "$@"
