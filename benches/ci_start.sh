#!/usr/bin/env bash
# How long a CI job waits before selfheal's first triage line, with the action's install
# step downloading the release binary (scripts/install-selfheal.sh against a local HTTP
# server serving a release layout: SHA256SUMS, COMMIT, selfheal-<target>) and then
# `selfheal offline <sample>/failure.zip --no-llm`, measured from before the install to
# the first line on stdout. Compare with a compile: pass a file holding `time` output of
# a clean `cargo build --release` / `cargo install --locked --path .` as $1 (its `real`
# line is read), or measure one with SELFHEAL_BENCH_COMPILE=1 (minutes; fresh target dir).
#
# usage: benches/ci_start.sh [COMPILE_TIME_FILE]   env: SELFHEAL_BENCH_BIN (the binary to
# publish; default target/release/selfheal, else target/debug/selfheal), SAMPLE (py-calc).
# Prints lines starting BENCH.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
bin="${SELFHEAL_BENCH_BIN:-}"
if [ -z "$bin" ]; then
  if [ -x target/release/selfheal ]; then bin=target/release/selfheal; else bin=target/debug/selfheal; fi
fi
[ -x "$bin" ] || { echo "no selfheal binary at $bin (build one first: cargo build --release)" >&2; exit 1; }
sample="sample_projects/${SAMPLE:-py-calc}/failure.zip"
work="$(mktemp -d)"
server=""
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null; fi; rm -rf "$work"; }
trap cleanup EXIT

target=x86_64-unknown-linux-musl
version="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)"
mkdir -p "$work/release/v$version"
cp "$bin" "$work/release/v$version/selfheal-$target"
(cd "$work/release/v$version" && sha256sum "selfheal-$target" > SHA256SUMS && echo 0000000000000000000000000000000000000000 > COMMIT)
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/release" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done

start=$(date +%s.%N)
SELFHEAL_TARGET=$target bash scripts/install-selfheal.sh --dest "$work/dest" --source "$root" \
  --ref "v$version" --release-url "http://127.0.0.1:$port" >"$work/install.out" 2>"$work/install.err"
installed=$(date +%s.%N)
first_line=$("$work/dest/bin/selfheal" offline "$sample" --no-llm --color never 2>&1 | head -n1)
triaged=$(date +%s.%N)
grep -q '^method=download$' "$work/install.out" || { cat "$work/install.err" >&2; exit 1; }
size=$(stat -c %s "$bin")
printf 'BENCH install (download %s MB + sha256 + --version): %.2f s\n' "$((size / 1000000))" "$(echo "$installed - $start" | bc)"
printf 'BENCH job start -> first triage line (download): %.2f s  [%s]\n' "$(echo "$triaged - $start" | bc)" "$first_line"

if [ -n "${1:-}" ]; then
  # bash `time` (real …) or GNU `time -v` (Elapsed (wall clock) time …: m:ss)
  real=$(grep -E '^real|Elapsed \(wall clock\)' "$1" | tail -n1 | awk '{print $NF}')
  echo "BENCH compile instead (from $1): ${real:-no time in $1}"
elif [ "${SELFHEAL_BENCH_COMPILE:-}" = 1 ]; then
  compile_start=$(date +%s.%N)
  CARGO_TARGET_DIR="$work/target" cargo install --locked --path . --root "$work/compiled" >/dev/null 2>&1
  printf 'BENCH compile instead (cargo install --locked, fresh target dir): %.0f s\n' "$(echo "$(date +%s.%N) - $compile_start" | bc)"
fi
