#!/usr/bin/env bash
# Log-reader benchmark (not a test): builds in release, generates run-log ZIPs of ~10 MB,
# ~200 MB and 1 GB-stored-twice in a temp dir, triages each once and reports wall time,
# MB/s of uncompressed archive, peak RSS, and the plain-inflate floor.
#
#   benches/triage_bench.sh [SIZES_MB...]      default: 10 200 1024 2048L
# A size ending in L is one line of that size (bounded memory for a 2 GB line).
#
# Drives `selfheal offline PATH --no-llm --json` when the binary supports it, else the
# `triage_once` example (same library call). Needs /usr/bin/time (apt-get install -y time).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 200 1024 2048L)

cargo build --release --quiet --bin selfheal --example gen_big_log --example inflate_floor --example triage_once
bin="$CARGO_TARGET_DIR/release"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# peak RSS in kB: /usr/bin/time -v when present, else VmHWM polled from /proc
run_measured() {
  local out="$1"; shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$tmp/time.txt" "$@" >"$out" 2>"$tmp/err.txt" || { cat "$tmp/err.txt" >&2; return 1; }
    awk -F': ' '/Maximum resident set size/ {rss=$2} /User time/ {u=$2} /System time/ {s=$2} END {print rss, u + s}' "$tmp/time.txt"
  else
    "$@" >"$out" 2>"$tmp/err.txt" & local pid=$! peak=0 hwm
    while kill -0 "$pid" 2>/dev/null; do
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ "${hwm:-0}" -gt "$peak" ] && peak=$hwm
      sleep 0.02
    done
    wait "$pid"
    echo "$peak ?"
  fi
}

driver() {
  if "$bin/selfheal" offline --help 2>/dev/null | grep -q -- '--no-llm'; then
    echo "selfheal offline --no-llm --json"
  else
    echo "example triage_once"
  fi
}
how="$(driver)"
echo "driver: $how; cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "MB/s = uncompressed archive bytes / wall time; cpu_s = user+sys; floor = raw inflate of every entry, MB/s of inflated bytes"
printf '%-8s %12s %7s %8s %8s %8s %8s %11s\n' size uncompressed zip_MB wall_s cpu_s MB/s peak_MB floor_MB/s
for mb in "${sizes[@]}"; do
  zip="$tmp/run-$mb.zip"
  if [[ "$mb" == *L ]]; then
    "$bin/examples/gen_big_log" "$zip" "${mb%L}" --one-line 2>"$tmp/gen.txt"
  else
    "$bin/examples/gen_big_log" "$zip" "$mb" 2>"$tmp/gen.txt"
  fi
  uncompressed=$(python3 -c "import zipfile,sys; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))" "$zip")
  zip_mb=$(( $(stat -c %s "$zip") / 1000000 ))
  start=$(date +%s.%N)
  if [ "$how" = "example triage_once" ]; then
    read -r peak cpu < <(run_measured "$tmp/out.json" "$bin/examples/triage_once" "$zip")
  else
    read -r peak cpu < <(run_measured "$tmp/out.json" "$bin/selfheal" offline "$zip" --no-llm --json)
  fi
  end=$(date +%s.%N)
  wall=$(python3 -c "print(f'{$end - $start:.3f}')")
  rate=$(python3 -c "print(f'{$uncompressed / 1e6 / ($end - $start):.0f}')")
  floor=$("$bin/examples/inflate_floor" "$zip" | awk '/raw flate2/ {print $(NF-1)}')
  printf '%-8s %12s %7s %8s %8s %8s %8s %11s\n' "${mb}MB" "$uncompressed" "$zip_mb" "$wall" "$cpu" "$rate" "$((peak / 1024))" "$floor"
  grep -qE 'exit code 1|test_cart.py' "$tmp/out.json" || { echo "the failure at the end was not found:" >&2; head -c 2000 "$tmp/out.json" >&2; }
  rm -f "$zip"
done
